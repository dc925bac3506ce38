#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mailbox.h"
#include "stage_kit.h"
#include "tmp_store.h"

static int64_t kit_clock(void *opaque)
{
    return ((kit_t *)opaque)->now_ms;
}

static int kit_produce(void *opaque, stage_out_t out, int32_t partition, int64_t timestamp_ms,
                       const void *key, size_t key_len, const void *value, size_t value_len,
                       char *err, size_t errsz)
{
    kit_t *k = opaque;
    if (k->fail_produce) {
        snprintf(err, errsz, "the test's output refuses records");
        return k->fail_produce;
    }
    if (k->record_count == k->record_cap) {
        k->record_cap = k->record_cap ? 2 * k->record_cap : 16;
        k->records = realloc(k->records, k->record_cap * sizeof(*k->records));
        assert_non_null(k->records);
    }
    kit_record_t *r = &k->records[k->record_count++];
    r->out = out;
    r->partition = partition;
    r->timestamp_ms = timestamp_ms;
    r->key = key ? strndup(key, key_len) : NULL;
    r->value = malloc(value_len ? value_len : 1);
    assert_non_null(r->value);
    memcpy(r->value, value, value_len);
    r->value_len = value_len;
    return 0;
}

/* FNV-1a: any stable spread of keys over the partitions does. */
static int32_t kit_partition(void *opaque, stage_role_t role, const char *key)
{
    kit_t *k = opaque;
    (void)role;
    uint32_t h = 2166136261u;
    for (const char *c = key; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return (int32_t)(h % (uint32_t)k->partitions);
}

static bool kit_owns(void *opaque, stage_role_t role, int32_t partition)
{
    kit_t *k = opaque;
    assert_true(partition >= 0 && partition < k->partitions);
    return !k->remote[role];
}

static void open_codecs(kit_t *k)
{
    static const uint8_t key[32] = "a key for the e-mail hashes....";
    codec_opts_t opts = {.email_key = key, .email_key_len = sizeof key};
    char err[256];
    assert_int_equal(codec_new(&k->codec, &opts, err, sizeof err), 0);
    assert_int_equal(codec_new(&k->enc_codec, &opts, err, sizeof err), 0);
}

static void open_ctx(kit_t *k)
{
    stage_ctx_t *c = &k->ctx;
    c->rules = &k->cfg->rules;
    c->clock = kit_clock;
    c->clock_opaque = k;
    c->codec = k->codec;
    c->enc_codec = k->enc_codec;
    c->anon_cache = k->anon_cache;
    c->contact_cache = k->contact_cache;
    c->account_cache = k->account_cache;
    c->timers = k->timers;
    c->metrics = k->metrics;
    c->out = (stage_output_t){k, kit_produce, kit_partition, kit_owns};
    const hf_topics_t *t = &k->cfg->topics;
    const char *topics[ROLE__COUNT] = {
        t->web_visits,       t->form_submissions, t->content_downloads, t->webinar_attendance,
        t->email_engagement, t->identity,         t->sales_activity,    t->by_anonymous,
        t->by_contact,       t->by_account,
    };
    memcpy(c->role_topic, topics, sizeof topics);
    c->err = k->err;
    c->errsz = sizeof k->err;
    assert_int_equal(stage_ctx_init(c), 0);
}

kit_t *kit_new(const char *yaml)
{
    kit_t *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    tmp_store_t tmp;
    tmp_store_open(&tmp);
    memcpy(k->dir, tmp.dir, sizeof k->dir);
    k->store = tmp.store;
    hf_buf_t errors = HF_BUF_INIT;
    const char *text = yaml ? yaml : "";
    int r = config_load_string(&k->cfg, "kit.yaml", text, strlen(text), &errors);
    if (r != 0)
        print_error("%s\n", errors.data ? (char *)errors.data : "");
    assert_int_equal(r, 0);
    hf_buf_free(&errors);
    open_codecs(k);
    k->anon_cache = cache_new(&stage_anon_ops, k->store, STORE_CF_IDENTITY, 1000);
    k->contact_cache = cache_new(&stage_contact_ops, k->store, STORE_CF_CONTACT, 1000);
    k->account_cache = cache_new(&stage_account_ops, k->store, STORE_CF_ACCOUNT, 1000);
    k->timers = timers_new();
    k->metrics = metrics_new();
    assert_true(k->anon_cache && k->contact_cache && k->account_cache && k->timers && k->metrics);
    k->ctr = metrics_counters(k->metrics);
    k->partitions = 1;
    k->now_ms = KIT_T0;
    open_ctx(k);
    return k;
}

void kit_free(kit_t *k)
{
    stage_ctx_release(&k->ctx);
    for (size_t i = 0; i < k->record_count; i++) {
        free(k->records[i].key);
        free(k->records[i].value);
    }
    free(k->records);
    cache_free(k->anon_cache);
    cache_free(k->contact_cache);
    cache_free(k->account_cache);
    timers_free(k->timers);
    metrics_free(k->metrics);
    codec_free(k->codec);
    codec_free(k->enc_codec);
    config_free(k->cfg);
    hf_buf_free(&k->buf);
    tmp_store_t tmp = {.store = k->store};
    memcpy(tmp.dir, k->dir, sizeof tmp.dir);
    tmp_store_remove(&tmp);
    free(k);
}

int kit_consume_bytes(kit_t *k, stage_role_t role, const char *key, const void *value, size_t len)
{
    stage_origin_t m = {
        .topic = k->ctx.role_topic[role],
        .partition = 0,
        .offset = k->next_offset++,
        .key = key,
        .key_len = key ? strlen(key) : 0,
        .value = value,
        .value_len = len,
    };
    int r = stage_process(&k->ctx, &m, role);
    /* after every record, whatever happened: nothing stays in the mailbox */
    assert_int_equal(mailbox_count(k->ctx.mailbox), 0);
    return r;
}

int kit_consume(kit_t *k, stage_role_t role, const hf_event_t *ev, const char *key)
{
    hf_buf_reset(&k->buf);
    assert_int_equal(codec_encode_input(k->codec, ev, &k->buf), 0);
    return kit_consume_bytes(k, role, key, k->buf.data, k->buf.len);
}

size_t kit_count(const kit_t *k, stage_out_t out)
{
    size_t n = 0;
    for (size_t i = 0; i < k->record_count; i++)
        n += k->records[i].out == out;
    return n;
}

const kit_record_t *kit_nth(const kit_t *k, stage_out_t out, size_t n)
{
    for (size_t i = 0; i < k->record_count; i++)
        if (k->records[i].out == out && n-- == 0)
            return &k->records[i];
    return NULL;
}

char *kit_json(kit_t *k, const kit_record_t *r)
{
    assert_non_null(r);
    hf_buf_t json = HF_BUF_INIT;
    char err[256];
    assert_int_equal(codec_record_to_json(k->codec, r->value, r->value_len, &json, err, sizeof err),
                     0);
    return (char *)json.data;
}

static void *cached(kit_t *k, cache_t *cache, const char *id)
{
    cache_entry_t *e;
    char err[256];
    assert_int_equal(cache_get(cache, id, &e, err, sizeof err), 0);
    return e->state;
}

contact_state_t *kit_contact(kit_t *k, const char *id)
{
    return cached(k, k->contact_cache, id);
}

account_state_t *kit_account(kit_t *k, const char *id)
{
    return cached(k, k->account_cache, id);
}

void kit_store_put(kit_t *k, int cf, const char *key, const void *value, size_t len)
{
    char err[256];
    store_batch_t *b = store_batch_new(k->store);
    assert_non_null(b);
    store_batch_put(b, (store_cf_t)cf, key, strlen(key), value, len);
    assert_int_equal(store_write(k->store, b, err, sizeof err), 0);
    store_batch_free(b);
}

static hf_event_t envelope(hf_event_kind_t kind, const char *event_id, int64_t at_ms)
{
    return (hf_event_t){
        .kind = kind, .event_id = event_id, .occurred_at_ms = at_ms, .source = "test"};
}

hf_event_t kit_visit(const char *event_id, int64_t at_ms, const char *anonymous_id,
                     const char *contact_id, const char *url)
{
    hf_event_t ev = envelope(HF_EV_WEB_VISIT, event_id, at_ms);
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    ev.session_id = "s-1";
    ev.url = url;
    ev.duration_ms = 60000;
    return ev;
}

hf_event_t kit_form(const char *event_id, int64_t at_ms, const char *anonymous_id,
                    const char *contact_id, hf_form_type_t type, const char *email)
{
    hf_event_t ev = envelope(HF_EV_FORM, event_id, at_ms);
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    ev.form_id = "f-1";
    ev.form_type = type;
    ev.traits.present = true;
    ev.traits.email = email;
    return ev;
}

hf_event_t kit_identify(const char *event_id, int64_t at_ms, const char *anonymous_id,
                        const char *contact_id)
{
    hf_event_t ev = envelope(HF_EV_IDENTITY, event_id, at_ms);
    ev.identity_kind = HF_IDENTITY_IDENTIFY;
    ev.anonymous_id = anonymous_id;
    ev.contact_id = contact_id;
    return ev;
}

hf_event_t kit_merge(const char *event_id, int64_t at_ms, const char *survivor, const char *loser)
{
    hf_event_t ev = envelope(HF_EV_IDENTITY, event_id, at_ms);
    ev.identity_kind = HF_IDENTITY_MERGE;
    ev.contact_id = survivor;
    ev.merged_contact_id = loser;
    return ev;
}

hf_event_t kit_sales(const char *event_id, int64_t at_ms, hf_entity_type_t type,
                     const char *entity_id, hf_sales_action_t action, const char *handoff_id)
{
    hf_event_t ev = envelope(HF_EV_SALES, event_id, at_ms);
    ev.entity_type = type;
    ev.entity_id = entity_id;
    ev.sales_action = action;
    ev.handoff_id = handoff_id;
    ev.owner_id = "rep-1";
    return ev;
}
