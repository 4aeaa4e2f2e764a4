"""The model store: which Demucs and Whisper weights exist, where they live, downloading and loading them.

Pure code: nothing here knows about Django or the project's apps; every function takes the store's folder
(`model_dir`, `settings.MODEL_DIR` in the app) as an argument. torch, demucs and whisper are imported only by the
functions that load models, so listing or checking models is cheap (a web process can call `list_models`).

Layout of `model_dir`, exactly as each library reads it, so that neither ever needs the network:

    demucs/<sig>-<checksum>.th   one Demucs model (`demucs --repo <model_dir>/demucs` reads this folder): a
                                 `torch.save` of demucs' `states.serialize_model`, <checksum> being the first 8 hex
                                 digits of the file's sha256 (demucs checks it on every load)
    demucs/<name>.yaml           a bag of models: the signatures, optional per-source weights and segment,
                                 copied from the installed demucs package (demucs/remote/<name>.yaml)
    whisper/<file>.pt            a Whisper checkpoint, {"dims": ..., "model_state_dict": ...}, named like the last
                                 part of its URL (tiny.pt, large-v3.pt...), where whisper.load_model's
                                 `download_root` looks for it

Weights are only ever fetched by `download` (the `download_models` command), never by a worker on its own:
`load_demucs`/`load_whisper` check the files first and raise `ModelNotInstalled` (with the command to run) when
any is missing, before the libraries get a chance to reach for the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEMUCS_MODELS",
    "MODELS",
    "WHISPER_MODELS",
    "ChecksumMismatch",
    "DemucsModel",
    "DeviceUnavailable",
    "DownloadError",
    "ModelLoadError",
    "ModelNotInstalled",
    "UnknownModel",
    "WhisperModel",
    "cache_info",
    "cached",
    "clear_cache",
    "download",
    "files_stamp",
    "get_model",
    "get_spec",
    "installed",
    "list_models",
    "load_demucs",
    "load_whisper",
    "missing_files",
    "model_files",
    "pick_device",
    "verify",
]

DEMUCS_SUBDIR = "demucs"
WHISPER_SUBDIR = "whisper"
DEMUCS_ROOT_URL = "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/"
WHISPER_ROOT_URL = "https://openaipublic.azureedge.net/main/whisper/models/"

DOWNLOAD_TIMEOUT = 60.0  # seconds without data before a download is abandoned
DOWNLOAD_BLOCK = 1 << 20

# --------------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class DemucsModel:
    """A Demucs bag of models: `files` are the official `<sig>-<checksum>.th` names (demucs/remote/files.txt)."""

    name: str
    files: tuple[str, ...]
    sources: tuple[str, ...]
    description: str
    kind: str = "demucs"

    @property
    def signatures(self) -> tuple[str, ...]:
        return tuple(f.split("-", 1)[0] for f in self.files)

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(DEMUCS_ROOT_URL + f for f in self.files)


@dataclass(frozen=True)
class WhisperModel:
    """A Whisper checkpoint; the sha256 of the file is the URL's last folder (as whisper itself checks it)."""

    name: str
    url: str
    n_mels: int
    n_vocab: int
    description: str
    alias_of: str | None = None
    kind: str = "whisper"

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def sha256(self) -> str:
        return self.url.split("/")[-2]


_FOUR = ("drums", "bass", "other", "vocals")

#: Demucs models by name. File names and checksums come from demucs/remote/files.txt (tests compare them).
DEMUCS_MODELS: dict[str, DemucsModel] = {
    m.name: m
    for m in (
        DemucsModel(
            "htdemucs",
            ("955717e8-8726e21a.th",),
            _FOUR,
            "Hybrid Transformer Demucs v4: drums, bass, other, vocals",
        ),
        DemucsModel(
            "htdemucs_ft",
            ("f7e0c4bc-ba3fe64a.th", "d12395a8-e57c48e6.th", "92cfc3b6-ef3bcb9c.th", "04573f0d-f3cf25b2.th"),
            _FOUR,
            "Hybrid Transformer Demucs v4, fine-tuned: one model per source (best quality, 4x slower)",
        ),
        DemucsModel(
            "htdemucs_6s",
            ("5c90dfd2-34c22ccb.th",),
            (*_FOUR, "guitar", "piano"),
            "Hybrid Transformer Demucs v4, 6 sources: adds guitar and piano (experimental)",
        ),
    )
}


