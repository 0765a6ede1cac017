/*
 * What CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV share: their op data,
 * prepare-time checks and quantization constants (TFLite's
 * ComputePaddingHeightWidth and PopulateConvolutionQuantizationParams), and
 * the small loops and requantization steps of their eval.
 *
 * Tensors are NHWC; filters are [out_c, h, w, in_c] except DEPTHWISE_CONV_2D's
 * [1, h, w, out_c]. Quantized kernels follow TFLite's reference integer
 * kernels bit for bit: int8 activations with int8 filters (per-channel or
 * per-tensor) and int32 bias, and int16 activations with int8 filters ("16x8").
 */
#ifndef TFLM_KERNELS_CONV_COMMON_H
#define TFLM_KERNELS_CONV_COMMON_H

#include <string.h>

#include "../kernel.h"
#include "../quant.h"
#include "dot_i8.h"
#include "requantize.h"

/* 1: generic loops only, no arch-specific or blocked fast paths (smaller flash). */
#ifndef TFLM_OPTIMIZE_SIZE
#define TFLM_OPTIMIZE_SIZE 0
#endif

/*
 * CONV_2D as blocked products of matrices (tflm_conv_gemm4_i8) unless the
 * size matters most; packed in 16-bit lanes where a 32-bit multiply is the
 * widest there is (ARMv6-M, conv_gemm_armv6m.c), else in int16 planes.
 */
#ifndef TFLM_CONV_GEMM
#define TFLM_CONV_GEMM (!TFLM_OPTIMIZE_SIZE)
#endif
#ifndef TFLM_CONV_LANES
#if defined(__ARM_ARCH_6M__)
#define TFLM_CONV_LANES 1
#else
#define TFLM_CONV_LANES 0
#endif
#endif

/* Where each kernel keeps its tensors and what its quantization needs. */
typedef struct {
    int8_t input, filter, bias;  /* node input indices */
    int8_t channel_dim;          /* filter dimension of the output channels */
    uint8_t folded_bias;         /* int8: fold input_offset * filter sum into the bias at each eval */
    uint16_t int16_bias_types;   /* bias types allowed with int16 input, as 1 << type */
} tflm_conv_layout;

typedef struct {
    tflm_tensor *input, *filter, *bias, *output;
} tflm_conv_tensors;

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t filter_h, filter_w;
    int32_t filter_c;          /* CONV_2D: input channels per group */
    int32_t group_out_c;       /* output channels per group of input channels (DEPTHWISE_CONV_2D: the depth multiplier) */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;      /* rows above and columns left of the input */
    int32_t input_offset;      /* -input zero point (int8) */
    int32_t output_offset;     /* output zero point (int8) */
    union {                    /* activation range: quantized or float32 */
        struct { int32_t min, max; } q;
        struct { float min, max; } f;
    } act;
    uint8_t narrow_accumulator; /* 16x8 CONV_2D with an int32 bias: TFLite sums in int32 */
    uint8_t gemm;               /* int8 CONV_2D runs tflm_conv_gemm4_i8 (conv_2d.c says when) */
    /* Quantized: int32 multiplier[out_c], then int8 shift[out_c]. The folded
     * bias is no op data: eval computes it into the node's scratch. */
} tflm_conv_data;

/* Op data bytes for the node (the per-channel arrays depend on the model). */
uint32_t tflm_conv_data_size(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_layout *l);

/*
 * Fetches the tensors and checks what all three ops require: rank 4, matching
 * batches, element types (float32, int8 or 16x8), and one bias value per
 * output channel. Fills batches and out_c.
 */
tflm_status tflm_conv_tensors_get(tflm_interpreter *it, const tflm_node *node, const tflm_conv_layout *l,
    tflm_conv_tensors *t, tflm_conv_data *d);

/*
 * Shapes, strides, dilations and padding. A convolution maps input to
 * output; TRANSPOSE_CONV runs that map backwards (transposed true), so the
 * output plays the convolution's input. The model's output size must be the
 * one the padding gives.
 */
tflm_status tflm_conv_geometry(tflm_interpreter *it, const tflm_conv_tensors *t, tflm_conv_data *d, int padding,
    int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w, bool transposed);

/*
 * Activation range, and for quantized ops the per-channel constants; asks
 * for the scratch of the folded bias (tflm_conv_int8_params) when the layout
 * folds it.
 */
tflm_status tflm_conv_quantize(tflm_interpreter *it, tflm_node *node, const tflm_conv_layout *l,
    const tflm_conv_tensors *t, tflm_conv_data *d, int activation);

