/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's HTTP server under hostile clients (issue 11, items 1, 2, 3 and 11): the real
 * daemon on a fixture (sim backend, port 0, a low RLIMIT_NOFILE and small limits from a
 * configuration file), spoken to over raw sockets so the framing is exactly what is tested.
 *
 * Nothing here asserts a duration: waits for the agent to notice something (a peer that
 * closed, an idle timeout) poll a condition up to a generous deadline, and the assertions are
 * on descriptors (/proc/PID/fd), memory (VmHWM), statuses, the log and the fixture's drivers.
 *
 * HOSTDEVD may point at another build of the agent (the configuration file carries the limits,
 * so an older agent that ignores them still starts): every test here fails on the libsoup 3.2
 * server of commit 9482a9f.
 */
#define _GNU_SOURCE 1 /* memmem */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define MISSING "0000:09:00.0"
#define DETACH_GPU "POST /v1/devices/" GPU "/detach HTTP/1.1\r\nHost: x\r\n"
#define DRY_RUN_BODY "{\"group\": true, \"dry_run\": true}"

/* ---- the daemon ----------------------------------------------------------------------------- */

typedef struct {
        HdTestFixture *fx;
        GSubprocess *proc;
        int pid;
        guint16 port;
        char *token;
        char *log;
        char *auth; /* "Authorization: Bearer TOKEN\r\n" */
} Daemon;

typedef struct {
        guint nofile;
        guint max_connections;
        guint max_per_peer;
        guint idle_timeout;
} Limits;

static void child_setup(gpointer data)
{
        const Limits *l = data;
        struct rlimit rl = {l->nofile, l->nofile};

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setrlimit(RLIMIT_NOFILE, &rl);
}

static Daemon *daemon_start(HdTestFixture *fx, const Limits *limits)
{
        const char *bin = g_getenv("HOSTDEVD");
        g_autoptr(GSubprocessLauncher) l =
            g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        g_autofree char *conf = g_build_filename(fx->root, "hostdevd.conf", NULL);
        g_autofree char *conf_text = g_strdup_printf(
            "[agent]\nlisten=127.0.0.1:0\nmax-connections=%u\nmax-connections-per-peer=%u\n"
            "idle-timeout=%u\n",
            limits->max_connections, limits->max_per_peer, limits->idle_timeout);
        g_autofree char *tok = NULL;
        g_autofree char *tok_path = NULL;
        Daemon *d = g_new0(Daemon, 1);
        const char *colon;

        g_assert_nonnull(bin);
        d->fx = fx;
        d->log = g_build_filename(fx->root, "hostdevd.log", NULL);
        g_assert_true(g_file_set_contents(conf, conf_text, -1, NULL));
        g_subprocess_launcher_set_stderr_file_path(l, d->log);
        {
                /* under ASan, freed memory waits in a quarantine (256 MiB by default) and
                 * would count as growth of the peak: keep it small */
                const char *asan = g_getenv("ASAN_OPTIONS");
                g_autofree char *opts =
                    g_strdup_printf("%s%squarantine_size_mb=1:thread_local_quarantine_size_kb=64",
                                    asan ? asan : "", asan && *asan ? ":" : "");
                g_subprocess_launcher_setenv(l, "ASAN_OPTIONS", opts, TRUE);
        }
        /* the child's copy of the Limits: the launcher calls child_setup after fork */
        g_subprocess_launcher_set_child_setup(l, child_setup, g_memdup2(limits, sizeof(*limits)),
                                              g_free);
        d->proc =
            g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root, "--backend", "sim",
                                        "--libvirt-uri", "test:///default", "--config", conf, NULL);
        g_assert_no_error(error);
        d->pid = atoi(g_subprocess_get_identifier(d->proc));
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(d->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!line) {
                g_autofree char *log = NULL;
                g_file_get_contents(d->log, &log, NULL, NULL);
                g_error("hostdevd did not start: %s", log);
        }
        g_assert_true(g_str_has_prefix(line, "listening http://127.0.0.1:"));
        colon = strrchr(line, ':');
        d->port = (guint16)atoi(colon + 1);
        tok_path = g_build_filename(fx->root, "var/lib/hostdev/agent.token", NULL);
        g_assert_true(g_file_get_contents(tok_path, &tok, NULL, NULL));
        d->token = g_strdup(g_strstrip(tok));
        d->auth = g_strdup_printf("Authorization: Bearer %s\r\n", d->token);
        return d;
}

