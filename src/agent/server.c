/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP side: a SoupServer on the address of --listen (loopback by default), HTTPS when a
 * certificate is given, bearer-token authentication, the body size limit, routing to the
 * api-*.c modules, JSON errors and the access log.
 *
 * Authentication and the size limit run in an early handler, after the headers and before the
 * body is read: a caller without the token, or with a body over HD_AGENT_MAX_BODY, costs the
 * agent nothing but the headers.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

#define ACCESS_KEY "hostdevd-access"
#define START_KEY "hostdevd-start"

/* ---- responses ---------------------------------------------------------------------------- */

void hd_respond_json(SoupServerMessage *msg, guint status, const char *json)
{
        soup_server_message_set_status(msg, status, NULL);
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json,
                                         strlen(json));
}

void hd_respond_builder(SoupServerMessage *msg, guint status, JsonBuilder *b)
{
        g_autofree char *s = hd_json_to_string(b, FALSE);

        hd_respond_json(msg, status, s);
}

static void respond_error_literal(SoupServerMessage *msg, guint status, const char *code,
                                  const char *message)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "error");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "code");
        json_builder_add_string_value(b, code);
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, message);
        json_builder_end_object(b);
        json_builder_end_object(b);
        hd_respond_builder(msg, status, b);
}

void hd_respond_error(SoupServerMessage *msg, guint status, const char *code, const char *format,
                      ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        respond_error_literal(msg, status, code, message);
}

/* hd-error.h: INVALID_ARGUMENT 400, NOT_FOUND 404, REFUSED/BUSY 409, the rest 500. */
guint hd_http_status_for_error(const GError *error)
{
        if (error->domain != HD_ERROR)
                return SOUP_STATUS_INTERNAL_SERVER_ERROR;
        switch ((HdError)error->code) {
        case HD_ERROR_INVALID_ARGUMENT:
                return SOUP_STATUS_BAD_REQUEST;
        case HD_ERROR_NOT_FOUND:
                return SOUP_STATUS_NOT_FOUND;
        case HD_ERROR_REFUSED:
        case HD_ERROR_BUSY:
                return SOUP_STATUS_CONFLICT;
        case HD_ERROR_NOT_SUPPORTED:
        case HD_ERROR_NOT_SYSFS:
        case HD_ERROR_FAILED:
                break;
        }
        return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

void hd_respond_gerror(SoupServerMessage *msg, const GError *error)
{
        respond_error_literal(msg, hd_http_status_for_error(error), hd_error_code_name(error),
                              error->message);
}

void hd_respond_bad_method(SoupServerMessage *msg, const char *allow)
{
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
        hd_respond_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                         "%s is not allowed here; use %s", soup_server_message_get_method(msg),
                         allow);
}

/* ---- request bodies ----------------------------------------------------------------------- */

JsonObject *hd_request_json_object(HdRequest *req)
{
        SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
        g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        const char *data = g_bytes_get_data(bytes, &len);
        JsonObject *o;

        /* a chunked body has no Content-Length for the early check */
        if (len > HD_AGENT_MAX_BODY) {
                hd_respond_error(req->msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                                 "the request body has %" G_GSIZE_FORMAT " bytes; the limit is "
                                 "%d",
                                 len, HD_AGENT_MAX_BODY);
                return NULL;
        }
        o = hd_body_parse(data, len, &error);
        if (!o)
                hd_respond_gerror(req->msg, error);
        return o;
}

/* ---- authentication, limits, routing ------------------------------------------------------ */

static gboolean is_public(const char *path)
{
        return strcmp(path, "/healthz") == 0;
}

static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user_data)
{
        HdAgent *agent = user_data;
        SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
        const char *auth;
        goffset length;

        if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
            (length = soup_message_headers_get_content_length(h)) > HD_AGENT_MAX_BODY) {
                soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                             "Connection", "close");
                hd_respond_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                                 "the request body has %" G_GOFFSET_FORMAT " bytes; the limit "
                                 "is %d",
                                 length, HD_AGENT_MAX_BODY);
                return;
        }
        if (is_public(path))
                return;
        auth = soup_message_headers_get_one(h, "Authorization");
        if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0) {
                const char *token = auth + 7;
                while (*token == ' ')
                        token++;
                if (hd_token_equal(token, agent->token)) {
                        g_object_set_data(G_OBJECT(msg), ACCESS_KEY,
                                          GINT_TO_POINTER(HD_ACCESS_WRITE + 1));
                        return;
                }
                if (hd_token_equal(token, agent->ro_token)) {
                        g_object_set_data(G_OBJECT(msg), ACCESS_KEY,
                                          GINT_TO_POINTER(HD_ACCESS_READ + 1));
                        return;
                }
        }
        soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                     "WWW-Authenticate", "Bearer realm=\"hostdevd\"");
        hd_respond_error(msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                         auth ? "the bearer token is not valid for this host"
                              : "this call needs \"Authorization: Bearer TOKEN\" (the token is "
                                "in the agent's token file)");
}

