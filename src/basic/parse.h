/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict number parsing for kernel attributes and user input: the whole string must be a
 * number (no trailing junk, no sign where none belongs, no overflow). strtoul() alone accepts
 * " -1x" as a huge value, which is how tools end up reading garbage as a device id.
 */
#pragma once

#include <glib.h>

/* Hexadecimal with an optional "0x"/"0X" prefix, at most @max. */
gboolean hd_parse_hex(const char *s, guint64 max, guint64 *out);

/* Decimal, optional leading '-', within [@min, @max]. */
gboolean hd_parse_int(const char *s, gint64 min, gint64 max, gint64 *out);

/* Whether @s is a sequence of 1..@max_len characters, each a hex digit. */
gboolean hd_is_hex_string(const char *s, gsize min_len, gsize max_len);
