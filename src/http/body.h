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

/* Set @error to @domain/@code with the printf-style message made valid UTF-8 (a member or
 * value it quotes may be cut inside a character); returns FALSE. The domain is the caller's:
 * the agent's errors are HD_ERROR's (answered with the CLI's codes), the engine's
 * G_IO_ERROR_INVALID_ARGUMENT (answered 400). */
gboolean hd_http_body_invalid(GError **error, GQuark domain, gint code, const char *format, ...)
    G_GNUC_PRINTF(4, 5);
/* FALSE with "unknown member ..." (@domain/@code, as hd_http_body_invalid) when @o has a
 * member that is not in @allowed (NULL-terminated; empty: the body takes none). */
gboolean hd_http_body_check_members(JsonObject *o, const char *const *allowed, GQuark domain,
                                    gint code, GError **error);
