""" "Process everything": one pipeline per track, each step a job, advanced whenever a step ends.

    analyse ──> separate ──┬─> slice:drums, slice:vocals        (cpu)
                           ├─> midi:bass, midi:other, ...       (cpu)
                           ├─> midi:drums (a GM drum part)      (cpu)
                           └─> lyrics:vocals                    (gpu)

`advance(pipeline_id)` is the whole scheduler. It runs in the transaction that ends a step (and once when
the pipeline starts), locks the pipeline row, and starts every step whose input is ready and that has no
job yet; so the steps after separation run in parallel, a failed step skips only the steps that need its
output (recorded in `pipeline.skipped`, with the reason), and what succeeded stays. Retrying a failed or
cancelled step re-opens the pipeline: once the step succeeds, what it had skipped runs. Re-running makes a new
pipeline; results are replaced per source by the steps themselves (same options, same slot).

Without the separate step, the later steps use the track's newest stem set, or the full mix when it has none.
"""

import logging

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from audio.midi import clean_options as clean_midi
from audio.separation_options import clean_params as clean_separation
from audio.slice_options import clean_params as clean_slice
from audio.slice_options import strategy_for
from core.model_choices import clean_lyric_options
from core.quotas import check_rate
from jobs import services as jobs
from jobs.models import Job
from jobs.services import create_job
from jobs.signals import job_changed
from midi.services import drum_midi_params, midi_preset_for
from pipelines.models import Pipeline, PipelineStep
from stems.models import StemSet
from tracks.services import do_reanalyse_track

logger = logging.getLogger(__name__)

SLICE_STEMS = ("drums", "vocals")
MIDI_STEMS = ("bass", "piano", "guitar", "other")
LYRICS_STEMS = ("vocals",)
TERMINAL = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)


class PipelineError(ValueError):
    """A pipeline that cannot start, with the reason for the user."""


def clean_steps(steps) -> list[str]:
    if steps in (None, "", []):
        return list(Pipeline.STEPS)
    if isinstance(steps, str):
        steps = [s.strip() for s in steps.split(",") if s.strip()]
    unknown = [s for s in steps if s not in Pipeline.STEPS]
    if unknown:
        raise PipelineError(f"Unknown step(s): {', '.join(unknown)}. Choose from: {', '.join(Pipeline.STEPS)}.")
    return [s for s in Pipeline.STEPS if s in steps]


def clean_options(options: dict | None, steps=None) -> dict:
    """Per-step options, validated now so that a bad one fails the request, not a step an hour later. With
    the lyrics step among `steps`, its model must be installed (the best installed one when none is named)."""

    options = dict(options or {})
    unknown = set(options) - {"separate", "slice", "midi", "lyrics"}
    if unknown:
        raise PipelineError(f"Unknown option group(s): {', '.join(sorted(unknown))}.")
    try:
        cleaned = {"separate": clean_separation(options.get("separate") or {})}
        clean_slice(options.get("slice") or {})  # per stem later, with the stem's defaults
        cleaned["slice"] = dict(options.get("slice") or {})
        cleaned["lyrics"] = clean_lyric_options(
            options.get("lyrics") or {}, check_installed=steps is not None and "lyrics" in steps
        )
        cleaned["midi"] = {"quantise": bool((options.get("midi") or {}).get("quantise", False))}
    except ValueError as exc:
        raise PipelineError(str(exc)) from exc
    return cleaned


def start(track, *, steps=None, options: dict | None = None) -> Pipeline:
    """Create a pipeline for the track and start its first steps (after the surrounding transaction commits)."""
    steps = clean_steps(steps)
    options = clean_options(options, steps)
    with transaction.atomic():
        pipeline = Pipeline.objects.create(owner=track.owner, track=track, steps=steps, options=options)
        advance(pipeline.pk)
    return pipeline


def _create(pipeline, step: str, kind: str, *, stem=None, params=None) -> Job:

    job = create_job(pipeline.owner, kind, subject=stem or pipeline.track, params=params or {}, counted=False)
    PipelineStep.objects.create(pipeline=pipeline, job=job, step=step)
    job.step = step
    return job


def _stem_set(pipeline, jobs):

    if "separate" in pipeline.steps:
        job = jobs.get("separate")
        return StemSet.objects.filter(job=job).first() if job and job.status == Job.Status.SUCCEEDED else None
    return StemSet.objects.filter(track=pipeline.track).order_by("-created_at").first()


