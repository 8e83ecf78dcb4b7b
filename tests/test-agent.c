/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd against a fixture: the daemon runs as a child process (--root FIXTURE --backend sim
 * --listen 127.0.0.1:0 --libvirt-uri test:///default), a SoupSession talks to it. Every daemon
 * dies with the test (PR_SET_PDEATHSIG) and is stopped with SIGTERM at the end of each test,
 * which must make it exit 0.
 *
 * With HOSTDEV_API_ANSWERS=DIR every answer request_full() gets is also written to
 * DIR/answer-PID-N.json ({test, method, path, status, content_type, body}) for
 * tools/api/check-answers.mjs, which checks it against docs/api/openapi.yaml (scripts/test).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http-testlib.h"
#include "json-strict.h"
#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define USB "0000:00:14.0"

typedef struct {
        HdTestFixture *fx;
        GSubprocess *proc;
        char *url; /* "http://127.0.0.1:PORT" without the trailing slash */
        char *token;
        char *ro_token;
        char *log; /* the daemon's stderr */
        SoupSession *session;
} Daemon;

typedef struct {
        guint status;
        char *body;
        char *etag;
        char *content_type;
} Reply;

static void reply_clear(Reply *r)
{
        g_free(r->body);
        g_free(r->etag);
        g_free(r->content_type);
        memset(r, 0, sizeof(*r));
}

static void die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char *read_token(const char *path)
{
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        return g_strstrip(text);
}

static Daemon *daemon_start_full(HdTestFixture *fx, const char *const *env,
                                 const char *const *extra_args, gboolean expect_ok)
{
        const char *bin = g_getenv("HOSTDEVD");
        g_autoptr(GSubprocessLauncher) l = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        Daemon *d = g_new0(Daemon, 1);

        g_assert_nonnull(bin);
        d->fx = fx;
        d->log = g_build_filename(fx->root, "hostdevd.log", NULL);
        (void)g_unlink(d->log);
        l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_subprocess_launcher_set_stderr_file_path(l, d->log);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        for (const char *const *e = env; e && *e; e++) {
                g_auto(GStrv) kv = g_strsplit(*e, "=", 2);
                g_subprocess_launcher_setenv(l, kv[0], kv[1], TRUE);
        }
        g_ptr_array_add(argv, (gpointer)bin);
        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        g_ptr_array_add(argv, (gpointer) "--backend");
        g_ptr_array_add(argv, (gpointer) "sim");
        g_ptr_array_add(argv, (gpointer) "--libvirt-uri");
        g_ptr_array_add(argv, (gpointer) "test:///default");
        g_ptr_array_add(argv, (gpointer) "--stop-timeout");
        g_ptr_array_add(argv, (gpointer) "5");
        g_ptr_array_add(argv, (gpointer) "-v");
        if (!extra_args || (!g_strv_contains(extra_args, "--listen") &&
                            !g_strv_contains(extra_args, "--config"))) {
                g_ptr_array_add(argv, (gpointer) "--listen");
                g_ptr_array_add(argv, (gpointer) "127.0.0.1:0");
        }
        for (const char *const *a = extra_args; a && *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        d->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(d->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!expect_ok) {
                g_assert_null(line);
                return d;
        }
        if (!line) {
                g_autofree char *log = NULL;
                g_file_get_contents(d->log, &log, NULL, NULL);
                g_error("hostdevd did not start: %s", log);
        }
        g_assert_true(g_str_has_prefix(line, "listening "));
        d->url = g_strdup(line + strlen("listening "));
        if (g_str_has_suffix(d->url, "/"))
                d->url[strlen(d->url) - 1] = '\0';
        {
                g_autofree char *t =
                    g_build_filename(fx->root, "var/lib/hostdev/agent.token", NULL);
                g_autofree char *rt =
                    g_build_filename(fx->root, "var/lib/hostdev/agent-ro.token", NULL);
                if (g_file_test(t, G_FILE_TEST_EXISTS)) {
                        d->token = read_token(t);
                        d->ro_token = read_token(rt);
                }
        }
        d->session = soup_session_new_with_options("timeout", 30, NULL);
        return d;
}

static Daemon *daemon_start(HdTestFixture *fx, const char *const *env)
{
        return daemon_start_full(fx, env, NULL, TRUE);
}

static gboolean timeout_cb(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

static void wait_done(GObject *src, GAsyncResult *res, gpointer data)
{
        g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
        *(gboolean *)data = TRUE;
}

/* Wait up to @seconds for the process to exit; TRUE when it did. */
static gboolean wait_exit(GSubprocess *proc, guint seconds)
{
        gboolean done = FALSE, timed_out = FALSE;
        guint id = g_timeout_add_seconds(seconds, timeout_cb, &timed_out);

        g_subprocess_wait_async(proc, NULL, wait_done, &done);
        while (!done && !timed_out)
                g_main_context_iteration(NULL, TRUE);
        if (!timed_out)
                g_source_remove(id);
        while (!done) /* let the async wait finish before returning */
                if (!g_main_context_iteration(NULL, FALSE))
                        break;
        return done;
}

static char *daemon_log(Daemon *d)
{
        char *log = NULL;

        g_file_get_contents(d->log, &log, NULL, NULL);
        return log ? log : g_strdup("");
}

/* SIGTERM; the daemon must exit 0 within 10 s. */
static void daemon_stop(Daemon *d)
{
        if (d->proc) {
                g_subprocess_send_signal(d->proc, SIGTERM);
                if (!wait_exit(d->proc, 10)) {
                        g_subprocess_force_exit(d->proc);
                        wait_exit(d->proc, 5);
                        g_error("hostdevd did not stop on SIGTERM");
                }
                if (!g_subprocess_get_if_exited(d->proc) ||
                    g_subprocess_get_exit_status(d->proc) != 0) {
                        g_autofree char *log = daemon_log(d);
                        g_error("hostdevd did not exit 0 on SIGTERM (exited %d, status %d, "
                                "signal %d): %s",
                                g_subprocess_get_if_exited(d->proc),
                                g_subprocess_get_if_exited(d->proc)
                                    ? g_subprocess_get_exit_status(d->proc)
                                    : -1,
                                g_subprocess_get_if_signaled(d->proc)
                                    ? g_subprocess_get_term_sig(d->proc)
                                    : -1,
                                log);
                }
        }
        g_clear_object(&d->proc);
        g_clear_object(&d->session);
        g_free(d->url);
        g_free(d->token);
        g_free(d->ro_token);
        g_free(d->log);
        g_free(d);
}

/* With HOSTDEV_API_ANSWERS set, write the answer to a file there (see the top). */
static void record_answer(const char *method, const char *path, const Reply *r)
{
        hd_ht_record_answer("HOSTDEV_API_ANSWERS", "answer", method, path, r->status,
                            r->content_type, r->body, TRUE);
}

/* One request; @token NULL sends none. @if_none_match may be NULL. */
static Reply request_full(Daemon *d, const char *method, const char *path, const char *body,
                          const char *token, const char *if_none_match)
{
        g_autofree char *uri = g_strconcat(d->url, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        Reply r = {0};

        g_assert_nonnull(msg);
        if (if_none_match)
                soup_message_headers_replace(soup_message_get_request_headers(msg),
                                             "If-None-Match", if_none_match);
        r.body = hd_ht_send(d->session, msg, token, body);
        r.status = soup_message_get_status(msg);
        r.etag =
            g_strdup(soup_message_headers_get_one(soup_message_get_response_headers(msg), "ETag"));
        r.content_type = g_strdup(
            soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL));
        record_answer(method, path, &r);
        return r;
}

static Reply request(Daemon *d, const char *method, const char *path, const char *body)
{
        return request_full(d, method, path, body, d->token, NULL);
}

static JsonObject *body_object(const Reply *r, JsonNode **keep)
{
        *keep = hd_test_parse_json(r->body);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(*keep));
        return json_node_get_object(*keep);
}

static void assert_error(const Reply *r, guint status, const char *code)
{
        g_autoptr(JsonNode) root = NULL;
        JsonObject *err;

        if (r->status != status)
                g_error("expected %u, got %u: %s", status, r->status, r->body);
        err = json_object_get_object_member(body_object(r, &root), "error");
        g_assert_nonnull(err);
        g_assert_cmpstr(json_object_get_string_member(err, "code"), ==, code);
        g_assert_nonnull(json_object_get_string_member(err, "message"));
}

/* @method @path with @body (NULL: none) must answer 200. */
static void request_ok(Daemon *d, const char *method, const char *path, const char *body)
{
        Reply r = request(d, method, path, body);

        if (r.status != 200)
                g_error("%s %s: expected 200, got %u: %s", method, path, r.status, r.body);
        reply_clear(&r);
}

/* ... and its answer must hold @want. */
static void request_ok_has(Daemon *d, const char *method, const char *path, const char *body,
                           const char *want)
{
        Reply r = request(d, method, path, body);

        if (r.status != 200)
                g_error("%s %s: expected 200, got %u: %s", method, path, r.status, r.body);
        if (!strstr(r.body, want))
                g_error("%s %s: wanted '%s' in: %s", method, path, want, r.body);
        reply_clear(&r);
}

/* @method @path with @body must be refused with @status and the error @code. */
static void request_error(Daemon *d, const char *method, const char *path, const char *body,
                          guint status, const char *code)
{
        Reply r = request(d, method, path, body);

        assert_error(&r, status, code);
        reply_clear(&r);
}

static const char *error_message(const Reply *r, JsonNode **keep)
{
        return json_object_get_string_member(
            json_object_get_object_member(body_object(r, keep), "error"), "message");
}

/* ... and its message must hold @want. */
static void request_error_says(Daemon *d, const char *method, const char *path, const char *body,
                               guint status, const char *code, const char *want)
{
        g_autoptr(JsonNode) keep = NULL;
        Reply r = request(d, method, path, body);

        assert_error(&r, status, code);
        if (!strstr(error_message(&r, &keep), want))
                g_error("%s %s: wanted '%s' in: %s", method, path, want, r.body);
        reply_clear(&r);
}

static char *cli_json(HdTestFixture *fx, const char *const *args, int expect)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        char *out = NULL;

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        g_ptr_array_add(argv, (gpointer) "--json");
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        g_assert_cmpint(hd_test_run_cli((const char *const *)argv->pdata, NULL, &out, NULL), ==,
                        expect);
        return out;
}

static guint pending_journals(HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, "var/lib/hostdev/journal");
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        guint n = 0;

        while (d && g_dir_read_name(d))
                n++;
        return n;
}

