/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `hostdev` command line: list, show, groups, snapshot; JSON contract and bad input. */
#include "config.h"

#include <unistd.h>

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static int run(const char *const *argv, char **out, char **err)
{
        return hd_test_run_cli(argv, NULL, out, err);
}

/* The stable names of `hostdev list --json` device objects (docs/json.md). */
static const char *const device_keys[] = {
        "address", "vendor_id", "device_id", "subsystem_vendor_id", "subsystem_device_id",
        "class", "class_name", "vendor", "product", "driver", "iommu_group", "numa_node",
        "is_bridge", "assignable", "physfn", "virtfns", "sriov_totalvfs", "sriov_numvfs",
        "boot_vga",
};

static JsonArray *member_array(JsonNode *root, const char *name)
{
        JsonObject *o = json_node_get_object(root);

        g_assert_true(json_object_has_member(o, name));
        return json_object_get_array_member(o, name);
}

static JsonObject *find_device(JsonArray *devices, const char *address)
{
        for (guint i = 0; i < json_array_get_length(devices); i++) {
                JsonObject *d = json_array_get_object_element(devices, i);
                if (g_strcmp0(json_object_get_string_member(d, "address"), address) == 0)
                        return d;
        }
        g_error("no %s in JSON", address);
        return NULL;
}

static void test_list_json(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *argv[] = { "list", "--json", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *devices;
        JsonObject *gpu, *host, *igpu;

        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        devices = member_array(root, "devices");
        g_assert_cmpuint(json_array_get_length(devices), ==, 13);
        for (guint i = 0; i < json_array_get_length(devices); i++) {
                JsonObject *d = json_array_get_object_element(devices, i);
                for (gsize k = 0; k < G_N_ELEMENTS(device_keys); k++)
                        g_assert_true(json_object_has_member(d, device_keys[k]));
        }
        gpu = find_device(devices, "0000:01:00.0");
        g_assert_cmpstr(json_object_get_string_member(gpu, "vendor_id"), ==, "10de");
        g_assert_cmpstr(json_object_get_string_member(gpu, "device_id"), ==, "1b80");
        g_assert_cmpstr(json_object_get_string_member(gpu, "class"), ==, "030000");
        g_assert_cmpuint(strlen(json_object_get_string_member(gpu, "subsystem_vendor_id")), ==, 4);
        g_assert_cmpstr(json_object_get_string_member(gpu, "driver"), ==, "nouveau");
        g_assert_cmpstr(json_object_get_string_member(gpu, "vendor"), ==, "NVIDIA Corporation");
        g_assert_true(JSON_NODE_HOLDS_VALUE(json_object_get_member(gpu, "iommu_group")));
        g_assert_cmpint(json_object_get_int_member(gpu, "iommu_group"), >=, 0);
        g_assert_true(json_object_get_null_member(gpu, "numa_node"));
        g_assert_true(json_object_get_null_member(gpu, "physfn"));
        g_assert_true(json_object_get_null_member(gpu, "sriov_totalvfs"));
        g_assert_false(json_object_get_boolean_member(gpu, "is_bridge"));
        g_assert_true(json_object_get_boolean_member(gpu, "assignable"));
        g_assert_false(json_object_get_boolean_member(gpu, "boot_vga"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(gpu, "virtfns")), ==, 0);

        host = find_device(devices, "0000:00:1f.0");
        g_assert_true(json_object_get_null_member(host, "driver"));
        g_assert_true(json_object_get_null_member(host, "boot_vga"));
        igpu = find_device(devices, "0000:00:02.0");
        g_assert_true(json_object_get_boolean_member(igpu, "boot_vga"));
        g_assert_false(json_object_get_boolean_member(igpu, "assignable"));
}

/* Every topology: what list --json says is what the kernel's attribute files say, although
 * the library reads ids from config space and a VF's from its PF. */
static void test_list_matches_attributes(void)
{
        static const char *const topologies[] = { "desktop", "sriov-server", "pci-bridge",
                                                  "amd-host", "no-iommu", "already-vfio" };

        for (gsize i = 0; i < G_N_ELEMENTS(topologies); i++) {
                g_autoptr(HdTestFixture) fx = hd_test_fixture_new(topologies[i]);
                g_assert_cmpuint(hd_test_assert_list_matches_sys(fx->root), >, 0);
        }
}

/* A kernel without the PF's sriov_vf_device attribute: VFs fall back to their own files. */
static void test_list_vf_without_vf_device(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autofree char *cmd = g_strdup_printf("find '%s/sys/devices' -name sriov_vf_device -delete",
                                               fx->root);

        g_assert_cmpint(system(cmd), ==, 0);
        g_assert_cmpuint(hd_test_assert_list_matches_sys(fx->root), ==, 23);
}

static void test_list_sriov_json(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *argv[] = { "--root", fx->root, "list", "--json", NULL };
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *pf, *vf;

        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        pf = find_device(member_array(root, "devices"), "0000:18:00.0");
        vf = find_device(member_array(root, "devices"), "0000:18:01.0");
        g_assert_cmpint(json_object_get_int_member(pf, "sriov_totalvfs"), ==, 64);
        g_assert_cmpint(json_object_get_int_member(pf, "sriov_numvfs"), ==, 4);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(pf, "virtfns")), ==, 4);
        g_assert_cmpstr(json_object_get_string_member(vf, "physfn"), ==, "0000:18:00.0");
        g_assert_cmpint(json_object_get_int_member(pf, "numa_node"), ==, 0);
}

