/*
 * TRANSPOSE_CONV: inputs (output_shape, filter [out_c, h, w, in_c], input,
 * optional bias). Each input pixel (y, x) spreads input[y, x, :] * filter[o,
 * fy, fx, :] onto output pixel (y * stride + fy - pad, x * stride + fx - pad).
 *
 * TFLite scatters into a zeroed accumulator the size of the output. Here each
 * output pixel gathers its contributions instead, visiting input pixels in
 * the order the scatter reaches them, so float sums round the same way, and
 * no scratch buffer is needed. The output shape is the output tensor's (as in
 * TFLite Micro); a constant output_shape input must agree with it.
 */
#include "conv_common.h"

enum { INPUT_OUTPUT_SHAPE = 0 };
enum { OPT_ACTIVATION = 3 };

static const tflm_conv_layout LAYOUT = {
    .input = 2, .filter = 1, .bias = 3, .channel_dim = 0, .folded_bias = 0,
    .int16_bias_types = (1u << TFLM_INT16) | (1u << TFLM_INT64),
};

static uint32_t tc_data_size(const tflm_interpreter *it, const tflm_node *node) {
    return tflm_conv_data_size(it, node, &LAYOUT);
}

static tflm_status check_output_shape(tflm_interpreter *it, const tflm_node *node, const tflm_tensor *output) {
    const tflm_tensor *shape = tflm_node_input(it, node, INPUT_OUTPUT_SHAPE);
    if (!shape || shape->type != TFLM_INT32 || tflm_elements(it, shape) != 4) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "output_shape must be 4 int32 values");
    }
    if (shape->flags & TFLM_TENSOR_CONSTANT) {
        const int32_t *dims = tflm_data(it, shape);
        for (int i = 0; i < 4; i++) {
            if (dims[i] != tflm_dim(it, output, i)) {
                return tflm_fail(it, TFLM_ERROR_MODEL, "output_shape[%d] is %d, the output tensor has %d",
                    i, (int)dims[i], (int)tflm_dim(it, output, i));
            }
        }
    }
    return TFLM_OK;
}

static tflm_status tc_prepare(tflm_interpreter *it, tflm_node *node) {
    tflm_conv_data *d = tflm_op_data(it, node);
    tflm_conv_tensors t;
    tflm_conv_options o;
    tflm_status st = tflm_conv_tensors_get(it, node, &LAYOUT, &t, d);
    if (st == TFLM_OK) {
        st = check_output_shape(it, node, t.output);
    }
    if (st != TFLM_OK) {
        return st;
    }
    tflm_conv_read_options(it, node, &o);
    st = tflm_conv_geometry(it, &t, d, o.padding, o.stride_h, o.stride_w, 1, 1, true);
    if (st != TFLM_OK) {
        return st;
    }
    if (tflm_dim(it, t.filter, 3) != d->in_c) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "filter has %d input channels, input has %d",
            (int)tflm_dim(it, t.filter, 3), (int)d->in_c);
    }
    return tflm_conv_quantize(it, node, &LAYOUT, &t, d, tflm_option_u8(it, node, OPT_ACTIVATION, TFLM_ACT_NONE));
}

/*
 * Input positions i whose filter tap o + pad - i * stride lies in [0, filter),
 * as i in [*first, *end).
 */
static void sources(int32_t o, int32_t pad, int32_t stride, int32_t filter, int32_t in_size, int32_t *first,
    int32_t *end) {
    int32_t reach = o + pad; /* >= 0 */
    int32_t lowest = reach - filter + 1;
    *first = lowest > 0 ? (lowest + stride - 1) / stride : 0;
    int32_t last = reach / stride + 1;
    *end = last < in_size ? last : in_size;
}

/* The input pixels one output pixel gathers from, and the filter tap each uses. */
typedef struct {
    int32_t iy0, iy1, ix0, ix1; /* input pixels [iy0, iy1) x [ix0, ix1) */
    int32_t fy0, fx0;           /* tap of (iy0, ix0); it falls by the stride per step */
} tc_window;

static void tc_window_at(const tflm_conv_data *d, int32_t oy, int32_t ox, tc_window *win) {
    sources(oy, d->pad_h, d->stride_h, d->filter_h, d->in_h, &win->iy0, &win->iy1);
    sources(ox, d->pad_w, d->stride_w, d->filter_w, d->in_w, &win->ix0, &win->ix1);
    win->fy0 = oy + d->pad_h - win->iy0 * d->stride_h;
    win->fx0 = ox + d->pad_w - win->ix0 * d->stride_w;
}

