/*
 * The innermost int8 loops of CONV_2D and DEPTHWISE_CONV_2D: four output
 * channels of one output position over its window. They live in a file of
 * their own so that the compiler cannot inline them into the kernels' eval
 * loops, where its register allocator hands their pointers to the stack, and
 * so that a port can replace this one file.
 *
 * Four channels go together: in CONV_2D each input load serves four
 * multiplies, in DEPTHWISE_CONV_2D the four share the walk over the window.
 * Four accumulators fit beside the pointers in a Cortex-M0+'s registers,
 * more would spill.
 */
#include "conv_common.h"

void tflm_conv_runs_dot4_i8(const tflm_conv_runs *t, const int8_t *x, int32_t x_offset, const int8_t *const w[4],
    int32_t acc[4]) {
    for (int32_t r = 0, w_at = t->w0; r < t->rows; r++, x += t->x_row, w_at += t->w_row) {
        const int8_t *xs = x;
        for (int32_t s = 0, ws = w_at; s < t->runs; s++, xs += t->x_run, ws += t->w_run) {
            const int8_t *const wr[4] = { w[0] + ws, w[1] + ws, w[2] + ws, w[3] + ws };
            tflm_dot4_i8(xs, x_offset, wr, t->run_len, acc);
        }
    }
}

void tflm_conv_grid_dot4_i8(const tflm_conv_grid *g, const int8_t *x, int32_t x_lane, int32_t x_offset,
    const int8_t *w, int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t l1 = x_lane, l2 = 2 * x_lane, l3 = 3 * x_lane;
    for (int32_t r = 0; r < g->rows; r++, x += g->x_row, w += g->w_row) {
        const int8_t *xc = x, *wc = w;
        for (int32_t c = 0; c < g->cols; c++, xc += g->x_col, wc += g->w_col) {
            a0 += (xc[0] + x_offset) * wc[0];
            a1 += (xc[l1] + x_offset) * wc[1];
            a2 += (xc[l2] + x_offset) * wc[2];
            a3 += (xc[l3] + x_offset) * wc[3];
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#if TFLM_CONV_GEMM && !defined(__ARM_ARCH_6M__) && !defined(TFLM_ARMV7EM_DSP)
#if TFLM_CONV_LANES
/* Two taps' products per lane, then the lanes into 32-bit sums (conv_gemm_armv6m.c gets the same sums another way). */
static void add_lanes(uint32_t a, int32_t *lo, int32_t *hi) {
    int32_t low = (int16_t)(a & 0xFFFFu);
    *lo += low;
    *hi += (int32_t)(a - (uint32_t)low) >> 16;
}

void tflm_conv_gemm4_i8(const void *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums) {
    const uint32_t *v = x;
    for (int32_t o = 0; o < n; o++, w += k, sums += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int32_t i = 0; i < k; i += 2) {
            uint32_t w0 = (uint32_t)(int32_t)w[i], w1 = (uint32_t)(int32_t)w[i + 1];
            add_lanes(v[2 * i] * w0 + v[2 * i + 2] * w1, &s0, &s1);
            add_lanes(v[2 * i + 1] * w0 + v[2 * i + 3] * w1, &s2, &s3);
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }
}
#else
/* Each weight serves the four positions; compilers vectorize the loop over the taps. */
void tflm_conv_gemm4_i8(const void *x, const int8_t *w, int32_t k, int32_t n, int32_t *sums) {
    const int16_t *x0 = x, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
    for (int32_t o = 0; o < n; o++, w += k, sums += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int32_t i = 0; i < k; i++) {
            int32_t wi = w[i];
            s0 += x0[i] * wi;
            s1 += x1[i] * wi;
            s2 += x2[i] * wi;
            s3 += x3[i] * wi;
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }
}
#endif
#endif
