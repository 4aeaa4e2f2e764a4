"""What the audition (static/js/audition.js, docs/audition.md) makes of a sample: a one-shot or something with a tempo.

Pure functions over a sample's fields, so the card, the sample page and the tests agree. A sample has no tempo of
its own; the track it was cut from has one (Track.bpm). A sample at least about a bar long at that tempo is a
"loop", a sung sample at least two beats long a "phrase": both follow the target's tempo and key (time-stretched
and pitch-shifted). Anything shorter is a one-shot: a "note" when it has a detected pitch (repitched to the target
key), a "hit" when it has none (a drum: played as it is).
"""

LOOP_BARS = 0.9  # "about a bar": a slice cut at an onset is a little shorter than the bar it starts
PHRASE_BEATS = 2.0
PHRASE_CATEGORIES = ("vocal",)
KINDS = ("loop", "phrase", "note", "hit")


def audition_kind(*, category: str, duration: float, note: str, bpm: float | None) -> str:
    if bpm and bpm > 0 and duration:
        beat = 60.0 / bpm
        if duration >= LOOP_BARS * 4 * beat:
            return "loop"
        if category in PHRASE_CATEGORIES and duration >= PHRASE_BEATS * beat:
            return "phrase"
    return "note" if note else "hit"
