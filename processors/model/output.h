/* Records processors emit, and the sink they emit them into.
 *
 * These mirror the output records of docs/CONTRACTS.md field for field.  Every
 * pointer is borrowed: it is valid only during the sink callback that receives the
 * record; a sink that keeps something copies it (the daemon encodes to Avro right
 * away). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct hf_reason {
    const char *rule;
    int32_t points;
    int32_t count;
    const char *detail;
} hf_reason_t;

typedef struct hf_page {
    const char *url;
    const char *title; /* NULL = absent */
    int32_t views;
} hf_page_t;

typedef struct hf_download {
    const char *asset_id;
    const char *title;
    const char *type;
    int64_t at_ms;
} hf_download_t;

typedef struct hf_webinar {
    const char *webinar_id;
    const char *title;
    const char *action; /* "attended", ... */
    int32_t minutes;
    int64_t at_ms;
} hf_webinar_t;

typedef struct hf_touch {
    int64_t at_ms;
    const char *type; /* "web_visit", "download", "webinar", "email", "form", ... */
    const char *title;
    const char *detail; /* NULL = absent */
} hf_touch_t;

typedef struct hf_interest {
    const char *topic;
    float weight;
} hf_interest_t;

typedef struct hf_member {
    const char *contact_id;
    const char *role;
    int32_t score;
    int64_t last_active_ms;
    /* how the member got its role (hf_role_placement()); NULL = not known: an
     * account handoff has it, a contact's buying group (from a roster) does not */
    const char *placement;
} hf_member_t;

typedef struct hf_journey {
    int64_t first_seen_ms;
    bool has_known_since;
    int64_t known_since_ms;
    int32_t sessions;
    int32_t page_views;
    const hf_page_t *top_pages;
    size_t top_page_count;
    const hf_download_t *downloads;
    size_t download_count;
    const hf_webinar_t *webinars;
    size_t webinar_count;
    int32_t email_opens;
    int32_t email_clicks;
    const char *email_last_campaign; /* NULL = absent */
    const hf_touch_t *recent;        /* newest first */
    size_t recent_count;
} hf_journey_t;

/* ConversationReady */
typedef struct hf_handoff {
    const char *handoff_id;
    hf_entity_type_t entity_type;
    const char *entity_id;
    const char *account_id; /* NULL = absent */
    const char *rule;
    int64_t qualified_at_ms; /* event time */
    int64_t emitted_at_ms;   /* wall time */
    int32_t score;
    const char *fit_grade;
    const char *stage_before;
    const hf_reason_t *reasons;
    size_t reason_count;
    hf_journey_t journey;
    const hf_interest_t *interests;
    size_t interest_count;
    const hf_member_t *buying_group;
    size_t buying_group_count;
    const char *const *roles_covered;
    size_t roles_covered_count;
    const char *routing_team;   /* NULL = absent */
    const char *routing_region; /* NULL = absent */
    const char *routing_note;   /* NULL = absent; e.g. why no team was found */
    int64_t sla_accept_by_ms;
    int64_t sla_first_touch_by_ms;
    const char *kind;    /* "new_business" or "expansion"; NULL = absent */
    const char *product; /* expansion: the product; NULL = absent */
} hf_handoff_t;

/* LifecycleChange */
typedef struct hf_lifecycle {
    hf_entity_type_t entity_type;
    const char *entity_id;
    const char *from_stage;
    const char *to_stage;
    int64_t at_ms;
    const char *cause;
} hf_lifecycle_t;

/* Stage 2 -> stage 3: a contact's current summary for its account, sent when its
 * partition's owed summaries go, or per commit, or after every change
 * (member_updates of rules.h).  Stage 3 applies it last-writer-wins by @version, so repeats and
 * reordering change nothing.  A contact that leaves an account (moved, merged away)
 * sends @leave to the old one. */
typedef struct hf_member_update {
    const char *contact_id;
    const char *account_id;
    bool leave;
    uint64_t version; /* per contact, increasing */
    int64_t at_ms;    /* event time of the change */
    double score;     /* behaviour score at @score_at_ms (not rounded) */
    int64_t score_at_ms;
    const char *role;
    const char *stage;
    const char *fit_grade;
    int64_t first_seen_ms;
    int64_t last_active_ms;
    /* the contact's traits the account's fit is computed from (NULL = unknown) */
    const char *company_name;
    const char *industry;
    bool has_employees;
    int32_t employees;
    const char *country;
    const char *region;
    /* what the account journey is made of */
    const hf_interest_t *interests; /* weights at @score_at_ms, strongest first */
    size_t interest_count;
    const hf_reason_t *contributions; /* score-rule contributions, strongest first */
    size_t contribution_count;
    const hf_touch_t *touches; /* newest first, bounded */
    size_t touch_count;
    const hf_download_t *downloads;
    size_t download_count;
    const hf_webinar_t *webinars;
    size_t webinar_count;
    int32_t sessions;
    int32_t page_views;
    int32_t email_opens;
    int32_t email_clicks;
    const char *placement; /* how @role was given (hf_role_placement()); NULL = unknown */
} hf_member_update_t;

