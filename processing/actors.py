"""Dramatiq actors. Thin: a message carries a job id; the job system claims it and calls the step."""

import dramatiq

from . import jobs, services
from .engines.audio_io import AudioError

# Diagnostics need no retries: a lost ping is exactly what they are there to reveal.
PING_OPTIONS = {"max_retries": 0, "time_limit": 30_000}
# Retries are the job system's (state in the database, see jobs.run), not Dramatiq's.
JOB_OPTIONS = {"max_retries": 0}


@dramatiq.actor(queue_name="cpu", **PING_OPTIONS)
def ping_cpu(ping_id: str):
    services.do_handle_ping(ping_id)


@dramatiq.actor(queue_name="gpu", **PING_OPTIONS)
def ping_gpu(ping_id: str):
    services.do_handle_ping(ping_id)


PING_ACTORS = {"cpu": ping_cpu, "gpu": ping_gpu}


@dramatiq.actor(queue_name="cpu", time_limit=45 * 60_000, **JOB_OPTIONS)
def analyse(job_id: str):
    from .analysis_task import analyse_job

    jobs.run(job_id, analyse_job, permanent=(AudioError,))


JOB_ACTORS = {"analyse": analyse}


@dramatiq.actor(queue_name="gpu", time_limit=3 * 3600_000, **JOB_OPTIONS)
def separate(job_id: str):
    from .separation_task import PERMANENT_ERRORS, separate_job

    jobs.run(job_id, separate_job, permanent=PERMANENT_ERRORS)


JOB_ACTORS["separate"] = separate


@dramatiq.actor(queue_name="cpu", time_limit=60 * 60_000, **JOB_OPTIONS)
def slice_samples(job_id: str):
    from .slice_task import PERMANENT_ERRORS, slice_job

    jobs.run(job_id, slice_job, permanent=PERMANENT_ERRORS)


JOB_ACTORS["slice"] = slice_samples


@dramatiq.actor(queue_name="cpu", time_limit=60 * 60_000, **JOB_OPTIONS)
def midi(job_id: str):
    from .midi_task import PERMANENT_ERRORS, midi_job

    jobs.run(job_id, midi_job, permanent=PERMANENT_ERRORS)


JOB_ACTORS["midi"] = midi


@dramatiq.actor(queue_name="gpu", time_limit=3 * 3600_000, **JOB_OPTIONS)
def lyrics(job_id: str):
    from .lyrics_task import PERMANENT_ERRORS, lyrics_job

    jobs.run(job_id, lyrics_job, permanent=PERMANENT_ERRORS)


JOB_ACTORS["lyrics"] = lyrics


@dramatiq.actor(queue_name="cpu", time_limit=6 * 3600_000, **JOB_OPTIONS)
def export(job_id: str):
    from .export_task import PERMANENT_ERRORS, export_job

    jobs.run(job_id, export_job, permanent=PERMANENT_ERRORS)


JOB_ACTORS["export"] = export
