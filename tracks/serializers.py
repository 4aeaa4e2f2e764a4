"""Tracks, tags and collections in the API."""

from rest_framework import serializers

from core.api import _absolute_url
from tracks.models import Collection, Tag, Track


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
        return _absolute_url(self.context, "tracks:track_audio", track)

    def get_original_url(self, track) -> str:
        return _absolute_url(self.context, "tracks:track_original", track)


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
