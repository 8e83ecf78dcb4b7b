/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One PCI device as sysfs shows it.
 *
 * A device is loaded with a set of HdDeviceFields: only the attributes those fields need are
 * read, so listing 4,000 VFs does not pay for config-space walks nobody asked for. A fact the
 * kernel does not expose (no IOMMU, no SR-IOV, an old kernel without reset_method) or that
 * vanished while reading (hot-unplug) stays "absent": -1 for numbers, NULL for strings. That
 * is what JSON prints as null.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"
#include "pciconfig.h"

typedef enum {
        HD_FIELD_IDS = 1 << 0,      /* vendor/device/subsystem ids, class, revision */
        HD_FIELD_NAMES = 1 << 1,    /* vendor, product and class names (implies IDS) */
        HD_FIELD_DRIVER = 1 << 2,   /* driver, driver_override */
        HD_FIELD_IOMMU = 1 << 3,    /* iommu group */
        HD_FIELD_NUMA = 1 << 4,     /* numa node */
        HD_FIELD_HEADER = 1 << 5,   /* header type, multifunction (config header) */
        HD_FIELD_SRIOV = 1 << 6,    /* totalvfs, numvfs, physfn, virtfns */
        HD_FIELD_BOOT_VGA = 1 << 7, /* boot_vga (VGA-class devices only) */
        HD_FIELD_TOPOLOGY = 1 << 8, /* sysfs path and the chain of upstream bridges */
        HD_FIELD_CONFIG = 1 << 9,   /* full config space: PCIe type/link, ACS, reset caps */
        HD_FIELD_LINK = 1 << 10,    /* PCIe link capability and status */
        HD_FIELD_RESET = 1 << 11,   /* reset methods */
        HD_FIELD_USERS = 1 << 12,   /* network interfaces, block devices, DRM cards */
        /* What `hostdev list --json` prints. */
        HD_FIELDS_LIST = HD_FIELD_IDS | HD_FIELD_NAMES | HD_FIELD_DRIVER | HD_FIELD_IOMMU |
                         HD_FIELD_NUMA | HD_FIELD_HEADER | HD_FIELD_SRIOV | HD_FIELD_BOOT_VGA,
        HD_FIELDS_ALL = 0x1fff,
} HdDeviceFields;

typedef struct {
        int speed; /* code 1..6 (2.5 .. 64 GT/s), 0 unknown */
        int width; /* lanes, 0 unknown */
} HdLink;

typedef struct {
        HdAddress address;
        char name[HD_ADDRESS_STRLEN]; /* canonical address text */
        guint fields;                 /* HdDeviceFields that were loaded */

        /* HD_FIELD_IDS */
        int vendor_id, device_id;                     /* 16-bit, -1 absent */
        int subsystem_vendor_id, subsystem_device_id; /* -1 absent */
        int revision;                                 /* -1 absent */
        gint32 class_code;                            /* 24-bit, -1 absent */

        /* HD_FIELD_NAMES (borrowed from the context's name cache) */
        const char *vendor_name, *product_name, *class_name;

        /* HD_FIELD_DRIVER */
        char *driver;          /* NULL: no driver bound */
        char *driver_override; /* NULL: none ("(null)" in sysfs) */

        /* HD_FIELD_IOMMU */
        int iommu_group; /* -1: no IOMMU */

        /* HD_FIELD_NUMA */
        int numa_node; /* -1: none or unknown */

        /* HD_FIELD_HEADER */
        int header_type; /* 0 endpoint, 1 PCI bridge, 2 CardBus bridge, -1 unknown */
        gboolean multifunction;

        /* HD_FIELD_SRIOV */
        int sriov_totalvfs, sriov_numvfs; /* -1: not an SR-IOV PF */
        int sriov_vf_device;              /* PFs: the device id of their VFs, else -1 */
        int sriov_autoprobe;              /* PFs: sriov_drivers_autoprobe 1/0, else -1 */
        char *physfn;                     /* address of the PF for a VF, else NULL */
        GPtrArray *virtfns;               /* char* addresses, empty for non-PFs */

        /* HD_FIELD_BOOT_VGA */
        int boot_vga; /* -1 absent (not a VGA device), 0, 1 */

        /* HD_FIELD_TOPOLOGY */
        char *sysfs_path;  /* below the root: "sys/devices/pci0000:00/0000:00:01.0/..." */
        GPtrArray *upstream; /* char* bridge addresses, nearest first */

        /* HD_FIELD_CONFIG */
        gboolean config_readable; /* more than the 64-byte header could be read */
        gboolean is_pcie;
        HdPcieType pcie_type;
        gboolean has_acs;
        guint16 acs_cap, acs_ctrl;
        gboolean cap_flr, cap_af_flr, cap_pm_reset;
        GArray *capabilities; /* HdCapability (pciconfig.h), both lists in order */

        /* HD_FIELD_LINK */
        HdLink link_max, link_current;

        /* HD_FIELD_RESET */
        char **reset_methods;      /* NULL-terminated, may be empty */
        const char *reset_source; /* "kernel" (reset_method attribute) or "config" */

        /* HD_FIELD_USERS: what on the host hangs off this device */
        GPtrArray *netdevs; /* char* interface names */
        GPtrArray *blockdevs; /* char* block device names (disks and partitions) */
        GPtrArray *drm_cards; /* char* "card0" */

        /* Set by the state module (state.h), never by the load: NULL / -1 until then. */
        char *host_need; /* why the host needs it now ("the host uses it: /dev/nvme0n1p2 on
                          * /"): detach refuses it without --force, so it is not assignable */
        int state;       /* HdDeviceState (bind.h): host-driver, unbound, vfio-free, assigned */
} HdDevice;

