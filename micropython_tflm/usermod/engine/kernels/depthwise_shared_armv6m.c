/*
 * int8 DEPTHWISE_CONV_2D on ARMv6-M (Cortex-M0+) for a depth multiplier that
 * is a multiple of four: the output channels of a group all read the same
 * input channel, so the group is a convolution with one input channel,
 * taps = filter_h x filter_w weights and `multiplier` output channels
 * (micro_speech: 80 taps, 8 channels, 500 positions; person_detect's first
 * layer: 3 x 3 taps, 8 channels, 2,304 positions). See depthwise_armv6m.h.
 *
 * Products of matrices (tflm_conv_gemm4_i8, conv_common.h): four output
 * positions of a row at a time, two per 16-bit lane, each weight multiplying
 * two positions' inputs with one MULS; 3.3 cycles a MAC with the lane
 * splits, ~3.4 with its per-channel work. Its packed windows come from a
 * ring of "pair rows" on the stack, one word per padded input column c of a
 * needed input row:
 *   P[c] = x[c] + x[c + stride_w] * 2^16
 * (x the padded row, the padding the input zero point), so that tap (fy, fx)
 * of the positions ox0.. ox0 + 3 is the words P[ox0 * stride_w + fx] (ox0,
 * ox0 + 1) and P[(ox0 + 2) * stride_w + fx] (ox0 + 2, ox0 + 3) of row
 * oy * stride_h + fy. Every window then lies inside the padded rows and
 * starts from the folded bias. Each input row becomes a pair row once (~12
 * cycles a word); per block of positions dw_pack copies its taps' words (7
 * cycles a tap) and dw_outputs requantizes all its outputs (35 cycles an
 * output). micro_speech's layer: 3.4 + (560 + 32 * 35 + ~300) / 2,560 =
 * ~4.2 cycles a MAC with 2,560 MACs a block; rp2040_emu measures 4.57.
 * dw_pack takes filter columns in twos: an odd filter width gets a column
 * of zero weights (its taps read the pair row's next word). person_detect's
 * first layer, 3 x 3 taps at stride 2 packed as 3 x 4: 12.0 cycles a MAC,
 * the band path's 13.0 (the requantization, 23 cycles an output, 2.6 a MAC
 * of nine taps; the products of matrices of twelve taps ~8.6).
 *
 * Stack: the ring (RING_WORDS words), a block's packed windows (8 bytes a
 * tap), the transposed weights (MAX_WEIGHTS bytes), the sums and the
 * channels' constants: dw_gemm_eval's frame is 4,176 bytes (gcc
 * -fstack-usage) of the boards' 16 KB C stack (_stack_size of
 * boards/rp2040_emu/rp2040.ld), none of the arena.
 *
 * Other layers of such a multiplier (a -128 weight, which could overflow a
 * lane, a dilated filter row, too big a filter, group or row, a scale that
 * is no right shift of 1 to 16 bits) take the band path of
 * depthwise_armv6m.c if it fits, else walk their taps in dw_taps.
 */
#include "depthwise_armv6m.h"

#if TFLM_DW_ARMV6M

#include <stddef.h>

#include "requantize.h"

/* Taps (rounded up to four) of a window, and bytes of a group's weights, in the products of matrices. */
#define MAX_TAPS 80
#define MAX_WEIGHTS 640
#define MAX_ROWS 16
/* Words of the ring of pair rows. */
#define RING_WORDS 448
/* Output channels of a group (one tflm_conv_gemm4_i8 call a block). */
#define MAX_MULTIPLIER 16

/*
 * dw_pack(x r0, rows r1, far r2, pairs r3, [sp] rows count): for each row
 * pointer p of rows, the words p[i] and p[i + far / 4] for i < 2 * pairs,
 * interleaved into x: two taps (their LDMs filling r4, r6 and r5, r7) a STM.
 */
