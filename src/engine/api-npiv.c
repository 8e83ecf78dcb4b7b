/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's NPIV calls (docs/api/engine-openapi.yaml; the agent's side:
 * src/agent/api-usbscsi.c, the library's rules: src/lib/scsi/npiv.h):
 *
 *   GET  /v1/hosts/{id}/npiv                the agent's GET /v1/npiv read now, with host_id
 *                                           and per vport "engine_assigned"
 *   POST /v1/hosts/{id}/npiv                {parent, wwpn?, wwnn?, persist? (true)}: a vport
 *   POST /v1/hosts/{id}/npiv/{wwpn}/delete  {force?}: the vport with that WWPN goes
 *
 * Identities (store-sql-npiv.c): every WWPN/WWNN pair the engine assigns is unique across
 * the fleet, and unused by any port or node name an agent showed at its last NPIV read (FC
 * hosts and vports the engine did not make; the sync reads every host's when it connects and
 * at each device generation, the reads here go through the same hd_sync_npiv_seen()). A
 * create first reads the host's NPIV (so its names are current and the parent's port name is
 * known), then takes the WWNs given (parsed by the library: 16 hex digits, stored in the
 * canonical "0x..." form) or generates the missing ones (hd_npiv_wwn_generate(), again on a
 * collision), reserves the pair in the store
 * (one transaction: 409 in-use naming the host and the port that has a WWN), and only then
 * asks the agent; a refusal or failure of the agent releases the pair. A deletion asks the
 * agent and then drops the pair; a pair whose vport the agent no longer has (a reboot without
 * persist) is dropped too, the answer saying so.
 *
 * The agent's refusals keep their status, code and message; no answer or a 5xx is 502
 * agent-failed. Every change and refusal writes one audit row (host.npiv.create,
 * host.npiv.delete).
 */
#include "config.h"

#include <string.h>

#include "api.h"
#include "body.h"
#include "npiv.h"

#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

typedef struct {
        HdEngine *e;
        HdHttpRequest *req;
        char *host_id;
        char *object;
        char *actor;
        const char *action;
        char *parent;
        char wwpn[19], wwnn[19]; /* canonical; "" when generated */
        gboolean persist, force;
        gboolean reserved; /* the pair is in the store */
        gboolean had_pair; /* a deletion: the engine had assigned the WWPN */
} Call;

static Call *call_new(HdEngine *e, HdHttpRequest *req, const char *host_id, const char *action)
{
        Call *c = g_new0(Call, 1);

        c->e = e;
        c->req = hd_http_request_ref(req);
        c->host_id = g_strdup(host_id);
        c->object = g_strdup_printf("host %s npiv", host_id);
        c->actor = g_strdup(hd_api_caller(req));
        c->action = action;
        c->persist = TRUE;
        return c;
}

static void call_free(Call *c)
{
        hd_http_request_unref(c->req);
        g_free(c->host_id);
        g_free(c->object);
        g_free(c->actor);
        g_free(c->parent);
        g_free(c);
}

static void call_finish(Call *c)
{
        hd_http_request_resume(c->req);
        call_free(c);
}

static const char *string_member(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                   ? json_node_get_string(n)
                   : NULL;
}

