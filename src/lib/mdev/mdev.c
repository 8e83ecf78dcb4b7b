/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "address.h"
#include "fileio.h"
#include "hd-error.h"
#include "hint.h"
#include "lock.h"
#include "mdev.h"
#include "parse.h"
#include "usage.h"

#define MDEV_BUS "sys/class/mdev_bus"
#define MDEV_DEVICES "sys/bus/mdev/devices"
#define MDEVCTL_DIR "etc/mdevctl.d"

/* mdevctl's definitions are a few dozen bytes; anything much larger is not one. */
#define DEFINITION_MAX (64 * 1024)

/* ---------------------------------------------------------------- names */

gboolean hd_mdev_uuid_parse(const char *s, char out[HD_MDEV_UUID_STRLEN])
{
        if (!s || strlen(s) != HD_MDEV_UUID_STRLEN - 1)
                return FALSE;
        for (guint i = 0; i < HD_MDEV_UUID_STRLEN - 1; i++) {
                gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;
                char c = s[i];

                if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return FALSE;
        }
        if (out)
                memcpy(out, s, HD_MDEV_UUID_STRLEN);
        return TRUE;
}

char *hd_mdev_uuid_generate(void)
{
        /* g_uuid_string_random(): version 4, lowercase, canonical */
        return g_uuid_string_random();
}

/* A name the kernel listed (a parent, a type): one path component. */
static gboolean plain_name(const char *s)
{
        return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
               strlen(s) < 256;
}

static char *read_attr(int root_fd, const char *dir, const char *name)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        char *v = hd_read_attr_optional_at(root_fd, path);

        return v ? g_strstrip(v) : NULL;
}

/* ---------------------------------------------------------------- free */

void hd_mdev_type_free(HdMdevType *type)
{
        if (!type)
                return;
        g_free(type->id);
        g_free(type->name);
        g_free(type->description);
        g_free(type->device_api);
        if (type->instances)
                g_ptr_array_unref(type->instances);
        g_free(type);
}

void hd_mdev_parent_free(HdMdevParent *parent)
{
        if (!parent)
                return;
        g_free(parent->name);
        g_free(parent->sysfs_path);
        g_free(parent->driver);
        if (parent->types)
                g_ptr_array_unref(parent->types);
        g_free(parent);
}

void hd_mdev_free(HdMdev *mdev)
{
        if (!mdev)
                return;
        g_free(mdev->parent);
        g_free(mdev->type);
        g_free(mdev->driver);
        g_free(mdev->start);
        if (mdev->holders)
                g_ptr_array_unref(mdev->holders);
        g_free(mdev);
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static gint compare_types(gconstpointer a, gconstpointer b)
{
        return strcmp((*(HdMdevType *const *)a)->id, (*(HdMdevType *const *)b)->id);
}

static gint compare_parents(gconstpointer a, gconstpointer b)
{
        return strcmp((*(HdMdevParent *const *)a)->name, (*(HdMdevParent *const *)b)->name);
}

static gint compare_mdevs(gconstpointer a, gconstpointer b)
{
        return strcmp((*(HdMdev *const *)a)->uuid, (*(HdMdev *const *)b)->uuid);
}

/* ---------------------------------------------------------------- parents and types */

/* The parent's directory below the root, resolved through its mdev_bus link. */
static char *parent_dir(int root_fd, const char *name)
{
        g_autofree char *link = g_strdup_printf(MDEV_BUS "/%s", name);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);

        if (!target)
                return hd_exists_at(root_fd, link, FALSE) ? g_steal_pointer(&link) : NULL;
        return hd_path_resolve(MDEV_BUS, target);
}

