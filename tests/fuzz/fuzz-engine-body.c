/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for hostdev-engine's request bodies (src/engine/body.c) on arbitrary bytes:
 * the body either parses or fails with G_IO_ERROR_INVALID_ARGUMENT and a UTF-8 message (the
 * engine's 400, never a crash or a 500); a host body accepted for create has a valid name, an
 * http(s) URL and a non-empty token, and no member it accepted is null; a VM body accepted has
 * a valid name and memory / vCPUs in range; a VM devices body accepted has a host id and 1..64
 * lower-case PCI addresses (src/engine/body-vms.c); a VM mdev body accepted has a host id and
 * a type of 1..64 of A-Z a-z 0-9 _ . : -; a kernel tab body accepted
 * (body-kernel-args.c) becomes a JSON object for the agent with only its members; a VM's USB
 * or SCSI body accepted (body-vm-usbscsi.c) holds a canonical spec or a WWID, never H:C:T:L;
 * a vhost-scsi body accepted holds "naa." and 16 hex digits.
 */
#include "config.h"

#include <string.h>

#include "engine.h"
#include "scsi.h"
#include "usb.h"
#include "vhost.h"
#include "vms.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static void check_error(gboolean ok, GError *error)
{
        if (ok) {
                g_assert_null(error);
                return;
        }
        g_assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_engine_body_parse((const char *)data, size, &error);

        check_error(o != NULL, error);
        if (!o)
                return 0;
        for (int create = 0; create <= 1; create++) {
                g_auto(HdHostBody) b = {0};
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_engine_body_host(o, create, &b, &e);

                check_error(ok, e);
                if (!ok)
                        continue;
                {
                        g_autoptr(GList) names = json_object_get_members(o);
                        for (GList *l = names; l; l = l->next)
                                g_assert_false(
                                    JSON_NODE_HOLDS_NULL(json_object_get_member(o, l->data)));
                }
                if (b.name)
                        g_assert_true(hd_engine_name_valid(b.name));
                if (b.agent_url)
                        g_assert_true(g_ascii_strncasecmp(b.agent_url, "http", 4) == 0);
                if (b.agent_token)
                        g_assert_cmpuint(strlen(b.agent_token), >, 0);
                if (create)
                        g_assert_true(b.name && b.agent_url && b.agent_token);
        }
        for (int create = 0; create <= 1; create++) {
                g_auto(HdVmBody) v = {0};
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_engine_body_vm(o, create, &v, &e);

                check_error(ok, e);
                if (!ok)
                        continue;
                if (v.name)
                        g_assert_true(hd_engine_name_valid(v.name));
                g_assert_true(v.memory_mib == 0 ||
                              (v.memory_mib >= 16 && v.memory_mib <= 16777216));
                g_assert_true(v.vcpus == 0 || (v.vcpus >= 1 && v.vcpus <= 1024));
                g_assert_true(!v.mdev_placement ||
                              (!create && (strcmp(v.mdev_placement, "compact") == 0 ||
                                           strcmp(v.mdev_placement, "separate") == 0)));
                if (create)
                        g_assert_true(v.name && v.memory_mib && v.vcpus);
        }
        {
                g_auto(HdVmMdevBody) m = {0};
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_engine_body_vm_mdev(o, &m, &e);

                check_error(ok, e);
                if (ok) {
                        g_assert_true(m.host_id && m.type);
                        g_assert_cmpuint(strlen(m.type), >=, 1);
                        g_assert_cmpuint(strlen(m.type), <=, 64);
                        for (const char *c = m.type; *c; c++)
                                g_assert_true(g_ascii_isalnum(*c) || strchr("_.:-", *c));
                }
        }
        {
                g_auto(HdVmDevicesBody) d = {0};
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_engine_body_vm_devices(o, &d, &e);

                check_error(ok, e);
                if (ok) {
                        guint n = g_strv_length(d.addresses);
                        g_assert_nonnull(d.host_id);
                        g_assert_true(n >= 1 && n <= 64);
                        for (guint i = 0; i < n; i++) {
                                char norm[13];
                                g_assert_true(hd_engine_pci_address(d.addresses[i], norm));
                                g_assert_cmpstr(norm, ==, d.addresses[i]);
                        }
                }
        }
        {
                /* body-vm-usbscsi.c: a spec accepted is canonical (libhostdev's own grammar
                 * gives it back unchanged); a LUN accepted is a WWID or a by-id path, never an
                 * H:C:T:L */
                g_auto(HdVmUsbBody) u = {0};
                g_auto(HdVmScsiBody) l = {0};
                g_autoptr(GError) e = NULL;
                g_autoptr(GError) e2 = NULL;
                gboolean ok = hd_engine_body_vm_usb(o, &u, &e);

                check_error(ok, e);
                if (ok) {
                        g_auto(HdUsbSpec) spec = {0};
                        g_autofree char *again = NULL;
                        g_assert_true(u.host_id && u.spec);
                        g_assert_true(hd_usb_spec_parse(u.spec, NULL, &spec, NULL));
                        again = hd_usb_spec_format(&spec);
                        g_assert_cmpstr(again, ==, u.spec);
                }
                ok = hd_engine_body_vm_scsi(o, &l, &e2);
                check_error(ok, e2);
                if (ok) {
                        HdScsiSpec spec;
                        g_assert_true(l.host_id && l.wwid);
                        g_assert_true(hd_scsi_spec_parse(l.wwid, &spec, NULL));
                        g_assert_true(spec.kind != HD_SCSI_SPEC_HCTL);
                }
        }
        {
                /* a vhost target accepted is "naa." and 16 hex digits, as the agent keeps it */
                g_auto(HdVmVhostBody) v = {0};
                g_autoptr(GError) e = NULL;
                gboolean ok = hd_engine_body_vm_vhost(o, &v, &e);

                check_error(ok, e);
                if (ok) {
                        g_assert_true(v.host_id && v.wwpn);
                        g_assert_true(hd_vhost_wwpn_valid(v.wwpn));
                        g_assert_true(g_str_has_prefix(v.wwpn, "naa."));
                        g_assert_cmpuint(strlen(v.wwpn), ==, 20);
                }
        }
        {
                g_autoptr(GError) e = NULL;
                g_autofree char *out = NULL;
                gboolean dry_run = FALSE;
                gboolean ok = hd_engine_body_kernel_args(o, &out, &dry_run, &e);

                check_error(ok, e);
                if (ok) {
                        g_autoptr(GError) pe = NULL;
                        g_autoptr(JsonObject) agent = hd_engine_body_parse(out, strlen(out), &pe);
                        g_assert_no_error(pe);
                        g_assert_true(json_object_has_member(agent, "dry_run"));
                        g_assert_cmpuint(json_object_get_size(agent), <=, 5);
                }
        }
        return 0;
}
