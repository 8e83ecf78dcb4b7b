/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the strict JSON validator (src/basic/json-strict.c), differential
 * against json-glib. Invariants: the validator never crashes, and fails with one of its codes
 * and a UTF-8 message; what it accepts is valid UTF-8 and json-glib parses it too (the
 * validator is never more lenient than the parser behind it); a duplicate is reported only with
 * the name; with and without NO_NUL the answers differ only on \u0000.
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "json-strict.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) strict_error = NULL;
        g_autofree char *duplicate = NULL;
        gboolean ok = hd_json_strict_validate((const char *)data, size, 16, 0, &duplicate, &error);
        gboolean ok_strict = hd_json_strict_validate((const char *)data, size, 16,
                                                     HD_JSON_STRICT_NO_NUL, NULL, &strict_error);

        /* NO_NUL only ever refuses more */
        g_assert_true(!ok_strict || ok);
        if (!ok) {
                g_assert_nonnull(error);
                g_assert_true(error->domain == HD_JSON_STRICT_ERROR);
                g_assert_true(g_utf8_validate(error->message, -1, NULL));
                g_assert_true((error->code == HD_JSON_STRICT_ERROR_DUPLICATE) ==
                              (duplicate != NULL));
                return 0;
        }
        g_assert_null(error);
        g_assert_null(duplicate);
        g_assert_true(g_utf8_validate_len((const char *)data, size, NULL));
        /* json-glib parses whatever the validator passes. Texts with \u0000 are left out: json-glib
         * stops strings there, which is why the agent uses NO_NUL. */
        if (ok_strict && size > 0) {
                g_autoptr(JsonParser) parser = json_parser_new_immutable();
                g_autoptr(GError) parse_error = NULL;
                if (!json_parser_load_from_data(parser, (const char *)data, (gssize)size,
                                                &parse_error))
                        g_error("accepted by the validator, refused by json-glib: %s",
                                parse_error->message);
        }
        return 0;
}
