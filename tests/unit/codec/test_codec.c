/* Unit tests of the Avro codec (codec/codec*.c): fingerprints, round trips of every
 * input kind, outputs as JSON, schema resolution, every error class, e-mail hashing. */
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
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "avro_oracle.h"
#include "codec/codec.h"
#include "codec/codec_pcf.h"
#include "codec/codec_plan.h"
#include "codec/codec_schemas.h"
#include "codec/codec_tables.h"

static const uint8_t KEY[] = "unit-test e-mail key";
static const uint8_t OTHER_KEY[] = "another key";

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

static codec_t *new_codec_with(const codec_opts_t *opts)
{
    char err[256] = "";
    codec_t *c = NULL;
    int r = codec_new(&c, opts, err, sizeof err);
    if (r)
        fail_msg("codec_new: %d %s", r, err);
    assert_non_null(c);
    return c;
}

static codec_t *new_codec(void)
{
    codec_opts_t opts = {.email_key = KEY, .email_key_len = sizeof KEY - 1};
    return new_codec_with(&opts);
}

/* --- a small Avro writer for hand-made bodies ----------------------------------- */

typedef struct wbuf {
    uint8_t b[16384];
    size_t n;
} wbuf_t;

static void w_long(wbuf_t *w, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z > 0x7f) {
        w->b[w->n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    w->b[w->n++] = (uint8_t)z;
}

static void w_bytes(wbuf_t *w, const void *p, size_t len)
{
    w_long(w, (int64_t)len);
    memcpy(w->b + w->n, p, len);
    w->n += len;
}

static void w_str(wbuf_t *w, const char *s)
{
    w_bytes(w, s, strlen(s));
}

static void w_header(wbuf_t *w, uint64_t fp)
{
    w->n = 0;
    w->b[w->n++] = 0xc3;
    w->b[w->n++] = 0x01;
    for (int i = 0; i < 8; i++)
        w->b[w->n++] = (uint8_t)(fp >> (8 * i));
}

/* --- sample events ----------------------------------------------------------------- */

static const char *const TAGS[] = {"churn", "retention", "onboarding"};

static hf_event_t sample(hf_event_kind_t kind, bool with_optionals)
{
    hf_event_t ev = {
        .kind = kind, .event_id = "ev-1", .occurred_at_ms = 1717171717171, .source = "web"};
    const bool o = with_optionals;
    switch (kind) {
    case HF_EV_WEB_VISIT:
        ev.anonymous_id = "anon-1";
        ev.contact_id = o ? "c-1" : NULL;
        ev.session_id = "s-1";
        ev.url = "https://example.com/pricing";
        ev.title = o ? "Pricing" : NULL;
        ev.referrer = o ? "https://search.example/" : NULL;
        ev.utm_source = o ? "newsletter" : NULL;
        ev.utm_medium = o ? "email" : NULL;
        ev.utm_campaign = o ? "spring" : NULL;
        ev.duration_ms = -42;
        ev.country = o ? "DE" : NULL;
        break;
    case HF_EV_FORM:
        ev.anonymous_id = "anon-2";
        ev.contact_id = "c-2";
        ev.form_id = "f-9";
        ev.form_type = HF_FORM_OTHER;
        ev.url = o ? "https://example.com/demo" : NULL;
        ev.traits.present = true;
        if (o) {
            ev.traits.full_name = "Jane Doe";
            ev.traits.title = "VP Ops";
            ev.traits.seniority = "vp";
            ev.traits.department = "operations";
            ev.traits.company_name = "Acme";
            ev.traits.account_id = "acct-1";
            ev.traits.industry = "software";
            ev.traits.has_employees = true;
            ev.traits.employees = 250;
            ev.traits.country = "FR";
            ev.traits.region = "EMEA";
        }
        break;
    case HF_EV_IDENTITY:
        ev.identity_kind = HF_IDENTITY_MERGE;
        ev.contact_id = "c-3";
        ev.anonymous_id = o ? "anon-3" : NULL;
        ev.merged_contact_id = o ? "c-4" : NULL;
        ev.traits.present = o;
        if (o) {
            ev.traits.title = "CTO";
            ev.traits.has_employees = true;
            ev.traits.employees = 0;
        }
        break;
    case HF_EV_DOWNLOAD:
        ev.contact_id = "c-5";
        ev.anonymous_id = o ? "anon-5" : NULL;
        ev.asset_id = "a-1";
        ev.asset_title = "Reducing churn \xc3\xa0 la carte";
        ev.asset_type = "whitepaper";
        ev.tags = o ? TAGS : NULL;
        ev.tag_count = o ? 3 : 0;
        ev.campaign = o ? "q3" : NULL;
        break;
    case HF_EV_WEBINAR:
        ev.contact_id = "c-6";
        ev.webinar_id = "w-1";
        ev.webinar_title = "Live demo";
        ev.webinar_action = HF_WEBINAR_WATCHED_RECORDING;
        ev.minutes_attended = 47;
        ev.questions_asked = 2;
        ev.campaign = o ? "webinars" : NULL;
        break;
    case HF_EV_EMAIL:
        ev.contact_id = "c-7";
        ev.email_id = "e-1";
        ev.campaign = "nurture";
        ev.email_action = HF_EMAIL_SPAM_REPORTED;
        ev.link_url = o ? "https://example.com/x" : NULL;
        break;
    case HF_EV_SALES:
        ev.entity_type = HF_ENTITY_ACCOUNT;
        ev.entity_id = "acct-9";
        ev.handoff_id = o ? "h-1" : NULL;
        ev.owner_id = "rep-1";
        ev.sales_action = HF_SALES_RECYCLED;
        ev.reason = o ? "no budget" : NULL;
        ev.channel = o ? "call" : NULL;
        break;
    default:
        break;
    }
    return ev;
}

#define assert_same_str(a, b)                                                                      \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_)                                                                            \
            assert_ptr_equal(a_, b_);                                                              \
        else                                                                                       \
            assert_string_equal(a_, b_);                                                           \
    } while (0)

