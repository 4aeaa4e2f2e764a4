"""Converting audio for an export: WAV (16/24-bit, 32-bit float), AIFF, FLAC or MP3 320 at 44.1 or 48 kHz,
with the tempo and key written into the file wherever its format has a place for them.

Pure functions: nothing here knows about Django or the project's apps. ffmpeg does the decoding, resampling
and encoding, started the way `audio_io` starts it (a list of arguments, local files only, a fixed demuxer,
a time limit). mutagen writes the ID3 tags and FLAC's Vorbis comments afterwards; the ACID chunk, which
neither ffmpeg nor mutagen writes, is added here.

Sound:
- Resampling uses the SoX resampler (`aresample=resampler=soxr`, 28-bit precision, i.e. SoX's "very high
  quality") when the ffmpeg build has libsoxr, which Debian's does; otherwise ffmpeg's own resampler with a
  long filter (`filter_size=128`). Audio already at the target rate is not resampled.
- Reducing to 16 bits adds TPDF (triangular) dither; a 16-bit source at the target rate is copied sample for
  sample (nothing to reduce). 24-bit and float results are not dithered (their error is below -140 dBFS).
  Integer formats clip above 0 dBFS; 32-bit float keeps overs.
- Channels are kept (MP3, which holds at most two, gets a stereo mix of more). AIFF and FLAC are 24-bit.

Metadata, per format (what DAWs, sample browsers and DJ software read; which program reads which field is
general knowledge of those programs, not something the tests here can check):
- WAV: a LIST/INFO chunk (INAM title, IART artist, IPRD album, ICMT comment, IKEY keywords); an `acid` chunk
  with the tempo, the number of beats, the meter and the root note (the "ACIDized loop" convention: ACID,
  FL Studio, Cubase and other loop-aware programs, and libsndfile, read it; it is what lets a loop follow the
  project tempo when dragged in); and an ID3v2.3 tag in an `id3 ` chunk (TIT2, TPE1, TALB, COMM, TBPM, TKEY,
  TXXX: what rekordbox, Serato, Traktor, Mixed In Key, foobar2000, TagLib and mutagen read from WAV; ffmpeg
  prefers the INFO tags).
  The 'fmt ' chunk is the plain PCM/float form for mono and stereo (ffmpeg writes WAVE_FORMAT_EXTENSIBLE
  above 16 bits, which some samplers refuse).
- AIFF: NAME/AUTH/ANNO chunks and the same ID3v2.3 tag in an `ID3 ` chunk (how iTunes/Music, Logic's file
  browser and the DJ tools read AIFF tags). Apple Loops' `basc` chunk is not written.
- FLAC: Vorbis comments TITLE, ARTIST, ALBUM, DESCRIPTION and COMMENT, BPM, and the key as both INITIALKEY
  (Traktor, Mixed In Key, rekordbox) and KEY (MusicBrainz Picard, foobar2000).
- MP3: an ID3v2.3 tag (TIT2, TPE1, TALB, COMM, TBPM, TKEY, TXXX) before the audio, and the LAME/Xing header that
  gives players the exact length (gapless: the encoder delay is trimmed on decoding).
- Keywords (a sample's tags) and named fields (`fields={"CATEGORY": "Kick", "FAVOURITE": "true"}`), which no
  format has a standard frame for, go where taggers keep their own: the keywords in WAV's IKEY, joined with
  "; " as the RIFF INFO specification (and Windows' "Tags" property) separates them, in an ID3 TXXX frame
  "KEYWORDS" joined the same way, and in FLAC as one KEYWORDS comment per keyword (Vorbis comments repeat a
  field for several values); each named field as an ID3 TXXX frame of that description and a FLAC comment of
  that name. mutagen, foobar2000, Mp3tag, Kid3 and Picard show and search them.
- The ID3 TBPM frame is an integer (as the ID3 standard requires); Vorbis BPM keeps one decimal ("124.5")
  and the ACID tempo is the exact float. Keys are written in the short notation of the ID3 TKEY standard
  ("Am", "F#", "Bbm"); where no comment is given, the comment says "124 BPM, A minor".

The ACID chunk ('acid', 24 bytes, little-endian), as libsndfile and the ACID SDK lay it out:
    uint32 flags      0x01 one-shot, 0x02 root note valid, 0x04 stretch, 0x08 disk-based, 0x10 high octave
    uint16 root note  MIDI note number (60 = C4); for a key, 60 + the tonic's pitch class
    uint16 unknown    0x8000, as ACID writes it
    float  unknown    0.0
    uint32 beats      number of beats in the file (its length at the tempo, rounded)
    uint16 meter denominator, then uint16 meter numerator (4, 4)
    float  tempo      beats per minute
Loops and stems with a known tempo are written with the stretch flag; a pitched one-shot (`note="A2"`) with the
one-shot flag and its exact root note; a file with neither gets no ACID chunk. The chunk goes before the `data`
chunk (some readers stop there); the ID3 chunk goes after it, where WAV taggers usually put it. A WAV over
4 GiB (RF64) keeps only its INFO tags.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from audio import audio_io
from audio.audio_io import FFMPEG, AudioError, probe, validate

__all__ = [
    "FORMATS",
    "RATES",
    "ExportFormat",
    "ExportResult",
    "clean_format",
    "export_audio",
    "key_notation",
    "parse_key",
    "parse_note",
    "read_acid",
    "read_id3",
    "read_metadata",
    "read_riff_info",
]


@dataclass(frozen=True)
class ExportFormat:
    name: str  # the key in FORMATS
    label: str  # for people: "WAV 24-bit"
    extension: str
    container: str  # wav, aiff, flac, mp3
    codec: str  # ffmpeg encoder
    sample_fmt: str | None  # what the resampler hands the encoder (None: the encoder's choice)
    bit_depth: int | None  # None for MP3
    floating: bool = False
    bitrate: str | None = None


FORMATS: Mapping[str, ExportFormat] = {
    "wav16": ExportFormat("wav16", "WAV 16-bit", ".wav", "wav", "pcm_s16le", "s16", 16),
    "wav24": ExportFormat("wav24", "WAV 24-bit", ".wav", "wav", "pcm_s24le", "s32", 24),
    "wav32f": ExportFormat("wav32f", "WAV 32-bit float", ".wav", "wav", "pcm_f32le", "flt", 32, floating=True),
    "aiff": ExportFormat("aiff", "AIFF 24-bit", ".aif", "aiff", "pcm_s24be", "s32", 24),
    "flac": ExportFormat("flac", "FLAC 24-bit", ".flac", "flac", "flac", "s32", 24),
    "mp3": ExportFormat("mp3", "MP3 320 kbps", ".mp3", "mp3", "libmp3lame", None, None, bitrate="320k"),
}
RATES = (44100, 48000)

SOXR_PRECISION = 28  # bits; SoX's "very high quality"
MAX_TAG_LENGTH = 1000
# Vorbis comment names this module writes from its own arguments; `fields` may not set them too.
_RESERVED_FIELDS = frozenset(
    {"TITLE", "ARTIST", "ALBUM", "DESCRIPTION", "COMMENT", "BPM", "INITIALKEY", "KEY", "KEYWORDS"}
)


@dataclass(frozen=True)
class ExportResult:
    """What export_audio wrote."""

    path: str
    format: str  # a FORMATS key
    extension: str
    sample_rate: int
    bit_depth: int | None
    floating: bool
    channels: int
    duration: float  # seconds: as the header declares it (WAV, AIFF, FLAC) or as decoded (MP3)
    bitrate: int | None = None  # bits/s, MP3
    metadata: dict[str, str] = field(default_factory=dict)  # field -> value as written ("TBPM": "124")


# --------------------------------------------------------------------------------------------- validation


def clean_format(fmt: object, rate: object) -> tuple[str, int]:
    """Check an export format and sample rate; return them normalised ("WAV24 " -> "wav24", "48000" -> 48000).

    Raises ValueError with a sentence that can be shown to the person who chose them.
    """
    name = str(fmt or "").strip().lower()
    if name not in FORMATS:
        offered = ", ".join(f"{spec.label} ({key})" for key, spec in FORMATS.items())
        shown = str(fmt)[:40] if fmt not in (None, "") else "none"
        raise ValueError(f"Unknown export format '{shown}'. Choose one of: {offered}.")
    try:
        value = float(str(rate).strip().lower().removesuffix("hz").removesuffix("k").strip())
    except ValueError:
        value = math.nan
    if math.isfinite(value) and 0 < value < 1000:  # given in kHz: 44.1, 48
        value *= 1000
    if not math.isfinite(value) or round(value) not in RATES or abs(value - round(value)) > 1e-6:
        raise ValueError(f"A sample rate of {str(rate)[:20]} is not offered. Choose 44100 Hz or 48000 Hz.")
    return name, round(value)


_NOTE_RE = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)")
_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _tonic(letter: str, accidental: str) -> tuple[str, int]:
    letter = letter.upper()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    pitch = (_PITCH_CLASSES[letter] + {"#": 1, "b": -1}.get(accidental, 0)) % 12
    return letter + accidental, pitch


def parse_key(key: str) -> tuple[str, int, bool]:
    """("A", 9, True) for "A minor", "Am", "a min", "A Minor"; ("F#", 6, False) for "F# major" or "F#".

    Returns (tonic as written, pitch class, minor). Raises ValueError for anything else.
    """
    text = str(key or "").strip()
    match = _NOTE_RE.match(text)
    if not match:
        raise ValueError(f"'{text[:30]}' is not a key such as 'A minor' or 'F# major'.")
    tonic, pitch = _tonic(match.group(1), match.group(2))
    mode = text[match.end() :].strip().lower()
    if mode in ("", "maj", "major", "dur"):
        return tonic, pitch, False
    if mode in ("m", "min", "minor", "moll"):
        return tonic, pitch, True
    raise ValueError(f"'{text[:30]}' is not a key such as 'A minor' or 'F# major'.")


def key_notation(key: str) -> str:
    """The ID3 TKEY notation of a key: "Am", "F#", "Bbm" (at most three characters)."""
    tonic, _, minor = parse_key(key)
    return tonic + ("m" if minor else "")


def parse_note(note: str) -> int:
    """The MIDI note number of a note name in scientific pitch notation: "A2" -> 45, "C#4" -> 61, "Bb-1" -> 10."""
    text = str(note or "").strip()
    match = re.fullmatch(r"([A-Ga-g])([#♯b♭]?)(-?\d+)", text)
    if not match:
        raise ValueError(f"'{text[:30]}' is not a note name such as 'A2' or 'C#4'.")
    letter, accidental, octave = match.groups()
    base = _PITCH_CLASSES[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
    number = (int(octave) + 1) * 12 + base
    if not 0 <= number <= 127:
        raise ValueError(f"'{text}' is outside the MIDI note range (C-1 to G9).")
    return number


def _clean_bpm(bpm) -> float | None:
    if bpm is None or bpm == "":
        return None
    value = float(bpm)
    if not math.isfinite(value) or value <= 0:
        return None
    if not 1 <= value <= 999:
        raise ValueError(f"A tempo of {value:g} BPM is out of range (1-999).")
    return value


def _tag_text(value) -> str:
    if value is None:
        return ""
    # Control characters (a NUL ends an ID3 string early) become spaces; newlines too, except in comments.
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in str(value))
    return text.strip()[:MAX_TAG_LENGTH]


_FIELD_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def _clean_fields(fields: Mapping[str, object] | None) -> dict[str, str]:
    """Named fields as {NAME: text}: names are upper-case ASCII (a Vorbis comment name must not hold "=" or
    non-ASCII, and ID3 TXXX descriptions are read case-sensitively), empty values left out."""
    cleaned = {}
    for name, value in (fields or {}).items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a field name such as 'CATEGORY' (A-Z, 0-9, _).")
        if name in _RESERVED_FIELDS:
            raise ValueError(f"{name} is written from its own argument; pass it there.")
        if text := _tag_text(value).replace("\n", " "):
            cleaned[name] = text
    return cleaned


def _clean_keywords(keywords) -> list[str]:
    if isinstance(keywords, str):
        keywords = [keywords]
    seen, result = set(), []
    for keyword in keywords or ():
        text = " ".join(_tag_text(keyword).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return result


def _bpm_text(bpm: float) -> str:
    tenths = round(bpm * 10)
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths / 10:.1f}"


# ----------------------------------------------------------------------------------------------- ffmpeg


@functools.lru_cache(maxsize=1)
def has_soxr() -> bool:
    """Whether this ffmpeg can resample with libsoxr (tried once: the option list shows it even when absent)."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"]
    cmd += ["-t", "0.01", "-af", "aresample=44100:resampler=soxr", "-f", "null", "-"]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _resample_filter(spec: ExportFormat, rate: int) -> str:
    options = [str(rate)]
    if has_soxr():
        options += ["resampler=soxr", f"precision={SOXR_PRECISION}"]
    else:
        options += ["filter_size=128", "phase_shift=12", "cutoff=0.97"]
    if spec.sample_fmt:
        # The conversion to the encoder's sample format happens here rather than in a filter ffmpeg would insert
        # with default options, so that the dither is applied (swr only dithers when it reduces resolution).
        options.append(f"osf={spec.sample_fmt}")
        if spec.bit_depth == 16:
            options.append("dither_method=triangular")
    return "aresample=" + ":".join(options)


