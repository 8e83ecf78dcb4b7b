/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's NPIV calls against two real hostdevd agents (engine-testlib.h: sim backend
 * on the "scsi-server" topology each: FC host host1, qla2xxx, 254 vports, with the vHBA host2
 * of one vport): the engine reads the agents' FC hosts and vports, marks the vports it
 * assigned, creates vports with WWNs given or generated and unique across the fleet (a WWPN
 * on host alpha, made by the engine or not, is refused on host beta), reserves a pair before
 * the agent is asked and releases it when the agent refuses, and deletes a vport with its
 * pair. States are asserted, never durations.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "engine-testlib.h"
#include "http-testlib.h"

typedef struct {
        HdEtEnv env; /* alpha */
        HdTestFixture *fx2;
        HdEtProc *agent2;
        char *token2;
        char *host2; /* beta */
} World;

static void world_setup(World *w)
{
        hd_et_env_setup(&w->env, "scsi-server", "alpha");
        w->fx2 = hd_test_fixture_new("scsi-server");
        w->agent2 = hd_et_agent_start(w->fx2, "127.0.0.1:0");
        w->token2 = hd_et_agent_token(w->fx2);
        w->host2 = hd_et_add_host(w->env.engine->url, w->env.admin, "beta", w->agent2->url,
                                  w->token2);
        hd_et_await_status(w->env.engine->url, w->env.viewer, w->host2, "up");
}

static void world_teardown(World *w)
{
        hd_et_proc_stop(w->agent2, SIGTERM);
        g_free(w->token2);
        g_free(w->host2);
        hd_test_fixture_free(w->fx2);
        hd_et_env_teardown(&w->env);
}

static HdEtReply npiv_call(World *w, const char *host, const char *method, const char *tail,
                           const char *body, const char *token)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", host, "/npiv", tail, NULL);
        return hd_et_call(w->env.engine->url, method, path, body, token);
}

static HdEtReply create(World *w, const char *host, const char *body)
{
        return npiv_call(w, host, "POST", "", body, w->env.admin);
}

/* The vport of @wwpn in the engine's GET answer (NULL: not listed). */
static JsonObject *vport_of(const HdEtReply *r, const char *wwpn)
{
        JsonArray *a = json_object_get_array_member(hd_et_obj(r), "vports");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *v = json_array_get_object_element(a, i);
                if (g_strcmp0(json_object_get_string_member(v, "port_name"), wwpn) == 0)
                        return v;
        }
        return NULL;
}

/* The read: the agent's document with host_id and engine_assigned; bodies checked before the
 * agent is asked; an unknown parent is 404 naming the FC hosts; viewers cannot create. */
static void test_read_and_bodies(void)
{
        World w = {0};

        world_setup(&w);
        {
                g_auto(HdEtReply) r = npiv_call(&w, w.env.host, "GET", "", NULL, w.env.viewer);
                JsonArray *hosts, *vports;

                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "host_id"), ==,
                                w.env.host);
                hosts = json_object_get_array_member(hd_et_obj(&r), "fc_hosts");
                g_assert_cmpuint(json_array_get_length(hosts), ==, 2);
                g_assert_cmpstr(json_object_get_string_member(
                                    json_array_get_object_element(hosts, 0), "host"),
                                ==, "host1");
                vports = json_object_get_array_member(hd_et_obj(&r), "vports");
                g_assert_cmpuint(json_array_get_length(vports), >=, 1);
                for (guint i = 0; i < json_array_get_length(vports); i++)
                        g_assert_false(json_object_get_boolean_member(
                            json_array_get_object_element(vports, i), "engine_assigned"));
        }
        {
                const char *bad[] = {"{}",
                                     "{\"parent\": \"../host1\"}",
                                     "{\"parent\": \"host1\", \"wwpn\": \"0x12\"}",
                                     "{\"parent\": \"host1\", \"wwnn\": 5}",
                                     "{\"parent\": \"host1\", \"persist\": \"yes\"}",
                                     "{\"parent\": \"host1\", \"dry\": true}",
                                     "{\"parent\": \"host1\", \"wwpn\": \"2001001122334400\", "
                                     "\"wwnn\": \"20:01:00:11:22:33:44:00\"}",
                                     NULL};
                for (const char *const *b = bad; *b; b++) {
                        g_auto(HdEtReply) r = create(&w, w.env.host, *b);
                        hd_et_assert_error(&r, 400, "invalid-argument");
                }
        }
        {
                g_auto(HdEtReply) r = create(&w, w.env.host, "{\"parent\": \"host9\"}");
                g_auto(HdEtReply) v = npiv_call(&w, w.env.host, "POST", "",
                                                "{\"parent\": \"host1\"}", w.env.viewer);
                g_auto(HdEtReply) none = npiv_call(&w, "0f0f0f0f-0000-4000-8000-000000000000",
                                                   "GET", "", NULL, w.env.viewer);
                g_auto(HdEtReply) put = npiv_call(&w, w.env.host, "PUT", "", "{}", w.env.admin);
                g_auto(HdEtReply) bad = npiv_call(&w, w.env.host, "POST", "/nonsense/delete",
                                                  NULL, w.env.admin);
                hd_et_assert_reason(&r, 404, "not-found", "host1, host2");
                hd_et_assert_error(&v, 403, "forbidden");
                hd_et_assert_error(&none, 404, "not-found");
                hd_et_assert_error(&put, 405, "method-not-allowed");
                hd_et_assert_error(&bad, 400, "invalid-argument");
                g_assert_true(hd_et_has_event(w.env.engine->url, w.env.viewer, "host.npiv.create",
                                              "refused"));
        }
        world_teardown(&w);
}

