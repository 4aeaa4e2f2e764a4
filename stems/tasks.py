"""The separation step: load the Demucs model (cached per worker), split the track, store the stems."""

import tempfile
from pathlib import Path

from django.conf import settings

from audio import analysis, audio_io, separation, weights
from core.storage import local_path
from jobs import services as jobs
from jobs.registry import job_kind
from stems import services as stems_services

# Failures no retry can fix: the user is told what to do.
PERMANENT_ERRORS = (
    audio_io.AudioError,
    weights.ModelNotInstalled,
    weights.ModelLoadError,
    weights.DeviceUnavailable,
    ValueError,
)


@job_kind("separate", label="Stem separation", queue="gpu", time_limit_s=3 * 3600, permanent=PERMANENT_ERRORS)
def separate_job(job) -> None:
    track = job.subject
    params = job.params
    device = weights.pick_device(settings.STEMCRATE_DEVICE)
    jobs.report(job.pk, 0.01, "Loading the model", device=device, model_name=params["model"])
    model = weights.get_model("demucs", params["model"], settings.MODEL_DIR, device)
    version = ",".join(weights.get_spec(params["model"], "demucs").signatures)
    jobs.report(job.pk, 0.05, "Reading audio", model_version=version[:50])
    with (
        local_path(track.original.name, suffix=f".{track.format}") as path,
        tempfile.TemporaryDirectory(prefix="stemcrate-stems-") as out_dir,
    ):

        def progress(fraction):
            jobs.report(job.pk, 0.05 + 0.8 * fraction, "Separating")

        outputs = separation.separate(
            path,
            model=model,
            device=device,
            shifts=params["shifts"],
            overlap=params["overlap"],
            segment=params["segment"],
            two_stems=params["two_stems"],
            progress=progress,
            out_dir=out_dir,
        )
        stems = []
        for index, (name, stem_path) in enumerate(outputs.items()):
            jobs.report(job.pk, 0.85 + 0.12 * index / len(outputs), f"Preparing {name} for playback")
            stems.append(_describe(name, Path(stem_path), Path(out_dir)))
        jobs.report(job.pk, 0.98, "Saving stems")
        stems_services.do_store_stems(
            track, job=job, model_name=params["model"], model_version=version, params=params, stems=stems
        )


def _describe(name: str, path: Path, out_dir: Path) -> dict:
    info = audio_io.probe(path)
    samples, _ = audio_io.decode(path)
    peaks = analysis.waveform_peaks(samples)
    del samples
    preview = out_dir / f"{name}.preview.mp3"
    audio_io.transcode(path, preview, codec="mp3", bitrate="192k")
    return {
        "name": name,
        "path": str(path),
        "preview_path": str(preview) if preview.exists() else None,
        "peaks": peaks,
        "duration": info.duration,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
    }
