/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * src/http (hdhttp) in-process, as the engine will use it: a server on the test's main loop, a
 * client thread speaking raw HTTP/1.1. The agent's use of it is tested through hostdevd
 * (test-agent, tests/hostile/test-hostile-http.c); this holds the layer's own promises:
 * handlers on the main thread, suspend/resume, the headers hook before the body, referenced
 * (not copied) answer bytes, HEAD.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

typedef struct {
        GThread *main_thread;
        GBytes *bytes; /* the answer of /bytes */
        gboolean bytes_freed;
        guint handled;
        guint done;
        guint aborted;
        guint hooks_with_body; /* headers hook calls that saw a body not read yet */
} Ctx;

static gboolean on_headers(HdHttpRequest *req, gpointer user_data)
{
        Ctx *c = user_data;
        gsize len;

        g_assert_true(g_thread_self() == c->main_thread);
        hd_http_request_get_body(req, &len);
        g_assert_cmpuint(len, ==, 0); /* nothing of the body is read before the hook */
        if (hd_http_request_get_header(req, "Content-Length"))
                c->hooks_with_body++;
        if (hd_http_request_get_header(req, "X-Deny")) {
                hd_http_respond_error(req, HD_HTTP_FORBIDDEN, "forbidden", "denied");
                return FALSE;
        }
        return strcmp(hd_http_request_get_method(req), "POST") == 0;
}

static gboolean answer_later(gpointer data)
{
        HdHttpRequest *req = data;

        hd_http_respond_text(req, HD_HTTP_OK, "text/plain", "later");
        hd_http_request_resume(req);
        hd_http_request_unref(req);
        return G_SOURCE_REMOVE;
}

static void on_request(HdHttpRequest *req, gpointer user_data)
{
        Ctx *c = user_data;
        const char *path = hd_http_request_get_path(req);

        g_assert_true(g_thread_self() == c->main_thread);
        c->handled++;
        if (strcmp(path, "/wait") == 0) {
                hd_http_request_suspend(req);
                g_timeout_add(50, answer_later, hd_http_request_ref(req));
        } else if (strcmp(path, "/bytes") == 0) {
                hd_http_respond_bytes(req, HD_HTTP_OK, "application/json", c->bytes);
        } else if (g_str_has_prefix(path, "/segments/")) {
                g_autofree char *joined =
                    g_strjoinv("|", (char **)hd_http_request_get_segments(req));
                hd_http_respond_text(req, HD_HTTP_OK, "text/plain", joined);
        } else if (strcmp(path, "/echo") == 0) {
                gsize len;
                const char *body = hd_http_request_get_body(req, &len);
                hd_http_respond_take(req, HD_HTTP_OK, "text/plain", g_strndup(body, len));
        } else {
                hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found", "no %s", path);
        }
}

static void on_done(HdHttpRequest *req, gboolean aborted, gpointer user_data)
{
        Ctx *c = user_data;

        c->done++;
        c->aborted += aborted;
}

static void bytes_free(gpointer data)
{
        Ctx *c = data;

        c->bytes_freed = TRUE;
}

typedef struct {
        guint16 port;
        const char *request;
        GString *reply;
        gboolean finished;
} Client;

/* Sends the request, reads until the server closes (every request says Connection: close). */
static gpointer client_thread(gpointer data)
{
        Client *cl = data;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cl->port)};
        struct timeval tv = {10, 0};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char buf[4096];
        ssize_t n;

        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
        g_assert_cmpint(send(fd, cl->request, strlen(cl->request), MSG_NOSIGNAL), ==,
                        (ssize_t)strlen(cl->request));
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
                g_string_append_len(cl->reply, buf, n);
        close(fd);
        g_atomic_int_set(&cl->finished, TRUE);
        g_main_context_wakeup(NULL);
        return NULL;
}

/* One exchange while the main loop serves. */
static char *exchange(HdHttpServer *server, const char *request)
{
        const char *url = hd_http_server_get_url(server);
        Client cl = {.request = request, .reply = g_string_new(NULL)};
        GThread *t;

        cl.port = (guint16)atoi(strrchr(url, ':') + 1);
        t = g_thread_new("client", client_thread, &cl);
        while (!g_atomic_int_get(&cl.finished))
                g_main_context_iteration(NULL, TRUE);
        g_thread_join(t);
        return g_string_free(cl.reply, FALSE);
}

