/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB devices for passthrough: the inventory of sys/bus/usb/devices, the identities people type
 * to name a device, whether the host lets it go (the verdict), and the guest configuration that
 * gives it to a VM (libvirt <hostdev type='usb'>, QEMU usb-host).
 *
 * INVENTORY. The kernel names a device by its place: <bus>-<port[.port]...> ("1-2.3": bus 1,
 * root port 2, port 3 of the hub there) and a root hub usbN. Its interfaces <dev>:<cfg>.<if>
 * ("1-2.3:1.0", "1-0:1.0" for usb1) are not devices: each belongs to its device, with its class,
 * subclass, protocol and driver. The controller is the PCI function the device's real sysfs path
 * runs through (its last PCI address), and its IOMMU group that function's. The device node is
 * /dev/bus/usb/BBB/DDD (busnum, devnum). Vendor and product names come from usb.ids when the
 * root has one (one bounded read per scan).
 *
 * IDENTITY. The device number (devnum) changes at every replug and is never accepted. A device
 * is named by (usb.h's HdUsbSpec, hd_usb_spec_parse):
 *   VVVV:PPPP          vendor:product, when one device on the host has it
 *   VVVV:PPPP:SERIAL   and its serial (or --serial): identical devices told apart
 *   BUS-PORT[.PORT]*   the port path ("1-2.3"): whatever is plugged into that port
 * A vendor:product several devices have is refused, listing each with the spec that picks it
 * (by serial when it has a usable one, by port path always).
 *
 * VERDICT, first match (hd_usb_evaluate):
 *   root-hub       a root hub (usbN) is the controller's own: never (pass the controller's PCI
 *                  function with hostdev detach instead)
 *   hub            bDeviceClass 09: never (QEMU's usb-host does not take hubs; pass the
 *                  devices behind it)
 *   root-fs        storage holding the root filesystem: never
 *   held           an interface is on usbfs (a VM or libusb program has claimed it), or a
 *                  process has /dev/bus/usb/BBB/DDD open (the holders: pid, comm, VM)
 *   host-storage   mass storage (interface class 08) whose block devices are mounted, swap, or
 *                  held by device-mapper/md
 *   only-keyboard  the host's only keyboard: the one device with a HID boot protocol 1
 *                  interface the host uses (not on usbfs: a keyboard given to a VM does not
 *                  count; authorized)
 *   only-mouse     the same for the mouse (HID boot protocol 2)
 *   ready          nothing stands in the way
 * Everything but ready is refused by hd_usb_guest_*(); --force (HdUsbGuestOptions.force)
 * overrides held, host-storage, only-keyboard and only-mouse, never the first three.
 *
 * Everything is read below the context's root with bounded reads (fileio.h); nothing here
 * writes.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ctx.h"

/* The kernel refuses hubs nested deeper than this (MAX_TOPO_LEVEL): a port path has at most
 * this many ports. */
#define HD_USB_PORTS_MAX 6
/* A USB string descriptor holds at most 126 UTF-16 units. */
#define HD_USB_SERIAL_MAX 126

typedef struct {
        char *name;           /* "1-2:1.0" */
        int number;           /* bInterfaceNumber, -1 absent */
        int iface_class;      /* bInterfaceClass: 0x03 HID, 0x08 storage, 0x09 hub; -1 absent */
        int subclass;         /* -1 absent */
        int protocol;         /* HID boot protocol 1 keyboard, 2 mouse; -1 absent */
        char *driver;         /* "usbhid", "usb-storage", "usbfs"; NULL none */
        GPtrArray *blockdevs; /* char*: block devices below it (disks and partitions) */
} HdUsbInterface;

/* A process with the device node open. */
typedef struct {
        int pid;
        char *comm;
        char *vm; /* the libvirt domain (QEMU's -name guest=), NULL when none */
} HdUsbHolder;

