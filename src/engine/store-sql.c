/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store (store.h) on one database connection (db.h): open, migrations, hosts, inventory,
 * tokens, events, leases, and the helpers every store-sql file shares (store-sql-private.h).
 * hd_store_open_sqlite() opens the SQLite driver (db-sqlite.c: WAL, foreign keys on, busy
 * timeout 5 s, synchronous=NORMAL, the file created 0600), hd_store_open_pg() the PostgreSQL
 * one (db-pg.c), hd_store_open() takes either. Every changing call is one
 * hd_db_begin() ... commit (rolled back on any error): one writer at a time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-sql-private.h"

G_DEFINE_QUARK(hd - store - error - quark, hd_store_error)

/* ---- migrations: numbered, each in its own transaction; never edit one that shipped ---- */

static const char *const migrations[] = {
    /* 1: hosts, inventory, tokens, events, leases */
    "CREATE TABLE hosts ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " agent_url TEXT NOT NULL,"
    " agent_token TEXT NOT NULL,"
    " tls_ca_file TEXT,"
    " tls_pinned_cert TEXT,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('connecting', 'up', 'maintenance', 'rebooting', 'non_responsive')),"
    " last_error TEXT,"
    " retry_at TEXT,"
    " retry_seconds INTEGER NOT NULL DEFAULT 0,"
    " passthrough INTEGER CHECK (passthrough IN (0, 1)),"
    " passthrough_reason TEXT,"
    " cpu_vendor TEXT,"
    " kernel_release TEXT,"
    " kernel_args_running TEXT,"
    " kernel_args_configured TEXT,"
    " device_count INTEGER NOT NULL DEFAULT 0,"
    " group_count INTEGER NOT NULL DEFAULT 0,"
    " devices_etag TEXT,"
    " groups_etag TEXT,"
    " last_sync TEXT,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);"
    "CREATE INDEX hosts_status ON hosts (status, name);"
    "CREATE TABLE devices ("
    " host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,"
    " address TEXT NOT NULL,"
    " vendor_id TEXT,"
    " device_id TEXT,"
    " driver TEXT,"
    " iommu_group INTEGER,"
    " data TEXT NOT NULL,"
    " PRIMARY KEY (host_id, address));"
    "CREATE TABLE iommu_groups ("
    " host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL,"
    " data TEXT NOT NULL,"
    " PRIMARY KEY (host_id, number));"
    "CREATE TABLE tokens ("
    " name TEXT PRIMARY KEY,"
    " role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),"
    " hash TEXT NOT NULL UNIQUE,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE events ("
    " id BIGINT PRIMARY KEY,"
    " at TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " result TEXT NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),"
    " message TEXT NOT NULL);"
    "CREATE TABLE host_leases ("
    " host_id TEXT PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,"
    " owner TEXT NOT NULL,"
    " expires_at TEXT NOT NULL);",
    /* 2: VMs and their host devices (store-sql-vms.c). A VM with host devices is pinned to
     * their host (host_id); requested = 0 rows are the placeholders of the rest of a
     * requested device's IOMMU group; vendor_id/device_id are the ids seen when the device was
     * added, against which "hardware changed" is decided. */
    "CREATE TABLE vms ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " memory_mib BIGINT NOT NULL CHECK (memory_mib > 0),"
    " vcpus INTEGER NOT NULL CHECK (vcpus > 0),"
    " host_id TEXT REFERENCES hosts (id),"
    " state TEXT NOT NULL CHECK (state IN ('down', 'starting', 'running', 'stopping')),"
    " hardware_changed TEXT,"
    " last_error TEXT,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);"
    "CREATE INDEX vms_host ON vms (host_id, state);"
    "CREATE TABLE vm_devices ("
    " vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,"
    " host_id TEXT NOT NULL REFERENCES hosts (id),"
    " address TEXT NOT NULL,"
    " iommu_group BIGINT NOT NULL,"
    " requested INTEGER NOT NULL CHECK (requested IN (0, 1)),"
    " vendor_id TEXT,"
    " device_id TEXT,"
    " PRIMARY KEY (vm_id, address));"
    "CREATE INDEX vm_devices_group ON vm_devices (host_id, iommu_group);",
    /* 3: the host lifecycle (store-sql-hostlife.c): the agent's boot id, whether the
     * configured command line differs from the running one, the kernel tab's last plan, and
     * while rebooting the boot id the reboot must change and since when */
    "ALTER TABLE hosts ADD COLUMN boot_id TEXT;"
    "ALTER TABLE hosts ADD COLUMN reboot_required INTEGER NOT NULL DEFAULT 0"
    " CHECK (reboot_required IN (0, 1));"
    "ALTER TABLE hosts ADD COLUMN kernel_args_desired TEXT;"
    "ALTER TABLE hosts ADD COLUMN reboot_from_boot_id TEXT;"
    "ALTER TABLE hosts ADD COLUMN rebooting_since TEXT;",
    /* 4: the portal's sessions: a session is its id's hash, its token and its expiry; a
     * revoked token's sessions go with it */
    "CREATE TABLE portal_sessions ("
    " hash TEXT PRIMARY KEY,"
    " token_name TEXT NOT NULL REFERENCES tokens (name) ON DELETE CASCADE,"
    " created_at TEXT NOT NULL,"
    " expires_at TEXT NOT NULL);"
    "CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);",
    /* 5: what GET /v1/hosts/{id}/devices filters on (store-sql-query.c): the device's
     * class category (hostdev list --class names) and its search text (casefolded address,
     * ids, vendor, product, class name, driver). Rows written before have NULL in both and
     * are rewritten by the next inventory diff (hd_store_inventory_apply). */
    ("ALTER TABLE devices ADD COLUMN category TEXT;"
     "ALTER TABLE devices ADD COLUMN search TEXT;"),
    /* 6: an event's subject (store-sql-query.c): the id of the host or VM its object names
     * (the first UUID in it), '' when it names none, indexed for GET /v1/events?host_id=|vm_id=;
     * NULL on rows written before, which the filter still finds by their object. */
    ("ALTER TABLE events ADD COLUMN subject TEXT;"
     "CREATE INDEX events_subject ON events (subject, id);"),
    /* 7: a host's mediated device types (store-sql-mdev.c), the agent's GET /v1/mdev as of
     * mdev_etag (the agent's ETag of it): per parent and type the capacity left now (shared
     * between a parent's types) and how many instances exist; replaced as a whole when the
     * agent's ETag moves */
    ("CREATE TABLE host_mdev_types ("
     " host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,"
     " parent TEXT NOT NULL,"
     " type TEXT NOT NULL,"
     " name TEXT,"
     " description TEXT,"
     " device_api TEXT,"
     " available_instances BIGINT,"
     " instances BIGINT NOT NULL DEFAULT 0,"
     " PRIMARY KEY (host_id, parent, type));"
     "ALTER TABLE hosts ADD COLUMN mdev_etag TEXT;"),
    /* 8: a VM's mediated devices (store-sql-vm-mdev.c): each asks for a type on the VM's
     * host and has its own UUID, chosen once when it is added (the guest sees the same device
     * at every start); parent is where the engine created it while the VM is not down (NULL
     * otherwise); a VM's placement policy picks the parent at start */
    ("ALTER TABLE vms ADD COLUMN mdev_placement TEXT NOT NULL DEFAULT 'compact'"
     " CHECK (mdev_placement IN ('compact', 'separate'));"
     "CREATE TABLE vm_mdevs ("
     " vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,"
     " uuid TEXT NOT NULL UNIQUE,"
     " host_id TEXT NOT NULL REFERENCES hosts (id),"
     " type TEXT NOT NULL,"
     " display INTEGER NOT NULL DEFAULT 1 CHECK (display IN (0, 1)),"
     " parent TEXT,"
     " created_at TEXT NOT NULL,"
     " PRIMARY KEY (vm_id, uuid));"),
    /* 9: a VM's USB devices and SCSI LUNs (store-sql-vm-usbscsi.c): each names a device of
     * the VM's host by what does not change (a USB spec: vendor:product[:serial] or a port
     * path; a LUN's WWID or by-id name), resolved by the agent at every start; n is the
     * device's number in the VM (stable while it exists); one owner per device and host
     * (unless both LUN entries are shareable) */
    ("CREATE TABLE vm_usb ("
     " vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,"
     " n INTEGER NOT NULL CHECK (n > 0),"
     " host_id TEXT NOT NULL REFERENCES hosts (id),"
     " spec TEXT NOT NULL,"
     " force INTEGER NOT NULL DEFAULT 0 CHECK (force IN (0, 1)),"
     " created_at TEXT NOT NULL,"
     " PRIMARY KEY (vm_id, n));"
     "CREATE INDEX vm_usb_spec ON vm_usb (host_id, spec);"
     "CREATE TABLE vm_scsi ("
     " vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,"
     " n INTEGER NOT NULL CHECK (n > 0),"
     " host_id TEXT NOT NULL REFERENCES hosts (id),"
     " wwid TEXT NOT NULL,"
     " shareable INTEGER NOT NULL DEFAULT 0 CHECK (shareable IN (0, 1)),"
     " readonly INTEGER NOT NULL DEFAULT 0 CHECK (readonly IN (0, 1)),"
     " force INTEGER NOT NULL DEFAULT 0 CHECK (force IN (0, 1)),"
     " created_at TEXT NOT NULL,"
     " PRIMARY KEY (vm_id, n));"
     "CREATE INDEX vm_scsi_wwid ON vm_scsi (host_id, wwid);"),
    /* 10: mdevs the engine created that no VM records any more (store-sql-mdev-leftover.c):
     * a VM deleted, or an mdev removed from one, while the removal on the host had failed;
     * removed at the host's next sync, the row going with it */
    ("CREATE TABLE host_mdev_leftovers ("
     " uuid TEXT PRIMARY KEY,"
     " host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,"
     " parent TEXT NOT NULL,"
     " type TEXT NOT NULL,"
     " vm_name TEXT NOT NULL,"
     " since TEXT NOT NULL,"
     " tried_at TEXT,"
     " last_error TEXT);"),
    /* 11: NPIV (store-sql-npiv.c): the WWPN/WWNN pairs the engine assigned to vports,
     * unique across the fleet (a duplicate WWPN on a fabric logs the other port out), each
     * reserved before the agent is asked and released when it refuses; and the port and node
     * names an agent showed at its last NPIV read (FC hosts and vports the engine did not
     * make), which new pairs must not reuse either */
    ("CREATE TABLE host_npiv ("
     " wwpn TEXT PRIMARY KEY,"
     " wwnn TEXT NOT NULL UNIQUE,"
     " host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,"
     " parent_port_name TEXT,"
     " vport TEXT,"
     " created_at TEXT NOT NULL,"
     " CHECK (wwpn <> wwnn));"
     "CREATE TABLE host_npiv_seen ("
     " host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,"
     " wwn TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " seen_at TEXT NOT NULL);"
     "CREATE INDEX host_npiv_seen_wwn ON host_npiv_seen (wwn);"),
    /* 12: a VM's vhost-scsi targets (store-sql-vm-usbscsi.c): each names a LIO vhost target
     * of the VM's host by its WWPN ("naa." and 16 hex digits, the digits as given: the agent
     * starts the VM only when configfs spells them so), compared in any case (lower(wwpn): the
     * same target spelled differently is the same target; an index on the expression, which
     * both SQLite and PostgreSQL have, where SQLite's COLLATE NOCASE is SQLite's alone); n as
     * for USB and LUNs; one owner per target and host (a target serves one initiator). Changed
     * before any release (0.1.0 is unreleased): it said COLLATE NOCASE, which
     * tests/engine-sql-dialect.py found PostgreSQL lacks; a database made with that text
     * compares the same, lower() on both sides */
    ("CREATE TABLE vm_vhost_scsi ("
     " vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,"
     " n INTEGER NOT NULL CHECK (n > 0),"
     " host_id TEXT NOT NULL REFERENCES hosts (id),"
     " wwpn TEXT NOT NULL,"
     " created_at TEXT NOT NULL,"
     " PRIMARY KEY (vm_id, n));"
     "CREATE INDEX vm_vhost_scsi_wwpn ON vm_vhost_scsi (host_id, lower(wwpn));"),
};

