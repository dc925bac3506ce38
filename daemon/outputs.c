#include "outputs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "log.h"

static size_t reason_fields(const void *items, size_t i, log_kv_t *kv, size_t max)
{
    const hf_reason_t *r = (const hf_reason_t *)items + i;
    size_t n = 0;
    kv[n++] = (log_kv_t)LOG_STR("rule", r->rule);
    kv[n++] = (log_kv_t)LOG_INT("points", r->points);
    kv[n++] = (log_kv_t)LOG_INT("count", r->count);
    if (r->detail && n < max)
        kv[n++] = (log_kv_t)LOG_STR("detail", r->detail);
    return n;
}

/* One record per handoff: who, which rule, score, grade, why (every reason, the
 * qualifying one first).  Contact ids are pseudonymous; no e-mail ever appears
 * here. */
static void log_handoff(const hf_handoff_t *h)
{
    if (LOG_LEVEL_INFO < log_min_level)
        return;
    log_kv_t kv[14];
    size_t n = 0;
    kv[n++] = (log_kv_t)LOG_STR("rule", h->rule);
    /* new business goes without saying; an expansion names its product */
    if (h->product) {
        kv[n++] = (log_kv_t)LOG_STR("kind", h->kind);
        kv[n++] = (log_kv_t)LOG_STR("product", h->product);
    }
    kv[n++] = (log_kv_t)LOG_INT("score", h->score);
    kv[n++] = (log_kv_t)LOG_STR("grade", h->fit_grade);
    if (h->buying_group_count)
        kv[n++] = (log_kv_t)LOG_UINT("group", h->buying_group_count);
    if (h->routing_team)
        kv[n++] = (log_kv_t)LOG_STR("team", h->routing_team);
    kv[n++] = (log_kv_t)LOG_STR("handoff_id", h->handoff_id);
    kv[n++] = (log_kv_t)LOG_STR("entity_type", hf_entity_type_name(h->entity_type));
    kv[n++] = (log_kv_t)LOG_STR("entity_id", h->entity_id);
    if (h->account_id)
        kv[n++] = (log_kv_t)LOG_STR("account_id", h->account_id);
    kv[n++] = (log_kv_t)LOG_STR("because", h->reason_count ? h->reasons[0].detail : NULL);
    kv[n++] = (log_kv_t)LOG_OBJS("reasons", h->reasons, h->reason_count, reason_fields);
    log_write_kv(LOG_LEVEL_INFO, LOG_HANDOFF, kv, n, "%s %s", hf_entity_type_name(h->entity_type),
                 h->entity_id);
}

/* An output record keyed by entity id; the partitioner picks the partition. */
static int produce_keyed(stage_ctx_t *c, stage_out_t out, const char *entity_id)
{
    return c->out.produce(c->out.opaque, out, STAGE_NO_PARTITION, 0, entity_id, strlen(entity_id),
                          c->out_buf.data, c->out_buf.len, c->err, c->errsz);
}

/* Counts "<@a>|<@b>" in @group: two labels of one /metrics series. */
static int count_pair(stage_ctx_t *c, const char *group, const char *a, const char *b)
{
    char name[160];
    snprintf(name, sizeof name, "%s|%s", a, b);
    return metrics_add_named(c->metrics, group, name, 1);
}

static int emit_handoff(void *opaque, const hf_handoff_t *h)
{
    stage_ctx_t *c = opaque;
    hf_buf_reset(&c->out_buf);
    int r = codec_encode_handoff(c->codec, h, &c->out_buf);
    if (r < 0)
        return stage_fail(c, r, "encoding handoff %s: %s", h->handoff_id, strerror(-r));
    if ((r = produce_keyed(c, OUT_READY, h->entity_id)) < 0)
        return r;
    c->ctr[M_HANDOFFS]++;
    c->run.handoffs++;
    const char *type = hf_entity_type_name(h->entity_type);
    if (metrics_add_named(c->metrics, "handoffs", h->rule, 1) < 0 ||
        count_pair(c, METRICS_GROUP_HANDOFF_TYPES, type, h->rule) < 0)
        return -ENOMEM;
    metrics_observe(c->metrics, MH_EVENT_TO_HANDOFF,
                    (double)(h->emitted_at_ms - h->qualified_at_ms) / 1000.0);
    log_handoff(h);
    if (c->on_handoff)
        return c->on_handoff(c->on_handoff_opaque, h);
    return 0;
}

