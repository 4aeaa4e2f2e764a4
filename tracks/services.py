"""Every write to the library goes through here, in a transaction; jobs are enqueued only after commit."""

import contextlib
import hashlib
import logging
import os
import tempfile
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from audio.audio_io import AudioError, validate
from core import quotas
from core import storage as track_storage
from core.storage import delete_prefix_logged
from jobs.services import create_job
from tracks.models import Collection, Tag, Track
from tracks.uploads import clean_filename, title_from_filename

logger = logging.getLogger(__name__)


# Not audio, or audio in a codec we do not take: 415 Unsupported Media Type. Anything else wrong is a 400.
UNSUPPORTED_CODES = {"not_audio", "unsupported", "video"}


class UploadError(Exception):
    """An upload refused with a reason for the user, and the HTTP status that fits it."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class UploadResult:
    track: Track
    created: bool

    @property
    def note(self) -> str:
        if self.created:
            return "Uploaded. Analysis has started."
        return f"You already have this file as “{self.track.display_title}”. Nothing was stored twice."


@contextlib.contextmanager
def _on_disk(uploaded):
    """A path to the upload's bytes and their SHA-256, without reading the file into memory."""
    if hasattr(uploaded, "temporary_file_path"):
        path = uploaded.temporary_file_path()
        digest = getattr(uploaded, "sha256", None) or _sha256_of(path)
        yield path, digest
        return
    # Small in-memory uploads (tests, other upload handlers): spool to a temporary file.
    fd, path = tempfile.mkstemp(prefix="stemcrate-upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
        yield path, _sha256_of(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def do_upload_track(owner, uploaded, *, title: str = "", artist: str = "") -> UploadResult:
    """Validate an uploaded file by decoding it, store it unmodified, and queue its analysis.

    The same content uploaded twice by one user returns the existing track. On any failure nothing is left
    behind: no row and no stored file.
    """
    size = uploaded.size or 0
    if size == 0:
        raise UploadError("The file is empty (0 bytes).")
    if size > settings.UPLOAD_MAX_SIZE:
        raise UploadError(_too_large_reason(size), status=413)
    filename = clean_filename(uploaded.name)
    _check_upload_limits(owner)

    with _on_disk(uploaded) as (path, sha256):
        existing = Track.objects.for_user(owner).filter(sha256=sha256).first()
        if existing:
            return UploadResult(existing, created=False)
        _check_upload_limits(owner, size)  # a duplicate needs no room; a new file does
        try:
            info = validate(path, max_duration=settings.UPLOAD_MAX_DURATION)
        except AudioError as exc:
            raise UploadError(str(exc), status=415 if exc.code in UNSUPPORTED_CODES else 400) from exc

        track = Track(
            owner=owner,
            title=_tag_text(title or info.tags.get("title") or title_from_filename(filename)),
            artist=_tag_text(artist or info.tags.get("artist") or ""),
            album=_tag_text(info.tags.get("album") or ""),
            original_filename=filename,
            format=info.format,
            codec=info.codec,
            duration=info.duration,
            sample_rate=info.sample_rate,
            channels=info.channels,
            bit_depth=info.bit_depth,
            bitrate=info.bitrate,
            size=size,
            sha256=sha256,
        )
        try:
            with transaction.atomic():
                with open(path, "rb") as fh:
                    track.original.save("original", File(fh), save=False)  # streamed in chunks
                track.save()
                _enqueue_analysis(track)
        except IntegrityError:
            # The same file arrived twice at once: the other request stored it first.
            _delete_files(track)
            existing = Track.objects.for_user(owner).filter(sha256=sha256).first()
            if existing is None:
                raise
            return UploadResult(existing, created=False)
        except BaseException:
            _delete_files(track)
            raise
    return UploadResult(track, created=True)


def _check_upload_limits(owner, size: int | None = None) -> None:
    """The hourly upload rate (size None) or the storage quota, as an UploadError (429 with retry_after, 413)."""

    try:
        if size is None:
            quotas.check_rate(owner, "upload")
        else:
            quotas.check_storage(owner, size)
    except quotas.LimitError as exc:
        error = UploadError(exc.reason, status=exc.status)
        error.retry_after = getattr(exc, "retry_after", None)
        raise error from exc


def _tag_text(value: str) -> str:
    """Text from a file's tags as a title: control characters (NUL included, which PostgreSQL refuses) become
    spaces, runs of white space one space, at most 300 characters."""
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(value))
    return " ".join(cleaned.split())[:300]


def _too_large_reason(size: int) -> str:
    limit_mb = settings.UPLOAD_MAX_SIZE / 1_000_000
    return f"The file is {size / 1_000_000:.0f} MB; the upload limit is {limit_mb:.0f} MB."


def upload_too_large_reason() -> str:
    return f"The file is larger than the upload limit of {settings.UPLOAD_MAX_SIZE / 1_000_000:.0f} MB."


def _enqueue_analysis(track: Track) -> None:

    # Automatic work: the upload was counted, its analysis is not.
    create_job(track.owner, "analyse", subject=track, counted=False)


def _delete_files(track: Track) -> None:
    try:
        track_storage.delete_prefix(track.storage_prefix)
    except Exception:  # cleanup must not hide the original error; the orphan scan reports leftovers
        logger.exception("could not clean up the files of track %s", track.pk)


def do_reanalyse_track(track: Track) -> Track:
    with transaction.atomic():
        Track.objects.filter(pk=track.pk).update(status=Track.Status.PENDING, error="")
        track.refresh_from_db()
        _enqueue_analysis(track)
    return track


@transaction.atomic
def do_update_track(track: Track, **fields) -> Track:
    editable = {"title", "artist", "album"}
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(track, name, (value or "").strip()[:300])
    track.save(update_fields=[*fields, "updated_at"])
    return track


def parse_tag_names(text) -> list[str]:
    """ "drums, Lo-fi ,drums" -> ["drums", "Lo-fi"]: trimmed, de-duplicated case-insensitively, in order."""
    items = text if isinstance(text, list | tuple) else (text or "").split(",")
    seen, names = set(), []
    for item in items:
        name = " ".join(str(item).split())[:60]
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def _get_or_create_tags(owner, names: list[str]) -> list[Tag]:
    existing = {t.name.lower(): t for t in Tag.objects.for_user(owner).filter(name__in=names)}
    # name__in is case-sensitive on PostgreSQL: look up the rest case-insensitively one by one (few tags).
    tags = []
    for name in names:
        tag = existing.get(name.lower()) or Tag.objects.for_user(owner).filter(name__iexact=name).first()
        tags.append(tag or Tag.objects.create(owner=owner, name=name))
    return tags


@transaction.atomic
def do_set_track_tags(track: Track, names) -> list[Tag]:
    tags = _get_or_create_tags(track.owner, parse_tag_names(names))
    track.tags.set(tags)
    Track.objects.filter(pk=track.pk).update(updated_at=timezone.now())
    return tags


@transaction.atomic
def do_create_tag(owner, name: str) -> Tag:
    names = parse_tag_names(name)
    if not names:
        raise ValueError("A tag needs a name.")
    return _get_or_create_tags(owner, names[:1])[0]


@transaction.atomic
def do_rename_tag(tag: Tag, name: str) -> Tag:
    names = parse_tag_names(name)
    if not names:
        raise ValueError("A tag needs a name.")
    if Tag.objects.for_user(tag.owner).filter(name__iexact=names[0]).exclude(pk=tag.pk).exists():
        raise ValueError(f"You already have a tag called “{names[0]}”.")
    tag.name = names[0]
    tag.save(update_fields=["name"])
    return tag


def do_delete_tag(tag: Tag) -> None:
    tag.delete()


@transaction.atomic
def do_create_collection(owner, name: str, description: str = "") -> Collection:
    name = " ".join((name or "").split())[:120]
    if not name:
        raise ValueError("A collection needs a name.")
    if Collection.objects.for_user(owner).filter(name__iexact=name).exists():
        raise ValueError(f"You already have a collection called “{name}”.")
    return Collection.objects.create(owner=owner, name=name, description=(description or "").strip())


@transaction.atomic
def do_update_collection(collection: Collection, *, name=None, description=None) -> Collection:
    if name is not None:
        name = " ".join(name.split())[:120]
        if not name:
            raise ValueError("A collection needs a name.")
        clash = Collection.objects.for_user(collection.owner).filter(name__iexact=name).exclude(pk=collection.pk)
        if clash.exists():
            raise ValueError(f"You already have a collection called “{name}”.")
        collection.name = name
    if description is not None:
        collection.description = description.strip()
    collection.save()
    return collection


def do_add_to_collection(collection: Collection, tracks) -> None:
    tracks = [t for t in tracks if t.owner_id == collection.owner_id]
    collection.tracks.add(*tracks)


def do_remove_from_collection(collection: Collection, tracks) -> None:
    collection.tracks.remove(*tracks)


def do_delete_collection(collection: Collection) -> None:
    collection.delete()  # the tracks stay in the library


def do_delete_track(track: Track) -> None:
    """Delete the track and, once that has committed, every file stored for it (original and derived)."""
    prefix = track.storage_prefix
    with transaction.atomic():
        track.delete()
        transaction.on_commit(lambda: delete_prefix_logged(prefix))


# --- analysis results (called from the worker) ---------------------------------------------------------


def do_mark_track_analysing(track_id) -> Track | None:
    """Claim a track for analysis. None when it is gone or already analysed (a redelivered message)."""
    updated = Track.objects.filter(pk=track_id, status__in=[Track.Status.PENDING, Track.Status.FAILED]).update(
        status=Track.Status.ANALYSING, error=""
    )
    if not updated:
        track = Track.objects.filter(pk=track_id).first()
        # A worker that died mid-analysis leaves "analysing"; a redelivery may take it over.
        if track is None or track.status != Track.Status.ANALYSING:
            return None
        return track
    return Track.objects.get(pk=track_id)


def do_store_analysis(track: Track, results: dict, preview_path: str | None = None) -> Track:
    """Save analysis results and, when made, the browser preview. Replaces an earlier preview atomically."""
    old_preview = track.preview.name if track.preview else ""
    new_preview = ""
    if preview_path:
        with open(preview_path, "rb") as fh:
            new_preview = default_storage.save(
                f"{track.storage_prefix}/preview-{timezone.now():%Y%m%d%H%M%S%f}.mp3", File(fh)
            )
    try:
        with transaction.atomic():
            fields = {
                "bpm": results.get("bpm"),
                "beats": results.get("beats") or [],
                "key": results.get("key") or "",
                "scale": results.get("scale") or "",
                "loudness_lufs": results.get("loudness_lufs"),
                "peaks": results.get("peaks") or [],
                "status": Track.Status.READY,
                "error": "",
                "analysed_at": timezone.now(),
                "updated_at": timezone.now(),
            }
            if new_preview:
                fields["preview"] = new_preview
            if not Track.objects.filter(pk=track.pk).update(**fields):
                raise Track.DoesNotExist  # deleted while it was being analysed
    except BaseException:
        if new_preview:
            default_storage.delete(new_preview)
        raise
    if new_preview and old_preview and old_preview != new_preview:
        default_storage.delete(old_preview)
    track.refresh_from_db()
    return track


def do_mark_track_pending(track_id) -> None:
    Track.objects.filter(pk=track_id, status=Track.Status.ANALYSING).update(status=Track.Status.PENDING)


def do_mark_track_failed(track_id, reason: str) -> None:
    Track.objects.filter(pk=track_id).update(status=Track.Status.FAILED, error=reason[:2000], updated_at=timezone.now())
