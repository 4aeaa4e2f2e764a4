"""Labelled one-shots rendered with fluidsynth from a General MIDI soundfont (FluidR3_GM for training).

Pitched categories come from GM programs (bank 0 and FluidR3's variation banks), drums from the GM percussion
channel's kits (bank 128). Each render is one MIDI file holding many notes spaced by silence, cut afterwards: an
"all sound off" ends every slot, so no tail leaks into the next note. Renders run at 44.1 kHz and are brought to
the classifier's analysis rate (22.05 kHz) with the engine's own resampler, trimmed and peak-normalised.

Every shot carries a `source`: the sounds that share a soundfont sample (or a drum sample) get the same source,
so a split by source keeps every recording of an instrument on one side (see `sample_sources`).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from audio.tagging import ANALYSIS_SR, CATEGORIES, to_analysis_rate

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RENDER_SR = 44100
MAX_SECONDS = 2.5  # one-shots are cut to this
MIN_SECONDS = 0.04
SILENT_PEAK = 1e-4  # a slot quieter than this has no sound (no sample on that key)
RENDER_VERSION = 1
DRUM_CHANNEL = 9
TICKS_PER_SECOND = 960  # 480 ticks per beat at 120 bpm

# ----------------------------------------------------------------------------------------------- GM mapping

# Bank-0 GM programs (0-based) per category; ranges are inclusive. Orchestra hit (55) is left out: not one thing.
_PROGRAM_RANGES: tuple[tuple[int, int, str | None], ...] = (
    (0, 20, "keys"),  # pianos, chromatic percussion, organs
    (21, 21, None),  # accordion: a keyboard that sounds like a reed; left out rather than mislabelled
    (22, 22, "brass_wind"),  # harmonica
    (23, 23, None),  # tango accordion (bandoneon)
    (24, 31, "guitar"),
    (32, 39, "bass"),
    (40, 46, "strings"),  # violin .. harp
    (47, 47, "tom"),  # timpani
    (48, 51, "strings"),  # ensembles, synth strings
    (52, 54, "vocal"),  # choir aahs, voice oohs, synth voice
    (55, 55, None),
    (56, 79, "brass_wind"),  # brass, reed, pipe
    (80, 87, "synth_lead"),
    (88, 95, "pad"),
    (96, 103, "fx_other"),  # synth effects
    (104, 107, "guitar"),  # sitar, banjo, shamisen, koto
    (108, 108, "keys"),  # kalimba
    (109, 109, "brass_wind"),  # bagpipe
    (110, 110, "strings"),  # fiddle
    (111, 111, "brass_wind"),  # shanai
    (112, 115, "percussion"),  # tinkle bell, agogo, steel drums, woodblock
    (116, 118, "tom"),  # taiko, melodic tom, synth drum
    (119, 127, "fx_other"),  # reverse cymbal, sound effects
)
PROGRAM_CATEGORY: dict[int, str | None] = {p: c for lo, hi, c in _PROGRAM_RANGES for p in range(lo, hi + 1)}
PRESET_OVERRIDES: dict[tuple[int, int], str] = {(8, 116): "kick"}  # FluidR3's "Concert Bass Drum"

# MIDI note ranges (inclusive) to play each category / program in.
CATEGORY_NOTES: dict[str, tuple[int, int]] = {
    "keys": (36, 96),
    "bass": (28, 55),
    "guitar": (40, 81),
    "strings": (40, 88),
    "brass_wind": (48, 84),
    "synth_lead": (48, 91),
    "pad": (36, 84),
    "vocal": (45, 79),
    "fx_other": (36, 84),
    "tom": (36, 67),
    "percussion": (48, 84),
    "kick": (33, 45),
}
PROGRAM_NOTES: dict[int, tuple[int, int]] = {
    **dict.fromkeys(range(8), (24, 100)),  # pianos
    **dict.fromkeys(range(8, 16), (55, 100)),  # chromatic percussion
    40: (55, 96),
    41: (48, 84),
    42: (36, 72),
    43: (28, 55),
    46: (36, 91),
    47: (36, 55),
    56: (55, 82),
    57: (40, 72),
    58: (28, 58),
    59: (55, 82),
    60: (41, 77),
    64: (56, 87),
    65: (49, 81),
    66: (44, 76),
    67: (36, 69),
    68: (58, 91),
    69: (52, 81),
    70: (34, 72),
    71: (50, 91),
    72: (74, 103),
    **dict.fromkeys(range(73, 80), (60, 96)),
    87: (36, 72),
}

# GM percussion keys -> category (the General MIDI definition).
DRUM_NOTES: dict[int, str] = {
    35: "kick",
    36: "kick",
    37: "snare",  # side stick
    38: "snare",
    40: "snare",
    39: "clap",
    42: "hihat_closed",
    44: "hihat_closed",  # pedal hi-hat
    46: "hihat_open",
    **dict.fromkeys((49, 51, 52, 53, 55, 57, 59), "cymbal"),
    **dict.fromkeys((41, 43, 45, 47, 48, 50), "tom"),
    **dict.fromkeys((54, 56, 58, *range(60, 71), *range(73, 82)), "percussion"),
}
# Sample names (FluidR3's) -> category, first match wins; used before the note where one matches, since kits put
# other sounds on GM keys (the 808 kit's open hat on the pedal key, the orchestra kit's timpani on the tom keys).
DRUM_NAME_RULES: tuple[tuple[str, str | None], ...] = (
    (r"kick|bass drum", "kick"),
    (r"snr|snare|rim tap|brush swirl|piccolo", "snare"),
    (r"clap", "clap"),
    (r"closed hat|hat closed|hat foot", "hihat_closed"),
    (r"open hat|half-open", "hihat_open"),
    (r"crsh|crash|ride|splash|cymbal", "cymbal"),
    (r"tom|studio|timpani|taiko|surdo", "tom"),
    (
        r"tambourine|cow ?bell|vibra|bongo|conga|tumba|slap|timbale|agogo|cabasa|maracas|guiro|clave|woodblock|"
        r"quica|cuica|triangle|shaker|sleigh|bell tree|castanet|sticks",
        "percussion",
    ),
    (r"scratch|applause", "fx_other"),
    (r".", None),  # anything else (high Q, metronome, whistles...) is left out
)


def drum_category_by_name(name: str) -> str | None:
    lowered = name.lower()
    for pattern, category in DRUM_NAME_RULES:
        if re.search(pattern, lowered):
            return category
    return None


def program_category(bank: int, program: int) -> str | None:
    return PRESET_OVERRIDES.get((bank, program), PROGRAM_CATEGORY.get(program))


def note_range(program: int, category: str) -> tuple[int, int]:
    if category in ("tom", "percussion", "kick", "fx_other") and program >= 112:
        return CATEGORY_NOTES[category]
    return PROGRAM_NOTES.get(program, CATEGORY_NOTES[category])


# ------------------------------------------------------------------------------------------ soundfont reading

_ZONE_TERMINAL_PRESET = 41  # generator "instrument"
_ZONE_TERMINAL_INSTRUMENT = 53  # generator "sampleID"
_KEY_RANGE = 43


@dataclass(eq=False)
class Preset:
    bank: int
    program: int
    name: str
    keys: dict[int, frozenset[int]]  # MIDI key -> the sample ids it plays (all velocity layers)

    @property
    def samples(self) -> frozenset[int]:
        return frozenset().union(*self.keys.values()) if self.keys else frozenset()


@dataclass(eq=False)
class SoundFont:
    """The preset -> key -> sample map of an SF2 file (its hydra, read with struct; no audio is loaded)."""

    path: Path
    presets: dict[tuple[int, int], Preset]
    sample_names: list[str]

    @classmethod
    def read(cls, path: str | Path) -> SoundFont:
        path = Path(path)
        hydra = _read_pdta(path)

        def records(name: str, fmt: str) -> list[tuple]:
            data, size = hydra[name], struct.calcsize(fmt)
            return [struct.unpack_from(fmt, data, i) for i in range(0, len(data) - size + 1, size)]

        phdr = records("phdr", "<20sHHHIII")
        pbag, pgen = records("pbag", "<HH"), records("pgen", "<HH")
        inst, ibag, igen = records("inst", "<20sH"), records("ibag", "<HH"), records("igen", "<HH")
        shdr = records("shdr", "<20sIIIIIBbHH")
        sample_names = [_cstr(s[0]) for s in shdr[:-1]]
        presets = {}
        for i, header in enumerate(phdr[:-1]):
            name, program, bank, bag = _cstr(header[0]), header[1], header[2], header[3]
            pglobal, pzones = _zones(pbag, pgen, bag, phdr[i + 1][3], _ZONE_TERMINAL_PRESET)
            keys: dict[int, set[int]] = defaultdict(set)
            for zone in pzones:
                plo, phi = _key_range(zone, _key_range(pglobal, (0, 127)))
                index = zone[_ZONE_TERMINAL_PRESET]
                if index + 1 >= len(inst):
                    continue
                iglobal, izones = _zones(ibag, igen, inst[index][1], inst[index + 1][1], _ZONE_TERMINAL_INSTRUMENT)
                for izone in izones:
                    ilo, ihi = _key_range(izone, _key_range(iglobal, (0, 127)))
                    for key in range(max(plo, ilo), min(phi, ihi) + 1):
                        keys[key].add(izone[_ZONE_TERMINAL_INSTRUMENT])
            presets[(bank, program)] = Preset(bank, program, name, {k: frozenset(v) for k, v in keys.items()})
        return cls(path, presets, sample_names)

    def drum_kits(self) -> list[Preset]:
        return [p for (bank, _), p in sorted(self.presets.items()) if bank == 128]

    def melodic(self) -> list[Preset]:
        return [p for (bank, _), p in sorted(self.presets.items()) if bank < 128]


def _read_pdta(path: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with open(path, "rb") as f:
        riff, size, form = struct.unpack("<4sI4s", f.read(12))
        if riff != b"RIFF" or form != b"sfbk":
            raise ValueError(f"{path} is not an SF2 soundfont")
        for cid, csize, pos in _chunks(f, 8 + size):
            if cid == b"LIST" and f.read(4) == b"pdta":
                for sub, ssize, spos in _chunks(f, pos + csize):
                    f.seek(spos)
                    out[sub.decode("latin-1")] = f.read(ssize)
    missing = {"phdr", "pbag", "pgen", "inst", "ibag", "igen", "shdr"} - out.keys()
    if missing:
        raise ValueError(f"{path}: no {', '.join(sorted(missing))} chunk")
    return out


def _chunks(f, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(id, size, data offset) of each RIFF chunk from the file's position up to `end` (absolute seeks)."""
    while f.tell() + 8 <= end:
        cid, size = struct.unpack("<4sI", f.read(8))
        pos = f.tell()
        yield cid, size, pos
        f.seek(pos + size + (size & 1))


