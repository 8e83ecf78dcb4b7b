/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "address.h"
#include "fileio.h"
#include "hd-error.h"
#include "hint.h"
#include "npiv.h"
#include "parse.h"
#include "scsi.h"

void hd_fc_host_free(HdFcHost *h)
{
        if (!h)
                return;
        g_free(h->host);
        g_free(h->port_name);
        g_free(h->node_name);
        g_free(h->port_state);
        g_free(h->port_type);
        g_free(h->proc_name);
        g_free(h->pci);
        g_free(h->vport);
        g_free(h->parent);
        g_free(h);
}

void hd_fc_vport_free(HdFcVport *v)
{
        if (!v)
                return;
        g_free(v->name);
        g_free(v->parent);
        g_free(v->host);
        g_free(v->port_name);
        g_free(v->node_name);
        g_free(v->vport_state);
        g_free(v->vport_type);
        g_free(v->roles);
        g_free(v);
}

static char *attr(HdCtx *ctx, const char *dir, const char *name)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        char *v = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);

        if (v)
                g_strstrip(v);
        return v;
}

static int int_attr(HdCtx *ctx, const char *dir, const char *name)
{
        g_autofree char *v = attr(ctx, dir, name);
        gint64 n;

        return v && hd_parse_int(v, 0, G_MAXINT, &n) ? (int)n : -1;
}

/* "host12" */
static gboolean host_name_valid(const char *s, guint *number)
{
        gint64 n;

        if (!g_str_has_prefix(s, "host") || strlen(s) > 14 || !g_ascii_isdigit(s[4]) ||
            (s[4] == '0' && s[5]) || !hd_parse_int(s + 4, 0, G_MAXINT32, &n))
                return FALSE;
        if (number)
                *number = (guint)n;
        return TRUE;
}

/* "vport-3:0-12" */
static gboolean vport_name_valid(const char *s)
{
        if (!g_str_has_prefix(s, "vport-") || strlen(s) > 40)
                return FALSE;
        for (const char *p = s + 6; *p; p++)
                if (!g_ascii_isdigit(*p) && *p != ':' && *p != '-')
                        return FALSE;
        return s[6] != '\0';
}

/* The real directory of a class entry, below the root. */
static char *class_real(HdCtx *ctx, const char *cls, const char *name)
{
        g_autofree char *link = g_strdup_printf("%s/%s", cls, name);
        g_autofree char *target = hd_readlink_at(hd_ctx_get_root_fd(ctx), link, NULL);

        return target ? hd_path_resolve(cls, target) : NULL;
}

static gint compare_host(gconstpointer a, gconstpointer b)
{
        guint x = 0, y = 0;

        host_name_valid((*(HdFcHost *const *)a)->host, &x);
        host_name_valid((*(HdFcHost *const *)b)->host, &y);
        return x < y ? -1 : x > y;
}

static HdFcHost *load_host(HdCtx *ctx, const char *name)
{
        HdFcHost *h = g_new0(HdFcHost, 1);
        g_autofree char *dir = g_strdup_printf("sys/class/fc_host/%s", name);
        g_autofree char *sh = g_strdup_printf("sys/class/scsi_host/%s", name);
        g_autofree char *create = g_strdup_printf("%s/vport_create", dir);
        g_autofree char *real = class_real(ctx, "sys/class/fc_host", name);
        g_auto(GStrv) parts = real ? g_strsplit(real, "/", -1) : NULL;
        guint n = parts ? g_strv_length(parts) : 0;

        h->host = g_strdup(name);
        h->port_name = attr(ctx, dir, "port_name");
        h->node_name = attr(ctx, dir, "node_name");
        h->port_state = attr(ctx, dir, "port_state");
        h->port_type = attr(ctx, dir, "port_type");
        h->max_npiv_vports = int_attr(ctx, dir, "max_npiv_vports");
        h->npiv_vports_inuse = int_attr(ctx, dir, "npiv_vports_inuse");
        h->vport_create = hd_exists_at(hd_ctx_get_root_fd(ctx), create, FALSE);
        h->proc_name = attr(ctx, sh, "proc_name");
        /* .../hostP/vport-P:0-K/hostN/fc_host/hostN: the vport and parent above the host */
        for (int i = (int)n - 3; i >= 0; i--) {
                HdAddress a;
                char buf[HD_ADDRESS_STRLEN];

                if (!h->vport && vport_name_valid(parts[i]) && i + 1 < (int)n &&
                    strcmp(parts[i + 1], name) == 0 && i > 0 &&
                    host_name_valid(parts[i - 1], NULL)) {
                        h->vport = g_strdup(parts[i]);
                        h->parent = g_strdup(parts[i - 1]);
                }
                if (hd_address_parse_sysfs_name(parts[i], &a)) {
                        h->pci = g_strdup(hd_address_format(&a, buf));
                        break;
                }
        }
        return h;
}

