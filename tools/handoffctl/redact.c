/* E-mail addresses in handoffctl's output; see redact.h. */
#include "redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Characters of the local part and of the domain of an e-mail address. */
static bool email_local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool email_domain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-';
}

/* Appends @len plain characters of a JSON string (no escapes in them) with the local
 * part of everything shaped like an e-mail address replaced by "***". */
static void redact_run(hf_buf_t *out, const unsigned char *s, size_t len)
{
    size_t done = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '@')
            continue;
        size_t from = i, to = i + 1;
        while (from > done && email_local_char(s[from - 1]))
            from--;
        bool dot = false;
        while (to < len && email_domain_char(s[to]))
            dot |= s[to++] == '.';
        if (from == i || !dot || s[i + 1] == '.' || s[to - 1] == '.')
            continue;
        hf_buf_append(out, s + done, from - done);
        hf_buf_append_str(out, "***");
        done = i;
    }
    hf_buf_append(out, s + done, len - done);
}

/* Walks @line string by string; only the plain runs inside strings are searched. */
void hfctl_redact_emails(hf_buf_t *out, const hf_buf_t *line)
{
    const unsigned char *p = line->data, *end = line->data + line->len;
    bool in_string = false;
    while (p < end) {
        if (!in_string) {
            const unsigned char *q = p;
            while (q < end && *q != '"')
                q++;
            if (q < end)
                q++, in_string = true;
            hf_buf_append(out, p, (size_t)(q - p));
            p = q;
        } else if (*p == '"') {
            hf_buf_append(out, p++, 1);
            in_string = false;
        } else if (*p == '\\') {
            size_t n = end - p >= 6 && p[1] == 'u' ? 6 : end - p >= 2 ? 2 : 1;
            hf_buf_append(out, p, n);
            p += n;
        } else {
            const unsigned char *q = p;
            while (q < end && *q != '"' && *q != '\\')
                q++;
            redact_run(out, p, (size_t)(q - p));
            p = q;
        }
    }
}
