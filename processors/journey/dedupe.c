#include "dedupe.h"

#include <errno.h>
#include <stdlib.h>

#include "util/timespan.h"
#include "util/vec.h"

bool dedupe_contains(const dedupe_t *d, uint64_t id_hash)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->entries[i].id_hash == id_hash)
            return true;
    return false;
}

int dedupe_remember(dedupe_t *d, uint64_t id_hash, int64_t at_ms, uint32_t max_ids,
                    int64_t window_ms)
{
    if (max_ids == 0)
        return 0;
    dedupe_entry_t *grown = vec_grow(d->entries, &d->cap, d->count + 1, sizeof *d->entries);
    if (!grown)
        return -ENOMEM;
    d->entries = grown;
    d->entries[d->count++] = (dedupe_entry_t){id_hash, at_ms};

    if (window_ms > 0) {
        int64_t newest = at_ms;
        for (size_t i = 0; i < d->count; i++)
            if (d->entries[i].at_ms > newest)
                newest = d->entries[i].at_ms;
        size_t kept = 0;
        for (size_t i = 0; i < d->count; i++)
            if (!timespan_older_than(d->entries[i].at_ms, newest, window_ms))
                d->entries[kept++] = d->entries[i];
        d->count = kept;
    }
    while (d->count > max_ids) {
        size_t oldest = 0;
        for (size_t i = 1; i < d->count; i++)
            if (d->entries[i].at_ms < d->entries[oldest].at_ms)
                oldest = i;
        vec_remove(d->entries, d->count, oldest, sizeof *d->entries);
        d->count--;
    }
    return 0;
}

void dedupe_free(dedupe_t *d)
{
    free(d->entries);
    *d = (dedupe_t){0};
}

void dedupe_encode(binenc_writer_t *w, const dedupe_t *d)
{
    binenc_put_array_start(w, d->count);
    for (size_t i = 0; i < d->count; i++) {
        binenc_put_long(w, (int64_t)d->entries[i].id_hash);
        binenc_put_long(w, d->entries[i].at_ms);
    }
    binenc_put_array_end(w);
}

void dedupe_decode(binenc_reader_t *r, dedupe_t *d)
{
    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        dedupe_entry_t *grown = vec_grow(d->entries, &d->cap, d->count + n, sizeof *d->entries);
        if (!grown) {
            r->err = -ENOMEM;
            return;
        }
        d->entries = grown;
        for (size_t i = 0; i < n && !r->err; i++) {
            uint64_t h = (uint64_t)binenc_get_long(r);
            int64_t at = binenc_get_long(r);
            d->entries[d->count++] = (dedupe_entry_t){h, at};
        }
    }
}
