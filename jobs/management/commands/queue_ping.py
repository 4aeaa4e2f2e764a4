import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.actors import do_send_ping
from jobs.models import QueuePing


class Command(BaseCommand):
    help = "Send a ping through each queue and wait for a worker to handle it (an end-to-end queue check)."

    def add_arguments(self, parser):
        parser.add_argument("queues", nargs="*", default=list(settings.QUEUES))
        parser.add_argument("--timeout", type=float, default=30.0, help="Seconds to wait for each queue.")

    def handle(self, *args, queues, timeout, **options):
        failed = []
        for queue in queues:
            try:
                ping = do_send_ping(queue)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            deadline = time.monotonic() + timeout
            started = time.monotonic()
            while time.monotonic() < deadline:
                ping = QueuePing.objects.get(pk=ping.pk)
                if ping.handled_at:
                    elapsed = (time.monotonic() - started) * 1000
                    self.stdout.write(f"{queue}: ok, handled by {ping.handled_by} in {elapsed:.0f} ms")
                    break
                time.sleep(0.1)
            else:
                failed.append(queue)
                self.stderr.write(f"{queue}: no worker handled the ping within {timeout:.0f} s")
        if failed:
            raise CommandError(f"queue(s) not consumed: {', '.join(failed)}. Is `manage.py rundramatiq` running?")
