/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's VMs with host devices against real hostdevd agents (engine-testlib.h: sim
 * backend on the "desktop" seed, libvirt test:///default): the VM part of the seed's workflow
 * (the GPU requested, its HDMI audio function a placeholder, start -> both on vfio-pci on the
 * agent, stop -> back on their host drivers), every refusal with its status, code and reason,
 * a VM stopped outside the engine, 50 rounds of two VMs sharing one GPU started at the same
 * moment, the engine killed (-9) during a start and during a stop, and bad input on every VM
 * endpoint. Waits are bounded loops on the APIs; states are asserted, never durations.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "engine-testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

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
        env->fx = hd_test_fixture_new("desktop");
        env->agent = hd_et_agent_start(env->fx, "127.0.0.1:0");
        env->agent_token = hd_et_agent_token(env->fx);
        env->dir = hd_test_make_tmp_dir();
        env->admin = hd_et_token_create(env->dir, "ops", "admin");
        env->viewer = hd_et_token_create(env->dir, "portal", "viewer");
        env->engine = hd_et_engine_start(env->dir);
        env->host =
            hd_et_add_host(env->engine->url, env->admin, "h1", env->agent->url, env->agent_token);
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

/* A call on an agent (its own API: not recorded against the engine's document). */
static HdEtReply agent_call(Env *env, const char *method, const char *path, const char *body)
{
        g_autofree char *uri = g_strconcat(env->agent->url, path, NULL);
        g_autofree char *auth = g_strconcat("Bearer ", env->agent_token, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;
        HdEtReply r = {0};

        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
        if (body) {
                g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(msg, "application/json", b);
        }
        bytes = soup_session_send_and_read(hd_et_session, msg, NULL, &error);
        g_assert_no_error(error);
        r.status = soup_message_get_status(msg);
        r.body = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
        if (*r.body)
                r.json = json_from_string(r.body, NULL);
        return r;
}

/* The driver of @addr as the agent reports it. */
static char *agent_driver(Env *env, const char *addr)
{
        g_auto(HdEtReply) r = agent_call(env, "GET", "/v1/devices", NULL);
        JsonArray *a = json_object_get_array_member(hd_et_obj(&r), "devices");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *d = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(d, "address"), addr) == 0)
                        return json_object_get_null_member(d, "driver")
                                   ? NULL
                                   : g_strdup(json_object_get_string_member(d, "driver"));
        }
        return NULL;
}

/* "running" / "down" as the agent has the domain of VM @id (absent: down). */
G_GNUC_UNUSED static const char *agent_state(Env *env, const char *id)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
        g_auto(HdEtReply) r = agent_call(env, "GET", path, NULL);

        if (r.status == 404)
                return "down";
        g_assert_cmpuint(r.status, ==, 200);
        return json_object_get_boolean_member(hd_et_obj(&r), "active") ? "running" : "down";
}

G_GNUC_UNUSED static void assert_reason(const HdEtReply *r, guint status, const char *code, const char *needle)
{
        const char *message;

        hd_et_assert_error(r, status, code);
        message = json_object_get_string_member(
            json_object_get_object_member(hd_et_obj(r), "error"), "message");
        if (!strstr(message, needle))
                g_error("\"%s\" not in \"%s\"", needle, message);
}

static char *vm_create(Env *env, const char *name)
{
        g_autofree char *body = g_strdup_printf("{\"name\": \"%s\", \"memory_mib\": 2048, "
                                                "\"vcpus\": 2}",
                                                name);
        g_auto(HdEtReply) r = hd_et_call(env->engine->url, "POST", "/v1/vms", body, env->admin);
        g_autofree char *location = NULL;
        JsonObject *o;

        if (r.status != 201)
                g_error("create VM: %u %s", r.status, r.body);
        o = hd_et_obj(&r);
        location = g_strconcat("/v1/vms/", json_object_get_string_member(o, "id"), NULL);
        g_assert_cmpstr(r.location, ==, location);
        g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "down");
        g_assert_true(json_object_get_null_member(o, "host_id"));
        g_assert_cmpint(json_object_get_int_member(o, "memory_mib"), ==, 2048);
        return g_strdup(json_object_get_string_member(o, "id"));
}

static HdEtReply vm_add(Env *env, const char *id, const char *host, const char *addr)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, "/devices", NULL);
        g_autofree char *body =
            g_strdup_printf("{\"host_id\": \"%s\", \"addresses\": [\"%s\"]}", host, addr);
        return hd_et_call(env->engine->url, "POST", path, body, env->admin);
}

static HdEtReply vm_do(Env *env, const char *method, const char *id, const char *suffix)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, suffix, NULL);
        return hd_et_call(env->engine->url, method, path, NULL, env->admin);
}

/* The role of @addr in a VM document (NULL: not a row). */
static const char *role_of(JsonObject *vm, const char *addr)
{
        JsonArray *a = json_object_get_array_member(vm, "devices");

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *d = json_array_get_object_element(a, i);
                if (strcmp(json_object_get_string_member(d, "address"), addr) == 0)
                        return json_object_get_string_member(d, "role");
        }
        return NULL;
}

static char *vm_state(Env *env, const char *id)
{
        g_auto(HdEtReply) r = vm_do(env, "GET", id, "");

        g_assert_cmpuint(r.status, ==, 200);
        return g_strdup(json_object_get_string_member(hd_et_obj(&r), "state"));
}

