"""Per-user limits: the storage quota (413), hourly upload and job rates (429 with Retry-After), 0 turning one off,
and the profile page showing where a user stands."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from core import quotas
from exports.models import Export
from jobs.models import Job
from pipelines.models import Pipeline
from tests import audio_factory as af
from tests.factories import make_track
from tests.test_settings import read_settings
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def wav(tmp_path):
    return af.write(tmp_path / "song.wav", af.tone(440, 1.0), fmt="wav")


def media_files():
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def post_upload(api, path):
    with open(path, "rb") as fh:
        return api.post("/api/tracks/", {"file": fh}, format="multipart")


# --- storage quota ----------------------------------------------------------------------------------------------


def test_it_counts_originals_stems_samples_and_exports_as_storage(user, other_user):
    make_track(user, size=1_000)
    make_track(other_user, size=5_000)  # someone else's library is not ours
    Export.objects.create(owner=user, scope=Export.Scope.LIBRARY, name="Library", size=250)
    assert quotas.storage_used(user) == 1_250


def test_it_refuses_an_upload_that_would_fill_the_library_and_stores_nothing(api, user, wav, settings):
    settings.STORAGE_QUOTA = 19_800_000_000 + wav.stat().st_size - 1
    make_track(user, size=19_800_000_000)
    before = media_files()
    response = post_upload(api, wav)
    assert response.status_code == 413, response.content
    size_kb = round(wav.stat().st_size / 1000)
    assert response.json()["detail"] == (
        f"Your library is full: 19.8 GB of 19.8 GB used, and this file needs {size_kb} KB. "
        "Delete tracks or exports to make room."
    )
    assert Track.objects.count() == 1
    assert media_files() == before


def test_the_upload_page_gives_the_quota_reason(client, user, wav, settings):
    settings.STORAGE_QUOTA = 1_000
    make_track(user, size=900)
    client.force_login(user)
    with open(wav, "rb") as fh:
        response = client.post("/upload/", {"file": fh})
    assert response.status_code == 400
    assert "Your library is full" in response.content.decode()
    assert Track.objects.count() == 1


def test_a_duplicate_still_answers_when_the_library_is_full(api, user, wav, settings):
    assert post_upload(api, wav).status_code == 201
    settings.STORAGE_QUOTA = 1  # now full, but the same bytes need no new room
    response = post_upload(api, wav)
    assert response.status_code == 200, response.content
    assert response.json()["duplicate"] is True


def test_a_full_library_gets_no_new_export(api, user, settings):
    settings.STORAGE_QUOTA = 1_000
    make_track(user, size=2_000)
    response = api.post("/api/exports/", {"scope": "library"}, format="json")
    assert response.status_code == 413, response.content
    assert response.json()["detail"].startswith("Your library is full: 2 KB of 1 KB used.")
    assert not Export.objects.exists()


# --- upload rate ------------------------------------------------------------------------------------------------


def test_the_upload_rate_limit_answers_429_with_the_reason(api, client, user, wav, settings):
    settings.UPLOAD_RATE_LIMIT = 2
    make_track(user)
    make_track(user)
    before = media_files()
    response = post_upload(api, wav)
    assert response.status_code == 429, response.content
    assert response.json()["detail"] == (
        "You have uploaded 2 tracks in the last hour, the most allowed. Try again in 60 minutes."
    )
    assert Track.objects.count() == 2
    assert media_files() == before

    client.force_login(user)
    with open(wav, "rb") as fh:
        page = client.post("/upload/", {"file": fh})
    assert page.status_code == 400
    assert "You have uploaded 2 tracks in the last hour, the most allowed." in page.content.decode()


def test_the_upload_rate_limit_sends_retry_after(api, user, wav, settings):
    settings.UPLOAD_RATE_LIMIT = 1
    make_track(user)
    response = post_upload(api, wav)
    assert response.status_code == 429
    assert 3500 < int(response["Retry-After"]) <= 3600


def test_uploads_older_than_an_hour_do_not_count(api, user, wav, settings):
    settings.UPLOAD_RATE_LIMIT = 1
    track = make_track(user)
    Track.objects.filter(pk=track.pk).update(created_at=timezone.now() - timedelta(minutes=61))
    assert post_upload(api, wav).status_code == 201


def test_the_analysis_an_upload_queues_is_not_a_job_against_the_limit(api, user, wav):
    assert post_upload(api, wav).status_code == 201
    assert Job.objects.filter(owner=user, kind="analyse").count() == 1
    assert quotas.recent_count(user, "job") == 0


# --- job rate ---------------------------------------------------------------------------------------------------


def test_the_job_rate_limit_answers_429_with_retry_after_on_every_job_endpoint(api, user, settings):
    settings.JOB_RATE_LIMIT = 1
    track = make_track(user)
    assert api.post(f"/api/tracks/{track.pk}/separate/", {}, format="json").status_code == 202
    for url in ("separate", "slice", "midi", "lyrics", "process"):
        response = api.post(f"/api/tracks/{track.pk}/{url}/", {}, format="json")
        assert response.status_code == 429, (url, response.content)
        assert response.json()["detail"] == (
            "You have started 1 job in the last hour, the most allowed. Try again in 60 minutes."
        )
        assert 3500 < int(response["Retry-After"]) <= 3600
    response = api.post("/api/exports/", {"scope": "track", "track": str(track.pk)}, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert Job.objects.count() == 1
    assert not Pipeline.objects.exists() and not Export.objects.exists()


def test_retry_after_is_when_the_oldest_counted_job_leaves_the_hour(user, settings):
    settings.JOB_RATE_LIMIT = 2
    track = make_track(user)
    old = Job.objects.create(owner=user, kind="separate", subject=track)
    Job.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(minutes=48))
    Job.objects.create(owner=user, kind="midi", subject=track)
    with pytest.raises(quotas.RateLimited) as caught:
        quotas.check_rate(user, "job")
    assert 11 * 60 < caught.value.retry_after <= 12 * 60
    assert caught.value.reason == (
        "You have started 2 jobs in the last hour, the most allowed. Try again in 12 minutes."
    )
    assert caught.value.status == 429 and isinstance(caught.value, ValueError)


def test_a_pipeline_counts_once_and_its_steps_not_at_all(user, settings, django_capture_on_commit_callbacks):
    from pipelines.services import do_process_track
    from stems.services import do_request_separation

    settings.JOB_RATE_LIMIT = 2
    track = make_track(user)
    do_process_track(track)
    assert Job.objects.filter(pipeline_step__isnull=False).exists()  # its first steps were created, unlimited
    assert quotas.recent_count(user, "job") == 1
    do_request_separation(track)
    with pytest.raises(quotas.RateLimited):
        do_request_separation(track)


def test_processing_several_tracks_counts_each_and_is_all_or_nothing(client, user, settings):
    settings.JOB_RATE_LIMIT = 2
    tracks = [make_track(user) for _ in range(3)]
    client.force_login(user)
    response = client.post("/tracks/bulk", {"action": "process", "track": [str(t.pk) for t in tracks]})
    assert response.status_code == 400
    assert "You can start at most 2 jobs an hour, and this would start 3." in response.content.decode()
    assert not Pipeline.objects.exists()

    from pipelines.services import do_process_tracks

    do_process_tracks(tracks[:1])
    with pytest.raises(quotas.RateLimited) as caught:
        do_process_tracks(tracks[1:])
    assert caught.value.reason.startswith("You have started 1 job in the last hour; 2 more would pass the limit")
    assert Pipeline.objects.count() == 1


def test_operator_commands_can_run_past_the_rate_limits(user, settings):
    settings.JOB_RATE_LIMIT = 1
    make_track(user)
    Pipeline.objects.create(owner=user, track=Track.objects.get(), steps=["separate"])
    with quotas.exempt():
        quotas.check_rate(user, "job")
    with pytest.raises(quotas.RateLimited):
        quotas.check_rate(user, "job")


# --- 0 turns a limit off ------------------------------------------------------------------------------------------


def test_zero_turns_each_limit_off(api, user, wav, settings):
    settings.STORAGE_QUOTA = 0
    settings.UPLOAD_RATE_LIMIT = 0
    settings.JOB_RATE_LIMIT = 0
    track = make_track(user, size=10**15)
    for _ in range(3):
        Job.objects.create(owner=user, kind="separate", subject=track)
    assert post_upload(api, wav).status_code == 201
    assert api.post(f"/api/tracks/{track.pk}/separate/", {}, format="json").status_code == 202


def test_limits_come_from_the_environment():
    values = read_settings("STORAGE_QUOTA", "UPLOAD_RATE_LIMIT", "JOB_RATE_LIMIT")
    assert values == {"STORAGE_QUOTA": 20_000_000_000, "UPLOAD_RATE_LIMIT": 120, "JOB_RATE_LIMIT": 300}
    values = read_settings(
        "STORAGE_QUOTA", "UPLOAD_RATE_LIMIT", "JOB_RATE_LIMIT", STORAGE_QUOTA_MB="5", UPLOAD_RATE_LIMIT="0",
        JOB_RATE_LIMIT="7",
    )  # fmt: skip
    assert values == {"STORAGE_QUOTA": 5_000_000, "UPLOAD_RATE_LIMIT": 0, "JOB_RATE_LIMIT": 7}


# --- what the user sees -------------------------------------------------------------------------------------------


def test_the_profile_shows_storage_and_limits(client, user, settings):
    settings.STORAGE_QUOTA = 20_000_000_000
    settings.UPLOAD_RATE_LIMIT = 120
    settings.JOB_RATE_LIMIT = 0
    make_track(user, size=5_000_000_000)
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "5 GB of 20 GB used (25%)" in page
    assert '<progress value="25" max="100"' in page
    assert "Uploads this hour" in page and "1 of 120" in page
    assert "0, no limit" in page


@pytest.mark.parametrize(
    ("size", "text"),
    [(999, "999 bytes"), (45_000_000, "45 MB"), (19_800_000_000, "19.8 GB"), (20_000_000_000, "20 GB")],
)
def test_sizes_read_as_people_write_them(size, text):
    assert quotas.human_size(size) == text
