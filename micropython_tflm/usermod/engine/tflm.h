/*
 * micropython-tflm engine: public API.
 *
 * Portable C99, no MicroPython, no malloc, no OS. The model is read in place
 * (zero copies) and every offset is checked before use. All run-time state
 * lives in one caller-provided arena: persistent tables at the top, planned
 * activation buffers at the bottom. Arena bookkeeping uses 32-bit offsets,
 * never pointers, so a model needs the same arena bytes on every target.
 */
#ifndef TFLM_H
#define TFLM_H

#include <stddef.h>
#include <stdint.h>

#define TFLM_VERSION "0.1.0"
#define TFLM_SCHEMA_VERSION 3
/* Arena start and every planned buffer are aligned to this. */
#define TFLM_ARENA_ALIGN 16

/* A function without side effects: GCC and Clang drop calls whose result is
 * unused, such as the arguments of the messages a build leaves out. */
#if defined(__GNUC__)
#define TFLM_PURE __attribute__((pure))
#else
#define TFLM_PURE
#endif

typedef enum {
    TFLM_OK = 0,
    TFLM_ERROR_MODEL,       /* malformed model or wrong schema version */
    TFLM_ERROR_UNSUPPORTED, /* op, type or option combination not supported or not allowed */
    TFLM_ERROR_ARENA,       /* arena too small; see tflm_interpreter.arena_needed */
    TFLM_ERROR_ARGUMENT,    /* bad index or buffer size from the caller */
    TFLM_ERROR_ABORTED,     /* the abort callback asked invoke to stop */
} tflm_status;

/* Values of the TFLite schema's TensorType enum. */
typedef enum {
    TFLM_FLOAT32 = 0,
    TFLM_INT32 = 2,
    TFLM_UINT8 = 3,
    TFLM_INT64 = 4,
    TFLM_BOOL = 6,
    TFLM_INT16 = 7,
    TFLM_INT8 = 9,
} tflm_type;

/* Runtime view of one tensor (16 bytes in the arena). */
typedef struct {
    uint32_t data;      /* byte offset into the arena, or into the model if TFLM_TENSOR_CONSTANT */
    uint32_t dims;      /* byte offset into the model of the shape's int32 elements */
    uint16_t first_op;  /* lifetime, in node indices, used by the planner */
    uint16_t last_op;
    uint8_t type;       /* tflm_type */
    uint8_t rank;
    uint8_t flags;      /* TFLM_TENSOR_* */
    uint8_t elem_size;
} tflm_tensor;

#define TFLM_TENSOR_CONSTANT 0x01 /* data is in the model */
#define TFLM_TENSOR_VARIABLE 0x02 /* state kept across invokes (SVDF, LSTM) */
#define TFLM_TENSOR_USED 0x04     /* read or written by some node, or a graph input/output */
#define TFLM_TENSOR_ALIAS 0x08    /* shares the buffer of another tensor (RESHAPE-like ops) */
#define TFLM_TENSOR_PLACED 0x10   /* the planner has given it an offset */

/* Runtime view of one operator (24 bytes in the arena). */
typedef struct {
    uint32_t inputs;        /* model offset of the int32 input index vector's length word */
    uint32_t outputs;       /* same for outputs */
    /* Kernels read their options in prepare only, so planning reuses the word. */
    union {
        uint32_t options;   /* until planning: model offset of the builtin options table, 0 if absent */
        uint32_t scratch;   /* from planning on: arena offset of the scratch buffer */
    } at;
    uint32_t data;          /* arena offset of the kernel's persistent op data */
    uint32_t scratch_bytes; /* requested at prepare */
    uint16_t kernel;        /* index into the kernel registry */
    uint8_t scratch_placed;
} tflm_node;

typedef uint32_t (*tflm_clock_fn)(void);
typedef int (*tflm_abort_fn)(void *arg);

typedef struct tflm_interpreter {
    const uint8_t *model;
    uint32_t model_size;
    uint8_t *arena;            /* aligned start actually used */
    uint32_t arena_size;       /* usable bytes from `arena` */
    uint32_t arena_given;      /* bytes the caller passed, for messages */
    uint32_t arena_needed;     /* on TFLM_ERROR_ARENA: bytes needed (exact unless arena_needed_is_lower_bound) */
    uint8_t arena_needed_is_lower_bound;
    uint32_t persistent_bytes; /* top of the arena: tables and op data */
    uint32_t planned_bytes;    /* bottom of the arena: activations and scratch */
    uint32_t tensors_vec;      /* model offset of the subgraph's tensors vector */
    uint32_t inputs_vec;       /* model offsets of the subgraph's input and output index vectors */
    uint32_t outputs_vec;
    uint32_t tensors;          /* arena offset of tflm_tensor[tensor_count] */
    uint32_t nodes;            /* arena offset of tflm_node[node_count] */
    uint32_t profile;          /* arena offset of uint32_t ticks[node_count] */
    uint16_t tensor_count;
    uint16_t node_count;
    uint16_t input_count;
    uint16_t output_count;
    tflm_clock_fn clock;       /* optional: per-op profiling ticks */
    tflm_abort_fn should_abort;/* optional: polled between ops during invoke */
    void *abort_arg;
    char message[160];         /* human-readable reason of the last error */
} tflm_interpreter;

/* Public description of an input or output tensor. */
typedef struct {
    void *data;
    uint32_t bytes;
    const int32_t *dims;
    uint8_t rank;
    uint8_t type;
    float scale;        /* 0 if not quantized */
    int32_t zero_point;
} tflm_tensor_info;

/*
 * Verifies the model, builds the runtime tables, prepares every op and plans
 * the arena. `allowed_ops` (builtin operator codes) may be NULL for "every op
 * compiled in". Nothing is allocated; `it` and the arena must outlive use.
 */
tflm_status tflm_init(tflm_interpreter *it, const void *model, size_t model_size,
    void *arena, size_t arena_size, const int32_t *allowed_ops, size_t allowed_count);

tflm_status tflm_invoke(tflm_interpreter *it);

/* Resets the state (variable) tensors as tflm_init leaves them: int8 ones to
 * their zero point, others to 0 (as TFLite Micro does). */
void tflm_reset(tflm_interpreter *it);

tflm_status tflm_input(const tflm_interpreter *it, size_t index, tflm_tensor_info *info);
tflm_status tflm_output(const tflm_interpreter *it, size_t index, tflm_tensor_info *info);

/* Bytes of the arena in use: persistent + planned (aligned arena start). */
uint32_t tflm_arena_used_bytes(const tflm_interpreter *it);

/* Profiling: ticks of the last invoke per node (0 without a clock). */
uint32_t tflm_node_ticks(const tflm_interpreter *it, size_t node);
const char *tflm_node_op_name(const tflm_interpreter *it, size_t node);

/* Ops compiled into this build. */
size_t tflm_kernel_count(void);
const char *tflm_kernel_name(size_t index);
int32_t tflm_kernel_code(size_t index);

/* Builtin operator code <-> name, for every op of the schema. */
TFLM_PURE const char *tflm_builtin_name(int32_t code);
int32_t tflm_builtin_code(const char *name);

TFLM_PURE const char *tflm_type_name(int type);
/* Bytes per element, 0 for types the engine does not handle. */
TFLM_PURE uint32_t tflm_type_size(int type);

#endif