GPtrArray *hd_fc_host_list(HdCtx *ctx, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autoptr(GPtrArray) names =
            hd_list_dir_at(hd_ctx_get_root_fd(ctx), "sys/class/fc_host", &local);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_fc_host_free);

        if (!names && !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
                g_propagate_error(error, g_steal_pointer(&local));
                g_ptr_array_unref(out);
                return NULL;
        }
        for (guint i = 0; names && i < names->len; i++)
                if (host_name_valid(names->pdata[i], NULL))
                        g_ptr_array_add(out, load_host(ctx, names->pdata[i]));
        g_ptr_array_sort(out, compare_host);
        return out;
}

GPtrArray *hd_fc_vport_list(HdCtx *ctx, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autoptr(GPtrArray) names =
            hd_list_dir_at(hd_ctx_get_root_fd(ctx), "sys/class/fc_vports", &local);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_fc_vport_free);

        if (!names && !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
                g_propagate_error(error, g_steal_pointer(&local));
                g_ptr_array_unref(out);
                return NULL;
        }
        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *dir = NULL;
                g_autofree char *real = NULL;
                g_autofree char *vdir = NULL;
                g_autoptr(GPtrArray) inside = NULL;
                HdFcVport *v;

                if (!vport_name_valid(name))
                        continue;
                dir = g_strdup_printf("sys/class/fc_vports/%s", name);
                v = g_new0(HdFcVport, 1);
                v->name = g_strdup(name);
                v->port_name = attr(ctx, dir, "port_name");
                v->node_name = attr(ctx, dir, "node_name");
                v->vport_state = attr(ctx, dir, "vport_state");
                v->vport_type = attr(ctx, dir, "vport_type");
                v->roles = attr(ctx, dir, "roles");
                /* .../hostP/vport-P:0-K/fc_vports/vport-P:0-K; the vHBA is vport-P:0-K/hostN */
                real = class_real(ctx, "sys/class/fc_vports", name);
                if (real) {
                        g_autofree char *up = g_path_get_dirname(real);
                        g_autofree char *parent_dir = NULL;
                        g_autofree char *parent = NULL;

                        vdir = g_path_get_dirname(up);
                        parent_dir = g_path_get_dirname(vdir);
                        parent = g_path_get_basename(parent_dir);
                        if (host_name_valid(parent, NULL))
                                v->parent = g_steal_pointer(&parent);
                        inside = hd_list_dir_at(hd_ctx_get_root_fd(ctx), vdir, NULL);
                }
                for (guint k = 0; inside && k < inside->len; k++)
                        if (host_name_valid(inside->pdata[k], NULL)) {
                                v->host = g_strdup(inside->pdata[k]);
                                break;
                        }
                g_ptr_array_add(out, v);
        }
        return out;
}

