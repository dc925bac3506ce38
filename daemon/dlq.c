#include "dlq.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int dlq_send(stage_ctx_t *c, const stage_origin_t *origin, const char *reason_class,
             const char *fmt, ...)
{
    assert(origin && origin->topic);
    char reason[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);

    hf_dead_letter_t dl = {
        .topic = origin->topic,
        .partition = origin->partition,
        .offset = origin->offset,
        .key = origin->key,
        .key_len = origin->key_len,
        .value = origin->value,
        .value_len = origin->value_len,
        .error = reason,
        .at_ms = stage_now_ms(c),
    };
    hf_buf_reset(&c->out_buf);
    int r = codec_encode_dead_letter(c->codec, &dl, &c->out_buf);
    if (r < 0)
        return stage_fail(c, r, "encoding dead letter: %s", strerror(-r));
    r = c->out.produce(c->out.opaque, OUT_DLQ, STAGE_NO_PARTITION, 0, origin->key, origin->key_len,
                       c->out_buf.data, c->out_buf.len, c->err, c->errsz);
    if (r < 0)
        return r;
    c->ctr[M_DLQ]++;
    if (metrics_add_named(c->metrics, "dlq", reason_class, 1) < 0)
        return -ENOMEM;
    log_record(LOG_LEVEL_WARN, LOG_PIPE,
               LOG_FIELDS(LOG_STR("topic", dl.topic), LOG_INT("partition", dl.partition),
                          LOG_INT("offset", dl.offset), LOG_STR("reason", reason),
                          LOG_STR("class", reason_class), LOG_TIME("at", dl.at_ms)),
               "dead letter %s [%" PRId32 "] @%" PRId64, dl.topic, dl.partition, dl.offset);
    return 0;
}
