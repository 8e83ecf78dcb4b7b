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

#include "api.h"

/* hd_http_request_set_data(): the interned "ROLE:NAME" of the caller's token, "session/ROLE:NAME"
 * when the portal's session cookie (session.c) stood for it */

const char *hd_api_caller(HdHttpRequest *req)
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

gboolean hd_api_caller_is_admin(HdHttpRequest *req)
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

static gboolean wake_idle(gpointer data)
{
        HdEngine *e = data;

        e->wake_id = 0;
        hd_api_events_wake(e);
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

void hd_api_respond_builder(HdHttpRequest *req, guint status, JsonBuilder *b)
{
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        hd_http_respond_take(req, status, "application/json", json_to_string(root, FALSE));
}

void hd_api_bad_method(HdHttpRequest *req, const char *allow)
{
        hd_http_request_set_header(req, "Allow", allow);
        hd_http_respond_error(req, HD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                              "%s is not allowed here; use %s", hd_http_request_get_method(req),
                              allow);
}

guint hd_api_error_status(const GError *error, const char **code)
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
                case HD_STORE_ERROR_CHANGED:
                        *code = "changed";
                        return HD_HTTP_PRECONDITION_FAILED;
                case HD_STORE_ERROR_IN_USE:
                        *code = "in-use";
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

void hd_api_respond_gerror(HdHttpRequest *req, const GError *error)
{
        const char *code;
        guint status = hd_api_error_status(error, &code);
        hd_http_respond_error(req, status, code, "%s", error->message);
}

/* Answer a failed change and write its audit row ("refused" for 4xx, "failed" for 5xx). */
void hd_api_refuse(HdEngine *e, HdHttpRequest *req, const char *action, const char *object,
                   const GError *error)
{
        const char *code;
        guint status = hd_api_error_status(error, &code);

        hd_engine_event(e, hd_api_caller(req), action, object, status < 500 ? "refused" : "failed",
                        error->message);
        hd_http_respond_error(req, status, code, "%s", error->message);
}

/* ---- query parameters ---- */

gboolean hd_api_check_query(HdHttpRequest *req, const char *const *allowed)
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

const char *hd_api_query(HdHttpRequest *req, const char *name)
{
        GHashTable *q = hd_http_request_get_query(req);
        return q ? g_hash_table_lookup(q, name) : NULL;
}

gboolean hd_api_query_uint(HdHttpRequest *req, const char *name, guint64 min, guint64 max,
                           guint64 *out)
{
        const char *v = hd_api_query(req, name);

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

/* ---- JSON members ---- */

void hd_api_add_string(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

void hd_api_add_json_array(JsonBuilder *b, const char *name, const char *json)
{
        g_autoptr(JsonNode) n = json ? json_from_string(json, NULL) : NULL;

        json_builder_set_member_name(b, name);
        if (n)
                json_builder_add_value(b, g_steal_pointer(&n));
        else
                json_builder_add_null_value(b);
}

/* ---- request bodies ---- */

JsonObject *hd_api_body_object(HdEngine *e, HdHttpRequest *req, const char *action,
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
                hd_api_refuse(e, req, action, object, error);
        return o;
}

gboolean hd_api_no_members(HdEngine *e, HdHttpRequest *req, const char *action, const char *object,
                           const char *name)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = NULL;
        gsize len = 0;

        hd_http_request_get_body(req, &len);
        if (len == 0)
                return TRUE;
        o = hd_api_body_object(e, req, action, object);
        if (!o)
                return FALSE;
        if (json_object_get_size(o) > 0) {
                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "%s takes no members; send {} or no body", name);
                hd_api_refuse(e, req, action, object, error);
                return FALSE;
        }
        return TRUE;
}

char *hd_api_changed_members(JsonObject *o)
{
        g_autoptr(GList) names = json_object_get_members(o);
        GString *what = g_string_new("changed:");

        for (GList *l = names; l; l = l->next)
                g_string_append_printf(what, " %s", (const char *)l->data);
        return g_string_free(what, FALSE);
}

void hd_api_respond_page(HdHttpRequest *req, const char *member, GPtrArray *items, HdApiAddFunc add,
                         guint total, guint64 limit, guint64 offset)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_builder_set_member_name(b, member);
        json_builder_begin_array(b);
        for (guint i = 0; i < items->len; i++)
                add(b, items->pdata[i]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "total");
        json_builder_add_int_value(b, total);
        json_builder_set_member_name(b, "limit");
        json_builder_add_int_value(b, (gint64)limit);
        json_builder_set_member_name(b, "offset");
        json_builder_add_int_value(b, (gint64)offset);
        json_builder_end_object(b);
        hd_api_respond_builder(req, HD_HTTP_OK, b);
}

JsonObject *hd_api_agent_answer_object(GBytes *body, JsonParser *parser)
{
        gsize len = 0;
        const char *data = body ? g_bytes_get_data(body, &len) : NULL;
        JsonNode *root;

        if (!data || !json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
            !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root))
                return NULL;
        return json_node_get_object(root);
}

char *hd_api_agent_error_member(GBytes *body, const char *name)
{
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        JsonObject *o = hd_api_agent_answer_object(body, parser);
        JsonNode *en = o ? json_object_get_member(o, "error") : NULL;
        JsonNode *m;

        if (!en || !JSON_NODE_HOLDS_OBJECT(en))
                return NULL;
        m = json_object_get_member(json_node_get_object(en), name);
        if (!m || !JSON_NODE_HOLDS_VALUE(m) || json_node_get_value_type(m) != G_TYPE_STRING)
                return NULL;
        return g_strdup(json_node_get_string(m));
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
        if (!hd_api_caller_is_admin(req)) {
                g_autofree char *what =
                    g_strdup_printf("%s %s", hd_http_request_get_method(req), path);
                hd_engine_event(e, hd_api_caller(req), "api.call", what, "refused",
                                "a viewer token may only read");
                hd_http_respond_error(req, HD_HTTP_FORBIDDEN, "forbidden",
                                      "the token \"%s\" has the viewer role: it may only read; "
                                      "%s needs an admin token",
                                      hd_api_caller(req), what);
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
                        return hd_api_bad_method(req, "GET");
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
        if (((n >= 1 && n <= 3) || n == 5) && strcmp(seg[0], "hosts") == 0)
                return hd_api_route_hosts(e, req, seg, n);
        if (n >= 1 && n <= 4 && strcmp(seg[0], "vms") == 0)
                return hd_api_route_vms(e, req, seg, n);
        if (n == 1 && strcmp(seg[0], "events") == 0) {
                if (!hd_http_request_is_get(req))
                        return hd_api_bad_method(req, "GET");
                return hd_api_list_events(e, req);
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
        hd_api_events_wake(e);
        g_clear_pointer(&e->server, hd_http_server_free);
}
