"""The emulated boards: qemu_mps2 (Cortex-M3 on QEMU) and rp2040_emu (Cortex-M0+ on rp2040js).

Each board is built once per session, then driven as a user drives a real
board: mpremote on the emulator's pty, files opened by base name, Ctrl-C on
the serial line. Results come back as a Python literal on the last line of
stdout and are checked against the TFLite Micro runtime.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from tflite_micro import runtime

from micropython_tflm.harness import BoardError, RunResult, get_board
from micropython_tflm.harness.emulated import EmulatedBoard, Emulator
from micropython_tflm.harness.qemu_mps2 import QemuMps2Board
from micropython_tflm.harness.rp2040_emu import RP2040EmuBoard

HELLO = "tflm/hello_world_int8.tflite"
PERSON = "tflm/person_detect.tflite"
PERSON_BMP = "tflm/person_detect_testdata/person.bmp"

# Runs hello_world on every int8 input in `inputs`; prints [ops, argv, outputs].
HELLO_SCRIPT = """
import sys, tflm
with open("hello_world_int8.tflite", "rb") as f:
    it = tflm.Interpreter(f.read(), 4096)
outputs = []
for q in {inputs}:
    it.set_input(0, bytes([q & 0xff]))
    it.invoke()
    outputs.append(it.get_output(0)[0])
print([tflm.ops(), sys.argv, outputs])
"""

# Invokes person_detect until interrupted (from flash on rp2040_emu, from a file on QEMU).
LONG_INVOKE_SCRIPT = """
import tflm
try:
    from tflm_models import person_detect as model
except ImportError:
    model = open("person_detect.tflite", "rb").read()
it = tflm.Interpreter(model, 100 * 1024)
print("ready")
while True:
    it.invoke()
