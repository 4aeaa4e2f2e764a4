"""Sample tagging: what instrument a one-shot is (17 categories) and an embedding for "more like this".

Pure numpy/scipy inference over a small MLP trained by `python -m audio.training.train` on sounds rendered
from the FluidR3 GM soundfont and synthesised with numpy (see audio/training/README.md). Nothing here knows
about Django or the project's apps, and nothing is downloaded: the weights are the one file
`audio/models/sample_classifier.npz`, loaded once per process.

    prediction = classify(samples, 44100, source="drums")
    prediction.category, prediction.confidence, prediction.probabilities, prediction.embedding

`samples` is float audio shaped (channels, frames) like `audio_io.decode` returns, or 1-D mono ((frames, channels)
is accepted too when the channel count is obvious). The audio is analysed at 22.05 kHz: the first second as a
log-mel spectrogram pooled over five time segments, plus spectral shape, envelope and pitch figures (`features`).
Tagging one sample takes about 2 ms of one CPU core (measured: 1.7 ms for 0.3 s, 2.7 ms for 4 s of stereo).

`source` is the stem the sample was sliced from and is a strong prior: "drums" only ever yields a drum category,
"vocals" only vocal (or fx/other, for bleed), "bass" favours bass; every stem but "drums" rules out drums; None or
"mix" use the audio alone.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

# scipy (fft, signal, sparse) is imported where it is used: the worker and web processes import this module when
# Django loads the apps (samples.tasks), and scipy.signal alone costs ~0.8 s of CPU at every process start.

__all__ = [
    "ANALYSIS_SR",
    "CATEGORIES",
    "EMBEDDING_DIM",
    "FEATURE_VERSION",
    "GROUPS",
    "LABELS",
    "MODEL_PATH",
    "SOURCES",
    "ModelMissing",
    "Prediction",
    "TaggingModel",
    "classify",
    "clear_cache",
    "embed",
    "feature_names",
    "features",
    "group_of",
    "load_model",
    "source_prior",
    "to_analysis_rate",
]

# ------------------------------------------------------------------------------------------------ categories

CATEGORIES: tuple[str, ...] = (
    "kick",
    "snare",
    "clap",
    "hihat_closed",
    "hihat_open",
    "cymbal",
    "tom",
    "percussion",
    "bass",
    "vocal",
    "keys",
    "guitar",
    "strings",
    "brass_wind",
    "synth_lead",
    "pad",
    "fx_other",
)

LABELS: dict[str, str] = {
    "kick": "Kick",
    "snare": "Snare",
    "clap": "Clap",
    "hihat_closed": "Hi-hat closed",
    "hihat_open": "Hi-hat open",
    "cymbal": "Cymbal",
    "tom": "Tom",
    "percussion": "Percussion",
    "bass": "Bass",
    "vocal": "Vocal",
    "keys": "Keys",
    "guitar": "Guitar",
    "strings": "Strings",
    "brass_wind": "Brass/wind",
    "synth_lead": "Synth lead",
    "pad": "Pad",
    "fx_other": "FX/other",
}

GROUPS: dict[str, tuple[str, ...]] = {
    "drums": CATEGORIES[:8],
    "pitched": CATEGORIES[8:16],
    "other": ("fx_other",),
}
GROUP_LABELS: dict[str, str] = {"drums": "Drums", "pitched": "Pitched", "other": "Other"}


def group_of(category: str) -> str:
    """ "drums", "pitched" or "other" for a category id (KeyError for an unknown one)."""
    for group, members in GROUPS.items():
        if category in members:
            return group
    raise KeyError(category)


# Per-source multipliers on the model's probabilities (renormalised after). Absent categories weigh `default`.
_PRIORS: dict[str, tuple[float, dict[str, float]]] = {
    "drums": (0.0, dict.fromkeys(GROUPS["drums"], 1.0)),
    # A separated vocal or bass stem holds that instrument (and some bleed, which is tagged fx/other or the
    # nearest pitched sound): never a drum, whatever a one-shot's spectrum suggests.
    "vocals": (0.0, {"vocal": 1.0, "fx_other": 0.1}),
    "bass": (0.0, {"bass": 1.0, "synth_lead": 0.25, "keys": 0.15, "guitar": 0.1, "fx_other": 0.05}),
    "other": (0.0, {**dict.fromkeys(GROUPS["pitched"], 1.0), "fx_other": 1.0}),
    "guitar": (0.0, {**dict.fromkeys(GROUPS["pitched"], 0.25), "guitar": 1.0, "fx_other": 0.25}),
    "piano": (0.0, {**dict.fromkeys(GROUPS["pitched"], 0.25), "keys": 1.0, "fx_other": 0.25}),
}
SOURCES: tuple[str, ...] = (*_PRIORS, "mix")


@cache
def source_prior(source: str | None) -> np.ndarray | None:
    """The multiplier per category (float64, CATEGORIES order) for a stem name; None for no prior (None/"mix")."""
    if source is None or source == "mix":
        return None
    if source not in _PRIORS:
        raise ValueError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)} or None")
    default, weights = _PRIORS[source]
    prior = np.array([weights.get(c, default) for c in CATEGORIES], dtype=np.float64)
    prior.setflags(write=False)
    return prior


# -------------------------------------------------------------------------------------------------- features

FEATURE_VERSION = 4
ANALYSIS_SR = 22050
N_FFT = 1024
HOP = 256
N_MELS = 64
FMIN, FMAX = 30.0, 10500.0
STFT_SECONDS = 1.0  # the log-mel spectrogram covers the first second
ENVELOPE_SECONDS = 4.0  # the loudness envelope covers the first four
SEGMENTS = ((0.0, 0.03), (0.03, 0.08), (0.08, 0.18), (0.18, 0.4), (0.4, 1.0))  # seconds (frame centres)
ENVELOPE_TIMES = (0.0, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.4, 2.0, 3.0)
FLOOR_DB = -80.0  # log-mel and envelope floor relative to the peak: below it is noise, dither, resampling residue
ONSET_DB = -40.0  # leading audio below this (relative to the peak) is skipped
PITCH_WINDOW = 2048
PITCH_FMIN, PITCH_FMAX = 40.0, 1000.0
N_HARMONICS = 12
EPS = 1e-10

_N_FRAMES = int(STFT_SECONDS * ANALYSIS_SR) // HOP + 1
_FRAME_TIMES = np.arange(_N_FRAMES) * HOP / ANALYSIS_SR
_SEGMENT_SLICES = tuple(
    slice(int(np.searchsorted(_FRAME_TIMES, lo)), int(np.searchsorted(_FRAME_TIMES, hi))) for lo, hi in SEGMENTS
)


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=1)
def _analysis_tables():
    """Window, mel filterbank (bins x mels, area-normalised triangles) and bin frequencies, made once."""
    import scipy.signal
    import scipy.sparse

    window = scipy.signal.get_window("hann", N_FFT).astype(np.float32)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / ANALYSIS_SR)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2))
    bank = np.zeros((len(freqs), N_MELS))
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rise = (freqs - lo) / (mid - lo)
        fall = (hi - freqs) / (hi - mid)
        bank[:, m] = np.maximum(0.0, np.minimum(rise, fall)) * (2.0 / (hi - lo))
    # The lowest bands are narrower than a bin: give each at least its nearest bin so none is empty.
    for m in range(N_MELS):
        if bank[:, m].sum() == 0:
            bank[int(np.argmin(np.abs(freqs - edges[m + 1]))), m] = 2.0 / (edges[m + 2] - edges[m])
    used = int(np.max(np.nonzero(bank.sum(axis=1))[0])) + 1
    # Sparse (mels x bins): the projection then never goes through a multi-threaded BLAS call, which costs far more
    # than it saves for a matrix this small, above all on a busy machine.
    mel_t = scipy.sparse.csr_matrix(bank[:used].T.astype(np.float32))
    return window, mel_t, freqs[:used].astype(np.float32)


@lru_cache(maxsize=16)
def _resampler(sr: int):
    """(up, down, FIR taps) taking `sr` to ANALYSIS_SR with scipy's polyphase resampler, designed once per rate."""
    import scipy.signal

    ratio = Fraction(ANALYSIS_SR, sr).limit_denominator(1000)
    up, down = ratio.numerator, ratio.denominator
    max_rate = max(up, down)
    half_len = 10 * max_rate
    taps = scipy.signal.firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)).astype(np.float32)
    return up, down, taps  # resample_poly scales the taps by `up` itself


