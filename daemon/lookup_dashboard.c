/* GET / (the dashboard page) and GET /v1/dashboard (its numbers): the dashboard's
 * counters and the open cases of the SLA timers index, read from one snapshot of
 * the committed state on the HTTP server's thread (dashboard.h renders them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "dashboard_assets.h"
#include "journey_json.h"
#include "kafka.h"
#include "lookup_priv.h"
#include "processors/account/account.h"
#include "processors/contact/contact.h"

/* Entities of the timers index whose states are read for the list of open cases,
 * at most: those due earliest.  Bounds what a refresh costs on a large store. */
#define DASHBOARD_STATES_READ_MAX 500

static int take_counter(void *opaque, const void *key, size_t key_len, const void *val,
                        size_t val_len)
{
    if (val_len != 8 || key_len == 0 || key_len > 250)
        return 0;
    char name[251];
    memcpy(name, key, key_len);
    name[key_len] = 0;
    return dashboard_add_counter(opaque, name, store_get_be64(val)) < 0 ? -ENOMEM : 0;
}

/* An entry of the timers index. */
typedef struct due_entity {
    int64_t due_ms;
    hf_entity_type_t type;
    char *id;
} due_entity_t;

typedef struct due_list {
    due_entity_t *items;
    size_t count, cap;
    instances_t *in;
} due_list_t;

/* Whether this instance holds @id's partition (true while the map is unknown: a
 * store holds what its instance folded). */
static bool held_here(instances_t *in, hf_entity_type_t type, const char *id)
{
    instances_stage_t st = type == HF_ENTITY_ACCOUNT ? INSTANCES_ACCOUNT : INSTANCES_CONTACT;
    int32_t n = in ? instances_partition_count(in, st) : -1;
    if (n <= 0)
        return true;
    int32_t p = kafka_murmur2_partition(id, strlen(id), n);
    char addr[INSTANCES_ADDR_SIZE];
    return instances_owner(in, st, p, addr, sizeof addr) == INSTANCES_OWNER_SELF;
}

static int take_due(void *opaque, const void *key, size_t key_len, const void *val, size_t val_len)
{
    due_list_t *l = opaque;
    const char *k = key;
    if (val_len != 8 || key_len < 2 || key_len > LOOKUP_ID_MAX + 1 || (k[0] != 'c' && k[0] != 'a'))
        return 0;
    char id[LOOKUP_ID_MAX + 1];
    memcpy(id, k + 1, key_len - 1);
    id[key_len - 1] = 0;
    hf_entity_type_t type = k[0] == 'c' ? HF_ENTITY_CONTACT : HF_ENTITY_ACCOUNT;
    if (!held_here(l->in, type, id))
        return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        due_entity_t *g = realloc(l->items, cap * sizeof *g);
        if (!g)
            return -ENOMEM;
        l->items = g;
        l->cap = cap;
    }
    char *copy = strdup(id);
    if (!copy)
        return -ENOMEM;
    l->items[l->count++] = (due_entity_t){(int64_t)store_get_be64(val), type, copy};
    return 0;
}

