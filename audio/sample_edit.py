"""Non-destructive sample edits: trim, reverse, pitch, gain or normalise, and fades with a curve.

Pure code (no Django): `clean_edit` checks what a person asked for and fills the defaults; `apply_edit` renders
it onto float samples shaped (channels, frames) and returns the new samples with a short report. The original
is never touched; the app stores the result as a new sample.

The order is fixed, as a sampler applies it: trim (the region chosen on the waveform), reverse, pitch, level,
then the fades, last, so that they shape the edges of the sound that is heard. Pitch is either "repitch" (the
sampler's way: playback speed and pitch change together, so a kick tuned up gets shorter and keeps its punch) or
"keep_length" (a phase-vocoder pitch shift, librosa's, for loops and phrases that must keep their timing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["CURVES", "DEFAULTS", "NORMALISE_DB", "PITCH_MODES", "apply_edit", "clean_edit", "fade_shape"]

NORMALISE_DB = -1.0  # the peak of a normalised edit, as audio.slicing normalises slices
MAX_PITCH = 24.0  # semitones either way
GAIN_RANGE = (-48.0, 24.0)  # dB
MIN_FRAMES = 16  # shorter than this is no sound to keep
CURVES = ("linear", "exponential", "logarithmic", "s-curve")
PITCH_MODES = ("repitch", "keep_length")
DEFAULTS: dict[str, Any] = {
    "start": 0.0,
    "end": None,
    "fade_in": 0.0,
    "fade_out": 0.0,
    "fade_curve": "linear",
    "reverse": False,
    "gain_db": 0.0,
    "normalise": False,
    "pitch": 0.0,
    "pitch_mode": "repitch",
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _seconds(value: Any, what: str, *, allow_none: bool = False) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise ValueError(f"{what} is needed, in seconds")
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{what} must be zero or more seconds, not {value!r}")
    return number


def _number(value: Any, what: str, low: float, high: float, unit: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{what} must be between {low:g} and {high:g} {unit}, not {value!r}")
    return number


def _flag(value: Any, what: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, not {value!r}")
    return value


def clean_edit(params: Mapping[str, Any] | None, duration: float | None = None) -> dict[str, Any]:
    """The edit with its defaults (DEFAULTS), every value checked; ValueError with a sentence for the person
    who made it. Given the sample's `duration`, the region must lie within it and hold some sound."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValueError("an edit is a mapping of names to values")
    unknown = sorted(str(k) for k in params if k not in DEFAULTS)
    if unknown:
        raise ValueError(f"unknown edit {unknown[0]!r}; the edits are {', '.join(DEFAULTS)}")
    merged = {**DEFAULTS, **{k: v for k, v in params.items() if v is not None or k == "end"}}
    out: dict[str, Any] = {
        "start": _seconds(merged["start"], "start"),
        "end": _seconds(merged["end"], "end", allow_none=True),
        "fade_in": _seconds(merged["fade_in"], "fade_in"),
        "fade_out": _seconds(merged["fade_out"], "fade_out"),
        "reverse": _flag(merged["reverse"], "reverse"),
        "gain_db": _number(merged["gain_db"], "gain_db", *GAIN_RANGE, "dB"),
        "normalise": _flag(merged["normalise"], "normalise"),
        "pitch": _number(merged["pitch"], "pitch", -MAX_PITCH, MAX_PITCH, "semitones"),
    }
    curve = str(merged["fade_curve"]).strip().lower()
    if curve not in CURVES:
        raise ValueError(f"fade_curve must be one of {', '.join(CURVES)}, not {merged['fade_curve']!r}")
    mode = str(merged["pitch_mode"]).strip().lower()
    if mode not in PITCH_MODES:
        raise ValueError(f"pitch_mode must be one of {', '.join(PITCH_MODES)}, not {merged['pitch_mode']!r}")
    out["fade_curve"], out["pitch_mode"] = curve, mode
    if out["end"] is not None and out["end"] <= out["start"]:
        raise ValueError(f"end ({out['end']:g} s) must come after start ({out['start']:g} s)")
    if duration is not None:
        if out["start"] >= duration:
            raise ValueError(f"start ({out['start']:g} s) is past the sample's end ({duration:g} s)")
        if out["end"] is not None and out["end"] > duration + 1e-6:
            raise ValueError(f"end ({out['end']:g} s) is past the sample's end ({duration:g} s)")
        length = (min(out["end"], duration) if out["end"] is not None else duration) - out["start"]
        if out["fade_in"] + out["fade_out"] > length + 1e-6:
            raise ValueError(
                f"the fades ({out['fade_in']:g} s in, {out['fade_out']:g} s out) are longer than the trimmed "
                f"sample ({length:g} s)"
            )
    return out


