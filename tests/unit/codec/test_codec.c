/* Unit tests of the Avro codec (codec/codec*.c): fingerprints, round trips of every
 * input kind, agreement with Avro-C, a warm codec that allocates nothing.  The JSON
 * rendering, schema resolution and errors have their own test files. */
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

#include "avro_oracle.h"
#include "codec/codec.h"
#include "codec/codec_pcf.h"
#include "codec/codec_schemas.h"
#include "codec/codec_tables.h"
#include "codec_testkit.h"

/* Counts allocations, to check that a warm codec decodes without any.  Not under
 * AddressSanitizer, which owns malloc there. */
#ifndef __SANITIZE_ADDRESS__
#define COUNT_ALLOCATIONS 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *p, size_t size);
static size_t allocations;

void *malloc(size_t size)
{
    allocations++;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    allocations++;
    return __libc_calloc(count, size);
}

void *realloc(void *p, size_t size)
{
    allocations++;
    return __libc_realloc(p, size);
}
#endif

/* --- fingerprints ------------------------------------------------------------------ */

/* The specification's bit-at-a-time definition, independent of the codec's table. */
static uint64_t crc64_avro_bitwise(const uint8_t *p, size_t len)
{
    const uint64_t empty = 0xc15d213aa4d7a795ull;
    uint64_t fp = empty;
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (fp ^ p[i]) & 0xff;
        for (int k = 0; k < 8; k++)
            x = (x >> 1) ^ (empty & (0 - (x & 1)));
        fp = (fp >> 8) ^ x;
    }
    return fp;
}

static void test_crc64_avro(void **state)
{
    (void)state;
    assert_true(codec_crc64_avro("", 0) == 0xc15d213aa4d7a795ull);
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof data; len += 13)
        assert_true(codec_crc64_avro(data, len) == crc64_avro_bitwise(data, len));
    /* A check value from the Avro spec's test suite: the schema "int". */
    assert_true(codec_crc64_avro("\"int\"", 5) == 0x7275d51a3f395c8full);
}

static void test_fingerprints_match_contract(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint64_t fp;
    } expected[] = {
        {"WebVisit", 0x0b46dba92af6ca69ull},      {"FormSubmission", 0x7d2b9468d134b2b7ull},
        {"IdentityEvent", 0xd654392c07233663ull}, {"ContentDownload", 0x014e58d13d0be34eull},
        {"WebinarEvent", 0x30f2d9b6f053dd69ull},  {"EmailEngagement", 0x4a5b8c026cdfed75ull},
        {"SalesActivity", 0xd95a1c695956ecb1ull},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        uint64_t fp = codec_schema_fingerprint(expected[i].name);
        if (fp != expected[i].fp)
            fail_msg("%s: fingerprint %016" PRIx64 ", docs/CONTRACTS.md says %016" PRIx64,
                     expected[i].name, fp, expected[i].fp);
    }
    assert_true(codec_schema_fingerprint("NoSuchRecord") == 0);
    assert_true(codec_schema_fingerprint("ConversationReady") != 0);

    /* The framed record carries the same fingerprint, little-endian. */
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    ck_encode_sample(c, HF_EV_WEB_VISIT, true, &rec);
    static const uint8_t head[] = {0xc3, 0x01, 0x69, 0xca, 0xf6, 0x2a, 0xa9, 0xdb, 0x46, 0x0b};
    assert_memory_equal(rec.data, head, sizeof head);
    hf_buf_free(&rec);
    codec_free(c);
}

static void test_canonical_form(void **state)
{
    (void)state;
    /* Named types spelled out once, full names, no doc/default/logicalType, nested
     * names inherit the namespace, references by full name. */
    static const char json[] =
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\",\"doc\":\"x\",\"fields\":["
        "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
        "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"x\",\"y\"]}},"
        "{\"name\":\"f\",\"type\":[\"null\",\"E\"],\"default\":null},"
        "{\"name\":\"g\",\"type\":{\"type\":\"fixed\",\"name\":\"c.F\",\"size\":4}},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\","
        "\"items\":\"bytes\"}}}]}";
    static const char pcf[] =
        "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":["
        "{\"name\":\"t\",\"type\":\"long\"},"
        "{\"name\":\"e\",\"type\":{\"name\":\"a.b.E\",\"type\":\"enum\",\"symbols\":[\"x\",\"y\"]}}"
        ","
        "{\"name\":\"f\",\"type\":[\"null\",\"a.b.E\"]},"
        "{\"name\":\"g\",\"type\":{\"name\":\"c.F\",\"type\":\"fixed\",\"size\":4}},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\","
        "\"items\":\"bytes\"}}}]}";
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(json, sizeof json - 1, &schema), 0);
    hf_buf_t out = HF_BUF_INIT;
    assert_int_equal(codec_pcf_append(&out, schema), 0);
    assert_string_equal((const char *)out.data, pcf);
    hf_buf_free(&out);
    avro_schema_decref(schema);
}

