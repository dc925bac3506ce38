/* The embedded schemas: parsed, fingerprinted and compiled once per codec; the
 * single-object framing that names one of them. */
#include "codec_registry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_pcf.h"
#include "codec_read.h"
#include "codec_tables.h"

#define CONFLUENT_HEADER_BYTES 5

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

static int internal_kind(const char *name)
{
    for (int k = 0; k < CODEC_INTERNAL_KINDS; k++)
        if (!strcmp(codec_internal_record_name((codec_internal_kind_t)k), name))
            return k;
    return -1;
}

codec_schema_t *codec_registry_find(const codec_registry_t *reg, const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *short_name = dot ? dot + 1 : name;
    for (size_t i = 0; i < reg->count; i++) {
        codec_schema_t *s = &reg->schemas[i];
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

/* Parses and fingerprints schema @i; places it by its role. */
static int load_one(codec_registry_t *reg, size_t i, char *err, size_t errsz)
{
    codec_schema_t *s = &reg->schemas[i];
    s->src = &codec_schema_srcs[i];
    s->kind = -1;
    s->internal_kind = -1;
    int r = parse_schema(s->src, &s->schema, err, errsz);
    if (r)
        return r;
    reg->count++;
    if ((r = fingerprint_of(s->schema, &s->fingerprint))) {
        snprintf(err, errsz, "%s: cannot write its canonical form", s->src->path);
        return r;
    }
    for (size_t j = 0; j < i; j++) {
        if (reg->schemas[j].fingerprint == s->fingerprint) {
            snprintf(err, errsz, "%s and %s have the same fingerprint %016" PRIx64,
                     reg->schemas[j].src->path, s->src->path, s->fingerprint);
            return -EINVAL;
        }
    }
    switch (s->src->role) {
    case CODEC_ROLE_INPUT:
    case CODEC_ROLE_HISTORY:
        s->kind = input_kind(s->src->name);
        if (s->kind < 0) {
            snprintf(err, errsz, "%s: %s is not an input record", s->src->path, s->src->name);
            return -EINVAL;
        }
        if (s->src->role == CODEC_ROLE_INPUT)
            reg->input[s->kind] = s;
        break;
    case CODEC_ROLE_INTERNAL:
        s->internal_kind = internal_kind(s->src->name);
        if (s->internal_kind >= 0)
            reg->internal[s->internal_kind] = s;
        break;
    default:
        break;
    }
    return 0;
}

/* Every record the codec reads or writes must be there: the inputs, the outputs and
 * the records between stages. */
static int check_complete(codec_registry_t *reg, char *err, size_t errsz)
{
    for (int k = 0; k < HF_EV__COUNT; k++) {
        if (!reg->input[k]) {
            snprintf(err, errsz, "schema of input record %s is not embedded",
                     codec_input_record_name((hf_event_kind_t)k));
            return -EINVAL;
        }
    }
    static const char *const outputs[CODEC_OUTPUT__COUNT] = {"ConversationReady", "LifecycleChange",
                                                             "DeadLetter", "SlaBreach", "Digest"};
    for (int i = 0; i < CODEC_OUTPUT__COUNT; i++) {
        codec_schema_t *s = codec_registry_find(reg, outputs[i]);
        if (!s || s->src->role != CODEC_ROLE_OUTPUT) {
            snprintf(err, errsz, "schema of output record %s is not embedded", outputs[i]);
            return -EINVAL;
        }
        reg->output[i] = s;
    }
    for (int k = 0; k < CODEC_INTERNAL_KINDS; k++) {
        if (!reg->internal[k]) {
            snprintf(err, errsz, "schema of record %s is not embedded",
                     codec_internal_record_name((codec_internal_kind_t)k));
            return -EINVAL;
        }
    }
    return 0;
}

/* The plan of @s: an input writer schema resolves to its kind's current schema; an
 * output or a record between stages is written and read with its own. */
static int plan_of(codec_registry_t *reg, codec_schema_t *s, char *err, size_t errsz)
{
    const codec_table_t *table = NULL;
    avro_schema_t reader = s->schema;
    if (s->kind >= 0) {
        table = codec_table_input((hf_event_kind_t)s->kind);
        reader = reg->input[s->kind]->schema;
    } else if (s->src->role == CODEC_ROLE_OUTPUT || s->src->role == CODEC_ROLE_INTERNAL) {
        table = codec_table_named(s->src->name);
    }
    if (!table)
        return 0;
    char why[256];
    int r = codec_plan_new(&s->plan, table, s->schema, reader, why, sizeof why);
    if (r)
        snprintf(err, errsz, "%s: %s", s->src->path, why);
    return r;
}

int codec_registry_load(codec_registry_t *reg, char *err, size_t errsz)
{
    *reg = (codec_registry_t){0};
    reg->schemas = calloc(codec_schema_src_count, sizeof *reg->schemas);
    if (!reg->schemas)
        return -ENOMEM;
    int r = 0;
    for (size_t i = 0; !r && i < codec_schema_src_count; i++)
        r = load_one(reg, i, err, errsz);
    if (!r)
        r = check_complete(reg, err, errsz);
    /* Every plan now, so that a history schema that does not resolve (or a table that
     * no longer matches its schema) fails at start-up, not on the first record. */
    for (size_t i = 0; !r && i < reg->count; i++)
        r = plan_of(reg, &reg->schemas[i], err, errsz);
    return r;
}

void codec_registry_free(codec_registry_t *reg)
{
    for (size_t i = 0; i < reg->count; i++) {
        codec_plan_free(reg->schemas[i].plan);
        avro_schema_decref(reg->schemas[i].schema);
    }
    free(reg->schemas);
    *reg = (codec_registry_t){0};
}

void codec_registry_header(const codec_schema_t *s, uint8_t header[CODEC_HEADER_BYTES])
{
    uint64_t fp = s->fingerprint;
    header[0] = 0xc3;
    header[1] = 0x01;
    for (int i = 0; i < 8; i++, fp >>= 8)
        header[2 + i] = (uint8_t)fp;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int codec_registry_frame(const codec_registry_t *reg, const uint8_t *b, size_t len,
                         codec_schema_t **out, char *err, size_t errsz)
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
    if (len < CODEC_HEADER_BYTES)
        return codec_fail(CODEC_E_FRAMING, err, errsz,
                          "single-object header is %zu bytes, needs %d", len, CODEC_HEADER_BYTES);
    uint64_t fp = get_le64(b + 2);
    for (size_t i = 0; i < reg->count; i++) {
        if (reg->schemas[i].fingerprint == fp) {
            *out = &reg->schemas[i];
            return 0;
        }
    }
    return codec_fail(CODEC_E_UNKNOWN_SCHEMA, err, errsz, "unknown schema fingerprint %016" PRIx64,
                      fp);
}