/* The day a dashboard counter goes to: its event time, but never more than a day past
 * the clock, so that one record stamped in the far future cannot make its day the
 * newest and push every real day out of the dashboard's window. */
static int64_t dashboard_at(const stage_ctx_t *c, int64_t at_ms)
{
    int64_t limit = stage_now_ms(c) + 86400000;
    return at_ms > limit ? limit : at_ms;
}

static int emit_lifecycle(void *opaque, const hf_lifecycle_t *lc)
{
    stage_ctx_t *c = opaque;
    hf_buf_reset(&c->out_buf);
    int r = codec_encode_lifecycle(c->codec, lc, &c->out_buf);
    if (r < 0)
        return stage_fail(c, r, "encoding lifecycle change: %s", strerror(-r));
    if ((r = produce_keyed(c, OUT_LIFECYCLE, lc->entity_id)) < 0)
        return r;
    c->ctr[M_LIFECYCLE]++;
    if (metrics_add_named(c->metrics, "lifecycle", hf_entity_type_name(lc->entity_type), 1) < 0)
        return -ENOMEM;
    /* the dashboard's funnel reads the contacts that became known or engaged (the later
     * stages are outcome counters) */
    if (lc->entity_type == HF_ENTITY_CONTACT &&
        (strcmp(lc->to_stage, "known") == 0 || strcmp(lc->to_stage, "engaged") == 0) &&
        dashboard_count_stage(c->metrics, dashboard_at(c, lc->at_ms), "contact", lc->to_stage) < 0)
        return -ENOMEM;
    log_record(LOG_LEVEL_DEBUG, LOG_PIPE,
               LOG_FIELDS(LOG_STR("entity_type", hf_entity_type_name(lc->entity_type)),
                          LOG_STR("entity_id", lc->entity_id), LOG_STR("from", lc->from_stage),
                          LOG_STR("to", lc->to_stage), LOG_STR("cause", lc->cause),
                          LOG_TIME("at", lc->at_ms)),
               "%s %s: %s -> %s", hf_entity_type_name(lc->entity_type), lc->entity_id,
               lc->from_stage, lc->to_stage);
    return 0;
}

static int emit_breach(void *opaque, const hf_breach_t *b)
{
    stage_ctx_t *c = opaque;
    hf_buf_reset(&c->out_buf);
    int r = codec_encode_breach(c->codec, b, &c->out_buf);
    if (r < 0)
        return stage_fail(c, r, "encoding SLA breach %s: %s", b->breach_id, strerror(-r));
    if ((r = produce_keyed(c, OUT_SLA, b->entity_id)) < 0)
        return r;
    c->ctr[M_BREACHES]++;
    char level[16];
    snprintf(level, sizeof level, "%d", (int)b->level);
    if (metrics_add_named(c->metrics, "breaches", hf_sla_kind_name(b->sla), 1) < 0 ||
        count_pair(c, METRICS_GROUP_BREACH_LEVELS, hf_sla_kind_name(b->sla), level) < 0)
        return -ENOMEM;
    log_record(LOG_LEVEL_INFO, LOG_HANDOFF,
               LOG_FIELDS(LOG_STR("breach_id", b->breach_id), LOG_STR("handoff_id", b->handoff_id),
                          LOG_STR("entity_type", hf_entity_type_name(b->entity_type)),
                          LOG_STR("entity_id", b->entity_id),
                          LOG_STR("sla", hf_sla_kind_name(b->sla)), LOG_INT("sla_level", b->level),
                          LOG_STR("owner", b->owner_id), LOG_TIME("due_at", b->due_at_ms),
                          LOG_TIME("breached_at", b->breached_at_ms)),
               "SLA breach %s %s: %s level %d", hf_entity_type_name(b->entity_type), b->entity_id,
               hf_sla_kind_name(b->sla), (int)b->level);
    return 0;
}

