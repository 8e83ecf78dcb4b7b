/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's store: every piece of fleet state (hosts, their devices and IOMMU groups, API
 * tokens, the audit log, sync leases) behind one interface in domain terms. No SQL leaves
 * store-sql*.c; the rest of the engine never sees a statement, a row id or a connection.
 * The store's files hold SQL and domain logic and reach the database through db.h's driver:
 * db-sqlite.c (--db PATH) or db-pg.c on libpq (--database CONNINFO). The PostgreSQL store runs
 * today, synchronously on the caller's thread; what it still needs for a server across a
 * network is the worker thread below.
 *
 * Rules that let a PostgreSQL store and several engine replicas follow without a rewrite:
 * 1. Every state change is exactly one store call, and every store call that changes something
 *    is one transaction (an inventory diff, a host removal with its check, an event append).
 *    Callers never compose transactions out of several calls.
 * 2. The database is the only truth. What the engine keeps in memory (per-host sync state:
 *    the SoupMessage in flight, the backoff timer) is a cache of rows and can be rebuilt from
 *    the store after a restart; an API answer is always read from the store.
 * 3. Who syncs a host is a row: host_leases (host, owner, expires_at). A replica syncs a host
 *    only while hd_store_lease_claim() gives it the lease; it renews the lease on each cycle.
 *    A second replica on the same database finds them taken until they expire, then takes
 *    them over (tests/test-engine-replicas.c).
 * 4. Ids are chosen by the engine (hosts: random UUIDs) or computed inside the transaction
 *    (events: MAX(id)+1 under the primary key, which a concurrent writer makes fail and retry
 *    on PostgreSQL rather than duplicate), so no AUTOINCREMENT / SERIAL dialect is needed.
 * 5. The SQL is the common subset of SQLite and PostgreSQL: TEXT, INTEGER, BIGINT, explicit
 *    PRIMARY KEY / UNIQUE / CHECK / REFERENCES ... ON DELETE CASCADE; booleans are INTEGER 0/1
 *    with a CHECK; times are TEXT in ISO 8601 UTC ("2026-12-01T16:50:00.123456Z"), which sorts
 *    as it reads; JSON documents from agents are TEXT. No SQLite-only form (COLLATE NOCASE,
 *    INSERT OR REPLACE, group_concat, a parameter whose type nothing around it tells); named
 *    parameters where statements share bindings, so no number goes unused.
 *    tests/engine-sql-dialect.py holds the store to this: every migration and every statement
 *    the engine tests make is run / PREPAREd on a real PostgreSQL server.
 * 6. Migrations are numbered (store-sql.c: migrations[]), each applied in its own
 *    transaction with its number written to schema_version, the version read inside that
 *    transaction (under the one-writer lock), so replicas starting at once apply each one
 *    once; a database newer than the engine is refused at start.
 *
 * Threads. The calls are synchronous and run on the main loop's thread. For SQLite this is
 * a deliberate choice: the database is a local file in WAL mode with synchronous=NORMAL, so a
 * commit is a write to the WAL without fsync; the largest transaction (a 128-device inventory
 * diff) is one prepared statement per changed row, well under a millisecond; reads are
 * indexed and paginated (hosts are read at most a page at a time). A busy timeout of 5 s only
 * matters when another process (hostdev-engine token ...) writes at the same moment.
 * The PostgreSQL driver (db-pg.c) is synchronous too, fine for a server on the same host or
 * LAN. A server across a network must not block the loop on each round trip: the store then
 * runs the same operations on a worker thread (each operation is self-contained: arguments
 * in, owned results out, no cursor or row object crosses the call): each becomes a GTask run
 * on a worker thread with an _async/_finish pair of the same arguments, and the engine's few call
 * sites (api.c, sync.c) move to the pair. The SQLite backend keeps the synchronous call.
 *
 * Errors: G_IO_ERROR for the database itself (open, I/O, corrupt), HD_STORE_ERROR for what a
 * caller can act on (NOT_FOUND, EXISTS, REFUSED with the reason, CHANGED: an If-Match that no
 * longer holds).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_STORE_ERROR (hd_store_error_quark())
GQuark hd_store_error_quark(void);

typedef enum {
        HD_STORE_ERROR_NOT_FOUND, /* no such host / token */
        HD_STORE_ERROR_EXISTS,    /* the name is taken */
        HD_STORE_ERROR_REFUSED,   /* e.g. removing a host whose devices VMs use */
        HD_STORE_ERROR_FAILED,    /* the database */
        HD_STORE_ERROR_CHANGED,   /* changed since the caller read it (If-Match) */
        HD_STORE_ERROR_IN_USE,    /* another VM owns the device (USB, SCSI: one owner) */
} HdStoreError;

