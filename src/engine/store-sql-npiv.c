/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NPIV identities (store.h, "NPIV"; migration 11). A vport's WWPN is its identity on the
 * fabric: two ports logged in with one WWPN log each other out, and the storage arrays zone
 * LUNs to it, so the engine keeps every WWPN/WWNN pair it assigns unique across the fleet:
 *
 * - host_npiv: the pairs the engine assigned (UNIQUE wwpn, UNIQUE wwnn), reserved before the
 *   agent is asked (two concurrent requests cannot both get one: the second insert fails on
 *   the constraint), released when the agent refuses, deleted with the vport or the host;
 * - host_npiv_seen: the port and node names each agent showed at its last NPIV read (its FC
 *   hosts and every vport, made by the engine or not), replaced at each read (the sync's, at
 *   connecting and at each device generation, and the API's).
 *
 * A WWN is in use when either table has it, as a port or a node name.
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

void hd_npiv_pair_free(HdNpivPair *p)
{
        if (!p)
                return;
        g_free(p->host_id);
        g_free(p->parent_port_name);
        g_free(p->wwpn);
        g_free(p->wwnn);
        g_free(p->vport);
        g_free(p->created_at);
        g_free(p);
}

gboolean hd_store_npiv_wwn_user(HdStore *s, const char *wwn, char **host_name, char **what,
                                GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(
            s,
            "SELECT h.name, CASE WHEN n.vport IS NULL THEN 'a vport being created' "
            "ELSE 'vport ' || n.vport END FROM host_npiv n JOIN hosts h ON h.id = n.host_id "
            "WHERE n.wwpn = ?1 OR n.wwnn = ?1 "
            "UNION ALL SELECT h.name, s.name FROM host_npiv_seen s JOIN hosts h "
            "ON h.id = s.host_id WHERE s.wwn = ?1 LIMIT 1",
            error);
        int rc;

        *host_name = *what = NULL;
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, wwn);
        rc = hd_db_step(st);
        if (rc == HD_DB_ROW) {
                *host_name = sq_col_text(st, 0);
                *what = sq_col_text(st, 1);
                return TRUE;
        }
        if (rc != HD_DB_DONE)
                sq_db_fail(s, error, "host_npiv");
        return FALSE;
}

gboolean hd_store_npiv_reserve(HdStore *s, const char *host_id, const char *parent_port_name,
                               const char *wwpn, const char *wwnn, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autoptr(GError) local = NULL;
        const char *wwns[] = {wwpn, wwnn};
        gboolean ok;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_host_exists(s, host_id, error))
                return sq_end(s, FALSE, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(wwns); i++) {
                g_autofree char *host = NULL, *what = NULL;

                if (hd_store_npiv_wwn_user(s, wwns[i], &host, &what, &local)) {
                        g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE,
                                    "%s %s is in use on host %s (%s): WWNs are unique across "
                                    "the fleet; leave it out and the engine generates one",
                                    i == 0 ? "WWPN" : "WWNN", wwns[i], host, what);
                        return sq_end(s, FALSE, NULL);
                }
                if (local) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return sq_end(s, FALSE, NULL);
                }
        }
        st = sq_prepare(s,
                        "INSERT INTO host_npiv (wwpn, wwnn, host_id, parent_port_name, vport, "
                        "created_at) VALUES (?, ?, ?, ?, NULL, ?)",
                        error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, wwpn);
        sq_bind_text(st, 2, wwnn);
        sq_bind_text(st, 3, host_id);
        sq_bind_text(st, 4, parent_port_name);
        sq_bind_text(st, 5, now);
        ok = sq_step_done(s, st, NULL, &local);
        if (!ok && local->domain == HD_STORE_ERROR && local->code == HD_STORE_ERROR_EXISTS) {
                /* the same WWN twice in one pair (the CHECK), or a concurrent writer */
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE,
                            "WWPN %s / WWNN %s: %s; give two different WWNs not used in the "
                            "fleet, or leave them out",
                            wwpn, wwnn, local->message);
                return sq_end(s, FALSE, NULL);
        }
        if (!ok)
                g_propagate_error(error, g_steal_pointer(&local));
        return sq_end(s, ok, error);
}

gboolean hd_store_npiv_set_vport(HdStore *s, const char *wwpn, const char *vport, GError **error)
{
        g_autoptr(Stmt) st =
            sq_begin_prepare(s, "UPDATE host_npiv SET vport = ? WHERE wwpn = ?", error);
        int changes = 0;
        gboolean ok;

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, vport);
        sq_bind_text(st, 2, wwpn);
        ok = sq_step_done(s, st, &changes, error);
        return sq_end_changed(s, ok, changes, "NPIV pair", wwpn, error);
}

