/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libmicrohttpd on the GMainLoop: see http.h for the rules. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fileio.h"
#include "http.h"
#include "utf8.h"

#define DEFAULT_MAX_CONNECTIONS 512
#define DEFAULT_MAX_PER_PEER 64
#define DEFAULT_IDLE_TIMEOUT 30
#define DEFAULT_MAX_BODY (64 * 1024)
#define DEFAULT_CONNECTION_MEMORY (32 * 1024)
/* descriptors the process needs besides its connections (stdio, epoll, inotify, udev,
 * libvirt, journal and sysfs files of running operations) */
#define FD_RESERVE 32
/* A certificate chain or key in PEM is a few KiB. */
#define PEM_MAX (1024 * 1024)
/* body bytes skipped (read and dropped) after an answer from the headers, at most */
#define LOG_PER_SECOND 10
#define SKIP_LIMIT(s) ((guint64)(s)->cfg.max_body * 16)

typedef struct {
        GSource base;
        HdHttpServer *server;
        gpointer fd_tag;
        gint64 deadline; /* g_source_get_time() when MHD wants to run, -1: none */
} MhdSource;

struct HdHttpServer {
        HdHttpConfig cfg;
        struct MHD_Daemon *daemon;
        GSource *source;
        GMainContext *context;
        char *url;
        gboolean loopback;
        gboolean quiesced;
        char *cert_pem;
        char *key_pem;
        GHashTable *suspended; /* HdHttpRequest* */
        gboolean kick;         /* run MHD at the next turn (a request was resumed) */
        gint64 backoff_until;  /* g_get_monotonic_time(): accept() hit EMFILE */
        gboolean fd_paused;
        gint64 last_limit_log; /* rate limit of the descriptor warnings */
        guint limit_suppressed;
        gint64 log_window; /* rate limit of every MHD message */
        guint log_count;
        guint log_dropped;
};

struct HdHttpRequest {
        gint ref;
        HdHttpServer *server;
        struct MHD_Connection *conn; /* NULL once MHD is done with it */
        char *method;
        char *path;
        char **segments; /* the raw path split on '/', each part decoded */
        GHashTable *query;
        char *peer;
        GByteArray *body;
        gpointer data;
        gint64 start;
        gboolean has_body;
        gboolean handled;
        gboolean suspended;
        gboolean answered;
        gboolean queued;
        gboolean close;
        gboolean bad_query;
        gsize skipped; /* body bytes dropped after an answer from the headers */
        guint status;
        char *content_type;
        GBytes *resp_body;
        GPtrArray *resp_headers; /* name, value, name, value... */
};

/* ---- requests ----------------------------------------------------------------------------- */

HdHttpRequest *hd_http_request_ref(HdHttpRequest *req)
{
        g_atomic_int_inc(&req->ref);
        return req;
}

void hd_http_request_unref(HdHttpRequest *req)
{
        if (!req || !g_atomic_int_dec_and_test(&req->ref))
                return;
        g_free(req->method);
        g_free(req->path);
        g_strfreev(req->segments);
        g_clear_pointer(&req->query, g_hash_table_unref);
        g_free(req->peer);
        g_byte_array_unref(req->body);
        g_free(req->content_type);
        g_clear_pointer(&req->resp_body, g_bytes_unref);
        g_ptr_array_unref(req->resp_headers);
        g_free(req);
}

const char *hd_http_request_get_method(HdHttpRequest *req)
{
        return req->method;
}

gboolean hd_http_request_is_get(HdHttpRequest *req)
{
        return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

const char *hd_http_request_get_path(HdHttpRequest *req)
{
        return req->path;
}

const char *const *hd_http_request_get_segments(HdHttpRequest *req)
{
        return (const char *const *)req->segments;
}

GHashTable *hd_http_request_get_query(HdHttpRequest *req)
{
        return req->query;
}

typedef struct {
        const char *name;
        const char *first;
        guint count;
} HeaderLookup;

static enum MHD_Result count_header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
        HeaderLookup *h = cls;

        if (key && g_ascii_strcasecmp(key, h->name) == 0) {
                if (h->count++ == 0)
                        h->first = value;
        }
        return MHD_YES;
}

static HeaderLookup lookup_header(HdHttpRequest *req, const char *name)
{
        HeaderLookup h = {.name = name};

        if (req->conn)
                MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header_cb, &h);
        return h;
}

