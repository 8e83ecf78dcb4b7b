/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's kernel uevents (src/agent/uevent.h): the parser on valid and broken messages,
 * the sender check on synthetic recvmsg metadata, the monitor on a datagram socket that is not
 * the kernel's (everything it carries is dropped), the real kernel's messages (a tun device in
 * a private network namespace), the choice of the agent's source of device changes, and
 * hostdevd itself on this machine's live root (read-only, in a private mount namespace) saying
 * which source it took with and without run/udev/control.
 */
#define _GNU_SOURCE 1 /* struct ucred */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "source-switch.h"
#include "uevent.h"

/* A datagram of NUL-terminated strings (the header, then the fields), NULL-terminated list. */
static GByteArray *message(const char *first, ...)
{
        GByteArray *b = g_byte_array_new();
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s) + 1);
        va_end(ap);
        return b;
}

static gboolean parse(GByteArray *b, HdUevent *ev)
{
        return hd_uevent_parse((const char *)b->data, b->len, ev);
}

#define USB_DEVPATH "/devices/pci0000:00/0000:00:14.0/usb1/1-2"
#define USB_ADD(last)                                                                             \
        message("add@" USB_DEVPATH, "ACTION=add", "DEVPATH=" USB_DEVPATH, "SUBSYSTEM=usb",        \
                "MAJOR=189", "MINOR=3", "DEVNAME=bus/usb/001/004", "DEVTYPE=usb_device",          \
                "PRODUCT=781/5583/100", "TYPE=0/0/0", "BUSNUM=001", "DEVNUM=004", last, NULL)

static void test_parse_valid(void)
{
        g_autoptr(GByteArray) usb_add = USB_ADD("SEQNUM=4711");
        g_autoptr(GByteArray) usb_remove = message(
            "remove@" USB_DEVPATH, "ACTION=remove", "DEVPATH=" USB_DEVPATH, "SUBSYSTEM=usb",
            "DEVNAME=bus/usb/001/004", "DEVTYPE=usb_device", "SEQNUM=4790", NULL);
        g_autoptr(GByteArray) pci_bind = message(
            "bind@/devices/pci0000:00/0000:00:02.0/0000:01:00.1", "ACTION=bind",
            "DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:01:00.1", "SUBSYSTEM=pci",
            "DRIVER=vfio-pci", "PCI_CLASS=20000", "PCI_ID=8086:10ED", "PCI_SLOT_NAME=0000:01:00.1",
            "MODALIAS=pci:v00008086d000010EDsv00008086sd00000000bc02sc00i00", "SEQNUM=5000", NULL);
        g_autoptr(GByteArray) pci_add = message(
            "add@/devices/pci0000:00/0000:00:02.0/0000:01:10.1", "ACTION=add",
            "DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:01:10.1", "SUBSYSTEM=pci",
            "PCI_SLOT_NAME=0000:01:10.1", "SEQNUM=5001", NULL);
        g_autoptr(GByteArray) mdev_parent = message(
            "change@/devices/pci0000:00/0000:00:02.0", "ACTION=change",
            "DEVPATH=/devices/pci0000:00/0000:00:02.0", "SUBSYSTEM=pci", "MDEV_STATE=registered",
            "SEQNUM=18446744073709551615", NULL);
        g_autoptr(GByteArray) mdev_add = message(
            "add@/devices/pci0000:00/0000:00:02.0/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
            "ACTION=add",
            "DEVPATH=/devices/pci0000:00/0000:00:02.0/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
            "SUBSYSTEM=mdev", "MDEV_TYPE=i915-GVTg_V5_4", "SEQNUM=0", NULL);
        HdUevent ev;

        g_assert_true(parse(usb_add, &ev));
        g_assert_cmpstr(ev.action, ==, "add");
        g_assert_cmpstr(ev.devpath, ==, USB_DEVPATH);
        g_assert_cmpstr(ev.subsystem, ==, "usb");
        g_assert_cmpstr(ev.devtype, ==, "usb_device");
        g_assert_null(ev.driver);
        g_assert_null(ev.mdev_state);
        g_assert_cmpuint(ev.seqnum, ==, 4711);

        g_assert_true(parse(usb_remove, &ev));
        g_assert_cmpstr(ev.action, ==, "remove");
        g_assert_cmpuint(ev.seqnum, ==, 4790);

        g_assert_true(parse(pci_bind, &ev));
        g_assert_cmpstr(ev.action, ==, "bind");
        g_assert_cmpstr(ev.subsystem, ==, "pci");
        g_assert_cmpstr(ev.driver, ==, "vfio-pci");
        g_assert_cmpstr(ev.devpath, ==, "/devices/pci0000:00/0000:00:02.0/0000:01:00.1");

        g_assert_true(parse(pci_add, &ev));
        g_assert_cmpstr(ev.action, ==, "add");
        g_assert_null(ev.devtype);

        g_assert_true(parse(mdev_parent, &ev));
        g_assert_cmpstr(ev.action, ==, "change");
        g_assert_cmpstr(ev.mdev_state, ==, "registered");
        g_assert_cmpuint(ev.seqnum, ==, G_MAXUINT64);

        g_assert_true(parse(mdev_add, &ev));
        g_assert_cmpstr(ev.subsystem, ==, "mdev");
        g_assert_cmpuint(ev.seqnum, ==, 0);
}

/* Every prefix of a message cut short is refused (the kernel puts SEQNUM last), and so is a
 * message without its final NUL. */
static void test_parse_truncated(void)
{
        g_autoptr(GByteArray) b = USB_ADD("SEQNUM=4711");
        HdUevent ev;

        g_assert_true(parse(b, &ev));
        for (guint len = 0; len < b->len; len++)
                g_assert_false(hd_uevent_parse((const char *)b->data, len, &ev));
        /* no NUL at all */
        g_assert_false(hd_uevent_parse("add@/devices/x", strlen("add@/devices/x"), &ev));
        /* a NULL buffer */
        g_assert_false(hd_uevent_parse(NULL, 0, &ev));
        /* the last field without its NUL, and garbage after the last NUL */
        b->data[b->len - 1] = '1';
        g_assert_false(parse(b, &ev));
        b->data[b->len - 1] = '\0';
        g_byte_array_append(b, (const guint8 *)"X=1", 3);
        g_assert_false(parse(b, &ev));
}

