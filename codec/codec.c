/* The codec handle and the functions of codec/codec.h: each names its schema in the
 * registry and hands the record to codec_records.c.  The e-mail hash lives here: it
 * is the one secret a codec holds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The e-mail hash uses OpenSSL's SHA256_* functions, deprecated in 3.0 in favour of
 * EVP.  OpenSSL 3.0's EVP allocates on every digest or MAC initialisation, and the
 * decoder allocates nothing once warm; the plain SHA256_CTX states can be copied.
 * Asking for the 1.1.1 API keeps them without deprecation warnings. */
#define OPENSSL_API_COMPAT 10101
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "codec.h"
#include "codec_read.h"
#include "codec_records.h"
#include "codec_registry.h"

struct codec {
    uint32_t max_record_bytes;
    uint32_t max_field_bytes;
    uint32_t max_tags;
    hf_output_format_t output_format;

    /* HMAC-SHA256 under the e-mail key: SHA-256 states after the key block XOR
     * ipad and XOR opad (RFC 2104), copied for each address. */
    SHA256_CTX mac_inner;
    SHA256_CTX mac_outer;

    codec_registry_t reg;
    hf_buf_t strings;          /* the decoded event's strings */
    hf_buf_t internal_strings; /* the decoded record between stages' strings */
    hf_buf_t scratch;          /* a normalised e-mail address while it is hashed; wiped */
    hf_buf_t body;             /* a JSON output's Avro body */
};

const char *codec_error_name(int e)
{
    switch (e) {
    case 0:
        return "ok";
    case CODEC_E_FRAMING:
        return "framing";
    case CODEC_E_UNKNOWN_SCHEMA:
        return "unknown_schema";
    case CODEC_E_NOT_INPUT:
        return "not_input";
    case CODEC_E_TRUNCATED:
        return "truncated";
    case CODEC_E_INVALID:
        return "invalid";
    case CODEC_E_LIMIT:
        return "limit";
    default:
        return e < 0 ? "system" : "unknown";
    }
}

/* --- e-mail hash ------------------------------------------------------------------ */

static void mac_init(codec_t *c, const uint8_t *key, size_t key_len)
{
    uint8_t block[SHA256_CBLOCK] = {0};
    if (key_len > sizeof block)
        SHA256(key, key_len, block); /* long keys are hashed first */
    else if (key_len)
        memcpy(block, key, key_len);
    uint8_t pad[SHA256_CBLOCK];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = block[i] ^ 0x36;
    SHA256_Init(&c->mac_inner);
    SHA256_Update(&c->mac_inner, pad, sizeof pad);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&c->mac_outer);
    SHA256_Update(&c->mac_outer, pad, sizeof pad);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
}

