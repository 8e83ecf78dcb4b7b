/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices (issue 16 item 3): parents and types on any bus, instances active and
 * defined, create and remove through the sim's imitation of the mdev core (sim-mdev.c) with
 * capacity shared between types, the kernel's EEXIST/ENOSPC answers, remove refused while
 * open, mdevctl's definition files byte for byte, dry runs, the CLI's --json, and the guest
 * configuration. Topologies: mdev-host (an i915 GVT-g parent with a shared pool of 4, the mtty
 * sample with 24 ports, one mtty-2 open by QEMU in group 40, one mtty-1 only defined) and
 * mdev-no-iommu (an mdev's emulated group on a host without an IOMMU).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostdev.h"
#include "testlib.h"

#define IGPU "0000:00:02.0"
#define V54 "i915-GVTg_V5_4" /* cost 2 of 4 */
#define V58 "i915-GVTg_V5_8" /* cost 1 of 4 */
#define OPEN_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001" /* mtty-2, group 40, QEMU 4242 */
#define DEFINED_UUID "b1a0c0de-0000-4000-8000-00000000beef" /* mtty-1, not active */
#define NEW_UUID "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define MTTY_CREATE(t) "sys/class/mdev_bus/mtty/mdev_supported_types/" t "/create"

static void assert_has(const char *text, const char *needle)
{
        if (!text || !strstr(text, needle))
                g_error("expected \"%s\" in:\n%s", needle, text ? text : "(null)");
}

static char *read_tree(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);
        char *data = NULL;

        if (!g_file_get_contents(path, &data, NULL, NULL))
                return NULL;
        return data;
}

static gboolean exists(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);

        return g_file_test(path, G_FILE_TEST_EXISTS) || g_file_test(path, G_FILE_TEST_IS_SYMLINK);
}

/* available_instances of @type on @parent, as the library reads it. */
static int available(HdCtx *ctx, const char *parent, const char *type)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdMdevParent) p = hd_mdev_parent_load(ctx, parent, &error);

        g_assert_no_error(error);
        for (guint i = 0; i < p->types->len; i++) {
                const HdMdevType *t = p->types->pdata[i];
                if (strcmp(t->id, type) == 0)
                        return t->available;
        }
        g_error("no type %s on %s", type, parent);
        return -1;
}

static HdMdev *find(GPtrArray *mdevs, const char *uuid)
{
        for (guint i = 0; i < mdevs->len; i++)
                if (strcmp(((HdMdev *)mdevs->pdata[i])->uuid, uuid) == 0)
                        return mdevs->pdata[i];
        return NULL;
}

/* ---------------------------------------------------------------- names */

static void test_uuid_strict(void)
{
        char out[HD_MDEV_UUID_STRLEN];
        static const char *const bad[] = {
                "0B1F2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", /* uppercase */
                "{0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}",
                "0b1f2c3d4e5f4a6b8c7d9e0f1a2b3c4d",
                "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n",
                " 0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4",
                "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4dd",
                "0b1f2c3d-4e5f-4a6b-8c7d_9e0f1a2b3c4d",
                "../../../../etc/passwd-aaaa-bbbb-cccc",
                "0g1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "",
        };

        g_assert_true(hd_mdev_uuid_parse(NEW_UUID, out));
        g_assert_cmpstr(out, ==, NEW_UUID);
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
                g_assert_false(hd_mdev_uuid_parse(bad[i], NULL));
        g_assert_false(hd_mdev_uuid_parse(NULL, NULL));
        for (guint i = 0; i < 20; i++) {
                g_autofree char *u = hd_mdev_uuid_generate();
                g_assert_true(hd_mdev_uuid_parse(u, NULL));
                g_assert_cmpint(u[14], ==, '4'); /* version 4 */
                g_assert_true(strchr("89ab", u[19]));
        }
}

/* ---------------------------------------------------------------- listing */

static void test_list_parents_and_types(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) parents = hd_mdev_list_parents(ctx, &error);
        const HdMdevParent *gpu, *mtty;
        const HdMdevType *t;

        g_assert_no_error(error);
        g_assert_cmpuint(parents->len, ==, 2);
        gpu = parents->pdata[0];
        mtty = parents->pdata[1];
        g_assert_cmpstr(gpu->name, ==, IGPU);
        g_assert_true(gpu->is_pci);
        g_assert_cmpstr(gpu->driver, ==, "i915");
        g_assert_cmpstr(gpu->sysfs_path, ==, "/sys/devices/pci0000:00/0000:00:02.0");
        g_assert_cmpuint(gpu->types->len, ==, 2);
        t = gpu->types->pdata[0];
        g_assert_cmpstr(t->id, ==, V54);
        g_assert_cmpstr(t->name, ==, "GVTg_V5_4");
        assert_has(t->description, "resolution: 1920x1200");
        g_assert_cmpstr(t->device_api, ==, "vfio-pci");
        g_assert_cmpint(t->available, ==, 2);
        g_assert_cmpint(((HdMdevType *)gpu->types->pdata[1])->available, ==, 4);

        /* a virtual parent, not on PCI */
        g_assert_cmpstr(mtty->name, ==, "mtty");
        g_assert_false(mtty->is_pci);
        g_assert_cmpstr(mtty->sysfs_path, ==, "/sys/devices/virtual/mtty/mtty");
        t = mtty->types->pdata[1];
        g_assert_cmpstr(t->id, ==, "mtty-2");
        g_assert_cmpstr(t->name, ==, "Dual port serial");
        g_assert_cmpint(t->available, ==, 11);
        g_assert_cmpuint(t->instances->len, ==, 1);
        g_assert_cmpstr(t->instances->pdata[0], ==, OPEN_UUID);
        g_assert_cmpint(((HdMdevType *)mtty->types->pdata[0])->available, ==, 22);
}

static void test_optional_type_attributes(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *name = hd_test_path(fx, "sys/devices/virtual/mtty/mtty/"
                                                 "mdev_supported_types/mtty-1/name");
        g_autoptr(HdMdevParent) p = NULL;
        const HdMdevType *t;

        /* name and description are optional in the ABI */
        g_assert_cmpint(unlink(name), ==, 0);
        p = hd_mdev_parent_load(ctx, "mtty", &error);
        g_assert_no_error(error);
        t = p->types->pdata[0];
        g_assert_cmpstr(t->id, ==, "mtty-1");
        g_assert_null(t->name);
        g_assert_null(t->description);
        g_assert_cmpint(t->available, ==, 22);
}

