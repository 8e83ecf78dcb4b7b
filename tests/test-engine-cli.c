/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's API client (src/engine/client*.c) and the API features it leans on: the
 * collections' ETags, the device and event filters.
 *
 *   /engine-cli/hosts          hosts and events subcommands end to end against a real engine
 *                              and a real hostdevd (sim backend on a fixture root)
 *   /engine-cli/exit-codes     unauthorized, unreachable, not found, refused, bad usage
 *   /engine-cli/etags          every collection: 304 while nothing changed, a new ETag after a
 *                              change (additions, edits, removals, inventory, events)
 *   /engine-cli/filters        GET /v1/hosts/{id}/devices class/driver/text/iommu_group/limit/
 *                              offset with total, GET /v1/events host_id/action/object; each
 *                              bad parameter its own 400
 *   /engine-cli/vms            the vms subcommands end to end (the GPU and its audio
 *                              placeholder, start, stop) and /v1/vms's ETag
 *   /engine-cli/usbscsi        hosts usb|scsi, vms add-usb|remove-usb|add-scsi|remove-scsi end to
 *                              end (usb-desk): specs, verdicts, the one-owner refusal
 *   /engine-cli/vhost-scsi     hosts vhost-scsi, vms add-vhost-scsi|remove-vhost-scsi end to end
 *                              (scsi-server): targets, readiness, the one-owner refusal
 *   /engine-cli/workflow       the README's whole workflow from the shell: kernel tab,
 *                              maintenance, reboot, activate, a VM with the GPU, start, stop
 *   /engine-cli/sriov          hosts sriov (sriov-server): show, change, refusals' exit codes
 *   /engine-cli/mdev           hosts mdev, vms add-mdev / remove-mdev (mdev-host)
 *   /engine-cli/contract       the lifecycle, kernel-args and vms subcommands against a fake
 *                              engine (SoupServer in a thread) that answers as api13.md's
 *                              contract says: the requests they send and what they print
 *
 * Answers of the real engine are recorded like test-engine.c's (HOSTDEV_ENGINE_API_ANSWERS).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "engine-testlib.h"

#define GPU "0000:01:00.0"

/* ---- running the client ---- */

typedef struct {
        int rc;
        char *out;
        char *err;
        JsonNode *json;
} CliRun;

static void cli_run_clear(CliRun *r)
{
        g_free(r->out);
        g_free(r->err);
        g_clear_pointer(&r->json, json_node_unref);
        memset(r, 0, sizeof(*r));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliRun, cli_run_clear)

/* hostdev-engine --url @url ARGS... with HOSTDEV_ENGINE_TOKEN=@token (NULL: none). */
static CliRun cli_v(const char *url, const char *token, const char *const *args)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *env_token = token ? g_strconcat("HOSTDEV_ENGINE_TOKEN=", token, NULL)
                                           : g_strdup("HOSTDEV_ENGINE_TOKEN=");
        const char *env[] = {env_token, NULL};
        CliRun r = {0};

        g_ptr_array_add(argv, (gpointer)g_getenv("HOSTDEV_ENGINE"));
        if (url) {
                g_ptr_array_add(argv, (gpointer) "--url");
                g_ptr_array_add(argv, (gpointer)url);
        }
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        r.rc = hd_test_run_guarded((const char *const *)argv->pdata, env, 120, &r.out, &r.err);
        if (r.out && (r.out[0] == '{' || r.out[0] == '['))
                r.json = json_from_string(r.out, NULL);
        return r;
}

#define CLI(url, token, ...) cli_v(url, token, (const char *const[]){__VA_ARGS__, NULL})

static void assert_rc(const CliRun *r, int rc)
{
        if (r->rc != rc)
                g_error("exit %d, expected %d\nstdout: %s\nstderr: %s", r->rc, rc, r->out, r->err);
}

static JsonObject *run_obj(const CliRun *r)
{
        if (!r->json || !JSON_NODE_HOLDS_OBJECT(r->json))
                g_error("not a JSON object: %s (stderr %s)", r->out, r->err);
        return json_node_get_object(r->json);
}

/* A failed run: @rc, "hostdev-engine: " + a message containing @needle on stderr, and with
 * --json the error document of @code on stdout. */
static void assert_failed(const CliRun *r, int rc, const char *needle, const char *code)
{
        assert_rc(r, rc);
        /* the message's line (after the command list when the command is unknown) */
        if (!g_str_has_prefix(r->err, "hostdev-engine: ") && !strstr(r->err, "\nhostdev-engine: "))
                g_error("stderr: %s", r->err);
        if (needle && !strstr(r->err, needle))
                g_error("stderr lacks \"%s\": %s", needle, r->err);
        if (code) {
                JsonObject *e = json_object_get_object_member(run_obj(r), "error");
                g_assert_cmpstr(json_object_get_string_member(e, "code"), ==, code);
                g_assert_nonnull(json_object_get_string_member(e, "message"));
        }
}

static char *write_file(const char *dir, const char *name, const char *text)
{
        char *path = g_build_filename(dir, name, NULL);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        g_assert_cmpint(g_chmod(path, 0600), ==, 0);
        return path;
}

/* ---- HTTP with ETags ---- */

/* GET @path with If-None-Match @inm (NULL: none); the status, the ETag in *@etag. */
static guint get_etag(const char *base, const char *path, const char *token, const char *inm,
                      char **etag)
{
        g_autofree char *uri = g_strconcat(base, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
        g_autofree char *auth = g_strconcat("Bearer ", token, NULL);
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GError) error = NULL;
        SoupMessageHeaders *h = soup_message_get_request_headers(msg);
        g_autofree char *body = NULL;

        soup_message_headers_replace(h, "Authorization", auth);
        if (inm)
                soup_message_headers_replace(h, "If-None-Match", inm);
        bytes = soup_session_send_and_read(hd_et_session, msg, NULL, &error);
        g_assert_no_error(error);
        body = g_bytes_get_size(bytes)
                   ? g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes))
                   : g_strdup("");
        hd_et_record_answer(
            "GET", path, soup_message_get_status(msg),
            soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL),
            body);
        if (soup_message_get_status(msg) == 304)
                g_assert_cmpstr(body, ==, "");
        if (etag) {
                g_free(*etag);
                *etag = g_strdup(
                    soup_message_headers_get_one(soup_message_get_response_headers(msg), "ETag"));
        }
        return soup_message_get_status(msg);
}

/* The ETag of @path once the engine is at rest, asserted strong (quoted) and answered 304 when
 * sent back. The sync may still write (a facts re-read after an inventory change): then the
 * second answer is a 200 that must carry another ETag, and the pair is asked again. */
static char *etag_now(const char *base, const char *path, const char *token)
{
        for (guint i = 0; i < 200; i++) {
                char *etag = NULL;
                g_autofree char *again = NULL;
                guint status;

                g_assert_cmpuint(get_etag(base, path, token, NULL, &etag), ==, 200);
                g_assert_nonnull(etag);
                g_assert_true(etag[0] == '"' && g_str_has_suffix(etag, "\"") && strlen(etag) > 2);
                status = get_etag(base, path, token, etag, &again);
                g_assert_cmpstr(again, !=, NULL);
                if (status == 304) {
                        g_assert_cmpstr(again, ==, etag);
                        return etag;
                }
                g_assert_cmpuint(status, ==, 200);
                g_assert_cmpstr(again, !=, etag); /* a 200 to its own ETag: something changed */
                g_free(etag);
                g_usleep(50000);
        }
        g_error("%s never answered 304 to its own ETag", path);
}

/* @variant (the collection @path with filters) answers 304 to @path's ETag: one ETag per
 * collection. Asked again when the collection itself moved in between (the sync wrote). */
static void assert_one_tag(const char *base, const char *path, const char *variant,
                           const char *token)
{
        for (guint i = 0; i < 200; i++) {
                g_autofree char *tag = etag_now(base, path, token);
                if (get_etag(base, variant, token, tag, NULL) == 304)
                        return;
                g_assert_cmpuint(get_etag(base, path, token, tag, NULL), ==, 200);
        }
        g_error("%s never answered 304 to %s's ETag", variant, path);
}

/* ---- the world: an agent, an engine, tokens ---- */

typedef struct {
        HdTestFixture *fx;
        char *dir;
        HdEtProc *agent, *engine;
        char *admin, *viewer, *agent_token;
        char *admin_file, *agent_token_file;
} World;

static World *world_new_on(const char *topology)
{
        World *w = g_new0(World, 1);

        w->fx = hd_test_fixture_new(topology);
        w->dir = hd_test_make_tmp_dir();
        w->admin = hd_et_token_create(w->dir, "ops", "admin");
        w->viewer = hd_et_token_create(w->dir, "portal", "viewer");
        w->agent = hd_et_agent_start(w->fx, "127.0.0.1:0");
        w->agent_token = hd_et_agent_token(w->fx);
        w->engine = hd_et_engine_start(w->dir);
        w->admin_file = write_file(w->dir, "admin.token", w->admin);
        w->agent_token_file = write_file(w->dir, "agent.token", w->agent_token);
        return w;
}

static World *world_new(void)
{
        return world_new_on("desktop");
}

static void world_free(World *w)
{
        hd_et_proc_stop(w->engine, SIGTERM);
        hd_et_proc_stop(w->agent, SIGTERM);
        hd_et_rm_rf(w->dir);
        hd_test_fixture_free(w->fx);
        g_free(w->dir);
        g_free(w->admin);
        g_free(w->viewer);
        g_free(w->agent_token);
        g_free(w->admin_file);
        g_free(w->agent_token_file);
        g_free(w);
}

/* hostdev-engine hosts add NAME (the world's agent) --wait: asserted to succeed. */
static void world_add_host(World *w, const char *name)
{
        g_auto(CliRun) r = CLI(w->engine->url, w->admin, "hosts", "add", name, "--agent-url",
                               w->agent->url, "--agent-token-file", w->agent_token_file, "--wait",
                               "--json");
        assert_rc(&r, 0);
}

/* hostdev-engine vms create NAME (1024 MiB, 1 vCPU): asserted to succeed. */
static void world_create_vm(World *w, const char *name)
{
        g_auto(CliRun) r = CLI(w->engine->url, w->admin, "vms", "create", name, "--memory", "1024",
                               "--vcpus", "1");
        assert_rc(&r, 0);
}

/* ---- tests against a real engine ---- */