"""


@pytest.fixture(scope="session")
def qemu() -> QemuMps2Board:
    board = QemuMps2Board()
    board.build()
    return board


@pytest.fixture(scope="session")
def rp2040(models_dir: Path) -> RP2040EmuBoard:
    # person_detect (300 KB) does not fit the RP2040's 264 KB of RAM: it runs from flash.
    board = RP2040EmuBoard(models=[models_dir / PERSON])
    board.build()
    return board


@pytest.fixture(params=["qemu", "rp2040"])
def board(request) -> EmulatedBoard:
    return request.getfixturevalue(request.param)


def write(folder: Path, source: str) -> Path:
    script = folder / "script.py"
    script.write_text(textwrap.dedent(source))
    return script


def run_literal(board: EmulatedBoard, folder: Path, source: str, files=(), args=()):
    """Runs a script that must succeed and returns the literal on its last line of output."""
    result = board.run(write(folder, source), args, files, timeout=300)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def reference_hello(models_dir: Path, inputs: list[int]) -> list[int]:
    interpreter = runtime.Interpreter.from_bytes((models_dir / HELLO).read_bytes(), arena_size=8192)
    outputs = []
    for q in inputs:
        interpreter.set_input(np.array([[q]], dtype=np.int8), 0)
        interpreter.invoke()
        outputs.append(int(interpreter.get_output(0)[0, 0]))
    return outputs


def test_hello_world_matches_tflite_micro(board: EmulatedBoard, models_dir: Path, tmp_path: Path):
    inputs = [-128, -100, -64, -20, 0, 1, 50, 100, 127]
    ops, argv, outputs = run_literal(board, tmp_path, HELLO_SCRIPT.format(inputs=inputs),
                                     files=[models_dir / HELLO], args=["--flag", "two words"])
    assert "FULLY_CONNECTED" in ops
    assert argv == ["script.py", "--flag", "two words"]
    assert outputs == reference_hello(models_dir, inputs)


def test_plain_mpremote_run(board: EmulatedBoard, models_dir: Path, tmp_path: Path):
    """`mpremote connect <pty> run script.py`, as a user types it, twice on one board."""
    script = write(tmp_path, HELLO_SCRIPT.format(inputs=[0, 64]))
    (tmp_path / "hello_world_int8.tflite").symlink_to(models_dir / HELLO)
    with board.emulator(tmp_path) as emulator:
        for _ in range(2):
            proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", emulator.pty, "run", str(script)],
                                  capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            ops, argv, outputs = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
            assert outputs == reference_hello(models_dir, [0, 64])


def test_script_exception_gives_traceback_and_returncode(board: EmulatedBoard, tmp_path: Path):
    result = board.run(write(tmp_path, "print('before')\nraise ValueError('boom')\n"), timeout=60)
    assert result == RunResult(1, "before\n", result.stderr)
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.strip().splitlines()[-1] == "ValueError: boom"


def test_imports_modules_from_given_files(board: EmulatedBoard, tmp_path: Path):
    helper = tmp_path / "helper.py"
    helper.write_text("def double(x):\n    return 2 * x\n")
    folder = tmp_path / "script"
    folder.mkdir()
    assert run_literal(board, folder, "import helper\nprint(helper.double(21))", files=[helper]) == 42


def test_time_module(board: EmulatedBoard, tmp_path: Path):
    elapsed_ms, cpu = run_literal(board, tmp_path, """
        import time
        t0, c0 = time.ticks_ms(), time.ticks_cpu()
        time.sleep_ms(100)
        print([time.ticks_diff(time.ticks_ms(), t0), time.ticks_diff(time.ticks_cpu(), c0)])
    """)
    assert 100 <= elapsed_ms <= 110
    assert cpu > 0


def test_ctrl_c_interrupts_loop_and_board_is_usable_after(board: EmulatedBoard, tmp_path: Path):
    with board.session(tmp_path) as session:
        session.start("while True:\n    pass\n")
        time.sleep(1)
        session.interrupt()
        out, err = session.follow(timeout=10)
        assert err.strip().splitlines()[-1] == "KeyboardInterrupt:"
        assert session.exec("print(6 * 7)", timeout=10) == ("42\r\n", "")


def test_ctrl_c_interrupts_long_invoke(board: EmulatedBoard, models_dir: Path, tmp_path: Path):
    (tmp_path / "person_detect.tflite").symlink_to(models_dir / PERSON)
    with board.session(tmp_path) as session:
        session.start(LONG_INVOKE_SCRIPT)
        assert session.transport.read_until(1, b"ready\r\n", timeout=120).endswith(b"ready\r\n")
        time.sleep(2)
        started = time.monotonic()
        session.interrupt()
        out, err = session.follow(timeout=30)
        lines = err.strip().splitlines()
        assert lines[-1] == "KeyboardInterrupt:"
        assert lines[-2].strip() == 'File "<stdin>", line 10, in <module>'  # it.invoke()
        assert time.monotonic() - started < 5
        assert session.exec("print(len(it.profile()))", timeout=10) == ("31\r\n", "")


def test_invoke_deep_in_python_recursion_raises_instead_of_overflowing(board: EmulatedBoard, models_dir: Path,
                                                                       tmp_path: Path):
    """invoke called ever deeper in Python recursion: it works, then raises a MemoryError about the C stack
    before Python's own recursion limit, never overflows the stack; the board works after."""
    results, after = run_literal(board, tmp_path, """
        import tflm
        with open("hello_world_int8.tflite", "rb") as f:
            it = tflm.Interpreter(f.read(), 4096)
        def deep(n):
            if n:
                return deep(n - 1)
            try:
                it.invoke()
                return "ok"
            except MemoryError as e:
                return str(e)
        results, n = [], 0
        while True:
            try:
                results.append(deep(n))
            except RuntimeError as e:
                results.append("RuntimeError: " + str(e))
                break
            n += 4
        it.set_input(0, bytes([64]))
        it.invoke()
        print([results, it.get_output(0)[0]])
    """, files=[models_dir / HELLO])
    assert results[0] == "ok"
    refused = [r for r in results if r.startswith("invoke needs 5120 bytes of C stack")]
    assert refused, results
    first_refused = results.index(refused[0])
    assert all(r == "ok" for r in results[:first_refused])
    assert results[-1] == "RuntimeError: maximum recursion depth exceeded"
    assert after == reference_hello(models_dir, [64])[0]


def test_hung_script_is_board_error_and_emulator_stopped(board: EmulatedBoard, tmp_path: Path, monkeypatch):
    started: list[Emulator] = []
    launch = type(board).launch

    def recording_launch(self, workdir, log):
        started.append(launch(self, workdir, log))
        return started[-1]

    monkeypatch.setattr(type(board), "launch", recording_launch)
    with pytest.raises(BoardError, match="no end of output within 2"):
        board.run(write(tmp_path, "print('spinning')\nwhile True:\n    pass\n"), timeout=2)
    assert len(started) == 1 and started[0].proc.poll() is not None


def test_board_that_never_boots_is_board_error(board: EmulatedBoard, tmp_path: Path, monkeypatch):
    started: list[Emulator] = []
    launch = type(board).launch

    def recording_launch(self, workdir, log):
        started.append(launch(self, workdir, log))
        return started[-1]

    garbage = tmp_path / f"garbage{board.firmware.suffix}"
    garbage.write_bytes(bytes(range(256)) * 64)
    monkeypatch.setattr(type(board), "firmware", garbage)
    monkeypatch.setattr(type(board), "boot_timeout", 3.0)
    monkeypatch.setattr(type(board), "launch", recording_launch)
    with pytest.raises(BoardError):
        board.run(write(tmp_path, "print(1)"), timeout=10)
    assert all(emulator.proc.poll() is not None for emulator in started)


