/* The journey lookup's parts that need no server: the store's snapshot readers
 * (store.h, read from another thread while the writer thread writes), the instance
 * map's record (instances.h), the id rule (lookup.h) and the outcomes' rows
 * (outcomes.h) the /v1/outcomes answer is built from. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/instances.h"
#include "daemon/lookup.h"
#include "daemon/metrics.h"
#include "daemon/outcomes.h"
#include "tmp_store.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put(store_t *s, store_cf_t cf, const char *k, const char *v)
{
    store_batch_t *b = store_batch_new(s);
    store_batch_put(b, cf, k, strlen(k), v, strlen(v));
    char err[256];
    assert_int_equal(store_write(s, b, err, sizeof err), 0);
    store_batch_free(b);
}

/* ---- snapshots ---- */

static void test_snapshot_sees_what_was_written_then(void **state)
{
    (void)state;
    tmp_store_t t;
    tmp_store_open(&t);
    int64_t opened = wall_ms();
    put(t.store, STORE_CF_CONTACT, "c-1", "one");
    store_snapshot_t *snap = NULL;
    assert_int_equal(store_snapshot_new(&snap, t.store), 0);
    int64_t written = store_snapshot_written_ms(snap);
    assert_true(written >= opened - 1000 && written <= wall_ms());

    /* a later write is not in the snapshot, and does not move its time */
    put(t.store, STORE_CF_CONTACT, "c-1", "two");
    put(t.store, STORE_CF_CONTACT, "c-2", "new");
    hf_buf_t v = HF_BUF_INIT;
    char err[256];
    assert_int_equal(store_snapshot_get(snap, STORE_CF_CONTACT, "c-1", 3, &v, err, sizeof err), 0);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.data, "one", 3);
    assert_int_equal(store_snapshot_get(snap, STORE_CF_CONTACT, "c-2", 3, &v, err, sizeof err),
                     STORE_NOT_FOUND);
    /* column families are apart */
    assert_int_equal(store_snapshot_get(snap, STORE_CF_ACCOUNT, "c-1", 3, &v, err, sizeof err),
                     STORE_NOT_FOUND);
    assert_int_equal(store_snapshot_written_ms(snap), written);
    store_snapshot_free(snap);

    assert_int_equal(store_snapshot_new(&snap, t.store), 0);
    assert_int_equal(store_snapshot_get(snap, STORE_CF_CONTACT, "c-1", 3, &v, err, sizeof err), 0);
    assert_memory_equal(v.data, "two", 3);
    assert_true(store_snapshot_written_ms(snap) >= written);
    store_snapshot_free(snap);
    hf_buf_free(&v);
    tmp_store_remove(&t);
}

typedef struct seen {
    char keys[8][32];
    size_t n;
} seen_t;

static int collect(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    (void)val;
    (void)val_len;
    seen_t *s = opaque;
    assert_true(s->n < 8 && key_len < 32);
    memcpy(s->keys[s->n], key, key_len);
    s->keys[s->n++][key_len] = 0;
    return 0;
}

static int stop_at_second(void *opaque, const void *key, size_t key_len, const void *val,
                          size_t val_len)
{
    collect(opaque, key, key_len, val, val_len);
    return ((seen_t *)opaque)->n == 2 ? 7 : 0;
}

static void test_snapshot_scans_a_prefix_only(void **state)
{
    (void)state;
    tmp_store_t t;
    tmp_store_open(&t);
    const char *keys[] = {"handoffs.x",         "outcome.",       "outcome.all|*|handoff",
                          "outcome.rule|a|won", "outcomf.longer", "outcomd.z"};
    for (size_t i = 0; i < 6; i++)
        put(t.store, STORE_CF_METRICS, keys[i], "12345678");
    store_snapshot_t *snap = NULL;
    assert_int_equal(store_snapshot_new(&snap, t.store), 0);
    seen_t s = {0};
    char err[256];
    assert_int_equal(store_snapshot_scan_prefix(snap, STORE_CF_METRICS, "outcome.", 8, collect, &s,
                                                err, sizeof err),
                     0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "outcome.");
    assert_string_equal(s.keys[1], "outcome.all|*|handoff");
    assert_string_equal(s.keys[2], "outcome.rule|a|won");
    /* the callback's value ends the scan and comes back */
    s = (seen_t){0};
    assert_int_equal(store_snapshot_scan_prefix(snap, STORE_CF_METRICS, "outcome.", 8,
                                                stop_at_second, &s, err, sizeof err),
                     7);
    assert_int_equal(s.n, 2);
    /* nothing under a prefix no key has */
    s = (seen_t){0};
    assert_int_equal(
        store_snapshot_scan_prefix(snap, STORE_CF_METRICS, "zz", 2, collect, &s, err, sizeof err),
        0);
    assert_int_equal(s.n, 0);
    store_snapshot_free(snap);
    tmp_store_remove(&t);
}

/* Readers on another thread while the writer thread commits batches of two keys
 * that must always agree: a snapshot never shows half a batch. */
