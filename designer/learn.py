"""Stage "learn": filters learned from data with torch (full batch, float64, second order).

The entry points, each taking plain numpy arrays and returning a frozen result:

- :func:`fit_rc` — section cutoffs of RC low/high/band-pass bands from magnitude, dB or LED
  on/off labels, one band or all at once (:mod:`designer.learn_rc`, :mod:`designer.learn_binary`);
- :func:`fit_iir` — a free stable IIR cascade fitted to a magnitude/dB response
  (:mod:`designer.learn_iir`);
- :func:`fit_impulse` — an IIR filter recovered from its impulse response, the "RNN as IIR"
  problem of BACKGROUND.md §2 (:mod:`designer.learn_impulse`);
- :func:`fit_resonator` — centre and pole radius of a two-pole resonator from magnitude, dB or
  impulse data.

Data problems raise :class:`designer.errors.DesignerError`. Importing this module imports torch
(about a second); the fits themselves take milliseconds (``benchmarks/train_bench.py``).
"""

from __future__ import annotations

from .learn_iir import IirFit, fit_iir
from .learn_impulse import ResonatorFit, fit_impulse, fit_resonator
from .learn_rc import EdgeBracket, RcBandFit, RcBandTarget, RcFit, fit_rc

__all__ = [
    "EdgeBracket",
    "IirFit",
    "RcBandFit",
    "RcBandTarget",
    "RcFit",
    "ResonatorFit",
    "fit_iir",
    "fit_impulse",
    "fit_rc",
    "fit_resonator",
]
