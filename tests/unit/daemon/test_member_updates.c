/* Unit tests of accounts.member_updates: coalesced through the stages' seam: a
 * contact that changed owes its account its summary; a contact partition sends
 * what it owes after every member_update_records contact records it folded, and
 * every partition sends when the process is caught up -- never at a commit.  The
 * owed lists and counts go into the commit's batch and come back on assignment,
 * so a run interrupted by a crash sends at the same records as one that was not;
 * an owed contact evicted from the record cache is read back to be sent.  The
 * owed column's value: its encoding, and what does not decode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/stage_contact.h"
#include "stage_kit.h"

#define PARTITIONS 4

#define COALESCED_CONFIG(records)                                                                  \
    "accounts:\n"                                                                                  \
    "  domains: { acme.example: acct-acme }\n"                                                     \
    "  member_updates: coalesced\n"                                                                \
    "  member_update_records: " #records "\n"

static int32_t partition_of(kit_t *k, const char *contact)
{
    return k->ctx.out.partition(k->ctx.out.opaque, ROLE_BY_CONTACT, contact);
}

/* "c-<n>" for the smallest n >= @from on contact partition @partition; returns n. */
static int contact_from(kit_t *k, int32_t partition, int from, char id[16])
{
    for (int n = from; n < 1000; n++) {
        snprintf(id, 16, "c-%d", n);
        if (partition_of(k, id) == partition)
            return n;
    }
    fail_msg("no contact id on partition %d", (int)partition);
    return -1;
}

static void contact_on(kit_t *k, int32_t partition, char id[16])
{
    contact_from(k, partition, 1, id);
}

static kit_t *kit_coalesced(const char *yaml)
{
    kit_t *k = kit_new(yaml);
    k->partitions = PARTITIONS;
    return k;
}

static uint64_t updates(const kit_t *k)
{
    return k->ctr[M_MEMBER_UPDATES];
}

static size_t members(kit_t *k)
{
    account_state_t *a = kit_account(k, "acct-acme");
    return a ? account_state_member_count(a) : 0;
}

/* One record of @contact on the contact topic: a form that names its e-mail (so
 * its account) when @email, else a page view. */
static void record(kit_t *k, const char *event_id, int64_t at, const char *contact,
                   const char *email)
{
    char anon[24];
    snprintf(anon, sizeof anon, "a-%s", contact);
    hf_event_t ev = email ? kit_form(event_id, at, anon, contact, HF_FORM_NEWSLETTER, email)
                          : kit_visit(event_id, at, anon, contact, "https://acme.example/docs");
    assert_int_equal(kit_consume(k, ROLE_BY_CONTACT, &ev, contact), 0);
}

/* member_update_records 3: a partition sends after its third contact record, the
 * other partition keeps what it owes; a commit sends nothing; caught up, every
 * partition sends, and the counts start over. */
static void test_sent_every_n_records_of_a_partition(void **state)
{
    (void)state;
    kit_t *k = kit_coalesced(COALESCED_CONFIG(3));
    char a[16], b[16];
    contact_on(k, 0, a);
    contact_on(k, 1, b);

    record(k, "a-1", KIT_T0, a, "ann@acme.example");        /* partition 0: 1 */
    record(k, "b-1", KIT_T0 + 1000, b, "bob@acme.example"); /* partition 1: 1 */
    record(k, "a-2", KIT_T0 + 2000, a, NULL);               /* 0: 2 */
    assert_int_equal(updates(k), 0);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 2);
    assert_int_equal(members(k), 0);

    /* a commit is a moment of the wall clock: nothing goes */
    assert_int_equal(stage_contact_before_commit(&k->ctx), 0);
    assert_int_equal(updates(k), 0);

    record(k, "a-3", KIT_T0 + 3000, a, NULL); /* 0: 3, due */
    assert_int_equal(updates(k), 1);
    assert_int_equal(members(k), 1);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 1); /* b's */
    assert_int_equal(k->ctx.owed.parts[0].records, 0);
    assert_int_equal(k->ctx.owed.parts[1].records, 1);

    /* a repeat counts: the count depends on the records alone */
    record(k, "b-1", KIT_T0 + 1000, b, "bob@acme.example");
    assert_int_equal(k->ctr[M_DUPLICATES], 1);
    assert_int_equal(k->ctx.owed.parts[1].records, 2);
    assert_int_equal(updates(k), 0 + 1);
    record(k, "b-2", KIT_T0 + 4000, b, NULL); /* 1: 3, due */
    assert_int_equal(updates(k), 2);
    assert_int_equal(members(k), 2);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 0);

    /* a contact that changed several times since: one summary, its newest */
    record(k, "a-4", KIT_T0 + 5000, a, NULL);
    record(k, "a-5", KIT_T0 + 6000, a, NULL);
    assert_int_equal(updates(k), 2);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 1);
    assert_int_equal(k->ctx.owed.parts[0].records, 2);

    /* caught up: everything owed goes, every count starts over */
    record(k, "b-3", KIT_T0 + 7000, b, NULL);
    assert_int_equal(stage_contact_caught_up(&k->ctx), 0);
    assert_int_equal(updates(k), 4);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 0);
    for (int p = 0; p < PARTITIONS && (size_t)p < k->ctx.owed.part_count; p++)
        assert_int_equal(k->ctx.owed.parts[p].records, 0);
    /* nothing owed: caught up again sends nothing */
    assert_int_equal(stage_contact_caught_up(&k->ctx), 0);
    assert_int_equal(updates(k), 4);
    kit_free(k);
}

