/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record of the devices moved to vfio-pci for VMs (the agent's VM starts):
 * var/lib/hostdev/agent/vms.ini below the root, one group per VM:
 *
 *   [vm gpu-vm]
 *   state=started
 *   detached=0000:01:00.0;0000:01:00.1;
 *
 * A VM start moves devices in a bind transaction (bind.h), which its journal makes undoable
 * until it commits; after the commit only this record says that the devices belong to a VM
 * and must be given back when it stops. So the record is written before the move, not after:
 *
 *   (none) --hd_vm_record_set(STARTING, candidates)--> starting --detach commits,
 *          hd_vm_record_set(STARTED, moved)--> started --VM stopped, devices given back,
 *          hd_vm_record_drop()--> (none)
 *
 *   starting  the intent: the start may move the devices named (every member of the groups of
 *             the VM's devices that was not on a vfio driver when it was written). Written
 *             before the first side effect of the start; if it cannot be written, nothing
 *             moves. A start that fails before the VM runs gives back what it moved and drops
 *             the record (or leaves it starting when it cannot: see below).
 *   started   the devices the start moved (and only those: a device the admin had put on
 *             vfio-pci stays there after the VM). If this cannot be written after the move,
 *             the move is undone (attach) and the record dropped.
 *
 *   Reconciling (the agent at start, after journal recovery, and before any operation on that
 *   VM): a "starting" record is a start that was interrupted (a crash, a failed write): if the
 *   VM is not running, the named devices that are on vfio-pci are given back to their origins
 *   (journal.h) and the record dropped; if it runs, the record becomes "started" with the named
 *   devices that are on vfio-pci. A "started" record of a VM that is not running is given back.
 *
 * Invariants:
 *   V1  a record naming a device exists before the device is moved for a VM, and is dropped
 *       only after the device is back on its host driver (or was never moved);
 *   V2  "started" names only devices moved for that VM; "starting" may name more (its
 *       candidates), and reconciling gives back only those on a vfio driver;
 *   V3  the file is read like any input: only valid VM names and addresses are taken, at most
 *       HD_VM_RECORD_MAX_DEVICES per VM and HD_VM_RECORD_MAX_BYTES in all; a file that breaks
 *       the rules reads as empty, and is moved into var/lib/hostdev/agent/quarantine/ (never
 *       deleted, with a warning) by the next write or by hd_vm_records_load() (the agent's
 *       start), never by the readers that only show it;
 *   V4  every write is a side effect of the context (hd_ctx_replace_file: the write log, crash
 *       injection with HOSTDEV_CRASH_AT, the sim's HOSTDEV_SIM_FAIL), under the lock file
 *       var/lib/hostdev/agent/vms.lock (threads and processes).
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"

#define HD_VM_RECORD_MAX_DEVICES 256
#define HD_VM_RECORD_MAX_BYTES (1 << 20)

typedef enum {
        HD_VM_RECORD_STARTING,
        HD_VM_RECORD_STARTED,
} HdVmRecordState;

const char *hd_vm_record_state_to_string(HdVmRecordState state);

typedef struct {
        char *vm;
        HdVmRecordState state;
        GPtrArray *devices; /* char* canonical addresses */
} HdVmRecord;

void hd_vm_record_free(HdVmRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdVmRecord, hd_vm_record_free)

/* Every record, in the file's order; empty when there are none (a bad file is quarantined). */
GPtrArray *hd_vm_records_load(HdCtx *ctx);
/* The record of @vm, NULL when there is none. */
HdVmRecord *hd_vm_record_get(HdCtx *ctx, const char *vm);
/* Write the record of @vm (replacing it). */
gboolean hd_vm_record_set(HdCtx *ctx, const char *vm, HdVmRecordState state, GPtrArray *devices,
                          GError **error);
/* Forget @vm (nothing to do when it has no record). */
gboolean hd_vm_record_drop(HdCtx *ctx, const char *vm, GError **error);
/* The VM whose record names @device (a start in progress counts), NULL for none. */
char *hd_vm_record_holding(HdCtx *ctx, const char *device);

/* What a start that detaches @addresses with their groups may move: each of them and every
 * other member of their IOMMU groups that is not on a vfio driver now (char* addresses). */
GPtrArray *hd_vm_record_candidates(HdCtx *ctx, const HdAddress *addresses, guint n);
