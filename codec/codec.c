/* The codec handle: embedded schemas, single-object framing, e-mail hashing, and the
 * public entry points of codec/codec.h.  See codec_internal.h for how the work is
 * split between the files and why untrusted bytes never reach avro_value_read(). */
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

#include "codec_internal.h"

#define HEADER_BYTES 10 /* C3 01 + 8-byte fingerprint */
#define CONFLUENT_HEADER_BYTES 5

typedef struct codec_schema {
    const codec_schema_src_t *src;
    avro_schema_t schema;
    uint64_t fingerprint;
    int kind;                  /* input records (current and history): hf_event_kind_t; else -1 */
    codec_plan_t *plan;        /* input records: body -> hf_event_t */
    avro_value_iface_t *iface; /* generic value class, built on first use */
    avro_value_t value;        /* reused by encoders and the JSON readers */
    bool has_value;
} codec_schema_t;

struct codec {
    uint32_t max_record_bytes;
    uint32_t max_field_bytes;
    uint32_t max_tags;
    hf_output_format_t output_format;

    /* HMAC-SHA256 under the e-mail key: SHA-256 states after the key block XOR
     * ipad and XOR opad (RFC 2104), copied for each address. */
    SHA256_CTX mac_inner;
    SHA256_CTX mac_outer;

    codec_schema_t *schemas;
    size_t schema_count;
    codec_schema_t *current[HF_EV__COUNT]; /* reader schema of each input kind */
    codec_schema_t *handoff, *lifecycle, *dead_letter, *breach;

