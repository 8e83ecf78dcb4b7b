/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend's imitation of the FC transport class (drivers/scsi/scsi_transport_fc.c)
 * for NPIV, on any tree shaped like sysfs:
 *
 *   fc_host/hostP/vport_create "WWPN:WWNN"
 *       store_fc_host_vport_create(): exactly 16 hex digits, ':', 16 hex digits (one trailing
 *       newline allowed), else EINVAL; a WWN of zero, or a WWPN equal to the WWNN: EINVAL;
 *       npiv_vports_inuse >= max_npiv_vports: ENOSPC; a WWPN any port or node on the host
 *       already has, or a WWNN some port has: EEXIST (the LLDD's sanity check, as qla2xxx's).
 *       Then fc_vport_setup(): hostP/vport-P:0-K (K = one past the highest K on hostP) with
 *       fc_vports/vport-P:0-K/{port_name,node_name,vport_state,vport_type,roles,vport_delete,
 *       vport_disable} and the class link sys/class/fc_vports/vport-P:0-K; the LLDD's new SCSI
 *       host hostN (N = one past the highest host in sys/class/scsi_host) inside it with
 *       scsi_host/hostN/{proc_name (the parent's), unique_id} and fc_host/hostN/{port_name,
 *       node_name, port_state, port_type "NPIV VPORT", max_npiv_vports 0, npiv_vports_inuse 0}
 *       and their class and bus links; the parent's npiv_vports_inuse + 1. vport_state is
 *       "Active" when the parent's port_state is Online, else "Linkdown" (no fabric: the
 *       harness's FCoE port). No LUNs appear (a fabric would zone them).
 *   fc_host/hostP/vport_delete "WWPN:WWNN"
 *       store_fc_host_vport_delete(): the same parse; the vport of hostP with both names, else
 *       ENOENT; its directory goes, with every class and bus link into it (scsi_host, fc_host,
 *       fc_vports, scsi_generic, block, sys/bus/scsi/devices: the vHBA's LUNs go with it), and
 *       the parent's npiv_vports_inuse - 1.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "parse.h"
#include "sim-scsi.h"

static gboolean fail(GError **error, int err, const char *path, const char *why)
{
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot write %s: %s%s%s", path,
                    g_strerror(err), why ? " " : "", why ? why : "");
        return FALSE;
}

gboolean hd_sim_scsi_handles(const char *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);

        return g_strv_length(parts) == 5 && strcmp(parts[0], "sys") == 0 &&
               strcmp(parts[1], "class") == 0 && strcmp(parts[2], "fc_host") == 0 &&
               g_str_has_prefix(parts[3], "host") &&
               (strcmp(parts[4], "vport_create") == 0 || strcmp(parts[4], "vport_delete") == 0);
}

/* "2001001122334455:2000001122334455[\n]" */
static gboolean parse_pair(const char *value, guint64 *wwpn, guint64 *wwnn)
{
        gsize len = strlen(value);
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;

        if (len == 34 && value[33] == '\n')
                len = 33;
        if (len != 33 || value[16] != ':')
                return FALSE;
        a = g_strndup(value, 16);
        b = g_strndup(value + 17, 16);
        return hd_is_hex_string(a, 16, 16) && hd_is_hex_string(b, 16, 16) &&
               hd_parse_hex(a, G_MAXUINT64, wwpn) && hd_parse_hex(b, G_MAXUINT64, wwnn);
}

static guint64 name_attr(int root_fd, const char *dir, const char *name)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        g_autofree char *v = hd_read_attr_optional_at(root_fd, path);
        guint64 n = 0;

        return v && hd_parse_hex(g_strstrip(v), G_MAXUINT64, &n) ? n : 0;
}

static gint64 int_attr(int root_fd, const char *dir, const char *name)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        g_autofree char *v = hd_read_attr_optional_at(root_fd, path);
        gint64 n;

        return v && hd_parse_int(g_strstrip(v), 0, G_MAXINT, &n) ? n : -1;
}

/* The real directory of a class entry ("sys/devices/.../host3/fc_host/host3"). */
static char *class_real(int root_fd, const char *cls, const char *name)
{
        g_autofree char *link = g_strdup_printf("%s/%s", cls, name);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);

        return target ? hd_path_resolve(cls, target) : NULL;
}