def _run_ffmpeg(cmd: list[str], duration: float) -> None:
    timeout = 2 * audio_io._decode_timeout(duration)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError("Converting this file took too long; it is probably damaged.", code="timeout") from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        raise AudioError("The audio could not be converted.", code="failed", detail=audio_io._tail(stderr))


# ------------------------------------------------------------------------------------------- ID3 and acid


def _id3_frames(tags: Mapping[str, str]) -> list:
    """mutagen frames for {frame id: text}, with COMM for "COMM" and a TXXX frame described NAME for
    "TXXX:NAME"; empty values are left out."""
    from mutagen.id3 import COMM, TXXX, Encoding, Frames

    frames = []
    for frame_id, value in tags.items():
        if not value:
            continue
        # ID3v2.3 knows only ISO-8859-1 and UTF-16; Latin-1 where it suffices, as the oldest readers expect.
        try:
            value.encode("latin-1")
            encoding = Encoding.LATIN1
        except UnicodeEncodeError:
            encoding = Encoding.UTF16
        if frame_id == "COMM":
            frames.append(COMM(encoding=encoding, lang="eng", desc="", text=[value]))
        elif frame_id.startswith("TXXX:"):
            frames.append(TXXX(encoding=encoding, desc=frame_id[5:], text=[value]))
        else:
            frames.append(Frames[frame_id](encoding=encoding, text=[value]))
    return frames


