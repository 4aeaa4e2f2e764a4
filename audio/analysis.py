"""Musical analysis of decoded audio: waveform peaks, tempo and beats, key, loudness (EBU R128).

Pure functions over numpy arrays shaped (channels, frames) (1-D arrays are taken as mono). Essentia is
imported on first use only, so importing this module (e.g. for `waveform_peaks` in a web process) is cheap.
Nothing here knows about Django or the project's apps.
"""

from __future__ import annotations

import math
import os
from math import gcd

import numpy as np

from audio.audio_io import decode, probe

__all__ = ["ANALYSIS_SAMPLE_RATE", "analyse", "analyse_file", "waveform_peaks"]

ANALYSIS_SAMPLE_RATE = 44100  # what RhythmExtractor2013 and KeyExtractor are tuned for
SILENCE_PEAK = 10 ** (-70 / 20)  # a peak below -70 dBFS everywhere is silence
MIN_RHYTHM_SECONDS = 4.0  # fewer seconds hold too few beats for a tempo
MIN_KEY_SECONDS = 2.0
MIN_LOUDNESS_SECONDS = 0.4  # one EBU R128 gating block
LOUDNESS_FLOOR_LUFS = -70.0  # EBU R128's absolute gate: anything at or below it has no integrated loudness

_FLATS_TO_SHARPS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}

_essentia_standard = None


def _es():
    """essentia.standard, imported once with its console logging silenced."""
    global _essentia_standard
    if _essentia_standard is None:
        import essentia

        essentia.log.infoActive = False
        essentia.log.warningActive = False
        import essentia.standard

        _essentia_standard = essentia.standard
    return _essentia_standard


