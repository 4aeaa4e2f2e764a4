"""Storage helpers that work the same on local disk and S3."""

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from django.core.files.storage import FileSystemStorage, default_storage

logger = logging.getLogger(__name__)


def is_local(storage=default_storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def delete_prefix(prefix: str, storage=default_storage) -> int:
    """Delete every file under `prefix` (a track's folder). Returns how many files were removed."""
    prefix = prefix.strip("/")
    if not prefix or ".." in prefix.split("/"):
        raise ValueError(f"refusing to delete storage prefix {prefix!r}")
    if is_local(storage):
        root = Path(storage.path(prefix))
        if not root.exists():
            return 0
        count = sum(1 for p in root.rglob("*") if p.is_file())
        shutil.rmtree(root)
        return count
    count = 0
    stack = [prefix]
    while stack:
        current = stack.pop()
        dirs, files = storage.listdir(current)
        for name in files:
            storage.delete(f"{current}/{name}")
            count += 1
        stack.extend(f"{current}/{d}" for d in dirs)
    return count


@contextlib.contextmanager
def local_path(name: str, storage=default_storage, suffix: str = ""):
    """A local filesystem path for a stored file: the file itself on disk storage, a temporary copy on S3."""
    if is_local(storage):
        yield storage.path(name)
        return
    fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="stemcrate-")
    try:
        with os.fdopen(fd, "wb") as out, storage.open(name, "rb") as src:
            shutil.copyfileobj(src, out, length=1024 * 1024)
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
