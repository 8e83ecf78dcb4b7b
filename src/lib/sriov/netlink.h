/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtnetlink (NETLINK_ROUTE) behind a table of functions, for the VF network settings that live
 * on a PF's netdev (vf-net.h). No libnl: the requests are built and the replies read here,
 * with every length checked against the bytes there are.
 *
 * The context carries the transport (hd_ctx_get_netlink_ops(), chosen as the kernel backend
 * is: the real one, a NETLINK_ROUTE socket, for the live root; the sim, a fake kernel backed by
 * a state file below the root, for any other root: netlink-sim.c). Every request that changes
 * something goes through hd_ctx_netlink() with a description, so it is in the write log,
 * counted for crash injection and skipped in a dry run, like a sysfs write.
 *
 * Parsing rule: a reply is untrusted bytes. hd_nl_msg_next() and hd_nl_attr_next() step
 * through messages and attributes only while each length is at least its header and at most
 * what is left, and say "malformed" otherwise; payloads are read with memcpy of a size
 * checked first (tests/fuzz/fuzz-netlink.c).
 */
#pragma once

#include <glib.h>

#include "backend.h"

/* HdNetlinkOps is in backend.h, next to the kernel backends. */

/* Replies larger than this are refused (a PF with 256 VFs answers in about 64 KiB). */
#define HD_NETLINK_REPLY_MAX (4 * 1024 * 1024)

/* A view of bytes. */
typedef struct {
        const guint8 *data;
        gsize len;
} HdNlSpan;

/* Building a request in a GByteArray: a header, a fixed part, attributes and nests. */
GByteArray *hd_nl_msg_new(guint16 type, guint16 flags, guint32 seq);
void hd_nl_msg_put(GByteArray *msg, const void *data, gsize len); /* padded to 4 */
void hd_nl_attr_put(GByteArray *msg, guint16 type, const void *data, gsize len);
gsize hd_nl_nest_start(GByteArray *msg, guint16 type);
void hd_nl_nest_end(GByteArray *msg, gsize start);
/* Set nlmsg_len: call last. */
void hd_nl_msg_finish(GByteArray *msg);

/* Step to the next message of @rest: its type, flags, seq and payload (after the 16-byte
 * header). FALSE at the end; *@bad TRUE when what is left is not a whole message. */
gboolean hd_nl_msg_next(HdNlSpan *rest, guint16 *type, guint16 *flags, guint32 *seq,
                        HdNlSpan *payload, gboolean *bad);
/* Step to the next attribute of @rest (type without the nested/byte-order flags). FALSE at
 * the end; *@bad TRUE when what is left is not a whole attribute. */
gboolean hd_nl_attr_next(HdNlSpan *rest, guint16 *type, HdNlSpan *payload, gboolean *bad);
/* A fixed-size payload: FALSE when @payload is shorter than @size (longer is accepted, as the
 * kernel grows structs at the end). */
gboolean hd_nl_get(const HdNlSpan *payload, void *out, gsize size);
