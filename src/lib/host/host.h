/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host readiness: "can this machine do passthrough, and if not, what exactly do I change?"
 *
 * Every requirement the passthrough guides list becomes one check with a stable id, a status,
 * a one-line summary of what was found and, when something is missing, a hint that names the
 * exact change (a firmware setting, a kernel argument for this CPU vendor and the hostdev
 * command that applies it, a package). Everything is read below the context's root, so a
 * snapshot of another machine is judged the same way as the live one.
 *
 * Kernel arguments are judged running versus configured (cmdline.h): when the bootloader's
 * config already holds the fix the running kernel lacks, the hint is a reboot, never the
 * command that was already run.
 *
 * Check ids (a contract with scripts, documented in docs/json-check.md):
 *   cpu-virt, kvm, iommu-firmware, iommu-kernel, interrupt-remapping, vfio, kernel-features,
 *   groups, interrupted (a warning while a crashed detach/attach waits for hostdev recover),
 *   boot-bindings (a warning for boot-time bindings whose card is no longer at its address).
 */
#pragma once

#include <glib.h>

#include "ctx.h"
#include "machine.h"

typedef enum {
        HD_CHECK_PASS,
        HD_CHECK_WARN, /* works, with a caveat the admin should know about */
        HD_CHECK_FAIL, /* passthrough cannot work until this is fixed */
        HD_CHECK_SKIP, /* cannot be judged (depends on a failed check, or no data) */
} HdCheckStatus;

const char *hd_check_status_to_string(HdCheckStatus status); /* "pass", "warn", ... */

typedef struct {
        const char *id; /* stable: "iommu-kernel" */
        HdCheckStatus status;
        char *summary; /* "IOMMU enabled by the kernel (14 groups)" */
        char *hint;    /* what to do; NULL when nothing */
} HdCheck;

typedef struct {
        HdCpuVendor cpu_vendor;
        char *kernel_release;          /* NULL when unknown */
        GPtrArray *checks;             /* HdCheck*, in the order above */
        gboolean passthrough_possible; /* no check failed */
        guint interrupted_operations;  /* journals waiting for hostdev recover (state.h) */
} HdHostReport;

/* Run every check. Fails only when the root cannot be read at all; a missing fact is a
 * check result, not an error. */
HdHostReport *hd_host_check(HdCtx *ctx, GError **error);
void hd_host_report_free(HdHostReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdHostReport, hd_host_report_free)

/* The check with @id, or NULL. */
const HdCheck *hd_host_report_get(const HdHostReport *report, const char *id);
