from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stemcrate.services import ensure_redis


class Command(BaseCommand):
    help = "Check that Redis (REDIS_URL) answers; start a local redis-server if it does not."

    def handle(self, *args, **options):
        try:
            state = ensure_redis(settings.REDIS_URL, settings.VAR_DIR / "redis")
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Redis {state} at {settings.REDIS_URL}")