static void test_hosts(void)
{
        World *w = world_new();
        const char *e = w->engine->url;
        g_autofree char *id = NULL;
        g_autofree char *gpu_driver = NULL;

        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "list");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "no hosts"));
        }
        {
                /* the token from --token-file; the agent's from a file too, never an argument */
                g_auto(CliRun) r = CLI(e, NULL, "--token-file", w->admin_file, "hosts", "add",
                                       "node1", "--agent-url", w->agent->url, "--agent-token-file",
                                       w->agent_token_file, "--wait", "--json");
                JsonObject *h;
                assert_rc(&r, 0);
                h = run_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(h, "status"), ==, "up");
                g_assert_cmpstr(json_object_get_string_member(h, "name"), ==, "node1");
                g_assert_null(strstr(r.out, w->agent_token));
                id = g_strdup(json_object_get_string_member(h, "id"));
        }
        {
                /* the table: name, status, passthrough, counts */
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "list");
                g_autofree char *count = g_strdup_printf(
                    "%u", hd_et_agent_count(w->agent->url, w->agent_token, "devices"));
                assert_rc(&r, 0);
                g_assert_true(g_str_has_prefix(r.out, "NAME"));
                g_assert_nonnull(strstr(r.out, "node1"));
                g_assert_nonnull(strstr(r.out, "up"));
                g_assert_nonnull(strstr(r.out, "enabled"));
                g_assert_nonnull(strstr(r.out, count));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "list", "--json", "--status", "up");
                JsonObject *o;
                assert_rc(&r, 0);
                o = run_obj(&r);
                g_assert_cmpint(json_object_get_int_member(o, "total"), ==, 1);
                g_assert_cmpstr(
                    json_object_get_string_member(
                        json_array_get_object_element(json_object_get_array_member(o, "hosts"), 0),
                        "id"),
                    ==, id);
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->viewer, "hosts", "list", "--json", "--status", "maintenance");
                assert_rc(&r, 0);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "total"), ==, 0);
        }
        /* show by name and by id: the same host */
        for (const char *const *ref = (const char *const[]){"node1", id, NULL}; *ref; ref++) {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "show", *ref, "--json");
                assert_rc(&r, 0);
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r), "id"), ==, id);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "show", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "passthrough"));
                g_assert_nonnull(strstr(r.out, "enabled"));
                g_assert_nonnull(strstr(r.out, id));
        }
        {
                /* devices: the GPU on its host driver; filtered by class */
                g_auto(CliRun) r =
                    CLI(e, w->viewer, "hosts", "devices", "node1", "--class", "gpu", "--json");
                JsonArray *a;
                gboolean gpu = FALSE;
                assert_rc(&r, 0);
                a = json_object_get_array_member(run_obj(&r), "devices");
                g_assert_cmpuint(json_array_get_length(a), >=, 1);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "total"), ==,
                                json_array_get_length(a));
                for (guint i = 0; i < json_array_get_length(a); i++) {
                        JsonObject *d = json_array_get_object_element(a, i);
                        g_assert_true(
                            g_str_has_prefix(json_object_get_string_member(d, "class"), "03"));
                        if (strcmp(json_object_get_string_member(d, "address"), GPU) == 0) {
                                gpu = TRUE;
                                gpu_driver = g_strdup(json_object_get_string_member(d, "driver"));
                        }
                }
                g_assert_true(gpu);
                g_assert_cmpstr(gpu_driver, !=, "vfio-pci");
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "devices", "node1", "--group", "1");
                assert_rc(&r, 0);
                g_assert_true(g_str_has_prefix(r.out, "ADDRESS"));
                g_assert_nonnull(strstr(r.out, " devices\n"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "devices", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, GPU));
                g_assert_nonnull(strstr(r.out, gpu_driver));
        }
        {
                /* on a terminal of 80 columns the NAME column is trimmed with "…" (script(1)
                 * gives the client a terminal) */
                g_autofree char *q_engine = g_shell_quote(g_getenv("HOSTDEV_ENGINE"));
                g_autofree char *q_url = g_shell_quote(e);
                g_autofree char *cmd = g_strdup_printf(
                    "stty cols 80 rows 24; %s --url %s hosts devices node1", q_engine, q_url);
                g_autofree char *env_token = g_strconcat("HOSTDEV_ENGINE_TOKEN=", w->viewer, NULL);
                const char *argv[] = {"/usr/bin/script", "-qec", cmd, "/dev/null",
                                      NULL}; /* bsdutils */
                const char *env[] = {env_token, NULL};
                g_autofree char *out = NULL;
                g_auto(GStrv) lines = NULL;
                gboolean trimmed = FALSE;

                g_assert_cmpint(hd_test_run_guarded(argv, env, 60, &out, NULL), ==, 0);
                lines = g_strsplit(out, "\n", -1);
                for (char **l = lines; *l; l++) {
                        g_strchomp(*l); /* the terminal's \r */
                        g_assert_cmpint(g_utf8_strlen(*l, -1), <=, 80);
                        trimmed = trimmed || strstr(*l, "…") != NULL;
                }
                g_assert_true(trimmed);
                g_assert_nonnull(strstr(out, GPU));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "groups", "node1", "--json");
                assert_rc(&r, 0);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&r), "groups")), ==,
                    hd_et_agent_count(w->agent->url, w->agent_token, "groups"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "refresh", "node1", "--wait");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "status"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "refresh", "node1", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "refreshing"));
        }
        {
                /* rename; the old name is gone, the id stays */
                g_auto(CliRun) r =
                    CLI(e, w->admin, "hosts", "edit", "node1", "--name", "node1b", "--json");
                assert_rc(&r, 0);
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r), "name"), ==, "node1b");
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "show", "node1", "--json");
                assert_failed(&r, 4, "no host named \"node1\"", "not-found");
        }
        {
                /* a new connection: back through connecting to up */
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "edit", id, "--agent-token-file",
                                       w->agent_token_file, "--wait");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "up"));
        }
        {
                /* a wrong agent token: --wait says why the host does not come up */
                g_autofree char *bad = write_file(w->dir, "bad.token", "nope\n");
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "edit", "node1b", "--agent-token-file",
                                       bad, "--wait", "--timeout", "60");
                assert_failed(&r, 1, "does not answer", NULL);
                g_assert_nonnull(strstr(r.err, "token"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "edit", "node1b", "--agent-token-file",
                                       w->agent_token_file, "--wait");
                assert_rc(&r, 0);
        }
        /* events: the host's, a family, an object; follow */
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "events", "--host", "node1b", "--json");
                JsonArray *a;
                assert_rc(&r, 0);
                a = json_object_get_array_member(run_obj(&r), "events");
                g_assert_cmpuint(json_array_get_length(a), >=, 3);
                for (guint i = 0; i < json_array_get_length(a); i++)
                        g_assert_nonnull(strstr(json_object_get_string_member(
                                                    json_array_get_object_element(a, i), "object"),
                                                id));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "events", "--action", "host.*");
                assert_rc(&r, 0);
                g_assert_true(g_str_has_prefix(r.out, "ID"));
                g_assert_nonnull(strstr(r.out, "host.add"));
                g_assert_nonnull(strstr(r.out, "host.edit"));
                g_assert_null(strstr(r.out, "engine.start"));
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->viewer, "events", "--action", "host.add", "--json", "--limit", "1");
                JsonArray *a;
                assert_rc(&r, 0);
                a = json_object_get_array_member(run_obj(&r), "events");
                g_assert_cmpuint(json_array_get_length(a), ==, 1);
                g_assert_cmpstr(
                    json_object_get_string_member(json_array_get_object_element(a, 0), "actor"), ==,
                    "ops");
        }
        {
                /* --follow: the next event as it is written, one JSON object per line */
                g_auto(HdEtReply) now =
                    hd_et_call(e, "GET", "/v1/events?since=0&limit=1000", NULL, w->viewer);
                g_autofree char *last = g_strdup_printf(
                    "%" G_GINT64_FORMAT, json_object_get_int_member(hd_et_obj(&now), "last_id"));
                g_autoptr(GSubprocessLauncher) l =
                    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
                g_autoptr(GSubprocess) p = NULL;
                g_autoptr(GError) error = NULL;
                g_autofree char *out = NULL;
                g_autoptr(JsonNode) n = NULL;

                g_subprocess_launcher_setenv(l, "HOSTDEV_ENGINE_TOKEN", w->viewer, TRUE);
                p = g_subprocess_launcher_spawn(l, &error, g_getenv("HOSTDEV_ENGINE"), "--url", e,
                                                "events", "--follow", "--json", "--since", last,
                                                "--limit", "1", "--action", "host.refresh", NULL);
                g_assert_no_error(error);
                {
                        g_auto(CliRun) r = CLI(e, w->admin, "hosts", "refresh", "node1b");
                        assert_rc(&r, 0);
                }
                g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
                g_assert_no_error(error);
                g_assert_true(g_subprocess_get_if_exited(p));
                g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
                /* exactly one line: the one event */
                g_assert_true(g_str_has_suffix(out, "}\n"));
                g_assert_true(strchr(out, '\n') == out + strlen(out) - 1);
                n = json_from_string(out, NULL);
                g_assert_nonnull(n);
                g_assert_cmpstr(json_object_get_string_member(json_node_get_object(n), "action"),
                                ==, "host.refresh");
                g_assert_cmpstr(json_object_get_string_member(json_node_get_object(n), "actor"), ==,
                                "ops");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "remove", "node1b", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "removed"));
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r), "id"), ==, id);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "list", "--json");
                assert_rc(&r, 0);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "total"), ==, 0);
        }
        world_free(w);
}

