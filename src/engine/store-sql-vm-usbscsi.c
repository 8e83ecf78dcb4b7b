/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's USB devices, SCSI LUNs and vhost-scsi targets in the store (store.h, "USB
 * devices and SCSI LUNs"; migrations 9 and 12). A row names a device of the VM's host by what
 * does not change (a USB spec, a LUN's WWID or by-id name, a vhost target's WWPN), which the
 * agent resolves at every start; n is the entry's
 * number in the VM, kept while it exists. A row pins the VM to its host as a host device does
 * (V1) and changes only while the VM is down (V4).
 *
 * One owner per device and host: the add checks, in its transaction, every other VM pinned to
 * the same host for the same spec (USB), WWID (SCSI; two shareable entries may share a LUN) or
 * WWPN (vhost; in any case, lower() on both sides: a target serves one initiator), and is
 * IN_USE naming that VM. The engine compares specs as given (canonical text): two
 * different specs of one device (vendor:product and its port path) are told apart only by the
 * agent, which checks the resolved device at define and start (docs/ARCHITECTURE.md).
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

static void vm_usb_free(HdVmUsbDev *u)
{
        g_free(u->spec);
        g_free(u);
}

static void vm_scsi_free(HdVmLun *l)
{
        g_free(l->wwid);
        g_free(l);
}

static void vm_vhost_free(HdVmVhost *v)
{
        g_free(v->wwpn);
        g_free(v);
}

static gpointer usb_row(Stmt *st)
{
        HdVmUsbDev *u = g_new0(HdVmUsbDev, 1);

        u->n = (guint)hd_db_column_int(st, 0);
        u->spec = sq_col_text(st, 1);
        u->force = hd_db_column_int(st, 2) != 0;
        return u;
}

static gpointer scsi_row(Stmt *st)
{
        HdVmLun *l = g_new0(HdVmLun, 1);

        l->n = (guint)hd_db_column_int(st, 0);
        l->wwid = sq_col_text(st, 1);
        l->shareable = hd_db_column_int(st, 2) != 0;
        l->readonly = hd_db_column_int(st, 3) != 0;
        l->force = hd_db_column_int(st, 4) != 0;
        return l;
}

static gpointer vhost_row(Stmt *st)
{
        HdVmVhost *v = g_new0(HdVmVhost, 1);

        v->n = (guint)hd_db_column_int(st, 0);
        v->wwpn = sq_col_text(st, 1);
        return v;
}

/* The VM's rows of @table by n (@sql: the VM's id its parameter), each made by @row. */
static GPtrArray *vm_rows(HdStore *s, const char *table, const char *sql, gpointer (*row)(Stmt *st),
                          GDestroyNotify free_func, const char *vm_id, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(free_func);
        int rc;

        if (!st)
                return NULL;
        sq_bind_text(st, 1, vm_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW)
                g_ptr_array_add(out, row(st));
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, table);
                return NULL;
        }
        return g_steal_pointer(&out);
}

GPtrArray *sq_vm_usb(HdStore *s, const char *vm_id, GError **error)
{
        return vm_rows(s, "vm_usb", "SELECT n, spec, force FROM vm_usb WHERE vm_id = ? ORDER BY n",
                       usb_row, (GDestroyNotify)vm_usb_free, vm_id, error);
}

GPtrArray *sq_vm_scsi(HdStore *s, const char *vm_id, GError **error)
{
        return vm_rows(s, "vm_scsi",
                       "SELECT n, wwid, shareable, readonly, force FROM vm_scsi "
                       "WHERE vm_id = ? ORDER BY n",
                       scsi_row, (GDestroyNotify)vm_scsi_free, vm_id, error);
}

GPtrArray *sq_vm_vhost(HdStore *s, const char *vm_id, GError **error)
{
        return vm_rows(s, "vm_vhost_scsi",
                       "SELECT n, wwpn FROM vm_vhost_scsi WHERE vm_id = ? ORDER BY n", vhost_row,
                       (GDestroyNotify)vm_vhost_free, vm_id, error);
}

static gboolean fail(HdStore *s, GError **error, HdStoreError code, char *message)
{
        sq_end(s, FALSE, NULL);
        g_set_error_literal(error, HD_STORE_ERROR, code, message);
        g_free(message);
        return FALSE;
}

/* What the kinds differ in. */
typedef struct {
        const char *table;  /* vm_usb, vm_scsi, vm_vhost_scsi */
        /* true when a row's key is the parameter ?2 (a WWPN in any case: lower() on both
         * sides, which both SQL dialects have); no table prefix: vms has no such column */
        const char *match;
        const char *what;   /* "USB device", "SCSI LUN", "vhost-scsi target" */
        guint max;
        const char *path; /* the API's collection: usb, scsi, vhost-scsi */
        /* the row: :vm, :n, :host, :key, :shareable, :readonly, :force, :created (each kind
         * takes the ones it has: named, so no number is left without a use) */
        const char *insert;
} Kind;

