"""Samples in the API: a sample, its similar ones, corrections, and the slicing request."""

from rest_framework import serializers

from core.api import _absolute_url
from samples.models import Sample


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
        return _absolute_url(self.context, "samples:sample_audio", sample)

    def get_url(self, sample) -> str:
        return _absolute_url(self.context, "samples:sample", sample)


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


class SampleEditSerializer(serializers.Serializer):
    """An edit, rendered into a new sample (the original stays). Every field is optional."""

    start = serializers.FloatField(required=False, help_text="Trim: seconds into the sample where the edit starts")
    end = serializers.FloatField(required=False, allow_null=True, help_text="Trim: where it ends (null: the end)")
    fade_in = serializers.FloatField(required=False, help_text="Seconds")
    fade_out = serializers.FloatField(required=False, help_text="Seconds")
    fade_curve = serializers.ChoiceField(choices=["linear", "exponential", "logarithmic", "s-curve"], required=False)
    reverse = serializers.BooleanField(required=False)
    gain_db = serializers.FloatField(required=False, help_text="-48 to 24 dB")
    normalise = serializers.BooleanField(required=False, help_text="Peak to -1 dBFS (instead of gain_db)")
    pitch = serializers.FloatField(required=False, help_text="Semitones, -24 to 24")
    pitch_mode = serializers.ChoiceField(
        choices=["repitch", "keep_length"], required=False,
        help_text="repitch: speed changes with pitch, as a sampler does; keep_length: the length stays",
    )  # fmt: skip
