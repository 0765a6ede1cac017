/*
 * Bounds-checked FlatBuffer reading, in place.
 *
 * Every function checks that what it reads lies inside the model and returns
 * false otherwise, so a hostile model can make construction fail but never
 * read out of bounds. Multi-byte values are read byte by byte (little endian),
 * so the model needs no particular alignment for metadata.
 */
#ifndef TFLM_FB_H
#define TFLM_FB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *base;
    uint32_t size; /* below 2^31 */
} fb_buf;

typedef struct {
    uint32_t pos;     /* table start */
    uint32_t vtable;  /* vtable start */
    uint16_t vsize;   /* vtable bytes */
    uint16_t tsize;   /* table inline bytes */
} fb_table;

typedef struct {
    uint32_t pos;     /* first element (0 when absent) */
    uint32_t count;
} fb_vec;

static inline bool fb_in(const fb_buf *b, uint32_t pos, uint32_t len) {
    return pos <= b->size && len <= b->size - pos;
}

static inline uint16_t fb_rd16(const fb_buf *b, uint32_t pos) {
    return (uint16_t)(b->base[pos] | (b->base[pos + 1] << 8));
}

static inline uint32_t fb_rd32(const fb_buf *b, uint32_t pos) {
    return (uint32_t)b->base[pos] | ((uint32_t)b->base[pos + 1] << 8) |
           ((uint32_t)b->base[pos + 2] << 16) | ((uint32_t)b->base[pos + 3] << 24);
}

static inline uint64_t fb_rd64(const fb_buf *b, uint32_t pos) {
    return (uint64_t)fb_rd32(b, pos) | ((uint64_t)fb_rd32(b, pos + 4) << 32);
}

static inline float fb_rdf32(const fb_buf *b, uint32_t pos) {
    uint32_t u = fb_rd32(b, pos);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

bool fb_table_at(const fb_buf *b, uint32_t pos, fb_table *t);
bool fb_root(const fb_buf *b, fb_table *root);

/* Position of a field of `size` bytes, 0 if absent; false if it is out of bounds. */
bool fb_field(const fb_buf *b, const fb_table *t, unsigned field, unsigned size, uint32_t *pos);

/* Scalars: absent fields give `def`. */
bool fb_u8(const fb_buf *b, const fb_table *t, unsigned field, uint8_t def, uint8_t *out);
bool fb_i32(const fb_buf *b, const fb_table *t, unsigned field, int32_t def, int32_t *out);
bool fb_u32(const fb_buf *b, const fb_table *t, unsigned field, uint32_t def, uint32_t *out);

/* Sub-table; *present is false (and the call succeeds) when absent. */
bool fb_subtable(const fb_buf *b, const fb_table *t, unsigned field, fb_table *out, bool *present);

/*
 * Vector of `elem_size`-byte elements (a power of two; 4 for offsets to tables or strings).
 * Absent: count 0. Elements of 2 or 4 bytes must be aligned to their size in
 * memory so kernels may read them through typed pointers; 8-byte elements are
 * read with fb_rd64.
 */
bool fb_vector(const fb_buf *b, const fb_table *t, unsigned field, uint32_t elem_size, fb_vec *out);

/* Element i of a vector of tables. */
bool fb_vector_table(const fb_buf *b, const fb_vec *v, uint32_t i, fb_table *out);

/* Length of the string at field (0 if absent); *pos gets its first byte. */
bool fb_string(const fb_buf *b, const fb_table *t, unsigned field, uint32_t *pos, uint32_t *len);

#endif
