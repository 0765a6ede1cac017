/*
 * int8 multiply-accumulates with the ARMv7E-M DSP extension (Cortex-M4,
 * Cortex-M7, Cortex-M33/M55 with DSP), written from the Architecture
 * Reference Manual's definitions of the instructions they use:
 *
 *   SXTB16 d, m, ROR #r   rotates m right by r bits, then sign-extends its
 *                         bytes 0 and 2 into the low and high halfwords of d;
 *   SXTAB16 d, n, m, ROR #r   the same, each halfword then added to n's (mod 2^16);
 *   SMLAD d, n, m, a      d = a + n.lo * m.lo + n.hi * m.hi (signed 16 x 16,
 *                         the sum kept mod 2^32; overflow only sets the Q flag);
 *   SMLABB / SMLATT / SMLABT d, n, m, a   d = a + n.lo * m.lo / n.hi * m.hi / n.lo * m.hi;
 *   PKHBT d, n, m, LSL #16   d = (n.lo, m.lo); PKHTB d, n, m, ASR #16   d = (m.hi, n.hi).
 *
 * A word of four int8 lanes becomes two words of int16 pairs: lanes 0 and 2
 * (no rotation), lanes 1 and 3 (ROR #8). Widening x and w the same way pairs
 * x[i] with w[i], so two SMLADs add four products. x + offset stays within
 * int16 (x in [-128, 127], offset = -zero point in [-127, 128]) and each
 * product within 17 bits, and the accumulators wrap mod 2^32 exactly as the
 * portable int32 sums do (-fwrapv): results are the portable ones, bit for bit.
 *
 * The loops are assembly in dsp_armv7em.c, where gcc's own register
 * allocation would spill pointers. Their word loads are LDR, which ARMv7-M
 * allows at any address (LDRD only from planes kept 4-byte aligned).
 *
 * Declares the helpers and defines TFLM_ARMV7EM_DSP only when the target has
 * the DSP and SIMD32 instructions and the build optimizes (at -O0 gcc has
 * too few registers left for the loops); kernels test TFLM_ARMV7EM_DSP
 * around their calls.
 */
#ifndef TFLM_KERNELS_DSP_ARMV7EM_H
#define TFLM_KERNELS_DSP_ARMV7EM_H

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && defined(__OPTIMIZE__)
#define TFLM_ARMV7EM_DSP 1

#include <stdint.h>

/*
 * acc[j] += (x + x_offset) . w[j] over n elements, for four vectors w[j]:
 * tflm_dot4_i8's contract, 16 MACs in 24 instructions. In dsp_armv7em.c,
 * with this architecture's forms of depthwise_dot.h's loops and of
 * tflm_conv_gemm4_i8.
 */
void tflm_dsp_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n, int32_t acc[4]);

#endif
#endif
