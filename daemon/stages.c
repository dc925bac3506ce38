/* What each stage does with a record: stage 1 resolves anonymous ids,
 * stage 2 folds contact journeys, stage 3 folds account journeys.  Records move
 * between stages by key: to the partition's owner through a repartition topic, or,
 * when this process owns it, through the mailbox (docs/ARCHITECTURE.md "Local
 * re-keying"), drained right after the input record that set them off.
 *
 * Thread: the pipeline thread only. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/identity/identity.h"
#include "util/vec.h"
#include "kafka.h"
#include "log.h"
#include "pipeline_priv.h"

/* ---- state stores ---------------------------------------------------------- */

static int anon_encode(const void *s, hf_buf_t *out)
{
    return anon_state_encode(s, out);
}
static int anon_decode(void **out, const void *buf, size_t len)
{
    return anon_state_decode((anon_state_t **)out, buf, len);
}
static void anon_free(void *s)
{
    anon_state_free(s);
}
const cache_ops_t stages_anon_ops = {anon_encode, anon_decode, anon_free};

static int contact_encode(const void *s, hf_buf_t *out)
{
    return contact_state_encode(s, out);
}
static int contact_decode(void **out, const void *buf, size_t len)
{
    return contact_state_decode((contact_state_t **)out, buf, len);
}
static void contact_free(void *s)
{
    contact_state_free(s);
}
const cache_ops_t stages_contact_ops = {contact_encode, contact_decode, contact_free};

static int account_encode(const void *s, hf_buf_t *out)
{
    return account_state_encode(s, out);
}
static int account_decode(void **out, const void *buf, size_t len)
{
    return account_state_decode((account_state_t **)out, buf, len);
}
static void account_free(void *s)
{
    account_state_free(s);
}
const cache_ops_t stages_account_ops = {account_encode, account_decode, account_free};

const hf_event_kind_t stages_role_kind[ROLE__COUNT] = {
    [ROLE_WEB] = HF_EV_WEB_VISIT,     [ROLE_FORM] = HF_EV_FORM,
    [ROLE_DOWNLOAD] = HF_EV_DOWNLOAD, [ROLE_WEBINAR] = HF_EV_WEBINAR,
    [ROLE_EMAIL] = HF_EV_EMAIL,       [ROLE_IDENTITY] = HF_EV_IDENTITY,
    [ROLE_SALES] = HF_EV_SALES,       [ROLE_BY_ANON] = HF_EV__COUNT,
    [ROLE_BY_CONTACT] = HF_EV__COUNT, [ROLE_BY_ACCOUNT] = HF_EV__COUNT,
};

/* ---- outputs --------------------------------------------------------------- */

/* One readable line per handoff: who, which rule, score, grade, the strongest
 * reasons.  Contact ids are pseudonymous; no e-mail ever appears here. */
static void log_handoff(const hf_handoff_t *h)
{
    char why[512];
    size_t used = 0;
    why[0] = 0;
    bool taken[64] = {false};
    size_t n = h->reason_count < 64 ? h->reason_count : 64;
    for (int pick = 0; pick < 3; pick++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            /* Behaviour only: the grade is shown on its own. */
            if (taken[i] || h->reasons[i].points == 0 ||
                strncmp(h->reasons[i].rule, "fit:", 4) == 0)
                continue;
            if (best == n || abs(h->reasons[i].points) > abs(h->reasons[best].points))
                best = i;
        }
        if (best == n)
            break;
        taken[best] = true;
        int w = snprintf(why + used, sizeof(why) - used, "%s%s %+d (%dx)", used ? ", " : "",
                         h->reasons[best].rule, h->reasons[best].points, h->reasons[best].count);
        if (w > 0 && (size_t)w < sizeof(why) - used)
            used += (size_t)w;
    }
    const char *cause = h->reason_count && h->reasons[0].detail ? h->reasons[0].detail : "";
    char group[64] = "";
    if (h->buying_group_count)
        snprintf(group, sizeof(group), " group=%zu", h->buying_group_count);
    log_info(LOG_HANDOFF, "%s %s  rule=%s score=%d grade=%s%s%s%s  because %s; top: %s",
             hf_entity_type_name(h->entity_type), h->entity_id, h->rule, h->score, h->fit_grade,
             group, h->routing_team ? " team=" : "", h->routing_team ? h->routing_team : "", cause,
             used ? why : "-");
}

static int emit_handoff(void *opaque, const hf_handoff_t *h)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_handoff(p->codec, h, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding handoff %s: %s", h->handoff_id, strerror(-r));
        return r;
    }
    r = produce(p, OUT_READY, h->entity_id, strlen(h->entity_id), p->out_buf.data, p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_HANDOFFS]++;
    p->run_handoffs++;
    if (metrics_add_named(p->metrics, "handoffs", h->rule, 1) < 0)
        return -ENOMEM;
    log_handoff(h);
    return 0;
}

static int emit_lifecycle(void *opaque, const hf_lifecycle_t *lc)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_lifecycle(p->codec, lc, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding lifecycle change: %s", strerror(-r));
        return r;
    }
    r = produce(p, OUT_LIFECYCLE, lc->entity_id, strlen(lc->entity_id), p->out_buf.data,
                p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_LIFECYCLE]++;
    if (metrics_add_named(p->metrics, "lifecycle", hf_entity_type_name(lc->entity_type), 1) < 0)
        return -ENOMEM;
    log_debug(LOG_PIPE, "%s %s: %s -> %s (%s)", hf_entity_type_name(lc->entity_type), lc->entity_id,
              lc->from_stage, lc->to_stage, lc->cause);
    return 0;
}