# name, sha256 of the file (the URL's last folder), file name, n_mels, n_vocab: whisper._MODELS of
# openai-whisper 20250625 (the tests compare). "large" and "turbo" are whisper's other names for two files.
_WHISPER_TABLE = """
tiny.en         d3dd57d32accea0b295c96e26691aa14d8822fac7d9d27d5dc00b4ca2826dd03  tiny.en.pt         80  51864
tiny            65147644a518d12f04e32d6f3b26facc3f8dd46e5390956a9424a650c0ce22b9  tiny.pt            80  51865
base.en         25a8566e1d0c1e2231d1c762132cd20e0f96a85d16145c3a00adf5d1ac670ead  base.en.pt         80  51864
base            ed3a0b6b1c0edf879ad9b11b1af5a0e6ab5db9205f891f668f8b0e6c6326e34e  base.pt            80  51865
small.en        f953ad0fd29cacd07d5a9eda5624af0f6bcf2258be67c92b79389873d91e0872  small.en.pt        80  51864
small           9ecf779972d90ba49c06d968637d720dd632c55bbf19d441fb42bf17a411e794  small.pt           80  51865
medium.en       d7440d1dc186f76616474e0ff0b3b6b879abc9d1a4926b7adfa41db2d497ab4f  medium.en.pt       80  51864
medium          345ae4da62f9b3d59415adc60127b97c714f32e89e936602e85993674d08dcb1  medium.pt          80  51865
large-v1        e4b87e7e0bf463eb8e6956e646f1e277e901512310def2c24bf0e11bd3c28e9a  large-v1.pt        80  51865
large-v2        81f7c96c852ee8fc832187b0132e569d6c3065a3252ed18e56effd0b6a73e524  large-v2.pt        80  51865
large-v3        e5b1a55b89c1367dacf97e3e19bfd829a01529dbfdeefa8caeb59b3f1b81dadb  large-v3.pt       128  51866
large           e5b1a55b89c1367dacf97e3e19bfd829a01529dbfdeefa8caeb59b3f1b81dadb  large-v3.pt       128  51866
large-v3-turbo  aff26ae408abcba5fbf8813c21e62b0941638c5f6eebfb145be0c9839262a19a  large-v3-turbo.pt 128  51866
turbo           aff26ae408abcba5fbf8813c21e62b0941638c5f6eebfb145be0c9839262a19a  large-v3-turbo.pt 128  51866
"""
_WHISPER_ALIASES = {"large": "large-v3", "turbo": "large-v3-turbo"}
_WHISPER_SIZES = {"tiny": "39M", "base": "74M", "small": "244M", "medium": "769M", "large": "1550M", "turbo": "809M"}


def _whisper_description(name: str) -> str:
    if name in _WHISPER_ALIASES:
        return f"Whisper {name} (another name for {_WHISPER_ALIASES[name]})"
    size = name.split(".")[0].split("-")[0] if "turbo" not in name else "turbo"
    language = "English only" if name.endswith(".en") else "multilingual"
    return f"Whisper {name.removesuffix('.en')}, {language} ({_WHISPER_SIZES[size]} parameters)"


#: Whisper models by name.
WHISPER_MODELS: dict[str, WhisperModel] = {
    name: WhisperModel(
        name,
        f"{WHISPER_ROOT_URL}{digest}/{filename}",
        int(n_mels),
        int(n_vocab),
        _whisper_description(name),
        _WHISPER_ALIASES.get(name),
    )
    for name, digest, filename, n_mels, n_vocab in (line.split() for line in _WHISPER_TABLE.strip().splitlines())
}

#: Every known model by name.
MODELS: dict[str, DemucsModel | WhisperModel] = {**DEMUCS_MODELS, **WHISPER_MODELS}


# ------------------------------------------------------------------------------------------------- errors


