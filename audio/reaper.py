"""A REAPER project (.rpp) that opens an export as a session: the original, every stem and every MIDI file on
tracks of their own, all starting at zero, at the song's tempo and meter.

REAPER's project format is line-based text: `<NAME args` opens a block, `>` closes it, and every other line is
`KEY value value...`. Strings are quoted with the first of `"`, `'` or a backtick that they do not contain
(REAPER has no escape character). What is written here is the minimum REAPER needs, each item with:
- `POSITION 0` and the file's `LENGTH`, `LOOP 0` (an item longer than its file must not repeat it);
- audio: `<SOURCE WAVE|FLAC|MP3|VORBIS` with `FILE "Stems/Bass.wav"`; AIFF gets the WAVE type, whose reader
  handles AIFF as well (to our knowledge: no REAPER was available to check);
- MIDI: `<SOURCE MIDI` with `FILE "MIDI/Bass.mid"`, REAPER's MIDI source referring to a standard MIDI file
  rather than holding the events in the project (`HASDATA` and `E` lines). That is the form public RPP readers
  and writers use for external MIDI; the ReaTeam state-chunk reference documents only the in-project form and
  this could not be opened in REAPER here. REAPER places MIDI in beats, so the notes line up because the .mid
  files are written at the song's tempo (the project's TEMPO);
- paths relative to the .rpp (forward slashes, which REAPER accepts on every OS), so the export folder can be
  moved or unzipped anywhere.

Track order is the caller's (original, stems, MIDI). The original is muted by default: the stems add up to it,
so playing both would double the level and clip; unmuting or soloing it compares the two. MIDI tracks have no
instrument (any synth the user likes goes on them). GUIDs are derived from the project name and track index,
so the same export gives the same file. `SAMPLERATE` records the rate without forcing the audio device to it.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from audio.package import validate_arcname

__all__ = ["RppTrack", "parse_rpp_files", "reaper_project", "rpp_quote", "rpp_unquote"]

# File extension -> REAPER source type.
SOURCE_TYPES = {
    ".wav": "WAVE",
    ".wave": "WAVE",
    ".aif": "WAVE",
    ".aiff": "WAVE",
    ".flac": "FLAC",
    ".mp3": "MP3",
    ".ogg": "VORBIS",
    ".opus": "OPUS",
    ".mid": "MIDI",
    ".midi": "MIDI",
}
KINDS = ("original", "stem", "midi", "audio")
_NAMESPACE = uuid.UUID("5b0a2f1e-7c1d-4e57-9d7a-3f1c2b6a8e90")  # for stable GUIDs


@dataclass(frozen=True)
class RppTrack:
    """One track with one item. path: relative to the .rpp; length: seconds (None: the project's length);
    muted: None means "muted if it is the original"."""

    name: str
    path: str
    kind: str = "stem"
    length: float | None = None
    muted: bool | None = None


def rpp_quote(text: object) -> str:
    """A string as REAPER writes it: in the first of " ' ` that it does not contain (one line)."""
    value = " ".join(str(text).replace("\x00", "").splitlines())
    for quote in ('"', "'", "`"):
        if quote not in value:
            return f"{quote}{value}{quote}"
    # All three occur: REAPER itself turns backticks into apostrophes in that case.
    return "`" + value.replace("`", "'") + "`"


def rpp_unquote(token_text: str) -> tuple[str, str]:
    """(the first string or word of `token_text`, the rest): the inverse of rpp_quote."""
    text = token_text.lstrip()
    if text[:1] in ('"', "'", "`"):
        end = text.find(text[0], 1)
        if end < 0:
            return text[1:], ""
        return text[1:end], text[end + 1 :]
    word, _, rest = text.partition(" ")
    return word, rest


def _number(value: float) -> str:
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text or "0"


def _guid(*parts: object) -> str:
    return "{" + str(uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts))).upper() + "}"


def _as_track(track: RppTrack | Mapping) -> RppTrack:
    if isinstance(track, RppTrack):
        return track
    return RppTrack(**dict(track))


