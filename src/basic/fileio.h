/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing small kernel attribute files relative to a directory file descriptor.
 *
 * Every path handed to these functions is relative to @dirfd and must not be absolute: the
 * library opens its root once and never leaves it, which is what makes --root work on a
 * snapshot of another machine. Failures come back as G_IO_ERROR with the path in the message.
 */
#pragma once

#include <glib.h>

/* Upper bound for one sysfs text attribute: the kernel hands out one page at most. */
#define HD_ATTR_MAX 4096

/* Read a text attribute, strip one trailing newline. NULL with @error set on failure. */
char *hd_read_attr_at(int dirfd, const char *path, GError **error);

/* Like hd_read_attr_at() but returns NULL without an error when the file does not exist or
 * cannot be read: for optional facts that are simply absent on some kernels or devices. */
char *hd_read_attr_optional_at(int dirfd, const char *path);

/* The scanner's allocation-free forms: the attribute text (one trailing newline stripped) or
 * the basename of a link target into @buf of @size bytes; the length, or -1 (errno set) when
 * absent or unreadable. A value longer than @size - 1 bytes is cut to fit. */
gssize hd_read_attr_buf_at(int dirfd, const char *path, char *buf, gsize size);
gssize hd_readlink_basename_buf_at(int dirfd, const char *path, char *buf, gsize size);

/* Read up to @max bytes of a binary file (config space). */
GBytes *hd_read_bytes_at(int dirfd, const char *path, gsize max, GError **error);

/* Read a whole regular file of any size up to @max (procfs tables, config files). */
char *hd_read_file_at(int dirfd, const char *path, gsize max, GError **error);

/* Target of a symbolic link, or NULL with @error. */
char *hd_readlink_at(int dirfd, const char *path, GError **error);

/* Last path component of a symlink's target ("driver" -> "vfio-pci"); NULL when absent. */
char *hd_readlink_basename_at(int dirfd, const char *path);

/* Open a directory below @dirfd (O_DIRECTORY|O_CLOEXEC). Returns -1 with @error set. */
int hd_open_dir_at(int dirfd, const char *path, GError **error);

/* Write @value to an existing attribute file, as sysfs expects: one write() of the whole
 * string, no creation, no truncation semantics beyond O_WRONLY|O_TRUNC for regular files. */
gboolean hd_write_attr_at(int dirfd, const char *path, const char *value, GError **error);

/* Whether @path exists below @dirfd (without following a final symlink when @nofollow). */
gboolean hd_exists_at(int dirfd, const char *path, gboolean nofollow);

/* Names in a directory, sorted, without "." and "..". NULL with @error when it cannot be
 * opened. */
GPtrArray *hd_list_dir_at(int dirfd, const char *path, GError **error);

/* Replace the contents of a regular file atomically (temp file, fsync, rename). Used for the
 * journal and for the sim backend's imitation of kernel state; never for sysfs. */
gboolean hd_write_file_atomic_at(int dirfd, const char *path, const char *data, gssize len,
                                 GError **error);

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
gboolean hd_write_file_at(int dirfd, const char *path, const char *data, gsize len,
                          GError **error);
