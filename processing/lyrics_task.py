"""The lyrics step: Whisper over the vocal stem (or a track without stems), stored with word timings."""

from pathlib import Path

from django.conf import settings

from library import transcription_services
from library.storage import local_path

from . import jobs
from .engines import audio_io, lyrics, weights

PERMANENT_ERRORS = (
    audio_io.AudioError,
    weights.ModelNotInstalled,
    weights.ModelLoadError,
    weights.DeviceUnavailable,
    ValueError,
)


def lyrics_job(job) -> None:
    track, stem, params = job.track, job.stem, job.params
    device = weights.pick_device(settings.STEMCRATE_DEVICE)
    jobs.report(job.pk, 0.02, "Reading audio", device=device, model_name=params["model"])
    name = stem.file.name if stem else track.original.name
    with local_path(name, suffix=Path(name).suffix) as path:
        samples, rate = audio_io.decode(path, sample_rate=lyrics.WHISPER_SAMPLE_RATE, mono=True)

    def progress(fraction):
        jobs.report(job.pk, 0.1 + 0.85 * fraction, "Transcribing" if fraction > 0 else "Loading the model")

    result = lyrics.transcribe(
        samples,
        rate,
        model=params["model"],
        language=params.get("language"),
        vocal_activity=params.get("vocal_activity", True),
        progress=progress,
        model_dir=settings.MODEL_DIR,
        device=device,
        whisper_options=settings.WHISPER_DECODE_OPTIONS or None,
    )
    jobs.report(job.pk, 0.97, "Saving")
    transcription_services.do_store_lyrics(
        track, stem=stem, source=stem.name if stem else "mix", job=job, model_name=params["model"],
        language=result.language or "", params=params, data=result.to_dict(), text=lyrics.to_text(result),
        note=result.note,
    )  # fmt: skip
