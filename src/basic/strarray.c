/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "strarray.h"

gboolean hd_str_array_contains(const GPtrArray *list, const char *s)
{
        for (guint i = 0; list && i < list->len; i++)
                if (strcmp(list->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

void hd_str_array_add_unique(GPtrArray *list, const char *s)
{
        if (!hd_str_array_contains(list, s))
                g_ptr_array_add(list, g_strdup(s));
}

char *hd_str_array_join(const GPtrArray *list, const char *sep)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; list && i < list->len; i++)
                g_string_append_printf(s, "%s%s", i ? sep : "", (const char *)list->pdata[i]);
        return g_string_free(s, FALSE);
}
