/*
 * SOFTMAX along the last dimension: exp(beta (x - max)) / sum of those.
 * float32; int8 -> int8 or int16 in gemmlowp fixed point (outputs in Q0.8 or
 * Q0.16 counted from the type's minimum); int16 -> int16 through the
 * interpolated exp and 1 / (1 + x) tables (output in Q0.15).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "../kernel.h"
#include "../quant.h"
#include "fixedpoint.h"
#include "unary.h"

enum { OPT_BETA = 0 };

/* int8 inputs: differences to the row maximum scaled into Q5 for exp(). */
enum { DIFF_INTEGER_BITS = 5, SUM_INTEGER_BITS = 12 };

typedef struct {
    int32_t rows;
    int32_t depth;            /* the last dimension */
    float beta;
    int32_t input_multiplier; /* int8 and int16: beta * input scale, rescaled */
    int32_t input_shift;
    int32_t diff_min;         /* int8: smaller differences contribute exp() = 0 */
} softmax_data;

/* x == y for a nonzero y, by their bits: no float compare to link. */
static bool same_float(float x, float y) {
    uint32_t a, b;
    memcpy(&a, &x, sizeof a);
    memcpy(&b, &y, sizeof b);
    return a == b;
}

/* TFLite's TF_LITE_ENSURE_NEAR on the output scale, in float. */
static bool scale_near(float scale, float expected) {
    float delta = scale > expected ? scale - expected : expected - scale;
    return !(delta > 0.001f * expected);
}

static tflm_status prepare_int8(tflm_interpreter *it, softmax_data *d, const tflm_quant *qi,
    const tflm_tensor *output, const tflm_quant *qo) {
    bool int8_out = !TFLM_INT16_KERNELS || output->type == TFLM_INT8;
    bool expected = int8_out ? qo->zero_point == -128 && same_float(qo->scale, 1.0f / 256)
                             : qo->zero_point == -32768 && scale_near(qo->scale, 1.0f / 65536);
    if (!expected) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "%s SOFTMAX output needs a scale of %s and a zero point of %s",
            tflm_type_name(output->type), int8_out ? "1/256" : "1/65536", int8_out ? "-128" : "-32768");
    }
    /* beta * input scale in Q(31 - DIFF_INTEGER_BITS), above 1 (shift >= 1) */
    int shift;
    if (!tflm_quantize_ratio_greater_than_one(d->beta, qi->scale, 1.0f, 31 - DIFF_INTEGER_BITS,
            &d->input_multiplier, &shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "beta times input scale out of range");
    }
    d->input_shift = shift;
    /* the largest difference whose rescaled value stays within Q5 */
    d->diff_min = -(int32_t)(((uint32_t)((1 << DIFF_INTEGER_BITS) - 1) << (31 - DIFF_INTEGER_BITS)) >> shift);
    return TFLM_OK;
}

static tflm_status prepare_int16(tflm_interpreter *it, softmax_data *d, const tflm_quant *qi, const tflm_quant *qo) {
    if (qo->zero_point != 0 || !scale_near(qo->scale, 1.0f / 32768)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "int16 SOFTMAX output needs a scale of 1/32768 and a zero point of 0");
    }
    /* differences of [-65535, 0] map onto the exp table's [-10, 0] */
    int shift;
    if (!tflm_quantize_ratio_double_divisor(qi->scale, d->beta, 10.0 / 65535.0, &d->input_multiplier, &shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "beta times input scale out of range");
    }
    d->input_shift = shift;
    return TFLM_OK;
}

static tflm_status softmax_prepare(tflm_interpreter *it, tflm_node *node) {
    softmax_data *d = tflm_op_data(it, node);
    const tflm_tensor *input, *output;
    tflm_status st = tflm_unary_tensors(it, node, &input, &output);
    if (st != TFLM_OK) {
        return st;
    }
    if (input->rank < 1 || output->rank < 1 || tflm_dim(it, input, -1) != tflm_dim(it, output, -1)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "input and output need the same last dimension");
    }
    d->depth = tflm_dim(it, input, -1);
    d->rows = d->depth != 0; /* times the other dimensions: no division (a library call on the M0+) */
    for (int i = 0; i < input->rank - 1 && d->rows; i++) {
        d->rows *= tflm_dim(it, input, i);
    }
    d->beta = tflm_option_f32(it, node, OPT_BETA, 0.0f);
    bool int16_from_int8 = input->type == TFLM_INT8 && output->type == TFLM_INT16;
    if (!int16_from_int8 && (st = tflm_expect(it, output, input->type, "output")) != TFLM_OK) {
        return st;
    }
    if (!tflm_type_compiled(input->type) || !tflm_type_compiled(output->type) ||
        (input->type != TFLM_FLOAT32 && input->type != TFLM_INT8 && input->type != TFLM_INT16)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "no %s to %s kernel in this build", tflm_type_name(input->type),
            tflm_type_name(output->type));
    }
    if (input->type == TFLM_FLOAT32) {
        return TFLM_OK;
    }
    tflm_quant qi, qo;
    st = tflm_unary_quants(it, input, output, &qi, &qo);
    if (st != TFLM_OK) {
        return st;
    }
    return input->type == TFLM_INT16 && TFLM_INT16_KERNELS ? prepare_int16(it, d, &qi, &qo)
                                                           : prepare_int8(it, d, &qi, output, &qo);
}

