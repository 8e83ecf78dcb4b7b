/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE 1 /* O_PATH */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <gio/gio.h>

#include "fileio.h"
#include "macros.h"

static gboolean set_errno_error(GError **error, int err, const char *what, const char *path)
{
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s %s: %s", what, path,
                    g_strerror(err));
        return FALSE;
}

/* ---- Confined resolution ------------------------------------------------------------------ */

#define CONFINE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
            .flags = (guint64)flags,
            .mode = (flags & O_CREAT) ? (guint64)mode : 0,
            .resolve = CONFINE,
        };

        return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static gsize openat2_state; /* 1: works, 2: missing (ENOSYS, or a seccomp filter's EPERM) */

gboolean hd_fileio_can_confine(void)
{
        if (g_once_init_enter(&openat2_state)) {
                /* HOSTDEV_TEST_NO_OPENAT2=1 plays an old kernel for the tests: it only ever
                 * makes hostdev refuse more (a root other than "/"). */
                int fd = g_getenv("HOSTDEV_TEST_NO_OPENAT2")
                             ? -1
                             : sys_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
                if (fd >= 0)
                        close(fd);
                g_once_init_leave(&openat2_state, fd >= 0 ? 1 : 2);
        }
        return openat2_state == 1;
}

int hd_open_at(int dirfd, const char *path, int flags, mode_t mode)
{
        int fd;

        if (path[0] == '/') {
                errno = EINVAL;
                return -1;
        }
        /* One component that is not a link (O_NOFOLLOW) cannot leave @dirfd: the scanner's
         * attribute reads below a device's directory fd take this path, as cheap as ever. A
         * link there (ELOOP; ENOTDIR with O_DIRECTORY) is resolved confined below, unless the
         * caller said O_NOFOLLOW. */
        if (!strchr(path, '/') && strcmp(path, "..") != 0 && !(flags & (O_CREAT | O_PATH))) {
                fd = openat(dirfd, path, flags | O_NOFOLLOW, mode);
                if (fd >= 0 || (flags & O_NOFOLLOW) ||
                    !(errno == ELOOP || (errno == ENOTDIR && (flags & O_DIRECTORY))))
                        return fd;
        }
        if (G_UNLIKELY(!hd_fileio_can_confine()))
                return openat(dirfd, path, flags, mode);
        do
                fd = sys_openat2(dirfd, path, flags, mode);
        while (fd < 0 && errno == EAGAIN);
        return fd;
}

/* The directory that holds the last component of @path, opened confined (or @dirfd itself
 * when @path has a single component: the caller closes *@owned, never the result). *@base
 * points into @path. -1 with errno set when the parent cannot be opened. */