/* Up to HD_UEVENT_MAX_LEN bytes is read; one more is not the kernel's. */
static void test_parse_huge(void)
{
        g_autoptr(GByteArray) b = message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                          "SUBSYSTEM=pci", "SEQNUM=1", NULL);
        HdUevent ev;
        guint pad;
        g_autofree char *field = NULL;

        g_assert_true(parse(b, &ev));
        /* a padding field (X=...) filling the message to exactly the limit */
        pad = HD_UEVENT_MAX_LEN - b->len - 3; /* "X=" and its NUL */
        field = g_strnfill(pad, 'a');
        g_byte_array_append(b, (const guint8 *)"X=", 2);
        g_byte_array_append(b, (const guint8 *)field, pad);
        g_byte_array_append(b, (const guint8 *)"", 1);
        g_assert_cmpuint(b->len, ==, HD_UEVENT_MAX_LEN);
        g_assert_true(parse(b, &ev));
        g_byte_array_append(b, (const guint8 *)"", 1);
        g_assert_false(parse(b, &ev));
        {
                /* ... and a field that long, valid otherwise */
                g_autofree char *big = g_strnfill(2 * HD_UEVENT_MAX_LEN, 'a');
                g_autofree char *x = g_strconcat("X=", big, NULL);
                g_autoptr(GByteArray) h = message("add@/devices/x", "ACTION=add",
                                                  "DEVPATH=/devices/x", "SUBSYSTEM=pci", x,
                                                  "SEQNUM=1", NULL);
                g_assert_false(parse(h, &ev));
        }
}

static void test_parse_bad_header(void)
{
        HdUevent ev;
        struct {
                const char *what;
                GByteArray *b;
        } cases[] = {
                {"no @", message("add/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                 "SUBSYSTEM=pci", "SEQNUM=1", NULL)},
                {"no action", message("@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                      "SUBSYSTEM=pci", "SEQNUM=1", NULL)},
                {"devpath not absolute", message("add@devices/x", "ACTION=add",
                                                 "DEVPATH=devices/x", "SUBSYSTEM=pci",
                                                 "SEQNUM=1", NULL)},
                {"header action differs", message("remove@/devices/x", "ACTION=add",
                                                  "DEVPATH=/devices/x", "SUBSYSTEM=pci",
                                                  "SEQNUM=1", NULL)},
                {"header devpath differs", message("add@/devices/y", "ACTION=add",
                                                   "DEVPATH=/devices/x", "SUBSYSTEM=pci",
                                                   "SEQNUM=1", NULL)},
                {"unknown action", message("frob@/devices/x", "ACTION=frob",
                                           "DEVPATH=/devices/x", "SUBSYSTEM=pci", "SEQNUM=1",
                                           NULL)},
                {"header only", message("add@/devices/x", NULL)},
                {"a field first", message("ACTION=add", "DEVPATH=/devices/x", "SUBSYSTEM=pci",
                                          "SEQNUM=1", NULL)},
                {"empty field", message("add@/devices/x", "ACTION=add", "", "DEVPATH=/devices/x",
                                        "SUBSYSTEM=pci", "SEQNUM=1", NULL)},
                {"field without =", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                            "SUBSYSTEM=pci", "JUNK", "SEQNUM=1", NULL)},
                {"empty key", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                      "SUBSYSTEM=pci", "=1", "SEQNUM=1", NULL)},
                {"lowercase key", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                          "subsystem=pci", "SEQNUM=1", NULL)},
                {"ACTION twice", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                         "SUBSYSTEM=pci", "ACTION=add", "SEQNUM=1", NULL)},
                {"SUBSYSTEM twice", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                            "SUBSYSTEM=pci", "SUBSYSTEM=usb", "SEQNUM=1",
                                            NULL)},
                {"no SUBSYSTEM", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                         "SEQNUM=1", NULL)},
                {"empty SUBSYSTEM", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                            "SUBSYSTEM=", "SEQNUM=1", NULL)},
                {"no SEQNUM", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                      "SUBSYSTEM=pci", NULL)},
                {"SEQNUM not decimal", message("add@/devices/x", "ACTION=add",
                                               "DEVPATH=/devices/x", "SUBSYSTEM=pci",
                                               "SEQNUM=0x10", NULL)},
                {"SEQNUM negative", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                            "SUBSYSTEM=pci", "SEQNUM=-1", NULL)},
                {"SEQNUM too big", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                           "SUBSYSTEM=pci", "SEQNUM=18446744073709551616",
                                           NULL)},
                {"invalid UTF-8", message("add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                          "SUBSYSTEM=pci", "NAME=\xff\xfe", "SEQNUM=1", NULL)},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                if (parse(cases[i].b, &ev))
                        g_error("accepted: %s", cases[i].what);
                g_byte_array_unref(cases[i].b);
        }
}

/* udevd's re-broadcast ("libudev\0", magic, offsets, then the properties) is not the kernel's:
 * refused, whatever follows the magic. */
static void test_parse_libudev(void)
{
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_autoptr(GByteArray) props = message("ACTION=add", "DEVPATH=/devices/x",
                                              "SUBSYSTEM=pci", "SEQNUM=1", NULL);
        guint8 header[40] = {0};
        HdUevent ev;

        memcpy(header, "libudev", 8);
        header[8] = 0xfe;
        header[9] = 0xed;
        header[10] = 0xca;
        header[11] = 0xfe;
        header[16] = sizeof(header); /* properties_off */
        g_byte_array_append(b, header, sizeof(header));
        g_byte_array_append(b, props->data, props->len);
        g_assert_false(parse(b, &ev));
        {
                /* even followed by a kernel-looking message */
                g_autoptr(GByteArray) k = message("libudev", "add@/devices/x", "ACTION=add",
                                                  "DEVPATH=/devices/x", "SUBSYSTEM=pci",
                                                  "SEQNUM=1", NULL);
                g_assert_false(parse(k, &ev));
        }
}

