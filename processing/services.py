"""Writes for the processing app. Jobs are enqueued only after the transaction that created them commits."""

import os
import socket

from django.db import transaction
from django.utils import timezone

from .models import QueuePing


def _check_rate(owner, kind: str, count: int = 1) -> None:
    # Only what a user asks for is limited: pipeline.advance() creates its steps' jobs without coming here.
    from library.quotas import check_rate as check

    check(owner, kind, count=count)


def do_send_ping(queue: str) -> QueuePing:
    from .actors import PING_ACTORS  # actors import services; import here to keep that one-way at load time

    if queue not in PING_ACTORS:
        raise ValueError(f"unknown queue {queue!r}; expected one of {sorted(PING_ACTORS)}")
    with transaction.atomic():
        ping = QueuePing.objects.create(queue=queue)
        transaction.on_commit(lambda: PING_ACTORS[queue].send(str(ping.pk)))
    return ping


def do_handle_ping(ping_id: str) -> None:
    # Idempotent: a redelivered message re-stamps nothing.
    QueuePing.objects.filter(pk=ping_id, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=f"{socket.gethostname()}:{os.getpid()}"
    )


def do_request_separation(track, options: dict | None = None):
    """Validate the options and queue a separation job on the gpu queue. ValueError carries the reason."""
    from .jobs import create_job
    from .models import Job
    from .separation_options import clean_params

    if track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; separate it once it is ready.")
    params = clean_params(options or {})
    _check_rate(track.owner, "job")
    return create_job(track.owner, Job.Kind.SEPARATE, track=track, params=params)


def do_request_slice(track, *, stem=None, options: dict | None = None):
    """Validate the options and queue a slicing job (cpu queue) for the track's mix or one of its stems."""
    from .jobs import create_job
    from .models import Job
    from .slice_options import clean_params, strategy_for

    if stem is not None and stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    if stem is None and track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; slice it once it is ready.")
    params = clean_params(options or {}, strategy_for(stem.name) if stem else "mix")
    _check_rate(track.owner, "job")
    return create_job(track.owner, Job.Kind.SLICE, track=track, stem=stem, params=params)


def default_lyrics_stem(track):
    """The vocals of the newest separation that has them, or None (then the track itself is transcribed)."""
    from library.models import Stem

    return Stem.objects.filter(track=track, name="vocals").order_by("-stem_set__created_at").first()


def do_request_lyrics(track, *, stem=None, options: dict | None = None, use_default_stem: bool = True):
    """Queue a Whisper transcription (gpu queue) of a stem, or by default of the vocals stem when there is one."""
    from .engines.lyrics import clean_options
    from .jobs import create_job
    from .models import Job

    if stem is not None and stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    if stem is None and use_default_stem:
        stem = default_lyrics_stem(track)
    if stem is None and track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; transcribe it once it is ready.")
    params = clean_options(options or {})
    _check_rate(track.owner, "job")
    return create_job(track.owner, Job.Kind.LYRICS, track=track, stem=stem, params=params)


def midi_preset_for(stem_name: str | None) -> str:
    """Basic Pitch preset for a stem: bass and vocals are monophonic lines, everything else polyphonic."""
    return stem_name if stem_name in ("bass", "vocals", "piano", "guitar", "other") else "mix"


def do_request_midi(track, *, stem=None, options: dict | None = None):
    """Queue an audio-to-MIDI conversion (cpu queue: Basic Pitch's ONNX model) of the track or one stem."""
    from .engines.midi import clean_options
    from .jobs import create_job
    from .models import Job

    if stem is not None and stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    if stem is not None and stem.name == "drums":
        raise ValueError("Drums have no notes for Basic Pitch to find: slice them into samples instead.")
    if stem is None and track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; convert it once it is ready.")
    options = dict(options or {})
    quantise = options.pop("quantise", False)
    if isinstance(quantise, str):
        quantise = quantise.lower() in ("1", "true", "on", "yes")
    params = clean_options(midi_preset_for(stem.name if stem else None), options)
    params["quantise"] = bool(quantise)
    _check_rate(track.owner, "job")
    return create_job(track.owner, Job.Kind.MIDI, track=track, stem=stem, params=params)


def do_process_track(track, *, steps=None, options: dict | None = None):
    """ "Process everything" (or the given steps) on a track: a pipeline of jobs. PipelineError has the reason.

    The pipeline counts as one job against the hourly limit; the jobs it creates for its steps do not."""
    from .pipeline import clean_options, clean_steps, start

    steps, options = clean_steps(steps), clean_options(options)
    _check_rate(track.owner, "job")
    return start(track, steps=steps, options=options)


def do_process_tracks(tracks, *, steps=None, options: dict | None = None) -> list:
    """One pipeline per track, all or nothing: bad options fail before any is created."""
    from django.db import transaction

    from .pipeline import clean_options, clean_steps, start

    steps, options = clean_steps(steps), clean_options(options)  # raise before anything exists
    tracks = list(tracks)
    owners = {track.owner_id: track.owner for track in tracks}
    for owner in owners.values():
        _check_rate(owner, "job", count=sum(track.owner_id == owner.pk for track in tracks))
    with transaction.atomic():
        return [start(track, steps=steps, options=options) for track in tracks]


def do_cancel_pipeline(pipeline):
    """Cancel every step still queued or running; finished steps keep their results."""
    from django.db import transaction
    from django.utils import timezone

    from . import jobs
    from .models import Job, Pipeline

    with transaction.atomic():
        Pipeline.objects.filter(pk=pipeline.pk, status=Pipeline.Status.RUNNING).update(
            status=Pipeline.Status.CANCELLED, finished_at=timezone.now()
        )
        for job in pipeline.jobs.filter(status__in=Job.ACTIVE):
            jobs.cancel(job)
    pipeline.refresh_from_db()
    return pipeline