static HdMdevType *type_load(int root_fd, const char *types_dir, const char *id)
{
        g_autofree char *dir = g_strdup_printf("%s/%s", types_dir, id);
        g_autofree char *devs = g_strdup_printf("%s/devices", dir);
        g_autofree char *avail = read_attr(root_fd, dir, "available_instances");
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, devs, NULL);
        HdMdevType *t = g_new0(HdMdevType, 1);
        gint64 n;

        t->id = g_strdup(id);
        t->name = read_attr(root_fd, dir, "name");
        t->description = read_attr(root_fd, dir, "description");
        t->device_api = read_attr(root_fd, dir, "device_api");
        t->available = avail && hd_parse_int(avail, 0, G_MAXINT, &n) ? (int)n : -1;
        t->instances = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; names && i < names->len; i++)
                if (hd_mdev_uuid_parse(names->pdata[i], NULL))
                        g_ptr_array_add(t->instances, g_strdup(names->pdata[i]));
        g_ptr_array_sort(t->instances, compare_strings);
        return t;
}

HdMdevParent *hd_mdev_parent_load(HdCtx *ctx, const char *name, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(HdMdevParent) p = NULL;
        g_autofree char *dir = plain_name(name) ? parent_dir(root_fd, name) : NULL;
        g_autofree char *types_dir = NULL;
        g_autofree char *drv_link = NULL;
        g_autoptr(GPtrArray) ids = NULL;
        HdAddress a;

        if (!dir) {
                g_autofree char *hint = hd_hint_mdev(ctx, HD_HINT_MDEV_TYPES, NULL);

                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s is not an mdev parent (not in /sys/class/mdev_bus); %s "
                            "lists the parents",
                            name, hint);
                return NULL;
        }
        p = g_new0(HdMdevParent, 1);
        p->name = g_strdup(name);
        p->sysfs_path = g_strconcat("/", dir, NULL);
        p->is_pci = hd_address_parse_sysfs_name(name, &a);
        drv_link = g_strdup_printf("%s/driver", dir);
        p->driver = hd_readlink_basename_at(root_fd, drv_link);
        p->types = g_ptr_array_new_with_free_func((GDestroyNotify)hd_mdev_type_free);
        types_dir = g_strdup_printf("%s/mdev_supported_types", dir);
        ids = hd_list_dir_at(root_fd, types_dir, NULL);
        for (guint i = 0; ids && i < ids->len; i++)
                if (plain_name(ids->pdata[i]))
                        g_ptr_array_add(p->types, type_load(root_fd, types_dir, ids->pdata[i]));
        g_ptr_array_sort(p->types, compare_types);
        return g_steal_pointer(&p);
}

static GPtrArray *parent_names(HdCtx *ctx)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), MDEV_BUS, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; names && i < names->len; i++)
                if (plain_name(names->pdata[i]))
                        g_ptr_array_add(out, g_strdup(names->pdata[i]));
        g_ptr_array_sort(out, compare_strings);
        return out;
}

GPtrArray *hd_mdev_list_parents(HdCtx *ctx, GError **error)
{
        g_autoptr(GPtrArray) names = parent_names(ctx);
        g_autoptr(GPtrArray) out =
                g_ptr_array_new_with_free_func((GDestroyNotify)hd_mdev_parent_free);

        for (guint i = 0; i < names->len; i++) {
                HdMdevParent *p = hd_mdev_parent_load(ctx, names->pdata[i], NULL);
                if (p) /* a parent gone meanwhile is left out */
                        g_ptr_array_add(out, p);
        }
        g_ptr_array_sort(out, compare_parents);
        return g_steal_pointer(&out);
}

