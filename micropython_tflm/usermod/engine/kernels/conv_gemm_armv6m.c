/*
 * tflm_conv_gemm4_i8 (conv_common.h) for ARMv6-M (Cortex-M0/M0+), whose
 * MULS gives the low 32 bits of a 32 x 32-bit product and nothing wider:
 * one MULS of a packed word by a weight is two output positions' products.
 *
 * Per four taps of one output channel and four positions (16 MACs), in
 * cycles of a Cortex-M0+ (loads 2, LDM 1 + words, taken branch 2, else 1):
 * one LDM of four weights (2), two LDMs of four packed words (10), weights
 * out of their word (6), 8 MULS, 4 ADDS joining two taps per lane, 4 lane
 * splits into the 32-bit sums in r8-r11 (16: ADD, ADD, ASRS, ADD, see
 * SPLIT_LANES) and the loop (3): 49 cycles, 3.1 per MAC; with eight taps a
 * pass (k a multiple of 8, the common case) 95 cycles for 32 MACs, 2.97 a
 * MAC. Plus about 35 per channel and call (sums zeroed, corrected and
 * stored, counters on the stack). The splits are the price of 16-bit lanes; without lanes a MAC
 * needs its own MULS and ADD and every operand reused later a MOV, about 4
 * cycles with loads.
 *
 * A layer with k taps an output then costs about 3.1 + 35 / k cycles a MAC
 * plus the packing of the windows and the folded bias (about 2 cycles a
 * weight each invoke, which layers of few positions feel): rp2040_emu
 * measures 3.7 for k = 128, 4.2-4.5 for k = 64, 5.1 for 32, 7.0-7.2 for 16,
 * 11.1 for 8 (pointwise layers).
 */
#include "conv_common.h"

#if TFLM_CONV_GEMM && defined(__ARM_ARCH_6M__)

/*
 * One tap pair's lanes, r2 (positions 0, 1) into r8, r9 and r3 (positions 2,
 * 3) into r10, r11. With lr = 2^15 added, a word a + b * 2^16 (|a|, |b| < 2^15)
 * has a low lane a + 2^15 in [0, 2^16): its arithmetic shift by 16 is b
 * exactly, summed in r9 (r11), and the whole word is summed in r8 (r10),
 * which the channel's end turns into the sum of a (r8 - r9 * 2^16, r8 started
 * at -pairs * 2^15).
 */
#define SPLIT_LANES                                                           \
    "add r2, lr\n add r8, r2\n asrs r2, r2, #16\n add r9, r2\n"                \
    "add r3, lr\n add r10, r3\n asrs r3, r3, #16\n add r11, r3\n"

/* Four taps of one channel: r0 the packed windows, r1 the weights. */
#define FOUR_TAPS                                                             \
    "ldm r1!, {r6}\n"                                                          \
    "ldm r0!, {r2, r3, r4, r5}\n"                                              \
    "sxtb r7, r6\n"                                                            \
    "muls r2, r7, r2\n muls r3, r7, r3\n"                                       \
    "lsls r7, r6, #16\n asrs r7, r7, #24\n"                                    \
    "muls r4, r7, r4\n muls r5, r7, r5\n"                                       \
    "adds r2, r2, r4\n adds r3, r3, r5\n"                                       \
    SPLIT_LANES                                                               \
    "ldm r0!, {r2, r3, r4, r5}\n"                                              \
    "lsls r7, r6, #8\n asrs r7, r7, #24\n"                                     \
    "muls r2, r7, r2\n muls r3, r7, r3\n"                                       \
    "asrs r7, r6, #24\n"                                                       \
    "muls r4, r7, r4\n muls r5, r7, r5\n"                                       \
    "adds r2, r2, r4\n adds r3, r3, r5\n"                                       \
    SPLIT_LANES

/*
 * Every output channel, `taps` (FOUR_TAPS once or twice) a pass of the
 * inner loop: the channel's sums started, its taps, the sums stored.
 */
#define CHANNELS(taps)                                                        \
    "1:\n"                /* each output channel */                          \
    "ldr r0, [sp]\n"                                                           \
    "ldr r2, [sp, #4]\n"                                                       \
    "adds r2, r1, r2\n"                                                        \
    "mov r12, r2\n" /* end of the channel's weights */                         \
    "ldr r2, [sp, #12]\n mov r8, r2\n mov r10, r2\n movs r2, #0\n mov r9, r2\n mov r11, r2\n" \
    "2:\n"                                                                     \
    taps                                                                      \
    "cmp r1, r12\n"                                                            \
    "bne 2b\n"                                                                 \
    "mov r4, r9\n mov r3, r8\n lsls r5, r4, #16\n subs r3, r3, r5\n"              \
    "mov r6, r11\n mov r5, r10\n lsls r2, r6, #16\n subs r5, r5, r2\n"            \
    "ldr r2, [sp, #52]\n"                                                      \
    "stm r2!, {r3, r4, r5, r6}\n"                                              \
    "str r2, [sp, #52]\n"                                                      \
    "ldr r3, [sp, #8]\n"                                                       \
    "cmp r1, r3\n"                                                             \
    "bne 1b\n"

