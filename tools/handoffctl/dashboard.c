/* handoffctl dashboard --urls ADDR[,ADDR...]: the dashboard's numbers
 * (GET /v1/dashboard, docs/HTTP.md) of several instances of a group, fetched and
 * summed as the page sums them: counts add, lists are merged by their name, and
 * medians are taken again from the summed histogram buckets; without a browser,
 * for scripts and terminals, with the bearer token of --token-file sent to each.
 *
 * Plain HTTP/1.0 over a TCP socket (the daemon's server speaks nothing else), one
 * request per instance, each bounded in time and size; jansson reads the answers. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hfctl.h"
#include "util/buf.h"

/* An answer larger than this is not a dashboard (the server's own bound). */
#define ANSWER_MAX (16u << 20)
#define ADDRESSES_MAX 64

/* Percent-encodes @s (RFC 3986 unreserved kept) onto @out. */
static void query_escape(hf_buf_t *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p))
            hf_buf_append(out, p, 1);
        else
            hf_buf_printf(out, "%%%02X", *p);
    }
}

/* "host:port", "[v6]:port" or "http://host:port[/]" into @host and @port. */
static bool split_address(const char *addr, char *host, size_t hostsz, char *port, size_t portsz)
{
    if (strncmp(addr, "http://", 7) == 0)
        addr += 7;
    char a[300];
    snprintf(a, sizeof a, "%s", addr);
    size_t n = strlen(a);
    if (n && a[n - 1] == '/')
        a[--n] = 0;
    char *colon = strrchr(a, ':');
    if (!colon || colon == a || !colon[1])
        return false;
    *colon = 0;
    char *h = a;
    if (h[0] == '[') {
        size_t hl = strlen(h);
        if (hl < 3 || h[hl - 1] != ']')
            return false;
        h[hl - 1] = 0;
        h++;
    }
    snprintf(host, hostsz, "%s", h);
    snprintf(port, portsz, "%s", colon + 1);
    return true;
}

/* GET @path_query of @addr with @token (NULL: none): 0 with *@status and the body
 * in @body, or -errno with @err. */
static int http_get(const char *addr, const char *path_query, const char *token, int timeout_s,
                    int *status, hf_buf_t *body, char *err, size_t errsz)
{
    char host[300], port[300];
    if (!split_address(addr, host, sizeof host, port, sizeof port)) {
        snprintf(err, errsz, "%s: expected host:port", addr);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, errsz, "%s: %s", addr, gai_strerror(g));
        return -EHOSTUNREACH;
    }
    int fd = -1, r = -ECONNREFUSED;
    struct timeval tv = {.tv_sec = timeout_s};
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            r = -errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errsz, "%s: %s", addr, strerror(-r));
        return r;
    }
    hf_buf_t req = HF_BUF_INIT, in = HF_BUF_INIT;
    hf_buf_printf(&req, "GET %s HTTP/1.0\r\nHost: %s:%s\r\n", path_query, host, port);
    if (token)
        hf_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
    hf_buf_append_str(&req, "Connection: close\r\n\r\n");
    r = 0;
    for (size_t off = 0; off < req.len && r == 0;) {
        ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (w <= 0)
            r = w < 0 ? -errno : -EPIPE;
        else
            off += (size_t)w;
    }
    while (r == 0) {
        if (hf_buf_reserve(&in, 65536) < 0) {
            r = -ENOMEM;
            break;
        }
        ssize_t got = recv(fd, in.data + in.len, 65536, 0);
        if (got < 0)
            r = -errno;
        else if (got == 0)
            break;
        else if ((in.len += (size_t)got) > ANSWER_MAX)
            r = -EFBIG;
    }
    close(fd);
    hf_buf_free(&req);
    const char *text = (const char *)in.data;
    const char *end = r == 0 && in.len ? memmem(text, in.len, "\r\n\r\n", 4) : NULL;
    if (r == 0 && (!end || sscanf(text, "HTTP/%*d.%*d %d", status) != 1))
        r = -EPROTO;
    if (r == 0) {
        hf_buf_reset(body);
        r = hf_buf_append(body, end + 4, in.len - (size_t)(end + 4 - text));
    }
    if (r < 0)
        snprintf(err, errsz, "%s: %s", addr,
                 r == -EAGAIN || r == -EWOULDBLOCK ? "no answer in time" : strerror(-r));
    hf_buf_free(&in);
    return r;
}

