"""Synthetic test audio: signals made with numpy, written in every accepted format, and broken files.

Signals are float32 arrays shaped (channels, frames), like `audio.audio_io.decode` returns.
Usable from any test (engines, processing jobs, upload views): nothing here needs Django.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 44100
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# write() formats: file format -> (ffmpeg encoder options). "wav"/"aiff"/"flac" honour bit_depth.
LOSSY_CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "5", "-f", "ogg"],
    "opus": ["-c:a", "libopus", "-b:a", "128k", "-f", "opus"],
    "m4a": ["-c:a", "aac", "-b:a", "192k", "-f", "ipod"],
    "alac": ["-c:a", "alac", "-f", "ipod"],  # ALAC in .m4a
}
FORMATS = ("wav", "aiff", "flac", *LOSSY_CODECS)


# --------------------------------------------------------------------------------------------------- signals


def _as_channels(mono: np.ndarray, channels: int) -> np.ndarray:
    return np.repeat(mono.astype(np.float32)[np.newaxis, :], channels, axis=0)


def tone(freq: float = 1000.0, seconds: float = 5.0, sr: int = SR, amplitude: float = 0.5, channels: int = 1):
    """A sine of peak `amplitude`, the same in every channel."""
    t = np.arange(round(seconds * sr)) / sr
    return _as_channels(amplitude * np.sin(2 * np.pi * freq * t), channels)


def silence(seconds: float = 5.0, sr: int = SR, channels: int = 1) -> np.ndarray:
    return np.zeros((channels, round(seconds * sr)), dtype=np.float32)


def noise(seconds: float = 5.0, sr: int = SR, amplitude: float = 0.1, channels: int = 1, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal((channels, round(seconds * sr)))).astype(np.float32)


def click_track(bpm: float = 120.0, seconds: float = 12.0, sr: int = SR, channels: int = 1, amplitude: float = 0.8):
    """A metronome: a short decaying click (noise burst + 1 kHz ping) on every beat, the first at 0 s."""
    frames = round(seconds * sr)
    out = np.zeros(frames, dtype=np.float64)
    n = round(0.04 * sr)
    t = np.arange(n) / sr
    envelope = np.exp(-t / 0.006)
    rng = np.random.default_rng(1)
    click = amplitude * envelope * (0.5 * rng.standard_normal(n) + 0.5 * np.sin(2 * np.pi * 1000 * t))
    period = 60.0 / bpm
    for k in range(int(seconds / period) + 1):
        start = round(k * period * sr)
        if start >= frames:
            break
        end = min(frames, start + n)
        out[start:end] += click[: end - start]
    return _as_channels(np.clip(out, -1, 1), channels)


def beat_times(bpm: float, seconds: float) -> np.ndarray:
    """Where click_track puts its clicks."""
    period = 60.0 / bpm
    return np.arange(0.0, seconds, period)


def _midi_freq(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def chord_progression(
    key: str = "A", scale: str = "minor", seconds: float = 16.0, sr: int = SR, channels: int = 1, amplitude=0.6
) -> np.ndarray:
    """i-iv-V-i (minor, V from harmonic minor) or I-IV-V-I (major) in `key`, repeated for `seconds`.

    Each chord is its triad with a few harmonics plus the root an octave below, with a soft attack and release,
    two seconds per chord: a progression that defines its key without ambiguity (the major V rules out the
    relative major).
    """
    bar = _chord_bar(key, scale, sr)
    frames = round(seconds * sr)
    full = np.tile(bar, frames // len(bar) + 1)[:frames]
    full *= amplitude / np.max(np.abs(full))
    return _as_channels(full, channels)


@functools.lru_cache(maxsize=16)
def _chord_bar(key: str, scale: str, sr: int) -> np.ndarray:
    """One bar of chord_progression (the same for every length: made once per key, scale and rate; read-only,
    chord_progression tiles it into an array of its own)."""
    tonic = 48 + NOTE_NAMES.index(key)  # MIDI note in the octave C3..B3
    third = 3 if scale == "minor" else 4
    chords = [
        (0, [0, third, 7]),  # i / I
        (5, [0, third, 7]),  # iv / IV
        (7, [0, 4, 7]),  # V (major in both)
        (0, [0, third, 7]),  # i / I
    ]
    chord_seconds = 2.0
    chord_frames = round(chord_seconds * sr)
    t = np.arange(chord_frames) / sr
    fade = round(0.05 * sr)
    envelope = np.ones(chord_frames)
    envelope[:fade] = np.linspace(0, 1, fade)
    envelope[-fade:] = np.linspace(1, 0, fade)
    rendered = []
    for root, intervals in chords:
        signal = np.zeros(chord_frames)
        notes = [tonic + root + i for i in intervals] + [tonic + root - 12]
        for note in notes:
            f = _midi_freq(note)
            for harmonic, weight in ((1, 1.0), (2, 0.5), (3, 0.25), (4, 0.125)):
                signal += weight * np.sin(2 * np.pi * f * harmonic * t)
        rendered.append(signal * envelope)
    bar = np.concatenate(rendered)
    bar.flags.writeable = False
    return bar


# ---------------------------------------------------------------------------------------------------- files


def write(
    path: str | os.PathLike,
    samples: np.ndarray,
    sr: int = SR,
    fmt: str = "wav",
    *,
    bit_depth: int = 16,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write (channels, frames) samples as `fmt` (see FORMATS) whatever the file name says; returns the path.

    wav/aiff/flac use `bit_depth` (16 or 24); mp3, ogg (Vorbis), opus, m4a (AAC) and alac (ALAC in M4A) are
    encoded by ffmpeg. `tags` (title, artist, album...) are written with ffmpeg -metadata.
    """
    path = Path(path)
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
    subtype = {16: "PCM_16", 24: "PCM_24"}[bit_depth]
    if fmt in ("wav", "flac") and not tags:
        sf.write(path, samples.T, sr, subtype=subtype, format=fmt.upper())
        return path
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.wav"
        lossless = fmt in ("wav", "aiff", "flac", "alac")
        sf.write(source, samples.T, sr, subtype=subtype if lossless else "FLOAT", format="WAV")
        if fmt == "wav":
            codec = ["-c:a", f"pcm_s{bit_depth}le", "-f", "wav"]
        elif fmt == "aiff":
            codec = ["-c:a", f"pcm_s{bit_depth}be", "-write_id3v2", "1", "-f", "aiff"]
        elif fmt == "flac":
            codec = ["-c:a", "flac", "-sample_fmt", "s16" if bit_depth == 16 else "s32", "-f", "flac"]
        elif fmt == "alac":
            codec = ["-sample_fmt", "s16p" if bit_depth == 16 else "s32p", *LOSSY_CODECS[fmt]]
        else:
            codec = LOSSY_CODECS[fmt]
        metadata = [arg for k, v in (tags or {}).items() for arg in ("-metadata", f"{k}={v}")]
        ffmpeg(["-i", str(source), *metadata, *codec, str(path)])
    return path


