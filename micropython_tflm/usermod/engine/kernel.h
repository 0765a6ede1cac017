/*
 * What a kernel sees: its descriptor, tensor and option accessors, and the
 * prepare-time services (errors, quantization parameters, scratch).
 *
 * Each kernel lives in kernels/<op>.c and exports one `tflm_kernel`.
 * prepare() runs once at construction: it validates shapes and types, then
 * computes everything eval() needs into the node's op data (a fixed-width,
 * pointer-free struct, so arena sizes match on 32- and 64-bit targets).
 * eval() does the arithmetic and must not fail on a prepared node.
 */
#ifndef TFLM_KERNEL_H
#define TFLM_KERNEL_H

#include <string.h>

#include "fb.h"
#include "tflm.h"

/* Build options (engine.mk): 0 drops the kernels' float32 or int16 paths, and
 * their prepare refuses such tensors, for builds that run int8 models only. */
#ifndef TFLM_FLOAT_KERNELS
#define TFLM_FLOAT_KERNELS 1
#endif
#ifndef TFLM_INT16_KERNELS
#define TFLM_INT16_KERNELS 1
#endif
/* 1: generic loops and no libc memset / memcpy, for the smallest flash
 * (engine.mk's TFLM_OPTIMIZE_SIZE; quant.h and conv_common.h default it too). */
#ifndef TFLM_OPTIMIZE_SIZE
#define TFLM_OPTIMIZE_SIZE 0
#endif
/* 0: errors keep their status but not their detail (see tflm_fail). */
#ifndef TFLM_ERROR_MESSAGES
#define TFLM_ERROR_MESSAGES 1
#endif

typedef struct tflm_kernel {
    const char *name;
    int16_t code;              /* BuiltinOperator */
    uint8_t options_type;      /* expected BuiltinOptions union type, 0 for none */
    uint8_t alias_input0;      /* output 0 may share input 0's buffer (same bytes) */
    uint16_t data_bytes;       /* op data size, when data_size is NULL */
    /* op data size depending on the model (e.g. per-channel arrays); may be NULL */
    uint32_t (*data_size)(const tflm_interpreter *it, const tflm_node *node);
    tflm_status (*prepare)(tflm_interpreter *it, tflm_node *node);
    void (*eval)(const tflm_interpreter *it, const tflm_node *node);
} tflm_kernel;

/* Fused activation functions (schema ActivationFunctionType). */
enum { TFLM_ACT_NONE = 0, TFLM_ACT_RELU = 1, TFLM_ACT_RELU_N1_TO_1 = 2, TFLM_ACT_RELU6 = 3 };
/* Padding (schema Padding). */
enum { TFLM_PADDING_SAME = 0, TFLM_PADDING_VALID = 1 };

/* ---- tensors ---- */

static inline tflm_tensor *tflm_tensor_at(const tflm_interpreter *it, int32_t index) {
    return (tflm_tensor *)(void *)(it->arena + it->tensors) + index;
}

static inline int32_t tflm_tensor_index(const tflm_interpreter *it, const tflm_tensor *t) {
    return (int32_t)(t - (const tflm_tensor *)(const void *)(it->arena + it->tensors));
}

static inline const int32_t *tflm_node_index_vec(const tflm_interpreter *it, uint32_t vec) {
    return (const int32_t *)(const void *)(it->model + vec);
}

static inline int tflm_node_input_count(const tflm_interpreter *it, const tflm_node *node) {
    return tflm_node_index_vec(it, node->inputs)[0];
}

static inline int tflm_node_output_count(const tflm_interpreter *it, const tflm_node *node) {
    return tflm_node_index_vec(it, node->outputs)[0];
}

/* Tensor i of an index vector, NULL when absent (beyond the list, or index -1). */
static inline tflm_tensor *tflm_node_tensor_inline(const tflm_interpreter *it, uint32_t vec, int i) {
    const int32_t *v = tflm_node_index_vec(it, vec);
    if (i >= v[0] || v[1 + i] < 0) {
        return NULL;
    }
    return tflm_tensor_at(it, v[1 + i]);
}

/* The tensor's data: in the model when constant, else in the arena. */
static inline void *tflm_data_inline(const tflm_interpreter *it, const tflm_tensor *t) {
    const uint8_t *base = (t->flags & TFLM_TENSOR_CONSTANT) ? it->model : it->arena;
    return (void *)(uintptr_t)(base + t->data);
}

/* Input i and output i of the node (NULL when absent; output 0 always exists,
 * checked at construction), and a tensor's data: builds for size keep one
 * copy of each in kernel_util.c instead of one per kernel. */
#if TFLM_OPTIMIZE_SIZE
TFLM_PURE tflm_tensor *tflm_node_input(const tflm_interpreter *it, const tflm_node *node, int i);
TFLM_PURE tflm_tensor *tflm_node_output(const tflm_interpreter *it, const tflm_node *node, int i);
TFLM_PURE void *tflm_data(const tflm_interpreter *it, const tflm_tensor *t);
#else
static inline tflm_tensor *tflm_node_input(const tflm_interpreter *it, const tflm_node *node, int i) {
    return tflm_node_tensor_inline(it, node->inputs, i);
}

static inline tflm_tensor *tflm_node_output(const tflm_interpreter *it, const tflm_node *node, int i) {
    return tflm_node_tensor_inline(it, node->outputs, i);
}