/* Stage 3 -> stage 2: the other engaged members of a contact's account (the buying
 * group a contact handoff shows), sent to each member when that set changes.
 * Applied last-writer-wins by @version (per account). */
typedef struct hf_roster {
    const char *account_id;
    uint64_t version;
    const hf_member_t *members; /* ranked by weighted score, the recipient excluded */
    size_t member_count;
    const char *const *roles_covered; /* roles of all engaged members */
    size_t roles_covered_count;
} hf_roster_t;

/* SlaBreach: an SLA clock of a handoff ran out (level 1), or stayed unsatisfied for
 * the next escalation delay (level 2, ...). */
typedef struct hf_breach {
    const char *breach_id; /* hf_breach_id(handoff_id, sla, level) */
    const char *handoff_id;
    hf_entity_type_t entity_type;
    const char *entity_id;
    const char *owner_id; /* NULL = nobody has taken it yet */
    int sla;              /* hf_sla_kind_t of rules.h */
    int64_t due_at_ms;    /* when this level fell due (wall time) */
    int64_t breached_at_ms;
    int32_t level; /* 1, 2, ... */
} hf_breach_t;

/* DeadLetter: a record that could not be processed, with where it came from and why
 * (written by the daemon, not by processors). */
typedef struct hf_dead_letter {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL = absent */
    size_t key_len;
    const void *value; /* NULL = absent */
    size_t value_len;
    const char *error;
    int64_t at_ms;
} hf_dead_letter_t;

/* One outcome for marketing's numbers (counted by the daemon per dimension: rule,
 * source, first- and last-touch campaign; SLA outcomes per owner and team).
 * Metrics: "handoff", "accepted", "rejected", "recycled", "qualified",
 * "opportunity", "won", "lost", "disqualified", "sla_met", "sla_breached",
 * "time_to_accept", "time_to_first_touch" (with @duration_ms), and, about feedback
 * itself, "feedback_early", "feedback_stale", "feedback_unknown",
 * "feedback_ignored", "feedback_no_handoff" (the detail: the action).  Outcomes of
 * the funnel are counted only for an open case (a handoff's). */
typedef struct hf_outcome {
    hf_entity_type_t entity_type;
    const char *metric;
    const char *detail; /* rejected: the reason; sla_*: the SLA kind; recycled: why */
    const char *rule;   /* the attribution of the handoff concerned; NULL = none */
    const char *source;
    const char *first_campaign;
    const char *last_campaign;
    const char *team;
    const char *owner;
    int64_t duration_ms; /* time_to_*; else 0 */
} hf_outcome_t;

/* Where processors put what they emit.  Callbacks return 0, or a negative errno
 * that the processor passes straight back to its caller (the fold then stops; the
 * caller treats it as fatal).  Unused callbacks may be NULL. */
typedef struct hf_sink {
    void *opaque;
    int (*handoff)(void *opaque, const hf_handoff_t *h);
    int (*lifecycle)(void *opaque, const hf_lifecycle_t *lc);
    /* stage 2 -> stage 3, keyed by u->account_id */
    int (*member_update)(void *opaque, const hf_member_update_t *u);
    /* stage 3 -> stage 2, keyed by @contact_id */
    int (*roster)(void *opaque, const char *contact_id, const hf_roster_t *r);
    int (*breach)(void *opaque, const hf_breach_t *b);
    int (*outcome)(void *opaque, const hf_outcome_t *o);
} hf_sink_t;

/* The deterministic handoff id of an entity's qualification @cycle: "ho_" and 16
 * lower-case hex digits of FNV-1a-64 over
 * "<entity type name>" 0x1f "<entity id>" 0x1f "<cycle in decimal>".
 * Written NUL-terminated into @out (HF_HANDOFF_ID_SIZE bytes suffice).  Returns the
 * id's length, -EINVAL for an unknown @type or a NULL @entity_id, or -ENOSPC when
 * @outsz is too small (in both cases @out is an empty string
 * if @outsz > 0). */
#define HF_HANDOFF_ID_SIZE 20
int hf_handoff_id(char *out, size_t outsz, hf_entity_type_t type, const char *entity_id,
                  uint32_t cycle);

/* The deterministic id of the breach of SLA @sla (hf_sla_kind_t) at @level of
 * handoff @handoff_id: "br_" and 16 lower-case hex digits of FNV-1a-64 over
 * "<handoff_id>" 0x1f "<sla name>" 0x1f "<level in decimal>".  Same contract as
 * hf_handoff_id(). */
#define HF_BREACH_ID_SIZE 20
int hf_breach_id(char *out, size_t outsz, const char *handoff_id, int sla, int32_t level);

/* "accept", "first_touch", "follow_up" (SlaBreach.sla's symbols); NULL if out of
 * range. */
const char *hf_sla_kind_name(int sla);