static int emit_breach(void *opaque, const hf_breach_t *b)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_breach(p->codec, b, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding SLA breach %s: %s", b->breach_id, strerror(-r));
        return r;
    }
    r = produce(p, OUT_SLA, b->entity_id, strlen(b->entity_id), p->out_buf.data, p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_BREACHES]++;
    if (metrics_add_named(p->metrics, "breaches", hf_sla_kind_name(b->sla), 1) < 0)
        return -ENOMEM;
    log_info(LOG_HANDOFF, "SLA breach %s %s: %s level %d (due %" PRId64 ", owner %s) %s",
             hf_entity_type_name(b->entity_type), b->entity_id, hf_sla_kind_name(b->sla),
             (int)b->level, b->due_at_ms, b->owner_id ? b->owner_id : "none", b->breach_id);
    return 0;
}

/* Outcome counters (metrics group "outcome"): "<dimension>|<value>|<metric>" and,
 * with a detail (rejection reason, SLA kind, latency bucket), "|<detail>".  Values
 * have '|' replaced; handoffctl outcomes reads them back as a table. */
static int count_outcome(pipeline_t *p, const char *dim, const char *value, const char *metric,
                         const char *detail)
{
    /* bounded so that the counter's key fits the metrics store's (250 bytes) */
    char v[96], d[96], name[240];
    snprintf(v, sizeof v, "%s", value);
    snprintf(d, sizeof d, "%s", detail ? detail : "");
    for (char *c = v; *c; c++)
        *c = *c == '|' ? '/' : *c;
    for (char *c = d; *c; c++)
        *c = *c == '|' ? '/' : *c;
    snprintf(name, sizeof name, "%s|%s|%s%s%s", dim, v, metric, detail ? "|" : "", d);
    return metrics_add_named(p->metrics, "outcome", name, 1);
}

static int emit_outcome(void *opaque, const hf_outcome_t *o)
{
    pipeline_t *p = opaque;
    p->outcomes_changed = true;
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
        if (dims[i][1] && count_outcome(p, dims[i][0], dims[i][1], o->metric, detail) < 0)
            return -ENOMEM;
    return 0;
}

/* A record that cannot be processed goes to the DLQ with its coordinates, its
 * original bytes and the reason; processing carries on.  @m is the consumed record
 * (for something an input record set off inside the process: that input record).
 * @reason_class is a short stable name for the counters. */
static int dead_letter(pipeline_t *p, const rd_kafka_message_t *m, const char *reason_class,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int dead_letter(pipeline_t *p, const rd_kafka_message_t *m, const char *reason_class,
                       const char *fmt, ...)
{
    char reason[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);

    hf_dead_letter_t dl = {
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->len,
        .error = reason,
        .at_ms = p->clock(p->clock_opaque),
    };
    hf_buf_reset(&p->out_buf);
    int r = codec_encode_dead_letter(p->codec, &dl, &p->out_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding dead letter: %s", strerror(-r));
        return r;
    }
    r = produce(p, OUT_DLQ, m->key, m->key_len, p->out_buf.data, p->out_buf.len);
    if (r < 0)
        return r;
    p->ctr[M_DLQ]++;
    if (metrics_add_named(p->metrics, "dlq", reason_class, 1) < 0)
        return -ENOMEM;
    log_warn(LOG_PIPE, "dead letter %s [%" PRId32 "] @%" PRId64 ": %s", dl.topic, dl.partition,
             dl.offset, reason);
    return 0;
}

/* ---- moving records between stages ------------------------------------------ */

static int mail_push(pipeline_t *p, role_t role, const char *key, const void *value, size_t len)
{
    if (p->mail_count == p->mail_cap) {
        size_t cap = p->mail_cap ? p->mail_cap * 2 : 64;
        mail_t *grown = malloc(cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        for (size_t i = 0; i < p->mail_count; i++)
            grown[i] = p->mail[(p->mail_head + i) % p->mail_cap];
        free(p->mail);
        p->mail = grown;
        p->mail_cap = cap;
        p->mail_head = 0;
    }
    mail_t *m = &p->mail[(p->mail_head + p->mail_count) % p->mail_cap];
    m->role = role;
    m->key = strdup(key);
    m->value = malloc(len ? len : 1);
    if (!m->key || !m->value) {
        free(m->key);
        free(m->value);
        return -ENOMEM;
    }
    memcpy(m->value, value, len);
    m->value_len = len;
    p->mail_count++;
    return 0;
}

static void owed_clear(pipeline_t *p)
{
    for (size_t i = 0; i < p->owed_count; i++)
        free(p->owed[i]);
    p->owed_count = 0;
}

void stages_mail_clear(pipeline_t *p)
{
    owed_clear(p);
    while (p->mail_count) {
        mail_t *m = &p->mail[p->mail_head];
        free(m->key);
        free(m->value);
        p->mail_head = (p->mail_head + 1) % p->mail_cap;
        p->mail_count--;
    }
    p->mail_head = 0;
}

/* Sends @value to stage @via (a repartition role) under @key: into the mailbox when
 * this process owns the key's partition, else through the repartition topic, with
 * @ts_ms as its timestamp. */
static int deliver(pipeline_t *p, role_t via, const char *key, const void *value, size_t len,
                   int64_t ts_ms)
{
    int32_t part = kafka_murmur2_partition(key, strlen(key), p->role_partitions[via]);
    if (p->assigned[queue_index(p, via, part)])
        return mail_push(p, via, key, value, len);
    p->ctr[M_REMOTE]++;
    out_topic_t out = via == ROLE_BY_ANON      ? OUT_BY_ANON
                      : via == ROLE_BY_ACCOUNT ? OUT_BY_ACCOUNT
                                               : OUT_BY_CONTACT;
    return produce_to(p, out, part, ts_ms, key, strlen(key), value, len);
}

/* An input record re-keyed to another stage: its original bytes, unchanged. */
static int forward_input(pipeline_t *p, role_t via, const char *key, const void *raw, size_t len)
{
    int64_t ts;
    if (codec_peek_time(p->codec, raw, len, &ts) < 0)
        ts = p->current_ts;
    p->ctr[M_FORWARDED]++;
    return deliver(p, via, key, raw, len, ts);
}

/* Stage 1's output: the record under its contact id. */
static int forward_to_contact(void *opaque, const char *contact_id, const void *raw, size_t len)
{
    return forward_input(opaque, ROLE_BY_CONTACT, contact_id, raw, len);
}

static int send_member_update(void *opaque, const hf_member_update_t *u)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->enc_buf);
    int r = codec_encode_member_update(p->enc_codec, u, &p->enc_buf);
    if (r < 0) {
        pipeline_fail(p, "encoding a member update of %s: %s", u->contact_id, strerror(-r));
        return r;
    }
    p->ctr[M_MEMBER_UPDATES]++;
    return deliver(p, ROLE_BY_ACCOUNT, u->account_id, p->enc_buf.data, p->enc_buf.len, u->at_ms);
}

