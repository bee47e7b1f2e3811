"""designer/native.py: the host-built C core, bit-exact with the Python oracle (``bit_exact``)."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest
from conftest import require_tool
from dsp_examples import (
    EXAMPLES,
    classic,
    drum_loop,
    edges_hz,
    random_biquads,
    rc_highpass,
    rc_lowpass,
    resonator,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from designer import model
from designer.errors import DesignerError, QuantizationError
from designer.quantize import BandSpec, quantize

STREAM = 5000


@pytest.fixture(autouse=True)
def _gcc():
    require_tool("gcc")


def make_signals(fs: float, bands: list[BandSpec], n_streams: int, seed: int = 0) -> np.ndarray:
    """(n_streams, STREAM) int16 test inputs: impulses, steps, full-scale squares at the band
    edges, chirps, white noise, +-32767 extremes, tones, drum loop pieces."""
    rng = np.random.default_rng(seed)
    t = np.arange(STREAM) / fs
    edges = np.concatenate([edges_hz(b.sos, fs) for b in bands] + [[50.0, 1000.0]])
    drums, *_ = drum_loop(fs, bars=2, seed=seed)
    out = np.empty((n_streams, STREAM))
    for i in range(n_streams):
        kind = i % 8
        amp = 32767 * 10 ** (-rng.uniform(0, 40) / 20)
        if kind == 0:  # impulses of random sign and height
            x = np.zeros(STREAM)
            idx = rng.integers(0, STREAM, 6)
            x[idx] = rng.choice([-32768, 32767, -amp, amp], 6)
        elif kind == 1:  # steps
            x = np.where(t > rng.uniform(0, t[-1]), amp, -amp * rng.uniform(0, 1))
        elif kind == 2:  # full-scale square at a band edge
            f = rng.choice(edges)
            x = np.where(np.sin(2 * np.pi * f * t) >= 0, 32767, -32768)
        elif kind == 3:  # chirp over the whole band
            x = amp * signal.chirp(t, 20, t[-1], 0.45 * fs, method="logarithmic")
        elif kind == 4:  # white noise, sometimes clipping
            x = rng.standard_normal(STREAM) * amp * 2
        elif kind == 5:  # extremes
            x = rng.choice([-32768, 32767, 0], STREAM)
        elif kind == 6:  # tone
            x = amp * np.sin(2 * np.pi * rng.uniform(30, 0.45 * fs) * t + rng.uniform(0, 6))
        else:  # a piece of the drum loop
            start = rng.integers(0, max(1, drums.size - STREAM))
            x = drums[start:start + STREAM].astype(float)
            x = np.pad(x, (0, STREAM - x.size))
        out[i] = x
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def _compare(qd, x: np.ndarray, params=None) -> int:
    """C (stream by stream, each from reset) against the batched oracle; returns samples."""
    from designer.native import NativeCore

    core = NativeCore(qd, params)
    ref = model.run(qd, x, params)
    for s in range(x.shape[0]):
        out = core.process(x[s])
        for name in ("y", "env", "led"):
            got, want = getattr(out, name), getattr(ref, name)[s]
            if not np.array_equal(got, want):
                i, b = np.argwhere(got != want)[0]
                raise AssertionError(f"stream {s} {name}[{i}, band {b}]: C {got[i, b]} "
                                     f"!= model {want[i, b]}")
    return x.size


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_bit_exact_examples(name):
    """At least 10^6 samples per example design, C against the oracle, y/env/led identical."""
    fs, bands, ar = EXAMPLES[name]()
    qd = quantize(bands, fs, ar)
    n = _compare(qd, make_signals(fs, bands, 200, seed=len(name)))
    assert n >= 1_000_000


def test_bit_exact_long_stream_in_blocks():
    """State carries across process(reset=False) blocks exactly like one long run."""
    from designer.native import NativeCore

    fs, bands, ar = EXAMPLES["esp32c3"]()
    qd = quantize(bands, fs, ar)
    x, *_ = drum_loop(fs, bars=2)
    x = x[:60000]
    core = NativeCore(qd)
    whole = core.process(x)
    parts = [core.process(x[:1234])] + [core.process(x[i:i + 20000], reset=False)
                                        for i in range(1234, x.size, 20000)]
    for name in ("y", "env", "led"):
        assert np.array_equal(np.concatenate([getattr(p, name) for p in parts]),
                              getattr(whole, name))
    ref = model.run(qd, x)
    assert np.array_equal(whole.y, ref.y) and np.array_equal(whole.led, ref.led)
    assert np.array_equal(whole.env, ref.env)


def test_bit_exact_with_parameters():
    fs, bands, ar = classic()
    qd = quantize(bands, fs, ar)
    p = {"hold_ms": 120, "agc": 0, "gain": 700, "release_ms": 200, "attack_ms": 0,
         "on_threshold": 20000, "off_threshold": 18000}
    _compare(qd, make_signals(fs, bands, 16, seed=3), p)


def test_model_scalar_equals_batch():
    fs, bands, ar = classic()
    qd = quantize(bands, fs, ar)
    x = make_signals(fs, bands, 3, seed=9)[:, :3000]
    batch = model.run(qd, x)
    for s in range(3):
        single = model.run(qd, x[s])
        assert np.array_equal(single.y, batch.y[s]) and np.array_equal(single.led, batch.led[s])


# ----------------------------------------------------------------- random designs (hypothesis)

@st.composite
def random_design(draw):
    fs = draw(st.sampled_from([8000.0, 16e6 / 64 / 13, 44100.0, 48000.0]))
    n_bands = draw(st.integers(1, 3))
    bands = []
    for b in range(n_bands):
        rows = []
        for _ in range(draw(st.integers(1, 2))):
            kind = draw(st.sampled_from(["lp", "hp", "res", "bq"]))
            f = draw(st.floats(0.002, 0.4)) * fs
            if kind == "lp":
                rows.append(rc_lowpass(f, fs)[0])
            elif kind == "hp":
                rows.append(rc_highpass(f, fs)[0])
            elif kind == "res":
                rows.append(resonator(f, fs, r=draw(st.floats(0.5, 0.9995)))[0])
            else:
                z = draw(st.sampled_from([[1, 2, 1], [1, -2, 1], [1, 0, -1], [1, -0.7, 0.3]]))
                r, th = draw(st.floats(0.3, 0.999)), 2 * np.pi * f / fs
                a = [1.0, -2 * r * np.cos(th), r * r]
                g = draw(st.floats(0.01, 1.0))
                rows.append(np.array([g * z[0], g * z[1], g * z[2], *a]))
        sos = np.array(rows)
        bands.append(BandSpec(f"b{b}", sos, (0.01 * fs, 0.45 * fs)))
    return fs, bands, draw(st.sampled_from(["fixed", "float"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_design(), st.integers(0, 2**31))
def test_bit_exact_random_designs(design, seed):
    fs, bands, ar = design
    try:
        qd = quantize(bands, fs, ar)
    except QuantizationError as e:
        assert "band '" in str(e)  # refusals name the band
        return
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.integers(-32768, 32768, (2, 1500)),
                        np.tile(np.repeat([32767, -32768], 37), 21)[None, :1500].repeat(2, 0)],
                       axis=0).astype(np.int16)
    _compare(qd, x)


@pytest.mark.parametrize("seed", range(40))
def test_bit_exact_random_biquad_constants(seed):
    """Biquads with random constants anywhere in organ_dsp.h's limits (mantissas of 1..3
    bytes, both signs, every shift, structured and general numerators): the portable C of the
    generated step and the oracle agree, wrap-around included."""
    qd = random_biquads(seed)
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.integers(-32768, 32768, (2, 1500)),
                        np.tile(np.repeat([32767, -32768], 29), 26)[None, :1500].repeat(2, 0)],
                       axis=0).astype(np.int16)
    _compare(qd, x)


# ----------------------------------------------------------------- the library and its cache

def _build_in(cache: str, hold: int) -> str:
    os.environ["COLOR_ORGAN_CACHE"] = cache
    from designer import native

    fs, bands, ar = classic()
    return str(native.build(quantize(bands, fs, ar, params={"hold_ms": hold})))


def test_cache_reuse_and_concurrent_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("COLOR_ORGAN_CACHE", str(tmp_path))
    from designer import native

    fs, bands, ar = classic()
    qd = quantize(bands, fs, ar, params={"hold_ms": 7})
    first = native.build(qd)
    mtime = first.stat().st_mtime_ns
    assert native.build(qd) == first and first.stat().st_mtime_ns == mtime
    assert first.parent == tmp_path / "native"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        paths = pool.starmap(_build_in, [(str(tmp_path), 11), (str(tmp_path), 11)])
    assert paths[0] == paths[1] and os.path.exists(paths[0])
    assert not [p for p in (tmp_path / "native").iterdir() if p.name.startswith(".build-")]


def test_process_arguments_and_parameters():
    from designer.native import NativeCore

    fs, bands, ar = classic()
    core = NativeCore(quantize(bands, fs, ar), {"hold_ms": 50})
    assert core.get_param("hold_ms") == 50
    with pytest.raises(ValueError, match="one-dimensional"):
        core.process(np.zeros((2, 10), np.int16))
    with pytest.raises(ValueError, match="int16"):
        core.process(np.array([40000]))
    with pytest.raises(DesignerError, match="refused"):
        core.set_params({"hold_ms": 99999})
    out = core.process(np.zeros(100, np.int16))
    assert out.y.shape == (100, 3) and out.y.dtype == np.int16 and not out.led.any()
