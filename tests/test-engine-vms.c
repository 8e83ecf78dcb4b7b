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
#include "http-testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

typedef HdEtEnv Env;

/* The driver of @addr as the agent reports it. */
static char *agent_driver(Env *env, const char *addr)
{
        g_auto(HdEtReply) r = hd_et_env_agent_call(env, "GET", "/v1/devices", NULL);

        return hd_et_driver_in(hd_et_obj(&r), addr);
}

/* "running" / "down" as the agent has the domain of VM @id (absent: down). */
static const char *agent_state(Env *env, const char *id)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
        g_auto(HdEtReply) r = hd_et_env_agent_call(env, "GET", path, NULL);

        if (r.status == 404)
                return "down";
        g_assert_cmpuint(r.status, ==, 200);
        return json_object_get_boolean_member(hd_et_obj(&r), "active") ? "running" : "down";
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

/* The agent has no domain for VM @id (any more). */
static void wait_agent_gone(Env *env, const char *id)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
        guint status = 0;

        for (guint i = 0; i < 1200 && status != 404; i++) {
                g_auto(HdEtReply) r = hd_et_env_agent_call(env, "GET", path, NULL);
                status = r.status;
                if (status != 404)
                        g_usleep(50000);
        }
        g_assert_cmpuint(status, ==, 404);
}

/* ---- the seed's VM workflow ---- */

static void test_workflow(void)
{
        Env env = {0};
        g_autofree char *id = NULL;
        g_autofree char *gpu_driver = NULL;
        g_autofree char *audio_driver = NULL;

        hd_et_env_setup(&env, "desktop", "h1");
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
                g_auto(HdEtReply) r = hd_et_env_agent_call(&env, "GET", path, NULL);
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
                g_auto(HdEtReply) r = hd_et_env_agent_call(&env, "POST", path, NULL);
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
        /* its last device removed: unpinned, and its definition goes from the agent */
        {
                g_autofree char *p = g_strconcat("/v1/vms/", id, "/devices/" GPU, NULL);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "DELETE", p, NULL, env.admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_null_member(hd_et_obj(&r), "host_id"));
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "devices")),
                    ==, 0);
        }
        wait_agent_gone(&env, id);
        {
                g_auto(HdEtReply) r = vm_add(&env, id, env.host, GPU);
                g_auto(HdEtReply) r1 = vm_do(&env, "POST", id, "/start");
                g_auto(HdEtReply) r2 = vm_do(&env, "POST", id, "/stop");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(r1.status, ==, 200);
                g_assert_cmpuint(r2.status, ==, 200);
        }
        /* deleted: gone from the engine and (best effort, asynchronously) from the agent */
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", id, "");
                g_assert_cmpuint(r.status, ==, 204);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", id, "");
                hd_et_assert_error(&r, 404, "not-found");
        }
        wait_agent_gone(&env, id);
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.remove", "ok"));
        hd_et_env_teardown(&env);
}

/* ---- every refusal ---- */