/*
 * Arguments: r0 x, r1 w, r2 k, r3 n, [sp] sums (AAPCS). A function of its
 * own section, as gcc makes them. Eight taps a pass when k allows (one
 * loop branch, 3 cycles, saved per eight), else four.
 */
__asm__(
        ".syntax unified\n"
        ".thumb\n"
        ".section .text.tflm_conv_gemm4_i8, \"ax\", %progbits\n"
        ".balign 4\n"
        ".global tflm_conv_gemm4_i8\n"
        ".thumb_func\n"
        ".type tflm_conv_gemm4_i8, %function\n"
        "tflm_conv_gemm4_i8:\n"
        "push {r4-r7, lr}\n"
        "mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n"
        "push {r4-r7}\n"
        "muls r3, r2, r3\n adds r3, r1, r3\n" /* end of the n channels' weights */
        "lsls r4, r2, #14\n negs r4, r4\n"    /* -(k / 2 pairs * 2^15), the sums' start (SPLIT_LANES) */
        "push {r0, r2, r3, r4}\n" /* [sp] x, [sp, #4] k, [sp, #8] weights' end, [sp, #12] start; sums at [sp, #52] */
        "movs r4, #128\n lsls r4, r4, #8\n mov lr, r4\n" /* 2^15 */
        "lsls r2, r2, #29\n"  /* k % 8 == 4: bit 2 to the sign */
        "bmi 3f\n"
        CHANNELS(FOUR_TAPS FOUR_TAPS)
        "b 4f\n"
        "3:\n"
        CHANNELS(FOUR_TAPS)
        "4:\n"
        "add sp, #16\n"
        "pop {r4-r7}\n"
        "mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4-r7, pc}\n"
        ".size tflm_conv_gemm4_i8, . - tflm_conv_gemm4_i8\n"
        ".text\n");

/*
 * tflm_conv_gemm_outputs_armv6m (conv_common.h): tflm_requantize64's one
 * floor, with e = -shift, p = x * m and c = 2^(e-1) - [p + 2^30 < 0],
 *   out = floor((p + 2^30 + c * 2^31) / 2^(31 + e)).
 * As 2^(31 + e) is a multiple of 2^16 and 2^30 + c * 2^31 of 2^16, p may be
 * floored to 2^16 first: out = floor(S / 2^(15 + e)) with
 *   S = floor(p / 2^16) + 2^14 + 2^(14 + e) - 2^15 * [p + 2^30 < 0].
 * When x fits 16 bits (the common case), m = mh * 2^16 + ml (mh < 2^15,
 * ml < 2^16) gives floor(p / 2^16) = x * mh + floor(x * ml / 2^16) in two
 * MULS, |S| < 2^31 for e <= 16, and p + 2^30 < 0 is x < 0: m >= 2^30, and
 * the one exception, x = -1 with m = 2^30, gives 0 either way. Other x take
 * the full 32 x 32-bit product in four MULS with the carries in ADCS, then
 * RoundingDivideByPOT as (((t - [t < 0]) >> (e - 1)) + 1) >> 1, which no
 * int32 t overflows (tflm_requantize32's arithmetic). About 25 cycles an
 * output on the first path, 60 on the other, and 40 a channel.
 * Arguments: r0 q (tflm_conv_outputs), r1 sums, r2 n, r3 out.
 * Registers per channel: r5 mh, r6 ml, r7 15 + e, r8 start,
 * r9 2^14 + 2^(14 + e), lr end of its sums; r10 zero point, r11 min, r12 max.
 * Stack: [sp] stride, [sp, #4] 4 * count, [sp, #8] the channel's output,
 * [sp, #12] channel, [sp, #16] n, [sp, #20] q.
 */
