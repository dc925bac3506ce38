/* hf-http-load: a small HTTP/1.1 load generator for the benchmark.
 *
 *   hf-http-load HOST:PORT PATHS_FILE [--connections N] [--seconds S] [--token T]
 *
 * Opens N keep-alive connections to HOST:PORT (loopback only: the benchmark's own
 * daemon) and, on each, sends GET requests one after another for S seconds, cycling
 * through the paths in PATHS_FILE (one a line).  Prints one line:
 *
 *   requests N seconds S rate R p50_us A p99_us B max_us C status_2xx X status_3xx Y
 *   status_4xx Z status_5xx W errors E
 *
 * A response is read whole (Content-Length; the daemon never sends chunked bodies)
 * before the next request goes out on that connection.  Every loop is bounded by
 * the deadline. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64
#define MAX_PATHS 100000
#define BUF_BYTES (1 << 20)

typedef struct conn {
    int fd;
    char *buf;
    size_t have;
    int64_t sent_us;
    size_t next_path;
} conn_t;

typedef struct load {
    char **paths;
    size_t path_count;
    char host[256];
    char auth[512];
    struct sockaddr_in addr;
    int64_t *lat_us;
    size_t lat_count, lat_cap;
    uint64_t status[6];
    uint64_t errors;
} load_t;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int read_paths(load_t *l, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -errno;
    l->paths = calloc(MAX_PATHS, sizeof(*l->paths));
    char line[1024];
    while (l->paths && l->path_count < MAX_PATHS && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '/')
            l->paths[l->path_count++] = strdup(line);
    }
    fclose(f);
    return l->path_count ? 0 : -EINVAL;
}

static int connect_one(load_t *l, conn_t *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -errno;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&l->addr, sizeof(l->addr)) < 0) {
        int e = -errno;
        close(c->fd);
        c->fd = -1;
        return e;
    }
    return 0;
}

static int send_request(load_t *l, conn_t *c)
{
    char req[2048];
    const char *path = l->paths[c->next_path++ % l->path_count];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, l->host, l->auth);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -EINVAL;
    c->have = 0;
    c->sent_us = now_us();
    for (int off = 0; off < n;) {
        ssize_t w = write(c->fd, req + off, (size_t)(n - off));
        if (w < 0)
            return -errno;
        off += (int)w;
    }
    return 0;
}

/* 1 when @c holds a whole response (its status in *status), 0 when more is needed,
 * -1 on a malformed one. */
static int response_done(conn_t *c, int *status)
{
    char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf) + 4;
    if (sscanf(c->buf, "HTTP/1.1 %d", status) != 1)
        return -1;
    size_t body = 0;
    char *cl = memmem(c->buf, head, "Content-Length:", 15);
    if (!cl)
        cl = memmem(c->buf, head, "content-length:", 15);
    if (cl)
        body = strtoul(cl + 15, NULL, 10);
    return c->have >= head + body ? 1 : 0;
}

static void record(load_t *l, int64_t us, int status)
{
    if (l->lat_count == l->lat_cap) {
        size_t cap = l->lat_cap ? l->lat_cap * 2 : 65536;
        int64_t *grown = realloc(l->lat_us, cap * sizeof(*grown));
        if (!grown)
            return;
        l->lat_us = grown;
        l->lat_cap = cap;
    }
    l->lat_us[l->lat_count++] = us;
    l->status[status / 100 < 6 ? status / 100 : 5]++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int run(load_t *l, conn_t *conns, int n, int64_t deadline_us)
{
    struct pollfd pfd[MAX_CONNECTIONS];
    for (int i = 0; i < n; i++)
        if (connect_one(l, &conns[i]) < 0 || send_request(l, &conns[i]) < 0)
            return -1;
    while (now_us() < deadline_us) {
        for (int i = 0; i < n; i++)
            pfd[i] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        int ready = poll(pfd, (nfds_t)n, 100);
        for (int i = 0; ready > 0 && i < n; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            conn_t *c = &conns[i];
            ssize_t r = read(c->fd, c->buf + c->have, BUF_BYTES - c->have);
            int status = 0, done = r > 0 ? (c->have += (size_t)r, response_done(c, &status)) : -1;
            if (done == 0 && c->have < BUF_BYTES)
                continue;
            if (done == 1) {
                record(l, now_us() - c->sent_us, status);
            } else { /* closed, malformed or too big: reconnect */
                l->errors++;
                close(c->fd);
                if (connect_one(l, c) < 0)
                    return -1;
            }
            if (send_request(l, c) < 0)
                return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hf-http-load HOST:PORT PATHS_FILE [--connections N] [--seconds S] "
                        "[--token T]\n");
        return 2;
    }
    load_t l = {0};
    int connections = 4;
    double seconds = 5;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connections") == 0)
            connections = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--token") == 0)
            snprintf(l.auth, sizeof(l.auth), "Authorization: Bearer %s\r\n", argv[i + 1]);
    }
    if (connections < 1 || connections > MAX_CONNECTIONS || seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "hf-http-load: --connections 1..%d, --seconds up to 3600\n",
                MAX_CONNECTIONS);
        return 2;
    }
    snprintf(l.host, sizeof(l.host), "%s", argv[1]);
    char *colon = strrchr(l.host, ':');
    if (!colon) {
        fprintf(stderr, "hf-http-load: %s: expected HOST:PORT\n", argv[1]);
        return 2;
    }
    *colon = '\0';
    l.addr.sin_family = AF_INET;
    l.addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, l.host, &l.addr.sin_addr) != 1 ||
        (ntohl(l.addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "hf-http-load: %s: a loopback IPv4 address only\n", l.host);
        return 2;
    }
    *colon = ':';
    if (read_paths(&l, argv[2]) < 0) {
        fprintf(stderr, "hf-http-load: %s: no paths\n", argv[2]);
        return 2;
    }
    conn_t conns[MAX_CONNECTIONS];
    for (int i = 0; i < connections; i++)
        conns[i] = (conn_t){.fd = -1, .buf = malloc(BUF_BYTES), .next_path = (size_t)i * 7919};
    int64_t start = now_us();
    int r = run(&l, conns, connections, start + (int64_t)(seconds * 1e6));
    double took = (double)(now_us() - start) / 1e6;
    if (r < 0) {
        fprintf(stderr, "hf-http-load: cannot reach %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    qsort(l.lat_us, l.lat_count, sizeof(*l.lat_us), cmp_i64);
    size_t n = l.lat_count;
    printf(
        "requests %zu seconds %.2f rate %.0f p50_us %lld p99_us %lld max_us %lld status_2xx %llu "
        "status_3xx %llu status_4xx %llu status_5xx %llu errors %llu\n",
        n, took, n / took, n ? (long long)l.lat_us[n / 2] : 0,
        n ? (long long)l.lat_us[(n * 99) / 100] : 0, n ? (long long)l.lat_us[n - 1] : 0,
        (unsigned long long)l.status[2], (unsigned long long)l.status[3],
        (unsigned long long)l.status[4], (unsigned long long)l.status[5],
        (unsigned long long)l.errors);
    for (int i = 0; i < connections; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        free(conns[i].buf);
    }
    for (size_t i = 0; i < l.path_count; i++)
        free(l.paths[i]);
    free(l.paths);
    free(l.lat_us);
    return 0;
}
