/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mediated device JSON objects, printed by `hostdev mdev types|list|create|remove --json`
 * and answered by the agent (GET /v1/mdev, POST /v1/mdev, POST /v1/mdev/{uuid}/remove): one
 * serializer for both (README "hostdev mdev", docs/json.md). Absent values are null.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ctx.h"
#include "mdev.h"

/* One parent: {"parent", "path", "pci", "driver", "types": [{"type", "name", "description",
 * "device_api", "available_instances", "instances": [UUID]}]}. */
void hd_json_add_mdev_parent(JsonBuilder *b, const HdMdevParent *parent);
/* One mdev: {"uuid", "parent", "type", "active", "defined", "start", "iommu_group", "driver",
 * "open", "held_by": ["PID (COMM)"]}. */
void hd_json_add_mdev(JsonBuilder *b, const HdMdev *mdev);
/* The members of a create (@parent and @type given) or remove answer, into an object the
 * caller has begun: "uuid", ["parent", "type",] "persistent", "dry_run", "writes". */
void hd_json_add_mdev_result(JsonBuilder *b, HdCtx *ctx, const char *uuid, const char *parent,
                             const char *type, gboolean persistent);
