/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's filtered pages and collection ETags in-process (store-sql-query.c) and the
 * device facets the filters run on (devices.c):
 *   /engine-query/facets       class categories and the search text from agent documents
 *   /engine-query/devices      every device filter and the page, NOT_FOUND for no host
 *   /engine-query/upgrade      rows written before migration 5 (no facets) are rewritten by the
 *                              next inventory diff, once
 *   /engine-query/etags        each scope moves on every change that alters its answers
 *                              (additions, edits, status, inventory, removals, events, VMs) and
 *                              stays while nothing changes
 *   /engine-query/events       host_id, action (exact, family), object; wildcards literal
 *   /engine-query/large        4,200 devices on one host and 100,000 events: the answers
 *                              asserted, the times reported (g_test_message), never asserted
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "devices.h"
#include "store.h"

static char *tmp_db(char **dir)
{
        g_autoptr(GError) error = NULL;

        *dir = g_dir_make_tmp("engine-query-XXXXXX", &error);
        g_assert_no_error(error);
        return g_build_filename(*dir, "engine.db", NULL);
}

static void cleanup(const char *dir, const char *db)
{
        for (const char *const *sfx = (const char *const[]){"", "-wal", "-shm", NULL}; *sfx;
             sfx++) {
                g_autofree char *f = g_strconcat(db, *sfx, NULL);
                g_unlink(f);
        }
        g_rmdir(dir);
}

/* A device document as an agent sends it, with the facets the sync computes. */
static HdInvItem *item(const char *addr, const char *cls, const char *driver, gint64 group,
                       const char *product)
{
        HdInvItem *it = g_new0(HdInvItem, 1);
        g_autoptr(JsonParser) p = json_parser_new();
        JsonObject *o;

        it->key = g_strdup(addr);
        it->vendor_id = g_strdup("10de");
        it->device_id = g_strdup("1b80");
        it->driver = g_strdup(driver);
        it->iommu_group = group;
        it->data = g_strdup_printf(
            "{\"address\":\"%s\",\"vendor_id\":\"10de\",\"device_id\":\"1b80\",\"class\":\"%s\","
            "\"vendor\":\"NVIDIA Corporation\",\"product\":\"%s\",\"class_name\":null,"
            "\"driver\":%s%s%s,\"iommu_group\":%" G_GINT64_FORMAT ",\"is_bridge\":false}",
            addr, cls, product, driver ? "\"" : "", driver ? driver : "null", driver ? "\"" : "",
            group);
        g_assert_true(json_parser_load_from_data(p, it->data, -1, NULL));
        o = json_node_get_object(json_parser_get_root(p));
        it->category = g_strdup(hd_device_category(o));
        it->search = hd_device_search_text(o);
        return it;
}

static GPtrArray *inventory(const char *gpu_driver)
{
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)hd_inv_item_free);

        g_ptr_array_add(a, item("0000:00:01.0", "060400", "pcieport", 1, "PCIe Port"));
        g_ptr_array_add(a, item("0000:01:00.0", "030000", gpu_driver, 1, "GP104 [GTX 1080]"));
        g_ptr_array_add(a, item("0000:01:00.1", "040300", "snd_hda_intel", 1, "GP104 Audio"));
        g_ptr_array_add(a, item("0000:02:00.0", "010802", NULL, 7, "NVMe 100%_fast"));
        return a;
}