static void test_exit_codes(void)
{
        World *w = world_new();
        const char *e = w->engine->url;

        {
                /* no token: 6, and how to give one */
                g_auto(CliRun) r = CLI(e, NULL, "hosts", "list", "--json");
                assert_failed(&r, 6, "HOSTDEV_ENGINE_TOKEN", "unauthorized");
        }
        {
                g_auto(CliRun) r = CLI(e, "0123", "hosts", "list");
                assert_failed(&r, 6, "token list", NULL);
        }
        {
                /* nobody listens there: 5 */
                g_auto(CliRun) r = CLI("http://127.0.0.1:1", w->admin, "hosts", "list", "--json");
                assert_failed(&r, 5, "cannot reach the engine at http://127.0.0.1:1",
                              "unreachable");
        }
        {
                /* the URL from the configuration file's listen address */
                g_autofree char *listen =
                    g_strdup_printf("[engine]\nlisten=0.0.0.0:%s\n", strrchr(e, ':') + 1);
                g_autofree char *conf = write_file(w->dir, "engine.conf", listen);
                g_auto(CliRun) r = CLI(NULL, w->viewer, "--config", conf, "hosts", "list");
                assert_rc(&r, 0);
        }
        {
                g_autofree char *conf =
                    write_file(w->dir, "bad.conf", "[engine]\nlisten=127.0.0.1:1\n");
                g_auto(CliRun) r = CLI(NULL, w->viewer, "hosts", "list", "--config", conf);
                assert_failed(&r, 5, "http://127.0.0.1:1", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "show", "nope", "--json");
                assert_failed(&r, 4, "no host named \"nope\"", "not-found");
        }
        {
                /* an id nobody has is looked up by name too, then not found */
                g_auto(CliRun) r =
                    CLI(e, w->viewer, "hosts", "show", "11111111-2222-3333-4444-555555555555");
                assert_failed(&r, 4, "no host", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "show", "../x");
                assert_failed(&r, 4, "no host named or numbered", NULL);
        }
        {
                /* a viewer may not change: 3 with the engine's message */
                g_auto(CliRun) r =
                    CLI(e, w->viewer, "hosts", "add", "n2", "--agent-url", w->agent->url,
                        "--agent-token-file", w->agent_token_file, "--json");
                assert_failed(&r, 3, "viewer role", "forbidden");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "add", "n2", "--agent-url",
                                       w->agent->url, "--agent-token-file", w->agent_token_file);
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "host n2 added"));
        }
        {
                /* names sharing a prefix: each found by its own name, a prefix alone is none */
                g_auto(CliRun) r =
                    CLI(e, w->admin, "hosts", "add", "n2-b", "--agent-url", "http://127.0.0.1:1",
                        "--agent-token-file", w->agent_token_file, "--json");
                g_autofree char *id = NULL;
                assert_rc(&r, 0);
                id = g_strdup(json_object_get_string_member(run_obj(&r), "id"));
                for (const char *const *n = (const char *const[]){"n2", "n2-b", NULL}; *n; n++) {
                        g_auto(CliRun) s2 = CLI(e, w->viewer, "hosts", "show", *n, "--json");
                        assert_rc(&s2, 0);
                        g_assert_cmpstr(json_object_get_string_member(run_obj(&s2), "name"), ==,
                                        *n);
                }
                {
                        g_auto(CliRun) s3 = CLI(e, w->viewer, "hosts", "show", "n");
                        assert_failed(&s3, 4, "no host named \"n\"", NULL);
                }
                {
                        g_auto(CliRun) s4 = CLI(e, w->admin, "hosts", "remove", id);
                        assert_rc(&s4, 0);
                }
        }
        {
                /* a taken name: 3, the engine's message */
                g_auto(CliRun) r =
                    CLI(e, w->admin, "hosts", "add", "n2", "--agent-url", w->agent->url,
                        "--agent-token-file", w->agent_token_file, "--json");
                assert_failed(&r, 3, "exists already", "exists");
        }
        {
                /* input the engine refuses as invalid: 2 */
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "add", "n3", "--agent-url", "ftp://x",
                                       "--agent-token-file", w->agent_token_file, "--json");
                assert_failed(&r, 2, NULL, "invalid-argument");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "add", "n3");
                assert_failed(&r, 2, "--agent-url and --agent-token-file", NULL);
        }
        {
                /* a token file others may read: it works, with a warning */
                g_autofree char *open_file = write_file(w->dir, "open.token", w->viewer);
                g_assert_cmpint(g_chmod(open_file, 0644), ==, 0);
                g_auto(CliRun) r = CLI(e, NULL, "--token-file", open_file, "hosts", "list");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.err, "others may read it (mode 0644); chmod 600"));
        }
        {
                g_auto(CliRun) r = CLI(e, NULL, "--token-file", w->admin_file, "hosts", "list");
                assert_rc(&r, 0);
                g_assert_cmpstr(r.err, ==, "");
        }
        {
                /* --token-file wins over the environment: the admin's file, the viewer's
                 * environment, a change goes through */
                g_auto(CliRun) r = CLI(e, w->viewer, "--token-file", w->admin_file, "hosts", "add",
                                       "n4", "--agent-url", "http://127.0.0.1:1",
                                       "--agent-token-file", w->agent_token_file);
                g_auto(CliRun) r2 = {0};
                assert_rc(&r, 0);
                r2 = CLI(e, w->admin, "hosts", "remove", "n4");
                assert_rc(&r2, 0);
        }
        {
                g_autofree char *missing = g_build_filename(w->dir, "missing.token", NULL);
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "add", "n3", "--agent-url",
                                       w->agent->url, "--agent-token-file", missing, "--json");
                assert_failed(&r, 2, "cannot read the agent token file", "invalid-argument");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "frobnicate", "--json");
                assert_failed(&r, 2, "not a command", "invalid-argument");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts");
                assert_failed(&r, 2, "needs a command", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "show", "n2", "extra");
                assert_failed(&r, 2, "unexpected argument 'extra'", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "list", "--bogus");
                assert_failed(&r, 2, "--bogus", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "edit", "n2");
                assert_failed(&r, 2, "nothing to change", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "devices", "n2", "--class", "gpus");
                assert_failed(&r, 2, "class must be", NULL);
        }
        {
                g_auto(CliRun) r = CLI("ftp://x", w->admin, "hosts", "list");
                assert_failed(&r, 2, "--url ftp://x", NULL);
        }
        {
                /* help: every command has its usage, description, example and exit codes */
                g_auto(CliRun) r = CLI(NULL, NULL, "vms", "add-device", "--help");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "VM --host HOST ADDRESS..."));
                g_assert_nonnull(strstr(r.out, "Example:"));
                g_assert_nonnull(strstr(r.out, "Exit status"));
        }
        {
                g_auto(CliRun) r = CLI(NULL, NULL, "hosts", "--help");
                assert_rc(&r, 0);
                for (const char *const *c =
                         (const char *const[]){"list", "show", "add", "edit", "remove", "refresh",
                                               "devices", "groups", "kernel-args", "maintenance",
                                               "reboot", "activate", NULL};
                     *c; c++)
                        g_assert_nonnull(strstr(r.out, *c));
        }
        {
                g_auto(CliRun) r = CLI(NULL, NULL, "--help");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "token"));
                g_assert_nonnull(strstr(r.out, "add-device"));
        }
        world_free(w);
}

static void test_etags(void)
{
        World *w = world_new();
        const char *e = w->engine->url;
        g_autofree char *id = NULL;
        g_autofree char *devices = NULL, *groups = NULL;
        g_autofree char *hosts_tag = NULL, *devices_tag = NULL, *groups_tag = NULL;
        g_autofree char *events_tag = NULL, *tag = NULL;

        hosts_tag = etag_now(e, "/v1/hosts", w->viewer);
        /* the same collection whatever the filters: one ETag */
        g_assert_cmpuint(get_etag(e, "/v1/hosts?status=up&limit=5", w->viewer, hosts_tag, NULL), ==,
                         304);
        /* a list of tags, a weak form, "*" */
        {
                g_autofree char *list = g_strdup_printf("\"x\", W/%s", hosts_tag);
                g_assert_cmpuint(get_etag(e, "/v1/hosts", w->viewer, list, NULL), ==, 304);
                g_assert_cmpuint(get_etag(e, "/v1/hosts", w->viewer, "*", NULL), ==, 304);
                g_assert_cmpuint(get_etag(e, "/v1/hosts", w->viewer, "\"x\"", NULL), ==, 200);
        }
        id = hd_et_add_host(e, w->admin, "node1", w->agent->url, w->agent_token);
        hd_et_await_status(e, w->viewer, id, "up");
        /* an addition (and the sync's writes) */
        g_assert_cmpuint(get_etag(e, "/v1/hosts", w->viewer, hosts_tag, &tag), ==, 200);
        g_assert_cmpstr(tag, !=, hosts_tag);
        g_free(hosts_tag);
        hosts_tag = etag_now(e, "/v1/hosts", w->viewer);
        devices = g_strconcat("/v1/hosts/", id, "/devices", NULL);
        groups = g_strconcat("/v1/hosts/", id, "/groups", NULL);
        devices_tag = etag_now(e, devices, w->viewer);
        groups_tag = etag_now(e, groups, w->viewer);
        {
                g_autofree char *filtered = g_strconcat(devices, "?class=gpu&limit=1", NULL);
                assert_one_tag(e, devices, filtered, w->viewer);
        }
        /* an edit */
        {
                g_autofree char *path = g_strconcat("/v1/hosts/", id, NULL);
                g_auto(HdEtReply) r =
                    hd_et_call(e, "PATCH", path, "{\"name\": \"node1b\"}", w->admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        g_assert_cmpuint(get_etag(e, "/v1/hosts", w->viewer, hosts_tag, &tag), ==, 200);
        g_assert_cmpstr(tag, !=, hosts_tag);
        g_free(hosts_tag);
        hosts_tag = etag_now(e, "/v1/hosts", w->viewer);
        /* an inventory change on the agent: the devices' ETag moves once the sync has it */
        g_free(devices_tag);
        devices_tag = etag_now(e, devices, w->viewer);
        {
                g_auto(HdEtReply) r =
                    hd_et_call(w->agent->url, "POST", "/v1/devices/" GPU "/detach",
                               "{\"group\": true}", w->agent_token);
                if (r.status != 200)
                        g_error("detach: %u %s", r.status, r.body);
        }
        for (guint i = 0; i < 1200; i++) {
                g_autofree char *drv = hd_et_engine_driver(e, w->viewer, id, GPU);
                if (g_strcmp0(drv, "vfio-pci") == 0)
                        break;
                g_usleep(50000);
        }
        g_assert_cmpuint(get_etag(e, devices, w->viewer, devices_tag, &tag), ==, 200);
        g_assert_cmpstr(tag, !=, devices_tag);
        /* a host that does not exist: 404, not 304 */
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/hosts/nope/devices", NULL, w->viewer);
                hd_et_assert_error(&r, 404, "not-found");
                g_assert_cmpuint(get_etag(e, "/v1/hosts/nope/devices", w->viewer, "*", NULL), ==,
                                 404);
        }
        /* events: a new event, a new ETag */
        events_tag = etag_now(e, "/v1/events", w->viewer);
        assert_one_tag(e, "/v1/events", "/v1/events?since=3&action=host.*", w->viewer);
        {
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", "/v1/hosts/x", NULL, w->viewer);
                hd_et_assert_error(&r, 403, "forbidden"); /* an audit row */
        }
        g_assert_cmpuint(get_etag(e, "/v1/events", w->viewer, events_tag, &tag), ==, 200);
        g_assert_cmpstr(tag, !=, events_tag);
        /* a removal: hosts' ETag moves, the inventory is gone (404) */
        hd_et_proc_stop(w->agent, SIGKILL); /* no sync writes after the removal */
        w->agent = NULL;
        hd_et_await_status(e, w->viewer, id, "non_responsive");
        g_free(hosts_tag);
        hosts_tag = etag_now(e, "/v1/hosts", w->viewer);
        {
                g_autofree char *path = g_strconcat("/v1/hosts/", id, NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", path, NULL, w->admin);
                g_assert_cmpuint(r.status, ==, 204);
        }
        g_assert_cmpuint(get_etag(e, "/v1/hosts", w->viewer, hosts_tag, &tag), ==, 200);
        g_assert_cmpstr(tag, !=, hosts_tag);
        g_assert_cmpuint(get_etag(e, groups, w->viewer, groups_tag, NULL), ==, 404);
        world_free(w);
}

/* The agent's devices (GET /v1/devices) matching @pred. */
static guint agent_devices_where(World *w, gboolean (*pred)(JsonObject *d, gconstpointer arg),
                                 gconstpointer arg)
{
        g_auto(HdEtReply) r = hd_et_call(w->agent->url, "GET", "/v1/devices", NULL, w->agent_token);
        JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "devices");
        guint n = 0;

        for (guint i = 0; i < json_array_get_length(a); i++)
                n += pred(json_array_get_object_element(a, i), arg) ? 1 : 0;
        return n;
}

static gboolean class_prefix(JsonObject *d, gconstpointer arg)
{
        return !json_object_get_null_member(d, "class") &&
               g_str_has_prefix(json_object_get_string_member(d, "class"), arg);
}

static gboolean in_group(JsonObject *d, gconstpointer arg)
{
        return !json_object_get_null_member(d, "iommu_group") &&
               json_object_get_int_member(d, "iommu_group") == GPOINTER_TO_INT(arg);
}

static gboolean has_driver(JsonObject *d, gconstpointer arg)
{
        return !json_object_get_null_member(d, "driver") &&
               strcmp(json_object_get_string_member(d, "driver"), arg) == 0;
}

static gboolean no_driver(JsonObject *d, gconstpointer arg)
{
        return json_object_get_null_member(d, "driver");
}

static gboolean any(JsonObject *d, gconstpointer arg)
{
        return TRUE;
}

static gint64 total_of(const char *e, const char *token, const char *path, guint *len)
{
        g_auto(HdEtReply) r = hd_et_call(e, "GET", path, NULL, token);

        if (r.status != 200)
                g_error("%s: %u %s", path, r.status, r.body);
        if (len)
                *len =
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "devices"));
        return json_object_get_int_member(hd_et_obj(&r), "total");
}

