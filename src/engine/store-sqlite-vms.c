/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite store's VMs and their host devices (store.h, "VMs"; schema: migration 2 in
 * store-sqlite.c).
 */
#include "config.h"

#include "store-sqlite-private.h"

/* Names of the VMs selected by @sql with the host id bound to ?1, sorted. */
static GPtrArray *vm_names(HdStore *s, const char *sql, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        int rc;

        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                g_ptr_array_add(names, sq_col_text(st, 0));
        if (rc != SQLITE_DONE) {
                sq_db_fail(s, error, "vms");
                return NULL;
        }
        return g_steal_pointer(&names);
}

GPtrArray *hd_store_host_users(HdStore *s, const char *id, GError **error)
{
        return vm_names(s,
                        "SELECT DISTINCT v.name FROM vms v JOIN vm_devices d ON d.vm_id = v.id "
                        "WHERE d.host_id = ? ORDER BY v.name",
                        id, error);
}

GPtrArray *hd_store_host_running_vms(HdStore *s, const char *id, GError **error)
{
        return vm_names(s,
                        "SELECT name FROM vms WHERE host_id = ? AND state <> 'down' ORDER BY name",
                        id, error);
}
