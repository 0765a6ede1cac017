/*
 * MEAN over the dims listed in a constant int32 axis tensor (negative values
 * count from the end, repeats are ignored), keep_dims or not. float32, int8
 * and int16, with TFLite Micro's arithmetic:
 *  - float32: sum in input order, then divide by the count;
 *  - int8, int16: the int32 sum minus count * input zero point, requantized
 *    by the scale ratio with 1/count folded into the multiplier (also when
 *    input and output quantization are the same).
 * Sums of no elements (a reduced dim of 0) give 0.
 */
#include <string.h>

#include "../kernel.h"
#include "../quant.h"
#include "loops.h"

enum { MEAN_ZERO, MEAN_FLOAT, MEAN_REQUANTIZE };

typedef struct {
    int32_t mode;
    int32_t count;       /* elements per mean */
    tflm_loops kept;     /* over the input, one run element per output */
    tflm_loops reduced;  /* over the input elements of one output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;  /* scale ratio / count */
    int32_t shift;
} mean_data;

static tflm_status reduced_dims(tflm_interpreter *it, const tflm_tensor *input, const tflm_tensor *axis,
    bool *reduce) {
    if (!axis || axis->type != TFLM_INT32 || !(axis->flags & TFLM_TENSOR_CONSTANT)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "axis must be a constant int32 tensor");
    }
    const int32_t *values = tflm_data(it, axis);
    for (uint32_t k = 0; k < tflm_elements(it, axis); k++) {
        int32_t a = values[k] < 0 ? values[k] + input->rank : values[k];
        if (a < 0 || a >= input->rank) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "axis %d out of range for rank %d", (int)values[k], input->rank);
        }
        reduce[a] = true;
    }
    return TFLM_OK;
}

/* The requantization, with 1/count folded into the multiplier. */
static tflm_status prepare_requantization(tflm_interpreter *it, const tflm_tensor *input, const tflm_tensor *output,
    mean_data *d) {
    tflm_quant qi, qo;
    tflm_status st = tflm_tensor_quant(it, input, &qi);
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, output, &qo);
    }
    if (st != TFLM_OK) {
        return st;
    }
    if (!qi.count || !qo.count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "quantized tensors need scales");
    }
    d->input_zero_point = qi.zero_point;
    d->output_zero_point = qo.zero_point;
    d->mode = MEAN_REQUANTIZE;
    int shift;
    if (!tflm_quantize_ratio(qi.scale, 1.0f, qo.scale, 0, &d->multiplier, &shift)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "output scale out of range");
    }
    /* As TFLite: shift by floor(log2(count)) (at most 32, keeping shift >= -31), divide by count. */
    int log2 = 0;
    while (((int64_t)1 << (log2 + 1)) <= d->count) {
        log2++;
    }
    log2 = log2 < 32 ? log2 : 32;
    log2 = log2 < 31 + shift ? log2 : 31 + shift;
    d->multiplier = (int32_t)(((int64_t)d->multiplier << log2) / d->count);
    d->shift = shift - log2;
    return TFLM_OK;
}

static tflm_status mean_prepare(tflm_interpreter *it, tflm_node *node) {
    mean_data *d = tflm_op_data(it, node);
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    if (!input || !output) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "needs input, axis and output");
    }
    if (input->type != TFLM_FLOAT32 && input->type != TFLM_INT8 && input->type != TFLM_INT16) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "type %s", tflm_type_name(input->type));
    }
    tflm_status st = tflm_expect(it, output, input->type, "output");
    bool reduce[TFLM_LOOPS_MAX] = { false };
    if (st == TFLM_OK) {
        st = reduced_dims(it, input, tflm_node_input(it, node, 1), reduce);
    }
    if (st != TFLM_OK) {
        return st;
    }
    uint32_t kept_elements = 1;
    int32_t stride = (int32_t)tflm_elements(it, input);
    d->count = 1;
    for (int i = 0; i < input->rank; i++) {
        int32_t n = tflm_dim(it, input, i);
        stride = n ? stride / n : 0;
        if (reduce[i]) {
            d->count *= n;
            tflm_loops_add(&d->reduced, n, stride);
        } else {
            kept_elements *= (uint32_t)n;
            tflm_loops_add(&d->kept, n, stride);
        }
    }
    tflm_loops_close(&d->kept);
    tflm_loops_close(&d->reduced);
    if (tflm_elements(it, output) != kept_elements) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "output has %u elements, the kept dims %u",
            (unsigned)tflm_elements(it, output), (unsigned)kept_elements);
    }
    /* keep_dims (option 0) only shapes the output, which the model gives. */
    if (d->count == 0 || kept_elements == 0) {
        d->mode = MEAN_ZERO;
        return TFLM_OK;
    }
    if (input->type == TFLM_FLOAT32) {
        d->mode = MEAN_FLOAT;
        return TFLM_OK;
    }
    return prepare_requantization(it, input, output, d);
}