char *hd_mdev_resolve_parent(HdCtx *ctx, const char *arg, GError **error)
{
        g_autoptr(GPtrArray) names = parent_names(ctx);
        g_autofree char *known = NULL;
        HdAddress a;

        for (guint i = 0; i < names->len; i++)
                if (strcmp(names->pdata[i], arg) == 0)
                        return g_strdup(arg);
        if (hd_address_parse(arg, &a, NULL)) {
                char buf[HD_ADDRESS_STRLEN];
                hd_address_format(&a, buf);
                for (guint i = 0; i < names->len; i++)
                        if (strcmp(names->pdata[i], buf) == 0)
                                return g_strdup(buf);
        }
        g_ptr_array_add(names, NULL);
        known = g_strjoinv(", ", (char **)names->pdata);
        if (names->len > 1) {
                g_autofree char *hint = hd_hint_mdev(ctx, HD_HINT_MDEV_TYPES, NULL);

                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s is not an mdev parent; the parents are %s (%s "
                            "shows their types)",
                            arg, known, hint);
        } else
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s is not an mdev parent, and this host has none (no driver offers "
                            "mediated devices: /sys/class/mdev_bus is empty)",
                            arg);
        return NULL;
}

/* ---------------------------------------------------------------- instances */

/* The definition files: parent -> (uuid -> path), from etc/mdevctl.d/<parent>/<uuid>. */
static void scan_definitions(HdCtx *ctx, GHashTable *by_uuid)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) parents = hd_list_dir_at(root_fd, MDEVCTL_DIR, NULL);

        for (guint i = 0; parents && i < parents->len; i++) {
                const char *parent = parents->pdata[i];
                g_autofree char *dir = NULL;
                g_autoptr(GPtrArray) files = NULL;

                /* mdevctl keeps its callout scripts in scripts.d */
                if (!plain_name(parent) || strcmp(parent, "scripts.d") == 0)
                        continue;
                dir = g_strdup_printf(MDEVCTL_DIR "/%s", parent);
                files = hd_list_dir_at(root_fd, dir, NULL);
                for (guint j = 0; files && j < files->len; j++)
                        if (hd_mdev_uuid_parse(files->pdata[j], NULL) &&
                            !g_hash_table_contains(by_uuid, files->pdata[j]))
                                g_hash_table_insert(by_uuid, g_strdup(files->pdata[j]),
                                                    g_strdup(parent));
        }
}

static char *string_member(JsonObject *o, const char *name)
{
        JsonNode *n = json_object_get_member(o, name);

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return NULL;
        return g_strdup(json_node_get_string(n));
}

gboolean hd_mdev_definition_parse(const char *text, gssize len, char **type, char **start)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        JsonObject *o;

        *type = *start = NULL;
        if (!json_parser_load_from_data(parser, text, len, NULL) ||
            !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root))
                return FALSE;
        o = json_node_get_object(root);
        *type = string_member(o, "mdev_type");
        *start = string_member(o, "start");
        return TRUE;
}

/* Fill @m's definition fields from etc/mdevctl.d/@parent/<uuid>. */
static void load_definition(HdCtx *ctx, HdMdev *m, const char *parent)
{
        g_autofree char *path = hd_mdev_definition_path(parent, m->uuid);
        g_autofree char *text = hd_read_file_at(hd_ctx_get_root_fd(ctx), path, DEFINITION_MAX,
                                                NULL);
        g_autofree char *type = NULL, *start = NULL;

        if (!text)
                return;
        m->defined = TRUE;
        if (!m->parent)
                m->parent = g_strdup(parent);
        if (!hd_mdev_definition_parse(text, -1, &type, &start))
                return;
        if (!m->type)
                m->type = g_steal_pointer(&type);
        m->start = g_steal_pointer(&start);
}