const char *hd_http_request_get_header(HdHttpRequest *req, const char *name)
{
        return lookup_header(req, name).first;
}

guint hd_http_request_count_header(HdHttpRequest *req, const char *name)
{
        return lookup_header(req, name).count;
}

const char *hd_http_request_get_peer(HdHttpRequest *req)
{
        return req->peer ? req->peer : "-";
}

const char *hd_http_request_get_body(HdHttpRequest *req, gsize *len)
{
        *len = req->body->len;
        return req->body->len ? (const char *)req->body->data : "";
}

void hd_http_request_set_data(HdHttpRequest *req, gpointer data)
{
        req->data = data;
}

gpointer hd_http_request_get_data(HdHttpRequest *req)
{
        return req->data;
}

guint hd_http_request_get_status(HdHttpRequest *req)
{
        return req->status;
}

gint64 hd_http_request_get_start(HdHttpRequest *req)
{
        return req->start;
}

/* ---- answers ------------------------------------------------------------------------------ */

void hd_http_request_set_header(HdHttpRequest *req, const char *name, const char *value)
{
        for (guint i = 0; i < req->resp_headers->len; i += 2) {
                if (g_ascii_strcasecmp(req->resp_headers->pdata[i], name) == 0) {
                        g_free(req->resp_headers->pdata[i + 1]);
                        req->resp_headers->pdata[i + 1] = g_strdup(value);
                        return;
                }
        }
        g_ptr_array_add(req->resp_headers, g_strdup(name));
        g_ptr_array_add(req->resp_headers, g_strdup(value));
}

void hd_http_request_set_close(HdHttpRequest *req)
{
        req->close = TRUE;
}

gboolean hd_http_request_is_answered(HdHttpRequest *req)
{
        return req->answered;
}

void hd_http_respond_bytes(HdHttpRequest *req, guint status, const char *content_type, GBytes *body)
{
        if (req->answered)
                return;
        req->answered = TRUE;
        req->status = status;
        req->content_type = g_strdup(content_type);
        req->resp_body = body ? g_bytes_ref(body) : NULL;
}

void hd_http_respond_take(HdHttpRequest *req, guint status, const char *content_type, char *text)
{
        gsize len = strlen(text);
        g_autoptr(GBytes) b = g_bytes_new_take(text, len);

        hd_http_respond_bytes(req, status, content_type, b);
}

void hd_http_respond_text(HdHttpRequest *req, guint status, const char *content_type,
                          const char *text)
{
        hd_http_respond_take(req, status, content_type, g_strdup(text));
}

void hd_http_respond_empty(HdHttpRequest *req, guint status)
{
        hd_http_respond_bytes(req, status, NULL, NULL);
}

void hd_http_respond_error(HdHttpRequest *req, guint status, const char *code, const char *format,
                           ...)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *message = NULL;
        va_list ap;

        /* JSON must be UTF-8: whatever a caller formatted in is made valid */
        va_start(ap, format);
        message = hd_utf8_vprintf(format, ap);
        va_end(ap);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "error");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "code");
        json_builder_add_string_value(b, code);
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, message);
        json_builder_end_object(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        hd_http_respond_take(req, status, "application/json", json_generator_to_data(gen, NULL));
}

static void free_bytes(void *cls)
{
        g_bytes_unref(cls);
}

static enum MHD_Result queue(HdHttpRequest *req)
{
        struct MHD_Response *r;
        enum MHD_Result ret;
        gsize len = 0;

        if (req->queued || !req->conn)
                return MHD_YES;
        req->queued = TRUE;
        if (req->resp_body && g_bytes_get_size(req->resp_body) > 0) {
                const void *data = g_bytes_get_data(req->resp_body, &len);
                r = MHD_create_response_from_buffer_with_free_callback_cls(
                    len, (void *)data, free_bytes, g_bytes_ref(req->resp_body));
        } else {
                r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        }
        if (!r)
                return MHD_NO;
        if (req->content_type)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
        if (req->server->cfg.server_name)
                MHD_add_response_header(r, MHD_HTTP_HEADER_SERVER, req->server->cfg.server_name);
        for (guint i = 0; i < req->resp_headers->len; i += 2)
                MHD_add_response_header(r, req->resp_headers->pdata[i],
                                        req->resp_headers->pdata[i + 1]);
        if (req->close)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        ret = MHD_queue_response(req->conn, req->status, r);
        MHD_destroy_response(r);
        return ret;
}

