/*
 * Unit tests of the engine core (integer math, FlatBuffer reader, planner),
 * built with ASan and UBSan. Models named on the command line are planned and
 * checked: no two buffers alive at the same time may overlap in the arena.
 * Ends with the line "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb.h"
#include "kernel.h"
#include "model_file.h"
#include "quant.h"

static int passed, failed;

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

static void check(int ok, const char *what, const char *file, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s\n", file, line, what);
    }
}

static void test_rounding_math(void) {
    CHECK(tflm_srdhm(INT32_MIN, INT32_MIN) == INT32_MAX);
    CHECK(tflm_srdhm(1 << 30, 1 << 30) == 1 << 29);
    /* gemmlowp's nudge makes negative exact halves round toward zero */
    CHECK(tflm_srdhm(-3, 1 << 30) == -1);
    CHECK(tflm_rdbpot(5, 1) == 3);
    CHECK(tflm_rdbpot(-5, 1) == -3);
    CHECK(tflm_rdbpot(-4, 1) == -2);
    CHECK(tflm_rdbpot(7, 0) == 7);
    /* x * 0.5 via multiplier 2^30, shift 0 */
    CHECK(tflm_mbqm(101, 1 << 30, 0) == 51);
    CHECK(tflm_mbqm(-101, 1 << 30, 0) == -50);
    CHECK(tflm_mbqm(-103, 1 << 30, -1) == -26); /* -51 then /2 = -25.5, away from zero */
    /* left shift: 3 * 0.5 * 2^2 */
    CHECK(tflm_mbqm(3, 1 << 30, 2) == 6);
    CHECK(tflm_mbqm64((int64_t)1 << 40, 1 << 30, -20) == 1 << 19);
}

static void test_quantize_multiplier(void) {
    int32_t m;
    int shift;
    tflm_quantize_multiplier(0.5, &m, &shift);
    CHECK(m == 1 << 30 && shift == 0);
    tflm_quantize_multiplier(1.0, &m, &shift);
    CHECK(m == 1 << 30 && shift == 1);
    tflm_quantize_multiplier(0.75 / 8, &m, &shift);
    CHECK(m == 3 << 29 && shift == -3);
    tflm_quantize_multiplier(0.0, &m, &shift);
    CHECK(m == 0 && shift == 0);
    /* 1 - 2^-40 rounds up to 2^31: TFLite halves it and bumps the shift */
    tflm_quantize_multiplier(1.0 - 1.0 / 1099511627776.0, &m, &shift);
    CHECK(m == 1 << 30 && shift == 1);
    /* below 2^-32: flushed to zero */
    tflm_quantize_multiplier(1e-12, &m, &shift);
    CHECK(m == 0 && shift == 0);
    /* subnormal doubles are normalized as frexp does: 2^-1074 needs shift -1073 */
    CHECK(tflm_quantize_multiplier(4.9406564584124654e-324, &m, &shift) && m == 0 && shift == 0);
    tflm_quantize_multiplier(-3.0, &m, &shift);
    CHECK(m == -(3 << 29) && shift == 2);
    /* the integer versions of TFLite's double arithmetic, against the host's doubles */
    int32_t expected_m;
    int expected_shift;
    tflm_quantize_multiplier((double)0.1f * (double)0.2f / (double)0.3f, &expected_m, &expected_shift);
    CHECK(tflm_quantize_ratio(0.1f, 0.2f, 0.3f, 0, &m, &shift) && m == expected_m && shift == expected_shift);
    tflm_quantize_multiplier((double)(0.1f * 0.2f) / (double)0.3f, &expected_m, &expected_shift);
    CHECK(tflm_quantize_ratio_float_product(0.1f, 0.2f, 0.3f, 0, &m, &shift) && m == expected_m &&
        shift == expected_shift);
    tflm_quantize_multiplier((double)0.7f * (double)1.3f / (10.0 / 65535.0), &expected_m, &expected_shift);
    CHECK(tflm_quantize_ratio_double_divisor(0.7f, 1.3f, 10.0 / 65535.0, &m, &shift) && m == expected_m &&
        shift == expected_shift);
    CHECK(tflm_quantize_ratio(1.0f, 1.0f, 3.0f, -40, &m, &shift) && m == 0 && shift == 0);
    CHECK(!tflm_quantize_ratio(1.0f, 1.0f, 0.0f, 0, &m, &shift));
    CHECK(!tflm_quantize_ratio_greater_than_one(1.0f, 0.5f, 1.0f, 1, &m, &shift));
    CHECK(tflm_quantize_ratio_greater_than_one(1.0f, 0x1.000002p-1f, 1.0f, 1, &m, &shift) && shift == 1);
    CHECK(tflm_round_quotient(5, 2.0f) == 3 && tflm_round_quotient(-5, 2.0f) == -3 && tflm_round_quotient(6, 4.0f) == 2);
    CHECK(tflm_round_quotient(1, 1e-20f) == 1 << 30 && tflm_round_quotient(-1, 1e-20f) == -(1 << 30));
    CHECK(tflm_roundf(0.5f) == 1.0f && tflm_roundf(-0.5f) == -1.0f && tflm_roundf(-2.4f) == -2.0f);
    /* std::round: the largest float below 0.5 rounds to 0 (x + 0.5f would round up to 1) */
    CHECK(tflm_roundf(0.49999997f) == 0.0f);
}

