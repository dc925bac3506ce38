/* State serialisers: round trips, truncation, corruption, random input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/contact/contact.h"
#include "processors/identity/identity.h"
#include "processors/model/state.h"
#include "contact_state_v1.h"
#include "samples.h"
#include "testkit.h"

static uint32_t prng_next(uint32_t *x)
{
    /* xorshift32: deterministic, so a failure replays */
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static hf_buf_t encode_contact(const contact_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(contact_state_encode(s, &b), 0);
    return b;
}

static hf_buf_t encode_anon(const anon_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(anon_state_encode(s, &b), 0);
    return b;
}

static void test_contact_round_trip(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *s = samples_contact_new(rules, &rec);
    hf_buf_t a = encode_contact(s);

    contact_state_t *d = NULL;
    assert_int_equal(contact_state_decode(&d, a.data, a.len), 0);
    hf_buf_t b = encode_contact(d);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);

    assert_string_equal(contact_state_id(d), "c-1");
    assert_int_equal(contact_state_stage(d), contact_state_stage(s));
    assert_int_equal(contact_state_cycle(d), 1);
    assert_int_equal(contact_state_handed_off(d), contact_state_handed_off(s));
    assert_int_equal(contact_state_last_event_ms(d), contact_state_last_event_ms(s));
    assert_float_equal(contact_state_score(d, rules, TK_T0 + 40 * TK_DAY_MS),
                       contact_state_score(s, rules, TK_T0 + 40 * TK_DAY_MS), 0);
    assert_string_equal(contact_state_grade(d, rules), contact_state_grade(s, rules));

    /* the decoded state goes on exactly like the original: dedupe, newest-wins times
     * of traits and titles, caps, ordering of the bounded lists */
    hf_sink_t sink = tk_sink(&rec);
    hf_event_t next[8];
    /* pricing awards at 48h (in the sample) and 49h: the one at 50h is capped */
    next[6] = tk_visit("cap1", TK_T0 + 49 * TK_HOUR_MS, NULL, "c-1", "s-9", "/pricing", NULL);
    next[7] = tk_visit("cap2", TK_T0 + 50 * TK_HOUR_MS, NULL, "c-1", "s-9", "/pricing", NULL);
    next[0] = tk_visit("next", TK_T0 + 3 * TK_DAY_MS, NULL, "c-1", "s-9", "/pricing", NULL);
    next[1] = tk_visit("late", TK_T0 + TK_HOUR_MS, NULL, "c-1", "s-1", "/pricing", "Old title");
    next[2] = tk_form("old-form", TK_T0 + 2, "a-1", "c-1", HF_FORM_OTHER);
    next[2].traits.title = "Old title";
    next[2].traits.has_employees = true;
    next[2].traits.employees = 3;
    next[3] = tk_email("old-mail", TK_T0 + 3, "c-1", HF_EMAIL_OPENED, "old-campaign");
    next[4] = tk_download("old-dl", TK_T0 + 4, "c-1", "wp-0", "Old");
    next[5] = tk_visit("v-0", TK_T0, NULL, "c-1", "s", "/", NULL); /* a repeat */
    const size_t order[] = {6, 7, 0, 1, 2, 3, 4, 5};
    for (size_t k = 0; k < 8; k++) {
        size_t i = order[k];
        int want = i == 5 ? CONTACT_FOLD_DUPLICATE : CONTACT_FOLD_APPLIED;
        assert_int_equal(contact_fold(s, &next[i], rules, 0, &sink), want);
        assert_int_equal(contact_fold(d, &next[i], rules, 0, &sink), want);
        hf_buf_reset(&a);
        hf_buf_reset(&b);
        assert_int_equal(contact_state_encode(s, &a), 0);
        assert_int_equal(contact_state_encode(d, &b), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }

    /* encode appends */
    size_t len = a.len;
    assert_int_equal(contact_state_encode(s, &a), 0);
    assert_int_equal(a.len, 2 * len);
    assert_memory_equal(a.data, a.data + len, len);

    /* a fresh state round-trips too */
    contact_state_t *fresh = contact_state_new("c-2");
    hf_buf_t c = encode_contact(fresh);
    contact_state_t *fd = NULL;
    assert_int_equal(contact_state_decode(&fd, c.data, c.len), 0);
    assert_string_equal(contact_state_id(fd), "c-2");
    assert_int_equal(contact_state_stage(fd), HF_STAGE_KNOWN);
    assert_int_equal(contact_state_cycle(fd), 1);
    contact_state_free(fresh);
    contact_state_free(fd);
    hf_buf_free(&c);

    contact_state_free(s);
    contact_state_free(d);
    hf_buf_free(&a);
    hf_buf_free(&b);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

static void test_anon_round_trip(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    anon_state_t *s = samples_anon_new(rules, &rec, false);
    hf_buf_t a = encode_anon(s);
    anon_state_t *d = NULL;
    assert_int_equal(anon_state_decode(&d, a.data, a.len), 0);
    hf_buf_t b = encode_anon(d);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(anon_state_buffered(d), anon_state_buffered(s));
    assert_null(anon_state_contact(d));

    /* the decoded buffer replays the same records in the same order */
    identity_sink_t sink = tk_identity_sink(&rec);
    hf_event_t id = tk_identify("i", TK_T0 + TK_DAY_MS, "a-1", "c-1");
    assert_int_equal(identity_fold(s, &id, "id", 2, rules, &sink, NULL), 0);
    size_t first = rec.forward_count;
    assert_int_equal(identity_fold(d, &id, "id", 2, rules, &sink, NULL), 0);
    assert_int_equal(rec.forward_count, 2 * first);
    for (size_t i = 0; i < first; i++) {
        assert_int_equal(rec.forwards[i].raw_len, rec.forwards[first + i].raw_len);
        assert_memory_equal(rec.forwards[i].raw, rec.forwards[first + i].raw,
                            rec.forwards[i].raw_len);
    }
    /* identified state round trip */
    hf_buf_reset(&a);
    hf_buf_reset(&b);
    assert_int_equal(anon_state_encode(s, &a), 0);
    anon_state_t *d2 = NULL;
    assert_int_equal(anon_state_decode(&d2, a.data, a.len), 0);
    assert_string_equal(anon_state_contact(d2), "c-1");
    assert_int_equal(anon_state_encode(d2, &b), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);

    anon_state_t *fresh = anon_state_new();
    hf_buf_t c = encode_anon(fresh);
    anon_state_t *fd = NULL;
    assert_int_equal(anon_state_decode(&fd, c.data, c.len), 0);
    assert_int_equal(anon_state_buffered(fd), 0);
    anon_state_free(fresh);
    anon_state_free(fd);
    hf_buf_free(&c);

    anon_state_free(s);
    anon_state_free(d);
    anon_state_free(d2);
    hf_buf_free(&a);
    hf_buf_free(&b);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

typedef int (*decode_fn)(const void *buf, size_t len);

static int decode_contact(const void *buf, size_t len)
{
    contact_state_t *s = NULL;
    int r = contact_state_decode(&s, buf, len);
    if (r == 0) {
        /* whatever decodes must also be usable */
        hf_buf_t b = HF_BUF_INIT;
        assert_int_equal(contact_state_encode(s, &b), 0);
        hf_buf_free(&b);
        contact_state_free(s);
    } else {
        assert_null(s);
    }
    return r;
}

static int decode_anon(const void *buf, size_t len)
{
    anon_state_t *s = NULL;
    int r = anon_state_decode(&s, buf, len);
    if (r == 0) {
        hf_buf_t b = HF_BUF_INIT;
        assert_int_equal(anon_state_encode(s, &b), 0);
        hf_buf_free(&b);
        anon_state_free(s);
    } else {
        assert_null(s);
    }
    return r;
}

static void check_corruption(const hf_buf_t *valid, decode_fn decode)
{
    /* every strict prefix runs out of bytes somewhere */
    for (size_t n = 0; n < valid->len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
        assert_non_null(copy);
        memcpy(copy, valid->data, n);
        assert_int_equal(decode(copy, n), HF_STATE_CORRUPT);
        free(copy);
    }
    /* trailing garbage */
    uint8_t *longer = malloc(valid->len + 1);
    assert_non_null(longer);
    memcpy(longer, valid->data, valid->len);
    longer[valid->len] = 0;
    assert_int_equal(decode(longer, valid->len + 1), HF_STATE_CORRUPT);
    /* an unknown schema_version (zig-zag 63 = 0x7e) */
    memcpy(longer, valid->data, valid->len);
    longer[0] = 0x7e;
    assert_int_equal(decode(longer, valid->len), HF_STATE_CORRUPT);
    free(longer);

    /* single-byte mutations: decode or reject, never crash */
    uint32_t x = 0x9e3779b9;
    uint8_t *m = malloc(valid->len);
    assert_non_null(m);
    for (int i = 0; i < 4000; i++) {
        memcpy(m, valid->data, valid->len);
        size_t pos = prng_next(&x) % valid->len;
        m[pos] = (uint8_t)prng_next(&x);
        int r = decode(m, valid->len);
        assert_true(r == 0 || r == HF_STATE_CORRUPT);
    }
    free(m);
}

static void test_contact_issue4_fields_round_trip(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *s = samples_contact_new(rules, &rec);
    size_t updates_before = rec.update_total;
    assert_true(updates_before > 0);
    uint64_t last_version = rec.updates[rec.update_count - 1].version;
    hf_buf_t a = encode_contact(s);
    contact_state_t *d = NULL;
    assert_int_equal(contact_state_decode(&d, a.data, a.len), 0);
    assert_string_equal(contact_state_account(d), "acct-1");
    assert_null(contact_state_redirect(d));
    assert_true(contact_state_known(d));

    /* the decoded state goes on like the original: the next member version and the
     * same interests; the roster is checked below (the byte-identical re-encoding of
     * test_contact_round_trip covers every field) */
    tk_rec_clear(&rec);
    hf_sink_t sink = tk_sink(&rec);
    hf_event_t ev = tk_visit("after", TK_T0 + 3 * TK_DAY_MS, NULL, "c-1", "s-9", "/pricing", NULL);
    assert_int_equal(contact_fold(s, &ev, rules, TK_T0, &sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(contact_fold(d, &ev, rules, TK_T0, &sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(rec.update_count, 2);
    const tk_member_update_t *x = &rec.updates[0], *y = &rec.updates[1];
    assert_int_equal(x->version, last_version + 1);
    assert_int_equal(y->version, last_version + 1);
    assert_string_equal(y->account_id, "acct-1");
    assert_int_equal(x->interest_count, 2);
    assert_int_equal(y->interest_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(x->interests[i].topic, y->interests[i].topic);
        assert_float_equal(x->interests[i].weight, y->interests[i].weight, 0);
    }
    assert_string_equal(y->interests[0].topic, "pricing");

    /* the roster: the same (version 7) and older ones change nothing in either */
    const hf_member_t none[] = {{"c-8", "user", 1, TK_T0}};
    hf_roster_t old = {"acct-1", 7, none, 1, NULL, 0};
    assert_int_equal(contact_apply_roster(d, &old), 0);
    hf_buf_t b = encode_contact(s), c = encode_contact(d);
    assert_int_equal(b.len, c.len);
    assert_memory_equal(b.data, c.data, b.len);

    contact_state_free(s);
    contact_state_free(d);
    hf_buf_free(&a);
    hf_buf_free(&b);
    hf_buf_free(&c);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

static void test_redirect_round_trip(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *s = samples_redirect_new(rules, &rec);
    hf_buf_t a = encode_contact(s);
    contact_state_t *d = NULL;
    assert_int_equal(contact_state_decode(&d, a.data, a.len), 0);
    assert_string_equal(contact_state_redirect(d), "c-9");
    assert_string_equal(contact_state_id(d), "c-1");
    hf_buf_t b = encode_contact(d);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    check_corruption(&a, decode_contact);
    contact_state_free(s);
    contact_state_free(d);
    hf_buf_free(&a);
    hf_buf_free(&b);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

static void test_contact_version_1(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *v1 = NULL;
    assert_int_equal(
        contact_state_decode(&v1, contact_state_v1_sample, sizeof contact_state_v1_sample), 0);
    /* what version 1 held is all there: the same as the sample built today */
    contact_state_t *now = samples_contact_new(rules, &rec);
    assert_string_equal(contact_state_id(v1), "c-1");
    assert_int_equal(contact_state_stage(v1), HF_STAGE_CONVERSATION_READY);
    assert_true(contact_state_handed_off(v1));
    assert_int_equal(contact_state_cycle(v1), 1);
    assert_int_equal(contact_state_last_event_ms(v1), TK_T0 + 2 * TK_DAY_MS);
    assert_float_equal(contact_state_score(v1, rules, TK_T0 + 9 * TK_DAY_MS),
                       contact_state_score(now, rules, TK_T0 + 9 * TK_DAY_MS), 0);
    assert_string_equal(contact_state_grade(v1, rules), "B");
    assert_true(contact_state_known(v1));
    /* and the fields version 2 added are at their defaults */
    assert_null(contact_state_account(v1));
    assert_null(contact_state_redirect(v1));

    /* it is written as the current version (5) from then on, and reads back */
    hf_buf_t a = encode_contact(v1);
    assert_int_equal(a.data[0], 0x0a);
    contact_state_t *again = NULL;
    assert_int_equal(contact_state_decode(&again, a.data, a.len), 0);
    hf_buf_t b = encode_contact(again);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    /* only the fields version 2 appended differ from today's sample: version 1 is a
     * prefix (after the version byte) of the same state written now, without them */
    hf_buf_t c = encode_contact(now);
    assert_true(c.len > sizeof contact_state_v1_sample);
    assert_memory_equal(c.data + 1, contact_state_v1_sample + 1,
                        sizeof contact_state_v1_sample - 1);

    /* the next event resolves the account and joins it, no leave (there was none) */
    tk_rec_clear(&rec);
    hf_sink_t sink = tk_sink(&rec);
    hf_event_t ev = tk_visit("after", TK_T0 + 3 * TK_DAY_MS, NULL, "c-1", "s-9", "/docs", NULL);
    assert_int_equal(contact_fold(v1, &ev, rules, TK_T0, &sink), CONTACT_FOLD_APPLIED);
    assert_string_equal(contact_state_account(v1), "acct-1");
    assert_int_equal(rec.update_count, 1);
    assert_false(rec.updates[0].leave);
    assert_int_equal(rec.updates[0].version, 1);
    /* a repeat of something version 1 saw is still a repeat */
    hf_event_t rep = tk_visit("v-9", TK_T0 + 2 * TK_DAY_MS, NULL, "c-1", "s-5", "/pricing", NULL);
    assert_int_equal(contact_fold(v1, &rep, rules, TK_T0, &sink), CONTACT_FOLD_DUPLICATE);

    /* the fresh version-1 state */
    contact_state_t *fresh = NULL;
    assert_int_equal(
        contact_state_decode(&fresh, contact_state_v1_fresh, sizeof contact_state_v1_fresh), 0);
    assert_string_equal(contact_state_id(fresh), "c-fresh");
    assert_int_equal(contact_state_stage(fresh), HF_STAGE_KNOWN);
    assert_false(contact_state_known(fresh));
    /* a version-1 prefix with trailing bytes is corrupt (version 1 ends at recent) */
    uint8_t longer[sizeof contact_state_v1_fresh + 1];
    memcpy(longer, contact_state_v1_fresh, sizeof contact_state_v1_fresh);
    longer[sizeof contact_state_v1_fresh] = 0;
    contact_state_t *bad = NULL;
    assert_int_equal(contact_state_decode(&bad, longer, sizeof longer), HF_STATE_CORRUPT);
    assert_null(bad);

    contact_state_free(v1);
    contact_state_free(now);
    contact_state_free(again);
    contact_state_free(fresh);
    hf_buf_free(&a);
    hf_buf_free(&b);
    hf_buf_free(&c);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

static void test_contact_corruption(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *s = samples_contact_new(rules, &rec);
    hf_buf_t a = encode_contact(s);
    check_corruption(&a, decode_contact);
    contact_state_free(s);
    hf_buf_free(&a);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

static void test_anon_corruption(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    anon_state_t *s = samples_anon_new(rules, &rec, false);
    hf_buf_t a = encode_anon(s);
    check_corruption(&a, decode_anon);
    anon_state_free(s);
    hf_buf_free(&a);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint32_t x = 2463534242u;
    uint8_t buf[256];
    int decoded = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len = prng_next(&x) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)prng_next(&x);
        /* most start like a real state (ContactState 2 or 1, AnonState 1), to get past
         * the version check */
        if (len && (i % 4))
            buf[0] = i % 4 == 1 ? 0x04 : 0x02;
        int r = decode_contact(buf, len);
        assert_true(r == 0 || r == HF_STATE_CORRUPT);
        decoded += r == 0;
        r = decode_anon(buf, len);
        assert_true(r == 0 || r == HF_STATE_CORRUPT);
        decoded += r == 0;
    }
    (void)decoded;
}

static void test_huge_counts_rejected(void **state)
{
    (void)state;
    /* AnonState: version 1, no contact, no first/last seen, then an array count of
     * 2^62 items in a 14-byte input: rejected before anything is allocated for it */
    const uint8_t anon[] = {0x02, 0x00, 0x00, 0x00, 0x80, 0x80, 0x80,
                            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    assert_int_equal(decode_anon(anon, sizeof anon), HF_STATE_CORRUPT);
    /* a string length beyond the input */
    const uint8_t contact[] = {0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f, 'c'};
    assert_int_equal(decode_contact(contact, sizeof contact), HF_STATE_CORRUPT);
    /* an over-long varint */
    const uint8_t varint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(decode_contact(varint, sizeof varint), HF_STATE_CORRUPT);
    assert_int_equal(decode_contact(NULL, 0), HF_STATE_CORRUPT);
    assert_int_equal(decode_anon(NULL, 0), HF_STATE_CORRUPT);
}

/* Version 5 appended the summary a contact owes its account (summary_pending,
 * summary_at): with accounts.member_updates coalesced it is owed across commits, so
 * it is stored.  A version-4 state -- the same bytes without those two fields --
 * owes nothing (version 4 sent every owed summary before it committed). */
static void test_contact_owed_summary(void **state)
{
    (void)state;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    contact_state_t *s = samples_contact_new(rules, &rec);
    assert_false(contact_state_summary_pending(s));
    hf_buf_t now = encode_contact(s);
    assert_int_equal(now.data[0], 0x0a);
    /* nothing owed: false (00), at 0 (00) */
    assert_memory_equal(now.data + now.len - 2, "\x00\x00", 2);

    /* the same state as version 4 wrote it */
    hf_buf_t v4 = HF_BUF_INIT;
    assert_int_equal(hf_buf_append(&v4, now.data, now.len - 2), 0);
    v4.data[0] = 0x08;
    contact_state_t *old = NULL;
    assert_int_equal(contact_state_decode(&old, v4.data, v4.len), 0);
    assert_false(contact_state_summary_pending(old));
    hf_buf_t again = encode_contact(old);
    assert_int_equal(again.len, now.len);
    assert_memory_equal(again.data, now.data, now.len);
    /* version 5 without its last field is cut short */
    contact_state_t *bad = NULL;
    assert_int_equal(contact_state_decode(&bad, now.data, now.len - 1), HF_STATE_CORRUPT);
    assert_null(bad);

    /* coalesced: an event leaves the summary owed, as of its event time */
    rules->accounts.member_updates = HF_MEMBER_UPDATES_COALESCED;
    tk_rec_clear(&rec);
    hf_sink_t sink = tk_sink(&rec);
    int64_t at = TK_T0 + 3 * TK_DAY_MS;
    hf_event_t ev = tk_visit("owed-1", at, NULL, "c-1", "s-9", "/docs", NULL);
    assert_int_equal(contact_fold(s, &ev, rules, TK_T0, &sink), CONTACT_FOLD_APPLIED);
    assert_int_equal(rec.update_count, 0);
    assert_true(contact_state_summary_pending(s));
    hf_buf_t owed = encode_contact(s);
    contact_state_t *back = NULL;
    assert_int_equal(contact_state_decode(&back, owed.data, owed.len), 0);
    assert_true(contact_state_summary_pending(back));
    hf_buf_t owed2 = encode_contact(back);
    assert_int_equal(owed2.len, owed.len);
    assert_memory_equal(owed2.data, owed.data, owed.len);

    /* read back, it sends what the state before the commit would have sent */
    assert_int_equal(contact_flush_summary(s, rules, &sink), 0);
    assert_int_equal(contact_flush_summary(back, rules, &sink), 0);
    assert_int_equal(rec.update_count, 2);
    assert_int_equal(rec.updates[0].at_ms, at);
    assert_int_equal(rec.updates[1].at_ms, at);
    assert_int_equal(rec.updates[0].version, rec.updates[1].version);
    assert_false(contact_state_summary_pending(back));
    hf_buf_t sent = encode_contact(back);
    assert_memory_equal(sent.data + sent.len - 2, "\x00\x00", 2);

    contact_state_free(s);
    contact_state_free(old);
    contact_state_free(back);
    hf_buf_free(&now);
    hf_buf_free(&v4);
    hf_buf_free(&again);
    hf_buf_free(&owed);
    hf_buf_free(&owed2);
    hf_buf_free(&sent);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_round_trip),
        cmocka_unit_test(test_anon_round_trip),
        cmocka_unit_test(test_contact_issue4_fields_round_trip),
        cmocka_unit_test(test_redirect_round_trip),
        cmocka_unit_test(test_contact_version_1),
        cmocka_unit_test(test_contact_owed_summary),
        cmocka_unit_test(test_contact_corruption),
        cmocka_unit_test(test_anon_corruption),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_huge_counts_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
