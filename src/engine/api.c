/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's HTTP API (docs/api/engine-openapi.yaml) on the HTTP layer (src/http/http.h):
 *   GET  /healthz                         (no token)
 *   GET  /v1/hosts?status=&name_prefix=&passthrough=enabled|disabled&limit=&offset=
 *   POST /v1/hosts                        {name, agent_url, agent_token, tls_ca_file?,
 * tls_pinned_cert?} GET|PATCH|DELETE /v1/hosts/{id} GET  /v1/hosts/{id}/devices?driver=   GET
 * /v1/hosts/{id}/groups   (from the store only) POST /v1/hosts/{id}/refresh GET
 * /v1/events?since=ID&limit=N&wait=S   (a long poll when nothing is newer than ID), or ?tail=N
 *   GET|POST|DELETE /v1/session   (the portal's login, session.c); other paths: web.c
 *
 * Authentication and roles run in the headers hook, before a body byte is read: no or an
 * unknown bearer token is 401; a viewer token on anything but GET/HEAD is 403 (and an audit
 * row "refused"). Errors are the agent's shape {"error":{"code","message"}} with its codes
 * (invalid-argument 400, unauthorized 401, forbidden 403, not-found 404, method-not-allowed
 * 405, refused / exists 409, too-large 413). Unknown query parameters are refused, like
 * unknown body members. 401s are not written to the audit log (an anonymous client could fill
 * the disk); every authenticated change and refusal is.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine.h"

/* hd_http_request_set_data(): the interned "ROLE:NAME" of the caller's token, "session/ROLE:NAME"
 * when the portal's session cookie (session.c) stood for it */

static const char *caller_name(HdHttpRequest *req)
{
        const char *who = hd_http_request_get_data(req);
        const char *colon = who ? strchr(who, ':') : NULL;
        return colon ? colon + 1 : "anonymous";
}

static gboolean caller_via_session(HdHttpRequest *req)
{
        const char *who = hd_http_request_get_data(req);
        return who && g_str_has_prefix(who, "session/");
}

static gboolean caller_is_admin(HdHttpRequest *req)
{
        const char *who = hd_http_request_get_data(req);
        if (caller_via_session(req))
                who += strlen("session/");
        return who && g_str_has_prefix(who, "admin:");
}

void hd_engine_log(HdEngine *e, const char *level, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        if (strcmp(level, "debug") == 0 && !e->opts.verbose)
                return;
        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        fprintf(stderr, "hostdev-engine: %s: %s\n", level, message);
}

static void wake_event_waiters(HdEngine *e);

static gboolean wake_idle(gpointer data)
{
        HdEngine *e = data;

        e->wake_id = 0;
        wake_event_waiters(e);
        return G_SOURCE_REMOVE;
}

void hd_engine_event(HdEngine *e, const char *actor, const char *action, const char *object,
                     const char *result, const char *message)
{
        g_autoptr(GError) error = NULL;

        if (!hd_store_event_add(e->store, actor, action, object, result, message, &error))
                hd_engine_log(e, "warning", "cannot write the audit log: %s", error->message);
        else if (e->event_waiters && !e->wake_id)
                /* from the main loop, not from inside the HTTP layer's hooks */
                e->wake_id = g_idle_add(wake_idle, e);
}

/* ---- answers ---- */

static void respond_builder(HdHttpRequest *req, guint status, JsonBuilder *b)
{
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        hd_http_respond_take(req, status, "application/json", json_to_string(root, FALSE));
}

static void bad_method(HdHttpRequest *req, const char *allow)
{
        hd_http_request_set_header(req, "Allow", allow);
        hd_http_respond_error(req, HD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                              "%s is not allowed here; use %s", hd_http_request_get_method(req),
                              allow);
}

static guint store_status(const GError *error, const char **code)
{
        if (error->domain == HD_STORE_ERROR) {
                switch ((HdStoreError)error->code) {
                case HD_STORE_ERROR_NOT_FOUND:
                        *code = "not-found";
                        return HD_HTTP_NOT_FOUND;
                case HD_STORE_ERROR_EXISTS:
                        *code = "exists";
                        return HD_HTTP_CONFLICT;
                case HD_STORE_ERROR_REFUSED:
                        *code = "refused";
                        return HD_HTTP_CONFLICT;
                case HD_STORE_ERROR_FAILED:
                        break;
                }
        }
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
                *code = "invalid-argument";
                return HD_HTTP_BAD_REQUEST;
        }
        *code = "failed";
        return HD_HTTP_INTERNAL_SERVER_ERROR;
}