__asm__(
        ".syntax unified\n"
        ".thumb\n"
        ".section .text.tflm_conv_gemm_outputs_armv6m, \"ax\", %progbits\n"
        ".balign 4\n"
        ".global tflm_conv_gemm_outputs_armv6m\n"
        ".thumb_func\n"
        ".type tflm_conv_gemm_outputs_armv6m, %function\n"
        "tflm_conv_gemm_outputs_armv6m:\n"
        "push {r4-r7, lr}\n"
        "mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n"
        "push {r4-r7}\n"
        "movs r4, r0\n"
        "push {r2, r4}\n"     /* n, q */
        "movs r4, #0\n"
        "push {r3, r4}\n"     /* out, channel 0 */
        "ldr r4, [r0, #16]\n" /* stride */
        "ldr r5, [r0, #12]\n lsls r5, r5, #2\n" /* 4 * count */
        "push {r4, r5}\n"
        "adds r0, r0, #20\n ldm r0!, {r2, r3, r4}\n" /* zero point, min, max */
        "mov r10, r2\n mov r11, r3\n mov r12, r4\n"
        "movs r0, r1\n"
        "10:\n" /* each channel */
        "ldr r2, [sp, #20]\n ldr r3, [sp, #12]\n"
        "ldr r4, [r2, #8]\n ldrsb r6, [r4, r3]\n" /* shift */
        "lsls r3, r3, #2\n"
        "ldr r4, [r2, #0]\n ldr r4, [r4, r3]\n mov r8, r4\n" /* start */
        "ldr r4, [r2, #4]\n ldr r4, [r4, r3]\n" /* m */
        "lsrs r5, r4, #30\n beq 12f\n"       /* m < 2^30: not here */
        "movs r5, r6\n adds r5, #16\n bmi 12f\n cmp r6, #0\n bge 12f\n" /* shift outside [-16, -1] */
        "movs r7, #15\n subs r7, r7, r6\n"  /* 15 + e */
        "negs r6, r6\n movs r3, #1\n lsls r3, r3, #14\n movs r5, r3\n lsls r5, r5, r6\n"
        "adds r5, r5, r3\n mov r9, r5\n"    /* 2^14 + 2^(14 + e) */
        "lsrs r5, r4, #16\n uxth r6, r4\n"  /* mh, ml */
        "ldr r3, [sp, #4]\n adds r3, r0, r3\n mov lr, r3\n"
        "ldr r1, [sp, #8]\n"
        "1:\n"
        "ldm r0!, {r2}\n"
        "add r2, r8\n"                       /* x */
        "sxth r3, r2\n cmp r3, r2\n bne 5f\n"
        "muls r3, r6, r3\n asrs r3, r3, #16\n" /* floor(x * ml / 2^16) */
        "movs r4, r5\n muls r4, r2, r4\n adds r3, r3, r4\n"
        "asrs r4, r2, #31\n lsls r4, r4, #15\n adds r3, r3, r4\n"
        "add r3, r9\n"
        "asrs r3, r3, r7\n"
        "2:\n"
        "add r3, r10\n"
        "cmp r3, r11\n bge 3f\n mov r3, r11\n 3:\n"
        "cmp r3, r12\n ble 4f\n mov r3, r12\n 4:\n"
        "strb r3, [r1]\n"
        "ldr r4, [sp]\n add r1, r4\n"
        "cmp r0, lr\n"
        "bne 1b\n"
        "ldr r3, [sp, #4]\n subs r0, r0, r3\n"
        "11:\n" /* next channel */
        "adds r0, #16\n"
        "ldr r3, [sp, #8]\n adds r3, #1\n str r3, [sp, #8]\n"
        "ldr r3, [sp, #12]\n adds r3, #1\n str r3, [sp, #12]\n"
        "ldr r2, [sp, #16]\n cmp r3, r2\n blt 10b\n"
        "add sp, #24\n"
        "pop {r4-r7}\n"
        "mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4-r7, pc}\n"
        "12:\n" /* a channel left to tflm_conv_gemm_outputs */
        "b 11b\n"
        "5:\n" /* x beyond 16 bits: the full product */
        "push {r5, r6, r7}\n"
        "uxth r3, r2\n asrs r2, r2, #16\n"  /* xl, xh */
        "movs r4, r2\n muls r4, r5, r4\n"   /* xh * mh */
        "movs r7, r3\n muls r7, r6, r7\n"   /* xl * ml */
        "muls r2, r6, r2\n"                  /* xh * ml, signed */
        "muls r3, r5, r3\n"                  /* xl * mh < 2^31 */
        "lsls r6, r2, #16\n asrs r2, r2, #16\n adds r7, r7, r6\n adcs r4, r4, r2\n"
        "lsls r6, r3, #16\n lsrs r3, r3, #16\n adds r7, r7, r6\n adcs r4, r4, r3\n"
        "movs r6, #1\n lsls r6, r6, #30\n movs r5, #0\n adds r7, r7, r6\n adcs r4, r4, r5\n"
        "adds r7, r7, r7\n adcs r4, r4, r4\n" /* t */
        "lsrs r6, r4, #31\n subs r4, r4, r6\n"
        "ldr r6, [sp, #8]\n subs r6, r6, #16\n" /* e - 1 */
        "asrs r4, r4, r6\n"
        "adds r4, r4, #1\n asrs r3, r4, #1\n"
        "pop {r5, r6, r7}\n"
        "b 2b\n"
        ".size tflm_conv_gemm_outputs_armv6m, . - tflm_conv_gemm_outputs_armv6m\n"
        ".text\n");

#endif
