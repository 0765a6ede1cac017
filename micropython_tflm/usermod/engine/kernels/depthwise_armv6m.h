/*
 * int8 DEPTHWISE_CONV_2D for ARMv6-M (Cortex-M0+), in depthwise_armv6m.c: a
 * depth multiplier of 1 with channels a multiple of four or a depth
 * multiplier that is a multiple of four, filters three columns wide and at
 * most five rows, horizontal stride 1 or 2 without horizontal dilation; and
 * a depth multiplier that is a multiple of four with any filter of at most
 * 80 taps (micro_speech's 10 x 8), in depthwise_shared_armv6m.c. Other
 * layers, and builds for other targets or for size, take the portable loops.
 */
#ifndef TFLM_KERNELS_DEPTHWISE_ARMV6M_H
#define TFLM_KERNELS_DEPTHWISE_ARMV6M_H

#include "conv_common.h"

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && !(defined(TFLM_OPTIMIZE_SIZE) && TFLM_OPTIMIZE_SIZE)
#define TFLM_DW_ARMV6M 1
/* Computes the layer and returns true, or returns false when it is not one the fast path takes. */
bool tflm_dw_armv6m_eval(const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *input,
    const int8_t *filter, int8_t *output);
/* The depth multipliers that are a multiple of four, in depthwise_shared_armv6m.c: products of matrices
 * (tried first), and each window's taps (after the band path). */
bool tflm_dw_gemm_armv6m_eval(const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *input,
    const int8_t *filter, int8_t *output);
bool tflm_dw_taps_armv6m_eval(const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *input,
    const int8_t *filter, int8_t *output);
#else
#define TFLM_DW_ARMV6M 0
#endif

#endif
