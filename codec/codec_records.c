/* Records between stages: MemberUpdate, RosterUpdate, MergeRequest, MergeState
 * (schemas/internal/).  Written and read as Avro binary by hand, field by field in
 * schema order: they pass once per event, and Avro-C values would allocate.  The
 * unit tests check these bytes against Avro-C and the .avsc files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

static const char *const record_names[] = {
    [CODEC_INTERNAL_MEMBER_UPDATE] = "MemberUpdate",
    [CODEC_INTERNAL_ROSTER] = "RosterUpdate",
    [CODEC_INTERNAL_MERGE_REQUEST] = "MergeRequest",
    [CODEC_INTERNAL_MERGE_STATE] = "MergeState",
};
#define KINDS (sizeof(record_names) / sizeof(record_names[0]))

/* Per codec: the fingerprints, and the arena the last decoded record lives in. */
struct codec_records {
    uint64_t fingerprint[KINDS];
    hf_buf_t strings; /* every string of the record; reserved up front, never moves */
    hf_interest_t *interests;
    size_t interests_cap;
    hf_reason_t *reasons;
    size_t reasons_cap;
    hf_touch_t *touches;
    size_t touches_cap;
    hf_download_t *downloads;
    size_t downloads_cap;
    hf_webinar_t *webinars;
    size_t webinars_cap;
    hf_member_t *members;
    size_t members_cap;
    const char **roles;
    size_t roles_cap;
};

void codec_records_free(codec_records_t *r)
{
    if (!r)
        return;
    hf_buf_free(&r->strings);
    free(r->interests);
    free(r->reasons);
    free(r->touches);
    free(r->downloads);
    free(r->webinars);
    free(r->members);
    free(r->roles);
    free(r);
}

static codec_records_t *records_of(codec_t *c)
{
    codec_records_t **slot = codec_records_slot(c);
    if (*slot)
        return *slot;
    codec_records_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    for (size_t k = 0; k < KINDS; k++)
        r->fingerprint[k] = codec_schema_fingerprint(record_names[k]);
    *slot = r;
    return r;
}

int codec_internal_kind(codec_t *c, const void *buf, size_t len)
{
    const char *name = codec_frame_internal(c, buf, len);
    if (!name)
        return -1;
    for (size_t k = 0; k < KINDS; k++)
        if (strcmp(record_names[k], name) == 0)
            return (int)k;
    return -1;
}

/* ---- writing ------------------------------------------------------------------ */

/* Appends go to @out; a failed encoder truncates it back to where it started. */
typedef struct writer {
    hf_buf_t *out;
    int err;
} writer_t;

static void put_raw(writer_t *w, const void *p, size_t n)
{
    if (!w->err && hf_buf_append(w->out, p, n) < 0)
        w->err = -ENOMEM;
}

static void put_long(writer_t *w, int64_t v)
{
    uint8_t b[10];
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        b[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (uint8_t)z;
    put_raw(w, b, n);
}

static void put_bool(writer_t *w, bool v)
{
    uint8_t b = v ? 1 : 0;
    put_raw(w, &b, 1);
}

static void put_bytes(writer_t *w, const void *p, size_t n)
{
    put_long(w, (int64_t)n);
    put_raw(w, p, n);
}

/* A required string: NULL is a caller's bug, reported as -EINVAL. */
static void put_str(writer_t *w, const char *s)
{
    if (!s) {
        if (!w->err)
            w->err = -EINVAL;
        return;
    }
    put_bytes(w, s, strlen(s));
}

/* ["null", "string"] */
static void put_opt_str(writer_t *w, const char *s)
{
    put_long(w, s ? 1 : 0);
    if (s)
        put_bytes(w, s, strlen(s));
}

static void put_le(writer_t *w, uint64_t bits, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++, bits >>= 8)
        b[i] = (uint8_t)bits;
    put_raw(w, b, n);
}

static void put_double(writer_t *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put_le(w, bits, 8);
}

static void put_float(writer_t *w, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    put_le(w, bits, 4);
}

/* An array of @n items: one block, then the end marker (Avro: count, items, 0). */
static void put_array_start(writer_t *w, size_t n)
{
    if (n)
        put_long(w, (int64_t)n);
}

static void put_array_end(writer_t *w)
{
    put_long(w, 0);
}

