/* AccountState codec: round trips, and corrupt input (truncations, flipped bytes,
 * random bytes, broken invariants) reported as HF_STATE_CORRUPT, never a crash. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/account/account.h"
#include "processors/account/account_priv.h"
#include "account_state_v2.h"
#include "test_account_kit.h"
#include "testkit.h"

typedef struct fixture {
    hf_rules_t *rules;
    tk_rec_t rec;
    account_state_t *sample;
    hf_buf_t bytes; /* the sample's encoding */
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    f = (fixture_t){0};
    f.rules = ta_sample_rules_new();
    f.sample = ta_sample_account_new(f.rules, &f.rec);
    *state = &f;
    return account_state_encode(f.sample, &f.bytes);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    hf_buf_free(&f->bytes);
    account_state_free(f->sample);
    tk_rec_clear(&f->rec);
    tk_rules_free(f->rules);
    return 0;
}

/* Decodes @len bytes; on success re-encodes and frees.  Returns the decoder's result. */
static int decode_and_reencode(const void *buf, size_t len)
{
    account_state_t *s = NULL;
    int r = account_state_decode(&s, buf, len);
    if (r == 0) {
        hf_buf_t again = HF_BUF_INIT;
        assert_int_equal(account_state_encode(s, &again), 0);
        /* what decodes is what encodes */
        assert_int_equal(again.len, len);
        assert_memory_equal(again.data, buf, len);
        hf_buf_free(&again);
        account_state_free(s);
    } else {
        assert_null(s);
    }
    return r;
}

static void test_sample_is_what_it_should_be(void **state)
{
    fixture_t *f = *state;
    const account_state_t *s = f->sample;
    assert_int_equal(account_state_stage(s), HF_STAGE_CONVERSATION_READY);
    assert_true(account_state_handed_off(s));
    assert_int_equal(account_state_member_count(s), 3);
    assert_int_equal(account_state_engaged_count(s, f->rules), 2);
    assert_int_equal(f->rec.handoff_count, 1);
    assert_int_equal(s->departed_count, 1);
    assert_int_equal(s->roster_count, 2);
    assert_true(s->roster_version >= 1);
}

static void test_round_trip(void **state)
{
    fixture_t *f = *state;
    account_state_t *s = NULL;
    assert_int_equal(account_state_decode(&s, f->bytes.data, f->bytes.len), 0);
    assert_string_equal(account_state_id(s), "acct-1");
    assert_int_equal(account_state_stage(s), HF_STAGE_CONVERSATION_READY);
    assert_int_equal(account_state_cycle(s), 1);
    assert_true(account_state_handed_off(s));
    assert_int_equal(account_state_member_count(s), 3);
    assert_int_equal(account_state_engaged_count(s, f->rules), 2);
    int64_t at = TK_T0 + 3 * TK_DAY_MS;
    assert_float_equal(account_state_score(s, f->rules, at),
                       account_state_score(f->sample, f->rules, at), 0);
    hf_buf_t again = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &again), 0);
    assert_int_equal(again.len, f->bytes.len);
    assert_memory_equal(again.data, f->bytes.data, f->bytes.len);

    /* the decoded state goes on where the sample was: repeats and departed members
     * stay stale, no second handoff */
    tk_rec_t rec = {0};
    hf_sink_t sink = tk_sink(&rec);
    int64_t t = TK_T0 + 2 * TK_DAY_MS;
    hf_member_update_t u = ta_update("c-2", 7, t, 99, "champion");
    assert_int_equal(account_fold_member(s, &u, f->rules, TK_T0, &sink), ACCOUNT_FOLD_STALE);
    u = ta_update("c-4", 2, t, 99, "champion");
    assert_int_equal(account_fold_member(s, &u, f->rules, TK_T0, &sink), ACCOUNT_FOLD_STALE);
    u = ta_update("c-5", 1, t, 99, "champion");
    assert_int_equal(account_fold_member(s, &u, f->rules, TK_T0, &sink), ACCOUNT_FOLD_APPLIED);
    assert_int_equal(rec.handoff_count, 0);
    /* the roster goes on from the stored version */
    assert_true(rec.roster_count > 0);
    assert_int_equal(rec.rosters[0].version, f->sample->roster_version + 1);
    tk_rec_clear(&rec);
    hf_buf_free(&again);
    account_state_free(s);
}

static void test_fresh_round_trip(void **state)
{
    (void)state;
    account_state_t *s = account_state_new("acct-fresh");
    assert_non_null(s);
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &b), 0);
    account_state_free(s);
    s = NULL;
    assert_int_equal(account_state_decode(&s, b.data, b.len), 0);
    assert_string_equal(account_state_id(s), "acct-fresh");
    assert_int_equal(account_state_stage(s), HF_STAGE_KNOWN);
    assert_int_equal(account_state_member_count(s), 0);
    assert_false(account_state_handed_off(s));
    account_state_free(s);
    hf_buf_free(&b);
}

