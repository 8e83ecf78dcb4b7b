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

#include <sys/resource.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-testlib.h"

#define GPU "0000:01:00.0"

/* ---- tests ---- */

static void test_tokens(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        g_autofree char *out = NULL;
        struct stat st;
        HdEtProc *engine;

        /* the database is the engine's alone (SQLite: a file 0600; PostgreSQL: its server's) */
        if (!hd_et_pg()) {
                g_assert_cmpint(stat(db, &st), ==, 0);
                g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        }
        g_assert_cmpint(hd_et_engine_cli(dir, (const char *[]){"token", "list", NULL}, &out), ==,
                        0);
        g_assert_nonnull(strstr(out, "ops\tadmin"));
        g_assert_nonnull(strstr(out, "portal\tviewer"));
        g_assert_null(strstr(out, admin)); /* only the hash is kept */
        g_clear_pointer(&out, g_free);
        /* a taken name, a bad role, a bad name */
        g_assert_cmpint(
            hd_et_engine_cli(
                dir, (const char *[]){"token", "create", "ops", "--role", "admin", NULL}, NULL),
            !=, 0);
        g_assert_cmpint(
            hd_et_engine_cli(dir, (const char *[]){"token", "create", "x", "--role", "root", NULL},
                             NULL),
            !=, 0);
        g_assert_cmpint(
            hd_et_engine_cli(
                dir, (const char *[]){"token", "create", "../x", "--role", "admin", NULL}, NULL),
            !=, 0);
        engine = hd_et_engine_start(dir);
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", "/v1/hosts", NULL, NULL);
                hd_et_assert_error(&r, 401, "unauthorized");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", "/v1/hosts", NULL, "0123");
                hd_et_assert_error(&r, 401, "unauthorized");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", "/v1/hosts", NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                /* a viewer reads, never changes: 403 before the body is read */
                g_auto(HdEtReply) r =
                    hd_et_call(engine->url, "POST", "/v1/hosts",
                               "{\"name\": \"h\", \"agent_url\": \"http://127.0.0.1:1\", "
                               "\"agent_token\": \"t\"}",
                               viewer);
                hd_et_assert_error(&r, 403, "forbidden");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(engine->url, "DELETE", "/v1/hosts/x", NULL, viewer);
                hd_et_assert_error(&r, 403, "forbidden");
        }
        g_assert_true(hd_et_has_event(engine->url, admin, "api.call", "refused"));
        {
                /* the events long poll: answered by the next event, not by the end of the wait */
                g_auto(HdEtReply) now =
                    hd_et_call(engine->url, "GET", "/v1/events?since=0&limit=1000", NULL, admin);
                gint64 last = json_object_get_int_member(hd_et_obj(&now), "last_id");
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
                soup_session_send_and_read_async(s2, msg, G_PRIORITY_DEFAULT, NULL,
                                                 hd_et_on_async_done, &bytes);
                /* the poll is waiting when nothing newer than last_id came back at once */
                for (guint i = 0; i < 5; i++)
                        g_main_context_iteration(NULL, FALSE);
                g_assert_null(bytes);
                {
                        g_auto(HdEtReply) r =
                            hd_et_call(engine->url, "DELETE", "/v1/hosts/x", NULL, viewer);
                        hd_et_assert_error(&r, 403, "forbidden");
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
                g_auto(HdEtReply) r =
                    hd_et_call(engine->url, "GET", "/v1/events?wait=301", NULL, viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", "/healthz", NULL, NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        /* revoked: 401 from the next request on (the store is read per request) */
        g_assert_cmpint(
            hd_et_engine_cli(dir, (const char *[]){"token", "revoke", "portal", NULL}, NULL), ==,
            0);
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", "/v1/hosts", NULL, viewer);
                hd_et_assert_error(&r, 401, "unauthorized");
        }
        g_assert_cmpint(
            hd_et_engine_cli(dir, (const char *[]){"token", "revoke", "portal", NULL}, NULL), !=,
            0);
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_rm_rf(dir);
}

static void test_sync(void)
{
        g_autoptr(HdTestFixture) fx1 = hd_test_fixture_new("desktop");
        g_autoptr(HdTestFixture) fx2 = hd_test_fixture_new("desktop");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        HdEtProc *a1 = hd_et_agent_start(fx1, "127.0.0.1:0");
        HdEtProc *a2 = hd_et_agent_start(fx2, "127.0.0.1:0");
        g_autofree char *t1 = hd_et_agent_token(fx1);
        g_autofree char *t2 = hd_et_agent_token(fx2);
        HdEtProc *engine = hd_et_engine_start(dir);
        g_autoptr(JsonNode) groups_before = NULL;
        g_autofree char *id1 = hd_et_add_host(engine->url, admin, "node1", a1->url, t1);
        g_autofree char *id2 = hd_et_add_host(engine->url, admin, "node2", a2->url, t2);
        g_autofree char *a1_listen = g_strdup(a1->url + strlen("http://"));
        g_autofree char *driver = NULL;
        g_autofree char *path1 = g_strconcat("/v1/hosts/", id1, NULL);

        /* both up, with the agent's readiness and counts */
        for (const char *const *id = (const char *[]){id1, id2, NULL}; *id; id++) {
                g_auto(HdEtReply) r = hd_et_wait_status(engine->url, viewer, *id, "up");
                JsonObject *h = hd_et_obj(&r);
                JsonObject *pt = json_object_get_object_member(h, "passthrough");
                const char *agent = *id == id1 ? a1->url : a2->url;
                const char *tok = *id == id1 ? t1 : t2;

                g_assert_false(json_object_get_null_member(pt, "enabled"));
                g_assert_true(json_object_get_boolean_member(pt, "enabled"));
                g_assert_nonnull(json_object_get_string_member(pt, "reason"));
                g_assert_cmpint(json_object_get_int_member(h, "device_count"), ==,
                                hd_et_agent_count(agent, tok, "devices"));
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), ==,
                                hd_et_agent_count(agent, tok, "groups"));
                g_assert_cmpint(json_object_get_int_member(h, "device_count"), >, 0);
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), >, 0);
                g_assert_nonnull(json_object_get_string_member(h, "kernel_release"));
                g_assert_nonnull(json_object_get_string_member(h, "last_sync"));
                g_assert_true(json_object_has_member(h, "cpu_vendor"));
                g_assert_false(json_object_has_member(h, "agent_token"));
        }
        driver = hd_et_engine_driver(engine->url, viewer, id1, GPU);
        g_assert_nonnull(driver);
        g_assert_cmpstr(driver, !=, "vfio-pci");
        {
                /* the groups as the agent has them */
                g_autofree char *p = g_strconcat("/v1/hosts/", id1, "/groups", NULL);
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", p, NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "groups")),
                    ==, hd_et_agent_count(a1->url, t1, "groups"));
        }
        /* a driver change on the agent reaches the engine through the long poll */
        {
                g_autofree char *p = g_strconcat("/v1/hosts/", id1, "/groups", NULL);
                g_auto(HdEtReply) e = hd_et_call(engine->url, "GET", p, NULL, viewer);
                groups_before = json_node_copy(json_object_get_member(hd_et_obj(&e), "groups"));
        }
        {
                g_auto(HdEtReply) r = hd_et_call(a1->url, "POST", "/v1/devices/" GPU "/detach",
                                                 "{\"group\": true}", t1);
                if (r.status != 200)
                        g_error("detach: %u %s", r.status, r.body);
        }
        {
                /* reported, not asserted: the agent's answer to the engine's API showing it
                 * (the agent waits 100 ms for a burst of changes to settle) */
                gint64 t0 = g_get_monotonic_time();
                for (guint i = 0; i < 6000; i++) {
                        g_free(driver);
                        driver = hd_et_engine_driver(engine->url, viewer, id1, GPU);
                        if (g_strcmp0(driver, "vfio-pci") == 0)
                                break;
                        g_usleep(10000);
                }
                g_test_message("the detach reached the engine's API after %.0f ms",
                               (g_get_monotonic_time() - t0) / 1e3);
        }
        g_assert_cmpstr(driver, ==, "vfio-pci");
        {
                /* the groups follow without a long poll of their own (one generation for
                 * both: the devices' 200 re-reads them): the engine's equal the agent's */
                g_autofree char *p = g_strconcat("/v1/hosts/", id1, "/groups", NULL);
                gboolean same = FALSE;
                for (guint i = 0; i < 1000 && !same; i++) {
                        g_auto(HdEtReply) a = hd_et_call(a1->url, "GET", "/v1/groups", NULL, t1);
                        g_auto(HdEtReply) e = hd_et_call(engine->url, "GET", p, NULL, viewer);
                        JsonNode *ag = json_object_get_member(hd_et_obj(&a), "groups");
                        JsonNode *eg = json_object_get_member(hd_et_obj(&e), "groups");
                        g_assert_cmpuint(e.status, ==, 200);
                        same = json_node_equal(ag, eg);
                        if (!same)
                                g_usleep(10000);
                }
                g_assert_true(same);
                {
                        g_auto(HdEtReply) e = hd_et_call(engine->url, "GET", p, NULL, viewer);
                        JsonNode *eg = json_object_get_member(hd_et_obj(&e), "groups");
                        g_assert_false(json_node_equal(eg, groups_before));
                }
        }
        {
                /* filtered by driver, from the store */
                g_autofree char *p =
                    g_strconcat("/v1/hosts/", id1, "/devices?driver=vfio-pci", NULL);
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", p, NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "devices")),
                    >=, 1);
        }
        /* the other host did not move */
        g_free(driver);
        driver = hd_et_engine_driver(engine->url, viewer, id2, GPU);
        g_assert_cmpstr(driver, !=, "vfio-pci");
        g_assert_true(hd_et_has_event(engine->url, viewer, "host.sync.devices", "ok"));

        /* the agent dies: non_responsive with the reason; back up by itself on restart */
        hd_et_proc_stop(a1, SIGKILL);
        {
                g_auto(HdEtReply) r = hd_et_wait_status(engine->url, viewer, id1, "non_responsive");
                g_assert_nonnull(json_object_get_string_member(hd_et_obj(&r), "last_error"));
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "retry_seconds"), >=, 1);
        }
        a1 = hd_et_agent_start(fx1, a1_listen);
        {
                hd_et_await_status(engine->url, viewer, id1, "up");
        }
        g_assert_true(hd_et_has_event(engine->url, viewer, "host.non_responsive", "failed"));
        /* on-demand refresh */
        {
                g_autofree char *p = g_strconcat(path1, "/refresh", NULL);
                g_auto(HdEtReply) r = hd_et_call(engine->url, "POST", p, NULL, admin);
                g_assert_cmpuint(r.status, ==, 202);
                hd_et_await_status(engine->url, viewer, id1, "up");
        }
        /* edit: a name, then the connection (back through connecting to up) */
        {
                g_auto(HdEtReply) r =
                    hd_et_call(engine->url, "PATCH", path1, "{\"name\": \"node1b\"}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "name"), ==, "node1b");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(engine->url, "PATCH", path1, "{\"name\": \"node2\"}", admin);
                hd_et_assert_error(&r, 409, "exists");
        }
        {
                g_autofree char *b = g_strdup_printf("{\"agent_token\": \"%s\"}", t1);
                g_auto(HdEtReply) r = hd_et_call(engine->url, "PATCH", path1, b, admin);
                g_assert_cmpuint(r.status, ==, 200);
                hd_et_await_status(engine->url, viewer, id1, "up");
        }
        /* a wrong agent token: non_responsive, the reason says so */
        {
                g_auto(HdEtReply) r =
                    hd_et_call(engine->url, "PATCH", path1, "{\"agent_token\": \"nope\"}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_auto(HdEtReply) r2 =
                    hd_et_wait_status(engine->url, viewer, id1, "non_responsive");
                g_assert_nonnull(
                    strstr(json_object_get_string_member(hd_et_obj(&r2), "last_error"), "token"));
        }
        /* remove: gone with its inventory */
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "DELETE", path1, NULL, admin);
                g_assert_cmpuint(r.status, ==, 204);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", path1, NULL, viewer);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_autofree char *p = g_strconcat(path1, "/devices", NULL);
                g_auto(HdEtReply) r = hd_et_call(engine->url, "GET", p, NULL, viewer);
                hd_et_assert_error(&r, 404, "not-found");
        }
        g_assert_true(hd_et_has_event(engine->url, viewer, "host.remove", "ok"));
        /* killed (-9), and a driver changes while it is down: the restarted engine syncs the
         * hosts its database holds and catches up with the agent */
        hd_et_proc_stop(engine, SIGKILL);
        {
                g_auto(HdEtReply) r = hd_et_call(a2->url, "POST", "/v1/devices/" GPU "/detach",
                                                 "{\"group\": true}", t2);
                if (r.status != 200)
                        g_error("detach: %u %s", r.status, r.body);
        }
        engine = hd_et_engine_start(dir);
        {
                g_auto(HdEtReply) l = hd_et_call(engine->url, "GET", "/v1/hosts", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&l), "total"), ==, 1);
        }
        for (guint i = 0; i < 1200; i++) {
                g_free(driver);
                driver = hd_et_engine_driver(engine->url, viewer, id2, GPU);
                if (g_strcmp0(driver, "vfio-pci") == 0)
                        break;
                g_usleep(50000);
        }
        g_assert_cmpstr(driver, ==, "vfio-pci");
        {
                g_auto(HdEtReply) r = hd_et_wait_status(engine->url, viewer, id2, "up");
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "device_count"), ==,
                                hd_et_agent_count(a2->url, t2, "devices"));
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_proc_stop(a1, SIGTERM);
        hd_et_proc_stop(a2, SIGTERM);
        hd_et_rm_rf(dir);
}