static guint count_devices(const char *root, const char *const *filter)
{
        g_autoptr(GPtrArray) args = g_ptr_array_new();
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) node = NULL;

        g_ptr_array_add(args, "list");
        g_ptr_array_add(args, "--json");
        g_ptr_array_add(args, "--root");
        g_ptr_array_add(args, (gpointer)root);
        for (const char *const *f = filter; *f; f++)
                g_ptr_array_add(args, (gpointer)*f);
        g_ptr_array_add(args, NULL);
        g_assert_cmpint(run((const char *const *)args->pdata, &out, NULL), ==, 0);
        node = hd_test_parse_json(out);
        return json_array_get_length(member_array(node, "devices"));
}

static void test_list_filters(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *gpu[] = { "--class", "gpu", NULL };
        const char *net[] = { "--class", "net", NULL };
        const char *storage[] = { "--class", "storage", NULL };
        const char *usb[] = { "--class", "usb", NULL };
        const char *audio[] = { "--class", "audio", NULL };
        const char *nouveau[] = { "--driver", "nouveau", NULL };
        const char *none[] = { "--driver", "none", NULL };
        const char *vendor_id[] = { "--vendor", "10de", NULL };
        const char *vendor_name[] = { "--vendor", "nvidia", NULL };
        const char *both[] = { "--vendor", "8086", "--class", "audio", NULL };
        const char *group[] = { "--group", "1", NULL };

        g_assert_cmpuint(count_devices(fx->root, gpu), ==, 2);
        g_assert_cmpuint(count_devices(fx->root, net), ==, 1);
        g_assert_cmpuint(count_devices(fx->root, storage), ==, 1);
        g_assert_cmpuint(count_devices(fx->root, usb), ==, 1);
        g_assert_cmpuint(count_devices(fx->root, audio), ==, 2);
        g_assert_cmpuint(count_devices(fx->root, nouveau), ==, 1);
        g_assert_cmpuint(count_devices(fx->root, none), ==, 1);
        g_assert_cmpuint(count_devices(fx->root, vendor_id), ==, 2);
        g_assert_cmpuint(count_devices(fx->root, vendor_name), ==, 2);
        g_assert_cmpuint(count_devices(fx->root, both), ==, 1);
        g_assert_cmpuint(count_devices(fx->root, group), ==, 3);
        {
                /* a vendor's name matches as whole words: "ati" is in "Corporation" */
                const char *ati[] = { "--vendor", "ati", NULL };
                const char *hex0x[] = { "--vendor", "0x10DE", NULL };
                const char *word[] = { "--vendor", "electronics", NULL };
                const char *part[] = { "--vendor", "nvid", NULL };
                /* repeated or comma-separated: any of them */
                const char *classes[] = { "--class", "gpu", "--class", "audio", NULL };
                const char *classes_comma[] = { "--class", "gpu,net", NULL };
                const char *drivers[] = { "--driver", "nouveau,snd_hda_intel", NULL };
                const char *drivers2[] = { "--driver", "nvme", "--driver", "none", NULL };

                g_assert_cmpuint(count_devices(fx->root, ati), ==, 0);
                g_assert_cmpuint(count_devices(fx->root, hex0x), ==, 2);
                g_assert_cmpuint(count_devices(fx->root, word), ==, 1);
                g_assert_cmpuint(count_devices(fx->root, part), ==, 0);
                g_assert_cmpuint(count_devices(fx->root, classes), ==, 4);
                g_assert_cmpuint(count_devices(fx->root, classes_comma), ==, 3);
                g_assert_cmpuint(count_devices(fx->root, drivers), ==, 3);
                g_assert_cmpuint(count_devices(fx->root, drivers2), ==, 2);
        }
        {
                g_autoptr(HdTestFixture) amd = hd_test_fixture_new("amd-host");
                const char *ati[] = { "--vendor", "amd", NULL };
                g_assert_cmpuint(count_devices(amd->root, ati), >, 0);
        }
}