/* The highest N of the NAME<N> entries of @dir, -1 when none. */
static gint64 highest(int root_fd, const char *dir, const char *prefix)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, dir, NULL);
        gint64 best = -1, n;

        for (guint i = 0; names && i < names->len; i++) {
                const char *s = names->pdata[i];
                if (g_str_has_prefix(s, prefix) &&
                    hd_parse_int(s + strlen(prefix), 0, G_MAXINT, &n))
                        best = MAX(best, n);
        }
        return best;
}

static gboolean write_files(int root_fd, const char *dir, const char *const *kv, GError **error)
{
        if (!hd_mkdir_p_at(root_fd, dir, 0755, error))
                return FALSE;
        for (const char *const *p = kv; p[0]; p += 2) {
                g_autofree char *path = g_strdup_printf("%s/%s", dir, p[0]);
                if (!hd_write_file_at(root_fd, path, p[1], strlen(p[1]), error))
                        return FALSE;
        }
        return TRUE;
}

/* A relative link @link -> @target, both below the root, as the kernel makes them. */
static gboolean link_rel(int root_fd, const char *link, const char *target, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(link);
        g_auto(GStrv) from = g_strsplit(dir, "/", -1);
        g_auto(GStrv) to = g_strsplit(target, "/", -1);
        g_autoptr(GString) rel = g_string_new(NULL);
        guint common = 0;

        while (from[common] && to[common] && strcmp(from[common], to[common]) == 0)
                common++;
        for (guint i = common; from[i]; i++)
                g_string_append(rel, "../");
        for (guint i = common; to[i]; i++)
                g_string_append_printf(rel, "%s%s", to[i], to[i + 1] ? "/" : "");
        if (!hd_mkdir_p_at(root_fd, dir, 0755, error))
                return FALSE;
        if (!hd_symlink_at(rel->str, root_fd, link))
                return fail(error, errno, link, NULL);
        return TRUE;
}

static gboolean set_inuse(int root_fd, const char *fc_dir, int delta, GError **error)
{
        g_autofree char *path = g_strdup_printf("%s/npiv_vports_inuse", fc_dir);
        gint64 cur = int_attr(root_fd, fc_dir, "npiv_vports_inuse");
        g_autofree char *v = g_strdup_printf("%" G_GINT64_FORMAT "\n", MAX(cur, 0) + delta);

        return hd_write_file_at(root_fd, path, v, strlen(v), error);
}

/* Every port and node name of the host: fc_host and fc_vports entries. */
static gboolean name_taken(int root_fd, guint64 wwpn, guint64 wwnn)
{
        static const char *const classes[] = {"sys/class/fc_host", "sys/class/fc_vports"};

        for (guint c = 0; c < G_N_ELEMENTS(classes); c++) {
                g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, classes[c], NULL);
                for (guint i = 0; names && i < names->len; i++) {
                        g_autofree char *dir =
                            g_strdup_printf("%s/%s", classes[c], (char *)names->pdata[i]);
                        guint64 pn = name_attr(root_fd, dir, "port_name");
                        guint64 nn = name_attr(root_fd, dir, "node_name");
                        if (pn == wwpn || nn == wwpn || pn == wwnn)
                                return TRUE;
                }
        }
        return FALSE;
}

