"""Audio to MIDI: Spotify's Basic Pitch model (its bundled ONNX file, run by onnxruntime), our own decoding
of its output into notes tuned per source, and standard MIDI files at the track's tempo.

Pure functions over numpy arrays or audio paths; nothing here knows about Django or the project's apps.
TensorFlow is not needed (nor installed): the model file ships inside the basic-pitch package and is located
without importing basic_pitch (whose __init__ probes for TensorFlow, CoreML and TFLite and logs a warning for
each one missing).

Running the model
-----------------
`run_model` feeds mono 22050 Hz audio to the network exactly as basic_pitch.inference.run_inference does
(windows of 43844 samples, 30 overlapping frames, half an overlap of silence in front, half the overlap dropped
at each window edge), but 8 windows per onnxruntime call. It returns three posteriors at 86.13 frames/s:
`note` (a pitch sounds), `onset` (a pitch starts), both (frames, 88 piano keys), and `contour` (frames, 264:
3 bins per semitone). Each window keeps 142 frames while windows start 141.27 frames apart, so `frame_times`
maps frames to seconds window by window (basic_pitch spreads a per-window correction instead, and trims the
last ~0.5 % of the audio). One InferenceSession per process and thread count is created under a lock and
shared: onnxruntime's run() is thread-safe.

Why our own decoding
--------------------
basic_pitch.note_creation.output_to_notes_polyphonic with predict()'s defaults (onset 0.5, frame 0.3,
127.7 ms minimum, "melodia trick", onsets inferred from frame differences) finds most onsets but:
- ends notes where the note posterior falls under 0.3, and then only after 11 frames below it. On FluidR3_GM
  renders the posterior falls under 0.3 some 60-110 ms after the note-off for bass, keys and leads, and
  ~350 ms after it for the GM voices (their release); mir_eval accepts an offset within max(50 ms, 20 % of the
  note), so most offsets fail;
- splits sustained sung and bowed notes at every onset-posterior ripple, and turns harmonics (the octave or
  twelfth above a bass note) and release tails into notes of their own;
- reports every steady note's pitch bend a third of a semitone sharp (get_pitch_bends looks one contour bin
  low: MIDI note m is centred on bin 3 * (m - 21) + 1).

What `_decode` does instead
---------------------------
Polyphonic sources (piano, guitar, other, mix): per key, a note starts at each onset-posterior peak above
onset_threshold (whose note posterior reaches frame_threshold within 5 frames) and lasts while the note
posterior stays above frame_threshold, bridging `tolerance` frames below it, up to the next onset of that key.
Monophonic sources (bass, vocals): a Viterbi path picks at most one key per frame from the note posterior
(log posterior per key against log(frame_threshold) for silence, a fixed cost for every change), so a sung
note with vibrato or a slide stays one note and a plucked note's harmonics never compete with it; a segment
starts at the onset peak within 3 frames of the path's change (the change falls mid-crossfade) and is split
where the same key has a fresh onset peak above onset_threshold.
Then, for both:
- offsets: a note ends where its posterior falls below rel_end x its sustained level (75th percentile), plus
  end_shift (the posterior lags the release). A note that runs straight into the next one (monophonic: the
  path moves to another key; polyphonic with `restrike`: the key is struck again) ends where that one starts
  instead, unless its posterior had already faded more than `legato` frames before;
- notes shorter than min_note_ms or quieter than min_level are dropped; same-key notes at most merge_gap
  apart whose second onset is weaker than merge_onset are joined (a ringing string re-excited by a strum);
- "ghosts" are dropped: a note an octave, a twelfth or two octaves above a louder one that starts and ends with
  it, and weaker than ghost_ratio x its level;
- monophonic sources go through `monophonic()` at the end (at most one note at a time, the louder of two
  notes starting together is kept).
Velocity is 127 x the note's mean posterior. Bends (vocals and bass by default) come from the contour around
the note's own centre bin, refined by a parabola, median-smoothed over 58 ms, written where they move 0.15
semitone or more.

Tuning (honest: synthetic and held out)
---------------------------------------
PRESETS (user-visible defaults) and _DECODING (internal constants) were tuned by coordinate descent on takes
rendered from FluidR3_GM with the fluidsynth CLI, plus our own formant voice, with benchmarks/midi.py's
generators at seed 1000, maximising F1-with-offsets + 0.5 x onset-only F1 (mir_eval.transcription, 50 ms onset
tolerance, offset_ratio 0.2). The benchmark reports the default seed 0: other takes, not used for tuning.
No other sound font and no recorded music was used, so real recordings (room, mic, playing styles) may favour
lower thresholds, which the options allow.

    .venv/bin/python benchmarks/midi.py      (table in that script's docstring)

MIDI files
----------
`to_midi_bytes` writes a type-1 file whose single tempo is the track's detected tempo (120 only when there is
none) at 960 ticks per beat, with note times converted from seconds under that tempo, so the notes sit on the
audio in a DAW set to the track's tempo. `quantise` snaps starts and ends to 1/16 of the detected beat grid
(or of a steady bpm).
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.audio_io import decode

SAMPLE_RATE = 22050  # what the model was trained on
HOP = 256  # model frames are 256 samples apart (86.13 frames per second)
FRAME_RATE = SAMPLE_RATE / HOP
WINDOW = 2 * SAMPLE_RATE - HOP  # the model's fixed input: 43844 samples (2 s less one hop)
OVERLAP_FRAMES = 30  # frames shared by consecutive windows; half of them is dropped at each window edge
WINDOW_FRAMES = 172
WINDOW_HOP = WINDOW - OVERLAP_FRAMES * HOP  # 36164 samples between window starts
BATCH = 8  # windows per onnxruntime call: amortises the call overhead, keeps memory ~20 MB
LOWEST_MIDI = 21  # the model's 88 note bins are the piano keys A0..C8


def model_path() -> str:
    """The ONNX file bundled with basic-pitch (always the ONNX one, even where TensorFlow is installed).

    Found without importing basic_pitch: its __init__ probes for TensorFlow, CoreML and TFLite and logs a
    warning for each one missing, and nothing else from the package is needed here.
    """
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("basic-pitch is not installed: pip install --no-deps basic-pitch==0.4.0")
    path = Path(next(iter(spec.submodule_search_locations))) / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise RuntimeError(f"basic-pitch's ONNX model is missing: {path}")
    return str(path)


_sessions: dict[int, object] = {}
_session_lock = threading.Lock()


def session(threads: int | None = None):
    """The process-wide onnxruntime session for `threads` intra-op threads (0/None: onnxruntime's default)."""
    key = int(threads or 0)
    with _session_lock:
        if key not in _sessions:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = key
            opts.inter_op_num_threads = 1
            # A worker shares its cores with other jobs: idle threads that spin waiting for work steal them
            # (measured under load: 104 ms per window spinning, 68 ms without, benchmarks/midi.py).
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            _sessions[key] = ort.InferenceSession(model_path(), sess_options=opts, providers=["CPUExecutionProvider"])
        return _sessions[key]


@dataclass
class Activations:
    """The model's posteriors, (frames, 88) for notes and onsets and (frames, 264) for the pitch contour."""

    note: np.ndarray
    onset: np.ndarray
    contour: np.ndarray

    def __len__(self) -> int:
        return self.note.shape[0]


FRAMES_PER_WINDOW = WINDOW_FRAMES - OVERLAP_FRAMES  # 142 frames kept per window, but windows are 141.27 apart


def frame_times(n: int) -> np.ndarray:
    """Seconds of the model frames 0..n-1 of run_model's output.

    Each window keeps 142 frames while windows start 141.27 frames apart, so the grid is not uniform: frame j
    is frame j % 142 of window j // 142. (basic_pitch approximates this with a per-window drift correction.)
    """
    j = np.arange(n)
    return ((j // FRAMES_PER_WINDOW) * WINDOW_HOP + (j % FRAMES_PER_WINDOW) * HOP) / SAMPLE_RATE


def run_model(
    mono: np.ndarray, *, threads: int | None = None, progress: Callable[[float], None] | None = None
) -> Activations:
    """Run the model over mono float audio at SAMPLE_RATE, in overlapping 2 s windows (as basic_pitch does)."""
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    n_samples = mono.shape[0]
    half = OVERLAP_FRAMES // 2
    # Half an overlap of silence in front, so that after dropping `half` frames at the start of each window the
    # frames line up with the original audio (frame j of the result is at j * HOP samples).
    padded = np.concatenate([np.zeros(half * HOP, np.float32), mono])
    starts = list(range(0, max(len(padded), 1), WINDOW_HOP))
    sess = session(threads)
    outputs: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    names = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0"]
    for b in range(0, len(starts), BATCH):
        batch = np.zeros((len(starts[b : b + BATCH]), WINDOW, 1), np.float32)
        for i, s in enumerate(starts[b : b + BATCH]):
            chunk = padded[s : s + WINDOW]
            batch[i, : len(chunk), 0] = chunk
        note, onset, contour = sess.run(names, {"serving_default_input_2:0": batch})
        for key, value in zip(("note", "onset", "contour"), (note, onset, contour), strict=True):
            outputs[key].append(value[:, half:-half, :])
        if progress:
            progress(min(1.0, (b + BATCH) / len(starts)))
    flat = {k: np.concatenate(v).reshape(-1, v[0].shape[-1]) for k, v in outputs.items()}
    n_frames = int(np.searchsorted(frame_times(len(flat["note"])), n_samples / SAMPLE_RATE))
    flat = {k: v[:n_frames] for k, v in flat.items()}
    return Activations(flat["note"], flat["onset"], flat["contour"])


# ------------------------------------------------------------------------------------------------ decoding


@dataclass
class _Note:
    start: int  # frame of the onset
    end: int  # first frame after the note
    pitch: int  # bin 0..87
    level: float = 0.0  # mean note posterior
    onset: float = 0.0  # onset posterior peak at the start
    cut: bool = False  # ends where the next note starts (legato), not where it faded


def _onset_peaks(onset: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean (frames, 88): local maxima over time (plateaus count once, at their first frame) >= threshold."""
    prev = np.vstack([np.zeros((1, onset.shape[1])), onset[:-1]])
    nxt = np.vstack([onset[1:], np.zeros((1, onset.shape[1]))])
    return (onset > prev) & (onset >= nxt) & (onset >= threshold)


def _extend(col: np.ndarray, start: int, stop: int, threshold: float, tolerance: int) -> int:
    """First frame after the note that starts at `start` in `col`: where it stays below threshold for more than
    `tolerance` frames (then the end is the first of those frames), or `stop`."""
    below = 0
    i = start + 1
    while i < stop:
        if col[i] < threshold:
            below += 1
            if below > tolerance:
                return i - below + 1
        else:
            below = 0
        i += 1
    return stop - below


def _trim_end(col: np.ndarray, note: _Note, rel: float, threshold: float) -> int:
    """Move the end back to where the posterior fell below `rel` x the note's sustained level."""
    seg = col[note.start : note.end]
    if len(seg) < 3 or rel <= 0:
        return note.end
    level = float(np.percentile(seg, 75))
    cut = max(threshold, rel * level)
    above = np.nonzero(seg >= cut)[0]
    if len(above) == 0:
        return note.end
    return note.start + int(above[-1]) + 1


def _viterbi(post: np.ndarray, silence: float, switch: float) -> np.ndarray:
    """Most likely single pitch per frame (-1: none) given note posteriors (frames, K) and a switching cost.

    Emission: log posterior for a pitch, log(silence) for no note, so without the switching cost each frame
    would take its strongest pitch when that is above `silence`. The cost (in log units) keeps short blips from
    breaking a note and short notes from appearing; it plays the part of a minimum note length.
    """
    n, k = post.shape
    if n == 0:
        return np.zeros(0, int)
    em = np.empty((n, k + 1))
    em[:, :k] = np.log(np.maximum(post, 1e-4))
    em[:, k] = np.log(silence)
    back = np.empty((n, k + 1), np.int32)
    score = em[0].copy()
    idx = np.arange(k + 1)
    for t in range(1, n):
        best = int(np.argmax(score))
        jump = score[best] - switch
        stay = score >= jump
        back[t] = np.where(stay, idx, best)
        score = np.where(stay, score, jump) + em[t]
    path = np.empty(n, int)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    path[path == k] = -1
    return path


def _decode(act: Activations, p: dict) -> list[_Note]:
    """Note events (in frames) from the posteriors with decoding parameters `p` (see _DECODING)."""
    n = len(act)
    note = act.note.copy()
    onset = act.onset.copy()
    lo, hi = _bin_range(p["min_freq"], p["max_freq"])
    note[:, :lo] = 0
    note[:, hi:] = 0
    onset[:, :lo] = 0
    onset[:, hi:] = 0
    fps = FRAME_RATE
    min_len = max(1, round(p["min_note_ms"] / 1000 * fps))
    thr = p["frame_threshold"]
    tol = p["tolerance"]
    peaks = _onset_peaks(onset, p["onset_threshold"])
    notes: list[_Note] = []
    if p["monophonic"]:
        path = _viterbi(note[:, lo:hi], thr, p["switch"])
        path[path >= 0] += lo
        bounds = np.flatnonzero(np.diff(np.concatenate([[-2], path, [-2]])))
        for s, e in itertools.pairwise(bounds):
            pitch = int(path[s])
            if pitch < 0:
                continue
            col, ocol = note[:, pitch], onset[:, pitch]
            # the onset peak near the segment start is the note's start (the path changes mid-crossfade)
            a, b = max(0, s - 3), min(n, s + 4)
            start = a + int(np.argmax(ocol[a:b])) if ocol[a:b].max() >= p["onset_threshold"] * 0.5 else s
            # a fresh onset of the same key inside the segment is a new note (a re-sung or re-plucked one)
            cuts = [start] + [int(i) for i in np.flatnonzero(peaks[start:e, pitch]) + start if i >= start + min_len]
            followed = e < n and path[e] >= 0  # the next pitch takes over without a silence
            for c0, c1 in zip(cuts, [*cuts[1:], e], strict=True):
                notes.append(_Note(c0, c1, pitch, onset=float(ocol[c0]), cut=c1 == e and followed))
    else:
        for pitch in np.flatnonzero(note.max(axis=0) >= thr):
            col, ocol = note[:, pitch], onset[:, pitch]
            starts = list(np.flatnonzero(peaks[:, pitch]))
            for k, s in enumerate(starts):
                stop = starts[k + 1] if k + 1 < len(starts) else n
                first = next((i for i in range(s, min(s + 5, stop)) if col[i] >= thr), None)
                if first is None:
                    continue
                end = _extend(col, first, stop, thr, tol)
                restruck = bool(p["restrike"]) and end == stop < n
                notes.append(_Note(int(s), int(end), int(pitch), onset=float(ocol[s]), cut=restruck))
    for nt in notes:
        col = note[:, nt.pitch]
        end = _trim_end(col, nt, p["rel_end"], thr)
        # into the next note: the old one's posterior fades during the crossfade, which is not its end
        if nt.cut and nt.end - end <= p["legato"]:
            end = nt.end
        nt.cut = nt.cut and end == nt.end
        nt.end = end
        nt.level = float(col[nt.start : nt.end].mean()) if nt.end > nt.start else 0.0
    notes = [nt for nt in notes if nt.end - nt.start >= min_len and nt.level >= p["min_level"]]
    notes = _merge(notes, round(p["merge_gap"] * fps), p["merge_onset"])
    if p["ghost_ratio"] > 0:
        notes = _drop_ghosts(notes, p["ghost_ratio"])
    notes.sort(key=lambda x: (x.start, x.pitch))
    return notes


def _bin_range(min_freq: float | None, max_freq: float | None) -> tuple[int, int]:
    lo = 0 if min_freq is None else int(np.clip(np.ceil(_hz_to_midi(min_freq) - 0.5) - LOWEST_MIDI, 0, 88))
    hi = 88 if max_freq is None else int(np.clip(np.floor(_hz_to_midi(max_freq) + 0.5) - LOWEST_MIDI + 1, 0, 88))
    return lo, max(lo, hi)


def _hz_to_midi(hz: float) -> float:
    return 69 + 12 * np.log2(hz / 440.0)


def _merge(notes: list[_Note], gap: int, weak: float) -> list[_Note]:
    """Join notes of one pitch separated by at most `gap` frames when the second has a weak onset."""
    by_pitch: dict[int, list[_Note]] = {}
    for nt in sorted(notes, key=lambda x: x.start):
        run = by_pitch.setdefault(nt.pitch, [])
        if run and nt.start - run[-1].end <= gap and nt.onset < weak:
            last = run[-1]
            total = (last.end - last.start) + (nt.end - nt.start)
            last.level = (last.level * (last.end - last.start) + nt.level * (nt.end - nt.start)) / max(total, 1)
            last.end = max(last.end, nt.end)
        else:
            run.append(nt)
    return [nt for run in by_pitch.values() for nt in run]


def _drop_ghosts(notes: list[_Note], ratio: float) -> list[_Note]:
    """Drop notes that are only a harmonic of a louder note below (octave, twelfth, two octaves) sounding with it:
    starting within 4 frames (46 ms) of it and not outlasting it by more than 4 frames."""
    by_pitch: dict[int, list[_Note]] = {}
    for nt in notes:
        by_pitch.setdefault(nt.pitch, []).append(nt)
    keep = []
    for nt in notes:
        ghost = any(
            abs(other.start - nt.start) <= 4 and other.end >= nt.end - 4 and nt.level < ratio * other.level
            for interval in (12, 19, 24)
            for other in by_pitch.get(nt.pitch - interval, ())
        )
        if not ghost:
            keep.append(nt)
    return keep


# ------------------------------------------------------------------------------------------ presets, options

SOURCES = ("bass", "vocals", "piano", "guitar", "other", "mix")

#: What a user may set, per source: the defaults. monophonic: at most one note at a time.
PRESETS: dict[str, dict] = {
    "bass": {
        "onset_threshold": 0.6,
        "frame_threshold": 0.4,
        "min_note_ms": 100.0,
        "min_freq": 30.0,
        "max_freq": 400.0,
        "monophonic": True,
        "pitch_bends": True,
        "multiple_pitch_bends": False,
    },
    "vocals": {
        "onset_threshold": 0.7,
        "frame_threshold": 0.5,
        "min_note_ms": 130.0,
        "min_freq": 80.0,
        "max_freq": 1100.0,
        "monophonic": True,
        "pitch_bends": True,
        "multiple_pitch_bends": False,
    },
    "piano": {
        "onset_threshold": 0.8,
        "frame_threshold": 0.15,
        "min_note_ms": 130.0,
        "min_freq": None,
        "max_freq": None,
        "monophonic": False,
        "pitch_bends": False,
        "multiple_pitch_bends": False,
    },
    "guitar": {
        "onset_threshold": 0.5,
        "frame_threshold": 0.2,
        "min_note_ms": 100.0,
        "min_freq": 60.0,
        "max_freq": None,
        "monophonic": False,
        "pitch_bends": False,
        "multiple_pitch_bends": False,
    },
    "other": {
        "onset_threshold": 0.6,
        "frame_threshold": 0.5,
        "min_note_ms": 60.0,
        "min_freq": None,
        "max_freq": None,
        "monophonic": False,
        "pitch_bends": False,
        "multiple_pitch_bends": False,
    },
    "mix": {
        "onset_threshold": 0.6,
        "frame_threshold": 0.2,
        "min_note_ms": 60.0,
        "min_freq": None,
        "max_freq": None,
        "monophonic": False,
        "pitch_bends": False,
        "multiple_pitch_bends": False,
    },
}

# How each source is decoded beyond the user's options (tuned with benchmarks/midi.py, see the module docstring):
#   rel_end      a note ends where its posterior falls below this fraction of its sustained level
#   end_shift    seconds added to every end (the posterior lags the release), onset_shift likewise for starts
#   tolerance    frames below the frame threshold bridged inside a note (polyphonic decoding)
#   switch       cost of changing pitch in the monophonic path (log units): larger = fewer, longer notes
#   merge_gap, merge_onset   same-pitch notes at most merge_gap s apart are joined when the second onset is weaker
#   ghost_ratio  a note an octave/twelfth/two octaves above a louder one, starting with it, and weaker than this
#                fraction of it, is a harmonic, not a note
#   min_level    notes whose mean posterior is below this are dropped
#   restrike     (polyphonic) a note that lasts until its key's next onset ends there: see `legato`
#   legato       frames: a note running into the next one ends where that starts unless it faded earlier
_DECODING: dict[str, dict] = {
    "bass": {"rel_end": 0.6, "end_shift": -0.06, "onset_shift": -0.01, "switch": 1.0},
    "vocals": {"rel_end": 0.8, "end_shift": -0.06, "onset_shift": -0.02, "switch": 2.0, "legato": 8},
    "piano": {"rel_end": 0.7, "end_shift": -0.06, "tolerance": 0, "ghost_ratio": 0.7, "min_level": 0.3},
    "guitar": {
        "rel_end": 0.8,
        "end_shift": 0.02,
        "onset_shift": -0.02,
        "tolerance": 5,
        "merge_onset": 0.9,
        "min_level": 0.4,
        "restrike": True,
        "legato": 8,
    },
    "other": {
        "rel_end": 0.9,
        "end_shift": -0.02,
        "onset_shift": -0.03,
        "tolerance": 11,
        "ghost_ratio": 0.9,
        "restrike": True,
        "legato": 8,
    },
    "mix": {
        "rel_end": 0.8,
        "onset_shift": -0.02,
        "tolerance": 8,
        "merge_gap": 0.03,
        "merge_onset": 0.7,
        "ghost_ratio": 0.9,
        "min_level": 0.4,
        "restrike": True,
    },
}
_DECODING_DEFAULTS = {
    "rel_end": 0.0,
    "end_shift": 0.0,
    "onset_shift": 0.0,
    "tolerance": 3,
    "switch": 3.0,
    "merge_gap": 0.0,
    "merge_onset": 0.0,
    "ghost_ratio": 0.0,
    "min_level": 0.0,
    "legato": 0,
    "restrike": False,
}

_NUMBERS = {  # option: (low, high, what it is)
    "onset_threshold": (0.05, 0.95, "a number between 0.05 and 0.95"),
    "frame_threshold": (0.05, 0.95, "a number between 0.05 and 0.95"),
    "min_note_ms": (10.0, 2000.0, "a length in milliseconds between 10 and 2000"),
    "min_freq": (20.0, 5000.0, "a frequency in Hz between 20 and 5000, or empty for no limit"),
    "max_freq": (20.0, 5000.0, "a frequency in Hz between 20 and 5000, or empty for no limit"),
}
_FLAGS = ("monophonic", "pitch_bends", "multiple_pitch_bends")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def clean_options(source: str, options: dict | None = None) -> dict:
    """The preset for `source` with the user's `options` applied and checked; ValueError says what is wrong.

    Numbers may be given as numbers or numeric strings; min_freq/max_freq also as None or "" (no limit); flags
    as booleans or "true"/"false" (also 1/0, yes/no, on/off).
    """
    if source not in PRESETS:
        raise ValueError(f"Unknown source “{source}”. Choose one of: {', '.join(SOURCES)}.")
    if options is not None and not isinstance(options, dict):
        raise ValueError("MIDI options must be a set of names and values.")
    options = dict(options or {})
    unknown = sorted(set(options) - set(PRESETS[source]))
    if unknown:
        raise ValueError(
            f"Unknown MIDI option(s): {', '.join(map(str, unknown))}. Known: {', '.join(PRESETS[source])}."
        )
    cleaned = dict(PRESETS[source])
    for key, value in options.items():
        if key in _FLAGS:
            if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                value = value.strip().lower() in _TRUE
            elif isinstance(value, (bool, np.bool_)):
                value = bool(value)
            else:
                raise ValueError(f"{key} must be true or false.")
        else:
            low, high, what = _NUMBERS[key]
            if key in ("min_freq", "max_freq") and (value is None or value == ""):
                cleaned[key] = None
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, str, np.number)):
                raise ValueError(f"{key} must be {what}.")
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"{key} must be {what}.") from None
            if not (np.isfinite(value) and low <= value <= high):
                raise ValueError(f"{key} must be {what}; got {value:g}.")
        cleaned[key] = value
    if (
        cleaned["min_freq"] is not None
        and cleaned["max_freq"] is not None
        and cleaned["min_freq"] >= cleaned["max_freq"]
    ):
        raise ValueError(f"min_freq ({cleaned['min_freq']:g} Hz) must be below max_freq ({cleaned['max_freq']:g} Hz).")
    return cleaned


def decoding_params(source: str, options: dict | None = None) -> dict:
    """Everything _decode needs: the cleaned user options and the source's internal constants."""
    return {**_DECODING_DEFAULTS, **_DECODING[source], **clean_options(source, options)}


# ------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Note:
    """One note event. Times in seconds; bends: (seconds after the start, semitones) where the pitch changes."""

    start: float
    end: float
    pitch: int  # MIDI note number
    velocity: int  # 1..127
    bends: tuple[tuple[float, float], ...] | None = None

    def to_dict(self) -> dict:
        return {
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "pitch": self.pitch,
            "velocity": self.velocity,
            "bends": [[round(t, 4), round(s, 3)] for t, s in self.bends] if self.bends else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Note:
        bends = data.get("bends")
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            pitch=int(data["pitch"]),
            velocity=int(data["velocity"]),
            bends=tuple((float(t), float(s)) for t, s in bends) if bends else None,
        )


@dataclass
class Transcription:
    """What transcribe() found: the notes in time order and what they were made with (JSON-ready via to_json)."""

    notes: list[Note]
    source: str
    options: dict  # the cleaned options the notes were made with
    duration: float  # seconds of audio

    def to_dicts(self) -> list[dict]:
        return [n.to_dict() for n in self.notes]

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "options": self.options,
            "duration": round(self.duration, 3),
            "notes": self.to_dicts(),
        }


