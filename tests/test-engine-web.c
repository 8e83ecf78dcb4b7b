/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's portal side (src/engine/web.c, session.c): the static files (content types,
 * security headers, caching, no way out of --web-root), the login and its cookie, cookie
 * authentication, the CSRF rules of cookie calls, logout, revocation, and GET /v1/events?tail.
 * The engine runs as a child (--listen 127.0.0.1:0, a temporary database, a web root built by
 * each test); no agent is needed.
 *
 * With HOSTDEV_ENGINE_API_ANSWERS=DIR the answers of /v1 calls are written there as
 * tests/test-engine.c does, for tools/api/check-answers.mjs.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http-testlib.h"
#include "testlib.h"

typedef struct {
        GSubprocess *proc;
        char *url; /* without the trailing slash */
        char *log;
        char *dir;
} Engine;

typedef struct {
        guint status;
        char *body;
        SoupMessageHeaders *headers;
        JsonNode *json;
} Reply;

static SoupSession *session;

static void reply_clear(Reply *r)
{
        g_free(r->body);
        g_clear_pointer(&r->headers, soup_message_headers_unref);
        g_clear_pointer(&r->json, json_node_unref);
        memset(r, 0, sizeof(*r));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Reply, reply_clear)

static void die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char *file_text(const char *path)
{
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return g_strdup("");
        return text;
}

static void rm_rf(const char *dir)
{
        const char *argv[] = {"/bin/rm", "-rf", "--", dir, NULL};
        g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, NULL, NULL), ==, 0);
}

static char *engine_cli(const char *dir, const char *const *args)
{
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        char *out = NULL;

        g_ptr_array_add(argv, (gpointer)g_getenv("HOSTDEV_ENGINE"));
        g_ptr_array_add(argv, (gpointer) "--db");
        g_ptr_array_add(argv, db);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        g_assert_cmpint(hd_test_run_guarded((const char *const *)argv->pdata, NULL, 60, &out, NULL),
                        ==, 0);
        return g_strstrip(out);
}

static char *token_create(const char *dir, const char *name, const char *role)
{
        const char *args[] = {"token", "create", name, "--role", role, NULL};
        char *t = engine_cli(dir, args);

        g_assert_cmpuint(strlen(t), ==, 64);
        return t;
}

/* hostdev-engine on a fresh database in @dir serving @web_root; @tls: a self-signed
 * certificate made here. */
static Engine *engine_start(const char *dir, const char *web_root, gboolean tls)
{
        g_autoptr(GSubprocessLauncher) l =
            g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autofree char *cert = g_build_filename(dir, "cert.pem", NULL);
        g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        Engine *e = g_new0(Engine, 1);

        if (tls) {
                const char *req[] = {"/usr/bin/openssl",
                                     "req",
                                     "-x509",
                                     "-newkey",
                                     "rsa:2048",
                                     "-nodes",
                                     "-keyout",
                                     key,
                                     "-out",
                                     cert,
                                     "-days",
                                     "1",
                                     "-subj",
                                     "/CN=localhost",
                                     NULL};
                g_assert_cmpint(hd_test_run_guarded(req, NULL, 60, NULL, NULL), ==, 0);
        }
        e->dir = g_strdup(dir);
        e->log = g_build_filename(dir, "engine.log", NULL);
        g_ptr_array_add(argv, (gpointer)g_getenv("HOSTDEV_ENGINE"));
        g_ptr_array_add(argv, (gpointer) "--db");
        g_ptr_array_add(argv, db);
        g_ptr_array_add(argv, (gpointer) "--listen");
        g_ptr_array_add(argv, (gpointer) "127.0.0.1:0");
        g_ptr_array_add(argv, (gpointer) "--web-root");
        g_ptr_array_add(argv, (gpointer)web_root);
        if (tls) {
                g_ptr_array_add(argv, (gpointer) "--tls-cert");
                g_ptr_array_add(argv, cert);
                g_ptr_array_add(argv, (gpointer) "--tls-key");
                g_ptr_array_add(argv, key);
        }
        g_ptr_array_add(argv, NULL);
        g_assert_nonnull(argv->pdata[0]);
        g_subprocess_launcher_set_stderr_file_path(l, e->log);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        e->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(e->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!line || !g_str_has_prefix(line, "listening ")) {
                g_autofree char *text = file_text(e->log);
                g_error("the engine did not start: %s", text);
        }
        e->url = g_strdup(line + strlen("listening "));
        if (g_str_has_suffix(e->url, "/"))
                e->url[strlen(e->url) - 1] = '\0';
        return e;
}

