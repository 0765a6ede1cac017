/* Services the interpreter offers kernels at prepare time. */
#include <stdarg.h>
#include <string.h>

#include "kernel.h"
#include "quant.h"

#if TFLM_ERROR_MESSAGES
static size_t append(char *buf, size_t pos, size_t cap, const char *s) {
    while (*s && pos + 1 < cap) {
        buf[pos++] = *s++;
    }
    return pos;
}

/* 32-bit digits: 64-bit division would pull in libgcc's __aeabi_uldivmod. */
static size_t append_int(char *buf, size_t pos, size_t cap, bool negative, uint32_t magnitude) {
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (negative && pos + 1 < cap) {
        buf[pos++] = '-';
    }
    while (n && pos + 1 < cap) {
        buf[pos++] = digits[--n];
    }
    return pos;
}

tflm_status tflm_fail(tflm_interpreter *it, tflm_status status, const char *fmt, ...) {
    va_list ap;
    size_t pos = 0, cap = sizeof it->message;
    va_start(ap, fmt);
    for (const char *f = fmt; *f && pos + 1 < cap; f++) {
        if (*f != '%') {
            it->message[pos++] = *f;
            continue;
        }
        switch (*++f) {
            case 's': pos = append(it->message, pos, cap, va_arg(ap, const char *)); break;
            case 'd': {
                int v = va_arg(ap, int);
                pos = append_int(it->message, pos, cap, v < 0, v < 0 ? 0u - (uint32_t)v : (uint32_t)v);
                break;
            }
            case 'u': pos = append_int(it->message, pos, cap, false, va_arg(ap, unsigned)); break;
            case 'c': it->message[pos++] = (char)va_arg(ap, int); break;
            case '%': it->message[pos++] = '%'; break;
            default: f--; break; /* lone '%' at the end */
        }
    }
    va_end(ap);
    it->message[pos] = '\0';
    return status;
}
#else
tflm_status tflm_fail_status(tflm_interpreter *it, tflm_status status) {
    static const char *const names[] = {
        "ok", "malformed model", "unsupported model", "arena too small", "bad argument", "aborted",
    };
    const char *name = (unsigned)status < sizeof names / sizeof names[0] ? names[status] : "error";
    for (size_t i = 0; (it->message[i] = name[i]) != '\0'; i++) {
    }
    return status;
}
#endif

#if TFLM_OPTIMIZE_SIZE
void tflm_fill(void *dst, int value, size_t bytes) {
    for (uint8_t *d = dst; bytes; bytes--) {
        *d++ = (uint8_t)value;
    }
}

void tflm_copy(void *dst, const void *src, size_t bytes) {
    const uint8_t *s = src;
    for (uint8_t *d = dst; bytes; bytes--) {
        *d++ = *s++;
    }
}
#endif

uint32_t tflm_udiv(uint32_t n, uint32_t d, uint32_t *remainder) {
    uint32_t quotient = 0, r = 0;
    for (int bit = 31; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1u); /* below 2^32: r < d < 2^31 before the shift */
        if (r >= d) {
            r -= d;
            quotient |= 1u << bit;
        }
    }
    *remainder = r;
    return quotient;
}

#if TFLM_OPTIMIZE_SIZE
tflm_tensor *tflm_node_input(const tflm_interpreter *it, const tflm_node *node, int i) {
    return tflm_node_tensor_inline(it, node->inputs, i);
}

tflm_tensor *tflm_node_output(const tflm_interpreter *it, const tflm_node *node, int i) {
    return tflm_node_tensor_inline(it, node->outputs, i);
}

void *tflm_data(const tflm_interpreter *it, const tflm_tensor *t) {
    return tflm_data_inline(it, t);
}
#endif

uint32_t tflm_elements(const tflm_interpreter *it, const tflm_tensor *t) {
    const int32_t *dims = tflm_dims(it, t);
    uint32_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        n *= (uint32_t)dims[i];
    }
    return n;
}

bool tflm_same_shape(const tflm_interpreter *it, const tflm_tensor *a, const tflm_tensor *b) {
    if (a->rank != b->rank) {
        return false;
    }
    for (int i = 0; i < a->rank; i++) {
        if (tflm_dim(it, a, i) != tflm_dim(it, b, i)) {
            return false;
        }
    }
    return true;
}

tflm_status tflm_request_scratch(tflm_interpreter *it, tflm_node *node, uint32_t bytes) {
    if (bytes > 0x7fffffffu) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "scratch buffer too large");
    }
    node->scratch_bytes = bytes;
    return TFLM_OK;
}

bool tflm_options(const tflm_interpreter *it, const tflm_node *node, fb_table *opts) {
    fb_buf b = { it->model, it->model_size };
    return node->at.options && fb_table_at(&b, node->at.options, opts);
}

/* Model position of an option field of `size` bytes; 0 when absent (or malformed). */
static uint32_t option_at(const tflm_interpreter *it, const tflm_node *node, unsigned field, unsigned size) {
    fb_buf b = { it->model, it->model_size };
    fb_table t;
    uint32_t pos;
    return tflm_options(it, node, &t) && fb_field(&b, &t, field, size, &pos) ? pos : 0;
}

uint8_t tflm_option_u8(const tflm_interpreter *it, const tflm_node *node, unsigned field, uint8_t def) {
    uint32_t pos = option_at(it, node, field, 1);
    return pos ? it->model[pos] : def;
}

