"""Flash footprint of the engine on the Cortex-M0+, per op set, as linked into firmware.

For each op set the engine is compiled from engine.mk's sources and flags
(TFLM_OPS=<set>, TFLM_ALL_OP_NAMES=0) for -mcpu=cortex-m0plus -Os with one
section per function, and linked with --gc-sections against newlib-nano,
libm and libgcc into an image whose only root calls tflm_init, tflm_input,
tflm_invoke, tflm_output and tflm_arena_used_bytes: only what the API can
reach counts. Flash is .text + .rodata + .data (and the other loaded
sections), attributed through the linker map to the engine core, the
kernels (kernels/*.c), libgcc and libc (newlib-nano's libc and libm); the
root itself is left out. The MicroPython binding (modtflm.c) is compiled
on its own with the rp2040_emu board's flags and reported apart.

Op sets: each shared model's (read with micropython_tflm.model), plus every
op the engine implements. Each is built as configured by default, int8 only
(TFLM_FLOAT_KERNELS=0 TFLM_INT16_KERNELS=0), int8 only without error
messages (also TFLM_ERROR_MESSAGES=0), and small (also TFLM_OPTIMIZE_SIZE=1:
the kernels' generic loops only). Prints a table, the files and largest
functions of one op set, what selective registration saves (micro_speech's op
set against all ops, per configuration), and writes build/reports/footprint.json.
Fails when micro_speech's op set in the small configuration is over SMALL_BUDGET.

    python3 scripts/footprint.py                          # every shared model's op set, and all ops
    python3 scripts/footprint.py micro_speech_quantized all_ops
    python3 scripts/footprint.py --ops "FULLY_CONNECTED SOFTMAX"
    python3 scripts/footprint.py --detail all_ops --top 40
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from micropython_tflm import catalog  # noqa: E402
from micropython_tflm.model import Model, ModelError  # noqa: E402

ENGINE_DIR = REPO / "micropython_tflm/usermod/engine"
ENGINE_MK = ENGINE_DIR / "engine.mk"
BUILD = REPO / "build" / "footprint"
REPORT = REPO / "build" / "reports" / "footprint.json"
BINDING_BOARD = "rp2040_emu"

CC = "arm-none-eabi-gcc"
CPU_FLAGS = ["-mthumb", "-mcpu=cortex-m0plus"]
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Os", *CPU_FLAGS, "-ffunction-sections", "-fdata-sections"]
LDFLAGS = [*CPU_FLAGS, "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", "-Wl,-e,footprint_entry"]
LIBS = ["-Wl,--start-group", "-lm", "-lc", "-lgcc", "-Wl,--end-group"]
CATEGORIES = ("engine core", "kernels", "libgcc", "libc")
# engine.mk settings of each build; TFLM_ALL_OP_NAMES=0 in both.
CONFIGS = {
    "default": [],
    "int8_only": ["TFLM_FLOAT_KERNELS=0", "TFLM_INT16_KERNELS=0"],
    "int8_no_messages": ["TFLM_FLOAT_KERNELS=0", "TFLM_INT16_KERNELS=0", "TFLM_ERROR_MESSAGES=0"],
    "small": ["TFLM_FLOAT_KERNELS=0", "TFLM_INT16_KERNELS=0", "TFLM_ERROR_MESSAGES=0", "TFLM_OPTIMIZE_SIZE=1"],
}
MICRO_SPEECH = "micro_speech_quantized"
ALL_OPS = "all_ops"
# The flash budget of micro_speech's op set in the small configuration, libc and
# libgcc included (12 KB): past it the script fails, and so does `make footprint`.
SMALL_BUDGET = 12288

# The image's only root. Volatile inputs keep every path of the API alive.
ENTRY_C = """\
/* Written by scripts/footprint.py: the root of the footprint image. */
#include "tflm.h"

static tflm_interpreter interpreter;
static uint8_t arena[1024];
const void *volatile footprint_model;
volatile size_t footprint_model_size;
volatile uint32_t footprint_arena_used;

