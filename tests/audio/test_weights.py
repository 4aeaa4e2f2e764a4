"""audio.weights: the model store, with tiny checkpoints in the libraries' own formats.

No test touches the network: `no_network` makes every socket connection and DNS lookup fail, and downloads are
served by fake openers.
"""

import base64
import gzip
import hashlib
import io
import os
import socket
import subprocess
import sys
import threading
import urllib.error
from pathlib import Path

import pytest
import torch

from audio import weights
from audio.weights import (
    ChecksumMismatch,
    DemucsModel,
    DeviceUnavailable,
    DownloadError,
    ModelLoadError,
    ModelNotInstalled,
    WhisperModel,
)
from tests import model_factory as mf

ROOT = Path(__file__).resolve().parents[2]


class NetworkUsed(OSError):
    """What a machine without network raises (an OSError); the fixture also records the attempt."""


@pytest.fixture
def no_network(monkeypatch):
    """Every name lookup and connection fails as on an offline machine; returns the attempts (tests assert [])."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture(autouse=True)
def fresh_cache():
    weights.clear_cache()
    yield
    weights.clear_cache()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A model store with tiny htdemucs, htdemucs_ft, htdemucs_6s, tiny, tiny.en and large-v3."""
    root = tmp_path_factory.mktemp("models")
    for name in ("htdemucs", "htdemucs_ft", "htdemucs_6s"):
        mf.make_tiny_htdemucs(root, name)
    for name in ("tiny", "tiny.en", "large-v3"):
        mf.make_tiny_whisper(root, name)
    return root


# ---------------------------------------------------------------------------------------------- registry


def test_demucs_registry_matches_the_files_demucs_publishes():
    from importlib.resources import files

    import yaml

    remote = files("demucs") / "remote"
    published = {}
    root = ""
    for line in (remote / "files.txt").read_text().splitlines():
        line = line.strip()
        if line.startswith("root:"):
            root = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            published[line] = "https://dl.fbaipublicfiles.com/demucs/" + root + line
    for name, spec in weights.DEMUCS_MODELS.items():
        bag = yaml.safe_load((remote / f"{name}.yaml").read_text())
        assert list(spec.signatures) == bag["models"]
        for file, url in zip(spec.files, spec.urls, strict=True):
            assert published[file] == url
    assert weights.DEMUCS_MODELS["htdemucs"].signatures == ("955717e8",)
    assert weights.DEMUCS_MODELS["htdemucs_ft"].signatures == ("f7e0c4bc", "d12395a8", "92cfc3b6", "04573f0d")
    assert weights.DEMUCS_MODELS["htdemucs_6s"].signatures == ("5c90dfd2",)


def test_whisper_registry_is_whispers_own_list():
    import whisper

    assert {name: spec.url for name, spec in weights.WHISPER_MODELS.items()} == whisper._MODELS
    for name, spec in weights.WHISPER_MODELS.items():
        v3 = spec.filename.startswith("large-v3")
        assert spec.n_mels == (128 if v3 else 80)
        assert spec.n_vocab == (51866 if v3 else 51864 if name.endswith(".en") else 51865)
        assert len(spec.sha256) == 64
    assert weights.WHISPER_MODELS["turbo"].filename == "large-v3-turbo.pt"
    assert weights.WHISPER_MODELS["large"].alias_of == "large-v3"


def test_unknown_model_names_are_refused_with_the_known_ones():
    with pytest.raises(weights.UnknownModel, match=r"unknown model 'htdemucs_9s'; known: .*htdemucs_6s"):
        weights.installed("htdemucs_9s", "/nonexistent")
    with pytest.raises(weights.UnknownModel, match="unknown whisper model 'htdemucs'"):
        weights.load_whisper("htdemucs", "/nonexistent")


# ------------------------------------------------------------------------------------------ installed files


