"""Labelled drum hits, drum patterns and other instruments rendered with FluidSynth from FluidR3_GM.

Every take comes with the exact time of each hit's transient *in the rendered file*, so onset detectors and
slicers can be scored to the sample. Usable from any test or benchmark: nothing here needs Django.

Where a hit really starts (measured, not assumed)
-------------------------------------------------
A MIDI note does not sound at its MIDI time. With `fluidsynth -F` (fast render) two things move it:

1. Scheduling. FluidSynth synthesises in blocks of 64 frames, and its MIDI player runs once per block on a
   clock of whole milliseconds (msec = int(1000 * block_start / rate)). An event is sent at the first block whose
   clock has reached it (the player's tick is int(msec / ms_per_tick + 0.5)), and its voice starts sounding at
   the beginning of the NEXT block. So the offset is not fixed: it is 1.5-3.4 ms at 44.1 kHz and differs from hit
   to hit. `_voice_start` reproduces the rule; it was checked against 180 isolated hits at random times (three
   tempi and resolutions) with no error, and `_check_scheduling` checks it again once per process (isolated
   snare hits must start sounding exactly at their predicted frame, +1 for the interpolator's first zero
   frame), so a FluidSynth that schedules differently fails loudly instead of giving wrong ground truth.
2. The sample's own lead-in. A sound font sample does not begin with its attack: FluidR3's kick starts with
   2.3 ms of a -76 dB DC step before the beater, the closed hat rises within 0.3 ms, the crash over ~1.5 ms.
   `_calibrate` renders each (program, note, velocity) once in isolation and measures the offset from voice
   start to the TRANSIENT: the first frame whose level (max over channels) reaches TRANSIENT_DB relative to
   that note's own peak.

A hit's true transient time is therefore voice_start(tick) + attack_offset(program, note, velocity), exact to
the frame. Takes are rendered dry (reverb and chorus off) unless asked otherwise; neither moves a transient.
Renders and calibrations are cached in memory for the process (one test session or benchmark run).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SR = 44100
GAIN = 0.8
BLOCK = 64  # FluidSynth's synthesis block (FLUID_BUFSIZE)
TEMPO = 500_000  # microseconds per beat in the MIDI files we write (times are given in seconds anyway)
TICKS_PER_BEAT = 10_000  # 50 microseconds per tick: MIDI times are rounded to this
TRANSIENT_DB = -40.0  # a hit starts where it first reaches 1 % of its own peak
RENDER_TIMEOUT = 120.0
DRUM_CHANNEL = 9  # General MIDI channel 10
CALIBRATION_SPACING = 4.0  # seconds between isolated notes in a calibration render

#: General MIDI percussion (channel 10) notes by label.
DRUMS = {
    "kick": 36,
    "rim": 37,
    "snare": 38,
    "clap": 39,
    "low_tom": 41,
    "closed_hat": 42,
    "pedal_hat": 44,
    "mid_tom": 45,
    "open_hat": 46,
    "high_tom": 48,
    "crash": 49,
    "ride": 51,
}
LABELS = {note: label for label, note in DRUMS.items()}
VELOCITIES = (40, 64, 88, 110, 127)  # hit velocities are snapped to these, so calibration stays small

# General MIDI programs for the other instruments.
PIANO, STRINGS, FINGER_BASS, PICK_BASS = 0, 48, 33, 34


@dataclass(frozen=True)
class Hit:
    time: float  # the transient in the rendered file, seconds
    label: str  # "kick", "snare"... or a note name for pitched notes ("A2")
    note: int
    velocity: int
    midi_time: float  # when the MIDI file said to play it


@dataclass
class Take:
    samples: np.ndarray  # float32 (channels, frames)
    sample_rate: int
    hits: list[Hit]

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def onsets(self, merge: float = 0.015) -> np.ndarray:
        """One time per onset: hits whose transients are within `merge` s of the group's first are one onset
        (a kick and a hat played together), at the earliest transient."""
        times = sorted(h.time for h in self.hits)
        out: list[float] = []
        for t in times:
            if not out or t - out[-1] > merge:
                out.append(t)
        return np.array(out)

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0)


# ------------------------------------------------------------------------------------------------ rendering


def _fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None or not Path(SOUNDFONT).exists():
        raise RuntimeError(f"drum_factory needs fluidsynth and {SOUNDFONT} (Debian: fluidsynth fluid-soundfont-gm)")
    return exe


def _ms_per_tick() -> float:
    return TEMPO / 1000.0 / TICKS_PER_BEAT  # as FluidSynth's player computes its `deltatime`


def _tick(seconds: float) -> int:
    return round(seconds * 1000.0 / _ms_per_tick())


def _voice_start(tick: int, sr: int = SR) -> int:
    """The frame at which FluidSynth starts sounding a note-on at `tick` (see the module docstring)."""
    dt = _ms_per_tick()
    msec = max(0, math.ceil((tick - 0.5) * dt) - 2)
    while int(msec / dt + 0.5) < tick:  # the player's clock must reach the event's tick
        msec += 1
    block = -(-msec * sr // (BLOCK * 1000))  # first block whose int(ms) clock reaches msec
    while (block * BLOCK * 1000) // sr < msec:
        block += 1
    return (block + 1) * BLOCK  # the voice sounds from the next block on


# (time s, channel, note, velocity, duration s); program changes are given separately per channel
Event = tuple[float, int, int, int, float]


def _midi_bytes(events: list[Event], programs: dict[int, int]) -> bytes:
    mid = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    messages: list[tuple[int, int, mido.Message]] = []
    for channel, program in sorted(programs.items()):
        messages.append((0, 0, mido.Message("program_change", channel=channel, program=program)))
    for time, channel, note, velocity, duration in events:
        start = _tick(time)
        messages.append((start, 2, mido.Message("note_on", channel=channel, note=note, velocity=velocity)))
        end = max(start + 1, _tick(time + duration))
        messages.append((end, 1, mido.Message("note_off", channel=channel, note=note, velocity=0)))
    messages.sort(key=lambda m: (m[0], m[1]))
    track.append(mido.MetaMessage("set_tempo", tempo=TEMPO, time=0))
    last = 0
    for tick, _, message in messages:
        track.append(message.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    with tempfile.TemporaryFile() as fh:
        mid.save(file=fh)
        fh.seek(0)
        return fh.read()


_renders: dict[str, np.ndarray] = {}


def render_midi(events: list[Event], programs: dict[int, int] | None = None, *, reverb: bool = False) -> np.ndarray:
    """Render note events with FluidSynth and FluidR3_GM: float32 (2, frames) at SR. Cached per process."""
    data = _midi_bytes(events, programs or {})
    key = hashlib.sha256(data + bytes([reverb]) + SOUNDFONT.encode()).hexdigest()
    if key not in _renders:
        with tempfile.TemporaryDirectory(prefix="drum-factory-") as tmp:
            midi, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
            midi.write_bytes(data)
            effects = "1" if reverb else "0"
            cmd = [_fluidsynth(), "-n", "-i", "-q", "-R", effects, "-C", effects, "-g", str(GAIN), "-r", str(SR)]
            cmd += ["-O", "float", "-T", "wav", "-F", str(wav), SOUNDFONT, str(midi)]
            subprocess.run(cmd, check=True, timeout=RENDER_TIMEOUT, capture_output=True)
            audio, rate = sf.read(wav, dtype="float32", always_2d=True)
        if rate != SR:
            raise RuntimeError(f"fluidsynth rendered at {rate} Hz, not {SR}")
        _renders[key] = np.ascontiguousarray(audio.T)
    return _renders[key]


# ---------------------------------------------------------------------------------------------- calibration

# (program or None for the drum channel, note, velocity) -> frames from voice start to the transient
_attack_offsets: dict[tuple[int | None, int, int], int] = {}


def _level(samples: np.ndarray) -> np.ndarray:
    return np.abs(samples).max(axis=0)


_scheduling_checked = False


def _check_scheduling() -> None:
    """Snare hits at awkward times must start sounding exactly where `_voice_start` says (once per process).

    (A snare sample starts at once; other instruments may begin with silence, which `_calibrate` counts as part
    of their attack offset, so only this check can tell a wrong rule from a slow sample.)
    """
    global _scheduling_checked
    if _scheduling_checked:
        return
    times = [0.3 + 0.5 * i + 0.000731 * i for i in range(12)]
    level = _level(render_midi([(t, DRUM_CHANNEL, DRUMS["snare"], 100, 0.05) for t in times], {}))
    for t in times:
        start = _voice_start(_tick(t))
        sounding = np.flatnonzero(level[start - BLOCK : start + BLOCK] > 0)
        first = int(sounding[0]) - BLOCK if sounding.size else None
        if first is None or not 0 <= first <= 2:
            raise RuntimeError(
                f"fluidsynth started a snare at frame {start} + {first}, not where drum_factory's scheduling rule "
                "says (+0..2): its timing has changed, measure it again"
            )
    _scheduling_checked = True


def _calibrate(keys: set[tuple[int | None, int, int]]) -> None:
    """Render each not-yet-measured (program, note, velocity) alone and measure its attack offset."""
    _check_scheduling()
    todo = sorted(k for k in keys if k not in _attack_offsets)
    if not todo:
        return
    by_program: dict[int | None, list[tuple[int, int]]] = {}
    for program, note, velocity in todo:
        by_program.setdefault(program, []).append((note, velocity))
    for program, pairs in by_program.items():
        channel = DRUM_CHANNEL if program is None else 0
        # Each note alone in its slot, at a different fraction of a block: a wrong rule cannot pass by luck.
        times = [0.5 + CALIBRATION_SPACING * i + 0.000317 * i for i in range(len(pairs))]
        events: list[Event] = [(t, channel, n, v, 0.5) for t, (n, v) in zip(times, pairs, strict=True)]
        level = _level(render_midi(events, {} if program is None else {0: program}))
        for time, (note, velocity) in zip(times, pairs, strict=True):
            start = _voice_start(_tick(time))
            end = min(len(level), start + round((CALIBRATION_SPACING - 0.5) * SR))
            window = level[start:end]
            if window.size == 0 or window.max() <= 0:
                raise RuntimeError(f"fluidsynth rendered nothing for note {note} (program {program})")
            if level[max(0, start - BLOCK) : start].max(initial=0.0) > 0:
                raise RuntimeError(
                    f"fluidsynth sounded note {note} before frame {start}, where drum_factory's scheduling rule "
                    "starts it: its timing has changed, measure it again"
                )
            threshold = window.max() * 10 ** (TRANSIENT_DB / 20)
            _attack_offsets[(program, note, velocity)] = int(np.flatnonzero(window >= threshold)[0])


# Attack offsets belong to a sound font's samples: one table per font (the scheduling rule is FluidSynth's own).
_offsets_by_font: dict[str, dict[tuple[int | None, int, int], int]] = {}


@contextlib.contextmanager
def soundfont(path: str):
    """Render with another General MIDI sound font inside the block (for evaluation only: the classifier and
    every tuned threshold are trained and tuned on FluidR3_GM). Checks FluidSynth's scheduling with FluidR3
    first, then measures the font's own attack offsets as it goes."""
    global SOUNDFONT, _attack_offsets
    if not Path(path).exists():
        raise FileNotFoundError(path)
    _check_scheduling()
    before, before_offsets = SOUNDFONT, _attack_offsets
    _offsets_by_font.setdefault(before, before_offsets)
    SOUNDFONT, _attack_offsets = path, _offsets_by_font.setdefault(path, {})
    try:
        yield
    finally:
        SOUNDFONT, _attack_offsets = before, before_offsets