/* ---- summing, as the page does (daemon/dashboard/dashboard.js) ---- */

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* [low, high, count] lists: counts of the same bucket add. */
static void merge_buckets(json_t *a, json_t *b)
{
    size_t i, k;
    json_t *x, *y;
    json_array_foreach(b, i, x)
    {
        bool found = false;
        json_array_foreach(a, k, y)
        {
            if (json_number_value(json_array_get(y, 0)) ==
                json_number_value(json_array_get(x, 0))) {
                json_array_set_new(y, 2,
                                   json_integer(json_integer_value(json_array_get(y, 2)) +
                                                json_integer_value(json_array_get(x, 2))));
                found = true;
                break;
            }
        }
        if (!found)
            json_array_append(a, x);
    }
}

/* Row @b into row @a: integers add, objects recurse, bucket lists merge; medians
 * are taken again afterwards. */
static void merge_row(json_t *a, json_t *b)
{
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v)
    {
        json_t *mine = json_object_get(a, key);
        if (ends_with(key, "_buckets") && json_is_array(v)) {
            if (!json_is_array(mine))
                json_object_set_new(a, key, json_array());
            merge_buckets(json_object_get(a, key), v);
        } else if (json_is_integer(v) && strncmp(key, "median_", 7) != 0) {
            json_object_set_new(a, key,
                                json_integer(json_integer_value(mine) + json_integer_value(v)));
        } else if (json_is_object(v)) {
            if (!json_is_object(mine))
                json_object_set_new(a, key, json_object());
            merge_row(json_object_get(a, key), v);
        } else if (!mine) {
            json_object_set(a, key, v);
        }
    }
}

/* List @b into list @a, rows matched by their @name_key. */
static void merge_list(json_t *a, json_t *b, const char *name_key)
{
    size_t i, k;
    json_t *x, *y;
    json_array_foreach(b, i, x)
    {
        const char *name = json_string_value(json_object_get(x, name_key));
        json_t *match = NULL;
        json_array_foreach(a, k, y)
        {
            const char *n = json_string_value(json_object_get(y, name_key));
            if (n && name && strcmp(n, name) == 0) {
                match = y;
                break;
            }
        }
        if (match)
            merge_row(match, x);
        else
            json_array_append(a, x);
    }
}

/* The middle of the bucket holding the median (seconds), or null. */
static json_t *median_of(json_t *buckets)
{
    json_int_t total = 0, seen = 0;
    size_t i;
    json_t *b;
    json_array_foreach(buckets, i, b) total += json_integer_value(json_array_get(b, 2));
    if (!total)
        return json_null();
    size_t n = json_array_size(buckets);
    /* in order of their lower bounds (a few dozen at most) */
    json_t **sorted = calloc(n ? n : 1, sizeof *sorted);
    if (!sorted)
        return json_null();
    json_array_foreach(buckets, i, b) sorted[i] = b;
    for (size_t x = 1; x < n; x++)
        for (size_t y = x; y > 0 && json_number_value(json_array_get(sorted[y - 1], 0)) >
                                        json_number_value(json_array_get(sorted[y], 0));
             y--) {
            json_t *t = sorted[y];
            sorted[y] = sorted[y - 1];
            sorted[y - 1] = t;
        }
    json_int_t half = (total + 1) / 2;
    json_t *m = json_null();
    for (size_t x = 0; x < n; x++) {
        seen += json_integer_value(json_array_get(sorted[x], 2));
        if (seen >= half) {
            double lo = json_number_value(json_array_get(sorted[x], 0));
            double hi = json_number_value(json_array_get(sorted[x], 1));
            json_decref(m);
            m = json_real(lo + (hi - lo) / 2);
            break;
        }
    }
    free(sorted);
    return m;
}

