"""Slicing tracks and stems into samples at their onsets: drum hits, vocal phrases, note chops.

Pure functions over numpy arrays shaped (channels, frames) (1-D arrays are taken as mono). Essentia is imported
on first use only. Nothing here knows about Django or the project's apps.

How it works
------------
1. `onset_curve` does the expensive part ONCE per track: an Essentia onset detection function at a hop of
   5.8 ms (drums and full mixes: the rise of OnsetDetection('hfc'); vocals, bass and other melodic stems:
   OnsetDetection('melflux'), which also sees soft and pitch-change onsets), its local peaks (over +-30 ms)
   as candidate onsets, and for each candidate its exact start, a 0..1 strength and its level.
2. The exact start ("refinement") is found in the time domain near the detection frame, on the signal's
   first or second difference (an attack's high frequencies, without the previous note's low-frequency decay
   or bass bleed): the earliest point, among those a few ms before the largest one, where the peak level of
   the next 1-3 ms jumps JUMP_DB above the peak level of the few ms before it, then the first sample that
   crosses that level. That is the first sample of the attack, typically within a fraction of a millisecond
   of the true transient (frame-based detection alone reports onsets up to 15 ms late). Notes and vocals then
   walk back over a quiet lead-in of the same note (finger noise, breath). Where no clear jump exists (a hat
   drowned in a crash), the onset is put a fixed, measured latency before the detection frame, on the early
   side.
3. `pick` turns a sensitivity (0..1) into onset times with a threshold and a minimum gap: cheap enough to run
   on every move of a slider (microseconds: the suppression is computed once per curve and gap).
4. `slice_audio` cuts each slice from its pre-roll (a few ms) before its onset to the next slice's start or the
   point where the audio falls below the silence threshold, clamped to [min_length, max_length], with a
   fade-in confined to the first half of the pre-roll (the attack itself is never attenuated) and a fade-out
   at the end; `estimate_pitch` names the note of a pitched slice.

Sensitivity -> onsets (the browser can do the same from `OnsetCurve.to_json()`):

    threshold = 1 - sensitivity
    keep the candidates with strength >= threshold - 1e-6 and level_db >= silence_db;
    visit them from the strongest down (equal strengths: earlier first) and accept each one unless an
    accepted one lies less than min_length seconds away; the onsets are the accepted times, in time order.

So a higher sensitivity never removes an onset, it only adds weaker ones. A candidate's strength is

    strength = clip(1 + db / STRENGTH_RANGE_DB, 0, 1), with
    db = 20 log10(height / reference)
         - JUMP_PENALTY * max(0, JUMP_DB - jump)       (the attack's level jump in dB, from the refinement)
         - RISE_PENALTY * max(0, RISE_DB - rise)       (drums: how much HFC rose relative to where it was)

where height is the detection-function peak above the mean of the preceding 100 ms, and the reference is
the height of the track's clear onsets (jump >= JUMP_DB): the 95th percentile, or the largest when there are
fewer than 20. Sensitivity 0.5 keeps onsets within 20 dB of the track's strong ones, with clear attacks; the
shimmer of a ringing cymbal stays below. For vocals, phrase starts (the audio rising out of at least
PHRASE_GAP s below the silence threshold) have strength 1 and onsets inside a phrase at most 0.49: up to
sensitivity 0.5 a vocal is cut into phrases only; above it the phrases are also chopped at syllables.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "SOURCES",
    "OnsetCurve",
    "Slice",
    "estimate_pitch",
    "note_name",
    "onset_curve",
    "pick",
    "slice_audio",
]

SOURCES = ("drums", "vocals", "bass", "other", "guitar", "piano", "mix")
STRENGTH_RANGE_DB = 40.0  # candidate strengths span this many dB below the reference height
JUMP_DB = 6.0  # an attack starts where the level jumps this much above the level just before it
JUMP_PENALTY = 1.0  # strength lost (dB) per dB that a candidate's attack jump falls short of JUMP_DB
RISE_DB = 6.0  # a level-like function (HFC) rises at least this much (dB) at a clear onset ...
RISE_PENALTY = 1.0  # ... and a candidate loses this many dB of strength per dB it falls short
CURVE_SECONDS_PER_POINT = 0.05  # resolution of the display curve (3600 points for 3 minutes)
CURVE_MAX_POINTS = 4000
FLOOR_DBFS = -80.0  # candidates whose attack peak is below this are noise, never onsets
VOCAL_PHRASE_STRENGTH = 1.0
PHRASE_GAP = 0.15  # s below the silence threshold that separate vocal phrases
VOCAL_SYLLABLE_MAX_STRENGTH = 0.49
NORMALISE_DB = -1.0  # peak level of normalised slices


@dataclass(frozen=True)
class _Strategy:
    kind: str  # "hits" (one hit per sample), "phrases" (split at silences), "notes" (note chops)
    method: str  # Essentia OnsetDetection method
    rise: int  # > 0: use the rise of sqrt(function) over this many frames (for a level, like HFC), not itself
    frame: int  # detection frame size at 44.1 kHz (scaled with the rate)
    hop: int  # detection hop at 44.1 kHz
    emphasis: int  # order of the difference taken before refinement
    jump_window: float  # s of audio after a point whose peak is compared ...
    pre_window: float  # ... with the peak of this many s before it
    walk_back: float  # s before the jump searched for a quieter lead-in of the same note (0: none)
    search: tuple[float, float]  # the attack is searched this many s before and after the detection frame
    latency: float | None  # no clear attack found: the onset is this many s before the frame (None: max rise)
    max_length: float  # default maximum slice length, s
    pre_roll: float  # default pre-roll, s


_STRATEGIES = {
    # Drum hits: the rise of Essentia's HFC. Against known transients, the frame where it peaks is 7 ms after
    # to 2 ms before the transient (1st-99th percentile; median 2.6 ms after).
    "drums": _Strategy("hits", "hfc", 2, 1024, 256, 2, 0.001, 0.003, 0.0, (0.012, 0.004), 0.006, 1.5, 0.005),
    "mix": _Strategy("hits", "hfc", 2, 1024, 256, 1, 0.001, 0.003, 0.0, (0.012, 0.004), 0.006, 4.0, 0.005),
    # Notes and vocals: Essentia's mel-band flux, which also sees soft and pitch-change onsets.
    "vocals": _Strategy("phrases", "melflux", 0, 2048, 256, 1, 0.003, 0.015, 0.06, (0.048, 0.028), None, 8.0, 0.01),
    "bass": _Strategy("notes", "melflux", 0, 2048, 256, 1, 0.003, 0.015, 0.06, (0.048, 0.028), None, 4.0, 0.01),
    "other": _Strategy("notes", "melflux", 0, 2048, 256, 1, 0.002, 0.01, 0.04, (0.048, 0.028), None, 4.0, 0.008),
    "guitar": _Strategy("notes", "melflux", 0, 2048, 256, 1, 0.002, 0.01, 0.04, (0.048, 0.028), None, 4.0, 0.008),
    "piano": _Strategy("notes", "melflux", 0, 2048, 256, 1, 0.002, 0.01, 0.04, (0.048, 0.028), None, 4.0, 0.008),
}
#: Default maximum slice length per source, seconds.
DEFAULT_MAX_LENGTH = {source: s.max_length for source, s in _STRATEGIES.items()}

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


def _strategy(source: str) -> _Strategy:
    try:
        return _STRATEGIES[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}; use one of {SOURCES}") from None


def _as_2d(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    if samples.ndim != 2:
        raise ValueError(f"samples must be shaped (channels, frames), not {samples.shape}")
    if samples.dtype != np.float32:
        samples = samples.astype(np.float32)
    return np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)


def _db(x, floor: float = -200.0):
    return np.maximum(20 * np.log10(np.maximum(np.abs(x), 1e-12)), floor)


# ------------------------------------------------------------------------------------------------ the curve


@dataclass(eq=False)
class OnsetCurve:
    """What a track's slice points are picked from; computed once by `onset_curve`.

    `curve` is the detection function, normalised to 0..1 and max-pooled to one value per `curve_hop` seconds
    (for drawing); `times`/`strengths`/`levels` are the candidate onsets (refined start times in seconds,
    0..1 strengths, attack peaks in dBFS), in time order. `frame_hop` is the detection function's own hop.
    """

    source: str
    sample_rate: int
    duration: float
    frame_hop: float
    curve_hop: float
    curve: np.ndarray
    times: np.ndarray
    strengths: np.ndarray
    levels: np.ndarray
    _orders: dict = field(default_factory=dict, repr=False)  # pick()'s suppression, per (min_length, silence)

    @property
    def curve_times(self) -> np.ndarray:
        """The start time (s) of each value of `curve`."""
        return np.arange(self.curve.size) * self.curve_hop

    def to_json(self, decimals: int = 3) -> dict:
        """A plain dict for the browser: the curve and [time, strength, level_db] per candidate."""
        return {
            "source": self.source,
            "duration": round(self.duration, 4),
            "curve_hop": self.curve_hop,
            "curve": np.round(self.curve, decimals).tolist(),
            "onsets": [
                [round(float(t), 5), round(float(s), decimals), round(float(lv), 1)]
                for t, s, lv in zip(self.times, self.strengths, self.levels, strict=True)
            ],
            "frame_hop": round(self.frame_hop, 6),
        }


def _mono(samples: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(samples.mean(axis=0, dtype=np.float32))


def _scaled(frames_at_44k: int, sample_rate: int) -> int:
    """A frame or hop size for `sample_rate` that spans the same time as `frames_at_44k` at 44.1 kHz."""
    return max(16, 1 << round(math.log2(frames_at_44k * sample_rate / 44100)))


def _detection_function(
    mono: np.ndarray, sample_rate: int, s: _Strategy
) -> tuple[np.ndarray, np.ndarray | None, int, int]:
    """Essentia's OnsetDetection per frame (frame k centred on sample k * hop): (odf, base, frame, hop).

    The frames are cut, windowed (Essentia's normalised zero-phase Hann) and transformed in numpy blocks,
    which gives Essentia's Windowing + FFT exactly, at a fraction of the cost of three calls per frame.
    For a level-like function (`rise`), odf is its rise and base the level it rose from; else base is None.
    """
    import scipy.fft
    from numpy.lib.stride_tricks import sliding_window_view

    es = _es()
    frame, hop = _scaled(s.frame, sample_rate), _scaled(s.hop, sample_rate)
    detect = es.OnsetDetection(method=s.method, sampleRate=sample_rate)
    window = np.hanning(frame).astype(np.float32)
    window *= 2.0 / window.sum()
    padded = np.concatenate([np.zeros(frame // 2, np.float32), mono, np.zeros(frame // 2 + hop, np.float32)])
    views = sliding_window_view(padded, frame)[::hop]
    count = mono.size // hop + 1
    use_phase = s.method in ("complex", "complex_phase")
    no_phase = np.zeros(frame // 2 + 1, dtype=np.float32)
    out = np.zeros(count, dtype=np.float64)
    block = 2048
    for first in range(0, count, block):
        frames = views[first : min(count, first + block)] * window
        spectra = scipy.fft.rfft(np.roll(frames, -(frame // 2), axis=1), axis=1)  # zero-phase, as Essentia's
        magnitudes = np.ascontiguousarray(np.abs(spectra), dtype=np.float32)
        phases = np.ascontiguousarray(np.angle(spectra), dtype=np.float32) if use_phase else None
        for i in range(magnitudes.shape[0]):
            out[first + i] = detect(magnitudes[i], phases[i] if use_phase else no_phase)
    out = np.nan_to_num(np.maximum(out, 0.0))
    if not s.rise:
        return out, None, frame, hop
    # HFC is a level: onsets are where it rises (of its square root, between amplitude and power)
    root = np.sqrt(out)
    before = np.zeros_like(root)
    before[s.rise :] = root[: -s.rise]
    return np.maximum(root - before, 0.0), before, frame, hop


def _trailing_max(x: np.ndarray, size: int) -> np.ndarray:
    """out[i] = max(x[i - size + 1 : i + 1]) (edges repeat the first value)."""
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(x, size, origin=(size - 1) // 2, mode="nearest")


def _emphasised_level(samples: np.ndarray, order: int, block: int = 1 << 18) -> np.ndarray:
    """max over channels of |the order-th difference| (index i: the difference ending at sample i).

    order 0 is the peak level. Computed in blocks, so the only full-length array is the result.
    """
    frames = samples.shape[1]
    out = np.zeros(frames, dtype=np.float32)
    for start in range(0, frames, block):
        end = min(frames, start + block)
        lead = min(order, start)  # samples before the block that its first differences need
        chunk = samples[:, start - lead : end].astype(np.float32)
        if lead < order:  # the signal is taken as starting from its first sample (no step from zero)
            chunk = np.concatenate([np.repeat(chunk[:, :1], order - lead, axis=1), chunk], axis=1)
        for _ in range(order):
            chunk = np.diff(chunk, axis=1)
        np.abs(chunk, out=chunk)
        out[start:end] = chunk.max(axis=0)
    return out


def _refine(level: np.ndarray, coarse: int, lo: int, hi: int, pre: int, post: int) -> tuple[int, float]:
    """The attack start near `coarse`: searched in [lo, hi), see the module docstring. Returns (frame, jump dB).

    `level` is an emphasised level (`_emphasised_level`); `pre`/`post` the frames compared before and after.
    """
    n = len(level)
    lo, hi = max(lo, pre + 1), min(hi, n - post)
    if hi - lo < 2:
        return coarse, 0.0
    seg = level[lo - pre - 1 : hi + post]
    offset = lo - pre - 1  # seg[i] is level[offset + i]
    m = np.arange(lo, hi) - offset
    before = _trailing_max(seg, pre)[m - 1]  # max(level[m - pre : m])
    after = _trailing_max(seg, post)[np.minimum(m + post - 1, len(seg) - 1)]  # max(level[m : m + post])
    eps = max(float(after.max()) * 10 ** (-50 / 20), 1e-9)  # ignore anything 50 dB under the attack
    jump = 20 * np.log10((after + eps) / (before + eps))
    k = int(np.argmax(jump))
    best = float(jump[k])
    if best < JUMP_DB:
        return offset + int(m[k]), best
    # The earliest clear jump in the few ms before the largest one: a hat 2 ms before a kick starts the hit.
    first = max(0, k - 3 * post - pre)
    k0 = first + int(np.flatnonzero(jump[first : k + 1] >= JUMP_DB)[0])
    threshold = (before[k0] + eps) * 10 ** (JUMP_DB / 20)
    start = offset + int(m[k0])
    above = np.flatnonzero(level[start : start + post] >= threshold)
    return start + (int(above[0]) if above.size else 0), best


def _walk_back(magnitude: np.ndarray, start: int, window: int, hold: int) -> int:
    """The start of a quiet lead-in of the note whose attack jumps at `start` (a bass's finger noise, a breath).

    Walks back from `start`, at most `window` frames, while the peak level over the last `hold` frames stays
    6 dB above the quietest it gets in that window (and above -45 dB of the note's peak).
    """
    lo = max(0, start - window)
    if start - lo < 2:
        return start
    a = max(0, lo - hold)
    envelope = _trailing_max(magnitude[a : start + 1], hold)[lo - a :]  # envelope[i]: frame lo + i
    peak = float(magnitude[start : start + window].max(initial=0.0))
    threshold = max(float(envelope.min()) * 2.0, peak * 10 ** (-45 / 20))
    quiet = np.flatnonzero(envelope <= threshold)
    return min(start, lo + int(quiet[-1]) + 1) if quiet.size else start


def _peaks(odf: np.ndarray, radius: int) -> np.ndarray:
    """Indices of local maxima of `odf` over +-radius frames (plateaus: their first frame)."""
    from scipy.ndimage import maximum_filter1d

    if odf.size == 0:
        return np.zeros(0, dtype=np.int64)
    top = maximum_filter1d(odf, 2 * radius + 1, mode="constant")
    is_peak = (odf >= top) & (odf > 0)
    is_peak[1:] &= odf[1:] != odf[:-1]  # one per plateau
    return np.flatnonzero(is_peak)


def _strengths(heights: np.ndarray, jumps: np.ndarray, rises: np.ndarray | None = None) -> np.ndarray:
    """0..1 strengths (the formula is in the module docstring).

    The reference is taken from clear onsets only so that a one-shot's reference is its own hit, not the
    shimmer of its decay.
    """
    if heights.size == 0:
        return np.zeros(0, dtype=np.float32)
    clear = heights[(heights > 0) & (jumps >= JUMP_DB)]
    if clear.size == 0:
        clear = heights[heights > 0]
    if clear.size == 0:
        return np.zeros(heights.size, dtype=np.float32)
    ref = float(np.percentile(clear, 95)) if clear.size >= 20 else float(clear.max())
    db = 20 * np.log10(np.maximum(heights, 1e-30) / ref) + JUMP_PENALTY * np.minimum(0.0, jumps - JUMP_DB)
    if rises is not None:
        db += RISE_PENALTY * np.minimum(0.0, rises - RISE_DB)
    return np.clip(1 + db / STRENGTH_RANGE_DB, 0.0, 1.0).astype(np.float32)


def _frame_levels_db(samples: np.ndarray, hop: int) -> np.ndarray:
    """Peak level (dBFS, max over channels) of each block of `hop` frames (the last one may be shorter)."""
    frames = samples.shape[1]
    count = frames // hop
    whole = samples[:, : count * hop].reshape(samples.shape[0], count, hop)
    peaks = np.maximum(whole.max(axis=(0, 2)), -whole.min(axis=(0, 2))) if count else np.zeros(0, np.float32)
    if frames > count * hop:
        peaks = np.append(peaks, np.abs(samples[:, count * hop :]).max())
    return _db(peaks)


def _phrase_starts(samples: np.ndarray, sample_rate: int, silence_db: float, min_gap: float = PHRASE_GAP) -> list[int]:
    """Frames where the audio rises out of a silence (below `silence_db`) of at least `min_gap` s."""
    hop = max(1, round(0.005 * sample_rate))
    levels = _frame_levels_db(samples, hop)
    active = levels >= silence_db
    starts, quiet = [], math.inf
    gap_blocks = min_gap * sample_rate / hop
    for i, on in enumerate(active):
        if on:
            if quiet >= gap_blocks:
                starts.append(i * hop)
            quiet = 0
        else:
            quiet += 1
    return starts


def onset_curve(samples: np.ndarray, sample_rate: int, *, source: str, silence_db: float = -50.0) -> OnsetCurve:
    """Detect and refine every candidate onset of a track once; `pick` then chooses among them.

    `source` selects the strategy: "drums" (hits), "vocals" (phrases from silences, then syllables), "bass",
    "other", "guitar", "piano" (note onsets), "mix" (any onset). `silence_db` (dBFS) is where vocal phrases
    begin; candidates whose attack peak is below FLOOR_DBFS are dropped.
    """
    s = _strategy(source)
    samples = _as_2d(samples)
    frames = samples.shape[1]
    duration = frames / sample_rate if sample_rate else 0.0
    mono = _mono(samples)
    odf, base, _, hop = _detection_function(mono, sample_rate, s) if frames else (np.zeros(0), None, 0, 1)

    # Candidates: local maxima over +-30 ms with their height above the mean of the preceding 100 ms.
    fps = sample_rate / hop
    peaks = _peaks(odf, max(1, round(0.03 * fps)))
    cumsum = np.concatenate([[0.0], np.cumsum(odf)])
    span = max(1, round(0.1 * fps))
    first = np.maximum(peaks - span, 0)
    mean_before = (cumsum[peaks] - cumsum[first]) / np.maximum(peaks - first, 1)
    heights = odf[peaks] - mean_before if peaks.size else np.zeros(0)

    # Refinement: search the attack around the frame (centred) that peaks.
    level = _emphasised_level(samples, s.emphasis)
    pre, post = max(2, round(s.pre_window * sample_rate)), max(2, round(s.jump_window * sample_rate))
    back, ahead = round(s.search[0] * sample_rate), round(s.search[1] * sample_rate)
    peak_level = _emphasised_level(samples, 0) if s.emphasis else level
    walk, hold = round(s.walk_back * sample_rate), round(0.01 * sample_rate)
    times, jumps = [], []
    for p in peaks:
        c = int(p) * hop
        start, jump = _refine(level, c, c - back, c + ahead, pre, post)
        if jump < JUMP_DB and s.latency is not None:
            start = max(0, c - round(s.latency * sample_rate))
        if walk:
            start = _walk_back(peak_level, start, walk, hold)
        times.append(start)
        jumps.append(jump)
    # How much the function rose relative to where it rose from (a cymbal's shimmer rises by a few %)
    rises = None
    if base is not None and peaks.size:
        rises = 20 * np.log10(odf[peaks] / np.maximum(base[peaks], 1e-12 * max(1.0, float(base.max()))) + 1.0)
    strengths = _strengths(np.asarray(heights, dtype=np.float64), np.asarray(jumps, dtype=np.float64), rises)
    times_arr = np.asarray(times, dtype=np.int64)

    if s.kind == "phrases":  # phrase starts are onsets at full strength; the rest are syllables
        strengths = strengths * VOCAL_SYLLABLE_MAX_STRENGTH
        phrase = []
        for start in _phrase_starts(samples, sample_rate, silence_db):
            refined, jump = _refine(level, start, start - round(0.03 * sample_rate), start + hop, pre, post)
            phrase.append(_walk_back(peak_level, refined if jump >= JUMP_DB else start, walk, hold))
        times_arr = np.concatenate([times_arr, np.asarray(phrase, dtype=np.int64)])
        strengths = np.concatenate([strengths, np.full(len(phrase), VOCAL_PHRASE_STRENGTH, dtype=np.float32)])

    # Attack levels, dropping noise; one candidate per attack (two peaks can refine to the same one): the group
    # of starts within 2 ms takes the earliest start, the highest strength and level.
    window = max(1, round(0.03 * sample_rate))
    levels = np.array([_db(peak_level[t : t + window].max()) if t < frames else -200.0 for t in times_arr])
    keep = levels >= FLOOR_DBFS if levels.size else np.zeros(0, dtype=bool)
    times_arr, strengths, levels = times_arr[keep], strengths[keep], levels[keep]
    if times_arr.size:
        order = np.argsort(times_arr, kind="stable")
        times_arr, strengths, levels = times_arr[order], strengths[order], levels[order]
        firsts = np.flatnonzero(np.concatenate([[True], np.diff(times_arr) > round(0.002 * sample_rate)]))
        times_arr = times_arr[firsts]
        strengths = np.maximum.reduceat(strengths, firsts)
        levels = np.maximum.reduceat(levels, firsts)

    # The display curve: the detection function, normalised and max-pooled.
    curve_hop = max(CURVE_SECONDS_PER_POINT, duration / CURVE_MAX_POINTS)
    per_point = max(1, round(curve_hop * fps))
    curve_hop = per_point / fps
    if odf.size:
        padded = np.zeros(-(-odf.size // per_point) * per_point)
        padded[: odf.size] = odf
        pooled = padded.reshape(-1, per_point).max(axis=1)
        top = pooled.max()
        curve = (pooled / top if top > 0 else pooled).astype(np.float32)
    else:
        curve = np.zeros(0, dtype=np.float32)

    return OnsetCurve(
        source=source,
        sample_rate=sample_rate,
        duration=duration,
        frame_hop=hop / sample_rate,
        curve_hop=curve_hop,
        curve=curve,
        times=times_arr / sample_rate,
        strengths=strengths.astype(np.float32),
        levels=levels.astype(np.float32),
    )


def _suppression(curve: OnsetCurve, min_length: float, silence_db: float) -> np.ndarray:
    """Which candidates survive non-maximum suppression at threshold 0 (cached per gap and silence level).

    Candidates are visited from the strongest down, so whether one is accepted depends on stronger ones
    only: the accepted set at any threshold is this set restricted to strengths >= threshold.
    """
    key = (round(min_length, 6), round(silence_db, 3))
    if key not in curve._orders:
        audible = curve.levels >= silence_db
        order = np.lexsort((curve.times, -curve.strengths))
        accepted_times: list[float] = []
        accepted = np.zeros(curve.times.size, dtype=bool)
        for i in order:
            if not audible[i]:
                continue
            t = float(curve.times[i])
            j = bisect.bisect_left(accepted_times, t)
            if j > 0 and t - accepted_times[j - 1] < min_length:
                continue
            if j < len(accepted_times) and accepted_times[j] - t < min_length:
                continue
            accepted_times.insert(j, t)
            accepted[i] = True
        curve._orders[key] = accepted
    return curve._orders[key]


def pick(
    curve: OnsetCurve, sensitivity: float = 0.5, *, min_length: float = 0.05, silence_db: float = -50.0
) -> list[float]:
    """Onset times (s) for a sensitivity in 0..1 (more sensitive, more onsets), at least `min_length` apart.

    threshold = 1 - sensitivity; see the module docstring for the exact rule (the browser can do the same).
    """
    threshold = 1.0 - min(1.0, max(0.0, float(sensitivity)))
    accepted = _suppression(curve, max(0.0, float(min_length)), float(silence_db))
    chosen = accepted & (curve.strengths >= np.float32(threshold) - np.float32(1e-6))
    return curve.times[chosen].tolist()


# ---------------------------------------------------------------------------------------------------- slices


@dataclass(eq=False)
class Slice:
    """One sample: `start`..`end` of the source (s), its transient at `onset`, and its audio.

    `samples` are float32 (channels, frames), faded (and normalised if asked). `peak_db` (dBFS), `rms_db` and
    `loudness` (ungated BS.1770 K-weighted loudness, LUFS-like) describe those samples.
    """

    index: int
    start: float
    end: float
    onset: float
    samples: np.ndarray
    sample_rate: int
    peak_db: float
    rms_db: float
    loudness: float
    strength: float = 1.0
    gain_db: float = 0.0  # applied by normalisation

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def to_dict(self) -> dict:
        """Everything but the audio, JSON-ready."""
        return {
            "index": self.index,
            "start": round(self.start, 5),
            "end": round(self.end, 5),
            "onset": round(self.onset, 5),
            "duration": round(self.duration, 5),
            "peak_db": round(self.peak_db, 2),
            "rms_db": round(self.rms_db, 2),
            "loudness": round(self.loudness, 2),
            "strength": round(self.strength, 3),
            "gain_db": round(self.gain_db, 2),
        }


def _fade(n: int) -> np.ndarray:
    """0 -> 1 over n frames (raised cosine), exactly 0 at the first frame and 1 at the last."""
    if n <= 1:
        return np.ones(max(n, 0), dtype=np.float32)
    return (np.sin(np.linspace(0.0, np.pi / 2, n)) ** 2).astype(np.float32)


def _k_weighting(sample_rate: int):
    """BS.1770 K-weighting (high shelf, then high pass) for any rate: ((b1, a1), (b2, a2))."""
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q, vh = 0.7071752369554196, 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k**2
    b1 = [(vh + vb * k / q + k**2) / a0, 2 * (k**2 - vh) / a0, (vh - vb * k / q + k**2) / a0]
    a1 = [1.0, 2 * (k**2 - 1) / a0, (1 - k / q + k**2) / a0]
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k**2
    return (b1, a1), ([1.0, -2.0, 1.0], [1.0, 2 * (k**2 - 1) / a0, (1 - k / q + k**2) / a0])


def _loudness(samples: np.ndarray, sample_rate: int) -> float:
    from scipy.signal import lfilter

    (b1, a1), (b2, a2) = _k_weighting(sample_rate)
    weighted = lfilter(b2, a2, lfilter(b1, a1, samples.astype(np.float64), axis=1), axis=1)
    power = float(np.mean(np.square(weighted), axis=1).sum())
    return -0.691 + 10 * math.log10(power) if power > 1e-20 else -200.0


def loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Ungated BS.1770 K-weighted loudness (LUFS-like) of float (channels, frames); -200 for nothing."""
    return _loudness(samples, sample_rate) if samples.size else -200.0


def _measure(audio: np.ndarray, sample_rate: int) -> tuple[float, float, float]:
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return float(_db(peak)), float(_db(rms)), _loudness(audio, sample_rate) if audio.size else -200.0


def slice_audio(
    samples: np.ndarray,
    sample_rate: int,
    *,
    source: str,
    sensitivity: float = 0.5,
    min_length: float = 0.05,
    max_length: float | None = None,
    silence_db: float = -50.0,
    normalise: bool = False,
    pre_roll: float | None = None,
    fade_out: float = 0.01,
    curve: OnsetCurve | None = None,
    onsets: Sequence[float] | None = None,
) -> list[Slice]:
    """Cut `samples` into slices at their onsets (see the module docstring).

    `source` picks the strategy and the defaults: max_length (drums 1.5 s, vocals 8 s, others 4 s) and
    pre_roll (drums 5 ms, vocals/bass 10 ms, other melodic stems 8 ms). Slices run from `pre_roll` before
    their onset to the next slice's start or the last moment above `silence_db` (dBFS) plus 10 ms, whichever
    is first, clamped to [min_length, max_length]; slices that cannot be min_length long (at the end of the
    audio) or are silent throughout are dropped. `normalise` scales each slice's peak to NORMALISE_DB.
    Pass `curve` to reuse an `onset_curve` (the one the user adjusted the sensitivity on), or `onsets` to cut
    at given times (e.g. markers the user placed; they are used as they are).
    """
    s = _strategy(source)
    samples = _as_2d(samples)
    frames = samples.shape[1]
    if frames == 0:
        return []
    max_length = s.max_length if max_length is None else max_length
    pre_roll = s.pre_roll if pre_roll is None else max(0.0, pre_roll)
    if max_length < min_length:
        raise ValueError("max_length must be at least min_length")
    strengths: dict[float, float] = {}
    if onsets is None:
        curve = curve or onset_curve(samples, sample_rate, source=source, silence_db=silence_db)
        onsets = pick(curve, sensitivity, min_length=min_length, silence_db=silence_db)
        strengths = dict(zip(curve.times.tolist(), curve.strengths.tolist(), strict=True))
    onset_frames = sorted({min(frames - 1, max(0, round(t * sample_rate))) for t in onsets})

    # Block levels for finding where each slice falls silent.
    hop = max(1, round(0.002 * sample_rate))
    audible = _frame_levels_db(samples, hop) >= silence_db
    release = round(0.01 * sample_rate)
    pre = round(pre_roll * sample_rate)
    min_frames, max_frames = round(min_length * sample_rate), round(max_length * sample_rate)
    fade_frames = round(fade_out * sample_rate)

    slices: list[Slice] = []
    starts = [max(0, o - pre) for o in onset_frames]
    for i, onset in enumerate(onset_frames):
        start = starts[i]
        limit = starts[i + 1] if i + 1 < len(starts) else frames
        limit = min(limit, start + max_frames, frames)
        first_block, last_block = onset // hop, -(-limit // hop)
        loud = np.flatnonzero(audible[first_block:last_block])
        if loud.size == 0:
            continue  # silent throughout
        end = min(limit, (first_block + int(loud[-1]) + 1) * hop + release)
        if end - start < min_frames:
            end = min(limit, start + min_frames)
            if end - start < min_frames:
                continue
        audio = samples[:, start:end].copy()
        fade_in = (onset - start) // 2  # the first half of the pre-roll only: never the attack
        if fade_in > 1:
            audio[:, :fade_in] *= _fade(fade_in)
        n_out = min(fade_frames, (end - onset) // 4) if fade_frames > 0 else 0
        if n_out > 1:
            audio[:, -n_out:] *= _fade(n_out)[::-1]
        gain_db = 0.0
        if normalise:
            peak = float(np.abs(audio).max())
            if peak > 0:
                gain_db = NORMALISE_DB - 20 * math.log10(peak)
                audio *= np.float32(10 ** (gain_db / 20))
        peak_db, rms_db, loudness = _measure(audio, sample_rate)
        slices.append(
            Slice(
                index=len(slices),
                start=start / sample_rate,
                end=end / sample_rate,
                onset=onset / sample_rate,
                samples=audio,
                sample_rate=sample_rate,
                peak_db=peak_db,
                rms_db=rms_db,
                loudness=loudness,
                strength=float(strengths.get(onset / sample_rate, 1.0)),
                gain_db=gain_db,
            )
        )
    return slices


# ----------------------------------------------------------------------------------------------------- pitch

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(frequency: float) -> str:
    """The nearest equal-tempered note (A4 = 440 Hz), with sharps: 110.0 -> "A2"."""
    midi = round(69 + 12 * math.log2(frequency / 440.0))
    return f"{_NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def estimate_pitch(samples: np.ndarray, sample_rate: int, *, min_confidence: float = 0.5) -> tuple[str | None, float]:
    """The note of a pitched sample ("A2") and a 0..1 confidence, or (None, confidence) when it has none.

    Essentia's PitchYin (time-domain YIN; PitchYinFFT reads bass notes up to a semitone sharp) over the
    sustain (from 30 ms to 1 s in, at about 11 kHz), on frames within 30 dB of the loudest; the note is that of
    the median frequency, the confidence the median YIN confidence times the share of frames within half a
    semitone of it. Noise, hats and most drums come out below `min_confidence`.
    """
    samples = _as_2d(samples)
    mono = _mono(samples)
    skip = round(0.03 * sample_rate)
    sustain = mono[skip : skip + round(1.0 * sample_rate)] if mono.size > skip * 2 else mono
    # YIN is quadratic in the frame: analyse at about 11 kHz (fundamentals up to 4.2 kHz need no more)
    factor = max(1, sample_rate // 11025)
    if factor > 1 and sustain.size:
        from scipy.signal import resample_poly

        sustain = resample_poly(sustain, 1, factor).astype(np.float32)
    rate = sample_rate / factor
    frame = 1 << round(math.log2(0.093 * rate))  # ~93 ms: two periods of 25 Hz
    hop = frame // 2
    if sustain.size < frame or not np.any(sustain):
        return None, 0.0
    es = _es()
    yin = es.PitchYin(frameSize=frame, sampleRate=rate, minFrequency=25, maxFrequency=min(4200, rate / 2.5))
    pitches, confidences, energies = [], [], []
    for f in es.FrameGenerator(sustain, frameSize=frame, hopSize=hop, startFromZero=True):
        p, c = yin(f)
        pitches.append(p)
        confidences.append(c)
        energies.append(float(np.mean(np.square(f, dtype=np.float64))))
    pitches, confidences, energies = np.array(pitches), np.array(confidences), np.array(energies)
    loud = (energies >= energies.max() * 10 ** (-30 / 10)) & (pitches > 0)
    if not loud.any():
        return None, 0.0
    median = float(np.median(pitches[loud]))
    cents = 1200 * np.abs(np.log2(np.maximum(pitches[loud], 1e-6) / median))
    confidence = float(np.clip(np.median(confidences[loud]) * np.mean(cents <= 50), 0.0, 1.0))
    if confidence < min_confidence:
        return None, confidence
    return note_name(median), confidence
