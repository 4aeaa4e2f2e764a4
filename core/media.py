"""Owner-only audio delivery.

Local storage is served through Django with HTTP Range support (206 Partial Content), so the browser can
seek. On S3 the owner is redirected to a short-lived presigned URL instead. Anyone else gets a 404.
"""

import mimetypes
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from core.storage import is_local

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
