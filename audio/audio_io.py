"""Reading, checking, decoding and transcoding audio files with ffprobe/ffmpeg.

Pure functions: nothing here knows about Django, the database or the project's apps. Every function takes a
path (and options) and returns plain values or numpy arrays, or raises `AudioError` whose text can be shown to
the person who uploaded the file as it is.

What a file *is* comes from its content (ffprobe's demuxer and codec names), never from its name.
ffmpeg and ffprobe are always started with a list of arguments (no shell), with a time limit, reading only
local files (`-protocol_whitelist file`) through a fixed list of demuxers (`-format_whitelist`), so a crafted
upload (an HLS playlist, a concat script) cannot make them open URLs or other files.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "ACCEPTED_FORMATS_TEXT",
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "SUPPORTED_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "AudioError",
    "AudioInfo",
    "decode",
    "format_duration",
    "probe",
    "transcode",
    "validate",
    "write_wav",
]

FFPROBE = "ffprobe"
FFMPEG = "ffmpeg"

# Limits for values that make no sense for music (parameters of `probe`/`validate` default to these).
MAX_CHANNELS = 8
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 384_000

PROBE_TIMEOUT = 60.0  # seconds for one ffprobe run
# Decoding time limit: a fixed allowance plus this many seconds per second of audio (i.e. decoding must run at
# least 5x faster than real time, which even a slow 2-core machine does by a wide margin for every codec here).
DECODE_TIMEOUT_BASE = 60.0
DECODE_TIMEOUT_PER_SECOND = 0.2
# A decoded length this much shorter than the declared one means the data is truncated or corrupt.
# (Lossy codecs: encoder delay and padding; lossless ones declare their exact length.)
TRUNCATION_TOLERANCE_SECONDS = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.005
LOSSLESS_TRUNCATION_TOLERANCE_SECONDS = 0.05

ACCEPTED_FORMATS_TEXT = "WAV, AIFF, FLAC, MP3, OGG/Opus or M4A/AAC"

_PCM_WAV = frozenset(
    {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le"},
)
_PCM_AIFF = frozenset(
    {"pcm_s8", "pcm_s16be", "pcm_s24be", "pcm_s32be", "pcm_f32be", "pcm_f64be", "pcm_s16le"},  # s16le: AIFF-C 'sowt'
)

#: The accepted formats (as `AudioInfo.format`) and, for each, the codecs (ffprobe `codec_name`) accepted in it.
SUPPORTED_FORMATS: Mapping[str, frozenset[str]] = {
    "wav": _PCM_WAV,
    "aiff": _PCM_AIFF,
    "flac": frozenset({"flac"}),
    "mp3": frozenset({"mp3"}),
    "ogg": frozenset({"vorbis"}),
    "opus": frozenset({"opus"}),
    "m4a": frozenset({"aac", "alac"}),
}

#: File name extensions an upload form can offer (only a hint for the browser's file picker: never trusted).
SUPPORTED_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a")

# ffprobe demuxer name (its `format_name`) -> our format, for the containers we accept. Ogg is split by codec.
_CONTAINER_FORMATS = {
    "wav": "wav",
    "aiff": "aiff",
    "flac": "flac",
    "mp3": "mp3",
    "ogg": "ogg",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
}

# Demuxers ffprobe may use: the accepted ones, plus common containers we do not accept, opened only so that the
# error can name them. Nothing that follows references to other files or URLs (hls, concat, playlists, images).
_DEMUXER_WHITELIST = ",".join(
    [
        *("wav", "aiff", "flac", "mp3", "ogg", "mov"),
        *("asf", "matroska", "avi", "aac", "ac3", "eac3", "dts", "truehd", "mlp", "wv", "ape", "caf", "w64"),
        *("au", "amr", "mpc", "mpc8", "tta", "dsf", "iff", "voc", "xwma", "mpegts", "mpeg", "flv", "rm", "tak"),
        *("shorten", "gsm", "mxf"),
    ]
)

_CONTAINER_NAMES = {
    "wav": "a WAV",
    "aiff": "an AIFF",
    "flac": "a FLAC",
    "mp3": "an MP3",
    "ogg": "an Ogg",
    "mov,mp4,m4a,3gp,3g2,mj2": "an MP4/M4A",
    "asf": "an ASF (Windows Media)",
    "matroska,webm": "a Matroska/WebM",
    "avi": "an AVI",
    "aac": "a raw AAC (ADTS)",
    "ac3": "a raw AC-3",
    "eac3": "a raw E-AC-3",
    "dts": "a raw DTS",
    "wv": "a WavPack",
    "ape": "a Monkey's Audio (APE)",
    "caf": "a Core Audio (CAF)",
    "w64": "a Sony Wave64",
    "au": "a Sun AU",
    "amr": "an AMR",
    "mpc": "a Musepack",
    "mpc8": "a Musepack",
    "tta": "a TTA",
    "dsf": "a DSD (DSF)",
    "iff": "an IFF/DSDIFF",
    "mpegts": "an MPEG transport stream",
    "mpeg": "an MPEG program stream",
    "flv": "a Flash video (FLV)",
    "rm": "a RealMedia",
    "mxf": "an MXF",
}

_UPLOAD_HINT = f"Upload {ACCEPTED_FORMATS_TEXT}."

# Video "streams" that are really cover art.
_PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp", "tiff"})

# Tags: ffprobe already maps most ID3/Vorbis/MP4/RIFF keys to its generic names; these catch what is left.
_TAG_ALIASES = {
    "tit2": "title",
    "inam": "title",
    "tpe1": "artist",
    "iart": "artist",
    "author": "artist",
    "talb": "album",
    "iprd": "album",
    "tpe2": "album_artist",
    "albumartist": "album_artist",
    "album artist": "album_artist",
    "tbpm": "bpm",
    "tempo": "bpm",
    "tmpo": "bpm",
    "tkey": "key",
    "initialkey": "key",
    "initial key": "key",
    "tcon": "genre",
    "ignr": "genre",
    "tdrc": "date",
    "tyer": "date",
    "year": "date",
    "icrd": "date",
    "trck": "track",
    "tracknumber": "track",
    "tpos": "disc",
    "discnumber": "disc",
    "tcom": "composer",
    "comm": "comment",
    "icmt": "comment",
    "tsrc": "isrc",
}
_TAG_IGNORED = frozenset(
    {
        "encoder",
        "encoder_options",
        "major_brand",
        "minor_version",
        "compatible_brands",
        "handler_name",
        "vendor_id",
        "language",
        "creation_time",
        "itunsmpb",
        "itunnorm",
        "itunes_cddb_1",
        "duration",
    }
)
MAX_TAG_VALUE_LENGTH = 1000
MAX_TAGS = 64


class AudioError(Exception):
    """A file that cannot be accepted or processed; `reason` (== str(exc)) tells the user what and what to do.

    `code` is a short machine-readable kind: "empty", "not_audio", "damaged", "unsupported", "video",
    "invalid", "corrupt", "too_long", "timeout", "failed".
    """

    def __init__(self, reason: str, *, code: str = "invalid", detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.detail = detail  # for logs only (ffmpeg's own words, which name server paths): never shown to users

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class AudioInfo:
    """What ffprobe says about a file (and, after `validate`, the length actually decoded)."""

    format: str  # one of SUPPORTED_FORMATS
    codec: str  # ffprobe codec_name, e.g. pcm_s16le, flac, mp3, vorbis, opus, aac, alac
    duration: float  # seconds
    sample_rate: int
    channels: int
    bit_depth: int | None = None  # PCM, FLAC, ALAC
    bitrate: int | None = None  # bits/s, lossy codecs
    tags: dict[str, str] = field(default_factory=dict)
    # True when the container does not declare its length and ffmpeg guessed it from the bitrate (an MP3 without
    # a Xing/VBRI header): the duration can then be off, until `validate` replaces it by the decoded length.
    duration_estimated: bool = False

    @property
    def lossless(self) -> bool:
        return self.codec.startswith("pcm_") or self.codec in ("flac", "alac")

    @property
    def browser_playable(self) -> bool:
        """Whether current browsers play the file as it is (else a preview must be transcoded)."""
        if self.format in ("mp3", "ogg", "opus", "flac"):
            return True
        if self.format == "m4a":
            return self.codec == "aac"
        if self.format == "wav":
            return self.codec in ("pcm_s16le", "pcm_s24le") and self.sample_rate <= 48_000 and self.channels <= 2
        return False


# --------------------------------------------------------------------------------------------------- helpers


def format_duration(seconds: float, *, hours: bool = False) -> str:
    """0:42, 3:10, 1:02:03; with hours=True always H:MM:SS (0:20:00)."""
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if hours or h:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{m}:{s:02d}"


def _input_url(path: str | os.PathLike) -> str:
    # "file:" keeps ffmpeg from reading a name such as "concat:a|b" or "http://x" as a protocol.
    return "file:" + os.path.abspath(os.fspath(path))


def _input_args(path: str | os.PathLike, demuxer_whitelist: str = _DEMUXER_WHITELIST) -> list[str]:
    return ["-protocol_whitelist", "file", "-format_whitelist", demuxer_whitelist, "-i", _input_url(path)]


def _decode_timeout(duration: float | None) -> float:
    return DECODE_TIMEOUT_BASE + DECODE_TIMEOUT_PER_SECOND * max(0.0, duration or 0.0)


def _tail(text: str, limit: int = 500) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _sniff(head: bytes) -> tuple[str | None, str | None]:
    """(what the bytes look like when not audio, the audio format they look like) from a file's first bytes."""
    if (head.startswith(b"RIFF") and head[8:12] == b"WAVE") or head.startswith(b"RF64"):
        return None, "WAV"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return None, "AIFF"
    if head.startswith(b"fLaC"):
        return None, "FLAC"
    if head.startswith(b"OggS"):
        return None, "Ogg"
    if head[4:8] == b"ftyp":
        return None, "MP4/M4A"
    if head.startswith(b"ID3"):
        return None, "MP3"
    signatures = [
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\x7fELF", "a program"),
        (b"MZ", "a Windows program"),
        (b"MThd", "a MIDI file, which holds notes rather than sound: render it to audio in your DAW first"),
    ]
    for magic, description in signatures:
        if head.startswith(magic):
            return description, None
    if head.startswith(b"RIFF") and head[8:12] == b"RMID":
        return "a MIDI file, which holds notes rather than sound: render it to audio in your DAW first", None
    if head and b"\x00" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            text = head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 else ""
        if text and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text):
            lowered = text.lstrip().lower()
            if lowered.startswith(("<!doctype html", "<html")):
                return "a web page (HTML)", None
            if lowered.startswith("#extm3u"):
                return "a playlist (M3U), which only points to audio files", None
            return "plain text", None
    return None, None