def test_an_empty_store_has_nothing_installed_and_says_what_to_run(tmp_path, no_network):
    assert not weights.installed("htdemucs", tmp_path)
    assert weights.missing_files("htdemucs", tmp_path) == ["demucs/955717e8-8726e21a.th", "demucs/htdemucs.yaml"]
    assert weights.missing_files("large", tmp_path) == ["whisper/large-v3.pt"]
    rows = {row["name"]: row for row in weights.list_models(tmp_path)}
    assert set(rows) == set(weights.MODELS)
    assert rows["htdemucs"] == {
        "name": "htdemucs",
        "kind": "demucs",
        "description": weights.DEMUCS_MODELS["htdemucs"].description,
        "installed": False,
        "size": None,
        "alias_of": None,
        "problem": None,
    }
    with pytest.raises(ModelNotInstalled) as exc:
        weights.load_demucs("htdemucs", tmp_path, "cpu")
    assert str(exc.value) == "model htdemucs is not installed: run python manage.py download_models htdemucs"
    assert exc.value.missing == ["demucs/955717e8-8726e21a.th", "demucs/htdemucs.yaml"]
    with pytest.raises(ModelNotInstalled, match=r"^model large-v3-turbo is not installed: run python manage.py "):
        weights.load_whisper("large-v3-turbo", tmp_path, "cpu")
    with pytest.raises(ModelNotInstalled, match=r"^model tiny is not installed: run python manage.py download_models"):
        weights.get_model("whisper", "tiny", tmp_path, "cpu")
    assert no_network == []


def test_a_bag_without_its_yaml_or_one_of_its_models_is_not_installed(tmp_path):
    mf.make_tiny_htdemucs(tmp_path, "htdemucs_ft")
    assert weights.installed("htdemucs_ft", tmp_path)
    (tmp_path / "demucs" / "htdemucs_ft.yaml").unlink()
    assert weights.missing_files("htdemucs_ft", tmp_path) == ["demucs/htdemucs_ft.yaml"]
    mf.make_tiny_htdemucs(tmp_path, "htdemucs_ft")
    next((tmp_path / "demucs").glob("92cfc3b6-*.th")).unlink()
    assert weights.missing_files("htdemucs_ft", tmp_path) == ["demucs/92cfc3b6-ef3bcb9c.th"]
    with pytest.raises(ModelNotInstalled, match="model htdemucs_ft is not installed"):
        weights.load_demucs("htdemucs_ft", tmp_path)


def test_it_lists_installed_models_with_their_size(store):
    rows = {row["name"]: row for row in weights.list_models(store)}
    installed = {name for name, row in rows.items() if row["installed"]}
    assert installed == {"htdemucs", "htdemucs_ft", "htdemucs_6s", "tiny", "tiny.en", "large-v3", "large"}
    ft_files = [*store.joinpath("demucs").glob("*.th")]
    ft_size = sum(
        p.stat().st_size for p in ft_files if p.name.split("-")[0] in weights.MODELS["htdemucs_ft"].signatures
    )
    assert rows["htdemucs_ft"]["size"] == ft_size + (store / "demucs" / "htdemucs_ft.yaml").stat().st_size
    assert rows["tiny"]["size"] == (store / "whisper" / "tiny.pt").stat().st_size
    assert rows["large"]["alias_of"] == "large-v3"
    assert rows["medium"]["installed"] is False and rows["medium"]["size"] is None


def test_verify_checks_demucs_file_names_and_whisper_digests(store, tmp_path):
    assert weights.verify("htdemucs_ft", store) == []
    # A tiny whisper checkpoint is not the published file, and verify says so.
    (problem,) = weights.verify("tiny", store)
    assert "tiny.pt" in problem and weights.WHISPER_MODELS["tiny"].sha256 in problem


# ------------------------------------------------------------------------------------------------- loading


