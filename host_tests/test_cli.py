"""The command line: help texts, inspect and plan on real models, board delegation, and the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest

from micropython_tflm import cli, engine
from micropython_tflm.demo import RESULT_PREFIX, run_demo
from micropython_tflm.harness import Board, RunResult, get_board

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
MICRO_SPEECH = MODELS / "tflm/micro_speech_quantized.tflite"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_module_entry_point_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "micropython_tflm", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for name in ("inspect", "plan", "run", "build", "flash", "repl", "demo"):
        assert name in proc.stdout


@pytest.mark.parametrize("name", [s.name for s in cli.SUBCOMMANDS])
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_inspect_text(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "inspect", str(MICRO_SPEECH))
    assert status == 0
    assert "DEPTHWISE_CONV_2D" in out and "x1" in out
    assert "336,000" in out  # total MACs
    assert "labels_softmax INT8[1,4] q(0.00390625, -128)" in out
    assert 'ops=["DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]' in out
    assert f"arena: {engine.arena_needed(MICRO_SPEECH.read_bytes()):,} bytes" in out


def test_inspect_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "inspect", "--json", str(MICRO_SPEECH))
    assert status == 0
    report = json.loads(out)
    assert report["macs"] == 336_000
    assert report["ops"]["DEPTHWISE_CONV_2D"] == {"count": 1, "macs": 320_000}
    assert len(report["tensors"]) == 10
    assert report["missing_ops"] == []
    assert report["arena"]["arena_bytes"] == engine.arena_needed(MICRO_SPEECH.read_bytes())
    assert report["arena"]["arena_bytes"] == report["arena"]["persistent_bytes"] + report["arena"]["planned_bytes"]
    weights = next(t for t in report["tensors"] if t["name"] == "first_weights/read")
    assert weights["constant"] and len(weights["quantization"]["scales"]) == 8
    assert weights["quantization"]["quantized_dimension"] == 3


# MACs the models' README gives, to the digits it gives them.
README_MACS = {
    "tflm/hello_world_int8.tflite": "0.3k", "tflm/micro_speech_quantized.tflite": "0.34M",
    "tflm/person_detect.tflite": "7.16M", "tflm/test_conv_model.tflite": "0.70M",
    "tflm/network_tester/network_model.tflite": "1.0k", "tflm/trained_lstm_int8.tflite": "0.11M",
    "mlperf_tiny/kws_ref_model.tflite": "2.66M", "mlperf_tiny/vww_96_int8.tflite": "7.49M",
    "mlperf_tiny/pretrainedResnet_quant.tflite": "12.5M", "mlperf_tiny/ad01_int8.tflite": "0.26M",
}


@pytest.mark.parametrize("name", sorted(README_MACS))
def test_inspect_macs_match_the_models_readme(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "inspect", "--json", str(MODELS / name))
    assert status == 0
    number, unit = README_MACS[name][:-1], {"k": 1e3, "M": 1e6}[README_MACS[name][-1]]
    decimals = len(number.partition(".")[2])
    assert json.loads(out)["macs"] == pytest.approx(float(number) * unit, abs=0.5 * 10 ** -decimals * unit)


def test_inspect_names_ops_the_build_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "inspect", str(MODELS / "malformed/malicious_gather.tflite"))
    assert status == 0
    assert "GATHER" in out and "MISSING" in out
    assert "arena: n/a: UNSUPPORTED" in out


def test_inspect_rejects_malformed_model(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "inspect", str(MODELS / "malformed/malicious.tflite"))
    assert status == 2
    assert "malformed model" in err


def test_plan(capsys: pytest.CaptureFixture[str]) -> None:
    model = MODELS / "mlperf_tiny/vww_96_int8.tflite"
    status, out, _ = run_cli(capsys, "plan", "--json", str(model))
    assert status == 0
    plan = json.loads(out)
    assert plan["arena_bytes"] == engine.arena_needed(model.read_bytes())
    assert plan["arena_bytes"] == plan["persistent_bytes"] + plan["planned_bytes"]
    # Sharing memory by lifetime must beat keeping every activation.
    assert plan["largest_activation_bytes"] <= plan["planned_bytes"] < plan["activation_bytes_sum"]
    status, out, _ = run_cli(capsys, "plan", str(model))
    assert status == 0 and f"{plan['arena_bytes']:,} bytes" in out


class FakeBoard(Board):
    """Records what the CLI asks of a board and answers with a canned result."""

    name = "fake"

    def __init__(self, result: RunResult | None = None):
        super().__init__(None)
        self.result = result or RunResult(3, "printed\n", "warned\n")
        self.calls: list[tuple[str, object]] = []

    def run(self, script: Path, args: Sequence[str] = (), files: Sequence[Path] = (),
            timeout: float = 600.0) -> RunResult:
        self.calls.append(("run", (script, list(args), list(files))))
        return self.result

    def build(self) -> None:
        self.calls.append(("build", None))

    def flash(self) -> None:
        self.calls.append(("flash", self.port))

    def repl(self) -> int:
        self.calls.append(("repl", self.port))
        return 0


@pytest.fixture
def fake_board(monkeypatch: pytest.MonkeyPatch) -> FakeBoard:
    board = FakeBoard()

    def get(name: str, port: str | None = None) -> Board:
        assert name == "host"
        board.port = port
        return board

    monkeypatch.setattr(cli, "get_board", get)
    return board


def test_run_delegates_and_exits_with_the_script_status(fake_board: FakeBoard,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "run", "--board", "host", "--file", "a.bin", "--file", "b.bin",
                               "script.py", "1", "--two")
    assert (status, out, err) == (3, "printed\n", "warned\n")
    assert fake_board.calls == [("run", (Path("script.py"), ["1", "--two"], [Path("a.bin"), Path("b.bin")]))]


def test_build_flash_repl_delegate(fake_board: FakeBoard, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "build", "--board", "host")[0] == 0
    assert run_cli(capsys, "flash", "--board", "host", "--port", "/dev/ttyACM0")[0] == 0
    assert run_cli(capsys, "repl", "--board", "host", "--port", "/dev/ttyACM0")[0] == 0
    assert fake_board.calls == [("build", None), ("flash", "/dev/ttyACM0"), ("repl", "/dev/ttyACM0")]


def test_unknown_board_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "build", "--board", "no-such-board")
    assert status == 2 and "unknown board" in err


# --- the demo --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def host_board() -> Board:
    board = get_board("host")
    board.build()  # incremental: quick when the firmware is up to date
    return board


@pytest.fixture(scope="session")
def host_demo_run(host_board: Board) -> RunResult:
    """What the demo script prints on the host board, for the tampering tests."""
    result = []

    class Recorder(FakeBoard):
        def run(self, script: Path, args: Sequence[str] = (), files: Sequence[Path] = (),
                timeout: float = 600.0) -> RunResult:
            result.append(host_board.run(script, args, files, timeout))
            return result[-1]

    run_demo(Recorder(), steps=3)
    return result[0]


def test_demo_passes_on_the_host_board(host_board: Board, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(host_board, steps=5) == 0
    out = capsys.readouterr().out
    assert "demo: 12 passed, 0 failed" in out
    assert "PASS  micro_speech/yes.bin" in out and "label yes" in out
    assert "micro_speech (arena" in out and "hello_world (arena" in out  # the board's own table


def tampered(run: RunResult, case: str, output_hex: str) -> RunResult:
    lines = []
    for line in run.stdout.splitlines():
        if line.startswith(RESULT_PREFIX) and f" case={case} " in line:
            fields = line.split()
            line = " ".join(f"output={output_hex}" if f.startswith("output=") else f for f in fields)
        lines.append(line)
    return RunResult(run.returncode, "\n".join(lines) + "\n", run.stderr)


def test_demo_fails_on_a_wrong_output(host_demo_run: RunResult, capsys: pytest.CaptureFixture[str]) -> None:
    board = FakeBoard(tampered(host_demo_run, "micro_speech/yes.bin", "80807f81"))
    assert run_demo(board, steps=3) == 1
    out = capsys.readouterr().out
    assert "FAIL  micro_speech/yes.bin" in out and "!= reference" in out
    assert "demo: 7 passed, 1 failed" in out


def test_demo_fails_on_a_missing_result(host_demo_run: RunResult, capsys: pytest.CaptureFixture[str]) -> None:
    stdout = "\n".join(line for line in host_demo_run.stdout.splitlines() if "hello_world/float32/x2" not in line)
    assert run_demo(FakeBoard(RunResult(0, stdout, "")), steps=3) == 1
    assert "FAIL  hello_world/float32/x2" in capsys.readouterr().out


def test_demo_fails_when_the_script_fails(host_demo_run: RunResult, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(FakeBoard(RunResult(1, host_demo_run.stdout, "Traceback ...\n")), steps=3) == 1
    out = capsys.readouterr().out
    assert "exited with status 1" in out and "Traceback" in out
