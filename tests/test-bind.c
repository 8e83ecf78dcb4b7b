/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Detach and attach: plans, refusals, rollbacks, dry runs (library and CLI). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include <glib/gstdio.h>

#include "strarray.h"
#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define ROOT_PORT "0000:00:01.0"
#define NVME "0000:02:00.0"
#define NIC "0000:03:00.0"
#define IGPU "0000:00:02.0"

static void assert_driver(const HdTestFixture *fx, const char *addr, const char *want)
{
        g_autofree char *drv = hd_test_driver(fx, addr);

        g_assert_cmpstr(drv, ==, want);
}

static void assert_override(const HdTestFixture *fx, const char *addr, const char *want)
{
        g_autofree char *ov = hd_test_override(fx, addr);

        g_assert_cmpstr(ov, ==, want);
}

static HdBindReport *detach(HdCtx *ctx, const char *addr, gboolean group, guint force,
                            GError **error)
{
        HdAddress a = hd_test_address(addr);
        HdBindOptions opts = { .group = group, .force = force };

        return hd_bind_detach(ctx, &a, 1, &opts, error);
}

/* detach must succeed; its report. */
static HdBindReport *detach_ok(HdCtx *ctx, const char *addr, gboolean group, guint force)
{
        g_autoptr(GError) error = NULL;
        HdBindReport *r = detach(ctx, addr, group, force, &error);

        g_assert_no_error(error);
        g_assert_nonnull(r);
        return r;
}

/* detach must fail with @code, its message holding each of the words that follow (a
 * NULL-terminated list); nothing is reported. */
static void assert_detach_fails(HdCtx *ctx, const char *addr, gboolean group, guint force,
                                gint code, ...)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, addr, group, force, &error);
        va_list ap;

        g_assert_null(r);
        va_start(ap, code);
        hd_test_assert_error_words(error, code, addr, ap);
        va_end(ap);
}

static HdBindReport *attach(HdCtx *ctx, const char *addr, gboolean group, const char *driver,
                            GError **error)
{
        HdAddress a = hd_test_address(addr);
        HdBindOptions opts = { .group = group, .driver = driver };

        return hd_bind_attach(ctx, &a, 1, &opts, error);
}

static guint pending_journals(const HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, "var/lib/hostdev/journal");
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        guint n = 0;

        while (d && g_dir_read_name(d))
                n++;
        return n;
}

static void test_group_moves_with_group(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, GPU, TRUE, 0, &error);
        HdBindDevice *d0, *d1;

        g_assert_no_error(error);
        g_assert_nonnull(r);
        g_assert_cmpuint(r->devices->len, ==, 2);
        d0 = r->devices->pdata[0];
        d1 = r->devices->pdata[1];
        g_assert_cmpstr(d0->name, ==, GPU);
        g_assert_true(d0->requested && d0->changed);
        g_assert_cmpstr(d0->from_driver, ==, "nouveau");
        g_assert_cmpstr(d0->to_driver, ==, "vfio-pci");
        g_assert_cmpstr(d1->name, ==, AUDIO);
        g_assert_false(d1->requested);
        g_assert_true(d1->changed);
        assert_driver(fx, GPU, "vfio-pci");
        assert_driver(fx, AUDIO, "vfio-pci");
        assert_override(fx, GPU, "vfio-pci");
        /* the root port in the same group stays on its driver */
        assert_driver(fx, ROOT_PORT, "pcieport");
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        {
                g_autofree char *node = hd_test_path(fx, "dev/vfio/1");
                g_assert_true(g_file_test(node, G_FILE_TEST_EXISTS));
        }

        /* a second detach leaves everything as is */
        {
                g_autoptr(HdBindReport) again = detach_ok(ctx, GPU, TRUE, 0);
                g_assert_false(((HdBindDevice *)again->devices->pdata[0])->changed);
                g_assert_false(((HdBindDevice *)again->devices->pdata[1])->changed);
        }
}

