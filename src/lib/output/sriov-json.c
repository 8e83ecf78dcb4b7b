/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SR-IOV JSON objects (sriov-json.h), shared by the CLI and the agent. */
#include "config.h"

#include "fileio.h"
#include "hd-error.h"
#include "json-export.h"
#include "macros.h"
#include "sriov-json.h"
#include "sriov-persist.h"
#include "usage.h"

HdVfNetInfo *hd_sriov_vf_net_read(HdCtx *ctx, const char *pf_name, char **problem)
{
        g_autoptr(GError) error = NULL;
        HdVfNetInfo *info;
        HdAddress a;

        *problem = NULL;
        if (!hd_address_parse_sysfs_name(pf_name, &a))
                return NULL;
        info = hd_vf_net_read(ctx, &a, &error);
        if (!info && !g_error_matches(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED))
                *problem = g_strdup(error->message);
        return info; /* NULL and no problem: not a NIC, nothing to show */
}

GHashTable *hd_sriov_vf_indexes(HdCtx *ctx, const char *pf_name, int numvfs)
{
        GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        int dfd = hd_ctx_open_device_dir(ctx, pf_name);

        for (int i = 0; dfd >= 0 && i < numvfs; i++) {
                char link[32], buf[HD_ADDRESS_STRLEN];
                g_snprintf(link, sizeof(link), "virtfn%d", i);
                if (hd_readlink_basename_buf_at(dfd, link, buf, sizeof(buf)) > 0)
                        g_hash_table_insert(t, g_strdup(buf), GINT_TO_POINTER(i + 1));
        }
        if (dfd >= 0)
                hd_close_fdp(&dfd);
        return t;
}

int hd_sriov_vf_index(GHashTable *indexes, const char *vf)
{
        return GPOINTER_TO_INT(g_hash_table_lookup(indexes, vf)) - 1;
}

void hd_json_add_vf_net(JsonBuilder *b, const char *member, const HdVfNet *vf)
{
        char mac[18];
        const char *ls;

        json_builder_set_member_name(b, member);
        if (!vf) {
                json_builder_add_null_value(b);
                return;
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "mac");
        if (vf->has_mac)
                json_builder_add_string_value(b, hd_vf_net_format_mac(vf->mac, mac));
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "vlan");
        json_builder_add_int_value(b, vf->vlan);
        json_builder_set_member_name(b, "qos");
        json_builder_add_int_value(b, vf->qos);
        json_builder_set_member_name(b, "vlan_proto");
        json_builder_add_string_value(b, vf->vlan_proto == HD_VLAN_PROTO_8021AD ? "802.1ad"
                                                                                : "802.1Q");
        hd_json_add_tristate(b, "spoofchk", vf->spoofchk);
        hd_json_add_tristate(b, "trust", vf->trust);
        json_builder_set_member_name(b, "link_state");
        if ((ls = hd_vf_link_state_to_string(vf->link_state)))
                json_builder_add_string_value(b, ls);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "min_tx_rate");
        json_builder_add_int_value(b, vf->min_tx_rate);
        json_builder_set_member_name(b, "max_tx_rate");
        json_builder_add_int_value(b, vf->max_tx_rate);
        json_builder_end_object(b);
}

void hd_json_add_vf_net_state(JsonBuilder *b, HdCtx *ctx, const HdAddress *pf, const char *netdev,
                              guint index, const char *vf_name, const HdVfNet *cur)
{
        g_autofree char *saved = hd_vf_net_saved_path(pf, index);
        char pf_name[HD_ADDRESS_STRLEN];

        hd_json_add_string_or_null(b, "pf", hd_address_format(pf, pf_name));
        hd_json_add_string_or_null(b, "netdev", netdev);
        json_builder_set_member_name(b, "index");
        json_builder_add_int_value(b, index);
        hd_json_add_string_or_null(b, "address", vf_name);
        hd_json_add_vf_net(b, "net", cur);
        json_builder_set_member_name(b, "saved");
        json_builder_add_boolean_value(b, hd_exists_at(hd_ctx_get_root_fd(ctx), saved, TRUE));
}

/* A PF attribute below the root, as the kernel prints it ("8086:1889"-like hex), NULL when
 * absent. */
