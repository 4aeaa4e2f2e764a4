"""Audio augmentation for training: each function takes float32 mono audio and returns new audio (never in place).

pitch shift (by resampling, so the length changes too, as a sampler does), gain, EQ (RBJ biquads: shelves, a peak,
a band limit), reverb (convolution with a synthetic decaying-noise impulse response), noise at a random SNR,
truncation (a cut tail, a shaved attack) and layering (a second sound of the same class, or a quiet one of another
class). `augment` draws a random chain from an `np.random.Generator`, so a seed gives the same audio every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import scipy.signal as ss

MAX_SECONDS = 3.0


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def pitch_shift(x: np.ndarray, semitones: float) -> np.ndarray:
    """Play `x` faster (up) or slower (down) by `semitones`: pitch and length change together."""
    if abs(semitones) < 1e-3:
        return _f32(x).copy()
    ratio = Fraction(2 ** (-semitones / 12)).limit_denominator(64)
    return _f32(ss.resample_poly(x, ratio.numerator, ratio.denominator))


def gain(x: np.ndarray, db: float) -> np.ndarray:
    return _f32(x * 10 ** (db / 20))


def _biquad(kind: str, f0: float, sr: int, q: float = 0.707, db: float = 0.0) -> np.ndarray:
    """RBJ audio-EQ-cookbook biquad as an sos row."""
    f0 = float(np.clip(f0, 20, sr * 0.45))
    w = 2 * np.pi * f0 / sr
    cos, sin = np.cos(w), np.sin(w)
    alpha = sin / (2 * q)
    a_lin = 10 ** (db / 40)
    if kind == "lowpass":
        b = [(1 - cos) / 2, 1 - cos, (1 - cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    elif kind == "highpass":
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    elif kind == "peak":
        b = [1 + alpha * a_lin, -2 * cos, 1 - alpha * a_lin]
        a = [1 + alpha / a_lin, -2 * cos, 1 - alpha / a_lin]
    elif kind in ("lowshelf", "highshelf"):
        root = 2 * np.sqrt(a_lin) * alpha
        sign = 1 if kind == "lowshelf" else -1
        b = [
            a_lin * ((a_lin + 1) - sign * (a_lin - 1) * cos + root),
            sign * 2 * a_lin * ((a_lin - 1) - sign * (a_lin + 1) * cos),
            a_lin * ((a_lin + 1) - sign * (a_lin - 1) * cos - root),
        ]
        a = [
            (a_lin + 1) + sign * (a_lin - 1) * cos + root,
            -sign * 2 * ((a_lin - 1) + sign * (a_lin + 1) * cos),
            (a_lin + 1) + sign * (a_lin - 1) * cos - root,
        ]
    else:
        raise ValueError(kind)
    b, a = np.asarray(b) / a[0], np.asarray(a) / a[0]
    return np.concatenate([b, a])[np.newaxis, :]


def eq(x: np.ndarray, sr: int, bands: Sequence[tuple[str, float, float, float]]) -> np.ndarray:
    """Apply biquads given as (kind, frequency, q, gain dB); kinds: lowpass, highpass, peak, lowshelf, highshelf."""
    if not bands:
        return _f32(x).copy()
    sos = np.concatenate([_biquad(kind, f, sr, q, db) for kind, f, q, db in bands])
    return _f32(ss.sosfilt(sos, x))


def random_eq(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A tilt (opposite shelves), maybe a peak or notch, maybe a band limit (like a lossy file or a thin stem)."""
    tilt = rng.uniform(-6, 6)
    bands = [("lowshelf", rng.uniform(150, 400), 0.707, tilt), ("highshelf", rng.uniform(2000, 6000), 0.707, -tilt)]
    if rng.uniform() < 0.5:
        bands.append(
            ("peak", float(np.exp(rng.uniform(np.log(100), np.log(8000)))), rng.uniform(0.5, 3), rng.uniform(-9, 9))
        )
    if rng.uniform() < 0.25:
        bands.append(("lowpass", rng.uniform(4000, 10000), 0.707, 0.0))
    if rng.uniform() < 0.15:
        bands.append(("highpass", rng.uniform(30, 150), 0.707, 0.0))
    return eq(x, sr, bands)


def impulse_response(sr: int, rt60: float, rng: np.random.Generator, predelay: float = 0.0, damping: float = 0.5):
    """Exponentially decaying noise (a room's late reverb), darker as it decays when `damping` > 0."""
    n = int(min(rt60, 2.5) * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)
    if damping > 0:
        # A gentle low-pass, crossfaded in over the tail: high frequencies die first.
        dark = ss.sosfilt(_biquad("lowpass", 3000 * (1.2 - damping), sr), ir)
        mix = np.clip(t / max(rt60 * 0.5, 1e-3), 0, 1)
        ir = (1 - mix) * ir + mix * dark
    ir = np.concatenate([np.zeros(int(predelay * sr)), ir])
    return _f32(ir / (np.sqrt(np.sum(ir**2)) + 1e-12))


