/*
 * DEPTHWISE_CONV_2D: each input channel c feeds depth_multiplier output
 * channels o = c * depth_multiplier + m, each the sum over the filter window
 * of input[.., c] * filter[0, fy, fx, o], plus bias[o]. Filter [1, h, w, out_c],
 * quantized along dimension 3.
 */
#include "conv_common.h"
#include "depthwise_armv6m.h"
#include "depthwise_dot.h"
#include "depthwise_requantize.h"

enum { OPT_DEPTH_MULTIPLIER = 3, OPT_ACTIVATION = 4, OPT_DILATION_W = 5, OPT_DILATION_H = 6 };

static const tflm_conv_layout LAYOUT = {
    .input = 0, .filter = 1, .bias = 2, .channel_dim = 3, .folded_bias = 1,
    .int16_bias_types = 1u << TFLM_INT64,
};

static uint32_t dw_data_size(const tflm_interpreter *it, const tflm_node *node) {
    return tflm_conv_data_size(it, node, &LAYOUT);
}

static tflm_status dw_prepare(tflm_interpreter *it, tflm_node *node) {
    tflm_conv_data *d = tflm_op_data(it, node);
    tflm_conv_tensors t;
    tflm_conv_options o;
    tflm_status st = tflm_conv_tensors_get(it, node, &LAYOUT, &t, d);
    if (st != TFLM_OK) {
        return st;
    }
    tflm_conv_read_options(it, node, &o);
    st = tflm_conv_geometry(it, &t, d, o.padding, o.stride_h, o.stride_w,
        tflm_option_i32(it, node, OPT_DILATION_H, 1), tflm_option_i32(it, node, OPT_DILATION_W, 1), false);
    if (st != TFLM_OK) {
        return st;
    }
    if (tflm_dim(it, t.filter, 0) != 1) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "filter must have shape [1, h, w, channels]");
    }
    d->group_out_c = tflm_option_i32(it, node, OPT_DEPTH_MULTIPLIER, 0);
    if (d->group_out_c < 1 || (int64_t)d->in_c * d->group_out_c != d->out_c) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "%d input channels with depth multiplier %d do not give %d output channels",
            (int)d->in_c, (int)d->group_out_c, (int)d->out_c);
    }
    return tflm_conv_quantize(it, node, &LAYOUT, &t, d, tflm_option_u8(it, node, OPT_ACTIVATION, TFLM_ACT_NONE));
}

/* The taps of (x + x_offset) times those of w. */
static int32_t grid_dot_i8(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w) {
    int32_t acc = 0;
    for (int32_t r = 0; r < g->rows; r++, x += g->x_row, w += g->w_row) {
        const int8_t *xc = x, *wc = w;
        for (int32_t c = 0; c < g->cols; c++, xc += g->x_col, wc += g->w_col) {
            acc += (*xc + x_offset) * *wc;
        }
    }
    return acc;
}

static int64_t grid_dot_i16(const int16_t *x, const int8_t *w, const tflm_conv_grid *g) {
    int64_t acc = 0;
    for (int32_t r = 0; r < g->rows; r++, x += g->x_row, w += g->w_row) {
        const int16_t *xc = x;
        const int8_t *wc = w;
        for (int32_t c = 0; c < g->cols; c++, xc += g->x_col, wc += g->w_col) {
            acc += *xc * *wc;
        }
    }
    return acc;
}

static float grid_dot_f32(const float *x, const float *w, const tflm_conv_grid *g) {
    float total = 0.0f;
    for (int32_t r = 0; r < g->rows; r++, x += g->x_row, w += g->w_row) {
        const float *xc = x, *wc = w;
        for (int32_t c = 0; c < g->cols; c++, xc += g->x_col, wc += g->w_col) {
            total += *xc * *wc;
        }
    }
    return total;
}

/* Where one output position's taps start: input and filter offsets of tap (fy0, fx0). */
typedef struct {
    tflm_conv_grid grid;
    int32_t x0, w0;
    bool whole;
} dw_window;

static void dw_window_at(const tflm_conv_data *d, int32_t oy, int32_t ox, dw_window *dw) {
    tflm_conv_window win;
    tflm_conv_window_at(d, oy, ox, &win);
    dw->grid.rows = win.fy1 - win.fy0;
    dw->grid.cols = win.fx1 - win.fx0;
    dw->grid.x_row = d->dilation_h * d->in_w * d->in_c;
    dw->grid.x_col = d->dilation_w * d->in_c;
    dw->grid.w_row = d->filter_w * d->out_c;
    dw->grid.w_col = d->out_c;
    dw->whole = win.whole;
    if (dw->grid.rows <= 0 || dw->grid.cols <= 0) {
        /* large dilations can leave a window with no tap inside the input: bias only */
        dw->grid.rows = dw->grid.cols = dw->x0 = dw->w0 = 0;
        return;
    }
    dw->x0 = tflm_conv_input_at(d, &win, win.fy0, win.fx0);
    dw->w0 = (win.fy0 * d->filter_w + win.fx0) * d->out_c;
}

