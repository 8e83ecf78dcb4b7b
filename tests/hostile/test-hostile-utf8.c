/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bytes that are not UTF-8, and control characters, in what the kernel hands out (issue 11,
 * item 9): driver_override, reset_method and a driver's name on a fixture tree must come out of
 * `hostdev list/show/groups --json` as valid UTF-8 JSON (checked with the strict RFC 8259
 * validator), and out of the human output without raw control bytes. The JSON writer's two
 * sinks and hd_json_node_to_text() are tested directly.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "json-strict.h"
#include "testlib.h"
#include "utf8.h"

#define GPU "0000:01:00.0"
/* ESC [31m, 0x1f (json-glib 1.6 leaves it raw), 0x01, lone bytes, an overlong '/', an encoded
 * surrogate, a truncated sequence at the end */
#define HOSTILE "ev\x1b[31mil\x1f\x01\xff\xfe\xc0\xaf\xed\xa0\x80-\xe2\x82"

static void assert_valid_json(const char *text)
{
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(text);
        if (!hd_json_strict_validate(text, strlen(text), 64, HD_JSON_STRICT_NO_NUL, NULL, &error))
                g_error("not RFC 8259 JSON (%s):\n%s", error->message, text);
}

static void assert_printable(const char *text)
{
        g_assert_true(g_utf8_validate(text, -1, NULL));
        for (const char *p = text; *p; p++)
                if ((guchar)*p < 0x20 && *p != '\n')
                        g_error("raw control byte 0x%02x in:\n%s", (guchar)*p, text);
}

/* The fixture with hostile bytes in the GPU's driver_override and reset_method, and its driver
 * renamed to a name holding them. */
static HdTestFixture *hostile_fixture(void)
{
        HdTestFixture *fx = hd_test_fixture_new("desktop");
        g_autofree char *dev = hd_test_path(fx, "sys/bus/pci/devices/" GPU);
        g_autofree char *override = g_build_filename(dev, "driver_override", NULL);
        g_autofree char *reset = g_build_filename(dev, "reset_method", NULL);
        g_autofree char *link = g_build_filename(dev, "driver", NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        g_autofree char *dir = NULL, *new_target = NULL, *new_driver = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(target);
        g_assert_true(g_file_set_contents(override, HOSTILE "\n", -1, &error));
        g_assert_true(g_file_set_contents(reset, "flr " HOSTILE " bus\n", -1, &error));
        dir = g_path_get_dirname(target);
        new_target = g_build_filename(dir, "nouv" HOSTILE, NULL);
        new_driver = g_build_filename(fx->root, "sys/bus/pci/drivers", "nouv" HOSTILE, NULL);
        g_assert_cmpint(g_mkdir_with_parents(new_driver, 0755), ==, 0);
        g_assert_cmpint(unlink(link), ==, 0);
        g_assert_cmpint(symlink(new_target, link), ==, 0);
        g_assert_no_error(error);
        return fx;
}

static void run_ok(const char *const *argv, char **out)
{
        g_autofree char *err = NULL;
        int rc = hd_test_run_cli(argv, NULL, out, &err);

        if (rc != 0)
                g_error("hostdev %s: exit %d: %s", argv[0], rc, err);
        assert_printable(err);
}

static void test_cli_json(void)
{
        g_autoptr(HdTestFixture) fx = hostile_fixture();
        const char *list[] = {"list", "--json", "--root", fx->root, NULL};
        const char *show[] = {"show", "--json", "--root", fx->root, GPU, NULL};
        const char *groups[] = {"groups", "--json", "--root", fx->root, NULL};
        g_autofree char *list_out = NULL, *show_out = NULL, *groups_out = NULL;
        g_autoptr(JsonNode) show_root = NULL;
        JsonObject *o;

        run_ok(list, &list_out);
        assert_valid_json(list_out);
        g_assert_nonnull(
            strstr(list_out, "\"nouvev\\u001b[31mil\\u001f\\u0001" HD_UTF8_REPLACEMENT));
        run_ok(show, &show_out);
        assert_valid_json(show_out);
        run_ok(groups, &groups_out);
        assert_valid_json(groups_out);

        show_root = hd_test_parse_json(show_out);
        o = json_node_get_object(show_root);
        g_assert_true(g_str_has_prefix(json_object_get_string_member(o, "driver"), "nouvev\x1b"));
        g_assert_true(g_str_has_prefix(json_object_get_string_member(o, "driver_override"),
                                       "ev\x1b[31mil\x1f\x01" HD_UTF8_REPLACEMENT));
}

static void test_cli_human(void)
{
        g_autoptr(HdTestFixture) fx = hostile_fixture();
        const char *list[] = {"list", "--root", fx->root, NULL};
        const char *show[] = {"show", "--root", fx->root, GPU, NULL};
        const char *groups[] = {"groups", "--root", fx->root, NULL};
        g_autofree char *list_out = NULL, *show_out = NULL, *groups_out = NULL;

        run_ok(list, &list_out);
        assert_printable(list_out);
        g_assert_nonnull(strstr(list_out, "nouvev?[31mil??" HD_UTF8_REPLACEMENT));
        run_ok(show, &show_out);
        assert_printable(show_out);
        run_ok(groups, &groups_out);
        assert_printable(groups_out);
}

/* A refusal that names the GPU (and so its driver) on stderr, and as JSON. */
static void test_cli_error_message(void)
{
        g_autoptr(HdTestFixture) fx = hostile_fixture();
        const char *argv[] = {"detach", "--dry-run", "--root", fx->root, "0000:01:00.1", NULL};
        const char *json[] = {"detach", "--dry-run",    "--json", "--root",
                              fx->root, "0000:01:00.1", NULL};
        g_autofree char *err = NULL, *out = NULL, *jerr = NULL;

        g_assert_cmpint(hd_test_run_cli(argv, NULL, NULL, &err), ==, 1);
        assert_printable(err);
        g_assert_nonnull(strstr(err, "nouvev?[31m"));
        g_assert_cmpint(hd_test_run_cli(json, NULL, &out, &jerr), ==, 1);
        assert_valid_json(out);
        g_assert_nonnull(strstr(out, "nouvev\\u001b[31m"));
}

typedef void (*WriteFunc)(HdJsonWriter *w);

static void write_hostile(HdJsonWriter *w)
{
        hd_json_writer_begin_object(w);
        hd_json_writer_member(w, "na\xffme\x1f");
        hd_json_writer_string(w, HOSTILE);
        hd_json_writer_member(w, "list");
        hd_json_writer_begin_array(w);
        hd_json_writer_string(w, "\xf4\x90\x80\x80");             /* above U+10FFFF */
        hd_json_writer_string(w, "\xf0\x9f\x98\x80 caf\xc3\xa9"); /* valid: kept */
        hd_json_writer_string(w, "\x7f\"\\\b\f\n\r\t");
        hd_json_writer_end_array(w);
        hd_json_writer_end_object(w);
}

static gboolean append_to_gstring(const char *data, gsize len, gpointer user_data)
{
        g_string_append_len(user_data, data, (gssize)len);
        return TRUE;
}

static void test_writer(void)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(GString) streamed = g_string_new(NULL);
        g_autofree char *built = NULL, *compact = NULL;
        g_autoptr(JsonNode) parsed = NULL;
        JsonObject *o;

        {
                g_autoptr(HdJsonWriter) w = hd_json_writer_new_builder(b);
                write_hostile(w);
        }
        built = hd_json_to_string(b, TRUE);
        {
                g_autoptr(HdJsonWriter) w = hd_json_writer_new_stream(append_to_gstring, streamed);
                write_hostile(w);
                g_assert_true(hd_json_writer_finish(w));
        }
        assert_valid_json(streamed->str);
        assert_valid_json(built);
        /* both sinks still print the same text */
        g_assert_cmpstr(streamed->str, ==, built);
        g_assert_nonnull(strstr(built, "\"na" HD_UTF8_REPLACEMENT "me\\u001f\" : "));
        g_assert_nonnull(
            strstr(built, "\"ev\\u001b[31mil\\u001f\\u0001" HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT
                              HD_UTF8_REPLACEMENT));
        g_assert_nonnull(strstr(built, "\xf0\x9f\x98\x80 caf\xc3\xa9"));
        compact = hd_json_to_string(b, FALSE);
        assert_valid_json(compact);
        parsed = hd_test_parse_json(compact);
        o = json_node_get_object(parsed);
        g_assert_true(
            g_str_has_prefix(json_object_get_string_member(o, "na" HD_UTF8_REPLACEMENT "me\x1f"),
                             "ev\x1b[31mil\x1f\x01"));
}