__attribute__((naked)) static void dw_pack(uint32_t *x, const uint32_t *const *rows, int32_t far, int32_t pairs,
    int32_t count) {
    (void)x, (void)rows, (void)far, (void)pairs, (void)count;
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, r5, r6, r7, lr}\n mov r4, r8\n mov r5, r9\n push {r4, r5}\n"
        "ldr r4, [sp, #28]\n mov r12, r4\n mov r8, r1\n mov r9, r2\n mov lr, r3\n"
        "1:\n mov r3, r8\n ldm r3!, {r1}\n mov r8, r3\n mov r2, r9\n adds r2, r1, r2\n mov r3, lr\n"
        "2:\n ldm r1!, {r4, r6}\n ldm r2!, {r5, r7}\n stm r0!, {r4, r5, r6, r7}\n subs r3, #1\n bne 2b\n"
        "mov r3, r12\n subs r3, #1\n mov r12, r3\n bne 1b\n"
        "pop {r4, r5}\n mov r8, r4\n mov r9, r5\n pop {r4, r5, r6, r7, pc}\n"
        ".syntax divided\n");
}

/*
 * Requantization of one channel, read by dw_outputs (offsets spelled out in
 * it): requantize.h's output for |acc| < 2^19 and a right shift e in
 * [1, 16] in three 32-bit products, m = m2 * 2^22 + m1 * 2^11 + m0 (11-bit
 * parts) and the nested floors
 *   ((((acc * m0) >> 11) + acc * m1) >> 11) + acc * m2 + c >> (9 + e),
 * c = 2^8 + 2^(8 + e) - (acc < 0 ? 2^9 : 0): TFLite's rounding doubling
 * high multiply and rounding right shift, exact (the nested floors are the
 * floor of the whole). Other accumulators call tflm_dw_gemm_output_slow.
 */
typedef struct {
    int32_t start;      /*  0: folded bias */
    int32_t m0, m1, m2; /*  4, 8, 12 */
    int32_t rounding;   /* 16: 2^8 + 2^(8 + e) */
    int32_t shift;      /* 20: 9 + e */
    int32_t multiplier; /* 24: for tflm_dw_gemm_output_slow */
    int32_t exponent;   /* 28: the channel's shift, -e */
} dw_channel;

/* What dw_outputs reads through r0; the offsets are spelled out in it. */
typedef struct {
    const int32_t *sums;       /*  0: four positions' sums a channel (tflm_conv_gemm4_i8's) */
    const dw_channel *table;   /*  4 */
    int8_t *out;               /*  8: the first position's first channel */
    int32_t channels;          /* 12: >= 1 */
    int32_t stride;            /* 16: output bytes between positions */
    int32_t zero_point;        /* 20 */
    int32_t min, max;          /* 24, 28: activation range */
} dw_outputs_args;

typedef char dw_channel_layout_check[sizeof(dw_channel) == 32 && offsetof(dw_outputs_args, max) == 28 ? 1 : -1];

/* The exact output of any accumulator (start included) of channel ch. */
int32_t tflm_dw_gemm_output_slow(int32_t acc, const dw_channel *ch, const dw_outputs_args *a);
int32_t tflm_dw_gemm_output_slow(int32_t acc, const dw_channel *ch, const dw_outputs_args *a) {
    return tflm_clamp(tflm_requantize(acc, ch->multiplier, ch->exponent) + a->zero_point, a->min, a->max);
}

/*
 * Position j's output of the channel: r0 sums, r1 output, r5 zero point,
 * r6 min, r7 max, r8 start, r9-r11 m0-m2, r12 rounding, lr shift; the
 * output stride at [sp, #8]. 35 cycles; beyond 2^19 to label 5j, `to` (b
 * or f) its direction.
 */
