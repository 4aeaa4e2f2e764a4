"""How well audio.midi turns audio into notes, against Basic Pitch's own decoding of the same model.

    .venv/bin/python benchmarks/midi.py [--takes 8] [--seed 0] [--kinds bass,lead,...] [--threads N] [--no-speed]
                                        [--tensorflow-python /tmp/stemcrate-tf/bin/python]

Material (about 19 minutes at the defaults, rendered in ~25 s): six line types, each `--takes` random takes of
~20 s whose every note is known (MIDI written with pretty_midi, rendered by the fluidsynth CLI from
/usr/share/sounds/sf2/FluidR3_GM.sf2 at 44.1 kHz, half of them with FluidSynth's reverb and chorus; no other
sound font):
  bass    8 bars of 8ths/16ths/quarters in E1..G3 with rests, repeats and legato (GM finger, pick, fretless and
          synth basses)                                                        -> preset "bass"
  lead    a monophonic melody in A3..E6 (square/saw leads, flute, clarinet, trumpet, sax, violin, vibraphone,
          e-piano, nylon guitar)                                               -> preset "other" (polyphonic)
  piano   held or broken triads under an 8th/quarter melody (GM pianos, e-pianos)       -> preset "piano"
  guitar  strummed or picked open/barre chords (GM nylon, steel, jazz, clean electric)  -> preset "guitar"
  voice   legato sung-like lines in F3..G5 with scoops and vibrato (pitch bends), re-articulated repeats:
          alternately GM choir aahs / voice oohs / synth voice, and our own formant voice (`sing`: glottal
          harmonics through vowel formants, glides, consonant noise, breath)          -> preset "vocals"
  mix     a bass line, piano and a lead summed (the reference is all their notes)    -> preset "mix"
The presets were tuned on `--seed 1000`; the default seed 0 gives other takes, so the table is held out.

Contenders, on the same audio and the same bundled ONNX model:
  Basic Pitch defaults  basic_pitch.inference.predict(wav, Model(nmp.onnx)) with every default (onset 0.5,
                        frame 0.3, minimum note 127.70 ms, melodia trick, inferred onsets): what its CLI writes
  ours                  audio.midi.transcribe(samples, 44100, source=preset)

Scores, pooled over the takes of a type: note F1 from mir_eval.transcription.match_notes, onset within 50 ms
and the same pitch (within 50 cents); "offset" also needs the offset within max(50 ms, 20 % of the note).
Then speed: seconds per minute of audio for both ONNX runs and Basic Pitch's TensorFlow SavedModel
(basic_pitch.inference.predict with every default, as above but with Model(nmp)), all on the same takes and
taking turns take by take, and the ratio TensorFlow / each. TensorFlow cannot live in .venv (basic-pitch 0.4.0
pins tensorflow<2.15.1, which needs numpy<2; requirements.txt leaves it out on purpose), so it runs in a separate
process under another environment's python (--tensorflow-python; default /tmp/stemcrate-tf/bin/python, which
`bash benchmarks/tensorflow_env.sh` creates: tensorflow-cpu 2.15.0, numpy 1.26, ~1.7 GB), driven through
benchmarks/_basic_pitch_tf.py --serve: it reads the WAV files the ONNX predict reads and times its predict
calls itself, so its ~30 s of startup (TensorFlow import, model load) and the pipe are not timed. The first take
is a warm-up for every contender and is not timed either. Without that environment the TensorFlow row is left
out and the script says how to create it.

Measured here (2 CPU cores, shared; speed figures vary with the machine's load by +-50 %, their ratio less):

    line type  preset  takes notes | Basic Pitch defaults  |     ours (preset)     |      ratio
                                   |  F1 onset  F1 offset |  F1 onset  F1 offset |  onset  offset
    bass       bass        8   354 |     0.674      0.145 |     0.958      0.690 |  1.42x   4.77x
    lead       other       8   320 |     0.731      0.115 |     0.869      0.608 |  1.19x   5.27x
    piano      piano       8   485 |     0.755      0.267 |     0.953      0.725 |  1.26x   2.72x
    guitar     guitar      8   528 |     0.681      0.371 |     0.847      0.553 |  1.24x   1.49x
    voice      vocals      8   160 |     0.571      0.265 |     0.781      0.583 |  1.37x   2.20x
    mix        mix         8  1293 |     0.656      0.260 |     0.809      0.504 |  1.23x   1.94x
    all                   48  3140 |     0.682      0.255 |     0.861      0.584 |  1.26x   2.29x

    ONNX, audio.midi.transcribe (8 windows per call)              1.65 s/min
    ONNX, basic_pitch.inference.predict (1 window per call, librosa load)      2.08 s/min

Speed with TensorFlow, in a later run on a busier machine (load average 4.6 -> 7.3 on the 2 cores):

                                                                                s/min  TF / this
    ONNX, audio.midi.transcribe (8 windows per call)              3.79      0.58x
    ONNX, basic_pitch.inference.predict (1 window per call, librosa load)      4.95      0.44x
    TensorFlow 2.15.0 SavedModel, basic_pitch.inference.predict                2.20
    (both predicts found the same 4607 notes)

  With --threads 1 (--takes 2, load ~6.6): ours 2.92, Basic Pitch ONNX 4.02, TensorFlow 3.09 s/min (TF/ours
  1.05x). Under load onnxruntime's spinning intra-op threads cost most: model alone, one window per call, ORT
  1.32 took 83-133 ms with its defaults, 104 ms at 2 threads (ours), 67-69 ms at 2 threads with
  session.intra_op.allow_spinning=0, 53-57 ms at 1 thread, and TensorFlow 41-60 ms.

On the tuning seed (1000) ours scores 0.886 / 0.620 overall against 0.708 / 0.259: the held-out figures are a
little lower (voice most: 0.850 / 0.664 there), as expected of tuned constants. Synthesised instruments are
cleaner than recordings, so absolute figures on real stems will be lower for both contenders.
"""

