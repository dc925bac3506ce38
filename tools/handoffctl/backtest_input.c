/* handoffctl backtest: the recorded input in the daemon's order (backtest.h).
 *
 * Both sources put their records into the daemon's partition group
 * (daemon/pgroup.h), one queue per topic-partition, and take them out in its one
 * total order (partition time, then topic and partition, then offset), as
 * handoffd takes a backlog: a queue that still has records to come holds back the
 * others however long reading takes, so the order depends on the records alone.
 * There is no wall clock here: no queue is ever "caught up" on a live stream.
 *
 *  - A file written by hf-gen --output (tools/gen/sink.h: u16 topic length,
 *    topic, u32 key length, key, u32 value length, value) has no partitions: each
 *    record goes where the producer's murmur2 partitioner would have put it, over
 *    the rules file's kafka.partitions (or --partitions), at the next offset of
 *    that partition.  A first pass counts each partition's records (skipping the
 *    values), which is what a broker's high watermark tells the daemon.
 *  - Kafka: every partition of the input topics is assigned (no group) from its
 *    low to its high watermark as they were when backtest started; records
 *    produced later are not read. */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backtest.h"
#include "daemon/kafka.h"
#include "daemon/pgroup.h"
#include "hfctl.h"

#define BT_FILL_RECORDS 4096u
#define BT_MAX_KEY_BYTES (1u << 20)
#define BT_MAX_VALUE_BYTES (64u << 20)

/* A record buffered in the partition group: its bytes follow it (file) or belong
 * to the Kafka message. */
typedef struct held {
    stage_role_t role;
    int32_t partition;
    int64_t offset;
    int64_t ts_ms;
    rd_kafka_message_t *msg; /* NULL: a file record */
    size_t key_len, value_len;
    const void *key, *value;
    uint8_t bytes[];
} held_t;

struct bt_input {
    bt_input_opts_t opts;
    codec_t *codec; /* reads event times */
    pgroup_t *pg;
    int32_t partitions[ROLE_BY_ANON];
    int32_t max_partitions;
    /* per queue (role * max_partitions + partition) */
    int64_t *next_offset; /* of the next record to read */
    int64_t *end_offset;  /* file: records in the file; Kafka: the high watermark */
    bool done;            /* everything was read */
    held_t *current;      /* handed out last */
    uint64_t skipped;

    FILE *file;
    const char *path;
    uint64_t file_pos; /* bytes read, for messages */

    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
};

static void held_free(void *p)
{
    held_t *h = p;
    if (h && h->msg)
        rd_kafka_message_destroy(h->msg);
    free(h);
}

static size_t queue_of(const bt_input_t *in, stage_role_t role, int32_t partition)
{
    return (size_t)role * (size_t)in->max_partitions + (size_t)partition;
}

/* The partition group's lag callback: whether queue @q has records still to come. */
static bool queue_lags(void *opaque, size_t q)
{
    const bt_input_t *in = opaque;
    return in->next_offset[q] < in->end_offset[q];
}

static stage_role_t role_of(const bt_input_t *in, const char *topic, size_t len)
{
    for (int r = 0; r < ROLE_BY_ANON; r++) {
        const char *t = in->opts.topic[r];
        if (t && strlen(t) == len && memcmp(t, topic, len) == 0)
            return (stage_role_t)r;
    }
    return ROLE__COUNT;
}

