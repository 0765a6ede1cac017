/*
 * Construction (verify, build tables, prepare, plan) and invocation.
 *
 * Arena layout:  [ planned buffers ->  ...free...  <- persistent tables ]
 * Persistent:    tensor table, node table, profile ticks, op data.
 */
#include <string.h>

#include "planner.h"
#include "registry.h"

/* Schema field numbers. */
enum { MODEL_VERSION = 0, MODEL_OPERATOR_CODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { OPCODE_DEPRECATED_BUILTIN = 0, OPCODE_CUSTOM = 1, OPCODE_BUILTIN = 3 };
enum { SUBGRAPH_TENSORS = 0, SUBGRAPH_INPUTS = 1, SUBGRAPH_OUTPUTS = 2, SUBGRAPH_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_IS_VARIABLE = 5, TENSOR_SPARSITY = 6 };
enum { OP_OPCODE_INDEX = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3, OP_OPTIONS = 4 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1 };
#define BUILTIN_CUSTOM 32
#define MAX_RANK 6
#define MAX_TENSOR_BYTES 0x7fffffffu

#define ALIGN4(n) (((n) + 3u) & ~3u)
#define ALIGN16(n) (((n) + 15u) & ~15u)

const char *tflm_type_name(int type) {
    switch (type) {
        case TFLM_FLOAT32: return "float32";
        case TFLM_INT32: return "int32";
        case TFLM_UINT8: return "uint8";
        case TFLM_INT64: return "int64";
        case TFLM_BOOL: return "bool";
        case TFLM_INT16: return "int16";
        case TFLM_INT8: return "int8";
        default: return "unsupported type";
    }
}

uint32_t tflm_type_size(int type) {
    switch (type) {
        case TFLM_FLOAT32: case TFLM_INT32: return 4;
        case TFLM_INT64: return 8;
        case TFLM_INT16: return 2;
        case TFLM_UINT8: case TFLM_INT8: case TFLM_BOOL: return 1;
        default: return 0;
    }
}

static const char *op_name(int32_t code, char *buf) {
    const char *name = tflm_builtin_name(code);
    if (name) {
        return name;
    }
    /* "BUILTIN_<code>" for codes this build has no name for */
    char digits[12];
    int n = 0;
    uint32_t u = (uint32_t)code;
    memcpy(buf, "BUILTIN_", 8);
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int pos = 8;
    while (n) {
        buf[pos++] = digits[--n];
    }
    buf[pos] = '\0';
    return buf;
}

static tflm_status malformed(tflm_interpreter *it, const char *what) {
    return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: %s", what);
}

/* Takes `bytes` from the top of the arena; false when it does not fit. */
static bool take_persistent(tflm_interpreter *it, uint32_t bytes, uint32_t *offset) {
    bytes = ALIGN4(bytes);
    if (bytes > it->arena_size - it->persistent_bytes) {
        it->persistent_bytes = it->arena_size; /* mark exhausted */
        return false;
    }
    it->persistent_bytes += bytes;
    *offset = it->arena_size - it->persistent_bytes;
    return true;
}

static tflm_status arena_too_small(tflm_interpreter *it, uint32_t needed, bool lower_bound) {
    it->arena_needed = needed;
    it->arena_needed_is_lower_bound = lower_bound;
    return tflm_fail(it, TFLM_ERROR_ARENA, "arena of %u bytes is too small: the model needs %s%u bytes",
        (unsigned)it->arena_given, lower_bound ? "at least " : "", (unsigned)needed);
}

/* Reads the builtin code of operator code table i. */
static tflm_status operator_code(tflm_interpreter *it, const fb_buf *b, const fb_vec *codes, uint32_t i, int32_t *code) {
    fb_table oc;
    uint8_t deprecated;
    int32_t builtin;
    if (!fb_vector_table(b, codes, i, &oc) || !fb_u8(b, &oc, OPCODE_DEPRECATED_BUILTIN, 0, &deprecated) ||
        !fb_i32(b, &oc, OPCODE_BUILTIN, 0, &builtin)) {
        return malformed(it, "operator code");
    }
    /* The schema keeps both fields; the larger one is the real code. */
    *code = builtin > deprecated ? builtin : deprecated;
    if (*code == BUILTIN_CUSTOM) {
        uint32_t pos, len;
        if (!fb_string(b, &oc, OPCODE_CUSTOM, &pos, &len)) {
            return malformed(it, "custom op name");
        }
        char name[40] = "";
        if (TFLM_ERROR_MESSAGES) {
            len = len < sizeof name - 1 ? len : sizeof name - 1;
            memcpy(name, b->base + pos, len);
            name[len] = '\0';
        }
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "unsupported op: custom op '%s'", name);
    }
    return TFLM_OK;
}

