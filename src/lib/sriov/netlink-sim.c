/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim's rtnetlink: a fake kernel answering the requests vf-net.c makes, on a tree (a
 * fixture or an unpacked snapshot), so that reading and setting VF network settings runs in
 * unit tests and `hostdev --root DIR` agrees with the library's tests.
 *
 * What it imitates (net/core/rtnetlink.c rtnl_fill_vfinfo(), do_setvfinfo(); the drivers'
 * ndo_get_vf_config/ndo_set_vf_*):
 *
 *   the interface      found by ifi_index among sys/class/net/<if>/ifindex (ENODEV when none);
 *                      it has VFs when its device (sys/class/net/<if>/device) is a PCI
 *                      function with sriov_numvfs, and as many as that file says now
 *   RTM_GETLINK        one RTM_NEWLINK: IFLA_IFNAME, and with IFLA_EXT_MASK RTEXT_FILTER_VF
 *                      IFLA_NUM_VF and IFLA_VFINFO_LIST, one IFLA_VF_INFO per VF with MAC,
 *                      VLAN, RATE, TX_RATE, SPOOFCHK, LINK_STATE, TRUST and VLAN_LIST, in the
 *                      kernel's order; a setting the driver lacks reads as the kernel's -1
 *   RTM_SETLINK        the IFLA_VF_* of each IFLA_VF_INFO applied in the kernel's order
 *                      (MAC, VLAN, VLAN_LIST, RATE, SPOOFCHK, LINK_STATE, TRUST), stopping at
 *                      the first refusal with what was applied before it kept, as the kernel
 *                      does. Refusals: a VF index >= sriov_numvfs, a multicast MAC, VLAN >
 *                      4095 or QoS > 7, a min TX rate above the max, a link state above 2:
 *                      EINVAL; a VLAN protocol other than 802.1Q/802.1ad: EPROTONOSUPPORT;
 *                      a setting the driver lacks: EOPNOTSUPP (802.1ad: EPROTONOSUPPORT, as
 *                      igb and ice answer); an interface without VFs: EOPNOTSUPP. An ACK
 *                      (NLMSG_ERROR 0) when NLM_F_ACK asks for one.
 *
 * The settings live in var/lib/hostdev-sim/vf-net/<pf address>.json below the root:
 *   {"unsupported": ["trust", ...], "vfs": [{"mac": "..", "vlan": 0, "qos": 0,
 *    "vlan_proto": "802.1Q", "spoofchk": true, "trust": false, "link_state": "auto",
 *    "min_tx_rate": 0, "max_tx_rate": 0}, ...]}
 * "unsupported" names what the driver lacks: "spoofchk", "trust", "link_state", "rate",
 * "vlan_proto" (802.1ad), "zero_mac" (a driver that refuses 00:00:00:00:00:00 with EINVAL, as
 * igb did before 5.x); mkfixture.py writes the file from a topology's "vf_settings"
 * (tests/fixtures/README.md). A VF without an entry has the defaults above with a zero MAC, as
 * igb's VFs come up. The file is rewritten whole (every enabled VF) after each change.
 */
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

#include "fileio.h"
#include "hd-error.h"
#include "netlink.h"
#include "parse.h"
#include "vf-net.h"

#define SIM_VF_NET_DIR "var/lib/hostdev-sim/vf-net"
#define SIM_VF_NET_MAX (4 * 1024 * 1024)

typedef struct {
        char *netdev;
        char pf[HD_ADDRESS_STRLEN]; /* "" when the interface is not on an SR-IOV PF */
        int numvfs;
        GPtrArray *unsupported; /* char* */
        GArray *vfs;            /* HdVfNet */
} SimPf;

static void sim_pf_clear(SimPf *p)
{
        g_free(p->netdev);
        if (p->unsupported)
                g_ptr_array_unref(p->unsupported);
        if (p->vfs)
                g_array_unref(p->vfs);
}

static gboolean lacks(const SimPf *p, const char *what)
{
        for (guint i = 0; p->unsupported && i < p->unsupported->len; i++)
                if (strcmp(p->unsupported->pdata[i], what) == 0)
                        return TRUE;
        return FALSE;
}

static HdVfNet vf_default(guint index)
{
        HdVfNet v = {.index = index,
                     .has_mac = TRUE,
                     .spoofchk = 1,
                     .trust = 0,
                     .link_state = HD_VF_LINK_AUTO,
                     .has_rate = TRUE,
                     .vlan_proto = HD_VLAN_PROTO_8021Q};
        return v;
}

