"""audio.package: safe names, musical file names, the streamed ZIP and the manifest."""

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio import package
from audio.package import (
    MANIFEST_COLUMNS,
    ManifestEntry,
    ZipBuilder,
    format_bpm,
    manifest_csv,
    manifest_json,
    manifest_rows,
    safe_component,
    sample_file_name,
    sample_name,
    stem_name,
    track_folder,
    unique,
    validate_arcname,
    with_extension,
)

HOSTILE = [
    "../../etc/passwd",
    "..",
    ".",
    "...",
    "/",
    "//server/share",
    "C:\\Windows\\system32",
    "a/b",
    "a\\b",
    "CON",
    "con.wav",
    "Nul ",
    "LPT1.txt",
    "COM¹",
    "ends with dot.",
    "ends with space ",
    ".hidden",
    "tab\there\nnewline\rreturn",
    "nul\x00byte",
    "bell\x07 and escape \x1b[31m",
    "right-to-left \u202egnp.exe",
    "zero\u200bwidth",
    "x" * 500,
    "é" * 300,
    "日本語のタイトル" * 40,
    "🥁" * 120,
    "👩‍👩‍👧 family",
    "",
    "   ",
    "\x00\x01\x02",
    '<>:"|?*',
    "e\u0301",  # e + combining acute: NFC makes it one character
]
FORBIDDEN = set('/\\<>:"|?*')


def _is_safe(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and not (FORBIDDEN & set(name))
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in name)
        and "\u202e" not in name
        and not name.startswith(".")
        and not name.endswith((".", " "))
        and name.split(".")[0].strip().upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1", "COM¹"}
        and len(name) <= 100
        and len(name.encode("utf-8")) <= 200
        and name == unicodedata.normalize("NFC", name)
    )


# ----------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_it_makes_a_safe_stable_component_of_any_text(text):
    name = safe_component(text)

    assert _is_safe(name), repr(name)
    assert safe_component(name) == name  # idempotent: what ZipBuilder checks names against
    assert validate_arcname(f"Export/{name}/{name}") == f"Export/{name}/{name}"


def test_it_keeps_ordinary_names_and_explains_hostile_ones():
    assert safe_component("Bass - 124 BPM - A minor") == "Bass - 124 BPM - A minor"
    assert safe_component("Zoë & The Loops — Nachtzug") == "Zoë & The Loops — Nachtzug"
    assert safe_component("🎛️ Drums 🥁") == "🎛️ Drums 🥁"
    assert safe_component("../../etc/passwd") == "_.._etc_passwd"
    assert safe_component("AC/DC") == "AC_DC"
    assert safe_component("CON") == "_CON"
    assert safe_component("con.wav") == "_con.wav"
    assert safe_component(".hidden") == "hidden"
    assert safe_component("tab\there\nnewline") == "tab here newline"
    assert safe_component("right-to-left \u202egnp.exe") == "right-to-left gnp.exe"
    assert safe_component("", "Untitled") == "Untitled"
    assert safe_component("..", "Sample") == "Sample"
    assert safe_component("\x00", "\x00") == "_"
    assert len(safe_component("x" * 500)) == 100


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_it_never_lets_any_text_escape(text):
    name = safe_component(text)

    assert _is_safe(name)
    assert safe_component(name) == name
    assert package._clean(name) == name


def test_it_keeps_the_extension_when_shortening_a_file_name():
    name = with_extension("x" * 300, ".flac")

    assert name.endswith("x.flac") and len(name) == 100
    assert with_extension("Kick 03", "wav") == "Kick 03.wav"
    assert with_extension("", ".wav") == "Untitled.wav"
    with pytest.raises(ValueError, match="extension"):
        with_extension("a", "./../x")


