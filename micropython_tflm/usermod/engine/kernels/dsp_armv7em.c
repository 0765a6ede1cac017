/*
 * The ARMv7E-M DSP extension's int8 loops (see dsp_armv7em.h), each in a
 * function of its own: inlined into a caller, its fourteen registers could
 * run out. Empty on other targets.
 */
#include "dsp_armv7em.h"

#ifdef TFLM_ARMV7EM_DSP

#include <arm_acle.h>

/* x_offset in both halfwords, the addend SXTAB16 widens x onto. */
static int16x2_t offset_pair(int32_t x_offset) {
    return (int16x2_t)(((uint32_t)x_offset << 16) | ((uint32_t)x_offset & 0xffffu));
}

/*
 * One step of the four-vector loops below: the four lanes of the weight word
 * at [w + i] times the widened x pairs, added to accumulator a.
 */
#define TFLM_DSP_MAC4(a, w) \
    "ldr %[word], [" w ", %[i]]\n\t" \
    "sxtb16 %[pair], %[word]\n\t" \
    "smlad " a ", %[x_even], %[pair], " a "\n\t" \
    "sxtb16 %[pair], %[word], ror #8\n\t" \
    "smlad " a ", %[x_odd], %[pair], " a "\n\t"

#define TFLM_DSP_MAC4_X4 \
    TFLM_DSP_MAC4("%[a0]", "%[w0]") TFLM_DSP_MAC4("%[a1]", "%[w1]") \
    TFLM_DSP_MAC4("%[a2]", "%[w2]") TFLM_DSP_MAC4("%[a3]", "%[w3]") \
    "adds %[i], %[i], #4\n\t" \
    "bmi 1b\n\t"

/*
 * acc[j] += (x + x_offset) . w[j] over n elements, for four vectors w[j]:
 * tflm_dot4_i8's contract. Sixteen MACs take one x load, two widenings and
 * per vector a load, two widenings and two SMLADs. With an offset, the offset
 * pair comes from the stack each step into the register that then holds the
 * weight pairs.
 */
