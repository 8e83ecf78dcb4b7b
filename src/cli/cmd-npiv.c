/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev npiv list | create HOST --wwpn W --wwnn N | delete VPORT`: Fibre Channel NPIV
 * virtual HBAs (npiv.h). The LUNs a vHBA gets are SCSI LUNs like any other: `hostdev scsi`.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *dash(const char *s)
{
        return s && *s ? s : "-";
}

static char *luns_of(GPtrArray *luns, const char *host)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new();

        for (guint i = 0; luns && i < luns->len; i++) {
                const HdScsiDevice *d = luns->pdata[i];
                if (g_strcmp0(d->host, host) == 0)
                        g_ptr_array_add(names, d->name);
        }
        return cli_join(names, " ");
}

static int npiv_list(HdCli *cli, HdCtx *ctx)
{
        static const char *const headers[] = {"FC HOST",   "DRIVER", "PCI",    "PORT NAME",
                                              "NODE NAME", "STATE",  "VPORTS", "LUNS"};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) hosts = hd_fc_host_list(ctx, &error);
        g_autoptr(GPtrArray) vports = hosts ? hd_fc_vport_list(ctx, &error) : NULL;
        g_autoptr(GPtrArray) luns = vports ? hd_scsi_list(ctx, &error) : NULL;
        g_autoptr(GPtrArray) records = luns ? hd_npiv_records(ctx, &error) : NULL;
        g_autoptr(CliTable) t = NULL;

        if (!records)
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                hd_json_add_npiv_list(b, hosts, vports, luns, records);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (hosts->len == 0) {
                cli_print("No Fibre Channel hosts (sys/class/fc_host is empty or absent).\n");
                return HD_EXIT_OK;
        }
        t = cli_table_new(G_N_ELEMENTS(headers), headers);
        for (guint i = 0; i < hosts->len; i++) {
                const HdFcHost *h = hosts->pdata[i];
                g_autofree char *vp = NULL;
                g_autofree char *l = luns_of(luns, h->host);

                if (h->vport)
                        vp = g_strdup_printf("vHBA of %s (%s)", dash(h->parent), h->vport);
                else if (h->vport_create && h->max_npiv_vports > 0)
                        vp = g_strdup_printf("%d of %d", h->npiv_vports_inuse, h->max_npiv_vports);
                else
                        vp = g_strdup("no NPIV");
                {
                        const char *cells[G_N_ELEMENTS(headers)] = {
                            h->host,
                            dash(h->proc_name),
                            dash(h->pci),
                            dash(h->port_name),
                            dash(h->node_name),
                            dash(h->port_state),
                            vp,
                            dash(l),
                        };
                        cli_table_add_row(t, cells);
                }
        }
        cli_table_print(t, 7, cli_output_width(cli));
        for (guint i = 0; i < vports->len; i++) {
                const HdFcVport *v = vports->pdata[i];
                if (i == 0)
                        cli_print("\nVports (gone at reboot):\n");
                cli_print("  %s on %s: vHBA %s, WWPN %s, WWNN %s, %s, %s\n", v->name,
                          dash(v->parent), dash(v->host), dash(v->port_name), dash(v->node_name),
                          dash(v->vport_state), dash(v->roles));
        }
        for (guint i = 0; i < records->len; i++) {
                const HdNpivRecord *r = records->pdata[i];
                if (i == 0)
                        cli_print("\nRecorded (made again at boot by hostdev npiv restore):\n");
                cli_print("  WWPN %s, WWNN %s on the port %s (%s): %s\n", r->port_name,
                          r->node_name, r->parent_port_name, r->parent ? r->parent : "absent",
                          r->vport ? r->vport : "missing");
        }
        return HD_EXIT_OK;
}

static int npiv_restore(HdCli *cli, HdCtx *ctx, gboolean dry_run)
{
        g_autoptr(GPtrArray) report = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;
        gboolean ok = hd_npiv_restore(ctx, report, &error);

        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, dry_run);
                hd_json_add_string_list(b, "report", report);
                json_builder_end_object(b);
                if (ok)
                        cli_print_json(b);
        } else {
                for (guint i = 0; i < report->len; i++)
                        cli_print("%s\n", (char *)report->pdata[i]);
                if (report->len == 0 && ok)
                        cli_print("No recorded vports (hostdev npiv create --persist records "
                                  "one).\n");
                if (dry_run && ok)
                        cli_print_write_log(ctx, "Would make these changes (nothing was "
                                                 "changed):");
        }
        return ok ? HD_EXIT_OK : cli_report_error(cli, error);
}

int cmd_npiv(HdCli *cli, int argc, char **argv)
{
        g_autofree char *wwpn_text = NULL;
        g_autofree char *wwnn_text = NULL;
        gboolean dry_run = FALSE, force = FALSE, persist = FALSE;
        const GOptionEntry entries[] = {
            {"wwpn", 0, 0, G_OPTION_ARG_STRING, &wwpn_text,
             "create: the vport's port name, 16 hex digits (unique on the host and the "
             "fabric)",
             "WWPN"},
            {"wwnn", 0, 0, G_OPTION_ARG_STRING, &wwnn_text,
             "create: the vport's node name, 16 hex digits", "WWNN"},
            {"persist", 'p', 0, G_OPTION_ARG_NONE, &persist,
             "create: record the vport (etc/hostdev/npiv.d, under its parent's port name) "
             "so that 'hostdev npiv restore' makes it again after a reboot",
             NULL},
            {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
             "create, delete, restore: print the writes and change nothing", NULL},
            {"force", 'f', 0, G_OPTION_ARG_NONE, &force,
             "delete: even when the vHBA's LUNs are in use (mounted, under LVM, held by a "
             "VM)",
             NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli,
            "list | create HOST --wwpn WWPN --wwnn WWNN [--persist] | delete VPORT|HOST|WWPN "
            "| restore",
            "Fibre Channel NPIV: list the FC hosts (port and node names, state, vports in "
            "use of the most the HBA allows) and their vports; create a vport (a virtual HBA "
            "with a SCSI host of its own, whose LUNs hostdev scsi list shows once the fabric "
            "zones them) on an FC host, or delete one. WWNs are 16 hex digits (0x and "
            "colon-separated pairs accepted), never zero, and the WWPN must be unique. "
            "Vports vanish at reboot: create --persist records one under its parent's port "
            "name, and restore (at boot, once the HBA's driver is loaded) makes every "
            "recorded vport that is missing; delete forgets the record.",
            "hostdev npiv create host3 --wwpn 2001001122334455 --wwnn 2000001122334455", entries);
        g_autoptr(GError) error = NULL;
        HdCtx *ctx;
        const char *verb;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc < 2)
                return cli_usage_error(cli, "say list, create, delete or restore");
        verb = argv[1];
        if (strcmp(verb, "list") != 0 && strcmp(verb, "create") != 0 &&
            strcmp(verb, "delete") != 0 && strcmp(verb, "restore") != 0)
                return cli_usage_error(cli, "'%s' is not list, create, delete or restore", verb);
        if ((strcmp(verb, "list") == 0 || strcmp(verb, "restore") == 0) && argc > 2)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        if (strcmp(verb, "list") != 0 && strcmp(verb, "restore") != 0 && argc != 3)
                return cli_usage_error(cli, "%s takes one %s", verb,
                                       strcmp(verb, "create") == 0
                                           ? "FC host (hostN)"
                                           : "vport (vport-P:0-N, its vHBA hostN or its WWPN)");
        if (strcmp(verb, "create") != 0 && (wwpn_text || wwnn_text))
                return cli_usage_error(cli, "--wwpn and --wwnn go with create");
        if (strcmp(verb, "create") == 0 && (!wwpn_text || !wwnn_text))
                return cli_usage_error(cli, "create needs --wwpn and --wwnn");
        if (force && strcmp(verb, "delete") != 0)
                return cli_usage_error(cli, "--force goes with delete");
        if (persist && strcmp(verb, "create") != 0)
                return cli_usage_error(cli, "--persist goes with create");
        if (dry_run && strcmp(verb, "list") == 0)
                return cli_usage_error(cli, "--dry-run goes with create, delete and restore");
        if (!(ctx = cli_open_ctx(cli, &error)))
                return cli_report_error(cli, error);
        if (strcmp(verb, "list") == 0)
                return npiv_list(cli, ctx);
        hd_ctx_set_dry_run(ctx, dry_run);
        if (strcmp(verb, "restore") == 0)
                return npiv_restore(cli, ctx, dry_run);
        if (strcmp(verb, "create") == 0) {
                g_autoptr(HdFcVport) v = NULL;
                guint64 wwpn, wwnn;

                if (!hd_npiv_wwn_parse(wwpn_text, "--wwpn", &wwpn, &error) ||
                    !hd_npiv_wwn_parse(wwnn_text, "--wwnn", &wwnn, &error))
                        return cli_report_error(cli, error);
                if (!hd_npiv_create(ctx, argv[2], wwpn, wwnn, persist, &v, &error))
                        return cli_report_error(cli, error);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "dry_run");
                        json_builder_add_boolean_value(b, dry_run);
                        json_builder_set_member_name(b, "vport");
                        if (v)
                                hd_json_add_fc_vport(b, v);
                        else
                                json_builder_add_null_value(b);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else if (dry_run) {
                        cli_print_write_log(ctx, "Would make these changes (nothing was changed):");
                } else if (v) {
                        cli_print("Created %s on %s: vHBA %s (WWPN %s, WWNN %s, %s). %s; its LUNs "
                                  "appear in hostdev scsi list once the fabric zones them.\n",
                                  v->name, dash(v->parent), dash(v->host), dash(v->port_name),
                                  dash(v->node_name), dash(v->vport_state),
                                  persist ? "Recorded: hostdev npiv restore makes it again "
                                            "after a reboot"
                                          : "It is gone at the next reboot (--persist records "
                                            "it)");
                } else {
                        cli_print("The kernel took the vport but shows none with that WWPN yet; "
                                  "hostdev npiv list shows what there is.\n");
                }
                return HD_EXIT_OK;
        }
        if (!hd_npiv_delete(ctx, argv[2], force, &error))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, dry_run);
                json_builder_set_member_name(b, "deleted");
                json_builder_add_string_value(b, argv[2]);
                json_builder_end_object(b);
                cli_print_json(b);
        } else if (dry_run) {
                cli_print_write_log(ctx, "Would make these changes (nothing was changed):");
        } else {
                cli_print("Deleted %s.\n", argv[2]);
        }
        return HD_EXIT_OK;
}