#define DW_OUTPUT(j, to)                                                                                    \
    "ldm r0!, {r2}\n add r2, r8\n"                                                                          \
    "asrs r3, r2, #19\n adds r3, #1\n lsrs r3, r3, #1\n bne 5" #j #to "\n"                                  \
    "mov r3, r9\n muls r3, r2, r3\n asrs r3, r3, #11\n"                                                      \
    "mov r4, r10\n muls r4, r2, r4\n adds r3, r3, r4\n asrs r3, r3, #11\n"                                   \
    "mov r4, r11\n muls r4, r2, r4\n adds r3, r3, r4\n"                                                      \
    "asrs r2, r2, #31\n lsls r2, r2, #9\n adds r3, r3, r2\n"         /* -2^9 for a negative acc */          \
    "add r3, r12\n mov r4, lr\n asrs r3, r3, r4\n adds r3, r3, r5\n"                                        \
    "cmp r3, r6\n bge 7" #j "f\n movs r3, r6\n7" #j ":\n"                                                   \
    "cmp r3, r7\n ble 6" #j "f\n movs r3, r7\n"                                                            \
    "6" #j ":\n strb r3, [r1]\n ldr r4, [sp, #8]\n adds r1, r1, r4\n"

/* Position j's accumulator r2 beyond 2^19: subroutine 9, lr's shift again, back (`to`) to the store. */
#define DW_OUTPUT_WIDE(j, to) "5" #j ":\n bl 9f\n ldr r4, [sp, #0]\n ldr r4, [r4, #20]\n mov lr, r4\n b 6" #j #to "\n"

/*
 * dw_outputs(args r0): the outputs of four positions of every channel.
 * Stack: 0 channel's table entry, 4 channels left, 8 stride, 12 channel's
 * first output, 16 args. The wide paths sit on both sides of the loop, in
 * reach of their conditional branches.
 */
__attribute__((naked)) static void dw_outputs(const dw_outputs_args *a) {
    (void)a;
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, r5, r6, r7, lr}\n mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n push {r4, r5, r6, r7}\n"
        "sub sp, #20\n str r0, [sp, #16]\n"
        "ldr r1, [r0, #4]\n str r1, [sp, #0]\n ldr r1, [r0, #12]\n str r1, [sp, #4]\n"
        "ldr r1, [r0, #16]\n str r1, [sp, #8]\n ldr r1, [r0, #8]\n str r1, [sp, #12]\n"
        "ldr r5, [r0, #20]\n ldr r6, [r0, #24]\n ldr r7, [r0, #28]\n ldr r0, [r0, #0]\n"
        "b 1f\n" DW_OUTPUT_WIDE(0, f) DW_OUTPUT_WIDE(1, f)
        "1:\n ldr r1, [sp, #0]\n"
        "ldm r1!, {r2, r3, r4}\n mov r8, r2\n mov r9, r3\n mov r10, r4\n"
        "ldm r1!, {r2, r3, r4}\n mov r11, r2\n mov r12, r3\n mov lr, r4\n"
        "ldr r1, [sp, #12]\n"
        DW_OUTPUT(0, b) DW_OUTPUT(1, b) DW_OUTPUT(2, f) DW_OUTPUT(3, f)
        "ldr r1, [sp, #0]\n adds r1, #32\n str r1, [sp, #0]\n"
        "ldr r1, [sp, #12]\n adds r1, #1\n str r1, [sp, #12]\n"
        "ldr r1, [sp, #4]\n subs r1, #1\n str r1, [sp, #4]\n beq 2f\n b 1b\n"
        DW_OUTPUT_WIDE(2, b) DW_OUTPUT_WIDE(3, b)
        "2:\n add sp, #20\n pop {r4, r5, r6, r7}\n mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4, r5, r6, r7, pc}\n"
        /* subroutine 9: r3 = the output of acc r2 (r2 clobbered); 16 bytes pushed keep the stack 8-byte aligned */
        "9:\n mov r3, r12\n push {r0, r1, r3, lr}\n movs r0, r2\n ldr r1, [sp, #16]\n ldr r2, [sp, #32]\n"
        "bl tflm_dw_gemm_output_slow\n movs r3, r0\n pop {r0, r1, r2}\n mov r12, r2\n pop {pc}\n"
        ".syntax divided\n");
}

