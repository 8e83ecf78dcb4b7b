/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's database driver contract (src/engine/db.h), written against db.h only so that
 * it runs unchanged against another driver: a constraint violation told apart from other
 * errors, changes() of a statement's last step, NULL columns, ?N and :name parameters (the
 * same name twice is one parameter), a boolean expression read as 0 / 1, bindings kept across
 * reset and dropped by clear_bindings, rollback and commit, the one-writer begin. The whole
 * contract runs against every driver there is: SQLite always (a temporary file), PostgreSQL
 * when HOSTDEV_TEST_PG holds a libpq connection string (tests/with-postgres.py sets it; the
 * meson test test-engine-db-pg), its tables dropped and made again for each test.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "db.h"

typedef enum {
        DRIVER_SQLITE,
        DRIVER_PG,
} Driver;

typedef struct {
        Driver driver;
        char *dir;
        char *path; /* SQLite: the file; PostgreSQL: the connection string */
        HdDb *db;
} Fixture;

/* Another connection to the fixture's database. */
static HdDb *open_db(Fixture *f)
{
        g_autoptr(GError) error = NULL;
        HdDb *db = NULL;

        switch (f->driver) {
        case DRIVER_SQLITE:
                db = hd_db_open_sqlite(f->path, &error);
                break;
        case DRIVER_PG:
#ifdef HAVE_LIBPQ
                db = hd_db_open_pg(f->path, &error);
#else
                g_assert_not_reached();
#endif
                break;
        }
        g_assert_no_error(error);
        g_assert_nonnull(db);
        return db;
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->driver = GPOINTER_TO_INT(data);
        if (f->driver == DRIVER_SQLITE) {
                f->dir = g_dir_make_tmp("engine-db-XXXXXX", &error);
                g_assert_no_error(error);
                f->path = g_build_filename(f->dir, "db", NULL);
        } else {
                f->path = g_strdup(g_getenv("HOSTDEV_TEST_PG"));
        }
        f->db = open_db(f);
        /* PostgreSQL: the last test's tables go (SQLite: a new file each time) */
        g_assert_true(hd_db_exec(f->db, "DROP TABLE IF EXISTS u; DROP TABLE IF EXISTS t"));
        /* n BIGINT: PostgreSQL's INTEGER is 32 bits (SQLite's always 64) */
        g_assert_true(hd_db_exec(f->db,
                                 "CREATE TABLE t ("
                                 " id TEXT PRIMARY KEY,"
                                 " n BIGINT,"
                                 " note TEXT,"
                                 " flag INTEGER NOT NULL DEFAULT 0 CHECK (flag IN (0, 1)));"
                                 "CREATE TABLE u ("
                                 " t_id TEXT NOT NULL REFERENCES t (id) ON DELETE CASCADE)"));
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
        g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(f->path, "-shm", NULL);

        (void)data;
        hd_db_close(f->db);
        if (f->driver == DRIVER_SQLITE) {
                g_unlink(f->path);
                g_unlink(wal);
                g_unlink(shm);
                g_rmdir(f->dir);
        }
        g_free(f->path);
        g_free(f->dir);
}

static void insert(HdDb *db, const char *id, gint64 n, const char *note)
{
        g_autoptr(HdDbStmt) st =
            hd_db_prepare(db, "INSERT INTO t (id, n, note) VALUES (?1, ?2, ?3)");

        g_assert_nonnull(st);
        hd_db_bind_text(st, 1, id);
        hd_db_bind_int64(st, 2, n);
        hd_db_bind_text(st, 3, note);
        g_assert_cmpint(hd_db_step(st), ==, HD_DB_DONE);
        g_assert_cmpint(hd_db_changes(st), ==, 1);
}

static gint64 count(HdDb *db)
{
        g_autoptr(HdDbStmt) st = hd_db_prepare(db, "SELECT COUNT(*) FROM t");

        g_assert_cmpint(hd_db_step(st), ==, HD_DB_ROW);
        return hd_db_column_int64(st, 0);
}

