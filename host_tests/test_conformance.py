"""Conformance on the host board: every shared model against the TFLite Micro runtime and the numpy reference.

Each model runs once on the board (micropython_tflm.conformance.check_model, all
its cases in one run) and two tests read the result: one against the runtime,
the documented outputs and the arena, one against the numpy reference. The
table of all results is printed at the end of the session and written to
build/reports/conformance_host.{json,md}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from tflite_micro import runtime

from micropython_tflm import cli, conformance, engine
from micropython_tflm.catalog import MODELS_DIR, all_models
from micropython_tflm.conformance import (
    FLOAT_ATOL, FLOAT_RTOL, REPORTS_DIR, RUNNER, BoardRun, Case, Expectation, ModelResult, PreparedModel, Report,
    check_api, check_model, check_models, compare, flash_models, relative_name, run_jobs, write_report)
from micropython_tflm.harness import BUILD
from micropython_tflm.harness.host import HostBoard
from micropython_tflm.harness.rp2040_emu import RP2040EmuBoard

MODELS = all_models()
# Smallest arenas of the TFLite Micro runtime listed in the models' README.md.
README_TFLM_ARENAS = {
    "tflm/hello_world_int8.tflite": 1936, "tflm/hello_world_float.tflite": 1936,
    "tflm/micro_speech_quantized.tflite": 7584, "tflm/person_detect.tflite": 85264,
    "mlperf_tiny/kws_ref_model.tflite": 24272, "mlperf_tiny/vww_96_int8.tflite": 103680,
    "mlperf_tiny/pretrainedResnet_quant.tflite": 55984, "mlperf_tiny/ad01_int8.tflite": 4640,
    "tflm/simple_add_model.tflite": 50176,
}
# Cases with documented outputs each model must have checked (the rest of seanet has one golden each).
KNOWN_OUTPUTS = {
    "tflm/micro_speech_quantized.tflite": 2, "tflm/person_detect.tflite": 2,
    "tflm/network_tester/network_model.tflite": 1, "mlperf_tiny/kws_ref_model.tflite": 1,
    "mlperf_tiny/pretrainedResnet_quant.tflite": 1, "mlperf_tiny/vww_96_int8.tflite": 2,
}
def model_params() -> list:
    return [pytest.param(path, id=relative_name(path)) for path in MODELS]


@pytest.fixture(scope="session")
def board() -> HostBoard:
    host = HostBoard()
    host.build()
    return host


class Results:
    """check_model once per model, whichever test asks first."""

    def __init__(self, board: HostBoard):
        self.board = board
        self.by_model: dict[Path, ModelResult] = {}

    def __getitem__(self, path: Path) -> ModelResult:
        if path not in self.by_model:
            self.by_model[path] = check_model(self.board, path)
        return self.by_model[path]


@pytest.fixture(scope="session")
def results(board: HostBoard, request: pytest.FixtureRequest) -> Iterator[Results]:
    checked = Results(board)
    yield checked
    if not checked.by_model:
        return
    report = Report(board.name, [checked.by_model[p] for p in MODELS if p in checked.by_model], [])
    write_report(report)
    table = report.markdown()
    (REPORTS_DIR / f"conformance_{board.name}.md").write_text(table + "\n")
    # Teardown output is captured (and shown only on failure) unless capturing is suspended.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and terminal is not None:
        with capture.global_and_fixture_disabled():
            terminal.write_line("")
            for line in table.splitlines():
                terminal.write_line(line)


def test_every_model_of_the_manifest_is_checked(models_dir: Path) -> None:
    listed = [line.split("\t")[0] for line in (models_dir / "MANIFEST.tsv").read_text().splitlines()[1:]]
    wanted = sorted(f for f in listed if f.endswith(".tflite") and not f.startswith("malformed/"))
    assert sorted(relative_name(p, models_dir) for p in MODELS) == wanted
    assert len(wanted) == 140


@pytest.mark.parametrize("model", model_params())
def test_board_matches_tflite_micro(model: Path, results: Results) -> None:
    """Bit-exact (floats within tolerance) with the runtime, documented outputs reproduced, arena as planned."""
    result = results[model]
    assert result.board_problems == []
    assert result.tflm_problems == []
    assert result.expected_problems == []
    assert result.status == "PASS" or result.reference_problems
    assert result.max_diff_tflm is not None
    name = relative_name(model)
    if name.startswith("tflm/seanet/"):
        assert result.known_outputs == 1
    else:
        assert result.known_outputs == KNOWN_OUTPUTS.get(name, 0)
    # The host board runs the same C planner as the host library, with the same pointer size.
    assert result.arena_device == engine.arena_needed(model.read_bytes())
    assert result.arena_tflm is not None and result.arena_device <= result.arena_tflm


@pytest.mark.parametrize("model", model_params())
def test_board_matches_numpy_reference(model: Path, results: Results) -> None:
    result = results[model]
    assert result.reference_problems == []
    assert result.max_diff_reference is not None


def test_tflm_arena_bisection_reproduces_the_readme(results: Results) -> None:
    measured = {name: results[MODELS_DIR / name].arena_tflm for name in README_TFLM_ARENAS}
    assert measured == README_TFLM_ARENAS


def test_api_and_error_paths(board: HostBoard) -> None:
    checks = check_api(board)
    assert [c.name for c in checks if not c.passed] == [], checks
    assert len(checks) == 10
    assert {c.name: c.detail for c in checks}["malformed"] == str(len(list((MODELS_DIR / "malformed").glob("*.tflite"))))


def test_model_beyond_a_declared_heap_is_nofit_and_fails_without_the_declaration() -> None:
    small = HostBoard(heap_size="256k")  # person_detect.tflite alone is 300,568 bytes
    person = MODELS_DIR / "tflm/person_detect.tflite"
    undeclared = check_model(small, person)
    assert undeclared.status == "FAIL"
    assert undeclared.board_problems[0].startswith("load MemoryError")
    small.heap_bytes = 256 * 1024  # type: ignore[attr-defined]  # what a board with that heap declares
    declared = check_model(small, person)
    assert declared.status == "NOFIT"
    assert declared.nofit_reason.startswith("model 294 KB + arena ") and declared.nofit_reason.endswith("> heap 256 KB")


def test_runner_streams_cases_larger_than_the_heap(tmp_path: Path) -> None:
    """simple_add: 24 cases of 2 x 16 KB inputs (768 KB) through a 160 KB heap, equal to the runtime's outputs."""
    model = MODELS_DIR / "tflm/simple_add_model.tflite"
    cases, size = 24, 128 * 128
    rng = np.random.default_rng(7)
    inputs = [rng.integers(-128, 128, (cases, 1, 128, 128, 1), dtype=np.int8) for _ in range(2)]
    for name, values in zip(("a.bin", "b.bin"), inputs):
        (tmp_path / name).write_bytes(values.tobytes())
    small = HostBoard(heap_size="160k")
    run = small.run(RUNNER, [f"model={model.name}", "arena=auto", f"cases={cases}", "inputs=a.bin,b.bin"],
                    [model, tmp_path / "a.bin", tmp_path / "b.bin"])
    assert run.returncode == 0, run.stderr
    parsed = BoardRun.parse(run.stdout)
    assert parsed.done and parsed.error is None and parsed.arena_used == 49360  # tflm_node of 24 bytes
    interpreter = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=100_000)
    for c in range(cases):
        interpreter.set_input(inputs[0][c], 0)
        interpreter.set_input(inputs[1][c], 1)
        interpreter.invoke()
        assert parsed.outputs[c, 0, 0].tobytes() == interpreter.get_output(0).tobytes()
    assert sorted(parsed.outputs) == [(c, 0, 0) for c in range(cases)]
    assert len(parsed.times_us) == cases and size == parsed.outputs[0, 0, 0].size