def _write_id3(path: str, container: str, tags: Mapping[str, str]) -> None:
    """Add an ID3v2.3 tag (the version every reader supports) to a WAV, AIFF or MP3 file ffmpeg left untagged.

    mutagen puts it in an `id3 ` chunk at the end of a WAV (after `data`, leaving the ACID chunk where it is), an
    `ID3 ` chunk at the end of an AIFF, and before the audio of an MP3.
    """
    import mutagen
    import mutagen.aiff
    import mutagen.mp3
    import mutagen.wave

    frames = _id3_frames(tags)
    if not frames:
        return
    kind = {"wav": mutagen.wave.WAVE, "aiff": mutagen.aiff.AIFF, "mp3": mutagen.mp3.MP3}[container]
    try:
        audio = kind(path)
        audio.add_tags()
        for frame in frames:
            audio.tags.add(frame)
        # No padding: exports are often thousands of small samples, and a tagger that edits one later makes room.
        audio.save(v2_version=3, padding=lambda info: 0)
    except mutagen.MutagenError as exc:
        raise AudioError("The converted file could not be tagged.", code="failed", detail=str(exc)) from exc


ACID_ONE_SHOT = 0x01
ACID_ROOT_NOTE = 0x02
ACID_STRETCH = 0x04
_ACID = struct.Struct("<IHHfIHHf")


