/* Parsing Canonical Form of a schema (internal to codec/); its CRC-64-AVRO
 * fingerprint is codec_crc64_avro() of codec/codec.h. */
#pragma once

#include <avro.h>

#include "util/buf.h"

/* Appends the Parsing Canonical Form of @schema to @out.  Returns 0 or -ENOMEM /
 * -EINVAL. */
int codec_pcf_append(hf_buf_t *out, avro_schema_t schema);