static void daemon_stop(Daemon *d)
{
        g_autoptr(GError) error = NULL;

        g_subprocess_send_signal(d->proc, SIGTERM);
        g_subprocess_wait(d->proc, NULL, &error);
        g_assert_no_error(error);
        /* whatever it went through, it stops cleanly (and, under ASan, without a leak) */
        if (!g_subprocess_get_if_exited(d->proc) || g_subprocess_get_exit_status(d->proc) != 0) {
                g_autofree char *log = NULL;
                g_file_get_contents(d->log, &log, NULL, NULL);
                g_error("hostdevd did not exit 0 on SIGTERM: %s", log ? log : "");
        }
        g_clear_object(&d->proc);
        g_free(d->token);
        g_free(d->auth);
        g_free(d->log);
        g_free(d);
}

static guint count_fds(int pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/fd", pid);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        guint n = 0;

        g_assert_nonnull(dir);
        while (g_dir_read_name(dir))
                n++;
        return n;
}

/* VmHWM (peak resident set) in KiB. */
static guint64 peak_kib(int pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
        g_autofree char *text = NULL;
        const char *p;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        p = strstr(text, "VmHWM:");
        g_assert_nonnull(p);
        return g_ascii_strtoull(p + 6, NULL, 10);
}

static gboolean log_contains(Daemon *d, const char *what)
{
        g_autofree char *text = NULL;

        return g_file_get_contents(d->log, &text, NULL, NULL) && strstr(text, what) != NULL;
}

/* Wait (at most @seconds) until the agent holds at most @max descriptors. */
static guint wait_fds_at_most(Daemon *d, guint max, guint seconds)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
        guint n;

        while ((n = count_fds(d->pid)) > max && g_get_monotonic_time() < deadline)
                g_usleep(20 * 1000);
        return n;
}

/* ---- a raw client ------------------------------------------------------------------------- */

/* A connection from @source (a loopback address, NULL: 127.0.0.1). Reads and writes give up
 * after 10 s, so a deaf agent fails the test rather than hanging it. */
static int conn_open(Daemon *d, const char *source)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->port)};
        struct timeval tv = {10, 0};
        int one = 1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (source) {
                struct sockaddr_in src = {.sin_family = AF_INET};
                g_assert_cmpint(inet_pton(AF_INET, source, &src.sin_addr), ==, 1);
                g_assert_cmpint(bind(fd, (struct sockaddr *)&src, sizeof(src)), ==, 0);
        }
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
        return fd;
}

static gboolean send_all(int fd, const void *data, gsize len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return FALSE;
                p += n;
                len -= (gsize)n;
        }
        return TRUE;
}

static void send_str(int fd, const char *s)
{
        g_assert_true(send_all(fd, s, strlen(s)));
}

typedef struct {
        guint status; /* 0: the connection ended (or timed out) before a status line */
        char *headers;
        char *body;
        gboolean closing; /* "Connection: close" */
} Response;

static void response_clear(Response *r)
{
        g_free(r->headers);
        g_free(r->body);
        memset(r, 0, sizeof(*r));
}

/* Buffered reading of one connection. */
typedef struct {
        int fd;
        GByteArray *buf;
} Reader;

static gboolean reader_fill(Reader *rd)
{
        guint8 tmp[65536];
        ssize_t n;

        do
                n = recv(rd->fd, tmp, sizeof(tmp), 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return FALSE;
        g_byte_array_append(rd->buf, tmp, (guint)n);
        return TRUE;
}

/* The value of header @name (case-insensitive) in @headers, or NULL. */
static char *header_value(const char *headers, const char *name)
{
        g_autofree char *needle = g_ascii_strdown(name, -1);
        g_auto(GStrv) lines = g_strsplit(headers, "\r\n", -1);

        for (char **l = lines + 1; *l; l++) {
                g_autofree char *lower = g_ascii_strdown(*l, -1);
                if (g_str_has_prefix(lower, needle) && lower[strlen(needle)] == ':')
                        return g_strstrip(g_strdup(*l + strlen(needle) + 1));
        }
        return NULL;
}

static void assert_driver(HdTestFixture *fx, const char *addr, const char *driver)
{
        g_autofree char *now = hd_test_driver(fx, addr);

        g_assert_cmpstr(now, ==, driver);
}

/* One response; @head: the request was HEAD (no body follows the headers). */
static Response read_response(Reader *rd, gboolean head)
{
        Response r = {0};
        guint8 *end;
        gsize hlen, blen = 0;
        g_autofree char *cl = NULL;
        g_autofree char *conn = NULL;

        /* an empty GByteArray's data may be NULL, which memmem() must not get */
        while (rd->buf->len < 4 || !(end = memmem(rd->buf->data, rd->buf->len, "\r\n\r\n", 4)))
                if (!reader_fill(rd))
                        return r;
        hlen = (gsize)(end - rd->buf->data) + 4;
        r.headers = g_strndup((const char *)rd->buf->data, hlen);
        g_assert_true(g_str_has_prefix(r.headers, "HTTP/1.1 "));
        r.status = (guint)atoi(r.headers + 9);
        cl = header_value(r.headers, "Content-Length");
        if (cl && !head)
                blen = (gsize)g_ascii_strtoull(cl, NULL, 10);
        conn = header_value(r.headers, "Connection");
        r.closing = conn && g_ascii_strcasecmp(conn, "close") == 0;
        while (rd->buf->len < hlen + blen)
                if (!reader_fill(rd))
                        break;
        blen = MIN(blen, rd->buf->len - hlen);
        r.body = g_strndup((const char *)rd->buf->data + hlen, blen);
        g_byte_array_remove_range(rd->buf, 0, (guint)(hlen + blen));
        return r;
}

/* The server ended the connection: EOF or reset, after whatever it still sent (at most 1
 * MiB). FALSE when the connection stays open (recv gives up after 10 s). */
static gboolean conn_ended(int fd)
{
        char buf[4096];
        gsize total = 0;
        ssize_t n;

        for (;;) {
                n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || (total += (gsize)n) > (1u << 20))
                        break;
        }
        return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
}

