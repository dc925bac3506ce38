/* Helpers of the codec's unit tests: codecs under a test key, a small Avro writer for
 * hand-made bodies, a sample input event of every kind, and the assertions the tests
 * share.  They fail the running cmocka test on error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/codec.h"

/* The e-mail keys of the tests' codecs. */
static const uint8_t CK_KEY[] = "unit-test e-mail key";
static const uint8_t CK_OTHER_KEY[] = "another key";

/* A codec with @opts; a codec under CK_KEY without limits. */
codec_t *ck_codec_with(const codec_opts_t *opts);
codec_t *ck_codec(void);

/* Avro binary written by hand, to put bad values where encoders never would. */
typedef struct ck_wbuf {
    uint8_t b[16384];
    size_t n;
} ck_wbuf_t;

void ck_w_long(ck_wbuf_t *w, int64_t v);
void ck_w_bytes(ck_wbuf_t *w, const void *p, size_t len);
void ck_w_str(ck_wbuf_t *w, const char *s);
/* Starts @w over with the single-object header of fingerprint @fp. */
void ck_w_header(ck_wbuf_t *w, uint64_t fp);

/* An event of @kind, with every optional field set or none. */
hf_event_t ck_sample(hf_event_kind_t kind, bool with_optionals);
/* @out emptied, then ck_sample(@kind, @optionals) encoded into it. */
void ck_encode_sample(codec_t *c, hf_event_kind_t kind, bool optionals, hf_buf_t *out);
/* codec_decode_input() of the first @len bytes of @rec. */
int ck_decode(codec_t *c, const hf_buf_t *rec, size_t len, hf_event_t *ev, char *err, size_t errsz);

void ck_assert_traits_equal(const hf_traits_t *a, const hf_traits_t *b);
void ck_assert_events_equal(const hf_event_t *a, const hf_event_t *b);
/* @json holds @needle. */
void ck_assert_contains(const hf_buf_t *json, const char *needle);
/* Parses @json (which must be one JSON object) with jansson; the caller decrefs. */
json_t *ck_parse_json(const hf_buf_t *json);
/* codec_decode_input() of @rec fails with @code and a message holding @msg_part (when
 * not NULL), leaving a zeroed event. */
void ck_expect_error(codec_t *c, const void *rec, size_t len, int code, const char *msg_part);
