"""The track page's "Process everything" and outputs panels, and the library's bulk actions."""

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from core.ids import parse_uuid
from core.model_choices import _choices, _language_choices
from exports.services import do_request_export
from jobs.groups import JobGroup, job_groups
from jobs.models import Job
from lyrics.models import Lyrics
from midi.models import MidiClip
from pipelines.models import STEP_JOBS, Pipeline, PipelineStep
from pipelines.services import TERMINAL, do_cancel_pipeline, do_process_track, do_process_tracks, progress
from samples.models import Sample
from stems.models import Stem
from tracks.models import Track
from tracks.panels import track_panel
from tracks.views import _get_track_for_user, _index_context, _library_url, _track_context

# --- process everything, MIDI and lyrics ----------------------------------------------------------------------
#
# The track page's "Process everything" panel (partial "pipeline") shows the newest pipeline of the track: its
# overall progress, one row per step (a job, a step still waiting for its input, or a step skipped with the
# reason), Cancel while it runs and Retry on a failed step (the Jobs views, answering with an HX-Trigger). It
# polls every 2 s while the pipeline runs; its poll URL carries how many steps had ended (`seen`), so the answer
# can tell the page (HX-Trigger "track-assets-changed") when a step ended and the stems and outputs panels should
# refresh. The "outputs" partial lists the samples, MIDI clips and lyrics, with the MIDI, lyrics and slicing jobs
# started outside a pipeline (the stem buttons), and polls while one of those runs.

ASSETS_CHANGED = "track-assets-changed"
DEFAULT_STEPS = ("separate", "slice", "midi", "lyrics")  # analysis runs anyway when the track needs it
STEP_INFO = {
    "analyse": ("Analyse", "BPM, key, loudness and the waveform"),
    "separate": ("Separate", "vocals, drums, bass and other with Demucs"),
    "slice": ("Slice", "drums and vocals into tagged samples"),
    "midi": ("MIDI", "bass and melodic stems with Basic Pitch"),
    "lyrics": ("Lyrics", "the vocals, with word timings, with Whisper"),
}
STEP_GROUP_LABELS = {
    "analyse": "Analyse: BPM, key and loudness",
    "separate": "Separate into stems",
    "slice": "Slice drums and vocals into samples",
    "midi": "MIDI from the bass and melodic stems",
    "lyrics": "Lyrics from the vocals",
}


def _step_label(step: str) -> str:
    kind, _, source = step.partition(":")
    if not source:
        return STEP_GROUP_LABELS.get(kind, step)
    what = "the full mix" if source == "mix" else source.replace("_", " ")
    return {
        "slice": f"Slice {what} into samples",
        "midi": f"MIDI from {what}",
        "lyrics": f"Lyrics from {what}",
    }.get(kind, STEP_GROUP_LABELS.get(kind, step))


def _pipeline_rows(pipeline, jobs) -> list[dict]:
    """One row per step of a pipeline, in pipeline order: its jobs, then steps not started, then skipped ones."""

    rows = [
        {"step": job.step, "label": _step_label(job.step), "status": job.status, "job": job} for job in jobs if job.step
    ]
    started = {row["step"].split(":")[0] for row in rows} | {s.split(":")[0] for s in pipeline.skipped}
    for step in pipeline.steps:
        if step not in started:
            waits_for = "separation" if step != "separate" and "separate" in pipeline.steps else "analysis"
            status = "waiting" if pipeline.is_active else "not-run"
            rows.append({"step": step, "label": _step_label(step), "status": status, "waits_for": waits_for})
    for step, reason in pipeline.skipped.items():
        rows.append({"step": step, "label": _step_label(step), "status": "skipped", "reason": reason})
    order = {name: i for i, name in enumerate(Pipeline.STEPS)}
    return sorted(rows, key=lambda row: order.get(row["step"].split(":")[0], 99))  # stable: keeps queue order