static void test_resolve_parent(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        static const char *const forms[] = { "0000:00:02.0", "00:02.0", "0:2.0",
                                             "pci_0000_00_02_0" };

        for (gsize i = 0; i < G_N_ELEMENTS(forms); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *p = hd_mdev_resolve_parent(ctx, forms[i], &error);
                g_assert_no_error(error);
                g_assert_cmpstr(p, ==, IGPU);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autofree char *p = hd_mdev_resolve_parent(ctx, "mtty", &error);
                g_assert_no_error(error);
                g_assert_cmpstr(p, ==, "mtty");
        }
        {
                /* a PCI device that is not a parent; a name that is no parent */
                static const char *const no[] = { "0000:02:00.0", "matrix", "../mtty" };
                for (gsize i = 0; i < G_N_ELEMENTS(no); i++) {
                        g_autoptr(GError) error = NULL;
                        g_autofree char *p = hd_mdev_resolve_parent(ctx, no[i], &error);
                        g_assert_null(p);
                        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
                        assert_has(error->message, "the parents are 0000:00:02.0, mtty");
                }
        }
}

static void test_list_active_and_defined(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) mdevs = hd_mdev_list(ctx, &error);
        HdMdev *m;

        g_assert_no_error(error);
        g_assert_cmpuint(mdevs->len, ==, 2);
        m = find(mdevs, OPEN_UUID);
        g_assert_nonnull(m);
        g_assert_true(m->active);
        g_assert_false(m->defined);
        g_assert_cmpstr(m->parent, ==, "mtty");
        g_assert_cmpstr(m->type, ==, "mtty-2");
        g_assert_cmpint(m->iommu_group, ==, 40);
        g_assert_cmpstr(m->driver, ==, "vfio_mdev");
        g_assert_cmpuint(m->holders->len, ==, 1);
        assert_has(m->holders->pdata[0], "4242 (qemu-system-x86)");

        /* defined for mdevctl, not active: as `mdevctl list --defined` shows it */
        m = find(mdevs, DEFINED_UUID);
        g_assert_nonnull(m);
        g_assert_false(m->active);
        g_assert_true(m->defined);
        g_assert_cmpstr(m->start, ==, "auto");
        g_assert_cmpstr(m->parent, ==, "mtty");
        g_assert_cmpstr(m->type, ==, "mtty-1");
        g_assert_cmpint(m->iommu_group, ==, -1);
        g_assert_cmpuint(m->holders->len, ==, 0);
}

/* ---------------------------------------------------------------- create / remove */

static void test_create_with_uuid(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *made = NULL;
        g_autoptr(HdMdev) m = NULL;
        const GPtrArray *log;
        const HdCtxWrite *w;

        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-1", NEW_UUID, FALSE, &made, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(made, ==, NEW_UUID);
        log = hd_ctx_get_write_log(ctx);
        g_assert_cmpuint(log->len, ==, 1);
        w = log->pdata[0];
        g_assert_cmpint(w->op, ==, HD_BACKEND_OP_WRITE);
        g_assert_cmpstr(w->path, ==, MTTY_CREATE("mtty-1"));
        g_assert_cmpstr(w->value, ==, NEW_UUID);

        /* the sim made the instance as the kernel does: a new emulated group, vfio_mdev */
        m = hd_mdev_get(ctx, NEW_UUID, &error);
        g_assert_no_error(error);
        g_assert_true(m->active);
        g_assert_false(m->defined);
        g_assert_cmpstr(m->type, ==, "mtty-1");
        g_assert_cmpstr(m->parent, ==, "mtty");
        g_assert_cmpint(m->iommu_group, ==, 41);
        g_assert_cmpstr(m->driver, ==, "vfio_mdev");
        g_assert_true(exists(fx, "sys/kernel/iommu_groups/41/devices/" NEW_UUID));
        g_assert_true(exists(fx, "dev/vfio/41"));
        g_assert_true(exists(fx, "sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/"
                                 "devices/" NEW_UUID));
        /* no definition without --persist */
        g_assert_false(exists(fx, "etc/mdevctl.d/mtty/" NEW_UUID));
        /* the per-parent lock file */
        g_assert_true(exists(fx, "run/hostdev/mdev-mtty.lock"));
}

static void test_create_generates_uuid(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *made = NULL;
        g_autofree char *link = NULL;

        g_assert_true(hd_mdev_create(ctx, IGPU, V58, NULL, FALSE, &made, &error));
        g_assert_no_error(error);
        g_assert_true(hd_mdev_uuid_parse(made, NULL));
        g_assert_cmpint(made[14], ==, '4');
        link = g_strdup_printf("sys/bus/mdev/devices/%s", made);
        g_assert_true(exists(fx, link));
        g_assert_cmpint(available(ctx, IGPU, V58), ==, 3);
}

static void test_capacity_shared_and_given_back(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *a = NULL, *b = NULL;

        /* mtty: 24 ports, one mtty-2 exists: 22 / 11 */
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 22);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 11);
        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-2", NULL, FALSE, &a, &error));
        g_assert_no_error(error);
        /* a 2-port instance lowers both types */
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 20);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 10);
        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-1", NULL, FALSE, &b, &error));
        g_assert_no_error(error);
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 19);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 9);
        /* the other parent is untouched */
        g_assert_cmpint(available(ctx, IGPU, V54), ==, 2);

        g_assert_true(hd_mdev_remove(ctx, a, FALSE, &error));
        g_assert_no_error(error);
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 21);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 10);
        g_assert_true(hd_mdev_remove(ctx, b, FALSE, &error));
        g_assert_no_error(error);
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 22);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 11);
        /* the instance, its group and its node are gone */
        {
                g_autofree char *link = g_strdup_printf("sys/bus/mdev/devices/%s", a);
                g_assert_false(exists(fx, link));
                g_assert_false(exists(fx, "sys/kernel/iommu_groups/41"));
                g_assert_false(exists(fx, "dev/vfio/41"));
        }
}

static void test_capacity_without_pool_model(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *model = hd_test_path(fx, "var/lib/hostdev-sim/mdev/mtty");
        g_autofree char *a = NULL;

        /* without the fixture's pool each type counts on its own */
        g_assert_cmpint(unlink(model), ==, 0);
        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-2", NULL, FALSE, &a, &error));
        g_assert_no_error(error);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 10);
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 22);
        g_assert_true(hd_mdev_remove(ctx, a, FALSE, &error));
        g_assert_no_error(error);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 11);
}

