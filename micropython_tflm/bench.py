"""Benchmarks against TensorFlow Lite Micro: arena bytes, time per invoke, cycles per MAC and
interpreter overhead, on the boards and on the host.

`python -m micropython_tflm bench --board NAME` (`make bench` for host, qemu_mps2, qemu_mps2_an386
and rp2040_emu)
runs micropython_tflm/py/tflm_bench.py on the board for each model and writes DIR/NAME.json;
the report (DIR/README.md, DIR/bench.json and the plots) is then rebuilt from every board's
JSON in DIR, so boards can be measured one at a time.

What each board measures:
- rp2040_emu: RP2040 (Cortex-M0+) cycles from rp2040js's counter, models in flash as on a Pico;
- qemu_mps2 (Cortex-M3) and qemu_mps2_an386 (Cortex-M4F, DSP extension): instructions (QEMU runs
  with -icount shift=0, so each SysTick cycle of the board's 25 MHz clock is 40 instructions);
- host: microseconds in MicroPython, and the engine (ctypes) against the tflite-micro runtime.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import engine
from .catalog import MODELS_DIR
from .harness import BUILD, REPO, Board, get_board
from .harness.emulated import EmulatedBoard
from .harness.rp2040_emu import RP2040EmuBoard
from .model import Model

DEVICE_SCRIPT = Path(__file__).resolve().parent / "py" / "tflm_bench.py"
REPORT_DIR = BUILD / "reports" / "bench"
FOOTPRINT_SCRIPT = REPO / "scripts" / "footprint.py"
FOOTPRINT_REPORT = BUILD / "reports" / "footprint.json"  # written by that script

# Short name (as in the issue) -> file under the shared models folder.
MODELS = {
    "hello_world": "tflm/hello_world_int8.tflite",
    "micro_speech": "tflm/micro_speech_quantized.tflite",
    "person_detect": "tflm/person_detect.tflite",
    "kws": "mlperf_tiny/kws_ref_model.tflite",
    "vww": "mlperf_tiny/vww_96_int8.tflite",
    "resnet": "mlperf_tiny/pretrainedResnet_quant.tflite",
}
DEFAULT_MODELS = [m for m in MODELS if m != "hello_world"]  # the five

# Smallest arena the tflite-micro runtime accepted on x86-64 (16-byte steps), from the shared
# models' README; --measure-tflm-arena measures it again.
TFLM_ARENA_X86_64 = {
    "hello_world": 1936, "micro_speech": 7584, "person_detect": 85264, "kws": 24272,
    "vww": 103680, "resnet": 55984,
}
# TFLM's arena on a 32-bit board (Cortex-M0+ builds, same kernels), as quoted in the issue "Faster
# and smaller than TFLite Micro": its tables hold 32-bit pointers there, so these are the fair match.
TFLM_ARENA_32BIT = {
    "micro_speech": 6836, "person_detect": 82308, "kws": 22820, "vww": 100708, "resnet": 54980,
}
# TFLM's published cycles per MAC, as quoted in the issue "Faster and smaller than TFLite Micro".
TFLM_CYCLES_PER_MAC = {
    "TFLM reference kernels": {"micro_speech": 61.3, "person_detect": 29.3, "kws": 35.9, "vww": 29.4,
                               "resnet": 18.1},
    "TFLM + CMSIS-NN": {"micro_speech": 9.9, "person_detect": 15.9, "kws": 14.8, "vww": 15.8, "resnet": 10.9},
}

RP2040_HZ = 125_000_000
QEMU_INSTRUCTIONS_PER_TICK = 40  # 1 ns of virtual time per instruction; the SysTick counts at 25 MHz


@dataclass(frozen=True)
class Measure:
    """What a board's profile ticks become in the report."""

    name: str  # "cycles", "instructions" or "us"
    per_tick: int
    clock_hz: int | None  # for milliseconds at the real chip's clock


QEMU_BOARDS = {"qemu_mps2": "mps2-an385 (Cortex-M3)",
               "qemu_mps2_an386": "mps2-an386 (Cortex-M4F, DSP extension: SMLAD does two MACs)"}