/* Scratch bytes of the folded bias: one int32 per output channel. */
static inline uint32_t tflm_conv_folded_bias_bytes(const tflm_conv_data *d) {
    return 4u * (uint32_t)d->out_c;
}

/* Reads the Conv2D-style options common to the three ops. */
typedef struct {
    int padding;
    int32_t stride_h, stride_w;
} tflm_conv_options;
void tflm_conv_read_options(const tflm_interpreter *it, const tflm_node *node, tflm_conv_options *o);

/* ---- eval helpers ---- */

static inline int32_t *tflm_conv_multipliers(const tflm_conv_data *d) {
    return (int32_t *)(uintptr_t)(d + 1);
}

static inline int8_t *tflm_conv_shifts(const tflm_conv_data *d) {
    return (int8_t *)(tflm_conv_multipliers(d) + d->out_c);
}

/*
 * The number of taps t < filter_size with dilation * t < limit: ceil(limit / dilation) at most
 * filter_size, counted by steps for a dilation (a division is a library call on the Cortex-M0+
 * and filters are small). The sums stay below 2^31: limits and dilations are below 2^30.
 */
static inline int32_t tflm_conv_taps_below(int32_t limit, int32_t dilation, int32_t filter_size) {
    if (dilation == 1) {
        return limit <= 0 ? 0 : limit < filter_size ? limit : filter_size;
    }
    int32_t taps = 0;
    for (int32_t reach = 0; taps < filter_size && reach < limit; taps++) {
        reach += dilation;
    }
    return taps;
}

/*
 * The filter taps of one output position that land inside the input:
 * input index origin + dilation * tap for taps in [*first, *end).
 */
static inline void tflm_conv_taps(int32_t origin, int32_t dilation, int32_t in_size, int32_t filter_size,
    int32_t *first, int32_t *end) {
    *first = tflm_conv_taps_below(-origin, dilation, filter_size); /* those before the input */
    *end = tflm_conv_taps_below(in_size - origin, dilation, filter_size);
}

/* The taps of output position (oy, ox) of a convolution that land inside the input. */
typedef struct {
    int32_t fy0, fy1, fx0, fx1; /* taps [fy0, fy1) x [fx0, fx1) */
    int32_t iy0, ix0;           /* input position of tap (0, 0) */
    bool whole;                 /* no tap falls in the padding */
} tflm_conv_window;

static inline void tflm_conv_window_at(const tflm_conv_data *d, int32_t oy, int32_t ox, tflm_conv_window *win) {
    win->iy0 = oy * d->stride_h - d->pad_h;
    win->ix0 = ox * d->stride_w - d->pad_w;
    tflm_conv_taps(win->iy0, d->dilation_h, d->in_h, d->filter_h, &win->fy0, &win->fy1);
    tflm_conv_taps(win->ix0, d->dilation_w, d->in_w, d->filter_w, &win->fx0, &win->fx1);
    win->whole = win->fy0 == 0 && win->fy1 == d->filter_h && win->fx0 == 0 && win->fx1 == d->filter_w;
}

/* Offset, in elements, of the input pixel under tap (fy, fx) within its batch. */
static inline int32_t tflm_conv_input_at(const tflm_conv_data *d, const tflm_conv_window *win, int32_t fy, int32_t fx) {
    return ((win->iy0 + fy * d->dilation_h) * d->in_w + win->ix0 + fx * d->dilation_w) * d->in_c;
}

/*
 * CONV_2D's taps of one output position inside the input, as `rows` rows of
 * `runs` runs of `run_len` elements contiguous in both the input and the
 * filter (a whole window row when the filter columns are adjacent in the input).
 */
typedef struct {
    int32_t rows, runs, run_len;
    int32_t x_row, x_run; /* input steps between rows and between runs, in elements */
    int32_t w_row, w_run; /* filter steps */
    int32_t x0, w0;       /* input offset within the batch and filter offset of the first tap */
    bool whole;           /* no tap falls in the padding */
} tflm_conv_runs;

/*
 * DEPTHWISE_CONV_2D's taps of one output position and channel: the input
 * pixel and the filter value move by fixed steps per window row and column.
 */
typedef struct {
    int32_t rows, cols;
    int32_t x_row, x_col; /* input steps, in elements */
    int32_t w_row, w_col; /* filter steps */
} tflm_conv_grid;

/*
 * What the int8 CONV_2D and DEPTHWISE_CONV_2D loops need besides the tensors.
 * TFLite sums w * (x + input_offset): for windows inside the input that is
 * sum w * x plus a constant folded into the bias; windows cut by the padding
 * add input_offset to each input and start from the plain bias.
 */
