"""Per-user limits: how much a library may store, and how many uploads and jobs a user may start an hour.

The limits come from settings (STORAGE_QUOTA, UPLOAD_RATE_LIMIT, JOB_RATE_LIMIT; 0 turns one off). Rates are
counted from the rows the database already has (tracks created, jobs and pipelines asked for in the last hour),
so they need no counter store and hold across processes; the price is that two requests arriving at the same
instant may both pass the last free slot, which is harmless for a limit meant to stop runaway scripts.
"""

import contextlib
import contextvars
import math
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

WINDOW = timedelta(hours=1)
KINDS = ("upload", "job")

# Operator commands (import_folder, process) act for a user deliberately; they run inside exempt().
_exempt = contextvars.ContextVar("stemcrate_limits_exempt", default=False)


class LimitError(ValueError):
    """A request refused by a limit. A ValueError, so views that show a ValueError's reason still do."""

    status = 400

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class QuotaExceeded(LimitError):
    # 413 rather than 507: the request is what does not fit (the user can make room or send less), and 507 is a
    # 5xx that clients and proxies treat as the server's fault and retry.
    status = 413


class RateLimited(LimitError):
    status = 429

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason)
        self.retry_after = max(1, int(retry_after))


@contextlib.contextmanager
def exempt():
    """Skip the rate limits (not the storage quota) for what runs inside: an operator's bulk command."""
    token = _exempt.set(True)
    try:
        yield
    finally:
        _exempt.reset(token)


def storage_models() -> list:
    """The models whose rows take room: each names its size field as STORAGE_SIZE_FIELD (originals, stems,
    samples and export ZIPs; MIDI and lyrics are tiny). Found through the app registry, so core knows no app."""
    return [model for model in apps.get_models() if getattr(model, "STORAGE_SIZE_FIELD", None)]


def storage_used(user) -> int:
    """Bytes the user's library holds."""
    return sum(
        model.objects.filter(owner=user).aggregate(total=Sum(model.STORAGE_SIZE_FIELD))["total"] or 0
        for model in storage_models()
    )


def check_storage(user, incoming_bytes: int = 0) -> None:
    """Raise QuotaExceeded when storing incoming_bytes more would take the library past its quota."""
    quota = settings.STORAGE_QUOTA
    if not quota:
        return
    used = storage_used(user)
    if used + incoming_bytes <= quota:
        return
    if incoming_bytes:
        reason = (
            f"Your library is full: {human_size(used)} of {human_size(quota)} used, and this file needs "
            f"{human_size(incoming_bytes)}. Delete tracks or exports to make room."
        )
    else:
        reason = (
            f"Your library is full: {human_size(used)} of {human_size(quota)} used. "
            "Delete tracks or exports to make room."
        )
    raise QuotaExceeded(reason)


def rate_limit(kind: str) -> int:
    return {"upload": settings.UPLOAD_RATE_LIMIT, "job": settings.JOB_RATE_LIMIT}[kind]


def recent_count(user, kind: str) -> int:
    """How many uploads or jobs the user started in the last hour."""
    return sum(qs.count() for qs in _recent(user, kind, timezone.now() - WINDOW))


def check_rate(user, kind: str, count: int = 1) -> None:
    """Raise RateLimited when starting `count` more uploads or jobs would pass the hourly limit.

    kind is "upload" (tracks created) or "job" (jobs the user asked for: single jobs and exports, one per
    pipeline; jobs a pipeline creates for its steps, and the analysis every upload queues, do not count).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown limit {kind!r}; expected one of {KINDS}")
    limit = rate_limit(kind)
    if not limit or _exempt.get():
        return
    now = timezone.now()
    querysets = _recent(user, kind, now - WINDOW)
    used = sum(qs.count() for qs in querysets)
    if used + count <= limit:
        return
    if count > limit:
        raise RateLimited(
            f"You can start at most {limit} {_noun(kind, limit)} an hour, and this would start {count}. "
            "Choose fewer at a time.",
            retry_after=int(WINDOW.total_seconds()),
        )
    # Room for `count` more opens when the (limit - count + 1)-th newest start leaves the window.
    times = sorted((t for qs in querysets for t in qs.values_list(_time_field(qs), flat=True)), reverse=True)
    freed_at = times[limit - count] + WINDOW if len(times) > limit - count else now
    retry_after = max(1, math.ceil((freed_at - now).total_seconds()))
    started = "uploaded" if kind == "upload" else "started"
    so_far = f"You have {started} {used} {_noun(kind, used)} in the last hour"
    if count == 1:
        reason = f"{so_far}, the most allowed."
    else:
        reason = f"{so_far}; {count} more would pass the limit of {limit} an hour."
    raise RateLimited(f"{reason} Try again in {human_duration(retry_after)}.", retry_after=retry_after)


def _recent(user, kind: str, since):
    """What counts toward a limit: the rows of every model that declares RATE_LIMIT = (kind, time field), and
    whose manager's `rate_counted()` (when it has one) leaves in only what the user asked for."""
    querysets = []
    for model in apps.get_models():
        limit = getattr(model, "RATE_LIMIT", None)
        if not limit or limit[0] != kind:
            continue
        queryset = model.objects.filter(owner=user, **{f"{limit[1]}__gte": since})
        if hasattr(queryset, "rate_counted"):
            queryset = queryset.rate_counted()
        querysets.append(queryset)
    return querysets


def _time_field(queryset) -> str:
    return queryset.model.RATE_LIMIT[1]


def _noun(kind: str, n: int) -> str:
    word = "track" if kind == "upload" else "job"
    return word if n == 1 else f"{word}s"


def human_size(n: int) -> str:
    """Decimal units, as the upload limit is given: 45 MB, 19.8 GB."""
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            value = n / scale
            text = f"{value:.1f}" if value < 100 and unit in ("TB", "GB") else f"{value:.0f}"
            return f"{text.removesuffix('.0')} {unit}"
    return f"{n} bytes"


def human_duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


@dataclass
class Usage:
    used: int
    quota: int
    uploads: int
    upload_limit: int
    jobs: int
    job_limit: int
    max_size: int
    max_duration: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.quota)) if self.quota else 0

    @property
    def used_display(self) -> str:
        return human_size(self.used)

    @property
    def quota_display(self) -> str:
        return human_size(self.quota) if self.quota else ""

    @property
    def max_size_display(self) -> str:
        return human_size(self.max_size)

    @property
    def max_duration_minutes(self) -> int:
        return self.max_duration // 60


def usage(user) -> Usage:
    """What the profile page shows: storage used against the quota, and this hour's uploads and jobs."""
    return Usage(
        used=storage_used(user),
        quota=settings.STORAGE_QUOTA,
        uploads=recent_count(user, "upload"),
        upload_limit=settings.UPLOAD_RATE_LIMIT,
        jobs=recent_count(user, "job"),
        job_limit=settings.JOB_RATE_LIMIT,
        max_size=settings.UPLOAD_MAX_SIZE,
        max_duration=settings.UPLOAD_MAX_DURATION,
    )
