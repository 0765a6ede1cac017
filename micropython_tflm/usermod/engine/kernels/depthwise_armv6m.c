/*
 * int8 DEPTHWISE_CONV_2D on ARMv6-M (Cortex-M0+), see depthwise_armv6m.h.
 *
 * Layout. Channels go four at a time (a "group", one 32-bit word of each
 * input pixel). For a group, the input rows a band of output rows reads are
 * first copied into a band on the stack: one word per input column, with the
 * padding columns and rows filled with the input zero point, so that every
 * window lies inside the band and starts from the folded bias (TFLite's
 * padded taps add nothing; a zero-point input times any weight is exactly
 * what the folded bias takes off again). In the band a window's taps sit at
 * fixed byte offsets: the assembly addresses them with immediates.
 *
 * Shared input (a depth multiplier that is a multiple of four), where the
 * products of matrices of depthwise_shared_armv6m.c do not fit: the band
 * word holds the one input channel of the group in all four lanes, and the
 * same assembly runs.
 *
 * Assembly. Each call computes, row after row of the band, pairs of
 * horizontally adjacent output pixels: 2 pixels x 4 channels = 8
 * accumulators, in r6, r7 and r8-r12, lr (a high register takes an add). Per
 * tap: two input words, four weights (sign-extended in a per-group frame,
 * one load each) and eight multiply-adds, the input lanes extracted with
 * sxtb / shift pairs:
 *   6 loads (12 cycles) + 28 ALU = 40 cycles for 8 MACs = 5 cycles a MAC,
 * 4.8 with stride 1, where one word serves both pixels of adjacent columns.
 * That is the floor of this scheme: each MAC needs its mul and add, each
 * weight serves two pixels, each lane extraction one MAC, and 14 registers
 * hold 8 accumulators, 2 pointers and 4 operands. (Two pixels of one channel
 * in 16-bit lanes of a word, one multiply for two MACs, would take a band
 * per channel and a split of the lanes every two taps: about 4.4 cycles a
 * MAC with the weights loaded, not worth the registers it lacks.) Three
 * filter rows are unrolled, other heights loop. Per output then ~22 cycles
 * of requantization (range check, two 16 x 16 -> 32 multiplies as in
 * depthwise_requantize.h, sign term, rounding, shift, zero point, a clamp of
 * one unsigned comparison, store) and ~12 of reloading the spilled
 * accumulator, the lane's constants and per pair work. Counted from the
 * code, a stride-1 3x3 pair takes 650 cycles (377 of them the taps): 81 an
 * output, 9.0 a MAC (a PC profile of person_detect: 356 taps, 219 the
 * lanes' outputs, 45 spilling, 20 starting, 22 the loops, 7 the wide
 * requantization); with the band fill measured 9.7 on person_detect's
 * large stride-1 layers, 11.6 at stride 2 (four input words an output to
 * copy), 11.8 on 6 x 6 outputs and 19-21 on 3 x 3 ones (per-group frames,
 * ~350 cycles, and bands for few outputs), where the portable loops take
 * ~28. rp2040js's costs: 1 cycle an instruction, +1 a load or store, +1 a
 * taken branch.
 *
 * Odd widths: the last column goes one pixel at a time (dw_column: the
 * four accumulators in registers, 21 cycles a tap, ~430 cycles a pixel
 * with its requantization, where a pair whose second pixel is wasted took
 * ~700): kws's rows of 5 pixels 11.5-12.1 cycles a MAC instead of 13-13.7.
 *
 * Requantization: per channel m = mh * 2^16 + ml and the right shift e; the
 * assembly needs e >= 1 (for its sign term), which real layers meet (others
 * take the portable loops); e <= 16 keeps its rounding constant within
 * int32, and beyond that the fast range's outputs are all the zero point.
 * Accumulators beyond 16 bits take subroutine 9 (three products below 2^19)
 * or tflm_dw_armv6m_slow (exact for any accumulator).
 *
 * Stack: the band (1 KB), the frame (368 bytes) and the assembly's 120
 * bytes (with subroutine 9's; dw_column's 88). Shared input with other filters:
 * depthwise_shared_armv6m.c.
 */
