/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel side effects behind a table of functions.
 *
 * Reading is the same for every backend (files below the context's root). Writing is not:
 * the real backend writes sysfs and runs host tools; the sim backend imitates the kernel on a
 * fixture tree so that every path of detach, attach, rollback and recovery runs in unit tests
 * without privileges. A backend sees paths relative to the root and values as given.
 */
#pragma once

#include <glib.h>

typedef struct HdCtx HdCtx;
typedef struct HdVfioInfo HdVfioInfo; /* vfio.h */

typedef enum {
        HD_BACKEND_AUTO,
        HD_BACKEND_REAL,
        HD_BACKEND_SIM,
} HdBackendKind;

typedef enum {
        HD_BACKEND_OP_WRITE,
        HD_BACKEND_OP_LOAD_MODULE,
        HD_BACKEND_OP_RUN,
        HD_BACKEND_OP_INSTALL_FILE,
        HD_BACKEND_OP_REMOVE_FILE,
        HD_BACKEND_OP_REPLACE_FILE, /* a regular config file (hd_ctx_replace_file) */
        HD_BACKEND_OP_NETLINK,      /* an rtnetlink change (hd_ctx_netlink) */
} HdBackendOp;

/* "write", "load-module", "run", "install-file", "remove-file", "replace-file", "netlink" */
const char *hd_backend_op_to_string(HdBackendOp op);

typedef struct {
        const char *name;
        /* TRUE when write is one write(2) to the attribute (the real kernel's), which
         * hd_ctx_write_bounded() may then make in a process of its own; FALSE: it is code
         * (the sim), and a bounded write runs it in a thread (ctx.c, "bounded writes"). */
        gboolean write_is_syscall;
        /* Write @value to the kernel attribute at @path (relative to the root). */
        gboolean (*write)(HdCtx *ctx, int root_fd, const char *path, const char *value,
                          GError **error);
        /* Make a kernel module available (modprobe on a host; imitation in sim). */
        gboolean (*load_module)(HdCtx *ctx, int root_fd, const char *module, GError **error);
        /* Run a host tool (bootloader update, initramfs rebuild). @output (may be NULL) gets
         * what it printed, stdout then stderr, and @exit_status (may be NULL) its exit status
         * (-1: it did not start or was killed), also when it fails: FALSE and @error then
         * say "PROGRAM failed (exit N): ...". */
        gboolean (*run)(HdCtx *ctx, int root_fd, const char *const *argv, char **output,
                        int *exit_status, GError **error);
        /* Create or replace a configuration file (udev rule, modprobe.d, initramfs hook) with
         * @contents and @mode, creating its directories. Never used for sysfs. */
        gboolean (*install_file)(HdCtx *ctx, int root_fd, const char *path, const char *contents,
                                 int mode, GError **error);
        /* Remove a file installed with install_file; a missing file is not an error. */
        gboolean (*remove_file)(HdCtx *ctx, int root_fd, const char *path, GError **error);
        /* Do what a VMM does with /dev/vfio/@group and device @address (see vfio.h) and fill
         * @info. Reads only; the group is released again before returning. */
        gboolean (*vfio_inspect)(HdCtx *ctx, int root_fd, int group, const char *address,
                                 HdVfioInfo *info, GError **error);
        /* Reboot the machine cleanly: real asks systemd (`systemctl reboot`, which returns
         * once the job is queued; the live root only); sim boots the tree again (the
         * configured command line becomes the running one, a new boot id, the IOMMU as the
         * new command line says: backend-sim.c, "Reboot"). */
        gboolean (*reboot)(HdCtx *ctx, int root_fd, GError **error);
} HdBackendOps;

extern const HdBackendOps hd_backend_real;
extern const HdBackendOps hd_backend_sim;

/* rtnetlink behind a table of functions (src/lib/sriov/netlink.h has the message helpers):
 * a NETLINK_ROUTE socket, and the fake kernel the sim uses on a tree (netlink-sim.c). */
typedef struct HdNetlinkOps {
        const char *name;
        /* Send the one rtnetlink message @req (its nlmsg_seq set) and append to @reply every
         * message the kernel answers it with, up to and including the last (the ACK or error,
         * NLMSG_DONE, or a single answer without NLM_F_MULTI). FALSE with @error only when the
         * transport fails (socket, timeout, a reply too large); a refusal by the kernel is an
         * NLMSG_ERROR message in @reply. */
        gboolean (*transact)(HdCtx *ctx, int root_fd, const guint8 *req, gsize len,
                             GByteArray *reply, GError **error);
} HdNetlinkOps;

extern const HdNetlinkOps hd_netlink_real;
extern const HdNetlinkOps hd_netlink_sim;

const char *hd_backend_kind_to_string(HdBackendKind kind);
/* "real", "sim" or "auto"; FALSE for anything else. */
gboolean hd_backend_kind_from_string(const char *s, HdBackendKind *out);
