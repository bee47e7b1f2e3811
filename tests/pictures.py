"""Helpers for tests that check pictures: decode a PNG, require it to be a real picture, count
pixels of a colour."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.colors import to_rgb
from PIL import Image


def pixels(png: bytes) -> np.ndarray:
    """RGB array (h, w, 3), uint8."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def assert_picture(png: bytes, min_w: int = 500, min_h: int = 250) -> np.ndarray:
    """A real picture: big enough, not blank, not one flat colour."""
    img = pixels(png)
    h, w, _ = img.shape
    assert w >= min_w and h >= min_h, (w, h)
    not_white = np.any(img < 245, axis=2).mean()
    assert 0.02 < not_white < 0.98, not_white
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20
    return img


def count_color(img: np.ndarray, color, tol: int = 12) -> int:
    """Pixels within ``tol`` (per channel, 0..255) of ``color`` (a name, hex or RGB floats)."""
    rgb = np.array([round(255 * c) for c in (to_rgb(color) if isinstance(color, str) else color)])
    return int(np.all(np.abs(img.astype(int) - rgb) <= tol, axis=2).sum())
