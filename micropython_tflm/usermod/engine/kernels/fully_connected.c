/*
 * FULLY_CONNECTED: output[b, o] = act(sum_d input[b, d] * weights[o, d] + bias[o]).
 * int8 (per-tensor or per-channel weights), int16 activations with int8
 * weights (16x8), and float32.
 */
#include "../kernel.h"
#include "../quant.h"
#include "dot_i8.h"
#include "fully_connected_armv6m.h"
#include "requantize.h"

enum { OPT_ACTIVATION = 0, OPT_WEIGHTS_FORMAT = 1, OPT_KEEP_NUM_DIMS = 2 };

typedef struct {
    int32_t batches;
    int32_t depth;          /* accumulation depth */
    int32_t units;          /* output channels */
    int32_t input_offset;   /* -input zero point */
    int32_t weights_offset; /* -weights zero point */
    int32_t output_offset;
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
    int32_t per_channel;    /* int32 multipliers[units] and int8 shifts[units] follow */
    int32_t multiplier;
    int32_t shift;
} fc_data;

/* Per-channel weights need a multiplier and a shift per unit; per-tensor none. */
static uint32_t fc_data_size(const tflm_interpreter *it, const tflm_node *node) {
    const tflm_tensor *weights = tflm_node_input(it, node, 1);
    if (!weights || weights->rank != 2 || tflm_quant_scale_count(it, weights) <= 1) {
        return (uint32_t)sizeof(fc_data);
    }
    return (uint32_t)sizeof(fc_data) + 5u * (uint32_t)tflm_dim(it, weights, 0);
}

static int32_t *fc_multipliers(const fc_data *d) {
    return (int32_t *)(uintptr_t)(d + 1);
}

static int8_t *fc_shifts(const fc_data *d) {
    return (int8_t *)(fc_multipliers(d) + d->units);
}

