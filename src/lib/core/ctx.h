/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HdCtx: everything the library needs from its caller, in one object.
 *
 *  - the root directory ("/" on a live host, a fixture or an unpacked snapshot otherwise),
 *    opened once; every read and write is relative to its file descriptors, through
 *    src/basic/fileio.h, which resolves each path inside the descriptor it is given
 *    (openat2() RESOLVE_IN_ROOT): an absolute or ".."-climbing symlink in the tree (etc ->
 *    /etc, var -> ../../..) is resolved inside the root, so nothing below a root other than
 *    "/" ever reads or writes the machine that runs hostdev. Paths that cross a link (a
 *    device's entry in sys/bus/pci/devices, its driver link) are resolved from the root fd
 *    or the sys fd; the pci-devices fd and a device's directory fd are used with names of
 *    one component only. A root other than "/" is refused on kernels without openat2();
 *    backends get the root fd and follow the same rule;
 *  - the kernel backend that carries out side effects (see backend.h);
 *  - a log callback (the library never prints);
 *  - a write log and the dry-run switch, so a caller can show every sysfs write an operation
 *    makes, in order, without making it.
 *
 * A context is not thread-safe; use one per thread.
 */
#pragma once

#include <glib.h>

#include "backend.h"

typedef struct HdCtx HdCtx;

typedef enum {
        HD_LOG_DEBUG,
        HD_LOG_INFO,
        HD_LOG_WARNING,
} HdLogLevel;

typedef void (*HdLogFunc)(HdLogLevel level, const char *message, gpointer user_data);

/* Open @root (NULL means "/"). With HD_BACKEND_AUTO the real backend is used for "/" and the
 * sim backend for any other root, so a fixture behaves like a kernel when written to. Fails
 * with HD_ERROR_NOT_SYSFS when @root holds no sys/bus/pci/devices. */
HdCtx *hd_ctx_new(const char *root, HdBackendKind backend, GError **error);
void hd_ctx_free(HdCtx *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdCtx, hd_ctx_free)

/* The root as given, normalised to an absolute path without a trailing slash ("/" stays). */
const char *hd_ctx_get_root(HdCtx *ctx);
gboolean hd_ctx_is_live_root(HdCtx *ctx);

/* Directory descriptors owned by the context (see the rule at the top). */
int hd_ctx_get_root_fd(HdCtx *ctx);
int hd_ctx_get_sys_fd(HdCtx *ctx);              /* <root>/sys */
int hd_ctx_get_pci_devices_fd(HdCtx *ctx);      /* <root>/sys/bus/pci/devices */
/* Open the directory of the device @name ("0000:01:00.0", one component) through its
 * sys/bus/pci/devices link, resolved inside the root; -1 with errno set. */
int hd_ctx_open_device_dir(HdCtx *ctx, const char *name);

HdBackendKind hd_ctx_get_backend_kind(HdCtx *ctx);

void hd_ctx_set_log_func(HdCtx *ctx, HdLogFunc func, gpointer user_data);
void hd_ctx_log(HdCtx *ctx, HdLogLevel level, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* The words the library's messages use for the caller's options and commands (hint.h): the
 * CLI's ("--group", "hostdev detach ADDR") by default; the agent's API fields ("\"group\":
 * true", "POST /v1/devices/ADDR/detach") for a context the agent made. */
typedef enum {
        HD_VOCABULARY_CLI,
        HD_VOCABULARY_API,
} HdVocabulary;

void hd_ctx_set_vocabulary(HdCtx *ctx, HdVocabulary vocabulary);
HdVocabulary hd_ctx_get_vocabulary(HdCtx *ctx);

/* Dry run: writes are recorded but not carried out. */
void hd_ctx_set_dry_run(HdCtx *ctx, gboolean dry_run);
gboolean hd_ctx_get_dry_run(HdCtx *ctx);

/* The kernel side effects, routed through the backend. @path is relative to the root
 * ("sys/bus/pci/devices/0000:01:00.0/driver_override") and must come from code that built
 * it from an HdAddress or a constant, never from raw input. Every call is appended to the
 * write log first. */
gboolean hd_ctx_write(HdCtx *ctx, const char *path, const char *value, GError **error);
/* hd_ctx_write() for a kernel attribute whose write may wait on a user of the device (the
 * count of SR-IOV VFs waits for a VM holding a VF): the caller waits at most @timeout_ms. Past
 * it, HD_ERROR_BUSY says the kernel is still waiting; the write goes on. With the real backend
 * it runs in a process of its own that makes system calls only (safe to fork from a process
 * with threads) and holds the caller's group locks until it ends, so recovery leaves the
 * operation alone, and nothing is left to reap; with the sim, in a thread (ctx.c, "bounded
 * writes"). A marker under run/hostdev/pending says the write is waiting
 * (hd_ctx_write_is_pending()). Logged and dry-run like hd_ctx_write(). */
gboolean hd_ctx_write_bounded(HdCtx *ctx, const char *path, const char *value, guint timeout_ms,
                              GError **error);
/* Whether a bounded write of @path is still waiting in the kernel (a marker below
 * run/hostdev/pending, made before the write and removed when it returns). A reader of such an
 * attribute asks first: on Linux 6.1 reading sriov_numvfs waits for the same lock. */
gboolean hd_ctx_write_is_pending(HdCtx *ctx, const char *path);
gboolean hd_ctx_load_module(HdCtx *ctx, const char *module, GError **error);
gboolean hd_ctx_run(HdCtx *ctx, const char *const *argv, char **output, GError **error);
/* The same with the tool's exit status and everything it printed (stdout then stderr), both
 * set also when it fails (see HdBackendOps.run); a dry run reports 0 and "". */
gboolean hd_ctx_run_full(HdCtx *ctx, const char *const *argv, char **output, int *exit_status,
                         GError **error);
/* Reboot the machine the context stands for (HdBackendOps.reboot): recorded as the run of
 * "systemctl reboot"; a dry run does nothing. Real: the live root only. */
gboolean hd_ctx_reboot(HdCtx *ctx, GError **error);
/* Configuration files below the root (udev rules, modprobe.d, initramfs hooks): recorded and
 * counted like writes, carried out by the backend. */
gboolean hd_ctx_install_file(HdCtx *ctx, const char *path, const char *contents, int mode,
                             GError **error);
gboolean hd_ctx_remove_file(HdCtx *ctx, const char *path, GError **error);

/* rtnetlink (src/lib/sriov/netlink.h): the transport is chosen with the backend (real for the
 * real backend, the fake kernel otherwise); tests may replace it. hd_ctx_netlink() sends the
 * request @req and appends the answer to @reply. A request that changes something has a
 * @change, the command a user would type for it ("ip link set ens1f0 vf 2 mac ..."): it is
 * appended to the write log (op netlink, path the interface @dev), counted for crash
 * injection, and not sent in a dry run (@reply stays empty). @change NULL: a read, sent
 * always and not recorded. */
void hd_ctx_set_netlink_ops(HdCtx *ctx, const HdNetlinkOps *ops);
const HdNetlinkOps *hd_ctx_get_netlink_ops(HdCtx *ctx);
gboolean hd_ctx_netlink(HdCtx *ctx, const char *dev, const char *change, const guint8 *req,
                        gsize len, GByteArray *reply, GError **error);

/* What a VMM would see when opening @address through its group (vfio.h has the struct and
 * the friendly entry point hd_vfio_verify()). Reads only: not recorded, not dry-run aware. */
gboolean hd_ctx_vfio_inspect(HdCtx *ctx, int group, const char *address, HdVfioInfo *info,
                             GError **error);

/* Faults the sim backend injects (see backend-sim.c): "OP@TARGET=ERRNO[,...]", for example
 * "unbind@0000:01:00.1=EBUSY,probe@0000:01:00.0=EINVAL". Taken from HOSTDEV_SIM_FAIL when the
 * context is made; tests may replace it. NULL clears. The real backend ignores it. */
void hd_ctx_set_sim_faults(HdCtx *ctx, const char *spec);
const char *hd_ctx_get_sim_faults(HdCtx *ctx);

/* Replace a regular configuration file below the root (etc/default/grub, a state file)
 * atomically with mode 0644, creating its directory when needed. It goes through the
 * backend's install_file like every other file hostdev writes on the host (so the sim can
 * inject failures), and is logged as "replace" (value: the new contents); skipped in a dry
 * run. */
gboolean hd_ctx_replace_file(HdCtx *ctx, const char *path, const char *data, gssize len,
                             GError **error);

/* One recorded side effect. */
typedef struct {
        HdBackendOp op;
        char *path;  /* write: path below the root; module: name; run: argv[0]; netlink: the
                      * interface */
        char *value; /* write: the value; run: the whole command line; replace-file: the
                      * new contents; netlink: the change as an `ip link` command */
} HdCtxWrite;

/* One line per side effect, as a user would type it: "write 'vfio-pci' to /sys/...",
 * "run update-grub", "replace /etc/default/grub". */
char *hd_ctx_write_describe(const HdCtxWrite *w);

/* The writes recorded since the context was made. Crash injection for tests of the journal
 * counts the same side effects: with HOSTDEV_CRASH_AT=write:N in the environment when the
 * context is made, the process is killed with SIGKILL right after the N-th one. */
const GPtrArray *hd_ctx_get_write_log(HdCtx *ctx);

/* A step between side effects where a crash matters (a transaction committed, its result not
 * yet recorded elsewhere): HOSTDEV_CRASH_AT counts it like a side effect, without a write-log
 * entry. Nothing in a dry run. */
void hd_ctx_crash_point(HdCtx *ctx);

/* Lazily created per-context caches (names database, etc.) live behind these. */
typedef struct HdNames HdNames;
HdNames *hd_ctx_get_names(HdCtx *ctx);