static void test_subsystems(void)
{
        g_assert_true(hd_uevent_subsystem_watched("pci"));
        g_assert_true(hd_uevent_subsystem_watched("usb"));
        g_assert_true(hd_uevent_subsystem_watched("scsi"));
        g_assert_true(hd_uevent_subsystem_watched("mdev"));
        g_assert_true(hd_uevent_subsystem_watched("mdev_bus"));
        g_assert_false(hd_uevent_subsystem_watched("block"));
        g_assert_false(hd_uevent_subsystem_watched("pc"));
        g_assert_false(hd_uevent_subsystem_watched(NULL));
}

/* ---- the sender ------------------------------------------------------------------------------ */

typedef struct {
        struct sockaddr_nl nl;
        struct msghdr msg;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control; /* last: clang does not take CMSG_SPACE() for a constant */
} Meta;

/* Metadata as recvmsg reports a message of the kernel's: port 0, group 1, uid 0. */
static void meta_kernel(Meta *m)
{
        struct cmsghdr *c;
        struct ucred cred = {.pid = 0, .uid = 0, .gid = 0};

        memset(m, 0, sizeof(*m));
        m->nl.nl_family = AF_NETLINK;
        m->nl.nl_pid = 0;
        m->nl.nl_groups = 1;
        m->msg.msg_name = &m->nl;
        m->msg.msg_namelen = sizeof(m->nl);
        m->msg.msg_control = &m->control;
        m->msg.msg_controllen = sizeof(m->control);
        c = CMSG_FIRSTHDR(&m->msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof(cred));
        memcpy(CMSG_DATA(c), &cred, sizeof(cred));
}

static gboolean meta_ok(Meta *m, const char **why)
{
        HdUeventSender s;

        hd_uevent_sender_read(&m->msg, &s);
        return hd_uevent_sender_check(&s, why);
}

static void set_uid(Meta *m, uid_t uid)
{
        struct ucred cred = {.pid = 1, .uid = uid, .gid = 0};

        memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m->msg)), &cred, sizeof(cred));
}

static void test_sender(void)
{
        Meta m;
        HdUeventSender s;
        const char *why = NULL;

        meta_kernel(&m);
        hd_uevent_sender_read(&m.msg, &s);
        g_assert_true(s.has_netlink_addr);
        g_assert_true(s.has_creds);
        g_assert_true(hd_uevent_sender_check(&s, &why));
        g_assert_null(why);

        /* a process (nl_pid != 0), even root, sending to the kernel's group */
        meta_kernel(&m);
        m.nl.nl_pid = 4242;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "from a process, not the kernel");

        /* udevd's group, or a unicast */
        meta_kernel(&m);
        m.nl.nl_groups = 2;
        g_assert_false(meta_ok(&m, &why));
        m.nl.nl_groups = 0;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "not sent to the kernel's uevent group");

        /* credentials of another uid (a user namespace maps the kernel's 0 to overflowuid) */
        meta_kernel(&m);
        set_uid(&m, 65534);
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "sender is not uid 0");

        /* no credentials: no control message, one of another type, one cut short, or one whose
         * length claims more than the buffer holds */
        meta_kernel(&m);
        m.msg.msg_control = NULL;
        m.msg.msg_controllen = 0;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "no sender credentials");
        meta_kernel(&m);
        CMSG_FIRSTHDR(&m.msg)->cmsg_type = SCM_RIGHTS;
        g_assert_false(meta_ok(&m, &why));
        meta_kernel(&m);
        CMSG_FIRSTHDR(&m.msg)->cmsg_len = CMSG_LEN(sizeof(struct ucred) - 1);
        g_assert_false(meta_ok(&m, &why));
        meta_kernel(&m);
        m.msg.msg_controllen = CMSG_LEN(sizeof(struct ucred)) - 1;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "no sender credentials");

        /* not a netlink address: none, too short, another family */
        meta_kernel(&m);
        m.msg.msg_name = NULL;
        m.msg.msg_namelen = 0;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "not from a netlink socket");
        meta_kernel(&m);
        m.msg.msg_namelen = sizeof(m.nl) - 1;
        g_assert_false(meta_ok(&m, &why));
        meta_kernel(&m);
        m.nl.nl_family = AF_UNIX;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "not from a netlink socket");

        /* truncated data or control */
        meta_kernel(&m);
        m.msg.msg_flags = MSG_TRUNC;
        g_assert_false(meta_ok(&m, &why));
        g_assert_cmpstr(why, ==, "truncated");
        meta_kernel(&m);
        m.msg.msg_flags = MSG_CTRUNC;
        g_assert_false(meta_ok(&m, &why));
}

/* ---- the monitor ----------------------------------------------------------------------------- */

typedef struct {
        guint events;
        guint lost;
} Seen;

static void on_event(const HdUevent *ev, gpointer user_data)
{
        Seen *seen = user_data;

        if (ev)
                seen->events++;
        else
                seen->lost++;
}

static void iterate_until_dropped(HdUeventMonitor *m, guint64 n)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        while (hd_uevent_monitor_get_dropped(m) < n) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_main_context_iteration(NULL, FALSE);
                g_usleep(1000);
        }
}

/* A datagram socket that is not the kernel's: what it carries, valid uevents with the
 * credentials of uid 0 (this test's or not), is read and dropped, never handed on. */