void footprint_entry(void) {
    tflm_tensor_info info;
    if (tflm_init(&interpreter, footprint_model, footprint_model_size, arena, sizeof arena, NULL, 0) == TFLM_OK &&
        tflm_input(&interpreter, 0, &info) == TFLM_OK && tflm_invoke(&interpreter) == TFLM_OK &&
        tflm_output(&interpreter, 0, &info) == TFLM_OK) {
        footprint_arena_used = tflm_arena_used_bytes(&interpreter);
    }
    for (;;) {
    }
}
"""


class BuildError(Exception):
    pass


def make_vars(make_args: list[str], names: list[str], cwd: Path = REPO) -> list[str]:
    """Values of make variables after reading the makefiles `make_args` name."""
    printed = "".join(f"$(info $({n}))" for n in names)
    out = subprocess.run(["make", "-s", "--no-print-directory", *make_args, "--eval", f"footprint-vars: ; @:{printed}",
                          "footprint-vars"], cwd=cwd, check=True, capture_output=True, text=True).stdout
    return out.splitlines()[-len(names):]


def engine_build(ops: list[str], settings: list[str]) -> tuple[list[str], list[str]]:
    """engine.mk's TFLM_ENGINE_SRC and TFLM_ENGINE_CFLAGS for this op set."""
    src, cflags = make_vars(["-f", str(ENGINE_MK), f"TFLM_OPS={' '.join(ops)}", "TFLM_ALL_OP_NAMES=0", *settings],
                            ["TFLM_ENGINE_SRC", "TFLM_ENGINE_CFLAGS"])
    return shlex.split(src), shlex.split(cflags)


def model_op_sets() -> dict[str, dict]:
    """Each distinct op set of the shared models, named after its first model."""
    implemented = set(make_vars(["-f", str(ENGINE_MK)], ["TFLM_ALL_OPS"])[0].split())
    sets: dict[tuple[str, ...], list[str]] = {}
    for path in catalog.all_models():
        try:
            ops = tuple(sorted(Model.load(path).op_counts()))
        except ModelError as e:
            print(f"skipped {path.name}: {e}", file=sys.stderr)
            continue
        if not set(ops) <= implemented:
            print(f"skipped {path.name}: ops {sorted(set(ops) - implemented)} not implemented", file=sys.stderr)
            continue
        sets.setdefault(ops, []).append(path.stem)
    named = {models[0]: {"ops": list(ops), "models": models} for ops, models in sets.items()}
    named[ALL_OPS] = {"ops": sorted(implemented), "models": []}
    return named


def compile_objects(sources: list[str], flags: list[str], out_dir: Path) -> list[Path]:
    def compile_one(src: str) -> Path:
        obj = out_dir / Path(src).resolve().relative_to(REPO).with_suffix(".o")
        obj.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([CC, *flags, "-c", "-o", str(obj), src], cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"{src} does not compile:\n{done.stderr.strip()}")
        return obj

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(compile_one, sources))


def flash_sections(elf: Path) -> set[str]:
    """Output sections that take flash: allocated and with contents (not .bss)."""
    out = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    names = set()
    for header, flags in zip(lines, lines[1:]):
        fields = header.split()
        if len(fields) >= 7 and fields[0].isdigit() and "ALLOC" in flags and "CONTENTS" in flags:
            if int(fields[2], 16) > 0:
                names.add(fields[1])
    return names


SECTION = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
OUTPUT = re.compile(r"^(\.\S+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+")
SYMBOL = re.compile(r"^\s+0x[0-9a-f]+\s+([A-Za-z_]\w*)$")


