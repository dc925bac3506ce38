/* A team's cases and its daily digest (digest.h). */
#include "digest.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/vec.h"

#define DAY_S 86400LL
#define DAY_MS 86400000LL

/* ---- the state ---- */

static void case_free(digest_case_t *c)
{
    free(c->handoff_id);
    free(c->entity_id);
    free(c->owner_id);
    free(c->reason);
    for (uint32_t i = 0; i < c->interest_count; i++)
        free(c->interests[i]);
    memset(c, 0, sizeof *c);
}

static void mark_free(digest_mark_t *m)
{
    free(m->handoff_id);
    free(m->entity_id);
    free(m->owner_id);
}

digest_team_t *digest_team_new(const char *team)
{
    digest_team_t *t = calloc(1, sizeof *t);
    if (!t || !(t->team = strdup(team))) {
        free(t);
        return NULL;
    }
    t->last_day = -1;
    return t;
}

void digest_team_free(digest_team_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->case_count; i++)
        case_free(&t->cases[i]);
    for (size_t i = 0; i < t->mark_count; i++)
        mark_free(&t->marks[i]);
    for (size_t i = 0; i < t->owner_count; i++)
        free(t->owners[i].owner_id);
    free(t->cases);
    free(t->marks);
    free(t->owners);
    free(t->team);
    free(t);
}

static digest_case_t *case_find(digest_team_t *t, const char *handoff_id)
{
    for (size_t i = 0; i < t->case_count; i++)
        if (strcmp(t->cases[i].handoff_id, handoff_id) == 0)
            return &t->cases[i];
    return NULL;
}

static void case_remove(digest_team_t *t, size_t i)
{
    case_free(&t->cases[i]);
    memmove(&t->cases[i], &t->cases[i + 1], (t->case_count - i - 1) * sizeof *t->cases);
    t->case_count--;
}

static digest_owner_t *owner_of(digest_team_t *t, const char *owner_id, bool create)
{
    const char *key = owner_id ? owner_id : "";
    for (size_t i = 0; i < t->owner_count; i++)
        if (strcmp(t->owners[i].owner_id, key) == 0)
            return &t->owners[i];
    if (!create || t->owner_count >= DIGEST_OWNERS_MAX)
        return NULL;
    size_t cap = t->owner_count;
    digest_owner_t *o = vec_grow(t->owners, &cap, t->owner_count + 1, sizeof *o);
    if (!o)
        return NULL;
    t->owners = o;
    o = &t->owners[t->owner_count];
    memset(o, 0, sizeof *o);
    if (!(o->owner_id = strdup(key)))
        return NULL;
    t->owner_count++;
    return o;
}

