/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev show ADDR`: everything about one device, with its IOMMU group. */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "fileio.h"

static void print_kv(const char *key, const char *value)
{
        cli_print("%-18s %s\n", key, value ? value : "-");
}

static char *link_text(const HdLink *l)
{
        if (!l->speed && !l->width)
                return NULL;
        return g_strdup_printf("%s x%d", hd_pcie_speed_to_string(l->speed)
                                                 ? hd_pcie_speed_to_string(l->speed)
                                                 : "?",
                               l->width);
}

/* "Power Management (0x40)", "[ext] Access Control Services v1 (0x148)" */
static char *capability_text(const HdCapability *c)
{
        const char *name = hd_pci_capability_name(c->id, c->extended);
        g_autofree char *unnamed = name ? NULL : g_strdup_printf("id 0x%02x", c->id);

        if (c->extended)
                return g_strdup_printf("[ext] %s v%u (0x%03x)", name ? name : unnamed, c->version,
                                       c->offset);
        return g_strdup_printf("%s (0x%02x)", name ? name : unnamed, c->offset);
}

static void print_device(const HdDevice *dev, const HdGroup *group, GPtrArray *uses,
                         GPtrArray *modules, gboolean capabilities, const char *reset_warning)
{
        const char *reason = NULL;
        gboolean assignable = hd_device_is_assignable(dev, &reason);
        g_autofree char *ids = NULL, *subsys = NULL, *cls = NULL, *numa = NULL, *grp = NULL;
        g_autofree char *vfs = NULL, *up = NULL, *lcap = NULL, *lsta = NULL, *resets = NULL;
        g_autofree char *nets = NULL, *blocks = NULL, *sriov = NULL, *assign = NULL;

        ids = g_strdup_printf("%04x:%04x rev %02x", dev->vendor_id & 0xffff,
                              dev->device_id & 0xffff, dev->revision & 0xff);
        subsys = g_strdup_printf("%04x:%04x", dev->subsystem_vendor_id & 0xffff,
                                 dev->subsystem_device_id & 0xffff);
        cls = g_strdup_printf("%06x (%s)", (unsigned)dev->class_code & 0xffffff,
                              dev->class_name ? dev->class_name : "unknown");
        numa = dev->numa_node >= 0 ? g_strdup_printf("%d", dev->numa_node) : NULL;
        grp = dev->iommu_group >= 0 ? g_strdup_printf("%d", dev->iommu_group) : NULL;
        vfs = cli_join(dev->virtfns, ", ");
        up = cli_join(dev->upstream, ", ");
        lcap = link_text(&dev->link_max);
        lsta = link_text(&dev->link_current);
        resets = dev->reset_methods && *dev->reset_methods
                         ? g_strjoinv(" ", dev->reset_methods)
                         : NULL;
        nets = cli_join(dev->netdevs, ", ");
        blocks = cli_join(dev->blockdevs, ", ");
        if (dev->sriov_totalvfs >= 0)
                sriov = g_strdup_printf("%d of %d VFs enabled", dev->sriov_numvfs,
                                        dev->sriov_totalvfs);
        assign = assignable ? g_strdup("yes") : g_strdup_printf("no: %s", reason);

        print_kv("address", dev->name);
        print_kv("vendor", dev->vendor_name);
        print_kv("product", dev->product_name);
        print_kv("ids", ids);
        print_kv("subsystem", subsys);
        print_kv("class", cls);
        print_kv("driver", dev->driver ? dev->driver : "none");
        {
                /* lspci -k's "Kernel modules:" */
                g_autofree char *mods = cli_join(modules, ", ");
                print_kv("kernel modules", mods ? mods : "none match (modules.alias)");
        }
        if (dev->driver_override)
                print_kv("driver_override", dev->driver_override);
        print_kv("iommu group", grp ? grp : "none (no IOMMU)");
        print_kv("numa node", numa);
        print_kv("kind", hd_device_is_bridge(dev)  ? "bridge"
                         : dev->multifunction       ? "endpoint, multifunction"
                                                    : "endpoint");
        if (dev->is_pcie)
                print_kv("pcie type", hd_pcie_type_to_string(dev->pcie_type));
        if (lcap)
                print_kv("link capability", lcap);
        if (lsta)
                print_kv("link status", lsta);
        if (sriov)
                print_kv("sr-iov", sriov);
        if (vfs)
                print_kv("virtual functions", vfs);
        if (dev->physfn)
                print_kv("physical function", dev->physfn);
        if (dev->boot_vga >= 0)
                print_kv("boot vga", dev->boot_vga ? "yes (the host's console)" : "no");
        print_kv("reset methods", resets ? resets : "none known");
        if (reset_warning)
                print_kv("reset warning", reset_warning);
        print_kv("upstream bridges", up ? up : "none (root bus)");
        if (nets)
                print_kv("network", nets);
        if (blocks)
                print_kv("block devices", blocks);
        for (guint i = 0; i < uses->len; i++)
                print_kv(i == 0 ? "host use" : "", uses->pdata[i]);
        print_kv("assignable", assign);
        if (dev->state >= 0)
                print_kv("state", hd_device_state_to_string(dev->state));
        if (capabilities) {
                guint n = dev->capabilities ? dev->capabilities->len : 0;
                if (n == 0)
                        print_kv("capabilities", dev->config_readable
                                                     ? "none"
                                                     : "not readable (needs root)");
                for (guint i = 0; i < n; i++) {
                        g_autofree char *t = capability_text(
                            &g_array_index(dev->capabilities, HdCapability, i));
                        print_kv(i == 0 ? "capabilities" : "", t);
                }
        }
        if (group) {
                cli_print("\nIOMMU group %d (%s): %s%s\n", group->number,
                          group->state >= 0 ? hd_group_state_to_string(group->state) : "?",
                          group->verdict_text, group->viable ? " (viable now)" : "");
                if (group->shared_reason)
                        cli_print("  why shared: %s\n", group->shared_reason);
                for (guint i = 0; i < group->members->len; i++) {
                        const HdDevice *m = group->members->pdata[i];
                        g_autofree char *what = hd_device_describe(m);
                        cli_print("  %s %s (%s)%s\n", m == dev ? "*" : " ", m->name, what,
                                  hd_device_is_bridge(m) ? " [bridge]" : "");
                }
        }
}

int cmd_show(HdCli *cli, int argc, char **argv)
{
        gboolean capabilities = FALSE;
        const GOptionEntry entries[] = {
                { "capabilities", 'c', 0, G_OPTION_ARG_NONE, &capabilities,
                  "Also list the PCI and PCIe capabilities, as lspci -v does (JSON always has "
                  "them)",
                  NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDRESS", "Show everything about one PCI device and its IOMMU group.",
                "hostdev show 0000:01:00.0", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdDevice) dev = NULL;
        g_autoptr(GPtrArray) modules = NULL;
        g_autofree char *reset_warning = NULL;
        g_autoptr(GPtrArray) members = NULL;
        g_autoptr(HdGroup) group = NULL;
        g_autoptr(GPtrArray) uses = NULL;
        g_autofree char *interrupted = NULL;
        guint n_interrupted;
        HdAddress addr;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc != 2)
                return cli_usage_error(cli, "show takes exactly one device address");
        {
                g_autoptr(GArray) one =
                    cli_resolve_devices(cli, argc, argv, FALSE, "hostdev show", &error);
                if (!one)
                        return cli_report_error(cli, error);
                addr = g_array_index(one, HdAddress, 0);
        }
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        dev = hd_device_load(ctx, &addr, HD_FIELDS_ALL, &error);
        if (!dev)
                return cli_report_error(cli, error);

        /* state.h: the same verdict as list, groups, detach and the agent */
        n_interrupted = hd_state_count_interrupted(ctx);
        interrupted = hd_state_interrupted_text(n_interrupted);
        group = hd_iommu_group_load(ctx, dev, &members);

        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) dev_node = NULL;
                JsonObject *obj;

                hd_json_add_device(b, dev, TRUE);
                dev_node = json_builder_get_root(b);
                obj = json_node_get_object(dev_node);
                hd_json_set_host_use(obj, ctx, dev);
                if (group) {
                        g_autoptr(JsonBuilder) gb = json_builder_new();
                        hd_json_add_group(gb, group);
                        json_object_set_member(obj, "group", json_builder_get_root(gb));
                } else {
                        json_object_set_null_member(obj, "group");
                }
                json_object_set_int_member(obj, "interrupted_operations", n_interrupted);
                hd_json_set_device_extras(obj, ctx, dev);
                {
                        g_autofree char *s = hd_json_node_to_text(dev_node, TRUE);
                        puts(s);
                }
                return HD_EXIT_OK;
        }
        /* JSON has these from hd_json_set_device_extras, the text from here: computed once */
        modules = hd_device_kernel_modules(ctx, &addr, &error);
        if (!modules)
                return cli_report_error(cli, error);
        {
                g_autoptr(HdInventory) bus = hd_inventory_scan(ctx, 0, &error);
                if (!bus)
                        return cli_report_error(cli, error);
                reset_warning = hd_device_reset_warning(
                    (const char *const *)dev->reset_methods, dev->name,
                    hd_inventory_bus_mates(bus, dev));
        }
        uses = hd_usage_describe(ctx, dev);
        if (interrupted)
                printf("%s\n\n", interrupted);
        print_device(dev, group, uses, modules, capabilities, reset_warning);
        return HD_EXIT_OK;
}
