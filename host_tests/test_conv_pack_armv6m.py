"""CONV_2D's window packing in ARMv6-M assembly (engine/kernels/conv_pack_armv6m.c) on rp2040_emu
(Cortex-M0+), against the TFLite Micro runtime bit for bit: pointwise layers whose pixels' channels
are packed a word at a time (input channels a multiple of 4, of 8 or not) and ones left to C (input
channels not a multiple of 4); wider filters whose blocks of four positions in one output row with
whole windows are packed a tap of the four at a time, the others (padding, blocks across rows) a
window at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from micropython_tflm import modelgen
from micropython_tflm.conformance import conformance_board, run_conformance

# input shape, filters, kernel, strides, padding
CONV_2D = [
    ((1, 6, 5, 8), 10, (1, 1), (1, 1), "SAME"),  # 30 positions of 8 channels, a last block of two
    ((2, 3, 5, 12), 7, (1, 1), (1, 1), "VALID"),  # 12 channels: three words a pixel, batches
    ((1, 4, 4, 4), 5, (1, 1), (1, 1), "SAME"),  # one word a pixel
    ((1, 5, 4, 6), 9, (1, 1), (1, 1), "SAME"),  # 6 channels: pixels not word-aligned, packed in C
    ((1, 11, 22, 3), 8, (3, 3), (2, 2), "SAME"),  # vww's first layer, smaller: padding right and below
    ((1, 9, 13, 5), 6, (3, 2), (1, 1), "VALID"),  # rows of 12 outputs: blocks across rows
    ((1, 8, 15, 2), 4, (2, 3), (1, 3), "SAME"),  # stride 3 across
]


def test_conv_packing_matches_tflite_micro(tmp_path: Path) -> None:
    for i, (shape, filters, kernel, strides, padding) in enumerate(CONV_2D):
        for seed, activation in enumerate(("NONE", "RELU6")):
            buf = modelgen.conv_2d(shape, filters, kernel, strides, padding, activation=activation,
                                   rng=np.random.default_rng(500 + 10 * i + seed),
                                   input_range=(-30.0, 50.0) if seed else None)
            (tmp_path / f"conv_2d{i}_{seed}.tflite").write_bytes(buf)
    models = sorted(tmp_path.glob("*.tflite"))
    report = run_conformance(conformance_board("rp2040_emu", models), models, models_dir=tmp_path, api=False)
    assert not report.failed, report.markdown()
    assert [m.status for m in report.models] == ["PASS"] * len(models)
