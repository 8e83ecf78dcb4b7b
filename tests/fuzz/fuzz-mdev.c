/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for what src/lib/mdev reads from text: the UUID gate (the only way a UUID
 * from the user or a directory name becomes part of a path) and mdevctl's definition files.
 * Invariants: an accepted UUID is 36 characters of lowercase hex digits and dashes at 8, 13,
 * 18, 23, and so is never a path climbing out ('/', '.'); a definition either parses as an
 * object or not, and what it yields is a string; a definition hostdev writes parses back to
 * its type and start.
 */
#include "config.h"

#include <string.h>

#include "mdev.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *text = g_strndup((const char *)data, size);
        g_autofree char *type = NULL, *start = NULL;
        char uuid[HD_MDEV_UUID_STRLEN];

        if (hd_mdev_uuid_parse(text, uuid)) {
                g_assert_cmpuint(strlen(uuid), ==, 36);
                g_assert_null(strchr(uuid, '/'));
                g_assert_null(strchr(uuid, '.'));
                g_assert_cmpstr(uuid, ==, text);
        }
        if (hd_mdev_definition_parse((const char *)data, (gssize)size, &type, &start)) {
                g_autofree char *again = NULL, *t2 = NULL, *s2 = NULL;

                if (type && g_utf8_validate(type, -1, NULL) && !strpbrk(type, "\\\"") &&
                    strspn(type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                        strlen(type)) {
                        again = hd_mdev_definition_text(type, TRUE);
                        g_assert_true(hd_mdev_definition_parse(again, -1, &t2, &s2));
                        g_assert_cmpstr(t2, ==, type);
                        g_assert_cmpstr(s2, ==, "auto");
                }
        } else {
                g_assert_null(type);
                g_assert_null(start);
        }
        return 0;
}
