/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "request.h"

/* the agent's body errors: HD_ERROR_INVALID_ARGUMENT, answered with the CLI's codes */
#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), HD_ERROR, HD_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

JsonObject *hd_body_parse(const char *data, gsize len, GError **error)
{
        g_autoptr(GError) local = NULL;
        JsonObject *o = hd_http_body_parse_object(data, len, &local);

        /* the agent's errors are HD_ERROR's, answered with the CLI's codes */
        if (!o)
                g_set_error_literal(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, local->message);
        return o;
}

gboolean hd_body_check_members(JsonObject *o, const char *const *allowed, GError **error)
{
        return hd_http_body_check_members(o, allowed, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, error);
}

typedef enum { MEMBER_ERROR = -1, MEMBER_ABSENT = 0, MEMBER_PRESENT = 1 } MemberState;

/* The member @name into *out when present. Null is a wrong type like any other, never "not
 * given": a client that sends "dry_run": null must not get a real detach. */
static MemberState member_value(JsonObject *o, const char *name, const char *expected,
                                JsonNode **out, GError **error)
{
        JsonNode *n = json_object_get_member(o, name);

        *out = NULL;
        if (!n)
                return MEMBER_ABSENT;
        if (JSON_NODE_HOLDS_NULL(n)) {
                invalid(error, "\"%s\" must be %s, not null; leave it out for the default", name,
                        expected);
                return MEMBER_ERROR;
        }
        *out = n;
        return MEMBER_PRESENT;
}

static gboolean holds(JsonNode *n, GType type)
{
        return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type;
}

gboolean hd_body_get_bool(JsonObject *o, const char *name, gboolean *out, GError **error)
{
        JsonNode *n;
        MemberState state = member_value(o, name, "true or false", &n, error);

        if (state != MEMBER_PRESENT)
                return state == MEMBER_ABSENT;
        if (!holds(n, G_TYPE_BOOLEAN))
                return invalid(error, "\"%s\" must be true or false", name);
        *out = json_node_get_boolean(n);
        return TRUE;
}

gboolean hd_body_get_string(JsonObject *o, const char *name, const char **out, GError **error)
{
        JsonNode *n;
        MemberState state = member_value(o, name, "a string", &n, error);

        if (state != MEMBER_PRESENT)
                return state == MEMBER_ABSENT;
        if (!holds(n, G_TYPE_STRING))
                return invalid(error, "\"%s\" must be a string", name);
        *out = json_node_get_string(n);
        return TRUE;
}

gboolean hd_body_get_uint(JsonObject *o, const char *name, guint64 *out, GError **error)
{
        JsonNode *n;
        MemberState state = member_value(o, name, "a non-negative integer", &n, error);

        if (state != MEMBER_PRESENT)
                return state == MEMBER_ABSENT;
        if (!holds(n, G_TYPE_INT64) || json_node_get_int(n) < 0)
                return invalid(error, "\"%s\" must be a non-negative integer", name);
        *out = (guint64)json_node_get_int(n);
        return TRUE;
}

gboolean hd_body_get_strings(JsonObject *o, const char *name, GPtrArray **out, GError **error)
{
        JsonNode *n;
        MemberState state = member_value(o, name, "an array of strings", &n, error);
        JsonArray *arr;
        g_autoptr(GPtrArray) words = NULL;

        if (state != MEMBER_PRESENT)
                return state == MEMBER_ABSENT;
        if (!JSON_NODE_HOLDS_ARRAY(n))
                return invalid(error, "\"%s\" must be an array of strings", name);
        arr = json_node_get_array(n);
        words = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
                JsonNode *e = json_array_get_element(arr, i);
                if (!holds(e, G_TYPE_STRING))
                        return invalid(error, "\"%s\" must be an array of strings", name);
                g_ptr_array_add(words, g_strdup(json_node_get_string(e)));
        }
        *out = g_steal_pointer(&words);
        return TRUE;
}

