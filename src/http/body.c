/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

#include "body.h"
#include "json-strict.h"
#include "utf8.h"

JsonObject *hd_http_body_parse_object(const char *data, gsize len, GError **error)
{
        g_autoptr(JsonParser) parser = NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *duplicate = NULL;
        JsonNode *root;

        if (len == 0)
                return json_object_new();
        if (!hd_json_strict_validate(data, len, HD_JSON_STRICT_DEPTH_DEFAULT, HD_JSON_STRICT_NO_NUL,
                                     &duplicate, &local)) {
                if (duplicate) {
                        /* the name as valid UTF-8, 64 bytes at most (a cut character too) */
                        g_autofree char *shown =
                            g_utf8_make_valid(duplicate, (gssize)MIN(strlen(duplicate), 64));
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "member \"%s\" appears more than once in one object of the "
                                    "request body; give each member once",
                                    shown);
                } else {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "the request body is not valid JSON (RFC 8259): %s",
                                    local->message);
                }
                return NULL;
        }
        parser = json_parser_new_immutable();
        if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "the request body is not valid JSON: %s", local->message);
                return NULL;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "the request body must be a JSON object");
                return NULL;
        }
        return json_object_ref(json_node_get_object(root));
}

gboolean hd_http_body_invalid(GError **error, GQuark domain, gint code, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = hd_utf8_vprintf(format, ap);
        va_end(ap);
        g_set_error_literal(error, domain, code, message);
        return FALSE;
}

gboolean hd_http_body_check_members(JsonObject *o, const char *const *allowed, GQuark domain,
                                    gint code, GError **error)
{
        g_autoptr(GList) names = json_object_get_members(o);

        for (GList *l = names; l; l = l->next) {
                if (!g_strv_contains(allowed, l->data)) {
                        g_autofree char *list = g_strjoinv(", ", (char **)allowed);
                        g_autofree char *shown =
                            g_utf8_make_valid(l->data, (gssize)MIN(strlen(l->data), 64));
                        return hd_http_body_invalid(
                            error, domain, code, "unknown member \"%s\" in the request body; %s%s",
                            shown, *allowed ? "known: " : "it takes none", list);
                }
        }
        return TRUE;
}
