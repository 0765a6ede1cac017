/*
 * CONV_2D: output[b, y, x, o] = act(bias[o] + sum over the filter window and
 * the group's input channels of input * filter[o]), with SAME or VALID
 * padding, strides and dilations. Grouped convolution when the filter has
 * fewer input channels than the input.
 */
#include "conv_common.h"
#include "conv_pack_armv6m.h"
#include "fully_connected_armv6m.h"

enum { OPT_ACTIVATION = 3, OPT_DILATION_W = 4, OPT_DILATION_H = 5 };

static const tflm_conv_layout LAYOUT = {
    .input = 0, .filter = 1, .bias = 2, .channel_dim = 0, .folded_bias = 1,
    .int16_bias_types = (1u << TFLM_INT32) | (1u << TFLM_INT64),
};

static uint32_t conv_data_size(const tflm_interpreter *it, const tflm_node *node) {
    return tflm_conv_data_size(it, node, &LAYOUT);
}

/* Window values per output position (the filter's taps) and positions per tflm_conv_gemm4_i8 pass. */
static int32_t gemm_taps(const tflm_conv_data *d) {
    return d->filter_h * d->filter_w * d->filter_c;
}

/* The taps rounded up to tflm_conv_gemm4_i8's fours; the extra ones have weights of 0. */
static int32_t gemm_taps4(const tflm_conv_data *d) {
    return (gemm_taps(d) + 3) & ~3;
}

enum { GEMM_POSITIONS = 4, GEMM_MAX_TAPS = 2048, GEMM_MAX_PADDED_FILTER = 2048 };

/* Filter bytes copied with each row padded to gemm_taps4 (0: the filter is read in place). */
static uint32_t gemm_padded_filter_bytes(const tflm_conv_data *d) {
    return gemm_taps(d) % 4 != 0 ? (uint32_t)(d->out_c * gemm_taps4(d)) : 0u;
}

/* The folded bias, the padded filter, then the packed windows: 8 bytes a tap. */
static uint32_t gemm_scratch_bytes(const tflm_conv_data *d) {
    return tflm_conv_folded_bias_bytes(d) + gemm_padded_filter_bytes(d) + 8u * (uint32_t)gemm_taps4(d);
}

/*
 * What tflm_conv_gemm4_i8 needs: no groups, weights in [-127, 127]
 * (TFLite's int8 weights are; a -128 could overflow a 16-bit lane), and
 * 4-byte aligned rows of taps in fours: the filter's own, or a copy padded
 * with zeros when it is small (first layers of 3 input channels, k = 27).
 * Model properties only, the same on every board, as is the scratch asked for.
 */
static bool gemm_fits(const tflm_interpreter *it, const tflm_tensor *filter, const tflm_conv_data *d) {
    int32_t taps = gemm_taps(d);
    const int8_t *w = tflm_data(it, filter);
    if (d->filter_c != d->in_c || taps > GEMM_MAX_TAPS || gemm_padded_filter_bytes(d) > GEMM_MAX_PADDED_FILTER ||
        (taps % 4 == 0 && (uintptr_t)w % 4 != 0)) {
        return false;
    }
    uint32_t count = tflm_elements(it, filter);
    for (uint32_t i = 0; i < count; i++) {
        if (w[i] == INT8_MIN) {
            return false;
        }
    }
    return true;
}

static tflm_status conv_prepare(tflm_interpreter *it, tflm_node *node) {
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
    d->filter_c = tflm_dim(it, t.filter, 3);
    if (d->filter_c < 1 || d->in_c % d->filter_c != 0 || d->out_c % (d->in_c / d->filter_c) != 0) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "filter of %d channels does not group %d input into %d output channels",
            (int)d->filter_c, (int)d->in_c, (int)d->out_c);
    }
    d->group_out_c = d->out_c / (d->in_c / d->filter_c);
    /* TFLite's 16x8 kernel sums in int32 when the bias is int32. */
    d->narrow_accumulator = t.input->type == TFLM_INT16 && t.bias && t.bias->type == TFLM_INT32;
    st = tflm_conv_quantize(it, node, &LAYOUT, &t, d, tflm_option_u8(it, node, OPT_ACTIVATION, TFLM_ACT_NONE));
    if (st != TFLM_OK || t.input->type != TFLM_INT8 || !gemm_fits(it, t.filter, d)) {
        return st;
    }
    /* Every target asks for the same scratch, so that a model needs the same arena on every board. */
    d->gemm = 1;
    return tflm_request_scratch(it, node, gemm_scratch_bytes(d));
}