static void assert_driver(HdTestFixture *fx, const char *addr, const char *driver)
{
        g_autofree char *now = hd_test_driver(fx, addr);

        g_assert_cmpstr(now, ==, driver);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Every read endpoint; /v1/devices, /v1/groups and /v1/devices/{address} are exactly the CLI's
 * --json objects. */
static void test_read_endpoints(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        r = request_full(d, "GET", "/healthz", NULL, NULL, NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_cmpstr(r.body, ==, "{\"status\":\"ok\"}");
        reply_clear(&r);

        {
                const char *args[] = {"list", NULL};
                g_autofree char *cli = cli_json(fx, args, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) api_root = NULL;
                JsonObject *api;

                r = request(d, "GET", "/v1/devices", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(r.content_type, ==, "application/json");
                g_assert_nonnull(r.etag);
                api = body_object(&r, &api_root);
                g_assert_cmpint(json_object_get_int_member(api, "generation"), >=, 1);
                g_assert_true(json_node_equal(
                    json_object_get_member(api, "devices"),
                    json_object_get_member(json_node_get_object(cli_root), "devices")));
                reply_clear(&r);
        }
        {
                const char *args[] = {"groups", NULL};
                g_autofree char *cli = cli_json(fx, args, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) api_root = NULL;
                JsonObject *api;

                r = request(d, "GET", "/v1/groups", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                api = body_object(&r, &api_root);
                g_assert_true(json_node_equal(
                    json_object_get_member(api, "groups"),
                    json_object_get_member(json_node_get_object(cli_root), "groups")));
                reply_clear(&r);
        }
        {
                const char *args[] = {"show", GPU, NULL};
                g_autofree char *cli = cli_json(fx, args, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) api_root = NULL;
                JsonObject *api;

                r = request(d, "GET", "/v1/devices/" GPU, NULL);
                g_assert_cmpuint(r.status, ==, 200);
                api = body_object(&r, &api_root);
                g_assert_true(json_object_has_member(api, "generation"));
                json_object_remove_member(api, "generation");
                g_assert_true(json_node_equal(api_root, cli_root));
                reply_clear(&r);
        }
        /* the short form of an address is accepted, as by the CLI */
        request_ok(d, "GET", "/v1/devices/01:00.1", NULL);

        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *host;

                r = request(d, "GET", "/v1/host", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                host = body_object(&r, &root);
                g_assert_nonnull(json_object_get_string_member(host, "hostname"));
                g_assert_nonnull(json_object_get_string_member(host, "kernel"));
                g_assert_cmpstr(json_object_get_string_member(host, "cpu_vendor"), ==, "intel");
                g_assert_true(json_object_get_boolean_member(host, "iommu_groups"));
                g_assert_nonnull(json_object_get_object_member(host, "readiness"));
                g_assert_nonnull(json_object_get_object_member(host, "kernel_args"));
                reply_clear(&r);
        }
        {
                /* readiness is `hostdev check --json`, kernel arguments `hostdev kernel-args
                 * --json`, each with "available" */
                const char *check[] = {"check", NULL};
                const char *kargs[] = {"kernel-args", NULL};
                g_autofree char *check_out = NULL;
                g_autofree char *kargs_out = cli_json(fx, kargs, 0);
                g_autoptr(JsonNode) check_root = NULL;
                g_autoptr(JsonNode) kargs_root = hd_test_parse_json(kargs_out);
                g_autoptr(JsonNode) host_root = NULL;
                g_autoptr(JsonNode) api_root = NULL;
                JsonObject *readiness, *api;

                {
                        g_autoptr(GPtrArray) argv = g_ptr_array_new();
                        g_ptr_array_add(argv, (gpointer) "--root");
                        g_ptr_array_add(argv, fx->root);
                        g_ptr_array_add(argv, (gpointer) "--json");
                        g_ptr_array_add(argv, (gpointer)check[0]);
                        g_ptr_array_add(argv, NULL);
                        /* exit status says pass/fail: only the JSON matters here */
                        hd_test_run_cli((const char *const *)argv->pdata, NULL, &check_out, NULL);
                }
                check_root = hd_test_parse_json(check_out);
                r = request(d, "GET", "/v1/host", NULL);
                readiness = json_object_get_object_member(body_object(&r, &host_root), "readiness");
                g_assert_true(json_object_get_boolean_member(readiness, "available"));
                json_object_remove_member(readiness, "available");
                g_assert_true(json_node_equal(
                    json_object_get_member(json_node_get_object(host_root), "readiness"),
                    check_root));
                reply_clear(&r);

                r = request(d, "GET", "/v1/kernel-args", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                api = body_object(&r, &api_root);
                g_assert_true(json_object_get_boolean_member(api, "available"));
                json_object_remove_member(api, "available");
                g_assert_true(json_node_equal(api_root, kargs_root));
                reply_clear(&r);
        }
        request_ok_has(d, "GET", "/v1/vms", NULL, "\"vms\"");

        r = request(d, "GET", "/metrics", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_true(g_str_has_prefix(r.content_type, "text/plain"));
        g_assert_nonnull(strstr(r.body, "\nhostdev_devices 13\n"));
        g_assert_nonnull(strstr(r.body, "\nhostdev_iommu_groups 9\n"));
        /* under --root: inotify, never switched */
        g_assert_nonnull(strstr(r.body, "\nhostdev_event_source{source=\"inotify\"} 1\n"));
        g_assert_nonnull(strstr(r.body, "\nhostdev_event_source{source=\"udevd\"} 0\n"));
        g_assert_nonnull(strstr(r.body, "\nhostdev_event_source{source=\"kernel\"} 0\n"));
        g_assert_nonnull(strstr(r.body, "\nhostdev_event_source_switches_total 0\n"));
        g_assert_nonnull(
            strstr(r.body, "hostdev_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
        g_assert_nonnull(strstr(r.body, "hostdev_http_requests_total{code=\"200\"}"));
        reply_clear(&r);
        daemon_stop(d);
}

/* GET @path once the generation has moved past @etag (a change made outside the agent, seen by
 * inotify or a recheck): 304 until then, polled, bounded by 30 s; the 200 answer, which has a
 * new ETag. */
static Reply wait_changed(Daemon *d, const char *path, const char *etag)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        for (;;) {
                Reply r = request_full(d, "GET", path, NULL, d->token, etag);

                if (r.status == 200) {
                        g_assert_cmpstr(r.etag, !=, etag);
                        return r;
                }
                if (r.status != 304)
                        g_error("GET %s: expected 200 or 304, got %u: %s", path, r.status, r.body);
                reply_clear(&r);
                if (g_get_monotonic_time() > deadline)
                        g_error("GET %s: the generation never moved past %s", path, etag);
                g_usleep(50 * 1000);
        }
}

static void test_etag(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *etag = NULL;
        g_autofree char *etag2 = NULL;
        Reply r;

        r = request(d, "GET", "/v1/devices", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        etag = g_strdup(r.etag);
        reply_clear(&r);
        r = request_full(d, "GET", "/v1/devices", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 304);
        g_assert_cmpstr(r.body, ==, "");
        g_assert_cmpstr(r.etag, ==, etag);
        reply_clear(&r);
        r = request_full(d, "GET", "/v1/groups", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 304);
        reply_clear(&r);
        r = request_full(d, "GET", "/v1/devices/" GPU, NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 304);
        reply_clear(&r);

        /* a detach through the API moves the generation before it answers */
        request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true}");
        r = request_full(d, "GET", "/v1/devices", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_cmpstr(r.etag, !=, etag);
        g_assert_nonnull(strstr(r.body, "\"vfio-pci\""));
        etag2 = g_strdup(r.etag);
        reply_clear(&r);

        /* a change made outside the agent (the CLI) is noticed too (inotify on the tree) */
        {
                const char *args[] = {"attach", GPU, "--group", NULL};
                g_autofree char *out = cli_json(fx, args, 0);
                g_assert_nonnull(strstr(out, "\"nouveau\""));
                r = wait_changed(d, "/v1/devices", etag2);
                g_assert_nonnull(strstr(r.body, "\"nouveau\""));
                reply_clear(&r);
        }
        daemon_stop(d);
}

/* Until the agent's /metrics has the line @line (a gauge reaching a value): polled, bounded by
 * 30 s, after which the test fails naming @what. A fixed sleep lost such races on a loaded
 * machine. */
static void wait_metric(Daemon *d, const char *line, const char *what)
{
        g_autofree char *needle = g_strconcat("\n", line, "\n", NULL);
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        for (;;) {
                Reply m = request(d, "GET", "/metrics", NULL);
                gboolean seen = m.body && strstr(m.body, needle);

                reply_clear(&m);
                if (seen)
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("%s: the agent's /metrics never showed \"%s\"", what, line);
                g_usleep(10 * 1000);
        }
}

/* The value of the metric @name (a line "@name VALUE") in the agent's /metrics. */
static guint64 metric_value(Daemon *d, const char *name)
{
        g_autofree char *needle = g_strconcat("\n", name, " ", NULL);
        Reply m = request(d, "GET", "/metrics", NULL);
        const char *line;
        guint64 value;

        g_assert_cmpuint(m.status, ==, 200);
        line = strstr(m.body, needle);
        g_assert_nonnull(line);
        value = g_ascii_strtoull(line + strlen(needle), NULL, 10);
        reply_clear(&m);
        return value;
}

/* Until the generation reaches @generation (polled, bounded by 30 s). */
static void wait_generation(Daemon *d, guint64 generation, const char *what)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        while (metric_value(d, "hostdev_inventory_generation") < generation) {
                if (g_get_monotonic_time() > deadline)
                        g_error("%s: the generation never reached %" G_GUINT64_FORMAT, what,
                                generation);
                g_usleep(10 * 1000);
        }
}

/* Following udevd (source-switch.h) in the agent, on a fixture with HOSTDEVD_TEST_FOLLOW_UDEVD
 * (the switch on the tree's run/udev, with sources that hear nothing): started without
 * run/udev/control, the kernel's source; the socket created, udevd's, the generation moved
 * twice (at the switch, and once more when udevd settled); the socket removed, the kernel's
 * again, the generation moved; each switch logged once. */
static void test_follow_udevd(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *const env[] = {"HOSTDEVD_TEST_FOLLOW_UDEVD=1",
                                   "HOSTDEVD_TEST_UDEVD_SETTLE_MS=200", NULL};
        g_autofree char *udev = g_build_filename(fx->root, "run/udev", NULL);
        g_autofree char *control = g_build_filename(udev, "control", NULL);
        g_autofree char *log_path = g_build_filename(fx->root, "hostdevd.log", NULL);
        g_autofree char *log = NULL;
        guint switched = 0;
        Daemon *d;
        guint64 gen;

        (void)g_remove(control);
        d = daemon_start(fx, env);
        wait_metric(d, "hostdev_event_source{source=\"kernel\"} 1", "the kernel's source");
        wait_metric(d, "hostdev_event_source_switches_total 0", "no switch at start");
        gen = metric_value(d, "hostdev_inventory_generation");

        g_assert_cmpint(g_mkdir_with_parents(udev, 0755), ==, 0);
        g_assert_true(g_file_set_contents(control, "", 0, NULL));
        wait_metric(d, "hostdev_event_source{source=\"udevd\"} 1", "udevd started");
        wait_metric(d, "hostdev_event_source{source=\"kernel\"} 0", "udevd started");
        wait_metric(d, "hostdev_event_source_switches_total 1", "udevd started");
        wait_generation(d, gen + 2, "re-read at the switch to udevd and once it settled");
        gen = metric_value(d, "hostdev_inventory_generation");

        g_assert_cmpint(g_remove(control), ==, 0);
        wait_metric(d, "hostdev_event_source{source=\"kernel\"} 1", "udevd stopped");
        wait_metric(d, "hostdev_event_source_switches_total 2", "udevd stopped");
        wait_generation(d, gen + 1, "re-read at the switch to the kernel's source");
        daemon_stop(d);

        g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
        g_assert_nonnull(strstr(log, "msg=\"switched the source of device changes\" "
                                     "source=udevd previous=\"kernel uevents\" udevd=running"));
        g_assert_nonnull(strstr(log, "msg=\"switched the source of device changes\" "
                                     "source=\"kernel uevents\" previous=udevd "
                                     "udevd=\"not running\""));
        for (const char *p = log; (p = strstr(p, "switched the source")); p++)
                switched++;
        g_assert_cmpuint(switched, ==, 2);
}

/* Until an operation runs (the request is in, its thread sleeps HOSTDEVD_TEST_OP_DELAY_MS); the
 * callers' delay (4 s) leaves the rest of the test time to act while it still runs. */
static void wait_in_flight(Daemon *d)
{
        wait_metric(d, "hostdev_operations_in_flight 1", "no operation started on the agent");
}

/* Until the one long poll a test sent waits in the agent (its request is in and parked), so
 * that what the test does next wakes it rather than being seen before it asked. */
static void wait_polling(Daemon *d)
{
        wait_metric(d, "hostdev_long_polls_waiting 1", "the long poll never waited in the agent");
}

typedef struct {
        Daemon *d;
        const char *path;
        const char *etag;
        guint status;
        char *new_etag;
        double seconds;
} Poll;

static gpointer poll_thread(gpointer data)
{
        Poll *p = data;
        g_autoptr(SoupSession) s = soup_session_new_with_options("timeout", 30, NULL);
        g_autofree char *uri = g_strconcat(p->d->url, p->path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
        g_autofree char *auth = g_strconcat("Bearer ", p->d->token, NULL);
        g_autoptr(GBytes) out = NULL;
        gint64 start = g_get_monotonic_time();

        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
        soup_message_headers_replace(soup_message_get_request_headers(msg), "If-None-Match",
                                     p->etag);
        out = soup_session_send_and_read(s, msg, NULL, NULL);
        p->seconds = (g_get_monotonic_time() - start) / 1e6;
        p->status = soup_message_get_status(msg);
        p->new_etag =
            g_strdup(soup_message_headers_get_one(soup_message_get_response_headers(msg), "ETag"));
        return NULL;
}

/* Long poll: ?wait=N with the current ETag answers as soon as the generation moves, or 304
 * when the wait runs out. */
static void test_long_poll(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *etag = NULL;
        Reply r;

        {
                /* on a tree under --root no kernel sends events: inotify, said at start */
                g_autofree char *log = daemon_log(d);
                g_assert_nonnull(strstr(log, "msg=\"watching device changes\" "
                                             "source=\"inotify under --root\""));
        }
        r = request(d, "GET", "/v1/groups", NULL);
        etag = g_strdup(r.etag);
        reply_clear(&r);
        {
                Poll p = {d, "/v1/devices?wait=1", etag};
                poll_thread(&p);
                g_assert_cmpuint(p.status, ==, 304);
                g_assert_cmpfloat(p.seconds, >=, 0.9);
                g_free(p.new_etag);
        }
        {
                Poll p = {d, "/v1/groups?wait=20", etag};
                GThread *t = g_thread_new("poll", poll_thread, &p);
                wait_polling(d);
                request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true}");
                g_thread_join(t);
                g_assert_cmpuint(p.status, ==, 200);
                g_assert_cmpstr(p.new_etag, !=, etag);
                g_assert_cmpfloat(p.seconds, <, 10);
                g_free(p.new_etag);
        }
        request_error(d, "GET", "/v1/devices?wait=301", NULL, 400, "invalid-argument");
        request_error(d, "GET", "/v1/devices?wait=x", NULL, 400, "invalid-argument");
        /* a waiting poll does not keep the agent from stopping */
        {
                Poll p = {d, "/v1/devices?wait=60", NULL};
                GThread *t;
                r = request(d, "GET", "/v1/devices", NULL);
                p.etag = r.etag;
                t = g_thread_new("poll", poll_thread, &p);
                wait_polling(d);
                daemon_stop(d);
                g_thread_join(t);
                g_assert_cmpuint(p.status, ==, 304);
                g_assert_cmpfloat(p.seconds, <, 30);
                g_free(p.new_etag);
                reply_clear(&r);
        }
}

/* The group of @addr in a /v1/groups answer: its number and state. */
static const char *group_state_of(const Reply *r, const char *addr, int *number, JsonNode **keep)
{
        JsonArray *groups = json_object_get_array_member(body_object(r, keep), "groups");

        for (guint i = 0; i < json_array_get_length(groups); i++) {
                JsonObject *g = json_array_get_object_element(groups, i);
                JsonArray *members = json_object_get_array_member(g, "devices");
                for (guint k = 0; members && k < json_array_get_length(members); k++) {
                        JsonNode *m = json_array_get_element(members, k);
                        const char *a = JSON_NODE_HOLDS_OBJECT(m)
                                            ? json_object_get_string_member(
                                                  json_node_get_object(m), "address")
                                            : json_node_get_string(m);
                        if (g_strcmp0(a, addr) == 0) {
                                *number = (int)json_object_get_int_member(g, "group");
                                return json_object_get_string_member(g, "state");
                        }
                }
        }
        g_error("%s is in no group of %s", addr, r->body);
        return NULL;
}

/* What no uevent or inotify announces still moves the generation: a VM opening a group that
 * is already on vfio-pci (its state goes ready -> in-use), and closing it again, seen by a
 * conditional GET and by a waiting long poll. (HOSTDEVD_TEST_RECHECK_MS=0: every request
 * checks; the agent's default is once a second.) */
static void test_etag_follows_holders(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *env[] = {"HOSTDEVD_TEST_RECHECK_MS=0", NULL};
        Daemon *d = daemon_start(fx, env);
        g_autofree char *etag = NULL;
        g_autofree char *etag2 = NULL;
        g_autofree char *fd_dir = hd_test_path(fx, "proc/4242/fd");
        g_autofree char *link = g_build_filename(fd_dir, "17", NULL);
        g_autofree char *comm = hd_test_path(fx, "proc/4242/comm");
        g_autofree char *target = NULL;
        int group = -1;
        Reply r;

        request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true}");
        r = request(d, "GET", "/v1/groups", NULL);
        {
                g_autoptr(JsonNode) root = NULL;
                g_assert_cmpstr(group_state_of(&r, GPU, &group, &root), ==, "ready");
        }
        etag = g_strdup(r.etag);
        reply_clear(&r);

        /* a QEMU opens the group */
        target = g_strdup_printf("/dev/vfio/%d", group);
        g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(comm, "qemu-system-x86\n", -1, NULL));
        g_assert_cmpint(symlink(target, link), ==, 0);
        r = request_full(d, "GET", "/v1/groups", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_cmpstr(r.etag, !=, etag);
        {
                g_autoptr(JsonNode) root = NULL;
                g_assert_cmpstr(group_state_of(&r, GPU, &group, &root), ==, "in-use");
        }
        etag2 = g_strdup(r.etag);
        reply_clear(&r);
        r = request_full(d, "GET", "/v1/groups", NULL, d->token, etag2);
        g_assert_cmpuint(r.status, ==, 304);
        reply_clear(&r);

        /* ... and closes it while a long poll waits */
        {
                Poll p = {d, "/v1/groups?wait=60", etag2};
                GThread *t = g_thread_new("poll", poll_thread, &p);
                wait_polling(d);
                g_assert_cmpint(g_unlink(link), ==, 0);
                g_thread_join(t);
                g_assert_cmpuint(p.status, ==, 200);
                g_assert_cmpstr(p.new_etag, !=, etag2);
                g_free(p.new_etag);
        }
        daemon_stop(d);
}

static void test_auth(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *path = hd_test_path(fx, "var/lib/hostdev/agent.token");
        g_autofree char *ro_path = hd_test_path(fx, "var/lib/hostdev/agent-ro.token");
        struct stat st;
        Reply r;

        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        g_assert_cmpint(stat(ro_path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        g_assert_cmpuint(strlen(d->token), ==, 64);
        g_assert_cmpstr(d->token, !=, d->ro_token);

        r = request_full(d, "GET", "/v1/devices", NULL, NULL, NULL);
        assert_error(&r, 401, "unauthorized");
        reply_clear(&r);
        r = request_full(d, "GET", "/v1/devices", NULL, "0123456789abcdef", NULL);
        assert_error(&r, 401, "unauthorized");
        reply_clear(&r);
        r = request_full(d, "GET", "/metrics", NULL, NULL, NULL);
        assert_error(&r, 401, "unauthorized");
        reply_clear(&r);
        r = request_full(d, "POST", "/v1/devices/" GPU "/detach", "{}", NULL, NULL);
        assert_error(&r, 401, "unauthorized");
        reply_clear(&r);

        /* the read-only token reads, and may not change anything */
        r = request_full(d, "GET", "/v1/devices", NULL, d->ro_token, NULL);
        g_assert_cmpuint(r.status, ==, 200);
        reply_clear(&r);
        r = request_full(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\":true}", d->ro_token,
                         NULL);
        assert_error(&r, 403, "forbidden");
        reply_clear(&r);
        r = request_full(d, "POST", "/v1/vms", "{\"name\":\"x\"}", d->ro_token, NULL);
        assert_error(&r, 403, "forbidden");
        reply_clear(&r);
        r = request_full(d, "PUT", "/v1/kernel-args", "{}", d->ro_token, NULL);
        assert_error(&r, 403, "forbidden");
        reply_clear(&r);
        assert_driver(fx, GPU, "nouveau");
        daemon_stop(d);

        /* a restart keeps the tokens; a token file others can read is refused */
        d = daemon_start(fx, NULL);
        {
                g_autofree char *again = read_token(path);
                g_assert_cmpstr(again, ==, d->token);
        }
        daemon_stop(d);
        g_assert_cmpint(chmod(path, 0644), ==, 0);
        d = daemon_start_full(fx, NULL, NULL, FALSE);
        g_assert_true(wait_exit(d->proc, 10));
        g_assert_cmpint(g_subprocess_get_exit_status(d->proc), ==, 1);
        {
                g_autofree char *log = daemon_log(d);
                g_assert_nonnull(strstr(log, "chmod 600"));
        }
        g_clear_object(&d->proc);
        daemon_stop(d);
}

static void test_errors(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        /* 400: malformed address, JSON, members */
        request_error(d, "GET", "/v1/devices/0000:01:00.9", NULL, 400, "invalid-argument");
        request_error(d, "POST", "/v1/devices/not-an-address/detach", "{}", 400,
                      "invalid-argument");
        request_error_says(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": tru", 400,
                           "invalid-argument", "not valid JSON");
        request_error(d, "POST", "/v1/devices/" GPU "/detach", "[true]", 400, "invalid-argument");
        request_error(d, "POST", "/v1/devices/" GPU "/detach", "{\"grup\": true}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": \"yes\"}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/devices/" GPU "/detach", "\xff\xfe", 400, "invalid-argument");
        request_error(d, "POST", "/v1/vms", "{\"name\": \"../etc\"}", 400, "invalid-argument");

        /* 404: unknown device, unknown endpoint; path tricks never reach the tree */
        request_error(d, "GET", "/v1/devices/0000:09:00.0", NULL, 404, "not-found");
        request_error(d, "POST", "/v1/devices/0000:09:00.0/detach", "{}", 404, "not-found");
        request_error(d, "GET", "/v1/nothing", NULL, 404, "not-found");
        request_error(d, "POST", "/v1/devices/" GPU "/explode", "{}", 404, "not-found");
        r = request(d, "GET", "/v1/devices/..%2F..%2Fetc%2Fpasswd", NULL);
        g_assert_cmpuint(r.status / 100, ==, 4);
        reply_clear(&r);

        /* 405 */
        request_error(d, "DELETE", "/v1/devices", NULL, 405, "method-not-allowed");
        request_error(d, "GET", "/v1/devices/" GPU "/detach", NULL, 405, "method-not-allowed");
        r = request(d, "POST", "/healthz", "{}");
        g_assert_cmpuint(r.status, ==, 405);
        reply_clear(&r);

        /* 409: a safety check, with the CLI's message in the API's words (hint.h) */
        {
                const char *args[] = {"detach", GPU, NULL};
                g_autofree char *cli = cli_json(fx, args, 1);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) keep = NULL;
                JsonObject *cli_err =
                    json_object_get_object_member(json_node_get_object(cli_root), "error");
                g_autoptr(GString) want =
                    g_string_new(json_object_get_string_member(cli_err, "message"));

                g_assert_cmpuint(g_string_replace(want, "--group", "\"group\": true", 0), ==, 1);
                r = request(d, "POST", "/v1/devices/" GPU "/detach", "{}");
                assert_error(&r, 409, "refused");
                g_assert_cmpstr(error_message(&r, &keep), ==, want->str);
                reply_clear(&r);
        }
        /* the boot GPU: refused, and nothing was written */
        request_error(d, "POST", "/v1/devices/0000:00:02.0/detach", "{}", 409, "refused");
        assert_driver(fx, "0000:00:02.0", "i915");

        /* 413 with a Content-Length over the limit, before the body is read */
        {
                GString *big = g_string_new("{\"group\": true, \"pad\": \"");
                while (big->len < 70 * 1024)
                        g_string_append(big, "xxxxxxxxxxxxxxxx");
                g_string_append(big, "\"}");
                request_error(d, "POST", "/v1/devices/" GPU "/detach", big->str, 413, "too-large");
                g_string_free(big, TRUE);
        }
        /* the daemon is still fine, and never answered 500 */
        r = request(d, "GET", "/metrics", NULL);
        g_assert_null(strstr(r.body, "code=\"500\""));
        reply_clear(&r);
        assert_driver(fx, GPU, "nouveau");
        daemon_stop(d);
}

static void test_detach_attach(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdTestFixture) twin = hd_test_fixture_copy(fx);
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        /* dry run: the CLI's writes, nothing changed */
        {
                const char *args[] = {"detach", GPU, "--group", "--dry-run", NULL};
                g_autofree char *cli = cli_json(twin, args, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) api_root = NULL;

                r = request(d, "POST", "/v1/devices/" GPU "/detach",
                            "{\"group\": true, \"dry_run\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                body_object(&r, &api_root);
                g_assert_true(json_node_equal(api_root, cli_root));
                reply_clear(&r);
                assert_driver(fx, GPU, "nouveau");
        }
        /* the real thing: the same result as the CLI on a twin tree */
        {
                const char *args[] = {"detach", GPU, "--group", NULL};
                g_autofree char *cli = cli_json(twin, args, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) api_root = NULL;

                r = request(d, "POST", "/v1/devices/" GPU "/detach",
                            "{\"group\": true, \"dry_run\": false, \"force\": false, "
                            "\"persist\": false}");
                g_assert_cmpuint(r.status, ==, 200);
                body_object(&r, &api_root);
                g_assert_true(json_node_equal(api_root, cli_root));
                reply_clear(&r);
                assert_driver(fx, GPU, "vfio-pci");
                assert_driver(fx, AUDIO, "vfio-pci");
        }
        request_ok_has(d, "POST", "/v1/devices/" GPU "/verify", NULL, "\"usable\":true");
        request_ok(d, "POST", "/v1/devices/" GPU "/attach", "{\"group\": true}");
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        /* verify of a device on its host driver: refused, as by the CLI */
        request_error(d, "POST", "/v1/devices/" GPU "/verify", "{}", 409, "refused");
        g_assert_cmpuint(pending_journals(fx), ==, 0);

        r = request(d, "GET", "/metrics", NULL);
        g_assert_nonnull(strstr(r.body, "hostdev_operations_total{op=\"detach\",result=\"ok\"} 2"));
        g_assert_nonnull(strstr(r.body, "hostdev_operation_failures_total{op=\"verify\"} 1"));
        reply_clear(&r);
        daemon_stop(d);
}

/* The agent's refusals name the API's fields and endpoints, never the CLI's flags (hint.h H1),
 * and the advice they give works when followed through the API; the CLI's say the same in
 * flags. Also: persist through the API is checked as the detach is, and attach reports (or
 * with "keep_persist" keeps) the boot-time binding. */
static void assert_api_words(const Reply *r, const char *want)
{
        g_autoptr(JsonNode) keep = NULL;
        const char *msg;

        assert_error(r, 409, "refused");
        msg = error_message(r, &keep);
        if (!strstr(msg, want))
                g_error("wanted '%s' in: %s", want, msg);
        if (strstr(msg, "--") || strstr(msg, "hostdev detach") || strstr(msg, "hostdev check"))
                g_error("the API speaks CLI: %s", msg);
}

static void request_refused(Daemon *d, const char *method, const char *path, const char *body,
                            const char *want)
{
        Reply r = request(d, method, path, body);

        assert_api_words(&r, want);
        reply_clear(&r);
}

static void test_api_vocabulary(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        g_autoptr(JsonNode) keep = NULL;
        Reply r;

        /* an unknown device: the API's list, not the CLI's */
        request_error_says(d, "POST", "/v1/devices/0000:09:00.0/detach", "{}", 404, "not-found",
                           "(GET /v1/devices shows the devices)");
        /* a single function of a shared group */
        request_refused(d, "POST", "/v1/devices/" GPU "/detach", "{}",
                        "detach the whole group with \"group\": true");
        /* the default-route NIC: "force": 2; with "force": 1 still refused */
        request_refused(d, "POST", "/v1/devices/0000:03:00.0/detach", "{\"force\": 1}",
                        "or pass \"force\": 2");
        /* the boot GPU, by detach with persist and by verify */
        request_refused(d, "POST", "/v1/devices/0000:00:02.0/detach", "{\"persist\": true}",
                        "or pass \"force\": 1 if the host runs headless");
        request_refused(d, "POST", "/v1/devices/0000:00:02.0/verify", "{}",
                        "detaching it is refused");
        /* persist: true of the root-filesystem NVMe and of a root port: refused whatever the
         * force, and nothing bound at boot */
        request_refused(d, "POST", "/v1/devices/0000:02:00.0/detach",
                        "{\"persist\": true, \"force\": 2}", "root filesystem");
        request_refused(d, "POST", "/v1/devices/0000:00:01.0/detach",
                        "{\"persist\": true, \"force\": 2, \"group\": true}", "PCI bridge");
        {
                g_autofree char *rules = hd_test_path(fx, "etc/udev/rules.d/60-hostdev-vfio.rules");
                g_assert_false(g_file_test(rules, G_FILE_TEST_EXISTS));
        }
        /* verify of the shared group's GPU names the API call that works; follow it */
        request_refused(d, "POST", "/v1/devices/" GPU "/verify", "{}",
                        "run 'POST /v1/devices/" GPU "/detach with {\"group\": true}'");
        request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true, \"persist\": true}");
        request_ok(d, "POST", "/v1/devices/" GPU "/verify", "{}");
        /* attach with "keep_persist" keeps the binding and says none was removed; without it
         * the binding goes and the answer says so */
        r = request(d, "POST", "/v1/devices/" GPU "/attach",
                    "{\"group\": true, \"keep_persist\": true, \"dry_run\": true}");
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"persist_removed\":false"));
        g_assert_null(strstr(r.body, "\"persist_removed\":true"));
        reply_clear(&r);
        r = request(d, "POST", "/v1/devices/" GPU "/attach", "{\"group\": true}");
        g_assert_cmpuint(r.status, ==, 200);
        {
                JsonArray *devs = json_object_get_array_member(body_object(&r, &keep), "devices");
                g_assert_cmpuint(json_array_get_length(devs), ==, 2);
                for (guint i = 0; i < 2; i++)
                        g_assert_true(json_object_get_boolean_member(
                            json_array_get_object_element(devs, i), "persist_removed"));
        }
        reply_clear(&r);
        daemon_stop(d);

        /* the CLI says the same in its own words */
        {
                const char *argv[] = {"--root", fx->root, "detach", GPU, NULL};
                g_autofree char *err = NULL;
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "detach the whole group with --group"));
                g_assert_null(strstr(err, "\"group\""));
        }
        {
                const char *argv[] = {"--root", fx->root, "verify", GPU, NULL};
                g_autofree char *err = NULL;
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "run 'hostdev detach " GPU " --group'"));
                g_assert_null(strstr(err, "POST"));
        }
}