static void fix_medians(json_t *row)
{
    if (!json_is_object(row) || !json_object_get(row, "accept_buckets"))
        return;
    json_object_set_new(row, "median_accept_seconds",
                        median_of(json_object_get(row, "accept_buckets")));
    json_object_set_new(row, "median_first_touch_seconds",
                        median_of(json_object_get(row, "first_touch_buckets")));
}

static const char *const LISTS[][2] = {
    {"by_rule", "rule"},
    {"by_source", "source"},
    {"by_first_campaign", "campaign"},
    {"by_last_campaign", "campaign"},
    {"sla_by_team", "team"},
    {"sla_by_owner", "owner"},
};

/* Answer @b into the sum @a. */
static void merge_answer(json_t *a, json_t *b)
{
    json_t *fa = json_object_get(a, "funnel"), *fb = json_object_get(b, "funnel");
    for (size_t i = 0; i < json_array_size(fa) && i < json_array_size(fb); i++) {
        json_t *x = json_array_get(fa, i), *y = json_array_get(fb, i);
        json_t *cx = json_object_get(x, "count"), *cy = json_object_get(y, "count");
        json_object_set_new(x, "count",
                            json_is_null(cx) || json_is_null(cy)
                                ? json_null()
                                : json_integer(json_integer_value(cx) + json_integer_value(cy)));
    }
    merge_row(json_object_get(a, "exits"), json_object_get(b, "exits"));
    json_t *oa = json_object_get(a, "outcomes"), *ob = json_object_get(b, "outcomes");
    json_t *ta = json_object_get(oa, "totals"), *tb = json_object_get(ob, "totals");
    if (json_is_object(ta) && json_is_object(tb))
        merge_row(ta, tb);
    else if (json_is_object(tb))
        json_object_set(oa, "totals", tb);
    for (size_t i = 0; i < sizeof LISTS / sizeof LISTS[0]; i++)
        merge_list(json_object_get(oa, LISTS[i][0]), json_object_get(ob, LISTS[i][0]), LISTS[i][1]);
    json_object_set_new(a, "waiting_total",
                        json_integer(json_integer_value(json_object_get(a, "waiting_total")) +
                                     json_integer_value(json_object_get(b, "waiting_total"))));
    json_array_extend(json_object_get(a, "waiting"), json_object_get(b, "waiting"));
    json_array_extend(json_object_get(a, "breaches"), json_object_get(b, "breaches"));
}

/* Conversions and medians of the sum. */
static void finish(json_t *a)
{
    json_t *f = json_object_get(a, "funnel");
    for (size_t i = 0; i < json_array_size(f); i++) {
        json_t *s = json_array_get(f, i), *c = json_object_get(s, "count");
        json_t *prev = i ? json_object_get(json_array_get(f, i - 1), "count") : NULL;
        json_object_set_new(
            s, "conversion",
            i && !json_is_null(c) && prev && json_integer_value(prev) > 0
                ? json_real((double)json_integer_value(c) / (double)json_integer_value(prev))
                : json_null());
    }
    json_t *o = json_object_get(a, "outcomes");
    fix_medians(json_object_get(json_object_get(o, "totals"), "sla"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(o, "sla_by_team"), i, row) fix_medians(row);
    json_array_foreach(json_object_get(o, "sla_by_owner"), i, row) fix_medians(row);
}

/* ---- the text ---- */

static void print_median(FILE *out, json_t *v)
{
    if (!json_is_number(v)) {
        fprintf(out, " %16s", "-");
        return;
    }
    double s = json_number_value(v);
    char t[32];
    if (s < 60)
        snprintf(t, sizeof t, "%.0fs", s);
    else if (s < 3600)
        snprintf(t, sizeof t, "%dm %02ds", (int)s / 60, (int)s % 60);
    else if (s < 86400)
        snprintf(t, sizeof t, "%dh %02dm", (int)s / 3600, (int)s % 3600 / 60);
    else
        snprintf(t, sizeof t, "%dd %02dh", (int)(s / 86400), (int)s % 86400 / 3600);
    fprintf(out, " %16s", t);
}

static json_int_t num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_integer_value(b ? json_object_get(v, b) : v);
}