/* ---- the SQL log (tests/engine-sql-dialect: does the store's SQL run on PostgreSQL) ---- */

/* With HOSTDEV_ENGINE_SQL_LOG=FILE in the environment, every distinct statement text this
 * process prepares ("Q\t" SQL) and every migration it applies ("M" number "\t" SQL) is
 * appended to FILE, once per process, each record ended by a NUL and written by one write()
 * on an O_APPEND descriptor, so several engines may share the file. Nothing else is logged:
 * no bound value ever reaches it. Read once; without the variable the cost is one pointer test. */
static void sql_log(const char *kind, const char *sql)
{
        static GMutex lock;
        static gsize once;
        static int fd = -1;
        static GHashTable *seen;
        g_autofree char *record = NULL;

        if (g_once_init_enter(&once)) {
                const char *path = g_getenv("HOSTDEV_ENGINE_SQL_LOG");

                if (path && *path) {
                        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                        if (fd < 0)
                                g_warning("HOSTDEV_ENGINE_SQL_LOG %s: %s", path,
                                          g_strerror(errno));
                        seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
                }
                g_once_init_leave(&once, 1);
        }
        if (fd < 0)
                return;
        record = g_strconcat(kind, "\t", sql, NULL);
        g_mutex_lock(&lock);
        if (g_hash_table_add(seen, g_strdup(record))) {
                gsize len = strlen(record) + 1;
                if (write(fd, record, len) != (ssize_t)len)
                        g_warning("HOSTDEV_ENGINE_SQL_LOG: a short write");
        }
        g_mutex_unlock(&lock);
}