static void test_group_refused_without_group(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, GPU, FALSE, 0, &error);

        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_cmpstr(error->message, ==,
                        "0000:01:00.1 (Audio device, snd_hda_intel) shares IOMMU group 1 with "
                        "0000:01:00.0; detach the whole group with --group");
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        g_clear_error(&error);

        /* naming both is as good as --group */
        {
                HdAddress both[] = { hd_test_address(GPU), hd_test_address(AUDIO) };
                HdBindOptions opts = { 0 };
                g_autoptr(HdBindReport) r2 = hd_bind_detach(ctx, both, 2, &opts, &error);
                g_assert_no_error(error);
                g_assert_nonnull(r2);
        }
        assert_driver(fx, AUDIO, "vfio-pci");
}

static void test_bridge_group(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("pci-bridge");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdBindReport) r = NULL;

        /* the bridge itself is refused */
        assert_detach_fails(ctx, "0000:01:00.0", TRUE, 2, HD_ERROR_REFUSED, "0000:01:00.0",
                            "bridges stay on the host", NULL);

        r = detach_ok(ctx, "0000:02:01.0", TRUE, 0);
        g_assert_cmpuint(r->devices->len, ==, 2);
        assert_driver(fx, "0000:02:01.0", "vfio-pci");
        assert_driver(fx, "0000:02:02.0", "vfio-pci");
        /* the PCIe-to-PCI bridge was not touched: still no driver, no override */
        assert_driver(fx, "0000:01:00.0", NULL);
        assert_override(fx, "0000:01:00.0", NULL);
        for (guint i = 0; i < hd_ctx_get_write_log(ctx)->len; i++) {
                const HdCtxWrite *w = hd_ctx_get_write_log(ctx)->pdata[i];
                g_assert_null(strstr(w->path, "0000:01:00.0"));
                g_assert_true(w->value == NULL || strstr(w->value, "0000:01:00.0") == NULL);
        }
}

static void test_group_skips_driverless_members(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, "0000:00:1f.3", TRUE, 0, &error);

        /* the chipset group: ISA bridge function (no driver), HD audio, SMBus */
        g_assert_no_error(error);
        g_assert_cmpuint(r->devices->len, ==, 2);
        assert_driver(fx, "0000:00:1f.3", "vfio-pci");
        assert_driver(fx, "0000:00:1f.4", "vfio-pci");
        assert_driver(fx, "0000:00:1f.0", NULL);
        assert_override(fx, "0000:00:1f.0", NULL);
}

/* A driverless function that is a real device (the GPU's audio with snd_hda_intel not loaded)
 * goes to vfio-pci with --group: the VM can only be given functions on vfio-pci. */
static void test_group_takes_driverless_endpoints(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *link = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver");
        g_autofree char *back = hd_test_path(fx, "sys/bus/pci/drivers/snd_hda_intel/0000:01:00.1");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdBindReport) r = NULL;

        g_assert_cmpint(g_unlink(link), ==, 0);
        g_assert_cmpint(g_unlink(back), ==, 0);
        ctx = hd_test_ctx_new(fx);
        r = detach_ok(ctx, "0000:01:00.0", TRUE, 0);
        g_assert_cmpuint(r->devices->len, ==, 2);
        assert_driver(fx, "0000:01:00.0", "vfio-pci");
        assert_driver(fx, "0000:01:00.1", "vfio-pci");
        assert_driver(fx, "0000:00:01.0", "pcieport");
}

static void test_default_route_nic(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdBindReport) r = NULL;

        assert_detach_fails(ctx, NIC, FALSE, 0, HD_ERROR_REFUSED, "0000:03:00.0", "enp3s0",
                            "default route via 192.168.1.1", "--force twice", NULL);

        assert_detach_fails(ctx, NIC, FALSE, 1, HD_ERROR_REFUSED, NULL);
        assert_driver(fx, NIC, "igc");
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);

        r = detach_ok(ctx, NIC, FALSE, 2);
        assert_driver(fx, NIC, "vfio-pci");
}