def test_it_names_tracks_samples_and_stems_the_way_producers_search():
    assert track_folder("Daft Punk", "Da Funk") == "Daft Punk - Da Funk"
    assert track_folder("", "Da Funk") == "Da Funk"
    assert track_folder(None, None) == "Untitled"
    assert track_folder("AC/DC", "T.N.T.") == "AC_DC - T.N.T"
    assert sample_name("Kick", 3) == "Kick 03"
    assert sample_name("Bass", 2, "A2") == "Bass 02 - A2"
    assert sample_name("Snare", 123) == "Snare 123"
    assert sample_name("", 1) == "Sample 01"
    assert stem_name("Bass", 124, "A minor") == "Bass - 124 BPM - A minor"
    assert stem_name("Bass", 124.5, "A minor") == "Bass - 124.5 BPM - A minor"
    assert stem_name("Vocals", 123.96, None) == "Vocals - 124 BPM"
    assert stem_name("Drums", None, "") == "Drums"
    assert stem_name("Other", float("nan"), "C# major") == "Other - C# major"


@pytest.mark.parametrize(
    ("bpm", "text"), [(124, "124"), (124.0, "124"), (124.5, "124.5"), (123.96, "124"), (87.04, "87"), (None, "")]
)
def test_it_rounds_tempos_sensibly(bpm, text):
    assert format_bpm(bpm) == text


def test_it_numbers_duplicate_names_ignoring_case():
    used = set()
    names = [unique(n, used) for n in ["Kick 03.wav", "kick 03.wav", "KICK 03.WAV", "Bass", "bass", "x" * 100]]
    again = unique("x" * 100, used)

    assert names[:5] == ["Kick 03.wav", "kick 03 (2).wav", "KICK 03 (3).WAV", "Bass", "bass (2)"]
    assert again.endswith(" (2)") and len(again) <= 100 and _is_safe(again)


@pytest.mark.parametrize(
    "arcname",
    [
        "",
        "/etc/passwd",
        "../x.wav",
        "a/../../x.wav",
        "a/./b.wav",
        "a//b.wav",
        "a/",
        "a\\b.wav",
        "C:/x.wav",
        "a/CON",
        "a/.hidden",
        "a/trailing.",
        "a/b\x00.wav",
        "a/\u202ex.wav",
        "x" * 101,
    ],
)
def test_it_rejects_archive_paths_that_could_escape(arcname):
    with pytest.raises(ValueError):
        validate_arcname(arcname)
    with pytest.raises(ValueError), ZipBuilder(io.BytesIO()) as archive:
        archive.add_bytes(arcname, b"x")


# ------------------------------------------------------------------------------------------------- ZIP