    avro_writer_t writer; /* memory writer, pointed at each output in turn */
    hf_buf_t strings;     /* the decoded event's strings */
    const char **tags;    /* the decoded event's tags */
    size_t tags_cap;
    hf_buf_t scratch;         /* a normalised e-mail address while it is hashed; wiped */
    codec_records_t *records; /* records between stages (codec_records.c) */
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

/* --- schemas -------------------------------------------------------------------- */

static int parse_schema(const codec_schema_src_t *src, avro_schema_t *out, char *err, size_t errsz)
{
    if (avro_schema_from_json_length(src->json, strlen(src->json), out)) {
        snprintf(err, errsz, "%s: %s", src->path, avro_strerror());
        return -EINVAL;
    }
    return 0;
}

static int fingerprint_of(avro_schema_t schema, uint64_t *fp)
{
    hf_buf_t pcf = HF_BUF_INIT;
    int r = codec_pcf_append(&pcf, schema);
    if (!r)
        *fp = codec_crc64_avro(pcf.data, pcf.len);
    hf_buf_free(&pcf);
    return r;
}

uint64_t codec_schema_fingerprint(const char *name)
{
    for (size_t i = 0; name && i < codec_schema_src_count; i++) {
        const codec_schema_src_t *src = &codec_schema_srcs[i];
        if (src->role == CODEC_ROLE_HISTORY || strcmp(src->name, name))
            continue;
        avro_schema_t schema;
        char err[256];
        uint64_t fp = 0;
        if (parse_schema(src, &schema, err, sizeof err))
            return 0;
        if (fingerprint_of(schema, &fp))
            fp = 0;
        avro_schema_decref(schema);
        return fp;
    }
    return 0;
}

static int input_kind(const char *name)
{
    for (int k = 0; k < HF_EV__COUNT; k++)
        if (!strcmp(codec_input_record_name((hf_event_kind_t)k), name))
            return k;
    return -1;
}

/* The current schema of record @name, short ("ContactState") or full
 * ("handoff.v1.state.ContactState"). */
static codec_schema_t *find_current(codec_t *c, const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *short_name = dot ? dot + 1 : name;
    for (size_t i = 0; i < c->schema_count; i++) {
        codec_schema_t *s = &c->schemas[i];
        if (s->src->role == CODEC_ROLE_HISTORY || strcmp(s->src->name, short_name))
            continue;
        if (dot) {
            const char *ns = avro_schema_namespace(s->schema);
            size_t ns_len = (size_t)(dot - name);
            if (!ns || strlen(ns) != ns_len || memcmp(ns, name, ns_len))
                continue;
        }
        return s;
    }
    return NULL;
}

static int load_schemas(codec_t *c, char *err, size_t errsz)
{
    c->schemas = calloc(codec_schema_src_count, sizeof *c->schemas);
    if (!c->schemas)
        return -ENOMEM;
    for (size_t i = 0; i < codec_schema_src_count; i++) {
        codec_schema_t *s = &c->schemas[i];
        s->src = &codec_schema_srcs[i];
        s->kind = -1;
        int r = parse_schema(s->src, &s->schema, err, errsz);
        if (r)
            return r;
        c->schema_count++;
        if ((r = fingerprint_of(s->schema, &s->fingerprint))) {
            snprintf(err, errsz, "%s: cannot write its canonical form", s->src->path);
            return r;
        }
        for (size_t j = 0; j < i; j++) {
            if (c->schemas[j].fingerprint == s->fingerprint) {
                snprintf(err, errsz, "%s and %s have the same fingerprint %016" PRIx64,
                         c->schemas[j].src->path, s->src->path, s->fingerprint);
                return -EINVAL;
            }
        }
        if (s->src->role == CODEC_ROLE_INPUT || s->src->role == CODEC_ROLE_HISTORY) {
            s->kind = input_kind(s->src->name);
            if (s->kind < 0) {
                snprintf(err, errsz, "%s: %s is not an input record", s->src->path, s->src->name);
                return -EINVAL;
            }
            if (s->src->role == CODEC_ROLE_INPUT)
                c->current[s->kind] = s;
        }
    }

    for (int k = 0; k < HF_EV__COUNT; k++) {
        if (!c->current[k]) {
            snprintf(err, errsz, "schema of input record %s is not embedded",
                     codec_input_record_name((hf_event_kind_t)k));
            return -EINVAL;
        }
    }
    static const char *const outputs[] = {"ConversationReady", "LifecycleChange", "DeadLetter",
                                          "SlaBreach"};
    codec_schema_t **slots[] = {&c->handoff, &c->lifecycle, &c->dead_letter, &c->breach};
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        codec_schema_t *s = find_current(c, outputs[i]);
        if (!s || s->src->role != CODEC_ROLE_OUTPUT) {
            snprintf(err, errsz, "schema of output record %s is not embedded", outputs[i]);
            return -EINVAL;
        }
        if (slots[i])
            *slots[i] = s;
    }

    /* One plan per input writer schema, built now so that a history schema that
     * does not resolve fails at start-up, not on the first old record. */
    for (size_t i = 0; i < c->schema_count; i++) {
        codec_schema_t *s = &c->schemas[i];
        if (s->kind < 0)
            continue;
        char why[256];
        int r = codec_plan_new(&s->plan, (hf_event_kind_t)s->kind, s->schema,
                               c->current[s->kind]->schema, why, sizeof why);
        if (r) {
            snprintf(err, errsz, "%s: %s", s->src->path, why);
            return r;
        }
    }
    return 0;
}

