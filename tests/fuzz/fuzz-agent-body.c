/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for hostdevd's request bodies (src/agent/request.c): every parser the API
 * runs on a POST/PUT body, on arbitrary bytes. Invariants: a parser either succeeds or fails
 * with HD_ERROR_INVALID_ARGUMENT and a UTF-8 message (the agent's 400, never a crash or a
 * 500); a parsed VM has a valid name and addresses; a parsed force is 0..2; a body a parser
 * accepted has no null member.
 */
#include "config.h"

#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static void check_error(gboolean ok, GError *error)
{
        if (ok) {
                g_assert_null(error);
                return;
        }
        g_assert_nonnull(error);
        g_assert_true(g_error_matches(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT));
        g_assert_nonnull(error->message);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
}

/* A body a parser accepted has no null member: null is a wrong type, never "not given". */
static void assert_no_null_member(JsonObject *o)
{
        g_autoptr(GList) names = json_object_get_members(o);

        for (GList *l = names; l; l = l->next)
                g_assert_false(JSON_NODE_HOLDS_NULL(json_object_get_member(o, l->data)));
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        static const char *const actions[] = {"detach", "attach", "verify"};
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_body_parse((const char *)data, size, &error);

        check_error(o != NULL, error);
        if (!o)
                return 0;
        for (gsize i = 0; i < G_N_ELEMENTS(actions); i++) {
                HdBindArgs b;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_bind(o, actions[i], &b, &e);
                check_error(ok, e);
                if (ok) {
                        g_assert_cmpuint(b.force, <=, 2);
                        assert_no_null_member(o);
                }
                hd_bind_args_clear(&b);
        }
        {
                HdVmArgs v;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_vm(o, &v, &e);
                check_error(ok, e);
                if (ok) {
                        assert_no_null_member(o);
                        g_assert_true(hd_vm_name_is_valid(v.name));
                        g_assert_nonnull(v.hostdevs);
                        g_assert_true(v.vcpus >= 1 && v.memory_mib >= 16);
                }
                hd_vm_args_clear(&v);
        }
        {
                HdKernelArgsBody k;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_kernel_args(o, &k, &e);
                check_error(ok, e);
                if (ok)
                        assert_no_null_member(o);
                hd_kernel_args_body_clear(&k);
        }
        {
                HdSriovBody sr;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_sriov(o, &sr, &e);
                check_error(ok, e);
                if (ok) {
                        assert_no_null_member(o);
                        g_assert_true(sr.has_numvfs || sr.autoprobe >= 0);
                        g_assert_true(sr.timeout_s >= 1 && sr.timeout_s <= 3600);
                }
        }
        {
                HdVfNetBody vn;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_vf_net(o, &vn, &e);
                check_error(ok, e);
                if (ok) {
                        assert_no_null_member(o);
                        g_assert_true(!vn.s.has_vlan || (vn.s.vlan <= 4095 && vn.s.qos <= 7));
                }
        }
        for (int create = 0; create <= 1; create++) {
                HdMdevBody m;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_mdev(o, create, &m, &e);
                check_error(ok, e);
                if (ok) {
                        assert_no_null_member(o);
                        g_assert_true(!create || (m.parent && !strchr(m.parent, '/')));
                        g_assert_true(!m.uuid || hd_mdev_uuid_parse(m.uuid, NULL));
                }
                hd_mdev_body_clear(&m);
        }
        for (int create = 0; create <= 1; create++) {
                HdNpivBody n;
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_body_parse_npiv(o, create, &n, &e);
                check_error(ok, e);
                if (ok) {
                        assert_no_null_member(o);
                        g_assert_true(!create || (n.parent && !strchr(n.parent, '/')));
                }
                hd_npiv_body_clear(&n);
        }
        return 0;
}
