"""MIDI and lyrics pages: the piano roll and the karaoke view, and their files. Owner only, like every view.

`midi_page` draws a clip's notes as a piano roll over the audio they came from (static/js/pianoroll.js);
`lyrics_page` is the karaoke view of a transcription with its editor (static/js/karaoke.js). The lyrics editor
posts to `lyrics_edit` / `lyrics_revert`, which answer htmx with the page's "panel" partial (and the "facts"
out of band) and anything else with a redirect. Deletes ask first on a page of their own (GET), like a track's.
"""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from processing.engines.lyrics import MAX_EDIT_CHARS
from processing.engines.midi import DEFAULT_BPM  # the tempo a .mid gets when the track has none: the roll's grid

from . import transcription_services
from .media import serve_file
from .models import Lyrics, MidiClip
from .transcription_exports import LYRICS_FORMATS, lyrics_response

MAX_LYRICS_CHARS = MAX_EDIT_CHARS  # checked here before any work, with a sentence for the page
NOTE_NAMES = ("C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B")
# What each export is for, in the order the page lists them.
LYRICS_FORMAT_LABELS = {
    "lrc": ("LRC", "Synced lyrics for music players and DJ software"),
    "srt": ("SRT", "Subtitles for video editors"),
    "vtt": ("VTT", "Web captions (WebVTT)"),
    "json": ("JSON", "Every word with its start and end time"),
    "txt": ("TXT", "The plain text"),
}
OPTION_LABELS = {
    "onset_threshold": "Onset threshold",
    "frame_threshold": "Frame threshold",
    "min_note_ms": "Shortest note",
    "min_freq": "Lowest pitch",
    "max_freq": "Highest pitch",
    "monophonic": "One note at a time",
    "pitch_bends": "Pitch bends",
    "multiple_pitch_bends": "Bends per note",
}
SAVED = "Saved; word timings kept where words still match."


def _get_midi_for_user(request, clip_id) -> MidiClip:
    return get_object_or_404(MidiClip.objects.for_user(request.user).select_related("track", "stem"), pk=clip_id)


def _get_lyrics_for_user(request, lyrics_id) -> Lyrics:
    return get_object_or_404(Lyrics.objects.for_user(request.user).select_related("track", "stem"), pk=lyrics_id)


@require_GET
def midi_file(request, clip_id):
    clip = _get_midi_for_user(request, clip_id)
    name = f"{clip.track.display_title} - {clip.source_label}.mid"
    return serve_file(request, clip.file.name, download_name=name)


