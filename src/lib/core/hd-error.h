/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's error domain. The codes are what a caller acts on: the CLI maps them to its
 * exit codes (INVALID_ARGUMENT -> 2, everything else -> 1) and the agent to HTTP statuses
 * (INVALID_ARGUMENT 400, NOT_FOUND 404, REFUSED/BUSY 409, NOT_SUPPORTED/FAILED 500).
 */
#pragma once

#include <glib.h>

#define HD_ERROR (hd_error_quark())
GQuark hd_error_quark(void);

typedef enum {
        HD_ERROR_FAILED,           /* something the kernel or the system refused */
        HD_ERROR_INVALID_ARGUMENT, /* malformed input from the caller */
        HD_ERROR_NOT_FOUND,        /* no such device, group or file */
        HD_ERROR_REFUSED,          /* a safety rule says no; --force may override some */
        HD_ERROR_BUSY,             /* in use by a process or locked by another operation */
        HD_ERROR_NOT_SUPPORTED,    /* the host or kernel lacks the feature */
        HD_ERROR_NOT_SYSFS,        /* the root directory does not hold a sysfs tree */
} HdError;

/* The stable name of an error for JSON answers ({"error":{"code":...}}) of the CLI and the
 * agent: "invalid-argument", "not-found", "refused", "busy", "not-supported", "not-sysfs",
 * "failed" (also for errors of other domains). */
const char *hd_error_code_name(const GError *error);