static void test_monitor_foreign_socket(void)
{
        g_autoptr(GByteArray) b = USB_ADD("SEQNUM=1");
        g_autoptr(HdUeventMonitor) m = NULL;
        Seen seen = {0};
        int sv[2];
        const int on = 1;

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
        g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), ==, 0);
        m = hd_uevent_monitor_new_fd(sv[0], hd_uevent_subsystems, on_event, &seen);
        for (guint i = 0; i < 3; i++)
                g_assert_cmpint(send(sv[1], b->data, b->len, 0), ==, (ssize_t)b->len);
        {
                /* and one passing a file descriptor along: not kept open */
                int passed = open("/dev/null", O_RDONLY | O_CLOEXEC);
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control;
                struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
                struct msghdr msg = {.msg_iov = &iov,
                                     .msg_iovlen = 1,
                                     .msg_control = &control,
                                     .msg_controllen = sizeof(control)};
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                struct stat st;
                int probe;

                memset(&control, 0, sizeof(control));
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &passed, sizeof(int));
                g_assert_cmpint(sendmsg(sv[1], &msg, 0), ==, (ssize_t)b->len);
                close(passed);
                iterate_until_dropped(m, 4);
                /* the lowest free descriptor is the one the passed fd would have taken */
                probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
                g_assert_cmpint(probe, >=, 0);
                g_assert_cmpint(fstat(probe, &st), ==, 0);
                close(probe);
                g_assert_cmpint(probe, <=, passed);
        }
        g_assert_cmpuint(hd_uevent_monitor_get_dropped(m), ==, 4);
        g_assert_cmpuint(hd_uevent_monitor_get_accepted(m), ==, 0);
        g_assert_cmpuint(seen.events, ==, 0);
        g_assert_cmpuint(seen.lost, ==, 0);

        /* the peer gone: the source ends instead of spinning */
        close(sv[1]);
        for (guint i = 0; i < 10; i++)
                g_main_context_iteration(NULL, FALSE);
        g_assert_cmpuint(seen.events, ==, 0);
}

/* The kernel's uevent socket opens and joins group 1 (reading needs no privilege). */
static void test_monitor_open(void)
{
        g_autoptr(GError) error = NULL;
        Seen seen = {0};
        HdUeventMonitor *m = hd_uevent_monitor_open(hd_uevent_subsystems, on_event, &seen, &error);

        g_assert_no_error(error);
        g_assert_nonnull(m);
        hd_uevent_monitor_free(m);
}

/* Whether this process has capability @cap (CapEff in /proc/self/status). */
static gboolean has_capability(guint cap)
{
        g_autofree char *status = NULL;
        const char *line;
        guint64 eff;

        if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL) ||
            !(line = strstr(status, "\nCapEff:\t")))
                return FALSE;
        eff = g_ascii_strtoull(line + strlen("\nCapEff:\t"), NULL, 16);
        return (eff >> cap) & 1;
}

#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_ADMIN_BIT 21

/* The kernel's own messages pass the sender check and the parser: in a private network
 * namespace (nothing of this machine's changes), a tun device made and closed sends "add" and
 * "remove" of /devices/virtual/net/hdtest0 (subsystem net, watched by this monitor only). */
typedef struct {
        GPtrArray *net; /* "ACTION DEVPATH" of the net events */
} Heard;

static void on_net_event(const HdUevent *ev, gpointer user_data)
{
        Heard *heard = user_data;

        g_assert_nonnull(ev);
        g_assert_cmpstr(ev->subsystem, ==, "net");
        g_assert_cmpuint(ev->seqnum, >, 0);
        g_ptr_array_add(heard->net, g_strdup_printf("%s %s", ev->action, ev->devpath));
}

static void wait_heard(Heard *heard, const char *what)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        while (!g_ptr_array_find_with_equal_func(heard->net, what, g_str_equal, NULL)) {
                if (g_get_monotonic_time() > deadline)
                        g_error("no uevent \"%s\" from the kernel", what);
                g_main_context_iteration(NULL, FALSE);
                g_usleep(1000);
        }
}

/* A test that makes a tun device runs in a subprocess (which unshares its own network
 * namespace): TRUE in that subprocess; in the parent, FALSE once the subprocess ran and passed
 * (within @seconds), or the test was skipped for want of the capabilities or /dev/net/tun. */
static gboolean tun_subprocess(guint seconds)
{
        if (g_test_subprocess())
                return TRUE;
        if (!has_capability(CAP_SYS_ADMIN_BIT) || !has_capability(CAP_NET_ADMIN_BIT) ||
            access("/dev/net/tun", R_OK | W_OK) != 0) {
                g_test_skip("needs CAP_SYS_ADMIN, CAP_NET_ADMIN and /dev/net/tun (a tun device "
                            "in a private network namespace)");
                return FALSE;
        }
        g_test_trap_subprocess(NULL, seconds * G_USEC_PER_SEC, 0);
        g_test_trap_assert_passed();
        return FALSE;
}

static void test_monitor_kernel(void)
{
        static const char *const net[] = {"net", NULL};

        if (!tun_subprocess(30))
                return;
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(HdUeventMonitor) m = NULL;
                g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
                Heard heard = {.net = list};
                struct ifreq ifr;
                int tun;

                g_assert_cmpint(unshare(CLONE_NEWNET), ==, 0);
                m = hd_uevent_monitor_open(net, on_net_event, &heard, &error);
                g_assert_no_error(error);
                tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
                g_assert_cmpint(tun, >=, 0);
                memset(&ifr, 0, sizeof(ifr));
                ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
                g_strlcpy(ifr.ifr_name, "hdtest0", sizeof(ifr.ifr_name));
                g_assert_cmpint(ioctl(tun, TUNSETIFF, &ifr), ==, 0);
                wait_heard(&heard, "add /devices/virtual/net/hdtest0");
                close(tun); /* not persistent: the device goes */
                wait_heard(&heard, "remove /devices/virtual/net/hdtest0");
                /* nothing the kernel sent was refused; its queues (another subsystem) were read
                 * and not handed on */
                g_assert_cmpuint(hd_uevent_monitor_get_dropped(m), ==, 0);
                g_assert_cmpuint(hd_uevent_monitor_get_accepted(m), >, heard.net->len);
        }
}

/* ---- the choice of source -------------------------------------------------------------------- */

