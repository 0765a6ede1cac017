"""One interface to every board: build firmware, run scripts, test, benchmark.

Each board module registers a `Board` subclass with `@register`. The CLI and
the tests only talk to this interface, so a real board on /dev/ttyUSB0 and an
emulated one are driven the same way.
"""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parent.parent.parent
BUILD = REPO / "build"


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str


class BoardError(Exception):
    """The board could not be built, started or talked to (not a script failure)."""


class Board(ABC):
    name: str = ""
    description: str = ""

    def __init__(self, port: str | None = None):
        self.port = port

    @property
    def folder(self) -> str:
        """The boards/ folder the firmware is built from (one folder may build several boards)."""
        return self.name

    @property
    def build_dir(self) -> Path:
        return BUILD / self.name

    def build(self) -> None:
        """Builds the firmware with `make firmware BOARD=<folder>`."""
        subprocess.run(["make", "-s", "-C", str(REPO), "firmware", f"BOARD={self.folder}"], check=True)

    def flash(self) -> None:
        raise BoardError(f"board {self.name} has nothing to flash")

    @abstractmethod
    def run(self, script: Path, args: Sequence[str] = (), files: Sequence[Path] = (),
            timeout: float = 600.0) -> RunResult:
        """Runs a MicroPython script; `files` are readable by open() under their base names."""

    def repl(self) -> int:
        raise BoardError(f"board {self.name} has no REPL")


_BOARDS: dict[str, type[Board]] = {}
# Board name -> module that registers it (imported on first use).
_MODULES = {
    "host": "micropython_tflm.harness.host",
    "qemu_mps2": "micropython_tflm.harness.qemu_mps2",
    "qemu_mps2_an386": "micropython_tflm.harness.qemu_mps2",
    "rp2040_emu": "micropython_tflm.harness.rp2040_emu",
    "esp32": "micropython_tflm.harness.serial_board",
    "rp2": "micropython_tflm.harness.serial_board",
    "serial": "micropython_tflm.harness.serial_board",
    "unix": "micropython_tflm.harness.serial_board",
}


def register(cls: type[Board]) -> type[Board]:
    _BOARDS[cls.name] = cls
    return cls


def board_names() -> list[str]:
    return sorted(_MODULES)


def get_board(name: str, port: str | None = None) -> Board:
    if name not in _MODULES:
        raise BoardError(f"unknown board {name!r}; known boards: {', '.join(board_names())}")
    if name not in _BOARDS:
        import_module(_MODULES[name])
    return _BOARDS[name](port=port)

