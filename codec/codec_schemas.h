/* The Avro schemas embedded into the binary (internal to the codec).
 *
 * scripts/embed_schemas.py generates the table from schemas/ at build time, so the
 * schemas a build decodes with are exactly the files in the tree. */
#pragma once

#include <stddef.h>

typedef enum codec_role {
    CODEC_ROLE_INPUT = 0, /* current schema of an input record */
    CODEC_ROLE_OUTPUT,    /* current schema of an output record */
    CODEC_ROLE_STATE,     /* state store record (schemas/state/) */
    CODEC_ROLE_HISTORY,   /* an older writer schema of an input record (schemas/history/) */
    CODEC_ROLE_INTERNAL,  /* a record between stages (schemas/internal/) */
} codec_role_t;

typedef struct codec_schema_src {
    const char *name; /* record name without namespace: "WebVisit" */
    codec_role_t role;
    const char *path; /* source file, relative to the source root, for messages */
    const char *json; /* the schema text as checked in, minified */
} codec_schema_src_t;

extern const codec_schema_src_t codec_schema_srcs[];
extern const size_t codec_schema_src_count;
