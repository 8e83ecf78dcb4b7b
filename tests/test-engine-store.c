/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's SQLite store (src/engine/store.h) in-process: the file's mode, migrations and
 * schema_version, a schema newer than the binary refused, the inventory diff in one
 * transaction, hosts' filters and pagination, tokens, events and sync leases.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"

static char *tmp_db(char **dir)
{
        g_autoptr(GError) error = NULL;

        *dir = g_dir_make_tmp("engine-store-XXXXXX", &error);
        g_assert_no_error(error);
        /* a directory that does not exist yet: the store makes it 0700 */
        return g_build_filename(*dir, "sub", "engine.db", NULL);
}

static void cleanup(const char *dir)
{
        g_autofree char *sub = g_build_filename(dir, "sub", NULL);
        g_autoptr(GDir) d = g_dir_open(sub, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(sub, name, NULL);
                g_unlink(p);
        }
        g_rmdir(sub);
        g_rmdir(dir);
}

static HdInvItem *item(const char *addr, const char *driver)
{
        HdInvItem *it = g_new0(HdInvItem, 1);

        it->key = g_strdup(addr);
        it->driver = g_strdup(driver);
        it->vendor_id = g_strdup("10de");
        it->device_id = g_strdup("1b80");
        it->iommu_group = 1;
        it->data = g_strdup_printf("{\"address\":\"%s\",\"driver\":\"%s\"}", addr, driver);
        return it;
}

