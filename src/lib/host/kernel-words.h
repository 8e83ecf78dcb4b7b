/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel command line as words: split as the kernel splits it, compared as the kernel
 * compares parameters. A leaf: the readiness checks (host.c), the bootloader editor
 * (bootloader.c) and the kernel-args planner (cmdline.c) all stand on it.
 */
#pragma once

#include <glib.h>

/* Split a command line into words as the kernel does (lib/cmdline.c next_arg): whitespace
 * separates, double quotes group and stay part of the word. An unterminated quote fails with
 * HD_ERROR_INVALID_ARGUMENT. Returns char* words. */
GPtrArray *hd_cmdline_split(const char *line, GError **error);

/* The same split as byte offsets: pairs [start, end) as gsize, so an editor can change one
 * word and keep every other byte. */
GArray *hd_cmdline_split_spans(const char *line, GError **error);

/* The parameter name of @arg ("kvm-intel.nested=1" -> "kvm_intel.nested"), with '-' and '_'
 * made equal as the kernel's parameq() does. Newly allocated. */
char *hd_cmdline_arg_key(const char *arg);

/* Same parameter (by hd_cmdline_arg_key) and same value. */
gboolean hd_cmdline_arg_equal(const char *a, const char *b);
