/*
 * LEAKY_RELU: x for x >= 0, alpha * x below. float32, int8 and int16; the
 * quantized kernels rescale both branches to the output's quantization.
 */
#include "../kernel.h"
#include "../quant.h"
#include "unary.h"

enum { OPT_ALPHA = 0 };

typedef struct {
    float alpha;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t identity_multiplier; /* input scale / output scale */
    int32_t identity_shift;
    int32_t alpha_multiplier;    /* |alpha| * input scale / output scale */
    int32_t alpha_shift;
    int32_t alpha_negative;
} leaky_relu_data;

static tflm_status leaky_relu_prepare(tflm_interpreter *it, tflm_node *node) {
    leaky_relu_data *d = tflm_op_data(it, node);
    const tflm_tensor *input, *output;
    bool quantized;
    d->alpha = tflm_option_f32(it, node, OPT_ALPHA, 0.0f);
    tflm_status st = tflm_unary_activation_tensors(it, node, &input, &output, &quantized);
    if (st != TFLM_OK || !quantized) {
        return st;
    }
    tflm_quant qi, qo;
    st = tflm_unary_quants(it, input, output, &qi, &qo);
    if (st != TFLM_OK) {
        return st;
    }
    d->input_zero_point = qi.zero_point;
    d->output_zero_point = qo.zero_point;
    /* TFLite's double alpha ratio is negative exactly when alpha is (the scales are positive) */
    uint32_t alpha_bits;
    memcpy(&alpha_bits, &d->alpha, sizeof alpha_bits);
    d->alpha_negative = (alpha_bits >> 31) && (alpha_bits & 0x7fffffffu) - 1u < 0x7f800000u;
    int identity_shift, alpha_shift;
    if (!tflm_quantize_ratio(qi.scale, 1.0f, qo.scale, 0, &d->identity_multiplier, &identity_shift) ||
        !tflm_quantize_ratio(qi.scale, d->alpha_negative ? -d->alpha : d->alpha, qo.scale, 0, &d->alpha_multiplier,
            &alpha_shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "alpha or scale ratio out of range");
    }
    d->identity_shift = identity_shift;
    d->alpha_shift = alpha_shift;
    return TFLM_OK;
}

static void leaky_relu_eval(const tflm_interpreter *it, const tflm_node *node) {
    const leaky_relu_data *d = tflm_op_data(it, node);
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    const void *in = tflm_data(it, input);
    void *out = tflm_data(it, output);
    uint32_t n = tflm_elements(it, input);
    if (input->type == TFLM_FLOAT32) {
        const float *x = in;
        float *y = out;
        for (uint32_t i = 0; i < n; i++) {
            y[i] = x[i] > 0.0f ? x[i] : x[i] * d->alpha;
        }
        return;
    }
    int32_t lo, hi;
    tflm_type_range(output->type, &lo, &hi);
    for (uint32_t i = 0; i < n; i++) {
        int32_t x = tflm_unary_load(in, input->type, i) - d->input_zero_point;
        int32_t scaled;
        if (x >= 0) {
            scaled = tflm_mbqm(x, d->identity_multiplier, d->identity_shift);
        } else {
            /* scaled by |alpha| and negated after, so both signs round alike */
            scaled = tflm_mbqm(x, d->alpha_multiplier, d->alpha_shift);
            scaled = d->alpha_negative ? -scaled : scaled;
        }
        tflm_unary_store(out, output->type, i, tflm_clamp(d->output_zero_point + scaled, lo, hi));
    }
}

const tflm_kernel tflm_kernel_leaky_relu = {
    .name = "LEAKY_RELU",
    .code = 98,
    .options_type = 75,
    .data_bytes = sizeof(leaky_relu_data),
    .prepare = leaky_relu_prepare,
    .eval = leaky_relu_eval,
};
