#!/usr/bin/env python3
"""Soak: many invokes of one interpreter on a board, checking it stays the same.

For each board and model, one MicroPython script builds an interpreter in an
arena of exactly arena_used_bytes(), invokes it N times on a fixed input and
reports: gc.mem_free() after a collection, read after each tenth of the
invokes (none may be lower than the first: a leak grows with the invokes,
while the first tenth may allocate once and the conservative collector may
keep a block or two that stale stack words point at), a checksum of every
invoke's outputs (all must equal the first, and the other boards'), and
invoke times of the first and last 10% of the invokes. Their fastest invokes
are compared, as other processes can only make an invoke slower: the last
tenth may be at most 25% slower (a ~100 us micro_speech invoke on a loaded
2-core machine varies by up to ~17% in its fastest of 500; a leak that slows
invokes grows past that). Writes a JSON report and exits 1 if any run
fails a check.

    python scripts/soak.py                    # the `make soak` counts
    python scripts/soak.py --boards host --small 5000 --large 50
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from micropython_tflm import engine  # noqa: E402
from micropython_tflm.catalog import MODELS_DIR  # noqa: E402
from micropython_tflm.harness import Board, get_board  # noqa: E402

SMALL = "tflm/micro_speech_quantized.tflite"
LARGE = "mlperf_tiny/vww_96_int8.tflite"
MAX_SLOWDOWN = 1.25

SOAK = """
import array, gc, sys, time, tflm
name, invokes, arena = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(name, 'rb') as f:
    interp = tflm.Interpreter(f.read(), arena)
data = [bytes((j * 7 + 3 * i) & 0xff for j in range(len(bytes(v)))) for i, v in enumerate(interp.inputs)]


def checksum():
    # 24 bits: stays a small int on 32-bit boards, so checking allocates no big ints.
    h = 0
    for i in range(len(interp.outputs)):
        for b in bytes(interp.output(i)):
            h = (h * 31 + b) & 0xffffff
    return h


