"""What a user owns. Every row has an owner; every lookup for a user goes through `for_user`."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models.functions import Lower

from core.models import OwnedQuerySet, object_url


def track_storage_prefix(track) -> str:
    """All of a track's files, original and derived, live under one prefix, so deleting it is one sweep."""
    return f"users/{track.owner_id}/tracks/{track.pk}"


def original_upload_to(track, filename):
    # The user's file name is never used as a path: only its (already validated) format is.
    return f"{track_storage_prefix(track)}/original.{track.format or 'bin'}"


def preview_upload_to(track, filename):
    return f"{track_storage_prefix(track)}/preview.mp3"


class Tag(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), "owner", name="unique_tag_name_per_owner")]

    def __str__(self):
        return self.name


class Track(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for analysis"
        ANALYSING = "analysing", "Analysing"
        READY = "ready", "Ready"
        FAILED = "failed", "Analysis failed"

    STORAGE_SIZE_FIELD = "size"  # core.quotas counts it
    RATE_LIMIT = ("upload", "created_at")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracks")
    # Their jobs go when they go (the job system's subject is generic, so it cannot cascade by itself).
    jobs = GenericRelation("jobs.Job", content_type_field="subject_type", object_id_field="subject_id")
    title = models.CharField(max_length=300, blank=True)
    artist = models.CharField(max_length=300, blank=True)
    album = models.CharField(max_length=300, blank=True)

    # The upload, byte for byte as it arrived, and what decoding it told us.
    original = models.FileField(upload_to=original_upload_to, max_length=500)
    original_filename = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=10)
    codec = models.CharField(max_length=30, blank=True)
    duration = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bit_depth = models.PositiveSmallIntegerField(null=True, blank=True)
    bitrate = models.PositiveIntegerField(null=True, blank=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)

    # Filled in by the analysis job.
    bpm = models.FloatField(null=True, blank=True)
    beats = models.JSONField(default=list, blank=True)
    key = models.CharField(max_length=2, blank=True)
    scale = models.CharField(max_length=5, blank=True)
    loudness_lufs = models.FloatField(null=True, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    preview = models.FileField(upload_to=preview_upload_to, max_length=500, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)

    tags = models.ManyToManyField(Tag, blank=True, related_name="tracks")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"], name="unique_track_content_per_owner")]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["owner", "bpm"]),
            models.Index(fields=["owner", "key", "scale"]),
        ]

    def __str__(self):
        return self.display_title

    def get_absolute_url(self):
        return object_url("tracks:track", self.pk)

    @property
    def display_title(self):
        return self.title or self.original_filename or "Untitled"

    @property
    def key_label(self):
        return f"{self.key} {self.scale}" if self.key else ""

    @property
    def is_processing(self):
        return self.status in (self.Status.PENDING, self.Status.ANALYSING)

    @property
    def storage_prefix(self):
        return track_storage_prefix(self)


class Collection(models.Model):
    """A user's crate of tracks and samples."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    tracks = models.ManyToManyField(Track, blank=True, related_name="collections")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), "owner", name="unique_collection_name_per_owner")]

    def __str__(self):
        return self.name
