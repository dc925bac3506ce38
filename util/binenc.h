/* Avro binary primitives, written by hand so processors/ needs no Avro headers.
 *
 * Internal to processors/: the state serialisers of every stage use it.  Both sides
 * keep a sticky error so an encoder or decoder reads as a straight list of fields:
 * after the first failure every put is a no-op and every get yields 0 / NULL, and the
 * caller checks .err once at the end (and before trusting a count it allocates for).
 *
 * Encoding (Avro 1.11 spec, "Binary encoding"): int and long as zig-zag varints,
 * boolean one byte 0/1, double 8 bytes little-endian IEEE 754, bytes and string a
 * long length then the bytes, union the branch index as a long then the value,
 * array blocks of (long count, items) ended by a 0 count. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Positive error of a reader: the bytes are not what the caller expects (a length
 * past the end, a value out of range).  The state decoders report it as their own
 * HF_STATE_CORRUPT, which is this value. */
#define BINENC_CORRUPT 1

typedef struct binenc_writer {
    hf_buf_t *out;
    int err; /* 0 or -ENOMEM */
} binenc_writer_t;

#define BINENC_WRITER(buf)                                                                         \
    {                                                                                              \
        (buf), 0                                                                                   \
    }

void binenc_put_long(binenc_writer_t *w, int64_t v);
void binenc_put_int(binenc_writer_t *w, int32_t v);
void binenc_put_bool(binenc_writer_t *w, bool v);
void binenc_put_double(binenc_writer_t *w, double v);
void binenc_put_bytes(binenc_writer_t *w, const void *data, size_t len);
void binenc_put_string(binenc_writer_t *w, const char *s);
/* ["null", "string"]: NULL writes the null branch. */
void binenc_put_opt_string(binenc_writer_t *w, const char *s);
/* ["null", "long"]. */
void binenc_put_opt_long(binenc_writer_t *w, bool has, int64_t v);
/* An array of @count items: call binenc_put_array_start(), write the items, then
 * binenc_put_array_end(). */
void binenc_put_array_start(binenc_writer_t *w, size_t count);
void binenc_put_array_end(binenc_writer_t *w);

typedef struct binenc_reader {
    const uint8_t *pos;
    const uint8_t *end;
    int err; /* 0, -ENOMEM or BINENC_CORRUPT */
} binenc_reader_t;

void binenc_reader_init(binenc_reader_t *r, const void *buf, size_t len);

/* Marks the input corrupt (a value out of its allowed range). */
void binenc_fail(binenc_reader_t *r);

int64_t binenc_get_long(binenc_reader_t *r);
/* A long that must fit in int32 (Avro int). */
int32_t binenc_get_int(binenc_reader_t *r);
/* An int that must lie in [@min, @max]. */
int32_t binenc_get_int_range(binenc_reader_t *r, int32_t min, int32_t max);
bool binenc_get_bool(binenc_reader_t *r);
double binenc_get_double(binenc_reader_t *r);
/* Borrowed view of a bytes value, pointing into the input. */
const uint8_t *binenc_get_bytes(binenc_reader_t *r, size_t *len);
/* A string copied into a new NUL-terminated allocation owned by the caller (free()).
 * Strings with an embedded NUL are corrupt.  NULL on failure. */
char *binenc_get_string(binenc_reader_t *r);
/* ["null", "string"]: NULL for the null branch (check r->err to tell failures). */
char *binenc_get_opt_string(binenc_reader_t *r);
/* ["null", "long"]: returns whether the value is present. */
bool binenc_get_opt_long(binenc_reader_t *r, int64_t *v);
/* A union branch index that must be < @branches. */
int binenc_get_union(binenc_reader_t *r, int branches);
/* Count of the next array block (0 = end of array).  Counts larger than the bytes
 * left (every item of our arrays takes at least one byte) are corrupt, so a caller
 * may allocate for the count. */
size_t binenc_get_block(binenc_reader_t *r);
/* True when every byte was consumed and nothing failed. */
bool binenc_reader_done(const binenc_reader_t *r);
