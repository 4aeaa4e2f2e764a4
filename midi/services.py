"""Writes for MIDI clips: request one, store what the job found, delete."""

from django.core.files import File
from django.db import transaction

from audio import drum_midi
from audio.midi import clean_options
from core.quotas import check_rate
from core.storage import delete_files_logged
from jobs.services import create_job
from midi.models import MidiClip
from stems.models import Stem
from stems.services import _check_still_there
from tracks.models import Track


def do_store_midi(
    track: Track, *, stem: Stem | None, source: str, job, preset: str, params: dict, notes: list, midi_path: str,
    bpm: float | None, quantised: bool,
) -> MidiClip:  # fmt: skip
    """Store a MIDI clip (notes as [start, end, pitch, velocity] rows, and the .mid file), replacing the source's
    earlier clip."""
    clip = MidiClip(
        owner=track.owner, track=track, stem=stem, source=source, preset=preset, params=params, notes=notes,
        note_count=len(notes), bpm=bpm, quantised=quantised, job=job,
    )  # fmt: skip
    with open(midi_path, "rb") as fh:
        clip.file.save("clip.mid", File(fh), save=False)
    try:
        with transaction.atomic():
            _check_still_there(track, stem)
            old = list(MidiClip.objects.filter(track=track, stem=stem, source=source))
            MidiClip.objects.filter(pk__in=[c.pk for c in old]).delete()
            clip.save()
            names = [c.file.name for c in old if c.file]
            transaction.on_commit(lambda: delete_files_logged(names))
    except BaseException:
        delete_files_logged([clip.file.name])
        raise
    return clip


def do_delete_midi(clip: MidiClip) -> None:
    name = clip.file.name
    with transaction.atomic():
        clip.delete()
        transaction.on_commit(lambda: delete_files_logged([name] if name else []))


def midi_preset_for(stem_name: str | None) -> str:
    """Basic Pitch preset for a stem: bass and vocals are monophonic lines, everything else polyphonic."""
    return stem_name if stem_name in ("bass", "vocals", "piano", "guitar", "other") else "mix"


DRUM_OPTIONS = ("drums", "quantise_strength", "humanise", "keep", "sensitivity")


def drum_midi_params(options: dict | None) -> dict:
    """The drum MIDI job's params from a request's options: `quantise` (on: full strength) or
    `quantise_strength` (0..1), `humanise`, `keep` (instrument classes), `sensitivity`. ValueError says what is
    wrong."""
    options = {k: v for k, v in dict(options or {}).items() if v is not None and k != "drums"}
    strength = options.pop("quantise_strength", None)
    quantise = options.pop("quantise", False)
    if isinstance(quantise, str):
        quantise = quantise.lower() in ("1", "true", "on", "yes")
    options["quantise"] = strength if strength is not None else (1.0 if quantise else 0.0)
    unknown = set(options) - {"quantise", "humanise", "keep", "sensitivity"}
    if unknown:
        raise ValueError(f"Drum MIDI does not take: {', '.join(sorted(unknown))}.")
    return drum_midi.clean_options(options)


def is_drum_request(stem, options: dict | None) -> bool:
    """A drums stem always becomes a drum part; any other source does when the request says `drums`."""
    drums = (options or {}).get("drums", False)
    if isinstance(drums, str):
        drums = drums.lower() in ("1", "true", "on", "yes")
    return bool(drums) or (stem is not None and stem.name == "drums")


def do_request_midi(track, *, stem=None, options: dict | None = None):
    """Queue an audio-to-MIDI conversion (cpu queue) of the track or one stem: Basic Pitch's ONNX model for
    pitched parts, or a General MIDI drum part (audio.drum_midi) from a drums stem or a drum loop."""

    if stem is not None and stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    if stem is None and track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; convert it once it is ready.")
    if is_drum_request(stem, options):
        params = drum_midi_params(options)
        check_rate(track.owner, "job")
        return create_job(track.owner, "drum_midi", subject=stem or track, params=params)
    options = {k: v for k, v in dict(options or {}).items() if k not in ("drums",)}
    quantise = options.pop("quantise", False)
    if isinstance(quantise, str):
        quantise = quantise.lower() in ("1", "true", "on", "yes")
    params = clean_options(midi_preset_for(stem.name if stem else None), options)
    params["quantise"] = bool(quantise)
    check_rate(track.owner, "job")
    return create_job(track.owner, "midi", subject=stem or track, params=params)