static void respond_gerror(HdHttpRequest *req, const GError *error)
{
        const char *code;
        guint status = store_status(error, &code);
        hd_http_respond_error(req, status, code, "%s", error->message);
}

/* Answer a failed change and write its audit row ("refused" for 4xx, "failed" for 5xx). */
static void refuse(HdEngine *e, HdHttpRequest *req, const char *action, const char *object,
                   const GError *error)
{
        const char *code;
        guint status = store_status(error, &code);

        hd_engine_event(e, caller_name(req), action, object, status < 500 ? "refused" : "failed",
                        error->message);
        hd_http_respond_error(req, status, code, "%s", error->message);
}

/* ---- query parameters ---- */

static gboolean check_query(HdHttpRequest *req, const char *const *allowed)
{
        GHashTable *q = hd_http_request_get_query(req);
        GHashTableIter it;
        gpointer key;

        if (!q)
                return TRUE;
        g_hash_table_iter_init(&it, q);
        while (g_hash_table_iter_next(&it, &key, NULL))
                if (!allowed || !g_strv_contains(allowed, key)) {
                        g_autofree char *shown = g_utf8_make_valid(key, MIN(strlen(key), 64));
                        hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                              "unknown query parameter \"%s\"", shown);
                        return FALSE;
                }
        return TRUE;
}

static const char *query(HdHttpRequest *req, const char *name)
{
        GHashTable *q = hd_http_request_get_query(req);
        return q ? g_hash_table_lookup(q, name) : NULL;
}

static gboolean query_uint(HdHttpRequest *req, const char *name, guint64 min, guint64 max,
                           guint64 *out)
{
        const char *v = query(req, name);

        if (!v)
                return TRUE;
        if (!g_ascii_string_to_unsigned(v, 10, min, max, out, NULL)) {
                g_autofree char *shown = g_utf8_make_valid(v, MIN(strlen(v), 32));
                hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                      "%s=%s: give a whole number from %" G_GUINT64_FORMAT
                                      " to %" G_GUINT64_FORMAT,
                                      name, shown, min, max);
                return FALSE;
        }
        return TRUE;
}

/* ---- hosts ---- */

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

static void add_json_array(JsonBuilder *b, const char *name, const char *json)
{
        g_autoptr(JsonNode) n = json ? json_from_string(json, NULL) : NULL;

        json_builder_set_member_name(b, name);
        if (n)
                json_builder_add_value(b, g_steal_pointer(&n));
        else
                json_builder_add_null_value(b);
}

/* A host as the API shows it: never the agent token. */
static void add_host(JsonBuilder *b, const HdHost *h)
{
        json_builder_begin_object(b);
        add_string(b, "id", h->id);
        add_string(b, "name", h->name);
        add_string(b, "agent_url", h->agent_url);
        add_string(b, "tls_ca_file", h->tls_ca_file);
        add_string(b, "tls_pinned_cert", h->tls_pinned_cert);
        add_string(b, "status", hd_host_status_to_string(h->status));
        add_string(b, "last_error", h->last_error);
        add_string(b, "retry_at", h->status == HD_HOST_NON_RESPONSIVE ? h->retry_at : NULL);
        json_builder_set_member_name(b, "retry_seconds");
        json_builder_add_int_value(b, h->status == HD_HOST_NON_RESPONSIVE ? h->retry_seconds : 0);
        json_builder_set_member_name(b, "passthrough");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "enabled");
        if (h->passthrough < 0)
                json_builder_add_null_value(b);
        else
                json_builder_add_boolean_value(b, h->passthrough == 1);
        add_string(b, "reason", h->passthrough_reason);
        json_builder_end_object(b);
        add_string(b, "cpu_vendor", h->cpu_vendor);
        add_string(b, "kernel_release", h->kernel_release);
        json_builder_set_member_name(b, "kernel_args");
        json_builder_begin_object(b);
        add_json_array(b, "running", h->kernel_args_running);
        add_json_array(b, "configured", h->kernel_args_configured);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "device_count");
        json_builder_add_int_value(b, h->device_count);
        json_builder_set_member_name(b, "group_count");
        json_builder_add_int_value(b, h->group_count);
        add_string(b, "last_sync", h->last_sync);
        add_string(b, "created_at", h->created_at);
        add_string(b, "updated_at", h->updated_at);
        json_builder_end_object(b);
}

