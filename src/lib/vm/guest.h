/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest configuration: how host devices appear in a VM. From a list of host addresses this
 * module makes a plan (which guest PCI address each gets, which are multifunction) and turns
 * it into libvirt <hostdev> XML, QEMU -device arguments, or a patch of an existing libvirt
 * domain definition.
 *
 * The part people get wrong by hand: the functions of one host device (a GPU and its HDMI
 * audio) must be functions of one guest slot, with multifunction='on' on function 0, or guest
 * drivers that expect the pair (NVIDIA's, AMD's) misbehave. The plan does that by itself.
 *
 * A ROM image (a GPU's vBIOS) belongs to one device: each HdGuestRom names the host device it
 * is for, and the other functions of the slot (the HDMI audio) never get it. A ROM file is
 * checked before it is named (hd_guest_check_roms): a regular file below the context's root,
 * at most HD_GUEST_ROM_MAX bytes, starting with the PCI option ROM signature 0x55 0xAA.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"

typedef enum {
        HD_ROM_BAR_DEFAULT = -1,
        HD_ROM_BAR_OFF = 0,
        HD_ROM_BAR_ON = 1,
} HdRomBar;

/* An option ROM image for one device: QEMU's romfile=, libvirt's <rom file=>. */
typedef struct {
        HdAddress device;
        const char *file; /* absolute path on the host that runs the VM */
} HdGuestRom;

/* A PCI expansion ROM BAR decodes at most 16 MiB; real vBIOS images are 64 KiB to 1 MiB. */
#define HD_GUEST_ROM_MAX (16 * 1024 * 1024)

/* The ROM BAR of one device (overrides HdGuestOptions.rom_bar for it). */
typedef struct {
        HdAddress device;
        HdRomBar bar;
} HdGuestRomBar;

/* The guest's machine type, for QEMU arguments. DEFAULT: devices on the root bus, named
 * pcie.0 (q35) where an address is needed, as before machines could be named. Q35: each host
 * device (all its functions) behind a PCIe root port of its own, as Proxmox's "PCI-Express"
 * option does, so guest drivers see a PCIe link. PC (i440fx): the root bus pci.0, no PCIe. */
typedef enum {
        HD_GUEST_MACHINE_DEFAULT,
        HD_GUEST_MACHINE_Q35,
        HD_GUEST_MACHINE_PC,
} HdGuestMachine;

typedef struct {
        gboolean managed;       /* libvirt detaches and reattaches the devices itself */
        guint force;            /* with managed: as detach's force levels (bind.h) */
        HdRomBar rom_bar;       /* every device */
        const HdGuestRomBar *rom_bars; /* per device, may be NULL */
        guint n_rom_bars;
        HdGuestMachine machine; /* QEMU arguments only */
        gboolean primary_gpu;   /* QEMU: @primary is the guest's primary VGA (x-vga=on, and
                                 * -vga none for QEMU's own) */
        HdAddress primary;
        const HdGuestRom *roms; /* ROM images, each for the device it names; may be NULL */
        guint n_roms;
        gboolean fixed_address; /* put the first slot at guest_bus/guest_slot */
        guint guest_domain;
        guint guest_bus;
        guint guest_slot;
} HdGuestOptions;

typedef struct {
        HdAddress host;
        char host_name[HD_ADDRESS_STRLEN];
        gboolean has_guest_address;
        HdAddress guest;
        gboolean multifunction; /* function 0 of a guest slot holding several functions */
        char *id;               /* "hostdev0" */
} HdGuestDevice;

void hd_guest_device_free(HdGuestDevice *gd);

/* Plan the guest addresses. @used_slots (may be NULL) lists guest "bus:slot" pairs
 * (GUINT_TO_POINTER(bus << 8 | slot)) that are taken, for patching an existing domain.
 * Duplicate host addresses are refused. */
GPtrArray *hd_guest_plan(const HdAddress *hosts, guint n_hosts, const HdGuestOptions *opts,
                         GHashTable *used_slots, GError **error);

/* The <hostdev> elements, one per line group, indented by @indent spaces. */
char *hd_guest_hostdev_xml(const GPtrArray *plan, const HdGuestOptions *opts, guint indent);

/* The QEMU arguments: pairs "-device" "vfio-pci,host=..." (on Q35 each host device after
 * its "-device" "pcie-root-port,id=hostdev-rpN,chassis=N+100,slot=0"; with primary_gpu
 * "-vga" "none" first). NULL-terminated. */
char **hd_guest_qemu_args(const GPtrArray *plan, const HdGuestOptions *opts);

/* @domain_xml without the <hostdev> elements of @hosts (each with its line), every other byte
 * kept; NOT_FOUND naming a device it does not have. */
char *hd_guest_remove_hostdevs(const char *domain_xml, const HdAddress *hosts, guint n_hosts,
                               GError **error);

/* hd_guest_plan() for devices to add to the domain @domain_xml: the guest slots it uses are
 * avoided, a host device it already has is refused (REFUSED), XML that is not one <domain> is
 * INVALID_ARGUMENT. For hot-plug (one <hostdev> element per device). */
GPtrArray *hd_guest_plan_for_domain(const char *domain_xml, const HdAddress *hosts,
                                    guint n_hosts, const HdGuestOptions *opts, GError **error);

/* Add the devices to a libvirt domain XML document, preserving every byte of it except the
 * inserted elements (before </devices>). Guest slots already used in the document are
 * avoided; a host device already in the document is refused. */
char *hd_guest_patch_domain_xml(const char *domain_xml, const HdAddress *hosts, guint n_hosts,
                                const HdGuestOptions *opts, GError **error);

/* The PCI host devices (<hostdev><source><address>) of a domain XML document; empty when
 * it cannot be parsed. */
GArray *hd_guest_domain_hostdevs(const char *domain_xml);

/* Check the ROM images of @opts: each names one of @hosts (at most one image per device), and
 * its file is absolute, exists below the context's root, is a regular file of at most
 * HD_GUEST_ROM_MAX bytes and starts with 0x55 0xAA. HD_ERROR_INVALID_ARGUMENT (a device not
 * listed, twice, a relative path) or HD_ERROR_NOT_FOUND / HD_ERROR_REFUSED naming the file. */
gboolean hd_guest_check_roms(HdCtx *ctx, const HdAddress *hosts, guint n_hosts,
                             const HdGuestOptions *opts, GError **error);

/* Check that the devices can be given to a guest now: each exists and is on a vfio driver
 * (unless @opts->managed). With @opts->managed, the devices that are not on vfio-pci yet
 * (libvirt would detach them when the VM starts) must pass detach's checks with
 * @opts->force (hd_bind_check_managed(): the boot GPU, a routed NIC, a mounted disk's
 * controller are refused, REFUSED). A refusal's advice names a command that passes the same
 * checks, or none (hd_bind_suggest_detach()). Warnings (a group not given whole) go to the
 * context's log. */
gboolean hd_guest_check_devices(HdCtx *ctx, const HdAddress *hosts, guint n_hosts,
                                const HdGuestOptions *opts, GError **error);
