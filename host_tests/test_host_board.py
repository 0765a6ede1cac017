"""The tflm module and the host board, through real MicroPython scripts.

The board is built once per session (make firmware BOARD=host). Scripts run in
a scratch folder holding links to their files; results come back as a Python
literal on the last line of stdout.
"""

from __future__ import annotations

import ast
import random
import signal
import struct
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest
from tflite_micro import runtime

from micropython_tflm.harness import RunResult
from micropython_tflm.harness.host import HostBoard

HELLO = "tflm/hello_world_int8.tflite"
MICRO_SPEECH = "tflm/micro_speech_quantized.tflite"
PERSON = "tflm/person_detect.tflite"
MICRO_SPEECH_OPS = {"RESHAPE", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"}
PERSON_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"}


@pytest.fixture(scope="session")
def board() -> HostBoard:
    host = HostBoard()
    host.build()
    return host


@pytest.fixture(scope="session")
def compiled_ops(board: HostBoard, tmp_path_factory) -> set[str]:
    return set(run_literal(board, tmp_path_factory.mktemp("ops"), "import tflm\nprint(tflm.ops())"))


def run(board: HostBoard, folder: Path, source: str, files=(), args=()) -> RunResult:
    return board.run(write(folder, source), args, files, timeout=120)


def run_literal(board: HostBoard, folder: Path, source: str, files=(), args=()):
    """Runs a script that must succeed and returns the literal on its last line of output."""
    result = run(board, folder, source, files, args)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def assert_raised(result: RunResult, *exceptions: str) -> str:
    """The script ended with a Python traceback of one of `exceptions`; returns its message."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.startswith("Traceback (most recent call last):"), result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.split(":")[0] in exceptions, last
    return last


def reference_outputs(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of the TFLite Micro runtime (the bit-exactness reference)."""
    interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    outputs = []
    for x in inputs:
        interp.set_input(x, 0)
        interp.invoke()
        outputs.append(interp.get_output(0).copy())
    return outputs


def schema_version_offset(model: bytes) -> int:
    """Byte offset of Model.version (field 0 of the root table) in a flatbuffer."""
    root = struct.unpack_from("<I", model, 0)[0]
    vtable = root - struct.unpack_from("<i", model, root)[0]
    field = struct.unpack_from("<H", model, vtable + 4)[0]
    assert field, "model has no version field"
    return root + field


def write(folder: Path, source: str) -> Path:
    script = folder / "script.py"
    script.write_text(textwrap.dedent(source))
    return script


def loading(model_name: str, body: str) -> str:
    """A script that reads `model_name` into `model`, then runs `body`."""
    head = f"import tflm\nwith open({Path(model_name).name!r}, 'rb') as f:\n    model = f.read()\n"
    return head + textwrap.dedent(body)


# --- the tflm API on real models ---


def test_hello_world_outputs_and_views(board, tmp_path, models_dir):
    model = (models_dir / HELLO).read_bytes()
    quantized = [-128, -100, 0, 5, 60, 127]
    expected = reference_outputs(model, [np.array([[q]], np.int8) for q in quantized])
    details = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    source = loading(HELLO, f"""
    import struct
    interp = tflm.Interpreter(model, 4096)
    outs = []
    for q in {quantized}:
        interp.set_input(0, struct.pack('b', q))
        interp.invoke()
        y = interp.get_output(0)
        outs.append((repr(y)[:10], list(y)))
    views = [(v.shape, v.dtype, v.scale, v.zero_point, v.index) for v in interp.inputs + interp.outputs]
    print({{'outs': outs, 'views': views, 'n': (len(interp.inputs), len(interp.outputs)),
           'same': (interp.input(0) is interp.inputs[0], interp.output(0) is interp.outputs[0]),
           'profile': interp.profile(), 'unit': tflm.PROFILE_UNIT,
           'schema': tflm.SCHEMA_VERSION, 'version': tflm.__version__}})
    """)
    got = run_literal(board, tmp_path, source, [models_dir / HELLO])
    assert [o for _, o in got["outs"]] == [e.flatten().tolist() for e in expected]
    assert {kind for kind, _ in got["outs"]} == {"array('b',"}
    assert got["n"] == (1, 1)
    assert got["same"] == (True, True)
    for view, d, index in zip(got["views"], (details.get_input_details(0), details.get_output_details(0)), (0, 0)):
        shape, dtype, scale, zero_point, view_index = view
        assert shape == tuple(d["shape"].tolist())
        assert dtype == "int8"
        assert scale == pytest.approx(float(d["quantization_parameters"]["scales"][0]), rel=1e-7)
        assert zero_point == int(d["quantization_parameters"]["zero_points"][0])
        assert view_index == index
    assert [name for name, _ in got["profile"]] == ["FULLY_CONNECTED"] * 3
    assert all(isinstance(ticks, int) and ticks >= 0 for _, ticks in got["profile"])
    assert got["unit"] == "us"
    assert got["schema"] == 3
    assert got["version"].count(".") == 2


def test_views_are_zero_copy_buffers(board, tmp_path, models_dir):
    source = loading(HELLO, """
    interp = tflm.Interpreter(model, 4096)
    inp, out = memoryview(interp.input(0)), memoryview(interp.output(0))
    inp[0] = 5                       # write the input in the arena
    interp.invoke()
    via_view = out[0]
    interp.set_input(0, bytes([127]))
    written = bytes(inp)               # (invoke may reuse the input's memory)
    interp.invoke()
    print([via_view, list(interp.get_output(0)), out[0], written])
    """)
    assert run_literal(board, tmp_path, source, [models_dir / HELLO]) == [-8, [-9], -9, b"\x7f"]


def test_inference_does_not_allocate(board, tmp_path, models_dir):
    source = loading(HELLO, """
    import gc
    interp = tflm.Interpreter(model, 4096)

    def infer(interp, data, times):   # locals only: a new global would grow the module dict
        while times:
            interp.set_input(0, data)
            interp.invoke()
            view = interp.input(0)
            view = interp.output(0)
            times -= 1

    data = bytes(1)
    before = 0
    infer(interp, data, 1)
    gc.collect()
    gc.disable()
    before = gc.mem_free()
    infer(interp, data, 200)
    print(before - gc.mem_free())
    """)
    assert run_literal(board, tmp_path, source, [models_dir / HELLO]) == 0


def test_bad_sizes_and_indices_raise(board, tmp_path, models_dir):
    source = loading(HELLO, """
    interp = tflm.Interpreter(model, 4096)
    calls = {
        'short': lambda: interp.set_input(0, b''),
        'long': lambda: interp.set_input(0, b'ab'),
        'set_input(1)': lambda: interp.set_input(1, b'a'),
        'set_input(-1)': lambda: interp.set_input(-1, b'a'),
        'input(1)': lambda: interp.input(1),
        'output(2)': lambda: interp.output(2),
        'get_output(1)': lambda: interp.get_output(1),
        'arena 0': lambda: tflm.Interpreter(model, 0),
        'not a buffer': lambda: tflm.Interpreter(12, 4096),
    }
    result = {}
    for name, call in calls.items():
        try:
            call()
            result[name] = 'no error'
        except Exception as e:
            result[name] = type(e).__name__ + ': ' + str(e)
    print(result)
    """)
    got = run_literal(board, tmp_path, source, [models_dir / HELLO])
    assert got.pop("not a buffer").startswith("TypeError")
    for name, error in got.items():
        assert error.split(":")[0] in ("ValueError", "IndexError"), (name, error)
    assert "1 bytes" in got["short"] and "got 0" in got["short"]


def test_uncaught_error_exits_with_traceback(board, tmp_path, models_dir):
    source = loading(HELLO, """
    interp = tflm.Interpreter(model, 4096)
    interp.set_input(0, b'too long')
    """)
    message = assert_raised(run(board, tmp_path, source, [models_dir / HELLO]), "ValueError")
    assert "needs 1 bytes, got 8" in message


def test_ops_lists_compiled_kernels(compiled_ops):
    assert "FULLY_CONNECTED" in compiled_ops


def test_op_allow_list(board, tmp_path, models_dir):
    source = loading(HELLO, """
    print(tflm.Interpreter(model, 4096, ops=['FULLY_CONNECTED']).arena_used_bytes())
    tflm.Interpreter(model, 4096, ops=['SOFTMAX', 'RESHAPE'])
    """)
    result = run(board, tmp_path, source, [models_dir / HELLO])
    assert int(result.stdout.split()[0]) > 0
    assert "FULLY_CONNECTED" in assert_raised(result, "ValueError")

    source = loading(HELLO, "tflm.Interpreter(model, 4096, ops=['FULLY_CONNECTED', 'NO_SUCH_OP'])\n")
    assert "NO_SUCH_OP" in assert_raised(run(board, tmp_path, source, [models_dir / HELLO]), "ValueError")


# --- arena sizes ---

@pytest.mark.parametrize("model_name", [HELLO, MICRO_SPEECH])
def test_arena_size_errors_name_the_exact_size(board, tmp_path, models_dir, compiled_ops, model_name):
    assert MICRO_SPEECH_OPS <= compiled_ops
    source = loading(model_name, """
    needed = tflm.Interpreter(model, 1 << 20).arena_used_bytes()
    result = {'needed': needed}
    for size in (needed - 1, needed - 16, 16, 1):
        try:
            tflm.Interpreter(model, size)
            result[size] = 'no error'
        except MemoryError as e:
            result[size] = str(e)
    exact = tflm.Interpreter(model, needed)
    exact.invoke()
    result['exact'] = exact.arena_used_bytes()
    print(result)
    """)
    got = run_literal(board, tmp_path, source, [models_dir / model_name])
    needed = got.pop("needed")
    assert got.pop("exact") == needed
    for size, message in got.items():
        assert message == f"arena_size {size} is too small: the model needs {needed} bytes"


def test_arena_error_is_a_lower_bound_when_the_heap_cannot_probe(tmp_path, models_dir, compiled_ops):
    """Too little heap left for a probe arena: the MemoryError gives the bound it has, "at least N"."""
    assert PERSON_OPS <= compiled_ops
    source = """
    import tflm
    with open('person_detect.tflite', 'rb') as f:
        f.seek(0, 2)
        model = bytearray(f.tell())    # exactly the model's size: no read buffer growth
        f.seek(0)
        f.readinto(model)
    needed = None
    try:
        needed = tflm.Interpreter(model, 1 << 20).arena_used_bytes()
    except MemoryError:
        pass
    try:
        tflm.Interpreter(model, 64)
    except MemoryError as e:
        print([needed, str(e)])
    """
    script = write(tmp_path, source)
    files = [models_dir / PERSON]
    tight = HostBoard(heap_size="310k").run(script, files=files)   # ~12 KB free after the model
    assert tight.returncode == 0, tight.stderr
    _, bounded = ast.literal_eval(tight.stdout.strip())
    prefix = "arena_size 64 is too small: the model needs at least "
    assert bounded.startswith(prefix) and bounded.endswith(" bytes"), bounded
    roomy = HostBoard().run(script, files=files)
    needed, exact = ast.literal_eval(roomy.stdout.strip())
    assert exact == f"arena_size 64 is too small: the model needs {needed} bytes"
    assert int(bounded[len(prefix):].split()[0]) < needed


# --- malformed models: an exception, never a crash ---

LOAD_ARG = """
    import sys, tflm
    with open(sys.argv[1], 'rb') as f:
        interp = tflm.Interpreter(f.read(), 200000)
    interp.invoke()
    print('loaded')
"""


def expect_rejected_or_loaded(board: HostBoard, script: Path, model: Path, what: str) -> str:
    """Runs LOAD_ARG on `model`: a clean ValueError/MemoryError, or a model that loads and runs."""
    result = board.run(script, [model.name], [model], timeout=60)
    if result.returncode == 0:
        assert result.stdout.strip() == "loaded", (what, result)
        return "loaded"
    return assert_raised(result, "ValueError", "MemoryError")


def test_malformed_models_raise_value_error(board, tmp_path, models_dir):
    script = write(tmp_path, LOAD_ARG)
    malformed = sorted((models_dir / "malformed").glob("*.tflite"))
    assert malformed
    for model in malformed:
        result = board.run(script, [model.name], [model], timeout=60)
        assert_raised(result, "ValueError")


@pytest.mark.parametrize("model_name", [HELLO, MICRO_SPEECH])
def test_truncated_and_bit_flipped_models_never_crash(board, tmp_path, models_dir, model_name):
    script = write(tmp_path, LOAD_ARG)
    model = (models_dir / model_name).read_bytes()
    rng = random.Random(model_name)
    lengths = sorted({0, 1, 4, 7, 8, 16, 100, len(model) // 2, len(model) - 16, len(model) - 1} |
                     {rng.randrange(len(model)) for _ in range(40)})
    outcomes = {}
    for length in lengths:
        path = tmp_path / f"cut_{length}.tflite"
        path.write_bytes(model[:length])
        outcomes[f"cut {length}"] = expect_rejected_or_loaded(board, script, path, f"cut {length}")
    # Flips in the first part of the file hit the tables rather than weight data.
    for n in range(60):
        position = rng.randrange(min(len(model), 4096)) if n % 2 else rng.randrange(len(model))
        flipped = bytearray(model)
        flipped[position] ^= 1 << rng.randrange(8)
        path = tmp_path / f"flip_{n}.tflite"
        path.write_bytes(flipped)
        outcomes[f"flip {position}"] = expect_rejected_or_loaded(board, script, path, f"flip {position}")
    short = [outcomes[f"cut {length}"] for length in lengths if length < len(model) // 2]
    assert all(o.startswith("ValueError") for o in short), short


def test_schema_version_4_is_rejected_naming_both_versions(board, tmp_path, models_dir):
    model = bytearray((models_dir / HELLO).read_bytes())
    offset = schema_version_offset(bytes(model))
    assert struct.unpack_from("<I", model, offset)[0] == 3
    struct.pack_into("<I", model, offset, 4)
    path = tmp_path / "version4.tflite"
    path.write_bytes(model)
    message = assert_raised(board.run(write(tmp_path, LOAD_ARG), [path.name], [path]), "ValueError")
    assert "4" in message and "3" in message, message


# --- lifetime, interrupts ---

def test_views_keep_the_interpreter_alive(tmp_path, models_dir):
    small = HostBoard(heap_size="256k")
    source = loading(HELLO, """
    import gc
    interp = tflm.Interpreter(model, 4096)
    interp.set_input(0, bytes([127]))
    interp.invoke()
    inputs, out = interp.inputs, interp.output(0)
    expected = bytes(out)
    del interp, model
    gc.collect()
    junk = [bytearray(b'\\xaa' * 512) for _ in range(150)]   # reuse any freed memory
    print([bytes(out) == expected, inputs[0].shape, out.shape, out.dtype])
    """)
    script = write(tmp_path, source)
    result = small.run(script, files=[models_dir / HELLO])
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout.strip()) == [True, (1, 1), (1, 1), "int8"]


INTERRUPT = """
    import sys
    interp = tflm.Interpreter(model, {arena})
    print('ready')
    sys.stdout.flush()
    invokes = 0
    try:
        while True:
            interp.invoke()
            invokes += 1
    except KeyboardInterrupt:
        print('interrupted after', invokes, 'invokes')
    interp.invoke()
    print('healthy', list(interp.get_output(0)))
"""


@pytest.mark.parametrize("model_name,arena", [(HELLO, 4096), (PERSON, 200000)])
def test_sigint_during_invokes_raises_keyboard_interrupt(board, tmp_path, models_dir, compiled_ops,
                                                         model_name, arena):
    assert PERSON_OPS <= compiled_ops
    model = models_dir / model_name
    (tmp_path / model.name).symlink_to(model)
    script = write(tmp_path, loading(model_name, INTERRUPT.format(arena=arena)))
    proc = subprocess.Popen(board.command(str(script)), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith("interrupted after"), stdout
    assert lines[1].startswith("healthy ["), stdout


# --- micro_speech: passes once RESHAPE, DEPTHWISE_CONV_2D and SOFTMAX kernels are in ---

def test_micro_speech_yes_and_no(board, tmp_path, models_dir):
    files = [models_dir / MICRO_SPEECH]
    for word in ("yes", "no"):
        features = np.load(models_dir / f"tflm/micro_speech_testdata/{word}_features_int8.npy")
        path = tmp_path / f"{word}.bin"
        path.write_bytes(features.astype(np.int8).tobytes())
        files.append(path)
    source = loading(MICRO_SPEECH, """
    interp = tflm.Interpreter(model, 16000)
    result = {}
    for word in ('yes', 'no'):
        with open(word + '.bin', 'rb') as f:
            interp.set_input(0, f.read())
        interp.invoke()
        result[word] = list(interp.get_output(0))
    print(result)
    """)
    got = run_literal(board, tmp_path, source, files)
    assert got == {"yes": [-128, -128, 127, -128], "no": [-128, -114, -128, 114]}


# --- the board itself ---

def test_board_runtime(board, tmp_path):
    (tmp_path / "helper.py").write_text("def double(x):\n    return 2 * x\n")
    source = """
    import sys, time, gc, array, struct, math
    import helper
    with open('data.bin', 'wb') as f:
        f.write(bytes(range(10)))
    with open('data.bin', 'rb') as f:
        head = f.read(3)
        buf = bytearray(4)
        n = f.readinto(buf)
        rest = f.read()
    with open('lines.txt', 'w') as f:
        f.write('one\\ntwo\\n')
    lines = [line for line in open('lines.txt')]
    t0 = time.ticks_ms()
    time.sleep_ms(20)
    slept = time.ticks_diff(time.ticks_ms(), t0)
    t1 = time.ticks_us()
    time.sleep_us(100)
    print({'argv': sys.argv[1:], 'helper': helper.double(21), 'head': head, 'n': n, 'buf': bytes(buf),
           'rest': rest, 'lines': lines, 'slept': 20 <= slept < 1000,
           'us': time.ticks_diff(time.ticks_us(), t1) >= 100,
           'add': time.ticks_diff(time.ticks_add(t0, 5), t0), 'time': time.time() > 1600000000,
           'struct': struct.pack('<h', -2), 'math': math.sqrt(16), 'array': list(array.array('h', [1, 2]))})
    """
    got = run_literal(board, tmp_path, source, args=["a", "b"])
    assert got == {"argv": ["a", "b"], "helper": 42, "head": b"\x00\x01\x02", "n": 4, "buf": b"\x03\x04\x05\x06",
                   "rest": b"\x07\x08\x09", "lines": ["one\n", "two\n"], "slept": True, "us": True, "add": 5,
                   "time": True, "struct": b"\xfe\xff", "math": 4.0, "array": [1, 2]}


def test_sys_exit_status_and_missing_file(board, tmp_path):
    assert run(board, tmp_path, "import sys\nprint('bye')\nsys.exit(3)\n").returncode == 3
    assert_raised(run(board, tmp_path, "open('no such file')\n"), "OSError")


def test_small_heap_behaves_like_a_microcontroller(tmp_path):
    small = HostBoard(heap_size="64k")
    result = small.run(write(tmp_path, "import gc\nprint(gc.mem_free() < 65536)\nx = bytearray(100000)\n"))
    assert result.stdout.strip() == "True"
    assert_raised(result, "MemoryError")