typedef struct HdStore HdStore;

/* The host status: see hosts.h for the state machine. */
typedef enum {
        HD_HOST_CONNECTING,
        HD_HOST_UP,
        HD_HOST_MAINTENANCE,
        HD_HOST_REBOOTING,
        HD_HOST_NON_RESPONSIVE,
} HdHostStatus;

const char *hd_host_status_to_string(HdHostStatus s);
gboolean hd_host_status_from_string(const char *s, HdHostStatus *out);

/* A host row. The agent token is never part of it (hd_store_host_get_secret). */
typedef struct {
        char *id;
        char *name;
        char *agent_url;
        char *tls_ca_file;     /* PEM of the CA that signs the agent's certificate, or NULL */
        char *tls_pinned_cert; /* PEM of the one certificate accepted, or NULL */
        HdHostStatus status;
        char *last_error;
        char *retry_at;      /* when the next attempt runs while non_responsive */
        guint retry_seconds; /* the current backoff */
        int passthrough;     /* -1 unknown, 0 disabled, 1 enabled */
        char *passthrough_reason;
        char *cpu_vendor;
        char *kernel_release;
        char *kernel_args_running;    /* JSON array text or NULL */
        char *kernel_args_configured; /* JSON array text or NULL */
        guint device_count;
        guint group_count;
        char *devices_etag;
        char *groups_etag;
        char *last_sync;
        char *created_at;
        char *updated_at;
        /* the host lifecycle (migration 3, store-sql-hostlife.c) */
        char *boot_id;             /* the agent's kernel boot id, NULL when unknown */
        gboolean reboot_required;  /* the agent: configured command line != running */
        char *kernel_args_desired; /* JSON array text of the last kernel tab plan, or NULL */
        char *reboot_from_boot_id; /* while rebooting: the boot id the reboot must change */
        char *rebooting_since;     /* while rebooting: when it was asked */
} HdHost;

void hd_host_free(HdHost *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdHost, hd_host_free)

/* Filters of hd_store_hosts_list(); NULL / -1 for "any". */
typedef struct {
        const char *status;      /* one status name */
        const char *name_prefix; /* names starting with this (literal, no wildcards) */
        int passthrough;         /* -1 any, 0, 1 */
        guint limit;             /* 1..1000 */
        guint offset;
} HdHostFilter;

/* An inventory item from an agent: its key (a device's address, a group's number as text),
 * the agent's JSON object as text, and the columns the engine queries. */
typedef struct {
        char *key;
        char *data;
        char *vendor_id, *device_id, *driver; /* devices */
        gint64 iommu_group;                   /* devices: -1 none */
        char *category; /* devices: gpu, net, storage, usb, audio, bridge, other (NULL: unknown) */
        char *search;   /* devices: casefolded text the text filter searches (hd_device_search_text) */
} HdInvItem;

void hd_inv_item_free(HdInvItem *it);

typedef enum { HD_INV_DEVICES, HD_INV_GROUPS } HdInvKind;

typedef struct {
        guint inserted, updated, deleted;
} HdInvDiff;

/* Host facts from the agent's GET /v1/host (one update). */
typedef struct {
        int passthrough;
        const char *passthrough_reason;
        const char *cpu_vendor;
        const char *kernel_release;
        const char *kernel_args_running;
        const char *kernel_args_configured;
        const char *boot_id;      /* NULL: the agent does not say */
        gboolean reboot_required; /* the agent's kernel_args.reboot_required */
} HdHostFacts;

typedef struct {
        char *name;
        char *role; /* "admin" | "viewer" */
        char *created_at;
} HdToken;
void hd_token_free(HdToken *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdToken, hd_token_free)

typedef struct {
        gint64 id;
        char *at, *actor, *action, *object, *result, *message;
} HdEvent;
void hd_event_free(HdEvent *e);

/* ---- the store ---- */

/* Open the SQLite database @path through its driver (db-sqlite.c: created 0600 when missing,
 * its directory 0700) and migrate. */
HdStore *hd_store_open_sqlite(const char *path, GError **error);
/* Open the PostgreSQL database @conninfo (a libpq connection string or a postgresql:// URI)
 * through its driver (db-pg.c) and migrate; several engines may start at once on it (each
 * migration is applied once, under the one-writer lock). FAILED when built without libpq. */
