""" "Process everything": analyse, separate, then slice, MIDI and lyrics in parallel, each a job, with tiny models
standing in for the Demucs and Whisper weights that cannot be downloaded here."""

import time

import pytest

from jobs import services as jobs
from jobs.models import Job
from jobs.services import perform as perform_job
from lyrics.models import Lyrics
from midi.models import MidiClip
from pipelines.models import Pipeline
from pipelines.services import PipelineError, do_cancel_pipeline, do_process_track, do_process_tracks, progress
from samples.models import Sample
from stems.models import StemSet
from tests import audio_factory as af
from tests.model_factory import make_tiny_htdemucs, make_tiny_whisper
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)
FAST_WHISPER = {"temperature": 0.0, "sample_len": 24}


@pytest.fixture
def models(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.STEMCRATE_DEVICE = "cpu"
    settings.WHISPER_DECODE_OPTIONS = FAST_WHISPER
    settings.LYRICS_BACKEND = "openai-whisper"  # the random tiny stand-ins are openai-whisper checkpoints
    make_tiny_htdemucs(settings.MODEL_DIR, "htdemucs")
    make_tiny_whisper(settings.MODEL_DIR, "tiny")
    return settings.MODEL_DIR


def upload(user, tmp_path, name="song", seconds=4.0):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tracks.services import do_upload_track

    path = af.write(tmp_path / f"{name}.wav", af.chord_progression(seconds=seconds, channels=2), fmt="wav")
    return do_upload_track(user, SimpleUploadedFile(f"{name}.wav", path.read_bytes())).track


def drain(pipeline, limit=40):
    """Run the pipeline's queued jobs here, one after another, as workers would, until none is left."""
    for _ in range(limit):
        job = pipeline.jobs.filter(status=Job.Status.QUEUED).order_by("queued_at").first()
        if job is None:
            break
        perform_job(job.kind, str(job.pk))
    pipeline.refresh_from_db()
    return pipeline


def steps(pipeline):
    return {job.step: job.status for job in pipeline.jobs.all()}


OPTIONS = {"lyrics": {"model": "tiny"}}


def test_it_runs_every_step_and_keeps_every_result(user, tmp_path, models):
    track = upload(user, tmp_path)
    pipeline = do_process_track(track, options=OPTIONS)
    # The analysis started by the upload is adopted, not run twice.
    assert Job.objects.about(track).filter(kind="analyse").count() == 1
    assert steps(pipeline) == {"analyse": "queued"}

    drain(pipeline)
    assert pipeline.status == "succeeded", {j.step: j.error for j in pipeline.jobs.all()}
    assert steps(pipeline) == {
        "analyse": "succeeded", "separate": "succeeded", "slice:drums": "succeeded", "slice:vocals": "succeeded",
        "midi:bass": "succeeded", "midi:other": "succeeded", "midi:drums": "succeeded", "lyrics:vocals": "succeeded",
    }  # fmt: skip
    stem_set = StemSet.objects.get(track=track)
    assert Lyrics.objects.filter(track=track, stem__stem_set=stem_set, source="vocals").count() == 1
    assert set(MidiClip.objects.filter(track=track).values_list("source", flat=True)) == {"bass", "other", "drums"}
    assert MidiClip.objects.get(track=track, source="drums").is_drums
    assert set(Sample.objects.filter(track=track).values_list("source", flat=True)) <= {"drums", "vocals"}
    assert progress(pipeline)["percent"] == 100 and pipeline.finished_at


def test_the_parallel_steps_are_queued_together_after_separation(user, tmp_path, models):
    track = upload(user, tmp_path)
    pipeline = do_process_track(track, options=OPTIONS)
    for kind in ("analyse", "separate"):
        job = pipeline.jobs.get(kind=kind)
        perform_job(kind, str(job.pk))
    queued = pipeline.jobs.filter(status="queued")
    assert {(j.step, j.queue) for j in queued} == {
        ("slice:drums", "cpu"), ("slice:vocals", "cpu"), ("midi:bass", "cpu"), ("midi:other", "cpu"),
        ("midi:drums", "cpu"), ("lyrics:vocals", "gpu"),
    }  # fmt: skip
    pipeline.refresh_from_db()
    assert pipeline.status == "running" and 0 < progress(pipeline)["percent"] < 100


def test_a_lyrics_model_that_is_not_installed_is_refused_before_anything_is_queued(user, tmp_path, models, settings):
    track = upload(user, tmp_path)
    with pytest.raises(PipelineError, match=r"lyrics model small is not installed for openai-whisper: run python "
                                            r"manage\.py download_models --backend openai-whisper small"):  # fmt: skip
        do_process_track(track, options={"lyrics": {"model": "small"}})
    assert not Pipeline.objects.exists() and not Job.objects.exclude(kind="analyse").exists()
    # Without the lyrics step, its model does not matter; with it and no model named, the best installed runs.
    assert do_process_track(track, steps=["separate", "midi"], options={"lyrics": {"model": "small"}})
    assert do_process_track(track).options["lyrics"]["model"] == "tiny"
    settings.MODEL_DIR = tmp_path / "empty"
    with pytest.raises(PipelineError, match="no lyrics model is installed for openai-whisper"):
        do_process_track(track)


def test_a_failed_step_does_not_lose_the_others(user, tmp_path, models, settings):
    settings.WHISPER_DECODE_OPTIONS = FAST_WHISPER
    track = upload(user, tmp_path)
    make_tiny_whisper(models, "small")
    pipeline = do_process_track(track, options={"lyrics": {"model": "small"}})
    weights_file = models / "whisper" / "small.pt"
    weights_file.rename(models / "small.pt.away")  # the model goes away after the request, before its step runs
    pipeline = drain(pipeline)
    assert pipeline.status == "partial"
    lyrics_job = pipeline.jobs.get(pipeline_step__step="lyrics:vocals")
    assert lyrics_job.status == "failed" and "download_models --backend openai-whisper small" in lyrics_job.error
    assert MidiClip.objects.filter(track=track).count() == 3 and Sample.objects.filter(track=track).exists()

    # Retrying the failed step re-opens the pipeline; once it succeeds, the pipeline is done.
    (models / "small.pt.away").rename(weights_file)
    jobs.retry(lyrics_job)
    pipeline.refresh_from_db()
    assert pipeline.status == "running"
    assert drain(pipeline).status == "succeeded"


def test_a_failed_separation_skips_only_what_needs_stems(user, tmp_path, settings):
    settings.MODEL_DIR = tmp_path / "empty-models"
    make_tiny_whisper(settings.MODEL_DIR, "tiny")  # lyrics could run; separation cannot (no Demucs weights)
    settings.LYRICS_BACKEND = "openai-whisper"
    track = upload(user, tmp_path)
    pipeline = drain(do_process_track(track))
    assert steps(pipeline) == {"analyse": "succeeded", "separate": "failed"}
    assert pipeline.skipped == {
        "slice": "separation failed",
        "midi": "separation failed",
        "lyrics": "separation failed",
    }
    assert pipeline.status == "partial"
    assert Track.objects.get(pk=track.pk).status == "ready"  # the analysis stays


def test_a_cancelled_separation_that_is_retried_and_succeeds_unblocks_its_steps(user, tmp_path, models):
    track = upload(user, tmp_path)
    pipeline = do_process_track(track, options=OPTIONS)
    perform_job("analyse", str(pipeline.jobs.get(kind="analyse").pk))
    separation = pipeline.jobs.get(kind="separate")
    jobs.cancel(separation)  # the step alone, from the Jobs page: the pipeline goes on without its stems
    pipeline.refresh_from_db()
    assert pipeline.status == "partial"
    assert pipeline.skipped == dict.fromkeys(("slice", "midi", "lyrics"), "separation was cancelled")

    jobs.retry(separation)
    pipeline.refresh_from_db()
    assert pipeline.status == "running"
    assert pipeline.skipped == {}  # waiting for the separation again, not skipped
    pipeline = drain(pipeline)
    assert pipeline.skipped == {}
    assert pipeline.status == "succeeded", {j.step: j.status for j in pipeline.jobs.all()}
    assert set(steps(pipeline)) >= {"slice:drums", "midi:bass", "lyrics:vocals"}


def test_without_separation_the_later_steps_use_the_full_mix(user, tmp_path, models):
    track = upload(user, tmp_path)
    pipeline = drain(do_process_track(track, steps=["slice", "midi", "lyrics"], options=OPTIONS))
    assert steps(pipeline) == {
        "analyse": "succeeded", "slice:mix": "succeeded", "midi:mix": "succeeded", "lyrics:mix": "succeeded"
    }  # fmt: skip
    assert pipeline.status == "succeeded"
    assert MidiClip.objects.get(track=track).source == "mix"


def test_bad_requests_start_nothing(user, tmp_path):
    track = upload(user, tmp_path)
    before = Job.objects.count()
    with pytest.raises(PipelineError, match="Unknown step"):
        do_process_track(track, steps=["analyse", "mastering"])
    with pytest.raises(PipelineError, match="language"):
        do_process_tracks([track, track], options={"lyrics": {"language": "klingon"}})
    with pytest.raises(PipelineError, match="shifts"):
        do_process_track(track, options={"separate": {"shifts": 99}})
    assert Job.objects.count() == before and not Pipeline.objects.exists()


def test_cancel_stops_what_is_queued_and_keeps_what_is_done(user, tmp_path, models):
    track = upload(user, tmp_path)
    pipeline = do_process_track(track, options=OPTIONS)
    perform_job("analyse", str(pipeline.jobs.get(kind="analyse").pk))
    do_cancel_pipeline(pipeline)
    pipeline.refresh_from_db()
    assert pipeline.status == "cancelled"
    assert steps(pipeline) == {"analyse": "succeeded", "separate": "cancelled"}
    assert drain(pipeline).status == "cancelled"


def test_the_api_processes_a_track_and_reports_progress(user, tmp_path, api_client, other_user, models):
    track = upload(user, tmp_path)
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/tracks/{track.pk}/process/", {"steps": ["analyse", "separate"]}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "running" and body["steps"] == ["analyse", "separate"]
    drain(Pipeline.objects.get(pk=body["id"]))
    body = api_client.get(f"/api/pipelines/{body['id']}/").json()
    assert body["status"] == "succeeded" and body["progress"]["percent"] == 100
    assert {job["step"] for job in body["jobs"]} == {"analyse", "separate"}
    response = api_client.post(f"/api/tracks/{track.pk}/process/", {"steps": ["nope"]}, format="json")
    assert response.status_code == 400

    api_client.force_authenticate(other_user)
    assert api_client.get(f"/api/pipelines/{body['id']}/").status_code == 404
    assert api_client.post(f"/api/tracks/{track.pk}/process/", {}, format="json").status_code == 404
    assert api_client.post(f"/api/pipelines/{body['id']}/cancel/").status_code == 404


@pytest.mark.worker
def test_real_workers_run_the_whole_pipeline(user, tmp_path, models, worker_factory, monkeypatch):
    monkeypatch.setenv("WHISPER_DECODE_OPTIONS", '{"temperature": 0.0, "sample_len": 24}')
    track = upload(user, tmp_path)
    worker_factory("cpu")
    worker_factory("gpu")
    pipeline = do_process_track(track, options=OPTIONS)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        pipeline.refresh_from_db()
        if not pipeline.is_active:
            break
        time.sleep(0.05)
    assert pipeline.status == "succeeded", {j.step: (j.status, j.error) for j in pipeline.jobs.all()}
    assert len(steps(pipeline)) == 8
    assert Lyrics.objects.filter(track=track).count() == 1 and MidiClip.objects.filter(track=track).count() == 3