static gboolean vport_create(int root_fd, const char *path, const char *host, const char *value,
                             GError **error)
{
        g_autofree char *fc_dir = g_strdup_printf("sys/class/fc_host/%s", host);
        g_autofree char *fc_real = class_real(root_fd, "sys/class/fc_host", host);
        g_autofree char *fc_up = fc_real ? g_path_get_dirname(fc_real) : NULL;
        g_autofree char *host_dir = fc_up ? g_path_get_dirname(fc_up) : NULL;
        g_autofree char *sh_dir = g_strdup_printf("sys/class/scsi_host/%s", host);
        g_autofree char *proc_path = g_strdup_printf("%s/proc_name", sh_dir);
        g_autofree char *proc = hd_read_attr_optional_at(root_fd, proc_path);
        g_autofree char *state_path = g_strdup_printf("%s/port_state", fc_dir);
        g_autofree char *state = hd_read_attr_optional_at(root_fd, state_path);
        g_autofree char *vname = NULL, *vdir = NULL, *vclass = NULL, *hname = NULL;
        g_autofree char *hdir = NULL, *hsh = NULL, *hfc = NULL, *link = NULL;
        g_autofree char *pn = NULL, *nn = NULL, *uid = NULL;
        guint64 wwpn, wwnn;
        gint64 pnum, k = -1, n;

        if (!host_dir || !hd_parse_int(host + 4, 0, G_MAXINT, &pnum))
                return fail(error, ENOENT, path, NULL);
        if (!parse_pair(value, &wwpn, &wwnn) || wwpn == 0 || wwnn == 0 || wwpn == wwnn)
                return fail(error, EINVAL, path, NULL);
        if (int_attr(root_fd, fc_dir, "npiv_vports_inuse") >=
            int_attr(root_fd, fc_dir, "max_npiv_vports"))
                return fail(error, ENOSPC, path, NULL);
        if (name_taken(root_fd, wwpn, wwnn))
                return fail(error, EEXIST, path, NULL);
        {
                g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, host_dir, NULL);
                g_autofree char *prefix = g_strdup_printf("vport-%" G_GINT64_FORMAT ":0-", pnum);
                for (guint i = 0; names && i < names->len; i++) {
                        const char *s = names->pdata[i];
                        if (g_str_has_prefix(s, prefix) &&
                            hd_parse_int(s + strlen(prefix), 0, G_MAXINT, &n))
                                k = MAX(k, n);
                }
        }
        n = MAX(highest(root_fd, "sys/class/scsi_host", "host"), 0) + 1;
        vname = g_strdup_printf("vport-%" G_GINT64_FORMAT ":0-%" G_GINT64_FORMAT, pnum, k + 1);
        vdir = g_strdup_printf("%s/%s", host_dir, vname);
        vclass = g_strdup_printf("%s/fc_vports/%s", vdir, vname);
        hname = g_strdup_printf("host%" G_GINT64_FORMAT, n);
        hdir = g_strdup_printf("%s/%s", vdir, hname);
        hsh = g_strdup_printf("%s/scsi_host/%s", hdir, hname);
        hfc = g_strdup_printf("%s/fc_host/%s", hdir, hname);
        pn = g_strdup_printf("0x%016" G_GINT64_MODIFIER "x\n", wwpn);
        nn = g_strdup_printf("0x%016" G_GINT64_MODIFIER "x\n", wwnn);
        uid = g_strdup_printf("%" G_GINT64_FORMAT "\n", n);
        {
                gboolean online = state && g_str_has_prefix(g_strstrip(state), "Online");
                g_autofree char *proc_line =
                    g_strdup_printf("%s\n", proc ? g_strstrip(proc) : "unknown");
                const char *vattrs[] = {"port_name",
                                        pn,
                                        "node_name",
                                        nn,
                                        "vport_state",
                                        online ? "Active\n" : "Linkdown\n",
                                        "vport_type",
                                        "NPIV VPORT\n",
                                        "roles",
                                        "FCP Initiator\n",
                                        "vport_delete",
                                        "",
                                        "vport_disable",
                                        "",
                                        NULL};
                const char *hattrs[] = {"uevent", "DEVTYPE=scsi_host\n", NULL};
                const char *shattrs[] = {"proc_name", proc_line, "unique_id", uid, "state",
                                         "running\n", "scan",    "",          NULL};
                const char *fcattrs[] = {"port_name",
                                         pn,
                                         "node_name",
                                         nn,
                                         "port_state",
                                         online ? "Online\n" : "Linkdown\n",
                                         "port_type",
                                         "NPIV VPORT\n",
                                         "max_npiv_vports",
                                         "0\n",
                                         "npiv_vports_inuse",
                                         "0\n",
                                         NULL};

                if (!write_files(root_fd, vclass, vattrs, error) ||
                    !write_files(root_fd, hdir, hattrs, error) ||
                    !write_files(root_fd, hsh, shattrs, error) ||
                    !write_files(root_fd, hfc, fcattrs, error))
                        return FALSE;
        }
        link = g_strdup_printf("sys/class/fc_vports/%s", vname);
        if (!link_rel(root_fd, link, vclass, error))
                return FALSE;
        g_free(link);
        link = g_strdup_printf("sys/class/scsi_host/%s", hname);
        if (!link_rel(root_fd, link, hsh, error))
                return FALSE;
        g_free(link);
        link = g_strdup_printf("sys/class/fc_host/%s", hname);
        if (!link_rel(root_fd, link, hfc, error))
                return FALSE;
        g_free(link);
        link = g_strdup_printf("sys/bus/scsi/devices/%s", hname);
        if (!link_rel(root_fd, link, hdir, error))
                return FALSE;
        return set_inuse(root_fd, fc_dir, +1, error);
}