/* The active instance @uuid from sysfs; NULL when there is none. */
static HdMdev *load_active(HdCtx *ctx, const char *uuid)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *link = g_strdup_printf(MDEV_DEVICES "/%s", uuid);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
        g_autofree char *dir = target ? hd_path_resolve(MDEV_DEVICES, target) : NULL;
        g_autofree char *type_link = NULL, *group_link = NULL, *drv_link = NULL;
        g_autofree char *type_target = NULL, *group = NULL;
        HdMdev *m;
        gint64 n;

        if (!dir && !hd_exists_at(root_fd, link, FALSE))
                return NULL;
        if (!dir)
                dir = g_strdup(link);
        m = g_new0(HdMdev, 1);
        memcpy(m->uuid, uuid, HD_MDEV_UUID_STRLEN);
        m->active = TRUE;
        m->iommu_group = -1;
        m->holders = g_ptr_array_new_with_free_func(g_free);
        type_link = g_strdup_printf("%s/mdev_type", dir);
        group_link = g_strdup_printf("%s/iommu_group", dir);
        drv_link = g_strdup_printf("%s/driver", dir);
        /* mdev_type -> <parent>/mdev_supported_types/<type>: both names from the link */
        type_target = hd_readlink_at(root_fd, type_link, NULL);
        if (type_target) {
                g_autofree char *resolved = hd_path_resolve(dir, type_target);
                g_autofree char *types_dir = g_path_get_dirname(resolved);
                g_autofree char *pdir = g_path_get_dirname(types_dir);
                g_autofree char *tname = g_path_get_basename(types_dir);

                m->type = g_path_get_basename(resolved);
                if (strcmp(tname, "mdev_supported_types") == 0)
                        m->parent = g_path_get_basename(pdir);
        }
        if (!m->parent) {
                /* the instance's directory sits in its parent's */
                g_autofree char *pdir = g_path_get_dirname(dir);
                m->parent = g_path_get_basename(pdir);
        }
        group = hd_readlink_basename_at(root_fd, group_link);
        if (group && hd_parse_int(group, 0, G_MAXINT, &n))
                m->iommu_group = (int)n;
        m->driver = hd_readlink_basename_at(root_fd, drv_link);
        if (m->iommu_group >= 0) {
                g_autoptr(GPtrArray) holders = hd_usage_group_holders(ctx, m->iommu_group);
                for (guint i = 0; i < holders->len; i++)
                        g_ptr_array_add(m->holders, g_strdup(holders->pdata[i]));
        }
        return m;
}

static HdMdev *inactive_new(const char *uuid)
{
        HdMdev *m = g_new0(HdMdev, 1);

        memcpy(m->uuid, uuid, HD_MDEV_UUID_STRLEN);
        m->iommu_group = -1;
        m->holders = g_ptr_array_new_with_free_func(g_free);
        return m;
}

GPtrArray *hd_mdev_list(HdCtx *ctx, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, MDEV_DEVICES, NULL);
        g_autoptr(GHashTable) defs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_mdev_free);
        GHashTableIter it;
        gpointer k, v;

        scan_definitions(ctx, defs);
        for (guint i = 0; names && i < names->len; i++) {
                HdMdev *m;

                if (!hd_mdev_uuid_parse(names->pdata[i], NULL) ||
                    !(m = load_active(ctx, names->pdata[i])))
                        continue;
                if (m->parent)
                        load_definition(ctx, m, m->parent);
                g_ptr_array_add(out, m);
                g_hash_table_add(seen, m->uuid);
        }
        g_hash_table_iter_init(&it, defs);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                HdMdev *m;

                if (g_hash_table_contains(seen, k))
                        continue;
                m = inactive_new(k);
                load_definition(ctx, m, v);
                g_ptr_array_add(out, m);
        }
        g_ptr_array_sort(out, compare_mdevs);
        return g_steal_pointer(&out);
}

HdMdev *hd_mdev_get(HdCtx *ctx, const char *uuid, GError **error)
{
        g_autoptr(GHashTable) defs = NULL;
        HdMdev *m;
        const char *parent;

        if (!hd_mdev_uuid_parse(uuid, NULL)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is not a UUID in canonical form (8-4-4-4-12 lowercase hex "
                            "digits, e.g. 0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d)",
                            uuid);
                return NULL;
        }
        m = load_active(ctx, uuid);
        if (m) {
                if (m->parent)
                        load_definition(ctx, m, m->parent);
                return m;
        }
        defs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        scan_definitions(ctx, defs);
        parent = g_hash_table_lookup(defs, uuid);
        if (!parent) {
                g_autofree char *hint = hd_hint_mdev(ctx, HD_HINT_MDEV_LIST, NULL);

                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no mediated device %s (neither active nor defined); %s "
                            "shows them",
                            uuid, hint);
                return NULL;
        }
        m = inactive_new(uuid);
        load_definition(ctx, m, parent);
        return m;
}

