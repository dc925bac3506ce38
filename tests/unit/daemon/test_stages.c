/* Unit tests of the stages through their seam (daemon/stage.h): stage 1 stitching
 * an anonymous history and handing it over to stage 2, in this process (the
 * mailbox) or through the repartition topic; stage 2's owed summaries reaching
 * stage 3 at commit; the one error channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/stage_contact.h"
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

/* A visitor browses anonymously, then identifies: stage 1 buffers the visits and
 * hands them over, in event-time order, with the identify, to the contact's
 * journey, all inside the process. */
static void test_stitching_hands_over_to_stage_2(void **state)
{
    kit_t *k = *state;
    hf_event_t v2 = kit_visit("v-2", KIT_T0 + 2000, "a-1", NULL, "https://x.example/pricing");
    hf_event_t v1 = kit_visit("v-1", KIT_T0 + 1000, "a-1", NULL, "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v2, "a-1"), 0);
    assert_int_equal(kit_consume(k, ROLE_WEB, &v1, "a-1"), 0);
    assert_int_equal(k->ctr[M_BUFFERED], 2);
    assert_null(kit_contact(k, "c-1"));
    assert_int_equal(k->ctr[M_FOLDED], 0);

    /* the identify arrives keyed by contact: re-keyed to stage 1, which replays */
    hf_event_t id = kit_identify("i-1", KIT_T0 + 3000, "a-1", "c-1");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &id, "c-1"), 0);
    assert_int_equal(k->ctr[M_IDENTIFIED], 1);
    assert_int_equal(k->ctr[M_FOLDED], 3);
    assert_int_equal(k->ctx.run.folded, 3);
    assert_int_equal(k->ctr[M_FORWARDED], 4); /* identify to stage 1; 2 visits + it to 2 */
    assert_int_equal(k->ctr[M_REMOTE], 0);    /* all of it through the mailbox */
    contact_state_t *c = kit_contact(k, "c-1");
    assert_non_null(c);
    assert_true(contact_state_known(c));
    assert_int_equal(contact_state_last_event_ms(c), KIT_T0 + 3000);
    assert_int_equal(kit_count(k, OUT_BY_CONTACT) + kit_count(k, OUT_BY_ANON), 0);
    assert_int_equal(kit_count(k, OUT_DLQ), 0);

    /* identified: the next visit goes straight through */
    hf_event_t v3 = kit_visit("v-3", KIT_T0 + 4000, "a-1", NULL, "https://x.example/");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v3, "a-1"), 0);
    assert_int_equal(k->ctr[M_FOLDED], 4);
    assert_int_equal(k->ctr[M_BUFFERED], 2);
}

/* When another process owns the contact's partition, the hand-over goes through
 * the repartition topic: the original bytes under the contact id, stamped with
 * their event time, in the order stage 1 replays them. */
static void test_stitching_hands_over_through_the_repartition_topic(void **state)
{
    kit_t *k = *state;
    k->remote[ROLE_BY_CONTACT] = true;
    hf_event_t v1 = kit_visit("v-1", KIT_T0 + 2000, "a-1", NULL, "https://x.example/a");
    hf_event_t v2 = kit_visit("v-2", KIT_T0 + 1000, "a-1", NULL, "https://x.example/b");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v1, "a-1"), 0);
    assert_int_equal(kit_consume(k, ROLE_WEB, &v2, "a-1"), 0);
    hf_event_t form =
        kit_form("f-1", KIT_T0 + 3000, "a-1", "c-1", HF_FORM_NEWSLETTER, "ann@x.example");
    assert_int_equal(kit_consume(k, ROLE_FORM, &form, "a-1"), 0);

    assert_int_equal(kit_count(k, OUT_BY_CONTACT), 3);
    assert_int_equal(k->ctr[M_REMOTE], 3);
    assert_int_equal(k->ctr[M_FOLDED], 0); /* folded by the owner, not here */
    const int64_t at[3] = {KIT_T0 + 1000, KIT_T0 + 2000, KIT_T0 + 3000};
    for (size_t i = 0; i < 3; i++) {
        const kit_record_t *r = kit_nth(k, OUT_BY_CONTACT, i);
        assert_string_equal(r->key, "c-1");
        assert_int_equal(r->partition, 0);
        assert_int_equal(r->timestamp_ms, at[i]);
    }
    /* the bytes are the input record's: the owner consumes them as they are */
    k->remote[ROLE_BY_CONTACT] = false;
    const kit_record_t *first = kit_nth(k, OUT_BY_CONTACT, 0);
    assert_int_equal(
        kit_consume_bytes(k, ROLE_BY_CONTACT, first->key, first->value, first->value_len), 0);
    assert_int_equal(k->ctr[M_FOLDED], 1);
    assert_int_equal(contact_state_last_event_ms(kit_contact(k, "c-1")), KIT_T0 + 1000);
}

