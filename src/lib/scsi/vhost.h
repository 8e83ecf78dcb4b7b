/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhost-scsi targets: SCSI targets the host exports to guests through the kernel's LIO target
 * (configfs: sys/kernel/config/target/vhost/WWPN/tpgt_N with lun/lun_K linked to a backstore of
 * target/core, and a nexus), handed to QEMU as -device vhost-scsi-pci,wwpn=WWPN and to libvirt as
 * <hostdev type='scsi_host'><source protocol='vhost' wwpn='WWPN'/>. The WWPN is the target's own
 * name, stable by construction (whoever set the target up chose it).
 *
 * Ready when the vhost_scsi module is loaded, and a TPG of the target has a nexus and at least
 * one LUN; otherwise the reason says what to set up.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef struct {
        char *wwpn;       /* "naa.5001405000000001" */
        int tpgt;         /* the first TPG with a nexus and LUNs (else the first); -1 none */
        char *nexus;      /* the initiator WWPN of that TPG's nexus; NULL: none */
        GPtrArray *luns;  /* "lun_0: fileio_0/disk0 (/tmp/lun0.img)" */
        gboolean ready;
        char *reason;     /* why not ready; NULL when ready */
} HdVhostTarget;

void hd_vhost_target_free(HdVhostTarget *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdVhostTarget, hd_vhost_target_free)

/* TRUE when @wwpn has the form of a vhost target's WWPN: "naa." and 16 hex digits, any case
 * (tcm_vhost_make_tport). */
gboolean hd_vhost_wwpn_valid(const char *wwpn);

/* The vhost targets of configfs (HdVhostTarget*), by WWPN; empty when none (or configfs is not
 * mounted). */
GPtrArray *hd_vhost_list(HdCtx *ctx, GError **error);

/* The target named by @wwpn (naa. and 16 hex digits, any case); NULL with HD_ERROR_NOT_FOUND
 * (or HD_ERROR_INVALID_ARGUMENT for a malformed name). */
HdVhostTarget *hd_vhost_find(HdCtx *ctx, const char *wwpn, GError **error);

/* libvirt's element and QEMU's arguments ("-device", "vhost-scsi-pci,wwpn=...", NULL). */
char *hd_vhost_hostdev_xml(const HdVhostTarget *t, guint indent);
char **hd_vhost_qemu_args(const HdVhostTarget *t);
