"""audio.tagging with the shipped weights: categories of synthesised and FluidR3-rendered one-shots,
the stem prior, embeddings, speed, and a clear error without weights."""

import shutil
import time

import numpy as np
import pytest
import soundfile as sf

from audio import tagging
from audio.tagging import CATEGORIES, GROUPS, LABELS, ModelMissing, classify, embed, features

SR = 44100
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def sine_kick(f_start=160.0, f_end=48.0, sweep=0.03, decay=0.35, seconds=0.6, sr=SR):
    """A drum-machine kick: a sine whose pitch falls exponentially, with an exponential decay."""
    t = np.arange(int(seconds * sr)) / sr
    freq = f_end + (f_start - f_end) * np.exp(-t / sweep)
    return (np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-6.9 * t / decay)).astype(np.float32)


def saw_pad(note=57, seconds=2.0, sr=SR):
    """Detuned saws with a slow attack: a pad."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 440 * 2 ** ((note - 69) / 12)
    x = sum(2 * ((f0 * d * t) % 1.0) - 1 for d in (0.995, 1.0, 1.006))
    env = np.minimum(t / 0.6, 1.0) * np.minimum(1.0, (seconds - t) / 0.3)
    return (x * env / 3).astype(np.float32)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """FluidR3 one-shots at 44.1 kHz, rendered in one fluidsynth run: {name: mono float32}."""
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    from pathlib import Path

    from audio.training.render import Note, fluidsynth_render, write_midi

    if not Path(FLUIDR3).is_file():
        pytest.skip("FluidR3_GM.sf2 is not installed")
    notes = {
        "snare": Note(128, 0, 38, 110, 0.8, 1.0, "snare", "", drum=True),
        "kick": Note(128, 0, 36, 110, 0.8, 1.0, "kick", "", drum=True),
        "bass": Note(0, 33, 40, 100, 0.8, 1.5, "bass", ""),  # fingered bass, E2
        "bass_low": Note(0, 34, 33, 100, 0.6, 1.2, "bass", ""),  # picked bass, A1
        "pad": Note(0, 89, 60, 90, 1.5, 2.2, "pad", ""),  # warm pad
    }
    tmp = tmp_path_factory.mktemp("tagging")
    starts = write_midi(list(notes.values()), tmp / "notes.mid")
    fluidsynth_render(Path(FLUIDR3), tmp / "notes.mid", tmp / "notes.wav", timeout=60)
    audio, sr = sf.read(tmp / "notes.wav", dtype="float32", always_2d=True)
    assert sr == SR
    out = {}
    for (name, note), start in zip(notes.items(), starts, strict=True):
        seg = audio[round(start * sr) : round((start + note.slot - 0.02) * sr)].T  # (channels, frames)
        out[name] = seg[:, int(np.argmax(np.abs(seg).max(axis=0) > 1e-3)) :]
    return out


def test_the_categories_labels_and_groups_agree():
    assert len(CATEGORIES) == 17 and set(LABELS) == set(CATEGORIES)
    assert LABELS["hihat_closed"] == "Hi-hat closed" and LABELS["brass_wind"] == "Brass/wind"
    assert LABELS["fx_other"] == "FX/other"
    assert sorted(c for g in GROUPS.values() for c in g) == sorted(CATEGORIES)


def test_a_synthesised_sine_sweep_kick_is_a_kick():
    for kick in (sine_kick(), sine_kick(f_start=220, f_end=55, decay=0.25)):
        p = classify(kick, SR)
        assert p.category == "kick", p.top()
        assert p.label == "Kick" and p.group == "drums"
    stereo = np.stack([sine_kick(), sine_kick()])
    assert classify(stereo, SR).category == "kick"
    assert classify(stereo.T, SR).category == "kick"  # (frames, channels) too


def test_a_rendered_snare_is_a_snare_given_the_drums_stem(rendered):
    p = classify(rendered["snare"], SR, source="drums")
    assert p.category == "snare", p.top()
    assert classify(rendered["kick"], SR, source="drums").category == "kick"


def test_a_fluidr3_bass_note_is_bass(rendered):
    for name in ("bass", "bass_low"):
        assert classify(rendered[name], SR).category == "bass", classify(rendered[name], SR).top()
        assert classify(rendered[name], SR, source="bass").category == "bass"


def test_the_drums_prior_never_returns_a_pitched_category(rendered):
    rng = np.random.default_rng(0)
    sounds = [saw_pad(), rendered["pad"], rendered["bass"], rng.standard_normal(SR).astype(np.float32) * 0.1]
    sounds.append(np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32))
    for x in sounds:
        p = classify(x, SR, source="drums")
        assert p.category in GROUPS["drums"]
        assert all(p.probabilities[c] == 0.0 for c in CATEGORIES if c not in GROUPS["drums"])
        assert sum(p.probabilities.values()) == pytest.approx(1.0)
        assert 0 < p.confidence <= 1 and p.confidence == max(p.probabilities.values())
    # Without the prior, the pad is not a drum.
    assert classify(saw_pad(), SR).group != "drums"


def test_other_stems_rule_out_drums_and_unknown_stems_are_refused():
    p = classify(sine_kick(), SR, source="other")
    assert p.category not in GROUPS["drums"]
    assert classify(sine_kick(), SR, source="mix").category == "kick"
    with pytest.raises(ValueError, match="unknown source"):
        classify(sine_kick(), SR, source="drum")


def test_embeddings_are_unit_64d_and_a_kick_is_nearer_a_kick_than_a_pad(rendered):
    a = embed(sine_kick(), SR)
    b = embed(sine_kick(f_start=200, f_end=52, sweep=0.02, decay=0.5), SR)
    for pad in (saw_pad(), rendered["pad"]):
        c = embed(pad, SR)
        assert a @ b > a @ c
    assert a.shape == (64,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert float(embed(rendered["kick"], SR) @ a) > float(embed(rendered["pad"], SR) @ a)
    p = classify(sine_kick(), SR)
    np.testing.assert_allclose(p.embedding, a, atol=1e-6)


def test_the_rate_does_not_change_the_features_much():
    x = sine_kick()
    f44 = features(x, SR)
    f22 = features(tagging.to_analysis_rate(x, SR), tagging.ANALYSIS_SR)
    f48 = features(sine_kick(sr=48000), 48000)
    assert f44.shape == f22.shape == f48.shape == (len(tagging.feature_names()),)
    assert np.max(np.abs(f44 - f22)) < 0.05  # 44.1 kHz goes through the same resampler the training data did
    assert np.corrcoef(f44, f48)[0, 1] > 0.99
    assert classify(sine_kick(sr=48000), 48000).category == classify(x, SR).category == "kick"
    assert np.all(np.isfinite(features(np.zeros(100, np.float32), SR)))  # silence does not divide by zero
    with pytest.raises(ValueError):
        features(np.zeros(0, np.float32), SR)


def test_classify_takes_under_5_ms():
    """The work per call (CPU time, so a busy shared machine does not fail it) and the best wall-clock round.
    At least 3 rounds; more (up to 20) only while no round has met both bounds, since a round that shares the
    CPUs with the other test processes' bursts (ffmpeg, model runs) can take twice its CPU time in wall time."""
    x = np.stack([saw_pad(seconds=1.5)] * 2)
    classify(x, SR)  # warm: weights and tables are loaded once
    rounds = []
    while len(rounds) < 3 or (len(rounds) < 20 and not any(w < 0.010 and c < 0.005 for w, c in rounds)):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(50):
            classify(x, SR, source="other")
        rounds.append(((time.perf_counter() - wall) / 50, (time.process_time() - cpu) / 50))
    assert min(cpu for _, cpu in rounds) < 0.005
    assert min(wall for wall, _ in rounds) < 0.010


