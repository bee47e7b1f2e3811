"""The bit-exact Python oracle of the DSP core (fixed point here, float32 in ``model_float``).

Every line mirrors ``organ_dsp_fixed.h``; ``tests/test_native.py`` holds the C core and this model
to identical ``y``, ``env`` and ``led`` on millions of samples. The model runs a batch of
independent streams in lockstep (numpy, one step per sample across all streams), so a long test
can be split into many streams; a single stream runs the same code on Python ints.

``run(qd, samples, params)`` is the one-call entry; ``Model`` keeps state between blocks;
``band_output(qd, band, samples)`` is one band's filter output alone, ~4x faster.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from designer import params as params_mod
from designer.qdesign import Outputs, QuantizedDesign

M32 = 0xFFFFFFFF
GAMMA17 = (0, 1, 3, 6, 12, 20, 29, 41, 55, 72, 91, 112, 135, 161, 190, 221, 255)
AGC_LOW, AGC_GMIN = 224, 16
RELONSET_SHIFT = 1
TRANSIENT_MS = 20  # ORGAN_TRANSIENT_MS
DECAY_SHIFT = 2  # ORGAN_DECAY_SHIFT
SLOW_ROUNDS = 4  # ORGAN_SLOW_ROUNDS


def alpha(ms: int, ctl_hz: int) -> int:
    """organ_alpha(): Q16 one-pole coefficient for time constant ``ms`` at ``ctl_hz``."""
    if ms <= 0:
        return 65535
    return min(131072000 // (2 * ms * ctl_hz + 1000), 65535)


def derive(qd: QuantizedDesign, values: dict[str, int]) -> dict[str, int]:
    """organ_derive(): the coefficients the core computes from the parameters."""
    hz = qd.ctl_hz
    slow_hz = (hz + SLOW_ROUNDS // 2) // SLOW_ROUNDS  # the slow tasks' rate
    mfs = max(qd.lvl_k >> 1, 256)
    return {
        "a_att": alpha(values["attack_ms"], hz),
        "a_rel": alpha(values["release_ms"], hz),
        "a_sm": alpha(values["smoothing_ms"], hz),
        "a_slow": alpha(values["slow_ms"], slow_hz),
        "a_agc": alpha(values["agc_release_ms"], slow_hz),
        "hold_ticks": min((values["hold_ms"] * hz + 500) // 1000, 65535),
        "squelch_m": (values["squelch"] * qd.lvl_k) >> 16,
        "kb": min((255 * 65536 + mfs // 2) // mfs, 65535),
        "age_max": min(max((TRANSIENT_MS * hz + 500) // 1000, 1), 255),
    }


def resolve_params(qd: QuantizedDesign, params: dict[str, int] | None) -> dict[str, int]:
    """The design's defaults with ``params`` (wire values) applied and validated."""
    values = qd.params()
    for name, v in (params or {}).items():
        values[name] = params_mod.validate(name, v)
    return values


def gamma(lin: Any, xp: Any) -> Any:
    """organ_gamma(): 17-point gamma table with linear interpolation."""
    i, f = lin >> 4, lin & 15
    if xp is np:
        tab = np.asarray(GAMMA17, dtype=np.int64)
        g0, g1 = tab[i], tab[i + 1]
    else:
        g0, g1 = GAMMA17[i], GAMMA17[i + 1]
    return g0 + (((g1 - g0) * f) >> 4)


def _s32(v: Any) -> Any:
    return ((v & M32) ^ 0x80000000) - 0x80000000


