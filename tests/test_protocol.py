"""Tests of host/protocol.py: CRC, COBS, frames, messages, the Deframer, multi-frame replies.

The corruption properties run derandomized: CRC-16 plus COBS structure plus the length field make
an undetected corruption a ~2^-24 event for multi-byte damage, not an impossibility (single bit
flips in the decoded frame are always caught), so a fixed example set keeps the suite stable.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host import protocol as P

FAST = settings(max_examples=200, deadline=None, derandomize=True)
MANY = settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def crc_reference(data: bytes) -> int:
    """Bit-serial CRC-16/CCITT-FALSE straight from the definition."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


payloads = st.binary(max_size=P.MAX_FRAME - P.OVERHEAD)
frames = st.builds(P.Frame, type=st.integers(0, 255), seq=st.integers(0, 255), payload=payloads)


class TestCrc16:
    def test_check_value(self):
        assert P.crc16(b"123456789") == 0x29B1  # the catalogue check value of CCITT-FALSE

    @FAST
    @given(st.binary(max_size=300))
    def test_matches_bitwise_definition(self, data):
        assert P.crc16(data) == crc_reference(data)

    @FAST
    @given(st.binary(max_size=300))
    def test_big_endian_append_leaves_zero_residue(self, data):
        assert P.crc16(data + P.crc16(data).to_bytes(2, "big")) == 0