static void test_facets(void)
{
        static const struct {
                const char *doc, *category;
        } cases[] = {
            {"{\"class\":\"030000\"}", "gpu"},
            {"{\"class\":\"030200\"}", "gpu"},
            {"{\"class\":\"020000\"}", "net"},
            {"{\"class\":\"010802\"}", "storage"},
            {"{\"class\":\"0c0330\"}", "usb"},
            {"{\"class\":\"0c0500\"}", "other"},
            {"{\"class\":\"040300\"}", "audio"},
            {"{\"class\":\"040100\"}", "audio"},
            {"{\"class\":\"040000\"}", "other"},
            {"{\"class\":\"060400\"}", "bridge"},
            {"{\"class\":\"120000\"}", "other"},
            {"{\"class\":null,\"is_bridge\":true}", "bridge"},
            {"{\"class\":null}", "other"},
            {"{\"class\":\"zz\"}", "other"},
            {"{}", "other"},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(JsonParser) p = json_parser_new();
                g_assert_true(json_parser_load_from_data(p, cases[i].doc, -1, NULL));
                g_assert_cmpstr(hd_device_category(json_node_get_object(json_parser_get_root(p))),
                                ==, cases[i].category);
        }
        for (const char *const *c = hd_device_categories; *c; c++)
                g_assert_true(hd_device_category_valid(*c));
        g_assert_false(hd_device_category_valid("gpus"));
        g_assert_false(hd_device_category_valid(NULL));
        {
                g_autoptr(JsonParser) p = json_parser_new();
                g_autofree char *text = NULL;
                g_autofree char *term = hd_device_search_term("GeForce");
                g_assert_true(json_parser_load_from_data(
                    p,
                    "{\"address\":\"0000:01:00.0\",\"vendor_id\":\"10de\",\"device_id\":\"1b80\","
                    "\"vendor\":\"NVIDIA\",\"product\":\"GeForce GTX 1080\",\"class_name\":\"VGA "
                    "compatible controller\",\"driver\":\"nouveau\"}",
                    -1, NULL));
                text = hd_device_search_text(json_node_get_object(json_parser_get_root(p)));
                for (const char *const *w = (const char *const[]){"0000:01:00.0", "10de:1b80",
                                                                  "nvidia", "vga", "nouveau", NULL};
                     *w; w++)
                        g_assert_nonnull(strstr(text, *w));
                g_assert_nonnull(strstr(text, term));
                g_assert_cmpstr(term, ==, "geforce");
        }
}

static guint count(HdStore *s, const char *host, HdDeviceFilter f, guint *len)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) page = NULL;
        guint total = 0;

        if (!f.limit)
                f.limit = 1000;
        page = hd_store_devices_list(s, host, &f, &total, &error);
        g_assert_no_error(error);
        if (len)
                *len = page->len;
        return total;
}

static void test_devices(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *db = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(db, &error);
        g_autoptr(GPtrArray) items = inventory("nouveau");
        g_autofree char *id = NULL;
        g_autofree char *term = hd_device_search_term("GTX");
        HdInvDiff diff;
        guint len = 0;

        g_assert_no_error(error);
        g_assert_true(
            hd_store_host_add(s, "h1", "http://127.0.0.1:1", "t", NULL, NULL, &id, &error));
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"e1\"", items, &diff, &error));
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.iommu_group = -1}, &len), ==, 4);
        g_assert_cmpuint(len, ==, 4);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.category = "gpu", .iommu_group = -1}, NULL),
                         ==, 1);
        g_assert_cmpuint(
            count(s, id, (HdDeviceFilter){.category = "audio", .iommu_group = -1}, NULL), ==, 1);
        g_assert_cmpuint(
            count(s, id, (HdDeviceFilter){.category = "bridge", .iommu_group = -1}, NULL), ==, 1);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.category = "net", .iommu_group = -1}, NULL),
                         ==, 0);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.driver = "none", .iommu_group = -1}, NULL),
                         ==, 1);
        g_assert_cmpuint(
            count(s, id, (HdDeviceFilter){.driver = "nouveau", .iommu_group = -1}, NULL), ==, 1);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.text = term, .iommu_group = -1}, NULL), ==,
                         1);
        /* "%" and "_" are literal */
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.text = "100%_", .iommu_group = -1}, NULL),
                         ==, 1);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.text = "1%0", .iommu_group = -1}, NULL), ==,
                         0);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.text = "0_:0", .iommu_group = -1}, NULL),
                         ==, 0);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.iommu_group = 1}, NULL), ==, 3);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.iommu_group = 1, .category = "gpu"}, NULL),
                         ==, 1);
        /* the page: total stays, the rows are cut, sorted by address */
        g_assert_cmpuint(
            count(s, id, (HdDeviceFilter){.iommu_group = -1, .limit = 3, .offset = 2}, &len), ==,
            4);
        g_assert_cmpuint(len, ==, 2);
        {
                HdDeviceFilter f = {.iommu_group = -1, .limit = 1, .offset = 1};
                guint total = 0;
                g_autoptr(GPtrArray) page = hd_store_devices_list(s, id, &f, &total, &error);
                g_assert_no_error(error);
                g_assert_nonnull(strstr(page->pdata[0], "0000:01:00.0"));
        }
        {
                HdDeviceFilter f = {.iommu_group = -1, .limit = 10};
                guint total = 0;
                g_assert_null(hd_store_devices_list(s, "nope", &f, &total, &error));
                g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
                g_clear_error(&error);
        }
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir, db);
}

