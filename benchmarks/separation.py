"""What stem separation costs on this machine (CPU), with the released htdemucs architecture and random weights.

    .venv/bin/python benchmarks/separation.py [--seconds 24] [--repeat 2] [--long [--long-minutes 10]
                                              [--long-channels 48]]

(a) Job overhead: `separate()` on a WAV file (decoding, normalising, the model, resampling, writing 24-bit FLAC
    stems) against one direct `demucs.apply.apply_model` call on the same audio, already in memory, on the same
    device, with the same shifts/overlap. Printed as seconds per second of audio and their ratio (target <= 1.05).
(b) Warm worker: the first `weights.get_model` (loading the checkpoint from a model store in demucs' format)
    against the second (a cache hit).
(c) --long: peak memory (max RSS) of separating a long track (10 minutes by default) in a subprocess, against
    a direct apply_model call over the whole track (as demucs' own `separate` command does it), and a process
    that only loads the model and decodes the track. This takes many minutes with the full-width model:
    --long-channels 12 runs a narrower HTDemucs (same structure) whose activations are smaller, since the point
    is the memory that grows with the track (audio buffers), not the model's.

The weights are random (the real ones cannot be downloaded here): speed and memory do not depend on the values.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before anything imports demucs: stands in for torchaudio (see processing/engines/separation.py).
import processing.engines.separation  # noqa: E402, F401

SOURCES = ["drums", "bass", "other", "vocals"]
# The released htdemucs (demucs/remote/htdemucs.yaml -> 955717e8): demucs' conf/config.yaml `htdemucs` section
# (the HTDemucs defaults) with a 512-channel bottleneck around the transformer, trained on 7.8 s segments.
HTDEMUCS_KWARGS = {"bottom_channels": 512, "segment": Fraction(39, 5), "t_sparse_attn_window": 400}


def build_model(channels: int = 48, seed: int = 0):
    import torch

    from processing.engines.separation import ensure_demucs_importable

    ensure_demucs_importable()
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    return HTDemucs(sources=SOURCES, channels=channels, **HTDEMUCS_KWARGS).eval()


def install(model, model_dir: Path) -> None:
    """Save the model into a store as the htdemucs bag, in demucs' own format and naming."""
    from processing.engines import weights
    from tests.model_factory import save_demucs_model

    folder = model_dir / weights.DEMUCS_SUBDIR
    save_demucs_model(model, folder, weights.DEMUCS_MODELS["htdemucs"].signatures[0])
    (folder / "htdemucs.yaml").write_text(weights._bag_yaml("htdemucs"))


def write_music(path: Path, seconds: float, sr: int = 44100) -> Path:
    """Stereo chords with noise, 16-bit WAV, written in 10-second blocks."""
    from tests import audio_factory as af

    block = af.chord_progression("A", "minor", seconds=10, sr=sr, channels=2)
    rng = np.random.default_rng(0)
    frames = round(seconds * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as out:
        done = 0
        while done < frames:
            n = min(block.shape[1], frames - done)
            noise = 0.02 * rng.standard_normal((2, n))
            out.write((0.6 * block[:, :n] + noise).T.astype(np.float32))
            done += n
    return path


def direct_apply(model, path: Path, shifts: int, device: str):
    """demucs' own `separate`, minus the file writing: decode, normalise, apply_model, denormalise."""
    import torch
    from demucs.apply import apply_model

    from processing.engines import audio_io

    mix, _ = audio_io.decode(path, sample_rate=model.samplerate, channels=2)
    x = torch.from_numpy(np.ascontiguousarray(mix))
    del mix
    ref = x.mean(0)
    x = (x - ref.mean()) / ref.std()
    out = apply_model(model, x[None], shifts=shifts, split=True, overlap=0.25, device=device)[0]
    return out * ref.std() + ref.mean()


# ------------------------------------------------------------------------------------------------ (a) and (b)


def overhead(seconds: float, repeat: int, device: str) -> None:
    import torch
    from demucs.apply import apply_model

    from processing.engines import audio_io, weights
    from processing.engines.separation import separate

    model = build_model()
    params = sum(p.numel() for p in model.parameters())
    print(f"model: released htdemucs architecture, random weights, {params:,} parameters ({params / 1e6:.2f} M)")
    print(f"device: {device}, torch threads: {torch.get_num_threads()}, load average: {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory(prefix="stemcrate-sep-bench-") as tmp:
        tmp = Path(tmp)
        install(model, tmp / "models")
        del model

        # (b) warm worker
        weights.clear_cache()
        started = time.perf_counter()
        loaded = weights.get_model("demucs", "htdemucs", tmp / "models", device)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = weights.get_model("demucs", "htdemucs", tmp / "models", device)
        second = time.perf_counter() - started
        assert again is loaded
        print("\n(b) warm worker: weights.get_model('demucs', 'htdemucs', ...)")
        print(
            f"    first call (load {sum(p.stat().st_size for p in (tmp / 'models').rglob('*.th')) / 1e6:.0f} MB "
            f"checkpoint, demucs checksum check): {first:.3f} s"
        )
        print(f"    second call (cache hit: stat of the files): {second * 1e3:.3f} ms")

        # (a) job overhead
        wav = write_music(tmp / "track.wav", seconds)
        mix, _ = audio_io.decode(wav, channels=2)
        x = torch.from_numpy(np.ascontiguousarray(mix))
        ref = x.mean(0)
        normalised = ((x - ref.mean()) / ref.std())[None]
        short = normalised[..., : 3 * 44100]
        apply_model(loaded, short, shifts=1, split=True, overlap=0.25, device=device)  # warm-up (allocator, kernels)

        platform, direct = [], []
        for i in range(repeat):
            random.seed(i)
            started = time.perf_counter()
            apply_model(loaded, normalised, shifts=1, split=True, overlap=0.25, device=device)
            direct.append(time.perf_counter() - started)
            random.seed(i)
            started = time.perf_counter()
            separate(wav, model=loaded, device=device, shifts=1, overlap=0.25, out_dir=tmp / f"stems{i}")
            platform.append(time.perf_counter() - started)
        print(f"\n(a) job overhead on {seconds:g} s of 44.1 kHz stereo (shifts=1, overlap=0.25), best of {repeat}:")
        print(
            f"    direct apply_model (audio already in memory): {min(direct) / seconds:.3f} s per s of audio "
            f"(runs: {', '.join(f'{t:.1f}' for t in direct)} s)"
        )
        print(
            f"    separate() on the WAV file, writing FLAC stems: {min(platform) / seconds:.3f} s per s of audio "
            f"(runs: {', '.join(f'{t:.1f}' for t in platform)} s)"
        )
        print(f"    ratio: {min(platform) / min(direct):.3f} (target <= 1.05)")


# ----------------------------------------------------------------------------------------------------- (c)


def child(mode: str, model_dir: Path, wav: Path, out: Path, device: str) -> None:
    """Runs in a subprocess: one measurement, then prints its own peak RSS as JSON."""
    from processing.engines import weights
    from processing.engines.separation import ensure_demucs_importable, separate

    ensure_demucs_importable()
    started = time.perf_counter()
    model = weights.get_model("demucs", "htdemucs", model_dir, device)
    if mode == "baseline":
        from processing.engines import audio_io

        mix, _ = audio_io.decode(wav, channels=2)
        del mix
    elif mode == "separate":
        separate(wav, model=model, device=device, shifts=1, out_dir=out)
    elif mode == "direct":
        stems = direct_apply(model, wav, 1, device)
        del stems
    elapsed = time.perf_counter() - started
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"mode": mode, "seconds": elapsed, "maxrss_kb": maxrss_kb}))