typedef struct {
        Daemon *d;
        const char *path;
        const char *body;
        guint status;
        char *reply;
} Call;

static gpointer call_thread(gpointer data)
{
        Call *c = data;
        g_autoptr(SoupSession) s = soup_session_new_with_options("timeout", 30, NULL);
        g_autofree char *uri = g_strconcat(c->d->url, c->path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new("POST", uri);
        g_autofree char *auth = g_strconcat("Bearer ", c->d->token, NULL);
        g_autoptr(GBytes) body = g_bytes_new(c->body, strlen(c->body));
        g_autoptr(GBytes) out = NULL;

        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
        soup_message_set_request_body_from_bytes(msg, "application/json", body);
        out = soup_session_send_and_read(s, msg, NULL, NULL);
        c->status = soup_message_get_status(msg);
        c->reply = out ? g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out)) : NULL;
        return NULL;
}

/* Two calls at once; returns the elapsed seconds. */
static void assert_ok(const Call *c)
{
        if (c->status != 200)
                g_error("%s: %u %s", c->path, c->status, c->reply ? c->reply : "");
}

static double run_pair(Call *a, Call *b)
{
        gint64 start = g_get_monotonic_time();
        GThread *ta = g_thread_new("a", call_thread, a);
        GThread *tb = g_thread_new("b", call_thread, b);

        g_thread_join(ta);
        g_thread_join(tb);
        return (g_get_monotonic_time() - start) / 1e6;
}

#define DELAY_MS 500

static void test_concurrency(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *env[] = {"HOSTDEVD_TEST_OP_DELAY_MS=500", NULL};
        Daemon *d = daemon_start(fx, env);
        double t;

        /* the same group (1) from two devices: one after the other, both succeed */
        {
                Call a = {d, "/v1/devices/" GPU "/detach", "{\"group\":true}"};
                Call b = {d, "/v1/devices/" AUDIO "/detach", "{\"group\":true}"};
                t = run_pair(&a, &b);
                g_test_message("one group: %.3f s", t);
                assert_ok(&a);
                assert_ok(&b);
                g_assert_cmpfloat(t, >=, 2 * DELAY_MS / 1000.0);
                g_free(a.reply);
                g_free(b.reply);
                request_ok_has(d, "GET", "/metrics", NULL, "\nhostdev_operations_parallel_max 1\n");
        }
        assert_driver(fx, GPU, "vfio-pci");
        assert_driver(fx, AUDIO, "vfio-pci");
        /* different groups (1 and 3): at the same time */
        {
                Call a = {d, "/v1/devices/" GPU "/attach", "{\"group\":true}"};
                Call b = {d, "/v1/devices/" USB "/detach", "{}"};
                t = run_pair(&a, &b);
                g_test_message("two groups: %.3f s", t);
                assert_ok(&a);
                assert_ok(&b);
                g_free(a.reply);
                g_free(b.reply);
                request_ok_has(d, "GET", "/metrics", NULL, "\nhostdev_operations_parallel_max 2\n");
        }
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        assert_driver(fx, USB, "vfio-pci");
        /* many clients, detaching and attaching the same group: no lost state, journal clean */
        {
                Call calls[8];
                GThread *threads[8];
                for (guint i = 0; i < 8; i++) {
                        calls[i] = (Call){d,
                                          i % 2 ? "/v1/devices/" AUDIO "/attach"
                                                : "/v1/devices/" GPU "/detach",
                                          "{\"group\":true}"};
                        threads[i] = g_thread_new("c", call_thread, &calls[i]);
                }
                for (guint i = 0; i < 8; i++) {
                        g_thread_join(threads[i]);
                        g_assert_cmpuint(calls[i].status, ==, 200);
                        g_free(calls[i].reply);
                }
        }
        {
                g_autofree char *gpu = hd_test_driver(fx, GPU);
                g_autofree char *audio = hd_test_driver(fx, AUDIO);
                /* whichever came last, the group moved as one */
                g_assert_true(
                    (g_strcmp0(gpu, "vfio-pci") == 0 && g_strcmp0(audio, "vfio-pci") == 0) ||
                    (g_strcmp0(gpu, "nouveau") == 0 && g_strcmp0(audio, "snd_hda_intel") == 0));
        }
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        daemon_stop(d);
}

/* While another process (the CLI) holds the group's lock, the agent answers 409 busy. */
static void test_busy_with_cli(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *lock = hd_test_path(fx, "run/hostdev/group-1.lock");
        g_autofree char *dir = g_path_get_dirname(lock);
        int fd;

        /* this test process stands in for a CLI in the middle of a transaction on group 1 */
        g_mkdir_with_parents(dir, 0755);
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0);
        request_error(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\":true}", 409, "busy");
        assert_driver(fx, GPU, "nouveau");
        close(fd);
        request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\":true}");
        assert_driver(fx, GPU, "vfio-pci");
        daemon_stop(d);
}

/* Issue 11: bodies that used to be misread and answered 200 with real writes, and the
 * caller's mistakes that were 500. The parsers are tested on their own in
 * tests/hostile/test-hostile-json.c; this is the same through HTTP. */
static void test_hostile_requests(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *images = hd_test_path(fx, "images");
        const char *args[] = {"--images-dir", images, NULL};
        Daemon *d;
        Reply r;
        const char *bad_bodies[] = {
            "{\"group\": true, \"dry_run\": null}",
            "{\"group\": true, \"dry_run\": true, \"dry_run\": false}",
            "{\"group\": true, \"dry_run\": true /* yes */}",
            "{'group': true, 'dry_run': true}",
            "\xef\xbb\xbf{\"group\": true, \"dry_run\": true}",
        };

        g_assert_cmpint(g_mkdir_with_parents(images, 0755), ==, 0);
        {
                /* a CPU neither Intel nor AMD, and a device entry that is a symlink loop */
                g_autofree char *cpuinfo = hd_test_path(fx, "proc/cpuinfo");
                g_autofree char *entry = hd_test_path(fx, "sys/bus/pci/devices/0000:00:14.0");
                g_assert_true(g_file_set_contents(cpuinfo,
                                                  "processor\t: 0\nvendor_id\t: "
                                                  "CentaurHauls\n\n",
                                                  -1, NULL));
                g_assert_cmpint(unlink(entry), ==, 0);
                g_assert_cmpint(symlink("0000:00:14.0", entry), ==, 0);
        }
        d = daemon_start_full(fx, NULL, args, TRUE);
        for (gsize i = 0; i < G_N_ELEMENTS(bad_bodies); i++) {
                request_error(d, "POST", "/v1/devices/" GPU "/detach", bad_bodies[i], 400,
                              "invalid-argument");
                assert_driver(fx, GPU, "nouveau");
        }
        /* the caller's mistakes that were 500 */
        request_error(d, "POST", "/v1/devices/" GPU "/attach", "{\"driver\": \"no_such_driver\"}",
                      400, "invalid-argument");
        request_error(d, "GET", "/v1/devices/" USB, NULL, 404, "not-found");
        request_error(d, "POST", "/v1/devices/" USB "/detach", "{\"dry_run\": true}", 404,
                      "not-found");
        request_error(d, "PUT", "/v1/kernel-args", "{\"enable\": [\"iommu\"], \"dry_run\": true}",
                      409, "refused");
        /* VM define refuses what start refuses */
        request_error(d, "POST", "/v1/vms", "{\"name\": \"hb\", \"hostdevs\": [\"0000:00:00.0\"]}",
                      409, "refused");
        request_error_says(d, "POST", "/v1/vms",
                           "{\"name\": \"bootgpu\", \"hostdevs\": [\"0000:00:02.0\"]}", 409,
                           "refused", "boot VGA");
        /* disk_image beneath --images-dir only */
        request_error(d, "POST", "/v1/vms", "{\"name\": \"x\", \"disk_image\": \"/etc/shadow\"}",
                      400, "invalid-argument");
        {
                g_autofree char *body =
                    g_strdup_printf("{\"name\": \"ok\", \"disk_image\": \"%s/ok.qcow2\"}", images);
                request_ok(d, "POST", "/v1/vms", body);
        }
        /* bytes that are not UTF-8 in the request path come back as valid JSON */
        {
                const char *paths[] = {"/v1/nothing%FF%1F%C0%AF", "/v1/devices/%FE%1F%ED%A0%80",
                                       "/v1/vms/%FF%1Fx"};
                for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
                        g_autoptr(GError) error = NULL;
                        r = request(d, "GET", paths[i], NULL);
                        g_assert_cmpuint(r.status, >=, 400);
                        g_assert_cmpuint(r.status, <, 500);
                        if (!hd_json_strict_validate(r.body, strlen(r.body), 32,
                                                     HD_JSON_STRICT_NO_NUL, NULL, &error))
                                g_error("%s: %s: %s", paths[i], error->message, r.body);
                        reply_clear(&r);
                }
        }
        /* a control character in a kernel argument */
        request_error(d, "PUT", "/v1/kernel-args",
                      "{\"custom\": [\"quiet\\nGRUB_X=1\"], \"dry_run\": true}", 400,
                      "invalid-argument");
        daemon_stop(d);
}

static void test_vm(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        request_ok_has(d, "POST", "/v1/vms",
                       "{\"name\": \"gpu-vm\", \"memory_mib\": 2048, \"vcpus\": 2, "
                       "\"hostdevs\": [\"" GPU "\", \"" AUDIO "\"]}",
                       "\"shut off\"");
        request_error(d, "POST", "/v1/vms", "{\"name\": \"gpu-vm\"}", 409, "refused");
        request_error(d, "POST", "/v1/vms", "{\"name\": \"bad\", \"hostdevs\": [\"0000:01:00\"]}",
                      400, "invalid-argument");

        /* start: the devices go to vfio-pci first */
        r = request(d, "POST", "/v1/vms/gpu-vm/start", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"running\""));
        g_assert_nonnull(strstr(r.body, "\"detached_for_vm\":[\"" GPU "\",\"" AUDIO "\"]"));
        reply_clear(&r);
        assert_driver(fx, GPU, "vfio-pci");
        assert_driver(fx, AUDIO, "vfio-pci");
        /* the agent will not give a running VM's device back to the host */
        request_error(d, "POST", "/v1/devices/" GPU "/attach", "{\"group\": true}", 409, "refused");
        request_error(d, "DELETE", "/v1/vms/gpu-vm", NULL, 409, "refused");
        request_ok(d, "GET", "/v1/vms/gpu-vm", NULL);

        /* stop: back to the host drivers they had */
        r = request(d, "POST", "/v1/vms/gpu-vm/stop", "{}");
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"shut off\""));
        g_assert_nonnull(strstr(r.body, "\"detached_for_vm\":[]"));
        reply_clear(&r);
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");

        /* a device already on vfio-pci stays there after the VM (it was not detached for it) */
        request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true}");
        request_ok_has(d, "POST", "/v1/vms/gpu-vm/start", "{}", "\"detached_for_vm\":[]");
        request_ok(d, "POST", "/v1/vms/gpu-vm/destroy", "{}");
        assert_driver(fx, GPU, "vfio-pci");

        request_error(d, "POST", "/v1/vms/gpu-vm/stop", "{}", 409, "refused");
        request_ok(d, "DELETE", "/v1/vms/gpu-vm", NULL);
        request_error(d, "GET", "/v1/vms/gpu-vm", NULL, 404, "not-found");
        request_error(d, "POST", "/v1/vms/nope/start", NULL, 404, "not-found");
        request_error(d, "PUT", "/v1/vms/gpu-vm", NULL, 405, "method-not-allowed");
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        daemon_stop(d);
}

/* A detach killed mid-way by HOSTDEV_CRASH_AT is rolled back before the first answer. */
static void test_recovery_at_start(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *argv[] = {"--root", fx->root, "detach", GPU, "--group", NULL};
        const char *env[] = {"HOSTDEV_CRASH_AT=write:3", NULL};
        Daemon *d;

        g_assert_cmpint(hd_test_run_cli(argv, env, NULL, NULL), ==, 128 + SIGKILL);
        g_assert_cmpuint(pending_journals(fx), ==, 1);
        {
                g_autofree char *drv = hd_test_driver(fx, GPU);
                g_assert_cmpstr(drv, !=, "nouveau"); /* left mid-way */
        }
        d = daemon_start(fx, NULL);
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        request_ok_has(d, "GET", "/v1/devices/" GPU, NULL, "\"driver\":\"nouveau\"");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        {
                g_autofree char *log = daemon_log(d);
                g_assert_nonnull(strstr(log, "msg=\"journal recovery done\" recovered=1"));
        }
        daemon_stop(d);
}

