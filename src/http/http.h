/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hdhttp: the HTTP server of hostdevd (and of the engine): libmicrohttpd driven from the
 * GMainLoop, with the framing rules and limits a daemon facing whatever reaches its port needs.
 * It depends on GLib, json-glib, libmicrohttpd and src/basic only; what a request means
 * (tokens, routes) is the caller's business.
 *
 * Threading. Everything runs on the thread of the GMainContext that was the thread-default
 * when hd_http_server_new() was called (the agent's main thread): MHD is driven by a GSource
 * that watches MHD's epoll descriptor and MHD_get_timeout(), and MHD_run() calls the hooks
 * below on that thread. No hook and no hd_http_* function may be called from another thread:
 * a worker that finishes (ops.c's GTask threads) hands back to the main thread first, then
 * answers and calls hd_http_request_resume().
 *
 * The life of a request:
 *   1. headers complete: the layer checks the framing. A Content-Length that is not a plain
 *      non-negative decimal number, two Content-Length, Transfer-Encoding or Authorization
 *      headers, Content-Length with Transfer-Encoding, a Transfer-Encoding other than chunked,
 *      an obs-folded header line (RFC 9112 §5.2), or a path that is not valid UTF-8 without
 *      control characters: 400, and the connection is closed. Nothing raw is echoed back.
 *      (MHD itself answers 400/413 and closes for a Content-Length it cannot parse: a sign, a
 *      list, more than 2^64-1; and 400 for an HTTP/1.1 request without Host or with a space
 *      in its target, MHD_OPTION_STRICT_FOR_CLIENT. Its answers are small HTML pages.)
 *   2. the headers hook (HdHttpHeadersFunc) decides, before any body byte is read: it answers
 *      (401, 403, 405, ... or a whole GET), or returns TRUE to have the body read. A request
 *      whose hook did not ask for the body and that carries one is answered 400. A body that
 *      comes with a request answered from its headers is never held: up to 16 * max_body bytes
 *      are skipped as they arrive (so a client still writing reads the answer, not a reset),
 *      beyond that the connection is closed. A client that sent "Expect: 100-continue" gets
 *      the answer at once (and no 100), then the connection is closed.
 *   3. the body, when asked for: a Content-Length over max_body is 413 from the headers and
 *      the connection closes after it; a chunked body is counted as it arrives and the
 *      connection is closed as soon as it passes max_body (MHD 0.9.75 takes no answer in the
 *      middle of a body; the done hook sees 413, aborted). At most max_body bytes per request
 *      are ever held.
 *   4. the handler (HdHttpHandlerFunc) answers, or suspends the request
 *      (hd_http_request_suspend) and answers later on the main thread followed by
 *      hd_http_request_resume(). A suspended request is not subject to the idle timeout (long
 *      polls bound their own wait).
 *   5. the done hook (access log, metrics) sees the status, or aborted when the peer went away,
 *      the timeout struck or the server stopped.
 *
 * HEAD is answered by the GET's handler; MHD sends the headers (Content-Length included)
 * without the body.
 *
 * Limits (HdHttpConfig): total connections (at the cap MHD stops accepting until one closes),
 * connections per peer address (beyond it, closed at once), the idle timeout (a connection
 * sending nothing, an unfinished request, a kept-alive connection with nothing to do), the
 * memory MHD may use per connection (headers included: larger headers are 431). MHD's timeout
 * counts inactivity only, so the layer adds deadlines of the same length for the phases where
 * the client owes bytes (a complete header block since the connection's start or the previous
 * answer, a complete body since the headers): a client dripping a byte a second is cut off.
 * When accept() fails for lack of descriptors (EMFILE/ENFILE), MHD stops polling the listening
 * socket until a connection closes, then accepts again; the layer logs it through log_func.
 * What MHD says goes to log_func too, at most 10 lines a second (then a count of the rest): a
 * client cannot flood the journal with malformed requests.
 */
#pragma once

#include <gio/gio.h> /* G_IO_ERROR */

G_BEGIN_DECLS

typedef enum {
        HD_HTTP_OK = 200,
        HD_HTTP_NOT_MODIFIED = 304,
        HD_HTTP_BAD_REQUEST = 400,
        HD_HTTP_UNAUTHORIZED = 401,
        HD_HTTP_FORBIDDEN = 403,
        HD_HTTP_NOT_FOUND = 404,
        HD_HTTP_METHOD_NOT_ALLOWED = 405,
        HD_HTTP_CONFLICT = 409,
        HD_HTTP_PRECONDITION_FAILED = 412,
        HD_HTTP_PAYLOAD_TOO_LARGE = 413,
        HD_HTTP_INTERNAL_SERVER_ERROR = 500,
        HD_HTTP_SERVICE_UNAVAILABLE = 503,
} HdHttpStatus;

typedef struct HdHttpServer HdHttpServer;
typedef struct HdHttpRequest HdHttpRequest;

/* Headers complete, no body read yet. Answer (hd_http_respond_*) or return TRUE to have the
 * body read (then the handler runs once it is complete). Returning FALSE without answering
 * runs the handler at once; a body, if one was announced, is refused with 400. */
typedef gboolean (*HdHttpHeadersFunc)(HdHttpRequest *req, gpointer user_data);
/* The request is complete: answer, or suspend and answer later. */
typedef void (*HdHttpHandlerFunc)(HdHttpRequest *req, gpointer user_data);
/* The request is over: answered (@aborted FALSE) or not (peer gone, timeout, shutdown). */
typedef void (*HdHttpDoneFunc)(HdHttpRequest *req, gboolean aborted, gpointer user_data);
/* Something the operator should know (level "warning" or "info"); one line, no newline. */
typedef void (*HdHttpLogFunc)(const char *level, const char *message, gpointer user_data);

typedef struct {
        const char *listen;        /* "127.0.0.1:8086", "[::1]:0" */
        const char *tls_cert_file; /* PEM; NULL: plain HTTP */
        const char *tls_key_file;
        const char *server_name; /* the Server header, may be NULL */
        guint max_connections;   /* 0: 512 */
        guint max_per_peer;      /* 0: 64 */
        guint idle_timeout;      /* seconds, 0: 30 */
        gsize max_body;          /* bytes, 0: 64 KiB */
        gsize connection_memory; /* bytes MHD may use per connection, 0: 32 KiB */
        HdHttpHeadersFunc headers;
        HdHttpHandlerFunc handler;
        HdHttpDoneFunc done;
        HdHttpLogFunc log;
        gpointer user_data;
} HdHttpConfig;

/* Parse @listen ("ADDR:PORT", IPv6 in brackets). */
gboolean hd_http_parse_listen(const char *listen, char **host, guint16 *port, GError **error);

/* Listen and serve on the thread-default main context. Errors: G_IO_ERROR (address, TLS
 * files, bind). */
HdHttpServer *hd_http_server_new(const HdHttpConfig *config, GError **error);
/* "http://127.0.0.1:PORT/" (the real port when 0 was asked). */
const char *hd_http_server_get_url(HdHttpServer *server);
gboolean hd_http_server_is_loopback(HdHttpServer *server);
/* The connection limit in force, and the connections open now. */
guint hd_http_server_get_max_connections(HdHttpServer *server);
guint hd_http_server_get_connections(HdHttpServer *server);
/* Stop accepting (close the listening socket); open connections are served on. */
void hd_http_server_quiesce(HdHttpServer *server);
/* Answer every suspended request 503, close every connection, free. */
void hd_http_server_free(HdHttpServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdHttpServer, hd_http_server_free)

/* ---- the request (valid from the headers hook until done; ref it to keep it longer) ---- */
HdHttpRequest *hd_http_request_ref(HdHttpRequest *req);
void hd_http_request_unref(HdHttpRequest *req);
const char *hd_http_request_get_method(HdHttpRequest *req);
/* HEAD counts as GET (the layer drops the body). */
gboolean hd_http_request_is_get(HdHttpRequest *req);
/* Percent-decoded, valid UTF-8, no control characters, starts with '/'. */
const char *hd_http_request_get_path(HdHttpRequest *req);
/* The path as the client split it: the parts between its '/' (after the leading one), each
 * percent-decoded on its own with the same rules, so that an encoded "%2F" stays inside its
 * segment ("/v1/usb/0403:6001:A1%2FB" is "v1", "usb", "0403:6001:A1/B"). NULL-terminated;
 * route on these, never on the decoded path split again. */
const char *const *hd_http_request_get_segments(HdHttpRequest *req);
/* Decoded query parameters (the last of a repeated name), or NULL when there are none. */
GHashTable *hd_http_request_get_query(HdHttpRequest *req);
/* The first value of header @name (case-insensitive) or NULL. */
const char *hd_http_request_get_header(HdHttpRequest *req, const char *name);
guint hd_http_request_count_header(HdHttpRequest *req, const char *name);
/* "ADDR:PORT" of the peer. */
const char *hd_http_request_get_peer(HdHttpRequest *req);
/* The body read (empty when none), at most max_body bytes. */
const char *hd_http_request_get_body(HdHttpRequest *req, gsize *len);
/* The caller's own per-request value. */
void hd_http_request_set_data(HdHttpRequest *req, gpointer data);
gpointer hd_http_request_get_data(HdHttpRequest *req);
guint hd_http_request_get_status(HdHttpRequest *req);
/* Microseconds (monotonic) when the headers were complete. */
gint64 hd_http_request_get_start(HdHttpRequest *req);

/* ---- answering: once per request; later calls are ignored ---- */
/* A response header (replaces one of the same name). */
void hd_http_request_set_header(HdHttpRequest *req, const char *name, const char *value);
/* Close the connection after this answer. */
void hd_http_request_set_close(HdHttpRequest *req);
/* @body is referenced, not copied (the agent's cached JSON per generation). */
void hd_http_respond_bytes(HdHttpRequest *req, guint status, const char *content_type,
                           GBytes *body);
void hd_http_respond_text(HdHttpRequest *req, guint status, const char *content_type,
                          const char *text);
void hd_http_respond_take(HdHttpRequest *req, guint status, const char *content_type, char *text);
void hd_http_respond_empty(HdHttpRequest *req, guint status);
/* {"error":{"code":CODE,"message":MESSAGE}} */
void hd_http_respond_error(HdHttpRequest *req, guint status, const char *code, const char *format,
                           ...) G_GNUC_PRINTF(4, 5);
gboolean hd_http_request_is_answered(HdHttpRequest *req);

/* From the handler only: answer later (an answer given so far is dropped, the headers set
 * stay). The layer keeps a reference until resume. */
void hd_http_request_suspend(HdHttpRequest *req);
/* On the main thread, after answering: send the answer of a suspended request. */
void hd_http_request_resume(HdHttpRequest *req);

G_END_DECLS
