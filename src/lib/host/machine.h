/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What machine and kernel a root holds: the CPU vendor (which IOMMU and virtualization
 * driver, which kernel arguments) and the kernel release. A leaf below the readiness checks,
 * the bootloader editor and the kernel-args planner.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef enum {
        HD_CPU_VENDOR_INTEL,
        HD_CPU_VENDOR_AMD, /* AMD and Hygon: AMD-V and AMD-Vi */
        HD_CPU_VENDOR_OTHER,
} HdCpuVendor;

const char *hd_cpu_vendor_to_string(HdCpuVendor vendor); /* "intel", "amd", "other" */

/* From proc/cpuinfo's vendor_id; OTHER when it cannot be read. */
HdCpuVendor hd_host_get_cpu_vendor(HdCtx *ctx);

/* proc/sys/kernel/osrelease ("6.1.0-18-amd64"), NULL when absent. */
char *hd_host_get_kernel_release(HdCtx *ctx);

/* proc/sys/kernel/random/boot_id: the UUID the kernel draws at each boot (a reboot is seen as
 * a new one), NULL when absent or not a UUID. */
char *hd_host_get_boot_id(HdCtx *ctx);

/* "6.1.0-18-amd64" -> 6, 1. FALSE when the string does not start with MAJOR.MINOR. */
gboolean hd_kernel_release_parse(const char *release, guint *major, guint *minor);

/* Value of the first "KEY\t: value" line of a proc/cpuinfo text, or NULL. */
char *hd_cpuinfo_field(const char *cpuinfo, const char *key);

/* From cpuinfo's vendor_id ("GenuineIntel", "AuthenticAMD", "HygonGenuine"). */
HdCpuVendor hd_cpu_vendor_from_id(const char *vendor_id);
