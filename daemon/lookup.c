/* The journey lookup's routes: see lookup.h.  The outcomes answer is in
 * lookup_outcomes.c. */
#include "lookup.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journey_json.h"
#include "kafka.h"
#include "lookup_priv.h"
#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/model/state.h"

#define CONTACTS "/v1/contacts/"
#define ACCOUNTS "/v1/accounts/"
#define OUTCOMES "/v1/outcomes"
#define DASHBOARD "/v1/dashboard"

bool lookup_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > LOOKUP_ID_MAX)
        return false;
    for (const char *p = id; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-_.:@+=~!$*,;", c)))
            return false;
    }
    return true;
}

int lookup_new(lookup_t **out, const lookup_opts_t *opts)
{
    lookup_t *lk = calloc(1, sizeof *lk);
    if (!lk)
        return -ENOMEM;
    lk->cfg = opts->cfg;
    lk->store = opts->store;
    lk->status = opts->status;
    lk->clock = opts->clock;
    lk->clock_opaque = opts->clock_opaque;
    lk->brokers = strdup(opts->brokers ? opts->brokers : opts->cfg->brokers);
    int e = lk->brokers ? pthread_rwlock_init(&lk->rules_lock, NULL) : ENOMEM;
    if (e) {
        free(lk->brokers);
        free(lk);
        return -e;
    }
    *out = lk;
    return 0;
}

int lookup_start(lookup_t *lk, const char *advertised, char *err, size_t errsz)
{
    if (!advertised)
        return 0;
    char *self = strdup(advertised);
    if (!self)
        return -ENOMEM;
    free(atomic_exchange(&lk->advertised, self));
    instances_t *in = NULL;
    instances_opts_t o = {lk->cfg, lk->brokers, advertised, lk->status};
    int r = instances_start(&in, &o, err, errsz);
    if (r == 0)
        atomic_store(&lk->instances, in);
    return r;
}

void lookup_free(lookup_t *lk)
{
    if (!lk)
        return;
    instances_stop(atomic_load(&lk->instances));
    free(atomic_load(&lk->advertised));
    pthread_rwlock_destroy(&lk->rules_lock);
    free(lk->brokers);
    free(lk);
}

void lookup_swap_rules(lookup_t *lk, hf_rules_t **in_force, hf_rules_t **fresh)
{
    if (lk)
        pthread_rwlock_wrlock(&lk->rules_lock);
    hf_rules_t *t = *in_force;
    *in_force = *fresh;
    *fresh = t;
    if (lk)
        pthread_rwlock_unlock(&lk->rules_lock);
}

/* ---- answers ------------------------------------------------------------------------ */

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lookup_now(const lookup_t *lk)
{
    return lk->clock ? lk->clock(lk->clock_opaque) : real_ms();
}

int64_t lookup_as_of(const lookup_t *lk, const store_snapshot_t *snap)
{
    /* the store stamps its writes on the real clock; the answer speaks the daemon's
     * (the same unless HANDOFF_CLOCK simulates it) */
    return lookup_now(lk) - (real_ms() - store_snapshot_written_ms(snap));
}

int lookup_answer_error(http_response_t *resp, int status, const char *error, const char *detail)
{
    resp->status = status;
    hf_buf_reset(&resp->body);
    journey_json_writer_t w;
    journey_json_init(&w, &resp->body);
    journey_json_object(&w, NULL);
    journey_json_str(&w, "error", error);
    if (detail)
        journey_json_str(&w, "detail", detail);
    journey_json_end(&w);
    return journey_json_finish(&w);
}

/* @s with every byte but RFC 3986's unreserved ones as %XX, appended to @out. */
static int append_escaped(hf_buf_t *out, const char *s)
{
    int r = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && r == 0; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c))
            r = hf_buf_append(out, p, 1);
        else
            r = hf_buf_printf(out, "%%%02X", c);
    }
    return r;
}

/* ---- which instance answers ----------------------------------------------------------- */

/* 0 when this instance holds @id's partition of @st; otherwise the answer is made
 * (307 to the owner, 503 while none is known) and 1 returned; or -ENOMEM. */