def fade_shape(n: int, curve: str) -> np.ndarray:
    """n gains rising from 0 towards 1 (the last one short of 1, so a fade-in of n frames ends on the sound
    itself): linear, exponential (slow start, t^2: a natural fade-in), logarithmic (fast start, sqrt t) or
    s-curve (raised cosine)."""
    if n <= 0:
        return np.zeros(0, np.float32)
    t = np.arange(n, dtype=np.float64) / n
    if curve == "linear":
        shape = t
    elif curve == "exponential":
        shape = t * t
    elif curve == "logarithmic":
        shape = np.sqrt(t)
    elif curve == "s-curve":
        shape = 0.5 - 0.5 * np.cos(np.pi * t)
    else:
        raise ValueError(f"unknown fade curve {curve!r}")
    return shape.astype(np.float32)


def _repitch(x: np.ndarray, semitones: float) -> np.ndarray:
    """Resample so that played back at the same rate the sound is `semitones` higher (and shorter)."""
    from scipy.signal import resample_poly

    ratio = Fraction(2.0 ** (-semitones / 12.0)).limit_denominator(2000)  # new length / old length
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=1).astype(np.float32)


def _keep_length(x: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    import librosa

    return np.stack(
        [librosa.effects.pitch_shift(ch.astype(np.float32), sr=sr, n_steps=semitones, res_type="soxr_hq") for ch in x]
    ).astype(np.float32)


def apply_edit(samples: np.ndarray, sample_rate: int, edit: Mapping[str, Any]) -> tuple[np.ndarray, dict]:
    """Render `edit` (checked with clean_edit against the samples' duration) onto float `samples` shaped
    (channels, frames). Returns float32 (channels, frames) and a report: duration, peak_db, gain_db (what the
    level step applied) and clipped (whether the result had to be limited to full scale)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"samples must be shaped (channels, frames) and not empty, not {x.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, not {sample_rate}")
    edit = clean_edit(edit, x.shape[1] / sample_rate)
    first = round(edit["start"] * sample_rate)
    last = x.shape[1] if edit["end"] is None else min(x.shape[1], round(edit["end"] * sample_rate))
    x = x[:, first:last]
    if x.shape[1] < MIN_FRAMES:
        raise ValueError("the trimmed region holds no sound to keep: make it longer")
    if edit["reverse"]:
        x = x[:, ::-1]
    if edit["pitch"]:
        x = (
            _repitch(x, edit["pitch"])
            if edit["pitch_mode"] == "repitch"
            else _keep_length(x, sample_rate, edit["pitch"])
        )
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    gain_db = edit["gain_db"]
    if edit["normalise"]:
        peak = float(np.abs(x).max())
        gain_db = NORMALISE_DB - 20 * math.log10(peak) if peak > 0 else 0.0
    if gain_db:
        x = x * np.float32(10 ** (gain_db / 20))
    # The fades, scaled to the rendered length (repitching changes it).
    scale = x.shape[1] / max(1, last - first)
    fade_in = min(x.shape[1], round(edit["fade_in"] * sample_rate * scale))
    fade_out = min(x.shape[1] - fade_in, round(edit["fade_out"] * sample_rate * scale))
    if fade_in:
        x[:, :fade_in] *= fade_shape(fade_in, edit["fade_curve"])
    if fade_out:
        x[:, x.shape[1] - fade_out :] *= fade_shape(fade_out, edit["fade_curve"])[::-1]
    peak = float(np.abs(x).max())
    clipped = peak > 1.0
    if clipped:
        x = np.clip(x, -1.0, 1.0)
        peak = 1.0
    report = {
        "duration": x.shape[1] / sample_rate,
        "peak_db": 20 * math.log10(peak) if peak > 0 else -math.inf,
        "gain_db": round(gain_db, 3),
        "clipped": clipped,
    }
    return np.ascontiguousarray(x, dtype=np.float32), report
