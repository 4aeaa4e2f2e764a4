"""Drums to MIDI: a drum stem or any drum loop becomes a General MIDI drum part (channel 10). Pure: no Django.

How a hit becomes notes
-----------------------
1. Onsets come from the slicer's own detector (`slicing.onset_curve(source="drums")` and `pick`), so a drum part
   and the samples sliced from the same stem start at the same transients.
2. Each hit (its onset to the next one, at most HIT_WINDOW s) is classified by the sample classifier with the
   drums prior (`tagging.classify(source="drums")`): its main instrument.
3. Hits played together come out as separate notes (a kick and a hat on the same 16th are two notes). The
   classifier names one instrument per hit, so the others are found from the spectrum of the hit's first
   60 ms, in bands where the main instrument has little energy of its own (see `_layers`):
   - a hat on a kick, a tom or a snare: energy at 8-16 kHz close to (or above) that at 1-5 kHz. A kick or a tom
     alone has 20-30 dB less there; a snare's own wires sit about 10 dB under (FluidR3_GM renders, dry);
   - a kick under a hat, a snare or a clap: the 30-150 Hz band above every other band.
   These rules were tuned on FluidR3_GM renders only; benchmarks/drums.py scores them on held-out kits.
4. Velocity comes from the hit's level: its peak in the first 30 ms, relative to the loudest hit of the same
   instrument in the part, on a square-root curve (a hit at a quarter of the loudest's amplitude gets half its
   velocity), so a ghost note stays a ghost note whatever the stem's overall level.
5. Options: quantise to the beat grid with a strength (0: as played, 1: on the grid), humanise (a seeded,
   repeatable few ms and velocity points of variation, for parts that were quantised), and which instruments
   to keep.

General MIDI notes: kick 36, side stick / rim 37, snare 38, clap 39, toms 41-50 (low 41 and 43, mid 45 and 47,
high 48 and 50, from the tom's pitch), closed hat 42, pedal hat 44 (not told apart from closed: closed), open hat
46, crash 49, ride 51 (a cymbal is a crash unless it rings with little decay, then a ride), percussion: rim 37
for short clicks, otherwise cowbell 56.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audio import export_audio, midi, slicing, tagging

HIT_WINDOW = 0.25  # s of audio the classifier hears per hit (less when the next hit comes sooner)
LAYER_WINDOW = 0.06  # s of the hit's start whose spectrum tells which instruments play together
NOTE_LENGTH = 0.1  # s: drum notes are triggers; a DAW's drum instrument plays the whole sample anyway
PEAK_WINDOW = 0.03  # s after the onset where the hit's level is read

KICK, RIM, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE, COWBELL = 36, 37, 38, 39, 42, 44, 46, 49, 51, 56
TOMS = (41, 43, 45, 47, 48, 50)  # low floor tom .. high tom
CLASSES = ("kick", "snare", "clap", "rim", "hihat_closed", "hihat_open", "tom", "cymbal", "percussion")
CLASS_LABELS = {
    "kick": "Kick",
    "snare": "Snare",
    "clap": "Clap",
    "rim": "Rim",
    "hihat_closed": "Closed hat",
    "hihat_open": "Open hat",
    "tom": "Toms",
    "cymbal": "Cymbals",
    "percussion": "Percussion",
}
#: The named rows of a drum-lane piano roll, top to bottom, as (note, name).
LANES = (
    (CRASH, "Crash"),
    (RIDE, "Ride"),
    (OPEN_HAT, "Open hat"),
    (PEDAL_HAT, "Pedal hat"),
    (CLOSED_HAT, "Closed hat"),
    (50, "High tom"),
    (48, "High-mid tom"),
    (47, "Low-mid tom"),
    (45, "Low tom"),
    (43, "High floor tom"),
    (41, "Low floor tom"),
    (COWBELL, "Cowbell"),
    (CLAP, "Clap"),
    (SNARE, "Snare"),
    (RIM, "Side stick"),
    (KICK, "Kick"),
)
LANE_NAMES = dict(LANES)
CLASS_OF_NOTE = {
    KICK: "kick",
    RIM: "rim",
    SNARE: "snare",
    CLAP: "clap",
    CLOSED_HAT: "hihat_closed",
    PEDAL_HAT: "hihat_closed",
    OPEN_HAT: "hihat_open",
    CRASH: "cymbal",
    RIDE: "cymbal",
    COWBELL: "percussion",
    **dict.fromkeys(TOMS, "tom"),
}

# Layer rules (dB), see the module docstring.
HAT_OVER_BODY_DB = -9.5  # 8-16 kHz minus 1-5 kHz above this: a hat plays along
HAT_OVER_LOW_DB = -35.0  # ... and the top band is not negligible against the low end
KICK_OVER_REST_DB = 3.0  # 30-150 Hz above every other band by this much: a kick plays along


@dataclass(frozen=True)
class DrumNote:
    start: float  # s
    pitch: int  # General MIDI drum note
    velocity: int  # 1..127
    category: str  # one of CLASSES
    confidence: float  # the classifier's (1.0 for notes found as a layer: see `layered`)
    layered: bool = False  # found from the spectrum as an instrument playing along with the main one

    @property
    def name(self) -> str:
        return LANE_NAMES.get(self.pitch, f"Note {self.pitch}")

    def to_dict(self) -> dict:
        return {
            "start": round(self.start, 4),
            "end": round(self.start + NOTE_LENGTH, 4),
            "pitch": self.pitch,
            "velocity": self.velocity,
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "layered": self.layered,
        }


def clean_options(options: dict | None = None) -> dict:
    """Validated options: quantise (0..1 strength, or false/true), division (4: sixteenths), humanise (bool),
    keep (a list of CLASSES, or a comma-separated string), sensitivity (0..1, the slicer's). ValueError with a
    sentence for anything else."""
    options = dict(options or {})
    unknown = set(options) - {"quantise", "division", "humanise", "keep", "sensitivity", "seed"}
    if unknown:
        raise ValueError(f"Unknown drum MIDI option(s): {', '.join(sorted(unknown))}.")
    quantise = options.get("quantise", 0.0)
    if isinstance(quantise, str):
        quantise = {"true": 1.0, "on": 1.0, "yes": 1.0, "false": 0.0, "off": 0.0, "no": 0.0, "": 0.0}.get(
            quantise.lower(), quantise
        )
    try:
        quantise = float(quantise)
    except (TypeError, ValueError):
        raise ValueError("quantise must be a strength from 0 (as played) to 1 (on the grid).") from None
    if not 0.0 <= quantise <= 1.0:
        raise ValueError("quantise must be a strength from 0 (as played) to 1 (on the grid).")
    division = options.get("division", 4)
    if division not in (1, 2, 3, 4, 6, 8, 12, 16, "1", "2", "3", "4", "6", "8", "12", "16"):
        raise ValueError("division must be one of 1, 2, 3, 4, 6, 8, 12, 16 (steps per beat).")
    keep = options.get("keep") or list(CLASSES)
    if isinstance(keep, str):
        keep = [part.strip() for part in keep.split(",") if part.strip()]
    bad = [k for k in keep if k not in CLASSES]
    if bad or not keep:
        raise ValueError(f"keep must list some of: {', '.join(CLASSES)}.")
    sensitivity = options.get("sensitivity", 0.5)
    try:
        sensitivity = float(sensitivity)
    except (TypeError, ValueError):
        raise ValueError("sensitivity must be a number from 0 to 1.") from None
    if not 0.0 <= sensitivity <= 1.0:
        raise ValueError("sensitivity must be a number from 0 to 1.")
    humanise = options.get("humanise", False)
    if isinstance(humanise, str):
        humanise = humanise.lower() in ("1", "true", "on", "yes")
    return {
        "quantise": quantise,
        "division": int(division),
        "humanise": bool(humanise),
        "keep": [c for c in CLASSES if c in keep],
        "sensitivity": sensitivity,
        "seed": int(options.get("seed", 0)),
    }


def _mono(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    return samples if samples.ndim == 1 else samples.mean(axis=0)


def _band_levels(segment: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Energy (dB) of a hit's first LAYER_WINDOW s in four bands."""
    n = max(16, int(LAYER_WINDOW * sample_rate))
    part = segment[:n]
    if len(part) < n:
        part = np.pad(part, (0, n - len(part)))
    power = np.abs(np.fft.rfft(part * np.hanning(n))) ** 2
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)

    def level(lo, hi):
        return float(10 * np.log10(power[(freqs >= lo) & (freqs < hi)].sum() + 1e-12))

    return {
        "low": level(30, 150),
        "mid": level(150, 1000),
        "body": level(1000, 5000),
        "top": level(8000, min(16000, sample_rate / 2)),
    }