/* Offset, in elements, of tap (fy, fx) in one output channel's filter. */
static int32_t filter_at(const tflm_conv_data *d, int32_t fy, int32_t fx) {
    return (fy * d->filter_w + fx) * d->filter_c;
}

/* First input channel of output channel oc's group; no division when ungrouped (the common case). */
static int32_t group_input(const tflm_conv_data *d, int32_t oc) {
    return d->filter_c == d->in_c ? 0 : oc / d->group_out_c * d->filter_c;
}

static void conv_runs_at(const tflm_conv_data *d, int32_t oy, int32_t ox, tflm_conv_runs *t) {
    tflm_conv_window win;
    tflm_conv_window_at(d, oy, ox, &win);
    int32_t cols = win.fx1 - win.fx0;
    bool adjacent = cols == 1 || (d->dilation_w == 1 && d->filter_c == d->in_c);
    t->whole = win.whole;
    t->rows = win.fy1 - win.fy0;
    t->runs = adjacent ? 1 : cols;
    t->run_len = adjacent ? cols * d->filter_c : d->filter_c;
    t->x_run = d->dilation_w * d->in_c;
    t->w_run = d->filter_c;
    t->x_row = d->dilation_h * d->in_w * d->in_c;
    t->w_row = d->filter_w * d->filter_c;
    if (t->rows <= 0 || cols <= 0) {
        /* large dilations can leave a window with no tap inside the input: bias only */
        t->rows = t->x0 = t->w0 = 0;
        return;
    }
    t->x0 = tflm_conv_input_at(d, &win, win.fy0, win.fx0);
    t->w0 = filter_at(d, win.fy0, win.fx0);
}

/*
 * Output channels [first, first + count) (one group) of one position, four
 * at a time. A group of fewer than four channels repeats its last one in the
 * missing lanes; in a larger group whose size is not a multiple of four the
 * last block overlaps the one before. The lanes are spelled out: loops over
 * them cost compilers that do not unroll them 7% more instructions.
 */
static void conv_channels_i8(const tflm_conv_int8 *params, const tflm_conv_runs *taps, const int8_t *x,
    const int8_t *filter, int32_t filter_size, int32_t first, int32_t count, int8_t *out) {
    /* local copies: the stores through out could alias them */
    const tflm_conv_int8 k = *params;
    const tflm_conv_runs t = *taps;
    int32_t x_offset = t.whole ? 0 : k.input_offset;
    int32_t last = first + (count > 4 ? count - 4 : 0);
    int32_t l1 = count > 1 ? 1 : 0, l2 = count > 2 ? 2 : l1, l3 = count > 3 ? 3 : l2; /* lane channels from the first */
    for (int32_t c = first; c < first + count; c += 4) {
        int32_t c0 = c < last ? c : last, c1 = c0 + l1, c2 = c0 + l2, c3 = c0 + l3;
        const int8_t *const w[4] = {
            filter + c0 * filter_size, filter + c1 * filter_size, filter + c2 * filter_size, filter + c3 * filter_size,
        };
        int32_t acc[4] = {
            tflm_conv_int8_start(&k, t.whole, c0), tflm_conv_int8_start(&k, t.whole, c1),
            tflm_conv_int8_start(&k, t.whole, c2), tflm_conv_int8_start(&k, t.whole, c3),
        };
        tflm_conv_runs_dot4_i8(&t, x, x_offset, w, acc);
        out[c0] = tflm_conv_int8_output(&k, acc[0], c0);
        out[c1] = tflm_conv_int8_output(&k, acc[1], c1);
        out[c2] = tflm_conv_int8_output(&k, acc[2], c2);
        out[c3] = tflm_conv_int8_output(&k, acc[3], c3);
    }
}

#if TFLM_CONV_GEMM
/*
 * n values of position j's window from tap i on into x, in the layout
 * tflm_conv_gemm4_i8 reads (conv_common.h): from src, or fill (taps in the
 * padding) when src is NULL. With 16-bit lanes the low halves (even j) are
 * written first and the high halves added.
 */