#include "depthwise_armv6m.h"

#if TFLM_DW_ARMV6M

#include <stddef.h>

#include "requantize.h"

/* Words of the band on the stack; layers of which it cannot hold two output columns take the portable loops. */
#define BAND_WORDS 256
#define MAX_FILTER_H 5

/* What the assembly reads through r0; the offsets are spelled out in it. */
typedef struct {
    int32_t start[4];      /*   0: folded bias of the four channels */
    int32_t mult_low[4];   /*  16: multiplier & 0xffff */
    int32_t mult_high[4];  /*  32: multiplier >> 16 */
    int32_t rounding[4];   /*  48: 2^14 + 2^(14 + e) */
    int32_t shift[4];      /*  64: 15 + e */
    int32_t min;           /*  80: activation minimum */
    int32_t range;         /*  84: activation maximum - minimum */
    int32_t out_step;      /*  88: bytes from the first pixel's output to the second's */
    int32_t out_pair_step; /*  92: bytes from the first pixel's output + 4 (past its lanes) to the next pair's */
    int32_t row_step;      /*  96: band bytes between filter rows */
    int32_t rows;          /* 100: filter rows */
    int32_t zero_above_min; /* 104: output zero point - activation minimum */
    const int32_t *multipliers; /* 108: the four channels' multipliers and shifts, for tflm_dw_armv6m_slow */
    const int8_t *shifts;       /* 112 */
    int32_t pairs_per_row;      /* 116: pairs of each output row */
    int32_t band_row_skip;      /* 120: band bytes from the end of a row's pairs to the next row's first (dw_column: from a row's pixel to the next's) */
    int32_t out_row_skip;       /* 124: output bytes likewise */
    int32_t weights[MAX_FILTER_H][3][4]; /* 128: [row][column][lane], sign-extended */
} dw_frame;

typedef char dw_frame_layout_check[offsetof(dw_frame, weights) == 128 && offsetof(dw_frame, zero_above_min) == 104 ? 1 : -1];

/* Called by the assembly for an accumulator beyond 16 bits: the exact output of lane `lane`. */
int32_t tflm_dw_armv6m_slow(const dw_frame *f, int32_t lane, int32_t acc);
int32_t tflm_dw_armv6m_slow(const dw_frame *f, int32_t lane, int32_t acc) {
    int32_t zero_point = f->zero_above_min + f->min;
    return tflm_clamp(tflm_requantize(acc, f->multipliers[lane], f->shifts[lane]) + zero_point, f->min, f->min + f->range);
}

#define DW_STR(x) #x
#define DW_XSTR(x) DW_STR(x)

/* Filter column j, lane by lane, the pixels' input words in registers a and b. */
#define DW_LANES(j, a, b)                                                                                  \
    "ldr r5, [r0, #(16*" #j ")]\n"                                                                         \
    "sxtb r4, " #a "\n muls r4, r5, r4\n adds r6, r6, r4\n"                                               \
    "sxtb r4, " #b "\n muls r4, r5, r4\n adds r7, r7, r4\n"                                               \
    "ldr r5, [r0, #(16*" #j "+4)]\n"                                                                       \
    "lsls r4, " #a ", #16\n asrs r4, r4, #24\n muls r4, r5, r4\n add r8, r4\n"                             \
    "lsls r4, " #b ", #16\n asrs r4, r4, #24\n muls r4, r5, r4\n add r9, r4\n"                             \
    "ldr r5, [r0, #(16*" #j "+8)]\n"                                                                       \
    "lsls r4, " #a ", #8\n asrs r4, r4, #24\n muls r4, r5, r4\n add r10, r4\n"                             \
    "lsls r4, " #b ", #8\n asrs r4, r4, #24\n muls r4, r5, r4\n add r11, r4\n"                             \
    "ldr r5, [r0, #(16*" #j "+12)]\n"                                                                      \
    "asrs r4, " #a ", #24\n muls r4, r5, r4\n add r12, r4\n"                                               \
    "asrs r4, " #b ", #24\n muls r4, r5, r4\n add lr, r4\n"

