"""`python -m micropython_tflm` (or `micropython-tflm`): host tools for models and boards.

Each subcommand is one function decorated with `@subcommand`, which names it,
gives its help and its arguments; `main` builds the parser from them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import engine
from .harness import BoardError, board_names, get_board
from .model import Model, ModelError

Handler = Callable[[argparse.Namespace], int]


@dataclass
class Arg:
    """One add_argument call."""

    names: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*names: str, **options: Any) -> Arg:
    return Arg(names, options)


@dataclass
class Subcommand:
    name: str
    help: str
    description: str
    args: list[Arg]
    handler: Handler


SUBCOMMANDS: list[Subcommand] = []


def subcommand(name: str, help: str, *args: Arg) -> Callable[[Handler], Handler]:
    """Registers the decorated function as subcommand `name`; its docstring is the long description."""
    def register(handler: Handler) -> Handler:
        SUBCOMMANDS.append(Subcommand(name, help, handler.__doc__ or help, list(args), handler))
        return handler
    return register


BOARD_ARG = arg("--board", required=True, metavar="NAME", help=f"board to use: {', '.join(board_names())}")
BOARD_DEFAULT_HOST = arg("--board", default="host", metavar="NAME",
                         help=f"board to use: {', '.join(board_names())} (default: host)")
PORT_ARG = arg("--port", metavar="P", help="serial port of a real board, e.g. /dev/ttyUSB0")
MODEL_ARG = arg("model", type=Path, metavar="MODEL", help="a .tflite file")
JSON_ARG = arg("--json", action="store_true", help="print one JSON object instead of text")


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


def load_model(path: Path) -> tuple[Model, bytes]:
    try:
        buf = path.read_bytes()
        return Model.from_bytes(buf), buf
    except (OSError, ModelError) as e:
        raise CommandError(f"{path}: {e}") from e


def engine_ops() -> list[str] | str:
    """Ops compiled into the engine, or why the host build of the engine is unavailable."""
    try:
        return engine.compiled_ops()
    except (OSError, subprocess.CalledProcessError) as e:
        return f"n/a: the host engine library could not be built or loaded ({e})"


def arena_prediction(buf: bytes) -> dict[str, Any]:
    """The engine's arena bytes for the model, split as the C planner splits them; or the reason it can't."""
    try:
        needed = engine.arena_needed(buf)
        planned = engine.Engine(buf, needed)
        return {"arena_bytes": needed, "persistent_bytes": planned.persistent_bytes,
                "planned_bytes": planned.planned_bytes}
    except engine.EngineError as e:
        return {"unavailable": f"n/a: {e.status}: {e}"}
    except (OSError, subprocess.CalledProcessError) as e:
        return {"unavailable": f"n/a: the host engine library could not be built or loaded ({e})"}


def ops_line(model: Model) -> str:
    return "ops=[" + ", ".join(f'"{name}"' for name in sorted(model.op_counts())) + "]"


def human_count(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


@subcommand("inspect", "ops, tensors, MACs, missing ops and arena bytes of a model",
            MODEL_ARG, JSON_ARG)
def inspect(args: argparse.Namespace) -> int:
    """Describe a .tflite model for this firmware: its ops with counts and MACs, every tensor with
    shape, type and quantization, the ops this build lacks, the arena bytes the board will need
    (computed by the engine's own C planner) and the ops=[...] argument to paste into
    tflm.Interpreter(model, arena_size, ops=[...])."""
    model, buf = load_model(args.model)
    compiled = engine_ops()
    used = model.op_counts()
    missing = sorted(set(used) - set(compiled)) if isinstance(compiled, list) else None
    arena = arena_prediction(buf)
    macs_by_op: dict[str, int] = {}
    for o in model.operators:
        macs_by_op[o.name] = macs_by_op.get(o.name, 0) + o.macs
    if args.json:
        print(json.dumps({
            "model": str(args.model), "bytes": model.size_bytes, "schema_version": model.version,
            "description": model.description, "subgraphs": model.subgraph_count,
            "ops": {name: {"count": count, "macs": macs_by_op[name]} for name, count in used.items()},
            "operators": [{"index": o.index, "op": o.name, "inputs": list(o.inputs), "outputs": list(o.outputs),
                           "activation": o.activation, "macs": o.macs} for o in model.operators],
            "tensors": [{"index": t.index, "name": t.name, "type": t.type_name, "shape": list(t.shape),
                         "bytes": t.nbytes, "constant": t.is_constant, "variable": t.is_variable,
                         "quantization": t.quantization.to_dict() if t.quantization else None}
                        for t in model.tensors],
            "inputs": list(model.inputs), "outputs": list(model.outputs), "macs": model.macs,
            "compiled_ops": compiled, "missing_ops": missing, "arena": arena, "ops_line": ops_line(model),
        }, indent=2))
        return 0
    print(f"{args.model}: {model.size_bytes:,} bytes, schema {model.version}, "
          f"{len(model.operators)} operators, {len(model.tensors)} tensors"
          + (f", {model.subgraph_count} subgraphs (only the first is read)" if model.subgraph_count > 1 else ""))
    if model.description:
        print(f"description: {model.description}")
    print()
    print("ops:")
    for name, count in used.items():
        status = "" if missing is None else ("  MISSING from this build" if name in missing else "")
        print(f"  {name:<32} x{count:<4} {human_count(macs_by_op[name]):>8} MACs{status}")
    print(f"  {'total':<32} x{len(model.operators):<4} {human_count(model.macs):>8} MACs ({model.macs:,})")
    print()
    print("operators:")
    for o in model.operators:
        activation = f" {o.activation}" if o.activation != "NONE" else ""
        print(f"  {o.index:>3} {o.name}{activation}  in {list(o.inputs)} out {list(o.outputs)}"
              + (f"  {o.macs:,} MACs" if o.macs else ""))
    print()
    print("tensors:")
    for t in model.tensors:
        kind = "const" if t.is_constant else "var" if t.is_variable else ""
        print(f"  {t.index:>3} {kind:<5} {t.describe()}  {t.nbytes:,} B")
    print()
    print("inputs:  " + "; ".join(model.tensors[i].describe() for i in model.inputs))
    print("outputs: " + "; ".join(model.tensors[i].describe() for i in model.outputs))
    print()
    if isinstance(compiled, list):
        print(f"this build runs {len(compiled)} ops; missing for this model: {', '.join(missing or []) or 'none'}")
    else:
        print(f"ops of this build: {compiled}")
    if "arena_bytes" in arena:
        print(f"arena: {arena['arena_bytes']:,} bytes ({arena['persistent_bytes']:,} persistent + "
              f"{arena['planned_bytes']:,} planned)")
    else:
        print(f"arena: {arena['unavailable']}")
    print()
    print("to allow only this model's ops:")
    print(f"  {ops_line(model)}")
    print(f'  firmware with only these kernels: make firmware TFLM_OPS="{" ".join(sorted(used))}"')
    return 0


@subcommand("plan", "arena prediction: persistent and planned bytes, lower bound, layout PNG",
            MODEL_ARG, JSON_ARG,
            arg("--png", type=Path, metavar="PATH", help="draw the arena layout over the operators into PATH"))
def plan(args: argparse.Namespace) -> int:
    """Predict the arena a board needs for a model with the engine's own C planner: persistent
    bytes (tensor and node tables, per-op data) and planned bytes (activations and scratch placed
    by lifetime), the lower bound no plan can beat (the largest set of buffers alive at one op),
    and the naive sum of all activations for comparison. --png draws every planned buffer as a
    rectangle from its first to its last operator at its arena offset."""
    model, buf = load_model(args.model)
    arena = arena_prediction(buf)
    activations = [t for t in model.tensors if not t.is_constant]
    arena["activation_bytes_sum"] = sum(t.nbytes for t in activations)
    arena["largest_activation_bytes"] = max((t.nbytes for t in activations), default=0)
    buffers: list[engine.PlannedBuffer] = []
    if "arena_bytes" in arena:
        planned = engine.Engine(buf, arena["arena_bytes"])
        arena["lower_bound_bytes"] = planned.planned_lower_bound
        buffers = planned.plan()
    names = [model.tensors[b.tensor].name if b.tensor is not None
             else f"scratch of op {b.node} {model.operators[b.node or 0].name}" for b in buffers]
    if args.png and buffers:
        from .plots import arena_layout  # matplotlib only when drawing

        arena_layout(args.png, f"{args.model.name}: arena {arena['arena_bytes']:,} B = "
                     f"{arena['persistent_bytes']:,} persistent + {arena['planned_bytes']:,} planned",
                     buffers, names, [o.name for o in model.operators], arena["persistent_bytes"],
                     arena["lower_bound_bytes"])
    if args.json:
        arena["buffers"] = [{"name": name, **vars(b)} for b, name in zip(buffers, names)]
        print(json.dumps({"model": str(args.model), **arena}, indent=2))
        return 0 if "arena_bytes" in arena else 1
    print(f"{args.model}:")
    if "arena_bytes" not in arena:
        print(f"  arena: {arena['unavailable']}")
        return 1
    print(f"  arena needed      {arena['arena_bytes']:>10,} bytes")
    print(f"    persistent      {arena['persistent_bytes']:>10,} bytes  (tables, per-op data)")
    print(f"    planned         {arena['planned_bytes']:>10,} bytes  (activations and scratch, by lifetime)")
    print(f"  lower bound       {arena['lower_bound_bytes']:>10,} bytes  (largest set of buffers alive at one op)")
    print(f"  all activations   {arena['activation_bytes_sum']:>10,} bytes  (if none shared memory)")
    print(f"  largest one       {arena['largest_activation_bytes']:>10,} bytes")
    if args.png:
        print(f"  layout            {args.png}")
    return 0


@subcommand("run", "run a MicroPython script on a board",
            BOARD_ARG, PORT_ARG,
            arg("--file", action="append", default=[], type=Path, metavar="F",
                help="a file the script can open() by its base name (repeatable)"),
            arg("script", type=Path, metavar="SCRIPT", help="MicroPython script to run"),
            arg("script_args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the script (sys.argv)"))
def run(args: argparse.Namespace) -> int:
    """Run SCRIPT on a board with ARGS as its sys.argv, print what it prints, and exit with its status."""
    result = get_board(args.board, args.port).run(args.script, args.script_args, args.file)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


@subcommand("build", "build a board's firmware", BOARD_ARG)
def build(args: argparse.Namespace) -> int:
    """Build the MicroPython firmware with the tflm module for a board (make firmware BOARD=NAME)."""
    get_board(args.board).build()
    return 0


@subcommand("flash", "flash a board's firmware", BOARD_ARG, PORT_ARG)
def flash(args: argparse.Namespace) -> int:
    """Write the built firmware to a board."""
    get_board(args.board, args.port).flash()
    return 0


@subcommand("repl", "open a board's MicroPython REPL", BOARD_ARG, PORT_ARG)
def repl(args: argparse.Namespace) -> int:
    """Open an interactive MicroPython REPL on a board."""
    return get_board(args.board, args.port).repl()


@subcommand("demo", "keyword spotting and a sine wave on a board, checked against the numpy reference",
            BOARD_DEFAULT_HOST, PORT_ARG,
            arg("--steps", type=int, default=9, metavar="N", help="points of the hello_world sweep (default 9)"))
def demo(args: argparse.Namespace) -> int:
    """Run micro_speech on the shipped "yes" and "no" features and both hello_world models over a
    sweep of x on a board, print the board's table, then check every output bit for bit against the
    numpy reference, the keyword against the spoken word and the arena bytes against the host planner.
    Exits non-zero on any mismatch."""
    from .demo import run_demo  # loads the reference only when needed

    if args.steps < 2:
        raise CommandError("--steps needs at least 2 points")
    return run_demo(get_board(args.board, args.port), args.steps)


@subcommand("test", "conformance of a board: every model against TFLite Micro and the numpy reference",
            BOARD_ARG, PORT_ARG,
            arg("--models", nargs="+", default=[], metavar="GLOB",
                help="models to check, as globs relative to the models folder where * also matches /, "
                     "e.g. 'mlperf_tiny/*' '*leaky_relu*' (default: all)"),
            arg("--report", type=Path, metavar="PATH",
                help="where to write the JSON report (default: build/reports/conformance_<board>.json)"))
def test(args: argparse.Namespace) -> int:
    """Run every shared model (or those matching --models) on a board with seeded random inputs and
    the models' shipped test data, all cases of a model in one run, and compare the outputs with the
    TFLite Micro runtime and the numpy reference: integers bit for bit, floats within a stated
    tolerance, the documented outputs exactly. Then check the tflm module's API and error paths.
    Prints a table per model (ops, cases, differences, arena bytes next to TFLite Micro's, invoke
    time, status) and writes it as JSON. Exits non-zero on any failure; a model that does not fit
    is only excused when the board declares its heap (heap_bytes) and the model exceeds it. The host
    and emulated boards are built first; rp2040_emu with the models too big for its heap beside
    their arena built into flash, which the table lists."""
    # Imported here: the conformance module loads the reference.
    from .conformance import conformance_board, one_line, run_conformance, select_models, write_report

    models = select_models(args.models)
    if not models:
        raise CommandError(f"no model matches {' '.join(args.models)}")
    board = conformance_board(args.board, models, args.port)
    report = run_conformance(board, models, progress=lambda r: print(
        f"{r.status:<5} {r.model}" + (f"  {one_line(r.problems[0])}" if r.status == "FAIL" else ""), flush=True))
    print()
    print(report.markdown())
    print(f"report: {write_report(report, args.report)}")
    return 1 if report.failed else 0


@subcommand("bench", "benchmark models on boards against TFLite Micro and write a report",
            arg("--board", action="append", required=True, metavar="NAME",
                help=f"board to measure (repeatable): {', '.join(board_names())}"),
            PORT_ARG,
            arg("--models", nargs="+", metavar="M",
                help="models to run: hello_world, micro_speech, person_detect, kws, vww, resnet "
                     "(default: all but hello_world)"),
            arg("--report", type=Path, metavar="DIR", help="report folder (default: build/reports/bench)"),
            arg("--invokes", type=int, metavar="N", help="invokes per model on the board "
                                                          "(default: 3 on the emulators, 21 elsewhere)"),
            arg("--host-runs", type=int, default=21, metavar="N",
                help="invokes of the engine and the TFLite Micro runtime on the host board (default 21)"),
            arg("--measure-tflm-arena", action="store_true",
                help="measure TFLite Micro's arena by bisection instead of quoting the models' README"),
            arg("--baseline", type=Path, metavar="DIR",
                help="an earlier run's report folder: the report compares the figures per MAC with its boards'"))
def bench(args: argparse.Namespace) -> int:
    """For each model, on each board: arena bytes against TFLite Micro's, time per invoke (RP2040
    cycles on rp2040_emu with the models in flash, instructions on qemu_mps2 and qemu_mps2_an386,
    microseconds on the host), cycles per MAC against TFLM's published figures, interpreter overhead (invoke time less
    the kernels' profiled time) and the time per operator type; on the host board also the engine
    against the tflite-micro runtime. Each board's figures go to DIR/BOARD.json; DIR/README.md,
    DIR/bench.json and the plots are rebuilt from all boards measured into DIR."""
    from .bench import DEFAULT_MODELS, REPORT_DIR, BenchError, bench as run_bench

    try:
        readme = run_bench(args.board, args.models or DEFAULT_MODELS, args.report or REPORT_DIR, args.invokes,
                           args.host_runs, args.measure_tflm_arena, args.port, baseline_dir=args.baseline)
    except BenchError as e:
        raise CommandError(str(e)) from e
    print(f"wrote {readme}")
    return 0


EXAMPLES = """examples:
  python -m micropython_tflm inspect micro_speech_quantized.tflite
  python -m micropython_tflm plan --json vww_96_int8.tflite
  python -m micropython_tflm plan --png arena.png person_detect.tflite
  python -m micropython_tflm bench --board rp2040_emu --models kws vww
  python -m micropython_tflm run --board host --file model.tflite my_script.py arg1
  python -m micropython_tflm demo --board qemu_mps2
  python -m micropython_tflm COMMAND --help    (details of one command)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m micropython_tflm",
        description="Host tools of micropython-tflm: inspect and plan models, build, flash and drive boards, "
                    "run the demo.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for sub in SUBCOMMANDS:
        p = commands.add_parser(sub.name, help=sub.help, description=sub.description)
        for a in sub.args:
            p.add_argument(*a.names, **a.options)
        p.set_defaults(handler=sub.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except (CommandError, BoardError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(f"error: {' '.join(map(str, e.cmd))} exited with status {e.returncode}", file=sys.stderr)
        return 2
    return status