static void test_kernel_args_put(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        r = request(d, "PUT", "/v1/kernel-args", "{\"enable\": 7}");
        g_assert_cmpuint(r.status, ==, 400);
        reply_clear(&r);
        request_error(d, "PUT", "/v1/kernel-args", "{\"bogus\": []}", 400, "invalid-argument");
        {
                /* a plan (dry_run) changes nothing; applying answers what the CLI answers */
                g_autoptr(HdTestFixture) twin = hd_test_fixture_copy(fx);
                const char *plan[] = {"kernel-args", "--enable", "nested", NULL};
                const char *apply[] = {"kernel-args", "--enable", "nested", "--apply", NULL};
                g_autofree char *plan_out = cli_json(twin, plan, 0);
                g_autofree char *apply_out = cli_json(twin, apply, 0);
                g_autoptr(JsonNode) plan_root = hd_test_parse_json(plan_out);
                g_autoptr(JsonNode) apply_root = hd_test_parse_json(apply_out);
                g_autoptr(JsonNode) api_root = NULL;
                g_autofree char *grub = hd_test_path(fx, "etc/default/grub");
                g_autofree char *before = NULL;
                g_autofree char *after = NULL;
                JsonObject *api;

                g_assert_true(g_file_get_contents(grub, &before, NULL, NULL));
                r = request(d, "PUT", "/v1/kernel-args",
                            "{\"enable\": [\"nested\"], \"dry_run\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                api = body_object(&r, &api_root);
                json_object_remove_member(api, "available");
                g_assert_true(json_node_equal(api_root, plan_root));
                reply_clear(&r);
                g_clear_pointer(&api_root, json_node_unref);
                g_assert_true(g_file_get_contents(grub, &after, NULL, NULL));
                g_assert_cmpstr(before, ==, after);

                r = request(d, "PUT", "/v1/kernel-args", "{\"enable\": [\"nested\"]}");
                g_assert_cmpuint(r.status, ==, 200);
                api = body_object(&r, &api_root);
                g_assert_true(json_object_get_boolean_member(api, "applied"));
                g_assert_true(json_object_get_boolean_member(api, "reboot_required"));
                json_object_remove_member(api, "available");
                g_assert_true(json_node_equal(api_root, apply_root));
                reply_clear(&r);
        }
        request_error(d, "PUT", "/v1/kernel-args", "{\"enable\": [\"bogus\"]}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/kernel-args", "{}", 405, "method-not-allowed");
        daemon_stop(d);
}

/* GET /v1/host's boot_id, passthrough_possible and whether the running command line has
 * @word. */
static char *host_boot(Daemon *d, gboolean *possible, gboolean *groups, const char *word,
                       gboolean *has_word)
{
        g_autoptr(JsonNode) root = NULL;
        Reply r = request(d, "GET", "/v1/host", NULL);
        JsonObject *o;
        JsonArray *running;
        char *boot_id;

        g_assert_cmpuint(r.status, ==, 200);
        o = body_object(&r, &root);
        boot_id = g_strdup(json_object_get_string_member(o, "boot_id"));
        *possible = json_object_get_boolean_member(json_object_get_object_member(o, "readiness"),
                                                   "passthrough_possible");
        *groups = json_object_get_boolean_member(o, "iommu_groups");
        running = json_object_get_array_member(json_object_get_object_member(o, "kernel_args"),
                                               "running");
        *has_word = FALSE;
        for (guint i = 0; i < json_array_get_length(running); i++)
                *has_word |= g_strcmp0(json_array_get_string_element(running, i), word) == 0;
        reply_clear(&r);
        return boot_id;
}

/* POST /v1/host/reboot on the sim: the configured command line becomes the running one, a new
 * boot id, and the IOMMU the new line turns on brings its groups (the fixture's boot model). */
static void test_host_reboot(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *before = NULL;
        g_autofree char *after = NULL;
        gboolean possible, groups, has_on;
        Reply r;

        before = host_boot(d, &possible, &groups, "intel_iommu=on", &has_on);
        g_assert_true(g_uuid_string_is_valid(before));
        g_assert_false(possible);
        g_assert_false(groups);
        g_assert_false(has_on);
        /* refusals: the read-only token, members, the method */
        r = request_full(d, "POST", "/v1/host/reboot", NULL, d->ro_token, NULL);
        assert_error(&r, 403, "forbidden");
        reply_clear(&r);
        request_error(d, "POST", "/v1/host/reboot", "{\"now\": true}", 400, "invalid-argument");
        request_error(d, "GET", "/v1/host/reboot", NULL, 405, "method-not-allowed");
        request_ok(d, "PUT", "/v1/kernel-args", "{\"enable\": [\"iommu\"]}");
        {
                g_autoptr(JsonNode) root = NULL;
                r = request(d, "POST", "/v1/host/reboot", "{}");
                g_assert_cmpuint(r.status, ==, 202);
                g_assert_true(json_object_get_boolean_member(body_object(&r, &root), "rebooting"));
                g_assert_cmpstr(json_object_get_string_member(body_object(&r, &root), "boot_id"),
                                ==, before);
                reply_clear(&r);
        }
        /* bounded: the reboot runs just after the answer */
        for (guint i = 0; i < 600; i++) {
                g_free(after);
                after = host_boot(d, &possible, &groups, "intel_iommu=on", &has_on);
                if (g_strcmp0(after, before) != 0)
                        break;
                g_usleep(50000);
        }
        g_assert_cmpstr(after, !=, before);
        g_assert_true(g_uuid_string_is_valid(after));
        g_assert_true(has_on);
        g_assert_true(groups);
        g_assert_true(possible);
        {
                g_autoptr(JsonNode) root = NULL;
                r = request(d, "GET", "/v1/groups", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
                                     body_object(&r, &root), "groups")),
                                 >, 0);
                reply_clear(&r);
                r = request(d, "GET", "/v1/kernel-args", NULL);
                g_clear_pointer(&root, json_node_unref);
                g_assert_false(
                    json_object_get_boolean_member(body_object(&r, &root), "reboot_required"));
                reply_clear(&r);
        }
        daemon_stop(d);
        {
                /* the real backend on a tree: a reboot would restart this machine */
                const char *args[] = {"--backend", "real", NULL};
                g_autoptr(HdTestFixture) fx2 = hd_test_fixture_new("firmware-only");
                Daemon *real = daemon_start_full(fx2, NULL, args, TRUE);
                request_error(real, "POST", "/v1/host/reboot", NULL, 409, "refused");
                daemon_stop(real);
        }
}

static void test_config_and_listen(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autofree char *conf = hd_test_path(fx, "hostdevd.conf");
        g_autofree char *tok = hd_test_path(fx, "secret/full.token");
        g_autofree char *text = g_strdup_printf("[agent]\nlisten=[::1]:0\ntoken-file=%s\n", tok);
        const char *args[] = {"--config", conf, NULL};
        GError *error = NULL;
        Daemon *d;

        g_assert_true(g_file_set_contents(conf, text, -1, &error));
        d = daemon_start_full(fx, NULL, args, TRUE);
        /* the file's listen and token-file are used (the command line names neither) */
        if (!g_str_has_prefix(d->url, "http://[::1]:")) {
                g_autofree char *log = daemon_log(d);
                /* an IPv6-less host may refuse ::1: then the daemon would not have started */
                g_error("unexpected url %s: %s", d->url, log);
        }
        g_free(d->token);
        d->token = read_token(tok);
        request_ok(d, "GET", "/v1/groups", NULL);
        daemon_stop(d);
        g_clear_error(&error);
}

/* SIGTERM while a detach runs: the agent stops accepting, the operation finishes (it is one
 * journaled transaction) and is answered, the agent exits 0, the group is wholly on vfio-pci
 * and no journal is left. */
static void test_sigterm_mid_operation(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *env[] = {"HOSTDEVD_TEST_OP_DELAY_MS=4000", NULL};
        Daemon *d = daemon_start(fx, env);
        Call c = {d, "/v1/devices/" GPU "/detach", "{\"group\":true}"};
        GThread *t = g_thread_new("call", call_thread, &c);
        gint64 start;

        wait_in_flight(d);
        start = g_get_monotonic_time();
        g_subprocess_send_signal(d->proc, SIGTERM);
        g_assert_true(wait_exit(d->proc, 10));
        if (!g_subprocess_get_if_exited(d->proc)) {
                g_autofree char *log = daemon_log(d);
                g_error("hostdevd died of signal %d: %s", g_subprocess_get_term_sig(d->proc), log);
        }
        g_assert_cmpint(g_subprocess_get_exit_status(d->proc), ==, 0);
        g_test_message("stopped %.3f s after SIGTERM", (g_get_monotonic_time() - start) / 1e6);
        g_thread_join(t);
        /* the caller got its answer before the agent closed the connection */
        g_assert_cmpuint(c.status, ==, 200);
        g_free(c.reply);
        assert_driver(fx, GPU, "vfio-pci");
        assert_driver(fx, AUDIO, "vfio-pci");
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        {
                g_autofree char *log = daemon_log(d);
                g_assert_nonnull(strstr(log, "msg=stopping operations_running=1"));
                g_assert_nonnull(strstr(log, "msg=stopped"));
        }
        g_clear_object(&d->proc);
        daemon_stop(d);
}

/* The agent killed in the middle of a detach (HOSTDEV_CRASH_AT kills it after its third
 * write): the next agent rolls the transaction back before it serves. */
static void test_restart_after_kill(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *env[] = {"HOSTDEV_CRASH_AT=write:3", NULL};
        Daemon *d = daemon_start(fx, env);
        Call c = {d, "/v1/devices/" GPU "/detach", "{\"group\":true}"};

        call_thread(&c);
        g_assert_cmpuint(c.status / 100, !=, 2); /* no answer: the agent died */
        g_free(c.reply);
        g_assert_true(wait_exit(d->proc, 10));
        g_assert_true(g_subprocess_get_if_signaled(d->proc));
        g_assert_cmpint(g_subprocess_get_term_sig(d->proc), ==, SIGKILL);
        g_assert_cmpuint(pending_journals(fx), ==, 1);
        g_clear_object(&d->proc);
        daemon_stop(d);

        d = daemon_start(fx, NULL);
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        request_ok(d, "POST", "/v1/devices/" GPU "/detach", "{\"group\":true}");
        assert_driver(fx, GPU, "vfio-pci");
        daemon_stop(d);
}

/* Issue 12 item 10: an interrupted operation shows in the agent's readiness (/v1/host is
 * `hostdev check --json`), in its groups and device answers, as in the CLI's. Read-only, so
 * the agent does not recover it at start; a full agent recovers it at start. */
static void test_interrupted_readiness(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mid-crash");
        const char *args[] = {"--read-only", NULL};
        Daemon *d = daemon_start_full(fx, NULL, args, TRUE);
        Reply r;

        r = request(d, "GET", "/v1/host", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o = json_object_get_object_member(body_object(&r, &root), "readiness");
                JsonArray *checks = json_object_get_array_member(o, "checks");
                JsonObject *last = NULL;
                for (guint i = 0; i < json_array_get_length(checks); i++) {
                        JsonObject *c = json_array_get_object_element(checks, i);
                        if (strcmp(json_object_get_string_member(c, "id"), "interrupted") == 0)
                                last = c;
                }
                g_assert_nonnull(last);
                g_assert_cmpint(json_object_get_int_member(o, "interrupted_operations"), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(last, "id"), ==, "interrupted");
                g_assert_cmpstr(json_object_get_string_member(last, "status"), ==, "warn");
                g_assert_nonnull(strstr(json_object_get_string_member(last, "summary"),
                                        "1 interrupted operation: run hostdev recover"));
        }
        reply_clear(&r);
        r = request(d, "GET", "/v1/groups", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                const char *list[] = {"groups", NULL};
                g_autofree char *cli = cli_json(fx, list, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                JsonArray *groups = json_object_get_array_member(body_object(&r, &root), "groups");
                gboolean seen = FALSE;
                for (guint i = 0; i < json_array_get_length(groups); i++) {
                        JsonObject *g = json_array_get_object_element(groups, i);
                        if (json_object_get_int_member(g, "group") != 1)
                                continue;
                        g_assert_cmpstr(json_object_get_string_member(g, "state"), ==,
                                        "interrupted");
                        seen = TRUE;
                }
                g_assert_true(seen);
                g_assert_true(json_node_equal(
                    json_object_get_member(json_node_get_object(root), "groups"),
                    json_object_get_member(json_node_get_object(cli_root), "groups")));
        }
        reply_clear(&r);
        r = request(d, "GET", "/v1/devices/0000:01:00.1", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                g_assert_cmpint(
                    json_object_get_int_member(body_object(&r, &root), "interrupted_operations"),
                    ==, 1);
        }
        reply_clear(&r);
        daemon_stop(d);

        /* a full agent recovers at start: nothing is left to report */
        d = daemon_start(fx, NULL);
        r = request(d, "GET", "/v1/host", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o = json_object_get_object_member(body_object(&r, &root), "readiness");
                g_assert_cmpint(json_object_get_int_member(o, "interrupted_operations"), ==, 0);
        }
        reply_clear(&r);
        daemon_stop(d);
        {
                g_autofree char *drv = hd_test_driver(fx, "0000:01:00.0");
                g_assert_cmpstr(drv, ==, "nouveau");
        }
}

/* The snapshot of a real machine, served read-only: the same devices as `hostdev list --json`
 * on it, and nothing may change. */
static void test_read_only_snapshot(void)
{
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *cmd =
            g_strdup_printf("tar xzf '%s/tests/fixtures/snapshots/kvm-guest-virtio.tar.gz' -C '%s'",
                            g_getenv("HOSTDEV_SOURCE_DIR"), tmp);
        HdTestFixture fx = {.root = tmp};
        const char *args[] = {"--read-only", NULL};
        Daemon *d;
        Reply r;

        g_assert_cmpint(system(cmd), ==, 0);
        d = daemon_start_full(&fx, NULL, args, TRUE);
        {
                const char *list[] = {"list", NULL};
                g_autofree char *cli = cli_json(&fx, list, 0);
                g_autoptr(JsonNode) cli_root = hd_test_parse_json(cli);
                g_autoptr(JsonNode) api_root = NULL;
                JsonObject *api;

                r = request(d, "GET", "/v1/devices", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                api = body_object(&r, &api_root);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(api, "devices")), ==, 6);
                g_assert_true(json_node_equal(
                    json_object_get_member(api, "devices"),
                    json_object_get_member(json_node_get_object(cli_root), "devices")));
                reply_clear(&r);
        }
        /* no IOMMU on that machine: no groups */
        r = request(d, "GET", "/v1/groups", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o = body_object(&r, &root);
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "groups")),
                                 ==, 0);
        }
        reply_clear(&r);
        /* even the full token may not change anything */
        request_error(d, "POST", "/v1/devices/0000:00:02.0/detach", "{}", 403, "forbidden");
        daemon_stop(d);
        {
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
                g_assert_cmpint(system(rm), ==, 0);
        }
}

/* This machine, served read-only: GET /v1/devices answers what `hostdev list --json` says.
 * The daemon runs with the real backend on / but --read-only, with its tokens in a temporary
 * directory: nothing on the host is written. */
static void test_live_read_only(void)
{
        const char *bin = g_getenv("HOSTDEVD");
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *token_file = g_build_filename(tmp, "agent.token", NULL);
        g_autofree char *ro_file = g_build_filename(tmp, "agent-ro.token", NULL);
        HdTestFixture fx = {.root = tmp};
        const char *argv[] = {bin, "--root", "/", "--read-only", "--listen", "127.0.0.1:0",
                              "--token-file", token_file, "--read-only-token-file", ro_file,
                              "--libvirt-uri", "test:///default", NULL};
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GDataInputStream) in = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *line = NULL;
        const char *list[] = {"list", "--json", NULL};
        g_autofree char *cli = NULL;
        g_autoptr(JsonNode) cli_root = NULL;
        g_autoptr(JsonNode) api_root = NULL;
        Daemon *d = g_new0(Daemon, 1);
        Reply r;

        if (!g_file_test("/sys/bus/pci/devices", G_FILE_TEST_IS_DIR)) {
                g_test_skip("this machine has no /sys/bus/pci");
                g_free(d);
                return;
        }
        d->fx = &fx;
        d->log = g_build_filename(tmp, "hostdevd.log", NULL);
        g_subprocess_launcher_set_stderr_file_path(l, d->log);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        d->proc = g_subprocess_launcher_spawnv(l, argv, &error);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(d->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!line) {
                g_autofree char *log = daemon_log(d);
                g_error("hostdevd did not start on /: %s", log);
        }
        g_assert_true(g_str_has_prefix(line, "listening "));
        d->url = g_strdup(line + strlen("listening "));
        if (g_str_has_suffix(d->url, "/"))
                d->url[strlen(d->url) - 1] = '\0';
        d->token = read_token(token_file);
        d->ro_token = read_token(ro_file);
        d->session = soup_session_new_with_options("timeout", 30, NULL);

        g_assert_cmpint(hd_test_run_cli(list, NULL, &cli, NULL), ==, 0);
        cli_root = hd_test_parse_json(cli);
        r = request(d, "GET", "/v1/devices", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                JsonObject *api = body_object(&r, &api_root);
                g_assert_true(json_node_equal(
                    json_object_get_member(api, "devices"),
                    json_object_get_member(json_node_get_object(cli_root), "devices")));
        }
        reply_clear(&r);
        request_error(d, "POST", "/v1/devices/0000:00:00.0/detach", "{}", 403, "forbidden");
        daemon_stop(d);
        {
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
                g_assert_cmpint(system(rm), ==, 0);
        }
}

static gboolean accept_any(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                           gpointer data)
{
        return TRUE;
}

static void test_tls(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *cert = hd_test_path(fx, "agent.crt");
        g_autofree char *key = hd_test_path(fx, "agent.key");
        const char *openssl[] = {"openssl", "req",     "-x509", "-newkey",       "rsa:2048",
                                 "-nodes",  "-keyout", key,     "-out",          cert,
                                 "-days",   "1",       "-subj", "/CN=localhost", NULL};
        const char *args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
        g_autofree char *openssl_path = g_find_program_in_path("openssl");
        int status = 0;
        Daemon *d;

        if (!openssl_path) {
                g_test_skip("openssl is not installed to make a test certificate");
                return;
        }
        g_spawn_sync(NULL, (char **)openssl, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        d = daemon_start_full(fx, NULL, args, TRUE);
        g_assert_true(g_str_has_prefix(d->url, "https://127.0.0.1:"));
        {
                g_autofree char *uri = g_strconcat(d->url, "/v1/devices", NULL);
                g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
                g_autofree char *auth = g_strconcat("Bearer ", d->token, NULL);
                g_autoptr(GBytes) out = NULL;
                g_autoptr(GError) error = NULL;

                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                             auth);
                g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_any), NULL);
                out = soup_session_send_and_read(d->session, msg, NULL, &error);
                g_assert_no_error(error);
                g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
                g_assert_nonnull(soup_message_get_tls_peer_certificate(msg));
        }
        daemon_stop(d);
}

/* Issue 12 items 2, 3: the agent sees what the CLI sees: the bridge above a NIC and the
 * processes on a GPU, in GET /v1/devices/ADDR and in the refusal of a detach. */
