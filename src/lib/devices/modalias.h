/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel modules that could drive a PCI device, as `lspci -k` prints them under "Kernel
 * modules:": the device's modalias (sysfs) matched against the patterns of the running
 * kernel's lib/modules/REL/modules.alias and modules.builtin.alias (shell patterns, as
 * modprobe matches them), each module once, in the order of the files. This is what the
 * kernel would load for the device: what `hostdev attach` binds when nothing recorded the
 * device's driver.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"

/* The largest alias file read (Debian's is about 1 MiB). */
#define HD_MODULES_ALIAS_MAX (32 * 1024 * 1024)

/* Module names (char*), possibly empty (no alias matches, or the kernel's module files are
 * not there: a snapshot, a container). HD_ERROR_NOT_FOUND when the device does not exist. */
GPtrArray *hd_device_kernel_modules(HdCtx *ctx, const HdAddress *addr, GError **error);

/* The matching itself, on alias file text: module names whose "alias PATTERN MODULE" line
 * matches @modalias, appended to @out when not there yet. */
void hd_modalias_match(const char *alias_text, const char *modalias, GPtrArray *out);