static void respond_host(HdEngine *e, HdHttpRequest *req, guint status, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();

        if (!h)
                return respond_gerror(req, error);
        add_host(b, h);
        respond_builder(req, status, b);
}

static void list_hosts(HdEngine *e, HdHttpRequest *req)
{
        static const char *const params[] = {"status", "name_prefix", "passthrough",
                                             "limit",  "offset",      NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        HdHostFilter f = {.passthrough = -1};
        guint64 limit = 100, offset = 0;
        const char *pt = query(req, "passthrough");
        HdHostStatus st;
        guint total = 0;

        if (!check_query(req, params) || !query_uint(req, "limit", 1, 1000, &limit) ||
            !query_uint(req, "offset", 0, G_MAXINT32, &offset))
                return;
        f.status = query(req, "status");
        if (f.status && !hd_host_status_from_string(f.status, &st))
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "status must be connecting, up, maintenance, "
                                             "rebooting or non_responsive");
        if (pt && strcmp(pt, "enabled") != 0 && strcmp(pt, "disabled") != 0)
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "passthrough must be enabled or disabled");
        if (pt)
                f.passthrough = strcmp(pt, "enabled") == 0;
        f.name_prefix = query(req, "name_prefix");
        f.limit = (guint)limit;
        f.offset = (guint)offset;
        hosts = hd_store_hosts_list(e->store, &f, &total, &error);
        if (!hosts)
                return respond_gerror(req, error);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "hosts");
        json_builder_begin_array(b);
        for (guint i = 0; i < hosts->len; i++)
                add_host(b, hosts->pdata[i]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "total");
        json_builder_add_int_value(b, total);
        json_builder_set_member_name(b, "limit");
        json_builder_add_int_value(b, (gint64)limit);
        json_builder_set_member_name(b, "offset");
        json_builder_add_int_value(b, (gint64)offset);
        json_builder_end_object(b);
        respond_builder(req, HD_HTTP_OK, b);
}

static JsonObject *body_object(HdEngine *e, HdHttpRequest *req, const char *action,
                               const char *object)
{
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        const char *data = hd_http_request_get_body(req, &len);
        JsonObject *o;

        if (len > HD_ENGINE_MAX_BODY) { /* the HTTP layer refused more already */
                hd_http_respond_error(req, HD_HTTP_PAYLOAD_TOO_LARGE, "too-large",
                                      "the request body is larger than %d bytes",
                                      HD_ENGINE_MAX_BODY);
                return NULL;
        }
        o = hd_engine_body_parse(data, len, &error);
        if (!o)
                refuse(e, req, action, object, error);
        return o;
}

static void add_host_call(HdEngine *e, HdHttpRequest *req)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = body_object(e, req, "host.add", "hosts");
        g_auto(HdHostBody) hb = {0};
        g_autofree char *id = NULL;
        g_autofree char *object = NULL;

        if (!o)
                return;
        if (!hd_engine_body_host(o, TRUE, &hb, &error))
                return refuse(e, req, "host.add", "hosts", error);
        object = g_strdup_printf("host %s", hb.name);
        if (!hd_store_host_add(e->store, hb.name, hb.agent_url, hb.agent_token, hb.tls_ca_file,
                               hb.tls_pinned_cert, &id, &error))
                return refuse(e, req, "host.add", object, error);
        g_free(object);
        object = g_strdup_printf("host %s (%s)", hb.name, id);
        hd_engine_event(e, caller_name(req), "host.add", object, "ok", hb.agent_url);
        hd_sync_host_start(e->sync, id);
        {
                g_autofree char *location = g_strconcat("/v1/hosts/", id, NULL);
                hd_http_request_set_header(req, "Location", location);
        }
        respond_host(e, req, 201, id);
}