gboolean hd_npiv_wwn_parse(const char *text, const char *what, guint64 *out, GError **error)
{
        g_autoptr(GString) hex = g_string_new(NULL);
        const char *p = text;
        guint64 v = 0;

        if (g_str_has_prefix(p, "0x") || g_str_has_prefix(p, "0X"))
                p += 2;
        if (strlen(p) == 23) { /* 20:01:00:11:22:33:44:55 */
                for (int i = 0; i < 8; i++) {
                        if (!g_ascii_isxdigit(p[3 * i]) || !g_ascii_isxdigit(p[3 * i + 1]) ||
                            (i < 7 && p[3 * i + 2] != ':'))
                                goto bad;
                        g_string_append_len(hex, p + 3 * i, 2);
                }
                if (p != text)
                        goto bad;
        } else {
                g_string_append(hex, p);
        }
        if (hex->len != 16 || !hd_is_hex_string(hex->str, 16, 16) ||
            !hd_parse_hex(hex->str, G_MAXUINT64, &v))
                goto bad;
        if (v == 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s %s is all zero, which no port may have", what, text);
                return FALSE;
        }
        *out = v;
        return TRUE;
bad : {
        g_autofree char *shown = g_strndup(text, 40);
        for (char *c = shown; *c; c++)
                if ((guchar)*c < 0x20 || (guchar)*c > 0x7e)
                        *c = '?';
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                    "%s '%s' is not a WWN: give 16 hex digits (2001001122334455, "
                    "0x2001001122334455 or 20:01:00:11:22:33:44:55)",
                    what, shown);
}
        return FALSE;
}

char *hd_npiv_wwn_format(guint64 wwn, char *buf)
{
        g_snprintf(buf, 19, "0x%016" G_GINT64_MODIFIER "x", wwn);
        return buf;
}

guint64 hd_npiv_wwn_generate(void)
{
        guint64 r = ((guint64)g_random_int() << 32 | g_random_int()) & G_GUINT64_CONSTANT(0xfffffffff);

        /* NAA 5, OUI 00:1a:4a (as libvirt makes them for QEMU), 36 random bits, never 0 */
        return G_GUINT64_CONSTANT(0x5001a4a) << 36 | (r ? r : 1);
}

/* The value of a name attribute ("0x2100..."), 0 when absent or unreadable. */
static guint64 wwn_value(const char *s)
{
        guint64 v = 0;

        return s && hd_parse_hex(s, G_MAXUINT64, &v) ? v : 0;
}

HdFcHost *hd_fc_host_find(HdCtx *ctx, const char *name, GError **error)
{
        g_autofree char *full =
            g_ascii_isdigit(name[0]) ? g_strconcat("host", name, NULL) : g_strdup(name);
        g_autoptr(GPtrArray) hosts = NULL;

        if (!host_name_valid(full, NULL)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "'%s' is not an FC host: give hostN or N; hostdev npiv list shows "
                            "them",
                            name);
                return NULL;
        }
        if (!(hosts = hd_fc_host_list(ctx, error)))
                return NULL;
        for (guint i = 0; i < hosts->len; i++) {
                HdFcHost *h = hosts->pdata[i];
                if (strcmp(h->host, full) == 0)
                        return g_ptr_array_steal_index(hosts, i);
        }
        {
                g_autoptr(GString) names = g_string_new(NULL);
                for (guint i = 0; i < hosts->len; i++)
                        g_string_append_printf(names, "%s%s", i ? ", " : "",
                                               ((HdFcHost *)hosts->pdata[i])->host);
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s is not an FC host (sys/class/fc_host has %s); hostdev npiv list "
                            "shows them",
                            full, names->len ? names->str : "none");
        }
        return NULL;
}

static HdFcVport *vport_by_wwpn(HdCtx *ctx, guint64 wwpn)
{
        g_autoptr(GPtrArray) vports = hd_fc_vport_list(ctx, NULL);

        for (guint i = 0; vports && i < vports->len; i++)
                if (wwn_value(((HdFcVport *)vports->pdata[i])->port_name) == wwpn)
                        return g_ptr_array_steal_index(vports, i);
        return NULL;
}

#define NPIV_DIR "etc/hostdev/npiv.d"