/* WWNs given: canonical, unique across the fleet (the engine's and those an agent shows);
 * generated: distinct; an agent's refusal releases the pair; delete drops it. */
static void test_fleet_unique(void)
{
        World w = {0};
        const char *alpha = NULL;

        world_setup(&w);
        alpha = w.env.host;
        /* given, in the colon form: stored and answered canonical */
        {
                g_auto(HdEtReply) r =
                    create(&w, alpha,
                           "{\"parent\": \"1\", \"wwpn\": \"20:01:00:11:22:33:44:77\", "
                           "\"wwnn\": \"0x2000001122334477\"}");
                JsonObject *o;

                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "wwpn"), ==, "0x2001001122334477");
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, alpha);
                g_assert_true(json_object_get_boolean_member(o, "persist"));
                g_assert_true(json_object_get_boolean_member(o, "engine_assigned"));
                g_assert_nonnull(json_object_get_object_member(o, "vport"));
        }
        {
                g_auto(HdEtReply) r = npiv_call(&w, alpha, "GET", "", NULL, w.env.viewer);
                JsonObject *v = vport_of(&r, "0x2001001122334477");
                g_assert_nonnull(v);
                g_assert_true(json_object_get_boolean_member(v, "engine_assigned"));
                g_assert_nonnull(strstr(r.body, "\"recorded\":[{\"port_name\":\"0x2001001122334477\""));
        }
        /* the WWPN, or the WWNN, of alpha's vport is refused on beta, naming alpha */
        {
                g_auto(HdEtReply) p = create(&w, w.host2,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"2001001122334477\"}");
                g_auto(HdEtReply) n = create(&w, w.host2,
                                             "{\"parent\": \"host1\", \"wwnn\": "
                                             "\"0x2000001122334477\"}");
                g_auto(HdEtReply) x = create(&w, w.host2,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"0x2000001122334477\"}");
                hd_et_assert_reason(&p, 409, "in-use", "on host alpha (vport vport-");
                hd_et_assert_reason(&n, 409, "in-use", "WWNN 0x2000001122334477");
                hd_et_assert_reason(&x, 409, "in-use", "on host alpha");
                g_assert_true(hd_et_has_event(w.env.engine->url, w.env.viewer, "host.npiv.create",
                                              "refused"));
        }
        /* the agent refuses (host2 is a vHBA): its status, code and words; the pair is free */
        {
                g_auto(HdEtReply) r = create(&w, alpha,
                                             "{\"parent\": \"host2\", \"wwpn\": "
                                             "\"0x2001001122334488\"}");
                g_auto(HdEtReply) again = create(&w, w.host2,
                                                 "{\"parent\": \"host1\", \"wwpn\": "
                                                 "\"0x2001001122334488\", \"persist\": false}");
                hd_et_assert_error(&r, 409, "refused");
                g_assert_cmpuint(again.status, ==, 200);
                g_assert_false(json_object_get_boolean_member(hd_et_obj(&again), "persist"));
        }
        /* generated: four WWNs, all different, libvirt's OUI */
        {
                g_auto(HdEtReply) a = create(&w, w.host2, "{\"parent\": \"host1\"}");
                g_auto(HdEtReply) b = create(&w, alpha, "{\"parent\": \"host1\"}");
                g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
                const HdEtReply *rs[] = {&a, &b};

                for (guint i = 0; i < G_N_ELEMENTS(rs); i++) {
                        g_assert_cmpuint(rs[i]->status, ==, 200);
                        for (guint k = 0; k < 2; k++) {
                                const char *wwn = json_object_get_string_member(
                                    hd_et_obj(rs[i]), k ? "wwnn" : "wwpn");
                                g_assert_true(g_str_has_prefix(wwn, "0x5001a4a"));
                                g_assert_true(g_hash_table_add(seen, (gpointer)wwn));
                        }
                }
        }
        /* a vport made on alpha outside the engine: refused on beta once the engine read it */
        {
                g_auto(HdEtReply) made = hd_et_env_agent_call(
                    &w.env, "POST", "/v1/npiv",
                    "{\"parent\": \"host1\", \"wwpn\": \"0x2001001122334499\", "
                    "\"wwnn\": \"0x2000001122334499\"}");
                g_auto(HdEtReply) read = npiv_call(&w, alpha, "GET", "", NULL, w.env.viewer);
                g_auto(HdEtReply) r = create(&w, w.host2,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"0x2001001122334499\"}");
                g_assert_cmpuint(made.status, ==, 200);
                g_assert_false(json_object_get_boolean_member(
                    vport_of(&read, "0x2001001122334499"), "engine_assigned"));
                hd_et_assert_reason(&r, 409, "in-use", "on host alpha (vport vport-");
        }
        /* delete: the vport and the pair go; the WWPN is free for beta */
        {
                g_auto(HdEtReply) d =
                    npiv_call(&w, alpha, "POST", "/0x2001001122334477/delete", NULL, w.env.admin);
                g_auto(HdEtReply) d2 = npiv_call(&w, alpha, "POST", "/2001001122334477/delete",
                                                 "{\"force\": false}", w.env.admin);
                g_auto(HdEtReply) r = create(&w, w.host2,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"0x2001001122334477\", \"wwnn\": "
                                             "\"0x2000001122334477\"}");
                g_auto(HdEtReply) read = npiv_call(&w, alpha, "GET", "", NULL, w.env.viewer);
                g_assert_cmpuint(d.status, ==, 200);
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&d), "deleted"));
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&d), "released"));
                hd_et_assert_error(&d2, 404, "not-found");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_null(vport_of(&read, "0x2001001122334477"));
                g_assert_true(
                    hd_et_has_event(w.env.engine->url, w.env.viewer, "host.npiv.delete", "ok"));
        }
        /* a vport gone behind the engine's back (deleted on the agent): its pair is released */
        {
                g_auto(HdEtReply) gone = hd_et_agent_call(
                    w.agent2->url, w.token2, "POST", "/v1/npiv/0x2001001122334477/delete", "{}");
                g_auto(HdEtReply) d = npiv_call(&w, w.host2, "POST", "/0x2001001122334477/delete",
                                                "{}", w.env.admin);
                g_auto(HdEtReply) r = create(&w, alpha,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"0x2001001122334477\"}");
                g_assert_cmpuint(gone.status, ==, 200);
                g_assert_cmpuint(d.status, ==, 200);
                g_assert_false(json_object_get_boolean_member(hd_et_obj(&d), "deleted"));
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&d), "released"));
                g_assert_cmpuint(r.status, ==, 200);
        }
        world_teardown(&w);
}