static int email_hash(void *opaque, const uint8_t *addr, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    const codec_t *c = opaque;
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx = c->mac_inner;
    SHA256_Update(&ctx, addr, len);
    SHA256_Final(digest, &ctx);
    ctx = c->mac_outer;
    SHA256_Update(&ctx, digest, sizeof digest);
    SHA256_Final(digest, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    for (size_t i = 0; i < 16; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
    hex[32] = 0;
    return 0;
}

/* --- handle --------------------------------------------------------------------- */

void codec_free(codec_t *c)
{
    if (!c)
        return;
    codec_registry_free(&c->reg);
    OPENSSL_cleanse(&c->mac_inner, sizeof c->mac_inner);
    OPENSSL_cleanse(&c->mac_outer, sizeof c->mac_outer);
    hf_buf_free(&c->strings);
    hf_buf_free(&c->internal_strings);
    if (c->scratch.data)
        OPENSSL_cleanse(c->scratch.data, c->scratch.cap);
    hf_buf_free(&c->scratch);
    hf_buf_free(&c->body);
    free(c);
}

int codec_new(codec_t **out, const codec_opts_t *opts, char *err, size_t errsz)
{
    int r;
    codec_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    c->max_record_bytes = opts->max_record_bytes;
    c->max_field_bytes = opts->max_field_bytes;
    c->max_tags = opts->max_tags;
    c->output_format = opts->output_format;
    if (c->output_format != HF_OUTPUT_AVRO && c->output_format != HF_OUTPUT_JSON) {
        snprintf(err, errsz, "unknown output format %d", (int)c->output_format);
        r = -EINVAL;
        goto fail;
    }
    mac_init(c, opts->email_key, opts->email_key_len);
    if ((r = codec_registry_load(&c->reg, err, errsz))) {
        if (r == -ENOMEM)
            snprintf(err, errsz, "out of memory");
        goto fail;
    }
    *out = c;
    c = NULL;
    return 0;
fail:
    codec_free(c);
    return r;
}

/* --- framing -------------------------------------------------------------------- */

int codec_peek_kind(codec_t *c, const void *buf, size_t len)
{
    codec_schema_t *s;
    if (codec_registry_frame(&c->reg, buf, len, &s, NULL, 0))
        return -1;
    return s->kind;
}

int codec_peek_time(codec_t *c, const void *buf, size_t len, int64_t *occurred_at_ms)
{
    /* Every input record, in every version, starts with the envelope: event_id
     * (string), then occurred_at (long). */
    if (codec_peek_kind(c, buf, len) < 0)
        return -1;
    binenc_reader_t r;
    size_t id_len;
    binenc_reader_init(&r, (const uint8_t *)buf + CODEC_HEADER_BYTES, len - CODEC_HEADER_BYTES);
    binenc_get_bytes(&r, &id_len);
    int64_t t = binenc_get_long(&r);
    if (r.err)
        return -1;
    *occurred_at_ms = t;
    return 0;
}

int codec_internal_kind(codec_t *c, const void *buf, size_t len)
{
    codec_schema_t *s;
    if (codec_registry_frame(&c->reg, buf, len, &s, NULL, 0))
        return -1;
    return s->internal_kind;
}

/* --- decoding ------------------------------------------------------------------- */

int codec_decode_input(codec_t *c, const void *buf, size_t len, hf_event_t *ev, char *err,
                       size_t errsz)
{
    codec_schema_t *s;
    memset(ev, 0, sizeof *ev);
    if (c->max_record_bytes && len > c->max_record_bytes)
        return codec_fail(CODEC_E_LIMIT, err, errsz,
                          "record is %zu bytes, over limits.max_record_bytes %" PRIu32, len,
                          c->max_record_bytes);
    int r = codec_registry_frame(&c->reg, buf, len, &s, err, errsz);
    if (r)
        return r;
    if (s->kind < 0)
        return codec_fail(CODEC_E_NOT_INPUT, err, errsz,
                          "%s (schema %016" PRIx64 ") is not an input record", s->src->name,
                          s->fingerprint);
    codec_decode_env_t env = {
        .max_field_bytes = c->max_field_bytes,
        .max_tags = c->max_tags,
        .strings = &c->strings,
        .email_hash = email_hash,
        .email_opaque = c,
        .scratch = &c->scratch,
    };
    return codec_records_decode_input(s, buf, len, &env, ev, err, errsz);
}

int codec_decode_internal(codec_t *c, const void *buf, size_t len, hf_internal_t *out, char *err,
                          size_t errsz)
{
    codec_schema_t *s;
    memset(out, 0, sizeof *out);
    if (codec_registry_frame(&c->reg, buf, len, &s, NULL, 0) || s->internal_kind < 0)
        return codec_fail(CODEC_E_UNKNOWN_SCHEMA, err, errsz, "not a record between stages");
    return codec_records_decode_internal(s, buf, len, &c->internal_strings, out, err, errsz);
}

/* --- encoding ------------------------------------------------------------------- */

/* Outputs in the codec's format; strings must be UTF-8, as every reader expects. */
static int encode_output(codec_t *c, const codec_schema_t *s, const void *record, hf_buf_t *out)
{
    hf_buf_t *json_scratch = c->output_format == HF_OUTPUT_JSON ? &c->body : NULL;
    return codec_records_encode(s, record, true, json_scratch, out);
}

int codec_encode_input(codec_t *c, const hf_event_t *ev, hf_buf_t *out)
{
    if ((unsigned)ev->kind >= HF_EV__COUNT)
        return -EINVAL;
    return encode_output(c, c->reg.input[ev->kind], ev, out);
}

int codec_encode_handoff(codec_t *c, const hf_handoff_t *h, hf_buf_t *out)
{
    return encode_output(c, c->reg.output[CODEC_OUTPUT_HANDOFF], h, out);
}

int codec_encode_lifecycle(codec_t *c, const hf_lifecycle_t *lc, hf_buf_t *out)
{
    return encode_output(c, c->reg.output[CODEC_OUTPUT_LIFECYCLE], lc, out);
}

int codec_encode_breach(codec_t *c, const hf_breach_t *b, hf_buf_t *out)
{
    return encode_output(c, c->reg.output[CODEC_OUTPUT_BREACH], b, out);
}

int codec_encode_dead_letter(codec_t *c, const hf_dead_letter_t *dl, hf_buf_t *out)
{
    return encode_output(c, c->reg.output[CODEC_OUTPUT_DEAD_LETTER], dl, out);
}

int codec_encode_digest(codec_t *c, const digest_out_t *d, hf_buf_t *out)
{
    return encode_output(c, c->reg.output[CODEC_OUTPUT_DIGEST], d, out);
}

/* Records between stages are always Avro, and their strings go as they are: the
 * reading stage checks them and dead-letters a record it cannot read. */
static int encode_internal(codec_t *c, codec_internal_kind_t kind, const hf_internal_t *in,
                           hf_buf_t *out)
{
    return codec_records_encode(c->reg.internal[kind], in, false, NULL, out);
}

int codec_encode_member_update(codec_t *c, const hf_member_update_t *u, hf_buf_t *out)
{
    hf_internal_t in = {.kind = CODEC_INTERNAL_MEMBER_UPDATE, .member = *u};
    return encode_internal(c, in.kind, &in, out);
}

int codec_encode_roster(codec_t *c, const char *contact_id, const hf_roster_t *r, hf_buf_t *out)
{
    hf_internal_t in = {
        .kind = CODEC_INTERNAL_ROSTER, .roster_contact_id = contact_id, .roster = *r};
    return encode_internal(c, in.kind, &in, out);
}

int codec_encode_merge_request(codec_t *c, const hf_merge_request_t *m, hf_buf_t *out)
{
    hf_internal_t in = {.kind = CODEC_INTERNAL_MERGE_REQUEST, .merge_request = *m};
    return encode_internal(c, in.kind, &in, out);
}

int codec_encode_merge_state(codec_t *c, const hf_merge_state_t *m, hf_buf_t *out)
{
    hf_internal_t in = {.kind = CODEC_INTERNAL_MERGE_STATE, .merge_state = *m};
    return encode_internal(c, in.kind, &in, out);
}

int codec_encode_case_update(codec_t *c, const digest_update_t *u, hf_buf_t *out)
{
    hf_internal_t in = {.kind = CODEC_INTERNAL_CASE_UPDATE, .case_update = *u};
    return encode_internal(c, in.kind, &in, out);
}

/* --- JSON ----------------------------------------------------------------------- */

int codec_record_to_json(codec_t *c, const void *buf, size_t len, hf_buf_t *json, char *err,
                         size_t errsz)
{
    codec_schema_t *s;
    int r = codec_registry_frame(&c->reg, buf, len, &s, err, errsz);
    if (r)
        return r;
    return codec_records_to_json(s, (const uint8_t *)buf + CODEC_HEADER_BYTES,
                                 len - CODEC_HEADER_BYTES, json, err, errsz);
}

int codec_body_to_json(codec_t *c, const char *record_name, const void *body, size_t len,
                       hf_buf_t *json, char *err, size_t errsz)
{
    codec_schema_t *s = record_name ? codec_registry_find(&c->reg, record_name) : NULL;
    if (!s)
        return codec_fail(CODEC_E_UNKNOWN_SCHEMA, err, errsz, "no schema named %s",
                          record_name ? record_name : "(null)");
    return codec_records_to_json(s, body, len, json, err, errsz);
}
