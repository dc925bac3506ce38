/* The context of the stages, and the dispatch of a record to its stage: by the
 * topic it came from and, on a repartition topic, by the kind of record.  Records
 * move between stages by key (stage_deliver()): to the partition's owner through a
 * repartition topic, or, when this process owns it, through the mailbox, drained
 * right after the input record that set them off. */
#include "stage.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/identity/identity.h"
#include "dlq.h"
#include "mailbox.h"
#include "merge.h"
#include "stage_account.h"
#include "stage_contact.h"
#include "stage_digest.h"
#include "stage_resolve.h"

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
const cache_ops_t stage_anon_ops = {anon_encode, anon_decode, anon_free};

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
const cache_ops_t stage_contact_ops = {contact_encode, contact_decode, contact_free};

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
const cache_ops_t stage_account_ops = {account_encode, account_decode, account_free};

/* The kind of record each input topic carries. */
static const hf_event_kind_t role_kind[ROLE__COUNT] = {
    [ROLE_WEB] = HF_EV_WEB_VISIT,     [ROLE_FORM] = HF_EV_FORM,
    [ROLE_DOWNLOAD] = HF_EV_DOWNLOAD, [ROLE_WEBINAR] = HF_EV_WEBINAR,
    [ROLE_EMAIL] = HF_EV_EMAIL,       [ROLE_IDENTITY] = HF_EV_IDENTITY,
    [ROLE_SALES] = HF_EV_SALES,       [ROLE_BY_ANON] = HF_EV__COUNT,
    [ROLE_BY_CONTACT] = HF_EV__COUNT, [ROLE_BY_ACCOUNT] = HF_EV__COUNT,
};

/* ---- the context ------------------------------------------------------------- */

int stage_ctx_init(stage_ctx_t *c)
{
    assert(c->rules && c->clock && c->codec && c->enc_codec && c->metrics && c->timers);
    assert(c->out.produce && c->out.partition && c->out.owns && c->err && c->errsz);
    mailbox_t *mb = mailbox_new();
    if (!mb)
        return -ENOMEM;
    c->mailbox = mb;
    c->ctr = metrics_counters(c->metrics);
    if (!c->mail_budget)
        c->mail_budget = STAGE_MAIL_BUDGET;
    return 0;
}

void stage_ctx_release(stage_ctx_t *c)
{
    stage_abandon(c);
    mailbox_free(c->mailbox);
    c->mailbox = NULL;
    for (size_t i = 0; i < c->owed.part_count; i++)
        free(c->owed.parts[i].ids);
    free(c->owed.parts);
    c->owed = (stage_owed_t){0};
    hf_buf_free(&c->out_buf);
    hf_buf_free(&c->enc_buf);
    hf_buf_free(&c->key_buf);
}

void stage_abandon(stage_ctx_t *c)
{
    stage_contact_owed_clear(c);
    if (c->mailbox)
        mailbox_clear(c->mailbox);
}

int stage_fail(stage_ctx_t *c, int code, const char *fmt, ...)
{
    assert(code < 0);
    if (c->err[0])
        return code; /* an inner failure said why already */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errsz, fmt, ap);
    va_end(ap);
    return code;
}

int64_t stage_now_ms(const stage_ctx_t *c)
{
    return c->clock(c->clock_opaque);
}

const hf_rules_t *stage_rules(const stage_ctx_t *c)
{
    return *c->rules;
}

stage_origin_t stage_internal_origin(const stage_ctx_t *c, stage_role_t role)
{
    static const char nothing[1];
    return (stage_origin_t){
        .topic = c->role_topic[role],
        .partition = STAGE_NO_PARTITION,
        .offset = STAGE_NO_OFFSET,
        .value = nothing, /* no original bytes: an empty value, never NULL */
        .value_len = 0,
    };
}

bool stage_owns(stage_ctx_t *c, hf_entity_type_t type, const char *id)
{
    /* a team's digest state lives on the account stage's partitions */
    stage_role_t role =
        type == HF_ENTITY_ACCOUNT || type == TIMERS_TEAM ? ROLE_BY_ACCOUNT : ROLE_BY_CONTACT;
    return c->out.owns(c->out.opaque, role, c->out.partition(c->out.opaque, role, id));
}

