#include "journey.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/vec.h"

static int32_t inc_sat(int32_t v)
{
    return v < INT32_MAX ? v + 1 : v;
}

/* Duplicates @n strings (NULLs stay NULL) into @out; all or nothing.  Returns 0 or
 * -ENOMEM. */
static int dup_all(char **out, const char *const *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        if (in[i] && !(out[i] = strdup(in[i]))) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Where an item at @at_ms goes in a newest-first list, ties after nothing: the new
 * item goes before items of the same time: the later fold is newer.  Returns the
 * slot, or -1 when a full list (@max) has only newer items.  When the list is full
 * its oldest item is dropped (@drop frees it) before the gap is made.  The array must
 * have room for one more item. */
static long newest_first_slot(void *items, size_t *count, size_t size, size_t at_off, int64_t at_ms,
                              size_t max, void (*drop)(void *item))
{
    unsigned char *p = items;
    size_t pos = 0;
    for (; pos < *count; pos++) {
        int64_t t;
        memcpy(&t, p + pos * size + at_off, sizeof t);
        if (t <= at_ms)
            break;
    }
    if (pos >= max)
        return -1;
    if (*count >= max) {
        drop(p + (*count - 1) * size);
        (*count)--;
    }
    vec_insert_gap(items, *count, pos, size);
    (*count)++;
    return (long)pos;
}

static void download_drop(void *item)
{
    journey_download_t *d = item;
    free(d->asset_id);
    free(d->title);
    free(d->type);
}

static void webinar_drop(void *item)
{
    journey_webinar_t *w = item;
    free(w->webinar_id);
    free(w->title);
    free(w->action);
}

static void touch_drop(void *item)
{
    journey_touch_t *t = item;
    free(t->type);
    free(t->title);
    free(t->detail);
}

static int add_download(journey_t *j, const hf_event_t *ev, size_t max)
{
    if (!max)
        return 0;
    journey_download_t *grown =
        vec_grow(j->downloads, &j->download_cap, j->download_count + 1, sizeof *j->downloads);
    if (!grown)
        return -ENOMEM;
    j->downloads = grown;
    const char *in[3] = {ev->asset_id ? ev->asset_id : "", ev->asset_title ? ev->asset_title : "",
                         ev->asset_type ? ev->asset_type : ""};
    char *s[3];
    if (dup_all(s, in, 3) < 0)
        return -ENOMEM;
    long slot = newest_first_slot(j->downloads, &j->download_count, sizeof *j->downloads,
                                  offsetof(journey_download_t, at_ms), ev->occurred_at_ms, max,
                                  download_drop);
    journey_download_t d = {s[0], s[1], s[2], ev->occurred_at_ms};
    if (slot < 0)
        download_drop(&d);
    else
        j->downloads[slot] = d;
    return 0;
}

static int add_webinar(journey_t *j, const hf_event_t *ev, size_t max)
{
    if (!max)
        return 0;
    journey_webinar_t *grown =
        vec_grow(j->webinars, &j->webinar_cap, j->webinar_count + 1, sizeof *j->webinars);
    if (!grown)
        return -ENOMEM;
    j->webinars = grown;
    const char *action = hf_webinar_action_name(ev->webinar_action);
    const char *in[3] = {ev->webinar_id ? ev->webinar_id : "",
                         ev->webinar_title ? ev->webinar_title : "", action ? action : ""};
    char *s[3];
    if (dup_all(s, in, 3) < 0)
        return -ENOMEM;
    long slot = newest_first_slot(j->webinars, &j->webinar_count, sizeof *j->webinars,
                                  offsetof(journey_webinar_t, at_ms), ev->occurred_at_ms, max,
                                  webinar_drop);
    journey_webinar_t w = {s[0], s[1], s[2], ev->minutes_attended, ev->occurred_at_ms};
    if (slot < 0)
        webinar_drop(&w);
    else
        j->webinars[slot] = w;
    return 0;
}

static int add_touch(journey_t *j, int64_t at_ms, const char *type, const char *title,
                     const char *detail, size_t max)
{
    if (!max)
        return 0;
    journey_touch_t *grown =
        vec_grow(j->recent, &j->recent_cap, j->recent_count + 1, sizeof *j->recent);
    if (!grown)
        return -ENOMEM;
    j->recent = grown;
    const char *in[3] = {type, title ? title : "", detail};
    char *s[3];
    if (dup_all(s, in, 3) < 0)
        return -ENOMEM;
    long slot = newest_first_slot(j->recent, &j->recent_count, sizeof *j->recent,
                                  offsetof(journey_touch_t, at_ms), at_ms, max, touch_drop);
    journey_touch_t t = {at_ms, s[0], s[1], s[2]};
    if (slot < 0)
        touch_drop(&t);
    else
        j->recent[slot] = t;
    return 0;
}

static int count_session(journey_t *j, const char *session_id, size_t max)
{
    if (!session_id || !*session_id || !max)
        return 0;
    uint64_t h = hash_fnv1a64_str(session_id);
    for (size_t i = 0; i < j->session_count; i++)
        if (j->session_hashes[i] == h)
            return 0;
    uint64_t *grown = vec_grow(j->session_hashes, &j->session_cap, j->session_count + 1,
                               sizeof *j->session_hashes);
    if (!grown)
        return -ENOMEM;
    j->session_hashes = grown;
    j->session_hashes[j->session_count++] = h;
    /* a bounded memory: a session seen again after it fell out counts twice */
    while (j->session_count > max) {
        vec_remove(j->session_hashes, j->session_count, 0, sizeof *j->session_hashes);
        j->session_count--;
    }
    j->sessions = inc_sat(j->sessions);
    return 0;
}

static int set_title(journey_page_t *p, const char *title, int64_t at_ms)
{
    if (!title || (p->title && at_ms < p->title_at_ms))
        return 0;
    char *copy = strdup(title);
    if (!copy)
        return -ENOMEM;
    free(p->title);
    p->title = copy;
    p->title_at_ms = at_ms;
    return 0;
}

static int view_page(journey_t *j, const hf_event_t *ev, size_t max)
{
    j->page_views = inc_sat(j->page_views);
    if (!ev->url)
        return 0;
    int64_t at = ev->occurred_at_ms;
    for (size_t i = 0; i < j->page_count; i++) {
        journey_page_t *p = &j->pages[i];
        if (strcmp(p->url, ev->url) != 0)
            continue;
        p->views = inc_sat(p->views);
        if (at > p->last_at_ms)
            p->last_at_ms = at;
        return set_title(p, ev->title, at);
    }
    if (!max)
        return 0;
    journey_page_t *grown = vec_grow(j->pages, &j->page_cap, j->page_count + 1, sizeof *j->pages);
    if (!grown)
        return -ENOMEM;
    j->pages = grown;
    journey_page_t page = {.url = strdup(ev->url), .views = 1, .last_at_ms = at};
    if (!page.url || set_title(&page, ev->title, at) < 0) {
        free(page.url);
        return -ENOMEM;
    }
    if (j->page_count >= max) {
        /* the least viewed page goes, the least recently viewed among equals */
        size_t victim = 0;
        for (size_t i = 1; i < j->page_count; i++) {
            const journey_page_t *a = &j->pages[i], *b = &j->pages[victim];
            if (a->views < b->views || (a->views == b->views && a->last_at_ms < b->last_at_ms))
                victim = i;
        }
        free(j->pages[victim].url);
        free(j->pages[victim].title);
        vec_remove(j->pages, j->page_count, victim, sizeof *j->pages);
        j->page_count--;
    }
    j->pages[j->page_count++] = page;
    return 0;
}

static bool email_is_engagement(hf_email_action_t a)
{
    return a == HF_EMAIL_OPENED || a == HF_EMAIL_CLICKED || a == HF_EMAIL_UNSUBSCRIBED ||
           a == HF_EMAIL_SPAM_REPORTED;
}

static int fold_email(journey_t *j, const hf_event_t *ev)
{
    if (ev->email_action == HF_EMAIL_OPENED)
        j->email_opens = inc_sat(j->email_opens);
    else if (ev->email_action == HF_EMAIL_CLICKED)
        j->email_clicks = inc_sat(j->email_clicks);
    if (!email_is_engagement(ev->email_action) || !ev->campaign)
        return 0;
    if (j->email_last_campaign && ev->occurred_at_ms < j->email_last_at_ms)
        return 0;
    char *copy = strdup(ev->campaign);
    if (!copy)
        return -ENOMEM;
    free(j->email_last_campaign);
    j->email_last_campaign = copy;
    j->email_last_at_ms = ev->occurred_at_ms;
    return 0;
}

int journey_fold(journey_t *j, const hf_event_t *ev, const hf_rules_t *rules, bool before_known)
{
    int r = 0;
    const char *type = NULL, *title = NULL, *detail = NULL;
    char detail_buf[96];
    switch (ev->kind) {
    case HF_EV_WEB_VISIT:
        r = count_session(j, ev->session_id, rules->journey.sessions_max);
        if (r == 0)
            r = view_page(j, ev, rules->journey.pages_max);
        type = "web_visit";
        title = ev->title ? ev->title : ev->url;
        detail = ev->url;
        break;
    case HF_EV_FORM:
        type = "form";
        detail = hf_form_type_name(ev->form_type);
        title = ev->form_id ? ev->form_id : detail;
        break;
    case HF_EV_DOWNLOAD:
        r = add_download(j, ev, rules->journey.downloads_max);
        type = "download";
        title = ev->asset_title ? ev->asset_title : ev->asset_id;
        detail = ev->asset_type;
        break;
    case HF_EV_WEBINAR: {
        r = add_webinar(j, ev, rules->journey.webinars_max);
        type = "webinar";
        title = ev->webinar_title ? ev->webinar_title : ev->webinar_id;
        const char *action = hf_webinar_action_name(ev->webinar_action);
        if (ev->minutes_attended > 0)
            snprintf(detail_buf, sizeof detail_buf, "%s, %d min", action ? action : "",
                     (int)ev->minutes_attended);
        else
            snprintf(detail_buf, sizeof detail_buf, "%s", action ? action : "");
        detail = detail_buf;
        break;
    }
    case HF_EV_EMAIL:
        r = fold_email(j, ev);
        /* delivered and bounced are the sender's doing, not the buyer's */
        if (email_is_engagement(ev->email_action)) {
            type = "email";
            title = ev->campaign ? ev->campaign : ev->email_id;
            detail = hf_email_action_name(ev->email_action);
        }
        break;
    default:
        break; /* identity and sales records are not touches */
    }
    if (r < 0 || !type)
        return r;
    if (before_known)
        detail = "before known";
    return add_touch(j, ev->occurred_at_ms, type, title, detail, rules->journey.recent_max);
}

/* The newest-first list insertions of a merge: copies of @src's items, each placed as
 * a fold of its own time would place it (before items of the same time).  They go in
 * oldest first, so that @src's own ties keep their order. */
static int merge_downloads(journey_t *j, const journey_t *src, size_t max)
{
    for (size_t i = src->download_count; i-- > 0 && max;) {
        const journey_download_t *d = &src->downloads[i];
        journey_download_t *grown =
            vec_grow(j->downloads, &j->download_cap, j->download_count + 1, sizeof *j->downloads);
        if (!grown)
            return -ENOMEM;
        j->downloads = grown;
        const char *in[3] = {d->asset_id, d->title, d->type};
        char *c[3];
        if (dup_all(c, in, 3) < 0)
            return -ENOMEM;
        journey_download_t copy = {c[0], c[1], c[2], d->at_ms};
        long slot =
            newest_first_slot(j->downloads, &j->download_count, sizeof *j->downloads,
                              offsetof(journey_download_t, at_ms), d->at_ms, max, download_drop);
        if (slot < 0)
            download_drop(&copy);
        else
            j->downloads[slot] = copy;
    }
    return 0;
}

static int merge_webinars(journey_t *j, const journey_t *src, size_t max)
{
    for (size_t i = src->webinar_count; i-- > 0 && max;) {
        const journey_webinar_t *w = &src->webinars[i];
        journey_webinar_t *grown =
            vec_grow(j->webinars, &j->webinar_cap, j->webinar_count + 1, sizeof *j->webinars);
        if (!grown)
            return -ENOMEM;
        j->webinars = grown;
        const char *in[3] = {w->webinar_id, w->title, w->action};
        char *c[3];
        if (dup_all(c, in, 3) < 0)
            return -ENOMEM;
        journey_webinar_t copy = {c[0], c[1], c[2], w->minutes, w->at_ms};
        long slot =
            newest_first_slot(j->webinars, &j->webinar_count, sizeof *j->webinars,
                              offsetof(journey_webinar_t, at_ms), w->at_ms, max, webinar_drop);
        if (slot < 0)
            webinar_drop(&copy);
        else
            j->webinars[slot] = copy;
    }
    return 0;
}

static int merge_pages(journey_t *j, const journey_t *src, size_t max)
{
    for (size_t i = 0; i < src->page_count; i++) {
        const journey_page_t *sp = &src->pages[i];
        journey_page_t *dp = NULL;
        for (size_t k = 0; k < j->page_count && !dp; k++)
            if (strcmp(j->pages[k].url, sp->url) == 0)
                dp = &j->pages[k];
        if (dp) {
            int64_t sum = (int64_t)dp->views + sp->views;
            dp->views = sum > INT32_MAX ? INT32_MAX : (int32_t)sum;
            if (sp->last_at_ms > dp->last_at_ms)
                dp->last_at_ms = sp->last_at_ms;
            if (set_title(dp, sp->title, sp->title_at_ms) < 0)
                return -ENOMEM;
            continue;
        }
        if (!max)
            continue;
        journey_page_t *grown =
            vec_grow(j->pages, &j->page_cap, j->page_count + 1, sizeof *j->pages);
        if (!grown)
            return -ENOMEM;
        j->pages = grown;
        journey_page_t page = {
            .url = strdup(sp->url), .views = sp->views, .last_at_ms = sp->last_at_ms};
        if (!page.url || set_title(&page, sp->title, sp->title_at_ms) < 0) {
            free(page.url);
            return -ENOMEM;
        }
        j->pages[j->page_count++] = page;
    }
    /* over the bound the least viewed pages go, the least recently viewed among equals */
    while (j->page_count > max) {
        size_t victim = 0;
        for (size_t i = 1; i < j->page_count; i++) {
            const journey_page_t *a = &j->pages[i], *b = &j->pages[victim];
            if (a->views < b->views || (a->views == b->views && a->last_at_ms < b->last_at_ms))
                victim = i;
        }
        free(j->pages[victim].url);
        free(j->pages[victim].title);
        vec_remove(j->pages, j->page_count, victim, sizeof *j->pages);
        j->page_count--;
    }
    return 0;
}

static int merge_sessions(journey_t *j, const journey_t *src, size_t max)
{
    /* a session both remember was counted by both */
    int64_t total = (int64_t)j->sessions + src->sessions;
    size_t before = j->session_count;
    for (size_t i = 0; i < src->session_count; i++) {
        uint64_t h = src->session_hashes[i];
        bool seen = false;
        for (size_t k = 0; k < before && !seen; k++)
            seen = j->session_hashes[k] == h;
        if (seen) {
            total--;
            continue;
        }
        uint64_t *grown = vec_grow(j->session_hashes, &j->session_cap, j->session_count + 1,
                                   sizeof *j->session_hashes);
        if (!grown)
            return -ENOMEM;
        j->session_hashes = grown;
        j->session_hashes[j->session_count++] = h;
    }
    while (j->session_count > max) {
        vec_remove(j->session_hashes, j->session_count, 0, sizeof *j->session_hashes);
        j->session_count--;
    }
    j->sessions = total > INT32_MAX ? INT32_MAX : total < 0 ? 0 : (int32_t)total;
    return 0;
}

static int32_t add_sat(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + b;
    return sum > INT32_MAX ? INT32_MAX : (int32_t)sum;
}

int journey_merge(journey_t *j, const journey_t *src, const hf_rules_t *rules)
{
    int r = merge_sessions(j, src, rules->journey.sessions_max);
    if (r == 0)
        r = merge_pages(j, src, rules->journey.pages_max);
    if (r == 0)
        r = merge_downloads(j, src, rules->journey.downloads_max);
    if (r == 0)
        r = merge_webinars(j, src, rules->journey.webinars_max);
    for (size_t i = src->recent_count; r == 0 && i-- > 0;) {
        const journey_touch_t *t = &src->recent[i];
        r = add_touch(j, t->at_ms, t->type, t->title, t->detail, rules->journey.recent_max);
    }
    if (r < 0)
        return r;
    j->page_views = add_sat(j->page_views, src->page_views);
    j->email_opens = add_sat(j->email_opens, src->email_opens);
    j->email_clicks = add_sat(j->email_clicks, src->email_clicks);
    if (src->email_last_campaign &&
        (!j->email_last_campaign || src->email_last_at_ms > j->email_last_at_ms)) {
        char *copy = strdup(src->email_last_campaign);
        if (!copy)
            return -ENOMEM;
        free(j->email_last_campaign);
        j->email_last_campaign = copy;
        j->email_last_at_ms = src->email_last_at_ms;
    }
    return 0;
}

size_t journey_top_pages(const journey_t *j, size_t *idx, size_t max)
{
    size_t n = 0;
    /* selection of the best remaining page, @max times: bounds are small */
    while (n < max && n < j->page_count) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < j->page_count; i++) {
            bool taken = false;
            for (size_t k = 0; k < n && !taken; k++)
                taken = idx[k] == i;
            if (taken)
                continue;
            if (best == SIZE_MAX) {
                best = i;
                continue;
            }
            const journey_page_t *a = &j->pages[i], *b = &j->pages[best];
            if (a->views > b->views || (a->views == b->views && (a->last_at_ms > b->last_at_ms ||
                                                                 (a->last_at_ms == b->last_at_ms &&
                                                                  strcmp(a->url, b->url) < 0))))
                best = i;
        }
        idx[n++] = best;
    }
    return n;
}