static void wait_vm_state(Env *env, const char *id, const char *state)
{
        for (guint i = 0; i < 1200; i++) {
                g_autofree char *now = vm_state(env, id);
                if (strcmp(now, state) == 0)
                        return;
                g_usleep(50000);
        }
        g_error("VM %s never became %s", id, state);
}

static void wait_driver(Env *env, const char *addr, const char *driver)
{
        for (guint i = 0; i < 1200; i++) {
                g_autofree char *now = agent_driver(env, addr);
                if (g_strcmp0(now, driver) == 0)
                        return;
                g_usleep(50000);
        }
        g_error("%s never on %s", addr, driver);
}

/* ---- the seed's VM workflow ---- */

static void test_workflow(void)
{
        Env env = {0};
        g_autofree char *id = NULL;
        g_autofree char *gpu_driver = NULL;
        g_autofree char *audio_driver = NULL;

        env_setup(&env);
        gpu_driver = agent_driver(&env, GPU);
        audio_driver = agent_driver(&env, AUDIO);
        g_assert_cmpstr(gpu_driver, ==, "nouveau");
        g_assert_cmpstr(audio_driver, ==, "snd_hda_intel");
        id = vm_create(&env, "win10");
        {
                /* the GPU: requested; its HDMI audio: a placeholder; the root port: never */
                g_auto(HdEtReply) r = vm_add(&env, id, env.host, GPU);
                JsonObject *o;
                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(role_of(o, GPU), ==, "requested");
                g_assert_cmpstr(role_of(o, AUDIO), ==, "placeholder");
                g_assert_null(role_of(o, "0000:00:01.0"));
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.host);
                g_assert_cmpstr(json_object_get_string_member(o, "host_name"), ==, "h1");
                g_assert_true(json_object_get_null_member(o, "hardware_changed"));
                g_assert_true(json_object_get_boolean_member(
                    json_array_get_object_element(json_object_get_array_member(o, "devices"), 0),
                    "present"));
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(env.engine->url, "GET", "/v1/vms?state=down", NULL, env.viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 1);
        }
        /* start: answered once the agent started it; both functions on vfio-pci there */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", id, "/start");
                if (r.status != 200)
                        g_error("start: %u %s", r.status, r.body);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==,
                                "running");
        }
        {
                g_autofree char *g = agent_driver(&env, GPU);
                g_autofree char *a = agent_driver(&env, AUDIO);
                g_assert_cmpstr(g, ==, "vfio-pci");
                g_assert_cmpstr(a, ==, "vfio-pci");
        }
        {
                /* the agent got the requested device only: the placeholder never reaches it */
                g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
                g_auto(HdEtReply) r = agent_call(&env, "GET", path, NULL);
                JsonArray *hostdevs;
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&r), "active"));
                hostdevs = json_object_get_array_member(hd_et_obj(&r), "hostdevs");
                g_assert_cmpuint(json_array_get_length(hostdevs), ==, 1);
                g_assert_cmpstr(json_array_get_string_element(hostdevs, 0), ==, GPU);
        }
        {
                /* the engine's inventory follows (read again after the start) */
                g_autofree char *d = NULL;
                for (guint i = 0; i < 1200; i++) {
                        g_free(d);
                        d = hd_et_engine_driver(env.engine->url, env.viewer, env.host, AUDIO);
                        if (g_strcmp0(d, "vfio-pci") == 0)
                                break;
                        g_usleep(50000);
                }
                g_assert_cmpstr(d, ==, "vfio-pci");
        }
        /* stop: both back on their host drivers */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", id, "/stop");
                if (r.status != 200)
                        g_error("stop: %u %s", r.status, r.body);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
        }
        {
                g_autofree char *g = agent_driver(&env, GPU);
                g_autofree char *a = agent_driver(&env, AUDIO);
                g_assert_cmpstr(g, ==, "nouveau");
                g_assert_cmpstr(a, ==, "snd_hda_intel");
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.start", "ok"));
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.stop", "ok"));
        /* a second start (the agent's domain is defined again), then destroy */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", id, "/start");
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", id, "/destroy");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
        }
        wait_driver(&env, GPU, "nouveau");
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.destroy", "ok"));
        /* stopped outside the engine (on the agent): reconciled to down with the reason */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", id, "/start");
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_autofree char *path = g_strconcat("/v1/vms/", id, "/destroy", NULL);
                g_auto(HdEtReply) r = agent_call(&env, "POST", path, NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        wait_vm_state(&env, id, "down");
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", id, "");
                g_assert_nonnull(strstr(json_object_get_string_member(hd_et_obj(&r), "last_error"),
                                        "stopped outside the engine"));
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.reconcile", "ok"));
        wait_driver(&env, GPU, "nouveau");
        /* deleted: gone from the engine and (best effort, asynchronously) from the agent */
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", id, "");
                g_assert_cmpuint(r.status, ==, 204);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", id, "");
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
                guint status = 0;
                for (guint i = 0; i < 1200 && status != 404; i++) {
                        g_auto(HdEtReply) r = agent_call(&env, "GET", path, NULL);
                        status = r.status;
                        if (status != 404)
                                g_usleep(50000);
                }
                g_assert_cmpuint(status, ==, 404);
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.remove", "ok"));
        env_teardown(&env);
}

int main(int argc, char **argv)
{
        int rc;

        g_test_init(&argc, &argv, NULL);
        signal(SIGPIPE, SIG_IGN);
        hd_et_session = soup_session_new_with_options("timeout", 60, NULL);
        g_test_add_func("/engine-vms/workflow", test_workflow);
        rc = g_test_run();
        g_object_unref(hd_et_session);
        return rc;
}