/* One filter row, stride 1: the second pixel's word of a column is the first one's of the next. */
#define DW_ROW_STRIDE1                                                                                     \
    "ldr r2, [r1, #0]\n ldr r3, [r1, #4]\n" DW_LANES(0, r2, r3)                                            \
    "ldr r2, [r1, #8]\n" DW_LANES(1, r3, r2)                                                                \
    "ldr r3, [r1, #12]\n" DW_LANES(2, r2, r3)

/* One filter row, stride 2. */
#define DW_ROW_STRIDE2                                                                                     \
    "ldr r2, [r1, #0]\n ldr r3, [r1, #8]\n" DW_LANES(0, r2, r3)                                            \
    "ldr r2, [r1, #4]\n ldr r3, [r1, #12]\n" DW_LANES(1, r2, r3)                                           \
    "ldr r2, [r1, #8]\n ldr r3, [r1, #16]\n" DW_LANES(2, r2, r3)

/*
 * Clamps r4, the output above min, to [0, max - min] in one unsigned
 * comparison (r9 = max - min) and adds min (r8); `after_jump` is code only
 * reached by a jump, placed where the flow never falls through.
 */
#define DW_CLAMP(after_jump)                                                                               \
    "cmp r4, r9\n bls 2f\n bmi 1f\n mov r4, r9\n b 2f\n" after_jump "1:\n movs r4, #0\n2:\n add r4, r8\n"

/*
 * Requantizes the accumulator in r3 of lane `lane` into r4: r0 frame, r1 ml,
 * r2 mh, r6 shift, r8 min, r9 max - min, r11 rounding, r12 zero point - min;
 * r3 and r5 are clobbered.
 */
