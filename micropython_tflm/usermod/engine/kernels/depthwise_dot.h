/*
 * The inner loops of the int8 DEPTHWISE_CONV_2D kernel: four output channels
 * of one output position over its window (tflm_conv_grid), in
 * depthwise_dot.c, out of line so that the kernel's eval loops cannot take
 * their registers, and so that an architecture can replace that one file.
 *
 * Words: with a depth multiplier of 1 the four channels' inputs of one tap
 * are four adjacent bytes, as are their weights ([1, h, w, channels]); with a
 * depth multiplier that is a multiple of four they share one input and their
 * weights are again adjacent. Either way one 32-bit load fetches four
 * values, where byte loads would take four (on a Cortex-M0+ a word load and
 * a shift pair cost what a signed byte load does, but need no index
 * register). The word pointers must be 4-byte aligned.
 */
#ifndef TFLM_KERNELS_DEPTHWISE_DOT_H
#define TFLM_KERNELS_DEPTHWISE_DOT_H

#include "conv_common.h"

/* Little-endian GNU C targets only (lane j of a word is the byte at address
 * + j), and not in builds for size, which keep only the byte loops. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__) && \
    !(defined(TFLM_OPTIMIZE_SIZE) && TFLM_OPTIMIZE_SIZE)
#define TFLM_DW_WORDS 1
#else
#define TFLM_DW_WORDS 0
#endif

#if TFLM_DW_WORDS
/*
 * acc[j] += input lane j times weight lane j over the taps g, x and w
 * pointing at the first tap's four channels: a window inside the input
 * (TFLite's input offset is in acc's start, the folded bias).
 */
void tflm_dw_dot4_words(const tflm_conv_grid *g, const int8_t *x, const int8_t *w, int32_t acc[4]);

/* The same for a window cut by the padding: each input plus x_offset. */
void tflm_dw_dot4_words_offset(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]);

/* acc[j] += (input + x_offset) times weight lane j: four channels reading one input channel. */
void tflm_dw_dot4_shared(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]);
#endif

#endif
