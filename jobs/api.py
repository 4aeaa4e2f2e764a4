"""The jobs API: list your jobs, cancel and retry them; and the helper every app uses to start one."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.ids import parse_uuid
from jobs import services as job_service
from jobs.models import Job
from jobs.serializers import JobSerializer


def start_job_response(request, request_serializer, service, *args, **kwargs):
    """The API side of "start a job": validate the body, call the service, 202 with the job (400 with the
    service's reason when it refuses)."""
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
        subject = self.request.query_params.get("subject")
        if subject:
            subject_id = parse_uuid(subject)
            if subject_id is None:
                raise ValidationError({"detail": "subject must be an id."})
            queryset = queryset.filter(subject_id=subject_id)
        return queryset

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
