/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
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
        /* Closing the descriptor drops the flock. */
        for (guint i = 0; i < locks->fds->len; i++)
                close(g_array_index(locks->fds, int, i));
        g_array_unref(locks->fds);
        g_free(locks);
}

static gint compare_ints(gconstpointer a, gconstpointer b)
{
        int x = *(const int *)a, y = *(const int *)b;

        return x < y ? -1 : x > y;
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
                char pid[32];
                int fd;

                if (group < 0 || (i > 0 && group == g_array_index(sorted, int, i - 1)))
                        continue;
                path = g_strdup_printf(LOCK_DIR "/group-%d.lock", group);
                fd = hd_open_at(root_fd, path,
                                O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
                if (fd < 0) {
                        int err = errno;
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "cannot open the lock of IOMMU group %d (/%s): %s", group,
                                    path, g_strerror(err));
                        return NULL;
                }
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        int err = errno;
                        g_autofree char *holder = hd_read_attr_optional_at(root_fd, path);
                        close(fd);
                        if (err == EWOULDBLOCK)
                                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                                            "IOMMU group %d is being changed by another hostdev "
                                            "process (pid %s); try again when it has finished",
                                            group, holder && *holder ? holder : "unknown");
                        else
                                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                            "cannot lock IOMMU group %d: %s", group,
                                            g_strerror(err));
                        return NULL;
                }
                /* The holder's pid, for the message another process prints. */
                g_snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
                if (ftruncate(fd, 0) == 0)
                        (void)!pwrite(fd, pid, strlen(pid), 0);
                g_array_append_val(locks->fds, fd);
        }
        return g_steal_pointer(&locks);
}
