/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device model, the scan and the group verdicts, on fixture trees. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

static HdInventory *scan(HdCtx *ctx, guint fields)
{
        g_autoptr(GError) error = NULL;
        HdInventory *inv = hd_inventory_scan(ctx, fields, &error);

        g_assert_no_error(error);
        g_assert_nonnull(inv);
        for (guint i = 0; i < inv->groups->len; i++)
                hd_group_evaluate(inv->groups->pdata[i], ctx);
        return inv;
}

static HdDevice *get(HdInventory *inv, const char *name)
{
        HdDevice *dev = hd_inventory_lookup(inv, name);

        if (!dev)
                g_error("fixture has no %s", name);
        return dev;
}

static HdDevice *load(HdCtx *ctx, const char *name, guint fields)
{
        g_autoptr(GError) error = NULL;
        HdAddress a;
        HdDevice *dev;

        g_assert_true(hd_address_parse(name, &a, NULL));
        dev = hd_device_load(ctx, &a, fields, &error);
        g_assert_no_error(error);
        return dev;
}

static gboolean array_has(GPtrArray *a, const char *s)
{
        for (guint i = 0; a && i < a->len; i++)
                if (g_strcmp0(a->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

static void test_desktop_devices(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        HdDevice *gpu = get(inv, "0000:01:00.0");
        HdDevice *audio = get(inv, "0000:01:00.1");
        HdDevice *igpu = get(inv, "0000:00:02.0");
        HdDevice *port = get(inv, "0000:00:01.0");
        HdDevice *host = get(inv, "0000:00:00.0");
        const char *reason = NULL;

        g_assert_cmpuint(inv->devices->len, ==, 13);
        /* sorted by address */
        for (guint i = 1; i < inv->devices->len; i++)
                g_assert_cmpint(hd_address_compare(&((HdDevice *)inv->devices->pdata[i - 1])->address,
                                                   &((HdDevice *)inv->devices->pdata[i])->address),
                                <, 0);

        g_assert_cmpint(gpu->vendor_id, ==, 0x10de);
        g_assert_cmpint(gpu->device_id, ==, 0x1b80);
        g_assert_cmpint(gpu->class_code, ==, 0x030000);
        g_assert_cmpint(gpu->subsystem_vendor_id, >=, 0);
        g_assert_cmpint(gpu->subsystem_device_id, >=, 0);
        g_assert_cmpint(gpu->revision, >=, 0);
        g_assert_cmpstr(gpu->vendor_name, ==, "NVIDIA Corporation");
        g_assert_nonnull(gpu->product_name);
        g_assert_cmpstr(gpu->class_name, ==, "VGA compatible controller");
        g_assert_cmpstr(gpu->driver, ==, "nouveau");
        g_assert_null(gpu->driver_override);
        g_assert_cmpint(gpu->iommu_group, ==, audio->iommu_group);
        g_assert_cmpint(gpu->numa_node, ==, -1);
        g_assert_cmpint(gpu->header_type, ==, 0);
        g_assert_true(gpu->multifunction);
        g_assert_false(hd_device_is_bridge(gpu));
        g_assert_cmpint(gpu->boot_vga, ==, 0);
        g_assert_cmpint(gpu->sriov_totalvfs, ==, -1);
        g_assert_null(gpu->physfn);
        g_assert_cmpuint(gpu->virtfns->len, ==, 0);
        g_assert_true(hd_device_is_assignable(gpu, &reason));
        g_assert_null(reason);
        g_assert_cmpint(hd_device_get_category(gpu), ==, HD_CLASS_GPU);
        g_assert_cmpint(hd_device_get_category(audio), ==, HD_CLASS_AUDIO);
        /* boot_vga is read for VGA devices only */
        g_assert_cmpint(audio->boot_vga, ==, -1);

        g_assert_cmpint(igpu->boot_vga, ==, 1);
        g_assert_false(hd_device_is_assignable(igpu, &reason));
        g_assert_nonnull(strstr(reason, "boot GPU"));

        g_assert_true(hd_device_is_bridge(port));
        g_assert_cmpint(port->header_type, ==, 1);
        g_assert_false(hd_device_is_assignable(port, &reason));
        g_assert_cmpstr(reason, ==, "bridge");
        g_assert_cmpint(hd_device_get_category(port), ==, HD_CLASS_BRIDGE);

        g_assert_false(hd_device_is_assignable(host, &reason));
        g_assert_cmpstr(reason, ==, "host bridge");
}

static void test_desktop_detail(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdDevice) gpu = load(ctx, "0000:01:00.0", HD_FIELDS_ALL);
        g_autoptr(HdDevice) nvme = load(ctx, "0000:02:00.0", HD_FIELDS_ALL);
        g_autoptr(HdDevice) nic = load(ctx, "0000:03:00.0", HD_FIELDS_ALL);
        g_autoptr(HdDevice) igpu = load(ctx, "0000:00:02.0", HD_FIELDS_ALL);
        g_autoptr(HdDevice) port = load(ctx, "0000:00:1c.0", HD_FIELDS_ALL);

        g_assert_cmpstr(gpu->sysfs_path, ==, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
        g_assert_cmpuint(gpu->upstream->len, ==, 1);
        g_assert_cmpstr(gpu->upstream->pdata[0], ==, "0000:00:01.0");
        g_assert_true(gpu->is_pcie);
        g_assert_cmpint(gpu->pcie_type, ==, HD_PCIE_TYPE_ENDPOINT);
        g_assert_cmpint(gpu->link_max.speed, >, 0);
        g_assert_cmpint(gpu->link_max.width, >, 0);
        g_assert_cmpint(gpu->link_current.width, >, 0);
        g_assert_true(gpu->cap_flr);
        g_assert_nonnull(gpu->reset_methods);
        g_assert_true(g_strv_contains((const char *const *)gpu->reset_methods, "flr"));
        g_assert_cmpstr(gpu->reset_source, ==, "kernel");

        g_assert_true(array_has(nvme->blockdevs, "nvme0n1"));
        g_assert_true(array_has(nic->netdevs, "enp3s0"));
        g_assert_cmpuint(nic->blockdevs->len, ==, 0);
        g_assert_true(igpu->drm_cards->len > 0);

        /* the root port with ACS, the PEG port without */
        g_assert_true(port->has_acs);
        g_assert_cmpint(port->pcie_type, ==, HD_PCIE_TYPE_ROOT_PORT);
        g_assert_cmpuint(port->upstream->len, ==, 0);
        /* the port's children's class entries are not the port's own */
        g_assert_cmpuint(port->netdevs->len, ==, 0);
}

static void test_reset_fallback(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *attr = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/reset_method");
        g_autofree char *nvme_attr = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:1d.0/0000:02:00.0/reset_method");
        g_autoptr(HdDevice) gpu = NULL;
        g_autoptr(HdDevice) nvme = NULL;

        /* a kernel before 5.15 has no reset_method: read the capabilities instead */
        g_assert_cmpint(g_unlink(attr), ==, 0);
        g_assert_cmpint(g_unlink(nvme_attr), ==, 0);
        gpu = load(ctx, "0000:01:00.0", HD_FIELD_RESET);
        g_assert_cmpstr(gpu->reset_source, ==, "config");
        g_assert_true(g_strv_contains((const char *const *)gpu->reset_methods, "flr"));
        /* the audio function shares the bus: no secondary bus reset */
        g_assert_false(g_strv_contains((const char *const *)gpu->reset_methods, "bus"));
        nvme = load(ctx, "0000:02:00.0", HD_FIELD_RESET);
        g_assert_true(g_strv_contains((const char *const *)nvme->reset_methods, "bus"));
}

static HdGroup *group_of(HdInventory *inv, const char *name)
{
        HdGroup *g = hd_inventory_lookup_group(inv, get(inv, name)->iommu_group);

        g_assert_nonnull(g);
        return g;
}

static void test_desktop_groups(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        HdGroup *gpu = group_of(inv, "0000:01:00.0");
        HdGroup *igpu = group_of(inv, "0000:00:02.0");
        HdGroup *usb = group_of(inv, "0000:00:14.0");
        HdGroup *port = group_of(inv, "0000:00:1c.0");
        HdGroup *chipset = group_of(inv, "0000:00:1f.3");
        g_autoptr(GPtrArray) blockers = NULL;

        g_assert_true(hd_host_has_iommu_groups(ctx));
        g_assert_cmpuint(gpu->members->len, ==, 3);
        g_assert_cmpuint(gpu->n_endpoints, ==, 2);
        g_assert_false(gpu->viable);
        g_assert_cmpint(gpu->verdict, ==, HD_VERDICT_NEEDS_GROUP);
        g_assert_nonnull(strstr(gpu->verdict_text,
                                "needs 0000:01:00.1 (Audio device, snd_hda_intel) detached as well"));
        g_assert_nonnull(gpu->shared_reason);
        g_assert_nonnull(strstr(gpu->shared_reason, "0000:01:00.0 is a multifunction device without ACS"));
        g_assert_nonnull(strstr(gpu->shared_reason, "root port 0000:00:01.0 lacks ACS"));
        blockers = hd_group_blockers(gpu, get(inv, "0000:01:00.0"));
        g_assert_cmpuint(blockers->len, ==, 1);
        g_assert_cmpstr(((HdDevice *)blockers->pdata[0])->name, ==, "0000:01:00.1");

        g_assert_cmpint(igpu->verdict, ==, HD_VERDICT_BOOT_GPU);
        g_assert_nonnull(strstr(igpu->verdict_text, "holds the boot GPU 0000:00:02.0"));
        g_assert_cmpint(usb->verdict, ==, HD_VERDICT_READY);
        g_assert_cmpstr(usb->verdict_text, ==, "ready");
        g_assert_null(usb->shared_reason);
        g_assert_cmpint(port->verdict, ==, HD_VERDICT_NO_ENDPOINT);
        g_assert_true(port->viable);
        g_assert_cmpint(chipset->verdict, ==, HD_VERDICT_NEEDS_GROUP);
        g_assert_nonnull(strstr(chipset->shared_reason, "multifunction"));
}

/* A group with one endpoint on a host driver and a bridge: ready, the bridge stays. */
static void test_ready_with_bridge(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *link = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver");
        g_autofree char *back = hd_test_path(fx, "sys/bus/pci/drivers/snd_hda_intel/0000:01:00.1");
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdInventory) inv = NULL;
        HdGroup *g;

        /* the audio function loses its driver: only the GPU is in the way now */
        g_assert_cmpint(g_unlink(link), ==, 0);
        g_assert_cmpint(g_unlink(back), ==, 0);
        ctx = hd_test_ctx_new(fx);
        inv = scan(ctx, HD_FIELDS_LIST);
        g = group_of(inv, "0000:01:00.0");
        g_assert_cmpint(g->verdict, ==, HD_VERDICT_READY_WITH_BRIDGE);
        g_assert_nonnull(strstr(g->verdict_text, "shares a PCIe bridge (fine"));
        g_assert_nonnull(strstr(g->verdict_text, "0000:00:01.0"));
        g_assert_false(g->viable);
}

static void test_already_vfio(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        HdGroup *g = group_of(inv, "0000:01:00.0");

        g_assert_true(g->viable);
        g_assert_cmpint(g->verdict, ==, HD_VERDICT_READY);
        g_assert_cmpstr(get(inv, "0000:01:00.0")->driver_override, ==, "vfio-pci");
        g_assert_true(hd_driver_is_vfio(get(inv, "0000:01:00.1")->driver));
}

static void test_pci_bridge_group(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("pci-bridge");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        HdGroup *g = group_of(inv, "0000:02:01.0");
        g_autoptr(HdDevice) behind = load(ctx, "0000:02:01.0", HD_FIELDS_ALL);

        g_assert_cmpuint(g->members->len, ==, 3);
        g_assert_cmpint(g->verdict, ==, HD_VERDICT_NEEDS_GROUP);
        g_assert_nonnull(strstr(g->shared_reason, "PCIe-to-PCI bridge 0000:01:00.0"));
        /* conventional PCI: no PCIe capability, so no link */
        g_assert_false(behind->is_pcie);
        g_assert_cmpint(behind->link_max.speed, ==, 0);
        g_assert_cmpuint(behind->upstream->len, ==, 2);
        g_assert_cmpstr(behind->upstream->pdata[0], ==, "0000:01:00.0");
}

static void test_sriov(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        HdDevice *pf = get(inv, "0000:18:00.0");
        HdDevice *ast = get(inv, "0000:04:00.0");

        g_assert_cmpint(pf->sriov_totalvfs, ==, 64);
        g_assert_cmpint(pf->sriov_numvfs, ==, 4);
        g_assert_cmpuint(pf->virtfns->len, ==, 4);
        for (guint i = 0; i < pf->virtfns->len; i++) {
                HdDevice *vf = get(inv, pf->virtfns->pdata[i]);
                g_assert_cmpstr(vf->physfn, ==, pf->name);
                /* a VF's config header reads 0xffff as vendor and device: the ids come from
                 * the kernel's attributes instead */
                g_assert_cmpint(vf->vendor_id, ==, 0x8086);
                g_assert_cmpint(vf->device_id, ==, 0x1889);
                g_assert_cmpint(vf->class_code, ==, 0x020000);
                g_assert_cmpint(vf->sriov_totalvfs, ==, -1);
                g_assert_cmpint(vf->numa_node, ==, pf->numa_node);
        }
        g_assert_cmpint(pf->numa_node, ==, 0);
        g_assert_cmpint(get(inv, "0000:86:00.0")->numa_node, ==, 1);
        g_assert_cmpint(group_of(inv, "0000:04:00.0")->verdict, ==, HD_VERDICT_BOOT_GPU);
        g_assert_cmpint(ast->boot_vga, ==, 1);
}

static void test_no_iommu(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        const char *reason = NULL;
        HdDevice *gpu = get(inv, "0000:01:00.0");

        g_assert_false(hd_host_has_iommu_groups(ctx));
        g_assert_cmpuint(inv->groups->len, ==, 0);
        g_assert_cmpint(gpu->iommu_group, ==, -1);
        g_assert_false(hd_device_is_assignable(gpu, &reason));
        g_assert_cmpstr(reason, ==, "no IOMMU");
}

static void test_amd_groups(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("amd-host");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdInventory) inv = scan(ctx, HD_FIELDS_LIST);
        HdGroup *g = group_of(inv, "0000:0c:00.0");

        /* a Ryzen desktop without an iGPU boots on its only GPU */
        g_assert_cmpint(g->verdict, ==, HD_VERDICT_BOOT_GPU);
        g_assert_cmpuint(g->n_endpoints, ==, 2);
        g_assert_nonnull(strstr(g->shared_reason, "0000:0c:00.0 is a multifunction device"));
}

/* Facts that are unreadable, malformed, or vanish mid-scan stay absent; the scan goes on. */
static void test_robustness(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *numa = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:14.0/numa_node");
        g_autofree char *vendor = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:14.0/vendor");
        g_autofree char *config = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:14.0/config");
        g_autofree char *gone = hd_test_path(fx, "sys/devices/pci0000:00/0000:00:1f.4");
        g_autofree char *junk = hd_test_path(fx, "sys/bus/pci/devices/not-a-device");
        g_autofree char *rm = NULL;
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(HdInventory) inv = NULL;
        HdDevice *usb;

        g_assert_cmpint(g_unlink(numa), ==, 0);
        g_assert_true(g_file_set_contents(vendor, "0xzz12\n", -1, NULL));
        g_assert_true(g_file_set_contents(config, "\x86\x80", 2, NULL));
        /* hot-unplugged: the bus link dangles */
        rm = g_strdup_printf("rm -rf '%s'", gone);
        g_assert_cmpint(system(rm), ==, 0);
        g_assert_cmpint(symlink("../../../devices/pci0000:00/0000:00:14.0", junk), ==, 0);

        ctx = hd_test_ctx_new(fx);
        inv = scan(ctx, HD_FIELDS_LIST | HD_FIELD_CONFIG);
        g_assert_null(hd_inventory_lookup(inv, "0000:00:1f.4"));
        g_assert_cmpuint(inv->devices->len, ==, 12);
        usb = get(inv, "0000:00:14.0");
        g_assert_cmpint(usb->numa_node, ==, -1);
        g_assert_cmpint(usb->vendor_id, ==, -1);
        g_assert_null(usb->vendor_name);
        g_assert_cmpint(usb->device_id, ==, 0xa36d);
        g_assert_cmpint(usb->header_type, ==, -1);
        g_assert_false(usb->is_pcie);
}

static void test_not_sysfs(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = g_dir_make_tmp("hostdev-empty-XXXXXX", NULL);
        HdCtx *ctx = hd_ctx_new(tmp, HD_BACKEND_AUTO, &error);

        g_assert_null(ctx);
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SYSFS);
        g_assert_nonnull(strstr(error->message, "sys/bus/pci/devices is missing"));
        g_rmdir(tmp);
        g_clear_error(&error);
        g_assert_null(hd_ctx_new("/nonexistent/hostdev", HD_BACKEND_AUTO, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SYSFS);
}

static void test_unknown_device(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a;

        hd_address_parse("0000:09:00.0", &a, NULL);
        g_assert_null(hd_device_load(ctx, &a, HD_FIELDS_LIST, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_cmpstr(error->message, ==, "no PCI device 0000:09:00.0 (hostdev list shows the devices)");
}

static void test_backend_choice(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = hd_ctx_new(fx->root, HD_BACKEND_AUTO, &error);

        g_assert_no_error(error);
        /* any root but / gets the sim backend unless told otherwise */
        g_assert_cmpint(hd_ctx_get_backend_kind(ctx), ==, HD_BACKEND_SIM);
        g_assert_false(hd_ctx_is_live_root(ctx));
}

/* modules.alias matching as modprobe does it: shell patterns, pci: lines only, each module
 * once, in the file's order; malformed lines are skipped. */
static void test_modalias_match(void)
{
        const char *text = "# Aliases extracted from modules themselves.\n"
                           "alias usb:v10DEp*d*dc*dsc*dp*ic*isc*ip*in* nvusb\n"
                           "alias pci:v000010DEd*sv*sd*bc03sc*i* nvidiafb\n"
                           "alias pci:v000010DEd00001B80sv*sd*bc*sc*i* nouveau\n"
                           "alias pci:v*d*sv*sd*bc03sc00i00* nouveau\n"
                           "alias pci:v*d*sv*sd*bc02sc*i* e1000e\n"
                           "alias pci:v000010DE* two words here\n"
                           "alias pci:v*\n"
                           "alias pci:v000010DEd00001B80sv*sd*bc*sc*i* vfio_pci_fake";
        const char *gpu = "pci:v000010DEd00001B80sv00001458sd00003702bc03sc00i00";
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

        hd_modalias_match(text, gpu, out);
        g_assert_cmpuint(out->len, ==, 3);
        g_assert_cmpstr(out->pdata[0], ==, "nvidiafb");
        g_assert_cmpstr(out->pdata[1], ==, "nouveau");
        g_assert_cmpstr(out->pdata[2], ==, "vfio_pci_fake");
        g_ptr_array_set_size(out, 0);
        hd_modalias_match(text, "pci:v00008086d000015F3sv00008086sd00000000bc02sc00i00", out);
        g_assert_cmpuint(out->len, ==, 1);
        g_assert_cmpstr(out->pdata[0], ==, "e1000e");
        g_ptr_array_set_size(out, 0);
        hd_modalias_match("", gpu, out);
        g_assert_cmpuint(out->len, ==, 0);
}

/* A device of a tree without the kernel's module files has no candidates, not an error. */
static void test_kernel_modules_missing_files(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *alias = NULL;
        g_autoptr(GPtrArray) mods = NULL;
        g_autoptr(GError) error = NULL;
        HdAddress gpu = hd_test_address("0000:01:00.0");
        HdAddress none = hd_test_address("0000:09:00.0");
        g_autofree char *rel = hd_host_get_kernel_release(ctx);

        mods = hd_device_kernel_modules(ctx, &gpu, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(mods->len, ==, 1);
        g_clear_pointer(&mods, g_ptr_array_unref);
        alias = g_strdup_printf("%s/lib/modules/%s/modules.alias", fx->root, rel);
        g_assert_cmpint(g_unlink(alias), ==, 0);
        mods = hd_device_kernel_modules(ctx, &gpu, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(mods->len, ==, 0);
        g_clear_pointer(&mods, g_ptr_array_unref);
        g_assert_null(hd_device_kernel_modules(ctx, &none, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/inventory/desktop/devices", test_desktop_devices);
        g_test_add_func("/inventory/desktop/detail", test_desktop_detail);
        g_test_add_func("/inventory/desktop/reset-fallback", test_reset_fallback);
        g_test_add_func("/inventory/desktop/groups", test_desktop_groups);
        g_test_add_func("/inventory/desktop/ready-with-bridge", test_ready_with_bridge);
        g_test_add_func("/inventory/already-vfio", test_already_vfio);
        g_test_add_func("/inventory/pci-bridge", test_pci_bridge_group);
        g_test_add_func("/inventory/sriov", test_sriov);
        g_test_add_func("/inventory/no-iommu", test_no_iommu);
        g_test_add_func("/inventory/amd", test_amd_groups);
        g_test_add_func("/inventory/robustness", test_robustness);
        g_test_add_func("/inventory/not-sysfs", test_not_sysfs);
        g_test_add_func("/inventory/unknown-device", test_unknown_device);
        g_test_add_func("/inventory/backend-choice", test_backend_choice);
        g_test_add_func("/inventory/modalias-match", test_modalias_match);
        g_test_add_func("/inventory/kernel-modules-missing-files", test_kernel_modules_missing_files);
        return g_test_run();
}
