"""Builds a bare-metal check of host_tests/c (see bare_metal_check.h) and runs it on QEMU's mps2."""

from __future__ import annotations

import subprocess
from pathlib import Path

from micropython_tflm.harness import REPO

ENGINE = REPO / "micropython_tflm" / "usermod" / "engine"


def run_bare_metal_check(tmp_path: Path, name: str, cpu_flags: list[str], machine: str, kernel_sources: list[str]) -> None:
    """Links host_tests/c/test_NAME.c with the engine's kernel_sources for cpu_flags, runs it on QEMU's
    machine and asserts that it reports "NAME: 0 failures" and exits with 0."""
    elf = tmp_path / f"test_{name}.elf"
    subprocess.run(["arm-none-eabi-gcc", *cpu_flags, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fwrapv",
                    f"-I{ENGINE}", f"-I{REPO / 'boards/common'}", "--specs=nano.specs", "-nostartfiles",
                    f"-L{REPO / 'boards/common/cortexm'}", f"-T{REPO / 'boards/qemu_mps2/mps2.ld'}", "-o", str(elf),
                    str(REPO / f"host_tests/c/test_{name}.c"), *(str(ENGINE / s) for s in kernel_sources),
                    str(REPO / "boards/common/cortexm/semihosting.c")], check=True)
    run = subprocess.run(["qemu-system-arm", "-M", machine, "-display", "none", "-monitor", "none",
                          "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=120)
    # Semihosting writes to QEMU's stderr.
    assert run.stderr.strip().endswith(f"{name}: 0 failures"), run.stderr
    assert run.returncode == 0
