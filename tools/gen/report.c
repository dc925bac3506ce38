/* What hf-gen tells about a run; see report.h. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

static const char *const bad_kind_names[GEN_BAD__COUNT] = {"undecodable", "blocked_id",
                                                           "unknown_fingerprint", "oversized"};

void gen_report_progress(gen_ctx_t *g, double people)
{
    int64_t now = gen_mono_ns();
    if (g->opts->quiet || now < g->next_progress_ns)
        return;
    g->next_progress_ns = now + GEN_PROGRESS_EVERY_NS;
    double secs = (double)(now - g->start_ns) / 1e9;
    uint64_t sent = g->counts.records;
    fprintf(stderr,
            "hf-gen: %" PRIu64 " records sent in %.1f s (%.0f records/s), %" PRIu64
            " acknowledged; %.0f%% of %" PRIu32 " people\n",
            sent, secs, secs > 0 ? (double)sent / secs : 0.0, gen_sink_delivered(g->sink),
            100.0 * people / g->opts->contacts, g->opts->contacts);
}

void gen_report_summary(const gen_ctx_t *g, double secs)
{
    const gen_counts_t *c = &g->counts;
    gen_model_stats_t st;
    gen_model_get_stats(g->model, &st);
    uint64_t bad = 0;
    for (int k = 0; k < GEN_BAD__COUNT; k++)
        bad += c->bad[k];
    fprintf(stderr, "hf-gen: %" PRIu64 " records in %.1f s (%.0f records/s):", c->records, secs,
            secs > 0 ? (double)c->records / secs : 0.0);
    for (int k = 0; k < HF_EV__COUNT; k++)
        fprintf(stderr, "%s %s %" PRIu64, k ? "," : "", gen_sink_topic(g->sink, (hf_event_kind_t)k),
                c->per_kind[k].records);
    fprintf(stderr,
            "; %" PRIu64 " duplicates, %" PRIu64 " bad; %" PRIu64 " people, %" PRIu64
            " known, %" PRIu64 " hand-raisers\n",
            c->duplicates, bad, st.people, st.identified, st.hand_raisers);
}

int gen_report_write(const gen_ctx_t *g, const char *path, double secs)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    const gen_counts_t *c = &g->counts;
    const gen_opts_t *o = g->opts;
    gen_model_stats_t st;
    gen_model_get_stats(g->model, &st);
    uint64_t events = 0, bytes = 0;
    for (int k = 0; k < HF_EV__COUNT; k++) {
        events += c->events[k];
        bytes += c->per_kind[k].bytes;
    }
    fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"contacts\": %" PRIu32 ",\n", o->seed, o->contacts);
    fprintf(f, "  \"accounts\": %" PRIu32 ",\n  \"live\": %s,\n", o->accounts,
            o->live ? "true" : "false");
    fprintf(f,
            "  \"people\": %" PRIu64 ",\n  \"known_contacts\": %" PRIu64
            ",\n  \"hand_raisers\": %" PRIu64 ",\n  \"merged\": %" PRIu64 ",\n",
            st.people, st.identified, st.hand_raisers, st.merged);
    fprintf(f,
            "  \"events\": %" PRIu64 ",\n  \"duplicates\": %" PRIu64 ",\n  \"records\": %" PRIu64
            ",\n  \"value_bytes\": %" PRIu64 ",\n",
            events, c->duplicates, c->records, bytes);
    fprintf(f, "  \"topics\": {");
    for (int k = 0; k < HF_EV__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": {\"records\": %" PRIu64 ", \"value_bytes\": %" PRIu64 "}",
                k ? "," : "", gen_sink_topic(g->sink, (hf_event_kind_t)k), c->per_kind[k].records,
                c->per_kind[k].bytes);
    fprintf(f, "\n  },\n  \"kinds\": {");
    for (int k = 0; k < HF_EV__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": %" PRIu64, k ? "," : "", hf_event_kind_name((hf_event_kind_t)k),
                c->events[k]);
    fprintf(f, "\n  },\n  \"form_types\": {");
    for (int k = 0; k < HF_FORM__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": %" PRIu64, k ? "," : "", hf_form_type_name((hf_form_type_t)k),
                c->form_types[k]);
    fprintf(f, "\n  },\n  \"bad\": {");
    for (int k = 0; k < GEN_BAD__COUNT; k++)
        fprintf(f, "%s\n    \"%s\": %" PRIu64, k ? "," : "", bad_kind_names[k], c->bad[k]);
    fprintf(f,
            "\n  },\n  \"first_event_ms\": %" PRId64 ",\n  \"last_event_ms\": %" PRId64
            ",\n  \"elapsed_s\": %.3f,\n  \"records_per_s\": %.0f\n}\n",
            c->first_event_ms, c->last_event_ms, secs, secs > 0 ? (double)c->records / secs : 0.0);
    if (fclose(f) != 0)
        return -errno;
    return 0;
}