static void edit_host(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = g_strdup_printf("host %s", id);
        g_autoptr(JsonObject) o = body_object(e, req, "host.edit", object);
        g_auto(HdHostBody) hb = {0};
        gboolean reconnect;

        if (!o)
                return;
        if (!hd_engine_body_host(o, FALSE, &hb, &error))
                return refuse(e, req, "host.edit", object, error);
        reconnect = hb.agent_url || hb.agent_token || hb.tls_ca_file || hb.tls_pinned_cert;
        if (!hd_store_host_edit(e->store, id, hb.name, hb.agent_url, hb.agent_token, hb.tls_ca_file,
                                hb.tls_pinned_cert, &error))
                return refuse(e, req, "host.edit", object, error);
        {
                g_autoptr(GList) names = json_object_get_members(o);
                g_autoptr(GString) what = g_string_new("changed:");
                for (GList *l = names; l; l = l->next)
                        g_string_append_printf(what, " %s", (const char *)l->data);
                hd_engine_event(e, caller_name(req), "host.edit", object, "ok", what->str);
        }
        if (reconnect)
                hd_sync_host_start(e->sync, id);
        respond_host(e, req, HD_HTTP_OK, id);
}

static void remove_host(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = g_strdup_printf("host %s", id);

        if (!hd_store_host_remove(e->store, id, &error))
                return refuse(e, req, "host.remove", object, error);
        hd_sync_host_stop(e->sync, id);
        hd_engine_event(e, caller_name(req), "host.remove", object, "ok", "removed");
        hd_http_respond_empty(req, 204);
}

static void refresh_host(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = g_strdup_printf("host %s", id);
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);
        gsize len = 0;

        hd_http_request_get_body(req, &len);
        if (!h)
                return refuse(e, req, "host.refresh", object, error);
        if (len > 0) {
                g_autoptr(JsonObject) o = body_object(e, req, "host.refresh", object);
                if (!o)
                        return;
                if (json_object_get_size(o) > 0) {
                        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "refresh takes no members; send {} or no body");
                        return refuse(e, req, "host.refresh", object, error);
                }
        }
        hd_sync_host_start(e->sync, id);
        hd_engine_event(e, caller_name(req), "host.refresh", object, "ok",
                        "inventory and readiness re-read from the agent");
        hd_http_respond_text(req, 202, "application/json", "{\"refreshing\":true}");
}

static void list_inventory(HdEngine *e, HdHttpRequest *req, const char *id, HdInvKind kind)
{
        static const char *const dev_params[] = {"driver", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = NULL;
        g_autoptr(HdHost) h = NULL;
        GString *out;

        if (!check_query(req, kind == HD_INV_DEVICES ? dev_params : NULL))
                return;
        h = hd_store_host_get(e->store, id, &error);
        items =
            h ? hd_store_inventory_list(e->store, id, kind, query(req, "driver"), &error) : NULL;
        if (!items)
                return respond_gerror(req, error);
        /* the agent's objects as stored, spliced as they are */
        out = g_string_new("{\"host_id\":");
        {
                g_autoptr(JsonNode) n = json_node_init_string(json_node_alloc(), id);
                g_autofree char *s = json_to_string(n, FALSE);
                g_string_append(out, s);
        }
        g_string_append_printf(
            out, ",\"status\":\"%s\",\"last_sync\":", hd_host_status_to_string(h->status));
        if (h->last_sync)
                g_string_append_printf(out, "\"%s\"", h->last_sync);
        else
                g_string_append(out, "null");
        g_string_append(out, kind == HD_INV_DEVICES ? ",\"devices\":[" : ",\"groups\":[");
        for (guint i = 0; i < items->len; i++) {
                if (i)
                        g_string_append_c(out, ',');
                g_string_append(out, items->pdata[i]);
        }
        g_string_append(out, "]}");
        hd_http_respond_take(req, HD_HTTP_OK, "application/json", g_string_free(out, FALSE));
}

static void route_hosts(HdEngine *e, HdHttpRequest *req, char **seg, guint n)
{
        const char *method = hd_http_request_get_method(req);
        gboolean get = hd_http_request_is_get(req);

        if (n == 1) {
                if (get)
                        return list_hosts(e, req);
                if (strcmp(method, "POST") == 0)
                        return check_query(req, NULL) ? add_host_call(e, req) : (void)0;
                return bad_method(req, "GET, POST");
        }
        /* only devices takes a parameter (list_inventory checks it) */
        if (!(n == 3 && strcmp(seg[2], "devices") == 0) && !check_query(req, NULL))
                return;
        if (n == 2) {
                if (get)
                        return respond_host(e, req, HD_HTTP_OK, seg[1]);
                if (strcmp(method, "PATCH") == 0)
                        return edit_host(e, req, seg[1]);
                if (strcmp(method, "DELETE") == 0)
                        return remove_host(e, req, seg[1]);
                return bad_method(req, "GET, PATCH, DELETE");
        }
        if (n == 3 && (strcmp(seg[2], "devices") == 0 || strcmp(seg[2], "groups") == 0)) {
                if (!get)
                        return bad_method(req, "GET");
                return list_inventory(e, req, seg[1],
                                      strcmp(seg[2], "devices") == 0 ? HD_INV_DEVICES
                                                                     : HD_INV_GROUPS);
        }
        if (n == 3 && strcmp(seg[2], "refresh") == 0) {
                if (strcmp(method, "POST") != 0)
                        return bad_method(req, "POST");
                return refresh_host(e, req, seg[1]);
        }
        hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s",
                              hd_http_request_get_path(req));
}

