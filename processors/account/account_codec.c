/* account_state_t <-> Avro binary of schemas/state/AccountState.avsc.  Field order
 * here is the schema's field order.  The decoder checks every count, union branch,
 * stage name and invariant (unique members and departures, versions >= 0, finite
 * scores) and reports HF_STATE_CORRUPT, never crashes. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "account_priv.h"
#include "util/binenc.h"

static void put_interest(binenc_writer_t *w, const void *item)
{
    const account_interest_t *it = item;
    binenc_put_string(w, it->topic);
    binenc_put_double(w, it->weight);
}

static void put_contribution(binenc_writer_t *w, const void *item)
{
    const account_contribution_t *c = item;
    binenc_put_string(w, c->rule);
    binenc_put_int(w, c->points);
    binenc_put_int(w, c->count);
    binenc_put_string(w, c->detail);
}

/* The touch, download and webinar elements are the journey's (ContactState's). */
static void put_touch(binenc_writer_t *w, const void *item)
{
    journey_put_touch(w, item);
}

static void put_download(binenc_writer_t *w, const void *item)
{
    journey_put_download(w, item);
}

static void put_webinar(binenc_writer_t *w, const void *item)
{
    journey_put_webinar(w, item);
}

static void put_member(binenc_writer_t *w, const void *item)
{
    const account_member_t *m = item;
    binenc_put_string(w, m->contact_id);
    binenc_put_long(w, (int64_t)m->version);
    binenc_put_string(w, m->role);
    binenc_put_string(w, m->stage);
    binenc_put_string(w, m->fit_grade);
    binenc_put_double(w, m->score);
    binenc_put_long(w, m->score_at_ms);
    binenc_put_long(w, m->first_seen_ms);
    binenc_put_long(w, m->last_active_ms);
    binenc_put_opt_string(w, m->company_name);
    binenc_put_opt_string(w, m->industry);
    binenc_put_opt_long(w, m->has_employees, m->employees);
    binenc_put_opt_string(w, m->country);
    binenc_put_opt_string(w, m->region);
    binenc_put_array(w, m->interests, m->interest_count, sizeof *m->interests, put_interest);
    binenc_put_array(w, m->contributions, m->contribution_count, sizeof *m->contributions,
                     put_contribution);
    binenc_put_array(w, m->touches, m->touch_count, sizeof *m->touches, put_touch);
    binenc_put_array(w, m->downloads, m->download_count, sizeof *m->downloads, put_download);
    binenc_put_array(w, m->webinars, m->webinar_count, sizeof *m->webinars, put_webinar);
    binenc_put_int(w, m->sessions);
    binenc_put_int(w, m->page_views);
    binenc_put_int(w, m->email_opens);
    binenc_put_int(w, m->email_clicks);
    /* version 3 */
    binenc_put_opt_string(w, m->placement);
}

static void put_product(binenc_writer_t *w, const void *item)
{
    const account_product_t *p = item;
    binenc_put_string(w, p->product);
    binenc_put_bool(w, p->owned);
    binenc_put_long(w, p->owned_at_ms);
    binenc_put_int(w, (int32_t)p->cycle);
    binenc_put_bool(w, p->handed_off);
    binenc_put_long(w, p->raised_at_ms);
    binenc_put_bool(w, p->recycled);
    binenc_put_long(w, p->recycled_at_ms);
    binenc_put_string(w, hf_stage_name(p->stage));
    sla_encode(w, &p->sla);
}

static void put_departed(binenc_writer_t *w, const void *item)
{
    const account_departed_t *d = item;
    binenc_put_string(w, d->contact_id);
    binenc_put_long(w, (int64_t)d->version);
}

static void put_roster_entry(binenc_writer_t *w, const void *item)
{
    const account_roster_entry_t *e = item;
    binenc_put_string(w, e->contact_id);
    binenc_put_string(w, e->role);
}

