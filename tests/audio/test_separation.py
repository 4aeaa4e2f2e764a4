"""audio.separation: separating real files with tiny (random-weight) Demucs models.

The models' outputs are meaningless, so these tests check what the engine is responsible for: that it computes
exactly what demucs' apply_model computes, file formats, rates, lengths, stems, progress, memory-bounded
streaming and errors. They never assert separation quality (e.g. that stems sum to the mix).
"""

import itertools
import random

import numpy as np
import pytest
import soundfile as sf
import torch

from audio import weights
from audio.audio_io import AudioError
from audio.separation import _Engine, _resample_array, _Resampler, separate, stem_names
from tests import audio_factory as af
from tests import model_factory as mf

SECONDS = 5
FOUR = ["drums", "bass", "other", "vocals"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models are dominated by thread start-up and contention: one thread is faster and steadier."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    mf.make_tiny_htdemucs(root, "htdemucs")
    mf.make_tiny_htdemucs(root, "htdemucs_6s")
    return root


@pytest.fixture(scope="module")
def model(store):
    return weights.load_demucs("htdemucs", store, "cpu")


def music(seconds=SECONDS, sr=44100, seed=0):
    """Stereo chords with a little noise, different in each channel."""
    chords = af.chord_progression("C", "major", seconds=seconds, sr=sr, channels=2)
    rng = np.random.default_rng(seed)
    return (0.6 * chords + 0.02 * rng.standard_normal(chords.shape)).astype(np.float32)


def direct(model, mix, **kwargs):
    """What demucs' own `separate` computes: normalise, apply_model over the whole track, denormalise."""
    from demucs.apply import apply_model

    x = torch.from_numpy(np.ascontiguousarray(mix))
    ref = x.mean(0)
    out = apply_model(model, ((x - ref.mean()) / ref.std())[None], split=True, progress=False, **kwargs)[0]
    return (out * ref.std() + ref.mean()).numpy()


class same_shifts:
    """Makes the shift trick draw the same offsets in separate() and in apply_model.

    Both draw them with random.randint, but at different moments (separate plans its passes up front, apply_model
    runs one pass before drawing the next), and the model itself consumes `random` (demucs' transformer calls
    random.randrange on every forward), so seeding alone would give them different offsets.
    """

    def __init__(self, monkeypatch):
        self.values = [0, 22050, 7001, 13, 16000, 22049, 3, 11111]
        self.drawn = 0
        self.position = 0
        monkeypatch.setattr(random, "randint", self.randint)

    def randint(self, lo, hi):
        assert (lo, hi) == (0, 22050)
        value = self.values[self.position % len(self.values)]
        self.position += 1
        self.drawn += 1
        return value

    def rewind(self):
        self.position = 0


def read_stems(paths, names):
    return np.stack([sf.read(paths[name], dtype="float32", always_2d=True)[0].T for name in names])


# ------------------------------------------------------------------------------------------------ the engine


@pytest.mark.parametrize(
    ("shifts", "overlap", "seconds"),
    [(0, 0.25, SECONDS), (0, 0.5, 9.3), (1, 0.25, SECONDS), (2, 0.1, 3.1)],
)
def test_it_computes_what_apply_model_computes(model, tmp_path, monkeypatch, shifts, overlap, seconds):
    mix = music(seconds)
    offsets = same_shifts(monkeypatch)
    paths = separate(
        mix, model=model, sample_rate=44100, shifts=shifts, overlap=overlap, out_dir=tmp_path, out_format="wav-float"
    )
    offsets.rewind()
    want = direct(model, mix, shifts=shifts, overlap=overlap)
    assert offsets.drawn == 2 * shifts
    got = read_stems(paths, FOUR)
    assert got.shape == want.shape == (4, 2, mix.shape[1])
    # Observed: <= 3e-8 (float32 rounding: weights are divided before summing instead of after).
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_a_bag_of_four_models_matches_apply_model(store, tmp_path, monkeypatch):
    mf.make_tiny_htdemucs(tmp_path, "htdemucs_ft")
    bag = weights.load_demucs("htdemucs_ft", tmp_path, "cpu")
    mix = music(3)
    offsets = same_shifts(monkeypatch)
    got = read_stems(
        separate(mix, model=bag, sample_rate=44100, out_dir=tmp_path / "out", out_format="wav-float"), FOUR
    )
    offsets.rewind()
    np.testing.assert_allclose(got, direct(bag, mix, shifts=1), rtol=0, atol=1e-6)
    assert offsets.drawn == 8


def test_the_output_is_streamed_in_blocks_no_longer_than_a_segment(model):
    mix = music(20)
    segment_frames = int(model.samplerate * model.models[0].segment)
    for shifts in (0, 2):
        engine = _Engine(model, mix, 0.0, 1.0, shifts=shifts, overlap=0.25, segment=None, device="cpu")
        sizes = [block.shape[-1] for block in engine.run(None)]
        assert sum(sizes) == mix.shape[1]
        assert len(sizes) >= 20 / float(model.models[0].segment)
        assert max(sizes) <= segment_frames


def test_a_shorter_segment_is_honoured_and_a_longer_one_refused(model, tmp_path):
    mix = music(3)
    got = read_stems(
        separate(mix, model=model, sample_rate=44100, shifts=0, segment=0.5, out_dir=tmp_path, out_format="wav-float"),
        FOUR,
    )
    np.testing.assert_allclose(got, direct(model, mix, shifts=0, segment=0.5), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="segment must be > 0 and at most 2 s"):
        separate(mix, model=model, sample_rate=44100, segment=2.5, out_dir=tmp_path)


# ----------------------------------------------------------------------------------------------- files


def test_it_separates_a_wav_file_into_24_bit_flac_stems(model, tmp_path):
    mix = music()
    path = af.write(tmp_path / "song.wav", mix, 44100, "wav", bit_depth=16)
    progress = []

    paths = separate(path, model=model, shifts=1, out_dir=tmp_path / "stems", progress=progress.append)

    assert list(paths) == FOUR
    for name, stem in paths.items():
        assert stem == tmp_path / "stems" / f"{name}.flac"
        info = sf.info(stem)
        assert (info.format, info.subtype, info.samplerate, info.channels) == ("FLAC", "PCM_24", 44100, 2)
        assert info.frames == mix.shape[1]
        data, _ = sf.read(stem, dtype="float32")
        assert np.isfinite(data).all() and np.abs(data).max() > 0
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == sorted(f"{n}.flac" for n in FOUR)
    assert progress[-1] == 1.0 and progress.count(1.0) == 1
    assert all(0 <= a <= b <= 1 for a, b in itertools.pairwise(progress))
    assert len(progress) > 3


def test_a_48k_file_gets_48k_stems_of_exactly_its_length(model, tmp_path):
    mix = music(sr=48000)[:, :-17]  # a length that is not a whole number of resampling blocks
    path = af.write(tmp_path / "song.flac", mix, 48000, "flac", bit_depth=24)
    paths = separate(path, model=model, shifts=0, out_dir=tmp_path / "stems", out_format="wav")
    for stem in paths.values():
        info = sf.info(stem)
        assert (info.format, info.subtype, info.samplerate, info.frames) == ("WAV", "PCM_24", 48000, mix.shape[1])

    # Resampling around the model is demucs' own filter (julius), so the result is the model run at 44.1 kHz on
    # the resampled input, resampled back.
    import julius

    at_model_rate = julius.resample_frac(
        torch.from_numpy(mix), 48000, 44100, output_length=round(mix.shape[1] * 44100 / 48000)
    )
    want = julius.resample_frac(
        torch.from_numpy(direct(model, at_model_rate.numpy(), shifts=0)),
        44100,
        48000,
        output_length=mix.shape[1],
        full=False,
    )
    got = read_stems(separate(path, model=model, shifts=0, out_dir=tmp_path / "f", out_format="wav-float"), FOUR)
    # Observed: 3e-7 (julius computes its kernels in float32, the engine in float64).
    np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-5)