import argparse
import contextlib
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RENDER_SR = 44100
ONSET_TOLERANCE = 0.05
TF_PYTHON = "/tmp/stemcrate-tf/bin/python"  # noqa: S108 - what benchmarks/tensorflow_env.sh creates by default


@dataclass
class Take:
    kind: str  # a key of KINDS
    source: str  # the preset it is transcribed with
    program: int
    reverb: bool
    notes: list[tuple[float, float, int, int]]  # (start s, end s, MIDI pitch, velocity): the reference
    bends: list[tuple[float, int]] = field(default_factory=list)  # (time s, pitch-bend value) on the one channel
    audio: np.ndarray | None = None  # (2, frames) at RENDER_SR

    @property
    def seconds(self) -> float:
        return 0.0 if self.audio is None else self.audio.shape[1] / RENDER_SR


# ------------------------------------------------------------------------------------------------- material

SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10], "dorian": [0, 2, 3, 5, 7, 9, 10]}


def _scale_notes(rng: np.random.Generator, low: int, high: int) -> list[int]:
    root = int(rng.integers(0, 12))
    steps = SCALES[str(rng.choice(list(SCALES)))]
    return [n for n in range(low, high + 1) if (n - root) % 12 in steps]


def _walk(rng: np.random.Generator, pitches: list[int], index: int, leap: float) -> int:
    """The next index into `pitches`: mostly steps, sometimes a leap or a repeat."""
    r = rng.random()
    if r < 0.2:
        move = 0
    elif r < 0.2 + leap:
        move = int(rng.integers(-5, 6))
    else:
        move = int(rng.choice([-2, -1, 1, 2]))
    index += move
    if not 0 <= index < len(pitches):  # bounce off the ends of the range instead of sticking to them
        index -= 2 * move
    return int(np.clip(index, 0, len(pitches) - 1))


def bass_take(rng: np.random.Generator) -> Take:
    """A bass line in E1..G3: 8ths, 16ths and quarters with rests, repeats and some legato, 8 bars."""
    bpm = float(rng.uniform(80, 140))
    beat = 60 / bpm
    pitches = _scale_notes(rng, 28, 55)
    program = int(rng.choice([33, 34, 35, 38, 39]))  # finger, pick, fretless, synth bass 1 and 2
    notes, t, i = [], 0.5, len(pitches) // 3
    end = 0.5 + 16 * 4 * beat * 0.5  # 8 bars of 4/4
    while t < end:
        step = beat * float(rng.choice([0.25, 0.5, 0.5, 0.5, 1.0, 1.0]))
        if rng.random() < 0.12:  # rest
            t += step
            continue
        i = _walk(rng, pitches, i, 0.3)
        gate = 1.0 if rng.random() < 0.2 else float(rng.uniform(0.45, 0.9))
        notes.append((t, t + step * gate, pitches[i], int(rng.integers(70, 121))))
        t += step
    return Take("bass", "bass", program, bool(rng.random() < 0.5), notes)


