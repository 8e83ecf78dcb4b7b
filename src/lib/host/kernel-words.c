/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "hd-error.h"
#include "kernel-words.h"

GArray *hd_cmdline_split_spans(const char *line, GError **error)
{
        g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(gsize));
        gsize i = 0;

        for (;;) {
                gsize start;
                gboolean in_quote = FALSE;

                while (line[i] && g_ascii_isspace(line[i]))
                        i++;
                if (!line[i])
                        break;
                start = i;
                for (; line[i] && (in_quote || !g_ascii_isspace(line[i])); i++)
                        if (line[i] == '"')
                                in_quote = !in_quote;
                if (in_quote) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "unterminated double quote in '%s'", line + start);
                        return NULL;
                }
                g_array_append_val(spans, start);
                g_array_append_val(spans, i);
        }
        return g_steal_pointer(&spans);
}

GPtrArray *hd_cmdline_split(const char *line, GError **error)
{
        g_autoptr(GArray) spans = hd_cmdline_split_spans(line, error);
        GPtrArray *words;

        if (!spans)
                return NULL;
        words = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < spans->len; i += 2) {
                gsize a = g_array_index(spans, gsize, i), b = g_array_index(spans, gsize, i + 1);
                g_ptr_array_add(words, g_strndup(line + a, b - a));
        }
        return words;
}

char *hd_cmdline_arg_key(const char *arg)
{
        const char *eq = strchr(arg, '=');
        char *key = eq ? g_strndup(arg, eq - arg) : g_strdup(arg);

        for (char *p = key; *p; p++)
                if (*p == '-')
                        *p = '_';
        return key;
}

gboolean hd_cmdline_arg_equal(const char *a, const char *b)
{
        g_autofree char *ka = hd_cmdline_arg_key(a);
        g_autofree char *kb = hd_cmdline_arg_key(b);
        const char *va = strchr(a, '=');
        const char *vb = strchr(b, '=');

        return strcmp(ka, kb) == 0 && g_strcmp0(va, vb) == 0;
}
