/* Where each field of each record lives in its C struct (internal to codec/): one
 * declarative table per record shape, written once and used wherever the shape
 * appears (a Touch in a MemberUpdate and in a ConversationReady's journey is the same
 * table).  The table says which C value a field is; the schema the table is compiled
 * against (codec_plan.c) says whether the field is a union with null and what the
 * writer wrote.  codec_new() checks every table against its current schema, field for
 * field. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef enum codec_slot_type {
    CODEC_SLOT_STR,     /* const char *; NULL = null */
    CODEC_SLOT_EMAIL,   /* traits.email: decoded into the domain at .aux and the hash after it */
    CODEC_SLOT_I32,     /* int32_t */
    CODEC_SLOT_OPT_I32, /* int32_t, with a bool at .aux saying it is present */
    CODEC_SLOT_I64,     /* int64_t (also takes an int writer field) */
    CODEC_SLOT_OPT_I64, /* int64_t, with a bool at .aux saying it is present */
    CODEC_SLOT_U64,     /* uint64_t, a long that must not be negative */
    CODEC_SLOT_BOOL,    /* bool */
    CODEC_SLOT_F32,     /* float */
    CODEC_SLOT_F64,     /* double */
    CODEC_SLOT_BYTES,   /* const void *, with its size_t length at .aux; NULL = null */
    CODEC_SLOT_ENUM,    /* a C enum whose values are the Avro symbols; .aux = count */
    CODEC_SLOT_STRS,    /* const char *const *, with its size_t count at .aux */
    CODEC_SLOT_RECORD,  /* .sub's fields, at .offset; .aux = its bool present */
    CODEC_SLOT_ARRAY,   /* const T * of .sub's struct T, with its size_t count at .aux */
} codec_slot_type_t;

/* .aux of a CODEC_SLOT_RECORD that is always there. */
#define CODEC_SLOT_ALWAYS UINT16_MAX

typedef struct codec_table codec_table_t;

typedef struct codec_slot {
    const char *name; /* Avro field name */
    codec_slot_type_t type;
    uint16_t offset;          /* in the table's struct */
    uint16_t aux;             /* in the table's struct too (a RECORD's present: in its own) */
    const codec_table_t *sub; /* RECORD, ARRAY */
} codec_slot_t;

struct codec_table {
    const char *record; /* Avro record name */
    const char *ctype;  /* the struct the offsets are in, for messages */
    const codec_slot_t *slots;
    uint16_t count;
    uint16_t size; /* sizeof that struct: the stride of an array of them */
};

/* The record names of the input kinds, in hf_event_kind_t order; NULL out of range. */
const char *codec_input_record_name(hf_event_kind_t kind);

/* The table of an input kind (fields of hf_event_t), or NULL. */
const codec_table_t *codec_table_input(hf_event_kind_t kind);

/* The record names of the internal kinds, in codec_internal_kind_t order. */
#define CODEC_INTERNAL_KINDS 5
const char *codec_internal_record_name(codec_internal_kind_t kind);

/* The table of an output record (fields of hf_handoff_t, hf_lifecycle_t, hf_breach_t,
 * hf_dead_letter_t) or of a record between stages (fields of hf_internal_t), by its
 * record name; NULL for other records. */
const codec_table_t *codec_table_named(const char *record);