static int make_queues(bt_input_t *in, char *err, size_t errsz)
{
    in->max_partitions = 1;
    for (int r = 0; r < ROLE_BY_ANON; r++)
        if (in->partitions[r] > in->max_partitions)
            in->max_partitions = in->partitions[r];
    size_t n = (size_t)ROLE_BY_ANON * (size_t)in->max_partitions;
    in->next_offset = calloc(n, sizeof(int64_t));
    in->end_offset = calloc(n, sizeof(int64_t));
    pgroup_opts_t po = {.idle_timeout_ms = 0, .allowed_lateness_ms = 0};
    in->pg = pgroup_new(n, &po, queue_lags, in);
    if (!in->next_offset || !in->end_offset || !in->pg) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* Takes one record into its queue unless it lies outside [from, to). */
static int take(bt_input_t *in, held_t *h)
{
    size_t q = queue_of(in, h->role, h->partition);
    in->next_offset[q] = h->offset + 1;
    int64_t ts;
    h->ts_ms =
        h->value && codec_peek_time(in->codec, h->value, h->value_len, &ts) == 0 ? ts : INT64_MIN;
    if (h->ts_ms != INT64_MIN && (h->ts_ms < in->opts.from_ms || h->ts_ms >= in->opts.to_ms)) {
        in->skipped++;
        held_free(h);
        return 0;
    }
    /* an unreadable time goes at its partition's time; the stages dead-letter it */
    int r = pgroup_push(in->pg, q, h, h->ts_ms, 0);
    if (r < 0)
        held_free(h);
    return r;
}

/* ---- an hf-gen --output file --------------------------------------------------------- */

/* Reads a big-endian number of @bytes; 1, 0 at a clean end (nothing read), -1 cut. */
static int read_be(FILE *f, int bytes, uint32_t *v)
{
    uint8_t b[4];
    size_t n = fread(b, 1, (size_t)bytes, f);
    if (n == 0 && feof(f))
        return 0;
    if (n != (size_t)bytes)
        return -1;
    *v = 0;
    for (int i = 0; i < bytes; i++)
        *v = (*v << 8) | b[i];
    return 1;
}

/* The next record's header: topic into @topic (NUL-terminated), key and value
 * lengths.  1, 0 at the end, or -errno with @err. */
static int file_header(bt_input_t *in, char topic[256], uint32_t *key_len, uint32_t *value_len,
                       char *err, size_t errsz)
{
    uint32_t tlen;
    int r = read_be(in->file, 2, &tlen);
    if (r == 0 && !ferror(in->file))
        return 0;
    if (r == 1 && tlen < 256 && fread(topic, 1, tlen, in->file) == tlen) {
        topic[tlen] = '\0';
        if (read_be(in->file, 4, key_len) == 1 && *key_len <= BT_MAX_KEY_BYTES) {
            in->file_pos += 2 + tlen + 4;
            return 1;
        }
    }
    if (ferror(in->file))
        snprintf(err, errsz, "%s: %s", in->path, strerror(errno));
    else
        snprintf(err, errsz,
                 "%s: not an hf-gen --output file, or cut short (a record header at byte "
                 "%" PRIu64 " is incomplete or too long)",
                 in->path, in->file_pos);
    (void)value_len;
    return -EINVAL;
}

/* Topic and partition of a record of the file, from its topic and key. */
static int file_place(bt_input_t *in, const char *topic, const void *key, size_t key_len,
                      stage_role_t *role, int32_t *partition, char *err, size_t errsz)
{
    *role = role_of(in, topic, strlen(topic));
    if (*role == ROLE__COUNT) {
        snprintf(err, errsz,
                 "%s: a record at byte %" PRIu64
                 " is of topic \"%s\", which is none of the input topics of the rules file",
                 in->path, in->file_pos, topic);
        return -EINVAL;
    }
    *partition = kafka_murmur2_partition(key, key_len, in->partitions[*role]);
    return 0;
}

static int file_cut(bt_input_t *in, char *err, size_t errsz)
{
    if (ferror(in->file))
        snprintf(err, errsz, "%s: %s", in->path, strerror(errno));
    else
        snprintf(err, errsz, "%s: cut short in the record before byte %" PRIu64, in->path,
                 in->file_pos);
    return -EINVAL;
}

/* The first pass: each partition's record count (its "high watermark"). */
static int file_count(bt_input_t *in, char *err, size_t errsz)
{
    char topic[256];
    uint8_t key[1024];
    uint32_t key_len, value_len;
    int r;
    while ((r = file_header(in, topic, &key_len, &value_len, err, errsz)) == 1) {
        uint8_t *k = key_len <= sizeof key ? key : malloc(key_len ? key_len : 1);
        if (!k)
            return -ENOMEM;
        bool ok = fread(k, 1, key_len, in->file) == key_len &&
                  read_be(in->file, 4, &value_len) == 1 && value_len <= BT_MAX_VALUE_BYTES &&
                  fseeko(in->file, (off_t)value_len, SEEK_CUR) == 0;
        stage_role_t role;
        int32_t part;
        int rp = ok ? file_place(in, topic, k, key_len, &role, &part, err, errsz) : 0;
        if (k != key)
            free(k);
        if (!ok)
            return file_cut(in, err, errsz);
        if (rp < 0)
            return rp;
        in->file_pos += key_len + 4 + value_len;
        in->end_offset[queue_of(in, role, part)]++;
    }
    if (r < 0)
        return r;
    /* fseeko past the end does not fail: the last value must be all there */
    off_t size = ftello(in->file);
    if (fseeko(in->file, 0, SEEK_END) != 0 || ftello(in->file) != size ||
        (uint64_t)size != in->file_pos) {
        snprintf(err, errsz, "%s: cut short: the last record ends past the end of the file",
                 in->path);
        return -EINVAL;
    }
    rewind(in->file);
    in->file_pos = 0;
    return 0;
}

/* Reads up to BT_FILL_RECORDS records into the partition group. */
static int file_fill(bt_input_t *in, char *err, size_t errsz)
{
    uint8_t key_buf[1024];
    for (unsigned n = 0; n < BT_FILL_RECORDS; n++) {
        char topic[256];
        uint32_t key_len, value_len;
        int r = file_header(in, topic, &key_len, &value_len, err, errsz);
        if (r <= 0) {
            in->done = r == 0;
            return r;
        }
        uint8_t *key = key_len <= sizeof key_buf ? key_buf : malloc(key_len ? key_len : 1);
        if (!key)
            return -ENOMEM;
        bool ok = fread(key, 1, key_len, in->file) == key_len &&
                  read_be(in->file, 4, &value_len) == 1 && value_len <= BT_MAX_VALUE_BYTES;
        /* one allocation per record: key and value follow the header */
        held_t *h = ok ? malloc(sizeof(*h) + key_len + value_len + 1) : NULL;
        if (h) {
            memcpy(h->bytes, key, key_len);
            ok = fread(h->bytes + key_len, 1, value_len, in->file) == value_len;
        }
        if (key != key_buf)
            free(key);
        if (!ok || !h) {
            free(h);
            return ok ? -ENOMEM : file_cut(in, err, errsz);
        }
        in->file_pos += key_len + 4 + value_len;
        stage_role_t role;
        int32_t part;
        if ((r = file_place(in, topic, h->bytes, key_len, &role, &part, err, errsz)) < 0) {
            free(h);
            return r;
        }
        *h = (held_t){.role = role,
                      .partition = part,
                      .offset = in->next_offset[queue_of(in, role, part)],
                      .key = h->bytes,
                      .key_len = key_len,
                      .value = h->bytes + key_len,
                      .value_len = value_len};
        if ((r = take(in, h)) < 0)
            return r;
    }
    return 0;
}

static int file_open(bt_input_t *in, char *err, size_t errsz)
{
    in->path = in->opts.file;
    in->file = fopen(in->path, "rb");
    if (!in->file) {
        int e = errno;
        snprintf(err, errsz, "%s: %s", in->path, strerror(e));
        return -e;
    }
    setvbuf(in->file, NULL, _IOFBF, 1 << 20);
    for (int r = 0; r < ROLE_BY_ANON; r++)
        in->partitions[r] = in->opts.file_partitions > 0 ? in->opts.file_partitions : 1;
    int r = make_queues(in, err, errsz);
    if (r == 0)
        r = file_count(in, err, errsz);
    return r;
}

/* ---- Kafka ------------------------------------------------------------------------ */

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf; /* a failure is reported by what it stops */
}

