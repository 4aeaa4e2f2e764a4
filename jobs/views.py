import redis
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from jobs import groups
from jobs import services as job_service
from jobs.heartbeat import live_workers, workers_by_queue
from jobs.models import Job


def _get_job_for_user(request, job_id) -> Job:
    return get_object_or_404(Job.objects.filter(owner=request.user), pk=job_id)


def _worker_status():
    try:
        workers = live_workers()
    except redis.RedisError as exc:
        return {"broker_error": f"The job broker (Redis) cannot be reached: {exc}", "queues": {}}
    return {"broker_error": None, "queues": workers_by_queue(workers)}


@require_GET
def jobs(request):
    queryset = Job.objects.filter(owner=request.user).prefetch_related("subject").defer("traceback", "params")
    status = request.GET.get("status", "")
    if status == "active":
        queryset = queryset.filter(status__in=Job.ACTIVE)
    elif status in Job.Status.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    context = {
        "jobs": page.object_list,
        "sections": groups.entries(request.user, page.object_list),  # a pipeline's jobs under its row
        "page_obj": page,
        "status_filter": status,
        "statuses": Job.Status.choices,
        "queue_names": settings.QUEUES,
        "has_active": any(job.is_active for job in page.object_list),
        **_worker_status(),
    }
    if request.htmx and request.htmx.target == "job-list":
        return render(request, "jobs/jobs.html#job-list", context)
    template = "jobs/jobs.html#workers" if request.htmx else "jobs/jobs.html"
    return render(request, template, context)


@require_GET
def job_row(request, job_id):
    """One job's row, polled while it is queued or running; 286 stops the polling once it has ended."""
    job = _get_job_for_user(request, job_id)
    response = render(request, "jobs/jobs.html#job", {"job": job})
    if not job.is_active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_GET
def job_group(request, job_id):
    """The header row of the group a job is in (its pipeline), polled while the group runs; 286 once it ended."""
    job = _get_job_for_user(request, job_id)
    group = groups.groups_of(request.user, [job]).get(job.pk)
    if group is None:
        raise Http404("This job is in no group.")
    response = render(request, "jobs/jobs.html#job-group", {"group": group})
    if not group.is_active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
def job_cancel(request, job_id):
    job = job_service.cancel(_get_job_for_user(request, job_id))
    return _after_action(request, job, "Cancelled." if job.status == "cancelled" else "Cancelling…")


@require_POST
def job_retry(request, job_id):
    job = _get_job_for_user(request, job_id)
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        if not _refresh_requested(request):
            messages.error(request, "Only a failed or cancelled job can be retried.")
        return _after_action(request, job, None)
    job = job_service.retry(job)
    return _after_action(request, job, "Queued again.")


def _refresh_requested(request) -> bool:
    """An htmx form on another page (a track's pipeline, an export) that shows the job its own way sends
    `refresh`: it gets no Jobs-page row back, only the event its panels refresh on."""
    return bool(request.htmx and request.POST.get("refresh"))


def _after_action(request, job, message):
    if _refresh_requested(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "jobs-changed"
        return response
    if request.htmx:
        return render(request, "jobs/jobs.html#job", {"job": job})
    if message:
        messages.success(request, message)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect("jobs:jobs")
