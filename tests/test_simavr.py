"""host/simavr.py + host/simavr_harness/: the generated Uno firmware, built with avr-gcc and the
Arduino core, on a simulated ATmega328P. The harness's ADC feed and timing and its accounting of
the paired ADC interrupt (samples kept, run, dropped, paused; overruns counted by the harness and
by the firmware), then the board on a pty: ``designer verify --sim simavr`` bit-exact on the
classic organ and the resonator example through the firmware's own protocol, ``designer
sim-board --engine simavr`` with a microphone file, the EEPROM across a reboot and a restart,
the statistics of a running board."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import scipy.io.wavfile as wavfile
from conftest import ROOT, require_path, require_tool
from host_helpers import EXAMPLES, design, wait_until

from designer.avrbuild import ARDUINO_AVR
from designer.design import load_design
from designer.model import Model
from host import protocol as P
from host import simavr
from host.board import Board, Timeouts
from host.cli_commands import run_verify
from host.verify import MIN_COMPARED, VerifyOptions, stage_bit_exact
from host.verify_runner import BlockRunner

pytestmark = pytest.mark.slow
T = Timeouts(reply=1.0, frame_gap=0.5, save=2.0, hello_grace=0.1)


@pytest.fixture(autouse=True, scope="module")
def _toolchain():
    require_tool("gcc", "pkg-config", "avr-gcc", "avr-g++", "avr-nm", "avr-size", "avr-objcopy")
    require_path("/usr/include/simavr/sim_avr.h", "libsimavr-dev")
    require_path(ARDUINO_AVR / "cores" / "arduino", "Arduino AVR core (arduino-core-avr)")


def ramp_codes(n: int, seed: int = 0) -> np.ndarray:
    """int16 samples walking through every 10-bit ADC code, with random low bits."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % 1024
    return ((codes - 512) * 64 + rng.integers(0, 64, n)).astype(np.int16)