static void test_list_table_and_tree(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *table[] = { "list", "--root", fx->root, NULL };
        const char *tree[] = { "list", "--tree", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *tree_out = NULL;
        g_auto(GStrv) lines = NULL;

        g_assert_cmpint(run(table, &out, NULL), ==, 0);
        lines = g_strsplit(out, "\n", -1);
        g_assert_true(g_str_has_prefix(lines[0], "ADDRESS"));
        for (const char *h = "CLASS\0IDS\0DRIVER\0GROUP\0NAME\0"; *h; h += strlen(h) + 1)
                g_assert_nonnull(strstr(lines[0], h));
        /* NAME last; NUMA is "-" for every device of this machine: left out */
        g_assert_true(g_str_has_suffix(lines[0], "NAME"));
        g_assert_null(strstr(lines[0], "NUMA"));
        g_assert_cmpuint(g_strv_length(lines), ==, 13 + 2); /* header, rows, trailing "" */
        g_assert_nonnull(strstr(out, "0000:01:00.0  gpu"));

        g_assert_cmpint(run(tree, &tree_out, NULL), ==, 0);
        /* the GPU and its audio function sit under their root port: ├ then └ */
        g_assert_nonnull(strstr(tree_out, "0000:00:01.0"));
        g_assert_nonnull(strstr(tree_out, "├─0000:01:00.0"));
        g_assert_nonnull(strstr(tree_out, "└─0000:01:00.1"));
        g_assert_true(strstr(tree_out, "0000:00:01.0") < strstr(tree_out, "├─0000:01:00.0"));
        g_assert_true(strstr(tree_out, "├─0000:01:00.0") < strstr(tree_out, "└─0000:01:00.1"));
        /* an only child gets └ */
        g_assert_nonnull(strstr(tree_out, "└─0000:03:00.0"));
        {
                /* at 80 columns every line fits, names are cut, not the other columns, and
                 * domain-0 addresses are shown as lspci does */
                const char *narrow_env[] = { "COLUMNS=80", NULL };
                g_autofree char *narrow = NULL;
                g_auto(GStrv) nl = NULL;

                g_assert_cmpint(hd_test_run_cli(table, narrow_env, &narrow, NULL), ==, 0);
                nl = g_strsplit(narrow, "\n", -1);
                for (guint i = 0; nl[i]; i++)
                        g_assert_cmpint(g_utf8_strlen(nl[i], -1), <=, 80);
                g_assert_nonnull(strstr(narrow, "\n01:00.0  gpu      10de:1b80  nouveau"));
                g_assert_nonnull(strstr(narrow, "…"));
        }
}

static void test_show(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *json[] = { "show", "0000:01:00.0", "--json", "--root", fx->root, NULL };
        const char *text[] = { "show", "01:00.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *txt = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o, *group;

        g_assert_cmpint(run(json, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        for (gsize k = 0; k < G_N_ELEMENTS(device_keys); k++)
                g_assert_true(json_object_has_member(o, device_keys[k]));
        g_assert_cmpstr(json_object_get_string_member(o, "pcie_type"), ==, "endpoint");
        g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(o, "upstream"), 0),
                        ==, "0000:00:01.0");
        g_assert_true(json_object_has_member(o, "link_capability"));
        g_assert_true(json_object_has_member(o, "reset_methods"));
        group = json_object_get_object_member(o, "group");
        g_assert_nonnull(group);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(group, "devices")), ==, 3);
        g_assert_false(json_object_get_boolean_member(group, "viable"));
        g_assert_cmpstr(json_object_get_string_member(group, "verdict_code"), ==, "needs-group");

        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "host_use")), ==, 0);
        /* lspci -k's "Kernel modules:" from modules.alias: the vendor and class pattern and the
         * id pattern both name nouveau, once */
        {
                JsonArray *mods = json_object_get_array_member(o, "kernel_modules");
                JsonArray *caps = json_object_get_array_member(o, "capabilities");
                gboolean pcie = FALSE, aer = FALSE;

                g_assert_cmpuint(json_array_get_length(mods), ==, 1);
                g_assert_cmpstr(json_array_get_string_element(mods, 0), ==, "nouveau");
                g_assert_cmpuint(json_array_get_length(caps), >=, 2);
                for (guint i = 0; i < json_array_get_length(caps); i++) {
                        JsonObject *c = json_array_get_object_element(caps, i);
                        const char *name = json_object_get_string_member(c, "name");
                        pcie |= !json_object_get_boolean_member(c, "extended") &&
                                g_strcmp0(name, "PCI Express") == 0 &&
                                json_object_get_int_member(c, "id") == 0x10;
                        aer |= json_object_get_boolean_member(c, "extended") &&
                               g_strcmp0(name, "Advanced Error Reporting") == 0 &&
                               json_object_get_int_member(c, "offset") >= 0x100;
                }
                g_assert_true(pcie);
                g_assert_true(aer);
        }
        g_assert_cmpint(run(text, &txt, NULL), ==, 0);
        g_assert_nonnull(strstr(txt, "NVIDIA Corporation"));
        g_assert_nonnull(strstr(txt, "0000:01:00.1 (Audio device, snd_hda_intel)"));
        g_assert_nonnull(strstr(txt, "kernel modules     nouveau\n"));
        g_assert_null(strstr(txt, "capabilities"));
        {
                /* --capabilities: lspci -v's list; the audio function matches two patterns of
                 * one module and the NVMe drive a class pattern */
                const char *caps[] = { "show", "01:00.0", "--capabilities", "--root", fx->root,
                                       NULL };
                const char *audio[] = { "show", "01:00.1", "--root", fx->root, NULL };
                g_autofree char *c = NULL;
                g_autofree char *a = NULL;

                g_assert_cmpint(run(caps, &c, NULL), ==, 0);
                g_assert_nonnull(strstr(c, "capabilities       Power Management (0x"));
                g_assert_nonnull(strstr(c, "[ext] Advanced Error Reporting v"));
                g_assert_cmpint(run(audio, &a, NULL), ==, 0);
                g_assert_nonnull(strstr(a, "kernel modules     snd_hda_intel\n"));
        }
}

/* show names what the host does with a device: the root disk, the default route. */
/* The device names admins paste (address.h): every command that takes devices resolves them
 * the same way. */
