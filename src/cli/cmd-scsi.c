/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev scsi list | show SPEC | xml SPEC... | qemu-args SPEC...`: SCSI LUNs for
 * scsi-generic passthrough (scsi.h). The configuration verbs live here rather than in
 * `hostdev xml` / `qemu-args`: those take PCI addresses in every form people paste and options
 * that only mean something for a PCI function (--managed, --rom-*, --primary-gpu,
 * --guest-address, --machine), while a LUN is named by a WWID, a by-id link or H:C:T:L, is
 * never detached, and comes with its own options (--shareable, --readonly). One command per kind
 * keeps each grammar strict: "0:0:1:0" is never mistaken for anything else.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *dash(const char *s)
{
        return s && *s ? s : "-";
}

static char *adapter_text(const HdScsiDevice *d)
{
        return g_strdup_printf("%s%s%s%s%s", d->host ? d->host : "?", d->proc_name ? " " : "",
                               d->proc_name ? d->proc_name : "", d->pci ? " " : "",
                               d->pci ? d->pci : "");
}

static int scsi_list(HdCli *cli, HdCtx *ctx)
{
        static const char *const headers[] = {"H:C:T:L", "TYPE",  "VENDOR",  "MODEL",  "WWID",
                                              "SG",      "BLOCK", "ADAPTER", "VERDICT"};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) luns = hd_scsi_list(ctx, &error);
        g_autoptr(CliTable) t = NULL;

        if (!luns)
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "luns");
                json_builder_begin_array(b);
                for (guint i = 0; i < luns->len; i++)
                        hd_json_add_scsi_device(b, luns->pdata[i]);
                json_builder_end_array(b);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (luns->len == 0) {
                cli_print("No SCSI LUNs (sys/bus/scsi/devices is empty or absent).\n");
                return HD_EXIT_OK;
        }
        t = cli_table_new(G_N_ELEMENTS(headers), headers);
        for (guint i = 0; i < luns->len; i++) {
                const HdScsiDevice *d = luns->pdata[i];
                char buf[16];
                g_autofree char *adapter = adapter_text(d);
                const char *cells[G_N_ELEMENTS(headers)] = {
                    d->name,
                    hd_scsi_type_name(d->type, buf),
                    dash(d->vendor),
                    dash(d->model),
                    dash(d->wwid),
                    dash(d->sg),
                    dash(d->block),
                    adapter,
                    hd_scsi_verdict_name(d->verdict),
                };
                cli_table_add_row(t, cells);
        }
        cli_table_print(t, 4, cli_output_width(cli));
        return HD_EXIT_OK;
}

static void print_list(const char *label, GPtrArray *a, const char *prefix)
{
        for (guint i = 0; i < a->len; i++)
                cli_print("  %-10s %s%s\n", i ? "" : label, prefix, (char *)a->pdata[i]);
}

static int scsi_show(HdCli *cli, HdCtx *ctx, const char *text)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdScsiDevice) d = NULL;
        HdScsiSpec spec;
        char buf[16];

        if (!hd_scsi_spec_parse(text, &spec, &error))
                return cli_report_error(cli, error);
        if (!(d = hd_scsi_resolve(ctx, &spec, &error)))
                return cli_report_error(cli, error);
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                hd_json_add_scsi_device(b, d);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        cli_print("%s  %s  %s %s%s%s%s\n", d->name, hd_scsi_type_name(d->type, buf),
                  dash(d->vendor), dash(d->model), d->rev ? " (rev " : "", d->rev ? d->rev : "",
                  d->rev ? ")" : "");
        cli_print("  %-10s %s\n", "state", dash(d->state));
        cli_print("  %-10s %s\n", "wwid", d->wwid ? d->wwid : "none (the LUN reports no WWID)");
        print_list("by-id", d->by_id, "/dev/disk/by-id/");
        cli_print("  %-10s %s%s\n", "sg", d->sg ? "/dev/" : "", d->sg ? d->sg : "none");
        if (d->block) {
                g_autofree char *parts = cli_join(d->partitions, ", ");
                cli_print("  %-10s /dev/%s%s%s%s\n", "block", d->block,
                          parts ? " (partitions " : "", parts ? parts : "", parts ? ")" : "");
        }
        cli_print("  %-10s %s%s%s%s", "adapter", d->host ? d->host : "?", d->proc_name ? " (" : "",
                  d->proc_name ? d->proc_name : "", d->proc_name ? ")" : "");
        if (d->pci) {
                if (d->iommu_group >= 0)
                        cli_print(" on %s, IOMMU group %d", d->pci, d->iommu_group);
                else
                        cli_print(" on %s", d->pci);
        }
        cli_print("\n");
        print_list("host use", d->host_use, "");
        print_list("held by", d->holders, "");
        print_list("open by", d->held_by, "");
        cli_print("  %-10s %s%s%s\n", "verdict", hd_scsi_verdict_name(d->verdict),
                  d->reason ? ": " : "", d->reason ? d->reason : "");
        print_list("warning", d->warnings, "");
        return HD_EXIT_OK;
}

static int scsi_guest(HdCli *cli, HdCtx *ctx, int argc, char **argv, gboolean xml,
                      const HdScsiGuestOptions *opts)
{
        g_autoptr(GPtrArray) devs =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_scsi_device_free);
        g_autoptr(GPtrArray) notes =
            g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
        g_autoptr(GError) error = NULL;

        for (int i = 2; i < argc; i++) {
                HdScsiSpec spec;
                HdScsiDevice *d;
                GPtrArray *w;

                if (!hd_scsi_spec_parse(argv[i], &spec, &error))
                        return cli_report_error(cli, error);
                if (!(d = hd_scsi_resolve(ctx, &spec, &error)))
                        return cli_report_error(cli, error);
                g_ptr_array_add(devs, d);
                for (guint k = 0; k + 1 < devs->len; k++)
                        if (strcmp(((HdScsiDevice *)devs->pdata[k])->name, d->name) == 0) {
                                g_set_error(&error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "%s names LUN %s a second time", argv[i], d->name);
                                return cli_report_error(cli, error);
                        }
                if (!hd_scsi_check(ctx, d, argv[i], opts, &error))
                        return cli_report_error(cli, error);
                w = hd_scsi_guest_warnings(&spec, d);
                g_ptr_array_add(notes, w);
        }
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                if (xml) {
                        g_autoptr(GString) s = g_string_new(NULL);
                        for (guint i = 0; i < devs->len; i++) {
                                g_autofree char *x = hd_scsi_hostdev_xml(devs->pdata[i], opts, 0);
                                g_string_append(s, x);
                        }
                        json_builder_set_member_name(b, "hostdev_xml");
                        json_builder_add_string_value(b, s->str);
                } else {
                        g_auto(GStrv) args = hd_scsi_qemu_args(devs, opts);
                        json_builder_set_member_name(b, "args");
                        json_builder_begin_array(b);
                        for (char **p = args; *p; p++)
                                json_builder_add_string_value(b, *p);
                        json_builder_end_array(b);
                }
                json_builder_set_member_name(b, "luns");
                json_builder_begin_array(b);
                for (guint i = 0; i < devs->len; i++) {
                        hd_json_add_scsi_guest_lun(b, argv[i + 2], devs->pdata[i], notes->pdata[i]);
                }
                json_builder_end_array(b);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        for (guint i = 0; i < notes->len; i++) {
                GPtrArray *w = notes->pdata[i];
                for (guint k = 0; k < w->len; k++)
                        fprintf(stderr, "warning: %s: %s\n", argv[i + 2], (char *)w->pdata[k]);
        }
        if (xml) {
                for (guint i = 0; i < devs->len; i++) {
                        g_autofree char *x = hd_scsi_hostdev_xml(devs->pdata[i], opts, 0);
                        fputs(x, stdout);
                }
        } else {
                g_auto(GStrv) args = hd_scsi_qemu_args(devs, opts);
                for (char **p = args; *p && p[1]; p += 2) {
                        if (strcmp(p[0], "-blockdev") == 0)
                                printf("%s '%s'\n", p[0], p[1]); /* JSON: quoted for a shell */
                        else
                                printf("%s %s\n", p[0], p[1]);
                }
        }
        return HD_EXIT_OK;
}

int cmd_scsi(HdCli *cli, int argc, char **argv)
{
        HdScsiGuestOptions opts = {0};
        const GOptionEntry entries[] = {
            {"force", 'f', 0, G_OPTION_ARG_NONE, &opts.force,
             "xml, qemu-args: give a LUN the host uses (mounted, swap, under LVM, "
             "multipath, dm-crypt or md) or another process holds open; never the root "
             "filesystem's",
             NULL},
            {"shareable", 0, 0, G_OPTION_ARG_NONE, &opts.shareable,
             "xml, qemu-args: the LUN is shared by several VMs (<shareable/>, share-rw=on); "
             "a LUN another VM holds open is then not refused",
             NULL},
            {"readonly", 0, 0, G_OPTION_ARG_NONE, &opts.readonly,
             "xml, qemu-args: the guest gets the LUN read-only (<readonly/>, read-only)", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "list | show SPEC | xml SPEC... | qemu-args SPEC...",
            "SCSI LUNs for scsi-generic passthrough (tape drives, medium changers, shared "
            "disks): H:C:T:L, type, vendor, model, WWID, the sg and block nodes, the adapter "
            "and its PCI function, what the host does with the LUN and the verdict. SPEC is "
            "the LUN's WWID (naa.5000c500a1b2c3d4, eui..., t10...), /dev/disk/by-id/NAME, or "
            "H:C:T:L (its adapter number changes at reboot: xml and qemu-args warn). xml and "
            "qemu-args resolve SPEC to the LUN's current adapter, H:C:T:L and /dev/sgN now, and "
            "refuse a LUN the host uses (unless --force; the root filesystem's always), one "
            "without an sg node, or one another process holds open (unless --shareable or "
            "--force).",
            "hostdev scsi xml naa.50014380272a1b2c", entries);
        g_autoptr(GError) error = NULL;
        HdCtx *ctx;
        const char *verb;
        gboolean guest;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc < 2)
                return cli_usage_error(cli, "say list, show, xml or qemu-args");
        verb = argv[1];
        guest = strcmp(verb, "xml") == 0 || strcmp(verb, "qemu-args") == 0;
        if (strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0 && !guest)
                return cli_usage_error(cli, "'%s' is not list, show, xml or qemu-args", verb);
        if (strcmp(verb, "list") == 0 && argc > 2)
                return cli_usage_error(cli, "unexpected argument '%s'", argv[2]);
        if (strcmp(verb, "show") == 0 && argc != 3)
                return cli_usage_error(cli, "show takes exactly one LUN (WWID, "
                                            "/dev/disk/by-id/NAME or H:C:T:L)");
        if (guest && argc < 3)
                return cli_usage_error(cli, "name at least one LUN (WWID, /dev/disk/by-id/NAME "
                                            "or H:C:T:L)");
        if (!guest && (opts.force || opts.shareable || opts.readonly))
                return cli_usage_error(cli, "--force, --shareable and --readonly go with xml and "
                                            "qemu-args");
        if (!(ctx = cli_open_ctx(cli, &error)))
                return cli_report_error(cli, error);
        if (strcmp(verb, "list") == 0)
                return scsi_list(cli, ctx);
        if (strcmp(verb, "show") == 0)
                return scsi_show(cli, ctx, argv[2]);
        return scsi_guest(cli, ctx, argc, argv, strcmp(verb, "xml") == 0, &opts);
}
