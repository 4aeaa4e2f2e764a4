"""What a user owns. Every row has an owner; every lookup for a user goes through `for_user`."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class OwnedQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(owner=user)


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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracks")
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
        return object_url("library:track", self.pk)

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


_URL_TEMPLATES = {}


def object_url(name, pk):
    """reverse() once per URL name, then fill in the id: list pages and API lists link every row."""
    if name not in _URL_TEMPLATES:
        from django.urls import reverse

        _URL_TEMPLATES[name] = reverse(name, args=[uuid.UUID(int=0)])
    return _URL_TEMPLATES[name].replace(str(uuid.UUID(int=0)), str(pk))


class Collection(models.Model):
    """A user's crate of tracks and samples."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    tracks = models.ManyToManyField(Track, blank=True, related_name="collections")
    samples = models.ManyToManyField("Sample", blank=True, related_name="collections")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), "owner", name="unique_collection_name_per_owner")]

    def __str__(self):
        return self.name


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
    job = models.ForeignKey("processing.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
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
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stems")
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

    @property
    def display_name(self):
        return "Instrumental" if self.name == "no_vocals" else self.name.replace("_", " ").capitalize()


def sample_upload_to(sample, filename):
    return f"{track_storage_prefix(sample.track)}/samples/{sample.pk}.wav"


class SampleCategory(models.TextChoices):
    # The classifier's categories (processing.engines.tagging.CATEGORIES), in its order.
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
    job = models.ForeignKey("processing.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
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
        return object_url("library:sample", self.pk)

    @property
    def category_label(self):
        return SampleCategory(self.category).label if self.category else ""

    @property
    def display_name(self):
        name = f"{self.category_label} {self.index + 1:02d}"
        return f"{name} · {self.note}" if self.note else name

    @property
    def source_label(self):
        return "Full mix" if self.source == "mix" else self.source.replace("_", " ").capitalize()


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
    job = models.ForeignKey("processing.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["track", "source"]
        indexes = [models.Index(fields=["track", "source"])]

    def __str__(self):
        return f"{self.track} · {self.source_label} MIDI"

    def get_absolute_url(self):
        return object_url("library:midi", self.pk)

    @property
    def source_label(self):
        return "Full mix" if self.source == "mix" else self.source.replace("_", " ").capitalize()


class Lyrics(models.Model):
    """What Whisper heard in a vocal stem (or a track without stems), with word timings, as the user edited it.

    `data` is processing.engines.lyrics.Lyrics.to_dict(): lines of words with start/end times. `edited` marks a
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
    job = models.ForeignKey("processing.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["track", "-created_at"]
        verbose_name_plural = "lyrics"

    def __str__(self):
        return f"{self.track} · lyrics"

    def get_absolute_url(self):
        return object_url("library:lyrics", self.pk)


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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    scope = models.CharField(max_length=12, choices=Scope.choices)
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    collection = models.ForeignKey(Collection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    track_ids = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=200)
    options = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to=export_upload_to, max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("processing.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return object_url("library:export", self.pk)

    @property
    def is_ready(self):
        return bool(self.file)
