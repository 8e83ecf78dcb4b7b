/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev sriov ADDR`: an SR-IOV physical function and its virtual functions: how many the
 * device can have and has, the VFs' device id and whether the kernel probes drivers for new VFs
 * (sriov_drivers_autoprobe), and each VF's driver, IOMMU group, network interfaces and what the
 * host does with it; with --numvfs (and --autoprobe), the VF count transaction (sriov.h).
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "fileio.h"

/* A PF attribute below the root ("0\n" and "8086:1889"-like hex), NULL when absent. */
static char *pf_attr(HdCtx *ctx, const HdDevice *pf, const char *name)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/devices/%s/%s", pf->name, name);
        char *v = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);

        return v ? g_strstrip(v) : NULL;
}

/* --autoprobe: "yes"/"no" (also 1/0, on/off, true/false) into 1/0. */
static gboolean parse_yes_no(const char *text, int *out)
{
        static const char *const yes[] = { "yes", "1", "on", "true" };
        static const char *const no[] = { "no", "0", "off", "false" };

        for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
                if (g_ascii_strcasecmp(text, yes[i]) == 0) {
                        *out = 1;
                        return TRUE;
                }
                if (g_ascii_strcasecmp(text, no[i]) == 0) {
                        *out = 0;
                        return TRUE;
                }
        }
        return FALSE;
}

/* `hostdev sriov ADDR --numvfs N [--autoprobe yes|no]`: the transaction and its answer. */
static int sriov_change(HdCli *cli, HdCtx *ctx, const HdAddress *address,
                        const HdSriovRequest *request, gboolean dry_run, gboolean persist)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSriovReport) r = NULL;
        g_autoptr(HdSriovPersistEntry) at_boot = NULL;

        hd_ctx_set_dry_run(ctx, dry_run);
        r = hd_sriov_set_numvfs(ctx, address, request, &error);
        if (!r)
                return cli_report_error(cli, error);
        if (persist) {
                /* the layout now, at every boot; 0 VFs is the kernel's own default */
                at_boot = hd_sriov_persist_get(ctx, r->pf);
                if (r->numvfs_after > 0 &&
                    !hd_sriov_persist_set(ctx, r->pf, r->numvfs_after, r->autoprobe_after,
                                          &error))
                        return cli_report_error(cli, error);
                if (r->numvfs_after == 0 && at_boot &&
                    !hd_sriov_persist_remove(ctx, r->pf, &error))
                        return cli_report_error(cli, error);
        }
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_object(b);
                hd_json_add_sriov_report(b, ctx, r, dry_run, persist);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        if (persist && r->numvfs_after > 0)
                cli_print("%s %s with %d VFs at every boot "
                          "(etc/udev/rules.d/60-hostdev-sriov.rules)\n",
                          r->pf, dry_run ? "would come up" : "comes up", r->numvfs_after);
        else if (persist)
                cli_print("%s %s no VF layout at boot%s\n", r->pf,
                          dry_run ? "would keep" : "keeps", at_boot ? "" : " (it had none)");
        if (!r->changed) {
                cli_print("%s already has %d VFs%s; nothing to change\n", r->pf, r->numvfs_after,
                          r->autoprobe_after == 0   ? " (driver autoprobe off)"
                          : r->autoprobe_after == 1 ? " (driver autoprobe on)"
                                                    : "");
                if (dry_run && persist)
                        cli_print_write_log(ctx, "Would make these changes, in order (nothing "
                                                 "was changed):");
                return HD_EXIT_OK;
        }
        cli_print("%s %s %d VFs (it had %d)%s\n", r->pf, dry_run ? "would have" : "now has",
                  r->numvfs_after, r->numvfs_before,
                  r->autoprobe_after != r->autoprobe_before
                          ? (r->autoprobe_after ? "; drivers for new VFs: probed"
                                                : "; drivers for new VFs: not probed")
                          : "");
        for (guint i = 0; i < r->created->len; i++) {
                const HdDevice *vf = r->created->pdata[i];
                g_autofree char *group = vf->iommu_group >= 0
                                             ? g_strdup_printf("group %d", vf->iommu_group)
                                             : g_strdup("no IOMMU group");

                cli_print("  %s  %-10s %s\n", vf->name, vf->driver ? vf->driver : "-", group);
        }
        if (dry_run)
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        else if (cli->verbose)
                cli_print_write_log(ctx, "Changes made, in order:");
        if (!dry_run && r->created->len > 0 && r->autoprobe_after == 0)
                cli_print("Next: hostdev detach %s (to vfio-pci for a VM)\n",
                          ((HdDevice *)r->created->pdata[0])->name);
        return HD_EXIT_OK;
}

int cmd_sriov(HdCli *cli, int argc, char **argv)
{
        int numvfs = -1;
        int timeout = 60;
        g_autofree char *autoprobe_text = NULL;
        gboolean dry_run = FALSE;
        gboolean persist = FALSE;
        const GOptionEntry entries[] = {
                { "numvfs", 0, 0, G_OPTION_ARG_INT, &numvfs,
                  "Change the number of VFs to N (0 removes them): refused while a VF is in use "
                  "(open by a VM, detached by hostdev, used by the host)",
                  "N" },
                { "autoprobe", 0, 0, G_OPTION_ARG_STRING, &autoprobe_text,
                  "Whether the kernel binds drivers to new VFs (no: VFs meant for vfio-pci)",
                  "yes|no" },
                { "persist", 0, 0, G_OPTION_ARG_NONE, &persist,
                  "Make the same VFs at every boot (a udev rule: autoprobe, then the count; "
                  "with --numvfs 0, drop it). Keep a VF on vfio-pci with hostdev detach VF "
                  "--persist",
                  NULL },
                { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
                  "Wait at most this long for the kernel to remove VFs (default 60)", "SECONDS" },
                { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
                  "Check and print the writes it would make, change nothing", NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDRESS",
                "Show an SR-IOV physical function and its virtual functions: total and enabled "
                "VFs, their device id, driver autoprobe, and per VF its driver, IOMMU group, "
                "interfaces and what the host does with it. With --numvfs, change the number "
                "of VFs as one transaction (0 then N, as the kernel requires; rolled back on "
                "any failure).",
                "hostdev sriov 0000:18:00.0 --numvfs 4 --autoprobe no", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) one = NULL;
        g_autoptr(HdDevice) pf = NULL;
        g_autoptr(GPtrArray) vfs = g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);
        g_autofree char *vf_device = NULL;
        g_autofree char *autoprobe = NULL;
        HdSriovRequest request = { .autoprobe = -1 };
        g_autoptr(HdSriovPersistEntry) boot = NULL;
        g_autoptr(HdVfNetInfo) net = NULL;
        g_autofree char *net_problem = NULL;
        g_autoptr(GHashTable) indexes = NULL;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc != 2)
                return cli_usage_error(cli, "sriov takes exactly one device address");
        if (autoprobe_text && !parse_yes_no(autoprobe_text, &request.autoprobe))
                return cli_usage_error(cli, "--autoprobe takes yes or no");
        if (timeout < 1 || timeout > 3600)
                return cli_usage_error(cli, "--timeout takes 1 to 3600 seconds");
        if (numvfs < -1 || (numvfs == -1 && autoprobe_text == NULL && (dry_run || persist)))
                return cli_usage_error(cli, numvfs < -1 ? "--numvfs takes 0 or more"
                                                        : "--dry-run and --persist need "
                                                          "--numvfs or --autoprobe");
        one = cli_resolve_devices(cli, argc, argv, FALSE, "hostdev sriov", &error);
        if (!one || !(ctx = cli_open_ctx(cli, &error)))
                return cli_report_error(cli, error);
        if (numvfs >= 0 || autoprobe_text) {
                g_autoptr(HdSriovPf) now = NULL;

                if (numvfs < 0) {
                        /* --autoprobe alone keeps the count */
                        now = hd_sriov_pf_load(ctx, &g_array_index(one, HdAddress, 0), &error);
                        if (!now)
                                return cli_report_error(cli, error);
                        numvfs = now->numvfs;
                }
                request.numvfs = numvfs;
                request.timeout_ms = (guint)timeout * 1000;
                return sriov_change(cli, ctx, &g_array_index(one, HdAddress, 0), &request,
                                    dry_run, persist);
        }
        pf = hd_device_load(ctx, &g_array_index(one, HdAddress, 0), HD_FIELDS_LIST, &error);
        if (!pf)
                return cli_report_error(cli, error);
        if (pf->physfn) {
                g_set_error(&error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is a virtual function of %s: hostdev sriov %s", pf->name,
                            pf->physfn, pf->physfn);
                return cli_report_error(cli, error);
        }
        if (pf->sriov_totalvfs < 0) {
                g_set_error(&error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is not an SR-IOV physical function (it has no sriov_totalvfs); "
                            "hostdev list --json shows sriov_totalvfs for those that are",
                            pf->name);
                return cli_report_error(cli, error);
        }
        boot = hd_sriov_persist_get(ctx, pf->name);
        vf_device = pf_attr(ctx, pf, "sriov_vf_device");
        autoprobe = pf_attr(ctx, pf, "sriov_drivers_autoprobe");
        for (guint i = 0; i < pf->virtfns->len; i++) {
                HdAddress a;
                HdDevice *vf;
                if (!hd_address_parse_sysfs_name(pf->virtfns->pdata[i], &a))
                        continue;
                vf = hd_device_load(ctx, &a, HD_FIELDS_LIST | HD_FIELD_USERS, NULL);
                if (vf) /* a VF removed meanwhile is left out */
                        g_ptr_array_add(vfs, vf);
        }
        /* a NIC PF's VF network settings (cmd-sriov-vf.c) */
        net = hd_sriov_vf_net_read(ctx, pf->name, &net_problem);
        indexes = hd_sriov_vf_indexes(ctx, pf->name, pf->sriov_numvfs);

        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(HdSriovPf) spf =
                    hd_sriov_pf_load(ctx, &g_array_index(one, HdAddress, 0), &error);

                if (!spf)
                        return cli_report_error(cli, error);
                json_builder_begin_object(b);
                hd_json_add_sriov_pf(b, ctx, spf);
                json_builder_end_object(b);
                cli_print_json(b);
                return HD_EXIT_OK;
        }
        cli_print("%s  %s, %d of %d VFs enabled%s%s%s\n", pf->name,
                  pf->driver ? pf->driver : "no driver", pf->sriov_numvfs, pf->sriov_totalvfs,
                  vf_device ? " (VF device " : "", vf_device ? vf_device : "",
                  vf_device ? ")" : "");
        if (autoprobe)
                cli_print("drivers for new VFs: %s\n",
                          g_strcmp0(autoprobe, "0") != 0
                              ? "probed by the kernel (sriov_drivers_autoprobe=1)"
                              : "not probed (sriov_drivers_autoprobe=0: bind them yourself)");
        if (boot)
                cli_print("at boot: %d VFs%s%s%s\n", boot->numvfs,
                          boot->autoprobe == 0 ? ", drivers not probed" : "",
                          boot->not_applied ? "; but " : "",
                          boot->not_applied ? boot->not_applied : "");
        for (guint i = 0; i < vfs->len; i++) {
                const HdDevice *vf = vfs->pdata[i];
                g_autoptr(GPtrArray) uses = hd_usage_describe(ctx, vf);
                g_autofree char *nets = cli_join(vf->netdevs, " ");
                g_autofree char *group = vf->iommu_group >= 0
                                             ? g_strdup_printf("group %d", vf->iommu_group)
                                             : g_strdup("no IOMMU group");

                cli_print("  %s  %-10s %-14s %s\n", vf->name, vf->driver ? vf->driver : "-",
                          group, nets ? nets : "");
                for (guint k = 0; k < uses->len; k++)
                        cli_print("      host use: %s\n", (char *)uses->pdata[k]);
                {
                        int idx = hd_sriov_vf_index(indexes, vf->name);
                        const HdVfNet *vn =
                            net && idx >= 0 ? hd_vf_net_info_get(net, (guint)idx) : NULL;
                        g_autofree char *text = vn ? cli_sriov_vf_net_text(vn) : NULL;
                        if (text)
                                cli_print("      VF %d on %s: %s\n", idx, net->netdev, text);
                }
        }
        if (net_problem)
                cli_print("VF network settings: %s\n", net_problem);
        if (vfs->len == 0)
                cli_print("no VF enabled (hostdev sriov %s --numvfs N makes N of them)\n",
                          pf->name);
        return HD_EXIT_OK;
}
