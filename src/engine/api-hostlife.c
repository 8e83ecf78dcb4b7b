/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's host lifecycle and kernel tab (docs/api/engine-openapi.yaml; the state
 * machine is at the top of hosts.h):
 *
 *   POST /v1/hosts/{id}/maintenance  up -> maintenance (refused while VMs on it are not
 *                                    down, naming them) -> 200 Host
 *   POST /v1/hosts/{id}/reboot       maintenance -> rebooting, then the agent's
 *                                    POST /v1/host/reboot -> 202 Host (the agent refused or
 *                                    failed: back to maintenance, 502 agent-failed)
 *   POST /v1/hosts/{id}/activate     maintenance -> connecting (the sync re-reads readiness
 *                                    and inventory, then up) -> 200 Host
 *   GET  /v1/hosts/{id}/kernel-args  the agent's GET /v1/kernel-args document, as it is
 *   PUT  /v1/hosts/{id}/kernel-args  {enable, disable, custom, remove, dry_run}: validated
 *                                    first (body-kernel-args.c: option names from
 *                                    kernel-options.h, the table the agents use; custom words
 *                                    printable ASCII), then the
 *                                    agent's PUT /v1/kernel-args; applying (dry_run false) is
 *                                    refused 409 unless the host is in maintenance
 *
 * Invariants: a transition is one store call that checks the status it starts from
 * (store.h, "the host lifecycle"); every change and every refusal writes one audit row; the
 * agent is asked only after the request was validated; an agent's 400/409 is answered as
 * the same status with the agent's message (bad input stays 4xx), anything else it does
 * wrong as 502 agent-failed.
 */
#include "config.h"

#include <string.h>

#include "api.h"

/* An audited change of a host waiting for its agent's answer. */
typedef struct {
        HdEngine *e;
        HdHttpRequest *req;
        char *id;
        char *object;
        char *actor;
        gboolean dry_run;
} Pending;

static Pending *pending_new(HdEngine *e, HdHttpRequest *req, const char *id, const char *object)
{
        Pending *p = g_new0(Pending, 1);

        p->e = e;
        p->req = hd_http_request_ref(req);
        p->id = g_strdup(id);
        p->object = g_strdup(object);
        p->actor = g_strdup(hd_api_caller(req));
        return p;
}

/* Send the answer given by now, and free. */
static void pending_finish(Pending *p)
{
        hd_http_request_resume(p->req);
        hd_http_request_unref(p->req);
        g_free(p->id);
        g_free(p->object);
        g_free(p->actor);
        g_free(p);
}

/* The agent's error message from its error document, or a description of the answer. */
static char *agent_message(guint status, GBytes *body, const GError *error)
{
        g_autofree char *message = NULL;

        if (error)
                return g_strdup_printf("the agent cannot be reached: %s", error->message);
        message = hd_api_agent_error_member(body, "message");
        if (message)
                return g_strdup_printf("the agent answered %u: %s", status, message);
        return g_strdup_printf("the agent answered HTTP %u", status);
}

/* Answer a failed agent call: 400/409 from the agent as they are (its message), else 502. */
static void respond_agent_failure(Pending *p, const char *action, guint status, GBytes *body,
                                  const GError *error)
{
        g_autofree char *why = agent_message(status, body, error);
        gboolean bad_input = status == 400 || status == 409;

        hd_engine_event(p->e, p->actor, action, p->object, bad_input ? "refused" : "failed", why);
        hd_http_respond_error(p->req, bad_input ? status : 502,
                              status == 400   ? "invalid-argument"
                              : status == 409 ? "refused"
                                              : "agent-failed",
                              "%s: %s%s", p->object, why,
                              bad_input ? ""
                                        : "; check the agent (GET /v1/hosts/{id}), then retry");
}

/* ---- maintenance, activate ---- */

static void maintenance(HdEngine *e, HdHttpRequest *req, const char *id, const char *object)
{
        g_autoptr(GError) error = NULL;

        if (!hd_api_no_members(e, req, "host.maintenance", object, "host.maintenance"))
                return;
        if (!hd_store_host_enter_maintenance(e->store, id, &error))
                return hd_api_refuse(e, req, "host.maintenance", object, error);
        hd_engine_event(e, hd_api_caller(req), "host.maintenance", object, "ok",
                        "in maintenance: no VM may start on it; the inventory is still synced");
        hd_api_respond_host(e, req, HD_HTTP_OK, id);
}