/* Defines `name`, summing one output's input elements of `type` in input order into `acc_type`. */
#define MEAN_SUM(name, type, acc_type)                                          \
    static acc_type name(const type *in, const tflm_loops *reduced) {         \
        acc_type acc = 0;                                                       \
        int32_t n = reduced->count[reduced->n - 1];                             \
        int32_t step = reduced->step[reduced->n - 1];                           \
        int32_t pos[TFLM_LOOPS_MAX] = { 0 };                                    \
        int32_t offset = 0;                                                     \
        do {                                                                    \
            for (int32_t i = 0; i < n; i++) {                                   \
                acc += (acc_type)in[offset + i * step];                         \
            }                                                                   \
        } while (tflm_loops_next(reduced, pos, &offset));                       \
        return acc;                                                             \
    }

/* Integer sums wrap in 32 bits, as TFLite's int32 accumulator. */
MEAN_SUM(sum_float, float, float)
MEAN_SUM(sum_int8, int8_t, uint32_t)
MEAN_SUM(sum_int16, int16_t, uint32_t)

static int32_t mean_integer(uint32_t sum, const mean_data *d, int32_t lo, int32_t hi) {
    int32_t shifted = (int32_t)(uint32_t)((int64_t)(int32_t)sum - (int64_t)d->input_zero_point * d->count);
    int32_t v = tflm_mbqm(shifted, d->multiplier, d->shift) + d->output_zero_point;
    return tflm_clamp(v, lo, hi);
}

static void mean_eval(const tflm_interpreter *it, const tflm_node *node) {
    const mean_data *d = tflm_op_data(it, node);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    const void *in = tflm_data(it, tflm_node_input(it, node, 0));
    void *out = tflm_data(it, output);
    if (d->mode == MEAN_ZERO) {
        memset(out, 0, tflm_bytes(it, output));
        return;
    }
    int32_t lo, hi;
    tflm_type_range(output->type, &lo, &hi);
    int32_t n = d->kept.count[d->kept.n - 1];
    int32_t step = d->kept.step[d->kept.n - 1];
    int32_t pos[TFLM_LOOPS_MAX] = { 0 };
    int32_t offset = 0;
    uint32_t o = 0;
    do {
        for (int32_t i = 0; i < n; i++, o++) {
            int32_t first = offset + i * step;
            if (output->type == TFLM_FLOAT32) {
                ((float *)out)[o] = sum_float((const float *)in + first, &d->reduced) / (float)d->count;
            } else if (output->type == TFLM_INT8) {
                uint32_t sum = sum_int8((const int8_t *)in + first, &d->reduced);
                ((int8_t *)out)[o] = (int8_t)mean_integer(sum, d, lo, hi);
            } else {
                uint32_t sum = sum_int16((const int16_t *)in + first, &d->reduced);
                ((int16_t *)out)[o] = (int16_t)mean_integer(sum, d, lo, hi);
            }
        }
    } while (tflm_loops_next(&d->kept, pos, &offset));
}

const tflm_kernel tflm_kernel_mean = {
    .name = "MEAN",
    .code = 40,
    .options_type = 27,
    .data_bytes = sizeof(mean_data),
    .prepare = mean_prepare,
    .eval = mean_eval,
};