def test_it_loads_tiny_demucs_bags_through_demucs_own_loader(store, no_network):
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    bag = weights.load_demucs("htdemucs", store, "cpu")
    assert isinstance(bag, BagOfModels) and len(bag.models) == 1
    assert isinstance(bag.models[0], HTDemucs) and not bag.training
    assert bag.sources == ["drums", "bass", "other", "vocals"] and bag.samplerate == 44100
    assert sum(p.numel() for p in bag.parameters()) < 20_000

    ft = weights.load_demucs("htdemucs_ft", store, "cpu")
    assert len(ft.models) == 4
    assert ft.weights == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    six = weights.load_demucs("htdemucs_6s", store, "cpu")
    assert six.sources == ["drums", "bass", "other", "vocals", "guitar", "piano"]
    assert no_network == []


def test_demucs_checkpoints_need_the_allowlist_that_load_demucs_gives(store):
    # torch >= 2.6 loads with weights_only=True: a demucs package names its model class, which is refused unless
    # allowed. load_demucs allows exactly the demucs model classes and Fraction (the segment).
    path = next((store / "demucs").glob("955717e8-*.th"))
    with pytest.raises(Exception, match="HTDemucs"):
        torch.load(path, "cpu", weights_only=True)
    with torch.serialization.safe_globals(weights._demucs_safe_globals()):
        package = torch.load(path, "cpu", weights_only=True)
    assert package["kwargs"]["segment"] == mf.TINY_SEGMENT


def test_a_damaged_demucs_file_fails_demucs_checksum_check(tmp_path):
    (path, _) = mf.make_tiny_htdemucs(tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="Invalid checksum"):
        weights.load_demucs("htdemucs", tmp_path)


def test_two_files_for_one_signature_are_reported(tmp_path):
    (path, _) = mf.make_tiny_htdemucs(tmp_path)
    (path.parent / "955717e8.th").write_bytes(path.read_bytes())
    with pytest.raises(ModelLoadError, match="delete all but one"):
        weights.installed("htdemucs", tmp_path)
    row = next(row for row in weights.list_models(tmp_path) if row["name"] == "htdemucs")
    assert not row["installed"] and "two files for the demucs model signature 955717e8" in row["problem"]


def test_it_loads_tiny_whisper_checkpoints_without_whisper_downloading(store, no_network, monkeypatch):
    import whisper

    monkeypatch.setattr(whisper, "_download", lambda *a, **k: pytest.fail("whisper tried to download"))
    model = weights.load_whisper("tiny", store, "cpu")
    assert isinstance(model, whisper.Whisper)
    assert model.dims.n_vocab == 51865 and model.dims.n_mels == 80 and model.is_multilingual
    assert not weights.load_whisper("tiny.en", store).is_multilingual
    v3 = weights.load_whisper("large", store, "cpu")  # an alias reads large-v3.pt
    assert (v3.dims.n_mels, v3.dims.n_vocab) == (128, 51866)
    # The whisper audio pipeline accepts it: 30 s of log-mel frames through the encoder.
    mel = whisper.log_mel_spectrogram(torch.zeros(16000), n_mels=80)
    encoded = model.embed_audio(whisper.pad_or_trim(mel, 3000)[None])
    assert encoded.shape == (1, 1500, 16)
    assert no_network == []


# --------------------------------------------------------------------------------------------------- cache