def monophonic(notes: list[Note], min_length: float = 0.03) -> list[Note]:
    """At most one note at a time: a note is cut where the next one starts; two that start within `min_length`
    of each other (one would be left too short) keep only the louder."""
    out: list[Note] = []
    for note in sorted(notes, key=lambda n: (n.start, -n.velocity)):
        keep = True
        while out and out[-1].end > note.start:
            last = out[-1]
            if note.start - last.start >= min_length:
                out[-1] = _with_end(last, note.start)
                break
            if last.velocity >= note.velocity:
                keep = False
                break
            out.pop()
        if keep:
            out.append(note)
    return out


def _with_end(note: Note, end: float) -> Note:
    bends = tuple(b for b in note.bends if b[0] < end - note.start) if note.bends else None
    return Note(note.start, end, note.pitch, note.velocity, bends or None)


BEND_STEP = 0.15  # semitones: smaller movements of the contour are not written as bends


def _bends(contour: np.ndarray, notes: list[_Note]) -> list[tuple[tuple[float, float], ...] | None]:
    """Per note, where its pitch moves away from the note (scoops, slides, vibrato), from the model's contour.

    The contour has 3 bins per semitone and MIDI note m is centred on bin 3 * (m - 21) + 1 (basic_pitch's own
    get_pitch_bends looks one bin lower, so it reports every steady note a third of a semitone sharp). The peak
    within +-4 bins of the centre is refined by a parabola through its neighbours, median-smoothed over 5 frames
    (58 ms, removes flicker between bins), and written where it has moved BEND_STEP or more since the last point.
    """
    out = []
    n_bins = contour.shape[1]
    for n in notes:
        centre = 3 * n.pitch + 1
        lo, hi = max(0, centre - 4), min(n_bins, centre + 5)
        seg = contour[n.start : n.end, lo:hi]
        if len(seg) < 3 or seg.shape[1] < 3:
            out.append(None)
            continue
        k = np.clip(np.argmax(seg, axis=1), 1, seg.shape[1] - 2)
        rows = np.arange(len(seg))
        left, mid, right = seg[rows, k - 1], seg[rows, k], seg[rows, k + 1]
        denom = left - 2 * mid + right
        frac = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
        semis = (lo + k + np.clip(frac, -0.5, 0.5) - centre) / 3.0
        if len(semis) >= 5:
            semis = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(semis, 2, mode="edge"), 5), axis=1)
        points, last = [], 0.0
        for i, value in enumerate(semis):
            if abs(value - last) >= BEND_STEP:
                last = round(float(value), 2)
                points.append((i / FRAME_RATE, last))
        out.append(tuple(points) or None)
    return out


