/*
 * The ARMv6-M CONV_2D assembly (kernels/conv_gemm_armv6m.c) against plain C,
 * bare metal on QEMU's mps2-an385 (a Cortex-M3 runs the Cortex-M0+'s
 * instructions): the requantization of tflm_conv_gemm_outputs_armv6m
 * against tflm_requantize64 for seeded random accumulators (both sides of
 * the 16-bit fast path's bounds, ties, the int32 extremes), multipliers
 * (2^30, 2^31 - 1 and 0 among them), every right shift from 1 to 31, zero
 * points and activation ranges, counts of 1 to 4 positions (none written
 * past them), through tables of tflm_conv_gemm_table_armv6m;
 * tflm_conv_gemm4_i8 and tflm_sum_i8 against plain sums.
 * Prints one line per failure over semihosting and exits with the number of
 * failures. host_tests/test_conv_armv6m.py builds and runs it.
 */
#include <stdint.h>

#define CHECK_NAME "conv_armv6m"
#include "bare_metal_check.h"
#include "kernels/conv_common.h"

#if !defined(__ARM_ARCH_6M__) || !TFLM_CONV_GEMM || !TFLM_CONV_LANES
#error "build for ARMv6-M, e.g. -mcpu=cortex-m0plus"
#endif

/* Accumulators around the fast path's bounds (+-2^15), near 0 (ties for small shifts), anywhere, and extreme. */
static int32_t random_acc(void) {
    uint32_t r = rng();
    switch (r & 7) {
    case 0: return (int32_t)((r >> 8) & 63) - 32 + ((r & 8) ? 32768 : -32768);
    case 1: return (int32_t)((r >> 8) & 15) - 8;
    case 2: return ((int32_t)r >> ((r >> 28) & 15)) & ~(int32_t)((1u << ((r >> 4) & 7)) - 1u);
    case 3: return (r & 8) ? INT32_MIN + (int32_t)((r >> 8) & 7) : INT32_MAX - (int32_t)((r >> 8) & 7);
    case 4: return (int32_t)r;
    default: return ((int32_t)(r >> 12) - (1 << 19)) >> ((r >> 4) & 3);
    }
}

/* Multipliers of tflm_quantize_multiplier: from 2^30 (both ends among them), or 0 (scales flushed to zero). */
static int32_t random_multiplier(void) {
    uint32_t r = rng();
    switch (r & 15) {
    case 0: return 1 << 30;
    case 1: return INT32_MAX;
    case 2: return 0;
    default: return (int32_t)((1u << 30) | (rng() >> 2));
    }
}

#define MAX_CHANNELS 5

/* Shifts from -1 to -16 mostly, sometimes -17 to -31 (dead channels), 0 or left shifts (C's). */
static int32_t random_shift(void) {
    uint32_t r = rng();
    switch (r & 15) {
    case 0: return (int32_t)((r >> 4) % 3);
    case 1: case 2: case 3: return -17 - (int32_t)((r >> 4) % 15);
    default: return -1 - (int32_t)((r >> 4) % 16);
    }
}