static void engine_stop(Engine *e)
{
        g_autoptr(GError) error = NULL;

        g_subprocess_send_signal(e->proc, SIGTERM);
        g_assert_true(g_subprocess_wait(e->proc, NULL, &error));
        g_assert_no_error(error);
        if (!g_subprocess_get_if_exited(e->proc) || g_subprocess_get_exit_status(e->proc) != 0) {
                g_autofree char *text = file_text(e->log);
                g_error("the engine did not exit 0 on SIGTERM: %s", text);
        }
        g_object_unref(e->proc);
        g_free(e->url);
        g_free(e->log);
        rm_rf(e->dir);
        g_free(e->dir);
        g_free(e);
}

/* As tests/test-engine.c: every /v1 answer for tools/api/check-answers.mjs. */
static void record_answer(const char *method, const char *path, guint status,
                          const char *content_type, const char *body)
{
        if (g_str_has_prefix(path, "/v1/"))
                hd_ht_record_answer("HOSTDEV_ENGINE_API_ANSWERS", "answer-web", method, path,
                                    status, content_type, body, FALSE);
}

static gboolean accept_any_cert(SoupMessage *msg, GTlsCertificate *cert,
                                GTlsCertificateFlags errors, gpointer data)
{
        return TRUE; /* the test's own self-signed certificate */
}

/* One request. @hdrs: "Name", "value", ..., NULL. */
static Reply call_h(Engine *e, const char *method, const char *path, const char *body,
                    const char *const *hdrs)
{
        g_autofree char *uri = g_strconcat(e->url, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        Reply r = {0};

        g_assert_nonnull(msg);
        g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_any_cert), NULL);
        for (const char *const *h = hdrs; h && *h; h += 2)
                soup_message_headers_replace(soup_message_get_request_headers(msg), h[0], h[1]);
        r.body = hd_ht_send(session, msg, NULL, body);
        r.status = soup_message_get_status(msg);
        r.headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
        if (*r.body)
                r.json = json_from_string(r.body, NULL);
        record_answer(method, path, r.status,
                      soup_message_headers_get_content_type(r.headers, NULL), r.body);
        return r;
}

static const char *header(const Reply *r, const char *name)
{
        return soup_message_headers_get_one(r->headers, name);
}

static JsonObject *obj(const Reply *r)
{
        if (!r->json || !JSON_NODE_HOLDS_OBJECT(r->json))
                g_error("not a JSON object (%u): %s", r->status, r->body);
        return json_node_get_object(r->json);
}

/* The status, the error code and a message containing @words. */
static void assert_error(const Reply *r, guint status, const char *code, const char *words)
{
        JsonObject *err;
        const char *message;

        if (r->status != status)
                g_error("expected %u %s, got %u: %s", status, code, r->status, r->body);
        err = json_object_get_object_member(obj(r), "error");
        g_assert_nonnull(err);
        g_assert_cmpstr(json_object_get_string_member(err, "code"), ==, code);
        message = json_object_get_string_member(err, "message");
        if (!strstr(message, words))
                g_error("the message \"%s\" does not say \"%s\"", message, words);
}

