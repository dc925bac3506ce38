/* The daily digest of a team (processors/digest/): its schedule in a business
 * calendar (local time, business days, holidays, DST), what a digest holds (waiting
 * cases by deadline, breaches, wins and losses marked once, SLA standing, medians,
 * ranks), once per local date across refires and a store round trip, and the state
 * encoding.  Expected instants were worked out with python3's zoneinfo; the comment
 * beside each says which local time it is. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/digest/digest.h"
#include "util/buf.h"

#define HOUR_S 3600
#define MIN_MS (60 * 1000LL)
#define HOUR_MS (3600 * 1000LL)
#define DAY_MS (86400 * 1000LL)

/* New York, EST5EDT,M3.2.0,M11.1.0, open 09:00-17:00 Monday to Friday. */
static hf_calendar_t new_york(int32_t *holidays, size_t holiday_count)
{
    hf_calendar_t cal = {.name = "ny"};
    cal.tz = (hf_tz_t){.name = "America/New_York",
                       .initial_offset_s = -5 * HOUR_S,
                       .has_rule = true,
                       .rule = {.std_offset_s = -5 * HOUR_S,
                                .has_dst = true,
                                .dst_offset_s = -4 * HOUR_S,
                                .dst_start = {.kind = HF_TZ_DATE_MONTH_WEEK_DAY,
                                              .month = 3,
                                              .week = 2,
                                              .wday = 0,
                                              .time_s = 2 * HOUR_S},
                                .dst_end = {.kind = HF_TZ_DATE_MONTH_WEEK_DAY,
                                            .month = 11,
                                            .week = 1,
                                            .wday = 0,
                                            .time_s = 2 * HOUR_S}}};
    for (int d = 1; d <= 5; d++) {
        cal.hours[d].open_s[0] = 9 * HOUR_S;
        cal.hours[d].close_s[0] = 17 * HOUR_S;
        cal.hours[d].span_count = 1;
    }
    cal.holidays = holidays;
    cal.holiday_count = holiday_count;
    return cal;
}

#define AT_0830 (8 * HOUR_S + 30 * 60)

static void schedule_utc_every_day(void **state)
{
    (void)state;
    digest_schedule_t s = {.cal = NULL, .at_s = AT_0830};
    /* 2026-03-06T18:00Z (a Friday) -> Saturday 08:30Z */
    int64_t fri_18 = 1772820000000LL;
    assert_int_equal(digest_next_at(&s, fri_18), 1772872200000LL);
    /* exactly at the instant: the next day's */
    assert_int_equal(digest_next_at(&s, 1772872200000LL), 1772872200000LL + DAY_MS);
    assert_true(digest_business_day(NULL, 20520)); /* a Sunday counts for 24x7 */
}

static void schedule_business_days_and_dst(void **state)
{
    (void)state;
    hf_calendar_t cal = new_york(NULL, 0);
    digest_schedule_t s = {.cal = &cal, .at_s = AT_0830};
    /* Friday 2026-03-06 18:00 EST -> Monday 2026-03-09 08:30 EDT (12:30Z: DST began
     * on Sunday, so the UTC instant moved an hour) */
    assert_int_equal(digest_next_at(&s, 1772838000000LL), 1773059400000LL);
    /* Friday 08:30 EST itself, from just before it: 13:30Z */
    assert_int_equal(digest_next_at(&s, 1772803800000LL - 1), 1772803800000LL);
    /* Friday 2026-11-27 08:30 EST -> Monday 2026-11-30 08:30 EST */
    assert_int_equal(digest_next_at(&s, 1795786200000LL), 1796045400000LL);
    assert_false(digest_business_day(&cal, 20519)); /* Saturday 2026-03-07 */
    assert_true(digest_business_day(&cal, 20518));  /* Friday 2026-03-06 */
    /* the local date of 2026-03-07T03:00Z is still Friday in New York */
    assert_int_equal(digest_local_day(&cal, 1772852400000LL), 20518);
}

static void schedule_skips_holidays(void **state)
{
    (void)state;
    int32_t holidays[] = {20521}; /* Monday 2026-03-09 */
    hf_calendar_t cal = new_york(holidays, 1);
    digest_schedule_t s = {.cal = &cal, .at_s = AT_0830};
    /* -> Tuesday 2026-03-10 08:30 EDT */
    assert_int_equal(digest_next_at(&s, 1772838000000LL), 1773145800000LL);
    assert_false(digest_business_day(&cal, 20521));
}

