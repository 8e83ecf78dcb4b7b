/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev persist list|add|remove`: bindings applied at boot (persist.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A recorded 16-bit id as 4 hex digits, null when not recorded. */
static void add_id(JsonBuilder *b, const char *name, int id)
{
        json_builder_set_member_name(b, name);
        if (id < 0) {
                json_builder_add_null_value(b);
        } else {
                char hex[5];
                g_snprintf(hex, sizeof(hex), "%04x", id);
                json_builder_add_string_value(b, hex);
        }
}

static int persist_list(HdCli *cli, HdCtx *ctx)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = hd_persist_list(ctx, &error);

        if (!entries)
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "persistent");
                json_builder_begin_array(b);
                for (guint i = 0; i < entries->len; i++) {
                        HdPersistEntry *e = entries->pdata[i];
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "address");
                        json_builder_add_string_value(b, e->name);
                        json_builder_set_member_name(b, "driver");
                        json_builder_add_string_value(b, e->driver);
                        json_builder_set_member_name(b, "host_driver");
                        if (e->host_driver)
                                json_builder_add_string_value(b, e->host_driver);
                        else
                                json_builder_add_null_value(b);
                        json_builder_set_member_name(b, "host_driver_builtin");
                        json_builder_add_boolean_value(b, e->builtin);
                        add_id(b, "vendor_id", e->vendor_id);
                        add_id(b, "device_id", e->device_id);
                        add_id(b, "subsystem_vendor_id", e->subsystem_vendor_id);
                        add_id(b, "subsystem_device_id", e->subsystem_device_id);
                        json_builder_set_member_name(b, "applies");
                        json_builder_add_boolean_value(b, e->not_applied == NULL);
                        json_builder_set_member_name(b, "not_applied");
                        if (e->not_applied)
                                json_builder_add_string_value(b, e->not_applied);
                        else
                                json_builder_add_null_value(b);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (entries->len == 0) {
                printf("No boot-time bindings ('hostdev detach --persist' makes one).\n");
                return HD_EXIT_OK;
        }
        for (guint i = 0; i < entries->len; i++) {
                HdPersistEntry *e = entries->pdata[i];
                g_autofree char *card = e->vendor_id >= 0 ? g_strdup_printf(
                                                                " for %04x:%04x", e->vendor_id,
                                                                e->device_id)
                                                          : g_strdup(" (any card: no ids recorded)");
                cli_print("%s  %s at boot (instead of %s)%s%s\n", e->name, e->driver,
                          e->host_driver ? e->host_driver : "the kernel's choice", card,
                          e->builtin ? "  WARNING: that driver is built into the kernel and "
                                       "probes before udev; the rule cannot win"
                                     : "");
                if (e->not_applied)
                        cli_print("  NOT APPLIED: %s\n", e->not_applied);
        }
        return HD_EXIT_OK;
}

/* --force may be given twice, as for detach. */
static guint force_count;

static gboolean count_force(const char *name, const char *value, gpointer data, GError **error)
{
        force_count++;
        return TRUE;
}

/* `persist add`: the plan and checks of detach (hd_bind_persist()), then the plan printed. */
static int persist_add(HdCli *cli, HdCtx *ctx, GArray *addrs, gboolean group, const char *driver)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdBindReport) report = NULL;
        HdBindOptions opts = { .group = group, .force = force_count, .driver = driver };
        const char *to = driver ? driver : "vfio-pci";

        report = hd_bind_persist(ctx, (const HdAddress *)addrs->data, addrs->len, &opts, &error);
        if (!report)
                return cli_report_error(cli, error);
        if (cli->json)
                return cli_print_bind_report(cli, ctx, report);
        for (guint i = 0; i < report->devices->len; i++) {
                const HdBindDevice *d = report->devices->pdata[i];
                const char *extra = d->requested ? "" : "  (same IOMMU group)";

                if (!d->changed)
                        cli_print("%s  already bound to %s at boot%s\n", d->name, to, extra);
                else
                        cli_print("%s  %s now, %s at every boot%s%s\n", d->name,
                                  d->from_driver ? d->from_driver : "no driver", to,
                                  report->dry_run ? " (dry run)" : "", extra);
        }
        if (report->dry_run)
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        else
                printf("Bound to %s at every boot from now on, while the same cards sit at these "
                       "addresses (the devices stay where they are until then%s).\n",
                       to, driver ? "" : "; hostdev detach moves them now");
        return HD_EXIT_OK;
}

int cmd_persist(HdCli *cli, int argc, char **argv)
{
        gboolean dry_run = FALSE, group = FALSE;
        g_autofree char *driver = NULL;
        const GOptionEntry entries[] = {
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "Print the plan and the files that would be written, and change nothing",
                  NULL },
                { "group", 'g', 0, G_OPTION_ARG_NONE, &group,
                  "add: also bind the other endpoints of each device's IOMMU group (never "
                  "bridges)",
                  NULL },
                { "force", 'f', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, count_force,
                  "add: as for detach: bind even the boot GPU, a NIC with routes, a controller "
                  "of mounted filesystems; twice: even the NIC with the default route",
                  NULL },
                { "driver", 'd', 0, G_OPTION_ARG_STRING, &driver,
                  "add: bind to this driver at boot instead of vfio-pci (any PCI driver the "
                  "host has, as driverctl set-override)",
                  "NAME" },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "list | add ADDR... [--group] [--force] [--driver NAME] | remove ADDR...",
                "Bindings applied at every boot, by address and for the card that sits there "
                "now, before the host driver can take the device (udev rule, modprobe.d "
                "softdep, initramfs): to vfio-pci, or with --driver to any driver (driverctl's "
                "overrides). add plans and checks as detach does: it refuses what detach "
                "refuses (with the same --group and --force), and bridges always. A binding "
                "whose card was replaced is not applied, and list says so.",
                "hostdev persist add 0000:01:00.0 --group --dry-run", entries);
        g_autoptr(GError) error = NULL;
        HdCtx *ctx;
        const char *verb;

        force_count = 0;
        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc < 2)
                return cli_usage_error(cli, "say list, add or remove");
        verb = argv[1];
        if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)
                return cli_usage_error(cli, "'%s' is not list, add or remove", verb);
        if (strcmp(verb, "list") == 0 && argc > 2)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        if (strcmp(verb, "list") != 0 && argc < 3)
                return cli_usage_error(cli, "name at least one device address");
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        hd_ctx_set_dry_run(ctx, dry_run);
        if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 &&
            (group || force_count || driver))
                return cli_usage_error(cli, "--group, --force and --driver go with add");
        if (driver && !hd_driver_name_is_valid(driver))
                return cli_usage_error(cli, "--driver %s is not a driver name", driver);
        if (strcmp(verb, "list") == 0)
                return persist_list(cli, ctx);
        if (strcmp(verb, "add") == 0) {
                g_autoptr(GArray) addrs = NULL;
                int code;
                if (!cli_parse_addresses(cli, argc - 1, argv + 1, "hostdev persist add", &addrs,
                                         &code))
                        return code;
                return persist_add(cli, ctx, addrs, group, driver);
        }
        {
                g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
                for (int i = 2; i < argc; i++) {
                        HdAddress a;
                        char buf[HD_ADDRESS_STRLEN];
                        if (!hd_address_parse(argv[i], &a, &error))
                                return cli_report_error(cli, error);
                        g_ptr_array_add(names, g_strdup(hd_address_format(&a, buf)));
                }
                for (guint i = 0; i < names->len; i++)
                        if (!hd_persist_remove(ctx, names->pdata[i], &error))
                                return cli_report_error(cli, error);
        }
        if (dry_run)
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        else if (!cli->json)
                printf("Removed: the host driver takes the device at the next boot.\n");
        return HD_EXIT_OK;
}
