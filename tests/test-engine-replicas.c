/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two engine replicas on one database (store.h rule 3, src/engine/sync.c lease()): one agent
 * host is synced by one replica at a time, the holder of its row in host_leases, which it
 * renews on each cycle while the other replica waits; once the holder stops, the other takes
 * the host over when the lease expired. Every wait is bounded and on state (the lease row, the
 * host's status through the API), never on time. Run on PostgreSQL by the meson test
 * test-engine-replicas-pg (tests/with-postgres.py); on SQLite (no HOSTDEV_TEST_PG) both
 * engines share the file instead.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "db.h"
#include "engine-testlib.h"

typedef struct {
        char *owner;
        char *expires_at;
} Lease;

/* The host's lease row, read on a connection of the test's own. */
static Lease lease_of(const char *dir, const char *host)
{
        const char *option = NULL;
        g_autofree char *db_name = hd_et_engine_db(dir, &option);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdDb) db = NULL;
        g_autoptr(HdDbStmt) st = NULL;
        Lease l = {NULL, NULL};

        if (strcmp(option, "--database") == 0) {
#ifdef HAVE_LIBPQ
                db = hd_db_open_pg(db_name, &error);
#else
                g_error("HOSTDEV_TEST_PG is set but this build has no libpq");
#endif
        } else {
                db = hd_db_open_sqlite(db_name, &error);
        }
        g_assert_no_error(error);
        st = hd_db_prepare(db, "SELECT owner, expires_at FROM host_leases WHERE host_id = ?");
        g_assert_nonnull(st);
        hd_db_bind_text(st, 1, host);
        if (hd_db_step(st) == HD_DB_ROW) {
                l.owner = g_strdup(hd_db_column_text(st, 0));
                l.expires_at = g_strdup(hd_db_column_text(st, 1));
        }
        return l;
}

static void lease_clear(Lease *l)
{
        g_clear_pointer(&l->owner, g_free);
        g_clear_pointer(&l->expires_at, g_free);
}

/* Wait (bounded) until the lease is @owner's and expires after @after (NULL: any). */
static Lease await_lease(const char *dir, const char *host, const char *owner, const char *after)
{
        /* 3,000 x 50 ms: beyond two lease lifetimes of --poll-wait 5 (40 s each) */
        for (guint i = 0; i < 3000; i++) {
                Lease l = lease_of(dir, host);

                if (g_strcmp0(l.owner, owner) == 0 &&
                    (!after || g_strcmp0(l.expires_at, after) > 0))
                        return l;
                lease_clear(&l);
                g_usleep(50000);
        }
        g_error("the lease of host %s never became %s's (after %s)", host, owner,
                after ? after : "-");
}

static void test_one_syncs_then_the_other(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-two-gpus");
        HdEtProc *agent = hd_et_agent_start(fx, "127.0.0.1:0");
        g_autofree char *agent_token = hd_et_agent_token(fx);
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        HdEtProc *a = hd_et_engine_start_replica(dir, "a");
        HdEtProc *b = NULL;
        g_autofree char *host = NULL;
        Lease first, renewed, taken;

        /* a syncs the host it was given */
        host = hd_et_add_host(a->url, admin, "node1", agent->url, agent_token);
        hd_et_await_status(a->url, viewer, host, "up");
        first = await_lease(dir, host, "a", NULL);
        /* b starts on the same database: it sees the host (one truth), but a keeps the lease
         * and renews it on its next cycle while b runs */
        b = hd_et_engine_start_replica(dir, "b");
        hd_et_await_status(b->url, viewer, host, "up");
        renewed = await_lease(dir, host, "a", first.expires_at);
        g_assert_true(hd_et_has_event(b->url, viewer, "engine.start", "ok"));
        /* a stops: b takes the host over once a's lease expired, and keeps it up */
        hd_et_proc_stop(a, SIGTERM);
        taken = await_lease(dir, host, "b", renewed.expires_at);
        hd_et_await_status(b->url, viewer, host, "up");
        lease_clear(&first);
        lease_clear(&renewed);
        lease_clear(&taken);
        hd_et_proc_stop(b, SIGTERM);
        hd_et_proc_stop(agent, SIGTERM);
        hd_et_rm_rf(dir);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine-replicas/one-syncs-then-the-other",
                        test_one_syncs_then_the_other);
        return hd_et_run();
}
