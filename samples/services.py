"""Writes for samples: storing a slicing run, corrections, tags, favourites, collections and deletion.

A slicing run replaces the earlier samples of the same source (a track's mix or one stem). What the user did
to those samples (a corrected category, a favourite, tags, collections) carries over to the new sample at the
same onset (within ONSET_MATCH seconds), so re-slicing at another sensitivity never loses their work.
"""

import bisect
import logging
import os

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from audio.sample_edit import clean_edit
from audio.slice_options import clean_params, strategy_for
from core.quotas import check_rate
from core.storage import delete_files_logged
from jobs.services import create_job
from samples.models import Sample, SampleCategory
from stems.models import Stem
from tracks.models import Collection, Track
from tracks.services import _get_or_create_tags, parse_tag_names

logger = logging.getLogger(__name__)

ONSET_MATCH = 0.01  # s: a re-sliced sample within this of an old one is "the same hit"
MAX_BULK = 1000


def _carry_over(old: list[Sample], new: list[Sample]) -> dict:
    """For each new sample (by position), the old sample at the same onset, if any."""
    if not old:
        return {}
    old_sorted = sorted(old, key=lambda s: s.onset)
    onsets = [s.onset for s in old_sorted]
    matches = {}
    for position, sample in enumerate(new):
        i = bisect.bisect_left(onsets, sample.onset)
        near = [j for j in (i - 1, i) if 0 <= j < len(onsets) and abs(onsets[j] - sample.onset) <= ONSET_MATCH]
        if near:
            matches[position] = old_sorted[min(near, key=lambda j: abs(onsets[j] - sample.onset))]
    return matches


def do_store_samples(track: Track, *, stem: Stem | None, source: str, job, samples: list[dict]) -> list[Sample]:
    """Store a slicing run's samples for one source, atomically replacing that source's earlier samples.

    `samples`: dicts with path (a WAV file), index, start, end, onset, duration, sample_rate, channels, peaks,
    peak_db, loudness, gain_db, note, pitch_confidence, category, confidence, embedding (bytes). Files are
    written first; the rows appear in one transaction that also removes the earlier run's rows (their files go
    after commit). A failure at any point leaves the earlier samples untouched and removes the new files.
    """
    rows, written = [], []
    try:
        for info in samples:
            sample = Sample(
                owner=track.owner, track=track, stem=stem, source=source, index=info["index"],
                start=info["start"], end=info["end"], onset=info["onset"], duration=info["duration"],
                sample_rate=info["sample_rate"], channels=info["channels"], size=os.path.getsize(info["path"]),
                peaks=info["peaks"], peak_db=info["peak_db"], loudness=info["loudness"], gain_db=info["gain_db"],
                note=info["note"] or "", pitch_confidence=info["pitch_confidence"], category=info["category"],
                predicted_category=info["category"], confidence=info["confidence"],
                embedding=info["embedding"], job=job,
            )  # fmt: skip
            with open(info["path"], "rb") as fh:
                sample.file.save("sample.wav", File(fh), save=False)
            written.append(sample.file.name)
            rows.append(sample)
        with transaction.atomic():
            if not Track.objects.filter(pk=track.pk).exists():
                raise Track.DoesNotExist("the track was deleted while it was being sliced")
            if stem is not None and not Stem.objects.filter(pk=stem.pk).exists():
                raise Stem.DoesNotExist("the stem was deleted while it was being sliced")
            old = list(
                Sample.objects.filter(track=track, stem=stem, source=source, edit__isnull=True).prefetch_related(
                    "tags", "collections"
                )
            )
            matches = _carry_over(old, rows)
            for position, previous in matches.items():
                sample = rows[position]
                sample.favourite = previous.favourite
                if previous.category_corrected:
                    sample.category, sample.category_corrected = previous.category, True
            Sample.objects.filter(pk__in=[s.pk for s in old]).delete()
            Sample.objects.bulk_create(rows, batch_size=500)
            tag_links, collection_links = [], []
            for position, previous in matches.items():
                sample = rows[position]
                tag_links += [Sample.tags.through(sample_id=sample.pk, tag_id=t.pk) for t in previous.tags.all()]
                collection_links += [
                    Collection.samples.through(sample_id=sample.pk, collection_id=c.pk)
                    for c in previous.collections.all()
                ]
            Sample.tags.through.objects.bulk_create(tag_links, batch_size=500)
            Collection.samples.through.objects.bulk_create(collection_links, batch_size=500)
            old_files = [s.file.name for s in old if s.file]
            transaction.on_commit(lambda: delete_files_logged(old_files))
    except BaseException:
        delete_files_logged(written)
        raise
    return rows


def clean_category(value) -> str:
    value = str(value or "").strip()
    if value not in SampleCategory.values:
        labels = {label.lower(): v for v, label in SampleCategory.choices}
        value = labels.get(value.lower(), value)
    if value not in SampleCategory.values:
        raise ValueError(f"Unknown category “{value}”. Choose one of: {', '.join(SampleCategory.values)}.")
    return value


@transaction.atomic
def do_set_sample_category(sample: Sample, category) -> Sample:
    """The user's correction. Setting it back to the prediction clears the correction."""
    category = clean_category(category)
    sample.category = category
    sample.category_corrected = category != sample.predicted_category
    sample.save(update_fields=["category", "category_corrected", "updated_at"])
    return sample


@transaction.atomic
def do_set_sample_tags(sample: Sample, names) -> list:
    tags = _get_or_create_tags(sample.owner, parse_tag_names(names))
    sample.tags.set(tags)
    Sample.objects.filter(pk=sample.pk).update(updated_at=timezone.now())
    return tags