/* ---- suspend and resume ------------------------------------------------------------------- */

void hd_http_request_suspend(HdHttpRequest *req)
{
        g_return_if_fail(req->conn && !req->suspended && !req->queued);
        /* an answer given so far is dropped (the headers set stay) */
        req->answered = FALSE;
        req->status = 0;
        g_clear_pointer(&req->content_type, g_free);
        g_clear_pointer(&req->resp_body, g_bytes_unref);
        req->suspended = TRUE;
        g_hash_table_add(req->server->suspended, hd_http_request_ref(req));
        MHD_suspend_connection(req->conn);
}

void hd_http_request_resume(HdHttpRequest *req)
{
        if (!req->suspended)
                return;
        req->suspended = FALSE;
        if (req->conn)
                MHD_resume_connection(req->conn);
        /* have MHD run at the next turn of the loop */
        req->server->kick = TRUE;
        g_main_context_wakeup(req->server->context);
        g_hash_table_remove(req->server->suspended, req);
}

/* ---- the MHD callbacks -------------------------------------------------------------------- */

/* Keep the URL and the query as sent: the layer decodes them itself (strictly). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
        return strlen(s);
}

static char *decode(const char *raw, gboolean plus_is_space)
{
        g_autofree char *copy = g_strdup(raw);
        char *out;

        if (plus_is_space)
                g_strdelimit(copy, "+", ' ');
        out = g_uri_unescape_string(copy, NULL);
        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
                if (*p < 0x20 || *p == 0x7f) {
                        g_free(out);
                        return NULL;
                }
        }
        if (!g_utf8_validate(out, -1, NULL)) {
                g_free(out);
                return NULL;
        }
        return out;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        HdHttpRequest *req = cls;
        char *k = decode(key ? key : "", TRUE);
        char *v = decode(value ? value : "", TRUE);

        if (!k || !v) {
                g_free(k);
                g_free(v);
                req->bad_query = TRUE;
                return MHD_YES;
        }
        if (!req->query)
                req->query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_replace(req->query, k, v);
        return MHD_YES;
}

static char *format_peer(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char ip[INET6_ADDRSTRLEN];

        if (!ci || !ci->client_addr)
                return NULL;
        if (ci->client_addr->sa_family == AF_INET) {
                const struct sockaddr_in *sin = (const struct sockaddr_in *)ci->client_addr;
                inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
                return g_strdup_printf("%s:%u", ip, ntohs(sin->sin_port));
        }
        if (ci->client_addr->sa_family == AF_INET6) {
                const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ci->client_addr;
                inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
                return g_strdup_printf("[%s]:%u", ip, ntohs(sin6->sin6_port));
        }
        return NULL;
}

/* A plain non-negative decimal number of at most 18 digits (no sign, no list, no spaces). */
static gboolean sane_length(const char *s)
{
        gsize n = 0;

        if (!s || !*s)
                return FALSE;
        for (const char *p = s; *p; p++, n++)
                if (!g_ascii_isdigit(*p))
                        return FALSE;
        return n <= 18;
}

typedef struct {
        GHashTable *colons; /* where MHD cut each "name:" (the NUL that replaced the colon) */
        gboolean bad;
} FoldCheck;

static enum MHD_Result note_colon_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        FoldCheck *f = cls;

        if (!key || !*key || strpbrk(key, " \t"))
                f->bad = TRUE;
        else
                g_hash_table_add(f->colons, (gpointer)(key + strlen(key)));
        /* what a fold leaves in a value once joined (MHD joins without a separator) */
        if (value && strpbrk(value, "\r\n"))
                f->bad = TRUE;
        return MHD_YES;
}

/* An obs-folded header line (RFC 9112 §5.2): MHD 0.9.75 accepts it and joins the lines without
 * a separator, so "Authorization: Bearer AB\r\n CD" would authenticate as "Bearer ABCD". The
 * joined value hides the fold, the request's bytes do not: MHD parses the header block in
 * place (from the method to the empty line, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes),
 * replacing each line end with NUL and the colon after each name with NUL. A line that starts
 * with a space or a tab is therefore a NUL followed by SP/HTAB that is not a name's colon.
 * (A space doubled in the request line shows the same way, and is refused too.) */
