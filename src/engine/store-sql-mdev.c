/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A host's mediated device types in the store (store.h, "a host's mediated device
 * types"; migration 7): one row per (parent, type) with the agent's capacity, replaced as a
 * whole in one transaction when the agent's ETag of GET /v1/mdev moves. The SQL is what
 * PostgreSQL accepts too.
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

void hd_host_mdev_type_free(HdHostMdevType *t)
{
        if (!t)
                return;
        g_free(t->parent);
        g_free(t->type);
        g_free(t->name);
        g_free(t->description);
        g_free(t->device_api);
        g_free(t->parent_vendor_id);
        g_free(t);
}

gboolean hd_store_host_mdev_apply(HdStore *s, const char *host_id, const char *etag,
                                  GPtrArray *types, gboolean *changed, GError **error)
{
        g_autoptr(Stmt) sel = NULL;
        g_autoptr(Stmt) del = NULL;
        g_autoptr(Stmt) ins = NULL;
        g_autoptr(Stmt) host = NULL;
        g_autofree char *now = hd_store_now();
        g_autofree char *old = NULL;
        int rc;

        if (changed)
                *changed = FALSE;
        sel = sq_begin_prepare(s, "SELECT mdev_etag FROM hosts WHERE id = ?", error);
        if (!sel)
                return FALSE;
        sq_bind_text(sel, 1, host_id);
        rc = hd_db_step(sel);
        if (rc == HD_DB_DONE) {
                sq_end(s, FALSE, NULL);
                return sq_not_found(error, "host", host_id);
        }
        if (rc != HD_DB_ROW)
                return sq_end(s, sq_db_fail(s, error, "hosts"), NULL);
        old = sq_col_text(sel, 0);
        /* the same generation of the agent: nothing to write */
        if (etag && old && strcmp(etag, old) == 0)
                return sq_end(s, TRUE, error);
        del = sq_prepare(s, "DELETE FROM host_mdev_types WHERE host_id = ?", error);
        ins = del ? sq_prepare(s,
                               "INSERT INTO host_mdev_types (host_id, parent, type, name, "
                               "description, device_api, available_instances, instances) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               error)
                  : NULL;
        host = ins ? sq_prepare(s, "UPDATE hosts SET mdev_etag = ?, updated_at = ? WHERE id = ?",
                                error)
                   : NULL;
        if (!host)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(del, 1, host_id);
        if (!sq_step_done(s, del, NULL, error))
                return sq_end(s, FALSE, NULL);
        for (guint i = 0; i < types->len; i++) {
                const HdHostMdevType *t = types->pdata[i];

                hd_db_reset(ins);
                hd_db_clear_bindings(ins);
                sq_bind_text(ins, 1, host_id);
                sq_bind_text(ins, 2, t->parent);
                sq_bind_text(ins, 3, t->type);
                sq_bind_text(ins, 4, t->name);
                sq_bind_text(ins, 5, t->description);
                sq_bind_text(ins, 6, t->device_api);
                if (t->available_instances >= 0)
                        hd_db_bind_int64(ins, 7, t->available_instances);
                else
                        hd_db_bind_null(ins, 7);
                hd_db_bind_int64(ins, 8, t->instances);
                if (!sq_step_done(s, ins, NULL, error))
                        return sq_end(s, FALSE, NULL);
        }
        sq_bind_text(host, 1, etag);
        sq_bind_text(host, 2, now);
        sq_bind_text(host, 3, host_id);
        if (!sq_step_done(s, host, NULL, error))
                return sq_end(s, FALSE, NULL);
        if (changed)
                *changed = TRUE;
        return sq_end(s, TRUE, error);
}

GPtrArray *hd_store_host_mdev_types(HdStore *s, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autoptr(GPtrArray) out =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_host_mdev_type_free);
        int rc;

        if (!sq_host_exists(s, host_id, error))
                return NULL;
        st = sq_prepare(s,
                        "SELECT t.parent, t.type, t.name, t.description, t.device_api, "
                        "t.available_instances, t.instances, d.vendor_id FROM host_mdev_types t "
                        "LEFT JOIN devices d ON d.host_id = t.host_id AND d.address = t.parent "
                        "WHERE t.host_id = ? ORDER BY t.parent, t.type",
                        error);
        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdHostMdevType *t = g_new0(HdHostMdevType, 1);

                t->parent = sq_col_text(st, 0);
                t->type = sq_col_text(st, 1);
                t->name = sq_col_text(st, 2);
                t->description = sq_col_text(st, 3);
                t->device_api = sq_col_text(st, 4);
                t->available_instances =
                    hd_db_column_is_null(st, 5) ? -1 : hd_db_column_int64(st, 5);
                t->instances = hd_db_column_int64(st, 6);
                t->parent_vendor_id = sq_col_text(st, 7);
                g_ptr_array_add(out, t);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "host_mdev_types");
                return NULL;
        }
        return g_steal_pointer(&out);
}