void tflm_dsp_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n,
    int32_t acc[4]) {
    int32_t words = n & ~3;
    const int8_t *w0 = w[0] + words, *w1 = w[1] + words, *w2 = w[2] + words, *w3 = w[3] + words;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    x += words;
    if (words) {
        int32_t i = -words; /* counts up to 0: the flags of the add end the loop */
        uint32_t word;
        int16x2_t x_even, x_odd, pair;
        if (x_offset) {
            const int16x2_t offset = offset_pair(x_offset);
            __asm__ (
                "1:\n\t"
                "ldr %[word], [%[x], %[i]]\n\t"
                "ldr %[pair], %[offset]\n\t"
                "sxtab16 %[x_even], %[pair], %[word]\n\t"
                "sxtab16 %[x_odd], %[pair], %[word], ror #8\n\t"
                TFLM_DSP_MAC4_X4
                : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [i] "+r" (i),
                  [word] "=&r" (word), [pair] "=&r" (pair), [x_even] "=&r" (x_even), [x_odd] "=&r" (x_odd)
                : [x] "r" (x), [w0] "r" (w0), [w1] "r" (w1), [w2] "r" (w2), [w3] "r" (w3), [offset] "m" (offset)
                : "cc", "memory");
        } else {
            __asm__ (
                "1:\n\t"
                "ldr %[word], [%[x], %[i]]\n\t"
                "sxtb16 %[x_even], %[word]\n\t"
                "sxtb16 %[x_odd], %[word], ror #8\n\t"
                TFLM_DSP_MAC4_X4
                : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [i] "+r" (i),
                  [word] "=&r" (word), [pair] "=&r" (pair), [x_even] "=&r" (x_even), [x_odd] "=&r" (x_odd)
                : [x] "r" (x), [w0] "r" (w0), [w1] "r" (w1), [w2] "r" (w2), [w3] "r" (w3)
                : "cc", "memory");
        }
    }
    for (int32_t i = 0; i < (n & 3); i++) {
        int32_t v = x[i] + x_offset;
        a0 += v * w0[i];
        a1 += v * w1[i];
        a2 += v * w2[i];
        a3 += v * w3[i];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#undef TFLM_DSP_MAC4_X4
#undef TFLM_DSP_MAC4

/*
 * The loops over a window's taps: a row of cols taps (1:), then the next row
 * (2:), the row count and steps on the stack. x and w move by their column
 * steps in the tap's code.
 */
#define TFLM_DSP_ROWS_BEGIN \
    "2:\n\t" \
    "ldr %[taps], %[cols]\n\t" \
    "1:\n\t"

#define TFLM_DSP_ROWS_END \
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

#define TFLM_DSP_ROWS_OPERANDS \
    [x_col] "r" (x_col), [w_col] "r" (w_col), [offset] "r" (offset), [cols] "m" (cols), \
    [x_next_row] "m" (x_next_row), [w_next_row] "m" (w_next_row)

/*
 * acc[j] += (x[j * x_lane] + x_offset) * w[j] over the window's taps, for
 * the four lanes j of the w word at each tap and x_lane 1 (x's four lanes)
 * or 0 (one x for all four). SMLABB and SMLATT (SMLABT for one x) multiply
 * the pairs' halves, one MAC each: 14 instructions per tap with four x, 13
 * with one.
 */
void tflm_dsp_lanes4_window_i8(const int8_t *x, int32_t x_lane, int32_t x_offset, const int8_t *w,
    const tflm_dsp_window *window, int32_t acc[4]) {
    if (window->rows <= 0 || window->cols <= 0) {
        return;
    }
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t rows = window->rows, cols = window->cols, x_col = window->x_col, w_col = window->w_col;
    /* from one past a row's last tap to the next row's first */
    int32_t x_next_row = window->x_row - cols * x_col, w_next_row = window->w_row - cols * w_col;
    const int16x2_t offset = offset_pair(x_offset);
    int32_t taps;
    uint32_t x_word, w_word;
    int16x2_t x_even, w_pair;
    if (x_lane) {
        __asm__ (
            TFLM_DSP_ROWS_BEGIN
            "ldr %[x_word], [%[x]]\n\t"
            "add %[x], %[x], %[x_col]\n\t"
            "ldr %[w_word], [%[w]]\n\t"
            "add %[w], %[w], %[w_col]\n\t"
            "sxtab16 %[x_even], %[offset], %[x_word]\n\t"
            "sxtab16 %[x_word], %[offset], %[x_word], ror #8\n\t"
            "sxtb16 %[w_pair], %[w_word]\n\t"
            "smlabb %[a0], %[x_even], %[w_pair], %[a0]\n\t"
            "smlatt %[a2], %[x_even], %[w_pair], %[a2]\n\t"
            "sxtb16 %[w_pair], %[w_word], ror #8\n\t"
            "smlabb %[a1], %[x_word], %[w_pair], %[a1]\n\t"
            "smlatt %[a3], %[x_word], %[w_pair], %[a3]\n\t"
            TFLM_DSP_ROWS_END
            : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), [w] "+r" (w),
              [rows] "+m" (rows), [taps] "=&r" (taps), [x_word] "=&r" (x_word), [w_word] "=&r" (w_word),
              [x_even] "=&r" (x_even), [w_pair] "=&r" (w_pair)
            : TFLM_DSP_ROWS_OPERANDS
            : "cc", "memory");
    } else {
        /* the offset pair's low half added to x: SMLABx reads only the low half */
        __asm__ (
            TFLM_DSP_ROWS_BEGIN
            "ldrsb %[x_word], [%[x]]\n\t"
            "add %[x], %[x], %[x_col]\n\t"
            "ldr %[w_word], [%[w]]\n\t"
            "add %[w], %[w], %[w_col]\n\t"
            "add %[x_word], %[x_word], %[offset]\n\t"
            "sxtb16 %[w_pair], %[w_word]\n\t"
            "smlabb %[a0], %[x_word], %[w_pair], %[a0]\n\t"
            "smlabt %[a2], %[x_word], %[w_pair], %[a2]\n\t"
            "sxtb16 %[w_pair], %[w_word], ror #8\n\t"
            "smlabb %[a1], %[x_word], %[w_pair], %[a1]\n\t"
            "smlabt %[a3], %[x_word], %[w_pair], %[a3]\n\t"
            TFLM_DSP_ROWS_END
            : [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), [w] "+r" (w),
              [rows] "+m" (rows), [taps] "=&r" (taps), [x_word] "=&r" (x_word), [w_word] "=&r" (w_word),
              [w_pair] "=&r" (w_pair)
            : TFLM_DSP_ROWS_OPERANDS
            : "cc", "memory");
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#undef TFLM_DSP_ROWS_OPERANDS
#undef TFLM_DSP_ROWS_END
#undef TFLM_DSP_ROWS_BEGIN

/*
 * sums[4 * o + j] = sum over i < k of xj[i] * w[o * k + i]: tflm_conv_gemm4_i8's
 * contract with x as four int16 planes x0[0..k) .. x3[0..k) (k a multiple
 * of 4, x and w 4-byte aligned). Per four taps of one channel: the weight
 * word widened into pairs (w0, w2), (w1, w3) and repacked by PKHBT/PKHTB as
 * (w0, w1), (w2, w3), the order of the planes' words; then per position an
 * LDRD of its four taps and two SMLADs. 16 MACs in 20 instructions; the end
 * of the channel's weights is on the stack, the registers hold the rest.
 */
void tflm_dsp_gemm4_i8(const int16_t *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums) {
    for (int32_t o = 0; o < n; o++, sums += 4) {
        const int16_t *x0 = x, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
        const int8_t *end = w + k;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        uint32_t w_word, w_odd, w_low, x_low, x_high;
        __asm__ (
            "1:\n\t"
            "ldr %[w_word], [%[w]], #4\n\t"
            "sxtb16 %[w_odd], %[w_word], ror #8\n\t"
            "sxtb16 %[w_word], %[w_word]\n\t"
            "pkhbt %[w_low], %[w_word], %[w_odd], lsl #16\n\t"
            "pkhtb %[w_word], %[w_odd], %[w_word], asr #16\n\t"
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
              [w_odd] "=&r" (w_odd), [w_low] "=&r" (w_low), [x_low] "=&r" (x_low), [x_high] "=&r" (x_high)
            : [end] "m" (end)
            : "cc", "memory");
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }
}

#endif
