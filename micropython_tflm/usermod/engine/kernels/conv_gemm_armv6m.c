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
 * MAC. Plus about 29 per channel and call (sums zeroed, corrected and
 * stored, counters on the stack; every channel's taps end at the same
 * packed window word). The splits are the price of 16-bit lanes; without lanes a MAC
 * needs its own MULS and ADD and every operand reused later a MOV, about 4
 * cycles with loads.
 *
 * A layer with k taps an output then costs about 3.0 + 29 / k cycles a MAC,
 * plus about 29 / k for the requantization (tflm_conv_gemm_outputs_armv6m
 * below: 23 an output in range and 21 a channel of four), the packing of the
 * windows and the folded bias (about 2.3 cycles a weight each invoke, which
 * layers of few positions feel): rp2040_emu measures 3.3-3.5 for k = 128,
 * 3.7-3.9 for k = 64, 4.3-4.4 for 32, 5.6-5.9 for 16, 8.5-8.6 for 8
 * (pointwise layers).
 */
#include "conv_common.h"

#if TFLM_CONV_GEMM && defined(__ARM_ARCH_6M__)

/*
 * One tap pair's lanes, r2 (positions 0, 1) into r8, r9 and r3 (positions 2,
 * 3) into r10, r11. The whole word a + b * 2^16 (|a|, |b| < 2^15) is summed
 * in r8 (r10); with lr = 2^15 added its low lane a + 2^15 is in [0, 2^16),
 * so that its arithmetic shift by 16 is b exactly, summed in r9 (r11). The
 * channel's end turns r8 into the sum of a: r8 - r9 * 2^16.
 */
