"""Uploading through the API and the page: accepted formats, duplicates, and bad input leaving nothing behind."""

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from tests import audio_factory as af
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def media_files():
    """Every file in media storage, to prove that failures store nothing."""

    def listing():
        root = Path(settings.MEDIA_ROOT)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return listing


@pytest.fixture
def temp_files():
    """Upload temp files left in the temp dir (Django's are named *.upload*)."""

    def listing():
        return sorted(p for p in os.listdir(tempfile.gettempdir()) if ".upload" in p or p.startswith("stemcrate-"))

    return listing


def upload(api, path, name=None, **data):
    with open(path, "rb") as fh:
        if name:
            from django.core.files.uploadedfile import SimpleUploadedFile

            fh = SimpleUploadedFile(name, fh.read())
        return api.post("/api/tracks/", {"file": fh, **data}, format="multipart")


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "mp3", "ogg", "opus", "m4a"])
def test_it_accepts_every_supported_format(api, user, tmp_path, fmt, django_capture_on_commit_callbacks):
    path = af.write(tmp_path / f"song.{fmt}", af.tone(440, 3.0, channels=2), fmt=fmt)
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(api, path)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["duplicate"] is False
    assert body["format"] == fmt
    assert body["status"] == "pending"
    assert abs(body["duration"] - 3.0) < 0.1
    track = Track.objects.get(pk=body["id"])
    with default_storage.open(track.original.name, "rb") as stored:
        assert stored.read() == path.read_bytes()  # kept unmodified
    assert track.original.name.startswith(f"users/{user.pk}/tracks/{track.pk}/original.")
    assert len(callbacks) == 1  # the analysis job, enqueued on commit


def test_it_reads_embedded_tags_and_lets_the_form_override_them(api, tmp_path):
    path = af.write(tmp_path / "t.mp3", af.tone(440, 2.0), fmt="mp3", tags={"title": "Night Drive", "artist": "Kavi"})
    body = upload(api, path).json()
    assert (body["title"], body["artist"]) == ("Night Drive", "Kavi")
    other = af.write(tmp_path / "u.flac", af.tone(330, 2.0), fmt="flac", tags={"title": "Tagged"})
    body = upload(api, other, title="Typed title", artist="Typed artist").json()
    assert (body["title"], body["artist"]) == ("Typed title", "Typed artist")


def test_control_characters_in_tags_never_reach_the_database(api, tmp_path):
    path = af.write(tmp_path / "t.flac", af.tone(440, 2.0), fmt="flac")
    from mutagen.flac import FLAC

    tagged = FLAC(path)
    tagged["TITLE"] = "Night\x1b[31m\tDrive\r\n"
    tagged["ARTIST"] = "\x07Kavi"
    tagged.save()
    body = upload(api, path).json()
    assert (body["title"], body["artist"]) == ("Night [31m Drive", "Kavi")


def test_the_file_name_is_only_a_default_title(api, tmp_path):
    path = af.write(tmp_path / "x.wav", af.tone(440, 2.0), fmt="wav")
    body = upload(api, path, name="../../etc/My_Song\x07.wav").json()
    assert body["title"] == "My Song"
    assert body["original_filename"] == "My_Song.wav"
    track = Track.objects.get(pk=body["id"])
    assert ".." not in track.original.name and "My_Song" not in track.original.name


def test_a_very_long_unicode_name_is_kept_readable(api, tmp_path):
    path = af.write(tmp_path / "x.wav", af.tone(440, 2.0), fmt="wav")
    name = "Сон ✨ " * 80 + ".wav"
    body = upload(api, path, name=name).json()
    assert len(body["original_filename"]) <= 255
    assert body["original_filename"].endswith(".wav")
    assert body["original_filename"].startswith("Сон ✨")


def test_the_content_decides_the_format_not_the_name(api, tmp_path):
    path = af.write(tmp_path / "x.flac", af.tone(440, 2.0), fmt="flac")
    body = upload(api, path, name="really-a-flac.mp3").json()
    assert body["format"] == "flac"


def test_the_same_file_twice_returns_the_existing_track(api, user, tmp_path, media_files):
    path = af.write(tmp_path / "x.wav", af.tone(440, 2.0), fmt="wav")
    first = upload(api, path).json()
    files = media_files()
    second = upload(api, path, name="renamed.wav")
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["id"] == first["id"]
    assert "already have this file" in second.json()["detail"]
    assert Track.objects.filter(owner=user).count() == 1
    assert media_files() == files


def test_two_users_may_upload_the_same_file(api_client, user, other_user, tmp_path):
    path = af.write(tmp_path / "x.wav", af.tone(440, 2.0), fmt="wav")
    for owner in (user, other_user):
        api_client.force_authenticate(owner)
        assert upload(api_client, path).status_code == 201
    assert Track.objects.count() == 2


