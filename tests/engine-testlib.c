/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine tests' helpers (engine-testlib.h). */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-testlib.h"
#include "http-testlib.h"

SoupSession *hd_et_session;

void hd_et_init(int *argc, char ***argv)
{
        g_test_init(argc, argv, NULL);
        signal(SIGPIPE, SIG_IGN);
        hd_et_session = soup_session_new_with_options("timeout", 60, NULL);
}

int hd_et_run(void)
{
        int rc = g_test_run();

        g_clear_object(&hd_et_session);
        return rc;
}

void hd_et_reply_clear(HdEtReply *r)
{
        g_free(r->body);
        g_free(r->location);
        g_free(r->etag);
        g_clear_pointer(&r->json, json_node_unref);
        memset(r, 0, sizeof(*r));
}

static void die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

char *hd_et_file_text(const char *path)
{
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return g_strdup("");
        return text;
}

/* Start @argv; its first stdout line must be "listening URL". */
HdEtProc *hd_et_proc_start(const char *const *argv, const char *log)
{
        g_autoptr(GSubprocessLauncher) l =
            g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        HdEtProc *p = g_new0(HdEtProc, 1);

        p->log = g_strdup(log);
        g_subprocess_launcher_set_stderr_file_path(l, log);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        p->proc = g_subprocess_launcher_spawnv(l, argv, &error);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!line || !g_str_has_prefix(line, "listening ")) {
                g_autofree char *text = hd_et_file_text(log);
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
void hd_et_proc_stop(HdEtProc *p, int sig)
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
                g_autofree char *text = hd_et_file_text(p->log);
                g_error("did not exit 0 on SIGTERM: %s", text);
        }
        g_object_unref(p->proc);
        g_free(p->url);
        g_free(p->log);
        g_free(p);
}

HdEtProc *hd_et_agent_start(HdTestFixture *fx, const char *listen)
{
        g_autofree char *log = g_build_filename(fx->root, "hostdevd.log", NULL);
        const char *argv[] = {
            g_getenv("HOSTDEVD"), "--root",         fx->root, "--backend", "sim",  "--libvirt-uri",
            "test:///default",    "--stop-timeout", "5",      "--listen",  listen, NULL};
        g_assert_nonnull(argv[0]);
        return hd_et_proc_start(argv, log);
}

char *hd_et_agent_token(HdTestFixture *fx)
{
        g_autofree char *path = g_build_filename(fx->root, "var/lib/hostdev/agent.token", NULL);
        char *t = hd_et_file_text(path);
        return g_strstrip(t);
}

gboolean hd_et_pg(void)
{
        const char *pg = g_getenv("HOSTDEV_TEST_PG");

        return pg && *pg;
}

/* The engine's database for @dir: DIR/engine.db (--db), or with HOSTDEV_TEST_PG (a libpq
 * keyword string, tests/with-postgres.py) a fresh PostgreSQL database of its own (--database),
 * created on first use with a unique name kept in DIR/engine.pg. */
char *hd_et_engine_db(const char *dir, const char **option)
{
        g_autofree char *kept = g_build_filename(dir, "engine.pg", NULL);
        g_autofree char *uuid = NULL;
        g_autofree char *name = NULL;
        g_autofree char *sql = NULL;
        char *conninfo = NULL;

        if (!hd_et_pg()) {
                *option = "--db";
                return g_build_filename(dir, "engine.db", NULL);
        }
        *option = "--database";
        if (g_file_get_contents(kept, &conninfo, NULL, NULL))
                return conninfo;
        uuid = g_uuid_string_random();
        name = g_strdelimit(g_strdup_printf("hd_test_%s", uuid), "-", '_');
        sql = g_strdup_printf("CREATE DATABASE %s", name);
        {
                const char *argv[] = {"/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                                      g_getenv("HOSTDEV_TEST_PG"), "-c", sql, NULL};
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, NULL, NULL), ==, 0);
        }
        g_test_message("the engine's database: PostgreSQL %s", name);
        /* a later dbname= wins in a keyword string */
        conninfo = g_strdup_printf("%s dbname=%s", g_getenv("HOSTDEV_TEST_PG"), name);
        g_assert_true(g_file_set_contents(kept, conninfo, -1, NULL));
        return conninfo;
}

