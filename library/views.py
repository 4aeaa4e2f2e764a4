"""Library pages. Thin: read input, call a service, render a page or, for htmx, the named partial."""

import functools

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from . import services
from .export_views import export_form_context
from .filters import KEYS, SORT_LABELS, TrackFilters, parse_uuid
from .forms import TrackMetaForm
from .media import serve_file
from .models import Collection, Lyrics, MidiClip, Sample, Stem, StemSet, Tag, Track

PAGE_SIZE = 50
ACCEPT = ".wav,.wave,.aif,.aiff,.aifc,.flac,.mp3,.ogg,.oga,.opus,.m4a,.mp4,.aac,audio/*"


def _get_track_for_user(request, track_id) -> Track:
    return get_object_or_404(Track.objects.for_user(request.user), pk=track_id)


def _get_collection_for_user(request, collection_id) -> Collection:
    return get_object_or_404(Collection.objects.for_user(request.user), pk=collection_id)


def _upload_context():
    return {
        "accept": ACCEPT,
        "max_upload_mb": settings.UPLOAD_MAX_SIZE // 1_000_000,
        "max_duration_minutes": settings.UPLOAD_MAX_DURATION // 60,
    }


def _index_context(request, **extra):
    filters = TrackFilters.from_params(request.GET)
    queryset = filters.apply(
        Track.objects.for_user(request.user)
        .defer("peaks", "beats")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "page_obj": page,
        "tracks": page.object_list,
        "filters": filters,
        "querystring": params.urlencode(),
        "sort_labels": SORT_LABELS,
        "keys": KEYS,
        "tags": Tag.objects.for_user(request.user).only("id", "name"),
        "collections": Collection.objects.for_user(request.user).only("id", "name"),
        "statuses": Track.Status.choices,
        "library_empty": not filters.active and page.paginator.count == 0,
        **_upload_context(),
        **extra,
    }


@require_GET
def index(request):
    context = _index_context(request)
    if request.htmx and request.htmx.target == "results":
        return render(request, "library/index.html#results", context)
    return render(request, "library/index.html", context)


@require_GET
def track_row(request, track_id):
    """One library row, polled while the track is being analysed; polling stops once it is done."""
    track = _get_track_for_user(request, track_id)
    response = render(request, "library/index.html#row", {"track": track})
    if not track.is_processing:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_http_methods(["GET", "POST"])
def upload(request):
    """The upload page. Browsers with JS send each file to the API with a progress bar; this form is the
    fallback, and answers with one result per file."""
    results = []
    if request.method == "POST":
        if getattr(request, "upload_too_large", False):
            results.append({"name": "", "ok": False, "message": services.upload_too_large_reason()})
        for uploaded in request.FILES.getlist("file"):
            try:
                result = services.do_upload_track(request.user, uploaded)
                results.append({"name": uploaded.name, "ok": True, "message": result.note, "track": result.track})
            except services.UploadError as exc:
                results.append({"name": uploaded.name, "ok": False, "message": exc.reason})
        if not results:
            results.append({"name": "", "ok": False, "message": "Choose one or more audio files to upload."})
    status = 200 if all(r["ok"] for r in results) else 400
    return render(request, "library/upload.html", {"results": results, **_upload_context()}, status=status)


def _track_context(request, track, **extra):
    return {
        "track": track,
        "meta_form": extra.pop("meta_form", None) or TrackMetaForm(instance=track),
        "tags_text": ", ".join(t.name for t in track.tags.all()),
        "all_tags": Tag.objects.for_user(request.user).only("id", "name"),
        "track_collections": track.collections.all(),
        "collections": Collection.objects.for_user(request.user).exclude(tracks=track),
        **_stems_context(request, track),
        **_pipeline_context(track),
        **_outputs_context(track),
        **export_form_context(),
        **extra,
    }


@require_GET
def track_detail(request, track_id):
    track = _get_track_for_user(request, track_id)
    return render(request, "library/track.html", _track_context(request, track))