static void test_bad_input(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        HdEtProc *engine = hd_et_engine_start(dir);
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
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/hosts", bad_bodies[i], admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", "/v1/hosts", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 0);
        }
        /* a body over the limit */
        while (huge->len < 70 * 1024)
                g_string_append(huge, "aaaaaaaaaaaaaaaa");
        g_string_append(huge, "\"}");
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/hosts", huge->str, admin);
                g_assert_cmpuint(r.status, ==, 413);
        }
        /* unknown ids, endpoints, methods, query parameters */
        for (const char *const *p = (const char *[]){"/v1/hosts/nope", "/v1/hosts/nope/devices",
                                                     "/v1/hosts/nope/groups", "/v1/nope",
                                                     "/v1/hosts/a/b/c", "/nope", NULL};
             *p; p++) {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", *p, NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", "/v1/hosts/nope", NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "PATCH", "/v1/hosts/nope", "{\"name\": \"x\"}", admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/hosts/nope/refresh", NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "PUT", "/v1/hosts", "{}", admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        for (const char *const *p =
                 (const char *[]){"/v1/hosts?limit=0", "/v1/hosts?limit=abc", "/v1/hosts?limt=1",
                                  "/v1/hosts?status=down", "/v1/hosts?passthrough=yes",
                                  "/v1/events?since=-1", "/v1/events?x=1", NULL};
             *p; p++) {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", *p, NULL, admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        /* pagination and filters over many hosts (agents that do not answer) */
        for (guint i = 0; i < 30; i++) {
                g_autofree char *name = g_strdup_printf("%s%02u", i < 10 ? "rack1-" : "rack2-", i);
                g_free(id);
                id = hd_et_add_host(e, admin, name, "http://127.0.0.1:1",
                                    "secret-agent-token-0123456789");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/hosts",
                                                 "{\"name\": \"rack1-00\", \"agent_url\": "
                                                 "\"http://127.0.0.1:1\", \"agent_token\": \"t\"}",
                                                 admin);
                hd_et_assert_error(&r, 409, "exists");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/hosts?limit=7&offset=28", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 30);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "hosts")), ==,
                    2);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/hosts?name_prefix=rack1-&limit=1000", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 10);
        }
        {
                /* a LIKE wildcard in the prefix is literal */
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/hosts?name_prefix=rack%25", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 0);
        }
        path = g_strconcat("/v1/hosts/", id, NULL);
        {
                hd_et_await_status(e, admin, id, "non_responsive");
                g_auto(HdEtReply) l = hd_et_call(e, "GET", "/v1/hosts?status=up", NULL, admin);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&l), "total"), ==, 0);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "PATCH", path, "{\"agent_url\": 1}", admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_autofree char *p = g_strconcat(path, "/refresh", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "POST", p, "{\"now\": true}", admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                /* a CA file that cannot be read: never a fallback to the system's CAs */
                g_autofree char *tid = NULL;
                g_autofree char *ca = g_build_filename(dir, "missing-ca.pem", NULL);
                g_autofree char *b = g_strdup_printf(
                    "{\"name\": \"tls1\", \"agent_url\": \"https://127.0.0.1:1\", "
                    "\"agent_token\": \"secret-agent-token-0123456789\", \"tls_ca_file\": \"%s\"}",
                    ca);
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/hosts", b, admin);
                g_assert_cmpuint(r.status, ==, 201);
                tid = g_strdup(json_object_get_string_member(hd_et_obj(&r), "id"));
                g_auto(HdEtReply) h = hd_et_wait_status(e, admin, tid, "non_responsive");
                g_assert_nonnull(
                    strstr(json_object_get_string_member(hd_et_obj(&h), "last_error"), "CA file"));
                /* and after a retry (the backoff is 1 s here) still the CA file, not a
                 * connection made without it */
                {
                        g_autofree char *first =
                            g_strdup(json_object_get_string_member(hd_et_obj(&h), "updated_at"));
                        g_autofree char *p = g_strconcat("/v1/hosts/", tid, NULL);
                        gboolean retried = FALSE;
                        for (guint i = 0; i < 1200 && !retried; i++) {
                                g_auto(HdEtReply) r2 = hd_et_call(e, "GET", p, NULL, admin);
                                retried = strcmp(json_object_get_string_member(hd_et_obj(&r2),
                                                                               "updated_at"),
                                                 first) != 0;
                                if (retried)
                                        g_assert_nonnull(strstr(json_object_get_string_member(
                                                                    hd_et_obj(&r2), "last_error"),
                                                                "CA file"));
                                else
                                        g_usleep(50000);
                        }
                        g_assert_true(retried);
                }
        }
        g_assert_true(hd_et_has_event(e, admin, "host.add", "refused"));
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_rm_rf(dir);
}

