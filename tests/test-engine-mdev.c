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
#include <unistd.h>

#include "engine-testlib.h"
#include "http-testlib.h"

#define IGPU "0000:00:02.0"

typedef HdEtEnv Env;

static void env_setup(Env *env)
{
        hd_et_env_setup(env, "mdev-host", "vgpu");
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
                g_auto(HdEtReply) a = hd_et_env_agent_call(&env, "GET", "/v1/mdev", NULL);
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
                    hd_et_env_agent_call(&env, "POST", "/v1/mdev",
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
        hd_et_env_teardown(&env);
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
        hd_et_env_teardown(&env);
}

/* ---- VMs with mediated devices (mdev-two-gpus: two T4 parents, 16 units each) ---- */

#define GPU_A "0000:3b:00.0"
#define GPU_B "0000:af:00.0"

static char *vm_create(Env *env, const char *name)
{
        g_autofree char *body = g_strdup_printf("{\"name\": \"%s\"}", name);
        g_auto(HdEtReply) r = hd_et_call(env->engine->url, "POST", "/v1/vms", body, env->admin);
        JsonObject *o;

        if (r.status != 201)
                g_error("create VM: %u %s", r.status, r.body);
        o = hd_et_obj(&r);
        g_assert_cmpstr(json_object_get_string_member(o, "mdev_placement"), ==, "compact");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "mdevs")), ==, 0);
        return g_strdup(json_object_get_string_member(o, "id"));
}

/* POST /v1/vms/{id}/mdevs; the new mdev's UUID (asserted 200). */
static char *vm_add_mdev(Env *env, const char *vm, const char *type, gboolean display)
{
        g_autofree char *path = g_strconcat("/v1/vms/", vm, "/mdevs", NULL);
        g_autofree char *body =
            g_strdup_printf("{\"host_id\": \"%s\", \"type\": \"%s\"%s}", env->host, type,
                            display ? "" : ", \"display\": false");
        g_auto(HdEtReply) r = hd_et_call(env->engine->url, "POST", path, body, env->admin);
        JsonArray *a;
        JsonObject *m;

        if (r.status != 200)
                g_error("add mdev: %u %s", r.status, r.body);
        g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "host_id"), ==, env->host);
        a = json_object_get_array_member(hd_et_obj(&r), "mdevs");
        m = json_array_get_object_element(a, json_array_get_length(a) - 1);
        g_assert_cmpstr(json_object_get_string_member(m, "type"), ==, type);
        g_assert_true(json_object_get_boolean_member(m, "display") == display);
        g_assert_true(json_object_get_null_member(m, "parent"));
        g_assert_true(g_uuid_string_is_valid(json_object_get_string_member(m, "uuid")));
        return g_strdup(json_object_get_string_member(m, "uuid"));
}

static HdEtReply vm_do(Env *env, const char *method, const char *id, const char *suffix,
                       const char *body)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, suffix, NULL);
        return hd_et_call(env->engine->url, method, path, body, env->admin);
}

/* The parent of the agent's active mdev @uuid (NULL: the agent has none). */
static char *agent_mdev_parent(Env *env, const char *uuid)
{
        g_auto(HdEtReply) r = hd_et_env_agent_call(env, "GET", "/v1/mdev", NULL);
        JsonArray *a;

        g_assert_cmpuint(r.status, ==, 200);
        a = json_object_get_array_member(hd_et_obj(&r), "mdevs");
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *m = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(m, "uuid"), uuid) == 0 &&
                    json_object_get_boolean_member(m, "active"))
                        return g_strdup(json_object_get_string_member(m, "parent"));
        }
        return NULL;
}

static guint agent_mdev_count(Env *env)
{
        g_auto(HdEtReply) r = hd_et_env_agent_call(env, "GET", "/v1/mdev", NULL);

        g_assert_cmpuint(r.status, ==, 200);
        return json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "mdevs"));
}