static void test_over_capacity_refused(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *a = NULL, *b = NULL, *c = NULL;
        guint before;

        /* GVT-g: V5_4 takes 2 of 4, so two of them leave nothing for either type */
        g_assert_true(hd_mdev_create(ctx, IGPU, V54, NULL, FALSE, &a, &error));
        g_assert_cmpint(available(ctx, IGPU, V54), ==, 1);
        g_assert_cmpint(available(ctx, IGPU, V58), ==, 2);
        g_assert_true(hd_mdev_create(ctx, IGPU, V54, NULL, FALSE, &b, &error));
        g_assert_no_error(error);
        g_assert_cmpint(available(ctx, IGPU, V54), ==, 0);
        g_assert_cmpint(available(ctx, IGPU, V58), ==, 0);

        before = hd_ctx_get_write_log(ctx)->len;
        g_assert_false(hd_mdev_create(ctx, IGPU, V58, NULL, FALSE, &c, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        assert_has(error->message, "no capacity left for type " V58);
        assert_has(error->message, "hostdev mdev types " IGPU);
        /* refused before writing */
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, before);
        g_assert_null(c);
}

static void test_sim_kernel_answers(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        /* guid_parse(): any case, a trailing newline; stored lowercase */
        g_assert_true(hd_ctx_write(ctx, MTTY_CREATE("mtty-1"),
                                   "0B1F2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D\n", &error));
        g_assert_no_error(error);
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        /* duplicate: EEXIST */
        g_assert_false(hd_ctx_write(ctx, MTTY_CREATE("mtty-2"), NEW_UUID, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
        g_clear_error(&error);
        /* not a UUID: EINVAL */
        g_assert_false(hd_ctx_write(ctx, MTTY_CREATE("mtty-1"), "not-a-uuid", &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        /* over capacity: ENOSPC (fill the 24 ports: 22 - 1 = 21 left, mtty-2 takes 2) */
        for (guint i = 0; i < 10; i++) {
                g_autofree char *u = hd_mdev_uuid_generate();
                g_assert_true(hd_ctx_write(ctx, MTTY_CREATE("mtty-2"), u, &error));
                g_assert_no_error(error);
        }
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 0);
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 1);
        {
                g_autofree char *u = hd_mdev_uuid_generate();
                g_assert_false(hd_ctx_write(ctx, MTTY_CREATE("mtty-2"), u, &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
                g_clear_error(&error);
        }
        /* remove: a number, 0 does nothing */
        g_assert_false(hd_ctx_write(ctx, "sys/bus/mdev/devices/" NEW_UUID "/remove", "yes",
                                    &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_true(hd_ctx_write(ctx, "sys/bus/mdev/devices/" NEW_UUID "/remove", "0", &error));
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/mdev/devices/" NEW_UUID "/remove", "1", &error));
        g_assert_no_error(error);
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 2);
        g_assert_cmpint(available(ctx, "mtty", "mtty-2"), ==, 1);
}

static void test_duplicate_uuid(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        /* an active UUID is refused before writing */
        g_assert_false(hd_mdev_create(ctx, "mtty", "mtty-1", OPEN_UUID, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        assert_has(error->message, "UUID exists");
        assert_has(error->message, OPEN_UUID);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        g_clear_error(&error);

        /* the kernel's EEXIST (made by someone else between the check and the write) */
        hd_ctx_set_sim_faults(ctx, "write@" MTTY_CREATE("mtty-1") "=EEXIST");
        g_assert_false(hd_mdev_create(ctx, "mtty", "mtty-1", NEW_UUID, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        assert_has(error->message, "UUID exists: mdev parent mtty refused " NEW_UUID
                                   " for type mtty-1");
        assert_has(error->message, "hostdev mdev list");
        g_clear_error(&error);

        /* defined for mdevctl on another parent */
        hd_ctx_set_sim_faults(ctx, NULL);
        g_assert_false(hd_mdev_create(ctx, IGPU, V58, DEFINED_UUID, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        assert_has(error->message, "defined for mdevctl on mdev parent mtty");
        g_clear_error(&error);

        /* a UUID that is not canonical never becomes a path */
        hd_ctx_set_sim_faults(ctx, NULL);
        g_assert_false(hd_mdev_create(ctx, "mtty", "mtty-1", "../../../../etc/x", FALSE, NULL,
                                      &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 1); /* only the injected one */
}

static void test_capacity_changed_between_read_and_write(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        /* available_instances says 22, and the kernel answers ENOSPC anyway */
        hd_ctx_set_sim_faults(ctx, "write@" MTTY_CREATE("mtty-1") "=ENOSPC");
        g_assert_false(hd_mdev_create(ctx, "mtty", "mtty-1", NULL, TRUE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        assert_has(error->message, "capacity changed: mdev parent mtty refused another mtty-1 "
                                   "instance");
        assert_has(error->message, "hostdev mdev types mtty");
        /* nothing defined for an instance that was not made */
        g_assert_false(exists(fx, "etc/mdevctl.d/mtty/" NEW_UUID));
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 1);
}

static void test_parent_lock_busy(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdGroupLocks) held = hd_named_lock_acquire(ctx, "mdev-mtty", "mdev parent mtty",
                                                             &error);
        g_autofree char *pid = g_strdup_printf("pid %d", (int)getpid());

        g_assert_no_error(error);
        g_assert_false(hd_mdev_create(ctx, "mtty", "mtty-1", NULL, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        assert_has(error->message, "mdev parent mtty is being changed by another hostdev process");
        assert_has(error->message, pid);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        g_clear_error(&error);
        /* another parent is independent */
        g_assert_true(hd_mdev_create(ctx, IGPU, V58, NULL, FALSE, NULL, &error));
        g_assert_no_error(error);
}

static void test_remove_refused_while_open(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_false(hd_mdev_remove(ctx, OPEN_UUID, FALSE, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        assert_has(error->message, "4242 (qemu-system-x86)");
        assert_has(error->message, "/dev/vfio/40");
        assert_has(error->message, "would block");
        /* nothing written: the kernel's write would have blocked */
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" OPEN_UUID));
        g_clear_error(&error);

        /* the VM is gone: then it goes */
        {
                g_autofree char *fd = hd_test_path(fx, "proc/4242/fd/4");
                g_assert_cmpint(unlink(fd), ==, 0);
        }
        g_assert_true(hd_mdev_remove(ctx, OPEN_UUID, FALSE, &error));
        g_assert_no_error(error);
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" OPEN_UUID));
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 24);
}

static void test_remove_unknown_and_defined(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_false(hd_mdev_remove(ctx, NEW_UUID, FALSE, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(hd_mdev_remove(ctx, "not-a-uuid", TRUE, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        /* defined, not active: only --persist, which undefines it */
        g_assert_false(hd_mdev_remove(ctx, DEFINED_UUID, FALSE, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        assert_has(error->message, "--persist removes its definition");
        g_clear_error(&error);
        g_assert_true(hd_mdev_remove(ctx, DEFINED_UUID, TRUE, &error));
        g_assert_no_error(error);
        g_assert_false(exists(fx, "etc/mdevctl.d/mtty/" DEFINED_UUID));
}

/* ---------------------------------------------------------------- persistence */

static void test_persist_mdevctl_format(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL, *pci_text = NULL;
        g_autofree char *made = NULL, *pci_path = NULL;
        g_autoptr(GPtrArray) mdevs = NULL;
        const GPtrArray *log;
        HdMdev *m;

        /* exactly what mdevctl 1.2's write_config() writes (testdata/define/uuid-auto.expected) */
        text = hd_mdev_definition_text("i915-GVTg_V5_4", TRUE);
        g_assert_cmpstr(text, ==, "{\n  \"mdev_type\": \"i915-GVTg_V5_4\",\n  \"start\": \"auto\",\n"
                                  "  \"attrs\": []\n}");
        g_clear_pointer(&text, g_free);
        text = hd_mdev_definition_text("mtty-1", FALSE);
        assert_has(text, "\"start\": \"manual\"");
        g_clear_pointer(&text, g_free);

        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-2", NEW_UUID, TRUE, NULL, &error));
        g_assert_no_error(error);
        text = read_tree(fx, "etc/mdevctl.d/mtty/" NEW_UUID);
        g_assert_cmpstr(text, ==, "{\n  \"mdev_type\": \"mtty-2\",\n  \"start\": \"auto\",\n"
                                  "  \"attrs\": []\n}");
        /* written through the backend, after the instance */
        log = hd_ctx_get_write_log(ctx);
        g_assert_cmpuint(log->len, ==, 2);
        g_assert_cmpint(((HdCtxWrite *)log->pdata[1])->op, ==, HD_BACKEND_OP_INSTALL_FILE);
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[1])->path, ==, "etc/mdevctl.d/mtty/" NEW_UUID);

        /* a PCI parent's directory is its address, as mdevctl names it */
        g_assert_true(hd_mdev_create(ctx, IGPU, V58, NULL, TRUE, &made, &error));
        g_assert_no_error(error);
        pci_path = g_strdup_printf("etc/mdevctl.d/" IGPU "/%s", made);
        pci_text = read_tree(fx, pci_path);
        assert_has(pci_text, "\"mdev_type\": \"" V58 "\"");

        /* round trip: the library reads back what it wrote */
        mdevs = hd_mdev_list(ctx, &error);
        g_assert_no_error(error);
        m = find(mdevs, NEW_UUID);
        g_assert_true(m->active && m->defined);
        g_assert_cmpstr(m->start, ==, "auto");
        g_assert_cmpstr(m->type, ==, "mtty-2");

        /* remove --persist: the instance and the definition */
        g_assert_true(hd_mdev_remove(ctx, NEW_UUID, TRUE, &error));
        g_assert_no_error(error);
        g_assert_false(exists(fx, "etc/mdevctl.d/mtty/" NEW_UUID));
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        /* remove without --persist keeps the definition: defined, not active */
        g_assert_true(hd_mdev_remove(ctx, made, FALSE, &error));
        g_assert_no_error(error);
        g_assert_true(exists(fx, pci_path));
        {
                g_autoptr(HdMdev) d = hd_mdev_get(ctx, made, &error);
                g_assert_no_error(error);
                g_assert_false(d->active);
                g_assert_true(d->defined);
                g_assert_cmpstr(d->parent, ==, IGPU);
                g_assert_cmpstr(d->type, ==, V58);
        }
}

static void test_persist_failure_removes_instance(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        hd_ctx_set_sim_faults(ctx, "write@etc/mdevctl.d/mtty/" NEW_UUID "=EIO");
        g_assert_false(hd_mdev_create(ctx, "mtty", "mtty-1", NEW_UUID, TRUE, NULL, &error));
        assert_has(error->message, "was removed again");
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 22);
}

static void test_create_defined_device(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdMdev) m = NULL;

        /* what mdevctl start does for a defined device: create it with its UUID */
        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-1", DEFINED_UUID, FALSE, NULL, &error));
        g_assert_no_error(error);
        m = hd_mdev_get(ctx, DEFINED_UUID, &error);
        g_assert_true(m->active && m->defined);
        g_assert_cmpstr(m->start, ==, "auto");
}

/* What the udev rule runs at boot: every "auto" definition of the parent that is not active
 * is created; active ones and "manual" ones are left alone; a broken definition or a kernel
 * refusal fails that one device only. */
static void test_start_parent(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) starts = NULL;
        g_autofree char *manual = hd_test_path(fx, "etc/mdevctl.d/mtty/" NEW_UUID);
        g_autofree char *broken =
            hd_test_path(fx, "etc/mdevctl.d/mtty/0b1f2c3d-4e5f-4a6b-8c7d-000000000002");
        g_autofree char *manual_text = hd_mdev_definition_text("mtty-1", FALSE);
        gboolean was_active = TRUE;
        const HdMdevStart *s;

        g_assert_true(g_file_set_contents(manual, manual_text, -1, NULL));
        g_assert_true(g_file_set_contents(broken, "{\"start\": \"auto\"}", -1, NULL));
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" DEFINED_UUID));

        starts = hd_mdev_start_parent(ctx, "mtty", &error);
        g_assert_no_error(error);
        g_assert_cmpuint(starts->len, ==, 3); /* by UUID */
        s = starts->pdata[0];
        g_assert_cmpint(s->outcome, ==, HD_MDEV_START_FAILED);
        assert_has(s->error, "names no mdev_type");
        s = starts->pdata[1];
        g_assert_cmpstr(s->uuid, ==, NEW_UUID);
        g_assert_cmpint(s->outcome, ==, HD_MDEV_START_MANUAL);
        g_assert_cmpstr(s->type, ==, "mtty-1");
        s = starts->pdata[2];
        g_assert_cmpstr(s->uuid, ==, DEFINED_UUID);
        g_assert_cmpint(s->outcome, ==, HD_MDEV_START_STARTED);
        g_assert_cmpstr(hd_mdev_start_outcome_to_string(s->outcome), ==, "started");
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" DEFINED_UUID));
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_clear_pointer(&starts, g_ptr_array_unref);

        /* again: nothing to do, nothing written */
        {
                guint writes = hd_ctx_get_write_log(ctx)->len;
                starts = hd_mdev_start_parent(ctx, "mtty", &error);
                g_assert_no_error(error);
                g_assert_cmpint(((HdMdevStart *)starts->pdata[2])->outcome, ==,
                                HD_MDEV_START_ACTIVE);
                g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, writes);
        }
        g_clear_pointer(&starts, g_ptr_array_unref);

        /* one device: start after a remove without --persist, then again */
        g_assert_true(hd_mdev_remove(ctx, DEFINED_UUID, FALSE, &error));
        g_assert_true(hd_mdev_start(ctx, DEFINED_UUID, &was_active, &error));
        g_assert_no_error(error);
        g_assert_false(was_active);
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" DEFINED_UUID));
        g_assert_true(hd_mdev_start(ctx, DEFINED_UUID, &was_active, &error));
        g_assert_true(was_active);
        /* not defined at all */
        g_assert_false(hd_mdev_start(ctx, "0b1f2c3d-4e5f-4a6b-8c7d-00000000dead", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* the kernel refuses one: reported for it alone */
        g_assert_true(hd_mdev_remove(ctx, DEFINED_UUID, FALSE, &error));
        hd_ctx_set_sim_faults(ctx, "write@" MTTY_CREATE("mtty-1") "=ENOSPC");
        starts = hd_mdev_start_parent(ctx, "mtty", &error);
        g_assert_no_error(error);
        s = starts->pdata[2];
        g_assert_cmpint(s->outcome, ==, HD_MDEV_START_FAILED);
        assert_has(s->error, "capacity changed");
        g_clear_pointer(&starts, g_ptr_array_unref);

        /* a parent the kernel has not registered (yet) */
        g_assert_null(hd_mdev_start_parent(ctx, "0000:00:1f.0", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
}

static void test_dry_run_writes_nothing(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *made = NULL;
        const GPtrArray *log;

        hd_ctx_set_dry_run(ctx, TRUE);
        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-1", NEW_UUID, TRUE, &made, &error));
        g_assert_no_error(error);
        log = hd_ctx_get_write_log(ctx);
        g_assert_cmpuint(log->len, ==, 2);
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[0])->path, ==, MTTY_CREATE("mtty-1"));
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[1])->path, ==, "etc/mdevctl.d/mtty/" NEW_UUID);
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_assert_false(exists(fx, "etc/mdevctl.d/mtty/" NEW_UUID));
        g_assert_false(exists(fx, "run/hostdev/mdev-mtty.lock"));
        g_assert_cmpint(available(ctx, "mtty", "mtty-1"), ==, 22);

        g_assert_true(hd_mdev_remove(ctx, DEFINED_UUID, TRUE, &error));
        g_assert_no_error(error);
        g_assert_true(exists(fx, "etc/mdevctl.d/mtty/" DEFINED_UUID));
}

/* ---------------------------------------------------------------- groups */

static void test_groups_with_mdev_members(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GArray) addrs = NULL;
        g_autoptr(HdMdev) m = NULL;

        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-1", NEW_UUID, FALSE, NULL, &error));
        inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, &error);
        g_assert_no_error(error);
        /* the PCI groups only; the mdevs' groups are not PCI groups */
        g_assert_null(hd_inventory_lookup_group(inv, 40));
        g_assert_null(hd_inventory_lookup_group(inv, 41));
        g_assert_cmpuint(hd_state_evaluate_inventory(ctx, inv), ==, 0);
        addrs = hd_iommu_group_addresses(ctx, 41);
        g_assert_cmpuint(addrs->len, ==, 0);
        g_assert_cmpuint(hd_iommu_pci_group_count(ctx), ==, 6);
        m = hd_mdev_for_group(ctx, 41);
        g_assert_nonnull(m);
        g_assert_cmpstr(m->uuid, ==, NEW_UUID);
        g_assert_null(hd_mdev_for_group(ctx, 1));
}

static void test_no_iommu_host(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-no-iommu");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdMdev) m = hd_mdev_for_group(ctx, 0);
        g_autoptr(HdInventory) inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, &error);

        /* a group exists, and still no IOMMU */
        g_assert_nonnull(m);
        g_assert_cmpstr(m->type, ==, "mtty-1");
        g_assert_false(hd_host_has_iommu_groups(ctx));
        g_assert_cmpuint(hd_iommu_pci_group_count(ctx), ==, 0);
        g_assert_no_error(error);
        g_assert_cmpuint(inv->groups->len, ==, 0);
        /* a new instance gets the next emulated group */
        g_assert_true(hd_mdev_create(ctx, "mtty", "mtty-2", NEW_UUID, FALSE, NULL, &error));
        g_assert_no_error(error);
        g_clear_pointer(&m, hd_mdev_free);
        m = hd_mdev_get(ctx, NEW_UUID, &error);
        g_assert_cmpint(m->iommu_group, ==, 1);
        g_assert_false(hd_host_has_iommu_groups(ctx));
}

/* ---------------------------------------------------------------- guest configuration */

static void test_guest_config_strings(void)
{
        g_autofree char *xml = hd_mdev_hostdev_xml(NEW_UUID, 4);
        g_autofree char *dev = hd_mdev_qemu_device(NEW_UUID, "mdev0");
        g_autofree char *bare = hd_mdev_qemu_device(NEW_UUID, NULL);

        g_assert_cmpstr(xml, ==,
                        "    <hostdev mode='subsystem' type='mdev' model='vfio-pci' managed='no'>\n"
                        "      <source>\n"
                        "        <address uuid='" NEW_UUID "'/>\n"
                        "      </source>\n"
                        "    </hostdev>\n");
        g_assert_cmpstr(dev, ==, "vfio-pci,sysfsdev=/sys/bus/mdev/devices/" NEW_UUID ",id=mdev0");
        g_assert_cmpstr(bare, ==, "vfio-pci,sysfsdev=/sys/bus/mdev/devices/" NEW_UUID);
}

/* ---------------------------------------------------------------- CLI */

static int cli(const HdTestFixture *fx, const char *const *args, const char *const *env,
               char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, "--root");
        g_ptr_array_add(argv, fx->root);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, env, out, err);
}

static JsonObject *json_of(const char *text, JsonNode **keep)
{
        *keep = hd_test_parse_json(text);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(*keep));
        return json_node_get_object(*keep);
}

static void test_cli_types_and_list_json(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autofree char *out = NULL, *out2 = NULL, *text = NULL;
        g_autoptr(JsonNode) n1 = NULL, n2 = NULL;
        JsonObject *o, *p, *t;
        JsonArray *mdevs;

        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "types", "mtty", "--json", NULL }, NULL,
                            &out, NULL),
                        ==, 0);
        o = json_of(out, &n1);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "parents")), ==, 1);
        p = json_array_get_object_element(json_object_get_array_member(o, "parents"), 0);
        g_assert_cmpstr(json_object_get_string_member(p, "parent"), ==, "mtty");
        g_assert_cmpstr(json_object_get_string_member(p, "path"), ==,
                        "/sys/devices/virtual/mtty/mtty");
        g_assert_false(json_object_get_boolean_member(p, "pci"));
        g_assert_true(json_object_get_null_member(p, "driver"));
        t = json_array_get_object_element(json_object_get_array_member(p, "types"), 1);
        g_assert_cmpstr(json_object_get_string_member(t, "type"), ==, "mtty-2");
        g_assert_cmpstr(json_object_get_string_member(t, "name"), ==, "Dual port serial");
        g_assert_true(json_object_get_null_member(t, "description"));
        g_assert_cmpstr(json_object_get_string_member(t, "device_api"), ==, "vfio-pci");
        g_assert_cmpint(json_object_get_int_member(t, "available_instances"), ==, 11);
        g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(t, "instances"),
                                                      0),
                        ==, OPEN_UUID);

        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "list", "--json", NULL }, NULL, &out2,
                            NULL),
                        ==, 0);
        o = json_of(out2, &n2);
        mdevs = json_object_get_array_member(o, "mdevs");
        g_assert_cmpuint(json_array_get_length(mdevs), ==, 2);
        p = json_array_get_object_element(mdevs, 0);
        g_assert_cmpstr(json_object_get_string_member(p, "uuid"), ==, OPEN_UUID);
        g_assert_cmpstr(json_object_get_string_member(p, "parent"), ==, "mtty");
        g_assert_cmpstr(json_object_get_string_member(p, "type"), ==, "mtty-2");
        g_assert_true(json_object_get_boolean_member(p, "active"));
        g_assert_false(json_object_get_boolean_member(p, "defined"));
        g_assert_true(json_object_get_null_member(p, "start"));
        g_assert_cmpint(json_object_get_int_member(p, "iommu_group"), ==, 40);
        g_assert_cmpstr(json_object_get_string_member(p, "driver"), ==, "vfio_mdev");
        g_assert_true(json_object_get_boolean_member(p, "open"));
        assert_has(json_array_get_string_element(json_object_get_array_member(p, "held_by"), 0),
                   "4242 (qemu-system-x86)");
        p = json_array_get_object_element(mdevs, 1);
        g_assert_false(json_object_get_boolean_member(p, "active"));
        g_assert_true(json_object_get_boolean_member(p, "defined"));
        g_assert_cmpstr(json_object_get_string_member(p, "start"), ==, "auto");
        g_assert_true(json_object_get_null_member(p, "iommu_group"));
        g_assert_false(json_object_get_boolean_member(p, "open"));

        /* text: both parents, a PCI one by address */
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "types", NULL }, NULL, &text, NULL), ==,
                        0);
        assert_has(text, IGPU "  /sys/devices/pci0000:00/0000:00:02.0, driver i915");
        assert_has(text, "mtty-1  22");
}