static void gemm_pack_run(void *x, int32_t taps, int32_t j, int32_t i, const int8_t *src, int32_t fill, int32_t n) {
#if TFLM_CONV_LANES
    (void)taps; /* the planes' size */
    uint32_t *v = (uint32_t *)x + 2 * i + (j >> 1);
    if (!(j & 1)) {
        for (int32_t t = 0; t < n; t++) {
            v[2 * t] = (uint32_t)(src ? src[t] : fill);
        }
    } else {
        for (int32_t t = 0; t < n; t++) {
            v[2 * t] += (uint32_t)(src ? src[t] : fill) << 16;
        }
    }
#else
    int16_t *v = (int16_t *)x + j * taps + i;
    for (int32_t t = 0; t < n; t++) {
        v[t] = (int16_t)(src ? src[t] : fill);
    }
#endif
}

/*
 * The window of output position (oy, ox) as position j of x (see
 * gemm_pack_run), the taps in the padding as the input zero point (adding
 * input_offset makes them 0, as TFLite's skipped taps). Without dilation a
 * window row's columns inside the input are one run.
 */
static void gemm_pack_window(const tflm_conv_data *d, const int8_t *in_b, int32_t oy, int32_t ox, void *x, int32_t j) {
    tflm_conv_window win;
    tflm_conv_window_at(d, oy, ox, &win);
    int32_t c = d->in_c, row = d->filter_w * c, taps = gemm_taps4(d), fill = -d->input_offset;
    int32_t inside = (win.fx1 - win.fx0) * c, before = win.fx0 * c, after = row - before - inside;
    for (int32_t fy = 0, i = 0; fy < d->filter_h; fy++, i += row) {
        if (fy < win.fy0 || fy >= win.fy1 || inside <= 0) {
            gemm_pack_run(x, taps, j, i, NULL, fill, row);
            continue;
        }
        gemm_pack_run(x, taps, j, i, NULL, fill, before);
        if (d->dilation_w == 1) {
            gemm_pack_run(x, taps, j, i + before, in_b + tflm_conv_input_at(d, &win, fy, win.fx0), fill, inside);
        } else {
            for (int32_t fx = win.fx0; fx < win.fx1; fx++) {
                gemm_pack_run(x, taps, j, i + fx * c, in_b + tflm_conv_input_at(d, &win, fy, fx), fill, c);
            }
        }
        gemm_pack_run(x, taps, j, i + before + inside, NULL, fill, after);
    }
}

/*
 * n taps from tap i on of positions j and j + 1 (j even) from a and b: each
 * word's two lanes built at once (gemm_pack_run writes them in two passes).
 */
static void gemm_pack_pair(void *x, int32_t taps, int32_t j, int32_t i, const int8_t *a, const int8_t *b, int32_t n) {
#if TFLM_CONV_LANES
    (void)taps;
    uint32_t *v = (uint32_t *)x + 2 * i + (j >> 1);
    for (int32_t t = 0; t < n; t++) {
        v[2 * t] = (uint32_t)(int32_t)a[t] + ((uint32_t)(int32_t)b[t] << 16);
    }
#else
    int16_t *v = (int16_t *)x + j * taps + i;
    for (int32_t t = 0; t < n; t++) {
        v[t] = a[t];
        v[taps + t] = b[t];
    }
#endif
}

/*
 * The windows of positions j and j + 1 (j even) at (y[j], x_at[j]) and
 * after: without padding or dilated columns a row at a time with
 * gemm_pack_pair, else each with gemm_pack_window.
 */
static void gemm_pack_windows2(const tflm_conv_data *d, const int8_t *in_b, const int32_t *y, const int32_t *x_at,
    void *x, int32_t j) {
    tflm_conv_window a, b;
    tflm_conv_window_at(d, y[j], x_at[j], &a);
    tflm_conv_window_at(d, y[j + 1], x_at[j + 1], &b);
    if (!a.whole || !b.whole || d->dilation_w != 1) {
        gemm_pack_window(d, in_b, y[j], x_at[j], x, j);
        gemm_pack_window(d, in_b, y[j + 1], x_at[j + 1], x, j + 1);
        return;
    }
    int32_t row = d->filter_w * d->in_c, step = d->dilation_h * d->in_w * d->in_c, taps = gemm_taps4(d);
    const int8_t *src_a = in_b + tflm_conv_input_at(d, &a, 0, 0), *src_b = in_b + tflm_conv_input_at(d, &b, 0, 0);
    for (int32_t i = 0; i < row * d->filter_h; i += row, src_a += step, src_b += step) {
        gemm_pack_pair(x, taps, j, i, src_a, src_b, row);
    }
}

