/* Stage 3's rosters: when the set of (engaged member, role) changes, a new roster
 * version goes to every engaged member and to every member of the previous roster
 * that is no longer engaged, so that a contact's handoff can name who else at the
 * account is looking.  Semantics: account_priv.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"

void account_roster_entries_free(account_roster_entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].contact_id);
        free(e[i].role);
    }
    free(e);
}

static bool roster_changed(const account_state_t *s, const account_view_t *v)
{
    if (s->roster_count != v->engaged_count)
        return true;
    for (size_t i = 0; i < v->count; i++) {
        const account_ranked_t *r = &v->ranked[i];
        if (!r->engaged)
            continue;
        bool same = false;
        for (size_t k = 0; k < s->roster_count && !same; k++)
            same = strcmp(s->roster[k].contact_id, r->m->contact_id) == 0 &&
                   strcmp(s->roster[k].role, r->m->role) == 0;
        if (!same)
            return true;
    }
    return false;
}

/* The engaged members of @v as stored roster entries, all or nothing. */
static int roster_entries(const account_view_t *v, account_roster_entry_t **out)
{
    account_roster_entry_t *e = calloc(v->engaged_count + 1, sizeof *e);
    if (!e)
        return -ENOMEM;
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < v->count && ok; i++) {
        if (!v->ranked[i].engaged)
            continue;
        ok = account_dup_str(&e[n].contact_id, v->ranked[i].m->contact_id);
        ok = account_dup_str(&e[n].role, v->ranked[i].m->role) && ok;
        n++;
    }
    if (!ok) {
        account_roster_entries_free(e, n);
        return -ENOMEM;
    }
    *out = e;
    return 0;
}

static bool engaged_in(const account_view_t *v, const char *contact_id)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->ranked[i].engaged && strcmp(v->ranked[i].m->contact_id, contact_id) == 0)
            return true;
    return false;
}

/* The roster for @to: the engaged members of @engaged (@n, ranked) but @to, at most
 * buying_group_max of them, into @out. */
static size_t roster_for(const hf_member_t *engaged, size_t n, const char *to,
                         const hf_rules_t *rules, hf_member_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < rules->accounts.buying_group_max; i++)
        if (strcmp(engaged[i].contact_id, to) != 0)
            out[k++] = engaged[i];
    return k;
}

int account_roster_push(account_state_t *s, const account_view_t *v, const hf_rules_t *rules,
                        const char *leaver, const hf_sink_t *sink)
{
    if (!roster_changed(s, v))
        return 0;
    account_roster_entry_t *entries = NULL;
    hf_member_t *engaged = calloc(v->engaged_count + 1, sizeof *engaged);
    hf_member_t *listed = calloc(v->engaged_count + 1, sizeof *listed);
    int r = -ENOMEM;
    if (!engaged || !listed || roster_entries(v, &entries) < 0)
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < v->count; i++) {
        const account_ranked_t *rk = &v->ranked[i];
        if (rk->engaged)
            engaged[n++] = (hf_member_t){rk->m->contact_id, rk->m->role, rk->score_points,
                                         rk->m->last_active_ms};
    }

    /* the state moves first, so that a failing sink cannot leave the old roster in it */
    account_roster_entry_t *old = s->roster;
    size_t old_count = s->roster_count;
    s->roster = entries;
    s->roster_count = v->engaged_count;
    s->roster_version++;

    hf_roster_t ro = {
        .account_id = s->account_id,
        .version = s->roster_version,
        .members = listed,
        .roles_covered = v->roles,
        .roles_covered_count = v->role_count,
    };
    r = 0;
    if (sink && sink->roster) {
        for (size_t i = 0; i < n && r == 0; i++) {
            ro.member_count = roster_for(engaged, n, engaged[i].contact_id, rules, listed);
            r = sink->roster(sink->opaque, engaged[i].contact_id, &ro);
        }
        for (size_t i = 0; i < old_count && r == 0; i++) {
            const char *to = old[i].contact_id;
            if (engaged_in(v, to) || (leaver && strcmp(leaver, to) == 0))
                continue;
            ro.member_count = roster_for(engaged, n, to, rules, listed);
            r = sink->roster(sink->opaque, to, &ro);
        }
    }
    account_roster_entries_free(old, old_count);
out:
    free(engaged);
    free(listed);
    return r;
}