/* on_commit keeps sending before every commit, and caught up sends nothing. */
static void test_on_commit_sends_at_the_commit(void **state)
{
    (void)state;
    kit_t *k = kit_coalesced("accounts:\n"
                             "  domains: { acme.example: acct-acme }\n"
                             "  member_updates: on_commit\n"
                             "  member_update_records: 1\n");
    char a[16];
    contact_on(k, 0, a);
    record(k, "a-1", KIT_T0, a, "ann@acme.example");
    record(k, "a-2", KIT_T0 + 1000, a, NULL);
    assert_int_equal(stage_contact_caught_up(&k->ctx), 0);
    assert_int_equal(updates(k), 0);
    assert_int_equal(stage_contact_before_commit(&k->ctx), 0);
    assert_int_equal(updates(k), 1);
    kit_free(k);
}

/* ---- commits, crashes, eviction ----------------------------------------------- */

/* The commit's batch: dirty states and the owed lists, written; then evictable. */
static void kit_commit(kit_t *k)
{
    char err[256];
    store_batch_t *b = store_batch_new(k->store);
    assert_non_null(b);
    assert_true(cache_flush(k->anon_cache, b, err, sizeof err) >= 0);
    assert_true(cache_flush(k->contact_cache, b, err, sizeof err) >= 0);
    assert_true(cache_flush(k->account_cache, b, err, sizeof err) >= 0);
    assert_int_equal(stage_contact_owed_write(&k->ctx, b), 0);
    assert_int_equal(store_write(k->store, b, err, sizeof err), 0);
    store_batch_free(b);
    cache_commit(k->anon_cache);
    cache_commit(k->contact_cache);
    cache_commit(k->account_cache);
}

/* A crash and a restart: what is in memory is gone; the partitions assigned again
 * read their owed rows back (pipeline_kafka.c does this on assignment). */
static void kit_restart(kit_t *k)
{
    cache_clear(k->anon_cache);
    cache_clear(k->contact_cache);
    cache_clear(k->account_cache);
    stage_contact_owed_clear(&k->ctx);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 0);
    for (int32_t p = 0; p < PARTITIONS; p++) {
        uint8_t key[STORE_OWED_KEY_SIZE];
        store_owed_key(key, p);
        hf_buf_t val = HF_BUF_INIT;
        char err[256];
        int r = store_get(k->store, STORE_CF_OWED, key, sizeof key, &val, err, sizeof err);
        assert_true(r == 0 || r == STORE_NOT_FOUND);
        assert_int_equal(stage_contact_owed_load(&k->ctx, p, r == 0 ? val.data : NULL, val.len), 0);
        hf_buf_free(&val);
    }
}

#define RUN 24