/* ---- helpers ---- */

gboolean sq_db_fail(HdStore *s, GError **error, const char *what)
{
        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_FAILED, "the engine database: %s: %s",
                    what, hd_db_errmsg(s->db));
        return FALSE;
}

/* "the engine database: " and the driver's last error (a failed exec, begin or commit);
 * returns FALSE. */
static gboolean sq_tx_fail(HdStore *s, GError **error)
{
        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_FAILED, "the engine database: %s",
                    hd_db_errmsg(s->db));
        return FALSE;
}

gboolean sq_exec(HdStore *s, const char *sql, GError **error)
{
        return hd_db_exec(s->db, sql) || sq_tx_fail(s, error);
}

gboolean sq_begin(HdStore *s, GError **error)
{
        return hd_db_begin(s->db) || sq_tx_fail(s, error);
}

/* Commit when @ok, else roll back; returns @ok && committed. */
gboolean sq_end(HdStore *s, gboolean ok, GError **error)
{
        if (ok)
                return hd_db_commit(s->db) || sq_tx_fail(s, error) ||
                       (hd_db_rollback(s->db), FALSE);
        hd_db_rollback(s->db);
        return FALSE;
}

HdDbStmt *sq_prepare(HdStore *s, const char *sql, GError **error)
{
        HdDbStmt *st;

        sql_log("Q", sql);
        st = hd_db_prepare(s->db, sql);
        if (!st)
                sq_db_fail(s, error, "prepare");
        return st;
}

void sq_bind_text(HdDbStmt *st, int i, const char *v)
{
        hd_db_bind_text(st, i, v);
}

char *sq_col_text(HdDbStmt *st, int i)
{
        return g_strdup(hd_db_column_text(st, i));
}

/* Run a statement that returns no row; @changes (may be NULL): rows changed. */
gboolean sq_step_done(HdStore *s, HdDbStmt *st, int *changes, GError **error)
{
        HdDbStep rc = hd_db_step(st);

        if (rc == HD_DB_CONSTRAINT) {
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS, "%s",
                            hd_db_errmsg(s->db));
                return FALSE;
        }
        if (rc != HD_DB_DONE)
                return sq_db_fail(s, error, "step");
        if (changes)
                *changes = hd_db_changes(st);
        return TRUE;
}

char *hd_store_now(void)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        return g_date_time_format_iso8601(now);
}

char *sq_time_in(guint seconds)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autoptr(GDateTime) t = g_date_time_add_seconds(now, seconds);
        return g_date_time_format_iso8601(t);
}

static const char *const status_names[] = {"connecting", "up", "maintenance", "rebooting",
                                           "non_responsive"};

const char *hd_host_status_to_string(HdHostStatus s)
{
        return (guint)s < G_N_ELEMENTS(status_names) ? status_names[s] : "connecting";
}

gboolean hd_host_status_from_string(const char *s, HdHostStatus *out)
{
        for (guint i = 0; s && i < G_N_ELEMENTS(status_names); i++)
                if (strcmp(s, status_names[i]) == 0) {
                        *out = (HdHostStatus)i;
                        return TRUE;
                }
        return FALSE;
}

void hd_host_free(HdHost *h)
{
        if (!h)
                return;
        g_free(h->id);
        g_free(h->name);
        g_free(h->agent_url);
        g_free(h->tls_ca_file);
        g_free(h->tls_pinned_cert);
        g_free(h->last_error);
        g_free(h->retry_at);
        g_free(h->passthrough_reason);
        g_free(h->cpu_vendor);
        g_free(h->kernel_release);
        g_free(h->kernel_args_running);
        g_free(h->kernel_args_configured);
        g_free(h->devices_etag);
        g_free(h->groups_etag);
        g_free(h->boot_id);
        g_free(h->kernel_args_desired);
        g_free(h->reboot_from_boot_id);
        g_free(h->rebooting_since);
        g_free(h->last_sync);
        g_free(h->created_at);
        g_free(h->updated_at);
        g_free(h);
}

void hd_inv_item_free(HdInvItem *it)
{
        if (!it)
                return;
        g_free(it->key);
        g_free(it->data);
        g_free(it->vendor_id);
        g_free(it->device_id);
        g_free(it->driver);
        g_free(it->category);
        g_free(it->search);
        g_free(it);
}

void hd_token_free(HdToken *t)
{
        if (!t)
                return;
        g_free(t->name);
        g_free(t->role);
        g_free(t->created_at);
        g_free(t);
}

void hd_event_free(HdEvent *e)
{
        if (!e)
                return;
        g_free(e->at);
        g_free(e->actor);
        g_free(e->action);
        g_free(e->object);
        g_free(e->result);
        g_free(e->message);
        g_free(e);
}

/* ---- open and migrate ---- */