def lead_take(rng: np.random.Generator) -> Take:
    """A monophonic melody (A3..E6) for a lead instrument (square/saw lead, flute, clarinet, trumpet, alto sax,
    violin, vibraphone, electric piano, nylon guitar), ~20 s; "other" is polyphonic, so it is decoded as such."""
    bpm = float(rng.uniform(80, 150))
    beat = 60 / bpm
    pitches = _scale_notes(rng, 57, 88)
    program = int(rng.choice([80, 81, 73, 71, 56, 65, 40, 11, 4, 24]))
    notes, t, i = [], 0.5, len(pitches) // 2
    while t < 20.0:
        step = beat * float(rng.choice([0.25, 0.5, 0.5, 0.75, 1.0, 1.5, 2.0]))
        if rng.random() < 0.1:
            t += step
            continue
        i = _walk(rng, pitches, i, 0.25)
        gate = 1.0 if rng.random() < 0.25 else float(rng.uniform(0.5, 0.95))
        notes.append((t, t + step * gate, pitches[i], int(rng.integers(60, 121))))
        t += step
    return Take("lead", "other", program, bool(rng.random() < 0.5), notes)


def piano_take(rng: np.random.Generator) -> Take:
    """Piano: held triads or broken chords in the left hand under an 8th/quarter melody in the right, ~20 s."""
    bpm = float(rng.uniform(70, 130))
    beat = 60 / bpm
    root_pc = int(rng.integers(0, 12))
    program = int(rng.choice([0, 1, 2, 4, 5]))
    melody_pitches = _scale_notes(rng, 64, 88)
    notes, t, i = [], 0.5, len(melody_pitches) // 2
    bar = 4 * beat
    while t < 20.0:
        degree = int(rng.choice([0, 3, 4, 5, 7, 9]))
        root = 48 + (root_pc + degree) % 12
        third = root + (3 if rng.random() < 0.5 else 4)
        chord = [root, third, root + 7]
        if rng.random() < 0.5:  # held chord
            for p in chord:
                notes.append((t, t + bar * float(rng.uniform(0.5, 0.97)), p, int(rng.integers(50, 90))))
        else:  # broken chord: each note held until the bar ends
            for k, p in enumerate([*chord, root + 12]):
                notes.append((t + k * beat, t + bar * 0.97, p, int(rng.integers(50, 90))))
        m = t
        while m < t + bar - 1e-6:
            step = beat * float(rng.choice([0.5, 0.5, 1.0, 1.0, 2.0]))
            step = min(step, t + bar - m)
            i = _walk(rng, melody_pitches, i, 0.2)
            notes.append((m, m + step * float(rng.uniform(0.6, 0.95)), melody_pitches[i], int(rng.integers(70, 115))))
            m += step
        t += bar
    return Take("piano", "piano", program, bool(rng.random() < 0.5), notes)


def guitar_take(rng: np.random.Generator) -> Take:
    """Guitar chords (open/barre voicings on GM nylon, steel, jazz or clean electric), strummed or picked, ~20 s."""
    bpm = float(rng.uniform(70, 130))
    beat = 60 / bpm
    program = int(rng.choice([24, 25, 26, 27]))
    notes, t = [], 0.5
    while t < 20.0:
        root = int(rng.integers(40, 53))  # E2..E3
        minor = rng.random() < 0.4
        shape = [0, 7, 12, 15 if minor else 16, 19, 24][: int(rng.integers(4, 7))]
        length = beat * float(rng.choice([2, 4]))
        if rng.random() < 0.5:  # strum: 10-25 ms between strings, all ringing until just before the next chord
            gap = float(rng.uniform(0.01, 0.025))
            for k, iv in enumerate(shape):
                notes.append((t + k * gap, t + length - 0.05, root + iv, int(rng.integers(60, 110))))
        else:  # picked one string per 8th, each ringing to the end of the chord
            order = list(rng.permutation(len(shape)))
            for k in range(round(length / (beat / 2))):
                start = t + k * beat / 2
                end = min(start + beat * float(rng.choice([0.5, 1.0, 2.0])) * 0.95, t + length - 0.05)
                notes.append((start, end, root + shape[order[k % len(order)]], int(rng.integers(60, 110))))
        t += length
    return Take("guitar", "guitar", program, bool(rng.random() < 0.5), notes)


