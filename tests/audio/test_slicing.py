"""audio.slicing: drum hits, vocal phrases and bass notes sliced at their true onsets.

Drums are rendered with FluidSynth from FluidR3_GM (tests/drum_factory.py), which knows each hit's transient to
the frame; vocals and a bass line are synthesised here. The detector's accuracy against the standard
recipes is measured by benchmarks/slicing.py, not here: these tests check behaviour with generous margins.
"""

import itertools
import json

import mir_eval
import numpy as np
import pytest

from audio.slicing import (
    DEFAULT_MAX_LENGTH,
    NORMALISE_DB,
    SOURCES,
    OnsetCurve,
    Slice,
    estimate_pitch,
    note_name,
    onset_curve,
    pick,
    slice_audio,
)
from tests import audio_factory as af
from tests import drum_factory as df

SR = 44100

# ------------------------------------------------------------------------------------------------ material


@pytest.fixture(scope="module")
def funk():
    """Four bars of 16th-note funk at 110 BPM (kick, snare, ghost notes, hats, a crash and a tom fill)."""
    return df.drum_take(110, 4, style="funk", seed=2)


@pytest.fixture(scope="module")
def funk_slices(funk):
    return slice_audio(funk.samples, SR, source="drums")


@pytest.fixture(scope="module")
def funk_curve(funk):
    return onset_curve(funk.samples, SR, source="drums")


_FORMANTS = {"a": (800, 1150, 2900), "e": (400, 1600, 2700), "i": (300, 2300, 3000), "o": (450, 800, 2830)}


