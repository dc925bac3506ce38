/* Unit tests of the merge protocol (daemon/merge.h) through the stages' seam: the
 * merge event sends a MergeRequest to the loser, the loser hands its journey over in
 * a MergeState and leaves a redirect, the survivor folds it in; a request naming an
 * unknown survivor bounces to the known contact; a journey sent again after a crash
 * is a repeat.  With the contacts' partitions owned by "another process", every
 * step is a record on the repartition topic, fed back one at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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

/* A contact known by its id, with one page view. */
static void known_contact(kit_t *k, const char *event_id, const char *contact, int64_t at_ms)
{
    hf_event_t v = kit_visit(event_id, at_ms, "a-x", contact, "https://x.example/pricing");
    assert_int_equal(kit_consume(k, ROLE_BY_CONTACT, &v, contact), 0);
}

/* The @n-th record sent to the contacts' repartition topic: its key, and its
 * internal record decoded into @in (strings valid until the next decode). */
static const kit_record_t *sent(kit_t *k, size_t n, hf_internal_t *in)
{
    const kit_record_t *r = kit_nth(k, OUT_BY_CONTACT, n);
    assert_non_null(r);
    char why[256];
    assert_int_equal(codec_decode_internal(k->codec, r->value, r->value_len, in, why, sizeof why),
                     0);
    return r;
}

/* Consumes the @n-th record sent to the contacts' repartition topic. */
static void deliver(kit_t *k, size_t n)
{
    const kit_record_t *r = kit_nth(k, OUT_BY_CONTACT, n);
    assert_non_null(r);
    assert_int_equal(kit_consume_bytes(k, ROLE_BY_CONTACT, r->key, r->value, r->value_len), 0);
}

static void test_request_then_state_transfer(void **state)
{
    kit_t *k = *state;
    known_contact(k, "v-old", "c-old", KIT_T0);
    known_contact(k, "v-new", "c-new", KIT_T0 + 1000);
    k->remote[ROLE_BY_CONTACT] = true;

    hf_event_t m = kit_merge("m-1", KIT_T0 + 2000, "c-new", "c-old");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &m, "c-new"), 0);
    hf_internal_t in;
    const kit_record_t *r = sent(k, 0, &in);
    assert_string_equal(r->key, "c-old");
    assert_int_equal(r->timestamp_ms, KIT_T0 + 2000);
    assert_int_equal(in.kind, CODEC_INTERNAL_MERGE_REQUEST);
    assert_string_equal(in.merge_request.survivor_id, "c-new");
    assert_string_equal(in.merge_request.loser_id, "c-old");
    assert_true(in.merge_request.survivor_known);
    assert_false(in.merge_request.bounced);

    /* at the loser: its journey goes to the survivor, a redirect stays behind */
    deliver(k, 0);
    r = sent(k, 1, &in);
    assert_string_equal(r->key, "c-new");
    assert_int_equal(in.kind, CODEC_INTERNAL_MERGE_STATE);
    assert_string_equal(in.merge_state.loser_id, "c-old");
    assert_string_equal(contact_state_redirect(kit_contact(k, "c-old")), "c-new");
    assert_int_equal(k->ctr[M_MERGES], 0);

    /* at the survivor: folded in */
    deliver(k, 1);
    assert_int_equal(k->ctr[M_MERGES], 1);
    assert_null(contact_state_redirect(kit_contact(k, "c-new")));
    assert_int_equal(kit_count(k, OUT_BY_CONTACT), 2);

    /* later events for the loser reach the survivor */
    k->remote[ROLE_BY_CONTACT] = false;
    known_contact(k, "v-old-2", "c-old", KIT_T0 + 3000);
    assert_int_equal(k->ctr[M_REDIRECTED], 1);
    assert_int_equal(contact_state_last_event_ms(kit_contact(k, "c-new")), KIT_T0 + 3000);
}

/* In one process the whole protocol runs through the mailbox after the merge
 * record. */
static void test_merge_inside_the_process(void **state)
{
    kit_t *k = *state;
    known_contact(k, "v-old", "c-old", KIT_T0);
    known_contact(k, "v-new", "c-new", KIT_T0 + 1000);
    hf_event_t m = kit_merge("m-1", KIT_T0 + 2000, "c-new", "c-old");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &m, "c-new"), 0);
    assert_int_equal(k->ctr[M_REMOTE], 0);
    assert_int_equal(k->ctr[M_MERGES], 1);
    assert_string_equal(contact_state_redirect(kit_contact(k, "c-old")), "c-new");
}

/* A CRM names a fresh id as the survivor of a known person: the known contact
 * survives. */
