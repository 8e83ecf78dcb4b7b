/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine against real hostdevd agents: each agent runs on its own fixture root (sim
 * backend, --listen 127.0.0.1:0, libvirt test:///default), the engine on a temporary database
 * (--listen 127.0.0.1:0, short long polls and backoff); every child dies with the test
 * (PR_SET_PDEATHSIG). Waits are bounded loops on the engine's API (the state is asserted, never
 * a duration).
 *
 * With HOSTDEV_ENGINE_API_ANSWERS=DIR every answer of the engine is also written to
 * DIR/answer-PID-N.json for tools/api/check-answers.mjs --spec docs/api/engine-openapi.yaml
 * (the agent's calls made by these tests are not recorded).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#define GPU "0000:01:00.0"

typedef struct {
        GSubprocess *proc;
        char *url; /* without the trailing slash */
        char *log;
} Proc;

typedef struct {
        guint status;
        char *body;
        char *location;
        JsonNode *json;
} Reply;

static SoupSession *session;

static void reply_clear(Reply *r)
{
        g_free(r->body);
        g_free(r->location);
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

/* Start @argv; its first stdout line must be "listening URL". */
static Proc *proc_start(const char *const *argv, const char *log)
{
        g_autoptr(GSubprocessLauncher) l =
            g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        Proc *p = g_new0(Proc, 1);

        p->log = g_strdup(log);
        g_subprocess_launcher_set_stderr_file_path(l, log);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        p->proc = g_subprocess_launcher_spawnv(l, argv, &error);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!line || !g_str_has_prefix(line, "listening ")) {
                g_autofree char *text = file_text(log);
                g_error("%s did not start: %s", argv[0], text);
        }
        p->url = g_strdup(line + strlen("listening "));
        if (g_str_has_suffix(p->url, "/"))
                p->url[strlen(p->url) - 1] = '\0';
        return p;
}

static void wait_done(GObject *src, GAsyncResult *res, gpointer data)
{
        g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
        *(gboolean *)data = TRUE;
}

static gboolean timeout_cb(gpointer data)
{
        *(gboolean *)data = TRUE;
        return G_SOURCE_REMOVE;
}

/* Stop with @sig; with SIGTERM the process must exit 0. */
static void proc_stop(Proc *p, int sig)
{
        gboolean done = FALSE, timed_out = FALSE;
        guint id;

        if (!p)
                return;
        g_subprocess_send_signal(p->proc, sig);
        id = g_timeout_add_seconds(15, timeout_cb, &timed_out);
        g_subprocess_wait_async(p->proc, NULL, wait_done, &done);
        while (!done && !timed_out)
                g_main_context_iteration(NULL, TRUE);
        if (!timed_out)
                g_source_remove(id);
        if (!done) {
                g_subprocess_force_exit(p->proc);
                g_error("%s did not stop", p->url);
        }
        if (sig == SIGTERM &&
            (!g_subprocess_get_if_exited(p->proc) || g_subprocess_get_exit_status(p->proc) != 0)) {
                g_autofree char *text = file_text(p->log);
                g_error("did not exit 0 on SIGTERM: %s", text);
        }
        g_object_unref(p->proc);
        g_free(p->url);
        g_free(p->log);
        g_free(p);
}

static Proc *agent_start(HdTestFixture *fx, const char *listen)
{
        g_autofree char *log = g_build_filename(fx->root, "hostdevd.log", NULL);
        const char *argv[] = {
            g_getenv("HOSTDEVD"), "--root",         fx->root, "--backend", "sim",  "--libvirt-uri",
            "test:///default",    "--stop-timeout", "5",      "--listen",  listen, NULL};
        g_assert_nonnull(argv[0]);
        return proc_start(argv, log);
}

static char *agent_token(HdTestFixture *fx)
{
        g_autofree char *path = g_build_filename(fx->root, "var/lib/hostdev/agent.token", NULL);
        char *t = file_text(path);
        return g_strstrip(t);
}

static Proc *engine_start(const char *dir)
{
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autofree char *log = g_build_filename(dir, "engine.log", NULL);
        const char *argv[] = {g_getenv("HOSTDEV_ENGINE"),
                              "--db",
                              db,
                              "--listen",
                              "127.0.0.1:0",
                              "--poll-wait",
                              "5",
                              "--retry-max",
                              "1",
                              "-v",
                              NULL};
        g_assert_nonnull(argv[0]);
        return proc_start(argv, log);
}

/* hostdev-engine --db DIR/engine.db ARGS...; its stdout in *@out. */
static int engine_cli(const char *dir, const char *const *args, char **out)
{
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer)g_getenv("HOSTDEV_ENGINE"));
        g_ptr_array_add(argv, (gpointer) "--db");
        g_ptr_array_add(argv, db);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_guarded((const char *const *)argv->pdata, NULL, 60, out, NULL);
}

