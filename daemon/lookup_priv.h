/* Inside the journey lookup: shared by lookup.c (the routes, contacts and accounts)
 * and lookup_outcomes.c (the outcomes).  Not for other modules. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "http.h"
#include "lookup.h"
#include "store.h"

struct lookup {
    hf_config_t *cfg;
    store_t *store;
    status_t *status;
    char *brokers;
    /* set by lookup_start() while the server may already be answering */
    _Atomic(instances_t *) instances;
    lookup_clock_fn clock;
    void *clock_opaque;
    /* where this instance answers (lookup_start()'s @advertised), set before the
     * instance map and not changed after; NULL while unknown */
    _Atomic(char *) advertised;
    /* held to read cfg->rules while rendering; the reload takes it to swap them */
    pthread_rwlock_t rules_lock;
};

/* The daemon's clock now. */
int64_t lookup_now(const lookup_t *lk);

/* When the commit @snap reflects was made, on the daemon's clock. */
int64_t lookup_as_of(const lookup_t *lk, const store_snapshot_t *snap);

/* @status with {"error": @error, "detail": @detail (omitted when NULL)} as the body.
 * 0 or -ENOMEM. */
int lookup_answer_error(http_response_t *resp, int status, const char *error, const char *detail);

/* GET /v1/outcomes (lookup_outcomes.c).  HTTP server's thread. */
int lookup_outcomes(void *opaque, const http_request_t *req, http_response_t *resp);

/* GET / and GET /v1/dashboard (lookup_dashboard.c).  HTTP server's thread. */
int lookup_dashboard_page(void *opaque, const http_request_t *req, http_response_t *resp);
int lookup_dashboard_json(void *opaque, const http_request_t *req, http_response_t *resp);
/* OPTIONS /v1/dashboard: a browser's preflight before a page of another instance
 * reads /v1/dashboard with the bearer token; the origin is allowed when it is
 * another instance's.  HTTP server's thread. */
int lookup_dashboard_preflight(void *opaque, const http_request_t *req, http_response_t *resp);
