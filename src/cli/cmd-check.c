/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev check`: is this machine ready for passthrough, and what exactly to change. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

static const char *status_label(HdCheckStatus status)
{
        switch (status) {
        case HD_CHECK_PASS:
                return "PASS";
        case HD_CHECK_WARN:
                return "WARN";
        case HD_CHECK_FAIL:
                return "FAIL";
        case HD_CHECK_SKIP:
                return "SKIP";
        }
        return "????";
}

static const char *status_colour(HdCheckStatus status)
{
        switch (status) {
        case HD_CHECK_PASS:
                return "\033[32m";
        case HD_CHECK_WARN:
                return "\033[33m";
        case HD_CHECK_FAIL:
                return "\033[31m";
        case HD_CHECK_SKIP:
                return "\033[2m";
        }
        return "";
}

static void print_json(const HdHostReport *r)
{
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        hd_json_add_host_report(b, r);
        json_builder_end_object(b);
        cli_print_json(b);
}

int cmd_check(HdCli *cli, int argc, char **argv)
{
        gboolean quiet = FALSE;
        const GOptionEntry entries[] = {
            {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
             "Print only the checks that failed or warn", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "",
            "Check whether this machine can pass PCI devices to VMs: CPU virtualization, "
            "KVM, the IOMMU in firmware and kernel, interrupt remapping, VFIO, kernel "
            "features and IOMMU groups, each with the change that fixes it.\n"
            "Exit status 0 when passthrough is possible, 1 when not.",
            "hostdev check -q", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHostReport) report = NULL;
        HdCtx *ctx;
        int exit_code;

        ctx = cli_start_without_arguments(cli, octx, &argc, &argv, &exit_code);
        if (!ctx)
                return exit_code;
        report = hd_host_check(ctx, &error);
        if (!report)
                return cli_report_error(cli, error);

        if (cli->json) {
                print_json(report);
        } else {
                /* https://no-color.org: any value turns colours off */
                gboolean colour = cli->is_tty && !g_getenv("NO_COLOR");

                for (guint i = 0; i < report->checks->len; i++) {
                        const HdCheck *c = report->checks->pdata[i];

                        if (quiet && c->status != HD_CHECK_FAIL && c->status != HD_CHECK_WARN)
                                continue;
                        if (colour)
                                printf("%s%s\033[0m  %s\n", status_colour(c->status),
                                       status_label(c->status), c->summary);
                        else
                                printf("%s  %s\n", status_label(c->status), c->summary);
                        if (c->hint)
                                printf("      %s\n", c->hint);
                }
                if (!quiet)
                        printf("\nPassthrough %s on this host (%s CPU, kernel %s).\n",
                               report->passthrough_possible ? "is possible" : "is NOT possible",
                               hd_cpu_vendor_to_string(report->cpu_vendor),
                               report->kernel_release ? report->kernel_release : "unknown");
        }
        return report->passthrough_possible ? HD_EXIT_OK : HD_EXIT_FAILURE;
}
