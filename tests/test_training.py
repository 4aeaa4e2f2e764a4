"""audio.training: the soundfont reader and labels, the split by source, augmentation, and a --quick run of
the whole training end to end into a temporary folder."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from audio import tagging
from audio.training import augment as aug
from audio.training import render, train
from audio.training.render import Shot

needs_fluidr3 = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not render.FLUIDR3.is_file(), reason="fluidsynth / FluidR3_GM not installed"
)


@needs_fluidr3
def test_the_soundfont_reader_finds_gm_presets_and_labels_drums_by_sample():
    font = render.SoundFont.read(render.FLUIDR3)
    assert (0, 0) in font.presets and (0, 33) in font.presets and (128, 0) in font.presets
    standard = font.presets[(128, 0)]
    name = lambda key: [font.sample_names[s] for s in standard.keys[key]]  # noqa: E731
    assert any("Kick" in n for n in name(36))
    assert render._drum_category(font, 36, standard.keys[36], "name") == "kick"
    assert render._drum_category(font, 42, standard.keys[42], "name") == "hihat_closed"
    # The 808 kit puts its open hat on the pedal key: the sample name wins over the GM key.
    kit808 = font.presets[(128, 25)]
    assert render._drum_category(font, 44, kit808.keys[44], "name") == "hihat_open"
    assert render._drum_category(font, 44, kit808.keys[44], "note") == "hihat_closed"


def test_gm_program_mapping():
    assert render.program_category(0, 33) == "bass"
    assert render.program_category(0, 0) == "keys"
    assert render.program_category(0, 52) == "vocal"
    assert render.program_category(0, 89) == "pad"
    assert render.program_category(0, 81) == "synth_lead"
    assert render.program_category(0, 73) == "brass_wind"
    assert render.program_category(0, 122) == "fx_other"
    assert render.program_category(0, 55) is None
    assert render.program_category(8, 116) == "kick"
    assert {c for c in render.PROGRAM_CATEGORY.values() if c} <= set(tagging.CATEGORIES)
    assert set(render.DRUM_NOTES.values()) <= set(tagging.GROUPS["drums"])


def test_units_sharing_a_sample_share_a_source_within_a_category():
    units = {
        "piano1": ("keys", frozenset({1, 2})),
        "piano2": ("keys", frozenset({2, 3})),
        "epiano": ("keys", frozenset({9})),
        "pad": ("pad", frozenset({3})),  # shares a sample with piano2, but under another label
    }
    sources = render.sample_sources(units)
    assert sources["piano1"] == sources["piano2"] != sources["epiano"]
    assert sources["pad"] != sources["piano2"]


def test_folds_keep_every_source_whole_and_spread_each_category():
    shots = [
        Shot(np.zeros(10, np.float32), c, f"{kind}:{c}{k}")
        for c in ("kick", "pad")
        for kind in ("sf", "synth")
        for k in range(10)
        for _ in range(3)
    ]
    folds = train.assign_folds(shots, 5, seed=1)
    assert set(folds) == {s.source for s in shots}  # one fold per source: its shots are never split up
    for c in ("kick", "pad"):
        for kind in ("sf", "synth"):
            assert sorted(folds[f"{kind}:{c}{k}"] for k in range(10)) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert train.assign_folds(shots, 5, seed=1) == folds
    cfg = train.Config.make(True)
    items, _labels, fold, augmented = train.build_examples(shots, folds, cfg, seed=0)
    assert all(fold[n] == folds[shots[i].source] for n, (i, _) in enumerate(items))
    assert (~augmented).sum() == len(shots)


def test_augmentation_is_deterministic_with_a_seed():
    sr = 22050
    t = np.arange(sr) / sr
    x = (np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t)).astype(np.float32)
    other = (np.random.default_rng(0).standard_normal(sr // 2) * 0.1).astype(np.float32)
    a = aug.augment(x, sr, np.random.default_rng(7), same=[x], other=[other])
    b = aug.augment(x, sr, np.random.default_rng(7), same=[x], other=[other])
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and np.all(np.isfinite(a))
    assert len(aug.pitch_shift(x, 12)) == pytest.approx(len(x) / 2, abs=2)
    assert np.max(np.abs(aug.gain(x, -6))) == pytest.approx(np.max(np.abs(x)) / 2, rel=0.01)
    ir = aug.impulse_response(sr, 0.8, np.random.default_rng(0))
    wet = aug.reverb(x[:2000], sr, ir, 0.5)
    assert len(wet) > 2000  # the tail is kept
    noisy = aug.add_noise(x, 20, np.random.default_rng(0))
    assert 15 < 10 * np.log10(np.mean(x**2) / np.mean((noisy - x) ** 2)) < 25
    cut = aug.truncate(x, sr, keep_seconds=0.2, shave_seconds=0.005)
    assert len(cut) == int(0.2 * sr)
    assert len(aug.layer(x[:100], other, -20)) == len(other)
    filtered = aug.eq(x, sr, [("lowpass", 1000, 0.707, 0.0), ("peak", 220, 1, 6.0)])
    assert filtered.shape == x.shape


@needs_fluidr3
def test_a_quick_run_trains_and_writes_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "model.npz"
    args = ["--quick", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--workers", "1"]
    assert train.main([*args, "--eval-soundfont", "none"]) == 0
    printed = capsys.readouterr().out
    assert "HELD-OUT (cross-validated by source)" in printed and "macro-F1" in printed
    model = tagging.load_model(out)
    assert model.meta["quick"] is True and model.categories == tagging.CATEGORIES
    assert Path(out).stat().st_size < 3 * 1024 * 1024
    x = np.sin(2 * np.pi * 110 * np.arange(22050) / 22050).astype(np.float32)
    p = tagging.classify(x, 22050, model=model)
    assert p.category in tagging.CATEGORIES and p.embedding.shape == (64,)
    assert list(tmp_path.joinpath("cache").glob("render-FluidR3_GM-*.npz"))  # renders are cached