/* The schema version under the transaction's lock. */
static gboolean read_version(HdStore *s, guint *version, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                                        error);

        if (!st)
                return FALSE;
        if (hd_db_step(st) != HD_DB_ROW)
                return sq_db_fail(s, error, "schema_version");
        *version = (guint)hd_db_column_int(st, 0);
        return TRUE;
}

/* Each step reads the version and applies the next migration in one transaction: under the
 * one-writer lock (db.h rule 1), so several engines starting at once on one PostgreSQL
 * database never apply the same migration twice; each finds what the others did. */
static gboolean migrate(HdStore *s, GError **error)
{
        static const char schema_version[] =
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";

        sql_log("M0", schema_version);
        for (;;) {
                g_autofree char *record = NULL;
                g_autofree char *kind = NULL;
                guint v = 0;

                if (!sq_begin(s, error))
                        return FALSE;
                if (!sq_exec(s, schema_version, error) || !read_version(s, &v, error))
                        return sq_end(s, FALSE, NULL);
                s->version = v;
                if (v > G_N_ELEMENTS(migrations)) {
                        sq_end(s, FALSE, NULL);
                        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_FAILED,
                                    "the engine database has schema version %u, newer than this "
                                    "hostdev-engine knows (%u): run the newer engine or restore a "
                                    "backup",
                                    v, (guint)G_N_ELEMENTS(migrations));
                        return FALSE;
                }
                if (v == G_N_ELEMENTS(migrations))
                        return sq_end(s, TRUE, error);
                record = g_strdup_printf("INSERT INTO schema_version (version) VALUES (%u)", v + 1);
                kind = g_strdup_printf("M%u", v + 1);
                sql_log(kind, migrations[v]);
                if (!sq_end(s, sq_exec(s, migrations[v], error) && sq_exec(s, record, error),
                            error)) {
                        g_prefix_error(error, "migration %u: ", v + 1);
                        return FALSE;
                }
                s->version = v + 1;
        }
}

HdStore *hd_store_open(HdDb *db, GError **error)
{
        g_autoptr(HdStore) s = g_new0(HdStore, 1);

        s->db = db;
        if (!migrate(s, error))
                return NULL;
        return g_steal_pointer(&s);
}

HdStore *hd_store_open_sqlite(const char *path, GError **error)
{
        HdDb *db = hd_db_open_sqlite(path, error);
        HdStore *s;

        if (!db)
                return NULL;
        s = hd_store_open(db, error);
        if (!s)
                g_prefix_error(error, "%s: ", path);
        return s;
}

HdStore *hd_store_open_pg(const char *conninfo, GError **error)
{
#ifdef HAVE_LIBPQ
        HdDb *db = hd_db_open_pg(conninfo, error);
        HdStore *s;

        if (!db)
                return NULL;
        s = hd_store_open(db, error);
        if (!s)
                g_prefix_error(error, "the PostgreSQL database: ");
        return s;
#else
        (void)conninfo;
        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_FAILED,
                    "this hostdev-engine was built without PostgreSQL (libpq): use --db PATH");
        return NULL;
#endif
}

void hd_store_free(HdStore *store)
{
        if (!store)
                return;
        hd_db_close(store->db);
        g_free(store);
}

guint hd_store_schema_version(HdStore *store)
{
        return store->version;
}

/* ---- hosts ---- */

#define HOST_COLUMNS                                                                               \
        "id, name, agent_url, tls_ca_file, tls_pinned_cert, status, last_error, retry_at, "        \
        "retry_seconds, passthrough, passthrough_reason, cpu_vendor, kernel_release, "             \
        "kernel_args_running, kernel_args_configured, device_count, group_count, "                 \
        "devices_etag, groups_etag, last_sync, created_at, updated_at, "                           \
        "boot_id, reboot_required, kernel_args_desired, reboot_from_boot_id, rebooting_since"

static HdHost *host_from_row(HdDbStmt *st)
{
        HdHost *h = g_new0(HdHost, 1);
        g_autofree char *status = NULL;

        h->id = sq_col_text(st, 0);
        h->name = sq_col_text(st, 1);
        h->agent_url = sq_col_text(st, 2);
        h->tls_ca_file = sq_col_text(st, 3);
        h->tls_pinned_cert = sq_col_text(st, 4);
        status = sq_col_text(st, 5);
        if (!hd_host_status_from_string(status, &h->status))
                h->status = HD_HOST_CONNECTING;
        h->last_error = sq_col_text(st, 6);
        h->retry_at = sq_col_text(st, 7);
        h->retry_seconds = (guint)hd_db_column_int(st, 8);
        h->passthrough = hd_db_column_is_null(st, 9) ? -1 : hd_db_column_int(st, 9);
        h->passthrough_reason = sq_col_text(st, 10);
        h->cpu_vendor = sq_col_text(st, 11);
        h->kernel_release = sq_col_text(st, 12);
        h->kernel_args_running = sq_col_text(st, 13);
        h->kernel_args_configured = sq_col_text(st, 14);
        h->device_count = (guint)hd_db_column_int(st, 15);
        h->group_count = (guint)hd_db_column_int(st, 16);
        h->devices_etag = sq_col_text(st, 17);
        h->groups_etag = sq_col_text(st, 18);
        h->last_sync = sq_col_text(st, 19);
        h->created_at = sq_col_text(st, 20);
        h->updated_at = sq_col_text(st, 21);
        h->boot_id = sq_col_text(st, 22);
        h->reboot_required = hd_db_column_int(st, 23) == 1;
        h->kernel_args_desired = sq_col_text(st, 24);
        h->reboot_from_boot_id = sq_col_text(st, 25);
        h->rebooting_since = sq_col_text(st, 26);
        return h;
}

gboolean sq_not_found(GError **error, const char *what, const char *id)
{
        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND,
                    "no %s %s (GET /v1/%ss lists them)", what, id, what);
        return FALSE;
}

