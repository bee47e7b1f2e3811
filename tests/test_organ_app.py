"""organ_app (firmware_templates/lib/organ_app): the firmware's application, compiled natively with
ASan/UBSan together with the link, the DSP core and a design's generated organ_design.h, driven
through its serial protocol by tests/organ_app_c/app_driver.c.

PROCESS must give exactly what the DSP core gives (the driver's --ref mode runs the core directly),
live audio must pause during PROCESS, parameters must round-trip through SET/GET/SAVE and a
reboot, and a damaged parameter image must restore the defaults and say so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import IN_CI, ROOT, require_tool

from designer import ctables, params
from designer.config import load_config
from designer.design import Design, make_design
from designer.render import rendered_sources
from host import protocol as P

sys.path.insert(0, str(Path(__file__).parent))
from link_c import cbuild  # noqa: E402

LIB = ROOT / "firmware_templates" / "lib"
HERE = Path(__file__).parent
SOURCES = [
    LIB / "organ_app" / "organ_app.c",
    LIB / "organ_dsp" / "organ_dsp.c",
    LIB / "organ_link" / "organ_link.c",
    LIB / "organ_link" / "organ_store.c",
]
INCLUDES = [LIB / "organ_app", LIB / "organ_dsp", LIB / "organ_link"]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
BLOCK = 123  # samples per PROCESS on a host build (ORGAN_LINK_RX_MAX 253)
HOLD_MS = 2000  # ORGAN_APP_PROCESS_HOLD_MS
FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "30" if IN_CI else "6"))


@dataclass
class Built:
    exe: Path
    design: Design
    include: Path
    defines: list[str]

    @property
    def n_bands(self) -> int:
        return self.design.quantized.n_bands

    @property
    def value_format(self) -> int:
        return P.ValueFormat.FLOAT32 if self.design.quantized.arithmetic == "float" else 0


def design_flags(design: Design) -> list[str]:
    flags = [f"-D{k}={v}" for k, v in ctables.design_macros(design.quantized).items()]
    if design.quantized.arithmetic == "float":
        flags += ["-DORGAN_FLOAT", "-ffp-contract=off"]
    return flags


def write_design_header(design: Design, out: Path) -> Path:
    inc = out / "include"
    inc.mkdir(parents=True, exist_ok=True)
    (inc / "organ_design.h").write_text(rendered_sources(design)["include/organ_design.h"])
    return inc


def build(name: str, out: Path) -> Built:
    design = make_design(load_config(ROOT / "examples" / f"{name}.toml"))
    inc = write_design_header(design, out / name)
    defines = design_flags(design)
    exe = out / f"app_driver_{name}"
    cmd = ["gcc", *STRICT, *SANITIZE, "-g", "-O1", *defines,
           *(f"-I{d}" for d in [*INCLUDES, inc]),
           str(HERE / "organ_app_c" / "app_driver.c"), *map(str, SOURCES), "-lm", "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return Built(exe, design, inc, defines)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    require_tool("gcc")
    out = tmp_path_factory.mktemp("organ_app")
    return {name: build(name, out) for name in ("classic", "resonator", "msgeq7")}


@pytest.fixture(params=["classic", "resonator", "msgeq7"])
def any_build(request, builds):
    return builds[request.param]


@pytest.fixture
def classic(builds):
    return builds["classic"]


class Script:
    """Records for app_driver: [op][len u16][bytes]; numbers the commands it sends."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.seq = 0

    def op(self, code: str, data: bytes) -> None:
        self.parts.append(code.encode() + len(data).to_bytes(2, "little") + data)

    def cmd(self, msg: P.Message) -> int:
        self.seq = self.seq % 255 + 1
        self.op("F", msg.encode(self.seq))
        return self.seq

    def live(self, x: np.ndarray) -> None:
        self.op("L", np.asarray(x, "<i2").tobytes())

    def inject(self, x: np.ndarray) -> None:
        self.op("I", np.asarray(x, "<i2").tobytes())

    def poll(self, now_ms: int) -> None:
        self.op("T", int(now_ms).to_bytes(4, "little"))

    def overruns(self, n: int) -> None:
        self.op("O", int(n).to_bytes(4, "little"))

    def board_fault(self, what: int, arg: int) -> None:
        """A failing board layer from here on (app_driver's 'W': 0 store_write torn after arg
        more bytes, 1 store_commit failing when arg != 0, 2 store_read failing when arg != 0)."""
        self.op("W", bytes([what]) + int(arg).to_bytes(4, "little"))


