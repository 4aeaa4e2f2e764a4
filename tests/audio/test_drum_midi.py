"""Drums to MIDI (audio/drum_midi.py) on FluidR3_GM renders with known hits: General MIDI notes, hits played
together as separate notes, velocity from level, quantise strength, the kept classes, and a channel-10 file."""

import io

import mido
import numpy as np
import pytest

from audio import drum_midi
from tests import drum_factory as df

SR = df.SR


def notes_near(notes, t, tol=0.03):
    return sorted(n.pitch for n in notes if abs(n.start - t) <= tol)


def test_single_hits_get_their_general_midi_notes():
    take = df.render_drums([(0.5, "kick", 110), (1.0, "snare", 110), (1.5, "closed_hat", 110), (2.0, "kick", 110)])
    notes = drum_midi.transcribe(take.samples, SR)
    assert [notes_near(notes, h.time) for h in take.hits] == [[36], [38], [42], [36]], [n.to_dict() for n in notes]


def test_a_kick_and_a_hat_together_are_two_notes():
    take = df.render_drums([(0.5, "kick", 110), (0.5, "closed_hat", 100), (1.0, "kick", 110), (1.5, "closed_hat", 100)])
    notes = drum_midi.transcribe(take.samples, SR)
    assert notes_near(notes, 0.5 + 0.003) == [36, 42]  # together: both
    assert notes_near(notes, 1.0 + 0.003) == [36]  # a kick alone has no hat
    assert notes_near(notes, 1.5 + 0.003) == [42]
    layered = [n for n in notes if n.layered]
    assert [n.pitch for n in layered] == [42]


def test_velocity_follows_the_level_of_the_hit():
    take = df.render_drums([(0.5, "snare", 127), (1.0, "snare", 64), (1.5, "snare", 40)])
    notes = [n for n in drum_midi.transcribe(take.samples, SR) if n.pitch == 38]
    velocities = [n.velocity for n in notes]
    assert len(velocities) == 3 and velocities[0] == 127 and velocities[0] > velocities[1] > velocities[2], velocities


def test_quantise_moves_hits_toward_the_grid_by_its_strength():
    # 120 BPM: sixteenths every 0.125 s; the hits are 20 ms late.
    take = df.render_drums([(0.5 + 0.02, "kick", 110), (1.0 + 0.02, "kick", 110)])
    loose = drum_midi.transcribe(take.samples, SR)
    half = drum_midi.transcribe(take.samples, SR, bpm=120, options={"quantise": 0.5})
    full = drum_midi.transcribe(take.samples, SR, bpm=120, options={"quantise": 1})
    kicks = [[n.start for n in notes if n.pitch == 36] for notes in (loose, half, full)]
    assert kicks[2] == pytest.approx([0.5, 1.0], abs=1e-6)
    assert np.allclose(kicks[1], (np.array(kicks[0]) + np.array(kicks[2])) / 2, atol=1e-6)
    humanised = drum_midi.transcribe(take.samples, SR, bpm=120, options={"quantise": 1, "humanise": True})
    again = drum_midi.transcribe(take.samples, SR, bpm=120, options={"quantise": 1, "humanise": True})
    starts = [n.start for n in humanised if n.pitch == 36]
    assert starts == [n.start for n in again if n.pitch == 36]  # seeded: the same part twice
    assert starts != kicks[2] and np.allclose(starts, kicks[2], atol=0.02)


def test_keep_chooses_the_instruments():
    take = df.render_drums([(0.5, "kick", 110), (0.5, "closed_hat", 100), (1.0, "snare", 110)])
    notes = drum_midi.transcribe(take.samples, SR, options={"keep": "kick,snare"})
    assert sorted({n.pitch for n in notes}) == [36, 38]


@pytest.mark.parametrize(
    "options, reason",
    [
        ({"quantise": 2}, "quantise must be"),
        ({"keep": ["cowbells"]}, "keep must list"),
        ({"division": 5}, "division must be"),
        ({"swing": 1}, "Unknown drum MIDI option"),
    ],
)
def test_bad_options_are_refused_with_a_sentence(options, reason):
    with pytest.raises(ValueError, match=reason):
        drum_midi.clean_options(options)


def test_a_pattern_scores_well_and_the_file_is_a_channel_10_part():
    """The rock pattern (FluidR3_GM, the soundfont the classifier was trained on: not a held-out score, which is
    benchmarks/drums.py's): each hit found with its class within 30 ms."""
    take = df.drum_take(bpm=100, bars=2, style="rock", seed=5)
    notes = drum_midi.transcribe(take.samples, SR)
    classes = {"kick": 36, "snare": 38, "closed_hat": 42, "crash": 49}
    truth = [(h.time, classes[h.label]) for h in take.hits if h.label in classes]
    found = sum(1 for t, pitch in truth if pitch in notes_near(notes, t))
    # 22 of 27 when written: the misses are hats under snares (the snare's own wires hide them) and one soft hat.
    assert found / len(truth) >= 0.8, (found, len(truth))
    assert len(notes) <= len(take.hits) * 1.2

    data = drum_midi.to_midi_bytes(notes, bpm=100)
    song = mido.MidiFile(file=io.BytesIO(data))
    ons = [m for track in song.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert len(ons) == len(notes) and {m.channel for m in ons} == {9}
    assert not [m for track in song.tracks for m in track if m.type == "program_change"]


def test_silence_has_no_notes():
    assert drum_midi.transcribe(np.zeros((2, SR), dtype=np.float32), SR) == []
