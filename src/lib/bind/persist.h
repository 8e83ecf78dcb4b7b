/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bindings that survive a reboot (`hostdev detach --persist`, `hostdev persist`).
 *
 * The device must be claimed by address before its host driver can take it at boot. As
 * driverctl does, a udev rule sets driver_override when the device is added:
 *
 *   ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:01:00.0", ATTR{driver_override}="vfio-pci"
 *
 * Per address, unlike vfio-pci.ids=, which cannot tell two identical cards apart; and, as
 * driverctl cannot, for the card recorded there only: the rule also matches the vendor,
 * device and subsystem ids the device had when the binding was made, so a different card
 * moved into that slot keeps its own driver (hd_persist_list() reports the binding as not
 * applied, and so do `hostdev check` and the agent's readiness). The rule
 * runs before 80-drivers.rules loads the host driver's module; a modprobe.d softdep makes
 * vfio-pci load before that module, so the override finds its driver; and both files go into
 * the initramfs (an initramfs-tools hook or a dracut.conf.d snippet, whichever the host has)
 * because a GPU or NVMe driver is often loaded from there, before the root filesystem's udev
 * rules exist. A host driver built into the kernel probes before udev runs and cannot be
 * pre-empted this way; `hostdev persist list` says so for such devices.
 *
 * Files (all written through the backend, so the sim and --dry-run see them):
 *   etc/hostdev/persist.d/<address>         one per device: driver=, host_driver=, and the
 *                                           ids vendor=, device=, subsystem_vendor=,
 *                                           subsystem_device= (4 hex digits each; entries
 *                                           written before ids were recorded have none and
 *                                           match by address alone), and physfn= for a VF
 *                                           (its rule then loads the bound driver's module
 *                                           and runs drivers_probe: VFs made with
 *                                           sriov_drivers_autoprobe 0 are not probed, and
 *                                           no host module load pulls vfio-pci in for them)
 *   etc/udev/rules.d/60-hostdev-vfio.rules  generated from persist.d
 *   etc/modprobe.d/hostdev-vfio.conf        softdep <host module> pre: <bound driver's
 *                                           module> (vfio-pci, or any driver: driverctl's
 *                                           overrides)
 *   etc/initramfs-tools/hooks/hostdev-vfio  when etc/initramfs-tools exists (then
 *                                           update-initramfs -u)
 *   etc/dracut.conf.d/hostdev-vfio.conf     when etc/dracut.conf.d exists (then dracut -f)
 *
 * Invariants:
 *   P1  every generated file is derived from the whole of persist.d: an add or remove writes
 *       its entry and regenerates under run/hostdev/persist.lock (an flock that waits), so
 *       concurrent adds and removes (two CLIs, the agent) never drop each other's rules;
 *   P2  only names that are addresses and driver names that are names reach a generated file
 *       (persist.d is read like any input).
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef struct {
        char *name;        /* address */
        char *driver;      /* the driver it is bound to at boot: vfio-pci, or another */
        char *host_driver; /* the driver it would get otherwise, NULL when unknown */
        gboolean builtin;  /* host_driver is built into the kernel: the rule cannot win */
        /* the card the binding is for: 16-bit ids, -1 when not recorded */
        int vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
        /* why the rule will not bind the device at the next boot: another card sits at the
         * address, or none does; NULL when it applies */
        char *not_applied;
        /* a VF: its PF's address (the rule also probes it: sriov.h), else NULL */
        char *physfn;
} HdPersistEntry;

void hd_persist_entry_free(HdPersistEntry *e);

/* Add (or refresh) @names, then regenerate the files. No safety checks: this is the writer
 * under hd_bind_persist() and hd_bind_detach() with persist, which plan and check first;
 * callers that take addresses from a user go through those (bind.h). */
gboolean hd_persist_add(HdCtx *ctx, GPtrArray *names, const char *driver, GError **error);
/* Remove @name (HD_ERROR_NOT_FOUND when it is not persisted), then regenerate. */
gboolean hd_persist_remove(HdCtx *ctx, const char *name, GError **error);
gboolean hd_persist_has(HdCtx *ctx, const char *name);
/* The driver @name is bound to at boot, NULL when none. */
char *hd_persist_get_driver(HdCtx *ctx, const char *name);
/* Whether this host has PCI driver @driver: registered now (sys/bus/pci/drivers), or a module
 * of the running kernel (modules.dep, modules.builtin: '-' and '_' alike). */
gboolean hd_driver_available(HdCtx *ctx, const char *driver);
/* HdPersistEntry*, sorted by address; empty when none. */
GPtrArray *hd_persist_list(HdCtx *ctx, GError **error);
