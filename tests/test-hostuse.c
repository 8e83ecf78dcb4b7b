/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the host does with a device, seen through what stands between it and the use (issue
 * 12 items 2 and 3): a NIC that is a port of a bridge, a bond, a VLAN or a macvlan carrying
 * routes or addresses (IPv4 and IPv6), and processes holding a GPU's device nodes, with the
 * framebuffer of the boot GPU. Topologies: proxmox-bridged, desktop-drm.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostdev.h"
#include "testlib.h"

#define BRIDGED_NIC "0000:03:00.0" /* enp3s0f0, port of vmbr0: default route */
#define MACVLAN_NIC "0000:03:00.1" /* enp3s0f1, lower of mv0: an address */
#define BOND_NIC "0000:06:00.0"    /* enp6s0, slave of bond0, port of vmbr1: an address */
#define VLAN_NIC "0000:08:00.0"    /* enp8s0, lower of enp8s0.100: IPv6 default route */
#define IDLE_NIC "0000:09:00.0"    /* enp9s0 */
#define PVE_GPU "0000:0c:00.0"     /* boot GPU, no driver, console on efifb */
#define IGPU "0000:00:02.0"        /* desktop-drm: boot iGPU, Xorg and gnome-shell */
#define NVIDIA "0000:01:00.0"      /* desktop-drm: nvidia, persistenced and firefox */

static HdBindReport *detach(HdCtx *ctx, const char *addr, gboolean group, guint force,
                            GError **error)
{
        HdAddress a = hd_test_address(addr);
        HdBindOptions opts = {.group = group, .force = force};

        return hd_bind_detach(ctx, &a, 1, &opts, error);
}

static void assert_driver(const HdTestFixture *fx, const char *addr, const char *driver)
{
        g_autofree char *now = hd_test_driver(fx, addr);

        g_assert_cmpstr(now, ==, driver);
}

static void assert_has(const char *text, const char *needle)
{
        if (!strstr(text, needle))
                g_error("expected \"%s\" in:\n%s", needle, text);
}

/* A refused detach at @force that names @needles; nothing written. */
static void assert_refused(HdCtx *ctx, const char *addr, gboolean group, guint force,
                           const char *const *needles)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, addr, group, force, &error);

        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        for (const char *const *n = needles; n && *n; n++)
                assert_has(error->message, *n);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

static void assert_detached(HdCtx *ctx, const HdTestFixture *fx, const char *addr, gboolean group,
                            guint force)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = detach(ctx, addr, group, force, &error);

        g_assert_no_error(error);
        g_assert_nonnull(r);
        assert_driver(fx, addr, "vfio-pci");
}

/* ---------------------------------------------------------------- network */

static void test_bridge_port_default_route(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *const needles[] = {BRIDGED_NIC,
                                       "enp3s0f0 is a port of bridge vmbr0, which carries the "
                                       "host's default route via 192.168.1.1",
                                       "--force twice", NULL};

        assert_refused(ctx, BRIDGED_NIC, FALSE, 0, needles);
        assert_refused(ctx, BRIDGED_NIC, FALSE, 1, needles);
        assert_driver(fx, BRIDGED_NIC, "igb");
        assert_detached(ctx, fx, BRIDGED_NIC, FALSE, 2);
}

static void test_bond_under_bridge(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *const needles[] = {
            "enp6s0 is a slave of bond bond0, which is a port of bridge vmbr1, which has a "
            "route to 10.10.10.0",
            "ip link set vmbr1 down", "--force", NULL};

        assert_refused(ctx, BOND_NIC, FALSE, 0, needles);
        assert_detached(ctx, fx, BOND_NIC, FALSE, 1);
}

static void test_vlan_ipv6_default_route(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *const needles[] = {"enp8s0 is the lower device of VLAN enp8s0.100, which "
                                       "carries the host's IPv6 default route via fe80::1",
                                       "--force twice", NULL};

        assert_refused(ctx, VLAN_NIC, FALSE, 1, needles);
        assert_detached(ctx, fx, VLAN_NIC, FALSE, 2);
}

static void test_macvlan_address(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *const needles[] = {"enp3s0f1 is the lower device of macvlan mv0, which has "
                                       "a route to 192.168.50.0",
                                       NULL};

        assert_refused(ctx, MACVLAN_NIC, FALSE, 0, needles);
        assert_detached(ctx, fx, MACVLAN_NIC, FALSE, 1);
}