/* Two requests at once for one WWPN, on two hosts: the pair is reserved before either agent is
 * asked, so exactly one gets it and the other is 409 in-use. */
static void test_concurrent(void)
{
        World w = {0};
        g_autofree char *auth = NULL;
        g_autoptr(SoupSession) s2 = soup_session_new_with_options("timeout", 60, NULL);
        const char *hosts[2];
        SoupMessage *msgs[2];
        GBytes *bytes[2] = {NULL, NULL};
        guint ok = 0, in_use = 0;

        world_setup(&w);
        hosts[0] = w.env.host;
        hosts[1] = w.host2;
        auth = g_strconcat("Bearer ", w.env.admin, NULL);
        for (guint i = 0; i < 2; i++) {
                g_autofree char *uri =
                    g_strdup_printf("%s/v1/hosts/%s/npiv", w.env.engine->url, hosts[i]);
                static const char body[] = "{\"parent\": \"host1\", \"wwpn\": "
                                           "\"0x2001001122334433\"}";
                g_autoptr(GBytes) b = g_bytes_new_static(body, strlen(body));

                msgs[i] = soup_message_new("POST", uri);
                soup_message_headers_replace(soup_message_get_request_headers(msgs[i]),
                                             "Authorization", auth);
                soup_message_set_request_body_from_bytes(msgs[i], "application/json", b);
                soup_session_send_and_read_async(s2, msgs[i], G_PRIORITY_DEFAULT, NULL,
                                                 hd_et_on_async_done, &bytes[i]);
        }
        while (!bytes[0] || !bytes[1])
                g_main_context_iteration(NULL, TRUE);
        for (guint i = 0; i < 2; i++) {
                guint status = soup_message_get_status(msgs[i]);
                gsize len = 0;
                const char *data = g_bytes_get_data(bytes[i], &len);
                g_autofree char *text = g_strndup(data, len);
                g_autofree char *path = g_strdup_printf("/v1/hosts/%s/npiv", hosts[i]);

                hd_et_record_answer("POST", path, status, "application/json", text);
                if (status == 200)
                        ok++;
                else if (status == 409 && strstr(text, "\"in-use\""))
                        in_use++;
                else
                        g_error("%u %s", status, text);
                g_bytes_unref(bytes[i]);
                g_object_unref(msgs[i]);
        }
        g_assert_cmpuint(ok, ==, 1);
        g_assert_cmpuint(in_use, ==, 1);
        soup_session_abort(s2); /* its keep-alive connections would hold the engine's stop */
        world_teardown(&w);
}

