/*
 * tflm_conv_pack_pair_armv6m (conv_pack_armv6m.h): eight taps of two
 * positions a pass (four when n % 8 == 4, entering the loop halfway), each
 * position's four taps in one word load instead of four LDRSB. Byte k of a
 * word is sign-extended by shifting it to the top and back (SXTB for byte
 * 0, one ASRS for byte 3); the second position's lane is shifted back only
 * to bit 16. Per four taps, in Cortex-M0+ cycles: two LDM (4), 20 shifts and
 * adds, four STR (8), half the loop (2): 34, 8.5 a word (C's byte loads take
 * about 11.5).
 */
#include "conv_pack_armv6m.h"

#if TFLM_CONV_PACK_ARMV6M

/* Four taps from r1 (a) and r2 (b) into the words at r0 + at, r0 + at + 8, ... */
#define PAIR_FOUR_TAPS(at0, at1, at2, at3)                                    \
    "ldm r1!, {r4}\n"                                                         \
    "ldm r2!, {r5}\n"                                                         \
    "sxtb r6, r4\n"                                                           \
    "lsls r7, r5, #24\n asrs r7, r7, #8\n"                                    \
    "adds r6, r6, r7\n"                                                       \
    "str r6, [r0, #" #at0 "]\n"                                               \
    "lsls r6, r4, #16\n asrs r6, r6, #24\n"                                   \
    "lsls r7, r5, #16\n asrs r7, r7, #24\n lsls r7, r7, #16\n"                \
    "adds r6, r6, r7\n"                                                       \
    "str r6, [r0, #" #at1 "]\n"                                               \
    "lsls r6, r4, #8\n asrs r6, r6, #24\n"                                    \
    "lsls r7, r5, #8\n asrs r7, r7, #24\n lsls r7, r7, #16\n"                 \
    "adds r6, r6, r7\n"                                                       \
    "str r6, [r0, #" #at2 "]\n"                                               \
    "asrs r4, r4, #24\n"                                                      \
    "asrs r5, r5, #24\n lsls r5, r5, #16\n"                                   \
    "adds r4, r4, r5\n"                                                       \
    "str r4, [r0, #" #at3 "]\n"

/* Arguments: r0 v, r1 a, r2 b, r3 n (AAPCS). A function of its own section, as gcc makes them. */
__asm__(
        ".syntax unified\n"
        ".thumb\n"
        ".section .text.tflm_conv_pack_pair_armv6m, \"ax\", %progbits\n"
        ".balign 4\n"
        ".global tflm_conv_pack_pair_armv6m\n"
        ".thumb_func\n"
        ".type tflm_conv_pack_pair_armv6m, %function\n"
        "tflm_conv_pack_pair_armv6m:\n"
        "push {r4-r7, lr}\n"
        "lsls r4, r3, #29\n" /* n % 8 == 4: bit 2 to the sign */
        "adds r3, r1, r3\n"  /* end of a */
        "cmp r4, #0\n"
        "bpl 1f\n"
        "subs r0, #32\n"     /* the second half's words are at r0 + 32 on */
        "b 2f\n"
        "1:\n"
        PAIR_FOUR_TAPS(0, 8, 16, 24)
        "2:\n"
        PAIR_FOUR_TAPS(32, 40, 48, 56)
        "adds r0, #64\n"
        "cmp r1, r3\n"
        "bne 1b\n"
        "pop {r4-r7, pc}\n"
        ".size tflm_conv_pack_pair_armv6m, . - tflm_conv_pack_pair_armv6m\n"
        ".text\n");

/*
 * tflm_conv_pack_quad_armv6m (conv_pack_armv6m.h): a tap of four positions
 * a pass, four LDRSB from the positions' ends at one negative index counting
 * up to 0 (the loop's test for free): 20 cycles for two words, 10 a word (C's
 * pairs of positions take about 13). Arguments: r0 v, r1 src, r2 across, r3 n.
 */
__asm__(
        ".syntax unified\n"
        ".thumb\n"
        ".section .text.tflm_conv_pack_quad_armv6m, \"ax\", %progbits\n"
        ".balign 4\n"
        ".global tflm_conv_pack_quad_armv6m\n"
        ".thumb_func\n"
        ".type tflm_conv_pack_quad_armv6m, %function\n"
        "tflm_conv_pack_quad_armv6m:\n"
        "push {r4-r7, lr}\n"
        "adds r1, r1, r3\n" /* the four positions' ends */
        "adds r4, r1, r2\n"
        "adds r5, r4, r2\n"
        "adds r6, r5, r2\n"
        "negs r3, r3\n"
        "1:\n"
        "ldrsb r2, [r1, r3]\n ldrsb r7, [r4, r3]\n"
        "lsls r7, r7, #16\n adds r2, r2, r7\n"
        "str r2, [r0]\n"
        "ldrsb r2, [r5, r3]\n ldrsb r7, [r6, r3]\n"
        "lsls r7, r7, #16\n adds r2, r2, r7\n"
        "str r2, [r0, #4]\n"
        "adds r0, #8\n"
        "adds r3, #1\n"
        "bne 1b\n"
        "pop {r4-r7, pc}\n"
        ".size tflm_conv_pack_quad_armv6m, . - tflm_conv_pack_quad_armv6m\n"
        ".text\n");

#endif