def _default_steps(choices) -> list:
    """DEFAULT_STEPS, less lyrics while no lyrics model is installed (the form then says how to install one)."""
    return [s for s in DEFAULT_STEPS if s != "lyrics" or choices["lyric_model_default"]]


def _process_values(track, post=None, choices=None) -> dict:
    """What the Process form shows: its defaults, or what was sent when it comes back with an error."""
    choices = choices or _choices()
    if post is None:
        steps = _default_steps(choices) + ([] if track.status == Track.Status.READY else ["analyse"])
        return {"steps": steps, "separation_model": "htdemucs", "lyrics_model": choices["lyric_model_default"],
                "language": "", "quantise": False}  # fmt: skip
    return {
        "steps": post.getlist("steps") if post.get("steps_given") else list(DEFAULT_STEPS),
        "separation_model": post.get("separation_model") or "htdemucs",
        "lyrics_model": post.get("lyrics_model") or choices["lyric_model_default"],
        "language": post.get("language") or "",
        "quantise": bool(post.get("quantise")),
    }


def _pipeline_context(track, pipeline=None, *, process_form=None, **extra) -> dict:

    if pipeline is None:
        pipeline = Pipeline.objects.filter(track=track).prefetch_related(STEP_JOBS).first()
    context = {"track": track, "pipeline": pipeline, "step_info": STEP_INFO, **extra}
    if pipeline is not None:
        jobs = pipeline.step_jobs()
        ended = sum(1 for job in jobs if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED))
        context.update(
            pipeline_progress=progress(pipeline, jobs),
            pipeline_rows=_pipeline_rows(pipeline, jobs),
            pipeline_ended_steps=ended,
            pipeline_failed=any(job.status == Job.Status.FAILED for job in jobs),
        )
    if pipeline is None or not pipeline.is_active:
        choices = _choices()
        context.update(choices, process_values=_process_values(track, process_form, choices))
    return context


def _get_pipeline_for_user(request, track, pipeline_id):

    return get_object_or_404(Pipeline.objects.filter(owner=request.user, track=track), pk=pipeline_id)


def _process_options(post) -> dict:
    options = {
        "separate": {"model": post.get("separation_model") or "htdemucs"},
        "lyrics": {"model": post.get("lyrics_model") or None, "language": post.get("language") or None},
        "midi": {"quantise": bool(post.get("quantise"))},
    }
    if post.get("two_stems"):
        options["separate"]["two_stems"] = "vocals"
    return options


def _process_steps(post):
    """The ticked steps; the form says it sent them (steps_given), so none ticked is an error, not "all"."""
    if not post.get("steps_given"):
        return list(DEFAULT_STEPS)
    steps = post.getlist("steps")
    if not steps:
        raise ValueError("Choose at least one step to run.")
    return steps


def _assets_changed(response):
    response["HX-Trigger"] = ASSETS_CHANGED
    return response


@require_POST
def track_process(request, track_id):
    """Start "Process everything" (or the chosen steps) on the track."""

    track = _get_track_for_user(request, track_id)
    error = None
    if Pipeline.objects.filter(track=track, status=Pipeline.Status.RUNNING).exists():
        error = "This track is already being processed. Wait for that run to end, or cancel it first."
    else:
        try:
            do_process_track(track, steps=_process_steps(request.POST), options=_process_options(request.POST))
        except ValueError as exc:  # PipelineError is a ValueError
            error = str(exc)
    if not request.htmx:
        if error:
            context = _track_context(request, track, process_error=error)
            context.update(_pipeline_context(track, process_error=error, process_form=request.POST))
            return render(request, "tracks/track.html", context, status=400)
        messages.success(request, "Processing started. Each step shows its progress here.")
        return redirect(f"{reverse('tracks:track', args=[track.pk])}#pipeline")
    context = _pipeline_context(track, process_error=error, process_form=request.POST if error else None)
    response = render(request, "tracks/track.html#pipeline", context, status=400 if error else 200)
    return response if error else _assets_changed(response)