static int set_str(char **dst, const char *src)
{
    if ((*dst && src && strcmp(*dst, src) == 0) || (!*dst && !src))
        return 0;
    char *s = NULL;
    if (src && !(s = strdup(src)))
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

static int add_mark(digest_team_t *t, digest_mark_kind_t kind, const digest_case_t *c, int32_t sla,
                    int32_t level, int64_t at_ms)
{
    if (t->mark_count >= DIGEST_MARKS_MAX) {
        t->dropped++;
        return 0;
    }
    size_t cap = t->mark_count;
    digest_mark_t *m = vec_grow(t->marks, &cap, t->mark_count + 1, sizeof *m);
    if (!m)
        return -ENOMEM;
    t->marks = m;
    m = &t->marks[t->mark_count];
    /* A case update stamped before the last digest can reach the team after it (from
     * another instance, or behind the clocks that fired with that digest): dated at the
     * last digest, it is told by the next one rather than never. */
    if (at_ms < t->last_at_ms)
        at_ms = t->last_at_ms;
    *m = (digest_mark_t){.kind = kind, .sla = sla, .level = level, .at_ms = at_ms};
    m->handoff_id = strdup(c->handoff_id);
    m->entity_id = strdup(c->entity_id);
    m->owner_id = c->owner_id ? strdup(c->owner_id) : NULL;
    if (!m->handoff_id || !m->entity_id || (c->owner_id && !m->owner_id)) {
        mark_free(m);
        return -ENOMEM;
    }
    t->mark_count++;
    return 0;
}

static void sample(int64_t *ring, uint32_t *n, int64_t v)
{
    ring[*n % DIGEST_SAMPLES] = v;
    (*n)++;
}

/* Counts what the snapshot newly shows into the owner's figures, once per case. */
static int count_case(digest_team_t *t, digest_case_t *c, const digest_update_t *u)
{
    digest_owner_t *o = owner_of(t, c->owner_id, true);
    if (!o) {
        if (t->owner_count >= DIGEST_OWNERS_MAX) {
            t->dropped++;
            return 0;
        }
        return -ENOMEM;
    }
    bool breached = false;
    for (int k = 0; k < HF_SLA__COUNT; k++)
        breached |= c->breach_level[k] > 0;
    if (!c->counted_sla && breached) {
        o->breached++;
        c->counted_sla = true;
    } else if (!c->counted_sla && u->sla_done) {
        o->met++;
        c->counted_sla = true;
    }
    if (!c->counted_accept && c->accepted_at_ms > 0) {
        int64_t d = c->accepted_at_ms - c->handed_off_at_ms;
        sample(o->accept_ms, &o->accept_n, d > 0 ? d : 0);
        c->counted_accept = true;
    }
    if (!c->counted_touch && c->touched_at_ms > 0) {
        int64_t d = c->touched_at_ms - c->handed_off_at_ms;
        sample(o->touch_ms, &o->touch_n, d > 0 ? d : 0);
        c->counted_touch = true;
    }
    return 0;
}

/* Makes room for one more case: the oldest closed one goes.  False when every case
 * is open. */
static bool make_room(digest_team_t *t)
{
    size_t oldest = SIZE_MAX;
    for (size_t i = 0; i < t->case_count; i++)
        if (t->cases[i].status != DIGEST_OPEN &&
            (oldest == SIZE_MAX || t->cases[i].closed_at_ms < t->cases[oldest].closed_at_ms))
            oldest = i;
    if (oldest == SIZE_MAX)
        return false;
    case_remove(t, oldest);
    return true;
}

int digest_fold(digest_team_t *t, const digest_update_t *u, const digest_schedule_t *sched,
                int64_t now_ms)
{
    assert(u->handoff_id && u->entity_id);
    if (t->next_at_ms == 0)
        t->next_at_ms = digest_next_at(sched, now_ms);
    digest_case_t *c = case_find(t, u->handoff_id);
    if (c && u->at_ms < c->at_ms)
        return DIGEST_FOLD_STALE;
    if (!c) {
        if (t->case_count >= DIGEST_CASES_MAX && !make_room(t)) {
            t->dropped++;
            return DIGEST_FOLD_DROPPED;
        }
        size_t cap = t->case_count;
        digest_case_t *cs = vec_grow(t->cases, &cap, t->case_count + 1, sizeof *cs);
        if (!cs)
            return -ENOMEM;
        t->cases = cs;
        c = &t->cases[t->case_count];
        memset(c, 0, sizeof *c);
        if (!(c->handoff_id = strdup(u->handoff_id)) || !(c->entity_id = strdup(u->entity_id))) {
            case_free(c);
            return -ENOMEM;
        }
        c->entity_type = u->entity_type;
        t->case_count++;
    }
    if (set_str(&c->owner_id, u->owner_id) < 0 || set_str(&c->reason, u->reason) < 0)
        return -ENOMEM;
    for (uint32_t i = 0; i < c->interest_count; i++)
        free(c->interests[i]);
    c->interest_count = 0;
    for (uint32_t i = 0; i < u->interest_count && i < DIGEST_INTERESTS; i++) {
        if (!(c->interests[i] = strdup(u->interests[i])))
            return -ENOMEM;
        c->interest_count = i + 1;
    }
    c->at_ms = u->at_ms;
    c->handed_off_at_ms = u->handed_off_at_ms;
    c->next_deadline_ms = u->status == DIGEST_OPEN ? u->next_deadline_ms : 0;
    /* the first snapshot that shows it says when */
    if (!c->accepted_at_ms)
        c->accepted_at_ms = u->accepted_at_ms;
    if (!c->touched_at_ms)
        c->touched_at_ms = u->touched_at_ms;
    /* each level of each clock is marked once: a repeated snapshot marks nothing */
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        for (int32_t level = c->breach_level[k] + 1; level <= u->breach_level[k]; level++) {
            int r = add_mark(t, DIGEST_MARK_BREACH, c, k, level, u->breach_at_ms[k]);
            if (r < 0)
                return r;
        }
        if (u->breach_level[k] > c->breach_level[k])
            c->breach_level[k] = u->breach_level[k];
    }
    if (c->status == DIGEST_OPEN && u->status != DIGEST_OPEN) {
        c->closed_at_ms = u->at_ms;
        if (u->status == DIGEST_WON || u->status == DIGEST_LOST) {
            int r = add_mark(t, u->status == DIGEST_WON ? DIGEST_MARK_WON : DIGEST_MARK_LOST, c, -1,
                             0, u->at_ms);
            if (r < 0)
                return r;
        }
    }
    if (c->status == DIGEST_OPEN)
        c->status = u->status; /* a closed case stays closed */
    return count_case(t, c, u);
}