static void test_idle_nic(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        assert_detached(ctx, fx, IDLE_NIC, FALSE, 0);
}

/* Only the lower_* link on the upper side (no master, no upper_* on the port): still found. */
static void test_reverse_link_only(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *dev = "sys/devices/pci0000:00/0000:00:01.1/0000:03:00.0/net/enp3s0f0";
        g_autofree char *master = g_strdup_printf("%s/%s/master", fx->root, dev);
        g_autofree char *upper = g_strdup_printf("%s/%s/upper_vmbr0", fx->root, dev);
        g_autofree char *brport = g_strdup_printf("%s/%s/brport/bridge", fx->root, dev);
        const char *const needles[] = {"enp3s0f0 is a port of bridge vmbr0, which carries the "
                                       "host's default route",
                                       NULL};

        g_assert_cmpint(unlink(master), ==, 0);
        g_assert_cmpint(unlink(upper), ==, 0);
        g_assert_cmpint(unlink(brport), ==, 0);
        assert_refused(ctx, BRIDGED_NIC, FALSE, 1, needles);
}

/* Links that make a loop (vmbr0 claims enp3s0f0 as its own upper) end; the use is found. */
static void test_link_loop(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *loop =
            g_strdup_printf("%s/sys/devices/virtual/net/vmbr0/upper_enp3s0f0", fx->root);
        g_autofree char *self =
            g_strdup_printf("%s/sys/devices/virtual/net/vmbr0/master", fx->root);
        const char *const needles[] = {"vmbr0, which carries the host's default route", NULL};

        g_assert_cmpint(symlink("../../../pci0000:00/0000:00:01.1/0000:03:00.0/net/enp3s0f0", loop),
                        ==, 0);
        g_assert_cmpint(symlink("../vmbr0", self), ==, 0);
        assert_refused(ctx, BRIDGED_NIC, FALSE, 1, needles);
}

static void test_usage_api(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdNetUsage) u = hd_usage_netdev_full(ctx, "enp6s0");

        g_assert_cmpint(u->use, ==, HD_NET_ADDRESS);
        g_assert_cmpstr(u->carrier, ==, "vmbr1");
        g_assert_cmpuint(u->via->len, ==, 2);
        g_assert_cmpstr(((HdNetHop *)u->via->pdata[0])->ifname, ==, "bond0");
        g_assert_cmpstr(((HdNetHop *)u->via->pdata[0])->kind, ==, "bond");
        g_assert_cmpstr(((HdNetHop *)u->via->pdata[1])->ifname, ==, "vmbr1");
        g_assert_cmpstr(((HdNetHop *)u->via->pdata[1])->kind, ==, "bridge");
        g_clear_pointer(&u, hd_net_usage_free);
        u = hd_usage_netdev_full(ctx, "enp9s0");
        g_assert_cmpint(u->use, ==, HD_NET_IDLE);
        g_assert_null(u->carrier);
        g_assert_cmpuint(u->via->len, ==, 0);
}

/* Names that are no interface names (a path in bonding/slaves, "upper_.." links) and lines
 * that are no routes are passed over; the real chain is still found. */
static void test_hostile_names(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *slaves = hd_test_path(fx, "sys/devices/virtual/net/bond0/bonding/slaves");
        g_autofree char *dotdot = hd_test_path(
            fx, "sys/devices/pci0000:00/0000:00:01.2/0000:06:00.0/net/enp6s0/upper_..");
        g_autofree char *route6 = hd_test_path(fx, "proc/net/ipv6_route");
        g_autofree char *old6 = NULL;
        g_autofree char *bad6 = NULL;
        g_autoptr(HdNetUsage) u = NULL;

        g_assert_true(g_file_set_contents(slaves, "../../../../etc enp6s0 enp7s0 /x\n", -1, NULL));
        g_assert_cmpint(symlink("../../../../../../../../etc", dotdot), ==, 0);
        g_assert_true(g_file_get_contents(route6, &old6, NULL, NULL));
        bad6 = g_strconcat("zz 00 00 00 00 00 00 00 00 enp8s0.100\n"
                           "00000000000000000000000000000000 ff\n",
                           old6, NULL);
        g_assert_true(g_file_set_contents(route6, bad6, -1, NULL));
        u = hd_usage_netdev_full(ctx, "enp6s0");
        g_assert_cmpstr(u->carrier, ==, "vmbr1");
        g_assert_cmpuint(u->via->len, ==, 2);
        g_clear_pointer(&u, hd_net_usage_free);
        u = hd_usage_netdev_full(ctx, "enp8s0");
        g_assert_cmpint(u->use, ==, HD_NET_DEFAULT_ROUTE);
        g_assert_cmpstr(u->carrier, ==, "enp8s0.100");
}