static void print_text(json_t *a, FILE *out)
{
    json_t *f = json_object_get(a, "funnel");
    fprintf(out, "%-28s %12s %22s\n", "funnel", "count", "from the stage before");
    size_t i;
    json_t *s;
    json_array_foreach(f, i, s)
    {
        json_t *c = json_object_get(s, "count"), *cv = json_object_get(s, "conversion");
        char count[24] = "-", conv[24] = "-";
        if (!json_is_null(c))
            snprintf(count, sizeof count, "%" JSON_INTEGER_FORMAT, json_integer_value(c));
        if (json_is_number(cv))
            snprintf(conv, sizeof conv, "%.1f%%", 100 * json_number_value(cv));
        fprintf(out, "%-28s %12s %22s\n", json_string_value(json_object_get(s, "stage")), count,
                conv);
    }
    json_t *e = json_object_get(a, "exits");
    fprintf(out,
            "exits: rejected %" JSON_INTEGER_FORMAT ", recycled %" JSON_INTEGER_FORMAT
            ", disqualified %" JSON_INTEGER_FORMAT ", lost %" JSON_INTEGER_FORMAT "\n",
            num(e, "rejected", NULL), num(e, "recycled", NULL), num(e, "disqualified", NULL),
            num(e, "lost", NULL));
    fprintf(out,
            "waiting for sales: %" JSON_INTEGER_FORMAT " open cases; %zu clocks in breach among "
            "them\n",
            num(a, "waiting_total", NULL), json_array_size(json_object_get(a, "breaches")));
    json_t *o = json_object_get(a, "outcomes");
    for (int k = 4; k < 6; k++) {
        json_t *rows = json_object_get(o, LISTS[k][0]);
        if (!json_array_size(rows))
            continue;
        fprintf(out, "\n%-28s %14s %14s %16s %16s\n", k == 4 ? "SLA by team" : "SLA by owner",
                "accept met/br", "1st touch m/b", "median accept", "median 1st touch");
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            char c1[32], c2[32];
            snprintf(c1, sizeof c1, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                     num(r, "accept", "met"), num(r, "accept", "breached"));
            snprintf(c2, sizeof c2, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                     num(r, "first_touch", "met"), num(r, "first_touch", "breached"));
            fprintf(out, "%-28.28s %14s %14s", json_string_value(json_object_get(r, LISTS[k][1])),
                    c1, c2);
            print_median(out, json_object_get(r, "median_accept_seconds"));
            print_median(out, json_object_get(r, "median_first_touch_seconds"));
            fputc('\n', out);
        }
    }
    for (int k = 0; k < 4; k++) {
        json_t *rows = json_object_get(o, LISTS[k][0]);
        if (!json_array_size(rows))
            continue;
        fprintf(out, "\n%-28s %12s %12s %12s %12s\n", LISTS[k][0], "handoffs", "accepted",
                "rejected", "won");
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            fprintf(out,
                    "%-28.28s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT
                    " %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
                    json_string_value(json_object_get(r, LISTS[k][1])), num(r, "handoffs", NULL),
                    num(r, "accepted", NULL), num(r, "rejected", NULL), num(r, "won", NULL));
        }
    }
}