/*
 * Whether four positions (a full block) share an output row and their
 * windows are whole and undilated across, win then the first's: true of most
 * of a layer's blocks, whose windows then start stride_w * in_c bytes apart.
 */
static bool gemm_row_whole4(const tflm_conv_data *d, const int32_t *y, const int32_t *x_at, tflm_conv_window *win) {
    if (y[0] != y[GEMM_POSITIONS - 1] || d->dilation_w != 1) {
        return false;
    }
    tflm_conv_window_at(d, y[0], x_at[0], win);
    return win->whole && win->ix0 + (GEMM_POSITIONS - 1) * d->stride_w + d->filter_w <= d->in_w;
}

/* The windows of a block that gemm_row_whole4 accepts, a row of taps of the four at a time. */
static void gemm_pack_row4(const tflm_conv_data *d, const int8_t *in_b, const tflm_conv_window *win, void *x) {
    int32_t row = d->filter_w * d->in_c, across = d->stride_w * d->in_c, taps = gemm_taps4(d);
    for (int32_t fy = 0, i = 0; fy < d->filter_h; fy++, i += row) {
        const int8_t *src = in_b + tflm_conv_input_at(d, win, fy, 0);
#if TFLM_CONV_PACK_ARMV6M
        (void)taps;
        tflm_conv_pack_quad_armv6m((uint32_t *)x + 2 * i, src, across, row);
#else
        gemm_pack_pair(x, taps, 0, i, src, src + across, row);
        gemm_pack_pair(x, taps, 2, i, src + 2 * across, src + 3 * across, row);
#endif
    }
}

/*
 * Pointwise layers (1x1 filter, stride 1: position p's window is input pixel
 * p's channels, no padding): four pixels' n channels packed in one pass, src
 * the first and the others `step` bytes apart. A word of two lanes built at
 * once, no read-modify-write.
 */
static void gemm_pack_pixels(void *x, int32_t taps, const int8_t *src, int32_t step, int32_t n) {
    const int8_t *s1 = src + step, *s2 = s1 + step, *s3 = s2 + step;
#if TFLM_CONV_LANES
    (void)taps;
    uint32_t *v = (uint32_t *)x;
#if TFLM_CONV_PACK_ARMV6M
    if (n % 4 == 0 && ((uintptr_t)src | (uintptr_t)step) % 4 == 0) {
        tflm_conv_pack_pair_armv6m(v, src, s1, n);
        tflm_conv_pack_pair_armv6m(v + 1, s2, s3, n);
        return;
    }
#endif
    for (int32_t t = 0; t < n; t++, v += 2) {
        v[0] = (uint32_t)(int32_t)src[t] + ((uint32_t)(int32_t)s1[t] << 16);
        v[1] = (uint32_t)(int32_t)s2[t] + ((uint32_t)(int32_t)s3[t] << 16);
    }
#else
    int16_t *v = (int16_t *)x;
    for (int32_t t = 0; t < n; t++) {
        v[t] = src[t];
        v[taps + t] = s1[t];
        v[2 * taps + t] = s2[t];
        v[3 * taps + t] = s3[t];
    }
#endif
}

/* Whether gemm_pack_pixels packs the layer's windows. */
static bool gemm_pointwise(const tflm_conv_data *d) {
    return d->filter_h == 1 && d->filter_w == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 &&
           d->pad_w == 0 && d->out_h == d->in_h && d->out_w == d->in_w;
}

/*
 * The filter for tflm_conv_gemm4_i8: the model's, or its copy at padded
 * with zero weights to gemm_taps4 a row (gemm_padded_filter_bytes). The
 * packed windows' extra taps are zeroed once, so that a product with them is 0.
 */
static const int8_t *gemm_filter(const tflm_conv_data *d, const int8_t *filter, int8_t *padded, void *x) {
    int32_t taps = gemm_taps(d), taps4 = gemm_taps4(d);
    if (taps == taps4) {
        return filter;
    }
    for (int32_t o = 0; o < d->out_c; o++) {
        memcpy(padded + o * taps4, filter + o * taps, (size_t)taps);
        memset(padded + o * taps4 + taps, 0, (size_t)(taps4 - taps));
    }
    for (int32_t j = 0; j < GEMM_POSITIONS; j++) {
        gemm_pack_run(x, taps4, j, taps, NULL, 0, taps4 - taps);
    }
    return padded;
}

