/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's SR-IOV calls against a real hostdevd agent (engine-testlib.h: sim backend
 * on the "sriov-server" topology: the E810 PF 0000:18:00.0 with 4 of 64 VFs; "sriov-nic" for
 * VF network settings): the engine passes the PF document and the VF count change to the
 * agent, refuses a count change while a VF is an engine VM's device (whatever its state),
 * passes the agent's refusals on with their status and message, and lists the new VFs after
 * a change. Waits are bounded loops on the APIs; states are asserted, never durations.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "engine-testlib.h"
#include "http-testlib.h"

#define PF "0000:18:00.0"
#define VF0 "0000:18:01.0"

typedef HdEtEnv Env;

static HdEtReply dev_call(Env *env, const char *method, const char *addr, const char *what,
                          const char *body, const char *token)
{
        g_autofree char *path =
            g_strconcat("/v1/hosts/", env->host, "/devices/", addr, "/", what, NULL);
        return hd_et_call(env->engine->url, method, path, body, token);
}

/* A call on the agent (its own API: not recorded against the engine's document). */
static guint agent_post(Env *env, const char *path)
{
        g_autofree char *uri = g_strconcat(env->agent->url, path, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new("POST", uri);
        g_autofree char *body = hd_ht_send(hd_et_session, msg, env->agent_token, "{}");

        return soup_message_get_status(msg);
}

/* How many devices of the engine's list have @pf as their PF. */
static guint engine_vf_count(Env *env, const char *pf)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", env->host, "/devices", NULL);
        g_auto(HdEtReply) r = hd_et_call(env->engine->url, "GET", path, NULL, env->viewer);
        JsonArray *a;
        guint n = 0;

        g_assert_cmpuint(r.status, ==, 200);
        a = json_object_get_array_member(hd_et_obj(&r), "devices");
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *d = json_array_get_object_element(a, i);
                if (json_object_has_member(d, "physfn") &&
                    !json_object_get_null_member(d, "physfn") &&
                    strcmp(json_object_get_string_member(d, "physfn"), pf) == 0)
                        n++;
        }
        return n;
}

static void await_vf_count(Env *env, const char *pf, guint want)
{
        guint got = 0;

        for (guint i = 0; i < 300; i++) {
                got = engine_vf_count(env, pf);
                if (got == want)
                        return;
                g_usleep(100 * 1000);
        }
        g_error("the engine lists %u VFs of %s, not %u", got, pf, want);
}

/* GET passes the agent's PF with the engine's VM per VF; POST changes the count and the
 * engine lists the new VFs; bodies are checked before the agent is asked; the agent's
 * refusals keep their status and words; viewers cannot change. */
