/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request bodies of a VM's USB devices, SCSI LUNs and vhost-scsi targets (vms.h), with body.c's
 * rules: unknown members refused, every member of one type (null is a wrong type),
 * G_IO_ERROR_INVALID_ARGUMENT answered 400. The specs are checked with libhostdev's own grammar
 * (hd_usb_spec_parse, hd_scsi_spec_parse, hd_vhost_wwpn_valid), the one the agents apply at define:
 * what the engine stores, the agent accepts.
 */
#include "config.h"

#include <string.h>

#include "body.h"
#include "scsi.h"
#include "usb.h"
#include "vhost.h"
#include "vms.h"

#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

static const char *type_hint(JsonNode *n)
{
        return JSON_NODE_HOLDS_NULL(n) ? ", not null" : "";
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

static gboolean get_bool(JsonObject *o, const char *name, gboolean *out, GError **error)
{
        JsonNode *n = json_object_get_member(o, name);

        *out = FALSE;
        if (!n)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
                return invalid(error, "\"%s\" must be true or false%s", name, type_hint(n));
        *out = json_node_get_boolean(n);
        return TRUE;
}

/* What every add takes: the members @known only, "host_id" and @key (at most @max bytes), both
 * required (else 400 with @hint, what to give). */
static gboolean host_and_key(JsonObject *o, const char *const *known, const char *key, gsize max,
                             const char *hint, char **host_id, char **given, GError **error)
{
        if (!hd_http_body_check_members(o, known, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, error) ||
            !get_string(o, "host_id", 64, host_id, error) || !get_string(o, key, max, given, error))
                return FALSE;
        if (!*host_id || !*given)
                return invalid(error, "give \"host_id\" (GET /v1/hosts) and \"%s\", %s", key, hint);
        return TRUE;
}

gboolean hd_engine_body_vm_usb(JsonObject *o, HdVmUsbBody *out, GError **error)
{
        static const char *const known[] = {"host_id", "spec", "force", NULL};
        g_auto(HdUsbSpec) spec = {0};
        g_autoptr(GError) local = NULL;
        g_autofree char *given = NULL;

        memset(out, 0, sizeof(*out));
        if (!host_and_key(o, known, "spec", 256,
                          "a USB device of the host as vendor:product, vendor:product:serial or "
                          "its port path (GET /v1/hosts/{id}/usb)",
                          &out->host_id, &given, error) ||
            !get_bool(o, "force", &out->force, error))
                goto fail;
        if (!hd_usb_spec_parse(given, NULL, &spec, &local)) {
                invalid(error, "\"spec\": %s", local->message);
                goto fail;
        }
        out->spec = hd_usb_spec_format(&spec);
        return TRUE;
fail:
        hd_vm_usb_body_clear(out);
        return FALSE;
}

void hd_vm_usb_body_clear(HdVmUsbBody *b)
{
        g_free(b->host_id);
        g_free(b->spec);
        memset(b, 0, sizeof(*b));
}

gboolean hd_engine_body_vm_scsi(JsonObject *o, HdVmScsiBody *out, GError **error)
{
        static const char *const known[] = {"host_id",  "wwid",  "shareable",
                                            "readonly", "force", NULL};
        HdScsiSpec spec;
        g_autoptr(GError) local = NULL;
        g_autofree char *given = NULL;

        memset(out, 0, sizeof(*out));
        if (!host_and_key(o, known, "wwid", 512,
                          "a LUN of the host by its WWID or /dev/disk/by-id/NAME (GET "
                          "/v1/hosts/{id}/scsi)",
                          &out->host_id, &given, error) ||
            !get_bool(o, "shareable", &out->shareable, error) ||
            !get_bool(o, "readonly", &out->readonly, error) ||
            !get_bool(o, "force", &out->force, error))
                goto fail;
        if (!hd_scsi_spec_parse(given, &spec, &local)) {
                invalid(error, "\"wwid\": %s", local->message);
                goto fail;
        }
        switch (spec.kind) {
        case HD_SCSI_SPEC_WWID:
                out->wwid = g_strdup(spec.text);
                break;
        case HD_SCSI_SPEC_BY_ID:
                out->wwid = g_strconcat("/dev/disk/by-id/", spec.text, NULL);
                break;
        case HD_SCSI_SPEC_HCTL:
                invalid(error,
                        "\"wwid\": %s is a host:channel:target:lun, which changes at reboot; give "
                        "the LUN's WWID (GET /v1/hosts/{id}/scsi lists it)",
                        spec.text);
                goto fail;
        }
        return TRUE;
fail:
        hd_vm_scsi_body_clear(out);
        return FALSE;
}

void hd_vm_scsi_body_clear(HdVmScsiBody *b)
{
        g_free(b->host_id);
        g_free(b->wwid);
        memset(b, 0, sizeof(*b));
}

gboolean hd_engine_body_vm_vhost(JsonObject *o, HdVmVhostBody *out, GError **error)
{
        static const char *const known[] = {"host_id", "wwpn", NULL};
        g_autofree char *given = NULL;
        g_autofree char *shown = NULL;

        memset(out, 0, sizeof(*out));
        if (!host_and_key(o, known, "wwpn", 64,
                          "a vhost-scsi target of the host by its WWPN, naa. and 16 hex digits "
                          "(GET /v1/hosts/{id}/vhost-scsi)",
                          &out->host_id, &given, error))
                goto fail;
        if (!hd_vhost_wwpn_valid(given)) {
                shown = g_strescape(given, NULL);
                invalid(error,
                        "\"wwpn\": \"%s\" is not a vhost target WWPN (naa. and 16 hex digits); "
                        "GET /v1/hosts/{id}/vhost-scsi shows the targets",
                        shown);
                goto fail;
        }
        /* "naa." as the kernel (tcm_vhost_make_tport) and the agent spell it; the digits as
         * given: the agent starts the VM only when configfs names the target so */
        out->wwpn = g_strconcat("naa.", given + 4, NULL);
        return TRUE;
fail:
        hd_vm_vhost_body_clear(out);
        return FALSE;
}

void hd_vm_vhost_body_clear(HdVmVhostBody *b)
{
        g_free(b->host_id);
        g_free(b->wwpn);
        memset(b, 0, sizeof(*b));
}