def test_runner_runs_jobs_in_sequence_on_the_heap_each_one_needs(tmp_path: Path) -> None:
    """kws (53 KB model, 23 KB arena) runs again and again in a 112 KB heap, beside jobs that fail:
    nothing of a job (its model, interpreter, files) outlives it."""
    kws = MODELS_DIR / "mlperf_tiny/kws_ref_model.tflite"
    hello = MODELS_DIR / "tflm/hello_world_int8.tflite"
    (tmp_path / "kws.bin").write_bytes(bytes(490))
    (tmp_path / "hello.bin").write_bytes(b"")
    kws_job = [f"model={kws.name}", "arena=auto", "cases=1", "inputs=kws.bin"]
    jobs = [kws_job, [f"model={hello.name}", "arena=64", "cases=1", "inputs=hello.bin"], kws_job,
            [f"model={hello.name}", "arena=auto", "cases=1", "inputs=hello.bin"], kws_job]
    run = HostBoard(heap_size="112k").run(RUNNER, [arg for job in jobs for arg in ["--", *job]][1:],
                                          [kws, hello, tmp_path / "kws.bin", tmp_path / "hello.bin"])
    assert run.returncode == 0, run.stderr
    ends = [line for line in run.stdout.splitlines() if line.startswith(("DONE", "ERROR"))]
    assert ends == ["DONE cases=1", "ERROR init MemoryError: arena_size 64 is too small: the model needs 432 bytes",
                    "DONE cases=1", "ERROR case 0 step 0 ValueError: input file hello.bin ends early", "DONE cases=1"]
    used = f"used={engine.arena_needed(kws.read_bytes())}"
    assert [line.split()[2] for line in run.stdout.splitlines() if line.startswith("ARENA")] == \
        [used, used, "used=432", used]