static char *state_path(const SimPf *p)
{
        return g_strdup_printf(SIM_VF_NET_DIR "/%s.json", p->pf);
}

static void load_vf(JsonObject *o, HdVfNet *v)
{
        const char *s;

        if ((s = json_object_get_string_member_with_default(o, "mac", NULL)))
                (void)hd_vf_net_parse_mac(s, v->mac);
        v->vlan = (guint)CLAMP(json_object_get_int_member_with_default(o, "vlan", 0), 0, 4095);
        v->qos = (guint)CLAMP(json_object_get_int_member_with_default(o, "qos", 0), 0, 7);
        s = json_object_get_string_member_with_default(o, "vlan_proto", "802.1Q");
        v->vlan_proto = g_strcmp0(s, "802.1ad") == 0 ? HD_VLAN_PROTO_8021AD : HD_VLAN_PROTO_8021Q;
        v->spoofchk = json_object_get_boolean_member_with_default(o, "spoofchk", TRUE);
        v->trust = json_object_get_boolean_member_with_default(o, "trust", FALSE);
        s = json_object_get_string_member_with_default(o, "link_state", "auto");
        if (!hd_vf_link_state_from_string(s, &v->link_state))
                v->link_state = HD_VF_LINK_AUTO;
        v->min_tx_rate = (guint)CLAMP(json_object_get_int_member_with_default(o, "min_tx_rate", 0),
                                      0, G_MAXUINT32);
        v->max_tx_rate = (guint)CLAMP(json_object_get_int_member_with_default(o, "max_tx_rate", 0),
                                      0, G_MAXUINT32);
}

/* The interface with @ifindex and its PF's state. */
static gboolean sim_pf_load(int root_fd, int ifindex, SimPf *p, int *err, GError **error)
{
        g_autoptr(GPtrArray) nets = hd_list_dir_at(root_fd, "sys/class/net", NULL);
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autofree char *numvfs = NULL;
        g_autoptr(JsonParser) parser = NULL;
        char buf[64];
        gint64 v;

        memset(p, 0, sizeof(*p));
        *err = 0;
        for (guint i = 0; nets && i < nets->len && !p->netdev; i++) {
                g_autofree char *f =
                    g_strdup_printf("sys/class/net/%s/ifindex", (char *)nets->pdata[i]);
                if (hd_read_attr_buf_at(root_fd, f, buf, sizeof(buf)) > 0 &&
                    hd_parse_int(g_strstrip(buf), 1, G_MAXINT32, &v) && v == ifindex)
                        p->netdev = g_strdup(nets->pdata[i]);
        }
        if (!p->netdev) {
                *err = ENODEV;
                return TRUE;
        }
        p->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
        p->unsupported = g_ptr_array_new_with_free_func(g_free);
        /* sys/class/net/<if> -> ../../devices/.../<pci address>/net/<if> */
        path = g_strdup_printf("sys/class/net/%s", p->netdev);
        {
                g_autofree char *target = hd_readlink_at(root_fd, path, NULL);
                g_auto(GStrv) parts = target ? g_strsplit(target, "/", -1) : NULL;
                guint n = parts ? g_strv_length(parts) : 0;
                if (n < 3 || strcmp(parts[n - 2], "net") != 0 ||
                    strlen(parts[n - 3]) >= sizeof(p->pf))
                        return TRUE; /* a virtual interface */
                g_strlcpy(buf, parts[n - 3], sizeof(buf));
        }
        g_free(path);
        path = g_strdup_printf("sys/bus/pci/devices/%s/sriov_numvfs", buf);
        numvfs = hd_read_attr_optional_at(root_fd, path);
        if (!numvfs || !hd_parse_int(g_strstrip(numvfs), 0, 65535, &v))
                return TRUE; /* not an SR-IOV PF */
        g_strlcpy(p->pf, buf, sizeof(p->pf));
        p->numvfs = (int)v;
        for (int i = 0; i < p->numvfs; i++) {
                HdVfNet d = vf_default((guint)i);
                g_array_append_val(p->vfs, d);
        }
        g_free(path);
        path = state_path(p);
        if (!hd_exists_at(root_fd, path, FALSE))
                return TRUE;
        if (!(text = hd_read_file_at(root_fd, path, SIM_VF_NET_MAX, error)))
                return FALSE;
        parser = json_parser_new();
        if (!json_parser_load_from_data(parser, text, -1, error) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
                g_prefix_error(error, "sim: /%s: ", path);
                if (error && !*error)
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "sim: /%s is not a JSON object", path);
                return FALSE;
        }
        {
                JsonObject *o = json_node_get_object(json_parser_get_root(parser));
                JsonNode *n = json_object_get_member(o, "unsupported");
                if (n && JSON_NODE_HOLDS_ARRAY(n)) {
                        JsonArray *a = json_node_get_array(n);
                        for (guint i = 0; i < json_array_get_length(a); i++) {
                                const char *s = json_node_get_string(json_array_get_element(a, i));
                                if (s)
                                        g_ptr_array_add(p->unsupported, g_strdup(s));
                        }
                }
                n = json_object_get_member(o, "vfs");
                if (n && JSON_NODE_HOLDS_ARRAY(n)) {
                        JsonArray *a = json_node_get_array(n);
                        for (guint i = 0; i < json_array_get_length(a) && i < p->vfs->len; i++) {
                                JsonNode *e = json_array_get_element(a, i);
                                if (JSON_NODE_HOLDS_OBJECT(e))
                                        load_vf(json_node_get_object(e),
                                                &g_array_index(p->vfs, HdVfNet, i));
                        }
                }
        }
        return TRUE;
}

