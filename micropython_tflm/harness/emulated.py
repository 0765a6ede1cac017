"""Boards that run in an emulator process and are reached over a pty with mpremote.

The emulator starts in its own process group with a fresh working folder as
its host-file root, so a script opens the given files by base name (through
semihosting). Everything else is what a user does with a real board: mpremote
enters the raw REPL on the pty, sets sys.argv and runs the script. Whatever
goes wrong, the emulator is killed and its pty closed before returning.

`python -m micropython_tflm.harness.emulated qemu_mps2|qemu_mps2_an386|rp2040_emu [--dir DIR]`
starts one and prints its pty for `mpremote connect <pty> ...`.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from abc import abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NoReturn, Sequence, cast

from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport
from serial import SerialException

from . import REPO, Board, BoardError, RunResult, get_board

CTRL_C = b"\x03"
EOT = b"\x04"
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: no dlopen between fork and exec


def die_with_parent() -> None:
    """In the child before exec: SIGKILL it if the harness dies without stopping it."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Emulator:
    """An emulator process, leader of its own process group, and its serial pty."""

    def __init__(self, command: list[str], cwd: Path, log, pass_fds: Sequence[int] = (),
                 stdout: int | None = subprocess.DEVNULL):
        self.log = Path(log.name)
        self.pty = ""
        self.held_fds: list[int] = []  # closed when the emulator stops
        self.proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=log,
                                     pass_fds=pass_fds, start_new_session=True, preexec_fn=die_with_parent)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr(self) -> str:
        return self.log.read_text(errors="replace").strip()

    @contextmanager
    def stopped_on_error(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Ends the emulator's process group: SIGTERM, then SIGKILL after 2 s."""
        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                continue
        for fd in self.held_fds:
            os.close(fd)
        self.held_fds.clear()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self.proc.poll() is None:
            raise BoardError(f"emulator process {self.proc.pid} survived SIGKILL")


class Session:
    """mpremote's raw REPL on a running emulator."""

    def __init__(self, emulator: Emulator, boot_timeout: float):
        self.emulator = emulator
        # Protocol reads (raw-paste handshakes) wait up to 10 s; follow() polls.
        self.transport = SerialTransport(emulator.pty, baudrate=115200, timeout=10)
        try:
            self.enter_raw_repl(boot_timeout)
        except BaseException:
            self.close()
            raise

    def enter_raw_repl(self, boot_timeout: float) -> None:
        """Retries until the board has booted far enough to answer."""
        deadline = time.monotonic() + boot_timeout
        while True:
            self.check_alive()
            try:
                self.transport.enter_raw_repl(soft_reset=False, timeout_overall=2)
                return
            except (OSError, SerialException) as e:
                self.lost(e)
            except TransportError:
                if time.monotonic() > deadline:
                    raise BoardError(f"no raw REPL on {self.emulator.pty} within {boot_timeout} s; "
                                     f"emulator log: {self.emulator.stderr()}") from None

    def close(self) -> None:
        try:
            self.transport.close()
        except OSError:
            pass  # the emulator is gone and its pty with it

    def check_alive(self) -> None:
        if not self.emulator.alive():
            raise BoardError(f"the emulator exited with status {self.emulator.proc.returncode}: "
                             f"{self.emulator.stderr()}")

    def lost(self, error: Exception) -> NoReturn:
        """The pty failed: the emulator died (say so once it is reaped) or the line broke."""
        try:
            self.emulator.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.check_alive()
        raise BoardError(f"lost the serial line {self.emulator.pty}: {error}") from error

    def start(self, code: str | bytes) -> None:
        """Sends code to run; its output is read with follow()."""
        try:
            self.transport.exec_raw_no_follow(code)
        except (OSError, SerialException) as e:
            self.lost(e)
        except TransportError as e:
            self.check_alive()
            raise BoardError(f"could not send the script: {e}") from e

    def interrupt(self) -> None:
        self.transport.serial.write(CTRL_C)

    def follow(self, timeout: float) -> tuple[str, str]:
        """Output and error output (traceback) of the code started last."""
        deadline = time.monotonic() + timeout
        serial = self.transport.serial
        serial.timeout = 0.05
        parts = [bytearray()]
        try:
            while len(parts) < 3:
                if time.monotonic() > deadline:
                    raise BoardError(f"no end of output within {timeout} s; output so far: "
                                     f"{b''.join(parts).decode(errors='replace')[-2000:]}")
                self.check_alive()
                # All the board has sent but the last byte: the raw REPL's prompt after the second
                # EOT belongs to the next command, and nothing comes after it.
                try:
                    chunk = serial.read(max(1, serial.in_waiting - 1))
                except (OSError, SerialException) as e:
                    self.lost(e)
                first, *rest = chunk.split(EOT)
                parts[-1] += first
                parts += map(bytearray, rest)
        finally:
            try:
                serial.timeout = 10
            except (OSError, SerialException):
                pass  # the pty is gone: the error above says why
        return parts[0].decode(errors="replace"), parts[1].decode(errors="replace")

    def exec(self, code: str | bytes, timeout: float = 60.0) -> tuple[str, str]:
        self.start(code)
        return self.follow(timeout)


class EmulatedBoard(Board):
    """A board in an emulator process: subclasses say how to start it."""

    boot_timeout = 20.0

    @property
    def firmware(self) -> Path:
        return self.build_dir / "firmware.elf"

    @property
    def build_lock(self) -> Path:
        """Held while building: test sessions running side by side must not link the same files at once."""
        return self.build_dir.parent / f"{self.build_dir.name}.lock"

    def build(self) -> None:
        self.build_lock.parent.mkdir(parents=True, exist_ok=True)
        with open(self.build_lock, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            subprocess.run(["make", "-s", "-C", str(REPO), f"-j{os.cpu_count() or 1}", "firmware",
                            f"BOARD={self.folder}", *self.make_args()], check=True)

    def make_args(self) -> list[str]:
        return []

    @abstractmethod
    def launch(self, workdir: Path, log) -> Emulator:
        """Starts the emulator (cwd and host-file root `workdir`, stderr to the file `log`)."""

    @contextmanager
    def emulator(self, workdir: Path) -> Iterator[Emulator]:
        """A running emulator, stopped on leaving the block, whatever happened."""
        if not self.firmware.is_file():
            raise BoardError(f"{self.firmware} is missing: build the board first "
                             f"(make firmware BOARD={self.folder} {' '.join(self.make_args())})")
        with tempfile.NamedTemporaryFile("w", prefix=f"{self.name}-", suffix=".log") as log:
            emulator = self.launch(workdir, log)
            try:
                yield emulator
            finally:
                emulator.stop()

    @contextmanager
    def session(self, workdir: Path) -> Iterator[Session]:
        with self.emulator(workdir) as emulator:
            session = Session(emulator, self.boot_timeout)
            try:
                yield session
            finally:
                session.close()

    def run(self, script: Path, args: Sequence[str] = (), files: Sequence[Path] = (),
            timeout: float = 600.0) -> RunResult:
        script = Path(script)
        code = script.read_bytes()
        argv = [script.name, *map(str, args)]
        with tempfile.TemporaryDirectory(prefix=f"tflm-{self.name}-") as work:
            for file in files:
                Path(work, Path(file).name).symlink_to(Path(file).resolve())
            with self.session(Path(work)) as session:
                out, err = session.exec(f"import sys\nsys.argv[:] = {argv!r}\n", timeout=30)
                if err:
                    raise BoardError(f"could not set sys.argv: {err}")
                out, err = session.exec(code, timeout)
        return RunResult(1 if err else 0, out.replace("\r\n", "\n"), err.replace("\r\n", "\n"))

    def repl(self) -> int:
        with tempfile.TemporaryDirectory(prefix=f"tflm-{self.name}-") as work:
            with self.emulator(Path(work)) as emulator:
                return subprocess.call([sys.executable, "-m", "mpremote", "connect", emulator.pty, "repl"])


def main() -> None:
    parser = argparse.ArgumentParser(description="Starts an emulated board and prints its serial pty.")
    parser.add_argument("board", choices=["qemu_mps2", "qemu_mps2_an386", "rp2040_emu"])
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="folder open() reads files from")
    args = parser.parse_args()
    # get_board imports this module under its package name, a different class
    # object from this __main__ copy's: no isinstance check here.
    board = cast(EmulatedBoard, get_board(args.board))
    # SIGTERM unwinds like Ctrl-C, so the emulator is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with board.emulator(args.dir.resolve()) as emulator:
        print(f"{args.board} serial on {emulator.pty} (Ctrl-C here stops it)", flush=True)
        try:
            emulator.proc.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
