/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sim backend behaves like the kernel's PCI driver core on a fixture tree. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

static void assert_driver(const HdTestFixture *fx, const char *addr, const char *want)
{
        g_autofree char *drv = hd_test_driver(fx, addr);

        g_assert_cmpstr(drv, ==, want);
}

static gboolean exists(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *p = hd_test_path(fx, rel);

        return g_file_test(p, G_FILE_TEST_EXISTS);
}

static void test_override_store_and_clear(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *ov = NULL;
        const char *path = "sys/bus/pci/devices/" GPU "/driver_override";

        g_assert_true(hd_ctx_write(ctx, path, "vfio-pci", &error));
        g_assert_no_error(error);
        ov = hd_test_override(fx, GPU);
        g_assert_cmpstr(ov, ==, "vfio-pci");
        g_clear_pointer(&ov, g_free);
        g_assert_true(hd_ctx_write(ctx, path, "\n", &error));
        ov = hd_test_override(fx, GPU);
        g_assert_null(ov);
        g_assert_true(hd_ctx_write(ctx, path, "pci-stub", &error));
        g_assert_true(hd_ctx_write(ctx, path, "", &error));
        g_assert_null(hd_test_override(fx, GPU));
        /* the override alone does not move a bound device */
        assert_driver(fx, GPU, "nouveau");
}

static void test_unbind_bind_probe(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        /* not bound there: ENODEV, nothing changes */
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/drivers/igc/unbind", GPU, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SUCH_DEVICE);
        g_assert_nonnull(strstr(error->message, "No such device"));
        g_clear_error(&error);
        assert_driver(fx, GPU, "nouveau");

        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/unbind", GPU, &error));
        g_assert_no_error(error);
        assert_driver(fx, GPU, NULL);
        g_assert_false(exists(fx, "sys/bus/pci/drivers/nouveau/" GPU));

        /* no override: the probe picks the native driver again */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", GPU, &error));
        assert_driver(fx, GPU, "nouveau");
        g_assert_true(exists(fx, "sys/bus/pci/drivers/nouveau/" GPU));

        /* bind on a bound device: EBUSY */
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/bind", GPU, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
        g_clear_error(&error);

        /* a driver that does not match: ENODEV */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/unbind", GPU, &error));
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/drivers/igc/bind", GPU, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/bind", GPU, &error));
        assert_driver(fx, GPU, "nouveau");

        /* an unknown device */
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", "0000:09:00.0", &error));
        g_assert_nonnull(error);
}

static void test_load_module(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_false(exists(fx, "sys/bus/pci/drivers/vfio-pci"));
        g_assert_true(hd_ctx_load_module(ctx, "vfio-pci", &error));
        g_assert_no_error(error);
        g_assert_true(exists(fx, "sys/bus/pci/drivers/vfio-pci/bind"));
        g_assert_true(exists(fx, "sys/module/vfio_pci/initstate"));
        g_assert_true(exists(fx, "sys/module/vfio_pci_core"));
        g_assert_true(exists(fx, "sys/module/vfio_iommu_type1"));
        g_assert_true(exists(fx, "dev/vfio/vfio"));

        g_assert_false(hd_ctx_load_module(ctx, "no_such_module", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        g_assert_nonnull(
                strstr(error->message, "not found in directory /lib/modules/6.1.0-18-amd64"));
}

static void test_probe_with_override_and_vfio_node(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_true(hd_ctx_load_module(ctx, "vfio-pci", &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci",
                                   &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/unbind", GPU, &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", GPU, &error));
        g_assert_no_error(error);
        assert_driver(fx, GPU, "vfio-pci");
        /* the group registers with its first vfio device, viable or not */
        g_assert_true(exists(fx, "dev/vfio/1"));

        /* the override holds: a probe after unbind goes back to vfio-pci */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/unbind", GPU, &error));
        g_assert_false(exists(fx, "dev/vfio/1"));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", GPU, &error));
        assert_driver(fx, GPU, "vfio-pci");

        /* an override naming a driver that is not loaded leaves the device unbound */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/unbind", GPU, &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/devices/" GPU "/driver_override", "pci-stub",
                                   &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", GPU, &error));
        assert_driver(fx, GPU, NULL);
}

static void test_vfio_refuses_bridge(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("pci-bridge");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        const char *bridge = "0000:01:00.0";

        g_assert_true(hd_ctx_load_module(ctx, "vfio-pci", &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/devices/0000:01:00.0/driver_override",
                                   "vfio-pci", &error));
        /* like "probe ... failed with error -22": the write succeeds, nothing binds */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", bridge, &error));
        g_assert_no_error(error);
        assert_driver(fx, bridge, NULL);
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/bind", bridge, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        assert_driver(fx, bridge, NULL);
}

static void test_new_id(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_true(hd_ctx_load_module(ctx, "vfio-pci", &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO, &error));
        /* new_id probes unbound devices with that id at once */
        g_assert_true(
                hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/new_id", "10de 10f0", &error));
        g_assert_no_error(error);
        assert_driver(fx, AUDIO, "vfio-pci");
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/remove_id", "10de 10f0",
                                   &error));
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/drivers/vfio-pci/remove_id", "10de 10f0",
                                    &error));
        g_assert_nonnull(error);
}

