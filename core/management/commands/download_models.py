import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audio import weights


class Command(BaseCommand):
    help = (
        "Download model weights into MODEL_DIR (needs a network). With no names, lists the known models and "
        "which are installed. Example: python manage.py download_models htdemucs small"
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="model names, e.g. htdemucs htdemucs_6s small turbo")
        parser.add_argument("--force", action="store_true", help="download again even when installed")

    def handle(self, *args, names, force, **options):
        model_dir = settings.MODEL_DIR
        if not names:
            self._list(model_dir)
            return
        for name in names:
            try:
                weights.get_spec(name)
            except weights.UnknownModel as exc:
                raise CommandError(str(exc)) from exc
        for name in names:
            if weights.installed(name, model_dir) and not force:
                self.stdout.write(f"{name}: already installed in {model_dir}")
                continue
            self.stdout.write(f"{name}: downloading into {model_dir}")
            try:
                weights.download(name, model_dir, progress=_ProgressBar(self.stdout), force=force)
            except weights.DownloadError as exc:
                raise CommandError(f"{name}: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"\n{name}: installed"))

    def _list(self, model_dir):
        self.stdout.write(f"Models in {model_dir}:")
        for info in weights.list_models(model_dir):
            state = "installed" if info["installed"] else "missing  "
            size = f"{info['size'] / 1e6:8.0f} MB" if info.get("size") else " " * 11
            self.stdout.write(f"  {state} {size}  {info['kind']:8} {info['name']:16} {info['description']}")
        self.stdout.write("Install with: python manage.py download_models NAME [NAME ...]")


class _ProgressBar:
    """A one-line text progress bar: `[#####.....]  52%  81.3/156.2 MB`."""

    def __init__(self, stream, width=30):
        self.stream = stream
        self.width = width
        self.last = None

    def __call__(self, done, total):
        if total:
            filled = int(self.width * done / total)
            line = f"\r  [{'#' * filled}{'.' * (self.width - filled)}] {100 * done / total:3.0f}%  "
            line += f"{done / 1e6:.1f}/{total / 1e6:.1f} MB"
        else:
            line = f"\r  {done / 1e6:.1f} MB"
        if line != self.last:
            self.stream.write(line, ending="")
            self.stream.flush()
            self.last = line
        if total and done >= total:
            sys.stdout.flush()
