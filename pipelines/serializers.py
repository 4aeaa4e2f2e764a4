"""Pipelines in the API, and the process request."""

from rest_framework import serializers

from jobs.serializers import StepJobSerializer
from pipelines.models import Pipeline
from pipelines.services import progress


class PipelineSerializer(serializers.ModelSerializer):
    track = serializers.UUIDField(source="track_id", read_only=True)
    progress = serializers.SerializerMethodField(help_text="percent (0-100), steps, job counts, skipped steps")
    jobs = StepJobSerializer(source="step_jobs", many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "track", "steps", "options", "status", "progress", "skipped", "jobs", "created_at",
                  "finished_at"]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, pipeline) -> dict:

        return progress(pipeline)


class ProcessRequestSerializer(serializers.Serializer):
    steps = serializers.ListField(
        child=serializers.ChoiceField(choices=list(Pipeline.STEPS)), required=False, help_text="Default: all"
    )
    options = serializers.DictField(
        required=False, help_text="Per step: {separate: {...}, slice: {...}, midi: {quantise}, lyrics: {...}}"
    )
