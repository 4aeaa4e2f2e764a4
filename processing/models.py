import uuid

from django.conf import settings
from django.db import models


class QueuePing(models.Model):
    """A diagnostic round trip through the queue: the web side creates it, a worker stamps it.

    `python manage.py queue_ping` uses it to prove that each queue is consumed end to end, which a heartbeat
    alone cannot show (a worker can be alive yet unable to reach the database).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    queue = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        state = f"handled by {self.handled_by}" if self.handled_at else "waiting"
        return f"ping on {self.queue} ({state})"


class Job(models.Model):
    """One unit of background work. Its state lives here, not in the broker, so nothing is lost with Redis.

    A running job holds a lease (`lease_until`) that its worker renews while it works; a job whose lease
    lapsed belongs to a worker that died, and the sweeper re-queues it (or fails it after MAX_ATTEMPTS).
    """

    class Kind(models.TextChoices):
        ANALYSE = "analyse", "Analysis"
        SEPARATE = "separate", "Stem separation"
        SLICE = "slice", "Slicing and tagging"
        MIDI = "midi", "Audio to MIDI"
        LYRICS = "lyrics", "Lyrics transcription"
        EXPORT = "export", "Export"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    MAX_ATTEMPTS = 3

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    track = models.ForeignKey("library.Track", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    stem = models.ForeignKey("library.Stem", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=10, default="cpu")
    pipeline = models.ForeignKey("Pipeline", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    export = models.ForeignKey("library.Export", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    step = models.CharField(max_length=30, blank=True, help_text="Its step in the pipeline, e.g. slice:drums.")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True, help_text="What the user sees.")
    traceback = models.TextField(blank=True, help_text="For admins only.")
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    worker = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=20, blank=True)
    model_name = models.CharField(max_length=50, blank=True)
    model_version = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["owner", "-queued_at"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["track", "kind"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Pipeline(models.Model):
    """ "Process everything" on one track: analyse, separate, then slice, MIDI and lyrics on the stems.

    Each step is a Job (job.pipeline, job.step); processing.pipeline.advance() starts the steps whose inputs are
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipelines")
    track = models.ForeignKey("library.Track", on_delete=models.CASCADE, related_name="pipelines")
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