class TestCobs:
    @pytest.mark.parametrize(
        "raw, enc",
        [  # the reference vectors of the COBS literature (Cheshire & Baker; Wikipedia's table)
            (b"\x00", b"\x01\x01"),
            (b"\x00\x00", b"\x01\x01\x01"),
            (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
            (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
            (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
            (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
            (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
            (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
            (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
        ],
    )
    def test_reference_vectors(self, raw, enc):
        assert P.cobs_encode(raw) == enc
        assert P.cobs_decode(enc) == raw

    @FAST
    @given(st.binary(max_size=700))
    def test_round_trip_without_zeros(self, data):
        enc = P.cobs_encode(data)
        assert 0 not in enc
        assert len(enc) <= len(data) + 1 + len(data) // 254
        assert P.cobs_decode(enc) == data

    @pytest.mark.parametrize(
        "enc, why",
        [(b"", "empty"), (b"\x05\x11\x22", "wants 4 bytes"), (b"\x03\x11\x00\x01", "zero byte")],
    )
    def test_invalid_rejected(self, enc, why):
        with pytest.raises(P.CobsError, match=why):
            P.cobs_decode(enc)


class TestFrames:
    @FAST
    @given(frames)
    def test_round_trip(self, frame):
        wire = P.encode_frame(frame.type, frame.seq, frame.payload)
        assert wire.endswith(b"\x00") and 0 not in wire[:-1]
        assert P.decode_frame(wire[:-1]) == frame

    def test_layout(self):
        raw = P.frame_bytes(0x06, 7, b"\x01\x02")
        assert raw[:4] == bytes((P.PROTOCOL_VERSION, 0x06, 7, 2))
        assert raw[4:6] == b"\x01\x02"
        assert int.from_bytes(raw[6:], "big") == crc_reference(raw[:6])

    def test_payload_limit(self):
        P.frame_bytes(1, 0, bytes(P.MAX_FRAME - P.OVERHEAD))
        with pytest.raises(ValueError, match="exceeds 247"):
            P.frame_bytes(1, 0, bytes(P.MAX_FRAME - P.OVERHEAD + 1))

    def test_each_failure_named(self):
        good = P.frame_bytes(0x81, 3, b"abc")
        with pytest.raises(P.FrameLengthError, match="shorter"):
            P.decode_frame(P.cobs_encode(good[:5]))
        bad_crc = good[:-1] + bytes((good[-1] ^ 1,))
        with pytest.raises(P.CrcError, match="bad CRC"):
            P.decode_frame(P.cobs_encode(bad_crc))
        body = bytes((1, 0x81, 3, 9)) + b"abc"  # length field lies
        with pytest.raises(P.FrameLengthError, match="length field says 9"):
            P.decode_frame(P.cobs_encode(body + P.crc16(body).to_bytes(2, "big")))
        other = P.frame_bytes(0x81, 3, b"abc", version=2)
        with pytest.raises(P.ProtocolVersionError, match="version 2") as e:
            P.decode_frame(P.cobs_encode(other))
        assert e.value.version == 2
        with pytest.raises(P.CobsError):
            P.decode_frame(P.cobs_encode(good)[:-1])


def corrupt(wire: bytes, kind: str, pos: int, value: int) -> bytes:
    body = wire[:-1]
    pos %= len(body)
    if kind == "flip":
        return body[:pos] + bytes((body[pos] ^ (1 << (value % 8)),)) + body[pos + 1 :] + b"\x00"
    if kind == "truncate":
        return body[: max(pos, 1) - 1] + b"\x00"
    if kind == "insert":
        return body[:pos] + bytes((value,)) + body[pos:] + b"\x00"
    if kind == "drop":
        return body[:pos] + body[pos + 1 :] + b"\x00"
    raise AssertionError(kind)


class TestCorruption:
    """Every corrupted frame is rejected: nothing of different content comes out."""

    @MANY
    @given(
        frames,
        st.sampled_from(["flip", "truncate", "insert", "drop"]),
        st.integers(0, 300),
        st.integers(0, 255),
    )
    def test_corrupted_frame_never_decodes_to_other_content(self, frame, kind, pos, value):
        wire = P.encode_frame(frame.type, frame.seq, frame.payload)
        bad = corrupt(wire, kind, pos, value)
        items = P.Deframer().feed(bad)
        # an inserted 0x00 in front only adds an empty frame: the original may survive intact
        assert all(x == frame for x in items if isinstance(x, P.Frame))
        if kind in ("flip", "truncate", "drop"):
            assert not any(isinstance(x, P.Frame) for x in items)

    @pytest.mark.parametrize("payload", [b"", b"\x00" * 8, bytes(range(1, 60)), bytes(range(200))])
    def test_every_single_bit_flip_rejected(self, payload):
        wire = P.encode_frame(0x84, 0x42, payload)
        for pos in range(len(wire) - 1):
            for bit in range(8):
                items = P.Deframer().feed(corrupt(wire, "flip", pos, bit))
                assert not any(isinstance(x, P.Frame) for x in items), (pos, bit)


class TestDeframer:
    @FAST
    @given(st.lists(frames, max_size=6), st.lists(st.integers(1, 40), max_size=30))
    def test_split_anywhere_same_frames(self, fs, cuts):
        wire = b"".join(P.encode_frame(f.type, f.seq, f.payload) for f in fs)
        d, out, i = P.Deframer(), [], 0
        for c in cuts:
            out += d.feed(wire[i : i + c])
            i += c
        out += d.feed(wire[i:])
        assert out == fs
        assert d.pending == 0

    @FAST
    @given(st.binary(max_size=80), frames)
    def test_resync_after_garbage(self, garbage, frame):
        wire = P.encode_frame(frame.type, frame.seq, frame.payload)
        items = P.Deframer().feed(garbage + b"\x00" + wire)
        assert items[-1] == frame
        assert all(x == frame or isinstance(x, P.FrameError) for x in items)

    def test_overlong_dropped_then_recovers(self):
        d = P.Deframer()
        ok = P.encode_frame(0x81, 1, b"x")
        items = d.feed(b"\x01" * 400 + b"\x00" + ok)
        assert isinstance(items[0], P.FrameLengthError)
        assert items[1] == P.Frame(0x81, 1, b"x")
        assert (d.frames, d.errors) == (1, 1)

    def test_partial_frame_reported(self):
        d = P.Deframer()
        wire = P.encode_frame(0x81, 1, b"hello")
        assert d.feed(wire[:4]) == []
        assert d.pending == 4
        err = d.take_partial()
        assert isinstance(err, P.PartialFrameError) and "4 bytes" in str(err)
        assert d.take_partial() is None
        assert d.feed(wire) == [P.Frame(0x81, 1, b"hello")]

    def test_empty_frames_ignored(self):
        assert P.Deframer().feed(b"\x00\x00\x00") == []


class TestMessages:
    @FAST
    @given(
        st.one_of(
            st.builds(P.Ping, st.binary(max_size=40)),
            st.builds(P.Pong, st.binary(max_size=40)),
            st.just(P.InfoRequest()),
            st.builds(P.SetLevels, st.integers(0, 65535)),
            st.builds(P.Get, st.integers(0, 255)),
            st.builds(P.Set, st.integers(0, 255), st.integers(-(2**31), 2**31 - 1)),
            st.just(P.Save()),
            st.builds(P.Reset, st.integers(0, 255)),
            st.builds(P.Hello, *[st.integers(0, 255)] * 6),
            st.builds(
                P.Name,
                st.integers(0, 1),
                st.integers(0, 255),
                st.from_regex(r"\A[a-z_0-9]{0,16}\Z"),
            ),
            st.builds(P.Data, st.integers(0, 255), st.binary(max_size=100)),
            st.builds(P.Done, st.integers(0, 65535), st.integers(0, 65535)),
            st.builds(P.Ack, st.integers(0, 255)),
            st.builds(
                P.Levels, st.integers(0, 65535), st.integers(0, 2**32 - 1), st.binary(max_size=90)
            ),
            st.builds(P.Value, st.integers(0, 255), st.integers(-(2**31), 2**31 - 1)),
            st.builds(P.Error, *[st.integers(0, 255)] * 3),
        ),
        st.integers(0, 255),
    )
    def test_round_trip(self, msg, seq):
        (frame,) = P.Deframer().feed(msg.encode(seq))
        assert frame.seq == seq and frame.type == msg.TYPE
        assert P.parse_message(frame) == msg

    @FAST
    @given(st.lists(st.integers(-32768, 32767), max_size=P.MAX_PROCESS_SAMPLES), st.booleans())
    def test_process_round_trip(self, samples, from_reset):
        msg = P.Process(samples, from_reset)
        back = P.parse_message(P.decode_frame(msg.encode(1)[:-1]))
        assert list(back.samples) == samples and back.from_reset == from_reset
        assert len(msg.payload()) == 1 + 2 * len(samples)

    def test_info_round_trip_and_size(self):
        info = P.Info(1, 2, 3, 19230769, 3, 0, 15, 14, 64, 2, 5, 6, 7, bytes(range(32)))
        assert len(info.payload()) == P.INFO_SIZE
        assert P.Info.from_payload(info.payload()) == info
        assert info.fs_hz == pytest.approx(19230.769) and info.fw_version == "1.2.3"

    def test_process_limits(self):
        with pytest.raises(ValueError, match="int16"):
            P.Process([40000]).payload()
        with pytest.raises(ValueError, match="<= 123"):
            P.Process([0] * (P.MAX_PROCESS_SAMPLES + 1)).payload()

    @pytest.mark.parametrize(
        "type_, payload",
        [(0x88, b"\x01"), (0x82, bytes(52)), (0x83, b"\x01"), (0x84, b""), (0x03, b"\x00\x01")],
    )
    def test_bad_payload_named(self, type_, payload):
        with pytest.raises(P.PayloadError, match=P.MsgType(type_).name):
            P.parse_message(P.Frame(type_, 0, payload))

    def test_unknown_type(self):
        with pytest.raises(P.PayloadError, match="unknown frame type 0x42"):
            P.parse_message(P.Frame(0x42, 0, b""))

    def test_expect(self):
        value = P.Frame(P.MsgType.VALUE, 5, P.Value(3, -7).payload())
        assert P.expect(value, P.Value, 5) == P.Value(3, -7)
        with pytest.raises(P.UnexpectedTypeError, match="expected Ack"):
            P.expect(value, P.Ack)
        with pytest.raises(P.UnexpectedTypeError, match="seq 5, expected seq 6"):
            P.expect(value, P.Value, 6)
        err = P.Frame(P.MsgType.ERROR, 5, P.Error(6, P.MsgType.SET, 3).payload())
        with pytest.raises(P.DeviceError, match="OUT_OF_RANGE for SET") as e:
            P.expect(err, P.Value, 5)
        assert (e.value.code, e.value.name, e.value.detail) == (6, "OUT_OF_RANGE", 3)
        assert "code 99" in str(P.DeviceError(99, 0x42))


def outputs(n, bands, fmt, seed=0):
    rng = np.random.default_rng(seed)
    if fmt == P.ValueFormat.INT16:
        y = rng.integers(-32768, 32768, (n, bands)).astype(np.int16)
        env = rng.integers(0, 32768, (n, bands)).astype(np.int16)
    else:
        y = rng.standard_normal((n, bands)).astype(np.float32)
        env = np.abs(y)
    return P.BandOutputs(y, env, rng.integers(0, 256, (n, bands)).astype(np.uint8))


class TestRecords:
    @pytest.mark.parametrize("fmt, size", [(P.ValueFormat.INT16, 5), (P.ValueFormat.FLOAT32, 9)])
    def test_round_trip(self, fmt, size):
        out = outputs(11, 3, fmt)
        data = P.encode_records(out, fmt)
        assert len(data) == 11 * 3 * size
        back = P.decode_records(data, 3, fmt)
        for f in ("y", "env", "led"):
            np.testing.assert_array_equal(getattr(back, f), getattr(out, f))

    def test_layout_little_endian(self):
        out = P.BandOutputs(
            np.array([[-2]], np.int16), np.array([[258]], np.int16), np.array([[9]], np.uint8)
        )
        assert P.encode_records(out, P.ValueFormat.INT16) == b"\xfe\xff\x02\x01\x09"

    def test_ragged_rejected(self):
        with pytest.raises(P.PayloadError, match="rows of 3 bands"):
            P.decode_records(bytes(14), 3, P.ValueFormat.INT16)


def process_frames(seq, out, fmt, chunk_size):
    data = P.encode_records(out, fmt)
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    frames = [P.Frame(P.MsgType.DATA, seq, P.Data(i, c).payload()) for i, c in enumerate(chunks)]
    done = P.Done(out.y.shape[0], len(chunks))
    return frames + [P.Frame(P.MsgType.DONE, seq, done.payload())]


class TestReplies:
    @pytest.mark.parametrize("fmt", list(P.ValueFormat))
    def test_process_reply(self, fmt):
        out = outputs(40, 3, fmt)
        reply = P.ProcessReply(9, 40, 3, fmt)
        fs = process_frames(9, out, fmt, 57)
        assert [reply.feed(f) for f in fs] == [False] * (len(fs) - 1) + [True]
        np.testing.assert_array_equal(reply.result().led, out.led)
        with pytest.raises(P.UnexpectedTypeError, match="complete"):
            reply.feed(fs[-1])

    def test_process_reply_missing_chunk(self):
        fs = process_frames(9, outputs(40, 3, 0), 0, 57)
        reply = P.ProcessReply(9, 40, 3, 0)
        reply.feed(fs[0])
        with pytest.raises(P.PayloadError, match="chunk 2, expected 1"):
            reply.feed(fs[2])

    def test_process_reply_count_mismatch(self):
        fs = process_frames(9, outputs(40, 3, 0), 0, 57)
        reply = P.ProcessReply(9, 41, 3, 0)
        for f in fs[:-1]:
            reply.feed(f)
        with pytest.raises(P.PayloadError, match="DONE says 40 samples"):
            reply.feed(fs[-1])

    def test_process_reply_device_error(self):
        reply = P.ProcessReply(9, 40, 3, 0)
        with pytest.raises(P.DeviceError, match="APP_FAILED"):
            reply.feed(P.Frame(P.MsgType.ERROR, 9, P.Error(9, 3).payload()))
        assert pytest.raises(P.PayloadError, reply.result)

    def test_info_reply(self):
        info = P.Info(0, 1, 0, 44100000, 2, 1, 0, 0, 123, 0, 0, 0, 0, bytes(32))
        fs = [P.Frame(P.MsgType.INFO_REPLY, 4, info.payload())] + [
            P.Frame(P.MsgType.NAME, 4, P.Name(k, i, n).payload())
            for k, i, n in [(0, 0, "esp32dev"), (1, 0, "low"), (1, 1, "high")]
        ]
        reply = P.InfoReply(4)
        assert [reply.feed(f) for f in fs] == [False, False, False, True]
        assert reply.result() == dataclasses.replace(
            info, board="esp32dev", band_names=("low", "high")
        )
        reply = P.InfoReply(4)
        reply.feed(fs[0])
        with pytest.raises(P.PayloadError, match="out of order"):
            reply.feed(fs[2])
