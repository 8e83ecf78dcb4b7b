/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VF network settings over rtnetlink on the PF's netdev: see vf-net.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "journal.h"
#include "macros.h"
#include "json-strict.h"
#include "netlink.h"
#include "parse.h"
#include "vf-net.h"

#define VF_NET_DIR "var/lib/hostdev/vf-net"
#define VF_NET_FILE_MAX (64 * 1024)
/* More VFs than any PCI function can have (sriov_totalvfs is 16 bits). */
#define VF_NET_MAX_VFS 65536

/* ---------------------------------------------------------------- words */

const char *hd_vf_link_state_to_string(HdVfLinkState s)
{
        switch (s) {
        case HD_VF_LINK_AUTO:
                return "auto";
        case HD_VF_LINK_ENABLE:
                return "enable";
        case HD_VF_LINK_DISABLE:
                return "disable";
        case HD_VF_LINK_UNKNOWN:
                break;
        }
        return NULL;
}

gboolean hd_vf_link_state_from_string(const char *s, HdVfLinkState *out)
{
        for (int i = HD_VF_LINK_AUTO; i <= HD_VF_LINK_DISABLE; i++)
                if (g_strcmp0(s, hd_vf_link_state_to_string(i)) == 0) {
                        *out = i;
                        return TRUE;
                }
        return FALSE;
}

gboolean hd_vf_net_parse_mac(const char *s, guint8 mac[6])
{
        if (!s || strlen(s) != 17)
                return FALSE;
        for (int i = 0; i < 6; i++) {
                const char *p = s + i * 3;
                int hi = g_ascii_xdigit_value(p[0]), lo = g_ascii_xdigit_value(p[1]);
                if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':' && p[2] != '-'))
                        return FALSE;
                mac[i] = (guint8)(hi << 4 | lo);
        }
        return TRUE;
}

const char *hd_vf_net_format_mac(const guint8 mac[6], char buf[18])
{
        g_snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                   mac[5]);
        return buf;
}

static gboolean mac_is_zero(const guint8 mac[6])
{
        static const guint8 zero[6] = {0};

        return memcmp(mac, zero, 6) == 0;
}

static const char *vlan_proto_name(guint proto)
{
        return proto == HD_VLAN_PROTO_8021AD ? "802.1ad" : "802.1Q";
}

gboolean hd_vf_net_validate(const HdVfNetSettings *s, GError **error)
{
        char buf[18];

        if (s->has_mac && s->clear_mac && !mac_is_zero(s->mac)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "a MAC to clear is 00:00:00:00:00:00, not %s",
                            hd_vf_net_format_mac(s->mac, buf));
                return FALSE;
        }
        if (s->has_mac && !s->clear_mac && mac_is_zero(s->mac)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "MAC 00:00:00:00:00:00 is no address: give a unicast MAC, or clear "
                            "the VF's administrative MAC with --mac clear");
                return FALSE;
        }
        if (s->has_mac && (s->mac[0] & 1)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "MAC %s is a multicast address (the lowest bit of its first byte is "
                            "set): a VF needs a unicast MAC, e.g. 52:54:00:12:34:56",
                            hd_vf_net_format_mac(s->mac, buf));
                return FALSE;
        }
        if (s->has_vlan && s->vlan > 4095) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "VLAN %u is out of range: 0 (no VLAN) to 4095", s->vlan);
                return FALSE;
        }
        if (s->has_vlan && s->qos > 7) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "QoS %u is out of range: an 802.1p priority is 0 to 7", s->qos);
                return FALSE;
        }
        if (s->has_vlan && s->vlan == 0 && (s->qos || s->vlan_proto == HD_VLAN_PROTO_8021AD)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "QoS and the VLAN protocol go with a VLAN (1-4095), not VLAN 0 (no "
                            "VLAN)");
                return FALSE;
        }
        if (s->has_vlan && s->vlan_proto && s->vlan_proto != HD_VLAN_PROTO_8021Q &&
            s->vlan_proto != HD_VLAN_PROTO_8021AD) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "VLAN protocol 0x%04x: use 802.1Q or 802.1ad", s->vlan_proto);
                return FALSE;
        }
        if (s->has_link_state && !hd_vf_link_state_to_string(s->link_state)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "link state %d: use auto, enable or disable", s->link_state);
                return FALSE;
        }
        if (s->has_rate && s->max_tx_rate && s->min_tx_rate > s->max_tx_rate) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "minimum TX rate %u Mbit/s is above the maximum %u", s->min_tx_rate,
                            s->max_tx_rate);
                return FALSE;
        }
        return TRUE;
}

/* ---------------------------------------------------------------- info */

void hd_vf_net_info_free(HdVfNetInfo *info)
{
        if (!info)
                return;
        g_free(info->netdev);
        if (info->vfs)
                g_array_unref(info->vfs);
        g_free(info);
}

static HdVfNetInfo *info_new(void)
{
        HdVfNetInfo *info = g_new0(HdVfNetInfo, 1);

        info->num_vfs = -1;
        info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
        return info;
}

const HdVfNet *hd_vf_net_info_get(const HdVfNetInfo *info, guint index)
{
        return index < info->vfs->len ? &g_array_index(info->vfs, HdVfNet, index) : NULL;
}

/* ---------------------------------------------------------------- the reply parser */

static gboolean malformed(GError **error, const char *what)
{
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "netlink: the kernel's answer is malformed (%s)", what);
        return FALSE;
}

static int tristate(guint32 v)
{
        return v == G_MAXUINT32 ? -1 : v != 0;
}

