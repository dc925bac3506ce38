/* Event ids a contact has seen, for dropping repeats (internal to stage 2).
 *
 * Ids are kept as FNV-1a-64 hashes with the processing time -- wall clock, passed in
 * by the caller -- when they were seen, bounded in number and in age, in arrival
 * order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/binenc.h"

typedef struct dedupe_entry {
    uint64_t id_hash;
    int64_t at_ms;
} dedupe_entry_t;

typedef struct dedupe {
    dedupe_entry_t *entries; /* arrival order */
    size_t count;
    size_t cap;
} dedupe_t;

bool dedupe_contains(const dedupe_t *d, uint64_t id_hash);

/* Remembers @id_hash seen at @at_ms, then forgets entries older than the newest by
 * more than @window_ms (0 = no time bound) and the oldest beyond @max_ids.
 * Returns 0 or -ENOMEM (nothing changed). */
int dedupe_remember(dedupe_t *d, uint64_t id_hash, int64_t at_ms, uint32_t max_ids,
                    int64_t window_ms);

void dedupe_free(dedupe_t *d);

void dedupe_encode(binenc_writer_t *w, const dedupe_t *d);
/* Reads what dedupe_encode() wrote into the empty @d; errors go to @r. */
void dedupe_decode(binenc_reader_t *r, dedupe_t *d);