static void test_choose_source(void)
{
        /* under --root: inotify, whatever else */
        for (int g = 0; g < 2; g++)
                for (int u = 0; u < 2; u++)
                        g_assert_cmpint(hd_watch_choose_source(FALSE, g, u), ==,
                                        HD_WATCH_SOURCE_INOTIFY);
        g_assert_cmpint(hd_watch_choose_source(TRUE, TRUE, TRUE), ==, HD_WATCH_SOURCE_UDEVD);
        g_assert_cmpint(hd_watch_choose_source(TRUE, TRUE, FALSE), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_cmpint(hd_watch_choose_source(TRUE, FALSE, TRUE), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_cmpint(hd_watch_choose_source(TRUE, FALSE, FALSE), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_cmpstr(hd_watch_source_name(HD_WATCH_SOURCE_UDEVD), ==, "udevd");
        g_assert_cmpstr(hd_watch_source_name(HD_WATCH_SOURCE_KERNEL), ==, "kernel uevents");
        g_assert_cmpstr(hd_watch_source_name(HD_WATCH_SOURCE_INOTIFY), ==,
                        "inotify under --root");
}

/* udevd runs when run/udev/control exists below the root (a socket on a host: any file here). */
static void test_udevd_running(void)
{
        g_autofree char *root = g_dir_make_tmp("hd-uevent-XXXXXX", NULL);
        g_autofree char *dir = g_build_filename(root, "run/udev", NULL);
        g_autofree char *control = g_build_filename(dir, "control", NULL);
        int fd;

        g_assert_nonnull(root);
        fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_false(hd_udevd_is_running(fd));
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_false(hd_udevd_is_running(fd));
        g_assert_true(g_file_set_contents(control, "", 0, NULL));
        g_assert_true(hd_udevd_is_running(fd));
        g_assert_cmpint(g_remove(control), ==, 0);
        g_assert_false(hd_udevd_is_running(fd));
        close(fd);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_free(g_steal_pointer(&dir));
        dir = g_build_filename(root, "run", NULL);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_assert_cmpint(g_rmdir(root), ==, 0);
}

/* ---- following udevd -------------------------------------------------------------------------- */

/* The sources a switch starts and stops, faked: udevd's is a flag (GUdev cannot be given a
 * socket), the kernel's an HdUeventMonitor on a datagram socket of the test (or on the
 * kernel's own socket: Fake.open_kernel), whose every read is counted. What happened is
 * logged in order. */
typedef struct {
        GPtrArray *log;          /* "start X", "stop X", "switched X->Y", "reread" */
        gboolean udevd_heard;
        gboolean udevd_fails;    /* start(udevd) fails (an agent without libgudev) */
        HdUeventMonitor *kernel; /* while the kernel's source is heard */
        int peer;                /* the test's end of the kernel's socketpair */
        gboolean open_kernel;    /* the real kernel socket (in a private network namespace) */
        const char *const *subsystems;
        guint kernel_events;     /* events the kernel's monitor handed on */
        guint64 kernel_reads;    /* datagrams it read (accepted + dropped), over its lives */
        guint udevd_events;      /* events a udevd source handed on while heard */
} Fake;

static void fake_kernel_event(const HdUevent *ev, gpointer user_data)
{
        Fake *f = user_data;

        g_assert_nonnull(f->kernel); /* never after stop */
        f->kernel_events++;
}

static gboolean fake_start(HdWatchSource source, gpointer user_data, GError **error)
{
        Fake *f = user_data;

        g_ptr_array_add(f->log, g_strdup_printf("start %s", hd_watch_source_name(source)));
        if (source == HD_WATCH_SOURCE_UDEVD) {
                if (f->udevd_fails) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no libgudev");
                        return FALSE;
                }
                g_assert_false(f->udevd_heard);
                f->udevd_heard = TRUE;
                return TRUE;
        }
        g_assert_cmpint(source, ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_null(f->kernel);
        if (f->open_kernel) {
                f->kernel = hd_uevent_monitor_open(f->subsystems, fake_kernel_event, f, error);
                return f->kernel != NULL;
        } else {
                int sv[2];
                const int on = 1;

                g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
                g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), ==,
                                0);
                f->kernel = hd_uevent_monitor_new_fd(sv[0], f->subsystems, fake_kernel_event, f);
                f->peer = sv[1];
        }
        return TRUE;
}

static void fake_stop(HdWatchSource source, gpointer user_data)
{
        Fake *f = user_data;

        g_ptr_array_add(f->log, g_strdup_printf("stop %s", hd_watch_source_name(source)));
        if (source == HD_WATCH_SOURCE_UDEVD) {
                g_assert_true(f->udevd_heard);
                f->udevd_heard = FALSE;
                return;
        }
        g_assert_nonnull(f->kernel);
        f->kernel_reads += hd_uevent_monitor_get_accepted(f->kernel) +
                           hd_uevent_monitor_get_dropped(f->kernel);
        g_clear_pointer(&f->kernel, hd_uevent_monitor_free);
        if (f->peer >= 0) {
                close(f->peer);
                f->peer = -1;
        }
}

static void fake_switched(HdWatchSource before, HdWatchSource now, gboolean udevd_running,
                          gpointer user_data)
{
        Fake *f = user_data;

        g_ptr_array_add(f->log, g_strdup_printf("switched %s->%s udevd=%d",
                                                hd_watch_source_name(before),
                                                hd_watch_source_name(now), udevd_running));
}

static void fake_reread(const char *why, gpointer user_data)
{
        Fake *f = user_data;

        g_ptr_array_add(f->log, g_strdup("reread"));
}

static const HdSourceSwitchOps fake_ops = {
        .start = fake_start,
        .stop = fake_stop,
        .switched = fake_switched,
        .reread = fake_reread,
};

static void fake_init(Fake *f)
{
        memset(f, 0, sizeof(*f));
        f->log = g_ptr_array_new_with_free_func(g_free);
        f->peer = -1;
        f->subsystems = hd_uevent_subsystems;
}

static void fake_clear(Fake *f)
{
        g_assert_null(f->kernel); /* the switch stopped it */
        g_assert_false(f->udevd_heard);
        g_ptr_array_unref(f->log);
}

/* The log so far, one string, emptied. */
static char *fake_take_log(Fake *f)
{
        g_ptr_array_add(f->log, NULL);
        {
                g_autofree char *joined = g_strjoinv("; ", (char **)f->log->pdata);
                g_ptr_array_set_size(f->log, 0);
                return g_steal_pointer(&joined);
        }
}

/* The log so far reads @expected (and is emptied). */
static void assert_log(Fake *f, const char *expected)
{
        g_autofree char *got = fake_take_log(f);

        g_assert_cmpstr(got, ==, expected);
}

/* Iterate the main context until the log reads @expected (10 s at most). */
static void wait_log(Fake *f, const char *expected)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        g_autofree char *got = NULL;

        for (;;) {
                g_ptr_array_add(f->log, NULL);
                g_free(got);
                got = g_strjoinv("; ", (char **)f->log->pdata);
                g_ptr_array_set_size(f->log, f->log->len - 1);
                if (strcmp(got, expected) == 0)
                        break;
                if (g_get_monotonic_time() > deadline)
                        g_error("expected \"%s\", got \"%s\"", expected, got);
                g_main_context_iteration(NULL, FALSE);
                g_usleep(1000);
        }
        g_ptr_array_set_size(f->log, 0);
}