gboolean hd_body_parse_bind(JsonObject *o, const char *action, HdBindArgs *out, GError **error)
{
        static const char *const detach_members[] = {"group", "dry_run", "force", "persist", NULL};
        static const char *const attach_members[] = {"group",  "dry_run",      "force",
                                                     "driver", "keep_persist", NULL};
        static const char *const verify_members[] = {NULL};
        gboolean is_detach = strcmp(action, "detach") == 0;
        gboolean is_attach = strcmp(action, "attach") == 0;
        JsonNode *force = NULL;
        const char *driver = NULL;

        memset(out, 0, sizeof(*out));
        if (!hd_body_check_members(o,
                                   is_detach   ? detach_members
                                   : is_attach ? attach_members
                                               : verify_members,
                                   error))
                return FALSE;
        if (member_value(o, "force", "true, false, 0, 1 or 2", &force, error) == MEMBER_ERROR)
                return FALSE;
        /* "force": true, or a count (2 also overrides the default-route NIC, like -ff) */
        if (force && holds(force, G_TYPE_INT64)) {
                gint64 v = json_node_get_int(force);
                if (v < 0 || v > 2)
                        return invalid(error, "\"force\" is true, false, 0, 1 or 2");
                out->force = (guint)v;
        } else if (force) {
                gboolean b = FALSE;
                if (!hd_body_get_bool(o, "force", &b, error))
                        return FALSE;
                out->force = b ? 1 : 0;
        }
        if (!hd_body_get_bool(o, "group", &out->group, error) ||
            !hd_body_get_bool(o, "dry_run", &out->dry_run, error) ||
            !hd_body_get_bool(o, "persist", &out->persist, error) ||
            !hd_body_get_bool(o, "keep_persist", &out->keep_persist, error) ||
            !hd_body_get_string(o, "driver", &driver, error))
                return FALSE;
        if (driver) {
                gboolean ok = *driver && strlen(driver) <= 64;
                for (const char *p = driver; *p && ok; p++)
                        ok = g_ascii_isalnum(*p) || *p == '_' || *p == '-';
                if (!ok)
                        return invalid(error, "\"driver\" must be a driver name (letters, "
                                              "digits, '_' or '-')");
                out->driver = g_strdup(driver);
        }
        return TRUE;
}

void hd_bind_args_clear(HdBindArgs *a)
{
        g_clear_pointer(&a->driver, g_free);
}

/* realpath(), or for a file that does not exist yet its directory's realpath() and its name. */
static char *resolve_path(const char *path)
{
        g_autofree char *dir = NULL, *base = NULL, *real_dir = NULL;
        char *real = realpath(path, NULL);

        if (real || errno != ENOENT)
                return real;
        dir = g_path_get_dirname(path);
        base = g_path_get_basename(path);
        if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0)
                return NULL;
        real_dir = realpath(dir, NULL);
        if (!real_dir)
                return NULL;
        return g_build_filename(real_dir, base, NULL);
}

gboolean hd_disk_image_resolve(const char *images_dir, const char *path, char **out, GError **error)
{
        g_autofree char *dir = realpath(images_dir, NULL);
        g_autofree char *real = NULL;
        g_autofree char *prefix = NULL;

        if (!dir)
                dir = g_canonicalize_filename(images_dir, "/");
        if (!g_path_is_absolute(path))
                return invalid(error, "\"disk_image\" must be an absolute path beneath %s", dir);
        real = resolve_path(path);
        if (!real)
                return invalid(error,
                               "\"disk_image\" %s cannot be resolved (its directory must exist): "
                               "put the image beneath %s (the agent's images-dir)",
                               path, dir);
        prefix = g_str_has_suffix(dir, "/") ? g_strdup(dir) : g_strconcat(dir, "/", NULL);
        if (!g_str_has_prefix(real, prefix) || real[strlen(prefix)] == '\0')
                return invalid(error,
                               "\"disk_image\" %s is not a file beneath %s (the agent's "
                               "images-dir)%s%s; put the image there or change images-dir",
                               path, dir, strcmp(real, path) != 0 ? ": it resolves to " : "",
                               strcmp(real, path) != 0 ? real : "");
        *out = g_steal_pointer(&real);
        return TRUE;
}

