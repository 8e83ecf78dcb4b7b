/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PostgreSQL driver (db.h) on libpq: one connection from a libpq connection string or URI.
 * Synchronous on the caller's thread: every call waits for the server's answer. That is fine for
 * a server on the same host; for a PostgreSQL across a network the store's calls are the next
 * step to move onto a worker thread (the _async / _finish pairs store.h describes).
 *
 * How it keeps db.h's promises:
 * - prepare rewrites ?, ?N and :name (also @name, $name) outside quotes and comments to $N
 *   with SQLite's numbering (tests/pgserver.py's to_dollar() is the same rewrite) and keeps
 *   the name table;
 *   a name is its whole token with the prefix, as SQLite's. The statement is then parsed and
 *   described by the server as the unnamed prepared statement, so that a wrong statement
 *   fails at prepare and its columns are known before the first step.
 * - the first step runs it with PQexecParams (text parameters, their types inferred by the
 *   server, text results); the next steps walk the result's rows. DONE takes changes() from
 *   PQcmdTuples of an INSERT / UPDATE / DELETE (0 for anything else).
 * - SQLSTATE class 23 (integrity constraint violation) is HD_DB_CONSTRAINT.
 * - a bool column (type oid 16, 't' / 'f' on the wire) reads as 1 / 0, as text too.
 * - begin is BEGIN, then pg_advisory_xact_lock(HD_DB_PG_LOCK_KEY): every engine on the
 *   database takes that one key, so one writer at a time; COMMIT or ROLLBACK releases it.
 *   A begin inside a transaction, a commit or rollback outside one and a commit of a
 *   transaction an error aborted all fail (PostgreSQL would only warn, or roll back).
 * - inside a transaction an INSERT, UPDATE or DELETE runs under a savepoint, rolled back when it
 *   fails: as on SQLite a failed statement (a constraint) does not abort the transaction.
 * - exec is PQexec: several statements stop at the first failure; outside a transaction
 *   PostgreSQL runs them all-or-nothing (SQLite keeps those before the failure).
 * The only file of the engine that includes <libpq-fe.h>.
 */
#include "config.h"

#include <gio/gio.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* The advisory lock every engine's begin takes: the bytes of "hostdev\0". */
#define HD_DB_PG_LOCK_KEY "7526758061429765632"

#define PG_BOOL_OID 16

typedef struct {
        HdDbHead head;
        PGconn *conn;
        char *errmsg;
} PgDb;

typedef enum {
        PG_IDLE,
        PG_ROWS,
        PG_DONE,
} PgState;

typedef struct {
        HdDbStmtHead head;
        char *sql;        /* with $N */
        int nparams;
        char **values;    /* nparams, NULL: SQL NULL */
        GPtrArray *names; /* names[k - 1]: the name of $k, or NULL */
        gboolean write;   /* INSERT / UPDATE / DELETE: under a savepoint in a transaction */
        int ncols;
        Oid *types;
        PGresult *res;
        PgState state;
        int row;
        int nrows;
        int changes;
} PgStmt;

static PgDb *pg(HdDb *db)
{
        return (PgDb *)db;
}

static PgStmt *pg_stmt(HdDbStmt *st)
{
        return (PgStmt *)st;
}

static void set_errmsg(PgDb *d, const char *msg)
{
        g_free(d->errmsg);
        d->errmsg = g_strchomp(g_strdup(msg && *msg ? msg : "unknown PostgreSQL error"));
}

/* The error of @res (NULL: the connection's). */
static void set_error_from(PgDb *d, const PGresult *res)
{
        const char *m = res ? PQresultErrorMessage(res) : NULL;

        set_errmsg(d, m && *m ? m : PQerrorMessage(d->conn));
}

static void pg_close(HdDb *db)
{
        PQfinish(pg(db)->conn);
        g_free(pg(db)->errmsg);
        g_free(db);
}

/* Run one command without rows; FALSE: errmsg set. */
static gboolean command(PgDb *d, const char *sql)
{
        PGresult *res = PQexec(d->conn, sql);
        ExecStatusType s = PQresultStatus(res);
        gboolean ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;

        if (!ok)
                set_error_from(d, res);
        PQclear(res);
        return ok;
}

static gboolean pg_exec(HdDb *db, const char *sql)
{
        return command(pg(db), sql);
}