def vowel(name: str, seconds: float, f0: float) -> np.ndarray:
    """A sung vowel: harmonics of f0 (with vibrato) shaped by three formants, 20 ms attack, 50 ms release."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.015 * np.sin(2 * np.pi * 5.5 * t))) / SR
    out = np.zeros(n)
    for k in range(1, int(5000 / f0)):
        gain = sum(1 / (1 + ((k * f0 - f) / (60 + 0.05 * f)) ** 2) for f in _FORMANTS[name])
        out += gain / k * np.sin(k * phase)
    attack, release = round(0.02 * SR), round(0.05 * SR)
    out[:attack] *= np.linspace(0, 1, attack) ** 2
    out[-release:] *= np.linspace(1, 0, release) ** 2
    return out


def vocal_take():
    """Three phrases of 2-4 sung syllables (30 ms apart), 0.5 s of near-silence (-75 dBFS noise) between.

    Returns (samples, phrases as (start, end) s, syllable starts).
    """
    phrases = [
        [("a", 0.3, 220), ("e", 0.25, 247), ("o", 0.4, 196)],
        [("i", 0.35, 262), ("a", 0.5, 220)],
        [("o", 0.3, 196), ("a", 0.3, 220), ("e", 0.3, 247), ("i", 0.5, 262)],
    ]
    out = np.zeros(round(6.5 * SR))
    spans, syllables, t = [], [], 0.4
    for phrase in phrases:
        start = t
        for i, (name, seconds, f0) in enumerate(phrase):
            s = round(t * SR)
            v = vowel(name, seconds, f0)
            out[s : s + v.size] += v
            syllables.append(t)
            t += seconds + (0.03 if i < len(phrase) - 1 else 0)
        spans.append((start, t))
        t += 0.5
    out *= 0.5 / np.abs(out).max()
    out += np.random.default_rng(0).standard_normal(out.size) * 10 ** (-75 / 20)
    return out[np.newaxis].astype(np.float32), spans, syllables


def synth_bass(notes: list[tuple[float, float, float]]) -> np.ndarray:
    """(start s, length s, frequency) plucked notes: harmonics, 2 ms attack, exponential decay, 20 ms release."""
    out = np.zeros(round((max(s + n for s, n, _ in notes) + 0.5) * SR))
    for start, length, f in notes:
        n = round(length * SR)
        t = np.arange(n) / SR
        tone = sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 8))
        envelope = np.exp(-t / 0.25)
        attack, release = round(0.002 * SR), round(0.02 * SR)
        envelope[:attack] *= np.linspace(0, 1, attack)
        envelope[-release:] *= np.linspace(1, 0, release)
        s = round(start * SR)
        out[s : s + n] += 0.3 * tone * envelope
    return out[np.newaxis].astype(np.float32)


def f1(reference, estimated, window=0.01) -> float:
    return mir_eval.onset.f_measure(np.asarray(reference), np.sort(np.asarray(estimated)), window=window)[0]


# ---------------------------------------------------------------------------------------------------- drums


def test_the_factory_ground_truth_is_where_the_hits_really_start():
    take = df.one_shot("snare", 110)
    (hit,) = take.hits
    frame = round(hit.time * SR)
    level = np.abs(take.samples).max(axis=0)
    assert level[:frame].max() < level.max() * 10 ** (df.TRANSIENT_DB / 20)
    assert level[frame] >= level.max() * 10 ** (df.TRANSIENT_DB / 20)
    assert 0.001 < hit.time - hit.midi_time < 0.006  # FluidSynth's block scheduling and the sample's lead-in


def test_a_drum_pattern_gives_one_slice_per_hit_starting_just_before_its_transient(funk, funk_slices):
    truth = funk.onsets()
    onsets = [s.onset for s in funk_slices]
    assert f1(truth, onsets) >= 0.9
    matched = mir_eval.util.match_events(truth, np.array(onsets), 0.01)
    assert len(matched) >= 0.9 * len(truth)
    for i, j in matched:
        assert truth[i] - 0.010 <= funk_slices[j].start <= truth[i], (truth[i], funk_slices[j].start)
    assert all(isinstance(s, Slice) for s in funk_slices)
    assert [s.index for s in funk_slices] == list(range(len(funk_slices)))
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(funk_slices))


def test_drum_hits_are_found_through_other_instruments_leaking_in(funk):
    leaky = df.with_leakage(funk, -12.0, seed=2)
    slices = slice_audio(leaky.samples, SR, source="drums")
    assert f1(funk.onsets(), [s.onset for s in slices]) >= 0.9


def test_slices_fade_to_silence_at_both_ends_but_keep_the_attack_untouched(funk, funk_slices):
    for s in funk_slices:
        assert s.samples.dtype == np.float32 and s.samples.shape[0] == 2
        assert np.abs(s.samples[:, 0]).max() < 1e-6
        assert np.abs(s.samples[:, -1]).max() < 1e-6
        a, o = round(s.start * SR), round(s.onset * SR)
        attack = slice(o - a, min(o - a + round(0.02 * SR), s.samples.shape[1] - round(0.01 * SR)))
        original = funk.samples[:, a : a + s.samples.shape[1]]
        np.testing.assert_array_equal(s.samples[:, attack], original[:, attack])  # not one sample attenuated
        assert np.abs(s.samples).max() == pytest.approx(np.abs(original).max(), rel=0.05)  # fades spare the peak
        assert s.peak_db == pytest.approx(20 * np.log10(np.abs(s.samples).max()), abs=0.01)
        assert s.rms_db < s.peak_db and -80 < s.loudness < 0


def test_min_and_max_length_are_respected(funk):
    slices = slice_audio(funk.samples, SR, source="drums", min_length=0.2, max_length=0.3)
    assert slices
    assert all(0.2 - 1e-6 <= s.end - s.start <= 0.3 + 1e-6 for s in slices)
    assert all(0.2 - 1e-6 <= s.duration <= 0.3 + 1e-6 for s in slices)
    assert np.diff([s.onset for s in slices]).min() >= 0.2 - 1e-6
    crash = df.one_shot("crash", 127, tail=4.0)  # rings for seconds
    (only,) = slice_audio(crash.samples, SR, source="drums")
    assert only.duration == pytest.approx(DEFAULT_MAX_LENGTH["drums"], abs=1e-3)
    with pytest.raises(ValueError):
        slice_audio(crash.samples, SR, source="drums", min_length=0.5, max_length=0.4)


def test_a_slice_ends_where_its_hit_falls_below_the_silence_threshold():
    take = df.render_drums([(0.3, "snare", 110), (2.3, "kick", 110)])
    first, second = slice_audio(take.samples, SR, source="drums", silence_db=-50)
    tail = take.samples[:, round(first.end * SR) : round(2.2 * SR)]
    assert 20 * np.log10(np.abs(tail).max()) < -50
    assert first.end < 1.5 and second.onset == pytest.approx(take.hits[1].time, abs=0.002)
    longer, _ = slice_audio(take.samples, SR, source="drums", silence_db=-70)
    assert longer.end > first.end


def test_silence_gives_no_slices():
    assert slice_audio(af.silence(3.0), SR, source="drums") == []
    quiet_noise = af.noise(3.0, amplitude=10 ** (-85 / 20))
    assert slice_audio(quiet_noise, SR, source="drums") == []
    assert slice_audio(quiet_noise, SR, source="vocals") == []
    assert slice_audio(np.zeros((2, 0), np.float32), SR, source="bass") == []
    curve = onset_curve(af.silence(3.0), SR, source="drums")
    assert curve.times.size == 0 and pick(curve, 1.0) == []


# ------------------------------------------------------------------------------------------- vocals and bass


def test_vocals_are_cut_into_phrases_at_the_silences_and_chopped_more_when_more_sensitive():
    samples, phrases, syllables = vocal_take()
    curve = onset_curve(samples, SR, source="vocals")
    slices = slice_audio(samples, SR, source="vocals", curve=curve)
    assert len(slices) == len(phrases)
    for s, (start, end) in zip(slices, phrases, strict=True):
        assert start - 0.03 <= s.start <= start
        assert end - 0.06 <= s.end <= end + 0.05
    chopped = slice_audio(samples, SR, source="vocals", sensitivity=0.75, curve=curve)
    assert len(syllables) <= len(chopped) <= len(syllables) + 3
    starts = np.array([s.onset for s in chopped])
    assert all(np.abs(starts - t).min() < 0.03 for t in syllables)  # every syllable starts a chop


def test_a_bass_line_is_chopped_at_its_notes():
    notes = [(0.5, 0.25, 55.0), (0.8, 0.2, 65.4), (1.1, 0.4, 73.4), (1.6, 0.15, 82.4), (1.9, 0.3, 55.0)]
    slices = slice_audio(synth_bass(notes), SR, source="bass")
    assert len(slices) == len(notes)
    for s, (start, length, _) in zip(slices, notes, strict=True):
        assert start - 0.012 <= s.start <= start
        assert abs(s.onset - start) <= 0.005
        assert s.end <= start + length + 0.02


def test_a_fluidsynth_bass_line_is_chopped_near_its_notes():
    take = df.bass_line(100, 2, seed=3)
    slices = slice_audio(take.samples, SR, source="bass")
    truth = take.onsets()
    assert len(slices) == len(truth)
    assert f1(truth, [s.onset for s in slices], window=0.025) == 1.0


# --------------------------------------------------------------------------------------------- curve & pick


def reference_pick(curve: OnsetCurve, sensitivity: float, min_length: float, silence_db: float = -50.0):
    """The rule as the module docstring states it (what the browser does), written independently."""
    threshold = 1 - sensitivity
    candidates = [
        (float(s), float(t))
        for t, s, lv in zip(curve.times, curve.strengths, curve.levels, strict=True)
        if s >= threshold - 1e-6 and lv >= silence_db
    ]
    accepted: list[float] = []
    for _, t in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if all(abs(t - a) >= min_length for a in accepted):
            accepted.append(t)
    return sorted(accepted)


def test_pick_does_what_the_documented_rule_says(funk_curve):
    for sensitivity in (0.0, 0.3, 0.5, 0.8, 1.0):
        for min_length in (0.02, 0.05, 0.25):
            assert pick(funk_curve, sensitivity, min_length=min_length) == reference_pick(
                funk_curve, sensitivity, min_length
            )


def test_higher_sensitivity_gives_more_onsets(funk):
    curve = onset_curve(df.with_leakage(funk, -12.0, seed=2).samples, SR, source="drums")
    picked = [set(pick(curve, s)) for s in np.linspace(0, 1, 21)]
    assert all(a <= b for a, b in itertools.pairwise(picked))  # each a subset of the next
    assert len(picked[0]) < len(picked[10]) < len(picked[-1])
    assert len(pick(curve, 0.5, min_length=0.3)) < len(picked[10])


def test_the_curve_is_small_enough_for_the_browser_and_pick_reads_it_on_three_minutes(funk):
    reps = int(np.ceil(180 / funk.seconds))
    three_minutes = np.ascontiguousarray(np.tile(funk.samples, (1, reps))[:, : 180 * SR])
    curve = onset_curve(three_minutes, SR, source="drums")
    assert curve.duration == pytest.approx(180.0)
    assert 1000 <= curve.curve.size <= 4000
    assert curve.curve.min() >= 0 and curve.curve.max() == pytest.approx(1.0)
    assert curve.curve.size * curve.curve_hop == pytest.approx(180.0, abs=1.0)
    assert np.all(np.diff(curve.times) > 0) and curve.strengths.min() >= 0 and curve.strengths.max() <= 1
    payload = json.dumps(curve.to_json())
    assert len(payload) < 200_000

    # Moving the sensitivity slider only re-picks from the curve (its speed is in benchmarks/slicing.py): more
    # sensitivity never finds fewer onsets, and every pick is a sorted subset of the curve's candidates.
    counts = []
    for i in range(0, 100, 11):
        onsets = np.asarray(pick(curve, i / 99, min_length=0.05))
        assert np.all(np.diff(onsets) > 0) and np.isin(np.round(onsets, 6), np.round(curve.times, 6)).all()
        counts.append(len(onsets))
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0, counts


# ----------------------------------------------------------------------------------------- options & input


def test_normalise_scales_each_slice_to_the_same_peak(funk):
    slices = slice_audio(funk.samples, SR, source="drums", normalise=True)
    assert all(s.peak_db == pytest.approx(NORMALISE_DB, abs=0.01) for s in slices)
    assert any(abs(s.gain_db) > 3 for s in slices)


def test_slices_can_be_cut_at_given_onsets_and_to_dict_is_json(funk):
    slices = slice_audio(funk.samples, SR, source="drums", onsets=[1.0, 2.0], pre_roll=0.01)
    assert [s.onset for s in slices] == [1.0, 2.0]
    assert slices[0].start == pytest.approx(0.99) and slices[0].end <= slices[1].start
    assert json.loads(json.dumps(slices[0].to_dict()))["onset"] == 1.0


def test_mono_input_and_other_sample_rates():
    from scipy.signal import resample_poly

    take = df.drum_take(120, 2, style="rock", seed=5)
    mono48 = resample_poly(take.mono(), 160, 147).astype(np.float32)  # 1-D, 48 kHz
    slices = slice_audio(mono48, 48000, source="drums")
    assert slices[0].samples.shape[0] == 1 and slices[0].sample_rate == 48000
    assert f1(take.onsets(), [s.onset for s in slices]) >= 0.9


def test_every_source_has_a_strategy_and_unknown_ones_are_refused():
    samples, _, _ = vocal_take()
    for source in SOURCES:
        assert slice_audio(samples, SR, source=source, sensitivity=0.3)
    with pytest.raises(ValueError, match="unknown source"):
        onset_curve(samples, SR, source="kazoo")


# ----------------------------------------------------------------------------------------------------- pitch


def test_pitch_of_a_110_hz_tone_is_a2():
    note, confidence = estimate_pitch(af.tone(110.0, 1.0), SR)
    assert note == "A2" and confidence > 0.8
    assert estimate_pitch(af.tone(41.2, 1.0, channels=2), SR)[0] == "E1"
    assert note_name(440.0) == "A4" and note_name(277.18) == "C#4"


def test_pitch_of_a_rendered_bass_note_and_none_for_noise_and_hats():
    bass = df.render_notes([(0.2, 33, 0.8, 110)], df.FINGER_BASS)  # A1
    assert estimate_pitch(bass.samples, SR)[0] == "A1"
    assert estimate_pitch(af.noise(1.0), SR)[0] is None
    assert estimate_pitch(df.one_shot("closed_hat").samples, SR)[0] is None
    assert estimate_pitch(af.silence(1.0), SR) == (None, 0.0)
