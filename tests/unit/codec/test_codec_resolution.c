/* Schema resolution (codec/codec_plan.c): an older writer schema read into the current
 * record, and the writers that cannot be. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "codec/codec_pcf.h"
#include "codec/codec_plan.h"
#include "codec/codec_schemas.h"
#include "codec/codec_tables.h"
#include "codec_testkit.h"

/* --- schema resolution -------------------------------------------------------------- */

static const codec_schema_src_t *history_src(const char *name)
{
    for (size_t i = 0; i < codec_schema_src_count; i++)
        if (codec_schema_srcs[i].role == CODEC_ROLE_HISTORY &&
            !strcmp(codec_schema_srcs[i].name, name))
            return &codec_schema_srcs[i];
    return NULL;
}

static void test_old_web_visit_resolves(void **state)
{
    (void)state;
    const codec_schema_src_t *src = history_src("WebVisit");
    assert_non_null(src);
    avro_schema_t v0;
    assert_int_equal(avro_schema_from_json_length(src->json, strlen(src->json), &v0), 0);
    assert_int_equal(avro_schema_record_field_get_index(v0, "country"), -1);

    /* The v0 body, written by Avro-C itself. */
    avro_value_iface_t *iface = avro_generic_class_from_schema(v0);
    avro_value_t v, f, b;
    assert_int_equal(avro_generic_value_new(iface, &v), 0);
    hf_event_t in = ck_sample(HF_EV_WEB_VISIT, true);
    in.country = NULL;
    in.utm_medium = NULL;
#define SET_STR(name, s)                                                                           \
    assert_int_equal(avro_value_get_by_name(&v, name, &f, NULL), 0);                               \
    assert_int_equal(avro_value_set_string(&f, s), 0)
#define SET_OPT(name, s)                                                                           \
    assert_int_equal(avro_value_get_by_name(&v, name, &f, NULL), 0);                               \
    assert_int_equal(avro_value_set_branch(&f, (s) ? 1 : 0, &b), 0);                               \
    assert_int_equal((s) ? avro_value_set_string(&b, (s) ? (s) : "") : avro_value_set_null(&b), 0)
    SET_STR("event_id", in.event_id);
    assert_int_equal(avro_value_get_by_name(&v, "occurred_at", &f, NULL), 0);
    assert_int_equal(avro_value_set_long(&f, in.occurred_at_ms), 0);
    SET_STR("source", in.source);
    SET_STR("anonymous_id", in.anonymous_id);
    SET_OPT("contact_id", in.contact_id);
    SET_STR("session_id", in.session_id);
    SET_STR("url", in.url);
    SET_OPT("title", in.title);
    SET_OPT("referrer", in.referrer);
    SET_OPT("utm_source", in.utm_source);
    SET_OPT("utm_medium", in.utm_medium);
    SET_OPT("utm_campaign", in.utm_campaign);
    assert_int_equal(avro_value_get_by_name(&v, "duration_ms", &f, NULL), 0);
    assert_int_equal(avro_value_set_int(&f, in.duration_ms), 0);
#undef SET_STR
#undef SET_OPT

    hf_buf_t pcf = HF_BUF_INIT;
    assert_int_equal(codec_pcf_append(&pcf, v0), 0);
    uint64_t fp = codec_crc64_avro(pcf.data, pcf.len);
    assert_true(fp != codec_schema_fingerprint("WebVisit"));
    ck_wbuf_t w;
    ck_w_header(&w, fp);
    avro_writer_t writer = avro_writer_memory((char *)w.b + w.n, (int64_t)(sizeof w.b - w.n));
    assert_int_equal(avro_value_write(writer, &v), 0);
    w.n += (size_t)avro_writer_tell(writer);

    codec_t *c = ck_codec();
    hf_event_t out;
    char err[256];
    assert_int_equal(codec_peek_kind(c, w.b, w.n), HF_EV_WEB_VISIT);
    int r = codec_decode_input(c, w.b, w.n, &out, err, sizeof err);
    if (r)
        fail_msg("%s", err);
    assert_null(out.country);
    ck_assert_events_equal(&in, &out);

    /* Cut anywhere in the old body: still truncated, never anything else. */
    for (size_t len = 10; len < w.n; len++)
        assert_int_equal(codec_decode_input(c, w.b, len, &out, err, sizeof err), CODEC_E_TRUNCATED);

    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, w.b, w.n, &json, err, sizeof err), 0);
    ck_assert_contains(&json, "\"duration_ms\": -42}");

    hf_buf_free(&json);
    hf_buf_free(&pcf);
    codec_free(c);
    avro_writer_free(writer);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(v0);
}

