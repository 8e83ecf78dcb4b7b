/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's USB devices and SCSI LUNs against real hostdevd agents (engine-testlib.h:
 * sim backend; "usb-desk": a keyboard, a mouse, a hub with two FTDI adapters told apart by
 * serial, a HASP dongle, a SanDisk stick; "scsi-server": a virtio-scsi disk, a tape, a changer,
 * a LIO LUN, an LVM disk): the read-through of each host's list with its verdicts, a VM's
 * devices by stable identity (the pin, the numbers, the one-owner rule across VMs naming the
 * owner, shareable LUNs, the refusals with their codes), the events and the VM's ETag, and the
 * define that carries them to the agent (start, the agent's in-use and device-absent). The same
 * for vhost-scsi targets (scsi-server's LIO targets in configfs: one ready, one without a
 * nexus). Waits are bounded loops on the APIs; states are asserted, never durations.
 */
#include "config.h"

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "engine-testlib.h"
#include "http-testlib.h"

#define FTDI1 "0403:6001:A10K7XYZ"
#define TAPE "naa.50014380272a1b2c"
/* scsi-server's vhost targets: ready, and without a nexus */
#define VHOST "naa.5001405000000001"
#define VHOST_UNREADY "naa.5001405000000011"

typedef struct {
        HdTestFixture *usb_fx, *scsi_fx;
        HdEtProc *usb_agent, *scsi_agent;
        char *dir;
        char *admin;
        char *viewer;
        HdEtProc *engine;
        char *desk; /* the usb-desk host */
        char *srv;  /* the scsi-server host */
} Env;

static char *add_agent_host(Env *env, const char *topology, const char *name, HdTestFixture **fx,
                            HdEtProc **agent)
{
        g_autofree char *token = NULL;
        char *id;

        *fx = hd_test_fixture_new(topology);
        *agent = hd_et_agent_start(*fx, "127.0.0.1:0");
        token = hd_et_agent_token(*fx);
        id = hd_et_add_host(env->engine->url, env->admin, name, (*agent)->url, token);
        hd_et_await_status(env->engine->url, env->viewer, id, "up");
        return id;
}

static void env_setup(Env *env)
{
        env->dir = hd_test_make_tmp_dir();
        env->admin = hd_et_token_create(env->dir, "ops", "admin");
        env->viewer = hd_et_token_create(env->dir, "portal", "viewer");
        env->engine = hd_et_engine_start(env->dir);
        env->desk = add_agent_host(env, "usb-desk", "desk", &env->usb_fx, &env->usb_agent);
        env->srv = add_agent_host(env, "scsi-server", "srv", &env->scsi_fx, &env->scsi_agent);
}

static void env_teardown(Env *env)
{
        hd_et_proc_stop(env->engine, SIGTERM);
        if (env->usb_agent)
                hd_et_proc_stop(env->usb_agent, SIGTERM);
        hd_et_proc_stop(env->scsi_agent, SIGTERM);
        hd_et_rm_rf(env->dir);
        g_free(env->dir);
        g_free(env->admin);
        g_free(env->viewer);
        g_free(env->desk);
        g_free(env->srv);
        hd_test_fixture_free(env->usb_fx);
        hd_test_fixture_free(env->scsi_fx);
}

/* The object of @array whose @member is @value (NULL: none). */
static JsonObject *find_in(JsonObject *o, const char *array, const char *member, const char *value)
{
        JsonArray *a = json_object_get_array_member(o, array);

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *x = json_array_get_object_element(a, i);
                JsonNode *m = json_object_get_member(x, member);
                if (m && JSON_NODE_HOLDS_VALUE(m) && strcmp(json_node_get_string(m), value) == 0)
                        return x;
        }
        return NULL;
}

/* The errors of GET /v1/hosts/{id}/@what: 404 for an unknown host, 405 for another method, 400
 * for a parameter; then *@agent (the host's) is stopped: 502 agent-failed. */
static void read_through_errors(Env *env, const char *what, HdEtProc **agent)
{
        const char *host = *agent == env->usb_agent ? env->desk : env->srv;
        g_autofree char *path = g_strconcat("/v1/hosts/", host, "/", what, NULL);
        g_autofree char *unknown =
            g_strconcat("/v1/hosts/00000000-0000-4000-8000-000000000000/", what, NULL);
        g_autofree char *query = g_strconcat(path, "?wait=5", NULL);
        const char *e = env->engine->url;

        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", unknown, NULL, env->viewer);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "POST", path, "{}", env->admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", query, NULL, env->viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        hd_et_proc_stop(*agent, SIGTERM);
        *agent = NULL;
        {
                g_auto(HdEtReply) r = hd_et_call(e, "GET", path, NULL, env->viewer);
                hd_et_assert_reason(&r, 502, "agent-failed", "cannot be reached");
        }
}

/* GET /v1/hosts/{id}/usb and /scsi: the agent's answer with the host's id and the verdicts;
 * 404 for an unknown host, 405 for another method, 400 for a parameter, 502 agent-failed when
 * the agent is gone. */