static gboolean has_folded_line(HdHttpRequest *req, const char *method)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        FoldCheck f = {.colons = g_hash_table_new(NULL, NULL)};
        gboolean folded = FALSE;

        MHD_get_connection_values(req->conn, MHD_HEADER_KIND, note_colon_cb, &f);
        folded = f.bad;
        if (ci && !folded && ci->header_size > 1 &&
            ci->header_size <= req->server->cfg.connection_memory) {
                for (gsize i = 0; i + 1 < ci->header_size && !folded; i++)
                        folded = method[i] == '\0' &&
                                 (method[i + 1] == ' ' || method[i + 1] == '\t') &&
                                 !g_hash_table_contains(f.colons, method + i);
        }
        g_hash_table_unref(f.colons);
        return folded;
}

/* Step 1 of http.h. FALSE: answered 400. */
static gboolean check_framing(HdHttpRequest *req, const char *method)
{
        HeaderLookup cl = lookup_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
        HeaderLookup te = lookup_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        const char *why = NULL;

        if (has_folded_line(req, method))
                why = "obsolete line folding (a header line starting with a space or a tab) is "
                      "not accepted";
        else if (cl.count > 1)
                why = "the request has more than one Content-Length";
        else if (te.count > 1)
                why = "the request has more than one Transfer-Encoding";
        else if (cl.count && te.count)
                why = "the request has both Content-Length and Transfer-Encoding";
        else if (cl.count && !sane_length(cl.first))
                why = "Content-Length is not a non-negative decimal number";
        else if (te.count && g_ascii_strcasecmp(te.first, "chunked") != 0)
                why = "the only Transfer-Encoding accepted is chunked";
        else if (hd_http_request_count_header(req, MHD_HTTP_HEADER_AUTHORIZATION) > 1)
                why = "the request has more than one Authorization header";
        else if (hd_http_request_count_header(req, MHD_HTTP_HEADER_HOST) > 1)
                why = "the request has more than one Host header";
        else if (!req->path)
                why = "the request path is not valid percent-encoded UTF-8";
        else if (req->bad_query)
                why = "the query string is not valid percent-encoded UTF-8";
        if (!why)
                return TRUE;
        req->close = TRUE;
        hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "bad-request", "%s", why);
        return FALSE;
}

/* @raw (the path as sent, after its leading '/') split on its '/' and each part decoded on
 * its own: "%2F" is a '/' inside a segment, never a separator. NULL when a part does not
 * decode (decode()'s rules). */
static char **split_segments(const char *raw)
{
        g_auto(GStrv) parts = g_strsplit(raw, "/", -1);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

        for (char **p = parts; *p; p++) {
                char *seg = decode(*p, FALSE);
                if (!seg)
                        return NULL;
                g_ptr_array_add(out, seg);
        }
        g_ptr_array_set_free_func(out, NULL);
        g_ptr_array_add(out, NULL);
        return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static HdHttpRequest *request_new(HdHttpServer *s, struct MHD_Connection *conn, const char *url,
                                  const char *method)
{
        HdHttpRequest *req = g_new0(HdHttpRequest, 1);

        req->ref = 1;
        req->server = s;
        req->conn = conn;
        req->start = g_get_monotonic_time();
        req->method = g_strdup(method);
        req->body = g_byte_array_new();
        req->resp_headers = g_ptr_array_new_with_free_func(g_free);
        req->peer = format_peer(conn);
        if (url && url[0] == '/') {
                req->path = decode(url, FALSE);
                req->segments = split_segments(url + 1);
                if (!req->segments)
                        g_clear_pointer(&req->path, g_free);
        }
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, req);
        return req;
}

/* ---- deadlines ----------------------------------------------------------------------------- */

/* MHD's timeout counts inactivity: a client that sends one byte a second never reaches it.
 * The layer adds deadlines of idle_timeout seconds for the phases where the client owes bytes:
 * from the connection's start or the previous answer to a complete header block, and from the
 * headers to a complete body. Past one, the socket is shut down and MHD closes the connection
 * at its next run (shutdown, not close: the descriptor stays MHD's). */
typedef struct {
        HdHttpServer *server;
        struct MHD_Connection *conn;
        GSource *deadline; /* on the server's context */
} ConnCtx;

static void deadline_clear(ConnCtx *cc)
{
        if (cc->deadline) {
                g_source_destroy(cc->deadline);
                g_clear_pointer(&cc->deadline, g_source_unref);
        }
}

