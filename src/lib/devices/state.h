/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state of a device and of its IOMMU group: the one answer that `list`, `show`, `groups`,
 * `verify`, the checks of detach and attach, and the agent all give. Nobody else decides it.
 *
 * DEVICE STATE is bind.h's lifecycle, read from the device and its group:
 *   host-driver  on a driver the kernel's viability rule does not accept (nouveau, igc, nvme)
 *   unbound      no driver
 *   vfio-free    on vfio-pci, a vfio variant or pci-stub, and nobody has /dev/vfio/N open
 *   assigned     as vfio-free, and a process (a VM) holds /dev/vfio/N open
 * and, beside it, what the host needs the device for (HdDevice.host_need): routes or addresses
 * on its network interfaces, mounts or swap on its disks (usage.h). A device the host needs
 * is refused by detach without --force (the root filesystem even with it), so it is not
 * "assignable", and `show`, `list` and the agent say why in the same words.
 *
 * GROUP STATE, from its endpoints (bridges never count, as in the kernel's rule); the first
 * rule that matches:
 *   no-endpoint      only bridges: nothing to assign
 *   interrupted      a journal of an interrupted detach or attach names the group: its
 *                    drivers are whatever the crash left; `hostdev recover` (or the next
 *                    detach/attach, which recovers first) rolls it back (journal.h)
 *   in-use           a process holds /dev/vfio/N open: a running VM (held_by names the pid,
 *                    the process and the libvirt domain). Detach is a no-op there when every
 *                    endpoint is on vfio already; attach refuses
 *   ready            no endpoint on a host driver, at least one on vfio (the kernel's rule
 *                    holds) and nobody has it open: a VM can be started with it
 *   partly-detached  some endpoints on vfio, others still on host drivers: not viable; detach
 *                    the rest (--group) or attach the ones on vfio
 *   host-driver      no endpoint on vfio, at least one on a host driver: detach first
 *   unbound          no endpoint has a driver (viable, but no VM can use a driverless device)
 * and, beside it, host_needs_it: a member on a host driver is needed by the host (above) or
 * is the boot VGA device.
 *
 * THE VERDICT (verdict_code, what to do about the group) follows from the state, first match:
 *   interrupted -> "interrupted", in-use -> "in-use", no-endpoint -> "no-endpoint", the boot
 *   GPU on a host driver -> "boot-gpu", host_needs_it -> "host-needs-it", partly-detached ->
 *   "partly-detached", otherwise group.c's answer for the kernel's rule: "needs-group",
 *   "ready-with-bridge" or "ready" (nothing stands in the way of giving it to a VM, after a
 *   detach when it is still on host drivers).
 *
 * The facts are read once per question (HdStateFacts): one pass over sys/class/{net,block}
 * and procfs for the host's use, one pass over /proc/PID/fd for the holders of every group,
 * one read of the journal directory. Nothing here writes.
 */
#pragma once

#include <glib.h>

#include "ctx.h"
#include "device.h"
#include "group.h"
#include "inventory.h"

typedef enum {
        HD_GROUP_STATE_HOST_DRIVER,
        HD_GROUP_STATE_UNBOUND,
        HD_GROUP_STATE_PARTLY_DETACHED,
        HD_GROUP_STATE_READY,
        HD_GROUP_STATE_IN_USE,
        HD_GROUP_STATE_NO_ENDPOINT,
        HD_GROUP_STATE_INTERRUPTED,
} HdGroupState;

const char *hd_group_state_to_string(HdGroupState state);

typedef struct HdStateFacts HdStateFacts;

/* Read the facts the states are made of (see above). Never fails: what cannot be read is
 * absent. */
HdStateFacts *hd_state_facts_read(HdCtx *ctx);
void hd_state_facts_free(HdStateFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdStateFacts, hd_state_facts_free)

/* Interrupted operations found (journals left by a crash, and files in the journal directory
 * that recovery would quarantine): what "1 interrupted operation: run hostdev recover" counts.
 * Transactions that a live process is running are not counted. */
guint hd_state_facts_interrupted(const HdStateFacts *facts);

/* hd_state_facts_interrupted() without the other facts. */
guint hd_state_count_interrupted(HdCtx *ctx);

/* The holders of group @group (borrowed HdHolder*, NULL when none). */
GPtrArray *hd_state_facts_holders(const HdStateFacts *facts, int group);

/* Decide @group (after hd_group_evaluate()) and its members: each member's state and
 * host_need, the group's state, holders, host_needs_it, interrupted, host_use, verdict and
 * verdict_text. */
void hd_state_apply_group(HdGroup *group, const HdStateFacts *facts);

/* Decide one device that has no group (no IOMMU), or whose group is not loaded. */
void hd_state_apply_device(HdDevice *dev, const HdStateFacts *facts);

/* hd_group_evaluate() and hd_state_apply_group() for every group of @inv, and the devices
 * without a group: what `list`, `groups` and the agent's inventory call. Returns
 * hd_state_facts_interrupted(). */
guint hd_state_evaluate_inventory(HdCtx *ctx, HdInventory *inv);
/* The same with facts the caller read (and keeps, e.g. to fingerprint them). */
void hd_state_evaluate_inventory_with(HdCtx *ctx, HdInventory *inv, const HdStateFacts *facts);

/* The facts that change group states without an event (holders of every /dev/vfio/N, the
 * journals recovery would act on) as one string: equal strings, equal facts. The agent moves
 * its inventory generation when it changes. */
char *hd_state_facts_fingerprint(const HdStateFacts *facts);

/* Processes with /dev/vfio/N open, for every N at once (one pass over /proc below the root):
 * GINT_TO_POINTER(N) -> GPtrArray of HdHolder*. */
GHashTable *hd_state_scan_holders(HdCtx *ctx);


/* "1 interrupted operation: run hostdev recover (hostdev recover --dry-run shows what it
 * would do)", NULL for 0. */
char *hd_state_interrupted_text(guint n);

/* @dev's IOMMU group read from the group's own directory, without scanning the bus: the other
 * members loaded with HD_FIELDS_LIST (owned by *members), @dev standing for itself, the
 * verdict evaluated and the state of the group and its members decided (state.h: `hostdev
 * show` and the agent's device answer). NULL when @dev has no group (@dev's state is decided
 * all the same). */
HdGroup *hd_iommu_group_load(HdCtx *ctx, HdDevice *dev, GPtrArray **members);
