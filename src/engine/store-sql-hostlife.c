/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's host lifecycle (store.h, "the host lifecycle"; schema: migration 3 in
 * store-sql.c): the admin's transitions maintenance, reboot, activate, each one
 * transaction that reads the status it starts from and changes it, and the sync's status
 * writes that leave a host held by an admin (maintenance, rebooting) where it is.
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

/* Inside a transaction: the host's name and status; FALSE with NOT_FOUND (or a database
 * error). */
static gboolean read_status(HdStore *s, const char *id, char **name, HdHostStatus *status,
                            char **boot_id, GError **error)
{
        g_autoptr(Stmt) st = sq_row(s, "SELECT name, status, boot_id FROM hosts WHERE id = ?", id,
                                    "host", "hosts", error);
        g_autofree char *text = NULL;

        if (!st)
                return FALSE;
        *name = sq_col_text(st, 0);
        text = sq_col_text(st, 1);
        if (!hd_host_status_from_string(text, status))
                *status = HD_HOST_CONNECTING;
        if (boot_id)
                *boot_id = sq_col_text(st, 2);
        return TRUE;
}

/* BEGIN and read_status; FALSE (rolled back) with NOT_FOUND or a database error. */
static gboolean begin_transition(HdStore *s, const char *id, char **name, HdHostStatus *status,
                                 char **boot_id, GError **error)
{
        if (!sq_begin(s, error))
                return FALSE;
        if (!read_status(s, id, name, status, boot_id, error))
                return sq_end(s, FALSE, NULL);
        return TRUE;
}

/* One UPDATE of the host inside the transaction; the statement binds ?1 .. and the id last. */
static gboolean update(HdStore *s, const char *sql, const char *const *values, guint n,
                       GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);

        if (!st)
                return FALSE;
        for (guint i = 0; i < n; i++)
                sq_bind_text(st, (int)i + 1, values[i]);
        return sq_step_done(s, st, NULL, error);
}

static gboolean refuse(HdStore *s, GError **error, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean refuse(HdStore *s, GError **error, const char *format, ...)
{
        va_list ap;

        sq_end(s, FALSE, NULL);
        va_start(ap, format);
        if (error)
                *error = g_error_new_valist(HD_STORE_ERROR, HD_STORE_ERROR_REFUSED, format, ap);
        va_end(ap);
        return FALSE;
}

/* Why @status is not the one a transition starts from, and what to do. */
static const char *status_advice(HdHostStatus status)
{
        switch (status) {
        case HD_HOST_CONNECTING:
                return "the engine is still connecting to its agent; wait until it is up";
        case HD_HOST_NON_RESPONSIVE:
                return "its agent does not answer (see last_error); fix the agent or the host's "
                       "connection, then wait until it is up";
        case HD_HOST_REBOOTING:
                return "it is rebooting; wait until it is back in maintenance";
        case HD_HOST_MAINTENANCE:
                return "it is in maintenance already; POST /v1/hosts/{id}/activate brings it up";
        case HD_HOST_UP:
                return "it is up; POST /v1/hosts/{id}/maintenance first";
        }
        return "";
}

gboolean hd_store_host_enter_maintenance(HdStore *s, const char *id, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *now = hd_store_now();
        g_autoptr(GPtrArray) vms = NULL;
        HdHostStatus status;
        const char *values[2];

        if (!begin_transition(s, id, &name, &status, NULL, error))
                return FALSE;
        if (status != HD_HOST_UP)
                return refuse(s, error, "host %s is %s: maintenance is entered from up; %s", name,
                              hd_host_status_to_string(status), status_advice(status));
        vms = hd_store_host_running_vms(s, id, error);
        if (!vms)
                return sq_end(s, FALSE, NULL);
        if (vms->len > 0) {
                g_autofree char *names = NULL;
                g_ptr_array_add(vms, NULL);
                names = g_strjoinv(", ", (char **)vms->pdata);
                return refuse(s, error,
                              "host %s runs VMs that are not down: %s; stop them (POST "
                              "/v1/vms/{id}/stop) before maintenance",
                              name, names);
        }
        values[0] = now;
        values[1] = id;
        return sq_end(s,
                      update(s,
                             "UPDATE hosts SET status = 'maintenance', retry_at = NULL, "
                             "retry_seconds = 0, updated_at = ? WHERE id = ?",
                             values, 2, error),
                      error);
}

gboolean hd_store_host_begin_reboot(HdStore *s, const char *id, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *boot_id = NULL;
        g_autofree char *now = hd_store_now();
        HdHostStatus status;
        const char *values[4];

        if (!begin_transition(s, id, &name, &status, &boot_id, error))
                return FALSE;
        if (status != HD_HOST_MAINTENANCE)
                return refuse(s, error,
                              "host %s is %s: a reboot is allowed in maintenance only; %s", name,
                              hd_host_status_to_string(status),
                              status == HD_HOST_UP ? "POST /v1/hosts/{id}/maintenance first"
                                                   : status_advice(status));
        values[0] = boot_id;
        values[1] = now;
        values[2] = now;
        values[3] = id;
        return sq_end(s,
                      update(s,
                             "UPDATE hosts SET status = 'rebooting', reboot_from_boot_id = ?, "
                             "rebooting_since = ?, last_error = NULL, retry_at = NULL, "
                             "retry_seconds = 0, updated_at = ? WHERE id = ?",
                             values, 4, error),
                      error);
}

/* rebooting -> maintenance with @last_error; *@changed: whether the host was rebooting. */
static gboolean end_reboot(HdStore *s, const char *id, const char *last_error, gboolean *changed,
                           GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        int changes = 0;

        st = sq_prepare(s,
                        "UPDATE hosts SET status = 'maintenance', last_error = ?, "
                        "reboot_from_boot_id = NULL, rebooting_since = NULL, retry_at = NULL, "
                        "retry_seconds = 0, updated_at = ? WHERE id = ? AND status = 'rebooting'",
                        error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, last_error);
        sq_bind_text(st, 2, now);
        sq_bind_text(st, 3, id);
        if (!sq_step_done(s, st, &changes, error))
                return FALSE;
        *changed = changes > 0;
        return TRUE;
}

gboolean hd_store_host_abort_reboot(HdStore *s, const char *id, const char *message, GError **error)
{
        gboolean changed = FALSE;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_end(s, end_reboot(s, id, message, &changed, error), error))
                return FALSE;
        return changed;
}

