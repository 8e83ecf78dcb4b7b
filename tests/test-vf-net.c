/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Issue 16 item 2: VF network settings over rtnetlink on the PF (vf-net.h), against the sim's
 * fake kernel (netlink-sim.c) on the sriov-nic fixture, the reply parser against hostile bytes,
 * the real NETLINK_ROUTE transport on this machine's loopback (a read), and the CLI:
 * `hostdev sriov`, `hostdev sriov-vf`, `hostdev xml --interface`.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "netlink.h"
#include "testlib.h"

#define ICE "0000:01:00.0" /* ens1f0, 4 VFs at 01:01.0-3, vf_settings in the topology */
#define ICE_VF0 "0000:01:01.0"
#define ICE_VF2 "0000:01:01.2"
#define IGB "0000:02:00.0" /* enp2s0f0, 2 VFs at 02:10.0 and 02:10.2 (stride 2): no trust */
#define IGB_VF0 "0000:02:10.0"
#define IGB_VF1 "0000:02:10.2"
#define NVME "0000:03:00.0" /* not a NIC: VFs 03:00.1, 03:00.2 */
#define NVME_VF "0000:03:00.1"
#define ICE_STATE "var/lib/hostdev-sim/vf-net/" ICE ".json"

static HdTestFixture *fixture(void)
{
        return hd_test_fixture_new("sriov-nic");
}

static HdVfNetInfo *read_pf(HdCtx *ctx, const char *pf)
{
        HdAddress a = hd_test_address(pf);
        g_autoptr(GError) error = NULL;
        HdVfNetInfo *info = hd_vf_net_read(ctx, &a, &error);

        g_assert_no_error(error);
        g_assert_nonnull(info);
        return info;
}

static HdVfNet read_vf(HdCtx *ctx, const char *pf, guint index)
{
        g_autoptr(HdVfNetInfo) info = read_pf(ctx, pf);
        const HdVfNet *v = hd_vf_net_info_get(info, index);

        g_assert_nonnull(v);
        return *v;
}

static char *mac_of(const HdVfNet *v)
{
        char buf[18];

        return g_strdup(hd_vf_net_format_mac(v->mac, buf));
}

static guint count_netlink_writes(HdCtx *ctx)
{
        const GPtrArray *log = hd_ctx_get_write_log(ctx);
        guint n = 0;

        for (guint i = 0; i < log->len; i++)
                n += ((const HdCtxWrite *)log->pdata[i])->op == HD_BACKEND_OP_NETLINK;
        return n;
}

static char *read_tree_file(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return text;
}

/* The raw RTM_GETLINK answer for @pf's netdev (a fixed seq, so two answers compare byte for
 * byte). */
static GBytes *raw_getlink(HdCtx *ctx, const HdTestFixture *fx, const char *netdev)
{
        g_autofree char *rel = g_strdup_printf("sys/class/net/%s/ifindex", netdev);
        g_autofree char *s = read_tree_file(fx, rel);
        g_autoptr(GByteArray) req = hd_nl_msg_new(RTM_GETLINK, NLM_F_REQUEST, 4242);
        g_autoptr(GByteArray) reply = g_byte_array_new();
        g_autoptr(GError) error = NULL;
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
        guint32 mask = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS;

        g_assert_nonnull(s);
        ifi.ifi_index = atoi(s);
        hd_nl_msg_put(req, &ifi, sizeof(ifi));
        hd_nl_attr_put(req, IFLA_EXT_MASK, &mask, sizeof(mask));
        hd_nl_msg_finish(req);
        g_assert_true(hd_ctx_netlink(ctx, netdev, NULL, req->data, req->len, reply, &error));
        g_assert_no_error(error);
        return g_bytes_new(reply->data, reply->len);
}

/* ---------------------------------------------------------------- reading */