static void test_refusals(void)
{
        Env env = {0};
        g_autoptr(HdTestFixture) fx2 = hd_test_fixture_new("no-vfio");
        g_autoptr(HdTestFixture) fx3 = hd_test_fixture_new("desktop");
        HdEtProc *a2 = NULL, *a3 = NULL;
        g_autofree char *t2 = hd_et_agent_token(fx2);
        g_autofree char *t3 = NULL;
        g_autofree char *h2 = NULL, *h3 = NULL;
        g_autofree char *a = NULL, *b = NULL, *c = NULL, *bare = NULL;
        const char *e;

        hd_et_env_setup(&env, "desktop", "h1");
        e = env.engine->url;
        a2 = hd_et_agent_start(fx2, "127.0.0.1:0");
        g_free(t2);
        t2 = hd_et_agent_token(fx2);
        /* an agent whose unbind of the GPU fails (the sim backend's fault injection) */
        g_setenv("HOSTDEV_SIM_FAIL", "unbind@" GPU "=EBUSY", TRUE);
        a3 = hd_et_agent_start(fx3, "127.0.0.1:0");
        g_unsetenv("HOSTDEV_SIM_FAIL");
        t3 = hd_et_agent_token(fx3);
        h2 = hd_et_add_host(e, env.admin, "h2", a2->url, t2);
        h3 = hd_et_add_host(e, env.admin, "h3", a3->url, t3);
        hd_et_await_status(e, env.viewer, h2, "up");
        hd_et_await_status(e, env.viewer, h3, "up");
        a = vm_create(&env, "a");
        b = vm_create(&env, "b");
        c = vm_create(&env, "c");
        bare = vm_create(&env, "bare");

        /* adding devices */
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, "0000:00:01.0");
                hd_et_assert_reason(&r, 409, "refused", "0000:00:01.0 on host h1 is a bridge");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, "0000:00:00.0");
                hd_et_assert_reason(&r, 409, "refused", "is a host bridge");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, "0000:00:02.0");
                hd_et_assert_reason(&r, 409, "refused", "cannot be given to VM a: boot GPU");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, "0000:02:00.0");
                hd_et_assert_reason(&r, 409, "refused", "the host uses it");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, "0000:0a:00.0");
                hd_et_assert_reason(&r, 409, "refused", "host h1 does not list 0000:0a:00.0");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, "no-such-host", GPU);
                hd_et_assert_reason(&r, 404, "not-found", "no host no-such-host");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, "no-such-vm", env.host, GPU);
                hd_et_assert_reason(&r, 404, "not-found", "no vm no-such-vm");
        }
        g_assert_true(hd_et_has_event(e, env.viewer, "vm.devices.add", "refused"));
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, GPU);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, h2, GPU);
                hd_et_assert_reason(&r, 409, "refused", "VM a is pinned to host h1");
        }
        {
                g_autofree char *p = g_strconcat("/v1/vms/", a, "/devices/" AUDIO, NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", p, NULL, env.admin);
                hd_et_assert_reason(&r, 409, "refused", AUDIO " is a placeholder of VM a");
        }
        {
                g_autofree char *p = g_strconcat("/v1/vms/", a, "/devices/0000:00:14.0", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", p, NULL, env.admin);
                hd_et_assert_reason(&r, 404, "not-found", "VM a has no host device 0000:00:14.0");
        }
        {
                g_autofree char *p = g_strconcat("/v1/hosts/", env.host, NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", p, NULL, env.admin);
                hd_et_assert_reason(&r, 409, "refused", "VMs have host devices on this host: a");
        }
        /* starting */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", bare, "/start");
                hd_et_assert_reason(&r, 409, "refused", "VM bare has no host devices");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, c, h2, GPU);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", c, "/start");
                hd_et_assert_reason(&r, 409, "refused", "host h2 has device passthrough disabled");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/stop");
                hd_et_assert_reason(&r, 409, "refused",
                                    "VM a is down: only a running VM can be stopped");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/destroy");
                hd_et_assert_reason(&r, 409, "refused", "only a running VM can be destroyed");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/start");
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/start");
                hd_et_assert_reason(&r, 409, "refused", "VM a is running already");
        }
        {
                /* b may get the GPU while a runs (down VMs do not conflict)... */
                g_auto(HdEtReply) r = vm_add(&env, b, env.host, GPU);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                /* ...but not start with it */
                g_auto(HdEtReply) r = vm_do(&env, "POST", b, "/start");
                hd_et_assert_reason(&r, 409, "refused",
                                    GPU
                                    " (IOMMU group 1) is used by VM a on host h1 (running); stop a "
                                    "first");
        }
        {
                /* the audio placeholder reserves the group too */
                g_autofree char *p = g_strconcat("/v1/vms/", b, "/devices/" GPU, NULL);
                g_auto(HdEtReply) r1 = vm_add(&env, b, env.host, AUDIO);
                g_auto(HdEtReply) r2 = hd_et_call(e, "DELETE", p, NULL, env.admin);
                g_auto(HdEtReply) r3 = vm_do(&env, "POST", b, "/start");
                g_assert_cmpuint(r1.status, ==, 200);
                g_assert_cmpuint(r2.status, ==, 200);
                g_assert_cmpstr(role_of(hd_et_obj(&r2), GPU), ==, "placeholder");
                g_assert_cmpstr(role_of(hd_et_obj(&r2), AUDIO), ==, "requested");
                hd_et_assert_reason(&r3, 409, "refused", "is used by VM a on host h1");
        }
        {
                g_auto(HdEtReply) r = vm_add(&env, a, env.host, "0000:00:14.0");
                hd_et_assert_reason(&r, 409, "refused",
                                    "VM a is running: its host devices change only "
                                    "while it is down");
        }
        {
                g_autofree char *p = g_strconcat("/v1/vms/", a, "/devices/" GPU, NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", p, NULL, env.admin);
                hd_et_assert_reason(&r, 409, "refused", "change only while it is down");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", a, "");
                hd_et_assert_reason(&r, 409, "refused", "VM a is running; stop it");
        }
        g_assert_true(hd_et_has_event(e, env.viewer, "vm.start", "refused"));
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/stop");
                g_assert_cmpuint(r.status, ==, 200);
        }
        /* the agent fails the start: 502 agent-failed with its message; the VM is down with
         * last_error, nothing stays reserved */
        {
                g_auto(HdEtReply) r0 = vm_add(&env, bare, h3, GPU);
                g_auto(HdEtReply) r = vm_do(&env, "POST", bare, "/start");
                g_auto(HdEtReply) g = {0};
                g_assert_cmpuint(r0.status, ==, 200);
                hd_et_assert_reason(&r, 502, "agent-failed",
                                    "the agent of host h3 could not start it");
                g = vm_do(&env, "GET", bare, "");
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&g), "state"), ==, "down");
                g_assert_nonnull(json_object_get_string_member(hd_et_obj(&g), "last_error"));
        }
        {
                /* the agent rolled back: the GPU is still on its host driver */
                g_autofree char *d = hd_et_engine_driver(e, env.viewer, h3, GPU);
                g_assert_cmpstr(d, ==, "nouveau");
        }
        g_assert_true(hd_et_has_event(e, env.viewer, "vm.start", "failed"));
        /* its host stops answering: non_responsive refuses the start */
        hd_et_proc_stop(a3, SIGKILL);
        hd_et_await_status(e, env.viewer, h3, "non_responsive");
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", bare, "/start");
                hd_et_assert_reason(&r, 409, "refused", "its host h3 does not answer");
        }
        /* hardware changed: the audio function vanishes from h1 while a has it configured */
        {
                g_autofree char *link =
                    g_build_filename(env.fx->root, "sys/bus/pci/devices", AUDIO, NULL);
                g_autofree char *target = g_file_read_link(link, NULL);
                g_autofree char *hw = NULL;
                g_assert_nonnull(target);
                g_assert_cmpint(g_unlink(link), ==, 0);
                for (guint i = 0; i < 1200 && !hw; i++) {
                        g_auto(HdEtReply) r = vm_do(&env, "GET", a, "");
                        JsonObject *o = hd_et_obj(&r);
                        if (!json_object_get_null_member(o, "hardware_changed"))
                                hw = g_strdup(json_object_get_string_member(o, "hardware_changed"));
                        else
                                g_usleep(50000);
                }
                g_assert_nonnull(hw);
                g_assert_nonnull(strstr(hw, AUDIO " is no longer on host h1"));
                g_assert_true(hd_et_has_event(e, env.viewer, "vm.hardware_changed", "failed"));
                {
                        g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/start");
                        hd_et_assert_reason(&r, 409, "refused", "hardware changed on host h1");
                }
                /* it comes back: the mark stays until the admin acts */
                g_assert_cmpint(symlink(target, link), ==, 0);
                for (guint i = 0; i < 1200; i++) {
                        g_autofree char *d = hd_et_engine_driver(e, env.viewer, env.host, AUDIO);
                        if (d)
                                break;
                        g_usleep(50000);
                }
                {
                        g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/start");
                        hd_et_assert_reason(&r, 409, "refused", "hardware changed");
                }
                /* re-adding the device clears it */
                {
                        g_auto(HdEtReply) r = vm_add(&env, a, env.host, GPU);
                        g_assert_cmpuint(r.status, ==, 200);
                        g_assert_true(
                            json_object_get_null_member(hd_et_obj(&r), "hardware_changed"));
                }
        }
        hd_et_proc_stop(a2, SIGTERM);
        hd_et_env_teardown(&env);
}