/* ---- the exact scale arithmetic against the host's double, over many floats ---- */

static uint64_t random_state = 0x9e3779b97f4a7c15u;

static uint32_t random_u32(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state >> 32);
}

static float float_of_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Zeros, subnormals, the ends of the range, values around 1, infinities, NaNs (either sign). */
static const uint32_t special_scales[] = {
    0x00000000u, 0x80000000u, 0x00000001u, 0x00000002u, 0x007fffffu, 0x00800000u, 0x00400000u,
    0x3f800000u, 0x3f7fffffu, 0x3f800001u, 0x3effffffu, 0x3f000000u, 0x40000000u, 0x46800000u,
    0x7f7fffffu, 0x7f000000u, 0x7f800000u, 0x7fc00000u, 0x7f800001u, 0xbf800000u, 0x80000001u,
    0xff800000u, 0x38000000u, 0x30000000u, 0x3b800000u, 0x3c23d70au, 0x4b800000u, 0x5f000000u,
};
#define SPECIAL_COUNT (sizeof special_scales / sizeof special_scales[0])

/* Mostly scales as models have them; also any bits, subnormals, the extremes and the specials. */
static float random_scale(void) {
    uint32_t r = random_u32(), mantissa = random_u32() & 0x7fffffu;
    switch (r % 8) {
        case 0: return float_of_bits(random_u32());
        case 1: return float_of_bits(mantissa);                       /* subnormal */
        case 2: return float_of_bits(((254u - r / 8 % 8) << 23) | mantissa); /* near FLT_MAX */
        case 3: return float_of_bits(((1u + r / 8 % 8) << 23) | mantissa);   /* near FLT_MIN */
        case 4: return float_of_bits(special_scales[r / 8 % SPECIAL_COUNT]);
        default: return float_of_bits(((97u + r / 8 % 40) << 23) | mantissa); /* 2^-30 .. 2^9 */
    }
}

typedef struct {
    bool ok;
    int32_t multiplier;
    int shift;
} quantized;

static quantized of_double(double real) {
    quantized q;
    q.ok = tflm_quantize_multiplier(real, &q.multiplier, &q.shift);
    return q;
}

static bool same_quantized(quantized expected, quantized got) {
    return expected.ok == got.ok && (!got.ok || (expected.multiplier == got.multiplier && expected.shift == got.shift));
}

