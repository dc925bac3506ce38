/* Unit tests of the dead-letter paths through the stages' seam (daemon/stage.h,
 * daemon/dlq.h): what cannot be processed goes to the DLQ with its coordinates,
 * original bytes and reason, is counted by reason, and processing carries on. */
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

/* The one dead letter produced, checked: keyed like its origin, counted under
 * @reason_class, its JSON naming @topic and containing @needle. */
static void assert_dead_letter(kit_t *k, const char *key, const char *reason_class,
                               const char *topic, const char *needle)
{
    assert_int_equal(kit_count(k, OUT_DLQ), 1);
    assert_int_equal(k->ctr[M_DLQ], 1);
    assert_int_equal(metrics_named(k->metrics, "dlq", reason_class), 1);
    const kit_record_t *r = kit_nth(k, OUT_DLQ, 0);
    assert_int_equal(r->partition, STAGE_NO_PARTITION);
    if (key)
        assert_string_equal(r->key, key);
    else
        assert_null(r->key);
    char *json = kit_json(k, r);
    char want[256];
    snprintf(want, sizeof want, "\"topic\": \"%s\"", topic);
    if (!strstr(json, want) || !strstr(json, needle))
        print_error("dead letter: %s\n", json);
    assert_non_null(strstr(json, want));
    assert_non_null(strstr(json, needle));
    free(json);
}

static void test_undecodable(void **state)
{
    kit_t *k = *state;
    const char junk[] = "{\"not\": \"avro\"}";
    assert_int_equal(kit_consume_bytes(k, ROLE_WEB, "a-1", junk, sizeof junk - 1), 0);
    assert_dead_letter(k, "a-1", "framing", k->cfg->topics.web_visits, "\"offset\": 0");
    assert_int_equal(k->ctr[M_FOLDED], 0);
}

static void test_no_value(void **state)
{
    kit_t *k = *state;
    assert_int_equal(kit_consume_bytes(k, ROLE_EMAIL, "c-1", NULL, 0), 0);
    assert_dead_letter(k, "c-1", "empty", k->cfg->topics.email_engagement, "record has no value");
}

static void test_wrong_kind_for_topic(void **state)
{
    kit_t *k = *state;
    hf_event_t v = kit_visit("v-1", KIT_T0, "a-1", NULL, "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_FORM, &v, "a-1"), 0);
    assert_dead_letter(k, "a-1", "wrong_topic", k->cfg->topics.form_submissions,
                       "a WebVisit record does not belong on");
    assert_null(kit_contact(k, "c-1"));
}

static void test_wrong_kind_for_repartition_topic(void **state)
{
    kit_t *k = *state;
    hf_event_t v = kit_visit("v-1", KIT_T0, "a-1", NULL, "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_BY_ACCOUNT, &v, "acct-1"), 0);
    assert_dead_letter(k, "acct-1", "wrong_topic", k->cfg->topics.by_account,
                       "a WebVisit record does not belong on");
}

static void test_blocked_anonymous_id(void **state)
{
    kit_t *k = *state;
    hf_event_t v = kit_visit("v-1", KIT_T0, "undefined", NULL, "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v, "undefined"), 0);
    assert_dead_letter(k, "undefined", "blocked_id", k->cfg->topics.web_visits,
                       "anonymous_id is missing or blocked (\\\"undefined\\\")");
    assert_int_equal(k->ctr[M_BUFFERED], 0);
}

/* A blocked anonymous id that names its contact still reaches the journey. */
static void test_blocked_anonymous_id_with_a_contact(void **state)
{
    kit_t *k = *state;
    hf_event_t v = kit_visit("v-1", KIT_T0, "null", "c-1", "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v, "null"), 0);
    assert_int_equal(kit_count(k, OUT_DLQ), 0);
    assert_int_equal(k->ctr[M_FOLDED], 1);
}

static void test_repartitioned_record_without_key(void **state)
{
    kit_t *k = *state;
    hf_event_t v = kit_visit("v-1", KIT_T0, "a-1", NULL, "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_BY_CONTACT, &v, NULL), 0);
    assert_dead_letter(k, NULL, "blocked_id", k->cfg->topics.by_contact,
                       "repartitioned record without a valid key");
}

static void test_unknown_handoff_feedback_for_a_contact(void **state)
{
    kit_t *k = *state;
    hf_event_t v = kit_visit("v-1", KIT_T0, "a-1", "c-1", "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v, "a-1"), 0);
    hf_event_t s =
        kit_sales("s-1", KIT_T0 + 1000, HF_ENTITY_CONTACT, "c-1", HF_SALES_ACCEPTED, "ho_nope");
    assert_int_equal(kit_consume(k, ROLE_SALES, &s, "c-1"), 0);
    assert_dead_letter(k, "c-1", "unknown_handoff", k->cfg->topics.sales_activity,
                       "names handoff ho_nope, which is none of its handoffs");
    assert_int_equal(k->ctr[M_FEEDBACK], 0);
    /* remembered: the same record again is a repeat, not a second dead letter */
    assert_int_equal(kit_consume(k, ROLE_SALES, &s, "c-1"), 0);
    assert_int_equal(kit_count(k, OUT_DLQ), 1);
    assert_int_equal(k->ctr[M_DUPLICATES], 1);
}

/* Account feedback is re-keyed to stage 3 (here, the mailbox); its dead letter still
 * names the record consumed. */
static void test_unknown_handoff_feedback_for_an_account(void **state)
{
    kit_t *k = *state;
    hf_event_t s =
        kit_sales("s-1", KIT_T0, HF_ENTITY_ACCOUNT, "acct-1", HF_SALES_ACCEPTED, "ho_nope");
    assert_int_equal(kit_consume(k, ROLE_SALES, &s, "acct-1"), 0);
    assert_int_equal(k->ctr[M_FORWARDED], 1);
    assert_dead_letter(k, "acct-1", "unknown_handoff", k->cfg->topics.sales_activity,
                       "sales activity for account acct-1 names handoff ho_nope");
}

/* State that does not decode: the record is dead-lettered, not the daemon stopped.
 * Found while firing clocks, the dead letter names the stage's internal topic at no
 * partition and offset, with an empty value. */
static void test_corrupt_state_while_firing_clocks(void **state)
{
    kit_t *k = *state;
    kit_store_put(k, STORE_CF_CONTACT, "c-bad", "garbage", 7);
    assert_int_equal(timers_set(k->timers, HF_ENTITY_CONTACT, "c-bad", KIT_T0), 0);
    assert_int_equal(clocks_fire(&k->ctx, KIT_T0 + 1, 100), 0);
    assert_dead_letter(k, NULL, "state_corrupt", k->cfg->topics.by_contact, "\"offset\": -1001");
    char *json = kit_json(k, kit_nth(k, OUT_DLQ, 0));
    assert_non_null(strstr(json, "\"partition\": -1"));
    free(json);
    assert_int_equal(k->ctr[M_TIMERS_FIRED], 0);
    assert_int_equal(timers_count(k->timers), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_undecodable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind_for_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind_for_repartition_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_anonymous_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_anonymous_id_with_a_contact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repartitioned_record_without_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_handoff_feedback_for_a_contact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_handoff_feedback_for_an_account, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_state_while_firing_clocks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