typedef struct {
    const int32_t *bias;       /* the model's, NULL for none */
    const int32_t *folded;     /* bias + input_offset * sum of the channel's filter */
    const int32_t *multiplier;
    const int8_t *shift;
    int32_t input_offset;
    int32_t zero_point, min, max; /* output zero point and activation range */
} tflm_conv_int8;

/*
 * The parameters of one int8 eval. Computes the folded bias, bias +
 * input_offset * (sum of the channel's filter), into the first
 * tflm_conv_folded_bias_bytes of the node's scratch: an add per filter
 * weight each invoke, where keeping it would cost 4 persistent bytes per
 * channel.
 */
tflm_conv_int8 tflm_conv_int8_params(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_layout *l,
    const tflm_conv_data *d);

/* Accumulator start of channel c for a window inside the input (whole) or cut by the padding. */
static inline int32_t tflm_conv_int8_start(const tflm_conv_int8 *k, bool whole, int32_t c) {
    return whole ? k->folded[c] : k->bias ? k->bias[c] : 0;
}

static inline int8_t tflm_conv_int8_output(const tflm_conv_int8 *k, int32_t acc, int32_t c) {
    return (int8_t)tflm_clamp(tflm_requantize(acc, k->multiplier[c], k->shift[c]) + k->zero_point, k->min, k->max);
}

/*
 * acc[j] += the taps t of (x + x_offset) times those of filter w[j] (w[j]
 * points at the filter's start): four CONV_2D output channels, each input
 * load serving four multiplies. In conv_int8.c.
 */
void tflm_conv_runs_dot4_i8(const tflm_conv_runs *t, const int8_t *x, int32_t x_offset, const int8_t *const w[4],
    int32_t acc[4]);

/*
 * acc[j] += the taps g of four DEPTHWISE_CONV_2D output channels: filter
 * column j times input lane j plus x_offset, lanes x_lane elements apart
 * (1 for a depth multiplier of 1, 0 when the four channels share their input
 * channel). In conv_int8.c.
 */
void tflm_conv_grid_dot4_i8(const tflm_conv_grid *g, const int8_t *x, int32_t x_lane, int32_t x_offset,
    const int8_t *w, int32_t acc[4]);

/*
 * CONV_2D as a product of matrices, four output positions at a time:
 * sums[4 * o + j] = sum over i < k of xj[i] * w[o * k + i], for the n output
 * channels o whose k weights follow one another from w (k a multiple of 4,
 * w 4-byte aligned, weights in [-127, 127]). xj is position j's window (the
 * padding filled with the input zero point), packed in x
 * - with TFLM_CONV_LANES as two words a tap i, x[2i] = x0[i] + x1[i] * 2^16
 *   and x[2i + 1] = x2[i] + x3[i] * 2^16, so that one 32-bit multiply by a
 *   weight gives two products, one per 16-bit lane; the sum of two products
 *   stays within a lane (|sum| <= 2 * 128 * 127 < 2^15), so lanes are split
 *   into 32-bit sums after every second tap;
 * - else as four int16 planes, x0[0..k) then x1, x2, x3.
 * In conv_int8.c, or a port's own file (ARMv6-M: conv_gemm_armv6m.c).
 */
void tflm_conv_gemm4_i8(const void *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums);

/* One output channel's requantization in tflm_conv_gemm_outputs. */
typedef struct {
    int32_t start;      /* added to each sum: the folded bias */
    int32_t multiplier;
    int32_t shift;
    int32_t stride;     /* between the outputs, in bytes */
    int32_t zero_point, min, max;
} tflm_conv_channel;

/* out[j * stride] = the requantized start + sums[j] for j < count. */
static inline void tflm_conv_gemm_outputs(const tflm_conv_channel *q, const int32_t *sums, int32_t count, int8_t *out) {
    int32_t start = q->start, multiplier = q->multiplier, shift = q->shift, stride = q->stride;
    int32_t zero_point = q->zero_point, min = q->min, max = q->max;
    for (int32_t j = 0; j < count; j++, out += stride) {
        *out = (int8_t)tflm_clamp(tflm_requantize(start + sums[j], multiplier, shift) + zero_point, min, max);
    }
}

/*
 * One output channel's requantization constants as the ARMv6-M
 * tflm_conv_gemm_outputs_armv6m reads them, one LDM a channel
 * (tflm_conv_gemm_table_armv6m fills them each eval).
 */