static HdEtProc *engine_start(const char *dir, const char *replica)
{
        const char *option = NULL;
        g_autofree char *db = hd_et_engine_db(dir, &option);
        g_autofree char *name =
            replica ? g_strdup_printf("engine-%s.log", replica) : g_strdup("engine.log");
        g_autofree char *log = g_build_filename(dir, name, NULL);
        const char *argv[] = {g_getenv("HOSTDEV_ENGINE"),
                              option,
                              db,
                              "--listen",
                              "127.0.0.1:0",
                              "--poll-wait",
                              "5",
                              "--retry-max",
                              "1",
                              "-v",
                              replica ? "--replica" : NULL,
                              replica,
                              NULL};
        g_assert_nonnull(argv[0]);
        return hd_et_proc_start(argv, log);
}

HdEtProc *hd_et_engine_start(const char *dir)
{
        return engine_start(dir, NULL);
}

HdEtProc *hd_et_engine_start_replica(const char *dir, const char *replica)
{
        return engine_start(dir, replica);
}

/* hostdev-engine --db DIR/engine.db ARGS... (or --database, see engine_db()); its stdout in
 * *@out. */
int hd_et_engine_cli(const char *dir, const char *const *args, char **out)
{
        const char *option = NULL;
        g_autofree char *db = hd_et_engine_db(dir, &option);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer)g_getenv("HOSTDEV_ENGINE"));
        g_ptr_array_add(argv, (gpointer)option);
        g_ptr_array_add(argv, db);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_guarded((const char *const *)argv->pdata, NULL, 60, out, NULL);
}

char *hd_et_token_create(const char *dir, const char *name, const char *role)
{
        char *out = NULL;
        const char *args[] = {"token", "create", name, "--role", role, NULL};

        g_assert_cmpint(hd_et_engine_cli(dir, args, &out), ==, 0);
        g_strstrip(out);
        g_assert_cmpuint(strlen(out), ==, 64);
        return out;
}

/* With HOSTDEV_ENGINE_API_ANSWERS set, write the answer there (see the top). */
void hd_et_record_answer(const char *method, const char *path, guint status,
                         const char *content_type, const char *body)
{
        hd_ht_record_answer("HOSTDEV_ENGINE_API_ANSWERS", "answer", method, path, status,
                            content_type, body, FALSE);
}

HdEtReply hd_et_call(const char *base, const char *method, const char *path, const char *body,
                     const char *token)
{
        return hd_et_call_if_match(base, method, path, body, token, NULL);
}

HdEtReply hd_et_call_if_match(const char *base, const char *method, const char *path,
                              const char *body, const char *token, const char *if_match)
{
        g_autofree char *uri = g_strconcat(base, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        HdEtReply r = {0};

        g_assert_nonnull(msg);
        if (if_match)
                soup_message_headers_replace(soup_message_get_request_headers(msg), "If-Match",
                                             if_match);
        r.body = hd_ht_send(hd_et_session, msg, token, body);
        r.status = soup_message_get_status(msg);
        r.location = g_strdup(
            soup_message_headers_get_one(soup_message_get_response_headers(msg), "Location"));
        r.etag =
            g_strdup(soup_message_headers_get_one(soup_message_get_response_headers(msg), "ETag"));
        if (*r.body)
                r.json = json_from_string(r.body, NULL);
        /* the agents' own paths are theirs (docs/api/openapi.yaml) */
        if (!g_str_has_prefix(path, "/v1/devices") && !g_str_has_prefix(path, "/v1/groups") &&
            strcmp(path, "/v1/host") != 0 && !g_str_has_prefix(path, "/v1/host/") &&
            !g_str_has_prefix(path, "/v1/kernel-args"))
                hd_et_record_answer(method, path, r.status,
                                    soup_message_headers_get_content_type(
                                        soup_message_get_response_headers(msg), NULL),
                                    r.body);
        return r;
}

JsonObject *hd_et_obj(const HdEtReply *r)
{
        if (!r->json || !JSON_NODE_HOLDS_OBJECT(r->json))
                g_error("not a JSON object (%u): %s", r->status, r->body);
        return json_node_get_object(r->json);
}

void hd_et_assert_error(const HdEtReply *r, guint status, const char *code)
{
        JsonObject *err;

        if (r->status != status)
                g_error("expected %u %s, got %u: %s", status, code, r->status, r->body);
        err = json_object_get_object_member(hd_et_obj(r), "error");
        g_assert_nonnull(err);
        g_assert_cmpstr(json_object_get_string_member(err, "code"), ==, code);
        g_assert_cmpuint(strlen(json_object_get_string_member(err, "message")), >, 0);
}

void hd_et_assert_reason(const HdEtReply *r, guint status, const char *code, const char *needle)
{
        const char *message;

        hd_et_assert_error(r, status, code);
        message = json_object_get_string_member(
            json_object_get_object_member(hd_et_obj(r), "error"), "message");
        if (!strstr(message, needle))
                g_error("the message \"%s\" does not say \"%s\"", message, needle);
}

char *hd_et_add_host(const char *engine, const char *admin, const char *name, const char *url,
                     const char *token)
{
        g_autofree char *body = g_strdup_printf(
            "{\"name\": \"%s\", \"agent_url\": \"%s\", \"agent_token\": \"%s\"}", name, url, token);
        g_auto(HdEtReply) r = hd_et_call(engine, "POST", "/v1/hosts", body, admin);
        g_autofree char *location = NULL;

        if (r.status != 201)
                g_error("add host: %u %s", r.status, r.body);
        location =
            g_strconcat("/v1/hosts/", json_object_get_string_member(hd_et_obj(&r), "id"), NULL);
        g_assert_cmpstr(r.location, ==, location);
        g_assert_null(strstr(r.body, token)); /* the agent token never comes back */
        return g_strdup(json_object_get_string_member(hd_et_obj(&r), "id"));
}

/* Poll GET /v1/hosts/{id} until its status is @status (at most ~60 s). */
HdEtReply hd_et_wait_status(const char *engine, const char *tok, const char *id, const char *status)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", id, NULL);

        for (guint i = 0; i < 1200; i++) {
                HdEtReply r = hd_et_call(engine, "GET", path, NULL, tok);
                g_assert_cmpuint(r.status, ==, 200);
                if (strcmp(json_object_get_string_member(hd_et_obj(&r), "status"), status) == 0)
                        return r;
                hd_et_reply_clear(&r);
                g_usleep(50000);
        }
        g_error("host %s never became %s", id, status);
}

