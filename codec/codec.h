/* Avro codec: single-object encoded records (docs/CONTRACTS.md) <-> processor structs.
 *
 * Inputs arrive as `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the
 * writer schema's Parsing Canonical Form, then the Avro binary body.  The codec knows
 * the current schema of every record (schemas/<record>.avsc, embedded at build time) and
 * the older versions kept in schemas/history/; a body written with an older schema
 * is resolved to the current reader schema (new fields take their defaults).
 *
 * A plan that reads and writes bodies straight from and to the C structs is built
 * once per known fingerprint: nothing is allocated per record once
 * the codec is warm.
 *
 * Thread: a codec is used by one thread at a time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "processors/digest/digest.h"
#include "processors/model/event.h"
#include "processors/model/internal.h"
#include "processors/model/output.h"
#include "util/buf.h"
#include "util/result.h"

typedef struct codec codec_t;

typedef struct codec_opts {
    uint32_t max_record_bytes; /* whole framed record; 0 = no limit */
    uint32_t max_field_bytes;  /* any one string; 0 = no limit */
    uint32_t max_tags;         /* ContentDownload.tags; 0 = no limit */
    const uint8_t *email_key;  /* key of the e-mail hash (copied) */
    size_t email_key_len;
    hf_output_format_t output_format; /* encoders write Avro or JSON */
} codec_opts_t;

/* Positive results of the decoders, numbered from HF_RESULT_BASE_CODEC; the message
 * in @err says more. */
enum codec_error {
    CODEC_E_FRAMING = HF_RESULT_BASE_CODEC + 1, /* not single-object encoding (magic, length) */
    CODEC_E_UNKNOWN_SCHEMA,                     /* fingerprint of no schema this codec knows */
    CODEC_E_NOT_INPUT,                          /* a known schema, but not an input record */
    CODEC_E_TRUNCATED,                          /* body ends before the record does */
    CODEC_E_INVALID, /* body does not decode (bad enum, union index, trailing bytes) */
    CODEC_E_LIMIT,   /* over max_record_bytes / max_field_bytes / max_tags */
};

/* Short stable name of an error class ("framing", "unknown_schema", ...). */
const char *codec_error_name(int e);

/* Builds a codec.  Returns 0 and sets *out, or -errno with a message in @err. */
int codec_new(codec_t **out, const codec_opts_t *opts, char *err, size_t errsz);
void codec_free(codec_t *c);

/* Decodes one input record into @ev.  Strings in @ev belong to the codec and stay
 * valid until the next decode.  traits.email is never set: the decoder fills
 * email_domain and email_hash (HMAC-SHA256 under the codec's key, hex) instead.
 * Returns 0, or a positive enum codec_error with the reason in @err (the record
 * goes to the DLQ), or -ENOMEM (also described in @err).  On any failure @ev is
 * zeroed.  Messages name fields, never their contents. */
int codec_decode_input(codec_t *c, const void *buf, size_t len, hf_event_t *ev, char *err,
                       size_t errsz);

/* The record kind a framed record claims, from its fingerprint alone, or -1. */
int codec_peek_kind(codec_t *c, const void *buf, size_t len);

/* The event time (envelope occurred_at) of a framed input record, read without
 * decoding the rest.  0, or -1 when the record is not a readable input record. */
int codec_peek_time(codec_t *c, const void *buf, size_t len, int64_t *occurred_at_ms);

/* Encoders: append one framed record (single-object Avro, or one JSON object when
 * the codec was built with HF_OUTPUT_JSON) to @out.  Return 0 or -errno: -EINVAL
 * when a required field is NULL, an enum is out of range or text is not UTF-8; on
 * failure @out keeps its length. */