/* The parent the engine shows for the VM's mdev @uuid (NULL: not created). */
static char *engine_mdev_parent(JsonObject *vm, const char *uuid)
{
        JsonArray *a = json_object_get_array_member(vm, "mdevs");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *m = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(m, "uuid"), uuid) == 0)
                        return json_object_get_null_member(m, "parent")
                                   ? NULL
                                   : g_strdup(json_object_get_string_member(m, "parent"));
        }
        g_error("no mdev %s in the VM", uuid);
}

/* Start @vm and assert both its mdevs on the agent, on @pa and @pb; stop it and assert they
 * are gone. */
static void start_expect(Env *env, const char *vm, const char *u1, const char *u2, const char *pa,
                         const char *pb)
{
        {
                g_auto(HdEtReply) r = vm_do(env, "POST", vm, "/start", NULL);
                g_autofree char *e1 = NULL;
                g_autofree char *e2 = NULL;
                g_autofree char *a1 = agent_mdev_parent(env, u1);
                g_autofree char *a2 = agent_mdev_parent(env, u2);

                if (r.status != 200)
                        g_error("start: %u %s", r.status, r.body);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==,
                                "running");
                e1 = engine_mdev_parent(hd_et_obj(&r), u1);
                e2 = engine_mdev_parent(hd_et_obj(&r), u2);
                g_assert_cmpstr(a1, ==, pa);
                g_assert_cmpstr(a2, ==, pb);
                g_assert_cmpstr(e1, ==, pa);
                g_assert_cmpstr(e2, ==, pb);
        }
        {
                g_auto(HdEtReply) r = vm_do(env, "POST", vm, "/stop", NULL);
                g_autofree char *a1 = agent_mdev_parent(env, u1);
                g_autofree char *a2 = agent_mdev_parent(env, u2);

                if (r.status != 200)
                        g_error("stop: %u %s", r.status, r.body);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
                g_assert_null(a1);
                g_assert_null(a2);
                g_assert_null(engine_mdev_parent(hd_et_obj(&r), u1));
                g_assert_null(engine_mdev_parent(hd_et_obj(&r), u2));
        }
}

/* compact puts both T4-1B instances on the first GPU; separate one on each; the capacity the
 * engine shows goes down while the VM runs and back after it stopped; the UUIDs are the
 * same at every start. */
static void test_placement(void)
{
        Env env = {0};
        g_autofree char *vm = NULL;
        g_autofree char *u1 = NULL;
        g_autofree char *u2 = NULL;

        hd_et_env_setup(&env, "mdev-two-gpus", "vgpu");
        await_available(&env, GPU_A, "nvidia-222", 16);
        vm = vm_create(&env, "desk1");
        u1 = vm_add_mdev(&env, vm, "nvidia-222", TRUE);
        u2 = vm_add_mdev(&env, vm, "nvidia-222", FALSE);
        g_assert_cmpstr(u1, !=, u2);
        /* compact: both on the first parent */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/start", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        await_available(&env, GPU_A, "nvidia-222", 14);
        g_assert_cmpint(engine_available(&env, GPU_B, "nvidia-222"), ==, 16);
        /* shared capacity: the whole-GPU type has no room left on the first GPU */
        g_assert_cmpint(engine_available(&env, GPU_A, "nvidia-230"), ==, 0);
        {
                g_autofree char *a1 = agent_mdev_parent(&env, u1);
                g_autofree char *a2 = agent_mdev_parent(&env, u2);
                g_assert_cmpstr(a1, ==, GPU_A);
                g_assert_cmpstr(a2, ==, GPU_A);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/stop", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        await_available(&env, GPU_A, "nvidia-222", 16);
        g_assert_cmpint(engine_available(&env, GPU_A, "nvidia-230"), ==, 1);
        g_assert_cmpuint(agent_mdev_count(&env), ==, 0);
        /* a second start: the same UUIDs, the same places */
        start_expect(&env, vm, u1, u2, GPU_A, GPU_A);
        await_available(&env, GPU_A, "nvidia-222", 16);
        /* separate: one on each parent */
        {
                g_auto(HdEtReply) r =
                    vm_do(&env, "PATCH", vm, "", "{\"mdev_placement\": \"separate\"}");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "mdev_placement"), ==,
                                "separate");
        }
        start_expect(&env, vm, u1, u2, GPU_A, GPU_B);
        await_available(&env, GPU_B, "nvidia-222", 16);
        /* changes only while down: a running VM keeps its mdevs */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/start", NULL);
                g_autofree char *path = g_strconcat("/mdevs/", u1, NULL);
                g_auto(HdEtReply) d = vm_do(&env, "DELETE", vm, path, NULL);
                g_assert_cmpuint(r.status, ==, 200);
                hd_et_assert_reason(&d, 409, "refused", "down");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/destroy", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(agent_mdev_count(&env), ==, 0);
        }
        hd_et_env_teardown(&env);
}

