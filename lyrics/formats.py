"""Lyrics and MIDI as files: the export formats, shared by the pages, the API and (later) ZIP exports."""

from django.http import HttpResponse

from audio import lyrics as engine

LYRICS_FORMATS = {
    "lrc": ("application/octet-stream", "lrc"),
    "srt": ("application/x-subrip", "srt"),
    "vtt": ("text/vtt", "vtt"),
    "json": ("application/json", "json"),
    "txt": ("text/plain", "txt"),
}


def lyrics_file(lyrics, fmt: str) -> str:
    """The lyrics (as the user edited them) in one of LYRICS_FORMATS; ValueError for another format."""
    if fmt not in LYRICS_FORMATS:
        raise ValueError(f"Unknown format “{fmt}”. Choose one of: {', '.join(LYRICS_FORMATS)}.")
    data = engine.Lyrics.from_dict(lyrics.data)
    track = lyrics.track
    if fmt == "lrc":
        return engine.to_lrc(data, title=track.title or None, artist=track.artist or None, length=track.duration)
    if fmt == "srt":
        return engine.to_srt(data, length=track.duration)
    if fmt == "vtt":
        return engine.to_vtt(data, length=track.duration)
    if fmt == "json":
        return engine.to_json(data)
    return engine.to_text(data)


def lyrics_response(lyrics, fmt: str) -> HttpResponse:
    body = lyrics_file(lyrics, fmt)
    content_type, ext = LYRICS_FORMATS[fmt]
    response = HttpResponse(body.encode("utf-8"), content_type=f"{content_type}; charset=utf-8")
    name = f"{lyrics.track.display_title} - Lyrics.{ext}".replace('"', "'").replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="{name.encode("ascii", "replace").decode()}"'
    return response
