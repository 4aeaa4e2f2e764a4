"""The MIDI steps: Basic Pitch (ONNX) over a stem or the mix, decoded with the source's preset; and drums to MIDI
(audio.drum_midi: the slicer's onsets and the sample classifier) over a drums stem or a drum loop. Both are
written as a MIDI file at the track's detected tempo and stored with their note events for the piano roll."""

import tempfile
from pathlib import Path

from django.conf import settings

from audio import audio_io, drum_midi, midi
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


DRUM_SAMPLE_RATE = 44100  # the rate the onset detector and the classifier were tuned at


@job_kind("drum_midi", label="Drums to MIDI", queue="cpu", time_limit_s=1800, permanent=PERMANENT_ERRORS)
def drum_midi_job(job) -> None:
    (track, stem), params = job_source(job), dict(job.params)
    name = stem.file.name if stem else track.original.name
    jobs.report(job.pk, 0.02, "Reading audio", model_name="stemcrate-drums", device="cpu")
    with local_path(name, suffix=Path(name).suffix) as path:
        samples, rate = audio_io.decode(path, sample_rate=DRUM_SAMPLE_RATE)
    jobs.report(job.pk, 0.15, "Finding and naming the hits")
    notes = drum_midi.transcribe(samples, rate, bpm=track.bpm, beats=track.beats or None, options=params)
    del samples
    jobs.report(job.pk, 0.93, f"Writing {len(notes)} drum notes")
    label = f"{track.display_title} - {stem.display_name if stem else 'Drums'}"
    data = drum_midi.to_midi_bytes(notes, bpm=track.bpm, name=label)
    with tempfile.NamedTemporaryFile(suffix=".mid", prefix="stemcrate-") as fh:
        fh.write(data)
        fh.flush()
        midi_services.do_store_midi(
            track, stem=stem, source=stem.name if stem else "drums", job=job, preset="drums", params=job.params,
            notes=[[n.start, round(n.start + drum_midi.NOTE_LENGTH, 4), n.pitch, n.velocity] for n in notes],
            midi_path=fh.name, bpm=track.bpm, quantised=params.get("quantise", 0) > 0,
        )  # fmt: skip
