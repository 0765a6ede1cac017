/*
 * A cheaper exact requantization for accumulators of 16 bits, the common
 * case of DEPTHWISE_CONV_2D (nine taps of int8 products): TFLite's
 * MultiplyByQuantizedMultiplier bit for bit, as requantize.h's forms, for the
 * multipliers tflm_quantize_multiplier makes (0 or in [2^30, 2^31)).
 *
 * With the right shift e = -shift >= 0, requantize.h gives the result as
 * floor((acc * m + c) / 2^(31 + e)), c = 2^30 + 2^(30 + e) - [acc < 0] * 2^31
 * for e >= 1 and c = 2^30 for e = 0 (its test t < 0 equals acc < 0 here: when
 * they differ, both constants give 0). c is a multiple of 2^16, so splitting
 * m = mh * 2^16 + ml gives the same floor as
 *   (acc * mh + floor(acc * ml / 2^16) + c / 2^16) >> (15 + e),
 * two 32-bit products while |acc| <= 2^15 (acc * ml stays within int32), where
 * requantize32 needs four and carries (~40 cycles an output on a Cortex-M0+,
 * this ~20). Other accumulators and shifts take tflm_requantize, as do
 * 64-bit targets (one multiply) and builds for size.
 */
#ifndef TFLM_KERNELS_DEPTHWISE_REQUANTIZE_H
#define TFLM_KERNELS_DEPTHWISE_REQUANTIZE_H

#include "requantize.h"

static inline int32_t tflm_requantize_small(int32_t acc, int32_t multiplier, int shift) {
#if TFLM_REQUANTIZE_32 && !(defined(TFLM_OPTIMIZE_SIZE) && TFLM_OPTIMIZE_SIZE)
    /* e <= 16 keeps c / 2^16 and the sum below 2^31 */
    if ((uint32_t)acc + 32768u <= 65536u && shift <= 0 && shift >= -16) {
        int e = -shift;
        int32_t high = acc * (int32_t)((uint32_t)multiplier >> 16);
        int32_t low = (acc * (int32_t)((uint32_t)multiplier & 0xFFFFu)) >> 16;
        int32_t c = e == 0 ? 1 << 14 : (1 << 14) + (1 << (14 + e)) - (acc < 0 ? 1 << 15 : 0);
        return (high + low + c) >> (15 + e);
    }
#endif
    return tflm_requantize(acc, multiplier, shift);
}

#endif
