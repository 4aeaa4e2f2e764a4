""" "Process everything": one pipeline per track, each step a job, advanced whenever a step ends.

    analyse ──> separate ──┬─> slice:drums, slice:vocals        (cpu)
                           ├─> midi:bass, midi:other, ...       (cpu)
                           └─> lyrics:vocals                    (gpu)

`advance(pipeline_id)` is the whole scheduler. It runs in the transaction that ends a step (and once when
the pipeline starts), locks the pipeline row, and starts every step whose input is ready and that has no
job yet; so the steps after separation run in parallel, a failed step skips only the steps that need its
output (recorded in `pipeline.skipped`, with the reason), and what succeeded stays. Re-running makes a new
pipeline; results are replaced per source by the steps themselves (same options, same slot).

Without the separate step, the later steps use the track's newest stem set, or the full mix when it has none.
"""

import logging

from django.db import transaction
from django.utils import timezone

from .models import Job, Pipeline

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


def clean_options(options: dict | None) -> dict:
    """Per-step options, validated now so that a bad one fails the request, not a step an hour later."""
    from .engines.lyrics import clean_options as clean_lyrics
    from .separation_options import clean_params as clean_separation
    from .slice_options import clean_params as clean_slice

    options = dict(options or {})
    unknown = set(options) - {"separate", "slice", "midi", "lyrics"}
    if unknown:
        raise PipelineError(f"Unknown option group(s): {', '.join(sorted(unknown))}.")
    try:
        cleaned = {"separate": clean_separation(options.get("separate") or {})}
        clean_slice(options.get("slice") or {})  # per stem later, with the stem's defaults
        cleaned["slice"] = dict(options.get("slice") or {})
        cleaned["lyrics"] = clean_lyrics(options.get("lyrics") or {})
        cleaned["midi"] = {"quantise": bool((options.get("midi") or {}).get("quantise", False))}
    except ValueError as exc:
        raise PipelineError(str(exc)) from exc
    return cleaned


def start(track, *, steps=None, options: dict | None = None) -> Pipeline:
    """Create a pipeline for the track and start its first steps (after the surrounding transaction commits)."""
    steps = clean_steps(steps)
    options = clean_options(options)
    with transaction.atomic():
        pipeline = Pipeline.objects.create(owner=track.owner, track=track, steps=steps, options=options)
        advance(pipeline.pk)
    return pipeline


def _create(pipeline, step: str, kind: str, *, stem=None, params=None) -> Job:
    from .jobs import create_job

    job = create_job(pipeline.owner, kind, track=pipeline.track, stem=stem, params=params or {})
    Job.objects.filter(pk=job.pk).update(pipeline=pipeline, step=step)
    return job


def _stem_set(pipeline, jobs):
    from library.models import StemSet

    if "separate" in pipeline.steps:
        job = jobs.get("separate")
        return StemSet.objects.filter(job=job).first() if job and job.status == Job.Status.SUCCEEDED else None
    return StemSet.objects.filter(track=pipeline.track).order_by("-created_at").first()


def _follow_ups(pipeline, stem_set) -> list[tuple[str, str, object]]:
    """(step, kind, stem or None) after separation, for the stems this separation made."""
    stems = {s.name: s for s in stem_set.stems.all()} if stem_set else {}
    planned = []
    if "slice" in pipeline.steps:
        planned += [(f"slice:{n}", Job.Kind.SLICE, stems[n]) for n in SLICE_STEMS if n in stems] or (
            [] if stems else [("slice:mix", Job.Kind.SLICE, None)]
        )
    if "midi" in pipeline.steps:
        planned += [(f"midi:{n}", Job.Kind.MIDI, stems[n]) for n in MIDI_STEMS if n in stems] or (
            [] if stems else [("midi:mix", Job.Kind.MIDI, None)]
        )
    if "lyrics" in pipeline.steps:
        planned += [(f"lyrics:{n}", Job.Kind.LYRICS, stems[n]) for n in LYRICS_STEMS if n in stems] or (
            [] if stems else [("lyrics:mix", Job.Kind.LYRICS, None)]
        )
    return planned


def _params(pipeline, kind, stem):
    from .slice_options import clean_params as clean_slice
    from .slice_options import strategy_for

    if kind == Job.Kind.SLICE:
        return clean_slice(pipeline.options.get("slice") or {}, strategy_for(stem.name if stem else None))
    if kind == Job.Kind.MIDI:
        from .engines.midi import clean_options as clean_midi
        from .services import midi_preset_for

        params = clean_midi(midi_preset_for(stem.name if stem else None), {})
        params["quantise"] = bool(pipeline.options.get("midi", {}).get("quantise"))
        return params
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
        skipped = dict(pipeline.skipped)

        def done(step):
            return step in jobs and jobs[step].status == Job.Status.SUCCEEDED

        def ended_badly(step):
            return step in jobs and jobs[step].status in (Job.Status.FAILED, Job.Status.CANCELLED)

        # 1. Analysis. A track still being analysed since its upload has that job adopted, not doubled.
        if "analyse" not in jobs and ("analyse" in pipeline.steps or track.status != track.Status.READY):
            running = Job.objects.filter(
                track=track, kind=Job.Kind.ANALYSE, status__in=Job.ACTIVE, pipeline__isnull=True
            ).first()
            if running is None:
                from library.services import do_reanalyse_track

                do_reanalyse_track(track)
                running = Job.objects.filter(track=track, kind=Job.Kind.ANALYSE).order_by("-queued_at").first()
            Job.objects.filter(pk=running.pk).update(pipeline=pipeline, step="analyse")
            running.refresh_from_db()
            jobs["analyse"] = running
        ready = done("analyse") if "analyse" in jobs else track.status == track.Status.READY
        blocked = "analysis failed" if ended_badly("analyse") else None

        # 2. Separation.
        if "separate" in pipeline.steps and "separate" not in jobs:
            if ready:
                jobs["separate"] = _create(
                    pipeline, "separate", Job.Kind.SEPARATE, params=pipeline.options.get("separate") or {}
                )
            elif blocked:
                skipped["separate"] = blocked
        separated = "separate" not in pipeline.steps and ready
        separated = separated or done("separate")
        if ended_badly("separate"):
            blocked = "separation failed"

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


def on_job_changed(job_id) -> None:
    """Called by the job system when a job ends in any way or is retried; advances its pipeline, if any."""
    pipeline_id = Job.objects.filter(pk=job_id).values_list("pipeline_id", flat=True).first()
    if pipeline_id:
        try:
            advance(pipeline_id)
        except Exception:  # a pipeline problem must never turn a finished step into a failed one
            logger.exception("could not advance pipeline %s after job %s", pipeline_id, job_id)


def progress(pipeline) -> dict:
    """Overall progress (0-100) and counts, for the page and the API. Steps not started yet count as 0."""
    jobs = list(pipeline.jobs.all())
    expected = len(jobs) + len(pipeline.skipped)
    steps = set(pipeline.steps)
    started = {job.step.split(":")[0] for job in jobs} | {s.split(":")[0] for s in pipeline.skipped}
    # Before separation ends its follow-ups are unknown: count the usual 4-stem set (2 slices, 2 MIDI, lyrics).
    guess = {"analyse": 1, "separate": 1, "slice": 2, "midi": 2, "lyrics": 1}
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