#define DW_OUTPUT(lane)                                                                                    \
    "asrs r5, r3, #15\n adds r4, r5, #1\n lsrs r4, r4, #1\n bne 13f\n"  /* r5: -1 or 0 within 16 bits */     \
    "mov r4, r1\n muls r4, r3, r4\n asrs r4, r4, #16\n muls r3, r2, r3\n adds r4, r4, r3\n"                 \
    "lsls r5, r5, #15\n adds r4, r4, r5\n"                         /* -2^15 for a negative acc */         \
    "add r4, r11\n asrs r4, r4, r6\n add r4, r12\n"                                                        \
    DW_CLAMP("13:\n movs r5, #" #lane "\n bl 9f\n b 4f\n")         /* |acc| > 2^15: DW_WIDE */             \
    "4:\n"

/*
 * Subroutine 9: the clamped output of an accumulator r3 beyond 16 bits, of
 * lane r5, into r4 (registers as in DW_OUTPUT; r3 and r5 are clobbered).
 * Below 2^19: m = m2 * 2^22 + m1 * 2^11 + m0 (11-bit parts) and the nested
 * floors (((acc * m0) >> 11) + acc * m1) >> 11, + acc * m2 + c / 2^22,
 * >> (9 + e), three products within int32; beyond, or for a lane whose
 * multiplier the frame zeroed, tflm_dw_armv6m_slow. The stack stays 8-byte
 * aligned for the call (100 bytes of frame + 20 pushed; dw_column's 68 + 20).
 */
#define DW_WIDE                                                                                            \
    "9:\n push {r0, r1, r2, r3, lr}\n"                                                                      \
    "movs r4, r1\n orrs r4, r2\n beq 8f\n"                                                                 \
    "asrs r4, r3, #19\n adds r4, #1\n lsrs r4, r4, #1\n bne 8f\n"                                          \
    "lsls r4, r1, #21\n lsrs r4, r4, #21\n muls r4, r3, r4\n asrs r4, r4, #11\n"                           \
    "lsls r0, r2, #26\n lsrs r0, r0, #21\n lsrs r1, r1, #11\n adds r0, r0, r1\n"                           \
    "muls r0, r3, r0\n adds r4, r4, r0\n asrs r4, r4, #11\n"                                              \
    "lsrs r0, r2, #6\n muls r0, r3, r0\n adds r4, r4, r0\n"                                                \
    "mov r0, r11\n asrs r0, r0, #6\n adds r4, r4, r0\n"                                                    \
    "asrs r3, r3, #31\n lsls r3, r3, #9\n adds r4, r4, r3\n"       /* -2^9 (c's 2^31) when negative */   \
    "subs r0, r6, #6\n asrs r4, r4, r0\n add r4, r12\n" DW_CLAMP("")                                       \
    "pop {r0, r1, r2, r3, pc}\n"                                                                           \
    "8:\n movs r2, r3\n movs r1, r5\n bl tflm_dw_armv6m_slow\n movs r4, r0\n"                              \
    "pop {r0, r1, r2, r3}\n ldr r3, [r0, #104]\n mov r12, r3\n pop {pc}\n"   /* r12: call-clobbered */

/* Lane `lane`'s constants of DW_OUTPUT, r0 at the frame. */
#define DW_LANE_CONSTANTS(lane)                                                                            \
    "ldr r1, [r0, #(16+4*" #lane ")]\n ldr r2, [r0, #(32+4*" #lane ")]\n"                                  \
    "ldr r3, [r0, #(48+4*" #lane ")]\n mov r11, r3\n ldr r6, [r0, #(64+4*" #lane ")]\n"

/* Both pixels' outputs of one lane; r7 points at the first pixel's output of the lane. */
#define DW_LANE(lane)                                                                                      \
    DW_LANE_CONSTANTS(lane)                                                                                \
    "ldr r3, [sp, #(24+8*" #lane ")]\n" DW_OUTPUT(lane) "strb r4, [r7]\n"                                  \
    "ldr r3, [sp, #(28+8*" #lane ")]\n" DW_OUTPUT(lane) "mov r5, r10\n strb r4, [r7, r5]\n"                \
    "adds r7, #1\n"

/* From one filter row to the next: its weights (r0) and band row (r1). */
#define DW_NEXT_ROW "adds r0, #48\n ldr r2, [sp, #20]\n adds r1, r1, r2\n"

/* The frame's `rows` filter rows, r0 at the frame. */
#define DW_ROWS_LOOP(row)                                                                                  \
    "ldr r2, [r0, #100]\n str r2, [sp, #16]\n adds r0, #128\n"                                             \
    "6:\n" row DW_NEXT_ROW "ldr r2, [sp, #16]\n subs r2, #1\n str r2, [sp, #16]\n beq 7f\n b 6b\n7:\n"

/* Three filter rows, unrolled: the common height, without the loop's ~27 cycles a pair. */
#define DW_ROWS_3(row) "adds r0, #128\n" row DW_NEXT_ROW row DW_NEXT_ROW row

/*
 * pairs(frame r0, band r1, out r2, output rows r3): the frame's
 * pairs_per_row pairs of each row. Stack: 0 frame, 4 band position, 8
 * output, 12 pairs left in the row, 16 filter rows left, 20 row step,
 * 24..55 the eight accumulators (lane-major, first pixel first), 56 output
 * rows left.
 */
#define DW_PAIRS(rows, px1)                                                                                \
    ".syntax unified\n"                                                                                    \
    "push {r4, r5, r6, r7, lr}\n mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n push {r4, r5, r6, r7}\n" \
    "sub sp, #64\n str r0, [sp, #0]\n str r1, [sp, #4]\n str r2, [sp, #8]\n str r3, [sp, #56]\n"          \
    "ldr r2, [r0, #96]\n str r2, [sp, #20]\n"                                                              \
    "10:\n ldr r2, [r0, #116]\n str r2, [sp, #12]\n"                                                       \
    "5:\n ldr r0, [sp, #0]\n ldr r1, [sp, #4]\n"                                                           \
    "ldr r2, [r0, #0]\n movs r6, r2\n movs r7, r2\n"                                                       \
    "ldr r2, [r0, #4]\n mov r8, r2\n mov r9, r2\n"                                                         \
    "ldr r2, [r0, #8]\n mov r10, r2\n mov r11, r2\n"                                                       \
    "ldr r2, [r0, #12]\n mov r12, r2\n mov lr, r2\n"                                                       \
    rows                                                                                                   \
    "str r6, [sp, #24]\n str r7, [sp, #28]\n mov r2, r8\n str r2, [sp, #32]\n mov r2, r9\n str r2, [sp, #36]\n" \
    "mov r2, r10\n str r2, [sp, #40]\n mov r2, r11\n str r2, [sp, #44]\n"                                  \
    "mov r2, r12\n str r2, [sp, #48]\n mov r2, lr\n str r2, [sp, #52]\n"                                   \
    "ldr r0, [sp, #0]\n ldr r7, [sp, #8]\n"                                                                \
    "ldr r2, [r0, #80]\n mov r8, r2\n ldr r2, [r0, #84]\n mov r9, r2\n ldr r2, [r0, #88]\n mov r10, r2\n" \
    "ldr r2, [r0, #104]\n mov r12, r2\n"                                                                  \
    DW_LANE(0) DW_LANE(1) DW_LANE(2) DW_LANE(3)                                                            \
    "ldr r2, [sp, #4]\n adds r2, #(2*" #px1 ")\n str r2, [sp, #4]\n"                                      \
    "ldr r3, [r0, #92]\n adds r7, r7, r3\n str r7, [sp, #8]\n"                                            \
    "ldr r2, [sp, #12]\n subs r2, #1\n str r2, [sp, #12]\n beq 11f\n b 5b\n"                              \
    "11:\n ldr r2, [sp, #4]\n ldr r3, [r0, #120]\n adds r2, r2, r3\n str r2, [sp, #4]\n"                 \
    "ldr r3, [r0, #124]\n adds r7, r7, r3\n str r7, [sp, #8]\n"                                           \
    "ldr r2, [sp, #56]\n subs r2, #1\n str r2, [sp, #56]\n beq 12f\n b 10b\n"                            \
    "12:\n add sp, #64\n pop {r4, r5, r6, r7}\n mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"      \
    "pop {r4, r5, r6, r7, pc}\n"                                                                          \
    DW_WIDE ".syntax divided\n"

typedef void dw_pairs_fn(const dw_frame *f, const uint32_t *band, int8_t *out, int32_t rows);

/* Filter column j of one pixel: its input word, the four weights in one ldm (r0 walks the frame's weights). */
#define DW_PIXEL_TAP(j)                                                                                    \
    "ldr r2, [r1, #(4*" #j ")]\n ldm r0!, {r4, r5, r6, r7}\n"                                              \
    "sxtb r3, r2\n muls r3, r4, r3\n add r8, r3\n"                                                          \
    "lsls r3, r2, #16\n asrs r3, r3, #24\n muls r3, r5, r3\n add r9, r3\n"                                 \
    "lsls r3, r2, #8\n asrs r3, r3, #24\n muls r3, r6, r3\n add r10, r3\n"                                 \
    "asrs r3, r2, #24\n muls r3, r7, r3\n add r11, r3\n"

/* One pixel's output of lane `lane`, its accumulator at sp + 16 + 4 * lane; r7 at the output. */
#define DW_PIXEL_LANE(lane)                                                                                \
    DW_LANE_CONSTANTS(lane) "ldr r3, [sp, #(16+4*" #lane ")]\n" DW_OUTPUT(lane) "strb r4, [r7]\n adds r7, #1\n"

/*
 * dw_column(frame r0, band r1, out r2, output rows r3): the one pixel of
 * each output row at band r1 and output r2 on, the frame's band_row_skip
 * and out_row_skip bytes apart: an odd width's last column, instead of a
 * pair of which one pixel is wasted. The four accumulators stay in r8-r11
 * and the weights come four at a time (21 cycles a tap, 5.25 a MAC).
 * Stack: 0 frame, 4 band position, 8 output, 12 rows left, 16..31 the
 * accumulators.
 */
__attribute__((naked)) static void dw_column(const dw_frame *f, const uint32_t *band, int8_t *out, int32_t rows) {
    (void)f, (void)band, (void)out, (void)rows;
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, r5, r6, r7, lr}\n mov r4, r8\n mov r5, r9\n mov r6, r10\n mov r7, r11\n push {r4, r5, r6, r7}\n"
        "sub sp, #32\n str r0, [sp, #0]\n str r1, [sp, #4]\n str r2, [sp, #8]\n str r3, [sp, #12]\n"
        "10:\n ldr r0, [sp, #0]\n ldr r1, [sp, #4]\n"
        "ldr r2, [r0, #0]\n mov r8, r2\n ldr r2, [r0, #4]\n mov r9, r2\n"
        "ldr r2, [r0, #8]\n mov r10, r2\n ldr r2, [r0, #12]\n mov r11, r2\n"
        "ldr r2, [r0, #96]\n mov r12, r2\n ldr r2, [r0, #100]\n mov lr, r2\n adds r0, #128\n"
        "6:\n" DW_PIXEL_TAP(0) DW_PIXEL_TAP(1) DW_PIXEL_TAP(2)
        "add r1, r12\n mov r2, lr\n subs r2, #1\n mov lr, r2\n bne 6b\n"
        "mov r2, r8\n str r2, [sp, #16]\n mov r2, r9\n str r2, [sp, #20]\n"
        "mov r2, r10\n str r2, [sp, #24]\n mov r2, r11\n str r2, [sp, #28]\n"
        "ldr r0, [sp, #0]\n ldr r7, [sp, #8]\n"
        "ldr r2, [r0, #80]\n mov r8, r2\n ldr r2, [r0, #84]\n mov r9, r2\n ldr r2, [r0, #104]\n mov r12, r2\n"
        DW_PIXEL_LANE(0) DW_PIXEL_LANE(1) DW_PIXEL_LANE(2) DW_PIXEL_LANE(3)
        "ldr r2, [sp, #4]\n ldr r3, [r0, #120]\n adds r2, r2, r3\n str r2, [sp, #4]\n"
        "ldr r2, [sp, #8]\n ldr r3, [r0, #124]\n adds r2, r2, r3\n str r2, [sp, #8]\n"
        "ldr r2, [sp, #12]\n subs r2, #1\n str r2, [sp, #12]\n beq 12f\n b 10b\n"
        "12:\n add sp, #32\n pop {r4, r5, r6, r7}\n mov r8, r4\n mov r9, r5\n mov r10, r6\n mov r11, r7\n"
        "pop {r4, r5, r6, r7, pc}\n"
        DW_WIDE ".syntax divided\n");
}

