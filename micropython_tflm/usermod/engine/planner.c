/*
 * First-fit planning: buffers are placed one by one, each at the lowest
 * offset where it does not overlap, in space, any already placed buffer that
 * is alive at the same time. The placement order is a heuristic: largest
 * first (as TFLite Micro's greedy planner) usually meets the lower bound;
 * when it does not, other orders are tried and the smallest plan is kept.
 * The only memory it uses is the tensor and node tables themselves, so it can
 * report the exact arena size even when the arena is too small.
 */
#include "planner.h"

#define ALIGN16(n) (((n) + 15u) & ~15u)

static tflm_tensor *alias_root(const tflm_interpreter *it, tflm_tensor *t) {
    while (t->flags & TFLM_TENSOR_ALIAS) {
        t = tflm_tensor_at(it, (int32_t)t->data);
    }
    return t;
}

void tflm_planner_alias(tflm_interpreter *it, const tflm_node *node) {
    tflm_tensor *in = tflm_node_input(it, node, 0);
    tflm_tensor *out = tflm_node_output(it, node, 0);
    const uint8_t fixed = TFLM_TENSOR_CONSTANT | TFLM_TENSOR_VARIABLE | TFLM_TENSOR_ALIAS;
    if (!in || !out || in == out || (in->flags & (TFLM_TENSOR_CONSTANT | TFLM_TENSOR_VARIABLE)) ||
        (out->flags & fixed) || tflm_bytes(it, in) != tflm_bytes(it, out)) {
        return;
    }
    tflm_tensor *root = alias_root(it, in);
    if (out->first_op < root->first_op) {
        root->first_op = out->first_op;
    }
    if (out->last_op > root->last_op) {
        root->last_op = out->last_op;
    }
    out->flags |= TFLM_TENSOR_ALIAS;
    out->data = (uint32_t)tflm_tensor_index(it, root);
}

/* A buffer to place: a tensor, or the scratch of a node. */
typedef struct {
    tflm_tensor *tensor;
    tflm_node *node;
    uint32_t size;
    uint16_t first, last;
} buffer;

static bool needs_plan(const tflm_tensor *t) {
    return (t->flags & TFLM_TENSOR_USED) && !(t->flags & (TFLM_TENSOR_CONSTANT | TFLM_TENSOR_ALIAS));
}

/* Buffer i of the combined list: tensors first, then node scratches. */
static bool buffer_at(const tflm_interpreter *it, uint32_t i, buffer *b) {
    b->tensor = NULL;
    b->node = NULL;
    if (i < it->tensor_count) {
        tflm_tensor *t = tflm_tensor_at(it, (int32_t)i);
        if (!needs_plan(t)) {
            return false;
        }
        b->tensor = t;
        b->size = ALIGN16(tflm_bytes(it, t));
        b->first = t->first_op;
        b->last = t->last_op;
    } else {
        tflm_node *n = (tflm_node *)(void *)(it->arena + it->nodes) + (i - it->tensor_count);
        if (n->scratch_bytes == 0) {
            return false;
        }
        b->node = n;
        b->size = ALIGN16(n->scratch_bytes);
        b->first = b->last = (uint16_t)(i - it->tensor_count);
    }
    return b->size > 0;
}

static bool placed(const buffer *b) {
    return b->tensor ? (b->tensor->flags & TFLM_TENSOR_PLACED) != 0 : b->node->scratch_placed != 0;
}

static uint32_t offset_of(const buffer *b) {
    return b->tensor ? b->tensor->data : b->node->at.scratch;
}

static void place(buffer *b, uint32_t offset) {
    if (b->tensor) {
        b->tensor->data = offset;
        b->tensor->flags |= TFLM_TENSOR_PLACED;
    } else {
        b->node->at.scratch = offset;
        b->node->scratch_placed = 1;
    }
}

/* Orders in which the planner may place buffers; each is a heuristic. */
enum { BY_SIZE, BY_START, BY_AREA, STRATEGIES };

/* True when `a` is placed before `b` under the strategy (ties: earlier start, then list order). */
static bool precedes(int strategy, const buffer *a, const buffer *b) {
    uint64_t ka = a->size, kb = b->size;
    if (strategy == BY_START && a->first != b->first) {
        return a->first < b->first;
    }
    if (strategy == BY_AREA) {
        ka *= (uint32_t)(a->last - a->first + 1);
        kb *= (uint32_t)(b->last - b->first + 1);
    }
    if (ka != kb) {
        return ka > kb;
    }
    return a->first < b->first;
}

