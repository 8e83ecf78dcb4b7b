/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "fileio.h"
#include "macros.h"

static gboolean set_errno_error(GError **error, int err, const char *what, const char *path)
{
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s %s: %s", what, path,
                    g_strerror(err));
        return FALSE;
}

/* Read at most @max bytes; returns the byte count or -1 with errno set. The buffer gets a NUL
 * after the data so text users can treat it as a string. */
static gssize read_fd_bounded(int fd, char *buf, gsize max)
{
        gsize total = 0;
        const gsize chunk = 16384; /* procfs and sysfs hand out at most a page per read */

        while (total < max) {
                /* Small reads until EOF: a sysctl file (proc/sys/kernel/osrelease) fails a
                 * read whose size the kernel cannot allocate with ENOMEM, whatever the
                 * file's length, so the caller's bound must not become the read size. */
                gssize n = read(fd, buf + total, MIN(max - total, chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (n == 0)
                        break;
                total += (gsize)n;
        }
        buf[total] = '\0';
        return (gssize)total;
}

/* One read(): the kernel formats a sysfs (or sysctl) attribute whole, at most a page, and
 * hands all of it to the first read that has room; a regular file (a fixture, a snapshot)
 * returns less than asked only at its end. So the read-until-0 loop would only add a second
 * syscall per attribute, which is a tenth of a device scan. */
static gssize read_fd_once(int fd, char *buf, gsize max)
{
        gssize n;

        do
                n = read(fd, buf, max);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return n;
}

/* Write all of @data to a regular file; -1 with errno set on failure. */
static int write_all(int fd, const char *data, gsize len)
{
        while (len > 0) {
                gssize n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                data += n;
                len -= (gsize)n;
        }
        return 0;
}

char *hd_read_attr_at(int dirfd, const char *path, GError **error)
{
        hd_autofd int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[HD_ATTR_MAX + 1];
        gssize n;

        if (fd < 0) {
                set_errno_error(error, errno, "cannot open", path);
                return NULL;
        }
        n = read_fd_once(fd, buf, HD_ATTR_MAX);
        if (n < 0) {
                set_errno_error(error, errno, "cannot read", path);
                return NULL;
        }
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        return g_strdup(buf);
}

gssize hd_read_attr_buf_at(int dirfd, const char *path, char *buf, gsize size)
{
        hd_autofd int fd = -1;
        gssize n;

        g_return_val_if_fail(size > 1, -1);
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -1;
        n = read_fd_once(fd, buf, size - 1);
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        return n;
}

gssize hd_readlink_basename_buf_at(int dirfd, const char *path, char *buf, gsize size)
{
        char target[PATH_MAX];
        gssize n = readlinkat(dirfd, path, target, sizeof(target) - 1);
        const char *base;
        gsize len;

        if (n < 0)
                return -1;
        target[n] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        len = MIN(strlen(base), size - 1);
        memcpy(buf, base, len);
        buf[len] = '\0';
        return (gssize)len;
}

char *hd_read_attr_optional_at(int dirfd, const char *path)
{
        return hd_read_attr_at(dirfd, path, NULL);
}

GBytes *hd_read_bytes_at(int dirfd, const char *path, gsize max, GError **error)
{
        hd_autofd int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        g_autofree char *buf = NULL;
        gssize n;

        if (fd < 0) {
                set_errno_error(error, errno, "cannot open", path);
                return NULL;
        }
        buf = g_malloc(max + 1);
        n = read_fd_bounded(fd, buf, max);
        if (n < 0) {
                set_errno_error(error, errno, "cannot read", path);
                return NULL;
        }
        return g_bytes_new_take(g_steal_pointer(&buf), (gsize)n);
}

char *hd_read_file_at(int dirfd, const char *path, gsize max, GError **error)
{
        hd_autofd int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        g_autoptr(GString) s = NULL;
        char chunk[16384];

        if (fd < 0) {
                set_errno_error(error, errno, "cannot open", path);
                return NULL;
        }
        s = g_string_new(NULL);
        for (;;) {
                gssize n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        set_errno_error(error, errno, "cannot read", path);
                        return NULL;
                }
                if (n == 0)
                        break;
                if (s->len + (gsize)n > max) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    "%s is larger than %" G_GSIZE_FORMAT " bytes", path, max);
                        return NULL;
                }
                g_string_append_len(s, chunk, n);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

char *hd_readlink_at(int dirfd, const char *path, GError **error)
{
        char buf[PATH_MAX];
        gssize n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);

        if (n < 0) {
                set_errno_error(error, errno, "cannot read link", path);
                return NULL;
        }
        buf[n] = '\0';
        return g_strdup(buf);
}

char *hd_readlink_basename_at(int dirfd, const char *path)
{
        g_autofree char *target = hd_readlink_at(dirfd, path, NULL);
        const char *slash;

        if (!target)
                return NULL;
        slash = strrchr(target, '/');
        return g_strdup(slash ? slash + 1 : target);
}

