/* Stage 1: stitching anonymous history to the contact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "processors/identity/identity.h"
#include "testkit.h"

typedef struct fixture {
    hf_rules_t *rules;
    anon_state_t *s;
    tk_rec_t rec;
    identity_sink_t sink;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = tk_rules_new();
    f.s = anon_state_new();
    f.sink = tk_identity_sink(&f.rec);
    *state = &f;
    return f.s ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tk_rec_clear(&f->rec);
    anon_state_free(f->s);
    hf_rules_free(f->rules);
    return 0;
}

/* Folds an event whose "raw bytes" are @raw (a readable label). */
static identity_result_t fold(fixture_t *f, const hf_event_t *ev, const char *raw, int expect)
{
    identity_result_t res;
    memset(&res, 0xab, sizeof res); /* must be overwritten */
    assert_int_equal(identity_fold(f->s, ev, raw, strlen(raw), f->rules, &f->sink, &res), expect);
    return res;
}

static void assert_forward(const fixture_t *f, size_t i, const char *contact, const char *raw)
{
    assert_true(i < f->rec.forward_count);
    assert_string_equal(f->rec.forwards[i].contact_id, contact);
    assert_int_equal(f->rec.forwards[i].raw_len, strlen(raw));
    assert_memory_equal(f->rec.forwards[i].raw, raw, strlen(raw));
}

static void test_replay_in_event_time_order(void **state)
{
    fixture_t *f = *state;
    int64_t t = TK_T0;
    /* arrival order differs from event-time order; two share a time */
    hf_event_t v3 = tk_visit("e3", t + 3000, "a-1", NULL, "s1", "/c", NULL);
    hf_event_t v1 = tk_visit("e1", t + 1000, "a-1", NULL, "s1", "/a", NULL);
    hf_event_t v2a = tk_visit("e2a", t + 2000, "a-1", NULL, "s1", "/b1", NULL);
    hf_event_t v2b = tk_visit("e2b", t + 2000, "a-1", NULL, "s1", "/b2", NULL);
    identity_result_t res = fold(f, &v3, "raw-3", 0);
    assert_int_equal(res.buffered, 1);
    assert_int_equal(res.forwarded, 0);
    assert_false(res.identified);
    fold(f, &v2a, "raw-2a", 0);
    fold(f, &v1, "raw-1", 0);
    fold(f, &v2b, "raw-2b", 0);
    assert_int_equal(anon_state_buffered(f->s), 4);
    assert_null(anon_state_contact(f->s));
    assert_int_equal(f->rec.forward_count, 0);

    hf_event_t form = tk_form("e4", t + 500, "a-1", "c-1", HF_FORM_CONTENT_GATE);
    res = fold(f, &form, "raw-form", 0);
    assert_true(res.identified);
    assert_int_equal(res.forwarded, 5);
    assert_int_equal(res.buffered, 0);
    assert_int_equal(res.relinked, 0);
    assert_int_equal(f->rec.forward_count, 5);
    assert_forward(f, 0, "c-1", "raw-1");
    assert_forward(f, 1, "c-1", "raw-2a"); /* stable among equal times */
    assert_forward(f, 2, "c-1", "raw-2b");
    assert_forward(f, 3, "c-1", "raw-3");
    assert_forward(f, 4, "c-1", "raw-form"); /* the identifying record comes last */
    assert_string_equal(anon_state_contact(f->s), "c-1");
    assert_int_equal(anon_state_buffered(f->s), 0);

    /* afterwards anonymous events go straight to the contact */
    hf_event_t later = tk_visit("e5", t + 9000, "a-1", NULL, "s2", "/d", NULL);
    res = fold(f, &later, "raw-5", 0);
    assert_false(res.identified);
    assert_int_equal(res.forwarded, 1);
    assert_int_equal(res.buffered, 0);
    assert_forward(f, 5, "c-1", "raw-5");
}

static void test_relink_newest_identify_wins(void **state)
{
    fixture_t *f = *state;
    hf_event_t id1 = tk_identify("i1", TK_T0, "a-1", "c-1");
    identity_result_t res = fold(f, &id1, "id-1", 0);
    assert_true(res.identified);
    assert_int_equal(res.forwarded, 1);

    hf_event_t same = tk_visit("v", TK_T0 + 1, "a-1", "c-1", "s", "/", NULL);
    res = fold(f, &same, "same", 0);
    assert_false(res.identified);
    assert_int_equal(res.relinked, 0);

    hf_event_t id2 = tk_identify("i2", TK_T0 + 2, "a-1", "c-2");
    res = fold(f, &id2, "id-2", 0);
    assert_false(res.identified);
    assert_int_equal(res.relinked, 1);
    assert_int_equal(res.forwarded, 1);
    assert_forward(f, 2, "c-2", "id-2");
    assert_string_equal(anon_state_contact(f->s), "c-2");

    hf_event_t anon = tk_visit("v2", TK_T0 + 3, "a-1", NULL, "s", "/", NULL);
    fold(f, &anon, "anon", 0);
    assert_forward(f, 3, "c-2", "anon");
}