@require_GET
def track_status(request, track_id):
    """The status panel, polled during analysis. When analysis ends the page reloads to show the results."""
    track = _get_track_for_user(request, track_id)
    response = render(request, "library/track.html#status", {"track": track})
    if not track.is_processing:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def track_update(request, track_id):
    track = _get_track_for_user(request, track_id)
    form = TrackMetaForm(request.POST, instance=track)
    if form.is_valid():
        services.do_update_track(track, **{k: form.cleaned_data[k] for k in ("title", "artist", "album")})
        if not request.htmx:
            messages.success(request, "Saved.")
            return redirect("library:track", track.pk)
        return render(request, "library/track.html#meta", _track_context(request, track, saved=True))
    track.refresh_from_db()
    context = _track_context(request, track, meta_form=form)
    template = "library/track.html#meta" if request.htmx else "library/track.html"
    return render(request, template, context, status=400)


@require_POST
def track_tags(request, track_id):
    track = _get_track_for_user(request, track_id)
    services.do_set_track_tags(track, request.POST.get("tags", ""))
    if not request.htmx:
        return redirect("library:track", track.pk)
    return render(request, "library/track.html#tags", _track_context(request, track, tags_saved=True))


@require_POST
def track_collections(request, track_id):
    """Add the track to an existing collection, or to a new one named in `new_collection`."""
    track = _get_track_for_user(request, track_id)
    error = None
    new_name = (request.POST.get("new_collection") or "").strip()
    if new_name:
        try:
            collection = services.do_create_collection(request.user, new_name)
        except ValueError as exc:
            collection, error = None, str(exc)
    elif request.POST.get("collection"):
        collection = _get_collection_for_user(request, request.POST["collection"])
    else:
        collection, error = None, "Choose a collection or name a new one."
    if collection:
        services.do_add_to_collection(collection, [track])
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("library:track", track.pk)
    return render(
        request, "library/track.html#collections", _track_context(request, track, collection_error=error),
        status=400 if error else 200,
    )  # fmt: skip


@require_POST
def track_collection_remove(request, track_id, collection_id):
    track = _get_track_for_user(request, track_id)
    services.do_remove_from_collection(_get_collection_for_user(request, collection_id), [track])
    if not request.htmx:
        return redirect("library:track", track.pk)
    return render(request, "library/track.html#collections", _track_context(request, track))


