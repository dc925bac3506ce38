/* The status (status.h) over HTTP (http.h):
 *
 *   GET /healthz  public  200 "ok" while the pipeline loop turned within
 *                         STATUS_HTTP_HEALTH_MAX_AGE_MS, else 503 saying when it last did
 *   GET /readyz   public  200 when assigned, state loaded, consuming and the brokers
 *                         reachable; else 503 with the reason
 *   GET /metrics  token   Prometheus text exposition (status_prom.h)
 *
 * Handlers run on the HTTP server's thread and only read the status. */
#pragma once

#include "http.h"
#include "status.h"

/* A loop that has not turned for this long is stuck: a turn takes at most the
 * consumer's poll timeout (100 ms) plus a batch of records, a commit waits at most
 * for the broker's acknowledgements (60 s: then the daemon stops by itself). */
#define STATUS_HTTP_HEALTH_MAX_AGE_MS 10000

/* Registers /healthz, /readyz and /metrics on @h for @st (which outlives @h's
 * serving).  0 or -ENOMEM. */
int status_http_register(http_t *h, status_t *st);
