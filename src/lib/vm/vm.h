/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual machines with host devices, through libvirt's C API.
 *
 * A small spec (name, memory, vCPUs, an optional disk image, host devices) becomes a libvirt
 * domain; the functions define, start, stop, destroy, undefine and list domains with their
 * host devices. The connection URI is the caller's choice: qemu:///system on a host,
 * test:///default in tests. Errors carry libvirt's own message and what to do about it.
 */
#pragma once

#include <glib.h>

#include "address.h"

typedef struct HdVirt HdVirt;

/* The rule for VM names everywhere (define, the agent's API, the VM record): 1-64 of
 * [A-Za-z0-9._-], not starting with '.'. Such a name is safe in a path and in XML. */
gboolean hd_vm_name_is_valid(const char *name);

/* NULL @uri means qemu:///system. */
HdVirt *hd_virt_open(const char *uri, GError **error);
void hd_virt_close(HdVirt *virt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdVirt, hd_virt_close)

/* A USB device for a guest, resolved now (usb.h: the agent resolves its spec again at every
 * start, since the device number changes at each replug): <hostdev type='usb'> with
 * <vendor/><product/> (when not 0) and <address bus device/>. */
typedef struct {
        guint16 vendor, product;
        guint bus, device;
} HdVmUsb;

/* A SCSI LUN for a guest, resolved now (scsi.h: H:C:T:L changes at reboot, the WWID does not):
 * <hostdev type='scsi'> with <adapter name='scsi_hostH'/> and <address bus target unit/>. */
typedef struct {
        guint32 host, bus, target;
        guint64 unit;
        gboolean shareable; /* <shareable/>: another VM may have it too */
        gboolean readonly;  /* <readonly/> */
} HdVmScsi;

typedef struct {
        const char *name;
        guint64 memory_mib;
        guint vcpus;
        const char *disk_image;      /* qcow2 or raw file, or NULL */
        const HdAddress *hostdevs;
        guint n_hostdevs;
        gboolean managed;            /* libvirt detaches/reattaches the host devices */
        gboolean viommu;             /* a guest IOMMU (intel, caching mode on, as vfio needs) */
        const char *const *mdevs;    /* UUIDs of mediated devices (mdev.h), canonical; the
                                      * caller creates them before the start, removes after */
        guint n_mdevs;
        const HdVmUsb *usb;          /* USB and SCSI host devices: no VFIO, no IOMMU needed */
        guint n_usb;
        const HdVmScsi *scsi;
        guint n_scsi;
        const char *const *vhost;    /* WWPNs of vhost-scsi targets (vhost.h), as configfs
                                      * names them: <hostdev type='scsi_host'> */
        guint n_vhost;
} HdVmSpec;

/* The <hostdev mode='subsystem' type='usb'|'scsi' managed='no'> elements of @usb and @scsi,
 * indented by @indent spaces (the SCSI ones with rawio='yes', as scsi-generic needs). */
char *hd_virt_usb_scsi_xml(const HdVmUsb *usb, guint n_usb, const HdVmScsi *scsi, guint n_scsi,
                           guint indent);

/* The domain XML for @spec on the connection's hypervisor. */
char *hd_virt_spec_to_xml(HdVirt *virt, const HdVmSpec *spec, GError **error);

gboolean hd_virt_define(HdVirt *virt, const HdVmSpec *spec, GError **error);
gboolean hd_virt_start(HdVirt *virt, const char *name, GError **error);
/* A graceful ACPI shutdown request. */
gboolean hd_virt_stop(HdVirt *virt, const char *name, GError **error);
/* Immediate power-off. */
gboolean hd_virt_destroy(HdVirt *virt, const char *name, GError **error);
gboolean hd_virt_undefine(HdVirt *virt, const char *name, GError **error);

typedef struct {
        char *name;
        char *state;        /* "running", "shut off", "paused", ... */
        gboolean active;
        GArray *hostdevs;   /* HdAddress of its PCI host devices */
} HdVmInfo;

void hd_vm_info_free(HdVmInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdVmInfo, hd_vm_info_free)

/* The persistent definition of domain @name (libvirt's inactive XML: what the next start uses),
 * as libvirt gives it. HD_ERROR_NOT_FOUND when there is no such domain. */
char *hd_virt_get_definition(HdVirt *virt, const char *name, GError **error);
/* Define (or redefine) a domain from @xml; the document's <name> says which. */
gboolean hd_virt_define_xml(HdVirt *virt, const char *xml, GError **error);

typedef enum {
        HD_VIRT_AFFECT_CONFIG = 1 << 0, /* the persistent definition */
        HD_VIRT_AFFECT_LIVE = 1 << 1,   /* the running domain (hot-plug) */
} HdVirtAffect;

/* Hot-plug one device (@xml: a <hostdev> element) into domain @name, or unplug it, as
 * `virsh attach-device` / `detach-device` with --config and/or --live. LIVE on a domain that is
 * not running is refused naming the domain; the caller decides (hostdev vm: the running
 * domain too when it runs). */
gboolean hd_virt_attach_device(HdVirt *virt, const char *name, const char *xml,
                               HdVirtAffect affect, GError **error);
gboolean hd_virt_detach_device(HdVirt *virt, const char *name, const char *xml,
                               HdVirtAffect affect, GError **error);
/* Whether domain @name is running; HD_ERROR_NOT_FOUND (FALSE) when there is none. */
gboolean hd_virt_is_active(HdVirt *virt, const char *name, gboolean *active, GError **error);

/* Replace every USB and SCSI <hostdev> of domain @name's persistent definition with those of
 * @usb and @scsi (none: all are removed); its PCI and mdev host devices are left alone. Takes
 * effect at the next start. */
gboolean hd_virt_set_usb_scsi(HdVirt *virt, const char *name, const HdVmUsb *usb, guint n_usb,
                              const HdVmScsi *scsi, guint n_scsi, GError **error);

/* Application metadata of domain @name's persistent definition: the element in namespace @uri
 * (libvirt's <metadata>; it is kept with the domain and goes with it at undefine), as libvirt
 * gives it back (without the prefix). NULL without error when there is none;
 * HD_ERROR_NOT_FOUND when there is no such domain. */
char *hd_virt_get_metadata(HdVirt *virt, const char *name, const char *uri, GError **error);
/* Set it: @xml is one element (its children unprefixed), written under prefix @key. */
gboolean hd_virt_set_metadata(HdVirt *virt, const char *name, const char *key, const char *uri,
                              const char *xml, GError **error);

/* Every domain, defined or transient, sorted by name. */
GPtrArray *hd_virt_list(HdVirt *virt, GError **error);
/* One domain; HD_ERROR_NOT_FOUND when there is none by that name. */
HdVmInfo *hd_virt_get(HdVirt *virt, const char *name, GError **error);