static gboolean parse_vf_info(HdNlSpan attrs, HdVfNet *vf, GError **error)
{
        HdNlSpan p;
        guint16 type;
        gboolean bad;
        gboolean have_vlan_list = FALSE;

        vf->spoofchk = vf->trust = -1;
        vf->link_state = HD_VF_LINK_UNKNOWN;
        while (hd_nl_attr_next(&attrs, &type, &p, &bad)) {
                switch (type) {
                case IFLA_VF_MAC: {
                        struct ifla_vf_mac m;
                        if (!hd_nl_get(&p, &m, sizeof(m)))
                                return malformed(error, "short IFLA_VF_MAC");
                        memcpy(vf->mac, m.mac, 6);
                        vf->has_mac = TRUE;
                        break;
                }
                case IFLA_VF_VLAN: {
                        struct ifla_vf_vlan v;
                        if (!hd_nl_get(&p, &v, sizeof(v)))
                                return malformed(error, "short IFLA_VF_VLAN");
                        if (!have_vlan_list) {
                                vf->vlan = MIN(v.vlan, 0xffffu);
                                vf->qos = MIN(v.qos, 0xffffu);
                        }
                        break;
                }
                case IFLA_VF_VLAN_LIST: {
                        HdNlSpan list = p, item;
                        guint16 itype;
                        gboolean ibad;
                        while (hd_nl_attr_next(&list, &itype, &item, &ibad)) {
                                struct ifla_vf_vlan_info vi;
                                if (itype != IFLA_VF_VLAN_INFO)
                                        continue;
                                if (!hd_nl_get(&item, &vi, sizeof(vi)))
                                        return malformed(error, "short IFLA_VF_VLAN_INFO");
                                if (have_vlan_list)
                                        continue; /* the kernel reports one */
                                have_vlan_list = TRUE;
                                vf->vlan = MIN(vi.vlan, 0xffffu);
                                vf->qos = MIN(vi.qos, 0xffffu);
                                vf->vlan_proto = ntohs(vi.vlan_proto);
                        }
                        if (ibad)
                                return malformed(error, "IFLA_VF_VLAN_LIST");
                        break;
                }
                case IFLA_VF_RATE: {
                        struct ifla_vf_rate r;
                        if (!hd_nl_get(&p, &r, sizeof(r)))
                                return malformed(error, "short IFLA_VF_RATE");
                        vf->has_rate = TRUE;
                        vf->min_tx_rate = r.min_tx_rate;
                        vf->max_tx_rate = r.max_tx_rate;
                        break;
                }
                case IFLA_VF_SPOOFCHK: {
                        struct ifla_vf_spoofchk s;
                        if (!hd_nl_get(&p, &s, sizeof(s)))
                                return malformed(error, "short IFLA_VF_SPOOFCHK");
                        vf->spoofchk = tristate(s.setting);
                        break;
                }
                case IFLA_VF_TRUST: {
                        struct ifla_vf_trust t;
                        if (!hd_nl_get(&p, &t, sizeof(t)))
                                return malformed(error, "short IFLA_VF_TRUST");
                        vf->trust = tristate(t.setting);
                        break;
                }
                case IFLA_VF_LINK_STATE: {
                        struct ifla_vf_link_state l;
                        if (!hd_nl_get(&p, &l, sizeof(l)))
                                return malformed(error, "short IFLA_VF_LINK_STATE");
                        vf->link_state = l.link_state <= IFLA_VF_LINK_STATE_DISABLE
                                             ? (HdVfLinkState)l.link_state
                                             : HD_VF_LINK_UNKNOWN;
                        break;
                }
                default:
                        break; /* broadcast, stats, GUIDs, RSS query, newer ones */
                }
        }
        if (bad)
                return malformed(error, "an attribute of IFLA_VF_INFO");
        return TRUE;
}

static gboolean parse_link(HdNlSpan payload, HdVfNetInfo *info, GError **error)
{
        struct ifinfomsg ifi;
        HdNlSpan attrs, p;
        guint16 type;
        gboolean bad;

        if (!hd_nl_get(&payload, &ifi, sizeof(ifi)))
                return malformed(error, "short RTM_NEWLINK");
        info->ifindex = ifi.ifi_index;
        attrs.data = payload.data + NLMSG_ALIGN(sizeof(ifi));
        attrs.len = payload.len - MIN(payload.len, (gsize)NLMSG_ALIGN(sizeof(ifi)));
        while (hd_nl_attr_next(&attrs, &type, &p, &bad)) {
                if (type == IFLA_NUM_VF) {
                        guint32 n;
                        if (!hd_nl_get(&p, &n, sizeof(n)))
                                return malformed(error, "short IFLA_NUM_VF");
                        info->num_vfs = (int)MIN(n, (guint32)VF_NET_MAX_VFS);
                } else if (type == IFLA_VFINFO_LIST) {
                        HdNlSpan list = p, item;
                        guint16 itype;
                        gboolean ibad;
                        while (hd_nl_attr_next(&list, &itype, &item, &ibad)) {
                                HdVfNet vf = {.index = info->vfs->len};
                                if (itype != IFLA_VF_INFO)
                                        continue;
                                if (info->vfs->len >= VF_NET_MAX_VFS)
                                        return malformed(error, "too many VFs");
                                if (!parse_vf_info(item, &vf, error))
                                        return FALSE;
                                g_array_append_val(info->vfs, vf);
                        }
                        if (ibad)
                                return malformed(error, "IFLA_VFINFO_LIST");
                }
        }
        if (bad)
                return malformed(error, "an attribute of RTM_NEWLINK");
        return TRUE;
}

