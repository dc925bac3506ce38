#include "binenc.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

/* Avro float and double are little-endian IEEE 754; so is every host we build on. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");

/* --- writing ----------------------------------------------------------------------- */

void binenc_writer_fail(binenc_writer_t *w, int err)
{
    if (!w->err)
        w->err = err;
}

int binenc_writer_end(binenc_writer_t *w)
{
    assert(w->err <= 0);
    if (w->err && w->out->len > w->start) {
        w->out->len = w->start;
        w->out->data[w->start] = 0;
    }
    return w->err;
}

void binenc_put_long(binenc_writer_t *w, int64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    /* zig-zag: sign bit to the bottom, so small magnitudes take few bytes */
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    binenc_put_raw(w, tmp, n);
}

void binenc_put_int(binenc_writer_t *w, int32_t v)
{
    binenc_put_long(w, v);
}

void binenc_put_bool(binenc_writer_t *w, bool v)
{
    uint8_t b = v ? 1 : 0;
    binenc_put_raw(w, &b, 1);
}

void binenc_put_float(binenc_writer_t *w, float v)
{
    binenc_put_raw(w, &v, sizeof v);
}

void binenc_put_double(binenc_writer_t *w, double v)
{
    binenc_put_raw(w, &v, sizeof v);
}

void binenc_put_bytes(binenc_writer_t *w, const void *data, size_t len)
{
    binenc_put_long(w, (int64_t)len);
    binenc_put_raw(w, data, len);
}

void binenc_put_string(binenc_writer_t *w, const char *s)
{
    if (!s) {
        binenc_writer_fail(w, -EINVAL);
        return;
    }
    binenc_put_bytes(w, s, strlen(s));
}

void binenc_put_opt_string(binenc_writer_t *w, const char *s)
{
    binenc_put_long(w, s ? 1 : 0);
    if (s)
        binenc_put_string(w, s);
}

void binenc_put_opt_long(binenc_writer_t *w, bool has, int64_t v)
{
    binenc_put_long(w, has ? 1 : 0);
    if (has)
        binenc_put_long(w, v);
}

void binenc_put_array_start(binenc_writer_t *w, size_t count)
{
    if (count)
        binenc_put_long(w, (int64_t)count);
}

void binenc_put_array_end(binenc_writer_t *w)
{
    binenc_put_long(w, 0);
}

void binenc_put_array(binenc_writer_t *w, const void *items, size_t count, size_t item_size,
                      void (*put_one)(binenc_writer_t *w, const void *item))
{
    binenc_put_array_start(w, count);
    for (size_t i = 0; i < count; i++)
        put_one(w, (const char *)items + i * item_size);
    binenc_put_array_end(w);
}

/* --- reading ----------------------------------------------------------------------- */

void binenc_reader_init(binenc_reader_t *r, const void *buf, size_t len)
{
    /* no arithmetic on a NULL buffer (len is 0 then) */
    r->pos = buf;
    r->end = buf ? r->pos + len : r->pos;
    r->err = 0;
    r->empty_items = 0;
}

static void fail_with(binenc_reader_t *r, int err)
{
    if (!r->err)
        r->err = err;
}

void binenc_fail(binenc_reader_t *r)
{
    fail_with(r, BINENC_CORRUPT);
}

void binenc_fail_truncated(binenc_reader_t *r)
{
    fail_with(r, BINENC_TRUNCATED);
}

int64_t binenc_get_varint(binenc_reader_t *r)
{
    if (r->err)
        return 0;
    const uint8_t *p = r->pos;
    uint64_t z = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p == r->end) {
            binenc_fail_truncated(r);
            return 0;
        }
        uint8_t b = *p++;
        /* the tenth byte may only carry the top bit of 64 (and so ends the varint) */
        if (i == 9 && b > 1)
            break;
        z |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            r->pos = p;
            return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        }
    }
    binenc_fail(r);
    return 0;
}