/* Input channel of output channel oc; no division for a depth multiplier of 1 (the common case). */
static int32_t input_channel(const tflm_conv_data *d, int32_t oc) {
    return d->group_out_c == 1 ? oc : oc / d->group_out_c;
}

static int8_t dw_output(const tflm_conv_int8 *k, int32_t acc, int32_t c) {
    return (int8_t)tflm_clamp(tflm_requantize_small(acc, k->multiplier[c], k->shift[c]) + k->zero_point, k->min, k->max);
}

static void dw_start4(const tflm_conv_int8 *k, bool whole, int32_t c, int32_t acc[4]) {
    for (int j = 0; j < 4; j++) {
        acc[j] = tflm_conv_int8_start(k, whole, c + j);
    }
}

static void dw_output4(const tflm_conv_int8 *k, const int32_t acc[4], int32_t c, int8_t *out) {
    for (int j = 0; j < 4; j++) {
        out[c + j] = dw_output(k, acc[j], c + j);
    }
}

/* Output channels c..c+3 at one position, from input lanes x_lane apart at x (see tflm_conv_grid_dot4_i8). */
static void dw_block4_i8(const tflm_conv_int8 *k, const tflm_conv_grid *g, bool whole, const int8_t *x, int32_t x_lane,
    const int8_t *w, int32_t c, int8_t *out) {
    int32_t acc[4];
    dw_start4(k, whole, c, acc);
    tflm_conv_grid_dot4_i8(g, x, x_lane, whole ? 0 : k->input_offset, w + c, acc);
    dw_output4(k, acc, c, out);
}

#if TFLM_DW_WORDS
/* Depth multiplier 1, channels a multiple of four: four channels a word. */
static void dw_channels_words(const tflm_conv_int8 *k, const tflm_conv_grid *g, bool whole, const int8_t *x,
    const int8_t *w, int32_t channels, int8_t *out) {
    for (int32_t c = 0; c < channels; c += 4) {
        int32_t acc[4];
        dw_start4(k, whole, c, acc);
        if (whole) {
            tflm_dw_dot4_words(g, x + c, w + c, acc);
        } else {
            tflm_dw_dot4_words_offset(g, x + c, k->input_offset, w + c, acc);
        }
        dw_output4(k, acc, c, out);
    }
}

/* Depth multiplier a multiple of four: each input serves four channels' weight word. */
static void dw_channels_shared(const tflm_conv_int8 *k, const tflm_conv_grid *g, bool whole, const int8_t *x,
    const int8_t *w, int32_t in_c, int32_t multiplier, int8_t *out) {
    for (int32_t ic = 0, c = 0; ic < in_c; ic++) {
        for (int32_t j = 0; j < multiplier; j += 4, c += 4) {
            int32_t acc[4];
            dw_start4(k, whole, c, acc);
            tflm_dw_dot4_shared(g, x + ic, whole ? 0 : k->input_offset, w + c, acc);
            dw_output4(k, acc, c, out);
        }
    }
}
#endif

/* Which loop serves the layer's output channels. */
typedef enum { DW_BYTES, DW_WORDS, DW_SHARED } dw_loop;

static dw_loop dw_loop_for(const int8_t *input, const int8_t *filter, int32_t in_c, int32_t multiplier) {
#if TFLM_DW_WORDS
    /* the window offsets keep words aligned when the channel counts are multiples of four */
    bool filter_aligned = ((uintptr_t)filter & 3u) == 0;
    if (multiplier == 1 && in_c % 4 == 0 && filter_aligned && ((uintptr_t)input & 3u) == 0) {
        return DW_WORDS;
    }
    if (multiplier % 4 == 0 && filter_aligned) {
        return DW_SHARED;
    }
#else
    (void)input, (void)filter, (void)in_c, (void)multiplier;
#endif
    return DW_BYTES;
}

/*
 * The output channels of one position. With bytes they go four at a time
 * when they read four adjacent input channels (depth multiplier 1; the last
 * block overlaps the one before when the channels are not a multiple of four)
 * or one input channel (depth multiplier a multiple of four); otherwise one
 * at a time.
 */
static void dw_channels_i8(const tflm_conv_int8 *params, const tflm_conv_grid *grid, bool whole, const int8_t *x,
    const int8_t *w, int32_t in_c, int32_t multiplier, dw_loop loop, int8_t *out) {
    /* local copies: the stores through out could alias them */
    const tflm_conv_int8 k = *params;
    const tflm_conv_grid g = *grid;
    int32_t out_c = in_c * multiplier;
#if TFLM_DW_WORDS
    if (loop == DW_WORDS) {
        dw_channels_words(&k, &g, whole, x, w, out_c, out);
        return;
    }
    if (loop == DW_SHARED) {
        dw_channels_shared(&k, &g, whole, x, w, in_c, multiplier, out);
        return;
    }
#else
    (void)loop;
#endif
    if (multiplier == 1 && out_c >= 4) {
        for (int32_t c = 0; c < out_c; c += 4) {
            int32_t at = c < out_c - 4 ? c : out_c - 4;
            dw_block4_i8(&k, &g, whole, x + at, 1, w, at, out);
        }
    } else if (multiplier % 4 == 0) {
        for (int32_t ic = 0, c = 0; ic < in_c; ic++) {
            for (int32_t j = 0; j < multiplier; j += 4, c += 4) {
                dw_block4_i8(&k, &g, whole, x + ic, 0, w, c, out);
            }
        }
    } else {
        for (int32_t ic = 0, c = 0; ic < in_c; ic++) {
            for (int32_t j = 0; j < multiplier; j++, c++) {
                int32_t acc = grid_dot_i8(&g, x + ic, whole ? 0 : k.input_offset, w + c);
                out[c] = dw_output(&k, tflm_conv_int8_start(&k, whole, c) + acc, c);
            }
        }
    }
}