static JsonObject *show_json(const HdTestFixture *fx, const char *addr, JsonNode **keep)
{
        const char *argv[] = {"--root", fx->root, "show", addr, "--json", NULL};
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, &err), ==, 0);
        *keep = hd_test_parse_json(out);
        return json_node_get_object(*keep);
}

static void test_show_names_chain(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(JsonNode) node = NULL;
        JsonObject *obj = show_json(fx, BRIDGED_NIC, &node);
        JsonArray *uses = json_object_get_array_member(obj, "network_use");
        JsonObject *u;
        JsonArray *via;
        const char *argv[] = {"--root", fx->root, "show", BRIDGED_NIC, NULL};
        g_autofree char *out = NULL;

        g_assert_cmpuint(json_array_get_length(uses), ==, 1);
        u = json_array_get_object_element(uses, 0);
        g_assert_cmpstr(json_object_get_string_member(u, "interface"), ==, "enp3s0f0");
        g_assert_cmpstr(json_object_get_string_member(u, "carrier"), ==, "vmbr0");
        g_assert_cmpstr(json_object_get_string_member(u, "use"), ==, "default-route");
        via = json_object_get_array_member(u, "via");
        g_assert_cmpuint(json_array_get_length(via), ==, 1);
        g_assert_cmpstr(
            json_object_get_string_member(json_array_get_object_element(via, 0), "interface"), ==,
            "vmbr0");
        g_assert_cmpstr(
            json_object_get_string_member(json_array_get_object_element(via, 0), "kind"), ==,
            "bridge");
        assert_has(json_object_get_string_member(u, "text"),
                   "enp3s0f0 is a port of bridge vmbr0, which carries");

        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        assert_has(out, "enp3s0f0 is a port of bridge vmbr0, which carries the host's default "
                        "route via 192.168.1.1");
}

/* A snapshot replays the stacked interfaces, the IPv6 tables and the framebuffer: show --json
 * on it says what it says on the tree. */
static void test_snapshot_keeps_stack(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *tree = g_build_filename(tmp, "snap", NULL);
        const char *argv[] = {"snapshot", "-d", tree, "--root", fx->root, NULL};
        const char *const addrs[] = {BRIDGED_NIC, BOND_NIC, VLAN_NIC, MACVLAN_NIC, PVE_GPU};

        g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, NULL), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(addrs); i++) {
                HdTestFixture snap = {tree};
                g_autoptr(JsonNode) a = NULL;
                g_autoptr(JsonNode) b = NULL;
                JsonObject *oa = show_json(fx, addrs[i], &a);
                JsonObject *ob = show_json(&snap, addrs[i], &b);
                g_autofree char *ta =
                    json_to_string(json_object_get_member(oa, "network_use"), FALSE);
                g_autofree char *tb =
                    json_to_string(json_object_get_member(ob, "network_use"), FALSE);
                g_autofree char *fa =
                    json_to_string(json_object_get_member(oa, "framebuffer"), FALSE);
                g_autofree char *fb =
                    json_to_string(json_object_get_member(ob, "framebuffer"), FALSE);

                g_assert_cmpstr(tb, ==, ta);
                g_assert_cmpstr(fb, ==, fa);
        }
        {
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
                g_assert_cmpint(system(rm), ==, 0);
        }
}

/* groups: the verdict of a bridged NIC's group and of a GPU with clients says the host uses
 * them. */
