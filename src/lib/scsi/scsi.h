/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SCSI LUNs for passthrough through scsi-generic (libvirt <hostdev type='scsi'>, QEMU
 * scsi-generic on /dev/sgN): the inventory of sys/bus/scsi/devices, the identity people give,
 * and the verdict on each LUN.
 *
 * Identity. The kernel names a LUN H:C:T:L (host, channel, target, LUN), but H is the number
 * of the host adapter in the order adapters appeared: it changes at reboot, when a USB disk is
 * plugged in first, when a driver loads later, when an FC vport is created. libvirt's
 * <adapter name='scsi_hostH'/> therefore names "an unexpected device" after such a change. A
 * LUN is identified by what does not change: its WWID (the kernel's wwid attribute: VPD page
 * 0x83's best designator, "naa.5000c500a1b2c3d4", "eui.0123456789abcdef", "t10.VENDOR ...",
 * "name.iqn...."), or a /dev/disk/by-id/NAME link udev makes from it. The spec is resolved to
 * the current H:C:T:L and sgN when the configuration is made (`hostdev scsi xml|qemu-args`, at
 * VM start). H:C:T:L is accepted to look at a LUN, and the configuration commands warn about it.
 *
 * Verdict (one decision, shown by list and show, enforced by xml and qemu-args):
 *   not-assignable  no sg node: scsi-generic needs /dev/sgN (the sg module); never overridable
 *   refused         the host uses the LUN: a filesystem on it mounted, swap on it, a dm/md
 *                   device (LVM, multipath, dm-crypt, md RAID) stacked on it; --force passes
 *                   these, except the root filesystem, which nothing passes
 *   in-use          a process holds its /dev/sgN (or /dev/sdX) open: another VM owns it (the
 *                   process and its libvirt domain are named); --force or --shareable pass it
 *   assignable      none of the above
 * Warnings that do not refuse: scsi-generic leaves the sd driver bound, so host and guest can
 * both reach the LUN; a disk is better given as scsi-block or virtio-blk (tapes and medium
 * changers are what scsi-generic is for).
 */
#pragma once

#include <glib.h>

#include "ctx.h"

/* H:C:T:L as the kernel numbers it. */
typedef struct {
        guint32 host, channel, target;
        guint64 lun;
} HdScsiAddress;

/* "4294967295:4294967295:4294967295:18446744073709551615" + NUL */
#define HD_SCSI_ADDRESS_STRLEN 64

/* The kernel's name of a LUN: four decimal numbers without leading zeros, separated by ':'. */
gboolean hd_scsi_address_parse(const char *text, HdScsiAddress *out);
char *hd_scsi_address_format(const HdScsiAddress *a, char *buf);

typedef enum {
        HD_SCSI_SPEC_WWID,  /* naa./eui./t10./name. */
        HD_SCSI_SPEC_BY_ID, /* /dev/disk/by-id/NAME */
        HD_SCSI_SPEC_HCTL,  /* H:C:T:L (or lsscsi's [H:C:T:L]) */
} HdScsiSpecKind;

/* A WWID is at most this long (VPD designators are at most 255 bytes, plus the prefix). */
#define HD_SCSI_WWID_MAX 272

typedef struct {
        HdScsiSpecKind kind;
        char text[HD_SCSI_WWID_MAX]; /* canonical: the WWID (naa and eui hex in lowercase), the
                                      * by-id NAME (one path component), or the H:C:T:L */
        HdScsiAddress address;       /* HD_SCSI_SPEC_HCTL */
} HdScsiSpec;

/* The strict grammar of what people type for a LUN:
 *   naa.HEX (16 or 32 hex digits), eui.HEX (16, 24 or 32), t10.TEXT and name.TEXT (printable
 *   ASCII, 1..255 characters), the WWID as the kernel's wwid attribute spells it; 3HEX and
 *   2HEX (scsi_id's and multipath's form: 36001405..., the designator type then its hex) as the
 *   naa. and eui. WWIDs they are;
 *   /dev/disk/by-id/NAME (NAME one component of [A-Za-z0-9._:+@=#,-], not "." or "..");
 *   H:C:T:L or [H:C:T:L] (decimal). Anything else, and anything with a control character, is
 * refused with the forms it could be. */
gboolean hd_scsi_spec_parse(const char *text, HdScsiSpec *spec, GError **error);

/* The best designator of a VPD page 0x83 (the kernel's vpd_pg83 attribute, binary) as the kernel's
 * wwid attribute spells it: NAA > EUI-64 > SCSI name > T10 vendor id, of the logical unit
 * (association 0). NULL when the page holds none or is malformed (every length is checked). */
char *hd_scsi_wwid_from_vpd83(const guint8 *data, gsize len);

typedef enum {
        HD_SCSI_ASSIGNABLE,
        HD_SCSI_IN_USE,
        HD_SCSI_REFUSED,
        HD_SCSI_NOT_ASSIGNABLE,
} HdScsiVerdict;