/* The channels c0.. of the group for dw_outputs. */
static void channel_table(dw_channel *table, const tflm_conv_int8 *k, int32_t c0, int32_t multiplier) {
    for (int32_t o = 0; o < multiplier; o++) {
        int32_t c = c0 + o, e = -k->shift[c];
        uint32_t m = (uint32_t)k->multiplier[c];
        table[o] = (dw_channel){ .start = k->folded[c], .m0 = (int32_t)(m & 0x7FFu), .m1 = (int32_t)((m >> 11) & 0x7FFu),
            .m2 = (int32_t)(m >> 22), .rounding = (1 << 8) + (1 << (8 + e)), .shift = 9 + e,
            .multiplier = k->multiplier[c], .exponent = k->shift[c] };
    }
}

/* Input column c of the row, the zero point outside it. */
static inline int32_t padded_at(const tflm_conv_data *d, const int8_t *row, int32_t c, int32_t zero_point) {
    return c >= 0 && c < d->in_w ? row[c * d->in_c] : zero_point;
}

/* The pair word of input columns c and c + stride_w, either of them maybe in the padding. */
static inline uint32_t pair_at(const tflm_conv_data *d, const int8_t *row, int32_t c, int32_t zero_point) {
    return (uint32_t)padded_at(d, row, c, zero_point) + ((uint32_t)padded_at(d, row, c + d->stride_w, zero_point) << 16);
}

/* Pair row of input row iy (outside the input: all zero point) over `width` words, see the top of the file. */
static void pair_row(uint32_t *p, int32_t width, const tflm_conv_data *d, const int8_t *in_group, int32_t iy,
    int32_t zero_point) {
    int32_t step = d->in_c, far = d->stride_w, pad = d->pad_w;
    if (iy < 0 || iy >= d->in_h) {
        uint32_t zero_word = (uint32_t)zero_point + ((uint32_t)zero_point << 16);
        for (int32_t c = 0; c < width; c++) {
            p[c] = zero_word;
        }
        return;
    }
    const int8_t *row = in_group + iy * d->in_w * step;
    /* words [first, end) have both halves inside the input */
    int32_t first = pad < width ? pad : width;
    int32_t end = d->in_w + pad - far < width ? d->in_w + pad - far : width;
    end = end > first ? end : first;
    for (int32_t c = 0; c < first; c++) {
        p[c] = pair_at(d, row, c - pad, zero_point);
    }
    const int8_t *src = row + (first - pad) * step;
    int32_t far_bytes = far * step;
    for (int32_t c = first; c < end; c++, src += step) {
        p[c] = (uint32_t)(int32_t)src[0] + ((uint32_t)(int32_t)src[far_bytes] << 16);
    }
    for (int32_t c = end; c < width; c++) {
        p[c] = pair_at(d, row, c - pad, zero_point);
    }
}

/*
 * The group's weights, [channel][tap], taps row-major over rows of
 * `packed_w` columns (an odd filter's last one zero) and rounded up to four
 * by zeros.
 */
static void transpose_weights(int8_t *wt, const tflm_conv_data *d, const int8_t *filter, int32_t packed_w,
    int32_t taps4, int32_t multiplier, int32_t c0) {
    for (int32_t o = 0; o < multiplier; o++, wt += taps4) {
        const int8_t *w = filter + c0 + o;
        int32_t t = 0;
        for (int32_t fy = 0; fy < d->filter_h; fy++) {
            for (int32_t fx = 0; fx < packed_w; fx++, t++) {
                wt[t] = fx < d->filter_w ? *w : 0;
                w += fx < d->filter_w ? d->out_c : 0;
            }
        }
        for (; t < taps4; t++) {
            wt[t] = 0;
        }
    }
}