def read_map(map_file: Path, flash: set[str]) -> list[dict]:
    """Input sections placed in flash output sections: name, kind, bytes, file; fill goes to the one before."""
    lines = map_file.read_text().split("\n")
    lines = lines[lines.index("Linker script and memory map") + 1:]
    joined = []
    for line in lines:
        # a long section name takes a line of its own; its address, size and file follow
        if joined and re.fullmatch(r"\s?\S+", joined[-1]) and re.match(r"^\s+0x[0-9a-f]+\s+0x", line):
            joined[-1] += line
        else:
            joined.append(line)
    sections: list[dict] = []
    current = None
    for line in joined:
        out = OUTPUT.match(line)
        if out:
            current = out.group(1)
            continue
        if current not in flash:
            continue
        m = SECTION.match(line)
        if m and m.group(1) == "*fill*" and sections:
            sections[-1]["bytes"] += int(m.group(3), 16)
        elif m and int(m.group(3), 16) > 0:
            name, source = m.group(1), m.group(4).strip()
            kind = next((k for k in ("text", "rodata", "data") if name.startswith("." + k)), "text")
            sections.append({"section": name, "kind": kind, "bytes": int(m.group(3), 16), "file": source,
                             "symbol": None})
        elif sections and sections[-1]["symbol"] is None:
            sym = SYMBOL.match(line)
            if sym:
                sections[-1]["symbol"] = sym.group(1)
    return sections


def categorize(source: str, obj_dir: Path) -> tuple[str | None, str]:
    """(category, short file name); category None for the image's root."""
    archive = re.match(r".*/lib(\w+)\.a\((.*)\)$", source)
    if archive:
        lib = archive.group(1)
        return ("libgcc" if lib == "gcc" else "libc"), f"lib{lib}.a({archive.group(2)})"
    path = Path(source)
    if path.name == "footprint_entry.o":
        return None, path.name
    rel = path.resolve().relative_to(obj_dir.resolve()).with_suffix(".c")
    rel_to_engine = rel.relative_to(ENGINE_DIR.relative_to(REPO))
    return ("kernels" if rel_to_engine.parts[0] == "kernels" else "engine core"), str(rel_to_engine)