HdMdev *hd_mdev_for_group(HdCtx *ctx, int group)
{
        g_autofree char *dir = g_strdup_printf("sys/kernel/iommu_groups/%d/devices", group);
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), dir, NULL);

        for (guint i = 0; group >= 0 && names && i < names->len; i++) {
                HdMdev *m;
                if (hd_mdev_uuid_parse(names->pdata[i], NULL) &&
                    (m = load_active(ctx, names->pdata[i]))) {
                        if (m->parent)
                                load_definition(ctx, m, m->parent);
                        return m;
                }
        }
        return NULL;
}

/* ---------------------------------------------------------------- persistence */

char *hd_mdev_definition_path(const char *parent, const char *uuid)
{
        return g_strdup_printf(MDEVCTL_DIR "/%s/%s", parent, uuid);
}

char *hd_mdev_definition_text(const char *type, gboolean autostart)
{
        g_autoptr(GString) s = g_string_new("{\n  \"mdev_type\": \"");
        g_autofree char *escaped = g_strescape(type, NULL);

        /* serde_json::to_string_pretty, as mdevctl's write_config() */
        g_string_append(s, escaped);
        g_string_append_printf(s, "\",\n  \"start\": \"%s\",\n  \"attrs\": []\n}",
                               autostart ? "auto" : "manual");
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static gboolean define(HdCtx *ctx, const char *parent, const char *type, const char *uuid,
                       GError **error)
{
        g_autofree char *path = hd_mdev_definition_path(parent, uuid);
        g_autofree char *text = hd_mdev_definition_text(type, TRUE);

        return hd_ctx_install_file(ctx, path, text, 0644, error);
}

/* ---------------------------------------------------------------- create / remove */

static const HdMdevType *find_type(const HdMdevParent *p, const char *type)
{
        for (guint i = 0; i < p->types->len; i++) {
                const HdMdevType *t = p->types->pdata[i];
                if (strcmp(t->id, type) == 0)
                        return t;
        }
        return NULL;
}

static char *type_list(const HdMdevParent *p)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < p->types->len; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "",
                                       ((HdMdevType *)p->types->pdata[i])->id);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static HdGroupLocks *lock_parent(HdCtx *ctx, const char *parent, GError **error)
{
        g_autofree char *name = g_strdup_printf("mdev-%s", parent);
        g_autofree char *what = g_strdup_printf("mdev parent %s", parent);

        return hd_named_lock_acquire(ctx, name, what, error);
}

