"""Lyrics in the API: the words with their timings, the edit, and the transcription request."""

from rest_framework import serializers

from core.api import _absolute_url
from lyrics.models import Lyrics


class LyricsRequestSerializer(serializers.Serializer):
    model = serializers.CharField(
        required=False, allow_null=True, allow_blank=True,
        help_text="An installed model (GET /api/lyrics/models/); missing: the best installed one",
    )  # fmt: skip
    language = serializers.CharField(required=False, allow_null=True, help_text="A code such as en; empty: detect")
    backend = serializers.ChoiceField(
        choices=["faster-whisper", "openai-whisper"], required=False, help_text="Missing: the server's setting"
    )
    silero_vad = serializers.BooleanField(
        required=False, help_text="Also run Silero VAD: skip what it hears as no voice (default on)"
    )
    vocal_activity = serializers.BooleanField(
        required=False, help_text="Transcribe only where the audio has vocal energy (default on)"
    )


class LyricsModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    installed = serializers.BooleanField()
    install_command = serializers.CharField(help_text="What installs it on the server")


class LyricsSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    exports = serializers.SerializerMethodField(help_text="Download URLs per format: lrc, srt, vtt, json, txt")

    class Meta:
        model = Lyrics
        fields = ["id", "url", "track", "stem", "source", "model_name", "language", "text", "note", "edited",
                  "exports", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_url(self, lyrics) -> str:
        return _absolute_url(self.context, "lyrics:lyrics", lyrics)

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
