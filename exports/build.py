"""Exports: what goes into a ZIP, under which names, and writing it (for the export job and the command line).

Layout, per track, under "Artist - Title/":

    Artist - Title - 124 BPM - A minor.wav      the original, in the export format
    Stems/Bass - 124 BPM - A minor.wav          the newest separation's stems
    Samples/Kick/Kick 41.wav                    samples by category, named as the pages show them (the category
    Samples/Bass/Bass 02 · A2.wav               and the number in their source, a pitched one's note); the same
    Samples/Kick/Kick 01 (Full mix).wav         name from two sources gets its source
    MIDI/Bass - 124 BPM - A minor.mid
    Lyrics/Artist - Title.lrc (.srt .vtt .txt .json)
    Artist - Title.rpp                          a REAPER project: original, stems and MIDI at 0, at the tempo

and at the root manifest.json and manifest.csv listing every file with its name, source, times, BPM and key
and, for samples, what the user made of them: category, predicted category and whether it was corrected,
confidence, note, tags, favourite. Sample files carry the same facts in their tags (see `_sample_tags`).
Audio is converted one file at a time into a temporary folder and streamed into the archive, so memory stays
flat whatever the size of the export (the archive itself goes to a file, never to memory).
"""

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from audio import export_audio, package, reaper
from core.storage import local_path
from exports.models import Export
from lyrics.formats import lyrics_file
from lyrics.models import Lyrics
from midi.models import MidiClip
from samples.models import Sample, SampleCategory
from stems.models import Stem, StemSet
from tracks.models import Track

PARTS = ("original", "stems", "samples", "midi", "lyrics", "project")
DEFAULT_OPTIONS = {"format": "wav24", "sample_rate": 44100, "include": list(PARTS)}
LYRICS_EXPORTS = ("lrc", "srt", "vtt", "txt", "json")


def clean_export_options(options: dict | None) -> dict:
    """Validated export options (format, sample_rate, include), or ValueError with a sentence."""
    options = {**DEFAULT_OPTIONS, **{k: v for k, v in (options or {}).items() if v not in (None, "")}}
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f"Unknown export option(s): {', '.join(sorted(unknown))}.")
    options["format"], options["sample_rate"] = export_audio.clean_format(options["format"], options["sample_rate"])
    include = options["include"]
    if isinstance(include, str):
        include = [p.strip() for p in include.split(",") if p.strip()]
    bad = [p for p in include if p not in PARTS]
    if bad or not include:
        raise ValueError(f"include must list some of: {', '.join(PARTS)}.")
    options["include"] = [p for p in PARTS if p in include]
    return options


@dataclass
class _Plan:
    """What one track contributes."""

    track: Track
    full: bool  # everything of the track, or only `samples`
    samples: list = field(default_factory=list)


def _plans(owner, tracks, samples) -> list[_Plan]:
    plans = {t.pk: _Plan(t, True) for t in tracks}
    if samples is None:
        samples = Sample.objects.for_user(owner).filter(track__in=list(plans)).defer("embedding")
    extra = defaultdict(list)
    samples = samples.select_related("track").prefetch_related("tags")
    for sample in samples.order_by("track_id", "source", "index"):
        if sample.track_id in plans:
            plans[sample.track_id].samples.append(sample)
        else:
            extra[sample.track_id].append(sample)
    result = list(plans.values())
    for samples_of_track in extra.values():
        result.append(_Plan(samples_of_track[0].track, False, samples_of_track))
    return result