static void test_read_through(void)
{
        Env env = {0};
        g_autofree char *usb = NULL;
        g_autofree char *scsi = NULL;

        env_setup(&env);
        usb = g_strconcat("/v1/hosts/", env.desk, "/usb", NULL);
        scsi = g_strconcat("/v1/hosts/", env.srv, "/scsi", NULL);
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", usb, NULL, env.viewer);
                JsonObject *o, *d;
                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.desk);
                g_assert_true(json_object_has_member(o, "generation"));
                d = find_in(o, "devices", "port_path", "1-3.1");
                g_assert_nonnull(d);
                g_assert_cmpstr(json_object_get_string_member(d, "serial"), ==, "A10K7XYZ");
                g_assert_cmpstr(json_object_get_string_member(d, "verdict"), ==, "ready");
                d = find_in(o, "devices", "port_path", "1-3");
                g_assert_cmpstr(json_object_get_string_member(d, "verdict"), ==, "hub");
                d = find_in(o, "devices", "port_path", "1-1");
                g_assert_cmpstr(json_object_get_string_member(d, "verdict"), ==, "only-keyboard");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", scsi, NULL, env.viewer);
                JsonObject *o, *l;
                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.srv);
                l = find_in(o, "luns", "wwid", TAPE);
                g_assert_nonnull(l);
                g_assert_cmpstr(json_object_get_string_member(l, "hctl"), ==, "0:0:1:0");
                g_assert_cmpstr(json_object_get_string_member(l, "verdict"), ==, "assignable");
        }
        {
                /* a host without SCSI: an empty list */
                g_autofree char *p = g_strconcat("/v1/hosts/", env.desk, "/scsi", NULL);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", p, NULL, env.viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "luns")), ==,
                    0);
        }
        read_through_errors(&env, "usb", &env.usb_agent);
        env_teardown(&env);
}

static char *vm_create(Env *env, const char *name)
{
        g_autofree char *body = g_strdup_printf("{\"name\": \"%s\"}", name);
        g_auto(HdEtReply) r = hd_et_call(env->engine->url, "POST", "/v1/vms", body, env->admin);
        JsonObject *o;

        if (r.status != 201)
                g_error("create VM: %u %s", r.status, r.body);
        o = hd_et_obj(&r);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "usb")), ==, 0);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "scsi")), ==, 0);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "vhost_scsi")), ==,
                         0);
        return g_strdup(json_object_get_string_member(o, "id"));
}

static HdEtReply vm_do(Env *env, const char *method, const char *id, const char *suffix,
                       const char *body)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, suffix, NULL);
        return hd_et_call(env->engine->url, method, path, body, env->admin);
}

/* @method /v1/vms/@id@suffix without a body: asserted to fail with @status, @code and, unless
 * NULL, @needle in the message. */
static void vm_fails(Env *env, const char *method, const char *id, const char *suffix, guint status,
                     const char *code, const char *needle)
{
        g_auto(HdEtReply) r = vm_do(env, method, id, suffix, NULL);

        if (needle)
                hd_et_assert_reason(&r, status, code, needle);
        else
                hd_et_assert_error(&r, status, code);
}

/* Start the VM @id: asserted 200 and running. */
static void vm_start_ok(Env *env, const char *id)
{
        g_auto(HdEtReply) r = vm_do(env, "POST", id, "/start", NULL);

        if (r.status != 200)
                g_error("start %s: %u %s", id, r.status, r.body);
        g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "running");
}

static HdEtReply add_usb(Env *env, const char *vm, const char *host, const char *spec,
                         const char *extra)
{
        g_autofree char *body = g_strdup_printf("{\"host_id\": \"%s\", \"spec\": \"%s\"%s}", host,
                                                spec, extra ? extra : "");
        return vm_do(env, "POST", vm, "/usb", body);
}

static HdEtReply add_scsi(Env *env, const char *vm, const char *host, const char *wwid,
                          const char *extra)
{
        g_autofree char *body = g_strdup_printf("{\"host_id\": \"%s\", \"wwid\": \"%s\"%s}", host,
                                                wwid, extra ? extra : "");
        return vm_do(env, "POST", vm, "/scsi", body);
}

static HdEtReply add_vhost(Env *env, const char *vm, const char *host, const char *wwpn)
{
        g_autofree char *body =
            g_strdup_printf("{\"host_id\": \"%s\", \"wwpn\": \"%s\"}", host, wwpn);
        return vm_do(env, "POST", vm, "/vhost-scsi", body);
}