/* ---- events ---- */

/* Answer @req with the events after @since (at most @limit); the number answered. */
static guint answer_events(HdEngine *e, HdHttpRequest *req, gint64 since, guint limit)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) events = hd_store_events_list(e->store, since, limit, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();
        gint64 last = since;

        if (!events) {
                respond_gerror(req, error);
                return 0;
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "events");
        json_builder_begin_array(b);
        for (guint i = 0; i < events->len; i++) {
                const HdEvent *ev = events->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "id");
                json_builder_add_int_value(b, ev->id);
                add_string(b, "at", ev->at);
                add_string(b, "actor", ev->actor);
                add_string(b, "action", ev->action);
                add_string(b, "object", ev->object);
                add_string(b, "result", ev->result);
                add_string(b, "message", ev->message);
                json_builder_end_object(b);
                last = ev->id;
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "last_id");
        json_builder_add_int_value(b, last);
        json_builder_end_object(b);
        respond_builder(req, HD_HTTP_OK, b);
        return events->len;
}

/* A long poll on the audit log (the portal's way to follow changes without polling). A
 * suspended request is not watched by the HTTP layer: a caller that goes away is noticed when
 * the wait ends (at most 300 s). Events written by another process (hostdev-engine token ...)
 * are seen at the end of the wait. */
typedef struct {
        HdEngine *e;
        HdHttpRequest *req;
        gint64 since;
        guint limit;
        guint timeout_id;
} EventWaiter;

static void event_waiter_answer(EventWaiter *w)
{
        w->e->event_waiters = g_list_remove(w->e->event_waiters, w);
        g_clear_handle_id(&w->timeout_id, g_source_remove);
        answer_events(w->e, w->req, w->since, w->limit);
        hd_http_request_resume(w->req);
        hd_http_request_unref(w->req);
        g_free(w);
}

static gboolean event_waiter_timeout(gpointer data)
{
        EventWaiter *w = data;

        w->timeout_id = 0;
        event_waiter_answer(w);
        return G_SOURCE_REMOVE;
}

/* An event was written: every waiter gets it (they all wait for id > since <= the new id). */
static void wake_event_waiters(HdEngine *e)
{
        while (e->event_waiters)
                event_waiter_answer(e->event_waiters->data);
}

