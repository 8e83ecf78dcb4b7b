/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups: the unit the kernel hands to a VM.
 *
 * Viability is the kernel's rule (vfio): every member has no driver, a vfio driver, pci-stub,
 * or is a bridge. The verdict answers the user's question "can I give this group to a VM,
 * and what else goes with it?" in plain words, and where a group holds more than one
 * endpoint, the explanation says why (a port without ACS, a multifunction device without
 * ACS, conventional PCI behind a PCIe-to-PCI bridge).
 */
#pragma once

#include <glib.h>

#include "ctx.h"
#include "device.h"

typedef enum {
        HD_VERDICT_READY,             /* one endpoint (or all already free): detach it */
        HD_VERDICT_READY_WITH_BRIDGE, /* as READY, and bridges in the group stay put */
        HD_VERDICT_NEEDS_GROUP,       /* more endpoints on host drivers must move together */
        HD_VERDICT_BOOT_GPU,          /* the host's boot display is in the group */
        HD_VERDICT_NO_ENDPOINT,       /* only bridges: nothing to assign */
        /* From the group's state (state.h), which overrides the ones above: */
        HD_VERDICT_PARTLY_DETACHED,   /* some endpoints on vfio, others on host drivers */
        HD_VERDICT_IN_USE,            /* a process (a VM) holds /dev/vfio/N open */
        HD_VERDICT_HOST_NEEDS_IT,     /* the host uses a member: detach refuses it */
        HD_VERDICT_INTERRUPTED,       /* an interrupted detach/attach names it: hostdev recover */
} HdGroupVerdict;

const char *hd_group_verdict_to_string(HdGroupVerdict verdict);

typedef struct {
        int number;
        GPtrArray *members;      /* HdDevice*, borrowed from the inventory, by address */
        guint n_endpoints;       /* members that are not bridges or host bridges */
        gboolean viable;         /* the kernel's rule, now */
        HdGroupVerdict verdict;
        char *verdict_text;      /* "ready", "needs 0000:01:00.1 (Audio device, ...) ..." */
        char *shared_reason;     /* why several endpoints share it; NULL otherwise */
        GPtrArray *host_use;     /* "0000:02:00.0: /dev/nvme0n1p2 on /", see below */

        /* Filled by the state module (state.h); -1 / NULL / empty until then. */
        int state;               /* HdGroupState */
        GPtrArray *holders;      /* HdHolder*: processes with /dev/vfio/N open */
        gboolean host_needs_it;  /* a member on a host driver is used by the host */
        char *interrupted;       /* the journal (below the root) of an interrupted operation
                                  * on the group, NULL when none */
} HdGroup;

/* A process holding /dev/vfio/N open. */
typedef struct {
        int pid;
        char *process; /* comm, NULL when unreadable */
        char *vm;      /* the VM's name (QEMU's -name guest=NAME: libvirt's domain), NULL */
} HdHolder;

void hd_holder_free(HdHolder *holder);
/* "VM win10 (process 4242, qemu-system-x86)" or "process 4242 (qemu-system-x86)" */
char *hd_holder_describe(const HdHolder *holder);

HdGroup *hd_group_new(int number);
void hd_group_free(HdGroup *group);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdGroup, hd_group_free)

/* Members that count for the kernel's rule as "not in the way". */
gboolean hd_group_member_is_viable(const HdDevice *dev);

/* Fill viable, verdict and verdict_text from the members (which must have IDS, NAMES, DRIVER,
 * HEADER, BOOT_VGA). When the group holds several endpoints, also work out shared_reason,
 * reading the config space of the members and the bridges above them through @ctx. */
void hd_group_evaluate(HdGroup *group, HdCtx *ctx);

/* Record what the host does with the members, from an index made by hd_usage_index()
 * (address -> sentences), and say so in the verdict: a group that is "ready" by the kernel's
 * rule is not ready when it holds the root disk. Call after hd_group_evaluate(). */
void hd_group_note_host_use(HdGroup *group, GHashTable *usage_index);

/* Endpoints of the group other than @except that are on a driver the kernel's rule does not
 * accept: what must be detached as well. Borrowed pointers. */
GPtrArray *hd_group_blockers(const HdGroup *group, const HdDevice *except);
