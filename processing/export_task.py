"""The export step: build the ZIP on local disk (never in memory), then stream it into storage."""

import tempfile

from library import export as exporting
from library import export_services

from . import jobs
from .engines import audio_io

PERMANENT_ERRORS = (audio_io.AudioError, ValueError)


def export_job(job) -> None:
    export = job.export
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