static const Kind usb_kind = {"vm_usb",
                              "spec = ?2",
                              "USB device",
                              HD_VM_USB_MAX,
                              "usb",
                              "INSERT INTO vm_usb (vm_id, n, host_id, spec, force, created_at) "
                              "VALUES (:vm, :n, :host, :key, :force, :created)"};
static const Kind scsi_kind = {
    "vm_scsi",
    "wwid = ?2",
    "SCSI LUN",
    HD_VM_SCSI_MAX,
    "scsi",
    "INSERT INTO vm_scsi (vm_id, n, host_id, wwid, shareable, readonly, force, created_at) "
    "VALUES (:vm, :n, :host, :key, :shareable, :readonly, :force, :created)"};
static const Kind vhost_kind = {"vm_vhost_scsi",
                                "lower(wwpn) = lower(?2)",
                                "vhost-scsi target",
                                HD_VM_VHOST_MAX,
                                "vhost-scsi",
                                "INSERT INTO vm_vhost_scsi (vm_id, n, host_id, wwpn, created_at) "
                                "VALUES (:vm, :n, :host, :key, :created)"};

/* The checks of an add inside its transaction (rolled back with @error on a refusal): the VM
 * down, the pin, the count, the one-owner rule (@shareable: a LUN entry that may share with
 * other shareable ones); *@n_out: the new entry's number. */
static gboolean add_check(HdStore *s, const Kind *k, const char *vm_id, const char *host_id,
                          const char *key, gboolean shareable, guint *n_out, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *pinned = NULL;
        g_autofree char *host_name = NULL;
        g_autofree char *sql = NULL;
        g_autoptr(Stmt) st = NULL;
        g_autoptr(Stmt) owner = NULL;
        gint64 count, max_n;
        int rc;

        if (!sq_vm_down_for_change(s, vm_id, &name, &pinned, error) ||
            !sq_host_exists(s, host_id, error))
                return sq_end(s, FALSE, NULL);
        sq_host_name_of(s, host_id, &host_name);
        if (pinned && strcmp(pinned, host_id) != 0) {
                g_autofree char *other = NULL;
                sq_host_name_of(s, pinned, &other);
                return fail(s, error, HD_STORE_ERROR_REFUSED,
                            g_strdup_printf("VM %s is pinned to host %s by its devices; remove "
                                            "them before adding devices of host %s",
                                            name, other ? other : pinned,
                                            host_name ? host_name : host_id));
        }
        sql = g_strdup_printf("SELECT COUNT(*), COALESCE(MAX(n), 0), "
                              "COALESCE(SUM(CASE WHEN %s THEN 1 ELSE 0 END), 0) FROM %s "
                              "WHERE vm_id = ?1",
                              k->match, k->table);
        st = sq_prepare(s, sql, error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, vm_id);
        sq_bind_text(st, 2, key);
        if (hd_db_step(st) != HD_DB_ROW)
                return sq_end(s, sq_db_fail(s, error, k->table), NULL);
        count = hd_db_column_int64(st, 0);
        max_n = hd_db_column_int64(st, 1);
        if (hd_db_column_int64(st, 2) > 0)
                return fail(s, error, HD_STORE_ERROR_EXISTS,
                            g_strdup_printf("VM %s has the %s %s already (GET /v1/vms/%s lists "
                                            "them)",
                                            name, k->what, key, vm_id));
        if (count >= k->max)
                return fail(s, error, HD_STORE_ERROR_REFUSED,
                            g_strdup_printf("VM %s has %u %ss already, the most a VM takes; "
                                            "remove one first (DELETE /v1/vms/%s/%s/{n})",
                                            name, k->max, k->what, vm_id, k->path));
        /* one owner: another VM of this host with the same device */
        g_free(sql);
        sql = g_strdup_printf("SELECT v.name, v.id, o.n FROM %s o JOIN vms v ON v.id = o.vm_id "
                              "WHERE o.host_id = ?1 AND %s AND o.vm_id <> ?3%s "
                              "ORDER BY v.name LIMIT 1",
                              k->table, k->match,
                              k == &scsi_kind && shareable ? " AND o.shareable = 0" : "");
        owner = sq_prepare(s, sql, error);
        if (!owner)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(owner, 1, host_id);
        sq_bind_text(owner, 2, key);
        sq_bind_text(owner, 3, vm_id);
        rc = hd_db_step(owner);
        if (rc == HD_DB_ROW)
                return fail(
                    s, error, HD_STORE_ERROR_IN_USE,
                    g_strdup_printf("the %s %s of host %s is VM %s's (one owner at a time%s); "
                                    "remove it from VM %s first: hostdev-engine vms remove-%s "
                                    "%s %d (DELETE /v1/vms/%s/%s/%d)",
                                    k->what, key, host_name ? host_name : host_id,
                                    hd_db_column_text(owner, 0),
                                    k == &scsi_kind ? ", unless both are shareable" : "",
                                    hd_db_column_text(owner, 0), k->path,
                                    hd_db_column_text(owner, 1),
                                    hd_db_column_int(owner, 2),
                                    hd_db_column_text(owner, 1), k->path,
                                    hd_db_column_int(owner, 2)));
        if (rc != HD_DB_DONE)
                return sq_end(s, sq_db_fail(s, error, k->table), NULL);
        *n_out = (guint)max_n + 1;
        return TRUE;
}