static tflm_status read_index_vector(tflm_interpreter *it, const fb_buf *b, const fb_table *t, unsigned field,
    uint32_t *vec, const char *what) {
    fb_vec v;
    if (!fb_vector(b, t, field, 4, &v)) {
        return malformed(it, what);
    }
    if (v.count > 0xffff) {
        return malformed(it, what);
    }
    if (v.pos == 0) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: %s missing", what);
    }
    for (uint32_t i = 0; i < v.count; i++) {
        int32_t index = (int32_t)fb_rd32(b, v.pos + 4 * i);
        if (index < -1 || index >= it->tensor_count) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: %s refers to tensor %d of %u", what,
                (int)index, (unsigned)it->tensor_count);
        }
    }
    *vec = v.pos - 4;
    return TFLM_OK;
}

static tflm_status build_tensor(tflm_interpreter *it, const fb_buf *b, const fb_vec *buffers, uint32_t index) {
    fb_vec tensors = { it->tensors_vec, it->tensor_count };
    fb_table tt, buf;
    fb_vec shape, data;
    uint8_t type, is_variable;
    uint32_t buffer_index;
    bool present;
    tflm_tensor *t = tflm_tensor_at(it, (int32_t)index); /* zeroed by tflm_init */
    if (!fb_vector_table(b, &tensors, index, &tt) || !fb_vector(b, &tt, TENSOR_SHAPE, 4, &shape) ||
        !fb_u8(b, &tt, TENSOR_TYPE, 0, &type) || !fb_u32(b, &tt, TENSOR_BUFFER, 0, &buffer_index) ||
        !fb_u8(b, &tt, TENSOR_IS_VARIABLE, 0, &is_variable) || !fb_subtable(b, &tt, TENSOR_SPARSITY, &buf, &present)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: tensor %u", (unsigned)index);
    }
    if (present) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "tensor %u is sparse; sparse tensors are not supported", (unsigned)index);
    }
    if (shape.count > MAX_RANK) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "tensor %u has rank %u; at most %d is supported",
            (unsigned)index, (unsigned)shape.count, MAX_RANK);
    }
    /* A scalar has no shape vector; point dims anywhere valid (rank 0 never reads it). */
    t->dims = shape.pos ? shape.pos : 0;
    t->rank = (uint8_t)shape.count;
    t->type = type;
    t->elem_size = (uint8_t)tflm_type_size(type);
    uint64_t bytes = t->elem_size ? t->elem_size : 1;
    for (uint32_t i = 0; i < shape.count; i++) {
        int32_t d = (int32_t)fb_rd32(b, shape.pos + 4 * i);
        if (d < 0) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: tensor %u has dimension %d", (unsigned)index, (int)d);
        }
        bytes *= (uint32_t)d;
        if (bytes > MAX_TENSOR_BYTES) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: tensor %u is too large", (unsigned)index);
        }
    }
    if (is_variable) {
        t->flags |= TFLM_TENSOR_VARIABLE;
    }
    if (buffer_index >= buffers->count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: tensor %u refers to buffer %u of %u",
            (unsigned)index, (unsigned)buffer_index, (unsigned)buffers->count);
    }
    uint32_t offset = 0;
    if (!fb_vector_table(b, buffers, buffer_index, &buf) || !fb_vector(b, &buf, BUFFER_DATA, 1, &data) ||
        !fb_u32(b, &buf, BUFFER_OFFSET, 0, &offset)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: buffer %u", (unsigned)buffer_index);
    }
    if (offset > 1) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "buffer %u is stored outside the flatbuffer", (unsigned)buffer_index);
    }
    if (data.count > 0 && !is_variable) {
        if (t->elem_size == 0 || data.count < bytes) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: tensor %u has %u bytes of data, needs %u",
                (unsigned)index, (unsigned)data.count, (unsigned)bytes);
        }
        uint32_t align = t->elem_size < 4 ? t->elem_size : 4;
        if (((uintptr_t)(b->base + data.pos) & (align - 1)) != 0) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: tensor %u data is not %u-byte aligned",
                (unsigned)index, (unsigned)align);
        }
        t->flags |= TFLM_TENSOR_CONSTANT;
        t->data = data.pos;
    }
    return TFLM_OK;
}