typedef struct race {
    store_t *store;
    int rounds;
    int torn;
    int reads;
} race_t;

static void *reader(void *opaque)
{
    race_t *r = opaque;
    hf_buf_t a = HF_BUF_INIT, b = HF_BUF_INIT;
    char err[256];
    for (int i = 0; i < r->rounds; i++) {
        store_snapshot_t *snap = NULL;
        if (store_snapshot_new(&snap, r->store) < 0)
            break;
        int ra = store_snapshot_get(snap, STORE_CF_CONTACT, "a", 1, &a, err, sizeof err);
        int rb = store_snapshot_get(snap, STORE_CF_ACCOUNT, "b", 1, &b, err, sizeof err);
        if (ra != rb || (ra == 0 && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)))
            r->torn++;
        r->reads++;
        store_snapshot_free(snap);
    }
    hf_buf_free(&a);
    hf_buf_free(&b);
    return NULL;
}

static void test_snapshot_never_sees_half_a_batch(void **state)
{
    (void)state;
    tmp_store_t t;
    tmp_store_open(&t);
    race_t r = {t.store, 2000, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
    store_batch_t *b = store_batch_new(t.store);
    char err[256], v[16];
    for (int i = 0; i < 300; i++) {
        snprintf(v, sizeof v, "%d", i);
        store_batch_put(b, STORE_CF_CONTACT, "a", 1, v, strlen(v));
        store_batch_put(b, STORE_CF_ACCOUNT, "b", 1, v, strlen(v));
        assert_int_equal(store_write_submit(t.store, b, err, sizeof err), 0);
        assert_int_equal(store_write_wait(t.store, err, sizeof err), 0);
    }
    pthread_join(th, NULL);
    store_batch_free(b);
    assert_int_equal(r.reads, 2000);
    assert_int_equal(r.torn, 0);
    tmp_store_remove(&t);
}

/* ---- the instance record ---- */

static const char *const TOPICS[INSTANCES__STAGES] = {"app.by-contact", "app.by-account"};

static void test_claim_round_trip(void **state)
{
    (void)state;
    int32_t contact[] = {0, 2, 5}, account[] = {1};
    instances_claim_t c = {.assigned_at_ms = 1772442000123, .at_ms = 1772442030456};
    snprintf(c.instance, sizeof c.instance, "4f0c2a9e61b3d7a8");
    snprintf(c.http, sizeof c.http, "[::1]:8686");
    c.parts[0] = contact;
    c.part_count[0] = 3;
    c.parts[1] = account;
    c.part_count[1] = 1;
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(instances_claim_encode(&c, TOPICS, &b), 0);
    const char want[] = "handoffd-instance 1\ninstance 4f0c2a9e61b3d7a8\nhttp [::1]:8686\n"
                        "assigned_at 1772442000123\nat 1772442030456\n"
                        "contact app.by-contact 0,2,5\naccount app.by-account 1\n";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, b.len);

    instances_claim_t d;
    assert_int_equal(instances_claim_decode(&d, b.data, b.len, TOPICS), 0);
    assert_string_equal(d.instance, "4f0c2a9e61b3d7a8");
    assert_string_equal(d.http, "[::1]:8686");
    assert_int_equal(d.assigned_at_ms, 1772442000123);
    assert_int_equal(d.at_ms, 1772442030456);
    assert_int_equal(d.part_count[0], 3);
    assert_memory_equal(d.parts[0], contact, sizeof contact);
    assert_int_equal(d.part_count[1], 1);
    assert_int_equal(d.parts[1][0], 1);
    instances_claim_free(&d);
    hf_buf_free(&b);
}

static void test_claim_decode_is_strict_where_it_must_be(void **state)
{
    (void)state;
    instances_claim_t d;
    const char *const bad[] = {
        "",
        "handoffd-instance 2\ninstance x\nhttp h:1\nat 1\n",  /* another version */
        "handoffd-instance 1\nhttp h:1\nat 1\n",              /* no instance */
        "handoffd-instance 1\ninstance x\nat 1\n",            /* no address */
        "handoffd-instance 1\ninstance x\nhttp h:1\n",        /* no time */
        "handoffd-instance 1\ninstance x\nhttp h:1\nat -5\n", /* a negative time */
        "handoffd-instance 1\ninstance x\nhttp h:1\nat 1\ncontact app.by-contact 1,,2\n",
        "handoffd-instance 1\ninstance x\nhttp h:1\nat 1\ncontact app.by-contact 1,\n",
        "handoffd-instance 1\ninstance x\nhttp h:1\nat 1\ncontact app.by-contact -1\n",
        "handoffd-instance 1\ninstance x\nhttp h:1\nat 1\ncontact app.by-contact 12345678\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(instances_claim_decode(&d, bad[i], strlen(bad[i]), TOPICS), -EINVAL);
        instances_claim_free(&d);
    }
    /* lines of a later version are skipped; another configuration's topics claim
     * nothing here; partitions come out sorted and distinct */
    const char ok[] = "handoffd-instance 1\ninstance x\nhttp h:1\nat 1\nzone eu-1\n"
                      "contact other.by-contact 0,1\naccount app.by-account 3,1,3\n";
    assert_int_equal(instances_claim_decode(&d, ok, strlen(ok), TOPICS), 0);
    assert_int_equal(d.part_count[0], 0);
    assert_int_equal(d.part_count[1], 2);
    assert_int_equal(d.parts[1][0], 1);
    assert_int_equal(d.parts[1][1], 3);
    instances_claim_free(&d);
}

