from rest_framework import serializers

from .models import Collection, Export, Lyrics, MidiClip, Sample, Stem, Tag, Track, object_url


def _absolute_url(context, name, obj) -> str:
    path = object_url(name, obj.pk)
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


class TrackSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    audio_url = serializers.SerializerMethodField(help_text="Playable audio, owner only (Range supported).")
    original_url = serializers.SerializerMethodField(help_text="The file exactly as uploaded.")
    key = serializers.SerializerMethodField()

    class Meta:
        model = Track
        fields = [
            "id", "title", "artist", "album", "original_filename", "format", "codec", "duration", "sample_rate",
            "channels", "bit_depth", "bitrate", "size", "sha256", "bpm", "key", "loudness_lufs", "status", "error",
            "tags", "audio_url", "original_url", "created_at", "updated_at", "analysed_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("title", "artist", "album")]

    def get_tags(self, track) -> list[str]:
        return [tag.name for tag in track.tags.all()]

    def get_key(self, track) -> str:
        return track.key_label

    def get_audio_url(self, track) -> str:
        return _absolute_url(self.context, "library:track_audio", track)

    def get_original_url(self, track) -> str:
        return _absolute_url(self.context, "library:track_original", track)


class TrackDetailSerializer(TrackSerializer):
    class Meta(TrackSerializer.Meta):
        fields = [*TrackSerializer.Meta.fields, "beats", "peaks"]
        read_only_fields = [*TrackSerializer.Meta.read_only_fields, "beats", "peaks"]


class TrackUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    artist = serializers.CharField(max_length=300, required=False, allow_blank=True)
    album = serializers.CharField(max_length=300, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=50)


class TrackUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="WAV, AIFF, FLAC, MP3, OGG/Opus or M4A/AAC. Checked by decoding.")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    artist = serializers.CharField(max_length=300, required=False, allow_blank=True)


class CollectionSerializer(serializers.ModelSerializer):
    track_ids = serializers.SerializerMethodField()

    class Meta:
        model = Collection
        fields = ["id", "name", "description", "track_ids", "created_at", "updated_at"]
        read_only_fields = ["id", "track_ids", "created_at", "updated_at"]

    def get_track_ids(self, collection) -> list[str]:
        return [str(track.pk) for track in collection.tracks.all()]


class TrackIdsSerializer(serializers.Serializer):
    track_ids = serializers.ListField(child=serializers.UUIDField(), max_length=1000)


class StemSerializer(serializers.ModelSerializer):
    audio_url = serializers.SerializerMethodField(help_text="Browser-friendly audio (MP3 preview), owner only.")
    download_url = serializers.SerializerMethodField(help_text="The lossless stem (FLAC), owner only.")
    stem_set = serializers.UUIDField(source="stem_set_id", read_only=True)
    model = serializers.CharField(source="stem_set.model_name", read_only=True)

    class Meta:
        model = Stem
        fields = ["id", "name", "stem_set", "model", "duration", "sample_rate", "channels", "size", "audio_url",
                  "download_url", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_audio_url(self, stem) -> str:
        return _absolute_url(self.context, "library:stem_audio", stem)

    def get_download_url(self, stem) -> str:
        return _absolute_url(self.context, "library:stem_file", stem)


class SeparateRequestSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=["htdemucs", "htdemucs_ft", "htdemucs_6s"], default="htdemucs")
    two_stems = serializers.CharField(required=False, allow_null=True, help_text="e.g. vocals -> vocals + no_vocals")
    shifts = serializers.IntegerField(required=False, min_value=0, max_value=10)
    overlap = serializers.FloatField(required=False, min_value=0, max_value=0.99)
    segment = serializers.FloatField(required=False, allow_null=True)


class SliceRequestSerializer(serializers.Serializer):
    sensitivity = serializers.FloatField(required=False, min_value=0, max_value=1, help_text="0..1, more = more cuts")
    min_length = serializers.FloatField(required=False, min_value=0.01, max_value=10, help_text="Seconds")
    max_length = serializers.FloatField(required=False, min_value=0.02, max_value=30, help_text="Seconds")
    silence_db = serializers.FloatField(required=False, min_value=-120, max_value=-6, help_text="dBFS")
    normalise = serializers.BooleanField(required=False, help_text="Peak-normalise each sample to -1 dBFS")


class SampleSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    category_label = serializers.CharField(read_only=True)
    audio_url = serializers.SerializerMethodField(help_text="The sample as a WAV file, owner only.")
    url = serializers.SerializerMethodField()
    track_title = serializers.CharField(source="track.display_title", read_only=True)
    bpm = serializers.FloatField(source="track.bpm", read_only=True, help_text="The source track's tempo.")

    class Meta:
        model = Sample
        fields = [
            "id", "url", "track", "track_title", "bpm", "stem", "source", "index", "start", "end", "onset",
            "duration", "sample_rate", "channels", "peak_db", "loudness", "gain_db", "note", "category",
            "category_label", "predicted_category", "confidence", "category_corrected", "favourite", "tags",
            "peaks", "audio_url", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_tags(self, sample) -> list[str]:
        return [tag.name for tag in sample.tags.all()]

    def get_audio_url(self, sample) -> str:
        return _absolute_url(self.context, "library:sample_audio", sample)

    def get_url(self, sample) -> str:
        return _absolute_url(self.context, "library:sample", sample)


class SimilarSampleSerializer(SampleSerializer):
    similarity = serializers.FloatField(read_only=True, help_text="Cosine similarity of the embeddings, -1..1")

    class Meta(SampleSerializer.Meta):
        fields = [*SampleSerializer.Meta.fields, "similarity"]
        read_only_fields = fields


class SampleUpdateSerializer(serializers.Serializer):
    category = serializers.CharField(required=False, help_text="A category id such as kick or synth_lead")
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=50)
    favourite = serializers.BooleanField(required=False)


class SampleIdsSerializer(serializers.Serializer):
    sample_ids = serializers.ListField(child=serializers.UUIDField(), max_length=1000)


class MidiRequestSerializer(serializers.Serializer):
    onset_threshold = serializers.FloatField(required=False, help_text="0..1: higher finds fewer notes")
    frame_threshold = serializers.FloatField(required=False, help_text="0..1: higher ends notes sooner")
    min_note_ms = serializers.FloatField(required=False, help_text="Shortest note kept, milliseconds")
    min_freq = serializers.FloatField(required=False, allow_null=True, help_text="Hz")
    max_freq = serializers.FloatField(required=False, allow_null=True, help_text="Hz")
    pitch_bends = serializers.BooleanField(required=False)
    quantise = serializers.BooleanField(required=False, help_text="Snap notes to the track's beat grid (1/16)")


class LyricsRequestSerializer(serializers.Serializer):
    model = serializers.CharField(required=False, help_text="tiny, base, small, medium, large-v3 or turbo")
    language = serializers.CharField(required=False, allow_null=True, help_text="A code such as en; empty: detect")


class MidiClipSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="The .mid file, owner only.")
    url = serializers.SerializerMethodField()

    class Meta:
        model = MidiClip
        fields = ["id", "url", "track", "stem", "source", "preset", "params", "bpm", "quantised", "note_count",
                  "file_url", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_file_url(self, clip) -> str:
        return _absolute_url(self.context, "library:midi_file", clip)

    def get_url(self, clip) -> str:
        return _absolute_url(self.context, "library:midi", clip)


class MidiClipDetailSerializer(MidiClipSerializer):
    class Meta(MidiClipSerializer.Meta):
        fields = [*MidiClipSerializer.Meta.fields, "notes"]
        read_only_fields = fields


class LyricsSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    exports = serializers.SerializerMethodField(help_text="Download URLs per format: lrc, srt, vtt, json, txt")

    class Meta:
        model = Lyrics
        fields = ["id", "url", "track", "stem", "source", "model_name", "language", "text", "note", "edited",
                  "exports", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_url(self, lyrics) -> str:
        return _absolute_url(self.context, "library:lyrics", lyrics)

    def get_exports(self, lyrics) -> dict:
        base = _absolute_url(self.context, "api:lyrics-detail", lyrics)
        return {fmt: f"{base}export/{fmt}/" for fmt in ("lrc", "srt", "vtt", "json", "txt")}


class LyricsDetailSerializer(LyricsSerializer):
    words = serializers.JSONField(source="data", read_only=True, help_text="Lines of timed words, as edited")

    class Meta(LyricsSerializer.Meta):
        fields = [*LyricsSerializer.Meta.fields, "words"]
        read_only_fields = fields


class LyricsUpdateSerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True, max_length=100_000, trim_whitespace=False, help_text="The corrected lyrics, line by line"
    )


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text="The ZIP, owner only; null until it is ready.")
    status = serializers.SerializerMethodField(help_text="The building job's status")
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = ["id", "scope", "name", "track", "collection", "track_ids", "options", "status", "progress", "error",
                  "size", "file_count", "download_url", "created_at", "finished_at"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        return _absolute_url(self.context, "library:export_file", export) if export.file else None

    def get_status(self, export) -> str:
        return export.job.status if export.job_id else "unknown"

    def get_progress(self, export) -> int:
        return export.job.progress if export.job_id else 0

    def get_error(self, export) -> str:
        return export.job.error if export.job_id else ""


class ExportRequestSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["track", "tracks", "collection", "favourites", "library"])
    track = serializers.UUIDField(required=False, help_text="For scope=track")
    collection = serializers.UUIDField(required=False, help_text="For scope=collection")
    track_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=1000)
    format = serializers.ChoiceField(choices=["wav16", "wav24", "wav32f", "aiff", "flac", "mp3"], default="wav24")
    sample_rate = serializers.ChoiceField(choices=[44100, 48000], default=44100)
    include = serializers.ListField(
        child=serializers.ChoiceField(choices=["original", "stems", "samples", "midi", "lyrics", "project"]),
        required=False,
    )
