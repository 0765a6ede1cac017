"""The ARMv6-M CONV_2D assembly (engine/kernels/conv_gemm_armv6m.c) on a Cortex-M3.

host_tests/c/test_conv_armv6m.c checks its requantization against tflm_requantize64 and its
products against plain sums, built for the Cortex-M0+ (whose instructions a Cortex-M3 runs) and
run on QEMU's mps2-an385. The whole models run through it in `test --board rp2040_emu`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from micropython_tflm.harness import REPO

ENGINE = REPO / "micropython_tflm" / "usermod" / "engine"


def test_conv_assembly_matches_plain_c_on_armv6m(tmp_path: Path) -> None:
    elf = tmp_path / "test_conv_armv6m.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0plus", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    "-O2", "-fwrapv", f"-I{ENGINE}", f"-I{REPO / 'boards/common'}", "--specs=nano.specs",
                    "-nostartfiles", f"-L{REPO / 'boards/common/cortexm'}",
                    f"-T{REPO / 'boards/qemu_mps2/mps2.ld'}", "-o", str(elf),
                    str(REPO / "host_tests/c/test_conv_armv6m.c"), str(ENGINE / "kernels/conv_gemm_armv6m.c"),
                    str(REPO / "boards/common/cortexm/semihosting.c")], check=True)
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an385", "-display", "none", "-monitor", "none",
                          "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=120)
    # Semihosting writes to QEMU's stderr.
    assert run.stderr.strip().endswith("conv_armv6m: 0 failures"), run.stderr
    assert run.returncode == 0