/* A calendar open every day: the digest falls on Sunday 2026-03-08 too, the day New
 * York's clocks skip 02:00-03:00. */
static void schedule_in_a_dst_gap(void **state)
{
    (void)state;
    hf_calendar_t cal = new_york(NULL, 0);
    for (int d = 0; d < 7; d++) {
        cal.hours[d].open_s[0] = 0;
        cal.hours[d].close_s[0] = 24 * HOUR_S;
        cal.hours[d].span_count = 1;
    }
    digest_schedule_t s = {.cal = &cal, .at_s = 2 * HOUR_S + 30 * 60};
    /* 02:30 does not exist that night: read with the offset before the change (EST),
     * 07:30Z, which the clocks show as 03:30 EDT */
    int64_t sat_noon = 1772902800000LL; /* Saturday 2026-03-07 12:00 EST */
    assert_int_equal(digest_next_at(&s, sat_noon), 1772955000000LL);
    /* and the local date of that instant is Sunday's */
    assert_int_equal(digest_local_day(&cal, 1772955000000LL), 20520);
    /* Monday 02:30 EDT = 06:30Z */
    assert_int_equal(digest_next_at(&s, 1772955000000LL), 1773037800000LL);
}

static void ids_are_deterministic(void **state)
{
    (void)state;
    char a[DIGEST_ID_LEN], b[DIGEST_ID_LEN], c[DIGEST_ID_LEN];
    digest_id("emea", "rep-7", "2026-12-07", a);
    digest_id("emea", "rep-7", "2026-12-07", b);
    digest_id("emea", "", "2026-12-07", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 19);
    assert_memory_equal(a, "dg_", 3);
    char date[16];
    digest_date_string(20518, date, sizeof date);
    assert_string_equal(date, "2026-03-06");
}

/* ---- content ---- */

static const int64_t T0 = 1796391000000LL; /* Friday 2026-12-04 08:30 EST */
static const char *const top_interests[] = {"pricing", "security"};

static digest_update_t opened(const char *handoff, const char *entity, const char *owner,
                              int64_t at_ms, int64_t deadline_ms)
{
    digest_update_t u = {.team = "emea",
                         .handoff_id = handoff,
                         .entity_type = HF_ENTITY_CONTACT,
                         .entity_id = entity,
                         .owner_id = owner,
                         .status = DIGEST_OPEN,
                         .at_ms = at_ms,
                         .handed_off_at_ms = at_ms,
                         .reason = "demo request",
                         .interests = top_interests,
                         .interest_count = 2,
                         .next_deadline_ms = deadline_ms};
    return u;
}

typedef struct collected {
    char ids[16][DIGEST_ID_LEN];
    char owners[16][32];
    size_t waiting[16], marks[16];
    digest_figures_t own[16];
    uint32_t rank[16], ranked[16];
    size_t n;
} collected_t;

static int collect(void *opaque, const digest_t *d)
{
    collected_t *c = opaque;
    assert_true(c->n < 16);
    memcpy(c->ids[c->n], d->id, DIGEST_ID_LEN);
    snprintf(c->owners[c->n], sizeof c->owners[c->n], "%s", d->owner_id ? d->owner_id : "");
    c->waiting[c->n] = d->waiting_count;
    c->marks[c->n] = d->mark_count;
    c->own[c->n] = d->own;
    c->rank[c->n] = d->rank;
    c->ranked[c->n] = d->ranked;
    c->n++;
    return 0;
}

/* A team with: rep-1 two open cases (one accepted in 10 min and met, both touched),
 * rep-2 one case breached (accept, twice reported) then won, one unassigned case,
 * and one case lost by rep-1. */