class _Names:
    """Unique names per folder, ignoring case (as Windows and macOS do): "Kick 01", "Kick 01 (2)", ..."""

    def __init__(self):
        self.used: dict[str, set[str]] = defaultdict(set)

    def claim(self, folder: str, base: str, extension: str = "") -> str:
        used = self.used[folder.casefold()]
        candidate, number = base + extension, 1
        while candidate.casefold() in used:
            number += 1
            suffix = f" ({number})"
            candidate = package.safe_component(base, max_length=package.MAX_NAME_CHARS - len(suffix)) + suffix
            candidate += extension
        used.add(candidate.casefold())
        return candidate

    def taken(self, folder: str, name: str) -> bool:
        return name.casefold() in self.used[folder.casefold()]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _sample_facts(sample) -> dict:
    """What the user made of a sample, as its manifest row has it (ManifestEntry's fields)."""
    return {
        "predicted_category": SampleCategory(sample.predicted_category).label,
        "category_corrected": sample.category != sample.predicted_category,
        "confidence": sample.confidence,
        "tags": tuple(tag.name for tag in sample.tags.all()),  # prefetched, in the pages' order
        "favourite": sample.favourite,
    }


def _sample_tags(sample, facts: dict, *, source: str) -> dict:
    """What a sample's file says about it beyond title, artist, album, BPM and key (export_audio's `comment`,
    `keywords` and `fields`): the facts of its manifest row, and a comment that says them in words."""
    label, predicted, tags = sample.category_label, facts["predicted_category"], list(facts["tags"])
    category = f"{label} (corrected; predicted {predicted})" if facts["category_corrected"] else label
    words = [
        f"{sample.source_label} of {source} at {sample.start:.3f} s",
        f"{category}, confidence {sample.confidence:.2f}",
        f"note {sample.note}" if sample.note else "",
        "favourite" if sample.favourite else "",
        f"tags: {', '.join(tags)}" if tags else "",
    ]
    return {
        "comment": " · ".join(w for w in words if w),
        "keywords": tags,
        "fields": {
            "CATEGORY": label,
            "PREDICTED_CATEGORY": predicted,
            "CATEGORY_CORRECTED": _flag(facts["category_corrected"]),
            "CONFIDENCE": f"{sample.confidence:.3f}",
            "NOTE": sample.note,
            "FAVOURITE": _flag(sample.favourite),
            "SOURCE_TRACK": source,
            "SOURCE_STEM": sample.source_label,
            "SOURCE_START": f"{sample.start:.3f}",
        },
    }