static gboolean pg_begin(HdDb *db)
{
        PgDb *d = pg(db);

        if (PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
                set_errmsg(d, "cannot start a transaction within a transaction");
                return FALSE;
        }
        if (!command(d, "BEGIN"))
                return FALSE;
        if (!command(d, "SELECT pg_advisory_xact_lock(" HD_DB_PG_LOCK_KEY ")")) {
                g_autofree char *msg = g_strdup(d->errmsg);

                command(d, "ROLLBACK");
                set_errmsg(d, msg);
                return FALSE;
        }
        return TRUE;
}

static gboolean pg_commit(HdDb *db)
{
        PgDb *d = pg(db);

        switch (PQtransactionStatus(d->conn)) {
        case PQTRANS_INTRANS:
                return command(d, "COMMIT");
        case PQTRANS_INERROR:
                command(d, "ROLLBACK");
                set_errmsg(d, "cannot commit: an error aborted the transaction (rolled back)");
                return FALSE;
        default:
                set_errmsg(d, "cannot commit: no transaction is active");
                return FALSE;
        }
}

static gboolean pg_rollback(HdDb *db)
{
        PgDb *d = pg(db);
        PGTransactionStatusType t = PQtransactionStatus(d->conn);

        if (t != PQTRANS_INTRANS && t != PQTRANS_INERROR) {
                set_errmsg(d, "cannot rollback: no transaction is active");
                return FALSE;
        }
        return command(d, "ROLLBACK");
}

static const char *pg_errmsg(HdDb *db)
{
        PgDb *d = pg(db);

        if (!d->errmsg)
                set_errmsg(d, "not an error");
        return d->errmsg;
}

/* A parameter's number for @name, given the next free one in *@highest. */
static int name_number(GPtrArray *names, const char *name, int *highest)
{
        for (guint k = 0; k < names->len; k++)
                if (g_strcmp0(g_ptr_array_index(names, k), name) == 0)
                        return (int)k + 1;
        *highest += 1;
        while ((int)names->len < *highest)
                g_ptr_array_add(names, NULL);
        g_ptr_array_index(names, *highest - 1) = g_strdup(name);
        return *highest;
}

/* SQLite's ?, ?N, :name, @name and $name outside quotes and comments to $N, numbered as SQLite
 * does. */
static char *to_dollar(const char *sql, GPtrArray *names, int *nparams)
{
        GString *out = g_string_sized_new(strlen(sql) + 16);
        int highest = 0;
        size_t i = 0, n = strlen(sql);

        while (i < n) {
                char c = sql[i];

                if (c == '\'' || c == '"') {
                        size_t j = i + 1;

                        while (j < n) {
                                if (sql[j] == c) {
                                        if (j + 1 < n && sql[j + 1] == c) {
                                                j += 2;
                                                continue;
                                        }
                                        break;
                                }
                                j++;
                        }
                        g_string_append_len(out, sql + i, (gssize)(MIN(j + 1, n) - i));
                        i = j + 1;
                        continue;
                }
                /* comments are copied as they are: a quote or a ? there is no SQL */
                if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
                        size_t j = i;

                        while (j < n && sql[j] != '\n')
                                j++;
                        g_string_append_len(out, sql + i, (gssize)(j - i));
                        i = j;
                        continue;
                }
                if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
                        const char *end = strstr(sql + i + 2, "*/");
                        size_t j = end ? (size_t)(end - sql) + 2 : n;

                        g_string_append_len(out, sql + i, (gssize)(j - i));
                        i = j;
                        continue;
                }
                if (c == '?') {
                        size_t j = i + 1;
                        int k;

                        while (j < n && g_ascii_isdigit(sql[j]))
                                j++;
                        if (j > i + 1) {
                                g_autofree char *num = g_strndup(sql + i + 1, j - i - 1);

                                k = atoi(num);
                        } else {
                                k = highest + 1;
                        }
                        highest = MAX(highest, k);
                        g_string_append_printf(out, "$%d", k);
                        i = j;
                        continue;
                }
                if ((c == ':' || c == '@' || c == '$') && i + 1 < n &&
                    (g_ascii_isalpha(sql[i + 1]) || sql[i + 1] == '_') &&
                    !(c == ':' && i > 0 && sql[i - 1] == ':')) {
                        size_t j = i + 1;
                        g_autofree char *name = NULL;

                        while (j < n && (g_ascii_isalnum(sql[j]) || sql[j] == '_'))
                                j++;
                        name = g_strndup(sql + i, j - i);
                        g_string_append_printf(out, "$%d", name_number(names, name, &highest));
                        i = j;
                        continue;
                }
                g_string_append_c(out, c);
                i++;
        }
        while ((int)names->len < highest)
                g_ptr_array_add(names, NULL);
        *nparams = highest;
        return g_string_free(out, FALSE);
}

