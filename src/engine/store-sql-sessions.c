/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's portal sessions (store.h; schema: migration 4 in store-sql.c): a
 * session is the SHA-256 of its id, its token and its expiry; revoking the token deletes its
 * sessions (ON DELETE CASCADE).
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

gboolean hd_store_session_add(HdStore *s, const char *hash, const char *token_name,
                              guint ttl_seconds, char **expires_at, GError **error)
{
        g_autoptr(Stmt) purge = NULL;
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autofree char *until = sq_time_in(ttl_seconds);

        if (!sq_begin(s, error))
                return FALSE;
        /* the expired sessions go at each login: the table holds the live ones only */
        purge = sq_prepare(s, "DELETE FROM portal_sessions WHERE expires_at <= ?", error);
        st = purge ? sq_prepare(s,
                             "INSERT INTO portal_sessions (hash, token_name, created_at, "
                             "expires_at) VALUES (?, ?, ?, ?)",
                             error)
                   : NULL;
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(purge, 1, now);
        if (!sq_step_done(s, purge, NULL, error))
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, hash);
        sq_bind_text(st, 2, token_name);
        sq_bind_text(st, 3, now);
        sq_bind_text(st, 4, until);
        if (!sq_step_done(s, st, NULL, error)) {
                sq_end(s, FALSE, NULL);
                g_prefix_error(error, "the session of token \"%s\": ", token_name);
                return FALSE;
        }
        if (!sq_end(s, TRUE, error))
                return FALSE;
        if (expires_at)
                *expires_at = g_steal_pointer(&until);
        return TRUE;
}

HdToken *hd_store_session_find(HdStore *s, const char *hash, char **expires_at, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s,
                                     "SELECT t.name, t.role, t.created_at, p.expires_at FROM "
                                     "portal_sessions p JOIN tokens t ON t.name = p.token_name "
                                     "WHERE p.hash = ? AND p.expires_at > ?",
                                     error);
        g_autofree char *now = hd_store_now();
        HdToken *t;
        int rc;

        if (!st)
                return NULL;
        sq_bind_text(st, 1, hash);
        sq_bind_text(st, 2, now);
        rc = hd_db_step(st);
        if (rc == HD_DB_DONE)
                return NULL;
        if (rc != HD_DB_ROW) {
                sq_db_fail(s, error, "portal_sessions");
                return NULL;
        }
        t = g_new0(HdToken, 1);
        t->name = sq_col_text(st, 0);
        t->role = sq_col_text(st, 1);
        t->created_at = sq_col_text(st, 2);
        if (expires_at)
                *expires_at = sq_col_text(st, 3);
        return t;
}

gboolean hd_store_session_remove(HdStore *s, const char *hash, GError **error)
{
        g_autoptr(Stmt) st = NULL;

        st = sq_begin_prepare(s, "DELETE FROM portal_sessions WHERE hash = ?", error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, hash);
        return sq_end(s, sq_step_done(s, st, NULL, error), error);
}