def function_name(section: dict) -> str:
    name = section["section"]
    for prefix in (".text.", ".rodata.", ".data."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return section["symbol"] or name


def measure(name: str, config: str, ops: list[str], top: int) -> dict:
    out_dir = BUILD / config / name
    sources, engine_flags = engine_build(ops, CONFIGS[config])
    flags = [*CFLAGS, *engine_flags]
    entry = out_dir / "footprint_entry.c"
    out_dir.mkdir(parents=True, exist_ok=True)
    entry.write_text(ENTRY_C)
    objects = compile_objects([*sources, str(entry)], flags, out_dir / "obj")
    elf, map_file = out_dir / "image.elf", out_dir / "image.map"
    done = subprocess.run([CC, *LDFLAGS, f"-Wl,-Map={map_file}", "-o", str(elf), *map(str, objects), *LIBS],
                          cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"link failed:\n{done.stderr.strip()}")
    totals = {c: {"text": 0, "rodata": 0, "data": 0, "total": 0} for c in CATEGORIES}
    files: dict[str, dict] = {}
    functions = []
    for s in read_map(map_file, flash_sections(elf)):
        category, file = categorize(s["file"], out_dir / "obj")
        if category is None:
            continue
        totals[category][s["kind"]] += s["bytes"]
        totals[category]["total"] += s["bytes"]
        entry_ = files.setdefault(file, {"category": category, "bytes": 0})
        entry_["bytes"] += s["bytes"]
        functions.append({"name": function_name(s), "kind": s["kind"], "file": file, "category": category,
                          "bytes": s["bytes"]})
    functions.sort(key=lambda f: -f["bytes"])
    return {
        "flash": totals,
        "total": sum(t["total"] for t in totals.values()),
        "files": dict(sorted(files.items(), key=lambda kv: -kv[1]["bytes"])),
        "largest": functions[:top],
    }


def measure_binding() -> dict:
    """modtflm.c compiled alone with the board's flags, at -Os and at the board's own -O2."""
    mpy_dir = REPO / "build" / "micropython"
    if not (mpy_dir / "py" / "mkenv.mk").exists():
        return {"error": "no MicroPython tree: run `make fetch-micropython` first"}
    board_dir = REPO / "boards" / BINDING_BOARD
    build = BUILD / f"binding-{BINDING_BOARD}"
    make_args = [f"BUILD={build}", f"MPY_DIR={mpy_dir}"]
    # The generated headers modtflm.c includes (qstrs, compressed messages, ...).
    headers = [str(build / "genhdr" / h) for h in ("qstrdefs.generated.h", "compressed.data.h", "moduledefs.h",
                                                   "root_pointers.h")]
    try:
        subprocess.run(["make", "-s", *make_args, *headers], cwd=board_dir, check=True, capture_output=True, text=True)
        flags = shlex.split(make_vars(make_args, ["CFLAGS"], cwd=board_dir)[0])
    except subprocess.CalledProcessError as e:
        return {"error": f"MicroPython headers for {BINDING_BOARD} failed: {e.stderr.strip()[-500:]}"}
    result: dict = {"board": BINDING_BOARD, "source": "micropython_tflm/usermod/modtflm.c"}
    for label, opt in (("Os", "-Os"), ("firmware_O2", "-O2")):
        obj = build / f"modtflm-{label}.o"
        done = subprocess.run([CC, *flags, opt, "-c", "-o", str(obj), str(REPO / "micropython_tflm/usermod/modtflm.c")],
                              cwd=board_dir, capture_output=True, text=True)
        if done.returncode != 0:
            return {"error": f"modtflm.c does not compile alone: {done.stderr.strip()[-500:]}"}
        sizes = {"text": 0, "rodata": 0, "data": 0}
        for line in subprocess.run(["arm-none-eabi-size", "-A", str(obj)], check=True, capture_output=True,
                                   text=True).stdout.splitlines()[2:]:
            fields = line.split()
            kind = next((k for k in sizes if fields and fields[0].startswith("." + k)), None)
            if kind:
                sizes[kind] += int(fields[1])
        result[label] = {**sizes, "total": sum(sizes.values())}
    undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], check=True, capture_output=True, text=True).stdout
    result["engine_api_used"] = sorted(s.split()[-1] for s in undefined.splitlines() if s.split()[-1].startswith("tflm_"))
    return result


def kb(n: int) -> str:
    return f"{n / 1024:.1f}"


def print_table(results: dict[str, dict]) -> None:
    """Bytes by category of the default build, then the totals of every build."""
    header = (f"{'op set':<24}{'ops':>4}" + "".join(f"{c:>12}" for c in CATEGORIES) +
              "".join(f"{c:>17}" for c in CONFIGS))
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        failed = [r[c]["error"] for c in CONFIGS if "error" in r[c]]
        if failed:
            print(f"{name:<24}{len(r['ops']):>4}  build failed: {failed[0].splitlines()[0]}")
            continue
        cells = "".join(f"{r['default']['flash'][c]['total']:>12}" for c in CATEGORIES)
        totals = "".join(f"{r[c]['total']:>9} ({kb(r[c]['total']):>4} KB)" for c in CONFIGS)
        print(f"{name:<24}{len(r['ops']):>4}{cells}{totals}")