static gboolean sim_pf_save(int root_fd, const SimPf *p, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *path = state_path(p);
        g_autofree char *text = NULL;
        g_autofree char *data = NULL;
        char buf[18];

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "unsupported");
        json_builder_begin_array(b);
        for (guint i = 0; i < p->unsupported->len; i++)
                json_builder_add_string_value(b, p->unsupported->pdata[i]);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "vfs");
        json_builder_begin_array(b);
        for (guint i = 0; i < p->vfs->len; i++) {
                const HdVfNet *v = &g_array_index(p->vfs, HdVfNet, i);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "mac");
                json_builder_add_string_value(b, hd_vf_net_format_mac(v->mac, buf));
                json_builder_set_member_name(b, "vlan");
                json_builder_add_int_value(b, v->vlan);
                json_builder_set_member_name(b, "qos");
                json_builder_add_int_value(b, v->qos);
                json_builder_set_member_name(b, "vlan_proto");
                json_builder_add_string_value(b, v->vlan_proto == HD_VLAN_PROTO_8021AD ? "802.1ad"
                                                                                       : "802.1Q");
                json_builder_set_member_name(b, "spoofchk");
                json_builder_add_boolean_value(b, v->spoofchk > 0);
                json_builder_set_member_name(b, "trust");
                json_builder_add_boolean_value(b, v->trust > 0);
                json_builder_set_member_name(b, "link_state");
                json_builder_add_string_value(b, hd_vf_link_state_to_string(v->link_state));
                json_builder_set_member_name(b, "min_tx_rate");
                json_builder_add_int_value(b, v->min_tx_rate);
                json_builder_set_member_name(b, "max_tx_rate");
                json_builder_add_int_value(b, v->max_tx_rate);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        json_generator_set_pretty(gen, TRUE);
        text = json_generator_to_data(gen, NULL);
        data = g_strconcat(text, "\n", NULL);
        return hd_mkdir_p_at(root_fd, SIM_VF_NET_DIR, 0755, error) &&
               hd_write_file_atomic_at(root_fd, path, data, -1, error);
}

/* ---------------------------------------------------------------- answers */

static void answer_error(GByteArray *reply, const struct nlmsghdr *req, int err)
{
        g_autoptr(GByteArray) m = hd_nl_msg_new(NLMSG_ERROR, 0, req->nlmsg_seq);
        struct nlmsgerr e = {.error = -err, .msg = *req};

        /* NETLINK_CAP_ACK: the request's header only */
        e.msg.nlmsg_len = sizeof(*req);
        hd_nl_msg_put(m, &e, sizeof(e));
        hd_nl_msg_finish(m);
        g_byte_array_append(reply, m->data, m->len);
}