static void test_sriov(void)
{
        Env env = {0};

        hd_et_env_setup(&env, "sriov-server", "nic1");
        await_vf_count(&env, PF, 4);
        {
                g_auto(HdEtReply) r = dev_call(&env, "GET", PF, "sriov", NULL, env.viewer);
                JsonObject *o;
                JsonArray *vfs;

                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_cmpstr(json_object_get_string_member(o, "host_id"), ==, env.host);
                g_assert_cmpstr(json_object_get_string_member(o, "pf"), ==, PF);
                g_assert_cmpint(json_object_get_int_member(o, "totalvfs"), ==, 64);
                g_assert_cmpint(json_object_get_int_member(o, "numvfs"), ==, 4);
                vfs = json_object_get_array_member(o, "vfs");
                g_assert_cmpuint(json_array_get_length(vfs), ==, 4);
                g_assert_true(
                    json_object_get_null_member(json_array_get_object_element(vfs, 0), "vm"));
        }
        /* the agent's refusals: a VF is not a PF (400), an unknown device (404) */
        {
                g_auto(HdEtReply) vf = dev_call(&env, "GET", VF0, "sriov", NULL, env.viewer);
                g_auto(HdEtReply) none =
                    dev_call(&env, "GET", "0000:09:00.0", "sriov", NULL, env.viewer);
                g_auto(HdEtReply) bad = dev_call(&env, "GET", "18:00", "sriov", NULL, env.viewer);
                g_auto(HdEtReply) put = dev_call(&env, "PUT", PF, "sriov", "{}", env.admin);
                hd_et_assert_reason(&vf, 400, "invalid-argument", PF);
                hd_et_assert_error(&none, 404, "not-found");
                hd_et_assert_error(&bad, 400, "invalid-argument");
                hd_et_assert_error(&put, 405, "method-not-allowed");
        }
        /* bodies checked here; a count above the total is the agent's 400 with its words */
        {
                const char *bad[] = {"{}",
                                     "{\"numvfs\": -1}",
                                     "{\"numvfs\": \"4\"}",
                                     "{\"numvfs\": 2, \"vfs\": 2}",
                                     "{\"autoprobe\": 1}",
                                     "{\"numvfs\": 2, \"timeout\": 0}",
                                     "{\"numvfs\": 2, \"timeout\": 3600}",
                                     NULL};
                for (const char *const *b = bad; *b; b++) {
                        g_auto(HdEtReply) r = dev_call(&env, "POST", PF, "sriov", *b, env.admin);
                        hd_et_assert_error(&r, 400, "invalid-argument");
                }
        }
        {
                g_auto(HdEtReply) r =
                    dev_call(&env, "POST", PF, "sriov", "{\"numvfs\": 100}", env.admin);
                g_auto(HdEtReply) v =
                    dev_call(&env, "POST", PF, "sriov", "{\"numvfs\": 2}", env.viewer);
                hd_et_assert_reason(&r, 400, "invalid-argument", "at most 64");
                hd_et_assert_error(&v, 403, "forbidden");
                g_assert_true(
                    hd_et_has_event(env.engine->url, env.viewer, "host.sriov.set", "refused"));
        }
        /* a dry run plans, changes nothing */
        {
                g_auto(HdEtReply) r = dev_call(&env, "POST", PF, "sriov",
                                               "{\"numvfs\": 8, \"dry_run\": true}", env.admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&r), "dry_run"));
                g_assert_cmpint(json_object_get_int_member(hd_et_obj(&r), "numvfs"), ==, 8);
                g_assert_true(
                    hd_et_has_event(env.engine->url, env.viewer, "host.sriov.plan", "ok"));
        }
        g_assert_cmpuint(engine_vf_count(&env, PF), ==, 4);
        /* the change: the agent's report, and the engine lists the 8 VFs */
        {
                g_auto(HdEtReply) r = dev_call(&env, "POST", PF, "sriov",
                                               "{\"numvfs\": 8, \"autoprobe\": false}", env.admin);
                JsonObject *o;

                g_assert_cmpuint(r.status, ==, 200);
                o = hd_et_obj(&r);
                g_assert_true(json_object_get_boolean_member(o, "changed"));
                g_assert_cmpint(json_object_get_int_member(o, "numvfs_before"), ==, 4);
                g_assert_cmpint(json_object_get_int_member(o, "numvfs"), ==, 8);
                g_assert_false(json_object_get_boolean_member(o, "drivers_autoprobe"));
                g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "host.sriov.set", "ok"));
        }
        await_vf_count(&env, PF, 8);
        /* the agent refuses while a VF is detached (409 refused, its words) */
        g_assert_cmpuint(agent_post(&env, "/v1/devices/" VF0 "/detach"), ==, 200);
        {
                g_auto(HdEtReply) r =
                    dev_call(&env, "POST", PF, "sriov", "{\"numvfs\": 2}", env.admin);
                hd_et_assert_reason(&r, 409, "refused", VF0);
        }
        g_assert_cmpuint(agent_post(&env, "/v1/devices/" VF0 "/attach"), ==, 200);
        hd_et_env_teardown(&env);
}

/* A VF that is a device of an engine VM (down, so the agent does not know it): the count
 * change is refused 409 in-use naming the VM, the GET names the VM per VF; autoprobe alone
 * is allowed; removed from the VM, the change goes through. */