typedef struct {
        char *name; /* the kernel's: "1-2.3", "usb1" */
        gboolean root_hub;
        int busnum, devnum;                    /* -1 absent */
        char *devpath;                         /* "2.3" ("0" for a root hub); NULL absent */
        char *port_path;                       /* BUS-DEVPATH: "1-2.3"; a root hub's is its name */
        int vendor_id, product_id;             /* -1 absent */
        char *manufacturer, *product, *serial; /* NULL absent */
        char *vendor_name, *product_name;      /* from usb.ids below the root (usr/share/hwdata,
                                                * usr/share/misc, var/lib/usbutils); NULL unknown */
        char *speed;           /* Mb/s as the kernel says: "1.5", "12", "480", "5000", ... */
        int device_class;      /* bDeviceClass, -1 absent */
        char *removable;       /* "removable", "fixed", "unknown"; NULL absent */
        int authorized;        /* 0, 1, -1 absent */
        int maxchild;          /* ports of a hub, -1 absent */
        GPtrArray *interfaces; /* HdUsbInterface*, by name */
        char *controller;      /* the PCI function of the host controller: "0000:00:14.0" */
        int iommu_group;       /* the controller's, -1 none */
        char *node;            /* "/dev/bus/usb/001/004"; NULL when bus or devnum is absent */
        char *sysfs_path;      /* below the root: "sys/devices/pci0000:00/0000:00:14.0/usb1/1-2" */

        /* hd_usb_evaluate() */
        const char *verdict; /* "ready", "held", "hub", ... (above); NULL before */
        gboolean forceable;  /* --force overrides the verdict */
        GPtrArray *reasons;  /* char*: every rule that says no, in the order above */
        GPtrArray *holders;  /* HdUsbHolder* */
        GPtrArray *host_use; /* char*: "/dev/sdb1 on /media/stick", "sdb is held by dm-0" */
} HdUsbDevice;

void hd_usb_device_free(HdUsbDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdUsbDevice, hd_usb_device_free)

/* Every USB device and root hub, by bus and port path (root hub first). Empty when the host
 * has no USB (no sys/bus/usb). Devices that vanish while reading are left out. */
GPtrArray *hd_usb_scan(HdCtx *ctx, GError **error);

/* Decide the verdict of every device of @devices (from hd_usb_scan(): the keyboard and mouse
 * rules look at all of them) with one pass over proc/PID/fd and the mount tables. */
void hd_usb_evaluate(HdCtx *ctx, GPtrArray *devices);

/* "1.5", "12", ... -> 5000: whether the device runs at SuperSpeed (needs xHCI in the guest). */
gboolean hd_usb_device_is_superspeed(const HdUsbDevice *dev);
/* Whether it has an interface of @iface_class (and @protocol unless -1). */
gboolean hd_usb_device_has_interface(const HdUsbDevice *dev, int iface_class, int protocol);
/* "HID", "mass storage", "hub", ... for a class code; "class XX" for others. Static. */
const char *hd_usb_class_name(int usb_class);
/* What a device is, in a few words: its bDeviceClass, or its interfaces' classes ("HID
 * keyboard", "mass storage", "hub", "vendor specific"). */
char *hd_usb_device_kind(const HdUsbDevice *dev);
/* The product string, else usb.ids' product name, else the manufacturer string, else usb.ids'
 * vendor name, else NULL. Borrowed. */
const char *hd_usb_device_name(const HdUsbDevice *dev);

typedef enum {
        HD_USB_SPEC_IDS,  /* vendor:product[:serial] */
        HD_USB_SPEC_PORT, /* bus-port.port... */
} HdUsbSpecKind;

typedef struct {
        HdUsbSpecKind kind;
        guint16 vendor, product;
        char *serial;  /* IDS: NULL when not given */
        guint bus;     /* PORT */
        char *devpath; /* PORT: "2.3" */
} HdUsbSpec;

void hd_usb_spec_clear(HdUsbSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdUsbSpec, hd_usb_spec_clear)

/* Parse what an admin types (@text: "046d:c52b", "0403:6001:A10K7XYZ", "1-2.3"), with an
 * optional @serial from --serial (only with vendor:product, not twice). Strict: four hex
 * digits each for vendor and product, a serial of 1..126 printable ASCII characters without
 * blanks or quotes, a bus 1..999 and 1..HD_USB_PORTS_MAX ports 1..31, no leading zeros, nothing
 * else. A device number ("1:4", "001/004") is refused saying why. INVALID_ARGUMENT. */
gboolean hd_usb_spec_parse(const char *text, const char *serial, HdUsbSpec *spec, GError **error);
/* The canonical text of @spec ("046d:c52b", "0403:6001:A10K7XYZ", "1-2.3"). */
char *hd_usb_spec_format(const HdUsbSpec *spec);
/* Whether @serial can be typed as a spec's serial (the rule above). */
gboolean hd_usb_serial_is_typeable(const char *serial);

