/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's SR-IOV calls, passed to the host's agent (docs/api/engine-openapi.yaml;
 * the agent's side: src/agent/api-sriov.c):
 *
 *   GET  /v1/hosts/{id}/devices/{pf}/sriov  the agent's PF document, with host_id and per VF
 *                                           the engine VM that has it (vm, null when none)
 *   POST /v1/hosts/{id}/devices/{pf}/sriov  {numvfs, autoprobe, persist, dry_run, timeout}:
 *                                           the agent's VF count transaction
 *   GET  /v1/hosts/{id}/devices/{vf}/vf-net a NIC VF's network settings
 *   PUT  /v1/hosts/{id}/devices/{vf}/vf-net {mac, vlan, qos, vlan_proto, spoofchk, trust,
 *                                           link_state, min_tx_rate, max_tx_rate, dry_run}
 *
 * Rules: the body is validated before the agent is asked (unknown members, wrong types and
 * ranges are 400 here). A count change (numvfs given and different from the PF's) first reads
 * the PF on the agent and is refused 409 in-use when any of its current VFs is a device of an
 * engine VM, whatever the VM's state: the count goes through 0, so every VF goes, and the
 * agent cannot know VMs the engine defines but does not run (the agent refuses VFs a running
 * VM or the host holds). The agent's refusals are answered with its status (400, 404, 409,
 * 422), its code (busy, refused, invalid-argument...) and its message; no answer or a 5xx is
 * 502 agent-failed. After a change (not a dry run) the host's inventory is read again
 * (hd_sync_host_start, as POST /v1/hosts/{id}/refresh) so the new VFs are listed. Every change
 * and refusal writes one audit row (host.sriov.set / host.sriov.plan, host.vf_net.set /
 * host.vf_net.plan).
 */
#include "config.h"

#include <string.h>

#include "api.h"
#include "body.h"
#include "vms.h"

#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

typedef struct {
        HdEngine *e;
        HdHttpRequest *req;
        char *host_id;
        char *address;
        char *object;
        char *actor;
        char *action;
        char *body;    /* what the agent is sent */
        gint64 numvfs; /* -1: not given */
        gboolean dry_run;
} Call;

static Call *call_new(HdEngine *e, HdHttpRequest *req, const char *host_id, const char *address,
                      const char *action)
{
        Call *c = g_new0(Call, 1);

        c->e = e;
        c->req = hd_http_request_ref(req);
        c->host_id = g_strdup(host_id);
        c->address = g_strdup(address);
        c->object = g_strdup_printf("host %s device %s", host_id, address);
        c->actor = g_strdup(hd_api_caller(req));
        c->action = g_strdup(action);
        c->numvfs = -1;
        return c;
}

static void call_free(Call *c)
{
        hd_http_request_unref(c->req);
        g_free(c->host_id);
        g_free(c->address);
        g_free(c->object);
        g_free(c->actor);
        g_free(c->action);
        g_free(c->body);
        g_free(c);
}

/* Send the answer given by now, and free. */
static void call_finish(Call *c)
{
        hd_http_request_resume(c->req);
        call_free(c);
}

/* Answer the agent's refusal or failure (with the audit row for @action when @audit). */
static void respond_agent_failure(Call *c, gboolean audit, guint status, GBytes *body,
                                  const GError *error)
{
        g_autofree char *message = error ? NULL : hd_api_agent_error_member(body, "message");
        g_autofree char *code = error ? NULL : hd_api_agent_error_member(body, "code");
        gboolean refusal = !error && status >= 400 && status < 500 && message;
        const char *out_code;

        if (!refusal) {
                g_autofree char *why =
                    error     ? g_strdup_printf("the agent cannot be reached: %s", error->message)
                    : message ? g_strdup_printf("the agent answered %u: %s", status, message)
                              : g_strdup_printf("the agent answered HTTP %u", status);
                if (audit)
                        hd_engine_event(c->e, c->actor, c->action, c->object, "failed", why);
                hd_http_respond_error(c->req, 502, "agent-failed",
                                      "%s: %s; check the host (GET /v1/hosts/%s), then retry",
                                      c->object, why, c->host_id);
                return;
        }
        /* the agent's words and status: bad input stays 400, a busy VF 409 busy... */
        if (code && (strcmp(code, "busy") == 0 || strcmp(code, "refused") == 0 ||
                     strcmp(code, "invalid-argument") == 0 || strcmp(code, "not-found") == 0))
                out_code = code;
        else
                out_code = status == 404   ? "not-found"
                           : status == 409 ? "refused"
                                           : "invalid-argument";
        if (audit)
                hd_engine_event(c->e, c->actor, c->action, c->object, "refused", message);
        hd_http_respond_error(c->req, status, out_code, "%s", message);
}

/* An int member, or @fallback. */
static gint64 int_member(JsonObject *o, const char *name, gint64 fallback)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
                   ? json_node_get_int(n)
                   : fallback;
}