/* Depth multiplier a multiple of four through tflm_conv_gemm4_i8, see the top of the file; false if it does not fit. */
__attribute__((noinline)) static bool dw_gemm_eval(const tflm_conv_data *d, const tflm_conv_int8 *k,
    const int8_t *input, const int8_t *filter, int8_t *output) {
    /* dw_pack takes filter columns two at a time: an odd width gets a zero column */
    int32_t packed_w = (d->filter_w + 1) & ~1;
    int32_t taps = d->filter_h * packed_w, taps4 = (taps + 3) & ~3, multiplier = d->group_out_c;
    int32_t channels = d->out_c, out_w = d->out_w, sw = d->stride_w;
    int32_t span = (d->filter_h - 1) * d->dilation_h + 1; /* input rows of one output row */
    /* words of a pair row: the windows of whole blocks of four positions */
    int32_t width = (((out_w + 3) & ~3) - 2) * sw + packed_w;
    if (d->dilation_w != 1 || taps4 > MAX_TAPS || d->filter_h > MAX_ROWS ||
        multiplier > MAX_MULTIPLIER || multiplier * taps4 > MAX_WEIGHTS || span * width > RING_WORDS) {
        return false;
    }
    for (int32_t i = 0; i < d->filter_h * d->filter_w * channels; i++) {
        if (filter[i] == INT8_MIN) {
            return false; /* two products of -128 * -128 overflow a lane */
        }
    }
    for (int32_t c = 0; c < channels; c++) {
        if (k->shift[c] < -16 || k->shift[c] > -1) {
            return false; /* dw_outputs' right shifts */
        }
    }
    int8_t __attribute__((aligned(4))) weights[MAX_WEIGHTS];
    uint32_t ring[RING_WORDS];
    uint32_t x[2 * MAX_TAPS];
    int32_t sums[4 * MAX_MULTIPLIER];
    dw_channel table[MAX_MULTIPLIER];
    const uint32_t *rows[MAX_ROWS];
    for (int32_t t = 2 * taps; t < 2 * taps4; t++) {
        x[t] = 0; /* the zero weights' taps */
    }
    dw_outputs_args outputs = { .sums = sums, .table = table, .channels = multiplier, .stride = channels,
        .zero_point = k->zero_point, .min = k->min, .max = k->max };
    int32_t zero_point = -k->input_offset;
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        int8_t *out_b = output + b * d->out_h * out_w * channels;
        for (int32_t c0 = 0, g = 0; c0 < channels; c0 += multiplier, g++) {
            channel_table(table, k, c0, multiplier);
            transpose_weights(weights, d, filter, packed_w, taps4, multiplier, c0);
            const int8_t *in_group = in_b + g;
            /* ring slot `top` holds padded row oy * stride_h; rows below `built` are in the ring */
            int32_t top = 0, built = 0;
            for (int32_t oy = 0; oy < d->out_h; oy++) {
                int32_t r0 = oy * d->stride_h;
                if (r0 >= built) {
                    top = 0;
                    built = r0;
                }
                for (; built < r0 + span; built++) {
                    int32_t slot = top + built - r0;
                    slot -= slot >= span ? span : 0;
                    pair_row(ring + slot * width, width, d, in_group, built - d->pad_h, zero_point);
                }
                for (int32_t fy = 0, slot = top; fy < d->filter_h; fy++) {
                    rows[fy] = ring + slot * width;
                    slot += d->dilation_h;
                    slot -= slot >= span ? span : 0;
                }
                for (int32_t ox0 = 0; ox0 < out_w; ox0 += 4) {
                    dw_pack(x, rows, 8 * sw, packed_w / 2, d->filter_h);
                    for (int32_t fy = 0; fy < d->filter_h; fy++) {
                        rows[fy] += 4 * sw;
                    }
                    int32_t count = out_w - ox0 < 4 ? out_w - ox0 : 4;
                    tflm_conv_gemm4_i8(x, weights, taps4, multiplier, sums);
                    outputs.out = out_b + (oy * out_w + ox0) * channels + c0;
                    if (count == 4) {
                        dw_outputs(&outputs);
                        continue;
                    }
                    for (int32_t o = 0; o < multiplier; o++) {
                        for (int32_t j = 0; j < count; j++) {
                            outputs.out[j * channels + o] =
                                (int8_t)tflm_dw_gemm_output_slow(table[o].start + sums[4 * o + j], &table[o], &outputs);
                        }
                    }
                }
                top += d->stride_h;
                top -= top >= span ? span : 0;
            }
        }
    }
    return true;
}