/* A record on a contact-keyed input topic but on a partition that is not its
 * contact's (another partitioner) is re-keyed, not folded there. */
static void test_wrong_partition_is_rekeyed(void **state)
{
    kit_t *k = *state;
    k->partitions = 64;
    k->remote[ROLE_BY_CONTACT] = true;
    const char *contact = "c-7"; /* hashes away from partition 0 (kit_consume's) */
    hf_event_t s = kit_sales("s-1", KIT_T0, HF_ENTITY_CONTACT, contact, HF_SALES_CONTACTED, NULL);
    assert_int_equal(kit_consume(k, ROLE_SALES, &s, contact), 0);
    assert_int_equal(kit_count(k, OUT_BY_CONTACT), 1);
    assert_int_not_equal(kit_nth(k, OUT_BY_CONTACT, 0)->partition, 0);
    assert_int_equal(k->ctr[M_FOLDED], 0);
}

#define ACME_CONFIG                                                                                \
    "accounts:\n"                                                                                  \
    "  domains: { acme.example: acct-acme }\n"                                                     \
    "  member_updates: on_commit\n"

/* With member_updates: on_commit, a changed contact owes its account a summary;
 * the commit sends it to stage 3 (here, through the mailbox), once. */
static void test_owed_summaries_reach_stage_3(void **state)
{
    (void)state;
    kit_t *k = kit_new(ACME_CONFIG);
    hf_event_t f1 = kit_form("f-1", KIT_T0, "a-1", "c-1", HF_FORM_NEWSLETTER, "ann@acme.example");
    hf_event_t f2 =
        kit_form("f-2", KIT_T0 + 1000, "a-2", "c-2", HF_FORM_NEWSLETTER, "bob@acme.example");
    hf_event_t v = kit_visit("v-1", KIT_T0 + 2000, "a-1", NULL, "https://acme.example/pricing");
    assert_int_equal(kit_consume(k, ROLE_FORM, &f1, "a-1"), 0);
    assert_int_equal(kit_consume(k, ROLE_FORM, &f2, "a-2"), 0);
    assert_int_equal(kit_consume(k, ROLE_WEB, &v, "a-1"), 0);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 2); /* c-1 once, however often it changed */
    assert_int_equal(k->ctr[M_MEMBER_UPDATES], 0);
    assert_null(kit_account(k, "acct-acme"));

    assert_int_equal(stage_contact_flush_owed(&k->ctx), 0);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 0);
    assert_int_equal(k->ctr[M_MEMBER_UPDATES], 2);
    account_state_t *a = kit_account(k, "acct-acme");
    assert_non_null(a);
    assert_int_equal(account_state_member_count(a), 2);

    /* nothing changed since: nothing owed, nothing sent */
    assert_int_equal(stage_contact_flush_owed(&k->ctx), 0);
    assert_int_equal(k->ctr[M_MEMBER_UPDATES], 2);
    kit_free(k);
}

/* A failure of the output ends the processing of the record with its errno and the
 * output's reason in the context's error buffer; the mailbox is left empty. */
static void test_output_failure_is_the_error(void **state)
{
    kit_t *k = *state;
    k->fail_produce = -EIO;
    const char junk[] = "not a record";
    assert_int_equal(kit_consume_bytes(k, ROLE_WEB, "a-1", junk, sizeof junk), -EIO);
    assert_string_equal(k->err, "the test's output refuses records");

    /* the innermost reason wins: a later one does not overwrite it */
    assert_int_equal(stage_fail(&k->ctx, -ENOMEM, "something else"), -ENOMEM);
    assert_string_equal(k->err, "the test's output refuses records");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stitching_hands_over_to_stage_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stitching_hands_over_through_the_repartition_topic,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_partition_is_rekeyed, setup, teardown),
        cmocka_unit_test(test_owed_summaries_reach_stage_3),
        cmocka_unit_test_setup_teardown(test_output_failure_is_the_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