static int frame_start(codec_t *c, codec_internal_kind_t kind, writer_t *w, size_t *start)
{
    codec_records_t *r = records_of(c);
    if (!r)
        return -ENOMEM;
    *start = w->out->len;
    uint8_t head[10] = {0xc3, 0x01};
    uint64_t fp = r->fingerprint[kind];
    for (int i = 0; i < 8; i++, fp >>= 8)
        head[2 + i] = (uint8_t)fp;
    put_raw(w, head, sizeof(head));
    return 0;
}

static int frame_end(writer_t *w, size_t start)
{
    if (w->err)
        w->out->len = start;
    return w->err;
}

int codec_encode_member_update(codec_t *c, const hf_member_update_t *u, hf_buf_t *out)
{
    writer_t w = {out, 0};
    size_t start;
    int r = frame_start(c, CODEC_INTERNAL_MEMBER_UPDATE, &w, &start);
    if (r)
        return r;
    put_str(&w, u->contact_id);
    put_str(&w, u->account_id);
    put_bool(&w, u->leave);
    put_long(&w, (int64_t)u->version);
    put_long(&w, u->at_ms);
    put_double(&w, u->score);
    put_long(&w, u->score_at_ms);
    put_opt_str(&w, u->role);
    put_opt_str(&w, u->stage);
    put_opt_str(&w, u->fit_grade);
    put_long(&w, u->first_seen_ms);
    put_long(&w, u->last_active_ms);
    put_opt_str(&w, u->company_name);
    put_opt_str(&w, u->industry);
    put_long(&w, u->has_employees ? 1 : 0);
    if (u->has_employees)
        put_long(&w, u->employees);
    put_opt_str(&w, u->country);
    put_opt_str(&w, u->region);
    put_array_start(&w, u->interest_count);
    for (size_t i = 0; i < u->interest_count; i++) {
        put_str(&w, u->interests[i].topic);
        put_float(&w, u->interests[i].weight);
    }
    put_array_end(&w);
    put_array_start(&w, u->contribution_count);
    for (size_t i = 0; i < u->contribution_count; i++) {
        const hf_reason_t *x = &u->contributions[i];
        put_str(&w, x->rule);
        put_long(&w, x->points);
        put_long(&w, x->count);
        put_opt_str(&w, x->detail);
    }
    put_array_end(&w);
    put_array_start(&w, u->touch_count);
    for (size_t i = 0; i < u->touch_count; i++) {
        const hf_touch_t *x = &u->touches[i];
        put_long(&w, x->at_ms);
        put_str(&w, x->type);
        put_opt_str(&w, x->title);
        put_opt_str(&w, x->detail);
    }
    put_array_end(&w);
    put_array_start(&w, u->download_count);
    for (size_t i = 0; i < u->download_count; i++) {
        const hf_download_t *x = &u->downloads[i];
        put_str(&w, x->asset_id);
        put_opt_str(&w, x->title);
        put_opt_str(&w, x->type);
        put_long(&w, x->at_ms);
    }
    put_array_end(&w);
    put_array_start(&w, u->webinar_count);
    for (size_t i = 0; i < u->webinar_count; i++) {
        const hf_webinar_t *x = &u->webinars[i];
        put_str(&w, x->webinar_id);
        put_opt_str(&w, x->title);
        put_opt_str(&w, x->action);
        put_long(&w, x->minutes);
        put_long(&w, x->at_ms);
    }
    put_array_end(&w);
    put_long(&w, u->sessions);
    put_long(&w, u->page_views);
    put_long(&w, u->email_opens);
    put_long(&w, u->email_clicks);
    return frame_end(&w, start);
}

int codec_encode_roster(codec_t *c, const char *contact_id, const hf_roster_t *ro, hf_buf_t *out)
{
    writer_t w = {out, 0};
    size_t start;
    int r = frame_start(c, CODEC_INTERNAL_ROSTER, &w, &start);
    if (r)
        return r;
    put_str(&w, contact_id);
    put_str(&w, ro->account_id);
    put_long(&w, (int64_t)ro->version);
    put_array_start(&w, ro->member_count);
    for (size_t i = 0; i < ro->member_count; i++) {
        const hf_member_t *x = &ro->members[i];
        put_str(&w, x->contact_id);
        put_opt_str(&w, x->role);
        put_long(&w, x->score);
        put_long(&w, x->last_active_ms);
    }
    put_array_end(&w);
    put_array_start(&w, ro->roles_covered_count);
    for (size_t i = 0; i < ro->roles_covered_count; i++)
        put_str(&w, ro->roles_covered[i]);
    put_array_end(&w);
    return frame_end(&w, start);
}