static void answer_link(GByteArray *reply, const struct nlmsghdr *req, int ifindex, const SimPf *p,
                        gboolean with_vfs)
{
        g_autoptr(GByteArray) m = hd_nl_msg_new(RTM_NEWLINK, 0, req->nlmsg_seq);
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};

        hd_nl_msg_put(m, &ifi, sizeof(ifi));
        hd_nl_attr_put(m, IFLA_IFNAME, p->netdev, strlen(p->netdev) + 1);
        if (with_vfs && p->pf[0]) {
                guint32 n = (guint32)p->numvfs;
                gsize list;
                hd_nl_attr_put(m, IFLA_NUM_VF, &n, sizeof(n));
                list = hd_nl_nest_start(m, IFLA_VFINFO_LIST);
                for (guint i = 0; i < p->vfs->len; i++) {
                        const HdVfNet *v = &g_array_index(p->vfs, HdVfNet, i);
                        struct ifla_vf_mac mac = {.vf = i};
                        struct ifla_vf_broadcast bc;
                        struct ifla_vf_vlan vlan = {.vf = i, .vlan = v->vlan, .qos = v->qos};
                        struct ifla_vf_rate rate = {
                            .vf = i, .min_tx_rate = v->min_tx_rate, .max_tx_rate = v->max_tx_rate};
                        struct ifla_vf_tx_rate tx = {.vf = i, .rate = v->max_tx_rate};
                        struct ifla_vf_spoofchk sc = {
                            .vf = i,
                            .setting = lacks(p, "spoofchk") ? G_MAXUINT32 : (guint32)v->spoofchk};
                        struct ifla_vf_link_state ls = {.vf = i,
                                                        .link_state = (guint32)v->link_state};
                        struct ifla_vf_rss_query_en rss = {.vf = i, .setting = G_MAXUINT32};
                        struct ifla_vf_trust tr = {
                            .vf = i,
                            .setting = lacks(p, "trust") ? G_MAXUINT32 : (guint32)v->trust};
                        struct ifla_vf_vlan_info vi = {.vf = i,
                                                       .vlan = v->vlan,
                                                       .qos = v->qos,
                                                       .vlan_proto = htons(v->vlan_proto)};
                        gsize info = hd_nl_nest_start(m, IFLA_VF_INFO), vl;

                        memcpy(mac.mac, v->mac, 6);
                        memset(bc.broadcast, 0xff, 6);
                        memset(bc.broadcast + 6, 0, sizeof(bc.broadcast) - 6);
                        hd_nl_attr_put(m, IFLA_VF_MAC, &mac, sizeof(mac));
                        hd_nl_attr_put(m, IFLA_VF_BROADCAST, &bc, sizeof(bc));
                        hd_nl_attr_put(m, IFLA_VF_VLAN, &vlan, sizeof(vlan));
                        hd_nl_attr_put(m, IFLA_VF_RATE, &rate, sizeof(rate));
                        hd_nl_attr_put(m, IFLA_VF_TX_RATE, &tx, sizeof(tx));
                        hd_nl_attr_put(m, IFLA_VF_SPOOFCHK, &sc, sizeof(sc));
                        hd_nl_attr_put(m, IFLA_VF_LINK_STATE, &ls, sizeof(ls));
                        hd_nl_attr_put(m, IFLA_VF_RSS_QUERY_EN, &rss, sizeof(rss));
                        hd_nl_attr_put(m, IFLA_VF_TRUST, &tr, sizeof(tr));
                        vl = hd_nl_nest_start(m, IFLA_VF_VLAN_LIST);
                        hd_nl_attr_put(m, IFLA_VF_VLAN_INFO, &vi, sizeof(vi));
                        hd_nl_nest_end(m, vl);
                        hd_nl_nest_end(m, info);
                }
                hd_nl_nest_end(m, list);
        } else if (with_vfs) {
                guint32 n = 0;
                hd_nl_attr_put(m, IFLA_NUM_VF, &n, sizeof(n));
        }
        hd_nl_msg_finish(m);
        g_byte_array_append(reply, m->data, m->len);
}

/* ---------------------------------------------------------------- RTM_SETLINK */

static HdVfNet *vf_at(SimPf *p, guint32 vf)
{
        return vf < p->vfs->len ? &g_array_index(p->vfs, HdVfNet, vf) : NULL;
}

