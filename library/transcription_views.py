"""MIDI and lyrics pages: the piano roll and the karaoke view, and their files. Owner only, like every view."""

from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .media import serve_file
from .models import Lyrics, MidiClip
from .transcription_exports import LYRICS_FORMATS, lyrics_response


def _get_midi_for_user(request, clip_id) -> MidiClip:
    return get_object_or_404(MidiClip.objects.for_user(request.user).select_related("track"), pk=clip_id)


def _get_lyrics_for_user(request, lyrics_id) -> Lyrics:
    return get_object_or_404(Lyrics.objects.for_user(request.user).select_related("track"), pk=lyrics_id)


@require_GET
def midi_file(request, clip_id):
    clip = _get_midi_for_user(request, clip_id)
    name = f"{clip.track.display_title} - {clip.source_label}.mid"
    return serve_file(request, clip.file.name, download_name=name)


@require_GET
def lyrics_export(request, lyrics_id):
    lyrics = _get_lyrics_for_user(request, lyrics_id)
    fmt = request.GET.get("format", "lrc")
    if fmt not in LYRICS_FORMATS:
        return HttpResponseBadRequest(f"Unknown format “{fmt}”. Choose one of: {', '.join(LYRICS_FORMATS)}.")
    return lyrics_response(lyrics, fmt)


@require_GET
def midi_page(request, clip_id):
    raise NotImplementedError  # being written


@require_GET
def lyrics_page(request, lyrics_id):
    raise NotImplementedError  # being written
