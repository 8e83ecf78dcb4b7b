/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fibre Channel NPIV: virtual HBAs (vports) on an FC host adapter that supports them.
 *
 * An FC host (sys/class/fc_host/hostN) with a vport_create attribute can carry up to
 * max_npiv_vports virtual ports (npiv_vports_inuse in use). Writing "WWPN:WWNN" (16 hex digits
 * each) to vport_create makes a vport (sys/class/fc_vports/vport-N:0-K) and with it a new SCSI
 * host, the vHBA, whose LUNs the fabric zones to that WWPN: they appear in
 * sys/bus/scsi/devices like any other (scsi.h) once the port is online. Writing the same
 * string to vport_delete removes it. Vports are not kept across a reboot.
 *
 * Rules (hd_npiv_create()): the WWNs are 16 hex digits, not all zero, the WWPN different from
 * the WWNN and from every port and node name already on the host (a duplicate WWPN on a
 * fabric logs the other port out), the WWNN no port's name; the parent must have vport_create,
 * must not itself be a vport, and npiv_vports_inuse < max_npiv_vports. hd_npiv_delete() refuses
 * a vport whose LUNs the host or a VM uses, unless forced.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

/* One FC host adapter port, physical or a vport's vHBA. */
typedef struct {
        char *host;            /* "host3" */
        char *port_name;       /* as the kernel shows it: "0x21000024ff3dc9a0" */
        char *node_name;
        char *port_state;      /* "Online", "Offline", "Linkdown", ... */
        char *port_type;       /* "NPort (fabric via point-to-point)", "NPIV VPORT", ... */
        int max_npiv_vports;   /* -1 unknown */
        int npiv_vports_inuse; /* -1 unknown */
        gboolean vport_create; /* the vport_create attribute exists */
        char *proc_name;       /* the driver: "qla2xxx", "lpfc", "fcoe" */
        char *pci;             /* the PCI function it sits on; NULL when none */
        char *vport;           /* a vHBA: its vport ("vport-3:0-0"); NULL for a physical port */
        char *parent;          /* a vHBA: the host it was made on ("host3") */
} HdFcHost;

void hd_fc_host_free(HdFcHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdFcHost, hd_fc_host_free)

/* One vport (sys/class/fc_vports). */
typedef struct {
        char *name;        /* "vport-3:0-0" */
        char *parent;      /* "host3" */
        char *host;        /* the vHBA, "host4"; NULL when the kernel made none (a failed vport) */
        char *port_name, *node_name;
        char *vport_state; /* "Active", "Linkdown", "Initializing", "Failed", ... */
        char *vport_type;  /* "NPIV VPORT" */
        char *roles;       /* "FCP Initiator" */
} HdFcVport;

void hd_fc_vport_free(HdFcVport *vport);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdFcVport, hd_fc_vport_free)

/* The FC hosts (HdFcHost*) and vports (HdFcVport*) of sys/class/fc_host and fc_vports, by
 * number; empty when there is no FC. */
GPtrArray *hd_fc_host_list(HdCtx *ctx, GError **error);
GPtrArray *hd_fc_vport_list(HdCtx *ctx, GError **error);

/* A WWN as people write it: 16 hex digits, with an optional 0x (the kernel's form), or eight
 * colon-separated pairs ("20:01:00:11:22:33:44:55"); not all zero. @what names it in the
 * error ("--wwpn"). */
gboolean hd_npiv_wwn_parse(const char *text, const char *what, guint64 *out, GError **error);

/* A random WWN for a vport whose caller gives none: IEEE registered (NAA 5) under the OUI
 * 00:1a:4a, as libvirt generates them for QEMU, with 36 random bits ("0x5001a4a......"). */
guint64 hd_npiv_wwn_generate(void);

/* "0x2001001122334455" into @buf (19 bytes). */
char *hd_npiv_wwn_format(guint64 wwn, char *buf);

/* An FC host named "host3" or "3"; NULL with HD_ERROR_NOT_FOUND naming the FC hosts there are. */
HdFcHost *hd_fc_host_find(HdCtx *ctx, const char *name, GError **error);

/* Create a vport on FC host @parent (checked as above) through the backend; *@vport_out (may
 * be NULL) gets the vport made (after a dry run: NULL). With @persist the vport is recorded
 * (hd_npiv_restore() makes it again after a reboot). */
gboolean hd_npiv_create(HdCtx *ctx, const char *parent, guint64 wwpn, guint64 wwnn,
                        gboolean persist, HdFcVport **vport_out, GError **error);

/* Delete the vport named by @name: its name ("vport-3:0-0"), its vHBA ("host4") or its WWPN,
 * and its record if it has one. Refused (HD_ERROR_REFUSED) when a LUN on its vHBA is used by
 * the host or held open, unless @force. */
gboolean hd_npiv_delete(HdCtx *ctx, const char *name, gboolean force, GError **error);

/* Recorded vports (etc/hostdev/npiv.d/WWPN, one key file each: the vport's port and node names
 * and its parent's port name, which unlike hostN is the same at every boot). */
typedef struct {
        char *port_name;        /* "0x2001001122334455" */
        char *node_name;
        char *parent_port_name; /* "0x21000024ff3dc9a0" */
        char *parent;           /* the FC host with that port name now ("host3"); NULL: absent */
        char *vport;            /* the vport with port_name now ("vport-3:0-0"); NULL: absent */
} HdNpivRecord;

void hd_npiv_record_free(HdNpivRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdNpivRecord, hd_npiv_record_free)

/* The records (HdNpivRecord*), by WWPN; empty when none. */
GPtrArray *hd_npiv_records(HdCtx *ctx, GError **error);

/* Make every recorded vport that is absent on the FC host whose port name its parent had;
 * @report gets one sentence per record ("0x2001...: present as vport-3:0-0", "0x2001...:
 * created vport-3:0-1 on host3", "0x2001...: parent port 0x2100... is not on this host").
 * FALSE (HD_ERROR_FAILED naming them) when some could not be made; the others are made. */
gboolean hd_npiv_restore(HdCtx *ctx, GPtrArray *report, GError **error);
