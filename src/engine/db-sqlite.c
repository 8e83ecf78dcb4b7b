/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite driver (db.h): one connection to a local file in WAL mode with
 * synchronous=NORMAL (a commit writes the WAL without fsync), foreign keys on, a busy timeout
 * of 5 s for another process writing at the same moment; the file is created 0600 (its
 * directory 0700 when missing) before SQLite opens it, which would follow the umask.
 * begin is BEGIN IMMEDIATE: the write lock is taken at once, so one writer at a time.
 * The only file of the engine that includes <sqlite3.h>.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sqlite3.h>
#include <unistd.h>

#include "db.h"

typedef struct {
        HdDbHead head;
        sqlite3 *db;
} SqliteDb;

typedef struct {
        HdDbStmtHead head;
        sqlite3_stmt *st;
        int changes;
} SqliteStmt;

static SqliteDb *lite(HdDb *db)
{
        return (SqliteDb *)db;
}

static SqliteStmt *lite_stmt(HdDbStmt *st)
{
        return (SqliteStmt *)st;
}

static void lite_close(HdDb *db)
{
        sqlite3_close(lite(db)->db);
        g_free(db);
}

static gboolean lite_exec(HdDb *db, const char *sql)
{
        /* on failure sqlite3_errmsg() holds the message sqlite3_exec() would return */
        return sqlite3_exec(lite(db)->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static gboolean lite_begin(HdDb *db)
{
        return lite_exec(db, "BEGIN IMMEDIATE");
}

static gboolean lite_commit(HdDb *db)
{
        return lite_exec(db, "COMMIT");
}

static gboolean lite_rollback(HdDb *db)
{
        return lite_exec(db, "ROLLBACK");
}

static const char *lite_errmsg(HdDb *db)
{
        return sqlite3_errmsg(lite(db)->db);
}

static HdDbStmt *lite_prepare(HdDb *db, const char *sql)
{
        sqlite3_stmt *st = NULL;
        SqliteStmt *s;

        if (sqlite3_prepare_v2(lite(db)->db, sql, -1, &st, NULL) != SQLITE_OK)
                return NULL;
        s = g_new0(SqliteStmt, 1);
        s->head.db = db;
        s->st = st;
        return (HdDbStmt *)s;
}

static void lite_finalize(HdDbStmt *st)
{
        sqlite3_finalize(lite_stmt(st)->st);
        g_free(st);
}

static void lite_bind_text(HdDbStmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(lite_stmt(st)->st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(lite_stmt(st)->st, i);
}

static void lite_bind_int64(HdDbStmt *st, int i, gint64 v)
{
        sqlite3_bind_int64(lite_stmt(st)->st, i, v);
}

static void lite_bind_null(HdDbStmt *st, int i)
{
        sqlite3_bind_null(lite_stmt(st)->st, i);
}

static int lite_param_index(HdDbStmt *st, const char *name)
{
        return sqlite3_bind_parameter_index(lite_stmt(st)->st, name);
}

static HdDbStep lite_step(HdDbStmt *st)
{
        SqliteStmt *s = lite_stmt(st);
        int rc = sqlite3_step(s->st);

        s->changes = 0;
        switch (rc & 0xff) {
        case SQLITE_ROW:
                return HD_DB_ROW;
        case SQLITE_DONE:
                if (!sqlite3_stmt_readonly(s->st))
                        s->changes = sqlite3_changes(sqlite3_db_handle(s->st));
                return HD_DB_DONE;
        case SQLITE_CONSTRAINT:
                return HD_DB_CONSTRAINT;
        default:
                return HD_DB_ERROR;
        }
}

static int lite_column_count(HdDbStmt *st)
{
        return sqlite3_column_count(lite_stmt(st)->st);
}

static const char *lite_column_text(HdDbStmt *st, int i)
{
        return (const char *)sqlite3_column_text(lite_stmt(st)->st, i);
}

static gint64 lite_column_int64(HdDbStmt *st, int i)
{
        return sqlite3_column_int64(lite_stmt(st)->st, i);
}

static gboolean lite_column_is_null(HdDbStmt *st, int i)
{
        return sqlite3_column_type(lite_stmt(st)->st, i) == SQLITE_NULL;
}

static void lite_reset(HdDbStmt *st)
{
        lite_stmt(st)->changes = 0;
        sqlite3_reset(lite_stmt(st)->st);
}

static void lite_clear_bindings(HdDbStmt *st)
{
        sqlite3_clear_bindings(lite_stmt(st)->st);
}

static int lite_changes(HdDbStmt *st)
{
        return lite_stmt(st)->changes;
}

static const HdDbDriver sqlite_driver = {
    .name = "sqlite",
    .close = lite_close,
    .exec = lite_exec,
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .errmsg = lite_errmsg,
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .bind_text = lite_bind_text,
    .bind_int64 = lite_bind_int64,
    .bind_null = lite_bind_null,
    .param_index = lite_param_index,
    .step = lite_step,
    .column_count = lite_column_count,
    .column_text = lite_column_text,
    .column_int64 = lite_column_int64,
    .column_is_null = lite_column_is_null,
    .reset = lite_reset,
    .clear_bindings = lite_clear_bindings,
    .changes = lite_changes,
};

HdDb *hd_db_open_sqlite(const char *path, GError **error)
{
        g_autofree SqliteDb *s = g_new0(SqliteDb, 1);
        g_autofree char *dir = g_path_get_dirname(path);
        int fd;

        s->head.driver = &sqlite_driver;
        if (g_mkdir_with_parents(dir, 0700) < 0) {
                int e = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot create the database directory %s: %s", dir, g_strerror(e));
                return NULL;
        }
        /* create it 0600 before SQLite does (it would use the umask) */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                int e = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot open the database %s: %s", path, g_strerror(e));
                return NULL;
        }
        close(fd);
        if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open the database %s: %s",
                            path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
                sqlite3_close(s->db);
                return NULL;
        }
        sqlite3_busy_timeout(s->db, 5000);
        if (!lite_exec((HdDb *)s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                                  "PRAGMA foreign_keys = ON")) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: the engine database: %s",
                            path, sqlite3_errmsg(s->db));
                sqlite3_close(s->db);
                return NULL;
        }
        return (HdDb *)g_steal_pointer(&s);
}
