/*
 * The int8 loops for ARMv7E-M's DSP extension (see dsp_armv7em.h): the
 * four-vector dot product, and this architecture's form of
 * tflm_conv_gemm4_i8 (conv_common.h), which replaces the portable one.
 * Empty on other targets.
 *
 * Each loop is one asm statement over at most 13 registers: r0-r12 and lr
 * but for r7, which gcc keeps for the frame pointer with
 * -fno-omit-frame-pointer. What does not fit is read from the stack ("m"
 * operands) into a register that is free at that point of the loop.
 */
#include "conv_common.h"

#ifdef TFLM_ARMV7EM_DSP

/* x_offset in both halfwords, the addend SXTAB16 widens x onto. */
static uint32_t offset_pair(int32_t x_offset) {
    return ((uint32_t)x_offset << 16) | ((uint32_t)x_offset & 0xffffu);
}

/* One vector of tflm_dsp_dot4_i8: the weight word at w, widened, times the x pairs, into a. */
#define DOT4_VECTOR(a, w) \
    "ldr %[word], [" w "], #4\n\t" \
    "sxtb16 %[pair], %[word]\n\t" \
    "smlad " a ", %[x_even], %[pair], " a "\n\t" \
    "sxtb16 %[pair], %[word], ror #8\n\t" \
    "smlad " a ", %[x_odd], %[pair], " a "\n\t"

#define DOT4_VECTORS_AND_LOOP \
    DOT4_VECTOR("%[a0]", "%[w0]") DOT4_VECTOR("%[a1]", "%[w1]") \
    DOT4_VECTOR("%[a2]", "%[w2]") DOT4_VECTOR("%[a3]", "%[w3]") \
    "ldr %[word], %[end]\n\t" \
    "cmp %[x], %[word]\n\t" \
    "bne 1b\n\t"

#define DOT4_OPERANDS \
    [a0] "+r" (a0), [a1] "+r" (a1), [a2] "+r" (a2), [a3] "+r" (a3), [x] "+r" (x), \
    [w0] "+r" (w0), [w1] "+r" (w1), [w2] "+r" (w2), [w3] "+r" (w3), \
    [word] "=&r" (word), [pair] "=&r" (pair), [x_even] "=&r" (x_even), [x_odd] "=&r" (x_odd)

/*
 * Four x values a step: one load, two widenings (SXTAB16 adds the offset,
 * its pair read from the stack into the register the weight pairs use
 * next), then per vector a load, two widenings and two SMLADs: 16 MACs in
 * 24 instructions, 25 with an offset.
 */
void tflm_dsp_dot4_i8(const int8_t *x, int32_t x_offset, const int8_t *const w[4], int32_t n, int32_t acc[4]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    const int8_t *end = x + (n & ~3);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (x != end) {
        uint32_t word, pair, x_even, x_odd;
        if (x_offset) {
            const uint32_t offset = offset_pair(x_offset);
            __asm__ (
                "1:\n\t"
                "ldr %[word], [%[x]], #4\n\t"
                "ldr %[pair], %[offset]\n\t"
                "sxtab16 %[x_even], %[pair], %[word]\n\t"
                "sxtab16 %[x_odd], %[pair], %[word], ror #8\n\t"
                DOT4_VECTORS_AND_LOOP
                : DOT4_OPERANDS
                : [end] "m" (end), [offset] "m" (offset)
                : "cc", "memory");
        } else {
            __asm__ (
                "1:\n\t"
                "ldr %[word], [%[x]], #4\n\t"
                "sxtb16 %[x_even], %[word]\n\t"
                "sxtb16 %[x_odd], %[word], ror #8\n\t"
                DOT4_VECTORS_AND_LOOP
                : DOT4_OPERANDS
                : [end] "m" (end)
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

#if TFLM_CONV_GEMM
/*
 * x as four int16 planes (conv_common.h). Per four taps of one channel: the
 * weight word widened into pairs (w0, w2), (w1, w3) and reordered by
 * PKHBT/PKHTB into (w0, w1), (w2, w3), the order of the planes' words; then
 * per position an LDRD of its four taps and two SMLADs: 16 MACs in 20
 * instructions. x_low shares its register with the odd weight pair, which
 * the repacking has consumed by the time x is loaded.
 */
void tflm_conv_gemm4_i8(const void *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums) {
    for (int32_t o = 0; o < n; o++, sums += 4) {
        const int16_t *x0 = x, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
        const int8_t *end = w + k;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        uint32_t w_word, w_low, x_low, x_high;
        __asm__ (
            "1:\n\t"
            "ldr %[w_word], [%[w]], #4\n\t"
            "sxtb16 %[x_low], %[w_word], ror #8\n\t"
            "sxtb16 %[w_word], %[w_word]\n\t"
            "pkhbt %[w_low], %[w_word], %[x_low], lsl #16\n\t"
            "pkhtb %[w_word], %[x_low], %[w_word], asr #16\n\t"
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
              [w_low] "=&r" (w_low), [x_low] "=&r" (x_low), [x_high] "=&r" (x_high)
            : [end] "m" (end)
            : "cc", "memory");
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }
}
#endif

#endif
