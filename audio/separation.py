"""Stem separation with Demucs: audio in, one lossless file per stem out.

Pure code: nothing here knows about Django or the project's apps. `separate` takes a path (or an array), a
loaded model (see `audio.weights.get_model`) or a model name plus the store's folder, and an
output folder; it returns {stem name: path}.

What it computes is what `demucs.apply.apply_model(model, mix, shifts=..., split=True, overlap=...)` computes,
with the normalisation of demucs' own `separate` command around it, but in a streaming order that bounds memory
(see `separate`). Each model segment goes through `apply_model` itself; with shifts=0 the result equals one
`apply_model` call over the whole track to float rounding (the tests check this), and with shifts > 0 the random
shifts are drawn from `random` in the same order as apply_model draws them.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from audio import audio_io
from audio import weights as model_store
from audio.audio_io import AudioError
from audio.weights import ModelNotInstalled

__all__ = [
    "OUTPUT_FORMATS",
    "AudioError",
    "ModelNotInstalled",
    "separate",
    "stem_names",
]

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------------- formats

#: out_format -> (soundfile format, subtype, file extension, clip to [-1, 1]).
OUTPUT_FORMATS = {
    "flac": ("FLAC", "PCM_24", ".flac", True),
    "wav": ("WAV", "PCM_24", ".wav", True),
    "wav-float": ("WAV", "FLOAT", ".wav", False),
}

# Blocks of this many frames are read, checked and resampled at a time (bounds temporary memory).
_BLOCK_FRAMES = 1 << 18


def stem_names(model, two_stems: str | None = None) -> list[str]:
    """The stems `separate` writes for this model: its sources, or [two_stems, "no_" + two_stems]."""
    sources = list(model.sources)
    if two_stems is None:
        return sources
    if two_stems not in sources:
        raise ValueError(f"two_stems must be one of the model's sources ({', '.join(sources)}), not {two_stems!r}")
    return [two_stems, f"no_{two_stems}"]


# ----------------------------------------------------------------------------------------------- resampling


class _Resampler:
    """Windowed-sinc resampling from `old_sr` to `new_sr`, fed and drained block by block.

    The filter is julius.resample_frac's (what demucs uses): `zeros` zero crossings, a low-pass at
    `rolloff` times the lower Nyquist frequency, each phase's kernel normalised to sum to 1, and the signal
    extended by repeating its first and last samples. Only the non-zero taps of each phase are kept, so any pair
    of rates works (julius stores new_sr/gcd kernels as wide as old_sr/gcd, which explodes for unusual pairs).
    Output sample j is taken at input position j * old_sr / new_sr; exactly `out_length` samples come out, and the
    result does not depend on how the input is split into pushes.
    """

    MAX_BLOCKS = 2048  # filter blocks computed per step (each gives new_sr/gcd samples per row)
    MAX_DENSE_KERNEL = 1 << 20  # floats

    def __init__(self, old_sr: int, new_sr: int, out_length: int, *, zeros: int = 24, rolloff: float = 0.945):
        import torch

        self.torch = torch
        g = math.gcd(old_sr, new_sr)
        self.a, self.b = old_sr // g, new_sr // g
        self.out_length = out_length
        self.emitted = 0
        self.identity = self.a == self.b
        self.buf = None
        if self.identity:
            return
        a, b = self.a, self.b
        cutoff = min(a, b) * rolloff
        self.width = width = math.ceil(zeros * a / cutoff)
        i = np.arange(b)
        self.offsets = (i * a) // b  # where phase i's taps start, relative to a block's first input sample
        frac = (i * a % b) / b
        k = np.arange(-width, width + 2)
        t = np.clip((k[None, :] - frac[:, None]) / a * cutoff, -zeros, zeros) * math.pi
        window = np.cos(t / zeros / 2) ** 2
        safe = np.where(t == 0, 1.0, t)
        kernel = np.where(t == 0, 1.0, np.sin(safe) / safe) * window
        kernel /= kernel.sum(axis=1, keepdims=True)
        self.kernel = torch.from_numpy(kernel.astype(np.float32))  # (b, 2 * width + 2)
        self.taps = kernel.shape[1]
        # The same filter as one strided convolution (as julius does it): much faster, but its kernel is
        # b x (a + 2 * width + 1), so it is only used when that is small (it is for every common pair of rates).
        self.dense = None
        if b * (a + self.taps - 1) <= self.MAX_DENSE_KERNEL:
            dense = np.zeros((b, a + self.taps - 1), dtype=np.float32)
            for phase in range(b):
                dense[phase, self.offsets[phase] : self.offsets[phase] + self.taps] = kernel[phase]
            self.dense = torch.from_numpy(dense)[:, None, :]
        self.next_block = 0
        self.buf_start = -width  # input position of self.buf[:, 0]

    def _blocks(self, x, count: int):
        """Output of `count` filter blocks from x, which starts `width` samples before the first block."""
        torch = self.torch
        a, b, taps = self.a, self.b, self.taps
        if self.dense is not None:
            y = torch.nn.functional.conv1d(x[:, None, :], self.dense, stride=a)  # (rows, b, count)
            return y.transpose(1, 2).reshape(x.shape[0], count * b)
        out = torch.empty(x.shape[0], count, b, dtype=torch.float32)
        for i in range(b):
            start = int(self.offsets[i])
            windows = x[:, start : start + (count - 1) * a + taps].unfold(-1, taps, a)  # (rows, count, taps)
            out[:, :, i] = windows @ self.kernel[i]
        return out.reshape(x.shape[0], count * b)

    def _drain(self):
        torch = self.torch
        a, b, width = self.a, self.b, self.width
        end = self.buf_start + self.buf.shape[1]
        last_block = min((end - width - 1) // a, -(-self.out_length // b))  # exclusive
        outs = []
        while self.next_block < last_block:
            count = min(last_block - self.next_block, self.MAX_BLOCKS)
            lo = self.next_block * a - width - self.buf_start
            outs.append(self._blocks(self.buf[:, lo : lo + count * a + 2 * width + 1], count))
            self.next_block += count
        keep_from = self.next_block * a - width - self.buf_start
        if keep_from > 0:
            self.buf = self.buf[:, keep_from:].clone()
            self.buf_start += keep_from
        out = torch.cat(outs, dim=1) if outs else self.buf.new_zeros(self.buf.shape[0], 0)
        return self._limit(out)

    def _limit(self, out):
        out = out[:, : max(0, self.out_length - self.emitted)]
        self.emitted += out.shape[1]
        return out

    def push(self, x):
        """Feed input samples (rows, n) (a torch tensor); returns the output samples now complete."""
        if self.identity:
            return self._limit(x)
        if self.buf is None:
            x = self.torch.cat([x[:, :1].expand(-1, self.width), x], dim=1)
        else:
            x = self.torch.cat([self.buf, x], dim=1)
        self.buf = x
        return self._drain()

    def finish(self):
        """The remaining output samples, up to `out_length` in all (the end of the input is extended)."""
        if self.identity or self.buf is None:
            if self.emitted != self.out_length:
                raise ValueError(f"resampler produced {self.emitted} samples, expected {self.out_length}")
            return self.torch.zeros(0, 0)
        blocks = -(-self.out_length // self.b)
        needed = blocks * self.a + self.width + 1 - (self.buf_start + self.buf.shape[1])
        if needed > 0:
            self.buf = self.torch.cat([self.buf, self.buf[:, -1:].expand(-1, needed)], dim=1)
        return self._drain()


def _resample_array(x: np.ndarray, old_sr: int, new_sr: int) -> np.ndarray:
    """(channels, frames) at old_sr -> a new float32 array at new_sr of round(frames * new_sr / old_sr) frames."""
    import torch

    channels, frames = x.shape
    length = max(1, round(frames * new_sr / old_sr))
    out = np.empty((channels, length), dtype=np.float32)
    resampler = _Resampler(old_sr, new_sr, length)
    done = 0
    for start in range(0, frames, _BLOCK_FRAMES):
        piece = torch.from_numpy(np.ascontiguousarray(x[:, start : start + _BLOCK_FRAMES], dtype=np.float32))
        y = resampler.push(piece)
        out[:, done : done + y.shape[1]] = y.numpy()
        done += y.shape[1]
    y = resampler.finish()
    if y.numel():
        out[:, done : done + y.shape[1]] = y.numpy()
        done += y.shape[1]
    assert done == length, (done, length)
    return out


# ------------------------------------------------------------------------------------------------- writing


class _StemWriter:
    """Writes stems block by block: denormalised model output -> (two-stems sum) -> original rate -> files."""

    def __init__(self, out_dir: Path, names, sources, two_stems, fmt, *, model_rate, rate, length, channels):
        import soundfile as sf

        self.out_dir = out_dir
        self.names = names
        self.format, self.subtype, self.ext, self.clip = OUTPUT_FORMATS[fmt]
        self.length = length
        self.channels = channels
        self.clipped = 0
        if two_stems is None:
            self.pick = None
        else:
            index = list(sources).index(two_stems)
            self.pick = (index, [i for i in range(len(sources)) if i != index])
        self.resampler = _Resampler(model_rate, rate, length)
        self.files = []
        self.temps = []
        try:
            for name in names:
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=out_dir)
                os.close(fd)
                self.temps.append(tmp)
                self.files.append(
                    sf.SoundFile(tmp, "w", samplerate=rate, channels=channels, format=self.format, subtype=self.subtype)
                )
        except BaseException:
            self.abort()
            raise

    def write(self, block) -> None:
        """block: (sources, channels, frames) at the model's rate, denormalised."""
        import torch

        if self.pick is not None:
            index, others = self.pick
            rest = block[others[0]].clone()
            for i in others[1:]:
                rest += block[i]
            block = torch.stack([block[index], rest])
        stems, channels, frames = block.shape
        self._emit(self.resampler.push(block.reshape(stems * channels, frames)))

    def _emit(self, out) -> None:
        if not out.numel():
            return
        data = out.reshape(len(self.names), self.channels, -1).numpy()
        for f, stem in zip(self.files, data, strict=True):
            frames = np.ascontiguousarray(stem.T)
            if self.clip:
                over = np.abs(frames) > 1.0
                if over.any():
                    self.clipped += int(over.sum())
                    np.clip(frames, -1.0, 1.0, out=frames)
            f.write(frames)

    def close(self) -> dict[str, Path]:
        self._emit(self.resampler.finish())
        for f in self.files:
            f.close()
        paths = {}
        for name, tmp, f in zip(self.names, self.temps, self.files, strict=True):
            if f.frames != self.length:
                raise RuntimeError(f"stem {name}: wrote {f.frames} frames, expected {self.length}")
            path = self.out_dir / f"{name}{self.ext}"
            os.replace(tmp, path)
            paths[name] = path
        if self.clipped:
            log.warning("%d stem samples beyond full scale were clipped (out_format=%s)", self.clipped, self.format)
        return paths

    def abort(self) -> None:
        for f in self.files:
            with contextlib.suppress(Exception):
                f.close()
        for tmp in self.temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


