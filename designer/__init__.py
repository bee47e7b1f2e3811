"""Color Organ Designer: a light-organ description in, tested microcontroller firmware out."""

__version__ = "0.1.0"
