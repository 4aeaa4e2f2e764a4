"""Exports in the API, and the export request."""

from rest_framework import serializers

from core.api import _absolute_url
from exports.models import Export


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
        return _absolute_url(self.context, "exports:export_file", export) if export.file else None

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
