/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hints in the caller's words. A refusal says what would work ("detach the whole group with
 * --group"), but the CLI's user types flags and the agent's caller sends JSON fields: the
 * same rule must be phrased "--group" for one and "\"group\": true" for the other. The
 * context carries the vocabulary (hd_ctx_set_vocabulary(); the CLI's by default, the agent
 * sets the API's on every context it makes), and every message of the library that names an
 * option or a command takes its words from here.
 *
 * Invariants:
 *   H1  no library message names a CLI flag or a hostdev command literally where a hint of
 *       this module exists for it: the agent never tells an API caller to pass --force;
 *   H2  a command hint is only given for a plan that passes the checks (bind.h
 *       hd_bind_suggest_detach()); otherwise the message says why not.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef enum {
        HD_HINT_GROUP,       /* --group                 "group": true */
        HD_HINT_FORCE,       /* --force                 "force": 1 */
        HD_HINT_FORCE_TWICE, /* --force twice           "force": 2 */
        /* the guest configuration of a USB device or a SCSI LUN (GET .../xml takes them as
         * query parameters) */
        HD_HINT_GUEST_FORCE,     /* --force             force=1 */
        HD_HINT_GUEST_SHAREABLE, /* --shareable         shareable=1 */
} HdHintOption;

/* How the caller asks for @opt. */
const char *hd_hint_option(HdCtx *ctx, HdHintOption opt);

typedef enum {
        HD_HINT_CMD_DETACH,      /* hostdev detach ADDR     POST /v1/devices/ADDR/detach */
        HD_HINT_CMD_PERSIST_ADD, /* hostdev persist add     POST .../detach {"persist": true} */
        HD_HINT_CMD_CHECK,       /* hostdev check           GET /v1/host */
        HD_HINT_CMD_LIST,        /* hostdev list            GET /v1/devices */
} HdHintCommand;

/* Enabling kernel-args option @option (applied): "hostdev kernel-args --enable OPT --apply",
 * or "PUT /v1/kernel-args with {\"enable\": [\"OPT\"]}". */
char *hd_hint_kernel_args_enable(HdCtx *ctx, const char *option);

/* The command, with @address (may be NULL for CHECK and LIST), --group when @group and
 * @force times --force: "hostdev detach 0000:01:00.0 --group", or
 * "POST /v1/devices/0000:01:00.0/detach with {\"group\": true}". */
char *hd_hint_command(HdCtx *ctx, HdHintCommand cmd, const char *address, gboolean group,
                      guint force);

/* `hostdev attach ADDR`, or "POST /v1/devices/ADDR/attach". */
char *hd_hint_attach(HdCtx *ctx, const char *address);

/* The VF count of PF @pf: "hostdev sriov PF --numvfs N", or "POST /v1/devices/PF/sriov with
 * {\"numvfs\": N}"; @numvfs < 0: the PF shown, "hostdev sriov PF" or
 * "GET /v1/devices/PF/sriov". */
char *hd_hint_sriov(HdCtx *ctx, const char *pf, int numvfs);

typedef enum {
        HD_HINT_MDEV_TYPES,          /* hostdev mdev types [ARG]     GET /v1/mdev */
        HD_HINT_MDEV_LIST,           /* hostdev mdev list            GET /v1/mdev */
        HD_HINT_MDEV_REMOVE,         /* hostdev mdev remove ARG      POST /v1/mdev/ARG/remove */
        HD_HINT_MDEV_REMOVE_PERSIST, /* ... --persist                ... with {"persist": true} */
} HdHintMdev;

/* A mediated device command; @arg is the parent (TYPES, may be NULL) or the UUID. */
char *hd_hint_mdev(HdCtx *ctx, HdHintMdev what, const char *arg);

typedef enum {
        HD_HINT_USB_LIST,  /* hostdev usb list          GET /v1/usb */
        HD_HINT_SCSI_LIST, /* hostdev scsi list         GET /v1/scsi */
        HD_HINT_SCSI_SHOW, /* hostdev scsi show ARG     GET /v1/scsi/ARG */
        HD_HINT_VHOST_LIST, /* hostdev vhost-scsi list  GET /v1/vhost-scsi */
} HdHintUsbScsi;

/* Where the caller sees USB devices and SCSI LUNs; @arg is the LUN (SHOW). */
char *hd_hint_usb_scsi(HdCtx *ctx, HdHintUsbScsi what, const char *arg);
