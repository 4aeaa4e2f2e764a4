"""Pipelines: "Process everything" as a run of jobs, and which job is which step."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F

from jobs.models import Job


class Pipeline(models.Model):
    """ "Process everything" on one track: analyse, separate, then slice, MIDI and lyrics on the stems.

    Each step is a Job linked by a PipelineStep; pipelines.services.advance() starts the steps whose inputs are
    ready whenever one of them ends, so independent steps run in parallel on their queues and a failed step
    only skips the steps that need its output.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        PARTIAL = "partial", "Done, with failures"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    STEPS = ("analyse", "separate", "slice", "midi", "lyrics")

    RATE_LIMIT = ("job", "created_at")  # a pipeline counts once; the jobs of its steps do not

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipelines")
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="pipelines")
    steps = models.JSONField(default=list, help_text="The steps asked for, in STEPS order.")
    options = models.JSONField(default=dict, blank=True, help_text="Per step: separate, slice, midi, lyrics options.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    skipped = models.JSONField(default=dict, blank=True, help_text="Steps that could not run, and why.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["track", "-created_at"])]

    def __str__(self):
        return f"Pipeline for {self.track} ({self.get_status_display()})"

    @property
    def is_active(self):
        return self.status == self.Status.RUNNING

    @property
    def jobs(self):
        """The jobs of its steps, each with `.step` (e.g. "slice:drums")."""
        return Job.objects.filter(pipeline_step__pipeline=self).annotate(step=F("pipeline_step__step"))

    def step_jobs(self) -> list:
        """The same as a list in the order they were queued, from `prefetch_related(STEP_JOBS)` when the
        queryset had it (no query per pipeline in a list)."""
        if "step_links" in getattr(self, "_prefetched_objects_cache", {}):
            jobs = []
            for link in self.step_links.all():
                link.job.step = link.step
                jobs.append(link.job)
            return sorted(jobs, key=lambda job: job.queued_at)
        return list(self.jobs.order_by("queued_at"))


class PipelineStep(models.Model):
    """Which job is which step of a pipeline. The link lives here, so the job system knows nothing of pipelines."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="step_links")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="pipeline_step")
    step = models.CharField(max_length=30, help_text="e.g. slice:drums")

    def __str__(self):
        return f"{self.step} of {self.pipeline_id}"


# prefetch_related(STEP_JOBS) on a Pipeline queryset: the jobs of each one's steps, in one more query.
STEP_JOBS = models.Prefetch("step_links", queryset=PipelineStep.objects.select_related("job").defer("job__traceback"))