static int schema_value(codec_schema_t *s, avro_value_t **out)
{
    if (!s->has_value) {
        s->iface = avro_generic_class_from_schema(s->schema);
        if (!s->iface)
            return -ENOMEM;
        if (avro_generic_value_new(s->iface, &s->value)) {
            avro_value_iface_decref(s->iface);
            s->iface = NULL;
            return -ENOMEM;
        }
        s->has_value = true;
    }
    *out = &s->value;
    return 0;
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
    for (size_t i = 0; i < c->schema_count; i++) {
        codec_schema_t *s = &c->schemas[i];
        codec_plan_free(s->plan);
        if (s->has_value) {
            avro_value_decref(&s->value);
            avro_value_iface_decref(s->iface);
        }
        avro_schema_decref(s->schema);
    }
    free(c->schemas);
    if (c->writer)
        avro_writer_free(c->writer);
    OPENSSL_cleanse(&c->mac_inner, sizeof c->mac_inner);
    OPENSSL_cleanse(&c->mac_outer, sizeof c->mac_outer);
    hf_buf_free(&c->strings);
    free(c->tags);
    codec_records_free(c->records);
    if (c->scratch.data)
        OPENSSL_cleanse(c->scratch.data, c->scratch.cap);
    hf_buf_free(&c->scratch);
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
    if ((r = load_schemas(c, err, errsz))) {
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

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* The schema a framed record names.  Returns 0, or FRAMING / UNKNOWN_SCHEMA. */
static int frame(codec_t *c, const uint8_t *b, size_t len, codec_schema_t **out, char *err,
                 size_t errsz)
{
    if (!len)
        return codec_fail(CODEC_E_FRAMING, err, errsz, "empty record");
    if (b[0] == 0x00) {
        if (len < CONFLUENT_HEADER_BYTES)
            return codec_fail(CODEC_E_FRAMING, err, errsz,
                              "Confluent framing header is %zu bytes, needs 5", len);
        uint32_t id = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
        return codec_fail(CODEC_E_UNKNOWN_SCHEMA, err, errsz,
                          "Confluent framing (schema id %" PRIu32
                          ") is not supported: produce Avro single-object encoding",
                          id);
    }
    if (len < 2)
        return codec_fail(CODEC_E_FRAMING, err, errsz,
                          "record is 1 byte, not single-object encoding");
    if (b[0] != 0xc3 || b[1] != 0x01)
        return codec_fail(CODEC_E_FRAMING, err, errsz,
                          "not single-object encoding: starts with %02x %02x, expected c3 01", b[0],
                          b[1]);
    if (len < HEADER_BYTES)
        return codec_fail(CODEC_E_FRAMING, err, errsz,
                          "single-object header is %zu bytes, needs %d", len, HEADER_BYTES);
    uint64_t fp = get_le64(b + 2);
    for (size_t i = 0; i < c->schema_count; i++) {
        if (c->schemas[i].fingerprint == fp) {
            *out = &c->schemas[i];
            return 0;
        }
    }
    return codec_fail(CODEC_E_UNKNOWN_SCHEMA, err, errsz, "unknown schema fingerprint %016" PRIx64,
                      fp);
}

codec_records_t **codec_records_slot(codec_t *c)
{
    return &c->records;
}

const char *codec_frame_internal(codec_t *c, const void *buf, size_t len)
{
    codec_schema_t *s;
    if (frame(c, buf, len, &s, NULL, 0) || s->src->role != CODEC_ROLE_INTERNAL)
        return NULL;
    return s->src->name;
}

int codec_peek_kind(codec_t *c, const void *buf, size_t len)
{
    codec_schema_t *s;
    if (frame(c, buf, len, &s, NULL, 0))
        return -1;
    return s->kind;
}

/* Reads one zig-zag varint long at *pos of @b (@len bytes).  False if it does not
 * fit or is longer than a long may be. */
static bool peek_long(const uint8_t *b, size_t len, size_t *pos, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t byte = b[(*pos)++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return true;
        }
    }
    return false;
}

int codec_peek_time(codec_t *c, const void *buf, size_t len, int64_t *occurred_at_ms)
{
    /* Every input record, in every version, starts with the envelope: event_id
     * (string), then occurred_at (long). */
    if (codec_peek_kind(c, buf, len) < 0)
        return -1;
    const uint8_t *b = buf;
    size_t pos = HEADER_BYTES;
    int64_t id_len;
    if (!peek_long(b, len, &pos, &id_len) || id_len < 0 || (uint64_t)id_len > len - pos)
        return -1;
    pos += (size_t)id_len;
    return peek_long(b, len, &pos, occurred_at_ms) ? 0 : -1;
}

/* --- decoding ------------------------------------------------------------------- */

int codec_decode_input(codec_t *c, const void *buf, size_t len, hf_event_t *ev, char *err,
                       size_t errsz)
{
    const uint8_t *b = buf;
    codec_schema_t *s;
    memset(ev, 0, sizeof *ev);
    if (c->max_record_bytes && len > c->max_record_bytes)
        return codec_fail(CODEC_E_LIMIT, err, errsz,
                          "record is %zu bytes, over limits.max_record_bytes %" PRIu32, len,
                          c->max_record_bytes);
    int r = frame(c, b, len, &s, err, errsz);
    if (r)
        return r;
    if (s->kind < 0)
        return codec_fail(CODEC_E_NOT_INPUT, err, errsz,
                          "%s (schema %016" PRIx64 ") is not an input record", s->src->name,
                          s->fingerprint);

    size_t body = len - HEADER_BYTES;
    hf_buf_reset(&c->strings);
    /* Room for every string of the body plus the e-mail hash, so the arena never
     * moves while the event points into it. */
    if (hf_buf_reserve(&c->strings, body + 64) < 0)
        return codec_fail(-ENOMEM, err, errsz, "out of memory");
    codec_decode_env_t env = {
        .max_field_bytes = c->max_field_bytes,
        .max_tags = c->max_tags,
        .strings = &c->strings,
        .tags = &c->tags,
        .tags_cap = &c->tags_cap,
        .email_hash = email_hash,
        .email_opaque = c,
        .scratch = &c->scratch,
    };
    codec_cursor_t cur = {b + HEADER_BYTES, b + len, 0};
    ev->kind = (hf_event_kind_t)s->kind;
    r = codec_plan_run(s->plan, &cur, &env, ev, err, errsz);
    if (r < 0)
        codec_fail(r, err, errsz, "%s", r == -ENOMEM ? "out of memory" : "e-mail hash failed");
    else if (!r && cur.p != cur.end)
        r = codec_fail(CODEC_E_INVALID, err, errsz, "%zu trailing bytes after the %s record",
                       codec_cursor_left(&cur), s->src->name);
    if (r)
        memset(ev, 0, sizeof *ev);
    return r;
}

/* --- encoding ------------------------------------------------------------------- */

/* Appends @s's value to @out: framed Avro, or one JSON object. */
static int emit(codec_t *c, codec_schema_t *s, hf_buf_t *out)
{
    int r;
    if (c->output_format == HF_OUTPUT_JSON)
        return codec_value_to_json(&s->value, out);
    size_t size;
    if (avro_value_sizeof(&s->value, &size))
        return -EINVAL;
    if ((r = hf_buf_reserve(out, HEADER_BYTES + size)) < 0)
        return r;
    uint8_t *p = out->data + out->len;
    p[0] = 0xc3;
    p[1] = 0x01;
    put_le64(p + 2, s->fingerprint);
    const char *body = (const char *)p + HEADER_BYTES;
    if (!c->writer) {
        c->writer = avro_writer_memory(body, (int64_t)size);
        if (!c->writer)
            return -ENOMEM;
    } else {
        avro_writer_memory_set_dest(c->writer, body, (int64_t)size);
    }
    if (avro_value_write(c->writer, &s->value))
        return -EINVAL;
    out->len += HEADER_BYTES + size;
    out->data[out->len] = 0;
    return 0;
}

typedef int (*fill_fn)(avro_value_t *value, const void *record);

static int encode(codec_t *c, codec_schema_t *s, fill_fn fill, const void *record, hf_buf_t *out)
{
    avro_value_t *value;
    int r = schema_value(s, &value);
    if (!r)
        r = fill(value, record);
    if (!r)
        r = emit(c, s, out);
    return r;
}

static int fill_event(avro_value_t *v, const void *x)
{
    return codec_value_fill_event(v, x);
}

static int fill_handoff(avro_value_t *v, const void *x)
{
    return codec_value_fill_handoff(v, x);
}

static int fill_lifecycle(avro_value_t *v, const void *x)
{
    return codec_value_fill_lifecycle(v, x);
}

static int fill_dead_letter(avro_value_t *v, const void *x)
{
    return codec_value_fill_dead_letter(v, x);
}

/* Inputs are what tools and benchmarks produce by the million, so their Avro is
 * written straight from the current schema's plan; JSON goes through a value. */
int codec_encode_input(codec_t *c, const hf_event_t *ev, hf_buf_t *out)
{
    if ((unsigned)ev->kind >= HF_EV__COUNT)
        return -EINVAL;
    codec_schema_t *s = c->current[ev->kind];
    if (c->output_format == HF_OUTPUT_JSON)
        return encode(c, s, fill_event, ev, out);
    size_t start = out->len;
    uint8_t header[HEADER_BYTES] = {0xc3, 0x01};
    put_le64(header + 2, s->fingerprint);
    int r = hf_buf_append(out, header, sizeof header);
    if (!r)
        r = codec_plan_encode(s->plan, ev, out);
    if (r && out->data) {
        out->len = start;
        out->data[start] = 0;
    }
    return r;
}

int codec_encode_handoff(codec_t *c, const hf_handoff_t *h, hf_buf_t *out)
{
    return encode(c, c->handoff, fill_handoff, h, out);
}

int codec_encode_lifecycle(codec_t *c, const hf_lifecycle_t *lc, hf_buf_t *out)
{
    return encode(c, c->lifecycle, fill_lifecycle, lc, out);
}

static int fill_breach(avro_value_t *v, const void *x)
{
    return codec_value_fill_breach(v, x);
}

int codec_encode_breach(codec_t *c, const hf_breach_t *b, hf_buf_t *out)
{
    return encode(c, c->breach, fill_breach, b, out);
}

int codec_encode_dead_letter(codec_t *c, const hf_dead_letter_t *dl, hf_buf_t *out)
{
    return encode(c, c->dead_letter, fill_dead_letter, dl, out);
}

/* --- JSON ----------------------------------------------------------------------- */

static int body_to_json(codec_schema_t *s, const uint8_t *body, size_t len, hf_buf_t *json,
                        char *err, size_t errsz)
{
    avro_value_t *value;
    int r = schema_value(s, &value);
    if (r)
        return codec_fail(r, err, errsz, "out of memory");
    codec_cursor_t cur = {body, body + len, 0};
    if ((r = codec_value_read(&cur, value, err, errsz)))
        return r;
    if (cur.p != cur.end)
        return codec_fail(CODEC_E_INVALID, err, errsz, "%zu trailing bytes after the %s record",
                          codec_cursor_left(&cur), s->src->name);
    if ((r = codec_value_to_json(value, json)))
        return codec_fail(r == -ENOMEM ? r : CODEC_E_INVALID, err, errsz,
                          "cannot render %s as JSON", s->src->name);
    return 0;
}

int codec_record_to_json(codec_t *c, const void *buf, size_t len, hf_buf_t *json, char *err,
                         size_t errsz)
{
    codec_schema_t *s;
    int r = frame(c, buf, len, &s, err, errsz);
    if (r)
        return r;
    return body_to_json(s, (const uint8_t *)buf + HEADER_BYTES, len - HEADER_BYTES, json, err,
                        errsz);
}

int codec_body_to_json(codec_t *c, const char *record_name, const void *body, size_t len,
                       hf_buf_t *json, char *err, size_t errsz)
{
    codec_schema_t *s = record_name ? find_current(c, record_name) : NULL;
    if (!s)
        return codec_fail(CODEC_E_UNKNOWN_SCHEMA, err, errsz, "no schema named %s",
                          record_name ? record_name : "(null)");
    return body_to_json(s, body, len, json, err, errsz);
}