HdStore *hd_store_open_pg(const char *conninfo, GError **error);
/* The store on @db (either driver), migrated; it owns @db from here (closed on failure). */
typedef struct HdDb HdDb;
HdStore *hd_store_open(HdDb *db, GError **error);
void hd_store_free(HdStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdStore, hd_store_free)
guint hd_store_schema_version(HdStore *store);

/* ---- hosts ---- */
/* Insert a host in status connecting. *@id_out: its new id. EXISTS when the name is taken. */
gboolean hd_store_host_add(HdStore *store, const char *name, const char *agent_url,
                           const char *agent_token, const char *tls_ca_file,
                           const char *tls_pinned_cert, char **id_out, GError **error);
HdHost *hd_store_host_get(HdStore *store, const char *id, GError **error);
/* The agent token of a host, for the sync only. */
char *hd_store_host_get_secret(HdStore *store, const char *id, GError **error);
/* A page of hosts sorted by name; *@total: how many match the filter. */
GPtrArray *hd_store_hosts_list(HdStore *store, const HdHostFilter *filter, guint *total,
                               GError **error);
/* Every host id (the sync at start). */
GPtrArray *hd_store_host_ids(HdStore *store, GError **error);
/* Edit: NULL leaves a field as it is; "" clears an optional one. Connection fields changing
 * put the host back to connecting (one in maintenance or rebooting stays there). */
gboolean hd_store_host_edit(HdStore *store, const char *id, const char *name, const char *agent_url,
                            const char *agent_token, const char *tls_ca_file,
                            const char *tls_pinned_cert, GError **error);
/* The names of the VMs that have host devices (requested or placeholders) on the host. */
GPtrArray *hd_store_host_users(HdStore *store, const char *id, GError **error);
/* The names of the VMs on the host that are not down (starting, running, stopping): they block
 * maintenance. */
GPtrArray *hd_store_host_running_vms(HdStore *store, const char *id, GError **error);
/* Remove the host with its devices, groups and lease, in one transaction with the check of
 * hd_store_host_users(): REFUSED naming the VMs. */
gboolean hd_store_host_remove(HdStore *store, const char *id, GError **error);
gboolean hd_store_host_set_status(HdStore *store, const char *id, HdHostStatus status,
                                  const char *last_error, guint retry_seconds, GError **error);
gboolean hd_store_host_set_facts(HdStore *store, const char *id, const HdHostFacts *facts,
                                 GError **error);

/* ---- the host lifecycle (hosts.h: maintenance, reboot, activate; store-sql-hostlife.c)
 * Each transition is one transaction that checks the status it starts from; a refusal is
 * REFUSED with a message naming the host and saying what to do. ---- */
/* up -> maintenance, refused while VMs on the host are not down (naming them). */
gboolean hd_store_host_enter_maintenance(HdStore *store, const char *id, GError **error);
/* maintenance -> rebooting, remembering the current boot id (the one the reboot changes). */
gboolean hd_store_host_begin_reboot(HdStore *store, const char *id, GError **error);
/* rebooting -> maintenance with @message as last_error (the agent refused the reboot).
 * FALSE without an error when the host is not rebooting any more. */
gboolean hd_store_host_abort_reboot(HdStore *store, const char *id, const char *message,
                                    GError **error);
/* The agent answered with @boot_id while the host is rebooting: when it differs from the one
 * before the reboot, rebooting -> maintenance and *@back TRUE. Other statuses: *@back FALSE. */
gboolean hd_store_host_reboot_seen(HdStore *store, const char *id, const char *boot_id,
                                   gboolean *back, GError **error);
/* maintenance -> connecting (the sync re-reads readiness and inventory, then up). */
gboolean hd_store_host_activate(HdStore *store, const char *id, GError **error);
/* The sync's status (up, non_responsive): written only when the host is not held by an admin
 * (maintenance, rebooting), where only last_error and the retry are; *@status_out (may be
 * NULL): the status the host has afterwards. */
gboolean hd_store_host_set_sync_status(HdStore *store, const char *id, HdHostStatus status,
                                       const char *last_error, guint retry_seconds,
                                       HdHostStatus *status_out, GError **error);
/* The kernel tab's last plan or apply (the agent's "desired", JSON array text). */
gboolean hd_store_host_set_kernel_desired(HdStore *store, const char *id, const char *desired,
                                          GError **error);

/* ---- inventory ---- */
/* Replace the host's devices or groups by @items (HdInvItem) in one transaction: insert the
 * new keys, update the changed ones, delete the vanished; record @etag, the count and the
 * sync time. */
gboolean hd_store_inventory_apply(HdStore *store, const char *host_id, HdInvKind kind,
                                  const char *etag, GPtrArray *items, HdInvDiff *diff,
                                  GError **error);