/* ---- GET sriov ---- */

static void on_sriov_get(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        g_autoptr(GHashTable) users = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;
        JsonNode *vfs;

        if (!o) {
                respond_agent_failure(c, FALSE, status, body, error);
                return call_finish(c);
        }
        users = hd_store_host_device_users(c->e->store, c->host_id, &local);
        if (!users) {
                hd_api_respond_gerror(c->req, local);
                return call_finish(c);
        }
        json_object_set_string_member(o, "host_id", c->host_id);
        vfs = json_object_get_member(o, "vfs");
        for (guint i = 0; vfs && JSON_NODE_HOLDS_ARRAY(vfs) &&
                          i < json_array_get_length(json_node_get_array(vfs));
             i++) {
                JsonNode *vn = json_array_get_element(json_node_get_array(vfs), i);
                JsonObject *vf;
                const char *vm;

                if (!JSON_NODE_HOLDS_OBJECT(vn))
                        continue;
                vf = json_node_get_object(vn);
                vm = json_object_has_member(vf, "address")
                         ? g_hash_table_lookup(users, json_object_get_string_member(vf, "address"))
                         : NULL;
                if (vm)
                        json_object_set_string_member(vf, "vm", vm);
                else
                        json_object_set_null_member(vf, "vm");
        }
        {
                g_autoptr(JsonGenerator) g = json_generator_new();
                json_generator_set_root(g, json_parser_get_root(parser));
                hd_http_respond_take(c->req, HD_HTTP_OK, "application/json",
                                     json_generator_to_data(g, NULL));
        }
        call_finish(c);
}

/* ---- POST sriov ---- */

static gboolean get_bool(JsonObject *o, const char *name, int *out, GError **error)
{
        JsonNode *n = json_object_get_member(o, name);

        *out = -1;
        if (!n)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
                return invalid(error, "\"%s\" must be true or false", name);
        *out = json_node_get_boolean(n);
        return TRUE;
}

static gboolean get_int(JsonObject *o, const char *name, gint64 min, gint64 max, gint64 *out,
                        GError **error)
{
        JsonNode *n = json_object_get_member(o, name);

        *out = -1;
        if (!n)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
                return invalid(error, "\"%s\" must be a whole number", name);
        *out = json_node_get_int(n);
        if (*out < min || *out > max)
                return invalid(error,
                               "\"%s\" must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                               name, min, max);
        return TRUE;
}

static gboolean get_enum(JsonObject *o, const char *name, const char *const *values, GError **error)
{
        JsonNode *n = json_object_get_member(o, name);
        g_autofree char *list = NULL;

        if (!n)
                return TRUE;
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
            g_strv_contains(values, json_node_get_string(n)))
                return TRUE;
        list = g_strjoinv(", ", (char **)values);
        return invalid(error, "\"%s\" must be one of %s", name, list);
}

/* The VF count body: checked, and copied for the agent with a "timeout" within the time the
 * engine waits for an agent's answer (@max_timeout): a count write still waiting for a VF's
 * user after it is the agent's 409 busy naming the user, which the caller must get, not the
 * engine's own timeout. */
static gboolean sriov_body(JsonObject *o, Call *c, guint max_timeout, GError **error)
{
        static const char *const known[] = {"numvfs",  "autoprobe", "persist",
                                            "dry_run", "timeout",   NULL};
        int autoprobe, persist, dry_run;
        gint64 timeout;

        if (!hd_http_body_check_members(o, known, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, error) ||
            !get_int(o, "numvfs", 0, 65535, &c->numvfs, error) ||
            !get_bool(o, "autoprobe", &autoprobe, error) ||
            !get_bool(o, "persist", &persist, error) || !get_bool(o, "dry_run", &dry_run, error) ||
            !get_int(o, "timeout", 1, max_timeout, &timeout, error))
                return FALSE;
        if (c->numvfs < 0 && autoprobe < 0)
                return invalid(error, "give \"numvfs\" (the VF count wanted), \"autoprobe\", or "
                                      "both, e.g. {\"numvfs\": 4, \"autoprobe\": false}");
        c->dry_run = dry_run == 1;
        {
                g_autoptr(JsonObject) copy = json_object_new();
                g_autoptr(JsonNode) n = NULL;
                g_autoptr(GList) names = json_object_get_members(o);

                for (GList *l = names; l; l = l->next)
                        json_object_set_member(copy, l->data,
                                               json_node_copy(json_object_get_member(o, l->data)));
                if (timeout < 0)
                        json_object_set_int_member(copy, "timeout", max_timeout);
                n = json_node_init_object(json_node_alloc(), copy);
                c->body = json_to_string(n, FALSE);
        }
        return TRUE;
}

