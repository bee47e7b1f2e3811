"""Make learned_labels.csv: LED on/off labels of the classic organ, for examples/learned.toml.

1000 frequencies drawn log-uniformly over 1 Hz .. 1 MHz (as in the RC notebook, BACKGROUND.md
section 1), each labelled 1 where the band's analog RC magnitude is above 1/sqrt(2) (−3 dB).
Seeded, so the file is reproducible: ``python examples/make_learned_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from designer.analog import INV_SQRT2, band_mag

SEED = 2026
BANDS = {  # the classic organ's section cutoffs, the answer the learner must not see
    "bass": ("lowpass", (800.0,)),
    "mid": ("bandpass", (1000.0, 4000.0)),
    "treble": ("highpass", (5000.0,)),
}


def make(path: Path, n: int = 1000, seed: int = SEED) -> None:
    rng = np.random.default_rng(seed)
    freqs = np.sort(10.0 ** rng.uniform(0.0, 6.0, n))
    lines = [
        "# LED on/off labels of the classic organ (band |H| > 1/sqrt(2)); made by",
        f"# examples/make_learned_data.py with seed {seed}",
        "frequency_hz," + ",".join(BANDS),
    ]
    for f in freqs:
        labels = [int(band_mag(kind, f, cut) > INV_SQRT2) for kind, cut in BANDS.values()]
        lines.append(f"{f:.6f}," + ",".join(str(v) for v in labels))
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    make(Path(__file__).with_name("learned_labels.csv"))