def test_two_stems_are_the_source_and_the_sum_of_the_others(model, tmp_path):
    mix = music(3)
    four = read_stems(
        separate(mix, model=model, sample_rate=44100, shifts=0, out_dir=tmp_path / "4", out_format="wav-float"), FOUR
    )
    paths = separate(
        mix,
        model=model,
        sample_rate=44100,
        shifts=0,
        two_stems="vocals",
        out_dir=tmp_path / "2",
        out_format="wav-float",
    )
    assert list(paths) == ["vocals", "no_vocals"] == stem_names(model, "vocals")
    assert [p.name for p in paths.values()] == ["vocals.wav", "no_vocals.wav"]
    two = read_stems(paths, ["vocals", "no_vocals"])
    np.testing.assert_allclose(two[0], four[3], rtol=0, atol=1e-6)
    np.testing.assert_allclose(two[1], four[0] + four[1] + four[2], rtol=0, atol=1e-6)


def test_a_six_source_model_writes_six_stems(store, tmp_path):
    six = weights.get_model("demucs", "htdemucs_6s", store, "cpu")
    paths = separate(music(3), model=six, sample_rate=44100, shifts=0, out_dir=tmp_path)
    assert list(paths) == [*FOUR, "guitar", "piano"] == stem_names(six)
    assert {sf.info(p).frames for p in paths.values()} == {3 * 44100}
    assert list(separate(music(3), model=six, sample_rate=44100, shifts=0, two_stems="guitar", out_dir=tmp_path)) == [
        "guitar",
        "no_guitar",
    ]


def test_mono_and_short_input(model, tmp_path):
    mono = music(2)[0]
    paths = separate(mono, model=model, sample_rate=22050, shifts=0, out_dir=tmp_path, out_format="wav-float")
    data, rate = sf.read(paths["bass"], dtype="float32")
    assert rate == 22050 and data.shape == (mono.shape[0], 2) and np.isfinite(data).all()
    paths = separate(music(1)[:, :300], model=model, sample_rate=44100, shifts=1, out_dir=tmp_path / "s")
    assert {sf.info(p).frames for p in paths.values()} == {300}