/* Record @i of the run: four contacts on two partitions, their forms first. */
static void run_record(kit_t *k, char ids[4][16], int i)
{
    char eid[32];
    snprintf(eid, sizeof eid, "r-%d", i);
    static const char *const emails[4] = {"ann@acme.example", "bob@acme.example", "cy@acme.example",
                                          "di@acme.example"};
    int who = (i * 7 + i / 5) % 4;
    record(k, eid, KIT_T0 + i * 60000, ids[who], i < 4 ? emails[i] : NULL);
}

/* The same records through one kit straight, and through another that commits,
 * goes on, crashes (losing what followed the commit) and restarts from the store:
 * after the restart the member updates reach stage 3 at the same records, and the
 * account ends the same. */
static void test_owed_survive_commit_and_crash(void **state)
{
    (void)state;
    kit_t *k[2] = {kit_coalesced(COALESCED_CONFIG(5)), kit_coalesced(COALESCED_CONFIG(5))};
    char ids[4][16];
    int n0 = contact_from(k[0], 0, 1, ids[0]);
    contact_on(k[0], 2, ids[1]);
    contact_from(k[0], 0, n0 + 1, ids[2]); /* a second contact of partition 0 */
    contact_on(k[0], 3, ids[3]);

    uint64_t straight[RUN], resumed[RUN];
    for (int i = 0; i < RUN; i++) {
        uint64_t before = updates(k[0]);
        run_record(k[0], ids, i);
        straight[i] = updates(k[0]) - before;
    }
    const int commit_at = 9, crash_at = 14; /* after records 0..8; 9..13 lost */
    for (int i = 0; i < commit_at; i++)
        run_record(k[1], ids, i);
    assert_true(stage_contact_owed_count(&k[1]->ctx) > 0); /* test design: owed across it */
    kit_commit(k[1]);
    for (int i = commit_at; i < crash_at; i++)
        run_record(k[1], ids, i);
    kit_restart(k[1]);
    assert_true(stage_contact_owed_count(&k[1]->ctx) > 0);
    for (int i = commit_at; i < RUN; i++) {
        uint64_t before = updates(k[1]);
        run_record(k[1], ids, i);
        resumed[i] = updates(k[1]) - before;
        assert_int_equal(resumed[i], straight[i]);
    }
    uint64_t sent = 0;
    for (int i = commit_at; i < RUN; i++)
        sent += straight[i];
    assert_true(sent >= 3); /* test design: sends after the restart */

    /* the end of the log: both send the rest, and the account is the same */
    assert_int_equal(stage_contact_caught_up(&k[0]->ctx), 0);
    assert_int_equal(stage_contact_caught_up(&k[1]->ctx), 0);
    hf_buf_t x = HF_BUF_INIT, y = HF_BUF_INIT;
    assert_int_equal(account_state_encode(kit_account(k[0], "acct-acme"), &x), 0);
    assert_int_equal(account_state_encode(kit_account(k[1], "acct-acme"), &y), 0);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    assert_int_equal(account_state_member_count(kit_account(k[0], "acct-acme")), 4);
    hf_buf_free(&x);
    hf_buf_free(&y);
    kit_free(k[0]);
    kit_free(k[1]);
}

/* An owed contact committed and then evicted from the record cache (only clean
 * entries go, after a commit) is read back from the store and sent; its state is
 * dirty again, so the next commit stores that it owes nothing any more. */