# -------------------------------------------------------------------------------------------------- engine


class _Pass:
    """One run of one model over the (shifted) track, as apply_model's split loop does it."""

    def __init__(self, model, coef, origin: int, length: int, segment_length: int, stride: int):
        import torch

        self.model = model
        self.coef = coef  # (sources,): bag weight / total weight / shifts
        self.origin = origin  # track position of this pass's position 0 (<= 0: the shift trick pads in front)
        self.length = length
        self.segment_length = segment_length
        self.stride = stride
        # apply_model's weight: a triangle peaking mid-segment (transition_power 1).
        weight = torch.cat(
            [torch.arange(1, segment_length // 2 + 1), torch.arange(segment_length - segment_length // 2, 0, -1)]
        )
        self.weight = weight / weight.max()
        self.count = len(range(0, length, stride))
        self.reach = -(-segment_length // stride)  # how many neighbours on each side can overlap a segment
        self.next = 0

    def start(self, j: int) -> int:
        return j * self.stride

    def size(self, j: int) -> int:
        return min(self.segment_length, self.length - j * self.stride)

    def next_track_start(self, frames: int) -> int:
        return self.origin + self.start(self.next) if self.next < self.count else frames

    def weight_sum(self, j: int):
        """apply_model's sum_weight over segment j's span (the weights of every segment covering it)."""
        import torch

        q, size = self.start(j), self.size(j)
        total = torch.zeros(size)
        for other in range(max(0, j - self.reach), min(self.count, j + self.reach + 1)):
            q2, size2 = self.start(other), self.size(other)
            lo, hi = max(q, q2), min(q + size, q2 + size2)
            if hi > lo:
                total[lo - q : hi - q] += self.weight[lo - q2 : hi - q2]
        return total


class _Engine:
    """Runs the model over the track segment by segment and yields the finished output in track order."""

    def __init__(self, model, mix: np.ndarray, mean: float, std: float, *, shifts, overlap, segment, device):
        import torch
        from demucs.apply import BagOfModels, apply_model
        from demucs.htdemucs import HTDemucs

        self.torch = torch
        self.apply_model = apply_model
        self.HTDemucs = HTDemucs
        self.mix = mix
        self.mean = mean
        self.std = std
        self.segment = segment
        self.device = device
        self.frames = mix.shape[1]
        self.sources = list(model.sources)
        if isinstance(model, BagOfModels):
            members = list(zip(model.models, model.weights, strict=True))
        else:
            members = [(model, [1.0] * len(self.sources))]
        totals = [sum(float(w[k]) for _, w in members) for k in range(len(self.sources))]
        if any(t == 0 for t in totals):
            raise ValueError("the bag of models gives some source a total weight of 0")
        max_shift = int(0.5 * model.samplerate)
        self.passes: list[_Pass] = []
        for member, weights in members:
            seg = segment if segment is not None else member.segment
            segment_length = int(member.samplerate * seg)
            stride = int((1 - overlap) * segment_length)
            if segment_length <= 0 or stride <= 0:
                raise ValueError(f"segment {seg} s with overlap {overlap} leaves no room to advance")
            coef = torch.tensor([float(weights[k]) / totals[k] for k in range(len(self.sources))])
            if shifts:
                for _ in range(shifts):  # drawn in apply_model's order: per model, then per shift
                    offset = random.randint(0, max_shift)  # noqa: S311 (demucs' shift trick, not security)
                    self.passes.append(
                        _Pass(
                            member,
                            coef / shifts,
                            offset - max_shift,
                            self.frames + max_shift - offset,
                            segment_length,
                            stride,
                        )
                    )
            else:
                self.passes.append(_Pass(member, coef, 0, self.frames, segment_length, stride))
        self.total_segments = sum(p.count for p in self.passes)

    def _model_input(self, start: int, length: int):
        """The normalised track from `start` for `length` frames, zero outside the track (apply_model pads the
        normalised mix with zeros)."""
        torch = self.torch
        x = torch.zeros(1, self.mix.shape[0], length)
        lo, hi = max(start, 0), min(start + length, self.frames)
        if hi > lo:
            part = torch.from_numpy(np.ascontiguousarray(self.mix[:, lo:hi], dtype=np.float32))
            x[0, :, lo - start : hi - start] = (part - self.mean) / self.std
        return x

    def _run_segment(self, p: _Pass, j: int):
        """apply_model's inner call for segment j of pass p: (sources, channels, size) on the CPU."""
        model, size = p.model, p.size(j)
        if isinstance(model, self.HTDemucs) and self.segment is not None:
            valid = int(self.segment * model.samplerate)
        elif hasattr(model, "valid_length"):
            valid = model.valid_length(size)
        else:
            valid = size
        delta = valid - size
        x = self._model_input(p.origin + p.start(j) - delta // 2, valid)
        out = self.apply_model(model, x, shifts=0, split=False, segment=self.segment, device=self.device)
        return out[0, :, :, delta // 2 : delta // 2 + size].to("cpu", self.torch.float32)

    def run(self, progress: Callable[[float], None] | None) -> Iterator:
        """Yields (sources, channels, n) blocks of normalised output covering the track in order."""
        torch = self.torch
        frames = self.frames
        capacity = max(p.segment_length for p in self.passes)
        acc = torch.zeros(len(self.sources), self.mix.shape[0], capacity)
        acc_start = 0  # track position of acc[..., 0]; everything before it has been yielded
        done = 0
        while True:
            active = [p for p in self.passes if p.next < p.count]
            if not active:
                break
            p = min(active, key=lambda q: q.next_track_start(frames))
            j = p.next
            size, start = p.size(j), p.origin + p.start(j)
            y = self._run_segment(p, j)
            y *= (p.weight[:size] / p.weight_sum(j))[None, None, :]
            y *= p.coef[:, None, None]
            lo, hi = max(start, 0), min(start + size, frames)
            if hi > lo:
                if hi - acc_start > acc.shape[-1]:  # cannot happen with the order above; kept as a safety net
                    acc = torch.cat([acc, acc.new_zeros(*acc.shape[:2], hi - acc_start - acc.shape[-1])], dim=-1)
                acc[..., lo - acc_start : hi - acc_start] += y[..., lo - start : hi - start]
            p.next += 1
            done += 1
            # Positions before every pass's next segment are final.
            final = min(max(0, min(q.next_track_start(frames) for q in self.passes)), frames)
            if final > acc_start:
                n = final - acc_start
                yield acc[..., :n].clone()
                acc[..., : acc.shape[-1] - n] = acc[..., n:].clone()
                acc[..., acc.shape[-1] - n :] = 0
                acc_start = final
            if progress:
                progress(0.99 * done / self.total_segments)
        assert acc_start == frames, (acc_start, frames)


# ------------------------------------------------------------------------------------------------- separate


def _load_audio(path_or_array, sample_rate: int | None, channels: int) -> tuple[np.ndarray, int]:
    if isinstance(path_or_array, (str, os.PathLike)):
        samples, rate = audio_io.decode(path_or_array, channels=channels)
        if sample_rate is not None and sample_rate != rate:
            raise ValueError(f"sample_rate={sample_rate} given for a file whose rate is {rate}; leave it out")
    else:
        if sample_rate is None:
            raise ValueError("sample_rate is required when the audio is an array")
        rate = int(sample_rate)
        samples = np.asarray(path_or_array, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[np.newaxis, :]
        if samples.ndim != 2 or samples.shape[0] not in (1, channels):
            raise ValueError(f"audio arrays must be shaped (channels, frames) with 1 or {channels} channels")
        if samples.shape[0] == 1 and channels > 1:
            samples = np.broadcast_to(samples, (channels, samples.shape[1]))
    if samples.shape[1] == 0:
        raise AudioError("The file contains no audio.", code="empty")
    for start in range(0, samples.shape[1], _BLOCK_FRAMES):
        if not np.isfinite(samples[:, start : start + _BLOCK_FRAMES]).all():
            raise AudioError("The audio contains invalid (NaN or infinite) samples.", code="invalid")
    return samples, rate


def _normalisation(mix: np.ndarray) -> tuple[float, float]:
    """demucs' `ref = mix.mean(0)`, `ref.mean()`, `ref.std()` (unbiased), computed block by block."""
    frames = mix.shape[1]
    total = 0.0
    for start in range(0, frames, _BLOCK_FRAMES):
        total += float(mix[:, start : start + _BLOCK_FRAMES].mean(axis=0, dtype=np.float64).sum())
    mean = total / frames
    squares = 0.0
    for start in range(0, frames, _BLOCK_FRAMES):
        ref = mix[:, start : start + _BLOCK_FRAMES].mean(axis=0, dtype=np.float64) - mean
        squares += float(np.dot(ref, ref))
    std = math.sqrt(squares / (frames - 1)) if frames > 1 else 0.0
    # Digital silence: demucs would divide by zero; any scale gives silent input.
    return mean, (std if std > 0 else 1.0)


def _max_segment(model) -> float:
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    members = model.models if isinstance(model, BagOfModels) else [model]
    limits = [float(m.segment) for m in members if isinstance(m, HTDemucs)]
    return min(limits) if limits else float("inf")


def separate(
    path_or_array: str | os.PathLike | np.ndarray,
    *,
    model: Any,
    out_dir: str | os.PathLike,
    sample_rate: int | None = None,
    device: str = "cpu",
    shifts: int = 1,
    overlap: float = 0.25,
    segment: float | None = None,
    two_stems: str | None = None,
    progress: Callable[[float], None] | None = None,
    out_format: str = "flac",
    model_dir: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Separate a track into stems; returns {stem name: path of `<out_dir>/<stem>.<ext>`}.

    path_or_array: an audio file (decoded with ffmpeg through audio_io, at its own rate) or a float array shaped
        (channels, frames) or (frames,), whose rate is `sample_rate` (required then; leave it out for a file).
    model: a loaded Demucs model or bag (`weights.get_model("demucs", name, model_dir, device)`), or a model name
        with `model_dir`, in which case it is loaded (and cached) first, so ModelNotInstalled comes before any
        audio is decoded.
    shifts, overlap, segment: as demucs' apply_model (shifts: random time shifts averaged, 0 for a deterministic
        result; segment: seconds per model call, at most what a transformer model was trained on).
    two_stems: a source name; writes that source and "no_<source>" (the sum of the others), like demucs'
        --two-stems.
    progress: called with a fraction in [0, 1], non-decreasing, last with exactly 1.0 once the files are written.
    out_format: "flac" (24-bit), "wav" (24-bit PCM) or "wav-float" (32-bit float). The integer formats clip
        samples beyond full scale (logged); "wav-float" keeps them.

    Stems come out at the input's sample rate, with exactly its number of frames, and with the model's channels
    (stereo; a mono input is separated as identical left and right). Raises AudioError for audio that cannot be
    read (empty, corrupt, NaN samples), ModelNotInstalled / ModelLoadError for models, ValueError for arguments.

    Memory. The input is held once, as float32 at the model's rate (2 x 4 bytes x 44100 per second: 212 MB for
    10 minutes), plus the decoded original during the conversion when the file's rate differs. Everything else
    is bounded by the model's segment length, not by the track: the model runs on one segment at a time (as in
    apply_model's split loop), so its activations are those of one segment; each result is added into a single
    accumulator one segment long (sources x channels x segment frames: 11 MB for htdemucs); and as soon as no
    pass can still add to a stretch of the track, that stretch is denormalised, resampled and written to the
    stem files (resampling keeps ~50 input frames of context), so the output is never held in memory. A direct
    `apply_model` call on the whole track, by contrast, holds the whole output twice when shifts > 0 (4 stems x
    2 channels x 4 bytes x 44100 per second: 847 MB each for 10 minutes) plus a padded copy of the input
    (benchmarks/separation.py --long measures both).
    """
    if isinstance(model, str):
        if model_dir is None:
            raise ValueError("model_dir is required when model is given by name")
        model = model_store.get_model("demucs", model, model_dir, device)
    import torch

    names = stem_names(model, two_stems)
    if out_format not in OUTPUT_FORMATS:
        raise ValueError(f"out_format must be one of {', '.join(OUTPUT_FORMATS)}, not {out_format!r}")
    if not isinstance(shifts, int) or shifts < 0:
        raise ValueError(f"shifts must be a whole number >= 0, not {shifts!r}")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), not {overlap!r}")
    if segment is not None:
        limit = _max_segment(model)
        if not 0 < segment <= limit:
            raise ValueError(f"segment must be > 0 and at most {limit:g} s for this model, not {segment!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    channels = model.audio_channels
    mix, rate = _load_audio(path_or_array, sample_rate, channels)
    frames = mix.shape[1]
    if rate != model.samplerate:
        mix = _resample_array(mix, rate, model.samplerate)  # the original is released when we held the only ref
    mean, std = _normalisation(mix)

    engine = _Engine(model, mix, mean, std, shifts=shifts, overlap=overlap, segment=segment, device=device)
    writer = _StemWriter(
        out_dir,
        names,
        model.sources,
        two_stems,
        out_format,
        model_rate=model.samplerate,
        rate=rate,
        length=frames,
        channels=channels,
    )
    try:
        with torch.no_grad():
            for block in engine.run(progress):
                writer.write(block * std + mean)
        paths = writer.close()
    except BaseException:
        writer.abort()
        raise
    if progress:
        progress(1.0)
    return paths