static void test_pasted_names(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *forms[] = { "1:0.0", "pci_0000_01_00_0", "10de:1b80", "0000:01:00.0" };
        const char *slot_show[] = { "show", "01:00", "--root", fx->root, NULL };
        const char *slot_xml[] = { "xml", "01:00", "--managed", "--root", fx->root, NULL };
        const char *slot_dry[] = { "detach", "1:0", "--dry-run", "--root", fx->root, "--backend",
                                   "sim", NULL };
        const char *bad[] = { "show", "gpu0", "--root", fx->root, NULL };
        const char *none[] = { "show", "abcd:0001", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        for (gsize i = 0; i < G_N_ELEMENTS(forms); i++) {
                const char *argv[] = { "show", forms[i], "--json", "--root", fx->root, NULL };
                g_autofree char *o = NULL;
                g_autoptr(JsonNode) root = NULL;

                g_assert_cmpint(run(argv, &o, NULL), ==, 0);
                root = hd_test_parse_json(o);
                g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "address"),
                                ==, "0000:01:00.0");
        }
        /* a slot where one device is wanted: its functions are named */
        g_assert_cmpint(run(slot_show, NULL, &err), !=, 0);
        g_assert_nonnull(strstr(err, "0000:01:00.0, 0000:01:00.1"));
        g_clear_pointer(&err, g_free);
        /* a slot where several are taken: every function */
        g_assert_cmpint(run(slot_xml, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "bus='0x01' slot='0x00' function='0x0'"));
        g_assert_nonnull(strstr(out, "bus='0x01' slot='0x00' function='0x1'"));
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(slot_dry, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "0000:01:00.0"));
        g_assert_nonnull(strstr(out, "0000:01:00.1"));
        /* what is not a device name, and ids nobody has */
        g_assert_cmpint(run(bad, NULL, &err), !=, 0);
        g_assert_nonnull(strstr(err, "10de:1b80"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(none, NULL, &err), !=, 0);
        g_assert_nonnull(strstr(err, "no device with vendor:device abcd:0001"));
        {
                /* after a detach: what to do next (verify, xml, --persist), never in JSON */
                g_autoptr(HdTestFixture) copy = hd_test_fixture_copy(fx);
                const char *detach[] = { "detach", "01:00", "--root", copy->root, "--backend", "sim",
                                         NULL };
                const char *again_json[] = { "detach", "01:00", "--json", "--root", copy->root,
                                             "--backend", "sim", NULL };
                g_autofree char *o = NULL;
                g_autofree char *j = NULL;

                g_assert_cmpint(run(detach, &o, NULL), ==, 0);
                g_assert_nonnull(strstr(o, "Next:"));
                g_assert_nonnull(strstr(o, "hostdev verify 0000:01:00.0"));
                g_assert_nonnull(strstr(o, "hostdev xml 0000:01:00.0 0000:01:00.1"));
                g_assert_nonnull(strstr(o, "hostdev detach 0000:01:00.0 0000:01:00.1 --persist"));
                g_assert_cmpint(run(again_json, &j, NULL), ==, 0);
                g_assert_null(strstr(j, "Next:"));
        }
}

