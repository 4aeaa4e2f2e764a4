"""A MIDI clip's page (the piano roll), its file, deletion, and MIDI requests from the track page."""

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audio import drum_midi
from audio.midi import DEFAULT_BPM
from core.media import serve_file
from midi import services as midi_services
from midi.models import MidiClip
from midi.services import do_request_midi
from stems.views import _audio_for, _deleted_response, _stem_from_post, _transcription_response
from tracks.views import _get_track_for_user

NOTE_NAMES = ("C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B")
OPTION_LABELS = {
    "onset_threshold": "Onset threshold",
    "frame_threshold": "Frame threshold",
    "min_note_ms": "Shortest note",
    "min_freq": "Lowest pitch",
    "max_freq": "Highest pitch",
    "monophonic": "One note at a time",
    "pitch_bends": "Pitch bends",
    "multiple_pitch_bends": "Bends per note",
    # drum parts (audio/drum_midi.py)
    "division": "Grid",
    "humanise": "Humanise",
    "keep": "Kept instruments",
    "sensitivity": "Onset sensitivity",
}
HIDDEN_OPTIONS = {"quantise", "seed"}  # quantise is said in the facts line; the seed only makes humanise repeatable


def _get_midi_for_user(request, clip_id) -> MidiClip:
    return get_object_or_404(MidiClip.objects.for_user(request.user).select_related("track", "stem"), pk=clip_id)


@require_GET
def midi_file(request, clip_id):
    clip = _get_midi_for_user(request, clip_id)
    name = f"{clip.track.display_title} - {clip.source_label}.mid"
    return serve_file(request, clip.file.name, download_name=name)


def note_name(pitch: int) -> str:
    """60 -> "C4" (scientific pitch notation, as most DAWs label middle C)."""
    return f"{NOTE_NAMES[int(pitch) % 12]}{int(pitch) // 12 - 1}"


# --- MIDI --------------------------------------------------------------------------------------------


def _option_rows(clip):
    rows = []
    for key, value in (clip.params or {}).items():
        if key in HIDDEN_OPTIONS:
            continue
        label = OPTION_LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, bool):
            shown = "on" if value else "off"
        elif key == "division":
            shown = f"1/{4 * int(value)} notes" if int(value) in (1, 2, 4, 8, 16) else f"{int(value)} steps a beat"
        elif isinstance(value, list):
            shown = ", ".join(drum_midi.CLASS_LABELS.get(v, str(v)) for v in value)
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
    held = set(pitches)
    config = {
        "bpm": clip.bpm or DEFAULT_BPM,
        "bpmDetected": clip.bpm is not None,
        "duration": max(float(duration or 0), length),
        "source": clip.source,
        "label": clip.source_label,
        # A drum part: the roll shows one named lane per drum note it holds (General MIDI channel 10), top to
        # bottom as a DAW's drum editor lists them, instead of a keyboard.
        "drums": clip.is_drums,
        "lanes": [[pitch, name] for pitch, name in drum_midi.LANES if pitch in held] if clip.is_drums else [],
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
    return render(request, "midi/midi.html", context)


@require_http_methods(["GET", "POST"])
def midi_delete(request, clip_id):
    """GET asks first (the page the link lands on without JavaScript); POST deletes and goes to the track."""
    clip = _get_midi_for_user(request, clip_id)
    track = clip.track
    if request.method == "GET":
        return render(
            request, "includes/confirm_delete_output.html",
            {"kind": "midi", "obj": clip, "track": track, "label": f"{clip.source_label} MIDI",
             "action": reverse("midi:midi_delete", args=[clip.pk]),
             "cancel": reverse("midi:midi", args=[clip.pk])},
        )  # fmt: skip
    label = clip.source_label
    midi_services.do_delete_midi(clip)
    return _deleted_response(request, track, f"Deleted the {label.lower()} MIDI clip.")


@require_POST
def track_midi(request, track_id):
    """Audio to MIDI of one stem (POST "stem") or the full mix, optionally quantised to the beat grid."""

    track = _get_track_for_user(request, track_id)
    stem = None
    try:
        stem = _stem_from_post(request, track)
        options = {"quantise": bool(request.POST.get("quantise"))}
        if request.POST.get("drums"):  # a drum loop uploaded as a track (a drums stem is always drums)
            options["drums"] = True
        do_request_midi(track, stem=stem, options=options)
        error = None
    except ValueError as exc:
        error = str(exc)
    what = stem.display_name if stem else "the full mix"
    return _transcription_response(
        request, track, stem=stem, error=error, queued=f"Finding the notes of {what}: the MIDI clip appears under MIDI."
    )
