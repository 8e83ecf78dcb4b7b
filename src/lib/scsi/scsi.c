/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "address.h"
#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "hint.h"
#include "parse.h"
#include "scsi.h"
#include "strarray.h"
#include "usage.h"

/* ------------------------------------------------------------------ names and the grammar */

/* One decimal number without sign or leading zeros, at most @max. */
static gboolean parse_dec(const char *s, gsize len, guint64 max, guint64 *out)
{
        guint64 v = 0;

        if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                guint d;
                if (!g_ascii_isdigit(s[i]))
                        return FALSE;
                d = (guint)(s[i] - '0');
                if (v > (max - d) / 10)
                        return FALSE;
                v = v * 10 + d;
        }
        *out = v;
        return TRUE;
}

gboolean hd_scsi_address_parse(const char *text, HdScsiAddress *out)
{
        const char *p = text;
        guint64 v[4];

        for (int i = 0; i < 4; i++) {
                const char *end = strchr(p, ':');
                gsize len = end && i < 3 ? (gsize)(end - p) : strlen(p);

                if ((i < 3 && !end) || !parse_dec(p, len, i < 3 ? G_MAXUINT32 : G_MAXUINT64, &v[i]))
                        return FALSE;
                p += len + (i < 3 ? 1 : 0);
        }
        out->host = (guint32)v[0];
        out->channel = (guint32)v[1];
        out->target = (guint32)v[2];
        out->lun = v[3];
        return TRUE;
}

char *hd_scsi_address_format(const HdScsiAddress *a, char *buf)
{
        g_snprintf(buf, HD_SCSI_ADDRESS_STRLEN, "%u:%u:%u:%" G_GUINT64_FORMAT, a->host, a->channel,
                   a->target, a->lun);
        return buf;
}

/* A name udev gives in /dev/disk/by-id: one component, no "." or "..". */
static gboolean by_id_name_valid(const char *s)
{
        gsize len = strlen(s);

        if (len == 0 || len > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return FALSE;
        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr("._:+@=#,-", *p))
                        return FALSE;
        return TRUE;
}

static gboolean printable_ascii(const char *s, gsize min, gsize max)
{
        gsize len = strlen(s);

        if (len < min || len > max)
                return FALSE;
        for (const char *p = s; *p; p++)
                if ((guchar)*p < 0x20 || (guchar)*p > 0x7e)
                        return FALSE;
        return TRUE;
}

static gboolean hex_of_lengths(const char *s, const gsize *lengths)
{
        gsize len = strlen(s);

        if (!hd_is_hex_string(s, 1, 64))
                return FALSE;
        for (const gsize *l = lengths; *l; l++)
                if (len == *l)
                        return TRUE;
        return FALSE;
}

