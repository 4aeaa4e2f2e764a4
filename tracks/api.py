"""REST API for the library. Every queryset is the caller's own: another user's object is a 404."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from tracks import services
from tracks.filters import TrackFilters
from tracks.models import Collection, Tag, Track
from tracks.serializers import (
    CollectionSerializer,
    TagSerializer,
    TrackDetailSerializer,
    TrackIdsSerializer,
    TrackSerializer,
    TrackUpdateSerializer,
    TrackUploadSerializer,
)

TRACK_FILTER_PARAMS = [
    OpenApiParameter("q", str, description="Search title, artist, album, file name and tags."),
    OpenApiParameter("key", str, description="A key such as A, F#, Bb, 'A minor' or 'Am'."),
    OpenApiParameter("scale", str, enum=["major", "minor"]),
    OpenApiParameter("bpm_min", float),
    OpenApiParameter("bpm_max", float),
    OpenApiParameter("tag", str, description="A tag name (case-insensitive)."),
    OpenApiParameter("status", str, enum=list(Track.Status.values)),
    OpenApiParameter("collection", OpenApiTypes.UUID),
    OpenApiParameter(
        "sort", str, enum=["newest", "oldest", "title", "artist", "bpm", "-bpm", "key", "duration", "-duration"]
    ),
]


def upload_error_response(request, exc):
    response = Response({"detail": exc.reason}, status=exc.status)
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    return response


class TrackViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your tracks. POST a multipart `file` to upload; the same filters as the library page apply to GET."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Track.objects.none()
        queryset = Track.objects.for_user(self.request.user).prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name"))
        )
        if self.action == "list":
            filters = TrackFilters.from_params(self.request.query_params)
            if filters.errors:
                raise ValidationError({"detail": " ".join(filters.errors)})
            queryset = filters.apply(queryset.defer("peaks", "beats"))
        return queryset

    def get_serializer_class(self):
        return TrackDetailSerializer if self.action == "retrieve" else TrackSerializer

    @extend_schema(parameters=TRACK_FILTER_PARAMS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": TrackUploadSerializer},
        responses={201: TrackSerializer, 200: TrackSerializer},
        summary="Upload a track (200 with duplicate=true when you already have the same file)",
    )
    def create(self, request, *args, **kwargs):
        if getattr(request, "upload_too_large", False):
            return Response({"detail": services.upload_too_large_reason()}, status=413)
        serializer = TrackUploadSerializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request, "upload_too_large", False):
                return Response({"detail": services.upload_too_large_reason()}, status=413)
            raise ValidationError(serializer.errors)
        data = serializer.validated_data
        try:
            result = services.do_upload_track(
                request.user, data["file"], title=data.get("title", ""), artist=data.get("artist", "")
            )
        except services.UploadError as exc:
            return upload_error_response(request, exc)
        body = {**TrackSerializer(result.track, context={"request": request}).data}
        body.update(duplicate=not result.created, detail=result.note)
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=TrackUpdateSerializer, responses=TrackSerializer)
    def update(self, request, *args, **kwargs):
        track = self.get_object()
        serializer = TrackUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        if data:
            services.do_update_track(track, **data)
        if tags is not None:
            services.do_set_track_tags(track, tags)
        track = self.get_queryset().get(pk=track.pk)
        return Response(TrackSerializer(track, context={"request": request}).data)

    def perform_destroy(self, instance):
        services.do_delete_track(instance)

    @extend_schema(request=None, responses=TrackSerializer, summary="Run the analysis again")
    @action(detail=True, methods=["post"])
    def analyse(self, request, pk=None):
        track = services.do_reanalyse_track(self.get_object())
        return Response(TrackSerializer(track, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class TrackActionsViewSet(viewsets.GenericViewSet):
    """Base of the POST /api/tracks/{id}/<action>/ calls that other apps add (separate, slice, midi, lyrics,
    process): each subclasses this in its own api.py and is registered at "tracks", so tracks knows none."""

    lookup_value_converter = "uuid"
    serializer_class = TrackSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Track.objects.none()
        return Track.objects.for_user(self.request.user)


class TagViewSet(viewsets.ModelViewSet):
    serializer_class = TagSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        queryset = Tag.objects.for_user(self.request.user)
        q = self.request.query_params.get("q")
        return queryset.filter(name__icontains=q) if q else queryset

    def perform_create(self, serializer):
        try:
            serializer.instance = services.do_create_tag(self.request.user, serializer.validated_data["name"])
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc

    def perform_update(self, serializer):
        try:
            services.do_rename_tag(serializer.instance, serializer.validated_data.get("name", serializer.instance.name))
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc

    def perform_destroy(self, instance):
        services.do_delete_tag(instance)


class CollectionViewSet(viewsets.ModelViewSet):
    serializer_class = CollectionSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Collection.objects.none()
        return Collection.objects.for_user(self.request.user).prefetch_related(
            Prefetch("tracks", queryset=Track.objects.only("id"))
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.do_create_collection(
                self.request.user, data["name"], data.get("description", "")
            )
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc

    def perform_update(self, serializer):
        data = serializer.validated_data
        try:
            services.do_update_collection(
                serializer.instance, name=data.get("name"), description=data.get("description")
            )
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc

    def perform_destroy(self, instance):
        services.do_delete_collection(instance)

    def _tracks_from_body(self, request):
        serializer = TrackIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data["track_ids"]
        tracks = list(Track.objects.for_user(request.user).filter(pk__in=ids).only("id", "owner_id"))
        if len(tracks) != len(set(ids)):
            raise ValidationError({"detail": "Some of those tracks do not exist in your library."})
        return tracks

    @extend_schema(request=TrackIdsSerializer, responses=CollectionSerializer)
    @action(detail=True, methods=["post"], url_path="tracks")
    def add_tracks(self, request, pk=None):
        collection = self.get_object()
        services.do_add_to_collection(collection, self._tracks_from_body(request))
        return Response(CollectionSerializer(self.get_queryset().get(pk=collection.pk)).data)

    @extend_schema(request=TrackIdsSerializer, responses=CollectionSerializer)
    @action(detail=True, methods=["post"], url_path="tracks/remove")
    def remove_tracks(self, request, pk=None):
        collection = self.get_object()
        services.do_remove_from_collection(collection, self._tracks_from_body(request))
        return Response(CollectionSerializer(self.get_queryset().get(pk=collection.pk)).data)
