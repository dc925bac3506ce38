/* Compiled rules: what marketing and sales agreed on, in the form processors use.
 *
 * The config loader (config/) builds an hf_rules_t from the YAML file and owns it;
 * processors only read it (const) and never keep pointers into it across calls, so a
 * reload can swap in a new one between two events.  State refers to rules by name,
 * never by index, for the same reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/sla/calendar.h"

#include "util/buf.h"
#include "processors/model/event.h"

/* A list of case-insensitive glob patterns (fnmatch syntax: *, ?, [..]).
 * Empty list = no condition. */
typedef struct hf_globs {
    char **patterns;
    size_t count;
} hf_globs_t;

/* fnmatch(@pattern, @value, FNM_CASEFOLD) == 0 in the C locale, fast for patterns
 * of literals, '*' and '?'. */
bool hf_glob_match(const char *pattern, const char *value);

/* When stage 2 sends a contact's summary to its account (accounts.member_updates):
 * after every event; once per commit interval for every contact that changed; or,
 * coalesced, for the contacts of one contact partition after every
 * member_update_records records it folded and whenever the process is caught up. */
enum {
    HF_MEMBER_UPDATES_EVERY_EVENT = 0,
    HF_MEMBER_UPDATES_ON_COMMIT = 1,
    HF_MEMBER_UPDATES_COALESCED = 2,
};

/* True if @globs is empty, or @value is non-NULL and matches one of the patterns. */
bool hf_globs_match(const hf_globs_t *globs, const char *value);

/* The first pattern of @globs that @value matches (it points into @globs), or NULL
 * when none does, @value is NULL or @globs is empty. */
const char *hf_globs_first_match(const hf_globs_t *globs, const char *value);

/* Which events a scoring rule matches.  Every condition that is set must hold
 * (AND); within one list any pattern may match (OR). */
typedef struct hf_event_match {
    uint32_t kinds;           /* bit (1u << hf_event_kind_t); 0 = any kind */
    uint32_t form_types;      /* bit (1u << hf_form_type_t); 0 = any */
    uint32_t webinar_actions; /* bit (1u << hf_webinar_action_t); 0 = any */
    uint32_t email_actions;   /* bit (1u << hf_email_action_t); 0 = any */
    hf_globs_t url;           /* WebVisit.url, FormSubmission.url */
    hf_globs_t title;         /* WebVisit.title, asset_title, webinar_title */
    hf_globs_t referrer;
    hf_globs_t utm_source;
    hf_globs_t utm_medium;
    hf_globs_t utm_campaign;
    hf_globs_t form_id;
    hf_globs_t asset_id;
    hf_globs_t asset_type;
    hf_globs_t tags; /* any tag matches any pattern */
    hf_globs_t webinar_id;
    hf_globs_t campaign; /* download / webinar / e-mail campaign */
    hf_globs_t link_url;
    hf_globs_t source;       /* envelope source */
    int32_t min_duration_ms; /* WebVisit.duration_ms >= this; 0 = no condition */
    int32_t min_minutes;     /* WebinarEvent.minutes_attended >= this; 0 = none */
} hf_event_match_t;

/* True if @ev satisfies every condition of @m. */
bool hf_event_match(const hf_event_match_t *m, const hf_event_t *ev);

/* A behaviour-score rule: @points (may be negative) per matching event, at most
 * @cap_count awards per @cap_period_ms of event time; cap_count 0 = no cap. */
typedef struct hf_score_rule {
    char *name;
    hf_event_match_t match;
    int32_t points;
    uint32_t cap_count;
    int64_t cap_period_ms;
} hf_score_rule_t;

/* Conditions on a contact's traits, for fit rules and exclusions. */
typedef struct hf_trait_match {
    hf_globs_t title;
    hf_globs_t seniority;
    hf_globs_t department;
    hf_globs_t industry;
    hf_globs_t company_name;
    hf_globs_t country;
    hf_globs_t region;
    hf_globs_t email_domain;
    bool has_employees_range;
    int32_t employees_min; /* inclusive */
    int32_t employees_max; /* inclusive */
} hf_trait_match_t;

