/*
 * tflm_sum_lanes_rows_armv6m (dot_i8.h): tflm_sum_i8's word loop in Thumb-1,
 * for the filter sums every int8 convolution folds into its bias at each
 * invoke (about 200,000 weights an invoke in person_detect or vww), all of
 * a filter's rows in one call. Per word: bias to unsigned (EORS), bytes 0
 * and 2 (MOVS, ANDS) and 1 and 3 (LSRS, ANDS) into 16-bit lanes, two adds;
 * four words a load: 9 cycles a word on a Cortex-M0+ against 12 for the
 * compiled loop, which keeps a constant in a high register, and about 18 a
 * row against 60 for a call a row. The lane sums stay in lr.
 */
#include "dot_i8.h"

#if TFLM_SUM_ARMV6M

/* Word r into the lane sums in lr: r5 0x00FF00FF, r6 0x80808080, r7 clobbered. */
#define SUM_WORD(r)                                                                                        \
    "eors " #r ", r6\n movs r7, " #r "\n ands r7, r5\n lsrs " #r ", " #r ", #8\n ands " #r ", r5\n"         \
    "adds r7, r7, " #r "\n add lr, r7\n"

/*
 * Arguments: r0 v (word-aligned), r1 words a row (1 to 128), r2 rows (>= 1),
 * r3 out. Registers: r8 the next row's lanes in out, r9 bytes a row, r10
 * words % 4 (taken one at a time first), r11 end of out, r12 end of the row.
 * A function of its own section, as gcc makes them.
 */
__asm__(
        ".syntax unified\n"
        ".thumb\n"
        ".section .text.tflm_sum_lanes_rows_armv6m, \"ax\", %progbits\n"
        ".balign 4\n"
        ".global tflm_sum_lanes_rows_armv6m\n"
        ".thumb_func\n"
        ".type tflm_sum_lanes_rows_armv6m, %function\n"
        "tflm_sum_lanes_rows_armv6m:\n"
        "push {r4-r7, lr}\n"
        "mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n push {r4-r7}\n"
        "mov r8, r3\n"
        "lsls r4, r1, #2\n mov r9, r4\n"
        "lsls r4, r1, #30\n lsrs r4, r4, #30\n mov r10, r4\n"
        "lsls r2, r2, #2\n adds r2, r3, r2\n mov r11, r2\n"
        "movs r5, #255\n lsls r6, r5, #16\n orrs r5, r6\n"
        "movs r6, #128\n lsls r7, r6, #8\n orrs r6, r7\n lsls r7, r6, #16\n orrs r6, r7\n"
        "0:\n" /* each row */
        "mov r1, r9\n adds r1, r0, r1\n mov r12, r1\n"
        "movs r7, #0\n mov lr, r7\n"
        "mov r4, r10\n cmp r4, #0\n beq 2f\n"
        "1:\n"
        "ldm r0!, {r1}\n" SUM_WORD(r1) "subs r4, #1\n bne 1b\n"
        "2:\n"
        "cmp r0, r12\n beq 4f\n"
        "3:\n"
        "ldm r0!, {r1, r2, r3, r4}\n" SUM_WORD(r1) SUM_WORD(r2) SUM_WORD(r3) SUM_WORD(r4)
        "cmp r0, r12\n bne 3b\n"
        "4:\n"
        "mov r1, r8\n mov r2, lr\n stm r1!, {r2}\n mov r8, r1\n"
        "cmp r1, r11\n bne 0b\n"
        "pop {r4-r7}\n mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4-r7, pc}\n"
        ".size tflm_sum_lanes_rows_armv6m, . - tflm_sum_lanes_rows_armv6m\n"
        ".text\n");

#endif