static void test_filters(void)
{
        World *w = world_new();
        const char *e = w->engine->url;
        g_autofree char *id = hd_et_add_host(e, w->admin, "node1", w->agent->url, w->agent_token);
        g_autofree char *base = g_strconcat("/v1/hosts/", id, "/devices", NULL);
        guint all = agent_devices_where(w, any, NULL);
        guint len = 0;
        gint64 group_of_gpu;

        hd_et_await_status(e, w->viewer, id, "up");
        g_assert_cmpint(total_of(e, w->viewer, base, &len), ==, all);
        g_assert_cmpuint(len, ==, all);
        {
                /* without limit: the whole inventory, as before pages existed */
                g_auto(HdEtReply) r = hd_et_call(e, "GET", base, NULL, w->viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "limit"), ==, 10000);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "offset"), ==, 0);
        }
        /* class categories as hostdev list --class has them */
        for (const char *const *c = (const char *const[]){"gpu", "03", "net", "02", "storage", "01",
                                                          "bridge", "06", NULL};
             *c; c += 2) {
                g_autofree char *p = g_strdup_printf("%s?class=%s", base, c[0]);
                guint want = agent_devices_where(w, class_prefix, c[1]);
                g_assert_cmpuint(want, >, 0);
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==, want);
        }
        {
                /* audio: 0401 and 0403 */
                g_autofree char *p = g_strdup_printf("%s?class=audio", base);
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==,
                                agent_devices_where(w, class_prefix, "0401") +
                                    agent_devices_where(w, class_prefix, "0403"));
        }
        /* text: any case, over address, ids, names, driver; wildcards are literal */
        {
                g_autofree char *p = g_strdup_printf("%s?text=01%%3A00", base); /* "01:00" */
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==, 2);
        }
        {
                g_autofree char *p = g_strdup_printf("%s?text=NVIDIA", base);
                g_autofree char *q = g_strdup_printf("%s?text=nvidia", base);
                gint64 n = total_of(e, w->viewer, p, NULL);
                g_assert_cmpint(n, >=, 1);
                g_assert_cmpint(total_of(e, w->viewer, q, NULL), ==, n);
        }
        {
                g_autofree char *p = g_strdup_printf("%s?text=10de%%3A", base); /* NVIDIA's id */
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), >=, 1);
        }
        {
                g_autofree char *p = g_strdup_printf("%s?text=%%25", base); /* "%" */
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==, 0);
        }
        /* driver, none, group */
        {
                g_autofree char *drv = hd_et_engine_driver(e, w->viewer, id, GPU);
                g_autofree char *p = g_strdup_printf("%s?driver=%s", base, drv);
                g_assert_nonnull(drv);
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==,
                                agent_devices_where(w, has_driver, drv));
        }
        {
                g_autofree char *p = g_strdup_printf("%s?driver=none", base);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, w->viewer);
                JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "devices");
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==,
                                agent_devices_where(w, no_driver, NULL));
                for (guint i = 0; i < json_array_get_length(a); i++)
                        g_assert_true(json_object_get_null_member(
                            json_array_get_object_element(a, i), "driver"));
        }
        {
                g_autofree char *drv = hd_et_engine_driver(e, w->viewer, id, GPU);
                g_autofree char *p = g_strdup_printf("%s?text=" GPU "&limit=1", base);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, w->viewer);
                JsonObject *d = json_array_get_object_element(
                    json_object_get_array_member(hd_et_obj(&r), "devices"), 0);
                group_of_gpu = json_object_get_int_member(d, "iommu_group");
                g_assert_cmpstr(json_object_get_string_member(d, "driver"), ==, drv);
        }
        {
                g_autofree char *p =
                    g_strdup_printf("%s?iommu_group=%" G_GINT64_FORMAT, base, group_of_gpu);
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==,
                                agent_devices_where(w, in_group, GINT_TO_POINTER(group_of_gpu)));
        }
        {
                /* combined: the GPU's group and class gpu */
                g_autofree char *p = g_strdup_printf(
                    "%s?iommu_group=%" G_GINT64_FORMAT "&class=gpu", base, group_of_gpu);
                g_assert_cmpint(total_of(e, w->viewer, p, NULL), ==, 1);
        }
        /* pages: limit and offset, total is the whole match, sorted by address */
        {
                g_autofree char *p1 = g_strdup_printf("%s?limit=2&offset=0", base);
                g_autofree char *p2 = g_strdup_printf("%s?limit=2&offset=2", base);
                g_autofree char *pend = g_strdup_printf("%s?limit=5&offset=%u", base, all - 1);
                g_auto(HdEtReply) r1 = hd_et_call(e, "GET", p1, NULL, w->viewer);
                g_auto(HdEtReply) r2 = hd_et_call(e, "GET", p2, NULL, w->viewer);
                JsonArray *a1 = json_object_get_array_member(hd_et_obj(&r1), "devices");
                JsonArray *a2 = json_object_get_array_member(hd_et_obj(&r2), "devices");
                g_assert_cmpuint(json_array_get_length(a1), ==, 2);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r1), "total"), ==, all);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r1), "limit"), ==, 2);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r2), "offset"), ==, 2);
                g_assert_cmpint(strcmp(json_object_get_string_member(
                                           json_array_get_object_element(a1, 1), "address"),
                                       json_object_get_string_member(
                                           json_array_get_object_element(a2, 0), "address")),
                                <, 0);
                g_assert_cmpint(total_of(e, w->viewer, pend, &len), ==, all);
                g_assert_cmpuint(len, ==, 1);
        }
        /* each bad parameter: 400 with a message */
        for (const char *const *q =
                 (const char *const[]){"class=gpus", "class=", "driver=", "text=", "iommu_group=-1",
                                       "iommu_group=x", "limit=0", "limit=10001", "offset=-1",
                                       "vendor=10de", NULL};
             *q; q++) {
                g_autofree char *p = g_strdup_printf("%s?%s", base, *q);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, w->viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                /* groups take no filter */
                g_autofree char *p = g_strconcat("/v1/hosts/", id, "/groups?class=gpu", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, w->viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        /* events: by host, by action (exact, family), by object */
        {
                g_autofree char *p = g_strdup_printf("/v1/events?host_id=%s&limit=1000", id);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, w->viewer);
                JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "events");
                gboolean added = FALSE, up = FALSE;
                for (guint i = 0; i < json_array_get_length(a); i++) {
                        JsonObject *ev = json_array_get_object_element(a, i);
                        const char *action = json_object_get_string_member(ev, "action");
                        g_assert_nonnull(strstr(json_object_get_string_member(ev, "object"), id));
                        added = added || strcmp(action, "host.add") == 0;
                        up = up || strcmp(action, "host.up") == 0;
                }
                g_assert_true(added && up);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/events?action=host.add", NULL, w->viewer);
                JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "events");
                g_assert_cmpuint(json_array_get_length(a), ==, 1);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/events?action=host.*&limit=1000", NULL, w->viewer);
                JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "events");
                g_assert_cmpuint(json_array_get_length(a), >=, 2);
                for (guint i = 0; i < json_array_get_length(a); i++)
                        g_assert_true(
                            g_str_has_prefix(json_object_get_string_member(
                                                 json_array_get_object_element(a, i), "action"),
                                             "host."));
        }
        {
                /* the '*' is a family only at the end; '_' and '%' are literal */
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/events?action=host_add", NULL, w->viewer);
                g_auto(HdEtReply) r2 =
                    hd_et_call(e, "GET", "/v1/events?object=%25", NULL, w->viewer);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "events")),
                    ==, 0);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r2), "events")),
                    ==, 0);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/events?object=node1&limit=1000", NULL, w->viewer);
                JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "events");
                g_assert_cmpuint(json_array_get_length(a), ==, 1); /* "host node1 (ID)" */
        }
        for (const char *const *q =
                 (const char *const[]){"host_id=", "vm_id=", "action=", "object=", NULL};
             *q; q++) {
                g_autofree char *p = g_strdup_printf("/v1/events?%s", *q);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, w->viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                /* a filtered long poll is answered by an event it selects, not by another */
                g_auto(HdEtReply) now =
                    hd_et_call(e, "GET", "/v1/events?since=0&limit=1000", NULL, w->viewer);
                gint64 last = json_object_get_int_member(hd_et_obj(&now), "last_id");
                g_autofree char *uri = g_strdup_printf("%s/v1/events?since=%" G_GINT64_FORMAT
                                                       "&wait=120&action=host.refresh",
                                                       e, last);
                g_autofree char *auth = g_strconcat("Bearer ", w->viewer, NULL);
                g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
                g_autoptr(SoupSession) s2 = soup_session_new_with_options("timeout", 150, NULL);
                g_autoptr(GBytes) bytes = NULL;
                g_autoptr(JsonNode) n = NULL;
                JsonArray *events;
                g_autofree char *refresh = g_strconcat("/v1/hosts/", id, "/refresh", NULL);

                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                             auth);
                soup_session_send_and_read_async(s2, msg, G_PRIORITY_DEFAULT, NULL,
                                                 hd_et_on_async_done, &bytes);
                for (guint i = 0; i < 5; i++)
                        g_main_context_iteration(NULL, FALSE);
                {
                        /* an event the poll does not select: it goes on waiting */
                        g_auto(HdEtReply) r =
                            hd_et_call(e, "DELETE", "/v1/hosts/x", NULL, w->viewer);
                        hd_et_assert_error(&r, 403, "forbidden");
                }
                {
                        g_auto(HdEtReply) r = hd_et_call(e, "POST", refresh, NULL, w->admin);
                        g_assert_cmpuint(r.status, ==, 202);
                }
                while (!bytes)
                        g_main_context_iteration(NULL, TRUE);
                g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
                n = json_from_string(g_bytes_get_data(bytes, NULL), NULL);
                events = json_object_get_array_member(json_node_get_object(n), "events");
                g_assert_cmpuint(json_array_get_length(events), >=, 1);
                for (guint i = 0; i < json_array_get_length(events); i++)
                        g_assert_cmpstr(json_object_get_string_member(
                                            json_array_get_object_element(events, i), "action"),
                                        ==, "host.refresh");
        }
        world_free(w);
}

/* The driver the agent reports for @addr (NULL: none). */
static char *agent_driver(World *w, const char *addr)
{
        g_autofree char *path = g_strconcat("/v1/devices/", addr, NULL);
        g_auto(HdEtReply) r = hd_et_call(w->agent->url, "GET", path, NULL, w->agent_token);

        g_assert_cmpuint(r.status, ==, 200);
        return json_object_get_null_member(hd_et_obj(&r), "driver")
                   ? NULL
                   : g_strdup(json_object_get_string_member(hd_et_obj(&r), "driver"));
}

/* The vms subcommands against the engine's VM endpoints (wip-vms, merged), and /v1/vms's
 * ETag. */
