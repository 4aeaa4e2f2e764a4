"""Project-wide REST API plumbing: pagination and error shape."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.ids import parse_uuid
from core.models import object_url
from core.quotas import LimitError


def filter_by_track(queryset, params):
    """`?track=<id>` on any list of things that belong to a track: 400 with a reason for a malformed id."""

    raw = params.get("track")
    if not raw:
        return queryset
    track_id = parse_uuid(raw)
    if track_id is None:
        raise ValidationError({"detail": "track must be an id."})
    return queryset.filter(track_id=track_id)


class Pagination(PageNumberPagination):
    """{count, next, previous, results}, with ?page= and an optional ?page_size= up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc, context):
    """DRF's handler, plus a top-level "detail" on validation errors so every 4xx carries a readable reason.

    A limit (core.quotas) answers with its own status, whether it arrives bare or as the cause of the
    ValidationError a view turned a service's ValueError into: 413 for the storage quota, 429 with Retry-After
    for a rate limit.
    """
    limit = _limit_error(exc)
    if limit is not None:
        response = Response({"detail": limit.reason}, status=limit.status)
        retry_after = getattr(limit, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        set_rollback()
        return response
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        first_field, messages = next(iter(response.data.items()), (None, None))
        if first_field is not None:
            message = messages[0] if isinstance(messages, list) and messages else messages
            prefix = "" if first_field == "non_field_errors" else f"{first_field}: "
            response.data = {"detail": f"{prefix}{message}", **response.data}
    return response


def _limit_error(exc):

    while exc is not None:
        if isinstance(exc, LimitError):
            return exc
        exc = exc.__cause__
    return None


def _absolute_url(context, name, obj) -> str:
    path = object_url(name, obj.pk)
    request = context.get("request")
    return request.build_absolute_uri(path) if request else path


TRACK_PARAM = OpenApiParameter("track", OpenApiTypes.UUID, description="Only those of this track.")
