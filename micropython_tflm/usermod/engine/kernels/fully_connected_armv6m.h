/*
 * FULLY_CONNECTED's int8 dot products on ARMv6-M (Cortex-M0+), in
 * fully_connected_armv6m.c. Builds for other targets or for size take
 * tflm_dot4_i8 (dot_i8.h).
 */
#ifndef TFLM_KERNELS_FULLY_CONNECTED_ARMV6M_H
#define TFLM_KERNELS_FULLY_CONNECTED_ARMV6M_H

#include <stdint.h>

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && !(defined(TFLM_OPTIMIZE_SIZE) && TFLM_OPTIMIZE_SIZE)
#define TFLM_FC_ARMV6M 1
/* acc[j] += (x + x_offset) . w[j] over n elements, for four vectors w[j]: tflm_dot4_i8's contract. */
void tflm_fc_dot4_armv6m(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n, int32_t acc[4]);
#else
#define TFLM_FC_ARMV6M 0
#endif

#endif
