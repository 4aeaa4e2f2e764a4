"""Jobs in the API."""

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    subject_type = serializers.SerializerMethodField(help_text="What the job works on: track, stem, export...")
    subject = serializers.UUIDField(source="subject_id", read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "subject_type", "subject", "params", "queue", "status", "progress", "stage",
            "error", "attempts", "queued_at", "started_at", "finished_at", "worker", "device", "model_name",
            "model_version",
        ]  # fmt: skip
        read_only_fields = fields

    def get_subject_type(self, job) -> str | None:
        return ContentType.objects.get_for_id(job.subject_type_id).model if job.subject_type_id else None


class StepJobSerializer(JobSerializer):
    """A job as one step of something larger (a pipeline): with its step, e.g. "slice:drums"."""

    step = serializers.CharField(read_only=True)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "step"]
        read_only_fields = fields
