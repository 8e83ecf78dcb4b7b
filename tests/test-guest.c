/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest configuration: libvirt <hostdev> XML (validated by libvirt's own schema with
 * virt-xml-validate), domain patching, QEMU arguments, and refusals.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

static const char *const minimal_domain =
        "<domain type='kvm'>\n"
        "  <name>guest</name>\n"
        "  <memory unit='MiB'>1024</memory>\n"
        "  <vcpu>2</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64' machine='q35'>hvm</type>\n"
        "  </os>\n"
        "  <devices>\n"
        "    <disk type='file' device='disk'>\n"
        "      <source file='/var/lib/libvirt/images/guest.qcow2'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x10' function='0x0'/>\n"
        "    </disk>\n"
        "    <!-- a comment that must survive -->\n"
        "  </devices>\n"
        "</domain>\n";

/* virt-xml-validate against libvirt's domain schema. */
static void assert_valid_domain(const char *xml)
{
        g_autofree char *path = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        int fd = g_file_open_tmp("hostdev-domain-XXXXXX.xml", &path, &error);
        int status = 0;

        g_assert_no_error(error);
        close(fd);
        g_assert_true(g_file_set_contents(path, xml, -1, NULL));
        {
                const char *argv[] = { "virt-xml-validate", path, "domain", NULL };
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                             &err, &status, &error);
        }
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("libvirt's schema rejects:\n%s\n%s%s", xml, out, err);
        g_unlink(path);
}

/* Wrap hostdev elements into the minimal domain and validate the whole. */
static void assert_valid_hostdevs(const char *hostdevs)
{
        g_autofree char *doc = NULL;
        const char *close = strstr(minimal_domain, "  </devices>");

        doc = g_strdup_printf("%.*s%s%s", (int)(close - minimal_domain), minimal_domain, hostdevs,
                              close);
        assert_valid_domain(doc);
}

static int run(const char *const *argv, char **out, char **err)
{
        return hd_test_run_cli(argv, NULL, out, err);
}

static void test_gpu_audio_pair(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        const char *argv[] = { "xml", "0000:01:00.1", "0000:01:00.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        const char *fn0, *fn1;

        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        /* both functions in one guest slot, function 0 multifunction, order by host address */
        fn0 = strstr(out, "function='0x0' multifunction='on'/>");
        fn1 = strstr(out, "bus='0x00' slot='0x10' function='0x1'/>");
        g_assert_nonnull(fn0);
        g_assert_nonnull(fn1);
        g_assert_true(fn0 < fn1);
        g_assert_nonnull(strstr(out, "managed='no'"));
        g_assert_nonnull(strstr(out, "<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>"));
        assert_valid_hostdevs(out);
}

/* Write @size bytes starting with @head (@n bytes) at @relpath below the fixture root. */
static void put_rom(const HdTestFixture *fx, const char *relpath, const guint8 *head, gsize n,
                    gsize size)
{
        g_autofree char *path = hd_test_path(fx, relpath);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree guint8 *data = g_malloc0(size);

        if (size > 0)
                memcpy(data, head, MIN(n, size));
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)size, NULL));
}

static const guint8 rom_sig[] = { 0x55, 0xaa, 0x80 };

static void test_rom_options(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        const char *argv[] = { "xml", "0000:01:00.0", "--rom-bar", "off", "--rom-file",
                               "/usr/share/vbios/gp104.rom", "--guest-address", "0000:00:05",
                               "--root", fx->root, NULL };
        const char *bad_bar[] = { "xml", "0000:01:00.0", "--rom-bar", "maybe", "--root", fx->root, NULL };
        const char *bad_addr[] = { "xml", "0000:01:00.0", "--guest-address", "00:20", "--root", fx->root, NULL };
        g_autofree char *out = NULL;

        put_rom(fx, "usr/share/vbios/gp104.rom", rom_sig, sizeof(rom_sig), 65536);
        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "<rom bar='off' file='/usr/share/vbios/gp104.rom'/>"));
        g_assert_nonnull(strstr(out, "slot='0x05' function='0x0'/>"));
        assert_valid_hostdevs(out);
        g_assert_cmpint(run(bad_bar, NULL, NULL), ==, 2);
        g_assert_cmpint(run(bad_addr, NULL, NULL), ==, 2);
}