/* Nothing more happens for @ms. */
static void wait_quiet(Fake *f, guint ms)
{
        gint64 deadline = g_get_monotonic_time() + ms * 1000;

        while (g_get_monotonic_time() < deadline) {
                g_main_context_iteration(NULL, FALSE);
                g_usleep(1000);
        }
        if (f->log->len) {
                g_autofree char *got = fake_take_log(f);
                g_error("expected nothing, got \"%s\"", got);
        }
}

static void make_control(const char *root, gboolean exists)
{
        g_autofree char *control = g_build_filename(root, "run/udev/control", NULL);

        if (exists)
                g_assert_true(g_file_set_contents(control, "", 0, NULL));
        else
                g_assert_cmpint(g_remove(control), ==, 0);
}

/* Send a datagram on the fake kernel socket and wait until the monitor read it. */
static void kernel_send_read(Fake *f)
{
        g_autoptr(GByteArray) b = USB_ADD("SEQNUM=1");
        guint64 before = hd_uevent_monitor_get_dropped(f->kernel);

        g_assert_cmpint(send(f->peer, b->data, b->len, 0), ==, (ssize_t)b->len);
        iterate_until_dropped(f->kernel, before + 1);
}

static int open_root(const char *root)
{
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        return fd;
}

static void remove_tree(const char *root)
{
        static const char *const paths[] = {"run/udev/control", "run/udev", "run", ""};

        for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
                g_autofree char *p = g_build_filename(root, paths[i], NULL);
                (void)g_remove(p);
        }
}

/* Started without udevd, on a root without run: the kernel's source; run, run/udev and the
 * control socket appearing one after the other: udevd's, with the re-reads; the socket gone:
 * the kernel's again, re-read; the kernel's socket is read only while it is the source. */
static void test_switch_follow(void)
{
        g_autofree char *root = g_dir_make_tmp("hd-switch-XXXXXX", NULL);
        g_autofree char *run = g_build_filename(root, "run", NULL);
        g_autofree char *udev = g_build_filename(root, "run/udev", NULL);
        g_autoptr(HdSourceSwitch) s = NULL;
        Fake f;
        int fd = open_root(root);

        fake_init(&f);
        s = hd_source_switch_new(fd, TRUE, 50, &fake_ops, &f);
        g_assert_true(hd_source_switch_is_following(s, NULL));
        g_assert_cmpstr(hd_source_switch_get_watched(s), ==, ".");
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_false(hd_source_switch_get_udevd_running(s));
        wait_log(&f, "start kernel uevents");
        kernel_send_read(&f);

        /* the directories appear: the watch moves down, nothing switches */
        g_assert_cmpint(g_mkdir(run, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(udev, 0755), ==, 0);
        wait_quiet(&f, 100);
        g_assert_cmpstr(hd_source_switch_get_watched(s), ==, "run/udev");
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);

        /* udevd starts: its source first, then the kernel's closed, one re-read now and one
         * once udevd has settled */
        make_control(root, TRUE);
        wait_log(&f, "start udevd; stop kernel uevents; switched kernel uevents->udevd udevd=1; "
                     "reread");
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_UDEVD);
        g_assert_true(hd_source_switch_get_udevd_running(s));
        g_assert_cmpuint(hd_source_switch_get_switches(s), ==, 1);
        g_assert_null(f.kernel); /* the kernel's socket is not read while udevd is heard */
        g_assert_cmpuint(f.kernel_reads, ==, 1);

        /* udevd stops: the kernel's again, re-read */
        make_control(root, FALSE);
        wait_log(&f, "start kernel uevents; stop udevd; switched udevd->kernel uevents udevd=0");
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_false(hd_source_switch_get_udevd_running(s));
        g_assert_cmpuint(hd_source_switch_get_switches(s), ==, 2);
        kernel_send_read(&f);

        /* a restart (stop and start quickly): both switches */
        make_control(root, TRUE);
        wait_log(&f, "start udevd; stop kernel uevents; switched kernel uevents->udevd udevd=1; "
                     "reread");
        make_control(root, FALSE);
        wait_log(&f, "start kernel uevents; stop udevd; switched udevd->kernel uevents udevd=0");
        wait_quiet(&f, 100); /* no late re-read for the udevd that went */

        /* run/udev removed and made again (a tmpfs remounted): still followed */
        g_assert_cmpint(g_rmdir(udev), ==, 0);
        g_assert_cmpint(g_mkdir(udev, 0755), ==, 0);
        wait_quiet(&f, 100);
        g_assert_cmpstr(hd_source_switch_get_watched(s), ==, "run/udev");
        make_control(root, TRUE);
        wait_log(&f, "start udevd; stop kernel uevents; switched kernel uevents->udevd udevd=1; "
                     "reread");

        g_clear_pointer(&s, hd_source_switch_free);
        assert_log(&f, "stop udevd");
        fake_clear(&f);
        close(fd);
        remove_tree(root);
}

/* Started while udevd runs: udevd's source, no re-read; without libgudev (udevd's source
 * cannot be started) the kernel's stays whatever udevd does. */