/* The host's IOMMU group documents (JSON texts) sorted by number (its devices:
 * hd_store_devices_list()). NOT_FOUND when the host does not exist. */
GPtrArray *hd_store_groups_list(HdStore *store, const char *host_id, GError **error);

/* ---- tokens ---- */
/* @hash: hex SHA-256 of the token. EXISTS when the name is taken. */
gboolean hd_store_token_add(HdStore *store, const char *name, const char *role, const char *hash,
                            GError **error);
GPtrArray *hd_store_tokens_list(HdStore *store, GError **error);
gboolean hd_store_token_revoke(HdStore *store, const char *name, GError **error);
/* The token whose hash equals @hash (compared in constant time against every row), or NULL
 * without an error when none does. */
HdToken *hd_store_token_find(HdStore *store, const char *hash, GError **error);

/* ---- events ---- */
gint64 hd_store_event_add(HdStore *store, const char *actor, const char *action, const char *object,
                          const char *result, const char *message, GError **error);
/* The newest event's id (0 when there is none), or -1 with @error. */
gint64 hd_store_events_last_id(HdStore *store, GError **error);
/* Events with id > @since, oldest first, at most @limit. */
GPtrArray *hd_store_events_list(HdStore *store, gint64 since, guint limit, GError **error);

/* ---- portal sessions (session.c) ---- */
/* A new session: @hash (hex SHA-256 of its random id) for the token @token_name, valid for
 * @ttl_seconds; *@expires_at (may be NULL): when it ends. Expired sessions are deleted in the
 * same transaction. A revoked token's sessions are deleted with it. */
gboolean hd_store_session_add(HdStore *store, const char *hash, const char *token_name,
                              guint ttl_seconds, char **expires_at, GError **error);
/* The token of the live session whose hash is @hash, or NULL without an error when there is
 * none (unknown, expired, logged out, token revoked). */
HdToken *hd_store_session_find(HdStore *store, const char *hash, char **expires_at,
                               GError **error);
/* Log out (no error when it is already gone). */
gboolean hd_store_session_remove(HdStore *store, const char *hash, GError **error);

/* ---- leases (rule 3) ---- */
/* TRUE when @owner holds the host's sync lease until now + @ttl_seconds (taken when free or
 * expired, renewed when already @owner's). */
gboolean hd_store_lease_claim(HdStore *store, const char *host_id, const char *owner,
                              guint ttl_seconds, GError **error);

/* ---- VMs and their host devices (store-sql-vms.c) ----
 *
 * A VM with host devices is pinned to their host. Rows of a VM's devices are "requested" (the
 * admin asked for them; the agent passes them to the VM) or "placeholders" (the other
 * endpoints of a requested device's IOMMU group: never passed, but reserved, because the whole
 * group moves to vfio-pci when the VM starts). Invariants, kept by every call below in its one
 * transaction:
 *   V1 every row of a VM is on the VM's host (vms.host_id), and host_id is NULL iff no row;
 *   V2 every group with rows has at least one requested row (else its rows go);
 *   V3 no bridge or host bridge is ever a row;
 *   V4 rows change only while the VM is down;
 *   V5 at most one VM that is not down holds rows of one (host, IOMMU group): the start
 *      reservation checks it and sets "starting" in the same transaction.
 * The state machine (hd_store_vm_set_state's masks enforce it):
 *   down -> starting (hd_store_vm_start_reserve) -> running (the agent started it) | down
 *   (the agent failed: last_error); running -> stopping (stop/destroy) -> down | running
 *   (the agent failed); running|stopping -> stopping (destroy); any -> down|running by the
 *   reconcile with the agent's GET /v1/vms (hd_store_vm_reconcile). */
typedef enum {
        HD_VM_DOWN,
        HD_VM_STARTING,
        HD_VM_RUNNING,
        HD_VM_STOPPING,
} HdVmState;

#define HD_VM_MASK(st) (1u << (st))

const char *hd_vm_state_to_string(HdVmState s);
gboolean hd_vm_state_from_string(const char *s, HdVmState *out);

typedef struct {
        char *address;
        gint64 iommu_group;
        gboolean requested;
        char *vendor_id, *device_id; /* as seen when the device was added */
        gboolean present;            /* the host lists it with those ids and that group */
} HdVmDevice;

/* A VM's mediated device: a type on the VM's host, its UUID chosen once when it was added;
 * parent is where the engine created it while the VM is not down (NULL otherwise). */
typedef struct {
        char *uuid;
        char *type;
        gboolean display;
        char *parent;
} HdVmMdev;