static void test_host_use_through_stack(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        r = request(d, "GET", "/v1/devices/0000:03:00.0", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonArray *uses =
                    json_object_get_array_member(body_object(&r, &root), "network_use");
                g_assert_cmpuint(json_array_get_length(uses), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(
                                    json_array_get_object_element(uses, 0), "carrier"),
                                ==, "vmbr0");
        }
        reply_clear(&r);
        r = request(d, "POST", "/v1/devices/0000:03:00.0/detach", "{\"force\": 1}");
        assert_error(&r, 409, "refused");
        {
                g_autoptr(JsonNode) root = NULL;
                const char *m = error_message(&r, &root);
                g_assert_nonnull(strstr(m, "enp3s0f0 is a port of bridge vmbr0, which carries the "
                                           "host's default route"));
                g_assert_nonnull(strstr(m, "\"force\": 2"));
                g_assert_null(strstr(m, "--force"));
        }
        reply_clear(&r);
        /* the boot GPU's framebuffer: the kernel-args hint in the API's words */
        r = request(d, "POST", "/v1/devices/0000:0c:00.0/detach", "{\"group\": true}");
        assert_error(&r, 409, "refused");
        {
                g_autoptr(JsonNode) root = NULL;
                const char *m = error_message(&r, &root);
                g_assert_nonnull(
                    strstr(m, "PUT /v1/kernel-args with {\"enable\": [\"release-framebuffer\"]}"));
                g_assert_null(strstr(m, "hostdev "));
        }
        reply_clear(&r);
        assert_driver(fx, "0000:03:00.0", "igb");
        daemon_stop(d);
}

/* ---- SR-IOV and mediated devices ---------------------------------------------------------- */

static gboolean exists_rel(HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);

        return g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
}

#define SRIOV_PF "0000:18:00.0"
#define SRIOV_VF0 "0000:18:01.0"

/* The object of @addr in a /v1/devices answer. */
static JsonObject *device_of(JsonObject *answer, const char *addr)
{
        JsonArray *devs = json_object_get_array_member(answer, "devices");

        for (guint i = 0; i < json_array_get_length(devs); i++) {
                JsonObject *o = json_array_get_object_element(devs, i);
                if (g_strcmp0(json_object_get_string_member(o, "address"), addr) == 0)
                        return o;
        }
        return NULL;
}

/* The CLI's --json answer of @args, parsed. */
static JsonNode *cli_json_node(HdTestFixture *fx, const char *const *args)
{
        g_autofree char *out = cli_json(fx, args, 0);

        return hd_test_parse_json(out);
}

/* The inventory says which devices are PFs (VF count, autoprobe, VFs) and which VFs (their
 * PF); GET /v1/devices/{pf}/sriov is `hostdev sriov PF --json`; POST changes the VF count as
 * one transaction (dry run, refusals as 409 with the API's words, persist), and the
 * inventory's generation moves so long polls wake up. */
static void test_sriov(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *etag = NULL;
        Reply r;

        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *pf, *vf, *other;
                r = request(d, "GET", "/v1/devices", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                pf = device_of(body_object(&r, &root), SRIOV_PF);
                vf = device_of(json_node_get_object(root), SRIOV_VF0);
                other = device_of(json_node_get_object(root), "0000:5e:00.0");
                g_assert_cmpint(json_object_get_int_member(pf, "sriov_totalvfs"), ==, 64);
                g_assert_cmpint(json_object_get_int_member(pf, "sriov_numvfs"), ==, 4);
                g_assert_true(json_object_get_boolean_member(pf, "sriov_drivers_autoprobe"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(pf, "virtfns")), ==, 4);
                g_assert_cmpstr(json_object_get_string_member(vf, "physfn"), ==, SRIOV_PF);
                g_assert_true(json_object_get_null_member(vf, "sriov_drivers_autoprobe"));
                g_assert_true(json_object_get_null_member(other, "sriov_drivers_autoprobe"));
                etag = g_strdup(r.etag);
                reply_clear(&r);
        }
        /* the PF's object is the CLI's */
        {
                g_autoptr(JsonNode) root = NULL;
                const char *args[] = {"sriov", SRIOV_PF, NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                JsonObject *o;
                r = request(d, "GET", "/v1/devices/" SRIOV_PF "/sriov", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(r.etag, ==, etag);
                o = body_object(&r, &root);
                g_assert_cmpint(json_object_get_int_member(o, "generation"), >=, 1);
                json_object_remove_member(o, "generation");
                g_assert_true(json_node_equal(root, cli));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(o, "vfs")), ==, 4);
                reply_clear(&r);
        }
        r = request_full(d, "GET", "/v1/devices/" SRIOV_PF "/sriov", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 304);
        reply_clear(&r);
        /* not a PF, no such device, not a method */
        request_error_says(d, "GET", "/v1/devices/" SRIOV_VF0 "/sriov", NULL, 400,
                           "invalid-argument", "GET /v1/devices/" SRIOV_PF "/sriov");
        request_error(d, "GET", "/v1/devices/0000:5e:00.0/sriov", NULL, 400, "invalid-argument");
        request_error(d, "GET", "/v1/devices/0000:09:00.0/sriov", NULL, 404, "not-found");
        request_error(d, "PUT", "/v1/devices/" SRIOV_PF "/sriov", "{}", 405, "method-not-allowed");
        r = request_full(d, "POST", "/v1/devices/" SRIOV_PF "/sriov", "{\"numvfs\": 2}",
                         d->ro_token, NULL);
        assert_error(&r, 403, "forbidden");
        reply_clear(&r);
        /* bodies that cannot mean one thing */
        {
                const char *bad[] = {"{}", "{\"numvfs\": -1}", "{\"numvfs\": \"2\"}",
                                     "{\"numvfs\": 2, \"numvf\": 2}", "{\"numvfs\": null}",
                                     "{\"autoprobe\": 0}", "{\"numvfs\": 2, \"timeout\": 0}",
                                     NULL};
                for (const char *const *b = bad; *b; b++) {
                        request_error(d, "POST", "/v1/devices/" SRIOV_PF "/sriov", *b, 400,
                                      "invalid-argument");
                }
        }
        r = request(d, "POST", "/v1/devices/" SRIOV_PF "/sriov", "{\"numvfs\": 100}");
        assert_error(&r, 400, "invalid-argument");
        g_assert_nonnull(strstr(r.body, "at most 64"));
        g_assert_nonnull(
            strstr(r.body, "POST /v1/devices/" SRIOV_PF "/sriov with {\\\"numvfs\\\": 64}"));
        reply_clear(&r);
        request_error(d, "POST", "/v1/devices/" SRIOV_VF0 "/sriov", "{\"numvfs\": 1}", 400,
                      "invalid-argument");
        /* a dry run: the writes it would make, nothing changed, the generation stays (a
         * refused change moves it: the agent does not know what a failure left) */
        r = request(d, "GET", "/v1/devices", NULL);
        g_free(etag);
        etag = g_strdup(r.etag);
        reply_clear(&r);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                r = request(d, "POST", "/v1/devices/" SRIOV_PF "/sriov",
                            "{\"numvfs\": 2, \"autoprobe\": false, \"dry_run\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_true(json_object_get_boolean_member(o, "dry_run"));
                g_assert_true(json_object_get_boolean_member(o, "changed"));
                g_assert_cmpint(json_object_get_int_member(o, "numvfs"), ==, 2);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(o, "writes")), ==, 3);
                reply_clear(&r);
                g_assert_true(exists_rel(fx, "sys/bus/pci/devices/0000:18:01.3"));
                r = request_full(d, "GET", "/v1/devices", NULL, d->token, etag);
                g_assert_cmpuint(r.status, ==, 304);
                reply_clear(&r);
        }
        /* the change wakes a long poll; the answer is `hostdev sriov --numvfs --json`'s */
        {
                Poll p = {d, "/v1/devices?wait=20", etag};
                GThread *t = g_thread_new("poll", poll_thread, &p);
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                wait_polling(d);
                r = request(d, "POST", "/v1/devices/" SRIOV_PF "/sriov",
                            "{\"numvfs\": 2, \"autoprobe\": false}");
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_false(json_object_get_boolean_member(o, "dry_run"));
                g_assert_cmpint(json_object_get_int_member(o, "numvfs_before"), ==, 4);
                g_assert_cmpint(json_object_get_int_member(o, "numvfs"), ==, 2);
                g_assert_false(json_object_get_boolean_member(o, "drivers_autoprobe"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(o, "removed")), ==, 4);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(o, "vfs")), ==, 2);
                g_assert_false(json_object_get_boolean_member(o, "persisted"));
                reply_clear(&r);
                g_thread_join(t);
                g_assert_cmpuint(p.status, ==, 200);
                g_assert_cmpstr(p.new_etag, !=, etag);
                g_free(p.new_etag);
        }
        g_assert_false(exists_rel(fx, "sys/bus/pci/devices/0000:18:01.3"));
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *pf;
                r = request(d, "GET", "/v1/devices", NULL);
                pf = device_of(body_object(&r, &root), SRIOV_PF);
                g_assert_cmpint(json_object_get_int_member(pf, "sriov_numvfs"), ==, 2);
                g_assert_false(json_object_get_boolean_member(pf, "sriov_drivers_autoprobe"));
                g_assert_null(device_of(json_node_get_object(root), "0000:18:01.3"));
                reply_clear(&r);
        }
        /* a VF detached for a VM: the count is refused (409) and nothing is written */
        request_ok(d, "POST", "/v1/devices/" SRIOV_VF0 "/detach", "{}");
        r = request(d, "POST", "/v1/devices/" SRIOV_PF "/sriov", "{\"numvfs\": 3}");
        assert_error(&r, 409, "refused");
        g_assert_nonnull(strstr(r.body, SRIOV_VF0));
        g_assert_nonnull(strstr(r.body, "POST /v1/devices/" SRIOV_VF0 "/attach"));
        g_assert_null(strstr(r.body, "hostdev attach"));
        reply_clear(&r);
        g_assert_true(exists_rel(fx, "sys/bus/pci/devices/0000:18:01.1"));
        request_ok(d, "POST", "/v1/devices/" SRIOV_VF0 "/attach", "{}");
        /* persist: the layout at boot, shown by GET */
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *at_boot;
                r = request(d, "POST", "/v1/devices/" SRIOV_PF "/sriov",
                            "{\"numvfs\": 3, \"persist\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_boolean_member(body_object(&r, &root), "persisted"));
                reply_clear(&r);
                g_assert_true(exists_rel(fx, "etc/hostdev/sriov.d/" SRIOV_PF));
                g_clear_pointer(&root, json_node_unref);
                r = request(d, "GET", "/v1/devices/" SRIOV_PF "/sriov", NULL);
                at_boot = json_object_get_object_member(body_object(&r, &root), "at_boot");
                g_assert_nonnull(at_boot);
                g_assert_cmpint(json_object_get_int_member(at_boot, "numvfs"), ==, 3);
                reply_clear(&r);
        }
        /* VFs the CLI makes, which no agent operation announces, move the generation too */
        {
                const char *args[] = {"sriov", SRIOV_PF, "--numvfs", "1", NULL};
                g_autofree char *out = NULL;
                r = request(d, "GET", "/v1/devices", NULL);
                g_free(etag);
                etag = g_strdup(r.etag);
                reply_clear(&r);
                out = cli_json(fx, args, 0);
                r = wait_changed(d, "/v1/devices", etag);
                g_assert_null(strstr(r.body, "\"0000:18:01.1\""));
                reply_clear(&r);
        }
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        daemon_stop(d);
}

/* A VF count change is an operation that changes the host: a reboot asked meanwhile is
 * refused. */
static void test_sriov_holds_reboot(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *env[] = {"HOSTDEVD_TEST_OP_DELAY_MS=4000", NULL};
        Daemon *d = daemon_start(fx, env);
        Call c = {d, "/v1/devices/" SRIOV_PF "/sriov", "{\"numvfs\": 1}"};
        GThread *t = g_thread_new("sriov", call_thread, &c);

        wait_in_flight(d);
        request_error_says(d, "POST", "/v1/host/reboot", "{}", 409, "refused",
                           "changing this host");
        g_thread_join(t);
        assert_ok(&c);
        g_free(c.reply);
        daemon_stop(d);
}

#define MDEV_OPEN "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define MDEV_NEW "0b6ba6d8-2d7c-4a9e-9a5b-4c0e4a1a0001"

/* The available instances of @type of @parent in a /v1/mdev answer. */
static gint64 mdev_available(JsonObject *answer, const char *parent, const char *type)
{
        JsonArray *parents = json_object_get_array_member(answer, "parents");

        for (guint i = 0; i < json_array_get_length(parents); i++) {
                JsonObject *p = json_array_get_object_element(parents, i);
                JsonArray *types = json_object_get_array_member(p, "types");
                if (g_strcmp0(json_object_get_string_member(p, "parent"), parent) != 0)
                        continue;
                for (guint k = 0; k < json_array_get_length(types); k++) {
                        JsonObject *t = json_array_get_object_element(types, k);
                        if (g_strcmp0(json_object_get_string_member(t, "type"), type) == 0)
                                return json_object_get_int_member(t, "available_instances");
                }
        }
        g_error("no type %s of %s", type, parent);
        return -1;
}

static JsonObject *mdev_of(JsonObject *answer, const char *uuid)
{
        JsonArray *mdevs = json_object_get_array_member(answer, "mdevs");

        for (guint i = 0; i < json_array_get_length(mdevs); i++) {
                JsonObject *m = json_array_get_object_element(mdevs, i);
                if (g_strcmp0(json_object_get_string_member(m, "uuid"), uuid) == 0)
                        return m;
        }
        return NULL;
}

/* GET /v1/mdev is `hostdev mdev types --json` and `hostdev mdev list --json` in one answer
 * with the inventory's generation; create and remove run as operations, refusals are the
 * library's (409 for a UUID in use or an open device, 404 for an unknown type, 400 for what
 * cannot be a UUID), and an mdev made by the CLI moves the generation too. */
static void test_mdev(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *etag = NULL;
        gint64 avail;
        Reply r;

        {
                g_autoptr(JsonNode) root = NULL;
                const char *types_args[] = {"mdev", "types", NULL};
                const char *list_args[] = {"mdev", "list", NULL};
                g_autoptr(JsonNode) types = cli_json_node(fx, types_args);
                g_autoptr(JsonNode) list = cli_json_node(fx, list_args);
                JsonObject *o, *open;
                r = request(d, "GET", "/v1/mdev", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_nonnull(r.etag);
                o = body_object(&r, &root);
                g_assert_cmpint(json_object_get_int_member(o, "generation"), >=, 1);
                g_assert_true(json_node_equal(
                    json_object_get_member(o, "parents"),
                    json_object_get_member(json_node_get_object(types), "parents")));
                g_assert_true(json_node_equal(
                    json_object_get_member(o, "mdevs"),
                    json_object_get_member(json_node_get_object(list), "mdevs")));
                open = mdev_of(o, MDEV_OPEN);
                g_assert_true(json_object_get_boolean_member(open, "open"));
                g_assert_cmpint(json_object_get_int_member(open, "iommu_group"), ==, 40);
                avail = mdev_available(o, "mtty", "mtty-1");
                g_assert_cmpint(avail, >, 0);
                etag = g_strdup(r.etag);
                reply_clear(&r);
        }
        r = request_full(d, "GET", "/v1/mdev", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 304);
        reply_clear(&r);
        request_error(d, "DELETE", "/v1/mdev", NULL, 405, "method-not-allowed");
        /* refusals */
        {
                const char *bad[] = {"{}", "{\"parent\": \"mtty\"}",
                                     "{\"parent\": \"../mtty\", \"type\": \"mtty-1\"}",
                                     "{\"parent\": \"mtty\", \"type\": \"mtty-1\", \"uuid\": "
                                     "\"83B8F4F2-509F-382F-3C1E-E6BFE0FA1001\"}",
                                     "{\"parent\": \"mtty\", \"type\": \"mtty-1\", \"force\": 1}",
                                     NULL};
                for (const char *const *b = bad; *b; b++) {
                        request_error(d, "POST", "/v1/mdev", *b, 400, "invalid-argument");
                }
        }
        r = request(d, "POST", "/v1/mdev", "{\"parent\": \"mtty\", \"type\": \"mtty-9\"}");
        assert_error(&r, 404, "not-found");
        g_assert_nonnull(strstr(r.body, "(GET /v1/mdev)"));
        g_assert_null(strstr(r.body, "hostdev mdev"));
        reply_clear(&r);
        request_error(d, "POST", "/v1/mdev", "{\"parent\": \"nosuch\", \"type\": \"mtty-1\"}", 404,
                      "not-found");
        request_error_says(d, "POST", "/v1/mdev",
                           "{\"parent\": \"mtty\", \"type\": \"mtty-1\", \"uuid\": \"" MDEV_OPEN
                           "\"}",
                           409, "refused", "choose another \"uuid\"");
        r = request(d, "POST", "/v1/mdev/" MDEV_OPEN "/remove", "{}");
        assert_error(&r, 409, "busy");
        g_assert_nonnull(strstr(r.body, "4242"));
        g_assert_nonnull(strstr(r.body, "then POST /v1/mdev/" MDEV_OPEN "/remove"));
        g_assert_null(strstr(r.body, "hostdev mdev"));
        reply_clear(&r);
        g_assert_true(exists_rel(fx, "sys/bus/mdev/devices/" MDEV_OPEN));
        request_error(d, "POST", "/v1/mdev/not-a-uuid/remove", "{}", 400, "invalid-argument");
        request_error(d, "POST", "/v1/mdev/" MDEV_NEW "/delete", "{}", 404, "not-found");
        request_error_says(d, "POST", "/v1/mdev/" MDEV_NEW "/remove", "{}", 404, "not-found",
                           "GET /v1/mdev shows them");
        /* a dry run writes nothing */
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                r = request(d, "POST", "/v1/mdev",
                            "{\"parent\": \"mtty\", \"type\": \"mtty-1\", \"uuid\": \"" MDEV_NEW
                            "\", \"dry_run\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_true(json_object_get_boolean_member(o, "dry_run"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(o, "writes")), >, 0);
                reply_clear(&r);
                g_assert_false(exists_rel(fx, "sys/bus/mdev/devices/" MDEV_NEW));
        }
        /* create wakes a long poll of /v1/mdev (sent with the current ETag: the refusals
         * above moved the generation); the capacity goes down */
        {
                Poll p = {d, "/v1/mdev?wait=20", NULL};
                GThread *t;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                r = request(d, "GET", "/v1/mdev", NULL);
                g_free(etag);
                p.etag = etag = g_strdup(r.etag);
                reply_clear(&r);
                t = g_thread_new("poll", poll_thread, &p);
                wait_polling(d);
                r = request(d, "POST", "/v1/mdev",
                            "{\"parent\": \"mtty\", \"type\": \"mtty-1\", \"uuid\": \"" MDEV_NEW
                            "\", \"persist\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_cmpstr(json_object_get_string_member(o, "uuid"), ==, MDEV_NEW);
                g_assert_cmpstr(json_object_get_string_member(o, "parent"), ==, "mtty");
                g_assert_true(json_object_get_boolean_member(o, "persistent"));
                reply_clear(&r);
                g_thread_join(t);
                g_assert_cmpuint(p.status, ==, 200);
                g_assert_cmpstr(p.new_etag, !=, etag);
                g_free(p.new_etag);
        }
        g_assert_true(exists_rel(fx, "sys/bus/mdev/devices/" MDEV_NEW));
        g_assert_true(exists_rel(fx, "etc/mdevctl.d/mtty/" MDEV_NEW));
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                r = request(d, "GET", "/v1/mdev", NULL);
                o = body_object(&r, &root);
                g_assert_cmpint(mdev_available(o, "mtty", "mtty-1"), ==, avail - 1);
                g_assert_true(json_object_get_boolean_member(mdev_of(o, MDEV_NEW), "active"));
                g_free(etag);
                etag = g_strdup(r.etag);
                reply_clear(&r);
        }
        request_ok(d, "POST", "/v1/mdev/" MDEV_NEW "/remove", "{\"persist\": true}");
        g_assert_false(exists_rel(fx, "sys/bus/mdev/devices/" MDEV_NEW));
        g_assert_false(exists_rel(fx, "etc/mdevctl.d/mtty/" MDEV_NEW));
        /* the CLI's mdev, which no agent operation announces, moves the generation */
        {
                const char *args[] = {"mdev", "create", "mtty", "mtty-1", NULL};
                g_autofree char *out = NULL;
                r = request(d, "GET", "/v1/mdev", NULL);
                g_free(etag);
                etag = g_strdup(r.etag);
                reply_clear(&r);
                out = cli_json(fx, args, 0);
                r = wait_changed(d, "/v1/mdev", etag);
                reply_clear(&r);
        }
        daemon_stop(d);
}

#define NIC_PF "0000:01:00.0" /* sriov-nic: ice, ens1f0, 4 VFs */
#define NIC_VF0 "0000:01:01.0"
#define IGB_VF0 "0000:02:10.0" /* igb: no trust */
#define NVME_VF "0000:03:00.1"  /* not a NIC */

/* A VM given a NIC VF: the VF's PF-side settings are saved before it goes (libvirt's
 * virNetDevSaveNetConfig) and set again after the VM stops, whatever was changed meanwhile;
 * an NVMe VF (no PF interface) goes without. */
static void test_vm_vf_net_saved(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-nic");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *saved = hd_test_path(fx, "var/lib/hostdev/vf-net/" NIC_PF "_vf0.json");
        Reply r;

        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"nic-vm\", \"hostdevs\": [\"" NIC_VF0 "\", \"" NVME_VF "\"]}");
        request_ok(d, "POST", "/v1/vms/nic-vm/start", NULL);
        assert_driver(fx, NIC_VF0, "vfio-pci");
        assert_driver(fx, NVME_VF, "vfio-pci");
        g_assert_true(g_file_test(saved, G_FILE_TEST_IS_REGULAR));
        /* changed while the VM has it (a trusted guest, or an admin) */
        request_ok(d, "PUT", "/v1/devices/" NIC_VF0 "/vf-net",
                   "{\"mac\": \"52:54:00:12:34:56\", \"vlan\": 7}");
        request_ok(d, "POST", "/v1/vms/nic-vm/stop", "{}");
        g_assert_false(g_file_test(saved, G_FILE_TEST_EXISTS));
        r = request(d, "GET", "/v1/devices/" NIC_VF0 "/vf-net", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"mac\":\"52:54:00:aa:00:01\""));
        g_assert_nonnull(strstr(r.body, "\"vlan\":100"));
        reply_clear(&r);
        daemon_stop(d);
}

