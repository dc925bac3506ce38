/* The dashboard at GET / and its numbers at GET /v1/dashboard (docs/HTTP.md,
 * "The dashboard"): the funnel, the handoffs waiting for sales, SLA compliance per
 * team and owner, outcomes by rule, source and campaign, and recent breaches, for a
 * team and a range of days.
 *
 * Counting (pipeline thread): every outcome counter (outputs.c) is also counted per
 * day and team, and every lifecycle change per day and stage entered, as named
 * counters of the metrics store (metrics.h), so they are committed with the state
 * they count:
 *
 *   dash.<YYYYMMDD>|<team>|<dimension>|<value>|<metric>[|<detail>]
 *   dash_stage.<YYYYMMDD>|<entity type>|<stage entered>
 *
 * The day is the UTC day of the event the outcome or change came from (of the
 * daemon's clock when an SLA clock fell due).  Only the DASHBOARD_DAYS days up to
 * the newest day on which a handoff was made or a contact became known or engaged
 * (days of event time) are kept: dashboard_prune() drops older ones at each
 * commit, so the counters are bounded by days x teams x rows.  Days counted by SLA
 * clocks alone (the wall clock's, ahead of a replayed backlog's) do not move the
 * window; they leave it once it passes them.
 *
 * Answering (HTTP thread, pure): a dashboard_t is filled from those counters (read
 * from a store snapshot) and from the open cases of the SLA timers index, then
 * rendered as JSON (dashboard_json()) or as the page's HTML (dashboard_html(), the
 * first view, readable without JavaScript).  Every string from input is escaped.
 *
 * Thread: dashboard_count_*() and dashboard_prune() on the pipeline thread; the rest
 * on any thread with a dashboard_t of its own. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "outcomes.h"
#include "store.h"
#include "util/buf.h"

/* Days of counters kept, up to the newest day of event time (dashboard_prune()). */
#define DASHBOARD_DAYS 92
/* Open cases listed at most (the earliest due first), and breaches. */
#define DASHBOARD_CASES_MAX 100
#define DASHBOARD_BREACHES_MAX 20
/* Bytes of a team filter, at most. */
#define DASHBOARD_TEAM_MAX 96

/* The metrics groups of the counters above. */
#define DASHBOARD_GROUP "dash"
#define DASHBOARD_GROUP_STAGE "dash_stage"

/* ---- counting (pipeline thread) ---- */

/* Counts outcome counter @outcome_name ("<dim>|<value>|<metric>[|<detail>]", as
 * outputs.c names it) for the day of @at_ms and @team (NULL: "(no team)", cut to 40
 * bytes).  A name too long for a key loses bytes of its detail, then of its value,
 * never its metric; a name that is no outcome counter's is not counted.  0 or
 * -ENOMEM. */
int dashboard_count_outcome(metrics_t *m, int64_t at_ms, const char *team,
                            const char *outcome_name);

/* Counts an entity of @entity_type entering @stage on the day of @at_ms.  0 or
 * -ENOMEM. */
int dashboard_count_stage(metrics_t *m, int64_t at_ms, const char *entity_type, const char *stage);

/* Drops the counters of days more than DASHBOARD_DAYS - 1 before the newest day of
 * a handoff or a contact known or engaged, from @m and (deletes) from the store
 * through @b.  Returns how many. */
size_t dashboard_prune(metrics_t *m, store_batch_t *b);

/* "YYYYMMDD" of the UTC day of @ms. */
void dashboard_day(char out[9], int64_t ms);

/* ---- the filter ---- */

typedef struct dashboard_filter {
    char team[DASHBOARD_TEAM_MAX + 1]; /* "" = every team */
    int32_t from_day, to_day;          /* YYYYMMDD, inclusive; 0 = unbounded */
} dashboard_filter_t;

/* Reads "team=...&from=YYYY-MM-DD&to=YYYY-MM-DD" (each optional, %-decoded; other
 * parameters ignored; empty values are no filter).  Returns NULL with @f set, or
 * why the query is refused (a 400). */
const char *dashboard_filter_parse(const char *query, dashboard_filter_t *f);

/* ---- the answer ---- */

typedef struct dashboard dashboard_t;

dashboard_t *dashboard_new(const dashboard_filter_t *f);
void dashboard_free(dashboard_t *d);

/* Adds counter @key (its full name, "dash.<day>|..." or "dash_stage.<day>|...";
 * anything else is ignored) of value @n when its day and team pass the filter; every
 * day seen counts for the days available.  0 or -ENOMEM. */
int dashboard_add_counter(dashboard_t *d, const char *key, uint64_t n);

/* One clock of an open case. */
typedef struct dashboard_clock {
    const char *sla;     /* "accept", "first_touch", "follow_up" */
    const char *state;   /* "running", "met", "breached" */
    int64_t due_ms;      /* level-1 deadline */
    int64_t next_due_ms; /* the next escalation while unanswered; 0 none */
    int32_t level;       /* breaches emitted */
} dashboard_clock_t;

#define DASHBOARD_INTERESTS_MAX 3
#define DASHBOARD_CLOCKS_MAX 3

/* An open case, as the timers index and the entity's state tell it.  Strings are
 * copied by dashboard_add_case(). */
typedef struct dashboard_case {
    const char *entity_type; /* "contact", "account" */
    const char *id;
    const char *handoff_id;
    const char *rule;
    const char *team;  /* NULL: none */
    const char *owner; /* NULL: nobody took it yet */
    const char *account;
    const char *reason; /* one line: the top score contributions */
    const char *interests[DASHBOARD_INTERESTS_MAX];
    size_t interest_count;
    int64_t opened_ms;
    int32_t score;
    bool accepted;
    dashboard_clock_t clocks[DASHBOARD_CLOCKS_MAX];
    size_t clock_count;
} dashboard_case_t;

/* Adds an open case (kept when its team passes the filter and it has a clock still
 * unanswered or breached; at most DASHBOARD_CASES_MAX, the earliest due kept).
 * 0 or -ENOMEM. */
int dashboard_add_case(dashboard_t *d, const dashboard_case_t *c);

/* Where this instance answers and where the others do (instances.h), for the page
 * to sum them.  Copied.  0 or -ENOMEM. */
int dashboard_set_instance(dashboard_t *d, const char *self);
int dashboard_add_peer(dashboard_t *d, const char *addr);

/* The JSON of GET /v1/dashboard (docs/HTTP.md), appended to @out.  @now_ms: the
 * daemon's clock (the time left on the clocks); @as_of_ms: the commit's time.
 * 0 or -ENOMEM. */
int dashboard_json(const dashboard_t *d, hf_buf_t *out, int64_t now_ms, int64_t as_of_ms);

/* The page: @page_template (daemon/dashboard/dashboard.html) with its "@BODY@"
 * replaced by the first view rendered from @d (NULL: no numbers, only @notice, e.g.
 * when the bearer token is needed), its "@STYLE@" by @style and its "@SCRIPT@" by
 * @script (each marker once, in that order).  @notice NULL: none.  0 or -ENOMEM. */
int dashboard_html(const dashboard_t *d, hf_buf_t *out, const char *page_template,
                   const char *style, const char *script, const char *notice, int64_t now_ms,
                   int64_t as_of_ms);

/* @s escaped for HTML text and attribute values (& < > " ') appended to @out.
 * 0 or -ENOMEM. */
int dashboard_html_escape(hf_buf_t *out, const char *s);
