"""The slicer: proposed slice points on the waveform, a sensitivity slider, then a slicing job.

`slicer` renders the page for a track's mix or, with ?stem=<id>, one of its stems; `onsets` answers the source's
onset curve as JSON (computed once, then read from storage: samples/onset_cache.py), from which
static/js/slicer.js picks the markers in the browser on every move of the slider; `slice_submit` queues the
slicing job with the chosen options (samples.services.do_request_slice). The form's sensitivity is a
percentage (0-100), as the slider shows it; the job takes 0..1.

Everything is owner-only: another user's track or stem, or a stem of another track, is a 404.
"""

import math
import uuid

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from audio.audio_io import AudioError
from jobs.models import Job
from samples import onset_cache
from samples.models import Sample
from samples.services import do_request_slice
from stems.models import Stem
from tracks.models import Track

JOBS_SHOWN = 3
# clean_params names the options as the API does; the page calls them what its labels say.
_OPTION_LABELS = {
    "sensitivity": "sensitivity",
    "min_length": "the minimum length",
    "max_length": "the maximum length",
    "silence_db": "the silence threshold",
    "normalise": "normalise",
}
STRATEGY_NOTES = {
    "drums": "Drum hits: one sample per hit.",
    "vocals": "Vocals: up to 50% sensitivity it cuts phrases at the silences between them; above that it also "
    "chops them at syllables.",
    "bass": "Bass: one sample per note.",
    "guitar": "Guitar: one sample per note or chord.",
    "piano": "Piano: one sample per note or chord.",
    "other": "Other instruments: one sample per note or chord.",
    "mix": "Full mix: a sample at every onset, whatever plays it.",
}


def _get_track_for_user(request, track_id) -> Track:
    return get_object_or_404(Track.objects.for_user(request.user), pk=track_id)


def _get_stem_for_track(request, track, stem_id) -> Stem | None:
    """The stem named by ?stem= (or the form's `stem`), or None for the mix; 404 unless it is this track's."""
    if not stem_id:
        return None
    try:
        pk = uuid.UUID(str(stem_id))
    except ValueError:
        raise Http404("No such stem.") from None
    return get_object_or_404(Stem.objects.for_user(request.user).filter(track=track).select_related("stem_set"), pk=pk)


def _source_problem(track, stem) -> str | None:
    """Why this source cannot be sliced now, or None. Stems are always ready; the mix needs its analysis."""
    if stem is not None or track.status == Track.Status.READY:
        return None
    if track.status == Track.Status.FAILED:
        return (
            "The analysis of this track failed, so its full mix cannot be sliced. Analyse it again from the track "
            "page, or slice one of its stems."
        )
    return "This track has not been analysed yet; slice its full mix once the analysis is done (usually a minute)."


def _source_label(stem) -> str:
    return stem.display_name if stem is not None else "Full mix"


def _slicer_url(track, stem) -> str:
    url = reverse("samples:slicer", args=[track.pk])
    return f"{url}?stem={stem.pk}" if stem is not None else url


def _fmt(value) -> str:
    """0.05 -> "0.05", 1.5 -> "1.5", -50.0 -> "-50": what an <input type=number> shows."""
    return f"{float(value):g}"


def _form_values(strategy, data=None, last=None) -> dict:
    """The form's values: what was posted (shown again with its error), else the options of the source's last
    slicing run (`last`, a job's params), else the strategy's defaults."""
    defaults = onset_cache.defaults_for(strategy)
    if last:
        try:
            numbers = ("sensitivity", "min_length", "max_length", "silence_db")
            defaults.update({key: float(last[key]) for key in numbers})
            defaults["normalise"] = bool(last.get("normalise"))
        except (KeyError, TypeError, ValueError):
            defaults = onset_cache.defaults_for(strategy)
    values = {
        "sensitivity": _fmt(defaults["sensitivity"] * 100),
        "min_length": _fmt(defaults["min_length"]),
        "max_length": _fmt(defaults["max_length"]),
        "silence_db": _fmt(defaults["silence_db"]),
        "normalise": bool(defaults["normalise"]),
    }
    if data is not None:
        for key in ("sensitivity", "min_length", "max_length", "silence_db"):
            if (data.get(key) or "").strip():
                values[key] = data[key].strip()[:20]
        values["normalise"] = bool(data.get("normalise"))
    return values


def _jobs_context(track, stem, **extra) -> dict:
    """The source's slicing jobs worth showing: the active ones, then the newest that ended (with its samples)."""

    jobs = list(Job.objects.about(stem or track).filter(kind="slice").defer("traceback")[:JOBS_SHOWN])
    shown = [job for job in jobs if job.is_active]
    ended = next((job for job in jobs if not job.is_active), None)
    if ended is not None:
        if ended.status == Job.Status.SUCCEEDED:
            ended.sample_count = Sample.objects.filter(job=ended).count()
        shown.append(ended)
    return {
        "track": track,
        "stem": stem,
        "slice_jobs": shown,
        "last_params": jobs[0].params if jobs else None,
        "slicing": any(job.is_active for job in shown),
        "slicer_url": _slicer_url(track, stem),
        "source_name": stem.name if stem is not None else "mix",
        **extra,
    }