static void test_upgrade(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *db = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(db, &error);
        g_autoptr(GPtrArray) items = inventory("nouveau");
        g_autofree char *id = NULL;
        sqlite3 *raw = NULL;
        HdInvDiff diff;

        g_assert_no_error(error);
        g_assert_true(
            hd_store_host_add(s, "h1", "http://127.0.0.1:1", "t", NULL, NULL, &id, &error));
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"e1\"", items, &diff, &error));
        /* as a database migrated from 4 has them: the facets empty */
        g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_exec(raw, "UPDATE devices SET category = NULL, search = NULL", NULL,
                                     NULL, NULL),
                        ==, SQLITE_OK);
        sqlite3_close(raw);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.category = "gpu", .iommu_group = -1}, NULL),
                         ==, 0);
        /* the next diff (the same documents) rewrites every row, once */
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"e2\"", items, &diff, &error));
        g_assert_cmpuint(diff.updated, ==, 4);
        g_assert_cmpuint(diff.inserted + diff.deleted, ==, 0);
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.category = "gpu", .iommu_group = -1}, NULL),
                         ==, 1);
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"e3\"", items, &diff, &error));
        g_assert_cmpuint(diff.updated + diff.inserted + diff.deleted, ==, 0);
        g_assert_cmpuint(hd_store_schema_version(s), >=, 4);
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir, db);
}

/* @n events straight into the file (one transaction), every 1,000th about host @host_id. */
static gboolean sq_bulk_events(const char *db, guint n, const char *host_id)
{
        sqlite3 *raw = NULL;
        sqlite3_stmt *st = NULL;
        gboolean ok;

        g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_exec(raw, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_prepare_v2(raw,
                                           "INSERT INTO events (id, at, actor, action, object, "
                                           "result, message, subject) VALUES (?, 't', 'engine', "
                                           "'host.sync.devices', ?, 'ok', 'm', ?)",
                                           -1, &st, NULL),
                        ==, SQLITE_OK);
        for (guint i = 1; i <= n; i++) {
                g_autofree char *object = g_strdup_printf(
                    "host %s", i % 1000 == 0 ? host_id : "00000000-0000-0000-0000-000000000000");
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, i + 1000);
                sqlite3_bind_text(st, 2, object, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 3, object + strlen("host "), -1, SQLITE_TRANSIENT);
                g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
        }
        sqlite3_finalize(st);
        ok = sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
        sqlite3_close(raw);
        return ok;
}

static char *etag(HdStore *s, HdEtagScope scope, const char *host)
{
        g_autoptr(GError) error = NULL;
        char *t = hd_store_etag(s, scope, host, &error);

        g_assert_no_error(error);
        g_assert_true(t[0] == '"' && t[strlen(t) - 1] == '"');
        return t;
}

/* @scope's ETag moved since *@last (then *@last takes the new one). */
static void assert_moved(HdStore *s, HdEtagScope scope, const char *host, char **last)
{
        g_autofree char *now = etag(s, scope, host);

        g_assert_cmpstr(now, !=, *last);
        g_free(*last);
        *last = g_steal_pointer(&now);
}