static void usb_arg_clear(gpointer p)
{
        g_free(((HdVmUsbArg *)p)->spec);
}

static void scsi_arg_clear(gpointer p)
{
        g_free(((HdVmScsiArg *)p)->wwid);
}

/* The array member @name of objects, each checked by @parse_one (index, object). */
static gboolean parse_objects(JsonObject *o, const char *name, const char *what,
                              gboolean (*parse_one)(guint i, JsonObject *e, gpointer out,
                                                    GError **error),
                              gpointer out, GError **error)
{
        JsonNode *n;
        JsonArray *arr;
        MemberState state = member_value(o, name, what, &n, error);

        if (state != MEMBER_PRESENT)
                return state == MEMBER_ABSENT;
        if (!JSON_NODE_HOLDS_ARRAY(n))
                return invalid(error, "\"%s\" must be %s", name, what);
        arr = json_node_get_array(n);
        if (json_array_get_length(arr) > HD_VM_USBSCSI_MAX)
                return invalid(error, "\"%s\" may name at most %d devices", name,
                               HD_VM_USBSCSI_MAX);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
                JsonNode *e = json_array_get_element(arr, i);
                g_autoptr(GError) local = NULL;

                if (!JSON_NODE_HOLDS_OBJECT(e))
                        return invalid(error, "\"%s\"[%u] must be an object", name, i);
                if (!parse_one(i, json_node_get_object(e), out, &local))
                        return invalid(error, "\"%s\"[%u]: %s", name, i, local->message);
        }
        return TRUE;
}

static gboolean parse_usb_one(guint i, JsonObject *e, gpointer data, GError **error)
{
        static const char *const members[] = {"spec", "force", NULL};
        GArray *usb = data;
        g_auto(HdUsbSpec) spec = {0};
        const char *text = NULL;
        HdVmUsbArg arg = {0};

        if (!hd_body_check_members(e, members, error) ||
            !hd_body_get_string(e, "spec", &text, error) ||
            !hd_body_get_bool(e, "force", &arg.force, error))
                return FALSE;
        if (!text)
                return invalid(error, "\"spec\" is required: vendor:product, "
                                      "vendor:product:serial or a port path like 1-2.3");
        if (!hd_usb_spec_parse(text, NULL, &spec, error))
                return FALSE;
        arg.spec = hd_usb_spec_format(&spec);
        for (guint j = 0; j < usb->len; j++)
                if (strcmp(g_array_index(usb, HdVmUsbArg, j).spec, arg.spec) == 0) {
                        invalid(error, "%s is named twice", arg.spec);
                        g_free(arg.spec);
                        return FALSE;
                }
        g_array_append_val(usb, arg);
        return TRUE;
}

static gboolean parse_scsi_one(guint i, JsonObject *e, gpointer data, GError **error)
{
        static const char *const members[] = {"wwid", "shareable", "readonly", "force", NULL};
        GArray *scsi = data;
        const char *text = NULL;
        HdVmScsiArg arg = {0};
        HdScsiSpec spec;

        if (!hd_body_check_members(e, members, error) ||
            !hd_body_get_string(e, "wwid", &text, error) ||
            !hd_body_get_bool(e, "shareable", &arg.shareable, error) ||
            !hd_body_get_bool(e, "readonly", &arg.readonly, error) ||
            !hd_body_get_bool(e, "force", &arg.force, error))
                return FALSE;
        if (!text)
                return invalid(error, "\"wwid\" is required: a WWID (naa., eui., t10., "
                                      "name.) or /dev/disk/by-id/NAME");
        if (!hd_scsi_spec_parse(text, &spec, error))
                return FALSE;
        if (spec.kind == HD_SCSI_SPEC_HCTL)
                return invalid(error, "%s is an H:C:T:L, which changes when adapters appear in "
                                      "another order; name the LUN by its WWID (GET /v1/scsi/%s "
                                      "shows it)",
                               text, spec.text);
        arg.wwid = spec.kind == HD_SCSI_SPEC_BY_ID ? g_strconcat("/dev/disk/by-id/", spec.text, NULL)
                                                   : g_strdup(spec.text);
        for (guint j = 0; j < scsi->len; j++)
                if (strcmp(g_array_index(scsi, HdVmScsiArg, j).wwid, arg.wwid) == 0) {
                        invalid(error, "%s is named twice", arg.wwid);
                        g_free(arg.wwid);
                        return FALSE;
                }
        g_array_append_val(scsi, arg);
        return TRUE;
}