/* ---- two VMs sharing one GPU started at the same moment, 50 rounds ---- */

typedef struct {
        SoupMessage *msg;
        GBytes *body;
        gboolean done;
} Async;

static void on_async(GObject *src, GAsyncResult *res, gpointer data)
{
        Async *a = data;

        /* an error (the engine killed under it) leaves body NULL */
        a->body = soup_session_send_and_read_finish(SOUP_SESSION(src), res, NULL);
        a->done = TRUE;
}

static void async_send(SoupSession *session, Env *env, Async *a, const char *path)
{
        g_autofree char *uri = g_strconcat(env->engine->url, path, NULL);
        g_autofree char *auth = g_strconcat("Bearer ", env->admin, NULL);

        memset(a, 0, sizeof(*a));
        a->msg = soup_message_new("POST", uri);
        soup_message_headers_replace(soup_message_get_request_headers(a->msg), "Authorization",
                                     auth);
        soup_session_send_and_read_async(session, a->msg, G_PRIORITY_DEFAULT, NULL, on_async, a);
}

/* The answer's body as a string (GBytes need not end in a NUL). */
static char *async_text(const Async *a)
{
        return g_strndup(g_bytes_get_data(a->body, NULL), g_bytes_get_size(a->body));
}

static void async_record(const Async *a, const char *path)
{
        g_autofree char *text = async_text(a);

        hd_et_record_answer("POST", path, soup_message_get_status(a->msg), "application/json",
                            text);
}