def notes_from_activations(act: Activations, source: str, options: dict | None = None) -> list[Note]:
    """Decode model posteriors into notes with the preset for `source` and the user's options."""
    return _events(act, decoding_params(source, options))


def _events(act: Activations, p: dict) -> list[Note]:
    raw = _decode(act, p)
    times = frame_times(len(act) + 1)
    bends = _bends(act.contour, raw) if p["pitch_bends"] and raw else [None] * len(raw)
    notes = []
    for n, b in zip(raw, bends, strict=True):
        start = max(0.0, float(times[n.start]) + p["onset_shift"])
        # a note cut by the next one ends where that one starts; one that faded ends end_shift from the fade
        end = float(times[n.end]) + (p["onset_shift"] if n.cut else p["end_shift"])
        end = max(end, start + p["min_note_ms"] / 1000 * 0.5)
        velocity = int(np.clip(round(127 * n.level), 1, 127))
        if b:  # bend times are from the note's start; keep those inside the (shifted) note
            b = tuple((round(t, 4), v) for t, v in b if t < end - start) or None
        notes.append(Note(round(start, 4), round(end, 4), n.pitch + LOWEST_MIDI, velocity, b))
    if p["monophonic"]:
        notes = monophonic(notes)
    elif not p["multiple_pitch_bends"]:
        notes = _drop_overlapping_bends(notes)
    return notes


