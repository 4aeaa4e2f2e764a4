from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from stemcrate.api import filter_by_track

from . import jobs as job_service
from .models import Job, Pipeline
from .serializers import JobSerializer, PipelineSerializer


def start_job_response(request, request_serializer, service, *args, **kwargs):
    """The API side of "start a job": validate the body, call the service, 202 with the job (400 with the
    service's reason when it refuses)."""
    from rest_framework.exceptions import ValidationError

    serializer = request_serializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        job = service(*args, options=serializer.validated_data, **kwargs)
    except ValueError as exc:
        raise ValidationError({"detail": str(exc)}) from exc
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your jobs, newest first. The traceback is for admins and never appears here."""

    serializer_class = JobSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        queryset = Job.objects.filter(owner=self.request.user).defer("traceback")
        for field in ("status", "kind"):
            value = self.request.query_params.get(field)
            if value:
                queryset = queryset.filter(**{field: value})
        return filter_by_track(queryset, self.request.query_params)

    @extend_schema(request=None, responses=JobSerializer, summary="Cancel a queued or running job")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = job_service.cancel(self.get_object())
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=JobSerializer, summary="Queue a failed or cancelled job again")
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = self.get_object()
        if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
            return Response({"detail": f"Only a failed or cancelled job can be retried; this one is {job.status}."},
                            status=status.HTTP_409_CONFLICT)  # fmt: skip
        return Response(JobSerializer(job_service.retry(job)).data, status=status.HTTP_202_ACCEPTED)


class PipelineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """ "Process everything" runs, newest first, each with its steps' jobs and overall progress."""

    serializer_class = PipelineSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pipeline.objects.none()
        queryset = Pipeline.objects.filter(owner=self.request.user).prefetch_related("jobs")
        return filter_by_track(queryset, self.request.query_params)

    @extend_schema(request=None, responses=PipelineSerializer, summary="Cancel the steps still queued or running")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        from .services import do_cancel_pipeline

        pipeline = do_cancel_pipeline(self.get_object())
        return Response(PipelineSerializer(pipeline).data)
