from rest_framework import serializers

from .models import Job, Pipeline


class JobSerializer(serializers.ModelSerializer):
    track = serializers.UUIDField(source="track_id", read_only=True, allow_null=True)
    stem = serializers.UUIDField(source="stem_id", read_only=True, allow_null=True)
    pipeline = serializers.UUIDField(source="pipeline_id", read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "track", "stem", "pipeline", "step", "params", "queue", "status", "progress", "stage",
            "error", "attempts", "queued_at", "started_at", "finished_at", "worker", "device", "model_name",
            "model_version",
        ]  # fmt: skip
        read_only_fields = fields


class PipelineSerializer(serializers.ModelSerializer):
    track = serializers.UUIDField(source="track_id", read_only=True)
    progress = serializers.SerializerMethodField(help_text="percent (0-100), steps, job counts, skipped steps")
    jobs = JobSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "track", "steps", "options", "status", "progress", "skipped", "jobs", "created_at",
                  "finished_at"]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, pipeline) -> dict:
        from .pipeline import progress

        return progress(pipeline)


class ProcessRequestSerializer(serializers.Serializer):
    steps = serializers.ListField(
        child=serializers.ChoiceField(choices=list(Pipeline.STEPS)), required=False, help_text="Default: all"
    )
    options = serializers.DictField(
        required=False, help_text="Per step: {separate: {...}, slice: {...}, midi: {quantise}, lyrics: {...}}"
    )