static void test_routed_nic_needs_force_once(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *route = hd_test_path(fx, "proc/net/route");
        g_autofree char *inet6 = hd_test_path(fx, "proc/net/if_inet6");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdBindReport) r = NULL;

        /* enp3s0 keeps only its subnet route: no default route */
        g_assert_true(g_file_set_contents(route,
                                          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\t"
                                          "Metric\tMask\t\tMTU\tWindow\tIRTT\n"
                                          "enp3s0\t0001A8C0\t00000000\t0001\t0\t0\t100\t"
                                          "00FFFFFF\t0\t0\t0\n",
                                          -1, NULL));
        ctx = hd_test_ctx_new(fx);
        assert_detach_fails(ctx, NIC, FALSE, 0, HD_ERROR_REFUSED, "has a route to 192.168.1.0",
                            "ip link set enp3s0 down", NULL);

        /* no route, but a global IPv6 address (a link-local one would not count) */
        g_assert_true(g_file_set_contents(route, "Iface\tDestination\n", -1, NULL));
        g_assert_true(g_file_set_contents(
                inet6,
                "fe800000000000001ac04dfffe123456 02 40 20 80   enp3s0\n"
                "20010db8000000000000000000000001 02 40 00 80   enp3s0\n",
                -1, NULL));
        assert_detach_fails(ctx, NIC, FALSE, 0, HD_ERROR_REFUSED, "global IPv6 address", NULL);

        /* link-local only: idle */
        g_assert_true(g_file_set_contents(
                inet6, "fe800000000000001ac04dfffe123456 02 40 20 80   enp3s0\n", -1, NULL));
        r = detach_ok(ctx, NIC, FALSE, 0);
}

static void test_sriov_pf_with_vfs(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        /* ens3f0np0 has a route (not the default) and enabled VFs: the VFs refuse it even
         * with --force twice */
        assert_detach_fails(ctx, "0000:3b:00.0", FALSE, 2, HD_ERROR_REFUSED,
                            "SR-IOV physical function with 2 VFs enabled", NULL);
}

static void test_root_disk_refused(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        assert_detach_fails(ctx, NVME, FALSE, 2, HD_ERROR_REFUSED, "0000:02:00.0",
                            "root filesystem", "/dev/nvme0n1p2 on /", NULL);
        assert_driver(fx, NVME, "nvme");
}

/* Stacks device-mapper node dm-0 (named @name, uuid @uuid) on the desktop's NVMe partition. */
static void add_dm_holder(HdTestFixture *fx, const char *name, const char *uuid)
{
        g_autofree char *holders = hd_test_path(fx, "sys/class/block/nvme0n1p2/holders");
        g_autofree char *dm = hd_test_path(fx, "sys/class/block/dm-0/dm");
        g_autofree char *name_path = g_build_filename(dm, "name", NULL);
        g_autofree char *uuid_path = g_build_filename(dm, "uuid", NULL);
        g_autofree char *link = g_build_filename(holders, "dm-0", NULL);
        g_autofree char *name_nl = g_strdup_printf("%s\n", name);
        g_autofree char *uuid_nl = g_strdup_printf("%s\n", uuid);

        g_assert_cmpint(g_mkdir_with_parents(holders, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(dm, 0755), ==, 0);
        g_assert_true(g_file_set_contents(name_path, name_nl, -1, NULL));
        g_assert_true(g_file_set_contents(uuid_path, uuid_nl, -1, NULL));
        g_assert_cmpint(symlink("../../dm-0", link), ==, 0);
}

static void test_mounted_data_disk_needs_force(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *mounts = hd_test_path(fx, "proc/mounts");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdBindReport) r = NULL;

        /* the NVMe holds only /data now, through a device-mapper holder */
        g_assert_true(g_file_set_contents(mounts, "/dev/sda1 / ext4 rw 0 0\n"
                                                  "/dev/mapper/data /data xfs rw 0 0\n",
                                          -1, NULL));
        add_dm_holder(fx, "data", "CRYPT-LUKS2-0123-data");
        ctx = hd_test_ctx_new(fx);
        assert_detach_fails(ctx, NVME, FALSE, 0, HD_ERROR_REFUSED, "/dev/mapper/data on /data",
                            "--force", NULL);
        r = detach_ok(ctx, NVME, FALSE, 1);
        assert_driver(fx, NVME, "vfio-pci");
}

