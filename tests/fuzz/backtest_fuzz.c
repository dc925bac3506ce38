/* Fuzz target of handoffctl backtest's readers: any bytes as an hf-gen --output
 * file (tools/handoffctl/backtest_input.c, through the partition group), and as a
 * --from/--to time (bt_parse_time()).
 *
 * Built normally (as meson does) it has a replay main() that runs every file of the
 * directories or files named on the command line, so the corpus is also an ordinary
 * test (suite 'fuzz').  The seeds: records of hf-gen --contacts 3 --output, the same
 * cut short, and bytes that are no such file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/log.h"
#include "replay.h"
#include "tools/handoffctl/backtest.h"
#include "tools/handoffctl/hfctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The one function of handoffctl's main.c the reader uses. */
int hfctl_codec_new(codec_t **out, char *err, size_t errsz)
{
    static const uint8_t unused_key[16];
    codec_opts_t copts = {.email_key = unused_key, .email_key_len = sizeof(unused_key)};
    return codec_new(out, &copts, err, errsz);
}

/* Reads @data as a file: every record in order, or a clear error; never more records
 * than the file can hold (each has at least 10 bytes of lengths). */
static void read_as_file(const uint8_t *data, size_t size, const hf_config_t *cfg)
{
    int fd = memfd_create("backtest-fuzz", 0);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const hf_topics_t *t = &cfg->topics;
    bt_input_opts_t opts = {
        .file = path,
        .topic = {t->web_visits, t->form_submissions, t->content_downloads, t->webinar_attendance,
                  t->email_engagement, t->identity, t->sales_activity},
        .file_partitions = 3,
        .from_ms = INT64_MIN,
        .to_ms = INT64_MAX,
        .timeout_s = 1,
    };
    bt_input_t *in = NULL;
    char err[512] = "";
    int r = bt_input_open(&in, &opts, err, sizeof err);
    if (r < 0 && (in || !err[0]))
        abort();
    size_t n = 0;
    int64_t stream = INT64_MIN;
    bt_record_t rec;
    while (in && (r = bt_input_next(in, &rec, err, sizeof err)) == 1) {
        /* the daemon's order: the stream time never goes back */
        if (++n > size / 10 || rec.stream_ms < stream || rec.partition < 0 || rec.partition >= 3)
            abort();
        stream = rec.stream_ms;
    }
    if (r < 0 && !err[0])
        abort();
    bt_input_close(in);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hf_config_t *cfg;
    if (!cfg) {
        hf_buf_t errors = HF_BUF_INIT;
        if (config_load_string(&cfg, "fuzz.yaml", "", 0, &errors) != 0)
            abort();
        hf_buf_free(&errors);
        log_min_level = LOG_LEVEL_ERROR;
    }
    read_as_file(data, size, cfg);

    char text[64];
    size_t len = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, len);
    text[len] = '\0';
    int64_t ms;
    if (bt_parse_time(text, &ms)) {
        char week[16];
        bt_iso_week(ms, week);
        if (strlen(week) < 8)
            abort();
    }
    return 0;
}

#ifndef HF_FUZZING

int main(int argc, char **argv)
{
    return fuzz_replay_main("backtest_fuzz", argc, argv);
}

#endif