/* Load one device. HD_ERROR_NOT_FOUND ("no PCI device 0000:09:00.0 ...") when it does not
 * exist. Unreadable attributes do not fail the load; they stay absent. */
HdDevice *hd_device_load(HdCtx *ctx, const HdAddress *address, guint fields, GError **error);

/* Same, from an already opened device directory (the scanner's fast path). @loaded, when not
 * NULL, maps canonical addresses to devices loaded before with the same fields: a VF then
 * takes its vendor, device and NUMA node from its PF, as the kernel does, instead of reading
 * three more files (most of a scan of a host with thousands of VFs). */
HdDevice *hd_device_load_at(HdCtx *ctx, int dirfd, const HdAddress *address, guint fields,
                            GHashTable *loaded);

void hd_device_free(HdDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdDevice, hd_device_free)

/* Header type 1 or 2 (or, when the header is unreadable, bridge class 0x0604/0x0607). */
gboolean hd_device_is_bridge(const HdDevice *dev);
/* Class 0x0600: the host bridge, which is never given to a guest. */
gboolean hd_device_is_host_bridge(const HdDevice *dev);
gboolean hd_device_is_boot_vga(const HdDevice *dev);

/* Driver the kernel's viability rule accepts: vfio-pci, a vfio variant driver, pci-stub. */
gboolean hd_driver_is_vfio(const char *driver);
gboolean hd_driver_is_viable(const char *driver);
/* Whether @name can be a kernel driver name ([A-Za-z0-9_.-], not "." or ".."): the check a
 * driver name from the user or from a file below the root passes before it becomes part of
 * "sys/bus/pci/drivers/NAME/...". */
gboolean hd_driver_name_is_valid(const char *name);

/* Whether a VM could be given this device at all, and why not (NULL when assignable; borrowed
 * from @dev or static). Static rules (bridge, host bridge, boot GPU, no IOMMU), and once the
 * state module has looked at the device (state.h), what the host needs it for. */
gboolean hd_device_is_assignable(const HdDevice *dev, const char **reason);

/* "Audio device, snd_hda_intel": the short description used in messages. */
char *hd_device_describe(const HdDevice *dev);

/* The category used by `hostdev list --class`. */
typedef enum {
        HD_CLASS_GPU,
        HD_CLASS_NET,
        HD_CLASS_STORAGE,
        HD_CLASS_USB,
        HD_CLASS_AUDIO,
        HD_CLASS_BRIDGE,
        HD_CLASS_OTHER,
} HdClassCategory;

HdClassCategory hd_device_get_category(const HdDevice *dev);
const char *hd_class_category_to_string(HdClassCategory cat);
gboolean hd_class_category_from_string(const char *s, HdClassCategory *out);

/* Relative sysfs path of a device attribute: "sys/bus/pci/devices/<addr>/<attr>". The only
 * way a path for a device is built. */
char *hd_device_attr_path(const HdAddress *address, const char *attr);