static int send_roster(void *opaque, const char *contact_id, const hf_roster_t *r)
{
    pipeline_t *p = opaque;
    hf_buf_reset(&p->enc_buf);
    int e = codec_encode_roster(p->enc_codec, contact_id, r, &p->enc_buf);
    if (e < 0) {
        pipeline_fail(p, "encoding the roster of %s: %s", r->account_id, strerror(-e));
        return e;
    }
    p->ctr[M_ROSTERS]++;
    return deliver(p, ROLE_BY_CONTACT, contact_id, p->enc_buf.data, p->enc_buf.len, p->current_ts);
}

static const hf_sink_t *stage_sink(pipeline_t *p, hf_sink_t *sink)
{
    *sink = (hf_sink_t){0};
    sink->opaque = p;
    sink->handoff = emit_handoff;
    sink->lifecycle = emit_lifecycle;
    sink->member_update = send_member_update;
    sink->roster = send_roster;
    sink->breach = emit_breach;
    sink->outcome = emit_outcome;
    return sink;
}

/* Indexes when @id's clocks next need attention (after anything that may have
 * changed them). */
static int note_due(pipeline_t *p, hf_entity_type_t type, const char *id, int64_t due_ms)
{
    return timers_set(p->timers, type, id, due_ms);
}

/* The cached state of @key in @cache, or NULL with *r set: 0 (absent and not
 * @create), > 0 (dead-lettered: corrupt), < 0 (fatal). */
static cache_entry_t *state_of(pipeline_t *p, cache_t *cache, const rd_kafka_message_t *origin,
                               const char *key, void *(*create)(const char *), int *r)
{
    cache_entry_t *e;
    *r = cache_get(cache, key, &e, p->errbuf, sizeof(p->errbuf));
    if (*r > 0) {
        *r = dead_letter(p, origin, "state_corrupt", "%s", p->errbuf);
        if (*r == 0)
            *r = 1;
        return NULL;
    }
    if (*r < 0) {
        pipeline_fail(p, "state store: %s", p->errbuf);
        return NULL;
    }
    if (!e->state && create) {
        void *s = create(key);
        if (!s) {
            *r = -ENOMEM;
            return NULL;
        }
        cache_entry_set(cache, e, s);
    }
    return e->state ? e : NULL;
}

static void *new_contact(const char *id)
{
    return contact_state_new(id);
}

static void *new_account(const char *id)
{
    return account_state_new(id);
}

static void *new_anon(const char *id)
{
    (void)id;
    return anon_state_new();
}

/* ---- stage 1 ----------------------------------------------------------------- */

/* Stage 1: resolve, keyed by anonymous id. */
static int stage_resolve(pipeline_t *p, const rd_kafka_message_t *origin, const hf_event_t *ev,
                         const void *raw, size_t len)
{
    if (hf_id_blocked(ev->anonymous_id)) {
        /* No stitching on an id that means "unknown"; a record that also names its
         * contact still reaches the journey. */
        const char *contact = ev->contact_id;
        if (contact && !hf_id_blocked(contact))
            return forward_to_contact(p, contact, raw, len);
        return dead_letter(p, origin, "blocked_id", "anonymous_id is missing or blocked (%s%s%s)",
                           ev->anonymous_id ? "\"" : "",
                           ev->anonymous_id ? ev->anonymous_id : "null",
                           ev->anonymous_id ? "\"" : "");
    }
    int r;
    cache_entry_t *e = state_of(p, p->anon_cache, origin, ev->anonymous_id, new_anon, &r);
    if (!e)
        return r > 0 ? 0 : r;
    identity_sink_t sink = {p, forward_to_contact};
    identity_result_t res = {0};
    r = identity_fold(e->state, ev, raw, len, p->cfg->rules, &sink, &res);
    if (r < 0)
        return r;
    cache_entry_touch(e);
    p->ctr[M_BUFFERED] += res.buffered;
    p->ctr[M_EVICTED] += res.evicted;
    p->ctr[M_IDENTIFIED] += res.identified;
    p->ctr[M_RELINKED] += res.relinked;
    return 0;
}

