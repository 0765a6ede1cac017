"""The ARMv7E-M DSP helpers (engine/kernels/dsp_armv7em.h) on a Cortex-M4.

host_tests/c/test_dsp_armv7em.c checks them against plain C sums, built bare metal for the
Cortex-M4 (with the boards' semihosting.c) and run on QEMU's mps2-an386. The whole models run
through them in `test --board qemu_mps2_an386`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from micropython_tflm.harness import REPO

ENGINE = REPO / "micropython_tflm" / "usermod" / "engine"
CORTEX_M4 = ["-mthumb", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]


def test_dsp_helpers_match_plain_sums_on_cortex_m4(tmp_path: Path) -> None:
    elf = tmp_path / "test_dsp_armv7em.elf"
    subprocess.run(["arm-none-eabi-gcc", *CORTEX_M4, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fwrapv",
                    f"-I{ENGINE}", f"-I{REPO / 'boards/common'}", "--specs=nano.specs", "-nostartfiles",
                    f"-L{REPO / 'boards/common/cortexm'}",
                    f"-T{REPO / 'boards/qemu_mps2/mps2.ld'}", "-o", str(elf),
                    str(REPO / "host_tests/c/test_dsp_armv7em.c"), str(ENGINE / "kernels/dsp_armv7em.c"),
                    str(REPO / "boards/common/cortexm/semihosting.c")], check=True)
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                          "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=120)
    # Semihosting writes to QEMU's stderr.
    assert run.stderr.strip().endswith("dsp_armv7em: 0 failures"), run.stderr
    assert run.returncode == 0
