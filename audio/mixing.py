"""Summing stems into one file, block by block, so a long track never sits in memory whole."""

import math
import os
from collections.abc import Sequence

import numpy as np
import soundfile as sf

BLOCK_FRAMES = 1 << 16


def pan_gains(pan: float) -> tuple[float, float]:
    """(left, right) gains of a stereo balance at `pan` in [-1, 1]: the centre leaves both sides as they are,
    and turning one way fades the other side out along a quarter sine (constant power), to silence at ±1."""
    if not -1.0 <= pan <= 1.0:
        raise ValueError(f"pan must be between -1 (left) and 1 (right), not {pan}")
    if pan >= 0:
        return math.cos(pan * math.pi / 2), 1.0
    return 1.0, math.cos(-pan * math.pi / 2)


def mix_stems(
    paths: Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    gains: Sequence[float] | None = None,
    pans: Sequence[float] | None = None,
    subtype: str = "PCM_24",
    out_format: str = "WAV",
) -> dict:
    """Write the sum of same-rate stems (shorter ones padded with silence) to `out_path`, each stem scaled by
    its linear gain and placed by its pan (see pan_gains; a stereo mix whenever any stem is panned).

    Peaks above full scale are not clipped silently: the mix is written as it sums, and the returned `peak`
    lets the caller warn; for 24-bit output soundfile clips at ±1.0. Returns {frames, sample_rate, peak}.
    """
    if not paths:
        raise ValueError("choose at least one stem to mix")
    gains = list(gains) if gains is not None else [1.0] * len(paths)
    pans = list(pans) if pans is not None else [0.0] * len(paths)
    if len(gains) != len(paths) or len(pans) != len(paths):
        raise ValueError("one gain and one pan per stem")
    sides = [pan_gains(p) for p in pans]
    inputs = [sf.SoundFile(str(p)) for p in paths]
    try:
        rates = {f.samplerate for f in inputs}
        if len(rates) != 1:
            raise ValueError(f"stems have different sample rates: {sorted(rates)}")
        rate = rates.pop()
        channels = max(2 if any(pans) else 1, *(f.channels for f in inputs))
        frames = max(f.frames for f in inputs)
        peak = 0.0
        with sf.SoundFile(
            str(out_path), "w", samplerate=rate, channels=channels, subtype=subtype, format=out_format
        ) as out:
            for _ in range(0, frames, BLOCK_FRAMES):
                block = np.zeros((min(BLOCK_FRAMES, frames - out.tell()), channels), dtype=np.float32)
                for f, gain, (left, right) in zip(inputs, gains, sides, strict=True):
                    data = f.read(len(block), dtype="float32", always_2d=True)
                    if data.shape[1] != channels:  # mono stem in a stereo mix
                        data = np.repeat(data[:, :1], channels, axis=1)
                    if channels == 2 and (left != 1.0 or right != 1.0):
                        data = data * np.array([left, right], dtype=np.float32)
                    block[: len(data)] += gain * data
                peak = max(peak, float(np.max(np.abs(block))) if len(block) else 0.0)
                out.write(block)
        return {"frames": frames, "sample_rate": rate, "peak": peak}
    finally:
        for f in inputs:
            f.close()