/* ---- the schedule ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool zoned(const hf_calendar_t *cal)
{
    return cal && !cal->always;
}

int64_t digest_local_day(const hf_calendar_t *cal, int64_t at_ms)
{
    int64_t s = floor_div(at_ms, 1000);
    if (zoned(cal))
        s += hf_tz_offset_at(&cal->tz, s);
    return floor_div(s, DAY_S);
}

bool digest_business_day(const hf_calendar_t *cal, int64_t day)
{
    if (!zoned(cal))
        return true;
    int wday = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    if (cal->hours[wday].span_count == 0)
        return false;
    size_t lo = 0, hi = cal->holiday_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cal->holidays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return !(lo < cal->holiday_count && cal->holidays[lo] == day);
}

static int64_t instant_of(const digest_schedule_t *sched, int64_t day)
{
    int64_t local_s = day * DAY_S + sched->at_s;
    int64_t utc_s = zoned(sched->cal) ? hf_tz_local_to_utc(&sched->cal->tz, local_s) : local_s;
    return utc_s * 1000;
}

int64_t digest_next_at(const digest_schedule_t *sched, int64_t after_ms)
{
    int64_t day = digest_local_day(sched->cal, after_ms) - 1; /* a gap can move it back */
    for (int64_t i = 0; i <= HF_CALENDAR_MAX_DAYS; i++) {
        if (!digest_business_day(sched->cal, day + i))
            continue;
        int64_t at = instant_of(sched, day + i);
        if (at > after_ms)
            return at;
    }
    return INT64_MAX;
}

/* The digest instant of the business day before the one of @at_ms: where the first
 * digest's window starts ("yesterday" on a Monday is Friday). */
static int64_t prev_at(const digest_schedule_t *sched, int64_t at_ms)
{
    int64_t day = digest_local_day(sched->cal, at_ms);
    for (int64_t i = 1; i <= HF_CALENDAR_MAX_DAYS; i++)
        if (digest_business_day(sched->cal, day - i))
            return instant_of(sched, day - i);
    return at_ms - DAY_MS;
}

void digest_date_string(int64_t day, char *out, size_t outsz)
{
    int64_t y;
    int32_t m, d;
    hf_civil_from_days(day, &y, &m, &d);
    snprintf(out, outsz, "%04" PRId64 "-%02" PRId32 "-%02" PRId32, y, m, d);
}

void digest_id(const char *team, const char *owner, const char *date, char out[DIGEST_ID_LEN])
{
    uint64_t h = hash_fnv1a64_str(team);
    h = hash_fnv1a64_update(h, "\x1f", 1);
    h = hash_fnv1a64_update(h, owner, strlen(owner));
    h = hash_fnv1a64_update(h, "\x1f", 1);
    h = hash_fnv1a64_update(h, date, strlen(date));
    snprintf(out, DIGEST_ID_LEN, "dg_%016" PRIx64, h);
}

digest_schedule_t digest_schedule_of(const hf_rules_t *rules, const char *team, int32_t at_s)
{
    return (digest_schedule_t){.cal = hf_rules_team_calendar(rules, team), .at_s = at_s};
}

/* ---- the digest ---- */

void digest_clear(digest_t *d)
{
    free(d->waiting);
    free(d->marks);
    memset(d, 0, sizeof *d);
}

static int cmp_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median of @n samples (the lower one of the middle two), -1 for none; sorts
 * @v. */
static int64_t median(int64_t *v, size_t n)
{
    if (n == 0)
        return -1;
    qsort(v, n, sizeof *v, cmp_ms);
    return v[(n - 1) / 2];
}

static uint32_t kept(uint32_t n)
{
    return n < DIGEST_SAMPLES ? n : DIGEST_SAMPLES;
}

