/* Fuzz target of the Avro codec: any bytes go to codec_decode_input(),
 * codec_decode_internal() and codec_record_to_json(), with and without limits, and
 * the codec's contract is checked on every answer.
 *
 * Built normally (as meson does) it has a replay main() that runs every file of the
 * directories or files named on the command line, so the corpus is also an ordinary
 * test (suite 'fuzz').  `codec_fuzz --write-seeds DIR` writes the seed corpus
 * (tests/fuzz/corpus/codec/): a valid record of every kind, outputs, records between
 * stages, an old WebVisit, and broken ones.  For a libFuzzer run (from the source root, with a
 * configured build directory BUILD for the generated schema table):
 *
 *     clang -g -O1 -DHF_FUZZING -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/codec_fuzz.c codec/codec*.c BUILD/schemas/codec_schemas.c \
 *         util/buf.c util/binenc.c util/vec.c -lavro -lcrypto -o codec_fuzz
 *     ./codec_fuzz -max_len=4096 tests/fuzz/corpus/codec
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/codec_pcf.h"
#include "codec/codec_read.h"
#include "codec/codec_schemas.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzzer's codecs, built on the first input and kept for the process, as
 * libFuzzer expects of a target: one with limits, one without. */
static codec_t *fuzz_codecs[2];
static hf_buf_t fuzz_json = HF_BUF_INIT;
static hf_buf_t fuzz_record = HF_BUF_INIT;

/* Frees the codecs before LeakSanitizer looks at exit.  Avro-C keeps a union's
 * branch 4 bytes into the union, so the pointers in live values are misaligned
 * and LeakSanitizer, which only sees aligned pointers, would report them. */
static void fuzz_cleanup(void)
{
    codec_free(fuzz_codecs[0]);
    codec_free(fuzz_codecs[1]);
    fuzz_codecs[0] = fuzz_codecs[1] = NULL;
    hf_buf_free(&fuzz_json);
    hf_buf_free(&fuzz_record);
}

static codec_t *fuzz_codec(int limited)
{
    if (!fuzz_codecs[0] && !fuzz_codecs[1])
        atexit(fuzz_cleanup);
    if (!fuzz_codecs[limited]) {
        static const uint8_t key[] = "fuzz key";
        codec_opts_t opts = {.email_key = key, .email_key_len = sizeof key - 1};
        if (limited) {
            opts.max_record_bytes = 2048;
            opts.max_field_bytes = 64;
            opts.max_tags = 4;
            opts.output_format = HF_OUTPUT_JSON;
        }
        char err[256];
        if (codec_new(&fuzz_codecs[limited], &opts, err, sizeof err)) {
            fprintf(stderr, "codec_new: %s\n", err);
            abort();
        }
    }
    return fuzz_codecs[limited];
}

static void check_text(const char *s, bool required)
{
    if (!s) {
        if (required)
            abort();
        return;
    }
    if (codec_text_check((const uint8_t *)s, strlen(s)) != CODEC_TEXT_OK)
        abort();
}

/* What a decoded event promises: required strings present, all text UTF-8,
 * enums in range, no raw e-mail. */
static void check_event(const hf_event_t *ev)
{
    check_text(ev->event_id, true);
    check_text(ev->source, true);
    const char *const optional[] = {
        ev->anonymous_id,
        ev->contact_id,
        ev->session_id,
        ev->url,
        ev->title,
        ev->referrer,
        ev->utm_source,
        ev->utm_medium,
        ev->utm_campaign,
        ev->country,
        ev->form_id,
        ev->merged_contact_id,
        ev->asset_id,
        ev->asset_title,
        ev->asset_type,
        ev->campaign,
        ev->webinar_id,
        ev->webinar_title,
        ev->email_id,
        ev->link_url,
        ev->entity_id,
        ev->handoff_id,
        ev->owner_id,
        ev->reason,
        ev->channel,
        ev->traits.email_domain,
        ev->traits.email_hash,
        ev->traits.full_name,
        ev->traits.title,
        ev->traits.company_name,
        ev->traits.account_id,
        ev->traits.country,
        ev->traits.region,
    };
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        check_text(optional[i], false);
    if (ev->traits.email)
        abort();
    if (ev->traits.email_hash && strlen(ev->traits.email_hash) != 32)
        abort();
    if (ev->tag_count && !ev->tags)
        abort();
    for (size_t i = 0; i < ev->tag_count; i++)
        check_text(ev->tags[i], true);
    if ((unsigned)ev->form_type >= HF_FORM__COUNT ||
        (unsigned)ev->identity_kind >= HF_IDENTITY__COUNT ||
        (unsigned)ev->webinar_action >= HF_WEBINAR__COUNT ||
        (unsigned)ev->email_action >= HF_EMAIL__COUNT ||
        (unsigned)ev->entity_type >= HF_ENTITY__COUNT ||
        (unsigned)ev->sales_action >= HF_SALES__COUNT)
        abort();
}