static digest_team_t *sample_team(const digest_schedule_t *s)
{
    digest_team_t *t = digest_team_new("emea");
    assert_non_null(t);
    int64_t h = T0 + 2 * HOUR_MS; /* Friday 10:30 */
    digest_update_t u = opened("ho_a", "c-1", "rep-1", h, h + 4 * HOUR_MS);
    assert_int_equal(digest_fold(t, &u, s, h), DIGEST_FOLD_APPLIED);
    u = opened("ho_b", "c-2", "rep-1", h, h + 2 * HOUR_MS);
    assert_int_equal(digest_fold(t, &u, s, h), DIGEST_FOLD_APPLIED);
    /* ho_b accepted after 10 min, touched after 30: its SLA met */
    u.at_ms = h + 30 * MIN_MS;
    u.accepted_at_ms = h + 10 * MIN_MS;
    u.touched_at_ms = h + 30 * MIN_MS;
    u.sla_done = true;
    u.next_deadline_ms = h + 6 * HOUR_MS; /* follow-up */
    assert_int_equal(digest_fold(t, &u, s, u.at_ms), DIGEST_FOLD_APPLIED);
    /* ho_c: rep-2, accept breached */
    u = opened("ho_c", "c-3", "rep-2", h, h + HOUR_MS);
    assert_int_equal(digest_fold(t, &u, s, h), DIGEST_FOLD_APPLIED);
    u.at_ms = h + HOUR_MS;
    u.breach_level[HF_SLA_ACCEPT] = 1;
    u.breach_at_ms[HF_SLA_ACCEPT] = h + HOUR_MS;
    assert_int_equal(digest_fold(t, &u, s, u.at_ms), DIGEST_FOLD_APPLIED);
    /* the same snapshot again (a repeat after a crash): nothing new */
    assert_int_equal(digest_fold(t, &u, s, u.at_ms), DIGEST_FOLD_APPLIED);
    /* an older one: stale */
    digest_update_t old = u;
    old.at_ms = h;
    assert_int_equal(digest_fold(t, &old, s, u.at_ms), DIGEST_FOLD_STALE);
    /* accepted late, then won */
    u.at_ms = h + 2 * HOUR_MS;
    u.accepted_at_ms = h + 2 * HOUR_MS;
    u.status = DIGEST_WON;
    assert_int_equal(digest_fold(t, &u, s, u.at_ms), DIGEST_FOLD_APPLIED);
    /* ho_d: nobody named */
    u = opened("ho_d", "c-4", NULL, h, h + 3 * HOUR_MS);
    assert_int_equal(digest_fold(t, &u, s, h), DIGEST_FOLD_APPLIED);
    /* ho_e: rep-1, lost */
    u = opened("ho_e", "c-5", "rep-1", h, 0);
    u.status = DIGEST_LOST;
    u.at_ms = h + 3 * HOUR_MS;
    u.accepted_at_ms = h + 20 * MIN_MS;
    assert_int_equal(digest_fold(t, &u, s, u.at_ms), DIGEST_FOLD_APPLIED);
    return t;
}

static void content_of_a_digest(void **state)
{
    (void)state;
    hf_calendar_t cal = new_york(NULL, 0);
    digest_schedule_t s = {.cal = &cal, .at_s = AT_0830};
    digest_team_t *t = sample_team(&s);
    int64_t mon = 1796045400000LL + 7 * DAY_MS; /* Monday 2026-12-07 08:30 EST */
    digest_t d;
    assert_int_equal(digest_build(t, "rep-1", 20794, T0, mon, mon, &d), 0);
    assert_string_equal(d.date, "2026-12-07");
    /* waiting: ho_a (deadline 14:30), ho_b (follow-up 16:30); not the lost ho_e */
    assert_int_equal(d.waiting_count, 2);
    assert_string_equal(d.waiting[0]->handoff_id, "ho_a");
    assert_string_equal(d.waiting[1]->handoff_id, "ho_b");
    assert_string_equal(d.waiting[0]->reason, "demo request");
    assert_int_equal(d.waiting[0]->interest_count, 2);
    assert_string_equal(d.waiting[0]->interests[0], "pricing");
    /* marks: the loss only */
    assert_int_equal(d.mark_count, 1);
    assert_int_equal(d.marks[0]->kind, DIGEST_MARK_LOST);
    /* standing: ho_b met; accepts 10 and 20 min -> median 10 (the lower middle) */
    assert_int_equal(d.own.met, 1);
    assert_int_equal(d.own.breached, 0);
    assert_int_equal(d.own.median_accept_ms, 10 * MIN_MS);
    assert_int_equal(d.own.median_first_touch_ms, 30 * MIN_MS);
    assert_int_equal(d.own.open, 2);
    /* team: 1 met, 1 breached; accepts 10, 20, 120 min -> 20 */
    assert_int_equal(d.team.met, 1);
    assert_int_equal(d.team.breached, 1);
    assert_int_equal(d.team.median_accept_ms, 20 * MIN_MS);
    assert_int_equal(d.team.open, 3);
    assert_int_equal(d.rank, 1);
    assert_int_equal(d.ranked, 2);
    digest_clear(&d);

    assert_int_equal(digest_build(t, "rep-2", 20794, T0, mon, mon, &d), 0);
    assert_int_equal(d.waiting_count, 0);
    /* one breach (reported twice, marked once), then the win */
    assert_int_equal(d.mark_count, 2);
    assert_int_equal(d.marks[0]->kind, DIGEST_MARK_BREACH);
    assert_int_equal(d.marks[0]->sla, HF_SLA_ACCEPT);
    assert_int_equal(d.marks[0]->level, 1);
    assert_int_equal(d.marks[1]->kind, DIGEST_MARK_WON);
    assert_int_equal(d.own.breached, 1);
    assert_int_equal(d.rank, 2);
    digest_clear(&d);

    /* the team's: every open case, the unassigned included, every mark */
    assert_int_equal(digest_build(t, NULL, 20794, T0, mon, mon, &d), 0);
    assert_int_equal(d.waiting_count, 3);
    assert_int_equal(d.mark_count, 3);
    assert_int_equal(d.rank, 0);
    digest_clear(&d);
    /* marks outside the window are not told */
    assert_int_equal(digest_build(t, NULL, 20794, mon, mon + DAY_MS, mon, &d), 0);
    assert_int_equal(d.mark_count, 0);
    digest_clear(&d);
    digest_team_free(t);
}

