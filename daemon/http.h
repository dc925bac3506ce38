/* The HTTP server inside handoffd (libmicrohttpd): /healthz, /readyz and /metrics
 * (status_http.c), the journey lookup (/v1), and whatever else registers a route.
 * docs/HTTP.md lists the endpoints, the limits and the status codes.
 *
 * One thread of its own (libmicrohttpd's internal polling thread) accepts and
 * serves every connection, so handlers run one at a time and need not be
 * reentrant; they must not block for long (a slow handler delays /healthz).  The
 * pipeline thread never calls in here except http_new/start/stop/free at start-up
 * and shutdown, and http_reload_token() on a reload.
 *
 * Requests are bounded: the URL, the headers and any body each at most
 * http.max_request_bytes (414, 431, 413 otherwise), GET and HEAD only (405; OPTIONS
 * where a route takes it: a browser's CORS preflight), at
 * most HTTP_MAX_CONNECTIONS connections, each closed after http.timeout idle.
 * Responses are bounded too: a handler's body over HTTP_MAX_RESPONSE_BYTES becomes
 * a 500.  With http.token_file set, every route not marked public needs
 * `Authorization: Bearer <token>` (401 otherwise); the token is never logged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "util/buf.h"

typedef struct http http_t;

typedef struct http_request {
    const char *method; /* "GET", "HEAD" (routed as a GET; its body is not sent), "OPTIONS" */
    const char *path;   /* decoded path, e.g. "/v1/contacts/c-1" */
    const char *query;  /* raw query string or NULL */
    const char *remote; /* peer address as text */
    const char *origin; /* the Origin header (a page of another site asking), or NULL */
    bool token_ok;      /* the bearer token in force was presented, or none is set */
} http_request_t;

typedef struct http_response {
    int status;               /* 200 by default */
    const char *content_type; /* "application/json" by default; static or outliving the call */
    hf_buf_t body;            /* util/buf.h; the server frees it */
    char location[512];       /* set for 3xx answers */
    char allow_origin[288];   /* Access-Control-Allow-Origin when set ("http://host:port");
                               * with status 204, the answer to a preflight (GET, the
                               * Authorization header allowed) */
} http_response_t;

/* Called on the HTTP server's thread, never the pipeline's.  Returns 0 (the
 * response is sent as filled) or -errno (500). */
typedef int (*http_handler_fn)(void *opaque, const http_request_t *req, http_response_t *resp);

/* Connections served at once; more wait in the kernel's backlog. */
#define HTTP_MAX_CONNECTIONS 64
/* A handler's body above this is answered 500 instead. */
#define HTTP_MAX_RESPONSE_BYTES (16u << 20)
/* Bytes of a bearer token. */
#define HTTP_TOKEN_MAX 1024

/* A server for @cfg, not listening yet (routes are added first).  Reads the token
 * of cfg->token_file, if set.  Returns 0 and sets *out, or -errno with @err.
 * Thread: main, at start-up.  @cfg is copied. */
int http_new(http_t **out, const hf_http_config_t *cfg, char *err, size_t errsz);

/* Routes requests whose method is @method and whose path starts with @prefix
 * (longest prefix wins) to @fn.  @public_: served without the bearer token.
 * Call before http_start().  0 or -ENOMEM.
 *
 * A prefix matches a path equal to it or continuing it with '/', or any path it
 * starts when it ends in '/': "/metrics" serves "/metrics" and "/metrics/x", not
 * "/metricsx"; "/v1/contacts/" serves "/v1/contacts/c-1".  @method "GET" also
 * serves HEAD; a route of @method "OPTIONS" lets OPTIONS requests of its paths
 * through (405 elsewhere). */
int http_add_route(http_t *h, const char *method, const char *prefix, bool public_,
                   http_handler_fn fn, void *opaque);

/* Binds http.listen and starts serving on the server's thread (a no-op when
 * http.listen is off).  Returns 0 or -errno with @err naming the address. */
int http_start(http_t *h, char *err, size_t errsz);

/* Reads the token again from @token_file (NULL: no token, refused unless the
 * listen address is loopback); on failure the token in force stays; nothing when
 * the server is off.  0 or -errno with @err (never quoting the file's contents).
 * Thread: any (a reload). */
int http_reload_token(http_t *h, const char *token_file, char *err, size_t errsz);

/* "host:port" the server listens on ("[::1]:8686"; the port the kernel chose for
 * port 0), or NULL when off or not started. */
const char *http_address(const http_t *h);

/* Where other instances reach this one: http.advertised, else http_address(). */
const char *http_advertised(const http_t *h);

/* Stops serving (waits for the handler running, if any); idempotent. */
void http_stop(http_t *h);

/* Stops and frees. */
void http_free(http_t *h);