def _drop_overlapping_bends(notes: list[Note]) -> list[Note]:
    """MIDI bends move the whole channel: a note that sounds with another cannot keep its own bends."""
    notes = sorted(notes, key=lambda n: n.start)
    overlapped = set()
    for i, a in enumerate(notes):
        for j in range(i + 1, len(notes)):
            if notes[j].start >= a.end:
                break
            overlapped.update((i, j))
    return [
        Note(n.start, n.end, n.pitch, n.velocity, None) if i in overlapped and n.bends else n
        for i, n in enumerate(notes)
    ]


def _to_model_input(samples_or_path, sample_rate: int | None) -> np.ndarray:
    """Mono float32 at SAMPLE_RATE from a path (decoded by ffmpeg) or a (channels, frames) / 1-D array."""
    if isinstance(samples_or_path, np.ndarray):
        if sample_rate is None:
            raise ValueError("sample_rate is required with an array of samples.")
        x = np.asarray(samples_or_path, dtype=np.float32)
        mono = x if x.ndim == 1 else x.mean(axis=0)
        mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
        if int(sample_rate) != SAMPLE_RATE and len(mono):
            import soxr

            # soxr "HQ" is what librosa.load (and so basic_pitch.inference.predict) resamples with
            mono = soxr.resample(mono, int(sample_rate), SAMPLE_RATE, quality="HQ")
        return np.ascontiguousarray(mono, dtype=np.float32)

    samples, _ = decode(samples_or_path, sample_rate=SAMPLE_RATE, mono=True)
    return np.ascontiguousarray(samples[0], dtype=np.float32)


