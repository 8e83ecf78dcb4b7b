/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev detach ADDR...`: move devices (and with --group the rest of their IOMMU groups) to
 * vfio-pci as one transaction. Also the report printer shared with `hostdev attach`.
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"

/* --force may be given twice (the default-route NIC); GOption has no counting flag. */
static guint force_count;

static gboolean count_force(const char *name, const char *value, gpointer data, GError **error)
{
        force_count++; /* "--force=abc" is refused before (cli_parse_options) */
        return TRUE;
}

void cli_print_write_log(HdCtx *ctx, const char *title)
{
        const GPtrArray *log = hd_ctx_get_write_log(ctx);

        if (log->len == 0)
                return;
        printf("%s\n", title);
        for (guint i = 0; i < log->len; i++) {
                g_autofree char *line = hd_ctx_write_describe(log->pdata[i]);
                cli_print("  %2u. %s\n", i + 1, line);
        }
}

int cli_print_bind_report(HdCli *cli, HdCtx *ctx, const HdBindReport *report)
{
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                hd_json_add_bind_report(b, ctx, report);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (report->recovered && report->dry_run)
                printf("Would first recover %u interrupted operation%s (writes 1-%u below), "
                       "then:\n",
                       report->recovered, report->recovered == 1 ? "" : "s",
                       report->recovery_writes);
        else if (report->recovered)
                printf("Recovered %u interrupted operation%s first.\n", report->recovered,
                       report->recovered == 1 ? "" : "s");
        for (guint i = 0; i < report->devices->len; i++) {
                const HdBindDevice *d = report->devices->pdata[i];
                const char *from = d->from_driver ? d->from_driver : "no driver";
                const char *to = d->to_driver ? d->to_driver : "no driver";
                const char *extra = d->requested ? "" : "  (same IOMMU group)";

                if (!d->changed)
                        cli_print("%s  already on %s%s\n", d->name, from, extra);
                else
                        cli_print("%s  %s -> %s%s%s\n", d->name, from, to,
                                  report->dry_run ? " (dry run)" : "", extra);
        }
        if (report->dry_run)
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        else if (cli->verbose)
                cli_print_write_log(ctx, "Changes made, in order:");
        for (guint i = 0; i < report->devices->len; i++) {
                const HdBindDevice *d = report->devices->pdata[i];
                if (d->persist_removed)
                        cli_print("%s: its boot-time binding %s: the host keeps it after a "
                                  "reboot too (hostdev persist add %s binds it at boot again; "
                                  "attach --keep-persist leaves the binding)\n",
                                  d->name, report->dry_run ? "would be removed" : "is removed",
                                  d->name);
        }
        if (report->persisted && !report->dry_run)
                printf("The binding is persistent: it is applied again at boot (hostdev persist "
                       "list).\n");
        return HD_EXIT_OK;
}

gboolean cli_parse_addresses(HdCli *cli, int argc, char **argv, const char *command, GArray **out,
                             int *exit_code)
{
        g_autoptr(GError) error = NULL;

        if (argc < 2) {
                *exit_code = cli_usage_error(cli, "name at least one device (0000:01:00.0, a "
                                                  "slot such as 01:00, or vendor:device ids)");
                return FALSE;
        }
        *out = cli_resolve_devices(cli, argc, argv, TRUE, command, &error);
        if (!*out) {
                *exit_code = cli_report_error(cli, error);
                return FALSE;
        }
        return TRUE;
}

/* After a detach, what an admin does next: prove it, hand it to a VM, keep it at boot. */
static void print_next_steps(const HdBindReport *report, gboolean persisted)
{
        g_autoptr(GString) all = g_string_new(NULL);
        const char *first = NULL;

        for (guint i = 0; i < report->devices->len; i++) {
                const HdBindDevice *d = report->devices->pdata[i];
                first = first ? first : d->name;
                g_string_append_printf(all, " %s", d->name);
        }
        if (!first)
                return;
        printf("\nNext:\n"
               "  open it the way QEMU will:  hostdev verify %s\n"
               "  give it to a libvirt VM:    hostdev xml%s (or qemu-args)\n",
               first, all->str);
        if (!persisted)
                printf("  keep it at every boot:      hostdev detach%s --persist\n", all->str);
}

int cmd_detach(HdCli *cli, int argc, char **argv)
{
        gboolean group = FALSE, dry_run = FALSE, persist = FALSE;
        const GOptionEntry entries[] = {
                { "group", 'g', 0, G_OPTION_ARG_NONE, &group,
                  "Also detach the other endpoints of each device's IOMMU group (never bridges)",
                  NULL },
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "Print every write the operation would make, in order, and change nothing",
                  NULL },
                { "force", 'f', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, count_force,
                  "Detach even the boot GPU, a NIC with routes, a controller of mounted "
                  "filesystems; twice: even the NIC with the default route",
                  NULL },
                { "persist", 'p', 0, G_OPTION_ARG_NONE, &persist,
                  "Bind to vfio-pci again at every boot (udev rule, modprobe.d, initramfs)",
                  NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDR...",
                "Move devices from their host drivers to vfio-pci, checking first that the host "
                "does not need them; roll back on any failure.",
                "hostdev detach 0000:01:00.0 --group --dry-run", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) addrs = NULL;
        g_autoptr(HdBindReport) report = NULL;
        HdBindOptions opts = { 0 };
        HdCtx *ctx;
        int code;

        force_count = 0;
        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (!cli_parse_addresses(cli, argc, argv, "hostdev detach", &addrs, &code))
                return code;
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        hd_ctx_set_dry_run(ctx, dry_run);
        opts.group = group;
        opts.force = force_count;
        opts.persist = persist;
        report = hd_bind_detach(ctx, (const HdAddress *)addrs->data, addrs->len, &opts, &error);
        if (!report)
                return cli_report_error(cli, error);
        code = cli_print_bind_report(cli, ctx, report);
        if (code == HD_EXIT_OK && !cli->json && !dry_run)
                print_next_steps(report, persist);
        return code;
}