def test_the_cache_returns_the_same_model_until_its_files_change(tmp_path, no_network):
    mf.make_tiny_htdemucs(tmp_path)
    first = weights.get_model("demucs", "htdemucs", tmp_path, "cpu")
    assert weights.get_model("demucs", "htdemucs", tmp_path, "cpu") is first
    info = weights.cache_info()
    assert (info["hits"], info["misses"], info["loads"]) == (1, 1, 1)
    assert info["entries"] == [("demucs", "htdemucs", str(tmp_path.resolve()), "cpu")]

    path = next((tmp_path / "demucs").glob("*.th"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = weights.get_model("demucs", "htdemucs", tmp_path, "cpu")
    assert second is not first
    assert weights.get_model("demucs", "htdemucs", tmp_path, "cpu") is second
    assert weights.cache_info()["loads"] == 2 and len(weights.cache_info()["entries"]) == 1

    mf.make_tiny_htdemucs(tmp_path, seed=7)  # new weights: a new file name (its checksum)
    third = weights.get_model("demucs", "htdemucs", tmp_path, "cpu")
    assert third is not second
    assert not torch.equal(third.models[0].encoder[0].conv.weight, second.models[0].encoder[0].conv.weight)

    for path in (tmp_path / "demucs").glob("*.th"):
        path.unlink()
    with pytest.raises(ModelNotInstalled):
        weights.get_model("demucs", "htdemucs", tmp_path, "cpu")


def test_the_cache_keeps_kinds_and_devices_apart_and_checks_the_kind(store):
    whisper_model = weights.get_model("whisper", "tiny", store, "cpu")
    demucs_model = weights.get_model("demucs", "htdemucs", store, "cpu")
    assert whisper_model is not demucs_model
    assert len(weights.cache_info()["entries"]) == 2
    with pytest.raises(weights.UnknownModel):
        weights.get_model("whisper", "htdemucs", store, "cpu")
    with pytest.raises(ValueError, match="unknown model kind"):
        weights.get_model("basic-pitch", "tiny", store, "cpu")


def test_concurrent_jobs_load_a_model_once(store, monkeypatch):
    real = weights.load_demucs
    calls = []
    barrier = threading.Barrier(4)

    def slow_load(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(weights, "load_demucs", slow_load)
    results = []

    def job():
        barrier.wait()
        results.append(weights.get_model("demucs", "htdemucs_6s", store, "cpu"))

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 4 and all(r is results[0] for r in results)


# ------------------------------------------------------------------------------------------------ download


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, length: int | None = None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data) if length is None else length)}


class FakeServer:
    """An opener serving fixed bytes per URL; records what was asked for."""

    def __init__(self, files: dict[str, bytes], lengths: dict[str, int] | None = None):
        self.files = files
        self.lengths = lengths or {}
        self.requests = []

    def __call__(self, url, timeout=None):
        self.requests.append((url, timeout))
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return FakeResponse(self.files[url], self.lengths.get(url))


def _demucs_spec_for(monkeypatch, payloads: list[bytes], name="htdemucs") -> DemucsModel:
    """Register `name` with files whose checksums are those of `payloads` (the real files are not available)."""
    real = weights.DEMUCS_MODELS[name]
    files = tuple(
        f"{sig}-{hashlib.sha256(data).hexdigest()[:8]}.th" for sig, data in zip(real.signatures, payloads, strict=True)
    )
    spec = DemucsModel(name, files, real.sources, real.description)
    monkeypatch.setitem(weights.DEMUCS_MODELS, name, spec)
    monkeypatch.setitem(weights.MODELS, name, spec)
    return spec


def _whisper_spec_for(monkeypatch, payload: bytes, name="tiny") -> WhisperModel:
    real = weights.WHISPER_MODELS[name]
    url = f"https://example.invalid/whisper/{hashlib.sha256(payload).hexdigest()}/{real.filename}"
    spec = WhisperModel(name, url, real.n_mels, real.n_vocab, real.description)
    monkeypatch.setitem(weights.WHISPER_MODELS, name, spec)
    monkeypatch.setitem(weights.MODELS, name, spec)
    return spec


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part"))