static gboolean record_vport(HdCtx *ctx, const HdFcHost *parent, guint64 wwpn, guint64 wwnn,
                             GError **error)
{
        g_autofree char *path = g_strdup_printf(NPIV_DIR "/%016" G_GINT64_MODIFIER "x", wwpn);
        g_autofree char *data = NULL;
        char p[19], n[19];

        if (!parent->port_name || !wwn_value(parent->port_name)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s has no port name to record the vport under; it was made but will "
                            "not be made again at boot",
                            parent->host);
                return FALSE;
        }
        data = g_strdup_printf("# hostdev npiv create --persist: made again at boot by "
                               "hostdev npiv restore\n[vport]\nport_name=%s\nnode_name=%s\n"
                               "parent_port_name=%s\n",
                               hd_npiv_wwn_format(wwpn, p), hd_npiv_wwn_format(wwnn, n),
                               parent->port_name);
        return hd_ctx_install_file(ctx, path, data, 0644, error);
}

gboolean hd_npiv_create(HdCtx *ctx, const char *parent, guint64 wwpn, guint64 wwnn,
                        gboolean persist, HdFcVport **vport_out, GError **error)
{
        g_autoptr(HdFcHost) h = hd_fc_host_find(ctx, parent, error);
        g_autoptr(GPtrArray) hosts = NULL;
        g_autoptr(GPtrArray) vports = NULL;
        g_autofree char *path = NULL;
        g_autofree char *value = NULL;
        char p[19], n[19];

        if (vport_out)
                *vport_out = NULL;
        if (!h)
                return FALSE;
        hd_npiv_wwn_format(wwpn, p);
        hd_npiv_wwn_format(wwnn, n);
        if (wwpn == wwnn) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "the WWPN and the WWNN are both %s: a port's name must differ from "
                            "its node's",
                            p);
                return FALSE;
        }
        if (h->vport) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is itself the vHBA of %s on %s: create vports on the physical "
                            "port: hostdev npiv create %s ...",
                            h->host, h->vport, h->parent, h->parent);
                return FALSE;
        }
        if (!h->vport_create || h->max_npiv_vports <= 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s (%s) cannot create vports (%s); its driver or firmware has no "
                            "NPIV, or NPIV is disabled in the HBA's settings",
                            h->host, h->proc_name ? h->proc_name : "unknown driver",
                            !h->vport_create ? "no vport_create" : "max_npiv_vports is 0");
                return FALSE;
        }
        if (h->npiv_vports_inuse >= h->max_npiv_vports) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s has %d of %d vports in use: delete one first (hostdev npiv "
                            "list shows them)",
                            h->host, h->npiv_vports_inuse, h->max_npiv_vports);
                return FALSE;
        }
        if (!(hosts = hd_fc_host_list(ctx, error)) || !(vports = hd_fc_vport_list(ctx, error)))
                return FALSE;
        for (guint i = 0; i < hosts->len + vports->len; i++) {
                const char *who, *pn, *nn;
                if (i < hosts->len) {
                        HdFcHost *o = hosts->pdata[i];
                        who = o->host, pn = o->port_name, nn = o->node_name;
                } else {
                        HdFcVport *o = vports->pdata[i - hosts->len];
                        who = o->name, pn = o->port_name, nn = o->node_name;
                }
                if (wwn_value(pn) == wwpn || wwn_value(nn) == wwpn || wwn_value(pn) == wwnn) {
                        gboolean port = wwn_value(pn) == wwpn || wwn_value(pn) == wwnn;
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "%s is already the %s name of %s on this host: every WWPN "
                                    "must be unique (two ports with one name log each other "
                                    "out of the fabric); pick another",
                                    wwn_value(pn) == wwnn ? n : p, port ? "port" : "node", who);
                        return FALSE;
                }
        }
        path = g_strdup_printf("sys/class/fc_host/%s/vport_create", h->host);
        value =
            g_strdup_printf("%016" G_GINT64_MODIFIER "x:%016" G_GINT64_MODIFIER "x", wwpn, wwnn);
        if (!hd_ctx_write(ctx, path, value, error)) {
                g_prefix_error(error, "creating a vport on %s: ", h->host);
                return FALSE;
        }
        if (persist && !record_vport(ctx, h, wwpn, wwnn, error))
                return FALSE;
        if (vport_out && !hd_ctx_get_dry_run(ctx))
                *vport_out = vport_by_wwpn(ctx, wwpn);
        return TRUE;
}