/* An LVM volume group on the NVMe with nothing mounted (a VM's disks are logical volumes, or
 * the group is merely active): mounts alone say the disk is free, the holders say it is not. */
static void test_lvm_disk_needs_force(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *mounts = hd_test_path(fx, "proc/mounts");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdBindReport) r = NULL;

        g_assert_true(g_file_set_contents(mounts, "/dev/sda1 / ext4 rw 0 0\n", -1, NULL));
        add_dm_holder(fx, "vg0-vms", "LVM-k3PZs4Hn0e6xGmVq2Fh1aB9cDeFgHiJkLmNoPqRsTuVwXyZ012345");
        ctx = hd_test_ctx_new(fx);
        {
                /* what `show` and `list` say the host does with it */
                HdAddress addr = hd_test_address(NVME);
                g_autoptr(HdDevice) dev = hd_device_load(ctx, &addr, HD_FIELD_USERS, NULL);
                g_autoptr(GPtrArray) uses = hd_usage_describe(ctx, dev);

                g_assert_nonnull(uses);
                g_assert_true(hd_str_array_contains(uses, "/dev/nvme0n1p2 is under dm-0 (LVM "
                                                          "vg0-vms)"));
        }
        assert_detach_fails(ctx, NVME, FALSE, 0, HD_ERROR_REFUSED, "0000:02:00.0",
                            "dm-0 (LVM vg0-vms)", "vgchange -an", "--force", NULL);
        assert_driver(fx, NVME, "nvme");
        r = detach_ok(ctx, NVME, FALSE, 1);
        assert_driver(fx, NVME, "vfio-pci");
}

static void test_boot_vga(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        assert_detach_fails(ctx, IGPU, FALSE, 0, HD_ERROR_REFUSED, "0000:00:02.0", "boot VGA",
                            NULL);
        assert_driver(fx, IGPU, "i915");
}

static void test_no_iommu(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        assert_detach_fails(ctx, GPU, TRUE, 0, HD_ERROR_REFUSED, "no IOMMU group", NULL);
}

static void test_not_found(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        assert_detach_fails(ctx, "0000:09:00.0", FALSE, 0, HD_ERROR_NOT_FOUND, NULL);
}

static void check_rolled_back(const HdTestFixture *fx)
{
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        assert_override(fx, GPU, NULL);
        assert_override(fx, AUDIO, NULL);
        g_assert_cmpuint(pending_journals(fx), ==, 0);
}

static void test_failing_probe_rolls_back(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        /* the second device's probe fails: the first, already on vfio-pci, goes back too */
        hd_ctx_set_sim_faults(ctx, "probe@" AUDIO "=EINVAL");
        assert_detach_fails(ctx, GPU, TRUE, 0, HD_ERROR_FAILED, "0000:01:00.1",
                            "did not bind to vfio-pci", "rolled back", NULL);
        check_rolled_back(fx);

        /* every probe fails, including the rollback's: rollback binds directly */
        hd_ctx_set_sim_faults(ctx, "probe@*=EINVAL");
        assert_detach_fails(ctx, GPU, TRUE, 0, HD_ERROR_FAILED, NULL);
        check_rolled_back(fx);
}

static void test_ebusy_unbind_rolls_back(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        hd_ctx_set_sim_faults(ctx, "unbind@" AUDIO "=EBUSY");
        assert_detach_fails(ctx, GPU, TRUE, 0, HD_ERROR_FAILED, "Device or resource busy",
                            "rolled back", NULL);
        check_rolled_back(fx);
}