static gboolean is_mutating(const char *method)
{
        return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data)
{
        HdAgent *agent = user_data;
        const char *method = soup_server_message_get_method(msg);
        HdRequest req = {.agent = agent, .msg = msg, .method = method, .query = query};
        g_auto(GStrv) parts = NULL;
        g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func(g_free);
        gboolean handled = FALSE;

        if (strcmp(path, "/healthz") == 0) {
                if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                        return hd_respond_bad_method(msg, "GET");
                hd_respond_json(msg, SOUP_STATUS_OK,
                                agent->stopping ? "{\"status\":\"stopping\"}"
                                                : "{\"status\":\"ok\"}");
                return;
        }
        if (agent->stopping) {
                hd_respond_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "stopping",
                                 "hostdevd is shutting down");
                return;
        }
        if (strcmp(path, "/metrics") == 0) {
                g_autofree char *text = NULL;
                if (strcmp(method, "GET") != 0)
                        return hd_respond_bad_method(msg, "GET");
                text = hd_metrics_render(agent->metrics, agent);
                soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
                soup_server_message_set_response(msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                                 g_steal_pointer(&text), strlen(text));
                return;
        }
        if (!g_str_has_prefix(path, "/v1/")) {
                hd_respond_error(msg, SOUP_STATUS_NOT_FOUND, "not-found",
                                 "no such endpoint %s (the API is under /v1, see "
                                 "docs/api/openapi.yaml)",
                                 path);
                return;
        }
        if (is_mutating(method) && agent->opts.read_only) {
                hd_respond_error(msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                                 "hostdevd serves this host read-only (--read-only); %s %s is "
                                 "not allowed",
                                 method, path);
                return;
        }
        if (is_mutating(method) &&
            GPOINTER_TO_INT(g_object_get_data(G_OBJECT(msg), ACCESS_KEY)) != HD_ACCESS_WRITE + 1) {
                hd_respond_error(msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                                 "the read-only token may not %s %s; use the agent's full token",
                                 method, path);
                return;
        }
        /* The path is already percent-decoded by libsoup; split it into segments. */
        parts = g_strsplit(path + 4, "/", -1);
        for (char **p = parts; *p; p++) {
                if (**p == '\0') {
                        hd_respond_error(msg, SOUP_STATUS_NOT_FOUND, "not-found",
                                         "no such endpoint %s", path);
                        return;
                }
                g_ptr_array_add(segs, g_strdup(*p));
        }
        g_ptr_array_add(segs, NULL);
        req.segments = (char **)segs->pdata;
        req.n_segments = segs->len - 1;
        if (req.n_segments > 0) {
                if (strcmp(req.segments[0], "devices") == 0 ||
                    strcmp(req.segments[0], "groups") == 0)
                        handled = hd_api_devices(&req);
                else if (strcmp(req.segments[0], "host") == 0 ||
                         strcmp(req.segments[0], "kernel-args") == 0)
                        handled = hd_api_host(&req);
                else if (strcmp(req.segments[0], "vms") == 0)
                        handled = hd_api_vms(&req);
        }
        if (!handled)
                hd_respond_error(msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such endpoint %s",
                                 path);
}

/* ---- access log and latency ----------------------------------------------------------------- */

static void request_started(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
        gint64 *start = g_new(gint64, 1);

        *start = g_get_monotonic_time();
        g_object_set_data_full(G_OBJECT(msg), START_KEY, start, g_free);
}

static void request_done(SoupServerMessage *msg, HdAgent *agent, gboolean aborted)
{
        gint64 *start = g_object_get_data(G_OBJECT(msg), START_KEY);
        double seconds = start ? (g_get_monotonic_time() - *start) / 1e6 : 0;
        guint status = soup_server_message_get_status(msg);
        GUri *uri = soup_server_message_get_uri(msg);
        char status_s[16], ms[32];
        GSocketAddress *remote = soup_server_message_get_remote_address(msg);
        g_autofree char *peer = NULL;

        if (remote && G_IS_INET_SOCKET_ADDRESS(remote)) {
                g_autofree char *ip = g_inet_address_to_string(
                    g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
                peer = g_strdup_printf(
                    "%s:%u", ip, g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote)));
        }
        hd_metrics_request(agent->metrics, status, seconds);
        g_snprintf(status_s, sizeof(status_s), "%u", status);
        g_snprintf(ms, sizeof(ms), "%.3f", seconds * 1000);
        hd_agent_log(status >= 500 || aborted ? "warning" : "debug",
                     aborted ? "request aborted" : "request", "method",
                     soup_server_message_get_method(msg), "path", uri ? g_uri_get_path(uri) : "?",
                     "status", status_s, "ms", ms, "peer", peer ? peer : "-", NULL);
}

