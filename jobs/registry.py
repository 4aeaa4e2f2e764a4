"""The job kinds: each feature app's tasks.py registers its own with @job_kind; the job system knows none.

A kind is a name, the queue it runs on, a time limit, the exceptions that fail it at once (bad audio, a missing
model), and the function that does the work given the claimed Job. JobsConfig.ready() imports every app's
tasks.py and then declares one Dramatiq actor per kind, so web processes and workers see the same registry.
"""

from collections.abc import Callable
from dataclasses import dataclass

import dramatiq

# Retries are the job system's (state in the database, see jobs.services.run), not Dramatiq's.
ACTOR_OPTIONS = {"max_retries": 0}


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    queue: str
    time_limit_s: int
    permanent: tuple[type[BaseException], ...]
    work: Callable

    @property
    def actor(self):
        return _ACTORS[self.name]


_KINDS: dict[str, JobKind] = {}
_ACTORS: dict[str, dramatiq.Actor] = {}


def job_kind(
    name: str, *, label: str, queue: str = "cpu", time_limit_s: int = 3600, permanent: tuple = ()
) -> Callable[[Callable], Callable]:
    """Register `work(job)` as the job kind `name`. Queues: "cpu" or "gpu" (settings.QUEUES)."""

    def register(work: Callable) -> Callable:
        if name in _KINDS and _KINDS[name].work is not work:
            raise ValueError(f"job kind {name!r} is registered twice")
        _KINDS[name] = JobKind(name, label, queue, time_limit_s, tuple(permanent), work)
        return work

    return register


def kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"unknown job kind {name!r}; known: {', '.join(sorted(_KINDS))}") from None


def label(name: str) -> str:
    return _KINDS[name].label if name in _KINDS else name


def queues() -> set[str]:
    return {kind.queue for kind in _KINDS.values()}


def declare_actors(run: Callable) -> None:
    """One Dramatiq actor per registered kind (idempotent). Its message carries only the job id; the actor hands
    it to `run(job_id, work, permanent=...)`, the job system's claim-and-record loop (jobs.services.run)."""
    for kind in _KINDS.values():
        if kind.name in _ACTORS:
            continue

        def perform(job_id: str, _name=kind.name):
            entry = _KINDS[_name]
            run(job_id, entry.work, permanent=entry.permanent)

        perform.__name__ = f"job_{kind.name}"
        _ACTORS[kind.name] = dramatiq.actor(
            perform, actor_name=f"job_{kind.name}", queue_name=kind.queue, time_limit=kind.time_limit_s * 1000,
            **ACTOR_OPTIONS,
        )  # fmt: skip
