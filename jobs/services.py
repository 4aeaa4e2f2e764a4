"""The job system every processing step uses: create, enqueue after commit, claim, lease, progress, finish.

State lives in the Job row; a message carries only the job id. Every state change is a conditional UPDATE, so
a redelivered message, a cancelled job or a job another worker already claimed is a no-op, never a duplicate.
"""

import logging
import os
import socket
import threading
import traceback as tb
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs import registry
from jobs.heartbeat import redis_client
from jobs.models import Job
from jobs.signals import job_changed

logger = logging.getLogger(__name__)

RETRY_DELAYS_MS = (10_000, 60_000, 300_000)


def lease_seconds() -> int:
    """How long a running job's claim lasts without renewal; its worker renews it every third of that."""
    return settings.JOB_LEASE_SECONDS


class JobCancelled(Exception):
    """Raised inside a running job when its user cancelled it."""


class TransientJobError(Exception):
    """A failure a later attempt may not meet (storage, broker, database): the job is retried with backoff."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_inline = threading.local()


class run_inline:  # lower case: used like contextlib helpers
    """Within this block jobs are created without sending a message: the caller runs them itself (the command
    line on a server without workers or a broker). Claims stay conditional, so a worker that happens to see
    one of them anyway never runs it twice."""

    def __enter__(self):
        _inline.depth = getattr(_inline, "depth", 0) + 1
        return self

    def __exit__(self, *exc):
        _inline.depth -= 1


def _send(job: Job, delay_ms: int | None = None) -> None:
    if getattr(_inline, "depth", 0):
        return
    options = {"delay": delay_ms} if delay_ms else {}
    registry.get(job.kind).actor.send_with_options(args=(str(job.pk),), **options)


def create_job(owner, kind: str, *, subject=None, params: dict | None = None, counted: bool = True) -> Job:
    """Create a queued job of a registered kind and send its message once the surrounding transaction commits.

    `subject` is what it works on (any model instance); `counted` is False for jobs that do not count toward
    the user's hourly job limit (automatic work, the steps of a larger request that counted once).
    """
    entry = registry.get(kind)
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner, kind=kind, subject=subject, params=params or {}, queue=entry.queue, counted=counted
        )
        transaction.on_commit(lambda: _send(job))
    return job


def claim(job_id) -> Job | None:
    """Move a queued job to running for this worker, or None when it is not this worker's to run."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED, cancel_requested=False).update(
        status=Job.Status.RUNNING,
        started_at=now,
        finished_at=None,
        lease_until=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        worker=worker_name(),
        progress=0,
        stage="Starting",
        error="",
    )
    if not claimed:
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED, cancel_requested=True).update(
            status=Job.Status.CANCELLED, finished_at=now
        )
        return None
    return Job.objects.get(pk=job_id)


def report(job_id, fraction: float | None = None, stage: str | None = None, **fields) -> None:
    """Progress (0..1) and stage, renewing the lease. Raises JobCancelled when the user cancelled the job."""
    updates = {"lease_until": timezone.now() + timedelta(seconds=lease_seconds()), **fields}
    if fraction is not None:
        updates["progress"] = max(0, min(100, round(fraction * 100)))
    if stage is not None:
        updates["stage"] = stage[:100]
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**updates)
    if Job.objects.filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelled


def succeed(job_id, stage: str = "Done") -> None:
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, progress=100, stage=stage, finished_at=timezone.now(), lease_until=None
    )


def fail(job_id, error: str, traceback: str = "") -> None:
    Job.objects.filter(pk=job_id).exclude(status__in=[Job.Status.SUCCEEDED, Job.Status.CANCELLED]).update(
        status=Job.Status.FAILED,
        error=error[:2000],
        traceback=traceback[-20000:],
        finished_at=timezone.now(),
        lease_until=None,
    )


def _requeue(job: Job, reason: str, *, backoff: bool = True) -> bool:
    """Back to queued for another attempt (with backoff after an error); False when the attempts are used up."""
    if job.attempts >= Job.MAX_ATTEMPTS:
        return False
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED, stage=f"Waiting to retry ({reason})"[:100], lease_until=None
    )
    if updated:
        delay = RETRY_DELAYS_MS[min(job.attempts, len(RETRY_DELAYS_MS)) - 1] if backoff else None
        transaction.on_commit(lambda: _send(job, delay_ms=delay))
    return bool(updated)


def cancel(job: Job) -> Job:
    """Cancel a queued job at once; ask a running one to stop at its next progress report."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, cancel_requested=True, finished_at=now, stage="Cancelled"
    )
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=True, stage="Cancelling…")
    job.refresh_from_db()
    if job.status == Job.Status.CANCELLED:
        _changed(job.pk)
    return job


def retry(job: Job) -> Job:
    """Queue a failed or cancelled job again (a fresh set of attempts)."""
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status__in=[Job.Status.FAILED, Job.Status.CANCELLED]).update(
            status=Job.Status.QUEUED,
            cancel_requested=False,
            attempts=0,
            progress=0,
            stage="Queued",
            error="",
            traceback="",
            queued_at=timezone.now(),
            started_at=None,
            finished_at=None,
        )
        job.refresh_from_db()
        if updated:
            transaction.on_commit(lambda: _send(job))
            _changed(job.pk)
    return job


class _LeaseKeeper:
    """Renews a running job's lease in the background, so long model calls without progress keep it alive."""

    def __init__(self, job_id):
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{job_id}")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        from django.db import close_old_connections

        try:
            while not self._stop.wait(lease_seconds() / 3):
                Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(
                    lease_until=timezone.now() + timedelta(seconds=lease_seconds())
                )
        finally:
            close_old_connections()