def print_detail(name: str, config: str, r: dict, top: int) -> None:
    print(f"\n{name} ({config}): {' '.join(r['ops'])}")
    m = r[config]
    if "error" in m:
        print(m["error"])
        return
    for c in CATEGORIES:
        t = m["flash"][c]
        print(f"  {c:<12} {t['total']:>6}  (.text {t['text']}, .rodata {t['rodata']}, .data {t['data']})")
    print(f"  {'total':<12} {m['total']:>6}  ({kb(m['total'])} KB)\nfiles:")
    for file, f in m["files"].items():
        print(f"  {f['bytes']:>6}  {f['category']:<12} {file}")
    print(f"largest {top}:")
    for f in m["largest"][:top]:
        print(f"  {f['bytes']:>6}  {f['category']:<12} {f['name']} ({f['kind']}, {f['file']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="*", help=f"op sets to measure, by first model name or {ALL_OPS} (default: all)")
    ap.add_argument("--ops", help="one op set to measure instead of the models' (TFLite builtin names)")
    ap.add_argument("--detail", default=MICRO_SPEECH, help=f"op set whose files and functions to list ({MICRO_SPEECH})")
    ap.add_argument("--top", type=int, default=25, help="largest functions to list (the JSON keeps 60 at least)")
    ap.add_argument("--no-binding", action="store_true", help="skip compiling modtflm.c")
    args = ap.parse_args()

    sets = {"custom": {"ops": args.ops.split(), "models": []}} if args.ops else model_op_sets()
    unknown = set(args.sets) - set(sets)
    if unknown:
        sys.exit(f"unknown op sets {sorted(unknown)}; known: {' '.join(sets)}")
    sets = {name: s for name, s in sets.items() if not args.sets or name in args.sets}
    keep = max(args.top, 60)
    results: dict[str, dict] = {}
    for name, s in sets.items():
        results[name] = {"models": s["models"], "ops": s["ops"]}
        for config in CONFIGS:
            try:
                results[name][config] = measure(name, config, s["ops"], keep)
            except BuildError as e:
                results[name][config] = {"error": str(e)}
    report: dict = {
        "target": "Cortex-M0+ (" + " ".join(CFLAGS[4:]) + "), TFLM_ALL_OP_NAMES=0, newlib-nano",
        "compiler": subprocess.run([CC, "--version"], capture_output=True, text=True).stdout.splitlines()[0],
        "counted": ".text + .rodata + .data (every loaded section) reachable from tflm_init, tflm_input, "
                   "tflm_invoke, tflm_output, tflm_arena_used_bytes",
        "configs": {c: " ".join(["TFLM_ALL_OP_NAMES=0", *v]) for c, v in CONFIGS.items()},
        "op_sets": results,
    }
    if MICRO_SPEECH in results and ALL_OPS in results:
        report["selective_registration"] = {}
        for config in CONFIGS:
            small, full = results[MICRO_SPEECH][config].get("total"), results[ALL_OPS][config].get("total")
            if small is not None and full is not None:
                report["selective_registration"][config] = {MICRO_SPEECH: small, ALL_OPS: full, "saving": full - small}
    if not args.no_binding:
        report["binding"] = measure_binding()

    print_table(results)
    detail = args.detail if args.detail in results else next(iter(results))
    for config in CONFIGS:
        print_detail(detail, config, results[detail], args.top)
    for config, s in report.get("selective_registration", {}).items():
        print(f"\nselective registration ({config}): {MICRO_SPEECH} {s[MICRO_SPEECH]} B vs all ops {s[ALL_OPS]} B: "
              f"saves {s['saving']} B ({kb(s['saving'])} KB)")
    if "binding" in report:
        b = report["binding"]
        if "error" in b:
            print(f"\nbinding (modtflm.c): not measured: {b['error']}")
        else:
            print(f"\nbinding (modtflm.c alone, {b['board']} flags): -Os {b['Os']['total']} B "
                  f"(.text {b['Os']['text']}, .rodata {b['Os']['rodata']}, .data {b['Os']['data']}); "
                  f"firmware -O2 {b['firmware_O2']['total']} B; MicroPython's runtime not counted")
    small = results.get(MICRO_SPEECH, {}).get("small", {}).get("total")
    if small is not None:
        report["small_budget"] = {MICRO_SPEECH: small, "budget": SMALL_BUDGET}
        print(f"\n{MICRO_SPEECH} (small): {small} B of the {SMALL_BUDGET} B budget")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {REPORT.relative_to(REPO)}")
    if any("error" in r[c] for r in results.values() for c in CONFIGS):
        sys.exit(1)
    if small is not None and small > SMALL_BUDGET:
        sys.exit(f"{MICRO_SPEECH} (small) takes {small} B, over the {SMALL_BUDGET} B budget")


if __name__ == "__main__":
    main()