static void async_clear(Async *a)
{
        g_clear_object(&a->msg);
        g_clear_pointer(&a->body, g_bytes_unref);
}

static void test_concurrent_starts(void)
{
        Env env = {0};
        g_autofree char *a = NULL, *b = NULL;
        g_autoptr(SoupSession) session =
            soup_session_new_with_options("timeout", 60, "max-conns-per-host", 4, NULL);
        guint wins_a = 0, wins_b = 0;

        hd_et_env_setup(&env, "desktop", "h1");
        a = vm_create(&env, "a");
        b = vm_create(&env, "b");
        {
                g_auto(HdEtReply) ra = vm_add(&env, a, env.host, GPU);
                g_auto(HdEtReply) rb = vm_add(&env, b, env.host, GPU);
                g_assert_cmpuint(ra.status, ==, 200);
                g_assert_cmpuint(rb.status, ==, 200);
        }
        for (guint round = 0; round < 50; round++) {
                g_autofree char *pa = g_strconcat("/v1/vms/", a, "/start", NULL);
                g_autofree char *pb = g_strconcat("/v1/vms/", b, "/start", NULL);
                Async xa, xb;
                const char *winner;
                guint sa, sb;

                async_send(session, &env, &xa, pa);
                async_send(session, &env, &xb, pb);
                while (!xa.done || !xb.done)
                        g_main_context_iteration(NULL, TRUE);
                g_assert_nonnull(xa.body);
                g_assert_nonnull(xb.body);
                sa = soup_message_get_status(xa.msg);
                sb = soup_message_get_status(xb.msg);
                async_record(&xa, pa);
                async_record(&xb, pb);
                /* exactly one runs; the other was refused naming it */
                if (!((sa == 200 && sb == 409) || (sa == 409 && sb == 200)))
                        g_error("round %u: %u and %u", round, sa, sb);
                {
                        g_autofree char *text = async_text(sa == 409 ? &xa : &xb);
                        g_assert_nonnull(strstr(text, "is used by VM"));
                }
                winner = sa == 200 ? a : b;
                wins_a += sa == 200;
                wins_b += sb == 200;
                g_assert_cmpstr(agent_state(&env, winner), ==, "running");
                g_assert_cmpstr(agent_state(&env, winner == a ? b : a), ==, "down");
                {
                        g_autofree char *loser = vm_state(&env, winner == a ? b : a);
                        g_assert_cmpstr(loser, ==, "down");
                }
                {
                        g_auto(HdEtReply) r = vm_do(&env, "POST", winner, "/stop");
                        g_assert_cmpuint(r.status, ==, 200);
                }
                async_clear(&xa);
                async_clear(&xb);
        }
        g_test_message("a won %u rounds, b %u", wins_a, wins_b);
        g_assert_cmpuint(wins_a + wins_b, ==, 50);
        wait_driver(&env, GPU, "nouveau");
        {
                /* VMs of different groups start side by side */
                g_autofree char *c = vm_create(&env, "c");
                g_autofree char *pa = g_strconcat("/v1/vms/", a, "/start", NULL);
                g_autofree char *pc = g_strconcat("/v1/vms/", c, "/start", NULL);
                g_auto(HdEtReply) r = vm_add(&env, c, env.host, "0000:00:14.0");
                Async xa, xc;

                g_assert_cmpuint(r.status, ==, 200);
                async_send(session, &env, &xa, pa);
                async_send(session, &env, &xc, pc);
                while (!xa.done || !xc.done)
                        g_main_context_iteration(NULL, TRUE);
                g_assert_cmpuint(soup_message_get_status(xa.msg), ==, 200);
                g_assert_cmpuint(soup_message_get_status(xc.msg), ==, 200);
                async_record(&xa, pa);
                async_record(&xc, pc);
                g_assert_cmpstr(agent_state(&env, a), ==, "running");
                g_assert_cmpstr(agent_state(&env, c), ==, "running");
                wait_driver(&env, "0000:00:14.0", "vfio-pci");
                async_clear(&xa);
                async_clear(&xc);
        }
        hd_et_env_teardown(&env);
}

/* ---- the engine killed (-9) during a start and during a stop; down during a stop ---- */

/* Wait until the engine's state of @id is settled (down or running) and equals the agent's,
 * with the GPU on the driver that state implies; that state. */