static void request_finished(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
        request_done(msg, user_data, FALSE);
}

static void request_aborted(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
        request_done(msg, user_data, TRUE);
}

/* ---- listening ---------------------------------------------------------------------------- */

static GSocketAddress *parse_listen(const char *listen, GError **error)
{
        g_autofree char *host = NULL;
        const char *colon;
        guint64 port;
        GInetAddress *ia;
        GSocketAddress *sa;

        if (listen[0] == '[') {
                const char *end = strchr(listen, ']');
                if (!end || end[1] != ':')
                        goto bad;
                host = g_strndup(listen + 1, end - listen - 1);
                colon = end + 1;
        } else {
                colon = strrchr(listen, ':');
                if (!colon || strchr(listen, ':') != colon)
                        goto bad;
                host = g_strndup(listen, colon - listen);
        }
        if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL))
                goto bad;
        ia = g_inet_address_new_from_string(host);
        if (!ia)
                goto bad;
        sa = g_inet_socket_address_new(ia, (guint16)port);
        g_object_unref(ia);
        return sa;
bad:
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                    "--listen %s is not ADDR:PORT (127.0.0.1:8086, [::1]:8086, 0.0.0.0:0)", listen);
        return NULL;
}

gboolean hd_agent_server_start(HdAgent *agent, GError **error)
{
        g_autoptr(GSocketAddress) sa = parse_listen(agent->opts.listen, error);
        g_autoptr(GTlsCertificate) cert = NULL;
        SoupServerListenOptions lopts = 0;
        GSList *uris;

        if (!sa)
                return FALSE;
        if (agent->opts.tls_cert) {
                cert = g_tls_certificate_new_from_files(agent->opts.tls_cert, agent->opts.tls_key,
                                                        error);
                if (!cert) {
                        g_prefix_error(
                            error, "cannot load the TLS certificate %s: ", agent->opts.tls_cert);
                        return FALSE;
                }
                lopts |= SOUP_SERVER_LISTEN_HTTPS;
        }
        agent->server = soup_server_new("server-header", "hostdevd/" HOSTDEV_VERSION " ",
                                        "tls-certificate", cert, NULL);
        soup_server_add_early_handler(agent->server, NULL, early_handler, agent, NULL);
        soup_server_add_handler(agent->server, NULL, handler, agent, NULL);
        g_signal_connect(agent->server, "request-started", G_CALLBACK(request_started), agent);
        g_signal_connect(agent->server, "request-finished", G_CALLBACK(request_finished), agent);
        g_signal_connect(agent->server, "request-aborted", G_CALLBACK(request_aborted), agent);
        if (!soup_server_listen(agent->server, sa, lopts, error)) {
                g_prefix_error(error, "cannot listen on %s: ", agent->opts.listen);
                return FALSE;
        }
        {
                GInetAddress *ia = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa));
                if (!g_inet_address_get_is_loopback(ia))
                        hd_agent_log("warning",
                                     "listening beyond loopback: every caller that can reach "
                                     "this address and holds a token may change the host",
                                     "listen", agent->opts.listen, "tls", cert ? "yes" : "no",
                                     NULL);
        }
        uris = soup_server_get_uris(agent->server);
        for (GSList *l = uris; l; l = l->next) {
                g_autofree char *s = g_uri_to_string(l->data);
                /* The first line on stdout: how a supervisor or a test learns the port. */
                g_print("listening %s\n", s);
                hd_agent_log("info", "listening", "url", s, NULL);
        }
        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        fflush(stdout);
        return TRUE;
}

void hd_agent_server_stop_accepting(HdAgent *agent)
{
        GSList *listeners;

        if (!agent->server)
                return;
        /* Close the listening sockets only: callers whose operation is running keep their
         * connection and get their answer; anything new on a kept-alive connection gets 503. */
        listeners = soup_server_get_listeners(agent->server);
        for (GSList *l = listeners; l; l = l->next)
                g_socket_shutdown(l->data, TRUE, FALSE, NULL);
        g_slist_free(listeners);
}

void hd_agent_server_stop(HdAgent *agent)
{
        if (agent->server)
                soup_server_disconnect(agent->server);
}