static inline void *tflm_data(const tflm_interpreter *it, const tflm_tensor *t) {
    return tflm_data_inline(it, t);
}
#endif

static inline const int32_t *tflm_dims(const tflm_interpreter *it, const tflm_tensor *t) {
    return (const int32_t *)(const void *)(it->model + t->dims);
}

/* Dimension i; negative i counts from the end. */
static inline int32_t tflm_dim(const tflm_interpreter *it, const tflm_tensor *t, int i) {
    return tflm_dims(it, t)[i < 0 ? t->rank + i : i];
}

/* n / d for 0 < d < 2^31, the remainder in *remainder: bit by bit, for prepare
 * code (a division is a library call of ~280 bytes on the Cortex-M0+). */
uint32_t tflm_udiv(uint32_t n, uint32_t d, uint32_t *remainder);

/* memset and memcpy of the engine's buffers. Builds for size have byte loops
 * of their own instead of libc's (~310 bytes on the Cortex-M0+; engine.mk
 * keeps GCC from turning the loops back into calls). */
#if TFLM_OPTIMIZE_SIZE
void tflm_fill(void *dst, int value, size_t bytes);
void tflm_copy(void *dst, const void *src, size_t bytes);
#else
static inline void tflm_fill(void *dst, int value, size_t bytes) {
    memset(dst, value, bytes);
}
static inline void tflm_copy(void *dst, const void *src, size_t bytes) {
    memcpy(dst, src, bytes);
}
#endif

/* Product of all dims (fits in 31 bits: checked at construction). */
TFLM_PURE uint32_t tflm_elements(const tflm_interpreter *it, const tflm_tensor *t);

static inline uint32_t tflm_bytes(const tflm_interpreter *it, const tflm_tensor *t) {
    return tflm_elements(it, t) * t->elem_size;
}

/* True when both tensors have the same rank and dims. */
TFLM_PURE bool tflm_same_shape(const tflm_interpreter *it, const tflm_tensor *a, const tflm_tensor *b);

static inline void *tflm_op_data(const tflm_interpreter *it, const tflm_node *node) {
    return it->arena + node->data;
}

static inline void *tflm_scratch(const tflm_interpreter *it, const tflm_node *node) {
    return it->arena + node->at.scratch;
}

/* ---- prepare-time services ---- */

/* Sets it->message (printf subset: %s %d %u %c %%) and returns status. */
tflm_status tflm_fail(tflm_interpreter *it, tflm_status status, const char *fmt, ...);
#if !TFLM_ERROR_MESSAGES
/* The formats and their arguments vanish from every call site; the message
 * only names the status. */
tflm_status tflm_fail_status(tflm_interpreter *it, tflm_status status);
/* Inlined: the arguments count as used, yet no code or string remains. */
static inline tflm_status tflm_fail_without_message(tflm_interpreter *it, tflm_status status, const char *fmt, ...) {
    (void)fmt;
    return tflm_fail_status(it, status);
}
#define tflm_fail tflm_fail_without_message
#endif

/* Asks for `bytes` of scratch, valid during this node's eval only. */
tflm_status tflm_request_scratch(tflm_interpreter *it, tflm_node *node, uint32_t bytes);

/* The node's builtin options table; false when absent (use the defaults). In
 * prepare and data_size only: planning reuses the word (tflm_node.at). */
bool tflm_options(const tflm_interpreter *it, const tflm_node *node, fb_table *opts);
/* Option fields by their schema width: byte fields (enums such as padding and
 * activation, bools, int8) with tflm_option_u8; int with tflm_option_i32. */
uint8_t tflm_option_u8(const tflm_interpreter *it, const tflm_node *node, unsigned field, uint8_t def);
int32_t tflm_option_i32(const tflm_interpreter *it, const tflm_node *node, unsigned field, int32_t def);
float tflm_option_f32(const tflm_interpreter *it, const tflm_node *node, unsigned field, float def);
/* int32 vector option; *count 0 when absent or malformed. */
const int32_t *tflm_option_i32_vec(const tflm_interpreter *it, const tflm_node *node, unsigned field, uint32_t *count);

typedef struct {
    uint32_t count;        /* number of scales; 0 = not quantized */
    const float *scales;   /* count floats in the model */
    int32_t quantized_dim;
    float scale;           /* scales[0] */
    int32_t zero_point;    /* zero_points[0] */
} tflm_quant;

/* Quantization parameters of a tensor (count 0 when it has none). */
tflm_status tflm_tensor_quant(tflm_interpreter *it, const tflm_tensor *t, tflm_quant *q);
/* Number of scales of a tensor (0 when not quantized or malformed); usable in data_size(). */
TFLM_PURE uint32_t tflm_quant_scale_count(const tflm_interpreter *it, const tflm_tensor *t);
/* Zero point i of a per-channel tensor. */
TFLM_PURE int32_t tflm_quant_zero_point(const tflm_interpreter *it, const tflm_tensor *t, uint32_t i);

/* False for the types whose kernel paths the build options leave out. */
static inline bool tflm_type_compiled(int type) {
    return (type != TFLM_FLOAT32 || TFLM_FLOAT_KERNELS) && (type != TFLM_INT16 || TFLM_INT16_KERNELS);
}

/* Requires the tensor to exist with type `type`; otherwise fails naming `what`. */
tflm_status tflm_expect(tflm_interpreter *it, const tflm_tensor *t, int type, const char *what);

#endif