/* The symbol of the errnos netlink answers with, for messages a user can look up. */
static const char *errno_name(int err)
{
        switch (err) {
        case EOPNOTSUPP:
                return "EOPNOTSUPP";
        case EINVAL:
                return "EINVAL";
        case EPERM:
                return "EPERM";
        case ENODEV:
                return "ENODEV";
        case EPROTONOSUPPORT:
                return "EPROTONOSUPPORT";
        case EBUSY:
                return "EBUSY";
        case ERANGE:
                return "ERANGE";
        default:
                return "errno";
        }
}

static gboolean errno_error(GError **error, int err, const char *what)
{
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s (%s)", what,
                    g_strerror(err), errno_name(err));
        return FALSE;
}

/* The errno of an NLMSG_ERROR payload, -1 when it is short. */
static int nlmsg_errno(HdNlSpan payload)
{
        gint32 e;

        if (!hd_nl_get(&payload, &e, sizeof(e)))
                return -1;
        return e < 0 && e > -4096 ? -e : e == 0 ? 0 : EIO;
}

gboolean hd_vf_net_parse_reply(const guint8 *data, gsize len, HdVfNetInfo *info, GError **error)
{
        HdNlSpan rest = {data, len}, payload;
        guint16 type, flags;
        guint32 seq;
        gboolean bad, found = FALSE;

        while (hd_nl_msg_next(&rest, &type, &flags, &seq, &payload, &bad)) {
                if (type == NLMSG_ERROR) {
                        int e = nlmsg_errno(payload);
                        if (e < 0)
                                return malformed(error, "short NLMSG_ERROR");
                        if (e)
                                return errno_error(error, e, "netlink RTM_GETLINK");
                        continue;
                }
                if (type != RTM_NEWLINK || found)
                        continue;
                if (!parse_link(payload, info, error))
                        return FALSE;
                found = TRUE;
        }
        if (bad)
                return malformed(error, "not whole messages");
        if (!found)
                return malformed(error, "no RTM_NEWLINK");
        return TRUE;
}

/* The kernel's extended ACK message (NETLINK_EXT_ACK: NLMSGERR_ATTR_MSG after the error and
 * the request it echoes), printable text only; NULL when there is none. */
static char *extack_message(HdNlSpan payload, guint16 flags)
{
        struct nlmsgerr e;
        HdNlSpan attrs, a;
        guint16 type;
        gboolean bad;
        gsize skip;

        if (!(flags & NLM_F_ACK_TLVS) || !hd_nl_get(&payload, &e, sizeof(e)))
                return NULL;
        /* capped: the request's header only; else the whole request */
        skip = sizeof(int) + ((flags & NLM_F_CAPPED) ? sizeof(struct nlmsghdr)
                                                     : NLMSG_ALIGN((gsize)e.msg.nlmsg_len));
        if (skip < sizeof(e) || skip > payload.len)
                return NULL;
        attrs.data = payload.data + skip;
        attrs.len = payload.len - skip;
        while (hd_nl_attr_next(&attrs, &type, &a, &bad)) {
                g_autofree char *text = NULL;
                if (type != NLMSGERR_ATTR_MSG || a.len == 0)
                        continue;
                text = g_utf8_make_valid((const char *)a.data,
                                         (gssize)strnlen((const char *)a.data, MIN(a.len, 512)));
                for (char *c = text; *c; c++)
                        if ((guchar)*c < 0x20 || *c == 0x7f)
                                *c = '?';
                return *text ? g_steal_pointer(&text) : NULL;
        }
        return NULL;
}

int hd_vf_net_parse_ack(const guint8 *data, gsize len, char **message, GError **error)
{
        HdNlSpan rest = {data, len}, payload;
        guint16 type, flags;
        guint32 seq;
        gboolean bad;

        if (message)
                *message = NULL;
        while (hd_nl_msg_next(&rest, &type, &flags, &seq, &payload, &bad)) {
                if (type == NLMSG_ERROR) {
                        int e = nlmsg_errno(payload);
                        if (e < 0)
                                break;
                        if (e && message)
                                *message = extack_message(payload, flags);
                        return e;
                }
        }
        malformed(error, "no acknowledgement");
        return -1;
}

/* ---------------------------------------------------------------- the PF and its netdev */

char *hd_vf_net_pf_netdev(HdCtx *ctx, const HdAddress *pf, GError **error)
{
        char name[HD_ADDRESS_STRLEN];
        g_autoptr(HdDevice) dev = NULL;
        g_autoptr(GPtrArray) nets = NULL;
        int dfd;

        hd_address_format(pf, name);
        dev = hd_device_load(ctx, pf, HD_FIELD_IDS | HD_FIELD_DRIVER | HD_FIELD_SRIOV, error);
        if (!dev)
                return NULL;
        dfd = hd_ctx_open_device_dir(ctx, name);
        if (dfd >= 0) {
                nets = hd_list_dir_at(dfd, "net", NULL);
                hd_close_fdp(&dfd);
        }
        if (nets && nets->len > 0)
                return g_strdup(nets->pdata[0]);
        if (!dev->driver && ((guint)dev->class_code >> 16) == 0x02) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s has no driver, so no network interface to set its VFs' MAC, "
                            "VLAN or trust on (they are set on the PF's interface); bind its "
                            "network driver first (hostdev attach %s)",
                            name, name);
                return NULL;
        }
        g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                    "%s is not a network adapter (class %06x, no interface in its net/): VF "
                    "MAC, VLAN, spoof check and trust are settings of a NIC's VFs; its VFs go "
                    "to a VM as they are (hostdev xml VF_ADDRESS)",
                    name, (guint)dev->class_code & 0xffffff);
        return NULL;
}