def build_acid(
    *, tempo: float, beats: int, root_note: int | None, one_shot: bool = False, meter: tuple[int, int] = (4, 4)
) -> bytes:
    """The 24 bytes of an ACID chunk's body (layout in the module doc)."""
    flags = ACID_ONE_SHOT if one_shot else ACID_STRETCH
    if root_note is not None:
        flags |= ACID_ROOT_NOTE
    numerator, denominator = meter
    return _ACID.pack(flags, root_note or 0, 0x8000, 0.0, max(0, beats), denominator, numerator, tempo)


def _chunk(chunk_id: bytes, body: bytes) -> bytes:
    header = chunk_id + struct.pack("<I", len(body))
    return header + body + (b"\x00" if len(body) % 2 else b"")  # chunks are word-aligned


def _iter_chunks(fh, end: int):
    """(id, offset of the body, size) of each chunk of a RIFF file, fh positioned after the 12-byte head."""
    position = 12
    while position + 8 <= end:
        fh.seek(position)
        chunk_id, size = struct.unpack("<4sI", fh.read(8))
        yield chunk_id, position + 8, size
        position += 8 + size + (size & 1)


def _copy_range(src, dst, start: int, length: int) -> None:
    src.seek(start)
    remaining = length
    while remaining > 0:
        block = src.read(min(remaining, 1 << 20))
        if not block:
            raise AudioError("The converted file was cut short.", code="failed")
        dst.write(block)
        remaining -= len(block)


