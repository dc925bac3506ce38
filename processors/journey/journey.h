/* The bounded timeline of one contact (internal to stage 2): sessions, page views
 * and pages, downloads, webinars, e-mail engagement and recent touches.  Lists that
 * are "newest first" are ordered by event time, ties: the later fold first, and cut
 * at their bound from the oldest end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/binenc.h"
#include "processors/model/event.h"
#include "processors/rules/rules.h"

typedef struct journey_page {
    char *url;   /* owned */
    char *title; /* owned; NULL = none seen; newest by event time */
    int64_t title_at_ms;
    int32_t views;
    int64_t last_at_ms;
} journey_page_t;

typedef struct journey_download {
    char *asset_id, *title, *type; /* owned */
    int64_t at_ms;
} journey_download_t;

typedef struct journey_webinar {
    char *webinar_id, *title, *action; /* owned */
    int32_t minutes;
    int64_t at_ms;
} journey_webinar_t;

typedef struct journey_touch {
    int64_t at_ms;
    char *type, *title; /* owned */
    char *detail;       /* owned; NULL = none */
} journey_touch_t;

typedef struct journey {
    int32_t sessions;         /* distinct session ids counted */
    uint64_t *session_hashes; /* the most recent distinct ones, oldest first */
    size_t session_count, session_cap;
    int32_t page_views;
    journey_page_t *pages;
    size_t page_count, page_cap;
    journey_download_t *downloads; /* newest first */
    size_t download_count, download_cap;
    journey_webinar_t *webinars; /* newest first */
    size_t webinar_count, webinar_cap;
    int32_t email_opens;
    int32_t email_clicks;
    char *email_last_campaign; /* owned; NULL = none */
    int64_t email_last_at_ms;
    journey_touch_t *recent; /* newest first */
    size_t recent_count, recent_cap;
} journey_t;

/* Adds @ev to the timeline.  @before_known marks a touch from the anonymous history
 * (detail "before known").  Returns 0 or -ENOMEM. */
int journey_fold(journey_t *j, const hf_event_t *ev, const hf_rules_t *rules, bool before_known);

/* Folds @src into @j (a merge of two contacts): counts added (a session both
 * remember counted once), pages joined by url, the newest-first lists merged under
 * their bounds, the newer last e-mail campaign.  Returns 0 or -ENOMEM (@j may then
 * hold part of @src). */
int journey_merge(journey_t *j, const journey_t *src, const hf_rules_t *rules);

/* Indices of the @max most viewed pages (ties: most recent, then url) into @idx
 * (room for @max); returns how many. */
size_t journey_top_pages(const journey_t *j, size_t *idx, size_t max);

void journey_free(journey_t *j);

void journey_encode(binenc_writer_t *w, const journey_t *j);

/* One element of a touch, download or webinar list in the state encoding
 * (ContactState's journey and AccountState's members share the layout).  The
 * getters fill a zeroed element, with the signature binenc arrays of items take. */
void journey_put_touch(binenc_writer_t *w, const journey_touch_t *t);
void journey_put_download(binenc_writer_t *w, const journey_download_t *d);
void journey_put_webinar(binenc_writer_t *w, const journey_webinar_t *wb);
void journey_get_touch(binenc_reader_t *r, void *item);
void journey_get_download(binenc_reader_t *r, void *item);
void journey_get_webinar(binenc_reader_t *r, void *item);
void journey_decode(binenc_reader_t *r, journey_t *j);
