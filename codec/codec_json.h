/* Avro's JSON encoding, the text side (internal to codec/): what codec_walk.c writes
 * for each value.  The layout is Avro-C's ({"a": 1, "b": [2, 3]}), ASCII only.
 * Each function appends to @out and returns 0 or -ENOMEM (-EINVAL for a string
 * that is not the UTF-8 it was checked to be). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* A UTF-8 string (checked on the way in) as an ASCII JSON string. */
int codec_json_string(hf_buf_t *out, const char *s, size_t len);

/* Bytes and fixed: each byte is the code point of the same value (Avro spec). */
int codec_json_bytes(hf_buf_t *out, const uint8_t *p, size_t len);

/* The shortest decimal that reads back as the same float (@single) or double; JSON
 * has no NaN or infinity, so those are written as null. */
int codec_json_real(hf_buf_t *out, double v, bool single);
