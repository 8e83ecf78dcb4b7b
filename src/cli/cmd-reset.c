/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev reset ADDR`: the kernel's reset of a released device (virsh nodedev-reset). */
#include "config.h"

#include <stdio.h>

#include "cli.h"

int cmd_reset(HdCli *cli, int argc, char **argv)
{
        g_autofree char *method = NULL;
        gboolean dry_run = FALSE;
        const GOptionEntry entries[] = {
                { "method", 'm', 0, G_OPTION_ARG_STRING, &method,
                  "Use this reset (flr, af_flr, pm, bus, ...: one the kernel offers, see "
                  "hostdev show); default: the kernel's first",
                  "METHOD" },
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "Check and print the writes it would make, change nothing", NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDRESS",
                "Reset a device with the kernel's reset (virsh nodedev-reset): only a device on "
                "vfio-pci, pci-stub or no driver that no VM holds; a bus reset also resets the "
                "other devices on the bus, which must be released too.",
                "hostdev reset 0000:01:00.0", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) one = NULL;
        g_autoptr(HdResetReport) r = NULL;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc != 2)
                return cli_usage_error(cli, "reset takes exactly one device address");
        one = cli_resolve_devices(cli, argc, argv, FALSE, "hostdev reset", &error);
        if (!one)
                return cli_report_error(cli, error);
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        hd_ctx_set_dry_run(ctx, dry_run);
        r = hd_device_reset(ctx, &g_array_index(one, HdAddress, 0), method, &error);
        if (!r)
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "device");
                json_builder_add_string_value(b, r->device);
                json_builder_set_member_name(b, "method");
                json_builder_add_string_value(b, r->method);
                json_builder_set_member_name(b, "kernel_chose");
                json_builder_add_boolean_value(b, r->kernel_chose);
                json_builder_set_member_name(b, "also_reset");
                json_builder_begin_array(b);
                for (guint i = 0; i < r->also_reset->len; i++)
                        json_builder_add_string_value(b, r->also_reset->pdata[i]);
                json_builder_end_array(b);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, r->dry_run);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (r->kernel_chose)
                cli_print("%s %s by the kernel's reset (this kernel chooses the method; it tries "
                          "%s first)\n",
                          r->device, r->dry_run ? "would be reset" : "reset", r->method);
        else
                cli_print("%s %s (%s)\n", r->device, r->dry_run ? "would be reset" : "reset",
                          r->method);
        for (guint i = 0; i < r->also_reset->len; i++)
                cli_print("%s %s with it (same bus)\n", (char *)r->also_reset->pdata[i],
                          r->dry_run ? "would be reset" : "reset");
        if (r->dry_run)
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        else if (cli->verbose)
                cli_print_write_log(ctx, "Changes made, in order:");
        return HD_EXIT_OK;
}
