/*
 * TFLite's integer arithmetic, bit for bit (reference kernels' semantics:
 * gemmlowp rounding, double rounding in MultiplyByQuantizedMultiplier).
 */
#ifndef TFLM_QUANT_H
#define TFLM_QUANT_H

#include <stdbool.h>
#include <stdint.h>

/* 1: one out-of-line copy of the helpers below that kernels call in loops,
 * instead of one per kernel (engine.mk's TFLM_OPTIMIZE_SIZE). */
#ifndef TFLM_OPTIMIZE_SIZE
#define TFLM_OPTIMIZE_SIZE 0
#endif

/* gemmlowp SaturatingRoundingDoublingHighMul. */
static inline int32_t tflm_srdhm_inline(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

#if TFLM_OPTIMIZE_SIZE
int32_t tflm_srdhm(int32_t a, int32_t b);
#else
static inline int32_t tflm_srdhm(int32_t a, int32_t b) {
    return tflm_srdhm_inline(a, b);
}
#endif

/* gemmlowp RoundingDivideByPOT: round half away from zero. */
static inline int32_t tflm_rdbpot(int32_t x, int exponent) {
    int32_t mask = (int32_t)((1u << exponent) - 1u); /* exponent <= 31; no 64-bit shift call on the M0+ */
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier(int32 x, multiplier, shift). */
static inline int32_t tflm_mbqm(int32_t x, int32_t multiplier, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    /* TFLite computes x * (1 << left) in int32; wrap like it does, without UB. */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tflm_rdbpot(tflm_srdhm(shifted, multiplier), right);
}

/* MultiplyByQuantizedMultiplier(int64 x, ...), used by the 16x8 kernels. */
static inline int32_t tflm_mbqm64(int64_t x, int32_t multiplier, int shift) {
    int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    int total_shift = 15 - shift;
    int64_t round = (int64_t)1 << (total_shift - 1);
    int64_t result = x * (int64_t)reduced + round;
    return (int32_t)(result >> total_shift);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp / GreaterThanOne. */
static inline int32_t tflm_mbqm_smaller_than_one(int32_t x, int32_t multiplier, int left_shift) {
    return tflm_rdbpot(tflm_srdhm(x, multiplier), -left_shift);
}

static inline int32_t tflm_mbqm_greater_than_one(int32_t x, int32_t multiplier, int left_shift) {
    return tflm_srdhm((int32_t)((uint32_t)x << left_shift), multiplier);
}

/*
 * QuantizeMultiplier: m = multiplier * 2^(shift - 31). Returns false when m
 * is not finite or needs a left shift above 30, which TFLite's kernels never
 * handle; the outputs are then clamped to values that keep tflm_mbqm defined,
 * and prepare should reject the model (TFLM_ERROR_UNSUPPORTED).
 */
bool tflm_quantize_multiplier(double m, int32_t *multiplier, int *shift);

/*
 * TFLite computes multipliers from float scales in double. These give the
 * same results bit for bit in integer arithmetic, so a build pulls no
 * soft-float double code (several KB on a Cortex-M0+):
 * tflm_quantize_ratio: QuantizeMultiplier((double)a * (double)b / (double)c * 2^exp2);
 * tflm_quantize_ratio_float_product: the same with a * b rounded to float first,
 * as TFLite's GetQuantizedConvolutionMultipler does.
 */
bool tflm_quantize_ratio(float a, float b, float c, int exp2, int32_t *multiplier, int *shift);
bool tflm_quantize_ratio_float_product(float a, float b, float c, int exp2, int32_t *multiplier, int *shift);
/* QuantizeMultiplier((double)a * (double)b / c) for a double constant c. */
bool tflm_quantize_ratio_double_divisor(float a, float b, double c, int32_t *multiplier, int *shift);
/* tflm_quantize_ratio for QuantizeMultiplierGreaterThanOne: false unless the ratio is above 1. */
bool tflm_quantize_ratio_greater_than_one(float a, float b, float c, int exp2, int32_t *multiplier, int *shift);
/* tflm_quantize_ratio(a, b, c, 0) for a ratio TFLite requires in [0, 2^limit_log2)
 * (checked on the double, before rounding): false outside, or for NaN. */
bool tflm_quantize_ratio_below(float a, float b, float c, int limit_log2, int32_t *multiplier, int *shift);

/* round(x / divisor) with the quotient in float and rounded half away from
 * zero, as TFLite quantizes a constant, bounded to +-2^30 (beyond any type's
 * range, still safe to add a zero point to); 0 when it is not a number. */
int32_t tflm_round_quotient(int32_t x, float divisor);

/* Compares |(double)a - (double)b| (the difference rounded to double, as
 * TFLite computes it) with a positive double limit: -1 below, 0 equal,
 * 1 above, 2 when the difference is not a number. */
int tflm_compare_float_difference(float a, float b, double limit);

/* round half away from zero (TfLiteRound / std::round). */
float tflm_roundf(float x);

/* CalculateActivationRangeQuantized for the output's scale and zero point. */
void tflm_activation_range_quantized(int activation, int type, float scale, int32_t zero_point,
    int32_t *act_min, int32_t *act_max);
/* CalculateActivationRange for float. */
void tflm_activation_range_float(int activation, float *act_min, float *act_max);

static inline int32_t tflm_clamp(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Min and max of an integer tensor type. */
void tflm_type_range(int type, int32_t *lo, int32_t *hi);

#endif
