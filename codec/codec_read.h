/* Internals shared by the codec's files (not for use outside codec/codec*.c).
 *
 *   codec.c         handle, schema registry, framing, e-mail hashing, public API
 *   codec_decode.c  input records -> hf_event_t: a decode plan per writer schema
 *   codec_value.c   Avro generic values: checked binary reader (for JSON) and the
 *                   encoders' fill functions
 *   codec_pcf.c     Parsing Canonical Form and CRC-64-AVRO
 *
 * Why the codec reads Avro binary itself instead of calling avro_value_read():
 * Avro-C 1.11's reader allocates every string twice per record, allocates whatever
 * length a record claims before checking that the bytes exist (a 5-byte record can
 * ask for a terabyte), and does not range-check enum indexes.  Its resolved writer
 * (avro_resolved_writer_new) refuses any reader field the writer lacks ("Reader field
 * country doesn't appear in writer": defaults are not implemented), which is exactly
 * the schema evolution the codec must support.  So Avro-C parses the schemas and
 * writes and renders values; the untrusted bytes go through the checked readers here. */
#pragma once

#include <avro.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "codec_schemas.h"

/* A nesting depth no schema of ours comes near; it bounds recursion on hostile
 * input of recursive schemas. */
#define CODEC_MAX_DEPTH 32

/* Items of zero encoded bytes (null, empty records) one body may claim; every other
 * item costs at least a byte, so the body length bounds those. */
#define CODEC_MAX_EMPTY_ITEMS 65536u

/* --- records between stages (codec_records.c) -------------------------------- */

typedef struct codec_records codec_records_t;
void codec_records_free(codec_records_t *r);
/* The codec's slot for that state (created on first use by codec_records.c). */
codec_records_t **codec_records_slot(codec_t *c);
/* The record name of a framed internal record ("MemberUpdate", ...), or NULL. */
const char *codec_frame_internal(codec_t *c, const void *buf, size_t len);

/* --- reading Avro binary ------------------------------------------------------ */

typedef struct codec_cursor {
    const uint8_t *p;
    const uint8_t *end;
    uint32_t empty_items; /* zero-byte array/map items read so far */
} codec_cursor_t;

static inline size_t codec_cursor_left(const codec_cursor_t *cur)
{
    return (size_t)(cur->end - cur->p);
}

/* Avro long: zig-zag varint of at most 10 bytes.  0, CODEC_E_TRUNCATED or
 * CODEC_E_INVALID (an 11th byte or bits beyond 64). */
static inline int codec_read_long(codec_cursor_t *cur, int64_t *out)
{
    const uint8_t *p = cur->p;
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p == cur->end)
            return CODEC_E_TRUNCATED;
        uint8_t b = *p++;
        if (i == 9 && b > 1)
            return CODEC_E_INVALID;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            cur->p = p;
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return CODEC_E_INVALID;
}

/* Avro int: a long in int32 range. */
static inline int codec_read_int(codec_cursor_t *cur, int32_t *out)
{
    int64_t v;
    int r = codec_read_long(cur, &v);
    if (r)
        return r;
    if (v < INT32_MIN || v > INT32_MAX)
        return CODEC_E_INVALID;
    *out = (int32_t)v;
    return 0;
}

/* The length prefix of a string or bytes, checked against the bytes left:
 * negative -> INVALID, longer than the rest of the body -> TRUNCATED. */
static inline int codec_read_length(codec_cursor_t *cur, size_t *len)
{
    int64_t n;
    int r = codec_read_long(cur, &n);
    if (r)
        return r;
    if (n < 0)
        return CODEC_E_INVALID;
    if ((uint64_t)n > codec_cursor_left(cur))
        return CODEC_E_TRUNCATED;
    *len = (size_t)n;
    return 0;
}

/* Text checks of strings at the boundary: 0 = UTF-8 without NUL. */
enum codec_text {
    CODEC_TEXT_OK = 0,
    CODEC_TEXT_NUL,      /* an embedded NUL: C strings would silently cut it */
    CODEC_TEXT_NOT_UTF8, /* not UTF-8: JSON outputs and other readers reject it */
};
int codec_text_check(const uint8_t *s, size_t len);

/* An array or map block count.  A negative count is followed by the block's byte
 * size (read and ignored).  Checks that @item_min_bytes * count bytes can exist;
 * counts zero-byte items against CODEC_MAX_EMPTY_ITEMS.  Returns 0 or a codec error. */
int codec_read_block_count(codec_cursor_t *cur, size_t item_min_bytes, uint64_t *count);

/* The fewest bytes a value of @schema can take (0 for null and empty records). */
size_t codec_schema_min_bytes(avro_schema_t schema, int depth);

/* Skips one value of @schema, checking it as it goes.  0 or a codec error, with a
 * short description (no data) in @what. */
int codec_skip_value(codec_cursor_t *cur, avro_schema_t schema, int depth, const char **what);

/* --- codec_decode.c: input records -> hf_event_t ------------------------------ */

/* Where each field of an input record lives in hf_event_t: one declarative table
 * per record, used by the decoder and by codec_encode_input().  codec_new() checks
 * every table against the current schema, field for field. */
