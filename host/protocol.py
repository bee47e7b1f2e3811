"""The color organ's serial protocol: the host-side codec (spec: docs/protocol.md).

Mirrors ``firmware_templates/lib/organ_link`` byte for byte. A frame on the wire is COBS-encoded and
ends with one 0x00; decoded it is ``[version][type][seq][len][payload][crc16 big-endian]`` with the
CRC-16/CCITT-FALSE over version..payload. Multi-byte payload fields are little-endian.

No serial I/O here: the Board client feeds received bytes to a :class:`Deframer`, gets
:class:`Frame` objects, and turns them into messages with :func:`parse_message` / :func:`expect`
or, for multi-frame replies, :class:`InfoReply` and :class:`ProcessReply`.
"""

from __future__ import annotations

import binascii
import dataclasses
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

import numpy as np

PROTOCOL_VERSION = 1
HEADER_SIZE = 4
CRC_SIZE = 2
OVERHEAD = HEADER_SIZE + CRC_SIZE
MAX_FRAME = 253  # decoded bytes (header + payload + CRC), either direction
MAX_PROCESS_SAMPLES = (MAX_FRAME - OVERHEAD - 1) // 2  # the largest any firmware accepts
INFO_SIZE = 53
NAME_MAX = 16
HASH_SIZE = 32
LEVELS_MIN_MS = 10
LEVELS_MAX_MS = 60000
PROCESS_FROM_RESET = 0x01


class MsgType(IntEnum):
    """Frame types: commands (host to device) below 0x80, replies and reports above."""

    PING = 0x01
    INFO = 0x02
    PROCESS = 0x03
    LEVELS = 0x04
    GET = 0x05
    SET = 0x06
    SAVE = 0x07
    RESET = 0x08
    HELLO = 0x80
    PONG = 0x81
    INFO_REPLY = 0x82
    NAME = 0x83
    DATA = 0x84
    DONE = 0x85
    ACK = 0x86
    LEVELS_DATA = 0x87
    VALUE = 0x88
    ERROR = 0xFF


class ErrorCode(IntEnum):
    """Codes of ERROR frames (organ_link.h ``ORGAN_LINK_E_*``)."""

    BAD_VERSION = 1
    UNKNOWN_COMMAND = 2
    BAD_LENGTH = 3
    BAD_ARGUMENT = 4
    UNKNOWN_PARAM = 5
    OUT_OF_RANGE = 6
    STORE_FAILED = 7
    UNSUPPORTED = 8
    APP_FAILED = 9


class ParamsStatus(IntEnum):
    """Where the runtime parameters came from at boot (organ_store.h ``ORGAN_STORE_*``)."""

    LOADED = 0
    ABSENT = 1
    CORRUPT = 2
    OLD_VERSION = 3
    OTHER_DESIGN = 4
    REJECTED = 5
    UNAVAILABLE = 6


class ValueFormat(IntEnum):
    """Encoding of y and env in band records."""

    INT16 = 0
    FLOAT32 = 1


class ResetKind(IntEnum):
    STATE = 0
    PARAMS = 1
    REBOOT = 2


class NameKind(IntEnum):
    BOARD = 0
    BAND = 1


# ---- errors -----------------------------------------------------------------------------------


class ProtocolError(Exception):
    """Anything wrong on the link; the subclass says exactly what."""


class FrameError(ProtocolError):
    """A frame that cannot be trusted; it is dropped (the stream resyncs at the next 0x00)."""


class PartialFrameError(FrameError):
    """Bytes of a frame arrived but its 0x00 delimiter never did."""


class CobsError(FrameError):
    """The bytes between two delimiters are not valid COBS."""


class CrcError(FrameError):
    """The CRC does not match the frame's content."""


class FrameLengthError(FrameError):
    """Too short, too long, or the header's length field disagrees with the frame."""


