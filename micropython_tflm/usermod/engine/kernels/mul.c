/*
 * MUL: output = act(input0 * input1), with broadcasting. float32, int8 and
 * int16 (zero points of 0, as TFLite Micro requires).
 */
#include "binary.h"

static tflm_status mul_prepare(tflm_interpreter *it, tflm_node *node) {
    tflm_binary_data *d = tflm_op_data(it, node);
    tflm_binary_quant q;
    tflm_status st = tflm_binary_prepare(it, node, d, &q);
    int type = tflm_node_output(it, node, 0)->type;
    if (st != TFLM_OK || type == TFLM_FLOAT32) {
        return st;
    }
    if (type == TFLM_INT16 && (q.input[0].zero_point || q.input[1].zero_point || q.output.zero_point)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "int16 needs zero points of 0");
    }
    int shift;
    if (!tflm_quantize_ratio(q.input[0].scale, q.input[1].scale, q.output.scale, 0, &d->output_multiplier, &shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "output scale out of range");
    }
    d->output_shift = shift;
    return TFLM_OK;
}

static inline float mul_float(float x, float y, const tflm_binary_data *d) {
    return tflm_binary_clamp_float(x * y, d);
}

static inline int32_t mul_quantized(int32_t x, int32_t y, const tflm_binary_data *d) {
    int32_t product = (x + d->input_offset[0]) * (y + d->input_offset[1]);
    int32_t v = tflm_mbqm(product, d->output_multiplier, d->output_shift) + d->output_offset;
    return tflm_clamp(v, d->act_min, d->act_max);
}

TFLM_BINARY_ROW(mul_row_float, float, mul_float)
TFLM_BINARY_ROW(mul_row_int8, int8_t, mul_quantized)
TFLM_BINARY_ROW(mul_row_int16, int16_t, mul_quantized)

static void mul_eval(const tflm_interpreter *it, const tflm_node *node) {
    static const tflm_binary_rows rows = { mul_row_float, mul_row_int8, mul_row_int16 };
    tflm_binary_eval(it, node, &rows);
}

const tflm_kernel tflm_kernel_mul = {
    .name = "MUL",
    .code = 18,
    .options_type = 21,
    .data_bytes = sizeof(tflm_binary_data),
    .prepare = mul_prepare,
    .eval = mul_eval,
};