/* A VM's USB device (migration 9, store-sql-vm-usbscsi.c): a spec of the VM's host as
 * `hostdev usb show` takes it (vendor:product, vendor:product:serial or a port path; never a
 * device number), resolved by the agent at every start; n: its number in the VM. */
typedef struct {
        guint n;
        char *spec;
        gboolean force;
} HdVmUsbDev;

/* A VM's SCSI LUN: its WWID (or /dev/disk/by-id/NAME), resolved to H:C:T:L at every start. */
typedef struct {
        guint n;
        char *wwid;
        gboolean shareable, readonly, force;
} HdVmLun;

/* A VM's vhost-scsi target (migration 12): a LIO vhost target of the VM's host by its WWPN,
 * "naa." and 16 hex digits as given (the agent starts the VM only when configfs spells the
 * digits so), one owner per target in any case. */
typedef struct {
        guint n;
        char *wwpn;
} HdVmVhost;

/* At most this many USB devices, and this many LUNs, per VM (the agent's define takes 16);
 * at most 4 vhost-scsi targets (the agent's define takes 4). */
#define HD_VM_USB_MAX 16
#define HD_VM_SCSI_MAX 16
#define HD_VM_VHOST_MAX 4

typedef struct {
        char *id;
        char *name;
        gint64 memory_mib;
        guint vcpus;
        char *host_id; /* NULL: no host devices */
        char *host_name;
        HdVmState state;
        char *hardware_changed; /* the reason, NULL when nothing changed */
        char *last_error;
        char *created_at, *updated_at;
        GPtrArray *devices;   /* HdVmDevice, sorted by address */
        char *mdev_placement; /* "compact" or "separate" */
        GPtrArray *mdevs;     /* HdVmMdev, in the order they were added */
        GPtrArray *usb;       /* HdVmUsbDev, by n */
        GPtrArray *scsi;      /* HdVmLun, by n */
        GPtrArray *vhost;     /* HdVmVhost, by n */
} HdVm;

void hd_vm_free(HdVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdVm, hd_vm_free)

/* Filters of hd_store_vms_list(); NULL for "any". */
typedef struct {
        const char *host_id;
        const char *state;       /* one state name */
        const char *name_prefix; /* literal */
        guint limit;             /* 1..1000 */
        guint offset;
} HdVmFilter;

/* Insert a VM (down, no host). EXISTS when the name is taken. */
gboolean hd_store_vm_add(HdStore *store, const char *name, gint64 memory_mib, guint vcpus,
                         char **id_out, GError **error);
HdVm *hd_store_vm_get(HdStore *store, const char *id, GError **error);
/* A page of VMs sorted by name, with their devices; *@total: how many match. */
GPtrArray *hd_store_vms_list(HdStore *store, const HdVmFilter *filter, guint *total,
                             GError **error);
/* Edit: NULL / 0 keeps a field (memory and vCPUs apply at the next start). */
gboolean hd_store_vm_edit(HdStore *store, const char *id, const char *name, gint64 memory_mib,
                          guint vcpus, GError **error);
/* hd_store_vm_edit, only while the VM's ETag is in @if_match (an If-Match header: a list of
 * quoted ETags or *; NULL: no condition), in the same transaction: CHANGED otherwise. */
gboolean hd_store_vm_edit_if(HdStore *store, const char *id, const char *if_match,
                             const char *mdev_placement, const char *name, gint64 memory_mib,
                             guint vcpus, GError **error);
/* A VM's strong ETag ("…", quoted): it changes with the VM's updated_at, i.e. with its name,
 * memory, vCPUs, state, last error, hardware_changed and host devices (not with its host's name
 * or its devices' presence). */
char *hd_store_vm_etag(const char *id, const char *updated_at);
/* A mediated device of @type for the VM on @host_id (pinning the VM as host devices do), its
 * new UUID (v4) in *@uuid_out. REFUSED when the VM is not down, is pinned to another host, or
 * the host offers no such type (GET /v1/hosts/{id}/mdev). */
gboolean hd_store_vm_mdev_add(HdStore *store, const char *vm_id, const char *host_id,
                              const char *type, gboolean display, char **uuid_out, GError **error);
/* Remove the VM's mediated device @uuid (the VM down; NOT_FOUND without it); the pin goes with
 * the VM's last device. */
gboolean hd_store_vm_mdev_remove(HdStore *store, const char *vm_id, const char *uuid,
                                 GError **error);
