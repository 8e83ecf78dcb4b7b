/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices (mdev: vGPU slices, vfio-ccw, vfio-ap, the kernel's mtty/mdpy/mbochs
 * samples): their parents, the types each parent offers, the instances, and their life cycle.
 *
 * The kernel's interface (Documentation/ABI/testing/sysfs-bus-vfio-mdev):
 *   sys/class/mdev_bus/<parent>           a link to the parent device, on any bus (a PCI GPU
 *                                          "0000:00:02.0", /sys/devices/virtual/mtty/mtty, a
 *                                          css id "0.0.0012", vfio-ap's "matrix")
 *   <parent>/mdev_supported_types/<type>/ name and description (both optional),
 *                                          available_instances, device_api, create (write a
 *                                          UUID), devices/ (the instances of the type)
 *   sys/bus/mdev/devices/<uuid>           an instance: mdev_type, iommu_group, driver links,
 *                                          remove (write 1)
 * Capacity is shared: creating one instance may lower available_instances of every type of
 * the parent (mbochs shares one memory pool; mtty 24 ports between 1- and 2-port types).
 *
 * Rules (docs/ARCHITECTURE.md, "mdev lifecycle"):
 *  - a UUID is parsed strictly (canonical 8-4-4-4-12, lowercase hex) before it becomes part
 *    of a path; parent and type names are only ever ones the kernel lists;
 *  - create re-reads available_instances under a per-parent lock (run/hostdev/mdev-P.lock) just
 *    before writing, and turns the kernel's ENOSPC/EEXIST into "capacity changed" / "UUID
 *    exists" naming the parent, type and `hostdev mdev types P`;
 *  - remove is refused while a process holds the mdev's /dev/vfio/N: the kernel's write would
 *    block until that process (QEMU) exits;
 *  - persistent definitions are mdevctl's files, /etc/mdevctl.d/<parent>/<uuid>, byte for
 *    byte as mdevctl writes them, so mdevctl, libvirt (nodedev-define) and its udev rule see
 *    the same devices.
 * Every write goes through the context's backend (dry run, write log, sim).
 */
#pragma once

#include <glib.h>

#include "ctx.h"

/* "8-4-4-4-12" and the NUL */
#define HD_MDEV_UUID_STRLEN 37

typedef struct {
        char *id;          /* the type's directory name: "mtty-1", "i915-GVTg_V5_4" */
        char *name;        /* its name attribute ("Single port serial"), NULL when absent */
        char *description; /* NULL when absent */
        char *device_api;  /* "vfio-pci", "vfio-ccw", ...; NULL when absent */
        int available;     /* available_instances, -1 when unreadable */
        GPtrArray *instances; /* char*: UUIDs of the existing instances (devices/) */
} HdMdevType;

typedef struct {
        char *name;      /* the sys/class/mdev_bus entry: "0000:00:02.0", "mtty", "matrix" */
        char *sysfs_path; /* "/sys/devices/virtual/mtty/mtty", "/sys/devices/pci0000:00/..." */
        gboolean is_pci; /* the parent is a PCI device (its name is its address) */
        char *driver;    /* the parent's driver, NULL when none */
        GPtrArray *types; /* HdMdevType*, sorted by id */
} HdMdevParent;

void hd_mdev_type_free(HdMdevType *type);
void hd_mdev_parent_free(HdMdevParent *parent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdMdevParent, hd_mdev_parent_free)

typedef struct {
        char uuid[HD_MDEV_UUID_STRLEN];
        char *parent;      /* mdev_bus name; NULL when unknown */
        char *type;        /* type id; NULL when unknown */
        int iommu_group;   /* -1: none */
        char *driver;      /* "vfio_mdev", NULL when none */
        gboolean active;   /* it exists in sys/bus/mdev/devices */
        gboolean defined;  /* etc/mdevctl.d/<parent>/<uuid> exists */
        char *start;       /* the definition's "start": "auto" or "manual"; NULL undefined */
        GPtrArray *holders; /* char*: "4242 (qemu-system-x86)" with /dev/vfio/N open */
} HdMdev;

void hd_mdev_free(HdMdev *mdev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdMdev, hd_mdev_free)

/* Whether @s is a UUID in canonical form (8-4-4-4-12 lowercase hex digits); copies it to
 * @out (may be NULL). Nothing else is accepted: not uppercase, braces, spaces or a newline. */
gboolean hd_mdev_uuid_parse(const char *s, char out[HD_MDEV_UUID_STRLEN]);
/* A new random (version 4) UUID in canonical form. */
char *hd_mdev_uuid_generate(void);

/* Every parent the kernel lists in sys/class/mdev_bus with its types, sorted by name; empty
 * when there is none (no mdev parent driver loaded). */
GPtrArray *hd_mdev_list_parents(HdCtx *ctx, GError **error);

/* The mdev_bus name of the parent @arg names: a name sys/class/mdev_bus lists, or a PCI
 * address in any form address.h accepts. NOT_FOUND naming the parents there are. */
char *hd_mdev_resolve_parent(HdCtx *ctx, const char *arg, GError **error);
/* One parent and its types; NOT_FOUND when sys/class/mdev_bus has no @name. */
HdMdevParent *hd_mdev_parent_load(HdCtx *ctx, const char *name, GError **error);

/* Every mdev, active (sys/bus/mdev/devices) or only defined (mdevctl's files, as `mdevctl
 * list --defined` shows them), sorted by UUID. */
GPtrArray *hd_mdev_list(HdCtx *ctx, GError **error);
/* One mdev by UUID (canonical); NOT_FOUND when it is neither active nor defined. */
HdMdev *hd_mdev_get(HdCtx *ctx, const char *uuid, GError **error);

/* The mediated device that IOMMU group @group holds (its emulated group: a member named by a
 * UUID), NULL when the group holds none (a PCI group, or no such group). */
HdMdev *hd_mdev_for_group(HdCtx *ctx, int group);

/* Create an instance of @type on @parent (an mdev_bus name, see hd_mdev_resolve_parent()),
 * with @uuid, or a new v4 UUID when NULL; *@uuid_out (may be NULL) gets it. With @persist, it
 * is also defined in mdevctl's format with start "auto" (created again whenever the parent
 * appears, at every boot). Refused: an unknown type (NOT_FOUND), a UUID in use (REFUSED), no
 * capacity left (REFUSED), another hostdev process changing the parent (BUSY). */
gboolean hd_mdev_create(HdCtx *ctx, const char *parent, const char *type, const char *uuid,
                        gboolean persist, char **uuid_out, GError **error);

/* Remove the instance @uuid; with @persist, also its mdevctl definition (and only that when it
 * is defined but not active). BUSY naming the process while its /dev/vfio/N is open. */
gboolean hd_mdev_remove(HdCtx *ctx, const char *uuid, gboolean persist, GError **error);

/* Start a device that is defined but not active (`mdevctl start -u UUID`): create it on its
 * parent with its type and UUID (capacity and the parent's lock as in hd_mdev_create()).
 * *@was_active (may be NULL) is set when it was already active: nothing is written then.
 * NOT_FOUND when it is not defined. */
gboolean hd_mdev_start(HdCtx *ctx, const char *uuid, gboolean *was_active, GError **error);

/* What hd_mdev_start_parent() did with one definition. */
typedef enum {
        HD_MDEV_START_STARTED, /* created */
        HD_MDEV_START_ACTIVE,  /* already active: left alone */
        HD_MDEV_START_MANUAL,  /* its start is "manual": left alone */
        HD_MDEV_START_FAILED,  /* the definition is unreadable, or the kernel refused: error */
} HdMdevStartOutcome;

typedef struct {
        char uuid[HD_MDEV_UUID_STRLEN];
        char *type;  /* the definition's mdev_type, NULL when unreadable */
        HdMdevStartOutcome outcome;
        char *error; /* HD_MDEV_START_FAILED: why */
} HdMdevStart;

void hd_mdev_start_free(HdMdevStart *start);
const char *hd_mdev_start_outcome_to_string(HdMdevStartOutcome outcome);

/* Start every device defined on @parent (an mdev_bus name, see hd_mdev_resolve_parent()) with
 * start "auto" that is not active, as mdevctl's `start-parent-mdevs` does when the kernel
 * announces the parent (udev: MDEV_STATE=registered); one failure does not stop the others.
 * HdMdevStart* by UUID; NOT_FOUND when sys/class/mdev_bus has no @parent (not registered). */
GPtrArray *hd_mdev_start_parent(HdCtx *ctx, const char *parent, GError **error);

/* A definition file as mdevctl writes it (serde_json's pretty form, no final newline):
 * {"mdev_type": @type, "start": "auto"|"manual", "attrs": []}. */
char *hd_mdev_definition_text(const char *type, gboolean autostart);
/* Read a definition file's text (any bytes: the file is the admin's or mdevctl's): its
 * mdev_type and start, each NULL when absent or not a string. FALSE when it is not a JSON
 * object. */
gboolean hd_mdev_definition_parse(const char *text, gssize len, char **type, char **start);
/* etc/mdevctl.d/<parent>/<uuid>, below the root. */
char *hd_mdev_definition_path(const char *parent, const char *uuid);

/* libvirt's <hostdev type='mdev'> for @uuid, indented by @indent spaces, ending in a newline. */
char *hd_mdev_hostdev_xml(const char *uuid, guint indent);
/* QEMU's device for @uuid: "vfio-pci,sysfsdev=/sys/bus/mdev/devices/<uuid>,id=<id>" (no id=
 * when @id is NULL). */
char *hd_mdev_qemu_device(const char *uuid, const char *id);
