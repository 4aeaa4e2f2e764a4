"""REST API for exports: ask for a ZIP, follow its job, download it. Owner only, like everything."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from exports import services as export_services
from exports.models import Export
from exports.serializers import ExportRequestSerializer, ExportSerializer
from tracks.models import Collection, Track


class ExportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """ZIP exports of a track, a selection, a collection, your favourite samples or the whole library."""

    serializer_class = ExportSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Export.objects.none()
        return Export.objects.for_user(self.request.user).select_related("job")

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer}, summary="Build a ZIP")
    def create(self, request, *args, **kwargs):
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        track = collection = None
        tracks = []
        if data.get("track"):
            track = Track.objects.for_user(user).filter(pk=data["track"]).first()
            if track is None:
                raise ValidationError({"detail": "That track is not in your library."})
        if data.get("collection"):
            collection = Collection.objects.for_user(user).filter(pk=data["collection"]).first()
            if collection is None:
                raise ValidationError({"detail": "That collection is not yours."})
        if data.get("track_ids"):
            tracks = list(Track.objects.for_user(user).filter(pk__in=data["track_ids"]))
            if len(tracks) != len(set(data["track_ids"])):
                raise ValidationError({"detail": "Some of those tracks are not in your library."})
        options = {"format": data["format"], "sample_rate": data["sample_rate"]}
        if data.get("include"):
            options["include"] = data["include"]
        try:
            export = export_services.do_request_export(
                user, data["scope"], track=track, collection=collection, tracks=tracks, options=options
            )
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        export = self.get_queryset().get(pk=export.pk)
        return Response(ExportSerializer(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    def perform_destroy(self, instance):
        export_services.do_delete_export(instance)