static int route_to_owner(lookup_t *lk, instances_stage_t st, const char *id,
                          const http_request_t *req, http_response_t *resp)
{
    instances_t *in = atomic_load(&lk->instances);
    int32_t n = in ? instances_partition_count(in, st) : -1;
    if (n <= 0)
        return lookup_answer_error(resp, 503, "not ready",
                                   "the partition counts are not known yet") < 0
                   ? -ENOMEM
                   : 1;
    int32_t p = kafka_murmur2_partition(id, strlen(id), n);
    char addr[INSTANCES_ADDR_SIZE];
    instances_owner_t who = instances_owner(in, st, p, addr, sizeof addr);
    if (who == INSTANCES_OWNER_SELF)
        return 0;
    journey_json_writer_t w;
    hf_buf_reset(&resp->body);
    journey_json_init(&w, &resp->body);
    journey_json_object(&w, NULL);
    if (who == INSTANCES_OWNER_OTHER) {
        int len = snprintf(resp->location, sizeof resp->location, "http://%s%s%s%s", addr,
                           req->path, req->query ? "?" : "", req->query ? req->query : "");
        if (len < 0 || (size_t)len >= sizeof resp->location)
            return lookup_answer_error(resp, 500, "owner address too long", NULL) < 0 ? -ENOMEM : 1;
        resp->status = 307;
        journey_json_str(&w, "owner", addr);
        journey_json_str(&w, "location", resp->location);
    } else {
        resp->status = 503;
        journey_json_str(&w, "error", "no instance is known to hold this key's partition");
        journey_json_str(&w, "detail", "a rebalance or a start; try again shortly");
    }
    journey_json_str(&w, "stage", st == INSTANCES_CONTACT ? "contact" : "account");
    journey_json_int(&w, "partition", p);
    journey_json_end(&w);
    return journey_json_finish(&w) < 0 ? -ENOMEM : 1;
}

/* ---- contacts and accounts ------------------------------------------------------------ */

/* The stored state of @id in @cf: 0 with *out, STORE_NOT_FOUND, or an error answered
 * (1: a state that does not decode, a store failure); -ENOMEM. */
static int read_state(const store_snapshot_t *snap, store_cf_t cf, const char *id, void **out,
                      http_response_t *resp)
{
    hf_buf_t val = HF_BUF_INIT;
    char err[512];
    int r = store_snapshot_get(snap, cf, id, strlen(id), &val, err, sizeof err);
    if (r == 0)
        r = cf == STORE_CF_CONTACT
                ? contact_state_decode((contact_state_t **)out, val.data, val.len)
                : account_state_decode((account_state_t **)out, val.data, val.len);
    hf_buf_free(&val);
    if (r == 0 || r == STORE_NOT_FOUND || r == -ENOMEM)
        return r;
    if (r == HF_STATE_CORRUPT)
        r = lookup_answer_error(resp, 500, "the stored state does not decode", NULL);
    else
        r = lookup_answer_error(resp, 500, "state store", err);
    return r < 0 ? r : 1;
}

/* A contact merged away: follows its survivors while their partitions are this
 * instance's (at most LOOKUP_MERGE_HOPS), then answers 301 to the last one reached,
 * whose own instance answers for it. */
static int answer_merged(lookup_t *lk, const store_snapshot_t *snap, const char *id,
                         const char *merged_into, http_response_t *resp)
{
    char survivor[LOOKUP_ID_MAX + 1];
    snprintf(survivor, sizeof survivor, "%s", merged_into);
    instances_t *in = atomic_load(&lk->instances);
    int32_t n = instances_partition_count(in, INSTANCES_CONTACT);
    for (int hop = 1; hop < LOOKUP_MERGE_HOPS && lookup_id_valid(survivor); hop++) {
        char addr[INSTANCES_ADDR_SIZE];
        int32_t p = kafka_murmur2_partition(survivor, strlen(survivor), n);
        if (instances_owner(in, INSTANCES_CONTACT, p, addr, sizeof addr) != INSTANCES_OWNER_SELF)
            break; /* its own instance follows it further */
        void *next = NULL;
        http_response_t scratch = {0};
        int r = read_state(snap, STORE_CF_CONTACT, survivor, &next, &scratch);
        hf_buf_free(&scratch.body);
        if (r < 0)
            return r;
        const char *further = r == 0 ? contact_state_redirect(next) : NULL;
        if (further && strlen(further) <= LOOKUP_ID_MAX)
            snprintf(survivor, sizeof survivor, "%s", further);
        contact_state_free(next);
        if (!further)
            break;
    }
    hf_buf_t location = HF_BUF_INIT;
    int r = hf_buf_append_str(&location, CONTACTS);
    if (r == 0)
        r = append_escaped(&location, survivor);
    if (r == 0 && location.len >= sizeof resp->location)
        r = -ENAMETOOLONG;
    if (r == 0) {
        memcpy(resp->location, location.data, location.len);
        resp->location[location.len] = 0;
        resp->status = 301;
        hf_buf_reset(&resp->body);
        r = journey_json_merged(&resp->body, id, merged_into, survivor, resp->location,
                                lookup_as_of(lk, snap));
    }
    hf_buf_free(&location);
    return r;
}

