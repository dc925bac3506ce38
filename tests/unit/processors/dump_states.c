/* Writes sample state encodings into the directory argv[1], for
 * check_state_schemas.py to read with an independent Avro implementation:
 * contact.bin, contact_fresh.bin, contact_redirect.bin, anon_buffered.bin, anon_identified.bin,
 * anon_fresh.bin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samples.h"

static int write_file(const char *dir, const char *name, const hf_buf_t *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int r = fclose(f);
    if (n != b->len || r != 0) {
        fprintf(stderr, "%s: short write\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int rc = 0;
    hf_rules_t *rules = samples_rules_new();
    tk_rec_t rec = {0};
    hf_buf_t b = HF_BUF_INIT;

    contact_state_t *c = samples_contact_new(rules, &rec);
    rc |= contact_state_encode(c, &b) || write_file(dir, "contact.bin", &b);
    contact_state_free(c);

    hf_buf_reset(&b);
    c = samples_redirect_new(rules, &rec);
    rc |= contact_state_encode(c, &b) || write_file(dir, "contact_redirect.bin", &b);
    contact_state_free(c);

    hf_buf_reset(&b);
    c = contact_state_new("c-fresh");
    rc |= contact_state_encode(c, &b) || write_file(dir, "contact_fresh.bin", &b);
    contact_state_free(c);

    const struct {
        const char *name;
        int kind; /* 0 fresh, 1 buffered, 2 identified */
    } anons[] = {{"anon_fresh.bin", 0}, {"anon_buffered.bin", 1}, {"anon_identified.bin", 2}};
    for (size_t i = 0; i < sizeof anons / sizeof anons[0]; i++) {
        anon_state_t *a =
            anons[i].kind ? samples_anon_new(rules, &rec, anons[i].kind == 2) : anon_state_new();
        hf_buf_reset(&b);
        rc |= !a || anon_state_encode(a, &b) || write_file(dir, anons[i].name, &b);
        anon_state_free(a);
    }

    hf_buf_free(&b);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
    return rc ? 1 : 0;
}
