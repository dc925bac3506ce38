/* Unit tests of SLA clocks falling due (daemon/clocks.h) through the stages' seam:
 * a handoff starts its clocks and indexes when they are due; firing emits a breach
 * once and indexes the next due time; a reload that recomputes moves the deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/clocks.h"
#include "stage_kit.h"

static int setup(void **state)
{
    *state = kit_new(NULL);
    return 0;
}

static int teardown(void **state)
{
    kit_free(*state);
    return 0;
}

/* A demo request: a hand-raiser, handed off at once.  Returns when its clocks are
 * next due. */
static int64_t hand_raiser(kit_t *k, const char *contact)
{
    char event_id[64];
    snprintf(event_id, sizeof event_id, "f-%s", contact);
    hf_event_t f = kit_form(event_id, k->now_ms, "a-1", contact, HF_FORM_DEMO_REQUEST, NULL);
    size_t handoffs = kit_count(k, OUT_READY);
    assert_int_equal(kit_consume(k, ROLE_FORM, &f, "a-1"), 0);
    assert_int_equal(kit_count(k, OUT_READY), handoffs + 1);
    int64_t due = timers_get(k->timers, HF_ENTITY_CONTACT, contact);
    assert_true(due > k->now_ms);
    return due;
}

static void assert_breach(kit_t *k, size_t n, const char *contact, const char *level)
{
    const kit_record_t *r = kit_nth(k, OUT_SLA, n);
    assert_non_null(r);
    assert_string_equal(r->key, contact);
    char *json = kit_json(k, r);
    if (!strstr(json, level))
        print_error("breach: %s\n", json);
    assert_non_null(strstr(json, level));
    free(json);
}

static void test_breach_emitted_once_then_rescheduled(void **state)
{
    kit_t *k = *state;
    int64_t due = hand_raiser(k, "c-1");

    assert_int_equal(clocks_fire(&k->ctx, due - 1, 100), 0);
    assert_int_equal(kit_count(k, OUT_SLA), 0);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 0);

    assert_int_equal(clocks_fire(&k->ctx, due, 100), 0);
    assert_int_equal(kit_count(k, OUT_SLA), 1);
    assert_int_equal(k->ctr[M_BREACHES], 1);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 1);
    assert_int_equal(metrics_named(k->metrics, "breaches", "accept"), 1);
    assert_breach(k, 0, "c-1", "\"level\": 1");
    int64_t next = timers_get(k->timers, HF_ENTITY_CONTACT, "c-1");
    assert_true(next > due);

    /* the same instant again, and until the next due time: nothing more */
    assert_int_equal(clocks_fire(&k->ctx, due, 100), 0);
    assert_int_equal(clocks_fire(&k->ctx, next - 1, 100), 0);
    assert_int_equal(kit_count(k, OUT_SLA), 1);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 1);

    /* then what is due next */
    assert_int_equal(clocks_fire(&k->ctx, next, 100), 0);
    assert_true(kit_count(k, OUT_SLA) > 1);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 2);
    assert_true(timers_get(k->timers, HF_ENTITY_CONTACT, "c-1") != next);
}

/* Accepting the handoff stops the accept clock: no breach of it falls due. */
static void test_answered_clock_does_not_breach(void **state)
{
    kit_t *k = *state;
    int64_t due = hand_raiser(k, "c-1");
    const kit_record_t *ready = kit_nth(k, OUT_READY, 0);
    char *json = kit_json(k, ready);
    char *id = strstr(json, "\"handoff_id\": \"");
    assert_non_null(id);
    id += strlen("\"handoff_id\": \"");
    *strchr(id, '"') = 0;
    k->now_ms += 1000;
    hf_event_t s = kit_sales("s-1", k->now_ms, HF_ENTITY_CONTACT, "c-1", HF_SALES_ACCEPTED, id);
    assert_int_equal(kit_consume(k, ROLE_SALES, &s, "c-1"), 0);
    free(json);
    assert_int_equal(k->ctr[M_FEEDBACK], 1);

    assert_int_equal(clocks_fire(&k->ctx, due, 100), 0);
    assert_int_equal(metrics_named(k->metrics, "breaches", "accept"), 0);
}

/* At most @max entities per call: the rest stay due for the next. */
static void test_fires_at_most_max(void **state)
{
    kit_t *k = *state;
    int64_t due1 = hand_raiser(k, "c-1");
    int64_t due2 = hand_raiser(k, "c-2");
    int64_t late = due1 > due2 ? due1 : due2;
    assert_int_equal(clocks_fire(&k->ctx, late, 1), 0);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 1);
    assert_int_equal(clocks_fire(&k->ctx, late, 1), 0);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 2);
    assert_int_equal(kit_count(k, OUT_SLA), 2);
}

/* sla.on_reload: recompute: after new rules, running clocks take their deadlines. */
static void test_reload_reschedules(void **state)
{
    kit_t *k = *state;
    int64_t due = hand_raiser(k, "c-1");
    static const char faster[] = "sla:\n  accept: { within: 1h }\n  on_reload: recompute\n";
    hf_config_t *cfg = NULL;
    hf_buf_t errors = HF_BUF_INIT;
    assert_int_equal(config_load_string(&cfg, "faster.yaml", faster, strlen(faster), &errors), 0);
    hf_rules_t *old = k->cfg->rules; /* as a SIGHUP reload swaps them */
    k->cfg->rules = cfg->rules;
    cfg->rules = old;

    assert_int_equal(clocks_reschedule(&k->ctx), 0);
    int64_t sooner = timers_get(k->timers, HF_ENTITY_CONTACT, "c-1");
    assert_true(sooner > 0 && sooner < due);
    assert_int_equal(clocks_fire(&k->ctx, sooner, 100), 0);
    assert_int_equal(metrics_named(k->metrics, "breaches", "accept"), 1);
    config_free(cfg);
    hf_buf_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_breach_emitted_once_then_rescheduled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answered_clock_does_not_breach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fires_at_most_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_reschedules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