gboolean hd_scsi_spec_parse(const char *text, HdScsiSpec *spec, GError **error)
{
        static const gsize naa_lengths[] = {16, 32, 0};
        static const gsize eui_lengths[] = {16, 24, 32, 0};
        gsize len = strlen(text);

        memset(spec, 0, sizeof(*spec));
        if (len > 0 && len < HD_SCSI_WWID_MAX && printable_ascii(text, 1, HD_SCSI_WWID_MAX - 1)) {
                if (g_str_has_prefix(text, "/dev/disk/by-id/")) {
                        const char *name = text + strlen("/dev/disk/by-id/");
                        if (by_id_name_valid(name)) {
                                spec->kind = HD_SCSI_SPEC_BY_ID;
                                g_strlcpy(spec->text, name, sizeof(spec->text));
                                return TRUE;
                        }
                } else if ((text[0] == '3' || text[0] == '2') && !strchr(text, ':') &&
                           hex_of_lengths(text + 1, text[0] == '3' ? naa_lengths : eui_lengths)) {
                        /* scsi_id's and multipath's form: the designator type, then its hex
                         * (3: NAA, 2: EUI-64), as in 36001405... and /dev/disk/by-id/scsi-3... */
                        g_autofree char *low = g_ascii_strdown(text + 1, -1);
                        spec->kind = HD_SCSI_SPEC_WWID;
                        g_snprintf(spec->text, sizeof(spec->text), "%s.%s",
                                   text[0] == '3' ? "naa" : "eui", low);
                        return TRUE;
                } else if (g_ascii_isdigit(text[0]) || text[0] == '[') {
                        g_autofree char *inner = text[0] == '[' && len > 2 && text[len - 1] == ']'
                                                     ? g_strndup(text + 1, len - 2)
                                                     : g_strdup(text);
                        if (hd_scsi_address_parse(inner, &spec->address)) {
                                spec->kind = HD_SCSI_SPEC_HCTL;
                                hd_scsi_address_format(&spec->address, spec->text);
                                return TRUE;
                        }
                } else if (len > 4 && text[3] == '.') {
                        g_autofree char *prefix = g_ascii_strdown(text, 4);
                        const char *rest = text + 4;
                        gboolean ok = FALSE;

                        if (strcmp(prefix, "naa.") == 0)
                                ok = hex_of_lengths(rest, naa_lengths);
                        else if (strcmp(prefix, "eui.") == 0)
                                ok = hex_of_lengths(rest, eui_lengths);
                        else if (strcmp(prefix, "t10.") == 0)
                                ok = printable_ascii(rest, 1, 255) && rest[0] != ' ';
                        if (ok) {
                                spec->kind = HD_SCSI_SPEC_WWID;
                                if (strcmp(prefix, "t10.") == 0) {
                                        g_snprintf(spec->text, sizeof(spec->text), "t10.%s", rest);
                                } else {
                                        g_autofree char *low = g_ascii_strdown(text, -1);
                                        g_strlcpy(spec->text, low, sizeof(spec->text));
                                }
                                return TRUE;
                        }
                }
        }
        {
                /* the refusal shows the text with anything unprintable as '?' */
                g_autofree char *shown = g_strndup(text, MIN(len, 80));
                for (char *p = shown; *p; p++)
                        if ((guchar)*p < 0x20 || (guchar)*p > 0x7e)
                                *p = '?';
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "'%s%s' does not name a SCSI LUN: give its WWID (naa. with 16 or 32 "
                            "hex digits, eui. with 16, 24 or 32, t10.TEXT, or multipath's "
                            "3HEX), /dev/disk/by-id/NAME, or H:C:T:L; hostdev scsi list shows "
                            "them",
                            shown, len > 80 ? "..." : "");
        }
        return FALSE;
}

char *hd_scsi_wwid_from_vpd83(const guint8 *data, gsize len)
{
        gsize page_len, off = 4;
        int best_score = 0;
        const guint8 *best = NULL;
        int best_type = 0;

        if (!data || len < 4 || data[1] != 0x83)
                return NULL;
        page_len = ((gsize)data[2] << 8) | data[3];
        if (page_len + 4 < len)
                len = page_len + 4;
        while (off + 4 <= len) {
                const guint8 *d = data + off;
                guint code_set = d[0] & 0x0f, assoc = (d[1] >> 4) & 0x03, type = d[1] & 0x0f;
                gsize dlen = d[3];
                int score = 0;

                if (off + 4 + dlen > len)
                        break;
                if (assoc == 0) {
                        if (type == 3 && code_set == 1 && (dlen == 8 || dlen == 16))
                                score = dlen == 16 ? 8 : 7;
                        else if (type == 2 && code_set == 1 &&
                                 (dlen == 8 || dlen == 12 || dlen == 16))
                                score = 3 + (int)dlen / 4; /* 16 > 12 > 8 */
                        else if (type == 1 && code_set == 2 && dlen > 0)
                                score = 1;
                }
                if (score > best_score) {
                        best_score = score;
                        best = d;
                        best_type = type;
                }
                off += 4 + dlen;
        }
        if (!best)
                return NULL;
        {
                g_autoptr(GString) s = g_string_new(NULL);
                gsize dlen = best[3];

                if (best_type == 1) {
                        g_string_append(s, "t10.");
                        for (gsize i = 0; i < dlen; i++) {
                                guint8 c = best[4 + i];
                                if (c == 0)
                                        break;
                                if (c < 0x20 || c > 0x7e)
                                        return NULL;
                                g_string_append_c(s, (char)c);
                        }
                        if (s->len == 4)
                                return NULL;
                } else {
                        g_string_append(s, best_type == 3 ? "naa." : "eui.");
                        for (gsize i = 0; i < dlen; i++)
                                g_string_append_printf(s, "%02x", best[4 + i]);
                }
                return g_string_free(g_steal_pointer(&s), FALSE);
        }
}

