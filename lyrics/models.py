"""Lyrics: the words Whisper heard in a track or a stem, with word timings, and the user's edit."""

import uuid

from django.conf import settings
from django.db import models

from core.models import OwnedQuerySet, object_url
from stems.models import Stem
from tracks.models import Track


class Lyrics(models.Model):
    """What Whisper heard in a vocal stem (or a track without stems), with word timings, as the user edited it.

    `data` is audio.lyrics.Lyrics.to_dict(): lines of words with start/end times. `edited` marks a
    user's edit (applied to `data`, timings kept); `original` keeps what Whisper produced.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lyrics")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="lyrics")
    stem = models.ForeignKey(Stem, null=True, blank=True, on_delete=models.CASCADE, related_name="lyrics")
    source = models.CharField(max_length=30)
    model_name = models.CharField(max_length=30)
    language = models.CharField(max_length=10, blank=True)
    params = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    original = models.JSONField(default=dict, blank=True)
    text = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why there are no words, when there are none.")
    edited = models.BooleanField(default=False)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["track", "-created_at"]
        verbose_name_plural = "lyrics"

    def __str__(self):
        return f"{self.track} · lyrics"

    def get_absolute_url(self):
        return object_url("lyrics:lyrics", self.pk)
