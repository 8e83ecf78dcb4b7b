/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Request bodies of the engine, with the agent's rules (src/agent/request.h): one strict JSON
 * object, no member twice, unknown members refused, every member of one type (null is a wrong
 * type, never "not given"). Errors are G_IO_ERROR_INVALID_ARGUMENT, answered 400.
 */
#include "config.h"

#include <string.h>

#include "engine.h"
#include "body.h"

/* the engine's body errors: G_IO_ERROR_INVALID_ARGUMENT, answered 400 (src/http/body.h) */
#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

JsonObject *hd_engine_body_parse(const char *data, gsize len, GError **error)
{
        return hd_http_body_parse_object(data, len, error);
}

gboolean hd_engine_name_valid(const char *name)
{
        gsize n = strlen(name);

        if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
                return FALSE;
        for (const char *c = name; *c; c++)
                if (!g_ascii_isalnum(*c) && *c != '.' && *c != '_' && *c != '-')
                        return FALSE;
        return TRUE;
}

/* A string member: absent leaves *out NULL; present must be a string of at most @max bytes
 * without control characters. */
static gboolean get_string(JsonObject *o, const char *name, gsize max, char **out, GError **error)
{
        JsonNode *n = json_object_get_member(o, name);
        const char *v;

        *out = NULL;
        if (!n)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return invalid(error, "\"%s\" must be a string%s", name,
                               JSON_NODE_HOLDS_NULL(n) ? ", not null; leave it out to keep it"
                                                       : "");
        v = json_node_get_string(n);
        if (strlen(v) > max)
                return invalid(error, "\"%s\" is longer than %" G_GSIZE_FORMAT " bytes", name, max);
        for (const char *c = v; *c; c++)
                if ((guchar)*c < 0x20 || *c == 0x7f)
                        return invalid(error, "\"%s\" holds a control character", name);
        *out = g_strdup(v);
        return TRUE;
}

static const char *const host_members[] = {"name",        "agent_url",       "agent_token",
                                           "tls_ca_file", "tls_pinned_cert", NULL};

gboolean hd_engine_body_host(JsonObject *o, gboolean create, HdHostBody *out, GError **error)
{
        memset(out, 0, sizeof(*out));
        if (!hd_http_body_check_members(o, host_members, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                        error))
                return FALSE;
        if (!get_string(o, "name", 64, &out->name, error) ||
            !get_string(o, "agent_url", 2048, &out->agent_url, error) ||
            !get_string(o, "agent_token", 4096, &out->agent_token, error) ||
            !get_string(o, "tls_ca_file", 4096, &out->tls_ca_file, error) ||
            !get_string(o, "tls_pinned_cert", 4096, &out->tls_pinned_cert, error))
                goto fail;
        if (create && (!out->name || !out->agent_url || !out->agent_token)) {
                invalid(error, "a host needs \"name\", \"agent_url\" and \"agent_token\" (the "
                               "agent's token file, /var/lib/hostdev/agent.token on the host)");
                goto fail;
        }
        if (out->name && !hd_engine_name_valid(out->name)) {
                invalid(error, "\"name\" must be 1 to 64 of A-Z a-z 0-9 . _ - (not starting "
                               "with . or -)");
                goto fail;
        }
        if (out->agent_url) {
                g_autoptr(GUri) uri = g_uri_parse(out->agent_url, G_URI_FLAGS_NONE, NULL);
                const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
                if (!uri || !scheme ||
                    (g_ascii_strcasecmp(scheme, "http") != 0 &&
                     g_ascii_strcasecmp(scheme, "https") != 0) ||
                    !g_uri_get_host(uri) || !*g_uri_get_host(uri) || g_uri_get_query(uri) ||
                    g_uri_get_fragment(uri) || g_uri_get_userinfo(uri) ||
                    (*g_uri_get_path(uri) && strcmp(g_uri_get_path(uri), "/") != 0)) {
                        invalid(error, "\"agent_url\" must be the agent's base URL, "
                                       "http(s)://HOST:PORT, without a path, query or user");
                        goto fail;
                }
        }
        if (out->agent_token && !*out->agent_token) {
                invalid(error, "\"agent_token\" must not be empty");
                goto fail;
        }
        if ((out->tls_ca_file && *out->tls_ca_file && !g_path_is_absolute(out->tls_ca_file)) ||
            (out->tls_pinned_cert && *out->tls_pinned_cert &&
             !g_path_is_absolute(out->tls_pinned_cert))) {
                invalid(error, "\"tls_ca_file\" and \"tls_pinned_cert\" must be absolute paths "
                               "to PEM files");
                goto fail;
        }
        if (create) {
                /* "" clears a field on edit; on create it means nothing */
                if (out->tls_ca_file && !*out->tls_ca_file)
                        g_clear_pointer(&out->tls_ca_file, g_free);
                if (out->tls_pinned_cert && !*out->tls_pinned_cert)
                        g_clear_pointer(&out->tls_pinned_cert, g_free);
        }
        return TRUE;
fail:
        hd_host_body_clear(out);
        return FALSE;
}

void hd_host_body_clear(HdHostBody *b)
{
        g_free(b->name);
        if (b->agent_token)
                explicit_bzero(b->agent_token, strlen(b->agent_token));
        g_free(b->agent_token);
        g_free(b->agent_url);
        g_free(b->tls_ca_file);
        g_free(b->tls_pinned_cert);
        memset(b, 0, sizeof(*b));
}
