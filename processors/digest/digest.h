/* The daily digest of a routing team (docs/ARCHITECTURE.md "Daily digests").
 *
 * A team's state gathers the cases of its handoffs as the contact and account
 * sides report them (digest_update_t, one snapshot of a case each time it changes:
 * opened, owner named, accepted, first touched, breached, won, lost, closed), and
 * keeps, bounded:
 *
 *   cases    every open case (its owner or none, its one-line reason, top
 *            interests, next deadline), and closed ones for DIGEST_CLOSED_KEEP_MS
 *            after they closed, so that a snapshot repeated after a crash changes
 *            nothing;
 *   marks    what happened since the last digest: breaches (clock and level),
 *            wins and losses, each once;
 *   owners   per owner (and the unassigned, owner ""), the cases whose SLA was met
 *            and breached, and the newest DIGEST_SAMPLES times to accept and to
 *            first touch (wall time from the handoff), for medians;
 *   schedule the next digest instant and the local date of the last one.
 *
 * At the digest time -- a local time of day in the team's business calendar, on
 * its business days (working hours that day and no holiday; every day for a 24x7
 * calendar, in UTC) -- digest_fire() builds one digest per owner known to the team
 * and one for the team, and records the local date, so a team gets one digest per
 * business day however often it is asked (after a restart, a replay): the id is a
 * function of team, owner and local date.
 *
 * Pure: the wall clock comes in as an argument, strings are copied. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/binenc.h"
#include "processors/model/event.h"
#include "processors/model/lifecycle.h"
#include "processors/rules/rules.h"
#include "processors/sla/calendar.h"

#define DIGEST_INTERESTS 3                     /* top interests per case */
#define DIGEST_CASES_MAX 2000u                 /* cases per team, open or closed */
#define DIGEST_MARKS_MAX 1000u                 /* breaches, wins, losses per day */
#define DIGEST_OWNERS_MAX 500u                 /* owners per team */
#define DIGEST_SAMPLES 32u                     /* times kept per owner for medians */
#define DIGEST_WAITING_MAX 50u                 /* waiting cases listed per digest */
#define DIGEST_CLOSED_KEEP_MS (8 * 86400000LL) /* closed cases kept this long */
#define DIGEST_ID_LEN 20                       /* "dg_" + 16 hex + NUL */

typedef enum digest_status {
    DIGEST_OPEN = 0,
    DIGEST_WON,
    DIGEST_LOST,
    DIGEST_CLOSED, /* rejected, recycled, disqualified, no response: not a win or loss */
    DIGEST__STATUS_COUNT
} digest_status_t;

/* A case as its entity's side reports it: its whole current snapshot (the internal
 * record CaseUpdate).  Strings borrowed. */
typedef struct digest_update {
    const char *team; /* routing team; the record's key */
    const char *handoff_id;
    hf_entity_type_t entity_type;
    const char *entity_id;
    const char *owner_id; /* NULL: nobody named yet */
    digest_status_t status;
    int64_t at_ms;                /* wall time of the change; older snapshots are ignored */
    int64_t handed_off_at_ms;     /* wall time the clocks started */
    const char *reason;           /* one line: why it was handed off; may be NULL */
    const char *const *interests; /* the top ones first; at most DIGEST_INTERESTS kept */
    size_t interest_count;
    int64_t next_deadline_ms;              /* the earliest clock still running; 0 none */
    int64_t accepted_at_ms, touched_at_ms; /* 0: not yet */
    int32_t breach_level[HF_SLA__COUNT];   /* breaches emitted per clock */
    int64_t breach_at_ms[HF_SLA__COUNT];   /* when the newest of each was emitted */
    bool sla_done;                         /* accept and first touch both answered */
} digest_update_t;

typedef struct digest_case {
    char *handoff_id, *entity_id, *owner_id, *reason; /* owned; owner_id, reason may be NULL */
    char *interests[DIGEST_INTERESTS];
    uint32_t interest_count;
    hf_entity_type_t entity_type;
    digest_status_t status;
    int64_t at_ms, handed_off_at_ms, next_deadline_ms, accepted_at_ms, touched_at_ms;
    int64_t closed_at_ms;
    int32_t breach_level[HF_SLA__COUNT];
    bool counted_sla;    /* counted met or breached (once per case) */
    bool counted_accept; /* its time to accept is in its owner's samples */
    bool counted_touch;
} digest_case_t;

typedef enum digest_mark_kind {
    DIGEST_MARK_BREACH = 0,
    DIGEST_MARK_WON,
    DIGEST_MARK_LOST
} digest_mark_kind_t;

typedef struct digest_mark {
    digest_mark_kind_t kind;
    char *handoff_id, *entity_id, *owner_id; /* owned; owner_id may be NULL */
    int32_t sla, level;                      /* a breach's clock (hf_sla_kind_t) and level */
    int64_t at_ms;
} digest_mark_t;

