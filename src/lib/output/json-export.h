/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stable JSON objects that the CLI prints with --json and the agent serves. Field names
 * are a contract with scripts and other tools: add fields, never rename or retype them.
 * docs/json.md documents every field.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "bind.h"
#include "cmdline.h"
#include "ctx.h"
#include "device.h"
#include "group.h"
#include "host.h"
#include "inventory.h"
#include "vfio.h"
#include "json-writer.h"

/* One device object: the `hostdev list --json` fields, and with @detail the rest that
 * `hostdev show --json` prints (fields that were not loaded are left out, not null). */
void hd_json_add_device(JsonBuilder *b, const HdDevice *dev, gboolean detail);

/* What the host does with @dev now (loaded with HD_FIELDS_ALL), as members of the device
 * object @obj of `show --json` and GET /v1/devices/ADDR (docs/json.md): "host_use" (the
 * sentences of hd_usage_describe()), "network_use" (per interface that is in use: the chain
 * of interfaces stacked on it to the one that carries the use), "gpu_clients" (processes
 * holding its device nodes) and "framebuffer" (the console's, or null). */
void hd_json_set_host_use(JsonObject *obj, HdCtx *ctx, const HdDevice *dev);
/* The rest of `hostdev show --json` and the agent's device answer (docs/json.md): the kernel
 * modules that could drive @dev (modalias.h), its capability lists, its reset warning
 * (reset.h). @dev loaded with HD_FIELDS_ALL. */
void hd_json_set_device_extras(JsonObject *obj, HdCtx *ctx, const HdDevice *dev);

/* The same objects written to any HdJsonWriter (a stream for `list --json`, see json-writer.h). */
void hd_json_write_device(HdJsonWriter *w, const HdDevice *dev, gboolean detail);
void hd_json_write_group(HdJsonWriter *w, const HdGroup *group);

/* One group object: group, devices, bridges, viable, verdict, verdict_code, shared_reason. */
void hd_json_add_group(JsonBuilder *b, const HdGroup *group);

/* A string member, null when @value is NULL. */
void hd_json_add_string_or_null(JsonBuilder *b, const char *name, const char *value);

/* An integer member, null when @value is negative (unknown, absent). */
void hd_json_add_int_or_null(JsonBuilder *b, const char *name, gint64 value);

/* A boolean member. */
void hd_json_add_bool(JsonBuilder *b, const char *name, gboolean value);

/* A boolean member from a tristate: null when @value is negative (unknown), else @value != 0. */
void hd_json_add_tristate(JsonBuilder *b, const char *name, int value);

/* An array-of-strings member; [] when @values is NULL. */
void hd_json_add_string_list(JsonBuilder *b, const char *name, GPtrArray *values);

/* The members of `hostdev check --json` (checks, passthrough_possible, interrupted_operations,
 * cpu_vendor, kernel_release: docs/json-check.md) into the object being built: the CLI prints
 * them, the agent's GET /v1/host answers them as "readiness". */
void hd_json_add_host_report(JsonBuilder *b, const HdHostReport *report);

/* Serialize a finished builder's root to a string, with or without indentation. */
char *hd_json_to_string(JsonBuilder *b, gboolean pretty);

/* The context's write log as a "writes" member: [{"op","path","value"}], paths absolute. */
void hd_json_add_write_log(JsonBuilder *b, HdCtx *ctx);

/* The members of a detach/attach answer, into an object the caller has begun: "devices",
 * "writes", "dry_run", "recovered", "persisted" (docs/json-bind.md). The CLI and the agent
 * both print this. */
void hd_json_add_bind_report(JsonBuilder *b, HdCtx *ctx, const HdBindReport *report);

/* The "changes" and "update" members of a kernel-args answer, into an object the caller has
 * begun (docs/json-check.md); `hostdev kernel-args --json` and the agent both print them. */
void hd_json_add_kernel_args_changes(JsonBuilder *b, const HdKernelArgs *args);

/* The answer of `hostdev verify` and POST .../verify: one object (docs/json-bind.md). */
void hd_json_add_vfio_info(JsonBuilder *b, const char *name, const HdVfioInfo *info);
