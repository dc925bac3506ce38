/* The reference encoder of the codec's tests (see avro_oracle.c). */
#pragma once

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"
#include "codec/codec_schemas.h"

/* Fill @value (of the record's current schema), which they reset first.  Return 0 or
 * -EINVAL (a required field is NULL, an enum out of range, a string that is not
 * UTF-8) / -ENOMEM. */
int oracle_fill_event(avro_value_t *value, const hf_event_t *ev);
int oracle_fill_handoff(avro_value_t *value, const hf_handoff_t *h);
int oracle_fill_lifecycle(avro_value_t *value, const hf_lifecycle_t *lc);
int oracle_fill_dead_letter(avro_value_t *value, const hf_dead_letter_t *dl);
int oracle_fill_breach(avro_value_t *value, const hf_breach_t *b);
int oracle_fill_member_update(avro_value_t *value, const hf_member_update_t *u);
int oracle_fill_roster(avro_value_t *value, const char *contact_id, const hf_roster_t *ro);
int oracle_fill_merge_request(avro_value_t *value, const hf_merge_request_t *m);
int oracle_fill_merge_state(avro_value_t *value, const hf_merge_state_t *m);

/* The current schema of @record, parsed from the embedded table (the caller
 * decrefs).  0, -ENOENT or -EINVAL. */
int oracle_schema(const char *record, avro_schema_t *schema);

/* Avro-C's body of @value into @body (@cap bytes); its length in *@len. */
int oracle_write(avro_value_t *value, uint8_t *body, size_t cap, size_t *len);

/* A handoff with every field set, and nulls where the schema has them. */
hf_handoff_t oracle_sample_handoff(void);
