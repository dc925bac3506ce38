/* One value of any schema walked through its bytes (internal to codec/): every
 * length checked against the bytes that are left, enum and union indexes against
 * the schema, nesting and zero-byte items bounded.  Skipped (a field the reader does
 * not have), or rendered as Avro's JSON encoding, where strings must also be UTF-8
 * without NUL. */
#pragma once

#include <avro.h>

#include "util/binenc.h"
#include "util/buf.h"

/* Reads past one value of @schema, @depth levels down.  Returns 0 or a positive codec
 * error; @what then says why in a few words when there is more to say than that the
 * value is cut short or malformed (NULL otherwise). */
int codec_walk_skip(binenc_reader_t *r, avro_schema_t schema, int depth, const char **what);

/* Appends one value of @schema as JSON on one line.  Returns 0, a positive codec
 * error with the reason in @err (no data), or -ENOMEM; on failure @out is as it was. */
int codec_walk_json(binenc_reader_t *r, avro_schema_t schema, hf_buf_t *out, char *err,
                    size_t errsz);
