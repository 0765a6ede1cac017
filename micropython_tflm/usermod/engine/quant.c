#include "quant.h"

#include <float.h>
#include <string.h>

#include "kernel.h"

/*
 * Exact arithmetic on the values TFLite's prepare code computes in double or
 * float, with the rounding of those types: only 64-bit integer adds, shifts
 * by one and compares, so nothing of libgcc's soft-float code is pulled in.
 * Values are updated in place (struct copies cost memcpy calls on the M0+).
 */
enum { FINITE, INFINITE, NOT_A_NUMBER }; /* in order of precedence in results */
enum { FLOAT_BITS = 24, FLOAT_MIN_E = -149, DOUBLE_BITS = 53, DOUBLE_MIN_E = -1074 };

/* (-1)^negative * m * 2^e when kind is FINITE. */
typedef struct {
    uint64_t m;
    int32_t e;
    uint8_t negative;
    uint8_t kind;
} exact;

/* Index of the highest set bit of m != 0. */
static int top_bit(uint64_t m) {
    int n = 0;
    while (m >>= 1) {
        n++;
    }
    return n;
}

/* Moves the highest set bit of x->m (nonzero, at or below `bit`) up to `bit`. */
static void normalize(exact *x, int bit) {
    for (int n = top_bit(x->m); n < bit; n++) {
        x->m <<= 1;
        x->e--;
    }
}

/* Rounds x as IEEE rounds a result: to `bits` significant bits, no bit
 * below 2^min_e, ties to even. The result may carry to bits + 1 bits. */
static void round_even(exact *x, int bits, int32_t min_e) {
    if (x->m == 0) {
        return;
    }
    int32_t lsb = x->e + top_bit(x->m) + 1 - bits;
    lsb = lsb < min_e ? min_e : lsb;
    if (lsb > x->e) {
        bool sticky = false;
        for (; lsb - x->e > 1; x->e++) {
            sticky |= x->m & 1;
            x->m >>= 1;
        }
        bool half = x->m & 1;
        x->m >>= 1;
        x->m += half && (sticky || (x->m & 1));
        x->e = lsb;
    }
}

/* A float: rounded to float precision, and infinite beyond its range. */
static void round_to_float(exact *x) {
    round_even(x, FLOAT_BITS, FLOAT_MIN_E);
    if (x->m != 0 && x->e + top_bit(x->m) >= 128) {
        x->kind = INFINITE;
    }
}

/* The value of IEEE fields (sign removed). */
static void decode(exact *x, uint64_t bits, int fraction_bits, uint32_t max_biased, bool negative) {
    uint64_t fraction = bits & (((uint64_t)1 << fraction_bits) - 1);
    uint32_t biased = (uint32_t)(bits >> fraction_bits);
    x->m = biased ? fraction | (uint64_t)1 << fraction_bits : fraction; /* subnormal without */
    x->e = (biased ? (int32_t)biased : 1) - (int32_t)(max_biased >> 1) - fraction_bits;
    x->negative = negative;
    x->kind = biased != max_biased ? FINITE : fraction ? NOT_A_NUMBER : INFINITE;
}

static void float_value(exact *x, float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    decode(x, bits & 0x7fffffffu, 23, 0xff, bits >> 31);
}

static void double_value(exact *x, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    decode(x, bits & ~((uint64_t)1 << 63), 52, 0x7ff, bits >> 63);
}

static bool is_zero(const exact *x) {
    return x->kind == FINITE && x->m == 0;
}

/* a *= b, both of at most 32 significant bits: exact. */
static void multiply(exact *a, const exact *b) {
    uint8_t kind = a->kind > b->kind ? a->kind : b->kind;
    if (kind == INFINITE && (is_zero(a) || is_zero(b))) {
        kind = NOT_A_NUMBER; /* 0 * inf */
    }
    a->m = (uint64_t)(uint32_t)a->m * (uint32_t)b->m;
    a->e += b->e;
    a->negative ^= b->negative;
    a->kind = kind;
}

/* a /= b, to 63 significant bits with the remainder folded into the lowest
 * bit, so that rounding to fewer bits stays exact. b is left normalized. */
static void divide(exact *a, exact *b) {
    uint8_t kind = a->kind > b->kind ? a->kind : b->kind;
    if (kind == INFINITE) {
        kind = a->kind == b->kind ? NOT_A_NUMBER : a->kind; /* inf / inf, inf / x, x / inf = 0 */
        a->m = 0;
    } else if (kind == FINITE && b->m == 0) {
        kind = a->m == 0 ? NOT_A_NUMBER : INFINITE;
    } else if (kind == FINITE && a->m != 0) {
        normalize(a, 62);
        normalize(b, 62);
        uint64_t r = a->m;
        a->m = 0;
        for (int i = 0; i < 63; i++) {
            a->m <<= 1;
            if (r >= b->m) {
                r -= b->m;
                a->m |= 1;
            }
            r <<= 1;
        }
        a->m = (a->m << 1) | (r != 0);
        a->e -= b->e + 63;
    }
    a->negative ^= b->negative;
    a->kind = kind;
}

