#include "merge.h"

#include <assert.h>
#include <string.h>

#include "dlq.h"
#include "log.h"
#include "outputs.h"
#include "stage_contact.h"

/* Sends @req to the loser's partition. */
static int send_request(stage_ctx_t *c, const hf_merge_request_t *req)
{
    hf_buf_reset(&c->enc_buf);
    int r = codec_encode_merge_request(c->enc_codec, req, &c->enc_buf);
    if (r < 0)
        return r;
    return stage_deliver(c, ROLE_BY_CONTACT, req->loser_id, c->enc_buf.data, c->enc_buf.len,
                         req->at_ms);
}

int merge_start(stage_ctx_t *c, const contact_state_t *survivor, const hf_event_t *ev,
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
    return send_request(c, &req);
}

/* Carries a snapshot of the whole journey of @loser to the survivor's partition. */
static int send_state(stage_ctx_t *c, const hf_merge_request_t *req, const contact_state_t *loser)
{
    hf_buf_t state = HF_BUF_INIT;
    int r = contact_state_encode(loser, &state);
    if (r == 0) {
        hf_merge_state_t ms = {
            .event_id = req->event_id,
            .at_ms = req->at_ms,
            .survivor_id = req->survivor_id,
            .loser_id = req->loser_id,
            .state = state.data,
            .state_len = state.len,
        };
        hf_buf_reset(&c->enc_buf);
        r = codec_encode_merge_state(c->enc_codec, &ms, &c->enc_buf);
    }
    hf_buf_free(&state);
    if (r == 0)
        r = stage_deliver(c, ROLE_BY_CONTACT, req->survivor_id, c->enc_buf.data, c->enc_buf.len,
                          req->at_ms);
    return r;
}

int merge_request_in(stage_ctx_t *c, const stage_origin_t *origin, const hf_merge_request_t *req)
{
    assert(req->survivor_id && req->loser_id);
    int r;
    cache_entry_t *e =
        stage_state_of(c, c->contact_cache, origin, req->loser_id, stage_contact_create, &r);
    if (!e)
        return r > 0 ? 0 : r;
    contact_state_t *loser = e->state;
    const char *already = contact_state_redirect(loser);
    if (already) {
        if (strcmp(already, req->survivor_id) != 0)
            log_record(LOG_LEVEL_WARN, LOG_PIPE,
                       LOG_FIELDS(LOG_STR("loser_id", req->loser_id),
                                  LOG_STR("survivor_id", req->survivor_id),
                                  LOG_STR("merged_into", already)),
                       "merge of %s into %s ignored: already merged into %s", req->loser_id,
                       req->survivor_id, already);
        return 0; /* a repeat, or an earlier merge won */
    }
    if (!req->bounced && !req->survivor_known && contact_state_known(loser)) {
        hf_merge_request_t swapped = *req;
        swapped.survivor_id = req->loser_id;
        swapped.loser_id = req->survivor_id;
        swapped.survivor_known = true;
        swapped.bounced = true;
        return send_request(c, &swapped);
    }
    r = send_state(c, req, loser);
    if (r == 0)
        r = contact_state_make_redirect(loser, req->survivor_id);
    if (r == 0)
        r = timers_set(c->timers, HF_ENTITY_CONTACT, req->loser_id, 0);
    if (r == 0)
        cache_entry_touch(e);
    return r;
}

/* Sends the journey in @ms on to @next, the survivor its survivor was merged into.
 * The record names its survivor, so it is written again naming @next: sent on as it
 * was, it would be looked up under the merged-away survivor once more, and go round
 * (in one process) or make an empty contact of that id (across processes). */
static int forward_state(stage_ctx_t *c, const hf_merge_state_t *ms, const char *next)
{
    hf_merge_state_t onward = *ms;
    onward.survivor_id = next;
    hf_buf_reset(&c->enc_buf);
    int r = codec_encode_merge_state(c->enc_codec, &onward, &c->enc_buf);
    if (r < 0)
        return r;
    return stage_deliver(c, ROLE_BY_CONTACT, next, c->enc_buf.data, c->enc_buf.len, ms->at_ms);
}

int merge_state_in(stage_ctx_t *c, const stage_origin_t *origin, const hf_merge_state_t *ms,
                   const void *raw, size_t len)
{
    assert(ms->survivor_id && ms->loser_id);
    int r;
    cache_entry_t *e =
        stage_state_of(c, c->contact_cache, origin, ms->survivor_id, stage_contact_create, &r);
    if (!e)
        return r > 0 ? 0 : r;
    const char *moved = contact_state_redirect(e->state);
    if (moved) /* the survivor was merged away meanwhile: its own survivor takes over */
        return forward_state(c, ms, moved);
    contact_state_t *loser = NULL;
    r = contact_state_decode(&loser, ms->state, ms->state_len);
    if (r > 0)
        return dlq_send(c, origin, "state_corrupt", "merged journey of %s does not decode",
                        ms->loser_id);
    if (r < 0)
        return r;
    hf_sink_t sink;
    bool owed_before = contact_state_summary_pending(e->state);
    r = contact_merge(e->state, loser, stage_rules(c), ms->at_ms, stage_now_ms(c),
                      outputs_sink(c, &sink));
    contact_state_free(loser);
    if (r < 0)
        return r;
    int d =
        timers_set(c->timers, HF_ENTITY_CONTACT, ms->survivor_id, contact_state_next_due(e->state));
    if (d < 0)
        return d;
    if (!owed_before && (d = stage_contact_owe(c, e->state)) < 0)
        return d;
    if (r == CONTACT_MERGE_REPEAT) {
        c->ctr[M_DUPLICATES]++;
        log_record(
            LOG_LEVEL_INFO, LOG_PIPE,
            LOG_FIELDS(LOG_STR("loser_id", ms->loser_id), LOG_STR("survivor_id", ms->survivor_id)),
            "journey of %s for %s again: a repeat, dropped", ms->loser_id, ms->survivor_id);
        return 0;
    }
    cache_entry_touch(e);
    c->ctr[M_MERGES]++;
    log_record(LOG_LEVEL_INFO, LOG_PIPE,
               LOG_FIELDS(LOG_STR("loser_id", ms->loser_id),
                          LOG_STR("survivor_id", ms->survivor_id), LOG_TIME("at", ms->at_ms)),
               "contact %s merged into %s", ms->loser_id, ms->survivor_id);
    return 0;
}