void journey_free(journey_t *j)
{
    free(j->session_hashes);
    for (size_t i = 0; i < j->page_count; i++) {
        free(j->pages[i].url);
        free(j->pages[i].title);
    }
    free(j->pages);
    for (size_t i = 0; i < j->download_count; i++)
        download_drop(&j->downloads[i]);
    free(j->downloads);
    for (size_t i = 0; i < j->webinar_count; i++)
        webinar_drop(&j->webinars[i]);
    free(j->webinars);
    free(j->email_last_campaign);
    for (size_t i = 0; i < j->recent_count; i++)
        touch_drop(&j->recent[i]);
    free(j->recent);
    *j = (journey_t){0};
}

/* ---- list elements (ContactState and AccountState share them) ---- */

void journey_put_touch(binenc_writer_t *w, const journey_touch_t *t)
{
    binenc_put_long(w, t->at_ms);
    binenc_put_string(w, t->type);
    binenc_put_string(w, t->title);
    binenc_put_opt_string(w, t->detail);
}

void journey_put_download(binenc_writer_t *w, const journey_download_t *d)
{
    binenc_put_string(w, d->asset_id);
    binenc_put_string(w, d->title);
    binenc_put_string(w, d->type);
    binenc_put_long(w, d->at_ms);
}

void journey_put_webinar(binenc_writer_t *w, const journey_webinar_t *wb)
{
    binenc_put_string(w, wb->webinar_id);
    binenc_put_string(w, wb->title);
    binenc_put_string(w, wb->action);
    binenc_put_int(w, wb->minutes);
    binenc_put_long(w, wb->at_ms);
}

