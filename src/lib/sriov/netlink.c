/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink requests and replies, and the real transport: see netlink.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ctx.h"
#include "hd-error.h"
#include "netlink.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* A netlink socket that does not answer in this time is given up (the kernel answers
 * RTM_GETLINK and RTM_SETLINK at once; a driver's set_vf_* may sleep on its firmware). */
#define NETLINK_TIMEOUT_SECONDS 10

GByteArray *hd_nl_msg_new(guint16 type, guint16 flags, guint32 seq)
{
        GByteArray *msg = g_byte_array_new();
        struct nlmsghdr h = {
            .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq};

        g_byte_array_append(msg, (const guint8 *)&h, sizeof(h));
        return msg;
}

static void pad(GByteArray *msg)
{
        static const guint8 zero[4] = {0};

        if (msg->len % 4)
                g_byte_array_append(msg, zero, 4 - msg->len % 4);
}

void hd_nl_msg_put(GByteArray *msg, const void *data, gsize len)
{
        g_byte_array_append(msg, data, (guint)len);
        pad(msg);
}

void hd_nl_attr_put(GByteArray *msg, guint16 type, const void *data, gsize len)
{
        struct nlattr a = {.nla_len = (guint16)(NLA_HDRLEN + len), .nla_type = type};

        g_return_if_fail(len <= 0xffff - NLA_HDRLEN);
        g_byte_array_append(msg, (const guint8 *)&a, sizeof(a));
        if (len)
                g_byte_array_append(msg, data, (guint)len);
        pad(msg);
}

gsize hd_nl_nest_start(GByteArray *msg, guint16 type)
{
        gsize start = msg->len;

        hd_nl_attr_put(msg, type | NLA_F_NESTED, NULL, 0);
        return start;
}

void hd_nl_nest_end(GByteArray *msg, gsize start)
{
        guint16 len = (guint16)(msg->len - start);

        memcpy(msg->data + start + offsetof(struct nlattr, nla_len), &len, sizeof(len));
}

void hd_nl_msg_finish(GByteArray *msg)
{
        guint32 len = msg->len;

        memcpy(msg->data + offsetof(struct nlmsghdr, nlmsg_len), &len, sizeof(len));
}

gboolean hd_nl_msg_next(HdNlSpan *rest, guint16 *type, guint16 *flags, guint32 *seq,
                        HdNlSpan *payload, gboolean *bad)
{
        struct nlmsghdr h;
        gsize step;

        *bad = FALSE;
        if (rest->len == 0)
                return FALSE;
        if (rest->len < sizeof(h)) {
                *bad = TRUE;
                return FALSE;
        }
        memcpy(&h, rest->data, sizeof(h));
        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > rest->len) {
                *bad = TRUE;
                return FALSE;
        }
        *type = h.nlmsg_type;
        *flags = h.nlmsg_flags;
        *seq = h.nlmsg_seq;
        payload->data = rest->data + NLMSG_HDRLEN;
        payload->len = h.nlmsg_len - NLMSG_HDRLEN;
        step = MIN((gsize)NLMSG_ALIGN(h.nlmsg_len), rest->len);
        rest->data += step;
        rest->len -= step;
        return TRUE;
}

gboolean hd_nl_attr_next(HdNlSpan *rest, guint16 *type, HdNlSpan *payload, gboolean *bad)
{
        struct nlattr a;
        gsize step;

        *bad = FALSE;
        if (rest->len == 0)
                return FALSE;
        if (rest->len < sizeof(a)) {
                *bad = TRUE;
                return FALSE;
        }
        memcpy(&a, rest->data, sizeof(a));
        if (a.nla_len < sizeof(a) || a.nla_len > rest->len) {
                *bad = TRUE;
                return FALSE;
        }
        *type = a.nla_type & NLA_TYPE_MASK;
        payload->data = rest->data + NLA_HDRLEN;
        payload->len = a.nla_len - NLA_HDRLEN;
        step = MIN((gsize)NLA_ALIGN(a.nla_len), rest->len);
        rest->data += step;
        rest->len -= step;
        return TRUE;
}

gboolean hd_nl_get(const HdNlSpan *payload, void *out, gsize size)
{
        if (payload->len < size)
                return FALSE;
        memcpy(out, payload->data, size);
        return TRUE;
}