/* An EmailEngagement body of test_plan_resolution_rules' writer schema. */
static void resolution_body(ck_wbuf_t *w)
{
    ck_w_long(w, 1); /* extra: one entry */
    ck_w_str(w, "k");
    static const uint8_t dbl[8] = {0};
    memcpy(w->b + w->n, dbl, 8);
    w->n += 8;
    ck_w_long(w, 2); /* float branch */
    memcpy(w->b + w->n, dbl, 4);
    w->n += 4;
    ck_w_long(w, 0);
    ck_w_str(w, "ev");
    ck_w_long(w, -7); /* occurred_at as int */
    ck_w_long(w, 0);  /* source: string branch */
    ck_w_str(w, "crm");
    ck_w_str(w, "c");
    ck_w_str(w, "m");
    ck_w_str(w, "camp");
    ck_w_long(w, 2); /* opened */
    memcpy(w->b + w->n, "abc", 3);
    w->n += 3;
}

/* Resolution rules beyond the history we ship: int widened to long, writer-only
 * fields of any type skipped, enum symbols matched by name, a nullable writer field
 * the reader requires. */
/* The current schema of input record @name, as embedded. */
static const codec_schema_src_t *input_src(const char *name)
{
    for (size_t i = 0; i < codec_schema_src_count; i++)
        if (!strcmp(codec_schema_srcs[i].name, name) &&
            codec_schema_srcs[i].role == CODEC_ROLE_INPUT)
            return &codec_schema_srcs[i];
    return NULL;
}

static void test_plan_resolution_rules(void **state)
{
    (void)state;
    static const char writer_json[] =
        "{\"type\":\"record\",\"name\":\"EmailEngagement\",\"namespace\":\"handoff.v1\","
        "\"fields\":["
        "{\"name\":\"extra\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"record\","
        "\"name\":\"X\",\"fields\":[{\"name\":\"d\",\"type\":\"double\"},"
        "{\"name\":\"u\",\"type\":[\"null\",\"boolean\",\"float\"]}]}}},"
        "{\"name\":\"event_id\",\"type\":\"string\"},"
        "{\"name\":\"occurred_at\",\"type\":\"int\"},"
        "{\"name\":\"source\",\"type\":[\"string\",\"null\"]},"
        "{\"name\":\"contact_id\",\"type\":\"string\"},"
        "{\"name\":\"email_id\",\"type\":\"string\"},"
        "{\"name\":\"campaign\",\"type\":\"string\"},"
        "{\"name\":\"action\",\"type\":{\"type\":\"enum\",\"name\":\"EmailAction\","
        "\"symbols\":[\"clicked\",\"retweeted\",\"opened\"]}},"
        "{\"name\":\"fixed\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}}]}";
    avro_schema_t writer, reader;
    assert_int_equal(avro_schema_from_json_length(writer_json, sizeof writer_json - 1, &writer), 0);
    const codec_schema_src_t *rsrc = input_src("EmailEngagement");
    assert_non_null(rsrc);
    assert_int_equal(avro_schema_from_json_length(rsrc->json, strlen(rsrc->json), &reader), 0);
    codec_plan_t *plan = NULL;
    char err[256] = "";
    int r = codec_plan_new(&plan, codec_table_input(HF_EV_EMAIL), writer, reader, err, sizeof err);
    if (r)
        fail_msg("%s", err);

    hf_buf_t strings = HF_BUF_INIT, scratch = HF_BUF_INIT;
    codec_decode_env_t env = {.strings = &strings, .scratch = &scratch};
    ck_wbuf_t w = {.n = 0};
    resolution_body(&w);
    size_t good_len = w.n;

    assert_int_equal(hf_buf_reserve(&strings, 2 * w.n + 64), 0);
    hf_event_t ev = {0};
    binenc_reader_t cur;
    binenc_reader_init(&cur, w.b, w.n);
    r = codec_plan_run(plan, &cur, &env, &ev, err, sizeof err);
    if (r)
        fail_msg("%s", err);
    assert_ptr_equal(cur.pos, cur.end);
    assert_int_equal(ev.occurred_at_ms, -7);
    assert_string_equal(ev.source, "crm");
    assert_string_equal(ev.campaign, "camp");
    assert_int_equal(ev.email_action, HF_EMAIL_OPENED);
    assert_null(ev.link_url);

    /* A symbol the reader does not know. */
    w.b[good_len - 4] = 2; /* zig-zag 1: "retweeted" */
    memset(&ev, 0, sizeof ev);
    hf_buf_reset(&strings);
    binenc_reader_init(&cur, w.b, w.n);
    assert_int_equal(codec_plan_run(plan, &cur, &env, &ev, err, sizeof err), CODEC_E_INVALID);
    assert_non_null(strstr(err, "unknown to the current schema"));

    /* A null where the reader requires a value. */
    w.n = 0;
    ck_w_long(&w, 0);
    ck_w_str(&w, "ev");
    ck_w_long(&w, 1);
    ck_w_long(&w, 1); /* source: null branch */
    memset(&ev, 0, sizeof ev);
    hf_buf_reset(&strings);
    binenc_reader_init(&cur, w.b, w.n);
    assert_int_equal(codec_plan_run(plan, &cur, &env, &ev, err, sizeof err), CODEC_E_INVALID);
    assert_non_null(strstr(err, "field source is null"));
    codec_plan_free(plan);
    hf_buf_free(&strings);
    hf_buf_free(&scratch);
    avro_schema_decref(writer);
    avro_schema_decref(reader);
}