class ModelNotInstalled(Exception):
    """The weights of a known model are not in the store; the message says which command fetches them."""

    def __init__(self, name: str, missing: list[str] | None = None, command: str | None = None):
        self.command = command or f"python manage.py download_models {name}"
        super().__init__(f"model {name} is not installed: run {self.command}")
        self.name = name
        self.missing = list(missing or [])


class UnknownModel(ValueError):
    def __init__(self, name: str, kind: str | None = None, known: list[str] | None = None):
        if known is None:
            known = sorted(n for n, spec in MODELS.items() if kind is None or spec.kind == kind)
        what = f"{kind} model" if kind else "model"
        super().__init__(f"unknown {what} {name!r}; known: {', '.join(known)}")
        self.name = name


class DownloadError(RuntimeError):
    """A download that could not be completed (nothing was installed)."""


class ChecksumMismatch(DownloadError):
    """Downloaded bytes that are not the published file (the partial file has been removed)."""


class ModelLoadError(RuntimeError):
    """Files that are present but cannot be loaded (damaged, wrong format, or not what the name says)."""


class DeviceUnavailable(RuntimeError):
    """A device that was asked for explicitly (cuda, cuda:1) is not available on this machine."""


# ---------------------------------------------------------------------------------------------- inspecting


def get_spec(name: str, kind: str | None = None) -> DemucsModel | WhisperModel:
    """The registry entry of a model; UnknownModel (a ValueError) for other names or another kind."""
    spec = MODELS.get(name)
    if spec is None or (kind is not None and spec.kind != kind):
        raise UnknownModel(name, kind)
    return spec