static digest_team_t *round_trip(digest_team_t *t)
{
    hf_buf_t buf = {0};
    binenc_writer_t w = BINENC_WRITER(&buf);
    assert_int_equal(digest_team_encode(t, &w), 0);
    digest_team_t *back = NULL;
    assert_int_equal(digest_team_decode(&back, buf.data, buf.len), 0);
    /* the same bytes again */
    hf_buf_t again = {0};
    binenc_writer_t w2 = BINENC_WRITER(&again);
    assert_int_equal(digest_team_encode(back, &w2), 0);
    assert_int_equal(again.len, buf.len);
    assert_memory_equal(again.data, buf.data, buf.len);
    /* every shorter prefix fails */
    for (size_t n = 0; n < buf.len; n++) {
        digest_team_t *bad = NULL;
        assert_true(digest_team_decode(&bad, buf.data, n) != 0);
        assert_null(bad);
    }
    hf_buf_free(&buf);
    hf_buf_free(&again);
    digest_team_free(t);
    return back;
}

static void once_per_local_date(void **state)
{
    (void)state;
    hf_calendar_t cal = new_york(NULL, 0);
    digest_schedule_t s = {.cal = &cal, .at_s = AT_0830};
    digest_team_t *t = sample_team(&s);
    /* the first fold scheduled Monday 2026-12-07 08:30 EST */
    int64_t mon = 1796650200000LL;
    assert_int_equal(digest_next_due(t), mon);
    collected_t c = {0};
    assert_int_equal(digest_fire(t, &s, mon - 1, collect, &c), 0);
    assert_int_equal(c.n, 0);
    /* at 08:30: rep-1, rep-2, the team */
    assert_int_equal(digest_fire(t, &s, mon, collect, &c), 3);
    assert_string_equal(c.owners[0], "rep-1");
    assert_string_equal(c.owners[1], "rep-2");
    assert_string_equal(c.owners[2], "");
    char id[DIGEST_ID_LEN];
    digest_id("emea", "rep-1", "2026-12-07", id);
    assert_string_equal(c.ids[0], id);
    assert_int_equal(c.marks[2], 3);
    assert_int_equal(digest_next_due(t), 1796736600000LL); /* Tuesday 08:30 */
    /* asked again the same day, also after the store: nothing */
    t = round_trip(t);
    assert_int_equal(digest_fire(t, &s, mon + HOUR_MS, collect, &c), 0);
    digest_reschedule(t, &s, mon + HOUR_MS);
    assert_int_equal(digest_fire(t, &s, mon + 2 * HOUR_MS, collect, &c), 0);
    assert_int_equal(c.n, 3);
    /* Tuesday: again, with Tuesday's ids, and the marks told on Monday gone */
    int64_t tue = 1796736600000LL;
    assert_int_equal(digest_fire(t, &s, tue + MIN_MS, collect, &c), 3);
    digest_id("emea", "rep-1", "2026-12-08", id);
    assert_string_equal(c.ids[3], id);
    assert_int_equal(c.marks[5], 0);
    assert_int_equal(c.waiting[5], 3);
    assert_int_equal(c.own[3].met, 1);
    digest_team_free(t);
}