/* The agent cannot be reached: 502 agent-failed, nothing reserved. */
static void test_agent_down(void)
{
        World w = {0};

        world_setup(&w);
        hd_et_proc_stop(w.agent2, SIGTERM);
        {
                g_auto(HdEtReply) g = npiv_call(&w, w.host2, "GET", "", NULL, w.env.viewer);
                g_auto(HdEtReply) p = create(&w, w.host2,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"0x2001001122334466\"}");
                g_auto(HdEtReply) ok = create(&w, w.env.host,
                                              "{\"parent\": \"host1\", \"wwpn\": "
                                              "\"0x2001001122334466\"}");
                hd_et_assert_error(&g, 502, "agent-failed");
                hd_et_assert_reason(&p, 502, "agent-failed", "cannot be reached");
                g_assert_cmpuint(ok.status, ==, 200);
                g_assert_true(hd_et_has_event(w.env.engine->url, w.env.viewer, "host.npiv.create",
                                              "failed"));
        }
        w.agent2 = hd_et_agent_start(w.fx2, "127.0.0.1:0");
        world_teardown(&w);
}

/* ---- what the sync reads of the agents ---- */

/* How many host.sync.npiv events the audit log has for @host (the sync recorded a changed set
 * of names the host's agent shows). */
static guint npiv_syncs(World *w, const char *host)
{
        g_autofree char *path =
            g_strdup_printf("/v1/events?host_id=%s&action=host.sync.npiv&since=0&limit=1000", host);
        g_auto(HdEtReply) r = hd_et_call(w->env.engine->url, "GET", path, NULL, w->env.viewer);

        g_assert_cmpuint(r.status, ==, 200);
        return json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "events"));
}

/* Wait (~60 s at most) until @host has more than @n host.sync.npiv events; their number. */
static guint await_npiv_sync(World *w, const char *host, guint n)
{
        for (guint i = 0; i < 600; i++) {
                guint now = npiv_syncs(w, host);
                if (now > n)
                        return now;
                g_usleep(100 * 1000);
        }
        g_error("host %s: no new host.sync.npiv event after %u", host, n);
}

/* A create on alpha with @wwpn is refused: beta has it. */
static void assert_beta_has(World *w, const char *wwpn)
{
        g_autofree char *body =
            g_strdup_printf("{\"parent\": \"host1\", \"wwpn\": \"%s\", \"persist\": false}", wwpn);
        g_auto(HdEtReply) r = create(w, w->env.host, body);

        hd_et_assert_reason(&r, 409, "in-use", "on host beta (vport vport-");
}

/* A vport made on an agent directly (its POST /v1/npiv, or `hostdev npiv create` on the host)
 * counts once the engine synced the host, without any GET /v1/hosts/{id}/npiv: at the host's
 * connecting, and after each device generation its making or deletion moves. */