const char *hd_scsi_verdict_name(HdScsiVerdict v)
{
        switch (v) {
        case HD_SCSI_ASSIGNABLE:
                return "assignable";
        case HD_SCSI_IN_USE:
                return "in-use";
        case HD_SCSI_REFUSED:
                return "refused";
        case HD_SCSI_NOT_ASSIGNABLE:
                return "not-assignable";
        }
        return "unknown";
}

const char *hd_scsi_type_name(int type, char *buf)
{
        static const char *const names[] = {
            [0x00] = "disk",      [0x01] = "tape",          [0x02] = "printer",
            [0x03] = "processor", [0x04] = "worm",          [0x05] = "cd/dvd",
            [0x06] = "scanner",   [0x07] = "optical",       [0x08] = "changer",
            [0x09] = "comms",     [0x0c] = "storage-array", [0x0d] = "enclosure",
            [0x0e] = "rbc",       [0x0f] = "card-reader",   [0x11] = "osd",
            [0x14] = "zbc",       [0x1e] = "well-known-lu", [0x1f] = "no-device",
        };

        if (type >= 0 && type < (int)G_N_ELEMENTS(names) && names[type])
                return names[type];
        if (type < 0)
                return "unknown";
        g_snprintf(buf, 16, "type %d", type);
        return buf;
}

/* WWIDs compared as the kernel and udev spell them: the hex of naa and eui in any case, runs of
 * spaces in a t10 id (vendor and product are space-padded fields) as one, trailing ones
 * dropped. */
static char *wwid_key(const char *w)
{
        g_autoptr(GString) s = g_string_new(NULL);

        if (g_ascii_strncasecmp(w, "t10.", 4) != 0) {
                g_autofree char *low = g_ascii_strdown(w, -1);
                return g_strdup(low);
        }
        g_string_append(s, "t10.");
        for (const char *p = w + 4; *p; p++) {
                if (*p == ' ' && (s->len == 4 || s->str[s->len - 1] == ' '))
                        continue;
                g_string_append_c(s, *p);
        }
        while (s->len > 4 && s->str[s->len - 1] == ' ')
                g_string_truncate(s, s->len - 1);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static gboolean wwid_equal(const char *a, const char *b)
{
        g_autofree char *ka = wwid_key(a);
        g_autofree char *kb = wwid_key(b);

        return strcmp(ka, kb) == 0;
}

/* ------------------------------------------------------------------ the inventory */

void hd_scsi_device_free(HdScsiDevice *dev)
{
        if (!dev)
                return;
        g_free(dev->name);
        g_free(dev->vendor);
        g_free(dev->model);
        g_free(dev->rev);
        g_free(dev->state);
        g_free(dev->wwid);
        g_free(dev->sg);
        g_free(dev->block);
        g_ptr_array_unref(dev->partitions);
        g_ptr_array_unref(dev->by_id);
        g_free(dev->host);
        g_free(dev->proc_name);
        g_free(dev->pci);
        g_ptr_array_unref(dev->host_use);
        g_ptr_array_unref(dev->holders);
        g_ptr_array_unref(dev->held_by);
        g_free(dev->reason);
        g_ptr_array_unref(dev->warnings);
        g_free(dev);
}

static char *attr(HdCtx *ctx, const char *dir, const char *name)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        char *v = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);

        if (v)
                g_strstrip(v);
        return v;
}

/* A kernel name made of letters and digits only ("sdb", "sg2", "host0"): what a path is built
 * from. */
static gboolean kernel_name_valid(const char *s, const char *prefix)
{
        if (!g_str_has_prefix(s, prefix) || strlen(s) > 32 || strlen(s) == strlen(prefix))
                return FALSE;
        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p))
                        return FALSE;
        return TRUE;
}

/* The one entry of @dir/@sub named PREFIX..., or NULL. */
static char *child_named(HdCtx *ctx, const char *dir, const char *sub, const char *prefix)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, sub);
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), path, NULL);

        for (guint i = 0; names && i < names->len; i++)
                if (kernel_name_valid(names->pdata[i], prefix))
                        return g_strdup(names->pdata[i]);
        return NULL;
}