static void test_cli_create_remove(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autofree char *out = NULL, *err = NULL, *dry = NULL, *rm = NULL, *busy = NULL;
        g_autofree char *busy_out = NULL, *usage = NULL, *cap = NULL;
        g_autoptr(JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;
        JsonObject *o;
        JsonArray *writes;
        const char *const fail_env[] = {
                "HOSTDEV_SIM_FAIL=write@" MTTY_CREATE("mtty-1") "=ENOSPC", NULL
        };

        /* --dry-run --json: the plan, nothing made */
        g_assert_cmpint(cli(fx,
                            (const char *[]){ "mdev", "create", "0:2.0", V54, "--uuid", NEW_UUID,
                                              "--persist", "--dry-run", "--json", NULL },
                            NULL, &dry, NULL),
                        ==, 0);
        o = json_of(dry, &n1);
        g_assert_cmpstr(json_object_get_string_member(o, "uuid"), ==, NEW_UUID);
        g_assert_cmpstr(json_object_get_string_member(o, "parent"), ==, IGPU);
        g_assert_cmpstr(json_object_get_string_member(o, "type"), ==, V54);
        g_assert_true(json_object_get_boolean_member(o, "persistent"));
        g_assert_true(json_object_get_boolean_member(o, "dry_run"));
        writes = json_object_get_array_member(o, "writes");
        g_assert_cmpuint(json_array_get_length(writes), ==, 2);
        g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(writes, 0),
                                                      "path"),
                        ==, "/sys/class/mdev_bus/" IGPU "/mdev_supported_types/" V54 "/create");
        g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(writes, 1),
                                                      "op"),
                        ==, "install-file");
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));

        /* for real, then remove --persist */
        g_assert_cmpint(cli(fx,
                            (const char *[]){ "mdev", "create", "0000:00:02.0", V54, "--uuid",
                                              NEW_UUID, "--persist", "--json", NULL },
                            NULL, &out, &err),
                        ==, 0);
        o = json_of(out, &n2);
        g_assert_false(json_object_get_boolean_member(o, "dry_run"));
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_assert_true(exists(fx, "etc/mdevctl.d/" IGPU "/" NEW_UUID));
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "remove", NEW_UUID, "--persist", "--json",
                                                  NULL },
                            NULL, &rm, NULL),
                        ==, 0);
        o = json_of(rm, &n3);
        g_assert_cmpstr(json_object_get_string_member(o, "uuid"), ==, NEW_UUID);
        g_assert_true(json_object_get_boolean_member(o, "persistent"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "writes")), ==, 2);
        g_assert_false(exists(fx, "sys/bus/mdev/devices/" NEW_UUID));
        g_assert_false(exists(fx, "etc/mdevctl.d/" IGPU "/" NEW_UUID));

        /* remove while open: refused, naming the process; JSON error code */
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "remove", OPEN_UUID, "--json", NULL },
                            NULL, &busy_out, &busy),
                        ==, 1);
        assert_has(busy, "4242 (qemu-system-x86)");
        o = json_of(busy_out, &n4);
        g_assert_true(json_object_has_member(o, "error"));

        /* capacity changed between the read and the write */
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "create", "mtty", "mtty-1", NULL },
                            fail_env, NULL, &cap),
                        ==, 1);
        assert_has(cap, "capacity changed: mdev parent mtty");
        assert_has(cap, "hostdev mdev types mtty");

        /* usage errors */
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "remove", "ABC", NULL }, NULL, NULL,
                            &usage),
                        ==, 2);
        assert_has(usage, "not a UUID");
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "create", "mtty", "mtty-1", "--uuid",
                                                  "0B1F2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", NULL },
                            NULL, NULL, NULL),
                        ==, 2);
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "list", "--persist", NULL }, NULL, NULL,
                            NULL),
                        ==, 2);
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "create", "mtty", "mtty-9", NULL }, NULL,
                            NULL, NULL),
                        ==, 1);
}

