"""`python manage.py backup OUT.tar`: the database (as a Django XML dump) and every media file, in one tar.

The tar holds db.xml, media/<storage path> for each stored file, and manifest.json (last) with the sha256
and size of each. Files are streamed one at a time from storage into the tar, never held in memory. Restore
with `manage.py restore`.

The dump keeps primary keys (no --natural-primary): stored paths contain user and track ids, so a restored
row must get the id it had. Foreign keys to content types and permissions use natural keys, since those rows
are not in the dump (migrations recreate them, possibly with other ids).
"""

import hashlib
import json
import os
import tarfile
import tempfile
import time

from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# Recreated by migrate/flush (contenttypes, permissions, sites' post_migrate) or not worth keeping.
EXCLUDE = ["contenttypes", "auth.permission", "sessions", "admin.logentry"]
# Which layout wrote db.xml: 1 = apps `library` and `processing`, 2 = one app per domain (stemcrate.backup_formats).
FORMAT = 2


def walk_storage(storage=default_storage, prefix: str = ""):
    stack = [prefix]
    while stack:
        current = stack.pop()
        try:
            dirs, files = storage.listdir(current)
        except FileNotFoundError:
            continue
        for name in sorted(files):
            yield f"{current}/{name}" if current else name
        stack.extend(f"{current}/{d}" if current else d for d in dirs)


class _HashingReader:
    """A file wrapper that hashes what tarfile reads through it."""

    def __init__(self, fh):
        self.fh, self.sha, self.size = fh, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.fh.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


class Command(BaseCommand):
    help = "Write the database and every media file into one tar (with sha256 checksums), for `restore`."

    def add_arguments(self, parser):
        parser.add_argument("output", help="The tar file to write.")

    def handle(self, *args, output, **options):
        manifest = {"format": FORMAT, "created_at": time.time(), "files": {}}
        partial = f"{output}.partial"
        with tempfile.TemporaryDirectory(prefix="stemcrate-backup-") as tmp:
            dump = os.path.join(tmp, "db.xml")
            # XML, not JSON: Django's JSON encoder cuts datetimes to milliseconds, which is not an exact copy.
            call_command("dumpdata", format="xml", natural_foreign=True, exclude=EXCLUDE, output=dump, verbosity=0)
            with tarfile.open(partial, "w") as tar:
                manifest["database"] = {"sha256": _sha256_file(dump), "size": os.path.getsize(dump)}
                tar.add(dump, arcname="db.xml")
                for name in walk_storage():
                    size = default_storage.size(name)
                    info = tarfile.TarInfo(f"media/{name}")
                    info.size, info.mtime = size, int(time.time())
                    with default_storage.open(name, "rb") as fh:
                        reader = _HashingReader(fh)
                        tar.addfile(info, reader)
                    if reader.size != size:
                        raise CommandError(f"{name} changed while it was being backed up; run the backup again.")
                    manifest["files"][name] = {"sha256": reader.sha.hexdigest(), "size": size}
                data = json.dumps(manifest, indent=1).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime = len(data), int(time.time())
                tar.addfile(info, _BytesReader(data))
        os.replace(partial, output)  # a failed backup never leaves a complete-looking file
        self.stdout.write(f"Backed up the database and {len(manifest['files'])} file(s) to {output}.")


class _BytesReader:
    def __init__(self, data):
        import io

        self._io = io.BytesIO(data)

    def read(self, n=-1):
        return self._io.read(n)


def _sha256_file(path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()
