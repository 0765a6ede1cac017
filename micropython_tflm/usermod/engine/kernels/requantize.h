/*
 * TFLite's MultiplyByQuantizedMultiplier (quant.h's tflm_mbqm), bit for bit,
 * for the multipliers tflm_quantize_multiplier makes (never INT32_MIN, where
 * SaturatingRoundingDoublingHighMul saturates): the per-output step of the
 * int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels, in two forms.
 *
 * With a = x << left and p = a * multiplier, SaturatingRoundingDoublingHighMul
 * is t = floor((p + 2^30) / 2^31) (its nudge and truncation toward zero come
 * to that). RoundingDivideByPOT by 2^e, e the right shift, rounds half away
 * from zero: floor((t + 2^(e-1) - [t < 0]) / 2^e) for e >= 1.
 *
 * tflm_requantize64: as floor((floor(y) + c) / 2^e) = floor((y + c) / 2^e)
 * for an integer c, both roundings are one floor of
 * (p + 2^30 + (2^(e-1) - [t < 0]) * 2^31) / 2^(31 + e), and t < 0 exactly
 * when p + 2^30 < 0: one 64-bit multiply, add and shift.
 *
 * tflm_requantize32: p from four 16 x 16-bit products in 32-bit arithmetic,
 * for targets whose compiler calls a library routine for a 64-bit multiply
 * (ARMv6-M: with the 64-bit shifts about 150 cycles an output against 40).
 * A 64-bit host runs it at a third of the other's speed.
 */
#ifndef TFLM_KERNELS_REQUANTIZE_H
#define TFLM_KERNELS_REQUANTIZE_H

#include <stdint.h>

#include "../quant.h"

#ifndef TFLM_REQUANTIZE_32
#if defined(__ARM_ARCH_6M__)
#define TFLM_REQUANTIZE_32 1
#else
#define TFLM_REQUANTIZE_32 0
#endif
#endif

static inline int32_t tflm_requantize64(int32_t x, int32_t multiplier, int shift) {
    if (shift > 0) {
        /* TFLite shifts left in int32; wrap as it does, without UB. */
        x = (int32_t)((uint32_t)x << shift);
        shift = 0;
    }
    int64_t p = (int64_t)x * multiplier + ((int64_t)1 << 30);
    if (shift < 0) {
        p += ((int64_t)1 << (30 - shift)) - (p < 0 ? ((int64_t)1 << 31) : 0);
    }
    return (int32_t)(p >> (31 - shift));
}

static inline int32_t tflm_requantize32(int32_t x, int32_t multiplier, int shift) {
    if (shift > 0) {
        x = (int32_t)((uint32_t)x << shift);
        shift = 0;
    }
    /* p = hi * 2^32 + lo from x = xh * 2^16 + xl and multiplier = mh * 2^16 + ml */
    int32_t xh = x >> 16;
    uint32_t xl = (uint32_t)x & 0xFFFFu, mh = (uint32_t)multiplier >> 16, ml = (uint32_t)multiplier & 0xFFFFu;
    int32_t hi = xh * (int32_t)mh, mid = xh * (int32_t)ml; /* |mid| <= 2^31 - 2^16 */
    uint32_t lo = xl * ml, mid_u = xl * mh, sum;           /* mid_u < 2^31 */
    sum = lo + ((uint32_t)mid << 16);
    hi += (mid >> 16) + (sum < lo);
    lo = sum;
    sum = lo + (mid_u << 16);
    hi += (int32_t)(mid_u >> 16) + (sum < lo);
    lo = sum;
    /* SaturatingRoundingDoublingHighMul: floor((p + 2^30) / 2^31) */
    sum = lo + (1u << 30);
    hi += sum < lo;
    int32_t t = (int32_t)(((uint32_t)hi << 1) | (sum >> 31));
    if (shift == 0) {
        return t;
    }
    /* RoundingDivideByPOT */
    int e = -shift;
    int32_t mask = (int32_t)((1u << e) - 1u);
    return (t >> e) + ((t & mask) > (mask >> 1) + (t < 0));
}

static inline int32_t tflm_requantize(int32_t x, int32_t multiplier, int shift) {
#if TFLM_OPTIMIZE_SIZE
    return tflm_mbqm(x, multiplier, shift); /* builds for size: no copy per kernel, quant.c's tflm_srdhm */
#elif TFLM_REQUANTIZE_32
    return tflm_requantize32(x, multiplier, shift);
#else
    return tflm_requantize64(x, multiplier, shift);
#endif
}

#endif