static char *token_create(const char *dir, const char *name, const char *role)
{
        char *out = NULL;
        const char *args[] = {"token", "create", name, "--role", role, NULL};

        g_assert_cmpint(engine_cli(dir, args, &out), ==, 0);
        g_strstrip(out);
        g_assert_cmpuint(strlen(out), ==, 64);
        return out;
}

/* With HOSTDEV_ENGINE_API_ANSWERS set, write the answer there (see the top). */
static void record_answer(const char *method, const char *path, guint status,
                          const char *content_type, const char *body)
{
        static gint serial;
        const char *dir = g_getenv("HOSTDEV_ENGINE_API_ANSWERS");
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        g_autofree char *name = NULL;
        g_autofree char *file = NULL;

        if (!dir || !*dir)
                return;
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "test");
        json_builder_add_string_value(b, g_test_get_path());
        json_builder_set_member_name(b, "method");
        json_builder_add_string_value(b, method);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, path);
        json_builder_set_member_name(b, "status");
        json_builder_add_int_value(b, status);
        json_builder_set_member_name(b, "content_type");
        if (content_type)
                json_builder_add_string_value(b, content_type);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "body_utf8");
        json_builder_add_boolean_value(b, g_utf8_validate(body, -1, NULL));
        json_builder_set_member_name(b, "body");
        json_builder_add_string_value(b, g_utf8_validate(body, -1, NULL) ? body : "");
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        text = json_to_string(root, FALSE);
        name = g_strdup_printf("answer-%d-%05d.json", (int)getpid(), g_atomic_int_add(&serial, 1));
        file = g_build_filename(dir, name, NULL);
        g_assert_true(g_file_set_contents(file, text, -1, NULL));
}

static Reply call(const char *base, const char *method, const char *path, const char *body,
                  const char *token)
{
        g_autofree char *uri = g_strconcat(base, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;
        Reply r = {0};

        g_assert_nonnull(msg);
        if (token) {
                g_autofree char *auth = g_strconcat("Bearer ", token, NULL);
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                             auth);
        }
        if (body) {
                g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(msg, "application/json", b);
        }
        bytes = soup_session_send_and_read(session, msg, NULL, &error);
        g_assert_no_error(error);
        r.status = soup_message_get_status(msg);
        r.body = g_bytes_get_size(bytes)
                     ? g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes))
                     : g_strdup("");
        r.location = g_strdup(
            soup_message_headers_get_one(soup_message_get_response_headers(msg), "Location"));
        if (*r.body)
                r.json = json_from_string(r.body, NULL);
        /* the agents' own paths are theirs (docs/api/openapi.yaml) */
        if (!g_str_has_prefix(path, "/v1/devices") && !g_str_has_prefix(path, "/v1/groups"))
                record_answer(method, path, r.status,
                              soup_message_headers_get_content_type(
                                  soup_message_get_response_headers(msg), NULL),
                              r.body);
        return r;
}

static JsonObject *obj(const Reply *r)
{
        if (!r->json || !JSON_NODE_HOLDS_OBJECT(r->json))
                g_error("not a JSON object (%u): %s", r->status, r->body);
        return json_node_get_object(r->json);
}

static void assert_error(const Reply *r, guint status, const char *code)
{
        JsonObject *err;

        if (r->status != status)
                g_error("expected %u %s, got %u: %s", status, code, r->status, r->body);
        err = json_object_get_object_member(obj(r), "error");
        g_assert_nonnull(err);
        g_assert_cmpstr(json_object_get_string_member(err, "code"), ==, code);
        g_assert_cmpuint(strlen(json_object_get_string_member(err, "message")), >, 0);
}