/* Wait (at most @seconds) until the agent holds at least @min descriptors. */
static guint wait_fds_at_least(Daemon *d, guint min, guint seconds)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
        guint n;

        while ((n = count_fds(d->pid)) < min && g_get_monotonic_time() < deadline)
                g_usleep(20 * 1000);
        return n;
}

/* One request on a new connection; the response. */
static Response exchange(Daemon *d, const char *request, gboolean head)
{
        int fd = conn_open(d, NULL);
        Reader rd = {fd, g_byte_array_new()};
        Response r;

        send_str(fd, request);
        r = read_response(&rd, head);
        g_byte_array_unref(rd.buf);
        close(fd);
        return r;
}

static Response get(Daemon *d, const char *path, const char *extra_headers)
{
        g_autofree char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: x\r\n%s%sConnection: "
                                               "close\r\n\r\n",
                                               path, d->auth, extra_headers ? extra_headers : "");

        return exchange(d, req, FALSE);
}

static void assert_healthy(Daemon *d)
{
        Response r =
            exchange(d, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", FALSE);

        g_assert_cmpuint(r.status, ==, 200);
        g_assert_cmpstr(r.body, ==, "{\"status\":\"ok\"}");
        response_clear(&r);
}

static void assert_error_json(const Response *r, guint status)
{
        g_autoptr(JsonNode) root = NULL;

        g_assert_cmpuint(r->status, ==, status);
        /* the agent's answers are JSON, valid UTF-8, whatever was sent */
        g_assert_true(g_utf8_validate(r->body, -1, NULL));
        root = hd_test_parse_json(r->body);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
        g_assert_true(json_object_has_member(json_node_get_object(root), "error"));
}

/* The descriptors of the agent with no connection open (after one answered request). */
static guint base_fds(Daemon *d)
{
        guint n = count_fds(d->pid);

        assert_healthy(d);
        g_assert_cmpuint(wait_fds_at_most(d, n, 20), <=, n);
        return n;
}

static const Limits default_limits = {
    .nofile = 64, .max_connections = 40, .max_per_peer = 40, .idle_timeout = 30};

/* ---- descriptors ---------------------------------------------------------------------------- */

/* 1,000 keep-alive clients that close after their answer (curl, health checkers): the agent
 * releases each descriptor (libsoup 3.2 kept every one in CLOSE-WAIT, and went deaf at the
 * descriptor limit). */
static void test_keepalive_clients_close(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        guint base;

        base = base_fds(d);
        for (guint i = 0; i < 1000; i++) {
                int fd = conn_open(d, NULL);
                Reader rd = {fd, g_byte_array_new()};
                Response r;

                send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                r = read_response(&rd, FALSE);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_false(r.closing);
                response_clear(&r);
                g_byte_array_unref(rd.buf);
                close(fd);
        }
        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);
        assert_healthy(d);
        daemon_stop(d);
}

/* More connections than the descriptor limit: accept() fails with EMFILE; the agent says so
 * in its log, and once the connections are gone it accepts again (libsoup 3.2 never polled
 * its listening socket again after one EMFILE). */
static void test_emfile_recovery(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const Limits limits = {
            .nofile = 64, .max_connections = 500, .max_per_peer = 500, .idle_timeout = 120};
        Daemon *d = daemon_start(fx, &limits);
        int fds[120];
        guint base;

        base = base_fds(d);
        for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
                fds[i] = conn_open(d, NULL); /* the kernel's backlog takes what is not accepted */
        /* the agent ran out of descriptors accepting them */
        {
                gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
                while (!log_contains(d, "resource limit") && g_get_monotonic_time() < deadline)
                        g_usleep(20 * 1000);
                g_assert_true(log_contains(d, "resource limit"));
        }
        for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
                close(fds[i]);
        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);
        assert_healthy(d);
        daemon_stop(d);
}