static void test_vms(void)
{
        World *w = world_new();
        const char *e = w->engine->url;
        g_autofree char *host_id = NULL;
        g_autofree char *vm_id = NULL;
        g_autofree char *tag = NULL, *moved = NULL;
        g_autofree char *gpu_host_driver = agent_driver(w, GPU);

        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "hosts", "add", "node1", "--agent-url", w->agent->url,
                        "--agent-token-file", w->agent_token_file, "--wait", "--json");
                assert_rc(&r, 0);
                host_id = g_strdup(json_object_get_string_member(run_obj(&r), "id"));
        }
        tag = etag_now(e, "/v1/vms", w->viewer);
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "list");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "no VMs"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "create", "gpu-vm", "--memory", "2048",
                                       "--vcpus", "2", "--json");
                JsonObject *v;
                assert_rc(&r, 0);
                v = run_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(v, "state"), ==, "down");
                g_assert_cmpint(json_object_get_int_member(v, "memory_mib"), ==, 2048);
                vm_id = g_strdup(json_object_get_string_member(v, "id"));
        }
        /* a new VM: a new ETag */
        g_assert_cmpuint(get_etag(e, "/v1/vms", w->viewer, tag, &moved), ==, 200);
        g_assert_cmpstr(moved, !=, tag);
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "create", "gpu-vm", "--memory", "2048",
                                       "--vcpus", "2", "--json");
                assert_failed(&r, 3, "gpu-vm", "exists");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-device", "gpu-vm", "01:00.0");
                assert_failed(&r, 2, "give --host", NULL);
        }
        {
                /* the GPU: pinned to node1, its audio function a placeholder */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-device", "gpu-vm", "--host",
                                       "node1", "01:00.0", "--json");
                JsonObject *v;
                JsonArray *devs;
                gboolean placeholder = FALSE;
                assert_rc(&r, 0);
                v = run_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(v, "host_id"), ==, host_id);
                devs = json_object_get_array_member(v, "devices");
                for (guint i = 0; i < json_array_get_length(devs); i++) {
                        JsonObject *d = json_array_get_object_element(devs, i);
                        const char *role = json_object_get_string_member(d, "role");
                        if (strcmp(json_object_get_string_member(d, "address"), GPU) == 0)
                                g_assert_cmpstr(role, ==, "requested");
                        else if (strcmp(role, "placeholder") == 0)
                                placeholder = TRUE;
                }
                g_assert_true(placeholder);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "show", "gpu-vm");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "node1"));
                g_assert_nonnull(strstr(r.out, "placeholder"));
                g_assert_nonnull(strstr(r.out, "2048 MiB, 2 vCPUs"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "list", "--host", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "gpu-vm"));
                g_assert_nonnull(strstr(r.out, GPU));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "list", "--state", "running", "--json");
                assert_rc(&r, 0);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "total"), ==, 0);
        }
        {
                /* the host cannot go while the VM has devices on it: 3, naming the VM */
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "remove", "node1");
                assert_failed(&r, 3, "gpu-vm", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "start", "gpu-vm", "--json");
                assert_rc(&r, 0);
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r), "state"), ==, "running");
        }
        {
                g_autofree char *d = agent_driver(w, GPU);
                g_assert_cmpstr(d, ==, "vfio-pci");
        }
        {
                /* changes only while down: the engine's refusal, 3 */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "remove-device", "gpu-vm", GPU);
                assert_failed(&r, 3, "gpu-vm", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "delete", "gpu-vm");
                assert_failed(&r, 3, "gpu-vm", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "stop", vm_id);
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "stopped (state down)"));
        }
        {
                g_autofree char *d = agent_driver(w, GPU);
                g_assert_cmpstr(d, ==, gpu_host_driver);
        }
        {
                /* destroy: at once, the devices back as with stop */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "start", "gpu-vm");
                g_auto(CliRun) r2 = {0};
                g_autofree char *d = NULL;
                assert_rc(&r, 0);
                r2 = CLI(e, w->admin, "vms", "destroy", "gpu-vm", "--json");
                assert_rc(&r2, 0);
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r2), "state"), ==, "down");
                d = agent_driver(w, GPU);
                g_assert_cmpstr(d, ==, gpu_host_driver);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "destroy", "gpu-vm");
                assert_failed(&r, 3, "gpu-vm", NULL); /* not running */
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "edit", "gpu-vm", "--vcpus", "4", "--json");
                assert_rc(&r, 0);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "vcpus"), ==, 4);
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "remove-device", "gpu-vm", GPU, "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_null_member(run_obj(&r), "host_id"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "events", "--object", vm_id, "--json");
                JsonArray *a;
                assert_rc(&r, 0);
                a = json_object_get_array_member(run_obj(&r), "events");
                g_assert_cmpuint(json_array_get_length(a), >=, 4);
        }
        {
                /* by the VM's name: the same events, each about the VM */
                g_auto(CliRun) r = CLI(e, w->viewer, "events", "--vm", "gpu-vm", "--json");
                g_auto(CliRun) r2 = CLI(e, w->viewer, "events", "--object", vm_id, "--json");
                JsonArray *a;
                assert_rc(&r, 0);
                a = json_object_get_array_member(run_obj(&r), "events");
                g_assert_cmpuint(
                    json_array_get_length(a), ==,
                    json_array_get_length(json_object_get_array_member(run_obj(&r2), "events")));
                for (guint i = 0; i < json_array_get_length(a); i++)
                        g_assert_nonnull(strstr(json_object_get_string_member(
                                                    json_array_get_object_element(a, i), "object"),
                                                vm_id));
        }
        g_free(tag);
        tag = etag_now(e, "/v1/vms", w->viewer);
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "delete", "gpu-vm", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "deleted"));
        }
        /* a deletion: a new ETag */
        g_assert_cmpuint(get_etag(e, "/v1/vms", w->viewer, tag, NULL), ==, 200);
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "show", "gpu-vm");
                assert_failed(&r, 4, "no VM named", NULL);
        }
        world_free(w);
}

/* The agent runs no operation (its /metrics: hostdev_operations_in_flight 0); not recorded
 * (an agent path). */
static gboolean agent_idle(const char *agent, const char *token)
{
        g_autofree char *uri = g_strconcat(agent, "/metrics", NULL);
        g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
        g_autofree char *auth = g_strconcat("Bearer ", token, NULL);
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;

        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
        bytes = soup_session_send_and_read(hd_et_session, msg, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
        text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
        return strstr(text, "\nhostdev_operations_in_flight 0\n") != NULL;
}

/* The whole seed workflow from the shell, as the README shows it, against the merged host
 * lifecycle (wip-hostlife) and VMs (wip-vms): a host whose kernel runs without an IOMMU
 * (firmware-only-igpu fixture) shows passthrough disabled -> the kernel tab plans iommu, its apply
 * refused outside maintenance -> maintenance -> apply -> reboot --wait (a new boot id) ->
 * activate --wait -> passthrough enabled -> a VM gets the GPU (the audio function a
 * placeholder) -> start (both on vfio-pci on the agent) -> stop (back on their drivers). */
static void test_workflow(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only-igpu");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        HdEtProc *agent = hd_et_agent_start(fx, "127.0.0.1:0");
        g_autofree char *atok = hd_et_agent_token(fx);
        g_autofree char *atok_file = write_file(dir, "agent.token", atok);
        HdEtProc *engine = hd_et_engine_start(dir);
        const char *e = engine->url;
        g_autofree char *host_id = NULL;
        g_autofree char *host_path = NULL;
        g_autofree char *boot_id = NULL;
        g_autofree char *gpu_driver = NULL;
        World aw = {.agent = agent, .agent_token = atok};

        gpu_driver = agent_driver(&aw, GPU);
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "add", "node1", "--agent-url", agent->url,
                                       "--agent-token-file", atok_file, "--wait", "--json");
                JsonObject *pt;
                assert_rc(&r, 0);
                pt = json_object_get_object_member(run_obj(&r), "passthrough");
                g_assert_false(json_object_get_boolean_member(pt, "enabled"));
                boot_id = g_strdup(json_object_get_string_member(run_obj(&r), "boot_id"));
                host_id = g_strdup(json_object_get_string_member(run_obj(&r), "id"));
                host_path = g_strconcat("/v1/hosts/", host_id, NULL);
                g_assert_nonnull(boot_id);
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "show", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "disabled"));
        }
        {
                g_auto(CliRun) r =
                    CLI(e, admin, "hosts", "kernel-args", "node1", "--enable", "iommu");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "+ intel_iommu=on"));
                g_assert_nonnull(strstr(r.out, "not applied"));
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "kernel-args", "node1", "--enable",
                                       "iommu", "--apply", "--json");
                assert_failed(&r, 3, "maintenance", "refused");
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "reboot", "node1");
                assert_failed(&r, 3, "maintenance", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "maintenance", "node1", "--wait");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "host node1 is in maintenance"));
        }
        {
                g_auto(CliRun) r =
                    CLI(e, admin, "hosts", "kernel-args", "node1", "--enable", "iommu", "--apply");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "applied"));
                g_assert_nonnull(strstr(r.out, "hostdev-engine hosts reboot"));
        }
        /* the agent refuses a reboot (409) while an operation of its own runs, and the engine
         * re-reads the host's facts after the apply: wait for that to land and the agent to be
         * idle, as an admin would see it done (test-engine-hostlife meets the same race) */
        {
                hd_et_await_status(e, admin, host_id, "maintenance");
                for (guint i = 0; i < 1200; i++) {
                        g_auto(HdEtReply) r = hd_et_call(e, "GET", host_path, NULL, admin);
                        if (json_object_get_boolean_member(hd_et_obj(&r), "reboot_required") &&
                            agent_idle(agent->url, atok))
                                break;
                        g_usleep(50000);
                }
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "reboot", "node1", "--wait", "--json");
                JsonObject *h;
                assert_rc(&r, 0);
                h = run_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(h, "status"), ==, "maintenance");
                g_assert_cmpstr(json_object_get_string_member(h, "boot_id"), !=, boot_id);
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "activate", "node1", "--wait", "--json");
                JsonObject *h;
                assert_rc(&r, 0);
                h = run_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(h, "status"), ==, "up");
                g_assert_true(json_object_get_boolean_member(
                    json_object_get_object_member(h, "passthrough"), "enabled"));
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "hosts", "groups", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, GPU));
        }
        {
                g_auto(CliRun) r =
                    CLI(e, admin, "vms", "create", "gpu-vm", "--memory", "4096", "--vcpus", "4");
                assert_rc(&r, 0);
        }
        {
                g_auto(CliRun) r =
                    CLI(e, admin, "vms", "add-device", "gpu-vm", "--host", "node1", GPU);
                assert_rc(&r, 0);
                if (!strstr(r.out, "0000:01:00.1") || !strstr(r.out, "placeholder")) {
                        g_auto(CliRun) g = CLI(e, admin, "hosts", "devices", "node1");
                        g_error("no placeholder:\n%s\n%s", r.out, g.out);
                }
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "vms", "start", "gpu-vm");
                g_autofree char *g = NULL;
                g_autofree char *a = NULL;
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "(state running)"));
                g = agent_driver(&aw, GPU);
                a = agent_driver(&aw, "0000:01:00.1");
                g_assert_cmpstr(g, ==, "vfio-pci");
                g_assert_cmpstr(a, ==, "vfio-pci");
        }
        {
                /* maintenance while it runs: refused naming it */
                g_auto(CliRun) r = CLI(e, admin, "hosts", "maintenance", "node1");
                assert_failed(&r, 3, "gpu-vm", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "vms", "stop", "gpu-vm");
                g_autofree char *g = NULL;
                assert_rc(&r, 0);
                g = agent_driver(&aw, GPU);
                g_assert_cmpstr(g, ==, gpu_driver);
        }
        {
                g_auto(CliRun) r = CLI(e, admin, "events", "--action", "host.*");
                assert_rc(&r, 0);
                for (const char *const *a = (const char *const[]){"host.maintenance", "host.reboot",
                                                                  "host.activate", NULL};
                     *a; a++)
                        if (!strstr(r.out, *a))
                                g_error("no %s event in:\n%s", *a, r.out);
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_proc_stop(agent, SIGTERM);
        hd_et_rm_rf(dir);
}

