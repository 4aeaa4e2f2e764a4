"""The stems API: a track's stems, separation requests, and the stem list."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from core.api import filter_by_track
from jobs.api import start_job_response
from jobs.serializers import JobSerializer
from stems.models import Stem
from stems.serializers import SeparateRequestSerializer, StemSerializer
from stems.services import do_request_separation
from tracks.api import TrackActionsViewSet


class TrackStemsViewSet(TrackActionsViewSet):
    """POST /api/tracks/{id}/separate/ and GET /api/tracks/{id}/stems/."""

    @extend_schema(
        request=SeparateRequestSerializer,
        responses={202: JobSerializer},
        summary="Separate the track into stems (a job on the gpu queue)",
    )
    @action(detail=True, methods=["post"])
    def separate(self, request, pk=None):
        return start_job_response(request, SeparateRequestSerializer, do_request_separation, self.get_object())

    @extend_schema(responses=StemSerializer(many=True), summary="The track's stems, each with an audio_url")
    @action(detail=True, methods=["get"])
    def stems(self, request, pk=None):
        track = self.get_object()
        stems = Stem.objects.for_user(request.user).filter(track=track).select_related("stem_set")
        page = self.paginate_queryset(stems)
        return self.get_paginated_response(StemSerializer(page, many=True, context={"request": request}).data)


class StemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your stems, from every separation."""

    serializer_class = StemSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Stem.objects.none()
        queryset = Stem.objects.for_user(self.request.user).select_related("stem_set", "track").defer("peaks")
        return filter_by_track(queryset, self.request.query_params)


class StemActionsViewSet(viewsets.GenericViewSet):
    """Base of the POST /api/stems/{id}/<action>/ calls that other apps add (slice, midi, lyrics)."""

    serializer_class = StemSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Stem.objects.none()
        return Stem.objects.for_user(self.request.user).select_related("track").defer("peaks")