static void test_override_failure_and_module_failure(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = NULL;

        hd_ctx_set_sim_faults(ctx, "load@vfio_pci=ENOENT");
        r = detach(ctx, GPU, TRUE, 0, &error);
        g_assert_null(r);
        g_assert_nonnull(strstr(error->message, "vfio-pci is not available"));
        check_rolled_back(fx);
        g_clear_error(&error);

        hd_ctx_set_sim_faults(ctx, "override@" AUDIO "=EPERM");
        assert_detach_fails(ctx, GPU, TRUE, 0, HD_ERROR_FAILED, NULL);
        check_rolled_back(fx);
}

static void test_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdBindReport) r = NULL;
        const GPtrArray *log;
        static const char *const want[][2] = {
                { "vfio-pci", NULL },
                { "sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci" },
                { "sys/bus/pci/drivers/nouveau/unbind", GPU },
                { "sys/bus/pci/drivers_probe", GPU },
                { "sys/bus/pci/devices/0000:01:00.1/driver_override", "vfio-pci" },
                { "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO },
                { "sys/bus/pci/drivers_probe", AUDIO },
        };

        hd_ctx_set_dry_run(ctx, TRUE);
        r = detach_ok(ctx, GPU, TRUE, 0);
        g_assert_true(r->dry_run);
        log = hd_ctx_get_write_log(ctx);
        g_assert_cmpuint(log->len, ==, G_N_ELEMENTS(want));
        for (guint i = 0; i < log->len; i++) {
                const HdCtxWrite *w = log->pdata[i];
                g_assert_cmpstr(w->path, ==, want[i][0]);
                g_assert_cmpstr(w->value, ==, want[i][1]);
        }
        g_assert_cmpint(((HdCtxWrite *)log->pdata[0])->op, ==, HD_BACKEND_OP_LOAD_MODULE);
        /* nothing changed: drivers, overrides, no module, no journal, no lock, no sim state */
        check_rolled_back(fx);
        {
                static const char *const absent[] = { "sys/bus/pci/drivers/vfio-pci",
                                                      "var/lib/hostdev", "run/hostdev",
                                                      "var/lib/hostdev-sim", "dev/vfio" };
                for (gsize i = 0; i < G_N_ELEMENTS(absent); i++) {
                        g_autofree char *p = hd_test_path(fx, absent[i]);
                        g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
                }
        }
}

static void test_attach_returns_to_original(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, GPU, TRUE, 0, &error);
        g_autoptr(HdBindReport) a = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(r);
        a = attach(ctx, GPU, TRUE, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(a->devices->len, ==, 2);
        g_assert_cmpstr(((HdBindDevice *)a->devices->pdata[0])->to_driver, ==, "nouveau");
        g_assert_cmpstr(((HdBindDevice *)a->devices->pdata[1])->to_driver, ==, "snd_hda_intel");
        check_rolled_back(fx);
        {
                g_autofree char *node = hd_test_path(fx, "dev/vfio/1");
                g_assert_false(g_file_test(node, G_FILE_TEST_EXISTS));
        }
}

static void test_attach_binds_original_when_probe_picks_other(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, GPU, TRUE, 0, &error);
        g_autoptr(HdBindReport) a = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(r);
        /* the kernel's probe would not choose the original driver: attach binds it */
        hd_ctx_set_sim_faults(ctx, "probe@" GPU "=ENODEV");
        a = attach(ctx, GPU, FALSE, NULL, &error);
        g_assert_no_error(error);
        assert_driver(fx, GPU, "nouveau");
        assert_override(fx, GPU, NULL);
        /* the audio function stays on vfio-pci */
        assert_driver(fx, AUDIO, "vfio-pci");
}

static void test_attach_driver_option(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) a = NULL;

        /* no journal knows where it came from; --driver says */
        a = attach(ctx, GPU, FALSE, "nouveau", &error);
        g_assert_no_error(error);
        assert_driver(fx, GPU, "nouveau");
        assert_override(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "vfio-pci");

        /* a name that would leave sys/bus/pci/drivers never becomes a path */
        {
                g_autoptr(HdBindReport) bad = attach(ctx, AUDIO, FALSE, "../../../etc", &error);
                g_assert_null(bad);
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        }
        g_assert_false(hd_driver_name_is_valid(".."));
        g_assert_false(hd_driver_name_is_valid(""));
        g_assert_true(hd_driver_name_is_valid("snd_hda_intel"));
        g_assert_true(hd_driver_name_is_valid("vfio-pci"));
}