# The tail shared by the KSDATAFORMAT_SUBTYPE GUIDs of PCM (1) and IEEE float (3) in a WAVE_FORMAT_EXTENSIBLE.
_KSDATAFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def _plain_fmt(body: bytes) -> bytes | None:
    """A WAVE_FORMAT_EXTENSIBLE 'fmt ' body for mono/stereo PCM or float as the plain form, or None.

    ffmpeg writes the extensible form for anything above 16 bits. DAWs write the plain form for one or two
    channels, and some samplers and older programs read only that; nothing is lost (the channel mask of mono
    or stereo says nothing the channel count does not).
    """
    if len(body) < 40 or struct.unpack_from("<H", body)[0] != 0xFFFE:
        return None
    channels, rate, byte_rate, block_align, bits = struct.unpack_from("<HIIHH", body, 2)
    valid_bits = struct.unpack_from("<H", body, 18)[0]
    sub_format = struct.unpack_from("<H", body, 24)[0]
    if channels > 2 or valid_bits != bits or sub_format not in (1, 3) or body[26:40] != _KSDATAFORMAT_TAIL:
        return None
    plain = struct.pack("<HHIIHH", sub_format, channels, rate, byte_rate, block_align, bits)
    return plain if sub_format == 1 else plain + b"\x00\x00"  # float: cbSize 0, with its 'fact' chunk


_RIFF_LIMIT = 0xFFFFFFFF  # the largest RIFF size field


def _id3_room(tags: Mapping[str, str]) -> int:
    """At least the size of the `id3 ` chunk mutagen will write for these tags (UTF-16 takes up to 4 bytes a
    character, plus frame headers, BOMs and terminators), or 0 when there are none."""
    items = [(k, v) for k, v in tags.items() if v]
    return 8 + 1 + 10 + sum(10 + 16 + 4 * (len(k) + len(v)) for k, v in items) if items else 0


def _rewrite_wav(src: str, dst: str, *, before_audio: list[bytes], room: int = 0) -> bool:
    """Copy a RIFF WAVE file, inserting chunks before its `data` chunk, writing the plain form of an extensible
    'fmt ' chunk where that is possible, and leaving out JUNK.

    Returns False (and writes nothing) for a file it does not know how to extend (RF64, or a size overflow):
    `room` more bytes must still fit in the RIFF size afterwards, since mutagen's struct.pack would fail on an
    overflow only after it has moved bytes in the file.
    """
    with open(src, "rb") as fh:
        head = fh.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        end = os.fstat(fh.fileno()).st_size
        # Each piece is bytes to write or (offset, length) to copy. JUNK is the room ffmpeg reserves to turn the
        # file into RF64 in place; this file stays RIFF (the ID3 chunk to come is counted in `room`), so it goes.
        pieces: list[bytes | tuple[int, int]] = []
        found_audio = False
        for chunk_id, offset, size in _iter_chunks(fh, end):
            if chunk_id == b"JUNK":
                continue
            if chunk_id == b"data":
                found_audio = True
                pieces += before_audio
            if chunk_id == b"fmt ":
                fh.seek(offset)
                body = fh.read(size)
                pieces.append(_chunk(chunk_id, _plain_fmt(body) or body))
            else:
                if offset + size > end:
                    return False  # a chunk cut short: not a file this module wrote
                pieces.append(chunk_id + struct.pack("<I", size))
                pieces.append((offset, size))
                if size & 1:
                    pieces.append(b"\x00")  # the pad byte, written even where the source forgot it
        if not found_audio:
            return False
        total = 4 + sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
        if total + room > _RIFF_LIMIT:
            return False
        with open(dst, "wb") as out:
            out.write(head[:4] + struct.pack("<I", total) + head[8:12])
            for piece in pieces:
                if isinstance(piece, bytes):
                    out.write(piece)
                else:
                    _copy_range(fh, out, *piece)
    return True