class ProtocolVersionError(FrameError):
    """An intact frame of another protocol version."""

    def __init__(self, version: int):
        self.version = version
        super().__init__(
            f"protocol version mismatch: the device speaks version {version}, "
            f"this host speaks {PROTOCOL_VERSION}"
        )


class PayloadError(ProtocolError):
    """An intact frame whose payload does not fit its type, or a reply that does not add up."""


class UnexpectedTypeError(ProtocolError):
    """A valid message, but not the one the exchange called for."""


class DeviceError(ProtocolError):
    """The device answered with an ERROR frame."""

    def __init__(self, code: int, command: int, detail: int = 0):
        self.code, self.command, self.detail = code, command, detail
        self.name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else f"code {code}"
        cmd = MsgType(command).name if command in MsgType._value2member_map_ else hex(command)
        super().__init__(f"device error {code} {self.name} for {cmd} (detail {detail})")


# ---- CRC, COBS, frames ------------------------------------------------------------------------


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)."""
    return binascii.crc_hqx(data, crc)


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode (no delimiter). Frames of at most 253 bytes never need a 0xFF code."""
    out = bytearray()
    parts = bytes(data).split(b"\x00")
    for i, part in enumerate(parts):
        full = False
        while len(part) >= 254:
            out += b"\xff" + part[:254]
            part, full = part[254:], True
        if part or not full or i < len(parts) - 1:  # a full last block needs no empty code
            out.append(len(part) + 1)
            out += part
    return bytes(out)


def cobs_decode(enc: bytes) -> bytes:
    """Decode COBS bytes taken between two delimiters; raises :class:`CobsError`."""
    out = bytearray()
    i, n = 0, len(enc)
    if n == 0:
        raise CobsError("empty COBS frame")
    while i < n:
        code = enc[i]
        if code == 0:
            raise CobsError(f"zero byte inside a COBS frame at offset {i}")
        end = i + code
        if end > n:
            raise CobsError(f"COBS block at offset {i} wants {code - 1} bytes, {n - i - 1} left")
        block = enc[i + 1 : end]
        if 0 in block:
            raise CobsError(f"zero byte inside a COBS frame at offset {i + 1 + block.index(0)}")
        out += block
        if code != 0xFF and end < n:
            out.append(0)
        i = end
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    """One decoded, CRC-checked frame."""

    type: int
    seq: int
    payload: bytes
    version: int = PROTOCOL_VERSION


def frame_bytes(
    type_: int, seq: int, payload: bytes = b"", version: int = PROTOCOL_VERSION
) -> bytes:
    """The decoded frame (header, payload, CRC) before COBS."""
    if len(payload) > MAX_FRAME - OVERHEAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_FRAME - OVERHEAD}")
    body = bytes((version, type_, seq & 0xFF, len(payload))) + bytes(payload)
    return body + crc16(body).to_bytes(2, "big")


def encode_frame(
    type_: int, seq: int, payload: bytes = b"", version: int = PROTOCOL_VERSION
) -> bytes:
    """A frame ready for the wire: COBS-encoded, ending with the 0x00 delimiter."""
    return cobs_encode(frame_bytes(type_, seq, payload, version)) + b"\x00"


def decode_frame(enc: bytes, expect_version: int = PROTOCOL_VERSION) -> Frame:
    """Decode the bytes between two delimiters. Raises a :class:`FrameError` subclass."""
    raw = cobs_decode(enc)
    if len(raw) < OVERHEAD:
        raise FrameLengthError(f"frame of {len(raw)} bytes is shorter than {OVERHEAD}")
    if crc16(raw) != 0:
        got = int.from_bytes(raw[-2:], "big")
        raise CrcError(f"bad CRC: frame says {got:#06x}, content gives {crc16(raw[:-2]):#06x}")
    if raw[0] != expect_version:
        raise ProtocolVersionError(raw[0])
    if raw[3] != len(raw) - OVERHEAD:
        raise FrameLengthError(f"length field says {raw[3]}, frame carries {len(raw) - OVERHEAD}")
    return Frame(type=raw[1], seq=raw[2], payload=bytes(raw[HEADER_SIZE:-CRC_SIZE]), version=raw[0])