def _demucs_weight_file(folder: Path, sig: str) -> Path | None:
    """The .th file demucs' LocalRepo would use for `sig` (`<sig>-<checksum>.th` or `<sig>.th`), if any."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return None
    found = None
    for entry in entries:
        if not entry.name.endswith(".th") or not entry.is_file():
            continue
        stem = entry.name[:-3]
        if stem == sig or (stem.count("-") == 1 and stem.split("-")[0] == sig):
            if found is not None:  # demucs refuses to choose: "Duplicate pre-trained model exist"
                raise ModelLoadError(
                    f"two files for the demucs model signature {sig} in {folder} ({found.name}, {entry.name}); "
                    "delete all but one"
                )
            found = Path(entry.path)
    return found


def _files(name: str, model_dir: str | os.PathLike) -> list[tuple[str, Path | None]]:
    """(path relative to model_dir as published, the file in use or None) for each file of a model."""
    spec = get_spec(name)
    root = Path(model_dir)
    if isinstance(spec, WhisperModel):
        rel = f"{WHISPER_SUBDIR}/{spec.filename}"
        path = root / rel
        return [(rel, path if path.is_file() else None)]
    folder = root / DEMUCS_SUBDIR
    out: list[tuple[str, Path | None]] = [
        (f"{DEMUCS_SUBDIR}/{file}", _demucs_weight_file(folder, sig))
        for file, sig in zip(spec.files, spec.signatures, strict=True)
    ]
    bag = folder / f"{name}.yaml"
    out.append((f"{DEMUCS_SUBDIR}/{name}.yaml", bag if bag.is_file() else None))
    return out


def missing_files(name: str, model_dir: str | os.PathLike) -> list[str]:
    """The files of a model not in the store, as paths relative to model_dir (the published names)."""
    return [rel for rel, path in _files(name, model_dir) if path is None]


def installed(name: str, model_dir: str | os.PathLike) -> bool:
    """Whether every file of the model is in the store (a cheap check: names only, no checksums)."""
    return not missing_files(name, model_dir)


def model_files(name: str, model_dir: str | os.PathLike) -> list[Path]:
    """The files a model loads from; ModelNotInstalled when any is missing."""
    files = _files(name, model_dir)
    missing = [rel for rel, path in files if path is None]
    if missing:
        raise ModelNotInstalled(name, missing)
    return [path for _, path in files if path is not None]


def list_models(model_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every known model: name, kind, description, installed, size (bytes on disk when installed, else None),
    alias_of (for Whisper's "large" and "turbo", which are other names for the same files) and problem (None,
    or why the installed files cannot be used)."""
    rows = []
    for name, spec in MODELS.items():
        problem = None
        try:
            files = _files(name, model_dir)
        except ModelLoadError as exc:  # e.g. two files for one demucs signature
            files, problem = [("", None)], str(exc)
        is_installed = all(path is not None for _, path in files)
        size = sum(path.stat().st_size for _, path in files if path is not None) if is_installed else None
        rows.append(
            {
                "name": name,
                "kind": spec.kind,
                "description": spec.description,
                "installed": is_installed,
                "size": size,
                "alias_of": getattr(spec, "alias_of", None),
                "problem": problem,
            }
        )
    return rows


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(DOWNLOAD_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify(name: str, model_dir: str | os.PathLike) -> list[str]:
    """Check the installed files' checksums (reads them all); returns the problems found (empty: all good).

    Demucs files are checked against the checksum in their own name (what demucs checks on load); Whisper files
    against the published sha256. A missing model raises ModelNotInstalled.
    """
    spec = get_spec(name)
    problems = []
    for path in model_files(name, model_dir):
        if path.suffix == ".yaml":
            continue
        if isinstance(spec, WhisperModel):
            expected = spec.sha256
        else:
            expected = path.stem.split("-", 1)[1] if "-" in path.stem else ""
            if not expected:
                continue  # `<sig>.th`: demucs has no checksum to compare with either
        actual = _sha256(path)[: len(expected)]
        if actual != expected:
            problems.append(f"{path}: sha256 starts {actual}, expected {expected}")
    return problems


# ----------------------------------------------------------------------------------------------- download


def _bag_yaml(name: str) -> str:
    """The bag file shipped inside the installed demucs package (demucs/remote/<name>.yaml)."""
    from importlib.resources import files

    return (files("demucs") / "remote" / f"{name}.yaml").read_text()


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _content_length(response) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _fetch(url: str, target: Path, expected: str, opener, progress, digest=None) -> None:
    """Stream `url` into a temporary file next to `target`, check its sha256 (prefix) and rename it into place.

    `digest`: another hashlib object to check against instead (already fed any header the checksum covers,
    such as git's `blob <size>\\0` for a git blob id).

    The temporary name ends in `.part`, which neither demucs (.th, .yaml) nor whisper looks at, and it is
    removed on any failure, so the store never holds a partial or unverified file under a real name.
    """
    try:
        response = opener(url, timeout=DOWNLOAD_TIMEOUT)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"could not download {url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"could not download {url}: {reason}. Is this machine offline? Model weights are downloaded from "
            f"the internet; on a machine without it, copy the file to {target}"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        digest = digest if digest is not None else hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out, response:
            total = _content_length(response)
            if progress:
                progress(0, total)
            while True:
                try:
                    block = response.read(DOWNLOAD_BLOCK)
                except (urllib.error.URLError, OSError) as exc:  # connection reset, timeout...
                    raise DownloadError(f"download of {url} was interrupted after {done} bytes: {exc}") from exc
                if not block:
                    break
                out.write(block)  # a full disk raises its own, clear OSError
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if total is not None and done != total:
            raise DownloadError(f"download of {url} was cut short: {done} of {total} bytes")
        actual = digest.hexdigest()[: len(expected)]
        if actual != expected:
            raise ChecksumMismatch(
                f"download of {url} is damaged or not the published file: {digest.name} starts {actual}, "
                f"expected {expected}; nothing was installed"
            )
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def download(
    name: str,
    model_dir: str | os.PathLike,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
    force: bool = False,
) -> list[Path]:
    """Fetch a model's files into the store (those already there are kept unless `force`); returns its files.

    Each file is streamed into a temporary file next to its target, its sha256 is checked (Demucs: the first 8
    hex digits, which are in the file name; Whisper: the full digest, which is in the URL), then it is renamed
    into place, so an interrupted or damaged download leaves nothing behind. A Demucs bag also gets its .yaml
    file, copied from the installed demucs package. `progress(bytes_done, bytes_total_or_None)` is called for
    each file as it downloads. `opener(url, timeout=...)` opens URLs (urllib.request.urlopen; tests pass a fake).
    Raises DownloadError (offline, HTTP errors, short reads) or ChecksumMismatch.
    """
    spec = get_spec(name)
    root = Path(model_dir)
    if isinstance(spec, WhisperModel):
        target = root / WHISPER_SUBDIR / spec.filename
        if force or not target.is_file():
            _fetch(spec.url, target, spec.sha256, opener, progress)
        return [target]
    folder = root / DEMUCS_SUBDIR
    for file, sig, url in zip(spec.files, spec.signatures, spec.urls, strict=True):
        current = _demucs_weight_file(folder, sig)
        if current is not None and not force:
            continue
        target = folder / file
        _fetch(url, target, file[: -len(".th")].split("-", 1)[1], opener, progress)
        # demucs refuses two files for one signature: the new file replaces any other one.
        if current is not None and current != target:
            current.unlink(missing_ok=True)
    bag = folder / f"{name}.yaml"
    if force or not bag.is_file():
        _atomic_write_text(bag, _bag_yaml(name))
    return model_files(name, root)


# -------------------------------------------------------------------------------------------------- loading


def pick_device(preference: str = "auto") -> str:
    """The torch device to run on: "auto" is "cuda" when a GPU is usable, else "cpu"; "cpu", "cuda" and
    "cuda:N" are honoured as given, and DeviceUnavailable is raised when a GPU is asked for but missing."""
    import torch

    pref = (preference or "auto").strip().lower()
    if pref == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if pref == "cpu":
        return "cpu"
    if pref == "cuda" or pref.startswith("cuda:"):
        index = None
        if pref != "cuda":
            try:
                index = int(pref.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"unknown device {preference!r}: use auto, cpu, cuda or cuda:N") from None
        if not torch.cuda.is_available():
            why = "this torch is built without CUDA" if torch.version.cuda is None else "no GPU is visible"
            raise DeviceUnavailable(f"device {preference!r} was requested but CUDA is not available ({why}); use cpu")
        count = torch.cuda.device_count()
        if index is not None and not 0 <= index < count:
            raise DeviceUnavailable(f"device {preference!r} was requested but there are {count} GPU(s)")
        return pref
    raise ValueError(f"unknown device {preference!r}: use auto, cpu, cuda or cuda:N")


def _demucs_safe_globals() -> list:
    # torch >= 2.6 loads checkpoints with weights_only=True by default, and a demucs checkpoint names the model
    # class (and may hold a Fraction segment). Only those are allowed; everything else is plain tensors/data.
    from fractions import Fraction

    from demucs.demucs import Demucs
    from demucs.hdemucs import HDemucs
    from demucs.htdemucs import HTDemucs

    return [HTDemucs, HDemucs, Demucs, Fraction]


# Loading is serialised: torch's safe-globals list is process-wide, and two threads loading the same model
# would only waste memory.
_load_lock = threading.RLock()


def load_demucs(name: str, model_dir: str | os.PathLike, device: str = "cpu"):
    """Load a Demucs bag from the store (demucs.pretrained.get_model with repo=<model_dir>/demucs), in eval mode
    on `device`. ModelNotInstalled is raised before demucs is involved when any file is missing, so demucs
    never reaches for its remote repository (with `repo` it only reads that folder anyway)."""
    get_spec(name, "demucs")
    model_files(name, model_dir)
    import pickle

    import torch
    from demucs.pretrained import get_model as demucs_get_model
    from demucs.repo import ModelLoadingError

    repo = Path(model_dir) / DEMUCS_SUBDIR
    with _load_lock:
        try:
            with torch.serialization.safe_globals(_demucs_safe_globals()):
                model = demucs_get_model(name, repo=repo)
        except ModelLoadingError as exc:
            raise ModelLoadError(f"demucs model {name} in {repo} cannot be loaded: {exc}") from exc
        except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError) as exc:
            raise ModelLoadError(f"demucs model {name} in {repo} is damaged or not a demucs model: {exc}") from exc
    return model.to(device).eval()


