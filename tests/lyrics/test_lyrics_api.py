"""Lyrics through the API and pages: edits keep word timings, every export carries the edit, owner only."""

import json

import pytest

from audio import lyrics as engine
from jobs.models import Job
from lyrics import services as lyrics_services
from lyrics.models import Lyrics
from tests.factories import make_lyrics
from tracks.models import Track

pytestmark = pytest.mark.django_db


def words(*items):
    return tuple(engine.Word(s, e, t, 0.9) for s, e, t in items)


@pytest.fixture
def lyrics(user):
    return make_lyrics(user)


def test_editing_keeps_the_timing_of_unchanged_words(lyrics, api_client, user):
    api_client.force_authenticate(user)
    response = api_client.patch(f"/api/lyrics/{lyrics.pk}/", {"text": "hello bright night\ndrive on"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["edited"] and body["text"].strip() == "hello bright night\ndrive on"
    first = body["words"]["lines"][0]["words"]
    timed = [(w["text"], w["start"], w["end"]) for w in first]
    assert timed[0] == ("hello", 1.0, 1.4) and timed[2] == ("night", 2.0, 2.5)
    assert first[1]["text"] == "bright" and 1.4 <= first[1]["start"] <= first[1]["end"] <= 2.0
    lyrics.refresh_from_db()
    assert lyrics.original["lines"][0]["text"] == "hello dark night"  # what Whisper heard is kept


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("lrc", "[00:01.00]hello bright night"),
        ("srt", "00:00:01,000 --> 00:00:02,500\nhello bright night"),
        ("vtt", "WEBVTT"),
        ("txt", "hello bright night\ndrive on"),
    ],
)
def test_every_export_carries_the_edit(lyrics, api_client, user, fmt, expected):
    lyrics_services.do_edit_lyrics(lyrics, "hello bright night\ndrive on")
    api_client.force_authenticate(user)
    exports = api_client.get(f"/api/lyrics/{lyrics.pk}/").json()["exports"]
    assert exports[fmt].endswith(f"/api/lyrics/{lyrics.pk}/export/{fmt}/")
    response = api_client.get(exports[fmt])
    assert response.status_code == 200
    body = response.content.decode()
    assert expected in body and "dark" not in body
    assert f"Night Drive - Lyrics.{fmt}" in response["Content-Disposition"]


def test_the_json_export_lists_timed_words(lyrics, user_client):
    response = user_client.get(f"/lyrics/{lyrics.pk}/export?format=json")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert [w["text"] for line in data["lines"] for w in line["words"]] == ["hello", "dark", "night", "drive", "on"]
    assert user_client.get(f"/lyrics/{lyrics.pk}/export?format=doc").status_code == 400


def test_bad_requests_get_a_reason(lyrics, api_client, user):
    api_client.force_authenticate(user)
    response = api_client.get(f"/api/lyrics/{lyrics.pk}/export/docx/")
    assert response.status_code == 400 and "format must be one of" in response.json()["detail"]
    response = api_client.patch(f"/api/lyrics/{lyrics.pk}/", {"text": 5 * "x" * 30_000}, format="json")
    assert response.status_code == 400


def test_requests_for_a_track_without_stems_transcribe_the_track(lyrics, api_client, user):
    track = lyrics.track
    Track.objects.filter(pk=track.pk).update(status="ready")
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/tracks/{track.pk}/lyrics/", {"model": "tiny.en", "language": "en"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.subject_id, job.queue, job.params["model"], job.params["language"]) == (
        "lyrics", track.pk, "gpu", "tiny.en", "en"
    )  # fmt: skip
    # A model that is not installed: 400 with the command, and nothing queued.
    response = api_client.post(f"/api/tracks/{track.pk}/lyrics/", {"model": "small"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "lyrics model small is not installed for faster-whisper: run python manage.py download_models small"
    )
    assert Job.objects.filter(kind="lyrics").count() == 1
    response = api_client.post(f"/api/tracks/{track.pk}/lyrics/", {"language": "xx-none"}, format="json")
    assert response.status_code == 400 and "detail" in response.json()


def test_other_users_get_404(lyrics, api_client, other_user, client):
    api_client.force_authenticate(other_user)
    assert api_client.get("/api/lyrics/").json()["count"] == 0
    for method, url in [
        ("get", f"/api/lyrics/{lyrics.pk}/"),
        ("patch", f"/api/lyrics/{lyrics.pk}/"),
        ("delete", f"/api/lyrics/{lyrics.pk}/"),
        ("get", f"/api/lyrics/{lyrics.pk}/export/lrc/"),
        ("post", f"/api/tracks/{lyrics.track_id}/lyrics/"),
    ]:
        assert getattr(api_client, method)(url, {}, format="json").status_code == 404, url
    client.force_login(other_user)
    assert client.get(f"/lyrics/{lyrics.pk}/export?format=lrc").status_code == 404
    assert Lyrics.objects.filter(pk=lyrics.pk).exists()


def test_the_models_endpoint_lists_installed_models_first_with_install_commands(api_client, user, settings, tmp_path):
    api_client.force_authenticate(user)
    body = api_client.get("/api/lyrics/models/").json()
    assert body["backend"] == "faster-whisper" and body["default"] == "tiny.en"
    installed = [m["name"] for m in body["models"] if m["installed"]]
    assert installed == ["tiny.en"] and body["models"][0]["name"] == "tiny.en"
    small = next(m for m in body["models"] if m["name"] == "small")
    assert small["install_command"] == "python manage.py download_models small" and not small["installed"]
    other = api_client.get("/api/lyrics/models/?backend=openai-whisper").json()
    assert other["backend"] == "openai-whisper" and other["default"] is None
    assert next(m for m in other["models"] if m["name"] == "small")["install_command"] == (
        "python manage.py download_models --backend openai-whisper small"
    )
    assert api_client.get("/api/lyrics/models/?backend=vosk").status_code == 400
    api_client.force_authenticate(None)
    assert api_client.get("/api/lyrics/models/").status_code in (401, 403)


def test_the_backend_setting_decides_what_is_offered(api_client, user, settings, lyrics, tmp_path):
    from tests.model_factory import make_tiny_whisper

    settings.LYRICS_BACKEND = "openai-whisper"
    settings.MODEL_DIR = tmp_path / "models"
    api_client.force_authenticate(user)
    track = lyrics.track
    Track.objects.filter(pk=track.pk).update(status="ready")
    response = api_client.post(f"/api/tracks/{track.pk}/lyrics/", {}, format="json")
    assert (
        response.status_code == 400 and "no lyrics model is installed for openai-whisper" in response.json()["detail"]
    )
    make_tiny_whisper(settings.MODEL_DIR, "base")
    response = api_client.post(f"/api/tracks/{track.pk}/lyrics/", {}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.params["backend"], job.params["model"]) == ("openai-whisper", "base")
    # A job may still choose the other backend, with a model installed for it.
    response = api_client.post(f"/api/tracks/{track.pk}/lyrics/", {"backend": "faster-whisper"}, format="json")
    assert (
        response.status_code == 400 and "no lyrics model is installed for faster-whisper" in response.json()["detail"]
    )