static void mark_use(tflm_tensor *t, uint16_t op) {
    if (!(t->flags & TFLM_TENSOR_USED)) {
        t->first_op = op;
        t->last_op = op;
        t->flags |= TFLM_TENSOR_USED;
    }
    if (op < t->first_op) {
        t->first_op = op;
    }
    if (op > t->last_op) {
        t->last_op = op;
    }
}

/* What use_tensors requires of the tensors of an index vector. */
enum { USE_NOT_CONSTANT = 1, USE_NONE_ABSENT = 2 };

/* Marks the tensors of an index vector as used at `op`, after checking them:
 * a supported type, not constant where written (the model may be read-only:
 * flash, a bytes object) or fed by the caller, no -1 where one is required. */
static tflm_status use_tensors(tflm_interpreter *it, uint32_t vec, uint16_t op, unsigned rules, const char *user,
    const char *role) {
    const int32_t *v = tflm_node_index_vec(it, vec);
    for (int32_t i = 0; i < v[0]; i++) {
        if (v[1 + i] < 0 && (rules & USE_NONE_ABSENT)) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: %s %s %d is -1", user, role, (int)i);
        }
        if (v[1 + i] < 0) {
            continue;
        }
        tflm_tensor *t = tflm_tensor_at(it, v[1 + i]);
        if ((rules & USE_NOT_CONSTANT) && (t->flags & TFLM_TENSOR_CONSTANT)) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: %s %s %d is constant tensor %d", user, role,
                (int)i, (int)v[1 + i]);
        }
        if (t->elem_size == 0) {
            return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "%s %s %d (tensor %d) has unsupported type %d", user, role,
                (int)i, (int)v[1 + i], (int)t->type);
        }
        mark_use(t, op);
    }
    return TFLM_OK;
}

static tflm_status build_node(tflm_interpreter *it, const fb_buf *b, const fb_vec *ops, const fb_vec *codes,
    const int32_t *allowed, size_t allowed_count, uint32_t index) {
    fb_table ot, opts;
    uint32_t opcode_index;
    uint8_t options_type;
    int32_t code;
    bool present;
    char name_buf[20];
    tflm_node *node = (tflm_node *)(void *)(it->arena + it->nodes) + index; /* zeroed by tflm_init */
    if (!fb_vector_table(b, ops, index, &ot) || !fb_u32(b, &ot, OP_OPCODE_INDEX, 0, &opcode_index) ||
        !fb_u8(b, &ot, OP_OPTIONS_TYPE, 0, &options_type) || !fb_subtable(b, &ot, OP_OPTIONS, &opts, &present)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: operator %u", (unsigned)index);
    }
    if (opcode_index >= codes->count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: operator %u uses opcode %u of %u",
            (unsigned)index, (unsigned)opcode_index, (unsigned)codes->count);
    }
    tflm_status st = operator_code(it, b, codes, opcode_index, &code);
    if (st != TFLM_OK) {
        return st;
    }
    const char *name = TFLM_ERROR_MESSAGES ? op_name(code, name_buf) : NULL; /* for messages only */
    if (allowed) {
        size_t i = 0;
        while (i < allowed_count && allowed[i] != code) {
            i++;
        }
        if (i == allowed_count) {
            return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "op %s (operator %u) is not in the allowed ops", name, (unsigned)index);
        }
    }
    int k = tflm_kernel_find(code);
    if (k < 0) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "unsupported op %s (operator %u): not compiled into this build",
            name, (unsigned)index);
    }
    const tflm_kernel *kernel = tflm_kernels[k];
    node->kernel = (uint16_t)k;
    if (present) {
        if (options_type != kernel->options_type) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: operator %u (%s) has options of type %u",
                (unsigned)index, name, (unsigned)options_type);
        }
        node->at.options = opts.pos;
    }
    st = read_index_vector(it, b, &ot, OP_INPUTS, &node->inputs, "operator inputs");
    if (st == TFLM_OK) {
        st = read_index_vector(it, b, &ot, OP_OUTPUTS, &node->outputs, "operator outputs");
    }
    /* Every builtin op writes output 0; kernels may rely on it. */
    if (st == TFLM_OK && (tflm_node_output_count(it, node) < 1 || tflm_node_index_vec(it, node->outputs)[1] < 0)) {
        st = tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: operator %u (%s) has no output", (unsigned)index, name);
    }
    if (st == TFLM_OK) {
        st = use_tensors(it, node->outputs, (uint16_t)index, USE_NOT_CONSTANT, name, "output");
    }
    if (st == TFLM_OK) {
        st = use_tensors(it, node->inputs, (uint16_t)index, 0, name, "input");
    }
    return st;
}

