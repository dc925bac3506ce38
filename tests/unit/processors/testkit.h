/* Test helpers for processors/: rules built as heap hf_rules_t (freed by
 * hf_rules_free(), exactly as the config loader allocates them), events, a sink
 * that records deep copies of what processors emit, and assertions on them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "processors/contact/contact.h"
#include "processors/identity/identity.h"
#include "processors/model/output.h"
#include "processors/rules/rules.h"

#define TK_MINUTE_MS INT64_C(60000)
#define TK_HOUR_MS (60 * TK_MINUTE_MS)
#define TK_DAY_MS (24 * TK_HOUR_MS)
/* 2026-03-01T00:00:00Z */
#define TK_T0 INT64_C(1772323200000)

/* Rules with no score/fit/contact rules and roomy bounds: no decay, scores in
 * [0, 1000], no grades, no hand-raisers, grace 0, stitch 100 events / no age bound,
 * dedupe 1000 ids / no window, journey bounds 10, top pages 3, SLA 4h / 24h. */
hf_rules_t *tk_rules_new(void);

/* Sets @g to the NULL-terminated list of patterns (copied). */
void tk_globs(hf_globs_t *g, ...);

/* Appends a scoring rule matching any event; returns it (valid until the next append). */
hf_score_rule_t *tk_score_rule(hf_rules_t *r, const char *name, int32_t points);

/* Appends grades: NULL-terminated pairs (const char *letter, int min_points). */
void tk_grades(hf_rules_t *r, ...);

hf_fit_rule_t *tk_fit_rule(hf_rules_t *r, const char *name, int32_t points);
hf_fit_exclusion_t *tk_exclusion(hf_rules_t *r, const char *name);

/* Appends a contact rule; @min_grade is a letter or NULL; then a NULL-terminated list
 * of required scoring-rule names. */
hf_contact_rule_t *tk_contact_rule(hf_rules_t *r, const char *name, int32_t min_score,
                                   const char *min_grade, int64_t within_ms, ...);

void tk_hand_raisers(hf_rules_t *r, const char *rule, uint32_t form_mask, bool respect_exclusions);

/* Rules of interests, accounts, roles, routing.  Each appends and returns the new
 * entry (valid until the next append of its kind). */
hf_interest_rule_t *tk_interest_rule(hf_rules_t *r, const char *topic, float weight);
hf_role_rule_t *tk_role_rule(hf_rules_t *r, const char *role, float weight);
void tk_default_role(hf_rules_t *r, const char *role, float weight);
void tk_domain_account(hf_rules_t *r, const char *domain, const char *account_id);
void tk_target(hf_rules_t *r, const char *account_id, int32_t tier, int32_t points);
/* A route rule for @team; then a -1-terminated list of tiers (int). */
hf_route_rule_t *tk_route_rule(hf_rules_t *r, const char *team, ...);

/* Frees @r with everything the interest, account, role and routing fields own, then
 * hf_rules_free(). */
void tk_rules_free(hf_rules_t *r);

/* Events (all strings borrowed; ids as given, NULL = absent). */
hf_event_t tk_visit(const char *event_id, int64_t at_ms, const char *anonymous_id,
                    const char *contact_id, const char *session_id, const char *url,
                    const char *title);
hf_event_t tk_form(const char *event_id, int64_t at_ms, const char *anonymous_id,
                   const char *contact_id, hf_form_type_t type);
hf_event_t tk_identify(const char *event_id, int64_t at_ms, const char *anonymous_id,
                       const char *contact_id);
hf_event_t tk_download(const char *event_id, int64_t at_ms, const char *contact_id,
                       const char *asset_id, const char *title);
hf_event_t tk_webinar(const char *event_id, int64_t at_ms, const char *contact_id,
                      hf_webinar_action_t action, int32_t minutes);
hf_event_t tk_email(const char *event_id, int64_t at_ms, const char *contact_id,
                    hf_email_action_t action, const char *campaign);
/* A SalesActivity from "crm" about @entity_id (@handoff_id, @owner_id, @reason: NULL =
 * absent). */
hf_event_t tk_sales(const char *event_id, int64_t at_ms, hf_entity_type_t entity_type,
                    const char *entity_id, hf_sales_action_t action, const char *handoff_id,
                    const char *owner_id, const char *reason);

/* What a recording sink saw (deep copies). */
typedef struct tk_reason {
    char *rule;
    int32_t points, count;
    char *detail;
} tk_reason_t;

typedef struct tk_touch {
    int64_t at_ms;
    char *type, *title, *detail;
} tk_touch_t;

typedef struct tk_interest {
    char *topic;
    float weight;
} tk_interest_t;

typedef struct tk_member {
    char *contact_id, *role;
    int32_t score;
    int64_t last_active_ms;
    char *placement; /* NULL = none */
} tk_member_t;