static gboolean is_write(const char *sql)
{
        static const char *const verbs[] = { "INSERT", "UPDATE", "DELETE" };

        while (g_ascii_isspace(*sql))
                sql++;
        for (size_t k = 0; k < G_N_ELEMENTS(verbs); k++)
                if (g_ascii_strncasecmp(sql, verbs[k], strlen(verbs[k])) == 0)
                        return TRUE;
        return FALSE;
}

static void pg_finalize(HdDbStmt *st)
{
        PgStmt *s = pg_stmt(st);

        PQclear(s->res);
        for (int k = 0; k < s->nparams; k++)
                g_free(s->values[k]);
        g_free(s->values);
        g_ptr_array_unref(s->names);
        g_free(s->types);
        g_free(s->sql);
        g_free(s);
}

static HdDbStmt *pg_prepare(HdDb *db, const char *sql)
{
        PgDb *d = pg(db);
        PgStmt *s = g_new0(PgStmt, 1);
        PGresult *res;

        s->head.db = db;
        s->names = g_ptr_array_new_with_free_func(g_free);
        s->sql = to_dollar(sql, s->names, &s->nparams);
        s->values = g_new0(char *, MAX(s->nparams, 1));
        s->write = is_write(sql);
        /* parsed and described now: a wrong statement fails here, its columns are known */
        res = PQprepare(d->conn, "", s->sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                set_error_from(d, res);
                PQclear(res);
                pg_finalize((HdDbStmt *)s);
                return NULL;
        }
        PQclear(res);
        res = PQdescribePrepared(d->conn, "");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                set_error_from(d, res);
                PQclear(res);
                pg_finalize((HdDbStmt *)s);
                return NULL;
        }
        s->ncols = PQnfields(res);
        s->types = g_new0(Oid, MAX(s->ncols, 1));
        for (int k = 0; k < s->ncols; k++)
                s->types[k] = PQftype(res, k);
        PQclear(res);
        return (HdDbStmt *)s;
}

static void set_value(PgStmt *s, int i, char *v)
{
        if (i < 1 || i > s->nparams) {
                g_free(v);
                return;
        }
        g_free(s->values[i - 1]);
        s->values[i - 1] = v;
}

static void pg_bind_text(HdDbStmt *st, int i, const char *v)
{
        set_value(pg_stmt(st), i, g_strdup(v));
}

static void pg_bind_int64(HdDbStmt *st, int i, gint64 v)
{
        set_value(pg_stmt(st), i, g_strdup_printf("%" G_GINT64_FORMAT, v));
}

static void pg_bind_null(HdDbStmt *st, int i)
{
        set_value(pg_stmt(st), i, NULL);
}

static int pg_param_index(HdDbStmt *st, const char *name)
{
        PgStmt *s = pg_stmt(st);

        for (guint k = 0; k < s->names->len; k++)
                if (g_strcmp0(g_ptr_array_index(s->names, k), name) == 0)
                        return (int)k + 1;
        return 0;
}

static int cmd_changes(const PGresult *res)
{
        const char *status = PQcmdStatus((PGresult *)res);

        if (g_str_has_prefix(status, "INSERT ") || g_str_has_prefix(status, "UPDATE ") ||
            g_str_has_prefix(status, "DELETE "))
                return atoi(PQcmdTuples((PGresult *)res));
        return 0;
}