class Model:
    """Stateful fixed-point model; ``streams`` > 1 runs that many independent inputs at once."""

    def __init__(self, qd: QuantizedDesign, params: dict[str, int] | None = None,
                 streams: int = 1, batch: bool | None = None):
        if qd.arithmetic != "fixed":
            raise ValueError("designer.model.Model is the fixed-point oracle; use "
                             "designer.model_float.FloatModel for a float design")
        self.qd = qd
        self.streams = streams
        self.values = resolve_params(qd, params)
        self.k = derive(qd, self.values)
        self.xp = np if (streams > 1 if batch is None else batch) else None
        self.reset()

    def set_params(self, params: dict[str, int]) -> None:
        self.values = resolve_params(self.qd, {**self.values, **params})
        self.k = derive(self.qd, self.values)

    def _zeros(self) -> Any:
        return np.zeros(self.streams, dtype=np.int64) if self.xp is np else 0

    def reset(self) -> None:
        z = self._zeros
        nb, nc = self.qd.n_bands, self.qd.n_bands + 1
        self.dc_m = z()
        self.ref, self.gate, self.thr_on, self.thr_off, self.share = z(), z(), z(), z(), z()
        self.agc_g, self.gc = z() + 256, z()
        # the gate and the brightness factor from the start, not from the first AGC round
        self.gate = self.gate + self.k["squelch_m"]
        g = 256 if self.values["agc"] else self.values["gain"]
        self.gc = self.gc + min((self.k["kb"] * g) >> 8, 65535)
        self.tick = self.rounds = 0
        self.overflows = z()
        self.lmax, self.lmax_now, self.age, self.share_open = z(), z(), z(), z()
        self.level = [z() for _ in range(nb)]
        self.env_out = [z() for _ in range(nb)]
        self.on = [z() for _ in range(nb)]
        self.led = [z() for _ in range(nb)]
        self.hold = [z() for _ in range(nb)]
        self.rect = [z() for _ in range(nc)]
        self.m = [z() for _ in range(nc)]
        self.env = [z() for _ in range(nc)]
        self.sm = [z() for _ in range(nc)]
        self.slow = [z() for _ in range(nc)]
        self.sec = [[z(), z(), z(), z()] for b in self.qd.bands for _ in b.sections]

    # -- helpers mirroring the C ------------------------------------------------------------
    def _where(self, c: Any, a: Any, b: Any) -> Any:
        if self.xp is np:
            return np.where(c, a, b)
        return a if c else b

    def _sat16(self, v: Any) -> Any:
        if self.xp is np:
            over = (v > 32767) | (v < -32768)
            self.overflows = np.minimum(self.overflows + over, 65535)
            return np.clip(v, -32768, 32767)
        if v > 32767 or v < -32768:
            self.overflows = min(self.overflows + 1, 65535)
            return 32767 if v > 0 else -32768
        return v

    def _onepole(self, st: Any, target: Any, a_up: int, a_down: int) -> Any:
        h = st >> 16
        up = (st + (target - h) * a_up) & M32
        down = (st - (h - target) * a_down) & M32
        return self._where(target > h, up, down)

    def _section(self, sec: Any, st: list, v: Any) -> Any:
        y = st[0]
        if sec.kind in ("lp1", "hp1"):
            u = v + st[2] - 2 * (y >> 16)
            y = _s32(y + sec.c[0] * u)
            st[0], st[2] = y, v
            return y >> 16 if sec.kind == "lp1" else self._sat16(v - (y >> 16))
        d = st[1]
        num = sec.c[0] * v
        if sec.kind == "bq":
            num = num + sec.c[1] * st[2] + sec.c[2] * st[3]
            st[3], st[2] = st[2], v
        d = _s32(d + increment(((num, sec.sh_num), (-sec.c[3] * (d >> 16), sec.sh_beta),
                                (-sec.c[4] * (y >> 16), sec.sh_gamma))))
        y = _s32(y + d)
        st[0], st[1] = y, d
        return y >> 16

    # -- control tasks (organ_control: task t on sample 2 t + 1 of each round) ------------------
    def _poles(self, c: int) -> None:
        k = self.k
        self.env[c] = self._onepole(self.env[c], self.m[c], k["a_att"], k["a_rel"])
        self.sm[c] = self._onepole(self.sm[c], self.env[c] >> 16, k["a_sm"], k["a_sm"])
        if self.rounds % SLOW_ROUNDS == 0:
            self.slow[c] = self._onepole(self.slow[c], self.sm[c] >> 16, k["a_slow"],
                                         k["a_slow"])

    def _ctl_windows(self) -> None:
        self.rounds = (self.rounds + 1) & 0xFF
        rs = self.qd.rect_shift
        for c in range(self.qd.n_bands + 1):
            m = (self.rect[c] + (1 << (rs - 1))) >> rs
            self.m[c] = self._where(m > 65535, 65535, m)
            self.rect[c] = self._zeros()

    def _ctl_input(self) -> None:
        v, k = self.values, self.k
        self._poles(0)
        sm, slow = self.sm[0] >> 16, self.slow[0] >> 16
        self.thr_on = (sm * v["on_threshold"]) >> 15
        self.thr_off = (sm * v["off_threshold"]) >> 15
        self.share = (sm * v["share"]) >> 15
        onset = (sm > k["squelch_m"]) & (sm * 256 >= slow * v["onset"])
        self.age = self._where(onset, self._where(self.age < 255, self.age + 1, self.age), 0)
        # from the second round of an onset: the loudest band of the round before is known
        self.share_open = (self.age >= 2) & (self.age <= k["age_max"] + 1)
        self.lmax, self.lmax_now = self.lmax_now, self._zeros()

    def _ctl_agc(self) -> None:
        if self.rounds % SLOW_ROUNDS:
            return
        v, k = self.values, self.k
        sm = self.sm[0] >> 16
        self.ref = self._where(sm >= self.ref >> 16, self.sm[0],
                               self._onepole(self.ref, sm, 0, k["a_agc"]))
        g = ((self.ref >> 16) * v["gate"]) >> 15
        self.gate = self._where(g > k["squelch_m"], g, k["squelch_m"])
        if v["agc"]:
            lv = ((self.ref >> 16) * self.gc) >> 16
            g = self.agc_g
            dec = self._where(g > AGC_GMIN, g - (g >> 5) - 1, g)
            inc = self._where(g < 65535 - (65535 >> 5) - 1, g + (g >> 5) + 1, g)
            g = self._where(lv > 255, dec, self._where(lv < AGC_LOW, inc, g))
            self.agc_g = g
        else:
            g = v["gain"]
        t = (k["kb"] * g) >> 8
        self.gc = self._where(t > 65535, 65535, t)

    def _ctl_band(self, b: int) -> None:
        w = self._where
        loudest = (self.share_open != 0) & (self.level[b] >= self.lmax)
        self._poles(b + 1)
        sm, slow = self.sm[b + 1] >> 16, self.slow[b + 1] >> 16
        norm = int(self.qd.bands[b].norm) & 0xFFFF
        lv = (sm * norm) >> 8
        lv = w(lv > 65535, 65535, lv)
        self.level[b] = lv
        self.lmax_now = w(lv > self.lmax_now, lv, self.lmax_now)
        thr = w(self.on[b] != 0, self.thr_off, self.thr_on)
        spectral = (lv >= thr) & (sm >= (slow >> DECAY_SHIFT))
        onset = sm * 256 >= slow * self.values["onset"]
        share = (lv >= self.share) & loudest
        sn = (slow * norm) >> 8
        fl = w(sn > 65535, 65535, sn)
        fl = w(fl < self.gate, self.gate, fl)
        rel = ((lv * (self.slow[0] >> 16)) >> RELONSET_SHIFT) > fl * (self.sm[0] >> 16)
        want = w((lv > self.gate) & (spectral | (onset & (share | rel))), 1, 0)
        on, hold = self.on[b], self.hold[b]
        change = (hold == 0) & (want != on)
        self.on[b] = w(change, want, on)
        self.hold[b] = w(hold > 0, hold - 1, w(change, self.k["hold_ticks"], hold))
        lin = (lv * self.gc) >> 16
        lin = w(lin > 255, 255, lin)
        led = gamma(lin, self.xp)
        led = w(led == 0, 1, led)
        self.led[b] = w(self.on[b] != 0, led, 0)
        self.env_out[b] = w(sm > 32767, 32767, sm)

    def _control(self) -> None:
        t = self.tick >> 1
        if t == 0:
            self._ctl_windows()
        elif t == 1:
            self._ctl_input()
        elif t == self.qd.n_bands + 2:
            self._ctl_agc()
        else:
            self._ctl_band(t - 2)

    # -- processing ---------------------------------------------------------------------------
    def process(self, samples: np.ndarray, reset: bool = False) -> Outputs:
        """Samples (n,) for one stream or (streams, n); outputs (n, nb) or (streams, n, nb)."""
        x = np.asarray(samples)
        batch = self.xp is np
        if batch != (x.ndim == 2) or (batch and x.shape[0] != self.streams):
            raise ValueError(f"expected shape {'(streams, n)' if batch else '(n,)'} for "
                             f"{self.streams} stream(s), got {x.shape}")
        if reset:
            self.reset()
        qd = self.qd
        nb = qd.n_bands
        n = x.shape[-1]
        shape = (self.streams, n, nb) if batch else (n, nb)
        y = np.empty(shape, np.int16)
        env = np.empty(shape, np.int16)
        led = np.empty(shape, np.uint8)
        xs = x.astype(np.int64).T if batch else [int(v) for v in x]
        plan = []
        k0 = 0
        for band in qd.bands:
            ns = len(band.sections)
            secs = list(zip(band.sections, self.sec[k0:k0 + ns], strict=True))
            plan.append((band.in_shift, secs))
            k0 += ns
        dc = qd.dc_coef
        tasks = qd.ctl_tasks
        for i in range(n):
            xd = self._sat16(xs[i] - (self.dc_m >> 16))
            self.dc_m = _s32(self.dc_m + dc * xd)
            self.rect[0] = self.rect[0] + abs(xd)
            for b, (shift, secs) in enumerate(plan):
                v = xd >> shift
                for sec, st in secs:
                    v = self._section(sec, st, v)
                self.rect[b + 1] = self.rect[b + 1] + abs(v)
                if batch:
                    y[:, i, b] = v
                else:
                    y[i, b] = v
            if self.tick % 2 == 1 and self.tick < 2 * tasks:
                self._control()
            self.tick = 0 if self.tick + 1 == qd.ctl_period else self.tick + 1
            for b in range(nb):
                if batch:
                    env[:, i, b] = self.env_out[b]
                    led[:, i, b] = self.led[b]
                else:
                    env[i, b] = self.env_out[b]
                    led[i, b] = self.led[b]
        ovf = self.overflows
        return Outputs(y=y, env=env, led=led,
                       overflows=int(np.max(ovf)) if batch else int(ovf))


