"""Owner-only audio delivery.

Local storage is served through Django with HTTP Range support (206 Partial Content), so the browser can
seek. On S3 the owner is redirected to a short-lived presigned URL instead. Anyone else gets a 404.
"""

import mimetypes
import os
import re
import tempfile

import soundfile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from audio import export_audio
from core.storage import is_local, local_path

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

CONTENT_TYPES = {
    "wav": "audio/wav",
    "aiff": "audio/aiff",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "m4a": "audio/mp4",
    "mid": "audio/midi",
    "zip": "application/zip",
}


def content_type_for(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def parse_range(header: str, size: int):
    """(start, end) inclusive for a single-range header, None to serve everything, or "invalid" for 416."""
    match = _RANGE.match((header or "").strip())
    if not match:
        return None  # absent, multi-range or malformed: RFC 9110 lets us answer with the whole file
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            return "invalid"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "invalid"
    return start, end


def _read_range(handle, start, length):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def serve_file(request, name: str, *, download_name: str | None = None, storage=default_storage):
    """Serve a stored file to a user who has already been checked as its owner."""
    if not name or not storage.exists(name):
        raise Http404("This file is no longer in storage.")
    content_type = content_type_for(download_name or name)
    if not is_local(storage):
        # Presigned: the bucket stays private and the URL expires (AWS_QUERYSTRING_EXPIRE).
        params = {"ResponseContentType": content_type}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition_header(True, download_name)
        return HttpResponseRedirect(storage.url(name, parameters=params))

    size = storage.size(name)
    wanted = parse_range(request.headers.get("Range"), size)
    if wanted == "invalid":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted is None:
        response = FileResponse(storage.open(name, "rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        length = end - start + 1
        response = StreamingHttpResponse(
            _read_range(storage.open(name, "rb"), start, length), status=206, content_type=content_type
        )
        response["Content-Length"] = str(length)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    return response


DRAG_FORMAT_DEFAULT = "wav24"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_filename(name: str, limit: int = 150) -> str:
    """`name` as a file name every desktop accepts: no path separators, reserved or control characters, no
    leading or trailing dots and spaces, at most `limit` characters."""
    cleaned = _UNSAFE.sub(" ", name).strip(" .")
    return " ".join(cleaned.split())[:limit].strip(" .") or "audio"


def serve_converted(request, name: str, *, download_name: str, storage=default_storage, **tags):
    """A stored audio file converted on the fly to the format the request asks for (?format=wav24|wav16|
    wav32f|aiff|flac|mp3, ?rate=44100|48000; default the file's own rate when it is one of those), with `tags`
    (bpm, key, note, title, artist, comment) in its metadata, as exports write them: what a drag into a DAW or
    onto the desktop fetches. The temporary file is gone once the response is closed. `download_name` is
    given without an extension (the format's is added). A bad format or rate: 400 with the reason."""
    fmt = request.GET.get("format") or DRAG_FORMAT_DEFAULT
    if not name or not storage.exists(name):
        raise Http404("This file is no longer in storage.")
    with local_path(name, suffix=os.path.splitext(name)[1]) as src:
        rate = request.GET.get("rate") or _own_rate(src)
        try:
            fmt, rate = export_audio.clean_format(fmt, rate)
        except ValueError as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        spec = export_audio.FORMATS[fmt]
        fd, out = tempfile.mkstemp(suffix=spec.extension, prefix="stemcrate-drag-")
        os.close(fd)
        try:
            export_audio.export_audio(src, out, fmt=fmt, sample_rate=rate, **tags)
            handle = open(out, "rb")  # noqa: SIM115 (FileResponse closes it)
        finally:
            os.unlink(out)  # the open handle keeps the data readable; nothing is left on disk
    filename = f"{download_name}{spec.extension}"
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type_for(filename))


def _own_rate(path) -> int:
    """The file's sample rate when exports offer it, else 48000 (a DAW's usual project rate)."""
    try:
        rate = soundfile.info(str(path)).samplerate
    except RuntimeError:
        return 48000
    return rate if rate in (44100, 48000) else 48000