/* Figures of the owners @owner names (NULL: all, the unassigned included). */
static int figures_of(const digest_team_t *t, const char *owner, digest_figures_t *f)
{
    *f = (digest_figures_t){.median_accept_ms = -1, .median_first_touch_ms = -1};
    size_t cap = (owner ? 1 : t->owner_count) * DIGEST_SAMPLES;
    int64_t *acc = malloc((cap ? cap : 1) * sizeof *acc);
    int64_t *tch = malloc((cap ? cap : 1) * sizeof *tch);
    if (!acc || !tch) {
        free(acc);
        free(tch);
        return -ENOMEM;
    }
    size_t na = 0, nt = 0;
    for (size_t i = 0; i < t->owner_count; i++) {
        const digest_owner_t *o = &t->owners[i];
        if (owner && strcmp(o->owner_id, owner) != 0)
            continue;
        f->met += o->met;
        f->breached += o->breached;
        memcpy(acc + na, o->accept_ms, kept(o->accept_n) * sizeof *acc);
        na += kept(o->accept_n);
        memcpy(tch + nt, o->touch_ms, kept(o->touch_n) * sizeof *tch);
        nt += kept(o->touch_n);
    }
    f->median_accept_ms = median(acc, na);
    f->median_first_touch_ms = median(tch, nt);
    free(acc);
    free(tch);
    for (size_t i = 0; i < t->case_count; i++) {
        const digest_case_t *c = &t->cases[i];
        if (c->status == DIGEST_OPEN &&
            (!owner || (c->owner_id && strcmp(c->owner_id, owner) == 0)))
            f->open++;
    }
    return 0;
}

/* Better standing first: a larger share met, then fewer breaches, then more met,
 * then by id (a total order, so ranks are the same everywhere). */
static int standing_cmp(const digest_owner_t *a, const digest_owner_t *b)
{
    uint64_t lhs = (uint64_t)a->met * (b->met + b->breached);
    uint64_t rhs = (uint64_t)b->met * (a->met + a->breached);
    if (lhs != rhs)
        return lhs > rhs ? -1 : 1;
    if (a->breached != b->breached)
        return a->breached < b->breached ? -1 : 1;
    if (a->met != b->met)
        return a->met > b->met ? -1 : 1;
    return strcmp(a->owner_id, b->owner_id);
}

static void rank_of(const digest_team_t *t, const char *owner, uint32_t *rank, uint32_t *ranked)
{
    *rank = 0;
    *ranked = 0;
    const digest_owner_t *me = NULL;
    for (size_t i = 0; i < t->owner_count; i++)
        if (t->owners[i].owner_id[0] && t->owners[i].met + t->owners[i].breached > 0) {
            (*ranked)++;
            if (strcmp(t->owners[i].owner_id, owner) == 0)
                me = &t->owners[i];
        }
    if (!me)
        return;
    uint32_t before = 0;
    for (size_t i = 0; i < t->owner_count; i++) {
        const digest_owner_t *o = &t->owners[i];
        if (o != me && o->owner_id[0] && o->met + o->breached > 0 && standing_cmp(o, me) < 0)
            before++;
    }
    *rank = before + 1;
}

static int cmp_waiting(const void *a, const void *b)
{
    const digest_case_t *x = *(const digest_case_t *const *)a,
                        *y = *(const digest_case_t *const *)b;
    int64_t dx = x->next_deadline_ms ? x->next_deadline_ms : INT64_MAX;
    int64_t dy = y->next_deadline_ms ? y->next_deadline_ms : INT64_MAX;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    if (x->handed_off_at_ms != y->handed_off_at_ms)
        return x->handed_off_at_ms < y->handed_off_at_ms ? -1 : 1;
    return strcmp(x->handoff_id, y->handoff_id);
}

static int cmp_marks(const void *a, const void *b)
{
    const digest_mark_t *x = *(const digest_mark_t *const *)a,
                        *y = *(const digest_mark_t *const *)b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    int h = strcmp(x->handoff_id, y->handoff_id);
    if (h)
        return h;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->sla != y->sla)
        return x->sla < y->sla ? -1 : 1;
    return x->level < y->level ? -1 : x->level > y->level;
}

static bool owner_is(const char *owner_id, const char *owner)
{
    return !owner || (owner_id && strcmp(owner_id, owner) == 0);
}