def _layers(main: str, bands: dict[str, float]) -> list[str]:
    """Instruments heard with the main one, from the hit's band levels (see the module docstring)."""
    extra = []
    hat_like = main in ("hihat_closed", "hihat_open", "cymbal")
    if (
        not hat_like
        and bands["top"] - bands["body"] > HAT_OVER_BODY_DB
        and bands["top"] - bands["low"] > HAT_OVER_LOW_DB
    ):
        extra.append("hihat_closed")
    if (
        main not in ("kick", "tom")
        and bands["low"] - max(bands["mid"], bands["body"], bands["top"]) > KICK_OVER_REST_DB
    ):
        extra.append("kick")
    return extra


def _tom_note(segment: np.ndarray, sample_rate: int) -> int:
    """Which of the six GM toms, from the tom's pitch (about 70 Hz floor tom .. 250 Hz high tom)."""
    note, _ = slicing.estimate_pitch(segment[: int(0.2 * sample_rate)], sample_rate, min_confidence=0.3)
    if not note:
        return 45
    midi = export_audio.parse_note(note)
    edges = (40, 43, 46, 49, 52)  # MIDI pitches (E2 .. E3) between the six toms
    return TOMS[int(np.searchsorted(edges, midi))]


def _cymbal_note(segment: np.ndarray, sample_rate: int) -> int:
    """Crash, unless it barely decays over the window (a ride's steady ring)."""
    n = int(0.05 * sample_rate)
    if len(segment) < 4 * n:
        return CRASH
    first, last = np.sqrt(np.mean(segment[:n] ** 2)), np.sqrt(np.mean(segment[3 * n : 4 * n] ** 2))
    return RIDE if last > 0.7 * first else CRASH


