/* Every error class of the codec's input decoder, its limits, and the e-mail hash
 * that replaces the address at the boundary. */
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

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec/codec.h"
#include "codec_testkit.h"

/* --- errors ---------------------------------------------------------------------------- */

static void test_framing_errors(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    ck_encode_sample(c, HF_EV_EMAIL, true, &rec);

    ck_expect_error(c, rec.data, 0, CODEC_E_FRAMING, "empty record");
    for (size_t len = 1; len < 10; len++)
        ck_expect_error(c, rec.data, len, CODEC_E_FRAMING, NULL);
    ck_expect_error(c, rec.data, 5, CODEC_E_FRAMING, "header is 5 bytes, needs 10");

    uint8_t bad[64];
    memcpy(bad, rec.data, 20);
    bad[0] = 0xc4;
    ck_expect_error(c, bad, 20, CODEC_E_FRAMING, "starts with c4 01, expected c3 01");
    bad[0] = 0xc3;
    bad[1] = 0x02;
    ck_expect_error(c, bad, 20, CODEC_E_FRAMING, NULL);
    ck_expect_error(c, "{\"json\":1}", 10, CODEC_E_FRAMING, NULL);

    memcpy(bad, rec.data, 20);
    bad[5] ^= 0x10;
    ck_expect_error(c, bad, 20, CODEC_E_UNKNOWN_SCHEMA, "unknown schema fingerprint");

    static const uint8_t confluent[] = {0x00, 0x00, 0x00, 0x01, 0x2c, 0x02, 'x'};
    ck_expect_error(
        c, confluent, sizeof confluent, CODEC_E_UNKNOWN_SCHEMA,
        "Confluent framing (schema id 300) is not supported: produce Avro single-object encoding");
    ck_expect_error(c, confluent, 3, CODEC_E_FRAMING, "Confluent");
    assert_int_equal(codec_peek_kind(c, confluent, sizeof confluent), -1);

    /* Outputs are known, but not inputs. */
    hf_lifecycle_t lc = {HF_ENTITY_CONTACT, "c", "a", "b", 1, "x"};
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_lifecycle(c, &lc, &rec), 0);
    ck_expect_error(c, rec.data, rec.len, CODEC_E_NOT_INPUT, "LifecycleChange");

    hf_buf_free(&rec);
    codec_free(c);
}

static void test_truncated_at_every_cut(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_buf_t json = HF_BUF_INIT;
    char err[256];
    for (int k = 0; k < HF_EV__COUNT; k++) {
        for (int o = 0; o < 2; o++) {
            ck_encode_sample(c, (hf_event_kind_t)k, o, &rec);
            for (size_t len = 10; len < rec.len; len++) {
                ck_expect_error(c, rec.data, len, CODEC_E_TRUNCATED, "record ends inside");
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
static void email_body(ck_wbuf_t *w, int64_t action, int64_t link_branch, const char *campaign,
                       size_t campaign_len)
{
    ck_w_header(w, codec_schema_fingerprint("EmailEngagement"));
    ck_w_str(w, "ev-1");
    ck_w_long(w, 5);
    ck_w_str(w, "marketo");
    ck_w_str(w, "c-1");
    ck_w_str(w, "e-1");
    ck_w_bytes(w, campaign, campaign_len);
    ck_w_long(w, action);
    ck_w_long(w, link_branch);
    if (link_branch == 1)
        ck_w_str(w, "https://x");
}

static void test_invalid_bodies(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    ck_wbuf_t w;
    hf_event_t ev;
    char err[256];

    email_body(&w, 2, 1, "camp", 4);
    assert_int_equal(codec_decode_input(c, w.b, w.n, &ev, err, sizeof err), 0);
    assert_int_equal(ev.email_action, HF_EMAIL_CLICKED);
    assert_string_equal(ev.link_url, "https://x");

    email_body(&w, 6, 0, "camp", 4);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "field action: enum index 6 out of range");
    email_body(&w, -1, 0, "camp", 4);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "enum index -1");
    email_body(&w, 1, 2, "camp", 4);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "field link_url: union branch 2 out of range");
    email_body(&w, 1, -1, "camp", 4);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "union branch -1");

    email_body(&w, 1, 0, "ca\0mp", 5);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "field campaign contains a NUL byte");
    email_body(&w, 1, 0, "caf\xc3", 4);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "field campaign is not valid UTF-8");
    email_body(&w, 1, 0, "\xed\xa0\x80", 3); /* a surrogate */
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "not valid UTF-8");
    email_body(&w, 1, 0, "\xc0\xaf", 2); /* overlong */
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "not valid UTF-8");

    email_body(&w, 1, 0, "camp", 4);
    w.b[w.n++] = 0;
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID,
                    "1 trailing bytes after the EmailEngagement record");
    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, w.b, w.n, &json, err, sizeof err), CODEC_E_INVALID);

    /* A length longer than the body, a negative length, an overlong varint. */
    ck_w_header(&w, codec_schema_fingerprint("EmailEngagement"));
    ck_w_long(&w, INT64_MAX);
    ck_expect_error(c, w.b, w.n, CODEC_E_TRUNCATED, "field event_id");
    ck_w_header(&w, codec_schema_fingerprint("EmailEngagement"));
    ck_w_long(&w, -3);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "field event_id");
    ck_w_header(&w, codec_schema_fingerprint("EmailEngagement"));
    for (int i = 0; i < 11; i++)
        w.b[w.n++] = 0xff;
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, NULL);

    /* An int out of int32 range. */
    ck_w_header(&w, codec_schema_fingerprint("WebinarEvent"));
    ck_w_str(&w, "e");
    ck_w_long(&w, 1);
    ck_w_str(&w, "s");
    ck_w_str(&w, "c");
    ck_w_str(&w, "w");
    ck_w_str(&w, "t");
    ck_w_long(&w, 1);
    ck_w_long(&w, (int64_t)INT32_MAX + 1);
    ck_expect_error(c, w.b, w.n, CODEC_E_INVALID, "field minutes_attended");

    hf_buf_free(&json);
    codec_free(c);
}

