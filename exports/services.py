"""Writes for exports: asking for one (a job builds it), storing the finished ZIP, deleting it."""

import os

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.quotas import check_rate, check_storage
from core.storage import delete_files_logged
from exports.build import clean_export_options
from exports.models import Export
from jobs.models import Job
from jobs.services import cancel, create_job


def _name(scope, track, collection) -> str:
    if scope == Export.Scope.TRACK:
        return f"{track.artist} - {track.display_title}" if track.artist else track.display_title
    if scope == Export.Scope.COLLECTION:
        return collection.name
    return {Export.Scope.TRACKS: "Selected tracks", Export.Scope.FAVOURITES: "Favourite samples"}.get(scope, "Library")


def do_request_export(owner, scope: str, *, track=None, collection=None, tracks=None, options=None) -> Export:
    """Queue an export (cpu queue). ValueError says what is wrong with the request."""

    if scope not in Export.Scope.values:
        raise ValueError(f"Unknown scope “{scope}”. Choose one of: {', '.join(Export.Scope.values)}.")
    options = clean_export_options(options)
    if scope == Export.Scope.TRACK and (track is None or track.owner_id != owner.pk):
        raise ValueError("Say which track to export.")
    if scope == Export.Scope.COLLECTION and (collection is None or collection.owner_id != owner.pk):
        raise ValueError("Say which collection to export.")
    track_ids = []
    if scope == Export.Scope.TRACKS:
        track_ids = [str(t.pk) for t in tracks or [] if t.owner_id == owner.pk]
        if not track_ids:
            raise ValueError("Select at least one track to export.")
    check_rate(owner, "job")
    check_storage(owner)  # a full library gets no new ZIP; its size is unknown until it is built
    with transaction.atomic():
        export = Export.objects.create(
            owner=owner, scope=scope, track=track, collection=collection, track_ids=track_ids,
            name=_name(scope, track, collection)[:200], options=options,
        )  # fmt: skip
        job = create_job(owner, "export", subject=export)
        Export.objects.filter(pk=export.pk).update(job=job)
        export.job = job
    return export


def do_store_export_file(export: Export, path: str, summary: dict) -> Export:
    """Move the finished ZIP into storage (streamed from disk) and mark the export ready."""
    with open(path, "rb") as fh:
        export.file.save("export.zip", File(fh), save=False)
    try:
        with transaction.atomic():
            if not Export.objects.filter(pk=export.pk).exists():
                raise Export.DoesNotExist("the export was deleted while it was being built")
            export.size = os.path.getsize(path)
            export.file_count = summary["files"]
            export.finished_at = timezone.now()
            export.save(update_fields=["file", "size", "file_count", "finished_at"])
    except BaseException:
        delete_files_logged([export.file.name])
        raise
    return export


def do_delete_export(export: Export) -> None:

    for job in Job.objects.about(export).filter(status__in=Job.ACTIVE):
        cancel(job)
    name = export.file.name
    with transaction.atomic():
        export.delete()
        transaction.on_commit(lambda: delete_files_logged([name] if name else []))