gboolean hd_mdev_create(HdCtx *ctx, const char *parent, const char *type, const char *uuid,
                        gboolean persist, char **uuid_out, GError **error)
{
        g_autoptr(HdMdevParent) p = NULL;
        g_autoptr(HdMdevParent) now = NULL;
        g_autoptr(HdGroupLocks) lock = NULL;
        g_autoptr(HdMdev) existing = NULL;
        g_autoptr(GError) werr = NULL;
        g_autofree char *id = NULL;
        g_autofree char *path = NULL;
        const HdMdevType *t;
        char canon[HD_MDEV_UUID_STRLEN];

        if (uuid && !hd_mdev_uuid_parse(uuid, canon)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "--uuid %s is not a UUID in canonical form (8-4-4-4-12 lowercase hex "
                            "digits); leave --uuid out and hostdev makes one",
                            uuid);
                return FALSE;
        }
        id = uuid ? g_strdup(canon) : hd_mdev_uuid_generate();
        if (!(p = hd_mdev_parent_load(ctx, parent, error)))
                return FALSE;
        if (!(t = find_type(p, type))) {
                g_autofree char *types = type_list(p);
                g_autofree char *hint = hd_hint_mdev(ctx, HD_HINT_MDEV_TYPES, parent);
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "mdev parent %s has no type %s; its types are %s (%s)",
                            parent, type, *types ? types : "none", hint);
                return FALSE;
        }
        existing = load_active(ctx, id);
        if (existing) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "UUID exists: mediated device %s is already active (type %s on %s); "
                            "choose another %s, or leave it out",
                            id, existing->type ? existing->type : "unknown",
                            existing->parent ? existing->parent : "unknown",
                            hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API ? "\"uuid\""
                                                                           : "--uuid");
                return FALSE;
        }
        {
                /* a definition of the UUID elsewhere: mdevctl would see two devices in one */
                g_autoptr(GHashTable) defs =
                        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                const char *defined_on;

                scan_definitions(ctx, defs);
                defined_on = g_hash_table_lookup(defs, id);
                if (defined_on && strcmp(defined_on, parent) != 0) {
                        g_autofree char *hint =
                            hd_hint_mdev(ctx, HD_HINT_MDEV_REMOVE_PERSIST, id);
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "UUID exists: %s is defined for mdevctl on mdev parent %s "
                                    "(/etc/mdevctl.d/%s/%s); choose another %s, or "
                                    "%s first",
                                    id, defined_on, defined_on, id,
                                    hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API ? "\"uuid\""
                                                                                   : "--uuid",
                                    hint);
                        return FALSE;
                }
        }
        if (!hd_ctx_get_dry_run(ctx) && !(lock = lock_parent(ctx, parent, error)))
                return FALSE;
        /* Capacity is shared between the parent's types and other processes use it too: what
         * counts is the kernel's answer now, under the lock. */
        if (!(now = hd_mdev_parent_load(ctx, parent, error)))
                return FALSE;
        t = find_type(now, type);
        if (!t || t->available == 0) {
                g_autofree char *types = hd_hint_mdev(ctx, HD_HINT_MDEV_TYPES, parent);
                g_autofree char *list = hd_hint_mdev(ctx, HD_HINT_MDEV_LIST, NULL);
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "mdev parent %s has no capacity left for type %s (available_instances "
                            "0: the instances of its types share it); %s shows "
                            "what is left, %s what uses it",
                            parent, type, types, list);
                return FALSE;
        }
        path = g_strdup_printf(MDEV_BUS "/%s/mdev_supported_types/%s/create", parent, type);
        if (!hd_ctx_write(ctx, path, id, &werr)) {
                g_autofree char *types = hd_hint_mdev(ctx, HD_HINT_MDEV_TYPES, parent);
                g_autofree char *list = hd_hint_mdev(ctx, HD_HINT_MDEV_LIST, NULL);

                if (g_error_matches(werr, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "capacity changed: mdev parent %s refused another %s "
                                    "instance (no space left: another instance took the "
                                    "capacity meanwhile); %s shows what is "
                                    "left now",
                                    parent, type, types);
                else if (g_error_matches(werr, G_IO_ERROR, G_IO_ERROR_EXISTS))
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "UUID exists: mdev parent %s refused %s for type %s (a "
                                    "mediated device with that UUID was made meanwhile); "
                                    "%s shows them, %s the "
                                    "capacity",
                                    parent, id, type, list, types);
                else
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "cannot create a %s instance on mdev parent %s: %s", type,
                                    parent, werr->message);
                return FALSE;
        }
        if (persist && !define(ctx, parent, type, id, error)) {
                g_autofree char *rm = g_strdup_printf(MDEV_DEVICES "/%s/remove", id);
                /* not half done: the instance goes again when it cannot be made permanent */
                (void)hd_ctx_write(ctx, rm, "1", NULL);
                g_prefix_error(error, "mediated device %s was removed again, as its definition "
                                      "could not be written: ",
                               id);
                return FALSE;
        }
        if (uuid_out)
                *uuid_out = g_steal_pointer(&id);
        return TRUE;
}

