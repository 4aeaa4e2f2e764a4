"""Exports: a ZIP of a track with its stems, samples, MIDI and lyrics, with a manifest and a REAPER project,
built by a job; formats read back; names safe; owner only."""

import csv
import io
import json
import zipfile

import mido
import mutagen.flac
import mutagen.mp3
import mutagen.wave
import pytest
import soundfile as sf

from audio import export_audio, reaper
from audio import lyrics as lyrics_engine
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


# ------------------------------------------------------------------- what the user did survives the export

FOLDER = "Mara Lune - Night Drive"


def curate(track, user):
    """Correct, tag, favourite and place some of the song's twelve drum samples ("Percussion 01" ... "12") as a
    user would; returns them by what was done. One is moved to the full mix as its first sample, so that two
    sources each have a "Percussion 01"."""
    by_index = {s.index: s for s in Sample.objects.filter(track=track, source="drums")}
    assert len(by_index) >= 12 and all(s.category == "percussion" for s in by_index.values())
    kick, pitched, brass, reverted, moved = by_index[4], by_index[9], by_index[10], by_index[3], by_index[7]
    assert kick.predicted_category != "kick" and brass.predicted_category != "brass_wind"
    sample_services.do_set_sample_category(kick, "kick")
    sample_services.do_set_sample_category(brass, "brass_wind")
    sample_services.do_set_sample_category(reverted, "snare")
    sample_services.do_set_sample_category(reverted, reverted.predicted_category)  # back: no correction
    sample_services.do_set_sample_tags(kick, "Lo-fi, dusty")
    sample_services.do_set_sample_tags(pitched, "bell")
    sample_services.do_bulk_favourite(user, [kick, pitched, brass], True)
    Sample.objects.filter(pk=pitched.pk).update(note="A2")  # as the tagger writes a pitched one's note
    Sample.objects.filter(pk=moved.pk).update(source="mix", stem=None, index=0)  # the full mix's first
    return {s: Sample.objects.get(pk=v.pk) for s, v in [("kick", kick), ("pitched", pitched), ("brass", brass)]}


def manifest_of(archive):
    rows = json.loads(archive.read("manifest.json"))["files"]
    table = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    return {row["path"]: row for row in rows}, {row["path"]: row for row in table}, table


def test_sample_files_are_named_as_the_pages_show_them(song, user, api_client, client):
    track, _ = song
    curated = curate(track, user)
    body = {"scope": "track", "track": str(track.pk), "include": ["samples"]}
    archive = download(client, user, build(api_client, user, body))

    names = {n for n in archive.namelist() if "/Samples/" in n}
    samples = f"{FOLDER}/Samples"
    assert {
        f"{samples}/Kick/Kick 05.wav",  # the fifth of its source, not the first kick
        f"{samples}/Percussion/Percussion 06.wav",  # not renumbered to fill the gap the kick left
        f"{samples}/Percussion/Percussion 10 · A2.wav",
        f"{samples}/Brass & wind/Brass & wind 11.wav",  # "Brass/wind 11", with the folder's "&" for the "/"
        f"{samples}/Percussion/Percussion 01.wav",  # Drums' first ...
        f"{samples}/Percussion/Percussion 01 (Full mix).wav",  # ... and the full mix's, told apart by source
    } <= names
    assert len(names) == Sample.objects.filter(track=track).count()
    rows, _, _ = manifest_of(archive)
    by_name = {}
    for sample in Sample.objects.filter(track=track):
        row = next(r for r in rows.values() if r["kind"] == "sample" and r["start"] == round(sample.start, 3))
        assert row["name"] == sample.display_name
        by_name[sample.display_name] = row["path"]
    assert by_name["Kick 05"] == f"{samples}/Kick/Kick 05.wav"
    client.force_login(user)
    for sample in curated.values():  # the same names on the sample's own page
        assert sample.display_name in client.get(sample.get_absolute_url()).content.decode()


def test_the_manifest_and_the_csv_say_what_the_user_made_of_each_sample(song, user, api_client, client):
    track, _ = song
    curated = curate(track, user)
    body = {"scope": "track", "track": str(track.pk), "include": ["samples", "stems"]}
    archive = download(client, user, build(api_client, user, body))
    rows, table, ordered = manifest_of(archive)

    kick_path = f"{FOLDER}/Samples/Kick/Kick 05.wav"
    kick, sample = rows[kick_path], curated["kick"]
    assert kick["name"] == "Kick 05" and kick["category"] == "Kick" and kick["predicted_category"] == "Percussion"
    assert kick["category_corrected"] is True and kick["confidence"] == pytest.approx(sample.confidence, abs=0.001)
    assert kick["tags"] == ["dusty", "Lo-fi"] and kick["favourite"] is True
    assert (kick["source"], kick["stem"], kick["start"]) == (FOLDER, "Drums", round(sample.start, 3))
    assert kick["bpm"] == pytest.approx(track.bpm, abs=0.01) and kick["key"] == track.key_label
    pitched = rows[f"{FOLDER}/Samples/Percussion/Percussion 10 · A2.wav"]
    assert pitched["note"] == "A2" and pitched["tags"] == ["bell"] and pitched["favourite"] is True
    assert pitched["category_corrected"] is False
    reverted = rows[f"{FOLDER}/Samples/Percussion/Percussion 04.wav"]  # corrected, then set back
    assert reverted["category_corrected"] is False and reverted["favourite"] is False and reverted["tags"] == []
    moved = rows[f"{FOLDER}/Samples/Percussion/Percussion 01 (Full mix).wav"]
    assert moved["stem"] == "Full mix" and moved["name"] == "Percussion 01"
    stem = next(r for r in rows.values() if r["kind"] == "stem")
    assert stem["favourite"] is None and stem["tags"] == [] and stem["name"] in ("Bass", "Drums", "Other", "Vocals")

    header = list(ordered[0])
    for column in ("name", "source", "stem", "start", "bpm", "key", "category", "predicted_category"):
        assert column in header
    for column in ("category_corrected", "confidence", "note", "tags", "favourite"):
        assert column in header
    cells = table[kick_path]
    assert (cells["name"], cells["tags"], cells["favourite"], cells["category_corrected"]) == (
        "Kick 05",
        "dusty, Lo-fi",
        "true",
        "true",
    )
    assert (cells["category"], cells["predicted_category"], cells["stem"]) == ("Kick", "Percussion", "Drums")
    assert float(cells["confidence"]) == pytest.approx(sample.confidence, abs=0.001)
    assert float(cells["start"]) == pytest.approx(sample.start, abs=0.001)
    assert table[f"{FOLDER}/Samples/Percussion/Percussion 04.wav"]["favourite"] == "false"


