/* The stages run in-process over recorded input, without Kafka: what handoffctl
 * backtest uses to try a rules file.
 *
 * A replay is the daemon's own stages (stage.h) over a scratch RocksDB store in a
 * temporary directory that replay_free() removes, with the daemon's codecs,
 * record caches, timers index and counters.  One process owns every partition, so
 * everything re-keyed between stages goes through the mailbox (no repartition
 * topic); the outputs (handoffs, lifecycle changes, breaches, dead letters) are
 * encoded as the daemon encodes them and handed to a callback, or dropped.
 *
 * The caller feeds the records in the daemon's order (the partition group,
 * pgroup.h) with the stream time they were released at.  There is no wall clock:
 * the stages' clock is the stream time, so a handoff's emitted_at, SLA deadlines,
 * breaches and the no-response recycle, the age of remembered event ids and a
 * dead letter's time all run on event time, and the same records give the same
 * outputs in every run.  SLA clocks that fell due by the stream time fire before
 * the next record, as the daemon's loop fires them between batches.
 *
 * Thread: one replay is used by one thread; two replays share nothing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "processors/model/output.h"
#include "stage.h"

typedef struct replay replay_t;

typedef struct replay_opts {
    /* Borrowed, outlives the replay: the rules, topic names, limits, cache size,
     * accounts.member_updates. */
    const hf_config_t *cfg;
    /* Partition count of each topic (ROLE_BY_* included): where murmur2 puts a
     * key, hence which contact partition owes which summaries.  0: 1. */
    int32_t partitions[ROLE__COUNT];
    /* Where the scratch store's directory is made (NULL: $TMPDIR, else /tmp). */
    const char *scratch_parent;
    /* Told of every handoff (stage.h's on_handoff); NULL: nobody is.  A negative
     * errno it returns fails replay_record(). */
    int (*on_handoff)(void *opaque, const hf_handoff_t *h);
    void *opaque;
} replay_opts_t;

/* A replay with an empty scratch store.  Returns 0 with *out, or -errno with @err. */
int replay_new(replay_t **out, const replay_opts_t *opts, char *err, size_t errsz);

/* Processes one input record of the topic of @role (an input role or a
 * repartition role), partition @partition, offset @offset, released at stream
 * time @stream_ms (never less than the previous record's); first fires the SLA
 * clocks that fell due by then.  @key may be NULL; @value NULL is a record
 * without a value (dead-lettered).  Returns 0 (also when the record was
 * dead-lettered) or a negative errno with replay_error() saying why. */
int replay_record(replay_t *r, stage_role_t role, int32_t partition, int64_t offset,
                  const void *key, size_t key_len, const void *value, size_t value_len,
                  int64_t stream_ms);

/* The end of the input: the daemon's caught-up point (the summaries contacts owe
 * their accounts go, and what they set off), then the SLA clocks due by
 * @stream_ms.  Returns 0 or a negative errno. */
int replay_finish(replay_t *r, int64_t stream_ms);

/* The counters of the run (metrics.h's M_*: consumed, folded, handoffs, dead
 * letters, ...).  Owned by the replay. */
const uint64_t *replay_counters(const replay_t *r);

/* Why the last call failed. */
const char *replay_error(const replay_t *r);

/* Frees the replay and removes its scratch store. */
void replay_free(replay_t *r);
