"""The pipelines API: start "process everything" on a track, follow it, cancel it."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api import filter_by_track
from pipelines.models import STEP_JOBS, Pipeline
from pipelines.serializers import PipelineSerializer, ProcessRequestSerializer
from pipelines.services import PipelineError, do_cancel_pipeline, do_process_track
from tracks.api import TrackActionsViewSet


class PipelineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """ "Process everything" runs, newest first, each with its steps' jobs and overall progress."""

    serializer_class = PipelineSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pipeline.objects.none()
        queryset = Pipeline.objects.filter(owner=self.request.user).prefetch_related(STEP_JOBS)
        return filter_by_track(queryset, self.request.query_params)

    @extend_schema(request=None, responses=PipelineSerializer, summary="Cancel the steps still queued or running")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):

        pipeline = do_cancel_pipeline(self.get_object())
        return Response(PipelineSerializer(pipeline).data)


class TrackProcessViewSet(TrackActionsViewSet):
    @extend_schema(
        request=ProcessRequestSerializer,
        responses={202: PipelineSerializer},
        summary="Process everything: analyse, separate, slice, MIDI and lyrics, as one pipeline of jobs",
    )
    @action(detail=True, methods=["post"])
    def process(self, request, pk=None):
        track = self.get_object()
        serializer = ProcessRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            pipeline = do_process_track(track, steps=data.get("steps"), options=data.get("options"))
        except PipelineError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(PipelineSerializer(pipeline).data, status=status.HTTP_202_ACCEPTED)