def _follow_ups(pipeline, stem_set) -> list[tuple[str, str, object]]:
    """(step, kind, stem or None) after separation, for the stems this separation made."""
    stems = {s.name: s for s in stem_set.stems.all()} if stem_set else {}
    planned = []
    if "slice" in pipeline.steps:
        planned += [(f"slice:{n}", "slice", stems[n]) for n in SLICE_STEMS if n in stems] or (
            [] if stems else [("slice:mix", "slice", None)]
        )
    if "midi" in pipeline.steps:
        planned += [(f"midi:{n}", "midi", stems[n]) for n in MIDI_STEMS if n in stems] or (
            [] if stems else [("midi:mix", "midi", None)]
        )
        if "drums" in stems:  # the drums stem becomes a General MIDI drum part
            planned.append(("midi:drums", "drum_midi", stems["drums"]))
    if "lyrics" in pipeline.steps:
        planned += [(f"lyrics:{n}", "lyrics", stems[n]) for n in LYRICS_STEMS if n in stems] or (
            [] if stems else [("lyrics:mix", "lyrics", None)]
        )
    return planned


def _params(pipeline, kind, stem):

    if kind == "slice":
        return clean_slice(pipeline.options.get("slice") or {}, strategy_for(stem.name if stem else None))
    if kind == "midi":
        params = clean_midi(midi_preset_for(stem.name if stem else None), {})
        params["quantise"] = bool(pipeline.options.get("midi", {}).get("quantise"))
        return params
    if kind == "drum_midi":
        return drum_midi_params({"quantise": bool(pipeline.options.get("midi", {}).get("quantise"))})
    return dict(pipeline.options.get("lyrics") or {})


def advance(pipeline_id) -> Pipeline | None:
    """Start every step whose input is ready; finish the pipeline when nothing is left to run."""
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().filter(pk=pipeline_id).select_related("track").first()
        if pipeline is None or pipeline.status == Pipeline.Status.CANCELLED:
            return pipeline
        jobs = {}
        for job in pipeline.jobs.order_by("queued_at"):
            jobs[job.step] = job  # the newest job of each step (a retried step keeps its job)
        track = pipeline.track
        track.refresh_from_db(fields=["status"])
        # Worked out afresh each time from the steps' jobs as they are now: a step that was skipped because its
        # input failed or was cancelled runs once that input is retried and succeeds, and is not skipped then.
        skipped = {}

        def done(step):
            return step in jobs and jobs[step].status == Job.Status.SUCCEEDED

        def ended_badly(step):
            return step in jobs and jobs[step].status in (Job.Status.FAILED, Job.Status.CANCELLED)

        def why_blocked(step, what):
            return f"{what} was cancelled" if jobs[step].status == Job.Status.CANCELLED else f"{what} failed"

        # 1. Analysis. A track still being analysed since its upload has that job adopted, not doubled.
        if "analyse" not in jobs and ("analyse" in pipeline.steps or track.status != track.Status.READY):
            running = (
                Job.objects.about(track)
                .filter(kind="analyse", status__in=Job.ACTIVE, pipeline_step__isnull=True)
                .first()
            )
            if running is None:
                do_reanalyse_track(track)
                running = Job.objects.about(track).filter(kind="analyse").order_by("-queued_at").first()
            PipelineStep.objects.create(pipeline=pipeline, job=running, step="analyse")
            running.refresh_from_db()
            running.step = "analyse"
            jobs["analyse"] = running
        ready = done("analyse") if "analyse" in jobs else track.status == track.Status.READY
        blocked = why_blocked("analyse", "analysis") if ended_badly("analyse") else None

        # 2. Separation.
        if "separate" in pipeline.steps and "separate" not in jobs:
            if ready:
                jobs["separate"] = _create(
                    pipeline, "separate", "separate", params=pipeline.options.get("separate") or {}
                )
            elif blocked:
                skipped["separate"] = blocked
        separated = "separate" not in pipeline.steps and ready
        separated = separated or done("separate")
        if ended_badly("separate"):
            blocked = why_blocked("separate", "separation")

        # 3. Everything that works on the stems, in parallel.
        follow_ups = [s for s in ("slice", "midi", "lyrics") if s in pipeline.steps]
        if follow_ups and separated:
            for step, kind, stem in _follow_ups(pipeline, _stem_set(pipeline, jobs)):
                if step not in jobs:
                    try:
                        jobs[step] = _create(pipeline, step, kind, stem=stem, params=_params(pipeline, kind, stem))
                    except ValueError as exc:
                        skipped[step] = str(exc)
        elif follow_ups and blocked:
            for step in follow_ups:
                skipped.setdefault(step, blocked)

        pipeline.skipped = skipped
        # Every step that can start has started, so with nothing running there is nothing left to wait for.
        if any(job.status in Job.ACTIVE for job in jobs.values()):
            pipeline.status, pipeline.finished_at = Pipeline.Status.RUNNING, None
        else:
            statuses = [job.status for job in jobs.values()]
            if statuses and all(s == Job.Status.SUCCEEDED for s in statuses) and not skipped:
                pipeline.status = Pipeline.Status.SUCCEEDED
            elif any(s == Job.Status.SUCCEEDED for s in statuses):
                pipeline.status = Pipeline.Status.PARTIAL
            else:
                pipeline.status = Pipeline.Status.FAILED
            pipeline.finished_at = pipeline.finished_at or timezone.now()
        pipeline.save(update_fields=["skipped", "status", "finished_at"])
        return pipeline