/* Add the entry @key (@shareable, @readonly, @force where the kind has them) in one
 * transaction: add_check, the row, the pin. */
static gboolean entry_add(HdStore *s, const Kind *k, const char *vm_id, const char *host_id,
                          const char *key, gboolean shareable, gboolean readonly, gboolean force,
                          guint *n_out, GError **error)
{
        g_autofree char *now = hd_store_now();
        g_autoptr(Stmt) ins = NULL;
        guint n = 0;

        if (!sq_begin(s, error))
                return FALSE;
        if (!add_check(s, k, vm_id, host_id, key, shareable, &n, error))
                return FALSE;
        ins = sq_prepare(s, k->insert, error);
        if (!ins)
                return sq_end(s, FALSE, NULL);
        sq_bind_named_text(ins, ":vm", vm_id);
        sq_bind_named_int64(ins, ":n", n);
        sq_bind_named_text(ins, ":host", host_id);
        sq_bind_named_text(ins, ":key", key);
        sq_bind_named_int64(ins, ":shareable", shareable ? 1 : 0);
        sq_bind_named_int64(ins, ":readonly", readonly ? 1 : 0);
        sq_bind_named_int64(ins, ":force", force ? 1 : 0);
        sq_bind_named_text(ins, ":created", now);
        if (!sq_step_done(s, ins, NULL, error) || !sq_vm_pin(s, vm_id, host_id, error))
                return sq_end(s, FALSE, NULL);
        if (!sq_end(s, TRUE, error))
                return FALSE;
        *n_out = n;
        return TRUE;
}

gboolean hd_store_vm_usb_add(HdStore *s, const char *vm_id, const char *host_id, const char *spec,
                             gboolean force, guint *n_out, GError **error)
{
        return entry_add(s, &usb_kind, vm_id, host_id, spec, FALSE, FALSE, force, n_out, error);
}

gboolean hd_store_vm_scsi_add(HdStore *s, const char *vm_id, const char *host_id, const char *wwid,
                              gboolean shareable, gboolean readonly, gboolean force, guint *n_out,
                              GError **error)
{
        return entry_add(s, &scsi_kind, vm_id, host_id, wwid, shareable, readonly, force, n_out,
                         error);
}

gboolean hd_store_vm_vhost_add(HdStore *s, const char *vm_id, const char *host_id, const char *wwpn,
                               guint *n_out, GError **error)
{
        return entry_add(s, &vhost_kind, vm_id, host_id, wwpn, FALSE, FALSE, FALSE, n_out, error);
}

static gboolean entry_remove(HdStore *s, const Kind *k, const char *vm_id, guint n, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *host_id = NULL;
        g_autofree char *sql =
            g_strdup_printf("DELETE FROM %s WHERE vm_id = ? AND n = ?", k->table);
        g_autoptr(Stmt) del = NULL;
        int changes = 0;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_vm_down_for_change(s, vm_id, &name, &host_id, error))
                return sq_end(s, FALSE, NULL);
        del = sq_prepare(s, sql, error);
        if (!del)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(del, 1, vm_id);
        hd_db_bind_int64(del, 2, n);
        if (!sq_step_done(s, del, &changes, error))
                return sq_end(s, FALSE, NULL);
        if (changes == 0)
                return fail(s, error, HD_STORE_ERROR_NOT_FOUND,
                            g_strdup_printf("VM %s has no %s %u (GET /v1/vms/%s lists them)", name,
                                            k->what, n, vm_id));
        if (!sq_vm_pin(s, vm_id, host_id, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error);
}

gboolean hd_store_vm_usb_remove(HdStore *s, const char *vm_id, guint n, GError **error)
{
        return entry_remove(s, &usb_kind, vm_id, n, error);
}

gboolean hd_store_vm_scsi_remove(HdStore *s, const char *vm_id, guint n, GError **error)
{
        return entry_remove(s, &scsi_kind, vm_id, n, error);
}

gboolean hd_store_vm_vhost_remove(HdStore *s, const char *vm_id, guint n, GError **error)
{
        return entry_remove(s, &vhost_kind, vm_id, n, error);
}
