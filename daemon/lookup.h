/* The journey lookup for the tools reps use (docs/HTTP.md, "Journey lookup (/v1)"):
 *
 *   GET /v1/contacts/{id}   a contact's journey (journey_json.h); 301 to the survivor
 *                           for a contact merged away
 *   GET /v1/accounts/{id}   an account's score, grade, buying group and open case
 *   GET /v1/outcomes        the outcomes table (outcomes.h) as JSON
 *
 * Point reads of the committed state: one RocksDB snapshot per request, read on the
 * HTTP server's thread, never through the pipeline's record cache, so a lookup
 * never waits for the pipeline and the pipeline never waits for a lookup.  An
 * answer reflects the last commit (at most state.commit_interval old) and says
 * when that was ("as_of").
 *
 * A key of a partition another instance holds is answered with a redirect to it
 * (307, from the instance map: instances.h), or 503 while nobody is known to hold
 * it.
 *
 * Thread: lookup_new/register/free on main; the handlers on the HTTP server's
 * thread; lookup_swap_rules() on the pipeline thread (a reload). */
#pragma once

#include <stdint.h>

#include "config/config.h"
#include "http.h"
#include "instances.h"
#include "status.h"
#include "store.h"

typedef struct lookup lookup_t;

/* Wall clock in ms (the pipeline's: HANDOFF_CLOCK may simulate it). */
typedef int64_t (*lookup_clock_fn)(void *opaque);

typedef struct lookup_opts {
    /* topics and the rules in force; cfg->rules is read under the lookup's lock, so
     * a reload must replace it through lookup_swap_rules() */
    hf_config_t *cfg;
    store_t *store;        /* the pipeline's; outlives the lookup */
    status_t *status;      /* this instance's assignment; outlives the lookup */
    const char *brokers;   /* for the instance map; NULL: cfg's (copied) */
    lookup_clock_fn clock; /* NULL: the real clock */
    void *clock_opaque;
} lookup_opts_t;

/* Ids of contacts and accounts a lookup accepts: this many bytes at most, of
 * letters, digits and "-_.:@+=~!$*,;" (400 otherwise). */
#define LOOKUP_ID_MAX 256
/* Merges followed for a contact merged away, at most. */
#define LOOKUP_MERGE_HOPS 8

/* A lookup answering nothing but 503 until lookup_start().  Returns 0 and sets *out,
 * or -ENOMEM. */
int lookup_new(lookup_t **out, const lookup_opts_t *opts);

/* Routes GET /v1/contacts/, /v1/accounts/ and /v1/outcomes to @lk (not public: the
 * bearer token applies).  0 or -ENOMEM.  Before http_start(). */
int lookup_register(http_t *h, lookup_t *lk);

/* lookup_new() and lookup_register() in one, saying in @err what failed.  0 or
 * -ENOMEM. */
int lookup_open(lookup_t **out, const lookup_opts_t *opts, http_t *h, char *err, size_t errsz);

/* Starts the instance map (instances.h), publishing @advertised as where this
 * instance answers (http_advertised(), known once the server listens); @advertised
 * NULL (the server is off) starts nothing.  0 or -errno with @err. */
int lookup_start(lookup_t *lk, const char *advertised, char *err, size_t errsz);

/* The reload's swap: exchanges *@in_force (the config's rules) and *@fresh under the
 * lock the handlers read the rules under, so the rules a lookup is rendering with
 * are not freed under it.  @lk NULL: a plain swap. */
void lookup_swap_rules(lookup_t *lk, hf_rules_t **in_force, hf_rules_t **fresh);

/* Stops the instance map (this instance's record is withdrawn) and frees; after the
 * HTTP server stopped.  NULL is fine. */
void lookup_free(lookup_t *lk);

/* The members of GET /v1/outcomes from "totals" to "sla_by_owner", from @o, into
 * the object @w is in (also the "outcomes" of GET /v1/dashboard); @buckets adds
 * each SLA row's histograms ("accept_buckets", "first_touch_buckets").  Pure. */
struct journey_json_writer;
struct outcomes;
void lookup_outcomes_members(struct journey_json_writer *w, const struct outcomes *o, bool buckets);

/* Whether @id is one lookup_register()'s routes accept.  Pure. */
bool lookup_id_valid(const char *id);
