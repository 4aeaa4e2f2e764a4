"""REST API for samples and stems. Every queryset is the caller's own: another user's object is a 404."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from jobs.api import start_job_response
from jobs.serializers import JobSerializer
from samples import services as sample_services
from samples import similar
from samples.filters import SORTS, SOURCES, SampleFilters
from samples.models import Sample, SampleCategory
from samples.serializers import (
    SampleEditSerializer,
    SampleSerializer,
    SampleUpdateSerializer,
    SimilarSampleSerializer,
    SliceRequestSerializer,
)
from samples.services import do_request_slice
from stems.api import StemActionsViewSet
from tracks.api import TrackActionsViewSet
from tracks.models import Tag

SAMPLE_FILTER_PARAMS = [
    OpenApiParameter("q", str, description="Search source track, stem, category, note and tags."),
    OpenApiParameter(
        "category", str, many=True, description="A category id (kick, synth_lead, ...) or group (drums, pitched)."
    ),
    OpenApiParameter("tag", str, description="A tag name (case-insensitive)."),
    OpenApiParameter("note", str, description="A note (A, F#, Bb) in any octave, or with its octave (A2)."),
    OpenApiParameter("bpm_min", float, description="The source track's tempo, at least."),
    OpenApiParameter("bpm_max", float),
    OpenApiParameter("track", OpenApiTypes.UUID, description="Only samples cut from this track."),
    OpenApiParameter("source", str, enum=SOURCES, description="The stem they were cut from, or mix."),
    OpenApiParameter("favourite", bool),
    OpenApiParameter("collection", OpenApiTypes.UUID),
    OpenApiParameter("sort", str, enum=list(SORTS)),
]


def _edit_service(sample, *, options):
    return sample_services.do_request_sample_edit(sample, options)


def slice_response(request, track, stem=None):
    return start_job_response(request, SliceRequestSerializer, do_request_slice, track, stem=stem)


class SampleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your samples, sliced from tracks and stems and tagged. PATCH changes category, tags and favourite."""

    serializer_class = SampleSerializer
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # POST: only the edit action

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Sample.objects.none()
        queryset = (
            Sample.objects.for_user(self.request.user)
            .select_related("track")
            .defer("embedding", "track__peaks", "track__beats")
            .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
        )
        if self.action == "list":
            filters = SampleFilters.from_params(self.request.query_params)
            if filters.errors:
                raise ValidationError({"detail": " ".join(filters.errors)})
            queryset = filters.apply(queryset)
        return queryset

    @extend_schema(parameters=SAMPLE_FILTER_PARAMS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SampleUpdateSerializer, responses=SampleSerializer, summary="Correct the category, tag")
    def partial_update(self, request, *args, **kwargs):
        sample = self.get_object()
        serializer = SampleUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if "category" in data:
                sample_services.do_set_sample_category(sample, data["category"])
            if "tags" in data:
                sample_services.do_set_sample_tags(sample, data["tags"])
            if "favourite" in data:
                sample_services.do_set_sample_favourite(sample, data["favourite"])
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(SampleSerializer(self.get_queryset().get(pk=sample.pk), context={"request": request}).data)

    def perform_destroy(self, instance):
        sample_services.do_delete_samples(self.request.user, [instance])

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="How many (1-100, default 24).")],
        responses=SimilarSampleSerializer(many=True),
        summary="More like this: the nearest samples in your library by sound",
    )
    @action(detail=True, methods=["get"])
    def similar(self, request, pk=None):
        sample = self.get_object()
        try:
            limit = int(request.query_params.get("limit", 24))
        except ValueError as exc:
            raise ValidationError({"detail": "limit must be a whole number."}) from exc
        if not 1 <= limit <= 100:
            raise ValidationError({"detail": "limit must be between 1 and 100."})
        results = similar.similar_samples(sample, limit)
        return Response(SimilarSampleSerializer(results, many=True, context={"request": request}).data)

    @extend_schema(responses={200: dict}, summary="The category ids and their labels")
    @extend_schema(request=SampleEditSerializer, responses={202: JobSerializer},
                   summary="Render an edit (trim, fades, reverse, level, pitch) as a new sample")  # fmt: skip
    @action(detail=True, methods=["post"])
    def edit(self, request, pk=None):
        return start_job_response(request, SampleEditSerializer, _edit_service, self.get_object())

    @action(detail=False, methods=["get"])
    def categories(self, request):
        return Response([{"id": value, "label": label} for value, label in SampleCategory.choices])


class TrackSliceViewSet(TrackActionsViewSet):
    @extend_schema(
        request=SliceRequestSerializer, responses={202: JobSerializer}, summary="Slice the full mix into samples"
    )
    @action(detail=True, methods=["post"])
    def slice(self, request, pk=None):
        return slice_response(request, self.get_object())


class StemSliceViewSet(StemActionsViewSet):
    @extend_schema(request=SliceRequestSerializer, responses={202: JobSerializer}, summary="Slice into samples")
    @action(detail=True, methods=["post"])
    def slice(self, request, pk=None):
        stem = self.get_object()
        return slice_response(request, stem.track, stem)
