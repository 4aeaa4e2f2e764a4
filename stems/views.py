"""The track page's stems panel: separation, the stems player, downloads and the mix-down."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from audio.separation_options import MODELS
from core.ids import parse_uuid
from core.media import safe_filename, serve_converted, serve_file
from core.model_choices import _choices
from jobs.models import Job
from stems import services
from stems.models import Stem, StemSet
from stems.services import do_request_separation
from tracks.panels import panel_context, track_panel
from tracks.views import _get_track_for_user, _track_context

# --- shared ------------------------------------------------------------------------------------------


def _audio_for(obj):
    """(url, label) of what the page plays: the stem the clip or lyrics came from, else the track's mix."""
    if obj.stem_id:
        return reverse("stems:stem_audio", args=[obj.stem_id]), f"{obj.stem.display_name} stem"
    return reverse("tracks:track_audio", args=[obj.track_id]), "Full mix"


def _sentence(text: str) -> str:
    """ "no vocals were found: …" (an engine's note or error) -> "No vocals were found: …." for the page."""
    text = text.strip() or "That did not work."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _deleted_response(request, track, message):
    messages.success(request, message)
    url = reverse("tracks:track", args=[track.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- stems -------------------------------------------------------------------------------------------


def _get_stem_for_user(request, stem_id) -> Stem:
    return get_object_or_404(Stem.objects.for_user(request.user).select_related("track"), pk=stem_id)


def _get_stem_set_for_user(request, set_id) -> StemSet:
    return get_object_or_404(StemSet.objects.for_user(request.user).select_related("track"), pk=set_id)


@track_panel("stems")
def _stems_context(request, track, **extra):

    sets = list(
        StemSet.objects.filter(track=track).prefetch_related("stems")  # peaks: the mixer draws them
    )
    for stem_set in sets:
        stem_set.ordered_stems = sorted(
            stem_set.stems.all(), key=lambda s: Stem.ORDER.index(s.name) if s.name in Stem.ORDER else 99
        )
        # What the set's "Audio to MIDI" and "Lyrics" rows offer: every stem (drums become a General MIDI drum
        # part); lyrics come from vocals.
        stem_set.midi_stems = list(stem_set.ordered_stems)
        stem_set.vocals = next((s for s in stem_set.ordered_stems if s.name == "vocals"), None)
    jobs = list(Job.objects.about(track).filter(kind="separate").defer("traceback")[:5])
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
    response = render(request, "tracks/track.html#stems", context)
    if not context["separating"] and request.GET.get("poll"):
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
def track_separate(request, track_id):

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
        return redirect("tracks:track", track.pk)
    return render(
        request, "tracks/track.html#stems", _stems_context(request, track, separate_error=error),
        status=400 if error else 200,
    )  # fmt: skip


@require_POST
def stem_set_delete(request, set_id):
    stem_set = _get_stem_set_for_user(request, set_id)
    track = stem_set.track
    services.do_delete_stem_set(stem_set)
    if request.htmx:
        return render(request, "tracks/track.html#stems", _stems_context(request, track))
    messages.success(request, "Stems deleted.")
    return redirect("tracks:track", track.pk)


@require_GET
def stem_audio(request, stem_id):
    stem = _get_stem_for_user(request, stem_id)
    return serve_file(request, stem.preview.name if stem.preview else stem.file.name)


@require_GET
def stem_file(request, stem_id):
    stem = _get_stem_for_user(request, stem_id)
    name = f"{stem.track.display_title} - {stem.display_name}"
    if request.GET.get("format"):  # a drag into a DAW, in the format the person chose
        track = stem.track
        return serve_converted(request, stem.file.name, download_name=safe_filename(name), bpm=track.bpm,
                               key=track.key_label or None, title=name, artist=track.artist or None)  # fmt: skip
    ext = stem.file.name.rsplit(".", 1)[-1]
    return serve_file(request, stem.file.name, download_name=f"{name}.{ext}")


MIX_GAIN_DB = (-60.0, 12.0)


def _mix_setting(request, prefix: str, name: str, low: float, high: float, what: str) -> float:
    raw = request.GET.get(f"{prefix}.{name}", "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{what} of {name} must be a number, not {raw!r}.") from None
    if not (low <= value <= high):
        raise ValueError(f"{what} of {name} must be between {low:g} and {high:g}, not {raw}.")
    return value


@require_GET
def stem_set_mix(request, set_id):
    """A WAV of the chosen stems summed on the server: ?stems=drums,bass,other is "the song without vocals".
    The mixer's settings come along: gain.<stem> in dB (-60 to 12) and pan.<stem> (-1 left to 1 right)."""
    stem_set = _get_stem_set_for_user(request, set_id)
    wanted = [name for name in (request.GET.get("stems") or "").split(",") if name]
    stems = list(stem_set.stems.filter(name__in=wanted))
    text = "text/plain; charset=utf-8"
    if not stems or len(stems) != len(set(wanted)):
        available = ", ".join(sorted(stem_set.stems.values_list("name", flat=True)))
        return HttpResponse(f"Choose stems to mix with ?stems=… from: {available}.", status=400, content_type=text)
    try:
        gains = [10 ** (_mix_setting(request, "gain", s.name, *MIX_GAIN_DB, "The gain") / 20) for s in stems]
        pans = [_mix_setting(request, "pan", s.name, -1.0, 1.0, "The pan") for s in stems]
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type=text)
    return services.mix_response(stem_set, stems, gains=gains, pans=pans)


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
            return render(request, "tracks/track.html", _track_context(request, track, output_error=error),
                          status=400)  # fmt: skip
        messages.success(request, queued)
        return redirect(f"{reverse('tracks:track', args=[track.pk])}#track-outputs")
    context = panel_context(
        "outputs", request, track, output_error=error, feedback_set=stem.stem_set_id if stem else None,
        feedback=error or queued, feedback_ok=not error,
    )  # fmt: skip
    return render(request, "tracks/track.html#outputs", context, status=400 if error else 200)
