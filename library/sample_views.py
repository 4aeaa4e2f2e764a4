"""Sample browser pages. Thin: read input, call a service, render a page or, for htmx, the named partial."""

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .media import serve_file
from .models import Sample


def _get_sample_for_user(request, sample_id) -> Sample:
    return get_object_or_404(Sample.objects.for_user(request.user).select_related("track"), pk=sample_id)


@require_GET
def sample_audio(request, sample_id):
    sample = _get_sample_for_user(request, sample_id)
    download = request.GET.get("download") == "1"
    return serve_file(request, sample.file.name, download_name=f"{sample.display_name}.wav" if download else None)


@require_GET
def browser(request):
    raise NotImplementedError  # being written


@require_GET
def sample_detail(request, sample_id):
    raise NotImplementedError  # being written