/* USB devices, SCSI LUNs and vhost-scsi targets (store-sql-vm-usbscsi.c). They pin the VM
 * to @host_id as host devices do (REFUSED when the VM is not down or pinned to another host, or
 * has HD_VM_USB_MAX / HD_VM_SCSI_MAX / HD_VM_VHOST_MAX already). One owner per device on a
 * host: IN_USE naming the VM when another VM of the host has the same spec (USB), WWID (SCSI;
 * allowed when both entries are shareable) or WWPN (vhost, in any case); EXISTS when this VM
 * has it already. The spec is compared as given (canonical text): the agent resolves specs and
 * checks the device itself at every start.
 * *@n_out: the new entry's number in the VM (1 + the highest it has). */
gboolean hd_store_vm_usb_add(HdStore *store, const char *vm_id, const char *host_id,
                             const char *spec, gboolean force, guint *n_out, GError **error);
gboolean hd_store_vm_scsi_add(HdStore *store, const char *vm_id, const char *host_id,
                              const char *wwid, gboolean shareable, gboolean readonly,
                              gboolean force, guint *n_out, GError **error);
/* Remove the VM's entry @n (the VM down; NOT_FOUND without it); the pin goes with the VM's
 * last device. */
gboolean hd_store_vm_usb_remove(HdStore *store, const char *vm_id, guint n, GError **error);
gboolean hd_store_vm_scsi_remove(HdStore *store, const char *vm_id, guint n, GError **error);
gboolean hd_store_vm_vhost_add(HdStore *store, const char *vm_id, const char *host_id,
                               const char *wwpn, guint *n_out, GError **error);
gboolean hd_store_vm_vhost_remove(HdStore *store, const char *vm_id, guint n, GError **error);
/* Record where the engine created the VM's mdev @uuid (@parent), or that it removed it (NULL). */
gboolean hd_store_vm_mdev_placed(HdStore *store, const char *vm_id, const char *uuid,
                                 const char *parent, GError **error);
/* Delete a VM that is down (REFUSED otherwise), with its device rows. */
gboolean hd_store_vm_remove(HdStore *store, const char *id, GError **error);
/* Add @addresses (NULL-terminated) of @host_id as requested devices, their groups' other
 * endpoints as placeholders (V1..V4); REFUSED when the VM is not down, is pinned to another
 * host, or a device is a bridge, not assignable, without an IOMMU group or not listed by the
 * host. Re-adding a device takes its current ids (and clears hardware_changed when nothing
 * else changed). */
gboolean hd_store_vm_devices_add(HdStore *store, const char *vm_id, const char *host_id,
                                 const char *const *addresses, GError **error);
/* Remove one device: a requested one becomes a placeholder while its group keeps a requested
 * member, else the group's rows go; a placeholder is refused (it belongs to its group) unless
 * the host no longer lists it. The pin goes with the last row. */
gboolean hd_store_vm_device_remove(HdStore *store, const char *vm_id, const char *address,
                                   GError **error);
/* The start check and reservation in one transaction: REFUSED with the reason when the VM is
 * not down or has no host devices, its host is not up (maintenance, rebooting, connecting,
 * non_responsive) or has passthrough disabled, a device is missing or changed, or a device of
 * its groups is held by another VM of the host that is not down; else the VM is "starting". */
gboolean hd_store_vm_start_reserve(HdStore *store, const char *vm_id, GError **error);
/* Move the VM to @to when its state is in @from_mask (HD_VM_MASK bits), else REFUSED naming
 * its state; last_error becomes @last_error (NULL clears it). */
gboolean hd_store_vm_set_state(HdStore *store, const char *vm_id, guint from_mask, HdVmState to,
                               const char *last_error, GError **error);

/* One VM whose state the reconcile changed. */
typedef struct {
        char *id, *name;
        HdVmState from, to;
} HdVmChange;
void hd_vm_change_free(HdVmChange *c);

/* The VMs pinned to @host_id take the state the agent reports: @agent maps a domain name (the
 * VM's id) to GINT_TO_POINTER(1) shut off or 2 active; a VM the agent does not have is down.
 * VMs whose ids are in @skip (may be NULL: operations in flight) are left alone. The changes
 * (HdVmChange) in *@changes. One transaction. */
gboolean hd_store_vm_reconcile(HdStore *store, const char *host_id, GHashTable *agent,
                               GHashTable *skip, GPtrArray **changes, GError **error);
/* TRUE when a VM is pinned to the host (the reconcile has something to do). */
gboolean hd_store_host_has_vms(HdStore *store, const char *host_id, GError **error);

/* ---- a host's mediated device types (store-sql-mdev.c) ----
 * The agent's GET /v1/mdev, flattened to one row per (parent, type): the capacity the host
 * offers, read by the sync whenever the agent's generation moves (docs/api/openapi.yaml). */