def _zones(bags, gens, start: int, end: int, terminal: int) -> tuple[dict[int, int], list[dict[int, int]]]:
    """(global zone, other zones) of a preset or instrument: generator operator -> raw amount."""
    zones = []
    for z in range(start, min(end, len(bags) - 1)):
        zones.append(dict(gens[bags[z][0] : bags[z + 1][0]]))
    if zones and terminal not in zones[0]:
        return zones[0], [z for z in zones[1:] if terminal in z]
    return {}, [z for z in zones if terminal in z]


def _key_range(zone: dict[int, int], default: tuple[int, int]) -> tuple[int, int]:
    if _KEY_RANGE in zone:
        amount = zone[_KEY_RANGE]
        return amount & 0xFF, amount >> 8
    return default


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


# ---------------------------------------------------------------------------------------------------- shots


@dataclass
class Shot:
    """One labelled one-shot: float32 mono at ANALYSIS_SR, peak 1."""

    audio: np.ndarray
    category: str
    source: str  # the split unit: shots sharing a recorded sample or a synth patch share it
    origin: str = ""  # what made it, for reading


def save_shots(path: Path, shots: list[Shot]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(s.audio) for s in shots], dtype=np.int64)
    audio = np.concatenate([s.audio for s in shots]) if shots else np.zeros(0, np.float32)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        audio=np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16),
        lengths=lengths,
        categories=np.array([s.category for s in shots], dtype=str),
        sources=np.array([s.source for s in shots], dtype=str),
        origins=np.array([s.origin for s in shots], dtype=str),
    )
    tmp.replace(path)