def attack_offset(note: int, velocity: int, program: int | None = None) -> int:
    """Frames from a note's voice start to its transient (measured once per process)."""
    _calibrate({(program, note, velocity)})
    return _attack_offsets[(program, note, velocity)]


def _take(events: list[Event], programs: dict[int, int], *, reverb: bool, program_of=None, tail: float = 1.0) -> Take:
    """Render `events` and compute each note's transient; audio is cut `tail` s after the last note-on."""
    program_of = program_of or (lambda channel: None if channel == DRUM_CHANNEL else programs.get(channel, 0))
    _calibrate({(program_of(ch), note, vel) for _, ch, note, vel, _ in events})
    audio = render_midi(events, programs, reverb=reverb)
    hits = []
    for time, channel, note, velocity, _ in events:
        tick = _tick(time)
        program = program_of(channel)
        frame = _voice_start(tick) + _attack_offsets[(program, note, velocity)]
        label = LABELS.get(note, str(note)) if program is None else note_name(note)
        hits.append(Hit(frame / SR, label, note, velocity, tick * _ms_per_tick() / 1000))
    hits.sort(key=lambda h: h.time)
    if hits:
        frames = min(audio.shape[1], round((max(h.time for h in hits) + tail) * SR))
        audio = audio[:, :frames]
    return Take(np.ascontiguousarray(audio), SR, hits)


