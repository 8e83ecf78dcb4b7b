/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The portal's static files (web/, docs/ARCHITECTURE.md "Portal"), served by the engine from
 * its own origin, so that the portal and the API share one origin and the session cookie
 * (session.c) never crosses to another.
 *
 * Invariants:
 * - Every path outside /v1/ and /healthz is a file below --web-root (config key web-root;
 *   default the installed data directory, HOSTDEV_WEB_DIR). "/" is index.html. The portal
 *   routes with the URL fragment (#/hosts/ID), so no other path falls back to index.html.
 * - A path becomes a file only through a check of each segment (not empty, no leading '.',
 *   so neither "..", "." nor hidden files, at most 255 bytes, at most 16 segments) and then
 *   hd_open_at() on the root's descriptor, which resolves confined to it (RESOLVE_IN_ROOT: a
 *   symlink planted in the tree cannot leave it either). Only regular files of at most
 *   WEB_FILE_MAX bytes with a known extension are served; anything else is 404. Nothing here
 *   needs a token: the files are the same for everyone and hold no data.
 * - Every answer (files, API, errors) carries X-Content-Type-Options: nosniff,
 *   X-Frame-Options: DENY and Referrer-Policy: no-referrer; files carry the
 *   Content-Security-Policy below: scripts, styles, fonts, images and connections from this
 *   origin only, no inline script or style, no eval, no plugins, no framing, no <base>.
 *   The portal is written for it: ES modules from files, no style attributes in markup (CSSOM
 *   properties set from script are not inline styles), no inline event handlers.
 * - Caching: files answer Cache-Control: no-cache with an ETag (size and modification time),
 *   and If-None-Match answers 304: a browser keeps them and asks each time, so an upgraded
 *   engine's portal is seen at once. API answers are Cache-Control: no-store (api.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fileio.h"

#define WEB_FILE_MAX (16 * 1024 * 1024)
#define WEB_SEGMENT_MAX 255
#define WEB_SEGMENTS_MAX 16

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                          "object-src 'none'; base-uri 'none'; form-action 'self'; "
                          "frame-ancestors 'none'";

static const struct {
        const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".importmap", "application/importmap+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
};

void hd_engine_web_open(HdEngine *e)
{
        e->web_fd = open(e->opts.web_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->web_fd < 0)
                hd_engine_log(e, "warning",
                              "the portal's files (--web-root %s) cannot be opened: %s; the API "
                              "serves on, the portal answers 404",
                              e->opts.web_root, g_strerror(errno));
}

void hd_engine_web_close(HdEngine *e)
{
        if (e->web_fd >= 0)
                close(e->web_fd);
        e->web_fd = -1;
}

void hd_engine_web_common_headers(HdHttpRequest *req)
{
        hd_http_request_set_header(req, "X-Content-Type-Options", "nosniff");
        hd_http_request_set_header(req, "X-Frame-Options", "DENY");
        hd_http_request_set_header(req, "Referrer-Policy", "no-referrer");
}

static const char *content_type(const char *name)
{
        for (guint i = 0; i < G_N_ELEMENTS(types); i++)
                if (g_str_has_suffix(name, types[i].ext))
                        return types[i].type;
        return NULL;
}

/* The path below the root ("index.html" for "/"), or NULL when it may not name a file. */
static char *relative_path(const char *path)
{
        g_auto(GStrv) seg = NULL;
        guint n;

        if (strcmp(path, "/") == 0)
                return g_strdup("index.html");
        seg = g_strsplit(path + 1, "/", -1);
        n = g_strv_length(seg);
        if (n == 0 || n > WEB_SEGMENTS_MAX)
                return NULL;
        for (guint i = 0; i < n; i++)
                if (!*seg[i] || seg[i][0] == '.' || strlen(seg[i]) > WEB_SEGMENT_MAX ||
                    strchr(seg[i], '\\'))
                        return NULL;
        return g_strjoinv("/", seg);
}

static void not_found(HdEngine *e, HdHttpRequest *req)
{
        if (e->web_fd < 0)
                return hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found",
                                             "the portal's files are not installed in %s "
                                             "(hostdev-engine --web-root DIR names them)",
                                             e->opts.web_root);
        hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found",
                              "no such file %s (the portal starts at /, the API is under /v1)",
                              hd_http_request_get_path(req));
}

void hd_engine_web_serve(HdEngine *e, HdHttpRequest *req)
{
        g_autofree char *rel = NULL;
        g_autofree char *etag = NULL;
        g_autofree char *data = NULL;
        const char *type, *inm;
        struct stat st;
        gsize got = 0;
        int fd;

        if (!hd_http_request_is_get(req)) {
                hd_http_request_set_header(req, "Allow", "GET, HEAD");
                return hd_http_respond_error(req, HD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                                             "%s is not allowed on the portal's files; use GET",
                                             hd_http_request_get_method(req));
        }
        if (hd_http_request_get_query(req) != NULL)
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "the portal's files take no query parameters");
        rel = relative_path(hd_http_request_get_path(req));
        type = rel ? content_type(rel) : NULL;
        if (!type || e->web_fd < 0)
                return not_found(e, req);
        fd = hd_open_at(e->web_fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
        if (fd < 0)
                return not_found(e, req);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX) {
                close(fd);
                return not_found(e, req);
        }
        etag = g_strdup_printf("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x.%lx\"",
                               (gint64)st.st_size, (gint64)st.st_mtim.tv_sec,
                               (unsigned long)st.st_mtim.tv_nsec);
        hd_http_request_set_header(req, "Content-Security-Policy", csp);
        hd_http_request_set_header(req, "Cache-Control", "no-cache");
        hd_http_request_set_header(req, "ETag", etag);
        inm = hd_http_request_get_header(req, "If-None-Match");
        if (inm && strcmp(inm, etag) == 0) {
                close(fd);
                return hd_http_respond_empty(req, HD_HTTP_NOT_MODIFIED);
        }
        data = g_malloc((gsize)st.st_size + 1);
        while (got < (gsize)st.st_size) {
                ssize_t r = read(fd, data + got, (gsize)st.st_size - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (gsize)r;
        }
        close(fd);
        if (got != (gsize)st.st_size) {
                hd_engine_log(e, "warning", "the portal's file %s could not be read whole", rel);
                return hd_http_respond_error(req, HD_HTTP_INTERNAL_SERVER_ERROR, "failed",
                                             "the portal's file %s could not be read", rel);
        }
        {
                g_autoptr(GBytes) b = g_bytes_new_take(g_steal_pointer(&data), got);
                hd_http_respond_bytes(req, HD_HTTP_OK, type, b);
        }
}
