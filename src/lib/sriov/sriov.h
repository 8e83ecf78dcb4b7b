/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV: a physical function (PF), its virtual functions (VFs), and changing how many VFs it
 * has, as one transaction.
 *
 * The kernel's rules (drivers/pci/iov.c sriov_numvfs_store(), verified on a QEMU NVMe PF):
 * the count goes from M to N only through 0 (EBUSY otherwise), never above sriov_totalvfs
 * (ERANGE), only with a PF driver that configures SR-IOV (ENOENT); writing the current count
 * is a no-op. Removing VFs waits, inside the write, for every process holding a VF through
 * VFIO to let go; meanwhile the count already reads 0 and the VFs' names are gone. VFs come
 * back without their driver_override, probed or not as sriov_drivers_autoprobe says.
 *
 * THE VF COUNT TRANSACTION (hd_sriov_set_numvfs):
 *
 *     recover --> load PF and VFs --> check every rule --> journal --> autoprobe --> 0 --> N
 *                                          |                              |           |    |
 *                                       refused                       any failure: roll back
 *                                  (nothing written)              (autoprobe, 0, old count)
 *
 * Invariants:
 *   S1  nothing is written while a VF is in use: on a VFIO driver with /dev/vfio/N open (a
 *       VM), detached by hostdev (an origin: `hostdev attach` first), in an interrupted
 *       journal, recorded for a VM by the agent, or needed by the host (routes or addresses on
 *       its interfaces, mounts or swap on its disks: usage.h). Removing such a VF would pull it
 *       from under its user or strand a detach;
 *   S2  a write of the count never hangs the caller: S1 finds a holder before the first
 *       write, and every count write runs bounded (hd_ctx_write_bounded, default 60 s, as
 *       long as VDSM waits). A write still waiting is reported as HD_ERROR_BUSY naming the
 *       VFs' holders; it finishes by itself when they exit, and its journal stays (locked by
 *       the waiting writer) until recovery can roll it back. Meanwhile reading the count
 *       would wait as well (Linux 6.1's sriov_numvfs_show takes the same device lock, seen on
 *       the real kernel): the write leaves a marker (hd_ctx_write_is_pending) and every
 *       reader in hostdev (device loads, scans, recovery) skips the count while it is there,
 *       so `list` and the agent's scans go on;
 *   S3  the journal (kind "sriov": the PF, its count and autoprobe before) is written before
 *       the first side effect; a failure or a crash rolls back to them (journal.h J4);
 *   S4  the PF's and the VFs' IOMMU groups are locked for the whole transaction, so no
 *       detach or attach of a VF runs beside it;
 *   S5  a count of 0 to N (or N to 0) is one write, M to N is 0 then N; autoprobe is written
 *       before VFs are created, since it only acts on VFs created later.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"
#include "device.h"

typedef struct {
        char *name;          /* the PF's canonical address */
        char *driver;        /* the PF's driver; NULL: none (the count cannot change) */
        int totalvfs;        /* sriov_totalvfs */
        int numvfs;          /* sriov_numvfs */
        int autoprobe;       /* sriov_drivers_autoprobe: 1, 0; -1 when the kernel lacks it */
        int vf_device;       /* sriov_vf_device as a number; -1 when absent */
        int offset, stride;  /* sriov_offset, sriov_stride; -1 when absent */
        GPtrArray *vfs;      /* HdDevice* (HD_FIELDS_LIST | HD_FIELD_USERS), virtfn order, with
                              * state and host_need set (state.h) */
} HdSriovPf;

/* The PF at @address. HD_ERROR_NOT_FOUND when there is no such device;
 * HD_ERROR_INVALID_ARGUMENT naming the PF when it is a VF, or naming `hostdev list` when it
 * is not an SR-IOV PF. */
HdSriovPf *hd_sriov_pf_load(HdCtx *ctx, const HdAddress *address, GError **error);
void hd_sriov_pf_free(HdSriovPf *pf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdSriovPf, hd_sriov_pf_free)

typedef struct {
        int numvfs;          /* the count wanted */
        int autoprobe;       /* -1: leave as it is; 0 (VFs meant for vfio-pci), 1 */
        guint timeout_ms;    /* bound on one count write (S2); 0: HD_SRIOV_WRITE_TIMEOUT_MS */
} HdSriovRequest;

typedef struct {
        char *pf;
        int numvfs_before, numvfs_after;
        int autoprobe_before, autoprobe_after;
        gboolean changed;    /* FALSE: the PF already was as asked (nothing written) */
        GPtrArray *removed;  /* char*: addresses of the VFs that went */
        GPtrArray *created;  /* HdDevice*: the VFs now present (DRIVER | IOMMU), in order */
} HdSriovReport;

void hd_sriov_report_free(HdSriovReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdSriovReport, hd_sriov_report_free)

/* Check every rule (S1, the count against sriov_totalvfs, a PF driver) without writing:
 * HD_ERROR_REFUSED listing every VF in the way and why, with what to run first. */
gboolean hd_sriov_check_numvfs(HdCtx *ctx, const HdSriovPf *pf, const HdSriovRequest *request,
                               GError **error);

/* The transaction above. In a dry run (hd_ctx_set_dry_run) the checks run and the writes are
 * only logged. */
HdSriovReport *hd_sriov_set_numvfs(HdCtx *ctx, const HdAddress *address,
                                   const HdSriovRequest *request, GError **error);
