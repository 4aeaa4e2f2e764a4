"""The analysis job end to end: upload through the API, a real worker analyses, the track shows results."""

import time

import numpy as np
import pytest
from django.core.files.storage import default_storage

from jobs.models import Job
from jobs.services import perform as perform_job
from tests import audio_factory as af
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_done(track_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        track = Track.objects.get(pk=track_id)
        if not track.is_processing:
            return track
        time.sleep(0.05)
    raise AssertionError(f"track {track_id} still {Track.objects.get(pk=track_id).status} after {timeout} s")


def upload(api_client, user, path):
    api_client.force_authenticate(user)
    with open(path, "rb") as fh:
        response = api_client.post("/api/tracks/", {"file": fh}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.mark.worker
def test_a_real_worker_analyses_an_upload(api_client, user, tmp_path, worker_factory):
    worker_factory("cpu")
    clicks = af.click_track(bpm=120, seconds=12, channels=2)
    track_id = upload(api_client, user, af.write(tmp_path / "beat.wav", clicks, fmt="wav"))

    track = wait_until_done(track_id)
    assert track.status == Track.Status.READY, track.error
    # The track is ready inside the job; the job itself is marked succeeded a moment later, when work returns.
    job = Job.objects.get(subject_id=track_id)
    deadline = time.monotonic() + 10
    while job.is_active and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == ("succeeded", 100, 1)
    assert job.started_at <= job.finished_at and job.worker
    assert abs(track.bpm - 120) <= 1
    assert len(track.beats) >= 18
    assert np.allclose(np.diff(track.beats[2:10]), 0.5, atol=0.03)
    assert track.loudness_lufs is not None and -40 < track.loudness_lufs < 0
    assert 100 <= len(track.peaks) <= 800 and max(track.peaks) == pytest.approx(1.0, abs=0.01)
    assert not track.preview  # WAV plays in browsers as it is


@pytest.mark.worker
def test_aiff_gets_a_browser_preview(api_client, user, tmp_path, worker_factory, client):
    worker_factory("cpu")
    track_id = upload(api_client, user, af.write(tmp_path / "a.aiff", af.tone(440, 4, channels=2), fmt="aiff"))
    track = wait_until_done(track_id)
    assert track.status == Track.Status.READY, track.error
    assert track.preview.name.endswith(".mp3")
    assert default_storage.exists(track.preview.name)
    client.force_login(user)
    response = client.get(f"/media/tracks/{track_id}/audio")
    assert response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content)[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def run_track_analysis(track_id):
    """Run the track's latest analysis job here, in the test process, as a worker would."""
    job = Job.objects.filter(subject_id=track_id, kind="analyse").order_by("-queued_at").first()
    if job is None:
        return "skipped"
    before = job.status
    perform_job("analyse", str(job.pk))
    job.refresh_from_db()
    return {"succeeded": "done", "failed": "failed"}.get(job.status, "skipped") if before == "queued" else "skipped"


def test_analysis_of_a_damaged_stored_file_fails_with_a_reason(api_client, user, tmp_path):
    track_id = upload(api_client, user, af.write(tmp_path / "a.wav", af.tone(440, 3), fmt="wav"))
    track = Track.objects.get(pk=track_id)
    with default_storage.open(track.original.name, "wb") as fh:  # bit rot after upload
        fh.write(b"garbage" * 100)
    assert run_track_analysis(track_id) == "failed"
    track.refresh_from_db()
    assert track.status == Track.Status.FAILED
    assert "not audio we can read" in track.error
    job = Job.objects.get(subject_id=track_id)
    assert (job.status, job.error, job.attempts) == ("failed", track.error, 1)


def test_a_redelivered_message_does_not_analyse_twice(api_client, user, tmp_path):
    track_id = upload(api_client, user, af.write(tmp_path / "a.wav", af.tone(440, 3), fmt="wav"))
    assert run_track_analysis(track_id) == "done"
    analysed_at = Track.objects.get(pk=track_id).analysed_at
    assert run_track_analysis(track_id) == "skipped"
    assert Track.objects.get(pk=track_id).analysed_at == analysed_at


def test_a_deleted_tracks_job_goes_with_it(api_client, user, tmp_path):
    track_id = upload(api_client, user, af.write(tmp_path / "a.wav", af.tone(440, 3), fmt="wav"))
    job_id = Job.objects.get(subject_id=track_id).pk
    Track.objects.filter(pk=track_id).delete()
    assert not Job.objects.filter(pk=job_id).exists()
    perform_job("analyse", str(job_id))  # a message still in the broker finds nothing to do


def test_reanalysing_replaces_the_preview_and_removes_the_old_one(api_client, user, tmp_path):
    from tracks.services import do_reanalyse_track

    track_id = upload(api_client, user, af.write(tmp_path / "a.aiff", af.tone(440, 3), fmt="aiff"))
    run_track_analysis(track_id)
    first = Track.objects.get(pk=track_id).preview.name
    do_reanalyse_track(Track.objects.get(pk=track_id))
    run_track_analysis(track_id)
    second = Track.objects.get(pk=track_id).preview.name
    assert second != first
    assert default_storage.exists(second)
    assert not default_storage.exists(first)
