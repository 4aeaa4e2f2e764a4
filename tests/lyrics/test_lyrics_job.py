"""Lyrics as a job: Whisper through the model store on a tiny checkpoint (format and pipeline, not accuracy)."""

import pytest

from jobs.models import Job
from jobs.services import perform as perform_job
from lyrics.models import Lyrics
from lyrics.services import do_request_lyrics
from tests.browser.conftest import make_track_with_fake_stems
from tests.model_factory import make_tiny_whisper
from tests.stems.test_separation_job import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FAST = {"temperature": 0.0, "sample_len": 24}  # a random model never ends a window by itself


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.STEMCRATE_DEVICE = "cpu"
    settings.WHISPER_DECODE_OPTIONS = FAST
    settings.LYRICS_BACKEND = "openai-whisper"  # the random tiny stand-ins are openai-whisper checkpoints
    return settings.MODEL_DIR


@pytest.fixture
def song(user, tmp_path):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    return track, {stem.name: stem for stem in stem_set.stems.all()}


def test_it_transcribes_the_vocals_stem_by_default(song, model_dir):
    track, stems = song
    make_tiny_whisper(model_dir, "tiny")
    job = do_request_lyrics(track, options={"model": "tiny", "language": "en"})
    assert (job.kind, job.queue, job.subject_id) == ("lyrics", "gpu", stems["vocals"].pk)
    perform_job("lyrics", str(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])
    assert (job.model_name, job.device) == ("tiny", "cpu")
    lyrics = Lyrics.objects.get(track=track)
    assert (lyrics.stem_id, lyrics.source, lyrics.model_name, lyrics.language) == (
        stems["vocals"].pk,
        "vocals",
        "tiny",
        "en",
    )
    assert lyrics.data == lyrics.original and not lyrics.edited
    # A random checkpoint's words are noise; their timing must still lie inside the audio.
    for line in lyrics.data["lines"]:
        assert 0 <= line["start"] <= line["end"] <= stems["vocals"].duration + 1e-6
        for word in line["words"]:
            assert line["start"] - 1e-6 <= word["start"] <= word["end"] <= line["end"] + 1e-6


def test_a_model_that_is_not_installed_is_refused_before_anything_is_queued(song, model_dir):
    track, _ = song
    with pytest.raises(ValueError, match=r"run python manage\.py download_models --backend openai-whisper small$"):
        do_request_lyrics(track, options={"model": "small"})
    with pytest.raises(ValueError, match="no lyrics model is installed for openai-whisper"):
        do_request_lyrics(track)  # nothing installed: no default either
    assert not Job.objects.filter(kind="lyrics").exists()


def test_a_model_removed_after_the_request_fails_the_job_with_the_command_to_run(song, model_dir):
    track, _ = song
    path = make_tiny_whisper(model_dir, "small")
    job = do_request_lyrics(track)  # the best installed model
    assert job.params["model"] == "small" and job.params["backend"] == "openai-whisper"
    path.unlink()
    perform_job("lyrics", str(job.pk))
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 1
    assert "python manage.py download_models --backend openai-whisper small" in job.error
    assert not Lyrics.objects.exists()


def test_bad_options_are_refused(song):
    track, _stems = song
    with pytest.raises(ValueError, match="language"):
        do_request_lyrics(track, options={"language": "klingon"})
    with pytest.raises(ValueError):
        do_request_lyrics(track, options={"model": "huge"})
    assert not Job.objects.filter(kind="lyrics").exists()


@pytest.mark.worker
def test_a_real_gpu_queue_worker_transcribes(song, model_dir, worker_factory, monkeypatch):
    track, stems = song
    make_tiny_whisper(model_dir, "tiny")
    monkeypatch.setenv("WHISPER_DECODE_OPTIONS", '{"temperature": 0.0, "sample_len": 24}')
    worker_factory("gpu")
    job = wait_for(do_request_lyrics(track, options={"model": "tiny"}).pk, timeout=180)
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])
    assert Lyrics.objects.filter(track=track, stem=stems["vocals"]).count() == 1