/* Where the LUN sits: the adapter (the hostN nearest to it) and the PCI function above it. */
static void load_place(HdCtx *ctx, HdScsiDevice *dev, const char *link)
{
        g_autofree char *target = hd_readlink_at(hd_ctx_get_root_fd(ctx), link, NULL);
        g_autofree char *real = target ? hd_path_resolve("sys/bus/scsi/devices", target) : NULL;
        g_auto(GStrv) parts = real ? g_strsplit(real, "/", -1) : NULL;
        int host_at = -1;
        guint n = parts ? g_strv_length(parts) : 0;

        for (int i = (int)n - 1; i >= 0 && host_at < 0; i--)
                if (kernel_name_valid(parts[i], "host") &&
                    strspn(parts[i] + 4, "0123456789") == strlen(parts[i] + 4))
                        host_at = i;
        if (host_at >= 0) {
                g_autofree char *dir = NULL;
                g_autofree char *uid = NULL;
                gint64 v;

                dev->host = g_strdup(parts[host_at]);
                dir = g_strdup_printf("sys/class/scsi_host/%s", dev->host);
                dev->proc_name = attr(ctx, dir, "proc_name");
                uid = attr(ctx, dir, "unique_id");
                if (uid && hd_parse_int(uid, 0, G_MAXINT, &v))
                        dev->unique_id = (int)v;
        }
        for (int i = (host_at >= 0 ? host_at : (int)n) - 1; i >= 0; i--) {
                HdAddress a;
                char buf[HD_ADDRESS_STRLEN];
                g_autoptr(HdDevice) pci = NULL;

                if (!hd_address_parse_sysfs_name(parts[i], &a))
                        continue;
                dev->pci = g_strdup(hd_address_format(&a, buf));
                pci = hd_device_load(ctx, &a, HD_FIELD_IOMMU, NULL);
                if (pci)
                        dev->iommu_group = pci->iommu_group;
                break;
        }
}

/* dev/disk/by-id, read once per listing: block device name -> GPtrArray of link names. */
static GHashTable *by_id_index(HdCtx *ctx)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) ids = hd_list_dir_at(root_fd, "dev/disk/by-id", NULL);
        GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);

        /* at most this many links are read (a host has a few per disk) */
        for (guint i = 0; ids && i < ids->len && i < 65536; i++) {
                g_autofree char *link = g_strdup_printf("dev/disk/by-id/%s", (char *)ids->pdata[i]);
                g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                const char *base = target ? strrchr(target, '/') : NULL;
                GPtrArray *names;

                base = base ? base + 1 : target;
                if (!base || !*base)
                        continue;
                names = g_hash_table_lookup(index, base);
                if (!names) {
                        names = g_ptr_array_new_with_free_func(g_free);
                        g_hash_table_insert(index, g_strdup(base), names);
                }
                g_ptr_array_add(names, g_strdup(ids->pdata[i]));
        }
        return index;
}

static void load_block(HdCtx *ctx, HdScsiDevice *dev, GHashTable *by_id)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *cls = g_strdup_printf("sys/class/block/%s", dev->block);
        g_autoptr(GPtrArray) entries = hd_list_dir_at(root_fd, cls, NULL);
        GPtrArray *ids = g_hash_table_lookup(by_id, dev->block);

        for (guint i = 0; entries && i < entries->len; i++) {
                const char *e = entries->pdata[i];
                g_autofree char *part = NULL;

                if (!g_str_has_prefix(e, dev->block) || !kernel_name_valid(e, dev->block))
                        continue;
                part = g_strdup_printf("%s/%s/partition", cls, e);
                if (hd_exists_at(root_fd, part, FALSE))
                        g_ptr_array_add(dev->partitions, g_strdup(e));
        }
        for (guint i = 0; ids && i < ids->len; i++)
                g_ptr_array_add(dev->by_id, g_strdup(ids->pdata[i]));
        for (guint i = 0; i < dev->partitions->len + 1; i++) {
                const char *name = i ? dev->partitions->pdata[i - 1] : dev->block;
                g_autoptr(HdBlockUse) u = hd_usage_blockdev_full(ctx, name);

                for (guint k = 0; k < u->uses->len; k++)
                        hd_str_array_add_unique(dev->host_use, u->uses->pdata[k]);
                for (guint k = 0; k < u->holders->len; k++)
                        hd_str_array_add_unique(dev->holders, u->holders->pdata[k]);
                dev->root |= u->root;
        }
}

/* Who holds the LUNs' nodes (/dev/sgN, /dev/sdX and its partitions) open: one pass over
 * proc/PID/fd for all of @devs. */