def transcribe(
    samples_or_path,
    sample_rate: int | None = None,
    *,
    source: str = "other",
    options: dict | None = None,
    progress: Callable[[float], None] | None = None,
    threads: int | None = None,
) -> Transcription:
    """Audio to notes with the preset for `source` (bass, vocals, piano, guitar, other, mix).

    samples_or_path: a float array (channels, frames) or 1-D with its `sample_rate`, or a path to any audio file
    audio_io can decode. options: see PRESETS / clean_options (ValueError on a bad one, before any work).
    progress: called with a fraction in [0, 1], non-decreasing, last with 1.0. threads: onnxruntime intra-op
    threads (None: one per core).
    """
    cleaned = clean_options(source, options)
    mono = _to_model_input(samples_or_path, sample_rate)
    duration = len(mono) / SAMPLE_RATE
    if len(mono) == 0:
        if progress:
            progress(1.0)
        return Transcription([], source, cleaned, 0.0)
    act = run_model(mono, threads=threads, progress=(lambda f: progress(0.95 * f)) if progress else None)
    notes = notes_from_activations(act, source, cleaned)
    if progress:
        progress(1.0)
    return Transcription(notes, source, cleaned, duration)


# ----------------------------------------------------------------------------------------------- MIDI files

DEFAULT_BPM = 120.0  # only when the track has no detected tempo
DRUM_CHANNEL = 9  # General MIDI's channel 10, counted from 0
TICKS_PER_BEAT = 960
BEND_RANGE = 2.0  # semitones: the General MIDI default range of the pitch wheel