int hd_open_dir_at(int dirfd, const char *path, GError **error)
{
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                set_errno_error(error, errno, "cannot open directory", path);
        return fd;
}

gboolean hd_write_attr_at(int dirfd, const char *path, const char *value, GError **error)
{
        hd_autofd int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = strlen(value);
        gssize n;

        if (fd < 0)
                return set_errno_error(error, errno, "cannot open for writing", path);
        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return set_errno_error(error, errno, "cannot write", path);
        if ((size_t)n != len) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "short write to %s", path);
                return FALSE;
        }
        return TRUE;
}

gboolean hd_exists_at(int dirfd, const char *path, gboolean nofollow)
{
        struct stat st;

        return fstatat(dirfd, path, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) == 0;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *hd_list_dir_at(int dirfd, const char *path, GError **error)
{
        int fd = hd_open_dir_at(dirfd, path, error);
        g_autoptr(GPtrArray) names = NULL;
        DIR *dir;
        struct dirent *de;

        if (fd < 0)
                return NULL;
        dir = fdopendir(fd);
        if (!dir) {
                int err = errno;
                close(fd);
                set_errno_error(error, err, "cannot list", path);
                return NULL;
        }
        names = g_ptr_array_new_with_free_func(g_free);
        while ((de = readdir(dir))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                g_ptr_array_add(names, g_strdup(de->d_name));
        }
        closedir(dir);
        g_ptr_array_sort(names, compare_strings);
        return g_steal_pointer(&names);
}

gboolean hd_mkdir_p_at(int dirfd, const char *path, int mode, GError **error)
{
        g_autofree char *copy = g_strdup(path);

        for (char *p = copy;; p++) {
                if (*p == '/' || *p == '\0') {
                        char saved = *p;
                        *p = '\0';
                        if (copy[0] != '\0' && mkdirat(dirfd, copy, mode) < 0 && errno != EEXIST)
                                return set_errno_error(error, errno, "cannot create directory",
                                                       copy);
                        *p = saved;
                        if (saved == '\0')
                                break;
                }
        }
        return TRUE;
}

gboolean hd_write_file_atomic_at(int dirfd, const char *path, const char *data, gssize len,
                                 GError **error)
{
        /* unique per call, not only per process: threads of one process (the agent runs
         * transactions on different groups at once) must not share a temporary file. The pid
         * stays last: recovery reads it to tell a dead writer's leftover from a live one. */
        static gint counter;
        g_autofree char *tmp = g_strdup_printf("%s.tmp.%u.%d", path,
                                               (guint)g_atomic_int_add(&counter, 1),
                                               (int)getpid());
        size_t remaining = len < 0 ? strlen(data) : (size_t)len;
        hd_autofd int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return set_errno_error(error, errno, "cannot create", tmp);
        if (write_all(fd, data, remaining) < 0) {
                int err = errno;
                (void)unlinkat(dirfd, tmp, 0);
                return set_errno_error(error, err, "cannot write", tmp);
        }
        if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, path) < 0) {
                int err = errno;
                (void)unlinkat(dirfd, tmp, 0);
                return set_errno_error(error, err, "cannot replace", path);
        }
        return TRUE;
}

int hd_lock_file_at(int dirfd, const char *path, GError **error)
{
        hd_autofd int fd = openat(dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0) {
                set_errno_error(error, errno, "cannot open", path);
                return -1;
        }
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        set_errno_error(error, errno, "cannot lock", path);
                        return -1;
                }
        }
        return hd_steal_fd(&fd);
}

char *hd_path_resolve(const char *base, const char *target)
{
        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) base_parts = NULL;
        g_auto(GStrv) target_parts = NULL;

        if (target[0] != '/') {
                base_parts = g_strsplit(base, "/", -1);
                for (char **p = base_parts; *p; p++)
                        if (**p && strcmp(*p, ".") != 0)
                                g_ptr_array_add(parts, g_strdup(*p));
        }
        target_parts = g_strsplit(target, "/", -1);
        for (char **p = target_parts; *p; p++) {
                if (!**p || strcmp(*p, ".") == 0)
                        continue;
                if (strcmp(*p, "..") == 0) {
                        if (parts->len == 0)
                                return NULL;
                        g_ptr_array_remove_index(parts, parts->len - 1);
                        continue;
                }
                g_ptr_array_add(parts, g_strdup(*p));
        }
        g_ptr_array_add(parts, NULL);
        return g_strjoinv("/", (char **)parts->pdata);
}

gboolean hd_write_file_at(int dirfd, const char *path, const char *data, gsize len,
                          GError **error)
{
        hd_autofd int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return set_errno_error(error, errno, "cannot create", path);
        if (write_all(fd, data, len) < 0)
                return set_errno_error(error, errno, "cannot write", path);
        return TRUE;
}
