"""Upload handling: stream to a temporary file, hashing and enforcing the size limit while the bytes arrive."""

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Every upload goes to disk (never into memory), and gets its SHA-256 and size as it streams.

    An upload over UPLOAD_MAX_SIZE is cut off as soon as it crosses the limit; the view then answers 413.
    """

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._sha256 = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.UPLOAD_MAX_SIZE:
            self.request.upload_too_large = True
            self.file.close()  # deletes the temporary file now, not at the end of the request
            raise StopUpload(connection_reset=False)
        self._sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            uploaded.sha256 = self._sha256.hexdigest()
        return uploaded


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(name: str, limit: int = 255) -> str:
    """A file name fit to show: no directories, no control characters, NFC, at most `limit` characters.

    It is only ever displayed and used as a default title, never as a storage path.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = PureWindowsPath(PurePosixPath(name).name).name  # "../../x.wav" and "C:\\x.wav" -> "x.wav"
    name = _CONTROL.sub("", name).strip().strip(".")
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: limit - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:limit]
    return name or "untitled"


def title_from_filename(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"[_]+", " ", stem).strip()[:300] or "Untitled"
