"""audio.analysis: tempo, key, loudness and waveform peaks of synthetic audio."""

import numpy as np
import pytest
from scipy.signal import lfilter

from audio.analysis import analyse, analyse_file, waveform_peaks
from tests import audio_factory as af

# ------------------------------------------------------------------------------------------------- reference


def bs1770_loudness(samples: np.ndarray, sr: int) -> float:
    """Integrated loudness per ITU-R BS.1770-4 / EBU R128 (gated), written independently of Essentia.

    K-weighting = a high shelf then a high pass, designed for any rate from the analogue parameters that
    reproduce the standard's 48 kHz coefficients exactly (Brecht De Man's derivation).
    """
    shelf_k = np.tan(np.pi * 1681.974450955533 / sr)
    q, vh = 0.7071752369554196, 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + shelf_k / q + shelf_k**2
    b1 = np.array([vh + vb * shelf_k / q + shelf_k**2, 2 * (shelf_k**2 - vh), vh - vb * shelf_k / q + shelf_k**2]) / a0
    a1 = np.array([1.0, 2 * (shelf_k**2 - 1) / a0, (1 - shelf_k / q + shelf_k**2) / a0])
    hp_k = np.tan(np.pi * 38.13547087602444 / sr)
    q = 0.5003270373238773
    a0 = 1 + hp_k / q + hp_k**2
    b2 = np.array([1.0, -2.0, 1.0])
    a2 = np.array([1.0, 2 * (hp_k**2 - 1) / a0, (1 - hp_k / q + hp_k**2) / a0])
    weighted = lfilter(b2, a2, lfilter(b1, a1, samples.astype(np.float64), axis=1), axis=1)
    block, hop = round(0.4 * sr), round(0.1 * sr)
    starts = range(0, weighted.shape[1] - block + 1, hop)
    # Channel weights are 1.0 for left and right: the block power is the sum over channels.
    powers = np.array([np.mean(weighted[:, s : s + block] ** 2, axis=1).sum() for s in starts])
    loudness = -0.691 + 10 * np.log10(powers)
    gated = powers[loudness > -70]
    relative_gate = -0.691 + 10 * np.log10(gated.mean()) - 10
    gated = powers[loudness > max(-70, relative_gate)]
    return float(-0.691 + 10 * np.log10(gated.mean()))


# ------------------------------------------------------------------------------------------------------ tempo


def test_it_finds_120_bpm_and_the_beats_of_a_click_track():
    result = analyse(af.click_track(120, 12), af.SR)

    assert result["bpm"] == pytest.approx(120, abs=1)
    beats = np.array(result["beats"])
    assert len(beats) >= 20
    assert np.diff(beats) == pytest.approx(np.full(len(beats) - 1, 0.5), abs=0.02)
    clicks = af.beat_times(120, 12)
    nearest_click = np.abs(beats[:, None] - clicks[None, :]).min(axis=1)
    assert nearest_click.max() < 0.05  # Essentia reports beats some 25-35 ms after the click onsets
    assert all(round(b, 3) == b for b in result["beats"])
    assert result["bpm_confidence"] > 3


@pytest.mark.parametrize("bpm", [90, 140])
def test_it_finds_other_tempi(bpm):
    assert analyse(af.click_track(bpm, 10), af.SR)["bpm"] == pytest.approx(bpm, abs=1)


def test_it_resamples_audio_that_is_not_at_44100():
    result = analyse(af.click_track(120, 10, sr=48000, channels=2), 48000)

    assert result["bpm"] == pytest.approx(120, abs=1)
    assert np.diff(result["beats"]) == pytest.approx(np.full(len(result["beats"]) - 1, 0.5), abs=0.02)


# -------------------------------------------------------------------------------------------------------- key


@pytest.mark.parametrize(
    ("key", "scale"),
    [("A", "minor"), ("C", "major"), ("F#", "minor"), ("D#", "major")],  # sharps, never flats
)
def test_it_finds_the_key_of_a_chord_progression(key, scale):
    result = analyse(af.chord_progression(key, scale, seconds=8, channels=2), af.SR)

    assert (result["key"], result["scale"]) == (key, scale)
    assert result["key_strength"] > 0.8


# --------------------------------------------------------------------------------------------------- loudness


def test_it_measures_integrated_loudness_like_bs1770():
    samples = af.tone(1000, 8, amplitude=10 ** (-14 / 20), channels=2)  # 1 kHz, peak -14 dBFS, both channels
    reference = bs1770_loudness(samples, af.SR)

    result = analyse(samples, af.SR)

    # A stereo 1 kHz sine measures its peak level in dBFS (EBU Tech 3341 case 1: -23 dBFS -> -23 LUFS).
    assert reference == pytest.approx(-14.0, abs=0.1)
    assert result["loudness_lufs"] == pytest.approx(reference, abs=1.0)
    assert result["loudness_lufs"] == pytest.approx(-14.0, abs=0.2)
    assert result["loudness_range"] == pytest.approx(0.0, abs=0.5)


def test_it_measures_the_loudness_of_music_like_bs1770():
    samples = af.chord_progression("A", "minor", seconds=8, channels=2, amplitude=0.3)
    samples[1] *= 0.5  # not the same on both sides
    reference = bs1770_loudness(samples, af.SR)

    assert analyse(samples, af.SR)["loudness_lufs"] == pytest.approx(reference, abs=1.0)