static void assert_traits_equal(const hf_traits_t *a, const hf_traits_t *b)
{
    assert_int_equal(a->present, b->present);
    assert_null(b->email);
    assert_same_str(a->full_name, b->full_name);
    assert_same_str(a->title, b->title);
    assert_same_str(a->seniority, b->seniority);
    assert_same_str(a->department, b->department);
    assert_same_str(a->company_name, b->company_name);
    assert_same_str(a->account_id, b->account_id);
    assert_same_str(a->industry, b->industry);
    assert_int_equal(a->has_employees, b->has_employees);
    assert_int_equal(a->employees, b->employees);
    assert_same_str(a->country, b->country);
    assert_same_str(a->region, b->region);
}

static void assert_events_equal(const hf_event_t *a, const hf_event_t *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_same_str(a->event_id, b->event_id);
    assert_int_equal(a->occurred_at_ms, b->occurred_at_ms);
    assert_same_str(a->source, b->source);
    assert_same_str(a->anonymous_id, b->anonymous_id);
    assert_same_str(a->contact_id, b->contact_id);
    assert_same_str(a->session_id, b->session_id);
    assert_same_str(a->url, b->url);
    assert_same_str(a->title, b->title);
    assert_same_str(a->referrer, b->referrer);
    assert_same_str(a->utm_source, b->utm_source);
    assert_same_str(a->utm_medium, b->utm_medium);
    assert_same_str(a->utm_campaign, b->utm_campaign);
    assert_int_equal(a->duration_ms, b->duration_ms);
    assert_same_str(a->country, b->country);
    assert_same_str(a->form_id, b->form_id);
    assert_int_equal(a->form_type, b->form_type);
    assert_traits_equal(&a->traits, &b->traits);
    assert_int_equal(a->identity_kind, b->identity_kind);
    assert_same_str(a->merged_contact_id, b->merged_contact_id);
    assert_same_str(a->asset_id, b->asset_id);
    assert_same_str(a->asset_title, b->asset_title);
    assert_same_str(a->asset_type, b->asset_type);
    assert_int_equal(a->tag_count, b->tag_count);
    for (size_t i = 0; i < a->tag_count; i++)
        assert_string_equal(a->tags[i], b->tags[i]);
    assert_same_str(a->campaign, b->campaign);
    assert_same_str(a->webinar_id, b->webinar_id);
    assert_same_str(a->webinar_title, b->webinar_title);
    assert_int_equal(a->webinar_action, b->webinar_action);
    assert_int_equal(a->minutes_attended, b->minutes_attended);
    assert_int_equal(a->questions_asked, b->questions_asked);
    assert_same_str(a->email_id, b->email_id);
    assert_int_equal(a->email_action, b->email_action);
    assert_same_str(a->link_url, b->link_url);
    assert_int_equal(a->entity_type, b->entity_type);
    assert_same_str(a->entity_id, b->entity_id);
    assert_same_str(a->handoff_id, b->handoff_id);
    assert_same_str(a->owner_id, b->owner_id);
    assert_int_equal(a->sales_action, b->sales_action);
    assert_same_str(a->reason, b->reason);
    assert_same_str(a->channel, b->channel);
}

static void encode_sample(codec_t *c, hf_event_kind_t kind, bool optionals, hf_buf_t *out)
{
    hf_event_t ev = sample(kind, optionals);
    hf_buf_reset(out);
    assert_int_equal(codec_encode_input(c, &ev, out), 0);
}

static int decode(codec_t *c, const hf_buf_t *rec, size_t len, hf_event_t *ev, char *err,
                  size_t errsz)
{
    return codec_decode_input(c, rec->data, len, ev, err, errsz);
}

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
        {"SalesActivity", 0x1e562a036464702aull},
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
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    encode_sample(c, HF_EV_WEB_VISIT, true, &rec);
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
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    char err[256];
    for (int k = 0; k < HF_EV__COUNT; k++) {
        for (int o = 0; o < 2; o++) {
            hf_event_t in = sample((hf_event_kind_t)k, o), out;
            encode_sample(c, (hf_event_kind_t)k, o, &rec);
            assert_int_equal(codec_peek_kind(c, rec.data, rec.len), k);
            int64_t at = 0;
            assert_int_equal(codec_peek_time(c, rec.data, rec.len, &at), 0);
            assert_int_equal(at, in.occurred_at_ms);
            /* Cut inside the envelope: no time, no crash. */
            for (size_t cut = 0; cut < 12 + strlen(in.event_id); cut++)
                assert_int_equal(codec_peek_time(c, rec.data, cut, &at), -1);
            int r = decode(c, &rec, rec.len, &out, err, sizeof err);
            if (r)
                fail_msg("kind %d optionals %d: %s: %s", k, o, codec_error_name(r), err);
            assert_events_equal(&in, &out);
            /* Again, with the codec warm: the same answer from reused buffers. */
            assert_int_equal(decode(c, &rec, rec.len, &out, err, sizeof err), 0);
            assert_events_equal(&in, &out);
        }
    }
    hf_buf_free(&rec);
    codec_free(c);
}

