/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev sriov-vf`: one virtual function's network settings on its NIC PF (MAC, VLAN and
 * QoS, spoof check, trust, link state, TX rates), read or set over rtnetlink (vf-net.h), and
 * saved/restored around a VM as libvirt does. Also the helpers `hostdev sriov` uses to show
 * every VF's settings (kept here, apart from cmd-sriov.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "macros.h"
#include "parse.h"

/* ---------------------------------------------------------------- shown by `hostdev sriov` */

char *cli_sriov_vf_net_text(const HdVfNet *vf)
{
        GString *s = g_string_new(NULL);
        char mac[18];
        const char *ls = hd_vf_link_state_to_string(vf->link_state);

        g_string_append_printf(s, "mac %s", vf->has_mac ? hd_vf_net_format_mac(vf->mac, mac) : "-");
        if (vf->vlan)
                g_string_append_printf(s, ", vlan %u qos %u%s", vf->vlan, vf->qos,
                                       vf->vlan_proto == HD_VLAN_PROTO_8021AD ? " (802.1ad)" : "");
        else
                g_string_append(s, ", no vlan");
        if (vf->spoofchk >= 0)
                g_string_append_printf(s, ", spoofchk %s", vf->spoofchk ? "on" : "off");
        if (vf->trust >= 0)
                g_string_append_printf(s, ", trust %s", vf->trust ? "on" : "off");
        if (ls)
                g_string_append_printf(s, ", link %s", ls);
        if (vf->min_tx_rate || vf->max_tx_rate)
                g_string_append_printf(s, ", tx rate %u-%u Mbit/s", vf->min_tx_rate,
                                       vf->max_tx_rate);
        return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- hostdev sriov-vf */

static gboolean parse_on_off(const char *opt, const char *v, gboolean *out, GError **error)
{
        if (g_strcmp0(v, "on") == 0 || g_strcmp0(v, "yes") == 0)
                *out = TRUE;
        else if (g_strcmp0(v, "off") == 0 || g_strcmp0(v, "no") == 0)
                *out = FALSE;
        else {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "%s %s: use on or off", opt,
                            v);
                return FALSE;
        }
        return TRUE;
}

static gboolean parse_uint(const char *opt, const char *v, guint max, guint *out, GError **error)
{
        gint64 n;

        if (!hd_parse_int(v, 0, max, &n)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s %s: give a number from 0 to %u", opt, v, max);
                return FALSE;
        }
        *out = (guint)n;
        return TRUE;
}

typedef struct {
        char *mac, *vlan, *qos, *proto, *spoofchk, *trust, *link_state, *min_rate, *max_rate;
} VfArgs;

static void vf_args_clear(VfArgs *a)
{
        g_free(a->mac);
        g_free(a->vlan);
        g_free(a->qos);
        g_free(a->proto);
        g_free(a->spoofchk);
        g_free(a->trust);
        g_free(a->link_state);
        g_free(a->min_rate);
        g_free(a->max_rate);
}

/* The settings the options ask for (the other TX rate from @cur when one is given). */
static gboolean build_settings(const VfArgs *a, const HdVfNet *cur, HdVfNetSettings *s,
                               GError **error)
{
        memset(s, 0, sizeof(*s));
        if (a->mac) {
                s->has_mac = TRUE;
                if (strcmp(a->mac, "clear") == 0)
                        s->clear_mac = TRUE;
                else if (!hd_vf_net_parse_mac(a->mac, s->mac)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--mac %s: give a MAC as 52:54:00:12:34:56, or clear", a->mac);
                        return FALSE;
                }
        }
        if (a->vlan) {
                s->has_vlan = TRUE;
                if (!parse_uint("--vlan", a->vlan, G_MAXUINT16, &s->vlan, error) ||
                    (a->qos && !parse_uint("--qos", a->qos, G_MAXUINT16, &s->qos, error)))
                        return FALSE;
                if (a->proto) {
                        if (g_ascii_strcasecmp(a->proto, "802.1q") == 0)
                                s->vlan_proto = HD_VLAN_PROTO_8021Q;
                        else if (g_ascii_strcasecmp(a->proto, "802.1ad") == 0)
                                s->vlan_proto = HD_VLAN_PROTO_8021AD;
                        else {
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "--vlan-proto %s: use 802.1Q or 802.1ad", a->proto);
                                return FALSE;
                        }
                }
        }
        if (a->spoofchk) {
                s->has_spoofchk = TRUE;
                if (!parse_on_off("--spoofchk", a->spoofchk, &s->spoofchk, error))
                        return FALSE;
        }
        if (a->trust) {
                s->has_trust = TRUE;
                if (!parse_on_off("--trust", a->trust, &s->trust, error))
                        return FALSE;
        }
        if (a->link_state) {
                s->has_link_state = TRUE;
                if (!hd_vf_link_state_from_string(a->link_state, &s->link_state)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--link-state %s: use auto (follow the PF), enable or "
                                    "disable",
                                    a->link_state);
                        return FALSE;
                }
        }
        if (a->min_rate || a->max_rate) {
                s->has_rate = TRUE;
                s->min_tx_rate = cur ? cur->min_tx_rate : 0;
                s->max_tx_rate = cur ? cur->max_tx_rate : 0;
                if ((a->min_rate && !parse_uint("--min-tx-rate", a->min_rate, G_MAXUINT32,
                                                &s->min_tx_rate, error)) ||
                    (a->max_rate && !parse_uint("--max-tx-rate", a->max_rate, G_MAXUINT32,
                                                &s->max_tx_rate, error)))
                        return FALSE;
        }
        return TRUE;
}

static gboolean any_setting(const VfArgs *a)
{
        return a->mac || a->vlan || a->spoofchk || a->trust || a->link_state || a->min_rate ||
               a->max_rate;
}

/* PF and index from "VF_ADDRESS" or "PF_ADDRESS INDEX"; the VF's address when it exists. */
static gboolean resolve_target(HdCli *cli, HdCtx *ctx, int argc, char **argv, HdAddress *pf,
                               guint *index, char *vf_name, GError **error)
{
        g_autoptr(GArray) one = NULL;
        char *sub[] = {argv[0], argv[1], NULL};
        const HdAddress *a;

        vf_name[0] = '\0';
        one = cli_resolve_devices(cli, 2, sub, FALSE, "hostdev sriov-vf", error);
        if (!one)
                return FALSE;
        a = &g_array_index(one, HdAddress, 0);
        if (argc == 2) {
                if (!hd_vf_net_resolve_vf(ctx, a, pf, index, error))
                        return FALSE;
                hd_address_format(a, vf_name);
                return TRUE;
        }
        {
                g_autoptr(HdDevice) dev = hd_device_load(ctx, a, HD_FIELD_SRIOV, error);
                gint64 n;
                if (!dev)
                        return FALSE;
                if (dev->physfn) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%s is a VF of %s: name a VF by its own address (hostdev "
                                    "sriov-vf %s) or by its PF and index (hostdev sriov-vf %s N)",
                                    dev->name, dev->physfn, dev->name, dev->physfn);
                        return FALSE;
                }
                if (dev->sriov_totalvfs < 0) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%s is not an SR-IOV physical function (it has no "
                                    "sriov_totalvfs); hostdev list --json shows "
                                    "sriov_totalvfs for those that are",
                                    dev->name);
                        return FALSE;
                }
                if (!hd_parse_int(argv[2], 0, 65535, &n)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "VF index '%s' is not a number from 0 to %d", argv[2],
                                    MAX(dev->sriov_numvfs - 1, 0));
                        return FALSE;
                }
                *pf = *a;
                *index = (guint)n;
                if ((gint64)dev->virtfns->len > n) {
                        g_autoptr(GHashTable) idx =
                            hd_sriov_vf_indexes(ctx, dev->name, dev->sriov_numvfs);
                        GHashTableIter it;
                        gpointer k, v;
                        g_hash_table_iter_init(&it, idx);
                        while (g_hash_table_iter_next(&it, &k, &v))
                                if (GPOINTER_TO_INT(v) - 1 == (int)n)
                                        g_strlcpy(vf_name, k, HD_ADDRESS_STRLEN);
                }
        }
        return TRUE;
}

int cmd_sriov_vf(HdCli *cli, int argc, char **argv)
{
        VfArgs a = {0};
        gboolean dry_run = FALSE, save = FALSE, restore = FALSE;
        const GOptionEntry entries[] = {
            {"mac", 0, 0, G_OPTION_ARG_STRING, &a.mac,
             "The VF's administrative MAC (unicast), or clear (00:00:00:00:00:00: the "
             "VF's driver picks one)",
             "MAC|clear"},
            {"vlan", 0, 0, G_OPTION_ARG_STRING, &a.vlan,
             "The VLAN the PF tags the VF's traffic with, 1-4095; 0: none", "N"},
            {"qos", 0, 0, G_OPTION_ARG_STRING, &a.qos, "With --vlan: the 802.1p priority, 0-7",
             "Q"},
            {"vlan-proto", 0, 0, G_OPTION_ARG_STRING, &a.proto,
             "With --vlan: 802.1Q (default) or 802.1ad (QinQ)", "PROTO"},
            {"spoofchk", 0, 0, G_OPTION_ARG_STRING, &a.spoofchk,
             "Drop frames the VF sends from another MAC: on or off", "on|off"},
            {"trust", 0, 0, G_OPTION_ARG_STRING, &a.trust,
             "Let the VF change its MAC and enter promiscuous mode: on or off", "on|off"},
            {"link-state", 0, 0, G_OPTION_ARG_STRING, &a.link_state,
             "The VF's link: auto (the PF's), enable (always up) or disable", "STATE"},
            {"min-tx-rate", 0, 0, G_OPTION_ARG_STRING, &a.min_rate,
             "Guaranteed TX rate in Mbit/s (0: none)", "MBPS"},
            {"max-tx-rate", 0, 0, G_OPTION_ARG_STRING, &a.max_rate,
             "TX rate limit in Mbit/s (0: none)", "MBPS"},
            {"save", 0, 0, G_OPTION_ARG_NONE, &save,
             "Before giving the VF to a VM: save its settings (var/lib/hostdev/vf-net/), "
             "then apply the settings given for the VM",
             NULL},
            {"restore", 0, 0, G_OPTION_ARG_NONE, &restore,
             "After the VF is back from a VM: set the saved settings again and forget "
             "them",
             NULL},
            {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
             "Check and print the changes it would make, change nothing", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = cli_option_context(
            cli, "VF_ADDRESS | PF_ADDRESS INDEX",
            "Show or set the network settings of an SR-IOV NIC's virtual function, which its "
            "PF's driver enforces (ip link set PF vf N ...): MAC, VLAN and QoS, spoof check, "
            "trust, link state, TX rates. Each setting is one netlink request; when the "
            "driver refuses one, those set before it are set back. --save and --restore "
            "keep the host's settings across a VM, as libvirt does.",
            "hostdev sriov-vf 0000:18:00.0 2 --mac 52:54:00:12:34:56 --vlan 100", entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVfNetInfo) info = NULL;
        HdVfNetSettings s;
        const HdVfNet *cur;
        HdAddress pf, vf_addr;
        char pf_name[HD_ADDRESS_STRLEN], vf_name[HD_ADDRESS_STRLEN];
        guint index, changed = 0;
        HdCtx *ctx;
        int r = HD_EXIT_OK;

        if (!cli_parse_options(cli, octx, &argc, &argv)) {
                vf_args_clear(&a);
                return HD_EXIT_USAGE;
        }
        if (argc != 2 && argc != 3) {
                r = cli_usage_error(cli, "sriov-vf takes a VF's address, or its PF's address and "
                                         "the VF's index");
                goto out;
        }
        if ((a.qos || a.proto) && !a.vlan) {
                r = cli_usage_error(cli, "--qos and --vlan-proto go with --vlan");
                goto out;
        }
        if (restore && (save || any_setting(&a))) {
                r = cli_usage_error(cli, "--restore sets the saved settings: it takes no other "
                                         "settings and no --save");
                goto out;
        }
        if (!(ctx = cli_open_ctx(cli, &error)) ||
            !resolve_target(cli, ctx, argc, argv, &pf, &index, vf_name, &error)) {
                r = cli_report_error(cli, error);
                goto out;
        }
        hd_address_format(&pf, pf_name);
        hd_ctx_set_dry_run(ctx, dry_run);
        if ((save || restore) && !vf_name[0]) {
                g_set_error(&error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s has no VF %u (hostdev sriov %s lists them)", pf_name, index,
                            pf_name);
                r = cli_report_error(cli, error);
                goto out;
        }
        if (vf_name[0] && !hd_address_parse_sysfs_name(vf_name, &vf_addr))
                vf_name[0] = '\0';
        if (!(info = hd_vf_net_read(ctx, &pf, &error))) {
                r = cli_report_error(cli, error);
                goto out;
        }
        cur = hd_vf_net_info_get(info, index);
        if (!build_settings(&a, cur, &s, &error)) {
                r = cli_report_error(cli, error);
                goto out;
        }
        if (restore) {
                if (!hd_vf_net_restore(ctx, &vf_addr, &error)) {
                        r = cli_report_error(cli, error);
                        goto out;
                }
        } else if (save) {
                if (!hd_vf_net_save(ctx, &vf_addr, any_setting(&a) ? &s : NULL, &error)) {
                        r = cli_report_error(cli, error);
                        goto out;
                }
        } else if (any_setting(&a)) {
                if (!hd_vf_net_set(ctx, &pf, index, &s, &changed, &error)) {
                        r = cli_report_error(cli, error);
                        goto out;
                }
        } else if (!cur && index >= info->vfs->len) {
                g_set_error(&error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s (%s) reports no VF %u (it reports %u); hostdev sriov %s lists "
                            "its VFs",
                            pf_name, info->netdev, index, info->vfs->len, pf_name);
                r = cli_report_error(cli, error);
                goto out;
        }
        /* what the PF says now */
        if (!dry_run && (save || restore || any_setting(&a))) {
                hd_vf_net_info_free(g_steal_pointer(&info));
                if (!(info = hd_vf_net_read(ctx, &pf, &error))) {
                        r = cli_report_error(cli, error);
                        goto out;
                }
                cur = hd_vf_net_info_get(info, index);
        }
        if (cli->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                hd_json_add_vf_net_state(b, ctx, &pf, info->netdev, index,
                                         vf_name[0] ? vf_name : NULL, cur);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, dry_run);
                hd_json_add_write_log(b, ctx);
                json_builder_end_object(b);
                cli_print_json(b);
                goto out;
        }
        if (restore)
                cli_print("%s VF %u (%s): %s\n", pf_name, index, info->netdev,
                          dry_run ? "would restore the saved settings" : "saved settings restored");
        else if (save)
                cli_print("%s VF %u (%s): %s\n", pf_name, index, info->netdev,
                          dry_run ? "would save its settings" : "settings saved");
        else if (any_setting(&a) && !dry_run)
                cli_print("%s VF %u (%s): %u setting%s changed\n", pf_name, index, info->netdev,
                          changed, changed == 1 ? "" : "s");
        if (cur) {
                g_autofree char *text = cli_sriov_vf_net_text(cur);
                cli_print("%s VF %u%s%s%s: %s\n", info->netdev, index, vf_name[0] ? " (" : "",
                          vf_name, vf_name[0] ? ")" : "", text);
        }
        if (dry_run)
                cli_print_write_log(ctx, "Would make these changes, in order (nothing was "
                                         "changed):");
        else if (cli->verbose)
                cli_print_write_log(ctx, "Changes made, in order:");
out:
        vf_args_clear(&a);
        return r;
}