static void load_holders(HdCtx *ctx, GPtrArray *devs)
{
        g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) owner = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) procs = NULL;

        for (guint i = 0; i < devs->len; i++) {
                HdScsiDevice *d = devs->pdata[i];
                guint first = nodes->len;

                if (d->sg)
                        g_ptr_array_add(nodes, g_strdup_printf("/dev/%s", d->sg));
                if (d->block)
                        g_ptr_array_add(nodes, g_strdup_printf("/dev/%s", d->block));
                for (guint k = 0; d->block && k < d->partitions->len; k++)
                        g_ptr_array_add(
                            nodes, g_strdup_printf("/dev/%s", (char *)d->partitions->pdata[k]));
                for (guint k = first; k < nodes->len; k++)
                        g_hash_table_insert(owner, nodes->pdata[k], d);
        }
        procs = hd_usage_node_holders(ctx, nodes);
        for (guint i = 0; i < procs->len; i++) {
                const HdProcUse *u = procs->pdata[i];
                g_autofree char *vm = hd_usage_vm_of_pid(ctx, u->pid);

                for (guint k = 0; k < devs->len; k++) {
                        HdScsiDevice *d = devs->pdata[k];
                        g_autoptr(GString) s = g_string_new(NULL);
                        guint n = 0;

                        g_string_append_printf(s, "%d (%s%s%s) has ", u->pid, u->comm,
                                               vm ? ", VM " : "", vm ? vm : "");
                        for (guint m = 0; m < u->nodes->len; m++) {
                                if (g_hash_table_lookup(owner, u->nodes->pdata[m]) != d)
                                        continue;
                                g_string_append_printf(s, "%s%s", n++ ? ", " : "",
                                                       (char *)u->nodes->pdata[m]);
                        }
                        g_string_append(s, " open");
                        if (n)
                                g_ptr_array_add(d->held_by,
                                                g_string_free(g_steal_pointer(&s), FALSE));
                }
        }
}

static void decide(HdScsiDevice *dev)
{
        if (dev->root) {
                g_autofree char *uses = hd_str_array_join(dev->host_use, ", ");
                dev->verdict = HD_SCSI_REFUSED;
                dev->reason = g_strdup_printf("holds the host's root filesystem (%s): the host "
                                              "cannot run without it",
                                              uses);
        } else if (!dev->sg) {
                dev->verdict = HD_SCSI_NOT_ASSIGNABLE;
                dev->reason = g_strdup("no sg node: scsi-generic passes /dev/sgN, which the sg "
                                       "module makes (modprobe sg)");
        } else if (dev->host_use->len || dev->holders->len) {
                g_autofree char *uses = hd_str_array_join(dev->host_use, ", ");
                g_autofree char *holders = hd_str_array_join(dev->holders, ", ");
                dev->verdict = HD_SCSI_REFUSED;
                dev->reason = g_strdup_printf("the host uses it: %s%s%s%s", uses,
                                              *uses && *holders ? "; " : "",
                                              *holders ? "held by " : "", holders);
        } else if (dev->held_by->len) {
                g_autofree char *procs = hd_str_array_join(dev->held_by, ", ");
                dev->verdict = HD_SCSI_IN_USE;
                dev->reason = g_strdup_printf("held open: %s", procs);
        } else {
                dev->verdict = HD_SCSI_ASSIGNABLE;
        }
        if (dev->state && strcmp(dev->state, "running") != 0)
                g_ptr_array_add(dev->warnings,
                                g_strdup_printf("its state is %s, not running", dev->state));
        if (dev->block && dev->sg)
                g_ptr_array_add(dev->warnings,
                                g_strdup_printf("scsi-generic leaves the sd driver bound to "
                                                "/dev/%s: the host can still read and write the "
                                                "LUN while the guest uses it",
                                                dev->block));
        if (dev->type == 0)
                g_ptr_array_add(dev->warnings,
                                g_strdup_printf("a disk: give it as scsi-block (libvirt <disk "
                                                "type='block' device='lun'>) or virtio-blk on "
                                                "/dev/%s unless the guest needs raw SCSI "
                                                "commands; scsi-generic is for tapes and "
                                                "medium changers",
                                                dev->block ? dev->block : "sdX"));
}