/* The VM answer's vhost_scsi entry @i; asserted to have @n and @wwpn. */
static void assert_vhost_entry(const HdEtReply *r, guint i, gint64 n, const char *wwpn)
{
        JsonArray *a = json_object_get_array_member(hd_et_obj(r), "vhost_scsi");
        JsonObject *v;

        g_assert_cmpuint(r->status, ==, 200);
        g_assert_cmpuint(json_array_get_length(a), >, i);
        v = json_array_get_object_element(a, i);
        g_assert_cmpint(json_object_get_int_member(v, "n"), ==, n);
        g_assert_cmpstr(json_object_get_string_member(v, "wwpn"), ==, wwpn);
        g_assert_cmpuint(json_object_get_size(v), ==, 2);
}

/* GET /v1/hosts/{id}/vhost-scsi: the agent's GET /v1/vhost-scsi (configfs read now) with the
 * host's id; 404 for an unknown host, 502 agent-failed when the agent is gone. */
static void test_vhost_read_through(void)
{
        Env env = {0};
        g_autofree char *path = NULL;

        env_setup(&env);
        path = g_strconcat("/v1/hosts/", env.srv, "/vhost-scsi", NULL);
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", path, NULL, env.viewer);
                JsonObject *o, *t;
                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.srv);
                g_assert_true(json_object_has_member(o, "generation"));
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "targets")),
                                 ==, 2);
                t = find_in(o, "targets", "wwpn", VHOST);
                g_assert_nonnull(t);
                g_assert_true(json_object_get_boolean_member(t, "ready"));
                g_assert_cmpstr(json_object_get_string_member(t, "nexus"), ==,
                                "naa.5001405000000002");
                t = find_in(o, "targets", "wwpn", VHOST_UNREADY);
                g_assert_nonnull(t);
                g_assert_false(json_object_get_boolean_member(t, "ready"));
                g_assert_nonnull(strstr(json_object_get_string_member(t, "reason"), "nexus"));
        }
        {
                /* a host without configfs targets: an empty list */
                g_autofree char *p = g_strconcat("/v1/hosts/", env.desk, "/vhost-scsi", NULL);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "GET", p, NULL, env.viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "targets")),
                    ==, 0);
        }
        read_through_errors(&env, "vhost-scsi", &env.scsi_agent);
        env_teardown(&env);
}

/* A VM's vhost-scsi targets: by WWPN ("naa." and 16 hex digits, the library's check; "naa."
 * kept lower case, the digits as given), numbered, pinning the VM; one owner per target in any
 * case, naming the holder; at most HD_VM_VHOST_MAX (4, the agent's) per VM: 409 refused;
 * removal by number; the events. */