static void test_switch_start_udevd(void)
{
        g_autofree char *root = g_dir_make_tmp("hd-switch-XXXXXX", NULL);
        g_autofree char *udev = g_build_filename(root, "run/udev", NULL);
        g_autoptr(HdSourceSwitch) s = NULL;
        Fake f;
        int fd = open_root(root);

        g_assert_cmpint(g_mkdir_with_parents(udev, 0755), ==, 0);
        make_control(root, TRUE);
        fake_init(&f);
        s = hd_source_switch_new(fd, TRUE, 50, &fake_ops, &f);
        g_assert_cmpstr(hd_source_switch_get_watched(s), ==, "run/udev");
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_UDEVD);
        assert_log(&f, "start udevd");
        wait_quiet(&f, 100);
        make_control(root, FALSE);
        wait_log(&f, "start kernel uevents; stop udevd; switched udevd->kernel uevents udevd=0");
        g_clear_pointer(&s, hd_source_switch_free);
        assert_log(&f, "stop kernel uevents");

        /* have_udevd FALSE: never asked for udevd's source */
        make_control(root, TRUE);
        s = hd_source_switch_new(fd, FALSE, 50, &fake_ops, &f);
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_true(hd_source_switch_get_udevd_running(s));
        assert_log(&f, "start kernel uevents");
        make_control(root, FALSE);
        make_control(root, TRUE);
        wait_quiet(&f, 100);
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
        g_clear_pointer(&s, hd_source_switch_free);
        assert_log(&f, "stop kernel uevents");

        /* udevd's source failing to start: the kernel's instead, and kept */
        f.udevd_fails = TRUE;
        s = hd_source_switch_new(fd, TRUE, 50, &fake_ops, &f);
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
        assert_log(&f, "start udevd; start kernel uevents");
        make_control(root, FALSE);
        make_control(root, TRUE);
        wait_log(&f, "start udevd");
        wait_quiet(&f, 100);
        g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
        g_assert_cmpuint(hd_source_switch_get_switches(s), ==, 0);
        g_clear_pointer(&s, hd_source_switch_free);
        assert_log(&f, "stop kernel uevents");

        fake_clear(&f);
        close(fd);
        remove_tree(root);
}

/* The real kernel's socket as the kernel's source, in a private network namespace: a tun
 * device made while it is heard is heard, one made while udevd's is heard is not (the socket
 * is closed), one made after udevd stopped is heard again. */
static void make_tun(Fake *f, gboolean heard)
{
        struct ifreq ifr;
        guint before = f->kernel_events;
        int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

        g_assert_cmpint(tun, >=, 0);
        memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        g_strlcpy(ifr.ifr_name, "hdtest0", sizeof(ifr.ifr_name));
        g_assert_cmpint(ioctl(tun, TUNSETIFF, &ifr), ==, 0);
        close(tun); /* add, then remove */
        if (heard) {
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                while (f->kernel_events < before + 2) {
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_main_context_iteration(NULL, FALSE);
                        g_usleep(1000);
                }
        } else {
                gint64 until = g_get_monotonic_time() + 200 * 1000;
                while (g_get_monotonic_time() < until) {
                        g_main_context_iteration(NULL, FALSE);
                        g_usleep(1000);
                }
                g_assert_cmpuint(f->kernel_events, ==, before);
        }
}

static void test_switch_kernel(void)
{
        static const char *const net[] = {"net", NULL};

        if (!tun_subprocess(60))
                return;
        {
                g_autofree char *root = g_dir_make_tmp("hd-switch-XXXXXX", NULL);
                g_autofree char *udev = g_build_filename(root, "run/udev", NULL);
                g_autoptr(HdSourceSwitch) s = NULL;
                Fake f;
                int fd = open_root(root);

                g_assert_cmpint(unshare(CLONE_NEWNET), ==, 0);
                g_assert_cmpint(g_mkdir_with_parents(udev, 0755), ==, 0);
                fake_init(&f);
                f.open_kernel = TRUE;
                f.subsystems = net;
                s = hd_source_switch_new(fd, TRUE, 50, &fake_ops, &f);
                g_assert_cmpint(hd_source_switch_get_source(s), ==, HD_WATCH_SOURCE_KERNEL);
                make_tun(&f, TRUE);
                make_control(root, TRUE);
                wait_log(&f, "start kernel uevents; start udevd; stop kernel uevents; "
                             "switched kernel uevents->udevd udevd=1; reread");
                make_tun(&f, FALSE);
                make_control(root, FALSE);
                wait_log(&f, "start kernel uevents; stop udevd; "
                             "switched udevd->kernel uevents udevd=0");
                make_tun(&f, TRUE);
                g_clear_pointer(&s, hd_source_switch_free);
                fake_clear(&f);
                close(fd);
                remove_tree(root);
        }
}

/* ---- the agent ------------------------------------------------------------------------------ */

/* hostdevd on this machine's live root, read-only, in a private mount namespace where /var/lib
 * and /run are empty tmpfs (its tokens and locks go there, nothing of the machine is written):
 * without run/udev/control it listens to the kernel's uevents, with it (and libgudev) to
 * udevd; the start log line says which. With @follow, the agent started without the socket
 * sees it created (its own tmpfs, not the machine's run/udev) and removed: with libgudev it
 * switches to udevd and back, moving the generation each time (the log says both). */
static char *read_log_until(GSubprocess *agent, const char *what)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        char *log = NULL;

        for (;;) {
                g_clear_pointer(&log, g_free);
                (void)g_file_get_contents("/run/hostdevd.log", &log, NULL, NULL);
                if (log && strstr(log, what))
                        return log;
                /* the child watch reaps an agent that exited: no identifier then */
                g_main_context_iteration(NULL, FALSE);
                if (g_get_monotonic_time() > deadline || !g_subprocess_get_identifier(agent))
                        g_error("hostdevd did not log %s: %s", what, log ? log : "");
                g_usleep(20 * 1000);
        }
}