void journey_get_touch(binenc_reader_t *r, void *item)
{
    journey_touch_t *t = item;
    t->at_ms = binenc_get_long(r);
    t->type = binenc_get_string(r);
    t->title = binenc_get_string(r);
    t->detail = binenc_get_opt_string(r);
}

void journey_get_download(binenc_reader_t *r, void *item)
{
    journey_download_t *d = item;
    d->asset_id = binenc_get_string(r);
    d->title = binenc_get_string(r);
    d->type = binenc_get_string(r);
    d->at_ms = binenc_get_long(r);
}

void journey_get_webinar(binenc_reader_t *r, void *item)
{
    journey_webinar_t *wb = item;
    wb->webinar_id = binenc_get_string(r);
    wb->title = binenc_get_string(r);
    wb->action = binenc_get_string(r);
    wb->minutes = binenc_get_int(r);
    wb->at_ms = binenc_get_long(r);
}

void journey_encode(binenc_writer_t *w, const journey_t *j)
{
    binenc_put_int(w, j->sessions);
    binenc_put_array_start(w, j->session_count);
    for (size_t i = 0; i < j->session_count; i++)
        binenc_put_long(w, (int64_t)j->session_hashes[i]);
    binenc_put_array_end(w);

    binenc_put_int(w, j->page_views);
    binenc_put_array_start(w, j->page_count);
    for (size_t i = 0; i < j->page_count; i++) {
        const journey_page_t *p = &j->pages[i];
        binenc_put_string(w, p->url);
        binenc_put_opt_string(w, p->title);
        binenc_put_long(w, p->title_at_ms);
        binenc_put_int(w, p->views);
        binenc_put_long(w, p->last_at_ms);
    }
    binenc_put_array_end(w);

    binenc_put_array_start(w, j->download_count);
    for (size_t i = 0; i < j->download_count; i++)
        journey_put_download(w, &j->downloads[i]);
    binenc_put_array_end(w);

    binenc_put_array_start(w, j->webinar_count);
    for (size_t i = 0; i < j->webinar_count; i++)
        journey_put_webinar(w, &j->webinars[i]);
    binenc_put_array_end(w);

    binenc_put_int(w, j->email_opens);
    binenc_put_int(w, j->email_clicks);
    binenc_put_opt_string(w, j->email_last_campaign);
    binenc_put_long(w, j->email_last_at_ms);

    binenc_put_array_start(w, j->recent_count);
    for (size_t i = 0; i < j->recent_count; i++)
        journey_put_touch(w, &j->recent[i]);
    binenc_put_array_end(w);
}

