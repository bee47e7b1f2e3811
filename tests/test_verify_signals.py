"""host/verify_signals.py: verify's test signals and measurements."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from host_helpers import design

from host import verify_signals as S


class TestBitExactSegments:
    def test_kinds_and_length(self):
        segs = S.bit_exact_segments(19230.769, [800.0, 1050.0, 3850.0, 5000.0], 12000)
        names = [s.name for s in segs]
        for kind in ("impulses", "steps", "chirp", "band-edge tones", "white noise", "full scale"):
            assert kind in names
        assert sum(len(s.samples) for s in segs) >= 12000
        assert all(s.samples.dtype == np.int16 for s in segs)

    def test_full_scale_reaches_both_rails(self):
        segs = {s.name: s.samples for s in S.bit_exact_segments(48000.0, [1000.0], 10000)}
        fs = segs["full scale"]
        assert fs.max() == 32767 and fs.min() == -32768
        assert segs["impulses"].max() == 32767 and segs["impulses"].min() == -32768


class TestToneRange:
    @pytest.mark.parametrize("name,band,lo,hi", [
        ("classic", 0, 20.0, 1600.0),            # low-pass: 20 Hz .. 2 x edge
        ("classic", 2, 2500.0, 0.45 * 19230.769),  # high-pass: edge / 2 .. 0.45 fs
    ])
    def test_rules(self, name, band, lo, hi):
        d = design(name)
        got = S.band_tone_range(d.filters.bands[band], d.sample_rate_hz)
        assert got == pytest.approx((lo, hi), rel=1e-3)

    def test_band_pass_and_top_clamp(self):
        d = design("msgeq7")
        b = d.filters.bands[-1]
        lo, hi = S.band_tone_range(b, d.sample_rate_hz)
        assert lo == pytest.approx(b.edges_hz[0] / 2) and hi == pytest.approx(0.45 * 48000)
        f = S.band_tones(b, d.sample_rate_hz)
        assert len(f) == 12 and np.all(np.diff(np.log(f)) > 0)


class TestMeasurement:
    def test_fit_recovers_tones_with_gaps(self):
        fs, freqs = 8000.0, np.array([100.0, 230.0, 1000.0])
        n = np.arange(4000)
        x = (3.0 * np.cos(2 * np.pi * 100 * n / fs + 0.4) + 0.5 * np.cos(2 * np.pi * 230 * n / fs)
             + 2.0 * np.cos(2 * np.pi * 1000 * n / fs - 1.0) + 7.0)
        keep = np.ones(len(n), bool)
        keep[500:900] = keep[2000:2100] = False  # lost blocks
        a = S.fit_tones(x[keep], freqs, fs, n[keep])
        np.testing.assert_allclose(np.abs(a), [3.0, 0.5, 2.0], rtol=1e-9)
        np.testing.assert_allclose(np.angle(a[[0, 2]]), [0.4, -1.0], atol=1e-9)

    def test_multitone_peak(self):
        x = S.multitone(np.geomspace(50, 5000, 12), 19230.769, 5000)
        assert x.dtype == np.int16 and np.max(np.abs(x)) == S.TONE_PEAK

    def test_settle_follows_the_slowest_pole(self):
        d = design("resonator")
        qd = d.quantized
        narrow = S.settle_samples(qd, 0)  # 82 Hz, 8 Hz wide
        tau = qd.fs / (np.pi * 8.0)       # resonator envelope time constant, samples
        assert narrow > 5 * tau
        classic = design("classic").quantized
        # the two designs run at different rates: compare settling times in seconds
        assert S.settle_samples(classic, 2) / classic.fs < narrow / qd.fs

    def test_led_rules(self):
        d = design("classic")
        bass, fs = d.filters.bands[0], d.sample_rate_hz
        assert S.designed_on(bass, 300, fs) and not S.designed_on(bass, 1500, fs)
        assert S.near_edge(bass, 820) and not S.near_edge(bass, 900)


class TestLedBandTone:
    """The "LED per band" stage's tone: where the band is clearly on and no LED is excused."""

    @pytest.mark.parametrize("name", ["classic", "learned", "resonator", "msgeq7"])
    def test_each_band_alone_is_lit(self, name):
        d = design(name)
        bands, fs = d.filters.bands, d.sample_rate_hz
        for band in bands:
            tone = S.led_band_tone(band, bands, fs)
            assert tone is not None, band.name
            f = tone.freq_hz
            assert S.LOW_PASS_FLOOR_HZ <= f < S.TOP_FRACTION * fs
            assert [S.designed_on(b, f, fs) for b in bands] == [b is band for b in bands]
            assert not any(S.near_edge(b, f) for b in bands if b is not band)
            assert tone.strict == S.near_edge(band, f)

    def test_log_middles_of_the_classic_passbands(self):
        d = design("classic")
        (bass, mid, treble), fs = d.filters.bands, d.sample_rate_hz
        got = [S.led_band_tone(b, d.filters.bands, fs).freq_hz for b in (bass, mid, treble)]
        want = [np.sqrt(20 * bass.edges_hz[0]), np.sqrt(mid.edges_hz[0] * mid.edges_hz[1]),
                np.sqrt(treble.edges_hz[0] * 0.45 * fs)]
        np.testing.assert_allclose(got, want, atol=0.05)
        # the QA finding: no tone of the 300..1500 Hz table lights treble
        assert not any(S.designed_on(treble, f, fs) for f in range(300, 1501, 200))

    def test_a_table_tone_that_lights_the_band_clearly_comes_first(self):
        d = design("classic")
        bands, fs = d.filters.bands, d.sample_rate_hz
        table = tuple(range(300, 1501, 200))
        got = [S.led_band_tone(b, bands, fs, table) for b in bands]
        # nearest the band's log middle: bass 300 (middle 126), mid 1500 (middle 2012)
        assert [t.freq_hz for t in got[:2]] == [300.0, 1500.0]
        assert got[2] == S.led_band_tone(bands[2], bands, fs)  # none lights treble
        # 1100 Hz lights mid but lies within 5 % of its lower edge (1052 Hz): a new tone
        assert S.led_band_tone(bands[1], bands, fs, (1100,)).freq_hz == pytest.approx(2012.1)

    def test_a_middle_near_another_bands_edge_moves(self):
        d = design("classic")
        bass, mid, treble = d.filters.bands
        fs = d.sample_rate_hz
        mid_126 = dataclasses.replace(mid, edges_hz=(126.0, *mid.edges_hz))
        tone = S.led_band_tone(bass, (bass, mid_126, treble), fs)
        assert abs(tone.freq_hz - 126.0) > 0.05 * 126.0 and not tone.strict
        assert 20 <= tone.freq_hz <= bass.edges_hz[0] and S.designed_on(bass, tone.freq_hz, fs)

    def test_a_narrow_resonator_is_scored_at_its_peak(self):
        d = design("resonator")
        e2 = d.filters.bands[0]  # 8 Hz wide at 82 Hz: every point is within 5 % of an edge
        tone = S.led_band_tone(e2, d.filters.bands, d.sample_rate_hz)
        assert tone.strict and abs(tone.freq_hz - 82.41) < 1.0
        assert S.designed_magnitude(e2, tone.freq_hz, d.sample_rate_hz) > 10 ** (-1 / 20)

    def test_no_tone_when_another_edge_covers_the_band(self):
        d = design("resonator")
        e2, a2 = d.filters.bands[:2]
        a2_82 = dataclasses.replace(a2, edges_hz=(82.2, *a2.edges_hz))
        assert S.led_band_tone(e2, (e2, a2_82), d.sample_rate_hz) is None