static void test_vhost_assign(void)
{
        Env env = {0};
        g_autofree char *a = NULL, *b = NULL, *c = NULL, *etag = NULL;

        env_setup(&env);
        a = vm_create(&env, "db");
        b = vm_create(&env, "web");
        c = vm_create(&env, "lab");
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", a, "", NULL);
                etag = g_strdup(r.etag);
        }
        {
                g_auto(HdEtReply) r = add_vhost(&env, a, env.srv, VHOST);
                assert_vhost_entry(&r, 0, 1, VHOST);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "host_id"), ==,
                                env.srv);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "host_name"), ==,
                                "srv");
                g_assert_nonnull(r.etag);
                g_assert_cmpstr(r.etag, !=, etag);
        }
        {
                /* GET shows it */
                g_auto(HdEtReply) r = vm_do(&env, "GET", a, "", NULL);
                assert_vhost_entry(&r, 0, 1, VHOST);
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.vhost-scsi.add", "ok"));
        {
                /* twice in one VM, in another case */
                g_auto(HdEtReply) r = add_vhost(&env, a, env.srv, "NAA.5001405000000001");
                hd_et_assert_error(&r, 409, "exists");
        }
        {
                /* one owner, whatever the case: the holder named */
                g_auto(HdEtReply) r1 = add_vhost(&env, b, env.srv, VHOST);
                g_auto(HdEtReply) r2 = add_vhost(&env, b, env.srv, "NAA.5001405000000001");
                g_autofree char *remove = g_strdup_printf(
                    "hostdev-engine vms remove-vhost-scsi %s 1 (DELETE /v1/vms/%s/vhost-scsi/1)",
                    a, a);
                hd_et_assert_reason(&r1, 409, "in-use", "VM db's");
                hd_et_assert_reason(&r2, 409, "in-use", "VM db's");
                /* the command that frees it, with the holder's entry number */
                hd_et_assert_reason(&r1, 409, "in-use", remove);
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.vhost-scsi.add", "refused"));
        {
                /* "naa." lower case, the digits as given (configfs compares them exactly) */
                g_auto(HdEtReply) r = add_vhost(&env, b, env.srv, "NAA.50014050000000AB");
                assert_vhost_entry(&r, 0, 1, "naa.50014050000000AB");
        }
        {
                /* ... and the same target in lower case is the same target */
                g_auto(HdEtReply) r = add_vhost(&env, c, env.srv, "naa.50014050000000ab");
                hd_et_assert_reason(&r, 409, "in-use", "VM web's");
        }
        /* the library's check of the WWPN, the members */
        {
                static const char *const bad[] = {"naa.50014050000000", "5001405000000001",
                                                  "naa.500140500000000g", "eui.5001405000000001",
                                                  "naa.50014050000000011"};
                for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                        g_auto(HdEtReply) r = add_vhost(&env, c, env.srv, bad[i]);
                        hd_et_assert_reason(&r, 400, "invalid-argument", "not a vhost target WWPN");
                }
        }
        {
                g_auto(HdEtReply) r =
                    vm_do(&env, "POST", c, "/vhost-scsi", "{\"wwpn\": \"" VHOST "\"}");
                hd_et_assert_reason(&r, 400, "invalid-argument", "host_id");
        }
        {
                g_autofree char *body = g_strdup_printf(
                    "{\"host_id\": \"%s\", \"wwpn\": \"naa.5001405000000003\", \"force\": true}",
                    env.srv);
                g_auto(HdEtReply) r = vm_do(&env, "POST", c, "/vhost-scsi", body);
                hd_et_assert_reason(&r, 400, "invalid-argument", "force");
        }
        {
                g_autofree char *body =
                    g_strdup_printf("{\"host_id\": \"%s\", \"wwpn\": null}", env.srv);
                g_auto(HdEtReply) r = vm_do(&env, "POST", c, "/vhost-scsi", body);
                hd_et_assert_reason(&r, 400, "invalid-argument", "not null");
        }
        {
                g_auto(HdEtReply) r = add_vhost(&env, c, "00000000-0000-4000-8000-000000000000",
                                                "naa.5001405000000003");
                hd_et_assert_error(&r, 404, "not-found");
        }
        /* pinned: lab's USB device is on desk */
        {
                g_auto(HdEtReply) r1 = add_usb(&env, c, env.desk, FTDI1, NULL);
                g_auto(HdEtReply) r2 = add_vhost(&env, c, env.srv, "naa.5001405000000003");
                g_assert_cmpuint(r1.status, ==, 200);
                hd_et_assert_reason(&r2, 409, "refused", "pinned to host desk");
        }
        /* at most 4 per VM: 409 refused (the agent's define takes 4) */
        for (guint i = 2; i <= 4; i++) {
                g_autofree char *w = g_strdup_printf("naa.500140500000010%u", i);
                g_auto(HdEtReply) r = add_vhost(&env, a, env.srv, w);
                assert_vhost_entry(&r, i - 1, i, w);
        }
        {
                g_auto(HdEtReply) r = add_vhost(&env, a, env.srv, "naa.5001405000000105");
                hd_et_assert_reason(&r, 409, "refused", "has 4 vhost-scsi targets already");
        }
        /* removal by number */
        vm_fails(&env, "DELETE", a, "/vhost-scsi/9", 404, "not-found", "no vhost-scsi target 9");
        vm_fails(&env, "DELETE", a, "/vhost-scsi/x1", 400, "invalid-argument",
                 "vhost-scsi targets");
        vm_fails(&env, "POST", a, "/vhost-scsi/1", 405, "method-not-allowed", NULL);
        vm_fails(&env, "GET", a, "/vhost-scsi", 405, "method-not-allowed", NULL);
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", a, "/vhost-scsi/1", NULL);
                JsonArray *v;
                /* the others keep their numbers */
                assert_vhost_entry(&r, 0, 2, "naa.5001405000000102");
                v = json_object_get_array_member(hd_et_obj(&r), "vhost_scsi");
                g_assert_cmpuint(json_array_get_length(v), ==, 3);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "host_id"), ==,
                                env.srv);
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.vhost-scsi.remove", "ok"));
        {
                /* the target is free now; a new entry takes the next number */
                g_auto(HdEtReply) r1 = add_vhost(&env, b, env.srv, VHOST);
                g_auto(HdEtReply) r2 = add_vhost(&env, a, env.srv, "naa.5001405000000105");
                assert_vhost_entry(&r1, 1, 2, VHOST);
                assert_vhost_entry(&r2, 3, 5, "naa.5001405000000105");
        }
        for (guint n = 2; n <= 5; n++) {
                g_autofree char *p = g_strdup_printf("/vhost-scsi/%u", n);
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", a, p, NULL);
                g_assert_cmpuint(r.status, ==, 200);
                if (n == 5) {
                        /* the pin goes with the last entry */
                        g_assert_true(json_object_get_null_member(hd_et_obj(&r), "host_id"));
                        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
                                             hd_et_obj(&r), "vhost_scsi")),
                                         ==, 0);
                }
        }
        env_teardown(&env);
}

/* Assign by identity: the canonical spec kept with its number, the pin, the ETag moving, the
 * one-owner rule naming the owner, shareable LUNs, every refusal with its status and code,
 * removal by number and the pin going with the last device. */