/* One LUN without its holders and verdict (load_holders() and decide() finish it). */
static HdScsiDevice *load(HdCtx *ctx, const HdScsiAddress *address, GHashTable *by_id)
{
        g_autoptr(HdScsiDevice) dev = NULL;
        char name[HD_SCSI_ADDRESS_STRLEN];
        g_autofree char *dir = NULL;
        g_autofree char *type = NULL;
        gint64 v;

        hd_scsi_address_format(address, name);
        dir = g_strdup_printf("sys/bus/scsi/devices/%s", name);
        if (!hd_exists_at(hd_ctx_get_root_fd(ctx), dir, FALSE))
                return NULL;
        dev = g_new0(HdScsiDevice, 1);
        dev->name = g_strdup(name);
        dev->address = *address;
        dev->type = dev->unique_id = dev->iommu_group = -1;
        dev->partitions = g_ptr_array_new_with_free_func(g_free);
        dev->by_id = g_ptr_array_new_with_free_func(g_free);
        dev->host_use = g_ptr_array_new_with_free_func(g_free);
        dev->holders = g_ptr_array_new_with_free_func(g_free);
        dev->held_by = g_ptr_array_new_with_free_func(g_free);
        dev->warnings = g_ptr_array_new_with_free_func(g_free);
        type = attr(ctx, dir, "type");
        if (type && hd_parse_int(type, 0, 31, &v))
                dev->type = (int)v;
        dev->vendor = attr(ctx, dir, "vendor");
        dev->model = attr(ctx, dir, "model");
        dev->rev = attr(ctx, dir, "rev");
        dev->state = attr(ctx, dir, "state");
        dev->wwid = attr(ctx, dir, "wwid");
        if (dev->wwid && !*dev->wwid)
                g_clear_pointer(&dev->wwid, g_free);
        if (!dev->wwid) {
                g_autofree char *path = g_strdup_printf("%s/vpd_pg83", dir);
                g_autoptr(GBytes) page =
                    hd_read_bytes_at(hd_ctx_get_root_fd(ctx), path, 4096, NULL);
                gsize len = 0;
                const guint8 *d = page ? g_bytes_get_data(page, &len) : NULL;
                dev->wwid = hd_scsi_wwid_from_vpd83(d, len);
        }
        dev->sg = child_named(ctx, dir, "scsi_generic", "sg");
        dev->block = child_named(ctx, dir, "block", "");
        load_place(ctx, dev, dir);
        if (dev->block)
                load_block(ctx, dev, by_id);
        return g_steal_pointer(&dev);
}

static gint compare_lun(gconstpointer a, gconstpointer b)
{
        const HdScsiDevice *x = *(HdScsiDevice *const *)a, *y = *(HdScsiDevice *const *)b;
        const HdScsiAddress *p = &x->address, *q = &y->address;

        if (p->host != q->host)
                return p->host < q->host ? -1 : 1;
        if (p->channel != q->channel)
                return p->channel < q->channel ? -1 : 1;
        if (p->target != q->target)
                return p->target < q->target ? -1 : 1;
        return p->lun < q->lun ? -1 : p->lun > q->lun;
}

GPtrArray *hd_scsi_list(HdCtx *ctx, GError **error)
{
        g_autoptr(GPtrArray) names = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(GHashTable) by_id = NULL;
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_scsi_device_free);

        names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), "sys/bus/scsi/devices", &local);
        if (!names) {
                if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                        return out;
                g_propagate_error(error, g_steal_pointer(&local));
                g_ptr_array_unref(out);
                return NULL;
        }
        by_id = by_id_index(ctx);
        for (guint i = 0; i < names->len; i++) {
                HdScsiAddress a;
                HdScsiDevice *dev;

                /* hostN and targetH:C:T are there too */
                if (!hd_scsi_address_parse(names->pdata[i], &a))
                        continue;
                dev = load(ctx, &a, by_id);
                if (dev)
                        g_ptr_array_add(out, dev);
        }
        load_holders(ctx, out);
        for (guint i = 0; i < out->len; i++)
                decide(out->pdata[i]);
        g_ptr_array_sort(out, compare_lun);
        return out;
}

HdScsiDevice *hd_scsi_load(HdCtx *ctx, const HdScsiAddress *address, GError **error)
{
        g_autoptr(GHashTable) by_id = by_id_index(ctx);
        HdScsiDevice *dev = load(ctx, address, by_id);
        char name[HD_SCSI_ADDRESS_STRLEN];

        if (dev) {
                g_autoptr(GPtrArray) one = g_ptr_array_new();
                g_ptr_array_add(one, dev);
                load_holders(ctx, one);
                decide(dev);
        } else {
                g_autofree char *list = hd_hint_usb_scsi(ctx, HD_HINT_SCSI_LIST, NULL);
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no SCSI LUN %s (sys/bus/scsi/devices has no such entry); "
                            "%s shows the LUNs there are",
                            hd_scsi_address_format(address, name), list);
        }
        return dev;
}

