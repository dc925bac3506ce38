/* The inside of a plan, shared by codec_plan.c (compiling) and codec_plan_run.c
 * (running).  Not for any other file. */
#pragma once

#include "codec_plan.h"

enum plan_code {
    OP_STR,    /* string -> const char * at dst */
    OP_EMAIL,  /* string -> domain at dst, hash at dst2; the address itself is dropped */
    OP_INT,    /* int -> int32_t (or int64_t when widen) at dst; bool at dst2 if any */
    OP_LONG,   /* long -> int64_t at dst (uint64_t >= 0 when nonneg); bool at dst2 if any */
    OP_BOOL,   /* boolean -> bool at dst */
    OP_FLOAT,  /* float -> float at dst */
    OP_DOUBLE, /* double -> double at dst */
    OP_BYTES,  /* bytes -> const void * at dst (into the body), size_t at dst2 */
    OP_ENUM,   /* enum -> C enum at dst, through enum_map */
    OP_STRS,   /* array<string> -> pointers at dst, count at dst2 */
    OP_RECORD, /* nested record: bool at dst2 if any; its fields are the next body_ops ops */
    OP_ARRAY,  /* array<record> -> items at dst, count at dst2; the next body_ops ops read
                * one item, at offsets from the item */
    OP_SKIP,   /* a field the reader does not have: read, check, drop */
};

typedef struct plan_op {
    uint8_t code;
    bool nullable;       /* the writer wrote a union of null and one type */
    uint8_t null_branch; /* index of null in that union */
    bool required;       /* the reader has no null here: a written null is invalid */
    bool widen;          /* OP_INT into an int64_t */
    bool nonneg;         /* OP_LONG into a uint64_t */
    bool has_dst2;
    uint16_t dst;
    uint16_t dst2;
    uint16_t src;        /* where codec_plan_encode() reads the value */
    uint16_t item_size;  /* OP_ARRAY: the stride of its items */
    uint16_t store;      /* OP_ARRAY, OP_STRS: its vector in plan->stores */
    uint32_t body_ops;   /* OP_RECORD, OP_ARRAY */
    uint32_t item_min;   /* OP_ARRAY: the fewest bytes an item of the writer takes */
    uint32_t enum_count; /* OP_ENUM: symbols of the writer */
    int16_t *enum_map;   /* OP_ENUM: writer symbol -> reader value; -1 = unknown to reader */
    avro_schema_t skip;  /* OP_SKIP: the writer's schema of the field (borrowed) */
    char *name;          /* "url", "traits.email", "touches.at": for messages */
} plan_op_t;

/* Where the items of one array land: grown as records need, kept for the next. */
typedef struct plan_store {
    void *items;
    size_t cap;
} plan_store_t;

struct codec_plan {
    plan_op_t *ops;
    size_t count;
    size_t cap;
    plan_store_t *stores;
    size_t store_count;
    const char *failed; /* op name of the last failure */
};