def _percussion_note(segment: np.ndarray, sample_rate: int) -> int:
    """Rim for a click that is gone within 40 ms, cowbell for anything that rings."""
    n = int(0.02 * sample_rate)
    if len(segment) < 3 * n:
        return RIM
    first, later = np.max(np.abs(segment[:n])), np.max(np.abs(segment[2 * n : 3 * n]))
    return COWBELL if later > 0.25 * first else RIM


def _pitch(category: str, segment: np.ndarray, sample_rate: int) -> int:
    if category == "tom":
        return _tom_note(segment, sample_rate)
    if category == "cymbal":
        return _cymbal_note(segment, sample_rate)
    if category == "percussion":
        return _percussion_note(segment, sample_rate)
    return {"kick": KICK, "snare": SNARE, "clap": CLAP, "rim": RIM, "hihat_closed": CLOSED_HAT}.get(category, OPEN_HAT)


def _velocities(levels: list[float], categories: list[str]) -> list[int]:
    """Square-root curve against the loudest hit of the same instrument (see the module docstring)."""
    loudest: dict[str, float] = {}
    for level, category in zip(levels, categories, strict=True):
        loudest[category] = max(loudest.get(category, 0.0), level)
    return [
        int(np.clip(round(127 * np.sqrt(level / max(loudest[c], 1e-9))), 1, 127))
        for level, c in zip(levels, categories, strict=True)
    ]


def _grid_times(times: np.ndarray, bpm: float | None, beats: list[float] | None, division: int) -> np.ndarray:
    grid = midi._grid(bpm, beats, division, float(times.max()) if len(times) else 0.0)
    idx = np.clip(np.searchsorted(grid, times), 1, len(grid) - 1)
    left, right = grid[idx - 1], grid[idx]
    return np.where(times - left < right - times, left, right)


