/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Request bodies: JSON in, validated C values out, with the reason in an HD_ERROR_INVALID_ARGUMENT
 * error (the agent answers it as 400). No HTTP here, so the libFuzzer target
 * (tests/fuzz/fuzz-agent-body.c) runs every parser on arbitrary bytes.
 *
 * Rules (a request is acted on only when it can mean one thing):
 * - the body is one JSON object (an empty body is {}), strictly RFC 8259
 *   (src/basic/json-strict.h, run before json-glib): no comments, single quotes, BOM, trailing
 *   commas, NaN/Infinity or leading zeros; valid UTF-8 only, no raw control characters, no lone
 *   surrogate escapes, no \u0000; nested at most HD_JSON_STRICT_DEPTH_DEFAULT deep;
 * - a member named twice in any object is refused, naming the member (json-glib would keep the
 *   last: {"dry_run": true, "dry_run": false} must not run a real detach);
 * - unknown members are refused, not ignored (a typo like "grup" must not silently detach one
 *   device instead of a group);
 * - every member has one type, and a member present with another type is refused; null
 *   included: null is not "not given" ("dry_run": null must not run a real detach). To take
 *   the default, leave the member out.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "hostdev.h"

JsonObject *hd_body_parse(const char *data, gsize len, GError **error);
gboolean hd_body_check_members(JsonObject *o, const char *const *allowed, GError **error);
gboolean hd_body_get_bool(JsonObject *o, const char *name, gboolean *out, GError **error);
gboolean hd_body_get_string(JsonObject *o, const char *name, const char **out, GError **error);
gboolean hd_body_get_uint(JsonObject *o, const char *name, guint64 *out, GError **error);
/* An array of strings; *out stays NULL when the member is absent. */
gboolean hd_body_get_strings(JsonObject *o, const char *name, GPtrArray **out, GError **error);

/* POST /v1/devices/{address}/detach|attach|verify */
typedef struct {
        gboolean group;
        gboolean dry_run;
        gboolean persist; /* detach */
        guint force;      /* true = 1; 0..2 */
        char *driver;     /* attach */
        gboolean keep_persist; /* attach */
} HdBindArgs;
gboolean hd_body_parse_bind(JsonObject *o, const char *action, HdBindArgs *out, GError **error);
void hd_bind_args_clear(HdBindArgs *a);

/* POST /v1/vms "usb": [{spec, force}] and "scsi": [{wwid, shareable, readonly, force}]
 * (docs/api/openapi.yaml): the specs checked and canonical (hd_usb_spec_format(); a WWID as
 * hd_scsi_spec_parse() gives it, a by-id name as /dev/disk/by-id/NAME). Never a device number
 * or an H:C:T:L: they change at replug and reboot. At most HD_VM_USBSCSI_MAX of each, no spec
 * twice. */
#define HD_VM_USBSCSI_MAX 16
#define HD_VM_VHOST_MAX 4
typedef struct {
        char *spec;
        gboolean force;
} HdVmUsbArg;
typedef struct {
        char *wwid;
        gboolean shareable, readonly, force;
} HdVmScsiArg;

/* POST /v1/vms */
typedef struct {
        char *name;
        char *disk_image;
        guint64 memory_mib;
        guint64 vcpus;
        gboolean viommu;
        GArray *hostdevs; /* HdAddress */
        GPtrArray *mdevs; /* char*: canonical mdev UUIDs (created by the caller, e.g. the engine) */
        GArray *usb;      /* HdVmUsbArg */
        GArray *scsi;     /* HdVmScsiArg */
        GPtrArray *vhost; /* char*: vhost-scsi target WWPNs ("vhost_scsi": [{"wwpn"}], at most
                           * HD_VM_VHOST_MAX, none twice in any case; "naa." lowercase) */
} HdVmArgs;
gboolean hd_body_parse_vm(JsonObject *o, HdVmArgs *out, GError **error);
void hd_vm_args_clear(HdVmArgs *a);

/* The image a VM may boot from: @path (absolute) with its symbolic links resolved, which must
 * name a file beneath @images_dir (resolved too), never the directory itself: a disk_image of
 * "/etc/shadow", "/var/lib/libvirt/images/../../x" or a link in the images directory that
 * points out of it is refused (INVALID_ARGUMENT, the agent's 400). The file need not exist,
 * its directory must. *@out: the resolved path, for libvirt. */
gboolean hd_disk_image_resolve(const char *images_dir, const char *path, char **out,
                               GError **error);

/* PUT /v1/kernel-args */
typedef struct {
        GPtrArray *enable, *disable, *custom, *remove;
        gboolean dry_run;
} HdKernelArgsBody;
gboolean hd_body_parse_kernel_args(JsonObject *o, HdKernelArgsBody *out, GError **error);
void hd_kernel_args_body_clear(HdKernelArgsBody *a);

/* POST /v1/devices/{pf}/sriov */
typedef struct {
        gboolean has_numvfs;
        guint numvfs;
        int autoprobe; /* -1: leave as it is */
        gboolean persist;
        gboolean dry_run;
        guint timeout_s; /* bound on a count write; 60 unless given (1..3600) */
} HdSriovBody;
gboolean hd_body_parse_sriov(JsonObject *o, HdSriovBody *out, GError **error);

/* POST /v1/mdev {parent, type, uuid, persist, dry_run} and POST /v1/mdev/{uuid}/remove
 * {persist, dry_run}: strings are checked here (a UUID in canonical form, parent and type
 * names without '/' and at most 255 bytes); the library resolves them against what the
 * kernel lists. */
typedef struct {
        char *parent;
        char *type;
        char *uuid;
        gboolean persist;
        gboolean dry_run;
} HdMdevBody;
gboolean hd_body_parse_mdev(JsonObject *o, gboolean create, HdMdevBody *out, GError **error);
void hd_mdev_body_clear(HdMdevBody *a);

/* POST /v1/npiv {parent, wwpn, wwnn, persist, dry_run} (create a vport) and POST
 * /v1/npiv/{name}/delete {force, dry_run}: the parent an FC host name ("host3" or "3"), the
 * WWNs as hd_npiv_wwn_parse() takes them (0: not given, the agent generates one). */
typedef struct {
        char *parent;
        guint64 wwpn, wwnn;
        gboolean persist;
        gboolean force;
        gboolean dry_run;
} HdNpivBody;
gboolean hd_body_parse_npiv(JsonObject *o, gboolean create, HdNpivBody *out, GError **error);
void hd_npiv_body_clear(HdNpivBody *a);

/* PUT /v1/devices/{vf}/vf-net {mac, vlan, qos, vlan_proto, spoofchk, trust, link_state,
 * min_tx_rate, max_tx_rate, dry_run}: at least one setting; "mac": "clear" clears the
 * administrative MAC; qos and vlan_proto only with vlan. A TX rate left out keeps its value
 * (has_min_rate/has_max_rate: the caller fills the other from what the PF reports). */
typedef struct {
        HdVfNetSettings s;
        gboolean has_min_rate, has_max_rate;
        gboolean dry_run;
} HdVfNetBody;
gboolean hd_body_parse_vf_net(JsonObject *o, HdVfNetBody *out, GError **error);
