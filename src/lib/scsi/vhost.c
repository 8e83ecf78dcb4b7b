/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "fileio.h"
#include "hd-error.h"
#include "hint.h"
#include "parse.h"
#include "vhost.h"

#define VHOST_DIR "sys/kernel/config/target/vhost"

void hd_vhost_target_free(HdVhostTarget *t)
{
        if (!t)
                return;
        g_free(t->wwpn);
        g_free(t->nexus);
        g_ptr_array_unref(t->luns);
        g_free(t->reason);
        g_free(t);
}

/* "naa." and 16 hex digits: the vhost fabric's WWPNs (tcm_vhost_make_tport). */
gboolean hd_vhost_wwpn_valid(const char *s)
{
        return strlen(s) == 20 && g_ascii_strncasecmp(s, "naa.", 4) == 0 &&
               hd_is_hex_string(s + 4, 16, 16);
}

static char *attr(HdCtx *ctx, const char *path)
{
        char *v = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);

        if (v)
                g_strstrip(v);
        return v;
}

/* One TPG's LUNs: "lun_0: fileio_0/disk0 (/tmp/lun0.img)". */
static GPtrArray *tpg_luns(HdCtx *ctx, const char *tpg)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *lun_dir = g_strdup_printf("%s/lun", tpg);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, lun_dir, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; names && i < names->len; i++) {
                const char *lun = names->pdata[i];
                g_autofree char *dir = g_strdup_printf("%s/%s", lun_dir, lun);
                g_autoptr(GPtrArray) inside = NULL;
                g_autofree char *backstore = NULL;
                g_autofree char *path = NULL;

                if (!g_str_has_prefix(lun, "lun_"))
                        continue;
                inside = hd_list_dir_at(root_fd, dir, NULL);
                /* the LUN's one link, to target/core/HBA/DEVICE */
                for (guint k = 0; inside && k < inside->len && !backstore; k++) {
                        g_autofree char *link =
                            g_strdup_printf("%s/%s", dir, (char *)inside->pdata[k]);
                        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                        g_autofree char *real = target ? hd_path_resolve(dir, target) : NULL;
                        const char *core = real ? strstr(real, "target/core/") : NULL;

                        if (core) {
                                g_autofree char *udev = g_strdup_printf("%s/udev_path", real);
                                backstore = g_strdup(core + strlen("target/core/"));
                                path = attr(ctx, udev);
                        }
                }
                if (!backstore)
                        continue;
                g_ptr_array_add(out, path && *path
                                         ? g_strdup_printf("%s: %s (%s)", lun, backstore, path)
                                         : g_strdup_printf("%s: %s", lun, backstore));
        }
        return out;
}

static HdVhostTarget *load(HdCtx *ctx, const char *wwpn, gboolean module)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *dir = g_strdup_printf(VHOST_DIR "/%s", wwpn);
        g_autoptr(GPtrArray) tpgs = hd_list_dir_at(root_fd, dir, NULL);
        HdVhostTarget *t = g_new0(HdVhostTarget, 1);

        t->wwpn = g_ascii_strdown(wwpn, -1);
        t->tpgt = -1;
        t->luns = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; tpgs && i < tpgs->len; i++) {
                const char *name = tpgs->pdata[i];
                g_autofree char *tpg = NULL;
                g_autofree char *nexus_path = NULL;
                g_autofree char *nexus = NULL;
                g_autoptr(GPtrArray) luns = NULL;
                gint64 n;

                if (!g_str_has_prefix(name, "tpgt_") || !hd_parse_int(name + 5, 0, 65535, &n))
                        continue;
                tpg = g_strdup_printf("%s/%s", dir, name);
                nexus_path = g_strdup_printf("%s/nexus", tpg);
                nexus = attr(ctx, nexus_path);
                luns = tpg_luns(ctx, tpg);
                /* the first complete TPG (a nexus and LUNs), else the first TPG */
                if (t->tpgt >= 0 && ((t->nexus && t->luns->len) || !(nexus && *nexus && luns->len)))
                        continue;
                t->tpgt = (int)n;
                g_free(t->nexus);
                t->nexus = nexus && *nexus ? g_steal_pointer(&nexus) : NULL;
                g_ptr_array_unref(t->luns);
                t->luns = g_steal_pointer(&luns);
        }
        if (!module)
                t->reason = g_strdup("the vhost_scsi module is not loaded (modprobe vhost_scsi)");
        else if (t->tpgt < 0)
                t->reason = g_strdup_printf("it has no TPG (mkdir /%s/tpgt_1)", dir);
        else if (!t->luns->len)
                t->reason = g_strdup_printf("tpgt_%d has no LUN (mkdir /%s/tpgt_%d/lun/lun_0 and "
                                            "link a backstore of target/core into it)",
                                            t->tpgt, dir, t->tpgt);
        else if (!t->nexus)
                t->reason = g_strdup_printf("tpgt_%d has no nexus (echo an initiator WWPN, e.g. "
                                            "naa.5001405000000002, > /%s/tpgt_%d/nexus)",
                                            t->tpgt, dir, t->tpgt);
        t->ready = t->reason == NULL;
        return t;
}

GPtrArray *hd_vhost_list(HdCtx *ctx, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, VHOST_DIR, NULL);
        gboolean module = hd_exists_at(root_fd, "sys/module/vhost_scsi", FALSE);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_vhost_target_free);

        for (guint i = 0; names && i < names->len; i++)
                if (hd_vhost_wwpn_valid(names->pdata[i]))
                        g_ptr_array_add(out, load(ctx, names->pdata[i], module));
        return out;
}

HdVhostTarget *hd_vhost_find(HdCtx *ctx, const char *wwpn, GError **error)
{
        g_autoptr(GPtrArray) all = NULL;
        g_autofree char *list = hd_hint_usb_scsi(ctx, HD_HINT_VHOST_LIST, NULL);

        if (!hd_vhost_wwpn_valid(wwpn)) {
                g_autofree char *shown = g_strndup(wwpn, 40);
                for (char *p = shown; *p; p++)
                        if ((guchar)*p < 0x20 || (guchar)*p > 0x7e)
                                *p = '?';
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "'%s' is not a vhost target WWPN (naa. and 16 hex digits); %s shows "
                            "the targets",
                            shown, list);
                return NULL;
        }
        all = hd_vhost_list(ctx, error);
        for (guint i = 0; all && i < all->len; i++)
                if (g_ascii_strcasecmp(((HdVhostTarget *)all->pdata[i])->wwpn, wwpn) == 0)
                        return g_ptr_array_steal_index(all, i);
        if (all)
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no vhost target %s (" VHOST_DIR " has %u); %s shows them", wwpn,
                            all->len, list);
        return NULL;
}

char *hd_vhost_hostdev_xml(const HdVhostTarget *t, guint indent)
{
        g_autofree char *pad = g_strnfill(indent, ' ');

        return g_strdup_printf("%s<hostdev mode='subsystem' type='scsi_host'>\n"
                               "%s  <source protocol='vhost' wwpn='%s'/>\n"
                               "%s</hostdev>\n",
                               pad, pad, t->wwpn, pad);
}

char **hd_vhost_qemu_args(const HdVhostTarget *t)
{
        char **args = g_new0(char *, 3);

        args[0] = g_strdup("-device");
        args[1] = g_strdup_printf("vhost-scsi-pci,wwpn=%s", t->wwpn);
        return args;
}