static void test_read(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(HdVfNetInfo) ice = read_pf(ctx, ICE);
        g_autoptr(HdVfNetInfo) igb = read_pf(ctx, IGB);
        const HdVfNet *v;
        g_autofree char *mac = NULL;

        g_assert_true(hd_ctx_get_netlink_ops(ctx) == &hd_netlink_sim);
        g_assert_cmpstr(ice->netdev, ==, "ens1f0");
        g_assert_cmpstr(ice->pf, ==, ICE);
        g_assert_cmpint(ice->num_vfs, ==, 4);
        g_assert_cmpuint(ice->vfs->len, ==, 4);
        v = hd_vf_net_info_get(ice, 0);
        mac = mac_of(v);
        g_assert_cmpstr(mac, ==, "52:54:00:aa:00:01");
        g_assert_cmpuint(v->vlan, ==, 100);
        g_assert_cmpuint(v->qos, ==, 3);
        g_assert_cmpuint(v->vlan_proto, ==, HD_VLAN_PROTO_8021Q);
        g_assert_cmpint(v->spoofchk, ==, 1);
        g_assert_cmpint(v->trust, ==, 0);
        g_assert_cmpint(v->link_state, ==, HD_VF_LINK_AUTO);
        v = hd_vf_net_info_get(ice, 1);
        g_assert_cmpint(v->spoofchk, ==, 0);
        g_assert_cmpint(v->trust, ==, 1);
        v = hd_vf_net_info_get(ice, 2);
        g_assert_true(v->has_mac);
        g_assert_cmpuint(v->mac[0] | v->mac[1] | v->mac[5], ==, 0); /* igb-like default */
        g_assert_cmpuint(v->vlan, ==, 0);
        v = hd_vf_net_info_get(ice, 3);
        g_assert_cmpint(v->link_state, ==, HD_VF_LINK_DISABLE);
        g_assert_true(v->has_rate);
        g_assert_cmpuint(v->max_tx_rate, ==, 1000);
        g_assert_null(hd_vf_net_info_get(ice, 4));

        /* a driver without trust reports the kernel's -1 */
        g_assert_cmpstr(igb->netdev, ==, "enp2s0f0");
        g_assert_cmpuint(igb->vfs->len, ==, 2);
        g_assert_cmpint(hd_vf_net_info_get(igb, 0)->trust, ==, -1);
        g_assert_cmpint(hd_vf_net_info_get(igb, 0)->spoofchk, ==, 1);
        /* reading writes nothing */
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

static void test_not_a_nic(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress nvme = hd_test_address(NVME);
        HdVfNetSettings s = {.has_vlan = TRUE, .vlan = 5};

        g_assert_null(hd_vf_net_read(ctx, &nvme, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
        g_assert_nonnull(strstr(error->message, NVME " is not a network adapter"));
        g_assert_nonnull(strstr(error->message, "class 010802"));
        g_clear_error(&error);
        g_assert_false(hd_vf_net_set(ctx, &nvme, 0, &s, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
}

static void test_resolve(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress a, pf;
        char name[HD_ADDRESS_STRLEN];
        guint index = 99;

        a = hd_test_address(ICE_VF2);
        g_assert_true(hd_vf_net_resolve_vf(ctx, &a, &pf, &index, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(hd_address_format(&pf, name), ==, ICE);
        g_assert_cmpuint(index, ==, 2);
        a = hd_test_address(IGB_VF1); /* stride 2: 02:10.2 is VF 1 */
        g_assert_true(hd_vf_net_resolve_vf(ctx, &a, &pf, &index, &error));
        g_assert_cmpstr(hd_address_format(&pf, name), ==, IGB);
        g_assert_cmpuint(index, ==, 1);
        a = hd_test_address(ICE);
        g_assert_false(hd_vf_net_resolve_vf(ctx, &a, &pf, &index, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "not an SR-IOV virtual function"));
}

/* ---------------------------------------------------------------- setting */

typedef struct {
        const char *name;
        HdVfNetSettings s;
        const char *change; /* the write log's line */
} FieldCase;

static void test_set_each_field(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        HdAddress pf = hd_test_address(ICE);
        const FieldCase cases[] = {
            {"mac",
             {.has_mac = TRUE, .mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56}},
             "ip link set dev ens1f0 vf 2 mac 52:54:00:12:34:56"},
            {"vlan",
             {.has_vlan = TRUE, .vlan = 200, .qos = 5},
             "ip link set dev ens1f0 vf 2 vlan 200 qos 5"},
            {"vlan 802.1ad",
             {.has_vlan = TRUE, .vlan = 300, .vlan_proto = HD_VLAN_PROTO_8021AD},
             "ip link set dev ens1f0 vf 2 vlan 300 qos 0 proto 802.1ad"},
            {"spoofchk",
             {.has_spoofchk = TRUE, .spoofchk = FALSE},
             "ip link set dev ens1f0 vf 2 spoofchk off"},
            {"trust", {.has_trust = TRUE, .trust = TRUE}, "ip link set dev ens1f0 vf 2 trust on"},
            {"link",
             {.has_link_state = TRUE, .link_state = HD_VF_LINK_ENABLE},
             "ip link set dev ens1f0 vf 2 state enable"},
            {"rate",
             {.has_rate = TRUE, .min_tx_rate = 100, .max_tx_rate = 2000},
             "ip link set dev ens1f0 vf 2 min_tx_rate 100 max_tx_rate 2000"},
            {"clear mac",
             {.has_mac = TRUE, .clear_mac = TRUE},
             "ip link set dev ens1f0 vf 2 mac 00:00:00:00:00:00"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                const FieldCase *c = &cases[i];
                g_autoptr(GError) error = NULL;
                const GPtrArray *log = hd_ctx_get_write_log(ctx);
                guint before = log->len, n = 99;
                const HdCtxWrite *w;
                HdVfNet v;
                g_autofree char *line = NULL;

                g_test_message("%s", c->name);
                g_assert_true(hd_vf_net_set(ctx, &pf, 2, &c->s, &n, &error));
                g_assert_no_error(error);
                g_assert_cmpuint(n, ==, 1);
                g_assert_cmpuint(log->len, ==, before + 1);
                w = log->pdata[before];
                g_assert_cmpint(w->op, ==, HD_BACKEND_OP_NETLINK);
                g_assert_cmpstr(w->path, ==, "ens1f0");
                g_assert_cmpstr(w->value, ==, c->change);
                line = hd_ctx_write_describe(w);
                g_assert_true(g_str_has_prefix(line, "netlink: ip link set"));

                v = read_vf(ctx, ICE, 2);
                if (c->s.has_mac)
                        g_assert_cmpmem(v.mac, 6, c->s.mac, 6);
                if (c->s.has_vlan) {
                        g_assert_cmpuint(v.vlan, ==, c->s.vlan);
                        g_assert_cmpuint(v.qos, ==, c->s.qos);
                        g_assert_cmpuint(v.vlan_proto, ==,
                                         c->s.vlan_proto ? c->s.vlan_proto : HD_VLAN_PROTO_8021Q);
                }
                if (c->s.has_spoofchk)
                        g_assert_cmpint(v.spoofchk, ==, c->s.spoofchk);
                if (c->s.has_trust)
                        g_assert_cmpint(v.trust, ==, c->s.trust);
                if (c->s.has_link_state)
                        g_assert_cmpint(v.link_state, ==, c->s.link_state);
                if (c->s.has_rate) {
                        g_assert_cmpuint(v.min_tx_rate, ==, c->s.min_tx_rate);
                        g_assert_cmpuint(v.max_tx_rate, ==, c->s.max_tx_rate);
                }
                /* asked again: already so, nothing written */
                g_assert_true(hd_vf_net_set(ctx, &pf, 2, &c->s, &n, &error));
                g_assert_cmpuint(n, ==, 0);
                g_assert_cmpuint(log->len, ==, before + 1);
        }
        /* the other VFs were not touched */
        {
                HdVfNet v0 = read_vf(ctx, ICE, 0);
                g_autofree char *mac = mac_of(&v0);
                g_assert_cmpstr(mac, ==, "52:54:00:aa:00:01");
                g_assert_cmpuint(v0.vlan, ==, 100);
        }
}

static void test_set_several_one_request_each(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress pf = hd_test_address(ICE);
        HdVfNetSettings s = {.has_mac = TRUE,
                             .mac = {0x02, 0, 0, 0, 0, 0x22},
                             .has_vlan = TRUE,
                             .vlan = 9,
                             .has_trust = TRUE,
                             .trust = TRUE};
        guint n = 0;

        g_assert_true(hd_vf_net_set(ctx, &pf, 3, &s, &n, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(n, ==, 3);
        g_assert_cmpuint(count_netlink_writes(ctx), ==, 3);
}

static void test_validation(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        HdAddress pf = hd_test_address(ICE);
        g_autofree char *before = read_tree_file(fx, ICE_STATE);
        const struct {
                HdVfNetSettings s;
                guint index;
                const char *says;
        } cases[] = {
            {{.has_mac = TRUE, .mac = {0x01, 0, 0x5e, 0, 0, 1}}, 0, "multicast"},
            {{.has_mac = TRUE}, 0, "00:00:00:00:00:00 is no address"},
            {{.has_mac = TRUE, .clear_mac = TRUE, .mac = {0x52}}, 0, "a MAC to clear"},
            {{.has_vlan = TRUE, .vlan = 4096}, 0, "VLAN 4096 is out of range"},
            {{.has_vlan = TRUE, .vlan = 10, .qos = 8}, 0, "QoS 8 is out of range"},
            {{.has_vlan = TRUE, .vlan = 0, .qos = 2}, 0, "go with a VLAN"},
            {{.has_vlan = TRUE, .vlan = 10, .vlan_proto = 0x9100}, 0, "802.1Q or 802.1ad"},
            {{.has_link_state = TRUE, .link_state = 7}, 0, "auto, enable or disable"},
            {{.has_rate = TRUE, .min_tx_rate = 500, .max_tx_rate = 100}, 0, "above"},
            {{.has_vlan = TRUE, .vlan = 10}, 4, "4 VFs enabled, so there is no VF 4"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_test_message("%s", cases[i].says);
                g_assert_false(hd_vf_net_set(ctx, &pf, cases[i].index, &cases[i].s, NULL, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, cases[i].says));
        }
        g_assert_cmpuint(hd_ctx_get_write_log(ctx)->len, ==, 0);
        {
                g_autofree char *after = read_tree_file(fx, ICE_STATE);
                g_assert_cmpstr(after, ==, before);
        }
}

static void test_unsupported_trust_undoes(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress pf = hd_test_address(IGB);
        HdVfNetSettings s = {
            .has_mac = TRUE, .mac = {0x52, 0x54, 0, 0, 0, 7}, .has_trust = TRUE, .trust = TRUE};
        const GPtrArray *log = hd_ctx_get_write_log(ctx);
        HdVfNet v;

        g_assert_false(hd_vf_net_set(ctx, &pf, 0, &s, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
        g_assert_nonnull(strstr(error->message, "cannot set the trust of VF 0 of " IGB));
        g_assert_nonnull(strstr(error->message, "EOPNOTSUPP"));
        g_assert_nonnull(strstr(error->message, "were set back"));
        /* mac, trust (refused), mac back */
        g_assert_cmpuint(log->len, ==, 3);
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[0])->value, ==,
                        "ip link set dev enp2s0f0 vf 0 mac 52:54:00:00:00:07");
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[1])->value, ==,
                        "ip link set dev enp2s0f0 vf 0 trust on");
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[2])->value, ==,
                        "ip link set dev enp2s0f0 vf 0 mac 00:00:00:00:00:00");
        v = read_vf(ctx, IGB, 0);
        g_assert_cmpuint(v.mac[5], ==, 0);
        g_assert_cmpint(v.trust, ==, -1);
        /* link state: also absent from igb */
        g_clear_error(&error);
        {
                HdVfNetSettings l = {.has_link_state = TRUE, .link_state = HD_VF_LINK_DISABLE};
                g_assert_false(hd_vf_net_set(ctx, &pf, 1, &l, NULL, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED);
        }
}

static void test_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress pf = hd_test_address(ICE);
        HdVfNetSettings s = {
            .has_mac = TRUE, .mac = {0x52, 0x54, 0, 1, 2, 3}, .has_vlan = TRUE, .vlan = 42};
        g_autofree char *before = read_tree_file(fx, ICE_STATE);
        g_autofree char *after = NULL;
        guint n = 0;
        HdVfNet v;

        hd_ctx_set_dry_run(ctx, TRUE);
        g_assert_true(hd_vf_net_set(ctx, &pf, 2, &s, &n, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpuint(count_netlink_writes(ctx), ==, 2);
        after = read_tree_file(fx, ICE_STATE);
        g_assert_cmpstr(after, ==, before);
        v = read_vf(ctx, ICE, 2);
        g_assert_cmpuint(v.vlan, ==, 0);
        g_assert_cmpuint(v.mac[0], ==, 0);
}

/* ---------------------------------------------------------------- save and restore */

static void test_save_restore(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress vf = hd_test_address(ICE_VF0), pf = hd_test_address(ICE);
        g_autofree char *saved_rel = hd_vf_net_saved_path(&pf, 0);
        g_autofree char *saved = NULL;
        g_autoptr(GBytes) before = raw_getlink(ctx, fx, "ens1f0");
        g_autoptr(GBytes) during = NULL;
        g_autoptr(GBytes) after = NULL;
        HdVfNetSettings vm = {
            .has_mac = TRUE, .mac = {0x52, 0x54, 0, 0xbb, 0, 1}, .has_vlan = TRUE, .vlan = 7};
        HdVfNet v;

        g_assert_cmpstr(saved_rel, ==, "var/lib/hostdev/vf-net/" ICE "_vf0.json");
        g_assert_true(hd_vf_net_save(ctx, &vf, &vm, &error));
        g_assert_no_error(error);
        saved = read_tree_file(fx, saved_rel);
        g_assert_nonnull(saved);
        g_assert_nonnull(strstr(saved, "\"mac\" : \"52:54:00:aa:00:01\""));
        g_assert_nonnull(strstr(saved, "\"vlan\" : 100"));
        v = read_vf(ctx, ICE, 0);
        g_assert_cmpuint(v.vlan, ==, 7);
        g_assert_cmpuint(v.qos, ==, 0);
        g_assert_cmpuint(v.mac[3], ==, 0xbb);
        during = raw_getlink(ctx, fx, "ens1f0");
        g_assert_false(g_bytes_equal(before, during));

        /* a second save keeps the host's settings, not the VM's */
        g_assert_true(hd_vf_net_save(ctx, &vf, NULL, &error));
        {
                g_autofree char *again = read_tree_file(fx, saved_rel);
                g_assert_cmpstr(again, ==, saved);
        }

        g_assert_true(hd_vf_net_restore(ctx, &vf, &error));
        g_assert_no_error(error);
        after = raw_getlink(ctx, fx, "ens1f0");
        g_assert_true(g_bytes_equal(before, after)); /* byte for byte what the PF said */
        g_assert_null(read_tree_file(fx, saved_rel));
        /* nothing saved: nothing to do */
        g_assert_true(hd_vf_net_restore(ctx, &vf, &error));
        g_assert_no_error(error);
}

static void test_save_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress vf = hd_test_address(ICE_VF0), pf = hd_test_address(ICE);
        g_autofree char *saved_rel = hd_vf_net_saved_path(&pf, 0);
        g_autofree char *before = read_tree_file(fx, ICE_STATE);
        g_autofree char *after = NULL;
        HdVfNetSettings vm = {.has_vlan = TRUE, .vlan = 7};
        const GPtrArray *log = hd_ctx_get_write_log(ctx);

        hd_ctx_set_dry_run(ctx, TRUE);
        g_assert_true(hd_vf_net_save(ctx, &vf, &vm, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(log->len, ==, 2);
        g_assert_cmpint(((HdCtxWrite *)log->pdata[0])->op, ==, HD_BACKEND_OP_REPLACE_FILE);
        g_assert_cmpstr(((HdCtxWrite *)log->pdata[0])->path, ==, saved_rel);
        g_assert_cmpint(((HdCtxWrite *)log->pdata[1])->op, ==, HD_BACKEND_OP_NETLINK);
        g_assert_null(read_tree_file(fx, saved_rel));
        after = read_tree_file(fx, ICE_STATE);
        g_assert_cmpstr(after, ==, before);
}

static void test_restore_zero_mac_refused(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *state = hd_test_path(fx, "var/lib/hostdev-sim/vf-net/" IGB ".json");
        HdAddress vf = hd_test_address(IGB_VF1), pf = hd_test_address(IGB);
        g_autofree char *saved_rel = hd_vf_net_saved_path(&pf, 1);
        HdVfNetSettings vm = {.has_mac = TRUE,
                              .mac = {0x52, 0x54, 0, 0xcc, 0, 2},
                              .has_vlan = TRUE,
                              .vlan = 11,
                              .qos = 1};
        HdVfNet v;

        /* an old igb: a zero MAC cannot be set again (VDSM's zero-MAC problem) */
        g_assert_true(g_file_set_contents(
            state, "{\"unsupported\": [\"trust\", \"link_state\", \"zero_mac\"]}\n", -1, NULL));
        g_assert_true(hd_vf_net_save(ctx, &vf, &vm, &error));
        g_assert_no_error(error);
        g_assert_true(hd_vf_net_restore(ctx, &vf, &error));
        g_assert_no_error(error);
        v = read_vf(ctx, IGB, 1);
        g_assert_cmpuint(v.mac[3], ==, 0xcc); /* kept, with a warning */
        g_assert_cmpuint(v.vlan, ==, 0);      /* the rest restored */
        g_assert_cmpuint(v.qos, ==, 0);
        g_assert_null(read_tree_file(fx, saved_rel));
}

static void test_restore_hostile_file(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress vf = hd_test_address(ICE_VF2), pf = hd_test_address(ICE);
        g_autofree char *saved_rel = hd_vf_net_saved_path(&pf, 2);
        g_autofree char *saved = hd_test_path(fx, saved_rel);
        g_autofree char *dir = g_path_get_dirname(saved);
        g_autofree char *quarantined = NULL;
        const char *const bad[] = {
            "{\"pf\": \"" ICE "\", \"vf\": 2, \"mac\": \"01:00:5e:00:00:01\"}",
            "{\"pf\": \"0000:99:00.0\", \"vf\": 2}",
            "{\"pf\": \"" ICE "\", \"vf\": 2, \"vlan\": 9999}",
            "{\"pf\": \"" ICE "\", \"vf\": 2, \"vf\": 3}",
            "not json",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GPtrArray) q = NULL;
                g_test_message("%s", bad[i]);
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                g_assert_true(g_file_set_contents(saved, bad[i], -1, NULL));
                g_assert_false(hd_vf_net_restore(ctx, &vf, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
                g_assert_nonnull(strstr(error->message, "quarantine"));
                g_clear_error(&error);
                g_assert_false(g_file_test(saved, G_FILE_TEST_EXISTS));
        }
        quarantined = g_build_filename(dir, "quarantine", NULL);
        g_assert_true(g_file_test(quarantined, G_FILE_TEST_IS_DIR));
        g_assert_cmpuint(count_netlink_writes(ctx), ==, 0);
}

/* ---------------------------------------------------------------- the reply parser */

/* A valid answer from the fake, then every truncation, and damaged lengths: never a crash,
 * a truncated answer is refused unless it ends at an attribute boundary of the message. */
static void test_parser_hostile(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GBytes) good = raw_getlink(ctx, fx, "ens1f0");
        gsize len;
        const guint8 *data = g_bytes_get_data(good, &len);
        g_autofree guint8 *copy = g_memdup2(data, len);

        {
                g_autoptr(HdVfNetInfo) info = g_new0(HdVfNetInfo, 1);
                g_autoptr(GError) error = NULL;
                info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
                g_assert_true(hd_vf_net_parse_reply(data, len, info, &error));
                g_assert_cmpuint(info->vfs->len, ==, 4);
        }
        for (gsize cut = 0; cut < len; cut++) {
                g_autoptr(HdVfNetInfo) info = g_new0(HdVfNetInfo, 1);
                g_autoptr(GError) error = NULL;
                g_autofree guint8 *part = g_memdup2(data, cut);
                info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
                /* nlmsg_len says more than there is: always refused */
                g_assert_false(hd_vf_net_parse_reply(part, cut, info, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        }
        /* every 16-bit length field of the answer made too large, then too small */
        for (gsize off = 0; off + 2 <= len; off += 2) {
                for (int k = 0; k < 3; k++) {
                        g_autoptr(HdVfNetInfo) info = g_new0(HdVfNetInfo, 1);
                        g_autoptr(GError) error = NULL;
                        guint16 v = k == 0 ? 0xffff : k == 1 ? 3 : 5;
                        memcpy(copy, data, len);
                        memcpy(copy + off, &v, 2);
                        info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
                        (void)hd_vf_net_parse_reply(copy, len, info, &error);
                        g_assert_cmpuint(info->vfs->len, <=, 4);
                }
        }
        /* an IFLA_VF_MAC shorter than struct ifla_vf_mac */
        {
                g_autoptr(GByteArray) m = hd_nl_msg_new(RTM_NEWLINK, 0, 1);
                struct ifinfomsg ifi = {.ifi_index = 3};
                guint32 vf = 0;
                gsize list, info_nest;
                g_autoptr(HdVfNetInfo) info = g_new0(HdVfNetInfo, 1);
                g_autoptr(GError) error = NULL;
                hd_nl_msg_put(m, &ifi, sizeof(ifi));
                list = hd_nl_nest_start(m, IFLA_VFINFO_LIST);
                info_nest = hd_nl_nest_start(m, IFLA_VF_INFO);
                hd_nl_attr_put(m, IFLA_VF_MAC, &vf, sizeof(vf));
                hd_nl_nest_end(m, info_nest);
                hd_nl_nest_end(m, list);
                hd_nl_msg_finish(m);
                info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
                g_assert_false(hd_vf_net_parse_reply(m->data, m->len, info, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
                g_assert_nonnull(strstr(error->message, "short IFLA_VF_MAC"));
        }
        /* the kernel's refusal is an errno */
        {
                g_autoptr(GByteArray) m = hd_nl_msg_new(NLMSG_ERROR, 0, 1);
                struct nlmsgerr e = {.error = -EPERM};
                g_autoptr(HdVfNetInfo) info = g_new0(HdVfNetInfo, 1);
                g_autoptr(GError) error = NULL;
                hd_nl_msg_put(m, &e, sizeof(e));
                hd_nl_msg_finish(m);
                info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
                g_assert_false(hd_vf_net_parse_reply(m->data, m->len, info, &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
                g_assert_cmpint(hd_vf_net_parse_ack(m->data, m->len, NULL, NULL), ==, EPERM);
                g_assert_cmpint(hd_vf_net_parse_ack(m->data, 20, NULL, NULL), ==, -1);
        }
}

/* An extended ACK (NETLINK_EXT_ACK, NETLINK_CAP_ACK): the kernel's message, made printable;
 * a message attribute that runs past the answer is not read. */
static void test_parser_extack(void)
{
        const char text[] = "VF 3 cannot\x01 do that";
        for (int cut = 0; cut < 2; cut++) {
                g_autoptr(GByteArray) m =
                    hd_nl_msg_new(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 1);
                struct nlmsgerr e = {.error = -EINVAL, .msg = {.nlmsg_len = 64}};
                g_autofree char *message = NULL;
                hd_nl_msg_put(m, &e, sizeof(e));
                hd_nl_attr_put(m, NLMSGERR_ATTR_MSG, text, sizeof(text));
                hd_nl_msg_finish(m);
                if (cut) {
                        /* the attribute claims more than the message holds */
                        guint16 big = 200;
                        memcpy(m->data + sizeof(struct nlmsghdr) + sizeof(e), &big, 2);
                }
                g_assert_cmpint(hd_vf_net_parse_ack(m->data, m->len, &message, NULL), ==, EINVAL);
                if (cut)
                        g_assert_null(message);
                else
                        g_assert_cmpstr(message, ==, "VF 3 cannot? do that");
        }
}

/* ---------------------------------------------------------------- the real transport */

/* RTM_GETLINK of this machine's loopback (ifindex 1) over a NETLINK_ROUTE socket: a read,
 * nothing is changed; then an interface that does not exist is the kernel's ENODEV. */
static void test_real_transport(void)
{
        const guint32 mask = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS;
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
        g_autoptr(GByteArray) req = hd_nl_msg_new(RTM_GETLINK, NLM_F_REQUEST, 77);
        g_autoptr(GByteArray) reply = g_byte_array_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVfNetInfo) info = g_new0(HdVfNetInfo, 1);

        hd_nl_msg_put(req, &ifi, sizeof(ifi));
        hd_nl_attr_put(req, IFLA_EXT_MASK, &mask, sizeof(mask));
        hd_nl_msg_finish(req);
        g_assert_true(hd_netlink_real.transact(NULL, -1, req->data, req->len, reply, &error));
        g_assert_no_error(error);
        info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
        g_assert_true(hd_vf_net_parse_reply(reply->data, reply->len, info, &error));
        g_assert_no_error(error);
        g_assert_cmpint(info->ifindex, ==, 1);
        g_assert_cmpuint(info->vfs->len, ==, 0);

        g_byte_array_set_size(reply, 0);
        g_byte_array_set_size(req, 0);
        g_byte_array_unref(req);
        req = hd_nl_msg_new(RTM_GETLINK, NLM_F_REQUEST, 78);
        ifi.ifi_index = 0x7ffffff0;
        hd_nl_msg_put(req, &ifi, sizeof(ifi));
        hd_nl_msg_finish(req);
        g_assert_true(hd_netlink_real.transact(NULL, -1, req->data, req->len, reply, &error));
        g_assert_false(hd_vf_net_parse_reply(reply->data, reply->len, info, &error));
        g_assert_true(error->domain == G_IO_ERROR);
        g_assert_nonnull(strstr(error->message, "ENODEV"));
        g_clear_error(&error);

        /* the real backend on a tree: this machine's netlink is not the tree's */
        {
                g_autoptr(HdTestFixture) fx = fixture();
                g_autoptr(HdCtx) ctx = hd_ctx_new(fx->root, HD_BACKEND_REAL, &error);
                HdAddress pf = hd_test_address(ICE);
                g_assert_no_error(error);
                g_assert_true(hd_ctx_get_netlink_ops(ctx) == &hd_netlink_real);
                g_assert_null(hd_vf_net_read(ctx, &pf, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
                g_assert_nonnull(strstr(error->message, "use --backend sim"));
        }
}

/* ---------------------------------------------------------------- <interface type='hostdev'> */

static void test_interface_xml(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        HdAddress vf = hd_test_address(IGB_VF0);
        const guint8 mac[6] = {0x52, 0x54, 0, 0, 0, 9};
        g_autofree char *xml = hd_vf_net_interface_xml(ctx, &vf, mac, 42, FALSE, 2, &error);
        g_autofree char *plain = NULL;

        g_assert_no_error(error);
        g_assert_cmpstr(xml, ==,
                        "  <interface type='hostdev' managed='no'>\n"
                        "    <source>\n"
                        "      <address type='pci' domain='0x0000' bus='0x02' slot='0x10' "
                        "function='0x0'/>\n"
                        "    </source>\n"
                        "    <mac address='52:54:00:00:00:09'/>\n"
                        "    <vlan>\n"
                        "      <tag id='42'/>\n"
                        "    </vlan>\n"
                        "  </interface>\n");
        plain = hd_vf_net_interface_xml(ctx, &vf, NULL, -1, TRUE, 0, &error);
        g_assert_cmpstr(plain, ==,
                        "<interface type='hostdev' managed='yes'>\n"
                        "  <source>\n"
                        "    <address type='pci' domain='0x0000' bus='0x02' slot='0x10' "
                        "function='0x0'/>\n"
                        "  </source>\n"
                        "</interface>\n");

        vf = hd_test_address(ICE);
        g_assert_null(hd_vf_net_interface_xml(ctx, &vf, NULL, -1, FALSE, 0, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "VFs only"));
        g_clear_error(&error);
        vf = hd_test_address(NVME_VF);
        g_assert_null(hd_vf_net_interface_xml(ctx, &vf, NULL, -1, FALSE, 0, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "has no network interface"));
        g_clear_error(&error);
        vf = hd_test_address(IGB_VF0);
        g_assert_null(
            hd_vf_net_interface_xml(ctx, &vf, (const guint8[6]){1}, -1, FALSE, 0, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(hd_vf_net_interface_xml(ctx, &vf, NULL, 4096, FALSE, 0, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
}

/* ---------------------------------------------------------------- the CLI */

static int run(const HdTestFixture *fx, const char *const *args, char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, NULL, out, err);
}

static JsonObject *json_of(JsonNode *n)
{
        return json_node_get_object(n);
}

static void test_cli_sriov_shows_settings(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autofree char *out = NULL;
        g_autofree char *nvme_out = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autoptr(JsonNode) nvme = NULL;
        JsonArray *vfs;
        JsonObject *vf0, *net;

        g_assert_cmpint(run(fx, (const char *[]){"sriov", ICE, "--json", NULL}, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        g_assert_cmpstr(json_object_get_string_member(json_of(root), "netdev"), ==, "ens1f0");
        g_assert_true(json_object_get_null_member(json_of(root), "vf_net_error"));
        vfs = json_object_get_array_member(json_of(root), "vfs");
        g_assert_cmpuint(json_array_get_length(vfs), ==, 4);
        vf0 = json_array_get_object_element(vfs, 0);
        g_assert_cmpint(json_object_get_int_member(vf0, "index"), ==, 0);
        net = json_object_get_object_member(vf0, "net");
        g_assert_cmpstr(json_object_get_string_member(net, "mac"), ==, "52:54:00:aa:00:01");
        g_assert_cmpint(json_object_get_int_member(net, "vlan"), ==, 100);
        g_assert_cmpint(json_object_get_int_member(net, "qos"), ==, 3);
        g_assert_cmpstr(json_object_get_string_member(net, "vlan_proto"), ==, "802.1Q");
        g_assert_true(json_object_get_boolean_member(net, "spoofchk"));
        g_assert_false(json_object_get_boolean_member(net, "trust"));
        g_assert_cmpstr(json_object_get_string_member(net, "link_state"), ==, "auto");
        g_clear_pointer(&out, g_free);

        g_assert_cmpint(run(fx, (const char *[]){"sriov", IGB, NULL}, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "      VF 1 on enp2s0f0: mac 00:00:00:00:00:00, no vlan, "
                                     "spoofchk on, link auto\n"));

        g_assert_cmpint(run(fx, (const char *[]){"sriov", NVME, "--json", NULL}, &nvme_out, NULL),
                        ==, 0);
        nvme = hd_test_parse_json(nvme_out);
        g_assert_true(json_object_get_null_member(json_of(nvme), "netdev"));
        g_assert_true(json_object_get_null_member(json_of(nvme), "vf_net_error"));
        vf0 = json_array_get_object_element(json_object_get_array_member(json_of(nvme), "vfs"), 0);
        g_assert_true(json_object_get_null_member(vf0, "net"));
}

static void test_cli_set_and_dry_run(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autofree char *out = NULL;
        g_autofree char *before = read_tree_file(fx, ICE_STATE);
        g_autofree char *after = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *writes;
        JsonObject *w, *net;

        /* dry run: printed, not done */
        g_assert_cmpint(
            run(fx,
                (const char *[]){"sriov-vf", ICE, "2", "--mac", "52:54:00:12:34:56", "--vlan",
                                 "200", "--qos", "2", "--dry-run", "--json", NULL},
                &out, NULL),
            ==, 0);
        root = hd_test_parse_json(out);
        g_assert_true(json_object_get_boolean_member(json_of(root), "dry_run"));
        g_assert_cmpstr(json_object_get_string_member(json_of(root), "address"), ==, ICE_VF2);
        writes = json_object_get_array_member(json_of(root), "writes");
        g_assert_cmpuint(json_array_get_length(writes), ==, 2);
        w = json_array_get_object_element(writes, 0);
        g_assert_cmpstr(json_object_get_string_member(w, "op"), ==, "netlink");
        g_assert_cmpstr(json_object_get_string_member(w, "path"), ==, "ens1f0");
        g_assert_cmpstr(json_object_get_string_member(w, "value"), ==,
                        "ip link set dev ens1f0 vf 2 mac 52:54:00:12:34:56");
        w = json_array_get_object_element(writes, 1);
        g_assert_cmpstr(json_object_get_string_member(w, "value"), ==,
                        "ip link set dev ens1f0 vf 2 vlan 200 qos 2");
        after = read_tree_file(fx, ICE_STATE);
        g_assert_cmpstr(after, ==, before);
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(
            run(fx, (const char *[]){"sriov-vf", ICE_VF2, "--trust", "on", "--dry-run", NULL}, &out,
                NULL),
            ==, 0);
        g_assert_nonnull(strstr(out, "Would make these changes, in order (nothing was changed):\n"
                                     "   1. netlink: ip link set dev ens1f0 vf 2 trust on\n"));
        g_clear_pointer(&out, g_free);

        /* done: by the VF's own address */
        g_clear_pointer(&root, json_node_unref);
        g_assert_cmpint(
            run(fx,
                (const char *[]){"sriov-vf", ICE_VF2, "--mac", "52:54:00:12:34:56", "--vlan", "200",
                                 "--qos", "2", "--spoofchk", "off", "--trust", "on", "--link-state",
                                 "enable", "--max-tx-rate", "500", "--json", NULL},
                &out, NULL),
            ==, 0);
        root = hd_test_parse_json(out);
        net = json_object_get_object_member(json_of(root), "net");
        g_assert_cmpint(json_object_get_int_member(json_of(root), "index"), ==, 2);
        g_assert_cmpstr(json_object_get_string_member(net, "mac"), ==, "52:54:00:12:34:56");
        g_assert_cmpint(json_object_get_int_member(net, "vlan"), ==, 200);
        g_assert_cmpint(json_object_get_int_member(net, "qos"), ==, 2);
        g_assert_false(json_object_get_boolean_member(net, "spoofchk"));
        g_assert_true(json_object_get_boolean_member(net, "trust"));
        g_assert_cmpstr(json_object_get_string_member(net, "link_state"), ==, "enable");
        g_assert_cmpint(json_object_get_int_member(net, "max_tx_rate"), ==, 500);
        g_assert_cmpuint(
            json_array_get_length(json_object_get_array_member(json_of(root), "writes")), ==, 6);
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(fx, (const char *[]){"sriov-vf", ICE, "2", NULL}, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==,
                        "ens1f0 VF 2 (" ICE_VF2 "): mac 52:54:00:12:34:56, vlan 200 qos 2, "
                        "spoofchk off, trust on, link enable, tx rate 0-500 Mbit/s\n");
}

static void test_cli_errors(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        const struct {
                const char *args[8];
                int status;
                const char *says;
        } cases[] = {
            {{"sriov-vf", ICE_VF0, "--qos", "3", NULL}, 2, "--qos and --vlan-proto go with --vlan"},
            {{"sriov-vf", ICE_VF0, "--mac", "nonsense", NULL}, 2, "give a MAC"},
            {{"sriov-vf", ICE_VF0, "--mac", "01:02:03:04:05:06", NULL}, 2, "multicast"},
            {{"sriov-vf", ICE_VF0, "--vlan", "4096", NULL}, 2, "out of range"},
            {{"sriov-vf", ICE_VF0, "--spoofchk", "maybe", NULL}, 2, "use on or off"},
            {{"sriov-vf", ICE_VF0, "--link-state", "up", NULL}, 2, "auto (follow the PF)"},
            {{"sriov-vf", ICE, "x", NULL}, 2, "VF index 'x' is not a number"},
            {{"sriov-vf", ICE, "7", "--vlan", "3", NULL}, 2, "no VF 7"},
            {{"sriov-vf", ICE, NULL}, 2, "not an SR-IOV virtual function"},
            {{"sriov-vf", ICE_VF0, "1", NULL}, 2, "is a VF of " ICE},
            {{"sriov-vf", IGB_VF0, "--trust", "on", NULL}, 1, "EOPNOTSUPP"},
            {{"sriov-vf", NVME_VF, "--vlan", "3", NULL}, 1, "not a network adapter"},
            {{"sriov-vf", ICE_VF0, "--restore", "--vlan", "3", NULL}, 2, "--restore"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *err = NULL;
                g_test_message("%s", cases[i].says);
                g_assert_cmpint(run(fx, cases[i].args, NULL, &err), ==, cases[i].status);
                g_assert_nonnull(strstr(err, cases[i].says));
        }
}

static void test_cli_save_restore(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autofree char *before = NULL;
        g_autofree char *during = NULL;
        g_autofree char *after = NULL;
        g_autofree char *out = NULL;
        g_autofree char *saved = hd_test_path(fx, "var/lib/hostdev/vf-net/" ICE "_vf0.json");
        const char *const show[] = {"sriov", ICE, "--json", NULL};

        /* every VF's settings as `hostdev sriov` shows them, before and after */
        g_assert_cmpint(run(fx, show, &before, NULL), ==, 0);

        g_assert_cmpint(run(fx,
                            (const char *[]){"sriov-vf", ICE_VF0, "--save", "--mac",
                                             "52:54:00:bb:00:01", "--vlan", "7", NULL},
                            &out, NULL),
                        ==, 0);
        g_assert_nonnull(strstr(out, "settings saved"));
        g_assert_nonnull(strstr(out, "mac 52:54:00:bb:00:01, vlan 7 qos 0"));
        g_assert_true(g_file_test(saved, G_FILE_TEST_IS_REGULAR));
        g_assert_cmpint(run(fx, show, &during, NULL), ==, 0);
        g_assert_cmpstr(during, !=, before);
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(
            run(fx, (const char *[]){"sriov-vf", ICE_VF0, "--restore", NULL}, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "saved settings restored"));
        g_assert_nonnull(strstr(out, "mac 52:54:00:aa:00:01, vlan 100 qos 3"));
        g_assert_false(g_file_test(saved, G_FILE_TEST_EXISTS));
        g_assert_cmpint(run(fx, show, &after, NULL), ==, 0);
        g_assert_cmpstr(after, ==, before);
}

/* A netlink change is a side effect like a sysfs write: HOSTDEV_CRASH_AT counts it, and a
 * crash between two fields leaves the first set and the second not (the saved file, when
 * there is one, still holds the host's settings for --restore). */
static void test_cli_crash_between_fields(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *const env[] = {"HOSTDEV_CRASH_AT=write:2", NULL};
        g_autofree char *saved = hd_test_path(fx, "var/lib/hostdev/vf-net/" ICE "_vf2.json");
        g_autofree char *out = NULL;
        g_autoptr(HdCtx) ctx = NULL;
        HdVfNet v;

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        for (const char *const *a = (const char *[]){"sriov-vf", ICE_VF2, "--save", "--mac",
                                                     "52:54:00:00:00:33", "--vlan", "33", NULL};
             *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        /* write 1: the saved file; 2: the MAC (then killed); the VLAN never */
        g_assert_cmpint(hd_test_run_cli((const char *const *)argv->pdata, env, NULL, NULL), ==,
                        128 + SIGKILL);
        g_assert_true(g_file_test(saved, G_FILE_TEST_IS_REGULAR));
        ctx = hd_test_ctx_new(fx);
        v = read_vf(ctx, ICE, 2);
        g_assert_cmpuint(v.mac[5], ==, 0x33);
        g_assert_cmpuint(v.vlan, ==, 0);
        g_assert_cmpint(
            run(fx, (const char *[]){"sriov-vf", ICE_VF2, "--restore", NULL}, &out, NULL), ==, 0);
        v = read_vf(ctx, ICE, 2);
        g_assert_cmpuint(v.mac[5], ==, 0);
        g_assert_false(g_file_test(saved, G_FILE_TEST_EXISTS));
}

static void test_cli_xml_interface(void)
{
        g_autoptr(HdTestFixture) fx = fixture();
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        g_assert_cmpint(run(fx,
                            (const char *[]){"xml", "--interface", "--mac", "52:54:00:00:00:09",
                                             "--vlan", "42", IGB_VF0, NULL},
                            &out, NULL),
                        ==, 0);
        g_assert_cmpstr(out, ==,
                        "<interface type='hostdev' managed='no'>\n"
                        "  <source>\n"
                        "    <address type='pci' domain='0x0000' bus='0x02' slot='0x10' "
                        "function='0x0'/>\n"
                        "  </source>\n"
                        "  <mac address='52:54:00:00:00:09'/>\n"
                        "  <vlan>\n"
                        "    <tag id='42'/>\n"
                        "  </vlan>\n"
                        "</interface>\n");
        /* not on vfio-pci: libvirt must detach it (--managed) or hostdev first */
        g_assert_cmpint(run(fx, (const char *[]){"xml", "--interface", ICE_VF0, NULL}, NULL, &err),
                        ==, 1);
        g_assert_nonnull(strstr(err, "hostdev detach " ICE_VF0));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx, (const char *[]){"xml", "--interface", ICE, NULL}, NULL, &err), ==,
                        1);
        g_assert_nonnull(strstr(err, "not an SR-IOV virtual function"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx, (const char *[]){"xml", "--interface", NVME_VF, NULL}, NULL, &err),
                        ==, 1);
        g_assert_nonnull(strstr(err, "has no network interface"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx,
                            (const char *[]){"xml", "--mac", "52:54:00:00:00:09", IGB_VF0, NULL},
                            NULL, &err),
                        ==, 2);
        g_assert_nonnull(strstr(err, "--mac and --vlan go with --interface"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(
            run(fx, (const char *[]){"xml", "--interface", IGB_VF0, IGB_VF1, NULL}, NULL, &err), ==,
            2);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vf-net/read", test_read);
        g_test_add_func("/vf-net/not-a-nic", test_not_a_nic);
        g_test_add_func("/vf-net/resolve", test_resolve);
        g_test_add_func("/vf-net/set/each-field", test_set_each_field);
        g_test_add_func("/vf-net/set/one-request-each", test_set_several_one_request_each);
        g_test_add_func("/vf-net/set/validation", test_validation);
        g_test_add_func("/vf-net/set/unsupported-trust", test_unsupported_trust_undoes);
        g_test_add_func("/vf-net/set/dry-run", test_dry_run);
        g_test_add_func("/vf-net/save-restore/round-trip", test_save_restore);
        g_test_add_func("/vf-net/save-restore/dry-run", test_save_dry_run);
        g_test_add_func("/vf-net/save-restore/zero-mac-refused", test_restore_zero_mac_refused);
        g_test_add_func("/vf-net/save-restore/hostile-file", test_restore_hostile_file);
        g_test_add_func("/vf-net/parser/hostile", test_parser_hostile);
        g_test_add_func("/vf-net/parser/extack", test_parser_extack);
        g_test_add_func("/vf-net/real-transport/loopback", test_real_transport);
        g_test_add_func("/vf-net/xml", test_interface_xml);
        g_test_add_func("/vf-net/cli/sriov", test_cli_sriov_shows_settings);
        g_test_add_func("/vf-net/cli/set-and-dry-run", test_cli_set_and_dry_run);
        g_test_add_func("/vf-net/cli/errors", test_cli_errors);
        g_test_add_func("/vf-net/cli/save-restore", test_cli_save_restore);
        g_test_add_func("/vf-net/cli/crash-between-fields", test_cli_crash_between_fields);
        g_test_add_func("/vf-net/cli/xml-interface", test_cli_xml_interface);
        return g_test_run();
}