/* TFLite's QuantizeMultiplier on the result of its double formula is the reference. */
static int scale_mismatches(float a, float b, float c, int exp2) {
    quantized got;
    int bad = 0;
    volatile float float_product = a * b; /* rounded to float, as TFLite's float multiply */
    double real = ldexp((double)a * (double)b / (double)c, exp2);
    got.ok = tflm_quantize_ratio(a, b, c, exp2, &got.multiplier, &got.shift);
    bad += !same_quantized(of_double(real), got);
    got.ok = tflm_quantize_ratio_float_product(a, b, c, exp2, &got.multiplier, &got.shift);
    bad += !same_quantized(of_double(ldexp((double)float_product / (double)c, exp2)), got);
    quantized above_one = of_double(real);
    above_one.ok = above_one.ok && real > 1.0;
    got.ok = tflm_quantize_ratio_greater_than_one(a, b, c, exp2, &got.multiplier, &got.shift);
    bad += !same_quantized(above_one, got);
    double plain = (double)a * (double)b / (double)c;
    quantized below = of_double(plain);
    below.ok = plain >= 0.0 && plain < 16384.0; /* conv's range check */
    got.ok = tflm_quantize_ratio_below(a, b, c, 14, &got.multiplier, &got.shift);
    bad += !same_quantized(below, got);
    double divisor = (double)c * (1.0 + 1.0 / 3.0); /* a double that is no float */
    got.ok = tflm_quantize_ratio_double_divisor(a, b, divisor, &got.multiplier, &got.shift);
    bad += !same_quantized(of_double((double)a * (double)b / divisor), got);
    return bad;
}

/* round(x / divisor) in float, half away from zero, bounded to +-2^30, 0 for NaN. */
static int32_t round_quotient_reference(int32_t x, float divisor) {
    float q = (float)x / divisor;
    if (q != q) {
        return 0;
    }
    float r = roundf(q);
    return r >= 1073741824.0f ? 1 << 30 : r <= -1073741824.0f ? -(1 << 30) : (int32_t)r;
}

/* CalculateActivationRangeQuantized with the host's float division. */
static void activation_range_reference(int activation, int32_t qmin, int32_t qmax, float scale, int32_t zero_point,
    int32_t *lo, int32_t *hi) {
    int32_t q0 = zero_point + round_quotient_reference(0, scale), q6 = zero_point + round_quotient_reference(6, scale);
    int32_t qm1 = zero_point + round_quotient_reference(-1, scale), q1 = zero_point + round_quotient_reference(1, scale);
    *lo = qmin;
    *hi = qmax;
    if (activation == TFLM_ACT_RELU || activation == TFLM_ACT_RELU6) {
        *lo = q0 > qmin ? q0 : qmin;
    }
    if (activation == TFLM_ACT_RELU6) {
        *hi = q6 < qmax ? q6 : qmax;
    }
    if (activation == TFLM_ACT_RELU_N1_TO_1) {
        *lo = qm1 > qmin ? qm1 : qmin;
        *hi = q1 < qmax ? q1 : qmax;
    }
}

/* |(double)a - (double)b| against limit on the host: -1, 0, 1 or 2 for NaN. */
static int difference_reference(float a, float b, double limit) {
    double d = fabs((double)a - (double)b);
    return d != d ? 2 : d > limit ? 1 : d < limit ? -1 : 0;
}

/* Random float pairs, and pairs whose difference lies within a few double ulps of the limit. */
static void test_float_difference_matches_double(void) {
    static const double limits[] = { 1e-6, 1e-5, 0x1p-20 };
    int bad = 0;
    for (int i = 0; i < 400000; i++) {
        double limit = limits[i % 3];
        float a = random_scale(), b = random_scale();
        if (i % 2) {
            /* b = a - limit, nudged by a few ulps of the double and rounded to float */
            a = float_of_bits(((100u + random_u32() % 40) << 23) | (random_u32() & 0x7fffffu));
            double target = (double)a - limit * (1.0 + ldexp((double)(int32_t)(random_u32() % 64) - 32, -52));
            b = (float)target;
            if (i % 4 == 1) {
                b = float_of_bits(random_u32() % 0x30000000u); /* tiny: the sticky path */
                a = (float)(limit + (double)b * (random_u32() % 2 ? 1 : -1));
            }
        }
        if (random_u32() % 2) {
            float t = a;
            a = b;
            b = t;
        }
        if (tflm_compare_float_difference(a, b, limit) != difference_reference(a, b, limit)) {
            if (bad < 10) {
                printf("difference mismatch: %a - %a vs %a\n", (double)a, (double)b, limit);
            }
            bad++;
        }
    }
    for (size_t i = 0; i < SPECIAL_COUNT; i++) {
        for (size_t j = 0; j < SPECIAL_COUNT; j++) {
            float a = float_of_bits(special_scales[i]), b = float_of_bits(special_scales[j]);
            bad += tflm_compare_float_difference(a, b, 1e-6) != difference_reference(a, b, 1e-6);
        }
    }
    CHECK(bad == 0);
}