static void test_assign(void)
{
        Env env = {0};
        g_autofree char *a = NULL, *b = NULL, *etag = NULL;

        env_setup(&env);
        a = vm_create(&env, "lab");
        b = vm_create(&env, "build");
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", a, "", NULL);
                etag = g_strdup(r.etag);
        }
        {
                /* the serial's case is the device's; vendor:product in lower case */
                g_auto(HdEtReply) r = add_usb(&env, a, env.desk, "0403:6001:A10K7XYZ", NULL);
                JsonObject *o, *u;
                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.desk);
                g_assert_cmpstr(json_object_get_string_member(o, "host_name"), ==, "desk");
                u = json_array_get_object_element(json_object_get_array_member(o, "usb"), 0);
                g_assert_cmpint(json_object_get_int_member(u, "n"), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(u, "spec"), ==, FTDI1);
                g_assert_false(json_object_get_boolean_member(u, "force"));
                g_assert_nonnull(r.etag);
                g_assert_cmpstr(r.etag, !=, etag);
        }
        {
                g_auto(HdEtReply) r = add_usb(&env, a, env.desk, "0529:0001", ", \"force\": true");
                JsonObject *u;
                g_assert_cmpuint(r.status, ==, 200);
                u = json_array_get_object_element(
                    json_object_get_array_member(hd_et_obj(&r), "usb"), 1);
                g_assert_cmpint(json_object_get_int_member(u, "n"), ==, 2);
                g_assert_true(json_object_get_boolean_member(u, "force"));
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.usb.add", "ok"));
        /* the grammar is the library's: a device number, a bad vendor id, missing members */
        {
                g_auto(HdEtReply) r = add_usb(&env, b, env.desk, "1:4", NULL);
                hd_et_assert_reason(&r, 400, "invalid-argument", "\"spec\"");
        }
        {
                g_auto(HdEtReply) r = add_usb(&env, b, env.desk, "403:6001", NULL);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", b, "/usb", "{\"spec\": \"1-4\"}");
                hd_et_assert_reason(&r, 400, "invalid-argument", "host_id");
        }
        {
                g_autofree char *body = g_strdup_printf(
                    "{\"host_id\": \"%s\", \"spec\": \"1-4\", \"force\": 1}", env.desk);
                g_auto(HdEtReply) r = vm_do(&env, "POST", b, "/usb", body);
                hd_et_assert_reason(&r, 400, "invalid-argument", "force");
        }
        {
                g_auto(HdEtReply) r =
                    add_usb(&env, b, "00000000-0000-4000-8000-000000000000", "1-4", NULL);
                hd_et_assert_error(&r, 404, "not-found");
        }
        /* one owner: build is refused lab's adapter, naming lab */
        {
                g_auto(HdEtReply) r = add_usb(&env, b, env.desk, FTDI1, NULL);
                hd_et_assert_reason(&r, 409, "in-use", "VM lab's");
                hd_et_assert_reason(&r, 409, "in-use", "hostdev-engine vms remove-usb");
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.usb.add", "refused"));
        {
                /* twice in one VM */
                g_auto(HdEtReply) r = add_usb(&env, a, env.desk, FTDI1, NULL);
                hd_et_assert_error(&r, 409, "exists");
        }
        {
                /* the other adapter, by its port path */
                g_auto(HdEtReply) r = add_usb(&env, b, env.desk, "1-3.2", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        /* pinned: lab's devices are on desk */
        {
                g_auto(HdEtReply) r = add_scsi(&env, a, env.srv, TAPE, NULL);
                hd_et_assert_reason(&r, 409, "refused", "pinned to host desk");
        }
        /* LUNs: by WWID (scsi_id's 3HEX form is the same naa. WWID), never by H:C:T:L */
        {
                g_autofree char *c = vm_create(&env, "backup");
                g_autofree char *d = vm_create(&env, "restore");
                g_auto(HdEtReply) r1 =
                    add_scsi(&env, c, env.srv, "350014380272a1b2c", ", \"shareable\": true");
                g_auto(HdEtReply) r2 = add_scsi(&env, d, env.srv, TAPE, NULL);
                g_auto(HdEtReply) r3 =
                    add_scsi(&env, d, env.srv, TAPE, ", \"shareable\": true, \"readonly\": true");
                g_auto(HdEtReply) r4 = add_scsi(&env, d, env.srv, "0:0:2:0", NULL);
                g_auto(HdEtReply) r5 = add_scsi(&env, d, env.srv, "naa.5001", NULL);
                JsonObject *l;

                g_assert_cmpuint(r1.status, ==, 200);
                l = json_array_get_object_element(
                    json_object_get_array_member(hd_et_obj(&r1), "scsi"), 0);
                g_assert_cmpstr(json_object_get_string_member(l, "wwid"), ==, TAPE);
                g_assert_true(json_object_get_boolean_member(l, "shareable"));
                g_assert_false(json_object_get_boolean_member(l, "readonly"));
                hd_et_assert_reason(&r2, 409, "in-use", "VM backup's");
                g_assert_cmpuint(r3.status, ==, 200);
                l = json_array_get_object_element(
                    json_object_get_array_member(hd_et_obj(&r3), "scsi"), 0);
                g_assert_cmpint(json_object_get_int_member(l, "n"), ==, 1);
                g_assert_true(json_object_get_boolean_member(l, "readonly"));
                hd_et_assert_reason(&r4, 400, "invalid-argument", "changes at reboot");
                hd_et_assert_error(&r5, 400, "invalid-argument");
                {
                        g_auto(HdEtReply) r = vm_do(&env, "DELETE", d, "/scsi/1", NULL);
                        g_assert_cmpuint(r.status, ==, 200);
                        g_assert_true(json_object_get_null_member(hd_et_obj(&r), "host_id"));
                }
                g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.scsi.remove", "ok"));
        }
        /* removal by number */
        vm_fails(&env, "DELETE", a, "/usb/7", 404, "not-found", NULL);
        vm_fails(&env, "DELETE", a, "/usb/x1", 400, "invalid-argument", NULL);
        vm_fails(&env, "POST", a, "/usb/1", 405, "method-not-allowed", NULL);
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", a, "/usb/1", NULL);
                JsonArray *u;
                g_assert_cmpuint(r.status, ==, 200);
                u = json_object_get_array_member(hd_et_obj(&r), "usb");
                g_assert_cmpuint(json_array_get_length(u), ==, 1);
                /* the other keeps its number */
                g_assert_cmpint(
                    json_object_get_int_member(json_array_get_object_element(u, 0), "n"), ==, 2);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "host_id"), ==,
                                env.desk);
        }
        {
                /* the adapter is free now */
                g_auto(HdEtReply) r = add_usb(&env, b, env.desk, FTDI1, NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", a, "/usb/2", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_null_member(hd_et_obj(&r), "host_id"));
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.usb.remove", "ok"));
        env_teardown(&env);
}

/* A call on an agent (its own API: not recorded against the engine's document). */
static HdEtReply agent_call(HdEtProc *agent, HdTestFixture *fx, const char *method,
                            const char *path)
{
        g_autofree char *token = hd_et_agent_token(fx);

        return hd_et_agent_call(agent->url, token, method, path, NULL);
}

/* The first entry of the agent's VM @id's @member ("usb", "scsi"); asserted 200. */
static JsonObject *agent_vm_entry(HdEtReply *r, HdEtProc *agent, HdTestFixture *fx, const char *id,
                                  const char *member)
{
        g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
        JsonArray *a;

        *r = agent_call(agent, fx, "GET", path);
        if (r->status != 200)
                g_error("agent GET %s: %u %s", path, r->status, r->body);
        a = json_object_get_array_member(hd_et_obj(r), member);
        g_assert_cmpuint(json_array_get_length(a), ==, 1);
        return json_array_get_object_element(a, 0);
}

/* The define carries the VM's USB devices and LUNs (the contract's "usb" and "scsi"), the agent
 * resolves them at start and the VM runs; the agent's one-owner refusal (a device the engine
 * cannot tell is the same: another spec of it) and an unplugged device are answered 409 in-use
 * and device-absent with the agent's message, the VM down with last_error; removing the last
 * device forgets the definition on the agent. */
static void test_start(void)
{
        Env env = {0};
        g_autofree char *lab = NULL, *thief = NULL, *ghost = NULL, *backup = NULL;

        env_setup(&env);
        lab = vm_create(&env, "lab");
        thief = vm_create(&env, "thief");
        ghost = vm_create(&env, "ghost");
        backup = vm_create(&env, "backup");
        {
                g_auto(HdEtReply) r = add_usb(&env, lab, env.desk, FTDI1, NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        vm_start_ok(&env, lab);
        {
                /* the agent got the spec and resolved it to the device plugged in now */
                g_auto(HdEtReply) r = {0};
                JsonObject *u = agent_vm_entry(&r, env.usb_agent, env.usb_fx, lab, "usb");
                g_assert_cmpstr(json_object_get_string_member(u, "spec"), ==, FTDI1);
                g_assert_false(json_object_get_boolean_member(u, "force"));
                g_assert_cmpint(json_object_get_int_member(u, "bus"), ==, 1);
                g_assert_false(json_object_get_null_member(u, "device"));
        }
        {
                /* changes refused while it runs */
                g_auto(HdEtReply) r1 = add_usb(&env, lab, env.desk, "1-4", NULL);
                g_auto(HdEtReply) r2 = vm_do(&env, "DELETE", lab, "/usb/1", NULL);
                hd_et_assert_reason(&r1, 409, "refused", "is running");
                hd_et_assert_reason(&r2, 409, "refused", "is running");
        }
        /* the same adapter by its port path: the engine cannot tell, the agent can */
        {
                g_auto(HdEtReply) r = add_usb(&env, thief, env.desk, "1-3.1", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", thief, "/start", NULL);
                hd_et_assert_reason(&r, 409, "in-use", "refused to start it");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", thief, "", NULL);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
                g_assert_nonnull(json_object_get_string_member(hd_et_obj(&r), "last_error"));
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.start", "refused"));
        /* not plugged in */
        {
                g_auto(HdEtReply) r = add_usb(&env, ghost, env.desk, "dead:beef", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", ghost, "/start", NULL);
                hd_et_assert_reason(&r, 409, "device-absent", "dead:beef");
        }
        /* a LUN by WWID, shareable and read-only, resolved to its H:C:T:L */
        {
                g_auto(HdEtReply) r = add_scsi(&env, backup, env.srv, TAPE,
                                               ", \"shareable\": true, \"readonly\": true");
                g_assert_cmpuint(r.status, ==, 200);
        }
        vm_start_ok(&env, backup);
        {
                g_auto(HdEtReply) r = {0};
                JsonObject *l = agent_vm_entry(&r, env.scsi_agent, env.scsi_fx, backup, "scsi");
                g_assert_cmpstr(json_object_get_string_member(l, "wwid"), ==, TAPE);
                g_assert_true(json_object_get_boolean_member(l, "shareable"));
                g_assert_cmpstr(json_object_get_string_member(l, "hctl"), ==, "0:0:1:0");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", backup, "/stop", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
        }
        /* stop, remove: the VM is unpinned and its definition on the agent goes */
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", lab, "/stop", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "DELETE", lab, "/usb/1", NULL);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_null_member(hd_et_obj(&r), "host_id"));
        }
        {
                g_autofree char *path = g_strconcat("/v1/vms/", lab, NULL);
                guint status = 0;
                for (guint i = 0; i < 300 && status != 404; i++) {
                        g_auto(HdEtReply) r = agent_call(env.usb_agent, env.usb_fx, "GET", path);
                        status = r.status;
                        if (status != 404)
                                g_usleep(100 * 1000);
                }
                g_assert_cmpuint(status, ==, 404);
        }
        /* the adapter is free on the agent too: thief starts now */
        vm_start_ok(&env, thief);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", thief, "/destroy", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        env_teardown(&env);
}

/* The define carries the VM's vhost-scsi targets ("vhost_scsi": [{"wwpn"}]) and the VM runs
 * with them on the agent; the agent's refusals at start are answered 409 with its code and
 * message, the VM down with last_error: a target without a nexus (refused, the library's
 * reason), one not in configfs (device-absent), one a domain of the agent's own holds (in-use,
 * at define). */
static void test_vhost_start(void)
{
        Env env = {0};
        g_autofree char *db = NULL, *unready = NULL, *gone = NULL, *taken = NULL;
        g_autofree char *agent_token = NULL;

        env_setup(&env);
        agent_token = hd_et_agent_token(env.scsi_fx);
        db = vm_create(&env, "db");
        unready = vm_create(&env, "unready");
        gone = vm_create(&env, "gone");
        taken = vm_create(&env, "taken");
        {
                g_auto(HdEtReply) r = add_vhost(&env, db, env.srv, VHOST);
                g_assert_cmpuint(r.status, ==, 200);
        }
        vm_start_ok(&env, db);
        {
                /* the agent runs it with the target */
                g_auto(HdEtReply) r = {0};
                JsonObject *v = agent_vm_entry(&r, env.scsi_agent, env.scsi_fx, db, "vhost_scsi");
                g_assert_cmpstr(json_object_get_string_member(v, "wwpn"), ==, VHOST);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==,
                                "running");
        }
        {
                /* changes refused while it runs */
                g_auto(HdEtReply) r1 = add_vhost(&env, db, env.srv, "naa.5001405000000003");
                g_auto(HdEtReply) r2 = vm_do(&env, "DELETE", db, "/vhost-scsi/1", NULL);
                hd_et_assert_reason(&r1, 409, "refused", "is running");
                hd_et_assert_reason(&r2, 409, "refused", "is running");
        }
        /* not ready: the agent's reason */
        {
                g_auto(HdEtReply) r1 = add_vhost(&env, unready, env.srv, VHOST_UNREADY);
                g_auto(HdEtReply) r2 = vm_do(&env, "POST", unready, "/start", NULL);
                g_auto(HdEtReply) g = {0};
                g_assert_cmpuint(r1.status, ==, 200);
                hd_et_assert_reason(&r2, 409, "refused",
                                    "vhost target " VHOST_UNREADY " is not ready");
                hd_et_assert_reason(&r2, 409, "refused", "refused to start it");
                g = vm_do(&env, "GET", unready, "", NULL);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&g), "state"), ==, "down");
                g_assert_nonnull(strstr(json_object_get_string_member(hd_et_obj(&g), "last_error"),
                                        "has no nexus"));
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "vm.start", "refused"));
        {
                /* set up its nexus: it starts */
                g_autofree char *nexus = hd_test_path(
                    env.scsi_fx, "sys/kernel/config/target/vhost/" VHOST_UNREADY "/tpgt_1/nexus");
                g_assert_true(g_file_set_contents(nexus, "naa.5001405000000012\n", -1, NULL));
                vm_start_ok(&env, unready);
        }
        /* not in configfs */
        {
                g_auto(HdEtReply) r1 = add_vhost(&env, gone, env.srv, "naa.5001405000000099");
                g_auto(HdEtReply) r2 = vm_do(&env, "POST", gone, "/start", NULL);
                g_assert_cmpuint(r1.status, ==, 200);
                hd_et_assert_reason(&r2, 409, "device-absent", "naa.5001405000000099");
        }
        /* a domain the engine does not know holds the target on the agent: in-use at define */
        {
                g_auto(HdEtReply) r0 = hd_et_agent_call(
                    env.scsi_agent->url, agent_token, "POST", "/v1/vms",
                    "{\"name\": \"own\", \"vhost_scsi\": [{\"wwpn\": \"naa.5001405000000007\"}]}");
                g_auto(HdEtReply) r1 = add_vhost(&env, taken, env.srv, "naa.5001405000000007");
                g_auto(HdEtReply) r2 = vm_do(&env, "POST", taken, "/start", NULL);
                g_assert_cmpuint(r0.status, ==, 200);
                g_assert_cmpuint(r1.status, ==, 200);
                hd_et_assert_reason(&r2, 409, "in-use", "own");
        }
        {
                g_auto(HdEtReply) r = vm_do(&env, "GET", taken, "", NULL);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "state"), ==, "down");
        }
        {
                g_auto(HdEtReply) r1 = vm_do(&env, "POST", db, "/destroy", NULL);
                g_auto(HdEtReply) r2 = vm_do(&env, "POST", unready, "/destroy", NULL);
                g_assert_cmpuint(r1.status, ==, 200);
                g_assert_cmpuint(r2.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r1), "state"), ==, "down");
        }
        env_teardown(&env);
}