BOARD_MEASURES = {
    "rp2040_emu": Measure("cycles", 1, RP2040_HZ),
    **{board: Measure("instructions", QEMU_INSTRUCTIONS_PER_TICK, None) for board in QEMU_BOARDS},
}
DEFAULT_INVOKES = {"rp2040_emu": 3, **{board: 3 for board in QEMU_BOARDS}}
HOST_INVOKES = 21


class BenchError(Exception):
    """A benchmark could not produce its figures."""


def measure_of(board: str, unit: str) -> Measure:
    """Emulated boards' ticks by what they count; elsewhere ticks in tflm.PROFILE_UNIT ("us")."""
    return BOARD_MEASURES.get(board, Measure(unit, 1, None))


@dataclass
class DeviceRun:
    """What tflm_bench.py printed: per invoke, the total ticks, their kernel part and per-op ticks."""

    unit: str
    arena_size: int
    arena_used: int
    op_names: list[str]
    totals: list[int]
    kernels: list[int]
    ops: list[list[int]]

    @property
    def median_invoke(self) -> int:
        """Index of the invoke with the median total, so that its split adds up."""
        order = sorted(range(len(self.totals)), key=lambda i: self.totals[i])
        return order[len(order) // 2]

    @property
    def total(self) -> int:
        return self.totals[self.median_invoke]

    @property
    def kernel_ticks(self) -> int:
        return self.kernels[self.median_invoke]

    @property
    def overhead(self) -> int:
        """Interpreter overhead as the TFLM paper measures it: invoke time less kernel time."""
        return self.total - self.kernel_ticks


def parse_device_output(text: str) -> DeviceRun:
    fields: dict[str, Any] = {"totals": [], "kernels": [], "ops": []}
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word == "ERROR":
            raise BenchError(f"tflm_bench.py: {rest}")
        if word == "BENCH":
            fields["unit"] = dict(kv.split("=", 1) for kv in rest.split())["unit"]
        elif word == "ARENA":
            values = dict(kv.split("=", 1) for kv in rest.split())
            fields["arena_size"], fields["arena_used"] = int(values["size"]), int(values["used"])
        elif word == "OPNAMES":
            fields["op_names"] = rest.split(",") if rest else []
        elif word == "INVOKE":
            _, total, kernels, overhead = map(int, rest.split())
            if total - kernels != overhead:
                raise BenchError(f"tflm_bench.py: overhead does not add up in {line!r}")
            fields["totals"].append(total)
            fields["kernels"].append(kernels)
        elif word == "OPS":
            ticks = rest.split(" ", 1)[1] if " " in rest else ""
            fields["ops"].append([int(t) for t in ticks.split(",")] if ticks else [])
    if "DONE" not in text or not fields["totals"]:
        raise BenchError(f"tflm_bench.py ended early; its output: {text[-2000:]}")
    if [sum(ticks) for ticks in fields["ops"]] != fields["kernels"]:
        raise BenchError("tflm_bench.py: the kernels' ticks are not the sum of the operators' ticks")
    return DeviceRun(**fields)


def run_device(board: Board, model: Path, arena: int, invokes: int, frozen: str | None = None) -> DeviceRun:
    """Runs tflm_bench.py on `board` for `model` (built into flash as tflm_models.`frozen`, or a file)."""
    source = [f"frozen={frozen}"] if frozen else [f"model={model.name}"]
    result = board.run(DEVICE_SCRIPT, [*source, f"arena={arena}", f"invokes={invokes}"],
                       [] if frozen else [model], timeout=3600)
    if result.returncode != 0:
        raise BenchError(f"tflm_bench.py failed on {board.name}: {result.stderr.strip()}")
    return parse_device_output(result.stdout)


class FrozenModelsRP2040(RP2040EmuBoard):
    """rp2040_emu with the models in flash, as on a real board (person_detect and vww do not fit
    the 264 KB of RAM beside their arena otherwise). Built apart, in build/bench/, so the image
    other tools use in build/rp2040_emu keeps its own models."""

    @property
    def build_dir(self) -> Path:
        return BUILD / "bench" / self.name

    def build(self) -> None:
        subprocess.run(["make", "-s", "-C", str(REPO), "fetch-micropython"], check=True)
        super().build()

    def make_args(self) -> list[str]:
        # The MicroPython tree stays where `make fetch-micropython` put it (or MPY_DIR says).
        mpy_dir = os.environ.get("MPY_DIR") or BUILD / "micropython"
        return [*super().make_args(), f"BUILD={BUILD / 'bench'}", f"MPY_DIR={mpy_dir}"]


def bench_board(name: str, models: Sequence[str], port: str | None = None) -> Board:
    if name == "rp2040_emu":
        return FrozenModelsRP2040(models=[MODELS_DIR / MODELS[m] for m in models])
    return get_board(name, port)


# ---- host: the engine against the tflite-micro runtime, in one process -------------------------

@dataclass(frozen=True)
class HostSpeed:
    ours_ms: float
    tflm_ms: float

    @property
    def speedup(self) -> float:
        """How many times faster than the runtime the engine is."""
        return self.tflm_ms / self.ours_ms


def random_input(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


def seconds(fn: Callable[[], None], clock_ns: Callable[[], int] = time.perf_counter_ns) -> float:
    t0 = clock_ns()
    fn()
    return (clock_ns() - t0) * 1e-9


def host_speed(model: bytes, runs: int, reference_arena: int = 1 << 21,
               clock_ns: Callable[[], int] = time.perf_counter_ns) -> HostSpeed:
    """Median host invoke time of the engine and of the tflite-micro runtime. Both get the same
    seeded random input and must agree bit for bit; then their invokes alternate (ours, theirs,
    ours, ...) in this one process, so that both see the same machine load. `clock_ns` may be
    time.thread_time_ns, which other processes on a busy machine disturb less."""
    from tflite_micro import runtime

    ours = engine.Engine(model, engine.arena_needed(model))
    theirs = runtime.Interpreter.from_bytes(model, arena_size=reference_arena)
    rng = np.random.default_rng(0)
    for i in range(ours.input_count):
        details = theirs.get_input_details(i)
        x = random_input(rng, tuple(details["shape"]), details["dtype"])
        ours.set_input(i, x)
        theirs.set_input(x, i)
    ours.invoke()
    theirs.invoke()
    for i in range(ours.output_count):
        if not np.array_equal(ours.output(i), theirs.get_output(i)):
            raise BenchError(f"output {i} differs from the TFLite Micro runtime")
    ours_s, theirs_s = [], []
    for _ in range(runs):
        ours_s.append(seconds(ours.invoke, clock_ns))
        theirs_s.append(seconds(theirs.invoke, clock_ns))
    return HostSpeed(statistics.median(ours_s) * 1e3, statistics.median(theirs_s) * 1e3)


# The runtime crashes (instead of failing) on an arena a little too small: probe in a child.
_TFLM_PROBE = """
import sys
from tflite_micro import runtime
with open(sys.argv[1], "rb") as f:
    runtime.Interpreter.from_bytes(f.read(), arena_size=int(sys.argv[2])).invoke()
"""


def tflm_runs_with(model: Path, arena: int) -> bool:
    return subprocess.run([sys.executable, "-c", _TFLM_PROBE, str(model), str(arena)],
                          capture_output=True).returncode == 0


@functools.cache
def measure_tflm_arena(model: Path, step: int = 16, ceiling: int = 1 << 21) -> int:
    """Smallest arena (a multiple of `step`) the tflite-micro runtime constructs and invokes with."""
    if not tflm_runs_with(model, ceiling):
        raise BenchError(f"{model.name}: the TFLite Micro runtime fails even with {ceiling:,} bytes")
    low, high = 0, ceiling // step  # fails at low * step (or low is 0), works at high * step
    while high - low > 1:
        mid = (low + high) // 2
        if tflm_runs_with(model, mid * step):
            high = mid
        else:
            low = mid
    return high * step


# ---- one board -------------------------------------------------------------------------------

def model_figures(run: DeviceRun, measure: Measure, macs: int) -> dict[str, Any]:
    per_tick = measure.per_tick
    by_type: dict[str, int] = {}
    for op, ticks in zip(run.op_names, run.ops[run.median_invoke]):
        by_type[op] = by_type.get(op, 0) + ticks * per_tick
    figures: dict[str, Any] = {
        "measure": measure.name,
        "per_invoke": run.total * per_tick,
        "kernels": run.kernel_ticks * per_tick,
        "overhead": run.overhead * per_tick,
        "overhead_pct": 100.0 * run.overhead / run.total if run.total else 0.0,
        "invokes": [t * per_tick for t in run.totals],
        "ops": [{"index": i, "op": op, measure.name: ticks * per_tick}
                for i, (op, ticks) in enumerate(zip(run.op_names, run.ops[run.median_invoke]))],
        "ops_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
    }
    if measure.name != "us" and macs:
        figures["per_mac"] = figures["per_invoke"] / macs
    if measure.clock_hz:
        figures["ms"] = figures["per_invoke"] * 1e3 / measure.clock_hz
    elif measure.name == "us":
        figures["ms"] = figures["per_invoke"] / 1e3
    return figures


def arena_figures(name: str, path: Path, device_used: int, measure_tflm: bool) -> dict[str, Any]:
    buf = path.read_bytes()
    needed = engine.arena_needed(buf)
    planned = engine.Engine(buf, needed)
    figures: dict[str, Any] = {
        "ours": needed, "device_reports": device_used, "persistent": planned.persistent_bytes,
        "planned": planned.planned_bytes, "lower_bound": planned.planned_lower_bound,
        "tflm_x86_64": TFLM_ARENA_X86_64.get(name), "tflm_32bit": TFLM_ARENA_32BIT.get(name),
    }
    if measure_tflm:
        figures["tflm_x86_64"] = measure_tflm_arena(path)
        figures["tflm_measured_here"] = True
    return figures


def source_state() -> str:
    """The commit measured, and whether the engine's sources differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()

    modified = git("status", "--porcelain", "--", "micropython_tflm/usermod")
    return git("rev-parse", "--short", "HEAD") + (" with uncommitted engine changes" if modified else "")


def run_board(board_name: str, models: Sequence[str], invokes: int | None = None,
              host_runs: int = HOST_INVOKES, measure_tflm: bool = False, port: str | None = None,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every figure of one board, JSON-ready; logs a line per model as it goes."""
    board = bench_board(board_name, models, port)
    log(f"building {board_name} ...")
    board.build()
    invokes = invokes or DEFAULT_INVOKES.get(board_name, HOST_INVOKES)
    frozen = isinstance(board, FrozenModelsRP2040)

    def device_run(name: str) -> DeviceRun:
        path = MODELS_DIR / MODELS[name]
        return run_device(board, path, engine.arena_needed(path.read_bytes()), invokes,
                          path.stem if frozen else None)

    results: dict[str, Any] = {"board": board_name, "invokes": invokes, "source": source_state(), "models": {}}
    for name in models:
        path = MODELS_DIR / MODELS[name]
        buf = path.read_bytes()
        model = Model.from_bytes(buf)
        macs = model.macs
        macs_by_type: dict[str, int] = {}
        for op in model.operators:
            macs_by_type[op.name] = macs_by_type.get(op.name, 0) + op.macs
        run = device_run(name)
        measure = measure_of(board_name, run.unit)
        entry: dict[str, Any] = {
            "file": MODELS[name], "macs": macs, "unit": run.unit,
            "macs_by_type": {op: n for op, n in macs_by_type.items() if n},
            "arena": arena_figures(name, path, run.arena_used, measure_tflm),
            **model_figures(run, measure, macs),
        }
        if board_name == "host":
            speed = host_speed(buf, host_runs)
            entry["host_speed"] = {**asdict(speed), "speedup": speed.speedup}
        results["models"][name] = entry
        results["measure"] = measure.name
        log(summary_line(name, entry))
    if isinstance(board, EmulatedBoard):
        # A second emulator run of the first model shows the figures repeat.
        name = models[0]
        again = device_run(name)
        first = results["models"][name]["invokes"]
        second = [t * measure_of(board_name, again.unit).per_tick for t in again.totals]
        results["repeat"] = {"model": name, "runs": [first, second]}
        log(f"repeat {name}: run 1 {first}, run 2 {second}")
    return results


def summary_line(name: str, entry: dict[str, Any]) -> str:
    text = f"{name:<14} arena {entry['arena']['ours']:>8,} B  {entry['measure']} {entry['per_invoke']:>13,}"
    if "per_mac" in entry:
        text += f"  {entry['per_mac']:7.2f}/MAC"
    if "ms" in entry:
        text += f"  {entry['ms']:9.3f} ms"
    text += f"  overhead {entry['overhead_pct']:5.2f} %"
    if "host_speed" in entry:
        hs = entry["host_speed"]
        text += f"  host engine {hs['ours_ms']:.3f} ms vs TFLM {hs['tflm_ms']:.3f} ms (x{hs['speedup']:.2f})"
    return text


# ---- report ----------------------------------------------------------------------------------

def footprint_table() -> list[str]:
    """Markdown lines of the flash footprint per op set, from scripts/footprint.py's JSON report
    (run here when the script is in the checkout)."""
    if not FOOTPRINT_SCRIPT.is_file():
        return ["scripts/footprint.py is not in this checkout."]
    proc = subprocess.run([sys.executable, str(FOOTPRINT_SCRIPT)], cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"scripts/footprint.py failed with status {proc.returncode}: {proc.stderr.strip()[-500:]}"]
    report = json.loads(FOOTPRINT_REPORT.read_text())
    op_sets, configs = report["op_sets"], list(report["configs"])
    # Per op set and build configuration: engine core, kernels, libgcc and libc together.
    rows = [[name, len(s["models"]), ", ".join(s["ops"]) if len(s["ops"]) <= 6 else f"{len(s['ops'])} ops",
             *(number(s[config]["total"]) for config in configs)] for name, s in op_sets.items()]
    lines = [f"scripts/footprint.py: {report['target']}; bytes of {report['counted']}.", ""]
    lines += [f"- `{config}`: {flags}" for config, flags in report["configs"].items()] + [""]
    lines += table(["op set", "models", "ops", *configs], rows)
    # {config: {"micro_speech_quantized": bytes, "all_ops": bytes, "saving": bytes}}
    for config, sizes in report.get("selective_registration", {}).items():
        lines.append(f"Selective registration ({config}): " + ", ".join(f"{k} {number(v)} B" for k, v in sizes.items()))
    return lines + [""]


def load_boards(report_dir: Path) -> dict[str, dict[str, Any]]:
    boards = {}
    for path in sorted(report_dir.glob("*.json")):
        data = json.loads(path.read_text())
        if path.name != "bench.json" and "board" in data:
            boards[data["board"]] = data
    return boards


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def qemu_cores_table(boards: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown lines: instructions per MAC of each QEMU core side by side, whole models and the
    operator types that do MACs (their instructions over their own MACs)."""
    measured = [b for b in QEMU_BOARDS if b in boards]
    if len(measured) < 2:
        return []
    lines = ["## QEMU cores side by side: instructions per MAC", "",
             "Whole invoke, then per operator type (its instructions over its own MACs): "
             + ", ".join(f"{b} is {QEMU_BOARDS[b]}" for b in measured) + ".", ""]
    rows = []
    models = [m for m in MODELS if all(m in boards[b]["models"] for b in measured)]
    for m in models:
        entries = [boards[b]["models"][m] for b in measured]
        rows.append([m, "invoke", *(number(e.get("per_mac"), 2) for e in entries)])
        for op, op_macs in entries[0].get("macs_by_type", {}).items():
            rows.append([m, op, *(number(e["ops_by_type"].get(op, 0) / op_macs, 2) for e in entries)])
    return lines + table(["model", "operator", *(f"{b} instructions/MAC" for b in measured)], rows)


def baseline_table(boards: dict[str, dict[str, Any]], baseline: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown lines: per MAC figures of the boards measured here against an earlier run's."""
    rows = []
    for board, data in boards.items():
        before = baseline.get(board)
        if not before or before.get("measure") != data.get("measure"):
            continue
        for m, e in data["models"].items():
            old = before["models"].get(m, {}).get("per_mac")
            if old and "per_mac" in e:
                rows.append([board, m, number(old, 2), number(e["per_mac"], 2), f"{100 * (e['per_mac'] / old - 1):+.1f} %"])
    if not rows:
        return []
    sources = ", ".join(f"{b} {baseline[b].get('source', 'unknown')}" for b in boards if b in baseline)
    return ["## Against an earlier run", "", f"Before: {sources}. After: this report's runs.", "",
            *table(["board", "model", "before /MAC", "after /MAC", "change"], rows)]


def write_report(report_dir: Path, footprint: list[str], baseline_dir: Path | None = None) -> Path:
    """README.md, bench.json and the plots, from every board's JSON in `report_dir` (and the
    figures per MAC against those of an earlier report folder, `baseline_dir`)."""
    from .plots import cycles_per_mac

    boards = load_boards(report_dir)
    (report_dir / "bench.json").write_text(json.dumps({
        "boards": boards, "tflm_cycles_per_mac": TFLM_CYCLES_PER_MAC,
        "footprint": str(FOOTPRINT_REPORT.relative_to(REPO)) if FOOTPRINT_REPORT.is_file() else None,
    }, indent=2) + "\n")
    lines = ["# Benchmarks: micropython-tflm against TensorFlow Lite Micro", "",
             "Written by `python -m micropython_tflm bench` (`make bench`); figures also in bench.json.", ""]
    models = [m for m in MODELS if any(m in b["models"] for b in boards.values())]

    lines += ["## Arena bytes", "",
              "Ours: the C planner's figure (engine.arena_needed), which every board reports as "
              "arena_used_bytes() since arena bookkeeping is 32-bit offsets everywhere. TFLM: the smallest arena "
              "the tflite-micro runtime runs with on x86-64 (16-byte steps; its tables hold 64-bit pointers), and "
              "TFLM's arena on a 32-bit Cortex-M0+ build as the issue quotes it (the fair match).", ""]
    arena_rows = []
    for m in models:
        a = next(b["models"][m]["arena"] for b in boards.values() if m in b["models"])
        reported = sorted({b["models"][m]["arena"]["device_reports"] for b in boards.values() if m in b["models"]})
        tflm, tflm32 = a.get("tflm_x86_64"), TFLM_ARENA_32BIT.get(m)
        arena_rows.append([m, number(a["ours"]), ", ".join(number(r) for r in reported), number(a["persistent"]),
                           number(a["planned"]), number(a["lower_bound"]), number(tflm), number(tflm32),
                           f"{100 * (1 - a['ours'] / tflm32):.1f} %" if tflm32 else "-"])
    lines += table(["model", "ours", "boards report", "persistent", "planned", "lower bound", "TFLM x86-64",
                    "TFLM 32-bit", "smaller than 32-bit TFLM by"], arena_rows)

    for board, data in boards.items():
        measure = data.get("measure", "ticks")
        lines += [f"## {board}: {measure} per invoke", "", f"Source: {data.get('source', 'unknown')}.", ""]
        if board == "rp2040_emu":
            lines += [f"RP2040 (Cortex-M0+) cycles counted by rp2040js, models in flash; ms at "
                      f"{RP2040_HZ // 1_000_000} MHz. Median of {data['invokes']} invokes. rp2040js charges no "
                      f"flash wait states: on a Pico, XIP cache misses on weights add cycles.", ""]
        elif board in QEMU_BOARDS:
            lines += [f"Instructions executed on QEMU {QEMU_BOARDS[board]}, -icount shift=0: "
                      f"{QEMU_INSTRUCTIONS_PER_TICK} instructions per tick of the board's 25 MHz SysTick, "
                      f"so figures are multiples of {QEMU_INSTRUCTIONS_PER_TICK}. Median of {data['invokes']} "
                      f"invokes.", ""]
        elif board == "host":
            lines += [f"Microseconds in the host board's MicroPython (median of {data['invokes']} invokes); "
                      f"hello_world-sized models are below the clock's resolution.", ""]
        lines += ["Overhead: invoke time less the sum of the kernels' profiled time (as the TFLM paper "
                  "measures interpreter overhead), including the MicroPython call of invoke().", ""]
        rows = []
        for m, e in data["models"].items():
            rows.append([m, number(e["macs"]), number(e["per_invoke"]), number(e.get("per_mac"), 2),
                         number(e.get("ms"), 3), number(e["overhead"]), f"{e['overhead_pct']:.3f} %"])
        lines += table(["model", "MACs", measure, f"{measure}/MAC", "ms", "overhead", "overhead %"], rows)
        if "repeat" in data:
            r = data["repeat"]
            lines += [f"Repeatability, {r['model']} in two emulator runs ({measure} of each invoke): "
                      f"run 1 {r['runs'][0]}, run 2 {r['runs'][1]}.", ""]
        if any("host_speed" in e for e in data["models"].values()):
            lines += ["### Host: engine against the tflite-micro runtime", "",
                      "The engine as a shared library (ctypes) and the TFLite Micro runtime from PyPI in one "
                      "process, same input, outputs bit-exact, invokes alternating; medians.", ""]
            lines += table(["model", "engine ms", "TFLM ms", "TFLM / engine"],
                           [[m, f"{e['host_speed']['ours_ms']:.3f}", f"{e['host_speed']['tflm_ms']:.3f}",
                             f"{e['host_speed']['speedup']:.2f}"]
                            for m, e in data["models"].items() if "host_speed" in e])
        lines += [f"### {board}: time by operator type", ""]
        for m, e in data["models"].items():
            total = e["per_invoke"] or 1
            lines.append(f"- {m}: " + ", ".join(f"{op} {100 * t / total:.1f} %" for op, t in e["ops_by_type"].items())
                         + f", overhead {e['overhead_pct']:.2f} %")
        lines.append("")

    series: dict[str, dict[str, float]] = {}
    if "rp2040_emu" in boards:
        series["ours, rp2040_emu (Cortex-M0+)"] = {m: e["per_mac"] for m, e in boards["rp2040_emu"]["models"].items()
                                                   if "per_mac" in e}
    series.update(TFLM_CYCLES_PER_MAC)
    cycles_per_mac(report_dir / "cycles_per_mac.png", "Cycles per MAC: ours against TFLM's published figures",
                   series)
    lines += ["## Cycles per MAC against TFLM's published figures", "",
              "TFLM's figures as the issue quotes them (measured on other cores than the RP2040's Cortex-M0+). "
              "Ours: RP2040 cycles in rp2040js (no flash wait states); the QEMU boards count instructions, not "
              "cycles: qemu_mps2 is the Cortex-M3 (an385), qemu_mps2_an386 the Cortex-M4F, whose DSP "
              "extension's SMLAD does two multiply-accumulates in one instruction.",
              "", "![cycles per MAC](cycles_per_mac.png)", ""]
    published = list(TFLM_CYCLES_PER_MAC)
    ours = ["rp2040_emu", *QEMU_BOARDS]
    rows = []
    for m in TFLM_CYCLES_PER_MAC[published[0]]:
        rows.append([m, *(number(boards.get(b, {}).get("models", {}).get(m, {}).get("per_mac"), 1) for b in ours),
                     *(number(TFLM_CYCLES_PER_MAC[p][m], 1) for p in published)])
    lines += table(["model", "ours rp2040_emu cycles/MAC",
                    *(f"ours {b} instructions/MAC" for b in QEMU_BOARDS), *published], rows)

    lines += qemu_cores_table(boards)
    if baseline_dir:
        lines += baseline_table(boards, load_boards(baseline_dir))
    lines += ["## Flash footprint", "", *footprint, ""]
    lines += ["## Commands", "", "```", *(b["command"] for b in boards.values() if "command" in b), "```", ""]
    readme = report_dir / "README.md"
    readme.write_text("\n".join(lines))
    return readme


def bench(boards: Sequence[str], models: Sequence[str], report_dir: Path = REPORT_DIR, invokes: int | None = None,
          host_runs: int = HOST_INVOKES, measure_tflm: bool = False, port: str | None = None,
          footprint: bool = True, log: Callable[[str], None] = print, baseline_dir: Path | None = None) -> Path:
    """Measures each board, saves REPORT_DIR/<board>.json, rebuilds the report (with the flash
    footprint unless `footprint` is false, and against the boards of `baseline_dir` when given);
    returns README.md's path."""
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise BenchError(f"unknown models {', '.join(unknown)}; known: {', '.join(MODELS)}")
    report_dir.mkdir(parents=True, exist_ok=True)
    for board in boards:
        results = run_board(board, models, invokes, host_runs, measure_tflm, port, log)
        results["command"] = (f"python -m micropython_tflm bench --board {board} --models {' '.join(models)}"
                              + (f" --invokes {invokes}" if invokes else "")
                              + (" --measure-tflm-arena" if measure_tflm else ""))
        (report_dir / f"{board}.json").write_text(json.dumps(results, indent=2) + "\n")
    return write_report(report_dir, footprint_table() if footprint else ["Not measured in this run."], baseline_dir)
