/*
 * QUANTIZE: float32 to int8 or int16, and requantization between integer
 * types (the pairs TFLite Micro supports among int8, uint8, int16 and int32),
 * to the output's per-tensor scale and zero point.
 */
#include "../kernel.h"
#include "../quant.h"
#include "unary.h"

typedef struct {
    float output_scale;        /* float input */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;        /* integer input: input scale / output scale */
    int32_t shift;
} quantize_data;

static bool conversion_supported(int from, int to) {
    switch (from) {
        case TFLM_FLOAT32: return to == TFLM_INT8 || to == TFLM_INT16;
        case TFLM_INT8: return to == TFLM_INT8 || to == TFLM_UINT8 || to == TFLM_INT16 || to == TFLM_INT32;
        case TFLM_UINT8: return to == TFLM_INT8;
        case TFLM_INT16: return to == TFLM_INT8 || to == TFLM_INT16 || to == TFLM_INT32;
        case TFLM_INT32: return to == TFLM_INT8 || to == TFLM_INT16;
        default: return false;
    }
}

static tflm_status quantize_prepare(tflm_interpreter *it, tflm_node *node) {
    quantize_data *d = tflm_op_data(it, node);
    const tflm_tensor *input, *output;
    tflm_status st = tflm_unary_tensors(it, node, &input, &output);
    if (st != TFLM_OK) {
        return st;
    }
    if (!conversion_supported(input->type, output->type)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "%s to %s", tflm_type_name(input->type), tflm_type_name(output->type));
    }
    tflm_quant qi, qo;
    st = tflm_unary_quant(it, output, "output", &qo);
    if (st != TFLM_OK) {
        return st;
    }
    d->output_scale = qo.scale;
    d->output_zero_point = qo.zero_point;
    if (input->type == TFLM_FLOAT32) {
        return TFLM_OK;
    }
    st = tflm_unary_quant(it, input, "input", &qi);
    if (st != TFLM_OK) {
        return st;
    }
    d->input_zero_point = qi.zero_point;
    int shift;
    if (!tflm_quantize_ratio(qi.scale, 1.0f, qo.scale, 0, &d->multiplier, &shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "input to output scale ratio out of range");
    }
    d->shift = shift;
    return TFLM_OK;
}

static void quantize_eval(const tflm_interpreter *it, const tflm_node *node) {
    const quantize_data *d = tflm_op_data(it, node);
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    const void *in = tflm_data(it, input);
    void *out = tflm_data(it, output);
    uint32_t n = tflm_elements(it, input);
    int32_t lo, hi;
    tflm_type_range(output->type, &lo, &hi);
    if (input->type == TFLM_FLOAT32) {
        const float *x = in;
        for (uint32_t i = 0; i < n; i++) {
            float q = tflm_roundf(x[i] / d->output_scale);
            /* beyond +-2^16 every zero point clamps alike; NaN goes to the minimum */
            int32_t v = q < 65536.0f ? (q >= -65536.0f ? (int32_t)q : -65536) : 65536;
            tflm_unary_store(out, output->type, i, tflm_clamp(v + d->output_zero_point, lo, hi));
        }
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        int32_t v = tflm_unary_load(in, input->type, i) - d->input_zero_point;
        v = tflm_mbqm(v, d->multiplier, d->shift) + d->output_zero_point;
        tflm_unary_store(out, output->type, i, tflm_clamp(v, lo, hi));
    }
}

const tflm_kernel tflm_kernel_quantize = {
    .name = "QUANTIZE",
    .code = 114,
    .options_type = 89,
    .data_bytes = sizeof(quantize_data),
    .prepare = quantize_prepare,
    .eval = quantize_eval,
};
