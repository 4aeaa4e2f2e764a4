"""Summing stems into one file, block by block, so a long track never sits in memory whole."""

import os
from collections.abc import Sequence

import numpy as np
import soundfile as sf

BLOCK_FRAMES = 1 << 16


def mix_stems(
    paths: Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    gains: Sequence[float] | None = None,
    subtype: str = "PCM_24",
    out_format: str = "WAV",
) -> dict:
    """Write the sum of same-rate stems (shorter ones padded with silence) to `out_path`.

    Peaks above full scale are not clipped silently: the mix is written as it sums, and the returned `peak`
    lets the caller warn; for 24-bit output soundfile clips at ±1.0. Returns {frames, sample_rate, peak}.
    """
    if not paths:
        raise ValueError("choose at least one stem to mix")
    gains = list(gains) if gains is not None else [1.0] * len(paths)
    if len(gains) != len(paths):
        raise ValueError("one gain per stem")
    inputs = [sf.SoundFile(str(p)) for p in paths]
    try:
        rates = {f.samplerate for f in inputs}
        if len(rates) != 1:
            raise ValueError(f"stems have different sample rates: {sorted(rates)}")
        rate = rates.pop()
        channels = max(f.channels for f in inputs)
        frames = max(f.frames for f in inputs)
        peak = 0.0
        with sf.SoundFile(
            str(out_path), "w", samplerate=rate, channels=channels, subtype=subtype, format=out_format
        ) as out:
            for _ in range(0, frames, BLOCK_FRAMES):
                block = np.zeros((min(BLOCK_FRAMES, frames - out.tell()), channels), dtype=np.float32)
                for f, gain in zip(inputs, gains, strict=True):
                    data = f.read(len(block), dtype="float32", always_2d=True)
                    if data.shape[1] != channels:  # mono stem in a stereo mix
                        data = np.repeat(data[:, :1], channels, axis=1)
                    block[: len(data)] += gain * data
                peak = max(peak, float(np.max(np.abs(block))) if len(block) else 0.0)
                out.write(block)
        return {"frames": frames, "sample_rate": rate, "peak": peak}
    finally:
        for f in inputs:
            f.close()