/* NVIDIA's one type per GPU: with a T4-1B running on the first GPU, a T4-2B goes to the
 * second although the first has room (compact would take it otherwise). A VM destroyed on the
 * agent behind the engine's back goes down and its mdev is removed. */
static void test_nvidia_one_type(void)
{
        Env env = {0};
        g_autofree char *vm1 = NULL;
        g_autofree char *vm2 = NULL;
        g_autofree char *u1 = NULL;
        g_autofree char *u2 = NULL;

        hd_et_env_setup(&env, "mdev-two-gpus", "vgpu");
        await_available(&env, GPU_A, "nvidia-223", 8);
        vm1 = vm_create(&env, "small");
        u1 = vm_add_mdev(&env, vm1, "nvidia-222", TRUE);
        vm2 = vm_create(&env, "medium");
        u2 = vm_add_mdev(&env, vm2, "nvidia-223", TRUE);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm1, "/start", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        await_available(&env, GPU_A, "nvidia-222", 15);
        /* the first GPU still has room for T4-2B by capacity */
        g_assert_cmpint(engine_available(&env, GPU_A, "nvidia-223"), ==, 7);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm2, "/start", NULL);
                g_autofree char *on = NULL;
                g_autofree char *agent_side = agent_mdev_parent(&env, u2);

                if (r.status != 200)
                        g_error("start: %u %s", r.status, r.body);
                on = engine_mdev_parent(hd_et_obj(&r), u2);
                g_assert_cmpstr(on, ==, GPU_B);
                g_assert_cmpstr(agent_side, ==, GPU_B);
        }
        {
                g_autofree char *agent_side = agent_mdev_parent(&env, u1);
                g_assert_cmpstr(agent_side, ==, GPU_A);
        }
        /* vm1 destroyed on the agent behind the engine's back: the reconcile sets it down and
         * gives its mdev back */
        {
                g_autofree char *path = g_strconcat("/v1/vms/", vm1, "/destroy", NULL);
                g_autofree char *refresh = g_strconcat("/v1/hosts/", env.host, "/refresh", NULL);
                g_auto(HdEtReply) d = hd_et_env_agent_call(&env, "POST", path, NULL);
                g_auto(HdEtReply) f = hd_et_call(env.engine->url, "POST", refresh, NULL, env.admin);
                g_autofree char *agent_side = NULL;
                gboolean gone = FALSE;

                g_assert_cmpuint(d.status, ==, 200);
                g_assert_cmpuint(f.status, ==, 202);
                for (guint i = 0; i < 300 && !gone; i++) {
                        g_auto(HdEtReply) v = vm_do(&env, "GET", vm1, "", NULL);
                        g_autofree char *on = engine_mdev_parent(hd_et_obj(&v), u1);
                        gone = !on && strcmp(json_object_get_string_member(hd_et_obj(&v), "state"),
                                             "down") == 0;
                        if (!gone)
                                g_usleep(100 * 1000);
                }
                g_assert_true(gone);
                agent_side = agent_mdev_parent(&env, u1);
                g_assert_null(agent_side);
        }
        hd_et_env_teardown(&env);
}

/* The leftovers of GET /v1/hosts/{id}/mdev (NULL-safe: the answer asserted 200). */
static JsonArray *engine_leftovers(HdEtReply *r, Env *env)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", env->host, "/mdev", NULL);

        *r = hd_et_call(env->engine->url, "GET", path, NULL, env->viewer);
        g_assert_cmpuint(r->status, ==, 200);
        return json_object_get_array_member(hd_et_obj(r), "leftovers");
}