static void test_truncations_are_corrupt(void **state)
{
    fixture_t *f = *state;
    for (size_t len = 0; len < f->bytes.len; len++) {
        account_state_t *s = NULL;
        assert_int_equal(account_state_decode(&s, f->bytes.data, len), HF_STATE_CORRUPT);
        assert_null(s);
    }
    /* and a byte too many */
    hf_buf_t longer = HF_BUF_INIT;
    assert_int_equal(hf_buf_append(&longer, f->bytes.data, f->bytes.len), 0);
    assert_int_equal(hf_buf_append(&longer, "\0", 1), 0);
    assert_int_equal(decode_and_reencode(longer.data, longer.len), HF_STATE_CORRUPT);
    hf_buf_free(&longer);
}

static void test_flipped_bytes_never_crash(void **state)
{
    fixture_t *f = *state;
    hf_buf_t copy = HF_BUF_INIT;
    assert_int_equal(hf_buf_append(&copy, f->bytes.data, f->bytes.len), 0);
    static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x7f};
    size_t corrupt = 0;
    for (size_t i = 0; i < copy.len; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            copy.data[i] ^= masks[m];
            int r = decode_and_reencode(copy.data, copy.len);
            assert_true(r == 0 || r == HF_STATE_CORRUPT);
            corrupt += r == HF_STATE_CORRUPT;
            copy.data[i] ^= masks[m];
        }
    /* most flips break a length, a count or a string: the checks are really there */
    assert_true(corrupt > copy.len);
    hf_buf_free(&copy);
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_random_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    uint8_t buf[512];
    for (int round = 0; round < 4000; round++) {
        size_t len = (size_t)(xorshift(&seed) % sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)xorshift(&seed);
        /* half of them start like a state, so that the decoder gets past the header */
        if (round % 2 && len >= 2) {
            buf[0] = 2; /* schema_version 1 */
            buf[1] = 0; /* empty account id */
        }
        int r = decode_and_reencode(buf, len);
        assert_true(r == 0 || r == HF_STATE_CORRUPT);
    }
}

/* Each member keeps how it got its role, through an encoding. */
static void test_placement_round_trip(void **state)
{
    fixture_t *f = *state;
    account_state_t *s = NULL;
    assert_int_equal(account_state_decode(&s, f->bytes.data, f->bytes.len), 0);
    assert_string_equal(s->members[0].placement,
                        "role rule 1 (decision_maker): title \"VP Finance\" matched \"*vp*\"");
    assert_null(s->members[1].placement); /* c-2's update carried none */
    assert_string_equal(s->members[2].placement, "default role (user)");
    account_state_free(s);
}

/* States stored by version 2 (before placements) still decode: their members have
 * none, and everything else is what the same sample holds today. */
static void test_version_2_states_decode(void **state)
{
    fixture_t *f = *state;
    account_state_t *v2 = NULL;
    assert_int_equal(
        account_state_decode(&v2, account_state_v2_sample, sizeof account_state_v2_sample), 0);
    assert_int_equal(account_state_member_count(v2), 3);
    assert_int_equal(v2->product_count, 0); /* products came in version 3 too */
    for (size_t i = 0; i < v2->member_count; i++)
        assert_null(v2->members[i].placement);
    assert_string_equal(v2->members[0].role, "decision_maker");

    /* today's sample without its placements encodes as the version-2 state does
     * (as version 3) */
    account_state_t *now = f->sample;
    char *kept[3];
    for (size_t i = 0; i < 3; i++) {
        kept[i] = now->members[i].placement;
        now->members[i].placement = NULL;
    }
    hf_buf_t a = HF_BUF_INIT, b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(v2, &a), 0);
    assert_int_equal(account_state_encode(now, &b), 0);
    for (size_t i = 0; i < 3; i++)
        now->members[i].placement = kept[i];
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(a.data[0], 6); /* zig-zag 3: written as the current version */
    hf_buf_free(&a);
    hf_buf_free(&b);
    account_state_free(v2);

    account_state_t *fresh = NULL;
    assert_int_equal(
        account_state_decode(&fresh, account_state_v2_fresh, sizeof account_state_v2_fresh), 0);
    assert_string_equal(account_state_id(fresh), "acct-fresh");
    assert_int_equal(account_state_member_count(fresh), 0);
    account_state_free(fresh);

    /* a version-2 state with a byte more is corrupt, not read as version 3 */
    uint8_t longer[sizeof account_state_v2_sample + 1];
    memcpy(longer, account_state_v2_sample, sizeof account_state_v2_sample);
    longer[sizeof account_state_v2_sample] = 0;
    account_state_t *bad = NULL;
    assert_int_equal(account_state_decode(&bad, longer, sizeof longer), HF_STATE_CORRUPT);
    assert_null(bad);
}

