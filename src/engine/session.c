/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The portal's login: an engine token (viewer or admin) is exchanged once for a session
 * cookie, so the portal's script never holds the token (docs/api/engine-openapi.yaml,
 * /v1/session).
 *
 *   POST   /v1/session {"token": "..."}  -> 200 {name, role, via, expires_at} + Set-Cookie
 *   GET    /v1/session                   -> who the caller is (cookie or bearer), 401 if nobody
 *   DELETE /v1/session                   -> 204, the session deleted, the cookie cleared
 *
 * Invariants:
 * - A session id is 32 bytes from getrandom(), base64url without padding (43 characters).
 *   The store keeps only its SHA-256 (portal_sessions: hash, token name, expiry), like the
 *   tokens: a copy of the database logs nobody in. A session lasts HD_SESSION_TTL from its
 *   login; revoking its token deletes it (ON DELETE CASCADE); logging out deletes it.
 * - The cookie: hostdev_session=ID; Path=/; HttpOnly (no script reads it); SameSite=Strict
 *   (no other site's page makes the browser send it); Secure when the engine serves TLS;
 *   Max-Age = the session's life.
 * - CSRF. Every call that changes something and is authenticated by the cookie, and the login
 *   itself (login CSRF would sign a victim into the attacker's token), must carry the header
 *   X-Hostdev-CSRF: 1, and its Origin, when the browser sends one, must be this engine's own
 *   ("http[s]://" + the Host header). A cross-site form cannot set a header, and a cross-origin
 *   fetch() that sets one needs a CORS preflight the engine never grants (it sends no
 *   Access-Control-* header); the Origin check refuses whatever slips through anyway
 *   (a "null" Origin included). SameSite=Strict already keeps the cookie off cross-site
 *   requests: the three are layers, each enough on its own for the browsers we target.
 *   Calls with a bearer token need none of it (a browser never adds one by itself).
 */
#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "engine.h"

#define SESSION_ID_LEN 43 /* 32 bytes in base64url, no padding */

static char *hash_id(const char *id)
{
        return g_compute_checksum_for_string(G_CHECKSUM_SHA256, id, -1);
}

static gboolean id_valid(const char *id, gsize len)
{
        if (len != SESSION_ID_LEN)
                return FALSE;
        for (gsize i = 0; i < len; i++)
                if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
                        return FALSE;
        return TRUE;
}

/* The session id of the Cookie header, or NULL. */
static char *cookie_id(HdHttpRequest *req, gboolean *had_cookie)
{
        const char *cookie = hd_http_request_get_header(req, "Cookie");
        const char *p = cookie;
        const gsize name_len = strlen(HD_SESSION_COOKIE);

        *had_cookie = FALSE;
        while (p && *p) {
                const char *end = strchr(p, ';');
                gsize len = end ? (gsize)(end - p) : strlen(p);

                while (len && *p == ' ') {
                        p++;
                        len--;
                }
                if (len > name_len && strncmp(p, HD_SESSION_COOKIE, name_len) == 0 &&
                    p[name_len] == '=') {
                        *had_cookie = TRUE;
                        if (id_valid(p + name_len + 1, len - name_len - 1))
                                return g_strndup(p + name_len + 1, len - name_len - 1);
                        return NULL;
                }
                p = end ? end + 1 : NULL;
        }
        return NULL;
}

HdToken *hd_engine_session_lookup(HdEngine *e, HdHttpRequest *req, gboolean *had_cookie,
                                  GError **error)
{
        g_autofree char *id = cookie_id(req, had_cookie);
        g_autofree char *hash = NULL;

        if (!id)
                return NULL;
        hash = hash_id(id);
        explicit_bzero(id, strlen(id));
        return hd_store_session_find(e->store, hash, NULL, error);
}

gboolean hd_engine_session_check_csrf(HdEngine *e, HdHttpRequest *req)
{
        const char *mark = hd_http_request_get_header(req, "X-Hostdev-CSRF");
        const char *origin = hd_http_request_get_header(req, "Origin");
        const char *host = hd_http_request_get_header(req, "Host");
        g_autofree char *own = NULL;

        if (!mark || strcmp(mark, "1") != 0) {
                hd_http_respond_error(req, HD_HTTP_FORBIDDEN, "forbidden",
                                      "a call made with the portal's session must carry the "
                                      "header X-Hostdev-CSRF: 1 (the portal sends it; scripts "
                                      "use a bearer token)");
                return FALSE;
        }
        if (!origin)
                return TRUE;
        own = g_strconcat(e->opts.tls_cert ? "https://" : "http://", host ? host : "", NULL);
        if (!host || hd_http_request_count_header(req, "Origin") != 1 || strcmp(origin, own) != 0) {
                g_autofree char *shown = g_utf8_make_valid(origin, MIN(strlen(origin), 100));
                hd_http_respond_error(req, HD_HTTP_FORBIDDEN, "forbidden",
                                      "the request comes from the page of another origin (%s); "
                                      "the portal's session is for %s only",
                                      shown, own);
                return FALSE;
        }
        return TRUE;
}

static void respond_who(HdHttpRequest *req, guint status, const char *name, const char *role,
                        const char *via, const char *expires_at)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, name);
        json_builder_set_member_name(b, "role");
        json_builder_add_string_value(b, role);
        json_builder_set_member_name(b, "via");
        json_builder_add_string_value(b, via);
        json_builder_set_member_name(b, "expires_at");
        if (expires_at)
                json_builder_add_string_value(b, expires_at);
        else
                json_builder_add_null_value(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        hd_http_respond_take(req, status, "application/json", json_to_string(root, FALSE));
}

static void set_cookie(HdEngine *e, HdHttpRequest *req, const char *id, guint max_age)
{
        g_autofree char *v = g_strdup_printf(HD_SESSION_COOKIE "=%s; Path=/; Max-Age=%u; "
                                                               "HttpOnly; SameSite=Strict%s",
                                             id, max_age, e->opts.tls_cert ? "; Secure" : "");
        hd_http_request_set_header(req, "Set-Cookie", v);
}

static void login(HdEngine *e, HdHttpRequest *req)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = NULL;
        g_autoptr(HdToken) t = NULL;
        g_autofree char *hash = NULL;
        g_autofree char *expires_at = NULL;
        g_autofree char *token = NULL;
        guint8 raw[32];
        gsize len = 0;
        const char *data = hd_http_request_get_body(req, &len);
        JsonNode *n;

        o = hd_engine_body_parse(data, len, &error);
        if (!o)
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument", "%s",
                                             error->message);
        n = json_object_get_member(o, "token");
        if (json_object_get_size(o) != 1 || !n || !JSON_NODE_HOLDS_VALUE(n) ||
            json_node_get_value_type(n) != G_TYPE_STRING)
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "a login is {\"token\": \"...\"}: the engine token "
                                             "that hostdev-engine token create printed");
        token = g_strdup(json_node_get_string(n));
        hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, g_strstrip(token), -1);
        explicit_bzero(token, strlen(token));
        t = hd_store_token_find(e->store, hash, &error);
        if (!t) {
                if (error)
                        return hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "failed",
                                                     "the engine cannot read its tokens: %s",
                                                     error->message);
                return hd_http_respond_error(req, HD_HTTP_UNAUTHORIZED, "unauthorized",
                                             "this token is not valid for this engine (ask "
                                             "its administrator for one: hostdev-engine "
                                             "token create NAME --role admin|viewer)");
        }
        if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
                return hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "failed",
                                             "the engine has no random bytes for a session");
        {
                g_autofree char *b64 = g_base64_encode(raw, sizeof(raw));
                g_autofree char *id = NULL;
                g_autofree char *id_hash = NULL;

                explicit_bzero(raw, sizeof(raw));
                g_strdelimit(b64, "+", '-');
                g_strdelimit(b64, "/", '_');
                id = g_strndup(b64, SESSION_ID_LEN); /* without the '=' */
                explicit_bzero(b64, strlen(b64));
                id_hash = hash_id(id);
                if (!hd_store_session_add(e->store, id_hash, t->name, HD_SESSION_TTL, &expires_at,
                                          &error))
                        return hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "failed",
                                                     "%s", error->message);
                set_cookie(e, req, id, HD_SESSION_TTL);
                explicit_bzero(id, strlen(id));
        }
        hd_engine_event(e, t->name, "session.login", "session", "ok",
                        g_strcmp0(t->role, "admin") == 0 ? "admin" : "viewer");
        respond_who(req, HD_HTTP_OK, t->name, t->role, "session", expires_at);
}

