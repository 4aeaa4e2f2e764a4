"""The lyrics API: list, read, edit and export a transcription; request one for a track or a stem."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from audio.lyrics import best_model
from core.api import TRACK_PARAM, filter_by_track
from core.model_choices import lyric_model_rows, lyrics_backend
from jobs.api import start_job_response
from jobs.serializers import JobSerializer
from lyrics import services as lyrics_services
from lyrics.formats import LYRICS_FORMATS, lyrics_response
from lyrics.models import Lyrics
from lyrics.serializers import (
    LyricsDetailSerializer,
    LyricsModelSerializer,
    LyricsRequestSerializer,
    LyricsSerializer,
    LyricsUpdateSerializer,
)
from lyrics.services import do_request_lyrics
from stems.api import StemActionsViewSet
from tracks.api import TrackActionsViewSet


def lyrics_request_response(request, track, stem=None):
    return start_job_response(request, LyricsRequestSerializer, do_request_lyrics, track, stem=stem)


class LyricsViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Lyrics transcribed from your vocals. PATCH `text` to correct them: exports keep your edits."""

    lookup_value_converter = "uuid"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lyrics.objects.none()
        queryset = Lyrics.objects.for_user(self.request.user).select_related("track")
        if self.action == "list":
            queryset = filter_by_track(queryset.defer("data", "original"), self.request.query_params)
        return queryset

    def get_serializer_class(self):
        return LyricsSerializer if self.action == "list" else LyricsDetailSerializer

    @extend_schema(parameters=[TRACK_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=LyricsUpdateSerializer, responses=LyricsDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        lyrics = self.get_object()
        serializer = LyricsUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            lyrics_services.do_edit_lyrics(lyrics, serializer.validated_data["text"])
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(LyricsDetailSerializer(lyrics, context={"request": request}).data)

    def perform_destroy(self, instance):
        lyrics_services.do_delete_lyrics(instance)

    @extend_schema(
        parameters=[OpenApiParameter("backend", str, enum=["faster-whisper", "openai-whisper"])],
        responses=LyricsModelSerializer(many=True),
        summary="The lyrics models, installed ones first: a job may only ask for an installed one",
    )
    @action(detail=False, methods=["get"])
    def models(self, request):
        backend = request.query_params.get("backend") or None
        if backend not in (None, "faster-whisper", "openai-whisper"):
            raise ValidationError({"backend": "Choose faster-whisper or openai-whisper."})
        rows = lyric_model_rows(backend)
        rows.sort(key=lambda row: not row["installed"])  # stable: best first within each group
        return Response(
            {"backend": backend or lyrics_backend(), "default": best_model(r["name"] for r in rows if r["installed"]),
             "models": LyricsModelSerializer(rows, many=True).data}
        )  # fmt: skip

    @extend_schema(
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=[*LYRICS_FORMATS])],
        responses={(200, "text/plain"): OpenApiTypes.STR},
        summary="The lyrics as LRC, SRT, VTT, JSON words or plain text (as edited)",
    )
    @action(detail=True, methods=["get"], url_path="export/<str:fmt>")
    def export(self, request, pk=None, fmt=None):
        lyrics = self.get_object()
        if fmt not in LYRICS_FORMATS:
            raise ValidationError({"detail": f"The format must be one of: {', '.join(LYRICS_FORMATS)}."})
        return lyrics_response(lyrics, fmt)


class TrackLyricsViewSet(TrackActionsViewSet):
    @extend_schema(
        request=LyricsRequestSerializer,
        responses={202: JobSerializer},
        summary="Transcribe lyrics (from the vocals stem when there is one)",
    )
    @action(detail=True, methods=["post"])
    def lyrics(self, request, pk=None):
        return lyrics_request_response(request, self.get_object())


class StemLyricsViewSet(StemActionsViewSet):
    @extend_schema(request=LyricsRequestSerializer, responses={202: JobSerializer}, summary="Transcribe lyrics")
    @action(detail=True, methods=["post"])
    def lyrics(self, request, pk=None):
        stem = self.get_object()
        return lyrics_request_response(request, stem.track, stem)