#define SPLIT_LANES                                                           \
    "add r8, r2\n add r2, lr\n asrs r2, r2, #16\n add r9, r2\n"                \
    "add r10, r3\n add r3, lr\n asrs r3, r3, #16\n add r11, r3\n"

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
    "movs r2, #0\n mov r8, r2\n mov r9, r2\n mov r10, r2\n mov r11, r2\n"         \
    "2:\n"                                                                     \
    taps                                                                      \
    "cmp r0, r12\n" /* the windows' end, the same for every channel */         \
    "bne 2b\n"                                                                 \
    "mov r4, r9\n mov r3, r8\n lsls r5, r4, #16\n subs r3, r3, r5\n"              \
    "mov r6, r11\n mov r5, r10\n lsls r2, r6, #16\n subs r5, r5, r2\n"            \
    "ldr r2, [sp, #48]\n"                                                      \
    "stm r2!, {r3, r4, r5, r6}\n"                                              \
    "str r2, [sp, #48]\n"                                                      \
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
        "push {r0, r2, r3}\n" /* [sp] x, [sp, #4] k, [sp, #8] weights' end; sums at [sp, #48] */
        "movs r4, #128\n lsls r4, r4, #8\n mov lr, r4\n" /* 2^15 */
        "lsls r4, r2, #3\n adds r4, r0, r4\n mov r12, r4\n" /* end of the packed windows, 8 bytes a tap */
        "lsls r2, r2, #29\n"  /* k % 8 == 4: bit 2 to the sign */
        "bmi 3f\n"
        CHANNELS(FOUR_TAPS FOUR_TAPS)
        "b 4f\n"
        "3:\n"
        CHANNELS(FOUR_TAPS)
        "4:\n"
        "add sp, #12\n"
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
 * the one exception, x = -1 with m = 2^30, gives 0 either way. Other x
 * within 19 bits take subroutine 9's three products of 11-bit parts of
 * m = m2 * 2^22 + m1 * 2^11 + m0, each within int32:
 *   floor(p / 2^22) = x * m2 + floor((x * m1 + floor(x * m0 / 2^11)) / 2^11),
 * and out = floor(S22 / 2^(9 + e)), S22 = floor(p / 2^22) + 2^8 + 2^(8 + e)
 * - 2^9 [x < 0] (the rounding / 2^6). Wider x (label 95): the full 32 x
 * 32-bit product in four MULS with the carries in ADCS, then
 * RoundingDivideByPOT as (((t - [t < 0]) >> (e - 1)) + 1) >> 1, which no
 * int32 t overflows (tflm_requantize32's arithmetic).
 *
 * Dead channels (vww's deeper layers have many, of zero weights and a bias
 * near +-2^30): a multiplier of 0 makes every output 0, and so does e > 16
 * for |x| <= 2^(e - 2), as |t| <= 2^(e - 2) then. Their table entries
 * (tflm_conv_gemm_table_armv6m) have a multiplier of 0 and 15 + e = 31, so
 * that the first path gives 0 for any rounding in [2^15, 2^31); the rounding
 * is 2^30 plus the output of x = start (sums of 0) times 2^8 plus a code in
 * its low 6 bits, 33 for m = 0 and e for e > 16. OUTPUT_STUBS gives that
 * output for x = start (about 24 cycles), label 96 0 for x >> (code - 2)
 * in {-1, 0}, and tflm_conv_gemm_slow_armv6m in C for others.
 *
 * Cycles: 23 an output on the first path (OUTPUT; the clamp one unsigned
 * comparison of the output above min with max - min, 2 more cycles below
 * min, 3 above max), about 50 within 19 bits, 80 beyond, and 21 a channel
 * (its table entry in one LDM); four positions a channel are unrolled,
 * fewer loop.
 */

/*
 * Output j of the channel: the sum at r0 plus the start, requantized, stored
 * at r1, which moves on by the stride. Registers: r5 mh, r6 ml, r7 15 + e,
 * r8 start, r9 2^14 + 2^(14 + e), r10 zero point - min, r11 max - min,
 * r12 min, lr stride; r2-r4 are clobbered. Wide x out of line: OUTPUT_STUBS.
 */
#define OUTPUT(j)                                                                                          \
    "ldm r0!, {r2}\n add r2, r8\n"                                          /* x */                         \
    "sxth r3, r2\n cmp r3, r2\n bne 5" #j "f\n"                                                             \
    "asrs r4, r2, #31\n muls r3, r6, r3\n asrs r3, r3, #16\n"               /* floor(x * ml / 2^16) */      \
    "muls r2, r5, r2\n adds r3, r3, r2\n lsls r4, r4, #15\n adds r3, r3, r4\n" /* + x * mh - 2^15 [x < 0] */ \
    "add r3, r9\n asrs r3, r3, r7\n"                                                                        \
    "3" #j ":\n add r3, r10\n cmp r3, r11\n bls 6" #j "f\n bmi 7" #j "f\n mov r3, r11\n b 6" #j "f\n"         \
    "7" #j ":\n movs r3, #0\n"                                                                              \
    "6" #j ":\n add r3, r12\n strb r3, [r1]\n add r1, lr\n"

/*
 * OUTPUT(j)'s wide x: subroutine 9, or for a dead channel (mh = 0: table
 * multipliers are 0 or at least 2^30) the output at the start from the
 * rounding when x is the start, else label 96.
 */
#define OUTPUT_STUBS(j)                                                                                    \
    "5" #j ":\n cmp r5, #0\n beq 9" #j "f\n bl 9f\n b 3" #j "b\n"                                          \
    "9" #j ":\n cmp r2, r8\n bne 8" #j "f\n mov r4, r9\n lsls r4, r4, #8\n asrs r3, r4, #16\n b 3" #j "b\n" \
    "8" #j ":\n bl 96f\n b 3" #j "b\n"

/* The next channel's table entry: start, multiplier, rounding and 15 + e. */
#define CHANNEL_START                                                                                      \
    "ldr r2, [sp, #0]\n ldm r2!, {r3, r4, r5, r7}\n str r2, [sp, #0]\n"                                     \
    "mov r8, r3\n mov r9, r5\n lsrs r5, r4, #16\n uxth r6, r4\n"

/* r1 back to the next channel's first output, and on to `label` while channels remain. */
#define CHANNEL_NEXT(label)                                                                                \
    "ldr r2, [sp, #8]\n subs r1, r1, r2\n"                                                                  \
    "ldr r2, [sp, #4]\n cmp r0, r2\n bne " label "\n"

/*
 * Arguments: r0 q, r1 sums, r2 n, r3 out. Stack: [sp] next table entry,
 * [sp, #4] end of the sums, [sp, #8] count * stride - 1, [sp, #12] stride,
 * [sp, #16] q, [sp, #20] 16 - 4 * count, [sp, #24] 4 * count, [sp, #28] end
 * of the channel's sums (count < 4), [sp, #32] unused (8-byte alignment).
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
        "sub sp, #36\n"
        "str r0, [sp, #16]\n"
        "ldr r4, [r0, #0]\n str r4, [sp, #0]\n"
        "lsls r2, r2, #4\n adds r2, r1, r2\n str r2, [sp, #4]\n"
        "ldr r4, [r0, #16]\n str r4, [sp, #12]\n mov lr, r4\n" /* stride */
        "ldr r5, [r0, #12]\n muls r4, r5, r4\n subs r4, #1\n str r4, [sp, #8]\n"
        "lsls r5, r5, #2\n str r5, [sp, #24]\n movs r4, #16\n subs r4, r4, r5\n str r4, [sp, #20]\n"
        "adds r0, #20\n ldm r0!, {r2, r4, r5}\n" /* zero point, min, max */
        "subs r2, r2, r4\n mov r10, r2\n subs r5, r5, r4\n mov r11, r5\n mov r12, r4\n"
        "movs r0, r1\n movs r1, r3\n"
        "ldr r2, [sp, #24]\n cmp r2, #16\n beq 10f\n b 20f\n"
        "10:\n" /* each channel, four positions */
        CHANNEL_START
        OUTPUT(0) OUTPUT(1) OUTPUT(2) OUTPUT(3)
        CHANNEL_NEXT("10b")
        "11:\n"
        "add sp, #36\n"
        "pop {r4-r7}\n"
        "mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4-r7, pc}\n"
        OUTPUT_STUBS(0) OUTPUT_STUBS(1) OUTPUT_STUBS(2) OUTPUT_STUBS(3)
        "20:\n" /* each channel, fewer positions */
        CHANNEL_START
        "ldr r2, [sp, #24]\n adds r2, r0, r2\n str r2, [sp, #28]\n"
        "21:\n"
        OUTPUT(4)
        "ldr r2, [sp, #28]\n cmp r0, r2\n bne 21b\n"
        "ldr r2, [sp, #20]\n adds r0, r0, r2\n"
        CHANNEL_NEXT("20b")
        "b 11b\n"
        OUTPUT_STUBS(4)
        /* Subroutine 9: r3 = the requantized x in r2 (before the zero point); r2 and r4 clobbered, lr stride again. */
        "9:\n"
        "asrs r4, r2, #19\n adds r4, #1\n lsrs r4, r4, #1\n bne 95f\n" /* beyond 19 bits */
        "lsls r3, r5, #26\n lsrs r3, r3, #21\n lsrs r4, r6, #11\n adds r3, r3, r4\n" /* m1 */
        "muls r3, r2, r3\n"
        "lsls r4, r6, #21\n lsrs r4, r4, #21\n muls r4, r2, r4\n asrs r4, r4, #11\n" /* floor(x * m0 / 2^11) */
        "adds r4, r4, r3\n asrs r4, r4, #11\n"
        "lsrs r3, r5, #6\n muls r3, r2, r3\n adds r4, r4, r3\n" /* + x * m2: floor(p / 2^22) */
        "mov r3, r9\n asrs r3, r3, #6\n adds r4, r4, r3\n"
        "asrs r3, r2, #31\n lsls r3, r3, #9\n adds r4, r4, r3\n" /* S22 */
        "movs r3, r7\n subs r3, #6\n asrs r4, r3\n movs r3, r4\n"
        "mov r4, lr\n ldr r2, [sp, #12]\n mov lr, r2\n bx r4\n"
        "95:\n" /* the full product */
        "push {r5, r6, r7, lr}\n"
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
        "ldr r6, [sp, #8]\n subs r6, r6, #16\n" /* e - 1, from the pushed r7 */
        "asrs r4, r4, r6\n"
        "adds r4, r4, #1\n asrs r3, r4, #1\n"
        "99:\n"
        "pop {r5, r6, r7}\n pop {r2}\n"
        "ldr r4, [sp, #12]\n mov lr, r4\n bx r2\n"
        "96:\n" /* a dead channel's x other than the start: 0 within the code's bound, else C */
        "push {r5, r6, r7, lr}\n"
        "mov r4, r9\n lsls r4, r4, #26\n lsrs r4, r4, #26\n subs r4, #2\n"
        "movs r3, r2\n asrs r3, r4\n adds r3, #1\n lsrs r3, r3, #1\n bne 97f\n"
        "movs r3, #0\n b 99b\n"
        "97:\n" /* C, keeping r0, r1 and r12 */
        "mov r4, r12\n push {r0, r1, r4, r5}\n"
        "ldr r0, [sp, #48]\n ldr r1, [sp, #32]\n" /* q and the next table entry, past 32 bytes pushed */
        "bl tflm_conv_gemm_slow_armv6m\n movs r3, r0\n"
        "pop {r0, r1, r4, r5}\n mov r12, r4\n"
        "b 99b\n"
        ".size tflm_conv_gemm_outputs_armv6m, . - tflm_conv_gemm_outputs_armv6m\n"
        ".text\n");