static int pf_ifindex(HdCtx *ctx, const char *pf, const char *netdev, GError **error)
{
        g_autofree char *path = g_strdup_printf("bus/pci/devices/%s/net/%s/ifindex", pf, netdev);
        g_autofree char *s = NULL;
        gint64 v;

        if (strchr(netdev, '/') || !(s = hd_read_attr_at(hd_ctx_get_sys_fd(ctx), path, error)))
                return -1;
        if (!hd_parse_int(g_strstrip(s), 1, G_MAXINT32, &v)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "%s: ifindex '%s' is not a number",
                            netdev, s);
                return -1;
        }
        return (int)v;
}

gboolean hd_vf_net_resolve_vf(HdCtx *ctx, const HdAddress *address, HdAddress *pf, guint *index,
                              GError **error)
{
        char name[HD_ADDRESS_STRLEN];
        g_autoptr(HdDevice) vf = hd_device_load(ctx, address, HD_FIELD_SRIOV, error);
        g_autoptr(HdDevice) p = NULL;
        hd_autofd int dfd = -1;

        if (!vf)
                return FALSE;
        hd_address_format(address, name);
        if (!vf->physfn || !hd_address_parse_sysfs_name(vf->physfn, pf)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is not an SR-IOV virtual function (it has no physfn)%s", name,
                            vf->sriov_totalvfs >= 0 ? "; it is a PF: name it with a VF index, "
                                                      "hostdev sriov-vf PF_ADDRESS INDEX"
                                                    : "");
                return FALSE;
        }
        if (!(p = hd_device_load(ctx, pf, HD_FIELD_SRIOV, error)))
                return FALSE;
        dfd = hd_ctx_open_device_dir(ctx, p->name);
        for (int i = 0; dfd >= 0 && i < MAX(p->sriov_numvfs, 0); i++) {
                char link[32], buf[HD_ADDRESS_STRLEN];

                g_snprintf(link, sizeof(link), "virtfn%d", i);
                if (hd_readlink_basename_buf_at(dfd, link, buf, sizeof(buf)) > 0 &&
                    strcmp(buf, name) == 0) {
                        *index = (guint)i;
                        return TRUE;
                }
        }
        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                    "%s names %s as its PF, but no virtfnN link of %s points back at it; "
                    "hostdev sriov %s shows the PF's VFs",
                    name, vf->physfn, vf->physfn, vf->physfn);
        return FALSE;
}

/* ---------------------------------------------------------------- reading */

static guint32 next_seq(void)
{
        static gint seq = 0;

        return (guint32)g_atomic_int_add(&seq, 1) + 1;
}

static GByteArray *link_request(guint16 type, guint16 flags, int ifindex)
{
        GByteArray *msg = hd_nl_msg_new(type, flags, next_seq());
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};

        hd_nl_msg_put(msg, &ifi, sizeof(ifi));
        return msg;
}

HdVfNetInfo *hd_vf_net_read(HdCtx *ctx, const HdAddress *pf, GError **error)
{
        g_autoptr(HdVfNetInfo) info = info_new();
        g_autoptr(GByteArray) req = NULL;
        g_autoptr(GByteArray) reply = g_byte_array_new();
        guint32 mask = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS;
        int ifindex;

        hd_address_format(pf, info->pf);
        if (!(info->netdev = hd_vf_net_pf_netdev(ctx, pf, error)) ||
            (ifindex = pf_ifindex(ctx, info->pf, info->netdev, error)) < 0)
                return NULL;
        req = link_request(RTM_GETLINK, NLM_F_REQUEST, ifindex);
        hd_nl_attr_put(req, IFLA_EXT_MASK, &mask, sizeof(mask));
        hd_nl_msg_finish(req);
        if (!hd_ctx_netlink(ctx, info->netdev, NULL, req->data, req->len, reply, error) ||
            !hd_vf_net_parse_reply(reply->data, reply->len, info, error)) {
                g_prefix_error(error, "cannot read the VF settings of %s (%s): ", info->pf,
                               info->netdev);
                return NULL;
        }
        if (info->ifindex != ifindex) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot read the VF settings of %s (%s): the answer is about "
                            "interface %d, not %d",
                            info->pf, info->netdev, info->ifindex, ifindex);
                return NULL;
        }
        return g_steal_pointer(&info);
}

/* ---------------------------------------------------------------- setting */

typedef enum {
        FIELD_MAC,
        FIELD_VLAN,
        FIELD_SPOOFCHK,
        FIELD_TRUST,
        FIELD_LINK_STATE,
        FIELD_RATE,
        N_FIELDS,
} Field;

static const char *const field_names[N_FIELDS] = {
    "MAC", "VLAN", "spoof check", "trust", "link state", "TX rate",
};

/* The fields of @s that @cur (may be NULL) does not already have. */
static gboolean field_differs(Field f, const HdVfNetSettings *s, const HdVfNet *cur)
{
        switch (f) {
        case FIELD_MAC:
                return s->has_mac && (!cur || !cur->has_mac || memcmp(cur->mac, s->mac, 6) != 0);
        case FIELD_VLAN:
                return s->has_vlan && (!cur || cur->vlan != s->vlan || cur->qos != s->qos ||
                                       (cur->vlan_proto ? cur->vlan_proto : HD_VLAN_PROTO_8021Q) !=
                                           (s->vlan_proto ? s->vlan_proto : HD_VLAN_PROTO_8021Q));
        case FIELD_SPOOFCHK:
                return s->has_spoofchk && (!cur || cur->spoofchk != (int)s->spoofchk);
        case FIELD_TRUST:
                return s->has_trust && (!cur || cur->trust != (int)s->trust);
        case FIELD_LINK_STATE:
                return s->has_link_state && (!cur || cur->link_state != s->link_state);
        case FIELD_RATE:
                return s->has_rate &&
                       (!cur || !cur->has_rate || cur->min_tx_rate != s->min_tx_rate ||
                        cur->max_tx_rate != s->max_tx_rate);
        case N_FIELDS:
                break;
        }
        return FALSE;
}

