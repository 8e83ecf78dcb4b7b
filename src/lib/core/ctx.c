/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "ctx.h"
#include "fileio.h"
#include "hd-error.h"
#include "macros.h"
#include "names.h"
#include "parse.h"

struct HdCtx {
        char *root;
        int root_fd;
        int sys_fd;
        int pci_devices_fd;
        HdBackendKind backend_kind;
        const HdBackendOps *backend;
        const HdNetlinkOps *netlink;
        HdLogFunc log_func;
        gpointer log_data;
        gboolean dry_run;
        GPtrArray *write_log; /* HdCtxWrite* */
        guint side_effects;   /* counted for crash injection */
        guint crash_at;       /* 0 = never */
        HdNames *names;
        char *sim_faults;     /* see hd_ctx_set_sim_faults() */
        HdVocabulary vocabulary;
};

static void write_free(gpointer p)
{
        HdCtxWrite *w = p;

        g_free(w->path);
        g_free(w->value);
        g_free(w);
}

static guint parse_crash_at(void)
{
        const char *env = g_getenv("HOSTDEV_CRASH_AT");
        gint64 n;

        if (!env || !g_str_has_prefix(env, "write:"))
                return 0;
        if (!hd_parse_int(env + strlen("write:"), 1, G_MAXUINT, &n))
                return 0;
        return (guint)n;
}

HdCtx *hd_ctx_new(const char *root, HdBackendKind backend, GError **error)
{
        g_autoptr(HdCtx) ctx = g_new0(HdCtx, 1);
        char *resolved;

        ctx->root_fd = ctx->sys_fd = ctx->pci_devices_fd = -1;
        if (!root || !*root)
                root = "/";
        resolved = realpath(root, NULL);
        if (!resolved) {
                int err = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SYSFS, "cannot use root %s: %s", root,
                            g_strerror(err));
                return NULL;
        }
        ctx->root = g_strdup(resolved);
        free(resolved);

        ctx->root_fd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ctx->root_fd < 0) {
                int err = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SYSFS, "cannot open root %s: %s",
                            ctx->root, g_strerror(err));
                return NULL;
        }
        if (!hd_ctx_is_live_root(ctx) && !hd_fileio_can_confine()) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "cannot use root %s: this kernel has no openat2() (Linux 5.6 or "
                            "later), so hostdev cannot keep reads and writes inside the tree; "
                            "run it on a newer kernel or copy the tree to a machine with one",
                            ctx->root);
                return NULL;
        }
        /* Confined like every access below the root (fileio.h): a tree whose sys is a
         * link to /sys gets its own sys, never the machine's. */
        ctx->sys_fd = hd_open_at(ctx->root_fd, "sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (ctx->sys_fd >= 0)
                ctx->pci_devices_fd = hd_open_at(ctx->root_fd, "sys/bus/pci/devices",
                                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (ctx->pci_devices_fd < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SYSFS,
                            "%s is not a system root: %s%ssys/bus/pci/devices is missing; pass "
                            "the directory that holds sys/ and proc/ (for example an unpacked "
                            "'hostdev snapshot')",
                            ctx->root, ctx->root, g_str_has_suffix(ctx->root, "/") ? "" : "/");
                return NULL;
        }

        if (backend == HD_BACKEND_AUTO)
                backend = hd_ctx_is_live_root(ctx) ? HD_BACKEND_REAL : HD_BACKEND_SIM;
        ctx->backend_kind = backend;
        ctx->backend = backend == HD_BACKEND_REAL ? &hd_backend_real : &hd_backend_sim;
        ctx->netlink = backend == HD_BACKEND_REAL ? &hd_netlink_real : &hd_netlink_sim;
        ctx->write_log = g_ptr_array_new_with_free_func(write_free);
        ctx->crash_at = parse_crash_at();
        ctx->sim_faults = g_strdup(g_getenv("HOSTDEV_SIM_FAIL"));
        return g_steal_pointer(&ctx);
}

void hd_ctx_free(HdCtx *ctx)
{
        if (!ctx)
                return;
        hd_close_fdp(&ctx->pci_devices_fd);
        hd_close_fdp(&ctx->sys_fd);
        hd_close_fdp(&ctx->root_fd);
        if (ctx->write_log)
                g_ptr_array_unref(ctx->write_log);
        hd_names_free(ctx->names);
        g_free(ctx->sim_faults);
        g_free(ctx->root);
        g_free(ctx);
}

const char *hd_ctx_get_root(HdCtx *ctx)
{
        return ctx->root;
}

