/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Detach and attach: moving devices between their host drivers and vfio-pci as one
 * transaction that either completes or leaves the host as it was.
 *
 * THE DEVICE LIFECYCLE
 *
 *                 detach (hd_bind_detach)
 *   HOST_DRIVER ----------------------------> UNBOUND ------------------> VFIO_FREE
 *        ^      override=vfio-pci, unbind       |     drivers_probe          |  ^
 *        |                                      |     (vfio-pci binds)       |  | VM stops
 *        |   attach (hd_bind_attach)            |                            v  | (closes N)
 *        +--------------------------------------+  <---------------  ASSIGNED(vm)
 *            drivers_probe / drivers/<orig>/bind     override cleared,   a process holds
 *                                                    unbind vfio-pci     /dev/vfio/N open
 *
 *   HOST_DRIVER  bound to a driver the kernel's viability rule does not accept (nouveau, igc).
 *   UNBOUND      no driver. Transient inside a transaction; a resting state only for a device
 *                that had no driver to begin with (an idle bridge) or whose driver is gone.
 *   VFIO_FREE    bound to vfio-pci (or a vfio variant, or pci-stub) and nobody has the group
 *                open: a VM may take it, and attach may give it back.
 *   ASSIGNED     VFIO_FREE and a process (QEMU) holds /dev/vfio/N open. Entered and left by the
 *                VMM, never by hostdev; attach refuses to touch such a group (HD_ERROR_BUSY),
 *                because unbinding under a running VM is what makes the kernel hang in
 *                vfio_unregister_group_dev() waiting for it; detach refuses it too unless
 *                every device it would move is on vfio already (then it is a no-op).
 *
 * These states are decided, for every command and the agent, by state.h, which also gives
 * the state of a whole group (ready, partly-detached, in-use, interrupted, ...) and what the
 * host needs a device for.
 *
 * Edges and who is responsible:
 *   HOST_DRIVER -> UNBOUND -> VFIO_FREE   hd_bind_detach(): plan, checks, then per device
 *                                         driver_override=vfio-pci, unbind, drivers_probe,
 *                                         verify the driver link.
 *   VFIO_FREE -> UNBOUND -> HOST_DRIVER   hd_bind_attach(): clear driver_override, unbind
 *                                         vfio-pci, drivers_probe, and bind the recorded
 *                                         original driver when the probe chose another.
 *   VFIO_FREE <-> ASSIGNED                the VMM (open/close of /dev/vfio/N).
 *   any -> original state                 hd_journal_rollback() after a failure,
 *                                         hd_journal_recover() after a crash (journal.h).
 *
 * Invariants:
 *   B1  every check runs on every device before the first write: a refusal changes nothing;
 *   B2  a bridge is never unbound (the kernel's rule accepts bridges on their driver);
 *   B3  the journal is written before the first write and names every device with its
 *       original driver and override (journal.h J1, J2);
 *   B4  after hd_bind_detach()/hd_bind_attach() returns, with success or not, and after
 *       hd_journal_recover(), each device of the transaction is on its original driver or on
 *       its target driver, never left without a driver it had;
 *   B5  a group is changed by one process at a time (lock.h); ASSIGNED groups are not changed;
 *   B6  --dry-run records the same writes in the same order and changes nothing (no journal,
 *       no lock, no module load);
 *   B7  phase 1 recovers every interrupted transaction first, but one that cannot be
 *       recovered yet stops only transactions on the IOMMU groups it names (journal.h J6);
 *       files in the journal directory that are not journals are quarantined (J5);
 *   B8  the moment after a commit is a crash-injection point (hd_ctx_crash_point()): a caller
 *       that records the result elsewhere (the agent's VM record, vm-record.h) is tested
 *       against a crash between the two.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"
#include "device.h"

typedef enum {
        HD_DEVICE_STATE_HOST_DRIVER,
        HD_DEVICE_STATE_UNBOUND,
        HD_DEVICE_STATE_VFIO_FREE,
        HD_DEVICE_STATE_ASSIGNED,
} HdDeviceState;

const char *hd_device_state_to_string(HdDeviceState state);

/* The lifecycle state of @dev (loaded with HD_FIELD_DRIVER and HD_FIELD_IOMMU). */
HdDeviceState hd_bind_get_state(HdCtx *ctx, const HdDevice *dev);

typedef struct {
        gboolean group;       /* take the other endpoints of each device's IOMMU group along */
        guint force;          /* how many --force: 1 overrides boot VGA, routed NICs, mounted
                               * non-root filesystems; 2 also the default-route NIC (or the
                               * port of a bridge, bond, VLAN... that carries it) and a GPU
                               * whose nodes processes hold open */
        gboolean persist;     /* detach: also bind at boot (persist.h) */
        const char *driver;   /* attach: this driver instead of the original one; persist:
                               * this driver at boot instead of vfio-pci (any driver the
                               * host has, as driverctl's overrides) */
        gboolean keep_persist; /* attach: leave the boot-time bindings in place */
} HdBindOptions;

typedef struct {
        char name[HD_ADDRESS_STRLEN];
        int group;
        char *from_driver;    /* NULL: none */
        char *to_driver;      /* NULL: none */
        gboolean changed;     /* FALSE: was already where asked */
        gboolean requested;   /* named by the caller (FALSE: added by --group) */
        gboolean persist_removed; /* attach: its boot-time binding was removed (would be, in
                                   * a dry run) */
} HdBindDevice;

typedef struct {
        GPtrArray *devices;   /* HdBindDevice*, in the order they were handled */
        gboolean dry_run;
        guint recovered;      /* interrupted transactions recovered before starting (in a
                               * dry run: that the real run will recover first) */
        guint recovery_writes; /* the first writes of the write log that are recovery's */
        gboolean persisted;
} HdBindReport;

void hd_bind_report_free(HdBindReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdBindReport, hd_bind_report_free)

/* Move @addresses (and with opts->group the rest of their groups) to vfio-pci. Errors:
 * NOT_FOUND, REFUSED (a safety check, one line per refusal naming the device, the reason and
 * the way forward), BUSY (group locked or held open), FAILED (a write failed or a device did
 * not bind; everything was rolled back, and the message says so). The writes made (or, in a
 * dry run, that would be made) are in hd_ctx_get_write_log(). */
HdBindReport *hd_bind_detach(HdCtx *ctx, const HdAddress *addresses, guint n,
                             const HdBindOptions *opts, GError **error);

/* `hostdev persist add`: bind @addresses (with opts->group the rest of their groups) to
 * vfio-pci at every boot, without moving them now. Planned and checked exactly as
 * hd_bind_detach() (the same refusals, the same opts->force levels and opts->group; bridges
 * are refused whatever the force, B2), with the group as it will be at boot: a member outside
 * the plan that is not bound at boot itself keeps the group from being viable. The report
 * lists the plan (to_driver: vfio-pci at boot; changed FALSE when already bound at boot);
 * a dry run records the files it would write. This, detach with opts->persist and nothing
 * else installs boot-time bindings: hd_persist_add() is the unchecked writer below them. */
HdBindReport *hd_bind_persist(HdCtx *ctx, const HdAddress *addresses, guint n,
                              const HdBindOptions *opts, GError **error);

/* The plan and checks of hd_bind_detach() (phases 2 and 3) without recovery, locks or writes:
 * the same errors in the same words. For answers that must agree with detach. */
gboolean hd_bind_check_detach(HdCtx *ctx, const HdAddress *addresses, guint n,
                              const HdBindOptions *opts, GError **error);

/* The checks of hd_bind_detach() that hold for devices libvirt detaches itself
 * (managed='yes' when the VM starts), group viability aside: for `hostdev xml --managed`. */
gboolean hd_bind_check_managed(HdCtx *ctx, const HdAddress *addresses, guint n, guint force,
                               GError **error);

/* The detach that would pass the checks for @address without force, in the context's
 * vocabulary (hint.h): the device alone, else with its group ("hostdev detach ADDR --group";
 * *@needs_group, may be NULL, says which). NULL when neither passes, with the refusal of the
 * device alone in @error: why, and what would work (H2). */
char *hd_bind_suggest_detach(HdCtx *ctx, const HdAddress *address, gboolean *needs_group,
                             GError **error);

/* Give @addresses (and with opts->group the vfio-bound rest of their groups) back to the
 * host: the driver recorded when they were detached, opts->driver, or the kernel's choice.
 *
 * Attach and the boot-time binding: a device given back to the host is given back for good.
 * A boot-time binding left in place would take the device from the host again at the next
 * boot, which is the surprise hostdev exists to prevent, so attach removes it (persist.h) and
 * reports it (HdBindDevice.persist_removed; the CLI says so in words). opts->keep_persist
 * (`--keep-persist`, the API's "keep_persist": true) keeps it, for a device given back only
 * until the next boot.
 * An opts->driver that is neither registered nor a module or built-in of the running kernel
 * fails with INVALID_ARGUMENT, naming the drivers there are, before anything is written. */
HdBindReport *hd_bind_attach(HdCtx *ctx, const HdAddress *addresses, guint n,
                             const HdBindOptions *opts, GError **error);

/* Whether a VM could be started with @address: the refusals of hd_bind_detach() without
 * force that no later state can lift, in the same words (REFUSED): a bridge or host bridge, a
 * device without an IOMMU group, the boot VGA device (unless it is on vfio-pci already).
 * NOT_FOUND for no such device. For defining a VM, so that define refuses what start would. */
gboolean hd_bind_check_for_vm(HdCtx *ctx, const HdAddress *address, GError **error);