static void assert_same(HdStore *s, HdEtagScope scope, const char *host, const char *last)
{
        g_autofree char *now = etag(s, scope, host);
        g_assert_cmpstr(now, ==, last);
}

static void test_etags(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *db = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(db, &error);
        g_autoptr(GPtrArray) items = inventory("nouveau");
        g_autoptr(GPtrArray) items2 = inventory("vfio-pci");
        g_autofree char *h1 = NULL, *h2 = NULL, *vm = NULL;
        g_autofree char *hosts = NULL, *inv = NULL, *events = NULL, *vms = NULL;
        HdInvDiff diff;

        g_assert_no_error(error);
        hosts = etag(s, HD_ETAG_HOSTS, NULL);
        events = etag(s, HD_ETAG_EVENTS, NULL);
        vms = etag(s, HD_ETAG_VMS, NULL);
        /* distinct scopes never share a tag */
        g_assert_cmpstr(hosts, !=, vms);
        assert_same(s, HD_ETAG_HOSTS, NULL, hosts);
        g_assert_true(
            hd_store_host_add(s, "h1", "http://127.0.0.1:1", "t", NULL, NULL, &h1, &error));
        assert_moved(s, HD_ETAG_HOSTS, NULL, &hosts);
        assert_moved(s, HD_ETAG_VMS, NULL, &vms); /* a VM's host name comes from hosts */
        g_assert_true(
            hd_store_host_add(s, "h2", "http://127.0.0.1:2", "t", NULL, NULL, &h2, &error));
        assert_moved(s, HD_ETAG_HOSTS, NULL, &hosts);
        inv = etag(s, HD_ETAG_INVENTORY, h1);
        g_assert_true(
            hd_store_inventory_apply(s, h1, HD_INV_DEVICES, "\"e1\"", items, &diff, &error));
        assert_moved(s, HD_ETAG_INVENTORY, h1, &inv);
        assert_moved(s, HD_ETAG_HOSTS, NULL, &hosts); /* device_count, last_sync */
        assert_same(s, HD_ETAG_INVENTORY, h1, inv);
        g_assert_true(
            hd_store_inventory_apply(s, h1, HD_INV_DEVICES, "\"e2\"", items2, &diff, &error));
        g_assert_cmpuint(diff.updated, ==, 1);
        assert_moved(s, HD_ETAG_INVENTORY, h1, &inv);
        g_assert_true(hd_store_host_set_status(s, h1, HD_HOST_NON_RESPONSIVE, "gone", 1, &error));
        assert_moved(s, HD_ETAG_INVENTORY, h1, &inv); /* the answer shows the status */
        assert_moved(s, HD_ETAG_HOSTS, NULL, &hosts);
        g_assert_true(hd_store_host_edit(s, h2, "h2b", NULL, NULL, NULL, NULL, &error));
        assert_moved(s, HD_ETAG_HOSTS, NULL, &hosts);
        assert_same(s, HD_ETAG_INVENTORY, h1, inv); /* another host's edit */
        /* VMs: added, edited, removed */
        g_assert_true(hd_store_vm_add(s, "vm1", 1024, 1, &vm, &error));
        assert_moved(s, HD_ETAG_VMS, NULL, &vms);
        assert_same(s, HD_ETAG_VMS, NULL, vms);
        g_assert_true(hd_store_vm_edit(s, vm, NULL, 2048, 0, &error));
        assert_moved(s, HD_ETAG_VMS, NULL, &vms);
        g_assert_true(hd_store_vm_remove(s, vm, &error));
        assert_moved(s, HD_ETAG_VMS, NULL, &vms);
        /* a removal: hosts move, the inventory is gone */
        g_assert_true(hd_store_host_remove(s, h2, &error));
        assert_moved(s, HD_ETAG_HOSTS, NULL, &hosts);
        g_assert_null(hd_store_etag(s, HD_ETAG_INVENTORY, h2, &error));
        g_assert_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        /* events: each one */
        assert_same(s, HD_ETAG_EVENTS, NULL, events);
        g_assert_cmpint(hd_store_event_add(s, "ops", "host.add", "host h1", "ok", "m", &error), >,
                        0);
        assert_moved(s, HD_ETAG_EVENTS, NULL, &events);
        g_assert_cmpint(hd_store_event_add(s, "ops", "host.add", "host h1", "ok", "m", &error), >,
                        0);
        assert_moved(s, HD_ETAG_EVENTS, NULL, &events);
        assert_same(s, HD_ETAG_EVENTS, NULL, events);
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir, db);
}