/* GET /v1/contacts/{id} and /v1/accounts/{id}. */
static int answer_entity(lookup_t *lk, instances_stage_t st, const http_request_t *req,
                         http_response_t *resp)
{
    bool contact = st == INSTANCES_CONTACT;
    const char *id = req->path + strlen(contact ? CONTACTS : ACCOUNTS);
    if (!lookup_id_valid(id))
        return lookup_answer_error(resp, 400, contact ? "invalid contact id" : "invalid account id",
                                   "1 to 256 letters, digits or -_.:@+=~!$*,;");
    int r = route_to_owner(lk, st, id, req, resp);
    if (r != 0)
        return r < 0 ? r : 0;
    store_snapshot_t *snap = NULL;
    if ((r = store_snapshot_new(&snap, lk->store)) < 0)
        return r;
    void *s = NULL;
    r = read_state(snap, contact ? STORE_CF_CONTACT : STORE_CF_ACCOUNT, id, &s, resp);
    if (r == STORE_NOT_FOUND) {
        r = lookup_answer_error(resp, 404, "not found", NULL);
    } else if (r == 0 && contact && contact_state_redirect(s)) {
        r = answer_merged(lk, snap, id, contact_state_redirect(s), resp);
    } else if (r == 0) {
        int64_t now = lookup_now(lk), as_of = lookup_as_of(lk, snap);
        hf_buf_reset(&resp->body);
        pthread_rwlock_rdlock(&lk->rules_lock);
        const hf_rules_t *rules = lk->cfg->rules;
        r = contact ? journey_json_contact(&resp->body, s, rules, now, as_of)
                    : journey_json_account(&resp->body, s, rules, now, as_of);
        pthread_rwlock_unlock(&lk->rules_lock);
    }
    if (contact)
        contact_state_free(s);
    else
        account_state_free(s);
    store_snapshot_free(snap);
    return r < 0 ? r : 0;
}

static int on_contact(void *opaque, const http_request_t *req, http_response_t *resp)
{
    return answer_entity(opaque, INSTANCES_CONTACT, req, resp);
}

static int on_account(void *opaque, const http_request_t *req, http_response_t *resp)
{
    return answer_entity(opaque, INSTANCES_ACCOUNT, req, resp);
}

int lookup_register(http_t *h, lookup_t *lk)
{
    int r = http_add_route(h, "GET", CONTACTS, false, on_contact, lk);
    if (r == 0)
        r = http_add_route(h, "GET", ACCOUNTS, false, on_account, lk);
    if (r == 0)
        r = http_add_route(h, "GET", OUTCOMES, false, lookup_outcomes, lk);
    /* the page is public: a browser opening it sends no token; without the token it
     * shows no numbers (lookup_dashboard.c) */
    if (r == 0)
        r = http_add_route(h, "GET", DASHBOARD, false, lookup_dashboard_json, lk);
    /* a preflight carries no token: it asks whether the page may send one */
    if (r == 0)
        r = http_add_route(h, "OPTIONS", DASHBOARD, true, lookup_dashboard_preflight, lk);
    if (r == 0)
        r = http_add_route(h, "GET", "/", true, lookup_dashboard_page, lk);
    return r;
}

int lookup_open(lookup_t **out, const lookup_opts_t *opts, http_t *h, char *err, size_t errsz)
{
    lookup_t *lk = NULL;
    int r = lookup_new(&lk, opts);
    if (r == 0 && (r = lookup_register(h, lk)) < 0)
        lookup_free(lk);
    if (r < 0) {
        snprintf(err, errsz, "journey lookup: %s", strerror(-r));
        return r;
    }
    *out = lk;
    return 0;
}