@dataclass
class Run:
    frames: list[P.Frame]
    log: list[str]

    def of(self, seq: int) -> list[P.Frame]:
        return [f for f in self.frames if f.seq == seq]

    def one(self, seq: int, cls: type[P.Message]) -> P.Message:
        frames = self.of(seq)
        assert len(frames) == 1, frames
        return P.expect(frames[0], cls, seq)

    def process(self, seq: int, n: int, built: Built) -> bytes:
        """The record bytes of a PROCESS reply (checked by the host's ProcessReply)."""
        reply = P.ProcessReply(seq, n, built.n_bands, built.value_format)
        frames = self.of(seq)
        done = [reply.feed(f) for f in frames]
        assert done[-1] and not any(done[:-1])
        out = reply.result()
        return P.encode_records(out, built.value_format)

    def hellos(self) -> list[P.Hello]:
        return [P.parse_message(f) for f in self.frames if f.type == P.MsgType.HELLO]


def run(built: Built, script: Script, storage: Path, board: tuple[str, ...] = (),
        returncode: int = 0) -> Run:
    """app_driver on the script; ``board`` its options that take board hooks away."""
    r = subprocess.run([str(built.exe), *board, str(storage)], input=b"".join(script.parts),
                       capture_output=True, timeout=120)
    log = r.stderr.decode(errors="replace").splitlines()
    assert r.returncode == returncode, "\n".join(log[-30:])
    frames = P.Deframer().feed(r.stdout)
    bad = [f for f in frames if not isinstance(f, P.Frame)]
    assert not bad, bad
    return Run(frames, log)  # type: ignore[arg-type]