static int kafka_client(bt_input_t *in, char *err, size_t errsz)
{
    /* the rules file's kafka.properties (SASL, SSL, ...) apply, as in handoffd */
    static const char *const defaults[] = {"enable.partition.eof", "true", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(in->opts.cfg, in->opts.brokers, defaults, err, errsz);
    if (!conf)
        return -EINVAL;
    /* no group is joined (partitions are assigned) and nothing is committed */
    if (kafka_conf_set(conf, "group.id", "handoffctl-backtest", err, errsz) ||
        kafka_conf_set(conf, "enable.auto.commit", "false", err, errsz)) {
        rd_kafka_conf_destroy(conf);
        return -EINVAL;
    }
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    char rkerr[256];
    in->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rkerr, sizeof rkerr);
    if (!in->rk) {
        snprintf(err, errsz, "%s", rkerr);
        return -EINVAL;
    }
    rd_kafka_poll_set_consumer(in->rk);
    in->queue = rd_kafka_queue_get_consumer(in->rk);
    return 0;
}

/* Every partition of every input topic from its low to its high watermark. */
static int kafka_assign(bt_input_t *in, char *err, size_t errsz)
{
    const char *names[ROLE_BY_ANON];
    int roles[ROLE_BY_ANON];
    size_t n = 0;
    for (int r = 0; r < ROLE_BY_ANON; r++)
        if (in->opts.topic[r]) {
            roles[n] = r;
            names[n++] = in->opts.topic[r];
        }
    int32_t counts[ROLE_BY_ANON];
    int timeout_ms = (int)(in->opts.timeout_s * 1000);
    char why[256];
    if (kafka_partition_counts(in->rk, names, n, counts, timeout_ms, why, sizeof why) < 0) {
        snprintf(err, errsz, "cannot reach the broker at %s within %g s: %s", in->opts.brokers,
                 in->opts.timeout_s, why);
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        if (counts[i] <= 0) {
            snprintf(err, errsz, "topic %s: not found on the broker at %s", names[i],
                     in->opts.brokers);
            return -ENOENT;
        }
        in->partitions[roles[i]] = counts[i];
    }
    int r = make_queues(in, err, errsz);
    if (r < 0)
        return r;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
    for (size_t i = 0; i < n && r == 0; i++) {
        for (int32_t p = 0; p < counts[i]; p++) {
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t e =
                rd_kafka_query_watermark_offsets(in->rk, names[i], p, &lo, &hi, timeout_ms);
            if (e) {
                snprintf(err, errsz, "%s [%" PRId32 "]: watermarks: %s", names[i], p,
                         rd_kafka_err2str(e));
                r = -EIO;
                break;
            }
            size_t q = queue_of(in, (stage_role_t)roles[i], p);
            in->next_offset[q] = lo;
            in->end_offset[q] = hi;
            if (hi > lo)
                rd_kafka_topic_partition_list_add(list, names[i], p)->offset = lo;
        }
    }
    if (r == 0 && list->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_assign(in->rk, list);
        if (e) {
            snprintf(err, errsz, "assign: %s", rd_kafka_err2str(e));
            r = -EIO;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return r;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool kafka_all_read(const bt_input_t *in)
{
    size_t n = (size_t)ROLE_BY_ANON * (size_t)in->max_partitions;
    for (size_t q = 0; q < n; q++)
        if (in->next_offset[q] < in->end_offset[q])
            return false;
    return true;
}

/* One message: taken, or an end of partition or error handled.  Takes @m. */
static int kafka_take(bt_input_t *in, rd_kafka_message_t *m, char *err, size_t errsz)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    stage_role_t role = role_of(in, topic, strlen(topic));
    if (role == ROLE__COUNT || m->partition < 0 || m->partition >= in->partitions[role]) {
        rd_kafka_message_destroy(m);
        return 0;
    }
    size_t q = queue_of(in, role, m->partition);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        /* the end of what is there (a compacted or aborted tail below the watermark) */
        if (m->offset >= in->next_offset[q] && in->next_offset[q] < in->end_offset[q] &&
            m->offset >= in->end_offset[q])
            in->next_offset[q] = in->end_offset[q];
        rd_kafka_message_destroy(m);
        return 0;
    }
    if (m->err) {
        snprintf(err, errsz, "%s [%" PRId32 "]: %s", topic, m->partition,
                 rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return -EIO;
    }
    if (m->offset >= in->end_offset[q] || m->offset < in->next_offset[q]) {
        rd_kafka_message_destroy(m); /* produced after the start, or a repeat */
        return 0;
    }
    held_t *h = malloc(sizeof(*h));
    if (!h) {
        rd_kafka_message_destroy(m);
        return -ENOMEM;
    }
    *h = (held_t){.role = role,
                  .partition = m->partition,
                  .offset = m->offset,
                  .msg = m,
                  .key = m->key,
                  .key_len = m->key_len,
                  .value = m->payload,
                  .value_len = m->len};
    return take(in, h);
}

static int kafka_fill(bt_input_t *in, char *err, size_t errsz)
{
    double deadline = mono_s() + in->opts.timeout_s;
    while (!kafka_all_read(in)) {
        rd_kafka_message_t *msgs[1024];
        ssize_t n = rd_kafka_consume_batch_queue(in->queue, 200, msgs, 1024);
        if (n < 0) {
            snprintf(err, errsz, "consuming: %s", rd_kafka_err2str(rd_kafka_last_error()));
            return -EIO;
        }
        int r = 0;
        size_t taken = 0;
        for (ssize_t i = 0; i < n; i++) {
            bool record = !msgs[i]->err;
            int ri = r == 0 ? kafka_take(in, msgs[i], err, errsz) : 0;
            if (r != 0)
                rd_kafka_message_destroy(msgs[i]);
            r = ri < 0 ? ri : r;
            taken += record;
        }
        if (r < 0)
            return r;
        if (taken)
            return 0;
        if (mono_s() > deadline) {
            snprintf(err, errsz,
                     "no record from the broker at %s for %g s while partitions still have "
                     "records to read",
                     in->opts.brokers, in->opts.timeout_s);
            return -ETIMEDOUT;
        }
    }
    in->done = true;
    return 0;
}

/* ---- the order ------------------------------------------------------------------ */

int bt_input_open(bt_input_t **out, const bt_input_opts_t *opts, char *err, size_t errsz)
{
    bt_input_t *in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    in->opts = *opts;
    int r = hfctl_codec_new(&in->codec, err, errsz);
    if (r == 0 && opts->file)
        r = file_open(in, err, errsz);
    else if (r == 0 && (r = kafka_client(in, err, errsz)) == 0)
        r = kafka_assign(in, err, errsz);
    if (r < 0) {
        bt_input_close(in);
        return r;
    }
    pgroup_refresh(in->pg, 0);
    *out = in;
    return 0;
}

void bt_input_partitions(const bt_input_t *in, int32_t partitions[ROLE_BY_ANON])
{
    memcpy(partitions, in->partitions, sizeof in->partitions);
}

int bt_input_next(bt_input_t *in, bt_record_t *rec, char *err, size_t errsz)
{
    held_free(in->current);
    in->current = NULL;
    for (;;) {
        pgroup_item_t it;
        /* no wall clock: a record is never within the allowed lateness of "now" */
        pgroup_next_result_t next = pgroup_next(in->pg, 0, INT64_MIN, &it);
        if (next == PGROUP_READY) {
            held_t *h = it.record;
            in->current = h;
            *rec = (bt_record_t){.role = h->role,
                                 .partition = h->partition,
                                 .offset = h->offset,
                                 .key = h->key,
                                 .key_len = h->key_len,
                                 .value = h->value,
                                 .value_len = h->value_len,
                                 .ts_ms = h->ts_ms,
                                 .stream_ms = pgroup_stream_time(in->pg)};
            return 1;
        }
        if (in->done) {
            if (next == PGROUP_EMPTY)
                return 0;
            snprintf(err, errsz, "the partition group waits for a partition with nothing left");
            return -EIO;
        }
        int r = in->file ? file_fill(in, err, errsz) : kafka_fill(in, err, errsz);
        if (r < 0)
            return r;
        pgroup_refresh(in->pg, 0);
    }
}

void *bt_input_detach(bt_input_t *in)
{
    void *h = in->current;
    in->current = NULL;
    return h;
}

void bt_input_record_free(void *record)
{
    held_free(record);
}

uint64_t bt_input_skipped(const bt_input_t *in)
{
    return in->skipped;
}

void bt_input_close(bt_input_t *in)
{
    if (!in)
        return;
    held_free(in->current);
    if (in->pg)
        pgroup_free(in->pg, held_free);
    if (in->queue)
        rd_kafka_queue_destroy(in->queue);
    if (in->rk) {
        rd_kafka_consumer_close(in->rk);
        rd_kafka_destroy(in->rk);
    }
    if (in->file)
        fclose(in->file);
    codec_free(in->codec);
    free(in->next_offset);
    free(in->end_offset);
    free(in);
}
