/* handoffctl's JSON output: string literals from any bytes, and JSON values passed
 * through checked and compacted, so that every line it prints is one valid JSON
 * object whatever the records hold. */
#pragma once

#include <stddef.h>

#include "util/buf.h"

/* Appends to @out a JSON string literal of the @len bytes at @s.  Well-formed UTF-8
 * is kept as it is (ids and names in any script stay readable); control characters,
 * DEL and every byte that is not part of well-formed UTF-8 are escaped, the latter
 * as the code point of the byte's value (as Avro's JSON encoding writes bytes). */
void hfctl_json_string(hf_buf_t *out, const char *s, size_t len);

/* Appends the JSON value (RFC 8259) of @len bytes at @data to @out without the
 * whitespace between tokens.  Returns 0, or -EINVAL with *at the offset of the
 * first byte that is not JSON (@out unchanged). */
int hfctl_json_compact(hf_buf_t *out, const void *data, size_t len, size_t *at);
