/* Unit tests of handoffctl's output writers without a broker: JSON string literals
 * from any bytes (json.c), JSON values checked and compacted (json.c), and e-mail
 * local parts hidden (redact.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "json.h"
#include "redact.h"

/* @len bytes of @s as a JSON string literal, into @out (NUL-terminated). */
static void string_of(const char *s, size_t len, char *out, size_t outsz)
{
    hf_buf_t b = HF_BUF_INIT;
    hfctl_json_string(&b, s, len);
    assert_true(b.len < outsz);
    memcpy(out, b.data, b.len);
    out[b.len] = 0;
    hf_buf_free(&b);
}

static void test_string_keeps_utf8_and_escapes_the_rest(void **state)
{
    (void)state;
    char out[128];
    string_of("caf\xc3\xa9 \xe6\x97\xa5", 9, out, sizeof out);
    assert_string_equal(out, "\"caf\xc3\xa9 \xe6\x97\xa5\"");
    string_of("a\"b\\c\nd\te\rf", 11, out, sizeof out);
    assert_string_equal(out, "\"a\\\"b\\\\c\\nd\\te\\rf\"");
    string_of("\x01\x7f", 2, out, sizeof out);
    assert_string_equal(out, "\"\\u0001\\u007f\"");
    /* A lone continuation byte, an overlong form, a surrogate, a cut sequence:
     * each byte escaped by its value. */
    string_of("\x80", 1, out, sizeof out);
    assert_string_equal(out, "\"\\u0080\"");
    string_of("\xc0\xaf", 2, out, sizeof out);
    assert_string_equal(out, "\"\\u00c0\\u00af\"");
    string_of("\xed\xa0\x80", 3, out, sizeof out);
    assert_string_equal(out, "\"\\u00ed\\u00a0\\u0080\"");
    string_of("x\xe6\x97", 3, out, sizeof out);
    assert_string_equal(out, "\"x\\u00e6\\u0097\"");
    string_of("a\0b", 3, out, sizeof out);
    assert_string_equal(out, "\"a\\u0000b\"");
}

/* hfctl_json_compact() of @in: 0 and @want, or -EINVAL with the offset @want_at. */
static void compact_is(const char *in, const char *want, size_t want_at)
{
    hf_buf_t b = HF_BUF_INIT;
    hf_buf_append_str(&b, "x"); /* what was there before stays */
    size_t at = 12345;
    int r = hfctl_json_compact(&b, in, strlen(in), &at);
    if (want) {
        assert_int_equal(r, 0);
        assert_int_equal(b.len, 1 + strlen(want));
        assert_memory_equal(b.data + 1, want, strlen(want));
    } else {
        assert_int_equal(r, -EINVAL);
        assert_int_equal(at, want_at);
        assert_int_equal(b.len, 1);
    }
    hf_buf_free(&b);
}

static void test_compact_passes_json_through(void **state)
{
    (void)state;
    compact_is(" { \"a\" : [ 1 , -2.5e+3 , true , null ] ,\n\t\"b\" : \"x y\" } ",
               "{\"a\":[1,-2.5e+3,true,null],\"b\":\"x y\"}", 0);
    compact_is("[]", "[]", 0);
    compact_is("{ }", "{}", 0);
    compact_is("\"\\u00e9\\n\"", "\"\\u00e9\\n\"", 0);
    compact_is("0", "0", 0);
}

static void test_compact_refuses_what_is_not_json(void **state)
{
    (void)state;
    compact_is("{\"a\":1,}", NULL, 7);
    compact_is("{\"a\" 1}", NULL, 5);
    compact_is("[1] 2", NULL, 4);
    compact_is("[01]", NULL, 2);
    compact_is("[1.]", NULL, 3);
    compact_is("\"tab\there\"", NULL, 4);
    compact_is("\"\\x\"", NULL, 1);
    compact_is("[tru]", NULL, 1);
    compact_is("", NULL, 0);
}

static void test_compact_bounds_nesting(void **state)
{
    (void)state;
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = 0;
    compact_is(deep, deep, 0); /* 64 levels */
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = 0;
    compact_is(deep, NULL, 64); /* the 65th opening bracket */
}

/* hfctl_redact_emails() of @in is @want. */
static void redacted_is(const char *in, const char *want)
{
    hf_buf_t line = HF_BUF_INIT, out = HF_BUF_INIT;
    hf_buf_append_str(&line, in);
    hfctl_redact_emails(&out, &line);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    hf_buf_free(&line);
    hf_buf_free(&out);
}

static void test_redact_hides_local_parts_in_strings(void **state)
{
    (void)state;
    redacted_is("{\"email\":\"jane.doe+x@acme.com\"}", "{\"email\":\"***@acme.com\"}");
    redacted_is("{\"t\":\"to a@b.io, c@d.org\"}", "{\"t\":\"to ***@b.io, ***@d.org\"}");
    /* Not addresses: no local part, no dot in the domain, a domain ending in a dot. */
    redacted_is("{\"t\":\"@acme.com x@localhost y@z.\"}", "{\"t\":\"@acme.com x@localhost y@z.\"}");
    /* Escapes are copied whole, never split: the result stays valid JSON. */
    redacted_is("{\"t\":\"a\\\"b@c.com\"}", "{\"t\":\"a\\\"***@c.com\"}");
    redacted_is("{\"t\":\"\\u0040x.com\"}", "{\"t\":\"\\u0040x.com\"}");
    /* Only strings are looked into. */
    redacted_is("[1,\"q@r.st\",2]", "[1,\"***@r.st\",2]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_keeps_utf8_and_escapes_the_rest),
        cmocka_unit_test(test_compact_passes_json_through),
        cmocka_unit_test(test_compact_refuses_what_is_not_json),
        cmocka_unit_test(test_compact_bounds_nesting),
        cmocka_unit_test(test_redact_hides_local_parts_in_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
