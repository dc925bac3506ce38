/* Unit tests of the mailbox (daemon/mailbox.h), the FIFO of records re-keyed to a
 * partition this process owns, and of the budget that stops records setting each
 * other off forever (stage_drain() in daemon/stage.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mailbox.h"
#include "stage_kit.h"

/* First in, first out, across the ring's growth and wrap-around. */
static void test_order(void **state)
{
    (void)state;
    mailbox_t *mb = mailbox_new();
    assert_non_null(mb);
    mailbox_mail_t m;
    assert_false(mailbox_pop(mb, &m));
    unsigned pushed = 0, popped = 0;
    char key[32];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 100; i++, pushed++) {
            snprintf(key, sizeof key, "k-%u", pushed);
            assert_int_equal(mailbox_push(mb, ROLE_BY_CONTACT, key, &pushed, sizeof pushed), 0);
        }
        for (int i = 0; i < 70; i++, popped++) {
            assert_true(mailbox_pop(mb, &m));
            snprintf(key, sizeof key, "k-%u", popped);
            assert_string_equal(m.key, key);
            assert_int_equal(m.value_len, sizeof popped);
            assert_memory_equal(m.value, &popped, sizeof popped);
            assert_int_equal(m.role, ROLE_BY_CONTACT);
            mailbox_mail_free(&m);
        }
    }
    assert_int_equal(mailbox_count(mb), pushed - popped);
    mailbox_clear(mb);
    assert_int_equal(mailbox_count(mb), 0);
    assert_false(mailbox_pop(mb, &m));
    /* an empty value is a value */
    assert_int_equal(mailbox_push(mb, ROLE_BY_ANON, "a", "", 0), 0);
    assert_true(mailbox_pop(mb, &m));
    assert_non_null(m.value);
    assert_int_equal(m.value_len, 0);
    mailbox_mail_free(&m);
    assert_int_equal(mailbox_push(mb, ROLE_BY_ACCOUNT, "left", "x", 1), 0);
    mailbox_free(mb); /* with a record in it */
}

/* Two contacts each merged into the other (no such state is ever written, but a
 * store could hold one): a journey sent to either goes round forever.  The budget
 * ends it as a loop, naming the record that set it off, and drops the mail. */
static void test_loop_is_stopped_by_the_budget(void **state)
{
    (void)state;
    kit_t *k = kit_new(NULL);
    k->ctx.mail_budget = 50;
    const char *ids[2][2] = {{"c-a", "c-b"}, {"c-b", "c-a"}};
    for (int i = 0; i < 2; i++) {
        cache_entry_t *e;
        char err[256];
        assert_int_equal(cache_get(k->contact_cache, ids[i][0], &e, err, sizeof err), 0);
        cache_entry_set(k->contact_cache, e, contact_state_new(ids[i][0]));
        assert_int_equal(contact_state_make_redirect(e->state, ids[i][1]), 0);
    }
    hf_merge_state_t ms = {
        .event_id = "m-1",
        .at_ms = KIT_T0,
        .survivor_id = "c-a",
        .loser_id = "c-x",
        .state = "",
        .state_len = 0,
    };
    hf_buf_t rec = HF_BUF_INIT;
    assert_int_equal(codec_encode_merge_state(k->enc_codec, &ms, &rec), 0);
    assert_int_equal(kit_consume_bytes(k, ROLE_BY_CONTACT, "c-a", rec.data, rec.len), -ELOOP);
    char want[128];
    snprintf(want, sizeof want, "%s [0] @0 set off more than 50 records: a loop",
             k->cfg->topics.by_contact);
    assert_string_equal(k->err, want);
    assert_int_equal(k->ctr[M_MERGES], 0);
    hf_buf_free(&rec);
    kit_free(k);
}

/* Within the budget, what a record sets off is processed in the order it was sent:
 * an identify replays the anonymous history, oldest first, then itself. */
static void test_drained_in_order(void **state)
{
    (void)state;
    kit_t *k = kit_new(NULL);
    hf_event_t v1 = kit_visit("v-1", KIT_T0 + 1000, "a-1", NULL, "https://x.example/1");
    hf_event_t v2 = kit_visit("v-2", KIT_T0 + 2000, "a-1", NULL, "https://x.example/2");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v2, "a-1"), 0);
    assert_int_equal(kit_consume(k, ROLE_WEB, &v1, "a-1"), 0);
    /* the replay is 3 records after the identify itself: 4 in all fit a budget of 4 */
    k->ctx.mail_budget = 4;
    hf_event_t id = kit_identify("i-1", KIT_T0 + 3000, "a-1", "c-1");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &id, "c-1"), 0);
    assert_int_equal(k->ctr[M_FOLDED], 3);
    /* folded oldest first: the journey's newest touch is the identify's */
    assert_int_equal(contact_state_last_event_ms(kit_contact(k, "c-1")), KIT_T0 + 3000);

    hf_event_t v3 = kit_visit("v-3", KIT_T0 + 500, "a-2", NULL, "https://x.example/3");
    hf_event_t id2 = kit_identify("i-2", KIT_T0 + 3000, "a-2", "c-2");
    assert_int_equal(kit_consume(k, ROLE_WEB, &v3, "a-2"), 0);
    k->ctx.mail_budget = 2; /* identify to stage 1, the replayed visit: the identify is over */
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &id2, "c-2"), -ELOOP);
    kit_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_loop_is_stopped_by_the_budget),
        cmocka_unit_test(test_drained_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