gboolean hd_npiv_delete(HdCtx *ctx, const char *name, gboolean force, GError **error)
{
        g_autoptr(GPtrArray) vports = hd_fc_vport_list(ctx, error);
        g_autoptr(GPtrArray) luns = NULL;
        g_autoptr(GString) busy = g_string_new(NULL);
        g_autofree char *path = NULL;
        g_autofree char *value = NULL;
        HdFcVport *v = NULL;
        guint64 wwpn = 0;

        if (!vports)
                return FALSE;
        if (!g_str_has_prefix(name, "vport-") && !g_str_has_prefix(name, "host"))
                (void)hd_npiv_wwn_parse(name, "WWPN", &wwpn, NULL);
        for (guint i = 0; i < vports->len && !v; i++) {
                HdFcVport *c = vports->pdata[i];
                if (strcmp(c->name, name) == 0 || g_strcmp0(c->host, name) == 0 ||
                    (wwpn && wwn_value(c->port_name) == wwpn))
                        v = c;
        }
        if (!v) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no vport is named '%s' (give vport-P:0-N, its vHBA hostN or its "
                            "WWPN); hostdev npiv list shows them",
                            name);
                return FALSE;
        }
        if (!v->parent || !v->port_name || !v->node_name) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s has no parent host or names in sysfs; cannot delete it", v->name);
                return FALSE;
        }
        /* LUNs of the vHBA the host or a VM uses go with it: refuse unless forced */
        if (v->host && (luns = hd_scsi_list(ctx, NULL))) {
                for (guint i = 0; i < luns->len; i++) {
                        const HdScsiDevice *d = luns->pdata[i];
                        if (g_strcmp0(d->host, v->host) != 0 ||
                            (d->verdict != HD_SCSI_REFUSED && d->verdict != HD_SCSI_IN_USE))
                                continue;
                        g_string_append_printf(busy, "%s%s %s", busy->len ? "; " : "", d->name,
                                               d->reason);
                }
        }
        if (busy->len && !force) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s (%s) carries LUNs in use: %s; deleting it pulls them away; stop "
                            "their users first, or pass %s",
                            v->name, v->host, busy->str, hd_hint_option(ctx, HD_HINT_FORCE));
                return FALSE;
        }
        path = g_strdup_printf("sys/class/fc_host/%s/vport_delete", v->parent);
        value = g_strdup_printf("%016" G_GINT64_MODIFIER "x:%016" G_GINT64_MODIFIER "x",
                                wwn_value(v->port_name), wwn_value(v->node_name));
        if (!hd_ctx_write(ctx, path, value, error)) {
                g_prefix_error(error, "deleting %s: ", v->name);
                return FALSE;
        }
        {
                g_autofree char *rec = g_strdup_printf(NPIV_DIR "/%016" G_GINT64_MODIFIER "x",
                                                       wwn_value(v->port_name));
                if (hd_exists_at(hd_ctx_get_root_fd(ctx), rec, TRUE) &&
                    !hd_ctx_remove_file(ctx, rec, error))
                        return FALSE;
        }
        return TRUE;
}

void hd_npiv_record_free(HdNpivRecord *r)
{
        if (!r)
                return;
        g_free(r->port_name);
        g_free(r->node_name);
        g_free(r->parent_port_name);
        g_free(r->parent);
        g_free(r->vport);
        g_free(r);
}