static void test_open_migrate(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autofree char *sub = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;
        struct stat st;
        sqlite3 *db = NULL;

        {
                g_autoptr(HdStore) s = hd_store_open_sqlite(path, &error);
                g_assert_no_error(error);
                g_assert_cmpuint(hd_store_schema_version(s), ==, 2);
        }
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        g_assert_cmpint(stat(sub, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0700);
        {
                /* opened again: nothing to migrate, same version */
                g_autoptr(HdStore) s = hd_store_open_sqlite(path, &error);
                g_assert_no_error(error);
                g_assert_cmpuint(hd_store_schema_version(s), ==, 2);
        }
        /* a database from a newer engine is refused, not damaged */
        g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
        g_assert_cmpint(
            sqlite3_exec(db, "INSERT INTO schema_version VALUES (99)", NULL, NULL, NULL), ==,
            SQLITE_OK);
        sqlite3_close(db);
        {
                g_autoptr(HdStore) s = hd_store_open_sqlite(path, &error);
                g_assert_null(s);
                g_assert_nonnull(strstr(error->message, "newer"));
        }
        cleanup(dir);
}

static void test_hosts_inventory(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(path, &error);
        g_autofree char *id = NULL;
        g_autofree char *id2 = NULL;
        g_autoptr(GPtrArray) items =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_inv_item_free);
        g_autoptr(GPtrArray) list = NULL;
        g_autoptr(HdHost) h = NULL;
        HdInvDiff diff;
        guint total = 0;

        g_assert_no_error(error);
        g_assert_true(hd_store_host_add(s, "n1", "http://a:1", "secret", NULL, NULL, &id, &error));
        g_assert_false(hd_store_host_add(s, "n1", "http://b:1", "x", NULL, NULL, &id2, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_clear_error(&error);
        g_assert_true(hd_store_host_add(s, "n_2", "http://b:1", "x", NULL, NULL, &id2, &error));

        /* first sync: three new */
        g_ptr_array_add(items, item("0000:01:00.0", "nouveau"));
        g_ptr_array_add(items, item("0000:01:00.1", "snd_hda_intel"));
        g_ptr_array_add(items, item("0000:02:00.0", "nvme"));
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"b-1\"", items, &diff, &error));
        g_assert_cmpuint(diff.inserted, ==, 3);
        g_assert_cmpuint(diff.updated + diff.deleted, ==, 0);
        /* one changes driver, one vanishes, one stays: one update, one delete */
        g_ptr_array_remove_index(items, 2);
        hd_inv_item_free(items->pdata[0]);
        items->pdata[0] = item("0000:01:00.0", "vfio-pci");
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"b-2\"", items, &diff, &error));
        g_assert_cmpuint(diff.inserted, ==, 0);
        g_assert_cmpuint(diff.updated, ==, 1);
        g_assert_cmpuint(diff.deleted, ==, 1);
        h = hd_store_host_get(s, id, &error);
        g_assert_cmpuint(h->device_count, ==, 2);
        g_assert_cmpstr(h->devices_etag, ==, "\"b-2\"");
        g_assert_nonnull(h->last_sync);
        list = hd_store_inventory_list(s, id, HD_INV_DEVICES, "vfio-pci", &error);
        g_assert_cmpuint(list->len, ==, 1);
        g_assert_nonnull(strstr(list->pdata[0], "0000:01:00.0"));
        g_clear_pointer(&list, g_ptr_array_unref);
        /* an unknown host: NOT_FOUND, nothing written */
        g_assert_false(
            hd_store_inventory_apply(s, "nope", HD_INV_DEVICES, NULL, items, &diff, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* filters: "_" in a prefix is literal */
        {
                HdHostFilter f = {.name_prefix = "n_", .passthrough = -1, .limit = 10};
                g_autoptr(GPtrArray) hosts = hd_store_hosts_list(s, &f, &total, &error);
                g_assert_cmpuint(total, ==, 1);
                g_assert_cmpstr(((HdHost *)hosts->pdata[0])->name, ==, "n_2");
        }
        g_assert_true(
            hd_store_host_set_status(s, id2, HD_HOST_NON_RESPONSIVE, "refused", 4, &error));
        {
                HdHostFilter f = {.status = "non_responsive", .passthrough = -1, .limit = 10};
                g_autoptr(GPtrArray) hosts = hd_store_hosts_list(s, &f, &total, &error);
                g_assert_cmpuint(total, ==, 1);
                g_assert_cmpstr(((HdHost *)hosts->pdata[0])->last_error, ==, "refused");
                g_assert_cmpuint(((HdHost *)hosts->pdata[0])->retry_seconds, ==, 4);
        }
        /* the secret is only read by its own call */
        {
                g_autofree char *secret = hd_store_host_get_secret(s, id, &error);
                g_assert_cmpstr(secret, ==, "secret");
        }
        /* edit: "" clears, NULL keeps; a connection field puts it back to connecting */
        g_assert_true(hd_store_host_edit(s, id2, NULL, NULL, NULL, "/ca.pem", NULL, &error));
        {
                g_autoptr(HdHost) h2 = hd_store_host_get(s, id2, &error);
                g_assert_cmpstr(h2->tls_ca_file, ==, "/ca.pem");
                g_assert_cmpint(h2->status, ==, HD_HOST_CONNECTING);
        }
        g_assert_true(hd_store_host_edit(s, id2, NULL, NULL, NULL, "", NULL, &error));
        {
                g_autoptr(HdHost) h2 = hd_store_host_get(s, id2, &error);
                g_assert_null(h2->tls_ca_file);
                g_assert_cmpstr(h2->name, ==, "n_2");
        }
        /* remove: the inventory and the lease go with the host */
        g_assert_true(hd_store_lease_claim(s, id, "me", 60, &error));
        g_assert_true(hd_store_host_remove(s, id, &error));
        g_assert_no_error(error);
        g_assert_null(hd_store_inventory_list(s, id, HD_INV_DEVICES, NULL, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(hd_store_host_remove(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_clear_pointer(&s, hd_store_free);
        {
                /* nothing is left behind in the child tables (foreign keys on) */
                sqlite3 *db = NULL;
                sqlite3_stmt *st = NULL;
                g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
                g_assert_cmpint(sqlite3_prepare_v2(db,
                                                   "SELECT (SELECT COUNT(*) FROM devices) + "
                                                   "(SELECT COUNT(*) FROM host_leases)",
                                                   -1, &st, NULL),
                                ==, SQLITE_OK);
                g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
                g_assert_cmpint(sqlite3_column_int(st, 0), ==, 0);
                sqlite3_finalize(st);
                sqlite3_close(db);
        }
        cleanup(dir);
}

static void test_tokens_events_leases(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(path, &error);
        g_autofree char *id = NULL;
        g_autoptr(GPtrArray) events = NULL;

        g_assert_true(hd_store_token_add(s, "ops", "admin", "aa", &error));
        g_assert_false(hd_store_token_add(s, "ops", "viewer", "bb", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_clear_error(&error);
        /* the CHECK constraint holds a role the code did not validate */
        g_assert_false(hd_store_token_add(s, "x", "root", "cc", &error));
        g_clear_error(&error);
        {
                g_autoptr(HdToken) t = hd_store_token_find(s, "aa", &error);
                g_assert_cmpstr(t->name, ==, "ops");
                g_assert_cmpstr(t->role, ==, "admin");
        }
        g_assert_null(hd_store_token_find(s, "a", &error));
        g_assert_no_error(error);
        g_assert_null(hd_store_token_find(s, "aaa", &error));
        g_assert_true(hd_store_token_revoke(s, "ops", &error));
        g_assert_null(hd_store_token_find(s, "aa", &error));
        g_assert_false(hd_store_token_revoke(s, "ops", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);

        for (guint i = 0; i < 5; i++)
                g_assert_cmpint(hd_store_event_add(s, "ops", "host.add", "h", "ok", "m", &error),
                                ==, i + 1);
        events = hd_store_events_list(s, 2, 2, &error);
        g_assert_cmpuint(events->len, ==, 2);
        g_assert_cmpint(((HdEvent *)events->pdata[0])->id, ==, 3);
        g_assert_cmpint(((HdEvent *)events->pdata[1])->id, ==, 4);

        /* a lease is one owner's until it expires */
        g_assert_true(hd_store_host_add(s, "n1", "http://a:1", "t", NULL, NULL, &id, &error));
        g_assert_true(hd_store_lease_claim(s, id, "replica-a", 60, &error));
        g_assert_true(hd_store_lease_claim(s, id, "replica-a", 60, &error)); /* renewed */
        g_assert_false(hd_store_lease_claim(s, id, "replica-b", 60, &error));
        g_assert_no_error(error);
        g_assert_true(hd_store_lease_claim(s, id, "replica-a", 0, &error)); /* expires now */
        g_usleep(2000);
        g_assert_true(hd_store_lease_claim(s, id, "replica-b", 60, &error));
        g_assert_false(hd_store_lease_claim(s, id, "replica-a", 60, &error));
        cleanup(dir);
}

/* The portal's sessions: found while live, gone when expired, logged out or revoked. */
static void test_sessions(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(path, &error);
        g_autofree char *expires = NULL;
        HdToken *t;

        g_assert_no_error(error);
        g_assert_true(hd_store_token_add(s, "alice", "admin", "h-alice", &error));
        g_assert_true(hd_store_token_add(s, "victor", "viewer", "h-victor", &error));
        g_assert_true(hd_store_session_add(s, "s1", "alice", 3600, &expires, &error));
        g_assert_no_error(error);
        g_assert_nonnull(expires);
        g_assert_true(hd_store_session_add(s, "s2", "victor", 3600, NULL, &error));
        /* ttl 0: expired the moment it is written */
        g_assert_true(hd_store_session_add(s, "s0", "alice", 0, NULL, &error));
        t = hd_store_session_find(s, "s1", NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(t);
        g_assert_cmpstr(t->name, ==, "alice");
        g_assert_cmpstr(t->role, ==, "admin");
        hd_token_free(t);
        g_assert_null(hd_store_session_find(s, "s0", NULL, &error));
        g_assert_no_error(error);
        g_assert_null(hd_store_session_find(s, "nope", NULL, &error));
        g_assert_no_error(error);
        /* a session for no token is refused */
        g_assert_false(hd_store_session_add(s, "s3", "nobody", 3600, NULL, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_assert_nonnull(strstr(error->message, "nobody"));
        g_clear_error(&error);
        /* logout */
        g_assert_true(hd_store_session_remove(s, "s1", &error));
        g_assert_null(hd_store_session_find(s, "s1", NULL, &error));
        g_assert_true(hd_store_session_remove(s, "s1", &error)); /* twice: no error */
        /* revoking the token ends its sessions */
        t = hd_store_session_find(s, "s2", NULL, &error);
        g_assert_nonnull(t);
        hd_token_free(t);
        g_assert_true(hd_store_token_revoke(s, "victor", &error));
        g_assert_null(hd_store_session_find(s, "s2", NULL, &error));
        g_assert_no_error(error);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/engine-store/open-migrate", test_open_migrate);
        g_test_add_func("/engine-store/hosts-inventory", test_hosts_inventory);
        g_test_add_func("/engine-store/tokens-events-leases", test_tokens_events_leases);
        g_test_add_func("/engine-store/sessions", test_sessions);
        return g_test_run();
}