static void test_constraint(Fixture *f, gconstpointer data)
{
        g_autoptr(HdDbStmt) dup = NULL;
        g_autoptr(HdDbStmt) check = NULL;
        g_autoptr(HdDbStmt) ref = NULL;
        g_autoptr(HdDbStmt) bad = NULL;

        (void)data;
        insert(f->db, "a", 1, "one");
        /* the primary key, a CHECK and a REFERENCES: each reported as a constraint */
        dup = hd_db_prepare(f->db, "INSERT INTO t (id, n) VALUES (?, ?)");
        hd_db_bind_text(dup, 1, "a");
        hd_db_bind_int64(dup, 2, 2);
        g_assert_cmpint(hd_db_step(dup), ==, HD_DB_CONSTRAINT);
        g_assert_nonnull(hd_db_errmsg(f->db));
        g_assert_cmpstr(hd_db_errmsg(f->db), !=, "");
        check = hd_db_prepare(f->db, "INSERT INTO t (id, flag) VALUES ('b', 2)");
        g_assert_cmpint(hd_db_step(check), ==, HD_DB_CONSTRAINT);
        ref = hd_db_prepare(f->db, "INSERT INTO u (t_id) VALUES ('nobody')");
        g_assert_cmpint(hd_db_step(ref), ==, HD_DB_CONSTRAINT);
        g_assert_cmpint(count(f->db), ==, 1);
        /* anything else is an error, not a constraint; a statement that does not prepare too */
        g_assert_null(hd_db_prepare(f->db, "SELECT id FROM nowhere"));
        g_assert_nonnull(strstr(hd_db_errmsg(f->db), "nowhere"));
        g_assert_false(hd_db_exec(f->db, "INSERT INTO nowhere VALUES (1)"));
        /* a run-time error that is no constraint: an integer overflow */
        bad = hd_db_prepare(f->db, "SELECT abs(-9223372036854775807 - 1)");
        g_assert_nonnull(bad);
        g_assert_cmpint(hd_db_step(bad), ==, HD_DB_ERROR);
}

static void test_changes(Fixture *f, gconstpointer data)
{
        g_autoptr(HdDbStmt) upd = NULL;
        g_autoptr(HdDbStmt) del = NULL;
        g_autoptr(HdDbStmt) sel = NULL;

        (void)data;
        insert(f->db, "a", 1, NULL);
        insert(f->db, "b", 2, NULL);
        insert(f->db, "c", 3, NULL);
        upd = hd_db_prepare(f->db, "UPDATE t SET note = 'x' WHERE n >= ?");
        g_assert_cmpint(hd_db_changes(upd), ==, 0);
        hd_db_bind_int64(upd, 1, 2);
        g_assert_cmpint(hd_db_step(upd), ==, HD_DB_DONE);
        g_assert_cmpint(hd_db_changes(upd), ==, 2);
        /* the binding stays across reset */
        hd_db_reset(upd);
        g_assert_cmpint(hd_db_step(upd), ==, HD_DB_DONE);
        g_assert_cmpint(hd_db_changes(upd), ==, 2);
        /* cleared: NULL, which matches nothing */
        hd_db_reset(upd);
        hd_db_clear_bindings(upd);
        g_assert_cmpint(hd_db_step(upd), ==, HD_DB_DONE);
        g_assert_cmpint(hd_db_changes(upd), ==, 0);
        /* rows a cascade removes are not the statement's */
        g_assert_true(hd_db_exec(f->db, "INSERT INTO u (t_id) VALUES ('a'); "
                                        "INSERT INTO u (t_id) VALUES ('a')"));
        del = hd_db_prepare(f->db, "DELETE FROM t WHERE id = 'a'");
        g_assert_cmpint(hd_db_step(del), ==, HD_DB_DONE);
        g_assert_cmpint(hd_db_changes(del), ==, 1);
        /* a query changes nothing */
        sel = hd_db_prepare(f->db, "SELECT id FROM t ORDER BY id");
        g_assert_cmpint(hd_db_step(sel), ==, HD_DB_ROW);
        g_assert_cmpint(hd_db_step(sel), ==, HD_DB_ROW);
        g_assert_cmpint(hd_db_step(sel), ==, HD_DB_DONE);
        g_assert_cmpint(hd_db_changes(sel), ==, 0);
}

