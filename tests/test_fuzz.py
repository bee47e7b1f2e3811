"""libFuzzer on the C link (tests/fuzz/fuzz_link.c): seeds, the harness's own oracle, a bounded run.

FUZZ_SECONDS sets the bounded run's total time (default 60 in CI, 10 locally), split between
two builds: AVR-sized buffers with int16 results, and host-sized buffers with 7 float bands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IN_CI, require_tool

sys.path.insert(0, str(Path(__file__).parent))
from fuzz import make_corpus  # noqa: E402
from link_c import cbuild  # noqa: E402

BUILDS = {
    "avr": ["-DORGAN_LINK_RX_MAX=136u", "-DORGAN_LINK_TX_MAX=64u"],
    "float7": ["-DMOCK_FLOAT", "-DMOCK_BANDS=7"],
}
FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "60" if IN_CI else "10"))


@pytest.fixture(scope="module")
def fuzzers(tmp_path_factory):
    require_tool("clang")
    out = tmp_path_factory.mktemp("fuzz")
    exes = {name: cbuild.build_fuzzer(out / f"fuzz_{name}", d) for name, d in BUILDS.items()}
    exes["selftest"] = cbuild.build_fuzzer(out / "fuzz_selftest", ["-DFUZZ_SELFTEST"])
    return exes


@pytest.fixture
def seeds(tmp_path):
    d = tmp_path / "seeds"
    make_corpus.write(d)
    return d


def test_committed_corpus_is_current():
    want = make_corpus.corpus()
    have = {p.stem: p.read_bytes() for p in make_corpus.CORPUS_DIR.glob("*.bin")}
    assert have == want, "run: python tests/fuzz/make_corpus.py"


@pytest.mark.parametrize("name", list(BUILDS))
def test_seeds_run_clean(fuzzers, seeds, name):
    r = subprocess.run(
        [str(fuzzers[name]), "-runs=0", str(seeds)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "INITED" in r.stderr


def test_oracle_catches_a_corrupted_reply(fuzzers, seeds, tmp_path):
    r = subprocess.run(
        [str(fuzzers["selftest"]), f"-artifact_prefix={tmp_path}/", str(seeds / "raw_info.bin")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "fuzz_link: bad CRC sent" in r.stderr or "fuzz_link: bad header" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDS))
def test_bounded_fuzz_run(fuzzers, seeds, tmp_path, name):
    work = tmp_path / "corpus"
    work.mkdir()
    seconds = max(1, round(FUZZ_SECONDS / len(BUILDS)))
    r = subprocess.run(
        [
            str(fuzzers[name]),
            f"-max_total_time={seconds}",
            "-max_len=1024",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
            f"-artifact_prefix={tmp_path}/",
            str(work),
            str(seeds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "leak-")))
    assert r.returncode == 0 and not crashes, f"{crashes}\n{r.stderr[-4000:]}"
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert runs and int(runs.group(1)) > 0
    print(f"fuzz {name}: {runs.group(1)} executions in {seconds} s")
