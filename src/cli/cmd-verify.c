/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev verify ADDR`: open the device the way a VMM does and report what it would get. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

static char *format_size(guint64 size)
{
        if (size >= (1 << 30) && size % (1 << 30) == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT " GiB", size >> 30);
        if (size >= (1 << 20) && size % (1 << 20) == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", size >> 20);
        if (size >= 1024 && size % 1024 == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT " KiB", size >> 10);
        return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", size);
}

static void print_json(const char *name, const HdVfioInfo *info)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        hd_json_add_vfio_info(b, name, info);
        cli_print_json(b);
}

static void print_text(const char *name, const HdVfioInfo *info)
{
        g_autoptr(GString) regions = g_string_new(NULL);
        g_autoptr(GString) irqs = g_string_new(NULL);

        for (guint i = 0; i < info->regions->len; i++) {
                const HdVfioRegion *r = &g_array_index(info->regions, HdVfioRegion, i);
                g_autofree char *size = format_size(r->size);
                g_string_append_printf(regions, "%s%s %s%s", i ? ", " : "",
                                       hd_vfio_region_name(r->index), size,
                                       r->mmap ? " (mmap)" : "");
        }
        for (guint i = 0; i < info->irqs->len; i++) {
                const HdVfioIrq *q = &g_array_index(info->irqs, HdVfioIrq, i);
                g_string_append_printf(irqs, "%s%s %u", i ? ", " : "", hd_vfio_irq_name(q->index),
                                       q->count);
        }
        printf("%s: usable by a VM (IOMMU group %d viable, VFIO API %d, TYPE1 IOMMU)\n", name,
               info->group, info->api_version);
        printf("  reset:       %s\n", info->reset ? "supported" : "not supported (the VM may "
                                                                   "see stale device state)");
        printf("  regions:     %s\n", regions->len ? regions->str : "none");
        printf("  interrupts:  %s\n", irqs->str);
        if (g_strcmp0(info->source, "sim") == 0)
                printf("  (answered by the sim backend from the tree, not by a kernel)\n");
}

int cmd_verify(HdCli *cli, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDR",
                "Prove that a VMM can use a device: open /dev/vfio/vfio and the device's group, "
                "check viability, set the IOMMU type, get the device and report its regions, "
                "interrupts and reset support.",
                "hostdev verify 0000:01:00.0 --json", NULL);
        g_autoptr(GError) error = NULL;
        HdVfioInfo info;
        HdAddress a;
        char name[HD_ADDRESS_STRLEN];
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc != 2)
                return cli_usage_error(cli, "name exactly one device address");
        {
                g_autoptr(GArray) one =
                    cli_resolve_devices(cli, argc, argv, FALSE, "hostdev verify", &error);
                if (!one)
                        return cli_report_error(cli, error);
                a = g_array_index(one, HdAddress, 0);
        }
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        hd_vfio_info_init(&info);
        if (!hd_vfio_verify(ctx, &a, &info, &error)) {
                hd_vfio_info_clear(&info);
                return cli_report_error(cli, error);
        }
        hd_address_format(&a, name);
        if (cli->json)
                print_json(name, &info);
        else
                print_text(name, &info);
        hd_vfio_info_clear(&info);
        return HD_EXIT_OK;
}