#define DW_PAIRS_FN(name, rows, row, px1)                                                                  \
    __attribute__((naked)) static void name(const dw_frame *f, const uint32_t *band, int8_t *out,         \
        int32_t rows) {                                                                                    \
        (void)f, (void)band, (void)out, (void)rows;                                                        \
        __asm__ volatile(DW_PAIRS(rows(row), px1));                                                        \
    }

DW_PAIRS_FN(dw_pairs_stride1, DW_ROWS_LOOP, DW_ROW_STRIDE1, 4)
DW_PAIRS_FN(dw_pairs_stride2, DW_ROWS_LOOP, DW_ROW_STRIDE2, 8)
DW_PAIRS_FN(dw_pairs_stride1_rows3, DW_ROWS_3, DW_ROW_STRIDE1, 4)
DW_PAIRS_FN(dw_pairs_stride2_rows3, DW_ROWS_3, DW_ROW_STRIDE2, 8)

typedef uint32_t __attribute__((may_alias, aligned(4))) dw_word;

/*
 * Band rows [0, rows) = input rows iy0.., columns [0, width) = input columns
 * ix0.., of the group's four channels at `input` (shared: the one input
 * channel of the four, in every lane); the zero-point word outside.
 */
static void fill_band(uint32_t *band, int32_t rows, int32_t width, const tflm_conv_data *d, const int8_t *input,
    bool shared, int32_t iy0, int32_t ix0, uint32_t zero_word) {
    /* band columns [first, end) lie in the input */
    int32_t first = ix0 >= 0 ? 0 : -ix0 < width ? -ix0 : width;
    int32_t end = d->in_w - ix0 < width ? d->in_w - ix0 : width;
    end = end > first ? end : first;
    for (int32_t r = 0; r < rows; r++, band += width) {
        int32_t iy = iy0 + r;
        if (iy < 0 || iy >= d->in_h) {
            for (int32_t c = 0; c < width; c++) {
                band[c] = zero_word;
            }
            continue;
        }
        const int8_t *src = input + ((iy * d->in_w) + ix0 + first) * d->in_c;
        int32_t c = 0;
        for (; c < first; c++) {
            band[c] = zero_word;
        }
        /* two words an iteration by pointers: ~6 cycles a word instead of 8 */
        int32_t in_c = d->in_c;
        uint32_t *dst = band + c, *pairs_end = band + c + (end - c) / 2 * 2;
        if (shared) {
            for (; dst < pairs_end; dst += 2, src += 2 * in_c) {
                dst[0] = 0x01010101u * (uint8_t)src[0];
                dst[1] = 0x01010101u * (uint8_t)src[in_c];
            }
        } else {
            for (; dst < pairs_end; dst += 2, src += 2 * in_c) {
                dst[0] = *(const dw_word *)(const void *)src;
                dst[1] = *(const dw_word *)(const void *)(src + in_c);
            }
        }
        if ((end - c) % 2) {
            *dst = shared ? 0x01010101u * (uint8_t)*src : *(const dw_word *)(const void *)src;
        }
        c = end;
        for (; c < width; c++) {
            band[c] = zero_word;
        }
    }
}