int digest_build(const digest_team_t *t, const char *owner, int64_t day, int64_t from_ms,
                 int64_t to_ms, int64_t now_ms, digest_t *d)
{
    memset(d, 0, sizeof *d);
    d->team_id = t->team;
    d->owner_id = owner;
    digest_date_string(day, d->date, sizeof d->date);
    digest_id(t->team, owner ? owner : "", d->date, d->id);
    d->from_ms = from_ms;
    d->to_ms = to_ms;
    d->at_ms = now_ms;
    d->waiting = malloc((t->case_count ? t->case_count : 1) * sizeof *d->waiting);
    d->marks = malloc((t->mark_count ? t->mark_count : 1) * sizeof *d->marks);
    if (!d->waiting || !d->marks)
        goto fail;
    for (size_t i = 0; i < t->case_count; i++)
        if (t->cases[i].status == DIGEST_OPEN && owner_is(t->cases[i].owner_id, owner))
            d->waiting[d->waiting_count++] = &t->cases[i];
    qsort(d->waiting, d->waiting_count, sizeof *d->waiting, cmp_waiting);
    if (d->waiting_count > DIGEST_WAITING_MAX)
        d->waiting_count = DIGEST_WAITING_MAX;
    for (size_t i = 0; i < t->mark_count; i++) {
        const digest_mark_t *m = &t->marks[i];
        if (m->at_ms >= from_ms && m->at_ms < to_ms && owner_is(m->owner_id, owner))
            d->marks[d->mark_count++] = m;
    }
    qsort(d->marks, d->mark_count, sizeof *d->marks, cmp_marks);
    if (figures_of(t, owner, &d->own) < 0 || figures_of(t, NULL, &d->team) < 0)
        goto fail;
    if (owner)
        rank_of(t, owner, &d->rank, &d->ranked);
    return 0;
fail:
    digest_clear(d);
    return -ENOMEM;
}

static int cmp_owner_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int digest_fire(digest_team_t *t, const digest_schedule_t *sched, int64_t now_ms,
                digest_emit_fn emit, void *opaque)
{
    if (t->next_at_ms == 0)
        t->next_at_ms = digest_next_at(sched, now_ms);
    if (now_ms < t->next_at_ms)
        return 0;
    /* the latest digest instant passed (one digest after an outage, not one per day) */
    int64_t at = t->next_at_ms;
    for (int i = 0; i <= HF_CALENDAR_MAX_DAYS; i++) {
        int64_t next = digest_next_at(sched, at);
        if (next > now_ms)
            break;
        at = next;
    }
    int64_t day = digest_local_day(sched->cal, at);
    int emitted = 0;
    if (day > t->last_day) {
        int64_t from = t->last_at_ms > 0 ? t->last_at_ms : prev_at(sched, at);
        const char **ids = malloc((t->owner_count ? t->owner_count : 1) * sizeof *ids);
        if (!ids)
            return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < t->owner_count; i++)
            if (t->owners[i].owner_id[0])
                ids[n++] = t->owners[i].owner_id;
        qsort(ids, n, sizeof *ids, cmp_owner_ids);
        int r = 0;
        for (size_t i = 0; r == 0 && i <= n; i++) {
            digest_t d;
            r = digest_build(t, i < n ? ids[i] : NULL, day, from, at, now_ms, &d);
            if (r == 0) {
                r = emit(opaque, &d);
                digest_clear(&d);
                emitted++;
            }
        }
        free(ids);
        if (r < 0)
            return r;
        /* the window is told: its marks go, and closed cases kept long enough */
        size_t w = 0;
        for (size_t i = 0; i < t->mark_count; i++) {
            if (t->marks[i].at_ms < at)
                mark_free(&t->marks[i]);
            else
                t->marks[w++] = t->marks[i];
        }
        t->mark_count = w;
        for (size_t i = t->case_count; i-- > 0;)
            if (t->cases[i].status != DIGEST_OPEN &&
                t->cases[i].closed_at_ms + DIGEST_CLOSED_KEEP_MS < at)
                case_remove(t, i);
        t->last_day = day;
        t->last_at_ms = at;
    }
    t->next_at_ms = digest_next_at(sched, now_ms > at ? now_ms : at);
    return emitted;
}

int64_t digest_next_due(const digest_team_t *t)
{
    return t->next_at_ms == INT64_MAX ? 0 : t->next_at_ms;
}

