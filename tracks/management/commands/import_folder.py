"""Bulk-import a folder of music into a user's library, skipping files that are already there."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audio.audio_io import SUPPORTED_EXTENSIONS
from core.quotas import exempt
from tracks.management.commands._local import LocalAudioFile, get_user
from tracks.services import UploadError, do_upload_track


class Command(BaseCommand):
    help = (
        "Import every audio file (WAV, AIFF, FLAC, MP3, OGG/Opus, M4A) under DIR into a library. Files already "
        "in it (the same bytes) are skipped; each one is checked and analysed as an upload would be."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--user", help="username or email (default: the only user)")
        parser.add_argument("--no-recursive", action="store_true", help="only the folder itself")
        parser.add_argument("--dry-run", action="store_true", help="list what would be imported")

    def handle(self, directory, user=None, no_recursive=False, dry_run=False, **options):
        root = Path(directory).expanduser()
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        owner = get_user(user)
        files = sorted(self._audio_files(root, recursive=not no_recursive))
        if not files:
            self.stdout.write(f"No audio files in {root} (looked for {', '.join(SUPPORTED_EXTENSIONS)}).")
            return
        counts = {"imported": 0, "duplicate": 0, "failed": 0}
        width = len(str(len(files)))
        for number, path in enumerate(files, 1):
            label = f"[{number:>{width}}/{len(files)}] {path.relative_to(root)}"
            if dry_run:
                self.stdout.write(f"{label}: would import")
                continue
            try:
                with LocalAudioFile(str(path)) as fh, exempt():  # an admin's bulk import: the quota still applies
                    result = do_upload_track(owner, fh)
            except UploadError as exc:
                counts["failed"] += 1
                self.stderr.write(f"{label}: skipped, {exc.reason}")
                continue
            except OSError as exc:
                counts["failed"] += 1
                self.stderr.write(f"{label}: could not be read ({exc.strerror or exc})")
                continue
            if result.created:
                counts["imported"] += 1
                self.stdout.write(f"{label}: imported as “{result.track.display_title}”")
            else:
                counts["duplicate"] += 1
                self.stdout.write(f"{label}: already in the library (“{result.track.display_title}”)")
        if not dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{counts['imported']} imported, {counts['duplicate']} already there, {counts['failed']} failed "
                    f"into {owner.get_username()}'s library. Analysis runs on the workers."
                )
            )
        if counts["failed"] and not counts["imported"] and not counts["duplicate"]:
            raise CommandError("Nothing could be imported.")

    @staticmethod
    def _audio_files(root: Path, recursive: bool):
        walker = os.walk(root) if recursive else [(str(root), [], os.listdir(root))]
        for folder, dirs, names in walker:
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                path = Path(folder) / name
                if not name.startswith(".") and path.suffix.lower() in SUPPORTED_EXTENSIONS and path.is_file():
                    yield path
