/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hosts and their sync with the agents (sync.c): one HdSync per host on the main loop, talking
 * to the host's hostdevd through a SoupSession (async, main context).
 *
 * The host state machine (the status column, store.h HdHostStatus):
 *
 *   (added / edited connection) --> connecting
 *   connecting      -- GET /v1/host, /v1/devices, /v1/groups answered -----------> up
 *   connecting, up  -- any agent call fails (refused, reset, timeout, 401, 5xx) -> non_responsive
 *   non_responsive  -- after the backoff (1, 2, 4 ... --retry-max seconds):
 *                      the same three calls answered --------------------------> up
 *                      (boot id new or not: the ETags hold the agent's boot id,
 *                      so a restarted agent never answers 304 to an old one)
 *   up              -- stays up while the long polls answer (200: a new generation,
 *                      applied in one store transaction; 304: none in wait seconds)
 *   up              -- POST .../maintenance by an admin, while no VM on the host is
 *                      other than down (refused naming them) ----------------> maintenance
 *   maintenance     -- the sync keeps running (long polls, facts, inventory: devices are
 *                      still watched) but never changes the status; an agent failure is
 *                      the host's last_error, retried with the backoff
 *   maintenance     -- POST .../reboot by an admin: the boot id is remembered, then the
 *                      agent's POST /v1/host/reboot (refused: back to maintenance with
 *                      the agent's message) ---------------------------------> rebooting
 *   rebooting       -- GET /v1/host with the backoff (connection failures and answers with
 *                      the old boot id are last_error, never non_responsive); the first
 *                      answer with another boot id --------------------------> maintenance
 *                      (then the inventory is read again); a host that never comes back
 *                      stays rebooting with last_error
 *   maintenance     -- POST .../activate by an admin -----------------------> connecting
 *                      (readiness and inventory read again, then up)
 *   Only the API (api-hostlife.c) enters maintenance and rebooting and leaves maintenance,
 *   through one store call each that checks the status it starts from (store.h, "the host
 *   lifecycle"); the sync leaves rebooting (hd_store_host_reboot_seen) and writes its own
 *   statuses with hd_store_host_set_sync_status(), which leaves maintenance and rebooting
 *   where they are, so an admin's decision is never undone by a sync cycle.
 *   (removed)       -- the sync is cancelled, its requests aborted, its rows deleted.
 *
 * While up, each host has exactly one request outstanding on its agent: GET /v1/devices?wait=N
 * with If-None-Match: the ETag last stored. The agent has one generation (and ETag) for
 * devices and groups, so a 200 on devices also re-reads GET /v1/groups and GET /v1/host
 * (group states, readiness and kernel arguments may follow a driver change), and, as after
 * connecting's reads, GET /v1/mdev (capacity) and GET /v1/npiv (the port and node names the
 * engine's WWNs avoid: hd_sync_npiv_seen). Neither fails the host: a 404 is an agent without
 * the endpoint; /v1/npiv's other failures keep the names last seen, logged once. One long poll
 * instead of two halves the engine's sockets and main-loop sources (at 1,000 hosts each loop
 * iteration polls every one of them: bench/README.md, "The engine at 1,000 hosts").
 * A refresh (POST /v1/hosts/{id}/refresh) cancels the polls and runs connecting's reads again.
 *
 * The store is the truth (store.h rule 2): the in-memory HdSync holds the requests in flight
 * and the backoff timer only; status, facts, ETags and inventory are written through the store
 * the moment they are learnt. Each cycle renews the host's sync lease (rule 3); a host whose
 * lease another replica holds is not polled.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "store.h"

typedef struct HdSyncManager HdSyncManager;

typedef struct {
        guint poll_wait;   /* seconds the agent holds a long poll, 1..300 */
        guint retry_max;   /* the backoff's cap in seconds */
        guint lease_ttl;   /* seconds */
        const char *owner; /* this replica's lease owner name */
        /* Called (with the manager's user_data) whenever a device generation of the host was
         * read and stored (connecting's read, a long poll's 200): the VMs' reconcile (vms.h).
         * NULL: none. */
        void (*host_synced)(const char *host_id, gpointer user_data);
} HdSyncConfig;

/* Hooks the sync calls on the main thread (the audit log). */
typedef void (*HdSyncEventFunc)(const char *host_id, const char *action, const char *result,
                                const char *message, gpointer user_data);

HdSyncManager *hd_sync_manager_new(HdStore *store, const HdSyncConfig *config,
                                   HdSyncEventFunc event, gpointer user_data);
void hd_sync_manager_free(HdSyncManager *m);
/* Start syncing every host of the store. */
gboolean hd_sync_manager_start_all(HdSyncManager *m, GError **error);
/* (Re)start the host's sync from connecting's reads (added, edited, refresh). */
void hd_sync_host_start(HdSyncManager *m, const char *host_id);
/* Stop the host's sync (removed). */
void hd_sync_host_stop(HdSyncManager *m, const char *host_id);

/* The answer of hd_sync_agent_call(), on the main thread, exactly once: @error set (and
 * @status 0, @body NULL) when no HTTP answer came (connection refused or reset, TLS, timeout,
 * a URL that is not http(s), a host this engine does not sync); else the HTTP status and the
 * body (any status: the caller reads the agent's error document). */
typedef void (*HdAgentReplyFunc)(guint status, GBytes *body, const GError *error,
                                 gpointer user_data);

/* One call on the host's agent besides the sync's own (VM define/start/stop, kernel arguments,
 * reboot): the host's URL, agent token and TLS settings (CA file, pinned certificate), JSON
 * @body (NULL: none) sent as application/json. It is not aborted when the sync's polls fail
 * or restart (a VM start in flight finishes and reports); it is aborted with the manager. */
void hd_sync_agent_call(HdSyncManager *m, const char *host_id, const char *method,
                        const char *path_query, const char *body, HdAgentReplyFunc func,
                        gpointer user_data);

/* The agent's GET /v1/mdev document as one HdHostMdevType per (parent, type); NULL when it is
 * not that document. */
GPtrArray *hd_sync_parse_mdev(GBytes *body);

/* The canonical form "0x2001001122334455" of a WWN an agent shows, or FALSE (none, or not
 * one). */
gboolean hd_sync_wwn_canonical(const char *text, char out[19]);
/* The agent's GET /v1/npiv document (@doc): the port and node names of its FC hosts (not
 * vHBAs: their vports are listed), vports and recorded vports become the host's seen names
 * (hd_store_npiv_seen, *@changed as there), which the engine's new pairs must not reuse. The
 * sync calls it at connecting and at each new device generation; the API at each NPIV read. */
gboolean hd_sync_npiv_seen(HdStore *store, const char *host_id, JsonObject *doc, gboolean *changed,
                           GError **error);