static void test_blocked_ids_never_identify(void **state)
{
    fixture_t *f = *state;
    hf_event_t form = tk_form("f", TK_T0, "a-1", " undefined", HF_FORM_NEWSLETTER);
    identity_result_t res = fold(f, &form, "f", 0);
    assert_false(res.identified);
    assert_int_equal(res.buffered, 1);
    assert_null(anon_state_contact(f->s));

    hf_event_t bad = tk_visit("v", TK_T0, "null", NULL, "s", "/", NULL);
    res = fold(f, &bad, "v", -EINVAL);
    assert_int_equal(res.forwarded + res.buffered, 0);
    assert_int_equal(anon_state_buffered(f->s), 1);
}

static void test_evict_by_count(void **state)
{
    fixture_t *f = *state;
    f->rules->stitching.max_events = 3;
    /* event times (minutes): 5, 1, 4, 2, 3 */
    const int minutes[] = {5, 1, 4, 2, 3};
    const uint32_t evicted[] = {0, 0, 0, 1, 1};
    char raw[5][16], id[5][8];
    for (int i = 0; i < 5; i++) {
        snprintf(raw[i], sizeof raw[i], "m%d", minutes[i]);
        snprintf(id[i], sizeof id[i], "e%d", i);
        hf_event_t v =
            tk_visit(id[i], TK_T0 + minutes[i] * TK_MINUTE_MS, "a-1", NULL, "s", "/", NULL);
        identity_result_t res = fold(f, &v, raw[i], 0);
        assert_int_equal(res.buffered, 1);
        assert_int_equal(res.evicted, evicted[i]);
    }
    assert_int_equal(anon_state_buffered(f->s), 3);
    hf_event_t id1 = tk_identify("i", TK_T0 + 10 * TK_MINUTE_MS, "a-1", "c-1");
    identity_result_t res = fold(f, &id1, "id", 0);
    assert_int_equal(res.forwarded, 4);
    /* the two oldest by event time (1, 2) went */
    assert_forward(f, 0, "c-1", "m3");
    assert_forward(f, 1, "c-1", "m4");
    assert_forward(f, 2, "c-1", "m5");
    assert_forward(f, 3, "c-1", "id");
}

static void test_evict_by_age(void **state)
{
    fixture_t *f = *state;
    f->rules->stitching.max_age_ms = TK_HOUR_MS;
    hf_event_t a = tk_visit("a", TK_T0, "a-1", NULL, "s", "/", NULL);
    hf_event_t b = tk_visit("b", TK_T0 + 30 * TK_MINUTE_MS, "a-1", NULL, "s", "/", NULL);
    hf_event_t c = tk_visit("c", TK_T0 + 2 * TK_HOUR_MS, "a-1", NULL, "s", "/", NULL);
    hf_event_t d = tk_visit("d", TK_T0 + 90 * TK_MINUTE_MS, "a-1", NULL, "s", "/", NULL);
    hf_event_t e = tk_visit("e", TK_T0 + 59 * TK_MINUTE_MS, "a-1", NULL, "s", "/", NULL);
    assert_int_equal(fold(f, &a, "a", 0).evicted, 0);
    assert_int_equal(fold(f, &b, "b", 0).evicted, 0);
    assert_int_equal(fold(f, &c, "c", 0).evicted, 2); /* a (2h) and b (1h30) are too old */
    assert_int_equal(fold(f, &d, "d", 0).evicted, 0); /* late but within the hour */
    identity_result_t res = fold(f, &e, "e", 0);      /* late and too old: dropped at once */
    assert_int_equal(res.buffered, 1);
    assert_int_equal(res.evicted, 1);
    assert_int_equal(anon_state_buffered(f->s), 2);
    hf_event_t id1 = tk_identify("i", TK_T0 + 3 * TK_HOUR_MS, "a-1", "c-1");
    fold(f, &id1, "id", 0);
    assert_int_equal(f->rec.forward_count, 3);
    assert_forward(f, 0, "c-1", "d");
    assert_forward(f, 1, "c-1", "c");
    assert_forward(f, 2, "c-1", "id");
}

static void test_sink_error_keeps_buffer(void **state)
{
    fixture_t *f = *state;
    hf_event_t a = tk_visit("a", TK_T0, "a-1", NULL, "s", "/", NULL);
    fold(f, &a, "a", 0);
    f->rec.fail_with = -EIO;
    hf_event_t id1 = tk_identify("i", TK_T0 + 1, "a-1", "c-1");
    fold(f, &id1, "id", -EIO);
    assert_null(anon_state_contact(f->s));
    assert_int_equal(anon_state_buffered(f->s), 1);
    f->rec.fail_with = 0;
    identity_result_t res = fold(f, &id1, "id", 0);
    assert_true(res.identified);
    assert_forward(f, 0, "c-1", "a");
    assert_forward(f, 1, "c-1", "id");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_in_event_time_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relink_newest_identify_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_ids_never_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error_keeps_buffer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