def note_name(midi: int) -> str:
    return ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")[midi % 12] + str(midi // 12 - 1)


# ------------------------------------------------------------------------------------------------- drums


def _snap_velocity(velocity: float) -> int:
    return min(VELOCITIES, key=lambda v: abs(v - velocity))


def one_shot(label: str = "snare", velocity: int = 110, *, lead: float = 0.25, tail: float = 1.5) -> Take:
    """One drum hit, `lead` s into the take."""
    return render_drums([(lead, label, velocity)], tail=tail)


def render_drums(hits: list[tuple[float, str, int]], *, reverb: bool = False, tail: float = 1.0) -> Take:
    """Render (midi time s, label, velocity) drum hits on the GM percussion channel."""
    events: list[Event] = [(t, DRUM_CHANNEL, DRUMS[label], _snap_velocity(v), 0.1) for t, label, v in hits]
    return _take(events, {}, reverb=reverb, tail=tail)


# 16-step grids per style: instrument -> (steps, base velocity, probability)
_STYLES = {
    "rock": {
        "kick": ([0, 8, 10], 120, 1.0),
        "snare": ([4, 12], 115, 1.0),
        "closed_hat": ([0, 2, 4, 6, 8, 10, 12, 14], 85, 1.0),
    },
    "funk": {
        "kick": ([0, 3, 6, 10], 118, 0.9),
        "snare": ([4, 12], 118, 1.0),
        "ghost": ([7, 9, 15], 45, 0.6),
        "closed_hat": (list(range(16)), 70, 0.95),
        "open_hat": ([14], 90, 0.5),
    },
    "halftime": {
        "kick": ([0, 7, 11], 122, 1.0),
        "snare": ([8], 120, 1.0),
        "clap": ([8], 100, 0.5),
        "closed_hat": ([0, 2, 4, 6, 8, 10, 12, 14], 80, 1.0),
        "rim": ([5, 13], 70, 0.4),
    },
}
_FILL = [("high_tom", 12), ("high_tom", 13), ("mid_tom", 14), ("low_tom", 15)]


