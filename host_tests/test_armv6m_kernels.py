"""The ARMv6-M assembly of DEPTHWISE_CONV_2D with a depth multiplier of a multiple of four
(depthwise_shared_armv6m.c), of FULLY_CONNECTED (fully_connected_armv6m.c) and of CONV_2D
(conv_gemm_armv6m.c, conv_pack_armv6m.c) on rp2040_emu (Cortex-M0+), against the TFLite Micro
runtime bit for bit: generated layers that take each of their paths (products of matrices with
partial blocks of positions, several groups, batches, strides, row dilation; the tap-walking
fallback; odd unit counts and depths; CONV_2D's last blocks of one to three positions, pointwise or
not, pixels packed a word at a time or in C, blocks of four whole windows in one output row packed a
tap of the four at a time, the others a window at a time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from micropython_tflm import modelgen
from micropython_tflm.conformance import conformance_board, run_conformance

# input shape, kernel, depth multiplier, strides, padding, dilation
DEPTHWISE = [
    ((1, 49, 40, 1), (10, 8), 8, (2, 2), "SAME", (1, 1)),  # micro_speech's layer
    ((1, 13, 11, 1), (3, 4), 4, (1, 1), "SAME", (1, 1)),  # a last block of three positions
    ((1, 12, 9, 2), (5, 2), 8, (2, 1), "VALID", (1, 1)),  # two groups
    ((2, 10, 10, 1), (4, 4), 12, (1, 2), "SAME", (2, 1)),  # batches, dilated rows
    ((1, 9, 14, 3), (3, 6), 4, (3, 3), "SAME", (1, 1)),  # stride 3, a block of one
    ((1, 30, 6, 2), (9, 2), 4, (2, 1), "SAME", (3, 1)),  # tall dilated filter
    ((1, 20, 17, 1), (7, 6), 16, (1, 1), "SAME", (1, 1)),  # too many weights: the tap walk
    ((1, 8, 9, 1), (5, 5), 8, (1, 1), "SAME", (1, 1)),  # odd filter width: the tap walk
]
# input shape, units
FULLY_CONNECTED = [((1, 4000), 4), ((2, 37), 5), ((1, 16), 3), ((3, 130), 9), ((1, 7), 1)]
# input shape, filters, kernel, strides, padding
CONV_2D = [
    ((1, 3, 3, 32), 20, (1, 1), (1, 1), "SAME"),  # 9 positions: a pixel alone, 20 channels
    ((2, 5, 5, 9), 7, (1, 1), (1, 1), "VALID"),  # batches of 25: a pixel alone of 9 input channels
    ((1, 7, 2, 13), 6, (1, 1), (1, 1), "SAME"),  # 14: a last block of two, rows padded to 16 taps
    ((1, 5, 3, 16), 35, (1, 1), (1, 1), "SAME"),  # 15: a last block of three, 35 channels
    ((1, 9, 9, 3), 8, (3, 3), (2, 2), "SAME"),  # 25 windows of 27 taps: a window alone in the padding
    # window packing (conv_pack_armv6m.c)
    ((1, 6, 5, 8), 10, (1, 1), (1, 1), "SAME"),  # 30 positions of 8 channels, a last block of two
    ((2, 3, 5, 12), 7, (1, 1), (1, 1), "VALID"),  # 12 channels: three words a pixel, batches
    ((1, 4, 4, 4), 5, (1, 1), (1, 1), "SAME"),  # one word a pixel
    ((1, 5, 4, 6), 9, (1, 1), (1, 1), "SAME"),  # 6 channels: pixels not word-aligned, packed in C
    ((1, 11, 22, 3), 8, (3, 3), (2, 2), "SAME"),  # vww's first layer, smaller: padding right and below
    ((1, 9, 13, 5), 6, (3, 2), (1, 1), "VALID"),  # rows of 12 outputs: blocks across rows
    ((1, 8, 15, 2), 4, (2, 3), (1, 3), "SAME"),  # stride 3 across
]


def test_armv6m_kernels_match_tflite_micro(tmp_path: Path) -> None:
    for i, (shape, kernel, multiplier, strides, padding, dilation) in enumerate(DEPTHWISE):
        for seed, activation in enumerate(("NONE", "RELU6")):
            buf = modelgen.depthwise_conv_2d(shape, kernel, multiplier, strides, padding, dilation,
                                             activation=activation, rng=np.random.default_rng(100 * i + seed),
                                             input_range=(-40.0, 60.0) if seed else None)
            (tmp_path / f"depthwise{i}_{seed}.tflite").write_bytes(buf)
    for i, (shape, units) in enumerate(FULLY_CONNECTED):
        buf = modelgen.fully_connected(shape, units, rng=np.random.default_rng(7 + i))
        (tmp_path / f"fully_connected{i}.tflite").write_bytes(buf)
    for i, (shape, filters, kernel, strides, padding) in enumerate(CONV_2D):
        for seed, activation in enumerate(("NONE", "RELU6")):
            buf = modelgen.conv_2d(shape, filters, kernel, strides, padding, activation=activation,
                                   rng=np.random.default_rng(300 + 10 * i + seed),
                                   input_range=(-30.0, 50.0) if seed else None)
            (tmp_path / f"conv_2d{i}_{seed}.tflite").write_bytes(buf)
    models = sorted(tmp_path.glob("*.tflite"))
    report = run_conformance(conformance_board("rp2040_emu", models), models, models_dir=tmp_path, api=False)
    assert not report.failed, report.markdown()
    assert [m.status for m in report.models] == ["PASS"] * len(models)
