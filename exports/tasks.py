"""The export step: build the ZIP on local disk (never in memory), then stream it into storage."""

import tempfile

from audio import audio_io
from exports import build as exporting
from exports import services as export_services
from jobs import services as jobs
from jobs.registry import job_kind

PERMANENT_ERRORS = (audio_io.AudioError, ValueError)


@job_kind("export", label="Export", queue="cpu", time_limit_s=6 * 3600, permanent=PERMANENT_ERRORS)
def export_job(job) -> None:
    export = job.subject
    tracks, samples = exporting.export_sources(export)

    def progress(fraction, stage):
        jobs.report(job.pk, 0.02 + 0.9 * fraction, stage)

    jobs.report(job.pk, 0.01, "Collecting files")
    with tempfile.NamedTemporaryFile(suffix=".zip", prefix="stemcrate-export-") as fh:
        summary = exporting.write_export(
            fh, export.owner, tracks=tracks, samples=samples, options=export.options, progress=progress
        )
        fh.flush()
        jobs.report(job.pk, 0.95, "Saving the ZIP")
        export_services.do_store_export_file(export, fh.name, summary)