/* "assignable", "in-use", "refused", "not-assignable" */
const char *hd_scsi_verdict_name(HdScsiVerdict v);

/* SCSI peripheral device type names: 0 "disk", 1 "tape", 5 "cd/dvd", 8 "changer", ...;
 * "type N" for the rest (static or @buf of 16 bytes). */
const char *hd_scsi_type_name(int type, char *buf);

typedef struct {
        char *name;            /* "0:0:1:0" */
        HdScsiAddress address;
        int type;              /* -1 unknown */
        char *vendor, *model, *rev, *state; /* trimmed; NULL when absent */
        char *wwid;            /* NULL when the LUN has none */
        char *sg;              /* "sg2"; NULL without the sg module */
        char *block;           /* "sdb"; NULL when no block driver (tapes, changers) */
        GPtrArray *partitions; /* "sdb1", ... */
        GPtrArray *by_id;      /* names in /dev/disk/by-id that point at the block device */
        char *host;            /* "host0" */
        char *proc_name;       /* the adapter's driver: "virtio_scsi", "qla2xxx", "usb-storage" */
        int unique_id;         /* -1 unknown */
        char *pci;             /* the PCI function the adapter sits on; NULL (scsi_debug, ...) */
        int iommu_group;       /* of that function; -1 none */
        /* what the host does with it */
        GPtrArray *host_use;   /* "/dev/sdb1 on /data", "/dev/sdb2 as swap" */
        GPtrArray *holders;    /* "dm-0 (LVM vg0-data)" */
        GPtrArray *held_by;    /* "1234 (qemu-system-x86, VM tape) has /dev/sg2 open" */
        gboolean root;         /* holds the root filesystem */
        /* the verdict */
        HdScsiVerdict verdict;
        char *reason;          /* why, when not assignable; NULL otherwise */
        GPtrArray *warnings;   /* sentences that do not refuse */
} HdScsiDevice;

void hd_scsi_device_free(HdScsiDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdScsiDevice, hd_scsi_device_free)

/* Every LUN of sys/bus/scsi/devices (hostN and targetN entries skipped), by H:C:T:L. An absent
 * directory (no SCSI) is an empty list. */
GPtrArray *hd_scsi_list(HdCtx *ctx, GError **error);

/* One LUN by its kernel name; NULL with HD_ERROR_NOT_FOUND. */
HdScsiDevice *hd_scsi_load(HdCtx *ctx, const HdScsiAddress *address, GError **error);

/* The LUN @spec names now: a WWID matched against every LUN's (exactly one: a WWID seen on
 * several paths is refused, naming them: that is multipath's job), a by-id link followed to its
 * block device, an H:C:T:L looked up. NULL with HD_ERROR_NOT_FOUND or HD_ERROR_INVALID_ARGUMENT
 * and a message that says what exists. */
HdScsiDevice *hd_scsi_resolve(HdCtx *ctx, const HdScsiSpec *spec, GError **error);

/* Options of the guest configuration. */
typedef struct {
        gboolean force;     /* pass "refused" (not the root filesystem) and "in-use" */
        gboolean shareable; /* <shareable/> / share-rw=on: pass "in-use" */
        gboolean readonly;  /* <readonly/> */
} HdScsiGuestOptions;

/* The verdict enforced: TRUE when @dev may be given to a guest with @opts, else
 * HD_ERROR_REFUSED (or HD_ERROR_BUSY for in-use, HD_ERROR_NOT_SUPPORTED without sg) naming the
 * LUN by @label (what the user typed) with what to do. */
gboolean hd_scsi_check(HdCtx *ctx, const HdScsiDevice *dev, const char *label,
                       const HdScsiGuestOptions *opts, GError **error);

/* The warnings of giving @dev, named by @spec, to a guest (char*, new array): a spec by
 * H:C:T:L (the adapter number changes), a verdict passed by force or shareable, and the LUN's
 * own warnings. The CLI's xml and qemu-args and the agent's GET /v1/scsi/{wwid}/xml share it. */
GPtrArray *hd_scsi_guest_warnings(const HdScsiSpec *spec, const HdScsiDevice *dev);

/* libvirt's element for @dev (resolved now): <hostdev mode='subsystem' type='scsi'
 * managed='no' rawio='yes'> with <adapter name='scsi_hostH'/> and <address bus='C' target='T'
 * unit='L'/>; <readonly/>, <shareable/> by @opts. Indented by @indent spaces. */
char *hd_scsi_hostdev_xml(const HdScsiDevice *dev, const HdScsiGuestOptions *opts, guint indent);

/* QEMU arguments for @devs (HdScsiDevice*): one -blockdev host_device per sg node, one
 * virtio-scsi-pci controller (id hostdev-scsi0), one -device scsi-generic per LUN on it, as
 * option/value pairs, NULL-terminated. */
char **hd_scsi_qemu_args(GPtrArray *devs, const HdScsiGuestOptions *opts);