class TestHarness:
    def test_built_once_per_content(self):
        exe = simavr.build_harness()
        mtime = exe.stat().st_mtime_ns
        assert simavr.build_harness() == exe and exe.stat().st_mtime_ns == mtime

    def test_adc_free_runs_at_the_hardware_rate(self):
        run = simavr.run_offline(design("classic"), None, 0.5, marks=(1000, 3000))
        period = (run.marks[3000] - run.marks[1000]) / 2000
        # 832 cycles (clk/64, 13 ADC clocks per conversion); simavr restarts a free-running
        # conversion when the instruction in progress ends, which adds 0.4 cycles on average
        assert 832 <= period < 833
        adc = run.stats["adc"]  # from the firmware's first conversion on, one per period
        assert abs(adc["samples"] - (run.stats["cycles"] - adc["first_cycle"]) / period) <= 2

    def test_the_firmware_reads_exactly_the_samples_fed(self):
        x = ramp_codes(6000)
        run = simavr.run_offline(design("classic"), x, 0.4)
        want = (x.astype(np.int32) >> 6 << 6).astype(np.int16)  # what a 10-bit ADC keeps
        # sample k is conversion k's result, from the first conversion on, in pairs, none lost;
        # silence after the stream
        np.testing.assert_array_equal(run.processed[: len(x)], want)
        assert len(run.processed) > len(x) and not run.processed[len(x):].any()
        assert run.overruns() == 0 and run.firmware_overruns() == 0

    def test_samples_from_a_pipe_run_as_from_a_file(self, tmp_path):
        d = design("classic")
        x = ramp_codes(4000, seed=3)
        from_file = simavr.run_offline(d, x, 0.25)
        image, pmap = simavr.prepare_firmware(d)
        out = tmp_path / "processed.raw"
        r = subprocess.run([str(simavr.build_harness()), str(image.elf), "--seconds", "0.25",
                            "--audio", "-", "--no-loop", "--processed", str(out),
                            "--pair-map", pmap.arg()],
                           input=x.tobytes(), capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        # the simulation is deterministic: the same samples reach the DSP at the same moments
        np.testing.assert_array_equal(np.fromfile(out, "<i2"), from_file.processed)

    def test_the_pair_map_is_found(self):
        image, pmap = simavr.prepare_firmware(design("classic"))
        assert pmap is not None and None not in (pmap.tick, pmap.overruns)
        # all in the firmware's static RAM, the application's fields inside its struct
        syms = simavr._data_symbols(image.elf)
        app = next(a for n, a in syms.items() if simavr.APP_SYMBOL.match(n))
        assert syms["organ_adc_phase"] == pmap.phase and syms["organ_adc_held"] == pmap.held
        assert app < pmap.tick < pmap.overruns < app + image.ram

    def test_interrupt_accounting(self):
        run = simavr.run_offline(design("classic"), ramp_codes(20000), 1.0, warmup_s=0.2)
        s = run.stats
        adc = s["vectors"][str(simavr.ADC_VECTOR)]
        assert adc["own"] == s["adc_all"] and adc["own"]["sum"] <= adc["total"]["sum"]
        assert s["adc_all"]["count"] == sum(s[k]["count"] for k in ("adc_store", "adc_dsp",
                                                                     "adc_skip"))
        # the first of each pair only keeps its sample: the naked path, 36 cycles with the
        # interrupt response and RETI (docs/dsp.md); the second runs both samples
        assert s["adc_store"]["min"] == s["adc_store"]["max"] == 36
        assert s["paired"] and s["adc_dsp"]["count"] == s["pairs"]["two"]
        assert s["adc_store"]["count"] - s["pairs"]["two"] in (0, 1)  # the end may split a pair
        assert s["adc_skip"]["count"] == 0 and s["dsp_samples"] == 2 * s["pairs"]["two"]
        assert s["adc_dsp"]["min"] <= s["adc_dsp_p50"] <= s["adc_dsp_p99"] <= s["adc_dsp"]["max"]
        # the window holds whole pairs; one interrupt per conversion
        conversions = s["adc"]["conversions"]
        assert abs(conversions / (0.8 * run.fs) - 1) < 1e-3  # simavr's conversions: 0.05 % slow
        assert abs(s["adc_all"]["count"] - conversions) <= 1
        assert run.cycles_per_sample() == s["adc_all"]["sum"] / conversions
        assert 0 < run.cpu_load() < 1 and run.overruns() == run.firmware_overruns() == 0

    def test_overruns_counted_by_the_harness_and_by_the_firmware(self, tmp_path):
        """Eight resonator bands at 19.2 kHz, twice what the Uno can do (designer build would
        refuse them): about half the pairs are dropped. The harness tells them from the DSP's
        tick, the firmware counts them itself."""
        cfg = tmp_path / "heavy.toml"
        head = 'board = "uno"\nsample_rate_hz = 19230.77\n[leds]\nmode = "onoff"\n'
        cfg.write_text(head + "".join(
            f'[[bands]]\nname = "r{i}"\ntype = "resonator"\ncenter_hz = {100 * 1.4**i:.1f}\n'
            f'bandwidth_hz = {10 * 1.4**i:.1f}\nled_pin = {2 + i}\n' for i in range(8)))
        d = load_design(cfg)
        x = np.random.default_rng(0).integers(-3000, 3000, int(0.6 * d.sample_rate_hz))
        run = simavr.run_offline(d, x.astype(np.int16), 0.6, warmup_s=0.1)
        s = run.stats
        assert s["pairs"]["dropped"] > 100 and s["pairs"]["two"] > 100
        assert run.overruns() == 2 * s["pairs"]["dropped"] == run.firmware_overruns()
        assert s["firmware_overruns"]["total"] > run.firmware_overruns()  # warm-up not counted
        # a dropped pair costs a few hundred cycles; the DSP's pairs far more
        assert s["adc_skip"]["max"] < s["adc_dsp"]["min"] / 3
        assert run.cycles_per_processed_sample() > run.cycles_per_sample()
        assert s["adc_dsp"]["max"] > 2 * simavr.F_CPU / d.sample_rate_hz  # the next pair waits
        # what reached the DSP is the fed stream (longer than the run) with whole pairs missing
        want = (x.astype(np.int32) >> 6 << 6).astype(np.int16)
        assert len(run.processed) % 2 == 0 and s["adc"]["samples"] < len(x)
        k = 0
        for a, b in run.processed.reshape(-1, 2):
            while k < len(want) - 1 and (want[k], want[k + 1]) != (a, b):
                k += 2
            assert k < len(want) - 1, f"pair ({a}, {b}) was never fed, or not at an even index"
            k += 2

    def test_not_for_other_boards(self):
        with pytest.raises(simavr.SimavrError, match="ATmega328P"):
            simavr.build_firmware(design("msgeq7"))


class TestVerify:
    def test_cli_verify_classic_is_bit_exact(self, capsys):
        args = argparse.Namespace(sim="simavr", port=None, json=True,
                                  design=str(EXAMPLES / "classic.toml"))
        code = run_verify(args)
        doc = json.loads(capsys.readouterr().out)
        assert code == 0 and doc["ok"] is True, doc.get("error") or doc["bit_exact"]
        assert doc["bit_exact"]["mismatches"] == 0
        assert doc["bit_exact"]["samples"] >= MIN_COMPARED
        assert doc["board"]["name"] == "uno" and doc["design_hash"] == design("classic").hash
        assert all(b["ok"] for b in doc["bands"]) and doc["led_table"]
        print(f"verify --sim simavr classic: {doc['seconds']} s, link {doc['link']}, "
              f"overruns {doc['board']['overruns']}")

    def test_resonator_is_bit_exact(self):
        """verify's bit-exact stage (the whole of verify takes a minute on this example: four
        bands of narrow resonators need long response records, at 20 bytes per sample)."""
        d = design("resonator")
        wanted = d.quantized.params()
        with simavr.start_board(d) as sim:
            connect = lambda: Board.open(sim.port, reset="none", timeouts=T)  # noqa: E731
            with connect() as b:
                b.check_design(d.hash)
                runner = BlockRunner(b, expected_hash=d.hash, connect=connect,
                                     oracle=lambda: Model(d.quantized, wanted))
                report = stage_bit_exact(runner, d, wanted, VerifyOptions(), lambda _m: None)
        assert report["mismatches"] == 0 and report["samples"] >= MIN_COMPARED
        assert report["ok"] is True, dict(runner.faults)
        print(f"resonator bit-exact: {report['samples']} samples, faults {dict(runner.faults)}")


class TestSimBoard:
    def test_cli_with_link_and_microphone(self, tmp_path):
        fs = 44100
        t = np.arange(fs * 2) / fs
        wav = tmp_path / "bass.wav"
        wavfile.write(wav, fs, (0.5 * 32767 * np.sin(2 * np.pi * 100 * t)).astype(np.int16))
        link = tmp_path / "organ"
        env = dict(os.environ, COLOR_ORGAN_CACHE=str(tmp_path / "cache"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "designer.cli", "sim-board", str(EXAMPLES / "classic.toml"),
             "--engine", "simavr", "--link", str(link), "--input", str(wav)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_until(link.is_symlink, 60.0), proc.stderr.read() if proc.poll() else ""
            with Board.open(str(link), reset="none", timeouts=T) as b:
                b.check_design(design("classic").hash)
                b.start_levels(20)
                env_by_band = []
                for _ in range(30):
                    lv = b.read_levels(2.0)
                    assert lv is not None
                    env_by_band.append(lv.outputs(3, P.ValueFormat.INT16).env[0])
                b.stop_levels()
            bass, mid, treble = np.mean(env_by_band[10:], axis=0)
            assert bass > 3 * mid and bass > 3 * treble, env_by_band[-1]
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert not link.exists() and not link.is_symlink()

    def test_eeprom_survives_reboot_and_restart(self, tmp_path):
        d = design("classic")
        storage = tmp_path / "eeprom.bin"
        with simavr.start_board(d, storage=storage) as sim:
            with Board.open(sim.port, reset="none", timeouts=T) as b:
                assert b.info().params_status == P.ParamsStatus.ABSENT
                default = b.get(0)
                b.set(0, default + 44)
                b.save()
                hello = b.reset(P.ResetKind.REBOOT)  # the watchdog restarts the chip
                assert hello is not None and hello.params_status == P.ParamsStatus.LOADED
                assert b.get(0) == default + 44
        assert storage.stat().st_size == simavr.EEPROM_SIZE
        with simavr.start_board(d, storage=storage) as sim:
            with Board.open(sim.port, reset="none", timeouts=T) as b:
                assert b.get(0) == default + 44
                assert b.info().params_status == P.ParamsStatus.LOADED

    def test_statistics_of_a_running_board(self):
        """While PROCESS holds live audio the pair interrupts skip the DSP; after a block of
        odd length the first pair runs one sample alone (realigning the pairs). Neither is an
        overrun for the firmware; the harness tells them apart."""
        hold_s = 2.0  # ORGAN_APP_PROCESS_HOLD_MS: the simulated board idles at real time
        with simavr.start_board(design("classic")) as sim:
            with Board.open(sim.port, reset="none", timeouts=T) as b:
                b.process(np.zeros(64, np.int16), from_reset=True)
                b.process(np.zeros(63, np.int16))
                first = sim.stats()
                assert first["uart"]["rx_bytes"] > 0 and first["uart"]["tx_bytes"] > 0
                assert first["pairs"]["paused"] > 0 and first["pairs"]["one"] == 0
                wait_until(lambda: sim.stats()["pairs"]["one"] > 0, 3 * hold_s)
                overruns = b.info().overruns
            s = sim.stats()
            assert s["cycles"] > first["cycles"]  # still running
        assert sim.process.returncode == 0
        pairs = s["pairs"]
        assert pairs["one"] == 1 and pairs["two"] > first["pairs"]["two"]
        pair_hz = s["adc"]["samples"] / (2 * s["cycles"] / simavr.F_CPU)
        assert pairs["paused"] > 0.9 * hold_s * pair_hz
        assert s["lost"] == 2 * (pairs["paused"] + pairs["dropped"]) + pairs["one"]
        assert overruns == s["firmware_overruns"]["total"] == 2 * pairs["dropped"]