def load_whisper(name: str, model_dir: str | os.PathLike, device: str = "cpu"):
    """Load a Whisper model from <model_dir>/whisper/<file>.pt with whisper.load_model, on `device`.

    The checkpoint is passed to whisper.load_model by path: by name, whisper would hash the whole file in memory
    on every load and download it again when the hash differs, which a worker must never do. Files are checked
    when they are downloaded (and by `verify`). The word-timing attention heads that whisper sets for an
    official name are set here too, when the checkpoint has that model's shape.
    """
    spec = get_spec(name, "whisper")
    (path,) = model_files(name, model_dir)
    import whisper

    with _load_lock:
        try:
            model = whisper.load_model(str(path), device=device)
        except (RuntimeError, KeyError, TypeError, EOFError) as exc:
            raise ModelLoadError(f"whisper model {name} at {path} is damaged or not a whisper model: {exc}") from exc
    heads = whisper._ALIGNMENT_HEADS.get(spec.alias_of or spec.name)
    if heads is not None and _alignment_heads_fit(heads, model.dims):
        model.set_alignment_heads(heads)
    return model


def _alignment_heads_fit(dump: bytes, dims) -> bool:
    import base64
    import gzip

    return len(gzip.decompress(base64.b85decode(dump))) == dims.n_text_layer * dims.n_text_head