/* A device kind that needs no IOMMU: the topology, the host's name, the VM's entry. */
typedef struct {
        const char *topology;
        const char *host;
        const char *path; /* "/usb", "/vhost-scsi" */
        const char *member, *value;
} NoIommu;

/* USB devices and vhost-scsi targets need no IOMMU: on a host whose passthrough is disabled, a
 * VM with only a USB device, or only a vhost target, starts (a VM with a PCI device would be
 * refused). */
static void test_without_iommu(gconstpointer data)
{
        const NoIommu *k = data;
        Env env = {0};
        g_autofree char *token = NULL;
        g_autofree char *vm = NULL;
        g_autofree char *host = NULL;
        g_autofree char *body = NULL;

        env.dir = hd_test_make_tmp_dir();
        env.admin = hd_et_token_create(env.dir, "ops", "admin");
        env.viewer = hd_et_token_create(env.dir, "portal", "viewer");
        env.engine = hd_et_engine_start(env.dir);
        env.usb_fx = hd_test_fixture_without_iommu(k->topology);
        env.usb_agent = hd_et_agent_start(env.usb_fx, "127.0.0.1:0");
        token = hd_et_agent_token(env.usb_fx);
        host = hd_et_add_host(env.engine->url, env.admin, k->host, env.usb_agent->url, token);
        {
                g_auto(HdEtReply) r = hd_et_wait_status(env.engine->url, env.viewer, host, "up");
                JsonObject *pt = json_object_get_object_member(hd_et_obj(&r), "passthrough");
                g_assert_false(json_object_get_boolean_member(pt, "enabled"));
        }
        vm = vm_create(&env, "dongle");
        body = g_strdup_printf("{\"host_id\": \"%s\", \"%s\": \"%s\"}", host, k->member, k->value);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, k->path, body);
                g_assert_cmpuint(r.status, ==, 200);
        }
        vm_start_ok(&env, vm);
        {
                g_auto(HdEtReply) r = vm_do(&env, "POST", vm, "/destroy", NULL);
                g_assert_cmpuint(r.status, ==, 200);
        }
        hd_et_proc_stop(env.engine, SIGTERM);
        hd_et_proc_stop(env.usb_agent, SIGTERM);
        hd_et_rm_rf(env.dir);
        g_free(env.dir);
        g_free(env.admin);
        g_free(env.viewer);
        hd_test_fixture_free(env.usb_fx);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine/usbscsi/read-through", test_read_through);
        g_test_add_func("/engine/usbscsi/assign", test_assign);
        g_test_add_func("/engine/usbscsi/start", test_start);
        g_test_add_data_func("/engine/usbscsi/without-iommu",
                             &(NoIommu){"usb-desk", "desk", "/usb", "spec", "0529:0001"},
                             test_without_iommu);
        g_test_add_data_func("/engine/usbscsi/vhost-without-iommu",
                             &(NoIommu){"scsi-server", "srv", "/vhost-scsi", "wwpn", VHOST},
                             test_without_iommu);
        g_test_add_func("/engine/usbscsi/vhost-read-through", test_vhost_read_through);
        g_test_add_func("/engine/usbscsi/vhost-assign", test_vhost_assign);
        g_test_add_func("/engine/usbscsi/vhost-start", test_vhost_start);
        return hd_et_run();
}