def test_batch_output_is_split_per_model_and_a_crash_ends_only_the_model_it_hit(
        board: HostBoard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = tmp_path / "crashing_runner.py"
    crashing.write_text('print("ARENA size=auto used=5")\nprint("DONE cases=0")\nprint("ARENA size=auto used=6")\n'
                        'raise OSError("crashed on purpose")\n')
    monkeypatch.setattr(conformance, "RUNNER", crashing)
    batch = [PreparedModel.load(board, MODELS_DIR / name, MODELS_DIR) for name in (
        "tflm/hello_world_int8.tflite", "tflm/hello_world_float.tflite", "mlperf_tiny/ad01_int8.tflite")]
    first, stopped = run_jobs(board, batch, timeout=60)
    assert (first.arena_used, first.done, first.error) == (5, True, None)
    assert stopped.arena_used == 6 and not stopped.done and stopped.error is not None
    assert stopped.error.startswith("no DONE line (exit status 1): Traceback")
    assert stopped.error.endswith("OSError: crashed on purpose")
    # The model after the crash runs again, in a session of its own.
    results = check_models(board, [MODELS_DIR / name for name in (
        "tflm/hello_world_int8.tflite", "mlperf_tiny/ad01_int8.tflite", "tflm/hello_world_float.tflite")])
    assert [r.arena_device for r in results] == [5, 6, 5]
    assert [r.board_problems[:1] for r in results] == [[], [stopped.error], []]


def test_batched_models_match_each_run_alone(board: HostBoard) -> None:
    names = ["tflm/hello_world_int8.tflite", "tflm/trained_lstm_int8.tflite", "mlperf_tiny/kws_ref_model.tflite"]
    batched = check_models(board, [MODELS_DIR / name for name in names])
    alone = [check_model(board, MODELS_DIR / name) for name in names]
    assert [r.status for r in batched] == ["PASS"] * 3
    # Everything but the invoke times, which vary from run to run.
    assert [{**asdict(r), "invoke_us": None} for r in batched] == [{**asdict(r), "invoke_us": None} for r in alone]


def test_rp2040_emu_runs_from_flash_exactly_the_models_too_big_for_its_heap() -> None:
    board = RP2040EmuBoard()
    flash = flash_models(board, MODELS)
    assert [relative_name(m) for m in flash] == [
        "mlperf_tiny/ad01_int8.tflite", "mlperf_tiny/vww_96_int8.tflite", "tflm/person_detect.tflite"]
    assert all(m.stat().st_size > board.heap_bytes for m in flash)  # none could even be read into RAM
    # No model is near the line: the largest read into RAM leaves 30% of the heap beside its arena.
    largest = max((m for m in MODELS if m not in flash), key=lambda m: m.stat().st_size)
    assert largest.stat().st_size + engine.arena_needed(largest.read_bytes()) < 0.7 * board.heap_bytes


def test_rp2040_emu_builds_each_set_of_flash_models_apart() -> None:
    a, b = MODELS_DIR / "tflm/person_detect.tflite", MODELS_DIR / "mlperf_tiny/vww_96_int8.tflite"
    assert RP2040EmuBoard().build_dir == BUILD / "rp2040_emu"
    assert RP2040EmuBoard(models=[a, b]).build_dir == RP2040EmuBoard(models=[b, a, b]).build_dir
    assert RP2040EmuBoard(models=[a]).build_dir not in (BUILD / "rp2040_emu", RP2040EmuBoard(models=[a, b]).build_dir)
    board = RP2040EmuBoard(models=[a, b])
    assert board.build_dir.name == "rp2040_emu" and board.build_dir.parent.parent == BUILD
    assert f"BUILD={board.build_dir.parent}" in board.make_args()
    assert f"MODELS={b.resolve()} {a.resolve()}" in board.make_args()  # sorted: one stamp per set


def test_runner_reports_errors_on_its_last_line(board: HostBoard, tmp_path: Path) -> None:
    model = MODELS_DIR / "tflm/hello_world_int8.tflite"
    short = tmp_path / "short.bin"
    short.write_bytes(bytes(2))
    run = board.run(RUNNER, [f"model={model.name}", "arena=64", "cases=1", "inputs=short.bin"], [model, short])
    assert run.stdout.splitlines()[-1] == "ERROR init MemoryError: arena_size 64 is too small: the model needs 432 bytes"
    run = board.run(RUNNER, [f"model={model.name}", "arena=auto", "cases=3", "inputs=short.bin"], [model, short])
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["RUNNER", "ARENA", "OUT", "TIME", "OUT", "TIME", "ERROR"]
    assert lines[-1] == "ERROR case 2 step 0 ValueError: input file short.bin ends early"


def test_comparison_catches_one_lsb_and_floats_beyond_tolerance() -> None:
    cases = [Case("c", [[]])]
    ints = {(0, 0, 0): np.array([3, -7, 100], np.int16)}
    assert compare(ints, ints, cases, "x") == (0, [])
    off = {(0, 0, 0): np.array([3, -6, 100], np.int16)}
    largest, problems = compare(off, ints, cases, "x")
    assert largest == 1 and problems == ["c invoke 0 output 0: 1 of 3 elements differ from x, by up to 1"]
    assert compare({}, ints, cases, "x")[1] == ["c invoke 0 output 0: no output from the board"]
    floats = {(0, 0, 0): np.array([1.0, -2.0], np.float32)}
    near = {(0, 0, 0): floats[0, 0, 0] * np.float32(1 + FLOAT_RTOL / 2)}
    assert compare(near, floats, cases, "x")[1] == []
    far = {(0, 0, 0): floats[0, 0, 0] + np.float32(FLOAT_ATOL + 3 * FLOAT_RTOL)}
    assert len(compare(far, floats, cases, "x")[1]) == 1


def test_golden_exception_allows_only_what_it_names() -> None:
    golden = np.zeros(10, np.int16)
    allowed = Expectation("g", values=golden, allowed_lsb=1, allowed_elements=3)
    assert allowed.problems(np.array([1, -1, 1] + [0] * 7, np.int16)) == []
    assert allowed.problems(np.array([1, -1, 1, 1] + [0] * 6, np.int16)) != []
    assert allowed.problems(np.array([2] + [0] * 9, np.int16)) != []
    assert Expectation("g", values=golden).problems(np.array([1] + [0] * 9, np.int16)) != []
    assert Expectation("a", argmax=5).problems(np.array([0] * 5 + [9], np.int8)) == []
    assert Expectation("a", argmax=0).problems(np.array([0] * 5 + [9], np.int8)) != []


def test_cli_test_passes_on_good_models_and_fails_on_a_broken_runner(
        board: HostBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "report.json"
    argv = ["test", "--board", "host", "--models", "tflm/hello_world_*", "--report", str(report)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "| tflm/hello_world_int8.tflite | FULLY_CONNECTED | 3 | 0 | 0 | - | 432 | 1,936 |" in out
    data = json.loads(report.read_text())
    assert [m["model"] for m in data["models"]] == ["tflm/hello_world_float.tflite", "tflm/hello_world_int8.tflite"]
    assert data["summary"] == {"PASS": 2, "FAIL": 0, "NOFIT": 0}
    assert [c["passed"] for c in data["api"]] == [True] * 10
    broken = tmp_path / "broken_runner.py"
    broken.write_text('print("ERROR init ValueError: broken on purpose")\n')
    monkeypatch.setattr(conformance, "RUNNER", broken)
    assert cli.main(argv) == 1
    # One session for both models: the first gets the runner's line, the second none at all.
    out = capsys.readouterr().out
    assert "FAIL  tflm/hello_world_float.tflite  init ValueError: broken on purpose" in out
    assert "FAIL  tflm/hello_world_int8.tflite  no DONE line (exit status 0)" in out
    assert json.loads(report.read_text())["summary"] == {"PASS": 0, "FAIL": 2, "NOFIT": 0}
