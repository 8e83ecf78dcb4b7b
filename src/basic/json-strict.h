/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict JSON validator (RFC 8259), run on request bodies before they reach json-glib, whose
 * parser is lenient: it accepts comments, single-quoted strings, trailing commas, a byte order
 * mark, and keeps the last of two members with one name. A request that the validator lets
 * through means one thing only.
 *
 * Accepted: exactly one JSON value with optional whitespace (space, tab, LF, CR) around it.
 * Refused, with the byte offset of the first problem:
 * - anything but JSON: comments, single quotes, a BOM, trailing commas, NaN/Infinity, leading
 *   zeros or '+' in numbers, unquoted names, more than one value;
 * - strings with a raw control character (U+0000..U+001F), an unknown escape, a \u escape that
 *   is not four hex digits or is a lone surrogate, or bytes that are not UTF-8 (overlong forms,
 *   encoded surrogates, code points above U+10FFFF, truncated sequences);
 * - containers nested deeper than max_depth (the top-level value is depth 1);
 * - two members of one object with the same name after unescaping ("a" and "\u0061" are the
 *   same name): HD_JSON_STRICT_ERROR_DUPLICATE, the member in the error's message;
 * - with HD_JSON_STRICT_NO_NUL, the escape \u0000 (valid JSON, but C strings downstream end at
 *   it, so "a\u0000b" would read as "a").
 *
 * Pure C over GLib's types only (no json-glib), no recursion (an explicit stack), memory
 * bounded by the input size and max_depth: usable by the agent, the engine and fuzz targets.
 */
#pragma once

#include <glib.h>

#define HD_JSON_STRICT_ERROR (hd_json_strict_error_quark())
GQuark hd_json_strict_error_quark(void);

typedef enum {
        HD_JSON_STRICT_ERROR_SYNTAX,    /* not JSON */
        HD_JSON_STRICT_ERROR_ENCODING,  /* not UTF-8, a lone surrogate, a control character */
        HD_JSON_STRICT_ERROR_DEPTH,     /* nested deeper than allowed */
        HD_JSON_STRICT_ERROR_DUPLICATE, /* one object names a member twice */
} HdJsonStrictError;

typedef enum {
        HD_JSON_STRICT_DEFAULT = 0,
        HD_JSON_STRICT_NO_NUL = 1 << 0, /* refuse \u0000 in strings */
} HdJsonStrictFlags;

/* The depth the agent allows; its bodies are at most two levels deep. */
#define HD_JSON_STRICT_DEPTH_DEFAULT 32
/* Upper bound of max_depth whatever the caller asks. */
#define HD_JSON_STRICT_DEPTH_MAX 1024

/* TRUE when @data (@len bytes, NUL bytes included) is one valid JSON text under the rules
 * above. On failure the error's message reads "at byte N: reason"; for a duplicate member it
 * reads "duplicate member \"name\" at byte N" (the name shown as valid UTF-8, at most 64
 * bytes), and *@duplicate (when not NULL) receives the decoded name. */
gboolean hd_json_strict_validate(const char *data, gsize len, guint max_depth,
                                 HdJsonStrictFlags flags, char **duplicate, GError **error);