def ffmpeg(args: list[str], timeout: float = 60) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=timeout)


# ------------------------------------------------------------------------------------------------ bad files


def zero_bytes(path: str | os.PathLike) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path


def text_as_mp3(path: str | os.PathLike) -> Path:
    """A text file named like an MP3."""
    path = Path(path)
    path.write_text("These are my lyrics, not the song.\nVerse 1: la la la\n" * 40)
    return path


def truncated_wav(path: str | os.PathLike, seconds: float = 6.0) -> Path:
    """A valid 16-bit stereo WAV cut to half its bytes (the header still declares the full length)."""
    path = Path(path)
    write(path, tone(440, seconds, channels=2), fmt="wav")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_after_header(path: str | os.PathLike, fmt: str = "flac", seconds: float = 6.0, keep: int = 4096) -> Path:
    """A valid file (FLAC by default, or mp3) whose bytes after the first `keep` are random.

    (Random bytes after a WAV header are valid PCM: noise, not an error. Compressed formats are needed.)
    """
    path = Path(path)
    write(path, chord_progression(seconds=seconds), fmt=fmt)
    data = path.read_bytes()
    rng = np.random.default_rng(7)
    path.write_bytes(data[:keep] + rng.integers(0, 256, len(data) - keep, dtype=np.uint8).tobytes())
    return path


def unsupported_codec(path: str | os.PathLike, seconds: float = 2.0) -> Path:
    """Windows Media Audio (wmav2) in an ASF container."""
    path = Path(path)
    ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "wmav2", "-f", "asf", str(path)])
    return path


def video_only(path: str | os.PathLike, seconds: float = 1.0) -> Path:
    """An MP4 with a video stream and no audio."""
    path = Path(path)
    ffmpeg(["-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x120", "-c:v", "mpeg4", "-f", "mp4", str(path)])
    return path


def video_with_audio(path: str | os.PathLike, seconds: float = 1.0) -> Path:
    """An MP4 with video and an AAC audio track."""
    path = Path(path)
    ffmpeg(
        [
            *("-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x120"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *("-c:v", "mpeg4", "-c:a", "aac", "-f", "mp4", str(path)),
        ]
    )
    return path