typedef struct tk_handoff {
    char *handoff_id, *entity_id, *account_id, *rule, *fit_grade, *stage_before, *region;
    char *routing_team, *routing_note;
    char *kind, *product; /* ConversationReady.kind and .product */
    tk_interest_t *interests;
    size_t interest_count;
    tk_member_t *buying_group;
    size_t buying_group_count;
    char **roles_covered;
    size_t roles_covered_count;
    int64_t qualified_at_ms, emitted_at_ms, accept_by_ms, first_touch_by_ms;
    int32_t score;
    tk_reason_t *reasons;
    size_t reason_count;
    int64_t first_seen_ms;
    bool has_known_since;
    int64_t known_since_ms;
    int32_t sessions, page_views, email_opens, email_clicks;
    char *email_last_campaign;
    char **top_page_urls;
    int32_t *top_page_views;
    size_t top_page_count;
    size_t download_count, webinar_count;
    tk_touch_t *recent;
    size_t recent_count;
} tk_handoff_t;

typedef struct tk_lifecycle {
    char *entity_id, *from, *to, *cause;
    int64_t at_ms;
} tk_lifecycle_t;

typedef struct tk_forward {
    char *contact_id;
    uint8_t *raw;
    size_t raw_len;
} tk_forward_t;

/* hf_member_update_t, deep-copied; lists keep what tests look at. */
typedef struct tk_member_update {
    char *contact_id, *account_id, *role, *stage, *fit_grade;
    char *company_name, *industry, *country, *region;
    char *placement; /* NULL = none */
    bool leave;
    uint64_t version;
    int64_t at_ms, score_at_ms, first_seen_ms, last_active_ms;
    double score;
    bool has_employees;
    int32_t employees;
    tk_interest_t *interests;
    size_t interest_count;
    tk_reason_t *contributions;
    size_t contribution_count;
    tk_touch_t *touches;
    size_t touch_count;
    size_t download_count, webinar_count;
    int32_t sessions, page_views, email_opens, email_clicks;
} tk_member_update_t;

typedef struct tk_roster {
    char *to_contact_id, *account_id;
    uint64_t version;
    tk_member_t *members;
    size_t member_count;
    char **roles_covered;
    size_t roles_covered_count;
} tk_roster_t;

/* hf_breach_t, deep-copied. */
typedef struct tk_breach {
    char *breach_id, *handoff_id, *entity_id, *owner_id;
    hf_entity_type_t entity_type;
    int sla;
    int64_t due_at_ms, breached_at_ms;
    int32_t level;
} tk_breach_t;

/* hf_outcome_t, deep-copied. */
typedef struct tk_outcome {
    hf_entity_type_t entity_type;
    char *metric, *detail, *rule, *source, *first_campaign, *last_campaign, *team, *owner;
    int64_t duration_ms;
} tk_outcome_t;

typedef struct tk_rec {
    tk_handoff_t handoffs[8];
    size_t handoff_count;
    tk_lifecycle_t changes[16];
    size_t change_count;
    tk_forward_t forwards[64];
    size_t forward_count;
    tk_member_update_t updates[32]; /* the first 32 */
    size_t update_count;
    size_t update_total;
    tk_roster_t rosters[16];
    size_t roster_count;
    tk_breach_t breaches[32];
    size_t breach_count;
    tk_outcome_t outcomes[96];
    size_t outcome_count;
    int fail_with; /* a negative errno the callbacks return, or 0 */
} tk_rec_t;

/* A sink with every callback of hf_sink_t recording into @rec (which it borrows). */
hf_sink_t tk_sink(tk_rec_t *rec);
identity_sink_t tk_identity_sink(tk_rec_t *rec);
void tk_rec_clear(tk_rec_t *rec);

/* The reason of @h for @rule whose detail contains @detail_part (NULL = any), or NULL. */
const tk_reason_t *tk_find_reason(const tk_handoff_t *h, const char *rule, const char *detail_part);

/* How many outcomes @metric @rec holds, with @detail when it is not NULL. */
size_t tk_count_outcomes(const tk_rec_t *rec, const char *metric, const char *detail);

/* The last outcome @metric of @rec, or NULL. */
const tk_outcome_t *tk_last_outcome(const tk_rec_t *rec, const char *metric);

/* How many breaches of SLA @sla (hf_sla_kind_t) @rec holds, of any level. */
size_t tk_count_breaches(const tk_rec_t *rec, int sla);

/* Assertions, cmocka's: a failure ends the running test. */

/* @got is NULL when @want is, else the string @want. */
void tk_assert_opt_string(const char *got, const char *want);

/* @a and @b hold the same bytes. */
void tk_assert_same_bytes(const hf_buf_t *a, const hf_buf_t *b);

/* Change @i of @rec moved @entity_id @from -> @to for @cause at @at_ms. */
void tk_assert_change(const tk_rec_t *rec, size_t i, const char *entity_id, const char *from,
                      const char *to, const char *cause, int64_t at_ms);

/* Every field of breach @i of @rec: @handoff_id's clock @sla (hf_sla_kind_t) at
 * @level, of @entity_id (an @entity_type), owned by @owner (NULL = nobody yet). */
void tk_assert_breach(const tk_rec_t *rec, size_t i, hf_entity_type_t entity_type,
                      const char *entity_id, const char *handoff_id, int sla, int32_t level,
                      int64_t due_at_ms, int64_t breached_at_ms, const char *owner);