def _page_context(track, stem, **extra) -> dict:
    strategy = onset_cache.strategy_of(stem)
    problem = _source_problem(track, stem)
    onsets_url = reverse("samples:onsets", args=[track.pk]) + (f"?stem={stem.pk}" if stem is not None else "")
    if stem is not None:
        audio_url, peaks, duration = reverse("stems:stem_audio", args=[stem.pk]), stem.peaks, stem.duration
    else:
        audio_url, peaks, duration = reverse("tracks:track_audio", args=[track.pk]), track.peaks, track.duration
    jobs = _jobs_context(track, stem)
    values = extra.pop("values", None) or _form_values(strategy, last=jobs["last_params"])
    # The page embeds the curve when it was computed before (no round trip); else the script fetches it.
    cached = None
    if problem is None:
        try:
            cached = onset_cache.cached_onsets(track, stem, onset_cache.clean_silence(values["silence_db"]))
        except ValueError:
            cached = None
    # Sources to switch between: the mix and the stems of this stem's set (or of the newest set).
    stem_set = stem.stem_set if stem is not None else track.stem_sets.order_by("-created_at").first()
    stems = []
    if stem_set is not None:
        stems = sorted(
            stem_set.stems.defer("peaks"),
            key=lambda s: Stem.ORDER.index(s.name) if s.name in Stem.ORDER else len(Stem.ORDER),
        )
    config = {
        "onsets_url": onsets_url,
        "audio_url": audio_url,
        "duration": duration or 0,
        "peaks": peaks or [],
        "strategy": strategy,
        "phrases": strategy in onset_cache.SILENCE_DEPENDENT,
        "defaults": onset_cache.defaults_for(strategy),
        "source": _source_label(stem),
    }
    return {
        **jobs,
        "source_label": _source_label(stem),
        "strategy": strategy,
        "strategy_note": STRATEGY_NOTES.get(strategy, ""),
        "problem": problem,
        "config": config,
        "cached_onsets": cached,
        "values": values,
        "source_stems": stems,
        "audio_url": audio_url,
        "source_sample_count": Sample.objects.filter(track=track, stem=stem).count(),
        "track_sample_count": Sample.objects.filter(track=track).count(),
        **extra,
    }


@require_GET
def slicer(request, track_id):
    """The slicer page; with htmx and ?part=jobs, the source's slicing jobs, polled while one is active."""
    track = _get_track_for_user(request, track_id)
    stem = _get_stem_for_track(request, track, request.GET.get("stem"))
    if request.htmx and request.GET.get("part") == "jobs":
        context = _jobs_context(track, stem)
        response = render(request, "samples/slicer.html#jobs", context)
        if not context["slicing"]:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "samples/slicer.html", _page_context(track, stem))


@require_GET
def onsets(request, track_id):
    """The source's onset curve and candidate onsets (JSON; see samples/onset_cache.py for what is in it)."""

    track = _get_track_for_user(request, track_id)
    stem = _get_stem_for_track(request, track, request.GET.get("stem"))
    try:
        silence = onset_cache.clean_silence(request.GET.get("silence_db"))
        problem = _source_problem(track, stem)
        if problem:
            raise ValueError(problem)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    try:
        data = onset_cache.get_onsets(track, stem, silence)
    except (AudioError, OSError) as exc:
        reason = str(exc) if isinstance(exc, AudioError) else "its file is missing from storage"
        message = f"The audio of this source could not be read ({reason}). Try again, or separate the track again."
        return JsonResponse({"error": message}, status=422)
    response = JsonResponse(data)
    # A source's audio never changes, so neither does its curve: the browser may keep it for a while.
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _options(data) -> dict:
    """The job's options from the form; ValueError with a sentence for a sensitivity that is not 0-100."""
    options = {}
    raw = (data.get("sensitivity") or "").strip()
    if raw:
        try:
            percent = float(raw)
        except ValueError:
            raise ValueError("Sensitivity must be a number from 0 to 100 (%).") from None
        if not math.isfinite(percent) or not 0 <= percent <= 100:
            raise ValueError("Sensitivity must be between 0 and 100%.")
        options["sensitivity"] = percent / 100
    for key in ("min_length", "max_length", "silence_db"):
        value = (data.get(key) or "").strip()
        if value:
            options[key] = value
    options["normalise"] = bool(data.get("normalise"))
    return options


def _readable(message: str) -> str:
    """ "min_length must be between 0.01 and 10 seconds." -> "The minimum length must be between …"."""
    for key, label in _OPTION_LABELS.items():
        message = message.replace(key, label)
    return message[:1].upper() + message[1:]


@require_POST
def slice_submit(request, track_id):
    """Queue a slicing job for the mix or the form's `stem`. Errors: 400 with the reason, on the page."""

    track = _get_track_for_user(request, track_id)
    stem = _get_stem_for_track(request, track, request.POST.get("stem"))
    error = _source_problem(track, stem)
    if error is None:
        try:
            do_request_slice(track, stem=stem, options=_options(request.POST))
        except ValueError as exc:
            error = _readable(str(exc))
    label = stem.display_name.lower() if stem is not None else "the full mix"
    notice = None if error else f"Slicing {label} into samples…"
    if request.htmx:
        context = _jobs_context(track, stem, slice_error=error, notice=notice)
        return render(request, "samples/slicer.html#jobs", context, status=400 if error else 200)
    if error:
        values = _form_values(onset_cache.strategy_of(stem), request.POST)
        context = _page_context(track, stem, slice_error=error, values=values)
        return render(request, "samples/slicer.html", context, status=400)
    messages.success(request, notice)
    return redirect(_slicer_url(track, stem))
