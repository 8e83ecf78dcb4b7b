/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev list`: every PCI device, filtered, as a table, a bridge tree or JSON. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parse.h"

/* Filters: each repeated option (or a comma-separated list) means "any of"; different options
 * must all match. */
typedef struct {
        char **class_filter;  /* --class, repeated */
        char **driver_filter; /* --driver, repeated; "none": no driver */
        gint group_filter;
        char *vendor_filter;
        gboolean tree;
        GArray *categories;      /* HdClassCategory of --class */
        GPtrArray *drivers;      /* char* of --driver, split at commas */
        gint64 vendor_id;        /* -1: match by name */
        char *vendor_folded;     /* the name filter, casefolded */
} ListOptions;

/* The vendor as lspci's short names have it: the alias pci.ids gives in brackets
 * ("Advanced Micro Devices, Inc. [AMD/ATI]" -> "AMD/ATI"), else the name without its company
 * form ("NVIDIA Corporation" -> "NVIDIA", "Samsung Electronics Co Ltd" -> "Samsung
 * Electronics"). */
static char *short_vendor(const char *name)
{
        static const char *const suffixes[] = { " Corporation", " Corp.", " Corp", " Inc.",
                                                " Inc", ",", " Co., Ltd.", " Co., Ltd",
                                                " Co Ltd", " Co.", " Ltd.", " Ltd", " LLC",
                                                " GmbH", " AG", " S.A.", " Limited" };
        const char *open = strrchr(name, '[');
        g_autofree char *s = NULL;
        gboolean again = TRUE;

        if (open && g_str_has_suffix(name, "]") && strlen(open) > 2)
                return g_strndup(open + 1, strlen(open) - 2);
        s = g_strdup(name);
        while (again) {
                again = FALSE;
                for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++)
                        if (g_str_has_suffix(s, suffixes[i]) &&
                            strlen(s) > strlen(suffixes[i])) {
                                s[strlen(s) - strlen(suffixes[i])] = '\0';
                                again = TRUE;
                        }
        }
        return g_steal_pointer(&s);
}

static char *display_name(const HdDevice *dev)
{
        g_autofree char *vendor = dev->vendor_name ? short_vendor(dev->vendor_name) : NULL;

        if (vendor && dev->product_name)
                return g_strdup_printf("%s %s", vendor, dev->product_name);
        if (dev->product_name)
                return g_strdup(dev->product_name);
        if (vendor && dev->class_name)
                return g_strdup_printf("%s %s", vendor, dev->class_name);
        return g_strdup(dev->class_name ? dev->class_name : "unknown device");
}

/* @want (casefolded) occurs in @name as whole words: "ati" matches "[AMD/ATI]" and not
 * "Corporation"; "micro devices" matches "Advanced Micro Devices, Inc.". */
static gboolean vendor_word_match(const char *name, const char *want)
{
        g_autofree char *have = g_utf8_casefold(name, -1);
        gsize n = strlen(want);

        if (n == 0)
                return FALSE;
        for (const char *p = strstr(have, want); p; p = strstr(p + 1, want)) {
                gboolean start = p == have || !g_ascii_isalnum(p[-1]);
                gboolean end = !g_ascii_isalnum(p[n]);
                if (start && end)
                        return TRUE;
        }
        return FALSE;
}

static gboolean matches(const ListOptions *o, const HdDevice *dev)
{
        if (o->categories->len) {
                HdClassCategory c = hd_device_get_category(dev);
                gboolean any = FALSE;
                for (guint i = 0; i < o->categories->len && !any; i++)
                        any = g_array_index(o->categories, HdClassCategory, i) == c;
                if (!any)
                        return FALSE;
        }
        if (o->drivers->len) {
                gboolean any = FALSE;
                for (guint i = 0; i < o->drivers->len && !any; i++) {
                        const char *want = o->drivers->pdata[i];
                        any = strcmp(want, "none") == 0 ? dev->driver == NULL
                                                        : g_strcmp0(dev->driver, want) == 0;
                }
                if (!any)
                        return FALSE;
        }
        if (o->group_filter >= 0 && dev->iommu_group != o->group_filter)
                return FALSE;
        if (o->vendor_filter) {
                if (o->vendor_id >= 0) {
                        if (dev->vendor_id != o->vendor_id)
                                return FALSE;
                } else if (!dev->vendor_name ||
                           !vendor_word_match(dev->vendor_name, o->vendor_folded)) {
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
        cells[3] = g_strdup(dev->driver ? dev->driver : "-");
        cells[4] = dev->iommu_group >= 0 ? g_strdup_printf("%d", dev->iommu_group)
                                         : g_strdup("-");
        cells[5] = dev->numa_node >= 0 ? g_strdup_printf("%d", dev->numa_node) : g_strdup("-");
        cells[6] = display_name(dev);
}

/* NAME last: the one column that is cut to fit the terminal. */
static const char *const headers[] = { "ADDRESS", "CLASS", "IDS", "DRIVER", "GROUP", "NUMA",
                                       "NAME" };
#define NAME_COLUMN 6

static gint compare_sysfs_path(gconstpointer a, gconstpointer b)
{
        const HdDevice *da = *(HdDevice *const *)a;
        const HdDevice *db = *(HdDevice *const *)b;

        return g_strcmp0(da->sysfs_path, db->sysfs_path);
}

/* Depth-first order (by sysfs path), each device's parent among @shown (its nearest listed
 * upstream bridge) and the tree's prefix: "├─" for a device with siblings after it, "└─" for
 * the last, and "│ " or "  " for each ancestor whose own siblings go on or not. */
static GPtrArray *tree_prefixes(GPtrArray *shown)
{
        g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree gint *parent = g_new(gint, shown->len + 1);
        g_autofree gboolean *last = g_new0(gboolean, shown->len + 1);
        GPtrArray *prefixes = g_ptr_array_new_with_free_func(g_free);

        g_ptr_array_sort(shown, compare_sysfs_path);
        for (guint i = 0; i < shown->len; i++) {
                const HdDevice *dev = shown->pdata[i];
                g_hash_table_insert(index, (gpointer)dev->name, GUINT_TO_POINTER(i + 1));
                parent[i] = -1;
                for (guint u = 0; u < dev->upstream->len && parent[i] < 0; u++) {
                        guint at = GPOINTER_TO_UINT(
                            g_hash_table_lookup(index, dev->upstream->pdata[u]));
                        if (at)
                                parent[i] = (gint)at - 1;
                }
        }
        for (guint i = 0; i < shown->len; i++) {
                last[i] = TRUE;
                for (guint j = i + 1; j < shown->len && last[i]; j++)
                        if (parent[j] == parent[i])
                                last[i] = FALSE;
        }
        for (guint i = 0; i < shown->len; i++) {
                GString *prefix = g_string_new(NULL);
                if (parent[i] >= 0) {
                        g_string_prepend(prefix, last[i] ? "└─" : "├─");
                        for (gint a = parent[i]; a >= 0 && parent[a] >= 0; a = parent[a])
                                g_string_prepend(prefix, last[a] ? "  " : "│ ");
                }
                g_ptr_array_add(prefixes, g_string_free(prefix, FALSE));
        }
        return prefixes;
}

/* The table of @shown: columns whose every cell is "-" are left out (NUMA on a machine of one
 * node, GROUP without an IOMMU); NAME is last and cut to the terminal's width. When the width
 * is limited and every device is in PCI domain 0000, addresses are shown as lspci shows them,
 * without the domain (01:00.0, which every command takes). */
static void print_table(HdCli *cli, GPtrArray *shown, GPtrArray *prefixes)
{
        int width = cli_output_width(cli);
        gboolean short_addresses = width > 0;

        const guint n = G_N_ELEMENTS(headers);
        g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        const char *kept_headers[G_N_ELEMENTS(headers)];
        gboolean keep[G_N_ELEMENTS(headers)] = { 0 };
        g_autoptr(CliTable) t = NULL;
        guint n_kept = 0;

        for (guint i = 0; i < shown->len; i++)
                short_addresses &= ((const HdDevice *)shown->pdata[i])->address.domain == 0;
        for (guint i = 0; i < shown->len; i++) {
                const HdDevice *dev = shown->pdata[i];
                char **cells = g_new0(char *, n + 1);
                row_cells(dev, cells, prefixes ? prefixes->pdata[i] : "");
                if (short_addresses) {
                        g_free(cells[0]);
                        cells[0] = g_strconcat(prefixes ? (char *)prefixes->pdata[i] : "",
                                               dev->name + 5, NULL);
                }
                for (guint c = 0; c < n; c++)
                        keep[c] |= strcmp(cells[c], "-") != 0;
                g_ptr_array_add(rows, cells);
        }
        for (guint c = 0; c < n; c++) {
                keep[c] |= c == 0 || c == NAME_COLUMN || shown->len == 0;
                if (keep[c])
                        kept_headers[n_kept++] = headers[c];
        }
        t = cli_table_new(n_kept, kept_headers);
        for (guint i = 0; i < rows->len; i++) {
                char **cells = rows->pdata[i];
                const char *kept[G_N_ELEMENTS(headers)];
                guint k = 0;
                for (guint c = 0; c < n; c++)
                        if (keep[c])
                                kept[k++] = cells[c];
                cli_table_add_row(t, kept);
        }
        cli_table_print(t, (int)n_kept - 1, width);
}

int cmd_list(HdCli *cli, int argc, char **argv)
{
        /* G_MININT: --group not given (GOption cannot say whether it saw an option) */
        ListOptions o = { .group_filter = G_MININT, .vendor_id = -1 };
        const GOptionEntry entries[] = {
                { "class", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.class_filter,
                  "Only devices of a class: gpu, net, storage, usb, audio, bridge, other "
                  "(repeated or a,b: any of them)",
                  "CLASS" },
                { "driver", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.driver_filter,
                  "Only devices bound to DRIVER ('none' for driverless; repeated or a,b: any "
                  "of them)",
                  "DRIVER" },
                { "group", 0, 0, G_OPTION_ARG_INT, &o.group_filter,
                  "Only devices in IOMMU group N", "N" },
                { "vendor", 0, 0, G_OPTION_ARG_STRING, &o.vendor_filter,
                  "Only a vendor: its id (10de or 0x10de) or words of its name (nvidia, "
                  "\"micro devices\"; whole words: ati is not Corporation)",
                  "VENDOR" },
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

        o.categories = g_array_new(FALSE, FALSE, sizeof(HdClassCategory));
        o.drivers = g_ptr_array_new_with_free_func(g_free);
        if (!cli_parse_options(cli, octx, &argc, &argv)) {
                r = HD_EXIT_USAGE;
                goto out;
        }
        if (argc > 1)
                r = cli_usage_error(cli, "unexpected argument '%s'", argv[1]);
        else if (o.group_filter != G_MININT && o.group_filter < 0)
                r = cli_usage_error(cli,
                                    "--group %d is not an IOMMU group number; groups are "
                                    "numbered from 0 ('hostdev groups' lists them)",
                                    o.group_filter);
        for (char **c = o.class_filter; r == HD_EXIT_OK && c && *c; c++) {
                g_auto(GStrv) parts = g_strsplit(*c, ",", -1);
                for (char **p = parts; r == HD_EXIT_OK && *p; p++) {
                        HdClassCategory cat;
                        if (!hd_class_category_from_string(*p, &cat))
                                r = cli_usage_error(cli,
                                                    "--class %s is not a class; use gpu, net, "
                                                    "storage, usb, audio, bridge or other",
                                                    *p);
                        else
                                g_array_append_val(o.categories, cat);
                }
        }
        for (char **d = o.driver_filter; r == HD_EXIT_OK && d && *d; d++) {
                g_auto(GStrv) parts = g_strsplit(*d, ",", -1);
                for (char **p = parts; *p; p++)
                        if (**p)
                                g_ptr_array_add(o.drivers, g_strdup(*p));
        }
        if (r != HD_EXIT_OK)
                goto out;
        if (o.group_filter == G_MININT)
                o.group_filter = -1;
        if (o.vendor_filter) {
                const char *hex = o.vendor_filter;
                if (g_ascii_strncasecmp(hex, "0x", 2) == 0)
                        hex += 2;
                if (hd_is_hex_string(hex, 4, 4)) {
                        guint64 v;
                        hd_parse_hex(hex, 0xffff, &v);
                        o.vendor_id = (gint64)v;
                } else {
                        o.vendor_folded = g_utf8_casefold(o.vendor_filter, -1);
                }
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
                g_autoptr(GPtrArray) prefixes = o.tree ? tree_prefixes(shown) : NULL;

                print_table(cli, shown, prefixes);
                if (shown->len == 0)
                        printf("(no device matches)\n");
                if (n_interrupted) {
                        g_autofree char *text = hd_state_interrupted_text(n_interrupted);
                        printf("\n%s\n", text);
                }
        }
out:
        g_strfreev(o.class_filter);
        g_strfreev(o.driver_filter);
        g_free(o.vendor_filter);
        g_free(o.vendor_folded);
        g_array_unref(o.categories);
        g_ptr_array_unref(o.drivers);
        return r;
}