static char *add_host(const char *engine, const char *admin, const char *name, const char *url,
                      const char *token)
{
        g_autofree char *body = g_strdup_printf(
            "{\"name\": \"%s\", \"agent_url\": \"%s\", \"agent_token\": \"%s\"}", name, url, token);
        g_auto(Reply) r = call(engine, "POST", "/v1/hosts", body, admin);
        g_autofree char *location = NULL;

        if (r.status != 201)
                g_error("add host: %u %s", r.status, r.body);
        location = g_strconcat("/v1/hosts/", json_object_get_string_member(obj(&r), "id"), NULL);
        g_assert_cmpstr(r.location, ==, location);
        g_assert_null(strstr(r.body, token)); /* the agent token never comes back */
        return g_strdup(json_object_get_string_member(obj(&r), "id"));
}

/* Poll GET /v1/hosts/{id} until its status is @status (at most ~60 s). */
static Reply wait_status(const char *engine, const char *tok, const char *id, const char *status)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", id, NULL);

        for (guint i = 0; i < 1200; i++) {
                Reply r = call(engine, "GET", path, NULL, tok);
                g_assert_cmpuint(r.status, ==, 200);
                if (strcmp(json_object_get_string_member(obj(&r), "status"), status) == 0)
                        return r;
                reply_clear(&r);
                g_usleep(50000);
        }
        g_error("host %s never became %s", id, status);
}

/* wait_status() for a caller that needs only the wait. */
static void await_status(const char *engine, const char *tok, const char *id, const char *status)
{
        Reply r = wait_status(engine, tok, id, status);

        reply_clear(&r);
}

/* The driver of @addr in the engine's GET /v1/hosts/{id}/devices (NULL: none/absent). */
static char *engine_driver(const char *engine, const char *tok, const char *id, const char *addr)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", id, "/devices", NULL);
        g_auto(Reply) r = call(engine, "GET", path, NULL, tok);
        JsonArray *a;

        g_assert_cmpuint(r.status, ==, 200);
        a = json_object_get_array_member(obj(&r), "devices");
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *d = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(d, "address"), addr) == 0)
                        return json_object_get_null_member(d, "driver")
                                   ? NULL
                                   : g_strdup(json_object_get_string_member(d, "driver"));
        }
        return NULL;
}

static guint agent_count(const char *agent, const char *tok, const char *what)
{
        g_autofree char *path = g_strconcat("/v1/", what, NULL);
        g_auto(Reply) r = call(agent, "GET", path, NULL, tok);

        g_assert_cmpuint(r.status, ==, 200);
        return json_array_get_length(json_object_get_array_member(obj(&r), what));
}

static gboolean has_event(const char *engine, const char *tok, const char *action,
                          const char *result)
{
        g_auto(Reply) r = call(engine, "GET", "/v1/events?since=0&limit=1000", NULL, tok);
        JsonArray *a = json_object_get_array_member(obj(&r), "events");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *e = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(e, "action"), action) == 0 &&
                    strcmp(json_object_get_string_member(e, "result"), result) == 0)
                        return TRUE;
        }
        return FALSE;
}

static void rm_rf(const char *dir)
{
        const char *argv[] = {"/bin/rm", "-rf", "--", dir, NULL};
        g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, NULL, NULL), ==, 0);
}

static void on_async_done(GObject *src, GAsyncResult *res, gpointer data)
{
        GBytes **out = data;
        g_autoptr(GError) error = NULL;

        *out = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &error);
        g_assert_no_error(error);
}

/* ---- tests ---- */

