/* Records between stages and outputs (codec/codec_records.c): round trips, agreement
 * with the .avsc files (Avro-C reads the bytes, and writes the same bytes from the
 * same records), and every way a broken record is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "avro_oracle.h"
#include "codec/codec.h"

static codec_t *new_codec(void)
{
    static const uint8_t key[16] = {1, 2, 3};
    codec_opts_t o = {.email_key = key, .email_key_len = sizeof(key)};
    codec_t *c = NULL;
    char err[256];
    assert_int_equal(codec_new(&c, &o, err, sizeof(err)), 0);
    return c;
}

static const hf_interest_t interests[] = {{"reduce churn", 2.5f}, {"SOC 2", 0.25f}};
static const hf_reason_t reasons[] = {{"pricing_page", 30, 3, "3 matches"},
                                      {"unsubscribe", -20, 1, NULL}};
static const hf_touch_t touches[] = {{2000, "web_visit", "Pricing", NULL},
                                     {1000, "download", NULL, "before known"}};
static const hf_download_t downloads[] = {{"wp-1", "Churn guide", "whitepaper", 1500}};
static const hf_webinar_t webinars[] = {{"w-1", "Demo day", "attended", 45, 1200},
                                        {"w-2", NULL, NULL, 0, 900}};

static hf_member_update_t full_update(void)
{
    return (hf_member_update_t){
        .contact_id = "c-1",
        .account_id = "acct-acme",
        .leave = false,
        .version = 42,
        .at_ms = 1700000000123,
        .score = 87.125,
        .score_at_ms = 1700000000000,
        .role = "decision_maker",
        .stage = "engaged",
        .fit_grade = "A",
        .first_seen_ms = 1690000000000,
        .last_active_ms = 1700000000123,
        .company_name = "Acme",
        .industry = NULL,
        .has_employees = true,
        .employees = 1200,
        .country = "DE",
        .region = NULL,
        .interests = interests,
        .interest_count = 2,
        .contributions = reasons,
        .contribution_count = 2,
        .touches = touches,
        .touch_count = 2,
        .downloads = downloads,
        .download_count = 1,
        .webinars = webinars,
        .webinar_count = 2,
        .sessions = 7,
        .page_views = 19,
        .email_opens = 4,
        .email_clicks = 2,
        .placement = "role rule 2 (decision_maker): title \"VP Finance\" matched \"*vp*\"",
    };
}

static void assert_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void test_member_update_round_trip(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t b = HF_BUF_INIT;
    hf_member_update_t u = full_update();
    assert_int_equal(codec_encode_member_update(c, &u, &b), 0);
    assert_int_equal(codec_internal_kind(c, b.data, b.len), CODEC_INTERNAL_MEMBER_UPDATE);
    hf_internal_t in;
    char err[256];
    for (int round = 0; round < 2; round++) { /* cold, then warm */
        assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
        const hf_member_update_t *v = &in.member;
        assert_int_equal(in.kind, CODEC_INTERNAL_MEMBER_UPDATE);
        assert_string_equal(v->contact_id, "c-1");
        assert_string_equal(v->account_id, "acct-acme");
        assert_false(v->leave);
        assert_int_equal(v->version, 42);
        assert_int_equal(v->at_ms, u.at_ms);
        assert_true(v->score == 87.125);
        assert_int_equal(v->score_at_ms, u.score_at_ms);
        assert_str_eq(v->role, "decision_maker");
        assert_str_eq(v->stage, "engaged");
        assert_str_eq(v->fit_grade, "A");
        assert_int_equal(v->first_seen_ms, u.first_seen_ms);
        assert_int_equal(v->last_active_ms, u.last_active_ms);
        assert_str_eq(v->company_name, "Acme");
        assert_null(v->industry);
        assert_true(v->has_employees);
        assert_int_equal(v->employees, 1200);
        assert_str_eq(v->country, "DE");
        assert_null(v->region);
        assert_int_equal(v->interest_count, 2);
        assert_string_equal(v->interests[1].topic, "SOC 2");
        assert_true(v->interests[0].weight == 2.5f);
        assert_int_equal(v->contribution_count, 2);
        assert_int_equal(v->contributions[1].points, -20);
        assert_null(v->contributions[1].detail);
        assert_string_equal(v->contributions[0].detail, "3 matches");
        assert_int_equal(v->touch_count, 2);
        assert_null(v->touches[1].title);
        assert_string_equal(v->touches[1].detail, "before known");
        assert_int_equal(v->download_count, 1);
        assert_string_equal(v->downloads[0].type, "whitepaper");
        assert_int_equal(v->webinar_count, 2);
        assert_int_equal(v->webinars[0].minutes, 45);
        assert_null(v->webinars[1].action);
        assert_int_equal(v->sessions, 7);
        assert_int_equal(v->email_clicks, 2);
        assert_str_eq(v->placement, u.placement);
    }
    /* An input decoder refuses it; the JSON renderer (Avro-C over the .avsc) reads it. */
    hf_event_t ev;
    assert_int_equal(codec_decode_input(c, b.data, b.len, &ev, err, sizeof(err)),
                     CODEC_E_NOT_INPUT);
    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, b.data, b.len, &json, err, sizeof(err)), 0);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)json.data, json.len, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "account_id")), "acct-acme");
    assert_int_equal(json_integer_value(json_object_get(root, "page_views")), 19);
    json_t *tw = json_array_get(json_object_get(root, "webinars"), 0);
    assert_int_equal(json_integer_value(json_object_get(tw, "minutes")), 45);
    json_decref(root);
    hf_buf_free(&json);
    hf_buf_free(&b);
    codec_free(c);
}

