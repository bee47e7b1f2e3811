"""designer/model_float.py: the float32 oracle (bit-exactness with C: tests/test_native.py)."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_examples import classic, msgeq7

from designer import model
from designer.model_float import FloatModel
from designer.quantize import quantize


@pytest.fixture(scope="module")
def qd():
    fs, bands, _ = msgeq7()
    return quantize(bands, fs, "float")


def test_float32_everywhere(qd):
    out = model.run(qd, np.zeros(100, np.int16))
    assert out.y.dtype == np.float32 and out.env.dtype == np.float32
    assert out.y.shape == (100, 7) and not out.led.any()


def test_tone_in_its_band_lights_it(qd):
    t = np.arange(48000) / 48000.0
    x = np.round(8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    out = model.run(qd, x)
    lit = out.led[-4800:] > 0
    assert lit[:, 3].all() and not lit[:, [0, 1, 5, 6]].any()
    peak = np.max(np.abs(out.y[-4800:, 3]))
    assert peak == pytest.approx(8000 / 32768, rel=0.02)


def test_blocks_and_batch(qd):
    rng = np.random.default_rng(2)
    x = rng.integers(-30000, 30000, (2, 2000)).astype(np.int16)
    batch = model.run(qd, x)
    m = FloatModel(qd)
    a, b = m.process(x[1, :700]), m.process(x[1, 700:])
    assert np.array_equal(np.concatenate([a.y, b.y]), batch.y[1])
    assert np.array_equal(np.concatenate([a.led, b.led]), batch.led[1])


def test_rejects_fixed_design():
    fs, bands, ar = classic()
    with pytest.raises(ValueError, match="float design"):
        FloatModel(quantize(bands, fs, ar))