/* Abandoned connections: headers never finished, a body never finished, nothing sent. The
 * idle timeout closes the 60 that stay silent; 1,000 more that close their side half-way are
 * released at once; the descriptors come back either way. */
static void test_abandoned_connections(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const Limits limits = {
            .nofile = 256, .max_connections = 200, .max_per_peer = 200, .idle_timeout = 2};
        Daemon *d = daemon_start(fx, &limits);
        g_autofree char *partial_body = NULL;
        int fds[60];
        guint base;

        base = base_fds(d);
        partial_body =
            g_strdup_printf(DETACH_GPU "%sContent-Length: 100\r\n\r\n{\"group\"", d->auth);
        for (guint i = 0; i < G_N_ELEMENTS(fds); i++) {
                fds[i] = conn_open(d, NULL);
                if (i % 3 == 0)
                        send_str(fds[i], "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow");
                else if (i % 3 == 1)
                        send_str(fds[i], partial_body);
        }
        for (guint i = 0; i < G_N_ELEMENTS(fds); i++) {
                /* each is closed by the agent (recv gives up after 10 s otherwise) */
                g_assert_true(conn_ended(fds[i]));
                close(fds[i]);
        }
        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);

        /* 1,000 more that go away half-way (headers, or a body cut short, then the client
         * closes), twice: none is acted on, the descriptors come back, and the second
         * thousand leaves the memory peak where the first put it (connections that pile up
         * before the agent sees them close cost memory for a moment, bounded by the caps; a
         * leak would grow with every round) */
        {
                guint64 hwm_first = 0;
                for (guint round = 0; round < 2; round++) {
                        for (guint i = 0; i < 1000; i++) {
                                int fd = conn_open(d, NULL);
                                send_str(fd, i % 2 ? "GET /v1/devices HTTP/1.1\r\nHost: "
                                                     "x\r\nX-Half"
                                                   : partial_body);
                                close(fd);
                        }
                        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);
                        if (round == 0)
                                hwm_first = peak_kib(d->pid);
                }
                g_assert_cmpuint(peak_kib(d->pid), <, hwm_first + 2 * 1024);
        }
        assert_driver(fx, GPU, "nouveau");
        assert_healthy(d);
        daemon_stop(d);
}

/* Send @text one byte every 200 ms (never idle long enough for an inactivity timeout); TRUE
 * when the agent closed the connection before the end (checked after each byte). */
static gboolean drip_until_closed(int fd, const char *text)
{
        for (const char *p = text; *p; p++) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                if (!send_all(fd, p, 1))
                        return TRUE;
                if (poll(&pfd, 1, 200) > 0)
                        return conn_ended(fd);
        }
        return FALSE;
}

/* A client that sends its headers, or its body, one byte at a time: the idle timeout (2 s)
 * never strikes, the deadline for the phase does (MHD's own timeout counts inactivity only). */
static void test_slow_drip(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const Limits limits = {
            .nofile = 64, .max_connections = 40, .max_per_peer = 40, .idle_timeout = 2};
        Daemon *d = daemon_start(fx, &limits);
        g_autoptr(GString) headers = g_string_new("GET /healthz HTTP/1.1\r\n");
        g_autoptr(GString) body = g_string_new(NULL);
        g_autofree char *head = NULL;
        guint base = base_fds(d);
        int fd;

        /* 150 bytes of headers at 5 bytes/s: 30 s, far past the 2 s deadline */
        while (headers->len < 150)
                g_string_append(headers, "X-Drip: 0123456789\r\n");
        fd = conn_open(d, NULL);
        g_assert_true(drip_until_closed(fd, headers->str));
        close(fd);
        /* the body likewise, after complete headers */
        while (body->len < 150)
                g_string_append(body, "{\"group\": true, \"dry_run\": true}      ");
        head =
            g_strdup_printf(DETACH_GPU "%sContent-Length: %u\r\n\r\n", d->auth, (guint)body->len);
        fd = conn_open(d, NULL);
        send_str(fd, head);
        g_assert_true(drip_until_closed(fd, body->str));
        close(fd);
        /* and a kept-alive connection that drips its second request */
        fd = conn_open(d, NULL);
        {
                Reader rd = {fd, g_byte_array_new()};
                Response r;
                send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                r = read_response(&rd, FALSE);
                g_assert_cmpuint(r.status, ==, 200);
                response_clear(&r);
                g_byte_array_unref(rd.buf);
        }
        g_assert_true(drip_until_closed(fd, headers->str));
        close(fd);
        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);
        assert_driver(fx, GPU, "nouveau");
        assert_healthy(d);
        daemon_stop(d);
}

