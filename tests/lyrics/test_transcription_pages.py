"""The MIDI and lyrics pages: they render their data for the piano roll and the karaoke view, the lyrics editor
saves (keeping word timings), reverts and rejects bad input with a reason, deletes go back to the track, and
everything is the owner's alone."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from audio import lyrics as engine
from audio import midi as midi_engine
from lyrics import services as lyrics_services
from lyrics.models import Lyrics
from midi import services as midi_services
from midi.models import MidiClip
from stems.models import Stem, StemSet
from tests.factories import make_lyrics, make_track

pytestmark = pytest.mark.django_db

NOTES = [[0.5, 0.9, 45, 90], [1.0, 1.4, 48, 70], [1.5, 2.25, 52, 110], [2.5, 3.0, 60, 64]]


def embedded_json(page: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    assert match, f"no {element_id} JSON in the page"
    return json.loads(match.group(1))


def words(*items):
    return tuple(engine.Word(s, e, t, 0.9) for s, e, t in items)


@pytest.fixture
def clip(user, tmp_path):
    track = make_track(user, title="Night Drive", artist="Mara Lune", duration=30.0, bpm=96.0)
    path = tmp_path / "clip.mid"
    notes = [midi_engine.Note(*n) for n in NOTES]
    path.write_bytes(midi_engine.to_midi_bytes(notes, bpm=96.0, name="Night Drive - Bass"))
    return midi_services.do_store_midi(
        track, stem=None, source="mix", job=None, preset="mix", params={"onset_threshold": 0.5, "quantise": False},
        notes=NOTES, midi_path=str(path), bpm=96.0, quantised=False,
    )  # fmt: skip


@pytest.fixture
def lyrics(user):
    return make_lyrics(user)


# --- MIDI ------------------------------------------------------------------------------------------------


def test_it_renders_the_piano_roll_with_the_notes_embedded(user_client, clip):
    response = user_client.get(reverse("midi:midi", args=[clip.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert embedded_json(page, "midi-notes") == NOTES
    config = embedded_json(page, "midi-config")
    assert config["bpm"] == 96.0 and config["duration"] == 30.0 and config["source"] == "mix"
    assert "Full mix MIDI" in page and "Night Drive" in page
    assert reverse("midi:midi_file", args=[clip.pk]) in page
    assert reverse("tracks:track_audio", args=[clip.track_id]) in page  # the mix plays under the notes
    assert reverse("tracks:track", args=[clip.track_id]) in page
    assert "A2" in page and "C4" in page  # the range, lowest to highest note
    assert "Onset threshold" in page and "Not quantised" in page
    for mode in ("Notes only", "Notes over the mix", "Mix only"):
        assert mode in page
    assert 'src="/static/js/pianoroll.js"' in page and "css/transcription.css" in page
    assert "style=" not in page and "onclick" not in page  # nothing the CSP would block


def make_stem(track, name="bass"):
    stem_set = StemSet.objects.create(owner=track.owner, track=track, model_name="htdemucs", signature="test")
    stem = Stem(owner=track.owner, track=track, stem_set=stem_set, name=name, duration=track.duration,
                sample_rate=44100)  # fmt: skip
    stem.file.save(f"{name}.flac", ContentFile(b"fLaC fake"), save=False)
    stem.save()
    return stem


def test_a_clip_of_a_stem_plays_that_stem(user_client, user, tmp_path):
    track = make_track(user, duration=8.0)
    bass = make_stem(track)
    path = tmp_path / "bass.mid"
    path.write_bytes(midi_engine.to_midi_bytes([midi_engine.Note(0.1, 0.5, 33, 100)], bpm=None))
    clip = midi_services.do_store_midi(
        track, stem=bass, source="bass", job=None, preset="bass", params={}, notes=[[0.1, 0.5, 33, 100]],
        midi_path=str(path), bpm=None, quantised=True,
    )  # fmt: skip
    page = user_client.get(reverse("midi:midi", args=[clip.pk])).content.decode()
    assert reverse("stems:stem_audio", args=[bass.pk]) in page
    assert "Bass MIDI" in page and "Stem only" in page and "Quantised" in page
    assert "The preset’s defaults" in page
    assert embedded_json(page, "midi-config")["bpm"] == 120.0  # no tempo: the file's default, and the grid's


def test_an_empty_clip_says_so(user_client, user, tmp_path):
    track = make_track(user, duration=5.0)
    path = tmp_path / "empty.mid"
    path.write_bytes(midi_engine.to_midi_bytes([], bpm=120.0))
    clip = midi_services.do_store_midi(
        track, stem=None, source="mix", job=None, preset="mix", params={}, notes=[], midi_path=str(path),
        bpm=120.0, quantised=False,
    )  # fmt: skip
    page = user_client.get(reverse("midi:midi", args=[clip.pk])).content.decode()
    assert "No notes were found" in page and embedded_json(page, "midi-notes") == []


def test_deleting_a_clip_asks_first_then_goes_back_to_the_track(user_client, clip, django_capture_on_commit_callbacks):
    url = reverse("midi:midi_delete", args=[clip.pk])
    name = clip.file.name
    page = user_client.get(url).content.decode()
    assert "Delete permanently" in page and MidiClip.objects.filter(pk=clip.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("tracks:track", args=[clip.track_id])
    assert "Deleted the full mix MIDI clip." in response.content.decode()
    assert not MidiClip.objects.filter(pk=clip.pk).exists()
    assert not default_storage.exists(name)


def test_deleting_a_clip_with_htmx_redirects_the_page(user_client, clip):
    response = user_client.post(reverse("midi:midi_delete", args=[clip.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("tracks:track", args=[clip.track_id])


def test_the_midi_file_downloads(user_client, clip):
    response = user_client.get(reverse("midi:midi_file", args=[clip.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"MThd")
    assert "Night Drive - Full mix.mid" in response["Content-Disposition"]


# --- lyrics ----------------------------------------------------------------------------------------------


def test_it_renders_the_karaoke_view_with_the_words_embedded(user_client, lyrics):
    response = user_client.get(reverse("lyrics:lyrics", args=[lyrics.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    lines = embedded_json(page, "lyrics-lines")
    assert [line["text"] for line in lines] == ["hello dark night", "drive on"]
    assert [(w["text"], w["start"], w["end"]) for w in lines[0]["words"]] == [
        ("hello", 1.0, 1.4), ("dark", 1.5, 1.9), ("night", 2.0, 2.5)
    ]  # fmt: skip
    assert page.count('class="karaoke-word"') == 5 and page.count('class="karaoke-line"') == 2
    assert reverse("tracks:track_audio", args=[lyrics.track_id]) in page
    assert "Whisper tiny" in page and "English (en)" in page
    assert 'name="text"' in page and "hello dark night\ndrive on" in page
    for fmt in ("lrc", "srt", "vtt", "json", "txt"):
        assert f"{reverse('lyrics:lyrics_export', args=[lyrics.pk])}?format={fmt}" in page
    assert "data-edited-badge" not in page and "Revert to Whisper" not in page
    assert 'src="/static/js/karaoke.js"' in page and "css/transcription.css" in page
    assert "style=" not in page and "onclick" not in page


def test_saving_an_edit_keeps_the_word_timings_and_says_so(user_client, lyrics):
    url = reverse("lyrics:lyrics_edit", args=[lyrics.pk])
    response = user_client.post(url, {"text": "hello bright night\r\ndrive on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # the panel, not the page
    assert "Saved; word timings kept where words still match." in page
    assert 'id="karaoke-panel"' in page and 'id="lyrics-facts"' in page and 'hx-swap-oob="true"' in page
    assert "data-edited-badge" in page and "Revert to Whisper" in page
    first = embedded_json(page, "lyrics-lines")[0]["words"]
    assert (first[0]["text"], first[0]["start"], first[0]["end"]) == ("hello", 1.0, 1.4)
    assert (first[2]["text"], first[2]["start"], first[2]["end"]) == ("night", 2.0, 2.5)
    assert first[1]["text"] == "bright" and 1.4 <= first[1]["start"] <= first[1]["end"] <= 2.0
    lyrics.refresh_from_db()
    assert lyrics.edited and lyrics.text.strip() == "hello bright night\ndrive on"
    assert lyrics.original["lines"][0]["text"] == "hello dark night"


def test_saving_without_htmx_redirects_with_a_message(user_client, lyrics):
    response = user_client.post(reverse("lyrics:lyrics_edit", args=[lyrics.pk]), {"text": "hello night"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("lyrics:lyrics", args=[lyrics.pk])
    page = response.content.decode()
    assert "Saved; word timings kept where words still match." in page and "data-edited-badge" in page


@pytest.mark.parametrize("htmx", [True, False])
def test_text_that_is_too_long_is_a_400_with_a_reason(user_client, lyrics, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    text = "la " * 40_000  # 120,000 characters
    response = user_client.post(reverse("lyrics:lyrics_edit", args=[lyrics.pk]), {"text": text}, **headers)
    assert response.status_code == 400
    page = response.content.decode()
    assert "too long" in page and "120,000 characters" in page and "100,000" in page
    assert "is-editing" in page  # the editor stays open with what was typed
    lyrics.refresh_from_db()
    assert not lyrics.edited and lyrics.text.strip() == "hello dark night\ndrive on"


@pytest.mark.parametrize("data", [{}, {"text": "   \n  "}])
def test_missing_or_blank_text_is_a_400_with_a_reason(user_client, lyrics, data):
    response = user_client.post(reverse("lyrics:lyrics_edit", args=[lyrics.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Type the lyrics" in response.content.decode()
    lyrics.refresh_from_db()
    assert not lyrics.edited


def test_reverting_brings_back_whispers_version(user_client, lyrics):
    lyrics_services.do_edit_lyrics(lyrics, "goodbye\ndrive on")
    page = user_client.get(reverse("lyrics:lyrics", args=[lyrics.pk])).content.decode()
    assert "data-edited-badge" in page and "Revert to Whisper" in page and "data-confirm=" in page
    response = user_client.post(reverse("lyrics:lyrics_revert", args=[lyrics.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Reverted to Whisper’s version." in page and "data-edited-badge" not in page
    assert [line["text"] for line in embedded_json(page, "lyrics-lines")] == ["hello dark night", "drive on"]
    lyrics.refresh_from_db()
    assert not lyrics.edited and lyrics.text.strip() == "hello dark night\ndrive on"


def test_the_exports_carry_the_edit(user_client, lyrics):
    user_client.post(reverse("lyrics:lyrics_edit", args=[lyrics.pk]), {"text": "hello bright night\ndrive on"})
    url = reverse("lyrics:lyrics_export", args=[lyrics.pk])
    expected = {
        "lrc": "[00:01.00]hello bright night",
        "srt": "00:00:01,000 --> 00:00:02,500\nhello bright night",
        "vtt": "hello bright night",
        "txt": "hello bright night\ndrive on",
        "json": '"bright"',
    }
    for fmt, text in expected.items():
        response = user_client.get(f"{url}?format={fmt}")
        assert response.status_code == 200, fmt
        body = response.content.decode()
        assert text in body and "dark" not in body, fmt
        assert f"Night Drive - Lyrics.{fmt}" in response["Content-Disposition"]


def test_lyrics_without_words_explain_why(user_client, user):
    track = make_track(user, duration=12.0)
    data = engine.Lyrics("en", (), "tiny", note=engine.NO_VOCALS_NOTE, duration=12.0)
    lyrics = lyrics_services.do_store_lyrics(
        track, stem=None, source="mix", job=None, model_name="tiny", language="", params={},
        data=data.to_dict(), text="", note=data.note,
    )  # fmt: skip
    page = user_client.get(reverse("lyrics:lyrics", args=[lyrics.pk])).content.decode()
    assert "No vocals were found: the audio is silent" in page and "transcribe the vocals stem" in page
    assert embedded_json(page, "lyrics-lines") == [] and "Not detected" in page
    # Typed lyrics are placed over the audio, and then show as lines.
    response = user_client.post(reverse("lyrics:lyrics_edit", args=[lyrics.pk]), {"text": "la la la\nhey"})
    assert response.status_code == 302
    lines = embedded_json(user_client.get(reverse("lyrics:lyrics", args=[lyrics.pk])).content.decode(), "lyrics-lines")
    assert [line["text"] for line in lines] == ["la la la", "hey"]


def test_deleting_lyrics_asks_first_then_goes_back_to_the_track(user_client, lyrics):
    url = reverse("lyrics:lyrics_delete", args=[lyrics.pk])
    assert "Delete permanently" in user_client.get(url).content.decode()
    response = user_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("tracks:track", args=[lyrics.track_id])
    assert "Deleted the lyrics of “Night Drive”." in response.content.decode()
    assert not Lyrics.objects.filter(pk=lyrics.pk).exists()


# --- methods and owners ----------------------------------------------------------------------------------


def test_post_views_refuse_get_and_pages_refuse_post(user_client, lyrics, clip):
    for name in ("lyrics_edit", "lyrics_revert"):
        assert user_client.get(reverse(f"lyrics:{name}", args=[lyrics.pk])).status_code == 405
    assert user_client.post(reverse("lyrics:lyrics", args=[lyrics.pk])).status_code == 405
    assert user_client.post(reverse("midi:midi", args=[clip.pk])).status_code == 405


def test_another_users_clip_and_lyrics_are_a_404_everywhere(client, other_user, clip, lyrics):
    client.force_login(other_user)
    gets = [
        reverse("midi:midi", args=[clip.pk]),
        reverse("midi:midi_file", args=[clip.pk]),
        reverse("midi:midi_delete", args=[clip.pk]),
        reverse("lyrics:lyrics", args=[lyrics.pk]),
        reverse("lyrics:lyrics_export", args=[lyrics.pk]) + "?format=txt",
        reverse("lyrics:lyrics_delete", args=[lyrics.pk]),
    ]
    posts = [
        reverse("midi:midi_delete", args=[clip.pk]),
        reverse("lyrics:lyrics_edit", args=[lyrics.pk]),
        reverse("lyrics:lyrics_revert", args=[lyrics.pk]),
        reverse("lyrics:lyrics_delete", args=[lyrics.pk]),
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"hello dark night" not in response.content and b"Night Drive" not in response.content
    for url in posts:
        assert client.post(url, {"text": "pwned"}).status_code == 404, url
    lyrics.refresh_from_db()
    assert lyrics.text.strip() == "hello dark night\ndrive on" and not lyrics.edited
    assert MidiClip.objects.filter(pk=clip.pk).exists() and Lyrics.objects.filter(pk=lyrics.pk).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, clip, lyrics):
    for url in (reverse("midi:midi", args=[clip.pk]), reverse("lyrics:lyrics", args=[lyrics.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("account_login") in response["Location"]
