/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "json-export.h"
#include "json-scsi.h"

static void add_string_or_null(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

static void add_int_or_null(JsonBuilder *b, const char *name, gint64 value)
{
        json_builder_set_member_name(b, name);
        if (value >= 0)
                json_builder_add_int_value(b, value);
        else
                json_builder_add_null_value(b);
}

void hd_json_add_scsi_guest_lun(JsonBuilder *b, const char *spec, const HdScsiDevice *dev,
                                GPtrArray *warnings)
{
        json_builder_begin_object(b);
        add_string_or_null(b, "spec", spec);
        add_string_or_null(b, "hctl", dev->name);
        add_string_or_null(b, "wwid", dev->wwid);
        add_string_or_null(b, "sg", dev->sg);
        hd_json_add_string_list(b, "warnings", warnings);
        json_builder_end_object(b);
}

void hd_json_add_scsi_device(JsonBuilder *b, const HdScsiDevice *dev)
{
        char buf[16];

        json_builder_begin_object(b);
        add_string_or_null(b, "hctl", dev->name);
        add_int_or_null(b, "type", dev->type);
        add_string_or_null(b, "type_name", hd_scsi_type_name(dev->type, buf));
        add_string_or_null(b, "vendor", dev->vendor);
        add_string_or_null(b, "model", dev->model);
        add_string_or_null(b, "rev", dev->rev);
        add_string_or_null(b, "state", dev->state);
        add_string_or_null(b, "wwid", dev->wwid);
        add_string_or_null(b, "sg", dev->sg);
        add_string_or_null(b, "block", dev->block);
        hd_json_add_string_list(b, "partitions", dev->partitions);
        hd_json_add_string_list(b, "by_id", dev->by_id);
        add_string_or_null(b, "scsi_host", dev->host);
        add_string_or_null(b, "proc_name", dev->proc_name);
        add_int_or_null(b, "unique_id", dev->unique_id);
        add_string_or_null(b, "pci_address", dev->pci);
        add_int_or_null(b, "iommu_group", dev->iommu_group);
        hd_json_add_string_list(b, "host_use", dev->host_use);
        hd_json_add_string_list(b, "holders", dev->holders);
        hd_json_add_string_list(b, "held_by", dev->held_by);
        json_builder_set_member_name(b, "root_filesystem");
        json_builder_add_boolean_value(b, dev->root);
        add_string_or_null(b, "verdict", hd_scsi_verdict_name(dev->verdict));
        add_string_or_null(b, "reason", dev->reason);
        hd_json_add_string_list(b, "warnings", dev->warnings);
        json_builder_end_object(b);
}

void hd_json_add_fc_host(JsonBuilder *b, const HdFcHost *h, GPtrArray *luns)
{
        json_builder_begin_object(b);
        add_string_or_null(b, "host", h->host);
        add_string_or_null(b, "port_name", h->port_name);
        add_string_or_null(b, "node_name", h->node_name);
        add_string_or_null(b, "port_state", h->port_state);
        add_string_or_null(b, "port_type", h->port_type);
        add_int_or_null(b, "max_npiv_vports", h->max_npiv_vports);
        add_int_or_null(b, "npiv_vports_inuse", h->npiv_vports_inuse);
        json_builder_set_member_name(b, "vport_create");
        json_builder_add_boolean_value(b, h->vport_create);
        add_string_or_null(b, "proc_name", h->proc_name);
        add_string_or_null(b, "pci_address", h->pci);
        add_string_or_null(b, "vport", h->vport);
        add_string_or_null(b, "parent", h->parent);
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
        add_string_or_null(b, "name", v->name);
        add_string_or_null(b, "parent", v->parent);
        add_string_or_null(b, "host", v->host);
        add_string_or_null(b, "port_name", v->port_name);
        add_string_or_null(b, "node_name", v->node_name);
        add_string_or_null(b, "vport_state", v->vport_state);
        add_string_or_null(b, "vport_type", v->vport_type);
        add_string_or_null(b, "roles", v->roles);
        json_builder_end_object(b);
}

void hd_json_add_npiv_record(JsonBuilder *b, const HdNpivRecord *r)
{
        json_builder_begin_object(b);
        add_string_or_null(b, "port_name", r->port_name);
        add_string_or_null(b, "node_name", r->node_name);
        add_string_or_null(b, "parent_port_name", r->parent_port_name);
        add_string_or_null(b, "parent", r->parent);
        add_string_or_null(b, "vport", r->vport);
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