def test_silence_does_not_divide_by_zero(model, tmp_path):
    paths = separate(np.zeros((2, 44100), np.float32), model=model, sample_rate=44100, shifts=0, out_dir=tmp_path)
    assert all(np.isfinite(sf.read(p)[0]).all() for p in paths.values())


def test_a_model_given_by_name_is_checked_before_the_audio(store, tmp_path):
    with pytest.raises(weights.ModelNotInstalled, match="model htdemucs_ft is not installed: run python manage"):
        separate(tmp_path / "not-even-there.wav", model="htdemucs_ft", model_dir=store, out_dir=tmp_path)
    paths = separate(music(2), model="htdemucs", model_dir=store, sample_rate=44100, shifts=0, out_dir=tmp_path)
    assert list(paths) == FOUR


# ---------------------------------------------------------------------------------------------- errors


def test_bad_audio_is_an_audio_error(model, tmp_path):
    with pytest.raises(AudioError, match="not audio we can read"):
        separate(af.text_as_mp3(tmp_path / "notes.mp3"), model=model, out_dir=tmp_path / "a")
    with pytest.raises(AudioError, match="no audio"):
        separate(np.zeros((2, 0), np.float32), model=model, sample_rate=44100, out_dir=tmp_path / "b")
    broken = music(1)
    broken[1, 500] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        separate(broken, model=model, sample_rate=44100, out_dir=tmp_path / "c")
    assert not any((tmp_path / d).exists() and any((tmp_path / d).iterdir()) for d in "abc")


def test_bad_arguments_are_refused(model, tmp_path):
    mix = music(1)
    cases = [
        ({"sample_rate": None}, "sample_rate is required"),
        ({"two_stems": "guitar"}, r"two_stems must be one of the model's sources \(drums, bass, other, vocals\)"),
        ({"out_format": "mp3"}, "out_format must be one of flac, wav, wav-float"),
        ({"shifts": -1}, "shifts must be"),
        ({"overlap": 1.0}, "overlap must be"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            separate(mix, **{"model": model, "sample_rate": 44100, "out_dir": tmp_path, **kwargs})
    with pytest.raises(ValueError, match=r"shaped \(channels, frames\)"):
        separate(np.zeros((5, 100), np.float32), model=model, sample_rate=44100, out_dir=tmp_path)
    with pytest.raises(ValueError, match="model_dir is required"):
        separate(mix, model="htdemucs", sample_rate=44100, out_dir=tmp_path)


def test_a_failure_midway_leaves_no_files(model, tmp_path):
    def interrupt(fraction):
        if fraction > 0.3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        separate(music(), model=model, sample_rate=44100, out_dir=tmp_path, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ resampling


@pytest.mark.parametrize(("old", "new"), [(44100, 48000), (48000, 44100), (44100, 22050), (8000, 44100)])
def test_the_resampler_is_julius_filter_whatever_the_blocks(old, new):
    import julius

    x = np.random.default_rng(0).standard_normal((2, 20_000)).astype(np.float32)
    whole = _resample_array(x, old, new)
    want = julius.resample_frac(torch.from_numpy(x), old, new).numpy()
    assert whole.shape[1] == round(x.shape[1] * new / old)
    n = min(whole.shape[1], want.shape[1])
    np.testing.assert_allclose(whole[:, :n], want[:, :n], rtol=0, atol=1e-4)  # observed 4e-5 (float32 kernels)

    resampler = _Resampler(old, new, whole.shape[1])
    pieces, pos = [], 0
    for step in (1, 7, 999, 3, 5000, 20_000):
        pieces.append(resampler.push(torch.from_numpy(x[:, pos : pos + step].copy())))
        pos += step
    pieces.append(resampler.finish())
    streamed = torch.cat([p for p in pieces if p.numel()], dim=1).numpy()
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-6)


def test_the_resampler_handles_unusual_rate_pairs_without_a_huge_kernel(monkeypatch):
    x = af.tone(1000, seconds=0.5, sr=44056, channels=2)
    y = _resample_array(x, 44056, 44100)  # gcd 4: 11014 -> 11025 phases
    t = np.arange(y.shape[1]) / 44100
    inside = slice(500, -500)
    np.testing.assert_allclose(y[0, inside], 0.5 * np.sin(2 * np.pi * 1000 * t[inside]), atol=1e-3)
    # The per-phase path (used there) and the convolution path (used for common pairs) agree.
    x = music(1)
    dense = _resample_array(x, 44100, 48000)
    monkeypatch.setattr(_Resampler, "MAX_DENSE_KERNEL", 0)
    np.testing.assert_allclose(_resample_array(x, 44100, 48000), dense, rtol=0, atol=1e-5)
