/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM lifecycle with host devices through libvirt, on its test:///default driver. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

static HdVirt *open_test(void)
{
        g_autoptr(GError) error = NULL;
        HdVirt *virt = hd_virt_open("test:///default", &error);

        g_assert_no_error(error);
        return virt;
}

/* @spec's domain XML, which must pass libvirt's schema (virt-xml-validate). */
static char *spec_xml(HdVirt *virt, const HdVmSpec *spec)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = hd_virt_spec_to_xml(virt, spec, &error);
        g_autofree char *path = NULL;
        g_autofree char *out = NULL;
        int fd, status = 0;

        g_assert_no_error(error);
        fd = g_file_open_tmp("hostdev-vm-XXXXXX.xml", &path, &error);
        g_assert_no_error(error);
        close(fd);
        g_assert_true(g_file_set_contents(path, xml, -1, NULL));
        {
                const char *argv[] = {"virt-xml-validate", path, "domain", NULL};
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                             &status, &error);
        }
        g_unlink(path);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("schema rejects:\n%s\n%s", xml, out);
        return g_steal_pointer(&xml);
}

/* Define @spec, set its USB devices and SCSI LUNs to @usb and @scsi; its definition then. */
static char *define_with_usb_scsi(HdVirt *virt, const HdVmSpec *spec, const HdVmUsb *usb,
                                  guint n_usb, const HdVmScsi *scsi, guint n_scsi)
{
        g_autoptr(GError) error = NULL;
        char *def;

        g_assert_true(hd_virt_define(virt, spec, &error));
        g_assert_no_error(error);
        g_assert_true(hd_virt_set_usb_scsi(virt, spec->name, usb, n_usb, scsi, n_scsi, &error));
        g_assert_no_error(error);
        def = hd_virt_get_definition(virt, spec->name, &error);
        g_assert_no_error(error);
        return def;
}

static HdVmInfo *find(GPtrArray *list, const char *name)
{
        for (guint i = 0; i < list->len; i++)
                if (g_strcmp0(((HdVmInfo *)list->pdata[i])->name, name) == 0)
                        return list->pdata[i];
        return NULL;
}