static void test_roster_and_merges_round_trip(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t b = HF_BUF_INIT;
    char err[256];
    hf_internal_t in;
    static const hf_member_t members[] = {{"c-2", "champion", 55, 10}, {"c-3", NULL, 31, 9}};
    static const char *const roles[] = {"decision_maker", "champion"};
    hf_roster_t ro = {"acct-acme", 7, members, 2, roles, 2};
    assert_int_equal(codec_encode_roster(c, "c-1", &ro, &b), 0);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
    assert_int_equal(in.kind, CODEC_INTERNAL_ROSTER);
    assert_string_equal(in.roster_contact_id, "c-1");
    assert_int_equal(in.roster.version, 7);
    assert_int_equal(in.roster.member_count, 2);
    assert_null(in.roster.members[1].role);
    assert_int_equal(in.roster.members[0].score, 55);
    assert_int_equal(in.roster.roles_covered_count, 2);
    assert_string_equal(in.roster.roles_covered[1], "champion");

    hf_buf_reset(&b);
    hf_roster_t empty = {"acct-x", 1, NULL, 0, NULL, 0};
    assert_int_equal(codec_encode_roster(c, "c-9", &empty, &b), 0);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
    assert_int_equal(in.roster.member_count, 0);

    hf_buf_reset(&b);
    hf_merge_request_t mr = {NULL, 123, "c-s", "c-l", true, false};
    assert_int_equal(codec_encode_merge_request(c, &mr, &b), 0);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
    assert_int_equal(in.kind, CODEC_INTERNAL_MERGE_REQUEST);
    assert_null(in.merge_request.event_id);
    assert_string_equal(in.merge_request.loser_id, "c-l");
    assert_true(in.merge_request.survivor_known);
    assert_false(in.merge_request.bounced);

    hf_buf_reset(&b);
    static const uint8_t blob[] = {0, 1, 2, 0xff, 0};
    hf_merge_state_t ms = {"m-1", 456, "c-s", "c-l", blob, sizeof(blob)};
    assert_int_equal(codec_encode_merge_state(c, &ms, &b), 0);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
    assert_int_equal(in.kind, CODEC_INTERNAL_MERGE_STATE);
    assert_string_equal(in.merge_state.event_id, "m-1");
    assert_int_equal(in.merge_state.state_len, sizeof(blob));
    assert_memory_equal(in.merge_state.state, blob, sizeof(blob));
    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, b.data, b.len, &json, err, sizeof(err)), 0);
    hf_buf_free(&json);
    hf_buf_free(&b);
    codec_free(c);
}

