/* Codec throughput on one core: decodes/s and encodes/s.
 *
 * The goal is at least 500 K WebVisit decodes per second, so that decoding stays a
 * small share of the pipeline.  Records are realistic in size and vary, so branch
 * predictors and caches see a stream, not one record.  Usage: codec_bench [decodes]
 * (default 2 000 000). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"

#define RING 1024

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Strings of the i-th sample record, kept until the end of the run. */
typedef struct sample_text {
    char event_id[48], anon[40], session[40], url[160], title[80], referrer[80];
} sample_text_t;

static hf_event_t web_visit(sample_text_t *t, unsigned i)
{
    snprintf(t->event_id, sizeof t->event_id, "0b4c9f2e-%08x-4d1a-9b2f-%012u", i * 2654435761u, i);
    snprintf(t->anon, sizeof t->anon, "anon-%010u", (i * 40503u) % 100000u);
    snprintf(t->session, sizeof t->session, "sess-%08x", i / 5);
    snprintf(t->url, sizeof t->url, "https://www.example.com/%s/%u?utm_content=%u",
             i % 3 ? "blog/reduce-churn-with-health-scores" : "pricing", i % 17, i % 5);
    snprintf(t->title, sizeof t->title, "Reduce churn, part %u | Example", i % 9);
    snprintf(t->referrer, sizeof t->referrer, "https://www.google.com/search?q=%u", i % 31);
    hf_event_t ev = {
        .kind = HF_EV_WEB_VISIT,
        .event_id = t->event_id,
        .occurred_at_ms = 1717000000000 + (int64_t)i * 1500,
        .source = "web",
        .anonymous_id = t->anon,
        .contact_id = i % 4 ? NULL : "contact-000123",
        .session_id = t->session,
        .url = t->url,
        .title = t->title,
        .referrer = i % 2 ? t->referrer : NULL,
        .utm_source = i % 5 ? NULL : "newsletter",
        .utm_medium = i % 5 ? NULL : "email",
        .utm_campaign = i % 5 ? NULL : "2024-spring-nurture",
        .duration_ms = (int32_t)(i % 90000),
        .country = i % 7 ? "DE" : NULL,
    };
    return ev;
}

static hf_event_t form(sample_text_t *t, unsigned i)
{
    hf_event_t ev = web_visit(t, i);
    /* The form shares the visit's strings. */
    hf_event_t f = {
        .kind = HF_EV_FORM,
        .event_id = ev.event_id,
        .occurred_at_ms = ev.occurred_at_ms,
        .source = "marketo",
        .anonymous_id = ev.anonymous_id,
        .contact_id = "contact-000123",
        .form_id = "form-demo",
        .form_type = (hf_form_type_t)(i % HF_FORM__COUNT),
        .url = ev.url,
        .traits = {.present = true,
                   .email = "Jane.Doe@Example.com",
                   .full_name = "Jane Doe",
                   .title = "VP Customer Success",
                   .company_name = "Example GmbH",
                   .has_employees = true,
                   .employees = 420,
                   .country = "DE"},
    };
    return f;
}

/* Seconds to encode @count events of the ring, one at a time. */
static double time_encodes(codec_t *c, const hf_event_t *events, long count)
{
    hf_buf_t out = HF_BUF_INIT;
    double t0 = now_s();
    for (long n = 0; n < count; n++) {
        hf_buf_reset(&out);
        if (codec_encode_input(c, &events[n % RING], &out)) {
            fprintf(stderr, "encode failed\n");
            exit(1);
        }
    }
    double s = now_s() - t0;
    hf_buf_free(&out);
    return s;
}

/* Seconds to encode @count handoffs of a typical size (what stage 2 writes on every
 * qualification). */
