/* Helpers of the codec's unit tests (see codec_testkit.h). */
#include "codec_testkit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

codec_t *ck_codec_with(const codec_opts_t *opts)
{
    char err[256] = "";
    codec_t *c = NULL;
    int r = codec_new(&c, opts, err, sizeof err);
    if (r)
        fail_msg("codec_new: %d %s", r, err);
    assert_non_null(c);
    return c;
}

codec_t *ck_codec(void)
{
    codec_opts_t opts = {.email_key = CK_KEY, .email_key_len = sizeof CK_KEY - 1};
    return ck_codec_with(&opts);
}

void ck_w_long(ck_wbuf_t *w, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z > 0x7f) {
        w->b[w->n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    w->b[w->n++] = (uint8_t)z;
}

void ck_w_bytes(ck_wbuf_t *w, const void *p, size_t len)
{
    ck_w_long(w, (int64_t)len);
    memcpy(w->b + w->n, p, len);
    w->n += len;
}

void ck_w_str(ck_wbuf_t *w, const char *s)
{
    ck_w_bytes(w, s, strlen(s));
}

void ck_w_header(ck_wbuf_t *w, uint64_t fp)
{
    w->n = 0;
    w->b[w->n++] = 0xc3;
    w->b[w->n++] = 0x01;
    for (int i = 0; i < 8; i++)
        w->b[w->n++] = (uint8_t)(fp >> (8 * i));
}

static const char *const tags[] = {"churn", "retention", "onboarding"};

hf_event_t ck_sample(hf_event_kind_t kind, bool with_optionals)
{
    hf_event_t ev = {
        .kind = kind, .event_id = "ev-1", .occurred_at_ms = 1717171717171, .source = "web"};
    const bool o = with_optionals;
    switch (kind) {
    case HF_EV_WEB_VISIT:
        ev.anonymous_id = "anon-1";
        ev.contact_id = o ? "c-1" : NULL;
        ev.session_id = "s-1";
        ev.url = "https://example.com/pricing";
        ev.title = o ? "Pricing" : NULL;
        ev.referrer = o ? "https://search.example/" : NULL;
        ev.utm_source = o ? "newsletter" : NULL;
        ev.utm_medium = o ? "email" : NULL;
        ev.utm_campaign = o ? "spring" : NULL;
        ev.duration_ms = -42;
        ev.country = o ? "DE" : NULL;
        break;
    case HF_EV_FORM:
        ev.anonymous_id = "anon-2";
        ev.contact_id = "c-2";
        ev.form_id = "f-9";
        ev.form_type = HF_FORM_OTHER;
        ev.url = o ? "https://example.com/demo" : NULL;
        ev.traits.present = true;
        if (o) {
            ev.traits.full_name = "Jane Doe";
            ev.traits.title = "VP Ops";
            ev.traits.seniority = "vp";
            ev.traits.department = "operations";
            ev.traits.company_name = "Acme";
            ev.traits.account_id = "acct-1";
            ev.traits.industry = "software";
            ev.traits.has_employees = true;
            ev.traits.employees = 250;
            ev.traits.country = "FR";
            ev.traits.region = "EMEA";
        }
        break;
    case HF_EV_IDENTITY:
        ev.identity_kind = HF_IDENTITY_MERGE;
        ev.contact_id = "c-3";
        ev.anonymous_id = o ? "anon-3" : NULL;
        ev.merged_contact_id = o ? "c-4" : NULL;
        ev.traits.present = o;
        if (o) {
            ev.traits.title = "CTO";
            ev.traits.has_employees = true;
            ev.traits.employees = 0;
        }
        break;
    case HF_EV_DOWNLOAD:
        ev.contact_id = "c-5";
        ev.anonymous_id = o ? "anon-5" : NULL;
        ev.asset_id = "a-1";
        ev.asset_title = "Reducing churn \xc3\xa0 la carte";
        ev.asset_type = "whitepaper";
        ev.tags = o ? tags : NULL;
        ev.tag_count = o ? 3 : 0;
        ev.campaign = o ? "q3" : NULL;
        break;
    case HF_EV_WEBINAR:
        ev.contact_id = "c-6";
        ev.webinar_id = "w-1";
        ev.webinar_title = "Live demo";
        ev.webinar_action = HF_WEBINAR_WATCHED_RECORDING;
        ev.minutes_attended = 47;
        ev.questions_asked = 2;
        ev.campaign = o ? "webinars" : NULL;
        break;
    case HF_EV_EMAIL:
        ev.contact_id = "c-7";
        ev.email_id = "e-1";
        ev.campaign = "nurture";
        ev.email_action = HF_EMAIL_SPAM_REPORTED;
        ev.link_url = o ? "https://example.com/x" : NULL;
        break;
    case HF_EV_SALES:
        ev.entity_type = HF_ENTITY_ACCOUNT;
        ev.entity_id = "acct-9";
        ev.handoff_id = o ? "h-1" : NULL;
        ev.owner_id = "rep-1";
        ev.sales_action = HF_SALES_RECYCLED;
        ev.reason = o ? "no budget" : NULL;
        ev.channel = o ? "call" : NULL;
        break;
    default:
        break;
    }
    return ev;
}

#define assert_same_str(a, b)                                                                      \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_)                                                                            \
            assert_ptr_equal(a_, b_);                                                              \
        else                                                                                       \
            assert_string_equal(a_, b_);                                                           \
    } while (0)

