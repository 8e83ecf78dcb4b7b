/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SR-IOV JSON objects, printed by `hostdev sriov --json` and `hostdev sriov-vf --json` and
 * answered by the agent (GET/POST /v1/devices/{pf}/sriov, /v1/devices/{vf}/vf-net): one
 * serializer for both, so the field names are one contract (docs/json.md, "hostdev sriov").
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ctx.h"
#include "sriov.h"
#include "vf-net.h"

/* The members of a PF object into an object the caller has begun: "pf", "driver", "totalvfs",
 * "numvfs", "vf_device_id", "drivers_autoprobe", "at_boot", "netdev", "vf_net_error" and
 * "vfs" (per VF: "address", "driver", "iommu_group", "netdevs", "host_use", "index", "net").
 * The VF network settings are read from the PF's netdev when it has one. */
void hd_json_add_sriov_pf(JsonBuilder *b, HdCtx *ctx, const HdSriovPf *pf);

/* The members of the answer of a VF count change (hd_sriov_set_numvfs()) into an object the
 * caller has begun: "pf", "changed", "dry_run", "numvfs_before", "numvfs",
 * "drivers_autoprobe_before", "drivers_autoprobe", "removed", "vfs", "persisted", "writes". */
void hd_json_add_sriov_report(JsonBuilder *b, HdCtx *ctx, const HdSriovReport *report,
                              gboolean dry_run, gboolean persisted);

/* One VF's network settings as the member @member: {"mac", "vlan", "qos", "vlan_proto",
 * "spoofchk", "trust", "link_state", "min_tx_rate", "max_tx_rate"}, null when @vf is NULL. */
void hd_json_add_vf_net(JsonBuilder *b, const char *member, const HdVfNet *vf);

/* The members of one VF's network settings answer (`hostdev sriov-vf --json`, GET and PUT
 * /v1/devices/{vf}/vf-net) into an object the caller has begun: "pf", "netdev", "index",
 * "address" (the VF's, null when @vf_name is NULL), "net" (@cur) and "saved" (settings saved
 * for a VM, hd_vf_net_save()). */
void hd_json_add_vf_net_state(JsonBuilder *b, HdCtx *ctx, const HdAddress *pf, const char *netdev,
                              guint index, const char *vf_name, const HdVfNet *cur);

/* The VF network settings of the PF @pf_name (NULL and no problem: a PF without a netdev,
 * which has none; NULL and *@problem: they could not be read). */
HdVfNetInfo *hd_sriov_vf_net_read(HdCtx *ctx, const char *pf_name, char **problem);
/* The VF index of each VF of @pf_name (virtfnN), as a table for hd_sriov_vf_index(). */
GHashTable *hd_sriov_vf_indexes(HdCtx *ctx, const char *pf_name, int numvfs);
/* The index of @vf in @indexes, -1 when not there. */
int hd_sriov_vf_index(GHashTable *indexes, const char *vf);