int codec_encode_merge_request(codec_t *c, const hf_merge_request_t *m, hf_buf_t *out)
{
    writer_t w = {out, 0};
    size_t start;
    int r = frame_start(c, CODEC_INTERNAL_MERGE_REQUEST, &w, &start);
    if (r)
        return r;
    put_opt_str(&w, m->event_id);
    put_long(&w, m->at_ms);
    put_str(&w, m->survivor_id);
    put_str(&w, m->loser_id);
    put_bool(&w, m->survivor_known);
    put_bool(&w, m->bounced);
    return frame_end(&w, start);
}

int codec_encode_merge_state(codec_t *c, const hf_merge_state_t *m, hf_buf_t *out)
{
    writer_t w = {out, 0};
    size_t start;
    int r = frame_start(c, CODEC_INTERNAL_MERGE_STATE, &w, &start);
    if (r)
        return r;
    put_opt_str(&w, m->event_id);
    put_long(&w, m->at_ms);
    put_str(&w, m->survivor_id);
    put_str(&w, m->loser_id);
    if (!m->state && m->state_len)
        w.err = -EINVAL;
    put_bytes(&w, m->state ? m->state : "", m->state_len);
    return frame_end(&w, start);
}

/* ---- reading ------------------------------------------------------------------ */

typedef struct reader {
    codec_cursor_t cur;
    codec_records_t *rec;
    int err;           /* first error: positive codec error or -ENOMEM */
    const char *field; /* where it happened */
} reader_t;

static void fail(reader_t *r, int e, const char *field)
{
    if (!r->err) {
        r->err = e;
        r->field = field;
    }
}

static int64_t get_long(reader_t *r, const char *field)
{
    int64_t v = 0;
    if (!r->err) {
        int e = codec_read_long(&r->cur, &v);
        if (e)
            fail(r, e, field);
    }
    return r->err ? 0 : v;
}

static int32_t get_int(reader_t *r, const char *field)
{
    int64_t v = get_long(r, field);
    if (v < INT32_MIN || v > INT32_MAX) {
        fail(r, CODEC_E_INVALID, field);
        return 0;
    }
    return (int32_t)v;
}

static bool get_bool(reader_t *r, const char *field)
{
    if (r->err)
        return false;
    if (r->cur.p == r->cur.end) {
        fail(r, CODEC_E_TRUNCATED, field);
        return false;
    }
    uint8_t b = *r->cur.p++;
    if (b > 1)
        fail(r, CODEC_E_INVALID, field);
    return b == 1;
}