class Deframer:
    """Splits a received byte stream into frames; bad frames are reported, never fatal.

    :meth:`feed` returns, in order, a :class:`Frame` for every good frame and a
    :class:`FrameError` instance (not raised) for every bad one. Garbage, a frame cut short or an
    overlong frame costs only that frame: decoding restarts after the next 0x00.
    """

    def __init__(self, max_frame: int = MAX_FRAME, expect_version: int = PROTOCOL_VERSION):
        self.max_encoded = max_frame + 1 + max_frame // 254
        self.expect_version = expect_version
        self._buf = bytearray()
        self._overlong = False
        self._pending = 0
        self.frames = 0
        self.errors = 0

    @property
    def pending(self) -> int:
        """Bytes received since the last delimiter."""
        return self._pending

    def take_partial(self) -> PartialFrameError | None:
        """On a timeout: drop an unfinished frame and say so (None when nothing was pending)."""
        n = self._pending
        self._buf.clear()
        self._overlong = False
        self._pending = 0
        return PartialFrameError(f"partial frame: {n} bytes without a delimiter") if n else None

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        out: list[Frame | FrameError] = []
        data = bytes(data)
        start = 0
        while start < len(data):
            cut = data.find(0, start)
            end = len(data) if cut < 0 else cut
            self._pending += end - start
            if not self._overlong:
                self._buf += data[start:end]
                if len(self._buf) > self.max_encoded:
                    self._overlong = True
                    self._buf.clear()
            if cut < 0:
                break
            start = cut + 1
            if self._overlong:
                out.append(FrameLengthError(f"frame longer than {self.max_encoded} bytes dropped"))
            elif self._buf:
                try:
                    out.append(decode_frame(bytes(self._buf), self.expect_version))
                except FrameError as e:
                    out.append(e)
            self._buf.clear()
            self._overlong = False
            self._pending = 0
        self.frames += sum(isinstance(x, Frame) for x in out)
        self.errors += sum(not isinstance(x, Frame) for x in out)
        return out


# ---- messages ---------------------------------------------------------------------------------


class Message:
    """Base of the typed messages: ``TYPE``, :meth:`payload` and :meth:`from_payload`."""

    TYPE: ClassVar[MsgType]
    _FMT: ClassVar[str] = ""  # struct format of fixed-layout payloads

    def payload(self) -> bytes:
        return struct.pack(self._FMT, *dataclasses.astuple(self))  # type: ignore[arg-type]

    @classmethod
    def from_payload(cls, payload: bytes) -> Message:
        if len(payload) != struct.calcsize(cls._FMT):
            raise PayloadError(
                f"{cls.TYPE.name} payload of {len(payload)} bytes, expected "
                f"{struct.calcsize(cls._FMT)}"
            )
        return cls(*struct.unpack(cls._FMT, payload))

    def encode(self, seq: int) -> bytes:
        """The message as a wire frame (COBS + delimiter)."""
        return encode_frame(self.TYPE, seq, self.payload())


@dataclass(frozen=True)
class _Raw(Message):
    data: bytes = b""

    def payload(self) -> bytes:
        return bytes(self.data)

    @classmethod
    def from_payload(cls, payload: bytes) -> _Raw:
        return cls(bytes(payload))


@dataclass(frozen=True)
class Ping(_Raw):
    """Echo request: the payload comes back in a PONG."""

    TYPE = MsgType.PING


@dataclass(frozen=True)
class Pong(_Raw):
    TYPE = MsgType.PONG


@dataclass(frozen=True)
class InfoRequest(Message):
    TYPE = MsgType.INFO
    _FMT = "<"