static char *pf_attr(HdCtx *ctx, const char *pf, const char *name)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/devices/%s/%s", pf, name);
        char *v = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);

        return v ? g_strstrip(v) : NULL;
}

void hd_json_add_sriov_pf(JsonBuilder *b, HdCtx *ctx, const HdSriovPf *pf)
{
        g_autoptr(HdSriovPersistEntry) boot = hd_sriov_persist_get(ctx, pf->name);
        g_autofree char *vf_device = pf_attr(ctx, pf->name, "sriov_vf_device");
        g_autofree char *net_problem = NULL;
        g_autoptr(HdVfNetInfo) net = hd_sriov_vf_net_read(ctx, pf->name, &net_problem);
        g_autoptr(GHashTable) indexes = hd_sriov_vf_indexes(ctx, pf->name, pf->numvfs);

        hd_json_add_string_or_null(b, "pf", pf->name);
        hd_json_add_string_or_null(b, "driver", pf->driver);
        json_builder_set_member_name(b, "totalvfs");
        json_builder_add_int_value(b, pf->totalvfs);
        json_builder_set_member_name(b, "numvfs");
        json_builder_add_int_value(b, pf->numvfs);
        hd_json_add_string_or_null(b, "vf_device_id", vf_device);
        hd_json_add_tristate(b, "drivers_autoprobe", pf->autoprobe);
        json_builder_set_member_name(b, "at_boot");
        if (boot) {
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "numvfs");
                json_builder_add_int_value(b, boot->numvfs);
                hd_json_add_tristate(b, "drivers_autoprobe", boot->autoprobe);
                hd_json_add_string_or_null(b, "not_applied", boot->not_applied);
                json_builder_end_object(b);
        } else {
                json_builder_add_null_value(b);
        }
        hd_json_add_string_or_null(b, "netdev", net ? net->netdev : NULL);
        hd_json_add_string_or_null(b, "vf_net_error", net_problem);
        json_builder_set_member_name(b, "vfs");
        json_builder_begin_array(b);
        for (guint i = 0; i < pf->vfs->len; i++) {
                const HdDevice *vf = pf->vfs->pdata[i];
                g_autoptr(GPtrArray) uses = hd_usage_describe(ctx, vf);
                int idx = hd_sriov_vf_index(indexes, vf->name);

                json_builder_begin_object(b);
                hd_json_add_string_or_null(b, "address", vf->name);
                hd_json_add_string_or_null(b, "driver", vf->driver);
                hd_json_add_int_or_null(b, "iommu_group", vf->iommu_group);
                hd_json_add_string_list(b, "netdevs", vf->netdevs);
                hd_json_add_string_list(b, "host_use", uses);
                hd_json_add_int_or_null(b, "index", idx);
                hd_json_add_vf_net(b, "net",
                                   net && idx >= 0 ? hd_vf_net_info_get(net, (guint)idx) : NULL);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

void hd_json_add_sriov_report(JsonBuilder *b, HdCtx *ctx, const HdSriovReport *r, gboolean dry_run,
                              gboolean persisted)
{
        hd_json_add_string_or_null(b, "pf", r->pf);
        json_builder_set_member_name(b, "changed");
        json_builder_add_boolean_value(b, r->changed);
        json_builder_set_member_name(b, "dry_run");
        json_builder_add_boolean_value(b, dry_run);
        json_builder_set_member_name(b, "numvfs_before");
        json_builder_add_int_value(b, r->numvfs_before);
        json_builder_set_member_name(b, "numvfs");
        json_builder_add_int_value(b, r->numvfs_after);
        hd_json_add_tristate(b, "drivers_autoprobe_before", r->autoprobe_before);
        hd_json_add_tristate(b, "drivers_autoprobe", r->autoprobe_after);
        hd_json_add_string_list(b, "removed", r->removed);
        json_builder_set_member_name(b, "vfs");
        json_builder_begin_array(b);
        for (guint i = 0; i < r->created->len; i++) {
                const HdDevice *vf = r->created->pdata[i];

                json_builder_begin_object(b);
                hd_json_add_string_or_null(b, "address", vf->name);
                hd_json_add_string_or_null(b, "driver", vf->driver);
                hd_json_add_int_or_null(b, "iommu_group", vf->iommu_group);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "persisted");
        json_builder_add_boolean_value(b, persisted);
        hd_json_add_write_log(b, ctx);
}