/*
 * Output channels [c0, c0 + n) of `count` positions, `stride` bytes apart
 * from out + c, requantized from tflm_conv_gemm4_i8's sums. On ARMv6-M the
 * assembly does the channels it fits from their entries in table, which
 * starts at channel `first` (every one when armv6m_all), C the others.
 */
static void gemm_outputs(const tflm_conv_int8 *k, const tflm_conv_requant *table, int32_t first, int32_t c0,
    int32_t n, int32_t count, int32_t stride, const int32_t *sums, int8_t *out, bool armv6m_all) {
#if defined(__ARM_ARCH_6M__)
    const tflm_conv_outputs block = {
        .table = table + (c0 - first), .multiplier = k->multiplier + c0, .shift = k->shift + c0, .count = count,
        .stride = stride, .zero_point = k->zero_point, .min = k->min, .max = k->max,
    };
    tflm_conv_gemm_outputs_armv6m(&block, sums, n, out + c0);
    if (armv6m_all) {
        return;
    }
#else
    (void)table, (void)first, (void)armv6m_all;
#endif
    tflm_conv_channel q = { .stride = stride, .zero_point = k->zero_point, .min = k->min, .max = k->max };
    for (int32_t o = 0; o < n; o++) {
        int32_t c = c0 + o;
        q.start = k->folded[c];
        q.multiplier = k->multiplier[c];
        q.shift = k->shift[c];
#if defined(__ARM_ARCH_6M__)
        if (tflm_conv_gemm_outputs_armv6m_fits(q.multiplier, q.shift)) {
            continue;
        }
#endif
        tflm_conv_gemm_outputs(&q, sums + GEMM_POSITIONS * o, count, out + c);
    }
}

/*
 * Four output positions at a time (a last block of two or three repeats its
 * last position in the missing lanes, unstored; a last one alone takes
 * conv_channels_i8): their windows packed once, then every output channel's
 * filter against them, GEMM_CHANNELS channels a call.
 */
enum { GEMM_CHANNELS = 32 };

#if defined(__ARM_ARCH_6M__)
/* Output channels whose tflm_conv_gemm_table_armv6m entries an eval keeps at a time, on the stack (1 KB). */
enum { GEMM_TABLE_CHANNELS = 64 };
#endif

#if TFLM_FC_ARMV6M
/*
 * Output channels [first, end) of a pointwise layer's position alone: its
 * input pixel against four filter rows at a time with FULLY_CONNECTED's
 * tflm_fc_dot4_armv6m (a fourth of the multiplies of a GEMM block of one),
 * the sums laid out as tflm_conv_gemm4_i8's first position for
 * gemm_outputs. A last group of fewer than four channels repeats its last
 * one in the missing lanes.
 */
static void gemm_pixel_armv6m(const tflm_conv_int8 *k, const tflm_conv_requant *table, int32_t first, int32_t end,
    const int8_t *pixel, const int8_t *filter, int32_t in_c, int32_t out_c, int8_t *out, bool armv6m_all) {
    int32_t sums[GEMM_CHANNELS * GEMM_POSITIONS];
    for (int32_t c0 = first; c0 < end; c0 += GEMM_CHANNELS) {
        int32_t n = end - c0 < GEMM_CHANNELS ? end - c0 : GEMM_CHANNELS;
        for (int32_t o = 0; o < n; o += 4) {
            const int8_t *w[4];
            int32_t acc[4] = { 0, 0, 0, 0 };
            for (int32_t j = 0; j < 4; j++) {
                w[j] = filter + (c0 + (o + j < n ? o + j : n - 1)) * in_c;
            }
            tflm_fc_dot4_armv6m(pixel, 0, w, in_c, acc);
            for (int32_t j = 0; j < 4 && o + j < n; j++) {
                sums[GEMM_POSITIONS * (o + j)] = acc[j];
            }
        }
        gemm_outputs(k, table, first, c0, n, 1, out_c, sums, out, armv6m_all);
    }
}
#endif

