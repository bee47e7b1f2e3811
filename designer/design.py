"""A whole design: the resolved config, the float filters, the quantized design and its hash.

``design.json`` is this object on disk: what ``build`` compiled in, used as is by ``verify``,
``simulate`` and ``plot``. The design hash is a sha256 over the quantized design *as compiled in*
(board, rate, bands and pins, quantized tables, runtime defaults), so a board reporting the same
hash in INFO runs exactly this design.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, params
from .boards import BOARDS, BoardProfile
from .config import OrganConfig
from .errors import DesignerError
from .filters import BandFilter, FilterSet, Progress, design_filters
from .quantize import BandSpec, QuantizedDesign, quantize

FORMAT = "color-organ-design/1"
GENERATOR = f"designer {__version__}"


@dataclass(frozen=True)
class BandWiring:
    """What the firmware needs besides the filter: the LED pin and the strip colour."""

    name: str
    led_pin: int
    color: str


@dataclass(frozen=True, eq=False)
class Design:
    """Everything a build compiles in, plus what it came from."""

    config_name: str                 # file name of the config (banners, provenance)
    config: dict[str, Any]           # the config's values as resolved
    board: BoardProfile
    sample_rate_hz: float
    filters: FilterSet
    wiring: tuple[BandWiring, ...]
    quantized: QuantizedDesign
    hash: str

    @property
    def band_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.filters.bands)

    def band(self, name: str) -> BandFilter:
        for b in self.filters.bands:
            if b.name == name:
                return b
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """design.json: deterministic for a given config (no times, no absolute paths)."""
        bands = []
        for f, w in zip(self.filters.bands, self.wiring, strict=True):
            d = f.to_dict()
            d.pop("training", None)
            d["led_pin"] = w.led_pin
            d["color"] = w.color
            bands.append(d)
        return {
            "format": FORMAT,
            "generator": GENERATOR,
            "config_file": self.config_name,
            "config": self.config,
            "board": self.board.name,
            "sample_rate_hz": self.sample_rate_hz,
            "bands": bands,
            "quantized": self.quantized.to_dict(),
            "design_hash": self.hash,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=False) + "\n"

    def summary(self) -> dict[str, Any]:
        """The ``build --json`` / ``train --json`` document of DESIGN.md."""
        return {
            "sample_rate_hz": self.sample_rate_hz,
            "board": self.board.name,
            "design_hash": self.hash,
            "bands": [
                {**f.to_dict(), "led_pin": w.led_pin, "color": w.color}
                for f, w in zip(self.filters.bands, self.wiring, strict=True)
            ],
            "training": self.filters.training,
            "quantization": self.quantized.report,
        }


def compiled_in(
    board: BoardProfile,
    fs: float,
    config: dict[str, Any],
    wiring: tuple[BandWiring, ...],
    quantized: QuantizedDesign,
) -> dict[str, Any]:
    """The part of a design the firmware carries; the hash covers exactly this."""
    return {
        "board": board.name,
        "sample_rate_hz": fs,
        "input": config.get("input", {}),
        "leds": config.get("leds", {}),
        "bands": [{"name": w.name, "led_pin": w.led_pin, "color": w.color} for w in wiring],
        "quantized": quantized.compiled(),
    }


def design_hash(payload: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``payload``."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_design(cfg: OrganConfig, progress: Progress | None = None) -> Design:
    """Stages learn and quantize: config in, whole design out (QuantizationError on refusal)."""
    fset = design_filters(cfg, progress)
    if progress:
        progress("quantizing")
    specs = [
        BandSpec(name=b.name, sos=b.sos, passband_hz=b.passband_hz(cfg.sample_rate_hz))
        for b in fset.bands
    ]
    wire = {name: params.to_wire(name, value) for name, value in cfg.dsp.items()}
    qd = quantize(specs, cfg.sample_rate_hz, cfg.board.arithmetic, params=wire)
    wiring = tuple(BandWiring(b.name, b.led_pin, b.color) for b in cfg.bands)
    resolved = cfg.to_dict()
    name = cfg.source.name if cfg.source else "organ.toml"
    h = design_hash(compiled_in(cfg.board, cfg.sample_rate_hz, resolved, wiring, qd))
    return Design(name, resolved, cfg.board, cfg.sample_rate_hz, fset, wiring, qd, h)


def load_design_json(path: str | Path) -> Design:
    """Read a build's design.json; refuses one whose content no longer matches its hash."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DesignerError(f"{path}: no such design file (run designer build first)") from None
    except (OSError, ValueError) as e:
        raise DesignerError(f"{path}: not a readable design.json ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DesignerError(f"{path}: not a design.json of this designer (format {FORMAT})")
    try:
        board = BOARDS[doc["board"]]
        fs = float(doc["sample_rate_hz"])
        bands = tuple(BandFilter.from_dict(b) for b in doc["bands"])
        wiring = tuple(BandWiring(b["name"], int(b["led_pin"]), b["color"]) for b in doc["bands"])
        qd = QuantizedDesign.from_dict(doc["quantized"])
        stored = doc["design_hash"]
        config = doc["config"]
    except (KeyError, TypeError, ValueError) as e:
        raise DesignerError(f"{path}: malformed design.json ({e!r})") from None
    h = design_hash(compiled_in(board, fs, config, wiring, qd))
    if h != stored:
        raise DesignerError(
            f"{path}: its content does not match its design hash (stored {stored[:12]}, "
            f"content {h[:12]}): it was edited; rebuild it with designer build"
        )
    fset = FilterSet(fs, bands, {})
    return Design(doc.get("config_file", path.name), config, board, fs, fset, wiring, qd, h)


def load_design(path: str | Path, progress: Progress | None = None) -> Design:
    """DESIGN argument of the CLI: a config (.toml, designed afresh) or a design.json (as is)."""
    from .config import load_config

    path = Path(path)
    if path.suffix.lower() == ".toml":
        return make_design(load_config(path), progress)
    return load_design_json(path)
