"""MIDI clips: the notes Basic Pitch found in a track or a stem, with the .mid file."""

import uuid

from django.conf import settings
from django.db import models

from core.models import OwnedQuerySet, object_url
from stems.models import Stem
from tracks.models import Track, track_storage_prefix


def midi_upload_to(clip, filename):
    return f"{track_storage_prefix(clip.track)}/midi/{clip.pk}.mid"


class MidiClip(models.Model):
    """Notes transcribed from a track or one of its stems by Basic Pitch, and the MIDI file made from them.

    `notes` holds [start s, end s, MIDI pitch, velocity] rows in time order (the piano roll draws them); the file
    carries the track's tempo. Transcribing the same source again replaces its clip.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="midi_clips")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="midi_clips")
    stem = models.ForeignKey(Stem, null=True, blank=True, on_delete=models.CASCADE, related_name="midi_clips")
    source = models.CharField(max_length=30, help_text="The stem name, or 'mix' for the track.")
    preset = models.CharField(max_length=20)
    params = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)
    note_count = models.PositiveIntegerField(default=0)
    bpm = models.FloatField(null=True, blank=True, help_text="The tempo written into the file.")
    quantised = models.BooleanField(default=False)
    file = models.FileField(upload_to=midi_upload_to, max_length=500)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["track", "source"]
        indexes = [models.Index(fields=["track", "source"])]

    def __str__(self):
        return f"{self.track} · {self.source_label} MIDI"

    def get_absolute_url(self):
        return object_url("midi:midi", self.pk)

    @property
    def is_drums(self) -> bool:
        """A General MIDI drum part (audio.drum_midi), made from a drums stem or a drum loop."""
        return self.preset == "drums"

    @property
    def source_label(self):
        return "Full mix" if self.source == "mix" else self.source.replace("_", " ").capitalize()