typedef struct {
    int32_t start;      /* the folded bias */
    int32_t multiplier; /* 0: outputs of 16-bit accumulators are the zero point */
    int32_t rounding;   /* 2^14 + 2^(14 + e), e the right shift; with a multiplier of 0 plus a code (see there) */
    int32_t shift;      /* 15 + e */
} tflm_conv_requant;

#if TFLM_CONV_GEMM && defined(__ARM_ARCH_6M__)

/* The outputs of n output channels of one tflm_conv_gemm4_i8 block. */
typedef struct {
    const tflm_conv_requant *table; /* per channel, from the block's first */
    const int32_t *multiplier;      /* the model's, for accumulators beyond 16 bits of table multipliers of 0 */
    const int8_t *shift;
    int32_t count;                  /* positions, 1 to 4 */
    int32_t stride;                 /* between the positions' outputs, in bytes */
    int32_t zero_point, min, max;
} tflm_conv_outputs;

/*
 * The channels tflm_conv_gemm_outputs_armv6m requantizes: right shifts
 * (shift < 0) with multipliers of at least 2^30 (tflm_quantize_multiplier's),
 * and multipliers of 0 (scales TFLite flushes to zero); it leaves the others'
 * outputs to C.
 */
static inline bool tflm_conv_gemm_outputs_armv6m_fits(int32_t multiplier, int32_t shift) {
    return multiplier == 0 || (multiplier >= (1 << 30) && shift < 0);
}

/* table[c] for channels first + c, c < n, from k's folded bias, multipliers and shifts; whether every one
 * fits. In conv_gemm_armv6m.c. */
bool tflm_conv_gemm_table_armv6m(const tflm_conv_int8 *k, int32_t first, int32_t n, tflm_conv_requant *table);

/* out[c + j * stride] = the requantized start[c] + sums[4 * c + j] for c < n and j < count,
 * for the channels that fit (the others' are overwritten later); in conv_gemm_armv6m.c. */
void tflm_conv_gemm_outputs_armv6m(const tflm_conv_outputs *q, const int32_t *sums, int32_t n, int8_t *out);
#endif

/* TRANSPOSE_CONV's names for them */
static inline int32_t tflm_conv_dot_i8(const int8_t *x, const int8_t *w, int32_t n) {
    return tflm_dot_i8(x, w, n);
}

static inline int32_t tflm_conv_sum_i8(const int8_t *w, int32_t n) {
    return tflm_sum_i8(w, n);
}

static inline int64_t tflm_conv_dot_i16(const int16_t *x, const int8_t *w, int32_t n) {
    int64_t acc = 0;
    for (int32_t i = 0; i < n; i++) {
        acc += x[i] * w[i];
    }
    return acc;
}

/* Float sums go into the running total one product at a time, in TFLite's order. */
static inline float tflm_conv_dot_f32(float total, const float *x, const float *w, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        total += x[i] * w[i];
    }
    return total;
}

/* Bias of channel c as int64, from an int16, int32 or int64 bias (NULL: 0). */
static inline int64_t tflm_conv_bias64(const tflm_tensor *bias, const void *data, int32_t c) {
    if (!bias) {
        return 0;
    }
    switch (bias->type) {
        case TFLM_INT16: return ((const int16_t *)data)[c];
        case TFLM_INT32: return ((const int32_t *)data)[c];
        default: {
            int64_t v;
            memcpy(&v, (const int64_t *)data + c, sizeof v); /* constant int64 data may be only 4-byte aligned */
            return v;
        }
    }
}

static inline int8_t tflm_conv_requantize_i8(const tflm_conv_data *d, int32_t acc, int32_t multiplier, int shift) {
    return (int8_t)tflm_clamp(tflm_requantize(acc, multiplier, shift) + d->output_offset, d->act.q.min, d->act.q.max);
}

/* 16x8: the int64 accumulator, or its low 32 bits when TFLite sums in int32. */
static inline int16_t tflm_conv_requantize_i16(const tflm_conv_data *d, int64_t acc, int32_t multiplier, int shift) {
    int32_t v = d->narrow_accumulator ? tflm_mbqm((int32_t)acc, multiplier, shift) : tflm_mbqm64(acc, multiplier, shift);
    return (int16_t)tflm_clamp(v, d->act.q.min, d->act.q.max);
}

static inline float tflm_conv_clamp_f32(const tflm_conv_data *d, float v) {
    return v < d->act.f.min ? d->act.f.min : (v > d->act.f.max ? d->act.f.max : v);
}

#endif
