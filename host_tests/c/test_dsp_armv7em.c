/*
 * The ARMv7E-M DSP loops (kernels/dsp_armv7em.c) against plain C sums,
 * bare metal on QEMU's mps2-an386 (Cortex-M4): seeded random vectors of
 * every length from 0 to 67 at every byte alignment, windows of taps, int16
 * planes, the int8 extremes, input offsets from -127 to 128, and sums that
 * wrap. Prints one
 * line per failure over semihosting and exits with the number of failures.
 * host_tests/test_dsp_armv7em.py builds and runs it.
 */
#include <stdint.h>

#define CHECK_NAME "dsp_armv7em"
#include "bare_metal_check.h"
#include "kernels/conv_common.h"
#include "kernels/depthwise_dot.h"

#if !defined(TFLM_ARMV7EM_DSP) || !TFLM_DW_WORDS || !TFLM_CONV_GEMM
#error "build optimized for a core with the DSP extension, e.g. -O2 -mcpu=cortex-m4"
#endif

/* Mostly random bytes, with the extremes often enough to meet every pairing. */
static int8_t random_i8(void) {
    uint32_t r = rng();
    switch (r & 7) {
    case 0: return -128;
    case 1: return 127;
    default: return (int8_t)(r >> 8);
    }
}

static int32_t random_offset(void) {
    uint32_t r = rng();
    switch (r & 3) {
    case 0: return 0;
    case 1: return (r & 4) ? -127 : 128;
    default: return (int32_t)((r >> 8) % 256) - 127;
    }
}

/* Accumulators near the int32 limits make the sums wrap. */
static int32_t random_acc(void) {
    uint32_t r = rng();
    return (r & 1) ? (int32_t)(r ^ 0x7fffff00u) : (int32_t)(r >> 12) - (1 << 19);
}

/* The wrapping sum the portable kernels compute (-fwrapv), in unsigned arithmetic here. */
static int32_t reference_dot(const int8_t *x, int32_t x_offset, const int8_t *w, int32_t n, int32_t acc) {
    uint32_t sum = (uint32_t)acc;
    for (int32_t i = 0; i < n; i++) {
        sum += (uint32_t)((x[i] + x_offset) * w[i]);
    }
    return (int32_t)sum;
}

#define MAX_N 67

static int8_t x_buf[MAX_N + 4], w_buf[4][MAX_N + 4];

static void test_dot4(void) {
    for (int32_t n = 0; n <= MAX_N; n++) {
        for (int32_t trial = 0; trial < 12; trial++) {
            /* x and each w at their own alignment */
            const int8_t *x = x_buf + (trial & 3);
            const int8_t *w[4];
            for (int j = 0; j < 4; j++) {
                w[j] = w_buf[j] + ((trial + j * (trial >> 2)) & 3);
            }
            for (int32_t i = 0; i < MAX_N + 4; i++) {
                x_buf[i] = random_i8();
                for (int j = 0; j < 4; j++) {
                    w_buf[j][i] = random_i8();
                }
            }
            int32_t x_offset = random_offset(), acc[4], want[4];
            for (int j = 0; j < 4; j++) {
                acc[j] = random_acc();
                want[j] = reference_dot(x, x_offset, w[j], n, acc[j]);
            }
            tflm_dsp_dot4_i8(x, x_offset, w, n, acc);
            for (int j = 0; j < 4; j++) {
                if (acc[j] != want[j]) {
                    fail("tflm_dsp_dot4_i8 n, lane", n, j, acc[j], want[j]);
                }
            }
        }
    }
}

/* Windows of 0..3 rows by 0..4 columns over a buffer, the steps any multiple of 4 (depthwise_dot.h's
 * aligned words), x in four lanes (with and without an offset) or one. */
static int8_t window_x[512] __attribute__((aligned(4))), window_w[512] __attribute__((aligned(4)));

static void test_depthwise_windows(void) {
    for (int32_t trial = 0; trial < 3000; trial++) {
        tflm_conv_grid g;
        g.rows = (int32_t)(rng() % 4);
        g.cols = (int32_t)(rng() % 5);
        g.x_col = 4 * (1 + (int32_t)(rng() % 4));
        g.w_col = 4 * (1 + (int32_t)(rng() % 4));
        g.x_row = g.cols * g.x_col + 4 * (int32_t)(rng() % 3);
        g.w_row = g.cols * g.w_col + 4 * (int32_t)(rng() % 3);
        for (uint32_t i = 0; i < sizeof window_x; i++) {
            window_x[i] = random_i8();
            window_w[i] = random_i8();
        }
        const int8_t *x = window_x + 4 * (rng() % 4), *w = window_w + 4 * (rng() % 4);
        int32_t form = (int32_t)(trial % 3), x_lane = form < 2, x_offset = form ? random_offset() : 0;
        int32_t acc[4], want[4];
        for (int j = 0; j < 4; j++) {
            acc[j] = want[j] = random_acc();
            for (int32_t r = 0; r < g.rows; r++) {
                for (int32_t c = 0; c < g.cols; c++) {
                    const int8_t *xt = x + r * g.x_row + c * g.x_col + j * x_lane, *wt = w + r * g.w_row + c * g.w_col + j;
                    want[j] = reference_dot(xt, x_offset, wt, 1, want[j]);
                }
            }
        }
        const char *name;
        if (form == 0) {
            name = "tflm_dw_dot4_words";
            tflm_dw_dot4_words(&g, x, w, acc);
        } else if (form == 1) {
            name = "tflm_dw_dot4_words_offset";
            tflm_dw_dot4_words_offset(&g, x, x_offset, w, acc);
        } else {
            name = "tflm_dw_dot4_shared";
            tflm_dw_dot4_shared(&g, x, x_offset, w, acc);
        }
        for (int j = 0; j < 4; j++) {
            if (acc[j] != want[j]) {
                fail(name, trial, j, acc[j], want[j]);
            }
        }
    }
}

/* Four int16 planes of k taps against n channels' weights, k from 4 to 64. */
static int16_t gemm_x[4 * 64] __attribute__((aligned(4)));
static int8_t gemm_w[5 * 64] __attribute__((aligned(4)));

static void test_gemm4(void) {
    for (int32_t trial = 0; trial < 400; trial++) {
        int32_t k = 4 * (1 + (int32_t)(rng() % 16)), n = 1 + (int32_t)(rng() % 5), sums[4 * 5];
        for (int32_t i = 0; i < 4 * k; i++) {
            gemm_x[i] = (int16_t)((rng() & 1) ? random_i8() : (int16_t)rng());
        }
        for (int32_t i = 0; i < n * k; i++) {
            gemm_w[i] = random_i8();
        }
        tflm_conv_gemm4_i8(gemm_x, gemm_w, k, n, sums);
        for (int32_t o = 0; o < n; o++) {
            for (int32_t j = 0; j < 4; j++) {
                uint32_t want = 0;
                for (int32_t i = 0; i < k; i++) {
                    want += (uint32_t)(gemm_x[j * k + i] * gemm_w[o * k + i]);
                }
                if (sums[4 * o + j] != (int32_t)want) {
                    fail("tflm_conv_gemm4_i8 k, lane", k, 4 * o + j, sums[4 * o + j], (int32_t)want);
                }
            }
        }
    }
}

static void run_checks(void) {
    test_dot4();
    test_depthwise_windows();
    test_gemm4();
}