static void test_groups_see_use(void)
{
        g_autoptr(HdTestFixture) pve = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdTestFixture) desk = hd_test_fixture_new("desktop-drm");
        const char *pve_argv[] = {"--root", pve->root, "groups", NULL};
        const char *desk_argv[] = {"--root", desk->root, "groups", NULL};
        g_autofree char *pve_out = NULL;
        g_autofree char *desk_out = NULL;

        g_assert_cmpint(hd_test_run_cli(pve_argv, NULL, &pve_out, NULL), ==, 0);
        assert_has(pve_out, "0000:03:00.0: enp3s0f0 is a port of bridge vmbr0, which carries");
        assert_has(pve_out, "0000:07:00.0: enp7s0 is a slave of bond bond0, which is a port of "
                            "bridge vmbr1");
        g_assert_cmpint(hd_test_run_cli(desk_argv, NULL, &desk_out, NULL), ==, 0);
        assert_has(desk_out, "0000:01:00.0: 900 (nvidia-persiste) has /dev/nvidia0 open");
}

/* ---------------------------------------------------------------- GPU */

static void test_gpu_clients_refused(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop-drm");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *const needles[] = {NVIDIA, "900 (nvidia-persiste) has /dev/nvidia0",
                                       "2000 (firefox) has /dev/dri/renderD129", "--force twice",
                                       NULL};

        assert_refused(ctx, NVIDIA, TRUE, 0, needles);
        assert_refused(ctx, NVIDIA, TRUE, 1, needles);
        assert_driver(fx, NVIDIA, "nvidia");
        assert_detached(ctx, fx, NVIDIA, TRUE, 2);
}

static void test_boot_gpu_clients(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop-drm");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        const char *const both[] = {"boot VGA", "1234 (Xorg) has /dev/dri/card0",
                                    "1300 (gnome-shell) has /dev/dri/card0, /dev/dri/renderD128",
                                    NULL};
        const char *const clients[] = {"1234 (Xorg)", "1300 (gnome-shell)", NULL};

        assert_refused(ctx, IGPU, FALSE, 0, both);
        assert_refused(ctx, IGPU, FALSE, 1, clients);
        assert_driver(fx, IGPU, "i915");
}

/* The same desktop without the processes: --force once is enough, as before. */
static void test_boot_gpu_without_clients(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);

        assert_detached(ctx, fx, IGPU, FALSE, 1);
}

static void test_gpu_clients_api_and_show(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop-drm");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        HdAddress a = hd_test_address(IGPU);
        g_autoptr(HdDevice) dev = hd_device_load(ctx, &a, HD_FIELDS_ALL, NULL);
        g_autoptr(GPtrArray) clients = hd_usage_gpu_clients(ctx, dev);
        g_autoptr(JsonNode) node = NULL;
        JsonObject *obj;
        JsonArray *arr;
        JsonObject *c;
        const char *argv[] = {"--root", fx->root, "show", IGPU, NULL};
        g_autofree char *out = NULL;

        g_assert_cmpuint(clients->len, ==, 2);
        g_assert_cmpint(((HdProcUse *)clients->pdata[0])->pid, ==, 1234);
        g_assert_cmpstr(((HdProcUse *)clients->pdata[0])->comm, ==, "Xorg");
        g_assert_cmpint(((HdProcUse *)clients->pdata[1])->pid, ==, 1300);
        g_assert_cmpuint(((HdProcUse *)clients->pdata[1])->nodes->len, ==, 2);

        obj = show_json(fx, IGPU, &node);
        arr = json_object_get_array_member(obj, "gpu_clients");
        g_assert_cmpuint(json_array_get_length(arr), ==, 2);
        c = json_array_get_object_element(arr, 1);
        g_assert_cmpint(json_object_get_int_member(c, "pid"), ==, 1300);
        g_assert_cmpstr(json_object_get_string_member(c, "comm"), ==, "gnome-shell");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(c, "nodes")), ==, 2);

        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
        assert_has(out, "1234 (Xorg) has /dev/dri/card0 open");
}

