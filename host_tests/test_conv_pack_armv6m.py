"""CONV_2D's window packing in ARMv6-M assembly (engine/kernels/conv_pack_armv6m.c) on rp2040_emu
(Cortex-M0+), against the TFLite Micro runtime bit for bit: pointwise layers whose pixels' channels
are packed a word at a time (input channels a multiple of 4, of 8 or not) and ones left to C (input
channels not a multiple of 4)."""

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