/* Outcome counters (metrics group "outcome"): "<dimension>|<value>|<metric>" and,
 * with a detail (rejection reason, SLA kind, latency bucket), "|<detail>".  Values
 * have '|' replaced; handoffctl outcomes reads them back as a table. */
static int count_outcome(stage_ctx_t *c, const char *team, const char *dim, const char *value,
                         const char *metric, const char *detail)
{
    /* bounded so that the counter's key fits the metrics store's (250 bytes) */
    char v[96], d[96], name[240];
    snprintf(v, sizeof v, "%s", value);
    snprintf(d, sizeof d, "%s", detail ? detail : "");
    for (char *s = v; *s; s++)
        *s = *s == '|' ? '/' : *s;
    for (char *s = d; *s; s++)
        *s = *s == '|' ? '/' : *s;
    snprintf(name, sizeof name, "%s|%s|%s%s%s", dim, v, metric, detail ? "|" : "", d);
    if (metrics_add_named(c->metrics, "outcome", name, 1) < 0)
        return -ENOMEM;
    /* the same per day and team, for the dashboard's filters (dashboard.h): the day
     * of the record that made it, or of the clock when an SLA clock fell due */
    int64_t at = c->current_ts > 0 ? c->current_ts : stage_now_ms(c);
    return dashboard_count_outcome(c->metrics, dashboard_at(c, at), team, name);
}

static int emit_outcome(void *opaque, const hf_outcome_t *o)
{
    stage_ctx_t *c = opaque;
    c->outcomes_changed = true;
    char bucket[24];
    const char *detail = o->detail;
    bool per_person = strncmp(o->metric, "sla_", 4) == 0 || strncmp(o->metric, "time_to_", 8) == 0;
    if (strncmp(o->metric, "time_to_", 8) == 0) {
        snprintf(bucket, sizeof bucket, "b%d", metrics_duration_bucket(o->duration_ms));
        detail = bucket;
    }
    const char *dims[][2] = {
        {"all", "*"},
        {per_person ? "team" : "rule", per_person ? (o->team ? o->team : "(no team)") : o->rule},
        {per_person ? "owner" : "source",
         per_person ? (o->owner ? o->owner : "(unassigned)") : o->source},
        {"first_campaign", per_person ? NULL : o->first_campaign},
        {"last_campaign", per_person ? NULL : o->last_campaign},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i][1] && count_outcome(c, o->team, dims[i][0], dims[i][1], o->metric, detail) < 0)
            return -ENOMEM;
    return 0;
}

/* Stage 2 -> stage 3, keyed by account. */
static int send_member_update(void *opaque, const hf_member_update_t *u)
{
    stage_ctx_t *c = opaque;
    hf_buf_reset(&c->enc_buf);
    int r = codec_encode_member_update(c->enc_codec, u, &c->enc_buf);
    if (r < 0)
        return stage_fail(c, r, "encoding a member update of %s: %s", u->contact_id, strerror(-r));
    c->ctr[M_MEMBER_UPDATES]++;
    return stage_deliver(c, ROLE_BY_ACCOUNT, u->account_id, c->enc_buf.data, c->enc_buf.len,
                         u->at_ms);
}

/* Stage 3 -> stage 2, keyed by contact. */
static int send_roster(void *opaque, const char *contact_id, const hf_roster_t *roster)
{
    stage_ctx_t *c = opaque;
    hf_buf_reset(&c->enc_buf);
    int r = codec_encode_roster(c->enc_codec, contact_id, roster, &c->enc_buf);
    if (r < 0)
        return stage_fail(c, r, "encoding the roster of %s: %s", roster->account_id, strerror(-r));
    c->ctr[M_ROSTERS]++;
    return stage_deliver(c, ROLE_BY_CONTACT, contact_id, c->enc_buf.data, c->enc_buf.len,
                         c->current_ts);
}

const hf_sink_t *outputs_sink(stage_ctx_t *c, hf_sink_t *sink)
{
    *sink = (hf_sink_t){
        .opaque = c,
        .handoff = emit_handoff,
        .lifecycle = emit_lifecycle,
        .member_update = send_member_update,
        .roster = send_roster,
        .breach = emit_breach,
        .outcome = emit_outcome,
    };
    return sink;
}