cache_entry_t *stage_state_of(stage_ctx_t *c, cache_t *cache, const stage_origin_t *origin,
                              const char *key, void *(*create)(const char *key), int *r)
{
    cache_entry_t *e;
    char why[512];
    *r = cache_get(cache, key, &e, why, sizeof(why));
    if (*r > 0) {
        *r = dlq_send(c, origin, "state_corrupt", "%s", why);
        if (*r == 0)
            *r = 1;
        return NULL;
    }
    if (*r < 0) {
        *r = stage_fail(c, *r, "state store: %s", why);
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

/* ---- moving records between stages ------------------------------------------ */

int stage_deliver(stage_ctx_t *c, stage_role_t via, const char *key, const void *value, size_t len,
                  int64_t ts_ms)
{
    assert(via == ROLE_BY_ANON || via == ROLE_BY_CONTACT || via == ROLE_BY_ACCOUNT);
    int32_t part = c->out.partition(c->out.opaque, via, key);
    if (c->out.owns(c->out.opaque, via, part))
        return mailbox_push(c->mailbox, via, key, value, len);
    c->ctr[M_REMOTE]++;
    stage_out_t out = via == ROLE_BY_ANON      ? OUT_BY_ANON
                      : via == ROLE_BY_ACCOUNT ? OUT_BY_ACCOUNT
                                               : OUT_BY_CONTACT;
    return c->out.produce(c->out.opaque, out, part, ts_ms, key, strlen(key), value, len, c->err,
                          c->errsz);
}

int stage_forward_input(stage_ctx_t *c, stage_role_t via, const char *key, const void *raw,
                        size_t len)
{
    int64_t ts;
    if (codec_peek_time(c->codec, raw, len, &ts) < 0)
        ts = c->current_ts;
    c->ctr[M_FORWARDED]++;
    return stage_deliver(c, via, key, raw, len, ts);
}

/* ---- dispatch ---------------------------------------------------------------- */

/* An internal record (between stages) on the repartition topic of @role. */
static int process_internal(stage_ctx_t *c, const stage_origin_t *origin, stage_role_t role,
                            const char *key, const void *value, size_t len, int kind)
{
    char why[400];
    hf_internal_t in;
    int r = codec_decode_internal(c->codec, value, len, &in, why, sizeof(why));
    if (r > 0)
        return dlq_send(c, origin, codec_error_name(r), "%s", why);
    if (r < 0)
        return r;
    if (role == ROLE_BY_ACCOUNT && in.kind == CODEC_INTERNAL_MEMBER_UPDATE)
        return stage_account_member(c, origin, &in.member);
    if (role == ROLE_BY_ACCOUNT && in.kind == CODEC_INTERNAL_CASE_UPDATE)
        return stage_digest_case(c, origin, &in.case_update);
    if (role == ROLE_BY_CONTACT && in.kind == CODEC_INTERNAL_ROSTER)
        return stage_contact_roster(c, origin, key, &in.roster);
    if (role == ROLE_BY_CONTACT && in.kind == CODEC_INTERNAL_MERGE_REQUEST)
        return merge_request_in(c, origin, &in.merge_request);
    if (role == ROLE_BY_CONTACT && in.kind == CODEC_INTERNAL_MERGE_STATE)
        return merge_state_in(c, origin, &in.merge_state, value, len);
    return dlq_send(c, origin, "wrong_topic", "an internal record of kind %d on %s", kind,
                    c->role_topic[role]);
}

/* A record on a repartition topic, consumed or from the mailbox: @key is the
 * stage's key; @origin is what a dead letter names. */
static int process_rekeyed(stage_ctx_t *c, const stage_origin_t *origin, stage_role_t role,
                           const char *key, const void *value, size_t len)
{
    assert(role == ROLE_BY_ANON || role == ROLE_BY_CONTACT || role == ROLE_BY_ACCOUNT);
    int kind = codec_internal_kind(c->codec, value, len);
    if (kind >= 0)
        return process_internal(c, origin, role, key, value, len, kind);

    char why[400];
    hf_event_t ev;
    int r = codec_decode_input(c->codec, value, len, &ev, why, sizeof(why));
    if (r > 0)
        return dlq_send(c, origin, codec_error_name(r), "%s", why);
    if (r < 0)
        return r;
    switch (role) {
    case ROLE_BY_ANON:
        if (ev.kind != HF_EV_WEB_VISIT && ev.kind != HF_EV_FORM && ev.kind != HF_EV_IDENTITY)
            break;
        return stage_resolve(c, origin, &ev, value, len);
    case ROLE_BY_CONTACT:
        return stage_contact_event(c, origin, role, &ev, value, len, key, false);
    case ROLE_BY_ACCOUNT:
        if (ev.kind != HF_EV_SALES || ev.entity_type != HF_ENTITY_ACCOUNT)
            break;
        return stage_account_sales(c, origin, &ev, value, len, false);
    default:
        break;
    }
    return dlq_send(c, origin, "wrong_topic", "a %s record does not belong on %s",
                    hf_event_record_name(ev.kind), c->role_topic[role]);
}

/* A record of one of the seven input topics. */
static int process_input(stage_ctx_t *c, const stage_origin_t *m, stage_role_t role)
{
    assert(role < ROLE_BY_ANON && m->value);
    hf_event_t ev;
    char why[400];
    int r = codec_decode_input(c->codec, m->value, m->value_len, &ev, why, sizeof(why));
    if (r > 0)
        return dlq_send(c, m, codec_error_name(r), "%s", why);
    if (r < 0)
        return stage_fail(c, r, "decoder: %s", why);
    c->current_ts = ev.occurred_at_ms;
    if (ev.kind != role_kind[role])
        return dlq_send(c, m, "wrong_topic", "a %s record does not belong on %s",
                        hf_event_record_name(ev.kind), m->topic);

    switch (role) {
    case ROLE_WEB:
    case ROLE_FORM:
        return stage_resolve(c, m, &ev, m->value, m->value_len);
    case ROLE_IDENTITY:
        if (ev.anonymous_id && !hf_id_blocked(ev.anonymous_id))
            /* Keyed by contact here; stage 1 needs it keyed by anonymous id. */
            return stage_forward_input(c, ROLE_BY_ANON, ev.anonymous_id, m->value, m->value_len);
        return stage_contact_event(c, m, role, &ev, m->value, m->value_len, ev.contact_id, true);
    default:
        return stage_contact_event(c, m, role, &ev, m->value, m->value_len,
                                   hf_event_contact_key(&ev), true);
    }
}

int stage_drain(stage_ctx_t *c, const stage_origin_t *origin, unsigned budget)
{
    int r = 0;
    for (unsigned n = 0; r >= 0 && mailbox_count(c->mailbox); n++) {
        if (n == budget)
            return stage_fail(c, -ELOOP,
                              "%s [%" PRId32 "] @%" PRId64 " set off more than %u records: a loop",
                              origin->topic, origin->partition, origin->offset, budget);
        mailbox_mail_t mail;
        mailbox_pop(c->mailbox, &mail);
        r = process_rekeyed(c, origin, mail.role, mail.key, mail.value, mail.value_len);
        mailbox_mail_free(&mail);
    }
    return r;
}

/* A record of a repartition topic as consumed: its key is the stage's key. */
static int process_consumed_rekeyed(stage_ctx_t *c, const stage_origin_t *m, stage_role_t role)
{
    /* Replayed anonymous history carries none. */
    if (!m->key || m->key_len == 0 || memchr(m->key, 0, m->key_len))
        return dlq_send(c, m, "blocked_id", "repartitioned record without a valid key");
    hf_buf_reset(&c->key_buf);
    if (hf_buf_append(&c->key_buf, m->key, m->key_len) < 0)
        return -ENOMEM;
    return process_rekeyed(c, m, role, (const char *)c->key_buf.data, m->value, m->value_len);
}

int stage_process(stage_ctx_t *c, const stage_origin_t *m, stage_role_t role)
{
    if (!m->value || codec_peek_time(c->codec, m->value, m->value_len, &c->current_ts) < 0)
        c->current_ts = 0;
    int r;
    if (!m->value)
        r = dlq_send(c, m, "empty", "record has no value");
    else if (role == ROLE_BY_ANON || role == ROLE_BY_CONTACT || role == ROLE_BY_ACCOUNT)
        r = process_consumed_rekeyed(c, m, role);
    else
        r = process_input(c, m, role);

    /* Then everything it set off in this process, in order, and the summaries of
     * the contact partitions it made due. */
    if (r >= 0)
        r = stage_drain(c, m, c->mail_budget);
    if (r >= 0)
        r = stage_contact_flush_due(c);
    if (r < 0)
        stage_abandon(c);
    return r < 0 ? r : 0;
}