gboolean hd_store_host_reboot_seen(HdStore *s, const char *id, const char *boot_id, gboolean *back,
                                   GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *from = NULL;
        g_autofree char *status = NULL;

        *back = FALSE;
        if (!sq_begin(s, error))
                return FALSE;
        st = sq_row(s, "SELECT status, reboot_from_boot_id FROM hosts WHERE id = ?", id, "host",
                    "hosts", error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        status = sq_col_text(st, 0);
        from = sq_col_text(st, 1);
        /* a boot id the agent did not know before counts as new; none now is not back */
        if (g_strcmp0(status, "rebooting") != 0 || !boot_id || g_strcmp0(boot_id, from) == 0)
                return sq_end(s, TRUE, error);
        return sq_end(s, end_reboot(s, id, NULL, back, error), error);
}

gboolean hd_store_host_activate(HdStore *s, const char *id, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *now = hd_store_now();
        HdHostStatus status;
        const char *values[2];

        if (!begin_transition(s, id, &name, &status, NULL, error))
                return FALSE;
        if (status != HD_HOST_MAINTENANCE)
                return refuse(
                    s, error, "host %s is %s: only a host in maintenance is activated; %s", name,
                    hd_host_status_to_string(status),
                    status == HD_HOST_UP ? "it is active already" : status_advice(status));
        values[0] = now;
        values[1] = id;
        return sq_end(s,
                      update(s,
                             "UPDATE hosts SET status = 'connecting', last_error = NULL, "
                             "updated_at = ? WHERE id = ?",
                             values, 2, error),
                      error);
}

gboolean hd_store_host_set_sync_status(HdStore *s, const char *id, HdHostStatus status,
                                       const char *last_error, guint retry_seconds,
                                       HdHostStatus *status_out, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autofree char *retry_at = retry_seconds ? sq_time_in(retry_seconds) : NULL;
        g_autofree char *name = NULL;
        HdHostStatus after;

        /* held: the admin's status stays, the sync's news are recorded */
        st =
            sq_begin_prepare(s,
                             "UPDATE hosts SET status = CASE WHEN status IN ('maintenance', "
                             "'rebooting') THEN status ELSE ? END, "
                             "last_error = CASE WHEN status IN ('maintenance', 'rebooting') THEN ? "
                             "ELSE COALESCE(?, last_error) END, "
                             "retry_at = ?, retry_seconds = ?, updated_at = ? WHERE id = ?",
                             error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, hd_host_status_to_string(status));
        sq_bind_text(st, 2, last_error);
        sq_bind_text(st, 3, last_error);
        sq_bind_text(st, 4, retry_at);
        hd_db_bind_int64(st, 5, (int)retry_seconds);
        sq_bind_text(st, 6, now);
        sq_bind_text(st, 7, id);
        if (!sq_step_done(s, st, NULL, error) || !read_status(s, id, &name, &after, NULL, error))
                return sq_end(s, FALSE, NULL);
        if (status_out)
                *status_out = after;
        return sq_end(s, TRUE, error);
}

gboolean hd_store_host_set_kernel_desired(HdStore *s, const char *id, const char *desired,
                                          GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        int changes = 0;
        gboolean ok;

        st = sq_begin_prepare(
            s, "UPDATE hosts SET kernel_args_desired = ?, updated_at = ? WHERE id = ?", error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, desired);
        sq_bind_text(st, 2, now);
        sq_bind_text(st, 3, id);
        ok = sq_step_done(s, st, &changes, error);
        return sq_end_changed(s, ok, changes, "host", id, error);
}
