/* Parsing Canonical Form and the CRC-64-AVRO fingerprint (Avro 1.11 specification,
 * "Parsing Canonical Form for Schemas" and "Schema Fingerprints").
 *
 * Avro-C 1.11 has neither, and avro_schema_to_json() keeps what the canonical form
 * drops (doc, defaults, logical types), so the form is written here from the parsed
 * schema: full names everywhere, only the attributes that matter for parsing, in
 * the order name, type, fields, symbols, items, values, size, no white space, and
 * each named type spelled out at its first occurrence only. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codec_pcf.h"
#include "codec_read.h"

/* CRC-64-AVRO table: entry i is i shifted right eight times through the polynomial
 * of the specification (EMPTY = 0xc15d213aa4d7a795); the unit test rebuilds it. */
static const uint64_t crc64_avro_table[256] = {
    0x0000000000000000ull, 0x2cf1cba6b75351faull, 0x59e3974d6ea6a3f4ull, 0x75125cebd9f5f20eull,
    0xb3c72e9add4d47e8ull, 0x9f36e53c6a1e1612ull, 0xea24b9d7b3ebe41cull, 0xc6d5727104b8b5e6ull,
    0xe5341f40f335c0fbull, 0xc9c5d4e644669101ull, 0xbcd7880d9d93630full, 0x902643ab2ac032f5ull,
    0x56f331da2e788713ull, 0x7a02fa7c992bd6e9ull, 0x0f10a69740de24e7ull, 0x23e16d31f78d751dull,
    0x48d27cf4afc4ceddull, 0x6423b75218979f27ull, 0x1131ebb9c1626d29ull, 0x3dc0201f76313cd3ull,
    0xfb15526e72898935ull, 0xd7e499c8c5dad8cfull, 0xa2f6c5231c2f2ac1ull, 0x8e070e85ab7c7b3bull,
    0xade663b45cf10e26ull, 0x8117a812eba25fdcull, 0xf405f4f93257add2ull, 0xd8f43f5f8504fc28ull,
    0x1e214d2e81bc49ceull, 0x32d0868836ef1834ull, 0x47c2da63ef1aea3aull, 0x6b3311c55849bbc0ull,
    0x91a4f9e95f899dbaull, 0xbd55324fe8dacc40ull, 0xc8476ea4312f3e4eull, 0xe4b6a502867c6fb4ull,
    0x2263d77382c4da52ull, 0x0e921cd535978ba8ull, 0x7b80403eec6279a6ull, 0x57718b985b31285cull,
    0x7490e6a9acbc5d41ull, 0x58612d0f1bef0cbbull, 0x2d7371e4c21afeb5ull, 0x0182ba427549af4full,
    0xc757c83371f11aa9ull, 0xeba60395c6a24b53ull, 0x9eb45f7e1f57b95dull, 0xb24594d8a804e8a7ull,
    0xd976851df04d5367ull, 0xf5874ebb471e029dull, 0x809512509eebf093ull, 0xac64d9f629b8a169ull,
    0x6ab1ab872d00148full, 0x464060219a534575ull, 0x33523cca43a6b77bull, 0x1fa3f76cf4f5e681ull,
    0x3c429a5d0378939cull, 0x10b351fbb42bc266ull, 0x65a10d106dde3068ull, 0x4950c6b6da8d6192ull,
    0x8f85b4c7de35d474ull, 0xa3747f616966858eull, 0xd666238ab0937780ull, 0xfa97e82c07c0267aull,
    0xa1f3b1a7f6bc745full, 0x8d027a0141ef25a5ull, 0xf81026ea981ad7abull, 0xd4e1ed4c2f498651ull,
    0x12349f3d2bf133b7ull, 0x3ec5549b9ca2624dull, 0x4bd7087045579043ull, 0x6726c3d6f204c1b9ull,
    0x44c7aee70589b4a4ull, 0x68366541b2dae55eull, 0x1d2439aa6b2f1750ull, 0x31d5f20cdc7c46aaull,
    0xf700807dd8c4f34cull, 0xdbf14bdb6f97a2b6ull, 0xaee31730b66250b8ull, 0x8212dc9601310142ull,
    0xe921cd535978ba82ull, 0xc5d006f5ee2beb78ull, 0xb0c25a1e37de1976ull, 0x9c3391b8808d488cull,
    0x5ae6e3c98435fd6aull, 0x7617286f3366ac90ull, 0x03057484ea935e9eull, 0x2ff4bf225dc00f64ull,
    0x0c15d213aa4d7a79ull, 0x20e419b51d1e2b83ull, 0x55f6455ec4ebd98dull, 0x79078ef873b88877ull,
    0xbfd2fc8977003d91ull, 0x9323372fc0536c6bull, 0xe6316bc419a69e65ull, 0xcac0a062aef5cf9full,
    0x3057484ea935e9e5ull, 0x1ca683e81e66b81full, 0x69b4df03c7934a11ull, 0x454514a570c01bebull,
    0x839066d47478ae0dull, 0xaf61ad72c32bfff7ull, 0xda73f1991ade0df9ull, 0xf6823a3fad8d5c03ull,
    0xd563570e5a00291eull, 0xf9929ca8ed5378e4ull, 0x8c80c04334a68aeaull, 0xa0710be583f5db10ull,
    0x66a47994874d6ef6ull, 0x4a55b232301e3f0cull, 0x3f47eed9e9ebcd02ull, 0x13b6257f5eb89cf8ull,
    0x788534ba06f12738ull, 0x5474ff1cb1a276c2ull, 0x2166a3f7685784ccull, 0x0d976851df04d536ull,
    0xcb421a20dbbc60d0ull, 0xe7b3d1866cef312aull, 0x92a18d6db51ac324ull, 0xbe5046cb024992deull,
    0x9db12bfaf5c4e7c3ull, 0xb140e05c4297b639ull, 0xc452bcb79b624437ull, 0xe8a377112c3115cdull,
    0x2e7605602889a02bull, 0x0287cec69fdaf1d1ull, 0x7795922d462f03dfull, 0x5b64598bf17c5225ull,
    0xc15d213aa4d7a795ull, 0xedacea9c1384f66full, 0x98beb677ca710461ull, 0xb44f7dd17d22559bull,
    0x729a0fa0799ae07dull, 0x5e6bc406cec9b187ull, 0x2b7998ed173c4389ull, 0x0788534ba06f1273ull,
    0x24693e7a57e2676eull, 0x0898f5dce0b13694ull, 0x7d8aa9373944c49aull, 0x517b62918e179560ull,
    0x97ae10e08aaf2086ull, 0xbb5fdb463dfc717cull, 0xce4d87ade4098372ull, 0xe2bc4c0b535ad288ull,
    0x898f5dce0b136948ull, 0xa57e9668bc4038b2ull, 0xd06cca8365b5cabcull, 0xfc9d0125d2e69b46ull,
    0x3a487354d65e2ea0ull, 0x16b9b8f2610d7f5aull, 0x63abe419b8f88d54ull, 0x4f5a2fbf0fabdcaeull,
    0x6cbb428ef826a9b3ull, 0x404a89284f75f849ull, 0x3558d5c396800a47ull, 0x19a91e6521d35bbdull,
    0xdf7c6c14256bee5bull, 0xf38da7b29238bfa1ull, 0x869ffb594bcd4dafull, 0xaa6e30fffc9e1c55ull,
    0x50f9d8d3fb5e3a2full, 0x7c0813754c0d6bd5ull, 0x091a4f9e95f899dbull, 0x25eb843822abc821ull,
    0xe33ef64926137dc7ull, 0xcfcf3def91402c3dull, 0xbadd610448b5de33ull, 0x962caaa2ffe68fc9ull,
    0xb5cdc793086bfad4ull, 0x993c0c35bf38ab2eull, 0xec2e50de66cd5920ull, 0xc0df9b78d19e08daull,
    0x060ae909d526bd3cull, 0x2afb22af6275ecc6ull, 0x5fe97e44bb801ec8ull, 0x7318b5e20cd34f32ull,
    0x182ba427549af4f2ull, 0x34da6f81e3c9a508ull, 0x41c8336a3a3c5706ull, 0x6d39f8cc8d6f06fcull,
    0xabec8abd89d7b31aull, 0x871d411b3e84e2e0ull, 0xf20f1df0e77110eeull, 0xdefed65650224114ull,
    0xfd1fbb67a7af3409ull, 0xd1ee70c110fc65f3ull, 0xa4fc2c2ac90997fdull, 0x880de78c7e5ac607ull,
    0x4ed895fd7ae273e1ull, 0x62295e5bcdb1221bull, 0x173b02b01444d015ull, 0x3bcac916a31781efull,
    0x60ae909d526bd3caull, 0x4c5f5b3be5388230ull, 0x394d07d03ccd703eull, 0x15bccc768b9e21c4ull,
    0xd369be078f269422ull, 0xff9875a13875c5d8ull, 0x8a8a294ae18037d6ull, 0xa67be2ec56d3662cull,
    0x859a8fdda15e1331ull, 0xa96b447b160d42cbull, 0xdc791890cff8b0c5ull, 0xf088d33678abe13full,
    0x365da1477c1354d9ull, 0x1aac6ae1cb400523ull, 0x6fbe360a12b5f72dull, 0x434ffdaca5e6a6d7ull,
    0x287cec69fdaf1d17ull, 0x048d27cf4afc4cedull, 0x719f7b249309bee3ull, 0x5d6eb082245aef19ull,
    0x9bbbc2f320e25affull, 0xb74a095597b10b05ull, 0xc25855be4e44f90bull, 0xeea99e18f917a8f1ull,
    0xcd48f3290e9addecull, 0xe1b9388fb9c98c16ull, 0x94ab6464603c7e18ull, 0xb85aafc2d76f2fe2ull,
    0x7e8fddb3d3d79a04ull, 0x527e16156484cbfeull, 0x276c4afebd7139f0ull, 0x0b9d81580a22680aull,
    0xf10a69740de24e70ull, 0xddfba2d2bab11f8aull, 0xa8e9fe396344ed84ull, 0x8418359fd417bc7eull,
    0x42cd47eed0af0998ull, 0x6e3c8c4867fc5862ull, 0x1b2ed0a3be09aa6cull, 0x37df1b05095afb96ull,
    0x143e7634fed78e8bull, 0x38cfbd924984df71ull, 0x4ddde17990712d7full, 0x612c2adf27227c85ull,
    0xa7f958ae239ac963ull, 0x8b08930894c99899ull, 0xfe1acfe34d3c6a97ull, 0xd2eb0445fa6f3b6dull,
    0xb9d81580a22680adull, 0x9529de261575d157ull, 0xe03b82cdcc802359ull, 0xccca496b7bd372a3ull,
    0x0a1f3b1a7f6bc745ull, 0x26eef0bcc83896bfull, 0x53fcac5711cd64b1ull, 0x7f0d67f1a69e354bull,
    0x5cec0ac051134056ull, 0x701dc166e64011acull, 0x050f9d8d3fb5e3a2ull, 0x29fe562b88e6b258ull,
    0xef2b245a8c5e07beull, 0xc3daeffc3b0d5644ull, 0xb6c8b317e2f8a44aull, 0x9a3978b155abf5b0ull,
};

