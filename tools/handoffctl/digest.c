/* handoffctl digest --state DIR [-c FILE] --owner ID | --team ID [--now MS]: the
 * digest an owner (in each team that knows them) or a team would get now, as text,
 * from the team states of a store opened read-only (beside a running daemon).  The
 * same content as the Digest records of topics.digest: what waits, the breaches,
 * wins and losses not told by a digest yet, and the SLA standing. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/store.h"
#include "hfctl.h"
#include "processors/digest/digest.h"
#include "util/isotime.h"

typedef struct digest_args {
    const char *state_dir, *config, *owner, *team;
    int64_t now_ms;
    const hf_rules_t *rules;
    int shown;
    int failed;
} digest_args_t;

static const char *at(int64_t ms, char buf[HF_ISO8601_SIZE])
{
    if (ms <= 0)
        return "-";
    hf_iso8601_ms(buf, ms);
    return buf;
}

static void duration(int64_t ms, char *out, size_t outsz)
{
    if (ms < 0) {
        snprintf(out, outsz, "-");
        return;
    }
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, outsz, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
    else
        snprintf(out, outsz, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
}

static void figures(const char *label, const digest_figures_t *f)
{
    char a[32], t[32];
    duration(f->median_accept_ms, a, sizeof a);
    duration(f->median_first_touch_ms, t, sizeof t);
    printf("%s met %" PRIu32 ", breached %" PRIu32 ", open %" PRIu32
           ", median to accept %s, to first touch %s\n",
           label, f->met, f->breached, f->open, a, t);
}

static const char *const sla_names[HF_SLA__COUNT] = {"accept", "first_touch", "follow_up"};

static void print_digest(const digest_t *d)
{
    char b1[HF_ISO8601_SIZE], b2[HF_ISO8601_SIZE];
    printf("digest %s  team %s  %s%s  date %s  as of %s\n", d->id, d->team_id,
           d->owner_id ? "owner " : "", d->owner_id ? d->owner_id : "(the team's)", d->date,
           at(d->at_ms, b1));
    printf("news since %s\n", d->from_ms > 0 ? at(d->from_ms, b2) : "the first case");
    printf("waiting (%zu listed of %" PRIu32 "):\n", d->waiting_count, d->own.open);
    for (size_t i = 0; i < d->waiting_count; i++) {
        const digest_case_t *c = d->waiting[i];
        printf("  %s %s %s  owner %s  %s", c->handoff_id, hf_entity_type_name(c->entity_type),
               c->entity_id, c->owner_id ? c->owner_id : "-", c->reason ? c->reason : "-");
        for (uint32_t k = 0; k < c->interest_count; k++)
            printf("%s%s", k ? ", " : "  interests: ", c->interests[k]);
        printf("  next deadline %s\n", at(c->next_deadline_ms, b1));
    }
    static const char *const heads[] = {"breached", "won", "lost"};
    for (int kind = DIGEST_MARK_BREACH; kind <= DIGEST_MARK_LOST; kind++) {
        printf("%s:", heads[kind]);
        int n = 0;
        for (size_t i = 0; i < d->mark_count; i++) {
            const digest_mark_t *m = d->marks[i];
            if ((int)m->kind != kind)
                continue;
            printf("\n  %s %s  owner %s  at %s", m->handoff_id, m->entity_id,
                   m->owner_id ? m->owner_id : "-", at(m->at_ms, b1));
            if (kind == DIGEST_MARK_BREACH)
                printf("  %s level %" PRId32,
                       m->sla >= 0 && m->sla < HF_SLA__COUNT ? sla_names[m->sla] : "?", m->level);
            n++;
        }
        printf("%s\n", n ? "" : " none");
    }
    figures(d->owner_id ? "standing:" : "team:    ", &d->own);
    if (d->owner_id) {
        figures("team:    ", &d->team);
        if (d->rank)
            printf("rank:     %" PRIu32 " of %" PRIu32 " by share of cases met\n", d->rank,
                   d->ranked);
        else
            printf("rank:     - (no case counted yet)\n");
    }
    printf("\n");
}

static bool knows_owner(const digest_team_t *t, const char *owner)
{
    for (size_t i = 0; i < t->owner_count; i++)
        if (strcmp(t->owners[i].owner_id, owner) == 0)
            return true;
    for (size_t i = 0; i < t->case_count; i++)
        if (t->cases[i].owner_id && strcmp(t->cases[i].owner_id, owner) == 0)
            return true;
    return false;
}

static int show_team(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    (void)key;
    (void)key_len;
    digest_args_t *a = opaque;
    digest_team_t *t = NULL;
    if (digest_team_decode(&t, val, val_len) != 0) {
        fprintf(stderr, "handoffctl: a team state does not decode\n");
        a->failed = 1;
        return 0;
    }
    bool wanted = a->team ? strcmp(t->team, a->team) == 0 : knows_owner(t, a->owner);
    if (a->team && a->owner)
        wanted = wanted && knows_owner(t, a->owner);
    if (wanted) {
        digest_schedule_t s = digest_schedule_of(a->rules, t->team, a->rules->digest.at_ms / 1000);
        int64_t day = digest_local_day(s.cal, a->now_ms);
        digest_t d;
        /* what is not told yet: everything since the last digest */
        if (digest_build(t, a->owner, day, t->last_at_ms, INT64_MAX, a->now_ms, &d) < 0) {
            digest_team_free(t);
            return -ENOMEM;
        }
        print_digest(&d);
        digest_clear(&d);
        a->shown++;
    }
    digest_team_free(t);
    return 0;
}

int hfctl_digest(int argc, char **argv)
{
    digest_args_t a = {0};
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"owner", required_argument, NULL, 'o'}, {"team", required_argument, NULL, 't'},
        {"now", required_argument, NULL, 'n'},   {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:c:o:t:n:", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            a.state_dir = optarg;
            break;
        case 'c':
            a.config = optarg;
            break;
        case 'o':
            a.owner = optarg;
            break;
        case 't':
            a.team = optarg;
            break;
        case 'n': {
            char *end;
            a.now_ms = strtoll(optarg, &end, 10);
            if (*end || a.now_ms <= 0) {
                hfctl_usage(stderr);
                return 2;
            }
            break;
        }
        default:
            hfctl_usage(stderr);
            return 2;
        }
    }
    if (!a.state_dir || (!a.owner && !a.team) || optind != argc) {
        hfctl_usage(stderr);
        return 2;
    }
    if (!a.now_ms) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    hf_config_t *cfg = NULL;
    if (hfctl_load_rules(&cfg, a.config) != 0)
        return 2;
    a.rules = cfg->rules;
    char err[512];
    store_t *st = NULL;
    if (store_open(&st, a.state_dir, true, err, sizeof err) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        config_free(cfg);
        return 1;
    }
    int r = store_scan(st, STORE_CF_TEAM, show_team, &a, err, sizeof err);
    store_close(st);
    config_free(cfg);
    if (r != 0) {
        fprintf(stderr, "handoffctl: %s\n", r == -ENOMEM ? "out of memory" : err);
        return 1;
    }
    if (!a.shown) {
        fprintf(stderr, "handoffctl: no digest state for %s %s\n", a.team ? "team" : "owner",
                a.team ? a.team : a.owner);
        return 1;
    }
    return a.failed;
}