/* A VM given an mdev by UUID: defined as <hostdev type='mdev'> (its <address uuid> is no PCI
 * address: the VM's hostdevs stay empty), started once the mdev exists; a UUID that is not
 * canonical is 400. */
static void test_vm_mdev(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        Daemon *d = daemon_start(fx, NULL);

        request_ok(d, "POST", "/v1/mdev",
                   "{\"parent\": \"mtty\", \"type\": \"mtty-1\", "
                   "\"uuid\": \"6f0c9a52-0c1e-4d7a-9a4b-2b1c3d4e5f60\"}");
        request_error(d, "POST", "/v1/vms",
                      "{\"name\": \"bad\", \"mdevs\": [\"6F0C9A52-0C1E-4D7A-9A4B-2B1C3D4E5F60\"]}",
                      400, "invalid-argument");
        request_ok_has(
            d, "POST", "/v1/vms",
            "{\"name\": \"vgpu\", \"mdevs\": [\"6f0c9a52-0c1e-4d7a-9a4b-2b1c3d4e5f60\"]}",
            "\"hostdevs\":[]");
        request_ok_has(d, "POST", "/v1/vms/vgpu/start", NULL, "\"running\"");
        request_ok(d, "POST", "/v1/vms/vgpu/destroy", "{}");
        daemon_stop(d);
}

/* The "holder" of an in-use answer, in the error object and beside it. */
static void assert_in_use(const Reply *r, const char *holder)
{
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        assert_error(r, 409, "in-use");
        o = body_object(r, &root);
        g_assert_cmpstr(json_object_get_string_member(o, "holder"), ==, holder);
        g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(o, "error"),
                                                      "holder"),
                        ==, holder);
}

static void request_in_use(Daemon *d, const char *method, const char *path, const char *body,
                           const char *holder)
{
        Reply r = request(d, method, path, body);

        assert_in_use(&r, holder);
        reply_clear(&r);
}

/* A USB serial with characters a URL path must encode ('/', '%'): GET /v1/usb/{spec} takes
 * the percent-encoded form (an encoded '/' stays in its segment); the encoded separator of
 * "/v1/usb%2F1-3.1" is no separator. */
static void test_usb_encoded_spec(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("usb-desk");
        g_autofree char *serial = hd_test_path(fx, "sys/bus/usb/devices/1-3.2/serial");
        Daemon *d;
        Reply r;

        g_assert_true(g_file_set_contents(serial, "A1/B%2\n", -1, NULL));
        d = daemon_start(fx, NULL);
        r = request(d, "GET", "/v1/usb/0403:6001:A1%2FB%252", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"port_path\":\"1-3.2\""));
        g_assert_nonnull(strstr(r.body, "\"serial\":\"A1/B%2\""));
        reply_clear(&r);
        request_ok_has(d, "GET", "/v1/usb/0403%3A6001%3AA1%2FB%252/xml", NULL, "type='usb'");
        /* unencoded, the '/' splits the path: no such endpoint */
        request_error(d, "GET", "/v1/usb/0403:6001:A1/B%252", NULL, 404, "not-found");
        request_error(d, "GET", "/v1/usb%2F1-3.1", NULL, 404, "not-found");
        /* a VM takes the serial as it is, in its JSON body */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"enc\", \"usb\": [{\"spec\": \"0403:6001:A1/B%2\"}]}");
        request_ok_has(d, "POST", "/v1/vms/enc/start", NULL,
                       "\"spec\":\"0403:6001:A1/B%2\",\"force\":false,\"bus\":1");
        daemon_stop(d);
}

/* A VM's USB devices (POST /v1/vms "usb"): the grammar checked at define (400), the device
 * not needed then; at start the spec is resolved to the device there is now (replugged: its
 * new device number), an absent one is 409 device-absent, a hub or the only keyboard is
 * refused unless force passes it (never a hub); one owner per host, by spec or by device. */
static void test_vm_usb(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("usb-desk");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *devnum = hd_test_path(fx, "sys/bus/usb/devices/1-3.1/devnum");
        Reply r;

        /* the grammar, at define */
        request_error(d, "POST", "/v1/vms", "{\"name\": \"bad\", \"usb\": [{\"spec\": \"1:4\"}]}",
                      400, "invalid-argument");
        request_error(d, "POST", "/v1/vms", "{\"name\": \"bad\", \"usb\": [\"1-3.1\"]}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/vms",
                      "{\"name\": \"bad\", \"usb\": [{\"spec\": \"1-3.1\", \"forse\": true}]}", 400,
                      "invalid-argument");
        request_error(
            d, "POST", "/v1/vms",
            "{\"name\": \"bad\", \"usb\": [{\"spec\": \"1-3.1\"}, {\"spec\": \"1-3.1\"}]}", 400,
            "invalid-argument");
        request_error(d, "GET", "/v1/vms/bad", NULL, 404, "not-found");

        /* defined by vendor:product:serial; unresolved until it runs */
        request_ok_has(d, "POST", "/v1/vms",
                       "{\"name\": \"serial\", \"usb\": [{\"spec\": \"0403:6001:A10K7XYZ\"}]}",
                       "\"usb\":[{\"spec\":\"0403:6001:A10K7XYZ\",\"force\":false,"
                       "\"bus\":null,\"device\":null}],\"scsi\":[]");
        /* one owner: the same spec, or the same device by its port */
        request_in_use(d, "POST", "/v1/vms",
                       "{\"name\": \"thief\", \"usb\": [{\"spec\": \"0403:6001:A10K7XYZ\"}]}",
                       "serial");
        request_in_use(d, "POST", "/v1/vms",
                       "{\"name\": \"thief\", \"usb\": [{\"spec\": \"1-3.1\"}]}", "serial");
        /* its twin is another device */
        request_ok(d, "POST", "/v1/vms", "{\"name\": \"twin\", \"usb\": [{\"spec\": \"1-3.2\"}]}");

        /* replugged between define and start: a new device number, still found */
        g_assert_true(g_file_set_contents(devnum, "42\n", -1, NULL));
        r = request(d, "POST", "/v1/vms/serial/start", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"running\""));
        g_assert_nonnull(strstr(r.body, "\"usb\":[{\"spec\":\"0403:6001:A10K7XYZ\",\"force\":false,"
                                        "\"bus\":1,\"device\":42}]"));
        reply_clear(&r);
        request_ok_has(d, "GET", "/v1/vms", NULL, "\"bus\":1,\"device\":42");
        request_ok_has(d, "POST", "/v1/vms/serial/destroy", "{}", "\"bus\":null,\"device\":null");
        /* and again after the next replug */
        g_assert_true(g_file_set_contents(devnum, "43\n", -1, NULL));
        request_ok_has(d, "POST", "/v1/vms/serial/start", NULL, "\"bus\":1,\"device\":43");
        request_ok(d, "POST", "/v1/vms/serial/destroy", "{}");

        /* absent at start */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"gone\", \"usb\": [{\"spec\": \"dead:beef\"}]}");
        request_error_says(d, "POST", "/v1/vms/gone/start", NULL, 409, "device-absent",
                           "dead:beef");
        request_ok_has(d, "GET", "/v1/vms/gone", NULL, "\"shut off\"");

        /* a hub: never, force or not */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"hub\", \"usb\": [{\"spec\": \"1-3\", \"force\": true}]}");
        request_error_says(d, "POST", "/v1/vms/hub/start", NULL, 409, "refused", "hub");
        /* the only keyboard: refused, then passed by force */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"kbd\", \"usb\": [{\"spec\": \"046d:c31c\"}]}");
        r = request(d, "POST", "/v1/vms/kbd/start", NULL);
        assert_error(&r, 409, "refused");
        {
                g_autoptr(JsonNode) keep = NULL;
                g_assert_nonnull(strstr(error_message(&r, &keep), "keyboard"));
                g_assert_nonnull(strstr(error_message(&r, &keep), "\"force\": true"));
                g_assert_null(strstr(error_message(&r, &keep), "--force"));
        }
        reply_clear(&r);
        request_ok(d, "DELETE", "/v1/vms/kbd", NULL);
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"kbd\", \"usb\": [{\"spec\": \"1-1\", \"force\": true}]}");
        request_ok_has(d, "POST", "/v1/vms/kbd/start", NULL,
                       "\"spec\":\"1-1\",\"force\":true,\"bus\":1");
        request_ok(d, "POST", "/v1/vms/kbd/destroy", "{}");
        /* one owner at start too: the twins' serials swapped since define, "swapped" names by
         * serial what "serial" has by port now; "serial" runs and holds it (usbfs), and the
         * answer names the VM rather than the host's "held" */
        request_in_use(d, "POST", "/v1/vms",
                       "{\"name\": \"byport\", \"usb\": [{\"spec\": \"1-3.1\"}]}", "serial");
        request_ok(d, "DELETE", "/v1/vms/twin", NULL);
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"swapped\", \"usb\": [{\"spec\": \"0403:6001:A10K8ABC\"}]}");
        request_ok(d, "POST", "/v1/vms/serial/start", NULL);
        {
                g_autofree char *s1 = hd_test_path(fx, "sys/bus/usb/devices/1-3.1/serial");
                g_autofree char *s2 = hd_test_path(fx, "sys/bus/usb/devices/1-3.2/serial");
                g_autofree char *link = hd_test_path(fx, "sys/bus/usb/devices/1-3.1:1.0/driver");
                g_assert_true(g_file_set_contents(s1, "A10K8ABC\n", -1, NULL));
                g_assert_true(g_file_set_contents(s2, "A10K7XYZ\n", -1, NULL));
                g_assert_cmpint(g_unlink(link), ==, 0);
                g_assert_cmpint(symlink("../../../../../../../bus/usb/drivers/usbfs", link), ==, 0);
        }
        request_ok_has(d, "GET", "/v1/usb/1-3.1", NULL, "\"verdict\":\"held\"");
        request_in_use(d, "POST", "/v1/vms/swapped/start", NULL, "serial");
        request_ok(d, "POST", "/v1/vms/serial/destroy", "{}");
        /* a VM without USB devices answers empty arrays */
        request_ok_has(d, "POST", "/v1/vms", "{\"name\": \"plain\"}", "\"usb\":[],\"scsi\":[]");
        daemon_stop(d);
}

/* POST /v1/vms "vhost_scsi": [{"wwpn"}] (0..4, naa. and 16 hex digits, none twice): the
 * <hostdev type='scsi_host'> elements are in the definition; at start the target must be there
 * (409 device-absent naming it) and ready (409 refused with the library's reason); one VM of the
 * agent per target (409 in-use with the holder, at define and at start); GET /v1/vms shows
 * them, and a VM without any answers "vhost_scsi": []. */
static void test_vm_vhost(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *nexus = hd_test_path(
            fx, "sys/kernel/config/target/vhost/naa.5001405000000011/tpgt_1/nexus");
        static const char *const bad[] = {
            "{\"name\": \"bad\", \"vhost_scsi\": [{\"wwpn\": \"naa.50014050000000\"}]}",
            "{\"name\": \"bad\", \"vhost_scsi\": [{\"wwpn\": \"5001405000000001\"}]}",
            "{\"name\": \"bad\", \"vhost_scsi\": [{}]}",
            "{\"name\": \"bad\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000001\", "
            "\"force\": true}]}",
            "{\"name\": \"bad\", \"vhost_scsi\": [\"naa.5001405000000001\"]}",
            "{\"name\": \"bad\", \"vhost_scsi\": {\"wwpn\": \"naa.5001405000000001\"}}",
            "{\"name\": \"bad\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000001\"}, "
            "{\"wwpn\": \"NAA.5001405000000001\"}]}",
            "{\"name\": \"bad\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000001\"}, "
            "{\"wwpn\": \"naa.5001405000000002\"}, {\"wwpn\": \"naa.5001405000000003\"}, "
            "{\"wwpn\": \"naa.5001405000000004\"}, {\"wwpn\": \"naa.5001405000000005\"}]}",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                request_error(d, "POST", "/v1/vms", bad[i], 400, "invalid-argument");
        }
        request_ok_has(d, "POST", "/v1/vms", "{\"name\": \"plain\"}", "\"vhost_scsi\":[]");

        request_ok_has(
            d, "POST", "/v1/vms",
            "{\"name\": \"srv\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000001\"}]}",
            "\"vhost_scsi\":[{\"wwpn\":\"naa.5001405000000001\"}]");
        /* one owner, whatever the case */
        request_in_use(
            d, "POST", "/v1/vms",
            "{\"name\": \"srv2\", \"vhost_scsi\": [{\"wwpn\": \"NAA.5001405000000001\"}]}", "srv");
        request_ok(d, "POST", "/v1/vms/srv/start", NULL);
        request_ok_has(d, "GET", "/v1/vms", NULL,
                       "\"vhost_scsi\":[{\"wwpn\":\"naa.5001405000000001\"}]");
        request_ok(d, "POST", "/v1/vms/srv/destroy", "{}");

        /* not ready: the library's reason, then ready once the nexus is set */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"data\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000011\"}]}");
        request_refused(d, "POST", "/v1/vms/data/start", NULL,
                        "vhost target naa.5001405000000011 is not ready: tpgt_1 has no "
                        "nexus");
        g_assert_true(g_file_set_contents(nexus, "naa.5001405000000012\n", -1, NULL));
        request_ok(d, "POST", "/v1/vms/data/start", NULL);

        /* absent: device-absent naming it; another spelling than configfs': refused */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"gone\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000099\"}]}");
        request_error_says(d, "POST", "/v1/vms/gone/start", NULL, 409, "device-absent",
                           "naa.5001405000000099");
        {
                g_autofree char *dir = hd_test_path(
                    fx, "sys/kernel/config/target/vhost/naa.50014050000000ab/tpgt_1");
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        }
        request_ok_has(
            d, "POST", "/v1/vms",
            "{\"name\": \"upper\", \"vhost_scsi\": [{\"wwpn\": \"NAA.50014050000000AB\"}]}",
            "\"wwpn\":\"naa.50014050000000AB\"");
        request_refused(d, "POST", "/v1/vms/upper/start", NULL,
                        "DELETE /v1/vms/upper and define it again with \"wwpn\": "
                        "\"naa.50014050000000ab\"");
        daemon_stop(d);
}

/* A VM's SCSI LUNs (POST /v1/vms "scsi"): by WWID or by-id name (H:C:T:L is 400), resolved to
 * H:C:T:L at start; absent 409 device-absent; the root disk never, LVM unless forced; one
 * owner per LUN unless both are shareable. */