static void test_lifecycle(void)
{
        g_autoptr(HdVirt) virt = open_test();
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_autoptr(HdVmInfo) info = NULL;
        HdAddress devs[2];
        HdVmSpec spec = { .name = "gpu-vm", .memory_mib = 4096, .vcpus = 4,
                          .disk_image = "/var/lib/libvirt/images/gpu-vm.qcow2",
                          .hostdevs = devs, .n_hostdevs = 2, .viommu = TRUE };
        HdVmInfo *vm;
        char name[HD_ADDRESS_STRLEN];

        hd_address_parse("0000:01:00.0", &devs[0], NULL);
        hd_address_parse("0000:01:00.1", &devs[1], NULL);
        g_assert_true(hd_virt_define(virt, &spec, &error));
        g_assert_no_error(error);

        list = hd_virt_list(virt, &error);
        g_assert_no_error(error);
        vm = find(list, "gpu-vm");
        g_assert_nonnull(vm);
        g_assert_false(vm->active);
        g_assert_cmpstr(vm->state, ==, "shut off");
        g_assert_cmpuint(vm->hostdevs->len, ==, 2);
        g_assert_cmpstr(hd_address_format(&g_array_index(vm->hostdevs, HdAddress, 1), name), ==,
                        "0000:01:00.1");

        g_assert_true(hd_virt_start(virt, "gpu-vm", &error));
        info = hd_virt_get(virt, "gpu-vm", &error);
        g_assert_no_error(error);
        g_assert_true(info->active);
        g_assert_cmpstr(info->state, ==, "running");

        /* starting twice is refused with libvirt's reason */
        g_assert_false(hd_virt_start(virt, "gpu-vm", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_cmpstr(error->message, ==, "cannot start VM gpu-vm: it is already running");
        g_clear_error(&error);

        g_assert_true(hd_virt_destroy(virt, "gpu-vm", &error));
        g_clear_pointer(&info, hd_vm_info_free);
        info = hd_virt_get(virt, "gpu-vm", &error);
        g_assert_false(info->active);
        g_assert_false(hd_virt_destroy(virt, "gpu-vm", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_clear_error(&error);
        g_assert_true(hd_virt_undefine(virt, "gpu-vm", &error));
        g_assert_null(hd_virt_get(virt, "gpu-vm", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
}

static void test_stop(void)
{
        g_autoptr(HdVirt) virt = open_test();
        g_autoptr(GError) error = NULL;
        HdVmSpec spec = { .name = "plain", .memory_mib = 512, .vcpus = 1 };

        g_assert_true(hd_virt_define(virt, &spec, &error));
        g_assert_true(hd_virt_start(virt, "plain", &error));
        g_assert_true(hd_virt_stop(virt, "plain", &error));
        g_assert_no_error(error);
        g_assert_true(hd_virt_undefine(virt, "plain", &error));
}

static void test_errors(void)
{
        g_autoptr(HdVirt) virt = open_test();
        g_autoptr(GError) error = NULL;
        HdVmSpec bad_name = { .name = "../etc", .memory_mib = 512, .vcpus = 1 };
        HdVmSpec no_mem = { .name = "tiny", .memory_mib = 1, .vcpus = 1 };
        HdAddress dup[2];
        HdVmSpec dups = { .name = "dups", .memory_mib = 512, .vcpus = 1, .hostdevs = dup,
                          .n_hostdevs = 2 };

        g_assert_false(hd_virt_define(virt, &bad_name, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_false(hd_virt_define(virt, &no_mem, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        hd_address_parse("0000:01:00.0", &dup[0], NULL);
        dup[1] = dup[0];
        g_assert_false(hd_virt_define(virt, &dups, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_false(hd_virt_start(virt, "no-such-vm", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "virsh -c test:///default list --all"));
        g_clear_error(&error);
        g_assert_null(hd_virt_open("bogus:///nowhere", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "cannot connect to libvirt at bogus:///nowhere"));
}

/* The generated XML passes libvirt's schema. */
static void test_spec_xml_valid(void)
{
        g_autoptr(HdVirt) virt = open_test();
        HdAddress dev = hd_test_address("0000:18:01.0");
        HdVmSpec spec = { .name = "valid", .memory_mib = 2048, .vcpus = 2,
                          .disk_image = "/images/a&b.raw", .hostdevs = &dev, .n_hostdevs = 1,
                          .managed = TRUE, .viommu = TRUE };
        g_autofree char *xml = NULL;

        xml = spec_xml(virt, &spec);
        g_assert_nonnull(strstr(xml, "caching_mode='on'"));
        g_assert_nonnull(strstr(xml, "a&amp;b.raw"));
}

/* A defined domain changed by name through libvirt (hostdev xml --domain NAME --write, hostdev
 * vm attach-device/detach-device --config): its definition gets the host devices as one
 * multifunction guest slot, and loses exactly them again, every other part kept. */
static void test_definition_by_name(void)
{
        g_autoptr(HdVirt) virt = open_test();
        g_autoptr(GError) error = NULL;
        g_autofree char *before = hd_virt_get_definition(virt, "test", &error);
        g_autofree char *patched = NULL;
        g_autofree char *after = NULL;
        g_autofree char *removed = NULL;
        g_autofree char *back = NULL;
        g_autoptr(GArray) devs = NULL;
        HdAddress hosts[2] = { hd_test_address("0000:01:00.0"), hd_test_address("0000:01:00.1") };
        HdGuestOptions opts = { .rom_bar = HD_ROM_BAR_DEFAULT };
        gboolean active = FALSE;

        g_assert_no_error(error);
        g_assert_nonnull(strstr(before, "<name>test</name>"));
        patched = hd_guest_patch_domain_xml(before, hosts, 2, &opts, &error);
        g_assert_no_error(error);
        g_assert_true(hd_virt_define_xml(virt, patched, &error));
        after = hd_virt_get_definition(virt, "test", &error);
        devs = hd_guest_domain_hostdevs(after);
        g_assert_cmpuint(devs->len, ==, 2);
        g_assert_nonnull(strstr(after, "multifunction='on'"));
        /* a device already there is refused */
        g_assert_null(hd_guest_plan_for_domain(after, hosts, 1, &opts, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_clear_error(&error);
        /* and taken out again: one, then the other */
        removed = hd_guest_remove_hostdevs(after, &hosts[1], 1, &error);
        g_assert_no_error(error);
        g_assert_true(hd_virt_define_xml(virt, removed, &error));
        back = hd_virt_get_definition(virt, "test", &error);
        g_clear_pointer(&devs, g_array_unref);
        devs = hd_guest_domain_hostdevs(back);
        g_assert_cmpuint(devs->len, ==, 1);
        g_assert_true(hd_address_equal(&g_array_index(devs, HdAddress, 0), &hosts[0]));
        /* a device the domain does not have */
        g_assert_null(hd_guest_remove_hostdevs(back, &hosts[1], 1, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);
        /* live changes need a running domain; the test driver's "test" runs */
        g_assert_true(hd_virt_is_active(virt, "test", &active, &error));
        g_assert_true(active);
        g_assert_false(hd_virt_is_active(virt, "nosuchvm", &active, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
}

/* Removing <hostdev> elements keeps every other byte of the document. */
static void test_remove_hostdevs_bytes(void)
{
        const char *doc = "<domain type='kvm'>\n"
                          "  <name>w</name>\n"
                          "  <devices>\n"
                          "    <!-- <hostdev> in a comment stays -->\n"
                          "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                          "      <source><address domain='0x0000' bus='0x01' slot='0x00' "
                          "function='0x0'/></source>\n"
                          "    </hostdev>\n"
                          "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                          "      <source><address domain='0x0000' bus='0x02' slot='0x00' "
                          "function='0x0'/></source>\n"
                          "    </hostdev>\n"
                          "  </devices>\n"
                          "</domain>\n";
        const char *want = "<domain type='kvm'>\n"
                           "  <name>w</name>\n"
                           "  <devices>\n"
                           "    <!-- <hostdev> in a comment stays -->\n"
                           "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                           "      <source><address domain='0x0000' bus='0x02' slot='0x00' "
                           "function='0x0'/></source>\n"
                           "    </hostdev>\n"
                           "  </devices>\n"
                           "</domain>\n";
        HdAddress gpu = hd_test_address("0000:01:00.0");
        g_autoptr(GError) error = NULL;
        g_autofree char *out = hd_guest_remove_hostdevs(doc, &gpu, 1, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(out, ==, want);
}

/* vhost-scsi targets: <hostdev type='scsi_host'> with <source protocol='vhost' wwpn/>, valid
 * for libvirt's schema, not a PCI host device to the domain scans, kept when the USB and SCSI
 * elements are replaced at start; a malformed WWPN is refused. */
static void test_vhost(void)
{
        g_autoptr(HdVirt) virt = open_test();
        g_autoptr(GError) error = NULL;
        HdAddress gpu = hd_test_address("0000:01:00.0");
        const char *vhost[] = { "naa.5001405000000001", "naa.50014050000000AB" };
        const char *bad[] = { "naa.5001405000000001'/><x" };
        HdVmUsb usb[] = { { .vendor = 0x0403, .product = 0x6001, .bus = 1, .device = 5 } };
        HdVmSpec spec = { .name = "vhost", .memory_mib = 512, .vcpus = 1, .hostdevs = &gpu,
                          .n_hostdevs = 1, .vhost = vhost, .n_vhost = 2 };
        g_autofree char *xml = spec_xml(virt, &spec);
        g_autofree char *def = NULL;
        g_autoptr(GArray) pci = NULL;

        g_assert_nonnull(strstr(xml, "\n    <hostdev mode='subsystem' type='scsi_host'>\n"
                                     "      <source protocol='vhost' "
                                     "wwpn='naa.5001405000000001'/>\n"
                                     "    </hostdev>\n"));
        g_assert_nonnull(strstr(xml, "wwpn='naa.50014050000000AB'"));
        pci = hd_guest_domain_hostdevs(xml);
        g_assert_cmpuint(pci->len, ==, 1);
        g_clear_pointer(&pci, g_array_unref);

        def = define_with_usb_scsi(virt, &spec, usb, 1, NULL, 0);
        g_assert_nonnull(strstr(def, "wwpn='naa.5001405000000001'"));
        g_assert_nonnull(strstr(def, "wwpn='naa.50014050000000AB'"));
        g_assert_nonnull(strstr(def, "device='5'"));
        pci = hd_guest_domain_hostdevs(def);
        g_assert_cmpuint(pci->len, ==, 1);
        g_assert_true(hd_virt_undefine(virt, "vhost", &error));

        spec.vhost = bad;
        spec.n_vhost = 1;
        g_assert_null(hd_virt_spec_to_xml(virt, &spec, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
}

/* USB and SCSI host devices: <hostdev type='usb'> by vendor, product and the bus/device resolved
 * now, <hostdev type='scsi'> by adapter and bus/target/unit; valid for libvirt's schema; the
 * domain scans still see only the PCI host devices; hd_virt_set_usb_scsi() replaces them in a
 * definition (a replug: new device number) and keeps the PCI ones; metadata round trip. */
static void test_usb_scsi(void)
{
        g_autoptr(HdVirt) virt = open_test();
        g_autoptr(GError) error = NULL;
        HdAddress gpu = hd_test_address("0000:01:00.0");
        HdVmUsb usb[] = { { .vendor = 0x0403, .product = 0x6001, .bus = 1, .device = 5 } };
        HdVmScsi scsi[] = { { .host = 2, .bus = 0, .target = 1, .unit = 3, .shareable = TRUE,
                              .readonly = TRUE },
                            { .host = 0, .bus = 0, .target = 0, .unit = 0 } };
        HdVmSpec spec = { .name = "usbscsi", .memory_mib = 512, .vcpus = 1, .hostdevs = &gpu,
                          .n_hostdevs = 1, .usb = usb, .n_usb = 1, .scsi = scsi, .n_scsi = 2 };
        g_autofree char *xml = spec_xml(virt, &spec);
        g_autofree char *def = NULL;
        g_autofree char *meta = NULL;
        g_autoptr(GArray) pci = NULL;

        g_assert_nonnull(strstr(xml, "<hostdev mode='subsystem' type='usb' managed='no'>\n"
                                     "      <source>\n"
                                     "        <vendor id='0x0403'/>\n"
                                     "        <product id='0x6001'/>\n"
                                     "        <address bus='1' device='5'/>\n"));
        g_assert_nonnull(strstr(xml, "<hostdev mode='subsystem' type='scsi' managed='no' "
                                     "rawio='yes'>\n"
                                     "      <source>\n"
                                     "        <adapter name='scsi_host2'/>\n"
                                     "        <address bus='0' target='1' unit='3'/>\n"
                                     "      </source>\n"
                                     "      <readonly/>\n"
                                     "      <shareable/>\n"));
        g_assert_nonnull(strstr(xml, "<adapter name='scsi_host0'/>"));
        pci = hd_guest_domain_hostdevs(xml);
        g_assert_cmpuint(pci->len, ==, 1);
        g_assert_true(hd_address_equal(&g_array_index(pci, HdAddress, 0), &gpu));
        g_clear_pointer(&pci, g_array_unref);

        /* defined, then the USB device replugged (device 5 -> 9) and one LUN dropped */
        {
                HdVmUsb replugged[] = {usb[0]};

                replugged[0].device = 9;
                def = define_with_usb_scsi(virt, &spec, replugged, 1, scsi, 1);
        }
        g_assert_nonnull(strstr(def, "device='9'"));
        g_assert_null(strstr(def, "device='5'"));
        g_assert_nonnull(strstr(def, "scsi_host2"));
        g_assert_null(strstr(def, "scsi_host0"));
        pci = hd_guest_domain_hostdevs(def);
        g_assert_cmpuint(pci->len, ==, 1);
        g_clear_pointer(&def, g_free);
        /* none left */
        g_assert_true(hd_virt_set_usb_scsi(virt, "usbscsi", NULL, 0, NULL, 0, &error));
        def = hd_virt_get_definition(virt, "usbscsi", &error);
        g_assert_null(strstr(def, "type='usb'"));
        /* (libvirt added a SCSI controller for it, which stays) */
        g_assert_null(strstr(def, "rawio"));
        g_assert_nonnull(strstr(def, "type='pci'"));
        g_assert_false(hd_virt_set_usb_scsi(virt, "nosuchvm", NULL, 0, NULL, 0, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* metadata: none, then set, then read back */
        meta = hd_virt_get_metadata(virt, "usbscsi", "https://example.org/hd", &error);
        g_assert_no_error(error);
        g_assert_null(meta);
        g_assert_true(hd_virt_set_metadata(virt, "usbscsi", "hd", "https://example.org/hd",
                                           "<vm><usb spec='1-2'/></vm>", &error));
        g_assert_no_error(error);
        meta = hd_virt_get_metadata(virt, "usbscsi", "https://example.org/hd", &error);
        g_assert_no_error(error);
        g_assert_nonnull(strstr(meta, "<usb spec=\"1-2\"/>"));
        g_assert_true(hd_virt_undefine(virt, "usbscsi", &error));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vm/lifecycle", test_lifecycle);
        g_test_add_func("/vm/stop", test_stop);
        g_test_add_func("/vm/errors", test_errors);
        g_test_add_func("/vm/spec-xml-valid", test_spec_xml_valid);
        g_test_add_func("/vm/definition-by-name", test_definition_by_name);
        g_test_add_func("/vm/remove-hostdevs-bytes", test_remove_hostdevs_bytes);
        g_test_add_func("/vm/usb-scsi", test_usb_scsi);
        g_test_add_func("/vm/vhost", test_vhost);
        return g_test_run();
}
