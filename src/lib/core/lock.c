/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "hd-error.h"
#include "lock.h"
#include "macros.h"
#include "parse.h"

#define LOCK_DIR "run/hostdev"

struct HdGroupLocks {
        GArray *fds; /* int */
};

void hd_group_locks_release(HdGroupLocks *locks)
{
        if (!locks)
                return;
        /* Closing the descriptor drops the flock; empty the file first, so that its text never
         * names a process that no longer holds it. */
        for (guint i = 0; i < locks->fds->len; i++) {
                int fd = g_array_index(locks->fds, int, i);
                (void)!ftruncate(fd, 0);
                close(fd);
        }
        g_array_unref(locks->fds);
        g_free(locks);
}

static gint compare_ints(gconstpointer a, gconstpointer b)
{
        int x = *(const int *)a, y = *(const int *)b;

        return x < y ? -1 : x > y;
}

/* The pid holding a flock on the file open at @fd, from the kernel's table of locks
 * (/proc/locks: "1: FLOCK  ADVISORY  WRITE 4280 fe:00:10953425 0 EOF"). The lock is a kernel
 * object of this machine whatever the root, so this is the machine's /proc, not the root's.
 * 0 when not found (no /proc, or the holder is in another pid namespace). */
static pid_t holder_from_proc_locks(int fd)
{
        g_autofree char *data = NULL;
        g_auto(GStrv) lines = NULL;
        struct stat st;

        if (fstat(fd, &st) < 0 || !g_file_get_contents("/proc/locks", &data, NULL, NULL))
                return 0;
        lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                char kind[16], mode[16], rw[16];
                unsigned int maj, min;
                unsigned long long ino;
                int pid;
                const char *p = strchr(*l, ':');

                /* "N: -> FLOCK ..." lines are waiters, not holders */
                if (!p || strstr(*l, "->"))
                        continue;
                if (sscanf(p + 1, "%15s %15s %15s %d %x:%x:%llu", kind, mode, rw, &pid, &maj, &min,
                           &ino) != 7)
                        continue;
                if (strcmp(kind, "FLOCK") == 0 && pid > 0 && ino == (unsigned long long)st.st_ino &&
                    maj == major(st.st_dev) && min == minor(st.st_dev))
                        return (pid_t)pid;
        }
        return 0;
}

/* The pid written in the lock file by its holder, when that process is alive. */
static pid_t holder_from_file(int fd)
{
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        gint64 pid;

        if (n <= 0)
                return 0;
        buf[n] = '\0';
        g_strstrip(buf);
        if (!hd_parse_int(buf, 1, G_MAXINT, &pid) || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
                return 0;
        return (pid_t)pid;
}

/* The lock at @fd is taken: find its holder, or take the lock when it was released meanwhile
 * (TRUE). The holder writes its pid just after taking the lock, so a contender can come in
 * between; the kernel's lock table has it from the first moment. Should that not be readable,
 * wait a little for the holder to write the file. *holder stays 0 when it cannot be known. */
static gboolean lock_or_find_holder(int fd, pid_t *holder)
{
        *holder = 0;
        for (guint attempt = 0; attempt < 50; attempt++) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return TRUE;
                *holder = holder_from_proc_locks(fd);
                if (!*holder)
                        *holder = holder_from_file(fd);
                if (*holder)
                        return FALSE;
                g_usleep(2000);
        }
        return FALSE;
}

/* Open and lock @path (below the root) for @what ("IOMMU group 5"); the descriptor, or -1
 * with @error set. */
static int lock_one(int root_fd, const char *path, const char *what, GError **error)
{
        char pid[32];
        int fd = hd_open_at(root_fd, path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                            0644);

        if (fd < 0) {
                int err = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot open the lock of %s (/%s): %s",
                            what, path, g_strerror(err));
                return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int err = errno;
                pid_t holder = 0;
                char who[32] = "pid unknown";

                /* (a holder that let go meanwhile leaves the lock to us) */
                if (err == EWOULDBLOCK && lock_or_find_holder(fd, &holder))
                        err = 0;
                if (err) {
                        close(fd);
                        if (holder)
                                g_snprintf(who, sizeof(who), "pid %d", (int)holder);
                        if (err == EWOULDBLOCK)
                                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                                            "%s is being changed by another hostdev process (%s); "
                                            "try again when it has finished",
                                            what, who);
                        else
                                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot lock %s: %s",
                                            what, g_strerror(err));
                        return -1;
                }
        }
        /* The holder's pid, for the message another process prints. */
        g_snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        if (ftruncate(fd, 0) == 0)
                (void)!pwrite(fd, pid, strlen(pid), 0);
        return fd;
}

HdGroupLocks *hd_group_locks_acquire(HdCtx *ctx, GArray *groups, GError **error)
{
        g_autoptr(HdGroupLocks) locks = g_new0(HdGroupLocks, 1);
        g_autoptr(GArray) sorted = g_array_copy(groups);
        int root_fd = hd_ctx_get_root_fd(ctx);

        locks->fds = g_array_new(FALSE, FALSE, sizeof(int));
        g_array_sort(sorted, compare_ints);
        if (!hd_mkdir_p_at(root_fd, LOCK_DIR, 0755, error))
                return NULL;
        for (guint i = 0; i < sorted->len; i++) {
                int group = g_array_index(sorted, int, i);
                g_autofree char *path = NULL;
                char what[48];
                int fd;

                if (group < 0 || (i > 0 && group == g_array_index(sorted, int, i - 1)))
                        continue;
                path = g_strdup_printf(LOCK_DIR "/group-%d.lock", group);
                g_snprintf(what, sizeof(what), "IOMMU group %d", group);
                fd = lock_one(root_fd, path, what, error);
                if (fd < 0)
                        return NULL;
                g_array_append_val(locks->fds, fd);
        }
        return g_steal_pointer(&locks);
}

HdGroupLocks *hd_named_lock_acquire(HdCtx *ctx, const char *name, const char *what,
                                    GError **error)
{
        g_autoptr(HdGroupLocks) locks = g_new0(HdGroupLocks, 1);
        g_autofree char *path = NULL;
        int root_fd = hd_ctx_get_root_fd(ctx);
        int fd;

        g_return_val_if_fail(name && *name && !strchr(name, '/') && strcmp(name, "..") != 0 &&
                                 strcmp(name, ".") != 0,
                             NULL);
        locks->fds = g_array_new(FALSE, FALSE, sizeof(int));
        if (!hd_mkdir_p_at(root_fd, LOCK_DIR, 0755, error))
                return NULL;
        path = g_strdup_printf(LOCK_DIR "/%s.lock", name);
        fd = lock_one(root_fd, path, what, error);
        if (fd < 0)
                return NULL;
        g_array_append_val(locks->fds, fd);
        return g_steal_pointer(&locks);
}

int hd_group_lock_holder(HdCtx *ctx, int group)
{
        g_autofree char *path = g_strdup_printf(LOCK_DIR "/group-%d.lock", group);
        int fd = hd_open_at(hd_ctx_get_root_fd(ctx), path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
        pid_t pid;

        if (fd < 0)
                return 0;
        pid = holder_from_proc_locks(fd);
        if (!pid)
                pid = holder_from_file(fd);
        close(fd);
        return (int)pid;
}