gboolean hd_ctx_is_live_root(HdCtx *ctx)
{
        return strcmp(ctx->root, "/") == 0;
}

int hd_ctx_get_root_fd(HdCtx *ctx)
{
        return ctx->root_fd;
}

int hd_ctx_get_sys_fd(HdCtx *ctx)
{
        return ctx->sys_fd;
}

int hd_ctx_get_pci_devices_fd(HdCtx *ctx)
{
        return ctx->pci_devices_fd;
}

int hd_ctx_open_device_dir(HdCtx *ctx, const char *name)
{
        char path[64];

        /* From the sys fd, not the pci-devices fd: the entry is a link that climbs to
         * sys/devices/... and would stop at the fd it is resolved from. */
        if (g_snprintf(path, sizeof(path), "bus/pci/devices/%s", name) >= (int)sizeof(path) ||
            strchr(name, '/')) {
                errno = EINVAL;
                return -1;
        }
        /* On "/" there is nothing to escape to: the plain walk from the pci-devices fd is the
         * same resolution, and the cheapest (one per device in a scan). */
        if (hd_ctx_is_live_root(ctx))
                return openat(ctx->pci_devices_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return hd_open_at(ctx->sys_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
}

HdBackendKind hd_ctx_get_backend_kind(HdCtx *ctx)
{
        return ctx->backend_kind;
}

void hd_ctx_set_log_func(HdCtx *ctx, HdLogFunc func, gpointer user_data)
{
        ctx->log_func = func;
        ctx->log_data = user_data;
}

void hd_ctx_log(HdCtx *ctx, HdLogLevel level, const char *format, ...)
{
        g_autofree char *msg = NULL;
        va_list ap;

        if (!ctx->log_func)
                return;
        va_start(ap, format);
        msg = g_strdup_vprintf(format, ap);
        va_end(ap);
        ctx->log_func(level, msg, ctx->log_data);
}

void hd_ctx_set_vocabulary(HdCtx *ctx, HdVocabulary vocabulary)
{
        ctx->vocabulary = vocabulary;
}

HdVocabulary hd_ctx_get_vocabulary(HdCtx *ctx)
{
        return ctx->vocabulary;
}

void hd_ctx_set_dry_run(HdCtx *ctx, gboolean dry_run)
{
        ctx->dry_run = dry_run;
}

gboolean hd_ctx_get_dry_run(HdCtx *ctx)
{
        return ctx->dry_run;
}

static void record(HdCtx *ctx, HdBackendOp op, const char *path, const char *value)
{
        HdCtxWrite *w = g_new0(HdCtxWrite, 1);

        w->op = op;
        w->path = g_strdup(path);
        w->value = g_strdup(value);
        g_ptr_array_add(ctx->write_log, w);
}

/* Called after every side effect that really happened: the crash-injection point. */
static void side_effect_done(HdCtx *ctx)
{
        ctx->side_effects++;
        if (ctx->crash_at && ctx->side_effects == ctx->crash_at) {
                hd_ctx_log(ctx, HD_LOG_WARNING, "HOSTDEV_CRASH_AT=write:%u: killing the process",
                           ctx->crash_at);
                (void)kill(getpid(), SIGKILL);
        }
}

void hd_ctx_crash_point(HdCtx *ctx)
{
        if (!ctx->dry_run)
                side_effect_done(ctx);
}

gboolean hd_ctx_write(HdCtx *ctx, const char *path, const char *value, GError **error)
{
        g_return_val_if_fail(path && path[0] != '/' && !strstr(path, ".."), FALSE);

        record(ctx, HD_BACKEND_OP_WRITE, path, value);
        if (ctx->log_func) {
                g_autofree char *shown = g_strescape(value, NULL);
                hd_ctx_log(ctx, HD_LOG_DEBUG, "%swrite '%s' to /%s",
                           ctx->dry_run ? "(dry run) " : "", shown, path);
        }
        if (ctx->dry_run)
                return TRUE;
        if (!ctx->backend->write(ctx, ctx->root_fd, path, value, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

#define PENDING_DIR "run/hostdev/pending"

/* The marker of a pending bounded write of @path: PENDING_DIR/<path with '/' as '!'>. */
static char *pending_marker(const char *path)
{
        g_autofree char *flat = g_strdup(path);

        g_strdelimit(flat, "/", '!');
        return g_strdup_printf(PENDING_DIR "/%s", flat);
}

gboolean hd_ctx_write_is_pending(HdCtx *ctx, const char *path)
{
        g_autofree char *marker = pending_marker(path);

        return hd_exists_at(ctx->root_fd, marker, TRUE);
}

/* ---- bounded writes ------------------------------------------------------------------------
 *
 * A kernel attribute whose write waits for a user of the device (sriov_numvfs waits for a VM
 * holding a VF) must not hang the caller, and a thread cannot bound it: a thread in the
 * kernel's uninterruptible wait keeps its whole process from exiting (and the agent's port
 * bound). A backend whose write is one write(2) (the real one) therefore writes in a
 * grandchild: the attribute is opened here, the grandchild only writes it, removes the
 * pending marker and reports the errno over a pipe, then exits; nobody waits for it (init
 * reaps it), so nothing is left to reap or stuck in this process. The child of a process with
 * threads may only make async-signal-safe calls (another thread may have held malloc's or
 * GLib's locks at the fork: they stay held in the child for good), so the grandchild makes
 * system calls and nothing else.
 *
 * A backend whose write is more than a system call (the sim imitates the kernel with GLib
 * code) must not run in such a child: its bounded write runs in a thread with a context of
 * its own, which the caller stops waiting for after the bound. The sim never blocks in the
 * kernel, so that thread always ends; it also ends with its process (a sim write still waiting
 * then is abandoned, and its marker with it). */

/* "E" and the decimal @err into @buf (at least 16 bytes); async-signal-safe. */
static void format_errno(char *buf, int err)
{
        char digits[12];
        int n = 0, i = 0;
        unsigned int v = err > 0 ? (unsigned int)err : 0;

        do {
                digits[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v && n < (int)sizeof(digits));
        buf[i++] = 'E';
        while (n)
                buf[i++] = digits[--n];
        buf[i] = '\0';
}

/* The grandchild of a bounded write: system calls only (see above). Never returns. */
static G_NORETURN void bounded_writer(int attr_fd, const char *value, size_t len, int root_fd,
                                      const char *marker, int report_fd)
{
        char answer[16] = "0";
        pid_t pid = fork();
        ssize_t n;

        if (pid != 0)
                _exit(pid < 0 ? 1 : 0);
        signal(SIGPIPE, SIG_IGN);
        /* A writer the kernel keeps waiting must not keep the caller's sockets open (the
         * agent's listening socket: a restarted agent could not bind it again). Files stay:
         * the root, and the group locks, which now mark the operation as in progress. */
        for (int other = 3; other < 1024; other++) {
                struct stat st;

                if (other != report_fd && fstat(other, &st) == 0 && S_ISSOCK(st.st_mode))
                        close(other);
        }
        do
                n = write(attr_fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                format_errno(answer, errno);
        else if ((size_t)n != len)
                format_errno(answer, EIO);
        (void)unlinkat(root_fd, marker, 0);
        (void)!write(report_fd, answer, strlen(answer));
        _exit(0);
}

/* Wait at most @timeout_ms for the writer's answer on @fd ("0", or "E" and an errno): -1 when
 * none came in time (the kernel is still waiting), else the errno (0: written). */
static int read_answer(int fd, guint timeout_ms)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        char buf[32];
        size_t got = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                gint64 left = (deadline - g_get_monotonic_time()) / 1000;
                ssize_t n;
                gint64 err;

                if (left <= 0)
                        return -1;
                if (poll(&p, 1, (int)MIN(left, 1000)) < 0 && errno != EINTR)
                        return -1;
                if (!(p.revents & (POLLIN | POLLHUP)))
                        continue;
                n = read(fd, buf + got, sizeof(buf) - 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n > 0 && got + (size_t)n < sizeof(buf) - 1) {
                        got += (size_t)n;
                        continue;
                }
                buf[got] = '\0';
                if (strcmp(buf, "0") == 0)
                        return 0;
                if (buf[0] == 'E' && hd_parse_int(buf + 1, 1, 4095, &err))
                        return (int)err;
                return EIO; /* the writer died before it answered */
        }
}

static gboolean write_bounded_process(HdCtx *ctx, const char *path, const char *value,
                                      guint timeout_ms, const char *marker, GError **error)
{
        hd_autofd int attr = hd_open_at(ctx->root_fd, path, O_WRONLY | O_NOCTTY | O_CLOEXEC, 0);
        struct stat st;
        int fds[2];
        pid_t child;
        int err;

        if (attr < 0 || fstat(attr, &st) < 0 || !S_ISREG(st.st_mode)) {
                err = attr < 0 ? errno : EINVAL;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                            "cannot open for writing %s: %s", path, g_strerror(err));
                return FALSE;
        }
        if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot write /%s: no pipe",
                            path);
                return FALSE;
        }
        child = fork();
        if (child < 0) {
                err = errno;
                close(fds[0]);
                close(fds[1]);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot write /%s: %s", path,
                            g_strerror(err));
                return FALSE;
        }
        if (child == 0) {
                close(fds[0]);
                bounded_writer(attr, value, strlen(value), ctx->root_fd, marker, fds[1]);
        }
        close(fds[1]);
        (void)waitpid(child, NULL, 0); /* the child exits at once, leaving the writer */
        err = read_answer(fds[0], timeout_ms);
        close(fds[0]);
        if (err < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "writing '%s' to /%s did not finish in %u ms: the kernel is still "
                            "waiting (the write goes on in the background)",
                            value, path, timeout_ms);
                return FALSE;
        }
        if (err > 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot write %s: %s",
                            path, g_strerror(err));
                return FALSE;
        }
        return TRUE;
}

