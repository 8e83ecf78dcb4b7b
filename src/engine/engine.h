/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine: the fleet manager (docs/ARCHITECTURE.md, "Engine"). One process, one
 * GMainLoop on the main thread: the HTTP server (src/http, libmicrohttpd on the loop), the
 * per-host sync with the agents (sync.c, libsoup's SoupSession on the loop), the store
 * (store.h; SQLite, synchronous calls on the main thread, see store.h for why and for the
 * PostgreSQL seam).
 *
 * Modules: main.c (options, configuration file, the token subcommands); api.c (the server,
 * authentication, roles, routing, the helpers of api.h) and api-<resource>.c (the /v1
 * handlers, one file per resource, each writing the audit log of its calls); body.c (strict
 * request bodies, no HTTP); sync.c (hosts.h: the state machine, the long polls, one-off agent
 * calls); store-sql.c and store-sql-<concept>.c (store.h); web.c (the portal's
 * static files, the security headers); session.c (the portal's login: session cookies, CSRF
 * checks, /v1/session).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "hosts.h"
#include "http.h"
#include "store.h"

/* The largest request body the engine reads (413 beyond). */
#define HD_ENGINE_MAX_BODY (64 * 1024)

typedef struct {
        char *db_path;  /* SQLite (--db), the default */
        char *database; /* PostgreSQL (--database): a libpq conninfo or URI */
        char *listen;
        char *tls_cert, *tls_key;
        char *replica; /* the lease owner name (hosts.h) */
        char *web_root; /* the portal's files (web.c) */
        guint poll_wait;
        guint retry_max;
        guint max_connections, max_per_peer, idle_timeout;
        gboolean verbose;
} HdEngineOptions;

typedef struct {
        HdEngineOptions opts;
        HdStore *store;
        HdSyncManager *sync;
        HdHttpServer *server;
        GMainLoop *loop;
        GList *event_waiters; /* GET /v1/events?wait=N suspended until an event or N s */
        guint wake_id;        /* the idle that answers them after an event */
        GHashTable *vm_ops;   /* ids of the VMs with an agent call in flight (api-vms.c) */
        guint vm_op_seq;      /* moves when one begins or ends (api-vms.c, the reconcile) */
        int web_fd;           /* opts.web_root, or -1 when it cannot be opened */
} HdEngine;

gboolean hd_engine_api_start(HdEngine *engine, GError **error);
void hd_engine_api_stop(HdEngine *engine);
/* The audit log (store events), from the API and the sync. Never fails the caller. */
void hd_engine_event(HdEngine *engine, const char *actor, const char *action, const char *object,
                     const char *result, const char *message);
void hd_engine_log(HdEngine *engine, const char *level, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* ---- request bodies (body.c): JSON in, validated values out, messages for a 400 ---- */

/* The body as one JSON object, strictly (src/basic/json-strict.h: no duplicates, no \u0000);
 * an empty body is {}. */
JsonObject *hd_engine_body_parse(const char *data, gsize len, GError **error);

/* POST /v1/hosts (all of name, agent_url, agent_token required) and PATCH /v1/hosts/{id}
 * (every member optional; tls_* "" clears). Unknown members, null and wrong types are
 * refused. */
typedef struct {
        char *name, *agent_url, *agent_token, *tls_ca_file, *tls_pinned_cert;
} HdHostBody;
gboolean hd_engine_body_host(JsonObject *o, gboolean create, HdHostBody *out, GError **error);
void hd_host_body_clear(HdHostBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdHostBody, hd_host_body_clear)

/* PUT /v1/hosts/{id}/kernel-args (body-kernel-args.c): the agent's members, validated; *@out
 * the JSON the agent gets (dry_run always written), *@dry_run FALSE when absent. */
gboolean hd_engine_body_kernel_args(JsonObject *o, char **out, gboolean *dry_run, GError **error);

/* Names of hosts and tokens: 1..64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
gboolean hd_engine_name_valid(const char *name);

/* ---- the portal's files (web.c) ---- */

/* Open opts.web_root (a missing root is a warning: the API serves on, the portal answers 404
 * saying where its files were looked for). */
void hd_engine_web_open(HdEngine *engine);
void hd_engine_web_close(HdEngine *engine);
/* The headers every answer carries (nosniff, no framing, no referrer). */
void hd_engine_web_common_headers(HdHttpRequest *req);
/* Answer a request for a path outside /v1 and /healthz from the web root. */
void hd_engine_web_serve(HdEngine *engine, HdHttpRequest *req);

/* ---- portal sessions (session.c) ---- */

#define HD_SESSION_COOKIE "hostdev_session"
/* How long a session lasts after its login, in seconds. */
#define HD_SESSION_TTL (8 * 3600)

/* The token (name, role) behind the request's session cookie; NULL without an error when it
 * carries none or one that is unknown or expired (*@had_cookie says which). */
HdToken *hd_engine_session_lookup(HdEngine *engine, HdHttpRequest *req, gboolean *had_cookie,
                                  GError **error);
/* A state-changing call made with the session cookie (or a login): the X-Hostdev-CSRF header
 * must be "1" and the Origin, when sent, must be this engine's own. FALSE: answered 403. */
gboolean hd_engine_session_check_csrf(HdEngine *engine, HdHttpRequest *req);
/* GET, POST (login: from the body), DELETE (logout) /v1/session. @who: "ROLE:NAME" of the
 * caller or NULL (login); @via_session: the caller used the cookie. */
void hd_engine_session_call(HdEngine *engine, HdHttpRequest *req, const char *who,
                            gboolean via_session);
