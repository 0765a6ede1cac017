/*
 * CONV_2D's window packing on ARMv6-M (Cortex-M0+), in conv_pack_armv6m.c.
 * Builds for other targets or for size pack in C (conv_2d.c).
 */
#ifndef TFLM_KERNELS_CONV_PACK_ARMV6M_H
#define TFLM_KERNELS_CONV_PACK_ARMV6M_H

#include <stdint.h>

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && !(defined(TFLM_OPTIMIZE_SIZE) && TFLM_OPTIMIZE_SIZE)
#define TFLM_CONV_PACK_ARMV6M 1
/*
 * v[2 * t] = a[t] + b[t] * 2^16 (two positions' tap t in 16-bit lanes, as
 * tflm_conv_gemm4_i8 reads them) for t in [0, n): a and b 4-byte aligned,
 * n a positive multiple of 4.
 */
void tflm_conv_pack_pair_armv6m(uint32_t *v, const int8_t *a, const int8_t *b, int32_t n);
/*
 * Four positions' taps [0, n) from src, src + across, src + 2 * across and
 * src + 3 * across (any alignment, n > 0): v[2 * t] the first two's tap t,
 * v[2 * t + 1] the last two's.
 */
void tflm_conv_pack_quad_armv6m(uint32_t *v, const int8_t *src, int32_t across, int32_t n);
#else
#define TFLM_CONV_PACK_ARMV6M 0
#endif

#endif
