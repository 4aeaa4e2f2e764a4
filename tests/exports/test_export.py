"""Exports: a ZIP of a track with its stems, samples, MIDI and lyrics, with a manifest and a REAPER project,
built by a job; formats read back; names safe; owner only."""

import csv
import io
import json
import zipfile

import mido
import pytest
import soundfile as sf

from audio import lyrics as lyrics_engine
from audio import reaper
from exports.models import Export
from jobs.models import Job
from jobs.services import perform as perform_job
from lyrics import services as lyrics_services
from midi import services as midi_services
from samples import services as sample_services
from samples.models import Sample
from samples.services import do_request_slice
from tests.browser.conftest import make_track_with_fake_stems
from tracks import services
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)


def write_midi(path, bpm=120.0):
    song = mido.MidiFile(ticks_per_beat=480)
    part = mido.MidiTrack()
    part.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    part.append(mido.Message("note_on", note=45, velocity=90, time=0))
    part.append(mido.Message("note_off", note=45, velocity=0, time=480))
    song.tracks.append(part)
    song.save(path)
    return str(path)


@pytest.fixture
def song(user, tmp_path):
    """A track with stems, sliced drums, a bass MIDI clip and lyrics."""
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song", title="Night Drive")
    Track.objects.filter(pk=track.pk).update(artist="Mara Lune")
    track.refresh_from_db()
    stems = {s.name: s for s in stem_set.stems.all()}
    job = do_request_slice(track, stem=stems["drums"])
    perform_job("slice", str(job.pk))
    midi_services.do_store_midi(
        track, stem=stems["bass"], source="bass", job=None, preset="bass", params={},
        notes=[[0.0, 0.5, 45, 90]], midi_path=write_midi(tmp_path / "bass.mid", track.bpm), bpm=track.bpm,
        quantised=False,
    )  # fmt: skip
    data = lyrics_engine.Lyrics(
        "en", (lyrics_engine.Line(1.0, 2.0, "drive all night", ()),), "tiny", duration=track.duration
    )
    lyrics_services.do_store_lyrics(
        track, stem=stems["vocals"], source="vocals", job=None, model_name="tiny", language="en", params={},
        data=data.to_dict(), text="drive all night",
    )  # fmt: skip
    return track, stems


def build(api_client, user, body):
    api_client.force_authenticate(user)
    response = api_client.post("/api/exports/", body, format="json")
    assert response.status_code == 202, response.content
    export = response.json()
    assert export["status"] == "queued" and export["download_url"] is None
    perform_job("export", str(Job.objects.get(subject_id=export["id"]).pk))
    export = api_client.get(f"/api/exports/{export['id']}/").json()
    assert export["status"] == "succeeded", Job.objects.get(subject_id=export["id"]).error
    return export


def download(client, user, export) -> zipfile.ZipFile:
    client.force_login(user)
    response = client.get(export["download_url"])
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_track_export_has_the_layout_names_and_manifest_producers_expect(song, user, api_client, client):
    track, _ = song
    export = build(api_client, user, {"scope": "track", "track": str(track.pk)})
    archive = download(client, user, export)
    names = set(archive.namelist())
    folder = "Mara Lune - Night Drive"
    bpm = f"{round(track.bpm)} BPM" if abs(track.bpm - round(track.bpm)) < 0.05 else f"{track.bpm:.1f} BPM"
    key = track.key_label
    assert f"{folder}/Night Drive - {bpm} - {key}.wav" in names
    for stem in ("Bass", "Drums", "Other", "Vocals"):
        assert f"{folder}/Stems/{stem} - {bpm} - {key}.wav" in names
    samples = Sample.objects.filter(track=track).count()
    sample_names = sorted(n for n in names if "/Samples/" in n)
    assert len(sample_names) == samples
    assert all(n.startswith(f"{folder}/Samples/") and n.endswith(".wav") for n in sample_names)
    assert any(n.split("/")[-1].endswith(" 01.wav") for n in sample_names)  # "Percussion 01.wav"
    assert f"{folder}/MIDI/Bass - {bpm} - {key}.mid" in names
    for ext in ("lrc", "srt", "vtt", "txt", "json"):
        assert f"{folder}/Lyrics/{folder}.{ext}" in names
    assert b"drive all night" in archive.read(f"{folder}/Lyrics/{folder}.lrc")
    assert f"{folder}/{folder}.rpp" in names and {"manifest.json", "manifest.csv"} <= names
    assert export["file_count"] == len(names)

    manifest = json.loads(archive.read("manifest.json"))
    rows = manifest["files"] if isinstance(manifest, dict) else manifest
    listed = {row["path"] for row in rows}
    assert listed == names - {"manifest.json", "manifest.csv"}
    by_path = {row["path"]: row for row in rows}
    one = by_path[sample_names[0]]
    assert one["kind"] == "sample" and one["stem"] == "Drums" and one["category"] and one["end"] > one["start"]
    assert by_path[f"{folder}/Stems/Bass - {bpm} - {key}.wav"]["bpm"] == pytest.approx(track.bpm, abs=0.01)
    table = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    assert {row["path"] for row in table} == listed
    assert {"path", "kind", "source", "start", "end", "bpm", "key", "category"} <= set(table[0])