/*
 * Four output positions at a time (a last block of two or three repeats its
 * last position in the missing lanes, unstored; a last one alone takes
 * gemm_pixel_armv6m or conv_channels_i8): their windows packed once, then
 * the filters of output channels [first, end) against them, GEMM_CHANNELS
 * channels a call.
 */
static void gemm_channels(const tflm_conv_data *d, const tflm_conv_int8 *k, const tflm_conv_requant *table,
    int32_t first, int32_t end, const int8_t *in_b, const int8_t *filter, const int8_t *model_filter, void *x,
    int8_t *out, bool armv6m_all) {
    int32_t taps = gemm_taps4(d), out_c = d->out_c, positions = d->out_h * d->out_w;
    bool pointwise = gemm_pointwise(d);
    int32_t sums[GEMM_CHANNELS * GEMM_POSITIONS];
    int32_t oy = 0, ox = 0; /* position p's */
    for (int32_t p = 0; p < positions; p += GEMM_POSITIONS) {
        int8_t *out_p = out + p * out_c;
        int32_t count = positions - p < GEMM_POSITIONS ? positions - p : GEMM_POSITIONS;
        if (count == 1) {
            /* a block of one position would waste three quarters of the GEMM's multiplies */
#if TFLM_FC_ARMV6M
            if (pointwise) {
                gemm_pixel_armv6m(k, table, first, end, in_b + p * d->in_c, model_filter, d->in_c, out_c, out_p,
                    armv6m_all);
                continue;
            }
#endif
            tflm_conv_runs t;
            conv_runs_at(d, oy, ox, &t);
            conv_channels_i8(k, &t, in_b + t.x0, model_filter, gemm_taps(d), first, end - first, out_p);
            continue;
        }
        if (pointwise && count == GEMM_POSITIONS) {
            gemm_pack_pixels(x, taps, in_b + p * d->in_c, d->in_c, d->in_c);
            /* the pixels are consecutive: no window, no position of each */
            for (ox += GEMM_POSITIONS; ox >= d->out_w; ox -= d->out_w) {
                oy++;
            }
        } else {
            int32_t y[GEMM_POSITIONS], x_at[GEMM_POSITIONS];
            for (int32_t j = 0; j < GEMM_POSITIONS; j++) {
                y[j] = oy;
                x_at[j] = ox;
                if ((j + 1 < count || j + 1 == GEMM_POSITIONS) && ++ox == d->out_w) {
                    ox = 0;
                    oy++;
                }
            }
            tflm_conv_window win;
            if (count == GEMM_POSITIONS && gemm_row_whole4(d, y, x_at, &win)) {
                gemm_pack_row4(d, in_b, &win, x);
            } else {
                for (int32_t j = 0; j < GEMM_POSITIONS; j += 2) {
                    gemm_pack_windows2(d, in_b, y, x_at, x, j);
                }
            }
        }
        for (int32_t c0 = first; c0 < end; c0 += GEMM_CHANNELS) {
            int32_t n = end - c0 < GEMM_CHANNELS ? end - c0 : GEMM_CHANNELS;
            tflm_conv_gemm4_i8(x, filter + c0 * taps, taps, n, sums);
            gemm_outputs(k, table, first, c0, n, count, out_c, sums, out_p, armv6m_all);
        }
    }
}

/*
 * Each batch's output channels in one pass, or on ARMv6-M GEMM_TABLE_CHANNELS
 * at a time with their table (the windows packed again for each).
 */
static void conv_eval_int8_gemm(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int8_t *input = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    int8_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const tflm_conv_int8 k = tflm_conv_int8_params(it, node, &LAYOUT, d);
    int32_t out_c = d->out_c, positions = d->out_h * d->out_w;
    int8_t *padded = (int8_t *)tflm_scratch(it, node) + tflm_conv_folded_bias_bytes(d);
    void *x = padded + gemm_padded_filter_bytes(d);
    const int8_t *model_filter = filter;
    filter = gemm_filter(d, filter, padded, x);
#if defined(__ARM_ARCH_6M__)
    tflm_conv_requant table[GEMM_TABLE_CHANNELS];
    int32_t chunk = GEMM_TABLE_CHANNELS;
#else
    const tflm_conv_requant *table = NULL;
    int32_t chunk = out_c;
#endif
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t first = 0; first < out_c; first += chunk) {
            int32_t end = out_c - first < chunk ? out_c : first + chunk;
#if defined(__ARM_ARCH_6M__)
            bool armv6m_all = tflm_conv_gemm_table_armv6m(&k, first, end - first, table);
#else
            bool armv6m_all = false;
#endif
            gemm_channels(d, &k, table, first, end, in_b, filter, model_filter, x, out + b * positions * out_c,
                armv6m_all);
        }
    }
}
#endif

