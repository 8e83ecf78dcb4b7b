/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON object of a SCSI LUN (scsi.h) that `hostdev scsi list|show --json` print; field
 * names are a contract (docs/json.md, "SCSI LUNs"): add fields, never rename or retype them.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "npiv.h"
#include "scsi.h"
#include "vhost.h"

/* One LUN object: hctl, type, type_name, vendor, model, rev, state, wwid, sg, block,
 * partitions, by_id, scsi_host, proc_name, unique_id, pci_address, iommu_group, host_use,
 * holders, held_by, root_filesystem, verdict, reason, warnings. */
void hd_json_add_scsi_device(JsonBuilder *b, const HdScsiDevice *dev);

/* One LUN of a guest configuration answer (`hostdev scsi xml|qemu-args --json` "luns", GET
 * /v1/scsi/{wwid}/xml): spec (@spec, what the caller named it by), hctl, wwid, sg, warnings
 * (@warnings, char*: hd_scsi_guest_warnings()). */
void hd_json_add_scsi_guest_lun(JsonBuilder *b, const char *spec, const HdScsiDevice *dev,
                                GPtrArray *warnings);

/* The members of `hostdev npiv list --json` (and GET /v1/npiv) into an open object:
 * "fc_hosts" (@hosts, HdFcHost*, with the LUNs of @luns on each), "vports" (@vports,
 * HdFcVport*) and "recorded" (@records, HdNpivRecord*). */
void hd_json_add_npiv_list(JsonBuilder *b, GPtrArray *hosts, GPtrArray *vports, GPtrArray *luns,
                           GPtrArray *records);

/* One FC host object (`hostdev npiv list --json`): host, port_name, node_name, port_state,
 * port_type, max_npiv_vports, npiv_vports_inuse, vport_create, proc_name, pci_address, vport,
 * parent, luns (the H:C:T:L of the LUNs of @luns, HdScsiDevice*, on this host; may be NULL). */
void hd_json_add_fc_host(JsonBuilder *b, const HdFcHost *host, GPtrArray *luns);

/* One vport object: name, parent, host, port_name, node_name, vport_state, vport_type, roles. */
void hd_json_add_fc_vport(JsonBuilder *b, const HdFcVport *vport);

/* One recorded vport: port_name, node_name, parent_port_name, parent (null: absent), vport
 * (null: missing now). */
void hd_json_add_npiv_record(JsonBuilder *b, const HdNpivRecord *record);

/* One vhost-scsi target (`hostdev vhost-scsi list --json` "targets", GET /v1/vhost-scsi):
 * wwpn, tpgt (null: no TPG), nexus (null: none), luns, ready, reason (null when ready). */
void hd_json_add_vhost_target(JsonBuilder *b, const HdVhostTarget *target);