int account_state_encode(const account_state_t *s, hf_buf_t *out)
{
    binenc_writer_t w = BINENC_WRITER(out);
    binenc_put_int(&w, ACCOUNT_STATE_SCHEMA_VERSION);
    binenc_put_string(&w, s->account_id);
    binenc_put_string(&w, hf_stage_name(s->stage));
    binenc_put_int(&w, (int32_t)s->cycle);
    binenc_put_bool(&w, s->handed_off);
    binenc_put_long(&w, s->updates);
    binenc_put_opt_long(&w, s->has_known_since, s->known_since_ms);
    binenc_put_array(&w, s->members, s->member_count, sizeof *s->members, put_member);
    binenc_put_array(&w, s->departed, s->departed_count, sizeof *s->departed, put_departed);
    binenc_put_long(&w, (int64_t)s->roster_version);
    binenc_put_array(&w, s->roster, s->roster_count, sizeof *s->roster, put_roster_entry);
    /* version 2 */
    dedupe_encode(&w, &s->dedupe);
    sla_encode(&w, &s->sla);
    /* version 3 */
    binenc_put_array(&w, s->products, s->product_count, sizeof *s->products, put_product);
    return binenc_writer_end(&w);
}

static uint64_t get_version(binenc_reader_t *r)
{
    int64_t v = binenc_get_long(r);
    if (v < 0)
        binenc_fail(r);
    return v < 0 ? 0 : (uint64_t)v;
}

static double get_finite(binenc_reader_t *r)
{
    double v = binenc_get_double(r);
    if (!isfinite(v))
        binenc_fail(r);
    return v;
}

static void read_interest(binenc_reader_t *r, void *item)
{
    account_interest_t *it = item;
    it->topic = binenc_get_string(r);
    it->weight = get_finite(r);
}

static void read_contribution(binenc_reader_t *r, void *item)
{
    account_contribution_t *c = item;
    c->rule = binenc_get_string(r);
    c->points = binenc_get_int(r);
    c->count = binenc_get_int(r);
    c->detail = binenc_get_string(r);
}

/* A member of a version-1 or version-2 state: without placement. */
static void read_member_v2(binenc_reader_t *r, void *item)
{
    account_member_t *m = item;
    m->contact_id = binenc_get_string(r);
    m->version = get_version(r);
    m->role = binenc_get_string(r);
    m->stage = binenc_get_string(r);
    m->fit_grade = binenc_get_string(r);
    m->score = get_finite(r);
    m->score_at_ms = binenc_get_long(r);
    m->first_seen_ms = binenc_get_long(r);
    m->last_active_ms = binenc_get_long(r);
    m->company_name = binenc_get_opt_string(r);
    m->industry = binenc_get_opt_string(r);
    if (binenc_get_union(r, 2) == 1) {
        m->has_employees = true;
        m->employees = binenc_get_int(r);
    }
    m->country = binenc_get_opt_string(r);
    m->region = binenc_get_opt_string(r);
    binenc_get_array(r, (void **)&m->interests, &m->interest_count, sizeof *m->interests,
                     read_interest);
    binenc_get_array(r, (void **)&m->contributions, &m->contribution_count,
                     sizeof *m->contributions, read_contribution);
    binenc_get_array(r, (void **)&m->touches, &m->touch_count, sizeof *m->touches,
                     journey_get_touch);
    binenc_get_array(r, (void **)&m->downloads, &m->download_count, sizeof *m->downloads,
                     journey_get_download);
    binenc_get_array(r, (void **)&m->webinars, &m->webinar_count, sizeof *m->webinars,
                     journey_get_webinar);
    m->sessions = binenc_get_int(r);
    m->page_views = binenc_get_int(r);
    m->email_opens = binenc_get_int(r);
    m->email_clicks = binenc_get_int(r);
}

static void read_member(binenc_reader_t *r, void *item)
{
    read_member_v2(r, item);
    ((account_member_t *)item)->placement = binenc_get_opt_string(r);
}

static void read_departed(binenc_reader_t *r, void *item)
{
    account_departed_t *d = item;
    d->contact_id = binenc_get_string(r);
    d->version = get_version(r);
}

static void read_roster_entry(binenc_reader_t *r, void *item)
{
    account_roster_entry_t *e = item;
    e->contact_id = binenc_get_string(r);
    e->role = binenc_get_string(r);
}

/* True when the contact id of item @i is among those before it. */
static bool repeated_member(const account_state_t *s, size_t i)
{
    const char *id = s->members[i].contact_id;
    for (size_t k = 0; id && k < i; k++)
        if (strcmp(s->members[k].contact_id, id) == 0)
            return true;
    return false;
}