def test_missing_weights_say_how_to_make_them(tmp_path, monkeypatch):
    with pytest.raises(ModelMissing, match=r"python -m audio\.training\.train"):
        tagging.load_model(tmp_path / "nope.npz")
    monkeypatch.setattr(tagging, "MODEL_PATH", tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="weights are missing"):
        classify(sine_kick(), SR)


def test_the_shipped_weights_are_small_and_describe_themselves():
    assert tagging.MODEL_PATH.stat().st_size < 3 * 1024 * 1024
    model = tagging.load_model()
    assert model.categories == CATEGORIES
    assert "held_out" in model.meta


def test_a_strict_prior_never_yields_nan_when_the_audio_says_something_else():
    from audio import tagging

    class Certain:
        """A model that is certain (probability exactly 0 elsewhere) the sound is a kick."""

        def forward(self, feats):
            probs = np.zeros((1, len(tagging.CATEGORIES)))
            probs[0, 0] = 1.0
            return probs, np.zeros((1, tagging.EMBEDDING_DIM), dtype=np.float32)

    prediction = tagging.classify(np.zeros(4410, dtype=np.float32), 44100, source="vocals", model=Certain())
    assert prediction.category == "vocal" and 0 < prediction.confidence <= 1
    assert all(np.isfinite(v) for v in prediction.probabilities.values())