@require_GET
def track_pipeline(request, track_id):
    """The pipeline panel. Polled while the pipeline runs (286 once it has ended); the answer asks the page to
    refresh the stems and outputs when a step ended since the last poll (`seen`) or the pipeline ended."""
    track = _get_track_for_user(request, track_id)
    context = _pipeline_context(track)
    response = render(request, "tracks/track.html#pipeline", context)
    pipeline = context["pipeline"]
    seen = request.GET.get("seen", "")
    step_ended = pipeline is not None and seen.isdigit() and context["pipeline_ended_steps"] > int(seen)
    if step_ended or (pipeline is not None and seen.isdigit() and not pipeline.is_active):
        _assets_changed(response)
    if request.GET.get("poll") and (pipeline is None or not pipeline.is_active):
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
def track_pipeline_cancel(request, track_id, pipeline_id):

    track = _get_track_for_user(request, track_id)
    do_cancel_pipeline(_get_pipeline_for_user(request, track, pipeline_id))
    if not request.htmx:
        messages.success(request, "Cancelled. Steps that had finished keep their results.")
        return redirect(f"{reverse('tracks:track', args=[track.pk])}#pipeline")
    return _assets_changed(render(request, "tracks/track.html#pipeline", _pipeline_context(track)))


def _outputs_context(track, **extra) -> dict:
    """Samples (counted by source), MIDI clips, lyrics, and the jobs making them outside a pipeline."""

    clips = list(MidiClip.objects.filter(track=track).defer("notes", "params").order_by("source", "-created_at"))
    lyrics = list(
        Lyrics.objects.filter(track=track).defer("data", "original", "params").order_by("source", "-created_at")
    )
    sample_counts = list(
        Sample.objects.filter(track=track).values("source").annotate(count=Count("id")).order_by("source")
    )
    kinds = ("midi", "lyrics", "slice")
    recent = (
        Job.objects.about(track, Stem.objects.filter(track=track))
        .filter(kind__in=kinds, pipeline_step__isnull=True)
        .exclude(status=Job.Status.CANCELLED)
        # The stem's name in the same query (a track's id never matches a stem's, so the mix's jobs get None).
        .annotate(stem_name=Subquery(Stem.objects.filter(pk=OuterRef("subject_id")).values("name")[:1]))
        .defer("traceback")
        .order_by("-queued_at")[:20]
    )
    newest = {}
    for clip in clips:
        newest.setdefault(("midi", clip.source), clip.created_at)
    for item in lyrics:
        newest.setdefault(("lyrics", item.source), item.created_at)
    jobs, seen = {"midi": [], "lyrics": [], "slice": []}, set()
    for job in recent:
        source = job.stem_name or "mix"
        if (job.kind, source) in seen:
            continue  # only the newest job of each source
        seen.add((job.kind, source))
        result_at = newest.get((job.kind, source))
        # A failure stays until a later result for the same source replaces it; finished jobs show as results.
        replaced = bool(result_at and result_at > job.queued_at)
        if job.status in Job.ACTIVE or (job.status == Job.Status.FAILED and not replaced):
            job.source_label = "Full mix" if source == "mix" else source.replace("_", " ").capitalize()
            jobs[job.kind].append(job)
    stem_names = set(Stem.objects.filter(track=track).order_by().values_list("name", flat=True).distinct())
    languages = dict(_language_choices())
    for item in lyrics:
        item.language_name = languages.get(item.language, item.language.upper())
        item.source_label = "Full mix" if item.source == "mix" else item.source.replace("_", " ").capitalize()
    for row in sample_counts:
        row["label"] = "Full mix" if row["source"] == "mix" else row["source"].replace("_", " ").capitalize()
    active = any(job.status not in TERMINAL for group in jobs.values() for job in group)
    return {
        "track": track,
        "midi_clips": clips,
        "lyrics_list": lyrics,
        "sample_counts": sample_counts,
        "sample_total": sum(row["count"] for row in sample_counts),
        "midi_jobs": jobs["midi"],
        "lyrics_jobs": jobs["lyrics"],
        "slice_jobs": jobs["slice"],
        "outputs_active": active,
        "has_stems": bool(stem_names),
        "has_vocals": "vocals" in stem_names,
        **_choices(),
        **extra,
    }


