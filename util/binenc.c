#include "binenc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void put_raw(binenc_writer_t *w, const void *data, size_t len)
{
    if (w->err)
        return;
    int r = hf_buf_append(w->out, data, len);
    if (r < 0)
        w->err = r;
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
    put_raw(w, tmp, n);
}

void binenc_put_int(binenc_writer_t *w, int32_t v)
{
    binenc_put_long(w, v);
}

void binenc_put_bool(binenc_writer_t *w, bool v)
{
    uint8_t b = v ? 1 : 0;
    put_raw(w, &b, 1);
}

void binenc_put_double(binenc_writer_t *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(bits >> (8 * i));
    put_raw(w, tmp, sizeof tmp);
}

void binenc_put_bytes(binenc_writer_t *w, const void *data, size_t len)
{
    binenc_put_long(w, (int64_t)len);
    put_raw(w, data, len);
}

void binenc_put_string(binenc_writer_t *w, const char *s)
{
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

void binenc_reader_init(binenc_reader_t *r, const void *buf, size_t len)
{
    /* no arithmetic on a NULL buffer (len is 0 then) */
    r->pos = buf;
    r->end = buf ? r->pos + len : r->pos;
    r->err = 0;
}

void binenc_fail(binenc_reader_t *r)
{
    if (!r->err)
        r->err = BINENC_CORRUPT;
}

int64_t binenc_get_long(binenc_reader_t *r)
{
    if (r->err)
        return 0;
    uint64_t z = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->end)
            break;
        uint8_t b = *r->pos++;
        /* the tenth byte may only carry the top bit of 64 */
        if (shift == 63 && (b & 0xfe)) {
            binenc_fail(r);
            return 0;
        }
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
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
    if (r->err)
        return false;
    if (r->pos >= r->end || *r->pos > 1) {
        binenc_fail(r);
        return false;
    }
    return *r->pos++ == 1;
}

double binenc_get_double(binenc_reader_t *r)
{
    if (r->err)
        return 0;
    if (r->end - r->pos < 8) {
        binenc_fail(r);
        return 0;
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)r->pos[i] << (8 * i);
    r->pos += 8;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

const uint8_t *binenc_get_bytes(binenc_reader_t *r, size_t *len)
{
    *len = 0;
    int64_t n = binenc_get_long(r);
    if (r->err)
        return NULL;
    if (n < 0 || n > r->end - r->pos) {
        binenc_fail(r);
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += n;
    *len = (size_t)n;
    return p;
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

size_t binenc_get_block(binenc_reader_t *r)
{
    int64_t n = binenc_get_long(r);
    if (r->err)
        return 0;
    if (n < 0) {
        /* a negative count is followed by the block's size in bytes */
        (void)binenc_get_long(r);
        if (r->err || n == INT64_MIN) {
            binenc_fail(r);
            return 0;
        }
        n = -n;
    }
    if (n > r->end - r->pos) {
        binenc_fail(r);
        return 0;
    }
    return (size_t)n;
}

bool binenc_reader_done(const binenc_reader_t *r)
{
    return !r->err && r->pos == r->end;
}