static void hold_group_open(const HdTestFixture *fx, int group)
{
        g_autofree char *fd_dir = hd_test_path(fx, "proc/4242/fd");
        g_autofree char *comm = hd_test_path(fx, "proc/4242/comm");
        g_autofree char *link = g_build_filename(fd_dir, "17", NULL);
        g_autofree char *target = g_strdup_printf("/dev/vfio/%d", group);

        g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(comm, "qemu-system-x86\n", -1, NULL));
        g_assert_cmpint(symlink(target, link), ==, 0);
}

static void test_attach_refused_while_held(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, GPU, TRUE, 0, &error);
        g_autoptr(HdBindReport) a = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(r);
        hold_group_open(fx, 1);
        {
                g_autoptr(HdDevice) dev = NULL;
                HdAddress addr = hd_test_address(GPU);
                dev = hd_device_load(ctx, &addr, HD_FIELD_DRIVER | HD_FIELD_IOMMU, NULL);
                g_assert_cmpstr(hd_device_state_to_string(hd_bind_get_state(ctx, dev)), ==,
                                "assigned");
        }
        a = attach(ctx, GPU, TRUE, NULL, &error);
        g_assert_null(a);
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        g_assert_nonnull(strstr(error->message, "4242 (qemu-system-x86)"));
        assert_driver(fx, GPU, "vfio-pci");
}

/* Issue 12 item 4: a group already on vfio-pci and in use by a VM is where detach would put
 * it: detach is a no-op there (it used to fail with BUSY). */
static void test_detach_noop_while_held(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdBindReport) r = NULL;
        g_autoptr(HdDevice) dev = NULL;
        HdAddress addr = hd_test_address(GPU);

        dev = hd_device_load(ctx, &addr, HD_FIELD_IOMMU, NULL);
        hold_group_open(fx, dev->iommu_group);
        r = detach_ok(ctx, GPU, TRUE, 0);
        g_assert_cmpuint(r->devices->len, ==, 2);
        for (guint i = 0; i < r->devices->len; i++)
                g_assert_false(((HdBindDevice *)r->devices->pdata[i])->changed);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        assert_driver(fx, GPU, "vfio-pci");
}

/* A group held open while a member is still on a host driver is refused, and the refusal
 * names the VM (QEMU's -name guest=NAME, libvirt's domain), not only the pid. */
static void test_detach_refused_while_held(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *cmdline = hd_test_path(fx, "proc/4242/cmdline");
        static const char args[] = "/usr/bin/qemu-system-x86_64\0-name\0guest=win,,10,debug-"
                                   "threads=on\0-S\0";

        hold_group_open(fx, 1);
        g_assert_true(g_file_set_contents(cmdline, args, sizeof(args) - 1, NULL));
        assert_detach_fails(ctx, GPU, TRUE, 0, HD_ERROR_BUSY, "held open by process 4242",
                            "VM win,10", NULL);
        assert_driver(fx, GPU, "nouveau");
}