/* The daily digest's CaseUpdate: every field back as written, and a JSON rendering. */
static void test_case_update_round_trip(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t b = HF_BUF_INIT;
    char err[256];
    hf_internal_t in;
    static const char *const topics[] = {"pricing", "security", "sso"};
    digest_update_t u = {.team = "emea",
                         .handoff_id = "ho_1",
                         .entity_type = HF_ENTITY_ACCOUNT,
                         .entity_id = "acct-1",
                         .owner_id = "rep-7",
                         .status = DIGEST_LOST,
                         .at_ms = 1000,
                         .handed_off_at_ms = 900,
                         .reason = "hand_raiser (web)",
                         .interests = topics,
                         .interest_count = 3,
                         .next_deadline_ms = 5000,
                         .accepted_at_ms = 950,
                         .touched_at_ms = 0,
                         .breach_level = {2, 1, 0},
                         .breach_at_ms = {990, 995, 0},
                         .sla_done = true};
    assert_int_equal(codec_encode_case_update(c, &u, &b), 0);
    assert_int_equal(codec_internal_kind(c, b.data, b.len), CODEC_INTERNAL_CASE_UPDATE);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
    const digest_update_t *d = &in.case_update;
    assert_string_equal(d->team, "emea");
    assert_string_equal(d->handoff_id, "ho_1");
    assert_int_equal(d->entity_type, HF_ENTITY_ACCOUNT);
    assert_string_equal(d->owner_id, "rep-7");
    assert_int_equal(d->status, DIGEST_LOST);
    assert_int_equal(d->at_ms, 1000);
    assert_int_equal(d->handed_off_at_ms, 900);
    assert_string_equal(d->reason, "hand_raiser (web)");
    assert_int_equal(d->interest_count, 3);
    assert_string_equal(d->interests[2], "sso");
    assert_int_equal(d->next_deadline_ms, 5000);
    assert_int_equal(d->accepted_at_ms, 950);
    assert_int_equal(d->breach_level[0], 2);
    assert_int_equal(d->breach_level[1], 1);
    assert_int_equal(d->breach_at_ms[1], 995);
    assert_true(d->sla_done);
    hf_buf_t json = HF_BUF_INIT;
    assert_int_equal(codec_record_to_json(c, b.data, b.len, &json, err, sizeof(err)), 0);
    assert_non_null(strstr((const char *)json.data, "\"status\": \"lost\""));
    hf_buf_free(&json);

    /* nulls where the schema has them */
    hf_buf_reset(&b);
    digest_update_t bare = {.team = "t", .handoff_id = "h", .entity_id = "c"};
    assert_int_equal(codec_encode_case_update(c, &bare, &b), 0);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)), 0);
    assert_null(in.case_update.owner_id);
    assert_null(in.case_update.reason);
    assert_int_equal(in.case_update.interest_count, 0);
    assert_int_equal(in.case_update.status, DIGEST_OPEN);
    hf_buf_free(&b);
    codec_free(c);
}

