#include "fb.h"

#include <stddef.h>

bool fb_table_at(const fb_buf *b, uint32_t pos, fb_table *t) {
    if (pos % 4 != 0 || !fb_in(b, pos, 4)) {
        return false;
    }
    /* The vtable lives at pos - soffset: below 0 that wraps to 2^31 or more, past any
     * buffer (sizes are below 2^31), and above pos it stays below 2^32. */
    uint32_t vt = pos - fb_rd32(b, pos);
    if ((vt & 1) != 0 || !fb_in(b, vt, 4)) {
        return false;
    }
    t->pos = pos;
    t->vtable = vt;
    t->vsize = fb_rd16(b, t->vtable);
    t->tsize = fb_rd16(b, t->vtable + 2);
    return t->vsize >= 4 && t->vsize % 2 == 0 && t->tsize >= 4 &&
           fb_in(b, t->vtable, t->vsize) && fb_in(b, pos, t->tsize);
}

bool fb_root(const fb_buf *b, fb_table *root) {
    return fb_in(b, 0, 8) && fb_table_at(b, fb_rd32(b, 0), root);
}

bool fb_field(const fb_buf *b, const fb_table *t, unsigned field, unsigned size, uint32_t *pos) {
    uint32_t slot = 4 + 2 * (uint32_t)field;
    *pos = 0;
    if (slot + 2 > t->vsize) {
        return true; /* written by an older schema: absent */
    }
    uint16_t voff = fb_rd16(b, t->vtable + slot);
    if (voff == 0) {
        return true;
    }
    if (voff < 4 || (uint32_t)voff + size > t->tsize) {
        return false;
    }
    *pos = t->pos + voff;
    return true;
}

bool fb_u8(const fb_buf *b, const fb_table *t, unsigned field, uint8_t def, uint8_t *out) {
    uint32_t pos;
    if (!fb_field(b, t, field, 1, &pos)) {
        return false;
    }
    *out = pos ? b->base[pos] : def;
    return true;
}

bool fb_u32(const fb_buf *b, const fb_table *t, unsigned field, uint32_t def, uint32_t *out) {
    uint32_t pos;
    if (!fb_field(b, t, field, 4, &pos)) {
        return false;
    }
    *out = pos ? fb_rd32(b, pos) : def;
    return true;
}

bool fb_i32(const fb_buf *b, const fb_table *t, unsigned field, int32_t def, int32_t *out) {
    uint32_t u;
    if (!fb_u32(b, t, field, (uint32_t)def, &u)) {
        return false;
    }
    *out = (int32_t)u;
    return true;
}

/* Follows the uoffset stored at `pos`. */
static bool fb_deref(const fb_buf *b, uint32_t pos, uint32_t *target) {
    uint32_t offset = fb_rd32(b, pos);
    if (offset >= b->size - pos) { /* pos is inside the buffer */
        return false;
    }
    *target = pos + offset;
    return true;
}

bool fb_subtable(const fb_buf *b, const fb_table *t, unsigned field, fb_table *out, bool *present) {
    uint32_t pos, target;
    *present = false;
    if (!fb_field(b, t, field, 4, &pos)) {
        return false;
    }
    if (pos == 0) {
        return true;
    }
    if (!fb_deref(b, pos, &target) || !fb_table_at(b, target, out)) {
        return false;
    }
    *present = true;
    return true;
}

bool fb_vector(const fb_buf *b, const fb_table *t, unsigned field, uint32_t elem_size, fb_vec *out) {
    uint32_t pos, target;
    out->pos = 0;
    out->count = 0;
    if (!fb_field(b, t, field, 4, &pos)) {
        return false;
    }
    if (pos == 0) {
        return true;
    }
    if (!fb_deref(b, pos, &target) || target % 4 != 0 || !fb_in(b, target, 4)) {
        return false;
    }
    uint32_t count = fb_rd32(b, target);
    if ((uint64_t)count * elem_size > b->size - target - 4) { /* no division: a library call on the M0+ */
        return false;
    }
    out->pos = target + 4;
    out->count = count;
    if ((elem_size == 2 || elem_size == 4) && count > 0 && ((uintptr_t)(b->base + out->pos) & (elem_size - 1)) != 0) {
        return false;
    }
    return true;
}

bool fb_vector_table(const fb_buf *b, const fb_vec *v, uint32_t i, fb_table *out) {
    uint32_t target;
    if (i >= v->count) {
        return false;
    }
    return fb_deref(b, v->pos + 4 * i, &target) && fb_table_at(b, target, out);
}

bool fb_string(const fb_buf *b, const fb_table *t, unsigned field, uint32_t *pos, uint32_t *len) {
    fb_vec v;
    if (!fb_vector(b, t, field, 1, &v)) {
        return false;
    }
    *pos = v.pos;
    *len = v.count;
    return true;
}