/* A long poll is not idle: with a 2 s idle timeout, ?wait=4 waits its 4 s and answers 304. */
static void test_long_poll_not_idle(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const Limits limits = {
            .nofile = 64, .max_connections = 40, .max_per_peer = 40, .idle_timeout = 2};
        Daemon *d = daemon_start(fx, &limits);
        Response r = get(d, "/v1/devices", NULL);
        g_autofree char *etag = header_value(r.headers, "ETag");
        g_autofree char *inm = g_strdup_printf("If-None-Match: %s\r\n", etag);
        gint64 start;

        g_assert_cmpuint(r.status, ==, 200);
        response_clear(&r);
        start = g_get_monotonic_time();
        r = get(d, "/v1/devices?wait=4", inm);
        g_assert_cmpuint(r.status, ==, 304);
        /* it really waited (past the idle timeout), it was not cut off */
        g_assert_cmpint(g_get_monotonic_time() - start, >=, 3 * G_USEC_PER_SEC);
        response_clear(&r);
        daemon_stop(d);
}

/* 1,000 abandoned connections from one peer while another is served: the per-peer cap keeps
 * them from taking the agent's descriptors (each one beyond it is closed at once). At the total
 * cap the agent stops accepting until a connection closes. */
static void test_per_peer_and_total_caps(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const Limits limits = {
            .nofile = 128, .max_connections = 12, .max_per_peer = 4, .idle_timeout = 60};
        Daemon *d = daemon_start(fx, &limits);
        const char *slow = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow";
        int held[4], more[8];
        guint base;

        base = base_fds(d);
        for (guint i = 0; i < G_N_ELEMENTS(held); i++) {
                held[i] = conn_open(d, "127.0.0.2");
                send_str(held[i], slow);
        }
        g_assert_cmpuint(wait_fds_at_least(d, base + 4, 20), >=, base + 4);
        /* beyond the cap, each connection of that peer ends at once, without an answer */
        for (guint i = 0; i < 996; i++) {
                int fd = conn_open(d, "127.0.0.2");
                send_str(fd, slow);
                g_assert_true(conn_ended(fd));
                close(fd);
        }
        g_assert_cmpuint(count_fds(d->pid), <=, base + 4);
        /* another peer is served meanwhile */
        assert_healthy(d);
        /* in all at most 12: 4 from .2, 8 from .3 .. .10; the next one is refused */
        for (guint i = 0; i < G_N_ELEMENTS(more); i++) {
                g_autofree char *src = g_strdup_printf("127.0.0.%u", 3 + i);
                more[i] = conn_open(d, src);
                send_str(more[i], slow);
        }
        g_assert_cmpuint(wait_fds_at_least(d, base + 12, 20), >=, base + 12);
        {
                /* at the total cap the agent stops accepting: the next caller waits in the
                 * kernel's backlog, unanswered, and is served once a connection closes */
                int extra = conn_open(d, "127.0.0.20");
                Reader rd = {extra, g_byte_array_new()};
                struct pollfd pfd = {.fd = extra, .events = POLLIN};
                Response r;

                send_str(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                g_assert_cmpint(poll(&pfd, 1, 500), ==, 0);
                g_assert_cmpuint(count_fds(d->pid), <=, base + 12);
                close(more[0]);
                r = read_response(&rd, FALSE);
                g_assert_cmpuint(r.status, ==, 200);
                response_clear(&r);
                g_byte_array_unref(rd.buf);
                close(extra);
        }
        for (guint i = 1; i < G_N_ELEMENTS(more); i++)
                close(more[i]);
        for (guint i = 0; i < G_N_ELEMENTS(held); i++)
                close(held[i]);
        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);
        assert_healthy(d);
        daemon_stop(d);
}

/* 100,000 keep-alive requests on 4 connections (pipelined in batches): every one answered,
 * descriptors and memory flat. */
