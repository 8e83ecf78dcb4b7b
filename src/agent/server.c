/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent on the HTTP layer (src/http/http.h, libmicrohttpd on the main loop): the address
 * of --listen (loopback by default), HTTPS when a certificate is given, the connection limits
 * of the configuration, bearer-token authentication, routing to the api-*.c modules, JSON
 * errors, the access log and the request metrics.
 *
 * Everything that can refuse a request without its body runs in the headers hook, before a
 * body byte is read: the token (401), the method of /healthz and /metrics (405), --read-only
 * and the read-only token (403), a stopping agent (503). Only an authenticated mutating call
 * has its body read, bounded by HD_AGENT_MAX_BODY (413 from Content-Length, or as soon as a
 * chunked body passes it). GET and HEAD never have a body read (400 when they carry one).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent.h"

/* ---- authentication, limits, routing ------------------------------------------------------ */

/* hd_http_request_set_data(): what the token allows */
#define ACCESS(a) GINT_TO_POINTER((a) + 1)

static gboolean is_public(const char *path)
{
        return strcmp(path, "/healthz") == 0;
}

/* TRUE when the caller holds a token (the access is recorded); otherwise answers 401. */
static gboolean authenticate(HdAgent *agent, HdHttpRequest *msg)
{
        const char *auth = hd_http_request_get_header(msg, "Authorization");

        if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0) {
                g_autofree char *copy = g_strdup(auth + 7);
                const char *token = g_strstrip(copy);
                if (hd_token_equal(token, agent->token)) {
                        hd_http_request_set_data(msg, ACCESS(HD_ACCESS_WRITE));
                        return TRUE;
                }
                if (hd_token_equal(token, agent->ro_token)) {
                        hd_http_request_set_data(msg, ACCESS(HD_ACCESS_READ));
                        return TRUE;
                }
        }
        hd_http_request_set_header(msg, "WWW-Authenticate", "Bearer realm=\"hostdevd\"");
        hd_respond_error(msg, HD_HTTP_UNAUTHORIZED, "unauthorized",
                         auth ? "the bearer token is not valid for this host"
                              : "this call needs \"Authorization: Bearer TOKEN\" (the token is "
                                "in the agent's token file)");
        return FALSE;
}

/* What is answered before routing, from the path, the method and the token alone. TRUE when
 * answered. */