def write_export(fileobj, owner, *, tracks=(), samples=None, options=None, progress=None) -> dict:
    """Write a ZIP of `tracks` (everything of each) and `samples` (a queryset; None: the tracks' own samples)
    to `fileobj`. `progress(fraction, stage)` follows along. Returns {"files": n, "bytes": archive size}."""
    options = clean_export_options(options)
    include = set(options["include"])
    fmt, rate = options["format"], options["sample_rate"]
    spec = export_audio.FORMATS[fmt]
    tracks = list(Track.objects.for_user(owner).filter(pk__in=[t.pk for t in tracks]).order_by("artist", "title"))
    plans = _plans(owner, tracks, samples)
    track_ids = [p.track.pk for p in plans if p.full]
    newest_sets = {}
    for stem_set in StemSet.objects.filter(track__in=track_ids).order_by("track_id", "-created_at"):
        newest_sets.setdefault(stem_set.track_id, stem_set)
    stems = defaultdict(list)
    for stem in Stem.objects.filter(stem_set__in=newest_sets.values()).order_by("name"):
        stems[stem.track_id].append(stem)
    clips = defaultdict(list)
    for clip in MidiClip.objects.filter(track__in=track_ids).defer("notes").order_by("source"):
        clips[clip.track_id].append(clip)
    lyrics = {}
    for item in Lyrics.objects.filter(track__in=track_ids).select_related("track").order_by("-updated_at"):
        lyrics.setdefault(item.track_id, item)

    total = sum(
        (1 if p.full and "original" in include else 0)
        + (len(stems[p.track.pk]) if p.full and "stems" in include else 0)
        + (len(p.samples) if "samples" in include else 0)
        + (len(clips[p.track.pk]) if p.full and "midi" in include else 0)
        + (1 if p.full and "lyrics" in include and p.track.pk in lyrics else 0)
        for p in plans
    )
    done = 0
    entries: list[package.ManifestEntry] = []
    unique = _Names()

    def step(stage):
        nonlocal done
        done += 1
        if progress:
            progress(done / max(1, total), stage)

    with tempfile.TemporaryDirectory(prefix="stemcrate-export-") as tmp, package.ZipBuilder(fileobj) as archive:

        def add_audio(
            arcname_stem,
            stored_name,
            *,
            kind,
            source,
            stem="",
            start=None,
            end=None,
            bpm=None,
            key="",
            category="",
            note="",
            title=None,
            artist=None,
            album=None,
            name="",
            file_tags=None,
            sample_facts=None,
        ):
            parent, _, base = arcname_stem.rpartition("/")
            arcname = f"{parent}/{unique.claim(parent, base, spec.extension)}"
            file_tags = file_tags or {}
            out = Path(tmp) / f"audio{spec.extension}"
            with local_path(stored_name, suffix=Path(stored_name).suffix) as src:
                result = export_audio.export_audio(
                    src,
                    out,
                    fmt=fmt,
                    sample_rate=rate,
                    bpm=bpm,
                    key=key or None,
                    title=title,
                    artist=artist,
                    album=album,
                    note=note or None,
                    comment=file_tags.get("comment"),
                    keywords=file_tags.get("keywords", ()),
                    fields=file_tags.get("fields"),
                )
            archive.add_file(arcname, out)
            os.unlink(out)
            entries.append(
                package.ManifestEntry(
                    path=arcname,
                    kind=kind,
                    name=name,
                    source=source,
                    stem=stem,
                    start=start,
                    end=end,
                    bpm=bpm,
                    key=key,
                    category=category,
                    note=note,
                    **(sample_facts or {}),
                    format=fmt,
                    sample_rate=result.sample_rate,
                    bit_depth=result.bit_depth,
                    duration=result.duration,
                )
            )
            return arcname

        for plan in plans:
            track = plan.track
            folder = unique.claim("", package.track_folder(track.artist, track.display_title))
            source = folder
            bpm, key = track.bpm, track.key_label
            project_tracks = []
            if plan.full and "original" in include:
                name = package.stem_name(track.display_title, bpm, key)
                arc = add_audio(
                    f"{folder}/{name}",
                    track.original.name,
                    kind="original",
                    name=track.display_title,
                    source=source,
                    bpm=bpm,
                    key=key,
                    title=track.display_title,
                    artist=track.artist,
                )
                project_tracks.append(
                    reaper.RppTrack(
                        name="Original", path=arc[len(folder) + 1 :], kind="original", length=track.duration
                    )
                )
                step(f"{folder}: original")
            if plan.full and "stems" in include:
                for stem in stems[track.pk]:
                    name = package.stem_name(stem.display_name, bpm, key)
                    arc = add_audio(
                        f"{folder}/Stems/{name}",
                        stem.file.name,
                        kind="stem",
                        name=stem.display_name,
                        source=source,
                        stem=stem.display_name,
                        bpm=bpm,
                        key=key,
                        title=f"{track.display_title} ({stem.display_name})",
                        artist=track.artist,
                    )
                    project_tracks.append(
                        reaper.RppTrack(
                            name=stem.display_name, path=arc[len(folder) + 1 :], kind="stem", length=stem.duration
                        )
                    )
                    step(f"{folder}: {stem.display_name} stem")
            if "samples" in include:
                for sample in plan.samples:
                    # The name the pages show, never a new number; the same name from two sources (Drums' and the
                    # full mix's "Kick 01") is told apart by its source, and only then by " (2)".
                    label = sample.category_label
                    parent = f"{folder}/Samples/{package.safe_component(label.replace('/', ' & '), 'Other')}"
                    name = package.sample_file_name(sample.display_name)
                    if unique.taken(parent, name + spec.extension):
                        name = package.sample_file_name(f"{sample.display_name} ({sample.source_label})")
                    facts = _sample_facts(sample)
                    add_audio(
                        f"{parent}/{name}",
                        sample.file.name,
                        kind="sample",
                        name=sample.display_name,
                        source=source,
                        stem=sample.source_label,
                        start=round(sample.start, 4),
                        end=round(sample.end, 4),
                        bpm=bpm,
                        key=key,
                        category=label,
                        note=sample.note,
                        title=sample.display_name,
                        artist=track.artist,
                        album=track.display_title,
                        file_tags=_sample_tags(sample, facts, source=source),
                        sample_facts=facts,
                    )
                    step(f"{folder}: samples")
            if plan.full and "midi" in include:
                for clip in clips[track.pk]:
                    name = unique.claim(f"{folder}/MIDI", package.stem_name(clip.source_label, bpm, key), ".mid")
                    arc = f"{folder}/MIDI/{name}"
                    with local_path(clip.file.name, suffix=".mid") as src:
                        archive.add_file(arc, src)
                    entries.append(
                        package.ManifestEntry(
                            path=arc,
                            kind="midi",
                            source=source,
                            stem=clip.source_label,
                            bpm=clip.bpm,
                            key=key,
                            format="mid",
                        )
                    )
                    project_tracks.append(
                        reaper.RppTrack(
                            name=f"{clip.source_label} MIDI",
                            path=arc[len(folder) + 1 :],
                            kind="midi",
                            length=track.duration,
                        )
                    )
                    step(f"{folder}: MIDI")
            if plan.full and "lyrics" in include and track.pk in lyrics:
                for ext in LYRICS_EXPORTS:
                    arc = f"{folder}/Lyrics/{package.with_extension(folder, ext)}"
                    archive.add_bytes(arc, lyrics_file(lyrics[track.pk], ext).encode("utf-8"))
                    entries.append(package.ManifestEntry(path=arc, kind="lyrics", source=source, format=ext))
                step(f"{folder}: lyrics")
            if plan.full and "project" in include and project_tracks:
                arc = f"{folder}/{package.with_extension(folder, 'rpp')}"
                text = reaper.reaper_project(
                    project_tracks, bpm=bpm or 120.0, sample_rate=rate, project_name=folder, length=track.duration
                )
                archive.add_bytes(arc, text.encode("utf-8"))
                entries.append(
                    package.ManifestEntry(path=arc, kind="project", source=source, bpm=bpm, key=key, format="rpp")
                )
        archive.add_bytes("manifest.json", package.manifest_json(entries))
        archive.add_bytes("manifest.csv", package.manifest_csv(entries))
    if progress:
        progress(1.0, "Done")
    return {"files": len(entries) + 2, "bytes": archive.bytes_written}


def export_sources(export) -> tuple[list, object]:
    """(tracks exported whole, samples queryset or None for "the tracks' own") for an Export row."""
    from django.db.models import Q

    owner = export.owner
    own_tracks = Track.objects.for_user(owner)
    if export.scope == Export.Scope.TRACK:
        return list(own_tracks.filter(pk=export.track_id)), None
    if export.scope == Export.Scope.TRACKS:
        return list(own_tracks.filter(pk__in=export.track_ids)), None
    if export.scope == Export.Scope.COLLECTION:
        if export.collection is None:
            raise ValueError("The collection was deleted before its export was built.")
        tracks = list(own_tracks.filter(collections=export.collection))
        samples = Sample.objects.for_user(owner).filter(Q(collections=export.collection) | Q(track__in=tracks))
        return tracks, samples.distinct().defer("embedding")
    if export.scope == Export.Scope.FAVOURITES:
        return [], Sample.objects.for_user(owner).filter(favourite=True).defer("embedding")
    return list(own_tracks), None