@receiver(job_changed)
def on_job_changed(sender, job_id, **kwargs) -> None:
    """The job system says a job ended in any way or was retried: advance its pipeline, if it has one."""
    pipeline_id = PipelineStep.objects.filter(job_id=job_id).values_list("pipeline_id", flat=True).first()
    if pipeline_id:
        try:
            advance(pipeline_id)
        except Exception:  # a pipeline problem must never turn a finished step into a failed one
            logger.exception("could not advance pipeline %s after job %s", pipeline_id, job_id)


def progress(pipeline, jobs=None) -> dict:
    """Overall progress (0-100) and counts, for the page and the API. Steps not started yet count as 0. `jobs`:
    the pipeline's step jobs when the caller has them (pipeline.step_jobs()), so a list asks no query per row."""
    jobs = list(pipeline.jobs.all()) if jobs is None else list(jobs)
    expected = len(jobs) + len(pipeline.skipped)
    steps = set(pipeline.steps)
    started = {job.step.split(":")[0] for job in jobs} | {s.split(":")[0] for s in pipeline.skipped}
    # Before separation ends its follow-ups are unknown: count the usual 4-stem set (2 slices, 3 MIDI, lyrics).
    guess = {"analyse": 1, "separate": 1, "slice": 2, "midi": 3, "lyrics": 1}
    expected += sum(guess[s] for s in steps - started if s != "analyse")
    total = sum(job.progress if job.status != Job.Status.SUCCEEDED else 100 for job in jobs)
    total += 100 * len(pipeline.skipped)
    finished = not pipeline.is_active
    counts = {status: sum(1 for j in jobs if j.status == status) for status in Job.Status.values}
    return {
        "percent": 100 if finished else round(total / max(1, expected)),
        "steps": expected,
        "counts": counts,
        "skipped": pipeline.skipped,
    }


def do_process_track(track, *, steps=None, options: dict | None = None):
    """ "Process everything" (or the given steps) on a track: a pipeline of jobs. PipelineError has the reason.

    The pipeline counts as one job against the hourly limit; the jobs it creates for its steps do not."""

    steps = clean_steps(steps)
    options = clean_options(options, steps)
    check_rate(track.owner, "job")
    return start(track, steps=steps, options=options)


def do_process_tracks(tracks, *, steps=None, options: dict | None = None) -> list:
    """One pipeline per track, all or nothing: bad options fail before any is created."""
    from django.db import transaction

    steps = clean_steps(steps)
    options = clean_options(options, steps)  # raise before anything exists
    tracks = list(tracks)
    owners = {track.owner_id: track.owner for track in tracks}
    for owner in owners.values():
        check_rate(owner, "job", count=sum(track.owner_id == owner.pk for track in tracks))
    with transaction.atomic():
        return [start(track, steps=steps, options=options) for track in tracks]


def do_cancel_pipeline(pipeline):
    """Cancel every step still queued or running; finished steps keep their results."""
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        Pipeline.objects.filter(pk=pipeline.pk, status=Pipeline.Status.RUNNING).update(
            status=Pipeline.Status.CANCELLED, finished_at=timezone.now()
        )
        for job in pipeline.jobs.filter(status__in=Job.ACTIVE):
            jobs.cancel(job)
    pipeline.refresh_from_db()
    return pipeline