HdScsiDevice *hd_scsi_resolve(HdCtx *ctx, const HdScsiSpec *spec, GError **error)
{
        g_autoptr(GPtrArray) all = NULL;
        GPtrArray *matches;
        g_autofree char *block = NULL;

        if (spec->kind == HD_SCSI_SPEC_HCTL)
                return hd_scsi_load(ctx, &spec->address, error);
        if (spec->kind == HD_SCSI_SPEC_BY_ID) {
                g_autofree char *link = g_strdup_printf("dev/disk/by-id/%s", spec->text);
                g_autofree char *target = hd_readlink_at(hd_ctx_get_root_fd(ctx), link, NULL);
                const char *base = target ? strrchr(target, '/') : NULL;

                base = base ? base + 1 : target;
                if (!base || !kernel_name_valid(base, "")) {
                        g_autofree char *list = hd_hint_usb_scsi(ctx, HD_HINT_SCSI_LIST, NULL);
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "/dev/disk/by-id/%s does not exist (or is not a link to a "
                                    "block device); %s shows the LUNs and their by-id names",
                                    spec->text, list);
                        return NULL;
                }
                block = g_strdup(base);
        }
        if (!(all = hd_scsi_list(ctx, error)))
                return NULL;
        matches = g_ptr_array_new();
        for (guint i = 0; i < all->len; i++) {
                HdScsiDevice *d = all->pdata[i];
                if (block ? (d->block && strcmp(d->block, block) == 0)
                          : (d->wwid && wwid_equal(d->wwid, spec->text)))
                        g_ptr_array_add(matches, d);
        }
        if (matches->len == 1) {
                guint idx = 0;
                g_ptr_array_find(all, matches->pdata[0], &idx);
                g_ptr_array_unref(matches);
                return g_ptr_array_steal_index(all, idx);
        }
        if (matches->len == 0) {
                g_autofree char *list = hd_hint_usb_scsi(ctx, HD_HINT_SCSI_LIST, NULL);
                if (block) {
                        /* a partition, a dm device, an NVMe namespace: not a SCSI LUN */
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "/dev/disk/by-id/%s points at %s, which is not a SCSI LUN "
                                    "(a partition or a device-mapper or NVMe device); name the "
                                    "whole disk: %s shows the LUNs",
                                    spec->text, block, list);
                } else {
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "no SCSI LUN has WWID %s on this host (it may be on another "
                                    "host, or its adapter is not loaded); %s shows the WWIDs "
                                    "there are",
                                    spec->text, list);
                }
        } else {
                g_autoptr(GString) names = g_string_new(NULL);
                for (guint i = 0; i < matches->len; i++)
                        g_string_append_printf(names, "%s%s", i ? ", " : "",
                                               ((HdScsiDevice *)matches->pdata[i])->name);
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "WWID %s is seen on %u paths (%s): the same LUN through several "
                            "adapters is multipath's to manage; give one path as H:C:T:L if you "
                            "really mean it",
                            spec->text, matches->len, names->str);
        }
        g_ptr_array_unref(matches);
        return NULL;
}

/* ------------------------------------------------------------------ the guest */

gboolean hd_scsi_check(HdCtx *ctx, const HdScsiDevice *dev, const char *label,
                       const HdScsiGuestOptions *opts, GError **error)
{
        g_autofree char *who = NULL;

        if (label && strcmp(label, dev->name) != 0)
                who = g_strdup_printf("%s (%s%s%s)", label, dev->name, dev->block ? ", " : "",
                                      dev->block ? dev->block : "");
        else
                who = g_strdup_printf("%s%s%s%s", dev->name, dev->block ? " (" : "",
                                      dev->block ? dev->block : "", dev->block ? ")" : "");
        switch (dev->verdict) {
        case HD_SCSI_ASSIGNABLE:
                return TRUE;
        case HD_SCSI_NOT_ASSIGNABLE: {
                g_autofree char *show =
                    hd_hint_usb_scsi(ctx, HD_HINT_SCSI_SHOW, label ? label : dev->name);
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s has no sg node: scsi-generic passes /dev/sgN, which the sg module "
                            "makes; modprobe sg (and echo sg > /etc/modules-load.d/sg.conf for "
                            "the next boots), then %s",
                            who, show);
                return FALSE;
        }
        case HD_SCSI_REFUSED:
                if (dev->root) {
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "%s %s; nothing overrides that: pass another LUN", who,
                                    dev->reason);
                        return FALSE;
                }
                if (opts->force)
                        return TRUE;
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s: %s; unmount it, swapoff, or take it out of its volume group, "
                            "multipath map or array first, or pass %s",
                            who, dev->reason, hd_hint_option(ctx, HD_HINT_GUEST_FORCE));
                return FALSE;
        case HD_SCSI_IN_USE:
                if (opts->force || opts->shareable)
                        return TRUE;
                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "%s is in use, %s; one owner at a time: stop it first, or pass %s "
                            "when every VM that has the LUN shares it (cluster disks), or %s",
                            who, dev->reason, hd_hint_option(ctx, HD_HINT_GUEST_SHAREABLE),
                            hd_hint_option(ctx, HD_HINT_GUEST_FORCE));
                return FALSE;
        }
        return FALSE;
}

