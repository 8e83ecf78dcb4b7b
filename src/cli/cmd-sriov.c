/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev sriov ADDR`: an SR-IOV physical function and its virtual functions: how many the
 * device can have and has, the VFs' device id and whether the kernel probes drivers for new VFs
 * (sriov_drivers_autoprobe), and each VF's driver, IOMMU group, network interfaces and what the
 * host does with it. Read only (issue 16 item 1's view; changing the count comes with its
 * transaction).
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

int cmd_sriov(HdCli *cli, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = cli_option_context(
                cli, "ADDRESS",
                "Show an SR-IOV physical function and its virtual functions: total and enabled "
                "VFs, their device id, driver autoprobe, and per VF its driver, IOMMU group, "
                "interfaces and what the host does with it.",
                "hostdev sriov 0000:18:00.0", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) one = NULL;
        g_autoptr(HdDevice) pf = NULL;
        g_autoptr(GPtrArray) vfs = g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);
        g_autofree char *vf_device = NULL;
        g_autofree char *autoprobe = NULL;
        g_autoptr(HdVfNetInfo) net = NULL;
        g_autofree char *net_problem = NULL;
        g_autoptr(GHashTable) indexes = NULL;
        HdCtx *ctx;

        if (!cli_parse_options(cli, octx, &argc, &argv))
                return HD_EXIT_USAGE;
        if (argc != 2)
                return cli_usage_error(cli, "sriov takes exactly one device address");
        one = cli_resolve_devices(cli, argc, argv, FALSE, "hostdev sriov", &error);
        if (!one || !(ctx = cli_open_ctx(cli, &error)))
                return cli_report_error(cli, error);
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
        net = cli_sriov_vf_net_read(ctx, pf, &net_problem);
        indexes = cli_sriov_vf_indexes(ctx, pf);

        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "pf");
                json_builder_add_string_value(b, pf->name);
                json_builder_set_member_name(b, "driver");
                if (pf->driver)
                        json_builder_add_string_value(b, pf->driver);
                else
                        json_builder_add_null_value(b);
                json_builder_set_member_name(b, "totalvfs");
                json_builder_add_int_value(b, pf->sriov_totalvfs);
                json_builder_set_member_name(b, "numvfs");
                json_builder_add_int_value(b, pf->sriov_numvfs);
                json_builder_set_member_name(b, "vf_device_id");
                if (vf_device)
                        json_builder_add_string_value(b, vf_device);
                else
                        json_builder_add_null_value(b);
                json_builder_set_member_name(b, "drivers_autoprobe");
                if (autoprobe)
                        json_builder_add_boolean_value(b, g_strcmp0(autoprobe, "0") != 0);
                else
                        json_builder_add_null_value(b);
                json_builder_set_member_name(b, "netdev");
                if (net)
                        json_builder_add_string_value(b, net->netdev);
                else
                        json_builder_add_null_value(b);
                json_builder_set_member_name(b, "vf_net_error");
                if (net_problem)
                        json_builder_add_string_value(b, net_problem);
                else
                        json_builder_add_null_value(b);
                json_builder_set_member_name(b, "vfs");
                json_builder_begin_array(b);
                for (guint i = 0; i < vfs->len; i++) {
                        const HdDevice *vf = vfs->pdata[i];
                        g_autoptr(GPtrArray) uses = hd_usage_describe(ctx, vf);
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "address");
                        json_builder_add_string_value(b, vf->name);
                        json_builder_set_member_name(b, "driver");
                        if (vf->driver)
                                json_builder_add_string_value(b, vf->driver);
                        else
                                json_builder_add_null_value(b);
                        json_builder_set_member_name(b, "iommu_group");
                        if (vf->iommu_group >= 0)
                                json_builder_add_int_value(b, vf->iommu_group);
                        else
                                json_builder_add_null_value(b);
                        hd_json_add_string_list(b, "netdevs", vf->netdevs);
                        hd_json_add_string_list(b, "host_use", uses);
                        {
                                int idx = cli_sriov_vf_index(indexes, vf->name);
                                json_builder_set_member_name(b, "index");
                                if (idx >= 0)
                                        json_builder_add_int_value(b, idx);
                                else
                                        json_builder_add_null_value(b);
                                cli_sriov_vf_net_json(
                                    b, "net",
                                    net && idx >= 0 ? hd_vf_net_info_get(net, (guint)idx) : NULL);
                        }
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
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
                        int idx = cli_sriov_vf_index(indexes, vf->name);
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
                cli_print("no VF enabled (echo N > /sys/bus/pci/devices/%s/sriov_numvfs makes "
                          "N of them)\n",
                          pf->name);
        return HD_EXIT_OK;
}