static gboolean answer_before_routing(HdAgent *agent, HdHttpRequest *msg)
{
        const char *path = hd_http_request_get_path(msg);
        const char *method = hd_http_request_get_method(msg);
        gboolean is_get = hd_http_request_is_get(msg);

        if (strcmp(path, "/healthz") == 0) {
                if (!is_get)
                        hd_respond_bad_method(msg, "GET");
                else
                        hd_respond_json(msg, HD_HTTP_OK,
                                        agent->stopping ? "{\"status\":\"stopping\"}"
                                                        : "{\"status\":\"ok\"}");
                return TRUE;
        }
        if (agent->stopping) {
                hd_respond_error(msg, HD_HTTP_SERVICE_UNAVAILABLE, "stopping",
                                 "hostdevd is shutting down");
                return TRUE;
        }
        if (strcmp(path, "/metrics") == 0) {
                if (!is_get) {
                        hd_respond_bad_method(msg, "GET");
                        return TRUE;
                }
                hd_http_respond_take(msg, HD_HTTP_OK, "text/plain; version=0.0.4",
                                     hd_metrics_render(agent->metrics, agent));
                return TRUE;
        }
        if (!g_str_has_prefix(path, "/v1/")) {
                hd_respond_error(msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no such endpoint %s (the API is under /v1, see "
                                 "docs/api/openapi.yaml)",
                                 path);
                return TRUE;
        }
        if (!is_get && agent->opts.read_only) {
                hd_respond_error(msg, HD_HTTP_FORBIDDEN, "forbidden",
                                 "hostdevd serves this host read-only (--read-only); %s %s is "
                                 "not allowed",
                                 method, path);
                return TRUE;
        }
        if (!is_get && hd_http_request_get_data(msg) != ACCESS(HD_ACCESS_WRITE)) {
                hd_respond_error(msg, HD_HTTP_FORBIDDEN, "forbidden",
                                 "the read-only token may not %s %s; use the agent's full token",
                                 method, path);
                return TRUE;
        }
        return FALSE;
}

/* The headers hook, before any body byte. TRUE: read the body (an authenticated mutating call
 * that passed every check). */
static gboolean on_headers(HdHttpRequest *msg, gpointer user_data)
{
        HdAgent *agent = user_data;

        if (!is_public(hd_http_request_get_path(msg)) && !authenticate(agent, msg))
                return FALSE;
        if (hd_http_request_is_get(msg))
                return FALSE; /* answered by the handler, never with a body */
        return !answer_before_routing(agent, msg);
}

static void on_request(HdHttpRequest *msg, gpointer user_data)
{
        HdAgent *agent = user_data;
        const char *path = hd_http_request_get_path(msg);
        HdRequest req = {
            .agent = agent,
            .msg = msg,
            .method = hd_http_request_is_get(msg) ? "GET" : hd_http_request_get_method(msg),
            .query = hd_http_request_get_query(msg),
        };
        g_auto(GStrv) parts = NULL;
        g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func(g_free);
        gboolean handled = FALSE;

        if (answer_before_routing(agent, msg))
                return;
        /* The HTTP layer split the path as sent and decoded each segment (valid UTF-8, no
         * control characters): an encoded '/' (a USB serial's) stays in its segment. */
        parts = g_strdupv((char **)hd_http_request_get_segments(msg));
        if (!parts || g_strcmp0(parts[0], "v1") != 0) {
                hd_respond_error(msg, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s", path);
                return;
        }
        for (char **p = parts + 1; *p; p++) {
                if (**p == '\0') {
                        hd_respond_error(msg, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s",
                                         path);
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
                else if (strcmp(req.segments[0], "mdev") == 0)
                        handled = hd_api_mdev(&req);
                else if (strcmp(req.segments[0], "usb") == 0)
                        handled = hd_api_usb(&req);
                else if (strcmp(req.segments[0], "scsi") == 0)
                        handled = hd_api_scsi(&req);
                else if (strcmp(req.segments[0], "npiv") == 0)
                        handled = hd_api_npiv(&req);
                else if (strcmp(req.segments[0], "vhost-scsi") == 0)
                        handled = hd_api_vhost_scsi(&req);
        }
        if (!handled)
                hd_respond_error(msg, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s", path);
}

/* ---- access log and latency ----------------------------------------------------------------- */

static void on_done(HdHttpRequest *msg, gboolean aborted, gpointer user_data)
{
        HdAgent *agent = user_data;
        double seconds = (g_get_monotonic_time() - hd_http_request_get_start(msg)) / 1e6;
        guint status = hd_http_request_get_status(msg);
        const char *path = hd_http_request_get_path(msg);
        char status_s[16], ms[32];

        if (!aborted)
                hd_metrics_request(agent->metrics, status, seconds);
        g_snprintf(status_s, sizeof(status_s), "%u", status);
        g_snprintf(ms, sizeof(ms), "%.3f", seconds * 1000);
        hd_agent_log(status >= 500 || aborted ? "warning" : "debug",
                     aborted ? "request aborted" : "request", "method",
                     hd_http_request_get_method(msg), "path", path ? path : "?", "status", status_s,
                     "ms", ms, "peer", hd_http_request_get_peer(msg), NULL);
}

static void on_http_log(const char *level, const char *message, gpointer user_data)
{
        hd_agent_log(level, "http", "detail", message, NULL);
}

/* ---- listening ---------------------------------------------------------------------------- */

gboolean hd_agent_server_start(HdAgent *agent, GError **error)
{
        g_autoptr(GError) local = NULL;
        HdHttpConfig cfg = {
            .listen = agent->opts.listen,
            .tls_cert_file = agent->opts.tls_cert,
            .tls_key_file = agent->opts.tls_key,
            .server_name = "hostdevd/" HOSTDEV_VERSION,
            .max_connections = agent->opts.max_connections,
            .max_per_peer = agent->opts.max_per_peer,
            .idle_timeout = agent->opts.idle_timeout,
            .max_body = HD_AGENT_MAX_BODY,
            .headers = on_headers,
            .handler = on_request,
            .done = on_done,
            .log = on_http_log,
            .user_data = agent,
        };
        char n[3][16];

        agent->server = hd_http_server_new(&cfg, &local);
        if (!agent->server) {
                g_set_error(error, HD_ERROR,
                            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)
                                ? HD_ERROR_INVALID_ARGUMENT
                                : HD_ERROR_FAILED,
                            "%s", local->message);
                return FALSE;
        }
        if (!hd_http_server_is_loopback(agent->server))
                hd_agent_log("warning",
                             "listening beyond loopback: every caller that can reach "
                             "this address and holds a token may change the host",
                             "listen", agent->opts.listen, "tls",
                             agent->opts.tls_cert ? "yes" : "no", NULL);
        /* The first line on stdout: how a supervisor or a test learns the port. */
        g_print("listening %s\n", hd_http_server_get_url(agent->server));
        fflush(stdout);
        g_snprintf(n[0], sizeof(n[0]), "%u", hd_http_server_get_max_connections(agent->server));
        g_snprintf(n[1], sizeof(n[1]), "%u", agent->opts.max_per_peer);
        g_snprintf(n[2], sizeof(n[2]), "%u", agent->opts.idle_timeout);
        hd_agent_log("info", "listening", "url", hd_http_server_get_url(agent->server),
                     "max_connections", n[0], "max_per_peer", n[1], "idle_timeout", n[2], NULL);
        return TRUE;
}

void hd_agent_server_stop_accepting(HdAgent *agent)
{
        /* Close the listening socket only: callers whose operation is running keep their
         * connection and get their answer; anything new on a kept-alive connection gets 503. */
        if (agent->server)
                hd_http_server_quiesce(agent->server);
}

void hd_agent_server_stop(HdAgent *agent)
{
        g_clear_pointer(&agent->server, hd_http_server_free);
}