static void test_columns(Fixture *f, gconstpointer data)
{
        g_autoptr(HdDbStmt) st = NULL;

        (void)data;
        insert(f->db, "a", G_GINT64_CONSTANT(5000000000), NULL);
        st = hd_db_prepare(f->db, "SELECT id, n, note, EXISTS (SELECT 1 FROM t WHERE id = 'a'),"
                                  " EXISTS (SELECT 1 FROM t WHERE id = 'z'), n = 5000000000, NULL"
                                  " FROM t WHERE id = 'a'");
        g_assert_cmpint(hd_db_column_count(st), ==, 7);
        g_assert_cmpint(hd_db_step(st), ==, HD_DB_ROW);
        g_assert_cmpstr(hd_db_column_text(st, 0), ==, "a");
        g_assert_false(hd_db_column_is_null(st, 0));
        g_assert_cmpint(hd_db_column_int64(st, 1), ==, G_GINT64_CONSTANT(5000000000));
        /* an integer reads as its digits */
        g_assert_cmpstr(hd_db_column_text(st, 1), ==, "5000000000");
        /* NULL: a NULL text, 0 as an integer, told apart */
        g_assert_null(hd_db_column_text(st, 2));
        g_assert_true(hd_db_column_is_null(st, 2));
        g_assert_cmpint(hd_db_column_int64(st, 2), ==, 0);
        /* booleans are 0 / 1 */
        g_assert_cmpint(hd_db_column_int64(st, 3), ==, 1);
        g_assert_cmpint(hd_db_column_int64(st, 4), ==, 0);
        g_assert_cmpint(hd_db_column_int64(st, 5), ==, 1);
        g_assert_true(hd_db_column_is_null(st, 6));
        g_assert_cmpint(hd_db_step(st), ==, HD_DB_DONE);
        /* a step after DONE runs it again */
        g_assert_cmpint(hd_db_step(st), ==, HD_DB_ROW);
}

static void test_parameters(Fixture *f, gconstpointer data)
{
        g_autoptr(HdDbStmt) named = NULL;
        g_autoptr(HdDbStmt) numbered = NULL;
        g_autoptr(HdDbStmt) commented = NULL;

        (void)data;
        insert(f->db, "a", 1, "one");
        insert(f->db, "b", 2, NULL);
        insert(f->db, "c", 3, "three");
        /* the same name twice is one parameter; a name the statement lacks is 0 (the CAST:
         * PostgreSQL cannot type a parameter that is only tested for NULL) */
        named = hd_db_prepare(f->db, "SELECT COUNT(*) FROM t WHERE"
                                     " (CAST(:note AS TEXT) IS NULL OR note = :note) AND n >= :min");
        g_assert_cmpint(hd_db_param_index(named, ":note"), ==, 1);
        g_assert_cmpint(hd_db_param_index(named, ":min"), ==, 2);
        g_assert_cmpint(hd_db_param_index(named, ":absent"), ==, 0);
        hd_db_bind_null(named, hd_db_param_index(named, ":note"));
        hd_db_bind_int64(named, hd_db_param_index(named, ":min"), 2);
        g_assert_cmpint(hd_db_step(named), ==, HD_DB_ROW);
        g_assert_cmpint(hd_db_column_int64(named, 0), ==, 2);
        hd_db_reset(named);
        hd_db_bind_text(named, hd_db_param_index(named, ":note"), "three");
        g_assert_cmpint(hd_db_step(named), ==, HD_DB_ROW);
        g_assert_cmpint(hd_db_column_int64(named, 0), ==, 1);
        /* ?N: out of order and repeated */
        numbered = hd_db_prepare(f->db, "SELECT id FROM t WHERE n = ?2 OR id = ?1 OR n = ?2"
                                        " ORDER BY id");
        hd_db_bind_text(numbered, 1, "a");
        hd_db_bind_int64(numbered, 2, 3);
        g_assert_cmpint(hd_db_step(numbered), ==, HD_DB_ROW);
        g_assert_cmpstr(hd_db_column_text(numbered, 0), ==, "a");
        g_assert_cmpint(hd_db_step(numbered), ==, HD_DB_ROW);
        g_assert_cmpstr(hd_db_column_text(numbered, 0), ==, "c");
        g_assert_cmpint(hd_db_step(numbered), ==, HD_DB_DONE);
        /* a quote, a ? and a :name in a comment are no SQL, nor a ? or :name in a string */
        commented = hd_db_prepare(f->db, "SELECT COUNT(*) FROM t WHERE n >= ? -- the note's ?\n"
                                         " AND id <> :skip /* :other's */ AND id <> '?:x'");
        g_assert_nonnull(commented);
        g_assert_cmpint(hd_db_param_index(commented, ":skip"), ==, 2);
        g_assert_cmpint(hd_db_param_index(commented, ":other"), ==, 0);
        g_assert_cmpint(hd_db_param_index(commented, ":x"), ==, 0);
        hd_db_bind_int64(commented, 1, 2);
        hd_db_bind_text(commented, 2, "b");
        g_assert_cmpint(hd_db_step(commented), ==, HD_DB_ROW);
        g_assert_cmpint(hd_db_column_int64(commented, 0), ==, 1);
}