/* A bounded write in a thread (a backend whose write is not a system call: the sim). */
typedef struct {
        gint refs;
        GMutex lock;
        GCond cond;
        gboolean done, ok;
        GError *error;
        HdBackendKind kind;
        char *root, *sim_faults, *path, *value, *marker;
} BoundedWrite;

static void bounded_write_unref(BoundedWrite *w)
{
        if (!g_atomic_int_dec_and_test(&w->refs))
                return;
        g_clear_error(&w->error);
        g_mutex_clear(&w->lock);
        g_cond_clear(&w->cond);
        g_free(w->root);
        g_free(w->sim_faults);
        g_free(w->path);
        g_free(w->value);
        g_free(w->marker);
        g_free(w);
}

static gpointer bounded_write_thread(gpointer data)
{
        BoundedWrite *w = data;
        GError *error = NULL;
        HdCtx *ctx = hd_ctx_new(w->root, w->kind, &error);
        gboolean ok = FALSE;

        if (ctx) {
                hd_ctx_set_sim_faults(ctx, w->sim_faults);
                ok = ctx->backend->write(ctx, ctx->root_fd, w->path, w->value, &error);
                (void)hd_unlink_at(ctx->root_fd, w->marker, 0);
                hd_ctx_free(ctx);
        }
        g_mutex_lock(&w->lock);
        w->done = TRUE;
        w->ok = ok;
        w->error = error;
        g_cond_broadcast(&w->cond);
        g_mutex_unlock(&w->lock);
        bounded_write_unref(w);
        return NULL;
}