def reference(built: Built, x: np.ndarray, set_params: dict[int, int] | None = None) -> bytes:
    """Band records of the DSP core run directly on x from a fresh state."""
    args = [f"{k}={v}" for k, v in (set_params or {}).items()]
    r = subprocess.run([str(built.exe), "--ref", *args], input=np.asarray(x, "<i2").tobytes(),
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def record_bytes(built: Built) -> int:
    return built.n_bands * (9 if built.value_format else 5)


def mixed_signal(n: int, fs: float, seed: int = 0) -> np.ndarray:
    """Impulses, a step, a chirp, a loud tone and white noise: every path of the core."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = 0.5 * np.sin(2 * np.pi * (50 + 0.2 * fs * t / t[-1]) * t)
    x[: n // 8] = 0
    x[3] = 0.9
    x[n // 8 : n // 4] += 0.3
    x[n // 2 :] += rng.normal(0, 0.3, n - n // 2)
    x[-n // 8 :] = np.sin(2 * np.pi * 440 * t[-n // 8 :])
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def process_blocks(script: Script, x: np.ndarray, from_reset: bool) -> list[tuple[int, int]]:
    seqs = []
    for i in range(0, len(x), BLOCK):
        blk = x[i : i + BLOCK]
        seqs.append((script.cmd(P.Process(blk, from_reset=from_reset and i == 0)), len(blk)))
    return seqs


class TestBoot:
    def test_hello_says_blank_storage(self, any_build, tmp_path):
        res = run(any_build, Script(), tmp_path / "eeprom")
        (hello,) = res.hellos()
        assert hello.params_status == P.ParamsStatus.ABSENT
        assert hello.n_bands == any_build.n_bands
        assert hello.value_format == any_build.value_format
        assert res.frames[0].type == P.MsgType.HELLO

    def test_info_identifies_design(self, any_build, tmp_path):
        s = Script()
        seq = s.cmd(P.InfoRequest())
        res = run(any_build, s, tmp_path / "eeprom")
        reply = P.InfoReply(seq)
        for f in res.of(seq):
            reply.feed(f)
        info = reply.result()
        d = any_build.design
        assert info.design_hash == bytes.fromhex(d.hash)
        assert info.board == d.board.name
        assert info.band_names == d.band_names
        assert info.fs_millihz == round(d.sample_rate_hz * 1000)
        assert info.max_samples == BLOCK
        assert info.value_format == any_build.value_format
        assert info.params_status == P.ParamsStatus.ABSENT
        assert (info.bad_frames, info.oversized_frames, info.overruns) == (0, 0, 0)

    def test_overruns_reported(self, classic, tmp_path):
        s = Script()
        s.overruns(7)
        seq = s.cmd(P.InfoRequest())
        res = run(classic, s, tmp_path / "eeprom")
        assert P.expect(res.of(seq)[0], P.Info, seq).overruns == 7


class TestProcess:
    def test_process_bit_exact_with_core(self, any_build, tmp_path):
        d = any_build.design
        x = mixed_signal(20 * BLOCK, d.sample_rate_hz)
        s = Script()
        seqs = process_blocks(s, x, from_reset=True)
        res = run(any_build, s, tmp_path / "eeprom")
        got = b"".join(res.process(seq, n, any_build) for seq, n in seqs)
        want = reference(any_build, x)
        assert len(got) == len(want) == len(x) * record_bytes(any_build)
        assert got == want

    def test_blocks_continue_each_other(self, classic, tmp_path):
        """Live audio stays paused between PROCESS blocks sent back to back, so a long signal
        in 123-sample requests is one continuous run of the core."""
        x = mixed_signal(3 * BLOCK, classic.design.sample_rate_hz, seed=1)
        s = Script()
        s.poll(10_000)
        seq_a = s.cmd(P.Process(x[:BLOCK], from_reset=True))
        s.poll(10_000 + HOLD_MS - 1)
        s.live(np.full(200, 30000, np.int16))  # the microphone, while live audio is held
        seq_b = s.cmd(P.Process(x[BLOCK : 2 * BLOCK]))
        s.poll(10_000 + 2 * HOLD_MS - 2)  # the hold restarted with block b
        s.live(np.full(200, -30000, np.int16))
        seq_c = s.cmd(P.Process(x[2 * BLOCK :]))
        res = run(classic, s, tmp_path / "eeprom")
        got = b"".join(res.process(q, BLOCK, classic) for q in (seq_a, seq_b, seq_c))
        assert got == reference(classic, x)

    def test_live_audio_resumes_after_the_hold(self, classic, tmp_path):
        x = mixed_signal(3 * BLOCK, classic.design.sample_rate_hz, seed=7)
        a, live, b = x[:BLOCK], x[BLOCK : 2 * BLOCK], x[2 * BLOCK :]
        s = Script()
        s.poll(5_000)
        seq_a = s.cmd(P.Process(a, from_reset=True))
        s.poll(5_000 + HOLD_MS)
        s.live(live)
        seq_b = s.cmd(P.Process(b))
        res = run(classic, s, tmp_path / "eeprom")
        want = reference(classic, x)
        rb = record_bytes(classic)
        assert res.process(seq_a, BLOCK, classic) == want[: BLOCK * rb]
        assert res.process(seq_b, BLOCK, classic) == want[2 * BLOCK * rb :]

    def test_live_audio_paused_during_process(self, classic, tmp_path):
        """Samples arriving (as interrupts) while PROCESS runs and replies are dropped."""
        x = mixed_signal(BLOCK, classic.design.sample_rate_hz, seed=2)
        noise = np.random.default_rng(3).integers(-20000, 20000, 5000).astype(np.int16)
        s = Script()
        s.inject(noise)
        seq = s.cmd(P.Process(x, from_reset=True))
        res = run(classic, s, tmp_path / "eeprom")
        events = [re.fullmatch(r"inject (live|paused) (-?\d+)", line) for line in res.log]
        kinds = {m.group(1) for m in events if m}
        assert kinds == {"paused"}, "an interrupt reached the DSP while PROCESS ran"
        assert res.process(seq, BLOCK, classic) == reference(classic, x)

    def test_interrupts_reach_the_dsp_when_live(self, classic, tmp_path):
        """The driver's interrupt injection does reach the DSP outside PROCESS (so the test
        above can fail): LEVELS frames written while samples are injected show them."""
        noise = np.random.default_rng(4).integers(-20000, 20000, 5000).astype(np.int16)
        s = Script()
        s.inject(noise)
        s.cmd(P.Ping(b"x" * 40))
        res = run(classic, s, tmp_path / "eeprom")
        events = [re.fullmatch(r"inject (live|paused) (-?\d+)", line) for line in res.log]
        assert {m.group(1) for m in events if m} == {"live"}

    def test_from_reset_clears_state(self, classic, tmp_path):
        x = mixed_signal(2 * BLOCK, classic.design.sample_rate_hz, seed=4)
        s = Script()
        s.cmd(P.Process(x[:BLOCK], from_reset=True))
        seq = s.cmd(P.Process(x[BLOCK:], from_reset=True))
        res = run(classic, s, tmp_path / "eeprom")
        assert res.process(seq, BLOCK, classic) == reference(classic, x[BLOCK:])


class TestLevels:
    def test_levels_show_live_outputs_and_overruns(self, any_build, tmp_path):
        x = mixed_signal(500, any_build.design.sample_rate_hz, seed=5)
        s = Script()
        s.live(x)
        seq = s.cmd(P.SetLevels(10))
        s.poll(1000)
        s.overruns(3)
        s.poll(1005)  # too early: nothing
        s.poll(1010)
        stop = s.cmd(P.SetLevels(0))
        s.poll(2000)
        res = run(any_build, s, tmp_path / "eeprom")
        frames = res.of(seq)
        assert P.expect(frames[0], P.Ack, seq).command == P.MsgType.LEVELS
        levels = [P.expect(f, P.Levels, seq) for f in frames[1:]]
        assert [lv.counter for lv in levels] == [0, 1]
        assert [lv.overruns for lv in levels] == [0, 3]
        last = reference(any_build, x)[-record_bytes(any_build) :]
        assert levels[0].records == last == levels[1].records
        assert P.expect(res.of(stop)[0], P.Ack, stop)
        assert len(res.of(stop)) == 1


class TestParams:
    def test_get_returns_design_defaults(self, any_build, tmp_path):
        s = Script()
        seqs = {p.id: s.cmd(P.Get(p.id)) for p in params.PARAMS}
        res = run(any_build, s, tmp_path / "eeprom")
        want = any_build.design.quantized.params()
        for p in params.PARAMS:
            assert res.one(seqs[p.id], P.Value).value == want[p.name], p.name

    def test_set_changes_processing(self, classic, tmp_path):
        x = mixed_signal(8 * BLOCK, classic.design.sample_rate_hz, seed=6)
        gain, agc = params.by_name("gain").id, params.by_name("agc").id
        s = Script()
        v1 = s.cmd(P.Set(agc, 0))
        v2 = s.cmd(P.Set(gain, 2048))
        seqs = process_blocks(s, x, from_reset=True)
        res = run(classic, s, tmp_path / "eeprom")
        assert res.one(v1, P.Value).value == 0
        assert res.one(v2, P.Value).value == 2048
        got = b"".join(res.process(seq, n, classic) for seq, n in seqs)
        assert got == reference(classic, x, {agc: 0, gain: 2048})
        assert got != reference(classic, x), "the parameters had no effect on this signal"

    def test_refused_set_changes_nothing(self, classic, tmp_path):
        p = params.by_name("hold_ms")
        s = Script()
        bad = s.cmd(P.Set(p.id, p.max + 1))
        unknown = s.cmd(P.Set(200, 1))
        get = s.cmd(P.Get(p.id))
        res = run(classic, s, tmp_path / "eeprom")
        with pytest.raises(P.DeviceError) as e:
            res.one(bad, P.Value)
        assert (e.value.code, e.value.detail) == (P.ErrorCode.OUT_OF_RANGE, p.id)
        with pytest.raises(P.DeviceError) as e:
            res.one(unknown, P.Value)
        assert e.value.code == P.ErrorCode.UNKNOWN_PARAM
        assert res.one(get, P.Value).value == p.default

    def test_reset_params_restores_defaults(self, classic, tmp_path):
        p = params.by_name("release_ms")
        s = Script()
        s.cmd(P.Set(p.id, 500))
        ack = s.cmd(P.Reset(P.ResetKind.PARAMS))
        get = s.cmd(P.Get(p.id))
        res = run(classic, s, tmp_path / "eeprom")
        assert res.one(ack, P.Ack).command == P.MsgType.RESET
        assert res.one(get, P.Value).value == classic.design.quantized.params()["release_ms"]


class TestStorage:
    def save_hold(self, built: Built, storage: Path, value: int) -> Run:
        s = Script()
        s.cmd(P.Set(params.by_name("hold_ms").id, value))
        ack = s.cmd(P.Save())
        res = run(built, s, storage)
        assert res.one(ack, P.Ack).command == P.MsgType.SAVE
        return res

    def boot_and_get(self, built: Built, storage: Path) -> tuple[P.Hello, P.Info, int]:
        s = Script()
        info_seq = s.cmd(P.InfoRequest())
        get = s.cmd(P.Get(params.by_name("hold_ms").id))
        res = run(built, s, storage)
        info = P.expect(res.of(info_seq)[0], P.Info, info_seq)
        return res.hellos()[0], info, res.one(get, P.Value).value

    def test_saved_values_load_at_boot(self, classic, tmp_path):
        storage = tmp_path / "eeprom"
        self.save_hold(classic, storage, 123)
        hello, info, value = self.boot_and_get(classic, storage)
        assert hello.params_status == info.params_status == P.ParamsStatus.LOADED
        assert value == 123

    def test_reboot_command_reloads(self, classic, tmp_path):
        s = Script()
        pid = params.by_name("hold_ms").id
        s.cmd(P.Set(pid, 77))
        s.cmd(P.Save())
        s.cmd(P.Set(pid, 5))  # RAM only: lost by the reboot
        ack = s.cmd(P.Reset(P.ResetKind.REBOOT))
        get = s.cmd(P.Get(pid))
        res = run(classic, s, tmp_path / "eeprom")
        assert res.one(ack, P.Ack).command == P.MsgType.RESET
        hellos = res.hellos()
        assert [h.params_status for h in hellos] == [P.ParamsStatus.ABSENT, P.ParamsStatus.LOADED]
        reboot_at = next(i for i, f in enumerate(res.frames) if f.seq == ack)
        assert res.frames[reboot_at + 1].type == P.MsgType.HELLO  # right after the ACK
        assert res.one(get, P.Value).value == 77

    @pytest.mark.parametrize("offset", [0, 4, 5, 8, 12, 20])
    def test_corrupted_image_restores_defaults(self, classic, tmp_path, offset):
        storage = tmp_path / "eeprom"
        self.save_hold(classic, storage, 123)
        image = bytearray(storage.read_bytes())
        image[offset] ^= 0x5A
        storage.write_bytes(bytes(image))
        hello, info, value = self.boot_and_get(classic, storage)
        assert hello.params_status == info.params_status
        assert info.params_status in (P.ParamsStatus.CORRUPT, P.ParamsStatus.OLD_VERSION,
                                      P.ParamsStatus.OTHER_DESIGN)
        assert info.params_status == (P.ParamsStatus.OLD_VERSION if offset == 4
                                      else P.ParamsStatus.CORRUPT)
        assert value == params.by_name("hold_ms").default

    def test_image_of_another_design_not_applied(self, builds, tmp_path):
        storage = tmp_path / "eeprom"
        self.save_hold(builds["classic"], storage, 321)
        hello, info, value = self.boot_and_get(builds["resonator"], storage)
        assert info.params_status == P.ParamsStatus.OTHER_DESIGN
        assert value == params.by_name("hold_ms").default


class TestFailingBoard:
    """The board layer failing under the application: storage that tears a write, fails a
    commit or a read, or is missing; no reboot hook; a board or design that init refuses."""

    CHANGED = {"gain": (1500, 3000), "release_ms": (300, 400), "hold_ms": (123, 200)}

    @staticmethod
    def values(built: Built, storage: Path) -> tuple[P.Hello, dict[str, int]]:
        s = Script()
        seqs = {p.name: s.cmd(P.Get(p.id)) for p in params.PARAMS}
        res = run(built, s, storage)
        return res.hellos()[0], {k: res.one(q, P.Value).value for k, q in seqs.items()}

    @staticmethod
    def save(built: Built, storage: Path, values: dict[str, int], tear_after: int | None = None
             ) -> P.Frame:
        s = Script()
        for name, v in values.items():
            s.cmd(P.Set(params.by_name(name).id, v))
        if tear_after is not None:
            s.board_fault(0, tear_after)
        seq = s.cmd(P.Save())
        (frame,) = run(built, s, storage).of(seq)
        return frame

    def test_a_torn_save_keeps_the_old_values_or_restores_defaults_never_a_mix(
            self, classic, tmp_path):
        old = {k: v[0] for k, v in self.CHANGED.items()}
        new = {k: v[1] for k, v in self.CHANGED.items()}
        first = tmp_path / "first"
        P.expect(self.save(classic, first, old), P.Ack)
        _, saved = self.values(classic, first)
        defaults = classic.design.quantized.params()
        assert saved != defaults
        size = 10 + 5 * len(params.PARAMS) + 2  # ORGAN_STORE_IMAGE_SIZE
        seen = set()
        for k in range(size + 1):
            storage = tmp_path / f"torn{k}"
            storage.write_bytes(first.read_bytes())
            reply = self.save(classic, storage, new, tear_after=k)
            hello, got = self.values(classic, storage)
            if k == size:
                P.expect(reply, P.Ack)
                assert hello.params_status == P.ParamsStatus.LOADED
                assert got == {**saved, **new}
                continue
            with pytest.raises(P.DeviceError) as e:
                P.expect(reply, P.Ack)
            assert e.value.code == P.ErrorCode.STORE_FAILED
            if storage.read_bytes() == first.read_bytes():
                want = (P.ParamsStatus.LOADED, saved)  # nothing changed had been written yet
            else:
                want = (P.ParamsStatus.CORRUPT, defaults)
            assert (hello.params_status, got) == want, k
            seen.add(want[0])
        assert seen == {P.ParamsStatus.LOADED, P.ParamsStatus.CORRUPT}

    def test_a_failed_commit_is_a_failed_save(self, classic, tmp_path):
        s = Script()
        s.board_fault(1, 1)
        failed = s.cmd(P.Save())
        s.board_fault(1, 0)
        done = s.cmd(P.Save())
        res = run(classic, s, tmp_path / "nvs")
        with pytest.raises(P.DeviceError) as e:
            res.one(failed, P.Ack)
        assert e.value.code == P.ErrorCode.STORE_FAILED
        assert res.one(done, P.Ack).command == P.MsgType.SAVE

    def test_a_storage_read_error_at_boot_gives_defaults_and_says_so(self, classic, tmp_path):
        storage = tmp_path / "eeprom"
        P.expect(self.save(classic, storage, {"hold_ms": 123}), P.Ack)
        s = Script()
        s.board_fault(2, 1)
        s.cmd(P.Reset(P.ResetKind.REBOOT))
        info = s.cmd(P.InfoRequest())
        get = s.cmd(P.Get(params.by_name("hold_ms").id))
        res = run(classic, s, storage)
        assert [h.params_status for h in res.hellos()] == [P.ParamsStatus.LOADED,
                                                           P.ParamsStatus.CORRUPT]
        assert P.expect(res.of(info)[0], P.Info, info).params_status == P.ParamsStatus.CORRUPT
        assert res.one(get, P.Value).value == params.by_name("hold_ms").default

    def test_no_storage_is_said_and_save_refused(self, classic, tmp_path):
        s = Script()
        pid = params.by_name("hold_ms").id
        s.cmd(P.Set(pid, 55))
        save = s.cmd(P.Save())
        get = s.cmd(P.Get(pid))
        res = run(classic, s, tmp_path / "none", board=("--no-storage",))
        assert res.hellos()[0].params_status == P.ParamsStatus.UNAVAILABLE
        with pytest.raises(P.DeviceError) as e:
            res.one(save, P.Ack)
        assert e.value.code == P.ErrorCode.STORE_FAILED
        assert res.one(get, P.Value).value == 55  # RAM parameters still work

    def test_no_reboot_hook_answers_unsupported_and_keeps_running(self, classic, tmp_path):
        s = Script()
        reboot = s.cmd(P.Reset(P.ResetKind.REBOOT))
        info = s.cmd(P.InfoRequest())
        res = run(classic, s, tmp_path / "eeprom", board=("--no-reboot",))
        with pytest.raises(P.DeviceError) as e:
            res.one(reboot, P.Ack)
        assert e.value.code == P.ErrorCode.UNSUPPORTED
        assert len(res.hellos()) == 1
        P.expect(res.of(info)[0], P.Info, info)

    @pytest.mark.parametrize("option, rc, dsp", [("--bad-design", 2, -3), ("--no-critical", 1, 0)])
    def test_a_refused_init_sends_nothing(self, classic, tmp_path, option, rc, dsp):
        """ORGAN_APP_E_DESIGN (organ_init refused the tables: ORGAN_ERR_DESIGN) and
        ORGAN_APP_E_BOARD (a required hook missing): the firmware then stays silent, which the
        host reports as a board that never said HELLO."""
        s = Script()
        s.cmd(P.InfoRequest())
        res = run(classic, s, tmp_path / "eeprom", board=(option,), returncode=4)
        assert res.frames == []
        assert f"organ_app_init failed: {rc} (dsp {dsp}," in "\n".join(res.log)


@pytest.mark.slow
def test_fuzz_real_app(builds, tmp_path, monkeypatch):
    """libFuzzer (tests/fuzz/fuzz_link.c, its seeds and its oracle) on the real application."""
    require_tool("clang")
    sys.path.insert(0, str(HERE))
    from fuzz import make_corpus

    built = builds["classic"]
    monkeypatch.setenv("ORGAN_TEST_APP_SOURCES", os.pathsep.join(
        [str(HERE / "link_c" / "organ_app_adapter.c"), str(SOURCES[0]), str(SOURCES[1])]))
    extra = [*built.defines, *(f"-I{d}" for d in [LIB / "organ_app", LIB / "organ_dsp",
                                                  built.include])]
    exe = cbuild.build_fuzzer(tmp_path / "fuzz_app", ["-DORGAN_LINK_RX_MAX=136u",
                                                      "-DORGAN_LINK_TX_MAX=64u", *extra])
    seeds = tmp_path / "seeds"
    make_corpus.write(seeds)
    work = tmp_path / "corpus"
    work.mkdir()
    seconds = max(1, round(FUZZ_SECONDS))
    r = subprocess.run(
        [str(exe), f"-max_total_time={seconds}", "-max_len=1024", "-timeout=10",
         "-rss_limit_mb=2048", "-print_final_stats=1", f"-artifact_prefix={tmp_path}/",
         str(work), str(seeds)],
        capture_output=True, text=True, timeout=seconds + 120,
    )
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "leak-")))
    assert r.returncode == 0 and not crashes, f"{crashes}\n{r.stderr[-4000:]}"
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert runs and int(runs.group(1)) > 0
    print(f"fuzz real app: {runs.group(1)} executions in {seconds} s")


@pytest.mark.parametrize(
    "cc,flags",
    [
        ("avr-gcc", ["-mmcu=atmega328p", "-Os"]),
        ("riscv64-unknown-elf-gcc",
         ["-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs", "-Os"]),
    ],
)
def test_cross_compiles_clean(builds, tmp_path, cc, flags):
    """organ_app.c is warning-free C99 on the firmware targets too (AVR; RISC-V as on the C3)."""
    require_tool(cc)
    for name in ("classic", "msgeq7"):
        built = builds[name]
        r = subprocess.run(
            [cc, *flags, *STRICT, *built.defines, *(f"-I{d}" for d in INCLUDES), "-c",
             str(SOURCES[0]), "-o", str(tmp_path / f"organ_app_{name}.o")],
            capture_output=True, text=True,
        )
        assert r.returncode == 0, f"{cc} {name}:\n{r.stderr}"
