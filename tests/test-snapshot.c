/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots replay faithfully (issue 12 item 9): `check --json`, `list --json` and
 * `groups --json` on a snapshot of a machine say exactly what they say on the machine, and
 * the kernel's own files (procfs) are captured whole.
 */
#include "config.h"

#include <string.h>
#include <sys/utsname.h>
#include <fcntl.h>
#include <unistd.h>

#include "fileio.h"
#include "testlib.h"

static const char *const commands[][3] = {
    {"check", "--json", NULL},
    {"list", "--json", NULL},
    {"groups", "--json", NULL},
    {"usb", "list", "--json"},
    {"mdev", "types", "--json"},
    /* not `mdev list`: who holds an mdev open comes from /proc, which a snapshot leaves out */
};

static void remove_tree(const char *dir)
{
        const char *argv[] = {"rm", "-rf", dir, NULL};

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                                   NULL, NULL, NULL));
}

/* Snapshot @root, then run every command on both and compare exit status and output. */
static void assert_replays(const char *root, const char *name)
{
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *tree = g_build_filename(tmp, "tree", NULL);
        const char *snap[] = {"--root", root, "snapshot", "-d", tree, NULL};

        g_assert_cmpint(hd_test_run_cli(snap, NULL, NULL, NULL), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                const char *on_host[] = {"--root", root, commands[i][0], commands[i][1],
                                         commands[i][2], NULL};
                const char *on_snap[] = {"--root", tree, commands[i][0], commands[i][1],
                                         commands[i][2], NULL};
                g_autofree char *a = NULL;
                g_autofree char *b = NULL;
                int ra = hd_test_run_cli(on_host, NULL, &a, NULL);
                int rb = hd_test_run_cli(on_snap, NULL, &b, NULL);

                if (ra != rb || strcmp(a, b) != 0)
                        g_error("%s: '%s %s' on the snapshot differs from the machine (exit %d "
                                "vs %d):\n--- machine\n%s\n--- snapshot\n%s",
                                name, commands[i][0], commands[i][1], ra, rb, a, b);
        }
        remove_tree(tmp);
}

static void test_fixture_replays(gconstpointer data)
{
        const char *topology = data;
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new(topology);

        assert_replays(fx->root, topology);
}

/* A host whose firmware has no IOMMU table at all: the absence must survive the snapshot
 * (the ACPI tables directory exists, DMAR and IVRS do not), or check on the snapshot says
 * "skip" where the host says "fail". */
static void test_absent_acpi_table(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-iommu");
        g_autofree char *tables = hd_test_path(fx, "sys/firmware/acpi/tables");
        g_autofree char *facp = g_build_filename(tables, "FACP", NULL);

        /* the machine has ACPI tables, none of them an IOMMU's */
        g_assert_cmpint(g_mkdir_with_parents(tables, 0755), ==, 0);
        g_assert_true(g_file_set_contents(facp, "", 0, NULL));
        assert_replays(fx->root, "no-iommu with ACPI tables");

        /* and the manifest says what was looked for and not there */
        {
                g_autofree char *tmp = hd_test_make_tmp_dir();
                g_autofree char *tree = g_build_filename(tmp, "tree", NULL);
                g_autofree char *manifest = g_build_filename(tree, "hostdev-snapshot.json", NULL);
                g_autofree char *text = NULL;
                g_autoptr(JsonNode) root = NULL;
                JsonArray *absent;
                gboolean dmar = FALSE, ivrs = FALSE;
                const char *snap[] = {"--root", fx->root, "snapshot", "-d", tree, NULL};

                g_assert_cmpint(hd_test_run_cli(snap, NULL, NULL, NULL), ==, 0);
                g_assert_true(g_file_get_contents(manifest, &text, NULL, NULL));
                root = hd_test_parse_json(text);
                absent = json_object_get_array_member(json_node_get_object(root), "absent");
                for (guint i = 0; i < json_array_get_length(absent); i++) {
                        const char *p = json_array_get_string_element(absent, i);
                        dmar |= strcmp(p, "sys/firmware/acpi/tables/DMAR") == 0;
                        ivrs |= strcmp(p, "sys/firmware/acpi/tables/IVRS") == 0;
                }
                g_assert_true(dmar && ivrs);
                remove_tree(tmp);
        }
}

/* procfs sysctl files refuse reads with a buffer larger than the kernel will allocate
 * (ENOMEM): the file helpers must read them in small pieces, whatever the caller's bound. */
static void test_procfs_read_whole(void)
{
        struct utsname u;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) b = NULL;
        g_autofree char *text = NULL;
        int root_fd;

        g_assert_cmpint(uname(&u), ==, 0);
        root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(root_fd, >=, 0);
        b = hd_read_bytes_at(root_fd, "proc/sys/kernel/osrelease", 8 * 1024 * 1024, &error);
        close(root_fd);
        g_assert_no_error(error);
        g_assert_nonnull(b);
        text = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
        g_assert_cmpstr(g_strstrip(text), ==, u.release);
}

int main(int argc, char **argv)
{
        static const char *const topologies[] = {
            "desktop",      "amd-host",     "no-iommu",     "firmware-only",
            "ir-off",       "grubby-host",  "proxmox-host", "systemd-boot-host",
            "sriov-server", "already-vfio", "pci-bridge",   "no-vfio",
            "usb-desk",     "mdev-host",    "mdev-no-iommu",
        };

        g_test_init(&argc, &argv, NULL);
        for (gsize i = 0; i < G_N_ELEMENTS(topologies); i++) {
                g_autofree char *path = g_strdup_printf("/snapshot/replays/%s", topologies[i]);
                g_test_add_data_func(path, topologies[i], test_fixture_replays);
        }
        g_test_add_func("/snapshot/absent-acpi-table", test_absent_acpi_table);
        g_test_add_func("/snapshot/procfs-read-whole", test_procfs_read_whole);
        return g_test_run();
}