/* `mdev start` and `mdev start-parent` (what the udev rule runs), and the rule itself. */
static void test_cli_start_and_rule(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autofree char *out = NULL, *again = NULL, *one = NULL, *rule = NULL, *rule_path = NULL;
        g_autoptr(JsonNode) n1 = NULL, n2 = NULL, n3 = NULL;
        JsonObject *o, *m;
        JsonArray *mdevs;

        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "start-parent", "mtty", "--json", NULL },
                            NULL, &out, NULL),
                        ==, 0);
        o = json_of(out, &n1);
        g_assert_cmpstr(json_object_get_string_member(o, "parent"), ==, "mtty");
        g_assert_false(json_object_get_boolean_member(o, "dry_run"));
        mdevs = json_object_get_array_member(o, "mdevs");
        g_assert_cmpuint(json_array_get_length(mdevs), ==, 1);
        m = json_array_get_object_element(mdevs, 0);
        g_assert_cmpstr(json_object_get_string_member(m, "uuid"), ==, DEFINED_UUID);
        g_assert_cmpstr(json_object_get_string_member(m, "type"), ==, "mtty-1");
        g_assert_cmpstr(json_object_get_string_member(m, "outcome"), ==, "started");
        g_assert_true(json_object_get_null_member(m, "error"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "writes")), ==, 1);
        g_assert_true(exists(fx, "sys/bus/mdev/devices/" DEFINED_UUID));

        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "start", DEFINED_UUID, "--json", NULL },
                            NULL, &one, NULL),
                        ==, 0);
        o = json_of(one, &n2);
        g_assert_cmpstr(json_object_get_string_member(o, "uuid"), ==, DEFINED_UUID);
        g_assert_false(json_object_get_boolean_member(o, "started"));

        /* a refusal makes start-parent fail, so udev logs it */
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "remove", DEFINED_UUID, NULL }, NULL,
                            NULL, NULL),
                        ==, 0);
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "start-parent", "mtty", "--json", NULL },
                            (const char *[]){ "HOSTDEV_SIM_FAIL=write@" MTTY_CREATE("mtty-1")
                                              "=ENOSPC",
                                              NULL },
                            &again, NULL),
                        ==, 1);
        o = json_of(again, &n3);
        m = json_array_get_object_element(json_object_get_array_member(o, "mdevs"), 0);
        g_assert_cmpstr(json_object_get_string_member(m, "outcome"), ==, "failed");
        assert_has(json_object_get_string_member(m, "error"), "capacity changed");
        g_assert_cmpint(cli(fx, (const char *[]){ "mdev", "start", DEFINED_UUID, "--persist",
                                                  NULL },
                            NULL, NULL, NULL),
                        ==, 2);

        /* the rule runs exactly this command, and only where mdevctl's rule does not */
        rule_path = g_build_filename(g_getenv("HOSTDEV_SOURCE_DIR"), "data",
                                     "61-hostdev-mdev.rules", NULL);
        g_assert_true(g_file_get_contents(rule_path, &rule, NULL, NULL));
        assert_has(rule, "ENV{MDEV_STATE}==\"registered\"");
        assert_has(rule, "TEST==\"/etc/mdevctl.d/$kernel\"");
        assert_has(rule, "TEST!=\"/usr/sbin/mdevctl\"");
        assert_has(rule, "RUN+=\"/usr/bin/hostdev mdev start-parent $kernel\"");
}