static void test_layer(void)
{
        Ctx c = {.main_thread = g_thread_self()};
        HdHttpConfig cfg = {
            .listen = "127.0.0.1:0",
            .server_name = "test",
            .max_body = 16,
            .headers = on_headers,
            .handler = on_request,
            .done = on_done,
            .user_data = &c,
        };
        g_autoptr(GError) error = NULL;
        HdHttpServer *server;
        char *reply;

        c.bytes = g_bytes_new_with_free_func("{\"cached\":true}", 15, bytes_free, &c);
        server = hd_http_server_new(&cfg, &error);
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(hd_http_server_get_url(server), "http://127.0.0.1:"));
        g_assert_true(hd_http_server_is_loopback(server));

        /* suspended, answered later from the main loop */
        reply = exchange(server, "GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 200 "));
        g_assert_true(g_str_has_suffix(reply, "\r\n\r\nlater"));
        g_free(reply);

        /* the cached bytes, referenced; HEAD: the same headers, no body */
        reply = exchange(server, "GET /bytes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        g_assert_true(g_str_has_suffix(reply, "\r\n\r\n{\"cached\":true}"));
        g_assert_nonnull(strstr(reply, "Content-Length: 15\r\n"));
        g_free(reply);
        reply = exchange(server, "HEAD /bytes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 200 "));
        g_assert_nonnull(strstr(reply, "Content-Length: 15\r\n"));
        g_assert_true(g_str_has_suffix(reply, "\r\n\r\n"));
        g_free(reply);
        g_bytes_unref(c.bytes);
        g_assert_true(c.bytes_freed); /* the layer kept no reference */

        /* a body within the limit is read; over it, 413 from the headers */
        reply = exchange(server, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 "Connection: close\r\n\r\nhello");
        g_assert_true(g_str_has_suffix(reply, "\r\n\r\nhello"));
        g_free(reply);
        reply = exchange(server, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n"
                                 "Connection: close\r\n\r\n01234567890123456");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 413 "));
        g_free(reply);
        /* a client that waits for 100 Continue gets the 413 instead */
        reply = exchange(server, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n"
                                 "Expect: 100-continue\r\nConnection: close\r\n\r\n");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 413 "));
        g_free(reply);
        /* and a refusal from the hook likewise */
        reply = exchange(server, "POST /echo HTTP/1.1\r\nHost: x\r\nX-Deny: 1\r\n"
                                 "Content-Length: 5\r\nExpect: 100-continue\r\n"
                                 "Connection: close\r\n\r\n");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 403 "));
        g_free(reply);
        /* the hook refused: the handler never ran, the body was not kept */
        reply = exchange(server, "POST /echo HTTP/1.1\r\nHost: x\r\nX-Deny: 1\r\n"
                                 "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 403 "));
        g_assert_nonnull(
            strstr(reply, "{\"error\":{\"code\":\"forbidden\",\"message\":\"denied\"}}"));
        g_free(reply);
        /* a GET with a body: 400 */
        reply = exchange(server, "GET /bytes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 "Connection: close\r\n\r\nhello");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 400 "));
        g_free(reply);

        /* segments: split where the client put a '/', then each decoded; a bad escape or a
         * control character in one is 400 */
        reply = exchange(server, "GET /segments/a%2Fb/c%25d%3A HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n");
        g_assert_true(g_str_has_suffix(reply, "\r\n\r\nsegments|a/b|c%d:"));
        g_free(reply);
        reply = exchange(server, "GET /segments/a%2 HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 400 "));
        g_free(reply);
        reply = exchange(server, "GET /segments/a%0Ab HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n");
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 400 "));
        g_free(reply);

        g_assert_cmpuint(c.handled, ==, 5); /* wait, bytes, HEAD bytes, echo, segments */
        g_assert_cmpuint(c.hooks_with_body, ==, 6);
        hd_http_server_free(server);
        g_assert_cmpuint(c.done, ==, 12);
        g_assert_cmpuint(c.aborted, ==, 0);
}

static void test_listen_parse(void)
{
        g_autofree char *host = NULL;
        guint16 port = 0;
        g_autoptr(GError) error = NULL;
        const char *bad[] = {"127.0.0.1", "[::1]8086",       "::1:8086",     "host:80",
                             "1.2.3:4",   "127.0.0.1:65536", "127.0.0.1:-1", ""};

        g_assert_true(hd_http_parse_listen("[::1]:8086", &host, &port, &error));
        g_assert_cmpstr(host, ==, "::1");
        g_assert_cmpuint(port, ==, 8086);
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *h = NULL;
                g_autoptr(GError) e = NULL;
                g_assert_false(hd_http_parse_listen(bad[i], &h, &port, &e));
                g_assert_error(e, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/http/layer", test_layer);
        g_test_add_func("/http/listen-parse", test_listen_parse);
        return g_test_run();
}