def transcribe(
    samples: np.ndarray,
    sample_rate: int,
    *,
    bpm: float | None = None,
    beats: list[float] | None = None,
    options: dict | None = None,
    model: tagging.TaggingModel | None = None,
) -> list[DrumNote]:
    """The drum notes of a drum stem or loop, in time order (see the module docstring). `bpm` or `beats` are
    needed only to quantise."""
    opts = clean_options(options)
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[None, :]
    mono = _mono(samples)
    curve = slicing.onset_curve(samples, sample_rate, source="drums")
    onsets = np.asarray(slicing.pick(curve, opts["sensitivity"], min_length=0.03))
    if not len(onsets):
        return []
    model = model or tagging.load_model()
    drum_set = set(tagging.GROUPS["drums"])
    found: list[tuple[float, str, float, bool, np.ndarray]] = []  # (time, category, confidence, layered, audio)
    levels: list[float] = []
    total = samples.shape[1]
    for i, onset in enumerate(onsets):
        start = round(float(onset) * sample_rate)
        stop = onsets[i + 1] if i + 1 < len(onsets) else onset + HIT_WINDOW
        end = min(total, start + int(min(HIT_WINDOW, stop - onset) * sample_rate))
        if end - start < int(0.01 * sample_rate):
            end = min(total, start + int(0.01 * sample_rate))
        hit = samples[:, start:end]
        prediction = tagging.classify(hit, sample_rate, source="drums", model=model)
        main = prediction.category if prediction.category in drum_set else "percussion"
        segment = mono[start:end]
        peak = float(np.max(np.abs(mono[start : start + int(PEAK_WINDOW * sample_rate)]), initial=0.0))
        found.append((float(onset), main, prediction.confidence, False, segment))
        levels.append(peak)
        for extra in _layers(main, _band_levels(segment, sample_rate)):
            found.append((float(onset), extra, 1.0, True, segment))
            levels.append(peak)
    velocities = _velocities(levels, [f[1] for f in found])
    notes = []
    for (onset, category, confidence, layered, segment), velocity in zip(found, velocities, strict=True):
        pitch = _pitch(category, segment, sample_rate)
        category = CLASS_OF_NOTE[pitch]  # a percussion click is a rim: its own class, which `keep` can name
        if category not in opts["keep"]:
            continue
        notes.append(DrumNote(onset, pitch, velocity, category, confidence, layered))
    notes = _place(notes, bpm=bpm, beats=beats, opts=opts)
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def _place(notes: list[DrumNote], *, bpm, beats, opts) -> list[DrumNote]:
    """Quantise (with its strength) and humanise; one note per pitch per moment."""
    if not notes:
        return notes
    times = np.array([n.start for n in notes])
    if opts["quantise"] > 0:
        grid = _grid_times(times, bpm, beats, opts["division"])
        times = times + opts["quantise"] * (grid - times)
    velocities = np.array([n.velocity for n in notes], dtype=float)
    if opts["humanise"]:
        rng = np.random.default_rng(opts["seed"])
        times = times + rng.normal(0.0, 0.004, len(times))
        velocities = velocities + rng.normal(0.0, 5.0, len(times))
    placed, seen = [], set()
    for note, t, v in zip(notes, np.maximum(times, 0.0), velocities, strict=True):
        key = (round(float(t), 3), note.pitch)
        if key in seen:  # two detections of one pitch at one moment are one note
            continue
        seen.add(key)
        placed.append(
            DrumNote(
                round(float(t), 6),
                note.pitch,
                int(np.clip(round(v), 1, 127)),
                note.category,
                note.confidence,
                note.layered,
            )
        )
    return placed


def to_midi_bytes(notes: list[DrumNote], *, bpm: float | None, name: str = "Drums") -> bytes:
    """A standard MIDI file of the part on General MIDI channel 10, at the track's tempo."""
    plain = [midi.Note(n.start, n.start + NOTE_LENGTH, n.pitch, n.velocity) for n in notes]
    return midi.to_midi_bytes(plain, bpm=bpm, name=name, channel=midi.DRUM_CHANNEL)