/* The four channels c.. of the frame: folded bias, requantization constants and weights. */
static void frame_group(dw_frame *f, const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *filter, int32_t c) {
    f->multipliers = k->multiplier + c;
    f->shifts = k->shift + c;
    for (int j = 0; j < 4; j++) {
        uint32_t m = (uint32_t)k->multiplier[c + j];
        int32_t e = -k->shift[c + j];
        if (e > 16) {
            /* |acc| <= 2^15 gives |acc * m| / 2^(31 + e) < 1/4: the output is the
             * zero point, which a zero multiplier gives too */
            m = 0;
            e = 1;
        }
        f->start[j] = k->folded[c + j];
        f->mult_low[j] = (int32_t)(m & 0xFFFFu);
        f->mult_high[j] = (int32_t)(m >> 16);
        f->rounding[j] = (int32_t)((1u << 14) + (1u << (14 + e)));
        f->shift[j] = 15 + e;
    }
    for (int32_t r = 0; r < d->filter_h; r++) {
        for (int32_t x = 0; x < 3; x++) {
            for (int j = 0; j < 4; j++) {
                f->weights[r][x][j] = filter[(r * 3 + x) * d->out_c + c + j];
            }
        }
    }
}

/*
 * `rows` output rows of `per_row` pairs each, from band row `band` (of
 * `width` words) and output `out` on.
 */
