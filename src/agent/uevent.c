/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's uevents without udevd (uevent.h): the parser, the sender check, the monitor
 * and the choice of the agent's source of device changes.
 *
 * What the kernel sends (lib/kobject_uevent.c): one datagram per event on the
 * NETLINK_KOBJECT_UEVENT family, multicast to group 1 from port 0, "ACTION@DEVPATH\0" then
 * the environment, "KEY=VALUE\0" each, ACTION, DEVPATH, SUBSYSTEM and SEQNUM always among
 * them. udevd re-broadcasts its processed events to group 2 in its own format, "libudev\0"
 * and a binary header: those are not read here (the agent uses GUdev when udevd runs). Any
 * process with CAP_NET_ADMIN can send to group 1 too, and any datagram socket can carry
 * these bytes: only a message from port 0 to group 1 with credentials of uid 0 is the
 * kernel's (as sd-device's monitor and libudev check it).
 */
#define _GNU_SOURCE 1 /* struct ucred */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fileio.h"
#include "uevent.h"

/* How many datagrams one dispatch reads before the main loop runs again. */
#define BATCH 256

const char *const hd_uevent_subsystems[] = {"pci", "mdev", "mdev_bus", "usb", "scsi", NULL};

static const char *const kernel_actions[] = {"add",    "remove",  "change", "move",
                                             "online", "offline", "bind",   "unbind"};

gboolean hd_uevent_subsystem_watched(const char *subsystem)
{
        return subsystem && g_strv_contains((const char *const *)hd_uevent_subsystems, subsystem);
}

/* ---- the parser ----------------------------------------------------------------------------- */

static gboolean is_kernel_action(const char *action)
{
        for (guint i = 0; i < G_N_ELEMENTS(kernel_actions); i++)
                if (strcmp(action, kernel_actions[i]) == 0)
                        return TRUE;
        return FALSE;
}

static gboolean valid_key(const char *key, gsize len)
{
        if (len == 0)
                return FALSE;
        for (gsize i = 0; i < len; i++)
                if (!g_ascii_isupper(key[i]) && !g_ascii_isdigit(key[i]) && key[i] != '_')
                        return FALSE;
        return TRUE;
}

/* Store @value in *@slot when the field's key (@key, @klen bytes) is @name; FALSE when it is
 * and *@slot was already set (a key given twice). */
static gboolean take_field(const char *key, gsize klen, const char *name, const char *value,
                           const char **slot, gboolean *matched)
{
        if (*matched || klen != strlen(name) || memcmp(key, name, klen) != 0)
                return TRUE;
        *matched = TRUE;
        if (*slot)
                return FALSE;
        *slot = value;
        return TRUE;
}

gboolean hd_uevent_parse(const char *buf, gsize len, HdUevent *ev)
{
        const char *end = buf + len;
        const char *at;
        const char *p;
        const char *action = NULL, *devpath = NULL, *seqnum = NULL;
        gsize hlen;

        memset(ev, 0, sizeof(*ev));
        if (!buf || len < sizeof("a@/d") || len > HD_UEVENT_MAX_LEN || buf[len - 1] != '\0')
                return FALSE;
        /* udevd's format: "libudev\0" and a binary header (never the kernel's) */
        if (len >= sizeof("libudev") && memcmp(buf, "libudev", sizeof("libudev")) == 0)
                return FALSE;
        /* the header, "ACTION@DEVPATH": NUL-terminated since the last byte is NUL */
        hlen = strlen(buf);
        at = memchr(buf, '@', hlen);
        if (!at || at == buf || at[1] != '/' || hlen + 1 >= len)
                return FALSE;
        for (p = buf + hlen + 1; p < end;) {
                gsize flen = strlen(p);
                const char *eq = memchr(p, '=', flen);
                const char *value;
                gsize klen;
                gboolean matched = FALSE;

                if (flen == 0 || !eq || !g_utf8_validate(p, (gssize)flen, NULL))
                        return FALSE;
                klen = (gsize)(eq - p);
                value = eq + 1;
                if (!valid_key(p, klen))
                        return FALSE;
                if (!take_field(p, klen, "ACTION", value, &action, &matched) ||
                    !take_field(p, klen, "DEVPATH", value, &devpath, &matched) ||
                    !take_field(p, klen, "SUBSYSTEM", value, &ev->subsystem, &matched) ||
                    !take_field(p, klen, "SEQNUM", value, &seqnum, &matched) ||
                    !take_field(p, klen, "DEVTYPE", value, &ev->devtype, &matched) ||
                    !take_field(p, klen, "DRIVER", value, &ev->driver, &matched) ||
                    !take_field(p, klen, "MDEV_STATE", value, &ev->mdev_state, &matched))
                        return FALSE;
                p += flen + 1;
        }
        if (!action || !devpath || !ev->subsystem || !seqnum)
                return FALSE;
        /* the header says the same as the fields */
        if ((gsize)(at - buf) != strlen(action) || memcmp(buf, action, strlen(action)) != 0 ||
            strcmp(at + 1, devpath) != 0)
                return FALSE;
        if (!is_kernel_action(action) || devpath[0] != '/' || ev->subsystem[0] == '\0' ||
            strchr(ev->subsystem, '/') ||
            !g_ascii_string_to_unsigned(seqnum, 10, 0, G_MAXUINT64, &ev->seqnum, NULL))
                return FALSE;
        ev->action = action;
        ev->devpath = devpath;
        return TRUE;
}