static void logout(HdEngine *e, HdHttpRequest *req, const char *name)
{
        g_autoptr(GError) error = NULL;
        gboolean had_cookie = FALSE;
        g_autofree char *id = cookie_id(req, &had_cookie);
        g_autofree char *hash = id ? hash_id(id) : NULL;

        if (!hash || !hd_store_session_remove(e->store, hash, &error))
                return hd_http_respond_error(req, HD_HTTP_SERVICE_UNAVAILABLE, "failed",
                                             "the session could not be ended: %s",
                                             error ? error->message : "no session");
        set_cookie(e, req, "", 0);
        hd_engine_event(e, name, "session.logout", "session", "ok", "logged out");
        hd_http_respond_empty(req, 204);
}

void hd_engine_session_call(HdEngine *e, HdHttpRequest *req, const char *who, gboolean via_session)
{
        const char *method = hd_http_request_get_method(req);
        const char *colon = who ? strchr(who, ':') : NULL;
        g_autofree char *role = colon ? g_strndup(who, (gsize)(colon - who)) : NULL;

        if (hd_http_request_get_query(req))
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "/v1/session takes no query parameters");
        if (strcmp(method, "POST") == 0)
                return login(e, req);
        if (hd_http_request_is_get(req)) {
                g_autoptr(GError) error = NULL;
                g_autofree char *expires_at = NULL;
                if (via_session) {
                        gboolean had_cookie = FALSE;
                        g_autofree char *id = cookie_id(req, &had_cookie);
                        g_autofree char *hash = id ? hash_id(id) : NULL;
                        HdToken *t =
                            hash ? hd_store_session_find(e->store, hash, &expires_at, &error)
                                 : NULL;
                        hd_token_free(t);
                }
                /* "session/ROLE" when the cookie authenticated the call (api.c) */
                return respond_who(req, HD_HTTP_OK, colon + 1,
                                   g_str_has_prefix(role, "session/") ? role + 8 : role,
                                   via_session ? "session" : "bearer", expires_at);
        }
        if (strcmp(method, "DELETE") == 0) {
                if (!via_session)
                        return hd_http_respond_error(
                            req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                            "DELETE /v1/session ends the portal's session, and this call "
                            "carries a bearer token, not the session cookie (a token is "
                            "revoked with hostdev-engine token revoke NAME)");
                return logout(e, req, colon + 1);
        }
        hd_http_request_set_header(req, "Allow", "GET, POST, DELETE");
        hd_http_respond_error(req, HD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                              "%s is not allowed here; use GET, POST or DELETE", method);
}
