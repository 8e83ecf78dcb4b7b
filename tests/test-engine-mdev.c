/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's mediated devices against a real hostdevd agent (engine-testlib.h: sim
 * backend on the "mdev-host" topology: the iGPU 0000:00:02.0 with two i915 types sharing 4
 * units, the mtty sample with two types sharing 24 ports, one mtty-2 instance existing): the
 * sync stores each parent's types and capacity, GET /v1/hosts/{id}/mdev shows them with an
 * ETag, and they follow an mdev made on the agent behind the engine's back. Waits are bounded
 * loops on the APIs; states are asserted, never durations.
 */
#include "config.h"

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "engine-testlib.h"
#include "http-testlib.h"

#define IGPU "0000:00:02.0"

typedef struct {
        HdTestFixture *fx;
        HdEtProc *agent;
        char *agent_token;
        char *dir;
        char *admin;
        char *viewer;
        HdEtProc *engine;
        char *host;
} Env;

static void env_setup(Env *env)
{
        env->fx = hd_test_fixture_new("mdev-host");
        env->agent = hd_et_agent_start(env->fx, "127.0.0.1:0");
        env->agent_token = hd_et_agent_token(env->fx);
        env->dir = hd_test_make_tmp_dir();
        env->admin = hd_et_token_create(env->dir, "ops", "admin");
        env->viewer = hd_et_token_create(env->dir, "portal", "viewer");
        env->engine = hd_et_engine_start(env->dir);
        env->host =
            hd_et_add_host(env->engine->url, env->admin, "vgpu", env->agent->url, env->agent_token);
        hd_et_await_status(env->engine->url, env->viewer, env->host, "up");
}

static void env_teardown(Env *env)
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

/* A call on the agent (its own API: not recorded against the engine's document). */
static HdEtReply agent_call(Env *env, const char *method, const char *path, const char *body)
{
        g_autofree char *uri = g_strconcat(env->agent->url, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        HdEtReply r = {0};

        r.body = hd_ht_send(hd_et_session, msg, env->agent_token, body);
        r.status = soup_message_get_status(msg);
        if (*r.body)
                r.json = json_from_string(r.body, NULL);
        return r;
}

/* The type @type of @parent in an engine HostMdev answer (NULL: not listed). */
static JsonObject *mdev_type_in(JsonObject *o, const char *parent, const char *type)
{
        JsonArray *parents = json_object_get_array_member(o, "parents");

        for (guint i = 0; i < json_array_get_length(parents); i++) {
                JsonObject *p = json_array_get_object_element(parents, i);
                JsonArray *types;

                if (strcmp(json_object_get_string_member(p, "parent"), parent) != 0)
                        continue;
                types = json_object_get_array_member(p, "types");
                for (guint j = 0; j < json_array_get_length(types); j++) {
                        JsonObject *t = json_array_get_object_element(types, j);
                        if (strcmp(json_object_get_string_member(t, "type"), type) == 0)
                                return t;
                }
        }
        return NULL;
}

/* available_instances of @parent/@type in the engine (-1: not listed). */
static gint64 engine_available(Env *env, const char *parent, const char *type)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", env->host, "/mdev", NULL);
        g_auto(HdEtReply) r = hd_et_call(env->engine->url, "GET", path, NULL, env->viewer);
        JsonObject *t;

        g_assert_cmpuint(r.status, ==, 200);
        t = mdev_type_in(hd_et_obj(&r), parent, type);
        return t ? json_object_get_int_member(t, "available_instances") : -1;
}

/* Until the engine shows @want for @parent/@type (at most ~30 s). */
static void await_available(Env *env, const char *parent, const char *type, gint64 want)
{
        gint64 got = -2;

        for (guint i = 0; i < 300; i++) {
                got = engine_available(env, parent, type);
                if (got == want)
                        return;
                g_usleep(100 * 1000);
        }
        g_error("%s %s: the engine shows %" G_GINT64_FORMAT " available, not %" G_GINT64_FORMAT,
                parent, type, got, want);
}

/* The sync reads the agent's parents, types and capacity; the answer carries an ETag and a 304;
 * an mdev made on the agent moves both the capacity and the ETag. */