static bool repeated_departed(const account_state_t *s, size_t i)
{
    const char *id = s->departed[i].contact_id;
    for (size_t k = 0; id && k < i; k++)
        if (strcmp(s->departed[k].contact_id, id) == 0)
            return true;
    /* a contact is a member or departed, never both */
    for (size_t k = 0; id && k < s->member_count; k++)
        if (strcmp(s->members[k].contact_id, id) == 0)
            return true;
    return false;
}

static void read_product(binenc_reader_t *r, void *item)
{
    account_product_t *p = item;
    p->product = binenc_get_string(r);
    p->owned = binenc_get_bool(r);
    p->owned_at_ms = binenc_get_long(r);
    p->cycle = (uint32_t)binenc_get_int_range(r, 1, INT32_MAX);
    p->handed_off = binenc_get_bool(r);
    p->raised_at_ms = binenc_get_long(r);
    p->recycled = binenc_get_bool(r);
    p->recycled_at_ms = binenc_get_long(r);
    char *stage = binenc_get_string(r);
    int st = stage ? hf_stage_parse(stage) : -1;
    free(stage);
    if (st < 0)
        binenc_fail(r);
    p->stage = st < 0 ? HF_STAGE_CUSTOMER : (hf_stage_t)st;
    sla_decode(r, &p->sla);
    if (!p->product || !p->product[0])
        binenc_fail(r);
}

static bool repeated_product(const account_state_t *s, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (s->products[i].product && s->products[j].product &&
            strcmp(s->products[i].product, s->products[j].product) == 0)
            return true;
    return false;
}

int account_state_decode(account_state_t **out, const void *buf, size_t len)
{
    binenc_reader_t r;
    binenc_reader_init(&r, buf, len);
    account_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;

    int32_t version = binenc_get_int(&r);
    if (version < 1 || version > ACCOUNT_STATE_SCHEMA_VERSION)
        binenc_fail(&r);
    s->account_id = binenc_get_string(&r);
    char *stage = binenc_get_string(&r);
    int st = hf_stage_parse(stage);
    free(stage);
    if (st < 0)
        binenc_fail(&r);
    s->stage = st < 0 ? HF_STAGE_KNOWN : (hf_stage_t)st;
    s->cycle = (uint32_t)binenc_get_int_range(&r, 1, INT32_MAX);
    s->handed_off = binenc_get_bool(&r);
    s->updates = binenc_get_long(&r);
    if (s->updates < 0)
        binenc_fail(&r);
    s->has_known_since = binenc_get_opt_long(&r, &s->known_since_ms);

    /* members of a version-1 or 2 state end before placement: it stays NULL */
    binenc_get_array(&r, (void **)&s->members, &s->member_count, sizeof *s->members,
                     version >= 3 ? read_member : read_member_v2);
    s->member_cap = s->member_count;
    for (size_t i = 0; i < s->member_count && !r.err; i++)
        if (repeated_member(s, i))
            binenc_fail(&r);
    binenc_get_array(&r, (void **)&s->departed, &s->departed_count, sizeof *s->departed,
                     read_departed);
    s->departed_cap = s->departed_count;
    for (size_t i = 0; i < s->departed_count && !r.err; i++)
        if (repeated_departed(s, i))
            binenc_fail(&r);
    s->roster_version = get_version(&r);
    binenc_get_array(&r, (void **)&s->roster, &s->roster_count, sizeof *s->roster,
                     read_roster_entry);
    /* a version-1 state ends here: no sales activity seen, no case open */
    if (version >= 2) {
        dedupe_decode(&r, &s->dedupe);
        sla_decode(&r, &s->sla);
    }
    /* versions 1 and 2 end here: no product known */
    if (version >= 3) {
        binenc_get_array(&r, (void **)&s->products, &s->product_count, sizeof *s->products,
                         read_product);
        if (s->product_count > ACCOUNT_PRODUCTS_MAX)
            binenc_fail(&r);
        for (size_t i = 0; i < s->product_count && !r.err; i++)
            if (repeated_product(s, i))
                binenc_fail(&r);
    }

    int err = binenc_reader_end(&r);
    if (err) {
        account_state_free(s);
        return err;
    }
    *out = s;
    return 0;
}
