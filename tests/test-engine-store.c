/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's store (src/engine/store.h) in-process: the file's mode, migrations and
 * schema_version, a schema newer than the binary refused, engines opening one database at once
 * applying each migration once, the inventory diff in one transaction, hosts' filters and
 * pagination, tokens, events and sync leases. On SQLite; with HOSTDEV_TEST_PG (a libpq keyword
 * string, tests/with-postgres.py: the meson test test-engine-store-pg) every store is a fresh
 * PostgreSQL database instead (the SQLite file's mode is then not checked).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "store.h"

static gboolean on_pg(void)
{
        const char *pg = g_getenv("HOSTDEV_TEST_PG");

        return pg && *pg;
}

/* PostgreSQL: the fresh database standing for the file @path, created on first use. */
static char *pg_conninfo(const char *path)
{
        static GMutex lock;
        static GHashTable *dbs;
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&lock);
        const char *pg = g_getenv("HOSTDEV_TEST_PG");
        const char *known;
        g_autoptr(GError) error = NULL;
        g_autoptr(HdDb) admin = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *name = NULL;
        g_autofree char *sql = NULL;
        char *conninfo;

#ifndef HAVE_LIBPQ
        g_error("HOSTDEV_TEST_PG is set but this build has no libpq");
#endif
        if (!dbs)
                dbs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        known = g_hash_table_lookup(dbs, path);
        if (known)
                return g_strdup(known);
        uuid = g_uuid_string_random();
        name = g_strdelimit(g_strdup_printf("hd_store_%s", uuid), "-", '_');
        sql = g_strdup_printf("CREATE DATABASE %s", name);
#ifdef HAVE_LIBPQ
        admin = hd_db_open_pg(pg, &error);
#endif
        g_assert_no_error(error);
        g_assert_true(hd_db_exec(admin, sql));
        /* a later dbname= wins in a keyword string */
        conninfo = g_strdup_printf("%s dbname=%s", pg, name);
        g_hash_table_insert(dbs, g_strdup(path), g_strdup(conninfo));
        return conninfo;
}

/* The store on @path: the SQLite file, or its PostgreSQL database. */
static HdStore *open_store(const char *path, GError **error)
{
        if (on_pg()) {
                g_autofree char *conninfo = pg_conninfo(path);

                return hd_store_open_pg(conninfo, error);
        }
        return hd_store_open_sqlite(path, error);
}

/* A connection of the test's own to the store's database, for what the store does not say. */
static HdDb *open_db(const char *path)
{
        g_autoptr(GError) error = NULL;
        HdDb *db;

        if (on_pg()) {
                g_autofree char *conninfo = pg_conninfo(path);

#ifdef HAVE_LIBPQ
                db = hd_db_open_pg(conninfo, &error);
#else
                db = NULL;
#endif
        } else {
                db = hd_db_open_sqlite(path, &error);
        }
        g_assert_no_error(error);
        return db;
}

static gint64 query_int(const char *path, const char *sql)
{
        g_autoptr(HdDb) db = open_db(path);
        g_autoptr(HdDbStmt) st = hd_db_prepare(db, sql);

        g_assert_nonnull(st);
        g_assert_cmpint(hd_db_step(st), ==, HD_DB_ROW);
        return hd_db_column_int64(st, 0);
}

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
        guint version;

        {
                /* every migration applied: 2 (VMs) is the newest this test knows */
                g_autoptr(HdStore) s = open_store(path, &error);
                g_assert_no_error(error);
                version = hd_store_schema_version(s);
                g_assert_cmpuint(version, >=, 2);
        }
        if (!on_pg()) {
                g_assert_cmpint(stat(path, &st), ==, 0);
                g_assert_cmpint(st.st_mode & 0777, ==, 0600);
                g_assert_cmpint(stat(sub, &st), ==, 0);
                g_assert_cmpint(st.st_mode & 0777, ==, 0700);
        }
        {
                /* opened again: nothing to migrate, same version */
                g_autoptr(HdStore) s = open_store(path, &error);
                g_assert_no_error(error);
                g_assert_cmpuint(hd_store_schema_version(s), ==, version);
        }
        /* a database from a newer engine is refused, not damaged */
        {
                g_autoptr(HdDb) db = open_db(path);
                g_assert_true(hd_db_exec(db, "INSERT INTO schema_version VALUES (99)"));
        }
        {
                g_autoptr(HdStore) s = open_store(path, &error);
                g_assert_null(s);
                g_assert_nonnull(strstr(error->message, "newer"));
        }
        cleanup(dir);
}

/* Engines starting at once on one database (replicas on PostgreSQL): every open succeeds and
 * each migration is applied once (migrate() reads the version under the one-writer lock). */
static gpointer open_one(gpointer data)
{
        g_autoptr(GError) error = NULL;
        HdStore *s = open_store(data, &error);

        g_assert_no_error(error);
        return s;
}

static void test_open_concurrent(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        GThread *threads[4];
        guint version = 0;

        if (!on_pg()) {
                /* SQLite: the file and its WAL mode first (a journal mode change takes the
                 * database alone); the migrations are what races */
                g_autoptr(HdDb) db = open_db(path);
        } else {
                g_free(pg_conninfo(path));
        }
        for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
                threads[i] = g_thread_new("open", open_one, path);
        for (guint i = 0; i < G_N_ELEMENTS(threads); i++) {
                HdStore *s = g_thread_join(threads[i]);

                g_assert_nonnull(s);
                if (i > 0)
                        g_assert_cmpuint(hd_store_schema_version(s), ==, version);
                version = hd_store_schema_version(s);
                hd_store_free(s);
        }
        g_assert_cmpuint(version, >=, 2);
        g_assert_cmpint(query_int(path, "SELECT COUNT(*) FROM schema_version"), ==, version);
        g_assert_cmpint(query_int(path, "SELECT COUNT(DISTINCT version) FROM schema_version"), ==,
                        version);
        cleanup(dir);
}

