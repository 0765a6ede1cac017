"""The ARMv6-M CONV_2D assembly (engine/kernels/conv_gemm_armv6m.c) on a Cortex-M3.

host_tests/c/test_conv_armv6m.c checks its requantization against tflm_requantize64 and its
products against plain sums, built for the Cortex-M0+ (whose instructions a Cortex-M3 runs) and
run on QEMU's mps2-an385. The whole models run through it in `test --board rp2040_emu`.
"""

from __future__ import annotations

from pathlib import Path

from bare_metal import run_bare_metal_check


def test_conv_assembly_matches_plain_c_on_armv6m(tmp_path: Path) -> None:
    run_bare_metal_check(tmp_path, "conv_armv6m", ["-mthumb", "-mcpu=cortex-m0plus"], "mps2-an385",
                         ["kernels/conv_gemm_armv6m.c", "kernels/dot_i8_armv6m.c"])
