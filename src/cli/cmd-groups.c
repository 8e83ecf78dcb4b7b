/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev groups`: every IOMMU group with a verdict in plain words. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

static void print_group(const HdGroup *g)
{
        cli_print("group %d: %s\n", g->number, g->verdict_text);
        if (g->shared_reason)
                cli_print("  why shared: %s\n", g->shared_reason);
        for (guint i = 0; i < g->members->len; i++) {
                const HdDevice *dev = g->members->pdata[i];
                g_autofree char *what = hd_device_describe(dev);
                const char *mark = hd_device_is_bridge(dev)              ? "bridge"
                                   : hd_device_is_host_bridge(dev)       ? "host bridge"
                                   : dev->state == HD_DEVICE_STATE_ASSIGNED ? "in use"
                                   : hd_driver_is_vfio(dev->driver)       ? "on vfio"
                                   : hd_group_member_is_viable(dev)       ? "free"
                                                                          : "host driver";
                cli_print("  %s  %-11s %s%s%s\n", dev->name, mark, what,
                          dev->product_name ? " — " : "",
                          dev->product_name ? dev->product_name : "");
        }
}

int cmd_groups(HdCli *cli, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "", "Show the IOMMU groups, their members, and whether each can be given "
                         "to a VM (the kernel's viability rule) with what must move along.",
                "hostdev groups --json", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdInventory) inv = NULL;
        g_autofree char *interrupted = NULL;
        guint n_interrupted;
        HdCtx *ctx;
        int exit_code;

        ctx = cli_start_without_arguments(cli, octx, &argc, &argv, &exit_code);
        if (!ctx)
                return exit_code;
        inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, &error);
        if (!inv)
                return cli_report_error(cli, error);
        /* state.h: the verdicts every command and the agent give */
        n_interrupted = hd_state_evaluate_inventory(ctx, inv);
        interrupted = hd_state_interrupted_text(n_interrupted);

        if (cli->json) {
                g_autoptr(HdJsonWriter) w = cli_json_writer_new();
                hd_json_writer_begin_object(w);
                hd_json_writer_member(w, "groups");
                hd_json_writer_begin_array(w);
                for (guint i = 0; i < inv->groups->len; i++)
                        hd_json_write_group(w, inv->groups->pdata[i]);
                hd_json_writer_end_array(w);
                hd_json_writer_member(w, "interrupted_operations");
                hd_json_writer_int(w, n_interrupted);
                hd_json_writer_end_object(w);
                return cli_json_writer_finish(w);
        }
        if (interrupted)
                printf("%s\n\n", interrupted);
        if (inv->groups->len == 0) {
                printf("No IOMMU groups: the kernel is not using an IOMMU on this machine, so no "
                       "device can be passed through.\n'hostdev check' says what to change.\n");
                return HD_EXIT_OK;
        }
        for (guint i = 0; i < inv->groups->len; i++) {
                if (i)
                        putchar('\n');
                print_group(inv->groups->pdata[i]);
        }
        return HD_EXIT_OK;
}