static void test_many_keepalive_requests(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        g_autoptr(GString) batch = g_string_new(NULL);
        g_autofree char *etag_req = NULL;
        guint base, answered = 0;
        guint64 hwm_warm = 0;

        base = base_fds(d);
        {
                /* a poller: /v1/devices with the current ETag (304), and /healthz */
                Response r = get(d, "/v1/devices", NULL);
                g_autofree char *etag = header_value(r.headers, "ETag");
                g_assert_cmpuint(r.status, ==, 200);
                etag_req = g_strdup_printf("GET /v1/devices HTTP/1.1\r\nHost: x\r\n%s"
                                           "If-None-Match: %s\r\n\r\n",
                                           d->auth, etag);
                response_clear(&r);
        }
        for (guint i = 0; i < 50; i++)
                g_string_append(batch,
                                i % 2 ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" : etag_req);
        for (guint c = 0; c < 4; c++) {
                int fd = conn_open(d, NULL);
                Reader rd = {fd, g_byte_array_new()};

                for (guint round = 0; round < 500; round++) {
                        send_str(fd, batch->str);
                        for (guint i = 0; i < 50; i++) {
                                Response r = read_response(&rd, FALSE);
                                g_assert_cmpuint(r.status, ==, i % 2 ? 200 : 304);
                                answered++;
                                response_clear(&r);
                        }
                        if (c == 0 && round == 50)
                                hwm_warm = peak_kib(d->pid);
                }
                g_assert_cmpuint(count_fds(d->pid), <=, base + 1);
                g_byte_array_unref(rd.buf);
                close(fd);
        }
        g_assert_cmpuint(answered, ==, 100000);
        g_assert_cmpuint(wait_fds_at_most(d, base, 20), <=, base);
        /* memory: the peak grew by less than 4 MiB after the first 2,500 requests */
        g_assert_cmpuint(peak_kib(d->pid), <, hwm_warm + 4 * 1024);
        daemon_stop(d);
}

/* ---- bodies --------------------------------------------------------------------------------- */

/* Content-Length that is not a sane number: 400 or 413 and the connection closed, never a body
 * taken as empty (a dry run must not become a detach). */
static void test_content_length_garbage(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        const char *lengths[] = {
            "Content-Length: 9223372036854775808\r\n",  /* 2^63 */
            "Content-Length: 18446744073709551616\r\n", /* 2^64 */
            "Content-Length: 18446744073709551615\r\n", /* 2^64 - 1 */
            "Content-Length: -1\r\n",
            "Content-Length: 1,2\r\n",
            "Content-Length: 0x20\r\n",
            "Content-Length: 2\r\nContent-Length: 33\r\n",
            "Content-Length: 33\r\nContent-Length: 33\r\n",
            "Content-Length: 33\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: gzip\r\n",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(lengths); i++) {
                g_autofree char *req =
                    g_strdup_printf(DETACH_GPU "%s%s\r\n" DRY_RUN_BODY, d->auth, lengths[i]);
                int fd = conn_open(d, NULL);
                Reader rd = {fd, g_byte_array_new()};
                Response r;

                send_str(fd, req);
                r = read_response(&rd, FALSE);
                if (r.status != 400 && r.status != 413)
                        g_error("%s: %u %s", lengths[i], r.status, r.body ? r.body : "");
                g_assert_true(r.closing);
                g_byte_array_set_size(rd.buf, 0);
                g_assert_true(conn_ended(fd));
                response_clear(&r);
                g_byte_array_unref(rd.buf);
                close(fd);
                assert_driver(fx, GPU, "nouveau");
        }
        /* over the limit: 413 from the headers, before a body byte is sent */
        {
                g_autofree char *req =
                    g_strdup_printf(DETACH_GPU "%sContent-Length: 104857600\r\n\r\n", d->auth);
                Response r = exchange(d, req, FALSE);
                assert_error_json(&r, 413);
                g_assert_true(r.closing);
                response_clear(&r);
        }
        /* a flood of them does not flood the log: at most 10 lines of libmicrohttpd a
         * second, plus one line counting the rest */
        {
                g_autofree char *req = g_strdup_printf(
                    DETACH_GPU "%sContent-Length: -1\r\n\r\n" DRY_RUN_BODY, d->auth);
                g_autofree char *text = NULL;
                gint64 start = g_get_monotonic_time();
                guint lines = 0;
                gint64 seconds;

                for (guint i = 0; i < 200; i++) {
                        Response r = exchange(d, req, FALSE);
                        g_assert_cmpuint(r.status, ==, 400);
                        response_clear(&r);
                }
                seconds = (g_get_monotonic_time() - start) / G_USEC_PER_SEC + 1;
                g_assert_true(g_file_get_contents(d->log, &text, NULL, NULL));
                for (const char *p = text; (p = strstr(p, "msg=http ")); p++)
                        lines++;
                g_assert_cmpuint(lines, <=, 11 * (seconds + 2) + 2 * G_N_ELEMENTS(lengths));
        }
        /* the agent never answered 2xx to any of it: nothing ran */
        g_assert_false(log_contains(d, "operation done"));
        assert_healthy(d);
        daemon_stop(d);
}

/* Stream @total bytes of chunked body after @head; returns the bytes the kernel took before the
 * agent closed the connection. */
static guint64 stream_chunked(int fd, const char *head, guint64 total)
{
        g_autofree char *chunk = g_malloc(65536 + 16);
        guint64 sent = 0;
        int n;

        send_str(fd, head);
        n = g_snprintf(chunk, 16, "%x\r\n", 65536);
        memset(chunk + n, 'x', 65536);
        memcpy(chunk + n + 65536, "\r\n", 2);
        while (sent < total) {
                if (!send_all(fd, chunk, (gsize)n + 65536 + 2))
                        break;
                sent += 65536;
        }
        return sent;
}

/* A chunked body of 128 MiB: the agent stops it at the 64 KiB limit, and its memory does not
 * grow (libsoup 3.2 read and buffered it all, twice). */
static void test_chunked_stream_bounded(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        g_autofree char *head =
            g_strdup_printf(DETACH_GPU "%sTransfer-Encoding: chunked\r\n\r\n", d->auth);
        guint64 hwm_before, sent;
        int fd;

        assert_healthy(d);
        hwm_before = peak_kib(d->pid);
        fd = conn_open(d, NULL);
        sent = stream_chunked(fd, head, 128ull << 20);
        close(fd);
        /* cut off: the rest was never taken (kernel buffers hold a few MiB at most) */
        g_assert_cmpuint(sent, <, 32ull << 20);
        g_assert_cmpuint(peak_kib(d->pid), <, hwm_before + 8 * 1024);
        assert_healthy(d);
        g_assert_true(log_contains(d, "status=413"));
        assert_driver(fx, GPU, "nouveau");
        daemon_stop(d);
}

/* Bodies of callers that may not send one are never held: no token (401), the read-only
 * token (403), GET. */
static void test_unauthorized_body_not_buffered(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        g_autofree char *ro_path =
            g_build_filename(fx->root, "var/lib/hostdev/agent-ro.token", NULL);
        g_autofree char *ro = NULL;
        g_autofree char *ro_head = NULL;
        guint64 hwm_before;

        g_assert_true(g_file_get_contents(ro_path, &ro, NULL, NULL));
        g_strstrip(ro);
        ro_head = g_strdup_printf(DETACH_GPU "Authorization: Bearer %s\r\nTransfer-Encoding: "
                                             "chunked\r\n\r\n",
                                  ro);
        assert_healthy(d);
        hwm_before = peak_kib(d->pid);
        {
                const char *heads[] = {
                    DETACH_GPU "Transfer-Encoding: chunked\r\n\r\n",
                    ro_head,
                    "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                };
                for (gsize i = 0; i < G_N_ELEMENTS(heads); i++) {
                        int fd = conn_open(d, NULL);
                        guint64 sent = stream_chunked(fd, heads[i], 64ull << 20);
                        g_assert_cmpuint(sent, <, 32ull << 20);
                        close(fd);
                }
        }
        /* no token and a Content-Length of 50 MiB: 401 before a body byte is sent */
        {
                Response r = exchange(d, DETACH_GPU "Content-Length: 52428800\r\n\r\n", FALSE);
                g_assert_true(r.status == 401 || r.status == 413);
                g_assert_true(r.closing);
                response_clear(&r);
        }
        g_assert_cmpuint(peak_kib(d->pid), <, hwm_before + 8 * 1024);
        assert_healthy(d);
        daemon_stop(d);
}

/* ---- smaller things ---------------------------------------------------------------------------
 */

/* HEAD on a GET endpoint: the GET's status and headers, no body (the next response on the
 * connection starts right after the headers). */
static void test_head(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        g_autofree char *req = g_strdup_printf(
            "HEAD /v1/devices HTTP/1.1\r\nHost: x\r\n%s\r\nGET /healthz HTTP/1.1\r\nHost: "
            "x\r\n\r\n",
            d->auth);
        int fd = conn_open(d, NULL);
        Reader rd = {fd, g_byte_array_new()};
        Response r;

        send_str(fd, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        r = read_response(&rd, TRUE);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autofree char *cl = header_value(r.headers, "Content-Length");
                g_assert_cmpstr(cl, ==, "15");
        }
        g_assert_cmpuint(rd.buf->len, ==, 0);
        response_clear(&r);
        send_str(fd, req);
        r = read_response(&rd, TRUE);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autofree char *etag = header_value(r.headers, "ETag");
                g_assert_nonnull(etag);
        }
        g_assert_cmpuint(rd.buf->len == 0 || rd.buf->data[0] == 'H', ==, TRUE);
        response_clear(&r);
        r = read_response(&rd, FALSE);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_cmpstr(r.body, ==, "{\"status\":\"ok\"}");
        response_clear(&r);
        g_byte_array_unref(rd.buf);
        close(fd);
        daemon_stop(d);
}

/* If-None-Match: * means "if it exists": a missing device is 404, not 304. */
static void test_if_none_match_star(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        Response r;

        r = get(d, "/v1/devices/" MISSING, "If-None-Match: *\r\n");
        assert_error_json(&r, 404);
        response_clear(&r);
        r = get(d, "/v1/devices/" GPU, "If-None-Match: *\r\n");
        g_assert_cmpuint(r.status, ==, 304);
        response_clear(&r);
        daemon_stop(d);
}

/* Two Authorization headers, or one folded over two lines (obs-fold): 400, even when each part
 * would be a valid token; any folded header line, a missing Host, a space before a colon
 * likewise. */
static void test_authorization_framing(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        g_autofree char *half = g_strndup(d->token, 10);
        const char *rest = d->token + 10;
        g_autofree char *two = g_strdup_printf("GET /v1/host HTTP/1.1\r\nHost: x\r\n%s%s"
                                               "Connection: close\r\n\r\n",
                                               d->auth, d->auth);
        g_autofree char *folded = g_strdup_printf("GET /v1/host HTTP/1.1\r\nHost: "
                                                  "x\r\nAuthorization: Bearer %s\r\n %s\r\n"
                                                  "Connection: close\r\n\r\n",
                                                  half, rest);
        g_autofree char *folded_tab = g_strdup_printf("GET /v1/host HTTP/1.1\r\nHost: "
                                                      "x\r\nAuthorization: Bearer\r\n\t%s\r\n"
                                                      "Connection: close\r\n\r\n",
                                                      d->token);
        g_autofree char *folded_other = g_strdup_printf("GET /v1/host HTTP/1.1\r\nHost: x\r\nX-A: "
                                                        "b\r\n c\r\n%sConnection: close\r\n\r\n",
                                                        d->auth);
        const char *reqs[] = {two, folded, folded_tab, folded_other};
        Response r;

        for (gsize i = 0; i < G_N_ELEMENTS(reqs); i++) {
                r = exchange(d, reqs[i], FALSE);
                assert_error_json(&r, 400);
                response_clear(&r);
        }
        /* HTTP/1.1 without Host, a header name with a space before its colon: 400 */
        {
                g_autofree char *no_host = g_strdup_printf(
                    "GET /v1/host HTTP/1.1\r\n%sConnection: close\r\n\r\n", d->auth);
                g_autofree char *spaced = g_strdup_printf(
                    "GET /v1/host HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer %s\r\n"
                    "Connection: close\r\n\r\n",
                    d->token);
                r = exchange(d, no_host, FALSE);
                g_assert_cmpuint(r.status, ==, 400);
                response_clear(&r);
                r = exchange(d, spaced, FALSE);
                g_assert_cmpuint(r.status, ==, 400);
                response_clear(&r);
        }
        /* the same token, sent once: 200 */
        r = get(d, "/v1/host", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        response_clear(&r);
        daemon_stop(d);
}

/* A path that is not UTF-8 (raw or percent-encoded): 400 with valid JSON, nothing echoed. */
static void test_path_not_utf8(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, &default_limits);
        const char *paths[] = {"/v1/devices/%ff%fe", "/v1/devices/\xff\xfe", "/v1/devices/%00",
                               "/v1/devices?wait=%ff"};

        for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
                Response r = get(d, paths[i], NULL);
                assert_error_json(&r, 400);
                response_clear(&r);
        }
        daemon_stop(d);
}