static gboolean deadline_passed(gpointer data)
{
        ConnCtx *cc = data;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(cc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        g_clear_pointer(&cc->deadline, g_source_unref);
        if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
        cc->server->kick = TRUE;
        return G_SOURCE_REMOVE;
}

static ConnCtx *conn_ctx(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci =
            conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;

        return ci ? ci->socket_context : NULL;
}

static void deadline_arm(struct MHD_Connection *conn, gboolean arm)
{
        ConnCtx *cc = conn_ctx(conn);

        if (!cc)
                return;
        deadline_clear(cc);
        if (arm) {
                cc->deadline = g_timeout_source_new_seconds(cc->server->cfg.idle_timeout);
                g_source_set_callback(cc->deadline, deadline_passed, cc, NULL);
                g_source_attach(cc->deadline, cc->server->context);
        }
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
        HdHttpServer *s = cls;
        HdHttpRequest *req = *con_cls;

        if (!req) {
                gboolean want_body = FALSE;
                const char *cl, *expect;

                req = request_new(s, conn, url, method);
                *con_cls = req;
                deadline_arm(conn, FALSE);
                cl = hd_http_request_get_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
                req->has_body =
                    hd_http_request_get_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
                    (cl && strcmp(cl, "0") != 0);
                if (!check_framing(req, method))
                        return queue(req);
                want_body = s->cfg.headers ? s->cfg.headers(req, s->cfg.user_data) : TRUE;
                if (!req->answered && req->has_body && !want_body)
                        hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "bad-request",
                                              "%s %s takes no request body", req->method,
                                              req->path);
                expect = hd_http_request_get_header(req, MHD_HTTP_HEADER_EXPECT);
                /* a client waiting for "100 Continue" gets the refusal instead, and keeps its
                 * body (MHD sends no 100 once an answer is queued) */
                if (req->answered && expect && g_ascii_strcasecmp(expect, "100-continue") == 0)
                        req->close = TRUE;
                if (cl && g_ascii_strtoull(cl, NULL, 10) > s->cfg.max_body) {
                        guint64 n = g_ascii_strtoull(cl, NULL, 10);
                        /* answered from the headers, and the connection closes after it */
                        req->close = TRUE;
                        if (!req->answered)
                                hd_http_respond_error(req, HD_HTTP_PAYLOAD_TOO_LARGE, "too-large",
                                                      "the request body has %s bytes; the limit is "
                                                      "%" G_GSIZE_FORMAT,
                                                      cl, s->cfg.max_body);
                        /* a body a little over the limit is skipped (never held) so that a
                         * client still writing it reads the 413 rather than a reset; a larger
                         * one is not read at all */
                        if (n > SKIP_LIMIT(s) || expect)
                                return queue(req);
                        deadline_arm(conn, TRUE);
                        return MHD_YES;
                }
                if (req->answered && expect)
                        return queue(req);
                /* Answered without a body, or with one within the limit: the body is skipped
                 * as it arrives, never held, and the answer goes out once it is over (a client
                 * still writing a small body would otherwise get a reset instead of it) */
                if (req->answered && !req->has_body)
                        return queue(req);
                /* the body is owed now */
                deadline_arm(conn, req->has_body);
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                gsize n = *upload_data_size;

                *upload_data_size = 0;
                if (req->answered) {
                        req->skipped += n;
                        /* skipping is bounded like reading: past the limit the connection is
                         * closed (MHD takes no answer in the middle of a body) */
                        return req->skipped > SKIP_LIMIT(s) ? MHD_NO : MHD_YES;
                }
                if (req->body->len + n > s->cfg.max_body) {
                        /* counted as it arrives: refuse at the limit, hold nothing more */
                        g_byte_array_set_size(req->body, 0);
                        req->close = TRUE;
                        hd_http_respond_error(req, HD_HTTP_PAYLOAD_TOO_LARGE, "too-large",
                                              "the request body is over the limit of "
                                              "%" G_GSIZE_FORMAT " bytes",
                                              s->cfg.max_body);
                        /* MHD 0.9.75 takes no answer in the middle of a body (the 413 is
                         * logged by the done hook): the connection is closed at once */
                        return MHD_NO;
                }
                g_byte_array_append(req->body, (const guint8 *)upload_data, n);
                return MHD_YES;
        }
        deadline_arm(conn, FALSE);
        if (req->answered)
                return queue(req);
        if (!req->handled) {
                req->handled = TRUE;
                s->cfg.handler(req, s->cfg.user_data);
                if (req->answered)
                        return queue(req);
                if (!req->suspended) {
                        hd_http_respond_error(req, HD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                              "the request was not answered");
                        return queue(req);
                }
        }
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        HdHttpServer *s = cls;
        HdHttpRequest *req = *con_cls;

        if (!req)
                return;
        *con_cls = NULL;
        req->conn = NULL;
        /* a kept-alive connection owes the next request's headers */
        deadline_arm(conn, TRUE);
        if (req->suspended) {
                req->suspended = FALSE;
                g_hash_table_remove(s->suspended, req);
        }
        if (s->cfg.done)
                s->cfg.done(req, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK || !req->queued,
                            s->cfg.user_data);
        hd_http_request_unref(req);
}