@dataclass(frozen=True)
class Process(Message):
    """Run int16 samples through the board's DSP (live audio pauses meanwhile)."""

    TYPE = MsgType.PROCESS
    samples: Sequence[int] | np.ndarray
    from_reset: bool = False

    def payload(self) -> bytes:
        x = np.asarray(self.samples)
        if x.ndim != 1 or len(x) > MAX_PROCESS_SAMPLES:
            raise ValueError(f"PROCESS takes 1-D blocks of <= {MAX_PROCESS_SAMPLES} samples")
        if len(x) and (x.min() < -32768 or x.max() > 32767):
            raise ValueError("PROCESS samples must lie in -32768..32767 (int16)")
        flags = PROCESS_FROM_RESET if self.from_reset else 0
        return bytes((flags,)) + x.astype("<i2").tobytes()

    @classmethod
    def from_payload(cls, payload: bytes) -> Process:
        if len(payload) % 2 != 1 or payload[0] & ~PROCESS_FROM_RESET:
            raise PayloadError(f"PROCESS payload of {len(payload)} bytes, flags {payload[:1]!r}")
        samples = np.frombuffer(payload[1:], dtype="<i2")
        return cls(tuple(int(v) for v in samples), bool(payload[0] & PROCESS_FROM_RESET))


@dataclass(frozen=True)
class SetLevels(Message):
    """Stream LEVELS every ``period_ms`` (0 stops the stream)."""

    TYPE = MsgType.LEVELS
    _FMT = "<H"
    period_ms: int


@dataclass(frozen=True)
class Get(Message):
    TYPE = MsgType.GET
    _FMT = "<B"
    param_id: int


@dataclass(frozen=True)
class Set(Message):
    TYPE = MsgType.SET
    _FMT = "<Bi"
    param_id: int
    value: int


@dataclass(frozen=True)
class Save(Message):
    TYPE = MsgType.SAVE
    _FMT = "<"


@dataclass(frozen=True)
class Reset(Message):
    TYPE = MsgType.RESET
    _FMT = "<B"
    kind: int = ResetKind.STATE


@dataclass(frozen=True)
class Hello(Message):
    """Sent once at boot: the board is ready for commands."""

    TYPE = MsgType.HELLO
    _FMT = "<BBBBBB"
    fw_major: int
    fw_minor: int
    fw_patch: int
    params_status: int
    n_bands: int
    value_format: int


@dataclass(frozen=True)
class Info(Message):
    """INFO's fixed part; :class:`InfoReply` adds the board and band names from NAME frames."""

    TYPE = MsgType.INFO_REPLY
    _FMT = "<BBBIBBBBBBHHI32s"
    fw_major: int
    fw_minor: int
    fw_patch: int
    fs_millihz: int
    n_bands: int
    value_format: int
    y_frac_bits: int
    env_frac_bits: int
    max_samples: int
    params_status: int
    bad_frames: int
    oversized_frames: int
    overruns: int
    design_hash: bytes
    board: str = ""
    band_names: tuple[str, ...] = ()

    @property
    def fs_hz(self) -> float:
        return self.fs_millihz / 1000.0

    @property
    def fw_version(self) -> str:
        return f"{self.fw_major}.{self.fw_minor}.{self.fw_patch}"

    def payload(self) -> bytes:
        return struct.pack(self._FMT, *dataclasses.astuple(self)[:14])


@dataclass(frozen=True)
class Name(Message):
    TYPE = MsgType.NAME
    kind: int
    index: int
    name: str

    def payload(self) -> bytes:
        text = self.name.encode("ascii")
        if len(text) > NAME_MAX:
            raise ValueError(f"name {self.name!r} longer than {NAME_MAX}")
        return bytes((self.kind, self.index)) + text

    @classmethod
    def from_payload(cls, payload: bytes) -> Name:
        if not 2 <= len(payload) <= 2 + NAME_MAX:
            raise PayloadError(f"NAME payload of {len(payload)} bytes")
        return cls(payload[0], payload[1], payload[2:].decode("ascii", "replace"))