/* A raw request line sent as it is (libsoup would normalize the path): the status code. */
static guint raw_get(Engine *e, const char *target)
{
        g_autoptr(GSocketClient) c = g_socket_client_new();
        g_autoptr(GSocketConnection) conn = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *req = NULL;
        g_autofree char *host = g_strdup(e->url + strlen("http://"));
        char buf[256] = {0};
        gsize got = 0;
        guint status = 0;

        conn = g_socket_client_connect_to_host(c, host, 0, NULL, &error);
        g_assert_no_error(error);
        req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target,
                              host);
        g_assert_true(g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
                                                req, strlen(req), NULL, NULL, &error));
        g_assert_true(g_input_stream_read_all(g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf,
                                              sizeof(buf) - 1, &got, NULL, &error));
        g_assert_cmpint(sscanf(buf, "HTTP/1.1 %u", &status), ==, 1);
        return status;
}

static char *web_root_new(const char *dir)
{
        char *root = g_build_filename(dir, "www", NULL);
        g_autofree char *app = g_build_filename(root, "app", NULL);
        g_autofree char *fifo = g_build_filename(root, "fifo.txt", NULL);
        g_autofree char *link_out = g_build_filename(root, "out.txt", NULL);
        g_autofree char *link_abs = g_build_filename(root, "abs.txt", NULL);
        g_autofree char *secret = g_build_filename(dir, "secret.txt", NULL);
        struct {
                const char *name, *text;
        } files[] = {
            {"index.html", "<!doctype html><title>portal</title>"},
            {"app/main.js", "export const x = 1;\n"},
            {"app/portal.css", "body { margin: 0; }\n"},
            {"app/icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"},
            {"app/font.woff2", "wOF2"},
            {"app/data.bin", "binary"},
            {".hidden.txt", "hidden"},
        };

        g_assert_cmpint(g_mkdir_with_parents(app, 0755), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *p = g_build_filename(root, files[i].name, NULL);
                g_assert_true(g_file_set_contents(p, files[i].text, -1, NULL));
        }
        g_assert_true(g_file_set_contents(secret, "secret", -1, NULL));
        g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
        g_assert_cmpint(symlink("../secret.txt", link_out), ==, 0);
        g_assert_cmpint(symlink(secret, link_abs), ==, 0);
        return root;
}

static char *tmpdir(void)
{
        g_autoptr(GError) error = NULL;
        char *d = g_dir_make_tmp("hostdev-web-XXXXXX", &error);
        g_assert_no_error(error);
        return d;
}

/* ---- static files ---- */

