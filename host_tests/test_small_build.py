"""The engine as footprint.py's "small" configuration (make lib-small: TFLM_FLOAT_KERNELS=0,
TFLM_INT16_KERNELS=0, TFLM_ERROR_MESSAGES=0, TFLM_OPTIMIZE_SIZE=1) runs int8 models to the same
bits as the default build, and refuses float and int16 models as unsupported; linked for the
Cortex-M0+, micro_speech's op set in it stays within footprint.py's flash budget."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from micropython_tflm.catalog import MODELS_DIR, REPO
from micropython_tflm.model import Model

INT8_MODELS = ["tflm/micro_speech_quantized.tflite", "tflm/person_detect.tflite", "mlperf_tiny/kws_ref_model.tflite",
               "mlperf_tiny/pretrainedResnet_quant.tflite", "tflm/hello_world_int8.tflite"]
REFUSED_MODELS = ["tflm/hello_world_float.tflite"]

# Run in a child process: the engine library is loaded once per process.
RUNNER = r"""
import json, sys
import numpy as np
from micropython_tflm.engine import Engine, EngineError, arena_needed
results = {}
for path in sys.argv[1:]:
    buf = open(path, "rb").read()
    try:
        e = Engine(buf, arena_needed(buf))
    except EngineError as err:
        results[path] = {"error": err.status}
        continue
    for i in range(e.input_count):
        view = e.input(i)
        view[...] = np.arange(view.size, dtype=np.int64).reshape(view.shape).astype(view.dtype)
    e.invoke()
    results[path] = {"outputs": [e.output(i).tolist() for i in range(e.output_count)]}
print(json.dumps(results))
"""


def run_models(paths: list[str], library: str | None) -> dict:
    env = dict(os.environ)
    if library:
        env["TFLM_ENGINE_LIB"] = library
    out = subprocess.run([sys.executable, "-c", RUNNER, *paths], capture_output=True, text=True, env=env,
                         cwd=REPO, timeout=600, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # after what a `make lib` may print


def test_small_build_runs_int8_models_bit_exact_and_refuses_float() -> None:
    subprocess.run(["make", "-s", "-C", str(REPO), "lib", "lib-small"], check=True)
    paths = [str(MODELS_DIR / m) for m in INT8_MODELS + REFUSED_MODELS]
    small = run_models(paths, str(REPO / "build" / "small" / "lib" / "libtflm.so"))
    default = run_models(paths, None)
    for m in INT8_MODELS:
        path = str(MODELS_DIR / m)
        assert "outputs" in small[path], small[path]
        assert small[path] == default[path]
    for m in REFUSED_MODELS:
        path = str(MODELS_DIR / m)
        assert small[path] == {"error": "UNSUPPORTED"}
        assert "outputs" in default[path]


def test_micro_speech_small_footprint_within_budget() -> None:
    spec = importlib.util.spec_from_file_location("footprint", REPO / "scripts" / "footprint.py")
    footprint = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(footprint)
    ops = sorted(Model.load(MODELS_DIR / "tflm" / "micro_speech_quantized.tflite").op_counts())
    assert ops == ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]
    measured = footprint.measure(footprint.MICRO_SPEECH, "small", ops, top=10)
    assert measured["total"] <= footprint.SMALL_BUDGET == 12288, measured["largest"]
