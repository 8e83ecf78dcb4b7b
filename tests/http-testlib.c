/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "http-testlib.h"

char *hd_ht_send(SoupSession *session, SoupMessage *msg, const char *token, const char *body)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;

        g_assert_nonnull(msg);
        if (token) {
                g_autofree char *auth = g_strconcat("Bearer ", token, NULL);
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                             auth);
        }
        if (body) {
                g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(msg, "application/json", b);
        }
        bytes = soup_session_send_and_read(session, msg, NULL, &error);
        g_assert_no_error(error);
        return g_bytes_get_size(bytes)
                   ? g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes))
                   : g_strdup("");
}

void hd_ht_record_answer(const char *env_dir, const char *prefix, const char *method,
                         const char *path, guint status, const char *content_type, const char *body,
                         gboolean make_valid)
{
        static gint serial;
        const char *dir = g_getenv(env_dir);
        gboolean utf8 = g_utf8_validate(body, -1, NULL);
        g_autofree char *shown = utf8         ? g_strdup(body)
                                 : make_valid ? g_utf8_make_valid(body, -1)
                                              : g_strdup("");
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        g_autofree char *name = NULL;
        g_autofree char *file = NULL;

        if (!dir || !*dir)
                return;
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "test");
        json_builder_add_string_value(b, g_test_get_path());
        json_builder_set_member_name(b, "method");
        json_builder_add_string_value(b, method);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, path);
        json_builder_set_member_name(b, "status");
        json_builder_add_int_value(b, status);
        json_builder_set_member_name(b, "content_type");
        if (content_type)
                json_builder_add_string_value(b, content_type);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "body_utf8");
        json_builder_add_boolean_value(b, utf8);
        json_builder_set_member_name(b, "body");
        json_builder_add_string_value(b, shown);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        text = json_to_string(root, FALSE);
        name =
            g_strdup_printf("%s-%d-%05d.json", prefix, (int)getpid(), g_atomic_int_add(&serial, 1));
        file = g_build_filename(dir, name, NULL);
        g_assert_true(g_file_set_contents(file, text, -1, NULL));
}