static void check_json(const hf_buf_t *json)
{
    if (json->len < 2 || json->data[0] != '{' || json->data[json->len - 1] != '}')
        abort();
    for (size_t i = 0; i < json->len; i++)
        if (json->data[i] < 0x20 || json->data[i] > 0x7e)
            abort(); /* one line, ASCII */
}

/* Appends @in again with the encoder of its kind. */
static int encode_internal(codec_t *c, const hf_internal_t *in, hf_buf_t *out)
{
    switch (in->kind) {
    case CODEC_INTERNAL_MEMBER_UPDATE:
        return codec_encode_member_update(c, &in->member, out);
    case CODEC_INTERNAL_ROSTER:
        return codec_encode_roster(c, in->roster_contact_id, &in->roster, out);
    case CODEC_INTERNAL_MERGE_REQUEST:
        return codec_encode_merge_request(c, &in->merge_request, out);
    case CODEC_INTERNAL_MERGE_STATE:
        return codec_encode_merge_state(c, &in->merge_state, out);
    case CODEC_INTERNAL_CASE_UPDATE:
        return codec_encode_case_update(c, &in->case_update, out);
    }
    return -EINVAL;
}

/* What a decoded record between stages promises: the kind its fingerprint names, and
 * bytes that encode again to exactly the record read (one block per array, as
 * every writer writes, is what the seeds hold; other blockings re-encode shorter). */
static void check_internal(codec_t *c, const uint8_t *data, size_t size)
{
    hf_internal_t in;
    char err[512];
    err[0] = 0;
    int kind = codec_internal_kind(c, data, size);
    int r = codec_decode_internal(c, data, size, &in, err, sizeof err);
    if ((r < 0 && r != -ENOMEM) || r > CODEC_E_LIMIT || (r && !err[0]))
        abort();
    if (r) {
        if (in.kind != 0 || in.member.contact_id || in.merge_state.state)
            abort(); /* a failed decode leaves a zeroed record */
        return;
    }
    if (kind < 0 || (int)in.kind != kind)
        abort();
    hf_buf_reset(&fuzz_record);
    if (encode_internal(c, &in, &fuzz_record) || fuzz_record.len > size)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int limited = 0; limited < 2; limited++) {
        codec_t *c = fuzz_codec(limited);
        hf_event_t ev;
        char err[512];
        err[0] = 0;
        int r = codec_decode_input(c, data, size, &ev, err, sizeof err);
        if (r < 0 && r != -ENOMEM)
            abort();
        if (r > CODEC_E_LIMIT || (r != 0 && !err[0]) || !strcmp(codec_error_name(r), "unknown"))
            abort();
        if (r == 0) {
            if ((unsigned)ev.kind >= HF_EV__COUNT || codec_peek_kind(c, data, size) != (int)ev.kind)
                abort();
            check_event(&ev);
            /* What decodes encodes again, and decodes to the same record. */
            hf_buf_reset(&fuzz_record);
            hf_event_t copy;
            if (codec_encode_input(c, &ev, &fuzz_record))
                abort();
            if (limited) {
                check_json(&fuzz_record); /* the limited codec writes JSON */
            } else {
                if (codec_decode_input(c, fuzz_record.data, fuzz_record.len, &copy, err,
                                       sizeof err) ||
                    copy.kind != ev.kind || copy.occurred_at_ms != ev.occurred_at_ms)
                    abort();
            }
        } else if (ev.event_id || ev.kind != 0) {
            abort(); /* a failed decode leaves a zeroed event */
        }

        check_internal(c, data, size);

        hf_buf_reset(&fuzz_json);
        r = codec_record_to_json(c, data, size, &fuzz_json, err, sizeof err);
        if (r < 0 && r != -ENOMEM)
            abort();
        if (r > CODEC_E_LIMIT || (r > 0 && !err[0]))
            abort();
        if (r == 0)
            check_json(&fuzz_json);
    }
    return 0;
}

