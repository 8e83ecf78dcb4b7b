/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing small kernel attribute files relative to a directory file descriptor.
 *
 * Every path handed to these functions is relative to @dirfd and must not be absolute: the
 * library opens its root once and never leaves it, which is what makes --root work on a
 * snapshot of another machine. Failures come back as G_IO_ERROR with the path in the message.
 *
 * The confinement rule. @dirfd is a root: every path is resolved with openat2()'s
 * RESOLVE_IN_ROOT, so an absolute symlink or a ".." met on the way is resolved inside @dirfd
 * as if it were "/" (a tree holding etc -> /etc reaches TREE/etc, never the machine's /etc),
 * and magic links (/proc/PID/fd/N) are not followed. Functions that act on a path's last
 * component without opening it (readlink, mkdir, unlink, symlink, rename) first open its
 * parent that way and then act relative to that descriptor (a name of one component that is
 * not a link is opened with plain openat(O_NOFOLLOW): it cannot leave its directory). So nothing
 * here reads or writes outside @dirfd, whatever the tree holds. Callers pass the context's root fd
 * (or <root>/sys, whose kernel links never climb above it) when a path crosses a link; a
 * subdirectory fd (a device's directory) only with names of one component, because a link that
 * climbs above the fd it is resolved from stops there. On "/" this is the ordinary resolution at
 * the cost of openat(). Without openat2() (Linux < 5.6, or a seccomp filter that refuses it) the
 * functions fall back to plain openat(): hd_fileio_can_confine() says so, and HdCtx refuses
 * any root but "/" then.
 *
 * Files: every file opened for reading or writing must be a regular file (sysfs attributes
 * are): it is opened with O_NONBLOCK|O_NOCTTY and checked with fstat() before the first read
 * or write (hd_read_attr_buf_at(): see there), so a FIFO, socket, device node or directory planted
 * where a file is expected is refused (G_IO_ERROR_NOT_REGULAR_FILE, naming the path) instead of
 * blocking or being read. Every read has a size bound.
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>
#include <sys/types.h>

/* openat() confined as above: @flags and @mode as for openat(); -1 with errno set. */
int hd_open_at(int dirfd, const char *path, int flags, mode_t mode);

/* What a file of @mode is, for a refusal: "a FIFO", "a directory", ... */
const char *hd_file_type_name(mode_t mode);

/* Whether the kernel has openat2() (and lets us use it). */
gboolean hd_fileio_can_confine(void);

/* Upper bound for one sysfs text attribute: the kernel hands out one page at most. */
#define HD_ATTR_MAX 4096

/* Read a text attribute, strip one trailing newline. NULL with @error set on failure. */
char *hd_read_attr_at(int dirfd, const char *path, GError **error);

/* Like hd_read_attr_at() but returns NULL without an error when the file does not exist or
 * cannot be read: for optional facts that are simply absent on some kernels or devices. */
char *hd_read_attr_optional_at(int dirfd, const char *path);

/* The scanner's allocation-free forms: the attribute text (one trailing newline stripped) or
 * the basename of a link target into @buf of @size bytes; the length, or -1 (errno set) when
 * absent or unreadable. A value longer than @size - 1 bytes is cut to fit. The attribute reader
 * checks the file type only when the answer is not a short line ending in a newline (every
 * sysfs text attribute is one), which keeps a scan at one open, read and close per
 * attribute; anything else that is not a regular file gives -1 (EINVAL). */
gssize hd_read_attr_buf_at(int dirfd, const char *path, char *buf, gsize size);
gssize hd_readlink_basename_buf_at(int dirfd, const char *path, char *buf, gsize size);

/* Read up to @max bytes of a binary file (config space). */
GBytes *hd_read_bytes_at(int dirfd, const char *path, gsize max, GError **error);

/* The same without the type check, for a descriptor of the live /sys only, whose files the
 * kernel makes (all regular): a device scan reads one per device. */
GBytes *hd_read_sysfs_bytes_at(int dirfd, const char *path, gsize max, GError **error);

/* Read a whole regular file of any size up to @max (procfs tables, config files). */
char *hd_read_file_at(int dirfd, const char *path, gsize max, GError **error);

/* The same for a file the operator named on the command line or in a configuration (not below
 * a root: absolute, or relative to the working directory): opened non-blocking, refused
 * unless it is a regular file, at most @max bytes. */
char *hd_read_path(const char *path, gsize max, GError **error);

/* Target of a symbolic link, or NULL with @error. */
char *hd_readlink_at(int dirfd, const char *path, GError **error);

/* Last path component of a symlink's target ("driver" -> "vfio-pci"); NULL when absent. */
char *hd_readlink_basename_at(int dirfd, const char *path);

/* Open a directory below @dirfd (O_DIRECTORY|O_CLOEXEC). Returns -1 with @error set. */
int hd_open_dir_at(int dirfd, const char *path, GError **error);

/* Write @value to an existing attribute file, as sysfs expects: one write() of the whole
 * string, no creation, no truncation semantics beyond O_WRONLY|O_TRUNC for regular files. */
gboolean hd_write_attr_at(int dirfd, const char *path, const char *value, GError **error);

/* stat() of @path (of a final symlink itself when @nofollow); FALSE with errno set. */
gboolean hd_stat_at(int dirfd, const char *path, gboolean nofollow, struct stat *st);

/* mkdir, unlink (@flags: 0 or AT_REMOVEDIR), symlink of @path's last component, its parent
 * resolved confined. FALSE with errno set. */
gboolean hd_mkdir_at(int dirfd, const char *path, int mode);
gboolean hd_unlink_at(int dirfd, const char *path, int flags);
gboolean hd_symlink_at(const char *target, int dirfd, const char *path);
/* rename() of @from to @to, both below @dirfd and resolved as above; FALSE with errno set. */
gboolean hd_rename_at(int dirfd, const char *from, const char *to);

/* Whether @path exists below @dirfd (without following a final symlink when @nofollow). */
gboolean hd_exists_at(int dirfd, const char *path, gboolean nofollow);

/* Names in a directory, sorted, without "." and "..". NULL with @error when it cannot be
 * opened. */
GPtrArray *hd_list_dir_at(int dirfd, const char *path, GError **error);

/* Replace the contents of a regular file atomically (temp file, fsync, rename). Used for the
 * journal and for the sim backend's imitation of kernel state; never for sysfs. */
gboolean hd_write_file_atomic_at(int dirfd, const char *path, const char *data, gssize len,
                                 GError **error);

/* The same with the file's mode (set on the temporary file's descriptor before the rename;
 * the umask does not apply). */
gboolean hd_write_file_atomic_mode_at(int dirfd, const char *path, const char *data, gssize len,
                                      int mode, GError **error);

/* mkdir -p below @dirfd. */
gboolean hd_mkdir_p_at(int dirfd, const char *path, int mode, GError **error);

/* Open (creating it) the lock file @path and take an exclusive flock on it, waiting for
 * other holders (threads or processes); returns the descriptor, closing it unlocks. -1 with
 * @error on failure. For short read-modify-write sections of shared state files. */
int hd_lock_file_at(int dirfd, const char *path, GError **error);

/* Resolve a symlink target against the directory @base that holds the link, both relative to
 * the root ("sys/bus/pci/devices" + "../../../devices/pci0000:00/0000:00:02.0" ->
 * "sys/devices/pci0000:00/0000:00:02.0"). An absolute target is taken as relative to the
 * root. NULL when the result would leave the root. */
char *hd_path_resolve(const char *base, const char *target);

/* Create or truncate a regular file and write @data; no fsync. For output trees (snapshots)
 * where durability of each file does not matter. */
gboolean hd_write_file_at(int dirfd, const char *path, const char *data, gsize len, GError **error);
