"""The slicing step: cut a track's mix or one stem into samples, tag each one, store them.

The engines do the work (slicing: onsets, cuts, fades; tagging: category and embedding); this module reads the
source, reports progress and hands files to samples.services, which stores the run atomically.
"""

import tempfile
from pathlib import Path

import numpy as np

from audio import analysis, audio_io, sample_edit, slicing, tagging
from audio.slice_options import MAX_SAMPLES, strategy_for
from core.storage import local_path
from jobs import services as jobs
from jobs.registry import job_kind
from samples import services as sample_services
from samples.models import Sample
from stems.services import job_source

PERMANENT_ERRORS = (audio_io.AudioError, tagging.ModelMissing, ValueError)
PEAK_BUCKETS = 48  # a waveform thumbnail in the sample browser


def source_file(job):
    """(stored name, format suffix, stem or None, strategy) of what the job slices."""
    track, stem = job_source(job)
    if stem is not None:
        return stem.file.name, Path(stem.file.name).suffix, stem, strategy_for(stem.name)
    return track.original.name, f".{track.format}", None, "mix"


@job_kind("slice", label="Slicing and tagging", queue="cpu", time_limit_s=3600, permanent=PERMANENT_ERRORS)
def slice_job(job) -> None:
    track, _stem = job_source(job)
    params = job.params
    name, suffix, stem, strategy = source_file(job)
    jobs.report(job.pk, 0.02, "Reading audio")
    with local_path(name, suffix=suffix) as path:
        samples, sample_rate = audio_io.decode(path)
    jobs.report(job.pk, 0.1, "Finding onsets")
    curve = slicing.onset_curve(samples, sample_rate, source=strategy, silence_db=params["silence_db"])
    onsets = slicing.pick(
        curve, params["sensitivity"], min_length=params["min_length"], silence_db=params["silence_db"]
    )
    if len(onsets) > MAX_SAMPLES:
        raise ValueError(
            f"Sensitivity {params['sensitivity']:g} finds {len(onsets)} onsets, more than the {MAX_SAMPLES} "
            "samples one run may make. Lower the sensitivity or raise the minimum length."
        )
    jobs.report(job.pk, 0.25, f"Cutting {len(onsets)} samples")
    cuts = slicing.slice_audio(
        samples,
        sample_rate,
        source=strategy,
        min_length=params["min_length"],
        max_length=params["max_length"],
        silence_db=params["silence_db"],
        normalise=params["normalise"],
        curve=curve,
        onsets=onsets,
    )
    del samples
    model = tagging.load_model()
    with tempfile.TemporaryDirectory(prefix="stemcrate-samples-") as out_dir:
        described = []
        for position, cut in enumerate(cuts):
            if position % 16 == 0:
                jobs.report(job.pk, 0.3 + 0.6 * position / max(1, len(cuts)), f"Tagging sample {position + 1}")
            described.append(_describe(cut, position, strategy, model, Path(out_dir)))
        jobs.report(job.pk, 0.92, f"Saving {len(described)} samples")
        sample_services.do_store_samples(track, stem=stem, source=stem.name if stem else "mix", job=job,
                                         samples=described)  # fmt: skip


def _describe(cut: slicing.Slice, position: int, strategy: str, model, out_dir: Path) -> dict:
    prediction = tagging.classify(cut.samples, cut.sample_rate, source=strategy, model=model)
    note, pitch_confidence = None, 0.0
    if prediction.group == "pitched":
        note, pitch_confidence = slicing.estimate_pitch(cut.samples, cut.sample_rate)
    path = out_dir / f"{position:05d}.wav"
    audio_io.write_wav(path, cut.samples, cut.sample_rate, bit_depth=24)
    return {
        "path": str(path),
        "index": position,
        "start": cut.start,
        "end": cut.end,
        "onset": cut.onset,
        "duration": cut.duration,
        "sample_rate": cut.sample_rate,
        "channels": cut.samples.shape[0],
        "peaks": analysis.waveform_peaks(cut.samples, PEAK_BUCKETS),
        "peak_db": max(-200.0, cut.peak_db),
        "loudness": max(-200.0, cut.loudness),
        "gain_db": cut.gain_db,
        "note": note,
        "pitch_confidence": round(float(pitch_confidence), 3),
        "category": prediction.category,
        "confidence": round(prediction.confidence, 4),
        "embedding": np.asarray(prediction.embedding, dtype="<f4").tobytes(),
    }


@job_kind("edit_sample", label="Sample edit", queue="cpu", time_limit_s=600, permanent=PERMANENT_ERRORS)
def edit_sample_job(job) -> None:
    """Render an editor's edit of a sample as a new, lossless sample (24-bit WAV); the original stays."""
    original = Sample.objects.select_related("track").get(pk=job.subject_id, owner_id=job.owner_id)
    jobs.report(job.pk, 0.05, "Reading the sample")
    with local_path(original.file.name, suffix=".wav") as path:
        samples, sample_rate = audio_io.decode(path)
    jobs.report(job.pk, 0.3, "Rendering the edit")
    edited, report = sample_edit.apply_edit(samples, sample_rate, job.params)
    note, pitch_confidence = None, 0.0
    if original.note:  # pitched: the note is measured again, as the pitch may have moved
        note, pitch_confidence = slicing.estimate_pitch(edited, sample_rate)
    level = max(-200.0, slicing.loudness(edited, sample_rate))
    with tempfile.TemporaryDirectory(prefix="stemcrate-edit-") as out_dir:
        path = Path(out_dir) / "edit.wav"
        audio_io.write_wav(path, edited, sample_rate, bit_depth=24)
        jobs.report(job.pk, 0.9, "Saving")
        sample_services.do_store_edited_sample(
            original, job=job, edit=job.params,
            info={
                "path": str(path), "duration": report["duration"], "sample_rate": sample_rate,
                "channels": edited.shape[0], "peaks": analysis.waveform_peaks(edited, PEAK_BUCKETS),
                "peak_db": max(-200.0, report["peak_db"]), "loudness": level,
                "gain_db": report["gain_db"], "note": note, "pitch_confidence": round(float(pitch_confidence), 3),
            },
        )  # fmt: skip
