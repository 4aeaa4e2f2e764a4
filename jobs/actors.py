"""Diagnostic actors: a ping through each queue (`manage.py queue_ping`). The job actors come from the registry.

rundramatiq imports the `actors` module of each app (DRAMATIQ_AUTODISCOVER_MODULES); importing this one is also
what makes a worker set up Django, whose JobsConfig.ready() declares the job actors.
"""

import dramatiq
from django.db import transaction
from django.utils import timezone

from jobs.models import QueuePing
from jobs.services import worker_name

# Diagnostics need no retries: a lost ping is exactly what they are there to reveal.
PING_OPTIONS = {"max_retries": 0, "time_limit": 30_000}


@dramatiq.actor(queue_name="cpu", **PING_OPTIONS)
def ping_cpu(ping_id: str):
    do_handle_ping(ping_id)


@dramatiq.actor(queue_name="gpu", **PING_OPTIONS)
def ping_gpu(ping_id: str):
    do_handle_ping(ping_id)


PING_ACTORS = {"cpu": ping_cpu, "gpu": ping_gpu}


def do_send_ping(queue: str) -> QueuePing:
    if queue not in PING_ACTORS:
        raise ValueError(f"unknown queue {queue!r}; expected one of {sorted(PING_ACTORS)}")
    with transaction.atomic():
        ping = QueuePing.objects.create(queue=queue)
        transaction.on_commit(lambda: PING_ACTORS[queue].send(str(ping.pk)))
    return ping


def do_handle_ping(ping_id: str) -> None:
    # Idempotent: a redelivered message re-stamps nothing.
    QueuePing.objects.filter(pk=ping_id, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=worker_name()
    )
