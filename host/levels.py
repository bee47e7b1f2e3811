"""Band levels from LEVELS frames, in units people read: the equivalent sine peak in dBFS.

A band's level as the DSP core compares it (organ_dsp.h) is ``L = env * norm`` (fixed point:
``env`` in m-units of the band's raw output, ``norm`` Q12; float: mean |y| times ``norm``). A sine
of peak ``A`` (fraction of full scale) reads ``L = A * lvl_k / 2`` m-units (fixed) or
``A * 2/pi`` (float), which is also how the squelch parameter is encoded (sine peak, Q15). So
``A = 2 L / lvl_k`` (fixed) or ``L * pi / 2`` (float): the reading the squelch gate compares. (The
envelope's fast attack and slow release ride the ripple of the short window's mean, so a steady
sine reads up to about 2 dB above its peak.) Without the design (no ``norm``,
``lvl_k``) only the raw envelope is known: :class:`LevelScale` then reports it relative to its own
full scale and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import protocol as P

if TYPE_CHECKING:
    from designer.design import Design

DEFAULT_DESIGN = Path("firmware") / "design.json"
FLOOR_DBFS = -96.0


@dataclass(frozen=True)
class LevelScale:
    """Converts a band's ``env`` to its equivalent sine peak (fraction of full scale)."""

    factors: tuple[float, ...]  # per band: sine peak per unit of env
    calibrated: bool            # True: from the design; False: raw env / its full scale

    @classmethod
    def for_design(cls, design: Design) -> LevelScale:
        qd = design.quantized
        if qd.arithmetic == "float":
            return cls(tuple(qd.norm_factor(i) * math.pi / 2 for i in range(qd.n_bands)), True)
        return cls(tuple(2.0 * qd.norm_factor(i) / qd.lvl_k for i in range(qd.n_bands)), True)

    @classmethod
    def raw(cls, info: P.Info) -> LevelScale:
        full = 1.0 if info.value_format == P.ValueFormat.FLOAT32 else 32767.0
        return cls(tuple(1.0 / full for _ in range(info.n_bands)), False)

    def peak(self, env: np.ndarray) -> np.ndarray:
        """Sine-peak equivalent (fraction of full scale) of ``env`` (..., n_bands)."""
        return np.asarray(env, float) * np.asarray(self.factors)

    def dbfs(self, env: np.ndarray) -> np.ndarray:
        p = np.maximum(self.peak(env), 10 ** (FLOOR_DBFS / 20))
        return 20 * np.log10(p)

    @property
    def unit(self) -> str:
        return "dBFS" if self.calibrated else "dB re env full scale"


def known_designs_dir() -> Path:
    """Where ``sim-board`` leaves the design.json of the boards it serves, by hash."""
    from .simboard import cache_dir

    return cache_dir().parent / "designs"


def remember_design(design: Design) -> Path:
    """Keep ``design``'s design.json where :func:`find_design` looks for a board's design."""
    path = known_designs_dir() / f"{design.hash}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(design.to_json(), encoding="utf-8")
        tmp.replace(path)
    return path


def find_design(info: P.Info, path: str | Path | None = None) -> Design | None:
    """The design the board runs: ``path`` (a config or design.json), else ./firmware/design.json
    or the one a ``sim-board`` left for this hash, if its hash is the board's; None otherwise
    (a given path that does not match raises)."""
    from designer.design import load_design
    from designer.errors import DesignerError

    board_hash = info.design_hash.hex()
    candidate = Path(path) if path else DEFAULT_DESIGN
    if not path and not candidate.exists():
        candidate = known_designs_dir() / f"{board_hash}.json"
        if not candidate.exists():
            return None
    design = load_design(candidate)
    if design.hash != board_hash:
        if path:
            raise DesignerError(
                f"{candidate}: the board runs design {info.design_hash.hex()[:12]}, this is "
                f"{design.hash[:12]}"
            )
        return None
    return design
