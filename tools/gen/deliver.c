/* hf-gen's records on their way out; see deliver.h. */
#include "deliver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const blocked_ids[] = {"undefined", "null", "0"};

/* The record key of each input topic (docs/CONTRACTS.md). */
static const char *event_key(const hf_event_t *ev)
{
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
    case HF_EV_FORM:
        return ev->anonymous_id;
    case HF_EV_SALES:
        return ev->entity_id;
    default:
        return ev->contact_id;
    }
}

static void count_record(gen_counts_t *c, hf_event_kind_t kind, size_t bytes)
{
    c->per_kind[kind].records++;
    c->per_kind[kind].bytes += bytes;
    c->records++;
}

/* A variant of @ev with every entity id replaced by a blocked value. */
static void make_blocked(gen_ctx_t *g, hf_event_t *ev)
{
    const char *id = blocked_ids[gen_rng_below(&g->rng, 3)];
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
        ev->anonymous_id = id;
        ev->contact_id = NULL;
        break;
    case HF_EV_FORM:
        ev->anonymous_id = id;
        ev->contact_id = id;
        break;
    case HF_EV_SALES:
        ev->entity_id = id;
        break;
    default:
        ev->contact_id = id;
        ev->anonymous_id = NULL;
        break;
    }
}

/* A variant of @ev with one string over the field limit. */
static int make_oversized(gen_ctx_t *g, hf_event_t *ev)
{
    uint32_t limit = g->cfg->max_field_bytes ? g->cfg->max_field_bytes : 2048;
    char *big = gen_model_filler(g->model, (size_t)limit + 512, 'x');
    if (!big)
        return -ENOMEM;
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
    case HF_EV_FORM:
        ev->url = big;
        break;
    case HF_EV_IDENTITY:
        ev->traits.present = true;
        ev->traits.full_name = big;
        break;
    case HF_EV_DOWNLOAD:
        ev->asset_title = big;
        break;
    case HF_EV_WEBINAR:
        ev->webinar_title = big;
        break;
    case HF_EV_EMAIL:
        ev->link_url = big;
        break;
    case HF_EV_SALES:
    case HF_EV__COUNT:
        ev->reason = big;
        break;
    }
    return 0;
}

/* Sends one bad record next to the good event @good, on the same topic. */
static int send_bad(gen_ctx_t *g, const hf_event_t *good)
{
    gen_bad_kind_t kind = (gen_bad_kind_t)gen_rng_below(&g->rng, GEN_BAD__COUNT);
    hf_event_t ev = *good;
    char event_id[48];
    snprintf(event_id, sizeof(event_id), "bad-%016" PRIx64 "-%" PRIu64, g->opts->seed,
             ++g->bad_serial);
    ev.event_id = event_id;
    const char *key = event_key(good);
    hf_buf_reset(&g->buf);
    int r = 0;
    switch (kind) {
    case GEN_BAD_UNDECODABLE:
        r = codec_encode_input(g->codec, &ev, &g->buf);
        if (r == 0 && gen_rng_chance(&g->rng, 0.5)) {
            g->buf.len = 10 + (g->buf.len - 10) / 2; /* framing intact, body cut short */
        } else if (r == 0) {
            /* Not single-object encoding at all: a stray JSON payload. */
            hf_buf_reset(&g->buf);
            r = hf_buf_printf(&g->buf, "{\"event_id\":\"%s\",\"oops\":true}", event_id);
        }
        break;
    case GEN_BAD_BLOCKED_ID:
        make_blocked(g, &ev);
        key = event_key(&ev);
        r = codec_encode_input(g->codec, &ev, &g->buf);
        break;
    case GEN_BAD_UNKNOWN_FINGERPRINT:
        r = codec_encode_input(g->codec, &ev, &g->buf);
        if (r == 0 && g->buf.len >= 10) {
            uint64_t fp = gen_rng_next(&g->rng);
            for (int i = 0; i < 8; i++)
                g->buf.data[2 + i] = (uint8_t)(fp >> (8 * i));
        }
        break;
    case GEN_BAD_OVERSIZED:
        r = make_oversized(g, &ev);
        if (r == 0)
            r = codec_encode_input(g->codec, &ev, &g->buf);
        break;
    case GEN_BAD__COUNT:
        break;
    }
    if (r < 0) {
        snprintf(g->err, sizeof(g->err), "encoding a bad %s record: %s",
                 hf_event_kind_name(ev.kind), strerror(-r));
        return r;
    }
    r = gen_sink_send(g->sink, ev.kind, key, g->buf.data, g->buf.len, g->err, sizeof(g->err));
    if (r < 0)
        return r;
    g->counts.bad[kind]++;
    count_record(&g->counts, ev.kind, g->buf.len);
    return 0;
}

int gen_deliver_event(gen_ctx_t *g, const gen_record_t *rec)
{
    hf_event_t ev = rec->ev;
    if (g->opts->live)
        ev.occurred_at_ms = gen_clock_ms(CLOCK_REALTIME);
    hf_buf_reset(&g->buf);
    int r = codec_encode_input(g->codec, &ev, &g->buf);
    if (r < 0) {
        snprintf(g->err, sizeof(g->err), "encoding %s %s: %s", hf_event_kind_name(ev.kind),
                 ev.event_id, strerror(-r));
        return r;
    }
    const char *key = event_key(&ev);
    r = gen_sink_send(g->sink, ev.kind, key, g->buf.data, g->buf.len, g->err, sizeof(g->err));
    if (r < 0)
        return r;
    gen_counts_t *c = &g->counts;
    count_record(c, ev.kind, g->buf.len);
    c->events[ev.kind]++;
    if (ev.kind == HF_EV_FORM)
        c->form_types[ev.form_type]++;
    if (!c->first_event_ms || ev.occurred_at_ms < c->first_event_ms)
        c->first_event_ms = ev.occurred_at_ms;
    if (ev.occurred_at_ms > c->last_event_ms)
        c->last_event_ms = ev.occurred_at_ms;

    if (g->opts->dup_rate > 0 && gen_rng_chance(&g->rng, g->opts->dup_rate)) {
        /* At-least-once delivery: the very same bytes once more. */
        r = gen_sink_send(g->sink, ev.kind, key, g->buf.data, g->buf.len, g->err, sizeof(g->err));
        if (r < 0)
            return r;
        count_record(c, ev.kind, g->buf.len);
        c->duplicates++;
    }
    if (g->opts->bad_rate > 0 && gen_rng_chance(&g->rng, g->opts->bad_rate))
        return send_bad(g, &ev);
    return 0;
}