/* A writer that cannot resolve to the current schema has no plan. */
static void test_plan_refuses_unresolvable(void **state)
{
    (void)state;
    avro_schema_t reader;
    const codec_schema_src_t *rsrc = input_src("EmailEngagement");
    assert_non_null(rsrc);
    assert_int_equal(avro_schema_from_json_length(rsrc->json, strlen(rsrc->json), &reader), 0);
    codec_plan_t *plan = NULL;
    char err[256] = "";

    /* A writer without a reader field that has no null default cannot resolve. */
    static const char bad_json[] = "{\"type\":\"record\",\"name\":\"EmailEngagement\","
                                   "\"fields\":[{\"name\":\"event_id\",\"type\":\"string\"}]}";
    avro_schema_t bad;
    assert_int_equal(avro_schema_from_json_length(bad_json, sizeof bad_json - 1, &bad), 0);
    plan = NULL;
    assert_int_equal(
        codec_plan_new(&plan, codec_table_input(HF_EV_EMAIL), bad, reader, err, sizeof err),
        -EINVAL);
    assert_null(plan);
    assert_non_null(strstr(err, "field occurred_at is missing from the writer schema"));
    avro_schema_decref(bad);

    /* Nor one whose types do not match: the current schema with event_id a long. */
    char mismatch_json[4096];
    const char *at = strstr(rsrc->json, "{\"name\":\"event_id\",\"type\":\"string\"}");
    assert_non_null(at);
    snprintf(mismatch_json, sizeof mismatch_json, "%.*s{\"name\":\"event_id\",\"type\":\"long\"}%s",
             (int)(at - rsrc->json), rsrc->json,
             at + strlen("{\"name\":\"event_id\",\"type\":\"string\"}"));
    assert_int_equal(avro_schema_from_json_length(mismatch_json, strlen(mismatch_json), &bad), 0);
    assert_int_equal(
        codec_plan_new(&plan, codec_table_input(HF_EV_EMAIL), bad, reader, err, sizeof err),
        -EINVAL);
    assert_non_null(strstr(err, "field event_id: writer type long does not resolve"));
    avro_schema_decref(bad);

    avro_schema_decref(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_web_visit_resolves),
        cmocka_unit_test(test_plan_resolution_rules),
        cmocka_unit_test(test_plan_refuses_unresolvable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
