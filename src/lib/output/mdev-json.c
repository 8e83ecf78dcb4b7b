/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mediated device JSON objects (mdev-json.h), shared by the CLI and the agent. */
#include "config.h"

#include "json-export.h"
#include "mdev-json.h"

void hd_json_add_mdev_parent(JsonBuilder *b, const HdMdevParent *p)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "parent", p->name);
        hd_json_add_string_or_null(b, "path", p->sysfs_path);
        hd_json_add_bool(b, "pci", p->is_pci);
        hd_json_add_string_or_null(b, "driver", p->driver);
        json_builder_set_member_name(b, "types");
        json_builder_begin_array(b);
        for (guint k = 0; k < p->types->len; k++) {
                const HdMdevType *t = p->types->pdata[k];

                json_builder_begin_object(b);
                hd_json_add_string_or_null(b, "type", t->id);
                hd_json_add_string_or_null(b, "name", t->name);
                hd_json_add_string_or_null(b, "description", t->description);
                hd_json_add_string_or_null(b, "device_api", t->device_api);
                hd_json_add_int_or_null(b, "available_instances", t->available);
                hd_json_add_string_list(b, "instances", t->instances);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
}

void hd_json_add_mdev(JsonBuilder *b, const HdMdev *m)
{
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "uuid", m->uuid);
        hd_json_add_string_or_null(b, "parent", m->parent);
        hd_json_add_string_or_null(b, "type", m->type);
        hd_json_add_bool(b, "active", m->active);
        hd_json_add_bool(b, "defined", m->defined);
        hd_json_add_string_or_null(b, "start", m->start);
        hd_json_add_int_or_null(b, "iommu_group", m->iommu_group);
        hd_json_add_string_or_null(b, "driver", m->driver);
        hd_json_add_bool(b, "open", m->holders->len > 0);
        hd_json_add_string_list(b, "held_by", m->holders);
        json_builder_end_object(b);
}

void hd_json_add_mdev_result(JsonBuilder *b, HdCtx *ctx, const char *uuid, const char *parent,
                             const char *type, gboolean persistent)
{
        hd_json_add_string_or_null(b, "uuid", uuid);
        if (parent || type) {
                hd_json_add_string_or_null(b, "parent", parent);
                hd_json_add_string_or_null(b, "type", type);
        }
        hd_json_add_bool(b, "persistent", persistent);
        hd_json_add_bool(b, "dry_run", hd_ctx_get_dry_run(ctx));
        hd_json_add_write_log(b, ctx);
}