static void test_exact_scales_match_double(void) {
    int bad = 0, cases = 0;
    for (size_t i = 0; i < SPECIAL_COUNT; i++) {
        for (size_t j = 0; j < SPECIAL_COUNT; j++) {
            for (size_t k = 0; k < SPECIAL_COUNT; k++) {
                float a = float_of_bits(special_scales[i]), b = float_of_bits(special_scales[j]);
                bad += scale_mismatches(a, b, float_of_bits(special_scales[k]), 0);
                cases++;
            }
        }
    }
    for (int i = 0; i < 400000; i++) {
        float a = random_scale(), b = random_scale(), c = random_scale();
        /* beyond +-64 a power of two could take the double out of its normal range */
        int exp2 = i % 4 ? 0 : (int)(random_u32() % 129) - 64;
        int n = scale_mismatches(a, b, c, exp2);
        if (n && bad < 10) {
            printf("scale mismatch: %a * %a / %a * 2^%d\n", (double)a, (double)b, (double)c, exp2);
        }
        bad += n;
        int activation = (int)(random_u32() % 4), type = i % 2 ? TFLM_INT8 : TFLM_INT16;
        int32_t zero_point = (int32_t)(random_u32() % 512) - 256, lo, hi, expected_lo, expected_hi;
        tflm_activation_range_quantized(activation, type, a, zero_point, &lo, &hi);
        activation_range_reference(activation, type == TFLM_INT8 ? -128 : -32768, type == TFLM_INT8 ? 127 : 32767, a,
            zero_point, &expected_lo, &expected_hi);
        if (lo != expected_lo || hi != expected_hi) {
            if (bad < 10) {
                printf("activation range mismatch: %d, scale %a, zero point %d\n", activation, (double)a, (int)zero_point);
            }
            bad++;
        }
        int32_t x = (int32_t)(random_u32() % 33) - 16; /* small integers, as activation ranges use */
        if (tflm_round_quotient(x, a) != round_quotient_reference(x, a)) {
            if (bad < 10) {
                printf("round_quotient mismatch: %d / %a\n", (int)x, (double)a);
            }
            bad++;
        }
        cases++;
    }
    CHECK(bad == 0 && cases > 400000);
}

static void test_activation_ranges(void) {
    int32_t lo, hi;
    tflm_activation_range_quantized(TFLM_ACT_RELU6, TFLM_INT8, 0.05f, -10, &lo, &hi);
    CHECK(lo == -10 && hi == 110);
    tflm_activation_range_quantized(TFLM_ACT_NONE, TFLM_INT16, 1.0f, 0, &lo, &hi);
    CHECK(lo == -32768 && hi == 32767);
    tflm_activation_range_quantized(TFLM_ACT_RELU, TFLM_INT8, 0.5f, 200, &lo, &hi);
    CHECK(lo == 200 && hi == 127); /* a range TFLite would also produce: empty, clamps to hi */
}

static void test_udiv(void) {
    static const uint32_t numerators[] = { 0, 1, 2, 7, 9, 100, 12345, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu };
    static const uint32_t divisors[] = { 1, 2, 3, 7, 10, 255, 65536, 0x12345, 0x7ffffffeu, 0x7fffffffu };
    int bad = 0;
    for (size_t i = 0; i < sizeof numerators / sizeof numerators[0]; i++) {
        for (size_t j = 0; j < sizeof divisors / sizeof divisors[0]; j++) {
            uint32_t n = numerators[i], d = divisors[j], r = 0xdead;
            bad += tflm_udiv(n, d, &r) != n / d || r != n % d;
        }
    }
    uint32_t x = 12345;
    for (int i = 0; i < 100000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t n = x, d = (x >> (x & 31)) & 0x7fffffffu, r;
        d += d == 0;
        bad += tflm_udiv(n, d, &r) != n / d || r != n % d;
    }
    CHECK(bad == 0);
}

