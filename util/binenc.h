/* Avro binary, written and read by hand: the one encoding layer of every record the
 * program keeps or sends (states in processors/, records between stages and outputs
 * in codec/).  Pure: no Avro headers, no I/O.
 *
 * Both sides keep a sticky error so an encoder or decoder reads as a straight list of
 * fields: after the first failure every put is a no-op and every get yields 0 / NULL,
 * and the caller checks .err once at the end (and before trusting a count it
 * allocates for).
 *
 * The reader trusts nothing: every length and count is checked against the bytes
 * that are left before anything is copied or allocated, varints longer than a long
 * are refused, and it tells a body that ends too soon (BINENC_TRUNCATED) from one
 * that holds a value no writer writes (BINENC_CORRUPT).
 *
 * Encoding (Avro 1.11 spec, "Binary encoding"): int and long as zig-zag varints,
 * boolean one byte 0/1, float and double 4 and 8 bytes little-endian IEEE 754, bytes
 * and string a long length then the bytes, union the branch index as a long then the
 * value, array blocks of (long count, items) ended by a 0 count; a negative count is
 * followed by the block's size in bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

/* Positive errors of a reader, numbered from the state decoders' base: the bytes are
 * not what the caller expects (a value out of range, a negative length, a varint
 * past 64 bits), or they end inside a value.  The state decoders report either as
 * HF_STATE_CORRUPT, which is BINENC_CORRUPT. */
#define BINENC_CORRUPT (HF_RESULT_BASE_STATE + 1)
#define BINENC_TRUNCATED (HF_RESULT_BASE_STATE + 2)

/* Items that take no bytes (nulls, empty records) one reader may count: every other
 * item costs at least a byte, so the input's length bounds those. */
#define BINENC_MAX_EMPTY_ITEMS 65536u

/* --- writing ----------------------------------------------------------------------- */

typedef struct binenc_writer {
    hf_buf_t *out;
    int err;      /* 0, -ENOMEM, or -EINVAL (a required string was NULL) */
    size_t start; /* out->len when the writer was made; binenc_writer_end() cuts back */
} binenc_writer_t;

#define BINENC_WRITER(buf)                                                                         \
    {                                                                                              \
        (buf), 0, (buf)->len                                                                       \
    }

/* Records @err (a negative errno) unless an error is already recorded. */
void binenc_writer_fail(binenc_writer_t *w, int err);
/* The writer's error, after cutting @out back to where the writer started when there
 * is one: an encoder that fails leaves nothing half-written. */
int binenc_writer_end(binenc_writer_t *w);

/* Bytes as they are (a header, a fixed value). */
static inline void binenc_put_raw(binenc_writer_t *w, const void *data, size_t len)
{
    if (w->err)
        return;
    int r = hf_buf_append(w->out, data, len);
    if (r < 0)
        w->err = r;
}
void binenc_put_long(binenc_writer_t *w, int64_t v);
void binenc_put_int(binenc_writer_t *w, int32_t v);
void binenc_put_bool(binenc_writer_t *w, bool v);
void binenc_put_float(binenc_writer_t *w, float v);
void binenc_put_double(binenc_writer_t *w, double v);
void binenc_put_bytes(binenc_writer_t *w, const void *data, size_t len);
/* A required string: NULL is the caller's bug, recorded as -EINVAL. */
void binenc_put_string(binenc_writer_t *w, const char *s);
/* ["null", "string"]: NULL writes the null branch. */
void binenc_put_opt_string(binenc_writer_t *w, const char *s);
/* ["null", "long"]. */
void binenc_put_opt_long(binenc_writer_t *w, bool has, int64_t v);
/* An array of @count items: call binenc_put_array_start(), write the items, then
 * binenc_put_array_end() (one block, then the end marker). */
void binenc_put_array_start(binenc_writer_t *w, size_t count);
void binenc_put_array_end(binenc_writer_t *w);
/* The same for @count items of @item_size bytes at @items, @put_one writing one: the
 * writing side of binenc_get_array(). */
void binenc_put_array(binenc_writer_t *w, const void *items, size_t count, size_t item_size,
                      void (*put_one)(binenc_writer_t *w, const void *item));

/* --- reading ----------------------------------------------------------------------- */

