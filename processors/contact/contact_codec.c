/* contact_state_t <-> Avro binary of schemas/state/ContactState.avsc.  Field order
 * here is the schema's field order; each submodule writes its own run of fields. */
#include <errno.h>
#include <stdlib.h>

#include "contact_priv.h"
#include "util/binenc.h"

/* The first layout, still read: everything up to `recent`. */
#define CONTACT_STATE_SCHEMA_V1 1

static void put_roster_member(binenc_writer_t *w, const void *item)
{
    const contact_roster_member_t *m = item;
    binenc_put_string(w, m->contact_id);
    binenc_put_string(w, m->role);
    binenc_put_int(w, m->score);
    binenc_put_long(w, m->last_active_ms);
}

static void put_role(binenc_writer_t *w, const void *item)
{
    binenc_put_string(w, *(char *const *)item);
}

static void roster_encode(binenc_writer_t *w, const contact_roster_t *ro)
{
    binenc_put_long(w, ro->account_id ? 1 : 0);
    if (!ro->account_id)
        return;
    binenc_put_string(w, ro->account_id);
    binenc_put_long(w, (int64_t)ro->version);
    binenc_put_array(w, ro->members, ro->member_count, sizeof *ro->members, put_roster_member);
    binenc_put_array(w, ro->roles_covered, ro->roles_covered_count, sizeof *ro->roles_covered,
                     put_role);
}

static void read_roster_member(binenc_reader_t *r, void *item)
{
    contact_roster_member_t *m = item;
    m->contact_id = binenc_get_string(r);
    m->role = binenc_get_string(r);
    m->score = binenc_get_int(r);
    m->last_active_ms = binenc_get_long(r);
}

static void read_role(binenc_reader_t *r, void *item)
{
    *(char **)item = binenc_get_string(r);
}

static void roster_decode(binenc_reader_t *r, contact_roster_t *ro)
{
    if (binenc_get_union(r, 2) != 1)
        return;
    ro->account_id = binenc_get_string(r);
    int64_t version = binenc_get_long(r);
    if (version < 0)
        binenc_fail(r);
    ro->version = (uint64_t)version;
    binenc_get_array(r, (void **)&ro->members, &ro->member_count, sizeof *ro->members,
                     read_roster_member);
    binenc_get_array(r, (void **)&ro->roles_covered, &ro->roles_covered_count,
                     sizeof *ro->roles_covered, read_role);
}

int contact_state_encode(const contact_state_t *s, hf_buf_t *out)
{
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
    /* version 2 */
    interests_encode(&w, &s->interests);
    binenc_put_opt_string(&w, s->account_id);
    binenc_put_long(&w, (int64_t)s->member_version);
    roster_encode(&w, &s->roster);
    binenc_put_opt_string(&w, s->redirect_to);
    /* version 3 */
    binenc_put_opt_string(&w, s->source);
    binenc_put_long(&w, s->source_at_ms);
    binenc_put_opt_string(&w, s->first_campaign);
    binenc_put_long(&w, s->first_campaign_at_ms);
    binenc_put_opt_string(&w, s->last_campaign);
    binenc_put_long(&w, s->last_campaign_at_ms);
    sla_encode(&w, &s->sla);
    /* version 4 */
    sla_history_encode(&w, &s->history);
    /* version 5 */
    binenc_put_bool(&w, s->summary_pending);
    binenc_put_long(&w, s->summary_pending ? s->summary_at_ms : 0);
    return binenc_writer_end(&w);
}

int contact_state_decode(contact_state_t **out, const void *buf, size_t len)
{
    binenc_reader_t r;
    binenc_reader_init(&r, buf, len);
    contact_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;

    int32_t version = binenc_get_int(&r);
    if (version < CONTACT_STATE_SCHEMA_V1 || version > CONTACT_STATE_SCHEMA_VERSION)
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
    /* a version-1 state ends here: no interests, account, roster or redirect yet; the
     * next fold resolves the account and announces the contact to it */
    if (version >= 2) {
        interests_decode(&r, &s->interests);
        s->account_id = binenc_get_opt_string(&r);
        int64_t member_version = binenc_get_long(&r);
        if (member_version < 0)
            binenc_fail(&r);
        s->member_version = (uint64_t)member_version;
        roster_decode(&r, &s->roster);
        s->redirect_to = binenc_get_opt_string(&r);
    }
    /* version 2 ends here: no attribution yet, no case open */
    if (version >= 3) {
        s->source = binenc_get_opt_string(&r);
        s->source_at_ms = binenc_get_long(&r);
        s->first_campaign = binenc_get_opt_string(&r);
        s->first_campaign_at_ms = binenc_get_long(&r);
        s->last_campaign = binenc_get_opt_string(&r);
        s->last_campaign_at_ms = binenc_get_long(&r);
        sla_decode(&r, &s->sla);
    }
    /* version 3 ends here: an empty history, not complete (what came when before it was
     * kept is not known), until the next cycle starts one */
    if (version >= 4)
        sla_history_decode(&r, &s->history);
    /* version 4 ends here: nothing owed (it sent every owed summary before it
     * committed) */
    if (version >= 5) {
        s->summary_pending = binenc_get_bool(&r);
        s->summary_at_ms = binenc_get_long(&r);
    }

    int err = binenc_reader_end(&r);
    if (err) {
        contact_state_free(s);
        return err;
    }
    *out = s;
    return 0;
}