static void test_tokens(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autofree char *admin = token_create(dir, "ops", "admin");
        g_autofree char *viewer = token_create(dir, "portal", "viewer");
        g_autofree char *out = NULL;
        struct stat st;
        Proc *engine;

        /* the database is the engine's alone */
        g_assert_cmpint(stat(db, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        g_assert_cmpint(engine_cli(dir, (const char *[]){"token", "list", NULL}, &out), ==, 0);
        g_assert_nonnull(strstr(out, "ops\tadmin"));
        g_assert_nonnull(strstr(out, "portal\tviewer"));
        g_assert_null(strstr(out, admin)); /* only the hash is kept */
        g_clear_pointer(&out, g_free);
        /* a taken name, a bad role, a bad name */
        g_assert_cmpint(
            engine_cli(dir, (const char *[]){"token", "create", "ops", "--role", "admin", NULL},
                       NULL),
            !=, 0);
        g_assert_cmpint(
            engine_cli(dir, (const char *[]){"token", "create", "x", "--role", "root", NULL}, NULL),
            !=, 0);
        g_assert_cmpint(
            engine_cli(dir, (const char *[]){"token", "create", "../x", "--role", "admin", NULL},
                       NULL),
            !=, 0);
        engine = engine_start(dir);
        {
                g_auto(Reply) r = call(engine->url, "GET", "/v1/hosts", NULL, NULL);
                assert_error(&r, 401, "unauthorized");
        }
        {
                g_auto(Reply) r = call(engine->url, "GET", "/v1/hosts", NULL, "0123");
                assert_error(&r, 401, "unauthorized");
        }
        {
                g_auto(Reply) r = call(engine->url, "GET", "/v1/hosts", NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                /* a viewer reads, never changes: 403 before the body is read */
                g_auto(Reply) r = call(engine->url, "POST", "/v1/hosts",
                                       "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\", "
                                       "\"agent_token\": \"t\"}",
                                       viewer);
                assert_error(&r, 403, "forbidden");
        }
        {
                g_auto(Reply) r = call(engine->url, "DELETE", "/v1/hosts/x", NULL, viewer);
                assert_error(&r, 403, "forbidden");
        }
        g_assert_true(has_event(engine->url, admin, "api.call", "refused"));
        {
                /* the events long poll: answered by the next event, not by the end of the wait */
                g_auto(Reply) now =
                    call(engine->url, "GET", "/v1/events?since=0&limit=1000", NULL, admin);
                gint64 last = json_object_get_int_member(obj(&now), "last_id");
                g_autofree char *uri = g_strdup_printf(
                    "%s/v1/events?since=%" G_GINT64_FORMAT "&wait=120", engine->url, last);
                g_autofree char *auth = g_strconcat("Bearer ", viewer, NULL);
                g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
                g_autoptr(SoupSession) s2 = soup_session_new_with_options("timeout", 150, NULL);
                g_autoptr(GBytes) bytes = NULL;
                g_autoptr(JsonNode) n = NULL;
                JsonArray *events;

                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                             auth);
                soup_session_send_and_read_async(s2, msg, G_PRIORITY_DEFAULT, NULL, on_async_done,
                                                 &bytes);
                /* the poll is waiting when nothing newer than last_id came back at once */
                for (guint i = 0; i < 5; i++)
                        g_main_context_iteration(NULL, FALSE);
                g_assert_null(bytes);
                {
                        g_auto(Reply) r = call(engine->url, "DELETE", "/v1/hosts/x", NULL, viewer);
                        assert_error(&r, 403, "forbidden");
                }
                while (!bytes)
                        g_main_context_iteration(NULL, TRUE);
                g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
                n = json_from_string(g_bytes_get_data(bytes, NULL), NULL);
                events = json_object_get_array_member(json_node_get_object(n), "events");
                g_assert_cmpuint(json_array_get_length(events), ==, 1);
                g_assert_cmpint(
                    json_object_get_int_member(json_array_get_object_element(events, 0), "id"), ==,
                    last + 1);
        }
        {
                g_auto(Reply) r = call(engine->url, "GET", "/v1/events?wait=301", NULL, viewer);
                assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(Reply) r = call(engine->url, "GET", "/healthz", NULL, NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        /* revoked: 401 from the next request on (the store is read per request) */
        g_assert_cmpint(engine_cli(dir, (const char *[]){"token", "revoke", "portal", NULL}, NULL),
                        ==, 0);
        {
                g_auto(Reply) r = call(engine->url, "GET", "/v1/hosts", NULL, viewer);
                assert_error(&r, 401, "unauthorized");
        }
        g_assert_cmpint(engine_cli(dir, (const char *[]){"token", "revoke", "portal", NULL}, NULL),
                        !=, 0);
        proc_stop(engine, SIGTERM);
        rm_rf(dir);
}

static void test_sync(void)
{
        g_autoptr(HdTestFixture) fx1 = hd_test_fixture_new("desktop");
        g_autoptr(HdTestFixture) fx2 = hd_test_fixture_new("desktop");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = token_create(dir, "ops", "admin");
        g_autofree char *viewer = token_create(dir, "portal", "viewer");
        Proc *a1 = agent_start(fx1, "127.0.0.1:0");
        Proc *a2 = agent_start(fx2, "127.0.0.1:0");
        g_autofree char *t1 = agent_token(fx1);
        g_autofree char *t2 = agent_token(fx2);
        Proc *engine = engine_start(dir);
        g_autofree char *id1 = add_host(engine->url, admin, "node1", a1->url, t1);
        g_autofree char *id2 = add_host(engine->url, admin, "node2", a2->url, t2);
        g_autofree char *a1_listen = g_strdup(a1->url + strlen("http://"));
        g_autofree char *driver = NULL;
        g_autofree char *path1 = g_strconcat("/v1/hosts/", id1, NULL);

        /* both up, with the agent's readiness and counts */
        for (const char *const *id = (const char *[]){id1, id2, NULL}; *id; id++) {
                g_auto(Reply) r = wait_status(engine->url, viewer, *id, "up");
                JsonObject *h = obj(&r);
                JsonObject *pt = json_object_get_object_member(h, "passthrough");
                const char *agent = *id == id1 ? a1->url : a2->url;
                const char *tok = *id == id1 ? t1 : t2;

                g_assert_false(json_object_get_null_member(pt, "enabled"));
                g_assert_true(json_object_get_boolean_member(pt, "enabled"));
                g_assert_nonnull(json_object_get_string_member(pt, "reason"));
                g_assert_cmpint(json_object_get_int_member(h, "device_count"), ==,
                                agent_count(agent, tok, "devices"));
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), ==,
                                agent_count(agent, tok, "groups"));
                g_assert_cmpint(json_object_get_int_member(h, "device_count"), >, 0);
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), >, 0);
                g_assert_nonnull(json_object_get_string_member(h, "kernel_release"));
                g_assert_nonnull(json_object_get_string_member(h, "last_sync"));
                g_assert_true(json_object_has_member(h, "cpu_vendor"));
                g_assert_false(json_object_has_member(h, "agent_token"));
        }
        driver = engine_driver(engine->url, viewer, id1, GPU);
        g_assert_nonnull(driver);
        g_assert_cmpstr(driver, !=, "vfio-pci");
        {
                /* the groups as the agent has them */
                g_autofree char *p = g_strconcat("/v1/hosts/", id1, "/groups", NULL);
                g_auto(Reply) r = call(engine->url, "GET", p, NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(obj(&r), "groups")), ==,
                    agent_count(a1->url, t1, "groups"));
        }
        /* a driver change on the agent reaches the engine through the long poll */
        {
                g_auto(Reply) r =
                    call(a1->url, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true}", t1);
                if (r.status != 200)
                        g_error("detach: %u %s", r.status, r.body);
        }
        {
                /* reported, not asserted: the agent's answer to the engine's API showing it
                 * (the agent waits 100 ms for a burst of changes to settle) */
                gint64 t0 = g_get_monotonic_time();
                for (guint i = 0; i < 6000; i++) {
                        g_free(driver);
                        driver = engine_driver(engine->url, viewer, id1, GPU);
                        if (g_strcmp0(driver, "vfio-pci") == 0)
                                break;
                        g_usleep(10000);
                }
                g_test_message("the detach reached the engine's API after %.0f ms",
                               (g_get_monotonic_time() - t0) / 1e3);
        }
        g_assert_cmpstr(driver, ==, "vfio-pci");
        {
                /* filtered by driver, from the store */
                g_autofree char *p =
                    g_strconcat("/v1/hosts/", id1, "/devices?driver=vfio-pci", NULL);
                g_auto(Reply) r = call(engine->url, "GET", p, NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(obj(&r), "devices")), >=, 1);
        }
        /* the other host did not move */
        g_free(driver);
        driver = engine_driver(engine->url, viewer, id2, GPU);
        g_assert_cmpstr(driver, !=, "vfio-pci");
        g_assert_true(has_event(engine->url, viewer, "host.sync.devices", "ok"));

        /* the agent dies: non_responsive with the reason; back up by itself on restart */
        proc_stop(a1, SIGKILL);
        {
                g_auto(Reply) r = wait_status(engine->url, viewer, id1, "non_responsive");
                g_assert_nonnull(json_object_get_string_member(obj(&r), "last_error"));
                g_assert_cmpint(json_object_get_int_member(obj(&r), "retry_seconds"), >=, 1);
        }
        a1 = agent_start(fx1, a1_listen);
        {
                await_status(engine->url, viewer, id1, "up");
        }
        g_assert_true(has_event(engine->url, viewer, "host.non_responsive", "failed"));
        /* on-demand refresh */
        {
                g_autofree char *p = g_strconcat(path1, "/refresh", NULL);
                g_auto(Reply) r = call(engine->url, "POST", p, NULL, admin);
                g_assert_cmpuint(r.status, ==, 202);
                await_status(engine->url, viewer, id1, "up");
        }
        /* edit: a name, then the connection (back through connecting to up) */
        {
                g_auto(Reply) r =
                    call(engine->url, "PATCH", path1, "{\"name\": \"node1b\"}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(obj(&r), "name"), ==, "node1b");
        }
        {
                g_auto(Reply) r = call(engine->url, "PATCH", path1, "{\"name\": \"node2\"}", admin);
                assert_error(&r, 409, "exists");
        }
        {
                g_autofree char *b = g_strdup_printf("{\"agent_token\": \"%s\"}", t1);
                g_auto(Reply) r = call(engine->url, "PATCH", path1, b, admin);
                g_assert_cmpuint(r.status, ==, 200);
                await_status(engine->url, viewer, id1, "up");
        }
        /* a wrong agent token: non_responsive, the reason says so */
        {
                g_auto(Reply) r =
                    call(engine->url, "PATCH", path1, "{\"agent_token\": \"nope\"}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_auto(Reply) r2 = wait_status(engine->url, viewer, id1, "non_responsive");
                g_assert_nonnull(
                    strstr(json_object_get_string_member(obj(&r2), "last_error"), "token"));
        }
        /* remove: gone with its inventory */
        {
                g_auto(Reply) r = call(engine->url, "DELETE", path1, NULL, admin);
                g_assert_cmpuint(r.status, ==, 204);
        }
        {
                g_auto(Reply) r = call(engine->url, "GET", path1, NULL, viewer);
                assert_error(&r, 404, "not-found");
        }
        {
                g_autofree char *p = g_strconcat(path1, "/devices", NULL);
                g_auto(Reply) r = call(engine->url, "GET", p, NULL, viewer);
                assert_error(&r, 404, "not-found");
        }
        g_assert_true(has_event(engine->url, viewer, "host.remove", "ok"));
        /* killed (-9), and a driver changes while it is down: the restarted engine syncs the
         * hosts its database holds and catches up with the agent */
        proc_stop(engine, SIGKILL);
        {
                g_auto(Reply) r =
                    call(a2->url, "POST", "/v1/devices/" GPU "/detach", "{\"group\": true}", t2);
                if (r.status != 200)
                        g_error("detach: %u %s", r.status, r.body);
        }
        engine = engine_start(dir);
        {
                g_auto(Reply) l = call(engine->url, "GET", "/v1/hosts", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(obj(&l), "total"), ==, 1);
        }
        for (guint i = 0; i < 1200; i++) {
                g_free(driver);
                driver = engine_driver(engine->url, viewer, id2, GPU);
                if (g_strcmp0(driver, "vfio-pci") == 0)
                        break;
                g_usleep(50000);
        }
        g_assert_cmpstr(driver, ==, "vfio-pci");
        {
                g_auto(Reply) r = wait_status(engine->url, viewer, id2, "up");
                g_assert_cmpint(json_object_get_int_member(obj(&r), "device_count"), ==,
                                agent_count(a2->url, t2, "devices"));
        }
        proc_stop(engine, SIGTERM);
        proc_stop(a1, SIGTERM);
        proc_stop(a2, SIGTERM);
        rm_rf(dir);
}

static void test_bad_input(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = token_create(dir, "ops", "admin");
        Proc *engine = engine_start(dir);
        const char *e;
        g_autofree char *id = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GString) huge = g_string_new("{\"name\": \"");
        static const char *const bad_bodies[] = {
            "{\"name\": 5, \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": \"t\"}",
            "{\"name\": null, \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": \"t\"}",
            "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": \"t\", "
            "\"nmae\": \"x\"}",
            "{\"name\": \"h\", \"name\": \"i\", \"agent_url\": \"http://127.0.0.1:1\", "
            "\"agent_token\": \"t\"}",
            "{\"name\": \"h\", \"agent_url\": \"ftp://127.0.0.1:1\", \"agent_token\": \"t\"}",
            "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1/x?y\", \"agent_token\": \"t\"}",
            "{\"name\": \"../h\", \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": \"t\"}",
            "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\"}",
            "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": \"\"}",
            "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": \"t\", "
            "\"tls_ca_file\": \"relative.pem\"}",
            "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\", \"agent_token\": "
            "\"a\\u0000\"}",
            "[1]",
            "{\"name\": \"h\",}",
            "{'name': 'h'}",
            "\xff\xfe",
        };

        e = engine->url;
        for (guint i = 0; i < G_N_ELEMENTS(bad_bodies); i++) {
                g_auto(Reply) r = call(e, "POST", "/v1/hosts", bad_bodies[i], admin);
                assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(Reply) r = call(e, "GET", "/v1/hosts", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(obj(&r), "total"), ==, 0);
        }
        /* a body over the limit */
        while (huge->len < 70 * 1024)
                g_string_append(huge, "aaaaaaaaaaaaaaaa");
        g_string_append(huge, "\"}");
        {
                g_auto(Reply) r = call(e, "POST", "/v1/hosts", huge->str, admin);
                g_assert_cmpuint(r.status, ==, 413);
        }
        /* unknown ids, endpoints, methods, query parameters */
        for (const char *const *p = (const char *[]){"/v1/hosts/nope", "/v1/hosts/nope/devices",
                                                     "/v1/hosts/nope/groups", "/v1/nope",
                                                     "/v1/hosts/a/b/c", "/nope", NULL};
             *p; p++) {
                g_auto(Reply) r = call(e, "GET", *p, NULL, admin);
                assert_error(&r, 404, "not-found");
        }
        {
                g_auto(Reply) r = call(e, "DELETE", "/v1/hosts/nope", NULL, admin);
                assert_error(&r, 404, "not-found");
        }
        {
                g_auto(Reply) r = call(e, "PATCH", "/v1/hosts/nope", "{\"name\": \"x\"}", admin);
                assert_error(&r, 404, "not-found");
        }
        {
                g_auto(Reply) r = call(e, "POST", "/v1/hosts/nope/refresh", NULL, admin);
                assert_error(&r, 404, "not-found");
        }
        {
                g_auto(Reply) r = call(e, "PUT", "/v1/hosts", "{}", admin);
                assert_error(&r, 405, "method-not-allowed");
        }
        for (const char *const *p =
                 (const char *[]){"/v1/hosts?limit=0", "/v1/hosts?limit=abc", "/v1/hosts?limt=1",
                                  "/v1/hosts?status=down", "/v1/hosts?passthrough=yes",
                                  "/v1/events?since=-1", "/v1/events?x=1", NULL};
             *p; p++) {
                g_auto(Reply) r = call(e, "GET", *p, NULL, admin);
                assert_error(&r, 400, "invalid-argument");
        }
        /* pagination and filters over many hosts (agents that do not answer) */
        for (guint i = 0; i < 30; i++) {
                g_autofree char *name = g_strdup_printf("%s%02u", i < 10 ? "rack1-" : "rack2-", i);
                g_free(id);
                id =
                    add_host(e, admin, name, "http://127.0.0.1:1", "secret-agent-token-0123456789");
        }
        {
                g_auto(Reply) r = call(e, "POST", "/v1/hosts",
                                       "{\"name\": \"rack1-00\", \"agent_url\": "
                                       "\"http://127.0.0.1:1\", \"agent_token\": \"t\"}",
                                       admin);
                assert_error(&r, 409, "exists");
        }
        {
                g_auto(Reply) r = call(e, "GET", "/v1/hosts?limit=7&offset=28", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(obj(&r), "total"), ==, 30);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(obj(&r), "hosts")), ==, 2);
        }
        {
                g_auto(Reply) r =
                    call(e, "GET", "/v1/hosts?name_prefix=rack1-&limit=1000", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(obj(&r), "total"), ==, 10);
        }
        {
                /* a LIKE wildcard in the prefix is literal */
                g_auto(Reply) r = call(e, "GET", "/v1/hosts?name_prefix=rack%25", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(obj(&r), "total"), ==, 0);
        }
        path = g_strconcat("/v1/hosts/", id, NULL);
        {
                await_status(e, admin, id, "non_responsive");
                g_auto(Reply) l = call(e, "GET", "/v1/hosts?status=up", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(obj(&l), "total"), ==, 0);
        }
        {
                g_auto(Reply) r = call(e, "PATCH", path, "{\"agent_url\": 1}", admin);
                assert_error(&r, 400, "invalid-argument");
        }
        {
                g_autofree char *p = g_strconcat(path, "/refresh", NULL);
                g_auto(Reply) r = call(e, "POST", p, "{\"now\": true}", admin);
                assert_error(&r, 400, "invalid-argument");
        }
        {
                /* a CA file that cannot be read: never a fallback to the system's CAs */
                g_autofree char *tid = NULL;
                g_autofree char *ca = g_build_filename(dir, "missing-ca.pem", NULL);
                g_autofree char *b = g_strdup_printf(
                    "{\"name\": \"tls1\", \"agent_url\": \"https://127.0.0.1:1\", "
                    "\"agent_token\": \"secret-agent-token-0123456789\", \"tls_ca_file\": \"%s\"}",
                    ca);
                g_auto(Reply) r = call(e, "POST", "/v1/hosts", b, admin);
                g_assert_cmpuint(r.status, ==, 201);
                tid = g_strdup(json_object_get_string_member(obj(&r), "id"));
                g_auto(Reply) h = wait_status(e, admin, tid, "non_responsive");
                g_assert_nonnull(
                    strstr(json_object_get_string_member(obj(&h), "last_error"), "CA file"));
                /* and after a retry (the backoff is 1 s here) still the CA file, not a
                 * connection made without it */
                {
                        g_autofree char *first =
                            g_strdup(json_object_get_string_member(obj(&h), "updated_at"));
                        g_autofree char *p = g_strconcat("/v1/hosts/", tid, NULL);
                        gboolean retried = FALSE;
                        for (guint i = 0; i < 1200 && !retried; i++) {
                                g_auto(Reply) r2 = call(e, "GET", p, NULL, admin);
                                retried =
                                    strcmp(json_object_get_string_member(obj(&r2), "updated_at"),
                                           first) != 0;
                                if (retried)
                                        g_assert_nonnull(strstr(
                                            json_object_get_string_member(obj(&r2), "last_error"),
                                            "CA file"));
                                else
                                        g_usleep(50000);
                        }
                        g_assert_true(retried);
                }
        }
        g_assert_true(has_event(e, admin, "host.add", "refused"));
        proc_stop(engine, SIGTERM);
        rm_rf(dir);
}

int main(int argc, char **argv)
{
        int rc;

        g_test_init(&argc, &argv, NULL);
        signal(SIGPIPE, SIG_IGN);
        session = soup_session_new_with_options("timeout", 60, NULL);
        g_test_add_func("/engine/tokens", test_tokens);
        g_test_add_func("/engine/sync", test_sync);
        g_test_add_func("/engine/bad-input", test_bad_input);
        rc = g_test_run();
        g_object_unref(session);
        return rc;
}