/* QuantizeMultiplier of a double: frexp gives q in [0.5, 1), and q * 2^31
 * is rounded half away from zero. */
static bool quantize_double(exact *x, int32_t *multiplier, int *shift) {
    *multiplier = 0;
    *shift = 0;
    if (x->kind != FINITE) {
        return false;
    }
    if (x->m == 0) {
        return true;
    }
    normalize(x, DOUBLE_BITS);
    if (x->m >> DOUBLE_BITS) {
        x->m >>= 1; /* a carry of round_even: exact */
        x->e++;
    }
    int32_t e = x->e + DOUBLE_BITS; /* frexp's exponent */
    uint32_t q_fixed = (uint32_t)((x->m + ((uint64_t)1 << 21)) >> 22);
    if (q_fixed == 0x80000000u) {
        q_fixed /= 2;
        e++;
    }
    if (e < -31) {
        return true; /* TFLite flushes these to zero */
    }
    *multiplier = x->negative ? -(int32_t)q_fixed : (int32_t)q_fixed;
    *shift = e > 30 ? 30 : (int)e;
    return e <= 30;
}

#if TFLM_OPTIMIZE_SIZE
int32_t tflm_srdhm(int32_t a, int32_t b) {
    return tflm_srdhm_inline(a, b);
}
#endif

bool tflm_quantize_multiplier(double m, int32_t *multiplier, int *shift) {
    exact x;
    double_value(&x, m);
    return quantize_double(&x, multiplier, shift);
}

/* QuantizeMultiplier of x = (double)a * (double)b / c * 2^exp2, with a * b
 * rounded to float first when asked (the product of two floats is exact in
 * double). x keeps the double's value for the callers' range checks. */
static bool quantize_ratio(exact *x, float a, float b, exact *c, int exp2, bool float_product, int32_t *multiplier,
    int *shift) {
    exact eb;
    float_value(x, a);
    float_value(&eb, b);
    multiply(x, &eb);
    if (float_product) {
        round_to_float(x);
    }
    divide(x, c);
    round_even(x, DOUBLE_BITS, DOUBLE_MIN_E);
    x->e += exp2;
    return quantize_double(x, multiplier, shift);
}

/* quantize_ratio with a float divisor. */
static bool quantize_float_ratio(exact *x, float a, float b, float c, int exp2, bool float_product,
    int32_t *multiplier, int *shift) {
    exact ec;
    float_value(&ec, c);
    return quantize_ratio(x, a, b, &ec, exp2, float_product, multiplier, shift);
}

/* Sign of |x| - 2^k for a finite x. */
static int compare_power_of_two(const exact *x, int32_t k) {
    int32_t top = x->e + top_bit(x->m | 1);
    if (x->m == 0 || top != k) {
        return x->m != 0 && top > k ? 1 : -1;
    }
    return (x->m & (x->m - 1)) != 0; /* above 2^k unless a power of two */
}

bool tflm_quantize_ratio(float a, float b, float c, int exp2, int32_t *multiplier, int *shift) {
    exact x;
    return quantize_float_ratio(&x, a, b, c, exp2, false, multiplier, shift);
}

bool tflm_quantize_ratio_float_product(float a, float b, float c, int exp2, int32_t *multiplier, int *shift) {
    exact x;
    return quantize_float_ratio(&x, a, b, c, exp2, true, multiplier, shift);
}

bool tflm_quantize_ratio_double_divisor(float a, float b, double c, int32_t *multiplier, int *shift) {
    exact x, ec;
    double_value(&ec, c);
    return quantize_ratio(&x, a, b, &ec, 0, false, multiplier, shift);
}

bool tflm_quantize_ratio_greater_than_one(float a, float b, float c, int exp2, int32_t *multiplier, int *shift) {
    exact x;
    bool ok = quantize_float_ratio(&x, a, b, c, exp2, false, multiplier, shift);
    return ok && !x.negative && compare_power_of_two(&x, 0) > 0; /* ok: finite */
}

bool tflm_quantize_ratio_below(float a, float b, float c, int limit_log2, int32_t *multiplier, int *shift) {
    exact x;
    bool ok = quantize_float_ratio(&x, a, b, c, 0, false, multiplier, shift);
    /* -0 passes (-0.0 >= 0.0); NaN and infinities do not */
    return ok && (x.m == 0 || (!x.negative && compare_power_of_two(&x, limit_log2) < 0));
}

/* Sign of x - y for finite, nonnegative x and y (x->m, y->m nonzero; both get normalized). */
static int compare_magnitudes(exact *x, exact *y) {
    normalize(x, 62);
    normalize(y, 62);
    if (x->e != y->e) {
        return x->e > y->e ? 1 : -1;
    }
    return x->m > y->m ? 1 : x->m < y->m ? -1 : 0;
}