@require_GET
def track_outputs(request, track_id):
    """The samples, MIDI and lyrics panel; polled while one of its jobs runs (286 once none does)."""
    track = _get_track_for_user(request, track_id)
    context = _outputs_context(track)
    response = render(request, "tracks/track.html#outputs", context)
    if request.GET.get("poll") and not context["outputs_active"]:
        response.status_code = HttpResponseStopPolling.status_code
    return response


# --- library: several tracks at once -------------------------------------------------------------------------


@require_POST
def tracks_bulk(request):
    """The library's action bar: "process" or "export" the ticked tracks (POST "track", one per track)."""

    ids = [i for i in (parse_uuid(v) for v in request.POST.getlist("track")) if i]
    tracks = list(Track.objects.for_user(request.user).filter(pk__in=ids).order_by("-created_at"))
    action = request.POST.get("action")
    error = None
    if not tracks:
        error = "Select at least one track first: tick the boxes next to their titles."
    elif action == "process":
        choices = _choices()
        try:
            do_process_tracks(tracks, steps=_default_steps(choices), options={})
        except ValueError as exc:
            error = str(exc)
        else:
            count = len(tracks)
            messages.success(
                request,
                f"Processing {count} track{'s' if count != 1 else ''}: stems, samples, MIDI and lyrics. "
                "Each track's page shows its progress; the Jobs page shows every step.",
            )
            response = redirect(_library_url(request))
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = _library_url(request)
            return response
    elif action == "export":
        try:
            export = do_request_export(request.user, "tracks", tracks=tracks, options=None)
        except ValueError as exc:
            error = str(exc)
        else:
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = export.get_absolute_url()
                return response
            return redirect(export.get_absolute_url())
    else:
        error = "Choose what to do with the selected tracks: Process or Export."
    if request.htmx:
        return render(request, "tracks/index.html#bulk-error", {"bulk_error": error}, status=400)
    return render(request, "tracks/index.html", _index_context(request, bulk_error=error), status=400)


# --- the Jobs page: a pipeline's jobs under its row ---------------------------------------------------------


@job_groups("pipeline")
def _pipeline_job_groups(owner, jobs) -> list[JobGroup]:
    """The pipelines these jobs are steps of, in two queries (the pipelines with their tracks, their steps)."""
    ids = PipelineStep.objects.filter(job__in=[job.pk for job in jobs]).values("pipeline_id")
    pipelines = (
        Pipeline.objects.filter(owner=owner, pk__in=ids)
        .select_related("track")
        .defer("track__peaks", "track__beats")
        .prefetch_related(STEP_JOBS)
    )
    groups = []
    for pipeline in pipelines:
        steps = pipeline.step_jobs()
        info = progress(pipeline, steps)
        done, total = info["counts"][Job.Status.SUCCEEDED], info["steps"]
        about = "about " if total > len(steps) + len(pipeline.skipped) else ""  # follow-ups not known yet
        groups.append(
            JobGroup(
                key=f"pipeline-{pipeline.pk}",
                label="Process everything",
                subject=pipeline.track,
                url=f"{reverse('tracks:track', args=[pipeline.track_id])}#pipeline",
                status=pipeline.status,
                status_label=pipeline.get_status_display(),
                is_active=pipeline.is_active,
                percent=info["percent"],
                summary=f"{done} of {about}{total} step{'s' if total != 1 else ''} done"
                + (f", {len(pipeline.skipped)} skipped" if pipeline.skipped else ""),
                started_at=pipeline.created_at,
                job_ids=[job.pk for job in steps],
            )
        )
    return groups


@track_panel("pipeline")
def _pipeline_panel(request, track) -> dict:
    return _pipeline_context(track)


@track_panel("outputs")
def _outputs_panel(request, track, **extra) -> dict:
    return _outputs_context(track, **extra)
