"""The float32 oracle of the DSP core's float variant (``ORGAN_FLOAT``, esp32dev).

Mirrors ``organ_dsp_float.h`` operation by operation in numpy float32 (every product and sum
rounded to float32, as C does with ``-ffp-contract=off`` and SSE/FPU single precision), so the
host-built C and this model agree bit for bit. A batch of streams runs in lockstep.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from designer.model import (
    DECAY_SHIFT,
    SLOW_ROUNDS,
    derive,
    gamma,
    resolve_params,
)
from designer.qdesign import Outputs, QuantizedDesign

F = np.float32
Q15 = F(1.0 / 32768.0)
Q16 = F(1.0 / 65536.0)
SINE_LEVEL = F(1.94280929e-05)  # (2/pi) / 32768, as written in the C
KB = F(400.55307)  # 255 / (2/pi)
GMIN, GMAX = F(0.0625), F(256.0)


class FloatModel:
    """Stateful float32 model; same interface as ``designer.model.Model``."""

    def __init__(self, qd: QuantizedDesign, params: dict[str, int] | None = None,
                 streams: int = 1, batch: bool | None = None):
        if qd.arithmetic != "float":
            raise ValueError("FloatModel needs a float design")
        self.qd = qd
        self.streams = streams
        self.batch = streams > 1 if batch is None else batch
        self.values = resolve_params(qd, params)
        self.k = derive(qd, self.values)
        self.reset()

    def set_params(self, params: dict[str, int]) -> None:
        self.values = resolve_params(self.qd, {**self.values, **params})
        self.k = derive(self.qd, self.values)

    def _z(self) -> Any:
        return np.zeros(self.streams, F) if self.batch else F(0)

    def _zi(self) -> Any:
        return np.zeros(self.streams, np.int64) if self.batch else 0

    def reset(self) -> None:
        nb, nc = self.qd.n_bands, self.qd.n_bands + 1
        z = self._z
        self.dc_m, self.ref = z(), z()
        self.gate, self.thr_on, self.thr_off, self.share = z(), z(), z(), z()
        self.agc_g, self.gc = z() + F(1), z()
        # the gate and the brightness factor from the start, not from the first AGC round
        v = self.values
        self.gate = self.gate + F(v["squelch"]) * SINE_LEVEL
        g = self.agc_g if v["agc"] else z() + F(v["gain"]) * F(1.0 / 256.0)
        self.gc = KB * g
        self.tick = self.rounds = 0
        self.lmax, self.lmax_now, self.age, self.share_open = z(), z(), self._zi(), self._zi()
        self.level = [z() for _ in range(nb)]
        self.env_out = [z() for _ in range(nb)]
        self.on = [self._zi() for _ in range(nb)]
        self.led = [self._zi() for _ in range(nb)]
        self.hold = [self._zi() for _ in range(nb)]
        self.rect = [z() for _ in range(nc)]
        self.m = [z() for _ in range(nc)]
        self.env = [z() for _ in range(nc)]
        self.sm = [z() for _ in range(nc)]
        self.slow = [z() for _ in range(nc)]
        self.sec = [[z(), z(), z(), z()] for b in self.qd.bands for _ in b.sections]

    def _where(self, c: Any, a: Any, b: Any) -> Any:
        return np.where(c, a, b) if self.batch else (a if c else b)

    def _onepole(self, st: Any, target: Any, a_up: int, a_down: int) -> Any:
        a = self._where(target > st, F(a_up), F(a_down)) * Q16
        return (st + (target - st) * a).astype(F) if self.batch else F(st + (target - st) * a)

    def _section(self, sec: Any, st: list, x: Any) -> Any:
        c = [F(v) for v in sec.c]
        y = st[0]
        if sec.kind in ("lp1", "hp1"):
            u = x + st[2]
            u = u - F(2) * y
            y = y + c[0] * u
            st[0], st[2] = y, x
            return y if sec.kind == "lp1" else x - y
        d = st[1]
        t = c[0] * x
        if sec.kind == "bq":
            t = t + c[1] * st[2]
            t = t + c[2] * st[3]
            st[3], st[2] = st[2], x
        t = t - c[3] * d
        t = t - c[4] * y
        d = d + t
        y = y + d
        st[0], st[1] = y, d
        return y

    def _poles(self, c: int) -> None:
        k = self.k
        self.env[c] = self._onepole(self.env[c], self.m[c], k["a_att"], k["a_rel"])
        self.sm[c] = self._onepole(self.sm[c], self.env[c], k["a_sm"], k["a_sm"])
        if self.rounds % SLOW_ROUNDS == 0:
            self.slow[c] = self._onepole(self.slow[c], self.sm[c], k["a_slow"], k["a_slow"])

    def _ctl_windows(self) -> None:
        self.rounds = (self.rounds + 1) & 0xFF
        n = F(self.qd.ctl_period)
        for c in range(self.qd.n_bands + 1):
            self.m[c] = self.rect[c] / n
            self.rect[c] = self._z()

    def _ctl_input(self) -> None:
        v, k = self.values, self.k
        sq = F(v["squelch"]) * SINE_LEVEL
        self._poles(0)
        sm, slow = self.sm[0], self.slow[0]
        self.thr_on = sm * (F(v["on_threshold"]) * Q15)
        self.thr_off = sm * (F(v["off_threshold"]) * Q15)
        self.share = sm * (F(v["share"]) * Q15)
        onset = (sm > sq) & (sm >= slow * (F(v["onset"]) * F(1.0 / 256.0)))
        self.age = self._where(onset, self._where(self.age < 255, self.age + 1, self.age), 0)
        self.share_open = (self.age >= 2) & (self.age <= k["age_max"] + 1)
        self.lmax, self.lmax_now = self.lmax_now, self._z()

    def _ctl_agc(self) -> None:
        if self.rounds % SLOW_ROUNDS:
            return
        v, k = self.values, self.k
        sq = F(v["squelch"]) * SINE_LEVEL
        sm = self.sm[0]
        self.ref = self._where(sm >= self.ref, sm, self._onepole(self.ref, sm, 0, k["a_agc"]))
        g = self.ref * (F(v["gate"]) * Q15)
        self.gate = self._where(g > sq, g, sq)
        if v["agc"]:
            lv = self.ref * self.gc
            g = self.agc_g
            dec = self._where(g > GMIN, g * F(0.96875), g)
            inc = self._where(g < GMAX, g * F(1.03125), g)
            g = self._where(lv > F(255), dec, self._where(lv < F(224), inc, g))
            self.agc_g = g
        else:
            g = F(v["gain"]) * F(1.0 / 256.0)
        self.gc = KB * g

    def _ctl_band(self, b: int) -> None:
        w = self._where
        loudest = (self.share_open != 0) & (self.level[b] >= self.lmax)
        self._poles(b + 1)
        sm, slow = self.sm[b + 1], self.slow[b + 1]
        norm = F(self.qd.bands[b].norm)
        lv = sm * norm
        self.level[b] = lv
        self.lmax_now = w(lv > self.lmax_now, lv, self.lmax_now)
        thr = w(self.on[b] != 0, self.thr_off, self.thr_on)
        spectral = (lv >= thr) & (sm >= slow * (F(1.0) / F(1 << DECAY_SHIFT)))
        onset = sm >= slow * (F(self.values["onset"]) * F(1.0 / 256.0))
        share = (lv >= self.share) & loudest
        fl = slow * norm
        fl = w(fl < self.gate, self.gate, fl)
        rel = (lv * self.slow[0]) * F(0.5) > fl * self.sm[0]
        want = w((lv > self.gate) & (spectral | (onset & (share | rel))), 1, 0)
        on, hold = self.on[b], self.hold[b]
        change = (hold == 0) & (want != on)
        self.on[b] = w(change, want, on)
        self.hold[b] = w(hold > 0, hold - 1, w(change, self.k["hold_ticks"], hold))
        lin = lv * self.gc
        if self.batch:
            li = np.where(lin >= F(255), 255, lin.astype(np.int64))
        else:
            li = 255 if lin >= F(255) else int(lin)
        led = gamma(li, np if self.batch else None)
        led = w(led == 0, 1, led)
        self.led[b] = w(self.on[b] != 0, led, 0)
        self.env_out[b] = sm

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

    def process(self, samples: np.ndarray, reset: bool = False) -> Outputs:
        """Samples (n,) or (streams, n) int16; outputs float32 y/env and uint8 led."""
        x = np.asarray(samples)
        if self.batch != (x.ndim == 2) or (self.batch and x.shape[0] != self.streams):
            raise ValueError(f"expected {'(streams, n)' if self.batch else '(n,)'} samples for "
                             f"{self.streams} stream(s), got {x.shape}")
        if reset:
            self.reset()
        nb = self.qd.n_bands
        n = x.shape[-1]
        shape = (self.streams, n, nb) if self.batch else (n, nb)
        y = np.empty(shape, F)
        env = np.empty(shape, F)
        led = np.empty(shape, np.uint8)
        xs = (x.astype(F).T if self.batch else [F(v) for v in x])
        dc = F(self.qd.dc_coef / 65536.0)
        plan, k0 = [], 0
        for band in self.qd.bands:
            ns = len(band.sections)
            plan.append(list(zip(band.sections, self.sec[k0:k0 + ns], strict=True)))
            k0 += ns
        for i in range(n):
            xd = xs[i] * Q15
            xd = xd - self.dc_m
            self.dc_m = self.dc_m + dc * xd
            self.rect[0] = self.rect[0] + abs(xd)
            for b, secs in enumerate(plan):
                v = xd
                for sec, st in secs:
                    v = self._section(sec, st, v)
                self.rect[b + 1] = self.rect[b + 1] + abs(v)
                if self.batch:
                    y[:, i, b] = v
                else:
                    y[i, b] = v
            if self.tick % 2 == 1 and self.tick < 2 * self.qd.ctl_tasks:
                self._control()
            self.tick = 0 if self.tick + 1 == self.qd.ctl_period else self.tick + 1
            for b in range(nb):
                if self.batch:
                    env[:, i, b], led[:, i, b] = self.env_out[b], self.led[b]
                else:
                    env[i, b], led[i, b] = self.env_out[b], self.led[b]
        return Outputs(y=y, env=env, led=led, overflows=0)