/* Prefixes the message of a failed prepare with the op and operator index. */
static tflm_status prepare_failed(tflm_interpreter *it, tflm_status st, const tflm_kernel *kernel, uint32_t index) {
    if (!TFLM_ERROR_MESSAGES) {
        return st; /* the message names the status already */
    }
    char detail[sizeof it->message];
    memcpy(detail, it->message, sizeof detail);
    return tflm_fail(it, st, "%s (operator %u): %s", kernel->name, (unsigned)index, detail);
}

static tflm_status graph_io(tflm_interpreter *it, const fb_buf *b, const fb_table *sg) {
    tflm_status st = read_index_vector(it, b, sg, SUBGRAPH_INPUTS, &it->inputs_vec, "subgraph inputs");
    if (st == TFLM_OK) {
        st = read_index_vector(it, b, sg, SUBGRAPH_OUTPUTS, &it->outputs_vec, "subgraph outputs");
    }
    if (st != TFLM_OK) {
        return st;
    }
    it->input_count = (uint16_t)fb_rd32(b, it->inputs_vec);
    it->output_count = (uint16_t)fb_rd32(b, it->outputs_vec);
    /* Inputs live from the start, outputs until the end. */
    uint16_t last = it->node_count ? (uint16_t)(it->node_count - 1) : 0;
    st = use_tensors(it, it->inputs_vec, 0, USE_NOT_CONSTANT | USE_NONE_ABSENT, "graph", "input");
    return st == TFLM_OK ? use_tensors(it, it->outputs_vec, last, USE_NONE_ABSENT, "graph", "output") : st;
}

/* State (variable) tensors must survive between invokes: they live through the whole run. */
static void keep_state_alive(tflm_interpreter *it) {
    uint16_t last = it->node_count ? (uint16_t)(it->node_count - 1) : 0;
    for (uint32_t i = 0; i < it->tensor_count; i++) {
        tflm_tensor *t = tflm_tensor_at(it, (int32_t)i);
        if ((t->flags & TFLM_TENSOR_VARIABLE) && (t->flags & TFLM_TENSOR_USED)) {
            mark_use(t, 0);
            mark_use(t, last);
        }
    }
}

