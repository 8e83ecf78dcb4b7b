/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev vhost-scsi list | xml WWPN | qemu-args WWPN`: SCSI targets the host exports through
 * the kernel's LIO vhost fabric (vhost.h). A command of its own: a target's WWPN has the form
 * of a LUN's NAA WWID, and the two are different things (a target the host serves, a LUN the
 * host sees), so `hostdev scsi` never has to guess which one is meant.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_vhost_scsi(HdCli *cli, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "list | xml WWPN | qemu-args WWPN",
            "SCSI targets this host exports to guests through vhost-scsi (the kernel's LIO "
            "target, configured in configfs: sys/kernel/config/target/vhost/WWPN/tpgt_N with "
            "LUNs and a nexus): list them with their LUNs and whether they are ready, and "
            "give one to a VM as libvirt <hostdev type='scsi_host'> or QEMU -device "
            "vhost-scsi-pci. A target that is not ready (no vhost_scsi module, no TPG, no LUN, "
            "no nexus) is refused with what to set up.",
            "hostdev vhost-scsi xml naa.5001405000000001", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVhostTarget) t = NULL;
        HdCtx *ctx;
        const char *verb;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc < 2)
                return cli_usage_error(cli, "say list, xml or qemu-args");
        verb = argv[1];
        if (strcmp(verb, "list") != 0 && strcmp(verb, "xml") != 0 && strcmp(verb, "qemu-args") != 0)
                return cli_usage_error(cli, "'%s' is not list, xml or qemu-args", verb);
        if (strcmp(verb, "list") == 0 && argc > 2)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        if (strcmp(verb, "list") != 0 && argc != 3)
                return cli_usage_error(cli, "%s takes one target WWPN (naa. and 16 hex digits)",
                                       verb);
        if (!(ctx = cli_open_ctx(cli, &error)))
                return cli_report_error(cli, error);
        if (strcmp(verb, "list") == 0) {
                g_autoptr(GPtrArray) all = hd_vhost_list(ctx, &error);
                if (!all)
                        return cli_report_error(cli, error);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "targets");
                        json_builder_begin_array(b);
                        for (guint i = 0; i < all->len; i++)
                                hd_json_add_vhost_target(b, all->pdata[i]);
                        json_builder_end_array(b);
                        json_builder_end_object(b);
                        cli_print_json(b);
                        return HD_EXIT_OK;
                }
                if (all->len == 0)
                        cli_print("No vhost-scsi targets (sys/kernel/config/target/vhost has none, "
                                  "or configfs is not mounted).\n");
                for (guint i = 0; i < all->len; i++) {
                        const HdVhostTarget *v = all->pdata[i];
                        cli_print("%s  %s%s%s\n", v->wwpn,
                                  v->ready ? "ready" : "not ready: ", v->ready ? "" : v->reason,
                                  "");
                        if (v->tpgt >= 0)
                                cli_print("  tpgt_%d, nexus %s\n", v->tpgt,
                                          v->nexus ? v->nexus : "none");
                        for (guint k = 0; k < v->luns->len; k++)
                                cli_print("  %s\n", (char *)v->luns->pdata[k]);
                }
                return HD_EXIT_OK;
        }
        if (!(t = hd_vhost_find(ctx, argv[2], &error)))
                return cli_report_error(cli, error);
        if (!t->ready) {
                g_set_error(&error, HD_ERROR, HD_ERROR_REFUSED,
                            "vhost target %s is not ready: %s; then hostdev vhost-scsi list",
                            t->wwpn, t->reason);
                return cli_report_error(cli, error);
        }
        if (strcmp(verb, "xml") == 0) {
                g_autofree char *x = hd_vhost_hostdev_xml(t, 0);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "hostdev_xml");
                        json_builder_add_string_value(b, x);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else {
                        fputs(x, stdout);
                }
        } else {
                g_auto(GStrv) args = hd_vhost_qemu_args(t);
                if (cli->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "args");
                        json_builder_begin_array(b);
                        for (char **p = args; *p; p++)
                                json_builder_add_string_value(b, *p);
                        json_builder_end_array(b);
                        json_builder_end_object(b);
                        cli_print_json(b);
                } else {
                        for (char **p = args; *p && p[1]; p += 2)
                                printf("%s %s\n", p[0], p[1]);
                }
        }
        return HD_EXIT_OK;
}
