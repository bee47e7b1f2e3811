"""The C core compiled for the host: bit-exact with the firmware, fast enough for simulations.

``NativeCore(qd)`` compiles ``firmware_templates/lib/organ_dsp`` plus the design's tables
(``designer.ctables.design_tables_c``) and a small block wrapper into a shared library, once:
the library is cached under ``$COLOR_ORGAN_CACHE`` (default ``~/.cache/color-organ-designer``)
by a hash of the sources, the generated C, the flags and the compiler version, and is moved into
place with an atomic rename, so concurrent processes can build and use it safely. Blocks of
samples go to C in one call (ctypes), not sample by sample.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from designer import params as params_mod
from designer.ctables import design_macros, design_tables_c
from designer.errors import DesignerError
from designer.qdesign import Outputs, QuantizedDesign
from designer.resources import LIB

CORE_DIR = LIB / "organ_dsp"
CC = os.environ.get("CC", "gcc")
BASE_FLAGS = ("-O2", "-std=c99", "-ffp-contract=off", "-fPIC", "-shared")

_WRAPPER = r"""
#include "organ_dsp.h"
%(tables)s
typedef struct { organ_state_t s; organ_params_t p; } native_t;
int native_size(void) { return (int)sizeof(native_t); }
int native_init(native_t *n)
{
    organ_params_default(&organ_design, &n->p);
    return organ_init(&n->s, &organ_design, &n->p);
}
void native_reset(native_t *n) { organ_reset(&n->s); }
int native_set(native_t *n, int id, int32_t v) { return organ_param_set(&n->p, (uint8_t)id, v); }
int native_get(native_t *n, int id, int32_t *v) { return organ_param_get(&n->p, (uint8_t)id, v); }
int native_info(int id, int32_t *lo, int32_t *hi, int32_t *fb)
{
    return organ_param_info((uint8_t)id, lo, hi, fb);
}
unsigned native_overflows(native_t *n) { return n->s.overflows; }
void native_process(native_t *n, const int16_t *x, long count, organ_value_t *y,
                    organ_value_t *env, uint8_t *led)
{
    organ_band_out_t out[ORGAN_MAX_BANDS];
    int nb = organ_design.n_bands;
    long i;
    int b;
    for (i = 0; i < count; i++) {
        organ_process_sample(&n->s, x[i], out);
        for (b = 0; b < nb; b++) {
            y[i * nb + b] = out[b].y;
            env[i * nb + b] = out[b].env;
            led[i * nb + b] = out[b].led;
        }
    }
}
"""


def cache_dir() -> Path:
    """Where built libraries live (``$COLOR_ORGAN_CACHE`` or ``~/.cache/color-organ-designer``)."""
    root = os.environ.get("COLOR_ORGAN_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "color-organ-designer"
    return base / "native"


def _compiler_id() -> str:
    try:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise DesignerError(f"the native core needs a C compiler ({CC}): {e}") from None
    return out.stdout.splitlines()[0] if out.stdout else CC


def build(qd: QuantizedDesign, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile (or find in the cache) the shared library for ``qd``; returns its path."""
    source = _WRAPPER % {"tables": design_tables_c(qd, name="organ_design")}
    flags = list(BASE_FLAGS) + [f"-D{k}={v}" for k, v in design_macros(qd).items()]
    if qd.arithmetic == "float":
        flags.append("-DORGAN_FLOAT")
    flags += list(extra_flags)
    h = hashlib.sha256()
    for f in sorted(CORE_DIR.glob("*.[ch]")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(source.encode())
    h.update("\0".join(flags).encode())
    h.update(_compiler_id().encode())
    target = cache_dir() / f"organ_{h.hexdigest()[:24]}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        src = Path(tmp) / "native_design.c"
        src.write_text(source)
        out = Path(tmp) / target.name
        cmd = [CC, *flags, f"-I{CORE_DIR}", str(src), str(CORE_DIR / "organ_dsp.c"), "-o",
               str(out)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise DesignerError(f"native core build failed:\n{' '.join(cmd)}\n{res.stderr}")
        os.replace(out, target)  # atomic: a concurrent builder just replaces it with the same
    return target


class NativeCore:
    """One instance of the C core for design ``qd`` (state kept between ``process`` calls)."""

    def __init__(self, qd: QuantizedDesign, params: dict[str, int] | None = None):
        self.qd = qd
        self._lib = ctypes.CDLL(str(build(qd)))
        lib = self._lib
        lib.native_size.restype = ctypes.c_int
        lib.native_init.restype = ctypes.c_int
        lib.native_set.restype = ctypes.c_int
        lib.native_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int32]
        lib.native_get.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int32)]
        lib.native_info.argtypes = [ctypes.c_int] + [ctypes.POINTER(ctypes.c_int32)] * 3
        lib.native_overflows.restype = ctypes.c_uint
        lib.native_process.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long,
                                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self._mem = ctypes.create_string_buffer(lib.native_size())
        rc = lib.native_init(self._mem)
        if rc != 0:
            raise DesignerError(f"organ_init refused the design (code {rc})")
        self._vtype = np.float32 if qd.arithmetic == "float" else np.int16
        if params:
            self.set_params(params)

    def set_params(self, params: dict[str, int]) -> None:
        """Set runtime parameters (wire values, by name), like the firmware's SET."""
        for name, value in params.items():
            p = params_mod.by_name(name)
            rc = self._lib.native_set(self._mem, p.id, int(value))
            if rc != 0:
                raise DesignerError(f"parameter {name} = {value} refused by the core (code {rc})")

    def get_param(self, name: str) -> int:
        v = ctypes.c_int32()
        self._lib.native_get(self._mem, params_mod.by_name(name).id, ctypes.byref(v))
        return v.value

    def reset(self) -> None:
        """Filter, envelope and LED state to zero (like organ_reset)."""
        self._lib.native_reset(self._mem)

    def process(self, samples: np.ndarray, params: dict[str, int] | None = None,
                reset: bool = True) -> Outputs:
        """Run int16 ``samples`` through the core; arrays of shape (n, n_bands)."""
        x = np.ascontiguousarray(samples)
        if x.ndim != 1:
            raise ValueError(f"samples must be one-dimensional, got shape {x.shape}")
        if x.dtype != np.int16:
            if x.size and (np.max(x) > 32767 or np.min(x) < -32768):
                raise ValueError("samples must fit int16")
            x = x.astype(np.int16)
        if params:
            self.set_params(params)
        if reset:
            self.reset()
        n, nb = x.size, self.qd.n_bands
        y = np.empty((n, nb), dtype=self._vtype)
        env = np.empty((n, nb), dtype=self._vtype)
        led = np.empty((n, nb), dtype=np.uint8)
        self._lib.native_process(self._mem, x.ctypes.data, n, y.ctypes.data, env.ctypes.data,
                                 led.ctypes.data)
        return Outputs(y=y, env=env, led=led, overflows=int(self._lib.native_overflows(self._mem)))

    def param_info(self, pid: int) -> tuple[int, int, int] | None:
        """(min, max, fallback default) of the C parameter table, None for an unknown id."""
        lo, hi, fb = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        rc = self._lib.native_info(pid, ctypes.byref(lo), ctypes.byref(hi), ctypes.byref(fb))
        return None if rc != 0 else (lo.value, hi.value, fb.value)


def clear_cache() -> None:
    """Remove every cached library (they are rebuilt on demand)."""
    shutil.rmtree(cache_dir(), ignore_errors=True)