/* The enum symbols of the schemas are the names processors use (event.c). */
static void test_enum_symbols_match_event_names(void **state)
{
    (void)state;
    static const struct {
        const char *record, *field;
        int count;
    } enums[] = {
        {"FormSubmission", "form_type", HF_FORM__COUNT},
        {"IdentityEvent", "kind", HF_IDENTITY__COUNT},
        {"WebinarEvent", "action", HF_WEBINAR__COUNT},
        {"EmailEngagement", "action", HF_EMAIL__COUNT},
        {"SalesActivity", "entity_type", HF_ENTITY__COUNT},
        {"SalesActivity", "action", HF_SALES__COUNT},
    };
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        const codec_schema_src_t *src = NULL;
        for (size_t k = 0; k < codec_schema_src_count; k++)
            if (codec_schema_srcs[k].role == CODEC_ROLE_INPUT &&
                !strcmp(codec_schema_srcs[k].name, enums[i].record))
                src = &codec_schema_srcs[k];
        assert_non_null(src);
        avro_schema_t schema;
        assert_int_equal(avro_schema_from_json_length(src->json, strlen(src->json), &schema), 0);
        avro_schema_t e = avro_schema_record_field_get(schema, enums[i].field);
        assert_int_equal(avro_schema_enum_number_of_symbols(e), enums[i].count);
        for (int v = 0; v < enums[i].count; v++) {
            const char *expect = NULL;
            if (!strcmp(enums[i].field, "form_type"))
                expect = hf_form_type_name((hf_form_type_t)v);
            else if (!strcmp(enums[i].field, "kind"))
                expect = hf_identity_kind_name((hf_identity_kind_t)v);
            else if (!strcmp(enums[i].record, "WebinarEvent"))
                expect = hf_webinar_action_name((hf_webinar_action_t)v);
            else if (!strcmp(enums[i].record, "EmailEngagement"))
                expect = hf_email_action_name((hf_email_action_t)v);
            else if (!strcmp(enums[i].field, "entity_type"))
                expect = hf_entity_type_name((hf_entity_type_t)v);
            else
                expect = hf_sales_action_name((hf_sales_action_t)v);
            assert_string_equal(avro_schema_enum_get(e, v), expect);
        }
        avro_schema_decref(schema);
    }
}

/* --- round trips ---------------------------------------------------------------------- */

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    char err[256];
    for (int k = 0; k < HF_EV__COUNT; k++) {
        for (int o = 0; o < 2; o++) {
            hf_event_t in = ck_sample((hf_event_kind_t)k, o), out;
            ck_encode_sample(c, (hf_event_kind_t)k, o, &rec);
            assert_int_equal(codec_peek_kind(c, rec.data, rec.len), k);
            int64_t at = 0;
            assert_int_equal(codec_peek_time(c, rec.data, rec.len, &at), 0);
            assert_int_equal(at, in.occurred_at_ms);
            /* Cut inside the envelope: no time, no crash. */
            for (size_t cut = 0; cut < 12 + strlen(in.event_id); cut++)
                assert_int_equal(codec_peek_time(c, rec.data, cut, &at), -1);
            int r = ck_decode(c, &rec, rec.len, &out, err, sizeof err);
            if (r)
                fail_msg("kind %d optionals %d: %s: %s", k, o, codec_error_name(r), err);
            ck_assert_events_equal(&in, &out);
            /* Again, with the codec warm: the same answer from reused buffers. */
            assert_int_equal(ck_decode(c, &rec, rec.len, &out, err, sizeof err), 0);
            ck_assert_events_equal(&in, &out);
        }
    }
    hf_buf_free(&rec);
    codec_free(c);
}

static void test_round_trip_extremes(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    char err[256];
    hf_event_t in = ck_sample(HF_EV_WEBINAR, true), out;
    in.occurred_at_ms = INT64_MIN;
    in.minutes_attended = INT32_MAX;
    in.questions_asked = INT32_MIN;
    in.event_id = "";
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(ck_decode(c, &rec, rec.len, &out, err, sizeof err), 0);
    ck_assert_events_equal(&in, &out);

    in = ck_sample(HF_EV_WEB_VISIT, true);
    in.occurred_at_ms = INT64_MAX;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(ck_decode(c, &rec, rec.len, &out, err, sizeof err), 0);
    ck_assert_events_equal(&in, &out);

    /* Many tags, in more than one array block, and empty ones. */
    static const char *many[200];
    for (size_t i = 0; i < 200; i++)
        many[i] = i % 7 ? "tag" : "";
    in = ck_sample(HF_EV_DOWNLOAD, true);
    in.tags = many;
    in.tag_count = 200;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(ck_decode(c, &rec, rec.len, &out, err, sizeof err), 0);
    ck_assert_events_equal(&in, &out);

    ck_wbuf_t w;
    ck_w_header(&w, codec_schema_fingerprint("ContentDownload"));
    ck_w_str(&w, "e");
    ck_w_long(&w, 1);
    ck_w_str(&w, "s");
    ck_w_str(&w, "c");
    ck_w_long(&w, 0); /* anonymous_id: null */
    ck_w_str(&w, "a");
    ck_w_str(&w, "t");
    ck_w_str(&w, "ty");
    ck_w_long(&w, -2); /* a block of 2 with its byte size */
    ck_w_long(&w, 4);
    ck_w_str(&w, "x");
    ck_w_str(&w, "y");
    ck_w_long(&w, 1);
    ck_w_str(&w, "z");
    ck_w_long(&w, 0);
    ck_w_long(&w, 0); /* campaign: null */
    assert_int_equal(codec_decode_input(c, w.b, w.n, &out, err, sizeof err), 0);
    assert_int_equal(out.tag_count, 3);
    assert_string_equal(out.tags[0], "x");
    assert_string_equal(out.tags[2], "z");

    hf_buf_free(&rec);
    codec_free(c);
}