/* "vhost_scsi": [{"wwpn": "naa.5001405000000001"}, ...]: the target as configfs names it. */
static gboolean parse_vhost(JsonObject *o, GPtrArray *vhost, GError **error)
{
        static const char *const members[] = {"wwpn", NULL};
        const char *what = "an array of {\"wwpn\"} objects";
        JsonNode *n;
        JsonArray *arr;
        MemberState state = member_value(o, "vhost_scsi", what, &n, error);

        if (state != MEMBER_PRESENT)
                return state == MEMBER_ABSENT;
        if (!JSON_NODE_HOLDS_ARRAY(n))
                return invalid(error, "\"vhost_scsi\" must be %s", what);
        arr = json_node_get_array(n);
        if (json_array_get_length(arr) > HD_VM_VHOST_MAX)
                return invalid(error, "\"vhost_scsi\" may name at most %d targets",
                               HD_VM_VHOST_MAX);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
                JsonNode *e = json_array_get_element(arr, i);
                g_autoptr(GError) local = NULL;
                const char *wwpn = NULL;

                if (!JSON_NODE_HOLDS_OBJECT(e))
                        return invalid(error, "\"vhost_scsi\"[%u] must be an object", i);
                if (!hd_body_check_members(json_node_get_object(e), members, &local) ||
                    !hd_body_get_string(json_node_get_object(e), "wwpn", &wwpn, &local))
                        return invalid(error, "\"vhost_scsi\"[%u]: %s", i, local->message);
                if (!wwpn || !hd_vhost_wwpn_valid(wwpn))
                        return invalid(error,
                                       "\"vhost_scsi\"[%u]: \"wwpn\" is required: a vhost "
                                       "target's WWPN, naa. and 16 hex digits (GET "
                                       "/v1/vhost-scsi shows the targets)",
                                       i);
                for (guint j = 0; j < vhost->len; j++)
                        if (g_ascii_strcasecmp(vhost->pdata[j], wwpn) == 0)
                                return invalid(error, "%s is named twice", wwpn);
                /* "naa." as the kernel (tcm_vhost_make_tport) and libvirt spell it; the digits
                 * as given: QEMU hands them to the kernel, which compares them exactly */
                g_ptr_array_add(vhost, g_strconcat("naa.", wwpn + 4, NULL));
        }
        return TRUE;
}