static void on_sriov_set(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;
        g_autofree char *what = NULL;
        gsize len = 0;
        const char *text;

        if (!o) {
                respond_agent_failure(c, TRUE, status, body, error);
                return call_finish(c);
        }
        what = g_strdup_printf(
            "%s VFs %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT "%s",
            c->dry_run ? "planned:" : "done:", int_member(o, "numvfs_before", -1),
            int_member(o, "numvfs", -1),
            json_object_has_member(o, "changed") && !json_object_get_boolean_member(o, "changed")
                ? " (no change)"
                : "");
        hd_engine_event(c->e, c->actor, c->action, c->object, "ok", what);
        /* the VFs came or went: the engine's device list follows now, not at the next poll */
        if (!c->dry_run)
                hd_sync_host_start(c->e->sync, c->host_id);
        text = g_bytes_get_data(body, &len);
        hd_http_respond_take(c->req, HD_HTTP_OK, "application/json", g_strndup(text, len));
        call_finish(c);
}

static void post_sriov(Call *c)
{
        g_autofree char *path = g_strconcat("/v1/devices/", c->address, "/sriov", NULL);

        hd_sync_agent_call(c->e->sync, c->host_id, "POST", path, c->body, on_sriov_set, c);
}

/* The PF as the agent sees it now: refused when the count changes and a VF is an engine VM's. */
static void on_sriov_before(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autoptr(GHashTable) users = NULL;
        g_autoptr(GError) local = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;
        JsonNode *vfs;

        if (!o) {
                respond_agent_failure(c, TRUE, status, body, error);
                return call_finish(c);
        }
        if (int_member(o, "numvfs", -1) == c->numvfs)
                return post_sriov(c); /* the VFs stay: autoprobe or persist only */
        users = hd_store_host_device_users(c->e->store, c->host_id, &local);
        if (!users) {
                hd_api_refuse(c->e, c->req, c->action, c->object, local);
                return call_finish(c);
        }
        vfs = json_object_get_member(o, "vfs");
        for (guint i = 0; vfs && JSON_NODE_HOLDS_ARRAY(vfs) &&
                          i < json_array_get_length(json_node_get_array(vfs));
             i++) {
                JsonNode *vn = json_array_get_element(json_node_get_array(vfs), i);
                const char *vf, *vm;
                g_autofree char *message = NULL;

                if (!JSON_NODE_HOLDS_OBJECT(vn) ||
                    !json_object_has_member(json_node_get_object(vn), "address"))
                        continue;
                vf = json_object_get_string_member(json_node_get_object(vn), "address");
                vm = vf ? g_hash_table_lookup(users, vf) : NULL;
                if (!vm)
                        continue;
                message = g_strdup_printf(
                    "VF %s of PF %s is a device of VM %s: changing the VF count removes every VF; "
                    "remove it from the VM (DELETE /v1/vms/{id}/devices/%s) first",
                    vf, c->address, vm, vf);
                hd_engine_event(c->e, c->actor, c->action, c->object, "refused", message);
                hd_http_respond_error(c->req, 409, "in-use", "%s", message);
                return call_finish(c);
        }
        post_sriov(c);
}

static void sriov_set(HdEngine *e, HdHttpRequest *req, const char *host_id, const char *address)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = NULL;
        g_autoptr(JsonObject) o = NULL;
        g_autofree char *object = g_strdup_printf("host %s device %s", host_id, address);
        Call *c;

        o = hd_api_body_object(e, req, "host.sriov.set", object);
        if (!o)
                return;
        h = hd_store_host_get(e->store, host_id, &error);
        if (!h)
                return hd_api_refuse(e, req, "host.sriov.set", object, error);
        c = call_new(e, req, host_id, address, "host.sriov.set");
        if (!sriov_body(o, c, e->opts.poll_wait + 10, &error)) {
                hd_api_refuse(e, req, c->action, c->object, error);
                return call_free(c);
        }
        if (c->dry_run) {
                g_free(c->action);
                c->action = g_strdup("host.sriov.plan");
        }
        hd_http_request_suspend(req);
        if (c->numvfs < 0)
                return post_sriov(c);
        {
                g_autofree char *path = g_strconcat("/v1/devices/", address, "/sriov", NULL);
                hd_sync_agent_call(e->sync, host_id, "GET", path, NULL, on_sriov_before, c);
        }
}

/* ---- vf-net ---- */

