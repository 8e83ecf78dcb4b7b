/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices the engine created and no VM records any more (store.h, "mdev leftovers";
 * migration 10): a VM deleted, or an mdev removed from a VM, while the mdev still existed on
 * its host because the removal after the VM's stop failed (the agent could not be reached, or
 * refused 409 while a process held the mdev open). The VM row goes as asked; the mdev's row
 * moves here in the same transaction, so the engine still knows it created that UUID on that
 * parent and removes it at the next sync of the host (api-mdev-leftover.c). The row goes when
 * the agent removed the mdev or no longer has it, or with its host.
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

gboolean sq_mdev_leftovers_keep(HdStore *s, const char *vm_id, const char *uuid, GError **error)
{
        g_autofree char *now = hd_store_now();
        g_autoptr(Stmt) st = sq_prepare(
            s,
            /* ON CONFLICT ... DO UPDATE, which both dialects have, replaces the row as
             * SQLite's INSERT OR REPLACE did (the SELECT's WHERE keeps SQLite's parser from
             * reading ON CONFLICT's ON as the join's) */
            "INSERT INTO host_mdev_leftovers (uuid, host_id, parent, type, vm_name, "
            "since, last_error) SELECT m.uuid, m.host_id, m.parent, m.type, v.name, ?1, NULL "
            "FROM vm_mdevs m JOIN vms v ON v.id = m.vm_id WHERE m.vm_id = ?2 AND "
            "m.parent IS NOT NULL AND (CAST(?3 AS TEXT) IS NULL OR m.uuid = ?3) "
            "ON CONFLICT (uuid) DO UPDATE SET host_id = excluded.host_id, "
            "parent = excluded.parent, type = excluded.type, vm_name = excluded.vm_name, "
            "since = excluded.since, last_error = NULL, tried_at = NULL",
            error);

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, now);
        sq_bind_text(st, 2, vm_id);
        sq_bind_text(st, 3, uuid);
        return sq_step_done(s, st, NULL, error);
}

void hd_mdev_leftover_free(HdMdevLeftover *l)
{
        if (!l)
                return;
        g_free(l->uuid);
        g_free(l->host_id);
        g_free(l->parent);
        g_free(l->type);
        g_free(l->vm_name);
        g_free(l->since);
        g_free(l->last_error);
        g_free(l);
}

/* The leftovers of @host_id (all when @due is NULL, else those not tried since @due, which
 * are marked tried now). */
static GPtrArray *leftovers(HdStore *s, const char *host_id, const char *due, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autoptr(GPtrArray) out =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_mdev_leftover_free);
        int rc;

        if (!sq_host_exists(s, host_id, error))
                return NULL;
        st = sq_prepare(s,
                        "SELECT uuid, host_id, parent, type, vm_name, since, last_error FROM "
                        "host_mdev_leftovers WHERE host_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
                        "tried_at IS NULL OR tried_at <= ?2) ORDER BY since, uuid",
                        error);
        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        sq_bind_text(st, 2, due);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdMdevLeftover *l = g_new0(HdMdevLeftover, 1);
                l->uuid = sq_col_text(st, 0);
                l->host_id = sq_col_text(st, 1);
                l->parent = sq_col_text(st, 2);
                l->type = sq_col_text(st, 3);
                l->vm_name = sq_col_text(st, 4);
                l->since = sq_col_text(st, 5);
                l->last_error = sq_col_text(st, 6);
                g_ptr_array_add(out, l);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "host_mdev_leftovers");
                return NULL;
        }
        return g_steal_pointer(&out);
}

GPtrArray *hd_store_host_mdev_leftovers(HdStore *s, const char *host_id, GError **error)
{
        return leftovers(s, host_id, NULL, error);
}

GPtrArray *hd_store_mdev_leftovers_due(HdStore *s, const char *host_id, guint min_age,
                                       GError **error)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autoptr(GDateTime) then = g_date_time_add_seconds(now, -(gdouble)min_age);
        g_autofree char *now_s = g_date_time_format_iso8601(now);
        g_autofree char *due = g_date_time_format_iso8601(then);
        g_autoptr(GPtrArray) out = NULL;

        if (!sq_begin(s, error))
                return NULL;
        out = leftovers(s, host_id, due, error);
        for (guint i = 0; out && i < out->len; i++) {
                g_autoptr(Stmt) st = sq_prepare(
                    s, "UPDATE host_mdev_leftovers SET tried_at = ? WHERE uuid = ?", error);
                if (!st || (sq_bind_text(st, 1, now_s),
                            sq_bind_text(st, 2, ((HdMdevLeftover *)out->pdata[i])->uuid),
                            !sq_step_done(s, st, NULL, error)))
                        g_clear_pointer(&out, g_ptr_array_unref);
        }
        if (!sq_end(s, out != NULL, out ? error : NULL))
                return NULL;
        return g_steal_pointer(&out);
}

gboolean hd_store_mdev_leftover_done(HdStore *s, const char *uuid, const char *last_error,
                                     gboolean gone, GError **error)
{
        g_autoptr(Stmt) st = sq_begin_prepare(
            s,
            gone ? "DELETE FROM host_mdev_leftovers WHERE uuid = :uuid"
                 : "UPDATE host_mdev_leftovers SET last_error = :error WHERE uuid = :uuid",
            error);
        int changes = 0;
        gboolean ok;

        if (!st)
                return FALSE;
        sq_bind_named_text(st, ":error", last_error);
        sq_bind_named_text(st, ":uuid", uuid);
        ok = sq_step_done(s, st, &changes, error);
        return sq_end_changed(s, ok, changes, "mdev leftover", uuid, error);
}

GPtrArray *hd_store_mdev_leftover_hosts(HdStore *s, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s,
                                        "SELECT DISTINCT l.host_id FROM host_mdev_leftovers l "
                                        "JOIN hosts h ON h.id = l.host_id WHERE h.status IN "
                                        "('up', 'maintenance') ORDER BY l.host_id",
                                        error);

        return st ? sq_texts(s, st, "host_mdev_leftovers", error) : NULL;
}