/* ---- a fake engine for the endpoints other branches build (api13.md's contract) ---- */

#define HID "11111111-2222-3333-4444-555555555555"
#define VID "99999999-8888-7777-6666-555555555555"

typedef struct {
        GMutex lock;
        GPtrArray *requests; /* "METHOD PATH BODY" */
        char *host_status;
        guint gets_until_maintenance; /* after a reboot: GETs answered "rebooting" */
        char *vm_state;
        gboolean vm_has_devices;
        gboolean start_refused_once;
        gboolean activate_fails; /* activate: the agent does not answer */
        HdEtServer *server;
} Fake;

static char *fake_host(Fake *f)
{
        return g_strdup_printf(
            "{\"id\": \"" HID "\", \"name\": \"node1\", \"agent_url\": \"http://127.0.0.1:1\","
            " \"status\": \"%s\", \"passthrough\": {\"enabled\": %s, \"reason\": \"IOMMU %s\"},"
            " \"kernel_release\": \"6.1.0\", \"kernel_args\": {\"running\": [\"quiet\"],"
            " \"configured\": [\"quiet\", \"intel_iommu=on\"], \"desired\": [\"quiet\", "
            "\"intel_iommu=on\"]}, \"reboot_required\": true, \"boot_id\": \"b1\","
            " \"device_count\": 9, \"group_count\": 7, \"last_error\": %s}",
            f->host_status, strcmp(f->host_status, "up") == 0 ? "true" : "false",
            strcmp(f->host_status, "up") == 0 ? "on" : "off",
            strcmp(f->host_status, "non_responsive") == 0 ? "\"GET /v1/host: Connection refused\""
                                                          : "null");
}

static char *fake_vm(Fake *f)
{
        return g_strdup_printf(
            "{\"id\": \"" VID "\", \"name\": \"gpu-vm\", \"memory_mib\": 8192, \"vcpus\": 4,"
            " \"host_id\": %s, \"host_name\": %s, \"state\": \"%s\", \"hardware_changed\": null,"
            " \"last_error\": null, \"devices\": [%s], \"created_at\": \"t\", \"updated_at\": "
            "\"t\"}",
            f->vm_has_devices ? "\"" HID "\"" : "null", f->vm_has_devices ? "\"node1\"" : "null",
            f->vm_state,
            f->vm_has_devices
                ? "{\"address\": \"0000:01:00.0\", \"iommu_group\": 1, \"role\": \"requested\","
                  " \"vendor_id\": \"10de\", \"device_id\": \"1b80\", \"present\": true},"
                  "{\"address\": \"0000:01:00.1\", \"iommu_group\": 1, \"role\": "
                  "\"placeholder\", \"vendor_id\": \"10de\", \"device_id\": \"10f0\", "
                  "\"present\": true}"
                : "");
}

static void fake_answer(SoupServerMessage *msg, guint status, char *body)
{
        soup_server_message_set_status(msg, status, NULL);
        if (body)
                soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, body,
                                                 strlen(body));
}

static void fake_error(SoupServerMessage *msg, guint status, const char *code, const char *m)
{
        fake_answer(
            msg, status,
            g_strdup_printf("{\"error\": {\"code\": \"%s\", \"message\": \"%s\"}}", code, m));
}

static void fake_handler(SoupServer *server, SoupServerMessage *msg, const char *raw_path,
                         GHashTable *query, gpointer data)
{
        Fake *f = data;
        const char *method = soup_server_message_get_method(msg);
        SoupMessageBody *rb = soup_server_message_get_request_body(msg);
        g_autofree char *path = g_uri_unescape_string(raw_path, NULL);
        g_autofree char *body = g_strndup(rb->data, rb->length);
        const char *auth = soup_message_headers_get_one(
            soup_server_message_get_request_headers(msg), "Authorization");
        gboolean get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

        g_mutex_lock(&f->lock);
        g_ptr_array_add(f->requests, g_strdup_printf("%s %s %s", method, path, body));
        if (g_strcmp0(auth, "Bearer fake-admin") != 0) {
                fake_error(msg, 401, "unauthorized", "no token");
        } else if (get && strcmp(path, "/v1/hosts") == 0) {
                g_autofree char *h = fake_host(f);
                fake_answer(msg, 200,
                            g_strdup_printf("{\"hosts\": [%s], \"total\": 1, \"limit\": 1000, "
                                            "\"offset\": 0}",
                                            h));
        } else if (get && strcmp(path, "/v1/hosts/" HID) == 0) {
                if (f->gets_until_maintenance > 0 && --f->gets_until_maintenance == 0) {
                        g_free(f->host_status);
                        f->host_status = g_strdup("maintenance");
                }
                fake_answer(msg, 200, fake_host(f));
        } else if (post && strcmp(path, "/v1/hosts/" HID "/maintenance") == 0) {
                if (strcmp(f->vm_state, "down") != 0) {
                        fake_error(msg, 409, "refused",
                                   "VMs run on host node1: gpu-vm; stop them first");
                } else {
                        g_free(f->host_status);
                        f->host_status = g_strdup("maintenance");
                        fake_answer(msg, 200, fake_host(f));
                }
        } else if (post && strcmp(path, "/v1/hosts/" HID "/reboot") == 0) {
                g_free(f->host_status);
                f->host_status = g_strdup("rebooting");
                f->gets_until_maintenance = 3;
                fake_answer(msg, 202, fake_host(f));
        } else if (post && strcmp(path, "/v1/hosts/" HID "/activate") == 0) {
                g_free(f->host_status);
                f->host_status = g_strdup(f->activate_fails ? "non_responsive" : "up");
                fake_answer(msg, 200, fake_host(f));
        } else if (strcmp(path, "/v1/hosts/" HID "/kernel-args") == 0 &&
                   (get || strcmp(method, "PUT") == 0)) {
                gboolean apply = strstr(body, "\"dry_run\":false") != NULL;
                if (apply && strcmp(f->host_status, "maintenance") != 0)
                        fake_error(msg, 409, "refused",
                                   "host node1 is up: put it in maintenance first");
                else
                        fake_answer(
                            msg, 200,
                            g_strdup_printf(
                                "{\"available\": true, \"bootloader\": \"grub\", \"running\": "
                                "[\"quiet\"], \"configured\": [\"quiet\"], \"desired\": "
                                "[\"quiet\", \"intel_iommu=on\"], \"added\": [%s], \"removed\": "
                                "[], \"notes\": [], \"reboot_required\": %s, \"applied\": %s}",
                                get ? "" : "\"intel_iommu=on\"", apply ? "true" : "false",
                                apply ? "true" : "false"));
        } else if (get && strcmp(path, "/v1/vms") == 0) {
                g_autofree char *v = fake_vm(f);
                fake_answer(msg, 200,
                            g_strdup_printf("{\"vms\": [%s], \"total\": 1, \"limit\": 1000, "
                                            "\"offset\": 0}",
                                            v));
        } else if (post && strcmp(path, "/v1/vms") == 0) {
                fake_answer(msg, 201, fake_vm(f));
        } else if (strcmp(path, "/v1/vms/" VID) == 0 && (get || strcmp(method, "PATCH") == 0)) {
                fake_answer(msg, 200, fake_vm(f));
        } else if (strcmp(method, "DELETE") == 0 && strcmp(path, "/v1/vms/" VID) == 0) {
                fake_answer(msg, 204, NULL);
        } else if (post && strcmp(path, "/v1/vms/" VID "/devices") == 0) {
                f->vm_has_devices = TRUE;
                fake_answer(msg, 200, fake_vm(f));
        } else if (strcmp(method, "DELETE") == 0 &&
                   strcmp(path, "/v1/vms/" VID "/devices/0000:01:00.0") == 0) {
                f->vm_has_devices = FALSE;
                fake_answer(msg, 200, fake_vm(f));
        } else if (post && strcmp(path, "/v1/vms/" VID "/start") == 0) {
                if (f->start_refused_once) {
                        f->start_refused_once = FALSE;
                        fake_error(msg, 409, "refused",
                                   "VM gpu-vm cannot start: host node1 is in maintenance; "
                                   "activate it first");
                } else {
                        g_free(f->vm_state);
                        f->vm_state = g_strdup("running");
                        fake_answer(msg, 200, fake_vm(f));
                }
        } else if (post && strcmp(path, "/v1/vms/" VID "/stop") == 0) {
                g_free(f->vm_state);
                f->vm_state = g_strdup("down");
                fake_answer(msg, 200, fake_vm(f));
        } else if (post && strcmp(path, "/v1/vms/" VID "/destroy") == 0) {
                fake_error(msg, 502, "agent-failed", "the agent on node1: libvirt failed");
        } else {
                fake_error(msg, 404, "not-found", "no such endpoint");
        }
        g_mutex_unlock(&f->lock);
}

static Fake *fake_start(void)
{
        Fake *f = g_new0(Fake, 1);

        g_mutex_init(&f->lock);
        f->requests = g_ptr_array_new_with_free_func(g_free);
        f->host_status = g_strdup("up");
        f->vm_state = g_strdup("down");
        f->server = hd_et_server_start("fake-engine", fake_handler, NULL, f);
        return f;
}

static void fake_stop(Fake *f)
{
        hd_et_server_stop(f->server);
        g_ptr_array_unref(f->requests);
        g_free(f->host_status);
        g_free(f->vm_state);
        g_mutex_clear(&f->lock);
        g_free(f);
}

/* The fake saw a request starting with @prefix (and containing @needle when not NULL). */
static gboolean fake_saw(Fake *f, const char *prefix, const char *needle)
{
        gboolean seen = FALSE;

        g_mutex_lock(&f->lock);
        for (guint i = 0; i < f->requests->len && !seen; i++) {
                const char *r = f->requests->pdata[i];
                seen = g_str_has_prefix(r, prefix) && (!needle || strstr(r, needle));
        }
        g_mutex_unlock(&f->lock);
        return seen;
}

