/* Plans: a record's table (codec_tables.h) compiled against the schema a body was
 * written with and the current schema of the record (internal to codec/).
 *
 * A plan is a flat list of operations, one per writer field in writer order, that
 * says how to read the field and where it lands in the record's struct.  Resolution
 * to the current (reader) schema happens while compiling, by field name as Avro's
 * rules say: a writer-only field becomes a checked skip, a reader-only field must
 * default to null (it stays NULL in the zeroed struct), int widens to long, enum
 * symbols map by name.  Running a plan is a loop over the operations: no lookups,
 * and no allocation once its arrays have grown to the records it sees.  A plan of a
 * current schema (writer = reader) also writes bodies: the encoders' only path. */
#pragma once

#include <avro.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec_tables.h"
#include "util/binenc.h"
#include "util/buf.h"

typedef struct codec_plan codec_plan_t;

/* What the decoder needs from its caller besides the bytes. */
typedef struct codec_decode_env {
    uint32_t max_field_bytes; /* any one string; 0 = no limit */
    uint32_t max_tags;        /* any array of strings; 0 = no limit */
    hf_buf_t *strings;        /* arena for the record's strings; reserved by the caller */
    /* Turns a trimmed, lower-cased e-mail address into the hex hash (33 bytes with
     * NUL) at @hex_out.  Returns 0 or -errno.  Only tables with an EMAIL slot call it. */
    int (*email_hash)(void *opaque, const uint8_t *addr, size_t len, char *hex_out);
    void *email_opaque;
    hf_buf_t *scratch; /* holds the normalised address while it is hashed; wiped */
} codec_decode_env_t;

/* Builds the plan that reads bodies written with @writer into structs of @table
 * whose current (reader) schema is @reader.  Fails with a message when the table
 * and the reader schema differ, or the writer cannot be resolved to the reader (a
 * field without a null default missing, types that do not match).  Returns 0 or
 * -ENOMEM / -EINVAL. */
int codec_plan_new(codec_plan_t **out, const codec_table_t *table, avro_schema_t writer,
                   avro_schema_t reader, char *err, size_t errsz);
void codec_plan_free(codec_plan_t *plan);

/* Decodes one body from @r into @record (a zeroed struct of the plan's table).
 * Arrays of items land in vectors the plan owns, valid until it runs again; strings
 * in env->strings.  Returns 0, a positive codec error with the reason in @err, or
 * -ENOMEM / the e-mail hash's -errno. */
int codec_plan_run(codec_plan_t *plan, binenc_reader_t *r, const codec_decode_env_t *env,
                   void *record, char *err, size_t errsz);

/* The field the last failed codec_plan_run() stopped at ("touches.at"), or NULL. */
const char *codec_plan_failed_field(const codec_plan_t *plan);

/* Appends the Avro binary body of @record to @w (writer = reader plans only).  With
 * @check_text, strings must be UTF-8 without NUL.  Returns 0 or -EINVAL (a required
 * field is NULL, an enum out of range, text not UTF-8) / -ENOMEM; on failure @w may
 * hold part of the body (binenc_writer_end() cuts it off). */
int codec_plan_encode(const codec_plan_t *plan, const void *record, bool check_text,
                      binenc_writer_t *w);
