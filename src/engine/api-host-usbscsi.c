/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's read-through of a host's USB devices, SCSI LUNs and vhost-scsi targets
 * (docs/api/engine-openapi.yaml):
 *
 *   GET /v1/hosts/{id}/usb          the agent's GET /v1/usb, read now, with "host_id" added
 *   GET /v1/hosts/{id}/scsi         the agent's GET /v1/scsi, likewise
 *   GET /v1/hosts/{id}/vhost-scsi   the agent's GET /v1/vhost-scsi, likewise (configfs
 *                                   targets send no event either)
 *
 * The engine does not store them: a USB device comes and goes with a plug, and the verdicts
 * (held, mounted, in use) change without an inventory event, so the portal's dialogs read the
 * host's own answer. 404 for an unknown host; an agent that cannot be reached or answers
 * anything but 200 is 502 agent-failed with what went wrong, as the kernel tab's read.
 */
#include "config.h"

#include <string.h>

#include "api.h"

typedef struct {
        HdHttpRequest *req;
        char *id;
        char *what; /* "usb", "scsi", "vhost-scsi" */
} Read;

static void on_read(guint status, GBytes *body, const GError *error, gpointer data)
{
        Read *r = data;
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        g_autofree char *message = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, p) : NULL;

        if (o) {
                /* the agent's answer as it is, and whose it is */
                g_autoptr(JsonNode) copy = json_node_copy(json_parser_get_root(p));
                json_object_set_string_member(json_node_get_object(copy), "host_id", r->id);
                hd_http_respond_take(r->req, HD_HTTP_OK, "application/json",
                                     json_to_string(copy, FALSE));
        } else {
                if (error)
                        message =
                            g_strdup_printf("the agent cannot be reached: %s", error->message);
                else if (status == 200)
                        message = g_strdup("the agent's answer is not a JSON object");
                else {
                        g_autofree char *why = hd_api_agent_error_member(body, "message");
                        message = why ? g_strdup_printf("the agent answered %u: %s", status, why)
                                      : g_strdup_printf("the agent answered HTTP %u", status);
                }
                hd_http_respond_error(r->req, 502, "agent-failed", "host %s: GET /v1/%s: %s", r->id,
                                      r->what, message);
        }
        hd_http_request_resume(r->req);
        hd_http_request_unref(r->req);
        g_free(r->id);
        g_free(r->what);
        g_free(r);
}

void hd_api_host_usbscsi(HdEngine *e, HdHttpRequest *req, const char *id, const char *what)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);
        g_autofree char *path = NULL;
        Read *r;

        if (!h)
                return hd_api_respond_gerror(req, error);
        r = g_new0(Read, 1);
        r->req = hd_http_request_ref(req);
        r->id = g_strdup(h->id);
        r->what = g_strdup(what);
        path = g_strconcat("/v1/", what, NULL);
        hd_sync_agent_call(e->sync, id, "GET", path, NULL, on_read, r);
        hd_http_request_suspend(req);
}