tflm_status tflm_init(tflm_interpreter *it, const void *model, size_t model_size,
    void *arena, size_t arena_size, const int32_t *allowed_ops, size_t allowed_count) {
    tflm_fill(it, 0, sizeof *it);
    fb_buf b = { (const uint8_t *)model, 0 };
    fb_table root, sg;
    fb_vec codes, subgraphs, buffers, tensors, ops;
    uint32_t version;

    if (model_size > 0x7fffffffu) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "model larger than 2 GiB");
    }
    /* The tables' int32 vectors are read in place: a word load from an unaligned address faults on Cortex-M0+. */
    if ((uintptr_t)model % 4 != 0) {
        return tflm_fail(it, TFLM_ERROR_ARGUMENT, "model buffer address is not 4-byte aligned: "
            "pass bytes, a bytearray or a slice at a multiple of 4");
    }
    b.size = (uint32_t)model_size;
    it->model = b.base;
    it->model_size = b.size;
    uintptr_t start = ((uintptr_t)arena + 15) & ~(uintptr_t)15;
    uintptr_t end = (uintptr_t)arena + arena_size;
    it->arena = (uint8_t *)start;
    uint64_t given = arena_size; /* a 64-bit variable keeps 32-bit targets free of type-limit warnings */
    it->arena_given = given > 0xffffffffu ? 0xffffffffu : (uint32_t)given;
    it->arena_size = end > start ? (uint32_t)((end - start) & ~(uintptr_t)15 & 0x7ffffff0u) : 0;

    if (!fb_root(&b, &root) || !fb_u32(&b, &root, MODEL_VERSION, 0, &version)) {
        return malformed(it, "not a TFLite flatbuffer");
    }
    if (version != TFLM_SCHEMA_VERSION) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "model schema version is %u, this runtime reads version %d",
            (unsigned)version, TFLM_SCHEMA_VERSION);
    }
    if (!fb_vector(&b, &root, MODEL_OPERATOR_CODES, 4, &codes) || !fb_vector(&b, &root, MODEL_SUBGRAPHS, 4, &subgraphs) ||
        !fb_vector(&b, &root, MODEL_BUFFERS, 4, &buffers)) {
        return malformed(it, "model tables");
    }
    if (subgraphs.count == 0 || !fb_vector_table(&b, &subgraphs, 0, &sg)) {
        return malformed(it, "no subgraph");
    }
    if (!fb_vector(&b, &sg, SUBGRAPH_TENSORS, 4, &tensors) || !fb_vector(&b, &sg, SUBGRAPH_OPERATORS, 4, &ops)) {
        return malformed(it, "subgraph tables");
    }
    if (tensors.count > 0xfffe || ops.count > 0xfffe) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "model has %u tensors and %u operators; at most 65534 each",
            (unsigned)tensors.count, (unsigned)ops.count);
    }
    it->tensors_vec = tensors.pos;
    it->tensor_count = (uint16_t)tensors.count;
    it->node_count = (uint16_t)ops.count;

    /* Fixed tables first, zeroed: their size depends only on the counts. From
     * the top: tensors, nodes, profile ticks. */
    uint32_t node_bytes = ALIGN4(it->node_count * (uint32_t)sizeof(tflm_node));
    uint32_t tables = ALIGN4(it->tensor_count * (uint32_t)sizeof(tflm_tensor)) + node_bytes + 4u * it->node_count;
    if (!take_persistent(it, tables, &it->profile)) {
        return arena_too_small(it, ALIGN16(tables), true);
    }
    it->nodes = it->profile + 4u * it->node_count;
    it->tensors = it->nodes + node_bytes;
    tflm_fill(it->arena + it->profile, 0, tables);

    tflm_status st = TFLM_OK;
    for (uint32_t i = 0; i < tensors.count && st == TFLM_OK; i++) {
        st = build_tensor(it, &b, &buffers, i);
    }
    for (uint32_t i = 0; i < ops.count && st == TFLM_OK; i++) {
        st = build_node(it, &b, &ops, &codes, allowed_ops, allowed_count, i);
    }
    if (st == TFLM_OK) {
        st = graph_io(it, &b, &sg);
    }
    if (st != TFLM_OK) {
        return st;
    }
    keep_state_alive(it);

    /* Op data: sizes come from the kernels before any of it is written. */
    uint32_t op_data = 0;
    for (uint32_t i = 0; i < it->node_count; i++) {
        tflm_node *node = (tflm_node *)(void *)(it->arena + it->nodes) + i;
        const tflm_kernel *kernel = tflm_kernels[node->kernel];
        uint32_t size = kernel->data_size ? kernel->data_size(it, node) : kernel->data_bytes;
        op_data += ALIGN4(size);
        if (op_data > 0x7fffffffu - tables) {
            return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: op data too large");
        }
        if (!take_persistent(it, size, &node->data)) {
            continue; /* keep summing for the error message */
        }
        tflm_fill(it->arena + node->data, 0, size);
    }
    if (it->persistent_bytes == it->arena_size && tables + op_data > it->arena_size) {
        return arena_too_small(it, ALIGN16(tables + op_data), true);
    }
    it->persistent_bytes = ALIGN16(it->persistent_bytes);

    for (uint32_t i = 0; i < it->node_count; i++) {
        tflm_node *node = (tflm_node *)(void *)(it->arena + it->nodes) + i;
        const tflm_kernel *kernel = tflm_kernels[node->kernel];
        if (kernel->alias_input0) { /* build_node checked that output 0 exists */
            tflm_planner_alias(it, node);
        }
        st = kernel->prepare(it, node);
        if (st != TFLM_OK) {
            return prepare_failed(it, st, kernel, i);
        }
    }

    st = tflm_plan(it);
    if (st != TFLM_OK) {
        return st;
    }
    if (it->planned_bytes > it->arena_size - it->persistent_bytes) {
        return arena_too_small(it, it->planned_bytes + it->persistent_bytes, false);
    }
    tflm_reset(it);
    it->message[0] = '\0';
    return TFLM_OK;
}