def test_it_plays_mono_on_both_stereo_channels():
    mono = af.tone(1000, 4, amplitude=10 ** (-20 / 20), channels=1)
    stereo = af.tone(1000, 4, amplitude=10 ** (-20 / 20), channels=2)

    assert analyse(mono, af.SR)["loudness_lufs"] == analyse(stereo, af.SR)["loudness_lufs"]
    assert analyse(mono[0], af.SR)["loudness_lufs"] == pytest.approx(-20.0, abs=0.2)  # 1-D is mono too


def test_it_measures_loudness_at_48000():
    samples = af.tone(1000, 4, sr=48000, amplitude=10 ** (-18 / 20), channels=2)

    assert analyse(samples, 48000)["loudness_lufs"] == pytest.approx(bs1770_loudness(samples, 48000), abs=0.2)


# ------------------------------------------------------------------------------------------------- odd audio


def test_it_returns_nothing_for_silence():
    result = analyse(af.silence(6, channels=2), af.SR)

    assert result == {
        "duration": 6.0,
        "bpm": None,
        "bpm_confidence": None,
        "beats": [],
        "key": None,
        "scale": None,
        "key_strength": None,
        "loudness_lufs": None,
        "loudness_range": None,
    }


def test_it_handles_very_quiet_noise_as_silence():
    result = analyse(af.noise(6, amplitude=1e-5), af.SR)

    assert (result["bpm"], result["key"], result["loudness_lufs"]) == (None, None, None)


@pytest.mark.parametrize("seconds", [0.0, 0.001, 0.2, 1.0, 3.0])
def test_it_handles_very_short_audio(seconds):
    result = analyse(af.click_track(120, seconds, channels=2), af.SR)

    assert result["bpm"] is None
    assert result["beats"] == []
    if seconds < 0.4:
        assert result["loudness_lufs"] is None


def test_it_gives_no_tempo_or_key_for_stereo_that_cancels_in_mono():
    samples = af.tone(440, 5, channels=2)
    samples[1] *= -1

    result = analyse(samples, af.SR)

    assert (result["bpm"], result["key"]) == (None, None)
    assert result["loudness_lufs"] == pytest.approx(bs1770_loudness(samples, af.SR), abs=0.2)


def test_it_survives_non_finite_samples():
    samples = af.click_track(120, 6, channels=2)
    samples[:, 1000:1100] = np.nan
    samples[0, 5] = np.inf

    result = analyse(samples, af.SR)

    assert result["bpm"] == pytest.approx(120, abs=1)
    assert np.isfinite(result["loudness_lufs"])


def test_it_rejects_arrays_that_are_not_audio():
    with pytest.raises(ValueError):
        analyse(np.zeros((2, 2, 2)), af.SR)
    with pytest.raises(ValueError):
        analyse(np.zeros((1, 10)), 0)


# ------------------------------------------------------------------------------------------------------ peaks


def test_it_computes_normalised_waveform_peaks():
    samples = np.concatenate(
        [af.tone(100, 2, amplitude=0.8, channels=2), af.tone(100, 2, amplitude=0.2, channels=2)], 1
    )
    samples[1, :] *= 0.5  # the loudest channel counts

    peaks = waveform_peaks(samples, 800)

    assert len(peaks) == 800
    assert max(peaks) == 1.0
    assert min(peaks) >= 0.0
    assert all(round(p, 3) == p for p in peaks)
    assert np.mean(peaks[:400]) == pytest.approx(1.0, abs=0.01)
    assert np.mean(peaks[400:]) == pytest.approx(0.25, abs=0.01)


def test_it_keeps_absolute_peaks_when_asked():
    peaks = waveform_peaks(af.tone(100, 1, amplitude=0.5), 100, normalise=False)

    assert np.mean(peaks) == pytest.approx(0.5, abs=0.01)


def test_it_gives_fewer_peaks_for_very_short_audio():
    assert waveform_peaks(np.array([[0.0, 0.5, -1.0]]), 800) == [0.0, 0.5, 1.0]
    assert waveform_peaks(np.zeros((2, 0)), 800) == []
    assert waveform_peaks(af.silence(1), 50) == [0.0] * 50


def test_it_computes_peaks_of_ten_minutes_from_either_channel():
    samples = np.zeros((2, 600 * af.SR), dtype=np.float32)
    samples[1, 12345] = 0.5

    peaks = waveform_peaks(samples, 800)

    assert len(peaks) == 800
    assert peaks[0] == 1.0
    assert sum(peaks) == 1.0


# ------------------------------------------------------------------------------------------------------ files


def test_it_analyses_a_file(tmp_path):
    samples = af.click_track(120, 10, channels=2) + af.chord_progression("A", "minor", seconds=10, channels=2) * 0.5
    path = af.write(tmp_path / "loop.mp3", samples, fmt="mp3")

    result = analyse_file(path)

    assert result["bpm"] == pytest.approx(120, abs=1)
    assert (result["key"], result["scale"]) == ("A", "minor")
    assert result["duration"] == pytest.approx(10, abs=0.05)
    assert len(result["peaks"]) == 800
    assert result["loudness_lufs"] < 0


def test_it_analyses_the_beginning_of_a_file(tmp_path):
    path = af.write(tmp_path / "mono48.flac", af.click_track(120, 10, sr=48000), 48000, fmt="flac")

    result = analyse_file(path, max_seconds=6, buckets=100)

    assert result["duration"] == pytest.approx(6.0, abs=0.001)
    assert result["bpm"] == pytest.approx(120, abs=1)
    assert len(result["peaks"]) == 100
