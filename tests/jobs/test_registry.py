"""The job-kind registry: each app's tasks.py registers its kinds, and the job system knows none of them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs import registry
from jobs import services as jobs
from jobs.models import Job
from jobs.signals import job_changed
from tests.factories import make_track

pytestmark = pytest.mark.django_db


def test_it_finds_every_apps_kinds_with_their_queues_and_limits():
    kinds = registry.kinds()
    assert {name: kind.queue for name, kind in kinds.items()} == {
        "analyse": "cpu", "separate": "gpu", "slice": "cpu", "midi": "cpu", "lyrics": "gpu", "export": "cpu",
        "edit_sample": "cpu", "drum_midi": "cpu",
    }  # fmt: skip
    # Each came from the tasks.py of the app that owns its result, and each has its actor on its queue.
    assert {kind.work.__module__ for kind in kinds.values()} == {
        "tracks.tasks", "stems.tasks", "samples.tasks", "midi.tasks", "lyrics.tasks", "exports.tasks",
    }  # fmt: skip
    assert all(kind.actor.queue_name == kind.queue and kind.time_limit_s >= 600 for kind in kinds.values())
    assert registry.get("separate").actor.options["time_limit"] == 3 * 3600 * 1000


def test_an_unknown_kind_is_refused_before_anything_is_stored(user):
    with pytest.raises(ValueError, match="unknown job kind 'nonsense'"):
        jobs.create_job(user, "nonsense")
    assert not Job.objects.exists()


def test_a_new_kind_is_one_decorated_function(user, django_capture_on_commit_callbacks):
    """What docs/architecture.md promises: register, and the job system creates, queues and runs it."""
    seen = []

    @registry.job_kind("test_echo", label="Echo", queue="gpu", time_limit_s=60, permanent=(KeyError,))
    def echo(job):
        seen.append(job.params["word"])
        jobs.report(job.pk, 0.5, "Echoing")

    try:
        registry.declare_actors(jobs.run)
        track = make_track(user)
        with django_capture_on_commit_callbacks() as sent:
            job = jobs.create_job(user, "test_echo", subject=track, params={"word": "hello"})
        assert len(sent) == 1 and job.queue == "gpu" and job.get_kind_display() == "Echo"
        assert registry.get("test_echo").actor.queue_name == "gpu"
        assert jobs.perform("test_echo", job.pk) == "succeeded" and seen == ["hello"]
        assert Job.objects.about(track).get().status == Job.Status.SUCCEEDED
        # Its permanent errors fail it at once, with their message.
        broken = jobs.create_job(user, "test_echo", subject=track, params={})
        assert jobs.perform("test_echo", broken.pk) == "failed"
        broken.refresh_from_db()
        assert broken.error == "'word'" and broken.attempts == 1
    finally:
        registry._KINDS.pop("test_echo", None)
        registry._ACTORS.pop("test_echo", None)


def test_a_kind_cannot_be_registered_twice_with_other_work():
    with pytest.raises(ValueError, match="registered twice"):
        registry.job_kind("analyse", label="Again")(lambda job: None)


def test_the_job_system_tells_listeners_when_a_job_ends(user):
    heard = []

    def listener(sender, job_id, **kwargs):
        heard.append(job_id)

    job_changed.connect(listener)
    try:
        job = jobs.create_job(user, "analyse", subject=make_track(user))
        assert jobs.run(job.pk, lambda j: None) == "succeeded"
        cancelled = jobs.cancel(jobs.create_job(user, "analyse"))
    finally:
        job_changed.disconnect(listener)
    assert heard == [job.pk, cancelled.pk]


def test_a_jobs_subject_takes_its_jobs_along_when_deleted(user):
    track = make_track(user)
    jobs.create_job(user, "analyse", subject=track)
    other = jobs.create_job(user, "analyse", subject=make_track(user, title="Other"))
    track.delete()
    assert list(Job.objects.all()) == [other]


def test_jobs_about_a_queryset_need_one_query(user):
    tracks = [make_track(user, title=f"t{i}") for i in range(3)]
    for track in tracks:
        jobs.create_job(user, "analyse", subject=track)
    jobs.create_job(user, "export")
    Job.objects.about(tracks[0])  # the content type is cached after its first use
    with CaptureQueriesContext(connection) as queries:
        found = list(Job.objects.about(type(tracks[0]).objects.filter(title__in=["t0", "t2"])))
    assert len(queries) == 1 and {job.subject_id for job in found} == {tracks[0].pk, tracks[2].pk}
