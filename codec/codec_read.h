/* The codec's bottom layer: what every reader of untrusted Avro binary shares (the
 * codec's positive results for util/binenc.h's errors, text checks, the fewest bytes
 * a value takes) and the one-line error return.  Internal to codec/.
 *
 * How the codec is layered, each file calling only the ones above it:
 *
 *   codec_read.c      checked reads, text checks, schema sizes (this file)
 *   codec_pcf.c       Parsing Canonical Form and CRC-64-AVRO
 *   codec_json.c      JSON text: strings, bytes, numbers
 *   codec_walk.c      a value walked by its schema: checked and skipped, or as JSON
 *   codec_tables.c    where each field of each record lives in its C struct
 *   codec_plan.c      a table compiled against a writer and a reader schema
 *   codec_plan_run.c  plans run: a body into its struct, a struct into a body
 *   codec_registry.c  the embedded schemas, their fingerprints and plans; framing
 *   codec_records.c   framed records: encoders (Avro or JSON), decoders, JSON
 *   codec.c           the handle and codec/codec.h's functions
 *
 * Why the codec reads Avro binary itself instead of calling avro_value_read():
 * Avro-C 1.11's reader allocates every string twice per record, allocates whatever
 * length a record claims before checking that the bytes exist (a 5-byte record can
 * ask for a terabyte), and does not range-check enum indexes.  Its resolved writer
 * (avro_resolved_writer_new) refuses any reader field the writer lacks ("Reader field
 * country doesn't appear in writer": defaults are not implemented), which is exactly
 * the schema evolution the codec must support.  So Avro-C parses the schemas; bytes
 * are written and read by util/binenc.h under the plans of codec_plan.c. */
#pragma once

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "util/binenc.h"

/* A nesting depth no schema of ours comes near; it bounds recursion on hostile
 * input of recursive schemas. */
#define CODEC_MAX_DEPTH 32

/* The codec's result for the state of reader @r: 0, CODEC_E_TRUNCATED for a body
 * that ends inside a value, CODEC_E_INVALID for one no writer writes, or -ENOMEM. */
static inline int codec_read_status(const binenc_reader_t *r)
{
    switch (r->err) {
    case 0:
        return 0;
    case BINENC_TRUNCATED:
        return CODEC_E_TRUNCATED;
    case BINENC_CORRUPT:
        return CODEC_E_INVALID;
    default:
        return r->err;
    }
}

/* Text checks of strings at the boundary: 0 = UTF-8 without NUL. */
enum codec_text {
    CODEC_TEXT_OK = 0,
    CODEC_TEXT_NUL,      /* an embedded NUL: C strings would silently cut it */
    CODEC_TEXT_NOT_UTF8, /* not UTF-8: JSON outputs and other readers reject it */
};
int codec_text_check(const uint8_t *s, size_t len);

/* @s, or the schema a link names. */
avro_schema_t codec_schema_deref(avro_schema_t s);

/* The fewest bytes a value of @schema can take (0 for null and empty records). */
size_t codec_schema_min_bytes(avro_schema_t schema, int depth);

/* snprintf into @err (when not NULL) and return @code (for one-line error returns). */
int codec_fail(int code, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
