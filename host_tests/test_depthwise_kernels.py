"""int8 DEPTHWISE_CONV_2D against the numpy reference and the TFLite Micro runtime, bit for bit.

The kernel picks its loop by the layer: four channels a word for a depth
multiplier of 1 with channels a multiple of four, one input for four weight
lanes for a depth multiplier that is a multiple of four, bytes otherwise;
windows inside the input start from the folded bias, windows cut by the
padding add the input offset. The seeded draws below reach every one of those
(and test_ops_random's draws, of at most 8 channels, seldom do), with strides,
dilations, both paddings, per-tensor and per-channel scales, every fused
activation and input ranges wide enough for accumulators beyond 16 bits.

The cheaper requantization the Cortex-M0+ uses (depthwise_requantize.h) is
compiled for the host here with its 32-bit form forced on and compared with
the 64-bit one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tflite_micro import runtime

from micropython_tflm import modelgen
from micropython_tflm.engine import REPO, Engine
from micropython_tflm.reference import ReferenceInterpreter

ARENA_BYTES = 1 << 20
CASES = 60
ENGINE_DIR = REPO / "micropython_tflm" / "usermod" / "engine"


def draw(rng: np.random.Generator) -> dict[str, Any]:
    """One layer's modelgen.depthwise_conv_2d parameters."""
    loop = rng.choice(["words", "shared", "bytes"])
    if loop == "words":
        channels, multiplier = 4 * int(rng.integers(1, 9)), 1
    elif loop == "shared":
        channels, multiplier = int(rng.integers(1, 4)), 4 * int(rng.integers(1, 3))
    else:
        channels, multiplier = int(rng.choice([1, 2, 3, 5, 6, 7, 9, 13])), int(rng.integers(1, 4))
    padding = str(rng.choice(["SAME", "VALID"]))
    dilated = rng.random() < 0.25
    dilation = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if dilated else (1, 1)
    strides = (1, 1) if dilated else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    h, w = int(rng.integers(1, 14)), int(rng.integers(1, 14))
    kernel = [int(rng.integers(1, 4)), int(rng.integers(1, 4))] if rng.random() < 0.8 else \
        [int(rng.integers(1, 11)), int(rng.integers(1, 9))]
    if padding == "VALID":  # the window must fit the input
        kernel = [min(k, (size - 1) // d + 1) for k, size, d in zip(kernel, (h, w), dilation)]
    return {"input_shape": (int(rng.integers(1, 3)), h, w, channels), "kernel": tuple(kernel),
            "depth_multiplier": multiplier, "strides": strides, "padding": padding, "dilation": dilation,
            "activation": str(rng.choice(["NONE", "RELU", "RELU_N1_TO_1", "RELU6"])), "dtype": "int8",
            "per_channel": bool(rng.random() < 0.8), "bias": bool(rng.random() < 0.9)}


@pytest.mark.parametrize("seed", range(CASES))
def test_depthwise_matches_reference_and_tflite_micro(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    params = draw(rng)
    model = modelgen.depthwise_conv_2d(**params, rng=np.random.default_rng(seed))
    expected = runtime.Interpreter.from_bytes(model, arena_size=ARENA_BYTES)
    ours, reference = Engine(model, ARENA_BYTES), ReferenceInterpreter(model)
    shape = tuple(expected.get_input_details(0)["shape"])
    for _ in range(2):  # a second invoke with other inputs: nothing carries over
        x = rng.integers(-128, 127, size=shape, endpoint=True).astype(np.int8)
        for subject in (ours, reference):
            subject.set_input(0, x)
        expected.set_input(x, 0)
        expected.invoke()
        ours.invoke()
        reference.invoke()
        want = expected.get_output(0)
        np.testing.assert_array_equal(ours.output(0), want, err_msg=f"engine: {params}")
        np.testing.assert_array_equal(reference.get_output(0), want, err_msg=f"reference: {params}")


REQUANTIZE_CHECK = r"""
#define TFLM_REQUANTIZE_32 1
#include <stdio.h>
#include "kernels/depthwise_requantize.h"
static unsigned long long state = 88172645463325252ull;
static unsigned long long next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
int main(void) {
    long bad = 0;
    for (long i = 0; i < 20000000; i++) {
        /* tflm_quantize_multiplier's multipliers: 0 or [2^30, 2^31), edges often */
        int32_t m = next() % 8 == 0 ? (1 << 30) + (int32_t)(next() % 4) : (int32_t)((1u << 30) + next() % (1u << 30));
        if (next() % 1000 == 0) m = next() % 2 ? 0 : 0x7fffffff;
        int shift = next() % 40 == 0 ? (int)(next() % 4) : -(int)(next() % 20);
        int32_t acc = next() % 8 == 0 ? (int32_t)next() : (int32_t)(next() % 65539) - 32769;
        int32_t fast = tflm_requantize_small(acc, m, shift), exact = tflm_requantize64(acc, m, shift);
        if (fast != exact && bad++ < 5) printf("acc %ld m %ld shift %d: %ld, expected %ld\n",
            (long)acc, (long)m, shift, (long)fast, (long)exact);
    }
    return bad != 0;
}
"""


def test_requantize_small_matches_requantize64(tmp_path: Path) -> None:
    source, binary = tmp_path / "check.c", tmp_path / "check"
    source.write_text(REQUANTIZE_CHECK)
    subprocess.run(["cc", "-std=c99", "-O2", "-fwrapv", f"-I{ENGINE_DIR}", "-o", str(binary), str(source)], check=True)
    result = subprocess.run([str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