# ---------------------------------------------------------------------------------------------------- cache


@dataclass
class _Entry:
    stamp: tuple
    model: Any


_cache: dict[tuple, _Entry] = {}
_cache_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0, "loads": 0}


def files_stamp(paths) -> tuple:
    """(path, mtime, size) of each file: what changes when a model's files are replaced."""
    stamps = []
    for path in paths:
        st = Path(path).stat()
        stamps.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stamps)


def _stamp(name: str, model_dir: str | os.PathLike) -> tuple:
    return files_stamp(model_files(name, model_dir))


def get_model(kind: str, name: str, model_dir: str | os.PathLike, device: str = "cpu"):
    """A loaded model, kept for the life of the process: a second job on the same worker does not load it again.

    Keyed by (kind, name, model_dir, device); the files' mtimes and sizes are checked on every call (a few
    stat calls) and a model whose files changed is loaded again. Thread-safe. Raises ModelNotInstalled when
    files are missing (also for a model that was cached before its files were removed).
    """
    if kind not in ("demucs", "whisper"):
        raise ValueError(f"unknown model kind {kind!r}; use demucs or whisper")
    get_spec(name, kind)
    loader = load_demucs if kind == "demucs" else load_whisper
    return cached(
        (kind, name, str(Path(model_dir).resolve()), str(device)),
        lambda: _stamp(name, model_dir),
        lambda: loader(name, model_dir, device),
    )


def cached(key: tuple, stamp: Callable[[], tuple], load: Callable[[], Any]):
    """The model cached under `key` while `stamp()` (the files' paths, mtimes and sizes) is unchanged, else
    `load()`, cached. One load at a time, process-wide; the store's other formats cache through this too."""
    current = stamp()
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None and entry.stamp == current:
            _stats["hits"] += 1
            return entry.model
    with _load_lock:  # one load at a time; another thread may have loaded this model while we waited
        current = stamp()
        with _cache_lock:
            entry = _cache.get(key)
            if entry is not None and entry.stamp == current:
                _stats["hits"] += 1
                return entry.model
            _stats["misses"] += 1
            _cache.pop(key, None)  # let a stale model go before loading its replacement
        model = load()
        with _cache_lock:
            _cache[key] = _Entry(current, model)
            _stats["loads"] += 1
        return model


def cache_info() -> dict[str, Any]:
    """hits, misses, loads and the cached entries as (kind, name, model_dir, device)."""
    with _cache_lock:
        return {**_stats, "entries": sorted(_cache)}


def clear_cache() -> None:
    """Forget every cached model and reset the counters."""
    with _cache_lock:
        _cache.clear()
        for key in _stats:
            _stats[key] = 0