def drum_pattern(
    bpm: float = 100.0,
    bars: int = 4,
    *,
    style: str = "rock",
    seed: int = 0,
    start: float = 0.5,
    humanise: float = 0.004,
) -> list[tuple[float, str, int]]:
    """(midi time s, label, velocity) hits of `bars` bars of 16ths in `style` ("rock", "funk", "halftime").

    A crash on the first beat of every 4 bars, a tom fill in every 4th bar; each step is moved by up to
    `humanise` s, and each instrument by up to 1 ms more (so "together" is never quite sample-exact).
    """
    rng = np.random.default_rng(seed)
    grid = _STYLES[style]
    step = 60.0 / bpm / 4
    hits = []
    for bar in range(bars):
        fill = bar % 4 == 3
        shift = rng.uniform(-humanise, humanise, 16)
        for label, (steps, velocity, probability) in grid.items():
            name = "snare" if label == "ghost" else label
            for s in steps:
                if (fill and s >= 12) or rng.random() > probability:
                    continue
                t = start + (bar * 16 + s) * step + shift[s] + rng.uniform(0, 0.001)
                hits.append((t, name, int(np.clip(velocity + rng.normal(0, 8), 30, 127))))
        if fill:
            for label, s in _FILL:
                hits.append((start + (bar * 16 + s) * step + shift[s], label, int(rng.integers(95, 127))))
        if bar % 4 == 0:
            hits.append((start + bar * 16 * step + shift[0], "crash", 110))
    return sorted(hits)