static void test_request_bounces_to_the_known_contact(void **state)
{
    kit_t *k = *state;
    known_contact(k, "v-known", "c-known", KIT_T0);
    k->remote[ROLE_BY_CONTACT] = true;

    hf_event_t m = kit_merge("m-1", KIT_T0 + 1000, "c-fresh", "c-known");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &m, "c-fresh"), 0);
    hf_internal_t in;
    sent(k, 0, &in);
    assert_false(in.merge_request.survivor_known);

    deliver(k, 0); /* at c-known: bounced with the roles swapped */
    const kit_record_t *r = sent(k, 1, &in);
    assert_string_equal(r->key, "c-fresh");
    assert_int_equal(in.kind, CODEC_INTERNAL_MERGE_REQUEST);
    assert_string_equal(in.merge_request.survivor_id, "c-known");
    assert_string_equal(in.merge_request.loser_id, "c-fresh");
    assert_true(in.merge_request.bounced);
    assert_null(contact_state_redirect(kit_contact(k, "c-known")));

    deliver(k, 1); /* at c-fresh: hands over to c-known */
    r = sent(k, 2, &in);
    assert_string_equal(r->key, "c-known");
    assert_int_equal(in.kind, CODEC_INTERNAL_MERGE_STATE);
    deliver(k, 2);
    assert_int_equal(k->ctr[M_MERGES], 1);
    assert_string_equal(contact_state_redirect(kit_contact(k, "c-fresh")), "c-known");
    assert_null(contact_state_redirect(kit_contact(k, "c-known")));
}

/* The same journey delivered again (the process crashed after sending it, before
 * committing) is dropped: the survivor remembers whom it merged. */
static void test_state_sent_again_after_a_crash_is_a_repeat(void **state)
{
    kit_t *k = *state;
    known_contact(k, "v-old", "c-old", KIT_T0);
    known_contact(k, "v-new", "c-new", KIT_T0 + 1000);
    k->remote[ROLE_BY_CONTACT] = true;
    hf_event_t m = kit_merge("m-1", KIT_T0 + 2000, "c-new", "c-old");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &m, "c-new"), 0);
    deliver(k, 0);
    deliver(k, 1);
    assert_int_equal(k->ctr[M_MERGES], 1);
    uint64_t duplicates = k->ctr[M_DUPLICATES];

    deliver(k, 1);
    assert_int_equal(k->ctr[M_MERGES], 1);
    assert_int_equal(k->ctr[M_DUPLICATES], duplicates + 1);
    /* and the request again: the loser is a redirect already */
    deliver(k, 0);
    assert_int_equal(kit_count(k, OUT_BY_CONTACT), 2);
    assert_int_equal(k->ctr[M_MERGES], 1);
}

/* The survivor was merged away meanwhile: the journey follows its redirect. */
static void test_state_follows_the_survivors_redirect(void **state)
{
    kit_t *k = *state;
    known_contact(k, "v-a", "c-a", KIT_T0);
    known_contact(k, "v-b", "c-b", KIT_T0 + 1000);
    known_contact(k, "v-c", "c-c", KIT_T0 + 2000);
    k->remote[ROLE_BY_CONTACT] = true;
    hf_event_t m1 = kit_merge("m-1", KIT_T0 + 3000, "c-b", "c-a");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &m1, "c-b"), 0); /* 0: request at c-a */
    deliver(k, 0);                                                  /* 1: a's journey for b */
    hf_event_t m2 = kit_merge("m-2", KIT_T0 + 4000, "c-c", "c-b");
    assert_int_equal(kit_consume(k, ROLE_IDENTITY, &m2, "c-c"), 0); /* 2: request at c-b */
    deliver(k, 2);                                                  /* 3: b's journey for c */
    deliver(k, 3);
    assert_int_equal(k->ctr[M_MERGES], 1);
    assert_string_equal(contact_state_redirect(kit_contact(k, "c-b")), "c-c");

    deliver(k, 1); /* a's journey reaches b, merged away: on to c, naming c */
    const kit_record_t *moved = kit_nth(k, OUT_BY_CONTACT, 4);
    assert_string_equal(moved->key, "c-c");
    assert_int_equal(moved->timestamp_ms, KIT_T0 + 3000);
    assert_int_equal(k->ctr[M_MERGES], 1);

    /* at c it is folded in, not sent round again */
    size_t sent = kit_count(k, OUT_BY_CONTACT);
    deliver(k, 4);
    assert_int_equal(k->ctr[M_MERGES], 2);
    assert_int_equal(kit_count(k, OUT_BY_CONTACT), sent);
    assert_null(contact_state_redirect(kit_contact(k, "c-c")));
    assert_string_equal(contact_state_redirect(kit_contact(k, "c-a")), "c-b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_then_state_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_inside_the_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_bounces_to_the_known_contact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_sent_again_after_a_crash_is_a_repeat, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_follows_the_survivors_redirect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
