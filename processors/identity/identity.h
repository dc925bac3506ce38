/* Stage 1: resolve.  Keyed by anonymous id.
 *
 * Remembers which contact an anonymous id turned out to be, buffers the anonymous
 * history until then (bounded in count and age by the rules), and re-keys every
 * event to its contact: on identify it replays the buffer in event-time order, then
 * the identifying record itself; afterwards each event goes straight through. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "processors/model/event.h"
#include "processors/rules/rules.h"
#include "processors/model/state.h"

typedef struct anon_state anon_state_t;

/* A new, empty state for one anonymous id.  NULL on out of memory. */
anon_state_t *anon_state_new(void);
void anon_state_free(anon_state_t *s);

/* The contact the anonymous id resolved to, or NULL while it is unknown. */
const char *anon_state_contact(const anon_state_t *s);

/* Number of records buffered while unknown. */
size_t anon_state_buffered(const anon_state_t *s);

/* Serialises @s (Avro binary of schemas/state/AnonState.avsc) appended to @out.
 * Returns 0 or -ENOMEM. */
int anon_state_encode(const anon_state_t *s, hf_buf_t *out);

/* Parses what anon_state_encode() wrote.  On success *out is a new state owned by
 * the caller.  Returns 0, -ENOMEM, or HF_STATE_CORRUPT. */
int anon_state_decode(anon_state_t **out, const void *buf, size_t len);

/* Where stage 1 sends re-keyed records: the record's original bytes, unchanged,
 * under its contact id.  Returns 0 or a negative errno (fatal). */
typedef struct identity_sink {
    void *opaque;
    int (*forward)(void *opaque, const char *contact_id, const void *raw, size_t raw_len);
} identity_sink_t;

typedef struct identity_result {
    bool identified;    /* this event linked the anonymous id to a contact */
    uint32_t forwarded; /* records sent to the sink (replayed + this one) */
    uint32_t buffered;  /* 1 if this event was buffered */
    uint32_t evicted;   /* buffered records dropped by the count/age bounds */
    uint32_t relinked;  /* 1 if an identify named a different contact than before */
} identity_result_t;

/* Folds @ev (whose original bytes are @raw) into the state of its anonymous id.
 * The event must carry a non-blocked anonymous_id.  An event that also names a
 * contact (form, identity, or a visit with contact_id) identifies.  Returns 0, the
 * sink's negative errno, -ENOMEM, or -EINVAL for a blocked anonymous id.  @result may
 * be NULL; otherwise it is always written. */
int identity_fold(anon_state_t *s, const hf_event_t *ev, const void *raw, size_t raw_len,
                  const hf_rules_t *rules, const identity_sink_t *sink, identity_result_t *result);
