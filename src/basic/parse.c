/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "parse.h"

gboolean hd_parse_hex(const char *s, guint64 max, guint64 *out)
{
        guint64 v = 0;

        if (!s)
                return FALSE;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        if (*s == '\0')
                return FALSE;
        for (; *s; s++) {
                int d = g_ascii_xdigit_value(*s);
                if (d < 0)
                        return FALSE;
                if (v > (max >> 4))
                        return FALSE;
                v = (v << 4) | (guint64)d;
                if (v > max)
                        return FALSE;
        }
        *out = v;
        return TRUE;
}

gboolean hd_parse_int(const char *s, gint64 min, gint64 max, gint64 *out)
{
        gboolean negative = FALSE;
        guint64 v = 0;

        if (!s || *s == '\0')
                return FALSE;
        if (*s == '-') {
                negative = TRUE;
                s++;
                if (*s == '\0')
                        return FALSE;
        }
        for (; *s; s++) {
                if (!g_ascii_isdigit(*s))
                        return FALSE;
                if (v > (G_MAXUINT64 - 9) / 10)
                        return FALSE;
                v = v * 10 + (guint64)(*s - '0');
                if (v > (guint64)G_MAXINT64 + 1)
                        return FALSE;
        }
        if (negative) {
                if (v > (guint64)G_MAXINT64 + 1)
                        return FALSE;
                gint64 r = v == (guint64)G_MAXINT64 + 1 ? G_MININT64 : -(gint64)v;
                if (r < min || r > max)
                        return FALSE;
                *out = r;
        } else {
                if (v > (guint64)G_MAXINT64 || (gint64)v < min || (gint64)v > max)
                        return FALSE;
                *out = (gint64)v;
        }
        return TRUE;
}

gboolean hd_is_hex_string(const char *s, gsize min_len, gsize max_len)
{
        gsize n;

        if (!s)
                return FALSE;
        n = strlen(s);
        if (n < min_len || n > max_len)
                return FALSE;
        for (gsize i = 0; i < n; i++)
                if (!g_ascii_isxdigit(s[i]))
                        return FALSE;
        return TRUE;
}
