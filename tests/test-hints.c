/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every hint names a command that works (issue 12 item 7, hint.h H2). For every device of
 * several fixture topologies, `verify`, `xml` and `qemu-args` are run; when they refuse and
 * suggest a command ("run 'hostdev detach ADDR --group'"), the suggestion is run on the same
 * tree and must succeed, and then the original command must succeed too. When no command is
 * suggested, the message must not name a detach at all (it says why not). `--managed` is
 * suggested only when `xml --managed` then works. And `xml --managed` of what detach refuses
 * (the boot GPU, the root-filesystem NVMe, the default-route NIC) is refused unless --force,
 * at the same levels as detach.
 */
#include "config.h"

#include <string.h>

#include "testlib.h"

/* The command in "run 'hostdev ...'", without the program name; NULL when none. */
static GStrv suggested(const char *msg)
{
        const char *start = strstr(msg, "run 'hostdev ");
        const char *end;
        g_autofree char *cmd = NULL;

        if (!start)
                return NULL;
        start += strlen("run 'hostdev ");
        end = strchr(start, '\'');
        g_assert_nonnull(end);
        cmd = g_strndup(start, end - start);
        return g_strsplit(cmd, " ", -1);
}

static int run_on(const char *root, const char *const *words, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, (gpointer)root);
        for (const char *const *w = words; *w; w++)
                g_ptr_array_add(argv, (gpointer)*w);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, NULL, NULL, err);
}

/* `verify ADDR` (@verb "verify") or `xml ADDR` ("xml"; qemu-args checks the same way), in
 * the library on a context of @root: 0, or 1 with the message in *err. */
static int lib_run(const char *root, const char *verb, const char *addr, gboolean managed,
                   char **err)
{
        g_autoptr(HdCtx) ctx = hd_ctx_new(root, HD_BACKEND_SIM, NULL);
        g_autoptr(GError) error = NULL;
        HdAddress a = hd_test_address(addr);
        gboolean ok;

        g_assert_nonnull(ctx);
        if (strcmp(verb, "verify") == 0) {
                HdVfioInfo info;
                hd_vfio_info_init(&info);
                ok = hd_vfio_verify(ctx, &a, &info, &error);
                hd_vfio_info_clear(&info);
        } else {
                HdGuestOptions o = { .managed = managed, .rom_bar = HD_ROM_BAR_DEFAULT };
                ok = hd_guest_check_devices(ctx, &a, 1, &o, &error);
        }
        if (ok)
                return 0;
        *err = g_strdup(error->message);
        return 1;
}

/* Run `VERB ADDR`; when refused with a suggestion, the suggestion (through the CLI, as typed)
 * and then `VERB ADDR` again must succeed. Returns how many suggestions were followed. */
static guint check_one(const HdTestFixture *fx, const char *verb, const char *addr,
                       gboolean *refused_without_command)
{
        g_autoptr(HdTestFixture) copy = NULL;
        const char *words[] = { verb, addr, NULL };
        g_autofree char *err = NULL;
        g_auto(GStrv) cmd = NULL;
        int rc = lib_run(fx->root, verb, addr, FALSE, &err); /* these only read */

        *refused_without_command = FALSE;
        if (rc == 0)
                return 0;
        cmd = suggested(err);
        if (!cmd) {
                /* no command: none would work, and none is named */
                if (strstr(err, "hostdev detach"))
                        g_error("%s %s names a detach without suggesting it: %s", verb, addr, err);
                *refused_without_command = TRUE;
                return 0;
        }
        copy = hd_test_fixture_copy(fx);
        {
                g_autofree char *err2 = NULL;
                g_autofree char *shown = g_strjoinv(" ", cmd);
                if (run_on(copy->root, (const char *const *)cmd, &err2) != 0)
                        g_error("%s %s suggested 'hostdev %s', which failed: %s", verb, addr,
                                shown, err2);
        }
        {
                g_autofree char *err3 = NULL;
                if (run_on(copy->root, words, &err3) != 0)
                        g_error("%s %s still fails after its suggestion: %s", verb, addr, err3);
        }
        /* --managed is offered only when it works */
        if (strstr(err, "--managed")) {
                g_autofree char *err4 = NULL;
                if (lib_run(fx->root, verb, addr, TRUE, &err4) != 0)
                        g_error("%s %s suggested --managed, which failed: %s", verb, addr, err4);
        }
        return 1;
}

