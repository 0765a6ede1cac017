/*
 * RELU: max(x, 0). float32 as is; int8 and int16 (zero points of 0) are
 * requantized to the output's scale and zero point on the way.
 */
#include "../kernel.h"
#include "../quant.h"
#include "unary.h"

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
    int32_t act_min; /* the output's zero point, within the type */
    int32_t act_max;
} relu_data;

static tflm_status relu_prepare(tflm_interpreter *it, tflm_node *node) {
    relu_data *d = tflm_op_data(it, node);
    const tflm_tensor *input, *output;
    bool quantized;
    tflm_status st = tflm_unary_activation_tensors(it, node, &input, &output, &quantized);
    if (st != TFLM_OK || !quantized) {
        return st;
    }
    tflm_quant qi, qo;
    st = tflm_unary_quants(it, input, output, &qi, &qo);
    if (st != TFLM_OK) {
        return st;
    }
    if (input->type == TFLM_INT16 && (qi.zero_point != 0 || qo.zero_point != 0)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "int16 RELU needs zero points of 0");
    }
    int shift;
    if (!tflm_quantize_ratio(qi.scale, 1.0f, qo.scale, 0, &d->multiplier, &shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "input to output scale ratio out of range");
    }
    d->shift = shift;
    d->input_zero_point = qi.zero_point;
    d->output_zero_point = qo.zero_point;
    int32_t lo;
    tflm_type_range(output->type, &lo, &d->act_max);
    d->act_min = qo.zero_point > lo ? qo.zero_point : lo;
    return TFLM_OK;
}

static void relu_eval(const tflm_interpreter *it, const tflm_node *node) {
    const relu_data *d = tflm_op_data(it, node);
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const void *in = tflm_data(it, input);
    void *out = tflm_data(it, tflm_node_output(it, node, 0));
    uint32_t n = tflm_elements(it, input);
    if (input->type == TFLM_FLOAT32) {
        const float *x = in;
        float *y = out;
        for (uint32_t i = 0; i < n; i++) {
            y[i] = x[i] < 0.0f ? 0.0f : x[i];
        }
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        int32_t v = tflm_unary_load(in, input->type, i) - d->input_zero_point;
        v = d->output_zero_point + tflm_mbqm(v, d->multiplier, d->shift);
        tflm_unary_store(out, input->type, i, tflm_clamp(v, d->act_min, d->act_max));
    }
}

const tflm_kernel tflm_kernel_relu = {
    .name = "RELU",
    .code = 19,
    .data_bytes = sizeof(relu_data),
    .prepare = relu_prepare,
    .eval = relu_eval,
};