static void test_sync_counts(void)
{
        World w = {0};
        guint n;

        hd_et_env_setup(&w.env, "scsi-server", "alpha");
        w.fx2 = hd_test_fixture_new("scsi-server");
        w.agent2 = hd_et_agent_start(w.fx2, "127.0.0.1:0");
        w.token2 = hd_et_agent_token(w.fx2);
        /* made before the engine knows the host */
        {
                g_auto(HdEtReply) made =
                    hd_et_agent_call(w.agent2->url, w.token2, "POST", "/v1/npiv",
                                     "{\"parent\": \"host1\", \"wwpn\": \"0x2001001122334411\", "
                                     "\"wwnn\": \"0x2000001122334411\", \"persist\": false}");
                g_assert_cmpuint(made.status, ==, 200);
        }
        w.host2 = hd_et_add_host(w.env.engine->url, w.env.admin, "beta", w.agent2->url, w.token2);
        hd_et_await_status(w.env.engine->url, w.env.viewer, w.host2, "up");
        n = await_npiv_sync(&w, w.host2, 0);
        assert_beta_has(&w, "0x2001001122334411");
        {
                g_auto(HdEtReply) r = create(&w, w.env.host,
                                             "{\"parent\": \"host1\", \"wwnn\": "
                                             "\"0x2000001122334411\", \"persist\": false}");
                hd_et_assert_reason(&r, 409, "in-use",
                                    "WWNN 0x2000001122334411 is in use on host beta");
        }
        /* made on the agent later: its generation moves, the engine reads the names again */
        {
                g_auto(HdEtReply) made =
                    hd_et_agent_call(w.agent2->url, w.token2, "POST", "/v1/npiv",
                                     "{\"parent\": \"host1\", \"wwpn\": \"0x2001001122334412\", "
                                     "\"wwnn\": \"0x2000001122334412\", \"persist\": false}");
                g_assert_cmpuint(made.status, ==, 200);
        }
        n = await_npiv_sync(&w, w.host2, n);
        assert_beta_has(&w, "0x2001001122334412");
        /* made by hand on the host (the CLI on its root): the new SCSI host moves the agent's
         * generation as well */
        {
                const char *argv[] = {"npiv",
                                      "create",
                                      "host1",
                                      "--wwpn",
                                      "0x2001001122334413",
                                      "--wwnn",
                                      "0x2000001122334413",
                                      "--root",
                                      w.fx2->root,
                                      "--backend",
                                      "sim",
                                      NULL};
                g_autofree char *out = NULL, *err = NULL;
                int rc = hd_test_run_cli(argv, NULL, &out, &err);

                if (rc != 0)
                        g_error("hostdev npiv create: %d\n%s%s", rc, out, err);
        }
        n = await_npiv_sync(&w, w.host2, n);
        assert_beta_has(&w, "0x2001001122334413");
        /* deleted on the agent: the WWPN is free again */
        {
                g_auto(HdEtReply) gone = hd_et_agent_call(
                    w.agent2->url, w.token2, "POST", "/v1/npiv/0x2001001122334412/delete", "{}");
                g_assert_cmpuint(gone.status, ==, 200);
        }
        await_npiv_sync(&w, w.host2, n);
        {
                g_auto(HdEtReply) r = create(&w, w.env.host,
                                             "{\"parent\": \"host1\", \"wwpn\": "
                                             "\"0x2001001122334412\", \"persist\": false}");
                g_assert_cmpuint(r.status, ==, 200);
        }
        world_teardown(&w);
}

/* An agent in front of the real one that answers 404 to GET /v1/npiv while @npiv_404 (an agent
 * older than NPIV) and passes everything else on (hd_et_server_start()). */
typedef struct {
        HdEtServer *server;
        GMutex lock;
        SoupSession *session; /* the server thread's, made at its first request */
        char *upstream;
        guint pending;
        gboolean npiv_404;
        guint npiv_404_answered;
        guint npiv_reads; /* every GET /v1/npiv */
        guint mdev_reads; /* every GET /v1/mdev (read with it at a device generation) */
} Proxy;

typedef struct {
        Proxy *p;
        SoupServerMessage *msg;
        SoupMessage *out;
} Forward;

static void on_forwarded(GObject *src, GAsyncResult *res, gpointer data)
{
        Forward *f = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &error);
        SoupMessageHeaders *in = soup_message_get_response_headers(f->out);
        SoupMessageHeaders *h = soup_server_message_get_response_headers(f->msg);
        const char *etag = soup_message_headers_get_one(in, "ETag");
        const char *type = soup_message_headers_get_content_type(in, NULL);

        if (!body) {
                soup_server_message_set_status(f->msg, 502, NULL);
        } else {
                gsize len = 0;
                const char *bytes = g_bytes_get_data(body, &len);

                soup_server_message_set_status(f->msg, soup_message_get_status(f->out), NULL);
                if (etag)
                        soup_message_headers_replace(h, "ETag", etag);
                if (len)
                        soup_server_message_set_response(f->msg, type ? type : "application/json",
                                                         SOUP_MEMORY_COPY, bytes, len);
        }
        soup_server_message_unpause(f->msg);
        f->p->pending--;
        g_object_unref(f->msg);
        g_object_unref(f->out);
        g_free(f);
}