#: fractional bits of increment()'s exact sum: the largest right shift of a biquad term
FRAC_BITS = 24


def increment(terms: Any) -> Any:
    """organ_k_bq()'s state increment: floor of the exact sum of ``p 2^-sh`` over the (p, sh)
    terms (``-16 <= sh <= 24``), mod 2^32. Integer parts and fractions (units of 2^-24) are
    summed apart, as the C does; the fractions are never negative."""
    i, f = 0, 0
    for p, sh in terms:
        if sh <= 0:
            i = i + (p << -sh)
        else:
            i = i + (p >> sh)
            f = f + ((p & ((1 << sh) - 1)) << (FRAC_BITS - sh))
    return (i + (f >> FRAC_BITS)) & M32


def band_output(qd: QuantizedDesign, band: int, samples: np.ndarray) -> np.ndarray:
    """Band ``band``'s filter output ``y`` (int64 values of the int16 the core outputs) for int16
    ``samples`` from reset: what ``Model.process(samples).y[:, band]`` gives, computed one
    stage at a time over the whole record (the DC blocker, the in_shift, then each section) on
    Python ints, with no levels or control tasks: about 4x faster than the whole model, for
    measuring a band's response on records of seconds (``designer/check.py``)."""
    if qd.arithmetic != "fixed":
        raise ValueError("band_output is the fixed-point filters; a float design has none")
    spec = qd.bands[band]
    v = [e >> spec.in_shift for e in _dc_blocked([int(x) for x in samples], qd.dc_coef)]
    for sec in spec.sections:
        v = _first_order_run(sec, v) if sec.kind in ("lp1", "hp1") else _biquad_run(sec, v)
    return np.array(v, dtype=np.int64)


