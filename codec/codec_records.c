/* Framed records: every encoder writes its struct through the plan of its current
 * schema (the unit tests check the bytes against Avro-C's writer), every decoder
 * reads through the plan of the schema the record names, and JSON is rendered from
 * the Avro body by the schema. */
#include "codec_records.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec_read.h"
#include "codec_tables.h"
#include "codec_walk.h"

int codec_records_encode(const codec_schema_t *s, const void *record, bool check_text,
                         hf_buf_t *scratch, hf_buf_t *out)
{
    assert(s->plan);
    if (!scratch) {
        binenc_writer_t w = BINENC_WRITER(out);
        uint8_t header[CODEC_HEADER_BYTES];
        codec_registry_header(s, header);
        binenc_put_raw(&w, header, sizeof header);
        codec_plan_encode(s->plan, record, check_text, &w);
        return binenc_writer_end(&w);
    }
    hf_buf_reset(scratch);
    binenc_writer_t w = BINENC_WRITER(scratch);
    int r = codec_plan_encode(s->plan, record, check_text, &w);
    if (r)
        return r;
    binenc_reader_t body;
    binenc_reader_init(&body, scratch->data, scratch->len);
    r = codec_walk_json(&body, s->schema, out, NULL, 0);
    /* the body was just written from a checked struct: only memory can fail here */
    return r > 0 ? -EINVAL : r;
}

int codec_records_decode_input(const codec_schema_t *s, const uint8_t *buf, size_t len,
                               const codec_decode_env_t *env, hf_event_t *ev, char *err,
                               size_t errsz)
{
    assert(s->kind >= 0 && s->plan && len >= CODEC_HEADER_BYTES);
    size_t body = len - CODEC_HEADER_BYTES;
    hf_buf_reset(env->strings);
    /* Room for every string of the body plus the e-mail hash, so the arena never
     * moves while the event points into it. */
    if (hf_buf_reserve(env->strings, body + 64) < 0)
        return codec_fail(-ENOMEM, err, errsz, "out of memory");
    binenc_reader_t r;
    binenc_reader_init(&r, buf + CODEC_HEADER_BYTES, body);
    ev->kind = (hf_event_kind_t)s->kind;
    int e = codec_plan_run(s->plan, &r, env, ev, err, errsz);
    if (e < 0)
        codec_fail(e, err, errsz, "%s", e == -ENOMEM ? "out of memory" : "e-mail hash failed");
    else if (!e && binenc_left(&r))
        e = codec_fail(CODEC_E_INVALID, err, errsz, "%zu trailing bytes after the %s record",
                       binenc_left(&r), s->src->name);
    if (e)
        memset(ev, 0, sizeof *ev);
    return e;
}

int codec_records_decode_internal(const codec_schema_t *s, const uint8_t *buf, size_t len,
                                  hf_buf_t *strings, hf_internal_t *out, char *err, size_t errsz)
{
    assert(s->internal_kind >= 0 && s->plan && len >= CODEC_HEADER_BYTES);
    hf_buf_reset(strings);
    /* Every string takes its bytes plus a NUL: twice the body is always enough. */
    if (hf_buf_reserve(strings, 2 * len + 16) < 0)
        return codec_fail(-ENOMEM, err, errsz, "out of memory");
    codec_decode_env_t env = {.strings = strings};
    binenc_reader_t r;
    binenc_reader_init(&r, buf + CODEC_HEADER_BYTES, len - CODEC_HEADER_BYTES);
    out->kind = (codec_internal_kind_t)s->internal_kind;
    int e = codec_plan_run(s->plan, &r, &env, out, NULL, 0);
    const char *field = codec_plan_failed_field(s->plan);
    if (!e && binenc_left(&r)) {
        e = CODEC_E_INVALID;
        field = "end of record";
    }
    if (!e)
        return 0;
    memset(out, 0, sizeof *out);
    if (e < 0)
        return codec_fail(e, err, errsz, "out of memory");
    if (e == CODEC_E_TRUNCATED)
        return codec_fail(e, err, errsz, "%s record ends inside field %s", s->src->name, field);
    return codec_fail(e, err, errsz, "%s record: invalid %s", s->src->name, field);
}

int codec_records_to_json(const codec_schema_t *s, const uint8_t *body, size_t len, hf_buf_t *json,
                          char *err, size_t errsz)
{
    size_t start = json->len;
    binenc_reader_t r;
    binenc_reader_init(&r, body, len);
    int e = codec_walk_json(&r, s->schema, json, err, errsz);
    if (e || !binenc_left(&r))
        return e;
    json->len = start;
    json->data[start] = 0;
    return codec_fail(CODEC_E_INVALID, err, errsz, "%zu trailing bytes after the %s record",
                      binenc_left(&r), s->src->name);
}