/* groups N (one group) and groups --problems (only those that are not ready, with why). */
static void test_groups_one_and_problems(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *one[] = { "groups", "1", "--json", "--root", fx->root, NULL };
        const char *problems[] = { "groups", "--problems", "--json", "--root", fx->root, NULL };
        const char *all[] = { "groups", "--json", "--root", fx->root, NULL };
        const char *text[] = { "groups", "--problems", "--root", fx->root, NULL };
        const char *missing[] = { "groups", "99", "--root", fx->root, NULL };
        const char *bad[] = { "groups", "x", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autoptr(JsonNode) all_root = NULL;
        JsonArray *groups;
        guint n_all, n_ready = 0;

        g_assert_cmpint(run(one, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        groups = member_array(root, "groups");
        g_assert_cmpuint(json_array_get_length(groups), ==, 1);
        g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(groups, 0), "group"),
                        ==, 1);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);

        /* --problems: every group but the ready ones, those of bridges only and those in use */
        g_assert_cmpint(run(all, &out, NULL), ==, 0);
        all_root = hd_test_parse_json(out);
        n_all = json_array_get_length(member_array(all_root, "groups"));
        for (guint i = 0; i < n_all; i++) {
                JsonObject *g = json_array_get_object_element(member_array(all_root, "groups"), i);
                const char *v = json_object_get_string_member(g, "verdict_code");
                n_ready += strcmp(v, "ready") == 0 || strcmp(v, "ready-with-bridge") == 0 ||
                           strcmp(v, "no-endpoint") == 0 || strcmp(v, "in-use") == 0;
        }
        g_assert_cmpuint(n_ready, >, 0);
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(problems, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        groups = member_array(root, "groups");
        g_assert_cmpuint(json_array_get_length(groups), ==, n_all - n_ready);
        for (guint i = 0; i < json_array_get_length(groups); i++) {
                JsonObject *g = json_array_get_object_element(groups, i);
                g_assert_cmpstr(json_object_get_string_member(g, "verdict_code"), !=, "ready");
        }
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(text, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "holds the boot GPU"));
        g_assert_nonnull(strstr(out, "needs 0000:01:00.1"));

        g_assert_cmpint(run(missing, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "no IOMMU group 99"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(bad, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "not an IOMMU group number"));
}

static void test_show_host_use(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *nvme[] = { "show", "0000:02:00.0", "--json", "--root", fx->root, NULL };
        const char *nic[] = { "show", "0000:03:00.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *txt = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *uses;
        gboolean root_fs = FALSE;

        g_assert_cmpint(run(nvme, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        uses = json_object_get_array_member(json_node_get_object(root), "host_use");
        for (guint i = 0; i < json_array_get_length(uses); i++)
                if (g_str_has_suffix(json_array_get_string_element(uses, i), " on /"))
                        root_fs = TRUE;
        g_assert_true(root_fs);
        g_assert_cmpint(run(nic, &txt, NULL), ==, 0);
        g_assert_nonnull(strstr(txt, "enp3s0"));
        g_assert_nonnull(strstr(txt, "default route"));
}

static void test_groups_json(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *argv[] = { "groups", "--json", "--root", fx->root, NULL };
        const char *text[] = { "groups", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *txt = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *groups;
        guint n_devices = 0;

        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        groups = member_array(root, "groups");
        g_assert_cmpuint(json_array_get_length(groups), ==, 9);
        for (guint i = 0; i < json_array_get_length(groups); i++) {
                JsonObject *g = json_array_get_object_element(groups, i);
                g_assert_true(json_object_has_member(g, "group"));
                g_assert_true(json_object_has_member(g, "viable"));
                g_assert_true(json_object_has_member(g, "verdict"));
                n_devices += json_array_get_length(json_object_get_array_member(g, "devices"));
        }
        /* every device with an IOMMU is in exactly one group */
        g_assert_cmpuint(n_devices, ==, 13);

        /* the NVMe's group is ready by the kernel's rule, but it holds / */
        for (guint i = 0; i < json_array_get_length(groups); i++) {
                JsonObject *g = json_array_get_object_element(groups, i);
                JsonArray *members = json_object_get_array_member(g, "devices");
                JsonArray *use = json_object_get_array_member(g, "host_use");
                if (g_strcmp0(json_array_get_string_element(members, 0), "0000:02:00.0") == 0) {
                        /* state.h: the host needs it, so it is not "ready" */
                        g_assert_cmpstr(json_object_get_string_member(g, "verdict_code"), ==,
                                        "host-needs-it");
                        g_assert_cmpstr(json_object_get_string_member(g, "state"), ==,
                                        "host-driver");
                        g_assert_true(json_object_get_boolean_member(g, "host_needs_it"));
                        g_assert_cmpuint(json_array_get_length(use), ==, 2);
                        g_assert_nonnull(strstr(json_object_get_string_member(g, "verdict"),
                                                "but the host uses it"));
                } else if (g_strcmp0(json_array_get_string_element(members, 0), "0000:00:14.0") == 0) {
                        g_assert_cmpuint(json_array_get_length(use), ==, 0);
                        g_assert_cmpstr(json_object_get_string_member(g, "verdict"), ==, "ready");
                }
        }

        g_assert_cmpint(run(text, &txt, NULL), ==, 0);
        g_assert_nonnull(strstr(txt, "needs 0000:01:00.1 (Audio device, snd_hda_intel) detached as well"));
        g_assert_nonnull(strstr(txt, "0000:03:00.0: enp3s0 carries the host's default route"));
        g_assert_nonnull(strstr(txt, "holds the boot GPU"));
        g_assert_nonnull(strstr(txt, "why shared:"));
}

static void test_groups_no_iommu(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        const char *argv[] = { "groups", "--json", "--root", fx->root, NULL };
        const char *text[] = { "groups", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *txt = NULL;
        g_autoptr(JsonNode) root = NULL;

        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        g_assert_cmpuint(json_array_get_length(member_array(root, "groups")), ==, 0);
        g_assert_cmpint(run(text, &txt, NULL), ==, 0);
        g_assert_nonnull(strstr(txt, "No IOMMU groups"));
}

static void test_bad_input(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        static const char *const bad[] = { "0000:zz:00.0", "../../etc", "",
                                           "0000:01:00.0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                const char *argv[] = { "show", bad[i], "--root", fx->root, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(argv, NULL, &err), ==, 2);
                /* one line naming the argument */
                g_assert_nonnull(strstr(err, "is not a PCI address"));
                g_assert_true(strchr(err, '\n') == err + strlen(err) - 1);
        }
        {
                const char *argv[] = { "show", "0000:09:00.0", "--root", fx->root, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(argv, NULL, &err), ==, 1);
                g_assert_cmpstr(err, ==, "hostdev: no PCI device 0000:09:00.0 (hostdev list shows the devices)\n");
        }
        {
                const char *argv[] = { "show", "0000:09:00.0", "--json", "--root", fx->root, NULL };
                g_autofree char *out = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonObject *e;
                g_assert_cmpint(run(argv, &out, NULL), ==, 1);
                root = hd_test_parse_json(out);
                e = json_object_get_object_member(json_node_get_object(root), "error");
                g_assert_cmpstr(json_object_get_string_member(e, "code"), ==, "not-found");
        }
        {
                g_autofree char *tmp = hd_test_make_tmp_dir();
                const char *argv[] = { "list", "--root", tmp, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(argv, NULL, &err), ==, 1);
                g_assert_nonnull(strstr(err, "is not a system root"));
                g_rmdir(tmp);
        }
        {
                const char *argv[] = { "list", "--class", "toaster", "--root", fx->root, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(argv, NULL, &err), ==, 2);
                g_assert_nonnull(strstr(err, "--class toaster is not a class"));
        }
        {
                const char *argv[] = { "list", "--bogus", NULL };
                g_assert_cmpint(run(argv, NULL, NULL), ==, 2);
        }
        {
                const char *argv[] = { "frobnicate", NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(argv, NULL, &err), ==, 2);
                g_assert_nonnull(strstr(err, "'frobnicate' is not a command"));
        }
        {
                const char *argv[] = { "list", "--backend", "magic", "--root", fx->root, NULL };
                g_assert_cmpint(run(argv, NULL, NULL), ==, 2);
        }
}

static void test_help_and_version(void)
{
        static const char *const commands[] = { "list", "show", "groups", "snapshot" };
        const char *version[] = { "--version", NULL };
        const char *help[] = { "--help", NULL };
        g_autofree char *out = NULL;
        g_autofree char *usage = NULL;

        g_assert_cmpint(run(version, &out, NULL), ==, 0);
        g_assert_true(g_str_has_prefix(out, "hostdev "));
        g_assert_cmpint(run(help, &usage, NULL), ==, 0);
        g_assert_nonnull(strstr(usage, "Exit status"));
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                const char *argv[] = { commands[i], "--help", NULL };
                g_autofree char *h = NULL;
                g_assert_cmpint(run(argv, &h, NULL), ==, 0);
                g_assert_nonnull(strstr(h, "Example:"));
                g_assert_nonnull(strstr(h, "hostdev "));
                g_assert_nonnull(strstr(usage, commands[i]));
        }
        /* help COMMAND is COMMAND --help; help alone the list */
        {
                const char *help_cmd[] = { "help", "groups", NULL };
                const char *groups_help[] = { "groups", "--help", NULL };
                const char *help_alone[] = { "help", NULL };
                g_autofree char *a = NULL, *b = NULL, *c = NULL;

                g_assert_cmpint(run(help_cmd, &a, NULL), ==, 0);
                g_assert_cmpint(run(groups_help, &b, NULL), ==, 0);
                g_assert_cmpstr(a, ==, b);
                g_assert_cmpint(run(help_alone, &c, NULL), ==, 0);
                g_assert_cmpstr(c, ==, usage);
        }
        /* a mistyped command: did you mean */
        {
                static const char *const typos[][2] = {
                        { "detatch", "detach" }, { "lsit", "list" }, { "gr", "groups" },
                        { "snapshto", "snapshot" }, { "kernel-arg", "kernel-args" },
                };
                for (gsize i = 0; i < G_N_ELEMENTS(typos); i++) {
                        const char *argv[] = { typos[i][0], NULL };
                        g_autofree char *err = NULL;
                        g_autofree char *want = g_strdup_printf("did you mean '%s'?", typos[i][1]);
                        g_assert_cmpint(run(argv, NULL, &err), ==, 2);
                        g_assert_nonnull(strstr(err, want));
                }
        }
        {
                const char *argv[] = { "frobnicate", NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run(argv, NULL, &err), ==, 2);
                g_assert_nonnull(strstr(err, "'frobnicate' is not a command"));
                g_assert_null(strstr(err, "did you mean"));
        }
        /* --version on every program */
        {
                const char *argv[] = { g_getenv("HOSTDEVD"), "--version", NULL };
                g_autofree char *v = NULL;
                g_assert_nonnull(argv[0]);
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 30, &v, NULL), ==, 0);
                g_assert_true(g_str_has_prefix(v, "hostdevd "));
        }
        {
                const char *argv[] = { g_getenv("HOSTDEV_ENGINE"), "--version", NULL };
                g_autofree char *v = NULL;
                g_assert_nonnull(argv[0]);
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 30, &v, NULL), ==, 0);
                g_assert_true(g_str_has_prefix(v, "hostdev-engine "));
        }
}

/* hostdev reset (virsh nodedev-reset): only a released device, the method chosen and
 * reported, the kernel's list of methods restored; warnings for devices whose only reset is
 * weak and shared. */
static void test_reset(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdTestFixture) amd = hd_test_fixture_new("amd-host");
        const char *on_host[] = { "reset", "01:00.0", "--root", fx->root, "--backend", "sim",
                                  NULL };
        const char *detach[] = { "detach", "01:00.0", "--group", "--root", fx->root, "--backend",
                                 "sim", NULL };
        const char *reset[] = { "reset", "01:00.0", "--json", "--root", fx->root, "--backend",
                                "sim", NULL };
        const char *pm[] = { "reset", "01:00.0", "--method", "pm", "--dry-run", "--root",
                             fx->root, "--backend", "sim", NULL };
        const char *bus[] = { "reset", "01:00.0", "--method", "bus", "--root", fx->root,
                              "--backend", "sim", NULL };
        const char *groups[] = { "groups", "--root", amd->root, NULL };
        const char *show_amd[] = { "show", "0c:00.0", "--json", "--root", amd->root, NULL };
        const char *groups_desktop[] = { "groups", "--root", fx->root, NULL };
        g_autofree char *err = NULL;
        g_autofree char *out = NULL;
        g_autofree char *methods_path =
            g_build_filename(fx->root, "sys/bus/pci/devices/0000:01:00.0/reset_method", NULL);
        g_autofree char *methods = NULL;
        g_autoptr(JsonNode) root = NULL;

        /* under its host driver: refused, naming what to do */
        g_assert_cmpint(run(on_host, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "0000:01:00.0 is on nouveau"));
        g_assert_nonnull(strstr(err, "hostdev detach 0000:01:00.0 first"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(detach, NULL, NULL), ==, 0);

        /* the kernel's first method, reported; its list restored after */
        g_assert_cmpint(run(reset, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "method"), ==,
                        "flr");
        g_assert_false(json_object_get_boolean_member(json_node_get_object(root), "kernel_chose"));
        g_assert_true(g_file_get_contents(methods_path, &methods, NULL, NULL));
        g_assert_cmpstr(g_strstrip(methods), ==, "flr pm");
        g_clear_pointer(&out, g_free);

        /* a method asked for: written for the reset, then the list back */
        g_assert_cmpint(run(pm, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "0000:01:00.0 would be reset (pm)"));
        g_assert_nonnull(strstr(out, "write 'pm' to /sys/bus/pci/devices/0000:01:00.0/reset_method"));
        g_assert_nonnull(strstr(out, "write '1' to /sys/bus/pci/devices/0000:01:00.0/reset"));
        g_assert_nonnull(strstr(out, "write 'flr pm' to"));
        /* one the kernel does not offer */
        g_assert_cmpint(run(bus, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "has no bus reset; the kernel offers: flr, pm"));
        g_clear_pointer(&err, g_free);
        g_clear_pointer(&out, g_free);

        /* an AMD GPU without FLR beside its audio function: warned in groups and show */
        g_assert_cmpint(run(groups, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "warning: 0000:0c:00.0 has no function-level reset (only: pm) "
                                     "and shares its bus with 1 other device"));
        g_assert_nonnull(strstr(out, "may not come back after a VM restart"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);
        g_assert_cmpint(run(show_amd, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        g_assert_nonnull(strstr(json_object_get_string_member(json_node_get_object(root),
                                                              "reset_warning"),
                                "no function-level reset"));
        g_clear_pointer(&out, g_free);
        /* a GPU with FLR: none */
        g_assert_cmpint(run(groups_desktop, &out, NULL), ==, 0);
        g_assert_null(strstr(out, "warning:"));
}

/* hostdev sriov: a PF and its VFs (the sriov-server fixture's E810 with 4 of 64 VFs on iavf). */
static void test_sriov(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        const char *json[] = { "sriov", "18:00.0", "--json", "--root", fx->root, NULL };
        const char *text[] = { "sriov", "0000:18:00.0", "--root", fx->root, NULL };
        const char *vf[] = { "sriov", "0000:18:01.0", "--root", fx->root, NULL };
        const char *not_pf[] = { "sriov", "0000:5e:00.0", "--root", fx->root, NULL };
        g_autofree char *out = NULL;
        g_autofree char *txt = NULL;
        g_autofree char *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;
        JsonArray *vfs;

        g_assert_cmpint(run(json, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "pf"), ==, "0000:18:00.0");
        g_assert_cmpint(json_object_get_int_member(o, "totalvfs"), ==, 64);
        g_assert_cmpint(json_object_get_int_member(o, "numvfs"), ==, 4);
        g_assert_cmpstr(json_object_get_string_member(o, "vf_device_id"), ==, "1889");
        g_assert_true(json_object_get_boolean_member(o, "drivers_autoprobe"));
        vfs = json_object_get_array_member(o, "vfs");
        g_assert_cmpuint(json_array_get_length(vfs), ==, 4);
        for (guint i = 0; i < 4; i++) {
                JsonObject *v = json_array_get_object_element(vfs, i);
                g_autofree char *addr = g_strdup_printf("0000:18:01.%u", i);
                g_autofree char *net = g_strdup_printf("ens1f0v%u", i);
                g_assert_cmpstr(json_object_get_string_member(v, "address"), ==, addr);
                g_assert_cmpstr(json_object_get_string_member(v, "driver"), ==, "iavf");
                g_assert_true(json_object_get_int_member(v, "iommu_group") >= 0);
                g_assert_cmpstr(json_array_get_string_element(
                                    json_object_get_array_member(v, "netdevs"), 0),
                                ==, net);
        }
        g_assert_cmpint(run(text, &txt, NULL), ==, 0);
        g_assert_nonnull(strstr(txt, "0000:18:00.0  ice, 4 of 64 VFs enabled (VF device 1889)"));
        g_assert_nonnull(strstr(txt, "0000:18:01.3  iavf"));
        /* a VF names its PF; a device without SR-IOV says where the PFs are */
        g_assert_cmpint(run(vf, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "virtual function of 0000:18:00.0: hostdev sriov 0000:18:00.0"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(not_pf, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "0000:5e:00.0 is not an SR-IOV physical function"));
}

/* A user who is not root gets the file the kernel refused and "this needs root", not a bare
 * "Permission denied". Run as nobody (setpriv) when the test runs as root. */
static void test_needs_root(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *parent = g_path_get_dirname(fx->root);
        g_autofree char *chmod_cmd = g_strdup_printf("chmod -R a+rX '%s'", parent);
        const char *cli = g_getenv("HOSTDEV_CLI");
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *err = NULL;

        g_assert_cmpint(system(chmod_cmd), ==, 0);
        if (geteuid() == 0) {
                g_ptr_array_add(argv, "/usr/bin/setpriv");
                g_ptr_array_add(argv, "--reuid=65534");
                g_ptr_array_add(argv, "--regid=65534");
                g_ptr_array_add(argv, "--clear-groups");
        }
        g_ptr_array_add(argv, (gpointer)cli);
        g_ptr_array_add(argv, "detach");
        g_ptr_array_add(argv, "0000:01:00.0");
        g_ptr_array_add(argv, "--group");
        g_ptr_array_add(argv, "--root");
        g_ptr_array_add(argv, fx->root);
        g_ptr_array_add(argv, "--backend");
        g_ptr_array_add(argv, "sim");
        g_ptr_array_add(argv, NULL);
        g_assert_cmpint(hd_test_run_guarded((const char *const *)argv->pdata, NULL, 60, NULL, &err),
                        ==, 1);
        if (!strstr(err, "Permission denied") || !strstr(err, "/run") ||
            !strstr(err, "this needs root")) /* the file it could not open, and why */
                g_error("not the needs-root refusal: %s", err);
        /* nothing moved */
        {
                g_autofree char *drv = hd_test_driver(fx, "0000:01:00.0");
                g_assert_cmpstr(drv, ==, "nouveau");
        }
}

/* A snapshot that cannot be written says so in one line, with what to do, and leaves no half
 * archive behind. */
static void test_snapshot_write_errors(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *missing = g_build_filename(tmp, "no-such-dir", "x.tar.gz", NULL);
        g_autofree char *big = g_build_filename(tmp, "big.tar.gz", NULL);
        const char *nodir[] = { "snapshot", "-o", missing, "--root", fx->root, NULL };
        g_autofree char *err = NULL;
        g_autofree char *script = NULL;

        g_assert_cmpint(run(nodir, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "cannot write the snapshot to"));
        g_assert_nonnull(strstr(err, "give -o a file in a directory"));
        /* nothing was captured first: the one line is all */
        g_assert_true(strchr(err, '\n') == err + strlen(err) - 1);
        g_clear_pointer(&err, g_free);

        /* a write that fails half-way (a file size limit: EFBIG, SIGXFSZ ignored) */
        script = g_strdup_printf("trap '' XFSZ; exec prlimit --fsize=2048 '%s' snapshot -o '%s' "
                                 "--root '%s'",
                                 g_getenv("HOSTDEV_CLI"), big, fx->root);
        {
                const char *argv[] = { "/bin/sh", "-c", script, NULL };
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, NULL, &err), ==, 1);
        }
        g_assert_nonnull(strstr(err, "cannot write the snapshot to"));
        g_assert_nonnull(strstr(err, "File too large"));
        g_assert_null(strstr(err, "tar:"));
        g_assert_false(g_file_test(big, G_FILE_TEST_EXISTS));
        g_assert_cmpint(g_rmdir(tmp), ==, 0); /* empty: nothing was left in it */
}

/* A snapshot of a tree replays it: the same devices, drivers and groups. */
static void test_snapshot_roundtrip(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *tree = g_build_filename(tmp, "tree", NULL);
        g_autofree char *tarball = g_build_filename(tmp, "snap.tar.gz", NULL);
        g_autofree char *unpacked = g_build_filename(tmp, "unpacked", NULL);
        const char *snap_dir[] = { "snapshot", "-d", tree, "--root", fx->root, NULL };
        const char *snap_tar[] = { "snapshot", "-o", tarball, "--root", fx->root, NULL };
        const char *orig_list[] = { "list", "--json", "--root", fx->root, NULL };
        const char *orig_groups[] = { "groups", "--json", "--root", fx->root, NULL };
        g_autofree char *a = NULL, *b = NULL, *c = NULL, *ga = NULL, *gb = NULL;
        g_autofree char *cmd = NULL;

        g_assert_cmpint(run(snap_dir, NULL, NULL), ==, 0);
        g_assert_cmpint(run(snap_tar, NULL, NULL), ==, 0);
        g_assert_cmpint(run(orig_list, &a, NULL), ==, 0);
        g_assert_cmpint(run(orig_groups, &ga, NULL), ==, 0);
        {
                const char *argv[] = { "list", "--json", "--root", tree, NULL };
                const char *gargv[] = { "groups", "--json", "--root", tree, NULL };
                g_assert_cmpint(run(argv, &b, NULL), ==, 0);
                g_assert_cmpint(run(gargv, &gb, NULL), ==, 0);
        }
        g_assert_cmpstr(a, ==, b);
        g_assert_cmpstr(ga, ==, gb);

        cmd = g_strdup_printf("mkdir '%s' && tar xzf '%s' -C '%s'", unpacked, tarball, unpacked);
        g_assert_cmpint(system(cmd), ==, 0);
        {
                const char *argv[] = { "list", "--json", "--root", unpacked, NULL };
                g_assert_cmpint(run(argv, &c, NULL), ==, 0);
        }
        g_assert_cmpstr(a, ==, c);
        {
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
                g_assert_cmpint(system(rm), ==, 0);
        }
}

/* The snapshot of a real machine in the fixtures replays. */
static void test_real_snapshot(void)
{
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *cmd = g_strdup_printf(
                "tar xzf '%s/tests/fixtures/snapshots/kvm-guest-virtio.tar.gz' -C '%s'",
                g_getenv("HOSTDEV_SOURCE_DIR"), tmp);
        const char *argv[] = { "list", "--json", "--root", tmp, NULL };
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *blk;

        g_assert_cmpint(system(cmd), ==, 0);
        g_assert_cmpint(run(argv, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        g_assert_cmpuint(json_array_get_length(member_array(root, "devices")), ==, 6);
        blk = find_device(member_array(root, "devices"), "0000:00:02.0");
        g_assert_cmpstr(json_object_get_string_member(blk, "vendor_id"), ==, "1af4");
        g_assert_cmpstr(json_object_get_string_member(blk, "driver"), ==, "virtio-pci");
        g_assert_true(json_object_get_null_member(blk, "iommu_group"));
        {
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
                g_assert_cmpint(system(rm), ==, 0);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cli/list/json", test_list_json);
        g_test_add_func("/cli/list/sriov-json", test_list_sriov_json);
        g_test_add_func("/cli/list/matches-attributes", test_list_matches_attributes);
        g_test_add_func("/cli/list/vf-without-vf-device", test_list_vf_without_vf_device);
        g_test_add_func("/cli/list/filters", test_list_filters);
        g_test_add_func("/cli/list/table-and-tree", test_list_table_and_tree);
        g_test_add_func("/cli/show", test_show);
        g_test_add_func("/cli/show/host-use", test_show_host_use);
        g_test_add_func("/cli/pasted-names", test_pasted_names);
        g_test_add_func("/cli/groups/one-and-problems", test_groups_one_and_problems);
        g_test_add_func("/cli/groups/json", test_groups_json);
        g_test_add_func("/cli/groups/no-iommu", test_groups_no_iommu);
        g_test_add_func("/cli/bad-input", test_bad_input);
        g_test_add_func("/cli/help-and-version", test_help_and_version);
        g_test_add_func("/cli/snapshot/roundtrip", test_snapshot_roundtrip);
        g_test_add_func("/cli/snapshot/write-errors", test_snapshot_write_errors);
        g_test_add_func("/cli/needs-root", test_needs_root);
        g_test_add_func("/cli/reset", test_reset);
        g_test_add_func("/cli/sriov", test_sriov);
        g_test_add_func("/cli/snapshot/real-machine", test_real_snapshot);
        return g_test_run();
}