#ifndef HF_FUZZING

/* --- seeds -------------------------------------------------------------------------- */

static int write_seed(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static hf_event_t seed_event(hf_event_kind_t kind)
{
    static const char *const tags[] = {"churn", "retention"};
    hf_event_t ev = {.kind = kind,
                     .event_id = "ev-1",
                     .occurred_at_ms = 1717171717171,
                     .source = "web",
                     .anonymous_id = "anon-1",
                     .contact_id = "c-1"};
    switch (kind) {
    case HF_EV_WEB_VISIT:
        ev.session_id = "s-1";
        ev.url = "https://example.com/pricing";
        ev.title = "Pricing";
        ev.utm_campaign = "spring";
        ev.duration_ms = 5000;
        ev.country = "DE";
        break;
    case HF_EV_FORM:
        ev.form_id = "f-1";
        ev.form_type = HF_FORM_DEMO_REQUEST;
        ev.url = "https://example.com/demo";
        ev.traits = (hf_traits_t){.present = true,
                                  .email = "Jane@Example.com",
                                  .title = "VP",
                                  .has_employees = true,
                                  .employees = 50};
        break;
    case HF_EV_IDENTITY:
        ev.identity_kind = HF_IDENTITY_MERGE;
        ev.merged_contact_id = "c-2";
        ev.traits = (hf_traits_t){.present = true, .company_name = "Acme"};
        break;
    case HF_EV_DOWNLOAD:
        ev.asset_id = "a-1";
        ev.asset_title = "Churn guide";
        ev.asset_type = "ebook";
        ev.tags = tags;
        ev.tag_count = 2;
        break;
    case HF_EV_WEBINAR:
        ev.webinar_id = "w-1";
        ev.webinar_title = "Demo";
        ev.webinar_action = HF_WEBINAR_ATTENDED;
        ev.minutes_attended = 40;
        break;
    case HF_EV_EMAIL:
        ev.email_id = "e-1";
        ev.campaign = "nurture";
        ev.email_action = HF_EMAIL_CLICKED;
        ev.link_url = "https://example.com/x";
        break;
    case HF_EV_SALES:
        ev.entity_id = "c-1";
        ev.owner_id = "rep-1";
        ev.sales_action = HF_SALES_REJECTED;
        ev.reason = "no budget";
        break;
    default:
        break;
    }
    return ev;
}

/* A record between stages of every kind, and a MemberUpdate cut short. */
static int write_internal_seeds(codec_t *c, const char *dir)
{
    static const hf_interest_t interests[] = {{"reduce churn", 0.5f}};
    static const hf_reason_t reasons[] = {{"pricing_page", 30, 3, NULL}};
    static const hf_touch_t touches[] = {{2, "download", NULL, "before known"}};
    static const hf_download_t downloads[] = {{"a-1", "Churn guide", NULL, 2}};
    static const hf_webinar_t webinars[] = {{"w-1", NULL, "attended", 40, 1}};
    static const hf_member_t members[] = {{"c-2", "champion", 55, 10}, {"c-3", NULL, 31, 9}};
    static const char *const roles[] = {"champion"};
    static const uint8_t blob[] = {0x02, 0x06, 'c', '-', '1'};
    hf_member_update_t u = {.contact_id = "c-1",
                            .account_id = "acct-1",
                            .version = 3,
                            .score = 12.5,
                            .role = "champion",
                            .has_employees = true,
                            .employees = 50,
                            .interests = interests,
                            .interest_count = 1,
                            .contributions = reasons,
                            .contribution_count = 1,
                            .touches = touches,
                            .touch_count = 1,
                            .downloads = downloads,
                            .download_count = 1,
                            .webinars = webinars,
                            .webinar_count = 1};
    hf_roster_t ro = {"acct-1", 4, members, 2, roles, 1};
    hf_merge_request_t mr = {"ev-9", 5, "c-1", "c-2", true, false};
    hf_merge_state_t ms = {NULL, 6, "c-1", "c-2", blob, sizeof blob};
    hf_buf_t rec = HF_BUF_INIT;
    int r = codec_encode_member_update(c, &u, &rec);
    if (!r)
        r = write_seed(dir, "member_update.bin", rec.data, rec.len);
    if (!r)
        r = write_seed(dir, "member_update_cut.bin", rec.data, rec.len / 2 + 5);
    hf_buf_reset(&rec);
    if (!r && !(r = codec_encode_roster(c, "c-3", &ro, &rec)))
        r = write_seed(dir, "roster.bin", rec.data, rec.len);
    hf_buf_reset(&rec);
    if (!r && !(r = codec_encode_merge_request(c, &mr, &rec)))
        r = write_seed(dir, "merge_request.bin", rec.data, rec.len);
    hf_buf_reset(&rec);
    if (!r && !(r = codec_encode_merge_state(c, &ms, &rec)))
        r = write_seed(dir, "merge_state.bin", rec.data, rec.len);
    hf_buf_free(&rec);
    return r;
}

/* WebVisit v0: the same body without the trailing country, under v0's fingerprint. */
static int write_web_visit_v0(codec_t *c, hf_event_t *ev, const char *dir)
{
    hf_buf_t rec = HF_BUF_INIT;
    ev->country = NULL;
    int r = codec_encode_input(c, ev, &rec);
    avro_schema_t v0 = NULL;
    for (size_t i = 0; !r && i < codec_schema_src_count; i++)
        if (codec_schema_srcs[i].role == CODEC_ROLE_HISTORY &&
            strcmp(codec_schema_srcs[i].name, "WebVisit") == 0 && !v0)
            r = avro_schema_from_json_length(codec_schema_srcs[i].json,
                                             strlen(codec_schema_srcs[i].json), &v0);
    hf_buf_t pcf = HF_BUF_INIT;
    if (!r && v0 && !(r = codec_pcf_append(&pcf, v0))) {
        uint64_t fp = codec_crc64_avro(pcf.data, pcf.len);
        for (int i = 0; i < 8; i++)
            rec.data[2 + i] = (uint8_t)(fp >> (8 * i));
        r = write_seed(dir, "web_visit_v0.bin", rec.data, rec.len - 1);
    }
    hf_buf_free(&pcf);
    hf_buf_free(&rec);
    if (v0)
        avro_schema_decref(v0);
    return r;
}

/* An output of every kind but SlaBreach. */
static int write_output_seeds(codec_t *c, const char *dir)
{
    hf_buf_t rec = HF_BUF_INIT;
    int r = 0;
    static const hf_reason_t reasons[] = {{"demo", 50, 1, "form"}};
    static const hf_touch_t recent[] = {{1, "form", "Demo", NULL}};
    static const char *const roles[] = {"champion"};
    hf_handoff_t h = {.handoff_id = "h-1",
                      .entity_id = "c-1",
                      .rule = "hand_raiser",
                      .fit_grade = "A",
                      .stage_before = "engaged",
                      .reasons = reasons,
                      .reason_count = 1,
                      .journey = {.recent = recent, .recent_count = 1},
                      .roles_covered = roles,
                      .roles_covered_count = 1};
    hf_buf_reset(&rec);
    if (!r && !(r = codec_encode_handoff(c, &h, &rec)))
        r = write_seed(dir, "handoff.bin", rec.data, rec.len);
    hf_lifecycle_t lc = {HF_ENTITY_CONTACT, "c-1", "known", "engaged", 1, "score"};
    hf_buf_reset(&rec);
    if (!r && !(r = codec_encode_lifecycle(c, &lc, &rec)))
        r = write_seed(dir, "lifecycle.bin", rec.data, rec.len);
    static const uint8_t raw[] = {0xc3, 0x01, 0x00};
    hf_dead_letter_t dl = {"mkt.web.visits", 0, 7, NULL, 0, raw, sizeof raw, "framing", 1};
    hf_buf_reset(&rec);
    if (!r && !(r = codec_encode_dead_letter(c, &dl, &rec)))
        r = write_seed(dir, "dead_letter.bin", rec.data, rec.len);
    hf_buf_free(&rec);
    return r;
}

static int write_seeds(const char *dir)
{
    codec_t *c = fuzz_codec(0);
    hf_buf_t rec = HF_BUF_INIT;
    int r = 0;
    static const char *const names[HF_EV__COUNT] = {"web_visit", "form",  "identity", "download",
                                                    "webinar",   "email", "sales"};
    char name[64];
    for (int k = 0; !r && k < HF_EV__COUNT; k++) {
        hf_event_t ev = seed_event((hf_event_kind_t)k);
        hf_buf_reset(&rec);
        r = codec_encode_input(c, &ev, &rec);
        snprintf(name, sizeof name, "%s.bin", names[k]);
        if (!r)
            r = write_seed(dir, name, rec.data, rec.len);
        /* Broken twins: cut in the middle, one byte too many. */
        snprintf(name, sizeof name, "%s_cut.bin", names[k]);
        if (!r)
            r = write_seed(dir, name, rec.data, rec.len / 2 + 5);
        if (!r && k == HF_EV_EMAIL) {
            uint8_t extra[512];
            memcpy(extra, rec.data, rec.len);
            extra[rec.len] = 0x02;
            r = write_seed(dir, "email_trailing.bin", extra, rec.len + 1);
            /* action, then link_url's branch, length and text */
            extra[rec.len - 3 - strlen("https://example.com/x")] = 0x7e; /* enum 63 */
            if (!r)
                r = write_seed(dir, "email_bad_enum.bin", extra, rec.len);
        }
        if (!r && k == HF_EV_WEB_VISIT)
            r = write_web_visit_v0(c, &ev, dir);
    }

    r = r ? r : write_output_seeds(c, dir);
    r = r ? r : write_internal_seeds(c, dir);

    /* A state record, framed: codec_record_to_json() reads those too. */
    uint64_t anon_fp = codec_schema_fingerprint("AnonState");
    if (!r && anon_fp) {
        uint8_t anon[] = {0xc3, 0x01, 0,    0,    0,    0, 0, 0, 0, 0, 0x02, /* schema_version 1 */
                          0x02, 0x06, 'c',  '-',  '1',                       /* contact_id "c-1" */
                          0x02, 0x04,                                        /* first_seen 2 */
                          0x00,                                              /* last_seen null */
                          0x02, 0x08, 0x04, 0xc3, 0x01, /* buffered: one record */
                          0x00};
        for (int i = 0; i < 8; i++)
            anon[2 + i] = (uint8_t)(anon_fp >> (8 * i));
        r = write_seed(dir, "anon_state.bin", anon, sizeof anon);
    }

    static const uint8_t confluent[] = {0x00, 0x00, 0x00, 0x00, 0x07, 0x02, 0x41};
    static const uint8_t bad_magic[] = {0xc3, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    if (!r)
        r = write_seed(dir, "confluent.bin", confluent, sizeof confluent);
    if (!r)
        r = write_seed(dir, "bad_magic.bin", bad_magic, sizeof bad_magic);
    hf_buf_free(&rec);
    return r ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
        return write_seeds(argv[2]);
    return fuzz_replay_main("codec_fuzz", argc, argv); /* fuzz_cleanup() runs at exit */
}

#endif
