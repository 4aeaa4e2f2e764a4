"""Stems in the API, and the separation request."""

from rest_framework import serializers

from core.api import _absolute_url
from stems.models import Stem


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
        return _absolute_url(self.context, "stems:stem_audio", stem)

    def get_download_url(self, stem) -> str:
        return _absolute_url(self.context, "stems:stem_file", stem)


class SeparateRequestSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=["htdemucs", "htdemucs_ft", "htdemucs_6s"], default="htdemucs")
    two_stems = serializers.CharField(required=False, allow_null=True, help_text="e.g. vocals -> vocals + no_vocals")
    shifts = serializers.IntegerField(required=False, min_value=0, max_value=10)
    overlap = serializers.FloatField(required=False, min_value=0, max_value=0.99)
    segment = serializers.FloatField(required=False, allow_null=True)
