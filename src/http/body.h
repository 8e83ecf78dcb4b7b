/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Request bodies, the part every JSON API of the project shares (the agent's request.c, the
 * engine's body.c): bytes to a JsonObject, strictly. Only what the RFC 8259 validator of
 * src/basic/json-strict.h passes reaches json-glib (which alone would take comments, single
 * quotes, a byte order mark, and the last of two members with one name, so a request could be
 * read as something it does not say); the body must be one object; an empty body is {}.
 * Failures are G_IO_ERROR_INVALID_ARGUMENT with the reason in words (a 400), valid UTF-8.
 * No HTTP here: the fuzz targets call it on arbitrary bytes.
 */
#pragma once

#include <json-glib/json-glib.h>

JsonObject *hd_http_body_parse_object(const char *data, gsize len, GError **error);