class Unseekable(io.RawIOBase):
    """A write-only stream like an upload: no seek, no tell; it keeps what it is sent."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def seekable(self):
        return False

    def tell(self):
        raise OSError("not seekable")

    def write(self, data):
        self.buffer += data
        return len(data)


class NullSink(io.RawIOBase):
    """Counts and forgets: for memory tests, where keeping the archive would be the memory."""

    def __init__(self):
        self.size = 0

    def writable(self):
        return True

    def seekable(self):
        return False

    def write(self, data):
        self.size += len(data)
        return len(data)


@pytest.fixture
def files(tmp_path):
    wav = tmp_path / "bass.wav"
    wav.write_bytes(b"RIFF" + os.urandom(300_000))
    mid = tmp_path / "bass.mid"
    mid.write_bytes(b"MThd" + b"\x00" * 1000)
    return wav, mid


def test_it_streams_a_zip_to_an_unseekable_stream(files):
    wav, mid = files
    target = Unseekable()
    reports = []
    total = wav.stat().st_size + mid.stat().st_size + 2

    with ZipBuilder(target, total_bytes=total, progress=lambda *a: reports.append(a)) as z:
        z.add_file("Artist - Title/Stems/Bass - 124 BPM - A minor.wav", wav)
        z.add_file("Artist - Title/MIDI/Bass.mid", mid)
        z.add_bytes("Artist - Title/manifest.json", "{}")

    archive = zipfile.ZipFile(io.BytesIO(bytes(target.buffer)))
    assert archive.testzip() is None  # every CRC checks out
    assert archive.namelist() == [
        "Artist - Title/Stems/Bass - 124 BPM - A minor.wav",
        "Artist - Title/MIDI/Bass.mid",
        "Artist - Title/manifest.json",
    ]
    assert archive.read("Artist - Title/Stems/Bass - 124 BPM - A minor.wav") == wav.read_bytes()
    infos = archive.infolist()
    assert all(info.flag_bits & 0x08 for info in infos)  # sizes in data descriptors: nothing was rewritten
    # Audio is stored, text and MIDI deflated.
    assert [info.compress_type for info in infos] == [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED]
    assert all((info.external_attr >> 16) & 0o777 == 0o644 for info in infos)
    # Progress: monotonic, ending at the announced total.
    done = [r[0] for r in reports]
    assert done == sorted(done) and reports[-1] == (z.total_bytes, z.total_bytes)
    assert z.bytes_written == len(target.buffer)


def test_it_writes_plain_headers_to_a_seekable_file(tmp_path, files):
    wav, _ = files
    path = tmp_path / "out.zip"

    with open(path, "wb") as fh, ZipBuilder(fh) as z:
        z.add_file("A/Bass.wav", wav)

    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert not archive.infolist()[0].flag_bits & 0x08


def test_it_refuses_duplicate_names_and_files_used_as_folders():
    with ZipBuilder(io.BytesIO()) as z:
        z.add_bytes("A/Kick 01.wav", b"1")
        with pytest.raises(ValueError, match="already has"):
            z.add_bytes("a/kick 01.WAV", b"2")
        with pytest.raises(ValueError, match="is a file"):
            z.add_bytes("A/Kick 01.wav/x.txt", b"3")
        with pytest.raises(ValueError, match="already has"):
            z.add_bytes("A", b"4")  # a folder already


def test_it_leaves_no_readable_archive_when_building_fails(files):
    wav, _ = files
    target = Unseekable()

    with pytest.raises(RuntimeError), ZipBuilder(target) as z:
        z.add_file("A/Bass.wav", wav)
        raise RuntimeError("storage went away")

    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(target.buffer)))


def test_it_copies_a_large_file_in_bounded_memory(tmp_path):
    big = tmp_path / "big.wav"
    with open(big, "wb") as fh:
        block = os.urandom(1 << 20)
        for _ in range(50):
            fh.write(block)
    sink = NullSink()

    tracemalloc.start()
    try:
        with ZipBuilder(sink) as z:
            z.add_file("A/Big.wav", big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sink.size > 50 << 20
    assert peak < 4 << 20, f"peak {peak / 1e6:.1f} MB"


def test_it_uses_zip64_records_when_an_entry_needs_them(tmp_path, monkeypatch, files):
    # 4 GiB of test data would take too long: lower zipfile's limit so that a small entry takes the same path.
    wav, _ = files
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 100_000)
    target = Unseekable()

    with ZipBuilder(target) as z:
        z.add_file("A/Bass.wav", wav)
        z.add_bytes("A/notes.txt", b"small")

    data = bytes(target.buffer)
    local_extra_len = struct.unpack("<H", data[28:30])[0]
    local_extra = data[30 + len("A/Bass.wav") :][:local_extra_len]
    assert struct.unpack("<H", local_extra[:2])[0] == 0x0001  # the ZIP64 extended information field
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("A/Bass.wav") == wav.read_bytes()
    assert archive.testzip() is None


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_it_extracts_with_unzip_and_nothing_leaves_the_folder(tmp_path, files):
    wav, _ = files
    target = Unseekable()
    with ZipBuilder(target) as z:
        for i, text in enumerate(HOSTILE):
            folder = track_folder(text, text)
            z.add_bytes(f"{folder}/{with_extension(f'{i:02d} {text}', '.txt')}", text.encode("utf-8", "replace"))
        z.add_file("Stems/Bass.wav", wav)
    archive_path = tmp_path / "export.zip"
    archive_path.write_bytes(bytes(target.buffer))
    out = tmp_path / "out"
    out.mkdir()

    proc = subprocess.run(["unzip", "-q", str(archive_path), "-d", str(out)], capture_output=True, check=False)

    assert proc.returncode == 0, proc.stderr
    extracted = [p for p in out.rglob("*") if p.is_file()]
    assert len(extracted) == len(HOSTILE) + 1
    root = out.resolve()
    assert all(root in p.resolve().parents for p in extracted)
    assert (out / "Stems" / "Bass.wav").read_bytes() == wav.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bass.mid", "bass.wav", "export.zip", "out"]


# -------------------------------------------------------------------------------------------- manifest


ENTRIES = [
    ManifestEntry(
        path="Artist - Title/Artist - Title.wav",
        kind="original",
        source="Artist - Title",
        bpm=124.0,
        key="A minor",
        format="wav24",
        sample_rate=48000,
        bit_depth=24,
        duration=212.3456789,
    ),
    ManifestEntry(
        path="Artist - Title/Samples/Kick/Kick 03.wav",
        kind="sample",
        source='Title, with "quotes"\nand a newline',
        stem="Drums",
        start=12.0004,
        end=12.5,
        bpm=124.0,
        category="Kick",
        format="wav24",
        sample_rate=48000,
        bit_depth=24,
        duration=0.5,
    ),
    {
        "path": "Artist - Title/MIDI/Bass.mid",
        "kind": "midi",
        "source": '=HYPERLINK("http://x")',
        "stem": "Bass",
        "format": "mid",
    },
]


def test_it_writes_the_manifest_as_json_with_fixed_columns():
    document = json.loads(manifest_json(ENTRIES, meta={"export": "track"}))

    assert document["manifest_version"] == 2 and document["export"] == "track"
    assert document["columns"] == list(MANIFEST_COLUMNS)
    assert [list(row) for row in document["files"]] == [list(MANIFEST_COLUMNS)] * 3
    original, kick, midi = document["files"]
    assert original["duration"] == 212.346 and original["bpm"] == 124 and original["start"] is None
    assert kick["start"] == 12.0 and kick["end"] == 12.5 and kick["category"] == "Kick"
    assert kick["source"] == 'Title, with "quotes" and a newline'
    assert midi["source"] == '=HYPERLINK("http://x")'  # exact in JSON
    assert midi["sample_rate"] is None


def test_it_writes_the_manifest_as_csv_that_spreadsheets_read_safely():
    text = manifest_csv(ENTRIES)
    rows = list(csv.reader(io.StringIO(text)))

    assert text.endswith("\r\n")
    assert rows[0] == list(MANIFEST_COLUMNS)
    assert len(rows) == 4 and all(len(row) == len(MANIFEST_COLUMNS) for row in rows)
    header = rows[0]
    kick = dict(zip(header, rows[2], strict=True))
    assert kick["source"] == 'Title, with "quotes" and a newline'
    assert kick["start"] == "12" and kick["bpm"] == "124" and kick["sample_rate"] == "48000"
    midi = dict(zip(header, rows[3], strict=True))
    assert midi["source"].startswith("'=")  # not run as a formula
    assert midi["bpm"] == "" and midi["duration"] == ""


def test_a_sample_file_is_named_as_the_pages_show_it_made_safe_only_where_it_must_be():
    assert sample_file_name("Kick 41") == "Kick 41"  # never renumbered
    assert sample_file_name("Bass 02 · A2") == "Bass 02 · A2"
    assert sample_file_name("Hi-hat closed 07 · F#3") == "Hi-hat closed 07 · F#3"
    assert sample_file_name("Brass/wind 03") == "Brass & wind 03"  # as its category folder "Brass & wind"
    assert sample_file_name("FX/other 12") == "FX & other 12"
    assert sample_file_name("") == "Sample"
    for hostile in HOSTILE:
        name = sample_file_name(hostile)
        assert validate_arcname(f"Samples/{name}.wav") and sample_file_name(name) == name


SAMPLE_ROWS = [
    ManifestEntry(
        path="A - T/Samples/Kick/Kick 41.wav",
        kind="sample",
        name="Kick 41",
        source="A - T",
        stem="Drums",
        start=20.5,
        end=20.75,
        category="Kick",
        predicted_category="Snare",
        category_corrected=True,
        confidence=0.87654,
        tags=("dusty", "=cmd()", "Lo-fi"),
        favourite=True,
    ),
    ManifestEntry(path="A - T/Stems/Bass.wav", kind="stem", name="Bass", stem="Bass"),
]


def test_the_manifest_says_what_the_user_made_of_each_sample():
    original, stem = json.loads(manifest_json(SAMPLE_ROWS))["files"]
    assert original["name"] == "Kick 41" and original["tags"] == ["dusty", "=cmd()", "Lo-fi"]
    assert original["favourite"] is True and original["category_corrected"] is True
    assert original["category"] == "Kick" and original["predicted_category"] == "Snare"
    assert original["confidence"] == 0.877
    assert stem["tags"] == [] and stem["favourite"] is None and stem["category_corrected"] is None

    header, kick, bass = list(csv.reader(io.StringIO(manifest_csv(SAMPLE_ROWS))))
    assert header == list(MANIFEST_COLUMNS)
    for column in ("name", "tags", "favourite", "category", "predicted_category", "category_corrected"):
        assert column in header
    kick, bass = dict(zip(header, kick, strict=True)), dict(zip(header, bass, strict=True))
    assert kick["tags"] == "dusty, =cmd(), Lo-fi"  # as typed into the tag field
    assert (kick["favourite"], kick["category_corrected"], kick["confidence"]) == ("true", "true", "0.877")
    assert (bass["tags"], bass["favourite"], bass["category_corrected"]) == ("", "", "")
    first_tag_a_formula = manifest_csv([{**SAMPLE_ROWS[0].__dict__, "tags": ["=HYPERLINK(1)"]}])
    assert ",'=HYPERLINK(1)," in first_tag_a_formula  # not run as a formula
    assert manifest_rows([{"path": "a.wav", "kind": "sample", "favourite": False, "tags": "a, b"}])[0]["tags"] == [
        "a",
        "b",
    ]


def test_it_rejects_manifest_entries_it_does_not_understand():
    with pytest.raises(ValueError, match="kind"):
        manifest_rows([{"path": "a.wav", "kind": "video"}])
    with pytest.raises(ValueError, match="fields"):
        manifest_rows([{"path": "a.wav", "kind": "stem", "tempo": 120}])
    with pytest.raises(ValueError):
        manifest_rows([{"path": "../a.wav", "kind": "stem"}])


def test_a_whole_export_layout_round_trips(tmp_path, files):
    """The layout the export job builds: names from the helpers, unique within folders, manifest inside."""
    wav, mid = files
    folder = track_folder("Zoë", "Nachtzug: Intro")
    used: dict[str, set] = {}
    entries = []
    target = Unseekable()
    with ZipBuilder(target) as z:

        def add(sub, name, ext, path, **facts):
            arc_folder = f"{folder}/{sub}"
            filename = unique(with_extension(name, ext), used.setdefault(arc_folder, set()))
            arcname = f"{arc_folder}/{filename}"
            z.add_file(arcname, path)
            entries.append(ManifestEntry(path=arcname, source=folder, **facts))

        add("Stems", stem_name("Bass", 124, "A minor"), ".wav", wav, kind="stem", stem="Bass", bpm=124)
        add("Samples/Kick", sample_name("Kick", 3), ".wav", wav, kind="sample", category="Kick")
        add("Samples/Kick", sample_name("Kick", 3), ".wav", wav, kind="sample", category="Kick")
        add("MIDI", "Bass", ".mid", mid, kind="midi", stem="Bass")
        z.add_bytes(f"{folder}/manifest.json", manifest_json(entries))
        z.add_bytes(f"{folder}/manifest.csv", manifest_csv(entries).encode("utf-8-sig"))

    archive = zipfile.ZipFile(io.BytesIO(bytes(target.buffer)))
    names = archive.namelist()
    assert names == [
        "Zoë - Nachtzug_ Intro/Stems/Bass - 124 BPM - A minor.wav",
        "Zoë - Nachtzug_ Intro/Samples/Kick/Kick 03.wav",
        "Zoë - Nachtzug_ Intro/Samples/Kick/Kick 03 (2).wav",
        "Zoë - Nachtzug_ Intro/MIDI/Bass.mid",
        "Zoë - Nachtzug_ Intro/manifest.json",
        "Zoë - Nachtzug_ Intro/manifest.csv",
    ]
    listed = [row["path"] for row in json.loads(archive.read(names[4]))["files"]]
    assert listed == names[:4]
    csv_rows = list(csv.DictReader(io.StringIO(archive.read(names[5]).decode("utf-8-sig"))))
    assert [row["path"] for row in csv_rows] == names[:4]
    assert Path(names[0]).parts[0] == folder