static gboolean write_bounded_thread(HdCtx *ctx, const char *path, const char *value,
                                     guint timeout_ms, const char *marker, GError **error)
{
        BoundedWrite *w = g_new0(BoundedWrite, 1);
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        gboolean done, ok = FALSE;

        w->refs = 2; /* this caller's and the thread's */
        g_mutex_init(&w->lock);
        g_cond_init(&w->cond);
        w->kind = ctx->backend_kind;
        w->root = g_strdup(ctx->root);
        w->sim_faults = g_strdup(ctx->sim_faults);
        w->path = g_strdup(path);
        w->value = g_strdup(value);
        w->marker = g_strdup(marker);
        g_thread_unref(g_thread_new("hd-bounded-write", bounded_write_thread, w));
        g_mutex_lock(&w->lock);
        while (!w->done && g_cond_wait_until(&w->cond, &w->lock, deadline))
                ;
        done = w->done;
        if (done) {
                ok = w->ok;
                if (!ok)
                        g_propagate_error(error, g_steal_pointer(&w->error));
        }
        g_mutex_unlock(&w->lock);
        bounded_write_unref(w);
        if (!done)
                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "writing '%s' to /%s did not finish in %u ms: the kernel is still "
                            "waiting (the write goes on in the background)",
                            value, path, timeout_ms);
        return ok;
}

