"""The MIDI step: Basic Pitch (ONNX) over a stem or the mix, decoded with the source's preset, written as a
MIDI file at the track's detected tempo, and stored with its note events for the piano roll."""

import tempfile
from pathlib import Path

from django.conf import settings

from audio import audio_io, midi
from core.storage import local_path
from jobs import services as jobs
from jobs.registry import job_kind
from midi import services as midi_services
from midi.services import midi_preset_for
from stems.services import job_source

PERMANENT_ERRORS = (audio_io.AudioError, ValueError)
# General MIDI programs a DAW opens each line with: fingered bass, voice oohs, grand piano, nylon guitar, piano.
PROGRAMS = {"bass": 33, "vocals": 53, "piano": 0, "guitar": 24, "other": 0, "mix": 0}


@job_kind("midi", label="Audio to MIDI", queue="cpu", time_limit_s=3600, permanent=PERMANENT_ERRORS)
def midi_job(job) -> None:
    (track, stem), params = job_source(job), dict(job.params)
    quantise = params.pop("quantise", False)
    preset = midi_preset_for(stem.name if stem else None)
    name = stem.file.name if stem else track.original.name
    jobs.report(job.pk, 0.02, "Reading audio", model_name="basic-pitch", device="cpu")

    def progress(fraction):
        jobs.report(job.pk, 0.05 + 0.85 * fraction, "Finding notes")

    with local_path(name, suffix=Path(name).suffix) as path:
        result = midi.transcribe(
            path, source=preset, options=params, progress=progress, threads=settings.MIDI_THREADS or None
        )
    notes = result.notes
    if quantise:
        notes = midi.quantise(notes, track.bpm, track.beats or None)
    jobs.report(job.pk, 0.93, f"Writing {len(notes)} notes")
    label = f"{track.display_title} - {stem.display_name if stem else 'Mix'}"
    data = midi.to_midi_bytes(notes, bpm=track.bpm, beats=track.beats or None, program=PROGRAMS[preset], name=label)
    with tempfile.NamedTemporaryFile(suffix=".mid", prefix="stemcrate-") as fh:
        fh.write(data)
        fh.flush()
        midi_services.do_store_midi(
            track, stem=stem, source=stem.name if stem else "mix", job=job, preset=preset, params=job.params,
            notes=[[round(n.start, 4), round(n.end, 4), n.pitch, n.velocity] for n in notes], midi_path=fh.name,
            bpm=track.bpm, quantised=bool(quantise),
        )  # fmt: skip