static void test_vm_scsi(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        request_error(d, "POST", "/v1/vms",
                      "{\"name\": \"bad\", \"scsi\": [{\"wwid\": \"0:0:1:0\"}]}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/vms", "{\"name\": \"bad\", \"scsi\": [{\"wwid\": \"sda\"}]}",
                      400, "invalid-argument");
        request_error(d, "POST", "/v1/vms",
                      "{\"name\": \"bad\", \"scsi\": [{\"wwid\": \"naa.50014380272a1b2c\", "
                      "\"shareable\": 1}]}",
                      400, "invalid-argument");

        request_ok_has(d, "POST", "/v1/vms",
                       "{\"name\": \"tape\", \"scsi\": [{\"wwid\": \"naa.50014380272A1B2C\"}]}",
                       "\"scsi\":[{\"wwid\":\"naa.50014380272a1b2c\","
                       "\"shareable\":false,\"readonly\":false,\"force\":false,"
                       "\"hctl\":null}]");
        request_in_use(d, "POST", "/v1/vms",
                       "{\"name\": \"tape2\", \"scsi\": [{\"wwid\": \"naa.50014380272a1b2c\", "
                       "\"shareable\": true}]}",
                       "tape");
        request_ok_has(d, "POST", "/v1/vms/tape/start", NULL, "\"hctl\":\"0:0:1:0\"");
        request_ok_has(d, "POST", "/v1/vms/tape/destroy", "{}", "\"hctl\":null");

        /* a shared cluster disk, by by-id name in one VM and by WWID in the other */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"node1\", \"scsi\": [{\"wwid\": "
                   "\"/dev/disk/by-id/wwn-0x6001405abcdef0123456789abcdef012\", "
                   "\"shareable\": true}]}");
        request_in_use(d, "POST", "/v1/vms",
                       "{\"name\": \"node2\", \"scsi\": [{\"wwid\": "
                       "\"naa.6001405abcdef0123456789abcdef012\"}]}",
                       "node1");
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"node2\", \"scsi\": [{\"wwid\": "
                   "\"naa.6001405abcdef0123456789abcdef012\", \"shareable\": true, "
                   "\"readonly\": true}]}");
        request_ok_has(d, "POST", "/v1/vms/node1/start", NULL, "\"hctl\":\"0:0:3:0\"");
        request_ok_has(d, "POST", "/v1/vms/node2/start", NULL,
                       "\"readonly\":true,\"force\":false,\"hctl\":\"0:0:3:0\"");

        /* absent; the root disk, force or not; LVM, passed by force */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"gone\", \"scsi\": [{\"wwid\": \"naa.0123456789abcdef\"}]}");
        request_error(d, "POST", "/v1/vms/gone/start", NULL, 409, "device-absent");
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"root\", \"scsi\": [{\"wwid\": \"naa.5000c500a1b2c3d0\", "
                   "\"force\": true}]}");
        request_error_says(d, "POST", "/v1/vms/root/start", NULL, 409, "refused", "root");
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"lvm\", \"scsi\": [{\"wwid\": \"naa.5000c500a1b2c3d4\"}]}");
        r = request(d, "POST", "/v1/vms/lvm/start", NULL);
        assert_error(&r, 409, "refused");
        {
                g_autoptr(JsonNode) keep = NULL;
                g_assert_nonnull(strstr(error_message(&r, &keep), "LVM"));
                g_assert_nonnull(strstr(error_message(&r, &keep), "\"force\": true"));
        }
        reply_clear(&r);
        request_ok(d, "DELETE", "/v1/vms/lvm", NULL);
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"lvm\", \"scsi\": [{\"wwid\": \"naa.5000c500a1b2c3d4\", "
                   "\"force\": true}]}");
        request_ok(d, "POST", "/v1/vms/lvm/start", NULL);
        /* a LUN another process holds open: busy, passed by shareable */
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"netapp\", \"scsi\": [{\"wwid\": "
                   "\"naa.600a098038303053453f463045727a31\"}]}");
        request_error_says(d, "POST", "/v1/vms/netapp/start", NULL, 409, "busy",
                           "\"shareable\": true");
        request_ok(d, "DELETE", "/v1/vms/netapp", NULL);
        request_ok(d, "POST", "/v1/vms",
                   "{\"name\": \"netapp\", \"scsi\": [{\"wwid\": "
                   "\"naa.600a098038303053453f463045727a31\", \"shareable\": true}]}");
        request_ok_has(d, "POST", "/v1/vms/netapp/start", NULL, "\"hctl\":\"2:0:0:0\"");
        daemon_stop(d);
}

/* A NIC VF's network settings: GET is `hostdev sriov-vf VF --json`'s object, PUT changes
 * them through the PF (dry run, refusals 400 naming the field, a setting the driver lacks
 * set back and answered 400). */
static void test_vf_net(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-nic");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *etag = NULL;
        Reply r;

        {
                g_autoptr(JsonNode) root = NULL;
                const char *args[] = {"sriov-vf", NIC_VF0, NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                JsonObject *o;
                r = request(d, "GET", "/v1/devices/" NIC_VF0 "/vf-net", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_cmpstr(json_object_get_string_member(o, "pf"), ==, NIC_PF);
                g_assert_cmpstr(json_object_get_string_member(o, "netdev"), ==, "ens1f0");
                g_assert_cmpint(json_object_get_int_member(o, "index"), ==, 0);
                json_object_remove_member(json_node_get_object(cli), "dry_run");
                json_object_remove_member(json_node_get_object(cli), "writes");
                g_assert_true(json_node_equal(root, cli));
                reply_clear(&r);
        }
        request_error(d, "GET", "/v1/devices/" NIC_PF "/vf-net", NULL, 400, "invalid-argument");
        request_error(d, "GET", "/v1/devices/" NVME_VF "/vf-net", NULL, 400, "invalid-argument");
        request_error(d, "GET", "/v1/devices/0000:09:00.0/vf-net", NULL, 404, "not-found");
        request_error(d, "POST", "/v1/devices/" NIC_VF0 "/vf-net", "{\"trust\": true}", 405,
                      "method-not-allowed");
        {
                const char *bad[] = {"{}", "{\"qos\": 1}", "{\"vlan\": 5000}",
                                     "{\"vlan\": 10, \"qos\": 8}", "{\"mac\": null}",
                                     "{\"mac\": \"52:54:00\"}", "{\"link_state\": \"up\"}",
                                     "{\"vlan\": 10, \"vlan_proto\": \"802.1x\"}",
                                     "{\"mac\": \"01:00:5e:00:00:01\"}", "{\"trust\": 1}",
                                     NULL};
                for (const char *const *b = bad; *b; b++) {
                        request_error(d, "PUT", "/v1/devices/" NIC_VF0 "/vf-net", *b, 400,
                                      "invalid-argument");
                }
        }
        request_error(d, "PUT", "/v1/devices/" NIC_PF "/vf-net", "{\"trust\": true}", 400,
                      "invalid-argument");
        r = request(d, "GET", "/v1/devices/" NIC_PF "/sriov", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        etag = g_strdup(r.etag);
        reply_clear(&r);
        /* a dry run changes nothing */
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                r = request(d, "PUT", "/v1/devices/" NIC_VF0 "/vf-net",
                            "{\"vlan\": 200, \"qos\": 5, \"dry_run\": true}");
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_true(json_object_get_boolean_member(o, "dry_run"));
                g_assert_cmpint(json_object_get_int_member(o, "changed"), ==, 1);
                g_assert_cmpint(json_object_get_int_member(
                                    json_object_get_object_member(o, "net"), "vlan"),
                                ==, 100);
                reply_clear(&r);
        }
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *net;
                r = request(d, "PUT", "/v1/devices/" NIC_VF0 "/vf-net",
                            "{\"mac\": \"52:54:00:12:34:56\", \"vlan\": 200, \"qos\": 5, "
                            "\"trust\": true, \"max_tx_rate\": 1000}");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpint(json_object_get_int_member(body_object(&r, &root), "changed"),
                                ==, 4);
                reply_clear(&r);
                g_clear_pointer(&root, json_node_unref);
                r = request(d, "GET", "/v1/devices/" NIC_VF0 "/vf-net", NULL);
                net = json_object_get_object_member(body_object(&r, &root), "net");
                g_assert_cmpstr(json_object_get_string_member(net, "mac"), ==,
                                "52:54:00:12:34:56");
                g_assert_cmpint(json_object_get_int_member(net, "vlan"), ==, 200);
                g_assert_cmpint(json_object_get_int_member(net, "qos"), ==, 5);
                g_assert_true(json_object_get_boolean_member(net, "trust"));
                g_assert_cmpint(json_object_get_int_member(net, "max_tx_rate"), ==, 1000);
                g_assert_cmpint(json_object_get_int_member(net, "min_tx_rate"), ==, 0);
                reply_clear(&r);
        }
        /* the PF's answer shows the settings: its ETag moved */
        r = request_full(d, "GET", "/v1/devices/" NIC_PF "/sriov", NULL, d->token, etag);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "52:54:00:12:34:56"));
        reply_clear(&r);
        /* igb has no trust: refused, the MAC set before it set back */
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *net;
                request_error_says(d, "PUT", "/v1/devices/" IGB_VF0 "/vf-net",
                                   "{\"mac\": \"52:54:00:00:00:07\", \"trust\": true}", 400,
                                   "invalid-argument", "trust");
                r = request(d, "GET", "/v1/devices/" IGB_VF0 "/vf-net", NULL);
                net = json_object_get_object_member(body_object(&r, &root), "net");
                g_assert_cmpstr(json_object_get_string_member(net, "mac"), !=,
                                "52:54:00:00:00:07");
                reply_clear(&r);
        }
        daemon_stop(d);
}

/* ---- USB devices and SCSI LUNs ------------------------------------------------------------ */

/* The object of @key = @value in the array @member of @answer, or NULL. */
static JsonObject *member_of(JsonObject *answer, const char *member, const char *key,
                             const char *value)
{
        JsonArray *a = json_object_get_array_member(answer, member);

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *o = json_array_get_object_element(a, i);
                if (g_strcmp0(json_object_get_string_member(o, key), value) == 0)
                        return o;
        }
        return NULL;
}

/* @path's answer is the CLI's --json for @args, with "generation" added. */
static void assert_single_is_cli(Daemon *d, const char *path, const char *const *args)
{
        g_autoptr(JsonNode) root = NULL;
        g_autoptr(JsonNode) cli = cli_json_node(d->fx, args);
        Reply r = request(d, "GET", path, NULL);
        JsonObject *o;

        if (r.status != 200)
                g_error("GET %s: %u %s", path, r.status, r.body);
        g_assert_nonnull(r.etag);
        o = body_object(&r, &root);
        g_assert_cmpint(json_object_get_int_member(o, "generation"), >=, 1);
        json_object_remove_member(o, "generation");
        g_assert_true(json_node_equal(root, cli));
        reply_clear(&r);
}

/* Unplug and plug again: a long poll on @path with the current ETag wakes up when the bus
 * links @rels (below the root) are removed, and the answer no longer has the device (@member's
 * @key = @value); it wakes up again when they are back, and the device is there again. */
static void assert_unplug_wakes(Daemon *d, const char *path, const char *const *rels,
                                const char *member, const char *key, const char *value)
{
        g_autofree char *wait_path = g_strconcat(path, "?wait=20", NULL);
        g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);

        for (const char *const *rel = rels; *rel; rel++) {
                g_autofree char *link = hd_test_path(d->fx, *rel);
                char *target = g_file_read_link(link, NULL);
                g_assert_nonnull(target);
                g_ptr_array_add(targets, target);
        }
        for (int plug = 0; plug < 2; plug++) {
                g_autoptr(JsonNode) root = NULL;
                Reply r = request(d, "GET", path, NULL);
                Poll p = {d, wait_path, r.etag};
                GThread *t = g_thread_new("poll", poll_thread, &p);
                JsonObject *o;

                wait_polling(d);
                for (guint i = 0; rels[i]; i++) {
                        /* plugging makes the device before its interfaces: the reverse order */
                        guint k = plug ? targets->len - 1 - i : i;
                        g_autofree char *link = hd_test_path(d->fx, rels[k]);
                        if (plug)
                                g_assert_cmpint(symlink(targets->pdata[k], link), ==, 0);
                        else
                                g_assert_cmpint(unlink(link), ==, 0);
                }
                g_thread_join(t);
                g_assert_cmpuint(p.status, ==, 200);
                g_assert_cmpstr(p.new_etag, !=, r.etag);
                g_assert_cmpfloat(p.seconds, <, 10);
                g_free(p.new_etag);
                reply_clear(&r);
                r = request(d, "GET", path, NULL);
                g_assert_cmpuint(r.status, ==, 200);
                o = member_of(body_object(&r, &root), member, key, value);
                if (plug)
                        g_assert_nonnull(o);
                else
                        g_assert_null(o);
                reply_clear(&r);
        }
}

/* GET /v1/usb is `hostdev usb list --json` under the inventory's ETag (304, ?wait);
 * GET /v1/usb/{spec} is `usb show`, by vendor:product[:serial] or port path, refused as the
 * CLI refuses it; GET /v1/usb/{spec}/xml is `usb xml --json`, with refusals as 409 (the only
 * keyboard, a hub, a device usbfs holds) and ?force=1 for what --force passes; unplugging a
 * device moves the generation and wakes a long poll. */
static void test_usb(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("usb-desk");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        {
                const char *args[] = {"usb", "list", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;
                g_autofree char *etag = NULL;
                JsonObject *o;

                r = request(d, "GET", "/v1/usb", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_nonnull(r.etag);
                o = body_object(&r, &root);
                g_assert_cmpint(json_object_get_int_member(o, "generation"), >=, 1);
                g_assert_true(
                    json_node_equal(json_object_get_member(o, "devices"),
                                    json_object_get_member(json_node_get_object(cli), "devices")));
                /* verdicts, controller and its group as the library decides them */
                o = member_of(o, "devices", "port_path", "1-1");
                g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "only-keyboard");
                g_assert_cmpstr(json_object_get_string_member(o, "controller"), ==, USB);
                g_assert_false(json_object_get_null_member(o, "iommu_group"));
                etag = g_strdup(r.etag);
                reply_clear(&r);
                r = request_full(d, "GET", "/v1/usb", NULL, d->token, etag);
                g_assert_cmpuint(r.status, ==, 304);
                reply_clear(&r);
                r = request_full(d, "GET", "/v1/usb?wait=1", NULL, d->token, etag);
                g_assert_cmpuint(r.status, ==, 304);
                reply_clear(&r);
        }
        {
                const char *by_serial[] = {"usb", "show", "0403:6001:A10K7XYZ", NULL};
                const char *by_port[] = {"usb", "show", "1-3.2", NULL};
                const char *by_ids[] = {"usb", "show", "0781:5581", NULL};
                assert_single_is_cli(d, "/v1/usb/0403:6001:A10K7XYZ", by_serial);
                assert_single_is_cli(d, "/v1/usb/1-3.2", by_port);
                assert_single_is_cli(d, "/v1/usb/0781%3A5581", by_ids);
        }
        /* refused as the CLI refuses: ambiguous, a device number, absent, garbage */
        request_error_says(d, "GET", "/v1/usb/0403:6001", NULL, 400, "invalid-argument",
                           "spec 0403:6001:A10K7XYZ or spec 1-3.1");
        request_error(d, "GET", "/v1/usb/1:4", NULL, 400, "invalid-argument");
        r = request(d, "GET", "/v1/usb/dead:beef", NULL);
        assert_error(&r, 404, "not-found");
        g_assert_nonnull(strstr(r.body, "GET /v1/usb shows the devices"));
        g_assert_null(strstr(r.body, "hostdev"));
        reply_clear(&r);
        request_error(d, "GET", "/v1/usb/1-9/xml", NULL, 404, "not-found");
        request_error(d, "GET", "/v1/usb/1-3.1/config", NULL, 404, "not-found");
        request_error(d, "POST", "/v1/usb", "{}", 405, "method-not-allowed");
        request_error(d, "POST", "/v1/usb/1-3.1/xml", "{}", 405, "method-not-allowed");
        request_error(d, "GET", "/v1/usb?watt=3", NULL, 400, "invalid-argument");

        /* the guest configuration: the CLI's, refusals as 409 */
        {
                const char *args[] = {"usb", "xml", "0403:6001:A10K7XYZ", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;
                r = request(d, "GET", "/v1/usb/0403:6001:A10K7XYZ/xml", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                root = hd_test_parse_json(r.body);
                g_assert_true(json_node_equal(root, cli));
                g_assert_nonnull(strstr(r.body, "type='usb'"));
                /* named by serial among identical devices: pinned to the port, said so */
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
                                     json_node_get_object(root), "warnings")),
                                 ==, 1);
                reply_clear(&r);
        }
        r = request(d, "GET", "/v1/usb/1-1/xml", NULL);
        assert_api_words(&r, "only-keyboard");
        g_assert_nonnull(strstr(r.body, "force=1 gives it to the VM"));
        reply_clear(&r);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;
                r = request(d, "GET", "/v1/usb/1-1/xml?force=1", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_nonnull(strstr(json_object_get_string_member(o, "hostdev_xml"),
                                        "<vendor id='0x046d'/>"));
                g_assert_nonnull(strstr(r.body, "given with force although"));
                reply_clear(&r);
        }
        request_error_says(d, "GET", "/v1/usb/1-3/xml?force=true", NULL, 409, "refused", "(hub)");
        request_error(d, "GET", "/v1/usb/1-1/xml?force=yes", NULL, 400, "invalid-argument");
        request_error(d, "GET", "/v1/usb/1-1/xml?forse=1", NULL, 400, "invalid-argument");
        /* a device a process has claimed (usbfs) is held: 409 even though the cached list
         * has not seen it yet */
        {
                g_autofree char *link = hd_test_path(fx, "sys/bus/usb/devices/1-4:1.0/driver");
                g_assert_cmpint(symlink("../../../../../../bus/usb/drivers/usbfs", link), ==, 0);
                request_error_says(d, "GET", "/v1/usb/0529:0001/xml", NULL, 409, "refused",
                                   "(held)");
                request_ok_has(d, "GET", "/v1/usb/1-4", NULL, "\"verdict\":\"held\"");
        }
        /* unplugging the second serial adapter moves the generation, plugging it again too */
        {
                const char *rels[] = {"sys/bus/usb/devices/1-3.2:1.0", "sys/bus/usb/devices/1-3.2",
                                      NULL};
                g_autofree char *iface = hd_test_path(fx, rels[0]);
                g_autofree char *iface_target = g_file_read_link(iface, NULL);
                g_autofree char *dev = hd_test_path(fx, rels[1]);
                g_autofree char *dev_target = g_file_read_link(dev, NULL);

                assert_unplug_wakes(d, "/v1/usb", rels, "devices", "port_path", "1-3.2");
                /* while it is out, 0403:6001 names one device */
                g_assert_cmpint(unlink(iface), ==, 0);
                g_assert_cmpint(unlink(dev), ==, 0);
                request_ok(d, "GET", "/v1/usb/0403:6001/xml", NULL);
                g_assert_cmpint(symlink(dev_target, dev), ==, 0);
                g_assert_cmpint(symlink(iface_target, iface), ==, 0);
                request_error(d, "GET", "/v1/usb/0403:6001/xml", NULL, 400, "invalid-argument");
        }
        daemon_stop(d);
}

/* GET /v1/scsi is `hostdev scsi list --json` under the ETag; GET /v1/scsi/{wwid} and .../xml
 * are `scsi show` and `scsi xml --json`, a LUN another process holds is 409 busy (unless
 * ?shareable=1), the root disk 409 whatever ?force says, a mounted one 409 unless ?force=1; a
 * LUN going away wakes a long poll. */