static void test_round_trip_extremes(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    char err[256];
    hf_event_t in = sample(HF_EV_WEBINAR, true), out;
    in.occurred_at_ms = INT64_MIN;
    in.minutes_attended = INT32_MAX;
    in.questions_asked = INT32_MIN;
    in.event_id = "";
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(decode(c, &rec, rec.len, &out, err, sizeof err), 0);
    assert_events_equal(&in, &out);

    in = sample(HF_EV_WEB_VISIT, true);
    in.occurred_at_ms = INT64_MAX;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(decode(c, &rec, rec.len, &out, err, sizeof err), 0);
    assert_events_equal(&in, &out);

    /* Many tags, in more than one array block, and empty ones. */
    static const char *many[200];
    for (size_t i = 0; i < 200; i++)
        many[i] = i % 7 ? "tag" : "";
    in = sample(HF_EV_DOWNLOAD, true);
    in.tags = many;
    in.tag_count = 200;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(decode(c, &rec, rec.len, &out, err, sizeof err), 0);
    assert_events_equal(&in, &out);

    wbuf_t w;
    w_header(&w, codec_schema_fingerprint("ContentDownload"));
    w_str(&w, "e");
    w_long(&w, 1);
    w_str(&w, "s");
    w_str(&w, "c");
    w_long(&w, 0); /* anonymous_id: null */
    w_str(&w, "a");
    w_str(&w, "t");
    w_str(&w, "ty");
    w_long(&w, -2); /* a block of 2 with its byte size */
    w_long(&w, 4);
    w_str(&w, "x");
    w_str(&w, "y");
    w_long(&w, 1);
    w_str(&w, "z");
    w_long(&w, 0);
    w_long(&w, 0); /* campaign: null */
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
    codec_t *c = new_codec();
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
            hf_event_t ev = sample((hf_event_kind_t)k, o);
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
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev = sample(HF_EV_WEB_VISIT, false);
    ev.url = NULL;
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    assert_int_equal(rec.len, 0); /* nothing half-written */
    ev = sample(HF_EV_FORM, false);
    ev.form_type = HF_FORM__COUNT;
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    ev = sample(HF_EV_WEB_VISIT, false);
    ev.title = "bad \xff utf-8";
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    ev.kind = HF_EV__COUNT;
    assert_int_equal(codec_encode_input(c, &ev, &rec), -EINVAL);
    hf_buf_free(&rec);
    codec_free(c);
}

/* --- outputs -------------------------------------------------------------------------- */

static void assert_contains(const hf_buf_t *json, const char *needle)
{
    if (!strstr((const char *)json->data, needle))
        fail_msg("%s\nhas no %s", (const char *)json->data, needle);
}

/* Parses @json (which must be one JSON object) with jansson; the caller decrefs. */
static json_t *parse_json(const hf_buf_t *json)
{
    json_error_t error;
    json_t *root = json_loadb((const char *)json->data, json->len, JSON_ALLOW_NUL, &error);
    if (!root || !json_is_object(root))
        fail_msg("not a JSON object (%s): %s", error.text, (const char *)json->data);
    return root;
}

