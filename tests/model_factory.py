"""Tiny Demucs and Whisper checkpoints, in the libraries' own file formats, for tests.

The real weights (80 MB to 3 GB) cannot be downloaded in tests, so these functions build the real model classes
(demucs.htdemucs.HTDemucs, whisper.model.Whisper) with tiny hyperparameters and random weights, and save them
exactly as the published files are saved, under the names the model store uses. Loading them goes through the
same code as the real files (weights.load_demucs -> demucs.pretrained.get_model with a local repo, including
demucs' checksum check; weights.load_whisper -> whisper.load_model). Their outputs are meaningless: test shapes,
lengths, rates and plumbing with them, never separation or transcription quality.

Usable from any test (nothing here needs Django). Files are written under the given model_dir (use tmp_path).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from fractions import Fraction
from pathlib import Path

from audio import weights

#: HTDemucs hyperparameters that keep the real architecture (4 encoder/decoder levels down to a single frequency
#: row, cross-transformer, nfft 4096) but only ~13.5k parameters; 5 s of audio takes ~0.2 s on one CPU thread.
TINY_HTDEMUCS = {
    "channels": 2,
    "depth": 4,
    "t_layers": 1,
    "t_heads": 1,
    "t_hidden_scale": 1.0,
    "dconv_comp": 1,
    "dconv_depth": 1,
    "freq_emb": 0.0,
    "rewrite": False,
}
TINY_SEGMENT = Fraction(2)  # seconds per model call (the published htdemucs uses 39/5)

#: Whisper dimensions: the real audio context (1500 frames = 30 s, which whisper's audio pipeline requires), text
#: context and vocabulary (which its tokenizer requires), with one layer and one head of width 16.
TINY_WHISPER = {
    "n_audio_ctx": 1500,
    "n_audio_state": 16,
    "n_audio_head": 1,
    "n_audio_layer": 1,
    "n_text_ctx": 448,
    "n_text_state": 16,
    "n_text_head": 1,
    "n_text_layer": 1,
}


def build_tiny_htdemucs(sources, samplerate: int = 44100, segment=TINY_SEGMENT, seed: int = 0, **overrides):
    """A real HTDemucs with tiny hyperparameters and random weights (not saved), in eval mode."""
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    kwargs = {**TINY_HTDEMUCS, **overrides}
    return HTDemucs(sources=list(sources), samplerate=samplerate, segment=segment, **kwargs).eval()


def save_demucs_model(model, folder: Path, sig: str, *, half: bool = True) -> Path:
    """Save like demucs' own training does (states.serialize_model + torch.save) as `<sig>-<checksum>.th`,
    the checksum being the first 8 hex digits of the file's sha256 (states.save_with_checksum's naming).
    Any other file for the same signature is removed (demucs refuses duplicates)."""
    import torch
    from demucs.states import serialize_model
    from omegaconf import OmegaConf

    package = serialize_model(model, OmegaConf.create({"stemcrate_test_model": True}), half=half)
    buf = io.BytesIO()
    torch.save(package, buf)
    data = buf.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{sig}*.th"):
        old.unlink()
    path = folder / f"{sig}-{hashlib.sha256(data).hexdigest()[:8]}.th"
    path.write_bytes(data)
    return path


def make_tiny_htdemucs(
    model_dir,
    name: str = "htdemucs",
    sources=None,
    samplerate: int = 44100,
    segment=TINY_SEGMENT,
    seed: int = 0,
    **overrides,
) -> list[Path]:
    """Install a tiny stand-in for a registered Demucs bag (htdemucs, htdemucs_ft, htdemucs_6s) in model_dir.

    One tiny HTDemucs per signature of the real bag (htdemucs_ft: four, with different seeds), saved as
    `<model_dir>/demucs/<sig>-<checksum>.th`, and the bag's .yaml written by the model store (the file shipped
    with demucs). `sources` defaults to the real model's. Returns the files written.
    """
    spec = weights.get_spec(name, "demucs")
    sources = tuple(sources or spec.sources)
    folder = Path(model_dir) / weights.DEMUCS_SUBDIR
    paths = []
    for index, sig in enumerate(spec.signatures):
        model = build_tiny_htdemucs(sources, samplerate, segment, seed + index, **overrides)
        paths.append(save_demucs_model(model, folder, sig))
    bag = folder / f"{name}.yaml"
    bag.write_text(weights._bag_yaml(name))
    paths.append(bag)
    return paths


def make_tiny_whisper(model_dir, name: str = "tiny", seed: int = 0) -> Path:
    """Install a tiny stand-in for a registered Whisper model at `<model_dir>/whisper/<file>.pt`.

    Saved as the published checkpoints are: {"dims": ModelDimensions as a dict, "model_state_dict": fp16 state},
    with the real model's n_mels and vocabulary size (80 / 128 mels; 51864 English-only, 51865 multilingual,
    51866 large-v3 and turbo) so that whisper's tokenizer and audio pipeline accept it.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    spec = weights.get_spec(name, "whisper")
    dims = ModelDimensions(n_mels=spec.n_mels, n_vocab=spec.n_vocab, **TINY_WHISPER)
    torch.manual_seed(seed)
    model = Whisper(dims)
    # whisper makes the decoder's position table with torch.empty: without this the file would hold whatever
    # was in memory (sometimes NaN or inf after .half()), and outputs would change from run to run.
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    state = {key: value.half() for key, value in model.state_dict().items()}
    path = Path(model_dir) / weights.WHISPER_SUBDIR / spec.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": state}, path)
    return path
