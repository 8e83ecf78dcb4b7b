/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's mediated devices in the store (store.h, "VMs"; migration 8): each row asks for
 * an mdev type on the VM's host and keeps the UUID chosen when it was added (a random v4), so
 * the guest sees the same device at every start; parent records where the engine created it
 * while the VM is not down. A row pins the VM to its host as a host device does (V1), and
 * changes only while the VM is down (V4). Each call is one transaction.
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

static void vm_mdev_free(HdVmMdev *m)
{
        g_free(m->uuid);
        g_free(m->type);
        g_free(m->parent);
        g_free(m);
}

GPtrArray *sq_vm_mdevs(HdStore *s, const char *vm_id, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s,
                                        "SELECT uuid, type, display, parent FROM vm_mdevs WHERE "
                                        "vm_id = ? ORDER BY created_at, uuid",
                                        error);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vm_mdev_free);
        int rc;

        if (!st)
                return NULL;
        sq_bind_text(st, 1, vm_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdVmMdev *m = g_new0(HdVmMdev, 1);
                m->uuid = sq_col_text(st, 0);
                m->type = sq_col_text(st, 1);
                m->display = hd_db_column_int(st, 2) != 0;
                m->parent = sq_col_text(st, 3);
                g_ptr_array_add(out, m);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "vm_mdevs");
                return NULL;
        }
        return g_steal_pointer(&out);
}

static gboolean refuse(HdStore *s, GError **error, char *message)
{
        sq_end(s, FALSE, NULL);
        g_set_error_literal(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED, message);
        g_free(message);
        return FALSE;
}

gboolean hd_store_vm_mdev_add(HdStore *s, const char *vm_id, const char *host_id, const char *type,
                              gboolean display, char **uuid_out, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *pinned = NULL;
        g_autofree char *host_name = NULL;
        g_autofree char *uuid = g_uuid_string_random();
        g_autofree char *now = hd_store_now();
        g_autoptr(Stmt) offered = NULL;
        g_autoptr(Stmt) ins = NULL;
        int rc;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_vm_down_for_change(s, vm_id, &name, &pinned, error) ||
            !sq_host_exists(s, host_id, error))
                return sq_end(s, FALSE, NULL);
        sq_host_name_of(s, host_id, &host_name);
        if (pinned && strcmp(pinned, host_id) != 0) {
                g_autofree char *other = NULL;
                sq_host_name_of(s, pinned, &other);
                return refuse(s, error,
                              g_strdup_printf("VM %s is pinned to host %s by its devices; remove "
                                              "them before adding devices of host %s",
                                              name, other ? other : pinned,
                                              host_name ? host_name : host_id));
        }
        offered =
            sq_prepare(s, "SELECT 1 FROM host_mdev_types WHERE host_id = ? AND type = ?", error);
        if (!offered)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(offered, 1, host_id);
        sq_bind_text(offered, 2, type);
        rc = hd_db_step(offered);
        if (rc == HD_DB_DONE)
                return refuse(s, error,
                              g_strdup_printf("host %s offers no mediated device type %s; GET "
                                              "/v1/hosts/%s/mdev lists the types it offers",
                                              host_name ? host_name : host_id, type, host_id));
        if (rc != HD_DB_ROW)
                return sq_end(s, sq_db_fail(s, error, "host_mdev_types"), NULL);
        ins = sq_prepare(s,
                         "INSERT INTO vm_mdevs (vm_id, uuid, host_id, type, display, parent, "
                         "created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                         error);
        if (!ins)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(ins, 1, vm_id);
        sq_bind_text(ins, 2, uuid);
        sq_bind_text(ins, 3, host_id);
        sq_bind_text(ins, 4, type);
        hd_db_bind_int64(ins, 5, display ? 1 : 0);
        sq_bind_text(ins, 6, now);
        if (!sq_step_done(s, ins, NULL, error) || !sq_vm_pin(s, vm_id, host_id, error))
                return sq_end(s, FALSE, NULL);
        if (!sq_end(s, TRUE, error))
                return FALSE;
        *uuid_out = g_steal_pointer(&uuid);
        return TRUE;
}

gboolean hd_store_vm_mdev_remove(HdStore *s, const char *vm_id, const char *uuid, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *host_id = NULL;
        g_autoptr(Stmt) del = NULL;
        int changes = 0;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_vm_down_for_change(s, vm_id, &name, &host_id, error))
                return sq_end(s, FALSE, NULL);
        /* still on the host (its removal failed): a leftover, removed at the next sync */
        if (!sq_mdev_leftovers_keep(s, vm_id, uuid, error))
                return sq_end(s, FALSE, NULL);
        del = sq_prepare(s, "DELETE FROM vm_mdevs WHERE vm_id = ? AND uuid = ?", error);
        if (!del)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(del, 1, vm_id);
        sq_bind_text(del, 2, uuid);
        if (!sq_step_done(s, del, &changes, error))
                return sq_end(s, FALSE, NULL);
        if (changes == 0) {
                sq_end(s, FALSE, NULL);
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND,
                            "VM %s has no mediated device %s (GET /v1/vms/%s lists them)", name,
                            uuid, vm_id);
                return FALSE;
        }
        if (!sq_vm_pin(s, vm_id, host_id, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error);
}

gboolean hd_store_vm_mdev_placed(HdStore *s, const char *vm_id, const char *uuid,
                                 const char *parent, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        int changes = 0;
        gboolean ok;

        st = sq_begin_prepare(s, "UPDATE vm_mdevs SET parent = ? WHERE vm_id = ? AND uuid = ?",
                              error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, parent);
        sq_bind_text(st, 2, vm_id);
        sq_bind_text(st, 3, uuid);
        ok = sq_step_done(s, st, &changes, error);
        if (ok && changes) {
                g_autoptr(Stmt) touch =
                    sq_prepare(s, "UPDATE vms SET updated_at = ? WHERE id = ?", error);
                ok = touch != NULL;
                if (ok) {
                        sq_bind_text(touch, 1, now);
                        sq_bind_text(touch, 2, vm_id);
                        ok = sq_step_done(s, touch, NULL, error);
                }
        }
        return sq_end_changed(s, ok, changes, "mediated device", uuid, error);
}