static void activate(HdEngine *e, HdHttpRequest *req, const char *id, const char *object)
{
        g_autoptr(GError) error = NULL;

        if (!hd_api_no_members(e, req, "host.activate", object, "host.activate"))
                return;
        if (!hd_store_host_activate(e->store, id, &error))
                return hd_api_refuse(e, req, "host.activate", object, error);
        hd_engine_event(e, hd_api_caller(req), "host.activate", object, "ok",
                        "connecting: readiness and inventory are read again, then up");
        hd_sync_host_start(e->sync, id);
        hd_api_respond_host(e, req, HD_HTTP_OK, id);
}

/* ---- reboot ---- */

static void on_reboot_reply(guint status, GBytes *body, const GError *error, gpointer data)
{
        Pending *p = data;
        g_autoptr(GError) local = NULL;

        if (status == 202) {
                hd_engine_event(p->e, p->actor, "host.reboot", p->object, "ok",
                                "the agent reboots the host; rebooting until it answers with a "
                                "new boot id");
                /* the sync now asks GET /v1/host with the backoff until the boot id moves */
                hd_sync_host_start(p->e->sync, p->id);
                hd_api_respond_host(p->e, p->req, 202, p->id);
                return pending_finish(p);
        }
        {
                g_autofree char *why = agent_message(status, body, error);
                if (!hd_store_host_abort_reboot(p->e->store, p->id, why, &local) && local)
                        g_warning("host %s: %s", p->id, local->message);
        }
        respond_agent_failure(p, "host.reboot", status, body, error);
        pending_finish(p);
}

static void reboot(HdEngine *e, HdHttpRequest *req, const char *id, const char *object)
{
        g_autoptr(GError) error = NULL;

        if (!hd_api_no_members(e, req, "host.reboot", object, "host.reboot"))
                return;
        if (!hd_store_host_begin_reboot(e->store, id, &error))
                return hd_api_refuse(e, req, "host.reboot", object, error);
        hd_sync_agent_call(e->sync, id, "POST", "/v1/host/reboot", "{}", on_reboot_reply,
                           pending_new(e, req, id, object));
        hd_http_request_suspend(req);
}

/* ---- the kernel tab ---- */

static void on_kernel_args_get(guint status, GBytes *body, const GError *error, gpointer data)
{
        Pending *p = data;

        if (status == 200) {
                gsize len = 0;
                const char *text = g_bytes_get_data(body, &len);
                hd_http_respond_take(p->req, HD_HTTP_OK, "application/json", g_strndup(text, len));
        } else {
                g_autofree char *why = agent_message(status, body, error);
                hd_http_respond_error(p->req, 502, "agent-failed", "%s: %s", p->object, why);
        }
        pending_finish(p);
}

static void kernel_args_get(HdEngine *e, HdHttpRequest *req, const char *id, const char *object)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);

        if (!h)
                return hd_api_respond_gerror(req, error);
        hd_sync_agent_call(e->sync, id, "GET", "/v1/kernel-args", NULL, on_kernel_args_get,
                           pending_new(e, req, id, object));
        hd_http_request_suspend(req);
}

/* The "desired" array of the agent's answer, as JSON text (NULL when absent). */
static char *answer_desired(GBytes *body, char **summary)
{
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        JsonObject *o = hd_api_agent_answer_object(body, parser);
        g_autoptr(GString) s = g_string_new(NULL);
        JsonNode *n;

        *summary = NULL;
        if (!o)
                return NULL;
        for (const char *const *k = (const char *const[]){"added", "removed", NULL}; *k; k++) {
                n = json_object_get_member(o, *k);
                if (!n || !JSON_NODE_HOLDS_ARRAY(n))
                        continue;
                for (guint i = 0; i < json_array_get_length(json_node_get_array(n)); i++) {
                        JsonNode *w = json_array_get_element(json_node_get_array(n), i);
                        if (JSON_NODE_HOLDS_VALUE(w) &&
                            json_node_get_value_type(w) == G_TYPE_STRING)
                                g_string_append_printf(s, " %c%s", **k == 'a' ? '+' : '-',
                                                       json_node_get_string(w));
                }
        }
        *summary = g_strdup(s->len ? s->str + 1 : "no change");
        n = json_object_get_member(o, "desired");
        return n && JSON_NODE_HOLDS_ARRAY(n) ? json_to_string(n, FALSE) : NULL;
}

