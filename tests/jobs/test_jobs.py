"""The job system: claim once, lease, progress, cancel, retry, transient vs permanent failures, the sweeper."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audio.audio_io import AudioError
from jobs import services as jobs
from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        job = jobs.create_job(user, "analyse")
    assert len(sent) == 1  # the message goes out on commit, carrying only the id
    return job


def test_a_job_is_claimed_once(job):
    assert jobs.claim(job.pk).status == Job.Status.RUNNING
    assert jobs.claim(job.pk) is None  # a redelivered message does nothing
    job.refresh_from_db()
    assert job.attempts == 1 and job.worker and job.lease_until > timezone.now()


def test_success_records_progress_and_times(job):
    def work(j):
        jobs.report(j.pk, 0.5, "Halfway")
        assert Job.objects.get(pk=j.pk).progress == 50

    assert jobs.run(job.pk, work) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.progress, job.stage) == ("succeeded", 100, "Done")
    assert job.started_at <= job.finished_at


def test_a_permanent_error_fails_at_once_with_its_reason(job):
    def work(j):
        raise AudioError("The audio data is truncated.", code="corrupt")

    assert jobs.run(job.pk, work, permanent=(AudioError,)) == "failed"
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == ("failed", "The audio data is truncated.", 1)


def test_an_unexpected_error_fails_with_a_generic_message_and_keeps_the_traceback(job):
    def work(j):
        raise KeyError("internal detail")

    assert jobs.run(job.pk, work) == "failed"
    job.refresh_from_db()
    assert "Something went wrong (KeyError)" in job.error
    assert "internal detail" not in job.error
    assert "KeyError: 'internal detail'" in job.traceback


def test_a_transient_error_retries_with_backoff_then_fails(job, django_capture_on_commit_callbacks):
    def work(j):
        raise jobs.TransientJobError("storage timed out")

    for attempt in range(1, Job.MAX_ATTEMPTS):
        with django_capture_on_commit_callbacks() as resent:
            assert jobs.run(job.pk, work) == "retrying"
        assert len(resent) == 1
        job.refresh_from_db()
        assert (job.status, job.attempts) == ("queued", attempt)
    assert jobs.run(job.pk, work) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "after 3 attempts" in job.error


def test_cancelling_a_queued_job_stops_it_before_it_runs(job):
    jobs.cancel(job)
    assert job.status == "cancelled"
    assert jobs.run(job.pk, lambda j: pytest.fail("must not run")) == "skipped"


def test_cancelling_a_running_job_stops_it_at_the_next_progress_report(job):
    def work(j):
        jobs.cancel(Job.objects.get(pk=j.pk))  # the user clicks Cancel while it runs
        jobs.report(j.pk, 0.3, "Separating")
        pytest.fail("report() must raise JobCancelled")

    assert jobs.run(job.pk, work) == "cancelled"
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at


def test_a_failed_job_can_be_retried(job, django_capture_on_commit_callbacks):
    jobs.run(job.pk, lambda j: 1 / 0)
    job.refresh_from_db()
    with django_capture_on_commit_callbacks() as sent:
        jobs.retry(job)
    assert len(sent) == 1
    assert (job.status, job.attempts, job.error, job.traceback) == ("queued", 0, "", "")
    assert jobs.run(job.pk, lambda j: None) == "succeeded"


def test_retry_does_nothing_to_a_running_or_finished_job(job, django_capture_on_commit_callbacks):
    jobs.run(job.pk, lambda j: None)
    with django_capture_on_commit_callbacks() as sent:
        jobs.retry(Job.objects.get(pk=job.pk))
    assert not sent and Job.objects.get(pk=job.pk).status == "succeeded"


def test_the_sweeper_requeues_a_job_whose_worker_died(job, django_capture_on_commit_callbacks):
    jobs.claim(job.pk)
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))  # worker gone
    with django_capture_on_commit_callbacks() as sent:
        assert jobs.sweep_stale_jobs() == {"requeued": 1, "failed": 0}
    assert len(sent) == 1
    job.refresh_from_db()
    assert job.status == "queued" and "worker stopped" in job.stage


def test_the_sweeper_fails_a_job_out_of_attempts(job):
    jobs.claim(job.pk)
    Job.objects.filter(pk=job.pk).update(attempts=Job.MAX_ATTEMPTS, lease_until=timezone.now() - timedelta(seconds=1))
    assert jobs.sweep_stale_jobs() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == "failed" and "stopped 3 times" in job.error


def test_the_sweeper_leaves_live_jobs_alone(job):
    jobs.claim(job.pk)
    assert jobs.sweep_stale_jobs() == {"requeued": 0, "failed": 0}
    assert Job.objects.get(pk=job.pk).status == "running"