def test_download_installs_a_demucs_bag_that_then_loads(tmp_path, monkeypatch, no_network):
    source = tmp_path / "source"
    (made, _) = mf.make_tiny_htdemucs(source)
    payload = made.read_bytes()
    spec = _demucs_spec_for(monkeypatch, [payload])
    server = FakeServer({spec.urls[0]: payload})
    seen = []
    store = tmp_path / "store"

    files = weights.download("htdemucs", store, progress=lambda done, total: seen.append((done, total)), opener=server)

    assert [p.name for p in files] == [spec.files[0], "htdemucs.yaml"]
    assert (store / "demucs" / spec.files[0]).read_bytes() == payload
    from importlib.resources import files as package_files

    assert (store / "demucs" / "htdemucs.yaml").read_text() == (
        package_files("demucs") / "remote" / "htdemucs.yaml"
    ).read_text()
    assert server.requests == [(spec.urls[0], weights.DOWNLOAD_TIMEOUT)]
    assert seen[0] == (0, len(payload)) and seen[-1] == (len(payload), len(payload))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert _leftovers(store) == []
    assert weights.installed("htdemucs", store)
    assert weights.load_demucs("htdemucs", store).sources == ["drums", "bass", "other", "vocals"]

    # Installed files are not fetched again.
    weights.download("htdemucs", store, opener=FakeServer({}))
    assert no_network == []


def test_download_replaces_another_file_for_the_same_signature(tmp_path, monkeypatch):
    (old, _) = mf.make_tiny_htdemucs(tmp_path / "store")
    (new, _) = mf.make_tiny_htdemucs(tmp_path / "source", seed=3)
    payload = new.read_bytes()
    spec = _demucs_spec_for(monkeypatch, [payload])
    weights.download("htdemucs", tmp_path / "store", opener=FakeServer({spec.urls[0]: payload}), force=True)
    assert sorted(p.name for p in (tmp_path / "store" / "demucs").glob("*.th")) == [spec.files[0]]
    assert not old.exists()


def test_download_refuses_bytes_with_the_wrong_checksum_and_leaves_nothing(tmp_path, monkeypatch):
    spec = _demucs_spec_for(monkeypatch, [b"the real file"])
    server = FakeServer({spec.urls[0]: b"something else entirely"})
    with pytest.raises(ChecksumMismatch, match="nothing was installed"):
        weights.download("htdemucs", tmp_path, opener=server)
    assert list((tmp_path / "demucs").iterdir()) == []
    assert not weights.installed("htdemucs", tmp_path)

    spec = _whisper_spec_for(monkeypatch, b"whisper weights")
    with pytest.raises(ChecksumMismatch, match="sha256 starts"):
        weights.download("tiny", tmp_path, opener=FakeServer({spec.url: b"whisper weights, tampered"}))
    assert list((tmp_path / "whisper").iterdir()) == []


def test_download_refuses_a_short_read(tmp_path, monkeypatch):
    payload = b"x" * 1000
    spec = _whisper_spec_for(monkeypatch, payload)
    server = FakeServer({spec.url: payload[:600]}, lengths={spec.url: 1000})
    with pytest.raises(DownloadError, match="cut short: 600 of 1000 bytes"):
        weights.download("tiny", tmp_path, opener=server)
    assert list((tmp_path / "whisper").iterdir()) == []


def test_download_refuses_an_interrupted_transfer(tmp_path, monkeypatch):
    payload = b"y" * 3000
    _whisper_spec_for(monkeypatch, payload)

    class Dropped(FakeResponse):
        def read(self, size=-1):
            if self.tell() >= 1000:
                raise ConnectionResetError(104, "Connection reset by peer")
            return super().read(min(size, 1000))

    with pytest.raises(DownloadError, match=r"interrupted after 1000 bytes: .*Connection reset by peer"):
        weights.download("tiny", tmp_path, opener=lambda url, timeout=None: Dropped(payload))
    assert list((tmp_path / "whisper").iterdir()) == []


