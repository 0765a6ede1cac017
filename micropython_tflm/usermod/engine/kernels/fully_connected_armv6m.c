/*
 * tflm_fc_dot4_armv6m (fully_connected_armv6m.h): one index walks the input
 * and the four weight rows from -n up to 0 (register + register addressing,
 * the only form of the Cortex-M0+'s signed byte loads), the accumulators in
 * r8-r11 and the input offset in r12, so that the low registers hold the
 * five pointers, the index and two operands. Per element, in cycles of a
 * Cortex-M0+ (loads 2, taken branch 2, else 1): input load and offset 3,
 * four weight loads, MULS and ADDs 16, index 1: 20, four elements a branch:
 * 5.1 cycles a MAC, against 8.5 for the compiled tflm_dot4_i8_portable,
 * whose accumulators spill.
 */
#include "fully_connected_armv6m.h"

#if TFLM_FC_ARMV6M

/* Element i: x in r6, each weight times it into its accumulator. */
#define FC_ELEMENT                                                                                         \
    "ldrsb r6, [r0, r5]\n add r6, r12\n"                                                                   \
    "ldrsb r7, [r1, r5]\n muls r7, r6, r7\n add r8, r7\n"                                                  \
    "ldrsb r7, [r2, r5]\n muls r7, r6, r7\n add r9, r7\n"                                                  \
    "ldrsb r7, [r3, r5]\n muls r7, r6, r7\n add r10, r7\n"                                                 \
    "ldrsb r7, [r4, r5]\n muls r7, r6, r7\n add r11, r7\n"                                                 \
    "adds r5, #1\n"

/* Arguments: r0 x, r1 x_offset, r2 w, r3 n, [sp] acc (AAPCS). */
__attribute__((naked)) void tflm_fc_dot4_armv6m(const int8_t *x, int32_t x_offset, const int8_t *const w[4],
    int32_t n, int32_t acc[4]) {
    (void)x, (void)x_offset, (void)w, (void)n, (void)acc;
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, r5, r6, r7, lr}\n mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n push {r4, r5, r6, r7}\n"
        "mov r12, r1\n ldr r4, [sp, #36]\n"
        "ldr r5, [r4, #0]\n mov r8, r5\n ldr r5, [r4, #4]\n mov r9, r5\n"
        "ldr r5, [r4, #8]\n mov r10, r5\n ldr r5, [r4, #12]\n mov r11, r5\n"
        "movs r5, r3\n ldm r2, {r1, r2, r3, r4}\n"
        "adds r0, r0, r5\n adds r1, r1, r5\n adds r2, r2, r5\n adds r3, r3, r5\n adds r4, r4, r5\n"
        "rsbs r5, r5, #0\n"
        "1:\n lsls r7, r5, #30\n beq 2f\n" FC_ELEMENT "b 1b\n"   /* single elements until n is in fours */
        "2:\n cmp r5, #0\n beq 4f\n"
        "3:\n" FC_ELEMENT FC_ELEMENT FC_ELEMENT FC_ELEMENT "bne 3b\n"
        "4:\n ldr r4, [sp, #36]\n"
        "mov r5, r8\n str r5, [r4, #0]\n mov r5, r9\n str r5, [r4, #4]\n"
        "mov r5, r10\n str r5, [r4, #8]\n mov r5, r11\n str r5, [r4, #12]\n"
        "pop {r4, r5, r6, r7}\n mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4, r5, r6, r7, pc}\n"
        ".syntax divided\n");
}

#endif
