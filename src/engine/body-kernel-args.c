/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel tab's request body (PUT /v1/hosts/{id}/kernel-args, engine.h): the agent's
 * members (enable, disable, custom, remove, dry_run), checked before anything reaches an
 * agent: option names and their values against kernel-options.h (the table the agents and
 * `hostdev kernel-args` use), custom words and words to remove printable ASCII with balanced
 * double quotes, at most 64 items of at most 4096 bytes each. No HTTP: the fuzz target
 * (tests/fuzz/fuzz-engine-body.c) takes it on its own. Errors are
 * G_IO_ERROR_INVALID_ARGUMENT (400).
 */
#include "config.h"

#include <string.h>

#include "body.h"
#include "engine.h"
#include "kernel-options.h"

#define KARGS_MAX_ITEMS 64
#define KARGS_MAX_WORD 4096

/* the engine's body errors: G_IO_ERROR_INVALID_ARGUMENT, answered 400 (src/http/body.h) */
#define invalid(error, ...)                                                                        \
        hd_http_body_invalid((error), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

/* "iommu", "vfio-ids=10de:1b80,10de:10f0": a known option, a value only where it takes one
 * (ids: hex, ':' and ','), none where not; @value_optional for disable. */
static gboolean check_option(const char *member, const char *text, gboolean value_optional,
                             GError **error)
{
        const char *eq = strchr(text, '=');
        g_autofree char *name = eq ? g_strndup(text, eq - text) : g_strdup(text);
        gsize n = 0;
        const HdKernelOption *options = hd_kernel_options(&n);

        for (gsize i = 0; i < n; i++) {
                if (strcmp(options[i].name, name) != 0)
                        continue;
                if (!options[i].takes_value && eq)
                        return invalid(error, "\"%s\": option %s takes no value", member, name);
                if (options[i].takes_value && !eq && !value_optional)
                        return invalid(error,
                                       "\"%s\": option %s needs a value: %s=VENDOR:DEVICE[,...] "
                                       "(e.g. %s=10de:1b80,10de:10f0)",
                                       member, name, name, name);
                for (const char *c = eq ? eq + 1 : ""; *c; c++)
                        if (!g_ascii_isxdigit(*c) && *c != ':' && *c != ',')
                                return invalid(error,
                                               "\"%s\": the value of %s is a list of "
                                               "VENDOR:DEVICE ids in hex, separated by commas",
                                               member, name);
                if (eq && !eq[1])
                        return invalid(error, "\"%s\": option %s has an empty value", member, name);
                return TRUE;
        }
        {
                g_autofree char *names = hd_kernel_option_names();
                return invalid(error,
                               "\"%s\": unknown kernel option \"%s\"; valid options: %s (put "
                               "any other kernel argument in \"custom\")",
                               member, name, names);
        }
}

/* A custom fragment or a word to remove: printable ASCII, not blank, quotes balanced (the
 * kernel splits on whitespace and groups with double quotes). */
static gboolean check_words(const char *member, const char *text, GError **error)
{
        gboolean quoted = FALSE, blank = TRUE;

        for (const char *c = text; *c; c++) {
                if ((guchar)*c < 0x20 || (guchar)*c > 0x7e)
                        return invalid(error,
                                       "\"%s\": \"%s\" holds a byte that is not printable ASCII; "
                                       "a kernel argument is printable ASCII",
                                       member, text);
                if (*c == '"')
                        quoted = !quoted;
                if (*c != ' ')
                        blank = FALSE;
        }
        if (blank)
                return invalid(error, "\"%s\": an empty argument; leave it out", member);
        if (quoted)
                return invalid(error, "\"%s\": \"%s\" opens a double quote it does not close",
                               member, text);
        return TRUE;
}

gboolean hd_engine_body_kernel_args(JsonObject *o, char **out, gboolean *dry_run, GError **error)
{
        static const char *const lists[] = {"enable", "disable", "custom", "remove"};
        g_autoptr(GList) names = json_object_get_members(o);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;
        JsonNode *dn;

        for (GList *l = names; l; l = l->next) {
                gboolean known = strcmp(l->data, "dry_run") == 0;
                for (gsize i = 0; i < G_N_ELEMENTS(lists) && !known; i++)
                        known = strcmp(l->data, lists[i]) == 0;
                if (!known)
                        return invalid(error,
                                       "unknown member \"%s\"; the members are enable, disable, "
                                       "custom, remove and dry_run",
                                       (const char *)l->data);
        }
        *dry_run = FALSE;
        dn = json_object_get_member(o, "dry_run");
        if (dn) {
                if (!JSON_NODE_HOLDS_VALUE(dn) || json_node_get_value_type(dn) != G_TYPE_BOOLEAN)
                        return invalid(error, "\"dry_run\" must be true or false");
                *dry_run = json_node_get_boolean(dn);
        }
        json_builder_begin_object(b);
        for (gsize i = 0; i < G_N_ELEMENTS(lists); i++) {
                JsonNode *n = json_object_get_member(o, lists[i]);
                JsonArray *a;

                if (!n)
                        continue;
                if (!JSON_NODE_HOLDS_ARRAY(n))
                        return invalid(error, "\"%s\" must be an array of strings", lists[i]);
                a = json_node_get_array(n);
                if (json_array_get_length(a) > KARGS_MAX_ITEMS)
                        return invalid(error, "\"%s\" has more than %d items", lists[i],
                                       KARGS_MAX_ITEMS);
                json_builder_set_member_name(b, lists[i]);
                json_builder_begin_array(b);
                for (guint j = 0; j < json_array_get_length(a); j++) {
                        JsonNode *e = json_array_get_element(a, j);
                        const char *v;

                        if (!JSON_NODE_HOLDS_VALUE(e) ||
                            json_node_get_value_type(e) != G_TYPE_STRING)
                                return invalid(error, "\"%s\" must be an array of strings",
                                               lists[i]);
                        v = json_node_get_string(e);
                        if (strlen(v) > KARGS_MAX_WORD)
                                return invalid(error, "\"%s\": an item is longer than %d bytes",
                                               lists[i], KARGS_MAX_WORD);
                        if (i < 2 ? !check_option(lists[i], v, i == 1, error)
                                  : !check_words(lists[i], v, error))
                                return FALSE;
                        json_builder_add_string_value(b, v);
                }
                json_builder_end_array(b);
        }
        json_builder_set_member_name(b, "dry_run");
        json_builder_add_boolean_value(b, *dry_run);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        *out = json_to_string(root, FALSE);
        return TRUE;
}
