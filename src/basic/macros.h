/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small macros shared by every layer. Everything here is header-only and has no state.
 */
#pragma once

#include <errno.h>
#include <unistd.h>
#include <glib.h>

/* Close a file descriptor when it goes out of scope; -1 means "nothing to close". GLib 2.74 has
 * no g_autofd (it arrived in 2.76), so we carry our own. */
static inline void hd_close_fdp(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}
#define hd_autofd __attribute__((cleanup(hd_close_fdp)))

/* Take ownership of a file descriptor out of an hd_autofd variable. */
static inline int hd_steal_fd(int *fd)
{
        int r = *fd;
        *fd = -1;
        return r;
}

#define HD_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