/* Run the statement; its result in s->res, or the step's error. */
static HdDbStep run(PgStmt *s)
{
        PgDb *d = pg(s->head.db);
        gboolean savepoint = s->write && PQtransactionStatus(d->conn) == PQTRANS_INTRANS;
        const char *sqlstate;
        ExecStatusType status;
        HdDbStep rc;

        PQclear(s->res);
        s->res = NULL;
        if (savepoint && !command(d, "SAVEPOINT hd_db_stmt"))
                return HD_DB_ERROR;
        s->res = PQexecParams(d->conn, s->sql, s->nparams, NULL, (const char *const *)s->values,
                              NULL, NULL, 0);
        status = PQresultStatus(s->res);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
                if (savepoint && !command(d, "RELEASE SAVEPOINT hd_db_stmt"))
                        return HD_DB_ERROR;
                s->state = PG_ROWS;
                s->row = -1;
                s->nrows = status == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
                return HD_DB_ROW;
        }
        set_error_from(d, s->res);
        sqlstate = PQresultErrorField(s->res, PG_DIAG_SQLSTATE);
        rc = sqlstate && g_str_has_prefix(sqlstate, "23") ? HD_DB_CONSTRAINT : HD_DB_ERROR;
        if (savepoint) {
                g_autofree char *msg = g_strdup(d->errmsg);

                command(d, "ROLLBACK TO SAVEPOINT hd_db_stmt");
                command(d, "RELEASE SAVEPOINT hd_db_stmt");
                set_errmsg(d, msg);
        }
        PQclear(s->res);
        s->res = NULL;
        s->state = PG_DONE;
        return rc;
}

static HdDbStep pg_step(HdDbStmt *st)
{
        PgStmt *s = pg_stmt(st);

        s->changes = 0;
        if (s->state != PG_ROWS) {
                HdDbStep rc = run(s);

                if (rc != HD_DB_ROW)
                        return rc;
        }
        s->row++;
        if (s->row < s->nrows)
                return HD_DB_ROW;
        s->state = PG_DONE;
        s->changes = cmd_changes(s->res);
        return HD_DB_DONE;
}

static int pg_column_count(HdDbStmt *st)
{
        return pg_stmt(st)->ncols;
}

/* The current row's column @i, or NULL (SQL NULL, no row, no such column). */
static const char *value(PgStmt *s, int i)
{
        if (s->state != PG_ROWS || !s->res || s->row < 0 || s->row >= s->nrows || i < 0 ||
            i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i))
                return NULL;
        return PQgetvalue(s->res, s->row, i);
}

static const char *pg_column_text(HdDbStmt *st, int i)
{
        PgStmt *s = pg_stmt(st);
        const char *v = value(s, i);

        if (v && PQftype(s->res, i) == PG_BOOL_OID)
                return v[0] == 't' ? "1" : "0";
        return v;
}

static gint64 pg_column_int64(HdDbStmt *st, int i)
{
        const char *v = pg_column_text(st, i);

        return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

static gboolean pg_column_is_null(HdDbStmt *st, int i)
{
        return value(pg_stmt(st), i) == NULL;
}

static void pg_reset(HdDbStmt *st)
{
        PgStmt *s = pg_stmt(st);

        PQclear(s->res);
        s->res = NULL;
        s->state = PG_IDLE;
        s->changes = 0;
}

static void pg_clear_bindings(HdDbStmt *st)
{
        PgStmt *s = pg_stmt(st);

        for (int k = 0; k < s->nparams; k++)
                g_clear_pointer(&s->values[k], g_free);
}

static int pg_changes(HdDbStmt *st)
{
        return pg_stmt(st)->changes;
}

static const HdDbDriver pg_driver = {
    .name = "postgresql",
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .errmsg = pg_errmsg,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_null = pg_bind_null,
    .param_index = pg_param_index,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_is_null = pg_column_is_null,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .changes = pg_changes,
};

static void quiet(void *arg, const char *message)
{
        /* NOTICEs (a DROP ... IF EXISTS of nothing) are no errors: not on stderr */
        (void)arg;
        (void)message;
}

HdDb *hd_db_open_pg(const char *conninfo, GError **error)
{
        g_autofree PgDb *d = g_new0(PgDb, 1);

        d->head.driver = &pg_driver;
        d->conn = PQconnectdb(conninfo);
        if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
                g_autofree char *msg =
                    g_strchomp(g_strdup(d->conn ? PQerrorMessage(d->conn) : "out of memory"));

                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "cannot connect to the PostgreSQL database: %s", msg);
                PQfinish(d->conn);
                return NULL;
        }
        PQsetNoticeProcessor(d->conn, quiet, NULL);
        if (PQsetClientEncoding(d->conn, "UTF8") != 0) {
                g_autofree char *msg = g_strchomp(g_strdup(PQerrorMessage(d->conn)));

                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "the PostgreSQL database: cannot use UTF-8: %s", msg);
                PQfinish(d->conn);
                return NULL;
        }
        return (HdDb *)g_steal_pointer(&d);
}