uint64_t codec_crc64_avro(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t fp = 0xc15d213aa4d7a795ull;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ crc64_avro_table[(fp ^ p[i]) & 0xff];
    return fp;
}

/* The full names already written (a schema names only a handful of types). */
typedef struct pcf_names {
    char **names;
    size_t count;
    size_t cap;
} pcf_names_t;

static void pcf_names_free(pcf_names_t *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->names[i]);
    free(n->names);
}

static bool pcf_names_has(const pcf_names_t *n, const char *name)
{
    for (size_t i = 0; i < n->count; i++)
        if (!strcmp(n->names[i], name))
            return true;
    return false;
}

static int pcf_names_add(pcf_names_t *n, const char *name)
{
    if (n->count == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 16;
        char **names = realloc(n->names, cap * sizeof *names);
        if (!names)
            return -ENOMEM;
        n->names = names;
        n->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    n->names[n->count++] = copy;
    return 0;
}

/* A JSON string.  Avro names are [A-Za-z_][A-Za-z0-9_]*, but escaping costs nothing. */
static int pcf_quote(hf_buf_t *out, const char *s)
{
    int r = hf_buf_append(out, "\"", 1);
    for (; !r && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            r = hf_buf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            r = hf_buf_printf(out, "\\u%04x", ch);
        else
            r = hf_buf_append(out, s, 1);
    }
    return r ? r : hf_buf_append(out, "\"", 1);
}

/* "namespace.name", or "name" when the namespace is empty.  Avro-C resolves the
 * inherited namespace of nested types when it parses, so the name is already full. */
static int pcf_fullname(hf_buf_t *name, avro_schema_t schema)
{
    const char *ns = avro_schema_namespace(schema);
    hf_buf_reset(name);
    if (ns && *ns) {
        int r = hf_buf_printf(name, "%s.", ns);
        if (r)
            return r;
    }
    return hf_buf_append_str(name, avro_schema_name(schema));
}

static int pcf_write(hf_buf_t *out, avro_schema_t schema, pcf_names_t *seen, int depth);

static int pcf_named(hf_buf_t *out, avro_schema_t schema, pcf_names_t *seen, int depth)
{
    hf_buf_t name = HF_BUF_INIT;
    int r = pcf_fullname(&name, schema);
    if (r)
        goto out;
    const char *full = (const char *)name.data;
    if (pcf_names_has(seen, full)) {
        r = pcf_quote(out, full);
        goto out;
    }
    r = pcf_names_add(seen, full);
    if (!r)
        r = hf_buf_append_str(out, "{\"name\":");
    if (!r)
        r = pcf_quote(out, full);
    if (r)
        goto out;

    switch (avro_typeof(schema)) {
    case AVRO_RECORD: {
        r = hf_buf_append_str(out, ",\"type\":\"record\",\"fields\":[");
        size_t n = avro_schema_record_size(schema);
        for (size_t i = 0; !r && i < n; i++) {
            r = hf_buf_append_str(out, i ? ",{\"name\":" : "{\"name\":");
            if (!r)
                r = pcf_quote(out, avro_schema_record_field_name(schema, (int)i));
            if (!r)
                r = hf_buf_append_str(out, ",\"type\":");
            if (!r)
                r = pcf_write(out, avro_schema_record_field_get_by_index(schema, (int)i), seen,
                              depth + 1);
            if (!r)
                r = hf_buf_append(out, "}", 1);
        }
        if (!r)
            r = hf_buf_append_str(out, "]}");
        break;
    }
    case AVRO_ENUM: {
        r = hf_buf_append_str(out, ",\"type\":\"enum\",\"symbols\":[");
        int n = avro_schema_enum_number_of_symbols(schema);
        for (int i = 0; !r && i < n; i++) {
            if (i)
                r = hf_buf_append(out, ",", 1);
            if (!r)
                r = pcf_quote(out, avro_schema_enum_get(schema, i));
        }
        if (!r)
            r = hf_buf_append_str(out, "]}");
        break;
    }
    case AVRO_FIXED:
        r = hf_buf_printf(out, ",\"type\":\"fixed\",\"size\":%" PRId64 "}",
                          avro_schema_fixed_size(schema));
        break;
    default:
        r = -EINVAL;
        break;
    }
out:
    hf_buf_free(&name);
    return r;
}

static int pcf_write(hf_buf_t *out, avro_schema_t schema, pcf_names_t *seen, int depth)
{
    if (depth > CODEC_MAX_DEPTH)
        return -EINVAL;
    int r;
    switch (avro_typeof(schema)) {
    case AVRO_STRING:
        return hf_buf_append_str(out, "\"string\"");
    case AVRO_BYTES:
        return hf_buf_append_str(out, "\"bytes\"");
    case AVRO_INT32:
        return hf_buf_append_str(out, "\"int\"");
    case AVRO_INT64:
        return hf_buf_append_str(out, "\"long\"");
    case AVRO_FLOAT:
        return hf_buf_append_str(out, "\"float\"");
    case AVRO_DOUBLE:
        return hf_buf_append_str(out, "\"double\"");
    case AVRO_BOOLEAN:
        return hf_buf_append_str(out, "\"boolean\"");
    case AVRO_NULL:
        return hf_buf_append_str(out, "\"null\"");
    case AVRO_RECORD:
    case AVRO_ENUM:
    case AVRO_FIXED:
        return pcf_named(out, schema, seen, depth);
    case AVRO_LINK:
        /* A reference to a named type defined earlier in the schema. */
        return pcf_named(out, avro_schema_link_target(schema), seen, depth);
    case AVRO_ARRAY:
        r = hf_buf_append_str(out, "{\"type\":\"array\",\"items\":");
        if (!r)
            r = pcf_write(out, avro_schema_array_items(schema), seen, depth + 1);
        return r ? r : hf_buf_append(out, "}", 1);
    case AVRO_MAP:
        r = hf_buf_append_str(out, "{\"type\":\"map\",\"values\":");
        if (!r)
            r = pcf_write(out, avro_schema_map_values(schema), seen, depth + 1);
        return r ? r : hf_buf_append(out, "}", 1);
    case AVRO_UNION: {
        size_t n = avro_schema_union_size(schema);
        r = hf_buf_append(out, "[", 1);
        for (size_t i = 0; !r && i < n; i++) {
            if (i)
                r = hf_buf_append(out, ",", 1);
            if (!r)
                r = pcf_write(out, avro_schema_union_branch(schema, (int)i), seen, depth + 1);
        }
        return r ? r : hf_buf_append(out, "]", 1);
    }
    default:
        return -EINVAL;
    }
}

int codec_pcf_append(hf_buf_t *out, avro_schema_t schema)
{
    pcf_names_t seen = {0};
    int r = pcf_write(out, schema, &seen, 0);
    pcf_names_free(&seen);
    return r;
}