typedef struct {
        char *parent;               /* the mdev_bus name: a PCI address, mtty, ... */
        char *type;                 /* the type's id (what the agent's create takes) */
        char *name;                 /* may be NULL */
        char *description;          /* may be NULL */
        char *device_api;           /* may be NULL */
        gint64 available_instances; /* -1: the agent did not say */
        gint64 instances;           /* existing instances of this type on the parent */
        char *parent_vendor_id;     /* a PCI parent's vendor id in the inventory, else NULL */
} HdHostMdevType;
void hd_host_mdev_type_free(HdHostMdevType *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdHostMdevType, hd_host_mdev_type_free)

/* Replace the host's types with @types (HdHostMdevType) when @etag (the agent's ETag of GET
 * /v1/mdev, may be NULL) differs from the stored one; *@changed (may be NULL) says whether it
 * did. One transaction; the host's updated_at moves with a change. NOT_FOUND without the
 * host. */
gboolean hd_store_host_mdev_apply(HdStore *store, const char *host_id, const char *etag,
                                  GPtrArray *types, gboolean *changed, GError **error);
/* The host's types sorted by parent, then type (HdHostMdevType), with a PCI parent's vendor id
 * from the host's inventory. NOT_FOUND without the host. */
GPtrArray *hd_store_host_mdev_types(HdStore *store, const char *host_id, GError **error);

/* ---- mdev leftovers (store-sql-mdev-leftover.c) ----
 * An mdev the engine created for a VM that no VM records any more (the VM deleted, or the
 * mdev removed from it, while its removal on the host had failed): kept until the agent
 * removed it (api-mdev-leftover.c retries at each sync of the host). */
typedef struct {
        char *uuid;
        char *host_id;
        char *parent;
        char *type;
        char *vm_name;    /* the VM it was made for */
        char *since;      /* when the VM let go of it */
        char *last_error; /* the last removal's failure, NULL before one */
} HdMdevLeftover;
void hd_mdev_leftover_free(HdMdevLeftover *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdMdevLeftover, hd_mdev_leftover_free)
/* The host's leftovers, oldest first (HdMdevLeftover). NOT_FOUND without the host. */
GPtrArray *hd_store_host_mdev_leftovers(HdStore *store, const char *host_id, GError **error);
/* The host's leftovers not tried in the last @min_age seconds, marked tried now (one
 * transaction: two syncs do not both try one). NOT_FOUND without the host. */
GPtrArray *hd_store_mdev_leftovers_due(HdStore *store, const char *host_id, guint min_age,
                                       GError **error);
/* The ids of the hosts up or in maintenance that have leftovers. */
GPtrArray *hd_store_mdev_leftover_hosts(HdStore *store, GError **error);
/* A removal's end: @gone (the agent removed it or has no such mdev) drops the row, else
 * @last_error is recorded. NOT_FOUND when the row went meanwhile. */
gboolean hd_store_mdev_leftover_done(HdStore *store, const char *uuid, const char *last_error,
                                     gboolean gone, GError **error);

/* ---- SR-IOV (store-sql-sriov.c) ---- */
/* The host's devices held by engine VMs (requested or placeholders, whatever their state):
 * address -> the VM's name. NOT_FOUND without the host. */
GHashTable *hd_store_host_device_users(HdStore *store, const char *host_id, GError **error);

/* ---- NPIV (store-sql-npiv.c) ---- */
/* A WWPN/WWNN pair the engine assigned (WWNs in the canonical form "0x2001001122334455"). */
typedef struct {
        char *host_id;
        char *parent_port_name; /* the parent FC host's port name (NULL when unknown) */
        char *wwpn;
        char *wwnn;
        char *vport;            /* "vport-3:0-0" as last seen; NULL when unknown or absent */
        char *created_at;
} HdNpivPair;
void hd_npiv_pair_free(HdNpivPair *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdNpivPair, hd_npiv_pair_free)
/* Who has @wwn anywhere in the fleet, as a port or a node name: an assigned pair or a name an
 * agent showed at its last NPIV read. TRUE with *@host_name (the host's name) and *@what ("vport
 * vport-3:0-0", "FC host host3", "a vport being created") when some host has it; FALSE (no
 * error) when it is free. */
gboolean hd_store_npiv_wwn_user(HdStore *store, const char *wwn, char **host_name, char **what,
                                GError **error);
/* Reserve a pair for @host_id: one transaction that checks both WWNs against the fleet (as
 * hd_store_npiv_wwn_user) and inserts the row; IN_USE naming the host and the port that has
 * one, NOT_FOUND without the host. */