def drum_take(
    bpm: float = 100.0, bars: int = 4, *, style: str = "rock", seed: int = 0, reverb: bool = False, tail: float = 1.0
) -> Take:
    """A rendered drum_pattern with its true transients."""
    return render_drums(drum_pattern(bpm, bars, style=style, seed=seed), reverb=reverb, tail=tail)


# ------------------------------------------------------------------------------------------ other instruments


def render_notes(
    notes: list[tuple[float, int, float, int]], program: int = FINGER_BASS, *, reverb: bool = False, tail=1.0
) -> Take:
    """Render (midi time s, MIDI note, duration s, velocity) with one GM `program`; hits are labelled "A2"..."""
    events: list[Event] = [(t, 0, n, _snap_velocity(v), d) for t, n, d, v in notes]
    return _take(events, {0: program}, reverb=reverb, tail=tail)


def bass_line(bpm: float = 100.0, bars: int = 2, *, seed: int = 0, program: int = FINGER_BASS) -> Take:
    """A detached bass line (8ths and quarters in A minor, each note shorter than its step)."""
    rng = np.random.default_rng(seed)
    scale = [33, 36, 38, 40, 43, 45]  # A1 C2 D2 E2 G2 A2
    beat = 60.0 / bpm
    notes, t = [], 0.5
    end = 0.5 + bars * 4 * beat
    while t < end - 1e-9:
        length = beat if rng.random() < 0.5 else beat / 2
        notes.append((t, int(rng.choice(scale)), length * 0.8, int(rng.integers(90, 127))))
        t += length
    return render_notes(notes, program)


def other_instruments(seconds: float, *, bpm: float = 100.0, seed: int = 0) -> np.ndarray:
    """Piano comping, a string pad and a bass line in A minor: float32 (2, frames), for leakage into stems."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    chords = [[57, 60, 64], [53, 57, 60], [55, 59, 62], [52, 56, 59]]  # Am F G E
    events: list[Event] = []
    bar = 0
    while bar * 4 * beat < seconds:
        t0 = 0.5 + bar * 4 * beat
        chord = chords[bar % 4]
        for n in chord:
            events.append((t0, 1, n - 12, 64, 4 * beat))  # strings
        for eighth in range(8):
            if rng.random() < 0.55:
                t = t0 + eighth * beat / 2 + rng.uniform(0, 0.01)
                for n in chord:
                    events.append((t, 0, n, 88, beat / 2 * 0.9))  # piano
        for q in range(4):
            events.append((t0 + q * beat, 2, chord[0] - 24, 110, beat * 0.7))  # bass
        bar += 1
    audio = render_midi([e for e in events if e[0] < seconds], {0: PIANO, 1: STRINGS, 2: FINGER_BASS})
    out = np.zeros((2, round(seconds * SR)), dtype=np.float32)
    n = min(out.shape[1], audio.shape[1])
    out[:, :n] = audio[:, :n]
    return out


def rms_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def with_leakage(take: Take, level_db: float = -12.0, *, seed: int = 0, bpm: float = 100.0) -> Take:
    """`take` with other instruments (`other_instruments`) mixed in at `level_db` relative to its RMS: the bleed
    of a separated stem. The hits stay the take's own: the other instruments' notes are not onsets to find.
    """
    other = other_instruments(take.seconds, bpm=bpm, seed=seed)
    gain = 10 ** ((rms_db(take.samples) + level_db - rms_db(other)) / 20)
    mixed = take.samples + gain * other[:, : take.samples.shape[1]]
    return replace(take, samples=mixed.astype(np.float32))
