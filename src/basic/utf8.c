/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "utf8.h"

gsize hd_utf8_char_len(const guint8 *s, gsize n)
{
        guint8 c = s[0], lo = 0x80, hi = 0xBF;
        gsize need;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                need = 1;
        else if (c >= 0xE0 && c <= 0xEF)
                need = 2;
        else if (c >= 0xF0 && c <= 0xF4)
                need = 3;
        else
                return 0;
        if (c == 0xE0)
                lo = 0xA0; /* overlong */
        else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        else if (c == 0xF0)
                lo = 0x90; /* overlong */
        else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        if (n < need + 1 || s[1] < lo || s[1] > hi)
                return 0;
        for (gsize i = 2; i <= need; i++)
                if (s[i] < 0x80 || s[i] > 0xBF)
                        return 0;
        return need + 1;
}

char *hd_utf8_printable(const char *s)
{
        const guint8 *p = (const guint8 *)s;
        gsize n;
        GString *out;

        if (!s)
                return NULL;
        n = strlen(s);
        out = g_string_sized_new(n);
        while (*p) {
                gsize k = hd_utf8_char_len(p, n - (gsize)(p - (const guint8 *)s));
                if (k == 0) {
                        g_string_append(out, HD_UTF8_REPLACEMENT);
                        p++;
                } else if (*p < 0x20 || *p == 0x7f || (*p == 0xC2 && p[1] < 0xA0)) {
                        g_string_append_c(out, '?');
                        p += k;
                } else {
                        g_string_append_len(out, (const char *)p, (gssize)k);
                        p += k;
                }
        }
        return g_string_free(out, FALSE);
}

char *hd_utf8_vprintf(const char *format, va_list ap)
{
        char *message = g_strdup_vprintf(format, ap);
        char *valid;

        if (g_utf8_validate(message, -1, NULL))
                return message;
        valid = g_utf8_make_valid(message, -1);
        g_free(message);
        return valid;
}
