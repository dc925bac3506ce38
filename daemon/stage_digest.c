#include "stage_digest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "dlq.h"
#include "log.h"

/* ---- the team store ---- */

static int team_encode(const void *s, hf_buf_t *out)
{
    binenc_writer_t w = BINENC_WRITER(out);
    return digest_team_encode(s, &w);
}
static int team_decode(void **out, const void *buf, size_t len)
{
    return digest_team_decode((digest_team_t **)out, buf, len);
}
static void team_free(void *s)
{
    digest_team_free(s);
}
const cache_ops_t stage_team_ops = {team_encode, team_decode, team_free};

static void *new_team(const char *team)
{
    return digest_team_new(team);
}

static bool enabled(const stage_ctx_t *c)
{
    return c->team_cache && stage_rules(c)->digest.enabled;
}

static digest_schedule_t schedule_of(const stage_ctx_t *c, const char *team)
{
    const hf_rules_t *rules = stage_rules(c);
    return digest_schedule_of(rules, team, rules->digest.at_ms / 1000);
}

/* ---- watching cases ---- */

static int snap_of(stage_ctx_t *c, digest_snap_t *out, hf_entity_type_t type, const void *s)
{
    if (type == HF_ENTITY_ACCOUNT)
        return digest_snap_account(out, s);
    return digest_snap_contact(out, s, stage_rules(c), stage_now_ms(c));
}

int stage_digest_watch(stage_ctx_t *c, stage_digest_watch_t *w, hf_entity_type_t type,
                       const void *s)
{
    memset(w, 0, sizeof *w);
    if (!enabled(c))
        return 0;
    int r = snap_of(c, &w->before, type, s);
    if (r < 0)
        return stage_fail(c, r, "out of memory watching a case");
    w->on = true;
    return 0;
}

void stage_digest_unwatch(stage_digest_watch_t *w)
{
    if (w->on)
        digest_snap_free(&w->before);
    w->on = false;
}

int stage_digest_tell(stage_ctx_t *c, stage_digest_watch_t *w, hf_entity_type_t type, const void *s,
                      int action)
{
    if (!w->on)
        return 0;
    digest_snap_t after;
    int r = snap_of(c, &after, type, s);
    if (r < 0) {
        stage_digest_unwatch(w);
        return stage_fail(c, r, "out of memory watching a case");
    }
    digest_update_t u[2];
    size_t n = digest_snap_updates(&w->before, &after, action, stage_now_ms(c), u);
    for (size_t i = 0; i < n && r == 0; i++) {
        hf_buf_reset(&c->enc_buf);
        r = codec_encode_case_update(c->enc_codec, &u[i], &c->enc_buf);
        if (r < 0) {
            r = stage_fail(c, r, "encoding the case of %s for team %s: %s", u[i].handoff_id,
                           u[i].team, strerror(-r));
            break;
        }
        if ((r = metrics_add_named(c->metrics, "digest", "case_updates", 1)) < 0)
            break;
        r = stage_deliver(c, ROLE_BY_ACCOUNT, u[i].team, c->enc_buf.data, c->enc_buf.len,
                          c->current_ts ? c->current_ts : stage_now_ms(c));
    }
    digest_snap_free(&after);
    stage_digest_unwatch(w);
    return r;
}

/* ---- the team's state ---- */

int stage_digest_case(stage_ctx_t *c, const stage_origin_t *origin, const digest_update_t *u)
{
    if (!c->team_cache)
        return 0;
    if (!u->team || !u->team[0] || hf_id_blocked(u->team))
        return dlq_send(c, origin, "blocked_id", "case update without a team");
    int r;
    cache_entry_t *e = stage_state_of(c, c->team_cache, origin, u->team, new_team, &r);
    if (!e)
        return r > 0 ? 0 : r;
    digest_schedule_t sched = schedule_of(c, u->team);
    r = digest_fold(e->state, u, &sched, stage_now_ms(c));
    if (r < 0)
        return stage_fail(c, r, "out of memory folding a case of team %s", u->team);
    cache_entry_touch(e);
    return timers_set(c->timers, TIMERS_TEAM, u->team, digest_next_due(e->state));
}

typedef struct emit_ctx {
    stage_ctx_t *c;
} emit_ctx_t;

static int emit_digest(void *opaque, const digest_t *d)
{
    emit_ctx_t *x = opaque;
    stage_ctx_t *c = x->c;
    digest_out_t o;
    int r = digest_out_of(d, &o);
    if (r < 0)
        return stage_fail(c, r, "out of memory making a digest");
    hf_buf_reset(&c->out_buf);
    r = codec_encode_digest(c->codec, &o, &c->out_buf);
    digest_out_clear(&o);
    if (r < 0)
        return stage_fail(c, r, "encoding digest %s: %s", d->id, strerror(-r));
    if ((r = metrics_add_named(c->metrics, "digest", "emitted", 1)) < 0)
        return stage_fail(c, r, "out of memory counting a digest");
    r = c->out.produce(c->out.opaque, OUT_DIGEST, STAGE_NO_PARTITION, 0, d->team_id,
                       strlen(d->team_id), c->out_buf.data, c->out_buf.len, c->err, c->errsz);
    if (r < 0)
        return r;
    log_record(LOG_LEVEL_INFO, LOG_HANDOFF,
               LOG_FIELDS(LOG_STR("digest_id", d->id), LOG_STR("team", d->team_id),
                          LOG_STR("owner", d->owner_id), LOG_STR("date", d->date),
                          LOG_UINT("waiting", d->own.open), LOG_UINT("met", d->own.met),
                          LOG_UINT("breached", d->own.breached), LOG_UINT("events", d->mark_count)),
               "digest %s %s: %u waiting, %u breaches and outcomes since the last", d->team_id,
               d->owner_id ? d->owner_id : "(team)", (unsigned)d->own.open,
               (unsigned)d->mark_count);
    return 0;
}

int stage_digest_fire(stage_ctx_t *c, const char *team, int64_t now_ms)
{
    if (!enabled(c))
        return 0; /* switched off by a reload: the entry stays out of the index */
    stage_origin_t origin = stage_internal_origin(c, ROLE_BY_ACCOUNT);
    int r;
    cache_entry_t *e = stage_state_of(c, c->team_cache, &origin, team, NULL, &r);
    if (!e)
        return r > 0 ? 0 : r;
    digest_schedule_t sched = schedule_of(c, team);
    emit_ctx_t x = {c};
    r = digest_fire(e->state, &sched, now_ms, emit_digest, &x);
    if (r < 0)
        return r;
    cache_entry_touch(e);
    int64_t next = digest_next_due(e->state);
    return timers_set(c->timers, TIMERS_TEAM, team, next > now_ms ? next : 0);
}

int stage_digest_reschedule(stage_ctx_t *c, const char *team)
{
    if (!enabled(c))
        return 0;
    stage_origin_t origin = stage_internal_origin(c, ROLE_BY_ACCOUNT);
    int r;
    cache_entry_t *e = stage_state_of(c, c->team_cache, &origin, team, NULL, &r);
    if (!e)
        return r < 0 ? r : 0;
    digest_schedule_t sched = schedule_of(c, team);
    digest_reschedule(e->state, &sched, stage_now_ms(c));
    cache_entry_touch(e);
    return timers_set(c->timers, TIMERS_TEAM, team, digest_next_due(e->state));
}
