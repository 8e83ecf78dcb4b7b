/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the kernel command line splitter (cmdline.c), which every kernel-args
 * answer and every bootloader edit stands on. Invariants: spans are ordered, non-empty and
 * inside the line; a word holds no blank outside double quotes; the words joined by single
 * spaces split back to the same words; the key of a word is as long as the part before '='.
 */
#include "config.h"

#include <string.h>

#include "cmdline.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *line = g_strndup((const char *)data, size);
        g_autoptr(GArray) spans = hd_cmdline_split_spans(line, NULL);
        g_autoptr(GPtrArray) words = NULL, again = NULL;
        g_autoptr(GString) joined = g_string_new(NULL);
        gsize len = strlen(line), prev_end = 0;

        words = hd_cmdline_split(line, NULL);
        g_assert_true((spans == NULL) == (words == NULL));
        if (!spans)
                return 0;
        g_assert_cmpuint(spans->len, ==, words->len * 2);
        for (guint i = 0; i < spans->len; i += 2) {
                gsize a = g_array_index(spans, gsize, i), b = g_array_index(spans, gsize, i + 1);
                const char *w = words->pdata[i / 2];
                gboolean quoted = FALSE;
                g_autofree char *key = hd_cmdline_arg_key(w);

                g_assert_cmpuint(a, <, b);
                g_assert_cmpuint(b, <=, len);
                g_assert_cmpuint(a, >=, prev_end);
                prev_end = b;
                g_assert_cmpuint(strlen(w), ==, b - a);
                for (const char *p = w; *p; p++) {
                        if (*p == '"')
                                quoted = !quoted;
                        g_assert_true(quoted || !g_ascii_isspace(*p));
                }
                g_assert_cmpuint(strlen(key), ==, strchr(w, '=') ? (gsize)(strchr(w, '=') - w) : strlen(w));
                g_assert_true(hd_cmdline_arg_equal(w, w));
                if (joined->len)
                        g_string_append_c(joined, ' ');
                g_string_append(joined, w);
        }
        again = hd_cmdline_split(joined->str, NULL);
        g_assert_nonnull(again);
        g_assert_cmpuint(again->len, ==, words->len);
        for (guint i = 0; i < words->len; i++)
                g_assert_cmpstr(again->pdata[i], ==, words->pdata[i]);
        return 0;
}
