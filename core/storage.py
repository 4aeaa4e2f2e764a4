"""Storage helpers that work the same on local disk and S3."""

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models, router
from django.db.models.deletion import Collector

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


def delete_prefix_logged(prefix: str) -> None:
    try:
        delete_prefix(prefix)
    except FileNotFoundError:
        pass
    except Exception:
        logger.exception("files under %s could not be deleted; the orphan scan will report them", prefix)


def delete_files_logged(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("file %s could not be deleted; the orphan scan will report it", name)


def files_of(objs) -> list[str]:
    """Every stored file of these rows and of every row that deleting them cascades to (samples cut from a stem,
    its MIDI clips...). Django's own deletion collector finds the rows, so no app has to list another's files."""
    objs = list(objs)
    if not objs:
        return []
    collector = Collector(using=router.db_for_write(type(objs[0])))
    collector.collect(objs)
    names = []
    for model, instances in collector.data.items():
        for field in _file_fields(model):
            names += [getattr(obj, field.attname) for obj in instances]
    for queryset in collector.fast_deletes:
        for field in _file_fields(queryset.model):
            names += queryset.values_list(field.attname, flat=True)
    return [str(name) for name in names if name]


def _file_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
