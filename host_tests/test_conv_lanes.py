"""CONV_2D in 16-bit lanes (TFLM_CONV_LANES=1), the C form of the ARMv6-M assembly in
conv_gemm_armv6m.c: the conv kernel tests again, against a library built that way."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from micropython_tflm.catalog import REPO


def test_conv_kernel_tests_pass_with_16_bit_lanes() -> None:
    subprocess.run(["make", "-s", "-C", str(REPO), "lib-lanes"], check=True)
    env = dict(os.environ, TFLM_ENGINE_LIB=str(REPO / "build" / "lib-lanes" / "libtflm.so"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(REPO / "host_tests" / "test_conv_kernels.py")],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:]
    passed = int(re.search(r"(\d+) passed", result.stdout).group(1))
    assert passed >= 50 and " failed" not in result.stdout
