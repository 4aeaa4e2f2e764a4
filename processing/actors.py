"""Dramatiq actors. Thin: load ids, call an engine or a service, store results."""

import dramatiq

from . import services

# Diagnostics need no retries: a lost ping is exactly what they are there to reveal.
PING_OPTIONS = {"max_retries": 0, "time_limit": 30_000}


@dramatiq.actor(queue_name="cpu", **PING_OPTIONS)
def ping_cpu(ping_id: str):
    services.do_handle_ping(ping_id)


@dramatiq.actor(queue_name="gpu", **PING_OPTIONS)
def ping_gpu(ping_id: str):
    services.do_handle_ping(ping_id)


PING_ACTORS = {"cpu": ping_cpu, "gpu": ping_gpu}