static void test_hosts_inventory(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
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
        {
                HdDeviceFilter f = {.driver = "vfio-pci", .iommu_group = -1, .limit = 10};
                list = hd_store_devices_list(s, id, &f, &total, &error);
                g_assert_cmpuint(total, ==, 1);
                g_assert_cmpuint(list->len, ==, 1);
                g_assert_nonnull(strstr(list->pdata[0], "0000:01:00.0"));
                g_clear_pointer(&list, g_ptr_array_unref);
        }
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
        g_assert_null(hd_store_groups_list(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(hd_store_host_remove(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_clear_pointer(&s, hd_store_free);
        {
                /* nothing is left behind in the child tables (foreign keys on) */
                g_assert_cmpint(query_int(path, "SELECT (SELECT COUNT(*) FROM devices) + "
                                                "(SELECT COUNT(*) FROM host_leases)"),
                                ==, 0);
        }
        cleanup(dir);
}

static void test_tokens_events_leases(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
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

/* ---- VMs (store-sql-vms.c) ---- */

/* A device as the agent describes it: @group < 0 none; @why: assignable_reason (NULL:
 * assignable). */
static HdInvItem *vm_item(const char *addr, const char *ids, gint64 group, gboolean bridge,
                          const char *why)
{
        HdInvItem *it = g_new0(HdInvItem, 1);
        g_auto(GStrv) vd = g_strsplit(ids, ":", 2);

        it->key = g_strdup(addr);
        it->vendor_id = g_strdup(vd[0]);
        it->device_id = g_strdup(vd[1]);
        it->iommu_group = group;
        it->data = g_strdup_printf(
            "{\"address\":\"%s\",\"vendor_id\":\"%s\",\"device_id\":\"%s\",\"is_bridge\":%s,"
            "\"assignable\":%s,\"assignable_reason\":%s%s%s}",
            addr, vd[0], vd[1], bridge ? "true" : "false", why ? "false" : "true", why ? "\"" : "",
            why ? why : "null", why ? "\"" : "");
        return it;
}

/* The desktop seed's shape: group 1 = root port (bridge) + GPU + HDMI audio. */
static GPtrArray *vm_inventory(const char *gpu_ids)
{
        GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)hd_inv_item_free);

        g_ptr_array_add(items, vm_item("0000:00:00.0", "8086:3e30", 0, FALSE, "host bridge"));
        g_ptr_array_add(items, vm_item("0000:00:01.0", "8086:1901", 1, TRUE, "bridge"));
        g_ptr_array_add(items, vm_item("0000:01:00.0", gpu_ids, 1, FALSE, NULL));
        g_ptr_array_add(items, vm_item("0000:01:00.1", "10de:10f0", 1, FALSE, NULL));
        g_ptr_array_add(items, vm_item("0000:02:00.0", "144d:a808", 7, FALSE,
                                       "the host uses it: /dev/nvme0n1p2 on /"));
        g_ptr_array_add(items, vm_item("0000:00:14.0", "8086:a36d", 3, FALSE, NULL));
        g_ptr_array_add(items, vm_item("0000:05:00.0", "1af4:1000", -1, FALSE, NULL));
        return items;
}

static void assert_refused(GError **error, const char *needle)
{
        g_assert_error(*error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED);
        if (!strstr((*error)->message, needle))
                g_error("\"%s\" not in \"%s\"", needle, (*error)->message);
        g_clear_error(error);
}

/* The VM's row of @addr: 1 requested, 0 placeholder, -1 none. */
static int vm_role(HdStore *s, const char *vm_id, const char *addr)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVm) vm = hd_store_vm_get(s, vm_id, &error);

        g_assert_no_error(error);
        for (guint i = 0; i < vm->devices->len; i++) {
                const HdVmDevice *d = vm->devices->pdata[i];
                if (strcmp(d->address, addr) == 0)
                        return d->requested ? 1 : 0;
        }
        return -1;
}

static void make_host_ready(HdStore *s, const char *id, const char *gpu_ids)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = vm_inventory(gpu_ids);
        HdHostFacts f = {.passthrough = 1, .passthrough_reason = "every check passes"};
        HdInvDiff diff;

        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"e\"", items, &diff, &error));
        g_assert_true(hd_store_host_set_facts(s, id, &f, &error));
        g_assert_true(hd_store_host_set_status(s, id, HD_HOST_UP, NULL, 0, &error));
        g_assert_no_error(error);
}