def _dc_blocked(xs: list[int], dc: int) -> list[int]:
    m, out = 0, []
    for x in xs:
        e = min(max(x - (m >> 16), -32768), 32767)
        m = ((m + dc * e + 0x80000000) & M32) - 0x80000000
        out.append(e)
    return out


def _first_order_run(sec: Any, v: list[int]) -> list[int]:
    c, y, x1, out = int(sec.c[0]), 0, 0, []
    hp = sec.kind == "hp1"
    for x in v:
        y = ((y + c * (x + x1 - 2 * (y >> 16)) + 0x80000000) & M32) - 0x80000000
        x1 = x
        out.append(min(max(x - (y >> 16), -32768), 32767) if hp else y >> 16)
    return out


def _biquad_run(sec: Any, v: list[int]) -> list[int]:
    """BQ / BQ_GAIN: every term p 2^-sh is scaled to p 2^(FRAC_BITS - sh), an exact integer
    (sh <= FRAC_BITS), so the floor of increment() is one shift of their sum."""
    gain = sec.kind == "bq_gain"
    n0, n1, n2, mb, mg = (int(t) << (FRAC_BITS - sh) for t, sh in zip(
        (sec.c[0], 0 if gain else sec.c[1], 0 if gain else sec.c[2], sec.c[3], sec.c[4]),
        (sec.sh_num, sec.sh_num, sec.sh_num, sec.sh_beta, sec.sh_gamma), strict=True))
    y = d = x1 = x2 = 0
    out = []
    for x in v:
        t = n0 * x + n1 * x1 + n2 * x2 - mb * (d >> 16) - mg * (y >> 16)
        x2, x1 = x1, x
        d = ((d + (t >> FRAC_BITS) + 0x80000000) & M32) - 0x80000000
        y = ((y + d + 0x80000000) & M32) - 0x80000000
        out.append(y >> 16)
    return out


def run(qd: QuantizedDesign, samples: np.ndarray, params: dict[str, int] | None = None
        ) -> Outputs:
    """Run int16 ``samples`` from reset through the oracle of ``qd`` (fixed or float)."""
    if qd.arithmetic == "float":
        from designer.model_float import FloatModel

        x = np.asarray(samples)
        return FloatModel(qd, params, streams=x.shape[0] if x.ndim == 2 else 1,
                          batch=x.ndim == 2).process(x)
    x = np.asarray(samples)
    return Model(qd, params, streams=x.shape[0] if x.ndim == 2 else 1,
                 batch=x.ndim == 2).process(x)
