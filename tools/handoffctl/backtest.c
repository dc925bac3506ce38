/* handoffctl backtest --rules FILE [--baseline FILE] (--input FILE | --brokers LIST
 * [--topics LIST]) [--from TIME] [--to TIME] [--partitions N] [--json]: recorded
 * input replayed through two rules files, in-process, each from an empty scratch
 * state, and the handoffs that differ.
 *
 * The records are read once, in the daemon's order (backtest_input.c), and each
 * goes to both replays (daemon/replay.h: the daemon's stages on a scratch store,
 * on event time), each on a thread of its own, in batches, while the next batch
 * is read.  What each made is collected from the stages'
 * handoffs and compared by backtest_report.c. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/replay.h"
#include "hfctl.h"

typedef struct bt_args {
    const char *rules;
    const char *baseline;
    const char *input;
    const char *brokers;
    char *topics; /* comma-separated, NULL: every input topic */
    const char *from, *to;
    int64_t from_ms, to_ms;
    long partitions; /* 0: the baseline's kafka.partitions */
    double timeout_s;
    bool json;
} bt_args_t;

static bool parse_args(int argc, char **argv, bt_args_t *a)
{
    enum {
        O_RULES = 256,
        O_BASELINE,
        O_INPUT,
        O_BROKERS,
        O_TOPICS,
        O_FROM,
        O_TO,
        O_PARTS,
        O_JSON,
        O_TIMEOUT
    };
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, O_RULES},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"input", required_argument, NULL, O_INPUT},
        {"brokers", required_argument, NULL, O_BROKERS},
        {"topics", required_argument, NULL, O_TOPICS},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"partitions", required_argument, NULL, O_PARTS},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    *a = (bt_args_t){.from_ms = INT64_MIN, .to_ms = INT64_MAX, .timeout_s = 10};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case O_RULES:
            a->rules = optarg;
            break;
        case O_BASELINE:
            a->baseline = optarg;
            break;
        case O_INPUT:
            a->input = optarg;
            break;
        case O_BROKERS:
            a->brokers = optarg;
            break;
        case O_TOPICS:
            a->topics = optarg;
            break;
        case O_FROM:
            a->from = optarg;
            break;
        case O_TO:
            a->to = optarg;
            break;
        case O_PARTS:
            a->partitions = atol(optarg);
            if (a->partitions < 1 || a->partitions > 1024) {
                fprintf(stderr, "handoffctl: --partitions must be in [1, 1024]\n");
                return false;
            }
            break;
        case O_TIMEOUT:
            a->timeout_s = atof(optarg);
            break;
        case O_JSON:
            a->json = true;
            break;
        default:
            hfctl_usage(stderr);
            return false;
        }
    }
    if (!a->rules || optind != argc || !a->input == !a->brokers || (a->topics && !a->brokers) ||
        (a->partitions && !a->input) || !(a->timeout_s > 0 && a->timeout_s <= 3600)) {
        fprintf(stderr,
                "handoffctl backtest: --rules FILE and one of --input FILE or --brokers "
                "LIST are needed (--topics goes with --brokers, --partitions with --input)\n");
        hfctl_usage(stderr);
        return false;
    }
    const char *times[2] = {a->from, a->to};
    int64_t *ms[2] = {&a->from_ms, &a->to_ms};
    for (int i = 0; i < 2; i++) {
        if (times[i] && !bt_parse_time(times[i], ms[i])) {
            fprintf(stderr,
                    "handoffctl: --%s \"%s\": not a time (2026-03-02, 2026-03-02T09:00:00Z, "
                    "2026-03-02T09:00+01:00, or milliseconds since 1970)\n",
                    i ? "to" : "from", times[i]);
            return false;
        }
    }
    if (a->from_ms >= a->to_ms) {
        fprintf(stderr, "handoffctl: --from must come before --to\n");
        return false;
    }
    return true;
}

/* The seven input topics of @cfg by role. */
static void input_topics(const hf_config_t *cfg, const char *topic[ROLE_BY_ANON])
{
    const hf_topics_t *t = &cfg->topics;
    const char *all[ROLE_BY_ANON] = {
        t->web_visits,       t->form_submissions, t->content_downloads, t->webinar_attendance,
        t->email_engagement, t->identity,         t->sales_activity};
    memcpy(topic, all, sizeof all);
}

