/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the kernel uevent parser of hostdevd (src/agent/uevent.c): datagrams of
 * any length and content, as a process with CAP_NET_ADMIN could send them to the kernel's group
 * (the sender check drops those, the parser must hold anyway). An accepted message has every
 * field it reports inside the buffer, NUL-terminated, with the header's action and devpath.
 */
#include "config.h"

#include <string.h>

#include "uevent.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static gboolean inside(const char *p, const char *buf, size_t size)
{
        return p >= buf && p < buf + size && memchr(p, '\0', (size_t)(buf + size - p));
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        /* a copy of exactly @size bytes, so ASan sees any read past the datagram */
        char *buf = g_memdup2(data, size);
        HdUevent ev;

        if (hd_uevent_parse(buf, size, &ev)) {
                g_assert(inside(ev.action, buf, size) && inside(ev.devpath, buf, size) &&
                         inside(ev.subsystem, buf, size));
                g_assert(!ev.devtype || inside(ev.devtype, buf, size));
                g_assert(!ev.driver || inside(ev.driver, buf, size));
                g_assert(!ev.mdev_state || inside(ev.mdev_state, buf, size));
                g_assert(ev.devpath[0] == '/');
                g_assert(strncmp(buf, ev.action, strlen(ev.action)) == 0);
                g_assert(size <= HD_UEVENT_MAX_LEN);
                (void)hd_uevent_subsystem_watched(ev.subsystem);
        }
        g_free(buf);
        return 0;
}