static void test_vms(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autofree char *h1 = NULL, *h2 = NULL, *vm = NULL, *vm2 = NULL, *x = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_autoptr(GPtrArray) users = NULL;
        const char *gpu[] = {"0000:01:00.0", NULL};
        const char *audio[] = {"0000:01:00.1", NULL};
        HdVmFilter f = {.limit = 100};
        guint total = 0;

        g_assert_no_error(error);
        g_assert_true(hd_store_host_add(s, "h1", "http://a:1", "t", NULL, NULL, &h1, &error));
        g_assert_true(hd_store_host_add(s, "h2", "http://b:1", "t", NULL, NULL, &h2, &error));
        make_host_ready(s, h1, "10de:1b80");
        make_host_ready(s, h2, "10de:1b80");
        /* create, name taken, edit, list with filters */
        g_assert_true(hd_store_vm_add(s, "win10", 4096, 4, &vm, &error));
        g_assert_true(hd_store_vm_add(s, "linux", 2048, 2, &vm2, &error));
        g_assert_false(hd_store_vm_add(s, "win10", 1, 1, &x, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_clear_error(&error);
        g_assert_false(hd_store_vm_edit(s, vm2, "win10", 0, 0, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_clear_error(&error);
        g_assert_true(hd_store_vm_edit(s, vm2, NULL, 3072, 0, &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm2, &error);
                g_assert_cmpint(v->memory_mib, ==, 3072);
                g_assert_cmpuint(v->vcpus, ==, 2);
                g_assert_null(v->host_id);
                g_assert_cmpint(v->state, ==, HD_VM_DOWN);
        }
        g_assert_null(hd_store_vm_get(s, "nope", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* refusals of adding devices, each with its reason */
        g_assert_false(
            hd_store_vm_devices_add(s, vm, h1, (const char *[]){"0000:00:01.0", NULL}, &error));
        assert_refused(&error, "is a bridge");
        g_assert_false(
            hd_store_vm_devices_add(s, vm, h1, (const char *[]){"0000:00:00.0", NULL}, &error));
        assert_refused(&error, "is a host bridge");
        g_assert_false(
            hd_store_vm_devices_add(s, vm, h1, (const char *[]){"0000:02:00.0", NULL}, &error));
        assert_refused(&error, "the host uses it");
        g_assert_false(
            hd_store_vm_devices_add(s, vm, h1, (const char *[]){"0000:05:00.0", NULL}, &error));
        assert_refused(&error, "has no IOMMU group");
        g_assert_false(
            hd_store_vm_devices_add(s, vm, h1, (const char *[]){"0000:09:00.0", NULL}, &error));
        assert_refused(&error, "does not list 0000:09:00.0");
        /* a refused list adds nothing (one transaction) */
        g_assert_false(hd_store_vm_devices_add(
            s, vm, h1, (const char *[]){"0000:01:00.0", "0000:00:01.0", NULL}, &error));
        assert_refused(&error, "is a bridge");
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.0"), ==, -1);

        /* the GPU: requested, its audio a placeholder, the bridge never; pinned to h1 */
        g_assert_true(hd_store_vm_devices_add(s, vm, h1, gpu, &error));
        g_assert_no_error(error);
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.0"), ==, 1);
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.1"), ==, 0);
        g_assert_cmpint(vm_role(s, vm, "0000:00:01.0"), ==, -1);
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                g_assert_cmpstr(v->host_id, ==, h1);
                g_assert_cmpstr(v->host_name, ==, "h1");
                g_assert_true(((HdVmDevice *)v->devices->pdata[0])->present);
        }
        users = hd_store_host_users(s, h1, &error);
        g_assert_cmpuint(users->len, ==, 1);
        g_assert_false(hd_store_host_remove(s, h1, &error));
        assert_refused(&error, "win10");
        /* pinned elsewhere */
        g_assert_false(hd_store_vm_devices_add(s, vm, h2, gpu, &error));
        assert_refused(&error, "is pinned to host h1");
        /* a placeholder cannot be removed; added explicitly it becomes requested */
        g_assert_false(hd_store_vm_device_remove(s, vm, "0000:01:00.1", &error));
        assert_refused(&error, "is a placeholder");
        g_assert_false(hd_store_vm_device_remove(s, vm, "0000:03:00.0", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_true(hd_store_vm_devices_add(s, vm, h1, audio, &error));
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.1"), ==, 1);
        /* removing a requested one while the group keeps another: a placeholder */
        g_assert_true(hd_store_vm_device_remove(s, vm, "0000:01:00.0", &error));
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.0"), ==, 0);
        /* the last requested of the group: the group's rows go, and the pin */
        g_assert_true(hd_store_vm_device_remove(s, vm, "0000:01:00.1", &error));
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.0"), ==, -1);
        g_assert_cmpint(vm_role(s, vm, "0000:01:00.1"), ==, -1);
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                g_assert_null(v->host_id);
                g_assert_cmpuint(v->devices->len, ==, 0);
        }
        /* now free to go to h2, then back */
        g_assert_true(hd_store_vm_devices_add(s, vm, h2, gpu, &error));
        g_assert_true(hd_store_vm_device_remove(s, vm, "0000:01:00.0", &error));
        g_assert_true(hd_store_vm_devices_add(s, vm, h1, gpu, &error));
        g_assert_true(hd_store_vm_devices_add(s, vm2, h1, gpu, &error));
        g_assert_no_error(error);

        /* list: filters and pagination */
        f.host_id = h1;
        list = hd_store_vms_list(s, &f, &total, &error);
        g_assert_cmpuint(total, ==, 2);
        g_assert_cmpstr(((HdVm *)list->pdata[0])->name, ==, "linux");
        g_clear_pointer(&list, g_ptr_array_unref);
        f.host_id = NULL;
        f.name_prefix = "win";
        list = hd_store_vms_list(s, &f, &total, &error);
        g_assert_cmpuint(total, ==, 1);
        g_clear_pointer(&list, g_ptr_array_unref);
        f.name_prefix = NULL;
        f.limit = 1;
        f.offset = 1;
        list = hd_store_vms_list(s, &f, &total, &error);
        g_assert_cmpuint(total, ==, 2);
        g_assert_cmpuint(list->len, ==, 1);
        g_assert_cmpstr(((HdVm *)list->pdata[0])->name, ==, "win10");
        g_clear_pointer(&list, g_ptr_array_unref);

        /* start refusals: host not up, in maintenance, passthrough disabled */
        g_assert_true(hd_store_host_set_status(s, h1, HD_HOST_MAINTENANCE, NULL, 0, &error));
        g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
        assert_refused(&error, "is in maintenance");
        g_assert_true(
            hd_store_host_set_status(s, h1, HD_HOST_NON_RESPONSIVE, "refused", 1, &error));
        g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
        assert_refused(&error, "does not answer");
        g_assert_true(hd_store_host_set_status(s, h1, HD_HOST_CONNECTING, NULL, 0, &error));
        g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
        assert_refused(&error, "still connecting");
        g_assert_true(hd_store_host_set_status(s, h1, HD_HOST_REBOOTING, NULL, 0, &error));
        g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
        assert_refused(&error, "is rebooting");
        g_assert_true(hd_store_host_set_status(s, h1, HD_HOST_UP, NULL, 0, &error));
        {
                HdHostFacts off = {.passthrough = 0, .passthrough_reason = "IOMMU off"};
                HdHostFacts on = {.passthrough = 1, .passthrough_reason = "ok"};
                g_assert_true(hd_store_host_set_facts(s, h1, &off, &error));
                g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
                assert_refused(&error, "passthrough disabled (IOMMU off)");
                g_assert_true(hd_store_host_set_facts(s, h1, &on, &error));
        }
        g_assert_false(hd_store_vm_start_reserve(s, x ? x : "nope", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        {
                g_autofree char *bare = NULL;
                g_assert_true(hd_store_vm_add(s, "bare", 512, 1, &bare, &error));
                g_assert_false(hd_store_vm_start_reserve(s, bare, &error));
                assert_refused(&error, "has no host devices");
        }
        /* reserved: starting; the other VM sharing the group is refused naming it */
        g_assert_true(hd_store_vm_start_reserve(s, vm, &error));
        g_assert_no_error(error);
        g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
        assert_refused(&error, "is starting already");
        g_assert_false(hd_store_vm_start_reserve(s, vm2, &error));
        assert_refused(&error, "0000:01:00.0 (IOMMU group 1) is used by VM win10 on host h1 "
                               "(starting); stop win10 first");
        /* no device change, no delete while not down */
        g_assert_false(hd_store_vm_device_remove(s, vm, "0000:01:00.0", &error));
        assert_refused(&error, "change only while it is down");
        g_assert_false(hd_store_vm_devices_add(s, vm, h1, audio, &error));
        assert_refused(&error, "change only while it is down");
        g_assert_false(hd_store_vm_remove(s, vm, &error));
        assert_refused(&error, "before deleting it");
        g_assert_false(hd_store_host_remove(s, h1, &error));
        assert_refused(&error, "win10");
        {
                g_autoptr(GPtrArray) running = hd_store_host_running_vms(s, h1, &error);
                g_assert_cmpuint(running->len, ==, 1);
        }
        /* transitions: starting -> running -> stopping -> down; wrong ones refused */
        g_assert_false(
            hd_store_vm_set_state(s, vm, HD_VM_MASK(HD_VM_RUNNING), HD_VM_STOPPING, NULL, &error));
        assert_refused(&error, "is starting");
        g_assert_true(
            hd_store_vm_set_state(s, vm, HD_VM_MASK(HD_VM_STARTING), HD_VM_RUNNING, NULL, &error));
        g_assert_false(hd_store_vm_start_reserve(s, vm2, &error));
        assert_refused(&error, "is used by VM win10");
        g_assert_true(
            hd_store_vm_set_state(s, vm, HD_VM_MASK(HD_VM_RUNNING), HD_VM_STOPPING, NULL, &error));
        g_assert_true(
            hd_store_vm_set_state(s, vm, HD_VM_MASK(HD_VM_STOPPING), HD_VM_DOWN, NULL, &error));
        g_assert_true(hd_store_vm_start_reserve(s, vm2, &error));
        g_assert_true(hd_store_vm_set_state(s, vm2, HD_VM_MASK(HD_VM_STARTING), HD_VM_DOWN,
                                            "agent: no", &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm2, &error);
                g_assert_cmpstr(v->last_error, ==, "agent: no");
        }

        /* hardware changed: the GPU's ids change at its address (the inventory apply) */
        {
                g_autoptr(GPtrArray) items = vm_inventory("10de:2204");
                HdInvDiff diff;
                g_autoptr(HdVm) v = NULL;
                g_assert_true(
                    hd_store_inventory_apply(s, h1, HD_INV_DEVICES, "\"f\"", items, &diff, &error));
                v = hd_store_vm_get(s, vm, &error);
                g_assert_nonnull(v->hardware_changed);
                g_assert_nonnull(strstr(v->hardware_changed, "0000:01:00.0 is now 10de:2204"));
                g_assert_false(((HdVmDevice *)v->devices->pdata[0])->present);
        }
        g_assert_false(hd_store_vm_start_reserve(s, vm, &error));
        assert_refused(&error, "hardware changed on host h1");
        {
                /* audited in the apply's transaction */
                g_autoptr(GPtrArray) ev = hd_store_events_list(s, 0, 100, &error);
                gboolean seen = FALSE;
                for (guint i = 0; i < ev->len; i++) {
                        const HdEvent *ev_i = ev->pdata[i];
                        if (strcmp(ev_i->action, "vm.hardware_changed") == 0 &&
                            g_str_has_prefix(ev_i->object, "vm win10 (") &&
                            strstr(ev_i->message, "0000:01:00.0 is now 10de:2204"))
                                seen = TRUE;
                }
                g_assert_true(seen);
        }
        /* the audio function vanishes too: both named */
        {
                g_autoptr(GPtrArray) items = vm_inventory("10de:2204");
                HdInvDiff diff;
                g_autoptr(HdVm) v = NULL;
                g_ptr_array_remove_index(items, 3);
                g_assert_true(
                    hd_store_inventory_apply(s, h1, HD_INV_DEVICES, "\"g\"", items, &diff, &error));
                v = hd_store_vm_get(s, vm, &error);
                g_assert_nonnull(
                    strstr(v->hardware_changed, "0000:01:00.1 is no longer on host h1"));
        }
        /* re-adding the GPU takes its current ids and drops the vanished placeholder: cleared */
        g_assert_true(hd_store_vm_devices_add(s, vm, h1, gpu, &error));
        g_assert_no_error(error);
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                g_assert_null(v->hardware_changed);
                g_assert_cmpuint(v->devices->len, ==, 1);
        }
        /* vm2 still has the old ids: it stays marked until its admin acts; removing it works */
        g_assert_false(hd_store_vm_start_reserve(s, vm2, &error));
        assert_refused(&error, "hardware changed");
        g_assert_true(hd_store_vm_device_remove(s, vm2, "0000:01:00.1", &error));
        g_assert_true(hd_store_vm_device_remove(s, vm2, "0000:01:00.0", &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm2, &error);
                g_assert_null(v->hardware_changed);
                g_assert_null(v->host_id);
        }

        /* reconcile: the agent's view wins (the VM ids are the domain names) */
        g_assert_true(hd_store_vm_start_reserve(s, vm, &error));
        {
                g_autoptr(GHashTable) agent = g_hash_table_new(g_str_hash, g_str_equal);
                g_autoptr(GHashTable) skip = g_hash_table_new(g_str_hash, g_str_equal);
                g_autoptr(GPtrArray) changes = NULL;
                g_hash_table_insert(agent, vm, GINT_TO_POINTER(2));
                g_hash_table_add(skip, vm);
                g_assert_true(hd_store_vm_reconcile(s, h1, agent, skip, &changes, &error));
                g_assert_cmpuint(changes->len, ==, 0); /* in flight: left alone */
                g_clear_pointer(&changes, g_ptr_array_unref);
                g_assert_true(hd_store_vm_reconcile(s, h1, agent, NULL, &changes, &error));
                g_assert_cmpuint(changes->len, ==, 1);
                g_assert_cmpint(((HdVmChange *)changes->pdata[0])->to, ==, HD_VM_RUNNING);
                g_clear_pointer(&changes, g_ptr_array_unref);
                /* it stopped on its own */
                g_hash_table_insert(agent, vm, GINT_TO_POINTER(1));
                g_assert_true(hd_store_vm_reconcile(s, h1, agent, NULL, &changes, &error));
                g_assert_cmpuint(changes->len, ==, 1);
                g_assert_cmpint(((HdVmChange *)changes->pdata[0])->from, ==, HD_VM_RUNNING);
                g_assert_cmpint(((HdVmChange *)changes->pdata[0])->to, ==, HD_VM_DOWN);
        }
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                g_assert_cmpint(v->state, ==, HD_VM_DOWN);
                g_assert_nonnull(strstr(v->last_error, "stopped outside the engine"));
        }
        g_assert_true(hd_store_vm_remove(s, vm, &error));
        g_assert_true(hd_store_host_remove(s, h1, &error));
        g_assert_no_error(error);
        cleanup(dir);
}

/* Two connections on one file, two threads, two VMs sharing one GPU reserved at the same
 * moment: exactly one wins each round. */
typedef struct {
        char *path;
        const char *vm;
        GMutex *lock;
        GCond *cond;
        guint *round;
        guint rounds;
        guint wins;
        guint refusals;
} Racer;

static gpointer racer(gpointer data)
{
        Racer *r = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(r->path, &error);

        g_assert_no_error(error);
        for (guint i = 0; i < r->rounds; i++) {
                /* wait for the round to open */
                g_mutex_lock(r->lock);
                while (*r->round <= i)
                        g_cond_wait(r->cond, r->lock);
                g_mutex_unlock(r->lock);
                if (hd_store_vm_start_reserve(s, r->vm, &error)) {
                        r->wins++;
                } else {
                        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED);
                        g_assert_nonnull(strstr(error->message, "is used by VM"));
                        r->refusals++;
                        g_clear_error(&error);
                }
        }
        return NULL;
}

static gint cmp_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
        return x < y ? -1 : x > y;
}

static HdHostMdevType *mdev_type(const char *parent, const char *type, gint64 avail,
                                 gint64 instances)
{
        HdHostMdevType *t = g_new0(HdHostMdevType, 1);

        t->parent = g_strdup(parent);
        t->type = g_strdup(type);
        t->name = g_strdup("T");
        t->available_instances = avail;
        t->instances = instances;
        return t;
}

/* A host's mdev types (replaced as a whole when the agent's ETag moves, with the parent's
 * vendor from the inventory) and a VM's mdevs: the pin, the refusals, the UUID kept, the
 * parent recorded and cleared, the host kept while a VM holds an mdev of it. */
static void test_mdev(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autofree char *h1 = NULL, *h2 = NULL, *vm = NULL, *u1 = NULL, *u2 = NULL;
        g_autoptr(GPtrArray) types =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_host_mdev_type_free);
        gboolean changed = FALSE;

        g_assert_no_error(error);
        g_assert_cmpuint(hd_store_schema_version(s), >=, 8);
        g_assert_true(hd_store_host_add(s, "h1", "http://a:1", "t", NULL, NULL, &h1, &error));
        g_assert_true(hd_store_host_add(s, "h2", "http://b:1", "t", NULL, NULL, &h2, &error));
        make_host_ready(s, h1, "10de:1b80");
        g_ptr_array_add(types, mdev_type("0000:01:00.0", "nvidia-63", 4, 0));
        g_ptr_array_add(types, mdev_type("mtty", "mtty-1", -1, 2));
        g_assert_true(hd_store_host_mdev_apply(s, h1, "\"g1\"", types, &changed, &error));
        g_assert_true(changed);
        /* the same ETag: nothing written */
        g_ptr_array_set_size(types, 0);
        g_assert_true(hd_store_host_mdev_apply(s, h1, "\"g1\"", types, &changed, &error));
        g_assert_false(changed);
        {
                g_autoptr(GPtrArray) got = hd_store_host_mdev_types(s, h1, &error);
                const HdHostMdevType *t;
                g_assert_cmpuint(got->len, ==, 2);
                t = got->pdata[0];
                g_assert_cmpstr(t->parent, ==, "0000:01:00.0");
                g_assert_cmpint(t->available_instances, ==, 4);
                g_assert_cmpstr(t->parent_vendor_id, ==, "10de");
                t = got->pdata[1];
                g_assert_cmpstr(t->type, ==, "mtty-1");
                g_assert_cmpint(t->available_instances, ==, -1);
                g_assert_cmpint(t->instances, ==, 2);
                g_assert_null(t->parent_vendor_id);
        }
        g_assert_null(hd_store_host_mdev_types(s, "nope", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);

        g_assert_true(hd_store_vm_add(s, "desk", 1024, 1, &vm, &error));
        g_assert_false(hd_store_vm_mdev_add(s, vm, h1, "nvidia-99", TRUE, &u1, &error));
        assert_refused(&error, "offers no mediated device type nvidia-99");
        g_assert_true(hd_store_vm_mdev_add(s, vm, h1, "nvidia-63", FALSE, &u1, &error));
        g_assert_true(hd_store_vm_mdev_add(s, vm, h1, "mtty-1", TRUE, &u2, &error));
        g_assert_true(g_uuid_string_is_valid(u1) && g_uuid_string_is_valid(u2));
        g_assert_cmpstr(u1, !=, u2);
        g_assert_false(hd_store_vm_mdev_add(s, vm, h2, "nvidia-63", TRUE, &u1, &error));
        assert_refused(&error, "pinned to host h1");
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                const HdVmMdev *m = v->mdevs->pdata[0];
                g_assert_cmpstr(v->host_id, ==, h1);
                g_assert_cmpstr(v->mdev_placement, ==, "compact");
                g_assert_cmpuint(v->mdevs->len, ==, 2);
                g_assert_cmpstr(m->uuid, ==, u1);
                g_assert_false(m->display);
                g_assert_null(m->parent);
        }
        /* the host stays while a VM holds an mdev of it */
        g_assert_false(hd_store_host_remove(s, h1, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        /* placement policy, parent recorded; changes only while down */
        g_assert_true(hd_store_vm_edit_if(s, vm, NULL, "separate", NULL, 0, 0, &error));
        g_assert_true(hd_store_vm_mdev_placed(s, vm, u1, "0000:01:00.0", &error));
        g_assert_false(hd_store_vm_mdev_placed(s, vm, "nope", "x", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_true(hd_store_vm_start_reserve(s, vm, &error));
        g_assert_false(hd_store_vm_mdev_remove(s, vm, u1, &error));
        assert_refused(&error, "down");
        g_assert_true(
            hd_store_vm_set_state(s, vm, HD_VM_MASK(HD_VM_STARTING), HD_VM_DOWN, NULL, &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                const HdVmMdev *m = v->mdevs->pdata[0];
                g_assert_cmpstr(v->mdev_placement, ==, "separate");
                g_assert_cmpstr(m->parent, ==, "0000:01:00.0");
        }
        g_assert_true(hd_store_vm_mdev_placed(s, vm, u1, NULL, &error));
        /* the last mdev removed: unpinned */
        g_assert_true(hd_store_vm_mdev_remove(s, vm, u1, &error));
        g_assert_false(hd_store_vm_mdev_remove(s, vm, u1, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_true(hd_store_vm_mdev_remove(s, vm, u2, &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, vm, &error);
                g_assert_null(v->host_id);
                g_assert_cmpuint(v->mdevs->len, ==, 0);
        }
        g_assert_true(hd_store_host_remove(s, h1, &error));
        g_assert_no_error(error);
        cleanup(dir);
}

static void test_vms_concurrent_start(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autofree char *h = NULL, *a = NULL, *b = NULL;
        const char *gpu[] = {"0000:01:00.0", NULL};
        GMutex lock;
        GCond cond;
        guint round = 0;
        Racer ra, rb;
        GThread *ta, *tb;

        g_assert_true(hd_store_host_add(s, "h", "http://a:1", "t", NULL, NULL, &h, &error));
        make_host_ready(s, h, "10de:1b80");
        g_assert_true(hd_store_vm_add(s, "a", 1024, 1, &a, &error));
        g_assert_true(hd_store_vm_add(s, "b", 1024, 1, &b, &error));
        g_assert_true(hd_store_vm_devices_add(s, a, h, gpu, &error));
        g_assert_true(hd_store_vm_devices_add(s, b, h, gpu, &error));
        g_mutex_init(&lock);
        g_cond_init(&cond);
        ra = (Racer){
            .path = path, .vm = a, .lock = &lock, .cond = &cond, .round = &round, .rounds = 50};
        rb = ra;
        rb.vm = b;
        ta = g_thread_new("a", racer, &ra);
        tb = g_thread_new("b", racer, &rb);
        for (guint i = 0; i < 50; i++) {
                guint before = ra.wins + rb.wins + ra.refusals + rb.refusals;
                g_mutex_lock(&lock);
                round = i + 1;
                g_cond_broadcast(&cond);
                g_mutex_unlock(&lock);
                /* both tried: exactly one starting */
                while (TRUE) {
                        g_mutex_lock(&lock);
                        guint done = ra.wins + rb.wins + ra.refusals + rb.refusals;
                        g_mutex_unlock(&lock);
                        if (done == before + 2)
                                break;
                        g_usleep(100);
                }
                {
                        g_autoptr(HdVm) va = hd_store_vm_get(s, a, &error);
                        g_autoptr(HdVm) vb = hd_store_vm_get(s, b, &error);
                        g_assert_no_error(error);
                        g_assert_cmpint(
                            (va->state == HD_VM_STARTING) + (vb->state == HD_VM_STARTING), ==, 1);
                        g_assert_true(hd_store_vm_set_state(s, va->state == HD_VM_STARTING ? a : b,
                                                            HD_VM_MASK(HD_VM_STARTING), HD_VM_DOWN,
                                                            NULL, &error));
                }
        }
        g_thread_join(ta);
        g_thread_join(tb);
        g_assert_cmpuint(ra.wins + rb.wins, ==, 50);
        g_assert_cmpuint(ra.refusals + rb.refusals, ==, 50);
        g_test_message("a won %u rounds, b %u", ra.wins, rb.wins);
        {
                /* reported, not asserted: the start check and reservation on this machine */
                g_autoptr(GArray) us = g_array_new(FALSE, FALSE, sizeof(gint64));
                for (guint i = 0; i < 1000; i++) {
                        gint64 t0 = g_get_monotonic_time(), dt;
                        g_assert_true(hd_store_vm_start_reserve(s, a, &error));
                        dt = g_get_monotonic_time() - t0;
                        g_array_append_val(us, dt);
                        g_assert_true(hd_store_vm_set_state(s, a, HD_VM_MASK(HD_VM_STARTING),
                                                            HD_VM_DOWN, NULL, &error));
                }
                g_array_sort(us, cmp_gint64);
                g_test_message("start reservation: median %" G_GINT64_FORMAT
                               " us, p99 %" G_GINT64_FORMAT " us",
                               g_array_index(us, gint64, 500), g_array_index(us, gint64, 990));
        }
        g_mutex_clear(&lock);
        g_cond_clear(&cond);
        cleanup(dir);
}

/* The host lifecycle's transitions (store-sql-hostlife.c): each checks the status it starts
 * from, the sync's status writes leave maintenance and rebooting alone, a reboot ends only with
 * another boot id. */
static void test_host_lifecycle(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autofree char *id = NULL;
        HdHostFacts f = {.passthrough = 0, .boot_id = "boot-a", .reboot_required = TRUE};
        HdHostStatus st;
        gboolean back = TRUE;

        g_assert_no_error(error);
        g_assert_cmpuint(hd_store_schema_version(s), >=, 3);
        g_assert_true(
            hd_store_host_add(s, "n1", "http://127.0.0.1:1", "t", NULL, NULL, &id, &error));
        g_assert_true(hd_store_host_set_facts(s, id, &f, &error));
        {
                g_autoptr(HdHost) h = hd_store_host_get(s, id, &error);
                g_assert_cmpstr(h->boot_id, ==, "boot-a");
                g_assert_true(h->reboot_required);
                g_assert_null(h->kernel_args_desired);
        }
        /* connecting: none of the admin's transitions */
        g_assert_false(hd_store_host_enter_maintenance(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "host n1 is connecting"));
        g_clear_error(&error);
        g_assert_false(hd_store_host_begin_reboot(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED);
        g_clear_error(&error);
        g_assert_false(hd_store_host_activate(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED);
        g_clear_error(&error);
        g_assert_true(hd_store_host_set_sync_status(s, id, HD_HOST_UP, NULL, 0, &st, &error));
        g_assert_cmpint(st, ==, HD_HOST_UP);
        g_assert_true(hd_store_host_enter_maintenance(s, id, &error));
        /* held: the sync records its failure, the status stays */
        g_assert_true(
            hd_store_host_set_sync_status(s, id, HD_HOST_NON_RESPONSIVE, "gone", 2, &st, &error));
        g_assert_cmpint(st, ==, HD_HOST_MAINTENANCE);
        g_assert_true(hd_store_host_set_sync_status(s, id, HD_HOST_UP, NULL, 0, &st, &error));
        g_assert_cmpint(st, ==, HD_HOST_MAINTENANCE);
        /* editing the connection keeps maintenance */
        g_assert_true(
            hd_store_host_edit(s, id, NULL, "http://127.0.0.1:2", NULL, NULL, NULL, &error));
        {
                g_autoptr(HdHost) h = hd_store_host_get(s, id, &error);
                g_assert_cmpint(h->status, ==, HD_HOST_MAINTENANCE);
                g_assert_null(h->last_error);
        }
        g_assert_true(hd_store_host_set_kernel_desired(s, id, "[\"intel_iommu=on\"]", &error));
        g_assert_true(hd_store_host_begin_reboot(s, id, &error));
        g_assert_false(hd_store_host_begin_reboot(s, id, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "rebooting"));
        g_clear_error(&error);
        /* the same boot id, or none: still rebooting */
        g_assert_true(hd_store_host_reboot_seen(s, id, "boot-a", &back, &error));
        g_assert_false(back);
        g_assert_true(hd_store_host_reboot_seen(s, id, NULL, &back, &error));
        g_assert_false(back);
        g_assert_true(hd_store_host_set_sync_status(s, id, HD_HOST_NON_RESPONSIVE, "refused", 1,
                                                    &st, &error));
        g_assert_cmpint(st, ==, HD_HOST_REBOOTING);
        {
                g_autoptr(HdHost) h = hd_store_host_get(s, id, &error);
                g_assert_cmpstr(h->last_error, ==, "refused");
                g_assert_cmpstr(h->reboot_from_boot_id, ==, "boot-a");
                g_assert_nonnull(h->rebooting_since);
                g_assert_cmpstr(h->kernel_args_desired, ==, "[\"intel_iommu=on\"]");
        }
        g_assert_true(hd_store_host_reboot_seen(s, id, "boot-b", &back, &error));
        g_assert_true(back);
        {
                g_autoptr(HdHost) h = hd_store_host_get(s, id, &error);
                g_assert_cmpint(h->status, ==, HD_HOST_MAINTENANCE);
                g_assert_null(h->last_error);
                g_assert_null(h->reboot_from_boot_id);
                g_assert_null(h->rebooting_since);
        }
        /* a refused reboot goes back to maintenance with the reason; only from rebooting */
        g_assert_true(hd_store_host_begin_reboot(s, id, &error));
        g_assert_true(hd_store_host_abort_reboot(s, id, "agent said no", &error));
        g_assert_false(hd_store_host_abort_reboot(s, id, "again", &error));
        g_assert_no_error(error);
        {
                g_autoptr(HdHost) h = hd_store_host_get(s, id, &error);
                g_assert_cmpint(h->status, ==, HD_HOST_MAINTENANCE);
                g_assert_cmpstr(h->last_error, ==, "agent said no");
        }
        g_assert_true(hd_store_host_activate(s, id, &error));
        {
                g_autoptr(HdHost) h = hd_store_host_get(s, id, &error);
                g_assert_cmpint(h->status, ==, HD_HOST_CONNECTING);
        }
        g_assert_false(hd_store_host_activate(s, "nope", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir);
}

/* The portal's sessions: found while live, gone when expired, logged out or revoked. */
static void test_sessions(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
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

/* Hosts h1 (up, passthrough disabled) and h2 (connecting), VMs a and b (down, unpinned). */
static void two_hosts_two_vms(HdStore *s, char **h1, char **h2, char **a, char **b)
{
        g_autoptr(GError) error = NULL;
        HdHostFacts f = {.passthrough = 0, .passthrough_reason = "no IOMMU"};

        g_assert_true(hd_store_host_add(s, "h1", "http://a:1", "t", NULL, NULL, h1, &error));
        g_assert_true(hd_store_host_add(s, "h2", "http://b:1", "t", NULL, NULL, h2, &error));
        g_assert_true(hd_store_host_set_facts(s, *h1, &f, &error));
        g_assert_true(hd_store_host_set_status(s, *h1, HD_HOST_UP, NULL, 0, &error));
        g_assert_true(hd_store_vm_add(s, "a", 1024, 1, a, &error));
        g_assert_true(hd_store_vm_add(s, "b", 1024, 1, b, &error));
        g_assert_no_error(error);
}

/* A VM's USB devices and LUNs: the pin (a host without passthrough still starts a VM that has
 * only these), the numbers, one owner per device and host (IN_USE naming the VM; shareable
 * LUNs share), the limit, changes only while down, the pin going with the last one. */
static void test_usbscsi(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autofree char *h1 = NULL, *h2 = NULL, *a = NULL, *b = NULL;
        guint n = 0;

        g_assert_no_error(error);
        g_assert_cmpuint(hd_store_schema_version(s), >=, 9);
        two_hosts_two_vms(s, &h1, &h2, &a, &b);

        g_assert_true(hd_store_vm_usb_add(s, a, h1, "0403:6001:A10K7XYZ", FALSE, &n, &error));
        g_assert_cmpuint(n, ==, 1);
        g_assert_true(hd_store_vm_usb_add(s, a, h1, "1-4", TRUE, &n, &error));
        g_assert_cmpuint(n, ==, 2);
        /* the same device twice in one VM; another host while pinned */
        g_assert_false(hd_store_vm_usb_add(s, a, h1, "1-4", FALSE, &n, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_clear_error(&error);
        g_assert_false(hd_store_vm_scsi_add(s, a, h2, "naa.50014380272a1b2c", FALSE, FALSE, FALSE,
                                            &n, &error));
        assert_refused(&error, "pinned to host h1");
        /* one owner: VM b is refused a's device, naming a */
        g_assert_false(hd_store_vm_usb_add(s, b, h1, "1-4", FALSE, &n, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE);
        g_assert_nonnull(strstr(error->message, "VM a's"));
        g_clear_error(&error);
        /* the same spec on another host is another device */
        g_assert_true(hd_store_vm_usb_add(s, b, h2, "1-4", FALSE, &n, &error));
        g_assert_cmpuint(n, ==, 1);
        g_assert_true(hd_store_vm_usb_remove(s, b, 1, &error));
        /* LUNs: shareable with shareable only */
        g_assert_true(hd_store_vm_scsi_add(s, a, h1, "naa.50014380272a1b2c", TRUE, TRUE, FALSE,
                                           &n, &error));
        g_assert_cmpuint(n, ==, 1);
        g_assert_false(hd_store_vm_scsi_add(s, b, h1, "naa.50014380272a1b2c", FALSE, FALSE, FALSE,
                                            &n, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE);
        g_clear_error(&error);
        g_assert_true(hd_store_vm_scsi_add(s, b, h1, "naa.50014380272a1b2c", TRUE, FALSE, FALSE,
                                           &n, &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, a, &error);
                const HdVmUsbDev *u = v->usb->pdata[1];
                const HdVmLun *l = v->scsi->pdata[0];
                g_assert_cmpstr(v->host_id, ==, h1);
                g_assert_cmpuint(v->usb->len, ==, 2);
                g_assert_cmpuint(u->n, ==, 2);
                g_assert_cmpstr(u->spec, ==, "1-4");
                g_assert_true(u->force);
                g_assert_cmpstr(l->wwid, ==, "naa.50014380272a1b2c");
                g_assert_true(l->shareable && l->readonly && !l->force);
        }
        /* the host stays while a VM holds a device of it */
        g_assert_false(hd_store_host_remove(s, h1, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        /* no PCI device: a host without passthrough starts it; changes only while down */
        g_assert_true(hd_store_vm_start_reserve(s, a, &error));
        g_assert_false(hd_store_vm_usb_add(s, a, h1, "1-3.2", FALSE, &n, &error));
        assert_refused(&error, "is starting");
        g_assert_false(hd_store_vm_usb_remove(s, a, 1, &error));
        assert_refused(&error, "is starting");
        g_assert_false(hd_store_vm_scsi_remove(s, a, 1, &error));
        assert_refused(&error, "is starting");
        g_assert_true(hd_store_vm_set_state(s, a, HD_VM_MASK(HD_VM_STARTING), HD_VM_DOWN, NULL,
                                            &error));
        /* the limit */
        for (guint i = 3; i <= HD_VM_USB_MAX; i++) {
                g_autofree char *spec = g_strdup_printf("2-%u", i);
                g_assert_true(hd_store_vm_usb_add(s, a, h1, spec, FALSE, &n, &error));
                g_assert_cmpuint(n, ==, i);
        }
        g_assert_false(hd_store_vm_usb_add(s, a, h1, "3-1", FALSE, &n, &error));
        assert_refused(&error, "the most a VM takes");
        /* removal: the numbers stay; the pin goes with the last device */
        g_assert_true(hd_store_vm_usb_remove(s, a, 1, &error));
        g_assert_false(hd_store_vm_usb_remove(s, a, 1, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        for (guint i = 2; i <= HD_VM_USB_MAX; i++)
                g_assert_true(hd_store_vm_usb_remove(s, a, i, &error));
        g_assert_true(hd_store_vm_scsi_remove(s, a, 1, &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, a, &error);
                g_assert_null(v->host_id);
                g_assert_cmpuint(v->usb->len + v->scsi->len, ==, 0);
        }
        /* a's device is free for b now; removing a VM takes its rows */
        g_assert_true(hd_store_vm_usb_add(s, b, h1, "1-4", FALSE, &n, &error));
        g_assert_true(hd_store_vm_remove(s, b, &error));
        g_assert_true(hd_store_vm_usb_add(s, a, h1, "1-4", FALSE, &n, &error));
        g_assert_no_error(error);
        cleanup(dir);
}

/* NPIV pairs (migration 11): unique across the fleet as port or node name, against the
 * engine's pairs and the names agents showed; a second connection (another engine) cannot
 * reserve a WWN the first holds; released pairs are free again; the vport follows the reads. */
static void test_npiv(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autoptr(HdStore) s2 = NULL;
        g_autoptr(GPtrArray) wwns = g_ptr_array_new();
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        g_autoptr(GPtrArray) pairs = NULL;
        g_autofree char *h1 = NULL, *h2 = NULL, *host = NULL, *what = NULL;
        gboolean changed = FALSE;

        g_assert_no_error(error);
        g_assert_cmpuint(hd_store_schema_version(s), >=, 11);
        g_assert_true(hd_store_host_add(s, "alpha", "http://a:1", "t", NULL, NULL, &h1, &error));
        g_assert_true(hd_store_host_add(s, "beta", "http://b:1", "t", NULL, NULL, &h2, &error));
        s2 = open_store(path, &error);
        g_assert_no_error(error);

        g_assert_true(hd_store_npiv_reserve(s, h1, "0x21000024ff3dc9a0", "0x2001001122334477",
                                            "0x2000001122334477", &error));
        g_assert_no_error(error);
        /* the other connection, another host: the WWPN, the WWNN, either in the other role */
        {
                const char *const tries[][2] = {{"0x2001001122334477", "0x2000001122334488"},
                                                {"0x2001001122334488", "0x2000001122334477"},
                                                {"0x2000001122334477", "0x2000001122334499"},
                                                {"0x2001001122334499", "0x2001001122334477"}};
                for (guint i = 0; i < G_N_ELEMENTS(tries); i++) {
                        g_assert_false(hd_store_npiv_reserve(s2, h2, NULL, tries[i][0],
                                                             tries[i][1], &error));
                        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE);
                        g_assert_nonnull(strstr(error->message, "on host alpha (a vport being created)"));
                        g_clear_error(&error);
                }
        }
        /* one pair with the same WWN twice */
        g_assert_false(hd_store_npiv_reserve(s, h2, NULL, "0x2001001122334400",
                                             "0x2001001122334400", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE);
        g_clear_error(&error);
        /* unknown host */
        g_assert_false(hd_store_npiv_reserve(s, "nope", NULL, "0x2001001122334401",
                                             "0x2000001122334401", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* beta's agent shows a vport the engine did not make, and the engine's pair on alpha */
        g_ptr_array_add(wwns, "0x2001001122334455");
        g_ptr_array_add(names, "vport vport-1:0-0");
        g_ptr_array_add(wwns, "0x2000001122334455");
        g_ptr_array_add(names, "vport vport-1:0-0");
        g_assert_true(hd_store_npiv_seen(s, h2, wwns, names, &changed, &error));
        g_assert_true(changed);
        /* the same names again, in another order: not a change */
        g_ptr_array_add(wwns, "0x2001001122334455");
        g_ptr_array_add(names, "vport vport-1:0-0");
        g_ptr_array_remove_index(wwns, 0);
        g_ptr_array_remove_index(names, 0);
        g_assert_true(hd_store_npiv_seen(s, h2, wwns, names, &changed, &error));
        g_assert_false(changed);
        g_assert_true(hd_store_npiv_wwn_user(s2, "0x2000001122334455", &host, &what, &error));
        g_assert_cmpstr(host, ==, "beta");
        g_assert_cmpstr(what, ==, "vport vport-1:0-0");
        g_clear_pointer(&host, g_free);
        g_clear_pointer(&what, g_free);
        g_assert_false(hd_store_npiv_reserve(s, h1, NULL, "0x2001001122334455",
                                             "0x2000001122334466", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE);
        g_assert_nonnull(strstr(error->message, "on host beta (vport vport-1:0-0)"));
        g_clear_error(&error);
        g_assert_false(hd_store_npiv_wwn_user(s, "0x2001001122334466", &host, &what, &error));
        g_assert_no_error(error);
        g_assert_null(host);

        /* alpha's read shows the engine's vport: its name follows */
        g_ptr_array_set_size(wwns, 0);
        g_ptr_array_set_size(names, 0);
        g_ptr_array_add(wwns, "0x2001001122334477");
        g_ptr_array_add(names, "vport vport-1:0-3");
        g_assert_true(hd_store_npiv_seen(s, h1, wwns, names, NULL, &error));
        pairs = hd_store_host_npiv(s, h1, &error);
        g_assert_nonnull(pairs);
        g_assert_cmpuint(pairs->len, ==, 1);
        g_assert_cmpstr(((HdNpivPair *)pairs->pdata[0])->vport, ==, "vport-1:0-3");
        g_assert_cmpstr(((HdNpivPair *)pairs->pdata[0])->parent_port_name, ==,
                        "0x21000024ff3dc9a0");
        g_clear_pointer(&pairs, g_ptr_array_unref);

        /* released (with the names of its vport): free for beta */
        g_assert_true(hd_store_npiv_release(s, h1, "0x2001001122334477", &error));
        g_assert_true(hd_store_npiv_reserve(s2, h2, NULL, "0x2001001122334477",
                                            "0x2000001122334477", &error));
        g_assert_no_error(error);
        g_assert_true(hd_store_npiv_set_vport(s2, "0x2001001122334477", "vport-1:0-1", &error));
        g_assert_false(hd_store_npiv_set_vport(s2, "0x2001001122339999", "x", &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        pairs = hd_store_host_npiv(s, h1, &error);
        g_assert_cmpuint(pairs->len, ==, 0);
        g_clear_pointer(&pairs, g_ptr_array_unref);
        pairs = hd_store_host_npiv(s, h2, &error);
        g_assert_cmpuint(pairs->len, ==, 1);
        g_assert_cmpstr(((HdNpivPair *)pairs->pdata[0])->vport, ==, "vport-1:0-1");
        g_clear_pointer(&s2, hd_store_free);
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir);
}

/* vhost-scsi targets (migration 12): the one-owner rule in any case (COLLATE NOCASE) naming the
 * holder, the same WWPN on another host another target, the pin, at most HD_VM_VHOST_MAX, a
 * VM with only targets starting on a host without passthrough, the rows going with the VM. */
static void test_vhost(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *path = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = open_store(path, &error);
        g_autofree char *h1 = NULL, *h2 = NULL, *a = NULL, *b = NULL;
        guint n = 0;

        g_assert_no_error(error);
        g_assert_cmpuint(hd_store_schema_version(s), >=, 12);
        two_hosts_two_vms(s, &h1, &h2, &a, &b);

        g_assert_true(hd_store_vm_vhost_add(s, a, h1, "naa.50014050000000AB", &n, &error));
        g_assert_cmpuint(n, ==, 1);
        /* the same target in another case: exists in a, in-use for b naming a */
        g_assert_false(hd_store_vm_vhost_add(s, a, h1, "naa.50014050000000ab", &n, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS);
        g_clear_error(&error);
        g_assert_false(hd_store_vm_vhost_add(s, b, h1, "naa.50014050000000ab", &n, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_IN_USE);
        g_assert_nonnull(strstr(error->message, "VM a's"));
        g_clear_error(&error);
        /* pinned to h1; the same WWPN on h2 is another target */
        g_assert_false(hd_store_vm_vhost_add(s, a, h2, "naa.5001405000000002", &n, &error));
        assert_refused(&error, "pinned to host h1");
        g_assert_true(hd_store_vm_vhost_add(s, b, h2, "naa.50014050000000ab", &n, &error));
        {
                g_autoptr(HdVm) v = hd_store_vm_get(s, a, &error);
                const HdVmVhost *t = v->vhost->pdata[0];
                g_assert_cmpstr(v->host_id, ==, h1);
                g_assert_cmpuint(v->vhost->len, ==, 1);
                g_assert_cmpuint(t->n, ==, 1);
                g_assert_cmpstr(t->wwpn, ==, "naa.50014050000000AB");
        }
        /* only targets: a host without passthrough starts it; changes only while down */
        g_assert_true(hd_store_vm_start_reserve(s, a, &error));
        g_assert_false(hd_store_vm_vhost_remove(s, a, 1, &error));
        assert_refused(&error, "is starting");
        g_assert_true(
            hd_store_vm_set_state(s, a, HD_VM_MASK(HD_VM_STARTING), HD_VM_DOWN, NULL, &error));
        /* the limit */
        for (guint i = 2; i <= HD_VM_VHOST_MAX; i++) {
                g_autofree char *w = g_strdup_printf("naa.500140500000000%u", i);
                g_assert_true(hd_store_vm_vhost_add(s, a, h1, w, &n, &error));
                g_assert_cmpuint(n, ==, i);
        }
        g_assert_false(hd_store_vm_vhost_add(s, a, h1, "naa.5001405000000009", &n, &error));
        assert_refused(&error, "the most a VM takes");
        /* removal by number; the rows go with the VM */
        g_assert_false(hd_store_vm_vhost_remove(s, a, 9, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_true(hd_store_vm_vhost_remove(s, a, 2, &error));
        g_assert_true(hd_store_vm_remove(s, a, &error));
        g_assert_true(hd_store_vm_vhost_add(s, b, h2, "naa.5001405000000002", &n, &error));
        g_assert_cmpuint(n, ==, 2);
        g_assert_true(hd_store_vm_remove(s, b, &error));
        {
                /* a's target is free: a new VM takes it */
                g_autofree char *c = NULL;
                g_assert_true(hd_store_vm_add(s, "c", 1024, 1, &c, &error));
                g_assert_true(hd_store_vm_vhost_add(s, c, h1, "NAA.50014050000000AB", &n, &error));
                g_assert_cmpuint(n, ==, 1);
        }
        g_assert_no_error(error);
        cleanup(dir);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/engine-store/open-migrate", test_open_migrate);
        g_test_add_func("/engine-store/open-concurrent", test_open_concurrent);
        g_test_add_func("/engine-store/hosts-inventory", test_hosts_inventory);
        g_test_add_func("/engine-store/tokens-events-leases", test_tokens_events_leases);
        g_test_add_func("/engine-store/vms", test_vms);
        g_test_add_func("/engine-store/vms-concurrent-start", test_vms_concurrent_start);
        g_test_add_func("/engine-store/mdev", test_mdev);
        g_test_add_func("/engine-store/usbscsi", test_usbscsi);
        g_test_add_func("/engine-store/vhost", test_vhost);
        g_test_add_func("/engine-store/npiv", test_npiv);
        g_test_add_func("/engine-store/host-lifecycle", test_host_lifecycle);
        g_test_add_func("/engine-store/sessions", test_sessions);
        return g_test_run();
}