static guint n_events(HdStore *s, HdEventFilter f)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) ev = NULL;

        f.limit = f.limit ? f.limit : 1000;
        ev = hd_store_events_query(s, &f, &error);
        g_assert_no_error(error);
        return ev->len;
}

#define H1 "11111111-2222-4333-8444-555555555555"
#define H2 "22222222-2222-4333-8444-555555555555"
#define V1 "33333333-2222-4333-8444-555555555555"

static void test_events(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *db = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(db, &error);
        static const char *const rows[][2] = {
            {"host.add", "host n1 (" H1 ")"}, {"host.sync.devices", "host " H1},
            {"host.add", "host n2 (" H2 ")"}, {"vm.start", "vm gpu_vm (" V1 ")"},
            {"hostx", "host% " H1},           {"api.call", "DELETE /v1/hosts/x"},
            {"host.edit", "host x" H1}, /* not a whole id: no subject */
        };
        sqlite3 *raw = NULL;

        g_assert_no_error(error);
        for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
                g_assert_cmpint(
                    hd_store_event_add(s, "ops", rows[i][0], rows[i][1], "ok", "m", &error), >, 0);
        g_assert_cmpuint(n_events(s, (HdEventFilter){0}), ==, 7);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.since = 2}), ==, 5);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.limit = 2}), ==, 2);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.host_id = H1}), ==, 3);
        g_assert_cmpuint(
            n_events(s, (HdEventFilter){.host_id = "11111111-2222-4333-8444-555555555555"}), ==, 3);
        g_assert_cmpuint(
            n_events(s, (HdEventFilter){.host_id = "11111111-2222-4333-8444-5555555555"}), ==,
            0); /* a part of an id is not the id */
        g_assert_cmpuint(n_events(s, (HdEventFilter){.vm_id = V1}), ==, 1);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.vm_id = H2}), ==, 1);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.action = "host.add"}), ==, 2);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.action = "host.*"}), ==, 4);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.action = "host*"}), ==, 5);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.action = "host"}), ==, 0);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.action = "host_add"}), ==, 0);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.object = "gpu_vm"}), ==, 1);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.object = "gpu%vm"}), ==, 0);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.object = "host%"}), ==, 1);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.host_id = H1, .action = "host.*"}), ==, 2);
        /* rows written before migration 6 have no subject: found by their object */
        g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
        g_assert_cmpint(
            sqlite3_exec(raw, "UPDATE events SET subject = NULL WHERE id <= 2", NULL, NULL, NULL),
            ==, SQLITE_OK);
        sqlite3_close(raw);
        g_assert_cmpuint(n_events(s, (HdEventFilter){.host_id = H1}), ==, 3);
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir, db);
}

/* Reported, not asserted (no timed assertions): the portal's big host, 4,200 devices, and an
 * audit log of 100,000 events. The answers are asserted. */