@dataclass(frozen=True)
class Data(Message):
    """One chunk of PROCESS results: band records, split at any byte."""

    TYPE = MsgType.DATA
    chunk: int
    data: bytes

    def payload(self) -> bytes:
        return bytes((self.chunk & 0xFF,)) + self.data

    @classmethod
    def from_payload(cls, payload: bytes) -> Data:
        if not payload:
            raise PayloadError("DATA payload without a chunk index")
        return cls(payload[0], bytes(payload[1:]))


@dataclass(frozen=True)
class Done(Message):
    TYPE = MsgType.DONE
    _FMT = "<HH"
    n_samples: int
    n_chunks: int


@dataclass(frozen=True)
class Ack(Message):
    TYPE = MsgType.ACK
    _FMT = "<B"
    command: int


@dataclass(frozen=True)
class Levels(Message):
    """A live snapshot: frame counter, overrun counter, one band record per band."""

    TYPE = MsgType.LEVELS_DATA
    counter: int
    overruns: int
    records: bytes

    def payload(self) -> bytes:
        return struct.pack("<HI", self.counter, self.overruns) + self.records

    @classmethod
    def from_payload(cls, payload: bytes) -> Levels:
        if len(payload) < 6:
            raise PayloadError(f"LEVELS payload of {len(payload)} bytes")
        counter, overruns = struct.unpack_from("<HI", payload)
        return cls(counter, overruns, bytes(payload[6:]))

    def outputs(self, n_bands: int, value_format: int) -> BandOutputs:
        """The records as arrays of shape (1, n_bands)."""
        return decode_records(self.records, n_bands, value_format)


@dataclass(frozen=True)
class Value(Message):
    TYPE = MsgType.VALUE
    _FMT = "<Bi"
    param_id: int
    value: int


@dataclass(frozen=True)
class Error(Message):
    TYPE = MsgType.ERROR
    _FMT = "<BBB"
    code: int
    command: int
    detail: int = 0

    def exception(self) -> DeviceError:
        return DeviceError(self.code, self.command, self.detail)


MESSAGES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Ping,
        InfoRequest,
        Process,
        SetLevels,
        Get,
        Set,
        Save,
        Reset,
        Hello,
        Pong,
        Info,
        Name,
        Data,
        Done,
        Ack,
        Levels,
        Value,
        Error,
    )
}


def parse_message(frame: Frame) -> Message:
    """The typed message a frame carries; raises :class:`PayloadError` when it does not fit."""
    cls = MESSAGES.get(frame.type)
    if cls is None:
        raise PayloadError(f"unknown frame type {frame.type:#04x}")
    try:
        return cls.from_payload(frame.payload)
    except struct.error as e:  # a fixed layout that does not unpack
        raise PayloadError(f"{cls.TYPE.name}: {e}") from None


def expect(frame: Frame, cls: type[Message], seq: int | None = None) -> Message:
    """Parse ``frame`` as a reply of type ``cls`` to command ``seq``.

    Raises :class:`DeviceError` for an ERROR frame, :class:`UnexpectedTypeError` otherwise.
    """
    msg = parse_message(frame)
    if seq is not None and frame.seq != seq & 0xFF:
        raise UnexpectedTypeError(f"reply to seq {frame.seq}, expected seq {seq & 0xFF}")
    if isinstance(msg, Error):
        raise msg.exception()
    if not isinstance(msg, cls):
        raise UnexpectedTypeError(f"got {type(msg).__name__}, expected {cls.__name__}")
    return msg


# ---- band records and multi-frame replies -----------------------------------------------------


@dataclass(frozen=True)
class BandOutputs:
    """Per sample, per band: filter output y, envelope env, LED value (arrays (n, n_bands))."""

    y: np.ndarray
    env: np.ndarray
    led: np.ndarray