static void test_cli_xml_and_qemu_args(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autofree char *xml = NULL, *args = NULL, *json = NULL, *err = NULL, *dom = NULL;
        g_autofree char *domain = NULL, *dup = NULL;
        g_autoptr(JsonNode) n = NULL;
        JsonArray *a;

        g_assert_cmpint(cli(fx, (const char *[]){ "xml", OPEN_UUID, NULL }, NULL, &xml, NULL), ==,
                        0);
        g_assert_cmpstr(xml, ==,
                        "<hostdev mode='subsystem' type='mdev' model='vfio-pci' managed='no'>\n"
                        "  <source>\n"
                        "    <address uuid='" OPEN_UUID "'/>\n"
                        "  </source>\n"
                        "</hostdev>\n");
        g_assert_cmpint(cli(fx, (const char *[]){ "qemu-args", OPEN_UUID, NULL }, NULL, &args,
                            NULL),
                        ==, 0);
        g_assert_cmpstr(args, ==,
                        "-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/" OPEN_UUID ",id=mdev0\n");
        g_assert_cmpint(cli(fx, (const char *[]){ "qemu-args", OPEN_UUID, "--json", NULL }, NULL,
                            &json, NULL),
                        ==, 0);
        a = json_object_get_array_member(json_of(json, &n), "args");
        g_assert_cmpuint(json_array_get_length(a), ==, 2);
        g_assert_cmpstr(json_array_get_string_element(a, 1), ==,
                        "vfio-pci,sysfsdev=/sys/bus/mdev/devices/" OPEN_UUID ",id=mdev0");

        /* only defined: create it first */
        g_assert_cmpint(cli(fx, (const char *[]){ "xml", DEFINED_UUID, NULL }, NULL, NULL, &err),
                        ==, 1);
        assert_has(err, "hostdev mdev create mtty mtty-1 --uuid " DEFINED_UUID);

        /* into a domain, indented as its devices */
        domain = g_build_filename(fx->root, "vm.xml", NULL);
        g_assert_true(g_file_set_contents(domain,
                                          "<domain type='kvm'>\n  <name>vm</name>\n  <devices>\n"
                                          "    <disk type='file'/>\n  </devices>\n</domain>\n",
                                          -1, NULL));
        g_assert_cmpint(cli(fx, (const char *[]){ "xml", "--domain", domain, OPEN_UUID, NULL },
                            NULL, &dom, NULL),
                        ==, 0);
        assert_has(dom, "    <disk type='file'/>\n"
                        "    <hostdev mode='subsystem' type='mdev' model='vfio-pci' "
                        "managed='no'>\n      <source>\n        <address uuid='" OPEN_UUID
                        "'/>\n      </source>\n    </hostdev>\n  </devices>\n</domain>\n");
        g_assert_true(g_file_set_contents(domain, dom, -1, NULL));
        g_assert_cmpint(cli(fx, (const char *[]){ "xml", "--domain", domain, OPEN_UUID, NULL },
                            NULL, NULL, &dup),
                        ==, 1);
        assert_has(dup, "already a <hostdev> of this domain");
        /* PCI-only options are refused for an mdev alone */
        g_assert_cmpint(cli(fx, (const char *[]){ "qemu-args", "--primary-gpu", OPEN_UUID, NULL },
                            NULL, NULL, NULL),
                        ==, 2);
}

