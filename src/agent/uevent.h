/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's own uevents, for a live host where udevd does not run (a container, an
 * initramfs, a minimal host) or an agent built without libgudev: a NETLINK_KOBJECT_UEVENT
 * socket bound to the kernel's multicast group (1), read by a GSource.
 *
 * Three parts, each testable on its own:
 *   - hd_uevent_parse(): a datagram's bytes to an HdUevent (pure, fuzzed: no socket);
 *   - hd_uevent_sender_read() and hd_uevent_sender_check(): who sent a datagram, from
 *     recvmsg's metadata (the netlink source address and the SCM_CREDENTIALS), and whether
 *     that is the kernel: the check sees only that metadata, so it is tested on synthetic
 *     metadata, and a datagram from any other sender is dropped, in tests as in production;
 *   - HdUeventMonitor: the GSource that reads datagrams from an fd (the netlink socket, or
 *     any datagram socket a test gives it), checks the sender, parses, and hands accepted
 *     events of the watched subsystems to a callback.
 *
 * Which source of device changes the agent uses (hd_watch_choose_source()): inotify under
 * --root; on the live root udevd's re-broadcast through GUdev when the agent has libgudev and
 * udevd runs; the kernel's uevents otherwise. "udevd runs" is the rule of libudev's
 * udev_queue_get_udev_is_active() and of sd-device's monitor: run/udev/control exists (the
 * control socket udevd creates at start and removes at exit). The decision follows udevd
 * (source-switch.h): an inotify watch on run/udev sees the socket appear and go, and the agent
 * switches to udevd's source when it appears (re-reading its inventory then, and once more a
 * moment later, once udevd's rules have run) and back to the kernel's when it goes (re-reading:
 * changes made while udevd stopped or restarted are not missed). Only the source heard is
 * read: the kernel's socket is closed while udevd's is heard (its events would come before
 * udevd's rules ran), GUdev's client is dropped while the kernel's are. Without libgudev the
 * kernel's source stays.
 */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The largest datagram read and parsed: the kernel's environment buffer is 2048 bytes
 * (UEVENT_BUFFER_SIZE) plus the "ACTION@DEVPATH" header; anything longer is not the kernel's. */
#define HD_UEVENT_MAX_LEN 8192

/* One parsed kernel uevent. The strings point into the parsed buffer (valid while it is). */
typedef struct {
        const char *action;     /* add, remove, change, move, online, offline, bind, unbind */
        const char *devpath;    /* /devices/... (below /sys) */
        const char *subsystem;
        const char *devtype;    /* NULL when absent */
        const char *driver;     /* NULL when absent (bind carries it) */
        const char *mdev_state; /* MDEV_STATE of an mdev parent's change, NULL when absent */
        guint64 seqnum;
} HdUevent;

/* Parse a kernel uevent datagram of @len bytes: "ACTION@DEVPATH\0" then "KEY=VALUE\0" fields.
 * Strict: @len within HD_UEVENT_MAX_LEN, the last byte NUL, no empty field, every key
 * [A-Z0-9_]+ (those read here given once), every field valid UTF-8, the action one of the kernel's, the
 * header's action and devpath repeated by ACTION= and DEVPATH=, SUBSYSTEM= and a decimal
 * SEQNUM= present. A message of libudev's format ("libudev\0" magic) is refused: only the
 * kernel's own are read. FALSE when the message is not one. */
gboolean hd_uevent_parse(const char *buf, gsize len, HdUevent *ev);

/* Whether events of @subsystem move the inventory (the same list GUdev is given). */
gboolean hd_uevent_subsystem_watched(const char *subsystem);

/* The watched subsystems, NULL-terminated. */
extern const char *const hd_uevent_subsystems[];

/* Who sent a datagram, as recvmsg reported it. */
typedef struct {
        gboolean has_netlink_addr; /* msg_name was a full sockaddr_nl of family AF_NETLINK */
        guint32 nl_pid;            /* the sending port: 0 is the kernel */
        guint32 nl_groups;         /* the multicast group it was sent to */
        gboolean has_creds;        /* an SCM_CREDENTIALS control message */
        uid_t uid;
        gboolean truncated;        /* MSG_TRUNC or MSG_CTRUNC */
} HdUeventSender;

/* Fill @s from the metadata of a message recvmsg returned (msg_name, msg_namelen,
 * msg_control, msg_controllen, msg_flags): every length is checked. */
void hd_uevent_sender_read(const struct msghdr *msg, HdUeventSender *s);

/* Whether @s is the kernel: a whole message, a netlink address with port 0 sent to group 1,
 * and credentials of uid 0. FALSE with the reason in *@why otherwise. */
gboolean hd_uevent_sender_check(const HdUeventSender *s, const char **why);

/* Called with each accepted event of a watched subsystem, or with NULL when events were lost
 * (the socket's buffer overflowed: anything may have changed). */
typedef void (*HdUeventFunc)(const HdUevent *ev, gpointer user_data);

typedef struct HdUeventMonitor HdUeventMonitor;

/* A monitor reading datagrams from @fd, which it owns (closed by hd_uevent_monitor_free());
 * the fd is made non-blocking. @func gets the events of @subsystems (NULL-terminated, kept by
 * the caller while the monitor lives: hd_uevent_subsystems for the agent). */
HdUeventMonitor *hd_uevent_monitor_new_fd(int fd, const char *const *subsystems,
                                          HdUeventFunc func, gpointer user_data);

/* The kernel's uevent socket (NETLINK_KOBJECT_UEVENT, group 1, SO_PASSCRED) under a monitor;
 * NULL with @error when it cannot be opened or bound. */
HdUeventMonitor *hd_uevent_monitor_open(const char *const *subsystems, HdUeventFunc func,
                                        gpointer user_data, GError **error);

void hd_uevent_monitor_free(HdUeventMonitor *m);

/* Datagrams accepted (of any subsystem) and dropped (a sender that is not the kernel, or a
 * message that is not a uevent) so far. */
guint64 hd_uevent_monitor_get_accepted(HdUeventMonitor *m);
guint64 hd_uevent_monitor_get_dropped(HdUeventMonitor *m);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdUeventMonitor, hd_uevent_monitor_free)

typedef enum {
        HD_WATCH_SOURCE_INOTIFY, /* a tree under --root */
        HD_WATCH_SOURCE_UDEVD,   /* udevd's re-broadcast through GUdev */
        HD_WATCH_SOURCE_KERNEL,  /* the kernel's uevents */
        HD_WATCH_SOURCE_NONE,    /* none heard (the kernel's socket could not be opened) */
} HdWatchSource;

/* Whether udevd runs on the host whose root is @root_fd: run/udev/control exists. */
gboolean hd_udevd_is_running(int root_fd);

/* The source of device changes for an agent on the live root or not (@live_root), built with
 * libgudev or not, where udevd runs or not (pure: asked again at every start and stop of
 * udevd, source-switch.h). */
HdWatchSource hd_watch_choose_source(gboolean live_root, gboolean have_gudev,
                                     gboolean udevd_running);

/* "inotify under --root", "udevd", "kernel uevents", "none" (the log lines). */
const char *hd_watch_source_name(HdWatchSource source);
