/* contact_state_t <-> Avro binary of schemas/state/ContactState.avsc.  Field order
 * here is the schema's field order; each submodule writes its own run of fields. */
#include <errno.h>
#include <stdlib.h>

#include "binenc.h"
#include "contact_priv.h"

int contact_state_encode(const contact_state_t *s, hf_buf_t *out)
{
    size_t start = out->len;
    binenc_writer_t w = BINENC_WRITER(out);
    binenc_put_int(&w, CONTACT_STATE_SCHEMA_VERSION);
    binenc_put_string(&w, s->contact_id);
    binenc_put_string(&w, hf_stage_name(s->stage));
    binenc_put_int(&w, (int32_t)s->cycle);
    binenc_put_bool(&w, s->handed_off);
    binenc_put_long(&w, s->events);
    binenc_put_long(&w, s->first_seen_ms);
    binenc_put_long(&w, s->last_event_ms);
    binenc_put_opt_long(&w, s->has_known_since, s->known_since_ms);
    score_encode(&w, &s->score);     /* score, score_at, rule_stats */
    fit_encode(&w, &s->traits);      /* traits */
    dedupe_encode(&w, &s->dedupe);   /* dedupe */
    journey_encode(&w, &s->journey); /* sessions ... recent */
    if (w.err)
        out->len = start;
    return w.err;
}

int contact_state_decode(contact_state_t **out, const void *buf, size_t len)
{
    binenc_reader_t r;
    binenc_reader_init(&r, buf, len);
    contact_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;

    if (binenc_get_int(&r) != CONTACT_STATE_SCHEMA_VERSION)
        binenc_fail(&r);
    s->contact_id = binenc_get_string(&r);
    char *stage = binenc_get_string(&r);
    int st = hf_stage_parse(stage);
    free(stage);
    if (st < 0)
        binenc_fail(&r);
    s->stage = st < 0 ? HF_STAGE_KNOWN : (hf_stage_t)st;
    s->cycle = (uint32_t)binenc_get_int_range(&r, 1, INT32_MAX);
    s->handed_off = binenc_get_bool(&r);
    s->events = binenc_get_long(&r);
    s->first_seen_ms = binenc_get_long(&r);
    s->last_event_ms = binenc_get_long(&r);
    if (s->events < 0 || (s->events > 0 && s->first_seen_ms > s->last_event_ms))
        binenc_fail(&r);
    s->has_known_since = binenc_get_opt_long(&r, &s->known_since_ms);
    score_decode(&r, &s->score);
    fit_decode(&r, &s->traits);
    dedupe_decode(&r, &s->dedupe);
    journey_decode(&r, &s->journey);

    if (!binenc_reader_done(&r)) {
        int err = r.err ? r.err : HF_STATE_CORRUPT;
        contact_state_free(s);
        return err;
    }
    *out = s;
    return 0;
}