static void conv_eval_int8(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int8_t *input = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    int8_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const tflm_conv_int8 k = tflm_conv_int8_params(it, node, &LAYOUT, d);
    int32_t filter_size = d->filter_h * d->filter_w * d->filter_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++, out += d->out_c) {
                tflm_conv_runs t;
                conv_runs_at(d, oy, ox, &t);
                const int8_t *x = in_b + t.x0; /* the group's first input channel */
                for (int32_t group = 0; group < d->out_c; group += d->group_out_c, x += d->filter_c) {
                    conv_channels_i8(&k, &t, x, filter, filter_size, group, d->group_out_c, out);
                }
            }
        }
    }
}

static void conv_eval_int16(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const int16_t *input = tflm_data(it, tflm_node_input(it, node, 0));
    const int8_t *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const void *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    int16_t *out = tflm_data(it, tflm_node_output(it, node, 0));
    const int32_t *mult = tflm_conv_multipliers(d);
    const int8_t *shift = tflm_conv_shifts(d);
    int32_t filter_size = d->filter_h * d->filter_w * d->filter_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const int16_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                tflm_conv_window win;
                tflm_conv_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    const int16_t *x = in_b + group_input(d, oc);
                    const int8_t *w = filter + oc * filter_size;
                    int64_t acc = tflm_conv_bias64(bias_t, bias, oc);
                    for (int32_t fy = win.fy0; fy < win.fy1; fy++) {
                        for (int32_t fx = win.fx0; fx < win.fx1; fx++) {
                            acc += tflm_conv_dot_i16(x + tflm_conv_input_at(d, &win, fy, fx), w + filter_at(d, fy, fx), d->filter_c);
                        }
                    }
                    *out++ = tflm_conv_requantize_i16(d, acc, mult[oc], shift[oc]);
                }
            }
        }
    }
}

static void conv_eval_float(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_data *d) {
    const float *input = tflm_data(it, tflm_node_input(it, node, 0));
    const float *filter = tflm_data(it, tflm_node_input(it, node, 1));
    const tflm_tensor *bias_t = tflm_node_input(it, node, 2);
    const float *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    float *out = tflm_data(it, tflm_node_output(it, node, 0));
    int32_t filter_size = d->filter_h * d->filter_w * d->filter_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const float *in_b = input + b * d->in_h * d->in_w * d->in_c;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                tflm_conv_window win;
                tflm_conv_window_at(d, oy, ox, &win);
                for (int32_t oc = 0; oc < d->out_c; oc++) {
                    const float *x = in_b + group_input(d, oc);
                    const float *w = filter + oc * filter_size;
                    float total = 0.0f;
                    for (int32_t fy = win.fy0; fy < win.fy1; fy++) {
                        for (int32_t fx = win.fx0; fx < win.fx1; fx++) {
                            total = tflm_conv_dot_f32(total, x + tflm_conv_input_at(d, &win, fy, fx), w + filter_at(d, fy, fx), d->filter_c);
                        }
                    }
                    *out++ = tflm_conv_clamp_f32(d, total + (bias ? bias[oc] : 0.0f));
                }
            }
        }
    }
}

static void conv_eval(const tflm_interpreter *it, const tflm_node *node) {
    const tflm_conv_data *d = tflm_op_data(it, node);
    switch (tflm_node_input(it, node, 0)->type) {
        case TFLM_INT8:
#if TFLM_CONV_GEMM
            if (d->gemm) {
                conv_eval_int8_gemm(it, node, d);
                break;
            }
#endif
            conv_eval_int8(it, node, d);
            break;
        case TFLM_INT16: if (TFLM_INT16_KERNELS) conv_eval_int16(it, node, d); break;
        default: if (TFLM_FLOAT_KERNELS) conv_eval_float(it, node, d); break;
    }
}

const tflm_kernel tflm_kernel_conv_2d = {
    .name = "CONV_2D",
    .code = 3,
    .options_type = 1,
    .data_size = conv_data_size,
    .prepare = conv_prepare,
    .eval = conv_eval,
};
