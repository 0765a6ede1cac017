#include "binary.h"

enum { OPT_ACTIVATION = 0 };

/* Dim `i` of `t` with its shape aligned at the end against `rank` dims (1 before its first). */
static int32_t aligned_dim(const tflm_interpreter *it, const tflm_tensor *t, int rank, int i) {
    int j = i - (rank - t->rank);
    return j < 0 ? 1 : tflm_dim(it, t, j);
}

static tflm_status fold_shapes(tflm_interpreter *it, const tflm_tensor *in[2], const tflm_tensor *out,
    tflm_binary_data *d) {
    int rank = out->rank;
    if (in[0]->rank > rank || in[1]->rank > rank) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "inputs have more dims than the output");
    }
    int32_t stride[2] = { 1, 1 };
    int prev_class = -1;
    d->loops = 0;
    /* Innermost dim first; loops are filled from the back and moved to the front at the end. */
    for (int i = rank - 1; i >= 0; i--) {
        int32_t n = tflm_dim(it, out, i);
        int32_t dim[2] = { aligned_dim(it, in[0], rank, i), aligned_dim(it, in[1], rank, i) };
        for (int k = 0; k < 2; k++) {
            if (dim[k] != n && dim[k] != 1) {
                return tflm_fail(it, TFLM_ERROR_MODEL, "input %d dim %d is %d, the output's is %d",
                    k, i, (int)dim[k], (int)n);
            }
        }
        if (n != 1 && dim[0] != n && dim[1] != n) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "output dim %d is %d, neither input has it", i, (int)n);
        }
        if (n == 1) {
            continue;
        }
        /* class: which inputs walk this dim (bit k set: input k does) */
        int cls = (dim[0] == n) | ((dim[1] == n) << 1);
        int slot = TFLM_BINARY_MAX_LOOPS - d->loops;
        if (cls == prev_class) {
            d->extent[slot] *= n;
        } else {
            slot--;
            d->loops++;
            d->extent[slot] = n;
            for (int k = 0; k < 2; k++) {
                d->step[k][slot] = (cls >> k) & 1 ? stride[k] : 0;
            }
            prev_class = cls;
        }
        for (int k = 0; k < 2; k++) {
            stride[k] *= dim[k];
        }
    }
    if (d->loops == 0) {
        /* every dim is 1: a single element */
        d->loops = 1;
        d->extent[TFLM_BINARY_MAX_LOOPS - 1] = 1;
    }
    int first = TFLM_BINARY_MAX_LOOPS - d->loops;
    for (int l = 0; l < d->loops; l++) {
        d->extent[l] = d->extent[first + l];
        d->step[0][l] = d->step[0][first + l];
        d->step[1][l] = d->step[1][first + l];
    }
    return TFLM_OK;
}

tflm_status tflm_binary_prepare(tflm_interpreter *it, tflm_node *node, tflm_binary_data *d, tflm_binary_quant *q) {
    const tflm_tensor *in[2] = { tflm_node_input(it, node, 0), tflm_node_input(it, node, 1) };
    const tflm_tensor *out = tflm_node_output(it, node, 0);
    if (!in[0] || !in[1] || !out) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "needs two inputs and an output");
    }
    if (out->type != TFLM_FLOAT32 && out->type != TFLM_INT8 && out->type != TFLM_INT16) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "type %s", tflm_type_name(out->type));
    }
    tflm_status st = tflm_expect(it, in[0], out->type, "input 0");
    if (st == TFLM_OK) {
        st = tflm_expect(it, in[1], out->type, "input 1");
    }
    if (st == TFLM_OK) {
        st = fold_shapes(it, in, out, d);
    }
    if (st != TFLM_OK) {
        return st;
    }
    int act = tflm_option_u8(it, node, OPT_ACTIVATION, TFLM_ACT_NONE);
    if (out->type == TFLM_FLOAT32) {
        tflm_activation_range_float(act, &d->act_min_f, &d->act_max_f);
        return TFLM_OK;
    }
    st = tflm_tensor_quant(it, in[0], &q->input[0]);
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, in[1], &q->input[1]);
    }
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, out, &q->output);
    }
    if (st != TFLM_OK) {
        return st;
    }
    if (!q->input[0].count || !q->input[1].count || !q->output.count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "quantized tensors need scales");
    }
    d->input_offset[0] = -q->input[0].zero_point;
    d->input_offset[1] = -q->input[1].zero_point;
    d->output_offset = q->output.zero_point;
    tflm_activation_range_quantized(act, out->type, q->output.scale, q->output.zero_point, &d->act_min, &d->act_max);
    return TFLM_OK;
}