GPtrArray *hd_scsi_guest_warnings(const HdScsiSpec *spec, const HdScsiDevice *dev)
{
        GPtrArray *w = g_ptr_array_new_with_free_func(g_free);

        if (spec->kind == HD_SCSI_SPEC_HCTL)
                g_ptr_array_add(
                    w, g_strdup_printf("%s names the LUN by its adapter number "
                                       "(host%u), which changes at reboot and "
                                       "hotplug; name it by %s%s",
                                       spec->text, dev->address.host, dev->wwid ? "its WWID: " : "",
                                       dev->wwid ? dev->wwid : "a /dev/disk/by-id name"));
        if (dev->verdict != HD_SCSI_ASSIGNABLE)
                g_ptr_array_add(w,
                                g_strdup_printf("%s is %s (%s), passed as asked", dev->name,
                                                hd_scsi_verdict_name(dev->verdict), dev->reason));
        for (guint k = 0; k < dev->warnings->len; k++)
                g_ptr_array_add(w, g_strdup(dev->warnings->pdata[k]));
        return w;
}

char *hd_scsi_hostdev_xml(const HdScsiDevice *dev, const HdScsiGuestOptions *opts, guint indent)
{
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *pad = g_strnfill(indent, ' ');
        const char *host = dev->host ? dev->host + 4 : "0";

        g_string_append_printf(s,
                               "%s<hostdev mode='subsystem' type='scsi' managed='no' "
                               "rawio='yes'>\n",
                               pad);
        g_string_append_printf(s, "%s  <source>\n", pad);
        g_string_append_printf(s, "%s    <adapter name='scsi_host%s'/>\n", pad, host);
        g_string_append_printf(
            s, "%s    <address bus='%u' target='%u' unit='%" G_GUINT64_FORMAT "'/>\n", pad,
            dev->address.channel, dev->address.target, dev->address.lun);
        g_string_append_printf(s, "%s  </source>\n", pad);
        if (opts->readonly)
                g_string_append_printf(s, "%s  <readonly/>\n", pad);
        if (opts->shareable)
                g_string_append_printf(s, "%s  <shareable/>\n", pad);
        g_string_append_printf(s, "%s</hostdev>\n", pad);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

char **hd_scsi_qemu_args(GPtrArray *devs, const HdScsiGuestOptions *opts)
{
        g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < devs->len; i++) {
                const HdScsiDevice *d = devs->pdata[i];
                g_ptr_array_add(args, g_strdup("-blockdev"));
                g_ptr_array_add(args,
                                g_strdup_printf("{\"driver\":\"host_device\",\"filename\":\"/dev/"
                                                "%s\",\"node-name\":\"hostdev-%s\"%s}",
                                                d->sg, d->sg,
                                                opts->readonly ? ",\"read-only\":true" : ""));
        }
        g_ptr_array_add(args, g_strdup("-device"));
        g_ptr_array_add(args, g_strdup("virtio-scsi-pci,id=hostdev-scsi0"));
        for (guint i = 0; i < devs->len; i++) {
                const HdScsiDevice *d = devs->pdata[i];
                g_ptr_array_add(args, g_strdup("-device"));
                g_ptr_array_add(args,
                                g_strdup_printf("scsi-generic,bus=hostdev-scsi0.0,drive="
                                                "hostdev-%s%s",
                                                d->sg, opts->shareable ? ",share-rw=on" : ""));
        }
        g_ptr_array_add(args, NULL);
        return (char **)g_ptr_array_free(g_steal_pointer(&args), FALSE);
}