gboolean hd_store_host_add(HdStore *s, const char *name, const char *agent_url,
                           const char *agent_token, const char *tls_ca_file,
                           const char *tls_pinned_cert, char **id_out, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *id = g_uuid_string_random();
        g_autofree char *now = hd_store_now();
        g_autoptr(GError) local = NULL;
        gboolean ok;

        st = sq_begin_prepare(s,
                              "INSERT INTO hosts (id, name, agent_url, agent_token, tls_ca_file, "
                              "tls_pinned_cert, status, created_at, updated_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, 'connecting', ?, ?)",
                              error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, name);
        sq_bind_text(st, 3, agent_url);
        sq_bind_text(st, 4, agent_token);
        sq_bind_text(st, 5, tls_ca_file);
        sq_bind_text(st, 6, tls_pinned_cert);
        sq_bind_text(st, 7, now);
        sq_bind_text(st, 8, now);
        ok = sq_step_done(s, st, NULL, &local);
        if (!sq_end(s, ok, ok ? error : NULL)) {
                if (local && local->code == HD_STORE_ERROR_EXISTS)
                        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS,
                                    "a host named \"%s\" exists already; pick another name or "
                                    "edit that host",
                                    name);
                else if (local)
                        g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        *id_out = g_steal_pointer(&id);
        return TRUE;
}

HdHost *hd_store_host_get(HdStore *s, const char *id, GError **error)
{
        g_autoptr(Stmt) st = sq_row(s, "SELECT " HOST_COLUMNS " FROM hosts WHERE id = ?", id,
                                    "host", "hosts", error);

        return st ? host_from_row(st) : NULL;
}

char *hd_store_host_get_secret(HdStore *s, const char *id, GError **error)
{
        g_autoptr(Stmt) st =
            sq_row(s, "SELECT agent_token FROM hosts WHERE id = ?", id, "host", "hosts", error);

        return st ? sq_col_text(st, 0) : NULL;
}

HdDbStmt *sq_row(HdStore *s, const char *sql, const char *id, const char *what, const char *table,
                 GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);
        int rc;

        if (!st)
                return NULL;
        sq_bind_text(st, 1, id);
        rc = hd_db_step(st);
        if (rc == HD_DB_ROW)
                return g_steal_pointer(&st);
        if (rc == HD_DB_DONE)
                sq_not_found(error, what, id);
        else
                sq_db_fail(s, error, table);
        return NULL;
}

HdDbStmt *sq_begin_prepare(HdStore *s, const char *sql, GError **error)
{
        HdDbStmt *st;

        if (!sq_begin(s, error))
                return NULL;
        st = sq_prepare(s, sql, error);
        if (!st)
                sq_end(s, FALSE, NULL);
        return st;
}

gboolean sq_end_changed(HdStore *s, gboolean ok, int changes, const char *what, const char *id,
                        GError **error)
{
        if (ok && changes == 0) {
                sq_end(s, FALSE, NULL);
                return sq_not_found(error, what, id);
        }
        return sq_end(s, ok, error);
}

void sq_bind_named_text(HdDbStmt *st, const char *name, const char *v)
{
        int i = hd_db_param_index(st, name);
        if (i)
                sq_bind_text(st, i, v);
}

void sq_bind_named_int64(HdDbStmt *st, const char *name, gint64 v)
{
        int i = hd_db_param_index(st, name);
        if (i)
                hd_db_bind_int64(st, i, v);
}

HdDbStmt *sq_page(HdStore *s, const char *columns, const char *from, const char *where,
                  const char *order, gint64 limit, gint64 offset, SqBindFunc bind,
                  gconstpointer data, const char *table, guint *total, GError **error)
{
        g_autofree char *count_sql = g_strconcat("SELECT COUNT(*)", from, where, NULL);
        g_autofree char *list_sql = g_strconcat("SELECT ", columns, from, where, " ORDER BY ",
                                                order, " LIMIT :limit OFFSET :offset", NULL);
        g_autoptr(Stmt) count = sq_prepare(s, count_sql, error);
        g_autoptr(Stmt) list = count ? sq_prepare(s, list_sql, error) : NULL;

        if (!list)
                return NULL;
        for (HdDbStmt **st = (HdDbStmt *[]){count, list, NULL}; *st; st++) {
                bind(*st, data);
                sq_bind_named_int64(*st, ":limit", limit);
                sq_bind_named_int64(*st, ":offset", offset);
        }
        if (hd_db_step(count) != HD_DB_ROW) {
                sq_db_fail(s, error, table);
                return NULL;
        }
        *total = (guint)hd_db_column_int64(count, 0);
        return g_steal_pointer(&list);
}

/* The LIKE pattern of a literal prefix: \ escapes the wildcards. */
char *sq_like_prefix(const char *prefix)
{
        GString *p = g_string_new(NULL);

        for (const char *c = prefix; *c; c++) {
                if (*c == '%' || *c == '_' || *c == '\\')
                        g_string_append_c(p, '\\');
                g_string_append_c(p, *c);
        }
        g_string_append_c(p, '%');
        return g_string_free(p, FALSE);
}

typedef struct {
        const HdHostFilter *f;
        const char *pattern;
} HostsQuery;

static void hosts_bind(HdDbStmt *st, gconstpointer data)
{
        const HostsQuery *q = data;

        sq_bind_named_text(st, ":status", q->f->status);
        sq_bind_named_text(st, ":name", q->pattern);
        sq_bind_named_int64(st, ":pt", q->f->passthrough);
}

GPtrArray *hd_store_hosts_list(HdStore *s, const HdHostFilter *f, guint *total, GError **error)
{
        g_autoptr(GString) where = g_string_new(" WHERE 1 = 1");
        g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func((GDestroyNotify)hd_host_free);
        g_autofree char *pattern = f->name_prefix ? sq_like_prefix(f->name_prefix) : NULL;
        const HostsQuery q = {f, pattern};
        g_autoptr(Stmt) list = NULL;
        int rc;

        if (f->status)
                g_string_append(where, " AND status = :status");
        if (pattern)
                g_string_append(where, " AND name LIKE :name ESCAPE '\\'");
        if (f->passthrough >= 0)
                g_string_append(where, " AND passthrough = :pt");
        list = sq_page(s, HOST_COLUMNS, " FROM hosts", where->str, "name", f->limit, f->offset,
                       hosts_bind, &q, "hosts", total, error);
        if (!list)
                return NULL;
        while ((rc = hd_db_step(list)) == HD_DB_ROW)
                g_ptr_array_add(hosts, host_from_row(list));
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "hosts");
                return NULL;
        }
        return g_steal_pointer(&hosts);
}