static tflm_status fc_prepare(tflm_interpreter *it, tflm_node *node) {
    fc_data *d = tflm_op_data(it, node);
    tflm_tensor *input = tflm_node_input(it, node, 0);
    tflm_tensor *weights = tflm_node_input(it, node, 1);
    tflm_tensor *bias = tflm_node_input(it, node, 2);
    tflm_tensor *output = tflm_node_output(it, node, 0);
    if (!input || !weights || !output) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "needs input, weights and output");
    }
    if (tflm_option_u8(it, node, OPT_WEIGHTS_FORMAT, 0) != 0) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "shuffled weights format is not supported");
    }
    if (weights->rank != 2 || !(weights->flags & TFLM_TENSOR_CONSTANT)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "weights must be a constant 2-D tensor");
    }
    d->units = tflm_dim(it, weights, 0);
    d->depth = tflm_dim(it, weights, 1);
    uint32_t in_elems = tflm_elements(it, input), remainder = 1;
    if (d->depth > 0) {
        d->batches = (int32_t)tflm_udiv(in_elems, (uint32_t)d->depth, &remainder);
    }
    if (remainder != 0) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "input of %u elements does not divide into rows of %d",
            (unsigned)in_elems, (int)d->depth);
    }
    if (tflm_elements(it, output) != (uint32_t)d->batches * (uint32_t)d->units) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "output has %u elements, expected %d x %d",
            (unsigned)tflm_elements(it, output), (int)d->batches, (int)d->units);
    }
    if (bias && tflm_elements(it, bias) != (uint32_t)d->units) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "bias has %u elements, expected %d",
            (unsigned)tflm_elements(it, bias), (int)d->units);
    }
    int act = tflm_option_u8(it, node, OPT_ACTIVATION, TFLM_ACT_NONE);

    if (!tflm_type_compiled(input->type)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "input type %s", tflm_type_name(input->type));
    }
    if (TFLM_FLOAT_KERNELS && input->type == TFLM_FLOAT32) { /* else refused above */
        tflm_status st = tflm_expect(it, weights, TFLM_FLOAT32, "weights");
        if (st == TFLM_OK && bias) {
            st = tflm_expect(it, bias, TFLM_FLOAT32, "bias");
        }
        if (st == TFLM_OK) {
            st = tflm_expect(it, output, TFLM_FLOAT32, "output");
        }
        tflm_activation_range_float(act, &d->act_min_f, &d->act_max_f);
        return st;
    }
    if (input->type != TFLM_INT8 && input->type != TFLM_INT16) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "input type %s", tflm_type_name(input->type));
    }
    int bias_type = input->type == TFLM_INT8 ? TFLM_INT32 : TFLM_INT64;
    tflm_status st = tflm_expect(it, weights, TFLM_INT8, "weights");
    if (st == TFLM_OK && bias) {
        st = tflm_expect(it, bias, bias_type, "bias");
    }
    if (st == TFLM_OK) {
        st = tflm_expect(it, output, input->type, "output");
    }
    tflm_quant qi, qw, qo;
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, input, &qi);
    }
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, weights, &qw);
    }
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, output, &qo);
    }
    if (st != TFLM_OK) {
        return st;
    }
    if (!qi.count || !qw.count || !qo.count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "quantized tensors need scales");
    }
    if (qw.count != 1 && (qw.count != (uint32_t)d->units || qw.quantized_dim != 0)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "weights have %u scales for %d units", (unsigned)qw.count, (int)d->units);
    }
    d->input_offset = -qi.zero_point;
    d->weights_offset = -qw.zero_point;
    d->output_offset = qo.zero_point;
    if (input->type == TFLM_INT16 && (qi.zero_point != 0 || qo.zero_point != 0)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "int16 activations need zero points of 0");
    }
    tflm_activation_range_quantized(act, output->type, qo.scale, qo.zero_point, &d->act_min, &d->act_max);
    if (qw.count == 1) {
        /* TFLite multiplies the two scales in float, then divides in double. */
        int shift;
        bool ok = tflm_quantize_ratio_float_product(qi.scale, qw.scale, qo.scale, 0, &d->multiplier, &shift);
        d->shift = shift;
        return ok ? TFLM_OK : tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "output scale out of range");
    }
    d->per_channel = 1;
    int32_t *mult = fc_multipliers(d);
    int8_t *shifts = fc_shifts(d);
    for (int32_t o = 0; o < d->units; o++) {
        int shift;
        if (!tflm_quantize_ratio(qi.scale, qw.scales[o], qo.scale, 0, &mult[o], &shift)) {
            return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "output scale of unit %d out of range", (int)o);
        }
        shifts[o] = (int8_t)shift;
    }
    return TFLM_OK;
}

static void fc_eval_float(const tflm_interpreter *it, const tflm_node *node, const fc_data *d) {
    const float *in = tflm_data(it, tflm_node_input(it, node, 0));
    const float *w = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const float *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    float *out = tflm_data(it, tflm_node_output(it, node, 0));
    for (int32_t b = 0; b < d->batches; b++) {
        const float *row = in + b * d->depth;
        for (int32_t o = 0; o < d->units; o++) {
            const float *wr = w + o * d->depth;
            float total = 0.0f;
            for (int32_t k = 0; k < d->depth; k++) {
                total += row[k] * wr[k];
            }
            total += bias ? bias[o] : 0.0f;
            out[b * d->units + o] = total < d->act_min_f ? d->act_min_f : (total > d->act_max_f ? d->act_max_f : total);
        }
    }
}

/* Units a block: four share each input load; builds for size take one at a time. */
enum { FC_BLOCK = TFLM_OPTIMIZE_SIZE ? 1 : 4 };

/*
 * sum (x + xo)(w + wo) = sum (x + xo) * w + wo * sum (x + xo): units go
 * FC_BLOCK at a time (a last block of fewer repeats its last unit), and the
 * second term is one sum per batch.
 */