static void test_contract(void)
{
        Fake *f = fake_start();
        const char *u = hd_et_server_url(f->server);
        const char *t = "fake-admin";

        /* the lifecycle: maintenance, kernel-args plan / apply, reboot --wait, activate */
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "kernel-args", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "intel_iommu=on"));
                g_assert_true(fake_saw(f, "GET /v1/hosts/" HID "/kernel-args", NULL));
        }
        {
                /* applying outside maintenance: the engine's refusal, exit 3 */
                g_auto(CliRun) r = CLI(u, t, "hosts", "kernel-args", "node1", "--enable", "iommu",
                                       "--apply", "--json");
                assert_failed(&r, 3, "put it in maintenance first", "refused");
                g_assert_true(fake_saw(f, "PUT /v1/hosts/" HID "/kernel-args",
                                       "{\"enable\":[\"iommu\"],\"dry_run\":false}"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "kernel-args", "node1", "--enable", "iommu",
                                       "--enable", "iommu-pt");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "+ intel_iommu=on"));
                g_assert_nonnull(strstr(r.out, "not applied"));
                g_assert_true(fake_saw(f, "PUT /v1/hosts/" HID "/kernel-args",
                                       "{\"enable\":[\"iommu\",\"iommu-pt\"],\"dry_run\":true}"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "maintenance", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "host node1 is in maintenance"));
                g_assert_true(fake_saw(f, "POST /v1/hosts/" HID "/maintenance", NULL));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "kernel-args", HID, "--enable", "iommu",
                                       "--apply", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "applied"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "reboot", "node1", "--wait", "--json");
                assert_rc(&r, 0);
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r), "status"), ==,
                                "maintenance");
                g_assert_true(fake_saw(f, "POST /v1/hosts/" HID "/reboot", NULL));
        }
        {
                /* activate --wait on a host whose agent does not answer: 1, with the reason */
                g_auto(CliRun) r = {0};
                g_mutex_lock(&f->lock);
                f->activate_fails = TRUE;
                g_mutex_unlock(&f->lock);
                r = CLI(u, t, "hosts", "activate", "node1", "--wait");
                assert_failed(&r, 1, "Connection refused", NULL);
                g_mutex_lock(&f->lock);
                f->activate_fails = FALSE;
                g_free(f->host_status);
                f->host_status = g_strdup("maintenance");
                g_mutex_unlock(&f->lock);
        }
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "activate", "node1", "--wait");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "status up"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "hosts", "show", "node1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "reboot required"));
                g_assert_nonnull(strstr(r.out, "kernel desired"));
        }
        /* VMs: create, add the GPU (the audio function as a placeholder), start, stop */
        {
                g_auto(CliRun) r =
                    CLI(u, t, "vms", "create", "gpu-vm", "--memory", "8192", "--vcpus", "4");
                assert_rc(&r, 0);
                g_assert_true(fake_saw(f, "POST /v1/vms ",
                                       "{\"name\":\"gpu-vm\",\"memory_mib\":8192,\"vcpus\":4}"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "add-device", "gpu-vm", "01:00.0");
                assert_failed(&r, 2, "give --host", NULL);
        }
        {
                g_auto(CliRun) r =
                    CLI(u, t, "vms", "add-device", "gpu-vm", "--host", "node1", "01:00.0");
                assert_rc(&r, 0);
                g_assert_true(fake_saw(f, "POST /v1/vms/" VID "/devices",
                                       "{\"host_id\":\"" HID
                                       "\",\"addresses\":[\"0000:01:00.0\"]}"));
                g_assert_nonnull(strstr(r.out, "placeholder"));
                g_assert_nonnull(strstr(r.out, "requested"));
                g_assert_nonnull(strstr(r.out, "node1"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "list");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "gpu-vm"));
                g_assert_nonnull(strstr(r.out, "0000:01:00.0"));
                g_assert_null(strstr(r.out, "0000:01:00.1")); /* placeholders: in show only */
        }
        {
                g_auto(CliRun) r =
                    CLI(u, t, "vms", "list", "--host", "node1", "--state", "down", "--json");
                assert_rc(&r, 0);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "total"), ==, 1);
                g_assert_true(fake_saw(f, "GET /v1/vms", NULL));
        }
        {
                /* a refused start: the engine's reason, exit 3 */
                g_auto(CliRun) r = {0};
                g_mutex_lock(&f->lock);
                f->start_refused_once = TRUE;
                g_mutex_unlock(&f->lock);
                r = CLI(u, t, "vms", "start", "gpu-vm", "--json");
                assert_failed(&r, 3, "activate it first", "refused");
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "start", VID);
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "VM " VID " started (state running)"));
                g_assert_true(fake_saw(f, "POST /v1/vms/" VID "/start", NULL));
        }
        {
                /* maintenance while it runs: refused, naming the VM */
                g_auto(CliRun) r = CLI(u, t, "hosts", "maintenance", "node1");
                assert_failed(&r, 3, "gpu-vm", NULL);
        }
        {
                /* the agent failed: 1 with its message */
                g_auto(CliRun) r = CLI(u, t, "vms", "destroy", "gpu-vm", "--json");
                assert_failed(&r, 1, "libvirt failed", "agent-failed");
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "stop", "gpu-vm", "--json");
                assert_rc(&r, 0);
                g_assert_cmpstr(json_object_get_string_member(run_obj(&r), "state"), ==, "down");
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "show", "gpu-vm");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "0000:01:00.1"));
                g_assert_nonnull(strstr(r.out, "8192 MiB, 4 vCPUs"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "edit", "gpu-vm", "--memory", "16384");
                assert_rc(&r, 0);
                g_assert_true(fake_saw(f, "PATCH /v1/vms/" VID, "{\"memory_mib\":16384}"));
        }
        {
                g_auto(CliRun) r =
                    CLI(u, t, "vms", "remove-device", "gpu-vm", "0000:01:00.0", "--json");
                assert_rc(&r, 0);
                g_assert_true(fake_saw(f, "DELETE /v1/vms/" VID "/devices/0000:01:00.0", NULL));
                g_assert_true(json_object_get_null_member(run_obj(&r), "host_id"));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "delete", "gpu-vm", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "deleted"));
                g_assert_true(fake_saw(f, "DELETE /v1/vms/" VID " ", NULL));
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "show", "other-vm");
                assert_failed(&r, 4, "no VM named \"other-vm\"", NULL);
        }
        {
                g_auto(CliRun) r = CLI(u, t, "vms", "create", "x");
                assert_failed(&r, 2, "--memory", NULL);
        }
        fake_stop(f);
}

/* hosts usb|scsi and vms add-usb|remove-usb|add-scsi|remove-scsi end to end (usb-desk: two FTDI
 * adapters told apart by serial, a hub, the only keyboard): the tables with the specs and
 * verdicts, --json the API's documents, the one-owner refusal (exit 3, in-use), a device
 * number refused as usage (exit 2), removal by number. */
static void test_usbscsi(void)
{
        World *w = world_new_on("usb-desk");
        const char *e = w->engine->url;

        world_add_host(w, "desk1");
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "usb", "desk1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "SPEC"));
                /* the spec that names each for good, and why the host keeps some */
                g_assert_nonnull(strstr(r.out, "0403:6001:A10K7XYZ"));
                g_assert_nonnull(strstr(r.out, "0403:6001:A10K8ABC"));
                g_assert_nonnull(strstr(r.out, "hub"));
                g_assert_nonnull(strstr(r.out, "only-keyboard"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "usb", "desk1", "--json");
                assert_rc(&r, 0);
                g_assert_nonnull(json_object_get_string_member(run_obj(&r), "host_id"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&r), "devices")),
                    >, 3);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "scsi", "desk1", "--json");
                assert_rc(&r, 0);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&r), "luns")), ==,
                    0);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "usb", "nosuch");
                assert_failed(&r, 4, "nosuch", NULL);
        }
        world_create_vm(w, "lab");
        world_create_vm(w, "build");
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-usb", "lab", "desk1",
                                       "0403:6001:A10K7XYZ", "--json");
                JsonObject *u;
                assert_rc(&r, 0);
                u = json_array_get_object_element(
                    json_object_get_array_member(run_obj(&r), "usb"), 0);
                g_assert_cmpint(json_object_get_int_member(u, "n"), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(u, "spec"), ==,
                                "0403:6001:A10K7XYZ");
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "add-usb", "lab", "desk1", "1-4", "--force");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "USB devices:"));
                if (!strstr(r.out, "1-4") || !strstr(r.out, "yes"))
                        g_error("vms add-usb printed: %s", r.out);
        }
        {
                /* one owner: exit 3, the owner named */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-usb", "build", "desk1",
                                       "0403:6001:A10K7XYZ", "--json");
                assert_failed(&r, 3, "VM lab's", "in-use");
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-usb", "build", "desk1", "1:4");
                assert_failed(&r, 2, "device number", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-usb", "build", "desk1");
                assert_rc(&r, 2);
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "add-scsi", "build", "desk1", "naa.50014380272a1b2c",
                        "--shareable", "--readonly", "--json");
                JsonObject *l;
                assert_rc(&r, 0);
                l = json_array_get_object_element(
                    json_object_get_array_member(run_obj(&r), "scsi"), 0);
                g_assert_true(json_object_get_boolean_member(l, "shareable"));
                g_assert_true(json_object_get_boolean_member(l, "readonly"));
                g_assert_false(json_object_get_boolean_member(l, "force"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "show", "build");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "SCSI LUNs:"));
                g_assert_nonnull(strstr(r.out, "naa.50014380272a1b2c"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "remove-scsi", "build", "1", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_null_member(run_obj(&r), "host_id"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "remove-usb", "lab", "9");
                assert_failed(&r, 4, "no USB device 9", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "remove-usb", "lab", "1", "--json");
                JsonArray *u;
                assert_rc(&r, 0);
                u = json_object_get_array_member(run_obj(&r), "usb");
                g_assert_cmpuint(json_array_get_length(u), ==, 1);
                g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(u, 0), "n"),
                                ==, 2);
        }
        {
                /* free again */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-usb", "build", "desk1",
                                       "0403:6001:A10K7XYZ");
                assert_rc(&r, 0);
        }
        world_free(w);
}

/* hosts vhost-scsi and vms add-vhost-scsi|remove-vhost-scsi end to end (scsi-server: a ready
 * LIO target and one without a nexus): the table and --json, the VM's table, the one-owner
 * refusal (exit 3 in-use naming the holder), a malformed WWPN (exit 2), an unknown number
 * (exit 4). */
static void test_vhost_scsi(void)
{
        World *w = world_new_on("scsi-server");
        const char *e = w->engine->url;

        world_add_host(w, "srv1");
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "vhost-scsi", "srv1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "WWPN"));
                g_assert_nonnull(strstr(r.out, "naa.5001405000000001"));
                g_assert_nonnull(strstr(r.out, "naa.5001405000000002"));
                g_assert_nonnull(strstr(r.out, "fileio_0/disk0"));
                /* the unready one says what is missing */
                g_assert_nonnull(strstr(r.out, "not ready: "));
                g_assert_nonnull(strstr(r.out, "nexus"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "vhost-scsi", "srv1", "--json");
                assert_rc(&r, 0);
                g_assert_nonnull(json_object_get_string_member(run_obj(&r), "host_id"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&r), "targets")), ==,
                    2);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "vhost-scsi", "nosuch");
                assert_failed(&r, 4, "nosuch", NULL);
        }
        world_create_vm(w, "db");
        world_create_vm(w, "web");
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-vhost-scsi", "db", "srv1",
                                       "naa.5001405000000001", "--json");
                JsonObject *v;
                assert_rc(&r, 0);
                v = json_array_get_object_element(
                    json_object_get_array_member(run_obj(&r), "vhost_scsi"), 0);
                g_assert_cmpint(json_object_get_int_member(v, "n"), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(v, "wwpn"), ==,
                                "naa.5001405000000001");
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "add-vhost-scsi", "db", "srv1", "naa.5001405000000011");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "vhost-scsi targets:"));
                g_assert_nonnull(strstr(r.out, "naa.5001405000000011"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "show", "db");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "VHOST-SCSI WWPN"));
                g_assert_nonnull(strstr(r.out, "naa.5001405000000001"));
        }
        {
                /* one owner: exit 3, the holder named */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-vhost-scsi", "web", "srv1",
                                       "NAA.5001405000000001", "--json");
                assert_failed(&r, 3, "VM db's", "in-use");
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "add-vhost-scsi", "web", "srv1", "naa.5001");
                assert_failed(&r, 2, "not a vhost target WWPN", NULL);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-vhost-scsi", "web", "srv1");
                assert_rc(&r, 2);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "remove-vhost-scsi", "db", "9");
                assert_failed(&r, 4, "no vhost-scsi target 9", NULL);
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "remove-vhost-scsi", "db", "1", "--json");
                JsonArray *v;
                assert_rc(&r, 0);
                v = json_object_get_array_member(run_obj(&r), "vhost_scsi");
                g_assert_cmpuint(json_array_get_length(v), ==, 1);
                g_assert_cmpint(
                    json_object_get_int_member(json_array_get_object_element(v, 0), "n"), ==, 2);
        }
        {
                /* free again */
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-vhost-scsi", "web", "srv1",
                                       "naa.5001405000000001");
                assert_rc(&r, 0);
        }
        world_free(w);
}

