"""ADD, SUB and MUL: float, int32, and int8/int16 with requantization; numpy broadcasting.

TFLM: micro/kernels/{add,sub,mul}{,_common}.cc over kernels/internal/reference/
{add,sub,mul}.h and reference/integer_ops/{add,mul}.h. Quantized ADD and SUB rescale both
inputs to a common scale with `left_shift` bits of headroom (20 for int8, 15
for int16), add or subtract, and rescale to the output; MUL multiplies the centred
inputs and rescales once by input1_scale * input2_scale / output_scale.
"""

from __future__ import annotations

import numpy as np

from .fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, wrap32
from .kernel import OpCall, clamp_float, op, quantized_activation_range, quantized_params


def _output_type(call: OpCall) -> str:
    type_name = call.output_tensor().type_name
    if type_name not in ("FLOAT32", "INT32", "INT8", "INT16") or call.input_tensor(0).type_name != type_name \
            or call.input_tensor(1).type_name != type_name:
        raise call.unsupported(f"inputs {call.input_tensor(0).type_name}, {call.input_tensor(1).type_name}, "
                               f"output {type_name}")
    return type_name


def _add_or_sub(call: OpCall, sign: int) -> None:
    a, b = call.input(0), call.input(1)
    out = call.output_tensor()
    type_name = _output_type(call)
    if type_name == "FLOAT32":
        result = clamp_float(a.astype(np.float32) + sign * b.astype(np.float32), call.operator.activation)
    elif type_name == "INT32":
        result = wrap32(a.astype(np.int64) + sign * b.astype(np.int64))
    else:
        result = _quantized_add_or_sub(call, a, b, sign)
    call.set_output(np.broadcast_to(result, out.shape).astype(out.dtype))


@op("ADD")
def add(call: OpCall) -> None:
    _add_or_sub(call, 1)


@op("SUB")
def sub(call: OpCall) -> None:
    _add_or_sub(call, -1)


def _quantized_add_or_sub(call: OpCall, a: np.ndarray, b: np.ndarray, sign: int) -> np.ndarray:
    """Both inputs rescaled to a common scale with `left_shift` bits of headroom, combined, rescaled."""
    out = call.output_tensor()
    scale_a, zero_a = quantized_params(call.input_tensor(0))
    scale_b, zero_b = quantized_params(call.input_tensor(1))
    scale_out, zero_out = quantized_params(out)
    left_shift = 15 if out.type_name == "INT16" else 20
    twice_max_input_scale = 2 * max(scale_a, scale_b)
    multiplier_a, shift_a = quantize_multiplier(scale_a / twice_max_input_scale)
    multiplier_b, shift_b = quantize_multiplier(scale_b / twice_max_input_scale)
    multiplier_out, shift_out = quantize_multiplier(twice_max_input_scale / ((1 << left_shift) * scale_out))
    scaled_a = multiply_by_quantized_multiplier((a.astype(np.int64) - zero_a) << left_shift, multiplier_a, shift_a)
    scaled_b = multiply_by_quantized_multiplier((b.astype(np.int64) - zero_b) << left_shift, multiplier_b, shift_b)
    raw = multiply_by_quantized_multiplier(wrap32(scaled_a + sign * scaled_b), multiplier_out, shift_out) + zero_out
    low, high = quantized_activation_range(call.operator.activation, out)
    return np.clip(raw, low, high)


@op("MUL")
def mul(call: OpCall) -> None:
    a, b = call.input(0), call.input(1)
    out = call.output_tensor()
    type_name = _output_type(call)
    if type_name == "FLOAT32":
        result = clamp_float(a.astype(np.float32) * b.astype(np.float32), call.operator.activation)
    elif type_name == "INT32":
        result = wrap32(a.astype(np.int64) * b.astype(np.int64))
    else:
        scale_a, zero_a = quantized_params(call.input_tensor(0))
        scale_b, zero_b = quantized_params(call.input_tensor(1))
        scale_out, zero_out = quantized_params(out)
        multiplier, shift = quantize_multiplier(scale_a * scale_b / scale_out)
        product = wrap32((a.astype(np.int64) - zero_a) * (b.astype(np.int64) - zero_b))
        low, high = quantized_activation_range(call.operator.activation, out)
        result = np.clip(multiply_by_quantized_multiplier(product, multiplier, shift) + zero_out, low, high)
    call.set_output(np.broadcast_to(result, out.shape).astype(out.dtype))
