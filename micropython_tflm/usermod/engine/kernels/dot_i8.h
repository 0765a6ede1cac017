/*
 * Dot products of int8 vectors, the inner loops of the int8 CONV_2D,
 * DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED kernels. One index
 * walks all the vectors (register + register addressing, the only form the
 * Cortex-M0+ has for signed byte loads). The blocked form reads each x once
 * for four multiplies; four accumulators fit beside the pointers in the
 * Cortex-M0+'s registers, more would spill.
 */
#ifndef TFLM_KERNELS_DOT_I8_H
#define TFLM_KERNELS_DOT_I8_H

#include <stdint.h>
#include <string.h>

#include "dsp_armv7em.h"

/* p, known to be 4-byte aligned, as a word pointer read through memcpy (one load where the compiler knows) */
#if defined(__GNUC__)
#define TFLM_ASSUME_ALIGNED4(p) ((const uint32_t *)__builtin_assume_aligned((p), 4))
#else
#define TFLM_ASSUME_ALIGNED4(p) ((const uint32_t *)(const void *)(p))
#endif

static inline int32_t tflm_dot_i8(const int8_t *x, const int8_t *w, int32_t n) {
    int32_t acc = 0;
    for (int32_t i = 0; i < n; i++) {
        acc += x[i] * w[i];
    }
    return acc;
}

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && !(defined(TFLM_OPTIMIZE_SIZE) && TFLM_OPTIMIZE_SIZE)
#define TFLM_SUM_ARMV6M 1
/* out[r] = tflm_sum_i8's lanes over row r's words (1 to 128 a row, rows back to back), in Thumb-1 (dot_i8_armv6m.c). */
void tflm_sum_lanes_rows_armv6m(const uint32_t *v, int32_t words, int32_t rows, uint32_t *out);
#else
#define TFLM_SUM_ARMV6M 0
#endif

/* The sum of `values` int8 values (a multiple of 4) from their lanes: each biased by 128, summed in two halves. */
static inline int32_t tflm_sum_from_lanes(uint32_t lanes, int32_t values) {
    return (int32_t)((lanes & 0xFFFFu) + (lanes >> 16)) - 128 * values;
}

/*
 * Four values a word from the first word boundary on: biased to unsigned
 * (w ^ 0x80 = w + 128), byte pairs summed in two 16-bit lanes, which 128
 * words cannot carry out of (2 * 255 * 128 < 2^16). About 2 cycles a value
 * on a Cortex-M0+ instead of 7.
 */
static inline int32_t tflm_sum_i8(const int8_t *w, int32_t n) {
    int32_t sum = 0, i = 0;
    for (; i < n && (uintptr_t)(w + i) % 4 != 0; i++) {
        sum += w[i];
    }
    while (n - i >= 4) {
        int32_t words = (n - i) >> 2 < 128 ? (n - i) >> 2 : 128;
        const uint32_t *v = TFLM_ASSUME_ALIGNED4(w + i);
#if TFLM_SUM_ARMV6M
        uint32_t lanes;
        tflm_sum_lanes_rows_armv6m(v, words, 1, &lanes);
#else
        uint32_t lanes = 0;
        for (int32_t k = 0; k < words; k++) {
            uint32_t u;
            memcpy(&u, v + k, 4);
            u ^= 0x80808080u;
            lanes += (u & 0x00FF00FFu) + ((u >> 8) & 0x00FF00FFu);
        }
#endif
        sum += tflm_sum_from_lanes(lanes, 4 * words);
        i += 4 * words;
    }
    for (; i < n; i++) {
        sum += w[i];
    }
    return sum;
}

/* sums[r] = tflm_sum_i8 of row r of `rows` rows of n values, back to back. */
static inline void tflm_sum_i8_rows(const int8_t *w, int32_t n, int32_t rows, int32_t *sums) {
#if TFLM_SUM_ARMV6M
    /* whole words: one call for all rows */
    if (n % 4 == 0 && n <= 512 && (uintptr_t)w % 4 == 0) {
        tflm_sum_lanes_rows_armv6m(TFLM_ASSUME_ALIGNED4(w), n / 4, rows, (uint32_t *)sums);
        for (int32_t r = 0; r < rows; r++) {
            sums[r] = tflm_sum_from_lanes((uint32_t)sums[r], n);
        }
        return;
    }
#endif
    for (int32_t r = 0; r < rows; r++) {
        sums[r] = tflm_sum_i8(w + r * n, n);
    }
}

/* acc[j] += (x + x_offset) . w[j] over n elements, for four vectors w[j], in portable C. */
static inline void tflm_dot4_i8_portable(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n,
    int32_t acc[4]) {
    /* The index counts from -n up to 0: no register holds n (the Cortex-M0+ has
     * none to spare, gcc would keep the accumulators on the stack). */
    const int8_t *w0 = w[0] + n, *w1 = w[1] + n, *w2 = w[2] + n, *w3 = w[3] + n;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    x += n;
    for (int32_t i = -n; i < 0; i++) {
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

/* acc[j] += (x + x_offset) . w[j] over n elements, for four vectors w[j]. */
static inline void tflm_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n,
    int32_t acc[4]) {
#ifdef TFLM_ARMV7EM_DSP
    tflm_dsp_dot4_i8(x, x_offset, w, n, acc);
#else
    tflm_dot4_i8_portable(x, x_offset, w, n, acc);
#endif
}

#endif