static char *converge(Env *env, const char *id)
{
        for (guint i = 0; i < 1200; i++) {
                g_autofree char *es = vm_state(env, id);
                const char *as = agent_state(env, id);
                g_autofree char *driver = agent_driver(env, GPU);
                gboolean running = strcmp(es, "running") == 0;
                if ((running || strcmp(es, "down") == 0) && strcmp(es, as) == 0 &&
                    g_strcmp0(driver, running ? "vfio-pci" : "nouveau") == 0)
                        return g_steal_pointer(&es);
                g_usleep(50000);
        }
        g_error("VM %s: the engine never agreed with the agent", id);
}

/* At most one of @a, @b runs on the agent, and the engine refuses to start b while a runs. */
static void assert_single(Env *env, const char *a, const char *b, const char *a_state)
{
        g_auto(HdEtReply) l = hd_et_env_agent_call(env, "GET", "/v1/vms", NULL);
        JsonArray *vms = json_object_get_array_member(hd_et_obj(&l), "vms");
        guint active = 0;

        /* (libvirt's test driver has a domain "test" of its own) */
        for (guint i = 0; i < json_array_get_length(vms); i++) {
                JsonObject *v = json_array_get_object_element(vms, i);
                const char *name = json_object_get_string_member(v, "name");
                if (strcmp(name, a) == 0 || strcmp(name, b) == 0)
                        active += json_object_get_boolean_member(v, "active");
        }
        if (active > 1)
                g_error("two VMs run: %s", l.body);
        if (strcmp(a_state, "running") == 0) {
                g_auto(HdEtReply) r = vm_do(env, "POST", b, "/start");
                hd_et_assert_reason(&r, 409, "refused", "is used by VM a");
        }
}

static void kill_during(Env *env, const char *id, const char *action, const char *transient)
{
        g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 60, NULL);
        g_autofree char *path = g_strconcat("/v1/vms/", id, action, NULL);
        pid_t agent =
            (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(env->agent->proc), NULL, 10);
        gboolean seen = FALSE;
        Async x;

        /* the agent holds the call: the engine is caught between its reservation and the
         * agent's answer */
        g_assert_cmpint(kill(agent, SIGSTOP), ==, 0);
        async_send(session, env, &x, path);
        for (guint i = 0; i < 1200 && !seen; i++) {
                g_autofree char *st = NULL;
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                st = vm_state(env, id);
                seen = strcmp(st, transient) == 0;
                if (!seen)
                        g_usleep(20000);
        }
        g_assert_true(seen);
        g_assert_false(x.done);
        hd_et_proc_stop(env->engine, SIGKILL);
        while (!x.done)
                g_main_context_iteration(NULL, TRUE);
        async_clear(&x);
        g_assert_cmpint(kill(agent, SIGCONT), ==, 0);
        env->engine = hd_et_engine_start(env->dir);
}

static void test_kill_engine(void)
{
        Env env = {0};
        g_autofree char *a = NULL, *b = NULL;
        g_autofree char *st = NULL;

        hd_et_env_setup(&env, "desktop", "h1");
        a = vm_create(&env, "a");
        b = vm_create(&env, "b");
        {
                g_auto(HdEtReply) ra = vm_add(&env, a, env.host, GPU);
                g_auto(HdEtReply) rb = vm_add(&env, b, env.host, GPU);
                g_assert_cmpuint(ra.status, ==, 200);
                g_assert_cmpuint(rb.status, ==, 200);
        }
        /* during a start */
        kill_during(&env, a, "/start", "starting");
        st = converge(&env, a);
        g_test_message("after a kill during the start: %s", st);
        assert_single(&env, a, b, st);
        /* during a stop (of a running VM) */
        if (strcmp(st, "running") != 0) {
                g_auto(HdEtReply) r = vm_do(&env, "POST", a, "/start");
                g_assert_cmpuint(r.status, ==, 200);
        }
        kill_during(&env, a, "/stop", "stopping");
        g_free(st);
        st = converge(&env, a);
        g_test_message("after a kill during the stop: %s", st);
        assert_single(&env, a, b, st);
        if (strcmp(st, "down") == 0) {
                /* the GPU is free again: b gets it, a is refused */
                g_auto(HdEtReply) r = vm_do(&env, "POST", b, "/start");
                g_auto(HdEtReply) r2 = vm_do(&env, "POST", a, "/start");
                g_assert_cmpuint(r.status, ==, 200);
                hd_et_assert_reason(&r2, 409, "refused", "is used by VM b");
        }
        {
                /* the engine is down while the running VM stops on its host: its restart
                 * reconciles it down */
                const char *running = strcmp(st, "down") == 0 ? b : a;
                g_autofree char *path = g_strconcat("/v1/vms/", running, "/destroy", NULL);
                g_autofree char *now = NULL;
                hd_et_proc_stop(env.engine, SIGTERM);
                {
                        g_auto(HdEtReply) r = hd_et_env_agent_call(&env, "POST", path, NULL);
                        g_assert_cmpuint(r.status, ==, 200);
                }
                env.engine = hd_et_engine_start(env.dir);
                now = converge(&env, running);
                g_assert_cmpstr(now, ==, "down");
                {
                        g_auto(HdEtReply) r = vm_do(&env, "GET", running, "");
                        g_assert_nonnull(
                            strstr(json_object_get_string_member(hd_et_obj(&r), "last_error"),
                                   "stopped outside the engine"));
                }
        }
        hd_et_env_teardown(&env);
}