/* True if the traits @t satisfy every condition of @m (an empty @m matches anyone).
 * Reads title, seniority, department, industry, company_name, country, region,
 * email_domain and employees of @t. */
bool hf_trait_match(const hf_trait_match_t *m, const hf_traits_t *t);

/* Appends to @out which traits of @t the conditions of @m looked at, e.g.
 * "title VP Marketing, employees 250" (never a raw e-mail address: e-mail conditions
 * read the domain).  Returns 0 or -ENOMEM. */
int hf_trait_match_describe(const hf_trait_match_t *m, const hf_traits_t *t, hf_buf_t *out);

/* Appends to @out how the traits @t satisfy the conditions of @m, a condition at a
 * time in hf_trait_match_describe()'s order, each with the first pattern its value
 * matched: `title "VP Finance" matched "*vp*", employees 300 in [200, 5000]` ("any
 * contact" for an @m without conditions).  For traits that hf_trait_match() accepts;
 * a condition they do not satisfy reads "did not match".  Returns 0 or -ENOMEM. */
int hf_trait_match_explain(const hf_trait_match_t *m, const hf_traits_t *t, hf_buf_t *out);

typedef struct hf_fit_rule {
    char *name;
    hf_trait_match_t match;
    int32_t points;
} hf_fit_rule_t;

typedef struct hf_fit_exclusion {
    char *name;
    hf_trait_match_t match;
} hf_fit_exclusion_t;

/* A grade letter awarded from @min_points fit points up.  Grades are sorted by
 * min_points descending; the last one is the floor (usually "F" at 0) and is also
 * given to excluded contacts. */
typedef struct hf_grade {
    char *letter;
    int32_t min_points;
} hf_grade_t;

/* A contact conversation-ready rule.  All conditions that are set must hold. */
typedef struct hf_contact_rule {
    char *name;
    int32_t min_score; /* 0 = no condition */
    int min_grade;     /* index into hf_rules_t.fit.grades; -1 = no condition */
    char **requires;   /* scoring-rule names, each matched within @within_ms */
    size_t requires_count;
    int64_t within_ms; /* recency window for @requires; 0 = any time */
} hf_contact_rule_t;

/* Interests: content mapped to the problem a buyer comes to solve.  Every matching
 * event adds @weight to the contact's @topic; weights decay with
 * hf_rules_t.interests.half_life_ms like the score. */
typedef struct hf_interest_rule {
    char *topic;
    hf_event_match_t match;
    float weight;
} hf_interest_rule_t;

/* A buying-group role from title, seniority and department (the trait match); the
 * first rule that matches gives the contact its role. */
typedef struct hf_role_rule {
    char *role;
    hf_trait_match_t match;
    float weight; /* how much the member's score counts in the account score */
} hf_role_rule_t;

/* An e-mail domain whose contacts belong to a known account id. */
typedef struct hf_domain_account {
    char *domain; /* lower case */
    char *account_id;
} hf_domain_account_t;

/* A target account (after resolution): its tier and the fit points it earns. */
typedef struct hf_target_account {
    char *account_id;
    int32_t tier; /* >= 1; accounts not listed have tier 0 */
    int32_t points;
} hf_target_account_t;

/* An account conversation-ready rule.  All conditions that are set must hold. */
typedef struct hf_account_rule {
    char *name;
    uint32_t min_engaged; /* engaged members (see engaged_member_*); 0 = none */
    uint32_t min_roles;   /* distinct roles among engaged members; 0 = none */
    char **roles_all;     /* each of these among engaged members */
    size_t roles_all_count;
    char **roles_any; /* at least one of these among engaged members */
    size_t roles_any_count;
    int32_t min_score; /* account score; 0 = none */
    int min_grade;     /* account fit grade index into grades; -1 = none */
    int32_t *tiers;    /* account tier in this list; empty = any tier (0 included) */
    size_t tier_count;
} hf_account_rule_t;