/* Grows @arr for @need items, or marks @r out of memory and returns from the
 * calling decoder. */
#define GROW_OR_RETURN(r, arr, cap, need)                                                          \
    do {                                                                                           \
        void *grown_ = vec_grow((arr), &(cap), (need), sizeof *(arr));                             \
        if (!grown_) {                                                                             \
            (r)->err = -ENOMEM;                                                                    \
            return;                                                                                \
        }                                                                                          \
        (arr) = grown_;                                                                            \
    } while (0)

/* A newest-first list must be ordered by time. */
static void check_newest_first(binenc_reader_t *r, int64_t prev, int64_t cur, size_t i)
{
    if (i > 0 && cur > prev)
        binenc_fail(r);
}

void journey_decode(binenc_reader_t *r, journey_t *j)
{
    j->sessions = binenc_get_int_range(r, 0, INT32_MAX);
    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        GROW_OR_RETURN(r, j->session_hashes, j->session_cap, j->session_count + n);
        for (size_t i = 0; i < n && !r->err; i++)
            j->session_hashes[j->session_count++] = (uint64_t)binenc_get_long(r);
    }

    j->page_views = binenc_get_int_range(r, 0, INT32_MAX);
    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        GROW_OR_RETURN(r, j->pages, j->page_cap, j->page_count + n);
        for (size_t i = 0; i < n && !r->err; i++) {
            journey_page_t *p = &j->pages[j->page_count++];
            *p = (journey_page_t){0};
            p->url = binenc_get_string(r);
            p->title = binenc_get_opt_string(r);
            p->title_at_ms = binenc_get_long(r);
            p->views = binenc_get_int_range(r, 1, INT32_MAX);
            p->last_at_ms = binenc_get_long(r);
        }
    }

    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        GROW_OR_RETURN(r, j->downloads, j->download_cap, j->download_count + n);
        for (size_t i = 0; i < n && !r->err; i++) {
            journey_download_t *d = &j->downloads[j->download_count];
            *d = (journey_download_t){0};
            journey_get_download(r, d);
            if (j->download_count)
                check_newest_first(r, d[-1].at_ms, d->at_ms, j->download_count);
            j->download_count++;
        }
    }

    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        GROW_OR_RETURN(r, j->webinars, j->webinar_cap, j->webinar_count + n);
        for (size_t i = 0; i < n && !r->err; i++) {
            journey_webinar_t *wb = &j->webinars[j->webinar_count];
            *wb = (journey_webinar_t){0};
            journey_get_webinar(r, wb);
            if (j->webinar_count)
                check_newest_first(r, wb[-1].at_ms, wb->at_ms, j->webinar_count);
            j->webinar_count++;
        }
    }

    j->email_opens = binenc_get_int_range(r, 0, INT32_MAX);
    j->email_clicks = binenc_get_int_range(r, 0, INT32_MAX);
    j->email_last_campaign = binenc_get_opt_string(r);
    j->email_last_at_ms = binenc_get_long(r);

    for (size_t n = binenc_get_block(r); n; n = binenc_get_block(r)) {
        GROW_OR_RETURN(r, j->recent, j->recent_cap, j->recent_count + n);
        for (size_t i = 0; i < n && !r->err; i++) {
            journey_touch_t *t = &j->recent[j->recent_count];
            *t = (journey_touch_t){0};
            journey_get_touch(r, t);
            if (j->recent_count)
                check_newest_first(r, t[-1].at_ms, t->at_ms, j->recent_count);
            j->recent_count++;
        }
    }
}