/* ---- the sender ----------------------------------------------------------------------------- */

void hd_uevent_sender_read(const struct msghdr *msg, HdUeventSender *s)
{
        const char *control = msg->msg_control;

        memset(s, 0, sizeof(*s));
        s->truncated = (msg->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
        if (msg->msg_name && msg->msg_namelen >= sizeof(struct sockaddr_nl)) {
                struct sockaddr_nl nl;

                memcpy(&nl, msg->msg_name, sizeof(nl));
                if (nl.nl_family == AF_NETLINK) {
                        s->has_netlink_addr = TRUE;
                        s->nl_pid = nl.nl_pid;
                        s->nl_groups = nl.nl_groups;
                }
        }
        if (!control)
                return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
             c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
                struct ucred cred;

                /* the whole control message within the buffer, whatever cmsg_len claims */
                if (c->cmsg_len < CMSG_LEN(sizeof(cred)) ||
                    (gsize)((const char *)c - control) + CMSG_LEN(sizeof(cred)) >
                        msg->msg_controllen ||
                    c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
                        continue;
                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                s->has_creds = TRUE;
                s->uid = cred.uid;
                break;
        }
}

gboolean hd_uevent_sender_check(const HdUeventSender *s, const char **why)
{
        const char *reason = NULL;

        if (s->truncated)
                reason = "truncated";
        else if (!s->has_netlink_addr)
                reason = "not from a netlink socket";
        else if (s->nl_pid != 0)
                reason = "from a process, not the kernel";
        else if (s->nl_groups != 1)
                reason = "not sent to the kernel's uevent group";
        else if (!s->has_creds)
                reason = "no sender credentials";
        else if (s->uid != 0)
                reason = "sender is not uid 0";
        if (why)
                *why = reason;
        return reason == NULL;
}

/* ---- the monitor ---------------------------------------------------------------------------- */

struct HdUeventMonitor {
        int fd;
        guint source_id;
        const char *const *subsystems;
        HdUeventFunc func;
        gpointer user_data;
        guint64 accepted;
        guint64 dropped;
        char buf[HD_UEVENT_MAX_LEN];
};

/* File descriptors a datagram socket passed along (SCM_RIGHTS) are not kept. */
static void close_passed_fds(struct msghdr *msg)
{
        for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
                gsize n;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
                    c->cmsg_len < CMSG_LEN(0))
                        continue;
                n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (gsize i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
                        close(fd);
                }
        }
}

/* 1: a datagram was handled (or the call was interrupted), 0: none is waiting, -1: the socket
 * failed. */