static int earliest_first(const void *a, const void *b)
{
    int64_t x = ((const due_entity_t *)a)->due_ms, y = ((const due_entity_t *)b)->due_ms;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The open case of one entity into @d; a state that does not decode is skipped. */
static int add_case(lookup_t *lk, dashboard_t *d, const store_snapshot_t *snap,
                    const due_entity_t *e, int64_t now_ms)
{
    bool contact = e->type == HF_ENTITY_CONTACT;
    hf_buf_t val = HF_BUF_INIT;
    char err[256];
    int r = store_snapshot_get(snap, contact ? STORE_CF_CONTACT : STORE_CF_ACCOUNT, e->id,
                               strlen(e->id), &val, err, sizeof err);
    if (r != 0) {
        hf_buf_free(&val);
        return r == -ENOMEM ? r : 0;
    }
    dashboard_case_t c;
    char reason[200];
    hf_interest_t interests[DASHBOARD_INTERESTS_MAX];
    if (contact) {
        contact_state_t *s = NULL;
        if ((r = contact_state_decode(&s, val.data, val.len)) == 0) {
            pthread_rwlock_rdlock(&lk->rules_lock);
            r = journey_json_contact_case(s, lk->cfg->rules, now_ms, &c, reason, sizeof reason,
                                          interests);
            if (r == 0)
                r = dashboard_add_case(d, &c); /* copies before the state goes */
            pthread_rwlock_unlock(&lk->rules_lock);
            contact_state_free(s);
        }
    } else {
        account_state_t *s = NULL;
        if ((r = account_state_decode(&s, val.data, val.len)) == 0) {
            if ((r = journey_json_account_case(s, now_ms, &c)) == 0)
                r = dashboard_add_case(d, &c);
            account_state_free(s);
        }
    }
    hf_buf_free(&val);
    return r == -ENOMEM ? r : 0;
}

/* Calls @fn with the address of every other instance that holds partitions (the
 * owners of the partitions this one does not hold), each once, at most 16; stops at
 * @fn's first non-zero value (returned). */
static int each_peer(instances_t *in, int (*fn)(void *opaque, const char *addr), void *opaque)
{
    if (!in)
        return 0;
    char seen[16][INSTANCES_ADDR_SIZE];
    size_t n_seen = 0;
    for (int st = 0; st < INSTANCES__STAGES; st++) {
        int32_t n = instances_partition_count(in, (instances_stage_t)st);
        for (int32_t p = 0; p < n && p < INSTANCES_PARTITIONS_MAX; p++) {
            char addr[INSTANCES_ADDR_SIZE];
            if (instances_owner(in, (instances_stage_t)st, p, addr, sizeof addr) !=
                INSTANCES_OWNER_OTHER)
                continue;
            bool dup = false;
            for (size_t i = 0; i < n_seen && !dup; i++)
                dup = strcmp(seen[i], addr) == 0;
            if (dup || n_seen == sizeof seen / sizeof seen[0])
                continue;
            snprintf(seen[n_seen++], INSTANCES_ADDR_SIZE, "%s", addr);
            int r = fn(opaque, addr);
            if (r)
                return r;
        }
    }
    return 0;
}

/* What a page of another instance may read: its origin, "http://<its address>". */
typedef struct origin_check {
    const char *origin;
    http_response_t *resp;
} origin_check_t;

static int allow_if_peer(void *opaque, const char *addr)
{
    origin_check_t *c = opaque;
    char url[INSTANCES_ADDR_SIZE + 8];
    snprintf(url, sizeof url, "http://%s", addr);
    if (c->origin && strcmp(c->origin, url) == 0)
        snprintf(c->resp->allow_origin, sizeof c->resp->allow_origin, "%s", url);
    return 0;
}

typedef struct peer_list {
    dashboard_t *d;
    origin_check_t check;
} peer_list_t;

static int add_peer(void *opaque, const char *addr)
{
    peer_list_t *l = opaque;
    int r = dashboard_add_peer(l->d, addr);
    return r < 0 ? r : allow_if_peer(&l->check, addr);
}

/* The dashboard for @f from @snap: 0 with *@out, or -errno with @err. */
static int build(lookup_t *lk, const dashboard_filter_t *f, const store_snapshot_t *snap,
                 const http_request_t *req, http_response_t *resp, int64_t now_ms,
                 dashboard_t **out, char *err, size_t errsz)
{
    dashboard_t *d = dashboard_new(f);
    if (!d)
        return -ENOMEM;
    instances_t *in = atomic_load(&lk->instances);
    due_list_t due = {.in = in};
    int r = store_snapshot_scan_prefix(snap, STORE_CF_METRICS, DASHBOARD_GROUP,
                                       strlen(DASHBOARD_GROUP), take_counter, d, err, errsz);
    if (r == 0)
        r = store_snapshot_scan_prefix(snap, STORE_CF_TIMERS, "c", 1, take_due, &due, err, errsz);
    if (r == 0)
        r = store_snapshot_scan_prefix(snap, STORE_CF_TIMERS, "a", 1, take_due, &due, err, errsz);
    if (r == 0) {
        if (due.count)
            qsort(due.items, due.count, sizeof due.items[0], earliest_first);
        for (size_t i = 0; i < due.count && i < DASHBOARD_STATES_READ_MAX && r == 0; i++)
            r = add_case(lk, d, snap, &due.items[i], now_ms);
    }
    if (r == 0)
        r = dashboard_set_instance(d, atomic_load(&lk->advertised));
    if (r == 0) {
        peer_list_t l = {d, {req->origin, resp}};
        r = each_peer(in, add_peer, &l);
    }
    for (size_t i = 0; i < due.count; i++)
        free(due.items[i].id);
    free(due.items);
    if (r < 0) {
        if (r == -ENOMEM)
            snprintf(err, errsz, "out of memory");
        dashboard_free(d);
        return r;
    }
    *out = d;
    return 0;
}

/* Both routes: @page renders the page, else the JSON. */
static int answer(lookup_t *lk, const http_request_t *req, http_response_t *resp, bool page)
{
    if (page && strcmp(req->path, "/") != 0)
        return lookup_answer_error(resp, 404, "not found", NULL);
    if (!page && strcmp(req->path, "/v1/dashboard") != 0)
        return lookup_answer_error(resp, 404, "not found", NULL);
    dashboard_filter_t f;
    const char *why = dashboard_filter_parse(req->query, &f);
    if (why)
        return lookup_answer_error(resp, 400, "invalid filter", why);
    int64_t now = lookup_now(lk);
    if (page && !req->token_ok) {
        /* a browser does not send a bearer token when it opens a page: the numbers
         * come from the script, which asks for the token and sends it */
        resp->content_type = "text/html; charset=utf-8";
        hf_buf_reset(&resp->body);
        return dashboard_html(NULL, &resp->body, dashboard_asset_html, dashboard_asset_css,
                              dashboard_asset_js,
                              "This server requires its bearer token (http.token_file): the page "
                              "asks for it with JavaScript on; without JavaScript, read "
                              "/v1/dashboard with the token.",
                              now, now);
    }
    store_snapshot_t *snap = NULL;
    int r = store_snapshot_new(&snap, lk->store);
    if (r < 0)
        return r;
    dashboard_t *d = NULL;
    char err[512];
    r = build(lk, &f, snap, req, resp, now, &d, err, sizeof err);
    if (r == -EIO) {
        r = lookup_answer_error(resp, 500, "state store", err);
    } else if (r == 0) {
        int64_t as_of = lookup_as_of(lk, snap);
        hf_buf_reset(&resp->body);
        if (page) {
            resp->content_type = "text/html; charset=utf-8";
            r = dashboard_html(d, &resp->body, dashboard_asset_html, dashboard_asset_css,
                               dashboard_asset_js, NULL, now, as_of);
        } else {
            r = dashboard_json(d, &resp->body, now, as_of);
        }
    }
    dashboard_free(d);
    store_snapshot_free(snap);
    return r;
}

int lookup_dashboard_page(void *opaque, const http_request_t *req, http_response_t *resp)
{
    return answer(opaque, req, resp, true);
}

int lookup_dashboard_json(void *opaque, const http_request_t *req, http_response_t *resp)
{
    return answer(opaque, req, resp, false);
}

int lookup_dashboard_preflight(void *opaque, const http_request_t *req, http_response_t *resp)
{
    lookup_t *lk = opaque;
    if (strcmp(req->path, "/v1/dashboard") != 0)
        return lookup_answer_error(resp, 404, "not found", NULL);
    /* 204 either way; the browser lets the page go on only with the origin allowed */
    resp->status = 204;
    hf_buf_reset(&resp->body);
    origin_check_t c = {req->origin, resp};
    return each_peer(atomic_load(&lk->instances), allow_if_peer, &c);
}