/* Issue 12 item 11: the vBIOS goes to the GPU only, never to its HDMI audio function; the CLI
 * names the device (the first address, or ADDRESS=FILE). */
static void test_rom_file_one_device(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        const char *xml[] = { "xml", "0000:01:00.0", "0000:01:00.1", "--rom-file", "/vbios.rom",
                              "--root", fx->root, NULL };
        const char *named[] = { "xml", "0000:01:00.0", "0000:01:00.1", "--rom-file",
                                "0000:01:00.1=/vbios.rom", "--root", fx->root, NULL };
        const char *qemu[] = { "qemu-args", "0000:01:00.1", "0000:01:00.0", "--rom-file",
                               "01:00.0=/v,bios.rom", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *out2 = NULL;
        g_autofree char *out3 = NULL;
        const char *fn0, *fn1;

        put_rom(fx, "vbios.rom", rom_sig, sizeof(rom_sig), 131072);
        put_rom(fx, "v,bios.rom", rom_sig, sizeof(rom_sig), 131072);
        g_assert_cmpint(run(xml, &out, NULL), ==, 0);
        fn0 = strstr(out, "function='0x0'/>");
        fn1 = strstr(out, "function='0x1'/>");
        g_assert_nonnull(fn0);
        g_assert_nonnull(fn1);
        /* one <rom>, inside the first <hostdev> (function 0), none in the audio's */
        g_assert_nonnull(strstr(out, "<rom file='/vbios.rom'/>"));
        g_assert_true(strstr(out, "<rom file=") < fn1);
        g_assert_null(strstr(strstr(out, "<rom file=") + 1, "<rom"));
        assert_valid_hostdevs(out);

        g_assert_cmpint(run(named, &out2, NULL), ==, 0);
        g_assert_nonnull(strstr(out2, "<rom file='/vbios.rom'/>"));
        g_assert_true(strstr(out2, "<rom file=") > strstr(out2, "function='0x1'/>"));
        g_assert_null(strstr(strstr(out2, "<rom file=") + 1, "<rom"));

        g_assert_cmpint(run(qemu, &out3, NULL), ==, 0);
        g_assert_cmpstr(out3, ==,
                        "-device vfio-pci,host=0000:01:00.0,id=hostdev0,bus=pcie.0,addr=0x10.0x0,"
                        "multifunction=on,romfile=/v,,bios.rom\n"
                        "-device vfio-pci,host=0000:01:00.1,id=hostdev1,bus=pcie.0,addr=0x10.0x1\n");
}

/* The file must exist, be a regular file, not be absurdly large and start with 55 AA. */
static void test_rom_file_checked(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        static const guint8 nvflash[] = { 0x4e, 0x56, 0x47, 0x49 };
        struct {
                const char *arg;
                int status;
                const char *message;
        } cases[] = {
                { "/missing.rom", 1, "cannot use /missing.rom below the root" },
                { "/sys", 1, "/sys is not a regular file" },
                { "/nvflash.rom", 1, "does not start with the PCI option ROM signature 55 AA (it starts with 4e 56)" },
                { "/empty.rom", 1, "too short" },
                { "/huge.rom", 1, "more than a PCI option ROM can have" },
                { "vbios.rom", 2, "not an absolute path" },
                { "0000:02:00.0=/vbios.rom", 2, "0000:02:00.0, which is not among the devices" },
                { "0000:01:00.0=", 2, "give a file after '='" },
        };
        g_autofree char *huge = hd_test_path(fx, "huge.rom");

        put_rom(fx, "vbios.rom", rom_sig, sizeof(rom_sig), 512);
        put_rom(fx, "nvflash.rom", nvflash, sizeof(nvflash), 65536);
        put_rom(fx, "empty.rom", rom_sig, 0, 0);
        put_rom(fx, "huge.rom", rom_sig, sizeof(rom_sig), 512);
        g_assert_cmpint(truncate(huge, (off_t)HD_GUEST_ROM_MAX + 1), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *argv[] = { "xml", "0000:01:00.0", "0000:01:00.1", "--rom-file",
                                       cases[i].arg, "--root", fx->root, NULL };
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;

                g_assert_cmpint(run(argv, &out, &err), ==, cases[i].status);
                if (!strstr(err, cases[i].message))
                        g_error("--rom-file %s: '%s', expected '%s'", cases[i].arg, err,
                                cases[i].message);
                g_assert_cmpstr(out, ==, "");
        }
        {
                /* two plain files cannot both be for the first device */
                const char *argv[] = { "xml", "0000:01:00.0", "0000:01:00.1", "--rom-file",
                                       "/vbios.rom", "--rom-file", "/vbios.rom", "--root",
                                       fx->root, NULL };
                g_autofree char *err = NULL;

                g_assert_cmpint(run(argv, NULL, &err), ==, 2);
                g_assert_nonnull(strstr(err, "--rom-file ADDRESS=FILE"));
        }
}

static void test_sriov_vf_managed(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *argv[] = { "xml", "--managed", "0000:18:01.0", "--root", fx->root, NULL };
        const char *unmanaged[] = { "xml", "0000:18:01.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "managed='yes'"));
        /* a single function lets libvirt choose the guest address */
        g_assert_null(strstr(out, "<address type='pci'"));
        assert_valid_hostdevs(out);

        g_assert_cmpint(run(unmanaged, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "0000:18:01.0 is on iavf, not vfio-pci"));
        g_assert_nonnull(strstr(err, "--managed"));
}

static void test_domain_patch(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *file = g_build_filename(tmp, "vm.xml", NULL);
        g_autofree char *backup = g_strconcat(file, ".orig", NULL);
        const char *print[] = { "xml", "--domain", file, "0000:01:00.0", "0000:01:00.1", "--root", fx->root, NULL };
        const char *write[] = { "xml", "--domain", file, "--write", "0000:01:00.0", "0000:01:00.1", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *written = NULL;
        g_autofree char *saved = NULL;
        g_autofree char *err = NULL;
        const char *ins;

        g_assert_true(g_file_set_contents(file, minimal_domain, -1, NULL));
        g_assert_cmpint(run(print, &out, NULL), ==, 0);
        /* everything of the original is still there, byte for byte, around the insertion */
        ins = strstr(out, "    <hostdev");
        g_assert_nonnull(ins);
        g_assert_cmpint(strncmp(out, minimal_domain, ins - out), ==, 0);
        g_assert_cmpstr(strstr(out, "  </devices>"), ==, strstr(minimal_domain, "  </devices>"));
        g_assert_nonnull(strstr(out, "<!-- a comment that must survive -->"));
        /* slot 0x10 is taken by the disk: the pair goes to the next free slot */
        g_assert_nonnull(strstr(out, "slot='0x11' function='0x0' multifunction='on'"));
        assert_valid_domain(out);

        g_assert_cmpint(run(write, NULL, NULL), ==, 0);
        g_assert_true(g_file_get_contents(file, &written, NULL, NULL));
        g_assert_true(g_file_get_contents(backup, &saved, NULL, NULL));
        g_assert_cmpstr(written, ==, out);
        g_assert_cmpstr(saved, ==, minimal_domain);

        /* adding the same device again is refused */
        g_assert_cmpint(run(print, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "already a <hostdev> of this domain"));
        {
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
                g_assert_cmpint(system(rm), ==, 0);
        }
}

static void test_domain_patch_bad(void)
{
        g_autoptr(GError) error = NULL;
        HdGuestOptions o = { .rom_bar = HD_ROM_BAR_DEFAULT };
        HdAddress a;

        hd_address_parse("0000:01:00.0", &a, NULL);
        g_assert_null(hd_guest_patch_domain_xml("<domain><devices>", &a, 1, &o, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(hd_guest_patch_domain_xml("<domain/>", &a, 1, &o, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        /* found by fuzz-domain-xml: "</devices>" inside an attribute or a comment after the
         * real end tag got the <hostdev> inserted there; a second top-level element */
        {
                g_autofree char *patched = hd_guest_patch_domain_xml(
                    "<domain><devices></devices><os><type arch='</devices>'/></os>"
                    "<!-- </devices> --></domain>",
                    &a, 1, &o, &error);
                g_assert_no_error(error);
                g_assert_nonnull(patched);
                g_assert_true(g_str_has_prefix(patched, "<domain><devices>"));
                g_assert_true(strstr(patched, "<hostdev") < strstr(patched, "</devices>"));
                g_assert_true(g_str_has_suffix(patched, "<type arch='</devices>'/></os>"
                                                        "<!-- </devices> --></domain>"));
        }
        /* found by fuzz-domain-xml: GMarkup's position does not count the line ends inside an
         * attribute value, so "</devices>" in a multi-line attribute before the real end tag was
         * taken for it; CDATA, processing instructions, comments, a DOCTYPE in content and an
         * empty element named devices */
        {
                static const char *const docs[] = {
                    "\n\n<domain\n\n\nefun='ksk >\n</disk></devices>#</m'><devices><disk >\n"
                    "</disk></devices></domain>",
                    "<domain><devices><a x=\"/>\"><![CDATA[</devices>]]><?pi </devices>?>"
                    "<devices/></a>\n  </devices></domain>",
                    /* GMarkup ends "<?" at "?>" and "<!--" at "-->" even where they overlap,
                     * and a "<!DOCTYPE" where its angle brackets balance */
                    "<domain><devices><?><!--><a x='</devices>'/>"
                    "<!DOCTYPE x <a></devices>>\n</devices></domain>",
                };
                for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
                        g_autofree char *patched =
                            hd_guest_patch_domain_xml(docs[i], &a, 1, &o, &error);
                        g_autoptr(GArray) hosts = NULL;
                        g_assert_no_error(error);
                        hosts = hd_guest_domain_hostdevs(patched);
                        g_assert_cmpuint(hosts->len, ==, 1);
                        g_assert_true(hd_address_equal(&g_array_index(hosts, HdAddress, 0), &a));
                        g_assert_true(g_str_has_suffix(patched, "</devices></domain>"));
                }
        }
        g_assert_null(hd_guest_patch_domain_xml("<domain><devices></devices></domain><x/>", &a,
                                                1, &o, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        /* found by fuzz-domain-xml: an unparseable document with no error to fill crashed */
        g_assert_null(hd_guest_patch_domain_xml("<domain><devices>", &a, 1, &o, NULL));
        g_assert_null(hd_guest_patch_domain_xml("", &a, 1, &o, NULL));
}

static void test_qemu_args(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        const char *pair[] = { "qemu-args", "0000:01:00.0", "0000:01:00.1", "--root", fx->root, NULL };
        const char *json[] = { "qemu-args", "--json", "0000:01:00.0", "--root", fx->root, NULL };
        const char *host_driver[] = { "qemu-args", "0000:02:00.0", "--root", fx->root, NULL };
        const char *bridge[] = { "qemu-args", "0000:00:01.0", "--root", fx->root, NULL };
        const char *dup[] = { "qemu-args", "0000:01:00.0", "01:00.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *jout = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *args;

        g_assert_cmpint(run(pair, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==,
                        "-device vfio-pci,host=0000:01:00.0,id=hostdev0,bus=pcie.0,addr=0x10.0x0,multifunction=on\n"
                        "-device vfio-pci,host=0000:01:00.1,id=hostdev1,bus=pcie.0,addr=0x10.0x1\n");
        g_assert_cmpint(run(json, &jout, NULL), ==, 0);
        root = hd_test_parse_json(jout);
        args = json_object_get_array_member(json_node_get_object(root), "args");
        g_assert_cmpuint(json_array_get_length(args), ==, 2);
        g_assert_cmpstr(json_array_get_string_element(args, 0), ==, "-device");
        g_assert_cmpstr(json_array_get_string_element(args, 1), ==, "vfio-pci,host=0000:01:00.0,id=hostdev0");
        g_assert_cmpint(run(host_driver, NULL, NULL), ==, 1);
        g_assert_cmpint(run(bridge, NULL, NULL), ==, 1);
        g_assert_cmpint(run(dup, NULL, NULL), ==, 2);
        {
                /* options without a meaning for QEMU are refused, saying what to do */
                const char *managed[] = { "qemu-args", "--managed", "0000:01:00.0", "--root",
                                          fx->root, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(managed, NULL, &err), ==, 2);
                g_assert_nonnull(strstr(err, "--managed has no meaning for qemu-args"));
                g_assert_nonnull(strstr(err, "hostdev detach"));
        }
}

/* --machine q35: each host device (all its functions) behind a PCIe root port of its own;
 * --machine pc: i440fx's root bus; --primary-gpu: x-vga on the GPU and no emulated VGA; a ROM
 * BAR per device. */
static void test_qemu_args_machine(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        const char *q35[] = { "qemu-args", "0000:01:00", "--machine", "q35", "--primary-gpu",
                              "--rom-bar", "0000:01:00.1=off", "--root", fx->root, NULL };
        const char *pc[] = { "qemu-args", "0000:01:00.0", "0000:01:00.1", "--machine", "pc",
                             "--root", fx->root, NULL };
        const char *not_vga[] = { "qemu-args", "0000:01:00.1", "--primary-gpu", "--root",
                                  fx->root, NULL };
        const char *bad_machine[] = { "qemu-args", "0000:01:00.0", "--machine", "virt", "--root",
                                      fx->root, NULL };
        const char *q35_fixed[] = { "qemu-args", "0000:01:00.0", "--machine", "q35",
                                    "--guest-address", "00:10", "--root", fx->root, NULL };
        const char *foreign_bar[] = { "qemu-args", "0000:01:00.0", "--rom-bar", "0000:02:00.0=on",
                                      "--root", fx->root, NULL };
        const char *xml_machine[] = { "xml", "0000:01:00.0", "--machine", "q35", "--root",
                                      fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        g_assert_cmpint(run(q35, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==,
                        "-vga none\n"
                        "-device pcie-root-port,id=hostdev-rp0,chassis=100,slot=0\n"
                        "-device vfio-pci,host=0000:01:00.0,id=hostdev0,bus=hostdev-rp0,"
                        "addr=0x0.0x0,multifunction=on,x-vga=on\n"
                        "-device vfio-pci,host=0000:01:00.1,id=hostdev1,bus=hostdev-rp0,"
                        "addr=0x0.0x1,rombar=0\n");
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(pc, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==,
                        "-device vfio-pci,host=0000:01:00.0,id=hostdev0,bus=pci.0,addr=0x10.0x0,"
                        "multifunction=on\n"
                        "-device vfio-pci,host=0000:01:00.1,id=hostdev1,bus=pci.0,addr=0x10.0x1\n");
        g_assert_cmpint(run(not_vga, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "0000:01:00.1 is not a VGA controller"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(bad_machine, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "use q35"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(q35_fixed, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "root port"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(foreign_bar, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "is not one of the devices given"));
        g_clear_pointer(&err, g_free);
        /* libvirt's domain has the machine: not an xml option */
        g_assert_cmpint(run(xml_machine, NULL, &err), ==, 2);
        {
                /* a ROM BAR per device in libvirt XML too */
                const char *xml[] = { "xml", "0000:01:00.0", "0000:01:00.1", "--rom-bar",
                                      "0000:01:00.1=off", "--root", fx->root, NULL };
                g_autofree char *x = NULL;
                const char *audio;
                g_assert_cmpint(run(xml, &x, NULL), ==, 0);
                audio = strstr(x, "function='0x1'");
                g_assert_nonnull(audio);
                g_assert_null(g_strstr_len(x, audio - x, "<rom"));
                g_assert_nonnull(strstr(audio, "<rom bar='off'/>"));
        }
}

static void test_group_not_whole(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *argv[] = { "xml", "--managed", "0000:01:00.0", "--root", fx->root, NULL };
        g_autofree char *err = NULL;

        g_assert_cmpint(run(argv, NULL, &err), ==, 0);
        g_assert_nonnull(strstr(err, "IOMMU group"));
        g_assert_nonnull(strstr(err, "0000:01:00.1 (snd_hda_intel) stays behind"));
}

/* A domain libvirt has, by name (test:///default's "test"): hostdev xml --domain NAME and hostdev
 * vm attach-device / detach-device, with the checks of hostdev xml. */
static void test_domain_by_name(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("already-vfio");
        g_autoptr(HdTestFixture) desk = hd_test_fixture_new("desktop");
        const char *print[] = { "xml", "0000:01:00.0", "--domain", "test", "--connect",
                                "test:///default", "--root", fx->root, NULL };
        const char *write[] = { "xml", "0000:01:00.0", "--domain", "test", "--connect",
                                "test:///default", "--write", "--root", fx->root, NULL };
        const char *attach[] = { "vm", "attach-device", "test", "0000:01:00", "--config",
                                 "--connect", "test:///default", "--json", "--root", fx->root,
                                 NULL };
        const char *live[] = { "vm", "attach-device", "test", "0000:01:00.0", "--live",
                               "--connect", "test:///default", "--root", fx->root, NULL };
        const char *not_there[] = { "vm", "detach-device", "test", "0000:01:00.0", "--config",
                                    "--connect", "test:///default", "--root", fx->root, NULL };
        const char *no_vm[] = { "vm", "attach-device", "nosuch", "0000:01:00.0", "--connect",
                                "test:///default", "--root", fx->root, NULL };
        const char *host_driver[] = { "vm", "attach-device", "test", "0000:01:00.0", "--connect",
                                      "test:///default", "--root", desk->root, NULL };
        const char *bad_verb[] = { "vm", "plug", "test", "0000:01:00.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        g_assert_cmpint(run(print, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "<name>test</name>"));
        g_assert_nonnull(strstr(out, "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>"));
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(write, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "added 1 device(s) to VM test in libvirt"));
        g_clear_pointer(&out, g_free);

        /* the definition: both functions, one guest slot */
        g_assert_cmpint(run(attach, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "vm"), ==, "test");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "attached")), ==, 2);
        g_assert_true(json_object_get_boolean_member(o, "config"));
        g_assert_false(json_object_get_boolean_member(o, "live"));
        /* hot-plug goes through libvirt's API, which the test driver lacks: its word, the device */
        g_assert_cmpint(run(live, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "0000:01:00.0: libvirt could not attach the device to VM test"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(not_there, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "0000:01:00.0 is not a <hostdev> of this domain"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(no_vm, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "nosuch"));
        g_clear_pointer(&err, g_free);
        /* the checks of hostdev xml: a device on its host driver is refused, saying what to do */
        g_assert_cmpint(run(host_driver, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "hostdev detach 0000:01:00.0"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(bad_verb, NULL, &err), ==, 2);
}

/* A domain's PCI host devices: only <hostdev type='pci'>; the <address> of a USB, SCSI or mdev
 * hostdev is no PCI address (an mdev's would read as 0000:00:00.0, the host bridge). */
static void test_domain_hostdevs_pci_only(void)
{
        static const char xml[] =
                "<domain type='kvm'><name>v</name><devices>"
                "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
                "<address uuid='6f0c9a52-0c1e-4d7a-9a4b-2b1c3d4e5f60'/></source></hostdev>"
                "<hostdev mode='subsystem' type='usb'><source><vendor id='0x0529'/>"
                "<product id='0x0001'/><address bus='1' device='3'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci' managed='no'><source>"
                "<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source>"
                "</hostdev></devices></domain>";
        g_autoptr(GArray) devs = hd_guest_domain_hostdevs(xml);
        char name[HD_ADDRESS_STRLEN];

        g_assert_cmpuint(devs->len, ==, 1);
        g_assert_cmpstr(hd_address_format(&g_array_index(devs, HdAddress, 0), name), ==,
                        "0000:01:00.1");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/guest/xml/gpu-audio-pair", test_gpu_audio_pair);
        g_test_add_func("/guest/xml/rom-options", test_rom_options);
        g_test_add_func("/guest/xml/rom-file-one-device", test_rom_file_one_device);
        g_test_add_func("/guest/xml/rom-file-checked", test_rom_file_checked);
        g_test_add_func("/guest/xml/sriov-vf-managed", test_sriov_vf_managed);
        g_test_add_func("/guest/xml/domain-patch", test_domain_patch);
        g_test_add_func("/guest/xml/domain-patch-bad", test_domain_patch_bad);
        g_test_add_func("/guest/qemu-args", test_qemu_args);
        g_test_add_func("/guest/qemu-args-machine", test_qemu_args_machine);
        g_test_add_func("/guest/domain-by-name", test_domain_by_name);
        g_test_add_func("/guest/group-not-whole", test_group_not_whole);
        g_test_add_func("/guest/domain-hostdevs-pci-only", test_domain_hostdevs_pci_only);
        return g_test_run();
}
