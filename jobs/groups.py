"""Groups on the Jobs page: an app above the job system gathers its jobs under one row (a pipeline above its steps)
without the job system knowing it. Jobs in no group are listed as they are.

Register with `@job_groups("pipeline")` on `fn(owner, jobs) -> list[JobGroup]`: the groups of that owner that the
given jobs belong to, each naming all of its jobs (`job_ids`, in the order they ran). The function is asked once
per page for the page's jobs, so it answers in a constant number of queries. Providers are found by importing
every installed app's `views` module, once, the first time the page asks for them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.module_loading import autodiscover_modules

_PROVIDERS: dict[str, Callable[..., list["JobGroup"]]] = {}
_discovered = False


@dataclass
class JobGroup:
    key: str  # unique among all groups, e.g. "pipeline-<id>"
    label: str  # what it is: "Process everything"
    subject: object  # what it works on, linked when it has get_absolute_url
    url: str  # where it is followed
    status: str  # for the pill: "running", "succeeded", "partial", "failed" or "cancelled"
    status_label: str
    is_active: bool
    percent: int
    summary: str  # "3 of 7 steps done"
    started_at: datetime
    job_ids: list = field(default_factory=list)


def job_groups(name: str):
    def register(fn):
        _PROVIDERS[name] = fn
        return fn

    return register


def _providers() -> dict[str, Callable[..., list[JobGroup]]]:
    global _discovered
    if not _discovered:
        autodiscover_modules("views")
        _discovered = True
    return _PROVIDERS


def groups_of(owner, jobs) -> dict:
    """{job id: its JobGroup} for the jobs that are in one."""
    jobs = list(jobs)
    by_job = {}
    if not jobs:
        return by_job
    for fn in _providers().values():
        for group in fn(owner, jobs):
            for job_id in group.job_ids:
                by_job.setdefault(job_id, group)
    return by_job


def entries(owner, jobs) -> list[dict]:
    """The page's jobs as table sections, in the page's order: {"group": JobGroup, "jobs": [...]} where a group
    first appears, with its jobs on this page in the order they ran, or {"group": None, "jobs": [...]} for a run of
    jobs in no group."""
    jobs = list(jobs)
    by_job = groups_of(owner, jobs)
    sections, placed = [], {}
    for job in jobs:
        group = by_job.get(job.pk)
        if group is None:
            if not sections or sections[-1]["group"] is not None:
                sections.append({"group": None, "jobs": []})
            sections[-1]["jobs"].append(job)
        elif group.key not in placed:
            order = {job_id: i for i, job_id in enumerate(group.job_ids)}
            members = sorted((j for j in jobs if by_job.get(j.pk) is group), key=lambda j: order[j.pk])
            placed[group.key] = {"group": group, "jobs": members}
            sections.append(placed[group.key])
    return sections