static void proxy_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer data)
{
        Proxy *p = data;
        const char *method = soup_server_message_get_method(msg);
        SoupMessageHeaders *in = soup_server_message_get_request_headers(msg);
        SoupMessageBody *rb = soup_server_message_get_request_body(msg);
        const char *q = g_uri_get_query(soup_server_message_get_uri(msg));
        g_autofree char *uri = g_strconcat(p->upstream, path, q ? "?" : "", q ? q : "", NULL);
        const char *headers[] = {"Authorization", "If-None-Match"};
        Forward *f;

        g_mutex_lock(&p->lock);
        if (strcmp(method, "GET") == 0 && strcmp(path, "/v1/npiv") == 0)
                p->npiv_reads++;
        if (strcmp(method, "GET") == 0 && strcmp(path, "/v1/mdev") == 0)
                p->mdev_reads++;
        if (p->npiv_404 && strcmp(method, "GET") == 0 && strcmp(path, "/v1/npiv") == 0) {
                static const char e[] = "{\"error\": {\"code\": \"not-found\", \"message\": "
                                        "\"no such endpoint\"}}";
                soup_server_message_set_status(msg, 404, NULL);
                soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, e,
                                                 strlen(e));
                p->npiv_404_answered++;
                g_mutex_unlock(&p->lock);
                return;
        }
        g_mutex_unlock(&p->lock);
        f = g_new0(Forward, 1);
        f->p = p;
        f->msg = g_object_ref(msg);
        f->out = soup_message_new(method, uri);
        for (guint i = 0; i < G_N_ELEMENTS(headers); i++) {
                const char *v = soup_message_headers_get_one(in, headers[i]);
                if (v)
                        soup_message_headers_replace(soup_message_get_request_headers(f->out),
                                                     headers[i], v);
        }
        if (rb->length) {
                g_autoptr(GBytes) b = g_bytes_new(rb->data, rb->length);
                soup_message_set_request_body_from_bytes(f->out, "application/json", b);
        }
        if (!p->session)
                p->session = soup_session_new_with_options("timeout", 60, NULL);
        p->pending++;
        soup_server_message_pause(msg);
        soup_session_send_and_read_async(p->session, f->out, G_PRIORITY_DEFAULT, NULL, on_forwarded,
                                         f);
}

/* In the server's thread, its loop ended: the requests passed on end (502). */
static void proxy_stopping(gpointer data)
{
        Proxy *p = data;

        if (!p->session)
                return;
        soup_session_abort(p->session);
        while (p->pending)
                g_main_context_iteration(g_main_context_get_thread_default(), TRUE);
        g_clear_object(&p->session);
}

static Proxy *proxy_start(const char *upstream)
{
        Proxy *p = g_new0(Proxy, 1);

        g_mutex_init(&p->lock);
        p->upstream = g_strdup(upstream);
        p->npiv_404 = TRUE;
        p->server = hd_et_server_start("old-agent", proxy_handler, proxy_stopping, p);
        return p;
}

static void proxy_stop(Proxy *p)
{
        hd_et_server_stop(p->server);
        g_free(p->upstream);
        g_mutex_clear(&p->lock);
        g_free(p);
}

static void proxy_set_404(Proxy *p, gboolean on)
{
        g_mutex_lock(&p->lock);
        p->npiv_404 = on;
        g_mutex_unlock(&p->lock);
}

/* Wait (~60 s at most) until the proxy answered 404 to more than @n NPIV reads; their number. */
static guint await_npiv_404(Proxy *p, guint n)
{
        for (guint i = 0; i < 600; i++) {
                guint now;

                g_mutex_lock(&p->lock);
                now = p->npiv_404_answered;
                g_mutex_unlock(&p->lock);
                if (now > n)
                        return now;
                g_usleep(100 * 1000);
        }
        g_error("no GET /v1/npiv answered 404 after %u", n);
}

/* beta is up, without an error, its device generation read. */
static void assert_beta_up(World *w)
{
        g_autofree char *path = g_strdup_printf("/v1/hosts/%s", w->host2);
        g_auto(HdEtReply) r = hd_et_call(w->env.engine->url, "GET", path, NULL, w->env.viewer);
        JsonObject *o = hd_et_obj(&r);

        g_assert_cmpuint(r.status, ==, 200);
        g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "up");
        g_assert_true(json_object_get_null_member(o, "last_error"));
        g_assert_cmpint(json_object_get_int_member(o, "device_count"), >, 0);
}

/* An agent that answers 404 to GET /v1/npiv (older than NPIV) syncs up all the same; the names
 * its last 200 showed stay counted while it answers 404. */
