"""The lyrics step: Whisper over the vocal stem (or a track without stems), stored with word timings."""

from pathlib import Path

from django.conf import settings

from audio import audio_io, lyrics, weights
from core.storage import local_path
from jobs import services as jobs
from jobs.registry import job_kind
from lyrics import services as lyrics_services
from stems.services import job_source

PERMANENT_ERRORS = (
    audio_io.AudioError,
    weights.ModelNotInstalled,
    weights.ModelLoadError,
    weights.DeviceUnavailable,
    ValueError,
)


@job_kind("lyrics", label="Lyrics transcription", queue="gpu", time_limit_s=3 * 3600, permanent=PERMANENT_ERRORS)
def lyrics_job(job) -> None:
    (track, stem), params = job_source(job), job.params
    backend = params.get("backend") or settings.LYRICS_BACKEND  # jobs queued before there were two backends
    device = weights.pick_device(settings.STEMCRATE_DEVICE)
    jobs.report(job.pk, 0.02, "Reading audio", device=device, model_name=params["model"])
    name = stem.file.name if stem else track.original.name
    with local_path(name, suffix=Path(name).suffix) as path:
        samples, rate = audio_io.decode(path, sample_rate=lyrics.WHISPER_SAMPLE_RATE, mono=True)

    def progress(fraction):
        jobs.report(job.pk, 0.1 + 0.85 * fraction, "Transcribing" if fraction > 0 else "Loading the model")

    extra = settings.FASTER_WHISPER_OPTIONS if backend == "faster-whisper" else settings.WHISPER_DECODE_OPTIONS
    result = lyrics.transcribe(
        samples,
        rate,
        model=params["model"],
        backend=backend,
        language=params.get("language"),
        vocal_activity=params.get("vocal_activity", True),
        silero_vad=params.get("silero_vad", False),
        progress=progress,
        model_dir=settings.MODEL_DIR,
        device=device,
        cpu_threads=settings.LYRICS_THREADS,
        whisper_options=extra or None,
    )
    jobs.report(job.pk, 0.97, "Saving")
    lyrics_services.do_store_lyrics(
        track, stem=stem, source=stem.name if stem else "mix", job=job, model_name=params["model"],
        language=result.language or "", params=params, data=result.to_dict(), text=lyrics.to_text(result),
        note=result.note,
    )  # fmt: skip