/* Both files must name the same input topics: the records are read once. */
static bool same_inputs(const hf_config_t *a, const hf_config_t *b, const bt_args_t *args)
{
    const char *ta[ROLE_BY_ANON], *tb[ROLE_BY_ANON];
    input_topics(a, ta);
    input_topics(b, tb);
    for (int r = 0; r < ROLE_BY_ANON; r++) {
        if (strcmp(ta[r], tb[r]) != 0) {
            fprintf(stderr,
                    "handoffctl: %s reads topic %s where %s reads %s: backtest replays one "
                    "input through both, so their input topics must be the same\n",
                    args->rules, tb[r], args->baseline ? args->baseline : config_default_path(),
                    ta[r]);
            return false;
        }
    }
    return true;
}

/* --topics: keeps only the named input topics.  false (said) for a name that is not
 * one of them. */
static bool pick_topics(char *list, const char *topic[ROLE_BY_ANON])
{
    bool keep[ROLE_BY_ANON] = {false};
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        int r = 0;
        while (r < ROLE_BY_ANON && strcmp(topic[r], name) != 0)
            r++;
        if (r == ROLE_BY_ANON) {
            fprintf(stderr, "handoffctl: --topics: %s is not an input topic of the rules file (",
                    name);
            for (int k = 0; k < ROLE_BY_ANON; k++)
                fprintf(stderr, "%s%s", k ? ", " : "", topic[k]);
            fprintf(stderr, ")\n");
            return false;
        }
        keep[r] = true;
    }
    for (int r = 0; r < ROLE_BY_ANON; r++)
        if (!keep[r])
            topic[r] = NULL;
    return true;
}

/* On a replay's thread: a failure fails that replay's record, and the session ends
 * through worker_failed() with both threads joined and the scratch stores removed. */
static int on_handoff(void *opaque, const hf_handoff_t *h)
{
    return bt_run_add(opaque, h) < 0 ? -ENOMEM : 0;
}

typedef struct bt_session {
    hf_config_t *cfg[2];
    replay_t *replay[2];
    bt_run_t run[2];
    bt_input_t *input;
    bt_header_t header;
    const char *header_paths[2]; /* baseline, proposed: for messages */
} bt_session_t;

/* Records handed to the replays at a time. */
#define BT_BATCH 4096

typedef struct bt_batch {
    bt_record_t recs[BT_BATCH];
    void *owned[BT_BATCH];
    size_t count;
} bt_batch_t;

/* One replay on a thread of its own: the two share nothing, and each takes every
 * record in the same order, so running them side by side changes nothing in what
 * they decide. */
typedef struct bt_worker {
    replay_t *replay;
    const bt_batch_t *batch; /* the records to replay; NULL: the end */
    int64_t end_ms;          /* at the end: the last stream time (INT64_MIN: no record) */
    sem_t go, done;
    pthread_t thread;
    bool started;
    int rc;
    bt_record_t failed; /* the record that failed (rc < 0 and not at the end) */
    bool failed_at_end;
    replay_t **slot;       /* the session's pointer to the replay: freed here when done */
    uint64_t dead_letters; /* the replay's, when it was freed */
    uint64_t sla_breaches;
} bt_worker_t;

static void *worker_main(void *opaque)
{
    bt_worker_t *w = opaque;
    for (;;) {
        sem_wait(&w->go);
        const bt_batch_t *b = w->batch;
        if (!b) {
            if (w->rc == 0 && w->end_ms != INT64_MIN &&
                (w->rc = replay_finish(w->replay, w->end_ms)) < 0)
                w->failed_at_end = true;
            if (w->rc == 0) {
                /* freeing every state takes a while: both at once, here */
                w->dead_letters = replay_counters(w->replay)[M_DLQ];
                w->sla_breaches = replay_counters(w->replay)[M_BREACHES];
                replay_free(w->replay);
                w->replay = *w->slot = NULL;
            }
            sem_post(&w->done);
            return NULL;
        }
        for (size_t i = 0; i < b->count && w->rc == 0; i++) {
            const bt_record_t *rec = &b->recs[i];
            w->rc = replay_record(w->replay, rec->role, rec->partition, rec->offset, rec->key,
                                  rec->key_len, rec->value, rec->value_len, rec->stream_ms);
            if (w->rc < 0)
                w->failed = *rec;
        }
        sem_post(&w->done);
    }
}

