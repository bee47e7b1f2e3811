"""The float32 oracle of the DSP core's float variant (``ORGAN_FLOAT``, esp32dev).

Mirrors ``organ_dsp_float.h`` operation by operation in numpy float32 (every product and sum
rounded to float32, as C does with ``-ffp-contract=off`` and SSE/FPU single precision), so the
host-built C and this model agree bit for bit. A batch of streams runs in lockstep.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from designer.model import F_A, F_GATE, F_ONSET, F_SHARE, TASKS, derive, gamma, resolve_params
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
        self.task = self.chan = 0
        self.level = [z() for _ in range(nb)]
        self.env_out = [z() for _ in range(nb)]
        self.flags = [self._zi() for _ in range(nb)]
        self.on = [self._zi() for _ in range(nb)]
        self.led = [self._zi() for _ in range(nb)]
        self.hold = [self._zi() for _ in range(nb)]
        self.rect = [z() for _ in range(nc)]
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

    def _ctl_env(self, c: int) -> None:
        m = self.rect[c] / F(self.qd.ctl_period)
        self.rect[c] = self._z()
        self.env[c] = self._onepole(self.env[c], m, self.k["a_att"], self.k["a_rel"])

    def _ctl_ref(self) -> None:
        v, k = self.values, self.k
        sm = self.sm[0]
        sq = F(v["squelch"]) * SINE_LEVEL
        self.ref = self._where(sm >= self.ref, sm, self._onepole(self.ref, sm, 0, k["a_agc"]))
        g = self.ref * (F(v["gate"]) * Q15)
        self.gate = self._where(g > sq, g, sq)

    def _ctl_thresholds(self) -> None:
        v = self.values
        sm = self.sm[0]
        self.thr_on = sm * (F(v["on_threshold"]) * Q15)
        self.thr_off = sm * (F(v["off_threshold"]) * Q15)
        self.share = sm * (F(v["share"]) * Q15)

    def _ctl_agc(self) -> None:
        if self.values["agc"]:
            v = self.ref * self.gc
            g = self.agc_g
            dec = self._where(g > GMIN, g * F(0.96875), g)
            inc = self._where(g < GMAX, g * F(1.03125), g)
            g = self._where(v > F(255), dec, self._where(v < F(224), inc, g))
            self.agc_g = g
        else:
            g = F(self.values["gain"]) * F(1.0 / 256.0)
        self.gc = KB * g

    def _ctl_level(self, b: int) -> None:
        sm = self.sm[b + 1]
        lv = sm * F(self.qd.bands[b].norm)
        self.level[b] = lv
        thr = self._where(self.on[b] != 0, self.thr_off, self.thr_on)
        onset = sm >= self.slow[b + 1] * (F(self.values["onset"]) * F(1.0 / 256.0))
        w = self._where
        self.flags[b] = (w(lv > self.gate, F_GATE, 0) | w(lv >= thr, F_A, 0)
                         | w(onset, F_ONSET, 0) | w(lv >= self.share, F_SHARE, 0))

    def _ctl_decide(self, b: int) -> None:
        f = self.flags[b]
        fl = self.slow[b + 1] * F(self.qd.bands[b].norm)
        fl = self._where(fl < self.gate, self.gate, fl)
        rel = (self.level[b] * self.slow[0]) * F(0.5) > fl * self.sm[0]
        trans = ((f & F_SHARE) != 0) | rel
        want = ((f & F_GATE) != 0) & (((f & F_A) != 0) | (((f & F_ONSET) != 0) & trans))
        want = self._where(want, 1, 0)
        on, hold = self.on[b], self.hold[b]
        change = (hold == 0) & (want != on)
        self.on[b] = self._where(change, want, on)
        self.hold[b] = self._where(hold > 0, hold - 1,
                                   self._where(change, self.k["hold_ticks"], hold))

    def _ctl_led(self, b: int) -> None:
        lin = self.level[b] * self.gc
        if self.batch:
            li = np.where(lin >= F(255), 255, lin.astype(np.int64))
        else:
            li = 255 if lin >= F(255) else int(lin)
        led = gamma(li, np if self.batch else None)
        led = self._where(led == 0, 1, led)
        self.led[b] = self._where(self.on[b] != 0, led, 0)

    def _control(self) -> None:
        ch, task = self.chan, self.task
        k = self.k
        if task == 0:
            self._ctl_env(ch)
        elif task == 1:
            self.sm[ch] = self._onepole(self.sm[ch], self.env[ch], k["a_sm"], k["a_sm"])
            if ch:
                self.env_out[ch - 1] = self.sm[ch]
        elif task == 2:
            self.slow[ch] = self._onepole(self.slow[ch], self.sm[ch], k["a_slow"], k["a_slow"])
        elif task == 3:
            self._ctl_ref() if ch == 0 else self._ctl_level(ch - 1)
        elif task == 4:
            self._ctl_thresholds() if ch == 0 else self._ctl_decide(ch - 1)
        else:
            self._ctl_agc() if ch == 0 else self._ctl_led(ch - 1)
        task += 1
        if task == TASKS:
            task = 0
            ch = 0 if ch + 1 > self.qd.n_bands else ch + 1
        self.chan, self.task = ch, task

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
                    y[:, i, b], env[:, i, b], led[:, i, b] = v, self.env_out[b], self.led[b]
                else:
                    y[i, b], env[i, b], led[i, b] = v, self.env_out[b], self.led[b]
            self._control()
        return Outputs(y=y, env=env, led=led, overflows=0)
