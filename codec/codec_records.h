/* Framed records (internal to codec/): a struct written as a single-object record or
 * a JSON object, a body read into its struct, any body rendered as JSON.  Each works
 * on one schema of the registry and its plan. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec_plan.h"
#include "codec_registry.h"

/* Appends @record (the struct of @s's table) to @out as one framed record: Avro
 * single-object encoding, or, when @scratch is given, one JSON object (rendered from
 * the body written into @scratch first).  With @check_text strings must be UTF-8.
 * Returns 0 or -EINVAL (a required field NULL, an enum out of range, text not UTF-8)
 * / -ENOMEM; on failure @out keeps its length. */
int codec_records_encode(const codec_schema_t *s, const void *record, bool check_text,
                         hf_buf_t *scratch, hf_buf_t *out);

/* Decodes the input record @buf (@len bytes, framed under @s, an input schema) into
 * @ev, zeroed by the caller; strings go to env->strings, which is reserved here.
 * Returns 0, a positive codec error, or -errno, with the reason in @err; on failure
 * @ev is zeroed. */
int codec_records_decode_input(const codec_schema_t *s, const uint8_t *buf, size_t len,
                               const codec_decode_env_t *env, hf_event_t *ev, char *err,
                               size_t errsz);

/* Decodes the record between stages @buf (@len bytes, framed under @s) into @out;
 * strings go to @strings, reserved here.  Returns 0, a positive codec error or
 * -ENOMEM, with the reason in @err; on failure @out is zeroed. */
int codec_records_decode_internal(const codec_schema_t *s, const uint8_t *buf, size_t len,
                                  hf_buf_t *strings, hf_internal_t *out, char *err, size_t errsz);

/* Appends the body @body (@len bytes) of schema @s as JSON.  Returns 0, a positive
 * codec error or -ENOMEM, with the reason in @err; on failure @json is as it was. */
int codec_records_to_json(const codec_schema_t *s, const uint8_t *body, size_t len, hf_buf_t *json,
                          char *err, size_t errsz);