def mix_take(rng: np.random.Generator) -> Take:
    """A small band: a bass line, piano and a lead melody rendered separately and summed (the reference is all
    their notes)."""
    parts = [render(bass_take(rng)), render(piano_take(rng)), render(lead_take(rng))]
    frames = max(p.audio.shape[1] for p in parts)
    audio = np.zeros((2, frames), np.float32)
    for part, gain in zip(parts, (1.0, 0.6, 0.7), strict=True):
        audio[:, : part.audio.shape[1]] += gain * part.audio
    notes = sorted(n for part in parts for n in part.notes)
    return Take("mix", "mix", -2, parts[0].reverb, notes, audio=audio)


def voice_take(rng: np.random.Generator, synth: bool) -> Take:
    """A sung-like line, legato, with scoops and vibrato: GM choir aahs / voice oohs / synth voice rendered by
    FluidSynth (pitch bends), or our own formant voice (synth=True, see sing())."""
    program = -1 if synth else int(rng.choice([52, 53, 54]))
    pitches = _scale_notes(rng, 53, 79)
    lengths = [0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5] if synth else [0.4, 0.5, 0.75, 1.0, 1.5]
    notes, bends, t, i = [], [(0.0, 0)], 0.5, len(pitches) // 2
    while t < 20.0:
        length = float(rng.choice(lengths))
        i = _walk(rng, pitches, i, 0.2)
        if notes and notes[-1][2] == pitches[i] and notes[-1][1] >= t - 1e-9:
            t += float(rng.uniform(0.08, 0.25))  # a repeated pitch is re-articulated (a consonant), never tied
        gap = 0.0 if rng.random() < 0.4 else float(rng.uniform(0.05, 0.4))
        notes.append((t, t + length, pitches[i], int(rng.integers(70, 115))))
        # a scoop into some notes (from up to 40 cents flat), vibrato on the long ones; 4096 units = 1 semitone
        scoop = rng.random() < 0.3
        vibrato = length >= 0.7 and rng.random() < 0.7
        depth = float(rng.uniform(0.15, 0.35)) * 4096
        for k in range(int(length * 100)):
            s = k / 100
            value = 0.0
            if scoop and s < 0.08:
                value -= 0.4 * 4096 * (1 - s / 0.08)
            if vibrato and s > 0.25:
                value += depth * min(1.0, (s - 0.25) / 0.2) * math.sin(2 * math.pi * 5.5 * (s - 0.25))
            bends.append((t + s, round(value)))
        bends.append((t + length, 0))
        t += length + gap
        if rng.random() < 0.15:
            t += float(rng.uniform(0.5, 1.0))  # a breath
    return Take("voice", "vocals", program, bool(rng.random() < 0.5), notes, bends)


# Vowel formants (Hz, bandwidth Hz, gain) of a mid-range voice: a, e, i, o, u
VOWELS = [
    [(800, 80, 1.0), (1150, 90, 0.5), (2900, 120, 0.2)],
    [(400, 60, 1.0), (1600, 80, 0.3), (2700, 120, 0.2)],
    [(350, 50, 1.0), (1700, 100, 0.15), (2700, 120, 0.1)],
    [(450, 70, 1.0), (800, 80, 0.6), (2830, 100, 0.1)],
    [(325, 50, 1.0), (700, 60, 0.3), (2530, 170, 0.05)],
]