def median(values):
    ordered = sorted(values)
    return (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2


def soak():
    tenth = max(1, invokes // 10)
    # Made before the first heap reading: invoke times of the first and last
    # tenth, free heap after the first invoke and after each tenth.
    first, last = array.array('i', [0] * tenth), array.array('i', [0] * tenth)
    heap = array.array('i', [0] * 11)
    mismatches = 0
    reference = None
    start = time.ticks_ms()
    for n in range(invokes):
        for i in range(len(data)):
            interp.set_input(i, data[i])
        t0 = time.ticks_us()
        interp.invoke()
        dt = time.ticks_diff(time.ticks_us(), t0)
        h = checksum()
        if reference is None:
            reference = h
        elif h != reference:
            mismatches += 1
        if n < tenth:
            first[n] = dt
        elif n >= invokes - tenth:
            last[n - (invokes - tenth)] = dt
        # Always read at this point of the loop: the stack then holds the same
        # leftovers, which the conservative collector may take for references.
        if n == 0 or n == invokes - 1 or (n + 1) % tenth == 0:
            gc.collect()
            heap[0 if n == 0 else 10 if n == invokes - 1 else min(9, (n + 1) // tenth)] = gc.mem_free()
    end = time.ticks_ms()
    return {'invokes': invokes, 'seconds': time.ticks_diff(end, start) / 1000, 'heap_first_invoke': heap[0],
            'heap_before': heap[1], 'heap_after': heap[10], 'heap_lowest': min(heap[1:]),
            'checksum': reference, 'mismatches': mismatches,
            'first_mean_us': sum(first) / tenth, 'last_mean_us': sum(last) / tenth,
            'first_median_us': median(first), 'last_median_us': median(last),
            'first_min_us': min(first), 'last_min_us': min(last),
            'arena_used': interp.arena_used_bytes()}


print(soak())
"""


@dataclass
class SoakResult:
    board: str
    model: str
    invokes: int
    seconds: float                 # on the board's clock (QEMU's is virtual)
    heap_first_invoke: int         # gc.mem_free() after a collection, after the first invoke
    heap_before: int               # the same after the first tenth of the invokes
    heap_after: int                # after the last invoke
    heap_lowest: int               # the lowest reading after each tenth
    checksum: int
    mismatches: int
    mean_us_first_tenth: float     # invoke time over the first 10% of the invokes
    mean_us_last_tenth: float
    median_us_first_tenth: float
    median_us_last_tenth: float
    min_us_first_tenth: int
    min_us_last_tenth: int
    slowdown: float                # fastest invoke of the last tenth / fastest of the first
    arena_used: int
    problems: list[str]


def soak(board: Board, model: str, invokes: int, timeout: float, max_slowdown: float | None) -> SoakResult:
    path = MODELS_DIR / model
    arena = engine.arena_needed(path.read_bytes())
    with tempfile.TemporaryDirectory(prefix="tflm-soak-") as work:
        script = Path(work) / "soak.py"
        script.write_text(SOAK)
        run = board.run(script, [path.name, str(invokes), str(arena)], [path], timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(f"soak of {model} on {board.name} failed: {run.stderr.strip()}")
    got = ast.literal_eval(run.stdout.strip().splitlines()[-1])
    slowdown = got["last_min_us"] / max(got["first_min_us"], 1)
    problems = []
    if got["heap_lowest"] < got["heap_before"]:
        problems.append(f"heap shrank by {got['heap_before'] - got['heap_lowest']} bytes")
    if got["mismatches"]:
        problems.append(f"{got['mismatches']} invokes gave other outputs than the first")
    if max_slowdown is not None and slowdown > max_slowdown:
        problems.append(f"the last tenth of the invokes is {slowdown:.2f}x slower than the first")
    if got["arena_used"] != arena:
        problems.append(f"arena_used_bytes() is {got['arena_used']}, the host predicted {arena}")
    return SoakResult(
        board=board.name, model=model, invokes=got["invokes"], seconds=got["seconds"],
        heap_first_invoke=got["heap_first_invoke"], heap_before=got["heap_before"], heap_after=got["heap_after"],
        heap_lowest=got["heap_lowest"], checksum=got["checksum"], mismatches=got["mismatches"], mean_us_first_tenth=got["first_mean_us"], mean_us_last_tenth=got["last_mean_us"],
        median_us_first_tenth=got["first_median_us"], median_us_last_tenth=got["last_median_us"],
        min_us_first_tenth=got["first_min_us"], min_us_last_tenth=got["last_min_us"], slowdown=round(slowdown, 4),
        arena_used=got["arena_used"], problems=problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", default="host,qemu_mps2", help="comma-separated boards (default host,qemu_mps2)")
    parser.add_argument("--small", type=int, default=100_000, help=f"invokes of {SMALL} on the host board")
    parser.add_argument("--large", type=int, default=1_000, help=f"invokes of {LARGE} on the host board")
    parser.add_argument("--emulated-small", type=int, default=2_000, help="invokes of the small model on emulated boards")
    parser.add_argument("--emulated-large", type=int, default=20, help="invokes of the large model on emulated boards")
    parser.add_argument("--report", type=Path, default=REPO / "build" / "reports" / "soak.json")
    parser.add_argument("--speed-report-only", action="store_true",
                        help="report the slowdown without failing on it (for tests on a loaded machine)")
    args = parser.parse_args(argv)

    results = []
    for name in args.boards.split(","):
        board = get_board(name)
        board.build()
        counts = (args.small, args.large) if name == "host" else (args.emulated_small, args.emulated_large)
        for model, invokes in zip((SMALL, LARGE), counts):
            started = time.monotonic()
            result = soak(board, model, invokes, timeout=3600,
                          max_slowdown=None if args.speed_report_only else MAX_SLOWDOWN)
            results.append(result)
            verdict = "; ".join(result.problems) or "ok"
            print(f"{name:10} {model:35} {invokes:7} invokes in {result.seconds:7.1f} s "
                  f"(run {time.monotonic() - started:.0f} s)  heap {result.heap_before} -> {result.heap_after}  "
                  f"invoke median {result.median_us_first_tenth:.0f} -> {result.median_us_last_tenth:.0f} us, "
                  f"fastest {result.min_us_first_tenth} -> {result.min_us_last_tenth} us  "
                  f"slowdown {result.slowdown:.3f}  {verdict}", flush=True)
    # Every board computes the same outputs: the engine's integer arithmetic is exact.
    for result in results:
        first = next(r for r in results if r.model == result.model)
        if result.checksum != first.checksum:
            result.problems.append(f"output checksum {result.checksum:06x}, {first.board} gave {first.checksum:06x}")
            print(f"{result.board:10} {result.model:35} {result.problems[-1]}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    print(f"report: {args.report}")
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