@require_http_methods(["GET", "POST"])
def track_delete(request, track_id):
    """GET asks for confirmation (the page that plain links land on); POST deletes."""
    track = _get_track_for_user(request, track_id)
    if request.method == "GET":
        return render(request, "library/track_delete.html", {"track": track})
    title = track.display_title
    services.do_delete_track(track)
    messages.success(request, f"Deleted “{title}” and all of its files.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("library:index")
        return response
    return redirect("library:index")


@require_POST
def track_reanalyse(request, track_id):
    track = services.do_reanalyse_track(_get_track_for_user(request, track_id))
    if request.htmx:
        return render(request, "library/track.html#status", {"track": track})
    return redirect("library:track", track.pk)


@require_GET
def track_audio(request, track_id):
    """What the player plays: the browser preview when the original needs one, else the original."""
    track = _get_track_for_user(request, track_id)
    name = track.preview.name if track.preview else track.original.name
    return serve_file(request, name)


@require_GET
def track_original(request, track_id):
    track = _get_track_for_user(request, track_id)
    return serve_file(request, track.original.name, download_name=f"{track.display_title}.{track.format}")


# --- stems -------------------------------------------------------------------------------------------


def _get_stem_for_user(request, stem_id) -> Stem:
    return get_object_or_404(Stem.objects.for_user(request.user).select_related("track"), pk=stem_id)


def _get_stem_set_for_user(request, set_id) -> StemSet:
    return get_object_or_404(StemSet.objects.for_user(request.user).select_related("track"), pk=set_id)


def _stems_context(request, track, **extra):
    from processing.models import Job
    from processing.separation_options import MODELS

    sets = list(
        StemSet.objects.filter(track=track).prefetch_related(Prefetch("stems", queryset=Stem.objects.defer("peaks")))
    )
    for stem_set in sets:
        stem_set.ordered_stems = sorted(
            stem_set.stems.all(), key=lambda s: Stem.ORDER.index(s.name) if s.name in Stem.ORDER else 99
        )
        # What the set's "Audio to MIDI" and "Lyrics" rows offer: drums have no notes; lyrics come from vocals.
        stem_set.midi_stems = [s for s in stem_set.ordered_stems if s.name != "drums"]
        stem_set.vocals = next((s for s in stem_set.ordered_stems if s.name == "vocals"), None)
    jobs = list(Job.objects.filter(track=track, kind=Job.Kind.SEPARATE).defer("traceback")[:5])
    newest_set = max((s.created_at for s in sets), default=None)
    # A failure stays visible until a later separation succeeds; active jobs always show.
    shown = [j for j in jobs if j.is_active or (j.status == "failed" and (not newest_set or j.queued_at > newest_set))]
    return {
        "track": track,
        "stem_sets": sets,
        "separation_jobs": shown[:3],
        "separating": any(j.is_active for j in jobs),
        "separation_models": MODELS,
        **_choices(),
        **extra,
    }


@require_GET
def track_stems(request, track_id):
    """The stems panel; polled while a separation runs, it stops polling (286) once none is active."""
    track = _get_track_for_user(request, track_id)
    context = _stems_context(request, track)
    response = render(request, "library/track.html#stems", context)
    if not context["separating"] and request.GET.get("poll"):
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
def track_separate(request, track_id):
    from processing.services import do_request_separation

    track = _get_track_for_user(request, track_id)
    options = {
        "model": request.POST.get("model") or "htdemucs",
        "two_stems": "vocals" if request.POST.get("two_stems") else None,
        "shifts": request.POST.get("shifts") or 1,
    }
    error = None
    try:
        do_request_separation(track, options)
    except ValueError as exc:
        error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Separation queued. The stems appear here when it is done.")
        return redirect("library:track", track.pk)
    return render(
        request, "library/track.html#stems", _stems_context(request, track, separate_error=error),
        status=400 if error else 200,
    )  # fmt: skip


@require_POST
def stem_set_delete(request, set_id):
    stem_set = _get_stem_set_for_user(request, set_id)
    track = stem_set.track
    services.do_delete_stem_set(stem_set)
    if request.htmx:
        return render(request, "library/track.html#stems", _stems_context(request, track))
    messages.success(request, "Stems deleted.")
    return redirect("library:track", track.pk)


@require_GET
def stem_audio(request, stem_id):
    stem = _get_stem_for_user(request, stem_id)
    return serve_file(request, stem.preview.name if stem.preview else stem.file.name)


@require_GET
def stem_file(request, stem_id):
    stem = _get_stem_for_user(request, stem_id)
    ext = stem.file.name.rsplit(".", 1)[-1]
    return serve_file(request, stem.file.name, download_name=f"{stem.track.display_title} - {stem.display_name}.{ext}")


@require_GET
def stem_set_mix(request, set_id):
    """A WAV of the chosen stems summed on the server: ?stems=drums,bass,other is "the song without vocals"."""
    stem_set = _get_stem_set_for_user(request, set_id)
    wanted = [name for name in (request.GET.get("stems") or "").split(",") if name]
    stems = list(stem_set.stems.filter(name__in=wanted))
    if not stems or len(stems) != len(set(wanted)):
        available = ", ".join(sorted(stem_set.stems.values_list("name", flat=True)))
        return HttpResponse(f"Choose stems to mix with ?stems=… from: {available}.", status=400,
                            content_type="text/plain; charset=utf-8")  # fmt: skip
    return services.mix_response(stem_set, stems)


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


@functools.cache
def _language_choices() -> tuple:
    """Whisper's languages as (code, name), by name. Cheap (no torch import), but worth keeping."""
    from processing.engines.lyrics import languages

    try:
        return tuple(sorted(languages().items(), key=lambda item: item[1]))
    except ImportError:  # whisper missing: "Detect" is then the only choice, and transcription says why it fails
        return ()


def _choices() -> dict:
    """The model and language choices of the forms, with which models are installed (a look at file names)."""
    from processing.engines import weights
    from processing.engines.lyrics import DEFAULT_MODEL, MODEL_CHOICES
    from processing.separation_options import MODELS

    lyric_models = [{"name": m, "installed": weights.installed(m, settings.MODEL_DIR)} for m in MODEL_CHOICES]
    installed = [m["name"] for m in lyric_models if m["installed"]]
    separation = [{"name": m, "installed": weights.installed(m, settings.MODEL_DIR)} for m in MODELS]
    missing = []
    if not any(m["installed"] for m in separation):
        missing.append("separation (python manage.py download_models htdemucs)")
    if not installed:
        missing.append(f"lyrics (python manage.py download_models {DEFAULT_MODEL})")
    return {
        "lyric_models": lyric_models,
        "lyric_model_default": DEFAULT_MODEL if DEFAULT_MODEL in installed or not installed else installed[0],
        "separation_choices": separation,
        "languages": _language_choices(),
        # Steps that will fail for want of weights: the Process form says so before anyone presses it.
        "models_missing": missing,
    }


def _pipeline_rows(pipeline, jobs) -> list[dict]:
    """One row per step of a pipeline, in pipeline order: its jobs, then steps not started, then skipped ones."""
    from processing.models import Pipeline

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


def _process_values(track, post=None, choices=None) -> dict:
    """What the Process form shows: its defaults, or what was sent when it comes back with an error."""
    choices = choices or _choices()
    if post is None:
        steps = list(DEFAULT_STEPS) + ([] if track.status == Track.Status.READY else ["analyse"])
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
    from processing.models import Job, Pipeline
    from processing.pipeline import progress

    if pipeline is None:
        pipeline = (
            Pipeline.objects.filter(track=track)
            .prefetch_related(Prefetch("jobs", queryset=Job.objects.defer("traceback").order_by("queued_at")))
            .first()
        )
    context = {"track": track, "pipeline": pipeline, "step_info": STEP_INFO, **extra}
    if pipeline is not None:
        jobs = list(pipeline.jobs.all())
        ended = sum(1 for job in jobs if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED))
        context.update(
            pipeline_progress=progress(pipeline),
            pipeline_rows=_pipeline_rows(pipeline, jobs),
            pipeline_ended_steps=ended,
            pipeline_failed=any(job.status == Job.Status.FAILED for job in jobs),
        )
    if pipeline is None or not pipeline.is_active:
        choices = _choices()
        context.update(choices, process_values=_process_values(track, process_form, choices))
    return context