int codec_encode_input(codec_t *c, const hf_event_t *ev, hf_buf_t *out);
int codec_encode_handoff(codec_t *c, const hf_handoff_t *h, hf_buf_t *out);
int codec_encode_lifecycle(codec_t *c, const hf_lifecycle_t *lc, hf_buf_t *out);
int codec_encode_breach(codec_t *c, const hf_breach_t *b, hf_buf_t *out);
int codec_encode_dead_letter(codec_t *c, const hf_dead_letter_t *dl, hf_buf_t *out);
int codec_encode_digest(codec_t *c, const digest_out_t *d, hf_buf_t *out);

/* Any framed record of a known schema (input or output) as one line of JSON,
 * appended to @json.  Returns 0, or a positive enum codec_error with @err.
 * The JSON is Avro's JSON encoding, ASCII only, without a trailing newline. */
int codec_record_to_json(codec_t *c, const void *buf, size_t len, hf_buf_t *json, char *err,
                         size_t errsz);

/* --- records between stages (schemas/internal/, namespace handoff.v1.internal) ---
 * Framed like every other record.  They pass once per event between stages (in the
 * process too, queued as bytes), so they are written and read straight from and to
 * their structs, like the inputs: nothing allocated per record once warm; the reader is
 * bounds-checked (a broken one is dead-lettered, never crashes).  Their records are
 * hf_member_update_t, hf_roster_t (processors/model/output.h), hf_merge_request_t and
 * hf_merge_state_t (processors/model/internal.h). */

typedef enum codec_internal_kind {
    CODEC_INTERNAL_MEMBER_UPDATE = 0,
    CODEC_INTERNAL_ROSTER,
    CODEC_INTERNAL_MERGE_REQUEST,
    CODEC_INTERNAL_MERGE_STATE,
    CODEC_INTERNAL_CASE_UPDATE, /* a case's snapshot for its team's digest */
} codec_internal_kind_t;

typedef struct hf_internal {
    codec_internal_kind_t kind;
    hf_member_update_t member;     /* MEMBER_UPDATE */
    const char *roster_contact_id; /* ROSTER: the recipient */
    hf_roster_t roster;
    hf_merge_request_t merge_request;
    hf_merge_state_t merge_state;
    digest_update_t case_update; /* CASE_UPDATE */
} hf_internal_t;

/* The kind of a framed internal record (by fingerprint), or -1. */
int codec_internal_kind(codec_t *c, const void *buf, size_t len);

/* Decodes an internal record.  Strings and arrays belong to the codec until the next
 * codec_decode_internal() on it.  0, -ENOMEM, or a positive enum codec_error. */
int codec_decode_internal(codec_t *c, const void *buf, size_t len, hf_internal_t *out, char *err,
                          size_t errsz);

/* Encoders (append one framed record to @out): 0, -EINVAL (a required string is
 * NULL) or -ENOMEM; @out is unchanged on failure. */
int codec_encode_member_update(codec_t *c, const hf_member_update_t *u, hf_buf_t *out);
int codec_encode_roster(codec_t *c, const char *contact_id, const hf_roster_t *r, hf_buf_t *out);
int codec_encode_merge_request(codec_t *c, const hf_merge_request_t *m, hf_buf_t *out);
int codec_encode_merge_state(codec_t *c, const hf_merge_state_t *m, hf_buf_t *out);
int codec_encode_case_update(codec_t *c, const digest_update_t *u, hf_buf_t *out);

/* An unframed Avro binary body of the named schema (e.g. "ContactState", a state
 * record) as JSON appended to @json.  Returns 0, or a positive enum codec_error. */
int codec_body_to_json(codec_t *c, const char *record_name, const void *body, size_t len,
                       hf_buf_t *json, char *err, size_t errsz);

/* CRC-64-AVRO ("Rabin") fingerprint of @len bytes, as the Avro spec defines it. */
uint64_t codec_crc64_avro(const void *data, size_t len);

/* The fingerprint of the current schema of record @name ("WebVisit", ...), or 0. */
uint64_t codec_schema_fingerprint(const char *name);