gboolean hd_mdev_remove(HdCtx *ctx, const char *uuid, gboolean persist, GError **error)
{
        g_autoptr(HdMdev) m = hd_mdev_get(ctx, uuid, error);
        g_autoptr(HdGroupLocks) lock = NULL;

        if (!m)
                return FALSE;
        if (!m->active && !persist) {
                g_autofree char *hint = hd_hint_mdev(ctx, HD_HINT_MDEV_REMOVE_PERSIST, m->uuid);

                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "mediated device %s is defined (type %s on %s) but not active; "
                            "%s removes its definition",
                            m->uuid, m->type ? m->type : "unknown",
                            m->parent ? m->parent : "unknown", hint);
                return FALSE;
        }
        if (m->active) {
                g_autofree char *path = NULL;

                if (!hd_ctx_get_dry_run(ctx) && m->parent && plain_name(m->parent) &&
                    !(lock = lock_parent(ctx, m->parent, error)))
                        return FALSE;
                /* The kernel's remove waits for the device's user to let go (mtty has no
                 * request op): a write now would block until QEMU exits. Who holds it is
                 * read again under the lock. */
                if (m->iommu_group >= 0) {
                        g_ptr_array_unref(m->holders);
                        m->holders = hd_usage_group_holders(ctx, m->iommu_group);
                }
                if (m->holders->len > 0) {
                        g_autofree char *hint = hd_hint_mdev(ctx, HD_HINT_MDEV_REMOVE, m->uuid);
                        g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                                    "mediated device %s is open: process %s holds /dev/vfio/%d "
                                    "(its IOMMU group), and removing it would block until that "
                                    "process exits; shut the VM down first, then %s",
                                    m->uuid, (char *)m->holders->pdata[0], m->iommu_group,
                                    hint);
                        return FALSE;
                }
                path = g_strdup_printf(MDEV_DEVICES "/%s/remove", m->uuid);
                if (!hd_ctx_write(ctx, path, "1", error)) {
                        g_prefix_error(error, "cannot remove mediated device %s: ", m->uuid);
                        return FALSE;
                }
        }
        if (persist && m->defined && m->parent && plain_name(m->parent)) {
                g_autofree char *def = hd_mdev_definition_path(m->parent, m->uuid);
                if (!hd_ctx_remove_file(ctx, def, error))
                        return FALSE;
        }
        return TRUE;
}

/* ---------------------------------------------------------------- start (at boot) */

gboolean hd_mdev_start(HdCtx *ctx, const char *uuid, gboolean *was_active, GError **error)
{
        g_autoptr(HdMdev) m = hd_mdev_get(ctx, uuid, error);

        if (was_active)
                *was_active = FALSE;
        if (!m)
                return FALSE;
        if (m->active) {
                if (was_active)
                        *was_active = TRUE;
                return TRUE;
        }
        if (!m->parent || !plain_name(m->parent) || !m->type) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "the definition of mediated device %s (/etc/mdevctl.d/%s/%s) names "
                            "no mdev_type; define it again (hostdev mdev remove %s --persist, "
                            "then hostdev mdev create PARENT TYPE --uuid %s --persist)",
                            m->uuid, m->parent ? m->parent : "?", m->uuid, m->uuid, m->uuid);
                return FALSE;
        }
        return hd_mdev_create(ctx, m->parent, m->type, m->uuid, FALSE, NULL, error);
}

void hd_mdev_start_free(HdMdevStart *start)
{
        if (!start)
                return;
        g_free(start->type);
        g_free(start->error);
        g_free(start);
}

