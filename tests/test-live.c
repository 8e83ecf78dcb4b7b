/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev list --json` on the machine running the tests agrees with its /sys, device by
 * device. Read-only: nothing is written anywhere.
 */
#include "config.h"

#include <string.h>

#include "testlib.h"

static char *read_sys(const char *dev, const char *attr)
{
        g_autofree char *path = g_strdup_printf("/sys/bus/pci/devices/%s/%s", dev, attr);
        char *s = NULL;

        if (!g_file_get_contents(path, &s, NULL, NULL))
                return NULL;
        return g_strstrip(s);
}

static char *link_base(const char *dev, const char *attr)
{
        g_autofree char *path = g_strdup_printf("/sys/bus/pci/devices/%s/%s", dev, attr);
        g_autofree char *target = g_file_read_link(path, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static void test_list_matches_sys(void)
{
        const char *argv[] = { "list", "--json", NULL };
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autoptr(GDir) dir = g_dir_open("/sys/bus/pci/devices", 0, NULL);
        JsonArray *devices;
        guint n_sys = 0;
        const char *name;

        if (!dir) {
                g_test_skip("this machine has no /sys/bus/pci");
                return;
        }
        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        devices = json_object_get_array_member(json_node_get_object(root), "devices");
        while ((name = g_dir_read_name(dir))) {
                JsonObject *d = NULL;
                g_autofree char *vendor = read_sys(name, "vendor");
                g_autofree char *device = read_sys(name, "device");
                g_autofree char *class = read_sys(name, "class");
                g_autofree char *driver = link_base(name, "driver");
                g_autofree char *group = link_base(name, "iommu_group");

                n_sys++;
                for (guint i = 0; i < json_array_get_length(devices); i++) {
                        JsonObject *o = json_array_get_object_element(devices, i);
                        if (g_strcmp0(json_object_get_string_member(o, "address"), name) == 0)
                                d = o;
                }
                g_assert_nonnull(d);
                g_assert_cmpstr(json_object_get_string_member(d, "vendor_id"), ==, vendor + 2);
                g_assert_cmpstr(json_object_get_string_member(d, "device_id"), ==, device + 2);
                g_assert_cmpstr(json_object_get_string_member(d, "class"), ==, class + 2);
                if (driver)
                        g_assert_cmpstr(json_object_get_string_member(d, "driver"), ==, driver);
                else
                        g_assert_true(json_object_get_null_member(d, "driver"));
                if (group)
                        g_assert_cmpint(json_object_get_int_member(d, "iommu_group"), ==,
                                        g_ascii_strtoll(group, NULL, 10));
                else
                        g_assert_true(json_object_get_null_member(d, "iommu_group"));
        }
        g_assert_cmpuint(n_sys, ==, json_array_get_length(devices));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/live/list-matches-sys", test_list_matches_sys);
        return g_test_run();
}