/* ---- bad input on every VM endpoint ---- */

/* A VM's answers carry its ETag; PATCH with If-Match edits only the VM as it was read: a
 * concurrent edit in between makes it 412 "changed", nothing written (the portal's Edit VM). */
static void test_if_match(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        HdEtProc *engine = hd_et_engine_start(dir);
        const char *e = engine->url;
        g_autofree char *id = NULL;
        g_autofree char *path = NULL;
        g_autofree char *etag = NULL;
        g_autofree char *etag2 = NULL;

        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", "{\"name\": \"m1\"}", admin);
                g_assert_cmpuint(r.status, ==, 201);
                id = g_strdup(json_object_get_string_member(hd_et_obj(&r), "id"));
                g_assert_nonnull(r.etag);
        }
        path = g_strconcat("/v1/vms/", id, NULL);
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", path, NULL, admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_nonnull(r.etag);
                g_assert_true(r.etag[0] == '"' && r.etag[strlen(r.etag) - 1] == '"');
                etag = g_strdup(r.etag);
        }
        {
                /* the same VM read again: the same ETag */
                g_auto(HdEtReply) r = hd_et_call(e, "GET", path, NULL, admin);
                g_assert_cmpstr(r.etag, ==, etag);
        }
        {
                /* as read: edited, with a new ETag that the answer and a GET agree on */
                g_auto(HdEtReply) r =
                    hd_et_call_if_match(e, "PATCH", path, "{\"memory_mib\": 2048}", admin, etag);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "memory_mib"), ==, 2048);
                g_assert_nonnull(r.etag);
                g_assert_cmpstr(r.etag, !=, etag);
                etag2 = g_strdup(r.etag);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", path, NULL, admin);
                g_assert_cmpstr(r.etag, ==, etag2);
        }
        {
                /* the ETag read before that edit: refused, nothing written */
                g_auto(HdEtReply) r =
                    hd_et_call_if_match(e, "PATCH", path, "{\"vcpus\": 4}", admin, etag);
                hd_et_assert_reason(&r, 412, "changed", "VM m1 was changed since it was read");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", path, NULL, admin);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "vcpus"), ==, 1);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "memory_mib"), ==, 2048);
        }
        g_assert_true(hd_et_has_event(e, admin, "vm.edit", "refused"));
        {
                /* a weak tag never matches (strong comparison); a list holding the ETag does */
                g_autofree char *weak = g_strconcat("W/", etag2, NULL);
                g_autofree char *list = g_strconcat("\"other\", ", etag2, NULL);
                g_auto(HdEtReply) r1 =
                    hd_et_call_if_match(e, "PATCH", path, "{\"vcpus\": 4}", admin, weak);
                g_auto(HdEtReply) r2 =
                    hd_et_call_if_match(e, "PATCH", path, "{\"vcpus\": 4}", admin, list);
                hd_et_assert_error(&r1, 412, "changed");
                g_assert_cmpuint(r2.status, ==, 200);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r2), "vcpus"), ==, 4);
        }
        {
                /* "*": any current VM; no If-Match: no condition (as before) */
                g_auto(HdEtReply) r1 =
                    hd_et_call_if_match(e, "PATCH", path, "{\"name\": \"m2\"}", admin, "*");
                g_auto(HdEtReply) r2 = hd_et_call(e, "PATCH", path, "{\"vcpus\": 2}", admin);
                g_assert_cmpuint(r1.status, ==, 200);
                g_assert_cmpuint(r2.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r2), "name"), ==, "m2");
        }
        {
                /* a VM that is gone: 404, not 412 */
                g_auto(HdEtReply) r =
                    hd_et_call_if_match(e, "PATCH", "/v1/vms/nope", "{\"vcpus\": 2}", admin, "*");
                hd_et_assert_error(&r, 404, "not-found");
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_rm_rf(dir);
}