static void test_scsi(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        {
                const char *args[] = {"scsi", "list", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;
                g_autofree char *etag = NULL;
                JsonObject *o;

                r = request(d, "GET", "/v1/scsi", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                g_assert_cmpint(json_object_get_int_member(o, "generation"), >=, 1);
                g_assert_true(
                    json_node_equal(json_object_get_member(o, "luns"),
                                    json_object_get_member(json_node_get_object(cli), "luns")));
                o = member_of(o, "luns", "wwid", "naa.600a098038303053453f463045727a31");
                g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "in-use");
                etag = g_strdup(r.etag);
                reply_clear(&r);
                r = request_full(d, "GET", "/v1/scsi", NULL, d->token, etag);
                g_assert_cmpuint(r.status, ==, 304);
                reply_clear(&r);
        }
        {
                const char *tape[] = {"scsi", "show", "naa.50014380272a1b2c", NULL};
                const char *hctl[] = {"scsi", "show", "1:0:0:0", NULL};
                assert_single_is_cli(d, "/v1/scsi/naa.50014380272a1b2c", tape);
                assert_single_is_cli(d, "/v1/scsi/1:0:0:0", hctl);
        }
        r = request(d, "GET", "/v1/scsi/naa.0123456789abcdef", NULL);
        assert_error(&r, 404, "not-found");
        g_assert_nonnull(strstr(r.body, "GET /v1/scsi shows the WWIDs"));
        g_assert_null(strstr(r.body, "hostdev"));
        reply_clear(&r);
        request_error_says(d, "GET", "/v1/scsi/9:0:0:0", NULL, 404, "not-found",
                           "GET /v1/scsi shows the LUNs");
        request_error(d, "GET", "/v1/scsi/sda", NULL, 400, "invalid-argument");
        request_error(d, "DELETE", "/v1/scsi/naa.50014380272a1b2c", NULL, 405,
                      "method-not-allowed");
        {
                const char *args[] = {"scsi", "xml", "naa.50014380272a1b2c", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;
                r = request(d, "GET", "/v1/scsi/naa.50014380272a1b2c/xml", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                root = hd_test_parse_json(r.body);
                g_assert_true(json_node_equal(root, cli));
                g_assert_nonnull(strstr(r.body, "type='scsi'"));
                reply_clear(&r);
        }
        /* the vport's LUN a running VM holds: one owner */
        r = request(d, "GET", "/v1/scsi/naa.600a098038303053453f463045727a31/xml", NULL);
        assert_error(&r, 409, "busy");
        g_assert_nonnull(strstr(r.body, "4242"));
        g_assert_nonnull(strstr(r.body, "pass shareable=1 when"));
        g_assert_nonnull(strstr(r.body, "or force=1"));
        g_assert_null(strstr(r.body, "--"));
        reply_clear(&r);
        request_ok_has(d, "GET", "/v1/scsi/naa.600a098038303053453f463045727a31/xml?shareable=1",
                       NULL, "<shareable/>");
        /* the root filesystem's disk: never */
        request_error(d, "GET", "/v1/scsi/naa.5000c500a1b2c3d0/xml?force=1", NULL, 409, "refused");
        /* mounted on /srv: with force only, and said so */
        request_refused(d, "GET", "/v1/scsi/naa.5000c500a1b2c3d5/xml", NULL, "or pass force=1");
        r = request(d, "GET", "/v1/scsi/naa.5000c500a1b2c3d5/xml?force=1&readonly=1", NULL);
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "passed as asked"));
        g_assert_nonnull(strstr(r.body, "<readonly/>"));
        reply_clear(&r);
        /* by H:C:T:L: given, with the warning that the adapter number changes */
        request_ok_has(d, "GET", "/v1/scsi/0:0:1:0/xml", NULL,
                       "name it by its WWID: naa.50014380272a1b2c");
        request_error(d, "GET", "/v1/scsi/0:0:1:0/xml?share=1", NULL, 400, "invalid-argument");
        /* NPIV, read-only: `hostdev npiv list --json`, read at every call */
        {
                const char *args[] = {"npiv", "list", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;
                const char *create[] = {"--root", fx->root, "npiv", "create", "host1",
                                        "--wwpn", "0x2001001122334466", "--wwnn",
                                        "0x2000001122334466", NULL};
                r = request(d, "GET", "/v1/npiv", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                root = hd_test_parse_json(r.body);
                g_assert_true(json_node_equal(root, cli));
                g_assert_nonnull(strstr(r.body, "\"port_name\":\"0x2001001122334455\""));
                reply_clear(&r);
                g_assert_cmpint(hd_test_run_cli(create, NULL, NULL, NULL), ==, 0);
                request_ok_has(d, "GET", "/v1/npiv", NULL, "0x2001001122334466");
                request_error(d, "PUT", "/v1/npiv", "{}", 405, "method-not-allowed");
                request_error(d, "GET", "/v1/npiv/host1", NULL, 404, "not-found");
        }
        /* the medium changer goes away and comes back */
        {
                const char *rels[] = {"sys/bus/scsi/devices/0:0:2:0", NULL};
                assert_unplug_wakes(d, "/v1/scsi", rels, "luns", "hctl", "0:0:2:0");
        }
        request_ok(d, "GET", "/v1/scsi/naa.50014380272a1b2f/xml", NULL);
        daemon_stop(d);
}

/* The generation of the inventory (X-Hostdev-Generation of GET /v1/scsi). */
static guint64 scsi_generation(Daemon *d)
{
        g_autoptr(JsonNode) root = NULL;
        Reply r = request(d, "GET", "/v1/scsi", NULL);
        guint64 g;

        g_assert_cmpuint(r.status, ==, 200);
        g = (guint64)json_object_get_int_member(body_object(&r, &root), "generation");
        reply_clear(&r);
        return g;
}

/* GET /v1/vhost-scsi is `hostdev vhost-scsi list --json` with the generation, read at every
 * call (a target set up in configfs sends no event); GET /v1/vhost-scsi/{wwpn}/xml is
 * `hostdev vhost-scsi xml WWPN --json`; a target that is not ready is 409 refused with what
 * to set up, a malformed WWPN 400, an unknown one 404, in the API's words. */
static void test_vhost_scsi(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        Daemon *d = daemon_start(fx, NULL);
        Reply r;

        {
                const char *args[] = {"vhost-scsi", "list", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o;

                r = request(d, "GET", "/v1/vhost-scsi", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_null(r.etag);
                o = body_object(&r, &root);
                g_assert_cmpint(json_object_get_int_member(o, "generation"), ==,
                                (gint64)scsi_generation(d));
                g_assert_true(json_node_equal(
                    json_object_get_member(o, "targets"),
                    json_object_get_member(json_node_get_object(cli), "targets")));
                o = member_of(o, "targets", "wwpn", "naa.5001405000000011");
                g_assert_false(json_object_get_boolean_member(o, "ready"));
                reply_clear(&r);
        }
        {
                const char *args[] = {"vhost-scsi", "xml", "naa.5001405000000001", NULL};
                g_autoptr(JsonNode) cli = cli_json_node(fx, args);
                g_autoptr(JsonNode) root = NULL;

                /* any case, as the CLI */
                r = request(d, "GET", "/v1/vhost-scsi/NAA.5001405000000001/xml", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                root = hd_test_parse_json(r.body);
                g_assert_true(json_node_equal(root, cli));
                g_assert_nonnull(strstr(r.body, "<source protocol='vhost' "
                                                "wwpn='naa.5001405000000001'/>"));
                reply_clear(&r);
        }
        r = request(d, "GET", "/v1/vhost-scsi/naa.5001405000000011/xml", NULL);
        assert_api_words(&r, "vhost target naa.5001405000000011 is not ready: tpgt_1 has no "
                             "nexus");
        g_assert_nonnull(strstr(r.body, "GET /v1/vhost-scsi"));
        reply_clear(&r);
        r = request(d, "GET", "/v1/vhost-scsi/naa.50014050000000/xml", NULL);
        assert_error(&r, 400, "invalid-argument");
        g_assert_nonnull(strstr(r.body, "GET /v1/vhost-scsi shows the targets"));
        g_assert_null(strstr(r.body, "hostdev"));
        reply_clear(&r);
        request_error(d, "GET", "/v1/vhost-scsi/naa.500140500000000g/xml", NULL, 400,
                      "invalid-argument");
        r = request(d, "GET", "/v1/vhost-scsi/naa.5001405000000099/xml", NULL);
        assert_error(&r, 404, "not-found");
        g_assert_nonnull(strstr(r.body, "GET /v1/vhost-scsi shows them"));
        g_assert_null(strstr(r.body, "hostdev"));
        reply_clear(&r);
        request_error(d, "GET", "/v1/vhost-scsi/naa.5001405000000001", NULL, 404, "not-found");
        request_error(d, "GET", "/v1/vhost-scsi/naa.5001405000000001/qemu", NULL, 404, "not-found");
        request_error(d, "POST", "/v1/vhost-scsi", "{}", 405, "method-not-allowed");
        request_error(d, "GET", "/v1/vhost-scsi?wait=5", NULL, 400, "invalid-argument");
        /* the nexus set up behind the agent's back: seen at the next call */
        {
                g_autofree char *nexus = hd_test_path(
                    fx, "sys/kernel/config/target/vhost/naa.5001405000000011/tpgt_1/nexus");
                g_autoptr(JsonNode) root = NULL;

                g_assert_true(g_file_set_contents(nexus, "naa.5001405000000012\n", -1, NULL));
                r = request(d, "GET", "/v1/vhost-scsi", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_boolean_member(
                    member_of(body_object(&r, &root), "targets", "wwpn", "naa.5001405000000011"),
                    "ready"));
                reply_clear(&r);
                request_ok(d, "GET", "/v1/vhost-scsi/naa.5001405000000011/xml", NULL);
        }
        daemon_stop(d);
}

/* POST /v1/npiv creates a vport on an FC host (`hostdev npiv create --json`, with the WWNs,
 * generated when left out), POST /v1/npiv/{name}/delete deletes it; the generation moves
 * after each; a vHBA cannot carry vports (409), bad WWNs are 400, an unknown vport 404. */
static void test_npiv_create_delete(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        Daemon *d = daemon_start(fx, NULL);
        g_autofree char *wwpn = NULL;
        guint64 gen;
        Reply r;

        request_error(d, "POST", "/v1/npiv", "{}", 400, "invalid-argument");
        request_error(d, "POST", "/v1/npiv", "{\"parent\": \"host1\", \"wwpn\": \"0x12\"}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/npiv", "{\"parent\": \"../host1\"}", 400, "invalid-argument");
        request_error(d, "POST", "/v1/npiv", "{\"parent\": \"host1\", \"force\": true}", 400,
                      "invalid-argument");
        request_error(d, "POST", "/v1/npiv", "{\"parent\": \"host9\"}", 404, "not-found");
        /* host2 is itself a vHBA */
        request_error(d, "POST", "/v1/npiv", "{\"parent\": \"host2\"}", 409, "refused");
        /* the WWPN of a port there is already */
        request_error(d, "POST", "/v1/npiv",
                      "{\"parent\": \"host1\", \"wwpn\": \"2001001122334455\", "
                      "\"wwnn\": \"2000001122334499\"}",
                      409, "refused");

        /* given WWNs, a dry run first: nothing made */
        gen = scsi_generation(d);
        request_ok_has(d, "POST", "/v1/npiv",
                       "{\"parent\": \"1\", \"wwpn\": \"20:01:00:11:22:33:44:77\", "
                       "\"wwnn\": \"2000001122334477\", \"dry_run\": true}",
                       "\"dry_run\":true,\"wwpn\":\"0x2001001122334477\","
                       "\"wwnn\":\"0x2000001122334477\",\"persist\":false,"
                       "\"vport\":null");
        r = request(d, "GET", "/v1/npiv", NULL);
        g_assert_null(strstr(r.body, "0x2001001122334477"));
        reply_clear(&r);
        r = request(d, "POST", "/v1/npiv",
                    "{\"parent\": \"1\", \"wwpn\": \"20:01:00:11:22:33:44:77\", "
                    "\"wwnn\": \"2000001122334477\", \"persist\": true}");
        g_assert_cmpuint(r.status, ==, 200);
        g_assert_nonnull(strstr(r.body, "\"vport\":{"));
        g_assert_nonnull(strstr(r.body, "\"port_name\":\"0x2001001122334477\""));
        reply_clear(&r);
        g_assert_cmpuint(scsi_generation(d), >, gen);
        request_ok_has(d, "GET", "/v1/npiv", NULL,
                       "\"recorded\":[{\"port_name\":\"0x2001001122334477\"");

        /* generated WWNs */
        r = request(d, "POST", "/v1/npiv", "{\"parent\": \"host1\"}");
        g_assert_cmpuint(r.status, ==, 200);
        {
                g_autoptr(JsonNode) root = NULL;
                JsonObject *o = body_object(&r, &root);
                const char *nn = json_object_get_string_member(o, "wwnn");
                wwpn = g_strdup(json_object_get_string_member(o, "wwpn"));
                g_assert_true(g_str_has_prefix(wwpn, "0x5001a4a"));
                g_assert_true(g_str_has_prefix(nn, "0x5001a4a"));
                g_assert_cmpstr(wwpn, !=, nn);
                g_assert_cmpstr(json_object_get_string_member(
                                    json_object_get_object_member(o, "vport"), "port_name"),
                                ==, wwpn);
        }
        reply_clear(&r);

        /* deleted by WWPN: the generated one, then the recorded one with its record */
        gen = scsi_generation(d);
        {
                g_autofree char *path = g_strdup_printf("/v1/npiv/%s/delete", wwpn);
                request_ok(d, "POST", path, NULL);
                request_error(d, "POST", path, "{}", 404, "not-found");
                request_error(d, "GET", path, NULL, 405, "method-not-allowed");
        }
        g_assert_cmpuint(scsi_generation(d), >, gen);
        request_error(d, "POST", "/v1/npiv/0x2001001122334477/delete", "{\"persist\": true}", 400,
                      "invalid-argument");
        request_ok_has(d, "POST", "/v1/npiv/0x2001001122334477/delete", "{\"force\": false}",
                       "\"deleted\":\"0x2001001122334477\"");
        r = request(d, "GET", "/v1/npiv", NULL);
        g_assert_null(strstr(r.body, "0x2001001122334477"));
        g_assert_null(strstr(r.body, wwpn));
        reply_clear(&r);
        request_error(d, "POST", "/v1/npiv/host1/remove", "{}", 404, "not-found");
        daemon_stop(d);
}

/* USB devices and SCSI LUNs need no IOMMU: on a host without one they are listed (no IOMMU
 * group) and their configuration is given as on any host. */
static void test_usb_scsi_without_iommu(void)
{
        static const char *const topologies[] = {"usb-desk", "scsi-server"};

        for (guint i = 0; i < G_N_ELEMENTS(topologies); i++) {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_without_iommu(topologies[i]);
                Daemon *d = daemon_start(fx, NULL);
                g_autoptr(JsonNode) root = NULL;
                gboolean usb = i == 0;
                JsonObject *o;
                Reply r;

                request_ok_has(d, "GET", "/v1/host", NULL, "\"iommu_groups\":false");
                r = request(d, "GET", usb ? "/v1/usb" : "/v1/scsi", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                o = body_object(&r, &root);
                o = usb ? member_of(o, "devices", "port_path", "1-3.1")
                        : member_of(o, "luns", "wwid", "naa.50014380272a1b2c");
                g_assert_nonnull(o);
                g_assert_true(json_object_get_null_member(o, "iommu_group"));
                g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==,
                                usb ? "ready" : "assignable");
                reply_clear(&r);
                request_ok_has(d, "GET",
                               usb ? "/v1/usb/0403:6001:A10K7XYZ/xml"
                                   : "/v1/scsi/naa.50014380272a1b2c/xml",
                               NULL, "<hostdev mode='subsystem'");
                daemon_stop(d);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/agent/read-endpoints", test_read_endpoints);
        g_test_add_func("/agent/etag", test_etag);
        g_test_add_func("/agent/follow-udevd", test_follow_udevd);
        g_test_add_func("/agent/long-poll", test_long_poll);
        g_test_add_func("/agent/etag-follows-holders", test_etag_follows_holders);
        g_test_add_func("/agent/auth", test_auth);
        g_test_add_func("/agent/errors", test_errors);
        g_test_add_func("/agent/detach-attach", test_detach_attach);
        g_test_add_func("/agent/api-vocabulary", test_api_vocabulary);
        g_test_add_func("/agent/concurrency", test_concurrency);
        g_test_add_func("/agent/busy-with-cli", test_busy_with_cli);
        g_test_add_func("/agent/vm", test_vm);
        g_test_add_func("/agent/hostile-requests", test_hostile_requests);
        g_test_add_func("/agent/recovery-at-start", test_recovery_at_start);
        g_test_add_func("/agent/kernel-args", test_kernel_args_put);
        g_test_add_func("/agent/host-reboot", test_host_reboot);
        g_test_add_func("/agent/config-and-listen", test_config_and_listen);
        g_test_add_func("/agent/tls", test_tls);
        g_test_add_func("/agent/read-only-snapshot", test_read_only_snapshot);
        g_test_add_func("/agent/interrupted-readiness", test_interrupted_readiness);
        g_test_add_func("/agent/live-read-only", test_live_read_only);
        g_test_add_func("/agent/sigterm-mid-operation", test_sigterm_mid_operation);
        g_test_add_func("/agent/restart-after-kill", test_restart_after_kill);
        g_test_add_func("/agent/host-use-through-stack", test_host_use_through_stack);
        g_test_add_func("/agent/sriov", test_sriov);
        g_test_add_func("/agent/sriov-holds-reboot", test_sriov_holds_reboot);
        g_test_add_func("/agent/mdev", test_mdev);
        g_test_add_func("/agent/vf-net", test_vf_net);
        g_test_add_func("/agent/vm-vf-net-saved", test_vm_vf_net_saved);
        g_test_add_func("/agent/vm-mdev", test_vm_mdev);
        g_test_add_func("/agent/vm-usb", test_vm_usb);
        g_test_add_func("/agent/usb-encoded-spec", test_usb_encoded_spec);
        g_test_add_func("/agent/vm-scsi", test_vm_scsi);
        g_test_add_func("/agent/vm-vhost", test_vm_vhost);
        g_test_add_func("/agent/usb", test_usb);
        g_test_add_func("/agent/scsi", test_scsi);
        g_test_add_func("/agent/vhost-scsi", test_vhost_scsi);
        g_test_add_func("/agent/usb-scsi-without-iommu", test_usb_scsi_without_iommu);
        g_test_add_func("/agent/npiv-create-delete", test_npiv_create_delete);
        return g_test_run();
}