GPtrArray *hd_store_host_ids(HdStore *s, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, "SELECT id FROM hosts ORDER BY name", error);

        return st ? sq_texts(s, st, "hosts", error) : NULL;
}

gboolean hd_store_host_edit(HdStore *s, const char *id, const char *name, const char *agent_url,
                            const char *agent_token, const char *tls_ca_file,
                            const char *tls_pinned_cert, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autoptr(GError) local = NULL;
        gboolean reconnect = agent_url || agent_token || tls_ca_file || tls_pinned_cert;
        int changes = 0;
        gboolean ok;

        /* COALESCE keeps a field that was not given; NULLIF turns "" into NULL (cleared) */
        st = sq_begin_prepare(
            s,
            "UPDATE hosts SET name = COALESCE(?1, name), "
            "agent_url = COALESCE(?2, agent_url), "
            "agent_token = COALESCE(?3, agent_token), "
            /* CAST: a parameter alone in IS NULL has no type PostgreSQL could infer */
            "tls_ca_file = CASE WHEN CAST(?4 AS TEXT) IS NULL THEN tls_ca_file "
            "ELSE NULLIF(CAST(?4 AS TEXT), '') END, "
            "tls_pinned_cert = CASE WHEN CAST(?5 AS TEXT) IS NULL THEN tls_pinned_cert "
            "ELSE NULLIF(CAST(?5 AS TEXT), '') END, "
            /* an admin's maintenance / rebooting stays (hosts.h) */
            "status = CASE WHEN ?6 = 1 AND status NOT IN ('maintenance', 'rebooting') "
            "THEN 'connecting' ELSE status END, "
            "updated_at = ?7 WHERE id = ?8",
            error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, name);
        sq_bind_text(st, 2, agent_url);
        sq_bind_text(st, 3, agent_token);
        sq_bind_text(st, 4, tls_ca_file);
        sq_bind_text(st, 5, tls_pinned_cert);
        hd_db_bind_int64(st, 6, reconnect ? 1 : 0);
        sq_bind_text(st, 7, now);
        sq_bind_text(st, 8, id);
        ok = sq_step_done(s, st, &changes, &local);
        if (ok && changes == 0) {
                sq_end(s, FALSE, NULL);
                return sq_not_found(error, "host", id);
        }
        if (!sq_end(s, ok, ok ? error : NULL)) {
                if (local && local->code == HD_STORE_ERROR_EXISTS)
                        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS,
                                    "a host named \"%s\" exists already; pick another name", name);
                else if (local)
                        g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        return TRUE;
}

gboolean hd_store_host_remove(HdStore *s, const char *id, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autoptr(GPtrArray) users = NULL;
        int changes = 0;
        gboolean ok;

        if (!sq_begin(s, error))
                return FALSE;
        users = hd_store_host_users(s, id, error);
        if (!users)
                return sq_end(s, FALSE, NULL);
        if (users->len > 0) {
                g_autofree char *names = NULL;
                g_ptr_array_add(users, NULL);
                names = g_strjoinv(", ", (char **)users->pdata);
                sq_end(s, FALSE, NULL);
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED,
                            "VMs have host devices on this host: %s; remove their devices or "
                            "the VMs first",
                            names);
                return FALSE;
        }
        st = sq_prepare(s, "DELETE FROM hosts WHERE id = ?", error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, id);
        ok = sq_step_done(s, st, &changes, error);
        return sq_end_changed(s, ok, changes, "host", id, error);
}

gboolean hd_store_host_set_status(HdStore *s, const char *id, HdHostStatus status,
                                  const char *last_error, guint retry_seconds, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autofree char *retry_at = retry_seconds ? sq_time_in(retry_seconds) : NULL;
        int changes = 0;
        gboolean ok;

        st = sq_begin_prepare(s,
                              "UPDATE hosts SET status = ?, last_error = COALESCE(?, last_error), "
                              "retry_at = ?, retry_seconds = ?, updated_at = ? WHERE id = ?",
                              error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, hd_host_status_to_string(status));
        sq_bind_text(st, 2, last_error);
        sq_bind_text(st, 3, retry_at);
        hd_db_bind_int64(st, 4, (int)retry_seconds);
        sq_bind_text(st, 5, now);
        sq_bind_text(st, 6, id);
        ok = sq_step_done(s, st, &changes, error);
        return sq_end_changed(s, ok, changes, "host", id, error);
}

gboolean hd_store_host_set_facts(HdStore *s, const char *id, const HdHostFacts *f, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        int changes = 0;
        gboolean ok;

        st = sq_begin_prepare(
            s,
            "UPDATE hosts SET passthrough = ?, passthrough_reason = ?, cpu_vendor = ?, "
            "kernel_release = ?, kernel_args_running = ?, kernel_args_configured = ?, "
            "updated_at = ?, boot_id = ?, reboot_required = ? WHERE id = ?",
            error);
        if (!st)
                return FALSE;
        if (f->passthrough < 0)
                hd_db_bind_null(st, 1);
        else
                hd_db_bind_int64(st, 1, f->passthrough ? 1 : 0);
        sq_bind_text(st, 2, f->passthrough_reason);
        sq_bind_text(st, 3, f->cpu_vendor);
        sq_bind_text(st, 4, f->kernel_release);
        sq_bind_text(st, 5, f->kernel_args_running);
        sq_bind_text(st, 6, f->kernel_args_configured);
        sq_bind_text(st, 7, now);
        sq_bind_text(st, 8, f->boot_id);
        hd_db_bind_int64(st, 9, f->reboot_required ? 1 : 0);
        sq_bind_text(st, 10, id);
        ok = sq_step_done(s, st, &changes, error);
        return sq_end_changed(s, ok, changes, "host", id, error);
}

/* ---- inventory ---- */

gboolean sq_host_exists(HdStore *s, const char *id, GError **error)
{
        g_autoptr(Stmt) st =
            sq_row(s, "SELECT 1 FROM hosts WHERE id = ?", id, "host", "hosts", error);

        return st != NULL;
}