int32_t tflm_option_i32(const tflm_interpreter *it, const tflm_node *node, unsigned field, int32_t def) {
    fb_buf b = { it->model, it->model_size };
    uint32_t pos = option_at(it, node, field, 4);
    return pos ? (int32_t)fb_rd32(&b, pos) : def;
}

float tflm_option_f32(const tflm_interpreter *it, const tflm_node *node, unsigned field, float def) {
    fb_buf b = { it->model, it->model_size };
    uint32_t pos = option_at(it, node, field, 4);
    return pos ? fb_rdf32(&b, pos) : def;
}

const int32_t *tflm_option_i32_vec(const tflm_interpreter *it, const tflm_node *node, unsigned field, uint32_t *count) {
    fb_buf b = { it->model, it->model_size };
    fb_table t;
    fb_vec v;
    *count = 0;
    if (!tflm_options(it, node, &t) || !fb_vector(&b, &t, field, 4, &v) || v.count == 0) {
        return NULL;
    }
    *count = v.count;
    return (const int32_t *)(const void *)(it->model + v.pos);
}

/* x > 0 (+inf included, NaN not) from its bits: no float compare to link. */
static bool positive(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits - 1u < 0x7f800000u;
}

/* The Tensor table of `t` in the model (verified at construction). */
static fb_table tensor_table(const tflm_interpreter *it, const tflm_tensor *t) {
    fb_buf b = { it->model, it->model_size };
    fb_vec tensors = { it->tensors_vec, it->tensor_count };
    fb_table table;
    fb_vector_table(&b, &tensors, (uint32_t)tflm_tensor_index(it, t), &table);
    return table;
}

/* QuantizationParameters: 2 scale, 3 zero_point, 6 quantized_dimension. */
static bool quant_vectors(const tflm_interpreter *it, const tflm_tensor *t, fb_vec *scales, fb_vec *zps, int32_t *qdim) {
    fb_buf b = { it->model, it->model_size };
    fb_table table = tensor_table(it, t), q;
    bool present;
    scales->count = zps->count = 0;
    *qdim = 0;
    if (!fb_subtable(&b, &table, 4, &q, &present)) {
        return false;
    }
    if (!present) {
        return true;
    }
    return fb_vector(&b, &q, 2, 4, scales) && fb_vector(&b, &q, 3, 8, zps) && fb_i32(&b, &q, 6, 0, qdim);
}

tflm_status tflm_tensor_quant(tflm_interpreter *it, const tflm_tensor *t, tflm_quant *q) {
    fb_buf b = { it->model, it->model_size };
    fb_vec scales, zps;
    q->count = 0;
    q->scales = NULL;
    q->scale = 0.0f;
    q->zero_point = 0;
    if (!quant_vectors(it, t, &scales, &zps, &q->quantized_dim)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed quantization of tensor %d", (int)tflm_tensor_index(it, t));
    }
    if (scales.count == 0) {
        return TFLM_OK;
    }
    if (zps.count != scales.count && zps.count != 0) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "tensor %d has %u scales but %u zero points",
            (int)tflm_tensor_index(it, t), (unsigned)scales.count, (unsigned)zps.count);
    }
    if (q->quantized_dim < 0 || (t->rank > 0 && q->quantized_dim >= t->rank) ||
        (scales.count > 1 && (t->rank == 0 || (uint32_t)tflm_dim(it, t, q->quantized_dim) != scales.count))) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "tensor %d: per-channel quantization does not match its shape",
            (int)tflm_tensor_index(it, t));
    }
    int32_t lo, hi;
    tflm_type_range(t->type, &lo, &hi);
    for (uint32_t i = 0; i < zps.count; i++) {
        /* an int64 within [lo, hi] is its low half, sign-extended */
        int32_t zp = (int32_t)fb_rd32(&b, zps.pos + 8 * i);
        if (fb_rd32(&b, zps.pos + 8 * i + 4) != (uint32_t)(zp >> 31) || zp < lo || zp > hi) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "tensor %d has zero point out of range for %s",
                (int)tflm_tensor_index(it, t), tflm_type_name(t->type));
        }
    }
    q->count = scales.count;
    q->scales = (const float *)(const void *)(it->model + scales.pos);
    q->scale = q->scales[0];
    q->zero_point = tflm_quant_zero_point(it, t, 0);
    if (!positive(q->scale) && !(t->type == TFLM_INT32 || t->type == TFLM_INT64)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "tensor %d has a non-positive scale", (int)tflm_tensor_index(it, t));
    }
    return TFLM_OK;
}

uint32_t tflm_quant_scale_count(const tflm_interpreter *it, const tflm_tensor *t) {
    fb_vec scales, zps;
    int32_t qdim;
    return quant_vectors(it, t, &scales, &zps, &qdim) ? scales.count : 0;
}

int32_t tflm_quant_zero_point(const tflm_interpreter *it, const tflm_tensor *t, uint32_t i) {
    fb_buf b = { it->model, it->model_size };
    fb_vec scales, zps;
    int32_t qdim;
    if (!quant_vectors(it, t, &scales, &zps, &qdim) || i >= zps.count) {
        return 0;
    }
    return (int32_t)fb_rd32(&b, zps.pos + 8 * i); /* the low half, as the int64 -> int32 conversion */
}

tflm_status tflm_expect(tflm_interpreter *it, const tflm_tensor *t, int type, const char *what) {
    if (t == NULL) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "missing %s", what);
    }
    if (t->type != type) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "%s has type %s, expected %s", what,
            tflm_type_name(t->type), tflm_type_name(type));
    }
    return TFLM_OK;
}
