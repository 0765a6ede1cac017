"""The benchmark tools themselves: `plan`'s figures and layout PNG, the C planner's buffer view,
and `bench` on the host board. Nothing here times anything or asserts on speed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from micropython_tflm import bench, cli, engine

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLAN_MODELS = ["tflm/micro_speech_quantized.tflite", "mlperf_tiny/vww_96_int8.tflite",
               "tflm/keyword_scrambled.tflite"]


def assert_png(path: Path) -> None:
    from matplotlib.image import imread

    assert path.read_bytes().startswith(PNG_SIGNATURE)
    height, width = imread(path).shape[:2]
    assert height > 100 and width > 100


@pytest.mark.parametrize("model", PLAN_MODELS)
def test_plan_prints_the_engines_arena_bytes_and_draws_the_layout(
        model: str, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "layout.png"
    assert cli.main(["plan", str(models_dir / model), "--png", str(png)]) == 0
    out = capsys.readouterr().out
    figures = {m[0]: int(m[1].replace(",", "")) for m in re.findall(r"^\s+([a-z ]+?)\s+([\d,]+) bytes", out, re.M)}
    buf = (models_dir / model).read_bytes()
    needed = engine.arena_needed(buf)
    planned = engine.Engine(buf, needed)
    assert figures["arena needed"] == needed
    assert figures["persistent"] + figures["planned"] == needed
    assert figures["lower bound"] == planned.planned_lower_bound
    assert_png(png)


@pytest.mark.parametrize("model", PLAN_MODELS)
def test_planned_buffers_never_overlap_while_alive(model: str, models_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--json", str(models_dir / model)]) == 0
    plan = json.loads(capsys.readouterr().out)
    buffers = plan["buffers"]
    assert buffers and max(b["offset"] + b["bytes"] for b in buffers) == plan["planned_bytes"]
    for i, a in enumerate(buffers):
        assert a["offset"] % 16 == 0 and a["first_op"] <= a["last_op"]
        for b in buffers[i + 1:]:
            alive_together = a["first_op"] <= b["last_op"] and b["first_op"] <= a["last_op"]
            share_bytes = a["offset"] < b["offset"] + b["bytes"] and b["offset"] < a["offset"] + a["bytes"]
            assert not (alive_together and share_bytes), (a, b)
    ops = max(b["last_op"] for b in buffers) + 1
    live = [sum(b["bytes"] for b in buffers if b["first_op"] <= op <= b["last_op"]) for op in range(ops)]
    assert max(live) == plan["lower_bound_bytes"]


def test_device_output_must_add_up() -> None:
    good = ("BENCH model=m unit=cycles ops=2 invokes=1\nARENA size=64 used=64\nOPNAMES ADD,MUL\n"
            "INVOKE 0 100 90 10\nOPS 0 40,50\nDONE invokes=1\n")
    run = bench.parse_device_output(good)
    assert (run.total, run.kernel_ticks, run.overhead, run.op_names) == (100, 90, 10, ["ADD", "MUL"])
    with pytest.raises(bench.BenchError, match="overhead"):
        bench.parse_device_output(good.replace("100 90 10", "100 90 11"))
    with pytest.raises(bench.BenchError, match="sum of the operators"):
        bench.parse_device_output(good.replace("40,50", "40,51"))
    with pytest.raises(bench.BenchError, match="ended early"):
        bench.parse_device_output(good.replace("DONE invokes=1\n", ""))
    with pytest.raises(bench.BenchError, match="init ValueError"):
        bench.parse_device_output("ERROR init ValueError: bad model\n")


def test_bench_on_the_host_board(models_dir: Path, tmp_path: Path) -> None:
    readme = bench.bench(["host"], ["hello_world"], tmp_path, invokes=3, host_runs=3, footprint=False,
                         log=lambda line: None)
    assert readme == tmp_path / "README.md" and "hello_world" in readme.read_text()
    assert_png(tmp_path / "cycles_per_mac.png")
    report = json.loads((tmp_path / "bench.json").read_text())
    assert set(report) == {"boards", "tflm_cycles_per_mac", "footprint"}
    host = report["boards"]["host"]
    assert host == json.loads((tmp_path / "host.json").read_text())
    entry = host["models"]["hello_world"]
    assert {"file", "macs", "unit", "arena", "measure", "per_invoke", "kernels", "overhead", "overhead_pct",
            "invokes", "ops", "ops_by_type", "ms", "host_speed"} <= set(entry)
    arena = entry["arena"]
    assert arena["ours"] == arena["device_reports"] == engine.arena_needed((models_dir / entry["file"]).read_bytes())
    assert arena["persistent"] + arena["planned"] == arena["ours"]
    assert min(arena["ours"], arena["lower_bound"], arena["tflm_x86_64"], entry["macs"]) > 0
    assert min(entry["host_speed"].values()) > 0
    # Microseconds on the host: a hello_world invoke may round to 0, never below.
    assert len(entry["invokes"]) == 3 and min(entry["invokes"]) >= 0
    assert [op["op"] for op in entry["ops"]] == ["FULLY_CONNECTED"] * 3
    assert entry["kernels"] == sum(op["us"] for op in entry["ops"])
    assert entry["overhead"] == entry["per_invoke"] - sum(op["us"] for op in entry["ops"])


def test_report_sets_qemu_cores_side_by_side_and_against_a_baseline() -> None:
    def board(per_mac: float, conv: int) -> dict:
        model = {"macs": 100, "per_mac": per_mac, "macs_by_type": {"CONV_2D": 100}, "ops_by_type": {"CONV_2D": conv}}
        return {"measure": "instructions", "source": "abc123", "models": {"kws": model}}

    boards = {"qemu_mps2": board(6.0, 500), "qemu_mps2_an386": board(4.0, 300)}
    cores = "\n".join(bench.qemu_cores_table(boards))
    assert "| kws | invoke | 6.00 | 4.00 |" in cores and "| kws | CONV_2D | 5.00 | 3.00 |" in cores
    against = "\n".join(bench.baseline_table({"qemu_mps2_an386": board(4.0, 300)}, {"qemu_mps2_an386": board(5.0, 400)}))
    assert "qemu_mps2_an386 abc123" in against and "| qemu_mps2_an386 | kws | 5.00 | 4.00 | -20.0 % |" in against
    assert bench.baseline_table(boards, {}) == []


@pytest.mark.parametrize("name", bench.DEFAULT_MODELS)
def test_arena_is_below_tflms_and_its_planned_section_at_the_lower_bound(name: str, models_dir: Path) -> None:
    buf = (models_dir / bench.MODELS[name]).read_bytes()
    needed = engine.arena_needed(buf)
    planned = engine.Engine(buf, needed)
    assert planned.planned_bytes == planned.planned_lower_bound
    assert needed < bench.TFLM_ARENA_32BIT[name]


def test_every_shared_model_plans_at_its_lower_bound(models_dir: Path) -> None:
    checked = 0
    for path in sorted(models_dir.rglob("*.tflite")):
        try:
            needed = engine.arena_needed(path.read_bytes())
        except engine.EngineError:
            continue  # malformed or unsupported on purpose: the conformance tests check those
        planned = engine.Engine(path.read_bytes(), needed)
        assert planned.planned_bytes == planned.planned_lower_bound, path
        checked += 1
    assert checked == 140
