/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hostdev groups [N] [--problems]`: IOMMU groups with a verdict in plain words. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

static void print_group(const HdInventory *inv, const HdGroup *g)
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
        for (guint i = 0; i < g->members->len; i++) {
                const HdDevice *dev = g->members->pdata[i];
                g_autofree char *warning = NULL;
                if (hd_device_is_bridge(dev) || hd_device_is_host_bridge(dev))
                        continue;
                warning = hd_device_reset_warning((const char *const *)dev->reset_methods,
                                                  dev->name, hd_inventory_bus_mates(inv, dev));
                if (warning)
                        cli_print("  warning: %s\n", warning);
        }
}

/* What --problems shows: groups that cannot simply be given to a VM as they are, or whose
 * state needs the admin. Ready groups (with or without bridges), groups of bridges only and
 * groups a VM holds are not problems. */
static gboolean is_problem(const HdGroup *g)
{
        switch (g->verdict) {
        case HD_VERDICT_READY:
        case HD_VERDICT_READY_WITH_BRIDGE:
        case HD_VERDICT_NO_ENDPOINT:
        case HD_VERDICT_IN_USE:
                return FALSE;
        case HD_VERDICT_NEEDS_GROUP:
        case HD_VERDICT_BOOT_GPU:
        case HD_VERDICT_PARTLY_DETACHED:
        case HD_VERDICT_HOST_NEEDS_IT:
        case HD_VERDICT_INTERRUPTED:
                break;
        }
        return TRUE;
}

/* The emulated groups of mediated devices (vfio_mdev makes one per mdev, with or without an
 * IOMMU): not PCI groups, named so that /sys/kernel/iommu_groups is not a puzzle. */
static void print_mdev_groups(HdCtx *ctx)
{
        g_autoptr(GPtrArray) mdevs = hd_mdev_list(ctx, NULL);
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; mdevs && i < mdevs->len; i++) {
                const HdMdev *m = mdevs->pdata[i];
                if (!m->active || m->iommu_group < 0)
                        continue;
                g_string_append_printf(s, "%s%d (%s, %s on %s)", s->len ? ", " : "",
                                       m->iommu_group, m->uuid, m->type ? m->type : "?",
                                       m->parent ? m->parent : "?");
        }
        if (s->len)
                cli_print("\nEmulated IOMMU groups of mediated devices, which say nothing about an "
                          "IOMMU (hostdev mdev list): %s\n",
                          s->str);
}

int cmd_groups(HdCli *cli, int argc, char **argv)
{
        gboolean problems = FALSE;
        const GOptionEntry entries[] = {
                { "problems", 'p', 0, G_OPTION_ARG_NONE, &problems,
                  "Only the groups that are not ready to give to a VM as they are, with why",
                  NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "[GROUP]",
                "Show the IOMMU groups (or group GROUP), their members, and whether each can be "
                "given to a VM (the kernel's viability rule) with what must move along.",
                "hostdev groups 14\n  hostdev groups --problems\n  hostdev groups --json",
                entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GPtrArray) shown = g_ptr_array_new();
        g_autofree char *interrupted = NULL;
        guint n_interrupted;
        guint64 number = 0;
        gboolean one = FALSE;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc > 2)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        if (argc == 2) {
                if (!g_ascii_string_to_unsigned(argv[1], 10, 0, G_MAXINT, &number, NULL))
                        return cli_usage_error(cli,
                                               "'%s' is not an IOMMU group number; hostdev "
                                               "groups lists them",
                                               argv[1]);
                one = TRUE;
        }
        ctx = cli_open_ctx(cli, &error);
        if (!ctx)
                return cli_report_error(cli, error);
        inv = hd_inventory_scan(ctx, HD_FIELDS_LIST | HD_FIELD_RESET | HD_FIELD_TOPOLOGY,
                                  &error);
        if (!inv)
                return cli_report_error(cli, error);
        /* state.h: the verdicts every command and the agent give */
        n_interrupted = hd_state_evaluate_inventory(ctx, inv);
        interrupted = hd_state_interrupted_text(n_interrupted);
        for (guint i = 0; i < inv->groups->len; i++) {
                HdGroup *g = inv->groups->pdata[i];
                if ((one && g->number != (int)number) || (problems && !is_problem(g)))
                        continue;
                g_ptr_array_add(shown, g);
        }
        if (one && shown->len == 0 && !hd_inventory_lookup_group(inv, (int)number)) {
                g_autoptr(HdMdev) m = hd_mdev_for_group(ctx, (int)number);
                if (m) {
                        /* an emulated group (vfio_mdev), which exists even without an IOMMU */
                        g_set_error(&error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "IOMMU group %" G_GUINT64_FORMAT " holds mediated device %s "
                                    "(%s on %s), not PCI devices: hostdev mdev list shows it, "
                                    "hostdev xml %s gives it to a VM",
                                    number, m->uuid, m->type ? m->type : "unknown type",
                                    m->parent ? m->parent : "unknown parent", m->uuid);
                        return cli_report_error(cli, error);
                }
                g_set_error(&error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            inv->groups->len ? "no IOMMU group %" G_GUINT64_FORMAT
                                               " on this machine; hostdev groups lists them"
                                             : "no IOMMU group %" G_GUINT64_FORMAT
                                               ": the kernel is not using an IOMMU on this "
                                               "machine; hostdev check says what to change",
                            number);
                return cli_report_error(cli, error);
        }

        if (cli->json) {
                g_autoptr(HdJsonWriter) w = cli_json_writer_new();
                hd_json_writer_begin_object(w);
                hd_json_writer_member(w, "groups");
                hd_json_writer_begin_array(w);
                for (guint i = 0; i < shown->len; i++)
                        hd_json_write_group(w, shown->pdata[i]);
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
                print_mdev_groups(ctx);
                return HD_EXIT_OK;
        }
        if (shown->len == 0) /* --problems, none */
                printf("Every IOMMU group is ready to give to a VM, held by one, or holds only "
                       "bridges.\n");
        for (guint i = 0; i < shown->len; i++) {
                if (i)
                        putchar('\n');
                print_group(inv, shown->pdata[i]);
        }
        if (!one && !problems)
                print_mdev_groups(ctx);
        return HD_EXIT_OK;
}