def test_crashed_emulator_is_board_error(board: EmulatedBoard, tmp_path: Path):
    with board.session(tmp_path) as session:
        session.start("while True:\n    pass\n")
        os.kill(session.emulator.proc.pid, signal.SIGKILL)
        with pytest.raises(BoardError, match="emulator exited"):
            session.follow(timeout=30)


def test_qemu_loads_300kb_model_file_in_seconds(qemu: QemuMps2Board, models_dir: Path, tmp_path: Path):
    model = models_dir / PERSON
    started = time.monotonic()
    size, checksum, virtual_us = run_literal(qemu, tmp_path, """
        import time
        t0 = time.ticks_us()
        with open("person_detect.tflite", "rb") as f:
            m = f.read()
        elapsed = time.ticks_diff(time.ticks_us(), t0)
        print([len(m), sum(m) & 0xffffffff, elapsed])
    """, files=[model])
    wall = time.monotonic() - started
    data = model.read_bytes()
    assert (size, checksum) == (len(data), sum(data) & 0xFFFFFFFF)
    print(f"qemu_mps2: {size} byte model read in {virtual_us} us of emulated time; whole run {wall:.2f} s")
    assert wall < 10


def test_rp2040_person_detect_from_flash(rp2040: RP2040EmuBoard, models_dir: Path, tmp_path: Path):
    free, in_flash, outputs, cycles = run_literal(rp2040, tmp_path, """
        import gc, time, tflm, tflm_models
        model = tflm_models.person_detect
        gc.collect()
        free = gc.mem_free()
        it = tflm.Interpreter(model, 100 * 1024)
        with open("person.bmp", "rb") as f:
            bmp = f.read()
        start = bmp[10] | bmp[11] << 8
        # BMP rows are stored bottom-up; the model wants them top-down.
        it.set_input(0, b"".join(bmp[start + 96 * r:start + 96 * (r + 1)] for r in range(95, -1, -1)))
        c0 = time.ticks_cpu()
        it.invoke()
        cycles = time.ticks_diff(time.ticks_cpu(), c0)
        print([free, 0x10000000 <= id(model) < 0x10200000, list(it.get_output(0)), cycles])
    """, files=[models_dir / PERSON_BMP])
    assert free < (models_dir / PERSON).stat().st_size  # the model could not be in RAM
    assert in_flash
    assert outputs == [-113, 113]
    print(f"rp2040_emu: person_detect invoke {cycles} cycles")


def test_rp2040_hello_world_invoke_cycles(rp2040: RP2040EmuBoard, models_dir: Path, tmp_path: Path):
    cycles, profile, unit = run_literal(rp2040, tmp_path, """
        import time, tflm
        with open("hello_world_int8.tflite", "rb") as f:
            it = tflm.Interpreter(f.read(), 4096)
        it.set_input(0, bytes([64]))
        cycles = []
        for _ in range(3):
            c0 = time.ticks_cpu()
            it.invoke()
            cycles.append(time.ticks_diff(time.ticks_cpu(), c0))
        print([cycles, it.profile(), tflm.PROFILE_UNIT])
    """, files=[models_dir / HELLO])
    assert unit == "cycles"
    assert [name for name, _ in profile] == ["FULLY_CONNECTED"] * 3
    # Repeated invokes cost the same, but for a 1 ms SysTick interrupt landing in one of them.
    assert abs(cycles[1] - cycles[2]) < 100
    assert sum(ticks for _, ticks in profile) < cycles[2] < 100_000
    print(f"rp2040_emu: hello_world invoke {cycles[2]} cycles; per op {profile}")


def test_qemu_mps2_an386_variant(models_dir: Path, tmp_path: Path):
    board = get_board("qemu_mps2_an386")
    assert isinstance(board, QemuMps2Board) and board.folder == "qemu_mps2"
    board.build()
    assert board.firmware.parent.name == "qemu_mps2-an386"
    inputs = [-128, 0, 127]
    _, _, outputs = run_literal(board, tmp_path, HELLO_SCRIPT.format(inputs=inputs), files=[models_dir / HELLO])
    assert outputs == reference_hello(models_dir, inputs)
    assert run_literal(board, tmp_path, "import sys\nprint(repr(sys.implementation._machine))") == \
        "QEMU mps2-an386 with Cortex-M4F"
