/* Who owns which partition, across the instances of one group: what the journey
 * lookup needs to send a request for a key this instance does not hold to the one
 * that does (as Kafka Streams' interactive queries do with the hosts in the group's
 * assignment).
 *
 * Each instance publishes a small record to the internal topic `<app.id>.instances`
 * (compacted; keyed by a random id of the instance's run): where its HTTP server is
 * reached (http.advertised), when it took its current assignment, and the
 * partitions of the stage 2 and stage 3 topics it holds.  It publishes after every
 * change of its assignment (read from status.h's snapshot) and again every
 * INSTANCES_REFRESH_MS, and a tombstone when it stops.  Every instance reads the
 * whole topic (a consumer of its own, without a group, from the beginning) into a
 * map; an entry not refreshed for INSTANCES_STALE_MS is dropped.  The owner of a
 * partition is the live instance that claimed it with the newest assignment time.
 * docs/HTTP.md says why this design and what it costs.
 *
 * The record is text, one "key value" line each, so that `kcat` shows it:
 *
 *     handoffd-instance 1
 *     instance 4f0c2a9e61b3d7a8
 *     http 10.0.0.5:8686
 *     assigned_at 1772442000123
 *     at 1772442030456
 *     contact handoff.by-contact 0,1,2
 *     account handoff.by-account 0,1,2
 *
 * Thread: a thread of its own consumes, publishes and ages entries out; the getters
 * are for any thread (the HTTP server's) and take the map's mutex only to copy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "status.h"
#include "util/buf.h"

/* How often an instance publishes its record when nothing changes, and how old a
 * record may get before the instance counts as gone (a crashed one: its partitions
 * move to others within the group's session timeout, and their newer claims win
 * before that anyway). */
#define INSTANCES_REFRESH_MS 10000
#define INSTANCES_STALE_MS (3 * INSTANCES_REFRESH_MS)
/* Bounds of what a record may claim, and of the map. */
#define INSTANCES_MAX 256
#define INSTANCES_PARTITIONS_MAX 4096
#define INSTANCES_RECORD_MAX 65536
/* Room for an advertised address. */
#define INSTANCES_ADDR_SIZE 256

/* The two stages whose keys the lookup answers for. */
typedef enum instances_stage {
    INSTANCES_CONTACT = 0, /* partitions of <app>.by-contact (murmur2 of the contact id) */
    INSTANCES_ACCOUNT,     /* partitions of <app>.by-account (murmur2 of the account id) */
    INSTANCES__STAGES
} instances_stage_t;

/* What instances_owner() found. */
typedef enum instances_owner {
    INSTANCES_OWNER_SELF = 0, /* this instance holds the partition (its status says) */
    INSTANCES_OWNER_OTHER,    /* another instance claimed it: its address is given */
    INSTANCES_OWNER_UNKNOWN,  /* nobody known holds it (a rebalance, a start) */
} instances_owner_t;

typedef struct instances instances_t;

typedef struct instances_opts {
    const hf_config_t *cfg; /* brokers, kafka.properties, app.id, topics; must outlive */
    const char *brokers;    /* overrides cfg's (the embedded broker); NULL = cfg's */
    const char *advertised; /* this instance's HTTP address ("host:port"), copied */
    status_t *status;       /* where its assignment is read; must outlive */
} instances_opts_t;

/* "<app.id>.instances" into @out (replaced).  0 or -ENOMEM. */
int instances_topic(const hf_config_t *cfg, hf_buf_t *out);

/* Starts the map's thread: learns the partition counts, creates the topic when it
 * is missing (compacted), and starts reading it.  Failures after the start (a
 * broker away) are retried on the thread and logged.  Returns 0 and sets *out, or
 * -errno with @err (a bad kafka property, out of memory).  Thread: main. */
int instances_start(instances_t **out, const instances_opts_t *opts, char *err, size_t errsz);

/* Publishes the tombstone of this instance (bounded wait), stops the thread and
 * frees.  NULL is fine.  Thread: main, after the HTTP server stopped. */
void instances_stop(instances_t *in);

/* Partition count of @st's topic, or -1 while unknown. */
int32_t instances_partition_count(instances_t *in, instances_stage_t st);

/* Who holds partition @p of @st; for INSTANCES_OWNER_OTHER, @addr gets the owner's
 * advertised address. */
instances_owner_t instances_owner(instances_t *in, instances_stage_t st, int32_t p, char *addr,
                                  size_t addrsz);

/* ---- the record, pure (tests/unit/daemon/test_instances.c) ---- */

/* One instance's claim as published. */
typedef struct instances_claim {
    char instance[64];
    char http[INSTANCES_ADDR_SIZE];
    int64_t assigned_at_ms;            /* wall time it took this assignment */
    int64_t at_ms;                     /* wall time of this record (liveness) */
    int32_t *parts[INSTANCES__STAGES]; /* ascending, owned */
    size_t part_count[INSTANCES__STAGES];
} instances_claim_t;

void instances_claim_free(instances_claim_t *c);

/* The record of @c for the topics @topics[stage], appended to @out.  0 or -ENOMEM. */
int instances_claim_encode(const instances_claim_t *c, const char *const topics[INSTANCES__STAGES],
                           hf_buf_t *out);

/* Parses a record into @c (zeroed first; free it either way).  Partitions are
 * taken only from lines naming @topics[stage] (a record of an instance configured
 * with other topics claims nothing here).  Returns 0, -ENOMEM, or -EINVAL for
 * something that is not such a record (unknown lines are skipped: later versions
 * may add some). */
int instances_claim_decode(instances_claim_t *c, const void *buf, size_t len,
                           const char *const topics[INSTANCES__STAGES]);
