"""Builds of the C link for the tests: the stdin/stdout driver, the libFuzzer harness, AVR objects.

The application under test is the mock (tests/link_c/mock_app.c) unless ORGAN_TEST_APP_SOURCES
lists other sources (os.pathsep-separated) implementing tests/link_c/test_app.h, for example an
adapter over the real organ_app.c plus the DSP core and a design's tables.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LINK_DIR = ROOT / "firmware_templates" / "lib" / "organ_link"
LINK_SOURCES = [LINK_DIR / "organ_link.c", LINK_DIR / "organ_store.c"]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


def app_sources() -> list[Path]:
    """The application sources: the mock, or ORGAN_TEST_APP_SOURCES."""
    env = os.environ.get("ORGAN_TEST_APP_SOURCES")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [HERE / "mock_app.c"]


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"build failed: {' '.join(cmd)}\n{r.stderr}")


def build_driver(
    out: Path, defines: Sequence[str] = (), cc: str = "gcc", sanitize: bool = True
) -> Path:
    """The driver (tests/link_c/driver.c), strict C99 warnings as errors; ASan + UBSan unless
    ``sanitize`` is False (then -O2, for speed measurements)."""
    srcs = [HERE / "driver.c", *app_sources(), *LINK_SOURCES]
    _run(
        [
            cc,
            *STRICT,
            *(SANITIZE if sanitize else []),
            "-g",
            "-O1" if sanitize else "-O2",
            f"-I{LINK_DIR}",
            f"-I{HERE}",
            *defines,
            *map(str, srcs),
            "-lm",
            "-o",
            str(out),
        ]
    )
    return out


def build_fuzzer(out: Path, defines: Sequence[str] = ()) -> Path:
    """The libFuzzer harness (tests/fuzz/fuzz_link.c) with ASan + UBSan (clang)."""
    srcs = [ROOT / "tests" / "fuzz" / "fuzz_link.c", *app_sources(), *LINK_SOURCES]
    _run(
        [
            "clang",
            *STRICT,
            "-fsanitize=fuzzer,address,undefined",
            "-fno-sanitize-recover=all",
            "-g",
            "-O1",
            f"-I{LINK_DIR}",
            f"-I{HERE}",
            *defines,
            *map(str, srcs),
            "-lm",
            "-o",
            str(out),
        ]
    )
    return out


def avr_sizes(out_dir: Path) -> dict[str, int]:
    """Flash and RAM the link costs on an ATmega328P (avr-gcc -Os, unused code collected).

    Links organ_link.c + organ_store.c with a minimal application that uses every entry point,
    the way a sketch does, and subtracts the same program without the link. Returns
    ``{"flash": bytes, "ram_static": bytes, "link_struct": sizeof(organ_link_t)}``.
    """
    base = [
        "avr-gcc",
        "-mmcu=atmega328p",
        "-DF_CPU=16000000L",
        "-Os",
        *STRICT,
        "-flto",
        "-ffunction-sections",
        "-fdata-sections",
        "-Wl,--gc-sections",
        f"-I{LINK_DIR}",
    ]
    sizes = {}
    for name, with_link in (("with", True), ("without", False)):
        elf = out_dir / f"avr_{name}.elf"
        srcs = [HERE / "avr_min.c", *(LINK_SOURCES if with_link else [])]
        _run([*base, *([] if with_link else ["-DNO_LINK"]), *map(str, srcs), "-o", str(elf)])
        text = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True).stdout
        sec = {
            p[0]: int(p[1])
            for p in (ln.split() for ln in text.splitlines())
            if len(p) >= 2 and p[1].isdigit()
        }
        sizes[name] = (
            sec.get(".text", 0) + sec.get(".data", 0),
            sec.get(".data", 0) + sec.get(".bss", 0),
        )
    probe = out_dir / "avr_probe.o"
    _run(
        [
            *base[:4],
            "-c",
            f"-I{LINK_DIR}",
            str(HERE / "avr_min.c"),
            "-DSIZE_PROBE",
            "-o",
            str(probe),
        ]
    )
    nm = subprocess.run(["avr-nm", "-S", str(probe)], capture_output=True, text=True).stdout
    struct_size = next(int(ln.split()[1], 16) for ln in nm.splitlines() if "link_struct_size" in ln)
    return {
        "flash": sizes["with"][0] - sizes["without"][0],
        "ram_static": sizes["with"][1] - sizes["without"][1],
        "link_struct": struct_size,
    }