typedef struct digest_owner {
    char *owner_id; /* owned; "" = unassigned */
    uint32_t met, breached;
    int64_t accept_ms[DIGEST_SAMPLES], touch_ms[DIGEST_SAMPLES]; /* rings */
    uint32_t accept_n, touch_n;                                  /* samples ever taken */
} digest_owner_t;

typedef struct digest_team {
    char *team; /* owned */
    digest_case_t *cases;
    size_t case_count;
    digest_mark_t *marks;
    size_t mark_count;
    digest_owner_t *owners;
    size_t owner_count;
    int64_t next_at_ms; /* the next digest instant; 0 = not scheduled yet */
    int64_t last_day;   /* local date of the last digest (days since 1970); -1 none */
    int64_t last_at_ms; /* its scheduled instant: the next digest covers from there */
    uint64_t dropped;   /* updates not kept for a bound */
} digest_team_t;

/* When a team's digests go out: @at_s seconds after local midnight in @cal (NULL:
 * 24x7 UTC), on business days. */
typedef struct digest_schedule {
    const hf_calendar_t *cal;
    int32_t at_s;
} digest_schedule_t;

digest_team_t *digest_team_new(const char *team);
void digest_team_free(digest_team_t *t);

/* Results of digest_fold(). */
#define DIGEST_FOLD_APPLIED 0
#define DIGEST_FOLD_STALE 1   /* an older snapshot than the one kept: nothing changed */
#define DIGEST_FOLD_DROPPED 2 /* a bound is full: counted in dropped, nothing changed */

/* Applies @u to @t.  When @t has no digest scheduled yet, schedules the first one
 * after @now_ms by @sched.  Returns a DIGEST_FOLD_* or -ENOMEM. */
int digest_fold(digest_team_t *t, const digest_update_t *u, const digest_schedule_t *sched,
                int64_t now_ms);

/* ---- the schedule ---- */

/* The local date (days since 1970-01-01) of @at_ms in @cal (NULL: UTC). */
int64_t digest_local_day(const hf_calendar_t *cal, int64_t at_ms);

/* Whether local date @day is a business day of @cal: a weekday with working hours
 * and no holiday (every day for NULL or 24x7). */
bool digest_business_day(const hf_calendar_t *cal, int64_t day);

/* The first digest instant strictly after @after_ms, or INT64_MAX when @cal has no
 * business day within HF_CALENDAR_MAX_DAYS. */
int64_t digest_next_at(const digest_schedule_t *sched, int64_t after_ms);

/* "YYYY-MM-DD" of @day into @out (at least 11 bytes). */
void digest_date_string(int64_t day, char *out, size_t outsz);

/* "dg_" + FNV-1a-64(team 0x1f owner 0x1f date) in hex; owner "" for the team's. */
void digest_id(const char *team, const char *owner, const char *date, char out[DIGEST_ID_LEN]);

/* ---- the digest ---- */

typedef struct digest_waiting {
    const digest_case_t *c; /* borrowed from the team */
} digest_waiting_t;

typedef struct digest_figures {
    uint32_t met, breached;
    int64_t median_accept_ms, median_first_touch_ms; /* -1: no sample */
    uint32_t open;                                   /* cases waiting */
} digest_figures_t;

/* One digest: an owner's (owner_id set) or the team's (owner_id NULL).  Arrays are
 * owned by the digest (digest_clear()), what they point to by the team: valid until
 * the team changes. */
typedef struct digest {
    char id[DIGEST_ID_LEN];
    const char *team_id, *owner_id;
    char date[16];
    int64_t from_ms, to_ms;        /* the marks' window: since the previous digest */
    int64_t at_ms;                 /* wall time it was made */
    const digest_case_t **waiting; /* by next deadline, the ones without last */
    size_t waiting_count;          /* listed: at most DIGEST_WAITING_MAX */
    const digest_mark_t **marks;   /* breaches, wins and losses of the window, by time */
    size_t mark_count;
    digest_figures_t own;  /* the owner's (the team's in the team digest) */
    digest_figures_t team; /* the team's */
    uint32_t rank, ranked; /* the owner's place by met share among @ranked owners; 0: none */
} digest_t;

void digest_clear(digest_t *d);

/* Builds the digest of @owner (NULL: the team) for local date @day over the window
 * [@from_ms, @to_ms), made at @now_ms.  0 or -ENOMEM (then @d is cleared). */
int digest_build(const digest_team_t *t, const char *owner, int64_t day, int64_t from_ms,
                 int64_t to_ms, int64_t now_ms, digest_t *d);

/* Receives each digest digest_fire() makes; 0 or a negative errno (stops it). */
typedef int (*digest_emit_fn)(void *opaque, const digest_t *d);