/* A connection closed: MHD frees its descriptor at the end of the run, and a listening socket
 * it took out of its epoll set (at the connection limit, or after EMFILE) only goes back in at
 * the start of the next run, which nothing else may trigger: run it again now. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        HdHttpServer *s = cls;
        ConnCtx *cc = *socket_context;

        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                cc = g_new0(ConnCtx, 1);
                cc->server = s;
                cc->conn = conn;
                *socket_context = cc;
                deadline_arm(conn, TRUE);
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                if (cc) {
                        deadline_clear(cc);
                        g_free(cc);
                        *socket_context = NULL;
                }
                s->kick = TRUE;
        }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        HdHttpServer *s = cls;
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        gint64 now = g_get_monotonic_time();

        g_strstrip(msg);
        /* "Error accepting connection: Too many open files", then "Hit process or system
         * resource limit at N connections, temporarily suspending accept()" (MHD accepts again
         * when a connection closes: said once) or "... at FIRST connection" (MHD would spin:
         * back off, and say it once a second at most) */
        if (strstr(msg, "FIRST") || strstr(msg, "accepting connection")) {
                if (strstr(msg, "FIRST"))
                        s->backoff_until = now + 100 * 1000;
                if (now - s->last_limit_log < G_USEC_PER_SEC) {
                        s->limit_suppressed++;
                        return;
                }
                if (s->limit_suppressed) {
                        g_autofree char *m = g_strdup_printf("%s (and %u more such messages)", msg,
                                                             s->limit_suppressed);
                        g_free(msg);
                        msg = g_steal_pointer(&m);
                }
                s->last_limit_log = now;
                s->limit_suppressed = 0;
        }
        /* whatever clients make MHD say (a line per malformed request, per peer that left
         * half-way): at most LOG_PER_SECOND lines a second, then a count of the rest */
        if (now - s->log_window >= G_USEC_PER_SEC) {
                if (s->log_dropped && s->cfg.log) {
                        g_autofree char *m = g_strdup_printf(
                            "%u more messages of libmicrohttpd were dropped", s->log_dropped);
                        s->cfg.log("warning", m, s->cfg.user_data);
                }
                s->log_window = now;
                s->log_count = 0;
                s->log_dropped = 0;
        }
        if (++s->log_count > LOG_PER_SECOND) {
                s->log_dropped++;
                return;
        }
        if (s->cfg.log)
                s->cfg.log("warning", msg, s->cfg.user_data);
}

/* ---- the GSource -------------------------------------------------------------------------- */

static gboolean src_prepare(GSource *source, gint *timeout)
{
        MhdSource *ms = (MhdSource *)source;
        MHD_UNSIGNED_LONG_LONG t = 0;

        HdHttpServer *s = ms->server;
        gint64 now = g_source_get_time(source);

        /* accept() failed for lack of descriptors with no connection open: MHD would retry
         * at every turn (its listening socket stays readable); wait a little instead */
        if (now < s->backoff_until) {
                if (!s->fd_paused) {
                        g_source_modify_unix_fd(source, ms->fd_tag, 0);
                        s->fd_paused = TRUE;
                }
                *timeout = (gint)((s->backoff_until - now + 999) / 1000);
                ms->deadline = s->backoff_until;
                return FALSE;
        }
        if (s->fd_paused) {
                g_source_modify_unix_fd(source, ms->fd_tag, G_IO_IN);
                s->fd_paused = FALSE;
        }
        /* a resumed request: MHD (without its inter-thread channel when driven from outside)
         * only notices it when it runs */
        if (s->kick) {
                *timeout = 0;
                return TRUE;
        }
        if (MHD_get_timeout(s->daemon, &t) == MHD_YES) {
                *timeout = t > G_MAXINT ? G_MAXINT : (gint)t;
                ms->deadline = g_source_get_time(source) + (gint64)*timeout * 1000;
        } else {
                *timeout = -1;
                ms->deadline = -1;
        }
        return *timeout == 0;
}

