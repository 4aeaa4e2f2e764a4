"""TODO docstring."""

import contextlib
import os
import tempfile

from django.core.files import File
from django.db import transaction

from audio.mixing import mix_stems
from audio.separation_options import clean_params
from core import storage as track_storage
from core.quotas import check_rate
from core.storage import delete_files_logged, delete_prefix_logged, files_of
from jobs.services import create_job
from stems.models import Stem, StemSet
from tracks.models import Track

# --- stems (called from the separation worker) ---------------------------------------------------------


def stem_set_signature(model_name: str, params: dict) -> str:
    import json

    options = {k: v for k, v in sorted(params.items()) if k != "model"}
    return f"{model_name}:{json.dumps(options, sort_keys=True, separators=(',', ':'))}"[:200]


def do_store_stems(track: Track, *, job, model_name: str, model_version: str, params: dict, stems: list[dict]):
    """Store a separation's stems as one set, atomically replacing an earlier set made with the same options.

    `stems`: dicts with name, path (lossless file), preview_path (mp3 or None), peaks, duration, sample_rate,
    channels. Files are written first under the new set's own folder; the rows appear in one transaction; the
    replaced set's rows go in that same transaction and its files after it commits. A failure at any point
    leaves the previous set untouched and removes the new files.
    """

    signature = stem_set_signature(model_name, params)
    stem_set = StemSet(
        owner=track.owner, track=track, model_name=model_name, model_version=model_version[:200],
        params=params, signature=signature, job=job,
    )  # fmt: skip
    folder = f"{track.storage_prefix}/stems/{stem_set.pk}"
    rows = []
    try:
        for info in stems:
            stem = Stem(
                owner=track.owner, track=track, stem_set=stem_set, name=info["name"], peaks=info["peaks"],
                duration=info["duration"], sample_rate=info["sample_rate"], channels=info["channels"],
                size=os.path.getsize(info["path"]),
            )  # fmt: skip
            with open(info["path"], "rb") as fh:
                stem.file.save(os.path.basename(info["path"]), File(fh), save=False)
            if info.get("preview_path"):
                with open(info["preview_path"], "rb") as fh:
                    stem.preview.save("preview.mp3", File(fh), save=False)
            rows.append(stem)
        with transaction.atomic():
            if not Track.objects.filter(pk=track.pk).exists():
                raise Track.DoesNotExist("the track was deleted while it was being separated")
            old = list(StemSet.objects.filter(track=track, signature=signature).values_list("pk", flat=True))
            sample_files = files_of(StemSet.objects.filter(pk__in=old))
            StemSet.objects.filter(pk__in=old).delete()
            transaction.on_commit(lambda: delete_files_logged(sample_files))
            stem_set.save()
            Stem.objects.bulk_create(rows)
            for old_id in old:
                old_folder = f"{track.storage_prefix}/stems/{old_id}"
                transaction.on_commit(lambda f=old_folder: delete_prefix_logged(f))
    except BaseException:
        delete_prefix_logged(folder)
        raise
    return stem_set


def do_delete_stem_set(stem_set) -> None:
    folder = f"{stem_set.track.storage_prefix}/stems/{stem_set.pk}"
    with transaction.atomic():
        # Samples and MIDI made from its stems go too: rows by cascade, their files after commit.
        sample_files = [name for name in files_of([stem_set]) if not name.startswith(f"{folder}/")]
        stem_set.delete()
        transaction.on_commit(lambda: delete_prefix_logged(folder))
        transaction.on_commit(lambda: delete_files_logged(sample_files))


def mix_response(stem_set, stems, *, gains=None, pans=None):
    """Render the chosen stems (each with its linear gain and pan) into one 24-bit WAV on the server and stream
    it; the temporary file is removed once the response is closed."""
    from django.http import FileResponse

    fd, out_path = tempfile.mkstemp(suffix=".wav", prefix="stemcrate-mix-")
    os.close(fd)
    try:
        with contextlib.ExitStack() as stack:
            paths = [stack.enter_context(track_storage.local_path(s.file.name, suffix=".flac")) for s in stems]
            mix_stems(paths, out_path, gains=gains, pans=pans)
        handle = open(out_path, "rb")  # noqa: SIM115 (FileResponse closes it)
    finally:
        os.unlink(out_path)  # the open handle keeps the data readable; nothing is left on disk
    names = "+".join(s.display_name for s in sorted(stems, key=lambda s: s.name))
    return FileResponse(handle, as_attachment=True, filename=f"{stem_set.track.display_title} - {names}.wav",
                        content_type="audio/wav")  # fmt: skip


def _check_still_there(track: Track, stem: Stem | None) -> None:
    if not Track.objects.filter(pk=track.pk).exists():
        raise Track.DoesNotExist("the track was deleted while it was being transcribed")
    if stem is not None and not Stem.objects.filter(pk=stem.pk).exists():
        raise Stem.DoesNotExist("the stem was deleted while it was being transcribed")


def do_request_separation(track, options: dict | None = None):
    """Validate the options and queue a separation job on the gpu queue. ValueError carries the reason."""

    if track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; separate it once it is ready.")
    params = clean_params(options or {})
    check_rate(track.owner, "job")
    return create_job(track.owner, "separate", subject=track, params=params)


def job_source(job) -> tuple:
    """(track, stem or None) a job works on: its subject is a stem, or the track itself (its mix)."""
    subject = job.subject
    if isinstance(subject, Stem):
        return subject.track, subject
    return subject, None
