/*
 * The int8 loops for ARMv7E-M's DSP extension (see dsp_armv7em.h): the
 * four-vector dot product, and this architecture's forms of
 * depthwise_dot.h's loops and of tflm_conv_gemm4_i8 (conv_common.h), which
 * replace the portable ones. Empty on other targets.
 *
 * Each loop is one asm statement over at most 13 registers: r0-r12 and lr
 * but for r7, which gcc keeps for the frame pointer with
 * -fno-omit-frame-pointer. What does not fit is read from the stack ("m"
 * operands) into a register that is free at that point of the loop.
 */
#include "conv_common.h"
#include "depthwise_dot.h"

#ifdef TFLM_ARMV7EM_DSP

/* x_offset in both halfwords, the addend SXTAB16 widens x onto. */
static uint32_t offset_pair(int32_t x_offset) {
    return ((uint32_t)x_offset << 16) | ((uint32_t)x_offset & 0xffffu);
}

/* One vector of tflm_dsp_dot4_i8: the weight word at w, widened, times the x pairs, into a. */
#define DOT4_VECTOR(a, w) \
    "ldr %[word], [" w "], #4\n\t" \
    "sxtb16 %[pair], %[word]\n\t" \
    "smlad " a ", %[x_even], %[pair], " a "\n\t" \
    "sxtb16 %[pair], %[word], ror #8\n\t" \
    "smlad " a ", %[x_odd], %[pair], " a "\n\t"

#define DOT4_VECTORS_AND_LOOP \
    DOT4_VECTOR("%[a0]", "%[w0]") DOT4_VECTOR("%[a1]", "%[w1]") \
    DOT4_VECTOR("%[a2]", "%[w2]") DOT4_VECTOR("%[a3]", "%[w3]") \
    "ldr %[word], %[end]\n\t" \
    "cmp %[x], %[word]\n\t" \
    "bne 1b\n\t"

#define DOT4_OPERANDS \
    [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), \
    [w0] "+r" (w0), [w1] "+r" (w1), [w2] "+r" (w2), [w3] "+r" (w3), \
    [word] "=&r" (word), [pair] "=&r" (pair), [x_even] "=&r" (x_even), [x_odd] "=&r" (x_odd)

/*
 * Four x values a step: one load, two widenings (SXTAB16 adds the offset,
 * its pair read from the stack into the register the weight pairs use
 * next), then per vector a load, two widenings and two SMLADs: 16 MACs in
 * 24 instructions, 25 with an offset.
 */