gboolean hd_store_npiv_reserve(HdStore *store, const char *host_id, const char *parent_port_name,
                               const char *wwpn, const char *wwnn, GError **error);
/* The vport made with the pair (after the agent's answer). NOT_FOUND without the row. */
gboolean hd_store_npiv_set_vport(HdStore *store, const char *wwpn, const char *vport,
                                 GError **error);
/* The host's pair of @wwpn goes (a refusal, a deletion), and so do the names its last NPIV
 * read showed for the vport and the record with that WWPN; TRUE also when there was none. */
gboolean hd_store_npiv_release(HdStore *store, const char *host_id, const char *wwpn,
                               GError **error);
/* The host's assigned pairs by WWPN (HdNpivPair). NOT_FOUND without the host. */
GPtrArray *hd_store_host_npiv(HdStore *store, const char *host_id, GError **error);
/* An agent's NPIV read: its port and node names (@wwns and @names, the same length: the WWN
 * in canonical form and what has it: "vport vport-3:0-0", "FC host host3", "recorded vport
 * 0x2001001122334455") replace the
 * host's earlier ones, and its assigned pairs' vport names follow (NULL when the vport is not
 * there); *@changed (when not NULL): whether they differ from the earlier ones (the order
 * aside). NOT_FOUND without the host. */
gboolean hd_store_npiv_seen(HdStore *store, const char *host_id, GPtrArray *wwns, GPtrArray *names,
                            gboolean *changed, GError **error);

/* ---- filtered pages and collection ETags (store-sql-query.c) ---- */

/* Filters of hd_store_devices_list(); NULL / -1 for "any". */
typedef struct {
        const char *category; /* devices.h category name */
        const char *driver;   /* a driver name, or "none" for devices without one */
        const char *text;     /* a casefolded substring of the search text (literal) */
        gint64 iommu_group;   /* -1 any */
        guint limit;          /* 1.. */
        guint offset;
} HdDeviceFilter;

/* A page of the host's device documents (JSON texts) sorted by address; *@total: how many
 * match. NOT_FOUND when the host does not exist. */
GPtrArray *hd_store_devices_list(HdStore *store, const char *host_id, const HdDeviceFilter *filter,
                                 guint *total, GError **error);

/* Filters of hd_store_events_query(); NULL for "any". */
typedef struct {
        gint64 since;         /* events with id > since */
        const char *host_id;  /* events about the host: their object names its id (indexed) */
        const char *vm_id;    /* events about the VM, likewise */
        const char *action;   /* exact, or a family when it ends with '*' ("host.*") */
        const char *object;   /* a substring of the object (literal) */
        guint limit;
        gboolean newest;      /* the newest @limit matching events (still oldest first) */
} HdEventFilter;
GPtrArray *hd_store_events_query(HdStore *store, const HdEventFilter *filter, GError **error);

/* The strong ETag (quoted) of a collection answer, computed from the store before the answer
 * is read (so it is never newer than the answer; a change in between gives one more 200, never
 * a wrong 304). What each one covers:
 *   HD_ETAG_HOSTS      GET /v1/hosts: COUNT(*) and MAX(updated_at) of hosts (every host change
 *                      sets updated_at; a removal lowers the count)
 *   HD_ETAG_INVENTORY  GET /v1/hosts/{id}/devices and /groups: the host row's updated_at,
 *                      device and group ETags (every inventory diff, status and fact change
 *                      writes the row); NOT_FOUND without the host
 *   HD_ETAG_EVENTS     GET /v1/events: MIN(id) and MAX(id) (the log is append-only)
 *   HD_ETAG_VMS        GET /v1/vms: COUNT(*) and MAX(updated_at) of vms and of hosts (a VM shows
 *                      its host's name and whether its devices are present)
 *   HD_ETAG_MDEV       GET /v1/hosts/{id}/mdev: the host row's updated_at and mdev_etag (every
 *                      change of its types and every status change writes the row); NOT_FOUND
 *                      without the host
 * The parts are hashed (SHA-256, 32 hex digits) with the scope's name: opaque to clients. */
typedef enum {
        HD_ETAG_HOSTS,
        HD_ETAG_INVENTORY,
        HD_ETAG_EVENTS,
        HD_ETAG_VMS,
        HD_ETAG_MDEV
} HdEtagScope;
char *hd_store_etag(HdStore *store, HdEtagScope scope, const char *host_id, GError **error);

/* ISO 8601 UTC now. */
char *hd_store_now(void);

G_END_DECLS