static void check_topology(gconstpointer data)
{
        const char *topology = data;
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new(topology);
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdInventory) inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, &error);
        static const char *const verbs[] = { "verify", "xml" };
        guint followed = 0, refused = 0;

        g_assert_no_error(error);
        for (guint i = 0; i < inv->devices->len; i++) {
                HdDevice *dev = inv->devices->pdata[i];
                for (guint v = 0; v < G_N_ELEMENTS(verbs); v++) {
                        gboolean r = FALSE;
                        followed += check_one(fx, verbs[v], dev->name, &r);
                        refused += r;
                }
        }
        g_test_message("%s: %u suggestions followed, %u refusals without a command", topology,
                       followed, refused);
}

/* The desktop's own cases, named: the boot GPU and the bridge get no command; the shared
 * group gets --group. */
static void test_desktop_named(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        struct {
                const char *verb, *addr, *want;
        } cases[] = {
                { "verify", "0000:00:02.0", "boot VGA device" },
                { "xml", "0000:00:02.0", "boot VGA device" },
                { "verify", "0000:00:01.0", "PCI bridge" },
                { "verify", "0000:00:1c.0", "verify the devices behind it" },
                { "verify", "0000:02:00.0", "root filesystem" },
                { "verify", "0000:01:00.0", "run 'hostdev detach 0000:01:00.0 --group'" },
                { "xml", "0000:01:00.0", "run 'hostdev detach 0000:01:00.0 --group' first" },
                { "xml", "0000:00:14.0", "run 'hostdev detach 0000:00:14.0' first, or pass "
                                         "--managed" },
                { "verify", "0000:00:14.0", "run 'hostdev detach 0000:00:14.0'" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *words[] = { cases[i].verb, cases[i].addr, NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run_on(fx->root, words, &err), ==, 1);
                if (!strstr(err, cases[i].want))
                        g_error("%s %s: wanted '%s' in: %s", cases[i].verb, cases[i].addr,
                                cases[i].want, err);
                if (strcmp(cases[i].want, "boot VGA device") == 0 ||
                    strcmp(cases[i].want, "PCI bridge") == 0)
                        g_assert_null(strstr(err, "hostdev detach"));
        }
}

/* xml --managed / qemu-args --managed: libvirt would detach what hostdev refuses to. The same
 * --force levels as detach; the root filesystem's controller never. */
static void test_managed_checked(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        struct {
                const char *addr;
                guint force_needed; /* 3: never */
                const char *why;
        } cases[] = {
                { "0000:00:02.0", 1, "boot VGA device" },
                { "0000:03:00.0", 2, "default route" },
                { "0000:02:00.0", 3, "root filesystem" },
                { "0000:00:14.0", 0, NULL },
        };
        /* qemu-args refuses --managed: QEMU moves no device (test-guest) */
        static const char *const verbs[] = { "xml" };

        for (guint v = 0; v < G_N_ELEMENTS(verbs); v++)
                for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
                        for (guint force = 0; force <= 2; force++) {
                                const char *words[] = { verbs[v], "--managed", cases[i].addr,
                                                        force > 0 ? "--force" : NULL,
                                                        force > 1 ? "--force" : NULL, NULL };
                                g_autofree char *err = NULL;
                                int rc = run_on(fx->root, words, &err);
                                if (force < cases[i].force_needed) {
                                        g_assert_cmpint(rc, ==, 1);
                                        g_assert_nonnull(strstr(err, cases[i].why));
                                        g_assert_nonnull(strstr(err, "libvirt would detach"));
                                } else {
                                        if (rc != 0)
                                                g_error("%s --managed %s with %u --force: %s",
                                                        verbs[v], cases[i].addr, force, err);
                                        break;
                                }
                        }
        /* --force without --managed is a usage error */
        {
                const char *words[] = { "xml", "--force", "0000:00:14.0", NULL };
                g_assert_cmpint(run_on(fx->root, words, NULL), ==, 2);
        }
}

/* Without ACS the USB controller shares its group with the NIC that carries the default
 * route: --group would be refused too, so no command suggests it (detach, persist add,
 * verify, xml): each says why, naming the NIC and the route. */
static void test_group_refused_too(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("no-acs-pch");
        const char *const cmds[][4] = {
                { "detach", "0000:03:00.0", NULL },
                { "persist", "add", "0000:03:00.0", NULL },
                { "verify", "0000:03:00.0", NULL },
                { "xml", "0000:03:00.0", NULL },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
                g_autofree char *err = NULL;
                g_assert_cmpint(run_on(fx->root, cmds[i], &err), ==, 1);
                if (strstr(err, "--group") || strstr(err, "run '") ||
                    !strstr(err, "whole group is refused too") ||
                    !strstr(err, "0000:02:00.0 (Ethernet controller, igc) is enp2s0, which "
                                 "carries the host's default route"))
                        g_error("%s %s: %s", cmds[i][0], cmds[i][1], err);
        }
        /* and the group, asked for, is refused for the NIC */
        {
                const char *words[] = { "detach", "0000:03:00.0", "--group", NULL };
                g_autofree char *err = NULL;
                g_assert_cmpint(run_on(fx->root, words, &err), ==, 1);
                g_assert_nonnull(strstr(err, "default route"));
        }
}

/* The SR-IOV and mdev hints in both vocabularies (hint.h): the CLI's commands, the API's calls. */
static void test_sriov_mdev_words(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("sriov-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *u = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
        struct {
                char *got;
                const char *cli, *api;
        } w[7];

        for (int api = 0; api <= 1; api++) {
                hd_ctx_set_vocabulary(ctx, api ? HD_VOCABULARY_API : HD_VOCABULARY_CLI);
                w[0].got = hd_hint_attach(ctx, "0000:18:01.0");
                w[0].cli = "hostdev attach 0000:18:01.0";
                w[0].api = "POST /v1/devices/0000:18:01.0/attach";
                w[1].got = hd_hint_sriov(ctx, "0000:18:00.0", 4);
                w[1].cli = "hostdev sriov 0000:18:00.0 --numvfs 4";
                w[1].api = "POST /v1/devices/0000:18:00.0/sriov with {\"numvfs\": 4}";
                w[2].got = hd_hint_sriov(ctx, "0000:18:00.0", -1);
                w[2].cli = "hostdev sriov 0000:18:00.0";
                w[2].api = "GET /v1/devices/0000:18:00.0/sriov";
                w[3].got = hd_hint_mdev(ctx, HD_HINT_MDEV_TYPES, "mtty");
                w[3].cli = "hostdev mdev types mtty";
                w[3].api = "GET /v1/mdev";
                w[4].got = hd_hint_mdev(ctx, HD_HINT_MDEV_LIST, NULL);
                w[4].cli = "hostdev mdev list";
                w[4].api = "GET /v1/mdev";
                w[5].got = hd_hint_mdev(ctx, HD_HINT_MDEV_REMOVE, u);
                w[5].cli = "hostdev mdev remove 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
                w[5].api = "POST /v1/mdev/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/remove";
                w[6].got = hd_hint_mdev(ctx, HD_HINT_MDEV_REMOVE_PERSIST, u);
                w[6].cli = "hostdev mdev remove 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 --persist";
                w[6].api = "POST /v1/mdev/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/remove with "
                           "{\"persist\": true}";
                for (guint i = 0; i < G_N_ELEMENTS(w); i++) {
                        g_assert_cmpstr(w[i].got, ==, api ? w[i].api : w[i].cli);
                        g_free(w[i].got);
                }
        }
}

int main(int argc, char **argv)
{
        static const char *const topologies[] = { "desktop",      "pci-bridge", "sriov-server",
                                                  "proxmox-host", "already-vfio", "amd-host",
                                                  "no-iommu",     "no-acs-pch" };

        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(topologies); i++) {
                g_autofree char *path = g_strdup_printf("/hints/every-device/%s", topologies[i]);
                g_test_add_data_func(path, topologies[i], check_topology);
        }
        g_test_add_func("/hints/desktop-named", test_desktop_named);
        g_test_add_func("/hints/managed-checked", test_managed_checked);
        g_test_add_func("/hints/group-refused-too", test_group_refused_too);
        g_test_add_func("/hints/sriov-mdev-words", test_sriov_mdev_words);
        return g_test_run();
}