static void test_large(void)
{
        g_autofree char *dir = NULL;
        g_autofree char *db = tmp_db(&dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) s = hd_store_open_sqlite(db, &error);
        g_autoptr(GPtrArray) items =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_inv_item_free);
        g_autofree char *id = NULL;
        g_autofree char *term = hd_device_search_term("Device 4199");
        HdInvDiff diff;
        gint64 t0;
        guint len = 0;

        g_assert_no_error(error);
        g_assert_true(
            hd_store_host_add(s, "big", "http://127.0.0.1:1", "t", NULL, NULL, &id, &error));
        for (guint i = 0; i < 4200; i++) {
                g_autofree char *addr =
                    g_strdup_printf("0000:%02x:%02x.%u", i / 256, (i / 8) % 32, i % 8);
                g_autofree char *product = g_strdup_printf("Device %u", i);
                g_ptr_array_add(items, item(addr, i % 10 == 0 ? "030000" : "020000",
                                            i % 3 ? "vfio-pci" : NULL, i / 4, product));
        }
        t0 = g_get_monotonic_time();
        g_assert_true(
            hd_store_inventory_apply(s, id, HD_INV_DEVICES, "\"e1\"", items, &diff, &error));
        g_test_message("4,200 devices inserted in one diff: %.1f ms",
                       (g_get_monotonic_time() - t0) / 1e3);
        t0 = g_get_monotonic_time();
        g_assert_cmpuint(
            count(s, id, (HdDeviceFilter){.iommu_group = -1, .limit = 100, .offset = 4100}, &len),
            ==, 4200);
        g_test_message("the last page of 100 with total: %.2f ms",
                       (g_get_monotonic_time() - t0) / 1e3);
        g_assert_cmpuint(len, ==, 100);
        t0 = g_get_monotonic_time();
        g_assert_cmpuint(count(s, id,
                               (HdDeviceFilter){.category = "gpu", .iommu_group = -1, .limit = 100},
                               &len),
                         ==, 420);
        g_test_message("class=gpu, a page of 100 of 420: %.2f ms",
                       (g_get_monotonic_time() - t0) / 1e3);
        t0 = g_get_monotonic_time();
        g_assert_cmpuint(
            count(s, id, (HdDeviceFilter){.text = term, .iommu_group = -1, .limit = 100}, &len), ==,
            1);
        g_test_message("text=\"Device 4199\": %.2f ms", (g_get_monotonic_time() - t0) / 1e3);
        t0 = g_get_monotonic_time();
        g_assert_cmpuint(count(s, id, (HdDeviceFilter){.iommu_group = 1049, .limit = 100}, &len),
                         ==, 4);
        g_test_message("iommu_group=1049: %.2f ms", (g_get_monotonic_time() - t0) / 1e3);
        t0 = g_get_monotonic_time();
        for (guint i = 0; i < 100; i++)
                g_free(etag(s, HD_ETAG_INVENTORY, id));
        g_test_message("the devices' ETag (what a 304 costs in the store): %.3f ms",
                       (g_get_monotonic_time() - t0) / 1e3 / 100);
        /* 100,000 events, one host's every 1,000th */
        g_assert_true(sq_bulk_events(db, 100000, id));
        t0 = g_get_monotonic_time();
        g_assert_cmpuint(n_events(s, (HdEventFilter){.host_id = id, .limit = 100}), ==, 100);
        g_test_message("events host_id= over 100,000 events (100 of them): %.1f ms",
                       (g_get_monotonic_time() - t0) / 1e3);
        t0 = g_get_monotonic_time();
        g_assert_cmpuint(n_events(s, (HdEventFilter){.since = 99900, .limit = 100}), ==, 100);
        g_test_message("events since= (the portal's poll): %.2f ms",
                       (g_get_monotonic_time() - t0) / 1e3);
        t0 = g_get_monotonic_time();
        for (guint i = 0; i < 100; i++)
                g_free(etag(s, HD_ETAG_EVENTS, NULL));
        g_test_message("the events' ETag: %.3f ms", (g_get_monotonic_time() - t0) / 1e3 / 100);
        g_clear_pointer(&s, hd_store_free);
        cleanup(dir, db);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/engine-query/facets", test_facets);
        g_test_add_func("/engine-query/devices", test_devices);
        g_test_add_func("/engine-query/upgrade", test_upgrade);
        g_test_add_func("/engine-query/etags", test_etags);
        g_test_add_func("/engine-query/events", test_events);
        g_test_add_func("/engine-query/large", test_large);
        return g_test_run();
}
