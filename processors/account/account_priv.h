/* The body of account_state_t, shared by the modules of stage 3 (account.c,
 * account_members.c, account_roster.c, account_eval.c, account_handoff.c,
 * account_codec.c).  Not for use outside processors/.
 *
 * Semantics (tests/unit/processors/test_account*.c check each):
 * - Members are kept last-writer-wins by the version of the contact's member update;
 *   a leave removes the member and, like an eviction, leaves a "departed" record of
 *   the version, so that an older update arriving late changes nothing.  Departed
 *   records are bounded by accounts.members_max too (oldest departure forgotten first).
 * - The account's newest activity (the reference time of everything evaluated) is the
 *   newest last_active of its members.  A member's score is decayed to it with
 *   half_life_ms; a member is engaged when that score, rounded, is >=
 *   accounts.engaged_member_score and its last_active lies within accounts.engaged_member_within_ms
 * of it (0 = any time).
 * - Account score: the sum of decayed member score x role weight (hf_role_weight of
 *   the member's role under the current rules), capped at accounts.max_score when that
 *   is > 0; rules compare it rounded.
 * - Account traits: per trait the value of the member with the newest last_active
 *   that has one (ties: the smaller contact id).  Fit points: matching
 *   accounts.fit_rules + the target tier's points; grade as contacts (no exclusions).
 * - Bounds: 0 keeps nothing, as elsewhere.  Over accounts.members_max the least
 *   recently active non-engaged member goes (ties: the greater contact id), or, when
 *   all are engaged, the least recently active one; that may be the one just added.
 * - Qualification: stage known, engaged or recycled (then behind the recycle gate of
 *   sla.h), cycle not handed off, at least one member, the update's at_ms within
 *   grace_ms of the newest activity; the first account rule whose conditions all hold
 *   fires; qualified_at is the update's at_ms.
 * - Lifecycle: a new account is "known"; its first member announces anonymous ->
 *   known ("first member: c-1"), its first engaged member known -> engaged ("member
 *   c-1 engaged: score 40 >= accounts.engaged_member_score 30"), the handoff ->
 *   conversation_ready ("rule <name>"); each dated by the update's at_ms.
 * - Rosters: when the set of (engaged member, role) changed, version + 1, to every
 *   engaged member (the others, ranked, at most buying_group_max) and to every member
 *   of the previous roster that is no longer engaged, unless it just left.
 * - An update without a usable contact id (NULL or blocked) is stale. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "processors/journey/dedupe.h"
#include "processors/journey/journey.h"
#include "processors/sla/sla.h"

/* 1: the first layout.  2: dedupe (sales activity ids) and sla appended.  3: each
 * member's placement appended to the member record, and products (what the account
 * has, its expansions) to the state.  States of every earlier version still decode. */
#define ACCOUNT_STATE_SCHEMA_VERSION 3

/* Products remembered per account (owned or raised): beyond it a new product is not
 * recorded, and so never raised (a raise that could not be remembered could repeat). */
#define ACCOUNT_PRODUCTS_MAX 64

/* Score-rule contributions kept per member (the strongest, as stage 2 sends them):
 * enough for every rule of a realistic config, and bounded whatever arrives. */
#define ACCOUNT_MEMBER_CONTRIBUTIONS_MAX 32

typedef struct account_interest {
    char *topic;   /* owned */
    double weight; /* at the member's score_at_ms */
} account_interest_t;

typedef struct account_contribution {
    char *rule, *detail; /* owned */
    int32_t points, count;
} account_contribution_t;

typedef struct account_member {
    char *contact_id; /* owned */
    uint64_t version;
    char *role, *stage, *fit_grade; /* owned, never NULL */
    char *placement;                /* owned; how the role was given (hf_role_placement()), NULL =
                                       unknown (a state or an update written before it was kept) */
    double score;                   /* at score_at_ms, finite */
    int64_t score_at_ms;
    int64_t first_seen_ms;
    int64_t last_active_ms;
    char *company_name, *industry, *country, *region; /* owned; NULL = unknown */
    bool has_employees;
    int32_t employees;
    account_interest_t *interests; /* strongest first */
    size_t interest_count;
    account_contribution_t *contributions; /* strongest first */
    size_t contribution_count;
    journey_touch_t *touches; /* newest first */
    size_t touch_count;
    journey_download_t *downloads; /* newest first */
    size_t download_count;
    journey_webinar_t *webinars; /* newest first */
    size_t webinar_count;
    int32_t sessions, page_views, email_opens, email_clicks;
} account_member_t;

