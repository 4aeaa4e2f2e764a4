"""The mix-down: gain and pan per stem, summed block by block."""

import math

import numpy as np
import pytest
import soundfile as sf

from audio.mixing import mix_stems, pan_gains

SR = 44100


def write(path, left, right=None):
    data = np.stack([left, left if right is None else right], axis=1).astype(np.float32)
    sf.write(path, data, SR, subtype="FLOAT")
    return path


def test_pan_is_a_constant_power_balance():
    assert pan_gains(0.0) == (1.0, 1.0)
    assert pan_gains(1.0) == pytest.approx((0.0, 1.0), abs=1e-12)
    assert pan_gains(-1.0) == pytest.approx((1.0, 0.0), abs=1e-12)
    left, right = pan_gains(0.5)
    assert right == 1.0 and left == pytest.approx(math.cos(math.pi / 4))
    with pytest.raises(ValueError, match="pan must be between -1"):
        pan_gains(1.5)


def test_gains_and_pans_shape_the_sum(tmp_path):
    a = write(tmp_path / "a.wav", np.full(1000, 0.2))
    b = write(tmp_path / "b.wav", np.full(500, 0.1))
    out = tmp_path / "mix.wav"
    info = mix_stems([a, b], out, gains=[0.5, 2.0], pans=[-1.0, 0.0], subtype="FLOAT")
    mix, rate = sf.read(out, dtype="float32", always_2d=True)
    assert (info["frames"], rate, mix.shape) == (1000, SR, (1000, 2))
    np.testing.assert_allclose(mix[:500, 0], 0.2 * 0.5 + 0.1 * 2.0, atol=1e-6)  # a fully left, b centred
    np.testing.assert_allclose(mix[:500, 1], 0.0 + 0.1 * 2.0, atol=1e-6)
    np.testing.assert_allclose(mix[500:, 1], 0.0, atol=1e-6)  # b is shorter: silence after it
    assert info["peak"] == pytest.approx(0.3, abs=1e-6)
    with pytest.raises(ValueError, match="one gain and one pan per stem"):
        mix_stems([a, b], out, pans=[0.0])