static void unplace_all(tflm_interpreter *it) {
    for (uint32_t i = 0; i < it->tensor_count; i++) {
        tflm_tensor_at(it, (int32_t)i)->flags &= (uint8_t)~TFLM_TENSOR_PLACED;
    }
    for (uint32_t i = 0; i < it->node_count; i++) {
        ((tflm_node *)(void *)(it->arena + it->nodes))[i].scratch_placed = 0;
    }
}

/* Places every buffer in the strategy's order, each first fit; returns the bytes used. */
static uint64_t place_all(tflm_interpreter *it, int strategy) {
    uint32_t total = (uint32_t)it->tensor_count + it->node_count;
    uint64_t high_water = 0;
    unplace_all(it);
    for (;;) {
        buffer next = { NULL, NULL, 0, 0, 0 }, b;
        bool found = false;
        for (uint32_t i = 0; i < total; i++) {
            if (buffer_at(it, i, &b) && !placed(&b) && (!found || precedes(strategy, &b, &next))) {
                next = b;
                found = true;
            }
        }
        if (!found) {
            return high_water;
        }
        /* First fit: skip past every live placed buffer it would overlap. Placed
         * offsets are at most 0x7ffffff0 and sizes 2^31, so ends fit 32 bits. */
        uint32_t offset = 0;
        bool moved = true;
        while (moved) {
            moved = false;
            for (uint32_t i = 0; i < total; i++) {
                if (!buffer_at(it, i, &b) || !placed(&b) || b.last < next.first || b.first > next.last) {
                    continue;
                }
                uint32_t start = offset_of(&b), end = start + b.size;
                if (offset < end && (start < offset || start - offset < next.size)) {
                    offset = end;
                    moved = true;
                }
            }
        }
        /* Offsets are 32-bit; a model this large is refused by the caller. */
        uint64_t top = (uint64_t)offset + next.size;
        place(&next, top > 0x7ffffff0u ? 0 : offset);
        if (top > high_water) {
            high_water = top;
        }
    }
}

tflm_status tflm_plan(tflm_interpreter *it) {
    /* Try each strategy until one meets the lower bound; keep the smallest. */
    uint64_t bound = tflm_plan_lower_bound(it), best_bytes = UINT64_MAX, bytes = 0;
    int best = BY_SIZE, last = -1;
    for (int strategy = 0; strategy < STRATEGIES && best_bytes > bound; strategy++) {
        bytes = place_all(it, strategy);
        last = strategy;
        if (bytes < best_bytes) {
            best_bytes = bytes;
            best = strategy;
        }
    }
    if (best != last) {
        bytes = place_all(it, best);
    }
    if (bytes > 0x7ffffff0u) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "malformed model: activations exceed 2 GiB");
    }
    /* Aliases point straight at their root (never at another alias): take its offset. */
    for (uint32_t i = 0; i < it->tensor_count; i++) {
        tflm_tensor *t = tflm_tensor_at(it, (int32_t)i);
        if (t->flags & TFLM_TENSOR_ALIAS) {
            t->data = tflm_tensor_at(it, (int32_t)t->data)->data;
        }
    }
    it->planned_bytes = (uint32_t)bytes;
    return TFLM_OK;
}

uint32_t tflm_plan_lower_bound(const tflm_interpreter *it) {
    uint32_t total = (uint32_t)it->tensor_count + it->node_count, best = 0;
    for (uint32_t op = 0; op < it->node_count; op++) {
        uint32_t live = 0;
        buffer b;
        for (uint32_t i = 0; i < total; i++) {
            if (buffer_at(it, i, &b) && b.first <= op && op <= b.last) {
                live += b.size;
            }
        }
        best = live > best ? live : best;
    }
    return best;
}

tflm_status tflm_plan_buffer(const tflm_interpreter *it, size_t index, uint32_t *offset, uint32_t *bytes,
    uint16_t *first_op, uint16_t *last_op) {
    buffer b;
    if (index >= (size_t)it->tensor_count + it->node_count || !buffer_at(it, (uint32_t)index, &b) || !placed(&b)) {
        return TFLM_ERROR_ARGUMENT;
    }
    *offset = offset_of(&b);
    *bytes = b.size;
    *first_op = b.first;
    *last_op = b.last;
    return TFLM_OK;
}
