/* The timers store: when each contact's and account's SLA clocks next need
 * attention: the `timers` column family of the store (docs/ARCHITECTURE.md, "The
 * timers store").
 *
 * The deadlines themselves live in the entity states (processors/sla/sla.h); this is
 * their index by time, so that the pipeline finds what fell due without reading
 * every state.  In memory: a map entity -> next due time and a min-heap over it;
 * in the store: one key per entity ('c' or 'a', then the id) -> next due (be64),
 * written in the commit's batch together with the states and offsets, so the index
 * and the states always agree after a crash.  Loaded for the partitions this process
 * is assigned, dropped when they are revoked.
 *
 * Thread: the pipeline thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "processors/model/event.h"
#include "store.h"

typedef struct timers timers_t;

/* The type of a routing team's entry (its daily digest, key 't' + team), beside
 * the contacts' and accounts'. */
#define TIMERS_TEAM ((hf_entity_type_t)HF_ENTITY__COUNT)

timers_t *timers_new(void);
void timers_free(timers_t *t);

/* Sets when @id (of @type) is next due; 0 removes it.  The change goes into the
 * next timers_flush().  0 or -ENOMEM. */
int timers_set(timers_t *t, hf_entity_type_t type, const char *id, int64_t due_ms);

/* The next due time of @id, or 0. */
int64_t timers_get(const timers_t *t, hf_entity_type_t type, const char *id);

/* The entity due earliest, if it is due by @now_ms: returns true with *type and *id
 * set (valid until the next call that changes @t) and removes it from the index (the
 * caller sets its next due time after firing it).  False when nothing is due. */
bool timers_pop_due(timers_t *t, int64_t now_ms, hf_entity_type_t *type, const char **id);

/* The earliest due time, or 0. */
int64_t timers_next(timers_t *t);

size_t timers_count(const timers_t *t);

/* Puts every change since the last flush into @b (puts and deletes). */
void timers_flush(timers_t *t, store_batch_t *b);

/* Loads the entries of @s for which @owned says true.  Returns the number loaded or
 * -EIO/-ENOMEM with @err. */
typedef bool (*timers_owned_fn)(void *opaque, hf_entity_type_t type, const char *id);
long timers_load(timers_t *t, store_t *s, timers_owned_fn owned, void *opaque, char *err,
                 size_t errsz);

/* Forgets everything in memory (after a revoke; the store keeps it). */
void timers_clear(timers_t *t);

/* Calls @fn for every entity in the index (for a reload that reschedules clocks);
 * @fn must not change @t.  Returns 0 or @fn's first non-zero value. */
typedef int (*timers_visit_fn)(void *opaque, hf_entity_type_t type, const char *id);
int timers_each(const timers_t *t, timers_visit_fn fn, void *opaque);