gboolean hd_store_npiv_release(HdStore *s, const char *host_id, const char *wwpn,
                               GError **error)
{
        g_autoptr(Stmt) seen = sq_begin_prepare(
            s,
            "DELETE FROM host_npiv_seen WHERE host_id = ?1 AND name IN (SELECT name FROM "
            "host_npiv_seen WHERE host_id = ?1 AND wwn = ?2 AND name NOT LIKE 'FC host %')",
            error);
        g_autoptr(Stmt) pair = NULL;
        gboolean ok;

        if (!seen)
                return FALSE;
        pair = sq_prepare(s, "DELETE FROM host_npiv WHERE host_id = ? AND wwpn = ?", error);
        if (!pair)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(seen, 1, host_id);
        sq_bind_text(seen, 2, wwpn);
        sq_bind_text(pair, 1, host_id);
        sq_bind_text(pair, 2, wwpn);
        ok = sq_step_done(s, seen, NULL, error) && sq_step_done(s, pair, NULL, error);
        return sq_end(s, ok, error);
}

GPtrArray *hd_store_host_npiv(HdStore *s, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_npiv_pair_free);
        int rc;

        if (!sq_host_exists(s, host_id, error))
                return NULL;
        st = sq_prepare(s,
                        "SELECT host_id, parent_port_name, wwpn, wwnn, vport, created_at FROM "
                        "host_npiv WHERE host_id = ? ORDER BY wwpn",
                        error);
        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdNpivPair *p = g_new0(HdNpivPair, 1);
                p->host_id = sq_col_text(st, 0);
                p->parent_port_name = sq_col_text(st, 1);
                p->wwpn = sq_col_text(st, 2);
                p->wwnn = sq_col_text(st, 3);
                p->vport = sq_col_text(st, 4);
                p->created_at = sq_col_text(st, 5);
                g_ptr_array_add(out, p);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "host_npiv");
                return NULL;
        }
        return g_steal_pointer(&out);
}

/* Whether the host's seen names differ from @wwns and @names (within the caller's
 * transaction); FALSE with @error set on a database error. */
static gboolean seen_differs(HdStore *s, const char *host_id, GPtrArray *wwns, GPtrArray *names,
                             gboolean *differs, GError **error)
{
        g_autoptr(GHashTable) fresh = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(Stmt) st =
            sq_prepare(s, "SELECT wwn || ' ' || name FROM host_npiv_seen WHERE host_id = ?", error);
        guint rows = 0;
        int rc;

        if (!st)
                return FALSE;
        for (guint i = 0; i < wwns->len; i++)
                g_hash_table_add(fresh, g_strconcat(wwns->pdata[i], " ", names->pdata[i], NULL));
        *differs = FALSE;
        sq_bind_text(st, 1, host_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                rows++;
                if (!g_hash_table_contains(fresh, hd_db_column_text(st, 0)))
                        *differs = TRUE;
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "host_npiv_seen");
                return FALSE;
        }
        if (rows != g_hash_table_size(fresh))
                *differs = TRUE;
        return TRUE;
}

gboolean hd_store_npiv_seen(HdStore *s, const char *host_id, GPtrArray *wwns, GPtrArray *names,
                            gboolean *changed, GError **error)
{
        g_autoptr(Stmt) del = NULL;
        g_autoptr(Stmt) ins = NULL;
        g_autoptr(Stmt) upd = NULL;
        g_autofree char *now = hd_store_now();
        gboolean differs = FALSE;
        gboolean ok;

        g_return_val_if_fail(wwns->len == names->len, FALSE);
        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_host_exists(s, host_id, error) ||
            !seen_differs(s, host_id, wwns, names, &differs, error))
                return sq_end(s, FALSE, NULL);
        if (changed)
                *changed = differs;
        del = sq_prepare(s, "DELETE FROM host_npiv_seen WHERE host_id = ?", error);
        ins = del ? sq_prepare(s,
                               "INSERT INTO host_npiv_seen (host_id, wwn, name, seen_at) "
                               "VALUES (?, ?, ?, ?)",
                               error)
                  : NULL;
        /* the pairs' vports as the host has them now */
        upd = ins ? sq_prepare(s,
                               "UPDATE host_npiv SET vport = (SELECT substr(s.name, 7) FROM "
                               "host_npiv_seen s WHERE s.host_id = host_npiv.host_id AND "
                               "s.wwn = host_npiv.wwpn AND s.name LIKE 'vport %' LIMIT 1) "
                               "WHERE host_id = ?",
                               error)
                  : NULL;
        if (!upd)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(del, 1, host_id);
        ok = sq_step_done(s, del, NULL, error);
        for (guint i = 0; ok && i < wwns->len; i++) {
                hd_db_reset(ins);
                sq_bind_text(ins, 1, host_id);
                sq_bind_text(ins, 2, wwns->pdata[i]);
                sq_bind_text(ins, 3, names->pdata[i]);
                sq_bind_text(ins, 4, now);
                ok = sq_step_done(s, ins, NULL, error);
        }
        if (ok) {
                sq_bind_text(upd, 1, host_id);
                ok = sq_step_done(s, upd, NULL, error);
        }
        return sq_end(s, ok, error);
}