/* A JsonNode built without the writer (as the agent's handlers do) still comes out valid. */
static void test_node_to_text(void)
{
        g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
        JsonObject *o = json_object_new();
        g_autofree char *pretty = NULL, *compact = NULL;

        json_object_set_string_member(o, "path", "/v1/devices/\xff\x1f\x01");
        json_object_set_string_member(o, "m\xc3", "x");
        json_node_take_object(node, o);
        pretty = hd_json_node_to_text(node, TRUE);
        compact = hd_json_node_to_text(node, FALSE);
        assert_valid_json(pretty);
        assert_valid_json(compact);
        g_assert_nonnull(strstr(compact, "\"/v1/devices/" HD_UTF8_REPLACEMENT "\\u001f\\u0001\""));
}

static void test_printable(void)
{
        g_autofree char *a = hd_utf8_printable(HOSTILE);
        g_autofree char *b = hd_utf8_printable("caf\xc3\xa9 \xc2\x9b x\x7f");

        g_assert_cmpstr(
            a, ==,
            "ev?[31mil??" HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT
                HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT
            "-" HD_UTF8_REPLACEMENT HD_UTF8_REPLACEMENT);
        g_assert_cmpstr(b, ==, "caf\xc3\xa9 ? x?"); /* C1 CSI too */
        g_assert_null(hd_utf8_printable(NULL));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostile/utf8/cli-json", test_cli_json);
        g_test_add_func("/hostile/utf8/cli-human", test_cli_human);
        g_test_add_func("/hostile/utf8/cli-error-message", test_cli_error_message);
        g_test_add_func("/hostile/utf8/writer", test_writer);
        g_test_add_func("/hostile/utf8/node-to-text", test_node_to_text);
        g_test_add_func("/hostile/utf8/printable", test_printable);
        return g_test_run();
}