static void test_files(void)
{
        g_autofree char *dir = tmpdir();
        g_autofree char *root = web_root_new(dir);
        Engine *e = engine_start(dir, root, FALSE);
        const char *csp;

        {
                g_auto(Reply) r = call_h(e, "GET", "/", NULL, NULL);
                g_auto(Reply) again = {0};
                const char *etag;
                const char *inm[3] = {"If-None-Match", NULL, NULL};

                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(r.body, ==, "<!doctype html><title>portal</title>");
                g_assert_cmpstr(header(&r, "Content-Type"), ==, "text/html; charset=utf-8");
                g_assert_cmpstr(header(&r, "X-Content-Type-Options"), ==, "nosniff");
                g_assert_cmpstr(header(&r, "X-Frame-Options"), ==, "DENY");
                g_assert_cmpstr(header(&r, "Cache-Control"), ==, "no-cache");
                csp = header(&r, "Content-Security-Policy");
                g_assert_nonnull(csp);
                g_assert_nonnull(strstr(csp, "default-src 'self'"));
                g_assert_nonnull(strstr(csp, "script-src 'self';"));
                g_assert_nonnull(strstr(csp, "style-src 'self';"));
                g_assert_nonnull(strstr(csp, "frame-ancestors 'none'"));
                g_assert_null(strstr(csp, "unsafe"));
                /* caching: the same ETag answers 304 without a body */
                etag = header(&r, "ETag");
                g_assert_nonnull(etag);
                inm[1] = etag;
                again = call_h(e, "GET", "/index.html", NULL, inm);
                g_assert_cmpuint(again.status, ==, 304);
                g_assert_cmpstr(again.body, ==, "");
        }
        {
                struct {
                        const char *path, *type;
                } types[] = {
                    {"/app/main.js", "text/javascript; charset=utf-8"},
                    {"/app/portal.css", "text/css; charset=utf-8"},
                    {"/app/icon.svg", "image/svg+xml"},
                    {"/app/font.woff2", "font/woff2"},
                };
                for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
                        g_auto(Reply) r = call_h(e, "GET", types[i].path, NULL, NULL);
                        g_assert_cmpuint(r.status, ==, 200);
                        g_assert_cmpstr(header(&r, "Content-Type"), ==, types[i].type);
                        g_assert_nonnull(header(&r, "Content-Security-Policy"));
                }
        }
        /* what is not a servable file below the root is 404, each for its own reason */
        {
                const char *refused[] = {
                    "/app/data.bin", /* an extension without a known type */
                    "/.hidden.txt",  /* hidden */
                    "/fifo.txt",     /* not a regular file (and never blocks) */
                    "/out.txt",      /* a symlink climbing out: resolved inside the root */
                    "/abs.txt",      /* an absolute symlink: resolved inside the root */
                    "/app",          /* a directory */
                    "/app/",         /* an empty segment */
                    "/missing.js",   /* absent */
                };
                for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
                        g_auto(Reply) r = call_h(e, "GET", refused[i], NULL, NULL);
                        assert_error(&r, 404, "not-found", "no such file");
                        g_assert_null(strstr(r.body, "secret"));
                }
        }
        /* traversal in the request line itself, plain and percent-encoded */
        g_assert_cmpuint(raw_get(e, "/../secret.txt"), ==, 404);
        g_assert_cmpuint(raw_get(e, "/app/../../secret.txt"), ==, 404);
        g_assert_cmpuint(raw_get(e, "/%2e%2e/secret.txt"), ==, 404);
        g_assert_cmpuint(raw_get(e, "/app/%2E%2E/index.html"), ==, 404);
        g_assert_cmpuint(raw_get(e, "/index.html"), ==, 200);
        {
                g_auto(Reply) r = call_h(e, "POST", "/index.html", "{}", NULL);
                assert_error(&r, 405, "method-not-allowed", "use GET");
                g_assert_cmpstr(header(&r, "Allow"), ==, "GET, HEAD");
        }
        {
                g_auto(Reply) r = call_h(e, "GET", "/index.html?x=1", NULL, NULL);
                assert_error(&r, 400, "invalid-argument", "no query parameters");
        }
        /* API answers: never cached, never sniffed */
        {
                g_auto(Reply) r = call_h(e, "GET", "/v1/hosts", NULL, NULL);
                assert_error(&r, 401, "unauthorized", "Bearer");
                g_assert_cmpstr(header(&r, "Cache-Control"), ==, "no-store");
                g_assert_cmpstr(header(&r, "X-Content-Type-Options"), ==, "nosniff");
        }
        engine_stop(e);
}

static void test_missing_root(void)
{
        g_autofree char *dir = tmpdir();
        g_autofree char *root = g_build_filename(dir, "nowhere", NULL);
        Engine *e = engine_start(dir, root, FALSE);
        g_auto(Reply) r = call_h(e, "GET", "/", NULL, NULL);
        g_auto(Reply) h = call_h(e, "GET", "/healthz", NULL, NULL);

        assert_error(&r, 404, "not-found", "not installed in");
        g_assert_nonnull(strstr(r.body, "nowhere"));
        g_assert_cmpuint(h.status, ==, 200); /* the API serves on */
        engine_stop(e);
}

/* ---- sessions ---- */