/* One IFLA_VF_INFO, in do_setvfinfo()'s order; the errno of the first refusal. */
static int set_vf_info(SimPf *p, HdNlSpan attrs)
{
        static const guint16 order[] = {IFLA_VF_MAC,        IFLA_VF_VLAN, IFLA_VF_VLAN_LIST,
                                        IFLA_VF_TX_RATE,    IFLA_VF_RATE, IFLA_VF_SPOOFCHK,
                                        IFLA_VF_LINK_STATE, IFLA_VF_TRUST};

        for (gsize k = 0; k < G_N_ELEMENTS(order); k++) {
                HdNlSpan rest = attrs, a;
                guint16 type;
                gboolean bad;

                while (hd_nl_attr_next(&rest, &type, &a, &bad)) {
                        HdVfNet *v;
                        if (type != order[k])
                                continue;
                        switch (type) {
                        case IFLA_VF_MAC: {
                                struct ifla_vf_mac m;
                                if (!hd_nl_get(&a, &m, sizeof(m)))
                                        return EINVAL;
                                if (!(v = vf_at(p, m.vf)) || (m.mac[0] & 1))
                                        return EINVAL;
                                if (lacks(p, "zero_mac") && !(m.mac[0] | m.mac[1] | m.mac[2] |
                                                              m.mac[3] | m.mac[4] | m.mac[5]))
                                        return EINVAL;
                                memcpy(v->mac, m.mac, 6);
                                break;
                        }
                        case IFLA_VF_VLAN: {
                                struct ifla_vf_vlan vl;
                                if (!hd_nl_get(&a, &vl, sizeof(vl)))
                                        return EINVAL;
                                if (vl.vlan > 4095 || vl.qos > 7 || !(v = vf_at(p, vl.vf)))
                                        return EINVAL;
                                v->vlan = vl.vlan;
                                v->qos = vl.qos;
                                v->vlan_proto = HD_VLAN_PROTO_8021Q;
                                break;
                        }
                        case IFLA_VF_VLAN_LIST: {
                                HdNlSpan list = a, item;
                                guint16 it;
                                gboolean ibad;
                                struct ifla_vf_vlan_info vi;
                                guint n = 0;
                                while (hd_nl_attr_next(&list, &it, &item, &ibad)) {
                                        if (it != IFLA_VF_VLAN_INFO ||
                                            !hd_nl_get(&item, &vi, sizeof(vi)))
                                                return EINVAL;
                                        if (++n > 1) /* MAX_VLAN_LIST_LEN */
                                                return EOPNOTSUPP;
                                }
                                if (ibad || n == 0)
                                        return EINVAL;
                                if (ntohs(vi.vlan_proto) != HD_VLAN_PROTO_8021Q &&
                                    ntohs(vi.vlan_proto) != HD_VLAN_PROTO_8021AD)
                                        return EPROTONOSUPPORT;
                                if (ntohs(vi.vlan_proto) == HD_VLAN_PROTO_8021AD &&
                                    lacks(p, "vlan_proto"))
                                        return EPROTONOSUPPORT;
                                if (vi.vlan > 4095 || vi.qos > 7 || !(v = vf_at(p, vi.vf)))
                                        return EINVAL;
                                v->vlan = vi.vlan;
                                v->qos = vi.qos;
                                v->vlan_proto = ntohs(vi.vlan_proto);
                                break;
                        }
                        case IFLA_VF_TX_RATE: {
                                struct ifla_vf_tx_rate t;
                                if (!hd_nl_get(&a, &t, sizeof(t)) || !(v = vf_at(p, t.vf)))
                                        return EINVAL;
                                if (lacks(p, "rate"))
                                        return EOPNOTSUPP;
                                v->max_tx_rate = t.rate;
                                break;
                        }
                        case IFLA_VF_RATE: {
                                struct ifla_vf_rate r;
                                if (!hd_nl_get(&a, &r, sizeof(r)) || !(v = vf_at(p, r.vf)))
                                        return EINVAL;
                                if (lacks(p, "rate"))
                                        return EOPNOTSUPP;
                                if (r.max_tx_rate && r.min_tx_rate > r.max_tx_rate)
                                        return EINVAL;
                                v->min_tx_rate = r.min_tx_rate;
                                v->max_tx_rate = r.max_tx_rate;
                                break;
                        }
                        case IFLA_VF_SPOOFCHK: {
                                struct ifla_vf_spoofchk s;
                                if (!hd_nl_get(&a, &s, sizeof(s)) || !(v = vf_at(p, s.vf)))
                                        return EINVAL;
                                if (lacks(p, "spoofchk"))
                                        return EOPNOTSUPP;
                                v->spoofchk = s.setting != 0;
                                break;
                        }
                        case IFLA_VF_LINK_STATE: {
                                struct ifla_vf_link_state l;
                                if (!hd_nl_get(&a, &l, sizeof(l)) || !(v = vf_at(p, l.vf)))
                                        return EINVAL;
                                if (lacks(p, "link_state"))
                                        return EOPNOTSUPP;
                                if (l.link_state > IFLA_VF_LINK_STATE_DISABLE)
                                        return EINVAL;
                                v->link_state = (HdVfLinkState)l.link_state;
                                break;
                        }
                        case IFLA_VF_TRUST: {
                                struct ifla_vf_trust t;
                                if (!hd_nl_get(&a, &t, sizeof(t)) || !(v = vf_at(p, t.vf)))
                                        return EINVAL;
                                if (lacks(p, "trust"))
                                        return EOPNOTSUPP;
                                v->trust = t.setting != 0;
                                break;
                        }
                        }
                }
                if (bad)
                        return EINVAL;
        }
        return 0;
}

