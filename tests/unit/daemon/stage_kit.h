/* The stages through their seam (daemon/stage.h), without a broker: a context over
 * a temporary store, a config loaded from YAML text, the daemon's codecs, caches,
 * timers and counters, and an output that keeps what the stages produce in memory.
 * Shared by the stage tests (test_stages.c, test_stage_dlq.c, test_merge.c,
 * test_clocks.c, test_mailbox.c; test_replay.c takes its event builders).
 * Include after <cmocka.h>. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/stage.h"
#include "processors/account/account.h"
#include "processors/contact/contact.h"

/* 2026-03-02T00:00:00Z, a Monday */
#define KIT_T0 INT64_C(1772409600000)
#define KIT_HOUR_MS INT64_C(3600000)

/* One record the stages produced. */
typedef struct kit_record {
    stage_out_t out;
    int32_t partition; /* STAGE_NO_PARTITION: the partitioner's choice */
    int64_t timestamp_ms;
    char *key;
    uint8_t *value;
    size_t value_len;
} kit_record_t;

typedef struct kit {
    char dir[64];
    struct store *store;
    hf_config_t *cfg;
    codec_t *codec;
    codec_t *enc_codec;
    cache_t *anon_cache;
    cache_t *contact_cache;
    cache_t *account_cache;
    timers_t *timers;
    metrics_t *metrics;
    uint64_t *ctr;
    stage_ctx_t ctx;
    char err[512];  /* the context's error buffer */
    int64_t now_ms; /* the wall clock the stages read */

    /* The output: what was produced, in order. */
    kit_record_t *records;
    size_t record_count, record_cap;
    int32_t partitions;       /* of every topic; keys hash onto them */
    bool remote[ROLE__COUNT]; /* the partitions of this role belong to another process */
    int fail_produce;         /* a negative errno: every produce fails with it */

    int64_t next_offset; /* of the next record consumed */
    hf_buf_t buf;
} kit_t;

/* A kit with the config @yaml (NULL: the built-in defaults) at wall time KIT_T0. */
kit_t *kit_new(const char *yaml);
void kit_free(kit_t *k);

/* Encodes @ev and processes it as consumed from the topic of @role under @key (NULL:
 * none), partition 0, the next offset.  Returns stage_process()'s result. */
int kit_consume(kit_t *k, stage_role_t role, const hf_event_t *ev, const char *key);

/* The same with the record's bytes (@value NULL: a record without a value). */
int kit_consume_bytes(kit_t *k, stage_role_t role, const char *key, const void *value, size_t len);

/* Records produced to @out, and the @n-th of them (NULL past the end). */
size_t kit_count(const kit_t *k, stage_out_t out);
const kit_record_t *kit_nth(const kit_t *k, stage_out_t out, size_t n);

/* A produced record as JSON (codec_record_to_json); the caller frees it. */
char *kit_json(kit_t *k, const kit_record_t *r);

/* The cached state of a contact or an account, or NULL. */
contact_state_t *kit_contact(kit_t *k, const char *id);
account_state_t *kit_account(kit_t *k, const char *id);

/* Writes @len bytes as the stored state of @key in @cf (a state the cache reads on a
 * miss). */
void kit_store_put(kit_t *k, int cf, const char *key, const void *value, size_t len);

/* Input events (strings borrowed; NULL = absent). */
hf_event_t kit_visit(const char *event_id, int64_t at_ms, const char *anonymous_id,
                     const char *contact_id, const char *url);
hf_event_t kit_form(const char *event_id, int64_t at_ms, const char *anonymous_id,
                    const char *contact_id, hf_form_type_t type, const char *email);
hf_event_t kit_identify(const char *event_id, int64_t at_ms, const char *anonymous_id,
                        const char *contact_id);
/* An IdentityEvent of kind merge: @loser merged into @survivor. */
hf_event_t kit_merge(const char *event_id, int64_t at_ms, const char *survivor, const char *loser);
hf_event_t kit_sales(const char *event_id, int64_t at_ms, hf_entity_type_t type,
                     const char *entity_id, hf_sales_action_t action, const char *handoff_id);