static double time_handoff_encodes(codec_t *c, long count)
{
    static const hf_reason_t reasons[] = {{"pricing_page", 30, 3, "3 visits"},
                                          {"demo_request", 50, 1, "form f-9"}};
    static const hf_page_t pages[] = {{"https://www.example.com/pricing", "Pricing", 3}};
    static const hf_touch_t recent[] = {{3000, "form", "Demo request", NULL},
                                        {2000, "web_visit", "Pricing", "before known"}};
    static const hf_interest_t interests[] = {{"reduce churn", 0.75f}};
    static const char *const roles[] = {"decision_maker"};
    hf_handoff_t h = {
        .handoff_id = "ho_0123456789abcdef",
        .entity_id = "c-1ef0550952cb",
        .rule = "high_intent",
        .fit_grade = "A",
        .stage_before = "engaged",
        .score = 100,
        .reasons = reasons,
        .reason_count = 2,
        .journey = {.top_pages = pages, .top_page_count = 1, .recent = recent, .recent_count = 2},
        .interests = interests,
        .interest_count = 1,
        .roles_covered = roles,
        .roles_covered_count = 1,
        .routing_team = "emea-smb"};
    hf_buf_t out = HF_BUF_INIT;
    double t0 = now_s();
    for (long n = 0; n < count; n++) {
        hf_buf_reset(&out);
        h.qualified_at_ms = n;
        if (codec_encode_handoff(c, &h, &out)) {
            fprintf(stderr, "encode failed\n");
            exit(1);
        }
    }
    double s = now_s() - t0;
    hf_buf_free(&out);
    return s;
}

/* Seconds to decode @count records of the ring; adds what they hold to *@check so
 * that the work cannot be skipped. */
static double time_decodes(codec_t *c, const hf_buf_t *recs, long count, uint64_t *check)
{
    hf_event_t ev;
    char err[256];
    double t0 = now_s();
    for (long n = 0; n < count; n++) {
        const hf_buf_t *rec = &recs[n % RING];
        if (codec_decode_input(c, rec->data, rec->len, &ev, err, sizeof err)) {
            fprintf(stderr, "decode: %s\n", err);
            exit(1);
        }
        *check += (uint64_t)ev.duration_ms + (ev.traits.email_hash ? ev.traits.email_hash[0] : 0);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long decodes = argc > 1 ? atol(argv[1]) : 2000000;
    if (decodes < RING)
        decodes = RING;
    static const uint8_t key[32] = "bench e-mail key";
    codec_opts_t opts = {.max_record_bytes = 1 << 20,
                         .max_field_bytes = 64 << 10,
                         .max_tags = 256,
                         .email_key = key,
                         .email_key_len = sizeof key};
    codec_t *c = NULL;
    char err[256];
    if (codec_new(&c, &opts, err, sizeof err)) {
        fprintf(stderr, "codec_new: %s\n", err);
        return 1;
    }

    static sample_text_t text[RING];
    static hf_event_t events[RING];
    static hf_buf_t visits[RING], forms[RING];
    size_t bytes = 0;
    for (unsigned i = 0; i < RING; i++) {
        hf_event_t ev = events[i] = web_visit(&text[i], i);
        hf_event_t fe = form(&text[i], i);
        if (codec_encode_input(c, &ev, &visits[i]) || codec_encode_input(c, &fe, &forms[i])) {
            fprintf(stderr, "encode failed\n");
            return 1;
        }
        bytes += visits[i].len;
    }
    /* Encoders: re-encode the ring until as many records as decodes below. */
    long encodes = decodes / 2, form_decodes = decodes / 4;
    uint64_t check = 0;
    double encode_s = time_encodes(c, events, encodes);
    double decode_s = time_decodes(c, visits, decodes, &check);
    double form_s = time_decodes(c, forms, form_decodes, &check);
    double handoff_s = time_handoff_encodes(c, encodes / 4);

    printf("codec: WebVisit decode      %10.0f records/s  (%ld records, %.0f bytes avg)\n",
           (double)decodes / decode_s, decodes, (double)bytes / RING);
    printf("codec: FormSubmission decode %9.0f records/s  (with e-mail HMAC)\n",
           (double)form_decodes / form_s);
    printf("codec: WebVisit encode      %10.0f records/s\n", (double)encodes / encode_s);
    printf("codec: ConversationReady encode %6.0f records/s\n", (double)(encodes / 4) / handoff_s);
    printf("codec: goal >= 500000 WebVisit decodes/s: %s  (check %" PRIu64 ")\n",
           (double)decodes / decode_s >= 500000 ? "met" : "NOT met", check);

    for (unsigned i = 0; i < RING; i++) {
        hf_buf_free(&visits[i]);
        hf_buf_free(&forms[i]);
    }
    codec_free(c);
    return 0;
}