def test_download_installs_a_whisper_checkpoint_where_whisper_looks(tmp_path, monkeypatch, no_network):
    made = mf.make_tiny_whisper(tmp_path / "source", "base.en")
    payload = made.read_bytes()
    spec = _whisper_spec_for(monkeypatch, payload, "base.en")
    (path,) = weights.download("base.en", tmp_path / "store", opener=FakeServer({spec.url: payload}))
    assert path == tmp_path / "store" / "whisper" / "base.en.pt"
    assert path.read_bytes() == payload
    assert weights.verify("base.en", tmp_path / "store") == []
    # whisper.load_model(name, download_root=...) finds it there and, its sha256 matching, does not download.
    import whisper

    monkeypatch.setitem(whisper._MODELS, "base.en", spec.url)
    # By name, whisper also sets the real base.en's word-timing heads (6 layers x 8 heads), which do not fit a
    # one-layer, one-head model: give it heads of the tiny shape (load_whisper only sets heads that fit).
    monkeypatch.setitem(whisper._ALIGNMENT_HEADS, "base.en", base64.b85encode(gzip.compress(b"\x01")))
    model = whisper.load_model("base.en", device="cpu", download_root=str(tmp_path / "store" / "whisper"))
    assert model.dims.n_vocab == 51864
    assert no_network == []


def test_download_says_clearly_when_the_machine_is_offline(tmp_path, no_network):
    # The real opener (urllib) against a machine with no network: a clear error, nothing left behind.
    with pytest.raises(DownloadError, match=r"could not download https://dl\.fbaipublicfiles\.com/.*offline"):
        weights.download("htdemucs", tmp_path)
    assert no_network  # it did try, and was refused by the fixture
    assert list(tmp_path.rglob("*")) == []

    def offline(url, timeout=None):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    with pytest.raises(DownloadError, match=r"Network is unreachable\. Is this machine offline"):
        weights.download("tiny", tmp_path, opener=offline)
    with pytest.raises(DownloadError, match="HTTP 404"):
        weights.download("tiny", tmp_path, opener=FakeServer({}))


# -------------------------------------------------------------------------------------------------- device


def test_pick_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert weights.pick_device() == "cpu"
    assert weights.pick_device("auto") == "cpu"
    assert weights.pick_device("CPU") == "cpu"
    with pytest.raises(DeviceUnavailable, match="'cuda' was requested but CUDA is not available"):
        weights.pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        weights.pick_device("tpu")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert weights.pick_device("auto") == "cuda"
    assert weights.pick_device("cpu") == "cpu"
    assert weights.pick_device("cuda") == "cuda"
    assert weights.pick_device("cuda:0") == "cuda:0"
    with pytest.raises(DeviceUnavailable, match="'cuda:1' was requested but there are 1 GPU"):
        weights.pick_device("cuda:1")
    with pytest.raises(ValueError, match="unknown device 'cuda:x'"):
        weights.pick_device("cuda:x")


# ------------------------------------------------------------------------------------- demucs without extras


def test_demucs_loads_and_separates_without_the_packages_the_lock_leaves_out(tmp_path):
    # torchaudio and openunmix (which demucs 4.0 imported) are not in requirements.txt, nor are demucs 4.1's
    # huggingface-hub, safetensors and sphn (only its hub download and its own file reading use them), and it is
    # installed with --no-deps. A None entry in sys.modules makes `import x` fail even where a developer has x, so
    # a demucs release that needs any of them on our path fails here rather than in a worker.
    mf.make_tiny_htdemucs(tmp_path, "htdemucs")
    code = f"""
import sys
for name in ("torchaudio", "openunmix", "huggingface_hub", "safetensors", "sphn"):
    sys.modules[name] = None
import numpy as np
import demucs.apply, demucs.htdemucs, demucs.pretrained
from audio import separation, weights
model = weights.load_demucs("htdemucs", {str(tmp_path)!r}, "cpu")
mix = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 44100)).astype(np.float32)
paths = separation.separate(mix, model=model, sample_rate=44100, shifts=0, out_dir={str(tmp_path / "out")!r})
assert sorted(paths) == sorted(model.sources), paths
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
