/* Writes sample AccountState encodings into the directory argv[1], for
 * check_account_state_schema.py to read with an independent Avro implementation:
 * account.bin (ta_sample_account_new), account_fresh.bin and account_products.bin (a
 * customer with a product it has and one raised for expansion, its case open). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/account/account_priv.h"
#include "test_account_kit.h"

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
    int rc = 0;
    hf_rules_t *rules = ta_sample_rules_new();
    tk_rec_t rec = {0};
    hf_buf_t b = HF_BUF_INIT;

    account_state_t *s = ta_sample_account_new(rules, &rec);
    rc |= account_state_encode(s, &b) || write_file(argv[1], "account.bin", &b);
    account_state_free(s);

    hf_buf_reset(&b);
    s = account_state_new("acct-fresh");
    rc |= !s || account_state_encode(s, &b) || write_file(argv[1], "account_fresh.bin", &b);
    account_state_free(s);

    hf_buf_reset(&b);
    s = account_state_new("acct-products");
    account_product_t *p = s ? calloc(2, sizeof *p) : NULL;
    if (p) {
        s->stage = HF_STAGE_CUSTOMER;
        s->products = p;
        s->product_count = 2;
        p[0] = (account_product_t){.product = strdup("crm"),
                                   .owned = true,
                                   .owned_at_ms = TK_T0,
                                   .cycle = 1,
                                   .stage = HF_STAGE_CUSTOMER};
        p[1] = (account_product_t){.product = strdup("analytics"),
                                   .cycle = 2,
                                   .handed_off = true,
                                   .raised_at_ms = TK_T0 + TK_DAY_MS,
                                   .recycled = true,
                                   .recycled_at_ms = TK_T0 + 3600000,
                                   .stage = HF_STAGE_ACCEPTED};
        p[1].sla.handoff_id = strdup("ho_00000000000000aa");
        p[1].sla.team = strdup("account-management");
        p[1].sla.handoff_at_ms = TK_T0 + TK_DAY_MS;
        p[1].sla.clocks[HF_SLA_ACCEPT] =
            (sla_clock_t){.deadline_ms = TK_T0 + TK_DAY_MS + 7200000, .done = true};
        p[1].sla.accepted = true;
    }
    rc |= !p || account_state_encode(s, &b) || write_file(argv[1], "account_products.bin", &b);
    account_state_free(s);

    hf_buf_free(&b);
    tk_rec_clear(&rec);
    tk_rules_free(rules);
    return rc ? 1 : 0;
}
