from rest_framework import serializers

from .models import Job


class JobSerializer(serializers.ModelSerializer):
    track = serializers.UUIDField(source="track_id", read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "track", "params", "queue", "status", "progress", "stage", "error", "attempts",
            "queued_at", "started_at", "finished_at", "worker", "device", "model_name", "model_version",
        ]  # fmt: skip
        read_only_fields = fields