def test_sample_files_carry_their_tags_favourite_category_and_source(song, user, api_client, client, tmp_path):
    track, _ = song
    sample = curate(track, user)["kick"]
    body = {"scope": "track", "track": str(track.pk), "include": ["samples"]}
    archive = download(client, user, build(api_client, user, body))
    path = tmp_path / "Kick 05.wav"
    path.write_bytes(archive.read(f"{FOLDER}/Samples/Kick/Kick 05.wav"))

    id3 = mutagen.wave.WAVE(path).tags
    assert str(id3["TIT2"]) == "Kick 05" and str(id3["TPE1"]) == "Mara Lune" and str(id3["TALB"]) == "Night Drive"
    assert str(id3["TXXX:KEYWORDS"]) == "dusty; Lo-fi" and str(id3["TXXX:FAVOURITE"]) == "true"
    assert str(id3["TXXX:CATEGORY"]) == "Kick" and str(id3["TXXX:PREDICTED_CATEGORY"]) == "Percussion"
    assert str(id3["TXXX:CATEGORY_CORRECTED"]) == "true"
    assert float(str(id3["TXXX:CONFIDENCE"])) == pytest.approx(sample.confidence, abs=0.001)
    assert str(id3["TXXX:SOURCE_TRACK"]) == FOLDER and str(id3["TXXX:SOURCE_STEM"]) == "Drums"
    assert float(str(id3["TXXX:SOURCE_START"])) == pytest.approx(sample.start, abs=0.001)
    assert str(id3["TBPM"]) == str(round(track.bpm))
    info = export_audio.read_riff_info(path)
    assert info["INAM"] == "Kick 05" and info["IKEY"] == "dusty; Lo-fi"
    with sf.SoundFile(path) as audio:  # what libsndfile-based tools show
        assert audio.title == "Kick 05"
        for words in ("Drums of Mara Lune - Night Drive", "Kick (corrected; predicted Percussion)", "favourite"):
            assert words in audio.comment
        assert "tags: dusty, Lo-fi" in audio.comment


def test_a_favourites_export_holds_exactly_the_favourites_under_their_page_names(
    song, user, api_client, client, tmp_path
):
    track, _ = song
    curated = curate(track, user)
    expected = {
        f"{FOLDER}/Samples/Kick/Kick 05.flac",
        f"{FOLDER}/Samples/Percussion/Percussion 10 · A2.flac",
        f"{FOLDER}/Samples/Brass & wind/Brass & wind 11.flac",
    }
    archive = download(client, user, build(api_client, user, {"scope": "favourites", "format": "flac"}))

    files = set(archive.namelist()) - {"manifest.json", "manifest.csv"}
    assert files == expected  # nothing else: no stems, no other samples, the names of the pages
    rows, _, _ = manifest_of(archive)
    assert {row["name"] for row in rows.values()} == {s.display_name for s in curated.values()}
    assert all(row["favourite"] is True and row["kind"] == "sample" for row in rows.values())
    path = tmp_path / "kick.flac"
    path.write_bytes(archive.read(f"{FOLDER}/Samples/Kick/Kick 05.flac"))
    comments = mutagen.flac.FLAC(path)
    assert comments["TITLE"] == ["Kick 05"] and comments["KEYWORDS"] == ["dusty", "Lo-fi"]
    assert comments["FAVOURITE"] == ["true"] and comments["CATEGORY_CORRECTED"] == ["true"]
    assert comments["SOURCE_STEM"] == ["Drums"] and comments["CATEGORY"] == ["Kick"]

    sample_services.do_set_sample_favourite(curated["brass"], False)
    body = {"scope": "favourites", "format": "mp3", "include": ["samples"]}
    archive = download(client, user, build(api_client, user, body))
    assert set(archive.namelist()) - {"manifest.json", "manifest.csv"} == {
        f"{FOLDER}/Samples/Kick/Kick 05.mp3",
        f"{FOLDER}/Samples/Percussion/Percussion 10 · A2.mp3",
    }
    path = tmp_path / "pitched.mp3"
    path.write_bytes(archive.read(f"{FOLDER}/Samples/Percussion/Percussion 10 · A2.mp3"))
    id3 = mutagen.mp3.MP3(path).tags
    assert str(id3["TIT2"]) == "Percussion 10 · A2" and str(id3["TXXX:KEYWORDS"]) == "bell"
    assert str(id3["TXXX:NOTE"]) == "A2" and str(id3["TXXX:FAVOURITE"]) == "true"