/* Encodes @s, then expects its decode to be corrupt. */
static void assert_corrupt(const account_state_t *s)
{
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &b), 0);
    account_state_t *d = NULL;
    assert_int_equal(account_state_decode(&d, b.data, b.len), HF_STATE_CORRUPT);
    assert_null(d);
    hf_buf_free(&b);
}

static void test_broken_invariants_are_corrupt(void **state)
{
    fixture_t *f = *state;
    account_state_t *s = f->sample;

    /* another schema version */
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(hf_buf_append(&b, f->bytes.data, f->bytes.len), 0);
    b.data[0] = 8; /* zig-zag 4 */
    assert_int_equal(decode_and_reencode(b.data, b.len), HF_STATE_CORRUPT);
    hf_buf_free(&b);

    /* one contact twice among the members */
    char *id = s->members[1].contact_id;
    s->members[1].contact_id = s->members[0].contact_id;
    assert_corrupt(s);
    s->members[1].contact_id = id;

    /* a member that is also departed */
    id = s->departed[0].contact_id;
    s->departed[0].contact_id = s->members[2].contact_id;
    assert_corrupt(s);
    s->departed[0].contact_id = id;

    /* a version out of range (negative as an Avro long) */
    uint64_t version = s->members[0].version;
    s->members[0].version = UINT64_MAX;
    assert_corrupt(s);
    s->members[0].version = version;
    version = s->roster_version;
    s->roster_version = UINT64_MAX;
    assert_corrupt(s);
    s->roster_version = version;

    /* a score that is not a number */
    double score = s->members[0].score;
    s->members[0].score = NAN;
    assert_corrupt(s);
    s->members[0].score = score;
    double weight = s->members[0].interests[0].weight;
    s->members[0].interests[0].weight = INFINITY;
    assert_corrupt(s);
    s->members[0].interests[0].weight = weight;

    /* a cycle of 0 */
    s->cycle = 0;
    assert_corrupt(s);
    s->cycle = 1;

    /* all restored: it decodes again */
    hf_buf_t again = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &again), 0);
    assert_int_equal(decode_and_reencode(again.data, again.len), 0);
    hf_buf_free(&again);
}

/* Products end a version-3 state (written with the placements of its members); one
 * cut before them is truncated. */
static void test_products_end_version_3(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(f->sample->product_count, 0);
    assert_int_equal(f->bytes.data[0], 6);                /* zig-zag 3 */
    assert_int_equal(f->bytes.data[f->bytes.len - 1], 0); /* the empty products array */
    assert_int_equal(decode_and_reencode(f->bytes.data, f->bytes.len - 1), HF_STATE_CORRUPT);
}

/* Products round-trip; a product twice, a cycle of 0 or an empty name are corrupt. */
static void test_products_round_trip(void **state)
{
    fixture_t *f = *state;
    account_state_t *s = f->sample;
    account_product_t products[2] = {
        {.product = "analytics", .cycle = 2, .recycled = true, .recycled_at_ms = TK_T0},
        {.product = "crm",
         .owned = true,
         .owned_at_ms = TK_T0 + 5,
         .cycle = 1,
         .handed_off = true,
         .raised_at_ms = TK_T0 - 7},
    };
    s->products = products;
    s->product_count = 2;
    hf_buf_t b = HF_BUF_INIT;
    assert_int_equal(account_state_encode(s, &b), 0);
    assert_int_equal(decode_and_reencode(b.data, b.len), 0);
    account_state_t *d = NULL;
    assert_int_equal(account_state_decode(&d, b.data, b.len), 0);
    assert_int_equal(d->product_count, 2);
    assert_string_equal(d->products[1].product, "crm");
    assert_true(d->products[1].owned && d->products[1].handed_off);
    assert_int_equal(d->products[1].raised_at_ms, TK_T0 - 7);
    assert_int_equal(d->products[0].cycle, 2);
    assert_true(d->products[0].recycled);
    account_state_free(d);

    products[1].product = "analytics";
    assert_corrupt(s);
    products[1].product = "crm";
    products[0].cycle = 0;
    assert_corrupt(s);
    products[0].cycle = 1;
    products[0].product = "";
    assert_corrupt(s);
    products[0].product = "analytics";
    s->products = NULL;
    s->product_count = 0;
    hf_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sample_is_what_it_should_be, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placement_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_2_states_decode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncations_are_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_bytes_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_invariants_are_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_products_end_version_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_products_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