static int open_parent(int dirfd, const char *path, const char **base, int *owned)
{
        const char *slash = strrchr(path, '/');
        g_autofree char *dir = NULL;

        *owned = -1;
        if (!slash) {
                *base = path;
                return dirfd;
        }
        *base = slash + 1;
        dir = g_strndup(path, (gsize)(slash - path));
        *owned = hd_open_at(dirfd, *dir ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        return *owned;
}

const char *hd_file_type_name(mode_t mode)
{
        if (S_ISFIFO(mode))
                return "a FIFO";
        if (S_ISSOCK(mode))
                return "a socket";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        if (S_ISDIR(mode))
                return "a directory";
        if (S_ISLNK(mode))
                return "a symbolic link";
        return "not a regular file";
}

/* fstat() of an open descriptor through the fstat system call itself: glibc's fstat() is
 * newfstatat(fd, "", AT_EMPTY_PATH), which copies and looks up an empty path name and costs
 * the scanner a tenth of a device scan; this one is a plain descriptor lookup. */
static int fstat_fd(int fd, struct stat *st)
{
#if defined(SYS_fstat) && (defined(__x86_64__) || defined(__aarch64__))
        /* where the kernel's struct stat is glibc's */
        return (int)syscall(SYS_fstat, fd, st);
#else
        return fstat(fd, st);
#endif
}

/* Open a file that must be a regular file (a sysfs attribute is one): non-blocking, so a FIFO
 * or device node planted there can neither block the open nor be read. -1 with errno set
 * (EINVAL and *@mode set for a file of the wrong type). */
static int open_regular(int dirfd, const char *path, int flags, mode_t *type)
{
        hd_autofd int fd = hd_open_at(dirfd, path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
        struct stat st;

        *type = 0;
        if (fd < 0)
                return -1;
        if (fstat_fd(fd, &st) < 0)
                return -1;
        if (!S_ISREG(st.st_mode)) {
                *type = st.st_mode;
                errno = EINVAL;
                return -1;
        }
        return hd_steal_fd(&fd);
}

static void set_open_error(GError **error, int err, mode_t type, const char *what, const char *path)
{
        if (type)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                            "%s %s: it is %s, not a regular file; remove or replace it", what, path,
                            hd_file_type_name(type));
        else
                set_errno_error(error, err, what, path);
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
        mode_t type;
        hd_autofd int fd = open_regular(dirfd, path, O_RDONLY, &type);
        char buf[HD_ATTR_MAX + 1];
        gssize n;

        if (fd < 0) {
                set_open_error(error, errno, type, "cannot open", path);
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
        /* The scanner's hot path: a device scan reads a handful of these per device, and an
         * fstat() each would cost it a tenth. So the type is checked only when the answer
         * does not look like an attribute's: the kernel formats every text attribute as a
         * short line ending in a newline (and so do fixtures). O_NONBLOCK keeps a FIFO from
         * blocking the open or the read; a FIFO, /dev/null, /dev/zero, a disk or a tty gives
         * nothing, EAGAIN or a full buffer without a final newline, and is refused then. */
        fd = hd_open_at(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        n = read_fd_once(fd, buf, size - 1);
        if (n <= 0 || (gsize)n >= size - 1 || buf[n - 1] != '\n') {
                struct stat st;
                int err = n < 0 ? errno : EINVAL;
                if (fstat_fd(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                        errno = EINVAL;
                        return -1;
                }
                if (n < 0) {
                        errno = err;
                        return -1;
                }
        }
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        return n;
}

/* readlinkat() follows every component but the last: open the parent confined first. */
static gssize readlink_confined(int dirfd, const char *path, char *buf, gsize size)
{
        hd_autofd int owned = -1;
        const char *base;
        int pfd = open_parent(dirfd, path, &base, &owned);

        if (pfd < 0)
                return -1;
        return readlinkat(pfd, base, buf, size);
}

gssize hd_readlink_basename_buf_at(int dirfd, const char *path, char *buf, gsize size)
{
        char target[PATH_MAX];
        gssize n = readlink_confined(dirfd, path, target, sizeof(target) - 1);
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
        mode_t type;
        hd_autofd int fd = open_regular(dirfd, path, O_RDONLY, &type);
        g_autofree char *buf = NULL;
        gssize n;

        if (fd < 0) {
                set_open_error(error, errno, type, "cannot open", path);
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

GBytes *hd_read_sysfs_bytes_at(int dirfd, const char *path, gsize max, GError **error)
{
        hd_autofd int fd = hd_open_at(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
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

/* The whole of an open regular file, at most @max bytes; @shown names it in errors. */
static char *read_whole_fd(int fd, const char *shown, gsize max, GError **error)
{
        g_autoptr(GString) s = g_string_new(NULL);
        char chunk[16384];

        for (;;) {
                gssize n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        set_errno_error(error, errno, "cannot read", shown);
                        return NULL;
                }
                if (n == 0)
                        break;
                if (s->len + (gsize)n > max) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    "%s is larger than %" G_GSIZE_FORMAT " bytes", shown, max);
                        return NULL;
                }
                g_string_append_len(s, chunk, n);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

char *hd_read_file_at(int dirfd, const char *path, gsize max, GError **error)
{
        mode_t type;
        hd_autofd int fd = open_regular(dirfd, path, O_RDONLY, &type);

        if (fd < 0) {
                set_open_error(error, errno, type, "cannot open", path);
                return NULL;
        }
        return read_whole_fd(fd, path, max, error);
}

char *hd_read_path(const char *path, gsize max, GError **error)
{
        hd_autofd int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat st;

        if (fd < 0 || fstat_fd(fd, &st) < 0) {
                set_errno_error(error, errno, "cannot open", path);
                return NULL;
        }
        if (!S_ISREG(st.st_mode)) {
                set_open_error(error, EINVAL, st.st_mode, "cannot open", path);
                return NULL;
        }
        return read_whole_fd(fd, path, max, error);
}

char *hd_readlink_at(int dirfd, const char *path, GError **error)
{
        char buf[PATH_MAX];
        gssize n = readlink_confined(dirfd, path, buf, sizeof(buf) - 1);

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
        int fd = hd_open_at(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

        if (fd < 0)
                set_errno_error(error, errno, "cannot open directory", path);
        return fd;
}

gboolean hd_write_attr_at(int dirfd, const char *path, const char *value, GError **error)
{
        mode_t type;
        hd_autofd int fd = open_regular(dirfd, path, O_WRONLY, &type);
        size_t len = strlen(value);
        gssize n;

        if (fd < 0) {
                set_open_error(error, errno, type, "cannot open for writing", path);
                return FALSE;
        }
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

gboolean hd_stat_at(int dirfd, const char *path, gboolean nofollow, struct stat *st)
{
        hd_autofd int fd =
            hd_open_at(dirfd, path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0), 0);

        return fd >= 0 && fstat(fd, st) == 0;
}

gboolean hd_exists_at(int dirfd, const char *path, gboolean nofollow)
{
        struct stat st;

        return hd_stat_at(dirfd, path, nofollow, &st);
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
                        if (copy[0] != '\0' && !hd_mkdir_at(dirfd, copy, mode) &&
                            errno != EEXIST) {
                                /* named as on the machine (below its root): /run, not run */
                                int err = errno;
                                g_autofree char *shown =
                                    copy[0] == '/' ? g_strdup(copy) : g_strconcat("/", copy, NULL);
                                return set_errno_error(error, err, "cannot create directory",
                                                       shown);
                        }
                        *p = saved;
                        if (saved == '\0')
                                break;
                }
        }
        return TRUE;
}

gboolean hd_mkdir_at(int dirfd, const char *path, int mode)
{
        hd_autofd int owned = -1;
        const char *base;
        int pfd = open_parent(dirfd, path, &base, &owned);

        return pfd >= 0 && mkdirat(pfd, base, (mode_t)mode) == 0;
}

gboolean hd_unlink_at(int dirfd, const char *path, int flags)
{
        hd_autofd int owned = -1;
        const char *base;
        int pfd = open_parent(dirfd, path, &base, &owned);

        return pfd >= 0 && unlinkat(pfd, base, flags) == 0;
}

gboolean hd_rename_at(int dirfd, const char *from, const char *to)
{
        hd_autofd int owned_from = -1;
        hd_autofd int owned_to = -1;
        const char *base_from, *base_to;
        int pfrom = open_parent(dirfd, from, &base_from, &owned_from);
        int pto = pfrom >= 0 ? open_parent(dirfd, to, &base_to, &owned_to) : -1;

        return pto >= 0 && renameat(pfrom, base_from, pto, base_to) == 0;
}

gboolean hd_symlink_at(const char *target, int dirfd, const char *path)
{
        hd_autofd int owned = -1;
        const char *base;
        int pfd = open_parent(dirfd, path, &base, &owned);

        return pfd >= 0 && symlinkat(target, pfd, base) == 0;
}

gboolean hd_write_file_atomic_at(int dirfd, const char *path, const char *data, gssize len,
                                 GError **error)
{
        return hd_write_file_atomic_mode_at(dirfd, path, data, len, 0644, error);
}

gboolean hd_write_file_atomic_mode_at(int dirfd, const char *path, const char *data, gssize len,
                                      int mode, GError **error)
{
        /* unique per call, not only per process: threads of one process (the agent runs
         * transactions on different groups at once) must not share a temporary file. The pid
         * stays last: recovery reads it to tell a dead writer's leftover from a live one. */
        static gint counter;
        size_t remaining = len < 0 ? strlen(data) : (size_t)len;
        hd_autofd int owned = -1;
        hd_autofd int fd = -1;
        g_autofree char *tmp = NULL;
        const char *base;
        int pfd = open_parent(dirfd, path, &base, &owned);

        if (pfd < 0)
                return set_errno_error(error, errno, "cannot open the directory of", path);
        /* Everything below is relative to the parent and touches only its last component,
         * which O_EXCL|O_NOFOLLOW and rename() never follow. */
        tmp = g_strdup_printf("%s.tmp.%u.%d", base, (guint)g_atomic_int_add(&counter, 1),
                              (int)getpid());
        fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
                /* a leftover of a dead process whose pid came back: it is ours to replace */
                (void)unlinkat(pfd, tmp, 0);
                fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        }
        if (fd < 0)
                return set_errno_error(error, errno, "cannot create a temporary file for", path);
        /* The mode on the descriptor, whatever the umask: never a chmod by path afterwards,
         * which would follow a link the tree holds. */
        if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, remaining) < 0) {
                int err = errno;
                (void)unlinkat(pfd, tmp, 0);
                return set_errno_error(error, err, "cannot write", path);
        }
        if (fsync(fd) < 0 || renameat(pfd, tmp, pfd, base) < 0) {
                int err = errno;
                (void)unlinkat(pfd, tmp, 0);
                return set_errno_error(error, err, "cannot replace", path);
        }
        return TRUE;
}

int hd_lock_file_at(int dirfd, const char *path, GError **error)
{
        mode_t type;
        hd_autofd int fd = open_regular(dirfd, path, O_RDWR | O_CREAT | O_NOFOLLOW, &type);

        if (fd < 0) {
                set_open_error(error, errno, type, "cannot open", path);
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

gboolean hd_write_file_at(int dirfd, const char *path, const char *data, gsize len, GError **error)
{
        mode_t type;
        hd_autofd int fd = open_regular(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC, &type);

        if (fd < 0) {
                set_open_error(error, errno, type, "cannot create", path);
                return FALSE;
        }
        if (write_all(fd, data, len) < 0)
                return set_errno_error(error, errno, "cannot write", path);
        return TRUE;
}