static int setlink(SimPf *p, HdNlSpan attrs, gboolean *changed)
{
        HdNlSpan a;
        guint16 type;
        gboolean bad;

        while (hd_nl_attr_next(&attrs, &type, &a, &bad)) {
                HdNlSpan list = a, item;
                guint16 it;
                gboolean ibad;

                if (type != IFLA_VFINFO_LIST)
                        continue; /* the fake knows VF settings only */
                if (!p->pf[0])
                        return EOPNOTSUPP;
                while (hd_nl_attr_next(&list, &it, &item, &ibad)) {
                        int err;
                        if (it != IFLA_VF_INFO)
                                return EINVAL;
                        *changed = TRUE;
                        if ((err = set_vf_info(p, item)))
                                return err;
                }
                if (ibad)
                        return EINVAL;
        }
        return bad ? EINVAL : 0;
}

static gboolean sim_transact(HdCtx *ctx, int root_fd, const guint8 *req, gsize len,
                             GByteArray *reply, GError **error)
{
        HdNlSpan rest = {req, len}, payload, attrs, a;
        struct nlmsghdr h;
        struct ifinfomsg ifi;
        guint16 type, flags, atype;
        guint32 seq, mask = 0;
        gboolean bad, changed = FALSE;
        SimPf p;
        int err;

        if (!hd_nl_msg_next(&rest, &type, &flags, &seq, &payload, &bad)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "sim netlink: no request");
                return FALSE;
        }
        memcpy(&h, req, sizeof(h));
        if ((type != RTM_GETLINK && type != RTM_SETLINK) ||
            !hd_nl_get(&payload, &ifi, sizeof(ifi))) {
                answer_error(reply, &h,
                             type == RTM_GETLINK || type == RTM_SETLINK ? EINVAL : EOPNOTSUPP);
                return TRUE;
        }
        attrs.data = payload.data + NLMSG_ALIGN(sizeof(ifi));
        attrs.len = payload.len - MIN(payload.len, (gsize)NLMSG_ALIGN(sizeof(ifi)));
        if (!sim_pf_load(root_fd, ifi.ifi_index, &p, &err, error))
                return FALSE;
        if (err) {
                answer_error(reply, &h, err);
                sim_pf_clear(&p);
                return TRUE;
        }
        if (type == RTM_GETLINK) {
                HdNlSpan r = attrs;
                while (hd_nl_attr_next(&r, &atype, &a, &bad))
                        if (atype == IFLA_EXT_MASK)
                                (void)hd_nl_get(&a, &mask, sizeof(mask));
                answer_link(reply, &h, ifi.ifi_index, &p, (mask & RTEXT_FILTER_VF) != 0);
                sim_pf_clear(&p);
                return TRUE;
        }
        err = setlink(&p, attrs, &changed);
        if (changed && !sim_pf_save(root_fd, &p, error)) {
                sim_pf_clear(&p);
                return FALSE;
        }
        if (err || (flags & NLM_F_ACK))
                answer_error(reply, &h, err);
        sim_pf_clear(&p);
        return TRUE;
}

const HdNetlinkOps hd_netlink_sim = {
    .name = "sim",
    .transact = sim_transact,
};
