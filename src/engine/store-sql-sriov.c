/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the engine's SR-IOV calls ask the store (store.h, "SR-IOV"): which engine VM has
 * a host device, so a VF count change that would take a VF from a VM is refused before the
 * agent is asked (the agent only knows VMs that run on it, not those defined in the engine).
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

GHashTable *hd_store_host_device_users(HdStore *s, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autoptr(GHashTable) out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        int rc;

        if (!sq_host_exists(s, host_id, error))
                return NULL;
        st = sq_prepare(s,
                        "SELECT d.address, v.name FROM vm_devices d JOIN vms v ON v.id = d.vm_id "
                        "WHERE d.host_id = ? ORDER BY d.address, v.name",
                        error);
        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                char *address = sq_col_text(st, 0);
                /* the first VM by name when several hold it (defined, never two running) */
                if (g_hash_table_contains(out, address))
                        g_free(address);
                else
                        g_hash_table_insert(out, address, sq_col_text(st, 1));
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "vm_devices");
                return NULL;
        }
        return g_steal_pointer(&out);
}