def to_analysis_rate(mono: np.ndarray, sr: int) -> np.ndarray:
    """Mono float audio at `sr` resampled to ANALYSIS_SR (22.05 kHz), float32. The same code for training and use."""
    import scipy.signal

    mono = np.asarray(mono, dtype=np.float32)
    if sr == ANALYSIS_SR:
        return mono
    up, down, taps = _resampler(int(sr))
    return scipy.signal.resample_poly(mono, up, down, window=taps).astype(np.float32)


def _as_mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 2:
        if x.shape[0] > 8 and x.shape[1] <= 8:  # (frames, channels)
            x = x.T
        x = x.mean(axis=0) if x.shape[0] > 1 else x[0]
    elif x.ndim != 1:
        raise ValueError(f"samples must be 1-D or shaped (channels, frames), not {x.shape}")
    if x.size == 0:
        raise ValueError("samples are empty")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return x


def _envelope_db(x: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """RMS per block of ~11.6 ms in dB relative to the loudest block, and the block length in seconds."""
    block = max(1, round(sr * HOP / ANALYSIS_SR))
    n = len(x) // block
    if n == 0:
        power = np.array([np.mean(x.astype(np.float64) ** 2)])
    else:
        power = np.mean(x[: n * block].reshape(n, block).astype(np.float64) ** 2, axis=1)
    db = 10.0 * np.log10(power + EPS)
    return np.maximum(db - db.max(), FLOOR_DB), block / sr


def _periodicity(x: np.ndarray, start: int) -> np.ndarray:
    """Pitch and harmonic structure of one window of PITCH_WINDOW samples starting at `start`:
    [salience 0..1, log2(f0 / 440), harmonic energy ratio, odd-even balance, N_HARMONICS relative harmonic levels].

    f0 comes from the normalised autocorrelation (the shortest lag within 10% of the best, so no octave-down
    errors); harmonic levels are the peaks of the windowed spectrum near each multiple of f0, in dB relative to the
    strongest, /20. Zeros where there is no window (a short sound)."""
    import scipy.fft

    out = np.zeros(4 + N_HARMONICS, dtype=np.float64)
    seg = x[start : start + PITCH_WINDOW].astype(np.float64)
    if len(seg) < PITCH_WINDOW // 2:
        return out
    seg = seg - seg.mean()
    n = len(seg)
    if np.sqrt(np.mean(seg**2)) < 10 ** ((FLOOR_DB + 10) / 20):  # the sound is over: only dither or silence
        return out
    spec = scipy.fft.rfft(seg, 2 * PITCH_WINDOW)
    acf = scipy.fft.irfft(spec.real**2 + spec.imag**2)[:PITCH_WINDOW]
    if acf[0] <= EPS:
        return out
    # Unbiased and normalised: each lag divided by its overlap, then by the zero-lag energy.
    acf = acf / (acf[0] * (n - np.minimum(np.arange(PITCH_WINDOW), n - 1)) / n)
    lo = int(ANALYSIS_SR / PITCH_FMAX)
    hi = min(int(ANALYSIS_SR / PITCH_FMIN), n // 2)
    if hi <= lo + 2:
        return out
    region = acf[lo:hi]
    best = float(region.max())
    peaks = np.nonzero((region[1:-1] >= region[:-2]) & (region[1:-1] >= region[2:]) & (region[1:-1] >= 0.9 * best))[0]
    lag = lo + 1 + int(peaks[0]) if len(peaks) else lo + int(np.argmax(region))
    # Parabolic interpolation of the peak for a finer f0.
    a, b, c = acf[lag - 1], acf[lag], acf[min(lag + 1, len(acf) - 1)]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else 0.0
    period = lag + float(np.clip(shift, -0.5, 0.5))
    f0 = ANALYSIS_SR / period
    out[0] = float(np.clip(acf[lag], 0.0, 1.0))
    out[1] = math.log2(f0 / 440.0)
    # Harmonic levels from the Hann-windowed spectrum (4096 points: 5.4 Hz per bin).
    win = _harmonic_window(n)
    mag = np.abs(scipy.fft.rfft(seg * win, 2 * PITCH_WINDOW)) ** 2
    bin_hz = ANALYSIS_SR / (2 * PITCH_WINDOW)
    levels = np.full(N_HARMONICS, EPS)
    harmonic_energy = 0.0
    for h in range(1, N_HARMONICS + 1):
        centre = h * f0 / bin_hz
        if centre >= len(mag) - 3:
            break
        half = max(2, int(0.03 * centre))
        lo_bin, hi_bin = int(centre) - half, int(centre) + half + 1
        peak = float(mag[max(lo_bin, 0) : hi_bin].max())
        levels[h - 1] = peak
        k = int(np.argmax(mag[max(lo_bin, 0) : hi_bin])) + max(lo_bin, 0)
        harmonic_energy += float(mag[max(k - 2, 0) : k + 3].sum())
    db = 10.0 * np.log10(levels + EPS)
    db = np.maximum(db - db.max(), -60.0)
    out[2] = harmonic_energy / (float(mag.sum()) + EPS)
    out[3] = float(db[2:9:2].mean() - db[1:9:2].mean()) / 20.0  # odd (3, 5, 7, 9) minus even (2, 4, 6, 8)
    out[4:] = db / 20.0
    return out


@lru_cache(maxsize=4)
def _harmonic_window(n: int) -> np.ndarray:
    import scipy.signal

    return scipy.signal.get_window("hann", n)


def feature_names() -> list[str]:
    """A name for each feature, in order (for inspection; the model only needs the count)."""
    names = [f"mel_mean_s{s}_{m}" for s in range(len(SEGMENTS)) for m in range(N_MELS)]
    names += [f"mel_std_{m}" for m in range(N_MELS)] + [f"mel_max_{m}" for m in range(N_MELS)]
    names += [f"{k}_s{s}" for s in range(len(SEGMENTS)) for k in ("centroid", "bandwidth", "flatness", "rolloff")]
    names += ["zcr_attack", "zcr"]
    names += [f"env_{t * 1000:g}ms" for t in ENVELOPE_TIMES]
    names += ["attack", "decay_10", "decay_20", "decay_40", "active", "length"]
    for when in ("early", "late"):
        names += [f"pitch_salience_{when}", f"pitch_{when}", f"harmonicity_{when}", f"odd_even_{when}"]
        names += [f"harmonic_{h}_{when}" for h in range(1, N_HARMONICS + 1)]
    names += ["peakiness", "flux"]
    return names


def features(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The fixed-size float32 feature vector of a one-shot, as the classifier sees it (training uses this too)."""
    import scipy.fft

    sr = int(sample_rate)
    if sr <= 0:
        raise ValueError(f"bad sample rate {sample_rate!r}")
    x = _as_mono(samples)
    peak = float(np.max(np.abs(x)))
    if peak > 0:
        # Skip leading near-silence (a slice may start a little early), keeping 2 ms before the onset.
        onset = int(np.argmax(np.abs(x) >= peak * 10 ** (ONSET_DB / 20)))
        x = x[max(0, onset - int(0.002 * sr)) :] / peak
    x = x[: int(ENVELOPE_SECONDS * sr)]
    window, mel_t, bin_freqs = _analysis_tables()

    # Envelope over the first four seconds at the input rate (no resampling needed).
    env, block_s = _envelope_db(x, sr)
    env_idx = np.minimum((np.asarray(ENVELOPE_TIMES) / block_s).astype(int), len(env) - 1)
    past_end = np.asarray(ENVELOPE_TIMES) / block_s >= len(env)
    env_points = np.where(past_end, FLOOR_DB, env[env_idx])
    peak_idx = int(np.argmax(env))
    after = env[peak_idx:]

    def decay(db: float) -> float:
        below = np.nonzero(after <= db)[0]
        t = (below[0] if len(below) else len(after)) * block_s
        return math.log(t + 0.005)

    active = np.nonzero(env > -40.0)[0]
    active_s = (active[-1] + 1) * block_s if len(active) else 0.0
    env_feats = [
        math.log(peak_idx * block_s + 0.005),
        decay(-10.0),
        decay(-20.0),
        decay(-40.0),
        math.log(active_s + 0.005),
        math.log(len(x) / sr + 0.005),
    ]

    # The first second at 22.05 kHz: STFT with frames centred on multiples of the hop.
    head = x[: int(STFT_SECONDS * sr) + int(PITCH_WINDOW * sr / ANALYSIS_SR) + 64]
    y = to_analysis_rate(head, sr)[: int(STFT_SECONDS * ANALYSIS_SR) + HOP]
    padded = np.zeros(N_FFT // 2 + (_N_FRAMES - 1) * HOP + N_FFT // 2, dtype=np.float32)
    padded[N_FFT // 2 : N_FFT // 2 + len(y)] = y[: len(padded) - N_FFT // 2]
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(_N_FRAMES, N_FFT), strides=(HOP * padded.strides[0], padded.strides[0]), writeable=False
    )
    spec = scipy.fft.rfft(frames * window, axis=1)[:, : len(bin_freqs)]
    power = spec.real**2 + spec.imag**2  # (frames, bins)
    mel_db = 10.0 * np.log10((mel_t @ power.T).T + EPS)
    mel_db = np.maximum(mel_db, FLOOR_DB)
    seg_means = [mel_db[s].mean(axis=0) for s in _SEGMENT_SLICES]

    # Spectral shape per frame, averaged per segment.
    frame_power = power.sum(axis=1) + EPS
    centroid = (power * bin_freqs).sum(axis=1) / frame_power
    bandwidth = np.sqrt(np.maximum((power * bin_freqs**2).sum(axis=1) / frame_power - centroid**2, 0.0))
    log_power = np.log(power + EPS)
    flatness = np.exp(log_power.mean(axis=1)) / (power.mean(axis=1) + EPS)
    cumulative = np.cumsum(power, axis=1)
    rolloff = bin_freqs[np.minimum(np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1), len(bin_freqs) - 1)]
    # Frames below the floor (a tail of dither or silence) get fixed values: their noise must not decide.
    silent = frame_power < frame_power.max() * 10 ** (FLOOR_DB / 10)
    centroid[silent], bandwidth[silent], flatness[silent], rolloff[silent] = 0.0, 0.0, 0.0, 0.0
    weights = frame_power / frame_power.max()
    shape_feats = []
    for s in _SEGMENT_SLICES:
        w = weights[s] + 1e-6
        shape_feats += [
            math.log(float(np.average(centroid[s], weights=w)) + 20.0),
            math.log(float(np.average(bandwidth[s], weights=w)) + 20.0),
            float(np.average(np.log(flatness[s] + 1e-6), weights=w)),
            math.log(float(np.average(rolloff[s], weights=w)) + 20.0),
        ]

    audible = np.abs(y) > 10 ** (FLOOR_DB / 20)  # the audio is peak-normalised
    signs = np.signbit(y)
    crossings = (signs[1:] != signs[:-1]) & audible[1:] & audible[:-1]
    attack_n = min(len(crossings), int(0.1 * ANALYSIS_SR))
    zcr = [float(crossings[:attack_n].mean()) if attack_n else 0.0, float(crossings.mean()) if len(crossings) else 0.0]

    early = int(0.04 * ANALYSIS_SR)
    late = int(0.25 * ANALYSIS_SR)
    period_early = _periodicity(y, early if len(y) > early + PITCH_WINDOW // 2 else 0)
    period_late = _periodicity(y, late)
    mean_spec = power[_SEGMENT_SLICES[2].start : _SEGMENT_SLICES[4].stop].mean(axis=0) + EPS
    peakiness = math.log(float(mean_spec.max() / mean_spec.mean()))
    flux = float(np.mean(np.abs(np.diff(mel_db[: _SEGMENT_SLICES[3].stop], axis=0)))) / 10.0

    out = np.concatenate(
        [
            np.concatenate(seg_means) / 20.0,
            mel_db.std(axis=0) / 10.0,
            mel_db.max(axis=0) / 20.0,
            np.array(shape_feats),
            np.array(zcr) * 10.0,
            env_points / 20.0,
            np.array(env_feats),
            period_early,
            period_late,
            np.array([peakiness, flux]),
        ]
    )
    return out.astype(np.float32)


# ----------------------------------------------------------------------------------------------------- model

MODEL_PATH = Path(__file__).resolve().parent / "models" / "sample_classifier.npz"
EMBEDDING_DIM = 64
_TRAIN_HINT = "run `python -m audio.training.train` to train it (a few minutes on a CPU)"


class ModelMissing(FileNotFoundError):
    """The classifier's weights file is not there."""


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    probabilities: dict[str, float]
    embedding: np.ndarray  # float32 (64,), unit norm

    @property
    def label(self) -> str:
        return LABELS[self.category]

    @property
    def group(self) -> str:
        return group_of(self.category)

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: kv[1], reverse=True)[:n]


class TaggingModel:
    """The MLP in numpy: standardise -> relu(W1) -> W2 (the embedding, pre-activation) -> relu -> W3 -> softmax."""

    def __init__(self, arrays: dict[str, np.ndarray], path: Path | None = None):
        self.path = path
        self.mean = arrays["mean"].astype(np.float32)
        self.inv_std = (1.0 / np.maximum(arrays["std"], 1e-6)).astype(np.float32)
        self.layers = [(arrays[f"w{i}"].astype(np.float32), arrays[f"b{i}"].astype(np.float32)) for i in (1, 2, 3)]
        self.categories = tuple(str(c) for c in arrays["categories"])
        self.meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
        version = int(arrays["feature_version"]) if "feature_version" in arrays else -1
        if self.categories != CATEGORIES or version != FEATURE_VERSION:
            raise ValueError(f"{path}: made for other categories or features (version {version}); {_TRAIN_HINT}")
        if self.layers[0][0].shape[0] != len(self.mean) or self.layers[1][0].shape[1] != EMBEDDING_DIM:
            raise ValueError(f"{path}: inconsistent layer shapes; {_TRAIN_HINT}")

    def forward(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, unit embeddings) for features shaped (n, F) (or (F,))."""
        (w1, b1), (w2, b2), (w3, b3) = self.layers
        h = (np.atleast_2d(feats).astype(np.float32) - self.mean) * self.inv_std
        h = np.maximum(h @ w1 + b1, 0.0)
        z = h @ w2 + b2
        logits = np.maximum(z, 0.0) @ w3 + b3
        logits = (logits - logits.max(axis=1, keepdims=True)).astype(np.float64)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        emb = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        return probs, emb.astype(np.float32)


_models: dict[Path, TaggingModel] = {}
_lock = threading.Lock()


def load_model(path: str | Path | None = None) -> TaggingModel:
    """The model at `path` (default MODEL_PATH), read once per process and cached."""
    path = Path(path) if path is not None else MODEL_PATH
    with _lock:
        model = _models.get(path)
        if model is None:
            if not path.is_file():
                raise ModelMissing(f"the sample classifier's weights are missing ({path}): {_TRAIN_HINT}")
            with np.load(path, allow_pickle=False) as data:
                model = TaggingModel({k: data[k] for k in data.files}, path)
            _models[path] = model
        return model


def clear_cache() -> None:
    with _lock:
        _models.clear()


def classify(
    samples: np.ndarray, sample_rate: int, *, source: str | None = None, model: TaggingModel | None = None
) -> Prediction:
    """The category of a one-shot, with the stem it came from (`source`) as a prior. See the module docstring."""
    prior = source_prior(source)  # checked before any work
    model = model or load_model()
    probs, emb = model.forward(features(samples, sample_rate))
    p = probs[0]
    if prior is not None:
        # The floor keeps the prior decisive when the audio alone gives every allowed category ~0 (softmax
        # underflow on a clearly foreign sound): the result is then the prior's own favourite, not NaN.
        p = np.maximum(p, 1e-12) * prior
        p = p / p.sum()
    best = int(np.argmax(p))
    return Prediction(
        category=CATEGORIES[best],
        confidence=float(p[best]),
        probabilities={c: float(v) for c, v in zip(CATEGORIES, p, strict=True)},
        embedding=emb[0],
    )


def embed(samples: np.ndarray, sample_rate: int, *, model: TaggingModel | None = None) -> np.ndarray:
    """The unit-norm float32 (64,) embedding of a one-shot: compare two with a dot product (cosine similarity)."""
    model = model or load_model()
    return model.forward(features(samples, sample_rate))[1][0]