static void test_outputs_to_json(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT, json = HF_BUF_INIT;
    char err[256];

    hf_handoff_t h = oracle_sample_handoff();
    assert_int_equal(codec_encode_handoff(c, &h, &rec), 0);
    assert_int_equal(codec_peek_kind(c, rec.data, rec.len), -1);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_null(memchr(json.data, '\n', json.len));
    assert_contains(&json, "\"handoff_id\": \"h-42\"");
    assert_contains(&json, "\"entity_type\": \"contact\"");
    assert_contains(&json, "\"account_id\": {\"string\": \"acct-1\"}");
    assert_contains(&json, "\"rule\": \"hand_raiser\"");
    assert_contains(&json, "\"qualified_at\": 3000");
    assert_contains(&json, "\"score\": 87");
    assert_contains(&json, "\"detail\": \"3 visits\"");
    assert_contains(&json, "\"known_since\": {\"long\": 900}");
    assert_contains(&json, "\"title\": null, \"views\": 1");
    assert_contains(&json, "\"type\": \"ebook\"");
    assert_contains(&json, "\"minutes\": 45");
    assert_contains(&json, "\"last_campaign\": {\"string\": \"nurture\"}");
    assert_contains(&json, "\"detail\": {\"string\": \"45 min\"}");
    assert_contains(&json, "\"weight\": 0.75");
    assert_contains(&json, "\"role\": \"decision_maker\"");
    assert_contains(&json, "\"roles_covered\": [\"decision_maker\", \"champion\"]");
    assert_contains(&json, "\"team\": {\"string\": \"emea-smb\"}, \"region\": null");
    assert_contains(&json, "\"first_touch_by\": 180000");
    json_decref(parse_json(&json));

    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

static void test_lifecycle_and_dead_letter_to_json(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT, json = HF_BUF_INIT;
    char err[256];

    hf_lifecycle_t lc = {HF_ENTITY_ACCOUNT,    "acct-1", "engaged",
                         "conversation_ready", 77,       "rule hand_raiser"};
    hf_buf_reset(&rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_encode_lifecycle(c, &lc, &rec), 0);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_string_equal((const char *)json.data,
                        "{\"entity_type\": \"account\", \"entity_id\": \"acct-1\", \"from_stage\": "
                        "\"engaged\", \"to_stage\": \"conversation_ready\", \"at\": 77, \"cause\": "
                        "\"rule hand_raiser\"}");

    static const uint8_t raw[] = {0xc3, 0x01, 0x00, 0xff, 'a'};
    hf_dead_letter_t dl = {"mkt.web.visits",
                           3,
                           12345,
                           "k1",
                           2,
                           raw,
                           sizeof raw,
                           "truncated: record ends inside field url",
                           99};
    hf_buf_reset(&rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_encode_dead_letter(c, &dl, &rec), 0);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_contains(&json, "\"topic\": \"mkt.web.visits\", \"partition\": 3, \"offset\": 12345");
    assert_contains(&json, "\"key\": {\"bytes\": \"k1\"}");
    /* Every byte, zeros included (Avro-C's own renderer stops at the first zero). */
    assert_contains(&json, "\"value\": {\"bytes\": \"\\u00c3\\u0001\\u0000\\u00ffa\"}");
    json_t *root = parse_json(&json);
    json_t *bytes = json_object_get(json_object_get(root, "value"), "bytes");
    assert_non_null(bytes);
    /* Byte b is code point b: c3 and ff take two bytes of UTF-8 each. */
    assert_int_equal(json_string_length(bytes), 7);
    assert_memory_equal(json_string_value(bytes),
                        "\xc3\x83\x01\x00\xc3\xbf"
                        "a",
                        7);
    json_decref(root);
    assert_contains(&json, "\"error\": \"truncated: record ends inside field url\", \"at\": 99");
    dl.key = NULL;
    hf_buf_reset(&rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_encode_dead_letter(c, &dl, &rec), 0);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_contains(&json, "\"key\": null");

    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

static void test_inputs_to_json(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT, json = HF_BUF_INIT;
    char err[256];
    json_t *root;

    /* Inputs render too, all of them as JSON that parses. */
    encode_sample(c, HF_EV_SALES, true, &rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_contains(&json, "\"action\": \"recycled\"");
    for (int k = 0; k < HF_EV__COUNT; k++) {
        for (int o = 0; o < 2; o++) {
            encode_sample(c, (hf_event_kind_t)k, o, &rec);
            hf_buf_reset(&json);
            assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
            json_decref(parse_json(&json));
        }
    }
    /* Named union branches go by their full name; text is escaped to ASCII. */
    encode_sample(c, HF_EV_IDENTITY, true, &rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_contains(&json, "\"traits\": {\"handoff.v1.Traits\": {\"email\": null");
    assert_contains(&json, "\"employees\": {\"int\": 0}");
    hf_event_t text = sample(HF_EV_DOWNLOAD, true);
    text.asset_title = "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ \x01\n";
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &text, &rec), 0);
    hf_buf_reset(&json);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_contains(&json,
                    "\"asset_title\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\u0001\\n\"");
    root = parse_json(&json);
    assert_string_equal(json_string_value(json_object_get(root, "asset_title")), text.asset_title);
    json_decref(root);

    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

static void test_outputs_need_required_fields(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_handoff_t h = oracle_sample_handoff();

    /* Required output fields must be there. */
    h.rule = NULL;
    assert_int_equal(codec_encode_handoff(c, &h, &rec), -EINVAL);
    h = oracle_sample_handoff();
    h.reason_count = 1;
    h.reasons = NULL;
    assert_int_equal(codec_encode_handoff(c, &h, &rec), -EINVAL);

    hf_buf_free(&rec);
    codec_free(c);
}

static void test_json_output_format(void **state)
{
    (void)state;
    codec_opts_t opts = {
        .email_key = KEY, .email_key_len = sizeof KEY - 1, .output_format = HF_OUTPUT_JSON};
    codec_t *c = new_codec_with(&opts);
    hf_buf_t out = HF_BUF_INIT;
    hf_handoff_t h = oracle_sample_handoff();
    assert_int_equal(codec_encode_handoff(c, &h, &out), 0);
    assert_int_equal(out.data[0], '{');
    assert_int_equal(out.data[out.len - 1], '}');
    assert_null(memchr(out.data, '\n', out.len));
    assert_contains(&out, "\"handoff_id\": \"h-42\"");
    json_decref(parse_json(&out));
    for (int k = 0; k < HF_EV__COUNT; k++) {
        hf_buf_reset(&out);
        hf_event_t ev = sample((hf_event_kind_t)k, true);
        assert_int_equal(codec_encode_input(c, &ev, &out), 0);
        json_t *root = parse_json(&out);
        assert_string_equal(json_string_value(json_object_get(root, "event_id")), "ev-1");
        json_decref(root);
    }
    hf_buf_reset(&out);
    hf_lifecycle_t lc = {HF_ENTITY_CONTACT, "c-1", "known", "engaged", 5, "score"};
    assert_int_equal(codec_encode_lifecycle(c, &lc, &out), 0);
    assert_string_equal((const char *)out.data,
                        "{\"entity_type\": \"contact\", \"entity_id\": \"c-1\", \"from_stage\": "
                        "\"known\", \"to_stage\": \"engaged\", \"at\": 5, \"cause\": \"score\"}");
    hf_buf_free(&out);
    codec_free(c);
}

static void test_body_to_json(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t json = HF_BUF_INIT;
    char err[256];
    /* A LifecycleChange body without its header. */
    wbuf_t w = {.n = 0};
    w_long(&w, 0);
    w_str(&w, "c-1");
    w_str(&w, "known");
    w_str(&w, "engaged");
    w_long(&w, 5);
    w_str(&w, "why");
    assert_int_equal(codec_body_to_json(c, "LifecycleChange", w.b, w.n, &json, err, sizeof err), 0);
    assert_contains(&json, "\"cause\": \"why\"");
    hf_buf_reset(&json);
    assert_int_equal(
        codec_body_to_json(c, "handoff.v1.LifecycleChange", w.b, w.n, &json, err, sizeof err), 0);
    assert_int_equal(
        codec_body_to_json(c, "other.LifecycleChange", w.b, w.n, &json, err, sizeof err),
        CODEC_E_UNKNOWN_SCHEMA);
    assert_int_equal(codec_body_to_json(c, "Nope", w.b, w.n, &json, err, sizeof err),
                     CODEC_E_UNKNOWN_SCHEMA);
    assert_int_equal(codec_body_to_json(c, "LifecycleChange", w.b, w.n - 1, &json, err, sizeof err),
                     CODEC_E_TRUNCATED);

    /* A state record, when the processors' schema is in the tree. */
    bool have_anon = false;
    for (size_t i = 0; i < codec_schema_src_count; i++)
        have_anon |= !strcmp(codec_schema_srcs[i].name, "AnonState");
    if (have_anon) {
        w.n = 0;
        w_long(&w, 1); /* schema_version */
        w_long(&w, 1); /* contact_id: string */
        w_str(&w, "c-9");
        w_long(&w, 0); /* first_seen: null */
        w_long(&w, 0); /* last_seen: null */
        w_long(&w, 0); /* buffered: [] */
        hf_buf_reset(&json);
        int r = codec_body_to_json(c, "AnonState", w.b, w.n, &json, err, sizeof err);
        if (r)
            fail_msg("AnonState: %s", err);
        assert_contains(&json, "\"contact_id\": {\"string\": \"c-9\"}");
    }
    hf_buf_free(&json);
    codec_free(c);
}

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
    hf_event_t in = sample(HF_EV_WEB_VISIT, true);
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
    wbuf_t w;
    w_header(&w, fp);
    avro_writer_t writer = avro_writer_memory((char *)w.b + w.n, (int64_t)(sizeof w.b - w.n));
    assert_int_equal(avro_value_write(writer, &v), 0);
    w.n += (size_t)avro_writer_tell(writer);

    codec_t *c = new_codec();
    hf_event_t out;
    char err[256];
    assert_int_equal(codec_peek_kind(c, w.b, w.n), HF_EV_WEB_VISIT);
    int r = codec_decode_input(c, w.b, w.n, &out, err, sizeof err);
    if (r)
        fail_msg("%s", err);
    assert_null(out.country);
    assert_events_equal(&in, &out);

    /* Cut anywhere in the old body: still truncated, never anything else. */
    for (size_t len = 10; len < w.n; len++)
        assert_int_equal(codec_decode_input(c, w.b, len, &out, err, sizeof err), CODEC_E_TRUNCATED);

    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, w.b, w.n, &json, err, sizeof err), 0);
    assert_contains(&json, "\"duration_ms\": -42}");

    hf_buf_free(&json);
    hf_buf_free(&pcf);
    codec_free(c);
    avro_writer_free(writer);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(v0);
}