/* A routing rule: leads matching it go to @team.  First match wins. */
typedef struct hf_route_rule {
    char *team;
    hf_globs_t country;
    hf_globs_t region;
    int32_t *tiers; /* empty = any tier */
    size_t tier_count;
} hf_route_rule_t;

/* SLA kinds, in the order of SlaBreach.sla's enum. */
typedef enum hf_sla_kind {
    HF_SLA_ACCEPT = 0,  /* accepted (or contacted) within */
    HF_SLA_FIRST_TOUCH, /* contacted within */
    HF_SLA_FOLLOW_UP,   /* `attempts` contacts within */
    HF_SLA__COUNT
} hf_sla_kind_t;

#define HF_SLA_ESCALATIONS_MAX 8

/* One SLA clock.  Level 1 is breached at `within` after the handoff (business
 * time), level k + 1 escalate_ms[k - 1] after level k, until it is satisfied or
 * level escalate_count + 1 was emitted. */
typedef struct hf_sla_rule {
    int64_t within_ms; /* 0 = no such clock */
    int64_t escalate_ms[HF_SLA_ESCALATIONS_MAX];
    uint32_t escalate_count;
    uint32_t attempts; /* HF_SLA_FOLLOW_UP: contacts needed; else 1 */
} hf_sla_rule_t;

typedef struct hf_team_calendar {
    char *team;   /* owned */
    int calendar; /* index into calendars */
} hf_team_calendar_t;

/* What a recycle does to the behaviour score. */
enum {
    HF_RECYCLE_SCORE_RESET = 0,
    HF_RECYCLE_SCORE_HALVE,
    HF_RECYCLE_SCORE_KEEP,
};

/* scoring: the behaviour score */
typedef struct hf_rules_scoring {
    int64_t half_life_ms; /* exponential decay on event time; 0 = no decay */
    int32_t max_score;    /* overall cap; <= min_score means no upper cap */
    int32_t min_score;    /* floor, usually 0 */
    hf_score_rule_t *rules;
    size_t rule_count;
} hf_rules_scoring_t;

/* fit: the grade, apart from the score */
typedef struct hf_rules_fit {
    hf_grade_t *grades;
    size_t grade_count;
    hf_fit_rule_t *rules;
    size_t rule_count;
    hf_fit_exclusion_t *exclusions;
    size_t exclusion_count;
} hf_rules_fit_t;

/* lifecycle */
typedef struct hf_rules_lifecycle {
    int32_t engaged_score;               /* known -> engaged at this score; 0 = never */
    bool disqualified_reset_on_identify; /* an identify makes a disqualified contact known */
} hf_rules_lifecycle_t;

/* qualify: when a contact is conversation-ready */
typedef struct hf_rules_qualify {
    hf_contact_rule_t *contact_rules;
    size_t contact_rule_count;
    uint32_t hand_raiser_forms; /* bit (1u << hf_form_type_t) */
    char *hand_raiser_rule;     /* rule name reported for hand-raisers */
    bool hand_raisers_respect_exclusions;
    int64_t grace_ms; /* a late event may qualify only this close to the newest */
} hf_rules_qualify_t;

/* stitching (stage 1) */
typedef struct hf_rules_stitching {
    uint32_t max_events; /* buffered anonymous events per anonymous id */
    int64_t max_age_ms;  /* ... and their age relative to the newest; 0 = no age bound */
} hf_rules_stitching_t;

/* dedupe (stage 2) */
typedef struct hf_rules_dedupe {
    uint32_t max_ids;  /* event ids remembered per contact */
    int64_t window_ms; /* ... and for how long after they were seen (processing time);
                          0 = no time bound */
} hf_rules_dedupe_t;

