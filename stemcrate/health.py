"""GET /healthz: database, broker and live workers per queue, for load balancers and `make run`."""

import time

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jobs.heartbeat import live_workers, workers_by_queue


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ok"; the reason is reported, not raised
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> tuple[dict, list]:
    started = time.monotonic()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        workers = live_workers()
    except redis.RedisError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, []
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}, workers


@login_not_required
@never_cache
@require_GET
def healthz(request):
    database = _check_database()
    broker, workers = _check_broker()
    queues = {}
    for queue, queue_workers in workers_by_queue(workers).items():
        queues[queue] = {
            "ok": bool(queue_workers),
            "workers": len(queue_workers),
            "devices": sorted({w.get("device", "cpu") for w in queue_workers}),
        }
    required = [q for q in settings.HEALTHZ_REQUIRED_QUEUES if q]
    for queue in required:
        queues.setdefault(queue, {"ok": False, "workers": 0, "devices": []})
    healthy = database["ok"] and broker["ok"] and all(queues[q]["ok"] for q in required)
    body = {"status": "ok" if healthy else "unhealthy", "database": database, "broker": broker, "queues": queues}
    return JsonResponse(body, status=200 if healthy else 503)