void ck_assert_traits_equal(const hf_traits_t *a, const hf_traits_t *b)
{
    assert_int_equal(a->present, b->present);
    assert_null(b->email);
    assert_same_str(a->full_name, b->full_name);
    assert_same_str(a->title, b->title);
    assert_same_str(a->seniority, b->seniority);
    assert_same_str(a->department, b->department);
    assert_same_str(a->company_name, b->company_name);
    assert_same_str(a->account_id, b->account_id);
    assert_same_str(a->industry, b->industry);
    assert_int_equal(a->has_employees, b->has_employees);
    assert_int_equal(a->employees, b->employees);
    assert_same_str(a->country, b->country);
    assert_same_str(a->region, b->region);
}

void ck_assert_events_equal(const hf_event_t *a, const hf_event_t *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_same_str(a->event_id, b->event_id);
    assert_int_equal(a->occurred_at_ms, b->occurred_at_ms);
    assert_same_str(a->source, b->source);
    assert_same_str(a->anonymous_id, b->anonymous_id);
    assert_same_str(a->contact_id, b->contact_id);
    assert_same_str(a->session_id, b->session_id);
    assert_same_str(a->url, b->url);
    assert_same_str(a->title, b->title);
    assert_same_str(a->referrer, b->referrer);
    assert_same_str(a->utm_source, b->utm_source);
    assert_same_str(a->utm_medium, b->utm_medium);
    assert_same_str(a->utm_campaign, b->utm_campaign);
    assert_int_equal(a->duration_ms, b->duration_ms);
    assert_same_str(a->country, b->country);
    assert_same_str(a->form_id, b->form_id);
    assert_int_equal(a->form_type, b->form_type);
    ck_assert_traits_equal(&a->traits, &b->traits);
    assert_int_equal(a->identity_kind, b->identity_kind);
    assert_same_str(a->merged_contact_id, b->merged_contact_id);
    assert_same_str(a->asset_id, b->asset_id);
    assert_same_str(a->asset_title, b->asset_title);
    assert_same_str(a->asset_type, b->asset_type);
    assert_int_equal(a->tag_count, b->tag_count);
    for (size_t i = 0; i < a->tag_count; i++)
        assert_string_equal(a->tags[i], b->tags[i]);
    assert_same_str(a->campaign, b->campaign);
    assert_same_str(a->webinar_id, b->webinar_id);
    assert_same_str(a->webinar_title, b->webinar_title);
    assert_int_equal(a->webinar_action, b->webinar_action);
    assert_int_equal(a->minutes_attended, b->minutes_attended);
    assert_int_equal(a->questions_asked, b->questions_asked);
    assert_same_str(a->email_id, b->email_id);
    assert_int_equal(a->email_action, b->email_action);
    assert_same_str(a->link_url, b->link_url);
    assert_int_equal(a->entity_type, b->entity_type);
    assert_same_str(a->entity_id, b->entity_id);
    assert_same_str(a->handoff_id, b->handoff_id);
    assert_same_str(a->owner_id, b->owner_id);
    assert_int_equal(a->sales_action, b->sales_action);
    assert_same_str(a->reason, b->reason);
    assert_same_str(a->channel, b->channel);
}

void ck_encode_sample(codec_t *c, hf_event_kind_t kind, bool optionals, hf_buf_t *out)
{
    hf_event_t ev = ck_sample(kind, optionals);
    hf_buf_reset(out);
    assert_int_equal(codec_encode_input(c, &ev, out), 0);
}

int ck_decode(codec_t *c, const hf_buf_t *rec, size_t len, hf_event_t *ev, char *err, size_t errsz)
{
    return codec_decode_input(c, rec->data, len, ev, err, errsz);
}

void ck_assert_contains(const hf_buf_t *json, const char *needle)
{
    if (!strstr((const char *)json->data, needle))
        fail_msg("%s\nhas no %s", (const char *)json->data, needle);
}

/* Parses @json (which must be one JSON object) with jansson; the caller decrefs. */
json_t *ck_parse_json(const hf_buf_t *json)
{
    json_error_t error;
    json_t *root = json_loadb((const char *)json->data, json->len, JSON_ALLOW_NUL, &error);
    if (!root || !json_is_object(root))
        fail_msg("not a JSON object (%s): %s", error.text, (const char *)json->data);
    return root;
}

void ck_expect_error(codec_t *c, const void *rec, size_t len, int code, const char *msg_part)
{
    hf_event_t ev;
    char err[512] = "";
    int r = codec_decode_input(c, rec, len, &ev, err, sizeof err);
    if (r != code)
        fail_msg("expected %s, got %s (%s)", codec_error_name(code), codec_error_name(r), err);
    if (msg_part && !strstr(err, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err, msg_part);
    assert_null(ev.event_id); /* a failed decode leaves a zeroed event */
}