typedef struct binenc_reader {
    const uint8_t *pos;
    const uint8_t *end;
    int err;              /* 0, -ENOMEM, BINENC_CORRUPT or BINENC_TRUNCATED */
    uint32_t empty_items; /* zero-byte array items counted so far */
} binenc_reader_t;

void binenc_reader_init(binenc_reader_t *r, const void *buf, size_t len);

/* Marks the input corrupt (a value out of its allowed range). */
void binenc_fail(binenc_reader_t *r);
/* Marks the input cut short (a value that goes past its end). */
void binenc_fail_truncated(binenc_reader_t *r);

static inline size_t binenc_left(const binenc_reader_t *r)
{
    return (size_t)(r->end - r->pos);
}

/* A zig-zag varint of at most 10 bytes whose tenth carries only the 64th bit. */
int64_t binenc_get_varint(binenc_reader_t *r);

/* binenc_get_varint(), with one-byte values (most lengths, counts, union branches and
 * enum indexes) read inline: decoders call this once or twice per field. */
static inline int64_t binenc_get_long(binenc_reader_t *r)
{
    if (r->pos < r->end && *r->pos < 0x80 && !r->err) {
        uint8_t b = *r->pos++;
        return (int64_t)(b >> 1) ^ -(int64_t)(b & 1);
    }
    return binenc_get_varint(r);
}
/* A long that must fit in int32 (Avro int). */
int32_t binenc_get_int(binenc_reader_t *r);
/* An int that must lie in [@min, @max]. */
int32_t binenc_get_int_range(binenc_reader_t *r, int32_t min, int32_t max);
bool binenc_get_bool(binenc_reader_t *r);
float binenc_get_float(binenc_reader_t *r);
double binenc_get_double(binenc_reader_t *r);
/* Borrowed view of the next @len bytes (a fixed value), or NULL. */
static inline const uint8_t *binenc_get_raw(binenc_reader_t *r, size_t len)
{
    if (r->err)
        return NULL;
    if (binenc_left(r) < len) {
        binenc_fail_truncated(r);
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += len;
    return p;
}

/* Borrowed view of a bytes or string value (its length prefix checked against the
 * bytes left), pointing into the input; NULL on failure. */
static inline const uint8_t *binenc_get_bytes(binenc_reader_t *r, size_t *len)
{
    int64_t n = binenc_get_long(r);
    *len = 0;
    if (r->err)
        return NULL;
    if (n < 0) {
        binenc_fail(r);
        return NULL;
    }
    const uint8_t *p = binenc_get_raw(r, (size_t)n);
    if (p)
        *len = (size_t)n;
    return p;
}
/* A string copied into a new NUL-terminated allocation owned by the caller (free()).
 * Strings with an embedded NUL are corrupt.  NULL on failure. */
char *binenc_get_string(binenc_reader_t *r);
/* ["null", "string"]: NULL for the null branch (check r->err to tell failures). */
char *binenc_get_opt_string(binenc_reader_t *r);
/* ["null", "long"]: returns whether the value is present. */
bool binenc_get_opt_long(binenc_reader_t *r, int64_t *v);
/* A union branch index that must be < @branches; -1 on failure. */
int binenc_get_union(binenc_reader_t *r, int branches);
/* Count of the next array or map block (0 = end of it), whose items take at least
 * @item_min_bytes each: a count those bytes cannot hold is truncated, so a caller may
 * allocate for it.  Items of no bytes count against BINENC_MAX_EMPTY_ITEMS. */
size_t binenc_get_block_min(binenc_reader_t *r, size_t item_min_bytes);
/* binenc_get_block_min() for items of at least one byte. */
size_t binenc_get_block(binenc_reader_t *r);
/* Reads an array of items of @item_size bytes into *@items / *@count (grown with
 * vec_grow; the caller owns and frees it), @read_one reading one.  New items are
 * zeroed and counted before they are read, so that a failure part-way leaves them
 * freeable.  Errors go to @r. */
void binenc_get_array(binenc_reader_t *r, void **items, size_t *count, size_t item_size,
                      void (*read_one)(binenc_reader_t *r, void *item));
/* True when every byte was consumed and nothing failed. */
bool binenc_reader_done(const binenc_reader_t *r);
/* What a decoder that read the whole input returns: 0 when it is done, the reader's
 * negative errno, or BINENC_CORRUPT (a failed read, or bytes left over). */
int binenc_reader_end(const binenc_reader_t *r);
