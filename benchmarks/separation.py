"""What stem separation costs on this machine (CPU), with the released htdemucs architecture and random weights.

    .venv/bin/python benchmarks/separation.py [--seconds 24] [--repeat 3] [--threads N]
                                              [--long [--long-minutes 10] [--long-model released|small]]

(a) Job overhead: `separate()` on a WAV file (decoding, normalising, the model, resampling, writing 24-bit FLAC
    stems) against one direct `demucs.apply.apply_model` call on the same audio, already in memory, on the same
    device, with the same shifts/overlap. Printed as seconds per second of audio and their ratio (target <= 1.05).
(b) Warm worker: the first `weights.get_model` (loading the checkpoint from a model store in demucs' format)
    against the second (a cache hit).
(c) --long: peak memory (max RSS) of separating a long track (10 minutes by default) in a subprocess, against
    a direct apply_model call over the whole track (as demucs' own `separate` command does it), and a process
    that only loads the model and decodes the track. With the released model this takes about half an hour on
    2 cores: --long-model small runs a narrower HTDemucs of the same structure, since the point is the memory
    that grows with the track (audio buffers), not the model's.

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

SOURCES = ["drums", "bass", "other", "vocals"]
# The released htdemucs (demucs/remote/htdemucs.yaml -> 955717e8): demucs' conf/config.yaml `htdemucs` section
# (the HTDemucs defaults) with a 512-channel bottleneck around the transformer, trained on 7.8 s segments.
HTDEMUCS_KWARGS = {"bottom_channels": 512, "segment": Fraction(39, 5), "t_sparse_attn_window": 400}
# --long-model small: the same structure (depth, STFT, cross-transformer, 7.8 s segments), narrower (0.48 M
# parameters, ~5x faster), for measuring the memory that grows with the track in minutes rather than an hour.
SMALL_KWARGS = {**HTDEMUCS_KWARGS, "channels": 8, "bottom_channels": 64, "t_layers": 2}


def build_model(small: bool = False, seed: int = 0):
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    return HTDemucs(sources=SOURCES, **(SMALL_KWARGS if small else HTDEMUCS_KWARGS)).eval()


def install(model, model_dir: Path) -> None:
    """Save the model into a store as the htdemucs bag, in demucs' own format and naming."""
    from audio import weights
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

    from audio import audio_io

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

    from audio import audio_io, weights
    from audio.separation import separate

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

        # Runs alternate (direct first, then platform first) and both wall-clock and CPU time are kept: on a
        # shared machine, other processes make wall-clock time noisy; this process's CPU time much less so.
        runs = {"direct": [], "platform": []}

        def run_direct(i):
            apply_model(loaded, normalised, shifts=1, split=True, overlap=0.25, device=device)

        def run_platform(i):
            separate(wav, model=loaded, device=device, shifts=1, overlap=0.25, out_dir=tmp / f"stems{i}")

        for i in range(repeat):
            order = [("direct", run_direct), ("platform", run_platform)]
            for name, fn in order if i % 2 == 0 else order[::-1]:
                random.seed(i)
                wall, cpu = time.perf_counter(), time.process_time()
                fn(i)
                runs[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        print(f"\n(a) job overhead on {seconds:g} s of 44.1 kHz stereo (shifts=1, overlap=0.25), {repeat} runs each:")
        labels = {
            "direct": "direct apply_model (audio already in memory)",
            "platform": "separate() on the WAV file, writing FLAC stems",
        }
        for name, label in labels.items():
            walls, cpus = zip(*runs[name], strict=True)
            print(f"    {label}:")
            print(f"        wall {min(walls) / seconds:.3f} s per s of audio (best; runs {_list(walls)} s)")
            print(f"        CPU  {min(cpus) / seconds:.3f} s per s of audio (best; runs {_list(cpus)} s)")
        for i, metric in enumerate(("wall", "CPU")):
            ratio = min(t[i] for t in runs["platform"]) / min(t[i] for t in runs["direct"])
            print(f"    ratio separate()/apply_model, best {metric} time: {ratio:.3f} (target <= 1.05)")


def _list(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


# ----------------------------------------------------------------------------------------------------- (c)


def _peak_rss_kb() -> dict:
    """This process's peak RSS: VmHWM (this process only) and ru_maxrss, which Linux carries over from the
    parent's peak across fork+exec (so children are started from a small process, see `long_track`)."""
    hwm = None
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return {"vmhwm_kb": hwm, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child(args) -> None:
    """Runs in a subprocess: prepares the files, or makes one measurement; prints JSON."""
    mode = args.child
    if mode == "prepare":
        model = build_model(args.long_model == "small")
        install(model, args.model_dir)
        params = sum(p.numel() for p in model.parameters())
        del model
        for wav, seconds in ((args.wav, args.long_minutes * 60), (args.short_wav, 60)):
            write_music(wav, seconds)
        print(json.dumps({"params": params}))
        return
    from audio import weights
    from audio.separation import separate

    start = _peak_rss_kb()
    # Imported before the clock starts, so that `seconds` is the work alone, not torch's and demucs' import.
    import demucs.apply
    import demucs.pretrained  # noqa: F401

    started = time.perf_counter()
    model = weights.get_model("demucs", "htdemucs", args.model_dir, args.device)
    if mode == "baseline":
        from audio import audio_io

        mix, _ = audio_io.decode(args.wav, channels=2)
        del mix
    elif mode == "separate":
        separate(args.wav, model=model, device=args.device, shifts=1, out_dir=args.out)
    elif mode == "direct":
        stems = direct_apply(model, args.wav, 1, args.device)
        del stems
    print(json.dumps({"seconds": time.perf_counter() - started, "start": start, **_peak_rss_kb()}))


def long_track(args) -> None:
    """(c), from a process that has not loaded torch, models or audio (its peak RSS is inherited by children)."""
    minutes = args.long_minutes
    frames = round(minutes * 60 * 44100)
    with tempfile.TemporaryDirectory(prefix="stemcrate-sep-long-") as tmp:
        tmp = Path(tmp)
        common = ["--model-dir", str(tmp / "models"), "--device", args.device, "--long-model", args.long_model]
        common += ["--threads", str(args.threads)] if args.threads else []
        long_wav, short_wav = tmp / "long.wav", tmp / "short.wav"

        def run(mode, wav, *extra):
            cmd = [sys.executable, __file__, "--child", mode, *common, "--wav", str(wav), *extra]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
            return json.loads(proc.stdout.strip().splitlines()[-1])

        prepared = run("prepare", long_wav, "--short-wav", str(short_wav), "--long-minutes", str(minutes))
        print(
            f"\n(c) peak memory separating a {minutes:g}-minute track, 44.1 kHz stereo, shifts=1, each run in its own "
            f"subprocess;\n    model: {args.long_model} htdemucs structure, {prepared['params'] / 1e6:.2f} M parameters"
        )
        print(
            f"    input at the model's rate: {2 * 4 * frames / 1e6:.0f} MB (float32 stereo); the whole 4-stem output "
            f"would be {4 * 2 * 4 * frames / 1e6:.0f} MB"
        )
        runs = [
            ("baseline", long_wav, f"load the model and decode the {minutes:g}-minute track"),
            ("separate", short_wav, "separate() on 1 minute"),
            ("separate", long_wav, f"separate() on {minutes:g} minutes"),
            ("direct", long_wav, f"direct apply_model on {minutes:g} minutes (demucs' own way)"),
        ]
        results = []
        for mode, wav, label in runs:
            result = run(mode, wav, "--out", str(tmp / f"out-{mode}-{wav.stem}"))
            results.append(result)
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            peak, maxrss, inherited = result["vmhwm_kb"], result["maxrss_kb"], result["start"]["maxrss_kb"]
            print(
                f"    {label:58s} peak RSS {peak / 1024:6.0f} MB (ru_maxrss {maxrss / 1024:.0f} MB, "
                f"{inherited / 1024:.0f} MB of it at start; RUSAGE_CHILDREN so far {children / 1024:.0f} MB) "
                f"in {result['seconds']:.0f} s"
            )
        base, short, long, direct = (r["vmhwm_kb"] / 1024 for r in results)
        print(
            f"    separate() above 'model + decoded input': {long - base:.0f} MB; growth from 1 to {minutes:g} "
            f"minutes: {long - short:.0f} MB (the input grows by {2 * 4 * (frames - 60 * 44100) / 2**20:.0f} MB)"
        )
        print(f"    direct apply_model above 'model + decoded input': {direct - base:.0f} MB")
    print(
        "    bound: separate() holds the input once at the model's rate; on top of that, one segment of output\n"
        "    (sources x channels x 7.8 s = 11 MB) and one segment's model activations, whatever the track's length."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--long", action="store_true", help="also measure peak memory on a long track (slow)")
    parser.add_argument("--long-only", action="store_true", help="only the long-track measurement")
    parser.add_argument("--long-minutes", type=float, default=10)
    parser.add_argument("--long-model", choices=("released", "small"), default="released")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--wav", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--short-wav", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads and not args.long_only:  # the --long-only orchestrator stays small: no torch
        import torch

        torch.set_num_threads(args.threads)
    if args.child:
        child(args)
    elif args.long_only:
        long_track(args)
    else:
        overhead(args.seconds, args.repeat, args.device)
        if args.long:
            # From a fresh, small process: children inherit their parent's peak RSS in ru_maxrss.
            cmd = [sys.executable, __file__, "--long-only", "--long-minutes", str(args.long_minutes)]
            cmd += ["--long-model", args.long_model, "--device", args.device]
            cmd += ["--threads", str(args.threads)] if args.threads else []
            sys.stdout.flush()
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