static int receive_one(HdUeventMonitor *m)
{
        struct sockaddr_storage addr;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(4 * sizeof(int))];
        } control;
        struct iovec iov = {.iov_base = m->buf, .iov_len = sizeof(m->buf)};
        struct msghdr msg = {
                .msg_name = &addr,
                .msg_namelen = sizeof(addr),
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        HdUeventSender sender;
        HdUevent ev;
        ssize_t n;

        memset(&addr, 0, sizeof(addr));
        n = recvmsg(m->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
                if (errno == EINTR)
                        return 1;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                if (errno == ENOBUFS) {
                        /* the kernel dropped events: anything may have changed */
                        m->func(NULL, m->user_data);
                        return 1;
                }
                return -1;
        }
        close_passed_fds(&msg);
        hd_uevent_sender_read(&msg, &sender);
        if (!hd_uevent_sender_check(&sender, NULL) || !hd_uevent_parse(m->buf, (gsize)n, &ev)) {
                m->dropped++;
                return 1;
        }
        m->accepted++;
        if (g_strv_contains(m->subsystems, ev.subsystem))
                m->func(&ev, m->user_data);
        return 1;
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer user_data)
{
        HdUeventMonitor *m = user_data;
        int r = 1;

        for (guint i = 0; i < BATCH && r > 0; i++)
                r = receive_one(m);
        /* a failed socket, or a peer gone with nothing left to read */
        if (r < 0 || (r == 0 && (cond & (G_IO_HUP | G_IO_ERR | G_IO_NVAL)))) {
                m->source_id = 0;
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

HdUeventMonitor *hd_uevent_monitor_new_fd(int fd, const char *const *subsystems,
                                          HdUeventFunc func, gpointer user_data)
{
        HdUeventMonitor *m = g_new0(HdUeventMonitor, 1);
        const int on = 1;

        m->fd = fd;
        m->subsystems = subsystems;
        m->func = func;
        m->user_data = user_data;
        (void)g_unix_set_fd_nonblocking(fd, TRUE, NULL);
        /* the credentials the sender check needs (the kernel's netlink socket and Unix
         * sockets both attach them when asked) */
        (void)setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
        m->source_id = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, m);
        return m;
}

HdUeventMonitor *hd_uevent_monitor_open(const char *const *subsystems, HdUeventFunc func,
                                        gpointer user_data, GError **error)
{
        struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_groups = 1};
        const int rcvbuf = 4 * 1024 * 1024;
        int fd;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        if (fd < 0) {
                int e = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot open the kernel's uevent socket: %s", g_strerror(e));
                return NULL;
        }
        /* a burst (VFs created by the hundred) must not overflow it; without CAP_NET_ADMIN the
         * ordinary limit applies, and an overflow is still noticed (ENOBUFS) */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (bind(fd, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
                int e = errno;
                close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot join the kernel's uevent group: %s", g_strerror(e));
                return NULL;
        }
        return hd_uevent_monitor_new_fd(fd, subsystems, func, user_data);
}

void hd_uevent_monitor_free(HdUeventMonitor *m)
{
        if (!m)
                return;
        g_clear_handle_id(&m->source_id, g_source_remove);
        close(m->fd);
        g_free(m);
}

guint64 hd_uevent_monitor_get_accepted(HdUeventMonitor *m)
{
        return m->accepted;
}

guint64 hd_uevent_monitor_get_dropped(HdUeventMonitor *m)
{
        return m->dropped;
}

/* ---- the choice of source ------------------------------------------------------------------- */

gboolean hd_udevd_is_running(int root_fd)
{
        return hd_exists_at(root_fd, "run/udev/control", FALSE);
}

HdWatchSource hd_watch_choose_source(gboolean live_root, gboolean have_gudev,
                                     gboolean udevd_running)
{
        if (!live_root)
                return HD_WATCH_SOURCE_INOTIFY;
        if (have_gudev && udevd_running)
                return HD_WATCH_SOURCE_UDEVD;
        return HD_WATCH_SOURCE_KERNEL;
}

const char *hd_watch_source_name(HdWatchSource source)
{
        switch (source) {
        case HD_WATCH_SOURCE_INOTIFY:
                return "inotify under --root";
        case HD_WATCH_SOURCE_UDEVD:
                return "udevd";
        case HD_WATCH_SOURCE_KERNEL:
                return "kernel uevents";
        case HD_WATCH_SOURCE_NONE:
                return "none";
        }
        g_assert_not_reached();
}