def reaper_project(
    tracks: Iterable[RppTrack | Mapping],
    *,
    bpm: float,
    time_signature: tuple[int, int] = (4, 4),
    sample_rate: int,
    project_name: str,
    length: float | None = None,
) -> str:
    """The text of a .rpp project with one track per entry of `tracks` (RppTrack or dicts of its fields).

    Save it as UTF-8 (REAPER reads projects as UTF-8 on every OS) next to the folders its paths name.

    Raises ValueError for a tempo, meter or length out of range, an unknown kind or file type, or a path that
    is not a safe relative path (see package.validate_arcname).
    """
    tempo = float(bpm)
    if not (math.isfinite(tempo) and 1 <= tempo <= 960):  # REAPER's tempo range
        raise ValueError(f"A project tempo of {bpm} BPM is out of range (1-960).")
    numerator, denominator = time_signature
    if not (1 <= int(numerator) <= 255 and int(denominator) in (1, 2, 4, 8, 16, 32, 64)):
        raise ValueError(f"{numerator}/{denominator} is not a time signature REAPER can use.")
    if int(sample_rate) <= 0:
        raise ValueError("The sample rate must be positive.")

    lines = [
        '<REAPER_PROJECT 0.1 "6.0/stemcrate" 0',
        "  RIPPLE 0",
        f"  TITLE {rpp_quote(project_name)}",
        f"  TEMPO {_number(tempo)} {int(numerator)} {int(denominator)}",
        f"  SAMPLERATE {int(sample_rate)} 0 0",
    ]
    for index, track in enumerate(_as_track(t) for t in tracks):
        if track.kind not in KINDS:
            raise ValueError(f"Unknown track kind {track.kind!r}; use one of {', '.join(KINDS)}.")
        path = validate_arcname(track.path)
        extension = os.path.splitext(path)[1].lower()
        source = SOURCE_TYPES.get(extension)
        if source is None:
            raise ValueError(f"REAPER tracks cannot be made from {extension or 'extension-less'} files ({path}).")
        if (source == "MIDI") != (track.kind == "midi"):
            raise ValueError(f"{path}: MIDI files go on 'midi' tracks and audio files on the others.")
        item_length = track.length if track.length is not None else length
        if item_length is None or not math.isfinite(float(item_length)) or float(item_length) <= 0:
            raise ValueError(f"{path}: give the track's length in seconds (or the project's).")
        muted = track.kind == "original" if track.muted is None else track.muted
        lines += [
            f"  <TRACK {_guid(project_name, index, 'track')}",
            f"    NAME {rpp_quote(track.name)}",
            "    VOLPAN 1 0 -1 -1 1",
            f"    MUTESOLO {int(muted)} 0 0",
            "    NCHAN 2",
            "    <ITEM",
            "      POSITION 0",
            "      SNAPOFFS 0",
            f"      LENGTH {_number(float(item_length))}",
            "      LOOP 0",
            "      ALLTAKES 0",
            "      FADEIN 0 0 0 0 0 0 0",
            "      FADEOUT 0 0 0 0 0 0 0",
            "      MUTE 0 0",
            "      SEL 0",
            f"      IGUID {_guid(project_name, index, 'item')}",
            f"      NAME {rpp_quote(os.path.basename(path))}",
            "      VOLPAN 1 0 1 -1",
            "      SOFFS 0",
            "      PLAYRATE 1 1 0 -1 0 0.0025",
            "      CHANMODE 0",
            f"      GUID {_guid(project_name, index, 'take')}",
            f"      <SOURCE {source}",
            f"        FILE {rpp_quote(path)}",
            "      >",
            "    >",
            "  >",
        ]
    lines.append(">")
    return "\n".join(lines) + "\n"


_FILE_LINE = re.compile(r"^\s*FILE\s+(.*)$")


def parse_rpp_files(text: str) -> list[str]:
    """The file paths referenced by FILE lines of a .rpp project, in order (for tests and checks)."""
    files = []
    for line in text.splitlines():
        match = _FILE_LINE.match(line)
        if match:
            files.append(rpp_unquote(match.group(1))[0])
    return files