static uint64_t get_le(reader_t *r, size_t n, const char *field)
{
    if (r->err)
        return 0;
    if (codec_cursor_left(&r->cur) < n) {
        fail(r, CODEC_E_TRUNCATED, field);
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = v << 8 | r->cur.p[i - 1];
    r->cur.p += n;
    return v;
}

static double get_double(reader_t *r, const char *field)
{
    uint64_t bits = get_le(r, 8, field);
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

static float get_float(reader_t *r, const char *field)
{
    uint32_t bits = (uint32_t)get_le(r, 4, field);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* A string, checked (UTF-8, no NUL) and copied NUL-terminated into the arena. */
static const char *get_str(reader_t *r, const char *field)
{
    size_t len = 0;
    if (r->err)
        return NULL;
    int e = codec_read_length(&r->cur, &len);
    if (e) {
        fail(r, e, field);
        return NULL;
    }
    if (codec_text_check(r->cur.p, len) != CODEC_TEXT_OK) {
        fail(r, CODEC_E_INVALID, field);
        return NULL;
    }
    hf_buf_t *a = &r->rec->strings;
    /* Reserved for the whole body up front: appending never moves the arena. */
    char *s = (char *)a->data + a->len;
    memcpy(s, r->cur.p, len);
    s[len] = 0;
    a->len += len + 1;
    r->cur.p += len;
    return s;
}

static const char *get_opt_str(reader_t *r, const char *field)
{
    int64_t branch = get_long(r, field);
    if (r->err)
        return NULL;
    if (branch == 0)
        return NULL;
    if (branch != 1) {
        fail(r, CODEC_E_INVALID, field);
        return NULL;
    }
    return get_str(r, field);
}

/* Reads an array of items at least @min_bytes each into the vector *@items (of
 * @size bytes per item, grown as needed), calling @item for each.  Returns the
 * count. */
static size_t get_array(reader_t *r, void **items, size_t *cap, size_t size, size_t min_bytes,
                        void (*item)(reader_t *, void *), const char *field)
{
    size_t n = 0;
    for (unsigned blocks = 0; !r->err; blocks++) {
        uint64_t count;
        int e = codec_read_block_count(&r->cur, min_bytes, &count);
        if (e) {
            fail(r, e, field);
            break;
        }
        if (count == 0)
            break;
        if (n + count > *cap) {
            size_t want = n + (size_t)count;
            void *grown = realloc(*items, want * size);
            if (!grown) {
                fail(r, -ENOMEM, field);
                break;
            }
            *items = grown;
            *cap = want;
        }
        for (uint64_t i = 0; i < count && !r->err; i++)
            item(r, (char *)*items + (n++) * size);
    }
    return r->err ? 0 : n;
}

static void read_interest(reader_t *r, void *p)
{
    hf_interest_t *x = p;
    x->topic = get_str(r, "interests.topic");
    x->weight = get_float(r, "interests.weight");
}

static void read_reason(reader_t *r, void *p)
{
    hf_reason_t *x = p;
    x->rule = get_str(r, "contributions.rule");
    x->points = get_int(r, "contributions.points");
    x->count = get_int(r, "contributions.count");
    x->detail = get_opt_str(r, "contributions.detail");
}

static void read_touch(reader_t *r, void *p)
{
    hf_touch_t *x = p;
    x->at_ms = get_long(r, "touches.at");
    x->type = get_str(r, "touches.type");
    x->title = get_opt_str(r, "touches.title");
    x->detail = get_opt_str(r, "touches.detail");
}

static void read_download(reader_t *r, void *p)
{
    hf_download_t *x = p;
    x->asset_id = get_str(r, "downloads.asset_id");
    x->title = get_opt_str(r, "downloads.title");
    x->type = get_opt_str(r, "downloads.type");
    x->at_ms = get_long(r, "downloads.at");
}

static void read_webinar(reader_t *r, void *p)
{
    hf_webinar_t *x = p;
    x->webinar_id = get_str(r, "webinars.webinar_id");
    x->title = get_opt_str(r, "webinars.title");
    x->action = get_opt_str(r, "webinars.action");
    x->minutes = get_int(r, "webinars.minutes");
    x->at_ms = get_long(r, "webinars.at");
}

static void read_member(reader_t *r, void *p)
{
    hf_member_t *x = p;
    x->contact_id = get_str(r, "members.contact_id");
    x->role = get_opt_str(r, "members.role");
    x->score = get_int(r, "members.score");
    x->last_active_ms = get_long(r, "members.last_active");
}

static void read_role(reader_t *r, void *p)
{
    *(const char **)p = get_str(r, "roles_covered");
}

static void read_member_update(reader_t *r, hf_member_update_t *u)
{
    codec_records_t *rec = r->rec;
    u->contact_id = get_str(r, "contact_id");
    u->account_id = get_str(r, "account_id");
    u->leave = get_bool(r, "leave");
    int64_t version = get_long(r, "version");
    if (version < 0)
        fail(r, CODEC_E_INVALID, "version");
    u->version = (uint64_t)version;
    u->at_ms = get_long(r, "at");
    u->score = get_double(r, "score");
    u->score_at_ms = get_long(r, "score_at");
    u->role = get_opt_str(r, "role");
    u->stage = get_opt_str(r, "stage");
    u->fit_grade = get_opt_str(r, "fit_grade");
    u->first_seen_ms = get_long(r, "first_seen");
    u->last_active_ms = get_long(r, "last_active");
    u->company_name = get_opt_str(r, "company_name");
    u->industry = get_opt_str(r, "industry");
    int64_t branch = get_long(r, "employees");
    if (branch == 1) {
        u->has_employees = true;
        u->employees = get_int(r, "employees");
    } else if (branch != 0) {
        fail(r, CODEC_E_INVALID, "employees");
    }
    u->country = get_opt_str(r, "country");
    u->region = get_opt_str(r, "region");
    u->interest_count = get_array(r, (void **)&rec->interests, &rec->interests_cap,
                                  sizeof(hf_interest_t), 5, read_interest, "interests");
    u->interests = rec->interests;
    u->contribution_count = get_array(r, (void **)&rec->reasons, &rec->reasons_cap,
                                      sizeof(hf_reason_t), 4, read_reason, "contributions");
    u->contributions = rec->reasons;
    u->touch_count = get_array(r, (void **)&rec->touches, &rec->touches_cap, sizeof(hf_touch_t), 4,
                               read_touch, "touches");
    u->touches = rec->touches;
    u->download_count = get_array(r, (void **)&rec->downloads, &rec->downloads_cap,
                                  sizeof(hf_download_t), 4, read_download, "downloads");
    u->downloads = rec->downloads;
    u->webinar_count = get_array(r, (void **)&rec->webinars, &rec->webinars_cap,
                                 sizeof(hf_webinar_t), 5, read_webinar, "webinars");
    u->webinars = rec->webinars;
    u->sessions = get_int(r, "sessions");
    u->page_views = get_int(r, "page_views");
    u->email_opens = get_int(r, "email_opens");
    u->email_clicks = get_int(r, "email_clicks");
}

int codec_decode_internal(codec_t *c, const void *buf, size_t len, hf_internal_t *out, char *err,
                          size_t errsz)
{
    memset(out, 0, sizeof(*out));
    int kind = codec_internal_kind(c, buf, len);
    if (kind < 0) {
        snprintf(err, errsz, "not a record between stages");
        return CODEC_E_UNKNOWN_SCHEMA;
    }
    codec_records_t *rec = records_of(c);
    if (!rec) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    hf_buf_reset(&rec->strings);
    /* Every string takes its bytes plus a NUL: twice the body is always enough. */
    if (hf_buf_reserve(&rec->strings, 2 * len + 16) < 0) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    reader_t r = {.cur = {(const uint8_t *)buf + 10, (const uint8_t *)buf + len, 0}, .rec = rec};
    out->kind = (codec_internal_kind_t)kind;
    switch (out->kind) {
    case CODEC_INTERNAL_MEMBER_UPDATE:
        read_member_update(&r, &out->member);
        break;
    case CODEC_INTERNAL_ROSTER: {
        hf_roster_t *ro = &out->roster;
        out->roster_contact_id = get_str(&r, "contact_id");
        ro->account_id = get_str(&r, "account_id");
        int64_t version = get_long(&r, "version");
        if (version < 0)
            fail(&r, CODEC_E_INVALID, "version");
        ro->version = (uint64_t)version;
        ro->member_count = get_array(&r, (void **)&rec->members, &rec->members_cap,
                                     sizeof(hf_member_t), 4, read_member, "members");
        ro->members = rec->members;
        ro->roles_covered_count = get_array(&r, (void **)&rec->roles, &rec->roles_cap,
                                            sizeof(const char *), 1, read_role, "roles_covered");
        ro->roles_covered = rec->roles;
        break;
    }
    case CODEC_INTERNAL_MERGE_REQUEST: {
        hf_merge_request_t *m = &out->merge_request;
        m->event_id = get_opt_str(&r, "event_id");
        m->at_ms = get_long(&r, "at");
        m->survivor_id = get_str(&r, "survivor_id");
        m->loser_id = get_str(&r, "loser_id");
        m->survivor_known = get_bool(&r, "survivor_known");
        m->bounced = get_bool(&r, "bounced");
        break;
    }
    case CODEC_INTERNAL_MERGE_STATE: {
        hf_merge_state_t *m = &out->merge_state;
        m->event_id = get_opt_str(&r, "event_id");
        m->at_ms = get_long(&r, "at");
        m->survivor_id = get_str(&r, "survivor_id");
        m->loser_id = get_str(&r, "loser_id");
        size_t n = 0;
        if (!r.err) {
            int e = codec_read_length(&r.cur, &n);
            if (e)
                fail(&r, e, "state");
        }
        if (!r.err) {
            m->state = r.cur.p;
            m->state_len = n;
            r.cur.p += n;
        }
        break;
    }
    }
    if (!r.err && r.cur.p != r.cur.end)
        fail(&r, CODEC_E_INVALID, "end of record");
    if (r.err) {
        if (r.err < 0)
            snprintf(err, errsz, "out of memory");
        else if (r.err == CODEC_E_TRUNCATED)
            snprintf(err, errsz, "%s record ends inside field %s", record_names[kind], r.field);
        else
            snprintf(err, errsz, "%s record: invalid %s", record_names[kind], r.field);
        int e = r.err;
        memset(out, 0, sizeof(*out));
        return e;
    }
    return 0;
}
