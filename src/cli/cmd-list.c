/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev list`: every PCI device, filtered, as a table, a bridge tree or JSON. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parse.h"

typedef struct {
        char *class_filter;
        char *driver_filter;
        gint group_filter;
        char *vendor_filter;
        gboolean tree;
        gboolean has_category;
        HdClassCategory category;
        gint64 vendor_id; /* -1: match by name */
} ListOptions;

static char *display_name(const HdDevice *dev)
{
        if (dev->vendor_name && dev->product_name)
                return g_strdup_printf("%s %s", dev->vendor_name, dev->product_name);
        if (dev->product_name)
                return g_strdup(dev->product_name);
        if (dev->vendor_name && dev->class_name)
                return g_strdup_printf("%s %s", dev->vendor_name, dev->class_name);
        return g_strdup(dev->class_name ? dev->class_name : "unknown device");
}

static gboolean matches(const ListOptions *o, const HdDevice *dev)
{
        if (o->has_category && hd_device_get_category(dev) != o->category)
                return FALSE;
        if (o->driver_filter) {
                const char *want = o->driver_filter;
                if (strcmp(want, "none") == 0 ? dev->driver != NULL
                                              : g_strcmp0(dev->driver, want) != 0)
                        return FALSE;
        }
        if (o->group_filter >= 0 && dev->iommu_group != o->group_filter)
                return FALSE;
        if (o->vendor_filter) {
                if (o->vendor_id >= 0) {
                        if (dev->vendor_id != o->vendor_id)
                                return FALSE;
                } else {
                        g_autofree char *have = NULL;
                        g_autofree char *want = NULL;
                        if (!dev->vendor_name)
                                return FALSE;
                        have = g_utf8_casefold(dev->vendor_name, -1);
                        want = g_utf8_casefold(o->vendor_filter, -1);
                        if (!strstr(have, want))
                                return FALSE;
                }
        }
        return TRUE;
}

static void row_cells(const HdDevice *dev, char **cells, const char *indent)
{
        cells[0] = g_strconcat(indent, dev->name, NULL);
        cells[1] = g_strdup(hd_class_category_to_string(hd_device_get_category(dev)));
        cells[2] = dev->vendor_id >= 0 ? g_strdup_printf("%04x:%04x", dev->vendor_id,
                                                         dev->device_id)
                                       : g_strdup("-");
        cells[3] = display_name(dev);
        cells[4] = g_strdup(dev->driver ? dev->driver : "-");
        cells[5] = dev->iommu_group >= 0 ? g_strdup_printf("%d", dev->iommu_group)
                                         : g_strdup("-");
        cells[6] = dev->numa_node >= 0 ? g_strdup_printf("%d", dev->numa_node) : g_strdup("-");
}

static const char *const headers[] = { "ADDRESS", "CLASS", "VENDOR:DEVICE", "NAME",
                                       "DRIVER", "GROUP", "NUMA" };

static void add_row(CliTable *t, const HdDevice *dev, const char *indent)
{
        char *cells[G_N_ELEMENTS(headers) + 1] = { 0 };

        row_cells(dev, cells, indent);
        cli_table_add_row(t, (const char *const *)cells);
        for (gsize i = 0; i < G_N_ELEMENTS(headers); i++)
                g_free(cells[i]);
}

/* Depth of a device in the bridge tree: how many of its upstream bridges are listed. */
static guint tree_depth(const HdInventory *inv, const HdDevice *dev)
{
        guint depth = 0;

        for (guint i = 0; i < dev->upstream->len; i++)
                if (hd_inventory_lookup(inv, dev->upstream->pdata[i]))
                        depth++;
        return depth;
}

static gint compare_sysfs_path(gconstpointer a, gconstpointer b)
{
        const HdDevice *da = *(HdDevice *const *)a;
        const HdDevice *db = *(HdDevice *const *)b;

        return g_strcmp0(da->sysfs_path, db->sysfs_path);
}

int cmd_list(HdCli *cli, int argc, char **argv)
{
        /* G_MININT: --group not given (GOption cannot say whether it saw an option) */
        ListOptions o = { .group_filter = G_MININT, .vendor_id = -1 };
        const GOptionEntry entries[] = {
                { "class", 0, 0, G_OPTION_ARG_STRING, &o.class_filter,
                  "Only devices of a class: gpu, net, storage, usb, audio, bridge, other",
                  "CLASS" },
                { "driver", 0, 0, G_OPTION_ARG_STRING, &o.driver_filter,
                  "Only devices bound to DRIVER ('none' for driverless)", "DRIVER" },
                { "group", 0, 0, G_OPTION_ARG_INT, &o.group_filter,
                  "Only devices in IOMMU group N", "N" },
                { "vendor", 0, 0, G_OPTION_ARG_STRING, &o.vendor_filter,
                  "Only a vendor: a 4-digit id (10de) or part of its name (nvidia)", "VENDOR" },
                { "tree", 0, 0, G_OPTION_ARG_NONE, &o.tree,
                  "Show devices under the bridges they sit behind", NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx =
                cli_option_context(cli, "", "List the PCI devices of this machine.",
                                   "hostdev list --class gpu", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GPtrArray) shown = g_ptr_array_new();
        g_autoptr(HdStateFacts) facts = NULL;
        guint n_interrupted = 0;
        HdCtx *ctx;
        guint fields = HD_FIELDS_LIST;
        int r = HD_EXIT_OK;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc > 1)
                r = cli_usage_error(cli, "unexpected argument '%s'", argv[1]);
        else if (o.class_filter && !hd_class_category_from_string(o.class_filter, &o.category))
                r = cli_usage_error(cli, "--class %s is not a class; use gpu, net, storage, usb, "
                                         "audio, bridge or other",
                                    o.class_filter);
        else if (o.group_filter != G_MININT && o.group_filter < 0)
                r = cli_usage_error(cli,
                                    "--group %d is not an IOMMU group number; groups are "
                                    "numbered from 0 ('hostdev groups' lists them)",
                                    o.group_filter);
        if (r != HD_EXIT_OK)
                goto out;
        if (o.group_filter == G_MININT)
                o.group_filter = -1;
        o.has_category = o.class_filter != NULL;
        if (o.vendor_filter && hd_is_hex_string(o.vendor_filter, 4, 4)) {
                guint64 v;
                hd_parse_hex(o.vendor_filter, 0xffff, &v);
                o.vendor_id = (gint64)v;
        }

        ctx = cli_open_ctx(cli, &error);
        if (!ctx) {
                r = cli_report_error(cli, error);
                goto out;
        }
        if (o.tree)
                fields |= HD_FIELD_TOPOLOGY;
        inv = hd_inventory_scan(ctx, fields, &error);
        if (!inv) {
                r = cli_report_error(cli, error);
                goto out;
        }
        /* state.h: assignable and state as show, groups and the agent say them */
        facts = hd_state_facts_read(ctx);
        n_interrupted = hd_state_facts_interrupted(facts);
        for (guint i = 0; i < inv->devices->len; i++)
                if (matches(&o, inv->devices->pdata[i])) {
                        hd_state_apply_device(inv->devices->pdata[i], facts);
                        g_ptr_array_add(shown, inv->devices->pdata[i]);
                }

        if (cli->json) {
                /* Streamed: no JSON tree for thousands of devices. */
                g_autoptr(HdJsonWriter) w = cli_json_writer_new();
                hd_json_writer_begin_object(w);
                hd_json_writer_member(w, "devices");
                hd_json_writer_begin_array(w);
                for (guint i = 0; i < shown->len; i++)
                        hd_json_write_device(w, shown->pdata[i], FALSE);
                hd_json_writer_end_array(w);
                hd_json_writer_member(w, "interrupted_operations");
                hd_json_writer_int(w, n_interrupted);
                hd_json_writer_end_object(w);
                r = cli_json_writer_finish(w);
                goto out;
        }

        {
                g_autoptr(CliTable) t = cli_table_new(G_N_ELEMENTS(headers), headers);
                if (o.tree)
                        g_ptr_array_sort(shown, compare_sysfs_path);
                for (guint i = 0; i < shown->len; i++) {
                        const HdDevice *dev = shown->pdata[i];
                        g_autofree char *indent = NULL;
                        if (o.tree) {
                                guint depth = tree_depth(inv, dev);
                                g_autoptr(GString) s = g_string_new(NULL);
                                for (guint d = 0; d < depth; d++)
                                        g_string_append(s, d + 1 == depth ? "└─" : "  ");
                                indent = g_string_free(g_steal_pointer(&s), FALSE);
                        }
                        add_row(t, dev, indent ? indent : "");
                }
                cli_table_print(t, 3, cli->is_tty ? cli_terminal_width() : 0);
                if (shown->len == 0)
                        printf("(no device matches)\n");
                if (n_interrupted) {
                        g_autofree char *text = hd_state_interrupted_text(n_interrupted);
                        printf("\n%s\n", text);
                }
        }
out:
        g_free(o.class_filter);
        g_free(o.driver_filter);
        g_free(o.vendor_filter);
        return r;
}