static JsonArray *array_member(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *object_element(JsonArray *a, guint i)
{
        JsonNode *n = json_array_get_element(a, i);

        return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* Answer the agent's refusal (its status, code and message) or failure (502 agent-failed),
 * with the audit row when @audit. */
static void respond_agent_failure(Call *c, gboolean audit, guint status, GBytes *body,
                                  const GError *error)
{
        g_autofree char *message = error ? NULL : hd_api_agent_error_member(body, "message");
        g_autofree char *agent_code = error ? NULL : hd_api_agent_error_member(body, "code");
        const char *code = agent_code;

        if (error || status < 400 || status >= 500 || !message) {
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
        if (!code)
                code = status == 404 ? "not-found" : status == 409 ? "refused" : "invalid-argument";
        if (audit)
                hd_engine_event(c->e, c->actor, c->action, c->object, "refused", message);
        hd_http_respond_error(c->req, status, code, "%s", message);
}

/* Remember the agent's port and node names (@doc: its GET /v1/npiv, as the sync does at each
 * device generation), so new pairs avoid them; and mark each vport the engine assigned. */
static gboolean record_seen(Call *c, JsonObject *doc, GError **error)
{
        g_autoptr(GPtrArray) pairs = NULL;

        if (!hd_sync_npiv_seen(c->e->store, c->host_id, doc, NULL, error))
                return FALSE;
        pairs = hd_store_host_npiv(c->e->store, c->host_id, error);
        if (!pairs)
                return FALSE;
        {
                JsonArray *vports = array_member(doc, "vports");
                for (guint i = 0; vports && i < json_array_get_length(vports); i++) {
                        JsonObject *o = object_element(vports, i);
                        gboolean mine = FALSE;
                        char buf[19];

                        if (!o)
                                continue;
                        for (guint p = 0;
                             !mine && hd_sync_wwn_canonical(string_member(o, "port_name"), buf) &&
                             p < pairs->len;
                             p++)
                                mine = strcmp(((HdNpivPair *)pairs->pdata[p])->wwpn, buf) == 0;
                        json_object_set_boolean_member(o, "engine_assigned", mine);
                }
        }
        return TRUE;
}

static void respond_object(HdHttpRequest *req, JsonObject *o)
{
        g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);

        hd_http_respond_take(req, HD_HTTP_OK, "application/json", json_to_string(n, FALSE));
}

/* ---- GET ---- */

static void on_read(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;

        if (!o) {
                respond_agent_failure(c, FALSE, status, body, error);
                return call_finish(c);
        }
        if (!record_seen(c, o, &local)) {
                hd_api_respond_gerror(c->req, local);
                return call_finish(c);
        }
        json_object_set_string_member(o, "host_id", c->host_id);
        respond_object(c->req, o);
        call_finish(c);
}

/* ---- POST create ---- */

static gboolean create_body(JsonObject *o, Call *c, GError **error)
{
        static const char *const known[] = {"parent", "wwpn", "wwnn", "persist", NULL};
        const char *wwn_names[] = {"wwpn", "wwnn"};
        char *bufs[] = {c->wwpn, c->wwnn};
        JsonNode *n;
        const char *parent;
        gboolean ok;

        if (!hd_http_body_check_members(o, known, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, error))
                return FALSE;
        parent = string_member(o, "parent");
        ok = parent && *parent && strlen(parent) <= 32;
        for (const char *p = parent; ok && *p; p++)
                ok = g_ascii_isalnum(*p);
        if (!ok)
                return invalid(error, "\"parent\" is required: the FC host to make the vport on, "
                                      "e.g. \"host3\" (GET /v1/hosts/%s/npiv lists them)",
                               c->host_id);
        c->parent = g_str_has_prefix(parent, "host") ? g_strdup(parent)
                                                     : g_strconcat("host", parent, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(wwn_names); i++) {
                g_autofree char *what = g_strdup_printf("\"%s\"", wwn_names[i]);
                guint64 v;

                n = json_object_get_member(o, wwn_names[i]);
                if (!n)
                        continue;
                if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                        return invalid(error,
                                       "\"%s\" must be a WWN string of 16 hex digits, e.g. "
                                       "\"0x2001001122334455\"",
                                       wwn_names[i]);
                if (!hd_npiv_wwn_parse(json_node_get_string(n), what, &v, error)) {
                        (*error)->domain = G_IO_ERROR;
                        (*error)->code = G_IO_ERROR_INVALID_ARGUMENT;
                        return FALSE;
                }
                hd_npiv_wwn_format(v, bufs[i]);
        }
        if (*c->wwpn && strcmp(c->wwpn, c->wwnn) == 0)
                return invalid(error, "\"wwpn\" and \"wwnn\" must differ (both are %s)", c->wwpn);
        n = json_object_get_member(o, "persist");
        if (n) {
                if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
                        return invalid(error, "\"persist\" must be true or false");
                c->persist = json_node_get_boolean(n);
        }
        return TRUE;
}

/* A generated WWN no port or node in the fleet has, different from @other; FALSE when none
 * was found in a few tries (a database error in @error, else the fleet is very unlucky). */
static gboolean generate_free(HdStore *store, const char *other, char out[19], GError **error)
{
        for (guint tries = 0; tries < 64; tries++) {
                g_autofree char *host = NULL, *what = NULL;
                g_autoptr(GError) local = NULL;

                hd_npiv_wwn_format(hd_npiv_wwn_generate(), out);
                if (strcmp(out, other) == 0)
                        continue;
                if (hd_store_npiv_wwn_user(store, out, &host, &what, &local))
                        continue;
                if (local) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                return TRUE;
        }
        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_FAILED,
                    "no free WWN found in 64 generated ones; retry");
        return FALSE;
}

static void on_created(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        g_autofree char *what = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;
        JsonNode *vn = o ? json_object_get_member(o, "vport") : NULL;
        const char *vport = NULL;

        if (!o) {
                /* the agent refused or failed: the pair is free again */
                if (!hd_store_npiv_release(c->e->store, c->host_id, c->wwpn, &local))
                        g_warning("host %s: releasing WWPN %s: %s", c->host_id, c->wwpn,
                                  local->message);
                respond_agent_failure(c, TRUE, status, body, error);
                return call_finish(c);
        }
        if (vn && JSON_NODE_HOLDS_OBJECT(vn))
                vport = string_member(json_node_get_object(vn), "name");
        if (vport && !hd_store_npiv_set_vport(c->e->store, c->wwpn, vport, &local)) {
                hd_api_respond_gerror(c->req, local);
                return call_finish(c);
        }
        what = g_strdup_printf("created %s on %s: WWPN %s, WWNN %s%s", vport ? vport : "a vport",
                               c->parent, c->wwpn, c->wwnn, c->persist ? ", recorded" : "");
        hd_engine_event(c->e, c->actor, c->action, c->object, "ok", what);
        json_object_set_string_member(o, "host_id", c->host_id);
        json_object_set_boolean_member(o, "engine_assigned", TRUE);
        respond_object(c->req, o);
        call_finish(c);
}

/* The host's NPIV as it is now: the parent's port name, then the pair, reserved, then the
 * agent. */
static void on_create_read(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        g_autoptr(GString) names = g_string_new(NULL);
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *send = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;
        JsonArray *hosts = array_member(o, "fc_hosts");
        const char *parent_port = NULL;
        gboolean found = FALSE;

        if (!o) {
                respond_agent_failure(c, TRUE, status, body, error);
                return call_finish(c);
        }
        if (!record_seen(c, o, &local)) {
                hd_api_refuse(c->e, c->req, c->action, c->object, local);
                return call_finish(c);
        }
        for (guint i = 0; hosts && i < json_array_get_length(hosts); i++) {
                JsonObject *h = object_element(hosts, i);
                const char *name = string_member(h, "host");

                if (!name)
                        continue;
                g_string_append_printf(names, "%s%s", names->len ? ", " : "", name);
                if (strcmp(name, c->parent) == 0) {
                        found = TRUE;
                        parent_port = string_member(h, "port_name");
                }
        }
        if (!found) {
                g_set_error(&local, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND,
                            "host %s has no FC host %s; %s (GET /v1/hosts/%s/npiv)", c->host_id,
                            c->parent,
                            names->len ? names->str : "it has no FC host at all", c->host_id);
                hd_api_refuse(c->e, c->req, c->action, c->object, local);
                return call_finish(c);
        }
        if ((!*c->wwnn && !generate_free(c->e->store, c->wwpn, c->wwnn, &local)) ||
            (!*c->wwpn && !generate_free(c->e->store, c->wwnn, c->wwpn, &local))) {
                hd_api_refuse(c->e, c->req, c->action, c->object, local);
                return call_finish(c);
        }
        {
                char buf[19];
                if (!hd_store_npiv_reserve(c->e->store, c->host_id,
                                           hd_sync_wwn_canonical(parent_port, buf) ? buf : NULL,
                                           c->wwpn, c->wwnn, &local)) {
                        hd_api_refuse(c->e, c->req, c->action, c->object, local);
                        return call_finish(c);
                }
        }
        c->reserved = TRUE;
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_api_add_string(b, "parent", c->parent);
        hd_api_add_string(b, "wwpn", c->wwpn);
        hd_api_add_string(b, "wwnn", c->wwnn);
        json_builder_set_member_name(b, "persist");
        json_builder_add_boolean_value(b, c->persist);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        send = json_to_string(root, FALSE);
        hd_sync_agent_call(c->e->sync, c->host_id, "POST", "/v1/npiv", send, on_created, c);
}

static void npiv_create(HdEngine *e, HdHttpRequest *req, const char *host_id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = NULL;
        g_autoptr(JsonObject) o = NULL;
        Call *c = call_new(e, req, host_id, "host.npiv.create");

        o = hd_api_body_object(e, req, c->action, c->object);
        if (!o)
                return call_free(c);
        h = hd_store_host_get(e->store, host_id, &error);
        if (!h || !create_body(o, c, &error)) {
                hd_api_refuse(e, req, c->action, c->object, error);
                return call_free(c);
        }
        hd_http_request_suspend(req);
        hd_sync_agent_call(e->sync, host_id, "GET", "/v1/npiv", NULL, on_create_read, c);
}

/* ---- POST delete ---- */

static void on_deleted(guint status, GBytes *body, const GError *error, gpointer data)
{
        Call *c = data;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        g_autofree char *what = NULL;
        JsonObject *o = status == 200 ? hd_api_agent_answer_object(body, parser) : NULL;
        /* the vport is gone already (a reboot without persist): the engine's pair goes */
        gboolean gone = !o && !error && status == 404 && c->had_pair;

        if (!o && !gone) {
                respond_agent_failure(c, TRUE, status, body, error);
                return call_finish(c);
        }
        if (!hd_store_npiv_release(c->e->store, c->host_id, c->wwpn, &local)) {
                hd_api_refuse(c->e, c->req, c->action, c->object, local);
                return call_finish(c);
        }
        what = gone ? g_strdup_printf("WWPN %s: no vport has it on the host; the engine's pair "
                                      "is released",
                                      c->wwpn)
                    : g_strdup_printf("deleted the vport with WWPN %s%s", c->wwpn,
                                      c->had_pair ? "; the engine's pair is released" : "");
        hd_engine_event(c->e, c->actor, c->action, c->object, "ok", what);
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_api_add_string(b, "host_id", c->host_id);
        hd_api_add_string(b, "wwpn", c->wwpn);
        json_builder_set_member_name(b, "deleted");
        json_builder_add_boolean_value(b, !gone);
        json_builder_set_member_name(b, "released");
        json_builder_add_boolean_value(b, c->had_pair);
        json_builder_end_object(b);
        hd_api_respond_builder(c->req, HD_HTTP_OK, b);
        call_finish(c);
}

static void npiv_delete(HdEngine *e, HdHttpRequest *req, const char *host_id, const char *wwpn)
{
        static const char *const known[] = {"force", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = NULL;
        g_autoptr(GPtrArray) pairs = NULL;
        g_autofree char *path = NULL;
        g_autofree char *send = NULL;
        Call *c = call_new(e, req, host_id, "host.npiv.delete");
        gsize len = 0;
        guint64 v;
        JsonNode *force;

        hd_http_request_get_body(req, &len);
        o = len ? hd_api_body_object(e, req, c->action, c->object) : json_object_new();
        if (!o)
                return call_free(c);
        if (!hd_http_body_check_members(o, known, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                        &error))
                goto refuse;
        force = json_object_get_member(o, "force");
        if (force && (!JSON_NODE_HOLDS_VALUE(force) ||
                      json_node_get_value_type(force) != G_TYPE_BOOLEAN)) {
                invalid(&error, "\"force\" must be true or false");
                goto refuse;
        }
        c->force = force && json_node_get_boolean(force);
        if (!hd_npiv_wwn_parse(wwpn, "the WWPN in the path", &v, &error)) {
                error->domain = G_IO_ERROR;
                error->code = G_IO_ERROR_INVALID_ARGUMENT;
                goto refuse;
        }
        hd_npiv_wwn_format(v, c->wwpn);
        pairs = hd_store_host_npiv(e->store, host_id, &error);
        if (!pairs)
                goto refuse;
        for (guint i = 0; i < pairs->len; i++)
                if (strcmp(((HdNpivPair *)pairs->pdata[i])->wwpn, c->wwpn) == 0)
                        c->had_pair = TRUE;
        path = g_strdup_printf("/v1/npiv/%s/delete", c->wwpn);
        send = g_strdup_printf("{\"force\": %s}", c->force ? "true" : "false");
        hd_http_request_suspend(req);
        hd_sync_agent_call(e->sync, host_id, "POST", path, send, on_deleted, c);
        return;
refuse:
        hd_api_refuse(e, req, c->action, c->object, error);
        call_free(c);
}

/* ---- routing ---- */

void hd_api_route_npiv(HdEngine *e, HdHttpRequest *req, char **seg, guint n)
{
        const char *method = hd_http_request_get_method(req);

        if (!hd_api_check_query(req, NULL))
                return;
        if (n == 3) {
                if (hd_http_request_is_get(req)) {
                        g_autoptr(GError) error = NULL;
                        g_autoptr(HdHost) h = hd_store_host_get(e->store, seg[1], &error);

                        if (!h)
                                return hd_api_respond_gerror(req, error);
                        hd_http_request_suspend(req);
                        return hd_sync_agent_call(e->sync, seg[1], "GET", "/v1/npiv", NULL,
                                                  on_read,
                                                  call_new(e, req, seg[1], "host.npiv.get"));
                }
                if (strcmp(method, "POST") == 0)
                        return npiv_create(e, req, seg[1]);
                return hd_api_bad_method(req, "GET, POST");
        }
        if (strcmp(method, "POST") != 0)
                return hd_api_bad_method(req, "POST");
        npiv_delete(e, req, seg[1], seg[3]);
}