/* journey bounds (stage 2) */
typedef struct hf_rules_journey {
    uint32_t recent_max; /* recent touches kept (newest first) */
    uint32_t pages_max;  /* distinct pages tracked */
    uint32_t top_pages;  /* top pages put in a handoff */
    uint32_t downloads_max;
    uint32_t webinars_max;
    uint32_t sessions_max; /* distinct session ids remembered for counting */
} hf_rules_journey_t;

/* interests */
typedef struct hf_rules_interests {
    hf_interest_rule_t *rules;
    size_t rule_count;
    int64_t half_life_ms; /* 0 = no decay */
    uint32_t tracked;     /* topics kept per contact */
    uint32_t top;         /* topics listed in a handoff */
} hf_rules_interests_t;

/* accounts (stage 3) */
typedef struct hf_rules_accounts {
    hf_globs_t free_mail_domains; /* never make an account (gmail.com, ...) */
    hf_domain_account_t *domains;
    size_t domain_count;
    hf_target_account_t *targets;
    size_t target_count;
    int32_t max_score;                /* cap of the weighted sum of member scores */
    int32_t engaged_member_score;     /* a member is engaged at this score ... */
    int64_t engaged_member_within_ms; /* ... and active this recently; 0 = any time */
    hf_fit_rule_t *fit_rules;         /* on the account's traits (industry, size, ...) */
    size_t fit_rule_count;
    hf_account_rule_t *rules;
    size_t rule_count;
    uint32_t members_max;      /* members kept per account */
    uint32_t buying_group_max; /* members listed in a handoff */
    /* Touches, downloads and webinars of each member (its newest) that stage 2 sends
     * and stage 3 keeps for the account's journey, each list within its journey
     * bound. */
    uint32_t member_journey;
    /* When stage 2 sends a contact's summary to its account (HF_MEMBER_UPDATES_*):
     * HF_MEMBER_UPDATES_COALESCED at points of the input's order (a contact
     * partition's member_update_records records, the process caught up), so a
     * replay gives the same account decisions; HF_MEMBER_UPDATES_ON_COMMIT once per
     * commit interval (as Kafka Streams' record cache forwards an aggregate's updates
     * on flush: points of processing time); HF_MEMBER_UPDATES_EVERY_EVENT. */
    int member_updates;
    /* HF_MEMBER_UPDATES_COALESCED: contact records a contact partition folds between
     * two sends of its owed summaries (>= 1). */
    uint32_t member_update_records;
} hf_rules_accounts_t;

/* buying_group: roles from traits */
typedef struct hf_rules_buying_group {
    hf_role_rule_t *roles;
    size_t role_count;
    char *default_role; /* role of a contact no role rule matches */
    float default_role_weight;
} hf_rules_buying_group_t;

/* routing */
typedef struct hf_rules_routing {
    hf_route_rule_t *rules;
    size_t rule_count;
} hf_rules_routing_t;

/* business calendars (calendar.h); teams map to them */
typedef struct hf_rules_calendars {
    hf_calendar_t *items;
    size_t count;
    hf_team_calendar_t *teams; /* routing team -> calendar */
    size_t team_count;
    int default_index; /* into items, for teams not listed; -1 = 24x7 UTC */
} hf_rules_calendars_t;

/* SLA clocks started by every handoff (docs/ARCHITECTURE.md "SLA and feedback"), in
 * business time of the routing team's calendar */
typedef struct hf_rules_sla {
    hf_sla_rule_t clocks[HF_SLA__COUNT];
    bool recompute_on_reload; /* running clocks take the new durations */
} hf_rules_sla_t;