/* A product of expansion.products (or named by a won deal) as this account knows it:
 * whether it has it, and its expansion cycle.  Semantics: account_expansion.c. */
typedef struct account_product {
    char *product; /* owned */
    bool owned;    /* a won deal named it */
    int64_t owned_at_ms;
    uint32_t cycle;       /* expansion cycle, from 1 */
    bool handed_off;      /* this cycle's expansion handoff was made */
    int64_t raised_at_ms; /* event time it qualified (handed_off) */
    bool recycled;        /* sales sent an earlier cycle's back: cooldown from ... */
    int64_t recycled_at_ms;
    /* the expansion's case: its stage as sales moved it (its own, not the account's:
     * conversation_ready when raised) and its clocks (expansion.sla) */
    hf_stage_t stage;
    sla_state_t sla;
} account_product_t;

/* A contact that left or was evicted, with the version of its last update. */
typedef struct account_departed {
    char *contact_id; /* owned */
    uint64_t version;
} account_departed_t;

/* An engaged member as the last roster listed it. */
typedef struct account_roster_entry {
    char *contact_id, *role; /* owned */
} account_roster_entry_t;

struct account_state {
    char *account_id; /* owned */
    hf_stage_t stage;
    uint32_t cycle;  /* qualification cycle, from 1 */
    bool handed_off; /* the handoff of this cycle was emitted */
    int64_t updates; /* member updates applied */
    bool has_known_since;
    int64_t known_since_ms;    /* at_ms of the first member's update */
    account_member_t *members; /* in order of joining */
    size_t member_count, member_cap;
    account_departed_t *departed; /* oldest departure first */
    size_t departed_count, departed_cap;
    uint64_t roster_version;
    account_roster_entry_t *roster; /* engaged members at the last roster, ranked */
    size_t roster_count;
    dedupe_t dedupe;             /* event ids of the sales activity applied */
    sla_state_t sla;             /* feedback, SLA clocks and the recycle gate */
    account_product_t *products; /* in order of first mention */
    size_t product_count;
};

/* The account as sla.c sees it. */
sla_entity_t account_sla_entity(account_state_t *s);

void account_member_free(account_member_t *m);

/* *@out = a copy of @s ("" for NULL).  False on out of memory. */
bool account_dup_str(char **out, const char *s);

/* ---- members (account_members.c) ---- */

/* What account_member_find() returns for a contact that is not a member. */
#define ACCOUNT_NOT_FOUND SIZE_MAX

/* The index of @contact_id in s->members, or ACCOUNT_NOT_FOUND. */
size_t account_member_find(const account_state_t *s, const char *contact_id);

/* Applies @u last-writer-wins (a leave removes the member and is remembered as a
 * departure).  Returns ACCOUNT_FOLD_APPLIED, ACCOUNT_FOLD_STALE or -ENOMEM (nothing
 * changed). */
int account_members_apply(account_state_t *s, const hf_member_update_t *u, const hf_rules_t *rules);

/* Evicts members beyond account_members_max (each remembered as a departure).
 * Returns 0 or -ENOMEM. */
int account_members_evict_over_bound(account_state_t *s, const hf_rules_t *rules);

/* ---- rosters (account_roster.c) ---- */

/* Frees @n entries of @e and @e itself. */
void account_roster_entries_free(account_roster_entry_t *e, size_t n);

/* One member as the rules see it at the account's newest activity. */
typedef struct account_ranked {
    const account_member_t *m;
    double score;         /* decayed to the reference time */
    int32_t score_points; /* ... rounded */
    float weight;         /* of its role */
    double weighted;      /* score x weight */
    bool engaged;
} account_ranked_t;

/* What the account looks like to the rules at its newest activity. */
typedef struct account_view {
    int64_t ref_ms;           /* newest last_active of the members (0 without any) */
    account_ranked_t *ranked; /* every member, by weighted score (ties: contact id) */
    size_t count;
    size_t engaged_count;
    const char **roles; /* distinct roles of the engaged members, in rank order */
    size_t role_count;
    double score; /* weighted, capped */
    int32_t score_points;
    hf_traits_t traits; /* company_name, industry, employees, country, region */
    int32_t fit_points; /* account fit rules + tier points */
    int32_t tier;
    int32_t tier_points;
    int grade; /* index into rules->grades, or -1 when there are none */
} account_view_t;