def _get_pipeline_for_user(request, track, pipeline_id):
    from processing.models import Pipeline

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
    from processing.models import Pipeline
    from processing.services import do_process_track

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
            return render(request, "library/track.html", context, status=400)
        messages.success(request, "Processing started. Each step shows its progress here.")
        return redirect(f"{reverse('library:track', args=[track.pk])}#pipeline")
    context = _pipeline_context(track, process_error=error, process_form=request.POST if error else None)
    response = render(request, "library/track.html#pipeline", context, status=400 if error else 200)
    return response if error else _assets_changed(response)


@require_GET
def track_pipeline(request, track_id):
    """The pipeline panel. Polled while the pipeline runs (286 once it has ended); the answer asks the page to
    refresh the stems and outputs when a step ended since the last poll (`seen`) or the pipeline ended."""
    track = _get_track_for_user(request, track_id)
    context = _pipeline_context(track)
    response = render(request, "library/track.html#pipeline", context)
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
    from processing.services import do_cancel_pipeline

    track = _get_track_for_user(request, track_id)
    do_cancel_pipeline(_get_pipeline_for_user(request, track, pipeline_id))
    if not request.htmx:
        messages.success(request, "Cancelled. Steps that had finished keep their results.")
        return redirect(f"{reverse('library:track', args=[track.pk])}#pipeline")
    return _assets_changed(render(request, "library/track.html#pipeline", _pipeline_context(track)))


def _outputs_context(track, **extra) -> dict:
    """Samples (counted by source), MIDI clips, lyrics, and the jobs making them outside a pipeline."""
    from processing.models import Job
    from processing.pipeline import TERMINAL

    clips = list(MidiClip.objects.filter(track=track).defer("notes", "params").order_by("source", "-created_at"))
    lyrics = list(
        Lyrics.objects.filter(track=track).defer("data", "original", "params").order_by("source", "-created_at")
    )
    sample_counts = list(
        Sample.objects.filter(track=track).values("source").annotate(count=Count("id")).order_by("source")
    )
    kinds = (Job.Kind.MIDI, Job.Kind.LYRICS, Job.Kind.SLICE)
    recent = (
        Job.objects.filter(track=track, kind__in=kinds, pipeline__isnull=True)
        .exclude(status=Job.Status.CANCELLED)
        .select_related("stem")
        .defer("traceback", "stem__peaks")
        .order_by("-queued_at")[:20]
    )
    newest = {}
    for clip in clips:
        newest.setdefault((Job.Kind.MIDI, clip.source), clip.created_at)
    for item in lyrics:
        newest.setdefault((Job.Kind.LYRICS, item.source), item.created_at)
    jobs, seen = {Job.Kind.MIDI: [], Job.Kind.LYRICS: [], Job.Kind.SLICE: []}, set()
    for job in recent:
        source = job.stem.name if job.stem else "mix"
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
        "midi_jobs": jobs[Job.Kind.MIDI],
        "lyrics_jobs": jobs[Job.Kind.LYRICS],
        "slice_jobs": jobs[Job.Kind.SLICE],
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
    response = render(request, "library/track.html#outputs", context)
    if request.GET.get("poll") and not context["outputs_active"]:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _stem_from_post(request, track):
    """The stem named by POST "stem" (None for the track's mix). 404 for a stem that is not the user's."""
    value = request.POST.get("stem") or ""
    if not value:
        return None
    stem_id = parse_uuid(value)
    if stem_id is None:
        raise ValueError("That is not a stem of this track. Reload the page and try again.")
    stem = get_object_or_404(Stem.objects.for_user(request.user).defer("peaks"), pk=stem_id)
    if stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    return stem