def _grid(bpm: float | None, beats: list[float] | None, division: int, until: float) -> np.ndarray:
    """Grid times (s) at 1/division of a beat, from the beat times where given, else from bpm (from 0 s)."""
    if division < 1:
        raise ValueError("division must be a whole number of 1 or more.")
    beats = sorted(float(b) for b in beats or [] if np.isfinite(b))
    if len(beats) >= 2:
        beats_a = np.asarray(beats)
        period = float(np.median(np.diff(beats_a)))
        if period <= 0:
            raise ValueError("beat times must increase.")
        # extend the beats before the first and after the last detected one with the median beat length
        before = beats_a[0] - period * np.arange(int(np.ceil(beats_a[0] / period)) + 1, 0, -1)
        after = beats_a[-1] + period * np.arange(1, int(np.ceil(max(0.0, until - beats_a[-1]) / period)) + 2)
        beats_a = np.concatenate([before, beats_a, after])
        steps = np.diff(beats_a)[:, None] / division
        grid = (beats_a[:-1, None] + steps * np.arange(division)[None, :]).ravel()
        return np.append(grid, beats_a[-1])
    if bpm is None or not np.isfinite(bpm) or bpm <= 0:
        raise ValueError("Quantising needs a tempo (bpm) or at least two beat times.")
    step = 60.0 / float(bpm) / division
    return np.arange(0.0, until + 2 * step, step)