/* ---------------------------------------------------------------- the real transport */

static gboolean sock_error(GError **error, const char *what)
{
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "netlink: %s: %s", what,
                    err == EAGAIN || err == EWOULDBLOCK ? "no answer from the kernel in time"
                                                        : g_strerror(err));
        return FALSE;
}

/* Whether @buf (one datagram) ends the answer to @seq; appends its messages for @seq. */
static gboolean take_datagram(const guint8 *buf, gsize len, guint32 seq, GByteArray *reply,
                              gboolean *done, GError **error)
{
        HdNlSpan rest = {buf, len};
        HdNlSpan payload;
        guint16 type, flags;
        guint32 mseq;
        gboolean bad;
        const guint8 *start = rest.data;

        while (hd_nl_msg_next(&rest, &type, &flags, &mseq, &payload, &bad)) {
                const guint8 *end = rest.data;
                if (mseq != seq) { /* not ours (an old answer) */
                        start = end;
                        continue;
                }
                if (reply->len + (end - start) > HD_NETLINK_REPLY_MAX) {
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "netlink: the kernel's answer is larger than %d bytes",
                                    HD_NETLINK_REPLY_MAX);
                        return FALSE;
                }
                g_byte_array_append(reply, start, (guint)(end - start));
                start = end;
                if (type == NLMSG_ERROR || type == NLMSG_DONE || !(flags & NLM_F_MULTI))
                        *done = TRUE;
        }
        if (bad) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "netlink: the kernel's answer is not whole netlink messages");
                return FALSE;
        }
        return TRUE;
}

static gboolean real_transact(HdCtx *ctx, int root_fd, const guint8 *req, gsize len,
                              GByteArray *reply, GError **error)
{
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
        struct sockaddr_nl local = {.nl_family = AF_NETLINK};
        struct timeval tv = {.tv_sec = NETLINK_TIMEOUT_SECONDS};
        struct nlmsghdr h;
        gboolean done = FALSE;
        int one = 1;
        int fd;
        gboolean ok = FALSE;

        /* The kernel's netlink is this machine's: the last guard of "nothing below --root
         * reaches the machine", as for the real backend's host tools (NULL: a test's own call
         * without a context). */
        if (ctx && !hd_ctx_is_live_root(ctx)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "refusing to use this host's netlink for the tree %s (its interfaces "
                            "are not the tree's); use --backend sim",
                            hd_ctx_get_root(ctx));
                return FALSE;
        }
        if (len < sizeof(h)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "netlink: no request");
                return FALSE;
        }
        memcpy(&h, req, sizeof(h));
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return sock_error(error, "cannot open a NETLINK_ROUTE socket");
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
                sock_error(error, "cannot bind a NETLINK_ROUTE socket");
                goto out;
        }
        if (sendto(fd, req, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) != (ssize_t)len) {
                sock_error(error, "cannot send the request");
                goto out;
        }
        for (guint n = 0; !done; n++) {
                g_autofree guint8 *buf = NULL;
                struct sockaddr_nl from;
                socklen_t fromlen = sizeof(from);
                ssize_t size, got;

                if (n > 4096) {
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "netlink: the kernel's answer does not end");
                        goto out;
                }
                size = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
                if (size < 0) {
                        if (errno == EINTR)
                                continue;
                        sock_error(error, "cannot read the answer");
                        goto out;
                }
                if (size > HD_NETLINK_REPLY_MAX) {
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "netlink: the kernel's answer is larger than %d bytes",
                                    HD_NETLINK_REPLY_MAX);
                        goto out;
                }
                buf = g_malloc(MAX(size, 1));
                got = recvfrom(fd, buf, (gsize)MAX(size, 1), 0, (struct sockaddr *)&from, &fromlen);
                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        sock_error(error, "cannot read the answer");
                        goto out;
                }
                if (fromlen != sizeof(from) || from.nl_pid != 0)
                        continue; /* not from the kernel */
                if (!take_datagram(buf, (gsize)got, h.nlmsg_seq, reply, &done, error))
                        goto out;
        }
        ok = TRUE;
out:
        close(fd);
        return ok;
}

const HdNetlinkOps hd_netlink_real = {
    .name = "real",
    .transact = real_transact,
};