static void test_requantize(void) {
    enum { SENTINEL = 0x55 };
    for (int32_t round = 0; round < 20000; round++) {
        int32_t sums[4 * MAX_CHANNELS], start[MAX_CHANNELS], multiplier[MAX_CHANNELS];
        int8_t shift[MAX_CHANNELS], out[4 * 5 * MAX_CHANNELS];
        tflm_conv_requant table[MAX_CHANNELS];
        uint32_t r = rng();
        int32_t n = 1 + (int32_t)((r >> 28) % MAX_CHANNELS), a = (int32_t)((r >> 17) & 255) - 128;
        int32_t b = (int32_t)((r >> 25) & 7) * 32 - 128;
        tflm_conv_outputs q = {
            .table = table, .multiplier = multiplier, .shift = shift, .count = 1 + (int32_t)(r & 3),
            .stride = n + (int32_t)((r >> 2) % 5), .zero_point = (int32_t)((r >> 9) & 255) - 128,
            .min = (r & 0x10000) ? -128 : (a < b ? a : b), .max = (r & 0x10000) ? 127 : (a < b ? b : a),
        };
        for (int32_t c = 0; c < n; c++) {
            start[c] = (rng() & 1) ? random_acc() : 0;
            multiplier[c] = (rng() & 31) ? random_multiplier() : (int32_t)(rng() >> 3); /* some below 2^30 */
            shift[c] = (int8_t)random_shift();
            for (int32_t j = 0; j < 4; j++) {
                /* the accumulator is their sum; sums of 0 (zero weights) too */
                sums[4 * c + j] = (rng() & 7) ? (int32_t)((uint32_t)random_acc() - (uint32_t)start[c]) : 0;
            }
        }
        const tflm_conv_int8 k = { .folded = start, .multiplier = multiplier, .shift = shift };
        bool all_fit = tflm_conv_gemm_table_armv6m(&k, 0, n, table), want_all_fit = true;
        for (uint32_t i = 0; i < sizeof out; i++) {
            out[i] = SENTINEL;
        }
        tflm_conv_gemm_outputs_armv6m(&q, sums, n, out);
        for (int32_t c = 0; c < n; c++) {
            bool fits = tflm_conv_gemm_outputs_armv6m_fits(multiplier[c], shift[c]);
            want_all_fit = want_all_fit && fits;
            for (int32_t j = 0; j < 4; j++) {
                int32_t x = (int32_t)((uint32_t)start[c] + (uint32_t)sums[4 * c + j]);
                int32_t got = out[c + j * q.stride], want = tflm_clamp(tflm_requantize64(x, multiplier[c], shift[c]) +
                    q.zero_point, q.min, q.max);
                /* the positions past count untouched; the channels left to C anything */
                if (j >= q.count ? got != SENTINEL : fits && got != want) {
                    fail("requantize x, shift", x, shift[c], got, j >= q.count ? SENTINEL : want);
                }
            }
        }
        if (all_fit != want_all_fit) {
            fail("table all fit, channels", all_fit, n, 0, want_all_fit);
        }
    }
}

#define MAX_TAPS 40

static void test_gemm4(void) {
    static uint32_t x[2 * MAX_TAPS];
    static int8_t w[MAX_CHANNELS * MAX_TAPS] __attribute__((aligned(4)));
    int16_t v[4][MAX_TAPS];
    int32_t sums[4 * MAX_CHANNELS];
    for (int32_t round = 0; round < 200; round++) {
        uint32_t r = rng();
        int32_t k = 4 * (1 + (int32_t)(r % (MAX_TAPS / 4))), n = 1 + (int32_t)((r >> 8) % MAX_CHANNELS);
        for (int32_t i = 0; i < k; i++) {
            for (int32_t j = 0; j < 4; j++) {
                uint32_t s = rng();
                v[j][i] = (s & 3) == 0 ? -128 : (s & 3) == 1 ? 127 : (int8_t)(s >> 8);
            }
            /* the packed form: position 0 + position 1 * 2^16 as integers (conv_common.h) */
            x[2 * i] = (uint32_t)v[0][i] + ((uint32_t)v[1][i] << 16);
            x[2 * i + 1] = (uint32_t)v[2][i] + ((uint32_t)v[3][i] << 16);
        }
        for (int32_t i = 0; i < n * k; i++) {
            uint32_t s = rng();
            w[i] = (s & 3) == 0 ? -127 : (s & 3) == 1 ? 127 : (int8_t)(s >> 8);
            if (w[i] == INT8_MIN) {
                w[i] = 0;
            }
        }
        tflm_conv_gemm4_i8(x, w, k, n, sums);
        for (int32_t o = 0; o < n; o++) {
            for (int32_t j = 0; j < 4; j++) {
                int32_t want = 0;
                for (int32_t i = 0; i < k; i++) {
                    want += v[j][i] * w[o * k + i];
                }
                if (sums[4 * o + j] != want) {
                    fail("gemm4 k, lane", k, j, sums[4 * o + j], want);
                }
            }
        }
    }
}

/* tflm_sum_i8 (dot_i8.h, the folded bias's filter sums) at every alignment, past its 128-word lanes. */
static void test_sum(void) {
    static int8_t w[3 + 1100] __attribute__((aligned(4)));
    for (int32_t round = 0; round < 200; round++) {
        uint32_t r = rng();
        int32_t n = (int32_t)((r >> 8) % 1100), at = (int32_t)(r & 3), want = 0;
        int8_t extreme = (r & 0x10) ? -128 : 127;
        for (int32_t i = 0; i < n; i++) {
            w[at + i] = (r & 0x20) ? extreme : (int8_t)rng();
            want += w[at + i];
        }
        int32_t got = tflm_sum_i8(w + at, n);
        if (got != want) {
            fail("sum n, at", n, at, got, want);
        }
    }
}

static void run_checks(void) {
    test_requantize();
    test_gemm4();
    test_sum();
}