void tflm_reset(tflm_interpreter *it) {
    for (uint32_t i = 0; i < it->tensor_count; i++) {
        tflm_tensor *t = tflm_tensor_at(it, (int32_t)i);
        if ((t->flags & TFLM_TENSOR_VARIABLE) && !(t->flags & TFLM_TENSOR_CONSTANT)) {
            /* As TFLite Micro: int8 state starts at its zero point, any other at 0. */
            int fill = t->type == TFLM_INT8 ? (int)tflm_quant_zero_point(it, t, 0) : 0;
            tflm_fill(tflm_data(it, t), fill, tflm_bytes(it, t));
        }
    }
}

tflm_status tflm_invoke(tflm_interpreter *it) {
    uint32_t *ticks = (uint32_t *)(void *)(it->arena + it->profile);
    for (uint32_t i = 0; i < it->node_count; i++) {
        if (it->should_abort && it->should_abort(it->abort_arg)) {
            return tflm_fail(it, TFLM_ERROR_ABORTED, "invoke interrupted before operator %u", (unsigned)i);
        }
        const tflm_node *node = (const tflm_node *)(const void *)(it->arena + it->nodes) + i;
        uint32_t t0 = it->clock ? it->clock() : 0;
        tflm_kernels[node->kernel]->eval(it, node);
        ticks[i] = it->clock ? it->clock() - t0 : 0;
    }
    return TFLM_OK;
}

static tflm_status tensor_info(const tflm_interpreter *it, uint32_t vec, size_t count, size_t index,
    tflm_tensor_info *info) {
    if (index >= count) {
        return TFLM_ERROR_ARGUMENT;
    }
    tflm_tensor *t = tflm_tensor_at(it, tflm_node_index_vec(it, vec)[1 + index]);
    tflm_quant q;
    info->data = tflm_data(it, t);
    info->bytes = tflm_bytes(it, t);
    info->dims = tflm_dims(it, t);
    info->rank = t->rank;
    info->type = t->type;
    /* tflm_tensor_quant only writes `message` on a malformed model, which init rejected. */
    tflm_tensor_quant((tflm_interpreter *)(uintptr_t)it, t, &q);
    info->scale = q.scale;
    info->zero_point = q.zero_point;
    return TFLM_OK;
}

tflm_status tflm_input(const tflm_interpreter *it, size_t index, tflm_tensor_info *info) {
    return tensor_info(it, it->inputs_vec, it->input_count, index, info);
}

tflm_status tflm_output(const tflm_interpreter *it, size_t index, tflm_tensor_info *info) {
    return tensor_info(it, it->outputs_vec, it->output_count, index, info);
}

uint32_t tflm_arena_used_bytes(const tflm_interpreter *it) {
    return it->persistent_bytes + it->planned_bytes;
}

uint32_t tflm_node_ticks(const tflm_interpreter *it, size_t node) {
    return node < it->node_count ? ((const uint32_t *)(const void *)(it->arena + it->profile))[node] : 0;
}

const char *tflm_node_op_name(const tflm_interpreter *it, size_t node) {
    if (node >= it->node_count) {
        return NULL;
    }
    return tflm_kernels[((const tflm_node *)(const void *)(it->arena + it->nodes))[node].kernel]->name;
}