/* Started with a low soft descriptor limit (a shell's 1,024 runs out at about 1,000 hosts),
 * the engine raises it to the hard limit. */
static void test_descriptor_limit(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *db = g_build_filename(dir, "engine.db", NULL);
        g_autofree char *log = g_build_filename(dir, "engine.log", NULL);
        g_autofree char *nofile = NULL;
        g_autofree char *limits_path = NULL;
        g_autofree char *limits = NULL;
        g_auto(GStrv) lines = NULL;
        struct rlimit rl;
        gboolean seen = FALSE;
        HdEtProc *engine;

        g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
        g_assert_cmpuint(rl.rlim_max, >, 256);
        nofile = g_strdup_printf("--nofile=256:%lu", (unsigned long)rl.rlim_max);
        {
                const char *argv[] = {"prlimit", nofile, "--", g_getenv("HOSTDEV_ENGINE"), "--db",
                                      db, "--listen", "127.0.0.1:0", NULL};
                engine = hd_et_proc_start(argv, log);
        }
        limits_path = g_strdup_printf("/proc/%s/limits", g_subprocess_get_identifier(engine->proc));
        g_assert_true(g_file_get_contents(limits_path, &limits, NULL, NULL));
        lines = g_strsplit(limits, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) w = NULL;
                if (!g_str_has_prefix(*l, "Max open files"))
                        continue;
                w = g_strsplit_set(*l + strlen("Max open files"), " ", -1);
                {
                        g_autoptr(GPtrArray) nums = g_ptr_array_new();
                        for (char **x = w; *x; x++)
                                if (**x)
                                        g_ptr_array_add(nums, *x);
                        g_assert_cmpuint(nums->len, >=, 2);
                        g_assert_cmpuint(g_ascii_strtoull(nums->pdata[0], NULL, 10), ==, rl.rlim_max);
                        g_assert_cmpuint(g_ascii_strtoull(nums->pdata[1], NULL, 10), ==, rl.rlim_max);
                }
                seen = TRUE;
        }
        g_assert_true(seen);
        hd_et_proc_stop(engine, SIGTERM);
}