static void test_already_vfio_left_alone(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, GPU, TRUE, 0, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(r->devices->len, ==, 2);
        g_assert_false(((HdBindDevice *)r->devices->pdata[0])->changed);
        g_assert_false(((HdBindDevice *)r->devices->pdata[1])->changed);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

/* ---------------------------------------------------------------- CLI */

static void test_cli_detach_json_and_exit_codes(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;
        JsonArray *writes, *devices;
        int rc;

        {
                const char *argv[] = { "--root", fx->root, "detach", GPU, NULL };
                rc = hd_test_run_cli(argv, NULL, &out, &err);
                g_assert_cmpint(rc, ==, 1);
                g_assert_nonnull(strstr(err, "shares IOMMU group 1 with 0000:01:00.0; detach the "
                                             "whole group with --group"));
                /* one line per refusal */
                g_assert_null(strchr(g_strstrip(err), '\n'));
        }
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        {
                const char *argv[] = { "--root", fx->root, "detach", "bogus", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 2);
        }
        {
                const char *argv[] = { "--root", fx->root, "detach", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 2);
        }
        {
                const char *argv[] = { "--root", fx->root, "detach", NIC, "--force", NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 1);
        }
        {
                const char *argv[] = { "--root", fx->root, "detach", GPU, "--group", "--dry-run",
                                       "--json", NULL };
                rc = hd_test_run_cli(argv, NULL, &out, &err);
                g_assert_cmpint(rc, ==, 0);
                root = hd_test_parse_json(out);
                o = json_node_get_object(root);
                g_assert_true(json_object_get_boolean_member(o, "dry_run"));
                writes = json_object_get_array_member(o, "writes");
                devices = json_object_get_array_member(o, "devices");
                g_assert_cmpuint(json_array_get_length(writes), ==, 7);
                g_assert_cmpuint(json_array_get_length(devices), ==, 2);
                g_assert_cmpstr(json_object_get_string_member(
                                        json_array_get_object_element(writes, 1), "path"),
                                ==, "/sys/bus/pci/devices/0000:01:00.0/driver_override");
                g_assert_cmpstr(json_object_get_string_member(
                                        json_array_get_object_element(devices, 1), "to_driver"),
                                ==, "vfio-pci");
        }
        assert_driver(fx, GPU, "nouveau");
        {
                const char *argv[] = { "--root", fx->root, "detach", NIC, "--force", "--force",
                                       NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        assert_driver(fx, NIC, "vfio-pci");
        {
                const char *argv[] = { "--root", fx->root, "reattach", NIC, NULL };
                g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        }
        assert_driver(fx, NIC, "igc");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bind/group/with-group", test_group_moves_with_group);
        g_test_add_func("/bind/group/refused-without", test_group_refused_without_group);
        g_test_add_func("/bind/group/bridge-stays", test_bridge_group);
        g_test_add_func("/bind/group/skips-driverless", test_group_skips_driverless_members);
        g_test_add_func("/bind/group/takes-driverless-endpoints",
                        test_group_takes_driverless_endpoints);
        g_test_add_func("/bind/refuse/default-route", test_default_route_nic);
        g_test_add_func("/bind/refuse/routed-nic", test_routed_nic_needs_force_once);
        g_test_add_func("/bind/refuse/sriov-pf", test_sriov_pf_with_vfs);
        g_test_add_func("/bind/refuse/root-disk", test_root_disk_refused);
        g_test_add_func("/bind/refuse/mounted-data", test_mounted_data_disk_needs_force);
        g_test_add_func("/bind/refuse/lvm-unmounted", test_lvm_disk_needs_force);
        g_test_add_func("/bind/refuse/boot-vga", test_boot_vga);
        g_test_add_func("/bind/refuse/no-iommu", test_no_iommu);
        g_test_add_func("/bind/refuse/not-found", test_not_found);
        g_test_add_func("/bind/rollback/probe", test_failing_probe_rolls_back);
        g_test_add_func("/bind/rollback/ebusy", test_ebusy_unbind_rolls_back);
        g_test_add_func("/bind/rollback/override-module", test_override_failure_and_module_failure);
        g_test_add_func("/bind/dry-run", test_dry_run);
        g_test_add_func("/bind/attach/original", test_attach_returns_to_original);
        g_test_add_func("/bind/attach/bind-original",
                        test_attach_binds_original_when_probe_picks_other);
        g_test_add_func("/bind/attach/driver", test_attach_driver_option);
        g_test_add_func("/bind/attach/held", test_attach_refused_while_held);
        g_test_add_func("/bind/detach/held", test_detach_refused_while_held);
        g_test_add_func("/bind/detach/held-noop", test_detach_noop_while_held);
        g_test_add_func("/bind/detach/already-vfio", test_already_vfio_left_alone);
        g_test_add_func("/bind/cli/detach", test_cli_detach_json_and_exit_codes);
        return g_test_run();
}