int32_t binenc_get_int(binenc_reader_t *r)
{
    return binenc_get_int_range(r, INT32_MIN, INT32_MAX);
}

int32_t binenc_get_int_range(binenc_reader_t *r, int32_t min, int32_t max)
{
    int64_t v = binenc_get_long(r);
    if (v < min || v > max) {
        binenc_fail(r);
        return 0;
    }
    return (int32_t)v;
}

bool binenc_get_bool(binenc_reader_t *r)
{
    const uint8_t *b = binenc_get_raw(r, 1);
    if (b && *b > 1)
        binenc_fail(r);
    return b && *b == 1;
}

float binenc_get_float(binenc_reader_t *r)
{
    float v = 0;
    const uint8_t *p = binenc_get_raw(r, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

double binenc_get_double(binenc_reader_t *r)
{
    double v = 0;
    const uint8_t *p = binenc_get_raw(r, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

char *binenc_get_string(binenc_reader_t *r)
{
    size_t len;
    const uint8_t *p = binenc_get_bytes(r, &len);
    if (!p)
        return NULL;
    if (memchr(p, 0, len)) {
        binenc_fail(r);
        return NULL;
    }
    char *s = malloc(len + 1);
    if (!s) {
        r->err = -ENOMEM;
        return NULL;
    }
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

char *binenc_get_opt_string(binenc_reader_t *r)
{
    if (binenc_get_union(r, 2) != 1)
        return NULL;
    return binenc_get_string(r);
}

bool binenc_get_opt_long(binenc_reader_t *r, int64_t *v)
{
    *v = 0;
    if (binenc_get_union(r, 2) != 1)
        return false;
    *v = binenc_get_long(r);
    return !r->err;
}

int binenc_get_union(binenc_reader_t *r, int branches)
{
    int64_t i = binenc_get_long(r);
    if (r->err)
        return -1;
    if (i < 0 || i >= branches) {
        binenc_fail(r);
        return -1;
    }
    return (int)i;
}

size_t binenc_get_block_min(binenc_reader_t *r, size_t item_min_bytes)
{
    int64_t n = binenc_get_long(r);
    if (r->err)
        return 0;
    if (n < 0) {
        /* a negative count is followed by the block's size in bytes */
        if (n == INT64_MIN) {
            binenc_fail(r);
            return 0;
        }
        n = -n;
        int64_t block_bytes = binenc_get_long(r);
        if (!r->err && block_bytes < 0)
            binenc_fail(r);
        if (r->err)
            return 0;
    }
    if (item_min_bytes) {
        if ((uint64_t)n > binenc_left(r) / item_min_bytes) {
            binenc_fail_truncated(r);
            return 0;
        }
    } else {
        if ((uint64_t)n > BINENC_MAX_EMPTY_ITEMS - r->empty_items) {
            binenc_fail(r);
            return 0;
        }
        r->empty_items += (uint32_t)n;
    }
    return (size_t)n;
}

size_t binenc_get_block(binenc_reader_t *r)
{
    return binenc_get_block_min(r, 1);
}

void binenc_get_array(binenc_reader_t *r, void **items, size_t *count, size_t item_size,
                      void (*read_one)(binenc_reader_t *r, void *item))
{
    assert(item_size > 0);
    size_t cap = *count;
    for (size_t n = binenc_get_block(r); n && !r->err; n = binenc_get_block(r)) {
        char *grown = vec_grow(*items, &cap, *count + n, item_size);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        *items = grown;
        memset(grown + *count * item_size, 0, n * item_size);
        for (size_t i = 0; i < n && !r->err; i++)
            read_one(r, grown + (*count)++ * item_size);
    }
}

bool binenc_reader_done(const binenc_reader_t *r)
{
    return !r->err && r->pos == r->end;
}

int binenc_reader_end(const binenc_reader_t *r)
{
    if (r->err < 0)
        return r->err;
    return binenc_reader_done(r) ? 0 : BINENC_CORRUPT;
}
