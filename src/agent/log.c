/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Structured log lines: `hostdevd: level=info msg="..." key=value ...` on stderr (the journal
 * takes stderr under systemd). Values with spaces, quotes or '=' are quoted and escaped. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

static gboolean verbose;
static GMutex log_lock;

void hd_agent_set_verbose(gboolean v)
{
        verbose = v;
}

static void append_value(GString *line, const char *value)
{
        gboolean plain = value[0] != '\0';

        for (const char *p = value; *p && plain; p++)
                if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (guchar)*p < 0x20)
                        plain = FALSE;
        if (plain) {
                g_string_append(line, value);
                return;
        }
        g_string_append_c(line, '"');
        for (const char *p = value; *p; p++) {
                if (*p == '"' || *p == '\\')
                        g_string_append_c(line, '\\');
                if (*p == '\n')
                        g_string_append(line, "\\n");
                else if ((guchar)*p < 0x20)
                        g_string_append_printf(line, "\\x%02x", (guchar)*p);
                else
                        g_string_append_c(line, *p);
        }
        g_string_append_c(line, '"');
}

void hd_agent_log(const char *level, const char *msg, ...)
{
        g_autoptr(GString) line = g_string_new("hostdevd: level=");
        va_list ap;
        const char *key;

        if (strcmp(level, "debug") == 0 && !verbose)
                return;
        g_string_append(line, level);
        g_string_append(line, " msg=");
        append_value(line, msg);
        va_start(ap, msg);
        while ((key = va_arg(ap, const char *))) {
                const char *value = va_arg(ap, const char *);
                g_string_append_printf(line, " %s=", key);
                append_value(line, value ? value : "");
        }
        va_end(ap);
        g_string_append_c(line, '\n');
        g_mutex_lock(&log_lock);
        fputs(line->str, stderr);
        fflush(stderr);
        g_mutex_unlock(&log_lock);
}
