/* The schemas a codec knows (internal to codec/): every schema embedded at build time
 * (codec_schemas.h), parsed, fingerprinted, and compiled into the plan of its table;
 * and the single-object framing that names one of them. */
#pragma once

#include <avro.h>
#include <stdint.h>

#include "codec.h"
#include "codec_plan.h"
#include "codec_schemas.h"

/* C3 01 and the 8-byte little-endian fingerprint. */
#define CODEC_HEADER_BYTES 10

typedef struct codec_schema {
    const codec_schema_src_t *src;
    avro_schema_t schema;
    uint64_t fingerprint;
    int kind;          /* input records (current and history): hf_event_kind_t; else -1 */
    int internal_kind; /* records between stages: codec_internal_kind_t; else -1 */
    /* inputs: body (of this writer schema) -> hf_event_t, and back for the current one;
     * outputs and records between stages: their struct <-> body; state: NULL */
    codec_plan_t *plan;
} codec_schema_t;

/* The outputs, in the order of codec_registry_t.output. */
typedef enum codec_output {
    CODEC_OUTPUT_HANDOFF = 0, /* ConversationReady */
    CODEC_OUTPUT_LIFECYCLE,   /* LifecycleChange */
    CODEC_OUTPUT_DEAD_LETTER, /* DeadLetter */
    CODEC_OUTPUT_BREACH,      /* SlaBreach */
    CODEC_OUTPUT_DIGEST,      /* Digest */
    CODEC_OUTPUT__COUNT
} codec_output_t;

typedef struct codec_registry {
    codec_schema_t *schemas;
    size_t count;
    codec_schema_t *input[HF_EV__COUNT]; /* current schema of each input kind */
    codec_schema_t *output[CODEC_OUTPUT__COUNT];
    codec_schema_t *internal[CODEC_INTERNAL_KINDS];
} codec_registry_t;

/* Parses every embedded schema and builds its plan.  Returns 0, or -ENOMEM / -EINVAL
 * with a message in @err (a schema that does not parse, two with one fingerprint, a
 * table that does not match its schema, a history schema that does not resolve).
 * On failure, codec_registry_free() releases what was built. */
int codec_registry_load(codec_registry_t *reg, char *err, size_t errsz);
void codec_registry_free(codec_registry_t *reg);

/* The schema a framed record names.  Returns 0, or CODEC_E_FRAMING /
 * CODEC_E_UNKNOWN_SCHEMA with a message in @err (when not NULL). */
int codec_registry_frame(const codec_registry_t *reg, const uint8_t *buf, size_t len,
                         codec_schema_t **out, char *err, size_t errsz);

/* The current schema of record @name, short ("ContactState") or full
 * ("handoff.v1.state.ContactState"), or NULL. */
codec_schema_t *codec_registry_find(const codec_registry_t *reg, const char *name);

/* Writes the single-object header of @s. */
void codec_registry_header(const codec_schema_t *s, uint8_t header[CODEC_HEADER_BYTES]);