/*
 * The taps of one window for four channels, any filter of at most MAX_TAPS taps. Per
 * group the weights are sign-extended into a stack array ([tap][lane], taps
 * row-major); per window the assembly walks the taps: one signed input byte
 * (plus the input offset in a window cut by the padding), the four weights
 * with one ldm, four multiply-adds into r8-r11, and the loop ends where the
 * row's weights end:
 *   2 + 5 + 8 + 1 + 3 = 19 cycles for 4 MACs (20 with the offset).
 * The accumulators requantize in C (dw_requantize).
 */
/* What dw_taps reads and updates through r0; the offsets are spelled out in it. */
typedef struct {
    const int8_t *x;   /*  0: input of the first tap */
    int32_t x_col;     /*  4: input bytes between columns */
    int32_t x_skip;    /*  8: input bytes from a row's last tap to the next row's first, minus x_col */
    const int32_t *w;  /* 12: weights of the first tap */
    int32_t w_skip;    /* 16: weight bytes from the end of a row's taps to the next row's first */
    int32_t rows;      /* 20: rows left (>= 1), counted down */
    int32_t row_bytes; /* 24: weight bytes of a row's taps (>= 16) */
    int32_t offset;    /* 28: added to each input (the windowless form ignores it) */
    int32_t acc[4];    /* 32: the four accumulators, in and out */
} dw_taps_args;

typedef char dw_taps_layout_check[offsetof(dw_taps_args, acc) == 32 && offsetof(dw_taps_args, offset) == 28 ? 1 : -1];

#define DW_TAPS(add_offset)                                                                                \
    ".syntax unified\n"                                                                                    \
    "push {r4, r5, r6, r7, lr}\n mov r1, r8\n mov r2, r9\n mov r3, r10\n mov r4, r11\n push {r1, r2, r3, r4}\n" \
    "push {r0}\n"                                                                                          \
    "ldr r1, [r0, #32]\n mov r8, r1\n ldr r1, [r0, #36]\n mov r9, r1\n"                                  \
    "ldr r1, [r0, #40]\n mov r10, r1\n ldr r1, [r0, #44]\n mov r11, r1\n"                                \
    "ldr r1, [r0, #28]\n mov lr, r1\n"                                                                    \
    "ldr r7, [r0, #4]\n ldr r6, [r0, #0]\n subs r6, r6, r7\n ldr r5, [r0, #12]\n"                         \
    "1:\n ldr r1, [sp, #0]\n ldr r2, [r1, #24]\n adds r2, r5, r2\n mov r12, r2\n"                     \
    "2:\n ldrsb r0, [r6, r7]\n adds r6, r6, r7\n" add_offset "ldm r5!, {r1, r2, r3, r4}\n"             \
    "muls r1, r0, r1\n add r8, r1\n muls r2, r0, r2\n add r9, r2\n"                                     \
    "muls r3, r0, r3\n add r10, r3\n muls r4, r0, r4\n add r11, r4\n"                                   \
    "cmp r5, r12\n bne 2b\n"                                                                              \
    "ldr r1, [sp, #0]\n ldr r2, [r1, #8]\n adds r6, r6, r2\n ldr r2, [r1, #16]\n adds r5, r5, r2\n"  \
    "ldr r2, [r1, #20]\n subs r2, #1\n str r2, [r1, #20]\n bne 1b\n"                                   \
    "pop {r0}\n mov r1, r8\n str r1, [r0, #32]\n mov r1, r9\n str r1, [r0, #36]\n"                     \
    "mov r1, r10\n str r1, [r0, #40]\n mov r1, r11\n str r1, [r0, #44]\n"                               \
    "pop {r1, r2, r3, r4}\n mov r8, r1\n mov r9, r2\n mov r10, r3\n mov r11, r4\n"                     \
    "pop {r4, r5, r6, r7, pc}\n"                                                                          \
    ".syntax divided\n"

/* A window inside the input: the folded bias holds the input offset. */
__attribute__((naked)) static void dw_taps_whole(dw_taps_args *a) {
    (void)a;
    __asm__ volatile(DW_TAPS(""));
}

/* A window cut by the padding: each input plus the offset. */
__attribute__((naked)) static void dw_taps_cut(dw_taps_args *a) {
    (void)a;
    __asm__ volatile(DW_TAPS("add r0, lr\n"));
}