/* The fast input encoder writes exactly what Avro-C writes from the same record. */
static void test_encoder_matches_avro_c(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    for (int k = 0; k < HF_EV__COUNT; k++) {
        const codec_schema_src_t *src = NULL;
        for (size_t i = 0; i < codec_schema_src_count; i++)
            if (codec_schema_srcs[i].role == CODEC_ROLE_INPUT &&
                !strcmp(codec_schema_srcs[i].name, codec_input_record_name((hf_event_kind_t)k)))
                src = &codec_schema_srcs[i];
        assert_non_null(src);
        avro_schema_t schema;
        assert_int_equal(avro_schema_from_json_length(src->json, strlen(src->json), &schema), 0);
        avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
        avro_value_t value;
        assert_int_equal(avro_generic_value_new(iface, &value), 0);
        for (int o = 0; o < 2; o++) {
            hf_event_t ev = ck_sample((hf_event_kind_t)k, o);
            ev.traits.email = o ? "x@y.z" : NULL;
            hf_buf_reset(&rec);
            assert_int_equal(codec_encode_input(c, &ev, &rec), 0);
            assert_int_equal(oracle_fill_event(&value, &ev), 0);
            uint8_t body[4096];
            avro_writer_t w = avro_writer_memory((char *)body, sizeof body);
            assert_int_equal(avro_value_write(w, &value), 0);
            size_t len = (size_t)avro_writer_tell(w);
            avro_writer_free(w);
            assert_int_equal(rec.len, 10 + len);
            assert_memory_equal(rec.data + 10, body, len);
        }
        avro_value_decref(&value);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
    }
    hf_buf_free(&rec);
    codec_free(c);
}

static void test_encode_rejects_missing_required(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev = ck_sample(HF_EV_WEB_VISIT, false);
    ev.url = NULL;
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    assert_int_equal(rec.len, 0); /* nothing half-written */
    ev = ck_sample(HF_EV_FORM, false);
    ev.form_type = HF_FORM__COUNT;
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    ev = ck_sample(HF_EV_WEB_VISIT, false);
    ev.title = "bad \xff utf-8";
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    ev.kind = HF_EV__COUNT;
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    hf_buf_free(&rec);
    codec_free(c);
}

static void test_warm_decode_allocates_nothing(void **state)
{
    (void)state;
#ifdef COUNT_ALLOCATIONS
    codec_t *c = ck_codec();
    hf_buf_t recs[HF_EV__COUNT * 2];
    hf_event_t ev;
    char err[256];
    for (int i = 0; i < HF_EV__COUNT * 2; i++) {
        recs[i] = (hf_buf_t)HF_BUF_INIT;
        hf_event_t in = ck_sample((hf_event_kind_t)(i / 2), i % 2);
        in.traits.email = "Someone@Example.com";
        assert_int_equal(codec_encode_input(c, &in, &recs[i]), 0);
        assert_int_equal(codec_decode_input(c, recs[i].data, recs[i].len, &ev, err, sizeof err), 0);
    }
    /* The counter is live (a call the compiler cannot elide). */
    void *(*volatile alloc)(size_t) = malloc;
    size_t probe = allocations;
    free(alloc(1));
    assert_int_equal(allocations, probe + 1);

    size_t before = allocations;
    for (int round = 0; round < 50; round++)
        for (int i = 0; i < HF_EV__COUNT * 2; i++)
            assert_int_equal(codec_decode_input(c, recs[i].data, recs[i].len, &ev, err, sizeof err),
                             0);
    assert_int_equal(allocations - before, 0);
    for (int i = 0; i < HF_EV__COUNT * 2; i++)
        hf_buf_free(&recs[i]);
    codec_free(c);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc64_avro),
        cmocka_unit_test(test_fingerprints_match_contract),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_enum_symbols_match_event_names),
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_round_trip_extremes),
        cmocka_unit_test(test_encoder_matches_avro_c),
        cmocka_unit_test(test_encode_rejects_missing_required),
        cmocka_unit_test(test_warm_decode_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