def read_acid(path: str | os.PathLike) -> dict | None:
    """The ACID chunk of a WAV file as a dict (tempo, beats, meter, root_note, one_shot, stretch), or None."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        end = os.fstat(fh.fileno()).st_size
        for chunk_id, offset, size in _iter_chunks(fh, end):
            if chunk_id == b"acid" and size >= _ACID.size:
                fh.seek(offset)
                flags, root, _, _, beats, denominator, numerator, tempo = _ACID.unpack(fh.read(_ACID.size))
                return {
                    "tempo": tempo,
                    "beats": beats,
                    "meter": (numerator, denominator),
                    "root_note": root if flags & ACID_ROOT_NOTE else None,
                    "one_shot": bool(flags & ACID_ONE_SHOT),
                    "stretch": bool(flags & ACID_STRETCH),
                    "flags": flags,
                }
    return None


def read_riff_info(path: str | os.PathLike) -> dict[str, str]:
    """The LIST/INFO tags of a WAV file ({"INAM": "Kick 41", "IKEY": "dusty; punchy", ...}), {} when none."""
    tags: dict[str, str] = {}
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return tags
        end = os.fstat(fh.fileno()).st_size
        for chunk_id, offset, size in _iter_chunks(fh, end):
            if chunk_id != b"LIST" or size < 4:
                continue
            fh.seek(offset)
            body = fh.read(size)
            if body[:4] != b"INFO":
                continue
            position = 4
            while position + 8 <= len(body):
                tag_id, length = struct.unpack_from("<4sI", body, position)
                value = body[position + 8 : position + 8 + length].split(b"\x00", 1)[0]
                tags.setdefault(tag_id.decode("latin-1"), value.decode("utf-8", "replace"))
                position += 8 + length + (length & 1)
    return tags


def read_id3(path: str | os.PathLike) -> dict[str, str]:
    """The ID3 text frames of a WAV, AIFF or MP3 file ({"TBPM": "124", "COMM": "...", "TXXX:CATEGORY": "Kick"}),
    read with mutagen.

    ffmpeg is not enough here: it ignores a WAV's ID3 chunk when the file also has INFO tags.
    """
    import mutagen
    from mutagen.id3 import ID3

    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError:
        return {}
    tags = getattr(audio, "tags", None)
    if not isinstance(tags, ID3):
        return {}
    frames = {}
    for frame in tags.values():
        text = getattr(frame, "text", None)
        if text:
            name = f"TXXX:{frame.desc}" if frame.FrameID == "TXXX" else frame.FrameID
            frames.setdefault(name, str(text[0]))
    return frames


def read_metadata(path: str | os.PathLike) -> dict:
    """What a file says about itself, for tests and checks: the stream facts and tags as `audio_io.probe` reads
    them (so as an upload of the file would be read: "bpm", "key", "title"...), its ID3 frames (WAV, AIFF, MP3)
    and, for WAV, its INFO tags and the ACID chunk."""
    info = probe(path)
    return {
        "format": info.format,
        "codec": info.codec,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "bit_depth": info.bit_depth,
        "bitrate": info.bitrate,
        "duration": info.duration,
        "tags": dict(info.tags),
        "id3": read_id3(path) if info.format in ("wav", "aiff", "mp3") else {},
        "info": read_riff_info(path) if info.format == "wav" else {},
        "acid": read_acid(path) if info.format == "wav" else None,
    }


def _tag_flac(path: str, tags: list[tuple[str, str | list[str]]]) -> None:
    """Set Vorbis comments (in the padding ffmpeg leaves, so the file is not rewritten); a list value is written
    as one comment per item."""
    import mutagen.flac

    values = [(k, v if isinstance(v, list) else [v]) for k, v in tags if v]
    if not values:
        return
    audio = mutagen.flac.FLAC(path)
    if audio.tags is None:
        audio.add_tags()
    for tag, value in values:
        audio.tags[tag] = value
    audio.save()


def _written_facts(path: str, spec: ExportFormat, rate: int, channels: int) -> tuple[int, int, float, int | None]:
    """(sample rate, channels, duration, bitrate) of a converted file; the length is read back from the file.

    WAV/AIFF and FLAC declare their exact length in their headers (read here without another ffprobe run, which
    costs more than converting a short sample; rate and channels are what ffmpeg was told to write, which the
    tests check with other readers); MP3 is decoded, because its Xing header counts the encoder delay and
    padding that decoding trims.
    """
    if spec.container == "mp3":
        info = validate(path)
        return info.sample_rate, info.channels, info.duration, info.bitrate
    if spec.container == "flac":
        import mutagen.flac

        stream = mutagen.flac.FLAC(path).info
        return stream.sample_rate, stream.channels, round(stream.length, 6), None
    frames = audio_io._declared_pcm_frames(path, spec.container)
    if frames is None:  # RF64 or something unexpected: ask ffprobe
        info = probe(path)
        return info.sample_rate, info.channels, info.duration, None
    return rate, channels, round(frames / rate, 6), None


# ------------------------------------------------------------------------------------------------- export


def export_audio(
    src_path: str | os.PathLike,
    dst_path: str | os.PathLike,
    *,
    fmt: str,
    sample_rate: int,
    bpm: float | None = None,
    key: str | None = None,
    title: str | None = None,
    artist: str | None = None,
    album: str | None = None,
    comment: str | None = None,
    note: str | None = None,
    meter: tuple[int, int] = (4, 4),
    keywords=(),
    fields: Mapping[str, object] | None = None,
) -> ExportResult:
    """Convert `src_path` (any accepted audio) to `dst_path` in `fmt` (a FORMATS key) at `sample_rate` (RATES).

    bpm and key ("A minor") are written into the file's metadata as the module doc lists per format; `note`
    ("A2") marks a pitched one-shot (its ACID root note); `meter` is the ACID meter; `keywords` (a list of tags)
    and `fields` ({"CATEGORY": "Kick"}, names A-Z, 0-9 and _) go where the module doc says. `dst_path` is replaced only
    once the new file is complete. Raises ValueError for options out of range and AudioError when the source
    cannot be read or converted.
    """
    name, rate = clean_format(fmt, sample_rate)
    spec = FORMATS[name]
    tempo = _clean_bpm(bpm)
    key_short = key_notation(key) if key else ""
    key_parts = parse_key(key) if key else None
    root_note = parse_note(note) if note else None
    if not (isinstance(meter, tuple) and len(meter) == 2 and all(isinstance(x, int) and 0 < x < 65536 for x in meter)):
        raise ValueError("meter must be a pair of positive integers such as (4, 4).")

    info = probe(src_path)
    channels = min(info.channels, 2) if spec.container == "mp3" else info.channels

    title_text, artist_text, album_text = _tag_text(title), _tag_text(artist), _tag_text(album)
    keyword_list = _clean_keywords(keywords)
    keywords_text = _tag_text("; ".join(keyword_list))
    named = _clean_fields(fields)
    facts = ", ".join(
        part
        for part in (
            f"{_bpm_text(tempo)} BPM" if tempo else "",
            f"{key_parts[0]} {'minor' if key_parts[2] else 'major'}" if key_parts else "",
        )
        if part
    )
    comment_text = _tag_text(comment) or facts
    id3_tags = {
        "TIT2": title_text,
        "TPE1": artist_text,
        "TALB": album_text,
        "COMM": comment_text,
        "TBPM": str(round(tempo)) if tempo else "",
        "TKEY": key_short,
        "TXXX:KEYWORDS": keywords_text,
        **{f"TXXX:{name}": value for name, value in named.items()},
    }

    dst_path = Path(dst_path)
    metadata: list[tuple[str, str]] = []  # for ffmpeg's -metadata
    flac_tags: list[tuple[str, str]] = []
    written: dict[str, str] = {}
    if spec.container == "wav":
        metadata = [("title", title_text), ("artist", artist_text), ("album", album_text), ("comment", comment_text)]
        metadata.append(("IKEY", keywords_text))  # ffmpeg writes any INFO id it knows under its own name
        written.update({"INAM": title_text, "IART": artist_text, "IPRD": album_text, "ICMT": comment_text})
        written["IKEY"] = keywords_text
        written.update(id3_tags)
    elif spec.container == "aiff":
        # ffmpeg's AIFF muxer names the AUTH chunk's field "author".
        metadata = [("title", title_text), ("author", artist_text), ("comment", comment_text)]
        written.update({"NAME": title_text, "AUTH": artist_text, "ANNO": comment_text})
        written.update(id3_tags)
    elif spec.container == "flac":
        # Written with mutagen after encoding: ffmpeg renames COMMENT to DESCRIPTION, and players read either.
        flac_tags = [
            ("TITLE", title_text),
            ("ARTIST", artist_text),
            ("ALBUM", album_text),
            ("DESCRIPTION", comment_text),
            ("COMMENT", comment_text),
            ("BPM", _bpm_text(tempo) if tempo else ""),
            ("INITIALKEY", key_short),
            ("KEY", key_short),
            ("KEYWORDS", keyword_list),
            *named.items(),
        ]
        written.update({k: "; ".join(v) if isinstance(v, list) else v for k, v in flac_tags})
    else:
        written.update(id3_tags)

    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-y"]
    cmd += audio_io._input_args(src_path, audio_io._demuxer_for(info.format))
    # The source's own tags (and any stale tempo in them) are dropped: the export writes what the library knows.
    cmd += ["-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]
    cmd += ["-flags:a", "+bitexact", "-af", _resample_filter(spec, rate), "-ar", str(rate), "-ac", str(channels)]
    cmd += ["-c:a", spec.codec]
    if spec.container == "flac":
        cmd += ["-bits_per_raw_sample", "24"]
    if spec.container == "mp3":
        # CBR 320; LAME's -h quality; no ID3 from ffmpeg (ours follows), but the Xing/LAME header for gapless.
        cmd += ["-b:a", spec.bitrate, "-compression_level", "2", "-id3v2_version", "0", "-write_xing", "1"]
    if spec.container == "wav":
        cmd += ["-rf64", "auto"]
    for tag, value in metadata:
        if value:
            cmd += ["-metadata", f"{tag}={value}"]
    cmd += ["-f", spec.container]

    dst_path.parent.mkdir(parents=True, exist_ok=True)
    fd, converted = tempfile.mkstemp(prefix=".export-", suffix=spec.extension, dir=dst_path.parent)
    os.close(fd)
    fd, final = tempfile.mkstemp(prefix=".export-final-", suffix=spec.extension, dir=dst_path.parent)
    os.close(fd)
    try:
        _run_ffmpeg([*cmd, converted], info.duration)
        out_rate, out_channels, duration, out_bitrate = _written_facts(converted, spec, rate, channels)

        if spec.container == "wav":
            before = []
            # A loop without a known tempo gets no ACID chunk: a stretchable loop at 0 BPM would confuse a DAW
            # (its key still goes into the ID3 tag). A one-shot needs no tempo.
            if tempo or root_note is not None:
                beats = round(duration * tempo / 60) if tempo else 0
                root = root_note if root_note is not None else (60 + key_parts[1] if key_parts else None)
                acid = build_acid(
                    tempo=tempo or 0.0, beats=beats, root_note=root, one_shot=root_note is not None, meter=meter
                )
                before.append(_chunk(b"acid", acid))
            if _rewrite_wav(converted, final, before_audio=before, room=_id3_room(id3_tags)):
                # Tagged after the rewrite: mutagen only appends its chunk and updates the RIFF size, so the ACID
                # chunk stays before `data`, where some readers stop looking.
                _write_id3(final, "wav", id3_tags)
                if before:
                    written["acid.tempo"] = f"{tempo:g}" if tempo else ""
                    written["acid.root_note"] = "" if root is None else str(root)
            else:
                shutil.copyfile(converted, final)
                written = {k: v for k, v in written.items() if k in ("INAM", "IART", "IPRD", "ICMT", "IKEY")}
        elif spec.container in ("aiff", "mp3"):
            _write_id3(converted, spec.container, id3_tags)
            os.replace(converted, final)
        else:
            _tag_flac(converted, flac_tags)
            os.replace(converted, final)
        os.replace(final, dst_path)
    finally:
        for leftover in (converted, final):
            if os.path.exists(leftover):
                os.unlink(leftover)

    return ExportResult(
        path=str(dst_path),
        format=name,
        extension=spec.extension,
        sample_rate=out_rate,
        bit_depth=spec.bit_depth,
        floating=spec.floating,
        channels=out_channels,
        duration=duration,
        bitrate=out_bitrate,
        metadata={k: v for k, v in written.items() if v},
    )