static void test_old_agent(void)
{
        World w = {0};
        Proxy *p;
        guint n404, n;

        hd_et_env_setup(&w.env, "scsi-server", "alpha");
        w.fx2 = hd_test_fixture_new("scsi-server");
        w.agent2 = hd_et_agent_start(w.fx2, "127.0.0.1:0");
        w.token2 = hd_et_agent_token(w.fx2);
        p = proxy_start(w.agent2->url);
        w.host2 = hd_et_add_host(w.env.engine->url, w.env.admin, "beta",
                                 hd_et_server_url(p->server), w.token2);
        hd_et_await_status(w.env.engine->url, w.env.viewer, w.host2, "up");
        n404 = await_npiv_404(p, 0);
        assert_beta_up(&w);
        g_assert_cmpuint(npiv_syncs(&w, w.host2), ==, 0);
        /* the agent learns NPIV: the next generation's read records its names */
        proxy_set_404(p, FALSE);
        {
                g_auto(HdEtReply) made =
                    hd_et_agent_call(w.agent2->url, w.token2, "POST", "/v1/npiv",
                                     "{\"parent\": \"host1\", \"wwpn\": \"0x2001001122334421\", "
                                     "\"wwnn\": \"0x2000001122334421\", \"persist\": false}");
                g_assert_cmpuint(made.status, ==, 200);
        }
        n = await_npiv_sync(&w, w.host2, 0);
        assert_beta_has(&w, "0x2001001122334421");
        /* 404 again: the vport goes, but what the last 200 showed stays counted */
        proxy_set_404(p, TRUE);
        {
                g_auto(HdEtReply) gone = hd_et_agent_call(
                    w.agent2->url, w.token2, "POST", "/v1/npiv/0x2001001122334421/delete", "{}");
                g_assert_cmpuint(gone.status, ==, 200);
        }
        n404 = await_npiv_404(p, n404);
        {
                g_auto(HdEtReply) made =
                    hd_et_agent_call(w.agent2->url, w.token2, "POST", "/v1/npiv",
                                     "{\"parent\": \"host1\", \"wwpn\": \"0x2001001122334422\", "
                                     "\"wwnn\": \"0x2000001122334422\", \"persist\": false}");
                g_assert_cmpuint(made.status, ==, 200);
        }
        await_npiv_404(p, n404);
        assert_beta_up(&w);
        assert_beta_has(&w, "0x2001001122334421");
        g_assert_cmpuint(npiv_syncs(&w, w.host2), ==, n);
        /* logged once per run of 404s: at connecting, and after the 200 */
        {
                g_autofree char *path = g_build_filename(w.env.dir, "engine.log", NULL);
                g_autofree char *log = hd_et_file_text(path);
                g_auto(GStrv) parts = g_strsplit(log, "GET /v1/npiv: an agent without NPIV", -1);

                g_assert_cmpuint(g_strv_length(parts), ==, 3);
        }
        proxy_stop(p);
        world_teardown(&w);
}

/* The proxy's counts of GET /v1/npiv and GET /v1/mdev. */
static void proxy_reads(Proxy *p, guint *npiv, guint *mdev)
{
        g_mutex_lock(&p->lock);
        *npiv = p->npiv_reads;
        *mdev = p->mdev_reads;
        g_mutex_unlock(&p->lock);
}

/* The host of @agent (its @token) added as @name behind a proxy that passes GET /v1/npiv on;
 * up, its first GET /v1/npiv and /v1/mdev sent. */
static Proxy *add_proxied(HdEtEnv *env, HdEtProc *agent, const char *token, const char *name,
                          char **id)
{
        Proxy *p = proxy_start(agent->url);
        guint npiv = 0, mdev = 0;

        proxy_set_404(p, FALSE);
        *id =
            hd_et_add_host(env->engine->url, env->admin, name, hd_et_server_url(p->server), token);
        hd_et_await_status(env->engine->url, env->viewer, *id, "up");
        for (guint i = 0; i < 600 && (npiv == 0 || mdev == 0); i++) {
                g_usleep(100 * 1000);
                proxy_reads(p, &npiv, &mdev);
        }
        g_assert_cmpuint(npiv, >, 0);
        return p;
}

/* Detach @addr on the agent, wait until the engine shows it on vfio-pci and the proxy passed
 * on the GET /v1/mdev of that generation, and a little more for a GET /v1/npiv sent with it;
 * the number of GET /v1/npiv the generation brought. */
static guint npiv_reads_at_detach(HdEtEnv *env, Proxy *p, HdEtProc *agent, const char *token,
                                  const char *id, const char *addr)
{
        g_autofree char *path = g_strconcat("/v1/devices/", addr, "/detach", NULL);
        guint npiv0, mdev0, npiv, mdev;

        proxy_reads(p, &npiv0, &mdev0);
        {
                g_auto(HdEtReply) r = hd_et_agent_call(agent->url, token, "POST", path, "{}");
                if (r.status != 200)
                        g_error("detach %s: %u %s", addr, r.status, r.body);
        }
        for (guint i = 0;; i++) {
                g_autofree char *driver =
                    hd_et_engine_driver(env->engine->url, env->viewer, id, addr);
                proxy_reads(p, &npiv, &mdev);
                if (g_strcmp0(driver, "vfio-pci") == 0 && mdev > mdev0)
                        break;
                if (i == 600)
                        g_error("the detach of %s did not reach the engine", addr);
                g_usleep(100 * 1000);
        }
        g_usleep(1000 * 1000);
        proxy_reads(p, &npiv, &mdev);
        return npiv - npiv0;
}

/* A SCSI host appears on @fx (sys/bus/scsi/devices/host9, as an FCoE instance's would): wait
 * until the proxy passed on the GET /v1/mdev of the generation it brings, and a little more;
 * the number of GET /v1/npiv that generation brought. */