static void test_broken_records_refused(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t b = HF_BUF_INIT;
    hf_member_update_t u = full_update();
    assert_int_equal(codec_encode_member_update(c, &u, &b), 0);
    hf_internal_t in;
    char err[256];
    /* Every cut after the header: truncated (or invalid), never a crash. */
    for (size_t cut = 10; cut < b.len; cut++) {
        int r = codec_decode_internal(c, b.data, cut, &in, err, sizeof(err));
        assert_true(r == CODEC_E_TRUNCATED || r == CODEC_E_INVALID);
        assert_true(err[0] != 0);
    }
    /* Trailing bytes. */
    hf_buf_t longer = HF_BUF_INIT;
    hf_buf_append(&longer, b.data, b.len);
    hf_buf_append(&longer, "\0", 1);
    assert_int_equal(codec_decode_internal(c, longer.data, longer.len, &in, err, sizeof(err)),
                     CODEC_E_INVALID);
    /* A union index beyond the two branches (the role field of a merge request's
     * event_id: first body byte). */
    hf_buf_reset(&b);
    hf_merge_request_t mr = {NULL, 1, "a", "b", false, false};
    assert_int_equal(codec_encode_merge_request(c, &mr, &b), 0);
    b.data[10] = 4; /* zig-zag 2 */
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)),
                     CODEC_E_INVALID);
    /* A boolean that is neither 0 nor 1. */
    b.data[10] = 0;
    b.data[b.len - 1] = 7;
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)),
                     CODEC_E_INVALID);
    /* An input record is not an internal one. */
    hf_event_t ev = {.kind = HF_EV_EMAIL,
                     .event_id = "e",
                     .occurred_at_ms = 1,
                     .source = "x",
                     .contact_id = "c",
                     .email_id = "m",
                     .campaign = "k"};
    hf_buf_reset(&b);
    assert_int_equal(codec_encode_input(c, &ev, &b), 0);
    assert_int_equal(codec_internal_kind(c, b.data, b.len), -1);
    assert_int_equal(codec_decode_internal(c, b.data, b.len, &in, err, sizeof(err)),
                     CODEC_E_UNKNOWN_SCHEMA);
    /* A missing required string is the caller's bug: -EINVAL, nothing appended. */
    hf_buf_reset(&b);
    hf_buf_append(&b, "x", 1);
    u.account_id = NULL;
    assert_int_equal(codec_encode_member_update(c, &u, &b), -EINVAL);
    assert_int_equal(b.len, 1);
    hf_buf_free(&longer);
    hf_buf_free(&b);
    codec_free(c);
}

/* --- the same bytes as Avro-C's ------------------------------------------------------ */

typedef struct oracle {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
} oracle_t;

static void oracle_open(oracle_t *o, const char *record)
{
    assert_int_equal(oracle_schema(record, &o->schema), 0);
    o->iface = avro_generic_class_from_schema(o->schema);
    assert_non_null(o->iface);
    assert_int_equal(avro_generic_value_new(o->iface, &o->value), 0);
}

static void oracle_close(oracle_t *o)
{
    avro_value_decref(&o->value);
    avro_value_iface_decref(o->iface);
    avro_schema_decref(o->schema);
}

/* The framed record @rec holds, after its header, what Avro-C writes from @o. */
static void assert_oracle_body(const hf_buf_t *rec, oracle_t *o)
{
    static uint8_t body[16384];
    size_t len = 0;
    assert_int_equal(oracle_write(&o->value, body, sizeof(body), &len), 0);
    assert_int_equal(rec->len, 10 + len);
    assert_memory_equal(rec->data + 10, body, len);
}