static void fc_eval_int8(const tflm_interpreter *it, const tflm_node *node, const fc_data *d) {
    const int8_t *in = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *w = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const int32_t *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int8_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = fc_multipliers(d);
    const int8_t *shifts = fc_shifts(d);
    /* locals: the stores through out could alias d */
    int32_t depth = d->depth, units = d->units, input_offset = d->input_offset, weights_offset = d->weights_offset;
    int32_t output_offset = d->output_offset, act_min = d->act_min, act_max = d->act_max;
    bool per_channel = d->per_channel != 0;
    int32_t multiplier = d->multiplier, shift = d->shift;
    for (int32_t b = 0; b < d->batches; b++, in += depth, out += units) {
        int32_t row_term = weights_offset ? weights_offset * (tflm_sum_i8(in, depth) + depth * input_offset) : 0;
        for (int32_t o = 0; o < units; o += FC_BLOCK) {
            int32_t unit[4];
            const int8_t *wr[4];
            int32_t acc[4];
            for (int32_t j = 0; j < FC_BLOCK; j++) {
                unit[j] = o + j < units ? o + j : units - 1;
                wr[j] = w + unit[j] * depth;
                acc[j] = row_term + (bias ? bias[unit[j]] : 0);
            }
            if (FC_BLOCK == 4) {
#if TFLM_FC_ARMV6M
                tflm_fc_dot4_armv6m(in, input_offset, wr, depth, acc);
#else
                tflm_dot4_i8(in, input_offset, wr, depth, acc);
#endif
            } else {
                for (int32_t k = 0; k < depth; k++) {
                    acc[0] += (in[k] + input_offset) * wr[0][k];
                }
            }
            for (int32_t j = 0; j < FC_BLOCK; j++) {
                int32_t u = unit[j];
                int32_t v = tflm_requantize(acc[j], per_channel ? mult[u] : multiplier, per_channel ? shifts[u] : shift);
                out[u] = (int8_t)tflm_clamp(v + output_offset, act_min, act_max);
            }
        }
    }
}

static void fc_eval_int16(const tflm_interpreter *it, const tflm_node *node, const fc_data *d) {
    const int16_t *in = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *w = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const int64_t *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int16_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = fc_multipliers(d);
    for (int32_t b = 0; b < d->batches; b++) {
        const int16_t *row = in + b * d->depth;
        for (int32_t o = 0; o < d->units; o++) {
            const int8_t *wr = w + o * d->depth;
            int64_t acc = 0;
            for (int32_t k = 0; k < d->depth; k++) {
                acc += (int64_t)row[k] * (wr[k] + d->weights_offset);
            }
            if (bias) {
                int64_t bv;
                memcpy(&bv, bias + o, sizeof bv); /* int64 bias may be only 4-byte aligned */
                acc += bv;
            }
            int32_t m = d->per_channel ? mult[o] : d->multiplier;
            int s = d->per_channel ? fc_shifts(d)[o] : d->shift;
            int32_t v = tflm_mbqm64(acc, m, s);
            out[b * d->units + o] = (int16_t)tflm_clamp(v, d->act_min, d->act_max);
        }
    }
}

static void fc_eval(const tflm_interpreter *it, const tflm_node *node) {
    const fc_data *d = tflm_op_data(it, node);
    switch (tflm_node_input(it, node, 0)->type) {
        case TFLM_FLOAT32: if (TFLM_FLOAT_KERNELS) fc_eval_float(it, node, d); break;
        case TFLM_INT8: fc_eval_int8(it, node, d); break;
        default: if (TFLM_INT16_KERNELS) fc_eval_int16(it, node, d); break;
    }
}

const tflm_kernel tflm_kernel_fully_connected = {
    .name = "FULLY_CONNECTED",
    .code = 9,
    .options_type = 8,
    .data_size = fc_data_size,
    .prepare = fc_prepare,
    .eval = fc_eval,
};
