/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel command line: the oVirt "kernel tab", with the comparison oVirt never made.
 *
 * Three command lines matter: the one the kernel runs with (proc/cmdline), the one the
 * bootloader will boot next (configured, read through bootloader.h), and the one the admin
 * asks for (desired = configured + enabled options + custom words - disabled options -
 * removed words). Options have names that mean the same on every host and are mapped to
 * kernel arguments per CPU vendor ("iommu" is intel_iommu=on on Intel and nothing on AMD,
 * where AMD-Vi is on by default and amd_iommu=on is not an argument the kernel knows).
 *
 * hostdev only takes away what it added: the arguments it wrote are remembered in
 * <root>/var/lib/hostdev/kernel-args.json, and --disable removes an argument only when it is
 * listed there. An argument the admin wrote by hand stays unless it is named with an explicit
 * --remove. An argument hostdev replaced (intel_iommu=off by intel_iommu=on) is remembered
 * too, and put back where it was when the option is disabled, so enable-then-disable leaves
 * the bootloader's file as it was, byte for byte.
 *
 * Every argument is its own word: custom arguments are split like the kernel splits its
 * command line (whitespace, with double quotes grouping), never passed on as one string.
 */
#pragma once

#include <glib.h>

#include "bootloader.h"
#include "ctx.h"
#include "kernel-options.h"
#include "kernel-words.h"
#include "machine.h"



/* A word the bootloader or the boot entry supplies by itself (BOOT_IMAGE=, initrd=, root=,
 * rootflags=, rootfstype=, ro, rw, systemd.machine_id=): in proc/cmdline without being part of
 * the configured command line. */
gboolean hd_kernel_arg_supplied_by_boot(const char *word);

/* What the caller asks for. Every array holds char* and may be NULL. */
typedef struct {
        GPtrArray *enable;  /* option names, "vfio-ids=IDS" */
        GPtrArray *disable; /* option names */
        GPtrArray *custom;  /* command line fragments, split into words */
        GPtrArray *remove;  /* words or parameter names to remove even if hostdev did not add
                             * them */
} HdKernelArgsRequest;

typedef struct {
        HdBootloaderKind bootloader;
        char *config_path;        /* the file the bootloader reads, below the root; NULL */
        GPtrArray *running;       /* char*, proc/cmdline */
        GPtrArray *configured;    /* char*, what the bootloader boots next */
        GPtrArray *desired;       /* char* */
        GPtrArray *added;         /* desired - configured */
        GPtrArray *removed;       /* configured - desired */
        GPtrArray *notes;         /* char*, what was decided and why, for the user */
        gboolean reboot_required; /* configured (after applying) differs from running */
        gboolean applied;         /* the bootloader's config was changed */
        /* HdBootloaderChange*: the files the edits change, with their diffs (create or
         * replace); after apply also the backups written. Empty when nothing changes. */
        GPtrArray *changes;
        /* After apply: what the update command did (borrowed from the loader); NULL before,
         * or when nothing was applied. */
        const HdBootloaderUpdate *update;

        /* private */
        GPtrArray *edits; /* HdArgEdit* turning configured into desired */
        GPtrArray *state; /* remembered arguments (internal records) */
        HdBootloader *loader;
} HdKernelArgs;

/* Work out the three command lines and the edits. Unknown option names, malformed values and
 * any byte that is not printable ASCII or a space (control characters, UTF-8) fail with
 * HD_ERROR_INVALID_ARGUMENT (listing the valid names); contradictions, arguments for the
 * other CPU vendor and vendor-specific options on a CPU neither Intel nor AMD with
 * HD_ERROR_REFUSED; a bootloader config that cannot
 * be parsed with HD_ERROR_FAILED (nothing is written). */
HdKernelArgs *hd_kernel_args_plan(HdCtx *ctx, const HdKernelArgsRequest *request, GError **error);

/* Write the bootloader's config (each edited file backed up first: FILE.hostdev-backup the
 * first time, FILE.hostdev-backup.STAMP after that, see bootloader.h; then replaced
 * atomically), run its update command through the backend, put the files back when that
 * command fails (the error names its exit status and last output; args->update says the
 * same), and remember the arguments hostdev added. Does nothing (and leaves applied FALSE)
 * when desired equals configured. */
gboolean hd_kernel_args_apply(HdCtx *ctx, HdKernelArgs *args, GError **error);

void hd_kernel_args_free(HdKernelArgs *args);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdKernelArgs, hd_kernel_args_free)

/* Where the remembered arguments live, below the root. */
#define HD_KERNEL_ARGS_STATE "var/lib/hostdev/kernel-args.json"
