"""The C link (firmware_templates/lib/organ_link) compiled natively with ASan + UBSan, driven with
frames from host/protocol.py through tests/link_c/driver.c and the mock application.

Expected PROCESS/LEVELS results come from MockModel, a Python mirror of tests/link_c/mock_app.c;
expected storage images from StoreImage, a mirror of organ_store.h's layout (both in
tests/link_c/mirror.py).
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require_tool

from host import protocol as P

sys.path.insert(0, str(Path(__file__).parent))
from link_c import cbuild  # noqa: E402
from link_c.mirror import BOUNDS, DEFAULTS, MOCK_HASH, MockModel, StoreImage  # noqa: E402

ERASED = 0xFF
LYING = bytes((1, P.MsgType.GET, 1, 5, 0))  # says 5 payload bytes, carries 1
AVR_BUFFERS = ["-DORGAN_LINK_RX_MAX=136u", "-DORGAN_LINK_TX_MAX=64u"]
VARIANTS = {  # name: (defines, bands, value format, rx_max, tx_max)
    "host": ([], 3, P.ValueFormat.INT16, 253, 253),
    "avr": (AVR_BUFFERS, 3, P.ValueFormat.INT16, 136, 64),
    "float7": (["-DMOCK_FLOAT", "-DMOCK_BANDS=7"], 7, P.ValueFormat.FLOAT32, 253, 253),
}


def F(*msgs_or_bytes, seq0: int = 1) -> bytes:
    """A 'feed' op carrying messages (numbered from seq0) or raw bytes."""
    data = b"".join(
        m if isinstance(m, bytes) else m.encode(seq0 + i) for i, m in enumerate(msgs_or_bytes)
    )
    return b"F" + struct.pack("<H", len(data)) + data


def T(now_ms: int) -> bytes:
    return b"T" + struct.pack("<HH", 2, now_ms & 0xFFFF)


def O(overruns: int) -> bytes:  # noqa: E743
    return b"O" + struct.pack("<HI", 4, overruns)


class Device:
    """One driver binary plus a storage file that persists across runs (power cycles)."""

    def __init__(self, exe: Path, storage: Path, size: int = 1024):
        self.exe, self.storage, self.size = exe, storage, size
        self.raw = b""

    def run(self, *ops: bytes) -> list[P.Frame]:
        r = subprocess.run(
            [str(self.exe), str(self.storage), str(self.size)],
            input=b"".join(ops),
            capture_output=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        self.raw = r.stdout
        items = P.Deframer().feed(r.stdout)
        assert all(isinstance(x, P.Frame) for x in items), items
        # the C encoder and the Python one agree byte for byte
        assert b"".join(P.encode_frame(f.type, f.seq, f.payload) for f in items) == r.stdout
        return items

    def messages(self, *ops: bytes) -> list[P.Message]:
        return [P.parse_message(f) for f in self.run(*ops)]

    def info(self, *ops: bytes) -> P.Info:
        frames = self.run(*ops, F(P.InfoRequest(), seq0=200))
        reply = P.InfoReply(200)
        done = [reply.feed(f) for f in frames if f.seq == 200]
        assert done[-1]
        return reply.result()

    def image(self) -> bytes:
        return self.storage.read_bytes()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    require_tool("gcc")
    out = tmp_path_factory.mktemp("link_c")
    exes = {name: cbuild.build_driver(out / f"driver_{name}", v[0]) for name, v in VARIANTS.items()}
    exes["minimal"] = cbuild.build_driver(out / "driver_minimal", ["-DMOCK_MINIMAL"])
    exes["too_big"] = cbuild.build_driver(
        out / "driver_too_big", [*AVR_BUFFERS, "-DMOCK_FLOAT", "-DMOCK_BANDS=7"]
    )
    return exes


@pytest.fixture(params=list(VARIANTS))
def variant(request, builds, tmp_path):
    defines, bands, fmt, rx, tx = VARIANTS[request.param]
    return Device(builds[request.param], tmp_path / "eeprom.bin"), bands, fmt, rx, tx


@pytest.fixture
def dev(builds, tmp_path):
    return Device(builds["host"], tmp_path / "eeprom.bin")


class TestBootAndInfo:
    def test_hello_first(self, variant):
        d, bands, fmt, _, _ = variant
        (hello,) = d.messages()
        assert hello == P.Hello(0, 1, 0, P.ParamsStatus.ABSENT, bands, fmt)
        assert d.run()[0].seq == 0

    def test_info(self, variant):
        d, bands, fmt, rx, _ = variant
        info = d.info()
        assert (info.n_bands, info.value_format, info.fs_millihz) == (bands, fmt, 19230769)
        assert info.max_samples == (rx - 7) // 2
        assert info.design_hash == MOCK_HASH
        assert info.board == "mock"
        assert info.band_names[:3] == ("bass", "mid", "treble") and len(info.band_names) == bands
        assert info.params_status == P.ParamsStatus.ABSENT
        assert (info.bad_frames, info.oversized_frames, info.overruns) == (0, 0, 0)

    def test_overruns_reported(self, dev):
        assert dev.info(O(0xDEADBEEF)).overruns == 0xDEADBEEF

    def test_levels_that_cannot_fit_refused_at_init(self, builds, tmp_path):
        r = subprocess.run(
            [str(builds["too_big"]), str(tmp_path / "e")], input=b"", capture_output=True
        )
        assert r.returncode == 4 and b"boot failed" in r.stderr


class TestProcess:
    def test_matches_model_across_blocks(self, variant):
        d, bands, fmt, rx, tx = variant
        n = (rx - 7) // 2
        rng = np.random.default_rng(1)
        blocks = [rng.integers(-32768, 32768, n), rng.integers(-300, 300, n), np.full(5, -32768)]
        flags = [True, False, False]
        frames = d.run(F(*[P.Process(b, f) for b, f in zip(blocks, flags, strict=True)]))
        model = MockModel(bands, fmt)
        for i, (b, f) in enumerate(zip(blocks, flags, strict=True)):
            reply = P.ProcessReply(1 + i, len(b), bands, fmt)
            mine = [fr for fr in frames if fr.seq == 1 + i and fr.type != P.MsgType.HELLO]
            assert [reply.feed(fr) for fr in mine][-1]
            got, want = reply.result(), model.process(b, f)
            for field in ("y", "env", "led"):
                np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
            # every chunk but the last fills the transmit buffer
            sizes = [len(fr.payload) + P.OVERHEAD for fr in mine[:-2]]
            assert all(s == tx for s in sizes)

    def test_from_reset_restarts_state(self, dev):
        x = np.arange(-40, 40) * 400
        frames = dev.run(F(P.Process(x, True), P.Process(x, False), P.Process(x, True)))
        res = []
        for seq in (1, 2, 3):
            reply = P.ProcessReply(seq, len(x), 3, 0)
            for fr in frames[1:]:
                if fr.seq == seq:
                    reply.feed(fr)
            res.append(reply.result().y)
        np.testing.assert_array_equal(res[0], res[2])
        assert not np.array_equal(res[0], res[1])

    def test_empty_block(self, dev):
        msgs = dev.messages(F(P.Process([], True)))
        assert msgs[1:] == [P.Done(0, 0)]

    def test_reserved_flag_bits_refused(self, dev):
        bad = P.encode_frame(P.MsgType.PROCESS, 4, b"\x02\x00\x00")
        assert dev.messages(F(bad))[1] == P.Error(P.ErrorCode.BAD_ARGUMENT, P.MsgType.PROCESS, 2)

    def test_wrong_result_size_is_an_error(self, dev):
        msgs = dev.messages(F(P.Set(9, 1), P.Process([1, 2, 3], True)))
        assert msgs[-1] == P.Error(P.ErrorCode.APP_FAILED, P.MsgType.PROCESS, 0)
        assert not any(isinstance(m, P.Done) for m in msgs)

    def test_byte_by_byte_feeding(self, dev):
        wire = P.Process(list(range(50)), True).encode(7) + P.Get(0).encode(8)
        frames_split = dev.run(*[F(wire[i : i + 1]) for i in range(len(wire))])
        frames_whole = dev.run(F(wire))
        assert frames_split == frames_whole and frames_whole[-1].type == P.MsgType.VALUE


class TestParameters:
    def test_get_set(self, dev):
        msgs = dev.messages(F(P.Get(0), P.Set(0, 300), P.Get(0)))
        assert msgs[1:] == [P.Value(0, 128), P.Value(0, 300), P.Value(0, 300)]

    @pytest.mark.parametrize("pid", sorted(BOUNDS))
    def test_bounds_relayed(self, dev, pid):
        lo, hi = BOUNDS[pid]
        msgs = dev.messages(F(P.Set(pid, hi + 1), P.Set(pid, lo - 1), P.Set(pid, hi), P.Get(pid)))
        err = P.Error(P.ErrorCode.OUT_OF_RANGE, P.MsgType.SET, pid)
        assert msgs[1:] == [err, err, P.Value(pid, hi), P.Value(pid, hi)]

    def test_unknown_param(self, dev):
        msgs = dev.messages(F(P.Get(3), P.Set(77, 0)))
        assert msgs[1:] == [
            P.Error(P.ErrorCode.UNKNOWN_PARAM, P.MsgType.GET, 3),
            P.Error(P.ErrorCode.UNKNOWN_PARAM, P.MsgType.SET, 77),
        ]

    def test_set_changes_processing(self, dev):
        x = [1000] * 10
        frames = dev.run(F(P.Set(0, 256), P.Process(x, True)))
        reply = P.ProcessReply(2, 10, 3, 0)
        for fr in frames[2:]:
            reply.feed(fr)
        model = MockModel(3, 0)
        model.params[0] = 256
        np.testing.assert_array_equal(reply.result().y, model.process(x, True).y)


class TestStore:
    def test_save_image_layout(self, dev):
        dev.run(F(P.Set(0, 200), P.Set(5, 0), P.Save()))
        img = StoreImage.from_bytes(dev.image())
        assert img.magic == b"ORGP" and img.version == 1
        assert img.tag == int.from_bytes(MOCK_HASH[:4], "little")
        assert dict(img.records) == {**DEFAULTS, 0: 200, 5: 0}
        assert dev.image()[: len(img.to_bytes())] == img.to_bytes()

    def test_saved_values_survive_power_cycle(self, dev):
        assert dev.messages(F(P.Set(2, 1500), P.Save()))[-1] == P.Ack(P.MsgType.SAVE)
        msgs = dev.messages(F(P.Get(2)))
        assert msgs == [P.Hello(0, 1, 0, P.ParamsStatus.LOADED, 3, 0), P.Value(2, 1500)]

    def test_set_without_save_is_not_persisted(self, dev):
        dev.run(F(P.Set(2, 1500)))
        assert dev.messages(F(P.Get(2)))[1] == P.Value(2, 0)
        assert set(dev.image()) == {ERASED}

    def test_reboot_command(self, dev):
        # the driver reboots after the feed op, as a board does once the ACK is out
        msgs = dev.messages(
            F(P.Set(1, 5), P.Save(), P.Set(1, 9), P.Reset(P.ResetKind.REBOOT)), F(P.Get(1))
        )
        assert msgs[4] == P.Ack(P.MsgType.RESET)
        assert msgs[5] == P.Hello(0, 1, 0, P.ParamsStatus.LOADED, 3, 0)
        assert msgs[6] == P.Value(1, 5)

    def corrupted_boot(self, dev, image: bytes) -> tuple[P.Info, P.Message]:
        dev.storage.write_bytes(image + bytes([ERASED]) * (dev.size - len(image)))
        frames = dev.run(F(P.Get(0), seq0=100), F(P.InfoRequest(), seq0=200))
        reply = P.InfoReply(200)
        for f in frames:
            if f.seq == 200:
                reply.feed(f)
        return reply.result(), P.parse_message(frames[1])

    @pytest.mark.parametrize("offset", [0, 4, 5, 7, 10, 12, 33, 35, 36])
    def test_corrupt_byte_restores_defaults(self, dev, offset):
        image = bytearray(StoreImage([(0, 300), (1, 7), (2, 9), (5, 0), (9, 0)]).to_bytes())
        image[offset] ^= 0x10
        info, value = self.corrupted_boot(dev, bytes(image))
        want = {0: P.ParamsStatus.CORRUPT, 4: P.ParamsStatus.OLD_VERSION}
        assert info.params_status == want.get(offset, P.ParamsStatus.CORRUPT)
        assert value == P.Value(0, DEFAULTS[0])

    @pytest.mark.parametrize(
        "image, status",
        [
            (StoreImage([(0, 300)]).to_bytes(), P.ParamsStatus.LOADED),
            (b"", P.ParamsStatus.ABSENT),
            (bytes(12), P.ParamsStatus.ABSENT),
            (StoreImage([(0, 300)], version=2).to_bytes(), P.ParamsStatus.OLD_VERSION),
            (StoreImage([(0, 300)], tag=1234).to_bytes(), P.ParamsStatus.OTHER_DESIGN),
            (StoreImage([(1, 3), (0, 999)]).to_bytes(), P.ParamsStatus.REJECTED),
            (StoreImage([(1, 3), (42, 1)]).to_bytes(), P.ParamsStatus.REJECTED),
            (StoreImage([(0, 300)]).to_bytes()[:-1], P.ParamsStatus.CORRUPT),
            (StoreImage([(0, 1)] * 33).to_bytes(), P.ParamsStatus.CORRUPT),
        ],
    )
    def test_load_status(self, dev, image, status):
        info, value = self.corrupted_boot(dev, image)
        assert info.params_status == status
        assert value == P.Value(0, 300 if status == P.ParamsStatus.LOADED else DEFAULTS[0])

    def test_rejected_image_leaves_no_partial_values(self, dev):
        info, _ = self.corrupted_boot(dev, StoreImage([(1, 3), (0, 999)]).to_bytes())
        assert dev.messages(F(P.Get(1)))[1] == P.Value(1, DEFAULTS[1])

    def test_storage_too_small(self, builds, tmp_path):
        d = Device(builds["host"], tmp_path / "small.bin", size=20)
        msgs = d.messages(F(P.Save()))
        assert msgs[1] == P.Error(P.ErrorCode.STORE_FAILED, P.MsgType.SAVE, 0)
        assert msgs[0].params_status == P.ParamsStatus.ABSENT


class TestReset:
    def test_kinds(self, dev):
        x = [5000] * 8
        frames = dev.run(
            F(P.Process(x, True), P.Set(0, 64), P.Reset(P.ResetKind.STATE), P.Process(x, False))
            + F(P.Reset(P.ResetKind.PARAMS), P.Get(0), seq0=10)
        )
        msgs = {(f.seq, f.type): P.parse_message(f) for f in frames}
        assert msgs[(3, P.MsgType.ACK)] == P.Ack(P.MsgType.RESET)
        model = MockModel(3, 0)
        model.params[0] = 64
        want = model.process(x, True)
        reply = P.ProcessReply(4, 8, 3, 0)
        for f in frames:
            if f.seq == 4:
                reply.feed(f)
        np.testing.assert_array_equal(reply.result().y, want.y)
        assert msgs[(11, P.MsgType.VALUE)] == P.Value(0, DEFAULTS[0])

    def test_unknown_kind(self, dev):
        assert dev.messages(F(P.Reset(3)))[1] == P.Error(
            P.ErrorCode.BAD_ARGUMENT, P.MsgType.RESET, 3
        )


class TestLevels:
    def test_stream(self, variant):
        d, bands, fmt, _, _ = variant
        x = [3000] * 20
        frames = d.run(
            F(P.Process(x, True), P.SetLevels(50)),
            O(7),
            T(1000),
            T(1010),
            T(1049),
            T(1050),
            T(1120),
            F(P.SetLevels(0), seq0=9),
            T(2000),
        )
        lv = [P.parse_message(f) for f in frames if f.type == P.MsgType.LEVELS_DATA]
        assert [m.counter for m in lv] == [0, 1, 2]  # at 1000 (due at once), 1050, 1120
        assert all(f.seq == 2 for f in frames if f.type == P.MsgType.LEVELS_DATA)
        assert lv[0].overruns == 7
        model = MockModel(bands, fmt)
        model.process(x, True)
        want = model.outputs()
        got = lv[0].outputs(bands, fmt)
        for b in range(bands):
            assert (got.y[0, b], got.env[0, b], got.led[0, b]) == want[b]

    def test_wrap_around_clock(self, dev):
        frames = dev.run(F(P.SetLevels(100)), T(65500), T(65535), T(64), T(65))
        assert sum(f.type == P.MsgType.LEVELS_DATA for f in frames) == 2

    @pytest.mark.parametrize("period", [1, 9, 60001, 65535])
    def test_period_bounds(self, dev, period):
        msgs = dev.messages(F(P.SetLevels(period)), T(0), T(500))
        assert msgs[1:] == [P.Error(P.ErrorCode.OUT_OF_RANGE, P.MsgType.LEVELS, 0)]

    def test_oversized_levels_record_is_an_error(self, dev):
        msgs = dev.messages(F(P.Set(9, 2), P.SetLevels(10)), T(0))
        assert msgs[-1] == P.Error(P.ErrorCode.APP_FAILED, P.MsgType.LEVELS, 0)


class TestMalformed:
    def counters(self, dev, *ops) -> tuple[int, int, P.Message]:
        frames = dev.run(*ops, F(P.Get(0), seq0=50), F(P.InfoRequest(), seq0=51))
        after = [P.parse_message(f) for f in frames if f.seq == 50]
        reply = P.InfoReply(51)
        for f in frames:
            if f.seq == 51:
                reply.feed(f)
        assert not any(f.seq not in (0, 50, 51) for f in frames), "malformed frame answered"
        info = reply.result()
        return info.bad_frames, info.oversized_frames, after[0]

    @pytest.mark.parametrize(
        "bad",
        [
            P.cobs_encode(P.frame_bytes(5, 1, b"\x00")[:-1] + b"\x99") + b"\x00",  # CRC
            P.encode_frame(5, 1, b"\x00")[:-3] + b"\x00",  # COBS block cut short
            P.cobs_encode(b"\x01\x05\x01") + b"\x00",  # shorter than a header + CRC
            P.cobs_encode(LYING + P.crc16(LYING).to_bytes(2, "big")) + b"\x00",  # length field
            b"\x13\x37\x42\x00",  # line noise
        ],
    )
    def test_counted_dropped_and_resynced(self, dev, bad):
        assert self.counters(dev, F(bad)) == (1, 0, P.Value(0, 128))

    @pytest.mark.parametrize("name", ["host", "avr"])
    def test_oversized_counted_and_dropped(self, builds, tmp_path, name):
        d = Device(builds[name], tmp_path / "e.bin")
        rx = VARIANTS[name][3]
        body = bytes((1, P.MsgType.PING, 1, 0)) + b"\x55" * (rx - 5)
        too_long = P.cobs_encode(body + P.crc16(body).to_bytes(2, "big")) + b"\x00"
        noise = b"\x33" * 2000 + b"\x00"
        assert self.counters(d, F(too_long), F(noise)) == (0, 2, P.Value(0, 128))

    def test_largest_frame_accepted(self, builds, tmp_path):
        d = Device(builds["avr"], tmp_path / "e.bin")
        n = (136 - 7) // 2
        msgs = d.messages(F(P.Process(list(range(n)), True)))
        assert msgs[-1] == P.Done(n, -(-n * 15 // 57))

    def test_counters_saturate_not_wrap(self, dev):
        noise = F(b"\x02\x01\x00" * 20000)  # 20000 one-byte frames per op
        assert self.counters(dev, noise, noise, noise, noise)[0] == 65535

    @pytest.mark.parametrize("type_", [0x00, 0x09, 0x42, 0x80, 0x84, 0xFF])
    def test_unknown_command(self, dev, type_):
        msgs = dev.messages(F(P.encode_frame(type_, 3, b"\x01\x02")))
        assert msgs[1] == P.Error(P.ErrorCode.UNKNOWN_COMMAND, type_, 0)

    @pytest.mark.parametrize(
        "type_, payload",
        [
            (P.MsgType.INFO, b"\x00"),
            (P.MsgType.GET, b""),
            (P.MsgType.SET, b"\x00\x01"),
            (P.MsgType.LEVELS, b"\x10"),
            (P.MsgType.SAVE, b"\x01"),
            (P.MsgType.RESET, b""),
            (P.MsgType.PROCESS, b""),
            (P.MsgType.PROCESS, b"\x00\x01"),
        ],
    )
    def test_bad_length(self, dev, type_, payload):
        msgs = dev.messages(F(P.encode_frame(type_, 3, payload)))
        assert msgs[1] == P.Error(P.ErrorCode.BAD_LENGTH, type_, len(payload))

    def test_other_protocol_version_answered(self, dev):
        msgs = dev.messages(F(P.encode_frame(P.MsgType.GET, 6, b"\x00", version=2)))
        assert msgs[1] == P.Error(P.ErrorCode.BAD_VERSION, P.MsgType.GET, 2)
        assert dev.run(F(P.encode_frame(P.MsgType.GET, 6, b"\x00", version=2)))[1].version == 1

    def test_ping_echo_and_limit(self, builds, tmp_path):
        d = Device(builds["avr"], tmp_path / "e.bin")
        fits, too_big = bytes(range(1, 59)), bytes(59)
        msgs = d.messages(F(P.Ping(fits), P.Ping(too_big)))
        assert msgs[1:] == [P.Pong(fits), P.Error(P.ErrorCode.BAD_LENGTH, P.MsgType.PING, 59)]


class TestMinimalApp:
    @pytest.mark.parametrize(
        "msg",
        [P.Process([1], True), P.SetLevels(100), P.Get(0), P.Set(0, 1), P.Save(), P.Reset(0)],
    )
    def test_missing_hooks_unsupported(self, builds, tmp_path, msg):
        d = Device(builds["minimal"], tmp_path / "e.bin")
        assert d.messages(F(msg))[1] == P.Error(P.ErrorCode.UNSUPPORTED, msg.TYPE, 0)

    def test_info_still_works(self, builds, tmp_path):
        info = Device(builds["minimal"], tmp_path / "e.bin").info()
        assert info.overruns == 0 and info.band_names == ("bass", "mid", "treble")


class TestCrossCompile:
    def test_avr_strict_and_small(self, tmp_path):
        require_tool("avr-gcc", "avr-size", "avr-nm")
        sizes = cbuild.avr_sizes(tmp_path)
        print(f"AVR link cost: {sizes}")
        assert sizes["link_struct"] <= 256  # of a 1 KB static RAM budget for everything
        assert sizes["flash"] <= 4608  # of a 16 KB flash budget (with a minimal hooks table)

    def test_riscv_strict(self, tmp_path):
        require_tool("riscv64-unknown-elf-gcc")
        for src in cbuild.LINK_SOURCES:
            r = subprocess.run(
                [
                    "riscv64-unknown-elf-gcc",
                    "-march=rv32imc",
                    "-mabi=ilp32",
                    "--specs=picolibc.specs",
                    *cbuild.STRICT,
                    "-Os",
                    "-c",
                    str(src),
                    "-o",
                    str(tmp_path / (src.stem + ".o")),
                ],
                capture_output=True,
                text=True,
            )
            assert r.returncode == 0, r.stderr