/* An EmailEngagement body of test_plan_resolution_rules' writer schema. */
static void resolution_body(wbuf_t *w)
{
    w_long(w, 1); /* extra: one entry */
    w_str(w, "k");
    static const uint8_t dbl[8] = {0};
    memcpy(w->b + w->n, dbl, 8);
    w->n += 8;
    w_long(w, 2); /* float branch */
    memcpy(w->b + w->n, dbl, 4);
    w->n += 4;
    w_long(w, 0);
    w_str(w, "ev");
    w_long(w, -7); /* occurred_at as int */
    w_long(w, 0);  /* source: string branch */
    w_str(w, "crm");
    w_str(w, "c");
    w_str(w, "m");
    w_str(w, "camp");
    w_long(w, 2); /* opened */
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
    wbuf_t w = {.n = 0};
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
    w_long(&w, 0);
    w_str(&w, "ev");
    w_long(&w, 1);
    w_long(&w, 1); /* source: null branch */
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

/* --- errors ---------------------------------------------------------------------------- */

static void expect_error(codec_t *c, const void *rec, size_t len, int code, const char *msg_part)
{
    hf_event_t ev;
    char err[512] = "";
    int r = codec_decode_input(c, rec, len, &ev, err, sizeof err);
    if (r != code)
        fail_msg("expected %s, got %s (%s)", codec_error_name(code), codec_error_name(r), err);
    if (msg_part && !strstr(err, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err, msg_part);
    assert_null(ev.event_id); /* a failed decode leaves a zeroed event */
}

static void test_framing_errors(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    encode_sample(c, HF_EV_EMAIL, true, &rec);

    expect_error(c, rec.data, 0, CODEC_E_FRAMING, "empty record");
    for (size_t len = 1; len < 10; len++)
        expect_error(c, rec.data, len, CODEC_E_FRAMING, NULL);
    expect_error(c, rec.data, 5, CODEC_E_FRAMING, "header is 5 bytes, needs 10");

    uint8_t bad[64];
    memcpy(bad, rec.data, 20);
    bad[0] = 0xc4;
    expect_error(c, bad, 20, CODEC_E_FRAMING, "starts with c4 01, expected c3 01");
    bad[0] = 0xc3;
    bad[1] = 0x02;
    expect_error(c, bad, 20, CODEC_E_FRAMING, NULL);
    expect_error(c, "{\"json\":1}", 10, CODEC_E_FRAMING, NULL);

    memcpy(bad, rec.data, 20);
    bad[5] ^= 0x10;
    expect_error(c, bad, 20, CODEC_E_UNKNOWN_SCHEMA, "unknown schema fingerprint");

    static const uint8_t confluent[] = {0x00, 0x00, 0x00, 0x01, 0x2c, 0x02, 'x'};
    expect_error(
        c, confluent, sizeof confluent, CODEC_E_UNKNOWN_SCHEMA,
        "Confluent framing (schema id 300) is not supported: produce Avro single-object encoding");
    expect_error(c, confluent, 3, CODEC_E_FRAMING, "Confluent");
    assert_int_equal(codec_peek_kind(c, confluent, sizeof confluent), -1);

    /* Outputs are known, but not inputs. */
    hf_lifecycle_t lc = {HF_ENTITY_CONTACT, "c", "a", "b", 1, "x"};
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_lifecycle(c, &lc, &rec), 0);
    expect_error(c, rec.data, rec.len, CODEC_E_NOT_INPUT, "LifecycleChange");

    hf_buf_free(&rec);
    codec_free(c);
}

static void test_truncated_at_every_cut(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_buf_t json = HF_BUF_INIT;
    char err[256];
    for (int k = 0; k < HF_EV__COUNT; k++) {
        for (int o = 0; o < 2; o++) {
            encode_sample(c, (hf_event_kind_t)k, o, &rec);
            for (size_t len = 10; len < rec.len; len++) {
                expect_error(c, rec.data, len, CODEC_E_TRUNCATED, "record ends inside");
                assert_int_equal(codec_record_to_json(c, rec.data, len, &json, err, sizeof err),
                                 CODEC_E_TRUNCATED);
            }
        }
    }
    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

/* An EmailEngagement body by hand, to put bad values where encoders never would. */
static void email_body(wbuf_t *w, int64_t action, int64_t link_branch, const char *campaign,
                       size_t campaign_len)
{
    w_header(w, codec_schema_fingerprint("EmailEngagement"));
    w_str(w, "ev-1");
    w_long(w, 5);
    w_str(w, "marketo");
    w_str(w, "c-1");
    w_str(w, "e-1");
    w_bytes(w, campaign, campaign_len);
    w_long(w, action);
    w_long(w, link_branch);
    if (link_branch == 1)
        w_str(w, "https://x");
}

static void test_invalid_bodies(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    wbuf_t w;
    hf_event_t ev;
    char err[256];

    email_body(&w, 2, 1, "camp", 4);
    assert_int_equal(codec_decode_input(c, w.b, w.n, &ev, err, sizeof err), 0);
    assert_int_equal(ev.email_action, HF_EMAIL_CLICKED);
    assert_string_equal(ev.link_url, "https://x");

    email_body(&w, 6, 0, "camp", 4);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "field action: enum index 6 out of range");
    email_body(&w, -1, 0, "camp", 4);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "enum index -1");
    email_body(&w, 1, 2, "camp", 4);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "field link_url: union branch 2 out of range");
    email_body(&w, 1, -1, "camp", 4);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "union branch -1");

    email_body(&w, 1, 0, "ca\0mp", 5);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "field campaign contains a NUL byte");
    email_body(&w, 1, 0, "caf\xc3", 4);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "field campaign is not valid UTF-8");
    email_body(&w, 1, 0, "\xed\xa0\x80", 3); /* a surrogate */
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "not valid UTF-8");
    email_body(&w, 1, 0, "\xc0\xaf", 2); /* overlong */
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "not valid UTF-8");

    email_body(&w, 1, 0, "camp", 4);
    w.b[w.n++] = 0;
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "1 trailing bytes after the EmailEngagement record");
    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, w.b, w.n, &json, err, sizeof err), CODEC_E_INVALID);

    /* A length longer than the body, a negative length, an overlong varint. */
    w_header(&w, codec_schema_fingerprint("EmailEngagement"));
    w_long(&w, INT64_MAX);
    expect_error(c, w.b, w.n, CODEC_E_TRUNCATED, "field event_id");
    w_header(&w, codec_schema_fingerprint("EmailEngagement"));
    w_long(&w, -3);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "field event_id");
    w_header(&w, codec_schema_fingerprint("EmailEngagement"));
    for (int i = 0; i < 11; i++)
        w.b[w.n++] = 0xff;
    expect_error(c, w.b, w.n, CODEC_E_INVALID, NULL);

    /* An int out of int32 range. */
    w_header(&w, codec_schema_fingerprint("WebinarEvent"));
    w_str(&w, "e");
    w_long(&w, 1);
    w_str(&w, "s");
    w_str(&w, "c");
    w_str(&w, "w");
    w_str(&w, "t");
    w_long(&w, 1);
    w_long(&w, (int64_t)INT32_MAX + 1);
    expect_error(c, w.b, w.n, CODEC_E_INVALID, "field minutes_attended");

    hf_buf_free(&json);
    codec_free(c);
}

