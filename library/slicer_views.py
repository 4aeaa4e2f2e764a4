"""The slicer: proposed slice points on the waveform, a sensitivity slider, then a slicing job."""

from django.views.decorators.http import require_GET, require_POST


@require_GET
def slicer(request, track_id):
    raise NotImplementedError  # being written


@require_GET
def onsets(request, track_id):
    raise NotImplementedError  # being written


@require_POST
def slice_submit(request, track_id):
    raise NotImplementedError  # being written