/* "hostdev_session=ID" from a login's Set-Cookie. */
static char *cookie_of(const Reply *r)
{
        const char *sc = header(r, "Set-Cookie");
        const char *semi;

        g_assert_nonnull(sc);
        g_assert_true(g_str_has_prefix(sc, "hostdev_session="));
        semi = strchr(sc, ';');
        g_assert_nonnull(semi);
        return g_strndup(sc, (gsize)(semi - sc));
}

static char *login(Engine *e, const char *token)
{
        g_autofree char *body = g_strdup_printf("{\"token\": \"%s\"}", token);
        const char *hdrs[] = {"X-Hostdev-CSRF", "1", NULL};
        g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, hdrs);

        if (r.status != 200)
                g_error("login: %u %s", r.status, r.body);
        return cookie_of(&r);
}

static void test_login(void)
{
        g_autofree char *dir = tmpdir();
        g_autofree char *root = web_root_new(dir);
        g_autofree char *admin = token_create(dir, "alice", "admin");
        g_autofree char *body = g_strdup_printf("{\"token\": \"%s\"}", admin);
        Engine *e = engine_start(dir, root, FALSE);
        g_autofree char *origin = g_strconcat(e->url, NULL);
        const char *csrf[] = {"X-Hostdev-CSRF", "1", NULL};

        /* refusals: each its own status, code and words */
        {
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, NULL);
                assert_error(&r, 403, "forbidden", "X-Hostdev-CSRF: 1");
                g_assert_null(header(&r, "Set-Cookie"));
        }
        {
                const char *h[] = {"X-Hostdev-CSRF", "yes", NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, h);
                assert_error(&r, 403, "forbidden", "X-Hostdev-CSRF: 1");
        }
        {
                const char *h[] = {"X-Hostdev-CSRF", "1", "Origin", "http://evil.example", NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, h);
                assert_error(&r, 403, "forbidden", "another origin (http://evil.example)");
                g_assert_null(header(&r, "Set-Cookie"));
        }
        {
                const char *h[] = {"X-Hostdev-CSRF", "1", "Origin", "null", NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, h);
                assert_error(&r, 403, "forbidden", "another origin");
        }
        {
                g_auto(Reply) r = call_h(e, "POST", "/v1/session",
                                         "{\"token\": \"0000000000000000000000000000000000000000"
                                         "000000000000000000000000\"}",
                                         csrf);
                assert_error(&r, 401, "unauthorized", "not valid for this engine");
                g_assert_null(header(&r, "Set-Cookie"));
        }
        {
                const char *bad[] = {"{\"token\": 5}", "{\"token\": \"x\", \"role\": \"admin\"}",
                                     "{}", "[]", "{\"token\": null}"};
                for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                        g_auto(Reply) r = call_h(e, "POST", "/v1/session", bad[i], csrf);
                        g_assert_cmpuint(r.status, ==, 400);
                        assert_error(&r, 400, "invalid-argument", "");
                }
        }
        /* the login: the cookie's attributes, then who the cookie is */
        {
                const char *h[] = {"X-Hostdev-CSRF", "1", "Origin", origin, NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, h);
                const char *sc = header(&r, "Set-Cookie");
                g_autofree char *cookie = NULL;
                const char *ch[3] = {"Cookie", NULL, NULL};

                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(obj(&r), "name"), ==, "alice");
                g_assert_cmpstr(json_object_get_string_member(obj(&r), "role"), ==, "admin");
                g_assert_cmpstr(json_object_get_string_member(obj(&r), "via"), ==, "session");
                g_assert_nonnull(strstr(sc, "; HttpOnly"));
                g_assert_nonnull(strstr(sc, "; SameSite=Strict"));
                g_assert_nonnull(strstr(sc, "; Path=/"));
                g_assert_nonnull(strstr(sc, "; Max-Age=28800"));
                g_assert_null(strstr(sc, "Secure"));  /* plain HTTP: no Secure */
                g_assert_null(strstr(r.body, admin)); /* the token never comes back */
                cookie = cookie_of(&r);
                g_assert_cmpuint(strlen(cookie), ==, strlen("hostdev_session=") + 43);
                ch[1] = cookie;
                {
                        g_auto(Reply) w = call_h(e, "GET", "/v1/session", NULL, ch);
                        g_assert_cmpuint(w.status, ==, 200);
                        g_assert_cmpstr(json_object_get_string_member(obj(&w), "name"), ==,
                                        "alice");
                        g_assert_cmpstr(json_object_get_string_member(obj(&w), "via"), ==,
                                        "session");
                        g_assert_nonnull(json_object_get_string_member(obj(&w), "expires_at"));
                }
        }
        /* a bearer caller: via bearer, and it cannot log out a session */
        {
                g_autofree char *auth = g_strconcat("Bearer ", admin, NULL);
                const char *h[] = {"Authorization", auth, NULL};
                g_auto(Reply) w = call_h(e, "GET", "/v1/session", NULL, h);
                g_auto(Reply) d = call_h(e, "DELETE", "/v1/session", NULL, h);
                g_assert_cmpuint(w.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(obj(&w), "via"), ==, "bearer");
                g_assert_true(json_object_get_null_member(obj(&w), "expires_at"));
                assert_error(&d, 400, "invalid-argument", "bearer token");
        }
        {
                g_auto(Reply) r = call_h(e, "GET", "/v1/session", NULL, NULL);
                assert_error(&r, 401, "unauthorized", "session");
        }
        {
                g_autofree char *auth = g_strconcat("Bearer ", admin, NULL);
                const char *h[] = {"Authorization", auth, NULL};
                g_auto(Reply) r = call_h(e, "PUT", "/v1/session", NULL, h);
                assert_error(&r, 405, "method-not-allowed", "use GET, POST or DELETE");
        }
        engine_stop(e);
}