/* Until the engine lists @n leftovers, the first with a last_error when @failed. */
static void await_leftovers(Env *env, guint n, gboolean failed)
{
        g_autofree char *last = NULL;

        for (guint i = 0; i < 300; i++) {
                g_auto(HdEtReply) r = {0};
                JsonArray *a = engine_leftovers(&r, env);
                if (json_array_get_length(a) == n &&
                    (!n || !failed ||
                     !json_object_get_null_member(json_array_get_object_element(a, 0),
                                                  "last_error")))
                        return;
                g_free(last);
                last = g_strdup(r.body);
                g_usleep(100 * 1000);
        }
        {
                g_auto(HdEtReply) ev =
                    hd_et_call(env->engine->url, "GET", "/v1/events?tail=20", NULL, env->viewer);
                g_printerr("%s\n", ev.body);
        }
        g_error("the engine does not list %u leftover mdevs: %s", n, last);
}

/* A VM deleted while its mdev is still on the host (the removal after its stop was refused:
 * a process holds the mdev open): the delete goes through, the mdev becomes a leftover of the
 * host with the refusal, and the engine removes it at a later sync (here after the agent was
 * unreachable and came back at another address), when nothing holds it any more. */
static void test_leftover(void)
{
        Env env = {0};
        g_autofree char *vm = NULL;
        g_autofree char *u = NULL;
        g_autofree char *fd = NULL;

        env_setup(&env);
        await_available(&env, "mtty", "mtty-1", 22);
        vm = vm_create(&env, "term1");
        u = vm_add_mdev(&env, vm, "mtty-1", FALSE);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/start", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        /* QEMU (pid 4242 of the fixture) holds the new mdev's group open */
        {
                g_autofree char *link =
                    g_strconcat("sys/bus/mdev/devices/", u, "/iommu_group", NULL);
                g_autofree char *group_path = hd_test_path(env.fx, link);
                g_autofree char *target = g_file_read_link(group_path, NULL);
                g_autofree char *group = NULL;
                g_autofree char *dev = NULL;

                g_assert_nonnull(target);
                group = g_path_get_basename(target);
                dev = g_strconcat("/dev/vfio/", group, NULL);
                fd = hd_test_path(env.fx, "proc/4242/fd/9");
                g_assert_cmpint(symlink(dev, fd), ==, 0);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/stop", NULL);
                g_autofree char *on = NULL;
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
                /* still on the host: the removal was refused */
                on = engine_mdev_parent(hd_et_obj(&r), u);
                g_assert_cmpstr(on, ==, "mtty");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", vm, "", NULL);
                g_assert_cmpuint(r.status, ==, 204);
        }
        await_leftovers(&env, 1, TRUE);
        {
                g_auto(HdEtReply) r = {0};
                JsonObject *l = json_array_get_object_element(engine_leftovers(&r, &env), 0);
                g_autofree char *agent_side = agent_mdev_parent(&env, u);

                g_assert_cmpstr(json_object_get_string_member(l, "uuid"), ==, u);
                g_assert_cmpstr(json_object_get_string_member(l, "parent"), ==, "mtty");
                g_assert_cmpstr(json_object_get_string_member(l, "type"), ==, "mtty-1");
                g_assert_cmpstr(json_object_get_string_member(l, "vm_name"), ==, "term1");
                g_assert_nonnull(strstr(json_object_get_string_member(l, "last_error"), "4242"));
                g_assert_cmpstr(agent_side, ==, "mtty");
                g_assert_true(
                    hd_et_has_event(env.engine->url, env.viewer, "host.mdev.leftover", "failed"));
        }
        /* the agent goes away; QEMU lets go meanwhile; the agent is back at another address */
        hd_et_proc_stop(env.agent, SIGTERM);
        g_assert_cmpint(unlink(fd), ==, 0);
        await_leftovers(&env, 1, TRUE);
        env.agent = hd_et_agent_start(env.fx, "127.0.0.1:0");
        {
                g_autofree char *path = g_strconcat("/v1/hosts/", env.host, NULL);
                g_autofree char *body = g_strdup_printf("{\"agent_url\": \"%s\"}", env.agent->url);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "PATCH", path, body, env.admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        await_leftovers(&env, 0, FALSE);
        {
                g_autofree char *agent_side = agent_mdev_parent(&env, u);
                g_assert_null(agent_side);
                g_assert_true(
                    hd_et_has_event(env.engine->url, env.viewer, "host.mdev.leftover", "ok"));
        }
        await_available(&env, "mtty", "mtty-1", 22);
        /* an mdev removed from a VM that is down while it is still on the host: a leftover
         * too, removed by the engine's timer once nothing holds it */
        {
                g_autofree char *vm2 = vm_create(&env, "term2");
                g_autofree char *u2 = vm_add_mdev(&env, vm2, "mtty-1", FALSE);
                g_autofree char *path = g_strconcat("/mdevs/", u2, NULL);
                g_autofree char *link =
                    g_strconcat("sys/bus/mdev/devices/", u2, "/iommu_group", NULL);
                g_autofree char *group_path = NULL;
                g_autofree char *target = NULL;
                g_autofree char *group = NULL;
                g_autofree char *dev = NULL;

                {
                        g_auto(HdEtReply) r = vm_do(&env, "POST", vm2, "/start", NULL);
                        g_assert_cmpuint(r.status, ==, 200);
                }
                group_path = hd_test_path(env.fx, link);
                target = g_file_read_link(group_path, NULL);
                g_assert_nonnull(target);
                group = g_path_get_basename(target);
                dev = g_strconcat("/dev/vfio/", group, NULL);
                g_assert_cmpint(symlink(dev, fd), ==, 0);
                {
                        g_auto(HdEtReply) s = vm_do(&env, "POST", vm2, "/stop", NULL);
                        g_auto(HdEtReply) d = vm_do(&env, "DELETE", vm2, path, NULL);
                        g_assert_cmpuint(s.status, ==, 200);
                        g_assert_cmpuint(d.status, ==, 200);
                        g_assert_cmpuint(json_array_get_length(
                                             json_object_get_array_member(hd_et_obj(&d), "mdevs")),
                                         ==, 0);
                }
                await_leftovers(&env, 1, TRUE);
                g_assert_cmpint(unlink(fd), ==, 0);
                await_leftovers(&env, 0, FALSE);
                {
                        g_autofree char *agent_side = agent_mdev_parent(&env, u2);
                        g_assert_null(agent_side);
                }
        }
        hd_et_env_teardown(&env);
}

/* No capacity: a start is refused (409, nothing created); a type the host lacks, another
 * host, bad bodies are refused; removing the last mdev unpins the VM. */
static void test_capacity_refusals(void)
{
        Env env = {0};
        g_autofree char *big1 = NULL;
        g_autofree char *big2 = NULL;
        g_autofree char *u1 = NULL;
        g_autofree char *u2 = NULL;
        g_autofree char *u3 = NULL;

        hd_et_env_setup(&env, "mdev-two-gpus", "vgpu");
        await_available(&env, GPU_A, "nvidia-230", 1);
        /* big1 takes both GPUs whole */
        big1 = vm_create(&env, "big1");
        u1 = vm_add_mdev(&env, big1, "nvidia-230", TRUE);
        u2 = vm_add_mdev(&env, big1, "nvidia-230", TRUE);
        start_expect(&env, big1, u1, u2, GPU_A, GPU_B);
        await_available(&env, GPU_A, "nvidia-230", 1);
        await_available(&env, GPU_B, "nvidia-230", 1);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", big1, "/start", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        await_available(&env, GPU_B, "nvidia-222", 0);
        big2 = vm_create(&env, "big2");
        u3 = vm_add_mdev(&env, big2, "nvidia-222", TRUE);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", big2, "/start", NULL);
                g_auto(HdEtReply) v = vm_do(&env, "GET", big2, "", NULL);
                hd_et_assert_reason(&r, 409, "refused", "no mediated device parent");
                hd_et_assert_reason(&r, 409, "refused", "nvidia-222");
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&v), "state"), ==, "down");
                g_assert_cmpuint(agent_mdev_count(&env), ==, 2);
        }
        /* capacity taken behind the engine's back, the start asked at once (before the sync
         * saw it, the agent refuses the first GPU with 409: the capacity is read again and
         * the next parent tried): the start lands on the free GPU */
        {
                g_auto(HdEtReply) s = vm_do(&env, "POST", big1, "/stop", NULL);
                g_assert_cmpuint(s.status, ==, 200);
        }
        await_available(&env, GPU_A, "nvidia-222", 16);
        await_available(&env, GPU_B, "nvidia-222", 16);
        {
                g_auto(HdEtReply) c1 =
                    hd_et_env_agent_call(&env, "POST", "/v1/mdev",
                               "{\"parent\": \"0000:3b:00.0\", \"type\": \"nvidia-230\"}");
                g_auto(HdEtReply) r = vm_do(&env, "POST", big2, "/start", NULL);
                g_autofree char *on = NULL;
                g_autofree char *agent_side = agent_mdev_parent(&env, u3);

                g_assert_cmpuint(c1.status, ==, 200);
                if (r.status != 200)
                        g_error("start: %u %s", r.status, r.body);
                on = engine_mdev_parent(hd_et_obj(&r), u3);
                g_assert_cmpstr(on, ==, GPU_B);
                g_assert_cmpstr(agent_side, ==, GPU_B);
        }
        {
                g_auto(HdEtReply) s = vm_do(&env, "POST", big2, "/stop", NULL);
                g_assert_cmpuint(s.status, ==, 200);
                g_assert_cmpuint(agent_mdev_count(&env), ==, 1);
        }
        await_available(&env, GPU_B, "nvidia-222", 16);
        /* both GPUs taken behind its back: the start fails with the agent's reason (or is
         * refused when the sync saw it first), nothing is left created */
        {
                g_auto(HdEtReply) c2 =
                    hd_et_env_agent_call(&env, "POST", "/v1/mdev",
                               "{\"parent\": \"0000:af:00.0\", \"type\": \"nvidia-230\"}");
                g_auto(HdEtReply) r = vm_do(&env, "POST", big2, "/start", NULL);
                g_auto(HdEtReply) v = vm_do(&env, "GET", big2, "", NULL);

                g_assert_cmpuint(c2.status, ==, 200);
                if (r.status == 502)
                        hd_et_assert_reason(&r, 502, "agent-failed", u3);
                else
                        hd_et_assert_reason(&r, 409, "refused", "no mediated device parent");
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&v), "state"), ==, "down");
                g_assert_null(engine_mdev_parent(hd_et_obj(&v), u3));
                g_assert_cmpuint(agent_mdev_count(&env), ==, 2);
        }
        /* a type the host does not offer; bad bodies; another VM's mdev */
        {
                g_autofree char *path = g_strconcat("/v1/vms/", big2, "/mdevs", NULL);
                g_autofree char *body =
                    g_strdup_printf("{\"host_id\": \"%s\", \"type\": \"nvidia-999\"}", env.host);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "POST", path, body, env.admin);
                g_auto(HdEtReply) b1 =
                    hd_et_call(env.engine->url, "POST", path, "{\"type\": \"x\"}", env.admin);
                g_autofree char *b2body =
                    g_strdup_printf("{\"host_id\": \"%s\", \"type\": \"a/b\"}", env.host);
                g_auto(HdEtReply) b2 = hd_et_call(env.engine->url, "POST", path, b2body, env.admin);
                g_autofree char *b3body = g_strdup_printf(
                    "{\"host_id\": \"%s\", \"type\": \"nvidia-222\", \"display\": 1}", env.host);
                g_auto(HdEtReply) b3 = hd_et_call(env.engine->url, "POST", path, b3body, env.admin);
                g_auto(HdEtReply) v = hd_et_call(env.engine->url, "POST", path, b3body, env.viewer);
                hd_et_assert_reason(&r, 409, "refused", "offers no mediated device type");
                hd_et_assert_error(&b1, 400, "invalid-argument");
                hd_et_assert_error(&b2, 400, "invalid-argument");
                hd_et_assert_error(&b3, 400, "invalid-argument");
                hd_et_assert_error(&v, 403, "forbidden");
        }
        {
                g_autofree char *other = g_strconcat("/mdevs/", u1, NULL);
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", big2, other, NULL);
                g_auto(HdEtReply) bad = vm_do(&env, "DELETE", big2, "/mdevs/nope", NULL);
                g_auto(HdEtReply) p =
                    vm_do(&env, "PATCH", big2, "", "{\"mdev_placement\": \"spread\"}");
                hd_et_assert_error(&r, 404, "not-found");
                hd_et_assert_error(&bad, 400, "invalid-argument");
                hd_et_assert_error(&p, 400, "invalid-argument");
        }
        /* the last mdev removed: the VM is no longer pinned */
        {
                g_autofree char *mine = g_strconcat("/mdevs/", u3, NULL);
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", big2, mine, NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_null_member(hd_et_obj(&r), "host_id"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "mdevs")), ==,
                    0);
        }
        hd_et_env_teardown(&env);
}