static void test_limits(void **state)
{
    (void)state;
    codec_opts_t opts = {.email_key = KEY,
                         .email_key_len = sizeof KEY - 1,
                         .max_field_bytes = 2048,
                         .max_tags = 3,
                         .max_record_bytes = 8000};
    codec_t *c = new_codec_with(&opts);
    codec_t *unlimited = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char err[256];

    char *url = malloc(5001);
    memset(url, 'u', 5000);
    url[5000] = 0;
    hf_event_t in = sample(HF_EV_WEB_VISIT, true);
    in.url = url;
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    expect_error(c, rec.data, rec.len, CODEC_E_LIMIT,
                 "field url is 5000 bytes, over limits.max_field_bytes 2048");
    assert_int_equal(codec_decode_input(unlimited, rec.data, rec.len, &ev, err, sizeof err), 0);
    assert_int_equal(strlen(ev.url), 5000);
    url[2048] = 0; /* exactly at the limit */
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(codec_decode_input(c, rec.data, rec.len, &ev, err, sizeof err), 0);

    /* Nested fields are named by their path. */
    in = sample(HF_EV_FORM, true);
    url[2048] = 'u';
    url[3000] = 0;
    in.traits.company_name = url;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    expect_error(c, rec.data, rec.len, CODEC_E_LIMIT, "field traits.company_name is 3000 bytes");

    static const char *const four[] = {"a", "b", "c", "d"};
    in = sample(HF_EV_DOWNLOAD, true);
    in.tags = four;
    in.tag_count = 4;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    expect_error(c, rec.data, rec.len, CODEC_E_LIMIT,
                 "field tags has 4 items, over limits.max_tags 3");
    in.tag_count = 3;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(codec_decode_input(c, rec.data, rec.len, &ev, err, sizeof err), 0);
    assert_int_equal(ev.tag_count, 3);

    url[3000] = 'u';
    in = sample(HF_EV_WEB_VISIT, true);
    in.url = url; /* 5000 */
    in.title = url;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    expect_error(c, rec.data, rec.len, CODEC_E_LIMIT, "over limits.max_record_bytes 8000");

    free(url);
    hf_buf_free(&rec);
    codec_free(c);
    codec_free(unlimited);
}

