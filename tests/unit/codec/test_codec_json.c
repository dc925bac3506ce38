/* The codec's JSON (codec/codec_walk.c, codec/codec_json.c): every output and input
 * as Avro's JSON encoding, the JSON output format, bodies of a named schema. */
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
#include "codec/codec_schemas.h"
#include "codec_testkit.h"

/* --- outputs -------------------------------------------------------------------------- */

static void test_outputs_to_json(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT, json = HF_BUF_INIT;
    char err[256];

    hf_handoff_t h = oracle_sample_handoff();
    assert_int_equal(codec_encode_handoff(c, &h, &rec), 0);
    assert_int_equal(codec_peek_kind(c, rec.data, rec.len), -1);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    assert_null(memchr(json.data, '\n', json.len));
    ck_assert_contains(&json, "\"handoff_id\": \"h-42\"");
    ck_assert_contains(&json, "\"entity_type\": \"contact\"");
    ck_assert_contains(&json, "\"account_id\": {\"string\": \"acct-1\"}");
    ck_assert_contains(&json, "\"rule\": \"hand_raiser\"");
    ck_assert_contains(&json, "\"qualified_at\": 3000");
    ck_assert_contains(&json, "\"score\": 87");
    ck_assert_contains(&json, "\"detail\": \"3 visits\"");
    ck_assert_contains(&json, "\"known_since\": {\"long\": 900}");
    ck_assert_contains(&json, "\"title\": null, \"views\": 1");
    ck_assert_contains(&json, "\"type\": \"ebook\"");
    ck_assert_contains(&json, "\"minutes\": 45");
    ck_assert_contains(&json, "\"last_campaign\": {\"string\": \"nurture\"}");
    ck_assert_contains(&json, "\"detail\": {\"string\": \"45 min\"}");
    ck_assert_contains(&json, "\"weight\": 0.75");
    ck_assert_contains(&json, "\"role\": \"decision_maker\"");
    ck_assert_contains(&json, "\"roles_covered\": [\"decision_maker\", \"champion\"]");
    ck_assert_contains(&json, "\"team\": {\"string\": \"emea-smb\"}, \"region\": null");
    ck_assert_contains(&json, "\"first_touch_by\": 180000");
    json_decref(ck_parse_json(&json));

    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

static void test_lifecycle_and_dead_letter_to_json(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
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
    ck_assert_contains(&json, "\"topic\": \"mkt.web.visits\", \"partition\": 3, \"offset\": 12345");
    ck_assert_contains(&json, "\"key\": {\"bytes\": \"k1\"}");
    /* Every byte, zeros included (Avro-C's own renderer stops at the first zero). */
    ck_assert_contains(&json, "\"value\": {\"bytes\": \"\\u00c3\\u0001\\u0000\\u00ffa\"}");
    json_t *root = ck_parse_json(&json);
    json_t *bytes = json_object_get(json_object_get(root, "value"), "bytes");
    assert_non_null(bytes);
    /* Byte b is code point b: c3 and ff take two bytes of UTF-8 each. */
    assert_int_equal(json_string_length(bytes), 7);
    assert_memory_equal(json_string_value(bytes),
                        "\xc3\x83\x01\x00\xc3\xbf"
                        "a",
                        7);
    json_decref(root);
    ck_assert_contains(&json, "\"error\": \"truncated: record ends inside field url\", \"at\": 99");
    dl.key = NULL;
    hf_buf_reset(&rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_encode_dead_letter(c, &dl, &rec), 0);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    ck_assert_contains(&json, "\"key\": null");

    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

static void test_inputs_to_json(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT, json = HF_BUF_INIT;
    char err[256];
    json_t *root;

    /* Inputs render too, all of them as JSON that parses. */
    ck_encode_sample(c, HF_EV_SALES, true, &rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    ck_assert_contains(&json, "\"action\": \"recycled\"");
    for (int k = 0; k < HF_EV__COUNT; k++) {
        for (int o = 0; o < 2; o++) {
            ck_encode_sample(c, (hf_event_kind_t)k, o, &rec);
            hf_buf_reset(&json);
            assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
            json_decref(ck_parse_json(&json));
        }
    }
    /* Named union branches go by their full name; text is escaped to ASCII. */
    ck_encode_sample(c, HF_EV_IDENTITY, true, &rec);
    hf_buf_reset(&json);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    ck_assert_contains(&json, "\"traits\": {\"handoff.v1.Traits\": {\"email\": null");
    ck_assert_contains(&json, "\"employees\": {\"int\": 0}");
    hf_event_t text = ck_sample(HF_EV_DOWNLOAD, true);
    text.asset_title = "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ \x01\n";
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &text, &rec), 0);
    hf_buf_reset(&json);
    assert_int_equal(codec_record_to_json(c, rec.data, rec.len, &json, err, sizeof err), 0);
    ck_assert_contains(&json,
                       "\"asset_title\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\u0001\\n\"");
    root = ck_parse_json(&json);
    assert_string_equal(json_string_value(json_object_get(root, "asset_title")), text.asset_title);
    json_decref(root);

    hf_buf_free(&rec);
    hf_buf_free(&json);
    codec_free(c);
}

static void test_outputs_need_required_fields(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
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
        .email_key = CK_KEY, .email_key_len = sizeof CK_KEY - 1, .output_format = HF_OUTPUT_JSON};
    codec_t *c = ck_codec_with(&opts);
    hf_buf_t out = HF_BUF_INIT;
    hf_handoff_t h = oracle_sample_handoff();
    assert_int_equal(codec_encode_handoff(c, &h, &out), 0);
    assert_int_equal(out.data[0], '{');
    assert_int_equal(out.data[out.len - 1], '}');
    assert_null(memchr(out.data, '\n', out.len));
    ck_assert_contains(&out, "\"handoff_id\": \"h-42\"");
    json_decref(ck_parse_json(&out));
    for (int k = 0; k < HF_EV__COUNT; k++) {
        hf_buf_reset(&out);
        hf_event_t ev = ck_sample((hf_event_kind_t)k, true);
        assert_int_equal(codec_encode_input(c, &ev, &out), 0);
        json_t *root = ck_parse_json(&out);
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

/* A Digest with output.format json: one line, the nested records and nulls in
 * Avro's JSON encoding. */
static void test_digest_json(void **state)
{
    (void)state;
    codec_opts_t opts = {
        .email_key = CK_KEY, .email_key_len = sizeof CK_KEY - 1, .output_format = HF_OUTPUT_JSON};
    codec_t *c = ck_codec_with(&opts);
    hf_buf_t out = HF_BUF_INIT;
    digest_out_case_t waiting[] = {{.handoff_id = "ho_1",
                                    .entity_type = "contact",
                                    .entity_id = "c-1",
                                    .owner_id = "rep-7",
                                    .reason = "hand_raiser (web)",
                                    .interests = "pricing, sso",
                                    .handed_off_at_ms = 10,
                                    .next_deadline_ms = 20,
                                    .has_next_deadline = true}};
    digest_out_mark_t breach = {"ho_2", "c-2", NULL, "accept", 1, 30};
    digest_out_t d = {.digest_id = "dg_1",
                      .team = "emea",
                      .owner_id = "rep-7",
                      .date = "2026-12-07",
                      .window_start_ms = 1,
                      .window_end_ms = 2,
                      .emitted_at_ms = 3,
                      .waiting = waiting,
                      .waiting_count = 1,
                      .breaches = &breach,
                      .breach_count = 1,
                      .standing = {.met = 2, .median_accept_ms = 600, .has_median_accept = true},
                      .rank = 1,
                      .has_rank = true,
                      .ranked = 3};
    assert_int_equal(codec_encode_digest(c, &d, &out), 0);
    assert_null(memchr(out.data, '\n', out.len));
    ck_assert_contains(&out, "\"digest_id\": \"dg_1\"");
    ck_assert_contains(&out, "\"interests\": {\"string\": \"pricing, sso\"}");
    ck_assert_contains(&out, "\"next_deadline\": {\"long\": 20}");
    ck_assert_contains(&out, "\"sla\": \"accept\"");
    ck_assert_contains(&out, "\"median_first_touch_ms\": null");
    ck_assert_contains(&out, "\"rank\": {\"int\": 1}");
    json_decref(ck_parse_json(&out));
    /* the team's digest: no owner, no rank */
    hf_buf_reset(&out);
    d.owner_id = NULL;
    d.has_rank = false;
    assert_int_equal(codec_encode_digest(c, &d, &out), 0);
    ck_assert_contains(&out, "\"owner_id\": null");
    ck_assert_contains(&out, "\"rank\": null");
    hf_buf_free(&out);
    codec_free(c);
}

static void test_body_to_json(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t json = HF_BUF_INIT;
    char err[256];
    /* A LifecycleChange body without its header. */
    ck_wbuf_t w = {.n = 0};
    ck_w_long(&w, 0);
    ck_w_str(&w, "c-1");
    ck_w_str(&w, "known");
    ck_w_str(&w, "engaged");
    ck_w_long(&w, 5);
    ck_w_str(&w, "why");
    assert_int_equal(codec_body_to_json(c, "LifecycleChange", w.b, w.n, &json, err, sizeof err), 0);
    ck_assert_contains(&json, "\"cause\": \"why\"");
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
        ck_w_long(&w, 1); /* schema_version */
        ck_w_long(&w, 1); /* contact_id: string */
        ck_w_str(&w, "c-9");
        ck_w_long(&w, 0); /* first_seen: null */
        ck_w_long(&w, 0); /* last_seen: null */
        ck_w_long(&w, 0); /* buffered: [] */
        hf_buf_reset(&json);
        int r = codec_body_to_json(c, "AnonState", w.b, w.n, &json, err, sizeof err);
        if (r)
            fail_msg("AnonState: %s", err);
        ck_assert_contains(&json, "\"contact_id\": {\"string\": \"c-9\"}");
    }
    hf_buf_free(&json);
    codec_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_to_json),
        cmocka_unit_test(test_lifecycle_and_dead_letter_to_json),
        cmocka_unit_test(test_inputs_to_json),
        cmocka_unit_test(test_outputs_need_required_fields),
        cmocka_unit_test(test_json_output_format),
        cmocka_unit_test(test_digest_json),
        cmocka_unit_test(test_body_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
