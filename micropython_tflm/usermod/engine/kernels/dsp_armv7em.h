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
 * Word loads use LDR, which ARMv7-M allows at any address (LDRD and LDM it
 * does not, so the loops are written in assembly where gcc could merge loads).
 *
 * Defines TFLM_ARMV7EM_DSP and the helpers only when the target has the DSP
 * and SIMD32 instructions; kernels test TFLM_ARMV7EM_DSP around their calls.
 */
#ifndef TFLM_KERNELS_DSP_ARMV7EM_H
#define TFLM_KERNELS_DSP_ARMV7EM_H

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#define TFLM_ARMV7EM_DSP 1

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

/* x_offset in both halfwords, the addend SXTAB16 widens x onto. */
static inline int16x2_t tflm_dsp_offset_pair(int32_t x_offset) {
    return (int16x2_t)(((uint32_t)x_offset << 16) | ((uint32_t)x_offset & 0xffffu));
}

static inline uint32_t tflm_dsp_load4(const int8_t *p) {
    uint32_t word;
    memcpy(&word, p, sizeof word);
    return word;
}

/* Lanes 1 and 3 of `word` as int16 (gcc's __sxtb16 has no rotation operand). */
static inline int16x2_t tflm_dsp_sxtb16_ror8(uint32_t word) {
    int16x2_t pair;
    __asm__ ("sxtb16 %0, %1, ror #8" : "=r" (pair) : "r" (word));
    return pair;
}

/* Lanes 1 and 3 of `word` as int16, each plus its half of `addend`. */
static inline int16x2_t tflm_dsp_sxtab16_ror8(int16x2_t addend, uint32_t word) {
    int16x2_t pair;
    __asm__ ("sxtab16 %0, %1, %2, ror #8" : "=r" (pair) : "r" (addend), "r" (word));
    return pair;
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
 * per vector a load, two widenings and two SMLADs. The loop needs fourteen
 * registers (all there are beside sp and pc), so it is assembly: gcc's own
 * allocation spills pointers. With an offset, the offset pair comes from the
 * stack each step into the register that then holds the weight pairs.
 */
static inline void tflm_dsp_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n,
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
            const int16x2_t offset = tflm_dsp_offset_pair(x_offset);
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
 * acc[j] += (x[j] + x_offset) * w[j] for the four lanes j of one word each
 * (four depthwise channels at one tap): SMLABB and SMLATT, one MAC each, on
 * pairs widened once for both.
 */
static inline void tflm_dsp_lanes4_i8(uint32_t x_word, int16x2_t offset_pair, uint32_t w_word, int32_t acc[4]) {
    int16x2_t x_even = __sxtab16(offset_pair, x_word), x_odd = tflm_dsp_sxtab16_ror8(offset_pair, x_word);
    int16x2_t w_even = __sxtb16(w_word), w_odd = tflm_dsp_sxtb16_ror8(w_word);
    acc[0] = __smlabb(x_even, w_even, acc[0]);
    acc[1] = __smlabb(x_odd, w_odd, acc[1]);
    acc[2] = __smlatt(x_even, w_even, acc[2]);
    acc[3] = __smlatt(x_odd, w_odd, acc[3]);
}

#endif
#endif
