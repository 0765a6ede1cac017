/* Portable forms of depthwise_dot.h's loops. */
#include "depthwise_dot.h"

#if TFLM_DW_WORDS && !defined(TFLM_ARMV7EM_DSP)

/* Four int8 lanes read as one word: GNU C's may_alias keeps the access to int8 data defined. */
typedef uint32_t __attribute__((may_alias, aligned(4))) tflm_dw_word;

static inline uint32_t word_at(const int8_t *p) {
    return *(const tflm_dw_word *)(const void *)p;
}

/* Lane j, sign-extended: a shift pair (sxtb for lane 0, one shift for lane 3). */
static inline int32_t lane(uint32_t v, int j) {
    return (int32_t)(v << (24 - 8 * j)) >> 24;
}

/* x_offset is a constant 0 in the whole-window form: the compiler drops its adds there. */
static inline void dot4_words(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t cols = g->cols, x_col = g->x_col, w_col = g->w_col;
    for (int32_t r = 0; r < g->rows; r++, x += g->x_row, w += g->w_row) {
        const int8_t *xc = x, *wc = w;
        for (int32_t c = cols; c > 0; c--, xc += x_col, wc += w_col) {
            uint32_t xv = word_at(xc), wv = word_at(wc);
            a0 += (lane(xv, 0) + x_offset) * lane(wv, 0);
            a1 += (lane(xv, 1) + x_offset) * lane(wv, 1);
            a2 += (lane(xv, 2) + x_offset) * lane(wv, 2);
            a3 += (lane(xv, 3) + x_offset) * lane(wv, 3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

void tflm_dw_dot4_words(const tflm_conv_grid *g, const int8_t *x, const int8_t *w, int32_t acc[4]) {
    dot4_words(g, x, 0, w, acc);
}

void tflm_dw_dot4_words_offset(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]) {
    dot4_words(g, x, x_offset, w, acc);
}

void tflm_dw_dot4_shared(const tflm_conv_grid *g, const int8_t *x, int32_t x_offset, const int8_t *w,
    int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t cols = g->cols, x_col = g->x_col, w_col = g->w_col;
    for (int32_t r = 0; r < g->rows; r++, x += g->x_row, w += g->w_row) {
        const int8_t *xc = x, *wc = w;
        for (int32_t c = cols; c > 0; c--, xc += x_col, wc += w_col) {
            int32_t xv = *xc + x_offset;
            uint32_t wv = word_at(wc);
            a0 += xv * lane(wv, 0);
            a1 += xv * lane(wv, 1);
            a2 += xv * lane(wv, 2);
            a3 += xv * lane(wv, 3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#endif