void tflm_dsp_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n, int32_t acc[4]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    const int8_t *end = x + (n & ~3);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (x != end) {
        uint32_t word, pair, x_even, x_odd;
        if (x_offset) {
            const uint32_t offset = offset_pair(x_offset);
            __asm__ (
                "1:\n\t"
                "ldr %[word], [%[x]], #4\n\t"
                "ldr %[pair], %[offset]\n\t"
                "sxtab16 %[x_even], %[pair], %[word]\n\t"
                "sxtab16 %[x_odd], %[pair], %[word], ror #8\n\t"
                DOT4_VECTORS_AND_LOOP
                : DOT4_OPERANDS
                : [end] "m" (end), [offset] "m" (offset)
                : "cc", "memory");
        } else {
            __asm__ (
                "1:\n\t"
                "ldr %[word], [%[x]], #4\n\t"
                "sxtb16 %[x_even], %[word]\n\t"
                "sxtb16 %[x_odd], %[word], ror #8\n\t"
                DOT4_VECTORS_AND_LOOP
                : DOT4_OPERANDS
                : [end] "m" (end)
                : "cc", "memory");
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    const int8_t *const rest[4] = { w0, w1, w2, w3 };
    tflm_dot4_i8_portable(end, x_offset, rest, n & 3, acc);
}

#if TFLM_DW_WORDS
/*
 * The walk over a window's taps: a row of cols taps (1:), then the next row
 * (2:), with the row count and the steps between rows on the stack. A tap's
 * code loads x_word and w_word and moves x and w to the next column.
 */
#define WINDOW_ROWS_BEGIN \
    "2:\n\t" \
    "ldr %[taps], %[cols]\n\t" \
    "1:\n\t"

#define WINDOW_TAP_LOADS(x_load) \
    x_load " %[x_word], [%[x]]\n\t" \
    "add %[x], %[x], %[x_col]\n\t" \
    "ldr %[w_word], [%[w]]\n\t" \
    "add %[w], %[w], %[w_col]\n\t"

#define WINDOW_ROWS_END \
    "subs %[taps], %[taps], #1\n\t" \
    "bne 1b\n\t" \
    "ldr %[taps], %[x_next_row]\n\t" \
    "add %[x], %[x], %[taps]\n\t" \
    "ldr %[taps], %[w_next_row]\n\t" \
    "add %[w], %[w], %[taps]\n\t" \
    "ldr %[taps], %[rows]\n\t" \
    "subs %[taps], %[taps], #1\n\t" \
    "str %[taps], %[rows]\n\t" \
    "bne 2b\n\t"

/* Four x lanes widened into x_even (lanes 0, 2) and x_word (1, 3), then the weights' pairs. */
#define WINDOW_FOUR_X_MACS \
    "sxtb16 %[w_pair], %[w_word]\n\t" \
    "smlabb %[a0], %[x_even], %[w_pair], %[a0]\n\t" \
    "smlatt %[a2], %[x_even], %[w_pair], %[a2]\n\t" \
    "sxtb16 %[w_pair], %[w_word], ror #8\n\t" \
    "smlabb %[a1], %[x_word], %[w_pair], %[a1]\n\t" \
    "smlatt %[a3], %[x_word], %[w_pair], %[a3]\n\t"

#define WINDOW_OUTPUTS \
    [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), [w] "+r" (w), \
    [rows] "+m" (rows), [taps] "=&r" (taps), [x_word] "=&r" (x_word), [w_word] "=&r" (w_word), \
    [w_pair] "=&r" (w_pair)

#define WINDOW_INPUTS \
    [x_col] "r" (x_col), [w_col] "r" (w_col), [cols] "m" (cols), [x_next_row] "m" (x_next_row), \
    [w_next_row] "m" (w_next_row)

/* Which x a tap's four lanes read. */
typedef enum { FOUR_X, FOUR_X_OFFSET, ONE_X_OFFSET } window_x;

/*
 * acc[j] += (x lane j, or the one x, + x_offset) * w lane j over the taps of
 * g. Widened pairs, then SMLABB and SMLATT (SMLABT for the one x), a MAC
 * each: four MACs in 14 instructions a tap (15 with the offset pair read
 * from the stack, 13 for one x).
 */
static void window_dot4(const tflm_conv_grid *g, const int8_t *x, window_x form, int32_t x_offset, const int8_t *w,
    int32_t acc[4]) {
    if (g->rows <= 0 || g->cols <= 0) {
        return;
    }
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t rows = g->rows, cols = g->cols, x_col = g->x_col, w_col = g->w_col;
    /* from one past a row's last tap to the next row's first */
    int32_t x_next_row = g->x_row - cols * x_col, w_next_row = g->w_row - cols * w_col;
    const uint32_t offset = offset_pair(x_offset);
    int32_t taps;
    uint32_t x_word, w_word, w_pair, x_even;
    if (form == FOUR_X) {
        __asm__ (
            WINDOW_ROWS_BEGIN
            WINDOW_TAP_LOADS("ldr")
            "sxtb16 %[x_even], %[x_word]\n\t"
            "sxtb16 %[x_word], %[x_word], ror #8\n\t"
            WINDOW_FOUR_X_MACS
            WINDOW_ROWS_END
            : WINDOW_OUTPUTS, [x_even] "=&r" (x_even)
            : WINDOW_INPUTS
            : "cc", "memory");
    } else if (form == FOUR_X_OFFSET) {
        __asm__ (
            WINDOW_ROWS_BEGIN
            WINDOW_TAP_LOADS("ldr")
            "ldr %[w_pair], %[offset]\n\t"
            "sxtab16 %[x_even], %[w_pair], %[x_word]\n\t"
            "sxtab16 %[x_word], %[w_pair], %[x_word], ror #8\n\t"
            WINDOW_FOUR_X_MACS
            WINDOW_ROWS_END
            : WINDOW_OUTPUTS, [x_even] "=&r" (x_even)
            : WINDOW_INPUTS, [offset] "m" (offset)
            : "cc", "memory");
    } else {
        /* the offset pair's low half added to x: SMLABx reads x's low half only */
        __asm__ (
            WINDOW_ROWS_BEGIN
            WINDOW_TAP_LOADS("ldrsb")
            "add %[x_word], %[x_word], %[offset]\n\t"
            "sxtb16 %[w_pair], %[w_word]\n\t"
            "smlabb %[a0], %[x_word], %[w_pair], %[a0]\n\t"
            "smlabt %[a2], %[x_word], %[w_pair], %[a2]\n\t"
            "sxtb16 %[w_pair], %[w_word], ror #8\n\t"
            "smlabb %[a1], %[x_word], %[w_pair], %[a1]\n\t"
            "smlabt %[a3], %[x_word], %[w_pair], %[a3]\n\t"
            WINDOW_ROWS_END
            : WINDOW_OUTPUTS
            : WINDOW_INPUTS, [offset] "r" (offset)
            : "cc", "memory");
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

void tflm_dw_dot4_words(const tflm_conv_grid *g, const int8_t *x, const int8_t *w, int32_t acc[4]) {
    window_dot4(g, x, FOUR_X, 0, w, acc);
}

void tflm_dw_dot4_words_offset(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]) {
    window_dot4(g, x, FOUR_X_OFFSET, x_offset, w, acc);
}

void tflm_dw_dot4_shared(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]) {
    window_dot4(g, x, ONE_X_OFFSET, x_offset, w, acc);
}
#endif

#if TFLM_CONV_GEMM
/*
 * x as four int16 planes (conv_common.h). Per four taps of one channel: the
 * weight word widened into pairs (w0, w2), (w1, w3) and reordered by
 * PKHBT/PKHTB into (w0, w1), (w2, w3), the order of the planes' words; then
 * per position an LDRD of its four taps and two SMLADs: 16 MACs in 20
 * instructions. x_low shares its register with the odd weight pair, which
 * the repacking has consumed by the time x is loaded.
 */
void tflm_conv_gemm4_i8(const void *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums) {
    for (int32_t o = 0; o < n; o++, sums += 4) {
        const int16_t *x0 = x, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
        const int8_t *end = w + k;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        uint32_t w_word, w_low, x_low, x_high;
        __asm__ (
            "1:\n\t"
            "ldr %[w_word], [%[w]], #4\n\t"
            "sxtb16 %[x_low], %[w_word], ror #8\n\t"
            "sxtb16 %[w_word], %[w_word]\n\t"
            "pkhbt %[w_low], %[w_word], %[x_low], lsl #16\n\t"
            "pkhtb %[w_word], %[x_low], %[w_word], asr #16\n\t"
            "ldrd %[x_low], %[x_high], [%[x0]], #8\n\t"
            "smlad %[s0], %[x_low], %[w_low], %[s0]\n\t"
            "smlad %[s0], %[x_high], %[w_word], %[s0]\n\t"
            "ldrd %[x_low], %[x_high], [%[x1]], #8\n\t"
            "smlad %[s1], %[x_low], %[w_low], %[s1]\n\t"
            "smlad %[s1], %[x_high], %[w_word], %[s1]\n\t"
            "ldrd %[x_low], %[x_high], [%[x2]], #8\n\t"
            "smlad %[s2], %[x_low], %[w_low], %[s2]\n\t"
            "smlad %[s2], %[x_high], %[w_word], %[s2]\n\t"
            "ldrd %[x_low], %[x_high], [%[x3]], #8\n\t"
            "smlad %[s3], %[x_low], %[w_low], %[s3]\n\t"
            "smlad %[s3], %[x_high], %[w_word], %[s3]\n\t"
            "ldr %[x_low], %[end]\n\t"
            "cmp %[w], %[x_low]\n\t"
            "bne 1b\n\t"
            : [s0] "+r" (s0), [s1] "+r" (s1), [s2] "+r" (s2), [s3] "+r" (s3), [w] "+r" (w),
              [x0] "+r" (x0), [x1] "+r" (x1), [x2] "+r" (x2), [x3] "+r" (x3), [w_word] "=&r" (w_word),
              [w_low] "=&r" (w_low), [x_low] "=&r" (x_low), [x_high] "=&r" (x_high)
            : [end] "m" (end)
            : "cc", "memory");
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }
}
#endif

#endif