/* The request setting field @f of VF @vf to @s, and the `ip link` command that does the
 * same. */
static GByteArray *field_request(Field f, int ifindex, const char *netdev, guint vf,
                                 const HdVfNetSettings *s, char **change)
{
        GByteArray *msg = link_request(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
        gsize list = hd_nl_nest_start(msg, IFLA_VFINFO_LIST);
        gsize info = hd_nl_nest_start(msg, IFLA_VF_INFO);
        g_autofree char *what = NULL;
        char buf[18];

        switch (f) {
        case FIELD_MAC: {
                struct ifla_vf_mac m = {.vf = vf};
                memcpy(m.mac, s->mac, 6);
                hd_nl_attr_put(msg, IFLA_VF_MAC, &m, sizeof(m));
                what = g_strdup_printf("mac %s", hd_vf_net_format_mac(s->mac, buf));
                break;
        }
        case FIELD_VLAN:
                if (s->vlan_proto == HD_VLAN_PROTO_8021AD) {
                        struct ifla_vf_vlan_info vi = {.vf = vf,
                                                       .vlan = s->vlan,
                                                       .qos = s->qos,
                                                       .vlan_proto = htons(s->vlan_proto)};
                        gsize vl = hd_nl_nest_start(msg, IFLA_VF_VLAN_LIST);
                        hd_nl_attr_put(msg, IFLA_VF_VLAN_INFO, &vi, sizeof(vi));
                        hd_nl_nest_end(msg, vl);
                } else {
                        struct ifla_vf_vlan v = {.vf = vf, .vlan = s->vlan, .qos = s->qos};
                        hd_nl_attr_put(msg, IFLA_VF_VLAN, &v, sizeof(v));
                }
                what =
                    g_strdup_printf("vlan %u qos %u%s", s->vlan, s->qos,
                                    s->vlan_proto == HD_VLAN_PROTO_8021AD ? " proto 802.1ad" : "");
                break;
        case FIELD_SPOOFCHK: {
                struct ifla_vf_spoofchk sc = {.vf = vf, .setting = s->spoofchk};
                hd_nl_attr_put(msg, IFLA_VF_SPOOFCHK, &sc, sizeof(sc));
                what = g_strdup_printf("spoofchk %s", s->spoofchk ? "on" : "off");
                break;
        }
        case FIELD_TRUST: {
                struct ifla_vf_trust t = {.vf = vf, .setting = s->trust};
                hd_nl_attr_put(msg, IFLA_VF_TRUST, &t, sizeof(t));
                what = g_strdup_printf("trust %s", s->trust ? "on" : "off");
                break;
        }
        case FIELD_LINK_STATE: {
                struct ifla_vf_link_state l = {.vf = vf, .link_state = (guint32)s->link_state};
                hd_nl_attr_put(msg, IFLA_VF_LINK_STATE, &l, sizeof(l));
                what = g_strdup_printf("state %s", hd_vf_link_state_to_string(s->link_state));
                break;
        }
        case FIELD_RATE: {
                struct ifla_vf_rate r = {
                    .vf = vf, .min_tx_rate = s->min_tx_rate, .max_tx_rate = s->max_tx_rate};
                hd_nl_attr_put(msg, IFLA_VF_RATE, &r, sizeof(r));
                what = g_strdup_printf("min_tx_rate %u max_tx_rate %u", s->min_tx_rate,
                                       s->max_tx_rate);
                break;
        }
        case N_FIELDS:
                g_assert_not_reached();
        }
        hd_nl_nest_end(msg, info);
        hd_nl_nest_end(msg, list);
        hd_nl_msg_finish(msg);
        *change = g_strdup_printf("ip link set dev %s vf %u %s", netdev, vf, what);
        return msg;
}

/* Send one field; the kernel's errno in *@err (0: done) and its extended ACK message in
 * *@why (may be NULL). FALSE for a transport failure. */
static gboolean send_field(HdCtx *ctx, Field f, int ifindex, const char *netdev, guint vf,
                           const HdVfNetSettings *s, int *err, char **why, GError **error)
{
        g_autofree char *change = NULL;
        g_autoptr(GByteArray) req = field_request(f, ifindex, netdev, vf, s, &change);
        g_autoptr(GByteArray) reply = g_byte_array_new();

        *err = 0;
        if (!hd_ctx_netlink(ctx, netdev, change, req->data, req->len, reply, error))
                return FALSE;
        if (hd_ctx_get_dry_run(ctx))
                return TRUE;
        *err = hd_vf_net_parse_ack(reply->data, reply->len, why, error);
        return *err >= 0;
}

/* The settings @cur has, as a HdVfNetSettings for field @f (to set it back). */
static void settings_from(const HdVfNet *cur, HdVfNetSettings *out)
{
        memset(out, 0, sizeof(*out));
        out->has_mac = cur->has_mac;
        memcpy(out->mac, cur->mac, 6);
        out->clear_mac = mac_is_zero(cur->mac);
        out->has_vlan = TRUE;
        out->vlan = cur->vlan;
        out->qos = cur->qos;
        out->vlan_proto = cur->vlan_proto == HD_VLAN_PROTO_8021AD ? HD_VLAN_PROTO_8021AD : 0;
        out->has_spoofchk = cur->spoofchk >= 0;
        out->spoofchk = cur->spoofchk > 0;
        out->has_trust = cur->trust >= 0;
        out->trust = cur->trust > 0;
        out->has_link_state = cur->link_state != HD_VF_LINK_UNKNOWN;
        out->link_state = cur->link_state;
        out->has_rate = cur->has_rate;
        out->min_tx_rate = cur->min_tx_rate;
        out->max_tx_rate = cur->max_tx_rate;
}

/* Set the fields before @failed that this call changed (@done) back to @before, newest first;
 * the number that could not be. */
static guint undo_fields(HdCtx *ctx, const HdVfNetInfo *info, guint index, const HdVfNet *before,
                         const gboolean *done, Field failed)
{
        HdVfNetSettings back;
        guint failed_undo = 0;

        settings_from(before, &back);
        for (int g = (int)failed - 1; g >= 0; g--) {
                int err = 0;
                if (done[g] && (!send_field(ctx, g, info->ifindex, info->netdev, index, &back, &err,
                                            NULL, NULL) ||
                                err))
                        failed_undo++;
        }
        return failed_undo;
}

/* The error for the kernel's refusal @err of a field, with its extended ACK @why (may be
 * NULL). */
static GError *refusal(int err, const char *why)
{
        const char *what = err == EOPNOTSUPP ? "the driver has no such setting"
                           : err == EPERM    ? "it needs CAP_NET_ADMIN (run as root)"
                                             : "the driver refused it";

        return g_error_new(HD_ERROR, err == EOPNOTSUPP ? HD_ERROR_NOT_SUPPORTED : HD_ERROR_FAILED,
                           "%s: %s (%s, errno %d)%s%s%s", what, g_strerror(err), errno_name(err),
                           err, why ? "; the kernel says \"" : "", why ? why : "", why ? "\"" : "");
}

static int pf_numvfs(HdCtx *ctx, const char *pf)
{
        g_autofree char *path = g_strdup_printf("bus/pci/devices/%s/sriov_numvfs", pf);
        g_autofree char *s = hd_read_attr_optional_at(hd_ctx_get_sys_fd(ctx), path);
        gint64 v;

        return s && hd_parse_int(g_strstrip(s), 0, 65535, &v) ? (int)v : -1;
}

gboolean hd_vf_net_set(HdCtx *ctx, const HdAddress *pf, guint index, const HdVfNetSettings *s,
                       guint *n_changed, GError **error)
{
        g_autoptr(HdVfNetInfo) info = NULL;
        const HdVfNet *cur;
        HdVfNet before;
        gboolean done[N_FIELDS] = {FALSE};
        char name[HD_ADDRESS_STRLEN];
        int numvfs;
        guint n = 0;

        if (n_changed)
                *n_changed = 0;
        hd_address_format(pf, name);
        if (!hd_vf_net_validate(s, error))
                return FALSE;
        if (!(info = hd_vf_net_read(ctx, pf, error)))
                return FALSE;
        numvfs = pf_numvfs(ctx, name);
        if (numvfs < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is not an SR-IOV physical function (no sriov_numvfs)", name);
                return FALSE;
        }
        if (index >= (guint)numvfs) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s has %d VF%s enabled, so there is no VF %u (indexes 0 to %d); "
                            "hostdev sriov %s lists them",
                            name, numvfs, numvfs == 1 ? "" : "s", index, numvfs - 1, name);
                return FALSE;
        }
        cur = hd_vf_net_info_get(info, index);
        if (cur)
                before = *cur;
        for (Field f = 0; f < N_FIELDS; f++) {
                g_autoptr(GError) local = NULL;
                g_autofree char *why_kernel = NULL;
                int err = 0;

                if (!field_differs(f, s, cur))
                        continue;
                if (!send_field(ctx, f, info->ifindex, info->netdev, index, s, &err, &why_kernel,
                                &local) ||
                    err) {
                        guint failed_undo =
                            cur ? undo_fields(ctx, info, index, &before, done, f) : n;
                        if (!local)
                                local = refusal(err, why_kernel);
                        g_set_error(error, local->domain, local->code,
                                    "cannot set the %s of VF %u of %s (%s): %s%s", field_names[f],
                                    index, name, info->netdev, local->message,
                                    failed_undo ? "; the settings changed before it could not all "
                                                  "be set back (hostdev sriov-vf shows them now)"
                                    : n         ? "; the settings changed before it were set back"
                                                : "");
                        return FALSE;
                }
                done[f] = TRUE;
                n++;
        }
        if (n_changed)
                *n_changed = n;
        return TRUE;
}