FORMATS = [("wav16", 44100, "PCM_16"), ("wav32f", 48000, "FLOAT"), ("flac", 48000, "PCM_24"), ("aiff", 44100, "PCM_24")]


def test_formats_and_rates_read_back(song, user, api_client, client):
    track, _ = song
    for fmt, rate, subtype in FORMATS:
        body = {"scope": "track", "track": str(track.pk), "format": fmt, "sample_rate": rate, "include": ["stems"]}
        archive = download(client, user, build(api_client, user, body))
        audio = [n for n in archive.namelist() if "/Stems/" in n]
        assert len(audio) == 4
        for name in audio:
            info = sf.info(io.BytesIO(archive.read(name)))
            assert (info.samplerate, info.subtype) == (rate, subtype), name
            assert info.duration == pytest.approx(6.0, abs=0.01)


def test_the_reaper_project_references_files_that_exist_at_the_track_tempo(song, user, api_client, client):
    track, _ = song
    archive = download(client, user, build(api_client, user, {"scope": "track", "track": str(track.pk)}))
    folder = "Mara Lune - Night Drive"
    text = archive.read(f"{folder}/{folder}.rpp").decode("utf-8")
    files = reaper.parse_rpp_files(text)
    assert len(files) == 1 + 4 + 1  # the original, four stems, one MIDI clip
    assert all(f"{folder}/{path}" in archive.namelist() for path in files)
    assert f"TEMPO {track.bpm:g}"[:9] in text or f"TEMPO {round(track.bpm, 3)}" in text
    assert "POSITION 0" in text


def test_hostile_titles_never_escape_the_archive(user, tmp_path, api_client, client):
    track, _ = make_track_with_fake_stems(user, tmp_path / "evil", title="../../etc/passwd")
    Track.objects.filter(pk=track.pk).update(artist="CON", title="..\\..\\boot\x1b.ini/..")
    archive = download(client, user, build(api_client, user, {"scope": "track", "track": str(track.pk)}))
    for name in archive.namelist():
        parts = name.split("/")
        assert not name.startswith("/") and "\\" not in name and "\x00" not in name
        assert all(part not in ("", ".", "..") for part in parts), name
        assert parts[0].upper() != "CON"


def test_favourites_and_collections_export_their_samples(song, user, api_client, client):
    track, _ = song
    samples = list(Sample.objects.filter(track=track).order_by("index"))
    sample_services.do_bulk_favourite(user, samples[:3], True)
    archive = download(client, user, build(api_client, user, {"scope": "favourites"}))
    assert len([n for n in archive.namelist() if n.endswith(".wav")]) == 3
    assert not any("/Stems/" in n for n in archive.namelist())

    crate = services.do_create_collection(user, "Crate")
    sample_services.do_add_samples_to_collection(crate, samples[3:5])
    archive = download(client, user, build(api_client, user, {"scope": "collection", "collection": str(crate.pk)}))
    assert len([n for n in archive.namelist() if n.endswith(".wav")]) == 2


def test_bad_requests_and_other_users(song, user, other_user, api_client, client):
    track, _ = song
    api_client.force_authenticate(user)
    for body, reason in [
        ({"scope": "track"}, "which track"),
        ({"scope": "track", "track": str(track.pk), "format": "ogg"}, "format"),
        ({"scope": "track", "track": str(track.pk), "sample_rate": 22050}, "sample_rate"),
        ({"scope": "tracks"}, "at least one track"),
    ]:
        response = api_client.post("/api/exports/", body, format="json")
        assert response.status_code == 400 and reason in str(response.json()), (body, response.json())
    assert not Export.objects.exists()

    export = build(api_client, user, {"scope": "track", "track": str(track.pk), "include": ["midi"]})
    api_client.force_authenticate(other_user)
    assert api_client.get(f"/api/exports/{export['id']}/").status_code == 404
    assert api_client.delete(f"/api/exports/{export['id']}/").status_code == 404
    response = api_client.post("/api/exports/", {"scope": "track", "track": str(track.pk)}, format="json")
    assert response.status_code == 400 and "not in your library" in response.json()["detail"]
    client.force_login(other_user)
    assert client.get(export["download_url"]).status_code == 404

    api_client.force_authenticate(user)
    stored = Export.objects.get(pk=export["id"]).file.name
    assert api_client.delete(f"/api/exports/{export['id']}/").status_code == 204
    from django.core.files.storage import default_storage

    assert not default_storage.exists(stored)
