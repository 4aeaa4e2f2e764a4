"""audio.reaper: a .rpp project whose tracks reference files that exist, at zero, at the tempo."""

import io
import re
import zipfile

import mido
import numpy as np
import pytest
import soundfile as sf

from audio.package import ZipBuilder, stem_name, track_folder, with_extension
from audio.reaper import RppTrack, parse_rpp_files, reaper_project, rpp_quote, rpp_unquote

BPM = 124.0
SR = 48000


def _write_wav(path, seconds=2.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros((round(seconds * SR), 2), dtype=np.float32), SR, subtype="PCM_24")


def _write_mid(path, bpm=BPM):
    path.parent.mkdir(parents=True, exist_ok=True)
    song = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.Message("note_on", note=45, velocity=100, time=0))
    track.append(mido.Message("note_off", note=45, velocity=0, time=480))
    song.tracks.append(track)
    song.save(path)


@pytest.fixture
def layout(tmp_path):
    """An exported track on disk: the original, stems and MIDI under one folder, as the export job lays it out."""
    folder = tmp_path / track_folder("Zoë", 'Nacht "Zug"')
    original = with_extension(folder.name, ".wav")
    stems = [f"Stems/{with_extension(stem_name(s, BPM, 'A minor'), '.wav')}" for s in ("Drums", "Bass", "Vocals")]
    midi = ["MIDI/Bass.mid", "MIDI/Vocals.mid"]
    _write_wav(folder / original)
    for stem in stems:
        _write_wav(folder / stem)
    for mid in midi:
        _write_mid(folder / mid)
    tracks = [RppTrack("Original", original, kind="original")]
    tracks += [RppTrack(path.split("/")[-1].split(" - ")[0], path, kind="stem") for path in stems]
    tracks += [{"name": f"{path[5:-4]} (MIDI)", "path": path, "kind": "midi"} for path in midi]
    return folder, tracks


def _blocks(text):
    """Every block's name with the lines directly inside it, checking that blocks open and close in pairs."""
    stack, found = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("<"):
            stack.append((stripped[1:].split(" ")[0], []))
        elif stripped == ">":
            found.append(stack.pop())
        else:
            stack[-1][1].append(stripped)
    assert stack == []
    return found


def test_it_references_files_that_exist_next_to_the_project(layout):
    folder, tracks = layout

    text = reaper_project(tracks, bpm=BPM, sample_rate=SR, project_name=folder.name, length=2.0)
    (folder / f"{folder.name}.rpp").write_text(text, encoding="utf-8")

    files = parse_rpp_files((folder / f"{folder.name}.rpp").read_text(encoding="utf-8"))
    assert files == [t.path if isinstance(t, RppTrack) else t["path"] for t in tracks]
    assert all((folder / f).is_file() for f in files)
    assert all(not f.startswith("/") and "\\" not in f and ".." not in f.split("/") for f in files)


def test_it_lines_everything_up_at_zero_at_the_tempo(layout):
    folder, tracks = layout

    text = reaper_project(tracks, bpm=BPM, time_signature=(3, 4), sample_rate=SR, project_name=folder.name, length=2)

    assert text.startswith("<REAPER_PROJECT 0.1 ") and text.endswith(">\n")
    assert re.search(r"^  TEMPO (\S+) 3 4$", text, re.M).group(1) == "124"
    assert re.search(r"^  SAMPLERATE 48000 ", text, re.M)
    blocks = _blocks(text)
    track_blocks = [lines for name, lines in blocks if name == "TRACK"]
    items = [lines for name, lines in blocks if name == "ITEM"]
    sources = [(name, lines) for name, lines in blocks if name == "SOURCE"]
    assert len(track_blocks) == len(items) == len(sources) == len(tracks)
    assert all("POSITION 0" in item and "LENGTH 2" in item and "LOOP 0" in item for item in items)
    assert [line for line in text.splitlines() if line.strip().startswith("POSITION")] == ["      POSITION 0"] * 6
    kinds = re.findall(r"<SOURCE (\w+)", text)
    assert kinds == ["WAVE"] * 4 + ["MIDI"] * 2
    # The original is muted (the stems add up to it); stems and MIDI play.
    mutes = [next(line for line in lines if line.startswith("MUTESOLO")) for lines in track_blocks]
    assert mutes == ["MUTESOLO 1 0 0"] + ["MUTESOLO 0 0 0"] * 5
    names = [rpp_unquote(next(li for li in lines if li.startswith("NAME "))[5:])[0] for lines in track_blocks]
    assert names == ["Original", "Drums", "Bass", "Vocals", "Bass (MIDI)", "Vocals (MIDI)"]
    # The same export gives the same project (GUIDs derive from the project name).
    assert (
        reaper_project(tracks, bpm=BPM, time_signature=(3, 4), sample_rate=SR, project_name=folder.name, length=2)
        == text
    )