int main(int argc, char **argv)
{
        struct rlimit rl;

        /* the test itself holds a thousand sockets at times */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max > rl.rlim_cur) {
                rl.rlim_cur = MIN(rl.rlim_max, 4096);
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        signal(SIGPIPE, SIG_IGN);
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostile/http/keepalive-clients-close", test_keepalive_clients_close);
        g_test_add_func("/hostile/http/emfile-recovery", test_emfile_recovery);
        g_test_add_func("/hostile/http/abandoned-connections", test_abandoned_connections);
        g_test_add_func("/hostile/http/slow-drip", test_slow_drip);
        g_test_add_func("/hostile/http/long-poll-not-idle", test_long_poll_not_idle);
        g_test_add_func("/hostile/http/per-peer-and-total-caps", test_per_peer_and_total_caps);
        g_test_add_func("/hostile/http/many-keepalive-requests", test_many_keepalive_requests);
        g_test_add_func("/hostile/http/content-length-garbage", test_content_length_garbage);
        g_test_add_func("/hostile/http/chunked-stream-bounded", test_chunked_stream_bounded);
        g_test_add_func("/hostile/http/unauthorized-body-not-buffered",
                        test_unauthorized_body_not_buffered);
        g_test_add_func("/hostile/http/head", test_head);
        g_test_add_func("/hostile/http/if-none-match-star", test_if_none_match_star);
        g_test_add_func("/hostile/http/authorization-framing", test_authorization_framing);
        g_test_add_func("/hostile/http/path-not-utf8", test_path_not_utf8);
        return g_test_run();
}