/* ---------------------------------------------------------------- save and restore */

char *hd_vf_net_saved_path(const HdAddress *pf, guint index)
{
        char name[HD_ADDRESS_STRLEN];

        return g_strdup_printf(VF_NET_DIR "/%s_vf%u.json", hd_address_format(pf, name), index);
}

static char *saved_json(const HdVfNetInfo *info, const HdVfNet *vf)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        char buf[18];

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "pf");
        json_builder_add_string_value(b, info->pf);
        json_builder_set_member_name(b, "netdev");
        json_builder_add_string_value(b, info->netdev);
        json_builder_set_member_name(b, "vf");
        json_builder_add_int_value(b, vf->index);
        json_builder_set_member_name(b, "mac");
        if (vf->has_mac)
                json_builder_add_string_value(b, hd_vf_net_format_mac(vf->mac, buf));
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "vlan");
        json_builder_add_int_value(b, vf->vlan);
        json_builder_set_member_name(b, "qos");
        json_builder_add_int_value(b, vf->qos);
        json_builder_set_member_name(b, "vlan_proto");
        json_builder_add_string_value(b, vlan_proto_name(vf->vlan_proto));
        json_builder_set_member_name(b, "spoofchk");
        if (vf->spoofchk >= 0)
                json_builder_add_boolean_value(b, vf->spoofchk);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "trust");
        if (vf->trust >= 0)
                json_builder_add_boolean_value(b, vf->trust);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "link_state");
        if (vf->link_state != HD_VF_LINK_UNKNOWN)
                json_builder_add_string_value(b, hd_vf_link_state_to_string(vf->link_state));
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "min_tx_rate");
        json_builder_add_int_value(b, vf->min_tx_rate);
        json_builder_set_member_name(b, "max_tx_rate");
        json_builder_add_int_value(b, vf->max_tx_rate);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        json_generator_set_pretty(gen, TRUE);
        text = json_generator_to_data(gen, NULL);
        return g_strconcat(text, "\n", NULL);
}

