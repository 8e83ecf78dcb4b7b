/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 for text the tools did not write themselves: sysfs attributes (driver_override,
 * reset_method, driver names), file names, request paths. The kernel hands out bytes, not
 * UTF-8, so every such string is made valid before it reaches JSON or a terminal.
 *
 * Replacement is per byte, as g_utf8_make_valid() does: each byte that does not start a well
 * formed sequence becomes U+FFFD.
 */
#pragma once

#include <glib.h>

/* UTF-8 of U+FFFD REPLACEMENT CHARACTER. */
#define HD_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Length (1-4) of the well formed UTF-8 sequence at @s of at most @n bytes, 0 if @s does not
 * start one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, nothing
 * truncated). @n must be at least 1. */
gsize hd_utf8_char_len(const guint8 *s, gsize n);

/* A copy of @s safe to print on a terminal or in a table: bytes that are not UTF-8 become
 * U+FFFD, control characters (C0, DEL and C1) become '?'. NULL gives NULL. */
char *hd_utf8_printable(const char *s);

/* g_strdup_vprintf() whose result is valid UTF-8 (bytes that are not, or a character cut by a
 * precision, become U+FFFD): for messages that quote the caller's input and end up in JSON. */
char *hd_utf8_vprintf(const char *format, va_list ap) G_GNUC_PRINTF(1, 0);