def load_shots(path: Path) -> list[Shot]:
    with np.load(path, allow_pickle=False) as data:
        audio = data["audio"].astype(np.float32) / 32767
        ends = np.cumsum(data["lengths"])
        starts = ends - data["lengths"]
        return [
            Shot(audio[a:b], str(c), str(s), str(o))
            for a, b, c, s, o in zip(starts, ends, data["categories"], data["sources"], data["origins"], strict=True)
        ]


def clean_shot(mono: np.ndarray, sr: int = ANALYSIS_SR, max_seconds: float = MAX_SECONDS) -> np.ndarray | None:
    """Trim a rendered slot to its sound (onset to -60 dB tail), cut it to `max_seconds`, peak-normalise; None if
    there is (next to) nothing."""
    mono = np.asarray(mono, dtype=np.float32)
    peak = float(np.max(np.abs(mono))) if len(mono) else 0.0
    if peak < SILENT_PEAK:
        return None
    onset = int(np.argmax(np.abs(mono) >= peak * 10 ** (-50 / 20)))
    mono = mono[max(0, onset - int(0.002 * sr)) :]
    block = 256
    n = max(1, len(mono) // block)
    power = np.mean(mono[: n * block].reshape(n, -1).astype(np.float64) ** 2, axis=1) + 1e-20
    db = 10 * np.log10(power / power.max())
    loud = np.nonzero(db > -60)[0]
    end = min(len(mono), (int(loud[-1]) + 1) * block if len(loud) else len(mono), int(max_seconds * sr))
    mono = mono[:end].copy()
    if len(mono) < MIN_SECONDS * sr:
        return None
    fade = min(len(mono) // 4, int(0.015 * sr))
    if fade > 0:
        mono[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return mono / float(np.max(np.abs(mono)))


# ------------------------------------------------------------------------------------------------ rendering


@dataclass
class Note:
    """One note to render in a slot of its own."""

    bank: int
    program: int
    key: int
    velocity: int
    hold: float  # seconds until note-off
    slot: float  # seconds until the next note (an "all sound off" comes just before)
    category: str
    source: str
    origin: str = ""
    drum: bool = False


@dataclass
class RenderPlan:
    notes: list[Note] = field(default_factory=list)

    def jobs(self, per_job: float = 120.0) -> list[list[Note]]:
        """Notes batched into renders of about `per_job` seconds of audio each."""
        jobs: list[list[Note]] = [[]]
        length = 0.0
        for note in self.notes:
            if length > per_job:
                jobs.append([])
                length = 0.0
            jobs[-1].append(note)
            length += note.slot
        return [j for j in jobs if j]


def write_midi(notes: list[Note], path: Path, lead_in: float = 0.1) -> list[float]:
    """A type-0 MIDI file playing `notes` one after the other; returns each note's start in seconds."""
    events: list[tuple[int, int, mido.Message]] = []
    starts = []
    t = lead_in
    current: dict[int, tuple[int, int]] = {}
    for note in notes:
        channel = DRUM_CHANNEL if note.drum else 0
        tick = round(t * TICKS_PER_SECOND)
        if current.get(channel) != (note.bank, note.program):
            if not note.drum:
                events.append((tick, 0, mido.Message("control_change", channel=channel, control=0, value=note.bank)))
                events.append((tick, 1, mido.Message("control_change", channel=channel, control=32, value=0)))
            events.append((tick, 2, mido.Message("program_change", channel=channel, program=note.program)))
            current[channel] = (note.bank, note.program)
        events.append((tick, 3, mido.Message("note_on", channel=channel, note=note.key, velocity=note.velocity)))
        off = round((t + min(note.hold, note.slot - 0.03)) * TICKS_PER_SECOND)
        events.append((off, 4, mido.Message("note_off", channel=channel, note=note.key, velocity=0)))
        silence = round((t + note.slot - 0.01) * TICKS_PER_SECOND)
        events.append((silence, 5, mido.Message("control_change", channel=channel, control=120, value=0)))
        starts.append(t)
        t += note.slot
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=TICKS_PER_SECOND // 2))
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(track)
    mid.save(path)
    return starts


def fluidsynth_render(soundfont: Path, midi: Path, out_wav: Path, timeout: float) -> None:
    """Render a MIDI file offline (-F): no audio driver, no shell, reverb and chorus off, float output."""
    cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.5", "-O", "float", "-T", "wav"]
    cmd += ["-r", str(RENDER_SR), "-o", "synth.cpu-cores=1", "-F", str(out_wav), str(soundfont), str(midi)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0 or not out_wav.is_file():
        raise RuntimeError(f"fluidsynth failed ({result.returncode}): {(result.stderr or result.stdout)[-500:]}")


def render_notes(soundfont: Path, notes: list[Note]) -> list[Shot]:
    """Render `notes` in one fluidsynth run and cut the result into cleaned shots (silent slots are dropped)."""
    with tempfile.TemporaryDirectory(prefix="stemcrate-render-") as tmp:
        midi, wav = Path(tmp) / "notes.mid", Path(tmp) / "notes.wav"
        starts = write_midi(notes, midi)
        total = starts[-1] + notes[-1].slot if notes else 0.0
        fluidsynth_render(soundfont, midi, wav, timeout=60 + total)
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    mono = to_analysis_rate(audio.mean(axis=1), sr)
    shots = []
    for note, start in zip(notes, starts, strict=True):
        a = round(start * ANALYSIS_SR)
        b = round((start + note.slot - 0.012) * ANALYSIS_SR)
        cleaned = clean_shot(mono[a:b])
        if cleaned is not None:
            shots.append(Shot(cleaned, note.category, note.source, note.origin))
    return shots


def render_plan(soundfont: Path, plan: RenderPlan, workers: int = 2, per_job: float = 120.0) -> list[Shot]:
    jobs = plan.jobs(per_job)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda job: render_notes(soundfont, job), jobs))
    return [shot for shots in results for shot in shots]


# ---------------------------------------------------------------------------------------------------- plans


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def sample_sources(units: dict[object, tuple[str, frozenset[int]]]) -> dict[object, str]:
    """A source name per unit (a preset, a kit's key) given its (category, sample ids): units of one category that
    share any soundfont sample share a source, so a split by source never has the same recording on both sides
    under the same label. (A sample shared across categories, e.g. a string sample layered into a pad, may be.)"""
    uf = _UnionFind()
    owner: dict[tuple[str, int], object] = {}
    for unit, (category, samples) in units.items():
        uf.find(unit)
        for s in samples:
            if (category, s) in owner:
                uf.union(owner[(category, s)], unit)
            else:
                owner[(category, s)] = unit
    return {unit: "sf:" + _unit_name(uf.find(unit)) for unit in units}


def _unit_name(unit) -> str:
    if isinstance(unit, tuple) and len(unit) == 2:
        return f"{unit[0]}-{unit[1]}"
    if isinstance(unit, tuple):
        return "-".join(str(u) for u in unit)
    return str(unit)


@dataclass
class PlanOptions:
    notes_per_preset: int = 20
    drum_velocities: int = 4
    kits_per_sound: int = 2  # a drum sound shared by many kits is rendered from at most this many
    max_presets_per_category: int | None = None  # for quick runs
    label_drums_by: str = "name"  # "name" (sample name first, then GM key) or "note" (GM key only)
    holds: tuple[float, ...] = (0.12, 0.25, 0.45, 0.8, 1.3, 2.0)
    # A pad held for a tenth of a second is not a pad: the shortest note per category, where it matters.
    min_hold: tuple[tuple[str, float], ...] = (("pad", 0.8), ("strings", 0.25), ("vocal", 0.25), ("brass_wind", 0.25))

    def key(self) -> dict:
        return self.__dict__.copy()


def make_plan(font: SoundFont, options: PlanOptions, seed: int) -> RenderPlan:
    """What to render from a soundfont: every mapped melodic preset and every labelled drum sound."""
    rng = np.random.default_rng(seed)
    plan = RenderPlan()
    drum_units: dict[tuple[int, int], tuple[str, frozenset[int]]] = {}
    for kit in font.drum_kits():
        for key, samples in sorted(kit.keys.items()):
            category = _drum_category(font, key, samples, options.label_drums_by)
            if category is not None:
                drum_units[(kit.program, key)] = (category, samples)
    melodic = {}
    for preset in font.melodic():
        category = program_category(preset.bank, preset.program)
        if category is not None and preset.keys:
            melodic[(preset.bank, preset.program)] = (category, preset)
    units: dict[object, tuple[str, frozenset[int]]] = {("m", *k): (c, p.samples) for k, (c, p) in melodic.items()}
    units.update({("d", *k): (c, s) for k, (c, s) in drum_units.items()})
    sources = sample_sources(units)

    per_category: dict[str, int] = defaultdict(int)
    for (bank, program), (category, preset) in melodic.items():
        if options.max_presets_per_category and per_category[category] >= options.max_presets_per_category:
            continue
        per_category[category] += 1
        lo, hi = note_range(program, category)
        playable = sorted(k for k in preset.keys if lo <= k <= hi) or sorted(preset.keys)
        n = options.notes_per_preset
        picks = np.interp(np.linspace(0, 1, n) + rng.uniform(-0.5, 0.5, n) / max(n, 1), [0, 1], [0, len(playable) - 1])
        release = 1.2 if category in ("pad", "strings", "fx_other", "vocal", "brass_wind") else 0.8
        shortest = dict(options.min_hold).get(category, 0.0)
        holds = [h for h in options.holds if h >= shortest] or list(options.holds)
        for i in rng.permutation(n):
            hold = float(rng.choice(holds))
            plan.notes.append(
                Note(
                    bank,
                    program,
                    int(playable[round(picks[i])]),
                    int(rng.integers(40, 128)),
                    hold,
                    hold + release,
                    category,
                    sources[("m", bank, program)],
                    f"{font.path.name} {bank}:{program} {preset.name}",
                )
            )

    # Drum sounds: each distinct sample set from at most `kits_per_sound` kits, at a few velocities.
    by_samples: dict[frozenset[int], list[tuple[int, int]]] = defaultdict(list)
    for unit, (_, samples) in drum_units.items():
        by_samples[samples].append(unit)
    drum_per_category: dict[str, int] = defaultdict(int)
    for samples, kit_keys in by_samples.items():
        category = drum_units[kit_keys[0]][0]
        limit = options.max_presets_per_category
        if limit and drum_per_category[category] >= limit * 2:
            continue
        drum_per_category[category] += 1
        chosen = [kit_keys[i] for i in sorted(rng.permutation(len(kit_keys))[: options.kits_per_sound])]
        velocities = np.linspace(35, 127, options.drum_velocities).round().astype(int)
        long = category in ("cymbal", "hihat_open", "fx_other") or category == "tom"
        for kit, key in chosen:
            name = font.presets[(128, kit)].name
            for velocity in velocities:
                velocity = int(np.clip(velocity + rng.integers(-6, 7), 1, 127))
                plan.notes.append(
                    Note(
                        128,
                        kit,
                        key,
                        velocity,
                        2.5 if long else 1.2,
                        2.6 if long else 1.3,
                        category,
                        sources[("d", kit, key)],
                        f"{font.path.name} kit {kit} {name} key {key} "
                        + "/".join(sorted({font.sample_names[s] for s in samples}))[:60],
                        drum=True,
                    )
                )
    return plan


def _drum_category(font: SoundFont, key: int, samples: Iterable[int], label_by: str) -> str | None:
    if label_by == "name":
        names = {font.sample_names[s] for s in samples if s < len(font.sample_names)}
        found = {drum_category_by_name(n) for n in names}
        named = {c for c in found if c is not None}
        if len(named) > 1 or (None in found and named and key not in DRUM_NOTES):
            return None  # a key layering two kinds of sound
        if named:
            return named.pop()
    return DRUM_NOTES.get(key)


def render_soundfont(
    soundfont: Path,
    cache_dir: Path,
    options: PlanOptions,
    seed: int,
    workers: int = 2,
    log=print,
) -> list[Shot]:
    """Every shot of `make_plan(soundfont)`, rendered once and cached under `cache_dir` (keyed by the inputs)."""
    soundfont = Path(soundfont)
    stat = soundfont.stat()
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]  # a change here re-renders
    key = json.dumps(
        [RENDER_VERSION, code, str(soundfont.resolve()), stat.st_size, int(stat.st_mtime), options.key(), seed],
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    path = Path(cache_dir) / f"render-{soundfont.stem}-{digest}.npz"
    if path.is_file():
        shots = load_shots(path)
        log(f"  {len(shots)} shots from {soundfont.name} (cached: {path})")
        return shots
    font = SoundFont.read(soundfont)
    plan = make_plan(font, options, seed)
    seconds = sum(n.slot for n in plan.notes)
    log(f"  rendering {len(plan.notes)} notes ({seconds / 60:.1f} min of audio) from {soundfont.name}...")
    shots = render_plan(soundfont, plan, workers=workers)
    unknown = {s.category for s in shots} - set(CATEGORIES)
    if unknown:
        raise AssertionError(f"unknown categories {unknown}")
    save_shots(path, shots)
    return load_shots(path)  # as stored (16-bit), so a first run and a cached one train on the same numbers