void digest_reschedule(digest_team_t *t, const digest_schedule_t *sched, int64_t now_ms)
{
    int64_t after = now_ms > t->last_at_ms ? now_ms : t->last_at_ms;
    t->next_at_ms = digest_next_at(sched, after);
}

/* ---- the output record ---- */

static const char *const sla_names[HF_SLA__COUNT] = {"accept", "first_touch", "follow_up"};

static digest_out_figures_t out_figures(const digest_figures_t *f)
{
    return (digest_out_figures_t){.met = (int32_t)f->met,
                                  .breached = (int32_t)f->breached,
                                  .open = (int32_t)f->open,
                                  .median_accept_ms = f->median_accept_ms,
                                  .has_median_accept = f->median_accept_ms >= 0,
                                  .median_first_touch_ms = f->median_first_touch_ms,
                                  .has_median_first_touch = f->median_first_touch_ms >= 0};
}

int digest_out_of(const digest_t *d, digest_out_t *o)
{
    memset(o, 0, sizeof *o);
    o->digest_id = d->id;
    o->team = d->team_id;
    o->owner_id = d->owner_id;
    o->date = d->date;
    o->window_start_ms = d->from_ms;
    o->window_end_ms = d->to_ms;
    o->emitted_at_ms = d->at_ms;
    o->waiting = calloc(d->waiting_count ? d->waiting_count : 1, sizeof *o->waiting);
    o->breaches = calloc(d->mark_count ? d->mark_count : 1, sizeof *o->breaches);
    o->won = calloc(d->mark_count ? d->mark_count : 1, sizeof *o->won);
    o->lost = calloc(d->mark_count ? d->mark_count : 1, sizeof *o->lost);
    if (!o->waiting || !o->breaches || !o->won || !o->lost) {
        digest_out_clear(o);
        return -ENOMEM;
    }
    size_t text_len = 1;
    for (size_t i = 0; i < d->waiting_count; i++)
        for (uint32_t k = 0; k < d->waiting[i]->interest_count; k++)
            text_len += strlen(d->waiting[i]->interests[k]) + 2;
    if (!(o->text = malloc(text_len))) {
        digest_out_clear(o);
        return -ENOMEM;
    }
    char *p = o->text;
    for (size_t i = 0; i < d->waiting_count; i++) {
        const digest_case_t *c = d->waiting[i];
        const char *joined = NULL;
        if (c->interest_count) {
            joined = p;
            for (uint32_t k = 0; k < c->interest_count; k++) {
                size_t n = strlen(c->interests[k]);
                if (k) {
                    memcpy(p, ", ", 2);
                    p += 2;
                }
                memcpy(p, c->interests[k], n);
                p += n;
            }
            *p++ = '\0';
        }
        o->waiting[o->waiting_count++] =
            (digest_out_case_t){.handoff_id = c->handoff_id,
                                .entity_type = hf_entity_type_name(c->entity_type),
                                .entity_id = c->entity_id,
                                .owner_id = c->owner_id,
                                .reason = c->reason,
                                .interests = joined,
                                .handed_off_at_ms = c->handed_off_at_ms,
                                .next_deadline_ms = c->next_deadline_ms,
                                .has_next_deadline = c->next_deadline_ms > 0};
    }
    for (size_t i = 0; i < d->mark_count; i++) {
        const digest_mark_t *m = d->marks[i];
        digest_out_mark_t om = {.handoff_id = m->handoff_id,
                                .entity_id = m->entity_id,
                                .owner_id = m->owner_id,
                                .level = m->level,
                                .at_ms = m->at_ms};
        if (m->kind == DIGEST_MARK_BREACH) {
            om.sla = m->sla >= 0 && m->sla < HF_SLA__COUNT ? sla_names[m->sla] : "accept";
            o->breaches[o->breach_count++] = om;
        } else if (m->kind == DIGEST_MARK_WON) {
            o->won[o->won_count++] = om;
        } else {
            o->lost[o->lost_count++] = om;
        }
    }
    o->standing = out_figures(&d->own);
    o->team_standing = out_figures(&d->team);
    o->rank = (int32_t)d->rank;
    o->has_rank = d->rank > 0;
    o->ranked = (int32_t)d->ranked;
    return 0;
}

void digest_out_clear(digest_out_t *o)
{
    free(o->waiting);
    free(o->breaches);
    free(o->won);
    free(o->lost);
    free(o->text);
    memset(o, 0, sizeof *o);
}
