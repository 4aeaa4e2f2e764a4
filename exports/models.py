"""Exports: a ZIP of tracks, stems, samples, MIDI and lyrics, built by a job."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from core.models import OwnedQuerySet, object_url
from tracks.models import Collection, Track


def export_upload_to(export, filename):
    return f"users/{export.owner_id}/exports/{export.pk}.zip"


class Export(models.Model):
    """A ZIP of a track (with its stems, samples, MIDI and lyrics), a collection, the favourites or the library,
    built by a background job. The file lives under the owner's exports folder until the export is deleted."""

    class Scope(models.TextChoices):
        TRACK = "track", "Track"
        TRACKS = "tracks", "Selected tracks"
        COLLECTION = "collection", "Collection"
        FAVOURITES = "favourites", "Favourite samples"
        LIBRARY = "library", "Whole library"

    STORAGE_SIZE_FIELD = "size"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    # Their jobs go when they go (the job system's subject is generic, so it cannot cascade by itself).
    jobs = GenericRelation("jobs.Job", content_type_field="subject_type", object_id_field="subject_id")
    scope = models.CharField(max_length=12, choices=Scope.choices)
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    collection = models.ForeignKey(Collection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    track_ids = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=200)
    options = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to=export_upload_to, max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return object_url("exports:export", self.pk)

    @property
    def is_ready(self):
        return bool(self.file)
