/* Shared by the state serialisers of every stage: they write and read Avro binary
 * with util/binenc.h. */
#pragma once

#include "util/binenc.h"

/* Positive result of a state decoder: the bytes are not a state it wrote (a value
 * out of range, a body that ends too soon or goes on too long).  Numbered from
 * HF_RESULT_BASE_STATE (util/result.h). */
#define HF_STATE_CORRUPT BINENC_CORRUPT