def quantise(notes: list[Note], bpm: float | None, beats: list[float] | None = None, division: int = 4) -> list[Note]:
    """Snap starts and ends to the nearest 1/division of a beat (4: sixteenths in 4/4).

    The grid follows `beats` (times in seconds, e.g. analysis' beat tracker) when there are two or more,
    otherwise a steady `bpm` from 0 s. A note never collapses: its end is at least one grid step after its start.
    Bends keep their offsets from the note's start.
    """
    if not notes:
        return []
    grid = _grid(bpm, beats, division, max(n.end for n in notes))

    def snap(t: float) -> int:
        i = int(np.searchsorted(grid, t))
        if i <= 0:
            return 0
        if i >= len(grid):
            return len(grid) - 1
        return i if grid[i] - t < t - grid[i - 1] else i - 1

    out = []
    for n in notes:
        a = snap(n.start)
        b = max(snap(n.end), a + 1)
        b = min(b, len(grid) - 1)
        start, end = float(grid[a]), float(grid[b])
        if end <= start:  # only at the very end of the grid
            end = start + 60.0 / (bpm or DEFAULT_BPM) / division
        bends = tuple(x for x in n.bends if x[0] < end - start) if n.bends else None
        out.append(Note(round(start, 6), round(end, 6), n.pitch, n.velocity, bends or None))
    return out


