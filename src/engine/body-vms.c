/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM request bodies (vms.h), with body.c's rules: unknown members refused, every member of
 * one type (null is a wrong type), G_IO_ERROR_INVALID_ARGUMENT answered 400.
 */
#include "config.h"

#include <string.h>

#include "body.h"
#include "vms.h"

/* the engine's body errors: G_IO_ERROR_INVALID_ARGUMENT, answered 400 (src/http/body.h) */
#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

static gboolean only_members(JsonObject *o, const char *const *known, GError **error)
{
        return hd_http_body_check_members(o, known, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, error);
}

static const char *type_hint(JsonNode *n)
{
        return JSON_NODE_HOLDS_NULL(n) ? ", not null" : "";
}

static gboolean get_int(JsonObject *o, const char *name, gint64 min, gint64 max, gint64 *out,
                        GError **error)
{
        JsonNode *n = json_object_get_member(o, name);

        *out = 0;
        if (!n)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
                return invalid(error, "\"%s\" must be a whole number%s", name, type_hint(n));
        *out = json_node_get_int(n);
        if (*out < min || *out > max)
                return invalid(error,
                               "\"%s\" must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                               name, min, max);
        return TRUE;
}

static gboolean get_string(JsonObject *o, const char *name, gsize max, char **out, GError **error)
{
        JsonNode *n = json_object_get_member(o, name);

        *out = NULL;
        if (!n)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return invalid(error, "\"%s\" must be a string%s", name, type_hint(n));
        if (strlen(json_node_get_string(n)) > max)
                return invalid(error, "\"%s\" is longer than %" G_GSIZE_FORMAT " bytes", name, max);
        *out = g_strdup(json_node_get_string(n));
        return TRUE;
}

gboolean hd_engine_body_vm(JsonObject *o, gboolean create, HdVmBody *out, GError **error)
{
        static const char *const known[] = {"name", "memory_mib", "vcpus", NULL};
        static const char *const known_edit[] = {"name", "memory_mib", "vcpus", "mdev_placement",
                                                 NULL};

        memset(out, 0, sizeof(*out));
        if (!only_members(o, create ? known : known_edit, error) ||
            !get_string(o, "mdev_placement", 16, &out->mdev_placement, error) ||
            !get_string(o, "name", 64, &out->name, error) ||
            !get_int(o, "memory_mib", 16, 16 * 1024 * 1024, &out->memory_mib, error) ||
            !get_int(o, "vcpus", 1, 1024, &out->vcpus, error))
                goto fail;
        if (out->name && !hd_engine_name_valid(out->name)) {
                invalid(error, "\"name\" must be 1 to 64 of A-Z a-z 0-9 . _ - (not starting "
                               "with . or -)");
                goto fail;
        }
        if (create && !out->name) {
                invalid(error, "a VM needs \"name\" (\"memory_mib\" and \"vcpus\" default to "
                               "1024 and 1)");
                goto fail;
        }
        if (!create && json_object_get_size(o) == 0) {
                invalid(error, "give at least one of \"name\", \"memory_mib\", \"vcpus\", "
                               "\"mdev_placement\"");
                goto fail;
        }
        if (out->mdev_placement && strcmp(out->mdev_placement, "compact") != 0 &&
            strcmp(out->mdev_placement, "separate") != 0) {
                invalid(error, "\"mdev_placement\" must be compact (fill one parent first) or "
                               "separate (a parent per instance of a type)");
                goto fail;
        }
        if (create && !out->memory_mib)
                out->memory_mib = 1024;
        if (create && !out->vcpus)
                out->vcpus = 1;
        return TRUE;
fail:
        hd_vm_body_clear(out);
        return FALSE;
}

void hd_vm_body_clear(HdVmBody *b)
{
        g_free(b->name);
        g_free(b->mdev_placement);
        memset(b, 0, sizeof(*b));
}

gboolean hd_engine_pci_address(const char *in, char out[13])
{
        static const char shape[] = "hhhh:hh:hh.f";

        if (strlen(in) != 12)
                return FALSE;
        for (guint i = 0; i < 12; i++) {
                char c = in[i];
                if (shape[i] == 'h'   ? !g_ascii_isxdigit(c)
                    : shape[i] == 'f' ? (c < '0' || c > '7')
                                      : c != shape[i])
                        return FALSE;
                out[i] = g_ascii_tolower(c);
        }
        out[12] = '\0';
        /* the device number is 5 bits */
        return g_ascii_xdigit_value(out[8]) <= 1;
}

gboolean hd_engine_body_vm_devices(JsonObject *o, HdVmDevicesBody *out, GError **error)
{
        static const char *const known[] = {"host_id", "addresses", NULL};
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
        JsonNode *n;
        JsonArray *a;

        memset(out, 0, sizeof(*out));
        if (!only_members(o, known, error) || !get_string(o, "host_id", 64, &out->host_id, error))
                goto fail;
        n = json_object_get_member(o, "addresses");
        if (!out->host_id || !n) {
                invalid(error, "give \"host_id\" (GET /v1/hosts) and \"addresses\", the PCI "
                               "addresses of its devices: [\"0000:01:00.0\"]");
                goto fail;
        }
        if (!JSON_NODE_HOLDS_ARRAY(n)) {
                invalid(error, "\"addresses\" must be an array of PCI addresses%s", type_hint(n));
                goto fail;
        }
        a = json_node_get_array(n);
        if (json_array_get_length(a) == 0 || json_array_get_length(a) > 64) {
                invalid(error, "\"addresses\" must hold 1 to 64 PCI addresses");
                goto fail;
        }
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonNode *e = json_array_get_element(a, i);
                char addr[13];
                if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING ||
                    !hd_engine_pci_address(json_node_get_string(e), addr)) {
                        invalid(error, "\"addresses\"[%u] is not a PCI address DDDD:BB:DD.F", i);
                        goto fail;
                }
                g_ptr_array_add(list, g_strdup(addr));
        }
        g_ptr_array_add(list, NULL);
        out->addresses = (GStrv)g_ptr_array_free(g_steal_pointer(&list), FALSE);
        return TRUE;
