/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev recover`: finish or undo operations a crash interrupted (journal.h). */
#include "config.h"

#include <stdio.h>

#include "cli.h"

int cmd_recover(HdCli *cli, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "",
                "Complete or roll back every detach/attach that was interrupted (a crash, a "
                "power cut), so that each device is on its original driver or fully on "
                "vfio-pci. Every detach and attach does this first; the agent at start.",
                "hostdev recover", NULL);
        g_autoptr(GError) error = NULL;
        guint n = 0;
        HdCtx *ctx;
        int exit_code;

        ctx = cli_start_without_arguments(cli, octx, &argc, &argv, &exit_code);
        if (!ctx)
                return exit_code;
        if (!hd_journal_recover(ctx, &n, &error))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "recovered");
                json_builder_add_int_value(b, n);
                json_builder_set_member_name(b, "pending");
                json_builder_add_int_value(b, hd_journal_count_pending(ctx));
                hd_json_add_write_log(b, ctx);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (n == 0)
                printf("Nothing to recover.\n");
        else
                printf("Recovered %u interrupted operation%s: every device is back on its "
                       "original driver.\n",
                       n, n == 1 ? "" : "s");
        if (cli->verbose)
                cli_print_write_log(ctx, "Changes made, in order:");
        return HD_EXIT_OK;
}