static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(codec_error_name(0), "ok");
    assert_string_equal(codec_error_name(CODEC_E_FRAMING), "framing");
    assert_string_equal(codec_error_name(CODEC_E_UNKNOWN_SCHEMA), "unknown_schema");
    assert_string_equal(codec_error_name(CODEC_E_NOT_INPUT), "not_input");
    assert_string_equal(codec_error_name(CODEC_E_TRUNCATED), "truncated");
    assert_string_equal(codec_error_name(CODEC_E_INVALID), "invalid");
    assert_string_equal(codec_error_name(CODEC_E_LIMIT), "limit");
    assert_string_equal(codec_error_name(99), "unknown");
    assert_string_equal(codec_error_name(-ENOMEM), "system");
}

/* --- e-mail ------------------------------------------------------------------------- */

static void decode_form_with_email(codec_t *c, const char *email, hf_event_t *ev, hf_buf_t *rec)
{
    char err[256];
    hf_event_t in = sample(HF_EV_FORM, true);
    in.traits.email = email;
    hf_buf_reset(rec);
    assert_int_equal(codec_encode_input(c, &in, rec), 0);
    int r = codec_decode_input(c, rec->data, rec->len, ev, err, sizeof err);
    if (r)
        fail_msg("%s", err);
}

static void expected_hash(const uint8_t *key, size_t key_len, const char *addr, char hex[33])
{
    uint8_t mac[32];
    unsigned int len = 0;
    assert_non_null(
        HMAC(EVP_sha256(), key, (int)key_len, (const uint8_t *)addr, strlen(addr), mac, &len));
    assert_int_equal(len, 32);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

static void assert_no_substring(const char *s, const char *needle)
{
    if (s && strcasestr(s, needle))
        fail_msg("\"%s\" contains the raw address", s);
}

static void test_email_hashing(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    codec_opts_t other_opts = {.email_key = OTHER_KEY, .email_key_len = sizeof OTHER_KEY - 1};
    codec_t *other = new_codec_with(&other_opts);
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char want[33], first[33];

    decode_form_with_email(c, "Jane.Doe@Example.COM", &ev, &rec);
    assert_null(ev.traits.email);
    assert_string_equal(ev.traits.email_domain, "example.com");
    expected_hash(KEY, sizeof KEY - 1, "jane.doe@example.com", want);
    assert_string_equal(ev.traits.email_hash, want);
    snprintf(first, sizeof first, "%s", ev.traits.email_hash);

    /* The raw address is in the record but nowhere in the event. */
    assert_non_null(memmem(rec.data, rec.len, "Jane.Doe", 8));
    const char *const strings[] = {ev.event_id,
                                   ev.source,
                                   ev.anonymous_id,
                                   ev.contact_id,
                                   ev.form_id,
                                   ev.url,
                                   ev.traits.email_domain,
                                   ev.traits.email_hash,
                                   ev.traits.full_name,
                                   ev.traits.title,
                                   ev.traits.seniority,
                                   ev.traits.department,
                                   ev.traits.company_name,
                                   ev.traits.account_id,
                                   ev.traits.industry,
                                   ev.traits.country,
                                   ev.traits.region};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        assert_no_substring(strings[i], "jane.doe");
        assert_no_substring(strings[i], "jane.doe@example.com");
    }

    /* Case and surrounding white space do not change the hash. */
    static const char *const variants[] = {"jane.doe@example.com", "  JANE.DOE@EXAMPLE.COM\t",
                                           "\njane.DOE@example.Com "};
    for (size_t i = 0; i < 3; i++) {
        decode_form_with_email(c, variants[i], &ev, &rec);
        assert_string_equal(ev.traits.email_hash, first);
        assert_string_equal(ev.traits.email_domain, "example.com");
    }

    /* Another address, another key: another hash. */
    decode_form_with_email(c, "john@example.com", &ev, &rec);
    assert_string_not_equal(ev.traits.email_hash, first);
    decode_form_with_email(other, "Jane.Doe@Example.COM", &ev, &rec);
    assert_string_not_equal(ev.traits.email_hash, first);
    expected_hash(OTHER_KEY, sizeof OTHER_KEY - 1, "jane.doe@example.com", want);
    assert_string_equal(ev.traits.email_hash, want);

    hf_buf_free(&rec);
    codec_free(other);
    codec_free(c);
}