def _changed(job_id) -> None:
    job_changed.send(sender=Job, job_id=job_id)


def run(job_id, work: Callable[[Job], None], *, permanent: tuple[type[BaseException], ...] = ()) -> str:
    """Run a job (see _run), then tell whoever listens (a pipeline starts what comes next)."""
    outcome = _run(job_id, work, permanent=permanent)
    if outcome in ("succeeded", "failed", "cancelled"):
        _changed(job_id)
    return outcome


def _run(job_id, work: Callable[[Job], None], *, permanent: tuple[type[BaseException], ...] = ()) -> str:
    """Run `work(job)` for a job message: claim, keep the lease, and record how it ended.

    - `permanent` exceptions (bad audio, a missing model) fail the job at once with their message.
    - TransientJobError and OSError re-queue it with backoff, up to Job.MAX_ATTEMPTS attempts.
    - Anything else fails it with a generic message for the user and the traceback for admins.
    Returns "skipped", "succeeded", "cancelled", "retrying" or "failed".
    """
    job = claim(job_id)
    if job is None:
        return "skipped"
    try:
        with _LeaseKeeper(job.pk):
            work(job)
    except JobCancelled:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), stage="Cancelled", lease_until=None
        )
        return "cancelled"
    except permanent as exc:
        fail(job.pk, str(exc))
        return "failed"
    except (TransientJobError, OSError) as exc:
        logger.warning("job %s attempt %s hit a transient error: %s", job.pk, job.attempts, exc)
        if _requeue(job, type(exc).__name__):
            return "retrying"
        fail(job.pk, f"Failed after {job.attempts} attempts: {exc}", tb.format_exc())
        return "failed"
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        fail(job.pk, f"Something went wrong ({type(exc).__name__}). Retry the job; if it fails again, report it.",
             tb.format_exc())  # fmt: skip
        return "failed"
    succeed(job.pk)
    return "succeeded"


def sweep_stale_jobs() -> dict:
    """Find running jobs whose worker stopped renewing the lease: re-queue them, or fail them when out of tries."""
    now = timezone.now()
    requeued = failed = 0
    for job in Job.objects.filter(status=Job.Status.RUNNING, lease_until__lt=now):
        with transaction.atomic():
            if job.attempts < Job.MAX_ATTEMPTS:
                if _requeue(job, "worker stopped", backoff=False):  # nothing to wait for: run it again
                    requeued += 1
            elif Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_until__lt=now).update(
                status=Job.Status.FAILED,
                error=f"The worker running this job stopped {job.attempts} times. Retry it, or check the workers.",
                finished_at=now,
                lease_until=None,
            ):
                failed += 1
                _changed(job.pk)
    return {"requeued": requeued, "failed": failed}


def _job_ids_in_broker(client) -> set[str]:
    """The job ids that have a message in the broker: waiting, delayed for a retry, or being worked on (a
    message stays in its queue's `.msgs` hash until it is acknowledged)."""
    import json

    namespace = settings.DRAMATIQ_NAMESPACE
    queues = registry.queues()
    ids = set()
    for queue in queues:
        for key in (f"{namespace}:{queue}.msgs", f"{namespace}:{queue}.DQ.msgs"):
            for _message_id, raw in client.hscan_iter(key, count=1000):
                try:
                    args = json.loads(raw).get("args") or []
                except (ValueError, AttributeError):
                    continue
                if args:
                    ids.add(str(args[0]))
    return ids


def requeue_lost_jobs(older_than_seconds: float | None = None, *, client=None) -> int:
    """Re-send queued jobs whose message is no longer in the broker (Redis keeps nothing on disk, so a restart
    drops every queued message). Returns how many were re-sent.

    Only jobs queued at least `older_than_seconds` ago (default JOB_REQUEUE_SECONDS) are looked at, so a job
    whose message is being sent as its transaction commits is left alone. Jobs that still have a message in the
    broker (waiting, or delayed for a retry) are skipped, so a long backlog is not flooded with duplicates.
    A duplicate sent in a race anyway is harmless: the claim is conditional, so the second delivery is a no-op.
    """
    import redis

    if older_than_seconds is None:
        older_than_seconds = getattr(settings, "JOB_REQUEUE_SECONDS", 120)
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    candidates = list(
        Job.objects.filter(status=Job.Status.QUEUED, cancel_requested=False, queued_at__lte=cutoff).only(
            "pk", "kind", "queue"
        )
    )
    if not candidates:
        return 0
    try:
        present = _job_ids_in_broker(client or redis_client())
    except redis.RedisError as exc:  # the broker is down: there is nothing to send to; the next sweep retries
        logger.warning("lost-job check skipped: %s", exc)
        return 0
    sent = 0
    for job in candidates:
        if str(job.pk) in present:
            continue
        try:
            _send(job)
        except Exception:
            logger.exception("could not re-send job %s", job.pk)
            continue
        sent += 1
    if sent:
        logger.warning("re-sent %s queued job(s) whose message was lost", sent)
    return sent


def perform(kind: str, job_id) -> str:
    """Run a queued job in this process, as its worker would: the command line without workers, and tests."""
    entry = registry.get(kind)
    return run(str(job_id), entry.work, permanent=entry.permanent)