/* When the digest instant has come by @now_ms and this local date has had none:
 * emits one digest per owner (by id; not the unassigned) and then the team's,
 * records the date, drops the marks of the window and the closed cases kept long
 * enough, and schedules the next.  A digest instant missed (the daemon was down)
 * gives one digest, dated by the latest instant passed.  Returns the number of
 * digests emitted, or @emit's error or -ENOMEM; on an error nothing is recorded (a
 * retry emits the same ids). */
int digest_fire(digest_team_t *t, const digest_schedule_t *sched, int64_t now_ms,
                digest_emit_fn emit, void *opaque);

/* When digest_fire() next has something to do (wall ms), or 0. */
int64_t digest_next_due(const digest_team_t *t);

/* With new rules: schedules the next digest by @sched after @now_ms. */
void digest_reschedule(digest_team_t *t, const digest_schedule_t *sched, int64_t now_ms);

/* The schedule of @team under @rules: its calendar, rules->digest's time of day. */
digest_schedule_t digest_schedule_of(const hf_rules_t *rules, const char *team, int32_t at_s);

/* ---- state codec (schemas/state/TeamState.avsc, version 1) ---- */

#define DIGEST_STATE_VERSION 1
int digest_team_encode(const digest_team_t *t, binenc_writer_t *w);
/* 0, BINENC_CORRUPT for bytes that are not a team state of a known version, or
 * -ENOMEM; *out owned by the caller. */
int digest_team_decode(digest_team_t **out, const void *buf, size_t len);

/* ---- the output record (schemas/Digest.avsc), as the codec writes it ---- */

typedef struct digest_out_case {
    const char *handoff_id, *entity_type, *entity_id, *owner_id, *reason;
    const char *interests; /* joined by ", "; NULL: none */
    int64_t handed_off_at_ms;
    int64_t next_deadline_ms;
    bool has_next_deadline;
} digest_out_case_t;

typedef struct digest_out_mark {
    const char *handoff_id, *entity_id, *owner_id;
    const char *sla; /* a breach's clock; NULL for a win or a loss */
    int32_t level;
    int64_t at_ms;
} digest_out_mark_t;

typedef struct digest_out_figures {
    int32_t met, breached, open;
    int64_t median_accept_ms, median_first_touch_ms;
    bool has_median_accept, has_median_first_touch;
} digest_out_figures_t;

typedef struct digest_out {
    const char *digest_id, *team, *owner_id, *date;
    int64_t window_start_ms, window_end_ms, emitted_at_ms;
    digest_out_case_t *waiting;
    size_t waiting_count;
    digest_out_mark_t *breaches, *won, *lost;
    size_t breach_count, won_count, lost_count;
    digest_out_figures_t standing, team_standing;
    int32_t rank, ranked;
    bool has_rank;
    char *text; /* owned: the joined interests */
} digest_out_t;

/* @d as the output record; strings borrowed from @d (and its team), arrays owned by
 * @o (digest_out_clear()).  0 or -ENOMEM. */
int digest_out_of(const digest_t *d, digest_out_t *o);
void digest_out_clear(digest_out_t *o);

/* ---- a case as an entity's state holds it (digest_case.c) ---- */

/* What of an entity's case the digest tells, copied out of its state so that it
 * outlives the fold that changes it. */
typedef struct digest_snap {
    bool open; /* a case is open: handoff_id set */
    char handoff_id[64];
    hf_entity_type_t type;
    char *entity_id, *team, *owner_id, *reason; /* owned; may be NULL */
    char *interests[DIGEST_INTERESTS];          /* owned */
    size_t interest_count;
    hf_stage_t stage;
    int64_t handed_off_at_ms, next_deadline_ms;
    bool accepted, touched;
    bool clocked; /* an accept or first-touch clock ran: met or breached means something */
    int32_t levels[HF_SLA__COUNT];
} digest_snap_t;

typedef struct contact_state contact_state_t;
typedef struct account_state account_state_t;

/* The case of @s (interests ranked at @at_ms).  0 or -ENOMEM (then @out is freed). */
int digest_snap_contact(digest_snap_t *out, const contact_state_t *s, const hf_rules_t *rules,
                        int64_t at_ms);
int digest_snap_account(digest_snap_t *out, const account_state_t *s);
void digest_snap_free(digest_snap_t *s);

/* The updates that tell the change from @before to @after, at wall time @at_ms, set
 * off by sales answer @action (-1: none): the case that closed (won, lost or closed
 * otherwise), then the case open now if it changed or is new.  Strings borrowed from
 * the snapshots.  Returns how many (0..2) went into @out. */
size_t digest_snap_updates(const digest_snap_t *before, const digest_snap_t *after, int action,
                           int64_t at_ms, digest_update_t out[2]);
