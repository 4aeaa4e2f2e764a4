"""Shared by the command-line importers: local files uploaded through the same service as the web."""

import os

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import CommandError


class LocalAudioFile(File):
    """A file on this machine, handed to do_upload_track without a copy (it reads it where it lies)."""

    def __init__(self, path):
        super().__init__(open(path, "rb"), name=os.path.basename(path))  # noqa: SIM115 (closed by the caller)
        self._path = path

    def temporary_file_path(self):
        return self._path


def get_user(username: str | None):
    """The --user account; with none given, the only account there is (or an error saying which to pick)."""
    users = get_user_model().objects.filter(is_active=True)
    if username:
        user = users.filter(username=username).first() or users.filter(email__iexact=username).first()
        if user is None:
            raise CommandError(f"There is no active user “{username}”.")
        return user
    if users.count() == 1:
        return users.get()
    raise CommandError("Say whose library this goes into with --user USERNAME.")