static void test_cookie_calls(void)
{
        g_autofree char *dir = tmpdir();
        g_autofree char *root = web_root_new(dir);
        g_autofree char *admin = token_create(dir, "alice", "admin");
        g_autofree char *viewer = token_create(dir, "victor", "viewer");
        Engine *e = engine_start(dir, root, FALSE);
        g_autofree char *ca = login(e, admin);
        g_autofree char *cv = login(e, viewer);
        g_autofree char *origin = g_strdup(e->url);
        const char *host = "{\"name\": \"h1\", \"agent_url\": \"http://127.0.0.1:1\", "
                           "\"agent_token\": \"agent-token-0123456789abcdef\"}";

        /* reads with the cookie alone */
        {
                const char *h[] = {"Cookie", ca, NULL};
                g_auto(Reply) r = call_h(e, "GET", "/v1/hosts", NULL, h);
                g_assert_cmpuint(r.status, ==, 200);
        }
        /* a change with the cookie: refused without the CSRF header or from another origin */
        {
                const char *h[] = {"Cookie", ca, NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/hosts", host, h);
                assert_error(&r, 403, "forbidden", "X-Hostdev-CSRF: 1");
        }
        {
                const char *h[] = {
                    "Cookie", ca, "X-Hostdev-CSRF", "1", "Origin", "http://127.0.0.1:1", NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/hosts", host, h);
                assert_error(&r, 403, "forbidden", "another origin");
        }
        {
                const char *h[] = {"Cookie", ca, "X-Hostdev-CSRF", "1", "Origin", origin, NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/hosts", host, h);
                g_assert_cmpuint(r.status, ==, 201);
        }
        {
                /* without an Origin (not every browser sends one on same-origin calls) */
                const char *h[] = {"Cookie", ca, "X-Hostdev-CSRF", "1", NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/hosts",
                                         "{\"name\": \"h2\", \"agent_url\": "
                                         "\"http://127.0.0.1:1\", \"agent_token\": "
                                         "\"agent-token-0123456789abcdef\"}",
                                         h);
                g_assert_cmpuint(r.status, ==, 201);
        }
        /* a viewer's cookie: reads yes, changes no */
        {
                const char *h[] = {"Cookie", cv, "X-Hostdev-CSRF", "1", NULL};
                g_auto(Reply) r = call_h(e, "GET", "/v1/hosts", NULL, h);
                g_auto(Reply) p = call_h(e, "POST", "/v1/hosts", host, h);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpint(json_object_get_int_member(obj(&r), "total"), ==, 2);
                assert_error(&p, 403, "forbidden", "viewer role");
        }
        /* logout (a viewer may): 204, the cookie cleared, the session gone */
        {
                const char *h[] = {"Cookie", cv, NULL};
                g_auto(Reply) r = call_h(e, "DELETE", "/v1/session", NULL, h);
                assert_error(&r, 403, "forbidden", "X-Hostdev-CSRF: 1");
        }
        {
                const char *h[] = {"Cookie", cv, "X-Hostdev-CSRF", "1", NULL};
                g_auto(Reply) r = call_h(e, "DELETE", "/v1/session", NULL, h);
                g_auto(Reply) after = call_h(e, "GET", "/v1/hosts", NULL, h);
                g_assert_cmpuint(r.status, ==, 204);
                g_assert_true(g_str_has_prefix(header(&r, "Set-Cookie"), "hostdev_session=;"));
                g_assert_nonnull(strstr(header(&r, "Set-Cookie"), "Max-Age=0"));
                assert_error(&after, 401, "unauthorized", "session has ended");
        }
        /* a revoked token's sessions end with it */
        {
                const char *args[] = {"token", "revoke", "alice", NULL};
                g_free(engine_cli(dir, args));
                {
                        const char *h[] = {"Cookie", ca, NULL};
                        g_auto(Reply) r = call_h(e, "GET", "/v1/hosts", NULL, h);
                        assert_error(&r, 401, "unauthorized", "session has ended");
                }
        }
        /* a forged or malformed cookie is nobody */
        {
                const char *forged[] = {
                    "hostdev_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                    "hostdev_session=short",
                    "hostdev_session=",
                    "other=1; hostdev_session=../../../../etc/passwd",
                };
                for (guint i = 0; i < G_N_ELEMENTS(forged); i++) {
                        const char *h[] = {"Cookie", forged[i], NULL};
                        g_auto(Reply) r = call_h(e, "GET", "/v1/hosts", NULL, h);
                        assert_error(&r, 401, "unauthorized", "session has ended");
                }
        }
        /* a bearer token needs no CSRF header (a browser never adds one by itself) */
        {
                g_autofree char *auth = g_strconcat("Bearer ", viewer, NULL);
                const char *h[] = {"Authorization", auth, "Cookie", cv, NULL};
                g_auto(Reply) r = call_h(e, "GET", "/v1/hosts", NULL, h);
                g_assert_cmpuint(r.status, ==, 200);
        }
        engine_stop(e);
}

static void test_tls_cookie(void)
{
        g_autofree char *dir = tmpdir();
        g_autofree char *root = web_root_new(dir);
        g_autofree char *admin = token_create(dir, "alice", "admin");
        g_autofree char *body = g_strdup_printf("{\"token\": \"%s\"}", admin);
        Engine *e = engine_start(dir, root, TRUE);
        g_autofree char *plain_origin = NULL;

        g_assert_true(g_str_has_prefix(e->url, "https://"));
        plain_origin = g_strconcat("http://", e->url + strlen("https://"), NULL);
        {
                const char *h[] = {"X-Hostdev-CSRF", "1", "Origin", plain_origin, NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, h);
                assert_error(&r, 403, "forbidden", "another origin");
        }
        {
                const char *h[] = {"X-Hostdev-CSRF", "1", "Origin", e->url, NULL};
                g_auto(Reply) r = call_h(e, "POST", "/v1/session", body, h);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_nonnull(strstr(header(&r, "Set-Cookie"), "; Secure"));
        }
        engine_stop(e);
}

/* GET /v1/events?tail=N: the newest N, for the portal's first page. */
static void test_events_tail(void)
{
        g_autofree char *dir = tmpdir();
        g_autofree char *root = web_root_new(dir);
        g_autofree char *admin = token_create(dir, "alice", "admin");
        g_autofree char *auth = g_strconcat("Bearer ", admin, NULL);
        Engine *e = engine_start(dir, root, FALSE);
        const char *h[] = {"Authorization", auth, NULL};
        gint64 last;

        /* events nothing else writes meanwhile (no host: no sync) */
        for (guint i = 0; i < 3; i++)
                g_free(login(e, admin));
        {
                g_auto(Reply) all = call_h(e, "GET", "/v1/events?limit=1000", NULL, h);
                g_auto(Reply) t = call_h(e, "GET", "/v1/events?tail=2", NULL, h);
                JsonArray *ev = json_object_get_array_member(obj(&t), "events");

                g_assert_cmpuint(t.status, ==, 200);
                last = json_object_get_int_member(obj(&all), "last_id");
                g_assert_cmpuint(json_array_get_length(ev), ==, 2);
                g_assert_cmpint(json_object_get_int_member(obj(&t), "last_id"), ==, last);
                g_assert_cmpint(
                    json_object_get_int_member(json_array_get_object_element(ev, 0), "id"), ==,
                    last - 1);
        }
        {
                /* with a filter: the newest matching ones, and last_id the log's last, so that
                 * a filtered follow-up starts after it */
                g_auto(Reply) f = call_h(e, "GET", "/v1/events?tail=2&action=session.login",
                                         NULL, h);
                g_auto(Reply) none = call_h(e, "GET", "/v1/events?tail=5&action=no.such", NULL, h);
                JsonArray *ev = json_object_get_array_member(obj(&f), "events");

                g_assert_cmpuint(f.status, ==, 200);
                g_assert_cmpuint(json_array_get_length(ev), ==, 2);
                for (guint i = 0; i < 2; i++)
                        g_assert_cmpstr(json_object_get_string_member(
                                            json_array_get_object_element(ev, i), "action"),
                                        ==, "session.login");
                g_assert_cmpint(
                    json_object_get_int_member(json_array_get_object_element(ev, 0), "id"), <,
                    json_object_get_int_member(json_array_get_object_element(ev, 1), "id"));
                g_assert_cmpint(json_object_get_int_member(obj(&f), "last_id"), >=, last);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(obj(&none), "events")), ==, 0);
                g_assert_cmpint(json_object_get_int_member(obj(&none), "last_id"), >=, last);
        }
        {
                g_auto(Reply) r = call_h(e, "GET", "/v1/events?tail=2&since=1", NULL, h);
                assert_error(&r, 400, "invalid-argument", "no since or wait");
        }
        {
                g_auto(Reply) r = call_h(e, "GET", "/v1/events?tail=0", NULL, h);
                assert_error(&r, 400, "invalid-argument", "tail=0");
        }
        engine_stop(e);
}

int main(int argc, char **argv)
{
        int rc;

        g_test_init(&argc, &argv, NULL);
        session = soup_session_new_with_options("timeout", 30, NULL);
        g_test_add_func("/engine-web/files", test_files);
        g_test_add_func("/engine-web/missing-root", test_missing_root);
        g_test_add_func("/engine-web/login", test_login);
        g_test_add_func("/engine-web/cookie-calls", test_cookie_calls);
        g_test_add_func("/engine-web/tls-cookie", test_tls_cookie);
        g_test_add_func("/engine-web/events-tail", test_events_tail);
        rc = g_test_run();
        g_object_unref(session);
        return rc;
}