const char *hd_mdev_start_outcome_to_string(HdMdevStartOutcome outcome)
{
        switch (outcome) {
        case HD_MDEV_START_STARTED:
                return "started";
        case HD_MDEV_START_ACTIVE:
                return "active";
        case HD_MDEV_START_MANUAL:
                return "manual";
        case HD_MDEV_START_FAILED:
                return "failed";
        }
        return "failed";
}

static int compare_starts(gconstpointer a, gconstpointer b)
{
        return strcmp((*(HdMdevStart *const *)a)->uuid, (*(HdMdevStart *const *)b)->uuid);
}

GPtrArray *hd_mdev_start_parent(HdCtx *ctx, const char *parent, GError **error)
{
        g_autoptr(HdMdevParent) p = NULL;
        g_autoptr(GPtrArray) out =
                g_ptr_array_new_with_free_func((GDestroyNotify)hd_mdev_start_free);
        g_autofree char *dir = NULL;
        g_autoptr(GPtrArray) files = NULL;

        if (!(p = hd_mdev_parent_load(ctx, parent, error)))
                return NULL;
        dir = g_strdup_printf(MDEVCTL_DIR "/%s", p->name);
        files = hd_list_dir_at(hd_ctx_get_root_fd(ctx), dir, NULL);
        for (guint i = 0; files && i < files->len; i++) {
                g_autoptr(HdMdev) m = NULL;
                g_autoptr(GError) err = NULL;
                HdMdevStart *s;

                if (!hd_mdev_uuid_parse(files->pdata[i], NULL))
                        continue;
                s = g_new0(HdMdevStart, 1);
                memcpy(s->uuid, files->pdata[i], HD_MDEV_UUID_STRLEN);
                g_ptr_array_add(out, s);
                m = load_active(ctx, s->uuid);
                if (m) {
                        /* active: on this parent or (a UUID defined twice) another */
                        s->type = g_strdup(m->type);
                        s->outcome = HD_MDEV_START_ACTIVE;
                        continue;
                }
                m = inactive_new(s->uuid);
                load_definition(ctx, m, p->name);
                s->type = g_strdup(m->type);
                if (!m->type) {
                        s->outcome = HD_MDEV_START_FAILED;
                        s->error = g_strdup_printf("the definition %s/%s names no mdev_type",
                                                   dir, m->uuid);
                        continue;
                }
                if (!m->start || strcmp(m->start, "auto") != 0) {
                        /* "manual" (or anything mdevctl would not take for "auto") */
                        s->outcome = HD_MDEV_START_MANUAL;
                        continue;
                }
                if (!hd_mdev_create(ctx, p->name, m->type, m->uuid, FALSE, NULL, &err)) {
                        s->outcome = HD_MDEV_START_FAILED;
                        s->error = g_strdup(err->message);
                        continue;
                }
                s->outcome = HD_MDEV_START_STARTED;
        }
        g_ptr_array_sort(out, compare_starts);
        return g_steal_pointer(&out);
}

/* ---------------------------------------------------------------- guest configuration */

char *hd_mdev_hostdev_xml(const char *uuid, guint indent)
{
        g_autofree char *pad = g_strnfill(indent, ' ');

        return g_strdup_printf("%s<hostdev mode='subsystem' type='mdev' model='vfio-pci' "
                               "managed='no'>\n"
                               "%s  <source>\n"
                               "%s    <address uuid='%s'/>\n"
                               "%s  </source>\n"
                               "%s</hostdev>\n",
                               pad, pad, pad, uuid, pad, pad);
}

char *hd_mdev_qemu_device(const char *uuid, const char *id)
{
        if (id)
                return g_strdup_printf("vfio-pci,sysfsdev=/" MDEV_DEVICES "/%s,id=%s", uuid, id);
        return g_strdup_printf("vfio-pci,sysfsdev=/" MDEV_DEVICES "/%s", uuid);
}