static void test_outputs_match_avro_c(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t b = HF_BUF_INIT;
    oracle_t o;

    oracle_open(&o, "ConversationReady");
    hf_handoff_t h = oracle_sample_handoff();
    h.entity_type = HF_ENTITY_ACCOUNT;
    h.qualified_at_ms = -3000;
    h.routing_note = "by region";
    h.kind = "expansion";
    h.product = "analytics";
    h.interests = interests;
    h.interest_count = 2;
    hf_handoff_t bare = {.handoff_id = "h",
                         .entity_id = "c",
                         .rule = "r",
                         .fit_grade = "C",
                         .stage_before = "known"};
    const hf_handoff_t *handoffs[] = {&h, &bare};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_handoff(c, handoffs[i], &b), 0);
        assert_int_equal(oracle_fill_handoff(&o.value, handoffs[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);

    oracle_open(&o, "LifecycleChange");
    hf_lifecycle_t lc = {HF_ENTITY_CONTACT, "c-1", "known", "engaged", 5, "score"};
    hf_buf_reset(&b);
    assert_int_equal(codec_encode_lifecycle(c, &lc, &b), 0);
    assert_int_equal(oracle_fill_lifecycle(&o.value, &lc), 0);
    assert_oracle_body(&b, &o);
    oracle_close(&o);

    oracle_open(&o, "SlaBreach");
    hf_breach_t breaches[] = {{"br_1", "ho_1", HF_ENTITY_CONTACT, "c-1", "rep-7", 2, 100, 200, 3},
                              {"br_2", "ho_2", HF_ENTITY_ACCOUNT, "a-1", NULL, 0, -1, 0, 1}};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_breach(c, &breaches[i], &b), 0);
        assert_int_equal(oracle_fill_breach(&o.value, &breaches[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);

    oracle_open(&o, "DeadLetter");
    static const uint8_t raw[] = {0xc3, 0x01, 0x00, 0xff, 'a'};
    hf_dead_letter_t letters[] = {{"mkt.web.visits", 3, 12345, "k1", 2, raw, sizeof(raw), "why", 9},
                                  {"t", -1, 0, NULL, 0, NULL, 0, "empty", 0},
                                  {"t", 0, 1, "", 0, raw, 0, "zero-length key", 1}};
    for (size_t i = 0; i < 3; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_dead_letter(c, &letters[i], &b), 0);
        assert_int_equal(oracle_fill_dead_letter(&o.value, &letters[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);
    hf_buf_free(&b);
    codec_free(c);
}

static void test_internal_records_match_avro_c(void **state)
{
    (void)state;
    codec_t *c = new_codec();
    hf_buf_t b = HF_BUF_INIT;
    oracle_t o;

    oracle_open(&o, "MemberUpdate");
    hf_member_update_t full = full_update();
    hf_member_update_t bare = {.contact_id = "c",
                               .account_id = "a",
                               .leave = true,
                               .version = UINT64_MAX >> 1,
                               .score = -0.5};
    const hf_member_update_t *updates[] = {&full, &bare};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_member_update(c, updates[i], &b), 0);
        assert_int_equal(oracle_fill_member_update(&o.value, updates[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);

    oracle_open(&o, "RosterUpdate");
    static const hf_member_t members[] = {{"c-2", "champion", 55, 10}, {"c-3", NULL, -31, 9}};
    static const char *const roles[] = {"champion"};
    hf_roster_t rosters[] = {{"acct-acme", 7, members, 2, roles, 1},
                             {"acct-x", 0, NULL, 0, NULL, 0}};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_roster(c, "c-1", &rosters[i], &b), 0);
        assert_int_equal(oracle_fill_roster(&o.value, "c-1", &rosters[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);

    oracle_open(&o, "MergeRequest");
    hf_merge_request_t requests[] = {{NULL, 123, "c-s", "c-l", true, false},
                                     {"m-1", -5, "c-s", "c-l", false, true}};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_merge_request(c, &requests[i], &b), 0);
        assert_int_equal(oracle_fill_merge_request(&o.value, &requests[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);

    oracle_open(&o, "MergeState");
    static const uint8_t blob[] = {0, 1, 2, 0xff, 0};
    hf_merge_state_t states[] = {{"m-1", 456, "c-s", "c-l", blob, sizeof(blob)},
                                 {NULL, 0, "c-s", "c-l", NULL, 0}};
    for (size_t i = 0; i < 2; i++) {
        hf_buf_reset(&b);
        assert_int_equal(codec_encode_merge_state(c, &states[i], &b), 0);
        assert_int_equal(oracle_fill_merge_state(&o.value, &states[i]), 0);
        assert_oracle_body(&b, &o);
    }
    oracle_close(&o);
    hf_buf_free(&b);
    codec_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_update_round_trip),
        cmocka_unit_test(test_roster_and_merges_round_trip),
        cmocka_unit_test(test_case_update_round_trip),
        cmocka_unit_test(test_broken_records_refused),
        cmocka_unit_test(test_outputs_match_avro_c),
        cmocka_unit_test(test_internal_records_match_avro_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
