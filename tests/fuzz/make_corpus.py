"""Seed corpus of the libFuzzer harness (tests/fuzz/fuzz_link.c), generated from host/protocol.py.

    python tests/fuzz/make_corpus.py        # rewrites tests/fuzz/corpus/

tests/test_fuzz.py checks that the committed corpus equals what this generates, so a protocol
change that forgets to refresh the seeds fails there.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent)]

from link_c.mirror import MOCK_TAG, StoreImage  # noqa: E402

from host import protocol as P  # noqa: E402

STORAGE, WHOLE, STRUCTURED, PATCH_LEN, SLOW_CLOCK = 0x01, 0x10, 0x20, 0x40, 0x80
CORPUS_DIR = HERE / "corpus"


def _commands() -> dict[str, list[P.Message]]:
    ramp = [(i * 997) % 65536 - 32768 for i in range(P.MAX_PROCESS_SAMPLES)]
    return {
        "ping": [P.Ping(b"\x00\x01hello\x00")],
        "info": [P.InfoRequest()],
        "process": [P.Process([0, 1, -1, 32767, -32768], True), P.Process(ramp[:64], False)],
        "process_max": [P.Process(ramp, True)],
        "levels": [P.SetLevels(10), P.Ping(b""), P.Ping(b""), P.SetLevels(0)],
        "params": [P.Get(0), P.Set(0, 300), P.Set(1, -5), P.Get(77), P.Set(9, 1), P.Process([7])],
        "levels_bug": [P.Set(9, 2), P.SetLevels(10), P.Ping(b"")],
        "save_reboot": [P.Set(2, 1000), P.Save(), P.Reset(P.ResetKind.REBOOT), P.Get(2)],
        "resets": [P.Reset(0), P.Reset(1), P.Reset(3)],
    }


def corpus() -> dict[str, bytes]:
    """File name -> seed bytes."""
    seeds: dict[str, bytes] = {}
    for name, msgs in _commands().items():
        wire = b"\x00" + b"".join(m.encode(i + 1) for i, m in enumerate(msgs))
        seeds[f"raw_{name}"] = bytes((WHOLE,)) + wire
        seeds[f"raw_{name}_bytewise"] = bytes((0,)) + wire
        bodies = [P.frame_bytes(m.TYPE, i + 1, m.payload())[:-2] for i, m in enumerate(msgs)]
        seeds[f"struct_{name}"] = bytes((STRUCTURED | PATCH_LEN | 0x06,)) + b"".join(
            bytes((len(b),)) + b for b in bodies
        )
    junk = [
        P.encode_frame(0x42, 1, b"\x01"),  # unknown command
        P.encode_frame(P.MsgType.GET, 2, b"\x00", version=9),  # other protocol version
        P.encode_frame(P.MsgType.GET, 3, b"\x00")[:-3] + b"\x00",  # COBS cut short
        b"\x05\x01" * 200 + b"\x00",  # oversized
        P.cobs_encode(b"\x01\x05\x04\x07\x00\x00\x00") + b"\x00",  # bad CRC
    ]
    # 250 ms per byte: the live-audio hold after PROCESS and LEVELS periods run out mid-input
    slow = [P.Process([100, -100] * 8, True), P.SetLevels(20), P.Ping(b"ab"), P.Ping(b"cd")]
    seeds["raw_process_slow_clock"] = bytes((SLOW_CLOCK,)) + b"\x00" + b"".join(
        m.encode(i + 1) for i, m in enumerate(slow))
    seeds["raw_malformed"] = bytes((WHOLE,)) + b"".join(junk) + P.InfoRequest().encode(9)
    images = {
        "loaded": StoreImage([(0, 300), (1, 7), (2, 9), (5, 0), (9, 0)]).to_bytes(),
        "rejected": StoreImage([(1, 3), (0, 999)]).to_bytes(),
        "other_design": StoreImage([(0, 1)], tag=MOCK_TAG ^ 1).to_bytes(),
        "old_version": StoreImage([(0, 1)], version=0).to_bytes(),
    }
    for name, image in images.items():
        seeds[f"store_{name}"] = (
            bytes((STORAGE | WHOLE, len(image))) + image + P.InfoRequest().encode(1)
        )
    return seeds


def write(directory: Path = CORPUS_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.bin"):
        old.unlink()
    for name, data in corpus().items():
        (directory / f"{name}.bin").write_bytes(data)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR)
    print(f"wrote {len(corpus())} seeds")
