"""Sample edits: what each does to the sound, measured on synthetic signals, and the refusals."""

import math

import numpy as np
import pytest

from audio import sample_edit as se

SR = 44100


def tone(freq=440.0, seconds=1.0, channels=2, amplitude=0.5):
    t = np.arange(round(seconds * SR)) / SR
    return np.stack([amplitude * np.sin(2 * np.pi * freq * t)] * channels).astype(np.float32)


def pitch_of(x):
    """The frequency of the strongest spectral peak (parabolic interpolation between bins)."""
    mono = x.mean(axis=0) * np.hanning(x.shape[1])
    spectrum = np.abs(np.fft.rfft(mono, 8 * mono.size))
    k = int(np.argmax(spectrum))
    a, b, c = spectrum[k - 1 : k + 2]
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * SR / (8 * mono.size)


def test_no_edit_gives_the_same_samples():
    x = tone()
    y, report = se.apply_edit(x, SR, {})
    np.testing.assert_array_equal(x, y)
    assert report == {"duration": 1.0, "peak_db": pytest.approx(20 * math.log10(0.5), abs=0.01), "gain_db": 0.0,
                      "clipped": False}  # fmt: skip


def test_trim_keeps_exactly_the_region():
    x = np.stack([np.arange(SR, dtype=np.float32) / SR] * 2)
    y, report = se.apply_edit(x, SR, {"start": 0.25, "end": 0.5})
    assert y.shape == (2, SR // 4) and report["duration"] == pytest.approx(0.25)
    np.testing.assert_array_equal(y, x[:, SR // 4 : SR // 2])


def test_reverse_plays_it_backwards():
    x = np.stack([np.linspace(0, 0.9, 1000, dtype=np.float32), np.linspace(0.9, 0, 1000, dtype=np.float32)])
    y, _ = se.apply_edit(x, SR, {"reverse": True})
    np.testing.assert_array_equal(y, x[:, ::-1])


@pytest.mark.parametrize("semitones", [12.0, -7.0, 3.5])
def test_repitch_moves_the_pitch_and_the_length_together(semitones):
    y, report = se.apply_edit(tone(440.0), SR, {"pitch": semitones})
    ratio = 2 ** (semitones / 12)
    assert pitch_of(y) == pytest.approx(440.0 * ratio, rel=0.003)
    assert report["duration"] == pytest.approx(1.0 / ratio, rel=0.002)


def test_keep_length_moves_the_pitch_only():
    y, report = se.apply_edit(tone(440.0), SR, {"pitch": 5.0, "pitch_mode": "keep_length"})
    assert pitch_of(y) == pytest.approx(440.0 * 2 ** (5 / 12), rel=0.01)
    assert y.shape[1] == SR and report["duration"] == 1.0


def test_gain_and_normalise():
    y, report = se.apply_edit(tone(amplitude=0.5), SR, {"gain_db": -6.0})
    assert float(np.abs(y).max()) == pytest.approx(0.5 * 10 ** (-6 / 20), rel=1e-3) and report["gain_db"] == -6.0
    y, report = se.apply_edit(tone(amplitude=0.1), SR, {"normalise": True, "gain_db": 9.0})  # normalise wins
    assert report["peak_db"] == pytest.approx(se.NORMALISE_DB, abs=0.01) and not report["clipped"]
    y, report = se.apply_edit(tone(amplitude=0.9), SR, {"gain_db": 12.0})
    assert report["clipped"] and float(np.abs(y).max()) == 1.0


@pytest.mark.parametrize("curve", se.CURVES)
def test_fades_start_and_end_at_silence_with_their_curve(curve):
    x = np.ones((2, SR), np.float32) * 0.5
    y, _ = se.apply_edit(x, SR, {"fade_in": 0.1, "fade_out": 0.2, "fade_curve": curve})
    n_in, n_out = round(0.1 * SR), round(0.2 * SR)
    assert y[0, 0] == 0.0 and y[0, -1] == 0.0
    assert np.all(np.diff(y[0, :n_in]) >= 0) and np.all(np.diff(y[0, -n_out:]) <= 0)
    np.testing.assert_array_equal(y[:, n_in:-n_out], x[:, n_in:-n_out])  # the middle is untouched
    halfway = y[0, n_in // 2] / 0.5
    expected = {"linear": 0.5, "exponential": 0.25, "logarithmic": math.sqrt(0.5), "s-curve": 0.5}[curve]
    assert halfway == pytest.approx(expected, abs=0.01)


def test_the_order_is_trim_reverse_pitch_level_fades():
    x = np.stack([np.linspace(0.1, 0.8, SR, dtype=np.float32)] * 2)
    y, _ = se.apply_edit(x, SR, {"start": 0.5, "reverse": True, "fade_out": 0.1})
    # Reversed after the trim: it starts at the loudest end, and the fade-out shapes the (quiet) new end.
    assert y[0, 0] == pytest.approx(0.8, abs=1e-4) and y[0, -1] == 0.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"start": -1}, "start must be zero or more seconds"),
        ({"start": 0.5, "end": 0.2}, "end (0.2 s) must come after start (0.5 s)"),
        ({"start": 2.0}, "start (2 s) is past the sample's end (1 s)"),
        ({"end": 1.5}, "end (1.5 s) is past the sample's end (1 s)"),
        ({"fade_in": 0.6, "fade_out": 0.6}, "the fades (0.6 s in, 0.6 s out) are longer than the trimmed sample"),
        ({"pitch": 30}, "pitch must be between -24 and 24 semitones"),
        ({"gain_db": "loud"}, "gain_db must be a number"),
        ({"fade_curve": "cubic"}, "fade_curve must be one of linear, exponential, logarithmic, s-curve"),
        ({"pitch_mode": "granular"}, "pitch_mode must be one of repitch, keep_length"),
        ({"reverse": "maybe"}, "reverse must be true or false"),
        ({"stretch": 2}, "unknown edit 'stretch'"),
        ({"start": 0.99999}, "the trimmed region holds no sound to keep"),
        ("trim", "an edit is a mapping"),
    ],
)
def test_bad_edits_say_what_is_wrong(edit, message):
    with pytest.raises(ValueError) as exc:
        se.apply_edit(tone(), SR, edit)
    assert message in str(exc.value)