def _transcription_response(request, track, *, stem, error, queued):
    """After a MIDI or lyrics request: the outputs panel (which now shows the job), and a line by the stem's
    buttons saying what happened (out of band); without htmx, the track page with a message."""
    if not request.htmx:
        if error:
            return render(request, "library/track.html", _track_context(request, track, output_error=error),
                          status=400)  # fmt: skip
        messages.success(request, queued)
        return redirect(f"{reverse('library:track', args=[track.pk])}#track-outputs")
    context = _outputs_context(
        track, output_error=error, feedback_set=stem.stem_set_id if stem else None, feedback=error or queued,
        feedback_ok=not error,
    )  # fmt: skip
    return render(request, "library/track.html#outputs", context, status=400 if error else 200)


@require_POST
def track_midi(request, track_id):
    """Audio to MIDI of one stem (POST "stem") or the full mix, optionally quantised to the beat grid."""
    from processing.services import do_request_midi

    track = _get_track_for_user(request, track_id)
    stem = None
    try:
        stem = _stem_from_post(request, track)
        do_request_midi(track, stem=stem, options={"quantise": bool(request.POST.get("quantise"))})
        error = None
    except ValueError as exc:
        error = str(exc)
    what = stem.display_name if stem else "the full mix"
    return _transcription_response(
        request, track, stem=stem, error=error, queued=f"Finding the notes of {what}: the MIDI clip appears under MIDI."
    )


@require_POST
def track_lyrics(request, track_id):
    """Lyrics of one stem (POST "stem"), or by default of the vocals stem, or of the mix when there is none."""
    from processing.services import do_request_lyrics

    track = _get_track_for_user(request, track_id)
    stem = None
    try:
        stem = _stem_from_post(request, track)
        options = {"model": request.POST.get("model") or None, "language": request.POST.get("language") or None}
        job = do_request_lyrics(track, stem=stem, options=options)
        stem = stem or job.stem  # the vocals it picked, when none was named
        error = None
    except ValueError as exc:
        error = str(exc)
    what = stem.display_name.lower() if stem else "the full mix"
    return _transcription_response(
        request, track, stem=stem, error=error, queued=f"Transcribing {what}: the lyrics appear under Lyrics."
    )


# --- library: several tracks at once -------------------------------------------------------------------------


@require_POST
def tracks_bulk(request):
    """The library's action bar: "process" or "export" the ticked tracks (POST "track", one per track)."""
    from processing.services import do_process_tracks

    from .export_services import do_request_export

    ids = [i for i in (parse_uuid(v) for v in request.POST.getlist("track")) if i]
    tracks = list(Track.objects.for_user(request.user).filter(pk__in=ids).order_by("-created_at"))
    action = request.POST.get("action")
    error = None
    if not tracks:
        error = "Select at least one track first: tick the boxes next to their titles."
    elif action == "process":
        choices = _choices()
        options = {"lyrics": {"model": choices["lyric_model_default"]}}
        try:
            do_process_tracks(tracks, steps=list(DEFAULT_STEPS), options=options)
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
        return render(request, "library/index.html#bulk-error", {"bulk_error": error}, status=400)
    return render(request, "library/index.html", _index_context(request, bulk_error=error), status=400)


def _library_url(request) -> str:
    """Back to the library with the filters the page had (POST "next" is a query string, nothing more)."""
    query = (request.POST.get("next") or "").lstrip("?")
    base = reverse("library:index")
    if query and "//" not in query and "\\" not in query:
        return f"{base}?{query}"
    return base