gboolean hd_body_parse_vm(JsonObject *o, HdVmArgs *out, GError **error)
{
        static const char *const members[] = {"name",  "memory_mib", "vcpus", "disk_image",
                                              "hostdevs", "viommu",  "mdevs", "usb",
                                              "scsi",  "vhost_scsi", NULL};
        const char *name = NULL, *disk = NULL;
        JsonNode *devs;

        memset(out, 0, sizeof(*out));
        out->memory_mib = 1024;
        out->vcpus = 1;
        out->hostdevs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        out->mdevs = g_ptr_array_new_with_free_func(g_free);
        out->usb = g_array_new(FALSE, FALSE, sizeof(HdVmUsbArg));
        g_array_set_clear_func(out->usb, usb_arg_clear);
        out->scsi = g_array_new(FALSE, FALSE, sizeof(HdVmScsiArg));
        g_array_set_clear_func(out->scsi, scsi_arg_clear);
        out->vhost = g_ptr_array_new_with_free_func(g_free);
        if (!hd_body_check_members(o, members, error) ||
            !hd_body_get_string(o, "name", &name, error) ||
            !hd_body_get_string(o, "disk_image", &disk, error) ||
            !hd_body_get_uint(o, "memory_mib", &out->memory_mib, error) ||
            !hd_body_get_uint(o, "vcpus", &out->vcpus, error) ||
            !hd_body_get_bool(o, "viommu", &out->viommu, error))
                return FALSE;
        if (!hd_vm_name_is_valid(name))
                return invalid(error, "\"name\" is required: 1-64 letters, digits, '-', '_' or "
                                      "'.', not starting with '.'");
        if (out->memory_mib < 16 || out->memory_mib > 16 * 1024 * 1024 || out->vcpus < 1 ||
            out->vcpus > 4096)
                return invalid(error, "\"memory_mib\" must be 16..16777216 and \"vcpus\" 1..4096");
        if (disk && (!g_path_is_absolute(disk) || strlen(disk) > 4096 || strstr(disk, "/../")))
                return invalid(error, "\"disk_image\" must be an absolute path");
        if (member_value(o, "hostdevs", "an array of addresses", &devs, error) == MEMBER_ERROR)
                return FALSE;
        if (devs) {
                JsonArray *arr;
                if (!JSON_NODE_HOLDS_ARRAY(devs))
                        return invalid(error, "\"hostdevs\" must be an array of addresses");
                arr = json_node_get_array(devs);
                if (json_array_get_length(arr) > 256)
                        return invalid(error, "\"hostdevs\" may name at most 256 devices");
                for (guint i = 0; i < json_array_get_length(arr); i++) {
                        JsonNode *e = json_array_get_element(arr, i);
                        g_autoptr(GError) local = NULL;
                        HdAddress addr;
                        if (!holds(e, G_TYPE_STRING))
                                return invalid(error, "\"hostdevs\"[%u] must be a string", i);
                        if (!hd_address_parse(json_node_get_string(e), &addr, &local))
                                return invalid(error, "\"hostdevs\"[%u]: %s", i, local->message);
                        g_array_append_val(out->hostdevs, addr);
                }
        }
        if (member_value(o, "mdevs", "an array of mdev UUIDs", &devs, error) == MEMBER_ERROR)
                return FALSE;
        if (devs) {
                JsonArray *arr;
                if (!JSON_NODE_HOLDS_ARRAY(devs))
                        return invalid(error, "\"mdevs\" must be an array of mdev UUIDs");
                arr = json_node_get_array(devs);
                if (json_array_get_length(arr) > 64)
                        return invalid(error, "\"mdevs\" may name at most 64 mediated devices");
                for (guint i = 0; i < json_array_get_length(arr); i++) {
                        JsonNode *e = json_array_get_element(arr, i);
                        char uuid[HD_MDEV_UUID_STRLEN];
                        if (!holds(e, G_TYPE_STRING) ||
                            !hd_mdev_uuid_parse(json_node_get_string(e), uuid))
                                return invalid(error,
                                               "\"mdevs\"[%u] must be an mdev UUID in canonical "
                                               "lowercase form (8-4-4-4-12 hex digits)",
                                               i);
                        g_ptr_array_add(out->mdevs, g_strdup(uuid));
                }
        }
        if (!parse_objects(o, "usb", "an array of {\"spec\", \"force\"} objects", parse_usb_one,
                           out->usb, error) ||
            !parse_objects(o, "scsi",
                           "an array of {\"wwid\", \"shareable\", \"readonly\", \"force\"} "
                           "objects",
                           parse_scsi_one, out->scsi, error) ||
            !parse_vhost(o, out->vhost, error))
                return FALSE;
        out->name = g_strdup(name);
        out->disk_image = g_strdup(disk);
        return TRUE;
}