/* Builds @v for @s under @rules.  Returns 0 or -ENOMEM (@v then needs no free). */
int account_view_build(account_view_t *v, const account_state_t *s, const hf_rules_t *rules);
void account_view_free(account_view_t *v);

/* Newest last_active of the members, or 0 without any. */
int64_t account_newest_activity(const account_state_t *s);

/* The member score @m decayed to @at_ms (not before its score_at_ms). */
double account_member_score_at(const account_member_t *m, const hf_rules_t *rules, int64_t at_ms);

/* True when @m is engaged at @ref_ms (the account's newest activity). */
bool account_member_engaged(const account_member_t *m, const hf_rules_t *rules, int64_t ref_ms);

/* The first account rule that holds for @v, or NULL. */
const hf_account_rule_t *account_rule_match(const account_view_t *v, const hf_rules_t *rules);

/* Emits the handoff of @rule for @s (viewed as @v) into @sink: the payload of
 * account_handoff.c.  Returns 0, -ENOMEM or the sink's errno. */
int account_emit_handoff(account_state_t *s, const account_view_t *v, const hf_account_rule_t *rule,
                         const hf_rules_t *rules, hf_stage_t stage_before, int64_t qualified_at_ms,
                         int64_t now_ms, const hf_sink_t *sink);

/* ---- expansion (account_expansion.c; the payload in account_handoff.c) ---- */

/* A customer account (stage customer) re-evaluated after a member update at event time
 * @at_ms: for each product of expansion.products it does not have and has not raised
 * this cycle, the first expansion rule that holds raises its handoff into @sink.
 * Returns 0, -ENOMEM or the sink's errno. */
int account_expansion_evaluate(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                               int64_t at_ms, int64_t now_ms, const hf_sink_t *sink);

/* Sales activity @ev for the account: when it names an expansion handoff, applies it to
 * that product and its clocks (*handled set; nothing else is to be done with it);
 * otherwise a won deal naming a product makes the account have it once the caller has
 * applied @ev (account_expansion_won).  Returns 0, -ENOMEM or the sink's errno. */
int account_expansion_feedback(account_state_t *s, const hf_event_t *ev, const hf_rules_t *rules,
                               int64_t now_ms, const hf_sink_t *sink, bool *handled);

/* The expansions' SLA clocks: as sla_fire(), sla_next_due() (0: none) and
 * sla_reschedule() over every product's case. */
int account_expansion_fire(account_state_t *s, const hf_rules_t *rules, int64_t now_ms,
                           const hf_sink_t *sink);
int64_t account_expansion_next_due(const account_state_t *s);
bool account_expansion_reschedule(account_state_t *s, const hf_rules_t *rules);

/* A won deal @ev (its product set) was applied: the account has the product. */
int account_expansion_won(account_state_t *s, const hf_event_t *ev);

/* The expansion handoff id of @product's @cycle for account @account_id (written into
 * @out, HF_HANDOFF_ID_SIZE bytes): hf_handoff_id over the entity id "<account id>"
 * 0x1f "expansion" 0x1f "<product>".  Returns its length or a negative errno. */
int account_expansion_id(char *out, size_t outsz, const char *account_id, const char *product,
                         uint32_t cycle);

void account_products_free(account_product_t *p, size_t n);

/* Emits the expansion handoff @handoff_id of @rule_name for @product: @conditions (the
 * rule's conditions and each member's engagement with the product) first, then the
 * account fit, the journey, interests and buying group as account_emit_handoff's;
 * routed to expansion.team, with the deadlines its case started.  Returns 0, -ENOMEM or the sink's
 * errno. */
int account_emit_expansion(const account_state_t *s, const account_view_t *v,
                           const char *handoff_id, const char *rule_name, const char *product,
                           const hf_reason_t *conditions, size_t condition_count,
                           const hf_rules_t *rules, int64_t qualified_at_ms, int64_t now_ms,
                           int64_t accept_by_ms, int64_t first_touch_by_ms, const hf_sink_t *sink);

/* When the engaged set or a role changed since the last roster (@v against
 * s->roster): a new roster version to every engaged member and to every member of
 * the previous roster that is no longer engaged (but not to @leaver, which is no
 * longer in the account).  Returns 0, -ENOMEM or the sink's errno. */
int account_roster_push(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                        const char *leaver, const hf_sink_t *sink);
