"""Samples: one-shots and chops cut from a track or a stem, with what the tagger made of them."""

import uuid

from django.conf import settings
from django.db import models

from core.models import OwnedQuerySet, object_url
from stems.models import Stem
from tracks.models import Tag, Track, track_storage_prefix


def sample_upload_to(sample, filename):
    return f"{track_storage_prefix(sample.track)}/samples/{sample.pk}.wav"


class SampleCategory(models.TextChoices):
    # The classifier's categories (audio.tagging.CATEGORIES), in its order.
    KICK = "kick", "Kick"
    SNARE = "snare", "Snare"
    CLAP = "clap", "Clap"
    HIHAT_CLOSED = "hihat_closed", "Hi-hat closed"
    HIHAT_OPEN = "hihat_open", "Hi-hat open"
    CYMBAL = "cymbal", "Cymbal"
    TOM = "tom", "Tom"
    PERCUSSION = "percussion", "Percussion"
    BASS = "bass", "Bass"
    VOCAL = "vocal", "Vocal"
    KEYS = "keys", "Keys"
    GUITAR = "guitar", "Guitar"
    STRINGS = "strings", "Strings"
    BRASS_WIND = "brass_wind", "Brass/wind"
    SYNTH_LEAD = "synth_lead", "Synth lead"
    PAD = "pad", "Pad"
    FX_OTHER = "fx_other", "FX/other"


class Sample(models.Model):
    """A one-shot or chop cut from a track (its mix) or from one of its stems, with what the tagger made of it.

    `category` is what the user sees and filters by: the classifier's `predicted_category` until the user
    corrects it (`category_corrected`); a correction survives re-slicing the same source (matched by onset).
    """

    STORAGE_SIZE_FIELD = "size"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="samples")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="samples")
    stem = models.ForeignKey(Stem, null=True, blank=True, on_delete=models.CASCADE, related_name="samples")
    source = models.CharField(max_length=30, help_text="The stem name it was cut from, or 'mix' for the track.")
    index = models.PositiveIntegerField(default=0, help_text="Its position among the source's samples.")
    start = models.FloatField(help_text="Seconds into the source where the sample begins (its pre-roll).")
    end = models.FloatField()
    onset = models.FloatField(help_text="Seconds into the source of the transient.")
    duration = models.FloatField()
    file = models.FileField(upload_to=sample_upload_to, max_length=500)
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField(default=2)
    size = models.BigIntegerField(default=0)
    peaks = models.JSONField(default=list, blank=True)
    peak_db = models.FloatField()
    loudness = models.FloatField(help_text="BS.1770 K-weighted loudness (ungated), LUFS-like.")
    gain_db = models.FloatField(default=0.0, help_text="Gain applied by peak normalisation.")
    note = models.CharField(max_length=4, blank=True, help_text="Detected pitch, e.g. A2; blank when unpitched.")
    pitch_confidence = models.FloatField(default=0.0)
    category = models.CharField(max_length=20, choices=SampleCategory.choices)
    predicted_category = models.CharField(max_length=20, choices=SampleCategory.choices)
    confidence = models.FloatField(help_text="The classifier's probability for predicted_category.")
    category_corrected = models.BooleanField(default=False)
    embedding = models.BinaryField(help_text="64 float32 values, unit norm: cosine similarity is a dot product.")
    favourite = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="samples")
    collections = models.ManyToManyField("tracks.Collection", blank=True, related_name="samples")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A sample saved from the editor: the edit it renders (audio.sample_edit) and the sample it was made from.
    # Edits are the person's own work, so re-slicing the source (which replaces its sliced samples) keeps them.
    edit = models.JSONField(null=True, blank=True, help_text="The edit rendered into this sample; null: as sliced.")
    edited_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="edits")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["track", "source", "index"]
        indexes = [
            models.Index(fields=["owner", "category"]),
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "favourite"]),
            models.Index(fields=["track", "source"]),
        ]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return object_url("samples:sample", self.pk)

    @property
    def category_label(self):
        return SampleCategory(self.category).label if self.category else ""

    @property
    def display_name(self):
        name = f"{self.category_label} {self.index + 1:02d}"
        if self.edit is not None:
            name += " edit"
        return f"{name} · {self.note}" if self.note else name

    @property
    def source_label(self):
        return "Full mix" if self.source == "mix" else self.source.replace("_", " ").capitalize()