gboolean hd_store_inventory_apply(HdStore *s, const char *host_id, HdInvKind kind, const char *etag,
                                  GPtrArray *items, HdInvDiff *diff, GError **error)
{
        gboolean dev = kind == HD_INV_DEVICES;
        g_autoptr(GHashTable) old = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(Stmt) sel = NULL;
        g_autoptr(Stmt) ins = NULL;
        g_autoptr(Stmt) upd = NULL;
        g_autoptr(Stmt) del = NULL;
        g_autoptr(Stmt) host = NULL;
        g_autofree char *now = hd_store_now();
        GHashTableIter iter;
        gpointer key;
        int rc;

        memset(diff, 0, sizeof(*diff));
        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_host_exists(s, host_id, error))
                return sq_end(s, FALSE, NULL);
        sel = sq_prepare(
            s,
            /* a row without its search text (written before migration 3) counts as changed */
            dev ? "SELECT address, CASE WHEN search IS NULL THEN '' ELSE data END FROM devices "
                  "WHERE host_id = ?"
                : "SELECT CAST(number AS TEXT), data FROM iommu_groups WHERE host_id = ?",
            error);
        ins = sel ? sq_prepare(s,
                               dev ? "INSERT INTO devices (host_id, address, vendor_id, device_id, "
                                     "driver, iommu_group, data, category, search) "
                                     "VALUES (:host, :key, :vendor, :device, :driver, :grp, "
                                     ":data, :category, :search)"
                                   : "INSERT INTO iommu_groups (host_id, number, data) "
                                     "VALUES (:host, CAST(:key AS INTEGER), :data)",
                               error)
                  : NULL;
        upd = ins ? sq_prepare(
                        s,
                        dev ? "UPDATE devices SET vendor_id = :vendor, device_id = :device, "
                              "driver = :driver, iommu_group = :grp, data = :data, "
                              "category = :category, search = :search "
                              "WHERE host_id = :host AND address = :key"
                            : "UPDATE iommu_groups SET data = :data "
                              "WHERE host_id = :host AND number = CAST(:key AS INTEGER)",
                        error)
                  : NULL;
        del = upd ? sq_prepare(s,
                               dev ? "DELETE FROM devices WHERE host_id = ? AND address = ?"
                                   : "DELETE FROM iommu_groups WHERE host_id = ? AND "
                                     "number = CAST(? AS INTEGER)",
                               error)
                  : NULL;
        host = del ? sq_prepare(s,
                                dev ? "UPDATE hosts SET device_count = ?, devices_etag = ?, "
                                      "last_sync = ?, updated_at = ? WHERE id = ?"
                                    : "UPDATE hosts SET group_count = ?, groups_etag = ?, "
                                      "last_sync = ?, updated_at = ? WHERE id = ?",
                                error)
                   : NULL;
        if (!host)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(sel, 1, host_id);
        while ((rc = hd_db_step(sel)) == HD_DB_ROW)
                g_hash_table_insert(old, sq_col_text(sel, 0), sq_col_text(sel, 1));
        if (rc != HD_DB_DONE)
                return sq_end(s, sq_db_fail(s, error, "inventory"), NULL);
        for (guint i = 0; i < items->len; i++) {
                const HdInvItem *it = items->pdata[i];
                const char *prev = g_hash_table_lookup(old, it->key);
                HdDbStmt *st;

                if (prev && strcmp(prev, it->data) == 0) {
                        g_hash_table_remove(old, it->key);
                        continue;
                }
                st = prev ? upd : ins;
                hd_db_reset(st);
                hd_db_clear_bindings(st);
                /* named: each statement takes the ones it has (cleared ones are NULL) */
                sq_bind_named_text(st, ":host", host_id);
                sq_bind_named_text(st, ":key", it->key);
                sq_bind_named_text(st, ":vendor", it->vendor_id);
                sq_bind_named_text(st, ":device", it->device_id);
                sq_bind_named_text(st, ":driver", it->driver);
                if (it->iommu_group >= 0)
                        sq_bind_named_int64(st, ":grp", it->iommu_group);
                sq_bind_named_text(st, ":data", it->data);
                sq_bind_named_text(st, ":category", it->category);
                sq_bind_named_text(st, ":search", it->search ? it->search : "");
                if (!sq_step_done(s, st, NULL, error))
                        return sq_end(s, FALSE, NULL);
                if (prev) {
                        diff->updated++;
                        g_hash_table_remove(old, it->key);
                } else {
                        diff->inserted++;
                }
        }
        g_hash_table_iter_init(&iter, old);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                hd_db_reset(del);
                sq_bind_text(del, 1, host_id);
                sq_bind_text(del, 2, key);
                if (!sq_step_done(s, del, NULL, error))
                        return sq_end(s, FALSE, NULL);
                diff->deleted++;
        }
        /* a VM's configured device vanished or changed: "hardware changed", same transaction */
        if (dev && (diff->updated || diff->deleted) && !sq_vms_inventory_changed(s, host_id, error))
                return sq_end(s, FALSE, NULL);
        hd_db_bind_int64(host, 1, (int)items->len);
        sq_bind_text(host, 2, etag);
        sq_bind_text(host, 3, now);
        sq_bind_text(host, 4, now);
        sq_bind_text(host, 5, host_id);
        if (!sq_step_done(s, host, NULL, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error);
}

GPtrArray *hd_store_groups_list(HdStore *s, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = NULL;

        if (!sq_host_exists(s, host_id, error))
                return NULL;
        st = sq_prepare(s, "SELECT data FROM iommu_groups WHERE host_id = ? ORDER BY number",
                        error);
        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        return sq_texts(s, st, "inventory", error);
}

/* ---- tokens ---- */

gboolean hd_store_token_add(HdStore *s, const char *name, const char *role, const char *hash,
                            GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autoptr(GError) local = NULL;
        gboolean ok;

        st = sq_begin_prepare(
            s, "INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)", error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, name);
        sq_bind_text(st, 2, role);
        sq_bind_text(st, 3, hash);
        sq_bind_text(st, 4, now);
        ok = sq_step_done(s, st, NULL, &local);
        if (!sq_end(s, ok, ok ? error : NULL)) {
                if (local && local->code == HD_STORE_ERROR_EXISTS)
                        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS,
                                    "a token named \"%s\" exists already; revoke it first or "
                                    "pick another name",
                                    name);
                else if (local)
                        g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        return TRUE;
}