static void dw_eval_int8(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int8_t *input = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    int8_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const tflm_conv_int8 k = tflm_conv_int8_params(it, node, &LAYOUT, d);
#if TFLM_DW_ARMV6M
    if (tflm_dw_armv6m_eval(d, &k, input, filter, out)) {
        return;
    }
#endif
    dw_loop loop = dw_loop_for(input, filter, d->in_c, d->group_out_c);
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++, out += d->out_c) {
                dw_window win;
                dw_window_at(d, oy, ox, &win);
                dw_channels_i8(&k, &win.grid, win.whole, in_b + win.x0, filter + win.w0, d->in_c, d->group_out_c, loop,
                    out);
            }
        }
    }
}

/*
 * Builds for size (TFLM_OPTIMIZE_SIZE): TFLite's reference loop, each tap
 * checked against the input's bounds, with none of the window arithmetic,
 * blocks or folded bias above (the same sums, about half the speed).
 */
static void dw_eval_int8_taps(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int8_t *input = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const int32_t *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int8_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = tflm_conv_multipliers(d);
    const int8_t *shift = tflm_conv_shifts(d);
    for (int32_t b = 0; b < d->batches; b++, input += d->in_h * d->in_w * d->in_c) {
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                for (int32_t ic = 0, oc = 0; ic < d->in_c; ic++) {
                    for (int32_t m = 0; m < d->group_out_c; m++, oc++) {
                        int32_t acc = bias ? bias[oc] : 0;
                        for (int32_t fy = 0; fy < d->filter_h; fy++) {
                            int32_t iy = oy * d->stride_h - d->pad_h + fy * d->dilation_h;
                            for (int32_t fx = 0; fx < d->filter_w; fx++) {
                                int32_t ix = ox * d->stride_w - d->pad_w + fx * d->dilation_w;
                                if (iy >= 0 && iy < d->in_h && ix >= 0 && ix < d->in_w) {
                                    acc += (input[(iy * d->in_w + ix) * d->in_c + ic] + d->input_offset) *
                                           filter[(fy * d->filter_w + fx) * d->out_c + oc];
                                }
                            }
                        }
                        *out++ = tflm_conv_requantize_i8(d, acc, mult[oc], shift[oc]);
                    }
                }
            }
        }
    }
}

static void dw_eval_int16(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int16_t *input = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const void *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int16_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = tflm_conv_multipliers(d);
    const int8_t *shift = tflm_conv_shifts(d);
    for (int32_t b = 0; b < d->batches; b++) {
        const int16_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                dw_window win;
                dw_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    int64_t acc = grid_dot_i16(in_b + win.x0 + input_channel(d, oc), filter + win.w0 + oc, &win.grid);
                    acc += tflm_conv_bias64(bias_t, bias, oc);
                    *out++ = tflm_conv_requantize_i16(d, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}

static void dw_eval_float(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const float *input = tflm_data(it, tflm_node_input(it, node, 0));
    const float *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const float *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    float *out = tflm_data(it, tflm_node_output(it, node, 0));
    for (int32_t b = 0; b < d->batches; b++) {
        const float *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                dw_window win;
                dw_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    float total = grid_dot_f32(in_b + win.x0 + input_channel(d, oc), filter + win.w0 + oc, &win.grid);
                    *out++ = tflm_conv_clamp_f32(d, total + (bias ? bias[oc] : 0.0f));
                }
            }
        }
    }
}

static void dw_eval(const tflm_interpreter *it, const tflm_node *node) {
    const tflm_conv_data *d = tflm_op_data(it, node);
    switch (tflm_node_input(it, node, 0)->type) {
        case TFLM_INT8: if (TFLM_OPTIMIZE_SIZE) dw_eval_int8_taps(it, node, d); else dw_eval_int8(it, node, d); break;
        case TFLM_INT16: if (TFLM_INT16_KERNELS) dw_eval_int16(it, node, d); break;
        default: if (TFLM_FLOAT_KERNELS) dw_eval_float(it, node, d); break;
    }
}

const tflm_kernel tflm_kernel_depthwise_conv_2d = {
    .name = "DEPTHWISE_CONV_2D",
    .code = 4,
    .options_type = 2,
    .data_size = dw_data_size,
    .prepare = dw_prepare,
    .eval = dw_eval,
};