static void test_fb_reader(void) {
    /* root offset 12 -> table at 12 whose vtable is at 4: 2 fields, table 8 bytes */
    uint8_t buf[32] __attribute__((aligned(16))) = {
        12, 0, 0, 0,       /* root uoffset */
        8, 0, 8, 0,        /* vtable: vsize 8, tsize 8 */
        4, 0, 0, 0,        /* field 0 at +4, field 1 absent */
        8, 0, 0, 0,        /* table: soffset 8 -> vtable at 4 */
        42, 0, 0, 0,       /* field 0 = 42 */
    };
    fb_buf b = { buf, 20 };
    fb_table root;
    uint32_t v;
    CHECK(fb_root(&b, &root));
    CHECK(fb_u32(&b, &root, 0, 7, &v) && v == 42);
    CHECK(fb_u32(&b, &root, 1, 7, &v) && v == 7);
    CHECK(fb_u32(&b, &root, 9, 7, &v) && v == 7); /* beyond the vtable: absent */
    fb_buf truncated = { buf, 18 };
    CHECK(!fb_table_at(&truncated, 12, &root) || !fb_u32(&truncated, &root, 0, 0, &v));
    buf[12] = 200; /* vtable before the buffer start */
    CHECK(!fb_root(&b, &root));
    buf[12] = 8;
    buf[6] = 40; /* table size beyond the buffer */
    CHECK(!fb_root(&b, &root));
    buf[6] = 8;
    buf[8] = 6; /* field 0 at +6 would read 4 bytes past an 8-byte table */
    CHECK(fb_root(&b, &root) && !fb_u32(&b, &root, 0, 0, &v));
    fb_vec vec;
    buf[8] = 4;
    buf[16] = 0xf0; /* field 0 as a vector offset pointing far outside */
    CHECK(!fb_vector(&b, &root, 0, 4, &vec));
}

/* Every pair of planned buffers alive at the same time must be disjoint. */
static void test_plan_of(const char *path) {
    size_t size, arena_size = 32u << 20;
    unsigned char *model = read_model_file(path, &size);
    unsigned char *arena = aligned_alloc(16, arena_size);
    tflm_interpreter it;
    tflm_status st = model ? tflm_init(&it, model, size, arena, arena_size, NULL, 0) : TFLM_ERROR_MODEL;
    if (st != TFLM_OK) {
        printf("FAIL %s: %s\n", path, model ? it.message : "cannot read");
        failed++;
    } else {
        int overlaps = 0;
        for (int i = 0; i < it.tensor_count; i++) {
            const tflm_tensor *a = tflm_tensor_at(&it, i);
            if (!(a->flags & TFLM_TENSOR_PLACED)) {
                continue;
            }
            CHECK(a->data % TFLM_ARENA_ALIGN == 0 && a->data + tflm_bytes(&it, a) <= it.planned_bytes);
            for (int j = i + 1; j < it.tensor_count; j++) {
                const tflm_tensor *b = tflm_tensor_at(&it, j);
                if (!(b->flags & TFLM_TENSOR_PLACED) || a->last_op < b->first_op || b->last_op < a->first_op) {
                    continue;
                }
                uint32_t a_end = a->data + tflm_bytes(&it, a), b_end = b->data + tflm_bytes(&it, b);
                if (a->data < b_end && b->data < a_end && a_end > a->data && b_end > b->data) {
                    printf("FAIL %s: tensors %d and %d overlap\n", path, i, j);
                    overlaps++;
                }
            }
        }
        CHECK(overlaps == 0);
        CHECK(tflm_arena_used_bytes(&it) == it.persistent_bytes + it.planned_bytes);
    }
    free(arena);
    free(model);
}

int main(int argc, char **argv) {
    test_rounding_math();
    test_quantize_multiplier();
    test_exact_scales_match_double();
    test_float_difference_matches_double();
    test_activation_ranges();
    test_udiv();
    test_fb_reader();
    for (int i = 1; i < argc; i++) {
        test_plan_of(argv[i]);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