fail:
        hd_vm_devices_body_clear(out);
        return FALSE;
}

void hd_vm_devices_body_clear(HdVmDevicesBody *b)
{
        g_free(b->host_id);
        g_strfreev(b->addresses);
        memset(b, 0, sizeof(*b));
}

gboolean hd_engine_body_vm_mdev(JsonObject *o, HdVmMdevBody *out, GError **error)
{
        static const char *const known[] = {"host_id", "type", "display", NULL};
        JsonNode *n;

        memset(out, 0, sizeof(*out));
        out->display = TRUE;
        if (!only_members(o, known, error) || !get_string(o, "host_id", 64, &out->host_id, error) ||
            !get_string(o, "type", 64, &out->type, error))
                goto fail;
        if (!out->host_id || !out->type) {
                invalid(error, "give \"host_id\" (GET /v1/hosts) and \"type\", one of its mdev "
                               "types (GET /v1/hosts/{id}/mdev)");
                goto fail;
        }
        if (!*out->type) {
                invalid(error, "\"type\" must be 1 to 64 of A-Z a-z 0-9 _ . : -");
                goto fail;
        }
        for (const char *c = out->type; *c; c++)
                if (!g_ascii_isalnum(*c) && !strchr("_.:-", *c)) {
                        invalid(error, "\"type\" must be 1 to 64 of A-Z a-z 0-9 _ . : -");
                        goto fail;
                }
        n = json_object_get_member(o, "display");
        if (n) {
                if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
                        invalid(error, "\"display\" must be true or false%s", type_hint(n));
                        goto fail;
                }
                out->display = json_node_get_boolean(n);
        }
        return TRUE;
fail:
        hd_vm_mdev_body_clear(out);
        return FALSE;
}

void hd_vm_mdev_body_clear(HdVmMdevBody *b)
{
        g_free(b->host_id);
        g_free(b->type);
        memset(b, 0, sizeof(*b));
}
