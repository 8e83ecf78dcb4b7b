/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev attach ADDR...` (alias `reattach`): give devices back to the host. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_attach(HdCli *cli, int argc, char **argv)
{
        gboolean group = FALSE, dry_run = FALSE, keep_persist = FALSE;
        char *driver = NULL;
        const GOptionEntry entries[] = {
                { "group", 'g', 0, G_OPTION_ARG_NONE, &group,
                  "Also attach the other vfio-bound endpoints of each device's IOMMU group",
                  NULL },
                { "driver", 'd', 0, G_OPTION_ARG_STRING, &driver,
                  "Bind this driver (kept with driver_override) instead of the one the device "
                  "had before it was detached",
                  "NAME" },
                { "keep-persist", 0, 0, G_OPTION_ARG_NONE, &keep_persist,
                  "Keep the devices' boot-time bindings (hostdev persist): they go back to "
                  "vfio-pci at the next boot. Without it attach removes them and says so",
                  NULL },
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "Print every write the operation would make, in order, and change nothing",
                  NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDR...",
                "Give devices on vfio-pci back to the host: to the driver they had before "
                "'hostdev detach', or the kernel's choice. Refused while a VM holds the group. "
                "A device given back is given back for good: its boot-time binding (hostdev "
                "persist) is removed and the output says so, unless --keep-persist.",
                "hostdev attach 0000:01:00.0 --group", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) addrs = NULL;
        g_autoptr(HdBindReport) report = NULL;
        g_autofree char *driver_owned = NULL;
        HdBindOptions opts = { 0 };
        HdCtx *ctx;
        int code;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        driver_owned = driver;
        /* A driver name becomes a path: only names the kernel could use. */
        if (driver && !hd_driver_name_is_valid(driver))
                return cli_usage_error(cli, "--driver %s is not a driver name", driver);
        if (!cli_parse_addresses(cli, argc, argv, "hostdev attach", &addrs, &code))
                return code;
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        hd_ctx_set_dry_run(ctx, dry_run);
        opts.group = group;
        opts.driver = driver;
        opts.keep_persist = keep_persist;
        report = hd_bind_attach(ctx, (const HdAddress *)addrs->data, addrs->len, &opts, &error);
        if (!report)
                return cli_report_error(cli, error);
        return cli_print_bind_report(cli, ctx, report);
}