def do_set_sample_favourite(sample: Sample, favourite: bool) -> Sample:
    Sample.objects.filter(pk=sample.pk).update(favourite=bool(favourite), updated_at=timezone.now())
    sample.favourite = bool(favourite)
    return sample


def _check_bulk(owner, samples) -> list:
    samples = list(samples)
    if len(samples) > MAX_BULK:
        raise ValueError(f"Select at most {MAX_BULK} samples at a time.")
    if any(s.owner_id != owner.pk for s in samples):
        raise ValueError("Some of those samples are not yours.")
    return samples


@transaction.atomic
def do_bulk_favourite(owner, samples, favourite: bool) -> int:
    samples = _check_bulk(owner, samples)
    return Sample.objects.filter(pk__in=[s.pk for s in samples]).update(
        favourite=bool(favourite), updated_at=timezone.now()
    )


@transaction.atomic
def do_bulk_add_tags(owner, samples, names) -> list:
    """Add tags (keeping the ones each sample has)."""
    samples = _check_bulk(owner, samples)
    tags = _get_or_create_tags(owner, parse_tag_names(names))
    if not tags:
        raise ValueError("Give at least one tag name.")
    through = Sample.tags.through
    existing = set(
        through.objects.filter(sample_id__in=[s.pk for s in samples], tag__in=tags).values_list("sample_id", "tag_id")
    )
    links = [through(sample_id=s.pk, tag_id=t.pk) for s in samples for t in tags if (s.pk, t.pk) not in existing]
    through.objects.bulk_create(links, batch_size=500)
    Sample.objects.filter(pk__in=[s.pk for s in samples]).update(updated_at=timezone.now())
    return tags


@transaction.atomic
def do_bulk_set_category(owner, samples, category) -> int:
    samples = _check_bulk(owner, samples)
    category = clean_category(category)
    for sample in samples:
        do_set_sample_category(sample, category)
    return len(samples)


@transaction.atomic
def do_add_samples_to_collection(collection: Collection, samples) -> None:
    samples = _check_bulk(collection.owner, samples)
    collection.samples.add(*samples)
    Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())


def do_remove_samples_from_collection(collection: Collection, samples) -> None:
    collection.samples.remove(*samples)


def do_delete_samples(owner, samples) -> int:
    """Delete samples and, once that has committed, their files."""
    samples = _check_bulk(owner, samples)
    names = [s.file.name for s in samples if s.file]
    with transaction.atomic():
        count, _ = Sample.objects.filter(pk__in=[s.pk for s in samples]).delete()
        transaction.on_commit(lambda: delete_files_logged(names))
    return sum(1 for _ in samples) if count else 0


def do_request_slice(track, *, stem=None, options: dict | None = None):
    """Validate the options and queue a slicing job (cpu queue) for the track's mix or one of its stems."""

    if stem is not None and stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    if stem is None and track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; slice it once it is ready.")
    params = clean_params(options or {}, strategy_for(stem.name) if stem else "mix")
    check_rate(track.owner, "job")
    return create_job(track.owner, "slice", subject=stem or track, params=params)


EDITED_TAG = "edited"


def do_request_sample_edit(sample: Sample, edit: dict | None):
    """Check the edit against the sample and queue its rendering (cpu queue); ValueError has the reason."""

    params = clean_edit(edit or {}, sample.duration)
    if params == clean_edit({}):
        raise ValueError("Nothing to save: trim, fade, reverse, change the level or the pitch first.")
    check_rate(sample.owner, "job")
    return create_job(sample.owner, "edit_sample", subject=sample, params=params)


def do_store_edited_sample(original: Sample, *, job, edit: dict, info: dict) -> Sample:
    """Store a rendered edit as a new sample next to the original (which stays as it is): the same track,
    source, category and tags, plus the tag "edited". `info`: path (a WAV file), duration, sample_rate,
    channels, peaks, peak_db, loudness, gain_db, note, pitch_confidence."""

    sample = Sample(
        owner=original.owner, track=original.track, stem=original.stem, source=original.source,
        index=original.index, start=original.start, end=original.end, onset=original.onset,
        duration=info["duration"], sample_rate=info["sample_rate"], channels=info["channels"],
        size=os.path.getsize(info["path"]), peaks=info["peaks"], peak_db=info["peak_db"],
        loudness=info["loudness"], gain_db=info["gain_db"], note=info["note"] or "",
        pitch_confidence=info["pitch_confidence"], category=original.category,
        predicted_category=original.predicted_category, confidence=original.confidence,
        category_corrected=original.category_corrected, embedding=original.embedding, job=job,
        edit=edit, edited_from=original,
    )  # fmt: skip
    with open(info["path"], "rb") as fh:
        sample.file.save("sample.wav", File(fh), save=False)
    try:
        with transaction.atomic():
            if not Sample.objects.filter(pk=original.pk).exists():
                raise Sample.DoesNotExist("the sample was deleted while its edit was being rendered")
            sample.save()
            tags = [*original.tags.all(), *_get_or_create_tags(original.owner, [EDITED_TAG])]
            sample.tags.set(tags)
    except BaseException:
        delete_files_logged([sample.file.name])
        raise
    return sample


@receiver(post_delete, sender=Stem)
def _forget_onsets_of_stem(sender, instance, **kwargs) -> None:
    """A deleted stem's cached onset curves go after the deletion commits (a track's go with its folder)."""
    folder = f"users/{instance.owner_id}/tracks/{instance.track_id}/onsets"
    stem_id = instance.pk  # Django clears the instance's pk once the delete is done

    def forget():
        try:
            cached = default_storage.listdir(folder)[1]
        except (FileNotFoundError, NotImplementedError):
            return
        delete_files_logged([f"{folder}/{name}" for name in cached if name.startswith(f"{stem_id}-")])

    transaction.on_commit(forget)
