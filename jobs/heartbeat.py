"""Worker heartbeats, so the web side knows which workers are alive and which queues they serve.

Each worker process writes a small record to Redis every WORKER_HEARTBEAT_INTERVAL seconds with a TTL of
WORKER_HEARTBEAT_TTL. A worker that dies (even by kill -9) stops refreshing its key and drops out of
live_workers() when the key expires; a clean shutdown deletes it at once.

The same thread runs the periodic sweep: running jobs whose worker died are re-queued, and queued jobs whose
message the broker lost (Redis keeps nothing on disk here) are sent again. A broker restart is noticed at once
by its `run_id` (kept in a key of our own, which a restart also empties); otherwise a queued job is checked
once it has waited JOB_REQUEUE_SECONDS.
"""

import importlib.metadata
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path

import redis
from django.conf import settings
from dramatiq.middleware import Middleware

from audio.weights import DeviceUnavailable, pick_device

logger = logging.getLogger(__name__)

KEY_PREFIX = "stemcrate:worker:"
TORCH_QUEUES = ("gpu",)  # the queue of the torch jobs (Demucs, Whisper); the others run on the CPU


def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _cuda_visible() -> bool:
    """Whether torch will find a GPU, guessed without importing it: the process may see NVIDIA devices and the
    installed torch is not a CPU-only build."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1"):
        return False
    try:
        if "+cpu" in importlib.metadata.version("torch"):
            return False
    except importlib.metadata.PackageNotFoundError:
        return False
    return any(Path("/dev").glob("nvidia[0-9]*"))


def torch_device() -> str:
    """The device this worker's Demucs and Whisper jobs run on: what weights.pick_device(STEMCRATE_DEVICE) picks.

    Importing torch costs seconds and memory, so a worker that has not loaded it yet (no such job so far) tells
    from the setting, and for "auto" from what the process can see; once loaded, torch itself is asked."""
    preference = (settings.STEMCRATE_DEVICE or "auto").strip().lower()
    if "torch" in sys.modules:
        try:
            return pick_device(preference)
        except (DeviceUnavailable, ValueError):
            return "unavailable"
    if preference != "auto":
        return preference
    return "cuda" if _cuda_visible() else "cpu"


class WorkerHeartbeat(Middleware):
    """Dramatiq middleware: a background thread in each worker process refreshes the heartbeat key."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = None
        self._key = None
        self._record = None

    def after_worker_boot(self, broker, worker):
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        queues = [q for q in queues if not q.endswith(".DQ") and not q.endswith(".XQ")]
        host = socket.gethostname()
        self._key = f"{KEY_PREFIX}{settings.DRAMATIQ_NAMESPACE}:{host}:{os.getpid()}"
        self._record = {
            "host": host,
            "pid": os.getpid(),
            "queues": queues,
            "threads": worker.worker_threads,
            "started_at": time.time(),
        }
        self._stop.clear()
        self._beat()
        self._thread = threading.Thread(target=self._run, name="stemcrate-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # a beat in flight must not re-create the key after it is deleted
        if self._key:
            try:
                redis_client().delete(self._key)
            except redis.RedisError:
                logger.warning("could not remove heartbeat %s on shutdown", self._key)

    def _run(self):
        last_sweep = 0.0
        while not self._stop.wait(settings.WORKER_HEARTBEAT_INTERVAL):
            self._beat()
            if time.monotonic() - last_sweep >= settings.JOB_SWEEP_INTERVAL:
                last_sweep = time.monotonic()
                self._sweep()

    def _sweep(self):
        """Every live worker also looks for jobs whose worker died. Conditional updates make this idempotent."""
        from django.db import close_old_connections

        # Not at the top: Dramatiq loads this middleware while Django is still loading its apps.
        from jobs.services import requeue_lost_jobs, sweep_stale_jobs

        try:
            result = sweep_stale_jobs()
            if any(result.values()):
                logger.warning("stale jobs: %s", result)
        except Exception:  # the sweep must never take the heartbeat down with it
            logger.exception("stale-job sweep failed")
        try:
            client = redis_client()
            if broker_restarted(client):
                logger.warning("the broker restarted or lost its data: re-sending queued jobs without a message")
                requeue_lost_jobs(0, client=client)
            else:
                requeue_lost_jobs(client=client)
        except Exception:
            logger.exception("lost-job sweep failed")
        finally:
            close_old_connections()

    def _beat(self):
        record = {**self._record, "device": torch_device(), "beat_at": time.time()}
        try:
            redis_client().set(self._key, json.dumps(record), ex=settings.WORKER_HEARTBEAT_TTL)
        except redis.RedisError as exc:  # the broker being down is reported by /healthz, not by a crash here
            logger.warning("heartbeat not written: %s", exc)


def broker_restarted(client) -> bool:
    """True when Redis lost its data since the last check by any worker: the `run_id` we keep there is gone
    (a restart without persistence, a flush) or differs from the server's (a restart). The first check on a
    new broker answers True too, which only makes the caller look for queued jobs without a message."""
    key = f"{settings.DRAMATIQ_NAMESPACE}:stemcrate.broker-run-id"
    run_id = str(client.info("server").get("run_id", ""))
    previous = client.getset(key, run_id)
    return previous is None or previous.decode() != run_id


def live_workers() -> list[dict]:
    """The workers whose heartbeat has not expired, as dicts (host, pid, queues, device, beat_at...)."""
    client = redis_client()
    pattern = f"{KEY_PREFIX}{settings.DRAMATIQ_NAMESPACE}:*"
    keys = list(client.scan_iter(match=pattern, count=500))
    if not keys:
        return []
    workers = []
    for raw in client.mget(keys):
        if raw:
            try:
                workers.append(json.loads(raw))
            except ValueError:
                continue
    return sorted(workers, key=lambda w: (w.get("host", ""), w.get("pid", 0)))


def workers_by_queue(workers: list[dict]) -> dict[str, list[dict]]:
    """The workers of each queue, each with the `device` that queue's jobs run on there: a worker's `device` is
    its torch device, which only the TORCH_QUEUES use; the jobs of the other queues run on the CPU."""
    by_queue = {queue: [] for queue in settings.QUEUES}
    for worker in workers:
        for queue in worker.get("queues", []):
            device = (worker.get("device") or "cpu") if queue in TORCH_QUEUES else "cpu"
            by_queue.setdefault(queue, []).append({**worker, "device": device})
    return by_queue
