"""The C engine core loaded on the host through ctypes.

This is the very code the boards run (same planner, same kernels), built as a
shared library by `make lib`. The host tools use it to predict arena sizes and
to check kernels quickly, without a MicroPython VM in the loop.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

REPO = Path(__file__).resolve().parent.parent
# TFLM_ENGINE_LIB: another build of the library (e.g. `make lib-lanes`), used as it is.
LIB_PATH = Path(os.environ.get("TFLM_ENGINE_LIB", REPO / "build" / "lib" / "libtflm.so"))

STATUS_NAMES = ("OK", "MODEL", "UNSUPPORTED", "ARENA", "ARGUMENT", "ABORTED")
NUMPY_TYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16, 9: np.int8}


class EngineError(Exception):
    """Construction or invoke failed; `status` names the tflm_status."""

    def __init__(self, status: int, message: str, needed: int = 0):
        super().__init__(message)
        self.status = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else str(status)
        self.needed = needed


class _TensorInfo(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("bytes", ctypes.c_uint32),
        ("dims", ctypes.POINTER(ctypes.c_int32)),
        ("rank", ctypes.c_uint8),
        ("type", ctypes.c_uint8),
        ("scale", ctypes.c_float),
        ("zero_point", ctypes.c_int32),
    ]


class _Interpreter(ctypes.Structure):
    # Mirrors struct tflm_interpreter in engine/tflm.h.
    _fields_ = [
        ("model", ctypes.c_void_p),
        ("model_size", ctypes.c_uint32),
        ("arena", ctypes.c_void_p),
        ("arena_size", ctypes.c_uint32),
        ("arena_given", ctypes.c_uint32),
        ("arena_needed", ctypes.c_uint32),
        ("arena_needed_is_lower_bound", ctypes.c_uint8),
        ("persistent_bytes", ctypes.c_uint32),
        ("planned_bytes", ctypes.c_uint32),
        ("tensors_vec", ctypes.c_uint32),
        ("inputs_vec", ctypes.c_uint32),
        ("outputs_vec", ctypes.c_uint32),
        ("tensors", ctypes.c_uint32),
        ("nodes", ctypes.c_uint32),
        ("profile", ctypes.c_uint32),
        ("tensor_count", ctypes.c_uint16),
        ("node_count", ctypes.c_uint16),
        ("input_count", ctypes.c_uint16),
        ("output_count", ctypes.c_uint16),
        ("clock", ctypes.c_void_p),
        ("should_abort", ctypes.c_void_p),
        ("abort_arg", ctypes.c_void_p),
        ("message", ctypes.c_char * 160),
    ]


_lib: ctypes.CDLL | None = None


def load_library(build: bool = True) -> ctypes.CDLL:
    """Loads build/lib/libtflm.so, running `make lib` first when `build` is true (or $TFLM_ENGINE_LIB)."""
    global _lib
    if _lib is None:
        if build and "TFLM_ENGINE_LIB" not in os.environ:
            subprocess.run(["make", "-s", "-C", str(REPO), "lib"], check=True)
        lib = ctypes.CDLL(str(LIB_PATH))
        lib.tflm_init.argtypes = [ctypes.POINTER(_Interpreter), ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t]
        lib.tflm_invoke.argtypes = [ctypes.POINTER(_Interpreter)]
        lib.tflm_reset.argtypes = [ctypes.POINTER(_Interpreter)]
        lib.tflm_reset.restype = None
        for fn in (lib.tflm_input, lib.tflm_output):
            fn.argtypes = [ctypes.POINTER(_Interpreter), ctypes.c_size_t, ctypes.POINTER(_TensorInfo)]
        lib.tflm_arena_used_bytes.argtypes = [ctypes.POINTER(_Interpreter)]
        lib.tflm_arena_used_bytes.restype = ctypes.c_uint32
        lib.tflm_builtin_code.argtypes = [ctypes.c_char_p]
        lib.tflm_builtin_code.restype = ctypes.c_int32
        lib.tflm_kernel_count.restype = ctypes.c_size_t
        lib.tflm_kernel_name.argtypes = [ctypes.c_size_t]
        lib.tflm_kernel_name.restype = ctypes.c_char_p
        lib.tflm_plan_lower_bound.argtypes = [ctypes.POINTER(_Interpreter)]
        lib.tflm_plan_lower_bound.restype = ctypes.c_uint32
        lib.tflm_node_op_name.argtypes = [ctypes.POINTER(_Interpreter), ctypes.c_size_t]
        lib.tflm_node_op_name.restype = ctypes.c_char_p
        u32p, u16p = ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint16)
        lib.tflm_plan_buffer.argtypes = [ctypes.POINTER(_Interpreter), ctypes.c_size_t, u32p, u32p, u16p, u16p]
        _lib = lib
    return _lib


def compiled_ops() -> list[str]:
    lib = load_library()
    return [lib.tflm_kernel_name(i).decode() for i in range(lib.tflm_kernel_count())]


@dataclass(frozen=True)
class PlannedBuffer:
    """One buffer the C planner placed: a tensor's, or an operator's scratch."""

    tensor: int | None  # tensor index, None for a scratch buffer
    node: int | None  # operator index of a scratch buffer, None for a tensor
    offset: int  # in the planned (bottom) area of the arena
    bytes: int  # as placed, 16-byte aligned
    first_op: int  # lifetime in operator indices, both ends included
    last_op: int


class Engine:
    """One interpreter over a copy of `model` (16-byte aligned) and its own arena."""

    def __init__(self, model: bytes, arena_size: int, ops: Sequence[str] | None = None):
        lib = load_library()
        self._lib = lib
        self._model = ctypes.create_string_buffer(bytes(model), len(model) + 16)
        self._arena = ctypes.create_string_buffer(arena_size + 16)
        self._it = _Interpreter()
        # Hand both buffers over 16-byte aligned, as the MicroPython heap does.
        model_ptr = (ctypes.addressof(self._model) + 15) & ~15
        ctypes.memmove(model_ptr, bytes(model), len(model))
        arena_ptr = (ctypes.addressof(self._arena) + 15) & ~15
        allowed = None
        count = 0
        if ops is not None:
            codes = [lib.tflm_builtin_code(name.encode()) for name in ops]
            allowed = (ctypes.c_int32 * max(1, len(codes)))(*codes)
            count = len(codes)
        status = lib.tflm_init(ctypes.byref(self._it), model_ptr, len(model), arena_ptr, arena_size, allowed, count)
        if status != 0:
            raise EngineError(status, self._it.message.decode(errors="replace"), self._it.arena_needed)

    @property
    def arena_used_bytes(self) -> int:
        return int(self._lib.tflm_arena_used_bytes(ctypes.byref(self._it)))

    @property
    def persistent_bytes(self) -> int:
        return int(self._it.persistent_bytes)

    @property
    def planned_bytes(self) -> int:
        return int(self._it.planned_bytes)

    @property
    def planned_lower_bound(self) -> int:
        """The largest sum of activation and scratch bytes alive at one op."""
        return int(self._lib.tflm_plan_lower_bound(ctypes.byref(self._it)))

    def plan(self) -> list[PlannedBuffer]:
        """Every buffer of the arena's planned area with its offset and lifetime, tensors first."""
        tensors = int(self._it.tensor_count)
        offset, size = ctypes.c_uint32(), ctypes.c_uint32()
        first, last = ctypes.c_uint16(), ctypes.c_uint16()
        buffers = []
        for i in range(tensors + int(self._it.node_count)):
            if self._lib.tflm_plan_buffer(ctypes.byref(self._it), i, ctypes.byref(offset), ctypes.byref(size),
                                          ctypes.byref(first), ctypes.byref(last)) != 0:
                continue
            buffers.append(PlannedBuffer(i if i < tensors else None, i - tensors if i >= tensors else None,
                                         offset.value, size.value, first.value, last.value))
        return buffers

    @property
    def input_count(self) -> int:
        return int(self._it.input_count)

    @property
    def output_count(self) -> int:
        return int(self._it.output_count)

    def _info(self, fn, index: int) -> _TensorInfo:
        info = _TensorInfo()
        if fn(ctypes.byref(self._it), index, ctypes.byref(info)) != 0:
            raise IndexError(index)
        return info

    def _view(self, info: _TensorInfo) -> np.ndarray:
        shape = tuple(info.dims[i] for i in range(info.rank))
        dtype = NUMPY_TYPES[info.type]
        raw = (ctypes.c_char * info.bytes).from_address(info.data)
        return np.frombuffer(raw, dtype=dtype).reshape(shape)

    def input(self, index: int) -> np.ndarray:
        """Writable view of input `index` in the arena."""
        return self._view(self._info(self._lib.tflm_input, index))

    def output(self, index: int) -> np.ndarray:
        return self._view(self._info(self._lib.tflm_output, index)).copy()

    def quantization(self, index: int, output: bool = False) -> tuple[float, int]:
        info = self._info(self._lib.tflm_output if output else self._lib.tflm_input, index)
        return float(info.scale), int(info.zero_point)

    def set_input(self, index: int, value: np.ndarray) -> None:
        view = self.input(index)
        view[...] = np.asarray(value, dtype=view.dtype).reshape(view.shape)

    def invoke(self) -> None:
        status = self._lib.tflm_invoke(ctypes.byref(self._it))
        if status != 0:
            raise EngineError(status, self._it.message.decode(errors="replace"))

    def reset(self) -> None:
        self._lib.tflm_reset(ctypes.byref(self._it))


def arena_needed(model: bytes, ops: Sequence[str] | None = None) -> int:
    """Exact arena bytes the model needs, as every board will report it."""
    size = 1024
    while True:
        try:
            return Engine(model, size, ops).arena_used_bytes
        except EngineError as e:
            if e.status != "ARENA":
                raise
            size = max(e.needed, size * 2) if e.needed <= size else e.needed
