"""Stem separation as a job: tiny HTDemucs checkpoints in demucs' own format, loaded by the model store."""

import time

import numpy as np
import pytest
import soundfile as sf
from django.core.files.storage import default_storage

from jobs.models import Job
from jobs.services import perform as perform_job
from stems.models import Stem, StemSet
from stems.services import do_request_separation
from tests import audio_factory as af
from tests.model_factory import make_tiny_htdemucs
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.STEMCRATE_DEVICE = "cpu"
    return settings.MODEL_DIR


def ready_track(api_client, user, tmp_path, seconds=4.0, sr=48000):
    """Upload and analyse a track here, as the cpu worker would."""
    api_client.force_authenticate(user)
    path = af.write(tmp_path / "song.wav", af.chord_progression(seconds=seconds, sr=sr, channels=2), sr=sr, fmt="wav")
    with open(path, "rb") as fh:
        track_id = api_client.post("/api/tracks/", {"file": fh}, format="multipart").json()["id"]
    perform_job("analyse", str(Job.objects.get(subject_id=track_id).pk))
    track = Track.objects.get(pk=track_id)
    assert track.status == "ready", track.error
    return track


def wait_for(job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if not job.is_active:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job still {Job.objects.get(pk=job_id).status} after {timeout} s")


@pytest.mark.worker
def test_a_real_worker_separates_an_uploaded_track(api_client, user, tmp_path, model_dir, worker_factory, client):
    make_tiny_htdemucs(model_dir, "htdemucs")
    track = ready_track(api_client, user, tmp_path)
    worker_factory("gpu")  # MODEL_DIR and the device reach the worker through its environment
    response = api_client.post(f"/api/tracks/{track.pk}/separate/", {"model": "htdemucs"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"

    job = wait_for(response.json()["id"])
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])
    assert (job.device, job.model_name, job.progress) == ("cpu", "htdemucs", 100)

    stems = api_client.get(f"/api/tracks/{track.pk}/stems/").json()["results"]
    assert sorted(s["name"] for s in stems) == ["bass", "drums", "other", "vocals"]
    original_frames = sf.info(default_storage.path(track.original.name)).frames
    client.force_login(user)
    for data in stems:
        stem = Stem.objects.get(pk=data["id"])
        info = sf.info(default_storage.path(stem.file.name))
        assert (info.samplerate, info.frames, info.channels) == (48000, original_frames, 2)
        assert data["sample_rate"] == 48000 and abs(data["duration"] - track.duration) < 0.01
        audio = client.get(data["audio_url"].replace("http://testserver", ""), HTTP_RANGE="bytes=0-1023")
        assert audio.status_code == 206 and audio["Content-Type"] == "audio/mpeg"
        assert len(stem.peaks) > 100


def test_a_missing_model_fails_the_job_with_the_command_to_run(api_client, user, tmp_path, model_dir):
    track = ready_track(api_client, user, tmp_path)
    job = do_request_separation(track, {"model": "htdemucs_6s"})
    perform_job("separate", str(job.pk))
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "model htdemucs_6s is not installed: run python manage.py download_models htdemucs_6s"
    assert job.attempts == 1 and not StemSet.objects.exists()


def test_running_again_replaces_the_set_and_another_model_adds_one(api_client, user, tmp_path, model_dir):
    make_tiny_htdemucs(model_dir, "htdemucs")
    make_tiny_htdemucs(model_dir, "htdemucs_6s")
    track = ready_track(api_client, user, tmp_path, seconds=3.0, sr=44100)

    first = do_request_separation(track, {"model": "htdemucs"})
    perform_job("separate", str(first.pk))
    old_files = [s.file.name for s in Stem.objects.filter(track=track)]
    again = do_request_separation(track, {"model": "htdemucs"})
    perform_job("separate", str(again.pk))
    assert StemSet.objects.filter(track=track).count() == 1
    assert Stem.objects.filter(track=track).count() == 4  # never duplicated
    assert not any(default_storage.exists(name) for name in old_files)

    six = do_request_separation(track, {"model": "htdemucs_6s"})
    perform_job("separate", str(six.pk))
    labels = sorted(s.label for s in StemSet.objects.filter(track=track))
    assert labels == ["htdemucs", "htdemucs_6s"]
    names = sorted(Stem.objects.filter(stem_set__model_name="htdemucs_6s").values_list("name", flat=True))
    assert names == ["bass", "drums", "guitar", "other", "piano", "vocals"]


def test_two_stem_mode_and_the_server_rendered_mix(api_client, user, tmp_path, model_dir, client):
    make_tiny_htdemucs(model_dir, "htdemucs")
    track = ready_track(api_client, user, tmp_path, seconds=3.0, sr=44100)
    job = do_request_separation(track, {"model": "htdemucs", "two_stems": "vocals"})
    perform_job("separate", str(job.pk))
    stem_set = StemSet.objects.get(track=track)
    assert sorted(stem_set.stems.values_list("name", flat=True)) == ["no_vocals", "vocals"]
    assert stem_set.label == "htdemucs (vocals + no_vocals)"

    client.force_login(user)
    response = client.get(f"/media/stem-sets/{stem_set.pk}/mix?stems=no_vocals")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    mix = tmp_path / "mix.wav"
    mix.write_bytes(b"".join(response.streaming_content))
    info = sf.info(mix)
    assert (info.samplerate, info.frames) == (44100, sf.info(default_storage.path(track.original.name)).frames)
    assert client.get(f"/media/stem-sets/{stem_set.pk}/mix?stems=drums").status_code == 400

    # The mixer's gain (dB) and pan travel with the link: vocals hard right at -6 dB, no_vocals as it is.
    both = client.get(f"/media/stem-sets/{stem_set.pk}/mix?stems=vocals,no_vocals&pan.vocals=1&gain.vocals=-6")
    assert both.status_code == 200
    mix.write_bytes(b"".join(both.streaming_content))
    mixed, _ = sf.read(mix, dtype="float32", always_2d=True)
    stems = {s.name: sf.read(default_storage.path(s.file.name), dtype="float32", always_2d=True)[0]
             for s in stem_set.stems.all()}  # fmt: skip
    expected_left = stems["no_vocals"][:, 0]
    expected_right = stems["no_vocals"][:, 1] + 10 ** (-6 / 20) * stems["vocals"][:, 1]
    np.testing.assert_allclose(mixed[:, 0], expected_left, atol=2e-4)  # 24-bit rounding
    np.testing.assert_allclose(mixed[:, 1], expected_right, atol=2e-4)
    for bad, reason in (("pan.vocals=2", "The pan of vocals must be between -1 and 1"),
                        ("gain.vocals=loud", "The gain of vocals must be a number")):  # fmt: skip
        response = client.get(f"/media/stem-sets/{stem_set.pk}/mix?stems=vocals&{bad}")
        assert response.status_code == 400 and reason in response.content.decode()


def test_bad_options_get_a_400_with_the_reason(api_client, user, tmp_path, model_dir):
    track = ready_track(api_client, user, tmp_path, seconds=2.0)
    for body, reason in (
        ({"model": "spleeter"}, "is not a valid choice"),
        ({"model": "htdemucs", "two_stems": "piano"}, "Only htdemucs_6s has a piano stem."),
        ({"shifts": 50}, "less than or equal to 10"),
    ):
        response = api_client.post(f"/api/tracks/{track.pk}/separate/", body, format="json")
        assert response.status_code == 400, body
        assert reason in response.json()["detail"], response.json()
    assert not Job.objects.filter(kind="separate").exists()


def test_another_users_stems_are_404(api_client, user, other_user, tmp_path, model_dir, client):
    make_tiny_htdemucs(model_dir, "htdemucs")
    track = ready_track(api_client, user, tmp_path, seconds=2.0)
    perform_job("separate", str(do_request_separation(track, {}).pk))
    stem = Stem.objects.filter(track=track).first()
    client.force_login(other_user)
    for url in (f"/media/stems/{stem.pk}/audio", f"/media/stems/{stem.pk}/file",
                f"/media/stem-sets/{stem.stem_set_id}/mix?stems=vocals", f"/tracks/{track.pk}/stems"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.post(f"/stems/{stem.stem_set_id}/delete").status_code == 404
    api_client.force_authenticate(other_user)
    assert api_client.get(f"/api/tracks/{track.pk}/stems/").status_code == 404
    assert api_client.post(f"/api/tracks/{track.pk}/separate/", {}, format="json").status_code == 404


@pytest.mark.worker
def test_a_job_whose_worker_is_killed_is_requeued_and_finishes_once(api_client, user, tmp_path, model_dir,
                                                                    worker_factory):  # fmt: skip
    """kill -9 the worker mid-separation: the lease lapses, a live worker's sweeper re-queues the job, it
    completes, and the stems exist once."""
    import os
    import signal

    make_tiny_htdemucs(model_dir, "htdemucs")
    track = ready_track(api_client, user, tmp_path, seconds=8.0, sr=44100)
    doomed = worker_factory("gpu")
    job = do_request_separation(track, {"model": "htdemucs", "shifts": 2})
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job.pk).status != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.02)
    os.killpg(doomed.proc.pid, signal.SIGKILL)  # the whole worker, no chance to clean up
    doomed.proc.wait()
    assert Job.objects.get(pk=job.pk).status == "running"  # orphaned: nobody renews its lease now

    worker_factory("gpu")  # a worker comes back; its sweeper finds the lapsed lease
    job = wait_for(job.pk, timeout=120)
    assert job.status == "succeeded", (job.error, job.traceback[-1500:])
    assert job.attempts == 2
    assert StemSet.objects.filter(track=track).count() == 1
    assert Stem.objects.filter(track=track).count() == 4