def reverb(x: np.ndarray, sr: int, ir: np.ndarray, wet: float, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """Dry plus `wet` of `x` convolved with `ir` (the tail is kept, up to `max_seconds`)."""
    wet_sig = ss.oaconvolve(x, ir)
    n = min(len(wet_sig), max(len(x), int(max_seconds * sr)))
    out = np.zeros(n, dtype=np.float32)
    out[: min(n, len(x))] += (1 - wet) * x[:n]
    out += wet * wet_sig[:n] * (np.max(np.abs(x)) / (np.max(np.abs(wet_sig)) + 1e-12))
    return out


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """Noise at `snr_db` below the signal's RMS over its loud part (white, pink or brown)."""
    noise = rng.standard_normal(len(x))
    if colour == "pink":
        noise = ss.lfilter([0.049922, -0.095993, 0.050612, -0.004408], [1, -2.494956, 2.017265, -0.522189], noise)
    elif colour == "brown":
        noise = np.cumsum(noise)
        noise -= np.linspace(noise[0], noise[-1], len(noise))
    loud = np.abs(x) > 0.05 * np.max(np.abs(x)) if len(x) else np.zeros(0, bool)
    signal_rms = np.sqrt(np.mean(x[loud] ** 2)) if loud.any() else 0.0
    noise *= signal_rms * 10 ** (-snr_db / 20) / (np.sqrt(np.mean(noise**2)) + 1e-12)
    return _f32(x + noise)


def truncate(x: np.ndarray, sr: int, keep_seconds: float | None = None, shave_seconds: float = 0.0) -> np.ndarray:
    """Cut the tail after `keep_seconds` (with a short fade) and/or shave `shave_seconds` off the attack."""
    x = _f32(x).copy()
    if shave_seconds > 0:
        x = x[int(shave_seconds * sr) :]
        ramp = min(len(x), int(0.001 * sr))
        x[:ramp] *= np.linspace(0, 1, ramp, dtype=np.float32)
    if keep_seconds is not None and keep_seconds * sr < len(x):
        x = x[: int(keep_seconds * sr)]
        fade = min(len(x) // 3, int(min(0.03, keep_seconds / 4) * sr))
        if fade > 0:
            x[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return x


def layer(x: np.ndarray, other: np.ndarray, db: float, offset: int = 0) -> np.ndarray:
    """`x` with `other` mixed in `db` relative to it (peak to peak), starting `offset` samples in."""
    other = other * (np.max(np.abs(x)) / (np.max(np.abs(other)) + 1e-12)) * 10 ** (db / 20)
    out = np.zeros(max(len(x), offset + len(other)), dtype=np.float32)
    out[: len(x)] += x
    out[offset : offset + len(other)] += other
    return out


def augment(
    x: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    *,
    pitched: bool = False,
    same: Sequence[np.ndarray] = (),
    other: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """A random chain of the above. `pitched` keeps pitch shifts small (a bass stays a bass); `same` and `other`
    are pools to layer from (other shots of the same category, and of any other)."""
    y = _f32(x)
    if rng.uniform() < 0.6:
        y = pitch_shift(y, rng.uniform(-2, 2) if pitched else rng.uniform(-4, 4))
    if same and rng.uniform() < 0.15:
        y = layer(y, same[int(rng.integers(len(same)))], rng.uniform(-9, 0), int(rng.uniform(0, 0.01) * sr))
    if other and rng.uniform() < 0.2:
        y = layer(y, other[int(rng.integers(len(other)))], rng.uniform(-30, -15), int(rng.uniform(0, 0.2) * sr))
    if rng.uniform() < 0.6:
        y = random_eq(y, sr, rng)
    if rng.uniform() < 0.35:
        ir = impulse_response(sr, rng.uniform(0.2, 2.0), rng, rng.uniform(0, 0.03), rng.uniform(0, 1))
        y = reverb(y, sr, ir, rng.uniform(0.05, 0.45))
    if rng.uniform() < 0.3:
        y = truncate(
            y,
            sr,
            keep_seconds=rng.uniform(0.12, max(0.13, len(y) / sr)) if rng.uniform() < 0.7 else None,
            shave_seconds=rng.uniform(0, 0.008) if rng.uniform() < 0.4 else 0.0,
        )
    if rng.uniform() < 0.4:
        y = add_noise(y, rng.uniform(15, 50), rng, str(rng.choice(["white", "pink", "brown"])))
    if rng.uniform() < 0.15:  # a little saturation, as from a processed stem
        drive = rng.uniform(1, 4)
        y = _f32(np.tanh(y * drive) / np.tanh(drive))
    y = gain(y, rng.uniform(-20, 0))
    return y[: int(MAX_SECONDS * sr)]