static void softmax_float(const float *x, float *y, const softmax_data *d) {
    for (int32_t r = 0; r < d->rows; r++, x += d->depth, y += d->depth) {
        float max = -FLT_MAX;
        for (int32_t c = 0; c < d->depth; c++) {
            max = max < x[c] ? x[c] : max;
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < d->depth; c++) {
            y[c] = expf((x[c] - max) * d->beta);
            sum += y[c];
        }
        for (int32_t c = 0; c < d->depth; c++) {
            y[c] /= sum;
        }
    }
}

/* exp(x - max) in Q0 for an int8 difference within diff_min. */
static int32_t exp_of_int8_diff(int32_t diff, const softmax_data *d) {
    return tflm_fp_exp_on_negative_values(
        tflm_mbqm_greater_than_one(diff, d->input_multiplier, d->input_shift), DIFF_INTEGER_BITS);
}

static void softmax_int8(const int8_t *x, void *out, int out_type, const softmax_data *d) {
    int32_t out_min, out_max;
    tflm_type_range(out_type, &out_min, &out_max);
    int out_bits = out_type == TFLM_INT8 ? 8 : 16;
    for (int32_t r = 0; r < d->rows; r++, x += d->depth) {
        int32_t max = -128;
        for (int32_t c = 0; c < d->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        int32_t sum = 0; /* Q12 */
        for (int32_t c = 0; c < d->depth; c++) {
            if (x[c] - max >= d->diff_min) {
                sum += tflm_rdbpot(exp_of_int8_diff(x[c] - max, d), SUM_INTEGER_BITS); /* Q0 to Q12 */
            }
        }
        int bits_over_unit;
        int32_t reciprocal = tflm_fp_reciprocal(sum, SUM_INTEGER_BITS, &bits_over_unit);
        int exponent = bits_over_unit + 31 - out_bits;
        for (int32_t c = 0; c < d->depth; c++) {
            int32_t y = out_min;
            if (x[c] - max >= d->diff_min) {
                y = tflm_rdbpot(tflm_srdhm(reciprocal, exp_of_int8_diff(x[c] - max, d)), exponent) + out_min;
                y = tflm_clamp(y, out_min, out_max);
            }
            tflm_unary_store(out, out_type, (uint32_t)(r * d->depth + c), y);
        }
    }
}

static void softmax_int16(const int16_t *x, int16_t *y, const softmax_data *d) {
    for (int32_t r = 0; r < d->rows; r++, x += d->depth, y += d->depth) {
        int32_t max = -32768;
        for (int32_t c = 0; c < d->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        /* exp of each difference in Q0.15, kept in the output meanwhile */
        int32_t sum = 0;
        for (int32_t c = 0; c < d->depth; c++) {
            int32_t scaled = tflm_mbqm(x[c] - max, d->input_multiplier, d->input_shift);
            y[c] = tflm_fp_lut_int16((int16_t)tflm_clamp(scaled + 32767, -32768, 32767), tflm_fp_exp_lut);
            sum += y[c];
        }
        /* sum = (1 + v) 2^k with v in [0, 1): v in Q0.15 recentred on 0 indexes the reciprocal table */
        int headroom_plus_one = tflm_fp_count_leading_zeros((uint32_t)sum);
        int32_t shifted_sum = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        int16_t v = (int16_t)tflm_clamp(shifted_sum - (1 << 15) - (1 << 16), -32768, 32767);
        int32_t reciprocal = tflm_fp_lut_int16(v, tflm_fp_one_over_one_plus_x_lut);
        int right_shift = 31 - headroom_plus_one;
        for (int32_t c = 0; c < d->depth; c++) {
            int64_t scaled = ((int64_t)y[c] * reciprocal + ((int64_t)1 << (right_shift - 1))) >> right_shift;
            y[c] = (int16_t)(scaled < 0 ? 0 : (scaled > 32767 ? 32767 : scaled));
        }
    }
}

static void softmax_eval(const tflm_interpreter *it, const tflm_node *node) {
    const softmax_data *d = tflm_op_data(it, node);
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    const void *in = tflm_data(it, input);
    void *out = tflm_data(it, output);
    /* Constant conditions: the build options drop the paths prepare refuses. */
    if (input->type == TFLM_FLOAT32 && TFLM_FLOAT_KERNELS) {
        softmax_float(in, out, d);
    } else if (input->type == TFLM_INT8) {
        softmax_int8(in, out, TFLM_INT16_KERNELS ? output->type : TFLM_INT8, d);
    } else if (TFLM_INT16_KERNELS) {
        softmax_int16(in, out, d);
    }
}

const tflm_kernel tflm_kernel_softmax = {
    .name = "SOFTMAX",
    .code = 25,
    .options_type = 9,
    .data_bytes = sizeof(softmax_data),
    .prepare = softmax_prepare,
    .eval = softmax_eval,
};
