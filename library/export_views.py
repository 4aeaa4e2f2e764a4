"""Export pages and the ZIP download. Owner only."""

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .media import serve_file
from .models import Export


def _get_export_for_user(request, export_id) -> Export:
    return get_object_or_404(Export.objects.for_user(request.user).select_related("job"), pk=export_id)


@require_GET
def export_file(request, export_id):
    export = _get_export_for_user(request, export_id)
    return serve_file(request, export.file.name, download_name=f"{export.name or 'Stemcrate export'}.zip")


@require_GET
def export_detail(request, export_id):
    raise NotImplementedError  # being written