static void pairs_rows(dw_pairs_fn *pairs, dw_frame *f, const tflm_conv_data *d, const uint32_t *band, int32_t width,
    int8_t *out, int32_t rows, int32_t per_row) {
    f->pairs_per_row = per_row;
    f->band_row_skip = (d->stride_h * width - per_row * 2 * d->stride_w) * 4;
    f->out_row_skip = (d->out_w - per_row * 2) * d->out_c;
    pairs(f, band, out, rows);
}

/* The pixel of each of `rows` output rows from band row `band` (of `width` words) and output `out` on. */
static void column_rows(dw_frame *f, const tflm_conv_data *d, const uint32_t *band, int32_t width, int8_t *out,
    int32_t rows) {
    f->band_row_skip = d->stride_h * width * 4;
    f->out_row_skip = d->out_w * d->out_c;
    dw_column(f, band, out, rows);
}

/* The band path: filters three columns wide, see the top of the file. */
__attribute__((noinline)) static bool dw_band_eval(const tflm_conv_data *d, const tflm_conv_int8 *k,
    const int8_t *input, const int8_t *filter, int8_t *output) {
    int32_t channels = d->out_c, out_w = d->out_w, multiplier = d->group_out_c;
    /* four channels read four adjacent input channels (words) or share one */
    bool shared = multiplier % 4 == 0;
    if (!(shared || (multiplier == 1 && channels % 4 == 0 && ((uintptr_t)input & 3u) == 0)) || d->filter_w != 3 ||
        d->dilation_w != 1 || d->filter_h > MAX_FILTER_H || (d->stride_w != 1 && d->stride_w != 2)) {
        return false;
    }
    for (int32_t c = 0; c < channels; c++) {
        if (k->shift[c] > -1) {
            return false;
        }
    }
    /* The band holds `seg` output columns (even: whole pairs) of `strip`
     * output rows: their windows' columns and rows. */
    int32_t span = (d->filter_h - 1) * d->dilation_h + 1; /* input rows of one output row */
    int32_t seg = (BAND_WORDS / span - 2) / d->stride_w / 2 * 2;
    if (seg < 2) {
        return false;
    }
    dw_pairs_fn *pairs = d->filter_h == 3 ? (d->stride_w == 1 ? dw_pairs_stride1_rows3 : dw_pairs_stride2_rows3)
                                          : (d->stride_w == 1 ? dw_pairs_stride1 : dw_pairs_stride2);
    uint32_t band[BAND_WORDS];
    dw_frame f;
    f.min = k->min;
    f.range = k->max - k->min;
    f.out_step = channels;
    f.out_pair_step = 2 * channels - 4;
    f.rows = d->filter_h;
    f.zero_above_min = k->zero_point - k->min;
    uint32_t zero_word = 0x01010101u * (uint8_t)(-k->input_offset);
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *in_b = input + b * d->in_h * d->in_w * d->in_c;
        int8_t *out_b = output + b * d->out_h * out_w * channels;
        for (int32_t c = 0; c < channels; c += 4) {
            frame_group(&f, d, k, filter, c);
            const int8_t *in_group = in_b + (shared ? c / multiplier : c);
            for (int32_t ox0 = 0; ox0 < out_w; ox0 += seg) {
                int32_t cols = out_w - ox0 < seg ? out_w - ox0 : seg;
                int32_t width = (cols - 1) * d->stride_w + 3;
                int32_t strip = (BAND_WORDS / width - span) / d->stride_h + 1; /* output rows per band */
                for (int32_t oy0 = 0; oy0 < d->out_h; oy0 += strip) {
                    int32_t n = d->out_h - oy0 < strip ? d->out_h - oy0 : strip;
                    f.row_step = width * 4 * d->dilation_h;
                    fill_band(band, (n - 1) * d->stride_h + span, width, d, in_group, shared,
                        oy0 * d->stride_h - d->pad_h, ox0 * d->stride_w - d->pad_w, zero_word);
                    int8_t *out = out_b + (oy0 * out_w + ox0) * channels + c;
                    if (cols >= 2) {
                        pairs_rows(pairs, &f, d, band, width, out, n, cols / 2);
                    }
                    if (cols % 2) {
                        column_rows(&f, d, band + (cols - 1) * d->stride_w, width, out + (cols - 1) * channels, n);
                    }
                }
            }
        }
    }
    return true;
}

bool tflm_dw_armv6m_eval(const tflm_conv_data *d, const tflm_conv_int8 *k, const int8_t *input,
    const int8_t *filter, int8_t *output) {
    /* separate functions, so that their stack arrays are never live together */
    return tflm_dw_gemm_armv6m_eval(d, k, input, filter, output) || dw_band_eval(d, k, input, filter, output) ||
        tflm_dw_taps_armv6m_eval(d, k, input, filter, output);
}

#endif