/* An agent served over TLS (hostdevd --tls-cert/--tls-key): the engine reaches it with the
 * host's CA file or its pinned certificate, and refuses it (non_responsive, the TLS failure in
 * last_error) with neither, or with another certificate pinned. */
static void make_cert(const char *dir, const char *name, char **cert, char **key)
{
        *cert = g_strdup_printf("%s/%s.crt", dir, name);
        *key = g_strdup_printf("%s/%s.key", dir, name);
        {
                const char *argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                      "-nodes", "-keyout", *key, "-out", *cert, "-days", "1",
                                      "-subj", "/CN=127.0.0.1", "-addext",
                                      "subjectAltName=IP:127.0.0.1", NULL};
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, NULL, NULL), ==, 0);
        }
}

static char *add_tls_host(const char *engine, const char *admin, const char *name, const char *url,
                          const char *token, const char *member, const char *file)
{
        g_autofree char *body =
            member ? g_strdup_printf("{\"name\": \"%s\", \"agent_url\": \"%s\", "
                                     "\"agent_token\": \"%s\", \"%s\": \"%s\"}",
                                     name, url, token, member, file)
                   : g_strdup_printf("{\"name\": \"%s\", \"agent_url\": \"%s\", "
                                     "\"agent_token\": \"%s\"}",
                                     name, url, token);
        g_auto(HdEtReply) r = hd_et_call(engine, "POST", "/v1/hosts", body, admin);

        g_assert_cmpuint(r.status, ==, 201);
        return g_strdup(json_object_get_string_member(hd_et_obj(&r), "id"));
}