/* recycle: feedback that sends an entity back to nurture */
typedef struct hf_rules_recycle {
    int score_policy;         /* HF_RECYCLE_SCORE_* */
    int64_t cooldown_ms;      /* event time after a recycle before requalifying */
    int32_t new_points;       /* points earned since the recycle needed to requalify */
    bool hand_raisers_bypass; /* a hand-raiser requalifies at once */
    int64_t no_response_ms;   /* business time after the last follow-up attempt with no
                                 meeting: recycled; 0 = never */
} hf_rules_recycle_t;

/* expansion: what marks a customer account's engagement with a product it does not
 * have yet (processors/account/account_expansion.c). */

/* One kind of material of a product: every item of a member's journey (a web visit,
 * form, download or webinar kept in the member's summary) that @match matches earns
 * @points. */
typedef struct hf_expansion_signal {
    hf_event_match_t match;
    int32_t points;
} hf_expansion_signal_t;

typedef struct hf_product {
    char *name; /* as SalesActivity.product names it */
    hf_expansion_signal_t *signals;
    size_t signal_count;
} hf_product_t;

/* An expansion rule: all conditions that are set must hold, over the product's
 * material that the account's members engaged with within @within_ms of the account's
 * newest activity. */
typedef struct hf_expansion_rule {
    char *name;
    char **products; /* names of hf_rules_expansion_t.products; empty = every product */
    size_t product_count;
    uint32_t min_engaged; /* members with at least one matching item; 0 = none */
    int32_t min_points;   /* signal points summed over the members; 0 = none */
    int64_t within_ms;    /* 0 = any time */
} hf_expansion_rule_t;

typedef struct hf_rules_expansion {
    hf_product_t *products;
    size_t product_count;
    hf_expansion_rule_t *rules;
    size_t rule_count;
    char *team; /* routing team of every expansion handoff (the account managers) */
    /* event time after a product's expansion was rejected, lost or recycled before it
     * may be raised again */
    int64_t cooldown_ms;
    /* the SLA clocks an expansion handoff starts, in place of hf_rules_sla_t.clocks */
    hf_sla_rule_t clocks[HF_SLA__COUNT];
} hf_rules_expansion_t;

/* digest: the daily digest of each routing team (processors/digest/digest.h) */
typedef struct hf_rules_digest {
    bool enabled;
    int32_t at_ms; /* local time of day in the team's calendar, ms after midnight */
} hf_rules_digest_t;

/* The compiled rules file: one member per section of the file. */
typedef struct hf_rules {
    hf_rules_scoring_t scoring;
    hf_rules_fit_t fit;
    hf_rules_lifecycle_t lifecycle;
    hf_rules_qualify_t qualify;
    hf_rules_stitching_t stitching;
    hf_rules_dedupe_t dedupe;
    hf_rules_journey_t journey;
    hf_rules_interests_t interests;
    hf_rules_accounts_t accounts;
    hf_rules_buying_group_t buying_group;
    hf_rules_routing_t routing;
    hf_rules_calendars_t calendars;
    hf_rules_sla_t sla;
    hf_rules_recycle_t recycle;
    hf_rules_expansion_t expansion;
    hf_rules_digest_t digest;
} hf_rules_t;

/* The calendar SLA clocks of @team run in (the default calendar for a team not
 * listed or NULL), or NULL for 24x7 UTC. */
const hf_calendar_t *hf_rules_team_calendar(const hf_rules_t *r, const char *team);

/* The calendar called @name, or NULL. */
const hf_calendar_t *hf_rules_calendar(const hf_rules_t *r, const char *name);

/* The product called @name, or NULL. */
const hf_product_t *hf_rules_product(const hf_rules_t *r, const char *name);

/* Index of the grade with @letter, or -1. */
int hf_rules_grade_index(const hf_rules_t *r, const char *letter);

/* Index of the scoring rule called @name, or -1. */
int hf_rules_score_rule_index(const hf_rules_t *r, const char *name);

/* Frees everything @r owns, and @r.  NULL is fine. */
void hf_rules_free(hf_rules_t *r);