/* The boot GPU of the Proxmox host has no driver; the console is efifb's, in its memory. */
static void test_boot_gpu_firmware_framebuffer(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(JsonNode) node = NULL;
        JsonObject *obj, *fb;
        const char *const needles[] = {"boot VGA",
                                       "efifb",
                                       "fb0",
                                       "hostdev kernel-args --enable release-framebuffer --apply",
                                       "video=efifb:off initcall_blacklist=sysfb_init",
                                       NULL};

        assert_refused(ctx, PVE_GPU, TRUE, 0, needles);

        obj = show_json(fx, PVE_GPU, &node);
        fb = json_object_get_object_member(obj, "framebuffer");
        g_assert_nonnull(fb);
        g_assert_cmpstr(json_object_get_string_member(fb, "fb"), ==, "fb0");
        g_assert_cmpstr(json_object_get_string_member(fb, "driver"), ==, "efifb");
        g_assert_true(json_object_get_boolean_member(fb, "firmware"));
        g_assert_true(json_object_get_boolean_member(fb, "console"));
        g_assert_cmpstr(json_object_get_string_member(fb, "release_option"), ==,
                        "release-framebuffer");

        /* a GPU that is not the boot GPU has none */
        {
                g_autoptr(HdTestFixture) dfx = hd_test_fixture_new("desktop-drm");
                g_autoptr(JsonNode) dnode = NULL;
                JsonObject *dobj = show_json(dfx, NVIDIA, &dnode);
                g_assert_true(json_object_get_null_member(dobj, "framebuffer"));
        }
}

/* With the framebuffer released on the running kernel's command line, no such advice. */
static void test_framebuffer_released(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *fb = hd_test_path(fx, "proc/fb");
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) r = NULL;

        g_assert_true(g_file_set_contents(fb, "", 0, NULL));
        r = detach(ctx, PVE_GPU, TRUE, 0, &error);
        g_assert_null(r);
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_null(strstr(error->message, "release-framebuffer"));
}

/* After kernel-args --enable release-framebuffer --apply and before the reboot: the
 * framebuffer is still there, and the advice is to reboot, not to run kernel-args again. */
static void test_framebuffer_release_configured(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("proxmox-bridged");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdCtx) ctx2 = hd_test_ctx_new(fx);
        g_autoptr(GPtrArray) enable = g_ptr_array_new();
        HdKernelArgsRequest req = {enable, NULL, NULL, NULL};
        g_autoptr(HdKernelArgs) ka = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) node = NULL;
        JsonObject *fb;
        const char *const needles[] = {"efifb", "configured for the next boot: reboot", NULL};

        g_ptr_array_add(enable, (gpointer) "release-framebuffer");
        ka = hd_kernel_args_plan(ctx, &req, &error);
        g_assert_no_error(error);
        g_assert_true(hd_kernel_args_apply(ctx, ka, &error));
        g_assert_no_error(error);

        assert_refused(ctx2, PVE_GPU, TRUE, 0, needles);
        fb = json_object_get_object_member(show_json(fx, PVE_GPU, &node), "framebuffer");
        g_assert_true(json_object_get_boolean_member(fb, "release_configured"));
        g_assert_true(json_object_get_null_member(fb, "release_option"));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostuse/net/bridge-port-default-route", test_bridge_port_default_route);
        g_test_add_func("/hostuse/net/bond-under-bridge", test_bond_under_bridge);
        g_test_add_func("/hostuse/net/vlan-ipv6-default-route", test_vlan_ipv6_default_route);
        g_test_add_func("/hostuse/net/macvlan-address", test_macvlan_address);
        g_test_add_func("/hostuse/net/idle", test_idle_nic);
        g_test_add_func("/hostuse/net/reverse-link-only", test_reverse_link_only);
        g_test_add_func("/hostuse/net/link-loop", test_link_loop);
        g_test_add_func("/hostuse/net/api", test_usage_api);
        g_test_add_func("/hostuse/net/hostile-names", test_hostile_names);
        g_test_add_func("/hostuse/net/show", test_show_names_chain);
        g_test_add_func("/hostuse/net/snapshot", test_snapshot_keeps_stack);
        g_test_add_func("/hostuse/groups", test_groups_see_use);
        g_test_add_func("/hostuse/gpu/clients-refused", test_gpu_clients_refused);
        g_test_add_func("/hostuse/gpu/boot-gpu-clients", test_boot_gpu_clients);
        g_test_add_func("/hostuse/gpu/boot-gpu-without-clients", test_boot_gpu_without_clients);
        g_test_add_func("/hostuse/gpu/api-and-show", test_gpu_clients_api_and_show);
        g_test_add_func("/hostuse/gpu/firmware-framebuffer", test_boot_gpu_firmware_framebuffer);
        g_test_add_func("/hostuse/gpu/framebuffer-released", test_framebuffer_released);
        g_test_add_func("/hostuse/gpu/framebuffer-release-configured",
                        test_framebuffer_release_configured);
        return g_test_run();
}