static void list_events(HdEngine *e, HdHttpRequest *req)
{
        static const char *const params[] = {"since", "limit", "wait", "tail", NULL};
        guint64 since = 0, limit = 100, wait = 0, tail = 0;
        EventWaiter *w;

        if (!check_query(req, params) || !query_uint(req, "since", 0, G_MAXINT64, &since) ||
            !query_uint(req, "limit", 1, 1000, &limit) || !query_uint(req, "wait", 0, 300, &wait) ||
            !query_uint(req, "tail", 1, 1000, &tail))
                return;
        if (tail) { /* the newest events (the portal's first page): ids are dense (store.h 4) */
                g_autoptr(GError) error = NULL;
                gint64 last = hd_store_events_last_id(e->store, &error);
                if (last < 0)
                        return respond_gerror(req, error);
                if (query(req, "since") || query(req, "wait"))
                        return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                                     "tail=N answers the newest N events; it "
                                                     "takes neither since nor wait");
                answer_events(e, req, MAX(last - (gint64)tail, 0), (guint)tail);
                return;
        }
        if (answer_events(e, req, (gint64)since, (guint)limit) > 0 || wait == 0 ||
            hd_http_request_get_status(req) != HD_HTTP_OK)
                return;
        /* nothing new yet: wait for the next event or the end of the wait */
        w = g_new0(EventWaiter, 1);
        w->e = e;
        w->req = hd_http_request_ref(req);
        w->since = (gint64)since;
        w->limit = (guint)limit;
        w->timeout_id = g_timeout_add_seconds((guint)wait, event_waiter_timeout, w);
        e->event_waiters = g_list_prepend(e->event_waiters, w);
        hd_http_request_suspend(req); /* drops the empty answer given above */
}

/* ---- authentication, routing ---- */

static gboolean authenticate(HdEngine *e, HdHttpRequest *req)
{
        const char *auth = hd_http_request_get_header(req, "Authorization");
        g_autoptr(GError) error = NULL;
        gboolean had_cookie = FALSE;

        if (!auth) { /* the portal's session cookie (session.c) */
                g_autoptr(HdToken) t = hd_engine_session_lookup(e, req, &had_cookie, &error);
                if (t) {
                        g_autofree char *who = g_strconcat("session/", t->role, ":", t->name, NULL);
                        hd_http_request_set_data(req, (gpointer)g_intern_string(who));
                        return TRUE;
                }
                if (error) {
                        hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "failed",
                                              "the engine cannot read its sessions: %s",
                                              error->message);
                        return FALSE;
                }
        }

        if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0) {
                g_autofree char *copy = g_strdup(auth + 7);
                const char *token = g_strstrip(copy);
                g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
                g_autoptr(HdToken) t = NULL;

                explicit_bzero(copy, strlen(copy));
                t = hd_store_token_find(e->store, hash, &error);
                if (t) {
                        g_autofree char *who = g_strconcat(t->role, ":", t->name, NULL);
                        /* interned: bounded by the token names, nothing to free per request */
                        hd_http_request_set_data(req, (gpointer)g_intern_string(who));
                        return TRUE;
                }
                if (error) {
                        hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "failed",
                                              "the engine cannot read its tokens: %s",
                                              error->message);
                        return FALSE;
                }
        }
        hd_http_request_set_header(req, "WWW-Authenticate", "Bearer realm=\"hostdev-engine\"");
        if (had_cookie) /* the portal logs in again on this answer */
                hd_http_respond_error(req, HD_HTTP_UNAUTHORIZED, "unauthorized",
                                      "the portal's session has ended (expired, logged out or "
                                      "its token revoked); log in again");
        else
                hd_http_respond_error(
                    req, HD_HTTP_UNAUTHORIZED, "unauthorized",
                    auth ? "the bearer token is not valid for this engine"
                         : "this call needs \"Authorization: Bearer TOKEN\" or the portal's "
                           "session (hostdev-engine token create NAME --role admin|viewer "
                           "makes a token)");
        return FALSE;
}

/* Before the body: the token, the role. TRUE: read the body. */
static gboolean on_headers(HdHttpRequest *req, gpointer user_data)
{
        HdEngine *e = user_data;
        const char *path = hd_http_request_get_path(req);
        gboolean session_call = strcmp(path, "/v1/session") == 0;

        hd_engine_web_common_headers(req);
        if (strcmp(path, "/healthz") == 0)
                return FALSE;
        if (!g_str_has_prefix(path, "/v1/")) { /* the portal's files (web.c) */
                hd_engine_web_serve(e, req);
                return FALSE;
        }
        hd_http_request_set_header(req, "Cache-Control", "no-store");
        if (session_call && strcmp(hd_http_request_get_method(req), "POST") == 0)
                /* the login: its token is in the body */
                return hd_engine_session_check_csrf(e, req);
        if (!authenticate(e, req))
                return FALSE;
        if (hd_http_request_is_get(req))
                return FALSE;
        if (caller_via_session(req) && !hd_engine_session_check_csrf(e, req))
                return FALSE;
        if (session_call) /* any role may log out */
                return FALSE;
        if (!caller_is_admin(req)) {
                g_autofree char *what =
                    g_strdup_printf("%s %s", hd_http_request_get_method(req), path);
                hd_engine_event(e, caller_name(req), "api.call", what, "refused",
                                "a viewer token may only read");
                hd_http_respond_error(req, HD_HTTP_FORBIDDEN, "forbidden",
                                      "the token \"%s\" has the viewer role: it may only read; "
                                      "%s needs an admin token",
                                      caller_name(req), what);
                return FALSE;
        }
        return TRUE;
}