static void agent_source(gboolean with_udevd, gboolean follow, const char *expected)
{
        const char *hostdevd = g_getenv("HOSTDEVD");
        g_autoptr(GSubprocess) agent = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *log = NULL;

        g_assert_nonnull(hostdevd);
        /* first, while this process has one thread */
        g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
        g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
        g_assert_cmpint(mount("tmpfs", "/var/lib", "tmpfs", 0, "mode=0755"), ==, 0);
        g_assert_cmpint(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), ==, 0);
        if (with_udevd) {
                g_assert_cmpint(g_mkdir_with_parents("/run/udev", 0755), ==, 0);
                g_assert_true(g_file_set_contents("/run/udev/control", "", 0, NULL));
        }
        {
                g_autoptr(GSubprocessLauncher) l =
                    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
                g_subprocess_launcher_set_stderr_file_path(l, "/run/hostdevd.log");
                g_subprocess_launcher_setenv(l, "HOSTDEVD_TEST_UDEVD_SETTLE_MS", "100", TRUE);
                agent = g_subprocess_launcher_spawn(l, &error, hostdevd, "--read-only", "--listen",
                                                    "127.0.0.1:0", "--libvirt-uri",
                                                    "test:///default", "--verbose", NULL);
                g_assert_no_error(error);
        }
        log = read_log_until(agent, "msg=listening");
        if (!strstr(log, expected))
                g_error("expected %s in the log: %s", expected, log);
        if (follow) {
#ifdef HAVE_GUDEV
                g_assert_cmpint(g_mkdir_with_parents("/run/udev", 0755), ==, 0);
                g_assert_true(g_file_set_contents("/run/udev/control", "", 0, NULL));
                g_free(read_log_until(agent, "msg=\"switched the source of device changes\" "
                                             "source=udevd previous=\"kernel uevents\" "
                                             "udevd=running"));
                g_free(read_log_until(agent, "why=\"the source of device changes is now udevd "
                                             "(udevd started)\""));
                g_free(read_log_until(agent, "why=\"udevd started: its rules have run since\""));
                g_assert_cmpint(g_remove("/run/udev/control"), ==, 0);
                g_free(read_log_until(agent, "msg=\"switched the source of device changes\" "
                                             "source=\"kernel uevents\" previous=udevd "
                                             "udevd=\"not running\""));
                g_free(read_log_until(agent, "why=\"the source of device changes is now kernel "
                                             "uevents (udevd stopped)\""));
#else
                /* without libgudev the kernel's source stays */
                g_assert_cmpint(g_mkdir_with_parents("/run/udev", 0755), ==, 0);
                g_assert_true(g_file_set_contents("/run/udev/control", "", 0, NULL));
                g_usleep(500 * 1000);
#endif
        }
        g_subprocess_send_signal(agent, SIGTERM);
        g_assert_true(g_subprocess_wait(agent, NULL, &error));
        g_assert_no_error(error);
        g_clear_pointer(&log, g_free);
        g_assert_true(g_file_get_contents("/run/hostdevd.log", &log, NULL, NULL));
#ifndef HAVE_GUDEV
        g_assert_null(strstr(log, "switched the source"));
#endif
        g_assert_null(strstr(log, "level=warning"));
}

/* Whether this process's "/" is the root of a mount (false in a chroot into a directory):
 * /proc/self/mountinfo has a line whose mount point (the fifth field) is "/". */
static gboolean root_is_mount_point(void)
{
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
                return FALSE;
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, " ", 6);

                if (g_strv_length(f) >= 5 && strcmp(f[4], "/") == 0)
                        return TRUE;
        }
        return FALSE;
}

/* 0: without udevd, 1: with udevd, 2: without udevd, then udevd started and stopped */
static void test_agent_source(gconstpointer data)
{
        int mode = GPOINTER_TO_INT(data);
        gboolean with_udevd = mode == 1;
        g_autofree char *path = g_strdup_printf(
            "/uevent/agent/live-root-%s", mode == 2 ? "follow" : with_udevd ? "udevd" : "kernel");

        if (!g_test_subprocess()) {
                if (geteuid() != 0 || !has_capability(CAP_SYS_ADMIN_BIT)) {
                        g_test_skip("needs root with CAP_SYS_ADMIN (a private mount namespace "
                                    "over /var/lib and /run)");
                        return;
                }
                if (!root_is_mount_point()) {
                        /* in a chroot: "/" cannot be made private, and tmpfs mounted over
                         * /var/lib and /run could propagate to the machine's own namespace */
                        g_test_skip("the root is not a mount point (a chroot): the mount "
                                    "namespace cannot be made private");
                        return;
                }
                g_test_trap_subprocess(path, 60 * G_USEC_PER_SEC, 0);
                g_test_trap_assert_passed();
                return;
        }
#ifdef HAVE_GUDEV
        agent_source(with_udevd, mode == 2,
                     with_udevd ? "msg=\"watching device changes\" source=udevd "
                                : "msg=\"watching device changes\" "
                                  "source=\"kernel uevents\" ");
#else
        agent_source(with_udevd, mode == 2,
                     "msg=\"watching device changes\" source=\"kernel uevents\" ");
#endif
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/uevent/parse/valid", test_parse_valid);
        g_test_add_func("/uevent/parse/truncated", test_parse_truncated);
        g_test_add_func("/uevent/parse/huge", test_parse_huge);
        g_test_add_func("/uevent/parse/bad-header", test_parse_bad_header);
        g_test_add_func("/uevent/parse/libudev", test_parse_libudev);
        g_test_add_func("/uevent/subsystems", test_subsystems);
        g_test_add_func("/uevent/sender", test_sender);
        g_test_add_func("/uevent/monitor/foreign-socket", test_monitor_foreign_socket);
        g_test_add_func("/uevent/monitor/open", test_monitor_open);
        g_test_add_func("/uevent/monitor/kernel", test_monitor_kernel);
        g_test_add_func("/uevent/source/choose", test_choose_source);
        g_test_add_func("/uevent/source/udevd-running", test_udevd_running);
        g_test_add_func("/uevent/switch/follow", test_switch_follow);
        g_test_add_func("/uevent/switch/start-udevd", test_switch_start_udevd);
        g_test_add_func("/uevent/switch/kernel", test_switch_kernel);
        g_test_add_data_func("/uevent/agent/live-root-kernel", GINT_TO_POINTER(0),
                             test_agent_source);
        g_test_add_data_func("/uevent/agent/live-root-udevd", GINT_TO_POINTER(1),
                             test_agent_source);
        g_test_add_data_func("/uevent/agent/live-root-follow", GINT_TO_POINTER(2),
                             test_agent_source);
        return g_test_run();
}
