/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMs with host devices in the engine: their request bodies (body-vms.c) and the engine side of
 * their lifecycle (api-vms.c: the /v1/vms handlers, the agent calls of start / stop / destroy,
 * the reconcile with the agents' GET /v1/vms). The rules (pinning, placeholders, the start
 * reservation, the state machine) are the store's: store.h, "VMs".
 *
 * A VM is defined on its host's agent under its engine id (a UUID: stable across renames, never
 * a name an admin gave a domain of their own), with its requested devices only: placeholders
 * never reach the agent, they reserve their group in the engine.
 */
#pragma once

#include "engine.h"

/* POST /v1/vms (name required; memory_mib 16..16777216, default 1024; vcpus 1..1024, default
 * 1) and PATCH /v1/vms/{id} (every member optional, at least one). */
typedef struct {
        char *name;
        gint64 memory_mib;    /* 0: not given */
        gint64 vcpus;         /* 0: not given */
        char *mdev_placement; /* PATCH only: "compact" or "separate"; NULL: not given */
} HdVmBody;
gboolean hd_engine_body_vm(JsonObject *o, gboolean create, HdVmBody *out, GError **error);
void hd_vm_body_clear(HdVmBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdVmBody, hd_vm_body_clear)

/* POST /v1/vms/{id}/devices {host_id, addresses: [1..64 PCI addresses]}; the addresses
 * normalized to lower case DDDD:BB:DD.F. */
typedef struct {
        char *host_id;
        GStrv addresses;
} HdVmDevicesBody;
gboolean hd_engine_body_vm_devices(JsonObject *o, HdVmDevicesBody *out, GError **error);
void hd_vm_devices_body_clear(HdVmDevicesBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdVmDevicesBody, hd_vm_devices_body_clear)

/* POST /v1/vms/{id}/mdevs {host_id, type, display (default true)}: a mediated device of an
 * mdev type of the host (1 to 64 of A-Z a-z 0-9 _ . : -). */
typedef struct {
        char *host_id;
        char *type;
        gboolean display;
} HdVmMdevBody;
gboolean hd_engine_body_vm_mdev(JsonObject *o, HdVmMdevBody *out, GError **error);
void hd_vm_mdev_body_clear(HdVmMdevBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdVmMdevBody, hd_vm_mdev_body_clear)

/* POST /v1/vms/{id}/usb {host_id, spec, force (default false)}: @spec checked with
 * libhostdev's grammar (hd_usb_spec_parse: vendor:product[:serial] or a port path, never a
 * device number) and kept in its canonical text. */
typedef struct {
        char *host_id;
        char *spec;
        gboolean force;
} HdVmUsbBody;
gboolean hd_engine_body_vm_usb(JsonObject *o, HdVmUsbBody *out, GError **error);
void hd_vm_usb_body_clear(HdVmUsbBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdVmUsbBody, hd_vm_usb_body_clear)

/* POST /v1/vms/{id}/scsi {host_id, wwid, shareable, readonly, force (default false)}: @wwid
 * checked with libhostdev's grammar (hd_scsi_spec_parse) and kept canonical: a WWID
 * (naa./eui./t10./name.) or /dev/disk/by-id/NAME; an H:C:T:L is refused (it changes at
 * reboot). */
typedef struct {
        char *host_id;
        char *wwid;
        gboolean shareable, readonly, force;
} HdVmScsiBody;
gboolean hd_engine_body_vm_scsi(JsonObject *o, HdVmScsiBody *out, GError **error);
void hd_vm_scsi_body_clear(HdVmScsiBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdVmScsiBody, hd_vm_scsi_body_clear)

/* POST /v1/vms/{id}/vhost-scsi {host_id, wwpn}: @wwpn checked with libhostdev's
 * hd_vhost_wwpn_valid ("naa." and 16 hex digits, any case) and kept as the agent keeps it:
 * "naa." in lower case, the digits as given. */
typedef struct {
        char *host_id;
        char *wwpn;
} HdVmVhostBody;
gboolean hd_engine_body_vm_vhost(JsonObject *o, HdVmVhostBody *out, GError **error);
void hd_vm_vhost_body_clear(HdVmVhostBody *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdVmVhostBody, hd_vm_vhost_body_clear)

/* A PCI address DDDD:BB:DD.F (any case) into @out in lower case; FALSE when it is not one. */
gboolean hd_engine_pci_address(const char *in, char out[13]);

/* The sync's hook (HdSyncConfig.host_synced, @user_data the HdEngine): the host came up or its
 * device generation moved: reconcile its VMs with its agent's GET /v1/vms. */
void hd_engine_vms_host_synced(const char *host_id, gpointer user_data);
/* Ask the host's agent to remove each of the host's mdev leftovers (api-mdev-leftover.c): a
 * row goes when the agent removed the mdev or has none, else it keeps the failure. Called when
 * a VM or an mdev let go of them (@now) and at every sync of the host (FALSE: those not tried
 * in the last seconds). */
void hd_engine_mdev_leftovers_retry(HdEngine *e, const char *host_id, gboolean now);
/* How often leftovers are tried (main.c's timer runs the tick at this period). */
#define HD_ENGINE_MDEV_LEFTOVER_SECONDS 5
/* The timer: hd_engine_mdev_leftovers_retry(FALSE) on every host up or in maintenance with
 * leftovers. G_SOURCE_CONTINUE. */
gboolean hd_engine_mdev_leftovers_tick(gpointer data);
