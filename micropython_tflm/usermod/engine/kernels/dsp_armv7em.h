/*
 * int8 multiply-accumulates with the ARMv7E-M DSP extension (Cortex-M4,
 * Cortex-M7, Cortex-M33/M55 with DSP), written from the Architecture
 * Reference Manual's definitions of three instructions:
 *
 *   SXTB16 d, m, ROR #r   rotates m right by r bits, then sign-extends its
 *                         bytes 0 and 2 into the low and high halfwords of d;
 *   SXTAB16 d, n, m, ROR #r   the same, each halfword then added to n's (mod 2^16);
 *   SMLAD d, n, m, a      d = a + n.lo * m.lo + n.hi * m.hi (signed 16 x 16,
 *                         the sum kept mod 2^32; overflow only sets the Q flag);
 *   SMLABB / SMLATT d, n, m, a   d = a + n.lo * m.lo / a + n.hi * m.hi.
 *
 * A word of four int8 lanes becomes two words of int16 pairs: lanes 0 and 2
 * (no rotation), lanes 1 and 3 (ROR #8). Widening x and w the same way pairs
 * x[i] with w[i], so two SMLADs add four products. x + offset stays within
 * int16 (x in [-128, 127], offset = -zero point in [-127, 128]) and each
 * product within 17 bits, and the accumulators wrap mod 2^32 exactly as the
 * portable int32 sums do (-fwrapv): results are the portable ones, bit for bit.
 *
 * The loops are assembly in dsp_armv7em.c: each needs fourteen registers,
 * all there are beside sp and pc, and gcc's own allocation spills pointers.
 * Their word loads are LDR, which ARMv7-M allows at any address.
 *
 * Declares the helpers and defines TFLM_ARMV7EM_DSP only when the target has
 * the DSP and SIMD32 instructions; kernels test TFLM_ARMV7EM_DSP around
 * their calls.
 */
#ifndef TFLM_KERNELS_DSP_ARMV7EM_H
#define TFLM_KERNELS_DSP_ARMV7EM_H

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#define TFLM_ARMV7EM_DSP 1

#include <stdint.h>

/*
 * acc[j] += (x + x_offset) . w[j] over n elements, for four vectors w[j]:
 * tflm_dot4_i8's contract, sixteen MACs in 23 instructions. In dsp_armv7em.c.
 */
void tflm_dsp_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n, int32_t acc[4]);

/* A window of taps: rows x cols, x and w moving by fixed steps (in bytes) per row and column. */
typedef struct {
    int32_t rows, cols;
    int32_t x_row, x_col;
    int32_t w_row, w_col;
} tflm_dsp_window;

/*
 * acc[j] += (x[j * x_lane] + x_offset) * w[j] over the window's taps, for
 * the four adjacent lanes j of w at each tap and x_lane 1 (four adjacent x)
 * or 0 (one x for the four): four DEPTHWISE_CONV_2D output channels of depth
 * multiplier 1 or a multiple of 4. tflm_conv_grid_dot4_i8's contract for
 * those lanes; four MACs in 14 instructions (13 for one x). In dsp_armv7em.c.
 */
void tflm_dsp_lanes4_window_i8(const int8_t *x, int32_t x_lane, int32_t x_offset, const int8_t *w,
    const tflm_dsp_window *window, int32_t acc[4]);

/*
 * sums[4 * o + j] = sum over i < k of xj[i] * w[o * k + i] for n output
 * channels o, xj the int16 plane x + j * k (k a multiple of 4, x and w
 * 4-byte aligned): CONV_2D's product of matrices (tflm_conv_gemm4_i8) on
 * four output positions. 16 MACs in 20 instructions. In dsp_armv7em.c.
 */
void tflm_dsp_gemm4_i8(const int16_t *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums);

#endif
#endif