def sing(take: Take, rng: np.random.Generator, sr: int = RENDER_SR) -> np.ndarray:
    """Our own voice: harmonics of a glottal-like source shaped by vowel formants, with the take's bends as
    scoops and vibrato, 40 ms glides between legato notes, a consonant (noise burst) before some notes,
    breath noise, a 40 ms attack and 80 ms release. Mono float32 (1, frames)."""
    total = int((take.notes[-1][1] + 1.0) * sr)
    control = 64  # samples per control step
    steps = total // control + 2
    tc = np.arange(steps) * control / sr
    midi_pitch = np.full(steps, np.nan)
    amp = np.zeros(steps)
    vowel = np.zeros(steps, int)
    for k, (s, e, p, v) in enumerate(take.notes):
        a, b = np.searchsorted(tc, [s, e])
        midi_pitch[a:b] = p
        level = (v / 127) ** 1.5
        env = np.ones(b - a)
        n_att, n_rel = int(0.04 * sr / control), int(0.08 * sr / control)
        env[:n_att] = np.linspace(0, 1, min(n_att, b - a))[: b - a][:n_att]
        amp[a:b] = np.maximum(amp[a:b], level * env)
        c = min(steps, b + n_rel)
        amp[b:c] = np.maximum(amp[b:c], level * np.linspace(1, 0, c - b))
        midi_pitch[b:c] = np.where(np.isnan(midi_pitch[b:c]), p, midi_pitch[b:c])
        vowel[a:c] = rng.integers(0, len(VOWELS)) if k == 0 or rng.random() < 0.7 else vowel[a - 1]
    # hold the pitch through silences (it is inaudible there) and glide 40 ms into each legato note
    idx = np.where(~np.isnan(midi_pitch), np.arange(steps), 0)
    np.maximum.accumulate(idx, out=idx)
    midi_pitch = np.nan_to_num(midi_pitch[idx], nan=float(take.notes[0][2]))
    glide = max(1, int(0.04 * sr / control))
    midi_pitch = np.convolve(np.pad(midi_pitch, (glide, 0), mode="edge"), np.ones(glide) / glide, "valid")[:steps]
    bend_t = np.array([t for t, _ in take.bends])
    bend_v = np.array([b for _, b in take.bends]) / 4096
    midi_pitch = midi_pitch + np.interp(tc, bend_t, bend_v)
    f0 = 440 * 2 ** ((midi_pitch - 69) / 12) * (1 + 0.002 * rng.standard_normal(steps))  # a little jitter
    # synthesis: per-sample phase, harmonic amplitudes from the formant envelope at control rate
    t_s = np.arange(total) / sr
    f0_s = np.interp(t_s, tc, f0)
    phase = 2 * np.pi * np.cumsum(f0_s) / sr
    out = np.zeros(total)
    for h in range(1, 40):
        freq = h * f0
        gain = np.zeros(steps)
        for v_i, formants in enumerate(VOWELS):
            sel = vowel == v_i
            g = sum(w / (1 + ((freq[sel] - fc) / bw) ** 2) for fc, bw, w in formants)
            gain[sel] = g
        gain *= (1 / h) * (freq < sr / 2 - 1000)
        if not gain.any():
            continue
        out += np.interp(t_s, tc, gain * amp) * np.sin(h * phase)
    noise = rng.standard_normal(total)
    out += 0.01 * np.interp(t_s, tc, amp) * noise  # breath
    for s, _, _, v in take.notes:
        if rng.random() < 0.5:  # a consonant just before the vowel
            a = int((s - 0.05) * sr)
            burst = noise[a : a + int(0.05 * sr)] * np.hanning(int(0.05 * sr))[: len(noise[a : a + int(0.05 * sr)])]
            out[a : a + len(burst)] += 0.15 * (v / 127) * np.diff(burst, prepend=0)
    if take.reverb:
        ir_len = int(0.8 * sr)
        ir = rng.standard_normal(ir_len) * np.exp(-np.arange(ir_len) / (0.15 * sr))
        ir[0] = 0
        wet = _fft_convolve(out, ir)[:total]
        out = out + 0.25 * wet / np.abs(ir).sum() * 8
    out *= 0.5 / max(1e-9, np.abs(out).max())
    return out[np.newaxis, :].astype(np.float32)


def _fft_convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = len(a) + len(b) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(b, size), size)[:n]


KINDS = {
    "bass": bass_take,
    "lead": lead_take,
    "piano": piano_take,
    "guitar": guitar_take,
    "voice": voice_take,
    "mix": mix_take,
}


