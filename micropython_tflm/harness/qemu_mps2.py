"""QEMU's mps2-an385 (Cortex-M3, board qemu_mps2) or mps2-an386 (Cortex-M4F, board
qemu_mps2_an386), running boards/qemu_mps2.

QEMU counts time in instructions (-icount shift=0), so runs repeat exactly;
the UART is a pty that mpremote connects to, and semihosting makes the run's
working folder the board's: open("model.tflite") reads the host file.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

from . import BUILD, BoardError, register
from .emulated import EmulatedBoard, Emulator

PTY_MESSAGE = "char device redirected to "
# Free GC heap per variant, as a script run at boot reads it (gc.collect(); gc.mem_free()).
HEAP_BYTES = {"an385": 24_257_840, "an386": 24_261_168}


@register
class QemuMps2Board(EmulatedBoard):
    name = "qemu_mps2"
    description = "MicroPython with tflm on QEMU mps2-an385, Cortex-M3 (boards/qemu_mps2)"
    variant = "an385"  # QEMU's machine mps2-<variant>; the Makefile's VARIANT

    def __init__(self, port: str | None = None):
        super().__init__(port)
        self.heap_bytes = HEAP_BYTES[self.variant]

    @property
    def folder(self) -> str:
        return "qemu_mps2"

    @property
    def build_dir(self) -> Path:
        # Where boards/qemu_mps2/Makefile puts each variant's build.
        return BUILD / (self.folder if self.variant == "an385" else f"{self.folder}-{self.variant}")

    def make_args(self) -> list[str]:
        return [f"VARIANT={self.variant}"]

    def command(self) -> list[str]:
        return ["qemu-system-arm", "-M", f"mps2-{self.variant}", "-icount", "shift=0",
                "-display", "none", "-monitor", "none", "-serial", "pty",
                "-semihosting-config", "enable=on,target=native", "-kernel", str(self.firmware)]

    def launch(self, workdir: Path, log) -> Emulator:
        emulator = Emulator(self.command(), workdir, log, stdout=subprocess.PIPE)
        with emulator.stopped_on_error():
            emulator.pty = read_pty_path(emulator, timeout=10.0)
        return emulator


def read_pty_path(emulator: Emulator, timeout: float) -> str:
    """QEMU names the pty on its first line of output."""
    assert emulator.proc.stdout is not None
    stdout = emulator.proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        if not select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise BoardError(f"QEMU did not name its pty within {timeout} s: {emulator.stderr()}")
        byte = os.read(stdout, 1)
        if not byte:
            raise BoardError(f"QEMU exited with status {emulator.proc.wait()}: {emulator.stderr()}")
        line += byte
    text = line.decode(errors="replace")
    if PTY_MESSAGE not in text:
        raise BoardError(f"unexpected QEMU output: {text.strip()}")
    return text.split(PTY_MESSAGE, 1)[1].split()[0]


@register
class QemuMps2An386Board(QemuMps2Board):
    """The same firmware built for the Cortex-M4F: hardware float and the DSP extension's SIMD
    multiply-accumulates (SMLAD), which the int8 kernels use when __ARM_FEATURE_DSP is defined."""

    name = "qemu_mps2_an386"
    description = "MicroPython with tflm on QEMU mps2-an386, Cortex-M4F (boards/qemu_mps2 VARIANT=an386)"
    variant = "an386"