/* Subroutine 9's exact requantization of x for the channel whose table entry precedes next. */
int32_t tflm_conv_gemm_slow_armv6m(const tflm_conv_outputs *q, const tflm_conv_requant *next, int32_t x);
int32_t tflm_conv_gemm_slow_armv6m(const tflm_conv_outputs *q, const tflm_conv_requant *next, int32_t x) {
    int32_t c = (int32_t)(next - q->table) - 1;
    return tflm_requantize(x, q->multiplier[c], q->shift[c]);
}

bool tflm_conv_gemm_table_armv6m(const tflm_conv_int8 *k, int32_t first, int32_t n, tflm_conv_requant *table) {
    bool all_fit = true;
    for (int32_t i = 0; i < n; i++) {
        int32_t c = first + i, m = k->multiplier[c], shift = k->shift[c], e = -shift, start = k->folded[c];
        all_fit = all_fit && tflm_conv_gemm_outputs_armv6m_fits(m, shift);
        table[i].start = start;
        if (m >= (1 << 30) && e >= 1 && e <= 16) {
            table[i].multiplier = m;
            table[i].rounding = (1 << 14) + (1 << (14 + e));
            table[i].shift = 15 + e;
            continue;
        }
        /* a dead channel (see above), or one whose outputs C overwrites (code 0: outputs of 0) */
        int32_t code = m == 0 ? 33 : m >= (1 << 30) && e > 16 ? e : 0;
        int32_t at_start = m && code ? tflm_requantize(start, m, shift) : 0;
        table[i].multiplier = 0;
        table[i].rounding = (int32_t)((1u << 30) + (((uint32_t)at_start & 0xFFFFu) << 8) + (uint32_t)code);
        table[i].shift = 31;
    }
    return all_fit;
}

#endif