def render(take: Take) -> Take:
    """Write the take as MIDI (pretty_midi) and render it with the fluidsynth CLI and FluidR3_GM."""
    import pretty_midi
    import soundfile as sf

    if shutil.which("fluidsynth") is None or not Path(SOUNDFONT).exists():
        sys.exit(f"needs the fluidsynth CLI and {SOUNDFONT} (Debian: apt-get install fluidsynth fluid-soundfont-gm)")
    pm = pretty_midi.PrettyMIDI(resolution=960, initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=take.program)
    inst.notes = [pretty_midi.Note(velocity=v, pitch=p, start=s, end=e) for s, e, p, v in take.notes]
    inst.pitch_bends = [pretty_midi.PitchBend(int(np.clip(b, -8192, 8191)), t) for t, b in take.bends]
    pm.instruments.append(inst)
    with tempfile.TemporaryDirectory(prefix="bench-midi-") as tmp:
        mid, wav = Path(tmp) / "take.mid", Path(tmp) / "take.wav"
        pm.write(str(mid))
        effects = "1" if take.reverb else "0"
        cmd = ["fluidsynth", "-n", "-i", "-q", "-R", effects, "-C", effects, "-g", "0.6", "-r", str(RENDER_SR)]
        cmd += ["-O", "float", "-T", "wav", "-F", str(wav), SOUNDFONT, str(mid)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    assert sr == RENDER_SR
    take.audio = np.ascontiguousarray(audio.T)
    return take


def make_takes(kind: str, count: int, seed: int) -> list[Take]:
    """`count` takes of one kind; voice alternates FluidSynth's GM voices and our formant voice."""
    rng = np.random.default_rng([seed, list(KINDS).index(kind)])
    takes = []
    for k in range(count):
        if kind == "voice":
            take = voice_take(rng, synth=k % 2 == 1)
            if take.program < 0:
                take.audio = np.repeat(sing(take, rng), 2, axis=0)
                takes.append(take)
                continue
        else:
            take = KINDS[kind](rng)
        takes.append(take if take.audio is not None else render(take))
    return takes


# ---------------------------------------------------------------------------------------------- scoring


class Score:
    """mir_eval note matches pooled over takes: onset-only and with offsets (offset_ratio 0.2, min 50 ms)."""

    def __init__(self):
        self.onset = self.offset = self.n_ref = self.n_est = 0

    def add(self, reference: list[tuple[float, float, int, int]], estimated: list[tuple[float, float, int]]) -> None:
        import mir_eval

        ref_i = np.array([[s, e] for s, e, _, _ in reference])
        ref_p = np.array([_hz(p) for _, _, p, _ in reference])
        estimated = [n for n in estimated if n[1] > n[0]]  # mir_eval rejects empty intervals
        self.n_ref += len(reference)
        self.n_est += len(estimated)
        if not estimated:
            return
        est_i = np.array([[s, e] for s, e, _ in estimated])
        est_p = np.array([_hz(p) for _, _, p in estimated])
        match = mir_eval.transcription.match_notes
        self.onset += len(match(ref_i, ref_p, est_i, est_p, onset_tolerance=ONSET_TOLERANCE, offset_ratio=None))
        self.offset += len(match(ref_i, ref_p, est_i, est_p, onset_tolerance=ONSET_TOLERANCE))

    def f1(self) -> tuple[float, float]:
        total = self.n_ref + self.n_est
        return (2 * self.onset / total, 2 * self.offset / total) if total else (0.0, 0.0)


def _hz(midi_note: float) -> float:
    return 440.0 * 2 ** ((midi_note - 69) / 12)


def _write_wav(path: Path, take: Take) -> None:
    import soundfile as sf

    sf.write(path, take.audio.T, RENDER_SR, subtype="FLOAT")


def basic_pitch_default(path: Path, model) -> list[tuple[float, float, int]]:
    """What basic_pitch.inference.predict returns with all its defaults (onset 0.5, frame 0.3, minimum note
    127.70 ms, melodia trick, inferred onsets), run on the bundled ONNX model."""
    from basic_pitch import inference

    with contextlib.redirect_stdout(io.StringIO()):  # it prints a line per file
        _, _, events = inference.predict(path, model)
    return [(float(s), float(e), int(p)) for s, e, p, *_ in events]


def _quiet_basic_pitch():
    """Import basic_pitch without its warnings about the TensorFlow, CoreML and TFLite it does not find."""
    import logging

    logging.disable(logging.WARNING)
    try:
        import basic_pitch
        from basic_pitch import inference
    finally:
        logging.disable(logging.NOTSET)
    return basic_pitch, inference


def accuracy(takes: dict[str, list[Take]], threads: int | None) -> None:
    """Transcribe every take both ways and print the table."""
    from audio import midi

    basic_pitch, inference = _quiet_basic_pitch()
    model = inference.Model(basic_pitch.build_icassp_2022_model_path(basic_pitch.FilenameSuffix.onnx))
    header = f"{'line type':<10} {'preset':<7} {'takes':>5} {'notes':>5} | {'Basic Pitch defaults':^21} |"
    header += f" {'ours (preset)':^21} | {'ratio':^15}"
    print(header)
    columns = f"{'F1 onset':>9} {'F1 offset':>10}"
    print(f"{'':<30} | {columns} | {columns} | {'onset':>6} {'offset':>7}")
    print("-" * len(header))
    total_base, total_ours = Score(), Score()
    with tempfile.TemporaryDirectory(prefix="bench-midi-") as tmp:
        for kind, group in takes.items():
            base, ours = Score(), Score()
            for k, take in enumerate(group):
                wav = Path(tmp) / f"{kind}-{k}.wav"
                _write_wav(wav, take)
                est = basic_pitch_default(wav, model)
                base.add(take.notes, est)
                total_base.add(take.notes, est)
                result = midi.transcribe(take.audio, RENDER_SR, source=take.source, threads=threads)
                est = [(n.start, n.end, n.pitch) for n in result.notes]
                ours.add(take.notes, est)
                total_ours.add(take.notes, est)
            _row(kind, group[0].source, len(group), base, ours)
        print("-" * len(header))
        _row("all", "", sum(len(g) for g in takes.values()), total_base, total_ours)


def _row(kind: str, source: str, n_takes: int, base: Score, ours: Score) -> None:
    (bo, bf), (oo, of) = base.f1(), ours.f1()

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "-"

    print(
        f"{kind:<10} {source:<7} {n_takes:>5} {base.n_ref:>5} | {bo:>9.3f} {bf:>10.3f} | {oo:>9.3f} {of:>10.3f} |"
        f" {ratio(oo, bo):>6} {ratio(of, bf):>7}"
    )


# ------------------------------------------------------------------------------------------------- speed


def speed(takes: dict[str, list[Take]], threads: int | None, tensorflow_python: str | None) -> None:
    """Seconds per minute of audio, audio to notes. Each take is converted by every contender in turn (after one
    warm-up each), so a busy machine slows them alike. Ours converts the samples in memory; Basic Pitch's predict,
    ONNX here and TensorFlow in `tensorflow_python`'s process (see _basic_pitch_tf.py), loads the same take from
    the same WAV file."""
    from audio import midi

    basic_pitch, inference = _quiet_basic_pitch()
    flat = [t for group in takes.values() for t in group]
    minutes = sum(t.seconds for t in flat) / 60
    ours = "ONNX, audio.midi.transcribe (8 windows per call)"
    bp_onnx = "ONNX, basic_pitch.inference.predict (1 window per call, librosa load)"
    contenders = {
        ours: None,
        bp_onnx: inference.Model(basic_pitch.build_icassp_2022_model_path(basic_pitch.FilenameSuffix.onnx)),
    }
    elapsed = dict.fromkeys(contenders, 0.0)
    notes = {bp_onnx: 0}
    tf_name = tf_missing = None
    with tempfile.TemporaryDirectory(prefix="bench-midi-") as tmp, contextlib.ExitStack() as stack:
        tf = None
        if tensorflow_python and Path(tensorflow_python).exists():
            tf = stack.enter_context(_TensorFlowProcess(tensorflow_python, threads, Path(tmp) / "tf-stderr.txt"))
        elif tensorflow_python != "":  # None: the default environment does not exist
            tf_missing = tensorflow_python or TF_PYTHON
        for k, take in enumerate([flat[0], *flat]):
            wav = Path(tmp) / f"{k}.wav"
            _write_wav(wav, take)
            for name, model in contenders.items():
                t0 = time.perf_counter()
                if model is None:
                    midi.transcribe(take.audio, RENDER_SR, source=take.source, threads=threads)
                else:
                    events = basic_pitch_default(wav, model)
                if k > 0:  # the first round is the warm-up (sessions, imports)
                    elapsed[name] += time.perf_counter() - t0
                    if name in notes:
                        notes[name] += len(events)
            if tf is not None:
                answer = tf.convert(wav)  # timed in its process: predict only, not the pipe
                if tf_name is None:
                    tf_name = f"TensorFlow {answer['tensorflow']} SavedModel, basic_pitch.inference.predict"
                    elapsed[tf_name] = 0.0
                    notes[tf_name] = 0
                if k > 0:
                    elapsed[tf_name] += answer["seconds"]
                    notes[tf_name] += answer["notes"]
    print(f"\nConversion speed over {minutes * 60:.0f} s of audio on {os.cpu_count()} CPU cores, seconds per minute")
    every = "all three" if tf_name else "both"
    print(f"of audio (lower is better; {every} compute the same model's output, ours decodes it differently):")
    per_minute = {name: seconds / minutes for name, seconds in elapsed.items()}
    if tf_name:
        print(f"  {'':<72} {'s/min':>6}  {'TF / this':>9}")
    for name, value in per_minute.items():
        ratio = f"  {per_minute[tf_name] / value:8.2f}x" if tf_name and name != tf_name else ""
        print(f"  {name:<72} {value:6.2f}{ratio}")
    if tf_name:
        print(f"  (TensorFlow ran in a separate process, {tensorflow_python}: its startup and model load are not")
        print(f"  timed; notes found: {notes[tf_name]} with TensorFlow, {notes[bp_onnx]} with Basic Pitch's ONNX)")
    elif tf_missing:
        print(f"  TensorFlow's SavedModel was not timed: {tf_missing} does not exist. TensorFlow cannot live in .venv")
        print("  (basic-pitch 0.4.0 pins tensorflow<2.15.1, which needs numpy<2); create its own environment with")
        print("  `bash benchmarks/tensorflow_env.sh` (~1.7 GB in /tmp/stemcrate-tf) and run this script again.")


class _TensorFlowProcess:
    """benchmarks/_basic_pitch_tf.py --serve under another environment's python: one WAV path in, one JSON line
    out ({"seconds", "audio_seconds", "notes", "tensorflow"}), so that it takes turns with the ONNX contenders."""

    def __init__(self, python: str, threads: int | None, stderr_path: Path):
        self.cmd = [python, str(ROOT / "benchmarks" / "_basic_pitch_tf.py"), "--serve"]
        if threads:
            self.cmd += ["--threads", str(threads)]
        self.stderr_path = stderr_path

    def __enter__(self) -> "_TensorFlowProcess":
        self.stderr = open(self.stderr_path, "w+")  # closed in __exit__
        self.process = subprocess.Popen(
            self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, bufsize=1
        )
        return self

    def convert(self, wav: Path) -> dict:
        import json

        self.process.stdin.write(f"{wav}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            self.stderr.seek(0)
            tail = "".join(self.stderr.readlines()[-20:])
            sys.exit(f"{' '.join(self.cmd)} stopped (exit {self.process.returncode}):\n{tail}")
        return json.loads(line)

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--takes", type=int, default=8, help="takes per line type (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="material seed (default 0; the presets were tuned on 1000)")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"comma-separated line types (default {','.join(KINDS)})"
    )
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: all cores)")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed comparison")
    parser.add_argument(
        "--tensorflow-python",
        default=TF_PYTHON if Path(TF_PYTHON).exists() else None,
        help="python of an environment with TensorFlow and basic-pitch (benchmarks/tensorflow_env.sh) to time Basic"
        f" Pitch's SavedModel in the speed comparison (default {TF_PYTHON} if it exists; '' to skip)",
    )
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        sys.exit(f"unknown line type(s) {unknown}; choose from {list(KINDS)}")
    t0 = time.perf_counter()
    takes = {kind: make_takes(kind, args.takes, args.seed) for kind in kinds}
    seconds = sum(t.seconds for g in takes.values() for t in g)
    n_takes = sum(map(len, takes.values()))
    print(f"Rendered {n_takes} takes ({seconds:.0f} s of audio, seed {args.seed}) in {time.perf_counter() - t0:.0f} s")
    print(
        f"Note F1 (mir_eval.transcription, onset tolerance {ONSET_TOLERANCE * 1000:.0f} ms; offset: offset_ratio 0.2)\n"
    )
    accuracy(takes, args.threads)
    if not args.no_speed:
        speed(takes, args.threads, args.tensorflow_python)


if __name__ == "__main__":
    main()
