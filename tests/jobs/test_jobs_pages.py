import sys
import types

import pytest

from jobs import services as jobs
from jobs.models import Job

pytestmark = pytest.mark.django_db


def make_job(owner, status=Job.Status.QUEUED, **fields):
    return Job.objects.create(owner=owner, kind="analyse", status=status, **fields)


def test_the_jobs_page_lists_my_jobs_with_progress(user_client, user, other_user):
    make_job(user, Job.Status.RUNNING, progress=40, stage="Detecting tempo")
    make_job(other_user, Job.Status.FAILED, error="their secret error")
    page = user_client.get("/jobs/").content.decode()
    assert 'value="40"' in page and "Detecting tempo" in page
    assert "their secret error" not in page


def test_an_active_row_polls_and_a_finished_row_stops(user_client, user):
    job = make_job(user, Job.Status.RUNNING)
    response = user_client.get(f"/jobs/{job.pk}/row")
    assert response.status_code == 200 and "every 2s" in response.content.decode()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    assert user_client.get(f"/jobs/{job.pk}/row").status_code == 286


def test_cancel_and_retry_from_the_page(user_client, user, django_capture_on_commit_callbacks):
    job = make_job(user)
    user_client.post(f"/jobs/{job.pk}/cancel", HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert job.status == "cancelled"
    with django_capture_on_commit_callbacks():
        response = user_client.post(f"/jobs/{job.pk}/retry", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == "queued"


def test_another_users_job_is_a_404(client, user, other_user):
    job = make_job(user)
    client.force_login(other_user)
    for url in (f"/jobs/{job.pk}/row",):
        assert client.get(url).status_code == 404
    for url in (f"/jobs/{job.pk}/cancel", f"/jobs/{job.pk}/retry"):
        assert client.post(url).status_code == 404
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_jobs_api_lists_cancels_and_refuses_a_bad_retry(api_client, user, other_user):
    mine = make_job(user, Job.Status.RUNNING, traceback="secret internals")
    theirs = make_job(other_user)
    api_client.force_authenticate(user)
    body = api_client.get("/api/jobs/").json()
    assert [j["id"] for j in body["results"]] == [str(mine.pk)]
    assert "traceback" not in body["results"][0]
    assert api_client.get(f"/api/jobs/{theirs.pk}/").status_code == 404
    assert api_client.post(f"/api/jobs/{mine.pk}/retry/").status_code == 409
    assert api_client.post(f"/api/jobs/{mine.pk}/cancel/").json()["stage"] == "Cancelling…"
    jobs.run(mine.pk, lambda j: None)  # not claimable any more: it is running; the worker sees the request
    assert Job.objects.get(pk=mine.pk).cancel_requested


def test_next_after_cancel_stays_on_this_site(user_client, user):
    job = make_job(user)
    response = user_client.post(f"/jobs/{job.pk}/cancel", {"next": "https://evil.example/phish"})
    assert response["Location"] == "/jobs/"
    job = make_job(user)
    response = user_client.post(f"/jobs/{job.pk}/cancel", {"next": "/tracks/"})
    assert response["Location"] == "/tracks/"


def beat(redis_client, pid, queues, device):
    import json
    import time

    from django.conf import settings

    record = {"host": "box", "pid": pid, "queues": queues, "threads": 1, "device": device, "beat_at": time.time()}
    redis_client.set(f"stemcrate:worker:{settings.DRAMATIQ_NAMESPACE}:box:{pid}", json.dumps(record), ex=30)


def worker_chips(page, queue):
    """The device chips of the workers on one queue's card."""
    import re

    card = page.split(f'<h3 class="queue-name">{queue}</h3>', 1)[1].split('<div class="queue', 1)[0]
    return re.findall(r'<span class="chip[^"]*"[^>]*>([^<]+)</span>', card)


def test_each_queue_card_shows_the_device_that_queue_runs_on(user_client, clean_redis):
    beat(clean_redis, 1, ["cpu"], "cpu")
    beat(clean_redis, 2, ["gpu"], "cuda")
    beat(clean_redis, 3, ["cpu", "gpu"], "cuda")  # one worker on both queues: its cpu jobs still run on the CPU
    beat(clean_redis, 4, ["gpu"], "cpu")  # a gpu-queue worker without a GPU
    page = user_client.get("/jobs/").content.decode()
    assert worker_chips(page, "cpu") == ["cpu", "cpu"]
    assert worker_chips(page, "gpu") == ["cuda", "cuda", "cpu · no GPU"]


def test_a_gpu_worker_reports_its_device_before_it_has_loaded_torch(settings, monkeypatch):
    from jobs import heartbeat

    monkeypatch.delitem(sys.modules, "torch", raising=False)  # no job has run in this worker yet
    monkeypatch.delenv("STEMCRATE_DEVICE", raising=False)  # the setting may come from a _FILE or its default
    settings.STEMCRATE_DEVICE = "cuda:1"
    assert heartbeat.torch_device() == "cuda:1"
    settings.STEMCRATE_DEVICE = "cpu"
    assert heartbeat.torch_device() == "cpu"
    settings.STEMCRATE_DEVICE = "auto"
    monkeypatch.setattr(heartbeat, "_cuda_visible", lambda: True)
    assert heartbeat.torch_device() == "cuda"
    monkeypatch.setattr(heartbeat, "_cuda_visible", lambda: False)
    assert heartbeat.torch_device() == "cpu"
    # Once the engines have loaded torch, it is asked, as the jobs themselves ask it (weights.pick_device).
    cuda = types.SimpleNamespace(is_available=lambda: True, device_count=lambda: 1)
    monkeypatch.setitem(
        sys.modules, "torch", types.SimpleNamespace(cuda=cuda, version=types.SimpleNamespace(cuda="12"))
    )
    assert heartbeat.torch_device() == "cuda"


def make_pipeline(user, track, steps):
    """A pipeline on the track whose steps are jobs in these states, queued one after another."""
    from datetime import timedelta

    from django.utils import timezone

    from pipelines.models import Pipeline, PipelineStep

    pipeline = Pipeline.objects.create(owner=user, track=track, steps=["analyse", "separate"])
    start = timezone.now() - timedelta(minutes=10)
    for i, (step, status) in enumerate(steps):
        job = make_job(user, status, subject=track)
        Job.objects.filter(pk=job.pk).update(kind=step, queued_at=start + timedelta(seconds=i))
        PipelineStep.objects.create(pipeline=pipeline, job=job, step=step)
    return pipeline


def groups_on(page):
    """{group id: [job ids in it]} and the job ids outside any group, from the Jobs page's table."""
    import re

    grouped, loose = {}, []
    for body in re.findall(r"<tbody[^>]*>.*?</tbody>", page, flags=re.S):
        ids = re.findall(r'<tr id="job-([0-9a-f-]{36})"', body)
        group = re.search(r'data-job-group="([^"]+)"', body)
        if group:
            grouped[group.group(1)] = ids
        else:
            loose += ids
    return grouped, loose


def test_a_pipelines_jobs_are_grouped_under_it_and_other_jobs_stay_as_they_are(user_client, user, other_user):
    from tests.factories import make_track

    track = make_track(user, title="Grouped Song")
    pipeline = make_pipeline(user, track, [("analyse", "succeeded"), ("separate", "running")])
    alone = make_job(user, Job.Status.FAILED, error="on its own")
    theirs = make_pipeline(other_user, make_track(other_user, title="Their Song"), [("analyse", "running")])
    page = user_client.get("/jobs/").content.decode()
    grouped, loose = groups_on(page)
    steps = [str(j.pk) for j in pipeline.jobs.order_by("queued_at")]
    assert grouped == {f"pipeline-{pipeline.pk}": steps}  # in the order the steps ran
    assert loose == [str(alone.pk)]
    head = page.split(f'data-job-group="pipeline-{pipeline.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Process everything" in head and "Grouped Song" in head and "1 of 2 steps done" in head
    assert f"/tracks/{track.pk}/#pipeline" in head
    assert "Their Song" not in page and str(theirs.pk) not in page

    # The group's header follows its pipeline while it runs, and stops polling once it has ended.
    header = user_client.get(f"/jobs/{steps[0]}/group")
    assert header.status_code == 200 and "every 2s" in header.content.decode()
    Job.objects.filter(pk=steps[1]).update(status=Job.Status.SUCCEEDED)
    type(pipeline).objects.filter(pk=pipeline.pk).update(status="succeeded")
    header = user_client.get(f"/jobs/{steps[0]}/group")
    assert header.status_code == 286 and "2 of 2 steps done" in header.content.decode()
    assert user_client.get(f"/jobs/{alone.pk}/group").status_code == 404  # in no group
    assert user_client.get(f"/jobs/{theirs.jobs.get().pk}/group").status_code == 404


def test_the_jobs_page_groups_in_a_constant_number_of_queries(user_client, user, django_assert_max_num_queries):
    from tests.factories import make_track

    def pipelines(count):
        for i in range(count):
            make_pipeline(user, make_track(user, title=f"t{i}"), [("analyse", "succeeded"), ("separate", "queued")])

    pipelines(1)
    with django_assert_max_num_queries(30) as few:
        user_client.get("/jobs/")
    pipelines(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert user_client.get("/jobs/").status_code == 200
