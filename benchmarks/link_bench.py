"""Serial link figures: wire throughput per build, AVR cost of the C link, codec speeds.

    python benchmarks/link_bench.py [--json]

* wire: bytes of one PROCESS round trip and samples/s at 500000 baud 8N1 (50,000 bytes/s),
  frames built exactly as the firmware's writer builds them (records without zero bytes: the COBS
  worst case);
* avr: flash and static RAM organ_link + organ_store add to an ATmega328P program (avr-gcc -Os,
  LTO, gc-sections; includes a minimal hooks table), and sizeof(organ_link_t);
* host codec: host/protocol.py deframing + decoding a PROCESS reply stream, samples/s;
* native link: the C link + mock app (-O2) on stdin/stdout, samples/s of PROCESS round trips.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from link_c import cbuild  # noqa: E402

from host import protocol as P  # noqa: E402

BYTES_PER_S = 500000 / 10
BUILDS = [  # name, rx_max, tx_max, bands, value format
    ("uno, 3 bands int16", 136, 64, 3, P.ValueFormat.INT16),
    ("uno, 3 bands, TX_MAX 128", 136, 128, 3, P.ValueFormat.INT16),
    ("uno, 7 bands int16", 136, 64, 7, P.ValueFormat.INT16),
    ("esp32, 3 bands int16", 253, 253, 3, P.ValueFormat.INT16),
    ("esp32dev, 7 bands float32", 253, 253, 7, P.ValueFormat.FLOAT32),
]


def reply_frames(data: bytes, seq: int, tx_max: int) -> list[bytes]:
    """The DATA frames + DONE the firmware sends for these record bytes."""
    per = tx_max - P.OVERHEAD - 1
    frames = [
        P.Data(i, data[o : o + per]).encode(seq) for i, o in enumerate(range(0, len(data), per))
    ]
    return frames


def wire_row(name: str, rx: int, tx: int, bands: int, fmt: int) -> dict:
    n = (rx - 7) // 2
    rec = P.record_dtype(fmt).itemsize
    data = bytes(np.random.default_rng(0).integers(1, 256, n * bands * rec, dtype=np.uint8))
    frames = reply_frames(data, 1, tx)
    reply = sum(map(len, frames)) + len(P.Done(n, len(frames)).encode(1))
    request = len(P.Process(list(range(1, n + 1)), True).encode(1))
    seconds = (request + reply) / BYTES_PER_S
    return {
        "build": name,
        "samples_per_request": n,
        "request_bytes": request,
        "reply_bytes": reply,
        "data_frames": len(frames),
        "record_share": round(len(data) / reply, 3),
        "samples_per_s": round(n / seconds),
    }


def host_codec_speed(n: int = 20000, bands: int = 3) -> float:
    """Samples/s the Python side deframes and decodes (int16, TX_MAX 253)."""
    rng = np.random.default_rng(1)
    out = P.BandOutputs(
        rng.integers(-32768, 32768, (n, bands)).astype(np.int16),
        rng.integers(0, 32768, (n, bands)).astype(np.int16),
        rng.integers(0, 256, (n, bands)).astype(np.uint8),
    )
    data = P.encode_records(out, P.ValueFormat.INT16)
    frames = reply_frames(data, 1, 253)
    wire = b"".join(frames) + P.Done(n, len(frames)).encode(1)
    t0 = time.perf_counter()
    reply = P.ProcessReply(1, n, bands, P.ValueFormat.INT16)
    for f in P.Deframer().feed(wire):
        reply.feed(f)
    got = reply.result()
    dt = time.perf_counter() - t0
    assert np.array_equal(got.y, out.y)
    return n / dt


def native_link_speed(tmp: Path, blocks: int = 2000) -> float:
    """Samples/s through the C link and mock app natively (PROCESS round trips, 123 samples)."""
    exe = cbuild.build_driver(tmp / "driver_fast", sanitize=False)
    x = np.random.default_rng(2).integers(-32768, 32768, 123)
    req = b"".join(P.Process(x, False).encode(i) for i in range(blocks))
    script = b"".join(b"F" + struct.pack("<H", len(c)) + c for c in _chunks(req, 60000))
    t0 = time.perf_counter()
    cmd = [str(exe), str(tmp / "e.bin")]
    r = subprocess.run(cmd, input=script, capture_output=True, check=True)
    frames = P.Deframer().feed(r.stdout)
    dt = time.perf_counter() - t0
    assert sum(f.type == P.MsgType.DONE for f in frames) == blocks
    return blocks * 123 / dt


def _chunks(b: bytes, n: int) -> list[bytes]:
    return [b[i : i + n] for i in range(0, len(b), n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res: dict = {"wire": [wire_row(*b) for b in BUILDS]}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if shutil.which("avr-gcc"):
            res["avr"] = cbuild.avr_sizes(tmp)
        res["host_codec_samples_per_s"] = round(host_codec_speed())
        if shutil.which("gcc"):
            res["native_link_samples_per_s"] = round(native_link_speed(tmp))
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print("PROCESS round trips at 500000 baud (50,000 B/s), one request in flight:")
    head = ("build", "n", "req B", "reply B", "frames", "rec %", "S/s")
    print("  {:28} {:>4} {:>6} {:>8} {:>6} {:>6} {:>6}".format(*head))
    for w in res["wire"]:
        print(
            f"  {w['build']:28} {w['samples_per_request']:4} {w['request_bytes']:6} "
            f"{w['reply_bytes']:8} {w['data_frames']:6} {100 * w['record_share']:5.1f}% "
            f"{w['samples_per_s']:6}"
        )
    if "avr" in res:
        a = res["avr"]
        print(
            f"AVR (atmega328p -Os -flto): link + store + minimal hooks {a['flash']} B flash, "
            f"{a['ram_static']} B static RAM; sizeof(organ_link_t) = {a['link_struct']} B"
        )
    print(f"host codec: {res['host_codec_samples_per_s']:,} samples/s decoded (3 bands int16)")
    if "native_link_samples_per_s" in res:
        print(f"native C link + mock app: {res['native_link_samples_per_s']:,} samples/s")


if __name__ == "__main__":
    main()