void hd_vm_args_clear(HdVmArgs *a)
{
        g_clear_pointer(&a->name, g_free);
        g_clear_pointer(&a->disk_image, g_free);
        g_clear_pointer(&a->hostdevs, g_array_unref);
        g_clear_pointer(&a->mdevs, g_ptr_array_unref);
        g_clear_pointer(&a->usb, g_array_unref);
        g_clear_pointer(&a->scsi, g_array_unref);
        g_clear_pointer(&a->vhost, g_ptr_array_unref);
}

gboolean hd_body_parse_kernel_args(JsonObject *o, HdKernelArgsBody *out, GError **error)
{
        static const char *const members[] = {"enable", "disable", "custom",
                                              "remove", "dry_run", NULL};

        memset(out, 0, sizeof(*out));
        return hd_body_check_members(o, members, error) &&
               hd_body_get_strings(o, "enable", &out->enable, error) &&
               hd_body_get_strings(o, "disable", &out->disable, error) &&
               hd_body_get_strings(o, "custom", &out->custom, error) &&
               hd_body_get_strings(o, "remove", &out->remove, error) &&
               hd_body_get_bool(o, "dry_run", &out->dry_run, error);
}

void hd_kernel_args_body_clear(HdKernelArgsBody *a)
{
        g_clear_pointer(&a->enable, g_ptr_array_unref);
        g_clear_pointer(&a->disable, g_ptr_array_unref);
        g_clear_pointer(&a->custom, g_ptr_array_unref);
        g_clear_pointer(&a->remove, g_ptr_array_unref);
}

gboolean hd_body_parse_sriov(JsonObject *o, HdSriovBody *out, GError **error)
{
        static const char *const members[] = {"numvfs", "autoprobe", "persist",
                                              "dry_run", "timeout",   NULL};
        guint64 numvfs = G_MAXUINT64, timeout = 60;
        gboolean autoprobe = FALSE;

        memset(out, 0, sizeof(*out));
        out->autoprobe = -1;
        if (!hd_body_check_members(o, members, error) ||
            !hd_body_get_uint(o, "numvfs", &numvfs, error) ||
            !hd_body_get_bool(o, "autoprobe", &autoprobe, error) ||
            !hd_body_get_bool(o, "persist", &out->persist, error) ||
            !hd_body_get_bool(o, "dry_run", &out->dry_run, error) ||
            !hd_body_get_uint(o, "timeout", &timeout, error))
                return FALSE;
        if (json_object_has_member(o, "autoprobe"))
                out->autoprobe = autoprobe ? 1 : 0;
        if (numvfs != G_MAXUINT64) {
                if (numvfs > 65535)
                        return invalid(error, "\"numvfs\" must be 0..65535");
                out->has_numvfs = TRUE;
                out->numvfs = (guint)numvfs;
        }
        if (!out->has_numvfs && out->autoprobe < 0)
                return invalid(error, "give \"numvfs\" (0 removes the VFs), \"autoprobe\", or "
                                      "both");
        if (timeout < 1 || timeout > 3600)
                return invalid(error, "\"timeout\" must be 1..3600 seconds");
        out->timeout_s = (guint)timeout;
        return TRUE;
}

/* A name the kernel could list in sys/class/mdev_bus or mdev_supported_types: one path
 * component, printable. */
