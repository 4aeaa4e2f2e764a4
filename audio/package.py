"""Packaging an export: safe names, musical file names, a streamed ZIP and its manifest (JSON and CSV).

Pure functions and one class; nothing here knows about Django, storage or the database. The export job
decides *what* goes into an archive; this module decides what the files are called and how they are written.

Names. Every part of every path in an archive goes through `safe_component`, which turns any text (a track
title typed by a user, a category label, a stem name) into one file or folder name that can never escape its
folder and that every common file system accepts: no separators, no `..`, no control or bidi characters, no
leading dots (hidden files), no trailing dots or spaces and no device names (Windows), NFC-normalised, at most
100 characters and 200 UTF-8 bytes (so that " (2)" and an extension still fit in the 255-byte limit of ext4,
APFS and NTFS). It is idempotent: `safe_component(safe_component(x)) == safe_component(x)`, which is what
`ZipBuilder` checks every archive name against. The names carry what producers search by: "Kick 03",
"Bass 02 - A2", "Bass - 124 BPM - A minor", "Artist - Title".

The ZIP. `ZipBuilder` writes entries one at a time to any writable binary file object, seekable or not (an
upload stream, a pipe, a socket): when the target cannot seek, `zipfile` writes each entry's CRC and sizes in
a data descriptor after its data instead of going back to patch the local header. Files are copied in 1 MiB
chunks, so memory stays bounded whatever the size of the archive; ZIP64 records are used where an entry, an
offset or the number of entries needs them. Compression: audio is STORED (MP3/FLAC are already compressed;
DEFLATE typically shrinks music in WAV/AIFF by well under 10 % while running at a few tens of MB/s per core,
several times slower than copying, and an export of a whole library should be limited by the disk, not the CPU);
text, MIDI and project files are DEFLATED (they shrink several times over and are small).

The manifest lists every file with where it came from, its musical facts and, for samples, what the user made of
them (name, category and whether they corrected it, tags, favourite), with a fixed column order
(`MANIFEST_COLUMNS`). The JSON form is exact and machine-readable; the CSV form is for spreadsheets.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import BinaryIO

__all__ = [
    "MANIFEST_COLUMNS",
    "MANIFEST_KINDS",
    "MAX_COMPONENT_BYTES",
    "MAX_COMPONENT_CHARS",
    "ManifestEntry",
    "ZipBuilder",
    "format_bpm",
    "manifest_csv",
    "manifest_json",
    "manifest_rows",
    "safe_component",
    "sample_file_name",
    "sample_name",
    "stem_name",
    "track_folder",
    "unique",
    "validate_arcname",
    "with_extension",
]

MAX_COMPONENT_CHARS = 100
MAX_COMPONENT_BYTES = 200
# Names made by the naming helpers leave room for " (99)" from `unique` and an extension such as ".flac".
MAX_NAME_CHARS = MAX_COMPONENT_CHARS - 12

# Characters no file system or archive tool should see in a name: separators on any OS, and the rest of
# Windows' forbidden set (which macOS Finder also maps ':' from). A typographic quote keeps titles readable.
_REPLACED = {"/": "_", "\\": "_", ":": "_", "*": "_", "?": "_", '"': "'", "<": "_", ">": "_", "|": "_"}
# Format characters (Unicode category Cf) that are part of how text is written, not controls: the joiners
# used by emoji sequences and some scripts. Bidi overrides (U+202E can disguise "exe.wav" as "vaw.exe"), BOMs,
# soft hyphens and the other Cf characters are removed.
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})
# Windows device names: reserved with any extension and in any case ("con.txt", "Nul"). The superscript
# digits are reserved too since Windows 10's console rewrite.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)


# --------------------------------------------------------------------------------------------------- names


def _clean_once(text: str, max_chars: int, max_bytes: int) -> str:
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _REPLACED:
            out.append(_REPLACED[ch])
        elif ch.isspace() or category in ("Zl", "Zp"):
            out.append(" ")  # tabs and newlines become spaces, then runs of spaces collapse
        elif category in ("Cc", "Cs") or (category == "Cf" and ch not in _KEPT_FORMAT):
            continue
        else:
            out.append(ch)
    text = " ".join("".join(out).split())
    # Leading dots hide files on Unix and are how "." and ".." are spelled; trailing dots and spaces are
    # silently dropped by Windows, so "a." and "a" would collide there.
    text = text.lstrip(". ").rstrip(". ")
    if text.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        text = "_" + text
    if len(text) > max_chars:
        text = text[:max_chars]
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    return text.rstrip(". ")


def _clean(text: object, max_chars: int = MAX_COMPONENT_CHARS, max_bytes: int = MAX_COMPONENT_BYTES) -> str:
    """The cleaned text, possibly empty. Repeats until nothing changes, which makes it idempotent."""
    text = "" if text is None else str(text)
    for _ in range(8):
        cleaned = _clean_once(text, max_chars, max_bytes)
        if cleaned == text:
            break
        text = cleaned
    return text


def safe_component(text: object, fallback: str = "Untitled", *, max_length: int = MAX_COMPONENT_CHARS) -> str:
    """One file or folder name made from any text, which can never escape its folder (see the module doc).

    `fallback` (itself cleaned) is used when nothing is left, e.g. for "", "..", "///" or only control
    characters. `max_length` limits the number of characters (and proportionally fewer UTF-8 bytes).
    """
    max_length = max(1, min(int(max_length), MAX_COMPONENT_CHARS))
    max_bytes = MAX_COMPONENT_BYTES * max_length // MAX_COMPONENT_CHARS
    return _clean(text, max_length, max_bytes) or _clean(fallback, max_length, max_bytes) or "_"


def with_extension(name: object, extension: str, fallback: str = "Untitled") -> str:
    """`name` cleaned and shortened so that it still fits with `extension` (".wav") in one component."""
    extension = extension if extension.startswith(".") or not extension else "." + extension
    if _clean(extension) != extension.lstrip(".") and extension:
        raise ValueError(f"{extension!r} is not a usable file name extension.")
    return safe_component(name, fallback, max_length=MAX_COMPONENT_CHARS - len(extension)) + extension


def format_bpm(bpm: float | None) -> str:
    """A tempo for names and tags: "124", "124.5", "123.7" (rounded to 0.1); "" when unknown."""
    if bpm is None:
        return ""
    try:
        value = float(bpm)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value) or value <= 0:
        return ""
    tenths = round(value * 10)
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths / 10:.1f}"


def track_folder(artist: str | None, title: str | None) -> str:
    """ "Artist - Title", or the title alone when there is no artist ("Untitled" when neither is known)."""
    title_part = _clean(title)
    artist_part = _clean(artist)
    if artist_part and title_part:
        return safe_component(f"{artist_part} - {title_part}", max_length=MAX_NAME_CHARS)
    return safe_component(title_part or artist_part, "Untitled", max_length=MAX_NAME_CHARS)


def sample_name(category_label: str | None, number: int, note: str | None = None) -> str:
    """ "Kick 03", or with the note of a pitched one-shot "Bass 02 - A2" (numbers have at least two digits)."""
    label = _clean(category_label) or "Sample"
    name = f"{label} {int(number):02d}"
    note_part = _clean(note)
    if note_part:
        name = f"{name} - {note_part}"
    return safe_component(name, "Sample", max_length=MAX_NAME_CHARS)


def sample_file_name(display_name: str | None) -> str:
    """A sample's file name (without extension) from the name the pages show it by ("Kick 41", "Bass 02 · A2"),
    unchanged but for what a file system cannot hold: "Brass/wind 03" becomes "Brass & wind 03", as its
    category folder does; `safe_component` handles the rest. Never a new number: the name the user knows it by.
    """
    text = _clean(str(display_name or "").replace("/", " & "))
    return safe_component(text, "Sample", max_length=MAX_NAME_CHARS)


def stem_name(stem_label: str | None, bpm: float | None = None, key_label: str | None = None) -> str:
    """ "Bass - 124 BPM - A minor"; the tempo and the key are left out when unknown."""
    parts = [_clean(stem_label) or "Stem"]
    if tempo := format_bpm(bpm):
        parts.append(f"{tempo} BPM")
    if key := _clean(key_label):
        parts.append(key)
    return safe_component(" - ".join(parts), "Stem", max_length=MAX_NAME_CHARS)


def unique(name: str, used: set[str]) -> str:
    """`name`, or "name (2).ext", "name (3).ext"... when a name equal to it ignoring case is already in `used`.

    `used` belongs to this function: pass the same (initially empty) set for every name in one folder. It holds
    case-folded names, because Windows and macOS file systems treat "Kick.wav" and "kick.wav" as one file.
    """
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    else:
        extension = "." + extension
    candidate = name
    number = 1
    while candidate.casefold() in used:
        number += 1
        suffix = f" ({number}){extension}"
        candidate = safe_component(stem, max_length=MAX_COMPONENT_CHARS - len(suffix)) + suffix
    used.add(candidate.casefold())
    return candidate


def validate_arcname(arcname: str) -> str:
    """Return `arcname` if it is a safe relative path inside an archive, else raise ValueError.

    Safe: "/"-separated, not empty, not absolute, no backslashes, no empty, "." or ".." parts, and every part
    exactly as `safe_component` would make it (so no control characters, device names or trailing dots).
    """
    if not isinstance(arcname, str) or not arcname:
        raise ValueError("An archive path must be a non-empty string.")
    if arcname.startswith("/") or "\\" in arcname or "\x00" in arcname:
        raise ValueError(f"Archive path {arcname!r} is absolute or contains a backslash or NUL.")
    for part in arcname.split("/"):
        if not part or part in (".", ".."):
            raise ValueError(f"Archive path {arcname!r} has an empty, '.' or '..' part.")
        if _clean(part) != part:
            raise ValueError(
                f"Archive path {arcname!r} has a part that is not a safe name ({part!r}); "
                "build names with safe_component()."
            )
    return arcname


# ----------------------------------------------------------------------------------------------------- ZIP

# Extensions whose content DEFLATE would not shrink enough to be worth the time (see the module doc).
_STORED_EXTENSIONS = frozenset(
    {".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".zip"}
    | {".png", ".jpg", ".jpeg", ".webp", ".gif"}
)
CHUNK_SIZE = 1 << 20
# A file is marked "regular, rw-r--r--" so that unzip on Unix does not create it without permissions.
_FILE_ATTRIBUTES = 0o100644 << 16


class _Sink:
    """The file object zipfile writes to: counts bytes, and is seekable only if the target is.

    zipfile decides how to write from whether tell()/seek() work, so an unseekable target must make both fail.
    """

    def __init__(self, target: BinaryIO):
        self._target = target
        self.written = 0
        try:
            self._seekable = bool(target.seekable()) and target.tell() >= 0
        except (AttributeError, OSError, ValueError):
            self._seekable = False
        self._offset = target.tell() if self._seekable else 0

    def detach(self) -> None:
        """Stop writing to the target: later writes (zipfile's own, when it is garbage-collected) go nowhere."""
        self._target = None
        self._seekable = False

    def write(self, data) -> int:
        view = memoryview(data)
        total = len(view)
        if self._target is None:
            return total
        while view:
            n = self._target.write(view)
            if n is None:  # some file-likes return None for "everything"
                break
            if n <= 0:
                raise OSError("The archive's target stopped accepting data.")
            view = view[n:]
        self.written += total
        return total

    def flush(self):
        if self._target is None:
            return
        flush = getattr(self._target, "flush", None)
        if flush is not None:
            flush()

    def tell(self) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("not seekable")
        return self._target.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("not seekable")
        return self._target.seek(offset, whence)

    def seekable(self) -> bool:
        return self._seekable


class ZipBuilder:
    """Write a ZIP archive entry by entry to `fileobj` (which it does not close), in bounded memory.

        with ZipBuilder(upload_stream, total_bytes=planned, progress=report) as archive:
            archive.add_file("Artist - Title/Stems/Bass - 124 BPM - A minor.wav", "/tmp/x/bass.wav")
            archive.add_bytes("Artist - Title/manifest.json", manifest_json(entries).encode())

    Every archive name is checked by `validate_arcname` and must be unique ignoring case (a file may not also be
    a folder); a violation raises ValueError before anything is written. `progress(done_bytes, total_bytes)` is
    called as source bytes are consumed (`total_bytes` is what the caller announced, or None). If the `with`
    block raises, the central directory is not written, so a half-built archive cannot pass for a complete one.
    """

    def __init__(
        self,
        fileobj: BinaryIO,
        *,
        progress: Callable[[int, int | None], object] | None = None,
        total_bytes: int | None = None,
        chunk_size: int = CHUNK_SIZE,
    ):
        self._sink = _Sink(fileobj)
        self._zip = zipfile.ZipFile(self._sink, "w", allowZip64=True)
        self._progress = progress
        self.total_bytes = total_bytes
        self.done_bytes = 0
        self._chunk_size = max(4096, int(chunk_size))
        self._files: set[str] = set()
        self._folders: set[str] = set()
        self.names: list[str] = []
        self._closed = False

    # -- bookkeeping

    @property
    def bytes_written(self) -> int:
        """Bytes of archive written to the target so far."""
        return self._sink.written

    def _claim(self, arcname: str) -> str:
        if self._closed:
            raise ValueError("This archive is already closed.")
        validate_arcname(arcname)
        folded = unicodedata.normalize("NFC", arcname).casefold()
        if folded in self._files or folded in self._folders:
            raise ValueError(f"The archive already has an entry named {arcname!r} (names ignore case).")
        parts = folded.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
        for prefix in prefixes:
            if prefix in self._files:
                raise ValueError(f"{arcname!r} would put a file inside {prefix!r}, which is a file.")
        self._files.add(folded)
        self._folders.update(prefixes)
        self.names.append(arcname)
        return arcname

    def _info(self, arcname: str, size: int, compress: bool | None, mtime: float | None) -> zipfile.ZipInfo:
        stamp = time.localtime(mtime if mtime is not None else time.time())
        # ZIP timestamps cannot be before 1980.
        date_time = max((1980, 1, 1, 0, 0, 0), tuple(stamp[:6]))
        info = zipfile.ZipInfo(arcname, date_time=date_time)
        if compress is None:
            compress = os.path.splitext(arcname)[1].lower() not in _STORED_EXTENSIONS
        # DEFLATE at zlib's default level (6): text shrinks nearly as much as at 9, much faster.
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = _FILE_ATTRIBUTES
        # Announcing the size lets zipfile choose ZIP64 records up front, which it must when it cannot seek
        # back to rewrite the header.
        info.file_size = size
        return info

    def _advance(self, n: int) -> None:
        self.done_bytes += n
        if self._progress is not None:
            self._progress(self.done_bytes, self.total_bytes)

    # -- adding entries

    def add_file(self, arcname: str, path: str | os.PathLike, *, compress: bool | None = None) -> int:
        """Copy the file at `path` into the archive as `arcname`; returns its size in bytes.

        `compress` None decides by extension (audio stored, everything else deflated).
        """
        self._claim(arcname)
        with open(path, "rb") as source:
            stat = os.fstat(source.fileno())
            info = self._info(arcname, stat.st_size, compress, stat.st_mtime)
            copied = 0
            with self._zip.open(info, "w", force_zip64=stat.st_size >= zipfile.ZIP64_LIMIT) as entry:
                while chunk := source.read(self._chunk_size):
                    entry.write(chunk)
                    copied += len(chunk)
                    self._advance(len(chunk))
        if copied != stat.st_size:
            raise OSError(f"{arcname}: the file changed size while it was being archived.")
        return copied

    def add_bytes(self, arcname: str, data: bytes | str, *, compress: bool | None = None) -> int:
        """Add `data` (text is encoded as UTF-8) as `arcname`; returns its size in bytes."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._claim(arcname)
        info = self._info(arcname, len(data), compress, None)
        with self._zip.open(info, "w", force_zip64=len(data) >= zipfile.ZIP64_LIMIT) as entry:
            view = memoryview(data)
            for start in range(0, len(view), self._chunk_size):
                entry.write(view[start : start + self._chunk_size])
        self._advance(len(data))
        return len(data)

    # -- finishing

    def close(self) -> None:
        """Write the central directory (the archive is usable only after this); the target stays open."""
        if self._closed:
            return
        self._closed = True
        self._zip.close()
        self._sink.flush()

    def abort(self) -> None:
        """Stop without writing the central directory: what was written is not a readable archive."""
        if self._closed:
            return
        self._closed = True
        # zipfile writes the central directory when it is closed or garbage-collected, whatever happened: the
        # sink is cut off first so that neither reaches the target.
        self._sink.detach()
        self._zip.close()

    def __enter__(self) -> ZipBuilder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# ------------------------------------------------------------------------------------------------ manifest

MANIFEST_COLUMNS = (
    "path",
    "kind",
    "name",
    "source",
    "stem",
    "start",
    "end",
    "bpm",
    "key",
    "category",
    "predicted_category",
    "category_corrected",
    "confidence",
    "note",
    "tags",
    "favourite",
    "format",
    "sample_rate",
    "bit_depth",
    "duration",
)
MANIFEST_KINDS = ("original", "stem", "sample", "midi", "lyrics", "project", "manifest")
MANIFEST_VERSION = 2  # 2 added name, predicted_category, category_corrected, confidence, tags, favourite


@dataclass(frozen=True)
class ManifestEntry:
    """One file of an export.

    path: the archive path; kind: one of MANIFEST_KINDS; name: what the pages call it ("Kick 41", "Bass 02 · A2",
    a stem's or the track's name); source: the title of the track it comes from ("Artist - Title"); stem: the
    stem it was cut from or is ("Bass"), "" for the original mix; start/end: seconds in the source (samples);
    bpm, key ("A minor"), note ("A2") where known; for samples, what the user made of them: category ("Kick",
    as shown), predicted_category (the classifier's), category_corrected (they differ: the user corrected it),
    confidence (the classifier's probability for its prediction, 0..1), tags, favourite; format (e.g. "wav24",
    "mp3", "mid", "lrc"), sample_rate (Hz), bit_depth, duration (seconds) of the file.
    """

    path: str
    kind: str
    name: str = ""
    source: str = ""
    stem: str = ""
    start: float | None = None
    end: float | None = None
    bpm: float | None = None
    key: str = ""
    category: str = ""
    predicted_category: str = ""
    category_corrected: bool | None = None
    confidence: float | None = None
    note: str = ""
    tags: tuple[str, ...] = ()
    favourite: bool | None = None
    format: str = ""
    sample_rate: int | None = None
    bit_depth: int | None = None
    duration: float | None = None


_ENTRY_FIELDS = tuple(f.name for f in fields(ManifestEntry))
assert _ENTRY_FIELDS == MANIFEST_COLUMNS


def _number(value, digits: int) -> float | int | None:
    if value is None or value == "":
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    number = round(number, digits)
    return int(number) if number.is_integer() else number


def _integer(value) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _text(value) -> str:
    return "" if value is None else " ".join(str(value).split())


def _flag(value) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _tags(value) -> list[str]:
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [text for text in (_text(item) for item in items) if text]


def manifest_rows(entries: Iterable[ManifestEntry | Mapping]) -> list[dict]:
    """The entries as dicts with exactly MANIFEST_COLUMNS, values normalised (times to the millisecond).

    Raises ValueError for an unknown kind or field, or a path that is not a safe archive path.
    """
    rows = []
    for entry in entries:
        data = asdict(entry) if isinstance(entry, ManifestEntry) else dict(entry)
        unknown = set(data) - set(MANIFEST_COLUMNS)
        if unknown:
            raise ValueError(f"Unknown manifest fields: {', '.join(sorted(unknown))}.")
        kind = data.get("kind")
        if kind not in MANIFEST_KINDS:
            raise ValueError(f"Unknown manifest kind {kind!r}; use one of {', '.join(MANIFEST_KINDS)}.")
        rows.append(
            {
                "path": validate_arcname(data.get("path")),
                "kind": kind,
                "name": _text(data.get("name")),
                "source": _text(data.get("source")),
                "stem": _text(data.get("stem")),
                "start": _number(data.get("start"), 3),
                "end": _number(data.get("end"), 3),
                "bpm": _number(data.get("bpm"), 2),
                "key": _text(data.get("key")),
                "category": _text(data.get("category")),
                "predicted_category": _text(data.get("predicted_category")),
                "category_corrected": _flag(data.get("category_corrected")),
                "confidence": _number(data.get("confidence"), 3),
                "note": _text(data.get("note")),
                "tags": _tags(data.get("tags")),
                "favourite": _flag(data.get("favourite")),
                "format": _text(data.get("format")),
                "sample_rate": _integer(data.get("sample_rate")),
                "bit_depth": _integer(data.get("bit_depth")),
                "duration": _number(data.get("duration"), 3),
            }
        )
    return rows


def manifest_json(entries: Iterable[ManifestEntry | Mapping], *, meta: Mapping | None = None) -> str:
    """{"manifest_version": 2, **meta, "columns": [...], "files": [row, ...]} as indented UTF-8 JSON text.

    `meta` adds export-wide facts (what was exported, when, the formats chosen).
    """
    document = {"manifest_version": MANIFEST_VERSION, **dict(meta or {})}
    document["columns"] = list(MANIFEST_COLUMNS)
    document["files"] = manifest_rows(entries)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# A spreadsheet runs a cell that starts with one of these as a formula ("=HYPERLINK(...)" in a track title).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_NUMERIC_COLUMNS = ("start", "end", "bpm", "confidence", "sample_rate", "bit_depth", "duration")


def _csv_cell(column: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # tags, as they are typed into the tag field (a tag never holds a comma)
        value = ", ".join(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if column not in _NUMERIC_COLUMNS and text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def manifest_csv(entries: Iterable[ManifestEntry | Mapping]) -> str:
    """The manifest as CSV text (RFC 4180: CRLF, quoted where needed) with a header row of MANIFEST_COLUMNS.

    Text cells a spreadsheet would run as a formula get a leading apostrophe (the JSON keeps exact values). Tags
    are joined with ", " (as they are typed into the tag field; a tag never holds a comma); flags are "true" or
    "false", and both are empty for files that are not samples.
    Store it encoded as "utf-8-sig": Excel needs the byte order mark to read non-ASCII names as UTF-8.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in manifest_rows(entries):
        writer.writerow([_csv_cell(column, row[column]) for column in MANIFEST_COLUMNS])
    return out.getvalue()