void tflm_binary_eval(const tflm_interpreter *it, const tflm_node *node, const tflm_binary_rows *rows) {
    const tflm_binary_data *d = tflm_op_data(it, node);
    const tflm_tensor *out_t = tflm_node_output(it, node, 0);
    tflm_binary_row row = out_t->type == TFLM_FLOAT32 ? rows->float32
                          : out_t->type == TFLM_INT8  ? rows->int8
                                                      : rows->int16;
    const uint8_t *a = tflm_data(it, tflm_node_input(it, node, 0));
    const uint8_t *b = tflm_data(it, tflm_node_input(it, node, 1));
    uint8_t *out = tflm_data(it, out_t);
    uint32_t size = out_t->elem_size;
    int inner = d->loops - 1;
    int32_t count = d->extent[inner];
    int32_t pos[TFLM_BINARY_MAX_LOOPS] = { 0 };
    for (int l = 0; l < d->loops; l++) {
        if (d->extent[l] == 0) {
            return; /* empty output */
        }
    }
    for (;;) {
        row(a, d->step[0][inner], b, d->step[1][inner], out, count, d);
        out += (uint32_t)count * size;
        /* Odometer over the outer loops, moving both input pointers along. */
        int l = inner - 1;
        for (; l >= 0; l--) {
            a += (int32_t)size * d->step[0][l];
            b += (int32_t)size * d->step[1][l];
            if (++pos[l] < d->extent[l]) {
                break;
            }
            a -= (int32_t)size * d->step[0][l] * d->extent[l];
            b -= (int32_t)size * d->step[1][l] * d->extent[l];
            pos[l] = 0;
        }
        if (l < 0) {
            return;
        }
    }
}

tflm_status tflm_addsub_prepare(tflm_interpreter *it, tflm_node *node) {
    tflm_binary_data *d = tflm_op_data(it, node);
    tflm_binary_quant q;
    tflm_status st = tflm_binary_prepare(it, node, d, &q);
    int type = tflm_node_output(it, node, 0)->type;
    if (st != TFLM_OK || type == TFLM_FLOAT32) {
        return st;
    }
    /* 65535 << 15 and 255 << 20 both stay below 2^31. */
    d->left_shift = type == TFLM_INT16 ? 15 : 20;
    /* TFLite Micro works in double for both ADD and SUB: input / (2 max) and 2 max / (2^left_shift output);
     * the powers of two go into the exponent (exact: these quotients are far from double's subnormals). */
    uint32_t bits[2];
    memcpy(bits, &q.input[0].scale, sizeof bits[0]);
    memcpy(bits + 1, &q.input[1].scale, sizeof bits[1]);
    float max = bits[0] > bits[1] ? q.input[0].scale : q.input[1].scale; /* positive: ordered as their bits */
    int shift[3] = { 0, 0, 0 };
    /* TFLite requires every multiplier below 1. */
    if (!tflm_quantize_ratio(q.input[0].scale, 1.0f, max, -1, &d->input_multiplier[0], &shift[0]) || shift[0] > 0 ||
        !tflm_quantize_ratio(q.input[1].scale, 1.0f, max, -1, &d->input_multiplier[1], &shift[1]) || shift[1] > 0 ||
        !tflm_quantize_ratio(max, 1.0f, q.output.scale, 1 - d->left_shift, &d->output_multiplier, &shift[2]) ||
        shift[2] > 0) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "output scale too small for the input scales");
    }
    d->input_shift[0] = shift[0];
    d->input_shift[1] = shift[1];
    d->output_shift = shift[2];
    return TFLM_OK;
}