static gboolean src_check(GSource *source)
{
        MhdSource *ms = (MhdSource *)source;

        if (g_source_query_unix_fd(source, ms->fd_tag) & (G_IO_IN | G_IO_ERR | G_IO_HUP))
                return TRUE;
        return ms->deadline >= 0 && g_source_get_time(source) >= ms->deadline;
}

static gboolean src_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
        MhdSource *ms = (MhdSource *)source;

        ms->server->kick = FALSE;
        MHD_run(ms->server->daemon);
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs mhd_source_funcs = {
    .prepare = src_prepare,
    .check = src_check,
    .dispatch = src_dispatch,
};

/* ---- the server --------------------------------------------------------------------------- */

gboolean hd_http_parse_listen(const char *listen, char **host, guint16 *port, GError **error)
{
        g_autofree char *h = NULL;
        const char *colon;
        guint64 p;
        g_autoptr(GInetAddress) ia = NULL;

        if (listen[0] == '[') {
                const char *end = strchr(listen, ']');
                if (!end || end[1] != ':')
                        goto bad;
                h = g_strndup(listen + 1, end - listen - 1);
                colon = end + 1;
        } else {
                colon = strrchr(listen, ':');
                if (!colon || strchr(listen, ':') != colon)
                        goto bad;
                h = g_strndup(listen, colon - listen);
        }
        if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &p, NULL))
                goto bad;
        ia = g_inet_address_new_from_string(h);
        if (!ia)
                goto bad;
        *host = g_steal_pointer(&h);
        *port = (guint16)p;
        return TRUE;
bad:
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--listen %s is not ADDR:PORT (127.0.0.1:8086, [::1]:8086, 0.0.0.0:0)", listen);
        return FALSE;
}