/* Offsets, in elements, of input pixel (iy, ix) within its batch and of tap (fy, fx) in one channel's filter. */
static int32_t input_at(const tflm_conv_data *d, int32_t iy, int32_t ix) {
    return (iy * d->in_w + ix) * d->in_c;
}

static int32_t filter_at(const tflm_conv_data *d, int32_t fy, int32_t fx) {
    return (fy * d->filter_w + fx) * d->in_c;
}

static void tc_eval_int8(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int8_t *input = tflm_data(it, tflm_node_input(it, node, 2));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 3);
    const int32_t *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int8_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = tflm_conv_multipliers(d);
    const int8_t *shift = tflm_conv_shifts(d);
    int32_t filter_size = d->filter_h * d->filter_w * d->in_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                tc_window win;
                tc_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    const int8_t *w = filter + oc * filter_size;
                    /* sum w * (x + offset) = sum w * x + offset * sum w */
                    int32_t acc = 0, w_sum = 0;
                    for (int32_t iy = win.iy0, fy = win.fy0; iy < win.iy1; iy++, fy -= d->stride_h) {
                        for (int32_t ix = win.ix0, fx = win.fx0; ix < win.ix1; ix++, fx -= d->stride_w) {
                            const int8_t *wt = w + filter_at(d, fy, fx);
                            acc += tflm_conv_dot_i8(in_b + input_at(d, iy, ix), wt, d->in_c);
                            w_sum += tflm_conv_sum_i8(wt, d->in_c);
                        }
                    }
                    acc += (bias ? bias[oc] : 0) + d->input_offset * w_sum;
                    *out++ = tflm_conv_requantize_i8(d, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}

static void tc_eval_int16(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int16_t *input = tflm_data(it, tflm_node_input(it, node, 2));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 3);
    const void *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int16_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = tflm_conv_multipliers(d);
    const int8_t *shift = tflm_conv_shifts(d);
    int32_t filter_size = d->filter_h * d->filter_w * d->in_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const int16_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                tc_window win;
                tc_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    const int8_t *w = filter + oc * filter_size;
                    int64_t acc = tflm_conv_bias64(bias_t, bias, oc);
                    for (int32_t iy = win.iy0, fy = win.fy0; iy < win.iy1; iy++, fy -= d->stride_h) {
                        for (int32_t ix = win.ix0, fx = win.fx0; ix < win.ix1; ix++, fx -= d->stride_w) {
                            acc += tflm_conv_dot_i16(in_b + input_at(d, iy, ix), w + filter_at(d, fy, fx), d->in_c);
                        }
                    }
                    *out++ = tflm_conv_requantize_i16(d, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}

static void tc_eval_float(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const float *input = tflm_data(it, tflm_node_input(it, node, 2));
    const float *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 3);
    const float *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    float *out = tflm_data(it, tflm_node_output(it, node, 0));
    int32_t filter_size = d->filter_h * d->filter_w * d->in_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const float *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                tc_window win;
                tc_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    const float *w = filter + oc * filter_size;
                    float total = 0.0f;
                    for (int32_t iy = win.iy0, fy = win.fy0; iy < win.iy1; iy++, fy -= d->stride_h) {
                        for (int32_t ix = win.ix0, fx = win.fx0; ix < win.ix1; ix++, fx -= d->stride_w) {
                            total = tflm_conv_dot_f32(total, in_b + input_at(d, iy, ix), w + filter_at(d, fy, fx), d->in_c);
                        }
                    }
                    *out++ = tflm_conv_clamp_f32(d, total + (bias ? bias[oc] : 0.0f));
                }
            }
        }
    }
}

static void tc_eval(const tflm_interpreter *it, const tflm_node *node) {
    const tflm_conv_data *d = tflm_op_data(it, node);
    switch (tflm_node_input(it, node, 2)->type) {
        case TFLM_INT8: tc_eval_int8(it, node, d); break;
        case TFLM_INT16: if (TFLM_INT16_KERNELS) tc_eval_int16(it, node, d); break;
        default: if (TFLM_FLOAT_KERNELS) tc_eval_float(it, node, d); break;
    }
}

const tflm_kernel tflm_kernel_transpose_conv = {
    .name = "TRANSPOSE_CONV",
    .code = 67,
    .options_type = 49,
    .data_size = tc_data_size,
    .prepare = tc_prepare,
    .eval = tc_eval,
};