BAD_FILES = {
    "zero bytes": (af.zero_bytes, "x.wav", 400, "empty"),
    "text named .mp3": (af.text_as_mp3, "x.mp3", 415, "not audio"),
    "truncated wav": (af.truncated_wav, "x.wav", 400, "truncated"),
    "corrupt after header": (af.corrupt_after_header, "x.flac", 400, ""),
    "unsupported codec": (af.unsupported_codec, "x.wma", 415, "Unsupported codec"),
    "video only": (af.video_only, "x.mp4", 415, ""),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_get_a_clear_4xx_and_leave_nothing_behind(api, tmp_path, case, media_files, temp_files):
    make, name, status, words = BAD_FILES[case]
    path = make(tmp_path / name)
    before_media, before_tmp = media_files(), temp_files()
    response = upload(api, path)
    assert response.status_code == status, (case, response.content)
    detail = response.json()["detail"]
    assert words.lower() in detail.lower()
    assert len(detail) > 20  # a sentence, not a code
    assert not Track.objects.exists()
    assert media_files() == before_media
    assert temp_files() == before_tmp


def test_files_over_the_size_limit_get_413(api, tmp_path, settings, media_files):
    settings.UPLOAD_MAX_SIZE = 50_000
    path = af.write(tmp_path / "x.wav", af.tone(440, 2.0), fmt="wav")  # ~176 kB
    response = upload(api, path)
    assert response.status_code == 413
    assert response.json()["detail"] == "The file is larger than the upload limit of 0 MB."
    assert not Track.objects.exists()
    assert media_files() == []


def test_files_over_the_duration_limit_are_refused(api, tmp_path, settings):
    settings.UPLOAD_MAX_DURATION = 2
    path = af.write(tmp_path / "x.wav", af.tone(440, 3.0), fmt="wav")
    response = upload(api, path)
    assert response.status_code == 400
    assert response.json()["detail"] == "This file is 0:00:03 long; the limit is 0:00:02."


def test_a_request_without_a_file_gets_a_400(api):
    response = api.post("/api/tracks/", {"title": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("file:")


def test_a_storage_failure_leaves_no_row_and_no_file(api, tmp_path, media_files, monkeypatch):
    from django.db.models.signals import post_save

    def fail(sender, instance, **kwargs):
        raise OSError("disk full")

    path = af.write(tmp_path / "x.wav", af.tone(440, 2.0), fmt="wav")
    post_save.connect(fail, sender=Track)
    try:
        with pytest.raises(OSError):
            upload(api, path)
    finally:
        post_save.disconnect(fail, sender=Track)
    assert not Track.objects.exists()
    assert media_files() == []


def test_the_upload_page_takes_many_files_without_javascript(user_client, tmp_path):
    good = af.write(tmp_path / "a.wav", af.tone(440, 2.0), fmt="wav")
    bad = af.text_as_mp3(tmp_path / "b.mp3")
    with open(good, "rb") as g, open(bad, "rb") as b:
        response = user_client.post("/upload/", {"file": [g, b]})
    assert response.status_code == 400  # one of them failed
    page = response.content.decode()
    assert "Uploaded. Analysis has started." in page
    assert "not audio we can read" in page
    assert Track.objects.count() == 1


def test_anonymous_uploads_are_refused(api_client, tmp_path):
    path = af.write(tmp_path / "a.wav", af.tone(440, 2.0), fmt="wav")
    assert upload(api_client, path).status_code in (401, 403)
    assert not Track.objects.exists()


@pytest.mark.django_db(transaction=True)  # the real WSGI handler closes connections after each request
def test_a_large_upload_streams_to_storage_without_being_held_in_memory(user, tmp_path):
    """Not a timing: the peak of Python allocations while a 20 MB WAV goes through the real WSGI stack."""
    from benchmarks.upload_memory import multipart_body, upload_through_wsgi, write_wav

    small = write_wav(tmp_path / "small.wav", 0.2)
    assert upload_through_wsgi(user, tmp_path / "b0", multipart_body(small, tmp_path / "b0"))[0] == 201  # warm-up
    big = write_wav(tmp_path / "big.wav", 20)
    code, peak, _ = upload_through_wsgi(user, tmp_path / "b1", multipart_body(big, tmp_path / "b1"))
    assert code == 201
    assert peak < 4_000_000, f"{peak / 1e6:.1f} MB held for a {big.stat().st_size / 1e6:.0f} MB upload"
    track = Track.objects.get(owner=user, size=big.stat().st_size)
    assert default_storage.size(track.original.name) == big.stat().st_size