def _as_2d(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim == 1:
        return samples[np.newaxis, :]
    if samples.ndim != 2:
        raise ValueError(f"samples must be shaped (channels, frames), not {samples.shape}")
    return samples


def waveform_peaks(samples: np.ndarray, buckets: int = 800, *, normalise: bool = True) -> list[float]:
    """The maximum absolute amplitude of each of `buckets` equal slices of the audio, over all channels.

    normalise=True divides by the loudest peak, so the result spans 0..1 (all zeros for silence);
    normalise=False keeps amplitudes relative to full scale (clipped to 1). Rounded to 3 decimals.
    Audio with fewer frames than `buckets` gets one value per frame.
    """
    samples = _as_2d(samples)
    frames = samples.shape[1]
    if frames == 0 or buckets <= 0:
        return []
    count = min(buckets, frames)
    starts = (np.arange(count, dtype=np.int64) * frames) // count  # strictly increasing since count <= frames
    # max and -min per slice: no full-size abs() temporary.
    highs = np.maximum.reduceat(samples, starts, axis=1).max(axis=0)
    lows = np.minimum.reduceat(samples, starts, axis=1).min(axis=0)
    peaks = np.maximum(highs, -lows).astype(np.float64)
    peaks = np.nan_to_num(peaks, nan=0.0, posinf=1.0, neginf=0.0)
    if normalise:
        top = peaks.max()
        peaks = peaks / top if top > 0 else peaks
    return np.round(np.clip(peaks, 0.0, 1.0), 3).tolist()


def _finite(x: np.ndarray, *, in_place: bool) -> np.ndarray:
    """x with NaN as 0 and infinities as full scale (a copy unless in_place): float WAV files can hold them."""
    if math.isfinite(float(np.sum(x, dtype=np.float64))):  # no full-size temporary, unlike isfinite(x).all()
        return x
    return np.nan_to_num(x, copy=not in_place, nan=0.0, posinf=1.0, neginf=-1.0)


def _mono(samples: np.ndarray) -> np.ndarray:
    single = samples.shape[0] == 1
    mono = np.array(samples[0], dtype=np.float32) if single else samples.mean(axis=0, dtype=np.float32)
    return _finite(mono, in_place=True)


def _stereo(samples: np.ndarray) -> np.ndarray:
    """(frames, 2) float32, C-contiguous: what LoudnessEBUR128 takes. Mono is played on both sides."""
    channels = samples.shape[0]
    if channels == 1:
        left = right = samples[0]
    elif channels == 2:
        # decode() returns a transposed view of an interleaved buffer: then this makes no copy.
        out = np.ascontiguousarray(samples.T, dtype=np.float32)
        return _finite(out, in_place=out.base is None)
    else:  # beyond stereo (rare: analyse_file asks ffmpeg for a proper downmix): alternate channels per side
        left, right = samples[0::2].mean(axis=0), samples[1::2].mean(axis=0)
    out = np.empty((samples.shape[1], 2), dtype=np.float32)
    out[:, 0] = left
    out[:, 1] = right
    return _finite(out, in_place=True)


def _resample(mono: np.ndarray, sample_rate: int, target: int) -> np.ndarray:
    if sample_rate == target:
        return mono
    from scipy.signal import resample_poly

    divisor = gcd(sample_rate, target)
    return resample_poly(mono, target // divisor, sample_rate // divisor).astype(np.float32, copy=False)


def _rhythm(mono44: np.ndarray) -> tuple[float | None, list[float], float | None]:
    bpm, ticks, confidence, _estimates, _intervals = _es().RhythmExtractor2013(method="multifeature")(mono44)
    beats = [round(float(t), 3) for t in ticks]
    if not (math.isfinite(bpm) and bpm > 0) or len(beats) < 4:
        return None, [], None
    return round(float(bpm), 1), beats, round(float(confidence), 2)


def _key(mono44: np.ndarray) -> tuple[str | None, str | None, float | None]:
    key, scale, strength = _es().KeyExtractor()(mono44)
    if not key or not (math.isfinite(strength) and strength > 0):
        return None, None, None
    return _FLATS_TO_SHARPS.get(key, key), scale, round(float(strength), 3)


def _loudness(stereo: np.ndarray, sample_rate: int) -> tuple[float | None, float | None]:
    _momentary, _short_term, integrated, loudness_range = _es().LoudnessEBUR128(sampleRate=sample_rate)(stereo)
    if not math.isfinite(integrated) or integrated <= LOUDNESS_FLOOR_LUFS:
        return None, None
    lra = round(float(loudness_range), 1) if math.isfinite(loudness_range) else None
    return round(float(integrated), 1), lra


def _peak(samples: np.ndarray) -> float:
    if samples.size == 0:
        return 0.0
    return float(max(np.nanmax(samples), -np.nanmin(samples)))


def _analyse(holder: list[np.ndarray], sample_rate: int) -> dict:
    """analyse() on holder[0], which it takes out of `holder`: when the caller kept no other reference, the
    multi-channel samples are freed as soon as the mono mix exists, before the heavy rhythm analysis."""
    samples = _as_2d(holder.pop())
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    duration = samples.shape[1] / sample_rate
    result = {
        "duration": round(duration, 3),
        "bpm": None,
        "bpm_confidence": None,
        "beats": [],
        "key": None,
        "scale": None,
        "key_strength": None,
        "loudness_lufs": None,
        "loudness_range": None,
    }
    if _peak(samples) < SILENCE_PEAK:
        return result
    if duration >= MIN_LOUDNESS_SECONDS:
        result["loudness_lufs"], result["loudness_range"] = _loudness(_stereo(samples), sample_rate)
    if duration < min(MIN_RHYTHM_SECONDS, MIN_KEY_SECONDS):
        return result
    mono = _mono(samples)
    del samples
    if _peak(mono) < SILENCE_PEAK:  # e.g. two channels in opposite phase: nothing to hear in mono
        return result
    mono = _resample(mono, sample_rate, ANALYSIS_SAMPLE_RATE)
    if duration >= MIN_RHYTHM_SECONDS:
        result["bpm"], result["beats"], result["bpm_confidence"] = _rhythm(mono)
    if duration >= MIN_KEY_SECONDS:
        result["key"], result["scale"], result["key_strength"] = _key(mono)
    return result


def analyse(samples: np.ndarray, sample_rate: int) -> dict:
    """Tempo, beats, key and loudness of decoded audio ((channels, frames) float array).

    Returns {"duration", "bpm", "bpm_confidence", "beats", "key", "scale", "key_strength", "loudness_lufs",
    "loudness_range"}. bpm is rounded to 0.1 and beats (seconds) to the millisecond, key uses sharps (C, C#, ...,
    B) with scale "major"/"minor", loudness is EBU R128 integrated loudness (LUFS, mono counted on both
    stereo channels) and loudness range (LU). Values that do not exist for the audio (silence, clips too short
    for a tempo or a key) are None (beats []), never an exception. bpm_confidence is Essentia's multifeature
    confidence (0..5.3; below ~1.5 the tempo is a guess). Tempo and key are measured on the mono mix at 44.1 kHz
    (resampled if needed), loudness at the given rate.
    """
    return _analyse([samples], sample_rate)


def analyse_file(path: str | os.PathLike, *, max_seconds: float | None = None, buckets: int = 800) -> dict:
    """Decode a file (at most stereo, 44.1 kHz; only the first `max_seconds` if given) and analyse it.

    Returns analyse()'s dict plus "peaks" (waveform_peaks with `buckets`).
    """

    info = probe(path)
    samples, sample_rate = decode(
        path,
        sample_rate=ANALYSIS_SAMPLE_RATE,
        channels=min(info.channels, 2),
        max_seconds=max_seconds,
        info=info,
    )
    peaks = waveform_peaks(samples, buckets)
    holder = [samples]
    del samples
    result = _analyse(holder, sample_rate)
    result["peaks"] = peaks
    return result