static void test_sync_capacity(void)
{
        Env env = {0};
        g_autofree char *path = NULL;
        g_autofree char *etag = NULL;
        JsonObject *o, *t;

        env_setup(&env);
        path = g_strconcat("/v1/hosts/", env.host, "/mdev", NULL);
        /* the sync may still be on its first read of /v1/mdev */
        await_available(&env, "mtty", "mtty-1", 22);
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", path, NULL, env.viewer);
                g_auto(HdEtReply) a = agent_call(&env, "GET", "/v1/mdev", NULL);
                JsonArray *ap;

                g_assert_cmpuint(r.status, ==, 200);
                g_assert_nonnull(r.etag);
                etag = g_strdup(r.etag);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.host);
                g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "up");
                /* every parent and type the agent lists, with the agent's numbers */
                ap = json_object_get_array_member(hd_et_obj(&a), "parents");
                g_assert_cmpuint(json_array_get_length(ap), ==, 2);
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "parents")),
                                 ==, 2);
                for (guint i = 0; i < json_array_get_length(ap); i++) {
                        JsonObject *p = json_array_get_object_element(ap, i);
                        JsonArray *types = json_object_get_array_member(p, "types");
                        for (guint j = 0; j < json_array_get_length(types); j++) {
                                JsonObject *at = json_array_get_object_element(types, j);
                                t = mdev_type_in(o, json_object_get_string_member(p, "parent"),
                                                 json_object_get_string_member(at, "type"));
                                g_assert_nonnull(t);
                                g_assert_cmpint(
                                    json_object_get_int_member(t, "available_instances"), ==,
                                    json_object_get_int_member(at, "available_instances"));
                                g_assert_cmpint(json_object_get_int_member(t, "instances"), ==,
                                                json_array_get_length(
                                                    json_object_get_array_member(at, "instances")));
                                g_assert_cmpstr(json_object_get_string_member(t, "device_api"), ==,
                                                "vfio-pci");
                        }
                }
                /* shared capacity: one mtty-2 exists, so 22 single and 11 dual ports are left */
                t = mdev_type_in(o, "mtty", "mtty-2");
                g_assert_cmpint(json_object_get_int_member(t, "available_instances"), ==, 11);
                g_assert_cmpint(json_object_get_int_member(t, "instances"), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(t, "name"), ==, "Dual port serial");
                t = mdev_type_in(o, IGPU, "i915-GVTg_V5_8");
                g_assert_cmpint(json_object_get_int_member(t, "available_instances"), ==, 4);
                t = mdev_type_in(o, IGPU, "i915-GVTg_V5_4");
                g_assert_cmpint(json_object_get_int_member(t, "available_instances"), ==, 2);
        }
        {
                g_autoptr(SoupMessage) msg = NULL;
                g_autofree char *uri = g_strconcat(env.engine->url, path, NULL);
                g_autofree char *body = NULL;

                msg = soup_message_new("GET", uri);
                soup_message_headers_replace(soup_message_get_request_headers(msg), "If-None-Match",
                                             etag);
                body = hd_ht_send(hd_et_session, msg, env.viewer, NULL);
                g_assert_cmpuint(soup_message_get_status(msg), ==, 304);
        }
        /* an mdev made on the agent (by another tool): the engine follows the generation */
        {
                g_auto(HdEtReply) c =
                    agent_call(&env, "POST", "/v1/mdev",
                               "{\"parent\": \"0000:00:02.0\", \"type\": \"i915-GVTg_V5_4\"}");
                g_assert_cmpuint(c.status, ==, 200);
        }
        await_available(&env, IGPU, "i915-GVTg_V5_8", 2);
        g_assert_cmpint(engine_available(&env, IGPU, "i915-GVTg_V5_4"), ==, 1);
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", path, NULL, env.viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(r.etag, !=, etag);
        }
        env_teardown(&env);
}

/* Refusals: an unknown host is 404, a method other than GET 405, a parameter 400. */
static void test_refusals(void)
{
        Env env = {0};
        g_autofree char *path = NULL;

        env_setup(&env);
        path = g_strconcat("/v1/hosts/", env.host, "/mdev", NULL);
        {
                g_auto(HdEtReply) r = hd_et_call(
                    env.engine->url, "GET", "/v1/hosts/00000000-0000-4000-8000-000000000000/mdev",
                    NULL, env.viewer);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "POST", path, "{}", env.admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        {
                g_autofree char *q = g_strconcat(path, "?limit=1", NULL);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", q, NULL, env.viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        env_teardown(&env);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine/mdev/sync-capacity", test_sync_capacity);
        g_test_add_func("/engine/mdev/refusals", test_refusals);
        return hd_et_run();
}