typedef enum codec_slot_type {
    CODEC_SLOT_STR,     /* const char *; NULL = null */
    CODEC_SLOT_EMAIL,   /* traits.email: decoded into email_domain and email_hash */
    CODEC_SLOT_I32,     /* int32_t */
    CODEC_SLOT_OPT_I32, /* int32_t, with a bool at .aux saying it is present */
    CODEC_SLOT_I64,     /* int64_t (also takes an int writer field) */
    CODEC_SLOT_ENUM,    /* a C enum whose values are the Avro symbols; .aux = count */
    CODEC_SLOT_STRS,    /* const char *const *, with its size_t count at .aux */
    CODEC_SLOT_TRAITS,  /* hf_traits_t; .aux = its bool present */
} codec_slot_type_t;

typedef struct codec_slot {
    const char *name; /* Avro field name */
    codec_slot_type_t type;
    uint16_t offset; /* in hf_event_t, or in hf_traits_t for the Traits fields */
    uint16_t aux;
} codec_slot_t;

/* The table of an input kind (@count entries), or of Traits (kind = HF_EV__COUNT). */
const codec_slot_t *codec_slots(hf_event_kind_t kind, size_t *count);

typedef struct codec_plan codec_plan_t;

/* What the decoder needs from its caller besides the bytes. */
typedef struct codec_decode_env {
    uint32_t max_field_bytes;
    uint32_t max_tags;
    hf_buf_t *strings;  /* arena for the event's strings; reserved by the caller */
    const char ***tags; /* codec-owned array of tag pointers, grown as needed */
    size_t *tags_cap;
    /* Turns a trimmed, lower-cased e-mail address into the hex hash (33 bytes with
     * NUL) at @hex_out.  Returns 0 or -errno. */
    int (*email_hash)(void *opaque, const uint8_t *addr, size_t len, char *hex_out);
    void *email_opaque;
    hf_buf_t *scratch; /* holds the normalised address while it is hashed; wiped */
} codec_decode_env_t;

/* The record names of the input kinds, in hf_event_kind_t order. */
const char *codec_input_record_name(hf_event_kind_t kind);

/* Builds the plan that reads bodies written with @writer into events of @kind whose
 * current (reader) schema is @reader.  Fails with a message when the writer cannot
 * be resolved to the reader (a field without a null default missing, types that do
 * not match).  Returns 0 or -errno / -EINVAL. */
int codec_plan_new(codec_plan_t **out, hf_event_kind_t kind, avro_schema_t writer,
                   avro_schema_t reader, char *err, size_t errsz);
void codec_plan_free(codec_plan_t *plan);

/* Decodes one body.  @ev must be zeroed by the caller.  Returns 0 or a positive
 * codec error with the reason in @err. */
int codec_plan_run(const codec_plan_t *plan, codec_cursor_t *cur, const codec_decode_env_t *env,
                   hf_event_t *ev, char *err, size_t errsz);

/* Appends the Avro binary body of @ev to @out with the plan of its current schema
 * (writer = reader): the fast path of codec_encode_input().  Returns 0 or -EINVAL
 * (a required field is NULL, an enum out of range, text not UTF-8) / -ENOMEM; on
 * failure @out may hold part of the body (the caller cuts it off). */
int codec_plan_encode(const codec_plan_t *plan, const hf_event_t *ev, hf_buf_t *out);

/* --- codec_value.c: Avro generic values --------------------------------------- */

/* Reads one body into @value (any schema), checking everything; strings must be
 * UTF-8 without NUL.  Returns 0 or a positive codec error with @err. */
int codec_value_read(codec_cursor_t *cur, avro_value_t *value, char *err, size_t errsz);

/* Appends @value in Avro's JSON encoding, on one line.  Returns 0 or -EINVAL /
 * -ENOMEM; on failure @out is as it was. */
int codec_value_to_json(const avro_value_t *value, hf_buf_t *out);

/* Encoders' fill functions: write the record into @value (of the record's current
 * schema), which they reset first.  Return 0 or -EINVAL (a required field is NULL,
 * an enum out of range, a string that is not UTF-8) / -ENOMEM. */
int codec_value_fill_event(avro_value_t *value, const hf_event_t *ev);
int codec_value_fill_handoff(avro_value_t *value, const hf_handoff_t *h);
int codec_value_fill_lifecycle(avro_value_t *value, const hf_lifecycle_t *lc);
int codec_value_fill_dead_letter(avro_value_t *value, const hf_dead_letter_t *dl);
int codec_value_fill_breach(avro_value_t *value, const hf_breach_t *b);

/* --- codec_pcf.c -------------------------------------------------------------- */

/* Appends the Parsing Canonical Form of @schema to @out.  Returns 0 or -ENOMEM /
 * -EINVAL. */
int codec_pcf_append(hf_buf_t *out, avro_schema_t schema);

/* --- formatting ---------------------------------------------------------------- */

/* snprintf into @err and return @code (for one-line error returns). */
int codec_fail(int code, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