def _unreadable_error(path: str | os.PathLike, stderr: str) -> AudioError:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    looks_like, audio_kind = _sniff(head)
    if looks_like:
        return AudioError(
            f"This file is not audio we can read (it looks like {looks_like}). {_UPLOAD_HINT}", code="not_audio"
        )
    if audio_kind:
        hint = " (it looks cut off: the upload may have been interrupted)" if "moov atom not found" in stderr else ""
        return AudioError(
            f"This file starts like {audio_kind} audio but it cannot be read: its header is damaged or incomplete"
            f"{hint}. Export or upload it again.",
            code="damaged",
        )
    return AudioError(
        f"This file is not audio we can read (its format is not recognised). {_UPLOAD_HINT}", code="not_audio"
    )


def _normalise_tags(*sources: Mapping[str, str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for source in sources:
        for raw_key, raw_value in (source or {}).items():
            key = str(raw_key).strip().lower()
            key = _TAG_ALIASES.get(key, key)
            if not key or key in _TAG_IGNORED or key.startswith(("id3v2_priv", "itunes_")) or key in tags:
                continue
            value = str(raw_value).replace("\x00", "").strip()
            if not value:
                continue
            tags[key] = value[:MAX_TAG_VALUE_LENGTH]
            if len(tags) >= MAX_TAGS:
                return tags
    return tags


def _int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _float_or_none(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _is_real_video(stream: Mapping) -> bool:
    if stream.get("codec_type") != "video":
        return False
    if (stream.get("disposition") or {}).get("attached_pic"):
        return False
    return stream.get("codec_name") not in _PICTURE_CODECS


def _run_ffprobe(path: str | os.PathLike) -> tuple[dict | None, str]:
    cmd = [FFPROBE, "-v", "warning", "-print_format", "json", "-show_format", "-show_streams", *_input_args(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(
            "Reading this file's header took too long; it is probably damaged. Export or upload it again.",
            code="timeout",
        ) from None
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        return None, stderr
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace"))
    except ValueError:
        return None, stderr
    if not isinstance(data, dict) or "format" not in data:
        return None, stderr
    return data, stderr


# ------------------------------------------------------------------------------------------------------ probe


def probe(
    path: str | os.PathLike,
    *,
    max_channels: int = MAX_CHANNELS,
    min_sample_rate: int = MIN_SAMPLE_RATE,
    max_sample_rate: int = MAX_SAMPLE_RATE,
) -> AudioInfo:
    """Identify an audio file from its content with ffprobe; raise AudioError when it is not acceptable.

    Only reads headers (fast). Use `validate` to also decode the audio data.
    """
    size = os.stat(path).st_size  # a missing file is the caller's bug: FileNotFoundError
    if size == 0:
        raise AudioError(
            "The file is empty (0 bytes). The upload was probably interrupted: upload it again.", code="empty"
        )
    data, stderr = _run_ffprobe(path)
    if data is None:
        raise _unreadable_error(path, stderr)

    fmt = data.get("format") or {}
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    container = str(fmt.get("format_name") or "")
    container_name = _CONTAINER_NAMES.get(container, f"a '{container}'")
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [s for s in streams if _is_real_video(s)]
    if not audio:
        if video:
            raise AudioError(
                f"This is a video file ({video[0].get('codec_name')} video) without any sound. {_UPLOAD_HINT}",
                code="video",
            )
        raise AudioError(f"This file contains no audio stream. {_UPLOAD_HINT}", code="not_audio")
    if video:
        raise AudioError(
            f"This is a video file ({video[0].get('codec_name')} video in {container_name} container). "
            f"Export the sound only and upload it as {ACCEPTED_FORMATS_TEXT}.",
            code="video",
        )

    stream = audio[0]
    channels = _int_or_none(stream.get("channels")) or 0
    sample_rate = _int_or_none(stream.get("sample_rate")) or 0
    if channels <= 0 or sample_rate <= 0:
        # ffmpeg found no usable stream parameters: random data that happened to look like a frame, or a
        # damaged header.
        raise _unreadable_error(path, stderr)
    codec = str(stream.get("codec_name") or "unknown")
    our_format = _CONTAINER_FORMATS.get(container)
    if our_format == "ogg" and codec == "opus":
        our_format = "opus"
    if our_format is None or codec not in SUPPORTED_FORMATS[our_format]:
        raise AudioError(
            f"Unsupported codec '{codec}' in {container_name} container. {_UPLOAD_HINT}", code="unsupported"
        )
    if channels > max_channels:
        raise AudioError(
            f"This file has {channels} channels; the limit is {max_channels}. "
            "Export a stereo or mono mix (or the stems as separate files).",
            code="invalid",
        )
    if not min_sample_rate <= sample_rate <= max_sample_rate:
        raise AudioError(
            f"This file declares {sample_rate} Hz, outside the accepted {min_sample_rate}–{max_sample_rate} Hz. "
            "Export it at 44.1, 48 or 96 kHz.",
            code="invalid",
        )

    duration = _float_or_none(stream.get("duration"))
    if duration is None:
        duration = _float_or_none(fmt.get("duration"))
    if codec.startswith("pcm_"):
        bit_depth = _int_or_none(stream.get("bits_per_sample")) or _int_or_none(stream.get("bits_per_raw_sample"))
    elif codec in ("flac", "alac"):
        bit_depth = _int_or_none(stream.get("bits_per_raw_sample")) or _int_or_none(stream.get("bits_per_sample"))
    else:
        bit_depth = None
    lossless = codec.startswith("pcm_") or codec in ("flac", "alac")  # as AudioInfo.lossless
    bitrate = None if lossless else (_int_or_none(stream.get("bit_rate")) or _int_or_none(fmt.get("bit_rate")))

    return AudioInfo(
        format=our_format,
        codec=codec,
        duration=round(duration or 0.0, 6),
        sample_rate=sample_rate,
        channels=channels,
        bit_depth=bit_depth,
        bitrate=bitrate,
        tags=_normalise_tags(fmt.get("tags"), stream.get("tags")),
        duration_estimated=duration is None or "Estimating duration from bitrate" in stderr,
    )


# ----------------------------------------------------------------------------------------------- validation


def _declared_pcm_frames(path: str | os.PathLike, fmt: str) -> int | None:
    """The number of sample frames a WAV/AIFF header declares (ffprobe reports what the file still holds)."""
    try:
        with open(path, "rb") as fh:
            if fmt == "wav":
                return _riff_frames(fh)
            if fmt == "aiff":
                return _aiff_frames(fh)
    except (OSError, struct.error, ZeroDivisionError):
        return None
    return None


def _riff_frames(fh) -> int | None:
    head = fh.read(12)
    if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RF64"):
        return None
    block_align = None
    ds64_data_size = None
    for _ in range(256):
        header = fh.read(8)
        if len(header) < 8:
            return None
        chunk_id, size = struct.unpack("<4sI", header)
        if chunk_id == b"ds64":
            body = fh.read(size)
            ds64_data_size = struct.unpack_from("<Q", body, 8)[0]
            size = 0
        elif chunk_id == b"fmt ":
            body = fh.read(size)
            block_align = struct.unpack_from("<H", body, 12)[0]
            size = 0
        elif chunk_id == b"data":
            if size == 0xFFFFFFFF and ds64_data_size is not None:
                size = ds64_data_size
            if not block_align or size in (0, 0xFFFFFFFF, 0x7FFFFFFF):  # written while streaming: no length
                return None
            return size // block_align
        if size:
            fh.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _aiff_frames(fh) -> int | None:
    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"FORM" or head[8:12] not in (b"AIFF", b"AIFC"):
        return None
    for _ in range(256):
        header = fh.read(8)
        if len(header) < 8:
            return None
        chunk_id, size = struct.unpack(">4sI", header)
        if chunk_id == b"COMM":
            body = fh.read(size)
            return struct.unpack_from(">I", body, 2)[0] or None
        fh.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _ogg_ends_cleanly(path: str | os.PathLike) -> bool:
    """Whether an Ogg file ends with a complete page flagged end-of-stream (a cut-off file does not).

    Ogg declares no total length, so this is how a truncated Ogg Vorbis/Opus file shows.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        start = max(0, size - 65_307 - 27)  # the largest possible page
        fh.seek(start)
        tail = fh.read()
    position = len(tail)
    # From the last "OggS" backwards (the bytes can also occur inside a page's data): the page that ends
    # exactly at the end of the file is the last page.
    while (position := tail.rfind(b"OggS", 0, position)) >= 0:
        if position + 27 > len(tail) or tail[position + 4] != 0:
            continue
        segments = tail[position + 26]
        table_end = position + 27 + segments
        if table_end <= len(tail) and table_end + sum(tail[position + 27 : table_end]) == len(tail):
            return bool(tail[position + 5] & 0x04)
    return False


class _Watchdog:
    """Kills a process if it is still running after `timeout` seconds."""

    def __init__(self, proc: subprocess.Popen, timeout: float):
        self.fired = False
        self._proc = proc
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True

    def _fire(self):
        self.fired = True
        self._proc.kill()

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()


def _read_stderr(fh, limit: int = 4000) -> str:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - limit))
    return fh.read().decode("utf-8", "replace")


def _decoded_frames(path: str | os.PathLike, info: AudioInfo, demuxer: str, limit_seconds: float | None):
    """Decode the first audio stream completely, counting sample frames: (frames, return code, timed out)."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-xerror", *_input_args(path, demuxer)]
    # One byte per sample, all channels kept (no downmix that could fail on an odd layout): a cheap counter.
    cmd += ["-map", "0:a:0", "-ac", str(info.channels), "-ar", str(info.sample_rate), "-c:a", "pcm_u8", "-f", "u8"]
    if limit_seconds is not None:
        cmd += ["-t", f"{limit_seconds:.3f}"]
    cmd.append("pipe:1")
    expected = limit_seconds if limit_seconds is not None else info.duration
    if info.duration_estimated:
        expected = max(expected or 0.0, info.duration * 4)
    received = 0
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    with _Watchdog(proc, _decode_timeout(expected)) as watchdog:
        try:
            while n := proc.stdout.readinto(view):
                received += n
        finally:
            proc.stdout.close()
            returncode = proc.wait()
    return received // info.channels, returncode, watchdog.fired


def _demuxer_for(fmt: str) -> str:
    return {"wav": "wav", "aiff": "aiff", "flac": "flac", "mp3": "mp3", "ogg": "ogg", "opus": "ogg", "m4a": "mov"}[fmt]


def validate(path: str | os.PathLike, *, max_duration: float | None = None, **limits) -> AudioInfo:
    """Probe the file, then decode all of its audio to prove it is complete and not corrupt.

    Returns the AudioInfo with `duration` set to the length actually decoded. Raises AudioError for anything
    `probe` rejects, for data that does not decode, for a decoded length clearly shorter than the declared one
    (a truncated file), and for files longer than `max_duration` seconds. `limits` are passed to `probe`.
    Note that damage inside PCM data (WAV/AIFF) cannot be seen: any bytes are valid samples.
    """
    info = probe(path, **limits)
    if max_duration is not None and info.duration > max_duration and not info.duration_estimated:
        raise AudioError(
            f"This file is {format_duration(info.duration, hours=True)} long; "
            f"the limit is {format_duration(max_duration, hours=True)}.",
            code="too_long",
        )
    declared = info.duration
    length_known = not info.duration_estimated
    pcm_frames = _declared_pcm_frames(path, info.format)
    if pcm_frames:  # WAV/AIFF: the header's length, not what is left of the file
        declared, length_known = pcm_frames / info.sample_rate, True
    # Decode a little past the limit, never the whole of an over-long file.
    limit = max_duration + 1.0 if max_duration is not None else None
    frames, returncode, timed_out = _decoded_frames(path, info, _demuxer_for(info.format), limit)
    decoded = frames / info.sample_rate
    if timed_out:
        raise AudioError(
            f"Decoding this file took too long (stopped at {format_duration(decoded)}); it is probably damaged. "
            "Export or upload it again.",
            code="timeout",
        )
    if max_duration is not None and decoded > max_duration:
        raise AudioError(
            f"This file is longer than the limit of {format_duration(max_duration, hours=True)}.", code="too_long"
        )
    # The length can only be checked when the file declares it and it was decoded to the end (it was: a
    # decode cut at the limit raised above), even when the header declares more than the limit (a WAV
    # header claiming 24 hours in front of 1 second of audio is truncated, not too long).
    check_length = length_known and declared > 0
    shortfall = declared - decoded if check_length else 0.0
    if info.lossless:
        tolerance = LOSSLESS_TRUNCATION_TOLERANCE_SECONDS
    else:
        tolerance = max(TRUNCATION_TOLERANCE_SECONDS, TRUNCATION_TOLERANCE_RATIO * declared)
    # A WAV written to a pipe declares no length (sizes 0xFFFFFFFF) and its last packet is short, which
    # ffmpeg flags as corrupt; PCM has no other way to be corrupt (any bytes are samples): not an error.
    pcm_without_length = info.codec.startswith("pcm_") and not check_length
    truncated = (
        # -xerror: ffmpeg stopped at the first decoding error. An error right at the declared end (a cut last
        # frame) loses nothing audible, so that file is accepted.
        (returncode != 0 and not pcm_without_length and (not check_length or shortfall > TRUNCATION_TOLERANCE_SECONDS))
        or shortfall > tolerance
        or frames == 0
    )
    if truncated:
        if frames == 0 and not check_length:
            raise AudioError(
                "The file contains no audio data that can be decoded. Export or upload it again.", code="corrupt"
            )
        of = f" of {format_duration(declared)}" if check_length else ""
        raise AudioError(
            f"The audio data is truncated or corrupt: decoding stopped at {format_duration(decoded)}{of}. "
            "Export or upload the file again.",
            code="corrupt",
        )
    if info.format in ("ogg", "opus") and (limit is None or decoded < limit) and not _ogg_ends_cleanly(path):
        raise AudioError(
            f"The audio data is truncated: the file ends abruptly at {format_duration(decoded)} (the upload may "
            "have been cut off). Export or upload the file again.",
            code="corrupt",
        )
    if check_length:
        # Declared and decoded agree to within encoder delay and padding, which containers count (MP3, Opus)
        # or decoders do not all trim (AAC): the shorter of the two is the length of the music.
        return dataclasses.replace(info, duration=round(min(declared, decoded), 6), duration_estimated=False)
    return dataclasses.replace(info, duration=round(decoded, 6), duration_estimated=False)


# --------------------------------------------------------------------------------------------------- decoding


def decode(
    path: str | os.PathLike,
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    max_seconds: float | None = None,
    channels: int | None = None,
    info: AudioInfo | None = None,
) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to float32 samples shaped (channels, frames), and the sample rate.

    `sample_rate` resamples (ffmpeg), `mono` mixes down to one channel (shape (1, frames)), `channels` mixes to
    that many channels, `max_seconds` decodes only the beginning. Pass `info` from an earlier probe/validate to
    skip probing again.

    The array is a transposed view of the interleaved buffer ffmpeg wrote (no second copy is made), so
    `samples.T` is C-contiguous (frames, channels); use np.ascontiguousarray(samples[i]) for a contiguous channel.
    """
    info = info or probe(path)
    out_channels = 1 if mono else (channels or info.channels)
    out_rate = sample_rate or info.sample_rate
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", *_input_args(path, _demuxer_for(info.format))]
    cmd += ["-map", "0:a:0", "-ac", str(out_channels), "-ar", str(out_rate), "-c:a", "pcm_f32le", "-f", "f32le"]
    seconds = info.duration
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.6f}"]
        seconds = min(seconds, max_seconds) if not info.duration_estimated else max_seconds
    cmd.append("pipe:1")

    frame_bytes = 4 * out_channels
    capacity = math.ceil(seconds * out_rate) + out_rate // 10 + 1024 if seconds else 10 * out_rate
    buffer = np.empty(capacity * out_channels, dtype=np.float32)
    raw = memoryview(buffer).cast("B")
    used = 0
    overflow: list[bytes] = []
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        timeout = _decode_timeout(seconds * (4 if info.duration_estimated else 1))
        with _Watchdog(proc, timeout) as watchdog:
            try:
                while used < len(raw) and (n := proc.stdout.readinto(raw[used:])):
                    used += n
                if used == len(raw):  # the declared length was too short: collect the rest separately
                    while chunk := proc.stdout.read(1 << 20):
                        overflow.append(chunk)
            finally:
                proc.stdout.close()
                returncode = proc.wait()
        stderr = _read_stderr(err)
    if watchdog.fired:
        raise AudioError("Decoding this file took too long; it is probably damaged.", code="timeout")
    if returncode != 0:
        raise AudioError(
            "The audio could not be decoded. Export or upload the file again.", code="corrupt", detail=_tail(stderr)
        )
    if overflow:
        extra = b"".join(overflow)
        data = np.concatenate([buffer[: used // 4], np.frombuffer(extra, dtype=np.float32)])
        used += len(extra)
    else:
        data = buffer[: used // 4]
    frames = used // frame_bytes
    samples = data[: frames * out_channels].reshape(frames, out_channels).T
    return samples, out_rate


# ------------------------------------------------------------------------------------------------- writing


_TRANSCODE_CODECS = {
    # codec: (ffmpeg encoder, muxer, encoder options)
    "mp3": ("libmp3lame", "mp3", []),
    "aac": ("aac", "ipod", ["-movflags", "+faststart"]),
    "opus": ("libopus", "ogg", []),
    "vorbis": ("libvorbis", "ogg", []),
    "flac": ("flac", "flac", []),
}


def transcode(
    path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    codec: str = "mp3",
    bitrate: str = "192k",
    sample_rate: int | None = None,
    channels: int | None = None,
) -> None:
    """Encode the first audio stream of `path` into `out_path` (browser previews: mp3 by default).

    codec: mp3 (libmp3lame), aac (.m4a), opus (.opus), vorbis (.ogg) or flac; bitrate is ignored for flac.
    More than two channels are mixed down to stereo (MP3 cannot hold more). The output is written to a
    temporary file next to `out_path` and renamed, so `out_path` is never left half-written.
    """
    if codec not in _TRANSCODE_CODECS:
        raise ValueError(f"unknown codec {codec!r}; use one of {sorted(_TRANSCODE_CODECS)}")
    info = probe(path)
    encoder, muxer, options = _TRANSCODE_CODECS[codec]
    out_channels = channels or min(info.channels, 2)
    out_path = Path(out_path)
    fd, tmp_name = tempfile.mkstemp(prefix=".transcode-", suffix=out_path.suffix, dir=out_path.parent)
    os.close(fd)
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-y", *_input_args(path, _demuxer_for(info.format))]
    cmd += ["-map", "0:a:0", "-map_metadata", "0", "-ac", str(out_channels), "-c:a", encoder]
    if codec != "flac":
        cmd += ["-b:a", bitrate]
    if sample_rate:
        cmd += ["-ar", str(sample_rate)]
    elif codec == "opus" and info.sample_rate not in (8000, 12000, 16000, 24000, 48000):
        cmd += ["-ar", "48000"]
    cmd += [*options, "-f", muxer, tmp_name]
    try:
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=_decode_timeout(info.duration), check=False)
        except subprocess.TimeoutExpired:
            raise AudioError("Converting this file took too long; it is probably damaged.", code="timeout") from None
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            raise AudioError("The audio could not be converted.", code="failed", detail=_tail(stderr))
        os.replace(tmp_name, out_path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


_WAV_SUBTYPES = {8: "PCM_U8", 16: "PCM_16", 24: "PCM_24", 32: "PCM_32"}


def write_wav(
    path: str | os.PathLike, samples: np.ndarray, sample_rate: int, bit_depth: int = 16, *, floating: bool = False
) -> None:
    """Write samples shaped (channels, frames) (or 1-D mono) as a PCM WAV file (floating=True: 32-bit float).

    Integer formats clip to [-1, 1]; the data is written in blocks, so no full-size copy is made.
    """
    import soundfile as sf

    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    if samples.ndim != 2:
        raise ValueError("samples must be shaped (channels, frames)")
    if floating:
        subtype = "FLOAT"
    elif bit_depth in _WAV_SUBTYPES:
        subtype = _WAV_SUBTYPES[bit_depth]
    else:
        raise ValueError(f"bit_depth must be one of {sorted(_WAV_SUBTYPES)}")
    channels, frames = samples.shape
    block = 1 << 18
    with sf.SoundFile(
        os.fspath(path), "w", samplerate=sample_rate, channels=channels, subtype=subtype, format="WAV"
    ) as f:
        for start in range(0, frames, block):
            chunk = samples[:, start : start + block].T.astype(np.float32)
            if not floating:
                np.clip(chunk, -1.0, 1.0, out=chunk)
            f.write(chunk)
