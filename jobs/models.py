"""The job system's state: jobs (their kind, subject, progress and lease) and diagnostic queue pings."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from jobs import registry


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


class JobQuerySet(models.QuerySet):
    def about(self, *subjects):
        """Jobs whose subject is one of these: model instances, or querysets (any of their rows, in one query)."""
        query = models.Q(pk__in=[])
        for subject in subjects:
            if isinstance(subject, models.QuerySet):
                ct = ContentType.objects.get_for_model(subject.model)
                query |= models.Q(subject_type=ct, subject_id__in=subject.values("pk"))
            else:
                ct = ContentType.objects.get_for_model(subject)
                query |= models.Q(subject_type=ct, subject_id=subject.pk)
        return self.filter(query)

    def rate_counted(self):
        return self.filter(counted=True)


class Job(models.Model):
    """One unit of background work. Its state lives here, not in the broker, so nothing is lost with Redis.

    A running job holds a lease (`lease_until`) that its worker renews while it works; a job whose lease
    lapsed belongs to a worker that died, and the sweeper re-queues it (or fails it after MAX_ATTEMPTS).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    MAX_ATTEMPTS = 3
    RATE_LIMIT = ("job", "queued_at")  # core.quotas: jobs a user asked for count toward the hourly limit

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, help_text="A registered job kind (jobs.registry).")
    # What the job works on (a track, a stem, an export...): generic, so the job system knows no feature.
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject_id = models.UUIDField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    params = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=10, default="cpu")
    counted = models.BooleanField(
        default=True, help_text="Counts toward the user's hourly job limit: not the steps of a larger request."
    )

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

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["owner", "-queued_at"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["subject_type", "subject_id", "kind"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    def get_kind_display(self):
        return registry.label(self.kind)

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