static void test_email_domain_and_messages(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char first[33];
    expected_hash(KEY, sizeof KEY - 1, "jane.doe@example.com", first);

    /* The domain is after the last '@'; none without one; a blank address is absent. */
    decode_form_with_email(c, "\"a@b\"@Mail.Example.org", &ev, &rec);
    assert_string_equal(ev.traits.email_domain, "mail.example.org");
    decode_form_with_email(c, "no-at-sign", &ev, &rec);
    assert_null(ev.traits.email_domain);
    assert_non_null(ev.traits.email_hash);
    decode_form_with_email(c, "trailing@", &ev, &rec);
    assert_null(ev.traits.email_domain);
    decode_form_with_email(c, "   ", &ev, &rec);
    assert_null(ev.traits.email_domain);
    assert_null(ev.traits.email_hash);
    decode_form_with_email(c, NULL, &ev, &rec);
    assert_null(ev.traits.email_hash);

    /* Identity events carry traits too. */
    char err[256];
    hf_event_t in = sample(HF_EV_IDENTITY, true);
    in.traits.email = "Jane.Doe@example.com";
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(codec_decode_input(c, rec.data, rec.len, &ev, err, sizeof err), 0);
    assert_string_equal(ev.traits.email_hash, first);

    /* Error messages name the field, never the address. */
    codec_opts_t small = {.email_key = KEY, .email_key_len = sizeof KEY - 1, .max_field_bytes = 8};
    codec_t *limited = new_codec_with(&small);
    in = sample(HF_EV_FORM, false);
    in.traits.email = "Jane.Doe@example.com";
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(limited, &in, &rec), 0);
    assert_int_equal(codec_decode_input(limited, rec.data, rec.len, &ev, err, sizeof err),
                     CODEC_E_LIMIT);
    assert_non_null(strstr(err, "traits.email"));
    assert_no_substring(err, "jane");

    codec_free(limited);
    hf_buf_free(&rec);
    codec_free(c);
}

static void test_empty_key(void **state)
{
    (void)state;
    codec_opts_t opts = {0};
    codec_t *c = new_codec_with(&opts);
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char want[33];
    decode_form_with_email(c, "a@b.c", &ev, &rec);
    expected_hash((const uint8_t *)"", 0, "a@b.c", want);
    assert_string_equal(ev.traits.email_hash, want);
    codec_free(c);

    /* Keys longer than SHA-256's block are hashed first (RFC 2104); 64 is not. */
    uint8_t key[100];
    for (size_t len = 63; len <= sizeof key; len += 37) {
        for (size_t i = 0; i < len; i++)
            key[i] = (uint8_t)(i * 7 + 1);
        opts = (codec_opts_t){.email_key = key, .email_key_len = len};
        c = new_codec_with(&opts);
        decode_form_with_email(c, "a@b.c", &ev, &rec);
        expected_hash(key, len, "a@b.c", want);
        assert_string_equal(ev.traits.email_hash, want);
        codec_free(c);
    }
    hf_buf_free(&rec);
}

static void test_warm_decode_allocates_nothing(void **state)
{
    (void)state;
#ifdef COUNT_ALLOCATIONS
    codec_t *c = new_codec();
    hf_buf_t recs[HF_EV__COUNT * 2];
    hf_event_t ev;
    char err[256];
    for (int i = 0; i < HF_EV__COUNT * 2; i++) {
        recs[i] = (hf_buf_t)HF_BUF_INIT;
        hf_event_t in = sample((hf_event_kind_t)(i / 2), i % 2);
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
        cmocka_unit_test(test_outputs_to_json),
        cmocka_unit_test(test_lifecycle_and_dead_letter_to_json),
        cmocka_unit_test(test_inputs_to_json),
        cmocka_unit_test(test_outputs_need_required_fields),
        cmocka_unit_test(test_json_output_format),
        cmocka_unit_test(test_body_to_json),
        cmocka_unit_test(test_old_web_visit_resolves),
        cmocka_unit_test(test_plan_resolution_rules),
        cmocka_unit_test(test_plan_refuses_unresolvable),
        cmocka_unit_test(test_framing_errors),
        cmocka_unit_test(test_truncated_at_every_cut),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_email_hashing),
        cmocka_unit_test(test_email_domain_and_messages),
        cmocka_unit_test(test_empty_key),
        cmocka_unit_test(test_warm_decode_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
