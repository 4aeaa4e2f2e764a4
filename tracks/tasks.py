"""The analysis step: read a stored track, run the pure engines, store what they found."""

import contextlib
import os
import tempfile

from django.conf import settings

from audio import analysis, audio_io
from core.storage import local_path
from jobs import services as jobs
from jobs.registry import job_kind
from tracks import services as tracks_services


@job_kind("analyse", label="Analysis", queue="cpu", time_limit_s=45 * 60, permanent=(audio_io.AudioError,))
def analyse_job(job) -> None:
    """Analyse the job's track. The track's own status mirrors the job, so pages show it without a join."""
    track_id = job.subject_id
    track = tracks_services.do_mark_track_analysing(track_id)
    if track is None:
        return  # deleted meanwhile, or already analysed by an earlier delivery
    try:
        jobs.report(job.pk, 0.05, "Reading audio")
        with local_path(track.original.name, suffix=f".{track.format}") as path:
            info = audio_io.probe(path)
            jobs.report(job.pk, 0.15, "Detecting tempo, key and loudness")
            results = analysis.analyse_file(path, max_seconds=settings.UPLOAD_MAX_DURATION)
            preview = None
            if not info.browser_playable:
                jobs.report(job.pk, 0.8, "Making a browser preview")
                preview = _make_preview(path)
            try:
                jobs.report(job.pk, 0.95, "Saving")
                tracks_services.do_store_analysis(track, results, preview)
            finally:
                if preview:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(preview)
    except jobs.JobCancelled:
        tracks_services.do_mark_track_failed(track_id, "Analysis was cancelled. Run it again from the track page.")
        raise
    except (jobs.TransientJobError, OSError):
        tracks_services.do_mark_track_pending(track_id)  # the job system retries it
        raise
    except audio_io.AudioError as exc:
        tracks_services.do_mark_track_failed(track_id, str(exc))
        raise
    except Exception as exc:
        tracks_services.do_mark_track_failed(
            track_id, f"Analysis failed unexpectedly ({type(exc).__name__}). Try again; if it fails again, report it."
        )
        raise


def _make_preview(path: str) -> str:
    fd, out = tempfile.mkstemp(suffix=".mp3", prefix="stemcrate-preview-")
    os.close(fd)
    try:
        audio_io.transcode(path, out, codec="mp3", bitrate="192k")
    except BaseException:
        os.unlink(out)
        raise
    return out