static void missed_days_give_one_digest(void **state)
{
    (void)state;
    hf_calendar_t cal = new_york(NULL, 0);
    digest_schedule_t s = {.cal = &cal, .at_s = AT_0830};
    digest_team_t *t = sample_team(&s);
    /* down from Monday to Thursday 2026-12-10 09:00 EST */
    int64_t thu = 1796650200000LL + 3 * DAY_MS + 30 * MIN_MS;
    collected_t c = {0};
    assert_int_equal(digest_fire(t, &s, thu, collect, &c), 3);
    char id[DIGEST_ID_LEN];
    digest_id("emea", "rep-1", "2026-12-10", id);
    assert_string_equal(c.ids[0], id);
    assert_int_equal(digest_fire(t, &s, thu + HOUR_MS, collect, &c), 0);
    digest_team_free(t);
}

static int fail_second(void *opaque, const digest_t *d)
{
    (void)d;
    int *n = opaque;
    return ++*n == 2 ? -EIO : 0;
}

static void a_failed_emit_records_nothing(void **state)
{
    (void)state;
    digest_schedule_t s = {.cal = NULL, .at_s = AT_0830};
    digest_team_t *t = digest_team_new("emea");
    digest_update_t u = opened("ho_a", "c-1", "rep-1", T0, T0 + HOUR_MS);
    assert_int_equal(digest_fold(t, &u, &s, T0), 0);
    u = opened("ho_b", "c-2", "rep-2", T0, T0 + HOUR_MS);
    assert_int_equal(digest_fold(t, &u, &s, T0), 0);
    int n = 0;
    int64_t due = digest_next_due(t);
    assert_int_equal(digest_fire(t, &s, due, fail_second, &n), -EIO);
    assert_int_equal(t->last_day, -1);
    collected_t c = {0};
    assert_int_equal(digest_fire(t, &s, due, collect, &c), 3);
    digest_team_free(t);
}

static void bounds_hold(void **state)
{
    (void)state;
    digest_schedule_t s = {.cal = NULL, .at_s = AT_0830};
    digest_team_t *t = digest_team_new("emea");
    char id[32];
    for (unsigned i = 0; i < DIGEST_CASES_MAX + 5; i++) {
        snprintf(id, sizeof id, "ho_%u", i);
        digest_update_t u = opened(id, "c-1", "rep-1", T0 + i, T0 + HOUR_MS);
        int r = digest_fold(t, &u, &s, T0);
        assert_int_equal(r, i < DIGEST_CASES_MAX ? DIGEST_FOLD_APPLIED : DIGEST_FOLD_DROPPED);
    }
    assert_int_equal(t->case_count, DIGEST_CASES_MAX);
    assert_int_equal(t->dropped, 5);
    /* a closed case makes room */
    digest_update_t u = opened("ho_0", "c-1", "rep-1", T0 + DAY_MS, 0);
    u.status = DIGEST_CLOSED;
    assert_int_equal(digest_fold(t, &u, &s, T0), 0);
    u = opened("ho_new", "c-1", "rep-1", T0 + DAY_MS, 0);
    assert_int_equal(digest_fold(t, &u, &s, T0), 0);
    assert_int_equal(t->case_count, DIGEST_CASES_MAX);
    digest_t d;
    assert_int_equal(digest_build(t, "rep-1", 1, 0, 1, T0, &d), 0);
    assert_int_equal(d.waiting_count, DIGEST_WAITING_MAX);
    assert_int_equal(d.own.open, DIGEST_CASES_MAX);
    digest_clear(&d);
    digest_team_free(t);
}

/* ---- a case's snapshots and the updates they make ---- */

static digest_snap_t snap(const char *handoff, const char *owner, hf_stage_t stage)
{
    digest_snap_t s = {.open = handoff != NULL,
                       .type = HF_ENTITY_CONTACT,
                       .entity_id = (char *)"c-1",
                       .team = (char *)"emea",
                       .owner_id = (char *)owner,
                       .stage = stage,
                       .handed_off_at_ms = T0,
                       .next_deadline_ms = T0 + HOUR_MS,
                       .clocked = true};
    if (handoff)
        snprintf(s.handoff_id, sizeof s.handoff_id, "%s", handoff);
    return s;
}