/* hosts sriov: the PF with its VFs, a change (dry run, then made) with --json and in words,
 * the refusals' exit codes (a count above the total: 2; a VF a VM has: 3 in-use). */
static void test_sriov(void)
{
        World *w = world_new_on("sriov-server");
        const char *e = w->engine->url;

        world_add_host(w, "node1");
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "sriov", "node1", "18:00.0");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "4 of 64"));
                g_assert_nonnull(strstr(r.out, "0000:18:01.0"));
                g_assert_nonnull(strstr(r.out, "iavf"));
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->viewer, "hosts", "sriov", "node1", "0000:18:00.0", "--json");
                assert_rc(&r, 0);
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "totalvfs"), ==, 64);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&r), "vfs")), ==, 4);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "sriov", "node1", "18:00.0",
                                       "--numvfs", "6", "--dry-run", "--json");
                assert_rc(&r, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "dry_run"));
                g_assert_cmpint(json_object_get_int_member(run_obj(&r), "numvfs"), ==, 6);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "sriov", "node1", "18:00.0",
                                       "--numvfs", "6", "--autoprobe", "no");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "6 VFs (4 before), autoprobe no"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "sriov", "node1", "18:00.0",
                                       "--numvfs", "100", "--json");
                assert_failed(&r, 2, "at most 64", "invalid-argument");
        }
        {
                g_auto(CliRun) a =
                    CLI(e, w->admin, "hosts", "sriov", "node1", "18:00.0", "--autoprobe", "maybe");
                g_auto(CliRun) p =
                    CLI(e, w->admin, "hosts", "sriov", "node1", "18:00.0", "--persist");
                g_auto(CliRun) v =
                    CLI(e, w->viewer, "hosts", "sriov", "node1", "18:00.0", "--numvfs", "2");
                assert_failed(&a, 2, "yes or no", NULL);
                assert_failed(&p, 2, "--numvfs", NULL);
                assert_rc(&v, 3);
        }
        /* a VF given to a VM: the count is refused, naming the VM */
        {
                g_auto(CliRun) c =
                    CLI(e, w->admin, "vms", "create", "nfv1", "--memory", "1024", "--vcpus", "1");
                g_auto(CliRun) d =
                    CLI(e, w->admin, "vms", "add-device", "nfv1", "--host", "node1", "18:01.0");
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "sriov", "node1", "18:00.0",
                                       "--numvfs", "2", "--json");
                g_auto(CliRun) s = CLI(e, w->viewer, "hosts", "sriov", "node1", "18:00.0");
                assert_rc(&c, 0);
                assert_rc(&d, 0);
                assert_failed(&r, 3, "VM nfv1", "in-use");
                assert_rc(&s, 0);
                g_assert_nonnull(strstr(s.out, "nfv1"));
        }
        world_free(w);
}

/* hosts npiv, npiv-create, npiv-delete on the scsi-server topology: the FC hosts and vports
 * in words and --json, a vport with generated WWNs and one with given WWNs (the same WWPN
 * again is exit 3 in-use), the deletion. */
static void test_npiv(void)
{
        World *w = world_new_on("scsi-server");
        const char *e = w->engine->url;
        g_autofree char *wwpn = NULL;

        world_add_host(w, "srv1");
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "npiv", "srv1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "host1"));
                g_assert_nonnull(strstr(r.out, "0x21000024ff3dc9a0"));
                g_assert_nonnull(strstr(r.out, "1/254"));
                g_assert_nonnull(strstr(r.out, "can create vports"));
                g_assert_nonnull(strstr(r.out, "0x2001001122334455"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "npiv-create", "srv1", "host1",
                                       "--json");
                assert_rc(&r, 0);
                wwpn = g_strdup(json_object_get_string_member(run_obj(&r), "wwpn"));
                g_assert_true(g_str_has_prefix(wwpn, "0x5001a4a"));
                g_assert_true(json_object_get_boolean_member(run_obj(&r), "persist"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "npiv-create", "srv1", "1",
                                       "--wwpn", "20:01:00:11:22:33:44:77", "--wwnn",
                                       "2000001122334477", "--no-persist");
                g_auto(CliRun) again = CLI(e, w->admin, "hosts", "npiv-create", "srv1", "host1",
                                           "--wwpn", "0x2001001122334477", "--json");
                g_auto(CliRun) bad =
                    CLI(e, w->admin, "hosts", "npiv-create", "srv1", "host1", "--wwpn", "0x12", "--json");
                g_auto(CliRun) v = CLI(e, w->viewer, "hosts", "npiv-create", "srv1", "host1");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "WWPN 0x2001001122334477, WWNN 0x2000001122334477 "
                                               "(gone after a reboot)"));
                assert_failed(&again, 3, "on host srv1", "in-use");
                assert_failed(&bad, 2, "wwpn", "invalid-argument");
                assert_rc(&v, 3);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "npiv", "srv1", "--json");
                JsonArray *vports;
                guint mine = 0;
                assert_rc(&r, 0);
                vports = json_object_get_array_member(run_obj(&r), "vports");
                for (guint i = 0; i < json_array_get_length(vports); i++)
                        mine += json_object_get_boolean_member(
                            json_array_get_object_element(vports, i), "engine_assigned");
                g_assert_cmpuint(mine, ==, 2);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "hosts", "npiv-delete", "srv1", wwpn);
                g_auto(CliRun) d = CLI(e, w->admin, "hosts", "npiv-delete", "srv1",
                                       "20:01:00:11:22:33:44:77", "--json");
                g_auto(CliRun) gone = CLI(e, w->admin, "hosts", "npiv-delete", "srv1", wwpn);
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "deleted on host srv1; its WWNs are free"));
                assert_rc(&d, 0);
                g_assert_true(json_object_get_boolean_member(run_obj(&d), "released"));
                assert_rc(&gone, 4);
        }
        world_free(w);
}

/* hosts mdev, vms add-mdev, vms remove-mdev on the mdev-host topology. */
static void test_mdev(void)
{
        World *w = world_new_on("mdev-host");
        const char *e = w->engine->url;
        g_autofree char *uuid = NULL;

        world_add_host(w, "node1");
        /* the sync may still be on its first read of the agent's mdev document */
        for (guint i = 0; i < 300; i++) {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "mdev", "node1");
                assert_rc(&r, 0);
                if (strstr(r.out, "mtty-1"))
                        break;
                g_usleep(100 * 1000);
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "hosts", "mdev", "node1");
                g_auto(CliRun) j = CLI(e, w->viewer, "hosts", "mdev", "node1", "--json");
                assert_rc(&r, 0);
                g_assert_true(g_str_has_prefix(r.out, "PARENT"));
                g_assert_nonnull(strstr(r.out, "Single port serial"));
                g_assert_nonnull(strstr(r.out, "i915-GVTg_V5_4"));
                assert_rc(&j, 0);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&j), "parents")), ==,
                    2);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&j), "leftovers")),
                    ==, 0);
        }
        {
                g_auto(CliRun) c =
                    CLI(e, w->admin, "vms", "create", "term1", "--memory", "1024", "--vcpus", "1");
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "add-mdev", "term1", "node1", "mtty-1",
                                       "--no-display", "--json");
                JsonArray *a;
                JsonObject *m;
                assert_rc(&c, 0);
                assert_rc(&r, 0);
                a = json_object_get_array_member(run_obj(&r), "mdevs");
                g_assert_cmpuint(json_array_get_length(a), ==, 1);
                m = json_array_get_object_element(a, 0);
                g_assert_cmpstr(json_object_get_string_member(m, "type"), ==, "mtty-1");
                g_assert_false(json_object_get_boolean_member(m, "display"));
                uuid = g_strdup(json_object_get_string_member(m, "uuid"));
        }
        {
                g_auto(CliRun) r =
                    CLI(e, w->admin, "vms", "add-mdev", "term1", "node1", "i915-GVTg_V5_4");
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, "mdev of type i915-GVTg_V5_4 on host node1 added"));
                g_assert_nonnull(strstr(r.out, uuid));
                g_assert_nonnull(strstr(r.out, "mtty-1 (no display)"));
        }
        {
                g_auto(CliRun) r = CLI(e, w->viewer, "vms", "show", "term1");
                g_autofree char *line = g_strdup_printf("mtty-1 %s (no display)", uuid);
                assert_rc(&r, 0);
                g_assert_nonnull(strstr(r.out, line));
                g_assert_nonnull(strstr(r.out, "i915-GVTg_V5_4"));
        }
        {
                g_auto(CliRun) t =
                    CLI(e, w->admin, "vms", "add-mdev", "term1", "node1", "nvidia-999", "--json");
                g_auto(CliRun) h = CLI(e, w->admin, "vms", "add-mdev", "term1", "node9", "mtty-1");
                g_auto(CliRun) u = CLI(e, w->admin, "vms", "add-mdev", "term1", "node1");
                assert_failed(&t, 3, "offers no mediated device type", "refused");
                assert_rc(&h, 4);
                assert_rc(&u, 2);
        }
        {
                g_auto(CliRun) r = CLI(e, w->admin, "vms", "remove-mdev", "term1", uuid, "--json");
                g_auto(CliRun) again = CLI(e, w->admin, "vms", "remove-mdev", "term1", uuid);
                g_auto(CliRun) bad = CLI(e, w->admin, "vms", "remove-mdev", "term1", "nope");
                assert_rc(&r, 0);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(run_obj(&r), "mdevs")), ==,
                    1);
                assert_failed(&again, 4, uuid, NULL);
                assert_rc(&bad, 2);
        }
        world_free(w);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine-cli/hosts", test_hosts);
        g_test_add_func("/engine-cli/exit-codes", test_exit_codes);
        g_test_add_func("/engine-cli/etags", test_etags);
        g_test_add_func("/engine-cli/filters", test_filters);
        g_test_add_func("/engine-cli/vms", test_vms);
        g_test_add_func("/engine-cli/workflow", test_workflow);
        g_test_add_func("/engine-cli/contract", test_contract);
        g_test_add_func("/engine-cli/usbscsi", test_usbscsi);
        g_test_add_func("/engine-cli/vhost-scsi", test_vhost_scsi);
        g_test_add_func("/engine-cli/sriov", test_sriov);
        g_test_add_func("/engine-cli/mdev", test_mdev);
        g_test_add_func("/engine-cli/npiv", test_npiv);
        return hd_et_run();
}
