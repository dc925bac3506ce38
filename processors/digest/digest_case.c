/* A contact's or an account's case as the digest sees it (digest.h): read from the
 * state's SLA side the way contact_sla.c and account.c adapt it, and the updates that
 * tell a team's state what changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "processors/account/account_priv.h"
#include "processors/contact/contact_priv.h"

void digest_snap_free(digest_snap_t *s)
{
    free(s->entity_id);
    free(s->team);
    free(s->owner_id);
    free(s->reason);
    for (size_t i = 0; i < s->interest_count; i++)
        free(s->interests[i]);
    memset(s, 0, sizeof *s);
}

static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* The earliest deadline still ahead of a running clock: its level-1 deadline, or,
 * breached, its next escalation. */
static int64_t next_deadline(const sla_state_t *sla)
{
    int64_t best = 0;
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        const sla_clock_t *c = &sla->clocks[k];
        if (c->done || !c->deadline_ms)
            continue;
        int64_t at = c->level == 0 ? c->deadline_ms : c->due_ms;
        if (at > 0 && (!best || at < best))
            best = at;
    }
    return best;
}

static int snap_sla(digest_snap_t *out, hf_entity_type_t type, const char *id, hf_stage_t stage,
                    const sla_state_t *sla)
{
    memset(out, 0, sizeof *out);
    bool ok = true;
    out->type = type;
    out->stage = stage;
    if (!sla->handoff_id)
        return 0; /* no case: nothing copied (most folds) */
    out->entity_id = dup_opt(id, &ok);
    out->open = true;
    snprintf(out->handoff_id, sizeof out->handoff_id, "%s", sla->handoff_id);
    out->team = dup_opt(sla->team, &ok);
    out->owner_id = dup_opt(sla->owner_id, &ok);
    if (sla->rule) {
        char line[512];
        snprintf(line, sizeof line, "%s%s%s%s", sla->rule, sla->source ? " (" : "",
                 sla->source ? sla->source : "", sla->source ? ")" : "");
        out->reason = dup_opt(line, &ok);
    }
    out->handed_off_at_ms = sla->handoff_at_ms;
    out->next_deadline_ms = next_deadline(sla);
    /* answered: the flag, or the clock stopped (a win touches without a call), or no
     * such clock to answer */
    const sla_clock_t *acc = &sla->clocks[HF_SLA_ACCEPT], *ft = &sla->clocks[HF_SLA_FIRST_TOUCH];
    out->accepted = sla->accepted || acc->done || !acc->deadline_ms;
    out->touched = sla->touched || ft->done || !ft->deadline_ms;
    out->clocked = acc->deadline_ms || ft->deadline_ms;
    for (int k = 0; k < HF_SLA__COUNT; k++)
        out->levels[k] = sla->clocks[k].level;
    if (!ok) {
        digest_snap_free(out);
        return -ENOMEM;
    }
    return 0;
}

int digest_snap_contact(digest_snap_t *out, const contact_state_t *s, const hf_rules_t *rules,
                        int64_t at_ms)
{
    int r = snap_sla(out, HF_ENTITY_CONTACT, s->contact_id, s->stage, &s->sla);
    if (r < 0 || !out->open)
        return r;
    hf_interest_t top[DIGEST_INTERESTS];
    size_t n = interests_top(&s->interests, rules, at_ms, top, DIGEST_INTERESTS);
    for (size_t i = 0; i < n; i++) {
        if (!(out->interests[i] = strdup(top[i].topic))) {
            digest_snap_free(out);
            return -ENOMEM;
        }
        out->interest_count = i + 1;
    }
    return 0;
}

int digest_snap_account(digest_snap_t *out, const account_state_t *s)
{
    return snap_sla(out, HF_ENTITY_ACCOUNT, s->account_id, s->stage, &s->sla);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether @a and @b tell the same of the same case. */
static bool same_case(const digest_snap_t *a, const digest_snap_t *b)
{
    if (a->open != b->open || strcmp(a->handoff_id, b->handoff_id) != 0)
        return false;
    if (!same_str(a->owner_id, b->owner_id) || a->next_deadline_ms != b->next_deadline_ms ||
        a->accepted != b->accepted || a->touched != b->touched ||
        (a->stage == HF_STAGE_CUSTOMER) != (b->stage == HF_STAGE_CUSTOMER))
        return false;
    return memcmp(a->levels, b->levels, sizeof a->levels) == 0;
}

/* @answered, @touched: what the answer that closed the case satisfied, which the
 * snapshot before it does not show yet. */
static digest_update_t update_of(const digest_snap_t *s, digest_status_t status, int64_t at_ms,
                                 bool answered, bool touched)
{
    bool accepted = s->accepted || answered;
    touched = s->touched || touched;
    digest_update_t u = {.team = s->team,
                         .handoff_id = s->handoff_id,
                         .entity_type = s->type,
                         .entity_id = s->entity_id,
                         .owner_id = s->owner_id,
                         .status = status,
                         .at_ms = at_ms,
                         .handed_off_at_ms = s->handed_off_at_ms,
                         .reason = s->reason,
                         .interests = (const char *const *)s->interests,
                         .interest_count = s->interest_count,
                         .next_deadline_ms = status == DIGEST_OPEN ? s->next_deadline_ms : 0,
                         .accepted_at_ms = accepted ? at_ms : 0,
                         .touched_at_ms = touched ? at_ms : 0,
                         .sla_done = accepted && touched && s->clocked};
    for (int k = 0; k < HF_SLA__COUNT; k++) {
        u.breach_level[k] = s->levels[k];
        u.breach_at_ms[k] = s->levels[k] ? at_ms : 0;
    }
    return u;
}

size_t digest_snap_updates(const digest_snap_t *before, const digest_snap_t *after, int action,
                           int64_t at_ms, digest_update_t out[2])
{
    size_t n = 0;
    bool closed = before->open && (!after->open || strcmp(before->handoff_id, after->handoff_id));
    if (closed && before->team) {
        digest_status_t st = action == HF_SALES_LOST             ? DIGEST_LOST
                             : action == HF_SALES_WON            ? DIGEST_WON
                             : after->stage == HF_STAGE_CUSTOMER ? DIGEST_WON
                                                                 : DIGEST_CLOSED;
        /* any answer stops the accept clock; these are a first touch too (sla.h) */
        bool touch = action == HF_SALES_CONTACTED || action == HF_SALES_MEETING_BOOKED ||
                     action == HF_SALES_OPPORTUNITY_CREATED || action == HF_SALES_WON;
        out[n++] = update_of(before, st, at_ms, action >= 0, touch);
    }
    if (after->open && after->team && !same_case(before, after))
        out[n++] = update_of(after, after->stage == HF_STAGE_CUSTOMER ? DIGEST_WON : DIGEST_OPEN,
                             at_ms, false, false);
    return n;
}
