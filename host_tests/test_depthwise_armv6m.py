"""DEPTHWISE_CONV_2D's Cortex-M0+ assembly (depthwise_armv6m.c) on rp2040_emu against TFLite Micro, bit for bit.

The shared models only have 3x3 filters; these layers also take the band
path's other branches: filter heights 1 to 5 (the row loop beside the
unrolled three rows), stride 1 and 2, odd output widths (the last column
one pixel at a time, one-column outputs), depth multipliers 1, 4 and 8
(shared input: products of matrices, odd filter widths with a zero column,
or the band path for rows too long for the ring), dilated rows, bands split
into strips and segments, and padded windows, with random quantization
(accumulators beyond 16 bits take the wide requantization).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from micropython_tflm import modelgen
from micropython_tflm.conformance import check_models
from micropython_tflm.harness.rp2040_emu import RP2040EmuBoard

# (input_shape, kernel, depth_multiplier, strides, padding, dilation, activation)
LAYERS = [
    ((1, 7, 9, 8), (3, 3), 1, (1, 1), "SAME", (1, 1), "RELU6"),
    ((1, 9, 7, 4), (3, 3), 1, (2, 2), "SAME", (1, 1), "NONE"),
    ((1, 6, 10, 4), (3, 3), 1, (1, 2), "VALID", (1, 1), "RELU"),
    ((1, 5, 5, 12), (1, 3), 1, (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 6, 5, 4), (2, 3), 1, (2, 1), "SAME", (1, 1), "RELU6"),
    ((1, 8, 6, 8), (4, 3), 1, (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 9, 5, 4), (5, 3), 1, (1, 2), "SAME", (2, 1), "NONE"),
    ((1, 10, 9, 4), (3, 3), 1, (1, 1), "SAME", (2, 1), "RELU"),
    ((1, 8, 8, 1), (3, 3), 8, (2, 2), "SAME", (1, 1), "RELU6"),
    ((1, 5, 7, 2), (3, 3), 4, (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 3, 3, 16), (3, 3), 1, (1, 1), "SAME", (1, 1), "RELU6"),
    ((1, 6, 6, 8), (3, 3), 1, (2, 2), "SAME", (1, 1), "NONE"),
    ((2, 4, 5, 4), (3, 3), 1, (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 40, 127, 4), (3, 3), 1, (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 60, 21, 4), (3, 3), 1, (1, 1), "SAME", (1, 1), "RELU6"),
    ((1, 9, 9, 1), (3, 3), 4, (2, 2), "SAME", (1, 1), "NONE"),
    ((1, 30, 70, 4), (3, 3), 1, (2, 2), "SAME", (1, 1), "RELU6"),
    ((1, 25, 5, 8), (3, 3), 1, (1, 1), "SAME", (1, 1), "RELU"),
    ((1, 7, 1, 8), (3, 3), 1, (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 6, 3, 4), (4, 3), 1, (2, 2), "SAME", (1, 1), "RELU6"),
    ((1, 11, 7, 1), (3, 3), 8, (2, 2), "VALID", (1, 1), "NONE"),
    ((1, 20, 171, 4), (3, 3), 1, (1, 1), "VALID", (1, 1), "NONE"),
    ((1, 6, 9, 2), (2, 5), 4, (1, 2), "SAME", (1, 1), "RELU6"),
    ((1, 5, 170, 1), (3, 3), 4, (1, 1), "SAME", (1, 1), "NONE"),
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dw_armv6m")
    for i, (shape, kernel, multiplier, strides, padding, dilation, activation) in enumerate(LAYERS):
        model = modelgen.depthwise_conv_2d(shape, kernel, multiplier, strides, padding, dilation, activation,
                                           rng=np.random.default_rng(100 + i))
        (folder / f"dw{i:02}.tflite").write_bytes(model)
    return folder


def test_depthwise_armv6m_matches_tflite_micro(models_dir: Path) -> None:
    board = RP2040EmuBoard()
    board.build()
    results = check_models(board, sorted(models_dir.glob("*.tflite")), models_dir)
    assert [(r.model, r.status, r.problems) for r in results] == [
        (r.model, "PASS", []) for r in results]