/* The device of @devices @spec names (borrowed), or NULL: NOT_FOUND (naming where the devices
 * are listed, in @ctx's words: hint.h)
 * or INVALID_ARGUMENT for a vendor:product several devices have, listing each with the
 * command that picks it (@command "hostdev usb show"). Root hubs are never picked: they have
 * no port path, and vendor:product (and the serial, the controller's address) skip them. */
HdUsbDevice *hd_usb_resolve(HdCtx *ctx, GPtrArray *devices, const HdUsbSpec *spec, const char *command,
                            GError **error);

/* Guest configuration. */
typedef struct {
        gboolean force;   /* --force: override the forceable verdicts */
        const char *xhci; /* QEMU: the id of the guest's xHCI controller, already on its command
                           * line (--xhci ID); NULL: add one, id "xhci" */
} HdUsbGuestOptions;

/* Whether @id can be a QEMU device id: a letter, then letters, digits, '-', '.', '_'; at most
 * 64 characters. */
gboolean hd_usb_qemu_id_is_valid(const char *id);

/* One device resolved for a guest: how the configuration names it. */
typedef struct {
        HdUsbDevice *dev;      /* borrowed */
        HdUsbSpecKind kind;    /* how it was named */
        gboolean unique_ids;   /* its vendor:product is unique on the host */
        gboolean serial_given; /* named by serial: several devices share vendor:product */
} HdUsbGuestDevice;

/* Check @dev's verdict for a guest: REFUSED with the reasons and what to do, unless it is
 * ready, or forceable and @opts->force. FAILED when hd_usb_evaluate() has not decided it. */
gboolean hd_usb_guest_check(const HdUsbDevice *dev, const HdUsbGuestOptions *opts, GError **error);

/* Resolve @spec among @devices (hd_usb_scan() + hd_usb_evaluate()) for a guest, check its
 * verdict (as hd_usb_guest_check(), saying force in @ctx's words: hint.h) and fill @out: how the configuration must name it. A device
 * given with @opts->force although the host uses it gets a warning in @warnings (char*). The
 * CLI's xml and qemu-args and the agent's GET /v1/usb/{spec}/xml share it. */
gboolean hd_usb_guest_prepare(HdCtx *ctx, GPtrArray *devices, const HdUsbSpec *spec,
                              const HdUsbGuestOptions *opts, const char *command,
                              HdUsbGuestDevice *out, GPtrArray *warnings, GError **error);

/* libvirt <hostdev mode='subsystem' type='usb' managed='no'> elements, one per device:
 * <vendor/><product/> (libvirt finds the device at each start, wherever it is plugged) when
 * the vendor:product is unique on the host; otherwise (named by serial or port among identical
 * devices: libvirt has no serial and no port match) also <address bus device/> resolved now,
 * and a warning in @warnings (char*) that it holds only until the device is replugged. */
char *hd_usb_guest_xml(const HdUsbGuestDevice *devs, guint n, GPtrArray *warnings);

/* QEMU arguments, pairs "-device" "...": first "qemu-xhci,id=xhci" (a guest xHCI takes every
 * speed; a SuperSpeed device needs one; not with @opts->xhci, the guest's own), then per device
 * "usb-host,bus=XHCI.0,..." with vendorid/productid (named by vendor:product), hostbus/hostport
 * (named by port path: whatever is in that port), or both (named by serial: the port it is in
 * now, and only while that device is there; a warning in @warnings), and id=usb-PORTPATH.
 * Never hostaddr. NULL-terminated. */
char **hd_usb_guest_qemu_args(const HdUsbGuestDevice *devs, guint n, const HdUsbGuestOptions *opts,
                              GPtrArray *warnings);

/* The JSON object of @dev (usb-json.c; docs/json.md "hostdev usb list --json"). */
void hd_usb_json_add_device(JsonBuilder *b, const HdUsbDevice *dev);
/* The members of a guest configuration answer (`hostdev usb xml --json`, GET
 * /v1/usb/{spec}/xml): "hostdev_xml" (@xml) and "warnings" (@warnings, char*), into an open
 * object. */
void hd_usb_json_add_guest_xml(JsonBuilder *b, const char *xml, GPtrArray *warnings);
