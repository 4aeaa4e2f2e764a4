"""MIDI and lyrics pages: the piano roll and the karaoke view, and their files. Owner only, like every view.

`midi_page` draws a clip's notes as a piano roll over the audio they came from (static/js/pianoroll.js);
`lyrics_page` is the karaoke view of a transcription with its editor (static/js/karaoke.js). The lyrics editor
posts to `lyrics_edit` / `lyrics_revert`, which answer htmx with the page's "panel" partial (and the "facts"
out of band) and anything else with a redirect. Deletes ask first on a page of their own (GET), like a track's.
"""

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audio import lyrics as engine
from audio.lyrics import MAX_EDIT_CHARS
from lyrics import services as lyrics_services
from lyrics.formats import LYRICS_FORMATS, lyrics_response
from lyrics.models import Lyrics
from lyrics.services import do_request_lyrics
from stems.services import job_source
from stems.views import _audio_for, _deleted_response, _sentence, _stem_from_post, _transcription_response
from tracks.views import _get_track_for_user

MAX_LYRICS_CHARS = MAX_EDIT_CHARS  # checked here before any work, with a sentence for the page
# What each export is for, in the order the page lists them.
LYRICS_FORMAT_LABELS = {
    "lrc": ("LRC", "Synced lyrics for music players and DJ software"),
    "srt": ("SRT", "Subtitles for video editors"),
    "vtt": ("VTT", "Web captions (WebVTT)"),
    "json": ("JSON", "Every word with its start and end time"),
    "txt": ("TXT", "The plain text"),
}
SAVED = "Saved; word timings kept where words still match."


def _get_lyrics_for_user(request, lyrics_id) -> Lyrics:
    return get_object_or_404(Lyrics.objects.for_user(request.user).select_related("track", "stem"), pk=lyrics_id)


@require_GET
def lyrics_export(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    fmt = request.GET.get("format", "lrc")
    if fmt not in LYRICS_FORMATS:
        return HttpResponseBadRequest(f"Unknown format “{fmt}”. Choose one of: {', '.join(LYRICS_FORMATS)}.")
    return lyrics_response(lyrics, fmt)


# --- lyrics ------------------------------------------------------------------------------------------


def _language_label(code: str) -> str:
    if not code:
        return ""
    try:
        name = engine.languages().get(code)
    except Exception:  # whisper's tables not installed: the code alone says enough
        name = None
    return f"{name} ({code})" if name else code


def _lines(lyrics):
    """The lines as the page shows them, read (and ordered) by the engine; ([], reason) when unreadable."""

    try:
        return engine.Lyrics.from_dict(lyrics.data or {}).to_dict()["lines"], ""
    except ValueError as exc:
        return [], f"These lyrics could not be read: {exc}."


def _lyrics_context(request, lyrics, **extra):
    lines, problem = _lines(lyrics)
    audio_url, audio_label = _audio_for(lyrics)
    track = lyrics.track
    return {
        "lyrics": lyrics,
        "track": track,
        "lines": lines,
        "problem": problem,
        "word_count": sum(len(line["words"]) for line in lines),
        "duration": (lyrics.stem.duration if lyrics.stem_id else None) or track.duration,
        "audio_url": audio_url,
        "audio_label": audio_label,
        "language_label": _language_label(lyrics.language),
        "formats": [(fmt, *LYRICS_FORMAT_LABELS.get(fmt, (fmt.upper(), ""))) for fmt in LYRICS_FORMATS],
        "max_chars": MAX_LYRICS_CHARS,
        "text": lyrics.text,
        "note": _sentence(lyrics.note) if lyrics.note else "",
        **extra,
    }


@require_GET
def lyrics_page(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    return render(request, "lyrics/lyrics.html", _lyrics_context(request, lyrics))


def _panel_response(request, lyrics, *, status=200, **extra):
    """htmx: the karaoke panel (and the facts, out of band); otherwise the whole page."""
    context = _lyrics_context(request, lyrics, **extra)
    if request.htmx:
        return render(request, "lyrics/lyrics.html#panel", {**context, "oob": True}, status=status)
    return render(request, "lyrics/lyrics.html", context, status=status)


@require_POST
def lyrics_edit(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    text = request.POST.get("text")
    error = None
    if text is None or not text.strip():
        error = "Type the lyrics, one line per line. To remove them altogether, delete the lyrics instead."
    elif len(text) > MAX_LYRICS_CHARS:
        error = (
            f"The lyrics are too long ({len(text):,} characters; at most {MAX_LYRICS_CHARS:,}). "
            "Shorten them and save again."
        )
    else:
        try:
            lyrics_services.do_edit_lyrics(lyrics, text)
        except ValueError as exc:
            error = _sentence(str(exc))
    if error:
        lyrics.refresh_from_db()
        # The page keeps what was typed (within reason), so nothing is lost to a mistake.
        typed = (text or "")[: MAX_LYRICS_CHARS * 2]
        return _panel_response(request, lyrics, status=400, edit_error=error, editing=True, text=typed)
    if not request.htmx:
        messages.success(request, SAVED)
        return redirect("lyrics:lyrics", lyrics.pk)
    return _panel_response(request, lyrics, notice=SAVED)


@require_POST
def lyrics_revert(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    if lyrics.edited:
        lyrics_services.do_revert_lyrics(lyrics)
        notice = "Reverted to Whisper’s version."
    else:
        notice = "These are Whisper’s lyrics already: nothing to revert."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("lyrics:lyrics", lyrics.pk)
    return _panel_response(request, lyrics, notice=notice)


@require_http_methods(["GET", "POST"])
def lyrics_delete(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    track = lyrics.track
    if request.method == "GET":
        return render(
            request, "includes/confirm_delete_output.html",
            {"kind": "lyrics", "obj": lyrics, "track": track, "label": "the lyrics",
             "action": reverse("lyrics:lyrics_delete", args=[lyrics.pk]),
             "cancel": reverse("lyrics:lyrics", args=[lyrics.pk])},
        )  # fmt: skip
    lyrics_services.do_delete_lyrics(lyrics)
    return _deleted_response(request, track, f"Deleted the lyrics of “{track.display_title}”.")


@require_POST
def track_lyrics(request, track_id):
    """Lyrics of one stem (POST "stem"), or by default of the vocals stem, or of the mix when there is none."""

    track = _get_track_for_user(request, track_id)
    stem = None
    try:
        stem = _stem_from_post(request, track)
        options = {"model": request.POST.get("model") or None, "language": request.POST.get("language") or None}
        job = do_request_lyrics(track, stem=stem, options=options)
        stem = stem or job_source(job)[1]  # the vocals it picked, when none was named
        error = None
    except ValueError as exc:
        error = str(exc)
    what = stem.display_name.lower() if stem else "the full mix"
    return _transcription_response(
        request, track, stem=stem, error=error, queued=f"Transcribing {what}: the lyrics appear under Lyrics."
    )
