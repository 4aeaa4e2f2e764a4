"""Spoken lyrics over rendered music, with the truth: which words, and when the voice sounds.

The voice is espeak-ng (Debian main), the music FluidR3_GM through drum_factory's FluidSynth renderer. A "song" is
an instrumental intro with no voice, then one line after another with a pause between them, the whole
instrumental under it at a chosen level below the voice. Each line's voice span (from its first to its last
frame above -40 dB of the voice's peak) is measured on the rendered voice itself, so a test can check that
word times fall inside the voice. Usable from tests and benchmarks: nothing here needs Django.

Mixing levels are RMS over the parts where the voice sounds: "music 12 dB below" means the instrumental's RMS in
those parts is 12 dB under the voice's.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from tests import drum_factory

SR = 44100

#: Eight lines of lyrics (written for these tests), sung-style short phrases with common words.
LINES = (
    "the city lights are calling me tonight",
    "i walk alone along the empty street",
    "your voice is echoing inside my head",
    "we were dancing underneath the summer rain",
    "hold on to the feeling while it lasts",
    "every heartbeat brings me closer to the sun",
    "we can find a way back home again",
    "never let the music fade away",
)

VOICES = ("en-us", "en", "en-us+m3")  # espeak-ng's own voices (mbrola voices are not in Debian main)


@dataclass(frozen=True)
class Song:
    samples: np.ndarray  # float32 (2, frames) at SR
    voice: np.ndarray  # the voice alone, float32 (frames,) at SR
    music: np.ndarray  # the music alone, float32 (frames,) at SR
    lines: tuple[str, ...]
    spans: tuple[tuple[float, float], ...]  # each line's voice, seconds
    intro: float  # seconds of music before the first word

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / SR


def espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("speech_factory needs espeak-ng (Debian: espeak-ng)")
    return exe


@functools.cache
def speak(text: str, voice: str = "en-us", speed: int = 150) -> np.ndarray:
    """`text` spoken by espeak-ng: float32 mono at SR, trimmed to the voice."""
    with tempfile.TemporaryDirectory(prefix="speech-factory-") as tmp:
        wav = Path(tmp) / "line.wav"
        subprocess.run([espeak(), "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True, timeout=60,
                       capture_output=True)  # fmt: skip
        audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != SR:
        mono = resample_poly(mono, SR, rate).astype(np.float32)
    start, end = _span(mono)
    return np.ascontiguousarray(mono[start:end])


def _span(mono: np.ndarray, db: float = -40.0) -> tuple[int, int]:
    level = np.abs(mono)
    loud = np.flatnonzero(level >= level.max() * 10 ** (db / 20))
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)


@functools.cache
def instrumental(seconds: float, seed: int = 0) -> np.ndarray:
    """A pop backing (piano chords, bass, strings pad, drums) rendered with FluidR3_GM: float32 mono at SR."""
    rng = np.random.default_rng(seed)
    beat = 0.5  # 120 BPM
    progression = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))  # Am F C G
    events: list[drum_factory.Event] = []
    t, bar = 0.0, 0
    while t < seconds:
        chord = progression[bar % 4]
        for i in range(4):
            time = t + i * beat
            if time >= seconds:
                break
            for note in chord:
                events.append((time, 0, note, 70, beat * 0.9))
            events.append((time, 1, chord[0] - 24, 90, beat * 0.8))
            events.append((time, 9, 36 if i % 2 == 0 else 38, 90, 0.1))
            events.append((time + beat / 2, 9, 42, 60, 0.05))
        events.append((t, 2, chord[1] + 12, 50, min(4 * beat, seconds - t)))
        if rng.random() < 0.5:
            events.append((t + 2 * beat, 3, chord[2] + 12, 64, beat))  # a melody note now and then
        t += 4 * beat
        bar += 1
    audio = drum_factory.render_midi(events, {0: 0, 1: 33, 2: 48, 3: 73})
    mono = audio.mean(axis=0)
    frames = round(seconds * SR)
    out = np.zeros(frames, np.float32)
    out[: min(frames, mono.size)] = mono[:frames]
    return out


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def song(
    lines: tuple[str, ...] = LINES,
    *,
    voice: str = "en-us",
    music_db: float | None = -12.0,
    intro: float = 6.0,
    gap: float = 1.2,
    outro: float = 2.0,
    peak: float = 0.7,
) -> Song:
    """The lines spoken one after another after `intro` seconds of music alone, with `gap` seconds between them,
    the music `music_db` dB (RMS, where the voice sounds) below the voice; None: the voice alone, no music."""
    spoken = [speak(line, voice) for line in lines]
    total = intro + sum(s.size / SR for s in spoken) + gap * (len(spoken) - 1) + outro
    frames = round(total * SR)
    voice_track = np.zeros(frames, np.float32)
    spans = []
    position = round(intro * SR)
    for part in spoken:
        voice_track[position : position + part.size] += part
        spans.append((position / SR, (position + part.size) / SR))
        position += part.size + round(gap * SR)
    voiced = np.zeros(frames, bool)
    for start, end in spans:
        voiced[round(start * SR) : round(end * SR)] = True
    if music_db is None:
        music = np.zeros(frames, np.float32)
    else:
        music = np.zeros(frames, np.float32)
        rendered = instrumental(round(total, 3))[:frames]
        music[: rendered.size] = rendered
        music = music * (_rms(voice_track[voiced]) / max(_rms(music[voiced]), 1e-9) * 10 ** (music_db / 20))
    mix = voice_track + music.astype(np.float32)
    scale = peak / max(float(np.abs(mix).max()), 1e-9)
    mix, voice_track, music = mix * scale, voice_track * scale, music * scale
    return Song(
        np.ascontiguousarray(np.stack([mix, mix]).astype(np.float32)),
        voice_track.astype(np.float32),
        music.astype(np.float32),
        tuple(lines),
        tuple(spans),
        intro,
    )


def words(text: str) -> list[str]:
    """Lower-case words without punctuation: what WER compares ("don't" stays one word)."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return float(len(hyp) > 0)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
