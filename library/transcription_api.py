"""REST API for MIDI clips and lyrics. Every queryset is the caller's own: another user's object is a 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from processing.api import start_job_response
from processing.services import do_request_lyrics, do_request_midi
from stemcrate.api import filter_by_track

from . import transcription_services
from .models import Lyrics, MidiClip
from .serializers import (
    LyricsDetailSerializer,
    LyricsRequestSerializer,
    LyricsSerializer,
    LyricsUpdateSerializer,
    MidiClipDetailSerializer,
    MidiClipSerializer,
    MidiRequestSerializer,
)
from .transcription_exports import LYRICS_FORMATS, lyrics_response


def midi_response(request, track, stem=None):
    return start_job_response(request, MidiRequestSerializer, do_request_midi, track, stem=stem)


def lyrics_request_response(request, track, stem=None):
    return start_job_response(request, LyricsRequestSerializer, do_request_lyrics, track, stem=stem)


TRACK_PARAM = OpenApiParameter("track", OpenApiTypes.UUID, description="Only those of this track.")


class MidiClipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """MIDI made from your tracks and stems. The detail holds the notes; file_url is the .mid file."""

    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MidiClip.objects.none()
        queryset = MidiClip.objects.for_user(self.request.user)
        if self.action == "list":
            queryset = filter_by_track(queryset.defer("notes"), self.request.query_params)
        return queryset

    def get_serializer_class(self):
        return MidiClipDetailSerializer if self.action == "retrieve" else MidiClipSerializer

    @extend_schema(parameters=[TRACK_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance):
        transcription_services.do_delete_midi(instance)


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
            transcription_services.do_edit_lyrics(lyrics, serializer.validated_data["text"])
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(LyricsDetailSerializer(lyrics, context={"request": request}).data)

    def perform_destroy(self, instance):
        transcription_services.do_delete_lyrics(instance)

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