/* Reads up to BT_BATCH records into @b.  Returns 0 or -errno with @err. */
static int read_batch(bt_session_t *s, bt_batch_t *b, char *err, size_t errsz)
{
    b->count = 0;
    int r = 1;
    while (b->count < BT_BATCH &&
           (r = bt_input_next(s->input, &b->recs[b->count], err, errsz)) == 1) {
        const bt_record_t *rec = &b->recs[b->count];
        b->owned[b->count++] = bt_input_detach(s->input);
        s->header.records++;
        if (rec->ts_ms != INT64_MIN) {
            if (s->header.first_ms == INT64_MIN || rec->ts_ms < s->header.first_ms)
                s->header.first_ms = rec->ts_ms;
            if (rec->ts_ms > s->header.last_ms)
                s->header.last_ms = rec->ts_ms;
        }
    }
    return r < 0 ? r : 0;
}

static void free_batch(bt_batch_t *b)
{
    for (size_t i = 0; i < b->count; i++)
        bt_input_record_free(b->owned[i]);
    b->count = 0;
}

/* Says why worker @i failed; returns 1. */
static int worker_failed(bt_session_t *s, const bt_worker_t *w, int i)
{
    if (w->failed_at_end) {
        fprintf(stderr, "handoffctl: %s: at the end of the input: %s\n", s->header_paths[i],
                replay_error(w->replay));
        return 1;
    }
    const char *topic[ROLE_BY_ANON];
    input_topics(s->cfg[i], topic);
    fprintf(stderr, "handoffctl: %s: replaying %s [%" PRId32 "] @%" PRId64 ": %s\n",
            s->header_paths[i], topic[w->failed.role], w->failed.partition, w->failed.offset,
            replay_error(w->replay));
    return 1;
}

/* Every record through both replays, each on its thread, while the next batch is
 * read. */
static int replay_all(bt_session_t *s)
{
    char err[512];
    bt_worker_t w[2] = {0};
    bt_batch_t *batch[2] = {calloc(1, sizeof(bt_batch_t)), calloc(1, sizeof(bt_batch_t))};
    int rc = 0;
    int64_t end_ms = INT64_MIN;
    if (!batch[0] || !batch[1]) {
        fprintf(stderr, "handoffctl: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int i = 0; i < 2 && rc == 0; i++) {
        w[i].replay = s->replay[i];
        w[i].slot = &s->replay[i];
        sem_init(&w[i].go, 0, 0);
        sem_init(&w[i].done, 0, 0);
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "handoffctl: cannot start a thread\n");
            rc = 1;
        }
        w[i].started = rc == 0;
    }
    bool inflight = false;
    for (int cur = 0; rc == 0; cur ^= 1) {
        int r = read_batch(s, batch[cur], err, sizeof err);
        if (inflight) {
            for (int i = 0; i < 2; i++)
                sem_wait(&w[i].done);
            free_batch(batch[cur ^ 1]);
            inflight = false;
            for (int i = 0; i < 2 && rc == 0; i++)
                if (w[i].rc < 0)
                    rc = worker_failed(s, &w[i], i);
        }
        if (r < 0 && rc == 0) {
            fprintf(stderr, "handoffctl: %s\n", err);
            rc = 1;
        }
        if (rc != 0 || batch[cur]->count == 0)
            break;
        end_ms = batch[cur]->recs[batch[cur]->count - 1].stream_ms;
        for (int i = 0; i < 2; i++) {
            w[i].batch = batch[cur];
            sem_post(&w[i].go);
        }
        inflight = true;
    }