static void test_bad_input(void)
{
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        HdEtProc *engine = hd_et_engine_start(dir);
        const char *e = engine->url;
        g_autoptr(GString) huge = g_string_new("{\"name\": \"");
        g_autofree char *id = NULL;
        g_autofree char *vm_path = NULL;
        g_autofree char *dev_path = NULL;
        g_autoptr(GString) many = g_string_new("{\"host_id\": \"h\", \"addresses\": [");
        static const char *const bad_vms[] = {
            "{\"name\": 5}",
            "{\"name\": null}",
            "{\"name\": \"x\", \"memory\": 1}",
            "{\"name\": \"x\", \"memory_mib\": \"1024\"}",
            "{\"name\": \"x\", \"memory_mib\": 1.5}",
            "{\"name\": \"x\", \"memory_mib\": 8}",
            "{\"name\": \"x\", \"memory_mib\": 99999999999}",
            "{\"name\": \"x\", \"vcpus\": 0}",
            "{\"name\": \"x\", \"vcpus\": true}",
            "{\"name\": \"x\", \"vcpus\": -1}",
            "{\"name\": \"../x\"}",
            "{\"name\": \"\"}",
            "{\"memory_mib\": 1024}",
            "{\"name\": \"x\", \"name\": \"y\"}",
            "[1]",
            "{\"name\": \"x\",}",
            "\xff\xfe",
        };
        static const char *const bad_devices[] = {
            "{}",
            "{\"host_id\": 1, \"addresses\": [\"0000:01:00.0\"]}",
            "{\"host_id\": \"h\"}",
            "{\"host_id\": \"h\", \"addresses\": \"0000:01:00.0\"}",
            "{\"host_id\": \"h\", \"addresses\": []}",
            "{\"host_id\": \"h\", \"addresses\": [5]}",
            "{\"host_id\": \"h\", \"addresses\": [null]}",
            "{\"host_id\": \"h\", \"addresses\": [\"0000:01:00\"]}",
            "{\"host_id\": \"h\", \"addresses\": [\"0000:01:20.0\"]}",
            "{\"host_id\": \"h\", \"addresses\": [\"0000:01:00.8\"]}",
            "{\"host_id\": \"h\", \"addresses\": [\"../../etc/x\"]}",
            "{\"host_id\": \"h\", \"addresses\": [\"0000:01:00.0\"], \"force\": true}",
        };

        id = NULL;
        for (guint i = 0; i < G_N_ELEMENTS(bad_vms); i++) {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", bad_vms[i], admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        while (huge->len < 70 * 1024)
                g_string_append(huge, "aaaaaaaaaaaaaaaa");
        g_string_append(huge, "\"}");
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", huge->str, admin);
                g_assert_cmpuint(r.status, ==, 413);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", "/v1/vms", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 0);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", "{\"name\": \"x\"}", viewer);
                hd_et_assert_error(&r, 403, "forbidden");
        }
        {
                /* defaults: 1024 MiB, 1 vCPU */
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", "{\"name\": \"x\"}", admin);
                g_assert_cmpuint(r.status, ==, 201);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "memory_mib"), ==, 1024);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "vcpus"), ==, 1);
                id = g_strdup(json_object_get_string_member(hd_et_obj(&r), "id"));
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", "{\"name\": \"x\"}", admin);
                hd_et_assert_error(&r, 409, "exists");
        }
        g_assert_true(hd_et_has_event(e, viewer, "vm.add", "refused"));
        vm_path = g_strconcat("/v1/vms/", id, NULL);
        dev_path = g_strconcat(vm_path, "/devices", NULL);
        /* PATCH */
        for (const char *const *b = (const char *[]){"{}", "{\"name\": 5}", "{\"vcpus\": \"2\"}",
                                                     "{\"x\": 1}", "{\"memory_mib\": null}", NULL};
             *b; b++) {
                g_auto(HdEtReply) r = hd_et_call(e, "PATCH", vm_path, *b, admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "PATCH", vm_path, huge->str, admin);
                g_assert_cmpuint(r.status, ==, 413);
        }
        /* unknown members: the shared check (src/http/body.c) names the known ones */
        {
                g_auto(HdEtReply) r = hd_et_call(e, "PATCH", vm_path, "{\"x\": 1}", admin);
                hd_et_assert_reason(&r, 400, "invalid-argument",
                                    "unknown member \"x\" in the request body; known: name, "
                                    "memory_mib, vcpus");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/hosts", "{\"bogus\": 1}", admin);
                hd_et_assert_reason(&r, 400, "invalid-argument",
                                    "unknown member \"bogus\" in the request body; known: name, "
                                    "agent_url, agent_token, tls_ca_file, tls_pinned_cert");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "PATCH", vm_path, "{\"name\": \"y\", \"vcpus\": 3}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "name"), ==, "y");
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "vcpus"), ==, 3);
        }
        /* devices */
        for (guint i = 0; i < G_N_ELEMENTS(bad_devices); i++) {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", dev_path, bad_devices[i], admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        for (guint i = 0; i < 65; i++)
                g_string_append_printf(many, "%s\"0000:01:00.0\"", i ? ", " : "");
        g_string_append(many, "]}");
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", dev_path, many->str, admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", dev_path, huge->str, admin);
                g_assert_cmpuint(r.status, ==, 413);
        }
        {
                g_autofree char *p = g_strconcat(dev_path, "/not-an-address", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", p, NULL, admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_autofree char *p = g_strconcat(dev_path, "/0000:01:00.0", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", p, "{\"x\": 1}", admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_autofree char *p = g_strconcat(dev_path, "/0000:01:00.0", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        /* actions */
        for (const char *const *a = (const char *[]){"/start", "/stop", "/destroy", NULL}; *a;
             a++) {
                g_autofree char *p = g_strconcat(vm_path, *a, NULL);
                g_autofree char *unknown = g_strconcat("/v1/vms/no-such-vm", *a, NULL);
                g_auto(HdEtReply) r1 = hd_et_call(e, "POST", p, "{\"now\": true}", admin);
                g_auto(HdEtReply) r2 = hd_et_call(e, "POST", p, "[", admin);
                g_auto(HdEtReply) r3 = hd_et_call(e, "GET", p, NULL, admin);
                g_auto(HdEtReply) r4 = hd_et_call(e, "POST", unknown, NULL, admin);
                g_auto(HdEtReply) r5 = hd_et_call(e, "POST", p, huge->str, admin);
                hd_et_assert_error(&r1, 400, "invalid-argument");
                hd_et_assert_error(&r2, 400, "invalid-argument");
                hd_et_assert_error(&r3, 405, "method-not-allowed");
                hd_et_assert_error(&r4, 404, "not-found");
                g_assert_cmpuint(r5.status, ==, 413);
        }
        /* unknown ids, endpoints, methods, query parameters */
        for (const char *const *p = (const char *[]){"/v1/vms/nope", "/v1/vms/nope/nope",
                                                     "/v1/vms/a/b/c/d", "/v1/vms/a/b/c/d/e", NULL};
             *p; p++) {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", *p, NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "PATCH", "/v1/vms/nope", "{\"vcpus\": 2}", admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", "/v1/vms/nope", NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "DELETE", "/v1/vms/nope/devices/0000:01:00.0", NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "PUT", "/v1/vms", "{}", admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", dev_path, NULL, admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        for (const char *const *p =
                 (const char *[]){"/v1/vms?limit=0", "/v1/vms?limit=x", "/v1/vms?state=up",
                                  "/v1/vms?offset=-1", "/v1/vms?nmae=x", NULL};
             *p; p++) {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", *p, NULL, admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_autofree char *p = g_strconcat(vm_path, "?x=1", NULL);
                g_auto(HdEtReply) r = hd_et_call(e, "GET", p, NULL, admin);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        /* filters and pagination */
        for (guint i = 0; i < 12; i++) {
                g_autofree char *b =
                    g_strdup_printf("{\"name\": \"%s%02u\"}", i < 5 ? "rack1-" : "rack2-", i);
                g_auto(HdEtReply) r = hd_et_call(e, "POST", "/v1/vms", b, admin);
                g_assert_cmpuint(r.status, ==, 201);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/vms?limit=5&offset=10", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 13);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "vms")), ==,
                    3);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/vms?name_prefix=rack1-&state=down", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 5);
        }
        {
                g_auto(HdEtReply) r =
                    hd_et_call(e, "GET", "/v1/vms?name_prefix=rack_", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 0);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", "/v1/vms?host_id=none", NULL, viewer);
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "total"), ==, 0);
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "DELETE", vm_path, NULL, admin);
                g_assert_cmpuint(r.status, ==, 204);
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_rm_rf(dir);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine-vms/workflow", test_workflow);
        g_test_add_func("/engine-vms/refusals", test_refusals);
        g_test_add_func("/engine-vms/concurrent-starts", test_concurrent_starts);
        g_test_add_func("/engine-vms/kill-engine", test_kill_engine);
        g_test_add_func("/engine-vms/bad-input", test_bad_input);
        g_test_add_func("/engine-vms/if-match", test_if_match);
        return hd_et_run();
}