/* ---- ids ---- */

static void test_ids(void **state)
{
    (void)state;
    char longest[LOOKUP_ID_MAX + 2];
    memset(longest, 'x', sizeof longest);
    longest[LOOKUP_ID_MAX] = 0;
    assert_true(lookup_id_valid(longest));
    longest[LOOKUP_ID_MAX] = 'x';
    longest[LOOKUP_ID_MAX + 1] = 0;
    assert_false(lookup_id_valid(longest));
    assert_true(lookup_id_valid("c-1ef0550952cb"));
    assert_true(lookup_id_valid("acme.example"));
    assert_true(lookup_id_valid("003Dn00000AbCdE:x@y+z=~!$*,;_"));
    const char *const bad[] = {"",      "a/b",  "a b",   "a%2Fb",       "a?b", "a#b",
                               "\"a\"", "a\\b", "a\x01", "caf\xc3\xa9", "<a>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(lookup_id_valid(bad[i]));
}

/* ---- the outcomes' rows ---- */

typedef struct rows {
    char values[8][32];
    uint64_t handoffs[8], met_accept[8], reasons[8];
    int64_t median_accept_ms[8];
    size_t n;
} rows_t;

static int take_row(void *opaque, const outcomes_row_t *row)
{
    rows_t *r = opaque;
    assert_true(r->n < 8);
    snprintf(r->values[r->n], 32, "%s", row->value);
    r->handoffs[r->n] = row->funnel[0];
    r->met_accept[r->n] = row->met[0];
    r->reasons[r->n] = row->reason_count ? row->reason_counts[0] : 0;
    r->median_accept_ms[r->n] = row->median_accept_ms;
    r->n++;
    return 0;
}

static void test_outcomes_rows(void **state)
{
    (void)state;
    outcomes_t *o = outcomes_new();
    char name[64];
    assert_int_equal(outcomes_add(o, "all|*|handoff", 3), 0);
    assert_int_equal(outcomes_add(o, "rule|mql|handoff", 2), 0);
    assert_int_equal(outcomes_add(o, "rule|hand_raiser|handoff", 1), 0);
    assert_int_equal(outcomes_add(o, "rule|mql|rejected|no budget", 1), 0);
    assert_int_equal(outcomes_add(o, "team|emea|sla_met|accept", 2), 0);
    /* three accepts timed: 10 s, 10 s, 100 s: the median is the 10 s bucket */
    snprintf(name, sizeof name, "team|emea|time_to_accept|b%d", metrics_duration_bucket(10000));
    assert_int_equal(outcomes_add(o, name, 2), 0);
    snprintf(name, sizeof name, "team|emea|time_to_accept|b%d", metrics_duration_bucket(100000));
    assert_int_equal(outcomes_add(o, name, 1), 0);

    rows_t r = {0};
    assert_int_equal(outcomes_each(o, "rule", take_row, &r), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.values[0], "mql");
    assert_int_equal(r.handoffs[0], 2);
    assert_int_equal(r.reasons[0], 1);
    assert_string_equal(r.values[1], "hand_raiser");
    assert_int_equal(r.median_accept_ms[1], -1);

    r = (rows_t){0};
    assert_int_equal(outcomes_each(o, "team", take_row, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.met_accept[0], 2);
    int b = metrics_duration_bucket(10000);
    assert_true(r.median_accept_ms[0] >= metrics_bucket_low_ms(b) &&
                r.median_accept_ms[0] < metrics_bucket_low_ms(b + 1));

    r = (rows_t){0};
    assert_int_equal(outcomes_each(o, NULL, take_row, &r), 0);
    assert_int_equal(r.n, 4);
    assert_string_equal(outcomes_funnel_name(0), "handoff");
    assert_null(outcomes_funnel_name(OUTCOMES_FUNNEL_N));
    assert_string_equal(outcomes_sla_name(2), "follow_up");
    assert_string_equal(outcomes_feedback_name(4), "feedback_no_handoff");
    outcomes_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_sees_what_was_written_then),
        cmocka_unit_test(test_snapshot_scans_a_prefix_only),
        cmocka_unit_test(test_snapshot_never_sees_half_a_batch),
        cmocka_unit_test(test_claim_round_trip),
        cmocka_unit_test(test_claim_decode_is_strict_where_it_must_be),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_outcomes_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
