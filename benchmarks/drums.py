"""Drums to MIDI: per-class transcription F1 (a note counts when its onset is within 30 ms of a true hit of the
same class) on drum renders with known hits, dry and with other instruments bleeding in at -12 dB.

    .venv/bin/python benchmarks/drums.py [--takes 12] [--fonts fluidr3,timgm6mb,musescore]

Material: tests/drum_factory.py drum patterns (rock, funk, half-time; 4 bars each, a crash every 4 bars and a
tom fill in the 4th), at tempi from 78 to 146 BPM, rendered with FluidSynth. The truth is each hit's transient
in the rendered audio (drum_factory measures it), not the MIDI note time.

Sound fonts:
  fluidr3    FluidR3_GM, the font the classifier was trained on and the layer rules tuned on: an in-sample figure
  timgm6mb   TimGM6mb.sf2 (shipped inside pretty_midi): never trained or tuned on, held out
  musescore  MuseScore_General small (Debian musescore-general-soundfont-small): held out; skipped when absent

Classes scored: kick, snare, clap, rim, closed hat (a pedal hat counts as closed: we do not tell them apart),
open hat, toms (any of the six tom notes for any tom), cymbals (crash and ride together), percussion.

Printed side by side for each font:
  ours          audio.drum_midi.transcribe with its defaults
  one-per-hit   the same onsets and classifier, one note per onset (no layer rules): what the classifier alone
                gives, so the figure shows what finding simultaneous hits adds

Not timed: throughput belongs to benchmarks/slicing.py (the same onset detector and classifier).
"""

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audio import drum_midi  # noqa: E402
from tests import drum_factory as df  # noqa: E402

WINDOW = 0.03
TRUTH_CLASS = {
    "kick": "kick", "snare": "snare", "clap": "clap", "rim": "rim", "closed_hat": "hihat_closed",
    "pedal_hat": "hihat_closed", "open_hat": "hihat_open", "crash": "cymbal", "ride": "cymbal",
    "low_tom": "tom", "mid_tom": "tom", "high_tom": "tom",
}  # fmt: skip


def fonts() -> dict[str, str]:
    import pretty_midi

    return {
        "fluidr3": df.SOUNDFONT,
        "timgm6mb": os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2"),
        "musescore": "/usr/share/sounds/sf3/MuseScore_General.sf3",
    }


def takes(count: int):
    styles = ("rock", "funk", "halftime")
    for i in range(count):
        bpm = 78 + (i * 17) % 69  # 78 .. 146
        yield styles[i % 3], float(bpm), 100 + i


def one_per_hit(samples, sr) -> list[drum_midi.DrumNote]:
    """The same onsets and classifier, without the layer rules."""
    real = drum_midi._layers
    drum_midi._layers = lambda main, bands: []
    try:
        return drum_midi.transcribe(samples, sr)
    finally:
        drum_midi._layers = real


def score(notes, hits, counts) -> None:
    truth = [(h.time, TRUTH_CLASS[h.label]) for h in hits]
    used = set()
    for note in sorted(notes, key=lambda n: n.start):
        cls = note.category  # from its General MIDI note (drum_midi.CLASS_OF_NOTE)
        best = None
        for j, (t, c) in enumerate(truth):
            near = j not in used and c == cls and abs(t - note.start) <= WINDOW
            if near and (best is None or abs(t - note.start) < abs(truth[best][0] - note.start)):
                best = j
        if best is None:
            counts[cls]["fp"] += 1
        else:
            used.add(best)
            counts[cls]["tp"] += 1
    for j, (_, c) in enumerate(truth):
        if j not in used:
            counts[c]["fn"] += 1


def f1(c) -> float:
    return 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"])


def table(results: dict) -> None:
    classes = sorted({c for r in results.values() for c in r}, key=lambda c: list(TRUTH_CLASS.values()).index(c))
    names = list(results)
    print("    " + "class".ljust(14) + "".join(n.rjust(16) for n in names) + "   hits")
    for c in classes:
        hits = results[names[0]][c]["tp"] + results[names[0]][c]["fn"]
        print("    " + c.ljust(14) + "".join(f"{f1(results[n][c]):16.3f}" for n in names) + f"{hits:7d}")
    for n in names:
        tp = sum(v["tp"] for v in results[n].values())
        fp = sum(v["fp"] for v in results[n].values())
        fn = sum(v["fn"] for v in results[n].values())
        results[n]["_micro"] = {"tp": tp, "fp": fp, "fn": fn}
    print("    " + "all (micro)".ljust(14) + "".join(f"{f1(results[n]['_micro']):16.3f}" for n in names))


def run_font(name: str, path: str, count: int) -> None:
    print(f"\n== {name}: {path}" + ("   (in-sample: trained and tuned on)" if name == "fluidr3" else "   (held out)"))
    with df.soundfont(path):
        for bleed in (None, -12.0):
            results = {
                "ours": defaultdict(lambda: defaultdict(int)),
                "one-per-hit": defaultdict(lambda: defaultdict(int)),
            }
            for style, bpm, seed in takes(count):
                take = df.drum_take(bpm=bpm, bars=4, style=style, seed=seed)
                if bleed is not None:
                    take = df.with_leakage(take, bleed, seed=seed, bpm=bpm)
                score(drum_midi.transcribe(take.samples, take.sample_rate), take.hits, results["ours"])
                score(one_per_hit(take.samples, take.sample_rate), take.hits, results["one-per-hit"])
            condition = "dry" if bleed is None else f"other instruments at {bleed:g} dB"
            print(f"  {condition}: F1 per class (onset within 30 ms, right class)")
            table(results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--takes", type=int, default=12)
    parser.add_argument("--fonts", default="fluidr3,timgm6mb,musescore")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.takes} takes of 4 bars per font and condition")
    available = fonts()
    for name in args.fonts.split(","):
        path = available[name]
        if not Path(path).exists():
            print(f"\n== {name}: {path} is missing (Debian: musescore-general-soundfont-small); skipped")
            continue
        run_font(name, path, args.takes)


if __name__ == "__main__":
    main()