HdHttpServer *hd_http_server_new(const HdHttpConfig *config, GError **error)
{
        g_autoptr(HdHttpServer) s = g_new0(HdHttpServer, 1);
        g_autofree char *host = NULL;
        g_autoptr(GInetAddress) ia = NULL;
        struct sockaddr_storage ss = {0};
        socklen_t sl = sizeof(ss);
        unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        const union MHD_DaemonInfo *info;
        struct rlimit rl;
        guint16 port;
        MhdSource *ms;
        char ip[INET6_ADDRSTRLEN];

        s->cfg = *config;
        s->cfg.max_connections = config->max_connections ?: DEFAULT_MAX_CONNECTIONS;
        s->cfg.max_per_peer = config->max_per_peer ?: DEFAULT_MAX_PER_PEER;
        s->cfg.idle_timeout = config->idle_timeout ?: DEFAULT_IDLE_TIMEOUT;
        s->cfg.max_body = config->max_body ?: DEFAULT_MAX_BODY;
        s->cfg.connection_memory = config->connection_memory ?: DEFAULT_CONNECTION_MEMORY;
        s->suspended =
            g_hash_table_new_full(NULL, NULL, (GDestroyNotify)hd_http_request_unref, NULL);
        s->context = g_main_context_ref_thread_default();
        if (!hd_http_parse_listen(config->listen, &host, &port, error))
                return NULL;
        ia = g_inet_address_new_from_string(host);
        s->loopback = g_inet_address_get_is_loopback(ia);
        if (g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                memcpy(&sin6->sin6_addr, g_inet_address_to_bytes(ia), 16);
                flags |= MHD_USE_IPv6;
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                memcpy(&sin->sin_addr, g_inet_address_to_bytes(ia), 4);
        }
        if (config->tls_cert_file) {
                if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                            "this libmicrohttpd was built without TLS");
                        return NULL;
                }
                if (!(s->cert_pem = hd_read_path(config->tls_cert_file, PEM_MAX, error)) ||
                    !(s->key_pem = hd_read_path(config->tls_key_file, PEM_MAX, error))) {
                        g_prefix_error(
                            error, "cannot load the TLS certificate %s: ", config->tls_cert_file);
                        return NULL;
                }
                flags |= MHD_USE_TLS;
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (rlim_t)s->cfg.max_connections + FD_RESERVE > rl.rlim_cur && s->cfg.log) {
                g_autofree char *m = g_strdup_printf(
                    "max-connections %u and the descriptors the agent needs exceed "
                    "RLIMIT_NOFILE %lu: accept() will fail with EMFILE before the connection "
                    "limit (raise LimitNOFILE= or lower max-connections)",
                    s->cfg.max_connections, (unsigned long)rl.rlim_cur);
                s->cfg.log("warning", m, s->cfg.user_data);
        }
        {
                /* the TLS pair only when there is a certificate */
                struct MHD_OptionItem tls[] = {
                    {s->cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->cert_pem},
                    {MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem},
                    {MHD_OPTION_END, 0, NULL},
                };
                /* STRICT_FOR_CLIENT 1: an HTTP/1.1 request without Host, or with a space in
                 * its target, is 400 */
                s->daemon = MHD_start_daemon(
                    flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                    MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
                    (unsigned int)s->cfg.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                    (unsigned int)s->cfg.max_per_peer, MHD_OPTION_CONNECTION_TIMEOUT,
                    (unsigned int)s->cfg.idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                    (size_t)s->cfg.connection_memory, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
                    on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s,
                    MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
        }
        if (!s->daemon) {
                int e = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot listen on %s%s: %s", config->listen,
                            s->cert_pem ? " with the TLS certificate and key" : "", g_strerror(e));
                return NULL;
        }
        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_LISTEN_FD);
        if (!info || getsockname(info->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read the address of %s",
                            config->listen);
                return NULL;
        }
        if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
                s->url = g_strdup_printf("%s://[%s]:%u/", s->cert_pem ? "https" : "http", ip,
                                         ntohs(sin6->sin6_port));
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
                s->url = g_strdup_printf("%s://%s:%u/", s->cert_pem ? "https" : "http", ip,
                                         ntohs(sin->sin_port));
        }
        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    "libmicrohttpd has no epoll descriptor");
                return NULL;
        }
        s->source = g_source_new(&mhd_source_funcs, sizeof(MhdSource));
        ms = (MhdSource *)s->source;
        ms->server = s;
        ms->deadline = -1;
        ms->fd_tag = g_source_add_unix_fd(s->source, info->epoll_fd, G_IO_IN);
        g_source_set_name(s->source, "hdhttp");
        g_source_attach(s->source, s->context);
        return g_steal_pointer(&s);
}

const char *hd_http_server_get_url(HdHttpServer *s)
{
        return s->url;
}

gboolean hd_http_server_is_loopback(HdHttpServer *s)
{
        return s->loopback;
}

guint hd_http_server_get_max_connections(HdHttpServer *s)
{
        return s->cfg.max_connections;
}

guint hd_http_server_get_connections(HdHttpServer *s)
{
        const union MHD_DaemonInfo *info =
            s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;

        return info ? info->num_connections : 0;
}

void hd_http_server_quiesce(HdHttpServer *s)
{
        MHD_socket fd;

        if (!s->daemon || s->quiesced)
                return;
        s->quiesced = TRUE;
        fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET)
                close(fd);
}

void hd_http_server_free(HdHttpServer *s)
{
        if (!s)
                return;
        if (s->daemon) {
                GHashTableIter it;
                gpointer key;
                g_autoptr(GPtrArray) waiting =
                    g_ptr_array_new_with_free_func((GDestroyNotify)hd_http_request_unref);

                /* MHD must not stop with suspended connections: answer them */
                g_hash_table_iter_init(&it, s->suspended);
                while (g_hash_table_iter_next(&it, &key, NULL))
                        g_ptr_array_add(waiting, hd_http_request_ref(key));
                for (guint i = 0; i < waiting->len; i++) {
                        HdHttpRequest *req = waiting->pdata[i];
                        hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "stopping",
                                              "the server is shutting down");
                        hd_http_request_resume(req);
                }
                MHD_run(s->daemon);
        }
        if (s->source) {
                g_source_destroy(s->source);
                g_source_unref(s->source);
        }
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        g_hash_table_unref(s->suspended);
        g_main_context_unref(s->context);
        g_free(s->url);
        if (s->key_pem)
                explicit_bzero(s->key_pem, strlen(s->key_pem));
        g_free(s->key_pem);
        g_free(s->cert_pem);
        g_free(s);
}
