/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's database driver: the one seam between the store (store-sql*.c: SQL and domain
 * logic) and a database library. db-sqlite.c is the SQLite driver, db-pg.c the PostgreSQL one
 * (libpq) filling the same table. The store never sees a driver's types.
 *
 * What every driver guarantees (the store relies on each of these; none is SQLite-only):
 * 1. One writer at a time. hd_db_begin() ... hd_db_commit() / hd_db_rollback() is one
 *    transaction, and no other writer's transaction (this process, another engine command on
 *    the same database, another replica) interleaves with it: the store's check-then-write
 *    transactions (a name taken? a device free? MAX(id)+1) keep their meaning. SQLite:
 *    BEGIN IMMEDIATE (the write lock is taken at begin; the busy timeout waits for it).
 *    PostgreSQL: BEGIN, then pg_advisory_xact_lock() on one constant key, released by the
 *    COMMIT or ROLLBACK (READ COMMITTED is then enough: the check reads the last commit).
 *    Outside begin, every statement is its own transaction (autocommit).
 * 2. Parameters are written as SQLite takes them: ?, ?N and :name. Numbering follows SQLite:
 *    ? takes the next number, ?N is N, a :name takes the next number the first time it
 *    appears and the same one after; hd_db_param_index() gives a name's number (0 when the
 *    statement has none). A PostgreSQL driver rewrites them to $N when it prepares
 *    (tests/engine-sql-dialect.py's to_dollar() is that rewrite) and keeps the name table.
 *    Bindings persist across hd_db_reset() until hd_db_clear_bindings() (then all are NULL);
 *    an unbound parameter is NULL. Text is copied at bind time.
 * 3. hd_db_step() gives HD_DB_ROW (a row is readable), HD_DB_DONE (no more rows; a changing
 *    statement has run), HD_DB_CONSTRAINT (a PRIMARY KEY / UNIQUE / CHECK / NOT NULL /
 *    REFERENCES violation: the store reports it as HD_STORE_ERROR_EXISTS) or HD_DB_ERROR
 *    (anything else); after either error hd_db_errmsg() says what. A step after DONE or an
 *    error starts the statement again (an implicit reset, as SQLite's does).
 * 4. Columns: hd_db_column_text() is the value as text, NULL exactly when it is SQL NULL (an
 *    integer reads as its decimal digits), valid until the next step, reset or finalize of
 *    that statement; hd_db_column_int64() is an integer column's value (INTEGER, BIGINT,
 *    COUNT(*), MAX(...)) and 0 for NULL; a boolean expression (EXISTS (...), a = b) reads as
 *    0 / 1 through it whatever the driver (PostgreSQL's bool is 't' / 'f' on the wire: the
 *    driver maps it); hd_db_column_is_null() tells NULL apart.
 * 5. hd_db_changes() is the number of rows the statement's last step to DONE inserted,
 *    updated or deleted itself (not rows a cascade or trigger changed), 0 for a query and
 *    before the statement ran.
 * 6. hd_db_exec() runs several ';'-separated statements without parameters (migrations,
 *    DDL) and stops at the first failure; it does not begin a transaction of its own.
 * 7. A connection is used by one thread at a time; statements are finalized before their
 *    connection is closed. hd_db_errmsg() is the connection's last error, stable until its
 *    next call.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct HdDb HdDb;
typedef struct HdDbStmt HdDbStmt;

typedef enum {
        HD_DB_ROW,
        HD_DB_DONE,
        HD_DB_CONSTRAINT,
        HD_DB_ERROR,
} HdDbStep;

/* A driver's functions. Its connection struct begins with HdDbHead, its statement struct
 * with HdDbStmtHead; the wrappers below dispatch through them. */
typedef struct {
        const char *name;
        void (*close)(HdDb *db);
        gboolean (*exec)(HdDb *db, const char *sql);
        gboolean (*begin)(HdDb *db);
        gboolean (*commit)(HdDb *db);
        gboolean (*rollback)(HdDb *db);
        const char *(*errmsg)(HdDb *db);
        HdDbStmt *(*prepare)(HdDb *db, const char *sql);
        void (*finalize)(HdDbStmt *st);
        void (*bind_text)(HdDbStmt *st, int i, const char *v);
        void (*bind_int64)(HdDbStmt *st, int i, gint64 v);
        void (*bind_null)(HdDbStmt *st, int i);
        int (*param_index)(HdDbStmt *st, const char *name);
        HdDbStep (*step)(HdDbStmt *st);
        int (*column_count)(HdDbStmt *st);
        const char *(*column_text)(HdDbStmt *st, int i);
        gint64 (*column_int64)(HdDbStmt *st, int i);
        gboolean (*column_is_null)(HdDbStmt *st, int i);
        void (*reset)(HdDbStmt *st);
        void (*clear_bindings)(HdDbStmt *st);
        int (*changes)(HdDbStmt *st);
} HdDbDriver;

typedef struct {
        const HdDbDriver *driver;
} HdDbHead;

typedef struct {
        HdDb *db;
} HdDbStmtHead;

/* ---- the drivers ---- */

/* SQLite (db-sqlite.c): the file @path created 0600 when missing (its directory 0700), WAL,
 * synchronous=NORMAL, foreign keys on, busy timeout 5 s. G_IO_ERROR when it cannot. */
HdDb *hd_db_open_sqlite(const char *path, GError **error);

/* PostgreSQL (db-pg.c, built when meson finds libpq: HAVE_LIBPQ in config.h): one connection
 * from @conninfo, a libpq connection string ("host=/run/postgresql dbname=hostdev") or URI
 * ("postgresql://engine@db.example/hostdev"), client encoding UTF-8. G_IO_ERROR when it
 * cannot connect. */
HdDb *hd_db_open_pg(const char *conninfo, GError **error);

/* ---- connection ---- */

static inline const HdDbDriver *hd_db_driver(HdDb *db)
{
        return ((HdDbHead *)db)->driver;
}

static inline void hd_db_close(HdDb *db)
{
        if (db)
                hd_db_driver(db)->close(db);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdDb, hd_db_close)

/* Several statements without parameters (migrations, DDL); FALSE: hd_db_errmsg(). */
static inline gboolean hd_db_exec(HdDb *db, const char *sql)
{
        return hd_db_driver(db)->exec(db, sql);
}

/* One writer at a time until commit or rollback (see the top). FALSE: hd_db_errmsg(). */
static inline gboolean hd_db_begin(HdDb *db)
{
        return hd_db_driver(db)->begin(db);
}

static inline gboolean hd_db_commit(HdDb *db)
{
        return hd_db_driver(db)->commit(db);
}

static inline gboolean hd_db_rollback(HdDb *db)
{
        return hd_db_driver(db)->rollback(db);
}

static inline const char *hd_db_errmsg(HdDb *db)
{
        return hd_db_driver(db)->errmsg(db);
}

/* ---- statements ---- */

/* One statement with ?, ?N or :name parameters; NULL: hd_db_errmsg(). */
static inline HdDbStmt *hd_db_prepare(HdDb *db, const char *sql)
{
        return hd_db_driver(db)->prepare(db, sql);
}

static inline void hd_db_finalize(HdDbStmt *st)
{
        if (st)
                hd_db_driver(((HdDbStmtHead *)st)->db)->finalize(st);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdDbStmt, hd_db_finalize)

static inline const HdDbDriver *hd_db_stmt_driver(HdDbStmt *st)
{
        return hd_db_driver(((HdDbStmtHead *)st)->db);
}

/* Parameters are numbered from 1. @v NULL binds SQL NULL. */
static inline void hd_db_bind_text(HdDbStmt *st, int i, const char *v)
{
        hd_db_stmt_driver(st)->bind_text(st, i, v);
}

static inline void hd_db_bind_int64(HdDbStmt *st, int i, gint64 v)
{
        hd_db_stmt_driver(st)->bind_int64(st, i, v);
}

static inline void hd_db_bind_null(HdDbStmt *st, int i)
{
        hd_db_stmt_driver(st)->bind_null(st, i);
}

/* The number of the parameter @name (":name"), 0 when the statement has none. */
static inline int hd_db_param_index(HdDbStmt *st, const char *name)
{
        return hd_db_stmt_driver(st)->param_index(st, name);
}

static inline HdDbStep hd_db_step(HdDbStmt *st)
{
        return hd_db_stmt_driver(st)->step(st);
}

static inline int hd_db_column_count(HdDbStmt *st)
{
        return hd_db_stmt_driver(st)->column_count(st);
}

/* Columns are numbered from 0. NULL exactly for SQL NULL. */
static inline const char *hd_db_column_text(HdDbStmt *st, int i)
{
        return hd_db_stmt_driver(st)->column_text(st, i);
}

static inline gint64 hd_db_column_int64(HdDbStmt *st, int i)
{
        return hd_db_stmt_driver(st)->column_int64(st, i);
}

/* An int-sized column (a count, a 0/1 flag, a port). */
static inline int hd_db_column_int(HdDbStmt *st, int i)
{
        return (int)hd_db_column_int64(st, i);
}

static inline gboolean hd_db_column_is_null(HdDbStmt *st, int i)
{
        return hd_db_stmt_driver(st)->column_is_null(st, i);
}

/* Ready to step again from the start; the bindings stay. */
static inline void hd_db_reset(HdDbStmt *st)
{
        hd_db_stmt_driver(st)->reset(st);
}

static inline void hd_db_clear_bindings(HdDbStmt *st)
{
        hd_db_stmt_driver(st)->clear_bindings(st);
}

/* Rows the statement's last step to DONE changed (see the top). */
static inline int hd_db_changes(HdDbStmt *st)
{
        return hd_db_stmt_driver(st)->changes(st);
}

G_END_DECLS
