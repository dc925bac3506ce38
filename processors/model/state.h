/* Shared by the state serialisers of every stage. */
#pragma once

#include "util/binenc.h"

/* Positive result of a state decoder: the bytes are not a state it wrote. */
#define HF_STATE_CORRUPT BINENC_CORRUPT
