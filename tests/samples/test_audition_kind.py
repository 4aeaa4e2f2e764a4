"""samples/audition.py: which samples follow tempo and key (loops, phrases) and which the key only (one-shots)."""

import pytest

from samples.audition import audition_kind


@pytest.mark.parametrize(
    ("category", "duration", "note", "bpm", "kind"),
    [
        ("keys", 2.0, "", 120.0, "loop"),  # a bar at 120 BPM
        ("keys", 1.85, "C4", 120.0, "loop"),  # a little short of the bar it starts: still about a bar
        ("keys", 1.7, "C4", 120.0, "note"),  # under 0.9 of a bar, with a pitch: a one-shot note
        ("vocal", 1.0, "A4", 120.0, "phrase"),  # two beats sung
        ("vocal", 0.4, "A4", 120.0, "note"),  # a vocal chop
        ("kick", 0.3, "", 120.0, "hit"),
        ("tom", 0.4, "G2", 120.0, "note"),  # a tuned drum follows the key
        ("kick", 2.5, "", 120.0, "loop"),  # a drum loop follows the tempo
        ("pad", 8.0, "C3", None, "note"),  # no tempo to follow without the track's BPM
        ("fx_other", 3.0, "", 0.0, "hit"),
    ],
)
def test_audition_kind(category, duration, note, bpm, kind):
    assert audition_kind(category=category, duration=duration, note=note, bpm=bpm) == kind
