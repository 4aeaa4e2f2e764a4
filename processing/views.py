import redis
from django.conf import settings
from django.shortcuts import render

from .heartbeat import live_workers, workers_by_queue


def _worker_status():
    try:
        workers = live_workers()
    except redis.RedisError as exc:
        return {"broker_error": f"The job broker (Redis) cannot be reached: {exc}", "queues": {}}
    return {"broker_error": None, "queues": workers_by_queue(workers)}


def jobs(request):
    context = {"jobs": [], "queue_names": settings.QUEUES, **_worker_status()}
    template = "processing/jobs.html#workers" if request.htmx else "processing/jobs.html"
    return render(request, template, context)