static void test_cli_groups_list_check(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("mdev-host");
        g_autoptr(HdTestFixture) nx = hd_test_fixture_new("mdev-no-iommu");
        g_autofree char *groups = NULL, *g40 = NULL, *check = NULL, *gn = NULL;
        g_autofree char *list = NULL, *check_n = NULL;

        g_assert_cmpint(cli(fx, (const char *[]){ "groups", "--json", NULL }, NULL, &groups, NULL),
                        ==, 0);
        /* the JSON holds the PCI groups only: every member an address */
        g_assert_null(strstr(groups, OPEN_UUID));
        g_assert_null(strstr(groups, "\"group\" : 40"));
        g_assert_nonnull(strstr(groups, "\"group\" : 5"));
        {
                g_autofree char *text = NULL;
                g_assert_cmpint(cli(fx, (const char *[]){ "groups", NULL }, NULL, &text, NULL), ==,
                                0);
                assert_has(text, "group 5: ready");
                assert_has(text, "): 40 (" OPEN_UUID ", mtty-2 on mtty)");
        }
        g_assert_cmpint(cli(fx, (const char *[]){ "list", "--json", NULL }, NULL, &list, NULL), ==,
                        0);
        g_assert_cmpint(hd_test_assert_list_matches_sys(fx->root), >, 0);
        g_assert_cmpint(cli(fx, (const char *[]){ "groups", "40", NULL }, NULL, NULL, &g40), ==, 1);
        assert_has(g40, "IOMMU group 40 holds mediated device " OPEN_UUID " (mtty-2 on mtty)");
        g_assert_cmpint(cli(fx, (const char *[]){ "check", NULL }, NULL, &check, NULL), ==, 0);
        assert_has(check, "IOMMU enabled by the kernel (6 IOMMU groups)");

        /* no IOMMU: the mdev's group does not make one */
        g_assert_cmpint(cli(nx, (const char *[]){ "groups", NULL }, NULL, &gn, NULL), ==, 0);
        assert_has(gn, "No IOMMU groups");
        assert_has(gn, "Emulated IOMMU groups of mediated devices, which say nothing about an "
                       "IOMMU (hostdev mdev list): 0 (5a7c1d00-1111-4222-8333-444455556666, "
                       "mtty-1 on mtty)");
        cli(nx, (const char *[]){ "check", NULL }, NULL, &check_n, NULL);
        assert_has(check_n, "IOMMU not enabled by the kernel");
        assert_has(check_n, "Passthrough is NOT possible");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/mdev/uuid-strict", test_uuid_strict);
        g_test_add_func("/mdev/list-parents-and-types", test_list_parents_and_types);
        g_test_add_func("/mdev/optional-type-attributes", test_optional_type_attributes);
        g_test_add_func("/mdev/resolve-parent", test_resolve_parent);
        g_test_add_func("/mdev/list-active-and-defined", test_list_active_and_defined);
        g_test_add_func("/mdev/create-with-uuid", test_create_with_uuid);
        g_test_add_func("/mdev/create-generates-uuid", test_create_generates_uuid);
        g_test_add_func("/mdev/capacity-shared-and-given-back",
                        test_capacity_shared_and_given_back);
        g_test_add_func("/mdev/capacity-without-pool-model", test_capacity_without_pool_model);
        g_test_add_func("/mdev/over-capacity-refused", test_over_capacity_refused);
        g_test_add_func("/mdev/sim-kernel-answers", test_sim_kernel_answers);
        g_test_add_func("/mdev/duplicate-uuid", test_duplicate_uuid);
        g_test_add_func("/mdev/capacity-changed-between-read-and-write",
                        test_capacity_changed_between_read_and_write);
        g_test_add_func("/mdev/parent-lock-busy", test_parent_lock_busy);
        g_test_add_func("/mdev/remove-refused-while-open", test_remove_refused_while_open);
        g_test_add_func("/mdev/remove-unknown-and-defined", test_remove_unknown_and_defined);
        g_test_add_func("/mdev/persist-mdevctl-format", test_persist_mdevctl_format);
        g_test_add_func("/mdev/persist-failure-removes-instance",
                        test_persist_failure_removes_instance);
        g_test_add_func("/mdev/create-defined-device", test_create_defined_device);
        g_test_add_func("/mdev/start-parent", test_start_parent);
        g_test_add_func("/mdev/dry-run-writes-nothing", test_dry_run_writes_nothing);
        g_test_add_func("/mdev/groups-with-mdev-members", test_groups_with_mdev_members);
        g_test_add_func("/mdev/no-iommu-host", test_no_iommu_host);
        g_test_add_func("/mdev/guest-config-strings", test_guest_config_strings);
        g_test_add_func("/mdev/cli-types-and-list-json", test_cli_types_and_list_json);
        g_test_add_func("/mdev/cli-create-remove", test_cli_create_remove);
        g_test_add_func("/mdev/cli-start-and-rule", test_cli_start_and_rule);
        g_test_add_func("/mdev/cli-xml-and-qemu-args", test_cli_xml_and_qemu_args);
        g_test_add_func("/mdev/cli-groups-list-check", test_cli_groups_list_check);
        return g_test_run();
}