/* hd_et_wait_status() for a caller that needs only the wait. */
void hd_et_await_status(const char *engine, const char *tok, const char *id, const char *status)
{
        HdEtReply r = hd_et_wait_status(engine, tok, id, status);

        hd_et_reply_clear(&r);
}

/* The driver of @addr in the engine's GET /v1/hosts/{id}/devices (NULL: none/absent). */
char *hd_et_engine_driver(const char *engine, const char *tok, const char *id, const char *addr)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", id, "/devices", NULL);
        g_auto(HdEtReply) r = hd_et_call(engine, "GET", path, NULL, tok);

        g_assert_cmpuint(r.status, ==, 200);
        return hd_et_driver_in(hd_et_obj(&r), addr);
}

char *hd_et_driver_in(JsonObject *list, const char *addr)
{
        JsonArray *a = json_object_get_array_member(list, "devices");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *d = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(d, "address"), addr) == 0)
                        return json_object_get_null_member(d, "driver")
                                   ? NULL
                                   : g_strdup(json_object_get_string_member(d, "driver"));
        }
        return NULL;
}

guint hd_et_agent_count(const char *agent, const char *tok, const char *what)
{
        g_autofree char *path = g_strconcat("/v1/", what, NULL);
        g_auto(HdEtReply) r = hd_et_call(agent, "GET", path, NULL, tok);

        g_assert_cmpuint(r.status, ==, 200);
        return json_array_get_length(json_object_get_array_member(hd_et_obj(&r), what));
}

gboolean hd_et_has_event(const char *engine, const char *tok, const char *action,
                         const char *result)
{
        g_auto(HdEtReply) r = hd_et_call(engine, "GET", "/v1/events?since=0&limit=1000", NULL, tok);
        JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "events");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *e = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(e, "action"), action) == 0 &&
                    strcmp(json_object_get_string_member(e, "result"), result) == 0)
                        return TRUE;
        }
        return FALSE;
}

void hd_et_rm_rf(const char *dir)
{
        const char *argv[] = {"/bin/rm", "-rf", "--", dir, NULL};
        g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, NULL, NULL), ==, 0);
}

void hd_et_on_async_done(GObject *src, GAsyncResult *res, gpointer data)
{
        GBytes **out = data;
        g_autoptr(GError) error = NULL;

        *out = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &error);
        g_assert_no_error(error);
}