GPtrArray *hd_store_tokens_list(HdStore *s, GError **error)
{
        g_autoptr(Stmt) st =
            sq_prepare(s, "SELECT name, role, created_at FROM tokens ORDER BY name", error);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_token_free);
        int rc;

        if (!st)
                return NULL;
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdToken *t = g_new0(HdToken, 1);
                t->name = sq_col_text(st, 0);
                t->role = sq_col_text(st, 1);
                t->created_at = sq_col_text(st, 2);
                g_ptr_array_add(out, t);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "tokens");
                return NULL;
        }
        return g_steal_pointer(&out);
}

gboolean hd_store_token_revoke(HdStore *s, const char *name, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        int changes = 0;
        gboolean ok;

        st = sq_begin_prepare(s, "DELETE FROM tokens WHERE name = ?", error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, name);
        ok = sq_step_done(s, st, &changes, error);
        if (ok && changes == 0) {
                sq_end(s, FALSE, NULL);
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND,
                            "no token named \"%s\" (hostdev-engine token list shows them)", name);
                return FALSE;
        }
        return sq_end(s, ok, error);
}

static gboolean equal_ct(const char *a, const char *b)
{
        gsize la = strlen(a), lb = strlen(b);
        guchar diff = la != lb;

        for (gsize i = 0; i < la && i < lb; i++)
                diff |= (guchar)(a[i] ^ b[i]);
        return diff == 0;
}

HdToken *hd_store_token_find(HdStore *s, const char *hash, GError **error)
{
        g_autoptr(Stmt) st =
            sq_prepare(s, "SELECT name, role, created_at, hash FROM tokens", error);
        HdToken *found = NULL;
        int rc;

        if (!st)
                return NULL;
        /* every row is compared, whichever matches: the time does not depend on the hash */
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                const char *h = hd_db_column_text(st, 3);
                if (h && equal_ct(h, hash) && !found) {
                        found = g_new0(HdToken, 1);
                        found->name = sq_col_text(st, 0);
                        found->role = sq_col_text(st, 1);
                        found->created_at = sq_col_text(st, 2);
                }
        }
        if (rc != HD_DB_DONE) {
                hd_token_free(found);
                sq_db_fail(s, error, "tokens");
                return NULL;
        }
        return found;
}

/* ---- events ---- */

gint64 hd_store_event_add(HdStore *s, const char *actor, const char *action, const char *object,
                          const char *result, const char *message, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autoptr(Stmt) id = NULL;
        g_autofree char *now = hd_store_now();
        gint64 new_id;

        if (!sq_begin(s, error))
                return 0;
        id = sq_prepare(s, "SELECT COALESCE(MAX(id), 0) + 1 FROM events", error);
        st = id ? sq_prepare(s,
                             "INSERT INTO events (id, at, actor, action, object, result, message, "
                             "subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             error)
                : NULL;
        if (!st)
                return sq_end(s, FALSE, NULL);
        if (hd_db_step(id) != HD_DB_ROW)
                return sq_end(s, sq_db_fail(s, error, "events"), NULL);
        new_id = hd_db_column_int64(id, 0);
        hd_db_bind_int64(st, 1, new_id);
        sq_bind_text(st, 2, now);
        sq_bind_text(st, 3, actor);
        sq_bind_text(st, 4, action);
        sq_bind_text(st, 5, object);
        sq_bind_text(st, 6, result);
        sq_bind_text(st, 7, message ? message : "");
        {
                g_autofree char *subject = sq_event_subject(object);
                sq_bind_text(st, 8, subject);
        }
        if (!sq_step_done(s, st, NULL, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error) ? new_id : 0;
}

GPtrArray *sq_texts(HdStore *s, HdDbStmt *st, const char *table, GError **error)
{
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        int rc;

        while ((rc = hd_db_step(st)) == HD_DB_ROW)
                g_ptr_array_add(out, sq_col_text(st, 0));
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, table);
                return NULL;
        }
        return g_steal_pointer(&out);
}

GPtrArray *sq_event_rows(HdStore *s, HdDbStmt *st, GError **error)
{
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_event_free);
        int rc;

        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdEvent *e = g_new0(HdEvent, 1);
                e->id = hd_db_column_int64(st, 0);
                e->at = sq_col_text(st, 1);
                e->actor = sq_col_text(st, 2);
                e->action = sq_col_text(st, 3);
                e->object = sq_col_text(st, 4);
                e->result = sq_col_text(st, 5);
                e->message = sq_col_text(st, 6);
                g_ptr_array_add(out, e);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "events");
                return NULL;
        }
        return g_steal_pointer(&out);
}

GPtrArray *hd_store_events_list(HdStore *s, gint64 since, guint limit, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s,
                                        "SELECT id, at, actor, action, object, result, message "
                                        "FROM events WHERE id > ? ORDER BY id LIMIT ?",
                                        error);

        if (!st)
                return NULL;
        hd_db_bind_int64(st, 1, since);
        hd_db_bind_int64(st, 2, limit);
        return sq_event_rows(s, st, error);
}

/* ---- leases ---- */

gboolean hd_store_lease_claim(HdStore *s, const char *host_id, const char *owner, guint ttl_seconds,
                              GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autofree char *until = sq_time_in(ttl_seconds);
        int changes = 0;

        /* take it when free, expired or ours (the upsert PostgreSQL spells the same way) */
        st = sq_begin_prepare(
            s,
            "INSERT INTO host_leases (host_id, owner, expires_at) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (host_id) DO UPDATE SET owner = ?2, expires_at = ?3 "
            "WHERE host_leases.owner = ?2 OR host_leases.expires_at < ?4",
            error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, host_id);
        sq_bind_text(st, 2, owner);
        sq_bind_text(st, 3, until);
        sq_bind_text(st, 4, now);
        if (!sq_step_done(s, st, &changes, error))
                return sq_end(s, FALSE, NULL);
        if (!sq_end(s, TRUE, error))
                return FALSE;
        return changes > 0;
}

gint64 hd_store_events_last_id(HdStore *s, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, "SELECT COALESCE(MAX(id), 0) FROM events", error);

        if (!st)
                return -1;
        if (hd_db_step(st) != HD_DB_ROW) {
                sq_db_fail(s, error, "events");
                return -1;
        }
        return hd_db_column_int64(st, 0);
}