def record_dtype(value_format: int) -> np.dtype:
    """numpy layout of one band record: y, env (int16 or float32 LE), led (uint8)."""
    v = "<i2" if value_format == ValueFormat.INT16 else "<f4"
    return np.dtype([("y", v), ("env", v), ("led", "u1")])


def decode_records(data: bytes, n_bands: int, value_format: int) -> BandOutputs:
    dt = record_dtype(value_format)
    if n_bands <= 0 or len(data) % (dt.itemsize * n_bands):
        raise PayloadError(f"{len(data)} bytes of records do not fill rows of {n_bands} bands")
    rec = np.frombuffer(data, dtype=dt).reshape(-1, n_bands)
    return BandOutputs(y=rec["y"].copy(), env=rec["env"].copy(), led=rec["led"].copy())


def encode_records(out: BandOutputs, value_format: int) -> bytes:
    rec = np.empty(out.led.shape, dtype=record_dtype(value_format))
    rec["y"], rec["env"], rec["led"] = out.y, out.env, out.led
    return rec.tobytes()


class InfoReply:
    """Collects an INFO reply: the INFO frame, then NAME frames for the board and every band."""

    def __init__(self, seq: int):
        self.seq = seq & 0xFF
        self._info: Info | None = None
        self._names: list[Name] = []

    def feed(self, frame: Frame) -> bool:
        """Take one frame of the reply; True once the reply is complete."""
        if self._info is None:
            self._info = expect(frame, Info, self.seq)  # type: ignore[assignment]
            return False
        name = expect(frame, Name, self.seq)
        want = (NameKind.BOARD, 0) if not self._names else (NameKind.BAND, len(self._names) - 1)
        if (name.kind, name.index) != want:  # type: ignore[attr-defined]
            raise PayloadError(f"NAME {name.kind}/{name.index} out of order, expected {want}")  # type: ignore[attr-defined]
        self._names.append(name)  # type: ignore[arg-type]
        return len(self._names) == self._info.n_bands + 1

    def result(self) -> Info:
        if self._info is None or len(self._names) != self._info.n_bands + 1:
            raise PayloadError("INFO reply incomplete")
        return dataclasses.replace(
            self._info, board=self._names[0].name, band_names=tuple(n.name for n in self._names[1:])
        )


class ProcessReply:
    """Collects a PROCESS reply: DATA chunks in order, then DONE; an ERROR raises DeviceError."""

    def __init__(self, seq: int, n_samples: int, n_bands: int, value_format: int):
        self.seq = seq & 0xFF
        self.n_samples, self.n_bands, self.value_format = n_samples, n_bands, value_format
        self._chunks: list[bytes] = []
        self._done = False

    def feed(self, frame: Frame) -> bool:
        if self._done:
            raise UnexpectedTypeError("frame after the PROCESS reply was complete")
        msg = expect(frame, Message, self.seq)
        if isinstance(msg, Data):
            if msg.chunk != len(self._chunks) & 0xFF:
                raise PayloadError(f"DATA chunk {msg.chunk}, expected {len(self._chunks) & 0xFF}")
            self._chunks.append(msg.data)
            return False
        if not isinstance(msg, Done):
            raise UnexpectedTypeError(f"got {type(msg).__name__} inside a PROCESS reply")
        if (msg.n_samples, msg.n_chunks) != (self.n_samples, len(self._chunks)):
            raise PayloadError(
                f"DONE says {msg.n_samples} samples in {msg.n_chunks} chunks, "
                f"sent {self.n_samples} samples, received {len(self._chunks)} chunks"
            )
        self._done = True
        return True

    def result(self) -> BandOutputs:
        if not self._done:
            raise PayloadError("PROCESS reply incomplete")
        out = decode_records(b"".join(self._chunks), self.n_bands, self.value_format)
        if out.y.shape[0] != self.n_samples:
            raise PayloadError(f"{out.y.shape[0]} result rows for {self.n_samples} samples")
        return out
