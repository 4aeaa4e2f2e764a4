"""One-shots synthesised with numpy, to widen what the soundfont offers: drum-machine style kicks, snares, claps,
hats, cymbals, toms and percussion; synth basses, leads and pads; formant-synthesised vowels (GM has three voice
presets); risers, downlifters, zaps, sweeps and glitches for fx_other.

Every sound comes from a *patch* (a random parameter set drawn from a seed) played a few times with small changes
(pitch, velocity, length); the patch is the shot's `source`, so a split by source keeps a patch on one side.
Sounds are made at 44.1 kHz and brought to the analysis rate with the engine's resampler, like the renders.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.signal as ss

from audio.tagging import ANALYSIS_SR, to_analysis_rate
from audio.training.render import Shot, clean_shot

SR = 44100
TWO_PI = 2 * np.pi

# ------------------------------------------------------------------------------------------------ building blocks


def _exp_env(n: int, decay: float, attack: float = 0.001) -> np.ndarray:
    """`n` samples of a linear attack then an exponential decay; `decay` is the time to fall 60 dB."""
    t = np.arange(n) / SR
    env = np.exp(-6.91 * t / max(decay, 1e-3))
    a = max(1, int(attack * SR))
    env[:a] *= np.linspace(0, 1, a)
    return env


def _adsr(n: int, attack: float, decay: float, sustain: float, release: float, hold: float) -> np.ndarray:
    """`n` samples of attack, decay to `sustain`, held until `hold`, then a release (all in seconds)."""
    t = np.arange(n) / SR
    env = np.where(
        t < attack,
        t / max(attack, 1e-4),
        sustain + (1 - sustain) * np.exp(-(t - attack) * 5 / max(decay, 1e-3)),
    )
    at_hold = env[min(len(env) - 1, int(hold * SR))] if len(env) else 0
    after = t >= hold
    env[after] = at_hold * np.exp(-(t[after] - hold) * 6.91 / max(release, 1e-3))
    return env


def _phase(freq: np.ndarray | float, n: int) -> np.ndarray:
    freq = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    return np.cumsum(freq) / SR


def _osc(kind: str, freq, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    ph = _phase(freq, n) + (rng.uniform() if rng is not None else 0.0)
    frac = ph % 1.0
    if kind == "sine":
        return np.sin(TWO_PI * ph)
    if kind == "saw":
        return 2 * frac - 1
    if kind == "square":
        return np.where(frac < 0.5, 1.0, -1.0)
    if kind == "pulse":
        return np.where(frac < 0.25, 1.0, -1.0)
    if kind == "triangle":
        return 2 * np.abs(2 * frac - 1) - 1
    raise ValueError(kind)


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def _filter(x: np.ndarray, kind: str, freq, order: int = 2) -> np.ndarray:
    nyq = SR / 2
    if kind == "bandpass":
        lo, hi = np.clip(freq, 20, nyq * 0.95)
        if hi <= lo * 1.05:
            hi = min(nyq * 0.97, lo * 1.1)
        sos = ss.butter(order, [lo / nyq, hi / nyq], btype="bandpass", output="sos")
    else:
        sos = ss.butter(order, min(max(float(freq), 20.0), nyq * 0.95) / nyq, btype=kind, output="sos")
    return ss.sosfilt(sos, x)


def _biquad(kind: str, fc: float, q: float) -> np.ndarray:
    """One RBJ-cookbook biquad as an sos row (low-pass or band-pass, constant peak gain)."""
    w = TWO_PI * fc / SR
    alpha = np.sin(w) / (2 * q)
    cos = np.cos(w)
    b = np.array([(1 - cos) / 2, 1 - cos, (1 - cos) / 2]) if kind == "lowpass" else np.array([alpha, 0.0, -alpha])
    a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    return np.concatenate([b / a[0], a / a[0]])[np.newaxis, :]


def _sweep(x: np.ndarray, kind: str, centres: np.ndarray, q: float = 0.707, block: int = 512) -> np.ndarray:
    """A biquad whose cutoff (or centre) follows `centres` (one value per sample, taken per block)."""
    out = np.empty_like(x)
    zi = np.zeros((1, 2))
    for start in range(0, len(x), block):
        fc = float(np.clip(centres[min(start, len(centres) - 1)], 30, SR * 0.45))
        out[start : start + block], zi = ss.sosfilt(_biquad(kind, fc, q), x[start : start + block], zi=zi)
    return out


def _sweep_lowpass(x: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    return _sweep(x, "lowpass", cutoffs)


def _sweep_bandpass(x: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    return _sweep(x, "bandpass", centres, q=1.0 / max(width * 2, 0.05))


def _resonator(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    """A two-pole resonance (a formant) at `freq` Hz with `bandwidth` Hz, unity gain at the peak (roughly)."""
    r = np.exp(-np.pi * bandwidth / SR)
    theta = TWO_PI * freq / SR
    a = [1.0, -2 * r * np.cos(theta), r * r]
    b = [(1 - r) * np.sqrt(1 - 2 * r * np.cos(2 * theta) + r * r)]
    return ss.lfilter(b, a, x)


def _midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _saturate(x: np.ndarray, drive: float) -> np.ndarray:
    return np.tanh(x * drive) / np.tanh(drive) if drive > 0 else x


def _metallic(n: int, base: float, rng: np.random.Generator, partials: int = 6) -> np.ndarray:
    """Square waves at inharmonic ratios (the 808 hat recipe), randomised."""
    ratios = np.array([1.0, 1.4829, 1.8, 2.546, 2.63, 3.897])[:partials] * rng.uniform(0.93, 1.07, min(partials, 6))
    out = np.zeros(n)
    for r in ratios:
        out += _osc("square", base * r, n, rng)
    return out / len(ratios)


# ------------------------------------------------------------------------------------------------------ drums


def kick(rng: np.random.Generator, v: dict) -> np.ndarray:
    decay = v["decay"] * v["scale_decay"]
    n = int(min(1.5, decay * 1.3 + 0.05) * SR)
    t = np.arange(n) / SR
    f = v["f_end"] + (v["f_start"] - v["f_end"]) * np.exp(-t / v["sweep"])
    f = f * v["scale_pitch"]
    body = np.sin(TWO_PI * np.cumsum(f) / SR) * _exp_env(n, decay, 0.0005)
    click = _filter(_noise(n, rng), "highpass", v["click_hp"]) * _exp_env(n, v["click_decay"], 0.0002)
    x = body + v["click"] * click
    return _saturate(x, v["drive"])


def kick_patch(rng):
    return {
        "f_start": rng.uniform(90, 350),
        "f_end": rng.uniform(32, 70),
        "sweep": rng.uniform(0.008, 0.07),
        "decay": rng.uniform(0.15, 1.1),
        "click": rng.choice([0.0, rng.uniform(0.05, 0.6)]),
        "click_hp": rng.uniform(1000, 6000),
        "click_decay": rng.uniform(0.004, 0.03),
        "drive": rng.choice([0.0, rng.uniform(1, 5)]),
    }


def snare(rng, v):
    n = int(min(1.2, max(v["noise_decay"], v["body_decay"]) * 1.3 + 0.05) * SR)
    f0 = v["f0"] * v["scale_pitch"]
    t = np.arange(n) / SR
    bend = 1 + v["bend"] * np.exp(-t / 0.01)
    body = np.sin(TWO_PI * np.cumsum(f0 * bend) / SR) + 0.5 * np.sin(TWO_PI * np.cumsum(f0 * 1.62 * bend) / SR)
    body *= _exp_env(n, v["body_decay"] * v["scale_decay"], 0.0005)
    noise = _filter(_noise(n, rng), "bandpass", (v["noise_lo"], v["noise_hi"]))
    noise *= _exp_env(n, v["noise_decay"] * v["scale_decay"], 0.0005)
    noise /= np.max(np.abs(noise)) + 1e-9
    return _saturate(v["body"] * body + noise, v["drive"])


def snare_patch(rng):
    return {
        "f0": rng.uniform(140, 330),
        "bend": rng.uniform(0, 0.6),
        "body": rng.uniform(0.2, 1.2),
        "body_decay": rng.uniform(0.06, 0.3),
        "noise_lo": rng.uniform(500, 2500),
        "noise_hi": rng.uniform(5000, 16000),
        "noise_decay": rng.uniform(0.1, 0.55),
        "drive": rng.choice([0.0, rng.uniform(1, 4)]),
    }


def clap(rng, v):
    n = int(min(1.2, v["tail"] * v["scale_decay"] * 1.3 + 0.08) * SR)
    noise = _filter(_noise(n, rng), "bandpass", (v["lo"] * v["scale_pitch"], v["hi"] * v["scale_pitch"]))
    env = np.zeros(n)
    t0 = 0.0
    for _ in range(v["bursts"]):
        start = int(t0 * SR)
        seg = _exp_env(n - start, v["burst_decay"], 0.0005)
        env[start:] = np.maximum(env[start:], seg * rng.uniform(0.6, 1.0))
        t0 += v["spacing"] * rng.uniform(0.7, 1.3)
    start = int(t0 * SR)
    env[start:] = np.maximum(env[start:], _exp_env(n - start, v["tail"] * v["scale_decay"], 0.001) * 0.8)
    return noise * env


def clap_patch(rng):
    return {
        "lo": rng.uniform(600, 1400),
        "hi": rng.uniform(2000, 7000),
        "bursts": int(rng.integers(2, 6)),
        "spacing": rng.uniform(0.005, 0.016),
        "burst_decay": rng.uniform(0.008, 0.03),
        "tail": rng.uniform(0.08, 0.5),
    }


def hat(rng, v):
    decay = v["decay"] * v["scale_decay"]
    n = int(min(2.0, decay * 1.2 + 0.03) * SR)
    metal = _metallic(n, v["base"] * v["scale_pitch"], rng)
    x = v["metal"] * metal + (1 - v["metal"]) * _noise(n, rng) * 0.5
    x = _filter(x, "highpass", v["hp"], order=3)
    if v["lp"] < 15000:
        x = _filter(x, "lowpass", v["lp"])
    return x * _exp_env(n, decay, v["attack"])


def hat_patch(rng, open_: bool):
    return {
        "base": rng.uniform(250, 600),
        "metal": rng.uniform(0.0, 0.9),
        "hp": rng.uniform(4000, 9000),
        "lp": rng.choice([20000, rng.uniform(9000, 15000)]),
        "decay": rng.uniform(0.35, 1.4) if open_ else rng.uniform(0.03, 0.14),
        "attack": rng.uniform(0.0003, 0.004),
    }


def cymbal(rng, v):
    decay = v["decay"] * v["scale_decay"]
    n = int(min(2.6, decay) * SR)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for f in v["partials"] * v["scale_pitch"]:
        x += np.sin(TWO_PI * f * t + rng.uniform(0, TWO_PI)) * rng.uniform(0.3, 1.0)
    x = x / np.sqrt(len(v["partials"])) + v["noise"] * _noise(n, rng)
    x = _filter(x, "highpass", v["hp"], order=2)
    env = _exp_env(n, decay, v["attack"])
    env += v["crash"] * _exp_env(n, 0.15, 0.001)
    x = x * env
    if v["bell"] > 0:
        bell = np.sin(TWO_PI * v["bell_f"] * t) + 0.6 * np.sin(TWO_PI * v["bell_f"] * 2.76 * t)
        x += v["bell"] * bell * _exp_env(n, decay * 0.6, 0.0005)
    return x


def cymbal_patch(rng):
    k = int(rng.integers(12, 40))
    return {
        "partials": np.exp(rng.uniform(np.log(2500), np.log(14000), k)),
        "noise": rng.uniform(0.2, 1.5),
        "hp": rng.uniform(1500, 5000),
        "decay": rng.uniform(1.2, 4.0),
        "attack": rng.uniform(0.0005, 0.01),
        "crash": rng.uniform(0, 1.5),
        "bell": rng.choice([0.0, rng.uniform(0.1, 0.6)]),
        "bell_f": rng.uniform(600, 1400),
    }


def tom(rng, v):
    decay = v["decay"] * v["scale_decay"]
    n = int(min(1.6, decay * 1.2 + 0.05) * SR)
    t = np.arange(n) / SR
    f0 = v["f0"] * v["scale_pitch"]
    f = f0 * (1 + v["bend"] * np.exp(-t / v["bend_time"]))
    body = np.sin(TWO_PI * np.cumsum(f) / SR) + v["second"] * np.sin(TWO_PI * np.cumsum(f * 1.51) / SR)
    body *= _exp_env(n, decay, 0.0007)
    hit = _filter(_noise(n, rng), "bandpass", (300, 4000)) * _exp_env(n, 0.03, 0.0003) * v["hit"]
    return _saturate(body + hit, v["drive"])


def tom_patch(rng):
    return {
        "f0": np.exp(rng.uniform(np.log(65), np.log(280))),
        "bend": rng.uniform(0.1, 1.2),
        "bend_time": rng.uniform(0.02, 0.12),
        "decay": rng.uniform(0.25, 1.2),
        "second": rng.uniform(0, 0.5),
        "hit": rng.uniform(0, 0.5),
        "drive": rng.choice([0.0, rng.uniform(1, 3)]),
    }


def percussion(rng, v):
    kind = v["kind"]
    sp, sd = v["scale_pitch"], v["scale_decay"]
    if kind == "wood":  # woodblock, claves, rim: a damped sine or two
        n = int(0.3 * SR)
        t = np.arange(n) / SR
        x = np.sin(TWO_PI * v["f"] * sp * t) + v["b"] * np.sin(TWO_PI * v["f"] * sp * 2.7 * t)
        return x * _exp_env(n, v["decay"] * sd, 0.0002)
    if kind == "cowbell":
        n = int(0.8 * SR)
        x = _osc("square", v["f"] * sp, n, rng) + _osc("square", v["f"] * sp * 1.48, n, rng)
        x = _filter(x, "bandpass", (v["f"] * sp * 0.8, v["f"] * sp * 4))
        return x * _exp_env(n, v["decay"] * sd * 3, 0.0005)
    if kind == "shaker":
        n = int(0.5 * SR)
        x = _filter(_noise(n, rng), "bandpass", (v["f"] * sp, min(v["f"] * sp * 3, 18000)))
        t = np.arange(n) / SR
        env = (t / v["b"]) * np.exp(1 - t / v["b"])  # a swell then a fall
        return x * env * _exp_env(n, v["decay"] * sd * 4, 0.0)
    if kind == "conga":  # a hand drum: damped sine with a pitch dip and a slap
        n = int(0.7 * SR)
        t = np.arange(n) / SR
        f = v["f"] * sp * (1 + 0.15 * np.exp(-t / 0.02))
        x = np.sin(TWO_PI * np.cumsum(f) / SR) * _exp_env(n, v["decay"] * sd * 5, 0.0005)
        slap = _filter(_noise(n, rng), "bandpass", (800, 5000)) * _exp_env(n, 0.02, 0.0002)
        return x + v["b"] * slap
    if kind == "triangle":
        n = int(2.0 * SR)
        t = np.arange(n) / SR
        x = sum(np.sin(TWO_PI * v["f"] * sp * h * t) / h for h in (1, 2.9, 5.3, 8.1))
        return x * _exp_env(n, v["decay"] * sd * 20, 0.0003)
    # tambourine: jingles (short metallic bursts) over a noise hit
    n = int(0.6 * SR)
    x = _filter(_metallic(n, v["f"] * sp, rng) + 0.4 * _noise(n, rng), "highpass", 5000)
    env = np.zeros(n)
    for k in range(int(v["b"] * 6) + 2):
        start = int(k * 0.012 * SR * rng.uniform(0.6, 1.4))
        if start < n:
            env[start:] += _exp_env(n - start, 0.06, 0.0003) * rng.uniform(0.3, 1)
    return x * env * _exp_env(n, v["decay"] * sd * 6, 0.0)


def percussion_patch(rng):
    kind = str(rng.choice(["wood", "wood", "cowbell", "shaker", "conga", "conga", "triangle", "tambourine"]))
    freq = {
        "wood": (700, 3000),
        "cowbell": (450, 900),
        "shaker": (2500, 7000),
        "conga": (160, 480),
        "triangle": (1800, 4500),
        "tambourine": (400, 900),
    }[kind]
    return {
        "kind": kind,
        "f": rng.uniform(*freq),
        "b": rng.uniform(0.02, 0.8),
        "decay": rng.uniform(0.03, 0.15),
    }


# ---------------------------------------------------------------------------------------------------- pitched


def bass(rng, v):
    seconds = v["length"]
    n = int(seconds * SR)
    f0 = _midi_hz(v["note"])
    t = np.arange(n) / SR
    if v["kind"] == "808":
        f = f0 * (1 + v["glide"] * np.exp(-t / 0.04))
        x = np.sin(TWO_PI * np.cumsum(f) / SR)
        x = _saturate(x, v["drive"] + 0.5)
        return x * _adsr(n, 0.002, v["decay"], 0.0, 0.2, seconds - 0.05)
    if v["kind"] == "reese":
        x = _osc("saw", f0 * (1 - v["detune"]), n, rng) + _osc("saw", f0 * (1 + v["detune"]), n, rng)
    elif v["kind"] == "fm":
        mod = np.sin(TWO_PI * f0 * v["ratio"] * t) * v["index"] * _exp_env(n, v["decay"] * 2, 0.001)
        x = np.sin(TWO_PI * f0 * t + mod)
    else:
        x = _osc(v["kind"], f0, n, rng) + v["sub"] * _osc("sine", f0 / 2, n, rng)
    cutoff = v["cut_lo"] + v["cut_env"] * np.exp(-t / v["cut_decay"])
    x = _sweep_lowpass(x, cutoff)
    x = _saturate(x, v["drive"])
    return x * _adsr(n, v["attack"], v["decay"], v["sustain"], 0.08, v["hold"])


def bass_patch(rng):
    return {
        "kind": str(rng.choice(["808", "saw", "square", "triangle", "reese", "fm", "saw", "pulse"])),
        "detune": rng.uniform(0.003, 0.015),
        "ratio": float(rng.choice([0.5, 1.0, 2.0, 3.0])),
        "index": rng.uniform(0.5, 4),
        "sub": rng.uniform(0, 0.8),
        "glide": rng.choice([0.0, rng.uniform(0.2, 1.5)]),
        "cut_lo": rng.uniform(120, 600),
        "cut_env": rng.uniform(100, 3000),
        "cut_decay": rng.uniform(0.03, 0.4),
        "attack": rng.uniform(0.001, 0.02),
        "decay": rng.uniform(0.1, 1.0),
        "sustain": rng.uniform(0.2, 0.9),
        "drive": rng.choice([0.0, rng.uniform(1, 4)]),
        "note_lo": 26,
        "note_hi": 52,
    }


def lead(rng, v):
    seconds = v["length"]
    n = int(seconds * SR)
    f0 = _midi_hz(v["note"])
    t = np.arange(n) / SR
    vib = 1 + v["vib_depth"] * np.sin(TWO_PI * v["vib_rate"] * t) * np.clip((t - 0.15) / 0.2, 0, 1)
    glide = 1 + v["glide"] * np.exp(-t / 0.05)
    f = f0 * vib * glide
    x = np.zeros(n)
    for k in range(v["voices"]):
        detune = 1 + v["detune"] * (k - (v["voices"] - 1) / 2) / max(v["voices"] - 1, 1)
        x += _osc(v["wave"], f * detune, n, rng)
    x /= v["voices"]
    cutoff = np.minimum(v["cut"] * (1 + v["cut_env"] * np.exp(-t / v["cut_decay"])), 18000)
    x = _sweep_lowpass(x, cutoff)
    x = _saturate(x, v["drive"])
    return x * _adsr(n, v["attack"], v["decay"], v["sustain"], v["release"], v["hold"])


def lead_patch(rng):
    return {
        "wave": str(rng.choice(["saw", "square", "pulse", "saw", "triangle"])),
        "voices": int(rng.choice([1, 1, 2, 3, 5, 7])),
        "detune": rng.uniform(0.002, 0.02),
        "vib_depth": rng.choice([0.0, rng.uniform(0.002, 0.012)]),
        "vib_rate": rng.uniform(4, 7),
        "glide": rng.choice([0.0, rng.uniform(-0.1, 0.1)]),
        "cut": rng.uniform(1200, 9000),
        "cut_env": rng.uniform(0, 2),
        "cut_decay": rng.uniform(0.05, 0.5),
        "attack": rng.uniform(0.002, 0.04),
        "decay": rng.uniform(0.1, 0.8),
        "sustain": rng.uniform(0.4, 1.0),
        "release": rng.uniform(0.05, 0.4),
        "drive": rng.choice([0.0, rng.uniform(1, 3)]),
        "note_lo": 55,
        "note_hi": 93,
    }


def pad(rng, v):
    seconds = v["length"]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for interval in v["chord"]:
        f0 = _midi_hz(v["note"] + interval)
        for _k in range(v["voices"]):
            detune = 1 + v["detune"] * rng.uniform(-1, 1)
            x += _osc(v["wave"], f0 * detune, n, rng)
    x /= np.sqrt(len(v["chord"]) * v["voices"])
    lfo = 1 + 0.3 * np.sin(TWO_PI * v["lfo"] * t + rng.uniform(0, TWO_PI))
    cutoff = v["cut"] * lfo * np.clip(0.3 + t / max(v["attack"], 0.05), 0.3, 1.5)
    x = _sweep_lowpass(x, cutoff)
    return x * _adsr(n, v["attack"], 1.0, 0.9, v["release"], v["hold"])


def pad_patch(rng):
    chords = [(0,), (0, 7), (0, 12), (0, 7, 12), (0, 4, 7), (0, 3, 7), (0, 5, 12), (0, 7, 14)]
    return {
        "wave": str(rng.choice(["saw", "saw", "triangle", "square", "sine"])),
        "voices": int(rng.integers(2, 6)),
        "detune": rng.uniform(0.002, 0.012),
        "chord": chords[int(rng.integers(len(chords)))],
        "lfo": rng.uniform(0.1, 1.5),
        "cut": rng.uniform(500, 5000),
        "attack": rng.uniform(0.15, 1.0),
        "release": rng.uniform(0.3, 1.0),
        "note_lo": 40,
        "note_hi": 76,
        "min_length": 1.2,
    }


# Formant frequencies (Hz) and bandwidths of five vowels for an adult male voice; other voices are scaled.
VOWELS = {
    "a": (730, 1090, 2440, 3400, 4500),
    "e": (530, 1840, 2480, 3500, 4500),
    "i": (270, 2290, 3010, 3700, 4700),
    "o": (570, 840, 2410, 3300, 4400),
    "u": (300, 870, 2240, 3300, 4400),
}
FORMANT_BANDWIDTHS = (80, 100, 120, 150, 200)


def vocal(rng, v):
    seconds = v["length"]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = _midi_hz(v["note"])
    vib = 1 + v["vib_depth"] * np.sin(TWO_PI * v["vib_rate"] * t) * np.clip(t / 0.3, 0, 1)
    jitter = 1 + v["jitter"] * _filter(_noise(n, rng), "lowpass", 30)
    scoop = 1 - v["scoop"] * np.exp(-t / 0.06)
    f = f0 * vib * jitter * scoop
    ph = np.cumsum(f) / SR
    frac = ph % 1.0
    # A glottal-like source: a smoothed pulse (open phase rises, closes sharply) with a spectral tilt.
    open_q = v["open_q"]
    pulse = np.where(
        frac < open_q, 0.5 - 0.5 * np.cos(np.pi * frac / open_q), np.cos(np.pi * (frac - open_q) / (2 * (1 - open_q)))
    )
    source = np.diff(pulse, prepend=pulse[0]) * SR / f0
    source = _filter(source, "lowpass", v["tilt"], order=1)
    source += v["breath"] * _filter(_noise(n, rng), "highpass", 1500) * (0.5 + 0.5 * np.abs(pulse))
    formants_a = np.array(VOWELS[v["vowel"]]) * v["scale"]
    formants_b = np.array(VOWELS[v["vowel2"]]) * v["scale"]
    out = np.zeros(n)
    halves = (slice(0, n // 2), slice(n // 2, n)) if v["vowel2"] != v["vowel"] else (slice(0, n),)
    for part, formants in zip(halves, (formants_a, formants_b), strict=False):
        y = source[part]
        for k, (fr, bw) in enumerate(zip(formants, FORMANT_BANDWIDTHS, strict=True)):
            if fr < SR / 2 * 0.9:
                gain = (1.0, 0.8, 0.5, 0.3, 0.2)[k]
                out[part] += gain * _resonator(y, fr, bw * v["bw_scale"])
    return out * _adsr(n, v["attack"], 0.5, v["sustain"], v["release"], v["hold"])


def vocal_patch(rng):
    voice = str(rng.choice(["male", "female", "female", "child"]))
    lo, hi, scale = {"male": (40, 60, 1.0), "female": (53, 74, 1.17), "child": (58, 79, 1.3)}[voice]
    vowel = str(rng.choice(list(VOWELS)))
    return {
        "vowel": vowel,
        "vowel2": vowel if rng.uniform() < 0.7 else str(rng.choice(list(VOWELS))),
        "scale": scale * rng.uniform(0.93, 1.07),
        "bw_scale": rng.uniform(0.7, 1.6),
        "open_q": rng.uniform(0.45, 0.75),
        "tilt": rng.uniform(2000, 6000),
        "breath": rng.uniform(0.0, 0.4),
        "vib_depth": rng.uniform(0.0, 0.025),
        "vib_rate": rng.uniform(4.5, 6.5),
        "jitter": rng.uniform(0.0, 0.02),
        "scoop": rng.choice([0.0, rng.uniform(0.02, 0.08)]),
        "attack": rng.uniform(0.02, 0.15),
        "sustain": rng.uniform(0.6, 1.0),
        "release": rng.uniform(0.08, 0.4),
        "note_lo": lo,
        "note_hi": hi,
    }


def fx(rng, v):
    kind = v["kind"]
    seconds = v["length"]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    if kind in ("riser", "downlifter"):
        ramp = t / seconds if kind == "riser" else 1 - t / seconds
        centres = v["f_lo"] * (v["f_hi"] / v["f_lo"]) ** ramp
        x = _sweep_bandpass(_noise(n, rng), centres, v["width"])
        x /= np.max(np.abs(x)) + 1e-9
        tone = _osc(v["wave"], centres * v["tone_ratio"], n, rng) * v["tone"]
        env = (0.05 + ramp) ** v["curve"]
        return (x + tone) * env
    if kind == "zap":
        f = v["f_lo"] + (v["f_hi"] - v["f_lo"]) * np.exp(-t / v["sweep"])
        x = _osc(v["wave"], f, n, rng)
        return x * _exp_env(n, seconds * 0.9, 0.001)
    if kind == "sweep":
        centres = v["f_lo"] * (v["f_hi"] / v["f_lo"]) ** (0.5 - 0.5 * np.cos(TWO_PI * t / seconds * v["cycles"]))
        x = _sweep_lowpass(_noise(n, rng), centres)
        return x * _adsr(n, seconds * 0.2, 0.5, 0.8, seconds * 0.3, seconds * 0.7)
    if kind == "glitch":  # gated grains of tones and noise, bit-crushed
        x = np.zeros(n)
        pos = 0
        while pos < n:
            size = int(rng.uniform(0.01, 0.08) * SR)
            grain_kind = rng.integers(3)
            if grain_kind == 0:
                g = _osc("square", rng.uniform(80, 3000), size, rng)
            elif grain_kind == 1:
                g = _noise(size, rng) * 0.5
            else:
                g = np.sin(TWO_PI * np.cumsum(np.linspace(rng.uniform(100, 4000), rng.uniform(100, 4000), size)) / SR)
            g = g[: n - pos] * (rng.uniform() > 0.25)
            x[pos : pos + len(g)] = g
            pos += size + int(rng.uniform(0, 0.03) * SR)
        levels = 2 ** v["bits"]
        x = np.round(x * levels) / levels
        hold = int(v["crush"])
        if hold > 1:
            x = np.repeat(x[::hold], hold)[:n]
        return x
    if kind == "ring":  # ring-modulated, metallic, with a pitch drift
        car = _osc("sine", v["f_lo"] * (1 + 0.5 * t / seconds), n, rng)
        mod = _osc(v["wave"], v["f_hi"] * 0.3, n, rng)
        return car * mod * _exp_env(n, seconds, 0.005)
    # boom / impact: a long, dark noise burst and a falling sine with a reverb-like tail
    f = 40 + 200 * np.exp(-t / 0.15)
    x = 0.6 * np.sin(TWO_PI * np.cumsum(f) / SR) + _filter(_noise(n, rng), "lowpass", v["f_lo"] * 2)
    tail = _filter(_noise(n, rng), "bandpass", (200, 4000)) * _exp_env(n, seconds, 0.05) * 0.3
    return x * _exp_env(n, seconds * 0.9, 0.002) + tail


def fx_patch(rng):
    kind = str(rng.choice(["riser", "riser", "downlifter", "zap", "sweep", "glitch", "glitch", "ring", "boom"]))
    return {
        "kind": kind,
        "f_lo": rng.uniform(80, 600),
        "f_hi": rng.uniform(2000, 12000),
        "width": rng.uniform(0.1, 0.6),
        "wave": str(rng.choice(["saw", "square", "sine"])),
        "tone": rng.uniform(0, 0.6),
        "tone_ratio": rng.uniform(0.05, 0.3),
        "curve": rng.uniform(0.5, 3),
        "sweep": rng.uniform(0.02, 0.3),
        "cycles": rng.uniform(0.5, 2),
        "bits": int(rng.integers(3, 9)),
        "crush": rng.integers(1, 12),
        "note_lo": 60,
        "note_hi": 60,
        "min_length": 0.6 if kind in ("riser", "downlifter", "sweep", "boom") else 0.15,
    }


# ------------------------------------------------------------------------------------------ acoustic models


def _karplus_strong(f0: float, n: int, rng, brightness: float, decay: float, pick: float) -> np.ndarray:
    """A plucked string: a noise burst circulating in a delay line of one period with an averaging, losing loop
    filter (Karplus-Strong), computed a period at a time. `decay` is the 60 dB time of the fundamental."""
    period = max(2, round(SR / f0))
    burst = rng.uniform(-1, 1, period)
    burst = _filter(burst, "lowpass", brightness, order=1) if brightness < SR * 0.4 else burst
    shift = max(1, int(pick * period))  # plucking away from the bridge cancels some harmonics
    burst = burst - np.roll(burst, shift)
    g = 10 ** (-3 / (decay * f0))  # loss per round trip
    out = np.zeros(n + period + 1)
    out[:period] = burst
    for start in range(period, n + 1, period):
        prev = out[start - period : start]
        before = out[start - period - 1 : start - 1] if start > period else np.concatenate([[0.0], prev[:-1]])
        seg = g * 0.5 * (prev + before)
        out[start : start + len(seg)] = seg[: len(out) - start]
    return out[:n]


def guitar(rng, v):
    seconds = v["length"]
    n = int(seconds * SR)
    f0 = _midi_hz(v["note"])
    x = _karplus_strong(f0, n, rng, v["brightness"], v["decay"], v["pick"])
    if v["electric"]:
        x = _saturate(x * v["gain"], v["drive"])
        x = _filter(x, "lowpass", v["cab"])
    else:
        body = _resonator(x, v["body1"], 60) * 3 + _resonator(x, v["body2"], 150) * 2
        x = x + v["body_mix"] * body
    # Muting (palm mute, a short note): the release damps the string.
    return x * _adsr(n, 0.001, 10.0, 1.0, v["release"], v["hold"])


def guitar_patch(rng):
    electric = bool(rng.uniform() < 0.45)
    return {
        "electric": electric,
        "brightness": rng.uniform(1500, 9000) if not electric else rng.uniform(2500, 12000),
        "decay": rng.uniform(0.8, 4.0),
        "pick": rng.uniform(0.08, 0.35),
        "gain": rng.uniform(1, 8),
        "drive": rng.choice([0.0, rng.uniform(1, 6)]),
        "cab": rng.uniform(2500, 6000),
        "body1": rng.uniform(90, 130),
        "body2": rng.uniform(180, 450),
        "body_mix": rng.uniform(0.1, 0.6),
        "release": rng.uniform(0.05, 0.3),
        "note_lo": 40,
        "note_hi": 84,
    }


def keys(rng, v):
    seconds = v["length"]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = _midi_hz(v["note"])
    kind = v["kind"]
    if kind == "piano":  # inharmonic partials, higher ones dying faster, a hammer thump
        x = np.zeros(n)
        for k in range(1, 16):
            fk = k * f0 * np.sqrt(1 + v["inharm"] * k * k)
            if fk > 9000:
                break
            amp = k ** -v["tilt"] * rng.uniform(0.6, 1.0)
            d = v["decay"] / (1 + 0.3 * k)
            x += (
                amp
                * np.sin(TWO_PI * fk * t + rng.uniform(0, TWO_PI))
                * (0.6 * np.exp(-t * 6.91 / (d * 0.15)) + 0.4 * np.exp(-t * 6.91 / d))
            )
        x += 0.3 * _filter(_noise(n, rng), "bandpass", (60, 800)) * _exp_env(n, 0.05, 0.001)
        return x * _adsr(n, 0.002, 10, 1, v["release"], v["hold"])
    if kind == "epiano":  # FM: a decaying modulation index, a bell-like tine at the attack
        index = v["index"] * np.exp(-t / v["index_decay"])
        x = np.sin(TWO_PI * f0 * t + index * np.sin(TWO_PI * f0 * v["ratio"] * t))
        x += v["tine"] * np.sin(TWO_PI * f0 * 14 * t) * _exp_env(n, 0.08, 0.0005)
        x *= _exp_env(n, v["decay"], 0.002)
        return x * _adsr(n, 0.001, 10, 1, v["release"], v["hold"])
    if kind == "organ":  # drawbars: fixed harmonic levels, sustained, maybe a rotary-speaker wobble
        x = np.zeros(n)
        wobble = 1 + v["leslie"] * 0.003 * np.sin(TWO_PI * v["leslie_rate"] * t)
        for ratio, level in zip((0.5, 1, 1.5, 2, 3, 4, 5, 6, 8), v["drawbars"], strict=True):
            if ratio * f0 < 10000 and level > 0:
                x += level * np.sin(TWO_PI * np.cumsum(ratio * f0 * wobble) / SR)
        x *= 1 + v["leslie"] * 0.2 * np.sin(TWO_PI * v["leslie_rate"] * t)
        x += v["click"] * _filter(_noise(n, rng), "highpass", 2000) * _exp_env(n, 0.01, 0.0002)
        return x * _adsr(n, 0.004, 1, 1, v["release"], v["hold"])
    # mallets: modal partials with exponential decays (marimba, vibraphone, glockenspiel, bells)
    ratios = {
        "marimba": (1, 3.9, 9.2),
        "vibes": (1, 4.0, 10.0),
        "glock": (1, 2.76, 5.4, 8.9),
        "bell": (0.5, 1, 1.2, 1.5, 2, 2.7, 3.0),
    }[v["mallet"]]
    x = np.zeros(n)
    for k, r in enumerate(ratios):
        if r * f0 < 10000:
            x += (
                np.sin(TWO_PI * r * f0 * t) * rng.uniform(0.2, 1) / (k + 1) * np.exp(-t * 6.91 / (v["decay"] / (1 + k)))
            )
    if v["mallet"] == "vibes":
        x *= 1 + 0.3 * np.sin(TWO_PI * v["leslie_rate"] * t)
    return x * _adsr(n, 0.001, 10, 1, v["release"], v["hold"])


def keys_patch(rng):
    kind = str(rng.choice(["piano", "piano", "epiano", "organ", "organ", "mallet"]))
    bars = rng.choice([0.0, 0.3, 0.6, 1.0], size=9, p=[0.4, 0.2, 0.2, 0.2])
    bars[1] = max(bars[1], 0.6)
    return {
        "kind": kind,
        "inharm": rng.uniform(0.00005, 0.0006),
        "tilt": rng.uniform(0.8, 2.0),
        "decay": rng.uniform(1.0, 5.0),
        "index": rng.uniform(0.5, 4),
        "index_decay": rng.uniform(0.1, 0.8),
        "ratio": float(rng.choice([1.0, 1.0, 2.0, 3.0])),
        "tine": rng.uniform(0, 0.3),
        "drawbars": bars,
        "leslie": rng.choice([0.0, 1.0]),
        "leslie_rate": rng.uniform(1, 7),
        "click": rng.uniform(0, 0.3),
        "mallet": str(rng.choice(["marimba", "vibes", "glock", "bell"])),
        "release": rng.uniform(0.05, 0.4),
        "note_lo": 36 if kind != "mallet" else 55,
        "note_hi": 96,
    }


def strings(rng, v):
    """Bowed strings: sawtooth voices (one, or a section of detuned ones) with delayed vibrato, bow noise and a
    body filter of a few resonances."""
    seconds = v["length"]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = _midi_hz(v["note"])
    x = np.zeros(n)
    for _ in range(v["voices"]):
        vib = 1 + v["vib_depth"] * np.sin(TWO_PI * v["vib_rate"] * rng.uniform(0.9, 1.1) * t + rng.uniform(0, TWO_PI))
        vib = 1 + (vib - 1) * np.clip((t - v["vib_delay"]) / 0.2, 0, 1)
        x += _osc("saw", f0 * vib * (1 + v["detune"] * rng.uniform(-1, 1)), n, rng)
    x /= np.sqrt(v["voices"])
    x += v["bow_noise"] * _filter(_noise(n, rng), "bandpass", (f0, min(f0 * 8, 12000)))
    body = sum(_resonator(x, f, bw) * g for f, bw, g in v["body"])
    x = _filter(0.3 * x + body, "lowpass", v["bright"])
    return x * _adsr(n, v["attack"], 0.3, v["sustain"], v["release"], v["hold"])


def strings_patch(rng):
    return {
        "voices": int(rng.choice([1, 1, 3, 5, 8])),
        "detune": rng.uniform(0.001, 0.006),
        "vib_depth": rng.uniform(0.002, 0.008),
        "vib_rate": rng.uniform(4.5, 6.5),
        "vib_delay": rng.uniform(0.05, 0.4),
        "bow_noise": rng.uniform(0.0, 0.15),
        "body": [
            (rng.uniform(250, 450), 80, 2.0),
            (rng.uniform(800, 1200), 200, 1.5),
            (rng.uniform(2000, 3200), 500, 1.0),
        ],
        "bright": rng.uniform(3000, 9000),
        "attack": rng.uniform(0.03, 0.35),
        "sustain": rng.uniform(0.7, 1.0),
        "release": rng.uniform(0.1, 0.6),
        "note_lo": 36,
        "note_hi": 93,
    }


def winds(rng, v):
    """Brass (a saw brightening with the attack), reeds (odd harmonics, or a saw through a formant) and flutes
    (a near-sine with breath noise and a chiff), with a pitch scoop and vibrato."""
    seconds = v["length"]
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = _midi_hz(v["note"])
    vib = 1 + v["vib_depth"] * np.sin(TWO_PI * v["vib_rate"] * t) * np.clip((t - 0.2) / 0.3, 0, 1)
    f = f0 * vib * (1 - v["scoop"] * np.exp(-t / 0.04))
    kind = v["kind"]
    env = _adsr(n, v["attack"], 0.3, v["sustain"], v["release"], v["hold"])
    if kind == "brass":
        x = _osc("saw", f, n, rng)
        cutoff = f0 * (1.5 + v["bright"] * np.clip(t / v["attack"] / 2, 0, 1) * (0.4 + 0.6 * env))
        x = _sweep_lowpass(x, cutoff)
        x = x + 0.5 * _resonator(x, v["formant"], 300)
    elif kind == "reed":
        wave = "square" if v["odd"] else "saw"
        x = _sweep_lowpass(_osc(wave, f, n, rng), np.full(n, f0 * v["bright"]))
        x = x + 0.6 * _resonator(x, v["formant"], 250)
        x += v["breath"] * _filter(_noise(n, rng), "bandpass", (1000, 6000)) * 0.3
    else:  # flute
        x = np.sin(TWO_PI * np.cumsum(f) / SR) + v["h2"] * np.sin(2 * TWO_PI * np.cumsum(f) / SR)
        breath = _filter(_noise(n, rng), "bandpass", (f0 * 0.8, min(f0 * 6, 12000)))
        x = (
            x
            + v["breath"] * breath * 2
            + v["chiff"] * _filter(_noise(n, rng), "highpass", 2000) * _exp_env(n, 0.06, 0.005)
        )
    return x * env


def winds_patch(rng):
    kind = str(rng.choice(["brass", "brass", "reed", "reed", "flute"]))
    lo, hi = {"brass": (40, 82), "reed": (45, 88), "flute": (60, 96)}[kind]
    return {
        "kind": kind,
        "bright": rng.uniform(3, 12),
        "formant": rng.uniform(500, 1800),
        "odd": bool(rng.uniform() < 0.5),
        "breath": rng.uniform(0.0, 0.4),
        "chiff": rng.uniform(0, 0.5),
        "h2": rng.uniform(0, 0.3),
        "scoop": rng.choice([0.0, rng.uniform(0.01, 0.05)]),
        "vib_depth": rng.choice([0.0, rng.uniform(0.002, 0.01)]),
        "vib_rate": rng.uniform(4.5, 6.5),
        "attack": rng.uniform(0.02, 0.12),
        "sustain": rng.uniform(0.6, 1.0),
        "release": rng.uniform(0.05, 0.3),
        "note_lo": lo,
        "note_hi": hi,
    }


# ---------------------------------------------------------------------------------------------------- driver

Generator = Callable[[np.random.Generator, dict], np.ndarray]

# category -> (patch maker, sound maker, kind of variation: "drum" or "note")
SYNTHS: dict[str, tuple[Callable[[np.random.Generator], dict], Generator, str]] = {
    "kick": (kick_patch, kick, "drum"),
    "snare": (snare_patch, snare, "drum"),
    "clap": (clap_patch, clap, "drum"),
    "hihat_closed": (lambda rng: hat_patch(rng, False), hat, "drum"),
    "hihat_open": (lambda rng: hat_patch(rng, True), hat, "drum"),
    "cymbal": (cymbal_patch, cymbal, "drum"),
    "tom": (tom_patch, tom, "drum"),
    "percussion": (percussion_patch, percussion, "drum"),
    "bass": (bass_patch, bass, "note"),
    "synth_lead": (lead_patch, lead, "note"),
    "pad": (pad_patch, pad, "note"),
    "vocal": (vocal_patch, vocal, "note"),
    "fx_other": (fx_patch, fx, "note"),
    "guitar": (guitar_patch, guitar, "note"),
    "keys": (keys_patch, keys, "note"),
    "strings": (strings_patch, strings, "note"),
    "brass_wind": (winds_patch, winds, "note"),
}

# Patches per category for a full run (each played `variants` times).
PATCHES = {
    "kick": 70,
    "snare": 70,
    "clap": 60,
    "hihat_closed": 60,
    "hihat_open": 50,
    "cymbal": 40,
    "tom": 50,
    "percussion": 70,
    "bass": 80,
    "synth_lead": 80,
    "pad": 60,
    "vocal": 120,
    "fx_other": 120,
    "guitar": 70,
    "keys": 90,
    "strings": 60,
    "brass_wind": 90,
}


def synth_shots(category: str, patch_seed: int, variants: int) -> list[Shot]:
    """`variants` shots of one random patch of `category` (deterministic in the seed)."""
    make_patch, make_sound, variation = SYNTHS[category]
    rng = np.random.default_rng([patch_seed, list(SYNTHS).index(category)])
    patch = make_patch(rng)
    shots = []
    for i in range(variants):
        v = dict(patch)
        if variation == "drum":
            v["scale_pitch"] = float(rng.uniform(0.85, 1.18))
            v["scale_decay"] = float(rng.uniform(0.7, 1.3))
        else:
            v["note"] = float(rng.integers(patch["note_lo"], patch["note_hi"] + 1))
            v["length"] = float(rng.uniform(patch.get("min_length", 0.25), 2.2))
            v["hold"] = v["length"] * float(rng.uniform(0.5, 0.9))
        audio = make_sound(rng, v)
        audio = audio * float(rng.uniform(0.3, 1.0))  # velocity
        cleaned = clean_shot(to_analysis_rate(audio.astype(np.float32), SR), ANALYSIS_SR)
        if cleaned is not None:
            shots.append(
                Shot(cleaned, category, f"synth:{category}:{patch_seed}", f"synth {category} #{patch_seed}.{i}")
            )
    return shots


def synth_jobs(scale: float = 1.0, variants: int = 4, seed: int = 0) -> list[tuple[str, int, int]]:
    """(category, patch seed, variants) for every patch of a run; `scale` shrinks the counts for quick runs."""
    jobs = []
    for c, count in PATCHES.items():
        for k in range(max(2, round(count * scale))):
            jobs.append((c, seed * 100_000 + k, variants))
    return jobs
