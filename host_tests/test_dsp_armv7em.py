"""The ARMv7E-M DSP helpers (engine/kernels/dsp_armv7em.h) on a Cortex-M4.

host_tests/c/test_dsp_armv7em.c checks them against plain C sums, built bare metal for the
Cortex-M4 (with the boards' semihosting.c) and run on QEMU's mps2-an386. The whole models run
through them in `test --board qemu_mps2_an386`.
"""

from __future__ import annotations

from pathlib import Path

from bare_metal import run_bare_metal_check

CORTEX_M4 = ["-mthumb", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]


def test_dsp_helpers_match_plain_sums_on_cortex_m4(tmp_path: Path) -> None:
    run_bare_metal_check(tmp_path, "dsp_armv7em", CORTEX_M4, "mps2-an386", ["kernels/dsp_armv7em.c"])