/* An mdev needs no IOMMU: the mdev core gives it an emulated group, and vfio's type1 backend
 * takes that (tests/vm's boot without an IOMMU opens mtty, mbochs and mdpy mdevs in nested
 * QEMUs). On a host whose passthrough is disabled, a VM with only an mdev starts, its mdev is
 * made on the agent and removed at the stop. */
static void test_without_iommu(void)
{
        Env env = {0};
        g_autofree char *vm = NULL;
        g_autofree char *u = NULL;

        hd_et_env_setup(&env, "mdev-no-iommu", "noiommu");
        {
                g_auto(HdEtReply) r =
                    hd_et_wait_status(env.engine->url, env.viewer, env.host, "up");
                JsonObject *pt = json_object_get_object_member(hd_et_obj(&r), "passthrough");
                g_assert_false(json_object_get_boolean_member(pt, "enabled"));
        }
        /* one mtty-1 exists on the agent: 24 ports less one */
        await_available(&env, "mtty", "mtty-1", 23);
        vm = vm_create(&env, "serial");
        {
                g_autofree char *path = g_strconcat("/v1/vms/", vm, "/mdevs", NULL);
                g_autofree char *body = g_strdup_printf(
                    "{\"host_id\": \"%s\", \"type\": \"mtty-1\"}", env.host);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "POST", path, body, env.admin);
                JsonArray *a;

                if (r.status != 200)
                        g_error("add mdev: %u %s", r.status, r.body);
                a = json_object_get_array_member(hd_et_obj(&r), "mdevs");
                u = g_strdup(json_object_get_string_member(json_array_get_object_element(a, 0),
                                                           "uuid"));
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/start", NULL);
                g_autofree char *parent = agent_mdev_parent(&env, u);

                if (r.status != 200)
                        g_error("start: %u %s", r.status, r.body);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==,
                                "running");
                g_assert_cmpstr(parent, ==, "mtty");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/stop", NULL);
                g_autofree char *parent = agent_mdev_parent(&env, u);

                g_assert_cmpuint(r.status, ==, 200);
                g_assert_null(parent);
        }
        hd_et_env_teardown(&env);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine/mdev/sync-capacity", test_sync_capacity);
        g_test_add_func("/engine/mdev/refusals", test_refusals);
        g_test_add_func("/engine/mdev/placement", test_placement);
        g_test_add_func("/engine/mdev/capacity-refusals", test_capacity_refusals);
        g_test_add_func("/engine/mdev/nvidia-one-type", test_nvidia_one_type);
        g_test_add_func("/engine/mdev/leftover", test_leftover);
        g_test_add_func("/engine/mdev/without-iommu", test_without_iommu);
        return hd_et_run();
}