static void test_evicted_contact_is_sent(void **state)
{
    (void)state;
    kit_t *k = kit_coalesced(COALESCED_CONFIG(1000));
    /* a record cache of one entry */
    cache_free(k->contact_cache);
    k->contact_cache = cache_new(&stage_contact_ops, k->store, STORE_CF_CONTACT, 1);
    assert_non_null(k->contact_cache);
    k->ctx.contact_cache = k->contact_cache;

    char a[16], b[16];
    contact_on(k, 0, a);
    contact_on(k, 1, b);
    record(k, "a-1", KIT_T0, a, "ann@acme.example");
    record(k, "b-1", KIT_T0 + 1000, b, "bob@acme.example");
    kit_commit(k); /* evicts all but one clean entry */
    assert_int_equal(cache_size(k->contact_cache), 1);
    assert_int_equal(stage_contact_owed_count(&k->ctx), 2);

    assert_int_equal(stage_contact_caught_up(&k->ctx), 0);
    assert_int_equal(updates(k), 2);
    assert_int_equal(members(k), 2);
    assert_int_equal(kit_count(k, OUT_DLQ), 0);

    /* the next commit writes both: neither owes any more */
    kit_commit(k);
    for (int i = 0; i < 2; i++) {
        const char *id = i ? b : a;
        hf_buf_t val = HF_BUF_INIT;
        char err[256];
        assert_int_equal(
            store_get(k->store, STORE_CF_CONTACT, id, strlen(id), &val, err, sizeof err), 0);
        contact_state_t *s = NULL;
        assert_int_equal(contact_state_decode(&s, val.data, val.len), 0);
        assert_false(contact_state_summary_pending(s));
        contact_state_free(s);
        hf_buf_free(&val);
    }
    /* and the owed rows are gone */
    for (int32_t p = 0; p < 2; p++) {
        uint8_t key[STORE_OWED_KEY_SIZE];
        store_owed_key(key, p);
        hf_buf_t val = HF_BUF_INIT;
        char err[256];
        assert_int_equal(store_get(k->store, STORE_CF_OWED, key, sizeof key, &val, err, sizeof err),
                         STORE_NOT_FOUND);
        hf_buf_free(&val);
    }
    kit_free(k);
}

/* ---- the owed column's value --------------------------------------------------- */

typedef struct ids_seen {
    char ids[8][16];
    size_t n;
} ids_seen_t;

static int see(void *opaque, const char *id)
{
    ids_seen_t *s = opaque;
    assert_true(s->n < 8);
    snprintf(s->ids[s->n++], 16, "%s", id);
    return 0;
}

static void test_owed_value_encoding(void **state)
{
    (void)state;
    char *ids[] = {"c-1", "c-22", "c-333"};
    hf_buf_t v = HF_BUF_INIT;
    assert_int_equal(store_owed_encode(&v, 517, ids, 3), 0);
    /* 517 (be32), 3 (be32), then the ids */
    static const uint8_t want[] = {0,   0,   2,   5,   0, 0,   0,   3,   'c', '-', '1', 0,
                                   'c', '-', '2', '2', 0, 'c', '-', '3', '3', '3', 0};
    assert_int_equal(v.len, sizeof want);
    assert_memory_equal(v.data, want, sizeof want);
    uint32_t records = 0;
    size_t count = 0;
    ids_seen_t seen = {.n = 0};
    assert_int_equal(store_owed_decode(v.data, v.len, &records, &count, see, &seen), 0);
    assert_int_equal(records, 517);
    assert_int_equal(count, 3);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.ids[0], "c-1");
    assert_string_equal(seen.ids[2], "c-333");

    /* nothing owed, a count only */
    assert_int_equal(store_owed_encode(&v, 9, NULL, 0), 0);
    assert_int_equal(v.len, 8);
    assert_int_equal(store_owed_decode(v.data, v.len, &records, &count, NULL, NULL), 0);
    assert_int_equal(records, 9);
    assert_int_equal(count, 0);

    /* malformed: short, a count that does not match, an empty or unterminated id */
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\0\0\0\1\0\0\0", 7},
        {"\0\0\0\1\0\0\0\2c-1\0", 12},
        {"\0\0\0\1\0\0\0\1c-1\0c-2\0", 16},
        {"\0\0\0\1\0\0\0\1\0", 9},
        {"\0\0\0\1\0\0\0\1c-1", 11},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen.n = 0;
        assert_int_equal(store_owed_decode(bad[i].bytes, bad[i].len, &records, &count, see, &seen),
                         STORE_MALFORMED);
        assert_int_equal(seen.n, 0); /* nothing called */
    }

    /* the key: the partition, big-endian */
    uint8_t key[STORE_OWED_KEY_SIZE];
    store_owed_key(key, 258);
    assert_memory_equal(key, "\0\0\1\2", 4);
    int32_t part = -1;
    assert_true(store_owed_key_decode(key, sizeof key, &part));
    assert_int_equal(part, 258);
    assert_false(store_owed_key_decode(key, 3, &part));
    hf_buf_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sent_every_n_records_of_a_partition),
        cmocka_unit_test(test_on_commit_sends_at_the_commit),
        cmocka_unit_test(test_owed_survive_commit_and_crash),
        cmocka_unit_test(test_evicted_contact_is_sent),
        cmocka_unit_test(test_owed_value_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
