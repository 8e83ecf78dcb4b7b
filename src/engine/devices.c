/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's facets of an agent's device document (devices.h). */
#include "config.h"

#include <string.h>

#include "devices.h"

const char *const hd_device_categories[] = {"gpu",   "net",    "storage", "usb",
                                            "audio", "bridge", "other",   NULL};

gboolean hd_device_category_valid(const char *name)
{
        return name && g_strv_contains(hd_device_categories, name);
}

static const char *member_string(JsonObject *o, const char *name)
{
        JsonNode *n = json_object_get_member(o, name);

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return NULL;
        return json_node_get_string(n);
}

const char *hd_device_category_of(const char *cls, gboolean is_bridge)
{
        guint64 code;

        if (!cls || !g_ascii_string_to_unsigned(cls, 16, 0, 0xffffff, &code, NULL))
                return is_bridge ? "bridge" : "other";
        switch ((code >> 16) & 0xff) {
        case 0x01:
                return "storage";
        case 0x02:
                return "net";
        case 0x03:
                return "gpu";
        case 0x04: /* 0401 audio, 0403 HD audio; video (0400) is other */
                return ((code >> 8) & 0xff) == 0x01 || ((code >> 8) & 0xff) == 0x03 ? "audio"
                                                                                    : "other";
        case 0x06:
                return "bridge";
        case 0x0c:
                return ((code >> 8) & 0xff) == 0x03 ? "usb" : "other";
        default:
                return "other";
        }
}

const char *hd_device_category(JsonObject *device)
{
        JsonNode *bridge = json_object_get_member(device, "is_bridge");

        return hd_device_category_of(member_string(device, "class"),
                                     bridge && JSON_NODE_HOLDS_VALUE(bridge) &&
                                         json_node_get_value_type(bridge) == G_TYPE_BOOLEAN &&
                                         json_node_get_boolean(bridge));
}

char *hd_device_search_term(const char *text)
{
        g_autofree char *valid = g_utf8_make_valid(text, -1);
        return g_utf8_casefold(valid, -1);
}

char *hd_device_search_text_of(const char *address, const char *vendor, const char *product,
                               const char *class_name, const char *driver,
                               const char *vendor_id, const char *device_id)
{
        g_autoptr(GString) s = g_string_new(NULL);

        if (address)
                g_string_append_printf(s, "%s\n", address);
        if (vendor)
                g_string_append_printf(s, "%s\n", vendor);
        if (product)
                g_string_append_printf(s, "%s\n", product);
        if (class_name)
                g_string_append_printf(s, "%s\n", class_name);
        if (driver)
                g_string_append_printf(s, "%s\n", driver);
        if (vendor_id && device_id)
                g_string_append_printf(s, "%s:%s\n", vendor_id, device_id);
        return hd_device_search_term(s->str);
}

char *hd_device_search_text(JsonObject *device)
{
        return hd_device_search_text_of(
            member_string(device, "address"), member_string(device, "vendor"),
            member_string(device, "product"), member_string(device, "class_name"),
            member_string(device, "driver"), member_string(device, "vendor_id"),
            member_string(device, "device_id"));
}