static void test_in_use(void)
{
        Env env = {0};
        g_autofree char *vm = NULL;
        g_autofree char *devices = NULL;

        hd_et_env_setup(&env, "sriov-server", "nic1");
        await_vf_count(&env, PF, 4);
        {
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "POST", "/v1/vms",
                                                 "{\"name\": \"nfv1\"}", env.admin);
                g_assert_cmpuint(r.status, ==, 201);
                vm = g_strdup(json_object_get_string_member(hd_et_obj(&r), "id"));
        }
        devices = g_strconcat("/v1/vms/", vm, "/devices", NULL);
        {
                g_autofree char *body = g_strdup_printf(
                    "{\"host_id\": \"%s\", \"addresses\": [\"" VF0 "\"]}", env.host);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "POST", devices, body, env.admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = dev_call(&env, "GET", PF, "sriov", NULL, env.viewer);
                JsonObject *vf0 = json_array_get_object_element(
                    json_object_get_array_member(hd_et_obj(&r), "vfs"), 0);
                g_assert_cmpstr(json_object_get_string_member(vf0, "address"), ==, VF0);
                g_assert_cmpstr(json_object_get_string_member(vf0, "vm"), ==, "nfv1");
        }
        for (const char *const *b =
                 (const char *const[]){"{\"numvfs\": 2}", "{\"numvfs\": 0, \"dry_run\": true}",
                                       NULL};
             *b; b++) {
                g_auto(HdEtReply) r = dev_call(&env, "POST", PF, "sriov", *b, env.admin);
                hd_et_assert_reason(&r, 409, "in-use", "VM nfv1");
                g_assert_nonnull(strstr(r.body, VF0));
        }
        g_assert_true(hd_et_has_event(env.engine->url, env.viewer, "host.sriov.set", "refused"));
        /* the count stays: autoprobe alone, or the same count, goes through */
        {
                g_auto(HdEtReply) a =
                    dev_call(&env, "POST", PF, "sriov", "{\"autoprobe\": false}", env.admin);
                g_auto(HdEtReply) s =
                    dev_call(&env, "POST", PF, "sriov", "{\"numvfs\": 4}", env.admin);
                g_assert_cmpuint(a.status, ==, 200);
                g_assert_false(json_object_get_boolean_member(hd_et_obj(&a), "drivers_autoprobe"));
                g_assert_cmpuint(s.status, ==, 200);
                g_assert_false(json_object_get_boolean_member(hd_et_obj(&s), "changed"));
        }
        {
                g_autofree char *path = g_strconcat(devices, "/" VF0, NULL);
                g_auto(HdEtReply) r = hd_et_call(env.engine->url, "DELETE", path, NULL, env.admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r =
                    dev_call(&env, "POST", PF, "sriov", "{\"numvfs\": 2}", env.admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        await_vf_count(&env, PF, 2);
        hd_et_env_teardown(&env);
}

#define NIC_VF0 "0000:01:01.0" /* sriov-nic: ice, ens1f0, 4 VFs */

/* VF network settings through the engine: GET, a checked PUT, the agent's refusal. */
static void test_vf_net(void)
{
        Env env = {0};

        hd_et_env_setup(&env, "sriov-nic", "nic1");
        {
                g_auto(HdEtReply) r = dev_call(&env, "GET", NIC_VF0, "vf-net", NULL, env.viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "netdev"), ==,
                                "ens1f0");
        }
        {
                const char *bad[] = {"{}",
                                     "{\"vlan\": 5000}",
                                     "{\"qos\": 8}",
                                     "{\"mac\": null}",
                                     "{\"link_state\": \"up\"}",
                                     "{\"trust\": 1}",
                                     "{\"dry_run\": true}",
                                     "{\"speed\": 1}",
                                     NULL};
                for (const char *const *b = bad; *b; b++) {
                        g_auto(HdEtReply) r =
                            dev_call(&env, "PUT", NIC_VF0, "vf-net", *b, env.admin);
                        hd_et_assert_error(&r, 400, "invalid-argument");
                }
        }
        {
                /* the agent's rule: qos only with a VLAN */
                g_auto(HdEtReply) q =
                    dev_call(&env, "PUT", NIC_VF0, "vf-net", "{\"qos\": 1}", env.admin);
                g_auto(HdEtReply) r = dev_call(&env, "PUT", NIC_VF0, "vf-net",
                                               "{\"vlan\": 200, \"qos\": 5}", env.admin);
                g_auto(HdEtReply) g = dev_call(&env, "GET", NIC_VF0, "vf-net", NULL, env.viewer);
                hd_et_assert_error(&q, 400, "invalid-argument");
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(g.status, ==, 200);
                g_assert_cmpint(json_object_get_int_member(
                                    json_object_get_object_member(hd_et_obj(&g), "net"), "vlan"),
                                ==, 200);
                g_assert_true(
                    hd_et_has_event(env.engine->url, env.viewer, "host.vf_net.set", "ok"));
        }
        hd_et_env_teardown(&env);
}

/* The agent cannot be reached: 502 agent-failed naming the host. */
static void test_agent_down(void)
{
        Env env = {0};

        hd_et_env_setup(&env, "sriov-server", "nic1");
        hd_et_proc_stop(env.agent, SIGTERM);
        {
                g_auto(HdEtReply) g = dev_call(&env, "GET", PF, "sriov", NULL, env.viewer);
                g_auto(HdEtReply) p =
                    dev_call(&env, "POST", PF, "sriov", "{\"numvfs\": 2}", env.admin);
                hd_et_assert_error(&g, 502, "agent-failed");
                hd_et_assert_reason(&p, 502, "agent-failed", "cannot be reached");
                g_assert_true(
                    hd_et_has_event(env.engine->url, env.viewer, "host.sriov.set", "failed"));
        }
        env.agent = hd_et_agent_start(env.fx, "127.0.0.1:0");
        hd_et_env_teardown(&env);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine/sriov/pf", test_sriov);
        g_test_add_func("/engine/sriov/in-use", test_in_use);
        g_test_add_func("/engine/sriov/vf-net", test_vf_net);
        g_test_add_func("/engine/sriov/agent-down", test_agent_down);
        return hd_et_run();
}
