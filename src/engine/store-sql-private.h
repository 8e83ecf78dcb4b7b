/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the store's files share (store-sql.c: open, migrations, hosts, inventory, tokens,
 * events, leases; store-sql-*.c: one file per further concept). Nothing outside store-sql*.c
 * includes this: the rest of the engine sees store.h only. The files hold SQL and domain
 * logic; the database is reached only through db.h's driver (db-sqlite.c today).
 *
 * A changing store call is sq_begin() ... sq_end(s, ok, error): the driver's one-writer
 * begin, then commit when ok, else rollback. Statements are prepared per call and finalized
 * by g_autoptr(Stmt).
 */
#pragma once

#include "db.h"
#include "store.h"

struct HdStore {
        HdDb *db;
        guint version;
};

typedef HdDbStmt Stmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Stmt, hd_db_finalize)

/* HD_STORE_ERROR_FAILED with the driver's message; returns FALSE. */
gboolean sq_db_fail(HdStore *s, GError **error, const char *what);
gboolean sq_exec(HdStore *s, const char *sql, GError **error);
gboolean sq_begin(HdStore *s, GError **error);
/* Commit when @ok, else roll back; returns @ok && committed. */
gboolean sq_end(HdStore *s, gboolean ok, GError **error);
HdDbStmt *sq_prepare(HdStore *s, const char *sql, GError **error);
/* NULL binds SQL NULL. */
void sq_bind_text(HdDbStmt *st, int i, const char *v);
/* A copy of the column's text, NULL for SQL NULL. */
char *sq_col_text(HdDbStmt *st, int i);
/* Run a statement that returns no row; @changes (may be NULL): rows changed. A constraint
 * failure is HD_STORE_ERROR_EXISTS. */
gboolean sq_step_done(HdStore *s, HdDbStmt *st, int *changes, GError **error);
/* ISO 8601 UTC of now + @seconds. */
char *sq_time_in(guint seconds);
/* HD_STORE_ERROR_NOT_FOUND "no @what @id"; returns FALSE. */
gboolean sq_not_found(GError **error, const char *what, const char *id);
/* TRUE when the host exists; FALSE with NOT_FOUND or a database error. */
gboolean sq_host_exists(HdStore *s, const char *id, GError **error);
/* The one row of @sql (its ?1 bound to @id): the statement on that row, or NULL with
 * NOT_FOUND "no @what @id" when there is none, or a database error (@table). */
HdDbStmt *sq_row(HdStore *s, const char *sql, const char *id, const char *what, const char *table,
                 GError **error);
/* sq_begin() then sq_prepare(@sql); NULL (rolled back, @error set) when either fails. */
HdDbStmt *sq_begin_prepare(HdStore *s, const char *sql, GError **error);
/* The end of a call that changes the row of @id: NOT_FOUND "no @what @id" (rolled back) when
 * @ok but no row changed (@changes 0), else sq_end(s, @ok, @error). */
gboolean sq_end_changed(HdStore *s, gboolean ok, int changes, const char *what, const char *id,
                        GError **error);
/* Bind a named parameter (":name") when @st has it; text NULL binds SQL NULL. */
void sq_bind_named_text(HdDbStmt *st, const char *name, const char *v);
void sq_bind_named_int64(HdDbStmt *st, const char *name, gint64 v);
/* One page of a filtered list: *@total from "SELECT COUNT(*)@from@where", and the prepared
 * "SELECT @columns@from@where ORDER BY @order LIMIT :limit OFFSET :offset" for the caller to
 * step; @bind(statement, @data) binds the filter's named parameters of both. NULL with a
 * database error (@table). */
typedef void (*SqBindFunc)(HdDbStmt *st, gconstpointer data);
HdDbStmt *sq_page(HdStore *s, const char *columns, const char *from, const char *where,
                  const char *order, gint64 limit, gint64 offset, SqBindFunc bind,
                  gconstpointer data, const char *table, guint *total, GError **error);
/* Column 0 of every row of @st, as text (NULL for SQL NULL); NULL with a database error
 * (@table). */
GPtrArray *sq_texts(HdStore *s, HdDbStmt *st, const char *table, GError **error);
/* The events of a statement that selects id, at, actor, action, object, result, message. */
GPtrArray *sq_event_rows(HdStore *s, HdDbStmt *st, GError **error);
/* The LIKE pattern (ESCAPE '\\') of a literal prefix. */
char *sq_like_prefix(const char *prefix);
/* Inside hd_store_inventory_apply's transaction (devices): mark the VMs whose configured
 * devices on @host_id vanished or changed ids or group "hardware changed" (store-sql-vms.c;
 * never clears the mark: the admin re-adds or removes the device). */
gboolean sq_vms_inventory_changed(HdStore *s, const char *host_id, GError **error);
/* The VM's mediated devices (HdVmMdev) in the order they were added (store-sql-vm-mdev.c). */
GPtrArray *sq_vm_mdevs(HdStore *s, const char *vm_id, GError **error);
/* The VM's USB devices (HdVmUsbDev), LUNs (HdVmLun) and vhost-scsi targets (HdVmVhost) by n
 * (store-sql-vm-usbscsi.c). */
GPtrArray *sq_vm_usb(HdStore *s, const char *vm_id, GError **error);
GPtrArray *sq_vm_scsi(HdStore *s, const char *vm_id, GError **error);
GPtrArray *sq_vm_vhost(HdStore *s, const char *vm_id, GError **error);
/* Inside a transaction: the VM's host pin follows its rows: @host_id while it has a host
 * device, a mediated device, a USB device, a LUN or a vhost-scsi target, else NULL; updated_at
 * moves (store-sql-vms.c). */
gboolean sq_vm_pin(HdStore *s, const char *vm_id, const char *host_id, GError **error);
/* Inside a transaction: the VM's name, state and host (NOT_FOUND without it), REFUSED unless
 * it is down (its devices change only then) (store-sql-vms.c). */
gboolean sq_vm_down_for_change(HdStore *s, const char *vm_id, char **name, char **host_id,
                               GError **error);
/* A host's name into *@out (NULL when none); returns *@out (store-sql-vms.c). */
const char *sq_host_name_of(HdStore *s, const char *host_id, char **out);
/* The subject of an event whose object is @object: its first UUID (a host's or VM's id,
 * lower-cased), "" when it names none (store-sql-query.c). */
char *sq_event_subject(const char *object);
/* Inside a transaction, before a VM's mdev rows go: those the engine created on the host
 * (parent set: their removal failed) become leftovers (store-sql-mdev-leftover.c); @uuid
 * NULL: every one of the VM's, else that one. */
gboolean sq_mdev_leftovers_keep(HdStore *s, const char *vm_id, const char *uuid, GError **error);