/*
 * requantize.h's output for |acc| < 2^19 and a right shift e in [0, 16] in
 * three 32-bit products, as DW_WIDE: m = m2 * 2^22 + m1 * 2^11 + m0 and
 * floor((acc * m + c) / 2^(31 + e)) with c / 2^22 added after the nested
 * floors (c as in depthwise_requantize.h, a multiple of 2^22). Else
 * tflm_requantize.
 */
static inline int32_t dw_requantize(int32_t acc, int32_t multiplier, int shift) {
    if ((uint32_t)acc + (1u << 19) < (1u << 20) && shift <= 0 && shift >= -16) {
        int e = -shift;
        uint32_t m = (uint32_t)multiplier;
        int32_t sum = (acc * (int32_t)(m & 0x7FFu)) >> 11;
        sum = (sum + acc * (int32_t)((m >> 11) & 0x7FFu)) >> 11;
        int32_t c = e == 0 ? 1 << 8 : (1 << 8) + (1 << (8 + e)) - (acc < 0 ? 1 << 9 : 0);
        return (sum + acc * (int32_t)(m >> 22) + c) >> (9 + e);
    }
    return tflm_requantize(acc, multiplier, shift);
}

/* At most MAX_TAPS taps: every window through dw_taps. */
__attribute__((noinline)) static bool dw_taps_eval(const tflm_conv_data *d, const tflm_conv_int8 *k,
    const int8_t *input, const int8_t *filter, int8_t *output) {
    int32_t taps = d->filter_h * d->filter_w, channels = d->out_c;
    if (taps > MAX_TAPS) {
        return false;
    }
    int32_t weights[MAX_TAPS][4];
    dw_taps_args a;
    a.x_col = d->dilation_w * d->in_c;
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        int8_t *out_b = output + b * d->out_h * d->out_w * channels;
        for (int32_t c = 0; c < channels; c += 4) {
            for (int32_t t = 0; t < taps; t++) {
                for (int j = 0; j < 4; j++) {
                    weights[t][j] = filter[t * channels + c + j];
                }
            }
            const int8_t *in_group = in_b + c / d->group_out_c;
            int8_t *out = out_b + c;
            for (int32_t oy = 0; oy < d->out_h; oy++) {
                for (int32_t ox = 0; ox < d->out_w; ox++, out += channels) {
                    tflm_conv_window win;
                    tflm_conv_window_at(d, oy, ox, &win);
                    int32_t rows = win.fy1 - win.fy0, cols = win.fx1 - win.fx0;
                    for (int j = 0; j < 4; j++) {
                        a.acc[j] = tflm_conv_int8_start(k, win.whole, c + j);
                    }
                    if (rows > 0 && cols > 0) {
                        a.x = in_group + tflm_conv_input_at(d, &win, win.fy0, win.fx0);
                        a.x_skip = d->dilation_h * d->in_w * d->in_c - cols * a.x_col;
                        a.w = weights[win.fy0 * d->filter_w + win.fx0];
                        a.w_skip = (d->filter_w - cols) * 16;
                        a.rows = rows;
                        a.row_bytes = cols * 16;
                        a.offset = k->input_offset;
                        (win.whole ? dw_taps_whole : dw_taps_cut)(&a);
                    }
                    for (int j = 0; j < 4; j++) {
                        int32_t q = dw_requantize(a.acc[j], k->multiplier[c + j], k->shift[c + j]);
                        out[j] = (int8_t)tflm_clamp(q + k->zero_point, k->min, k->max);
                    }
                }
            }
        }
    }
    return true;
}

bool tflm_dw_gemm_armv6m_eval(const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *input,
    const int8_t *filter, int8_t *output) {
    return d->group_out_c % 4 == 0 && dw_gemm_eval(d, k, input, filter, output);
}

bool tflm_dw_taps_armv6m_eval(const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *input,
    const int8_t *filter, int8_t *output) {
    return d->group_out_c % 4 == 0 && dw_taps_eval(d, k, input, filter, output);
}

#endif