static gboolean mdev_name_ok(const char *s)
{
        if (!*s || strlen(s) > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return FALSE;
        for (const char *p = s; *p; p++)
                if (*p == '/' || !g_ascii_isgraph(*p))
                        return FALSE;
        return TRUE;
}

gboolean hd_body_parse_mdev(JsonObject *o, gboolean create, HdMdevBody *out, GError **error)
{
        static const char *const create_members[] = {"parent",  "type",    "uuid",
                                                     "persist", "dry_run", NULL};
        static const char *const remove_members[] = {"persist", "dry_run", NULL};
        const char *parent = NULL, *type = NULL, *uuid = NULL;

        memset(out, 0, sizeof(*out));
        if (!hd_body_check_members(o, create ? create_members : remove_members, error) ||
            !hd_body_get_string(o, "parent", &parent, error) ||
            !hd_body_get_string(o, "type", &type, error) ||
            !hd_body_get_string(o, "uuid", &uuid, error) ||
            !hd_body_get_bool(o, "persist", &out->persist, error) ||
            !hd_body_get_bool(o, "dry_run", &out->dry_run, error))
                return FALSE;
        if (!create)
                return TRUE;
        if (!parent || !mdev_name_ok(parent))
                return invalid(error, "\"parent\" is required: the parent's PCI address or its "
                                      "mdev_bus name (GET /v1/mdev lists the parents)");
        if (!type || !mdev_name_ok(type))
                return invalid(error, "\"type\" is required: one of the parent's types (GET "
                                      "/v1/mdev lists them)");
        if (uuid && !hd_mdev_uuid_parse(uuid, NULL))
                return invalid(error, "\"uuid\" must be a UUID in canonical form (8-4-4-4-12 "
                                      "lowercase hex digits); leave it out and the agent makes "
                                      "one");
        out->parent = g_strdup(parent);
        out->type = g_strdup(type);
        out->uuid = g_strdup(uuid);
        return TRUE;
}

void hd_mdev_body_clear(HdMdevBody *a)
{
        g_clear_pointer(&a->parent, g_free);
        g_clear_pointer(&a->type, g_free);
        g_clear_pointer(&a->uuid, g_free);
}

gboolean hd_body_parse_npiv(JsonObject *o, gboolean create, HdNpivBody *out, GError **error)
{
        static const char *const create_members[] = {"parent",  "wwpn",    "wwnn",
                                                     "persist", "dry_run", NULL};
        static const char *const delete_members[] = {"force", "dry_run", NULL};
        const char *parent = NULL, *wwpn = NULL, *wwnn = NULL;
        gboolean ok;

        memset(out, 0, sizeof(*out));
        if (!hd_body_check_members(o, create ? create_members : delete_members, error) ||
            !hd_body_get_string(o, "parent", &parent, error) ||
            !hd_body_get_string(o, "wwpn", &wwpn, error) ||
            !hd_body_get_string(o, "wwnn", &wwnn, error) ||
            !hd_body_get_bool(o, "persist", &out->persist, error) ||
            !hd_body_get_bool(o, "force", &out->force, error) ||
            !hd_body_get_bool(o, "dry_run", &out->dry_run, error))
                return FALSE;
        if (!create)
                return TRUE;
        ok = parent && *parent && strlen(parent) <= 32;
        for (const char *p = parent; ok && *p; p++)
                ok = g_ascii_isalnum(*p);
        if (!ok)
                return invalid(error, "\"parent\" is required: the FC host to make the vport on "
                                      "(\"host3\" or 3; GET /v1/npiv lists them)");
        if (wwpn && !hd_npiv_wwn_parse(wwpn, "\"wwpn\"", &out->wwpn, error))
                return FALSE;
        if (wwnn && !hd_npiv_wwn_parse(wwnn, "\"wwnn\"", &out->wwnn, error))
                return FALSE;
        out->parent = g_strdup(parent);
        return TRUE;
}

void hd_npiv_body_clear(HdNpivBody *a)
{
        g_clear_pointer(&a->parent, g_free);
}

gboolean hd_body_parse_vf_net(JsonObject *o, HdVfNetBody *out, GError **error)
{
        static const char *const members[] = {"mac",        "vlan",        "qos",
                                              "vlan_proto", "spoofchk",    "trust",
                                              "link_state", "min_tx_rate", "max_tx_rate",
                                              "dry_run",    NULL};
        const char *mac = NULL, *proto = NULL, *link = NULL;
        guint64 vlan = G_MAXUINT64, qos = G_MAXUINT64, min_rate = G_MAXUINT64,
                max_rate = G_MAXUINT64;
        HdVfNetSettings *s = &out->s;

        memset(out, 0, sizeof(*out));
        if (!hd_body_check_members(o, members, error) ||
            !hd_body_get_string(o, "mac", &mac, error) ||
            !hd_body_get_uint(o, "vlan", &vlan, error) ||
            !hd_body_get_uint(o, "qos", &qos, error) ||
            !hd_body_get_string(o, "vlan_proto", &proto, error) ||
            !hd_body_get_bool(o, "spoofchk", &s->spoofchk, error) ||
            !hd_body_get_bool(o, "trust", &s->trust, error) ||
            !hd_body_get_string(o, "link_state", &link, error) ||
            !hd_body_get_uint(o, "min_tx_rate", &min_rate, error) ||
            !hd_body_get_uint(o, "max_tx_rate", &max_rate, error) ||
            !hd_body_get_bool(o, "dry_run", &out->dry_run, error))
                return FALSE;
        if (mac) {
                s->has_mac = TRUE;
                if (strcmp(mac, "clear") == 0)
                        s->clear_mac = TRUE;
                else if (!hd_vf_net_parse_mac(mac, s->mac))
                        return invalid(error, "\"mac\" must be a MAC like 52:54:00:12:34:56, or "
                                              "\"clear\"");
        }
        if ((qos != G_MAXUINT64 || proto) && vlan == G_MAXUINT64)
                return invalid(error, "\"qos\" and \"vlan_proto\" go with \"vlan\"");
        if (vlan != G_MAXUINT64) {
                if (vlan > 4095 || (qos != G_MAXUINT64 && qos > 7))
                        return invalid(error, "\"vlan\" must be 0..4095 (0: none) and \"qos\" "
                                              "0..7");
                s->has_vlan = TRUE;
                s->vlan = (guint)vlan;
                s->qos = qos != G_MAXUINT64 ? (guint)qos : 0;
                if (proto && g_ascii_strcasecmp(proto, "802.1Q") == 0)
                        s->vlan_proto = HD_VLAN_PROTO_8021Q;
                else if (proto && g_ascii_strcasecmp(proto, "802.1ad") == 0)
                        s->vlan_proto = HD_VLAN_PROTO_8021AD;
                else if (proto)
                        return invalid(error, "\"vlan_proto\" must be \"802.1Q\" or \"802.1ad\"");
        }
        s->has_spoofchk = json_object_has_member(o, "spoofchk");
        s->has_trust = json_object_has_member(o, "trust");
        if (link) {
                s->has_link_state = TRUE;
                if (!hd_vf_link_state_from_string(link, &s->link_state))
                        return invalid(error, "\"link_state\" must be \"auto\" (the PF's), "
                                              "\"enable\" or \"disable\"");
        }
        out->has_min_rate = min_rate != G_MAXUINT64;
        out->has_max_rate = max_rate != G_MAXUINT64;
        if ((out->has_min_rate && min_rate > G_MAXUINT32) ||
            (out->has_max_rate && max_rate > G_MAXUINT32))
                return invalid(error, "\"min_tx_rate\" and \"max_tx_rate\" are Mbit/s, at most "
                                      "4294967295");
        s->has_rate = out->has_min_rate || out->has_max_rate;
        s->min_tx_rate = out->has_min_rate ? (guint)min_rate : 0;
        s->max_tx_rate = out->has_max_rate ? (guint)max_rate : 0;
        if (!s->has_mac && !s->has_vlan && !s->has_spoofchk && !s->has_trust &&
            !s->has_link_state && !s->has_rate)
                return invalid(error, "give at least one setting: mac, vlan, spoofchk, trust, "
                                      "link_state, min_tx_rate or max_tx_rate");
        return TRUE;
}