gboolean hd_ctx_write_bounded(HdCtx *ctx, const char *path, const char *value, guint timeout_ms,
                              GError **error)
{
        g_autofree char *marker = pending_marker(path);
        g_autoptr(GError) local = NULL;
        gboolean ok;

        g_return_val_if_fail(path && path[0] != '/' && !strstr(path, ".."), FALSE);

        record(ctx, HD_BACKEND_OP_WRITE, path, value);
        if (ctx->log_func) {
                g_autofree char *shown = g_strescape(value, NULL);
                hd_ctx_log(ctx, HD_LOG_DEBUG, "%swrite '%s' to /%s (bounded: %u ms)",
                           ctx->dry_run ? "(dry run) " : "", shown, path, timeout_ms);
        }
        if (ctx->dry_run)
                return TRUE;
        /* readers of the attribute look for the marker first: on Linux 6.1 reading
         * sriov_numvfs takes the lock the waiting write holds, so a read would wait too */
        if (!hd_mkdir_p_at(ctx->root_fd, PENDING_DIR, 0755, error) ||
            !hd_write_file_atomic_at(ctx->root_fd, marker, "", 0, error))
                return FALSE;
        ok = ctx->backend->write_is_syscall
                     ? write_bounded_process(ctx, path, value, timeout_ms, marker, &local)
                     : write_bounded_thread(ctx, path, value, timeout_ms, marker, &local);
        if (!ok) {
                /* still waiting: the writer removes the marker when the kernel lets it go */
                if (!g_error_matches(local, HD_ERROR, HD_ERROR_BUSY))
                        (void)hd_unlink_at(ctx->root_fd, marker, 0);
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_load_module(HdCtx *ctx, const char *module, GError **error)
{
        record(ctx, HD_BACKEND_OP_LOAD_MODULE, module, NULL);
        if (ctx->dry_run)
                return TRUE;
        if (!ctx->backend->load_module(ctx, ctx->root_fd, module, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_run_full(HdCtx *ctx, const char *const *argv, char **output, int *exit_status,
                         GError **error)
{
        g_autofree char *line = g_strjoinv(" ", (char **)argv);

        record(ctx, HD_BACKEND_OP_RUN, argv[0], line);
        if (exit_status)
                *exit_status = ctx->dry_run ? 0 : -1;
        if (ctx->dry_run) {
                if (output)
                        *output = g_strdup("");
                return TRUE;
        }
        if (!ctx->backend->run(ctx, ctx->root_fd, argv, output, exit_status, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_reboot(HdCtx *ctx, GError **error)
{
        record(ctx, HD_BACKEND_OP_RUN, "systemctl", "systemctl reboot");
        if (ctx->dry_run)
                return TRUE;
        if (!ctx->backend->reboot(ctx, ctx->root_fd, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_run(HdCtx *ctx, const char *const *argv, char **output, GError **error)
{
        g_autofree char *all = NULL;

        if (!hd_ctx_run_full(ctx, argv, output ? &all : NULL, NULL, error))
                return FALSE;
        if (output)
                *output = g_steal_pointer(&all);
        return TRUE;
}

gboolean hd_ctx_install_file(HdCtx *ctx, const char *path, const char *contents, int mode,
                             GError **error)
{
        g_return_val_if_fail(path && path[0] != '/' && !strstr(path, ".."), FALSE);

        record(ctx, HD_BACKEND_OP_INSTALL_FILE, path, contents);
        hd_ctx_log(ctx, HD_LOG_DEBUG, "%sinstall /%s", ctx->dry_run ? "(dry run) " : "", path);
        if (ctx->dry_run)
                return TRUE;
        if (!ctx->backend->install_file(ctx, ctx->root_fd, path, contents, mode, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_replace_file(HdCtx *ctx, const char *path, const char *data, gssize len,
                             GError **error)
{
        g_autofree char *copy = NULL;

        g_return_val_if_fail(path && path[0] != '/' && !strstr(path, ".."), FALSE);

        copy = len < 0 ? g_strdup(data) : g_strndup(data, (gsize)len);
        record(ctx, HD_BACKEND_OP_REPLACE_FILE, path, copy);
        hd_ctx_log(ctx, HD_LOG_DEBUG, "%sreplace /%s", ctx->dry_run ? "(dry run) " : "", path);
        if (ctx->dry_run)
                return TRUE;
        if (!ctx->backend->install_file(ctx, ctx->root_fd, path, copy, 0644, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_remove_file(HdCtx *ctx, const char *path, GError **error)
{
        g_return_val_if_fail(path && path[0] != '/' && !strstr(path, ".."), FALSE);

        record(ctx, HD_BACKEND_OP_REMOVE_FILE, path, NULL);
        hd_ctx_log(ctx, HD_LOG_DEBUG, "%sremove /%s", ctx->dry_run ? "(dry run) " : "", path);
        if (ctx->dry_run)
                return TRUE;
        if (!ctx->backend->remove_file(ctx, ctx->root_fd, path, error))
                return FALSE;
        side_effect_done(ctx);
        return TRUE;
}

void hd_ctx_set_netlink_ops(HdCtx *ctx, const HdNetlinkOps *ops)
{
        ctx->netlink = ops;
}

const HdNetlinkOps *hd_ctx_get_netlink_ops(HdCtx *ctx)
{
        return ctx->netlink;
}

gboolean hd_ctx_netlink(HdCtx *ctx, const char *dev, const char *change, const guint8 *req,
                        gsize len, GByteArray *reply, GError **error)
{
        if (change) {
                record(ctx, HD_BACKEND_OP_NETLINK, dev, change);
                hd_ctx_log(ctx, HD_LOG_DEBUG, "%s%s (netlink)", ctx->dry_run ? "(dry run) " : "",
                           change);
                if (ctx->dry_run)
                        return TRUE;
        }
        if (!ctx->netlink->transact(ctx, ctx->root_fd, req, len, reply, error))
                return FALSE;
        if (change)
                side_effect_done(ctx);
        return TRUE;
}

gboolean hd_ctx_vfio_inspect(HdCtx *ctx, int group, const char *address, HdVfioInfo *info,
                             GError **error)
{
        return ctx->backend->vfio_inspect(ctx, ctx->root_fd, group, address, info, error);
}

void hd_ctx_set_sim_faults(HdCtx *ctx, const char *spec)
{
        g_free(ctx->sim_faults);
        ctx->sim_faults = g_strdup(spec);
}

const char *hd_ctx_get_sim_faults(HdCtx *ctx)
{
        return ctx->sim_faults;
}

char *hd_ctx_write_describe(const HdCtxWrite *w)
{
        g_autofree char *value = w->value ? g_strescape(w->value, NULL) : NULL;

        switch (w->op) {
        case HD_BACKEND_OP_WRITE:
                return g_strdup_printf("write '%s' to /%s", value, w->path);
        case HD_BACKEND_OP_LOAD_MODULE:
                return g_strdup_printf("load module %s", w->path);
        case HD_BACKEND_OP_RUN:
                return g_strdup_printf("run %s", w->value);
        case HD_BACKEND_OP_INSTALL_FILE:
                return g_strdup_printf("install /%s", w->path);
        case HD_BACKEND_OP_REMOVE_FILE:
                return g_strdup_printf("remove /%s", w->path);
        case HD_BACKEND_OP_REPLACE_FILE:
                return g_strdup_printf("replace /%s", w->path);
        case HD_BACKEND_OP_NETLINK:
                return g_strdup_printf("netlink: %s", w->value);
        }
        return g_strdup("?");
}

const GPtrArray *hd_ctx_get_write_log(HdCtx *ctx)
{
        return ctx->write_log;
}

HdNames *hd_ctx_get_names(HdCtx *ctx)
{
        if (!ctx->names)
                ctx->names = hd_names_new();
        return ctx->names;
}

const char *hd_backend_kind_to_string(HdBackendKind kind)
{
        switch (kind) {
        case HD_BACKEND_AUTO:
                return "auto";
        case HD_BACKEND_REAL:
                return "real";
        case HD_BACKEND_SIM:
                return "sim";
        }
        return "unknown";
}

const char *hd_backend_op_to_string(HdBackendOp op)
{
        switch (op) {
        case HD_BACKEND_OP_WRITE:
                return "write";
        case HD_BACKEND_OP_LOAD_MODULE:
                return "load-module";
        case HD_BACKEND_OP_RUN:
                return "run";
        case HD_BACKEND_OP_INSTALL_FILE:
                return "install-file";
        case HD_BACKEND_OP_REMOVE_FILE:
                return "remove-file";
        case HD_BACKEND_OP_REPLACE_FILE:
                return "replace-file";
        case HD_BACKEND_OP_NETLINK:
                return "netlink";
        }
        return "unknown";
}

gboolean hd_backend_kind_from_string(const char *s, HdBackendKind *out)
{
        static const struct {
                const char *name;
                HdBackendKind kind;
        } table[] = {
                { "auto", HD_BACKEND_AUTO },
                { "real", HD_BACKEND_REAL },
                { "sim", HD_BACKEND_SIM },
        };

        for (gsize i = 0; i < HD_ELEMENTSOF(table); i++)
                if (g_strcmp0(s, table[i].name) == 0) {
                        *out = table[i].kind;
                        return TRUE;
                }
        return FALSE;
}