static void test_transactions(Fixture *f, gconstpointer data)
{
        g_autoptr(HdDb) other = NULL;

        (void)data;
        g_assert_true(hd_db_begin(f->db));
        insert(f->db, "a", 1, NULL);
        g_assert_true(hd_db_rollback(f->db));
        g_assert_cmpint(count(f->db), ==, 0);
        g_assert_true(hd_db_begin(f->db));
        insert(f->db, "a", 1, NULL);
        g_assert_true(hd_db_commit(f->db));
        g_assert_cmpint(count(f->db), ==, 1);
        /* one writer at a time: a second connection's begin waits, then fails while the first
         * holds the transaction (SQLite: its busy timeout, 5 s; PostgreSQL waits on the
         * advisory lock for ever, so the test bounds that wait with lock_timeout) */
        other = open_db(f);
        if (f->driver == DRIVER_PG)
                g_assert_true(hd_db_exec(other, "SET lock_timeout = '200ms'"));
        g_assert_true(hd_db_begin(f->db));
        g_assert_false(hd_db_begin(other));
        /* the failed begin left no transaction behind */
        g_assert_false(hd_db_rollback(other));
        /* the holder's writes go on meanwhile */
        insert(f->db, "b", 2, NULL);
        g_assert_true(hd_db_rollback(f->db));
        g_assert_true(hd_db_begin(other));
        g_assert_true(hd_db_commit(other));
        /* commit without a transaction is an error; so is a begin inside one */
        g_assert_false(hd_db_commit(f->db));
        g_assert_true(hd_db_begin(f->db));
        g_assert_false(hd_db_begin(f->db));
        g_assert_true(hd_db_rollback(f->db));
}

/* A failed statement in a transaction (a constraint) leaves it usable, as on SQLite: the
 * store reports the conflict and goes on or rolls back as it chooses. */
static void test_constraint_in_transaction(Fixture *f, gconstpointer data)
{
        g_autoptr(HdDbStmt) dup = NULL;

        (void)data;
        insert(f->db, "a", 1, NULL);
        g_assert_true(hd_db_begin(f->db));
        insert(f->db, "b", 2, NULL);
        dup = hd_db_prepare(f->db, "INSERT INTO t (id, n) VALUES (?, ?)");
        hd_db_bind_text(dup, 1, "a");
        hd_db_bind_int64(dup, 2, 3);
        g_assert_cmpint(hd_db_step(dup), ==, HD_DB_CONSTRAINT);
        insert(f->db, "c", 3, NULL);
        g_assert_true(hd_db_commit(f->db));
        g_assert_cmpint(count(f->db), ==, 3);
}

static void add_tests(const char *driver, Driver d)
{
        static const struct {
                const char *name;
                void (*fn)(Fixture *f, gconstpointer data);
        } tests[] = {
                { "constraint", test_constraint },
                { "changes", test_changes },
                { "columns", test_columns },
                { "parameters", test_parameters },
                { "transactions", test_transactions },
                { "constraint-in-transaction", test_constraint_in_transaction },
        };

        for (size_t k = 0; k < G_N_ELEMENTS(tests); k++) {
                g_autofree char *path = g_strdup_printf("/engine-db/%s/%s", driver, tests[k].name);

                g_test_add(path, Fixture, GINT_TO_POINTER(d), fixture_set_up, tests[k].fn,
                           fixture_tear_down);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        add_tests("sqlite", DRIVER_SQLITE);
        if (g_getenv("HOSTDEV_TEST_PG")) {
#ifdef HAVE_LIBPQ
                add_tests("postgresql", DRIVER_PG);
#else
                g_printerr("HOSTDEV_TEST_PG is set but this build has no libpq\n");
                return 1;
#endif
        }
        return g_test_run();
}
