"""Python mirrors of the C test application and of the storage image, shared by the link tests
and the fuzz corpus generator.

MockModel mirrors tests/link_c/mock_app.c (its toy DSP and parameters); StoreImage mirrors the
layout documented in firmware_templates/lib/organ_link/organ_store.h.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from host import protocol as P

DEFAULTS = {0: 128, 1: 64, 2: 0, 5: 1, 9: 0}
BOUNDS = {0: (0, 512), 1: (0, 32767), 2: (0, 2000), 5: (0, 1), 9: (0, 2)}
MOCK_HASH = bytes((0xA5 ^ (i * 29)) & 0xFF for i in range(32))
MOCK_TAG = int.from_bytes(MOCK_HASH[:4], "little")


class MockModel:
    """The toy DSP of mock_app.c (see the comment at the top of that file)."""

    def __init__(self, bands: int, fmt: int):
        self.bands, self.fmt = bands, fmt
        self.s = [0] * bands
        self.params = dict(DEFAULTS)

    def reset(self) -> None:
        self.s = [0] * self.bands

    def outputs(self) -> list[tuple]:
        """(y, env, led) per band for the current state."""
        gain, squelch = self.params[0], self.params[1]
        rows = []
        for b in range(self.bands):
            v = self.s[b] >> ((b & 3) + 1)
            led = min(abs(v) >> 7, 255) if abs(v) > squelch else 0
            if self.fmt == P.ValueFormat.FLOAT32:
                y = np.float32(np.float32(v) * np.float32(gain)) / np.float32(128)
                rows.append((y, abs(y), led))
            else:
                y = max(-32768, min(32767, (v * gain) >> 7))
                rows.append((y, min(abs(y), 32767), led))
        return rows

    def process(self, samples, from_reset: bool) -> P.BandOutputs:
        if from_reset:
            self.reset()
        out = []
        for x in samples:
            for b in range(self.bands):
                self.s[b] += int(x) - (self.s[b] >> ((b & 3) + 1))
            out.append(self.outputs())
        arr = np.array(out, dtype=object).reshape(len(samples), self.bands, 3)
        vt = np.float32 if self.fmt == P.ValueFormat.FLOAT32 else np.int16
        return P.BandOutputs(
            arr[..., 0].astype(vt), arr[..., 1].astype(vt), arr[..., 2].astype(np.uint8)
        )


@dataclass
class StoreImage:
    """organ_store.h's image: magic, version, count, design tag, records, CRC (big-endian)."""

    records: list[tuple[int, int]]
    tag: int = MOCK_TAG
    version: int = 1
    magic: bytes = b"ORGP"

    def to_bytes(self) -> bytes:
        body = self.magic + struct.pack("<BBI", self.version, len(self.records), self.tag)
        body += b"".join(struct.pack("<Bi", i, v) for i, v in self.records)
        return body + P.crc16(body).to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> StoreImage:
        version, count, tag = struct.unpack_from("<BBI", data, 4)
        end = 10 + 5 * count
        if P.crc16(data[: end + 2]) != 0:
            raise ValueError("storage image CRC does not match")
        recs = [struct.unpack_from("<Bi", data, 10 + 5 * i) for i in range(count)]
        return cls(recs, tag, version, data[:4])