/* ---- stage 2 ----------------------------------------------------------------- */

/* Remembers that @s now owes its account a summary (once per commit: the caller
 * checked it did not before). */
static int track_owed(pipeline_t *p, const contact_state_t *s)
{
    if (!contact_state_summary_pending(s))
        return 0;
    if (p->owed_count == p->owed_cap) {
        size_t cap = p->owed_cap ? p->owed_cap * 2 : 256;
        char **grown = realloc(p->owed, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        p->owed = grown;
        p->owed_cap = cap;
    }
    if (!(p->owed[p->owed_count] = strdup(contact_state_id(s))))
        return -ENOMEM;
    p->owed_count++;
    return 0;
}

/* A merge names two contacts: ask the loser's partition to hand over its journey.
 * @known_before: whether the survivor was known before the merge record itself
 * (which carries the survivor's id, so makes it "known") was folded. */
static int start_merge(pipeline_t *p, const contact_state_t *survivor, const hf_event_t *ev,
                       bool known_before)
{
    const char *loser = ev->merged_contact_id;
    const char *survivor_id = contact_state_id(survivor);
    if (!loser || hf_id_blocked(loser) || strcmp(loser, survivor_id) == 0)
        return 0;
    hf_merge_request_t req = {
        .event_id = ev->event_id,
        .at_ms = ev->occurred_at_ms,
        .survivor_id = survivor_id,
        .loser_id = loser,
        .survivor_known = known_before,
        .bounced = false,
    };
    hf_buf_reset(&p->enc_buf);
    int r = codec_encode_merge_request(p->enc_codec, &req, &p->enc_buf);
    if (r < 0)
        return r;
    return deliver(p, ROLE_BY_CONTACT, loser, p->enc_buf.data, p->enc_buf.len, req.at_ms);
}

static int stage_account_sales(pipeline_t *p, const rd_kafka_message_t *origin, role_t role,
                               const hf_event_t *ev, const void *raw, size_t len, bool direct);

/* Stage 2: the contact journey.  @direct: the record came from an input topic
 * keyed by contact (not from the repartition topic or the mailbox), so it is
 * processed here only if it sits on the partition murmur2 assigns to its contact;
 * otherwise it is re-keyed, so that a producer with another partitioner cannot
 * split a journey across instances. */
static int stage_journey(pipeline_t *p, const rd_kafka_message_t *origin, role_t role,
                         const hf_event_t *ev, const void *raw, size_t len, const char *contact,
                         bool direct)
{
    if (ev->kind == HF_EV_SALES && ev->entity_type == HF_ENTITY_ACCOUNT)
        return stage_account_sales(p, origin, role, ev, raw, len, direct);
    if (!contact || hf_id_blocked(contact)) {
        const char *named = ev->kind == HF_EV_SALES ? ev->entity_id : ev->contact_id;
        return dead_letter(p, origin, "blocked_id", "contact id is missing or blocked (%s%s%s)",
                           named ? "\"" : "", named ? named : "null", named ? "\"" : "");
    }
    if (direct && kafka_murmur2_partition(contact, strlen(contact), p->role_partitions[role]) !=
                      origin->partition)
        return forward_input(p, ROLE_BY_CONTACT, contact, raw, len);

    int r;
    cache_entry_t *e = state_of(p, p->contact_cache, origin, contact, new_contact, &r);
    if (!e)
        return r > 0 ? 0 : r;
    hf_sink_t sink;
    bool known_before = contact_state_known(e->state);
    bool owed_before = contact_state_summary_pending(e->state);
    r = contact_fold(e->state, ev, p->cfg->rules, p->clock(p->clock_opaque), stage_sink(p, &sink));
    if (r < 0)
        return r;
    if (!owed_before) {
        int t = track_owed(p, e->state);
        if (t < 0)
            return t;
    }
    int t = note_due(p, HF_ENTITY_CONTACT, contact, contact_state_next_due(e->state));
    if (t < 0)
        return t;
    switch ((contact_fold_result_t)r) {
    case CONTACT_FOLD_DUPLICATE:
        p->ctr[M_DUPLICATES]++;
        return 0;
    case CONTACT_FOLD_UNKNOWN_HANDOFF:
        cache_entry_touch(e); /* the event id is remembered: a repeat is a repeat */
        return dead_letter(p, origin, "unknown_handoff",
                           "sales activity for contact %s names handoff %s, which is none of "
                           "its handoffs (cycles 1..%u)",
                           contact, ev->handoff_id, (unsigned)contact_state_cycle(e->state));
    case CONTACT_FOLD_REDIRECT: {
        /* Merged away: the survivor's journey gets it (and drops a repeat). */
        p->ctr[M_REDIRECTED]++;
        const char *survivor = contact_state_redirect(e->state);
        return forward_input(p, ROLE_BY_CONTACT, survivor, raw, len);
    }
    case CONTACT_FOLD_APPLIED:
        break;
    }
    cache_entry_touch(e);
    p->ctr[M_FOLDED]++;
    p->run_folded++;
    if (ev->kind == HF_EV_SALES) {
        p->ctr[M_FEEDBACK]++;
        return 0;
    }
    if (ev->kind == HF_EV_IDENTITY && ev->identity_kind == HF_IDENTITY_MERGE)
        return start_merge(p, e->state, ev, known_before);
    return 0;
}

static int roster_in(pipeline_t *p, const rd_kafka_message_t *origin, const char *contact,
                     const hf_roster_t *roster)
{
    int r;
    cache_entry_t *e = state_of(p, p->contact_cache, origin, contact, NULL, &r);
    if (!e)
        return r > 0 ? 0 : r; /* no journey (yet): nothing to show it to */
    if (contact_state_redirect(e->state))
        return 0; /* its survivor gets rosters of its own */
    r = contact_apply_roster(e->state, roster);
    if (r < 0)
        return r;
    cache_entry_touch(e);
    return 0;
}

/* At the loser's partition: hand the journey over to the survivor and leave a
 * redirect behind.  The known contact always survives an anonymous one: when the
 * named survivor is not known and the loser is, the request bounces with the roles
 * swapped. */
static int merge_request_in(pipeline_t *p, const rd_kafka_message_t *origin,
                            const hf_merge_request_t *req)
{
    int r;
    cache_entry_t *e = state_of(p, p->contact_cache, origin, req->loser_id, new_contact, &r);
    if (!e)
        return r > 0 ? 0 : r;
    contact_state_t *loser = e->state;
    const char *already = contact_state_redirect(loser);
    if (already) {
        if (strcmp(already, req->survivor_id) != 0)
            log_warn(LOG_PIPE, "merge of %s into %s ignored: already merged into %s", req->loser_id,
                     req->survivor_id, already);
        return 0; /* a repeat, or an earlier merge won */
    }
    if (!req->bounced && !req->survivor_known && contact_state_known(loser)) {
        hf_merge_request_t swapped = *req;
        swapped.survivor_id = req->loser_id;
        swapped.loser_id = req->survivor_id;
        swapped.survivor_known = true;
        swapped.bounced = true;
        hf_buf_reset(&p->enc_buf);
        if ((r = codec_encode_merge_request(p->enc_codec, &swapped, &p->enc_buf)) < 0)
            return r;
        return deliver(p, ROLE_BY_CONTACT, swapped.loser_id, p->enc_buf.data, p->enc_buf.len,
                       req->at_ms);
    }
    /* Carry a snapshot of the whole journey to the survivor's partition. */
    hf_buf_t state = HF_BUF_INIT;
    if ((r = contact_state_encode(loser, &state)) == 0) {
        hf_merge_state_t ms = {
            .event_id = req->event_id,
            .at_ms = req->at_ms,
            .survivor_id = req->survivor_id,
            .loser_id = req->loser_id,
            .state = state.data,
            .state_len = state.len,
        };
        hf_buf_reset(&p->enc_buf);
        r = codec_encode_merge_state(p->enc_codec, &ms, &p->enc_buf);
    }
    hf_buf_free(&state);
    if (r == 0)
        r = deliver(p, ROLE_BY_CONTACT, req->survivor_id, p->enc_buf.data, p->enc_buf.len,
                    req->at_ms);
    if (r == 0)
        r = contact_state_make_redirect(loser, req->survivor_id);
    if (r == 0)
        r = note_due(p, HF_ENTITY_CONTACT, req->loser_id, 0);
    if (r == 0)
        cache_entry_touch(e);
    return r;
}

/* At the survivor's partition: fold the loser's journey in. */
static int merge_state_in(pipeline_t *p, const rd_kafka_message_t *origin,
                          const hf_merge_state_t *ms, const void *raw, size_t len)
{
    int r;
    cache_entry_t *e = state_of(p, p->contact_cache, origin, ms->survivor_id, new_contact, &r);
    if (!e)
        return r > 0 ? 0 : r;
    const char *moved = contact_state_redirect(e->state);
    if (moved) /* the survivor was merged away meanwhile: its own survivor takes over */
        return deliver(p, ROLE_BY_CONTACT, moved, raw, len, ms->at_ms);
    contact_state_t *loser = NULL;
    r = contact_state_decode(&loser, ms->state, ms->state_len);
    if (r > 0)
        return dead_letter(p, origin, "state_corrupt", "merged journey of %s does not decode",
                           ms->loser_id);
    if (r < 0)
        return r;
    hf_sink_t sink;
    bool owed_before = contact_state_summary_pending(e->state);
    r = contact_merge(e->state, loser, p->cfg->rules, ms->at_ms, p->clock(p->clock_opaque),
                      stage_sink(p, &sink));
    contact_state_free(loser);
    if (r < 0)
        return r;
    int d = note_due(p, HF_ENTITY_CONTACT, ms->survivor_id, contact_state_next_due(e->state));
    if (d < 0)
        return d;
    if (!owed_before) {
        int t = track_owed(p, e->state);
        if (t < 0)
            return t;
    }
    if (r == CONTACT_MERGE_REPEAT) {
        p->ctr[M_DUPLICATES]++;
        log_info(LOG_PIPE, "journey of %s for %s again: a repeat, dropped", ms->loser_id,
                 ms->survivor_id);
        return 0;
    }
    cache_entry_touch(e);
    p->ctr[M_MERGES]++;
    log_info(LOG_PIPE, "contact %s merged into %s", ms->loser_id, ms->survivor_id);
    return 0;
}

/* ---- stage 3 ----------------------------------------------------------------- */

static int stage_account(pipeline_t *p, const rd_kafka_message_t *origin,
                         const hf_member_update_t *u)
{
    if (!u->account_id || hf_id_blocked(u->account_id))
        return dead_letter(p, origin, "blocked_id", "member update without an account");
    int r;
    cache_entry_t *e = state_of(p, p->account_cache, origin, u->account_id, new_account, &r);
    if (!e)
        return r > 0 ? 0 : r;
    hf_sink_t sink;
    r = account_fold_member(e->state, u, p->cfg->rules, p->clock(p->clock_opaque),
                            stage_sink(p, &sink));
    if (r < 0)
        return r;
    if (r == ACCOUNT_FOLD_APPLIED)
        cache_entry_touch(e);
    return note_due(p, HF_ENTITY_ACCOUNT, u->account_id, account_state_next_due(e->state));
}

/* Sales activity for an account: stage 3's.  @direct as for stage_journey(). */
static int stage_account_sales(pipeline_t *p, const rd_kafka_message_t *origin, role_t role,
                               const hf_event_t *ev, const void *raw, size_t len, bool direct)
{
    const char *account = ev->entity_id;
    if (!account || hf_id_blocked(account))
        return dead_letter(p, origin, "blocked_id", "account id is missing or blocked (%s%s%s)",
                           account ? "\"" : "", account ? account : "null", account ? "\"" : "");
    (void)role;
    /* from sales.activity: to the account's stage-3 partition (the mailbox when this
     * process owns it, which it does for a record partitioned by murmur2) */
    if (direct)
        return forward_input(p, ROLE_BY_ACCOUNT, account, raw, len);
    int r;
    cache_entry_t *e = state_of(p, p->account_cache, origin, account, new_account, &r);
    if (!e)
        return r > 0 ? 0 : r;
    hf_sink_t sink;
    r = account_fold_sales(e->state, ev, p->cfg->rules, p->clock(p->clock_opaque),
                           stage_sink(p, &sink));
    if (r < 0)
        return r;
    if (r == ACCOUNT_FOLD_DUPLICATE) {
        p->ctr[M_DUPLICATES]++;
        return 0;
    }
    cache_entry_touch(e);
    int t = note_due(p, HF_ENTITY_ACCOUNT, account, account_state_next_due(e->state));
    if (t < 0)
        return t;
    if (r == ACCOUNT_FOLD_UNKNOWN_HANDOFF)
        return dead_letter(p, origin, "unknown_handoff",
                           "sales activity for account %s names handoff %s, which is none of "
                           "its handoffs (cycles 1..%u)",
                           account, ev->handoff_id, (unsigned)account_state_cycle(e->state));
    p->ctr[M_FEEDBACK]++;
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* A record on a repartition topic, consumed or from the mailbox: @key is the
 * stage's key; @origin is what a dead letter names. */
static int process_rekeyed(pipeline_t *p, const rd_kafka_message_t *origin, role_t role,
                           const char *key, const void *value, size_t len)
{
    char why[400];
    int kind = codec_internal_kind(p->codec, value, len);
    if (kind >= 0) {
        hf_internal_t in;
        int r = codec_decode_internal(p->codec, value, len, &in, why, sizeof(why));
        if (r > 0)
            return dead_letter(p, origin, codec_error_name(r), "%s", why);
        if (r < 0)
            return r;
        if (role == ROLE_BY_ACCOUNT && in.kind == CODEC_INTERNAL_MEMBER_UPDATE)
            return stage_account(p, origin, &in.member);
        if (role == ROLE_BY_CONTACT && in.kind == CODEC_INTERNAL_ROSTER)
            return roster_in(p, origin, key, &in.roster);
        if (role == ROLE_BY_CONTACT && in.kind == CODEC_INTERNAL_MERGE_REQUEST)
            return merge_request_in(p, origin, &in.merge_request);
        if (role == ROLE_BY_CONTACT && in.kind == CODEC_INTERNAL_MERGE_STATE)
            return merge_state_in(p, origin, &in.merge_state, value, len);
        return dead_letter(p, origin, "wrong_topic", "an internal record of kind %d on %s", kind,
                           p->role_topic[role]);
    }

    hf_event_t ev;
    int r = codec_decode_input(p->codec, value, len, &ev, why, sizeof(why));
    if (r > 0)
        return dead_letter(p, origin, codec_error_name(r), "%s", why);
    if (r < 0)
        return r;
    switch (role) {
    case ROLE_BY_ANON:
        if (ev.kind != HF_EV_WEB_VISIT && ev.kind != HF_EV_FORM && ev.kind != HF_EV_IDENTITY)
            break;
        return stage_resolve(p, origin, &ev, value, len);
    case ROLE_BY_CONTACT:
        return stage_journey(p, origin, role, &ev, value, len, key, false);
    case ROLE_BY_ACCOUNT:
        if (ev.kind != HF_EV_SALES || ev.entity_type != HF_ENTITY_ACCOUNT)
            break;
        return stage_account_sales(p, origin, role, &ev, value, len, false);
    default:
        break;
    }
    return dead_letter(p, origin, "wrong_topic", "a %s record does not belong on %s",
                       hf_event_record_name(ev.kind), p->role_topic[role]);
}

/* An input record of one of the seven input topics. */
static int process_input(pipeline_t *p, const rd_kafka_message_t *m, role_t role)
{
    hf_event_t ev;
    char why[400];
    int r = codec_decode_input(p->codec, m->payload, m->len, &ev, why, sizeof(why));
    if (r > 0)
        return dead_letter(p, m, codec_error_name(r), "%s", why);
    if (r < 0) {
        pipeline_fail(p, "decoder: %s", why);
        return r;
    }
    p->current_ts = ev.occurred_at_ms;
    if (ev.kind != stages_role_kind[role])
        return dead_letter(p, m, "wrong_topic", "a %s record does not belong on %s",
                           hf_event_record_name(ev.kind), rd_kafka_topic_name(m->rkt));

    switch (role) {
    case ROLE_WEB:
    case ROLE_FORM:
        return stage_resolve(p, m, &ev, m->payload, m->len);
    case ROLE_IDENTITY:
        if (ev.anonymous_id && !hf_id_blocked(ev.anonymous_id))
            /* Keyed by contact here; stage 1 needs it keyed by anonymous id. */
            return forward_input(p, ROLE_BY_ANON, ev.anonymous_id, m->payload, m->len);
        return stage_journey(p, m, role, &ev, m->payload, m->len, ev.contact_id, true);
    default:
        return stage_journey(p, m, role, &ev, m->payload, m->len, hf_event_contact_key(&ev), true);
    }
}

/* Processes the mailbox in order, at most @budget records: more means records that
 * keep setting each other off, a loop. */
static int drain(pipeline_t *p, const rd_kafka_message_t *origin, unsigned budget)
{
    int r = 0;
    for (unsigned n = 0; r >= 0 && p->mail_count && !p->fatal; n++) {
        if (n == budget) {
            pipeline_fail(p, "%s [%" PRId32 "] @%" PRId64 " set off more than %u records: a loop",
                          rd_kafka_topic_name(origin->rkt), origin->partition, origin->offset,
                          budget);
            return -ELOOP;
        }
        mail_t mail = p->mail[p->mail_head];
        p->mail_head = (p->mail_head + 1) % p->mail_cap;
        p->mail_count--;
        r = process_rekeyed(p, origin, mail.role, mail.key, mail.value, mail.value_len);
        free(mail.key);
        free(mail.value);
    }
    return r;
}

int stages_process(pipeline_t *p, const rd_kafka_message_t *m, role_t role)
{
    p->current_msg = m;
    if (!m->payload || codec_peek_time(p->codec, m->payload, m->len, &p->current_ts) < 0)
        p->current_ts = 0;
    int r;
    if (!m->payload) {
        r = dead_letter(p, m, "empty", "record has no value");
    } else if (role == ROLE_BY_ANON || role == ROLE_BY_CONTACT || role == ROLE_BY_ACCOUNT) {
        /* The key is the stage's key: replayed anonymous history carries none. */
        if (!m->key || m->key_len == 0 || memchr(m->key, 0, m->key_len)) {
            r = dead_letter(p, m, "blocked_id", "repartitioned record without a valid key");
        } else {
            hf_buf_reset(&p->key_buf);
            if (hf_buf_append(&p->key_buf, m->key, m->key_len) < 0)
                return -ENOMEM;
            r = process_rekeyed(p, m, role, (const char *)p->key_buf.data, m->payload, m->len);
        }
    } else {
        r = process_input(p, m, role);
    }

    /* Then everything it set off in this process, in order. */
    if (r >= 0)
        r = drain(p, m, MAILBOX_MAX_PER_RECORD);
    if (r < 0)
        stages_mail_clear(p);
    return r < 0 ? r : 0;
}

int stages_flush_owed(pipeline_t *p)
{
    if (!p->owed_count)
        return 0;
    /* What goes wrong from here on names the internal topic, at no offset: the
     * records were made inside the process at commit time. */
    static char nothing[1];
    rd_kafka_message_t origin = {
        .rkt = p->out_rkt[OUT_BY_ACCOUNT],
        .partition = RD_KAFKA_PARTITION_UA,
        .offset = RD_KAFKA_OFFSET_INVALID,
        .payload = nothing, /* no original bytes: an empty value, never NULL */
        .len = 0,
    };
    hf_sink_t sink;
    stage_sink(p, &sink);
    int r = 0;
    size_t sent = 0;
    for (size_t i = 0; i < p->owed_count && r >= 0; i++) {
        cache_entry_t *e;
        r = cache_get(p->contact_cache, p->owed[i], &e, p->errbuf, sizeof(p->errbuf));
        if (r > 0) { /* cannot be: the entry is dirty, so still in memory */
            pipeline_fail(p, "%s", p->errbuf);
            r = -EIO;
        }
        if (r == 0 && e->state)
            r = contact_flush_summary(e->state, p->cfg->rules, &sink);
        /* keep the mailbox short: drain every so often */
        if (r >= 0 && ++sent % 1024 == 0)
            r = drain(p, &origin, MAILBOX_MAX_PER_RECORD * 1024u);
    }
    if (r >= 0)
        r = drain(p, &origin, MAILBOX_MAX_PER_RECORD * 1024u);
    owed_clear(p);
    if (r < 0)
        stages_mail_clear(p);
    return r < 0 ? r : 0;
}

/* ---- SLA clocks ---------------------------------------------------------------- */

bool stages_owns(pipeline_t *p, hf_entity_type_t type, const char *id)
{
    role_t role = type == HF_ENTITY_ACCOUNT ? ROLE_BY_ACCOUNT : ROLE_BY_CONTACT;
    int32_t part = kafka_murmur2_partition(id, strlen(id), p->role_partitions[role]);
    return p->assigned[queue_index(p, role, part)];
}

/* What goes wrong while clocks fire names the internal topic of the entity's stage
 * at no offset: nothing was consumed. */
static rd_kafka_message_t timer_origin(pipeline_t *p, hf_entity_type_t type)
{
    static char nothing[1];
    return (rd_kafka_message_t){
        .rkt = p->out_rkt[type == HF_ENTITY_ACCOUNT ? OUT_BY_ACCOUNT : OUT_BY_CONTACT],
        .partition = RD_KAFKA_PARTITION_UA,
        .offset = RD_KAFKA_OFFSET_INVALID,
        .payload = nothing,
        .len = 0,
    };
}

/* The cached state of a timer's entity, or NULL with *r as for state_of(). */
static cache_entry_t *timer_entity(pipeline_t *p, hf_entity_type_t type, const char *id,
                                   const rd_kafka_message_t *origin, int *r)
{
    cache_t *cache = type == HF_ENTITY_ACCOUNT ? p->account_cache : p->contact_cache;
    return state_of(p, cache, origin, id, NULL, r);
}

static int64_t next_due_of(hf_entity_type_t type, const void *state)
{
    return type == HF_ENTITY_ACCOUNT ? account_state_next_due(state)
                                     : contact_state_next_due(state);
}

int stages_fire_timers(pipeline_t *p, int64_t now_ms, unsigned max)
{
    hf_entity_type_t type;
    const char *popped;
    hf_sink_t sink;
    stage_sink(p, &sink);
    int r = 0;
    for (unsigned n = 0; r >= 0 && n < max && timers_pop_due(p->timers, now_ms, &type, &popped);
         n++) {
        char id[4096];
        snprintf(id, sizeof id, "%s", popped);
        rd_kafka_message_t origin = timer_origin(p, type);
        p->current_msg = &origin;
        p->current_ts = now_ms;
        cache_entry_t *e = timer_entity(p, type, id, &origin, &r);
        if (!e) {
            r = r > 0 ? 0 : r; /* gone or corrupt (dead-lettered): nothing to fire */
            continue;
        }
        p->ctr[M_TIMERS_FIRED]++;
        bool owed_before = type == HF_ENTITY_CONTACT && contact_state_summary_pending(e->state);
        r = type == HF_ENTITY_ACCOUNT ? account_sla_fire(e->state, p->cfg->rules, now_ms, &sink)
                                      : contact_sla_fire(e->state, p->cfg->rules, now_ms, &sink);
        if (r < 0)
            break;
        cache_entry_touch(e);
        /* never again for the same instant: a clock that cannot move on stops here */
        int64_t next = next_due_of(type, e->state);
        r = note_due(p, type, id, next > now_ms ? next : 0);
        if (r == 0 && type == HF_ENTITY_CONTACT && !owed_before)
            r = track_owed(p, e->state); /* a recycle changed its stage */
        if (r == 0)
            r = drain(p, &origin, MAILBOX_MAX_PER_RECORD);
    }
    p->current_msg = NULL;
    if (r < 0)
        stages_mail_clear(p);
    return r < 0 ? r : 0;
}

/* The entities of the timers index, copied out (rescheduling changes the index). */
typedef struct due_list {
    struct due_item {
        hf_entity_type_t type;
        char *id;
    } * items;
    size_t n, cap;
} due_list_t;

static int collect_due(void *opaque, hf_entity_type_t type, const char *id)
{
    due_list_t *c = opaque;
    struct due_item *g = vec_grow(c->items, &c->cap, c->n + 1, sizeof *g);
    if (!g)
        return -ENOMEM;
    c->items = g;
    if (!(c->items[c->n].id = strdup(id)))
        return -ENOMEM;
    c->items[c->n++].type = type;
    return 0;
}

static int reschedule_one(pipeline_t *p, hf_entity_type_t type, const char *id)
{
    rd_kafka_message_t origin = timer_origin(p, type);
    int r;
    cache_entry_t *e = timer_entity(p, type, id, &origin, &r);
    if (!e)
        return r < 0 ? r : 0;
    bool changed = type == HF_ENTITY_ACCOUNT ? account_sla_reschedule(e->state, p->cfg->rules)
                                             : contact_sla_reschedule(e->state, p->cfg->rules);
    if (!changed)
        return 0;
    cache_entry_touch(e);
    return note_due(p, type, id, next_due_of(type, e->state));
}

int stages_reschedule(pipeline_t *p)
{
    due_list_t c = {0};
    int r = timers_each(p->timers, collect_due, &c);
    for (size_t i = 0; i < c.n; i++) {
        if (r == 0)
            r = reschedule_one(p, c.items[i].type, c.items[i].id);
        free(c.items[i].id);
    }
    free(c.items);
    if (r < 0 && !p->fatal)
        pipeline_fail(p, "rescheduling SLA clocks: %s", strerror(-r));
    return r;
}