/* The token of @path: its content without surrounding whitespace. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[1100];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *s = buf;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = 0;
    return len ? strdup(s) : NULL;
}

int hfctl_dashboard(int argc, char **argv)
{
    const char *urls = NULL, *token_file = NULL, *team = NULL, *from = NULL, *to = NULL;
    int timeout_s = 10;
    bool as_json = false;
    static const struct option longopts[] = {
        {"urls", required_argument, NULL, 'u'}, {"token-file", required_argument, NULL, 'k'},
        {"team", required_argument, NULL, 't'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 'T'},   {"timeout", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},       {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            urls = optarg;
            break;
        case 'k':
            token_file = optarg;
            break;
        case 't':
            team = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 'T':
            to = optarg;
            break;
        case 'w':
            timeout_s = atoi(optarg);
            break;
        case 'j':
            as_json = true;
            break;
        default:
            hfctl_usage(stderr);
            return 2;
        }
    }
    if (!urls || optind != argc || timeout_s <= 0 || timeout_s > 600) {
        hfctl_usage(stderr);
        return 2;
    }
    char *token = NULL;
    if (token_file && !(token = read_token(token_file))) {
        fprintf(stderr, "handoffctl dashboard: %s: no token in it (or it cannot be read)\n",
                token_file);
        return 2;
    }
    hf_buf_t path = HF_BUF_INIT, body = HF_BUF_INIT;
    hf_buf_append_str(&path, "/v1/dashboard?");
    const char *params[][2] = {{"team", team}, {"from", from}, {"to", to}};
    for (size_t i = 0; i < 3; i++) {
        if (!params[i][1])
            continue;
        hf_buf_printf(&path, "%s=", params[i][0]);
        query_escape(&path, params[i][1]);
        hf_buf_append_str(&path, "&");
    }
    hf_buf_append(&path, "", 1);

    char *list = strdup(urls);
    json_t *sum = NULL, *instances = json_array();
    int rc = list && instances ? 0 : 1;
    size_t n = 0;
    for (char *save = NULL, *addr = strtok_r(list, ",", &save); addr && rc == 0;
         addr = strtok_r(NULL, ",", &save)) {
        if (++n > ADDRESSES_MAX) {
            fprintf(stderr, "handoffctl dashboard: at most %d addresses\n", ADDRESSES_MAX);
            rc = 2;
            break;
        }
        char err[512];
        int status = 0;
        if (http_get(addr, (const char *)path.data, token, timeout_s, &status, &body, err,
                     sizeof err) < 0) {
            fprintf(stderr, "handoffctl dashboard: %s\n", err);
            rc = 1;
            break;
        }
        json_error_t je;
        json_t *j = json_loadb((const char *)body.data, body.len, 0, &je);
        if (status != 200 || !json_is_object(j)) {
            fprintf(stderr, "handoffctl dashboard: %s: HTTP %d: %.*s\n", addr, status,
                    (int)(body.len > 300 ? 300 : body.len), (const char *)body.data);
            json_decref(j);
            rc = 1;
            break;
        }
        json_array_append_new(instances, json_string(addr));
        if (!sum) {
            sum = j;
        } else {
            merge_answer(sum, j);
            json_decref(j);
        }
    }
    if (rc == 0 && sum) {
        finish(sum);
        json_object_set(sum, "instances", instances);
        json_object_del(sum, "instance");
        json_object_del(sum, "peers");
        if (as_json) {
            json_dumpf(sum, stdout, JSON_COMPACT);
            fputc('\n', stdout);
        } else {
            printf("dashboard of %zu instance%s:", json_array_size(instances),
                   json_array_size(instances) == 1 ? "" : "s");
            size_t i;
            json_t *v;
            json_array_foreach(instances, i, v) printf(" %s", json_string_value(v));
            printf("\n\n");
            print_text(sum, stdout);
        }
    }
    json_decref(sum);
    json_decref(instances);
    free(list);
    free(token);
    hf_buf_free(&path);
    hf_buf_free(&body);
    return rc;
}