HdEtReply hd_et_agent_call(const char *agent_url, const char *token, const char *method,
                           const char *path, const char *body)
{
        g_autofree char *uri = g_strconcat(agent_url, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        HdEtReply r = {0};

        r.body = hd_ht_send(hd_et_session, msg, token, body);
        r.status = soup_message_get_status(msg);
        if (*r.body)
                r.json = json_from_string(r.body, NULL);
        return r;
}

void hd_et_env_setup(HdEtEnv *env, const char *topology, const char *host_name)
{
        env->fx = hd_test_fixture_new(topology);
        env->agent = hd_et_agent_start(env->fx, "127.0.0.1:0");
        env->agent_token = hd_et_agent_token(env->fx);
        env->dir = hd_test_make_tmp_dir();
        env->admin = hd_et_token_create(env->dir, "ops", "admin");
        env->viewer = hd_et_token_create(env->dir, "portal", "viewer");
        env->engine = hd_et_engine_start(env->dir);
        env->host = hd_et_add_host(env->engine->url, env->admin, host_name, env->agent->url,
                                   env->agent_token);
        hd_et_await_status(env->engine->url, env->viewer, env->host, "up");
}

void hd_et_env_teardown(HdEtEnv *env)
{
        hd_et_proc_stop(env->engine, SIGTERM);
        hd_et_proc_stop(env->agent, SIGTERM);
        hd_et_rm_rf(env->dir);
        g_free(env->dir);
        g_free(env->admin);
        g_free(env->viewer);
        g_free(env->host);
        g_free(env->agent_token);
        hd_test_fixture_free(env->fx);
}

HdEtReply hd_et_env_agent_call(HdEtEnv *env, const char *method, const char *path,
                               const char *body)
{
        return hd_et_agent_call(env->agent->url, env->agent_token, method, path, body);
}

struct HdEtServer {
        SoupServerCallback handler;
        GDestroyNotify stopping;
        gpointer data;
        GMainContext *ctx;
        GMainLoop *loop;
        GThread *thread;
        GMutex lock;
        GCond ready;
        char *url;
};

static gpointer server_thread(gpointer data)
{
        HdEtServer *s = data;
        g_autoptr(SoupServer) server = NULL;
        g_autoptr(GError) error = NULL;
        GSList *uris;

        g_main_context_push_thread_default(s->ctx);
        server = soup_server_new(NULL, NULL);
        soup_server_add_handler(server, NULL, s->handler, s->data, NULL);
        g_assert_true(soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
        g_assert_no_error(error);
        uris = soup_server_get_uris(server);
        g_mutex_lock(&s->lock);
        s->url = g_uri_to_string(uris->data);
        if (g_str_has_suffix(s->url, "/"))
                s->url[strlen(s->url) - 1] = '\0';
        g_cond_signal(&s->ready);
        g_mutex_unlock(&s->lock);
        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        g_main_loop_run(s->loop);
        if (s->stopping)
                s->stopping(s->data);
        soup_server_disconnect(server);
        g_main_context_pop_thread_default(s->ctx);
        return NULL;
}

HdEtServer *hd_et_server_start(const char *name, SoupServerCallback handler,
                               GDestroyNotify stopping, gpointer data)
{
        HdEtServer *s = g_new0(HdEtServer, 1);

        s->handler = handler;
        s->stopping = stopping;
        s->data = data;
        g_mutex_init(&s->lock);
        g_cond_init(&s->ready);
        s->ctx = g_main_context_new();
        s->loop = g_main_loop_new(s->ctx, FALSE);
        g_mutex_lock(&s->lock);
        s->thread = g_thread_new(name, server_thread, s);
        while (!s->url)
                g_cond_wait(&s->ready, &s->lock);
        g_mutex_unlock(&s->lock);
        return s;
}

const char *hd_et_server_url(const HdEtServer *s)
{
        return s->url;
}

static gboolean quit_loop(gpointer data)
{
        g_main_loop_quit(data);
        return G_SOURCE_REMOVE;
}

void hd_et_server_stop(HdEtServer *s)
{
        GSource *src = g_idle_source_new();

        g_source_set_callback(src, quit_loop, s->loop, NULL);
        g_source_attach(src, s->ctx);
        g_source_unref(src);
        g_thread_join(s->thread);
        g_main_loop_unref(s->loop);
        g_main_context_unref(s->ctx);
        g_free(s->url);
        g_mutex_clear(&s->lock);
        g_cond_clear(&s->ready);
        g_free(s);
}
