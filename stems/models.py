"""Stem sets (one separation of a track: a model and its options) and their stems."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from core.models import OwnedQuerySet
from tracks.models import Track, track_storage_prefix


def stem_upload_to(stem, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "flac"
    return f"{track_storage_prefix(stem.track)}/stems/{stem.stem_set_id}/{stem.name}.{ext}"


def stem_preview_upload_to(stem, filename):
    return f"{track_storage_prefix(stem.track)}/stems/{stem.stem_set_id}/{stem.name}.preview.mp3"


class StemSet(models.Model):
    """One separation of a track: a model and its options. Separating with another model adds another set."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stem_sets")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="stem_sets")
    model_name = models.CharField(max_length=50)
    model_version = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # Same track, model and options -> same signature: a re-run replaces that set instead of adding one.
    signature = models.CharField(max_length=200)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["track", "signature"], name="unique_stem_set_per_options")]

    def __str__(self):
        return f"{self.track} · {self.label}"

    @property
    def label(self):
        extras = []
        if self.params.get("two_stems"):
            extras.append(f"{self.params['two_stems']} + no_{self.params['two_stems']}")
        if self.params.get("shifts", 1) not in (0, 1):
            extras.append(f"{self.params['shifts']} shifts")
        return self.model_name + (f" ({', '.join(extras)})" if extras else "")


class Stem(models.Model):
    STORAGE_SIZE_FIELD = "size"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stems")
    # Their jobs go when they go (the job system's subject is generic, so it cannot cascade by itself).
    jobs = GenericRelation("jobs.Job", content_type_field="subject_type", object_id_field="subject_id")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="stems")
    stem_set = models.ForeignKey(StemSet, on_delete=models.CASCADE, related_name="stems")
    name = models.CharField(max_length=30)
    file = models.FileField(upload_to=stem_upload_to, max_length=500)
    preview = models.FileField(upload_to=stem_preview_upload_to, max_length=500, blank=True)
    peaks = models.JSONField(default=list, blank=True)
    duration = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField(default=2)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    ORDER = ["vocals", "drums", "bass", "guitar", "piano", "other", "no_vocals"]

    class Meta:
        ordering = ["stem_set", "name"]
        constraints = [models.UniqueConstraint(fields=["stem_set", "name"], name="unique_stem_name_per_set")]

    def __str__(self):
        return f"{self.track} · {self.name}"

    def get_absolute_url(self):
        return f"{self.track.get_absolute_url()}#stems"

    @property
    def display_name(self):
        return "Instrumental" if self.name == "no_vocals" else self.name.replace("_", " ").capitalize()