GPtrArray *hd_npiv_records(HdCtx *ctx, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, NPIV_DIR, NULL);
        g_autoptr(GPtrArray) hosts = hd_fc_host_list(ctx, error);
        g_autoptr(GPtrArray) vports = hosts ? hd_fc_vport_list(ctx, error) : NULL;
        GPtrArray *out;

        if (!vports)
                return NULL;
        out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_npiv_record_free);
        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *path = NULL;
                g_autofree char *text = NULL;
                g_autoptr(GKeyFile) kf = g_key_file_new();
                g_autofree char *pn = NULL, *nn = NULL, *parent = NULL;
                guint64 wwpn, wwnn, ppn;
                HdNpivRecord *r;
                char buf[19];

                /* the file is named by the WWPN it holds; anything else is not ours */
                if (!hd_is_hex_string(name, 16, 16) || !hd_parse_hex(name, G_MAXUINT64, &wwpn))
                        continue;
                path = g_strdup_printf(NPIV_DIR "/%s", name);
                text = hd_read_file_at(root_fd, path, 1 << 16, NULL);
                if (!text || !g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL))
                        continue;
                pn = g_key_file_get_string(kf, "vport", "port_name", NULL);
                nn = g_key_file_get_string(kf, "vport", "node_name", NULL);
                parent = g_key_file_get_string(kf, "vport", "parent_port_name", NULL);
                if (!pn || !nn || !parent || !hd_npiv_wwn_parse(pn, "port_name", &wwpn, NULL) ||
                    !hd_npiv_wwn_parse(nn, "node_name", &wwnn, NULL) ||
                    !hd_npiv_wwn_parse(parent, "parent_port_name", &ppn, NULL))
                        continue;
                r = g_new0(HdNpivRecord, 1);
                r->port_name = g_strdup(hd_npiv_wwn_format(wwpn, buf));
                r->node_name = g_strdup(hd_npiv_wwn_format(wwnn, buf));
                r->parent_port_name = g_strdup(hd_npiv_wwn_format(ppn, buf));
                for (guint k = 0; k < hosts->len; k++) {
                        HdFcHost *h = hosts->pdata[k];
                        if (!h->vport && wwn_value(h->port_name) == ppn) {
                                r->parent = g_strdup(h->host);
                                break;
                        }
                }
                for (guint k = 0; k < vports->len; k++) {
                        HdFcVport *v = vports->pdata[k];
                        if (wwn_value(v->port_name) == wwpn) {
                                r->vport = g_strdup(v->name);
                                break;
                        }
                }
                g_ptr_array_add(out, r);
        }
        return out;
}

gboolean hd_npiv_restore(HdCtx *ctx, GPtrArray *report, GError **error)
{
        g_autoptr(GPtrArray) records = hd_npiv_records(ctx, error);
        g_autoptr(GString) failed = g_string_new(NULL);

        if (!records)
                return FALSE;
        for (guint i = 0; i < records->len; i++) {
                const HdNpivRecord *r = records->pdata[i];
                g_autoptr(GError) local = NULL;
                g_autoptr(HdFcVport) v = NULL;
                guint64 wwpn = wwn_value(r->port_name), wwnn = wwn_value(r->node_name);

                if (r->vport) {
                        g_ptr_array_add(
                            report, g_strdup_printf("%s: present as %s", r->port_name, r->vport));
                        continue;
                }
                if (!r->parent) {
                        g_ptr_array_add(report, g_strdup_printf("%s: parent port %s is not on this "
                                                                "host (HBA removed or its driver "
                                                                "not loaded)",
                                                                r->port_name, r->parent_port_name));
                        g_string_append_printf(failed, "%s%s", failed->len ? ", " : "",
                                               r->port_name);
                        continue;
                }
                if (!hd_npiv_create(ctx, r->parent, wwpn, wwnn, FALSE, &v, &local)) {
                        g_ptr_array_add(report,
                                        g_strdup_printf("%s: %s", r->port_name, local->message));
                        g_string_append_printf(failed, "%s%s", failed->len ? ", " : "",
                                               r->port_name);
                        continue;
                }
                g_ptr_array_add(
                    report,
                    v ? g_strdup_printf("%s: created %s on %s (vHBA %s)", r->port_name, v->name,
                                        r->parent, v->host ? v->host : "-")
                      : g_strdup_printf("%s: would be created on %s", r->port_name, r->parent));
        }
        if (failed->len) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "could not make the recorded vport(s) %s again; hostdev npiv list "
                            "shows the FC hosts there are",
                            failed->str);
                return FALSE;
        }
        return TRUE;
}