static void test_limits(void **state)
{
    (void)state;
    codec_opts_t opts = {.email_key = CK_KEY,
                         .email_key_len = sizeof CK_KEY - 1,
                         .max_field_bytes = 2048,
                         .max_tags = 3,
                         .max_record_bytes = 8000};
    codec_t *c = ck_codec_with(&opts);
    codec_t *unlimited = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char err[256];

    char *url = malloc(5001);
    memset(url, 'u', 5000);
    url[5000] = 0;
    hf_event_t in = ck_sample(HF_EV_WEB_VISIT, true);
    in.url = url;
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    ck_expect_error(c, rec.data, rec.len, CODEC_E_LIMIT,
                    "field url is 5000 bytes, over limits.max_field_bytes 2048");
    assert_int_equal(codec_decode_input(unlimited, rec.data, rec.len, &ev, err, sizeof err), 0);
    assert_int_equal(strlen(ev.url), 5000);
    url[2048] = 0; /* exactly at the limit */
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(codec_decode_input(c, rec.data, rec.len, &ev, err, sizeof err), 0);

    /* Nested fields are named by their path. */
    in = ck_sample(HF_EV_FORM, true);
    url[2048] = 'u';
    url[3000] = 0;
    in.traits.company_name = url;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    ck_expect_error(c, rec.data, rec.len, CODEC_E_LIMIT, "field traits.company_name is 3000 bytes");

    static const char *const four[] = {"a", "b", "c", "d"};
    in = ck_sample(HF_EV_DOWNLOAD, true);
    in.tags = four;
    in.tag_count = 4;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    ck_expect_error(c, rec.data, rec.len, CODEC_E_LIMIT,
                    "field tags has 4 items, over limits.max_tags 3");
    in.tag_count = 3;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(codec_decode_input(c, rec.data, rec.len, &ev, err, sizeof err), 0);
    assert_int_equal(ev.tag_count, 3);

    url[3000] = 'u';
    in = ck_sample(HF_EV_WEB_VISIT, true);
    in.url = url; /* 5000 */
    in.title = url;
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    ck_expect_error(c, rec.data, rec.len, CODEC_E_LIMIT, "over limits.max_record_bytes 8000");

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
    hf_event_t in = ck_sample(HF_EV_FORM, true);
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
    codec_t *c = ck_codec();
    codec_opts_t other_opts = {.email_key = CK_OTHER_KEY, .email_key_len = sizeof CK_OTHER_KEY - 1};
    codec_t *other = ck_codec_with(&other_opts);
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char want[33], first[33];

    decode_form_with_email(c, "Jane.Doe@Example.COM", &ev, &rec);
    assert_null(ev.traits.email);
    assert_string_equal(ev.traits.email_domain, "example.com");
    expected_hash(CK_KEY, sizeof CK_KEY - 1, "jane.doe@example.com", want);
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
    expected_hash(CK_OTHER_KEY, sizeof CK_OTHER_KEY - 1, "jane.doe@example.com", want);
    assert_string_equal(ev.traits.email_hash, want);

    hf_buf_free(&rec);
    codec_free(other);
    codec_free(c);
}

static void test_email_domain_and_messages(void **state)
{
    (void)state;
    codec_t *c = ck_codec();
    hf_buf_t rec = HF_BUF_INIT;
    hf_event_t ev;
    char first[33];
    expected_hash(CK_KEY, sizeof CK_KEY - 1, "jane.doe@example.com", first);

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
    hf_event_t in = ck_sample(HF_EV_IDENTITY, true);
    in.traits.email = "Jane.Doe@example.com";
    hf_buf_reset(&rec);
    assert_int_equal(codec_encode_input(c, &in, &rec), 0);
    assert_int_equal(codec_decode_input(c, rec.data, rec.len, &ev, err, sizeof err), 0);
    assert_string_equal(ev.traits.email_hash, first);

    /* Error messages name the field, never the address. */
    codec_opts_t small = {
        .email_key = CK_KEY, .email_key_len = sizeof CK_KEY - 1, .max_field_bytes = 8};
    codec_t *limited = ck_codec_with(&small);
    in = ck_sample(HF_EV_FORM, false);
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
    codec_t *c = ck_codec_with(&opts);
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
        c = ck_codec_with(&opts);
        decode_form_with_email(c, "a@b.c", &ev, &rec);
        expected_hash(key, len, "a@b.c", want);
        assert_string_equal(ev.traits.email_hash, want);
        codec_free(c);
    }
    hf_buf_free(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_errors),
        cmocka_unit_test(test_truncated_at_every_cut),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_email_hashing),
        cmocka_unit_test(test_email_domain_and_messages),
        cmocka_unit_test(test_empty_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
