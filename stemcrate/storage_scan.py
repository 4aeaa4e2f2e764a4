"""Compare what is in storage under users/ with what the database points at.

An orphan is a stored file no row refers to (a leftover of a failed write or of a delete whose file cleanup
failed, or a folder of a deleted track or user); a missing file is a row whose file is gone. Works on local
disk and S3 alike (only listdir, delete and exists are used).
"""

import contextlib
import logging
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from core.storage import is_local
from exports.models import Export
from midi.models import MidiClip
from samples.models import Sample
from stems.models import Stem
from tracks.models import Track

logger = logging.getLogger(__name__)

ROOT = "users"
# users/<user id>/tracks/<track id>/onsets/<"mix" or stem id>-<silence>.json: the onset cache (samples.onset_cache)
ONSET_RE = re.compile(r"^users/(?P<user>[^/]+)/tracks/(?P<track>[^/]+)/onsets/(?P<name>[^/]+)\.json$")
TRACK_RE = re.compile(r"^users/(?P<user>[^/]+)/tracks/(?P<track>[^/]+)/")
USER_RE = re.compile(r"^users/(?P<user>[^/]+)/")


@dataclass
class ScanReport:
    stored: int = 0  # files found in storage under users/
    referenced: int = 0  # file fields set in the database
    orphans: list[str] = field(default_factory=list)
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (path, model, pk)
    orphan_folders: list[str] = field(default_factory=list)  # folders of deleted users and tracks
    deleted: int = 0

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.missing


def file_fields():
    """(model, field name) for every FileField whose files live under users/."""

    return [
        (Track, "original"), (Track, "preview"), (Stem, "file"), (Stem, "preview"), (Sample, "file"),
        (MidiClip, "file"), (Export, "file"),
    ]  # fmt: skip


def referenced_files() -> dict[str, tuple[str, str]]:
    """Every stored path the database refers to, with the model and pk of the row."""
    refs = {}
    for model, name in file_fields():
        rows = model.objects.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True}).values_list("pk", name)
        for pk, path in rows.iterator(chunk_size=2000):
            refs[path] = (model._meta.label, str(pk))
    return refs


def walk(prefix: str = ROOT, storage=default_storage):
    """Every file under prefix, as a storage path."""
    stack = [prefix]
    while stack:
        current = stack.pop()
        try:
            dirs, files = storage.listdir(current)
        except FileNotFoundError:
            continue
        for name in files:
            yield f"{current}/{name}"
        stack.extend(f"{current}/{d}" for d in dirs)


def _onset_cache_owned(path: str, track_ids: set[str], stem_ids_by_track: dict[str, set[str]]) -> bool:
    match = ONSET_RE.match(path)
    if not match or match["track"] not in track_ids:
        return False
    name = match["name"]
    if name.startswith("mix-"):
        return True
    return any(name.startswith(f"{stem_id}-") for stem_id in stem_ids_by_track.get(match["track"], ()))


def scan(storage=default_storage, *, delete: bool = False) -> ScanReport:

    report = ScanReport()
    refs = referenced_files()
    report.referenced = len(refs)
    track_ids = {str(pk) for pk in Track.objects.values_list("pk", flat=True)}
    user_ids = {str(pk) for pk in get_user_model().objects.values_list("pk", flat=True)}
    stem_ids_by_track: dict[str, set[str]] = {}
    for stem_id, track_id in Stem.objects.values_list("pk", "track_id").iterator(chunk_size=2000):
        stem_ids_by_track.setdefault(str(track_id), set()).add(str(stem_id))

    seen = set()
    folders = set()
    for path in walk(ROOT, storage):
        report.stored += 1
        seen.add(path)
        if path in refs or _onset_cache_owned(path, track_ids, stem_ids_by_track):
            continue
        report.orphans.append(path)
        user = USER_RE.match(path)
        track = TRACK_RE.match(path)
        if user and user["user"] not in user_ids:
            folders.add(f"users/{user['user']}/")
        elif track and track["track"] not in track_ids:
            folders.add(f"users/{track['user']}/tracks/{track['track']}/")
    report.orphans.sort()
    report.orphan_folders = sorted(folders)
    for path, (label, pk) in sorted(refs.items()):
        if path not in seen and not storage.exists(path):
            report.missing.append((path, label, pk))

    if delete:
        for path in report.orphans:
            try:
                storage.delete(path)
                report.deleted += 1
            except Exception:
                logger.exception("could not delete orphan %s", path)
        if is_local(storage):
            _remove_empty_folders(storage)
    return report


def _remove_empty_folders(storage) -> None:
    from pathlib import Path

    root = Path(storage.path(ROOT))
    if not root.exists():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only succeeds when empty
