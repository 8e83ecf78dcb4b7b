/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "json-export.h"
#include "json-scsi.h"

void hd_json_add_scsi_guest_lun(JsonBuilder *b, const char *spec, const HdScsiDevice *dev,
                                GPtrArray *warnings)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "spec", spec);
        hd_json_add_string_or_null(b, "hctl", dev->name);
        hd_json_add_string_or_null(b, "wwid", dev->wwid);
        hd_json_add_string_or_null(b, "sg", dev->sg);
        hd_json_add_string_list(b, "warnings", warnings);
        json_builder_end_object(b);
}

void hd_json_add_scsi_device(JsonBuilder *b, const HdScsiDevice *dev)
{
        char buf[16];

        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "hctl", dev->name);
        hd_json_add_int_or_null(b, "type", dev->type);
        hd_json_add_string_or_null(b, "type_name", hd_scsi_type_name(dev->type, buf));
        hd_json_add_string_or_null(b, "vendor", dev->vendor);
        hd_json_add_string_or_null(b, "model", dev->model);
        hd_json_add_string_or_null(b, "rev", dev->rev);
        hd_json_add_string_or_null(b, "state", dev->state);
        hd_json_add_string_or_null(b, "wwid", dev->wwid);
        hd_json_add_string_or_null(b, "sg", dev->sg);
        hd_json_add_string_or_null(b, "block", dev->block);
        hd_json_add_string_list(b, "partitions", dev->partitions);
        hd_json_add_string_list(b, "by_id", dev->by_id);
        hd_json_add_string_or_null(b, "scsi_host", dev->host);
        hd_json_add_string_or_null(b, "proc_name", dev->proc_name);
        hd_json_add_int_or_null(b, "unique_id", dev->unique_id);
        hd_json_add_string_or_null(b, "pci_address", dev->pci);
        hd_json_add_int_or_null(b, "iommu_group", dev->iommu_group);
        hd_json_add_string_list(b, "host_use", dev->host_use);
        hd_json_add_string_list(b, "holders", dev->holders);
        hd_json_add_string_list(b, "held_by", dev->held_by);
        json_builder_set_member_name(b, "root_filesystem");
        json_builder_add_boolean_value(b, dev->root);
        hd_json_add_string_or_null(b, "verdict", hd_scsi_verdict_name(dev->verdict));
        hd_json_add_string_or_null(b, "reason", dev->reason);
        hd_json_add_string_list(b, "warnings", dev->warnings);
        json_builder_end_object(b);
}

void hd_json_add_fc_host(JsonBuilder *b, const HdFcHost *h, GPtrArray *luns)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "host", h->host);
        hd_json_add_string_or_null(b, "port_name", h->port_name);
        hd_json_add_string_or_null(b, "node_name", h->node_name);
        hd_json_add_string_or_null(b, "port_state", h->port_state);
        hd_json_add_string_or_null(b, "port_type", h->port_type);
        hd_json_add_int_or_null(b, "max_npiv_vports", h->max_npiv_vports);
        hd_json_add_int_or_null(b, "npiv_vports_inuse", h->npiv_vports_inuse);
        json_builder_set_member_name(b, "vport_create");
        json_builder_add_boolean_value(b, h->vport_create);
        hd_json_add_string_or_null(b, "proc_name", h->proc_name);
        hd_json_add_string_or_null(b, "pci_address", h->pci);
        hd_json_add_string_or_null(b, "vport", h->vport);
        hd_json_add_string_or_null(b, "parent", h->parent);
        json_builder_set_member_name(b, "luns");
        json_builder_begin_array(b);
        for (guint i = 0; luns && i < luns->len; i++) {
                const HdScsiDevice *d = luns->pdata[i];
                if (g_strcmp0(d->host, h->host) == 0)
                        json_builder_add_string_value(b, d->name);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
}

void hd_json_add_fc_vport(JsonBuilder *b, const HdFcVport *v)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "name", v->name);
        hd_json_add_string_or_null(b, "parent", v->parent);
        hd_json_add_string_or_null(b, "host", v->host);
        hd_json_add_string_or_null(b, "port_name", v->port_name);
        hd_json_add_string_or_null(b, "node_name", v->node_name);
        hd_json_add_string_or_null(b, "vport_state", v->vport_state);
        hd_json_add_string_or_null(b, "vport_type", v->vport_type);
        hd_json_add_string_or_null(b, "roles", v->roles);
        json_builder_end_object(b);
}

void hd_json_add_npiv_record(JsonBuilder *b, const HdNpivRecord *r)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "port_name", r->port_name);
        hd_json_add_string_or_null(b, "node_name", r->node_name);
        hd_json_add_string_or_null(b, "parent_port_name", r->parent_port_name);
        hd_json_add_string_or_null(b, "parent", r->parent);
        hd_json_add_string_or_null(b, "vport", r->vport);
        json_builder_end_object(b);
}

void hd_json_add_npiv_list(JsonBuilder *b, GPtrArray *hosts, GPtrArray *vports, GPtrArray *luns,
                           GPtrArray *records)
{
        json_builder_set_member_name(b, "fc_hosts");
        json_builder_begin_array(b);
        for (guint i = 0; i < hosts->len; i++)
                hd_json_add_fc_host(b, hosts->pdata[i], luns);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "vports");
        json_builder_begin_array(b);
        for (guint i = 0; i < vports->len; i++)
                hd_json_add_fc_vport(b, vports->pdata[i]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "recorded");
        json_builder_begin_array(b);
        for (guint i = 0; i < records->len; i++)
                hd_json_add_npiv_record(b, records->pdata[i]);
        json_builder_end_array(b);
}

void hd_json_add_vhost_target(JsonBuilder *b, const HdVhostTarget *t)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "wwpn", t->wwpn);
        hd_json_add_int_or_null(b, "tpgt", t->tpgt);
        hd_json_add_string_or_null(b, "nexus", t->nexus);
        hd_json_add_string_list(b, "luns", t->luns);
        hd_json_add_bool(b, "ready", t->ready);
        hd_json_add_string_or_null(b, "reason", t->reason);
        json_builder_end_object(b);
}