/* rm -r of @path below the root, without following links; bounded in depth. */
static gboolean remove_tree(int root_fd, const char *path, guint depth, GError **error)
{
        struct stat st;
        g_autoptr(GPtrArray) names = NULL;

        if (!hd_stat_at(root_fd, path, TRUE, &st))
                return errno == ENOENT ? TRUE : fail(error, errno, path, NULL);
        if (!S_ISDIR(st.st_mode))
                return hd_unlink_at(root_fd, path, 0) ? TRUE : fail(error, errno, path, NULL);
        if (depth > 32)
                return fail(error, ELOOP, path, NULL);
        names = hd_list_dir_at(root_fd, path, error);
        if (!names)
                return FALSE;
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *child = g_strdup_printf("%s/%s", path, (char *)names->pdata[i]);
                if (!remove_tree(root_fd, child, depth + 1, error))
                        return FALSE;
        }
        return hd_unlink_at(root_fd, path, AT_REMOVEDIR) ? TRUE : fail(error, errno, path, NULL);
}

/* Links of the class and bus directories that lead into @dir go with it. */
static gboolean remove_links_into(int root_fd, const char *dir, GError **error)
{
        static const char *const classes[] = {"sys/class/scsi_host", "sys/class/fc_host",
                                              "sys/class/fc_vports", "sys/class/scsi_generic",
                                              "sys/class/block",     "sys/block",
                                              "sys/bus/scsi/devices"};
        g_autofree char *prefix = g_strconcat(dir, "/", NULL);

        for (guint c = 0; c < G_N_ELEMENTS(classes); c++) {
                g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, classes[c], NULL);
                for (guint i = 0; names && i < names->len; i++) {
                        g_autofree char *real = class_real(root_fd, classes[c], names->pdata[i]);
                        g_autofree char *link = NULL;
                        if (!real || !g_str_has_prefix(real, prefix))
                                continue;
                        link = g_strdup_printf("%s/%s", classes[c], (char *)names->pdata[i]);
                        if (!hd_unlink_at(root_fd, link, 0))
                                return fail(error, errno, link, NULL);
                }
        }
        return TRUE;
}

static gboolean vport_delete(int root_fd, const char *path, const char *host, const char *value,
                             GError **error)
{
        g_autofree char *fc_dir = g_strdup_printf("sys/class/fc_host/%s", host);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, "sys/class/fc_vports", NULL);
        guint64 wwpn, wwnn;

        if (!parse_pair(value, &wwpn, &wwnn))
                return fail(error, EINVAL, path, NULL);
        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *dir =
                    g_strdup_printf("sys/class/fc_vports/%s", (char *)names->pdata[i]);
                g_autofree char *real = NULL, *up = NULL, *vdir = NULL, *parent_dir = NULL;
                g_autofree char *parent = NULL;

                if (name_attr(root_fd, dir, "port_name") != wwpn ||
                    name_attr(root_fd, dir, "node_name") != wwnn)
                        continue;
                real = class_real(root_fd, "sys/class/fc_vports", names->pdata[i]);
                if (!real)
                        continue;
                up = g_path_get_dirname(real);
                vdir = g_path_get_dirname(up);
                parent_dir = g_path_get_dirname(vdir);
                parent = g_path_get_basename(parent_dir);
                if (strcmp(parent, host) != 0)
                        continue;
                return remove_links_into(root_fd, vdir, error) &&
                       remove_tree(root_fd, vdir, 0, error) &&
                       set_inuse(root_fd, fc_dir, -1, error);
        }
        return fail(error, ENOENT, path, NULL);
}

gboolean hd_sim_scsi_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                           GError **error)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);

        if (!hd_exists_at(root_fd, path, FALSE))
                return fail(error, ENOENT, path, NULL);
        if (strcmp(parts[4], "vport_create") == 0)
                return vport_create(root_fd, path, parts[3], value, error);
        return vport_delete(root_fd, path, parts[3], value, error);
}