static guint npiv_reads_at_scsi_host(Proxy *p, HdTestFixture *fx)
{
        g_autofree char *link = g_build_filename(fx->root, "sys/bus/scsi/devices/host9", NULL);
        guint npiv0, mdev0, npiv, mdev;

        proxy_reads(p, &npiv0, &mdev0);
        g_assert_no_errno(symlink("../../../devices/platform/host9", link));
        for (guint i = 0;; i++) {
                proxy_reads(p, &npiv, &mdev);
                if (mdev > mdev0)
                        break;
                if (i == 600)
                        g_error("the new SCSI host brought no device generation");
                g_usleep(100 * 1000);
        }
        g_usleep(1000 * 1000);
        proxy_reads(p, &npiv, &mdev);
        return npiv - npiv0;
}

/* @topology with one more PCI function on the root bus: 0000:00:06.0, class @klass, @driver. */
static HdTestFixture *fixture_with(const char *topology, const char *klass, const char *id,
                                   const char *driver)
{
        g_autoptr(JsonNode) topo = hd_test_topology_load(topology);
        JsonArray *devices = json_object_get_array_member(json_node_get_object(topo), "devices");
        JsonObject *d = json_object_new();

        json_object_set_string_member(d, "addr", "0000:00:06.0");
        json_object_set_string_member(d, "id", id);
        json_object_set_string_member(d, "class", klass);
        json_object_set_string_member(d, "kind", "rc-endpoint");
        json_object_set_string_member(d, "driver", driver);
        json_array_add_object_element(devices, d);
        return hd_test_fixture_from_topology(topo);
}

/* GET /v1/npiv at a device generation (sync.c, npiv_due()). beta (sriov-server and an FC HBA
 * 0000:00:06.0 without an FC host: its NPIV document lists none) is not asked when a VF
 * changes driver, and is when a SCSI host appears (no PCI change) or the HBA changes driver;
 * gamma (scsi-server, host1 makes vports, and a NIC
 * 0000:00:06.0) is asked when the NIC changes driver. */
static void test_generation_reads(void)
{
        HdEtEnv env = {0};
        g_autoptr(HdTestFixture) fx_b = NULL;
        g_autoptr(HdTestFixture) fx_g = NULL;
        g_autofree char *tok_b = NULL, *tok_g = NULL, *id_b = NULL, *id_g = NULL;
        HdEtProc *agent_b, *agent_g;
        Proxy *pb, *pg;

        hd_et_env_setup(&env, "scsi-server", "alpha");
        fx_b = fixture_with("sriov-server", "0c0400", "1077:2532", "qla2xxx");
        {
                g_autofree char *bus = g_build_filename(fx_b->root, "sys/bus/scsi/devices", NULL);
                g_assert_no_errno(g_mkdir_with_parents(bus, 0755));
        }
        agent_b = hd_et_agent_start(fx_b, "127.0.0.1:0");
        tok_b = hd_et_agent_token(fx_b);
        pb = add_proxied(&env, agent_b, tok_b, "beta", &id_b);
        fx_g = fixture_with("scsi-server", "020000", "8086:10d3", "e1000e");
        agent_g = hd_et_agent_start(fx_g, "127.0.0.1:0");
        tok_g = hd_et_agent_token(fx_g);
        pg = add_proxied(&env, agent_g, tok_g, "gamma", &id_g);

        g_assert_cmpuint(npiv_reads_at_detach(&env, pb, agent_b, tok_b, id_b, "0000:18:01.0"), ==,
                         0);
        g_assert_cmpuint(npiv_reads_at_scsi_host(pb, fx_b), >, 0);
        g_assert_cmpuint(npiv_reads_at_detach(&env, pb, agent_b, tok_b, id_b, "0000:00:06.0"), >,
                         0);
        g_assert_cmpuint(npiv_reads_at_detach(&env, pg, agent_g, tok_g, id_g, "0000:00:06.0"), >,
                         0);
        proxy_stop(pb);
        proxy_stop(pg);
        hd_et_proc_stop(agent_b, SIGTERM);
        hd_et_proc_stop(agent_g, SIGTERM);
        hd_et_env_teardown(&env);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine/npiv/read", test_read_and_bodies);
        g_test_add_func("/engine/npiv/fleet-unique", test_fleet_unique);
        g_test_add_func("/engine/npiv/concurrent", test_concurrent);
        g_test_add_func("/engine/npiv/agent-down", test_agent_down);
        g_test_add_func("/engine/npiv/sync", test_sync_counts);
        g_test_add_func("/engine/npiv/old-agent", test_old_agent);
        g_test_add_func("/engine/npiv/generation-reads", test_generation_reads);
        return hd_et_run();
}