static void on_request(HdHttpRequest *req, gpointer user_data)
{
        HdEngine *e = user_data;
        const char *path = hd_http_request_get_path(req);
        g_auto(GStrv) seg = NULL;
        guint n;

        if (hd_http_request_is_answered(req))
                return;
        if (strcmp(path, "/healthz") == 0) {
                if (!hd_http_request_is_get(req))
                        return bad_method(req, "GET");
                return hd_http_respond_text(req, HD_HTTP_OK, "application/json",
                                            "{\"status\":\"ok\"}");
        }
        if (!g_str_has_prefix(path, "/v1/"))
                return hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found",
                                             "no such endpoint %s (the API is under /v1, see "
                                             "docs/api/engine-openapi.yaml)",
                                             path);
        seg = g_strsplit(path + 4, "/", -1);
        n = g_strv_length(seg);
        for (guint i = 0; i < n; i++)
                if (!*seg[i])
                        return hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found",
                                                     "no such endpoint %s", path);
        if (n == 1 && strcmp(seg[0], "session") == 0)
                return hd_engine_session_call(e, req, hd_http_request_get_data(req),
                                              caller_via_session(req));
        if (n >= 1 && n <= 3 && strcmp(seg[0], "hosts") == 0)
                return route_hosts(e, req, seg, n);
        if (n == 1 && strcmp(seg[0], "events") == 0) {
                if (!hd_http_request_is_get(req))
                        return bad_method(req, "GET");
                return list_events(e, req);
        }
        hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s", path);
}

static void on_done(HdHttpRequest *req, gboolean aborted, gpointer user_data)
{
        HdEngine *e = user_data;
        double ms = (g_get_monotonic_time() - hd_http_request_get_start(req)) / 1e3;

        hd_engine_log(e, aborted ? "info" : "debug", "%s %s %u %.3f ms%s",
                      hd_http_request_get_method(req), hd_http_request_get_path(req) ?: "?",
                      hd_http_request_get_status(req), ms, aborted ? " (aborted)" : "");
}

static void on_http_log(const char *level, const char *message, gpointer user_data)
{
        hd_engine_log(user_data, level, "http: %s", message);
}

gboolean hd_engine_api_start(HdEngine *e, GError **error)
{
        HdHttpConfig cfg = {
            .listen = e->opts.listen,
            .tls_cert_file = e->opts.tls_cert,
            .tls_key_file = e->opts.tls_key,
            .server_name = "hostdev-engine/" HOSTDEV_VERSION,
            .max_connections = e->opts.max_connections,
            .max_per_peer = e->opts.max_per_peer,
            .idle_timeout = e->opts.idle_timeout,
            .max_body = HD_ENGINE_MAX_BODY,
            .headers = on_headers,
            .handler = on_request,
            .done = on_done,
            .log = on_http_log,
            .user_data = e,
        };

        e->server = hd_http_server_new(&cfg, error);
        if (!e->server)
                return FALSE;
        if (!hd_http_server_is_loopback(e->server))
                hd_engine_log(e, "warning",
                              "listening beyond loopback (%s%s): every caller that can reach "
                              "it and holds an admin token may change the fleet",
                              e->opts.listen, e->opts.tls_cert ? ", TLS" : ", no TLS");
        /* the first line on stdout: how a supervisor or a test learns the port */
        g_print("listening %s\n", hd_http_server_get_url(e->server));
        fflush(stdout);
        return TRUE;
}

void hd_engine_api_stop(HdEngine *e)
{
        /* the long polls get what there is before the server goes */
        g_clear_handle_id(&e->wake_id, g_source_remove);
        wake_event_waiters(e);
        g_clear_pointer(&e->server, hd_http_server_free);
}
