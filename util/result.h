/* Results, the same in every module: 0 is success, a negative errno is a failure
 * the caller cannot go on from, and a positive value is a condition of one module
 * ("not found", "a repeat", "corrupt"), documented beside the function that returns
 * it and handled by its direct caller.
 *
 * Each module numbers its positive values from its own base below, so that a value
 * passed on by mistake (a store's "not found" returned through the cache as if it
 * were a decoder's "corrupt") can never be read as another module's condition. */
#pragma once

#define HF_RESULT_BASE_STATE 100    /* util/binenc.h readers: BINENC_* (HF_STATE_CORRUPT) */
#define HF_RESULT_BASE_STORE 200    /* daemon/store.h */
#define HF_RESULT_BASE_CODEC 300    /* codec/codec.h */
#define HF_RESULT_BASE_CONTACT 400  /* processors/contact/contact.h */
#define HF_RESULT_BASE_ACCOUNT 500  /* processors/account/account.h */
#define HF_RESULT_BASE_SLA 600      /* processors/sla/sla.h */
#define HF_RESULT_BASE_IDENTITY 700 /* processors/identity/identity.h */