@require_GET
def lyrics_export(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    fmt = request.GET.get("format", "lrc")
    if fmt not in LYRICS_FORMATS:
        return HttpResponseBadRequest(f"Unknown format “{fmt}”. Choose one of: {', '.join(LYRICS_FORMATS)}.")
    return lyrics_response(lyrics, fmt)


# --- shared ------------------------------------------------------------------------------------------


def _audio_for(obj):
    """(url, label) of what the page plays: the stem the clip or lyrics came from, else the track's mix."""
    if obj.stem_id:
        return reverse("library:stem_audio", args=[obj.stem_id]), f"{obj.stem.display_name} stem"
    return reverse("library:track_audio", args=[obj.track_id]), "Full mix"


def note_name(pitch: int) -> str:
    """60 -> "C4" (scientific pitch notation, as most DAWs label middle C)."""
    return f"{NOTE_NAMES[int(pitch) % 12]}{int(pitch) // 12 - 1}"


def _sentence(text: str) -> str:
    """ "no vocals were found: …" (an engine's note or error) -> "No vocals were found: …." for the page."""
    text = text.strip() or "That did not work."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _deleted_response(request, track, message):
    messages.success(request, message)
    url = reverse("library:track", args=[track.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- MIDI --------------------------------------------------------------------------------------------


def _option_rows(clip):
    rows = []
    for key, value in (clip.params or {}).items():
        if key == "quantise":
            continue
        label = OPTION_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, bool):
            shown = "on" if value else "off"
        elif value is None or value == "":
            shown = "no limit"
        elif key in ("min_freq", "max_freq"):
            shown = f"{float(value):g} Hz"
        elif key == "min_note_ms":
            shown = f"{float(value):g} ms"
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
        rows.append((label, shown))
    return rows


@require_GET
def midi_page(request, clip_id):
    clip = _get_midi_for_user(request, clip_id)
    track = clip.track
    notes = [list(n) for n in clip.notes or [] if isinstance(n, list | tuple) and len(n) >= 4]
    audio_url, audio_label = _audio_for(clip)
    length = max([float(n[1]) for n in notes] + [0.0])
    duration = (clip.stem.duration if clip.stem_id else None) or track.duration or length
    pitches = [int(n[2]) for n in notes]
    config = {
        "bpm": clip.bpm or DEFAULT_BPM,
        "bpmDetected": clip.bpm is not None,
        "duration": max(float(duration or 0), length),
        "source": clip.source,
        "label": clip.source_label,
    }
    context = {
        "clip": clip,
        "track": track,
        "notes": notes,
        "roll_config": config,
        "audio_url": audio_url,
        "audio_label": audio_label,
        "duration": config["duration"],
        "bpm": clip.bpm,
        "default_bpm": DEFAULT_BPM,
        "low_note": note_name(min(pitches)) if pitches else None,
        "high_note": note_name(max(pitches)) if pitches else None,
        "options": _option_rows(clip),
        "preset_label": clip.preset.replace("_", " ").capitalize(),
    }
    return render(request, "library/midi.html", context)


@require_http_methods(["GET", "POST"])
def midi_delete(request, clip_id):
    """GET asks first (the page the link lands on without JavaScript); POST deletes and goes to the track."""
    clip = _get_midi_for_user(request, clip_id)
    track = clip.track
    if request.method == "GET":
        return render(
            request, "library/transcription/confirm_delete.html",
            {"kind": "midi", "obj": clip, "track": track, "label": f"{clip.source_label} MIDI",
             "action": reverse("library:midi_delete", args=[clip.pk]),
             "cancel": reverse("library:midi", args=[clip.pk])},
        )  # fmt: skip
    label = clip.source_label
    transcription_services.do_delete_midi(clip)
    return _deleted_response(request, track, f"Deleted the {label.lower()} MIDI clip.")


# --- lyrics ------------------------------------------------------------------------------------------


def _language_label(code: str) -> str:
    if not code:
        return ""
    try:
        from processing.engines import lyrics as engine

        name = engine.languages().get(code)
    except Exception:  # whisper's tables not installed: the code alone says enough
        name = None
    return f"{name} ({code})" if name else code


def _lines(lyrics):
    """The lines as the page shows them, read (and ordered) by the engine; ([], reason) when unreadable."""
    from processing.engines import lyrics as engine

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
    return render(request, "library/lyrics.html", _lyrics_context(request, lyrics))


def _panel_response(request, lyrics, *, status=200, **extra):
    """htmx: the karaoke panel (and the facts, out of band); otherwise the whole page."""
    context = _lyrics_context(request, lyrics, **extra)
    if request.htmx:
        return render(request, "library/lyrics.html#panel", {**context, "oob": True}, status=status)
    return render(request, "library/lyrics.html", context, status=status)


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
            transcription_services.do_edit_lyrics(lyrics, text)
        except ValueError as exc:
            error = _sentence(str(exc))
    if error:
        lyrics.refresh_from_db()
        # The page keeps what was typed (within reason), so nothing is lost to a mistake.
        typed = (text or "")[: MAX_LYRICS_CHARS * 2]
        return _panel_response(request, lyrics, status=400, edit_error=error, editing=True, text=typed)
    if not request.htmx:
        messages.success(request, SAVED)
        return redirect("library:lyrics", lyrics.pk)
    return _panel_response(request, lyrics, notice=SAVED)


@require_POST
def lyrics_revert(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    if lyrics.edited:
        transcription_services.do_revert_lyrics(lyrics)
        notice = "Reverted to Whisper’s version."
    else:
        notice = "These are Whisper’s lyrics already: nothing to revert."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("library:lyrics", lyrics.pk)
    return _panel_response(request, lyrics, notice=notice)


@require_http_methods(["GET", "POST"])
def lyrics_delete(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    track = lyrics.track
    if request.method == "GET":
        return render(
            request, "library/transcription/confirm_delete.html",
            {"kind": "lyrics", "obj": lyrics, "track": track, "label": "the lyrics",
             "action": reverse("library:lyrics_delete", args=[lyrics.pk]),
             "cancel": reverse("library:lyrics", args=[lyrics.pk])},
        )  # fmt: skip
    transcription_services.do_delete_lyrics(lyrics)
    return _deleted_response(request, track, f"Deleted the lyrics of “{track.display_title}”.")