def to_midi_bytes(
    notes: list[Note],
    *,
    bpm: float | None,
    quantise: bool = False,  # (shadows the function here: it is reached as _quantise)
    beats: list[float] | None = None,
    program: int = 0,
    name: str = "",
    multiple_pitch_bends: bool = False,
    division: int = 4,
    channel: int = 0,
) -> bytes:
    """A standard MIDI file (type 1) of `notes` whose tempo is the track's `bpm` (DEFAULT_BPM only when None).

    Note times are exact in seconds under that tempo (960 ticks per beat: 0.5 ms at 120 BPM), so the file lines
    up with the audio in a DAW set to the same tempo. quantise=True snaps the notes to sixteenths first (the
    `beats` grid when given, see quantise()). program: General MIDI program 0-127. Bends are written with the
    default +-2 semitone range; overlapping notes keep theirs only with multiple_pitch_bends, which puts each
    pitch on a channel of its own (one track per pitch, cycling through the 15 non-drum channels). channel: the
    MIDI channel (0-15) of a single-channel part; DRUM_CHANNEL (9, General MIDI's channel 10) for a drum part.
    """
    import mido

    tempo_bpm = float(bpm) if bpm is not None else DEFAULT_BPM
    if not (np.isfinite(tempo_bpm) and 1.0 <= tempo_bpm <= 1000.0):
        raise ValueError(f"bpm must be between 1 and 1000; got {tempo_bpm:g}.")
    if not 0 <= int(channel) <= 15:
        raise ValueError("channel must be a MIDI channel number between 0 and 15.")
    if not 0 <= int(program) <= 127:
        raise ValueError("program must be a General MIDI program number between 0 and 127.")
    if quantise:
        notes = _quantise(notes, bpm, beats, division)
    tempo = mido.bpm2tempo(tempo_bpm)  # microseconds per beat, rounded to a whole number
    ticks_per_second = TICKS_PER_BEAT * 1_000_000 / tempo

    def tick(seconds: float) -> int:
        return max(0, round(seconds * ticks_per_second))

    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("track_name", name=name or "Stemcrate", time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    mid.tracks.append(meta)

    notes = sorted(notes, key=lambda n: (n.start, n.pitch))
    if multiple_pitch_bends and any(n.bends for n in notes):
        pitches = sorted({n.pitch for n in notes})
        channels = [c for c in range(16) if c != 9]  # channel 10 is the drum kit
        groups = {p: [n for n in notes if n.pitch == p] for p in pitches}
        channel_of = {p: channels[i % len(channels)] for i, p in enumerate(pitches)}
    else:
        notes = notes if multiple_pitch_bends else _drop_overlapping_bends(notes)
        groups = {None: notes}
        channel_of = {None: int(channel)}
    for key, group in groups.items():
        ch = channel_of[key]
        events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message): note-offs before note-ons
        for n in group:
            start, end = tick(n.start), max(tick(n.end), tick(n.start) + 1)
            events.append((start, 2, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)))
            events.append((end, 0, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
            if n.bends:
                for t, semis in n.bends:
                    value = int(np.clip(round(semis / BEND_RANGE * 8192), -8192, 8191))
                    events.append((tick(n.start + t), 1, mido.Message("pitchwheel", channel=ch, pitch=value)))
                if n.bends[-1][1] != 0:
                    events.append((end, 1, mido.Message("pitchwheel", channel=ch, pitch=0)))
        events.sort(key=lambda e: (e[0], e[1]))
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name or "Stemcrate", time=0))
        if ch != DRUM_CHANNEL:  # the drum channel's kit is chosen by the instrument, not a program
            track.append(mido.Message("program_change", channel=ch, program=int(program), time=0))
        last = 0
        for t, _, msg in events:
            track.append(msg.copy(time=t - last))
            last = t
        track.append(mido.MetaMessage("end_of_track", time=0))
        mid.tracks.append(track)
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


_quantise = quantise