static void on_kernel_args_put(guint status, GBytes *body, const GError *error, gpointer data)
{
        Pending *p = data;
        const char *action = p->dry_run ? "host.kernel_args.plan" : "host.kernel_args.apply";

        if (status == 200) {
                g_autoptr(GError) local = NULL;
                g_autofree char *summary = NULL;
                g_autofree char *desired = answer_desired(body, &summary);
                gsize len = 0;
                const char *text = g_bytes_get_data(body, &len);
                g_autofree char *message = g_strdup_printf(
                    "%s: %s%s", p->dry_run ? "planned" : "applied", summary ? summary : "",
                    p->dry_run ? "" : "; reboot the host for it to take effect");

                if (desired &&
                    !hd_store_host_set_kernel_desired(p->e->store, p->id, desired, &local))
                        g_warning("host %s: %s", p->id, local->message);
                hd_engine_event(p->e, p->actor, action, p->object, "ok", message);
                /* the configured command line changed: read the host's facts again */
                if (!p->dry_run)
                        hd_sync_host_start(p->e->sync, p->id);
                hd_http_respond_take(p->req, HD_HTTP_OK, "application/json", g_strndup(text, len));
        } else {
                respond_agent_failure(p, action, status, body, error);
        }
        pending_finish(p);
}

static void kernel_args_put(HdEngine *e, HdHttpRequest *req, const char *id, const char *object)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);
        g_autoptr(JsonObject) o = NULL;
        g_autofree char *body = NULL;
        gboolean dry_run = FALSE;
        Pending *p;

        if (!h)
                return hd_api_refuse(e, req, "host.kernel_args.apply", object, error);
        o = hd_api_body_object(e, req, "host.kernel_args.apply", object);
        if (!o)
                return;
        if (!hd_engine_body_kernel_args(o, &body, &dry_run, &error))
                return hd_api_refuse(e, req, "host.kernel_args.apply", object, error);
        if (!dry_run && h->status != HD_HOST_MAINTENANCE) {
                g_set_error(&error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED,
                            "host %s is %s: kernel arguments are applied in maintenance only; "
                            "POST /v1/hosts/{id}/maintenance first, or send \"dry_run\": true "
                            "to see the plan",
                            h->name, hd_host_status_to_string(h->status));
                return hd_api_refuse(e, req, "host.kernel_args.apply", object, error);
        }
        p = pending_new(e, req, id, object);
        p->dry_run = dry_run;
        hd_sync_agent_call(e->sync, id, "PUT", "/v1/kernel-args", body, on_kernel_args_put, p);
        hd_http_request_suspend(req);
}

gboolean hd_api_route_hostlife(HdEngine *e, HdHttpRequest *req, const char *id, const char *what)
{
        const char *method = hd_http_request_get_method(req);
        g_autofree char *object = g_strdup_printf("host %s", id);

        if (strcmp(what, "kernel-args") == 0) {
                if (hd_http_request_is_get(req))
                        kernel_args_get(e, req, id, object);
                else if (strcmp(method, "PUT") == 0)
                        kernel_args_put(e, req, id, object);
                else
                        hd_api_bad_method(req, "GET, PUT");
                return TRUE;
        }
        if (strcmp(what, "maintenance") != 0 && strcmp(what, "reboot") != 0 &&
            strcmp(what, "activate") != 0)
                return FALSE;
        if (strcmp(method, "POST") != 0) {
                hd_api_bad_method(req, "POST");
                return TRUE;
        }
        if (strcmp(what, "maintenance") == 0)
                maintenance(e, req, id, object);
        else if (strcmp(what, "reboot") == 0)
                reboot(e, req, id, object);
        else
                activate(e, req, id, object);
        return TRUE;
}