gboolean hd_vf_net_save(HdCtx *ctx, const HdAddress *vf, const HdVfNetSettings *for_vm,
                        GError **error)
{
        HdAddress pf;
        guint index;
        g_autoptr(HdVfNetInfo) info = NULL;
        g_autofree char *path = NULL;
        g_autofree char *json = NULL;
        const HdVfNet *cur;

        if (for_vm && !hd_vf_net_validate(for_vm, error))
                return FALSE;
        if (!hd_vf_net_resolve_vf(ctx, vf, &pf, &index, error) ||
            !(info = hd_vf_net_read(ctx, &pf, error)))
                return FALSE;
        path = hd_vf_net_saved_path(&pf, index);
        if (hd_exists_at(hd_ctx_get_root_fd(ctx), path, TRUE)) {
                hd_ctx_log(ctx, HD_LOG_INFO,
                           "VF %u of %s: keeping the settings saved in /%s (the host's, from "
                           "before the VF was first given away)",
                           index, info->pf, path);
        } else {
                if (!(cur = hd_vf_net_info_get(info, index))) {
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                                    "%s (VF %u of %s): the driver of %s reports no settings for "
                                    "it, so they cannot be saved",
                                    path, index, info->pf, info->netdev);
                        return FALSE;
                }
                json = saved_json(info, cur);
                if (!hd_ctx_replace_file(ctx, path, json, -1, error))
                        return FALSE;
        }
        if (for_vm && !hd_vf_net_set(ctx, &pf, index, for_vm, NULL, error)) {
                g_autoptr(GError) local = NULL;
                if (!hd_vf_net_restore(ctx, vf, &local))
                        hd_ctx_log(ctx, HD_LOG_WARNING, "%s", local->message);
                return FALSE;
        }
        return TRUE;
}

/* The saved settings in @text, checked like any input. */
static gboolean parse_saved(const char *text, const HdAddress *pf, guint index, HdVfNetSettings *s,
                            GError **error)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *o;
        JsonNode *n;
        char name[HD_ADDRESS_STRLEN];

        memset(s, 0, sizeof(*s));
        if (!hd_json_strict_validate(text, strlen(text), 8, HD_JSON_STRICT_NO_NUL, NULL, error) ||
            !json_parser_load_from_data(parser, text, -1, error))
                return FALSE;
        if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
                goto bad;
        o = json_node_get_object(json_parser_get_root(parser));
        if (g_strcmp0(json_object_get_string_member_with_default(o, "pf", ""),
                      hd_address_format(pf, name)) != 0 ||
            json_object_get_int_member_with_default(o, "vf", -1) != (gint64)index)
                goto bad;
        n = json_object_get_member(o, "mac");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
                if (!hd_vf_net_parse_mac(json_node_get_string(n), s->mac))
                        goto bad;
                s->has_mac = TRUE;
                s->clear_mac = mac_is_zero(s->mac);
        }
        s->has_vlan = TRUE;
        s->vlan = (guint)CLAMP(json_object_get_int_member_with_default(o, "vlan", 0), 0, 65535);
        s->qos = (guint)CLAMP(json_object_get_int_member_with_default(o, "qos", 0), 0, 65535);
        if (g_strcmp0(json_object_get_string_member_with_default(o, "vlan_proto", "802.1Q"),
                      "802.1ad") == 0)
                s->vlan_proto = HD_VLAN_PROTO_8021AD;
        n = json_object_get_member(o, "spoofchk");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN) {
                s->has_spoofchk = TRUE;
                s->spoofchk = json_node_get_boolean(n);
        }
        n = json_object_get_member(o, "trust");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN) {
                s->has_trust = TRUE;
                s->trust = json_node_get_boolean(n);
        }
        n = json_object_get_member(o, "link_state");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
                if (!hd_vf_link_state_from_string(json_node_get_string(n), &s->link_state))
                        goto bad;
                s->has_link_state = TRUE;
        }
        s->has_rate = TRUE;
        s->min_tx_rate = (guint)CLAMP(json_object_get_int_member_with_default(o, "min_tx_rate", 0),
                                      0, G_MAXUINT32);
        s->max_tx_rate = (guint)CLAMP(json_object_get_int_member_with_default(o, "max_tx_rate", 0),
                                      0, G_MAXUINT32);
        return hd_vf_net_validate(s, error);
bad:
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "not the saved settings of VF %u of %s (pf, vf, mac or link_state is wrong)",
                    index, name);
        return FALSE;
}

