/* Merges (CRM deduplication): the loser's journey folds into the survivor, and the
 * loser's state becomes a redirect to it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact_priv.h"
#include "util/hash.h"
#include "qualify.h"

/* The loser's ids join the survivor's, so that a repeat of anything the loser folded
 * is dropped when the redirect forwards it (bounded as always, oldest first out). */
static int merge_dedupe(contact_state_t *s, const contact_state_t *loser, const hf_rules_t *rules)
{
    for (size_t i = 0; i < loser->dedupe.count; i++) {
        const dedupe_entry_t *e = &loser->dedupe.entries[i];
        if (dedupe_contains(&s->dedupe, e->id_hash))
            continue;
        int r = dedupe_remember(&s->dedupe, e->id_hash, e->at_ms, rules->dedupe.max_ids,
                                rules->dedupe.window_ms);
        if (r < 0)
            return r;
    }
    return 0;
}

static void merge_times(contact_state_t *s, const contact_state_t *loser)
{
    if (loser->events) {
        if (!s->events || loser->first_seen_ms < s->first_seen_ms)
            s->first_seen_ms = loser->first_seen_ms;
        if (!s->events || loser->last_event_ms > s->last_event_ms)
            s->last_event_ms = loser->last_event_ms;
        s->events = loser->events > INT64_MAX - s->events ? INT64_MAX : s->events + loser->events;
    }
    if (loser->has_known_since &&
        (!s->has_known_since || loser->known_since_ms < s->known_since_ms)) {
        s->has_known_since = true;
        s->known_since_ms = loser->known_since_ms;
    }
}

/* The id under which a survivor remembers, in its dedupe memory, that @loser_id was
 * merged into it: a re-sent journey (its sender crashed before committing the
 * redirect) is then a repeat like any other. */
static uint64_t merged_id_hash(const char *loser_id)
{
    uint64_t h = hash_fnv1a64_update(HASH_FNV1A64_INIT, "merged\x1f", 7);
    return hash_fnv1a64_update(h, loser_id, strlen(loser_id));
}

int contact_merge(contact_state_t *survivor, const contact_state_t *loser, const hf_rules_t *rules,
                  int64_t at_ms, int64_t now_ms, const hf_sink_t *sink)
{
    contact_state_t *s = survivor;
    if (s->redirect_to)
        return -EINVAL; /* the caller merges into the end of a redirect chain */
    if (s == loser || strcmp(s->contact_id, loser->contact_id) == 0)
        return 0;
    uint64_t merged = merged_id_hash(loser->contact_id);
    if (dedupe_contains(&s->dedupe, merged))
        return CONTACT_MERGE_REPEAT;

    int r = merge_dedupe(s, loser, rules);
    if (r == 0)
        r = dedupe_remember(&s->dedupe, merged, now_ms, rules->dedupe.max_ids,
                            rules->dedupe.window_ms);
    /* a redirect left by an earlier merge has nothing but its ids */
    if (r == 0 && !loser->redirect_to) {
        r = fit_merge(&s->traits, &loser->traits);
        if (r == 0)
            r = score_merge(&s->score, &loser->score, rules);
        if (r == 0)
            r = journey_merge(&s->journey, &loser->journey, rules);
        if (r == 0)
            r = interests_merge(&s->interests, &loser->interests, rules);
        if (r == 0)
            merge_times(s, loser);
    }
    if (r < 0)
        return r;

    char cause[160];
    snprintf(cause, sizeof cause, "merged with %s", loser->contact_id);
    if (!loser->redirect_to) {
        /* one handoff per cycle for the person, whichever id it was made for */
        if (loser->handed_off)
            s->handed_off = true;
        /* only stages reached on evidence and progress compare: recycled, disqualified
         * and lost are outcomes of feedback */
        if (hf_stage_is_forward(s->stage) && hf_stage_is_forward(loser->stage) &&
            hf_stage_rank(loser->stage) > hf_stage_rank(s->stage))
            r = contact_set_stage(s, loser->stage, at_ms, cause, sink);
        /* what sales (or a recycle) did with the loser, and when, is not in the
         * survivor's history: from now on it cannot tell the stage at a time */
        if (loser->cycle > 1 ||
            (loser->stage != HF_STAGE_ANONYMOUS && loser->stage != HF_STAGE_KNOWN &&
             loser->stage != HF_STAGE_ENGAGED))
            sla_history_forget(&s->history);
    }

    /* the loser leaves its account: with the version after the loser's last one, so
     * that stage 3 takes it over anything the loser sent */
    if (r == 0 && loser->account_id && !loser->redirect_to)
        r = contact_send_member_update(loser, rules, loser->account_id, true,
                                       loser->member_version + 1, at_ms, sink);
    if (r == 0)
        r = contact_update_account(s, rules, at_ms, sink);

    /* the merge is dated like an identity record that carries it */
    hf_event_t ev = {
        .kind = HF_EV_IDENTITY,
        .identity_kind = HF_IDENTITY_MERGE,
        .occurred_at_ms = at_ms,
        .contact_id = s->contact_id,
        .merged_contact_id = loser->contact_id,
    };
    if (r == 0 && s->events)
        r = contact_advance_stage(s, &ev, rules, false, sink);
    if (r == 0 && s->events)
        r = qualify_fold(s, &ev, rules, now_ms, sink);
    if (r == 0)
        r = contact_send_summary(s, rules, at_ms, sink);
    return r;
}

int contact_state_make_redirect(contact_state_t *s, const char *survivor_id)
{
    char *to = strdup(survivor_id);
    if (!to)
        return -ENOMEM;
    /* the leave contact_merge() sent for this id used the next version: later ones
     * (should the id ever come back) must be newer still */
    uint64_t version = s->member_version + (s->account_id ? 1 : 0);
    contact_state_t keep = {
        .contact_id = s->contact_id,
        .stage = HF_STAGE_KNOWN,
        .cycle = 1,
        .dedupe = s->dedupe,
        .member_version = version,
        .redirect_to = to,
    };
    /* the id and the dedupe memory move to @keep; everything else goes */
    s->contact_id = NULL;
    s->dedupe = (dedupe_t){0};
    contact_state_free_parts(s);
    *s = keep;
    return 0;
}