static void test_faults(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        hd_ctx_set_sim_faults(ctx, "unbind@" AUDIO "=EBUSY,probe@" GPU "=EINVAL,load@vfio_pci=EIO");
        g_assert_false(
                hd_ctx_write(ctx, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
        g_clear_error(&error);
        assert_driver(fx, AUDIO, "snd_hda_intel");

        g_assert_false(hd_ctx_load_module(ctx, "vfio-pci", &error));
        g_assert_nonnull(error);
        g_clear_error(&error);

        /* a failing probe is silent: the write succeeds, the device stays unbound */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/unbind", GPU, &error));
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", GPU, &error));
        g_assert_no_error(error);
        assert_driver(fx, GPU, NULL);
        /* but a direct bind still works (how rollback recovers from it) */
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/bind", GPU, &error));
        assert_driver(fx, GPU, "nouveau");

        /* the environment sets the default for new contexts */
        g_setenv("HOSTDEV_SIM_FAIL", "override@*=EPERM", TRUE);
        {
                g_autoptr(HdCtx) ctx2 = hd_test_ctx_new(fx);
                g_assert_false(hd_ctx_write(ctx2, "sys/bus/pci/devices/" GPU "/driver_override",
                                            "vfio-pci", &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
        }
        g_unsetenv("HOSTDEV_SIM_FAIL");
}

static void test_native_state_survives_contexts(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(GError) error = NULL;

        {
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/nouveau/unbind", GPU, &error));
        }
        {
                /* a new process (context) still knows nouveau is the native driver */
                g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
                g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", GPU, &error));
        }
        assert_driver(fx, GPU, "nouveau");
}

static void test_install_remove_file(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;

        g_assert_true(hd_ctx_install_file(ctx, "etc/x/y/z.conf", "hello\n", 0644, &error));
        g_assert_true(exists(fx, "etc/x/y/z.conf"));
        g_assert_true(hd_ctx_remove_file(ctx, "etc/x/y/z.conf", &error));
        g_assert_false(exists(fx, "etc/x/y/z.conf"));
        g_assert_true(hd_ctx_remove_file(ctx, "etc/x/y/z.conf", &error));
        g_assert_no_error(error);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 3);
}

static void test_sriov_numvfs(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        const char *numvfs = "sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs";

        /* 2 enabled: changing to 4 needs 0 first, as the kernel says */
        g_assert_false(hd_ctx_write(ctx, numvfs, "4", &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
        g_clear_error(&error);
        g_assert_true(hd_ctx_write(ctx, numvfs, "0", &error));
        g_assert_true(hd_ctx_write(ctx, numvfs, "4", &error));
        g_assert_no_error(error);
        g_assert_false(hd_ctx_write(ctx, numvfs, "0", &error) &&
                       hd_ctx_write(ctx, numvfs, "100000", &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        /* not a PF */
        g_assert_false(hd_ctx_write(ctx, "sys/bus/pci/devices/0000:5e:00.0/sriov_numvfs", "1",
                                    &error));
        g_assert_nonnull(error);
}

/* Not only our fixtures: a snapshot of a real machine (no driver back-links, no modules). */
static void test_snapshot_tree(void)
{
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *tarball = g_build_filename(g_getenv("HOSTDEV_SOURCE_DIR"), "tests",
                                                    "fixtures", "snapshots",
                                                    "kvm-guest-virtio.tar.gz", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = NULL;
        HdTestFixture fx = { .root = tmp };
        int status = 0;
        const char *rng = "0000:00:05.0";

        {
                const char *argv[] = { "tar", "xzf", tarball, "-C", tmp, NULL };
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, &status, &error);
                g_assert_no_error(error);
                g_assert_true(g_spawn_check_wait_status(status, NULL));
        }
        ctx = hd_test_ctx_new(&fx);
        assert_driver(&fx, rng, "virtio-pci");
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers/virtio-pci/unbind", rng, &error));
        g_assert_no_error(error);
        assert_driver(&fx, rng, NULL);
        g_assert_true(hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", rng, &error));
        assert_driver(&fx, rng, "virtio-pci");
        /* no lib/modules in the snapshot: modprobe's answer */
        g_assert_false(hd_ctx_load_module(ctx, "vfio-pci", &error));
        g_assert_nonnull(strstr(error->message, "modprobe"));
        {
                const char *argv[] = { "rm", "-rf", tmp, NULL };
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, NULL, NULL);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/sim/override", test_override_store_and_clear);
        g_test_add_func("/sim/unbind-bind-probe", test_unbind_bind_probe);
        g_test_add_func("/sim/load-module", test_load_module);
        g_test_add_func("/sim/probe-override-vfio-node", test_probe_with_override_and_vfio_node);
        g_test_add_func("/sim/vfio-refuses-bridge", test_vfio_refuses_bridge);
        g_test_add_func("/sim/new-id", test_new_id);
        g_test_add_func("/sim/faults", test_faults);
        g_test_add_func("/sim/native-state", test_native_state_survives_contexts);
        g_test_add_func("/sim/install-remove-file", test_install_remove_file);
        g_test_add_func("/sim/snapshot-tree", test_snapshot_tree);
        g_test_add_func("/sim/sriov-numvfs", test_sriov_numvfs);
        return g_test_run();
}