int tflm_compare_float_difference(float a, float b, double limit) {
    exact x, y, l;
    float_value(&x, a);
    float_value(&y, b);
    double_value(&l, limit);
    bool subtract = x.negative == y.negative;
    uint8_t kind = x.kind > y.kind ? x.kind : y.kind;
    if (kind != FINITE) {
        /* inf - inf of one sign is not a number; any other infinity is above */
        return kind == NOT_A_NUMBER || (x.kind == y.kind && subtract) ? 2 : 1;
    }
    if (x.m == 0) {
        x.m = y.m;
        x.e = y.e;
    } else if (y.m != 0) {
        /* The smaller magnitude is aligned to the larger one's top at bit 61,
         * the bits shifted out of it kept as a sticky lowest bit: with more
         * than 53 + 2 bits, the sum rounds as the exact one would. */
        exact *big = &x, *small = &y;
        if (compare_magnitudes(&x, &y) < 0) {
            big = &y;
            small = &x;
        }
        bool sticky = false;
        big->m >>= 1; /* room for a carry; its low bits are 0 */
        big->e++;
        for (; small->e < big->e; small->e++) {
            sticky |= small->m & 1;
            small->m >>= 1;
        }
        small->m |= sticky;
        x.m = subtract ? big->m - small->m : big->m + small->m;
        x.e = big->e;
    }
    if (x.m == 0) {
        return -1; /* the limit is positive */
    }
    round_even(&x, DOUBLE_BITS, DOUBLE_MIN_E);
    return compare_magnitudes(&x, &l);
}

void tflm_type_range(int type, int32_t *lo, int32_t *hi) {
    switch (type) {
        case TFLM_INT8: *lo = -128; *hi = 127; break;
        case TFLM_UINT8: *lo = 0; *hi = 255; break;
        case TFLM_INT16: *lo = -32768; *hi = 32767; break;
        default: *lo = INT32_MIN; *hi = INT32_MAX; break;
    }
}

float tflm_roundf(float x) {
    if (!(x > -8388608.0f && x < 8388608.0f)) {
        return x; /* an integer already (or not a number) */
    }
    float truncated = (float)(int32_t)x;
    float fraction = x - truncated; /* exact */
    return fraction >= 0.5f ? truncated + 1.0f : (fraction <= -0.5f ? truncated - 1.0f : truncated);
}

int32_t tflm_round_quotient(int32_t x, float divisor) {
    exact q = { x < 0 ? 0u - (uint32_t)x : (uint32_t)x, 0, x < 0, FINITE }, d;
    float_value(&d, divisor);
    divide(&q, &d);
    round_to_float(&q);
    if (q.kind == NOT_A_NUMBER) {
        return 0;
    }
    uint32_t magnitude = (uint32_t)1 << 30; /* the bound */
    if (q.kind == FINITE && (q.m == 0 || q.e + top_bit(q.m) < 30)) {
        /* floor(q + 1/2): add the highest bit shifted out */
        bool half = false;
        for (; q.e < 0; q.e++) {
            half = q.m & 1;
            q.m >>= 1;
        }
        for (; q.e > 0; q.e--) {
            q.m <<= 1;
        }
        magnitude = (uint32_t)q.m + half;
    }
    return q.negative ? -(int32_t)magnitude : (int32_t)magnitude;
}

void tflm_activation_range_quantized(int activation, int type, float scale, int32_t zero_point,
    int32_t *act_min, int32_t *act_max) {
    int32_t qmin, qmax;
    tflm_type_range(type, &qmin, &qmax);
    /* Quantize(f) = zero_point + round(f / scale), in float as TFLite does: Quantize(0)
     * is the zero point (0 / NaN rounds to 0 too) and Quantize(-1) mirrors Quantize(1). */
    int32_t bound = tflm_round_quotient(activation == TFLM_ACT_RELU6 ? 6 : 1, scale);
    int32_t lo = qmin, hi = qmax;
    if (activation == TFLM_ACT_RELU || activation == TFLM_ACT_RELU6) {
        lo = zero_point;
    } else if (activation == TFLM_ACT_RELU_N1_TO_1) {
        lo = zero_point - bound;
    }
    if (activation == TFLM_ACT_RELU6 || activation == TFLM_ACT_RELU_N1_TO_1) {
        hi = zero_point + bound;
    }
    *act_min = lo > qmin ? lo : qmin;
    *act_max = hi < qmax ? hi : qmax;
}

void tflm_activation_range_float(int activation, float *act_min, float *act_max) {
    switch (activation) {
        case TFLM_ACT_RELU: *act_min = 0.0f; *act_max = FLT_MAX; break;
        case TFLM_ACT_RELU6: *act_min = 0.0f; *act_max = 6.0f; break;
        case TFLM_ACT_RELU_N1_TO_1: *act_min = -1.0f; *act_max = 1.0f; break;
        default: *act_min = -FLT_MAX; *act_max = FLT_MAX; break;
    }
}