def test_it_gives_each_item_its_own_length_and_honours_explicit_mutes():
    tracks = [
        RppTrack("Original", "a.wav", kind="original", length=180.25, muted=False),
        RppTrack("Kick", "Stems/Kick.flac", length=3.5, muted=True),
        RppTrack("Vox", "Stems/Vox.mp3"),
    ]

    text = reaper_project(tracks, bpm=90.5, sample_rate=44100, project_name="P", length=200)

    assert re.findall(r"LENGTH (\S+)", text) == ["180.25", "3.5", "200"]
    assert re.findall(r"MUTESOLO (\d)", text) == ["0", "1", "0"]
    assert re.findall(r"<SOURCE (\w+)", text) == ["WAVE", "FLAC", "MP3"]
    assert "TEMPO 90.5 4 4" in text


@pytest.mark.parametrize(
    "text", ["plain", "with space", 'say "hi"', "it's", 'it\'s "both"', 'all "three" \' `', "", "new\nline"]
)
def test_it_quotes_names_and_paths_the_way_reaper_reads_them(text):
    quoted = rpp_quote(text)
    value, rest = rpp_unquote(quoted + " trailing")

    assert rest == " trailing"
    # One line; when all three quote characters occur, backticks become apostrophes (as REAPER does).
    expected = " ".join(text.splitlines())
    if all(q in text for q in "\"'`"):
        expected = expected.replace("`", "'")
    assert value == expected
    assert "\n" not in quoted


def test_it_parses_file_lines_with_any_quote():
    text = '<X\n  FILE "a b.wav"\n  FILE \'say "hi".wav\'\n  FILE `it\'s "x".mid`\n  FILE bare.wav 1\n>'

    assert parse_rpp_files(text) == ["a b.wav", 'say "hi".wav', 'it\'s "x".mid', "bare.wav"]


@pytest.mark.parametrize(
    ("tracks", "kwargs", "message"),
    [
        ([RppTrack("x", "../x.wav")], {}, "part"),
        ([RppTrack("x", "/abs/x.wav")], {}, "absolute"),
        ([RppTrack("x", "x.txt")], {}, "cannot be made"),
        ([RppTrack("x", "x.mid")], {}, "MIDI files go on"),
        ([RppTrack("x", "x.wav", kind="midi")], {}, "MIDI files go on"),
        ([RppTrack("x", "x.wav", kind="video")], {}, "Unknown track kind"),
        ([RppTrack("x", "x.wav")], {"length": None}, "length"),
        ([], {"bpm": 0}, "tempo"),
        ([], {"time_signature": (4, 3)}, "time signature"),
    ],
)
def test_it_refuses_what_reaper_could_not_open(tracks, kwargs, message):
    options = {"bpm": BPM, "sample_rate": SR, "project_name": "P", "length": 2.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        reaper_project(tracks, **options)


def test_the_project_in_a_zip_references_files_in_the_same_zip(layout):
    """The .rpp travels in the export ZIP: after unzipping, every file it names is there."""
    folder, tracks = layout
    text = reaper_project(tracks, bpm=BPM, sample_rate=SR, project_name=folder.name, length=2.0)
    buffer = io.BytesIO()
    with ZipBuilder(buffer) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.add_file(f"{folder.name}/{path.relative_to(folder).as_posix()}", path)
        archive.add_bytes(f"{folder.name}/{folder.name}.rpp", text)

    names = set(zipfile.ZipFile(buffer).namelist())
    assert f"{folder.name}/{folder.name}.rpp" in names
    assert all(f"{folder.name}/{path}" in names for path in parse_rpp_files(text))