def long_track(minutes: float, channels: int, device: str) -> None:
    model = build_model(channels)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"\n(c) peak memory for a {minutes:g}-minute track (htdemucs structure, channels={channels}, "
        f"{params / 1e6:.2f} M parameters), each in its own subprocess:"
    )
    frames = round(minutes * 60 * 44100)
    print(
        f"    input at the model's rate: {2 * 4 * frames / 1e6:.0f} MB (float32 stereo); full 4-stem output: "
        f"{4 * 2 * 4 * frames / 1e6:.0f} MB"
    )
    with tempfile.TemporaryDirectory(prefix="stemcrate-sep-long-") as tmp:
        tmp = Path(tmp)
        install(model, tmp / "models")
        del model
        wav = write_music(tmp / "long.wav", minutes * 60)
        results = {}
        for mode in ("baseline", "separate", "direct"):
            cmd = [sys.executable, __file__, "--child", mode, "--model-dir", str(tmp / "models"), "--wav", str(wav)]
            cmd += ["--out", str(tmp / f"out-{mode}"), "--device", device]
            started = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"    {mode}: failed\n{proc.stderr[-2000:]}")
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            results[mode] = result
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(
                f"    {mode:9s} peak RSS {result['maxrss_kb'] / 1024:7.0f} MB  ({time.perf_counter() - started:6.0f} s;"
                f" RUSAGE_CHILDREN max so far {children / 1024:.0f} MB)"
            )
        if "baseline" in results and "separate" in results:
            extra = (results["separate"]["maxrss_kb"] - results["baseline"]["maxrss_kb"]) / 1024
            print(f"    separate() above model + decoded input: {extra:.0f} MB")
        if "baseline" in results and "direct" in results:
            extra = (results["direct"]["maxrss_kb"] - results["baseline"]["maxrss_kb"]) / 1024
            print(f"    direct apply_model above model + decoded input: {extra:.0f} MB")
    print(
        "    bound: separate() holds the input once at the model's rate; the rest is one segment of output\n"
        "    (sources x channels x 7.8 s) plus one segment's activations, whatever the track's length."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=24)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--long", action="store_true", help="also measure peak memory on a long track (slow)")
    parser.add_argument("--long-only", action="store_true", help="only the long-track measurement")
    parser.add_argument("--long-minutes", type=float, default=10)
    parser.add_argument("--long-channels", type=int, default=48)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--wav", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model_dir, args.wav, args.out, args.device)
        return
    if not args.long_only:
        overhead(args.seconds, args.repeat, args.device)
    if args.long or args.long_only:
        long_track(args.long_minutes, args.long_channels, args.device)


if __name__ == "__main__":
    main()