gboolean hd_vf_net_restore(HdCtx *ctx, const HdAddress *vf, GError **error)
{
        HdAddress pf;
        guint index;
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autofree char *base = NULL;
        g_autoptr(GError) local = NULL;
        HdVfNetSettings s;
        char pfname[HD_ADDRESS_STRLEN];

        if (!hd_vf_net_resolve_vf(ctx, vf, &pf, &index, error))
                return FALSE;
        path = hd_vf_net_saved_path(&pf, index);
        base = g_path_get_basename(path);
        if (!hd_exists_at(hd_ctx_get_root_fd(ctx), path, TRUE))
                return TRUE;
        if (!(text = hd_read_file_at(hd_ctx_get_root_fd(ctx), path, VF_NET_FILE_MAX, &local)) ||
            !parse_saved(text, &pf, index, &s, &local)) {
                if (!hd_ctx_get_dry_run(ctx))
                        (void)hd_quarantine_file(ctx, VF_NET_DIR, base, local->message);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot restore the network settings of VF %u of %s: /%s: %s (moved "
                            "to /" VF_NET_DIR "/quarantine; set them with hostdev sriov vf %s "
                            "%u)",
                            index, hd_address_format(&pf, pfname), path, local->message, pfname,
                            index);
                return FALSE;
        }
        if (s.has_mac && s.clear_mac) {
                /* igb and ixgbe refuse a zero MAC on older kernels (VDSM's zero-MAC fix sets a
                 * random one instead): clear it separately and accept that refusal */
                HdVfNetSettings mac = {.has_mac = TRUE, .clear_mac = TRUE};
                g_autoptr(GError) mac_error = NULL;
                s.has_mac = FALSE;
                if (!hd_vf_net_set(ctx, &pf, index, &mac, NULL, &mac_error)) {
                        if (!g_error_matches(mac_error, HD_ERROR, HD_ERROR_FAILED) &&
                            !g_error_matches(mac_error, HD_ERROR, HD_ERROR_NOT_SUPPORTED)) {
                                g_propagate_error(error, g_steal_pointer(&mac_error));
                                return FALSE;
                        }
                        hd_ctx_log(ctx, HD_LOG_WARNING,
                                   "VF %u of %s had no MAC before; the driver does not clear "
                                   "it (%s), so it keeps the VM's",
                                   index, hd_address_format(&pf, pfname), mac_error->message);
                }
        }
        if (!hd_vf_net_set(ctx, &pf, index, &s, NULL, error)) {
                g_prefix_error(error, "cannot restore the saved settings (/%s, kept): ", path);
                return FALSE;
        }
        return hd_ctx_remove_file(ctx, path, error);
}

/* ---------------------------------------------------------------- <interface type='hostdev'> */

char *hd_vf_net_interface_xml(HdCtx *ctx, const HdAddress *vf, const guint8 *mac, int vlan,
                              gboolean managed, guint indent, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree char *netdev = NULL;
        g_autofree char *pad = g_strnfill(indent, ' ');
        GString *s;
        HdAddress pf;
        guint index;
        char name[HD_ADDRESS_STRLEN], pfname[HD_ADDRESS_STRLEN], buf[18];

        hd_address_format(vf, name);
        if (!hd_vf_net_resolve_vf(ctx, vf, &pf, &index, &local)) {
                if (!g_error_matches(local, HD_ERROR, HD_ERROR_INVALID_ARGUMENT)) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is not an SR-IOV virtual function: libvirt takes "
                            "<interface type='hostdev'> for VFs only (it sets their MAC and "
                            "VLAN on the PF); give it to the VM as a <hostdev> (hostdev xml %s)",
                            name, name);
                return NULL;
        }
        hd_address_format(&pf, pfname);
        if (!(netdev = hd_vf_net_pf_netdev(ctx, &pf, &local))) {
                if (!g_error_matches(local, HD_ERROR, HD_ERROR_NOT_SUPPORTED)) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is a VF of %s, which has no network interface (not a NIC, or "
                            "no driver): <interface type='hostdev'> is for NIC VFs, whose MAC "
                            "and VLAN libvirt sets on the PF's interface; give it to the VM as a "
                            "<hostdev> (hostdev xml %s)",
                            name, pfname, name);
                return NULL;
        }
        if (mac) {
                HdVfNetSettings check = {.has_mac = TRUE};
                memcpy(check.mac, mac, 6);
                if (!hd_vf_net_validate(&check, error))
                        return NULL;
        }
        if (vlan > 4095 || vlan == 0 || vlan < -1) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "VLAN %d is out of range: a VLAN tag is 1 to 4095", vlan);
                return NULL;
        }
        s = g_string_new(NULL);
        g_string_append_printf(s, "%s<interface type='hostdev' managed='%s'>\n", pad,
                               managed ? "yes" : "no");
        g_string_append_printf(s, "%s  <source>\n", pad);
        g_string_append_printf(s,
                               "%s    <address type='pci' domain='0x%04x' bus='0x%02x' "
                               "slot='0x%02x' function='0x%x'/>\n",
                               pad, vf->domain, vf->bus, vf->slot, vf->function);
        g_string_append_printf(s, "%s  </source>\n", pad);
        if (mac)
                g_string_append_printf(s, "%s  <mac address='%s'/>\n", pad,
                                       hd_vf_net_format_mac(mac, buf));
        if (vlan > 0)
                g_string_append_printf(s, "%s  <vlan>\n%s    <tag id='%d'/>\n%s  </vlan>\n", pad,
                                       pad, vlan, pad);
        g_string_append_printf(s, "%s</interface>\n", pad);
        return g_string_free(s, FALSE);
}
