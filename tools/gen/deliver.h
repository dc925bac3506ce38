/* hf-gen's records on their way out: each event of the model encoded as a
 * single-object Avro record under the key the data contracts name
 * (docs/CONTRACTS.md; web visits and forms: anonymous_id; SalesActivity:
 * entity_id; the rest: contact_id).  Trackers deliver at least once, so a share
 * of records (--dup-rate) is sent twice; --bad-rate adds records the daemon must
 * dead-letter.  Both draw from the run's own random stream (GEN_RNG_DELIVERY), so
 * they never change the journeys. */
#pragma once

#include "gen.h"

/* Sends the event of @rec, then by chance its duplicate and a bad record, and
 * counts what was sent in g->counts.  Returns 0, or -errno with g->err. */
int gen_deliver_event(gen_ctx_t *g, const gen_record_t *rec);