static void test_tls_agents(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *cert = NULL, *key = NULL, *other = NULL, *other_key = NULL;
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *log = g_build_filename(fx->root, "hostdevd.log", NULL);
        g_autofree char *token = NULL;
        g_autofree char *by_ca = NULL, *by_pin = NULL, *none = NULL, *wrong = NULL;
        HdEtProc *agent, *engine;

        make_cert(dir, "agent", &cert, &key);
        make_cert(dir, "other", &other, &other_key);
        {
                const char *argv[] = {g_getenv("HOSTDEVD"), "--root", fx->root, "--backend",
                                      "sim", "--libvirt-uri", "test:///default", "--listen",
                                      "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, NULL};
                agent = hd_et_proc_start(argv, log);
        }
        g_assert_true(g_str_has_prefix(agent->url, "https://127.0.0.1:"));
        token = hd_et_agent_token(fx);
        engine = hd_et_engine_start(dir);
        by_ca = add_tls_host(engine->url, admin, "by-ca", agent->url, token, "tls_ca_file", cert);
        by_pin = add_tls_host(engine->url, admin, "by-pin", agent->url, token, "tls_pinned_cert",
                              cert);
        none = add_tls_host(engine->url, admin, "no-trust", agent->url, token, NULL, NULL);
        wrong = add_tls_host(engine->url, admin, "wrong-pin", agent->url, token,
                             "tls_pinned_cert", other);
        hd_et_await_status(engine->url, admin, by_ca, "up");
        hd_et_await_status(engine->url, admin, by_pin, "up");
        g_assert_cmpuint(hd_et_agent_count(engine->url, admin, "hosts"), ==, 4);
        {
                const char *bad[] = {none, wrong};
                for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                        g_auto(HdEtReply) r =
                            hd_et_wait_status(engine->url, admin, bad[i], "non_responsive");
                        const char *why =
                            json_object_get_string_member(hd_et_obj(&r), "last_error");
                        g_assert_nonnull(why);
                        g_assert_cmpuint(strlen(why), >, 0);
                        /* the engine never fell back to accepting the certificate */
                        g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "device_count"),
                                        ==, 0);
                }
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_proc_stop(agent, SIGTERM);
        hd_et_rm_rf(dir);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine/tokens", test_tokens);
        g_test_add_func("/engine/sync", test_sync);
        g_test_add_func("/engine/bad-input", test_bad_input);
        g_test_add_func("/engine/descriptor-limit", test_descriptor_limit);
        g_test_add_func("/engine/tls-agents", test_tls_agents);
        return hd_et_run();
}
