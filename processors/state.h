/* Shared by the state serialisers of every stage. */
#pragma once

/* Positive result of a state decoder: the bytes are not a state it wrote. */
#define HF_STATE_CORRUPT 1