static gboolean vf_net_body(JsonObject *o, Call *c, GError **error)
{
        static const char *const known[] = {"mac",         "vlan",    "qos",        "vlan_proto",
                                            "spoofchk",    "trust",   "link_state", "min_tx_rate",
                                            "max_tx_rate", "dry_run", NULL};
        static const char *const protos[] = {"802.1Q", "802.1ad", NULL};
        static const char *const states[] = {"auto", "enable", "disable", NULL};
        JsonNode *mac = json_object_get_member(o, "mac");
        gint64 v;
        int b;

        if (!hd_http_body_check_members(o, known, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, error) ||
            !get_int(o, "vlan", 0, 4095, &v, error) || !get_int(o, "qos", 0, 7, &v, error) ||
            !get_int(o, "min_tx_rate", 0, G_MAXINT32, &v, error) ||
            !get_int(o, "max_tx_rate", 0, G_MAXINT32, &v, error) ||
            !get_bool(o, "spoofchk", &b, error) || !get_bool(o, "trust", &b, error) ||
            !get_bool(o, "dry_run", &b, error) || !get_enum(o, "vlan_proto", protos, error) ||
            !get_enum(o, "link_state", states, error))
                return FALSE;
        c->dry_run = b == 1;
        if (mac && (!JSON_NODE_HOLDS_VALUE(mac) || json_node_get_value_type(mac) != G_TYPE_STRING ||
                    strlen(json_node_get_string(mac)) > 17))
                return invalid(error, "\"mac\" must be a MAC address (52:54:00:12:34:56) or "
                                      "\"clear\"");
        if (json_object_get_size(o) == (json_object_has_member(o, "dry_run") ? 1u : 0u))
                return invalid(error, "give at least one setting, e.g. {\"vlan\": 100}");
        {
                g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
                c->body = json_to_string(n, FALSE);
        }
        return TRUE;
}

static void on_vf_net(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        gsize len = 0;
        const char *text;

        if (status != 200 || !body) {
                respond_agent_failure(c, c->body != NULL, status, body, error);
                return call_finish(c);
        }
        if (c->body)
                hd_engine_event(c->e, c->actor, c->action, c->object, "ok",
                                c->dry_run ? "planned" : "changed");
        text = g_bytes_get_data(body, &len);
        hd_http_respond_take(c->req, HD_HTTP_OK, "application/json", g_strndup(text, len));
        call_finish(c);
}

static void vf_net_set(HdEngine *e, HdHttpRequest *req, const char *host_id, const char *address)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = NULL;
        g_autoptr(JsonObject) o = NULL;
        g_autofree char *object = g_strdup_printf("host %s device %s", host_id, address);
        g_autofree char *path = g_strconcat("/v1/devices/", address, "/vf-net", NULL);
        Call *c;

        o = hd_api_body_object(e, req, "host.vf_net.set", object);
        if (!o)
                return;
        h = hd_store_host_get(e->store, host_id, &error);
        if (!h)
                return hd_api_refuse(e, req, "host.vf_net.set", object, error);
        c = call_new(e, req, host_id, address, "host.vf_net.set");
        if (!vf_net_body(o, c, &error)) {
                hd_api_refuse(e, req, c->action, c->object, error);
                return call_free(c);
        }
        if (c->dry_run) {
                g_free(c->action);
                c->action = g_strdup("host.vf_net.plan");
        }
        hd_http_request_suspend(req);
        hd_sync_agent_call(e->sync, host_id, "PUT", path, c->body, on_vf_net, c);
}

/* ---- routing ---- */

static void agent_get(HdEngine *e, HdHttpRequest *req, const char *host_id, const char *address,
                      const char *what, HdAgentReplyFunc func)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(e->store, host_id, &error);
        g_autofree char *path = g_strconcat("/v1/devices/", address, "/", what, NULL);

        if (!h)
                return hd_api_respond_gerror(req, error);
        hd_http_request_suspend(req);
        hd_sync_agent_call(e->sync, host_id, "GET", path, NULL, func,
                           call_new(e, req, host_id, address, "host.sriov.get"));
}

gboolean hd_api_route_sriov(HdEngine *e, HdHttpRequest *req, const char *host_id,
                            const char *address, const char *what)
{
        const char *method = hd_http_request_get_method(req);
        gboolean get = hd_http_request_is_get(req);
        gboolean sriov = strcmp(what, "sriov") == 0;
        char addr[13];

        if (!sriov && strcmp(what, "vf-net") != 0)
                return FALSE;
        if (!hd_api_check_query(req, NULL))
                return TRUE;
        if (!hd_engine_pci_address(address, addr)) {
                hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                      "\"%.32s\" is not a PCI address DDDD:BB:DD.F (GET "
                                      "/v1/hosts/%s/devices lists them)",
                                      address, host_id);
                return TRUE;
        }
        if (get)
                agent_get(e, req, host_id, addr, what, sriov ? on_sriov_get : on_vf_net);
        else if (sriov && strcmp(method, "POST") == 0)
                sriov_set(e, req, host_id, addr);
        else if (!sriov && strcmp(method, "PUT") == 0)
                vf_net_set(e, req, host_id, addr);
        else
                hd_api_bad_method(req, sriov ? "GET, POST" : "GET, PUT");
        return TRUE;
}
