"""`python manage.py restore IN.tar [--force]`: load a `backup` into an empty database and storage.

Every file's sha256 is checked against the manifest before it is stored, and the dump's before it is loaded;
a mismatch stops the restore. Without --force, a database that already has rows (or storage that already has
files) is refused; --force flushes the database and overwrites the backed-up files.

A backup made by an older layout (its manifest's "format", see stemcrate.backup_formats) has its dump converted
to the current one before it is loaded; its files are stored as they are.
"""

import hashlib
import json
import os
import tarfile
import tempfile
import xml.etree.ElementTree as ET

from django.apps import apps
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from stemcrate.backup_formats import FormatError, convert_format1
from stemcrate.management.commands.backup import FORMAT, walk_storage

# Format -> the conversion of its db.xml to the current format.
CONVERSIONS = {1: convert_format1, FORMAT: None}

# Rows that migrations (or flush's post_migrate) create by themselves: their presence is still "empty".
CREATED_BY_MIGRATE = {"contenttypes.contenttype", "auth.permission", "sites.site"}


def _occupied_models() -> list[str]:
    return [
        model._meta.label
        for model in apps.get_models()
        if model._meta.label_lower not in CREATED_BY_MIGRATE and model._meta.managed and model._default_manager.exists()
    ]


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database and storage."

    def add_arguments(self, parser):
        parser.add_argument("input", help="The tar file written by `manage.py backup`.")
        parser.add_argument("--force", action="store_true", help="Flush the database and overwrite stored files.")

    def handle(self, *args, input, force=False, **options):
        if not os.path.isfile(input):
            raise CommandError(f"{input} does not exist.")
        with tarfile.open(input, "r") as tar:
            try:
                manifest = json.load(tar.extractfile("manifest.json"))
            except KeyError:
                raise CommandError(f"{input} has no manifest.json: it is not a complete Stemcrate backup.") from None
            backup_format = manifest.get("format")
            if type(backup_format) is not int or backup_format not in CONVERSIONS:
                known = ", ".join(str(f) for f in sorted(CONVERSIONS))
                raise CommandError(f"{input} is a backup in format {backup_format}; this version reads {known}.")
            occupied = _occupied_models()
            existing = next(walk_storage(), None)
            if (occupied or existing) and not force:
                what = f"the database has rows ({', '.join(occupied[:5])})" if occupied else "storage has files"
                raise CommandError(
                    f"Refusing to restore: {what}. Restore into an empty database and storage, or pass --force "
                    "to flush the database and overwrite the backed-up files."
                )
            with tempfile.TemporaryDirectory(prefix="stemcrate-restore-") as tmp:
                dump = os.path.join(tmp, "db.xml")
                self._extract_checked(tar, "db.xml", manifest["database"], dump)
                convert = CONVERSIONS[backup_format]
                if convert is not None:
                    # Before the flush, so that a dump that cannot be converted leaves the database as it was.
                    with open(dump, "rb") as fh:
                        try:
                            converted = convert(fh.read())
                        except (FormatError, ET.ParseError) as exc:
                            raise CommandError(f"{input} (format {backup_format}) cannot be converted: {exc}") from exc
                    with open(dump, "wb") as fh:
                        fh.write(converted)
                if force:
                    call_command("flush", interactive=False, verbosity=0)
                with transaction.atomic():
                    call_command("loaddata", dump, verbosity=0)
                restored = 0
                for name, expected in manifest["files"].items():
                    if name.startswith("/") or ".." in name.split("/"):
                        raise CommandError(f"refusing to restore a file outside storage: {name!r}")
                    local = os.path.join(tmp, "file")
                    self._extract_checked(tar, f"media/{name}", expected, local)
                    if default_storage.exists(name):
                        default_storage.delete(name)
                    with open(local, "rb") as fh:
                        saved = default_storage.save(name, File(fh, name=os.path.basename(name)))
                    if saved != name:
                        raise CommandError(f"{name} was stored as {saved}; storage is not empty.")
                    os.unlink(local)
                    restored += 1
        self.stdout.write(f"Restored the database and {restored} file(s) from {input}; every checksum matched.")

    @staticmethod
    def _extract_checked(tar, member: str, expected: dict, target: str) -> None:
        try:
            src = tar.extractfile(member)
        except KeyError:
            raise CommandError(f"The backup lacks {member}, which its manifest lists.") from None
        sha = hashlib.sha256()
        with src, open(target, "wb") as out:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                sha.update(chunk)
                out.write(chunk)
        if sha.hexdigest() != expected["sha256"]:
            raise CommandError(f"{member} does not match its checksum: the backup is damaged; the restore stopped.")