static void snapshots_make_updates(void **state)
{
    (void)state;
    digest_update_t u[2];
    digest_snap_t none = snap(NULL, NULL, HF_STAGE_ENGAGED);
    digest_snap_t opened = snap("ho_a", NULL, HF_STAGE_CONVERSATION_READY);
    /* a handoff: the case opens */
    assert_int_equal(digest_snap_updates(&none, &opened, -1, T0, u), 1);
    assert_int_equal(u[0].status, DIGEST_OPEN);
    assert_string_equal(u[0].handoff_id, "ho_a");
    assert_null(u[0].owner_id);
    assert_int_equal(u[0].next_deadline_ms, T0 + HOUR_MS);
    /* nothing the digest tells changed: nothing */
    digest_snap_t same = opened;
    assert_int_equal(digest_snap_updates(&opened, &same, -1, T0, u), 0);
    /* accepted by rep-1 */
    digest_snap_t accepted = snap("ho_a", "rep-1", HF_STAGE_ACCEPTED);
    accepted.accepted = true;
    assert_int_equal(digest_snap_updates(&opened, &accepted, HF_SALES_ACCEPTED, T0 + 5, u), 1);
    assert_string_equal(u[0].owner_id, "rep-1");
    assert_int_equal(u[0].accepted_at_ms, T0 + 5);
    assert_int_equal(u[0].touched_at_ms, 0);
    assert_false(u[0].sla_done);
    /* a breach */
    digest_snap_t breached = accepted;
    breached.levels[HF_SLA_FIRST_TOUCH] = 1;
    assert_int_equal(digest_snap_updates(&accepted, &breached, -1, T0 + 9, u), 1);
    assert_int_equal(u[0].breach_level[HF_SLA_FIRST_TOUCH], 1);
    assert_int_equal(u[0].breach_at_ms[HF_SLA_FIRST_TOUCH], T0 + 9);
    /* lost: the case closes (recycled), told as lost with the answer's effects */
    digest_snap_t recycled = snap(NULL, NULL, HF_STAGE_RECYCLED);
    assert_int_equal(digest_snap_updates(&accepted, &recycled, HF_SALES_LOST, T0 + 10, u), 1);
    assert_int_equal(u[0].status, DIGEST_LOST);
    assert_int_equal(u[0].next_deadline_ms, 0);
    assert_false(u[0].sla_done); /* lost answers the accept clock, not the first touch */
    /* rejected: closed, not a loss */
    assert_int_equal(digest_snap_updates(&opened, &recycled, HF_SALES_REJECTED, T0 + 10, u), 1);
    assert_int_equal(u[0].status, DIGEST_CLOSED);
    /* won while open: the case shows the customer */
    digest_snap_t won = snap("ho_a", "rep-1", HF_STAGE_CUSTOMER);
    won.accepted = won.touched = true;
    assert_int_equal(digest_snap_updates(&accepted, &won, HF_SALES_WON, T0 + 11, u), 1);
    assert_int_equal(u[0].status, DIGEST_WON);
    assert_true(u[0].sla_done);
    /* a recycle and a new handoff in one fold: the old case closes, the new opens */
    digest_snap_t next = snap("ho_b", NULL, HF_STAGE_CONVERSATION_READY);
    assert_int_equal(digest_snap_updates(&opened, &next, -1, T0 + 12, u), 2);
    assert_string_equal(u[0].handoff_id, "ho_a");
    assert_int_equal(u[0].status, DIGEST_CLOSED);
    assert_string_equal(u[1].handoff_id, "ho_b");
    /* no routing team: nothing to tell */
    digest_snap_t teamless = opened;
    teamless.team = NULL;
    assert_int_equal(digest_snap_updates(&none, &teamless, -1, T0, u), 0);
    /* no clock ran: answered is not "met" */
    digest_snap_t unclocked = won;
    unclocked.clocked = false;
    assert_int_equal(digest_snap_updates(&accepted, &unclocked, HF_SALES_WON, T0 + 11, u), 1);
    assert_false(u[0].sla_done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_utc_every_day),
        cmocka_unit_test(schedule_business_days_and_dst),
        cmocka_unit_test(schedule_skips_holidays),
        cmocka_unit_test(schedule_in_a_dst_gap),
        cmocka_unit_test(ids_are_deterministic),
        cmocka_unit_test(content_of_a_digest),
        cmocka_unit_test(once_per_local_date),
        cmocka_unit_test(missed_days_give_one_digest),
        cmocka_unit_test(a_failed_emit_records_nothing),
        cmocka_unit_test(bounds_hold),
        cmocka_unit_test(snapshots_make_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