done:
    for (int i = 0; i < 2; i++) {
        if (!w[i].started)
            continue;
        w[i].batch = NULL;
        w[i].end_ms = rc == 0 ? end_ms : INT64_MIN;
        sem_post(&w[i].go);
        pthread_join(w[i].thread, NULL);
        if (rc == 0 && w[i].rc < 0)
            rc = worker_failed(s, &w[i], i);
        sem_destroy(&w[i].go);
        sem_destroy(&w[i].done);
    }
    for (int i = 0; i < 2; i++) {
        if (batch[i])
            free_batch(batch[i]);
        free(batch[i]);
        s->header.dead_letters[i] = w[i].dead_letters;
        s->header.sla_breaches[i] = w[i].sla_breaches;
    }
    return rc;
}

static int open_session(bt_session_t *s, bt_args_t *a)
{
    char err[512];
    const char *topic[ROLE_BY_ANON];
    input_topics(s->cfg[0], topic);
    if (a->topics && !pick_topics(a->topics, topic))
        return 2;
    bt_input_opts_t io = {
        .file = a->input,
        .brokers = a->brokers,
        .cfg = s->cfg[0],
        .file_partitions = a->partitions ? (int32_t)a->partitions : s->cfg[0]->partitions,
        .from_ms = a->from_ms,
        .to_ms = a->to_ms,
        .timeout_s = a->timeout_s,
    };
    memcpy(io.topic, topic, sizeof topic);
    if (bt_input_open(&s->input, &io, err, sizeof err) < 0) {
        fprintf(stderr, "handoffctl: %s\n", err);
        return 1;
    }
    replay_opts_t ro = {.on_handoff = on_handoff};
    int32_t parts[ROLE_BY_ANON];
    bt_input_partitions(s->input, parts);
    /* the repartition topics are co-partitioned with the inputs (docs/CONTRACTS.md) */
    int32_t internal = 1;
    for (int r = 0; r < ROLE_BY_ANON; r++) {
        ro.partitions[r] = parts[r];
        if (parts[r] > internal)
            internal = parts[r];
    }
    ro.partitions[ROLE_BY_ANON] = ro.partitions[ROLE_BY_CONTACT] = ro.partitions[ROLE_BY_ACCOUNT] =
        internal;
    for (int i = 0; i < 2; i++) {
        ro.cfg = s->cfg[i];
        ro.opaque = &s->run[i];
        if (replay_new(&s->replay[i], &ro, err, sizeof err) < 0) {
            fprintf(stderr, "handoffctl: %s\n", err);
            return 1;
        }
    }
    return 0;
}

static void close_session(bt_session_t *s)
{
    for (int i = 0; i < 2; i++) {
        replay_free(s->replay[i]);
        bt_run_free(&s->run[i]);
        config_free(s->cfg[i]);
    }
    bt_input_close(s->input);
}

int hfctl_backtest(int argc, char **argv)
{
    bt_args_t a;
    if (!parse_args(argc, argv, &a))
        return 2;
    /* the stages log every handoff; the report says what matters */
    log_min_level = LOG_LEVEL_ERROR;
    bt_session_t s = {.header = {.first_ms = INT64_MIN, .last_ms = INT64_MIN}};
    int rc = 2;
    if (hfctl_load_rules(&s.cfg[0], a.baseline) != 0) {
        if (!a.baseline)
            fprintf(stderr,
                    "handoffctl backtest: --baseline FILE names the rules to compare with\n");
        goto done;
    }
    if (hfctl_load_rules(&s.cfg[1], a.rules) != 0 || !same_inputs(s.cfg[0], s.cfg[1], &a))
        goto done;
    s.header.baseline_path = s.header_paths[0] = a.baseline ? a.baseline : config_default_path();
    s.header.proposed_path = s.header_paths[1] = a.rules;
    if ((rc = open_session(&s, &a)) != 0 || (rc = replay_all(&s)) != 0)
        goto done;
    hf_buf_t out = HF_BUF_INIT;
    int r = a.json ? bt_report_json(&s.run[0], &s.run[1], &s.header, &out)
                   : bt_report_text(&s.run[0], &s.run[1], &s.header, &out);
    if (r < 0 || (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) ||
        fflush(stdout) != 0) {
        fprintf(stderr, "handoffctl: %s\n", r < 0 ? "out of memory" : "writing the report failed");
        rc = 1;
    }
    hf_buf_free(&out);
done:
    close_session(&s);
    return rc;
}
